/*
 * kafka.c - the Kafka sink, through librdkafka, with a disk spool so that a
 * broker outage loses nothing (at-least-once).
 *
 * Each event is one message: topic from kafka.topic ("{type}" becomes the
 * event type), key the event's community_id (or uid, kafka.key) so a flow's
 * events share a partition and keep their order, headers event_type, sensor
 * and schema_version. Defaults: compression.type=zstd, acks=all,
 * enable.idempotence=true; kafka.properties passes any librdkafka property.
 *
 * Only the output thread calls librdkafka (produce, poll, the callbacks run
 * inside rd_kafka_poll), so nothing here is locked, and nothing waits on the
 * broker except tl_kafka_drain/close at exit. Where events go:
 *   - straight to librdkafka while the broker is up and the spool is empty;
 *   - to the spool (export/spool.c) while all brokers are down, while the
 *     spool holds older events (order), and when librdkafka's queue is full;
 *   - back to the spool when a delivery fails for a passing reason (timeout,
 *     broker down, purged at exit): kafka.retried;
 *   - to the dead-letter file when it fails for good (too large, unknown
 *     topic, not authorized): kafka.failed, never retried.
 * The spool is replayed in order whenever the broker is up, keeping at most
 * KAFKA_WINDOW messages in librdkafka; while it is down, one message at a
 * time probes it. An earlier run's spool is replayed first.
 *
 * Delivery reports are also counted per topic (the stats field kafka.topics),
 * for at most KAFKA_MAX_TSTATS topics; the reports of any further topic are
 * counted together under the key "(other)", which no topic name can be.
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <librdkafka/rdkafka.h>

#include "event.h"
#include "log.h"
#include "sink.h"

#define KAFKA_STR(x)         #x
#define KAFKA_STR2(x)        KAFKA_STR(x)
#define KAFKA_SCHEMA_VERSION KAFKA_STR2(TL_SCHEMA_VERSION)

enum {
    KAFKA_MAX_TOPICS = 32,
    KAFKA_MAX_TSTATS = 64,    /* topics counted one by one in kafka.topics */
    KAFKA_WINDOW = 20000,     /* spooled messages in librdkafka at once, broker up */
    KAFKA_BURST = 5000,       /* spooled messages produced per poll */
    KAFKA_PROBE_US = 1000000, /* broker down: one spooled message per second, as a probe */
    KAFKA_PURGE_US = 3000000, /* at exit: how long purged messages take to come back */
    KAFKA_SPOOL_LEVEL = 3,
};

enum kafka_key { KAFKA_KEY_CID, KAFKA_KEY_UID, KAFKA_KEY_NONE };

struct kafka_topic {
    char type[64];
    rd_kafka_topic_t *rkt;
};

enum { KAFKA_T_DELIVERED, KAFKA_T_RETRIED, KAFKA_T_FAILED, KAFKA_T_N };

/* Per-topic delivery counts: written on the output thread, read by the stats event. */
struct kafka_tstat {
    char name[256]; /* Kafka topic names are at most 249 characters */
    tl_counter n[KAFKA_T_N];
};

struct tl_kafka {
    const struct tl_config *cfg;
    rd_kafka_t *rk; /* NULL after a fatal error it could not recover from: spool only */
    struct kafka_topic topics[KAFKA_MAX_TOPICS];
    size_t ntopics;
    enum kafka_key key;
    struct tl_spool *spool;
    FILE *dead;
    char *dead_path;
    tl_counter *st;
    bool down, fatal;
    bool purge_due; /* went down: librdkafka's queued messages go to the spool */
    uint64_t last_probe_us, last_fsync_us, deadline_us;
    /* a spooled line librdkafka could not take yet (queue full): sent before any other */
    char *held;
    size_t held_len, held_cap;
    uint64_t held_seq;
    bool has_held;
    /* entries [0, ntstat) are complete: the name is stored before ntstat is raised */
    struct kafka_tstat tstat[KAFKA_MAX_TSTATS], tother;
    _Atomic size_t ntstat;
    atomic_bool has_other;
};

static void *kafka_mut(const void *p)
{
    return (void *)(uintptr_t)p; /* librdkafka's value pointer is not const; F_COPY: unchanged */
}

/* Permanent failures: retrying cannot help, the message goes to the dead-letter file. */
static bool kafka_permanent(rd_kafka_resp_err_t err)
{
    switch (err) {
    case RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_RECORD_LIST_TOO_LARGE:
    case RD_KAFKA_RESP_ERR_INVALID_MSG:
    case RD_KAFKA_RESP_ERR_INVALID_RECORD:
    case RD_KAFKA_RESP_ERR__INVALID_ARG:
    case RD_KAFKA_RESP_ERR_UNKNOWN_TOPIC_OR_PART:
    case RD_KAFKA_RESP_ERR__UNKNOWN_TOPIC:
    case RD_KAFKA_RESP_ERR__UNKNOWN_PARTITION:
    case RD_KAFKA_RESP_ERR_TOPIC_EXCEPTION:
    case RD_KAFKA_RESP_ERR_TOPIC_AUTHORIZATION_FAILED:
    case RD_KAFKA_RESP_ERR_CLUSTER_AUTHORIZATION_FAILED: return true;
    default: return false;
    }
}

/* One delivery outcome for a topic; only the output thread calls this. */
static void kafka_tcount(struct tl_kafka *k, const char *topic, int what)
{
    size_t n = atomic_load_explicit(&k->ntstat, memory_order_relaxed), i;
    struct kafka_tstat *t = NULL;

    if (!topic)
        topic = "";
    for (i = 0; i < n && !t; i++)
        if (strcmp(k->tstat[i].name, topic) == 0)
            t = &k->tstat[i];
    if (!t && n < KAFKA_MAX_TSTATS && strlen(topic) < sizeof(k->tstat[0].name)) {
        t = &k->tstat[n];
        memcpy(t->name, topic, strlen(topic) + 1); /* length checked above */
        atomic_store_explicit(&k->ntstat, n + 1, memory_order_release);
    } else if (!t) {
        t = &k->tother;
        atomic_store_explicit(&k->has_other, true, memory_order_relaxed);
    }
    atomic_fetch_add_explicit(&t->n[what], 1, memory_order_relaxed);
}

static void kafka_tjson(struct tl_buf *b, const char *name, const struct kafka_tstat *t)
{
    static const char *const keys[KAFKA_T_N] = { "delivered", "retried", "failed" };
    bool first = true;

    tl_json_string(b, name, strlen(name));
    tl_buf_putc(b, ':');
    tl_buf_putc(b, '{');
    for (int i = 0; i < KAFKA_T_N; i++) {
        tl_json_key(b, &first, keys[i]);
        tl_json_u64(b, atomic_load_explicit(&t->n[i], memory_order_relaxed));
    }
    tl_buf_putc(b, '}');
}

/* {"topic":{"delivered":N,"retried":N,"failed":N},...}; any thread. */
void tl_kafka_topics_json(struct tl_kafka *k, struct tl_buf *b)
{
    size_t n = atomic_load_explicit(&k->ntstat, memory_order_acquire);

    tl_buf_putc(b, '{');
    for (size_t i = 0; i < n; i++) {
        if (i)
            tl_buf_putc(b, ',');
        kafka_tjson(b, k->tstat[i].name, &k->tstat[i]);
    }
    if (atomic_load_explicit(&k->has_other, memory_order_relaxed)) {
        if (n)
            tl_buf_putc(b, ',');
        kafka_tjson(b, "(other)", &k->tother);
    }
    tl_buf_putc(b, '}');
}

static void kafka_spool(struct tl_kafka *k, const char *p, size_t n)
{
    tl_spool_append(k->spool, p, n);
    atomic_store_explicit(&k->st[TL_STAT_KAFKA_SPOOL_BYTES], tl_spool_bytes(k->spool),
                          memory_order_relaxed);
}

/* {"error":"...","topic":"...","event":<the event>} */
static void kafka_dead_letter(struct tl_kafka *k, const char *topic, const char *p, size_t n,
                              rd_kafka_resp_err_t err)
{
    struct tl_buf b = { 0 };
    const char *why = rd_kafka_err2str(err);

    tl_count(k->st, TL_STAT_KAFKA_FAILED, 1);
    kafka_tcount(k, topic, KAFKA_T_FAILED);
    if (!k->dead && !(k->dead = fopen(k->dead_path, "a"))) {
        tl_log(TL_LOG_WARNING, "kafka.dead_letter: %s: %s", k->dead_path, strerror(errno));
        tl_count(k->st, TL_STAT_OUTPUT_ERRORS, 1);
        return;
    }
    tl_buf_puts(&b, "{\"error\":");
    tl_json_string(&b, why, strlen(why));
    tl_buf_puts(&b, ",\"topic\":");
    tl_json_string(&b, topic, strlen(topic));
    tl_buf_puts(&b, ",\"event\":");
    tl_buf_put(&b, p, n);
    tl_buf_puts(&b, "}\n");
    if (fwrite(b.p, 1, b.len, k->dead) != b.len || fflush(k->dead) != 0)
        tl_count(k->st, TL_STAT_OUTPUT_ERRORS, 1);
    tl_buf_free(&b);
}

/* The topic handle for an event type, made from kafka.topic on first use. */
static rd_kafka_topic_t *kafka_topic(struct tl_kafka *k, const char *type, size_t len)
{
    char name[256];
    size_t o = 0;

    if (!len || len >= sizeof(k->topics[0].type)) {
        type = "unknown";
        len = 7;
    }
    for (size_t i = 0; i < k->ntopics; i++)
        if (strlen(k->topics[i].type) == len && memcmp(k->topics[i].type, type, len) == 0)
            return k->topics[i].rkt;
    for (const char *t = k->cfg->kafka_topic; *t && o < sizeof(name) - 1;) {
        if (strncmp(t, "{type}", 6) == 0) {
            size_t m = len < sizeof(name) - 1 - o ? len : sizeof(name) - 1 - o;
            memcpy(name + o, type, m);
            o += m;
            t += 6;
        } else {
            name[o++] = *t++;
        }
    }
    name[o] = '\0';
    rd_kafka_topic_t *rkt = rd_kafka_topic_new(k->rk, name, NULL);
    if (rkt && k->ntopics < KAFKA_MAX_TOPICS) {
        memcpy(k->topics[k->ntopics].type, type, len);
        k->topics[k->ntopics].type[len] = '\0';
        k->topics[k->ntopics++].rkt = rkt;
    } else if (rkt) {
        rd_kafka_topic_destroy(rkt); /* librdkafka keeps it alive while messages use it */
    }
    return rkt;
}

/* Hands one event to librdkafka; seq is its spool segment (0: not from the spool). */
static rd_kafka_resp_err_t kafka_produce(struct tl_kafka *k, const struct tl_line *l, uint64_t seq)
{
    const char *key = NULL;
    size_t klen = 0;

    rd_kafka_topic_t *rkt = kafka_topic(k, l->type, l->type_len);
    if (!rkt)
        return RD_KAFKA_RESP_ERR__INVALID_ARG;
    if (k->key != KAFKA_KEY_NONE)
        key = tl_line_field(l, k->key == KAFKA_KEY_CID ? "community_id" : "uid", &klen);
    const char *sensor = k->cfg->sensor ? k->cfg->sensor : "";
    rd_kafka_resp_err_t err = rd_kafka_producev(
        k->rk, RD_KAFKA_V_RKT(rkt), RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
        RD_KAFKA_V_VALUE(kafka_mut(l->p), l->n), RD_KAFKA_V_KEY(kafka_mut(key), key ? klen : 0),
        RD_KAFKA_V_OPAQUE((void *)(uintptr_t)seq),
        RD_KAFKA_V_HEADER("event_type", l->type, (ssize_t)l->type_len),
        RD_KAFKA_V_HEADER("sensor", sensor, -1),
        RD_KAFKA_V_HEADER("schema_version", KAFKA_SCHEMA_VERSION, -1), RD_KAFKA_V_END);
    if (!err)
        tl_count(k->st, TL_STAT_KAFKA_PRODUCED, 1);
    else if (kafka_permanent(err))
        kafka_dead_letter(k, rd_kafka_topic_name(rkt), l->p, l->n, err);
    return err;
}

/* Delivery report, run inside rd_kafka_poll() on the output thread. */
static void kafka_on_delivery(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
    struct tl_kafka *k = opaque;
    uint64_t seq = (uint64_t)(uintptr_t)m->_private;

    (void)rk;
    if (!m->err) {
        tl_count(k->st, TL_STAT_KAFKA_DELIVERED, 1);
        kafka_tcount(k, rd_kafka_topic_name(m->rkt), KAFKA_T_DELIVERED);
        if (k->down)
            tl_log(TL_LOG_INFO, "kafka: broker reachable again; replaying the spool");
        k->down = false;
    } else if (kafka_permanent(m->err)) {
        kafka_dead_letter(k, rd_kafka_topic_name(m->rkt), m->payload, m->len, m->err);
    } else {
        tl_count(k->st, TL_STAT_KAFKA_RETRIED, 1);
        kafka_tcount(k, rd_kafka_topic_name(m->rkt), KAFKA_T_RETRIED);
        kafka_spool(k, m->payload, m->len);
        if (m->err != RD_KAFKA_RESP_ERR__PURGE_QUEUE &&
            m->err != RD_KAFKA_RESP_ERR__PURGE_INFLIGHT && !k->down) {
            k->down = k->purge_due = true; /* timed out: stop feeding librdkafka */
        }
    }
    if (seq)
        tl_spool_done(k->spool, seq);
}

/* librdkafka's own lines (syslog levels) through tapline's logger, limited per facility:
 * a broker that stays down says so once every TL_LOG_LIMIT_US, not every retry. */
static void kafka_on_log(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
    char key[48];
    (void)rk;
    enum tl_log_level lv = level <= 3   ? TL_LOG_ERROR
                           : level == 4 ? TL_LOG_WARNING
                           : level <= 6 ? TL_LOG_INFO
                                        : TL_LOG_DEBUG;
    if (lv == TL_LOG_DEBUG) { /* asked for (kafka.properties debug=...): every line */
        tl_log(lv, "kafka: %s: %s", fac, buf);
        return;
    }
    snprintf(key, sizeof(key), "kafka:%s", fac);
    tl_log_limited(key, lv, "kafka: %s: %s", fac, buf);
}

static void kafka_on_error(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
    struct tl_kafka *k = opaque;

    (void)rk;
    if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && !k->down) {
        k->down = k->purge_due = true;
        tl_count(k->st, TL_STAT_KAFKA_OUTAGES, 1);
        tl_log(TL_LOG_WARNING, "kafka: %s; spooling to %s", reason, k->cfg->kafka_spool);
    } else if (err == RD_KAFKA_RESP_ERR__FATAL) {
        k->fatal = true;
    }
}

/* name=value entries, separated by newlines, or by commas followed by a name= (so a
 * value may hold commas: ssl.cipher.suites=A,B). */
static int kafka_properties(rd_kafka_conf_t *conf, const char *props, char *errbuf, size_t n)
{
    char *copy = strdup(props), *p = copy;
    char why[512];
    int rc = -1;

    if (!copy) {
        snprintf(errbuf, n, "out of memory");
        return -1;
    }
    while (*p) {
        char *end = p;
        for (; *end && *end != '\n'; end++) {
            if (*end != ',')
                continue;
            size_t name = strspn(end + 1, " abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                          "0123456789._-");
            if (name && end[1 + name] == '=')
                break;
        }
        char *next = *end ? end + 1 : end;
        *end = '\0';
        p += strspn(p, " \t\r");
        char *eq = strchr(p, '=');
        if (*p && (!eq || eq == p)) {
            snprintf(errbuf, n, "kafka.properties: '%s' is not name=value", p);
            goto fail;
        }
        if (*p) {
            char *ne = eq;
            while (ne > p && (ne[-1] == ' ' || ne[-1] == '\t'))
                ne--;
            *ne = '\0';
            char *v = eq + 1 + strspn(eq + 1, " \t");
            size_t vl = strlen(v);
            while (vl && (v[vl - 1] == ' ' || v[vl - 1] == '\t' || v[vl - 1] == '\r'))
                v[--vl] = '\0';
            if (rd_kafka_conf_set(conf, p, v, why, sizeof(why)) != RD_KAFKA_CONF_OK) {
                snprintf(errbuf, n, "kafka.properties: %s", why);
                goto fail;
            }
        }
        p = next;
    }
    rc = 0;
fail:
    free(copy);
    return rc;
}

static rd_kafka_t *kafka_connect(struct tl_kafka *k, char *errbuf, size_t n)
{
    static const char *const defaults[][2] = {
        { "client.id", "tapline" },
        { "compression.type", "zstd" },
        /* zstd's level 1 sends 2% more bytes than its default 3 for 40% less of the CPU
         * compression takes (make bench, the mixed capture's events) */
        { "compression.level", "1" },
        { "acks", "all" },
        { "enable.idempotence", "true" },
        /* a broker back is tried within a second: librdkafka's default backs off to 10 s,
         * longer than a run's end waits (kafka.flush_timeout) to empty the spool into it */
        { "reconnect.backoff.max.ms", "1000" },
    };
    char why[512];
    rd_kafka_conf_t *conf = rd_kafka_conf_new();

    if (rd_kafka_conf_set(conf, "bootstrap.servers", k->cfg->kafka_brokers, why, sizeof(why))) {
        snprintf(errbuf, n, "kafka.brokers: %s", why);
        goto fail;
    }
    for (size_t i = 0; i < sizeof(defaults) / sizeof(defaults[0]); i++)
        if (rd_kafka_conf_set(conf, defaults[i][0], defaults[i][1], why, sizeof(why))) {
            snprintf(errbuf, n, "kafka: %s", why);
            goto fail;
        }
    if (k->cfg->kafka_props && kafka_properties(conf, k->cfg->kafka_props, errbuf, n) < 0)
        goto fail;
    rd_kafka_conf_set_opaque(conf, k);
    rd_kafka_conf_set_dr_msg_cb(conf, kafka_on_delivery);
    rd_kafka_conf_set_error_cb(conf, kafka_on_error);
    rd_kafka_conf_set_log_cb(conf, kafka_on_log);
    rd_kafka_t *rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, why, sizeof(why));
    if (!rk) {
        snprintf(errbuf, n, "kafka: %s", why);
        goto fail;
    }
    return rk;
fail:
    rd_kafka_conf_destroy(conf);
    return NULL;
}

/* Everything librdkafka holds comes back through delivery reports, into the spool. */
static void kafka_purge(struct tl_kafka *k)
{
    uint64_t until = tl_sink_now_us() + KAFKA_PURGE_US;

    rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_INFLIGHT);
    while (rd_kafka_outq_len(k->rk) > 0 && tl_sink_now_us() < until)
        rd_kafka_poll(k->rk, 50);
    rd_kafka_poll(k->rk, 0);
}

static void kafka_disconnect(struct tl_kafka *k)
{
    if (!k->rk)
        return;
    kafka_purge(k);
    for (size_t i = 0; i < k->ntopics; i++)
        rd_kafka_topic_destroy(k->topics[i].rkt);
    k->ntopics = 0;
    rd_kafka_destroy(k->rk);
    k->rk = NULL;
}

/* A fatal error (idempotence state lost) ends the producer: spool its messages, start anew. */
static void kafka_restart(struct tl_kafka *k)
{
    char why[512] = "";

    rd_kafka_fatal_error(k->rk, why, sizeof(why));
    tl_log(TL_LOG_WARNING, "kafka: fatal error: %s; restarting the producer", why);
    kafka_disconnect(k);
    k->fatal = false;
    if (!(k->rk = kafka_connect(k, why, sizeof(why))))
        tl_log(TL_LOG_WARNING, "%s; events go to the spool only", why);
}

static void kafka_hold(struct tl_kafka *k, const char *p, size_t n, uint64_t seq)
{
    if (n > k->held_cap) {
        char *h = realloc(k->held, n);
        if (!h)
            abort(); /* one event's size */
        k->held = h;
        k->held_cap = n;
    }
    memmove(k->held, p, n);
    k->held_len = n;
    k->held_seq = seq;
    k->has_held = true;
}

/* Sends spooled events, oldest first, while librdkafka has room; a probe when down. */
static void kafka_replay(struct tl_kafka *k)
{
    size_t window = KAFKA_WINDOW;

    if (!k->rk || k->fatal)
        return;
    if (k->down) {
        uint64_t now = tl_sink_now_us();
        if (rd_kafka_outq_len(k->rk) > 0 || now - k->last_probe_us < KAFKA_PROBE_US)
            return; /* what librdkafka holds will tell us when the broker is back */
        k->last_probe_us = now;
        window = 1;
    }
    for (int i = 0; i < KAFKA_BURST && (size_t)rd_kafka_outq_len(k->rk) < window; i++) {
        const char *p;
        size_t n;
        uint64_t seq;
        struct tl_line l;
        if (k->has_held) {
            p = k->held;
            n = k->held_len;
            seq = k->held_seq;
        } else if (!tl_spool_next(k->spool, &p, &n, &seq)) {
            break;
        }
        tl_line_parse(&l, p, n);
        rd_kafka_resp_err_t err = kafka_produce(k, &l, seq);
        if (err && !kafka_permanent(err)) {
            if (!k->has_held)
                kafka_hold(k, p, n, seq);
            break;
        }
        k->has_held = false;
        if (err)
            tl_spool_done(k->spool, seq); /* dead-lettered */
        else
            tl_count(k->st, TL_STAT_KAFKA_REPLAYED, 1);
    }
}

void tl_kafka_write(struct tl_kafka *k, const struct tl_line *l)
{
    if (!k->rk || k->down || k->fatal || k->has_held || tl_spool_unread(k->spool)) {
        kafka_spool(k, l->p, l->n); /* behind the spooled events, in order */
        return;
    }
    rd_kafka_resp_err_t err = kafka_produce(k, l, 0);
    if (err && !kafka_permanent(err))
        kafka_spool(k, l->p, l->n); /* queue full: the spool takes it, the packet path goes on */
}

void tl_kafka_poll(struct tl_kafka *k)
{
    uint64_t now = tl_sink_now_us();

    if (k->rk)
        rd_kafka_poll(k->rk, 0);
    if (k->fatal)
        kafka_restart(k);
    if (k->rk && k->purge_due) {
        /* what waits in librdkafka's memory for a broker that is gone comes back through
         * delivery reports, into the spool, where a kill -9 cannot take it; in flight
         * requests are left to finish or time out (purging them could duplicate) */
        rd_kafka_purge(k->rk, RD_KAFKA_PURGE_F_QUEUE | RD_KAFKA_PURGE_F_NON_BLOCKING);
        k->purge_due = false;
    }
    kafka_replay(k);
    /* written through: what the spool took is in the file before the next batch (a kill -9
     * loses none of it), on the disk itself every kafka.spool_fsync (a power cut) */
    tl_spool_sync(k->spool);
    if (now - k->last_fsync_us >= k->cfg->spool_fsync) {
        tl_spool_fsync(k->spool);
        k->last_fsync_us = now;
    }
    atomic_store_explicit(&k->st[TL_STAT_KAFKA_SPOOL_BYTES], tl_spool_bytes(k->spool),
                          memory_order_relaxed);
}

/* Waits for deliveries and replays the spool, until done or kafka.flush_timeout since the
 * first call (the final stats event, written after, gets what is left, at least a second). */
void tl_kafka_drain(struct tl_kafka *k)
{
    uint64_t now = tl_sink_now_us();

    if (!k->deadline_us)
        k->deadline_us = now + k->cfg->kafka_flush;
    else if (k->deadline_us < now + 1000000 && !k->down)
        k->deadline_us = now + (k->cfg->kafka_flush < 1000000 ? k->cfg->kafka_flush : 1000000);
    while (k->rk && tl_sink_now_us() < k->deadline_us) {
        tl_kafka_poll(k);
        if (!rd_kafka_outq_len(k->rk) && !k->has_held && !tl_spool_unread(k->spool))
            break;
        rd_kafka_poll(k->rk, 20);
    }
    tl_kafka_poll(k);
}

struct tl_kafka *tl_kafka_open(const struct tl_config *cfg, tl_counter *st, char *errbuf, size_t n)
{
    struct tl_kafka *k = calloc(1, sizeof(*k));
    if (!k) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    k->cfg = cfg;
    k->st = st;
    if (!cfg->kafka_key || strcmp(cfg->kafka_key, "community_id") == 0)
        k->key = KAFKA_KEY_CID;
    else if (strcmp(cfg->kafka_key, "uid") == 0)
        k->key = KAFKA_KEY_UID;
    else if (strcmp(cfg->kafka_key, "none") == 0)
        k->key = KAFKA_KEY_NONE;
    else {
        snprintf(errbuf, n, "kafka.key: '%s' is not community_id, uid or none", cfg->kafka_key);
        goto fail;
    }
    if (!cfg->kafka_topic || !*cfg->kafka_topic) {
        snprintf(errbuf, n, "kafka.topic: a topic name is required");
        goto fail;
    }
    if (!cfg->kafka_spool || !*cfg->kafka_spool) {
        snprintf(errbuf, n, "kafka.spool_dir: a directory is required");
        goto fail;
    }
    if (cfg->kafka_dead_letter && *cfg->kafka_dead_letter) {
        k->dead_path = strdup(cfg->kafka_dead_letter);
    } else if ((k->dead_path = malloc(strlen(cfg->kafka_spool) + 20))) {
        snprintf(k->dead_path, strlen(cfg->kafka_spool) + 20, "%s/dead-letter.jsonl",
                 cfg->kafka_spool);
    }
    if (!k->dead_path) {
        snprintf(errbuf, n, "out of memory");
        goto fail;
    }
    if (!(k->spool = tl_spool_open(cfg->kafka_spool, cfg->max_spool_bytes, KAFKA_SPOOL_LEVEL, st,
                                   errbuf, n)))
        goto fail;
    if (tl_spool_unread(k->spool))
        tl_log(TL_LOG_INFO, "kafka: replaying %" PRIu64 " spooled event(s) from %s",
               tl_spool_unread(k->spool), cfg->kafka_spool);
    if (!(k->rk = kafka_connect(k, errbuf, n)))
        goto fail;
    return k;
fail:
    tl_spool_close(k->spool);
    free(k->dead_path);
    free(k);
    return NULL;
}

void tl_kafka_close(struct tl_kafka *k)
{
    if (!k)
        return;
    tl_kafka_drain(k);
    if (k->has_held) { /* back to the spool, so its segment can go */
        tl_spool_append(k->spool, k->held, k->held_len);
        tl_spool_done(k->spool, k->held_seq);
    }
    kafka_disconnect(k);
    uint64_t left = tl_spool_unread(k->spool);
    if (left)
        tl_log(TL_LOG_WARNING, "kafka: %" PRIu64 " event(s) left in %s for the next run", left,
               k->cfg->kafka_spool);
    tl_spool_close(k->spool);
    if (k->dead)
        fclose(k->dead);
    free(k->held);
    free(k->dead_path);
    free(k);
}
