/*
 * event.h - turning records into JSON lines.
 *
 * Producers (workers, the coordinator) format events into a struct tl_buf with
 * tl_event_json(); full buffers travel to the output thread, which hands them
 * to the sinks. Every line written is one JSON object: strings are escaped and
 * invalid UTF-8 is replaced, so a hostile packet cannot break a consumer.
 */
#ifndef TL_EVENT_H
#define TL_EVENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "schema.h"

/* A growable byte buffer. Out of memory aborts: event memory is bounded upstream. */
struct tl_buf {
    char *p;
    size_t len, cap;
};

void tl_buf_grow(struct tl_buf *b, size_t more); /* tl_buf_reserve's slow path */
void tl_buf_puts(struct tl_buf *b, const char *s);
void tl_buf_free(struct tl_buf *b);

/* Room for `more` bytes after len. Inline, with put and putc: every byte of JSON passes here. */
static inline void tl_buf_reserve(struct tl_buf *b, size_t more)
{
    if (more > b->cap - b->len)
        tl_buf_grow(b, more);
}

static inline void tl_buf_put(struct tl_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    tl_buf_reserve(b, n);
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

static inline void tl_buf_putc(struct tl_buf *b, char c)
{
    if (b->len == b->cap)
        tl_buf_grow(b, 1);
    b->p[b->len++] = c;
}

/* Text forms, unquoted and NUL-terminated: 2026-11-25T10:51:17.123456Z, 192.0.2.1, 2001:db8::1,
 * 18446744073709551615; their lengths are returned. */
enum { TL_TS_TEXT = 32, TL_IP_TEXT = 48, TL_U64_TEXT = 21 };
size_t tl_fmt_ts(char out[TL_TS_TEXT], uint64_t ts_us);
size_t tl_fmt_ip(char out[TL_IP_TEXT], const uint8_t ip[16]);
size_t tl_fmt_u64(char out[TL_U64_TEXT], uint64_t v);

/* JSON building blocks. */
void tl_json_string(struct tl_buf *b, const char *s, size_t n); /* quoted, escaped, UTF-8 safe */
void tl_json_key(struct tl_buf *b, bool *first, const char *key);
void tl_json_u64(struct tl_buf *b, uint64_t v);
void tl_json_ts(struct tl_buf *b, uint64_t ts_us);   /* "2026-11-25T10:51:17.123456Z" */
void tl_json_dur(struct tl_buf *b, uint64_t dur_us); /* 1.500000 */
void tl_json_f64(struct tl_buf *b, double v);        /* 0.25; not finite: null */
void tl_json_ip(struct tl_buf *b, const uint8_t ip[16]);
void tl_json_field(struct tl_buf *b, bool *first, const struct tl_field *f, const void *rec);

/*
 * Appends one event as a JSON line: {"ts":...,"event_type":T,"sensor":S, fields...}\n.
 * The record's first field must be its TS field named "ts".
 */
void tl_event_json(struct tl_buf *b, const struct tl_event_type *t, const char *sensor,
                   const void *rec);
/* The same in steps: begin writes "{" and the record's fields, more appends the
 * fields of another table (an event type's `ext`) from its record, end "}\n". */
void tl_event_json_begin(struct tl_buf *b, const struct tl_event_type *t, const char *sensor,
                         const void *rec);
void tl_event_json_more(struct tl_buf *b, const struct tl_event_type *fields, const void *rec);
void tl_event_json_end(struct tl_buf *b);

/*
 * The output: the sinks JSON lines go to (export/), from cfg: the file or stdout
 * (output.*, "-" is stdout, "none" or "" is no file) and Kafka (kafka.*, when
 * kafka.brokers is set), each with an event-type filter. Only the output thread
 * calls write/flush/drain (after it is joined, the thread that finishes); every
 * write is whole lines. tl_output_open: NULL with a reason in errbuf.
 */
struct tl_config;
struct tl_stats;
struct tl_output;
struct tl_output *tl_output_open(const struct tl_config *cfg, char *errbuf, size_t n);
int tl_output_write(struct tl_output *o, const char *p, size_t n);
/* Pushes buffered lines out; also the sinks' housekeeping (rotation by age, SIGHUP
 * reopen, Kafka delivery reports and spool replay): call it whenever idle. */
int tl_output_flush(struct tl_output *o);
/* At exit, before the final stats: waits up to kafka.flush_timeout for deliveries. */
void tl_output_drain(struct tl_output *o);
/* Adds the sinks' counters (kafka.*, output.*, write errors); any thread. */
void tl_output_stats(struct tl_output *o, struct tl_stats *st);
/* Asks for the output file to be reopened (logrotate); async-signal-safe: a flag. */
void tl_output_hup(struct tl_output *o);
/* Spools what Kafka has not confirmed, closes the files. */
void tl_output_close(struct tl_output *o);

#endif
