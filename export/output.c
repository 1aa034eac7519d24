/*
 * output.c - the sinks together: the file (or stdout) sink and Kafka, each
 * with its event-type filter (output.types, kafka.types).
 *
 * The output thread hands over buffers of whole JSON lines; each line goes
 * to every sink whose filter takes its event type, and to the run summary
 * (summary.h) when there is one. A sink learns what it
 * needs of a line (event_type, community_id, uid) by looking at its text
 * (struct tl_line), which costs one bounded search per line instead of a
 * second, structured hand-over from every producer.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "sink.h"
#include "summary.h"

enum { OUT_MAX_TYPES = 32, OUT_TYPE_LEN = 32, OUT_HEAD = 96 };

struct out_filter {
    size_t n; /* 0: every type */
    char type[OUT_MAX_TYPES][OUT_TYPE_LEN];
};

struct tl_output {
    struct tl_file *file;
    struct tl_kafka *kafka;
    struct out_filter file_types, kafka_types;
    struct tl_summary *summary; /* sees every line, whatever the filters */
    atomic_bool hup;
    tl_counter st[TL_STAT_N];
    pthread_mutex_t topics_lock; /* topics: the last kafka.topics object made */
    struct tl_buf topics;
};

void tl_line_parse(struct tl_line *l, const char *p, size_t n)
{
    static const char key[] = "\"event_type\":\"";
    size_t head = n < OUT_HEAD ? n : OUT_HEAD; /* {"ts":"<27 chars>","event_type":" */
    const char *t = memmem(p, head, key, sizeof(key) - 1);

    l->p = p;
    l->n = n;
    l->type = "";
    l->type_len = 0;
    if (!t)
        return;
    t += sizeof(key) - 1;
    const char *q = memchr(t, '"', n - (size_t)(t - p));
    if (q) {
        l->type = t;
        l->type_len = (size_t)(q - t);
    }
}

const char *tl_line_field(const struct tl_line *l, const char *name, size_t *len)
{
    char key[64];
    size_t nl = strlen(name), kl = nl + 4;
    if (kl >= sizeof(key))
        return NULL; /* names of up to 59 bytes, as when this was an snprintf */
    key[0] = '"';    /* "name":" built by hand: this runs for every Kafka message */
    memcpy(key + 1, name, nl);
    memcpy(key + 1 + nl, "\":\"", 3);
    /* Inside a JSON string a quote is escaped, so the pattern only matches a real key. */
    const char *v = memmem(l->p, l->n, key, kl);
    if (!v)
        return NULL;
    v += kl;
    const char *q = memchr(v, '"', l->n - (size_t)(v - l->p));
    if (!q)
        return NULL;
    *len = (size_t)(q - v);
    return v;
}

static int out_filter_parse(struct out_filter *f, const char *key, const char *list, char *errbuf,
                            size_t n)
{
    f->n = 0;
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ", ");
        if (len) {
            if (f->n == OUT_MAX_TYPES || len >= OUT_TYPE_LEN) {
                snprintf(errbuf, n, "%s: too many or too long event types", key);
                return -1;
            }
            memcpy(f->type[f->n], p, len);
            f->type[f->n++][len] = '\0';
        }
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}

static bool out_filter_takes(const struct out_filter *f, const struct tl_line *l)
{
    if (!f->n)
        return true;
    for (size_t i = 0; i < f->n; i++)
        if (strlen(f->type[i]) == l->type_len && memcmp(f->type[i], l->type, l->type_len) == 0)
            return true;
    return false;
}

struct tl_output *tl_output_open(const struct tl_config *cfg, char *errbuf, size_t n)
{
    struct tl_output *o = calloc(1, sizeof(*o));
    if (!o) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    pthread_mutex_init(&o->topics_lock, NULL);
    const char *path = cfg->output;
    if (out_filter_parse(&o->file_types, "output.types", cfg->output_types, errbuf, n) < 0 ||
        out_filter_parse(&o->kafka_types, "kafka.types", cfg->kafka_types, errbuf, n) < 0)
        goto fail;
    if (path && *path && strcmp(path, "none") != 0 &&
        !(o->file = tl_file_open(cfg, path, o->st, errbuf, n)))
        goto fail;
    if (cfg->kafka_brokers && *cfg->kafka_brokers &&
        !(o->kafka = tl_kafka_open(cfg, o->st, errbuf, n)))
        goto fail;
    return o;
fail:
    tl_file_close(o->file);
    pthread_mutex_destroy(&o->topics_lock);
    free(o);
    return NULL;
}

void tl_output_summary(struct tl_output *o, struct tl_summary *s)
{
    o->summary = s;
}

static void out_hup(struct tl_output *o)
{
    if (atomic_exchange_explicit(&o->hup, false, memory_order_acq_rel) && o->file)
        tl_file_reopen(o->file);
}

int tl_output_write(struct tl_output *o, const char *p, size_t n)
{
    int rc = 0;
    struct tl_line l;

    out_hup(o);
    for (const char *end = p + n; p < end;) {
        const char *nl = memchr(p, '\n', (size_t)(end - p));
        size_t len = nl ? (size_t)(nl - p) : (size_t)(end - p);
        if (len) {
            tl_line_parse(&l, p, len);
            if (o->file && out_filter_takes(&o->file_types, &l) &&
                tl_file_write(o->file, p, len + (nl != NULL)) < 0)
                rc = -1;
            if (o->kafka && out_filter_takes(&o->kafka_types, &l))
                tl_kafka_write(o->kafka, &l);
            if (o->summary)
                tl_summary_line(o->summary, p, len);
        }
        p += len + (nl != NULL);
    }
    if (o->kafka)
        tl_kafka_poll(o->kafka);
    return rc;
}

int tl_output_flush(struct tl_output *o)
{
    int rc = 0;
    out_hup(o);
    if (o->file)
        rc = tl_file_flush(o->file);
    if (o->kafka)
        tl_kafka_poll(o->kafka);
    return rc;
}

void tl_output_drain(struct tl_output *o)
{
    tl_output_flush(o);
    if (o->kafka)
        tl_kafka_drain(o->kafka);
}

void tl_output_hup(struct tl_output *o)
{
    if (o)
        atomic_store_explicit(&o->hup, true, memory_order_release);
}

void tl_output_stats(struct tl_output *o, struct tl_stats *st)
{
    for (int i = 0; i < TL_STAT_N; i++)
        st->v[i] += atomic_load_explicit(&o->st[i], memory_order_relaxed);
}

/* The stats field kafka.topics (TL_F_RAWJSON), or NULL without a Kafka sink. The text
 * stays valid until the next call or tl_output_close: stats events are made one at a time. */
const char *tl_output_kafka_topics(struct tl_output *o)
{
    const char *s = NULL;

    if (!o || !o->kafka)
        return NULL;
    pthread_mutex_lock(&o->topics_lock);
    o->topics.len = 0;
    tl_kafka_topics_json(o->kafka, &o->topics);
    tl_buf_putc(&o->topics, '\0');
    s = o->topics.p;
    pthread_mutex_unlock(&o->topics_lock);
    return s;
}

void tl_output_close(struct tl_output *o)
{
    if (!o)
        return;
    tl_kafka_close(o->kafka);
    tl_file_close(o->file);
    tl_buf_free(&o->topics);
    pthread_mutex_destroy(&o->topics_lock);
    free(o);
}
