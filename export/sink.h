/*
 * sink.h - private to export/: the sinks behind struct tl_output (output.c).
 *
 * Every function here runs on the output thread (or, after it has been
 * joined, on the thread that finishes the pipeline): nothing is locked. The
 * counters are the output's, indexed by enum tl_stat, atomic only so that a
 * periodic stats event may read them from another thread.
 */
#ifndef TL_EXPORT_SINK_H
#define TL_EXPORT_SINK_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "stats.h"

typedef _Atomic uint64_t tl_counter;

static inline void tl_count(tl_counter *st, enum tl_stat s, uint64_t n)
{
    atomic_fetch_add_explicit(&st[s], n, memory_order_relaxed);
}

/* Wall clock (CLOCK_MONOTONIC), microseconds: timeouts and file age, never event time. */
uint64_t tl_sink_now_us(void);

/* What a sink needs to know about a line without parsing it: the output
 * thread's events all begin {"ts":"...","event_type":"T", and carry
 * "community_id":"..." and "uid":"..." when they are about a flow. */
struct tl_line {
    const char *p; /* the JSON object, without its newline */
    size_t n;
    const char *type; /* event_type value (borrowed), or "" */
    size_t type_len;
};
void tl_line_parse(struct tl_line *l, const char *p, size_t n);
/* The string value of "name":"..." in the line (no escapes expected), or NULL. */
const char *tl_line_field(const struct tl_line *l, const char *name, size_t *len);

/* ---- file and stdout (file.c) ---- */

struct tl_file;
/* path "-" is stdout; rotation and compression come from cfg->output.* */
struct tl_file *tl_file_open(const struct tl_config *cfg, const char *path, tl_counter *st,
                             char *errbuf, size_t n);
int tl_file_write(struct tl_file *f, const char *p, size_t n); /* whole lines */
int tl_file_flush(struct tl_file *f);                          /* and rotates by age */
void tl_file_reopen(struct tl_file *f);                        /* SIGHUP: logrotate moved it */
void tl_file_close(struct tl_file *f); /* waits for rotated files being compressed */
/* Compresses src into dst (dst.tmp, then renamed), the zstd frame checksummed. */
int tl_file_compress(const char *src, const char *dst, int level, char *errbuf, size_t n);

/* ---- the disk spool (spool.c) ---- */

/*
 * Segments spool-<seq>.jsonl.zst in one directory, each a zstd stream of JSON
 * lines, written and read in order. The reader follows the segment being
 * written. A segment is deleted once every line of it was read and resolved
 * (tl_spool_done: delivered, dead-lettered or spooled again). Past max_bytes
 * on disk, the oldest segment is deleted and its unread lines counted.
 */
struct tl_spool;
struct tl_spool *tl_spool_open(const char *dir, uint64_t max_bytes, int level, tl_counter *st,
                               char *errbuf, size_t n);
int tl_spool_append(struct tl_spool *s, const char *p, size_t n); /* one line, no newline */
/* The next unread line into *line (valid until the next call) and its segment; 0 if none. */
int tl_spool_next(struct tl_spool *s, const char **line, size_t *n, uint64_t *seg);
void tl_spool_done(struct tl_spool *s, uint64_t seg);
uint64_t tl_spool_unread(const struct tl_spool *s); /* lines appended or left and not read */
uint64_t tl_spool_bytes(const struct tl_spool *s);  /* on disk */
void tl_spool_sync(struct tl_spool *s);             /* what was appended reaches the file */
void tl_spool_fsync(struct tl_spool *s);            /* and the disk (after tl_spool_sync) */
void tl_spool_close(struct tl_spool *s);            /* ends the open segment; keeps the files */

/* ---- Kafka (kafka.c) ---- */

struct tl_kafka;
struct tl_kafka *tl_kafka_open(const struct tl_config *cfg, tl_counter *st, char *errbuf, size_t n);
void tl_kafka_write(struct tl_kafka *k, const struct tl_line *l);
void tl_kafka_poll(struct tl_kafka *k);
void tl_kafka_drain(struct tl_kafka *k); /* waits, up to kafka.flush_timeout in all */
void tl_kafka_close(struct tl_kafka *k); /* spools what is still undelivered */
struct tl_buf;
/* Appends the per-topic delivery counts as one JSON object; any thread may call it. */
void tl_kafka_topics_json(struct tl_kafka *k, struct tl_buf *b);

/* For the stats event (flows/pipeline.c declares it too; include/event.h is not export's):
 * kafka.topics as JSON text, or NULL without a Kafka sink. */
struct tl_output;
const char *tl_output_kafka_topics(struct tl_output *o);

#endif
