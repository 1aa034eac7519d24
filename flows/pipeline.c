/*
 * pipeline.c - dispatch, worker threads, the output thread and the stats event.
 *
 * The dispatcher runs on the capture thread: it decodes each packet for its
 * flow key, reassembles fragments (so every packet of a flow, fragmented or
 * not, reaches the same worker), and appends it to that worker's batch. A full
 * ring makes an offline replay wait, and a live capture with several workers
 * drop (counted); with one worker a live capture waits too.
 * Every second of packet time each worker gets a batch, empty if need be, so
 * its clock advances and its idle flows expire even when it sees no traffic.
 */
#include <ndpi/ndpi_api.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "batch.h"
#include "coord.h"
#include "defrag.h"
#include "dissect.h"
#include "event.h"
#include "identity.h"
#include "key.h"
#include "log.h"
#include "metrics.h"
#include "pipeline.h"
#include "privacy.h"
#include "record.h"
#include "rules.h"
#include "worker.h"

enum { PIPE_MAIN_RING = 64, PIPE_RETIRED_MAX = 4, PIPE_MAX_CPUS = 256 };

/* A rule set replaced by a reload, freed once no thread uses it (struct tl_detect). */
struct pipe_retired {
    struct tl_ruleset *rules;
    uint64_t epoch; /* the epoch that replaced it */
};

/* The stats event's record: every counter, summed over the threads. */
struct stats_rec {
    uint64_t ts;
    uint64_t threads;
    struct tl_stats st;
    uint16_t nworker_pkts;
    uint64_t worker_pkts[TL_MAX_WORKERS];
    uint16_t nworker_drops; /* afpacket */
    uint64_t worker_drops[TL_MAX_WORKERS];
    const char *kafka_topics; /* JSON object, owned by the output; NULL without Kafka */
    const char *psl_date;     /* the public suffix list's date; NULL without domain statistics */
    const char *ifaces;       /* JSON object: per interface counters (live) */
    uint64_t uptime;          /* us since start, wall clock */
    const char *version;
    uint64_t rss_bytes;
    uint32_t schema_version;
};

/*
 * A worker's free batches, held by the dispatcher and taken last in, first
 * out: the batches a replay keeps in flight are the same few, warm in the
 * cache, and the rest of capture.ring_batches is never written past its first
 * page, so it costs next to no resident memory (taken in turn from the ring
 * the worker gives them back on, every batch would be).
 */
struct pipe_stash {
    struct tl_batch **b;
    uint64_t n;
};

/* The stash's ring_batches batches, made at the start: a replay needs no allocation later. */
static int pipe_stash_fill(struct pipe_stash *st, const struct tl_config *cfg)
{
    if (!(st->b = calloc(cfg->ring_batches, sizeof(*st->b))))
        return -1;
    for (; st->n < cfg->ring_batches; st->n++) {
        struct tl_batch *b = malloc(sizeof(*b) + cfg->batch_bytes);
        if (!b)
            return -1;
        b->cap = (uint32_t)cfg->batch_bytes;
        st->b[st->n] = b;
    }
    return 0;
}

/* The batches the worker gave back since the last call, onto the stash, the last one on top. */
static void pipe_stash_take_back(struct pipe_stash *st, struct tl_ring *given_back)
{
    struct tl_batch *b;
    while ((b = tl_ring_pop(given_back)))
        st->b[st->n++] = b; /* room for all: ring_batches were made */
}

static void pipe_stash_free(struct pipe_stash *st)
{
    if (!st)
        return;
    while (st->n)
        free(st->b[--st->n]);
    free(st->b);
}

struct tl_pipeline;
static uint64_t pipe_mono_us(void);
static void pipe_metrics_refresh(struct tl_pipeline *p, bool force);
static void pipe_metrics_text(void *arg, struct tl_buf *out);

struct tl_pipeline {
    const struct tl_config *cfg;
    struct tl_output *out;
    enum tl_pipe_mode mode;
    unsigned nworkers;
    struct tl_worker *workers;
    struct tl_batch **cur;    /* batch being filled, per worker */
    struct pipe_stash *stash; /* free batches the dispatcher holds, per worker */
    struct tl_netlist home;
    struct tl_hash_secret keyh; /* tl_hash48's: the workers' flow tables, defrag */
    struct tl_defrag *defrag;
    struct tl_stats st; /* dispatcher (capture thread) counters */
    uint64_t now_us, next_tick_us;
    uint32_t epoch;   /* of packet time: a replay that jumps back starts the next (coord.h) */
    uint64_t tick_us; /* TL_TICK_OFFLINE_US or TL_TICK_LIVE_US */
    struct tl_ring main_out;  /* stats events from the capture thread to the output thread */
    struct tl_bell out_bell;  /* the output thread sleeps on it; workers and dispatcher ring */
    struct tl_bell free_bell; /* the dispatcher sleeps on it for a free batch; workers ring */
    uint64_t out_idle_upto;   /* the watermark the output thread last released up to */
    pthread_t out_thread;
    _Atomic bool out_stop;
    _Atomic uint64_t out_events, out_bytes, out_errors;
    struct tl_detect det; /* shared with the workers */
    struct tl_rules_summary rules_sum;
    struct pipe_retired retired[PIPE_RETIRED_MAX];
    size_t nretired;
    uint64_t reloads, reload_failures;
    struct tl_iface_counters ifaces[TL_MAX_IFACES]; /* live */
    int nifaces;
    char *ifaces_json; /* the same for the stats event */
    uint64_t start_us; /* wall clock (monotonic) at start, for the uptime */
    /* what a metrics scrape reads: refreshed by the capture thread (pipe_metrics_refresh) */
    pthread_mutex_t metrics_lock;
    struct stats_rec *msnap;
    struct tl_iface_counters mifaces[TL_MAX_IFACES];
    int mnifaces;
    uint64_t metrics_next_us;
    struct tl_metrics *metrics; /* metrics.listen */
    struct tl_coord *coord;     /* runs on the output thread */
    /* TL_PIPE_SOCKETS: the workers read src */
    const struct tl_pipe_source *src;
    bool reading;               /* the workers run */
    _Atomic bool live_stop;     /* they stop reading */
    _Atomic unsigned live_done; /* stages of the stop passed (worker.c) */
    _Atomic uint64_t live_end_us;
    uint64_t worker_drops[TL_MAX_WORKERS];
    unsigned nworker_drops;
};

static size_t pipe_count_lines(const char *p, size_t n)
{
    size_t lines = 0;
    for (const char *q = p; (q = memchr(q, '\n', n - (size_t)(q - p))); q++)
        lines++;
    return lines;
}

/* Writes b, then frees it or gives it back to worker `from` (NULL: not a worker's chunk). */
static void pipe_write(struct tl_pipeline *p, struct tl_buf *b, struct tl_worker *from)
{
    if (tl_output_write(p->out, b->p, b->len) < 0)
        atomic_fetch_add(&p->out_errors, pipe_count_lines(b->p, b->len));
    else
        atomic_fetch_add(&p->out_events, pipe_count_lines(b->p, b->len));
    atomic_fetch_add(&p->out_bytes, b->len);
    if (from && tl_worker_give_back(from, b))
        return;
    tl_buf_free(b);
    free(b);
}

/*
 * How far the coordinator may apply what workers sent: the slowest worker's
 * clock less the hold (coord.h). Read it before draining the rings: a worker
 * pushes its messages before it publishes its clock.
 */
static uint64_t pipe_watermark(struct tl_pipeline *p)
{
    uint64_t upto = UINT64_MAX;
    for (unsigned i = 0; i < p->nworkers; i++) {
        uint64_t c = atomic_load_explicit(&p->workers[i].clock_vt, memory_order_acquire);
        if (c < upto)
            upto = c;
    }
    uint64_t hold = TL_COORD_HOLD_TICKS * p->tick_us;
    /* within the slowest worker's epoch: everything of the earlier ones is done */
    return tl_vtime_us(upto) > hold ? upto - hold : upto & ~TL_VT_US_MASK;
}

/* Writes what the coordinator produced (identity, domain and alert events). */
static void pipe_write_coord(struct tl_pipeline *p)
{
    struct tl_buf *b = tl_coord_output(p->coord);
    if (b)
        pipe_write(p, b, NULL);
}

/* Drains a worker's rings: events to the output, messages to the coordinator. */
static bool pipe_drain_worker(struct tl_pipeline *p, struct tl_worker *w)
{
    bool any = false;
    void *item;
    while ((item = tl_ring_pop(&w->out))) {
        pipe_write(p, item, w);
        any = true;
    }
    while ((item = tl_ring_pop(&w->coord))) {
        tl_coord_take(p->coord, item);
        any = true;
    }
    if (any)
        tl_bell_ring(&w->room);
    return any;
}

/* Nothing for the output thread: no rings to drain, no worker clock moved, no stop. */
static bool pipe_output_idle(void *arg)
{
    struct tl_pipeline *p = arg;
    for (unsigned i = 0; i < p->nworkers; i++)
        if (!tl_ring_empty(&p->workers[i].out) || !tl_ring_empty(&p->workers[i].coord))
            return false;
    return tl_ring_empty(&p->main_out) && pipe_watermark(p) == p->out_idle_upto &&
           !atomic_load_explicit(&p->out_stop, memory_order_acquire);
}

/* The output thread: the only writer of the output, so lines never interleave. */
static void *pipe_output_main(void *arg)
{
    struct tl_pipeline *p = arg;
    unsigned spins = 0;

    for (;;) {
        bool stop = atomic_load_explicit(&p->out_stop, memory_order_acquire);
        bool any = false;
        struct tl_buf *b;
        uint64_t upto = pipe_watermark(p);
        for (unsigned i = 0; i < p->nworkers; i++)
            any |= pipe_drain_worker(p, &p->workers[i]);
        if (!stop)
            tl_coord_release(p->coord, upto);
        pipe_write_coord(p);
        while ((b = tl_ring_pop(&p->main_out))) {
            pipe_write(p, b, NULL);
            any = true;
        }
        if (any) {
            spins = 0;
            continue;
        }
        if (stop)
            break;
        tl_output_flush(p->out);
        p->out_idle_upto = upto;
        tl_bell_wait(&p->out_bell, &spins, pipe_output_idle, p, 100);
    }
    tl_output_flush(p->out);
    return NULL;
}

static unsigned pipe_default_threads(void)
{
    long cores = sysconf(_SC_NPROCESSORS_ONLN);
    return cores > 2 ? (unsigned)(cores - 1) : 1;
}

size_t tl_event_types(const struct tl_event_type **out, size_t max)
{
    size_t n = 0;
#define PIPE_TYPE(t)                                                                               \
    do {                                                                                           \
        if (n < max)                                                                               \
            out[n++] = (t);                                                                        \
    } while (0)
    PIPE_TYPE(&tl_flow_event);
    PIPE_TYPE(&tl_tls_event);
    for (size_t i = 0; i < tl_ndissectors; i++)
        PIPE_TYPE(tl_dissectors[i]->event);
    PIPE_TYPE(&tl_identity_event);
    PIPE_TYPE(&tl_domain_event);
    PIPE_TYPE(&tl_alert_event);
    PIPE_TYPE(tl_stats_event());
#undef PIPE_TYPE
    return n;
}

/* A rule file that cannot be used is said once on stderr; the others still load. */
static void pipe_rules_report(void *arg, const char *path, enum tl_rule_verdict v, unsigned line,
                              const char *reason)
{
    (void)arg;
    if (v == TL_RULE_REJECTED)
        fprintf(stderr, "tapline: rules: %s:%u: rejected: %s\n", path, line, reason);
}

/* Domain names, pseudonyms and rules: built once, read by every worker. */
/* rules.paths loaded; an error names the option (a path that is not there, say). */
static struct tl_ruleset *pipe_load_rules(struct tl_pipeline *p, struct tl_rules_summary *sum,
                                          char *errbuf, size_t n)
{
    char why[512];
    struct tl_ruleset *rs =
        tl_rules_load(&p->det.env, p->cfg->rule_paths, pipe_rules_report, p, sum, why, sizeof(why));
    if (!rs)
        snprintf(errbuf, n, "rules.paths: %s", why);
    return rs;
}

static int pipe_detect_init(struct tl_pipeline *p, char *errbuf, size_t n)
{
    static const struct tl_event_type *types[TL_MAX_EVENT_TYPES];
    const struct tl_config *cfg = p->cfg;
    struct tl_detect *det = &p->det;
    size_t ntypes = tl_event_types(types, TL_ARRAY_LEN(types));

    if (cfg->domains && !(det->domains = tl_domain_ctx_new(cfg, errbuf, n)))
        return -1;
    if (tl_privacy_open(cfg, types, ntypes, &det->privacy, errbuf, n) < 0)
        return -1;
    det->env.types = types;
    det->env.ntypes = ntypes;
    det->env.placeholders = cfg->placeholders;
    det->env.max_state =
        tl_config_mem_cap(cfg, TL_MEM_RULES, 1, cfg->max_rule_state, TL_RULE_STATE_BUDGET_BYTES);
    det->env.max_alert_uids = cfg->max_alert_uids;
    if (cfg->rule_paths && *cfg->rule_paths) {
        struct tl_ruleset *rs = pipe_load_rules(p, &p->rules_sum, errbuf, n);
        if (!rs)
            return -1;
        atomic_store(&det->rules, rs);
    }
    return 0;
}

/* Frees the replaced rule sets every thread has moved past. */
static void pipe_reap_rules(struct tl_pipeline *p)
{
    uint64_t seen = tl_coord_rules_epoch(p->coord);
    for (unsigned i = 0; i < p->nworkers; i++) {
        uint64_t e = atomic_load_explicit(&p->workers[i].rules_epoch, memory_order_acquire);
        if (e < seen)
            seen = e;
    }
    size_t kept = 0;
    for (size_t i = 0; i < p->nretired; i++) {
        if (p->retired[i].epoch <= seen)
            tl_rules_free(p->retired[i].rules);
        else
            p->retired[kept++] = p->retired[i];
    }
    p->nretired = kept;
}

int tl_pipeline_reload_rules(struct tl_pipeline *p, char *errbuf, size_t n)
{
    struct tl_detect *det = &p->det;
    struct tl_rules_summary sum = { 0 };

    pipe_reap_rules(p);
    if (p->nretired == PIPE_RETIRED_MAX) {
        p->reload_failures++;
        snprintf(errbuf, n, "rules: the sets replaced by earlier reloads are still in use");
        return -1;
    }
    struct tl_ruleset *rs = NULL;
    if (p->cfg->rule_paths && *p->cfg->rule_paths && !(rs = pipe_load_rules(p, &sum, errbuf, n))) {
        p->reload_failures++;
        return -1;
    }
    if (sum.files_rejected) {
        tl_rules_free(rs);
        p->reload_failures++;
        snprintf(errbuf, n, "rules: %u file(s) rejected; the rules loaded before stay in force",
                 sum.files_rejected);
        return -1;
    }
    struct tl_ruleset *old = atomic_exchange_explicit(&det->rules, rs, memory_order_acq_rel);
    uint64_t epoch = atomic_fetch_add_explicit(&det->epoch, 1, memory_order_acq_rel) + 1;
    if (old)
        p->retired[p->nretired++] = (struct pipe_retired){ old, epoch };
    p->rules_sum = sum;
    p->reloads++;
    return 0;
}

static void pipe_detect_free(struct tl_detect *det)
{
    tl_rules_free(atomic_load(&det->rules));
    tl_privacy_free(det->privacy);
    tl_domain_ctx_free(det->domains);
}

/*
 * capture.cpus as CPU numbers, checked against the machine before any thread
 * starts: -1 with errbuf for a bad list, else the count (0 without the option).
 */
static int pipe_cpus(const char *list, int cpus[PIPE_MAX_CPUS], char *errbuf, size_t n)
{
    long online = sysconf(_SC_NPROCESSORS_CONF);
    int count = 0;
    for (const char *q = list; q && *q;) {
        char *end;
        long v = strtol(q, &end, 10);
        if (end == q || (*end && *end != ',') || count == PIPE_MAX_CPUS) {
            snprintf(errbuf, n, "capture.cpus: '%s' is not a comma list of CPU numbers", list);
            return -1;
        }
        if (v < 0 || v >= online || v >= CPU_SETSIZE) {
            snprintf(errbuf, n, "capture.cpus: this machine has no CPU %ld (0 to %ld)", v,
                     online - 1);
            return -1;
        }
        cpus[count++] = (int)v;
        q = *end ? end + 1 : end;
    }
    return count;
}

/* Names a thread and, with capture.cpus, pins it to the nth CPU of the list (round robin). */
static void pipe_place(pthread_t t, const char *name, const int *cpus, int ncpus, unsigned nth)
{
    pthread_setname_np(t, name);
    if (!ncpus)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpus[nth % (unsigned)ncpus], &set);
    if (pthread_setaffinity_np(t, sizeof(set), &set) != 0)
        fprintf(stderr, "tapline: capture.cpus: cannot pin %s to CPU %d\n", name,
                cpus[nth % (unsigned)ncpus]);
}

/* tl-capture, tl-worker-N, tl-output: in that order on the CPUs of capture.cpus. */
static void pipe_place_threads(struct tl_pipeline *p, const int *cpus, int ncpus)
{
    char name[16];
    pipe_place(pthread_self(), "tl-capture", cpus, ncpus, 0);
    for (unsigned i = 0; i < p->nworkers && (p->mode != TL_PIPE_SOCKETS || p->reading); i++) {
        snprintf(name, sizeof(name), "tl-worker-%u", i % 100u); /* at most 64 workers */
        pipe_place(p->workers[i].thread, name, cpus, ncpus, 1 + i);
    }
    pipe_place(p->out_thread, "tl-output", cpus, ncpus, 1 + p->nworkers);
}

struct tl_pipeline *tl_pipeline_new(const struct tl_config *cfg, struct tl_output *out,
                                    enum tl_pipe_mode mode, char *errbuf, size_t n)
{
    struct tl_pipeline *p = calloc(1, sizeof(*p));
    if (!p) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    p->cfg = cfg;
    p->out = out;
    p->mode = mode;
    pthread_mutex_init(&p->metrics_lock, NULL);
    p->tick_us =
        mode == TL_PIPE_LIVE || mode == TL_PIPE_SOCKETS ? TL_TICK_LIVE_US : TL_TICK_OFFLINE_US;
    p->nworkers = cfg->threads ? (unsigned)cfg->threads : pipe_default_threads();
    if (mode == TL_PIPE_INLINE)
        p->nworkers = 1;
    if (tl_netlist_parse(&p->home, cfg->home_nets, errbuf, n) < 0)
        goto fail;
    if (!tl_hash_secret_init(&p->keyh, cfg->hash_seed))
        tl_log(TL_LOG_WARNING,
               "getrandom failed: the flow and fragment tables' seed is the clock's and the "
               "pid's, so a flood of keys could be aimed at one bucket");
    if (pipe_detect_init(p, errbuf, n) < 0 || !(p->coord = tl_coord_new(cfg, &p->det, errbuf, n)))
        goto fail;
    p->start_us = pipe_mono_us();
    p->defrag = tl_defrag_new(cfg, &p->st, &p->keyh);
    p->workers = calloc(p->nworkers, sizeof(*p->workers));
    p->cur = calloc(p->nworkers, sizeof(*p->cur));
    p->stash = calloc(p->nworkers, sizeof(*p->stash));
    if (!p->defrag || !p->workers || !p->cur || !p->stash ||
        tl_ring_init(&p->main_out, PIPE_MAIN_RING) < 0) {
        snprintf(errbuf, n, "out of memory");
        goto fail;
    }
    for (unsigned i = 0; i < p->nworkers; i++) {
        struct tl_worker *w = &p->workers[i];
        if (tl_worker_init(w, (int)i, p->nworkers, cfg, &p->home, &p->det, errbuf, n) < 0)
            goto fail;
        w->tick_us = p->tick_us;
        w->keyh = &p->keyh;
        w->output_bell = &p->out_bell;
        w->dispatcher_bell = &p->free_bell;
        if (mode != TL_PIPE_SOCKETS && pipe_stash_fill(&p->stash[i], cfg) < 0) {
            snprintf(errbuf, n, "out of memory for packet batches");
            goto fail;
        }
    }
    if (mode == TL_PIPE_INLINE)
        return p;
    int cpus[PIPE_MAX_CPUS], ncpus = pipe_cpus(cfg->cpus, cpus, errbuf, n);
    if (ncpus < 0)
        goto fail;
    if (cfg->metrics_listen && *cfg->metrics_listen) {
        if (!(p->msnap = calloc(1, sizeof(*p->msnap)))) {
            snprintf(errbuf, n, "out of memory");
            goto fail;
        }
        pipe_metrics_refresh(p, false);
        if (!(p->metrics = tl_metrics_start(cfg->metrics_listen, pipe_metrics_text, p, errbuf, n)))
            goto fail;
    }
    for (unsigned i = 0; i < p->nworkers && mode != TL_PIPE_SOCKETS; i++)
        if (pthread_create(&p->workers[i].thread, NULL, tl_worker_main, &p->workers[i]) != 0) {
            snprintf(errbuf, n, "cannot start worker thread");
            return NULL; /* threads already started are never joined: the caller exits */
        }
    if (pthread_create(&p->out_thread, NULL, pipe_output_main, p) != 0) {
        snprintf(errbuf, n, "cannot start output thread");
        return NULL; /* as above */
    }
    pipe_place_threads(p, cpus, ncpus);
    return p;
fail: /* no thread started yet: everything made so far is freed */
    tl_pipeline_free(p);
    return NULL;
}

/*
 * A batch of worker i to fill. NULL when may_drop, live with several workers and worker i is
 * behind: the caller drops the packet, so that one slow worker does not stall the others. A
 * single worker stalls no other, so the capture waits for it, and the kernel's buffer
 * (capture.buffer_mb) takes a burst as well as the worker's ring.
 */
static struct tl_batch *pipe_free_batch(struct tl_pipeline *p, unsigned i, enum tl_batch_kind kind,
                                        bool may_drop)
{
    struct tl_ring *r = &p->workers[i].free;
    struct pipe_stash *st = &p->stash[i];
    unsigned spins = 0;
    struct tl_batch *b;
    pipe_stash_take_back(st, r);
    while (st->n == 0) {
        if (may_drop && p->mode == TL_PIPE_LIVE && p->nworkers > 1)
            return NULL;
        tl_bell_wait(&p->free_bell, &spins, tl_ring_empty, r, 100);
        pipe_stash_take_back(st, r);
    }
    b = st->b[--st->n];
    b->n = b->used = b->load = 0;
    b->kind = kind;
    b->mark_lo = b->mark_hi = 0;
    return b;
}

/* Inline mode: the worker's events go straight to the output, the coordinator runs here. */
static void pipe_drain_inline(struct tl_pipeline *p, struct tl_worker *w)
{
    uint64_t upto = pipe_watermark(p);
    pipe_drain_worker(p, w);
    tl_coord_release(p->coord, upto);
    pipe_write_coord(p);
}

static void pipe_send(struct tl_pipeline *p, unsigned i, struct tl_batch *b)
{
    struct tl_worker *w = &p->workers[i];
    b->now_us = p->now_us;
    if (p->mode == TL_PIPE_INLINE) {
        if (b->kind == TL_BATCH_EPOCH)
            tl_worker_epoch(w, b);
        else
            tl_worker_batch(w, b);
        tl_worker_ship_events(w);
        pipe_drain_inline(p, w);
        tl_ring_push(&w->free, b);
        return;
    }
    if (b->mark_hi)
        w->sent_mark = b->mark_hi;
    /* The in ring holds every batch this worker has, so a push cannot fail. */
    tl_ring_push(&w->in, b);
    tl_bell_ring(&w->wake);
}

/* Appends a packet to its worker's batch: its bytes copied, or their address when mark > 0. */
static void pipe_enqueue(struct tl_pipeline *p, const struct tl_decoded *d, const uint8_t *bytes,
                         uint32_t len, uint64_t mark)
{
    struct tl_fkey k;
    bool from_a;

    tl_fkey_make(&k, d, &from_a);
    unsigned i = p->nworkers > 1 ? (unsigned)(tl_fkey_fixed(&k) % p->nworkers) : 0;
    uint32_t need = tl_slot_size(mark ? 0 : len);
    uint32_t load = tl_slot_size(len); /* as much file in flight as copies would hold */
    struct tl_batch *b = p->cur[i];

    if (b && b->load + load > b->cap) {
        pipe_send(p, i, b);
        b = p->cur[i] = NULL;
    }
    if (!b && !(b = p->cur[i] = pipe_free_batch(p, i, TL_BATCH_PKTS, true))) {
        p->st.v[TL_STAT_RING_DROPS]++;
        return;
    }
    struct tl_slot *s = (struct tl_slot *)(void *)(b->data + b->used);
    s->d = *d;
    s->key = k;
    s->from_a = from_a;
    s->len = len;
    s->ext = NULL;
    if (mark) {
        s->ext = bytes;
        b->mark_lo = b->mark_lo ? b->mark_lo : mark;
        b->mark_hi = mark;
    } else {
        memcpy(s->bytes, bytes, len);
    }
    b->used += need;
    b->load += load;
    b->n++;
}

void tl_pipeline_flush(struct tl_pipeline *p)
{
    for (unsigned i = 0; i < p->nworkers && p->mode != TL_PIPE_SOCKETS; i++) {
        if (!p->cur[i] && !(p->cur[i] = pipe_free_batch(p, i, TL_BATCH_PKTS, true)))
            continue;
        pipe_send(p, i, p->cur[i]);
        p->cur[i] = NULL;
    }
}

static void pipe_tick(struct tl_pipeline *p)
{
    tl_pipeline_flush(p);
    pipe_metrics_refresh(p, false);
    if (p->nretired)
        pipe_reap_rules(p);
    tl_defrag_expire(p->defrag, p->now_us);
    p->next_tick_us = p->now_us + p->tick_us;
}

/*
 * Replay: packet time jumped back further than the coordinator's hold (the next
 * file of a folder of unrelated captures). Like the end of a capture, every
 * flow ends and everything held is applied; then time starts afresh in a new
 * epoch, so what follows is ordered as deterministically as what came before.
 */
static void pipe_new_epoch(struct tl_pipeline *p, uint64_t ts_us)
{
    tl_pipeline_flush(p);
    tl_defrag_expire(p->defrag, UINT64_MAX);
    if (p->epoch + 1 < TL_VT_EPOCHS) {
        tl_coord_epoch_ended(p->coord, p->epoch, p->now_us);
        p->epoch++;
    }
    p->st.v[TL_STAT_TIME_JUMPS]++;
    for (unsigned i = 0; i < p->nworkers; i++) {
        struct tl_batch *b = pipe_free_batch(p, i, TL_BATCH_EPOCH, false); /* must get through */
        b->epoch = p->epoch;
        p->now_us = ts_us;
        pipe_send(p, i, b);
    }
    p->next_tick_us = ts_us + p->tick_us;
}

void tl_pipeline_packet(struct tl_pipeline *p, int linktype, uint64_t ts_us, const uint8_t *pkt,
                        uint32_t caplen, uint32_t wirelen)
{
    tl_pipeline_packet_pinned(p, linktype, ts_us, pkt, caplen, wirelen, 0);
}

void tl_pipeline_packet_pinned(struct tl_pipeline *p, int linktype, uint64_t ts_us,
                               const uint8_t *pkt, uint32_t caplen, uint32_t wirelen, uint64_t mark)
{
    if (p->mode != TL_PIPE_LIVE && ts_us + TL_COORD_HOLD_TICKS * p->tick_us < p->now_us)
        pipe_new_epoch(p, ts_us);
    struct tl_decoded d;

    p->st.v[TL_STAT_PKTS]++;
    p->st.v[TL_STAT_BYTES] += wirelen;
    if (ts_us > p->now_us)
        p->now_us = ts_us;
    if (p->now_us >= p->next_tick_us)
        pipe_tick(p);

    enum tl_decode_err err = tl_decode(&d, linktype, pkt, caplen);
    d.ts_us = ts_us;
    d.caplen = caplen;
    d.wirelen = wirelen;
    if (d.truncated)
        p->st.v[TL_STAT_TRUNCATED]++;
    p->st.decode_err[err]++;
    switch (d.ppp_skip) {
    case TL_PPP_CONTROL: p->st.v[TL_STAT_PPP_CONTROL]++; break;
    case TL_PPP_COMPRESSED: p->st.v[TL_STAT_PPP_COMPRESSED]++; break;
    case TL_PPP_OTHER: p->st.v[TL_STAT_PPP_OTHER]++; break;
    default: break;
    }
    if (err != TL_DECODE_OK)
        return;
    if (!d.is_fragment) {
        pipe_enqueue(p, &d, pkt, caplen, mark);
        return;
    }
    uint32_t len = 0;
    const uint8_t *dg = tl_defrag_add(p->defrag, &d, pkt, &len);
    if (!dg)
        return;
    struct tl_decoded whole;
    err = tl_decode(&whole, TL_LINK_RAW, dg, len);
    if (err != TL_DECODE_OK) {
        p->st.decode_err[err]++;
        return;
    }
    tl_worker_keep_outer(&whole, &d);
    pipe_enqueue(p, &whole, dg, len, 0); /* the reassembly buffer is reused: copied */
}

uint64_t tl_pipeline_pinned_from(struct tl_pipeline *p)
{
    uint64_t lo = UINT64_MAX;
    for (unsigned i = 0; i < p->nworkers; i++) {
        struct tl_worker *w = &p->workers[i];
        uint64_t done = atomic_load_explicit(&w->done_mark, memory_order_acquire);
        /* a worker reads its batches in order: what it has not read is past `done` */
        if (done < w->sent_mark && done + 1 < lo)
            lo = done + 1;
        if (p->cur[i] && p->cur[i]->mark_lo && p->cur[i]->mark_lo < lo)
            lo = p->cur[i]->mark_lo;
    }
    return lo;
}

struct pipe_unpin {
    struct tl_pipeline *p;
    uint64_t below;
};

static bool pipe_pinned_below(void *arg)
{
    const struct pipe_unpin *u = arg;
    return tl_pipeline_pinned_from(u->p) < u->below;
}

void tl_pipeline_unpin(struct tl_pipeline *p, uint64_t below)
{
    struct pipe_unpin u = { p, below };
    unsigned spins = 0;
    tl_pipeline_flush(p);
    while (pipe_pinned_below(&u))
        tl_bell_wait(&p->free_bell, &spins, pipe_pinned_below, &u, 100);
}

void tl_pipeline_idle(struct tl_pipeline *p, uint64_t now_us)
{
    if (now_us > p->now_us)
        p->now_us = now_us;
    if (p->mode == TL_PIPE_SOCKETS) { /* no dispatcher: the workers keep their own time */
        pipe_metrics_refresh(p, false);
        if (p->nretired)
            pipe_reap_rules(p);
        return;
    }
    if (p->now_us >= p->next_tick_us)
        pipe_tick(p);
    else
        tl_pipeline_flush(p);
}

unsigned tl_pipeline_workers(const struct tl_pipeline *p)
{
    return p->nworkers;
}

int tl_pipeline_start_source(struct tl_pipeline *p, const struct tl_pipe_source *src, char *errbuf,
                             size_t n)
{
    int cpus[PIPE_MAX_CPUS], ncpus = pipe_cpus(p->cfg->cpus, cpus, errbuf, n);
    if (p->mode != TL_PIPE_SOCKETS || p->reading || ncpus < 0) {
        if (ncpus >= 0)
            snprintf(errbuf, n, "the pipeline takes no source of packets");
        return -1;
    }
    p->src = src;
    for (unsigned i = 0; i < p->nworkers; i++) {
        struct tl_worker *w = &p->workers[i];
        w->src = src;
        w->all = p->workers;
        w->live_stop = &p->live_stop;
        w->live_done = &p->live_done;
        w->live_end_us = &p->live_end_us;
        if (tl_worker_live_init(w, errbuf, n) < 0)
            return -1;
    }
    for (unsigned i = 0; i < p->nworkers; i++)
        if (pthread_create(&p->workers[i].thread, NULL, tl_worker_live_main, &p->workers[i]) != 0) {
            snprintf(errbuf, n, "cannot start worker thread");
            return -1; /* (threads already started are never joined: we exit) */
        }
    p->reading = true;
    pipe_place_threads(p, cpus, ncpus);
    return 0;
}

void tl_pipeline_stop_source(struct tl_pipeline *p)
{
    if (!p->reading)
        return;
    atomic_store_explicit(&p->live_stop, true, memory_order_release);
    for (unsigned i = 0; i < p->nworkers; i++)
        p->src->wake(p->src->ctx, i);
    for (unsigned i = 0; i < p->nworkers; i++)
        pthread_join(p->workers[i].thread, NULL);
    p->reading = false;
    uint64_t end = atomic_load(&p->live_end_us);
    if (end > p->now_us)
        p->now_us = end;
}

void tl_pipeline_set_worker_drops(struct tl_pipeline *p, const uint64_t *drops, unsigned n)
{
    p->nworker_drops = n < TL_MAX_WORKERS ? n : TL_MAX_WORKERS;
    memcpy(p->worker_drops, drops, p->nworker_drops * sizeof(*drops));
}

/* The stats field capture.interfaces: {"eth1":{"packets":N,...},...}. */
static void pipe_ifaces_json(struct tl_pipeline *p)
{
    struct tl_buf b = { 0 };
    tl_buf_putc(&b, '{');
    for (int i = 0; i < p->nifaces; i++) {
        const struct tl_iface_counters *c = &p->ifaces[i];
        bool first = true;
        if (i)
            tl_buf_putc(&b, ',');
        tl_json_string(&b, c->name, strlen(c->name));
        tl_buf_putc(&b, ':');
        tl_buf_putc(&b, '{');
        tl_json_key(&b, &first, "packets");
        tl_json_u64(&b, c->packets);
        tl_json_key(&b, &first, "kernel_drops");
        tl_json_u64(&b, c->kernel_drops);
        tl_json_key(&b, &first, "iface_drops");
        tl_json_u64(&b, c->iface_drops);
        tl_json_key(&b, &first, "down");
        tl_json_u64(&b, c->downs);
        if (p->mode == TL_PIPE_SOCKETS) {
            tl_json_key(&b, &first, "ring_full");
            tl_json_u64(&b, c->freezes);
        }
        tl_buf_putc(&b, '}');
    }
    tl_buf_put(&b, "}", 2); /* with the NUL */
    free(p->ifaces_json);
    p->ifaces_json = b.p;
}

void tl_pipeline_set_capture_stats(struct tl_pipeline *p, const struct tl_iface_counters *ifaces,
                                   int n)
{
    p->st.v[TL_STAT_KERNEL_DROPS] = p->st.v[TL_STAT_IFACE_DROPS] = 0;
    p->st.v[TL_STAT_RING_ERRORS] = 0;
    p->nifaces = n < TL_MAX_IFACES ? n : TL_MAX_IFACES;
    for (int i = 0; i < p->nifaces; i++) {
        p->ifaces[i] = ifaces[i];
        p->st.v[TL_STAT_KERNEL_DROPS] += ifaces[i].kernel_drops;
        p->st.v[TL_STAT_IFACE_DROPS] += ifaces[i].iface_drops;
        p->st.v[TL_STAT_RING_ERRORS] += ifaces[i].ring_errors;
    }
    pipe_ifaces_json(p);
}

uint64_t tl_pipeline_packets(const struct tl_pipeline *p)
{
    return p->st.v[TL_STAT_PKTS];
}

uint64_t tl_pipeline_events(struct tl_pipeline *p)
{
    return atomic_load_explicit(&p->out_events, memory_order_relaxed);
}

uint64_t tl_pipeline_flows(const struct tl_pipeline *p)
{
    uint64_t n = 0;
    for (unsigned i = 0; i < p->nworkers; i++) {
        pthread_mutex_lock(&p->workers[i].snap_lock);
        n += p->workers[i].snap.v[TL_STAT_FLOWS_CREATED];
        pthread_mutex_unlock(&p->workers[i].snap_lock);
    }
    return n;
}

/* ---- the stats event ---- */

const char *tl_output_kafka_topics(struct tl_output *o); /* export/output.c */

static const struct tl_field stats_fixed_fields[] = {
    TL_FIELD(struct stats_rec, ts, TS, "ts", "packet time of the report"),
    TL_FIELD(struct stats_rec, threads, U64, "threads", "worker threads"),
    TL_FIELD(struct stats_rec, version, CSTR, "version", "tapline's version"),
    TL_FIELD(struct stats_rec, schema_version, U32, "schema_version",
             "version of the events' fields (also a Kafka header)"),
    TL_FIELD(struct stats_rec, uptime, DUR, "uptime", "seconds since tapline started"),
    TL_FIELD(struct stats_rec, rss_bytes, U64, "rss_bytes", "resident memory now (a gauge)"),
#define TL_X(sym, name, doc) TL_FIELD(struct stats_rec, st.v[TL_STAT_##sym], U64, name, doc),
    TL_STAT_COUNTERS(TL_X)
#undef TL_X
#define TL_X(sym, name, doc) TL_FIELD_OPT(struct stats_rec, st.v[TL_STAT_##sym], U64, name, doc),
        TL_STAT_LIVE_COUNTERS(TL_X)
#undef TL_X
#define TL_X(sym, name)                                                                            \
    TL_FIELD(struct stats_rec, st.decode_err[TL_DECODE_##sym], U64, "decode." name,                \
             "packets not decoded: " name),
            TL_DECODE_ERRORS(TL_X)
#undef TL_X
                TL_FIELD_AT("flows.worker_packets", TL_F_U64LIST, 0,
                            (uint16_t)offsetof(struct stats_rec, nworker_pkts),
                            offsetof(struct stats_rec, worker_pkts),
                            "packets processed by each worker"),
    TL_FIELD_AT(
        "capture.worker_drops", TL_F_U64LIST, TL_FF_OPT,
        (uint16_t)offsetof(struct stats_rec, nworker_drops),
        offsetof(struct stats_rec, worker_drops),
        "afpacket: packets the kernel dropped on each worker's sockets (its ring was full)"),
    TL_FIELD_OPT(struct stats_rec, ifaces, RAWJSON, "capture.interfaces",
                 "live, per interface: {\"packets\":N,\"kernel_drops\":N,\"iface_drops\":N,"
                 "\"down\":N} (afpacket: and \"ring_full\":N, times a ring was full)"),
    TL_FIELD_OPT(struct stats_rec, psl_date, CSTR, "domains.psl_date",
                 "date of the public suffix list in use (YYYY-MM-DD)"),
    TL_FIELD_OPT(struct stats_rec, kafka_topics, RAWJSON, "kafka.topics",
                 "per Kafka topic: {\"delivered\":N,\"retried\":N,\"failed\":N}"),
};

_Static_assert((int)TL_DC_N <= (int)TL_DSTAT_N, "stats.h keeps TL_DSTAT_N counters per dissector");

static struct tl_field stats_fields[TL_ARRAY_LEN(stats_fixed_fields) + TL_MAX_DISSECTORS * TL_DC_N];
static char stats_names[TL_MAX_DISSECTORS * TL_DC_N][48];
static struct tl_event_type stats_event = {
    .name = "stats",
    .doc = "counters: at exit, and every stats.interval seconds on a live capture",
    .fields = stats_fields,
};

/* The fixed counters, then "<dissector>.<counter>" for every registered dissector. */
static void pipe_build_stats_event(void)
{
    static const char *const dnames[] = TL_DSTAT_NAMES;
    static const char *const ddocs[TL_DC_N] = {
        "messages parsed",
        "messages flagged malformed",
        "messages flagged truncated",
        "values or items cut by a configured cap",
        "stream gaps seen",
        "flows given up",
        "units that could not be read: TLS records, sealed SASL buffers",
        "bytes of those units",
        "flows given this dissector by a strict look at their content (no port or nDPI named it)",
    };
    size_t n = TL_ARRAY_LEN(stats_fixed_fields), k = 0;

    memcpy(stats_fields, stats_fixed_fields, sizeof(stats_fixed_fields));
    for (size_t i = 0; i < tl_ndissectors && i < TL_MAX_DISSECTORS; i++)
        for (size_t j = 0; j < TL_DC_N; j++, k++, n++) {
            snprintf(stats_names[k], sizeof(stats_names[k]), "%s.%s", tl_dissectors[i]->name,
                     dnames[j]);
            stats_fields[n] = (struct tl_field){
                .name = stats_names[k],
                .type = TL_F_U64,
                .off = offsetof(struct stats_rec, st.dissect) +
                       (i * TL_DSTAT_N + j) * sizeof(uint64_t),
                .doc = ddocs[j],
            };
        }
    stats_event.nfields = n;
}

const struct tl_event_type *tl_stats_event(void)
{
    static pthread_once_t once = PTHREAD_ONCE_INIT;
    pthread_once(&once, pipe_build_stats_event);
    return &stats_event;
}

static uint64_t pipe_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Resident set size from /proc/self/statm (0 where there is none). */
static uint64_t pipe_rss(void)
{
    unsigned long size = 0, resident = 0;
    FILE *f = fopen("/proc/self/statm", "r");
    if (f) {
        if (fscanf(f, "%lu %lu", &size, &resident) != 2)
            resident = 0;
        fclose(f);
    }
    return (uint64_t)resident * (uint64_t)sysconf(_SC_PAGESIZE);
}

static void pipe_stats_total(struct tl_pipeline *p, struct stats_rec *r, bool final)
{
    memset(r, 0, sizeof(*r));
    r->ts = p->now_us;
    r->threads = p->nworkers;
    r->version = TL_VERSION;
    r->schema_version = TL_SCHEMA_VERSION;
    r->uptime = pipe_mono_us() - p->start_us;
    r->rss_bytes = pipe_rss();
    r->st = p->st;
    for (unsigned i = 0; i < p->nworkers; i++) {
        struct tl_worker *w = &p->workers[i];
        struct tl_stats snap;
        pthread_mutex_lock(&w->snap_lock);
        snap = final ? w->st : w->snap;
        pthread_mutex_unlock(&w->snap_lock);
        tl_stats_add(&r->st, &snap);
        if (i < TL_MAX_WORKERS)
            r->worker_pkts[r->nworker_pkts++] = snap.v[TL_STAT_WORKER_PKTS];
    }
    r->nworker_drops = (uint16_t)p->nworker_drops;
    memcpy(r->worker_drops, p->worker_drops, sizeof(r->worker_drops));
    r->st.v[TL_STAT_EVENTS] = atomic_load(&p->out_events);
    r->st.v[TL_STAT_EVENT_BYTES] = atomic_load(&p->out_bytes);
    r->st.v[TL_STAT_OUTPUT_ERRORS] = atomic_load(&p->out_errors);
    struct tl_stats coord;
    tl_coord_stats(p->coord, &coord);
    tl_stats_add(&r->st, &coord);
    r->st.v[TL_STAT_RULES_ACTIVE] = p->rules_sum.rules + p->rules_sum.correlations;
    r->st.v[TL_STAT_RULES_INACTIVE] = p->rules_sum.files_inactive;
    r->st.v[TL_STAT_RULES_REJECTED] = p->rules_sum.files_rejected;
    r->st.v[TL_STAT_RULES_RELOADS] = p->reloads;
    r->st.v[TL_STAT_RULES_RELOAD_FAILED] = p->reload_failures;
    r->psl_date = p->det.domains ? tl_coord_psl_date(p->coord) : NULL;
    r->ifaces = p->ifaces_json;
    tl_output_stats(p->out, &r->st); /* the sinks' own: kafka.*, output.*, their write errors */
    r->kafka_topics = tl_output_kafka_topics(p->out);
}

/* ---- the metrics endpoint ---- */

/* What a scrape reads, refreshed by the capture thread at most every 200 ms (wall clock). */
static void pipe_metrics_refresh(struct tl_pipeline *p, bool force)
{
    if (!p->msnap)
        return;
    uint64_t now = pipe_mono_us();
    if (!force && now < p->metrics_next_us)
        return;
    p->metrics_next_us = now + 200000;
    struct stats_rec r;
    pipe_stats_total(p, &r, force);
    r.kafka_topics = r.ifaces = NULL; /* owned by others: not read off this thread */
    pthread_mutex_lock(&p->metrics_lock);
    *p->msnap = r;
    memcpy(p->mifaces, p->ifaces, sizeof(p->ifaces));
    p->mnifaces = p->nifaces;
    pthread_mutex_unlock(&p->metrics_lock);
}

/* A stats field name as a Prometheus metric name: tapline_capture_packets. */
static void pipe_metric_name(struct tl_buf *out, const char *field, const char *suffix)
{
    tl_buf_puts(out, "tapline_");
    for (const char *c = field; *c; c++)
        tl_buf_putc(out, (*c >= 'a' && *c <= 'z') || (*c >= '0' && *c <= '9') ? *c : '_');
    tl_buf_puts(out, suffix);
}

/* # HELP and # TYPE lines of one metric (help text escaped as the format says). */
static void pipe_metric_head(struct tl_buf *out, const char *field, const char *suffix,
                             const char *help, bool gauge)
{
    tl_buf_puts(out, "# HELP ");
    pipe_metric_name(out, field, suffix);
    tl_buf_putc(out, ' ');
    for (const char *c = help; *c; c++) {
        if (*c == '\\' || *c == '\n')
            tl_buf_putc(out, '\\');
        tl_buf_putc(out, *c == '\n' ? 'n' : *c);
    }
    tl_buf_puts(out, "\n# TYPE ");
    pipe_metric_name(out, field, suffix);
    tl_buf_puts(out, gauge ? " gauge\n" : " counter\n");
}

/* Prometheus label values: \, " and newline escaped. */
static void pipe_label(struct tl_buf *out, const char *v)
{
    for (const char *c = v; *c; c++) {
        if (*c == '\\' || *c == '"' || *c == '\n')
            tl_buf_putc(out, '\\');
        tl_buf_putc(out, *c == '\n' ? 'n' : *c);
    }
}

static void pipe_metric_ifaces(struct tl_buf *out, const struct tl_iface_counters *ifs, int n,
                               bool rings)
{
    static const char *const what[] = { "packets", "kernel_drops", "iface_drops", "down",
                                        "ring_full" };
    static const char *const help[] = { "packets read from the interface",
                                        "packets the kernel dropped on the interface",
                                        "packets the interface dropped",
                                        "times the interface went down",
                                        "times a worker's ring of the interface was full" };
    for (size_t k = 0; k < TL_ARRAY_LEN(what) - !rings && n > 0; k++) {
        char field[48];
        snprintf(field, sizeof(field), "capture.interface.%s", what[k]);
        pipe_metric_head(out, field, "_total", help[k], false);
        for (int i = 0; i < n; i++) {
            const uint64_t v[] = { ifs[i].packets, ifs[i].kernel_drops, ifs[i].iface_drops,
                                   ifs[i].downs, ifs[i].freezes };
            pipe_metric_name(out, field, "_total{interface=\"");
            pipe_label(out, ifs[i].name);
            tl_buf_puts(out, "\"} ");
            tl_json_u64(out, v[k]);
            tl_buf_putc(out, '\n');
        }
    }
}

/* The exposition text of one scrape: every counter of the stats event, per worker and per
 * interface where there are several, and build information. Runs on the server's thread. */
static void pipe_metrics_text(void *arg, struct tl_buf *out)
{
    struct tl_pipeline *p = arg;
    struct stats_rec r;
    struct tl_iface_counters ifs[TL_MAX_IFACES];
    int nifs;

    pthread_mutex_lock(&p->metrics_lock);
    r = *p->msnap;
    memcpy(ifs, p->mifaces, sizeof(ifs));
    nifs = p->mnifaces;
    pthread_mutex_unlock(&p->metrics_lock);

    const struct tl_event_type *t = tl_stats_event();
    for (size_t i = 0; i < t->nfields; i++) {
        const struct tl_field *f = &t->fields[i];
        uint64_t v;
        if (f->type == TL_F_U64 || f->type == TL_F_U32) {
            v = 0;
            memcpy(&v, (const char *)&r + f->off, f->type == TL_F_U64 ? 8 : 4);
            bool gauge = strstr(f->doc, "(a gauge)") || !strcmp(f->name, "threads") ||
                         !strcmp(f->name, "rss_bytes") || !strcmp(f->name, "schema_version");
            pipe_metric_head(out, f->name, gauge ? "" : "_total", f->doc, gauge);
            pipe_metric_name(out, f->name, gauge ? " " : "_total ");
            tl_json_u64(out, v);
            tl_buf_putc(out, '\n');
        } else if (f->type == TL_F_U64LIST) { /* flows.worker_packets, capture.worker_drops */
            uint16_t nw;
            memcpy(&nw, (const char *)&r + f->aux, sizeof(nw));
            if (!nw)
                continue;
            pipe_metric_head(out, f->name, "_total", f->doc, false);
            for (uint16_t w = 0; w < nw; w++) {
                char label[32];
                memcpy(&v, (const char *)&r + f->off + w * sizeof(v), sizeof(v));
                snprintf(label, sizeof(label), "_total{worker=\"%u\"} ", w);
                pipe_metric_name(out, f->name, label);
                tl_json_u64(out, v);
                tl_buf_putc(out, '\n');
            }
        }
    }
    pipe_metric_ifaces(out, ifs, nifs, p->mode == TL_PIPE_SOCKETS);
    pipe_metric_head(out, "uptime", "_seconds", "seconds since tapline started", true);
    pipe_metric_name(out, "uptime", "_seconds ");
    tl_json_dur(out, r.uptime);
    tl_buf_putc(out, '\n');
    pipe_metric_head(out, "build_info", "", "tapline's version, always 1", true);
    tl_buf_puts(out, "tapline_build_info{version=\"" TL_VERSION "\",ndpi=\"");
    pipe_label(out, ndpi_revision());
    tl_buf_puts(out, "\"} 1\n");
}

void tl_pipeline_stats_event(struct tl_pipeline *p, uint64_t now_us)
{
    struct stats_rec r;
    struct tl_buf *b = calloc(1, sizeof(*b));
    if (!b)
        return;
    pipe_stats_total(p, &r, false);
    r.ts = now_us;
    tl_event_json(b, tl_stats_event(), p->cfg->sensor, &r);
    if (!tl_ring_push(&p->main_out, b)) {
        p->st.v[TL_STAT_OUTPUT_ERRORS]++;
        tl_buf_free(b);
        free(b);
    }
    tl_bell_ring(&p->out_bell);
}

void tl_pipeline_finish(struct tl_pipeline *p, struct tl_stats *total)
{
    struct stats_rec r;
    struct tl_buf b = { 0 };

    tl_pipeline_flush(p);
    if (p->mode == TL_PIPE_INLINE) {
        tl_worker_flush_all(&p->workers[0], p->now_us);
        pipe_drain_inline(p, &p->workers[0]);
        goto stats;
    }
    tl_pipeline_stop_source(p);
    for (unsigned i = 0; i < p->nworkers && p->mode != TL_PIPE_SOCKETS; i++) {
        /* the end marker must get through, live or not */
        pipe_send(p, i, pipe_free_batch(p, i, TL_BATCH_END, false));
    }
    for (unsigned i = 0; i < p->nworkers && p->mode != TL_PIPE_SOCKETS; i++)
        pthread_join(p->workers[i].thread, NULL);
    atomic_store_explicit(&p->out_stop, true, memory_order_release);
    tl_bell_ring(&p->out_bell);
    pthread_join(p->out_thread, NULL);
stats:
    tl_coord_finish(p->coord, tl_vtime(p->epoch, p->now_us));
    pipe_write_coord(p);
    tl_output_drain(p->out); /* Kafka deliveries settle, so the final stats count them */
    pipe_stats_total(p, &r, true);
    if (!r.ts) { /* no packet at all: the report is made now */
        struct timespec now;
        clock_gettime(CLOCK_REALTIME, &now);
        r.ts = (uint64_t)now.tv_sec * 1000000u + (uint64_t)now.tv_nsec / 1000u;
    }
    r.st.v[TL_STAT_EVENTS]++; /* this stats event itself */
    tl_event_json(&b, tl_stats_event(), p->cfg->sensor, &r);
    r.st.v[TL_STAT_EVENT_BYTES] += b.len;
    if (tl_output_write(p->out, b.p, b.len) < 0)
        r.st.v[TL_STAT_OUTPUT_ERRORS]++;
    tl_output_flush(p->out);
    tl_buf_free(&b);
    if (total)
        *total = r.st;
}

void tl_pipeline_free(struct tl_pipeline *p)
{
    if (!p)
        return;
    tl_coord_free(p->coord); /* before the workers: what it holds is cut from their pools */
    for (unsigned i = 0; p->workers && i < p->nworkers; i++) {
        struct tl_worker *w = &p->workers[i];
        struct tl_batch *b;
        while ((b = tl_ring_pop(&w->free)))
            free(b);
        while ((b = tl_ring_pop(&w->in)))
            free(b);
        free(p->cur ? p->cur[i] : NULL);
        pipe_stash_free(p->stash ? &p->stash[i] : NULL);
        tl_worker_destroy(w);
    }
    struct tl_buf *b;
    while (p->main_out.slot && (b = tl_ring_pop(&p->main_out))) {
        tl_buf_free(b);
        free(b);
    }
    tl_ring_free(&p->main_out);
    if (p->defrag)
        tl_defrag_free(p->defrag);
    tl_metrics_stop(p->metrics);
    free(p->msnap);
    pthread_mutex_destroy(&p->metrics_lock);
    free(p->ifaces_json);
    for (size_t i = 0; i < p->nretired; i++)
        tl_rules_free(p->retired[i].rules);
    pipe_detect_free(&p->det);
    free(p->workers);
    free(p->cur);
    free(p->stash);
    free(p);
}
