/*
 * coord.c - the coordinator: identity, domain statistics and correlations in
 * packet-time order (see coord.h).
 *
 * Messages wait in a binary min-heap keyed by (order time, the flow key's fixed
 * hash, worker sequence). Two messages of one flow come from one worker in the
 * order it made them; two flows' messages at the same microsecond are ordered
 * by tl_fkey_fixed, which depends neither on the number of workers nor on
 * flows.hash_seed. Past
 * coordinator.max_held the earliest is applied at once (counted).
 *
 * Everything here runs on one thread (the output thread, or the caller in
 * inline mode); only the counters snapshot is shared, under a mutex.
 */
#include <pthread.h>
#include <stdatomic.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "config.h"
#include "coord.h"
#include "privacy.h"

enum { COORD_ARENA_BYTES = 64 * 1024, COORD_MEASURE_US = 1000000 };

struct tl_coord {
    const struct tl_config *cfg;
    struct tl_detect *det;
    struct tl_cmsg **heap;
    size_t nheap, capheap;
    uint64_t released; /* order time up to which everything was applied */
    bool any_released;
    uint32_t epoch; /* of packet time, whose end-of-epoch work is not done yet */
    _Atomic uint64_t epoch_end[TL_VT_EPOCHS]; /* last packet time of each ended epoch */
    struct tl_identity_table *identity;
    struct tl_domstats *domstats;
    struct tl_fleet *fleet;
    struct tl_ruleset *rules; /* taken at each release (tl_detect_rules) */
    _Atomic uint64_t rules_epoch;
    struct tl_corr *corr; /* correlation state of `rules`; a reload starts it afresh */
    struct tl_rules_scratch *scratch;
    struct tl_arena arena; /* pseudonyms of coordinator-written events */
    struct tl_buf *out;    /* lines not yet handed to the output */
    struct tl_stats st;
    pthread_mutex_t snap_lock;
    struct tl_stats snap;
    char psl_date[16];
    uint64_t measured_us; /* when domains.bytes was last measured (coord_mono_us) */
};

/* Where the parts of a tl_cmsg_event_new block start. */
static size_t cmsg_align(size_t n)
{
    return (n + _Alignof(max_align_t) - 1) & ~(_Alignof(max_align_t) - 1);
}

/*
 * A block's refs is HOLD_BIAS while its worker cuts from it, less one for each
 * event freed. Sealing it (the worker moves on) takes away the bias less the
 * events cut, so refs then counts the events still held, and whoever brings
 * it to 0 recycles the block: no atomic operation per event on the worker.
 */
enum {
    HOLD_BLOCK_BYTES = 256 * 1024,
    HOLD_BIG = HOLD_BLOCK_BYTES / 8, /* events larger than this are malloc'd */
    HOLD_SPARE = 64,                 /* emptied blocks a worker keeps: 16 MiB */
    HOLD_BIAS = 1u << 30,
};

struct tl_hold_block {
    _Atomic uint32_t refs;
    struct tl_hold_pool *pool;
    max_align_t data[];
};

#define HOLD_DATA_BYTES (HOLD_BLOCK_BYTES - offsetof(struct tl_hold_block, data))

int tl_hold_pool_init(struct tl_hold_pool *hp)
{
    memset(hp, 0, sizeof(*hp));
    return tl_ring_init(&hp->back, HOLD_SPARE);
}

/* The worker is done cutting from cur: cur if its events are all freed already, else NULL. */
static struct tl_hold_block *hold_seal(struct tl_hold_pool *hp)
{
    struct tl_hold_block *b = hp->cur;
    if (!b)
        return NULL;
    uint32_t drop = HOLD_BIAS - hp->cut;
    hp->cur = NULL;
    hp->cut = 0;
    hp->used = 0;
    return atomic_fetch_sub_explicit(&b->refs, drop, memory_order_acq_rel) == drop ? b : NULL;
}

/* A fresh block to cut from: the sealed one when empty, one sent back, or a new one. */
static struct tl_hold_block *hold_next(struct tl_hold_pool *hp)
{
    struct tl_hold_block *b = hold_seal(hp);
    if (!b)
        b = tl_ring_pop(&hp->back);
    if (!b && !(b = malloc(HOLD_BLOCK_BYTES)))
        return NULL;
    atomic_store_explicit(&b->refs, HOLD_BIAS, memory_order_relaxed);
    b->pool = hp;
    return hp->cur = b;
}

/* n bytes for an event, from hp's current block (*from) or malloc'd (*from NULL). */
static void *hold_cut(struct tl_hold_pool *hp, size_t n, struct tl_hold_block **from)
{
    *from = NULL;
    n = cmsg_align(n);
    if (!hp || n > HOLD_BIG)
        return malloc(n);
    struct tl_hold_block *b = hp->cur;
    if ((!b || hp->used + n > HOLD_DATA_BYTES) && !(b = hold_next(hp)))
        return NULL;
    void *p = (char *)b->data + hp->used;
    hp->used += n;
    hp->cut++;
    *from = b;
    return p;
}

/* An event cut from b is freed: the last one sends b back to its worker. */
static void hold_put(struct tl_hold_block *b)
{
    if (atomic_fetch_sub_explicit(&b->refs, 1, memory_order_acq_rel) != 1)
        return;
    if (!tl_ring_push(&b->pool->back, b))
        free(b); /* the worker has spares enough */
}

void tl_hold_pool_free(struct tl_hold_pool *hp)
{
    if (!hp->back.slot)
        return;
    free(hold_seal(hp)); /* every event cut from it is freed (tl_hold_pool_free's rule) */
    struct tl_hold_block *b;
    while ((b = tl_ring_pop(&hp->back)))
        free(b);
    tl_ring_free(&hp->back);
}

struct tl_cmsg *tl_cmsg_event_new(struct tl_hold_pool *hp, const struct tl_domain_name *nm,
                                  size_t json_len, size_t clone_size)
{
    const char *names[3] = { nm->name, nm->registered, nm->suffix };
    size_t len[3], all = 0;
    for (int i = 0; i < 3; i++)
        all += len[i] = strnlen(names[i], TL_DOMAIN_MAX - 1);
    size_t ev_at = cmsg_align(sizeof(struct tl_cmsg));
    size_t clone_at = cmsg_align(ev_at + sizeof(struct tl_cmsg_event) + json_len + all);
    struct tl_hold_block *from;
    char *p = hold_cut(hp, clone_at + clone_size, &from);
    if (!p)
        return NULL;
    struct tl_cmsg *m = (struct tl_cmsg *)(void *)p;
    memset(m, 0, sizeof(*m));
    m->block = from;
    m->kind = TL_CMSG_EVENT;
    struct tl_cmsg_event *ev = m->u.ev = (struct tl_cmsg_event *)(void *)(p + ev_at);
    ev->json_len = json_len;
    ev->clone = clone_size ? p + clone_at : NULL;
    char *at = ev->json + json_len;
    for (int i = 0; i < 3; i++) {
        ev->len[i] = (uint8_t)len[i];
        memcpy(at, names[i], len[i]);
        at += len[i];
    }
    return m;
}

void tl_cmsg_event_name(const struct tl_cmsg_event *ev, struct tl_domain_name *nm)
{
    char *names[3] = { nm->name, nm->registered, nm->suffix };
    const char *at = ev->json + ev->json_len;
    memset(nm, 0, sizeof(*nm));
    for (int i = 0; i < 3; i++) {
        memcpy(names[i], at, ev->len[i]);
        names[i][ev->len[i]] = '\0';
        at += ev->len[i];
    }
    nm->kind = TL_DOM_COUNTED;
}

void tl_cmsg_free(struct tl_cmsg *m)
{
    if (!m)
        return;
    switch (m->kind) {
    case TL_CMSG_IDENTITY: free(m->u.ident); break;
    case TL_CMSG_EVENT: /* one piece with m (tl_cmsg_event_new) */
        if (m->block) {
            hold_put(m->block);
            return;
        }
        break;
    case TL_CMSG_CORR:
        while (m->u.corr) {
            struct tl_corr_input *next = tl_corr_input_next(m->u.corr);
            tl_corr_input_free(m->u.corr);
            m->u.corr = next;
        }
        break;
    default: break;
    }
    free(m);
}

static struct tl_buf *coord_new_buf(void)
{
    struct tl_buf *b = calloc(1, sizeof(*b));
    if (!b)
        abort(); /* event memory is bounded upstream; out of memory here is fatal */
    return b;
}

struct tl_coord *tl_coord_new(const struct tl_config *cfg, struct tl_detect *det, char *errbuf,
                              size_t n)
{
    struct tl_coord *c = calloc(1, sizeof(*c));
    if (!c) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    c->cfg = cfg;
    c->det = det;
    pthread_mutex_init(&c->snap_lock, NULL);
    c->out = coord_new_buf();
    c->identity = tl_identity_new(cfg->max_identities, cfg->identity_timeout);
    c->scratch = tl_rules_scratch_new();
    c->arena.base = malloc(COORD_ARENA_BYTES);
    c->arena.cap = COORD_ARENA_BYTES;
    if (!c->identity || !c->scratch || !c->arena.base) {
        snprintf(errbuf, n, "out of memory");
        goto fail;
    }
    if (det->domains) {
        snprintf(c->psl_date, sizeof(c->psl_date), "%s", tl_domain_psl_date(det->domains));
        if (cfg->redis_url && !(c->fleet = tl_fleet_open(cfg, errbuf, n)))
            goto fail;
        if (!(c->domstats = tl_domstats_new(cfg, c->fleet, errbuf, n)))
            goto fail;
    }
    c->rules = tl_detect_rules(det, &c->rules_epoch);
    if (c->rules && !(c->corr = tl_corr_new(c->rules, &det->env))) {
        snprintf(errbuf, n, "out of memory for correlation state");
        goto fail;
    }
    return c;
fail:
    tl_coord_free(c);
    return NULL;
}

void tl_coord_free(struct tl_coord *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nheap; i++)
        tl_cmsg_free(c->heap[i]);
    free(c->heap);
    tl_corr_free(c->corr);
    tl_domstats_free(c->domstats);
    tl_fleet_close(c->fleet);
    tl_identity_free(c->identity);
    tl_rules_scratch_free(c->scratch);
    free(c->arena.base);
    if (c->out) {
        tl_buf_free(c->out);
        free(c->out);
    }
    pthread_mutex_destroy(&c->snap_lock);
    free(c);
}

/* ---- the heap ---- */

static bool coord_before(const struct tl_cmsg *a, const struct tl_cmsg *b)
{
    if (a->order_us != b->order_us)
        return a->order_us < b->order_us;
    if (a->flow_order != b->flow_order)
        return a->flow_order < b->flow_order;
    return a->seq < b->seq;
}

static void coord_swap(struct tl_cmsg **h, size_t i, size_t j)
{
    struct tl_cmsg *t = h[i];
    h[i] = h[j];
    h[j] = t;
}

static void coord_push(struct tl_coord *c, struct tl_cmsg *m)
{
    if (c->nheap == c->capheap) {
        size_t cap = c->capheap ? c->capheap * 2 : 1024;
        struct tl_cmsg **h = realloc(c->heap, cap * sizeof(*h));
        if (!h)
            abort(); /* bounded by coordinator.max_held */
        c->heap = h;
        c->capheap = cap;
    }
    size_t i = c->nheap++;
    c->heap[i] = m;
    while (i > 0 && coord_before(c->heap[i], c->heap[(i - 1) / 2])) {
        coord_swap(c->heap, i, (i - 1) / 2);
        i = (i - 1) / 2;
    }
}

static struct tl_cmsg *coord_pop(struct tl_coord *c)
{
    struct tl_cmsg *top = c->heap[0];
    c->heap[0] = c->heap[--c->nheap];
    for (size_t i = 0;;) {
        size_t l = 2 * i + 1, r = l + 1, m = i;
        if (l < c->nheap && coord_before(c->heap[l], c->heap[m]))
            m = l;
        if (r < c->nheap && coord_before(c->heap[r], c->heap[m]))
            m = r;
        if (m == i)
            break;
        coord_swap(c->heap, i, m);
        i = m;
    }
    return top;
}

/* ---- applying messages ---- */

static void coord_identity_changed(struct tl_coord *c, const struct tl_identity *now)
{
    struct tl_identity copy = *now;
    tl_arena_reset(&c->arena);
    tl_privacy_apply(c->det->privacy, &tl_identity_event, &copy, &c->arena);
    tl_event_json(c->out, &tl_identity_event, c->cfg->sensor, &copy);
    c->st.v[TL_STAT_IDENT_CHANGES]++;
}

static void coord_apply_identity(struct tl_coord *c, const struct tl_identity_obs *o)
{
    struct tl_identity now;
    uint64_t capped = 0;
    if (tl_identity_update(c->identity, o, &now, &capped))
        coord_identity_changed(c, &now);
    c->st.v[TL_STAT_IDENT_CAPPED] += capped;
}

static void coord_feed_corr(struct tl_coord *c, struct tl_corr_input *in)
{
    while (in) {
        struct tl_corr_input *next = tl_corr_input_next(in);
        if (c->corr)
            tl_corr_feed(c->corr, in, c->out, c->cfg->sensor);
        else
            tl_corr_input_free(in);
        in = next;
    }
}

static void coord_late_hit(void *arg, const struct tl_rule *r, const struct tl_view *v)
{
    struct tl_coord *c = arg;
    c->st.v[TL_STAT_RULES_MATCHES]++;
    if (tl_rule_alerts(r)) {
        tl_alert_json(c->out, c->cfg->sensor, r, v, c->scratch);
        c->st.v[TL_STAT_ALERTS]++;
    }
    coord_feed_corr(c, tl_corr_inputs(c->rules, r, v, c->scratch));
}

/* A `domain` record from the statistics becomes an event. */
static void coord_domain_event(void *arg, const void *rec)
{
    struct tl_coord *c = arg;
    tl_event_json(c->out, &tl_domain_event, c->cfg->sensor, rec);
}

/* The user working from host at ts, as the domain statistics should record it. */
static const char *coord_user(struct tl_coord *c, const struct tl_ip *host, uint64_t ts,
                              char pseudonym[TL_PSEUDONYM_MAX])
{
    const struct tl_identity *id = tl_identity_lookup(c->identity, host->b, ts);
    if (!id || !id->user[0])
        return NULL;
    if (!tl_privacy_field(c->det->privacy, "domain", "users"))
        return id->user;
    tl_privacy_pseudonym(c->det->privacy, id->user, strlen(id->user), pseudonym);
    return pseudonym;
}

static void coord_apply_event(struct tl_coord *c, struct tl_cmsg_event *ev)
{
    struct tl_domain_name nm;
    struct tl_domain_enrich e;
    char pseudonym[TL_PSEUDONYM_MAX];

    tl_cmsg_event_name(ev, &nm);
    tl_domain_enrich_names(&e, &nm);
    const char *user = coord_user(c, &ev->host, ev->ts_us, pseudonym);
    /* a report due before this use goes out first: it counts as of its interval's end */
    tl_domstats_tick(c->domstats, ev->ts_us, coord_domain_event, c);
    tl_domstats_observe(c->domstats, ev->ts_us, &nm, &ev->host, user, &e);

    tl_buf_put(c->out, ev->json, ev->json_len);
    for (const struct tl_event_type *x = tl_domain_names_fields.ext; x; x = x->ext)
        tl_event_json_more(c->out, x, &e);
    tl_event_json_end(c->out);

    if (c->rules && ev->clone) {
        struct tl_view v = { ev->type, ev->clone, &e };
        c->st.v[TL_STAT_RULES_EVENTS]++;
        tl_rules_match(c->rules, &v, TL_PHASE_LATE, c->scratch, coord_late_hit, c);
    }
}

/* The work due by packet time now_us: reports, snapshots, correlation windows. */
static void coord_due(struct tl_coord *c, uint64_t now_us)
{
    if (c->domstats && now_us) /* 0: no worker has a clock yet */
        tl_domstats_tick(c->domstats, now_us, coord_domain_event, c);
    if (c->corr && now_us)
        tl_corr_tick(c->corr, now_us, c->out, c->cfg->sensor);
}

/* Every epoch before vt's ends at its last packet time, whichever thread got there first. */
static void coord_end_epochs(struct tl_coord *c, uint64_t vt)
{
    for (uint64_t e = vt >> TL_VT_SHIFT; c->epoch < e; c->epoch++)
        coord_due(c, atomic_load_explicit(&c->epoch_end[c->epoch], memory_order_acquire));
}

void tl_coord_epoch_ended(struct tl_coord *c, uint32_t epoch, uint64_t last_us)
{
    if (epoch < TL_VT_EPOCHS)
        atomic_store_explicit(&c->epoch_end[epoch], last_us, memory_order_release);
}

static void coord_apply(struct tl_coord *c, struct tl_cmsg *m)
{
    coord_end_epochs(c, m->order_us);
    switch (m->kind) {
    case TL_CMSG_IDENTITY: coord_apply_identity(c, m->u.ident); break;
    case TL_CMSG_EVENT:
        if (c->domstats)
            coord_apply_event(c, m->u.ev);
        break;
    case TL_CMSG_CORR:
        if (m->rules == c->rules) { /* inputs of a replaced set do not fit the new state */
            coord_feed_corr(c, m->u.corr);
            m->u.corr = NULL; /* taken */
        }
        break;
    default: break;
    }
    tl_cmsg_free(m);
}

void tl_coord_take(struct tl_coord *c, struct tl_cmsg *m)
{
    if (c->any_released && m->order_us < c->released) {
        c->st.v[TL_STAT_COORD_LATE]++;
        coord_apply(c, m);
        return;
    }
    coord_push(c, m);
    if (c->nheap > c->cfg->max_held) {
        struct tl_cmsg *first = coord_pop(c);
        c->st.v[TL_STAT_COORD_CAPPED]++;
        if (!c->any_released || first->order_us > c->released)
            c->released = first->order_us;
        c->any_released = true;
        coord_apply(c, first);
    }
}

/* Wall-clock microseconds (monotonic): how often the domain statistics' memory is walked. */
static uint64_t coord_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* final: the end of the run, where every gauge is measured; else domains.bytes at most once
 * a second (walking every domain after each release was a fifth of a replay's CPU). */
static void coord_snapshot(struct tl_coord *c, bool final)
{
    struct tl_stats st = c->st;
    st.v[TL_STAT_COORD_HELD] = c->nheap;
    st.v[TL_STAT_IDENT_ENTRIES] = tl_identity_count(c->identity);
    if (c->domstats) {
        uint64_t now = coord_mono_us();
        if (final || now - c->measured_us >= COORD_MEASURE_US) {
            tl_domstats_measure(c->domstats);
            c->measured_us = now;
        }
        tl_domstats_counters(c->domstats, &st);
    }
    if (c->fleet)
        tl_fleet_counters(c->fleet, &st);
    if (c->corr)
        tl_corr_counters(c->corr, &st);
    pthread_mutex_lock(&c->snap_lock);
    c->snap = st;
    pthread_mutex_unlock(&c->snap_lock);
}

/* Takes the current rule set; after a reload, correlations start afresh with the new one. */
static void coord_take_rules(struct tl_coord *c)
{
    struct tl_ruleset *rs = tl_detect_rules(c->det, &c->rules_epoch);
    if (rs == c->rules)
        return;
    tl_corr_free(c->corr);
    c->corr = rs ? tl_corr_new(rs, &c->det->env) : NULL;
    c->rules = rs;
}

uint64_t tl_coord_rules_epoch(struct tl_coord *c)
{
    return atomic_load_explicit(&c->rules_epoch, memory_order_acquire);
}

void tl_coord_release(struct tl_coord *c, uint64_t upto)
{
    coord_take_rules(c);
    while (c->nheap && c->heap[0]->order_us <= upto)
        coord_apply(c, coord_pop(c));
    if (!c->any_released || upto > c->released)
        c->released = upto;
    c->any_released = true;
    coord_end_epochs(c, upto);
    coord_due(c, tl_vtime_us(upto));
    coord_snapshot(c, false);
}

void tl_coord_finish(struct tl_coord *c, uint64_t now_vt)
{
    uint64_t now_us = tl_vtime_us(now_vt);
    while (c->nheap)
        coord_apply(c, coord_pop(c));
    coord_end_epochs(c, now_vt);
    if (c->domstats) {
        /* a report boundary the capture crossed is reported at it, whether or not the
         * workers' clocks got the watermark past it before the end (threads race there) */
        tl_domstats_tick(c->domstats, now_us, coord_domain_event, c);
        tl_domstats_finish(c->domstats, now_us, coord_domain_event, c);
    }
    if (c->corr)
        tl_corr_tick(c->corr, UINT64_MAX, c->out, c->cfg->sensor);
    coord_snapshot(c, true);
}

struct tl_buf *tl_coord_output(struct tl_coord *c)
{
    if (c->out->len == 0)
        return NULL;
    struct tl_buf *b = c->out;
    c->out = coord_new_buf();
    return b;
}

void tl_coord_stats(struct tl_coord *c, struct tl_stats *st)
{
    pthread_mutex_lock(&c->snap_lock);
    *st = c->snap;
    pthread_mutex_unlock(&c->snap_lock);
}

const char *tl_coord_psl_date(const struct tl_coord *c)
{
    return c->psl_date;
}
