/*
 * l7.c - application dissection of a worker's flows: attach, feed, flush.
 *
 * UDP datagrams go to the dissector whole. TCP payload goes through
 * reassembly (flows/reasm.c), which delivers each direction's bytes in order;
 * the dissector consumes what it can and the rest waits in pend[] until more
 * arrives, within reassembly.max_per_flow (past it the flow is given up and
 * counted, never buffered without bound). Before a gap and at the flow's end
 * the dissector sees what waits once more with ctx.capture_cut set, so a
 * message cut there is still written (truncated), then it is dropped. A flow
 * given up is flushed first, so the requests that wait are written.
 *
 * Hand-over: when parse() sets ctx.handover, the dissector is done with the
 * stream from where it left each direction. Nothing more is parsed; the bytes
 * that arrive wait in pend[], and after the packet (reassembly is not running
 * then, so its state can move) a new L7 state for the next dissector takes
 * over both directions' reassembly and pend[], and is given what waits, the
 * originator's bytes first.
 */
#include <ndpi/ndpi_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "batch.h"
#include "l7.h"
#include "record.h"
#include "worker.h"

enum { L7_ARENA_BYTES = 256 * 1024 };

/* What emit() needs to turn a record into an event of this flow. */
struct l7_call {
    struct tl_worker *w;
    struct tl_flow *f;
    uint64_t ts_us; /* the packet that delivered the bytes (the flow's last, at its end) */
    bool emitted;   /* a record was written: a message may have ended (l7_rest) */
};

int tl_l7_init(struct tl_worker *w, char *errbuf, size_t n)
{
    struct tl_l7_worker *l = &w->l7;
    const struct tl_config *cfg = w->cfg;

    memset(l, 0, sizeof(*l));
    l->arena.base = malloc(L7_ARENA_BYTES);
    if (!l->arena.base) {
        snprintf(errbuf, n, "worker %d: out of memory", w->id);
        return -1;
    }
    l->arena.cap = L7_ARENA_BYTES;
    l->limits.max_value_len = (uint32_t)cfg->max_value_len;
    l->limits.max_items = (uint32_t)cfg->max_items;
    l->limits.max_pending = (uint32_t)cfg->max_pending;
    l->limits.max_pipeline = (uint32_t)cfg->max_pipeline;
    l->limits.max_body_hash = cfg->max_body_hash;
    l->limits.pending_timeout = cfg->pending_timeout;
    l->limits.body_hash = (uint8_t)tl_body_hash_parse(cfg->hash_bodies);
    l->limits.body_digests = (uint8_t)tl_digests_parse(cfg->hash_algorithms);
    l->reasm.max_per_flow = cfg->max_flow_buffer;
    l->reasm.max_unacked = cfg->max_unacked_hold;
    l->reasm.max_per_worker =
        tl_config_mem_cap(cfg, TL_MEM_REASM, w->nworkers, cfg->max_worker_buffer, 1);
    l->max_state_bytes = tl_config_mem_share(cfg, TL_MEM_DISSECT, w->nworkers);
    for (size_t i = 0; i < tl_ndissectors && i < 32; i++) {
        const struct tl_event_type *ev = tl_dissectors[i]->event;
        l->status_off[i] = SIZE_MAX;
        for (size_t k = 0; ev && k < ev->nfields; k++)
            if (ev->fields[k].type == TL_F_STATUS)
                l->status_off[i] = ev->fields[k].off;
    }
    for (size_t i = 0; i < tl_ndissectors && i < 32; i++) {
        const char *name = tl_dissectors[i]->name;
        const char *list = cfg->protocols ? cfg->protocols : "";
        size_t len = strlen(name);
        for (const char *p = list; (p = strstr(p, name)); p += len)
            if ((p == list || p[-1] == ',' || p[-1] == ' ') &&
                (p[len] == '\0' || p[len] == ',' || p[len] == ' '))
                l->enabled |= 1u << i;
    }
    return 0;
}

/* ---- deadlines: the states flush() may write from, in a min-heap by when ---- */

static void l7_due_put(struct tl_l7_worker *lw, size_t i, struct tl_l7_due e)
{
    lw->due[i] = e;
    e.l->due_at = (uint32_t)i;
}

static void l7_due_sift(struct tl_l7_worker *lw, size_t i)
{
    struct tl_l7_due e = lw->due[i];
    while (i > 0 && lw->due[(i - 1) / 2].us > e.us) {
        l7_due_put(lw, i, lw->due[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= lw->ndue)
            break;
        if (c + 1 < lw->ndue && lw->due[c + 1].us < lw->due[c].us)
            c++;
        if (lw->due[c].us >= e.us)
            break;
        l7_due_put(lw, i, lw->due[c]);
        i = c;
    }
    l7_due_put(lw, i, e);
}

/* l's dissector is asked again at us (0: at the end of this tick). Room was made in l7_state_new.
 */
static void l7_due(struct tl_l7_worker *lw, struct tl_l7 *l, uint64_t us)
{
    size_t i = l->due_at;
    if (i == L7_NOT_DUE)
        i = lw->ndue++;
    lw->due[i] = (struct tl_l7_due){ us, l };
    l7_due_sift(lw, i);
}

static void l7_due_remove(struct tl_l7_worker *lw, struct tl_l7 *l)
{
    size_t i = l->due_at;
    if (i == L7_NOT_DUE)
        return;
    l->due_at = L7_NOT_DUE;
    if (i < --lw->ndue) {
        l7_due_put(lw, i, lw->due[lw->ndue]);
        l7_due_sift(lw, i);
    }
}

/* After a packet, what l's dissector holds may have changed: ask it at the tick. */
static void l7_touched(struct tl_l7_worker *lw, struct tl_l7 *l)
{
    if (l->d->flush && l->state && (l->due_at == L7_NOT_DUE || lw->due[l->due_at].us != 0))
        l7_due(lw, l, 0);
}

/* The worker's list of L7 states, newest first: memory.max_bytes sheds from its tail. */
static void l7_unlink(struct tl_l7_worker *lw, struct tl_l7 *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        lw->head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    else
        lw->tail = l->prev;
    l->prev = l->next = NULL;
}

static void l7_link_newest(struct tl_l7_worker *lw, struct tl_l7 *l)
{
    l->prev = NULL;
    l->next = lw->head;
    if (l->next)
        l->next->prev = l;
    else
        lw->tail = l;
    lw->head = l;
}

static void l7_state_free(struct tl_worker *w, struct tl_flow *f);

static void l7_free(struct tl_worker *w, struct tl_flow *f)
{
    struct tl_l7 *l = f->l7;
    for (int dir = 0; dir < 2; dir++) {
        tl_reasm_free(&l->rs[dir], &w->l7.reasm);
        w->l7.pend_bytes -= l->pend_len[dir];
        free(l->pend[dir]);
    }
    l7_due_remove(&w->l7, l);
    l7_unlink(&w->l7, l);
    w->l7.nstates--;
    l7_state_free(w, f);
    w->l7.state_bytes -= sizeof(*l);
    free(l);
    f->l7 = NULL;
}

void tl_l7_destroy(struct tl_worker *w)
{
    while (w->l7.head)
        l7_free(w, w->l7.head->flow);
    free(w->l7.arena.base);
    w->l7.arena.base = NULL;
    free(w->l7.due);
    w->l7.due = NULL;
}

/* d's index in the registry (tl_ndissectors if it is not there). */
static size_t l7_index(const struct tl_dissector *d)
{
    size_t di = 0;
    while (di < tl_ndissectors && tl_dissectors[di] != d)
        di++;
    return di;
}

/*
 * memory.max_bytes: the oldest states go, each as if its flow had ended (what
 * waits is written), until `need` more bytes fit. Its flow is dissected no more.
 */
static void l7_shed(struct tl_worker *w, size_t need, const struct tl_l7 *keep)
{
    struct tl_l7_worker *lw = &w->l7;
    while (lw->tail && lw->tail != keep && lw->state_bytes + need > lw->max_state_bytes) {
        struct tl_flow *f = lw->tail->flow;
        tl_l7_flow_end(w, f);
        if (f->l7) /* a hand-over left state behind */
            l7_free(w, f);
        f->l7_d = NULL;
        f->l7_done = true;
        w->st.v[TL_STAT_L7_SHED]++;
    }
}

/*
 * Allocates the flow's L7 header for dissector d (reassembly, the place in the
 * worker's lists); the dissector's own state comes with the first byte it is
 * given (l7_state). False (counted) when capped.
 */
static bool l7_state_new(struct tl_worker *w, struct tl_flow *f, const struct tl_dissector *d)
{
    size_t di = l7_index(d);
    size_t need = sizeof(struct tl_l7);
    l7_shed(w, need, NULL);
    if (w->l7.nstates >= w->cfg->max_l7_flows || w->l7.state_bytes + need > w->l7.max_state_bytes) {
        w->st.v[TL_STAT_L7_CAPPED]++;
        f->l7_done = true;
        return false;
    }
    struct tl_l7_worker *lw = &w->l7;
    if (lw->nstates >= lw->capdue) { /* every state may be due at once */
        size_t cap = lw->capdue ? 2 * lw->capdue : 1024;
        struct tl_l7_due *due = realloc(lw->due, cap * sizeof(*due));
        if (due) {
            lw->due = due;
            lw->capdue = cap;
        }
    }
    struct tl_l7 *l = lw->nstates < lw->capdue ? calloc(1, sizeof(*l)) : NULL;
    if (!l) {
        w->st.v[TL_STAT_L7_CAPPED]++;
        f->l7_done = true;
        return false;
    }
    l->d = d;
    l->di = (uint8_t)di;
    l->flow = f;
    l->due_at = L7_NOT_DUE;
    tl_reasm_init(&l->rs[0]);
    tl_reasm_init(&l->rs[1]);
    l7_link_newest(lw, l);
    w->l7.nstates++;
    w->l7.state_bytes += need;
    f->l7 = l;
    return true;
}

static void l7_attach(struct tl_worker *w, struct tl_flow *f, const struct tl_dissector *d)
{
    size_t di = l7_index(d);
    if (di >= tl_ndissectors || !(w->l7.enabled & (1u << di)) || f->l7_done)
        return;
    if (l7_state_new(w, f, d))
        f->l7_d = d;
    f->l7_done = true; /* one dissector per flow, for its life */
}

static unsigned l7_transport(const struct tl_flow *f)
{
    return f->key.proto == TL_IPPROTO_TCP ? TL_TCP : f->key.proto == TL_IPPROTO_UDP ? TL_UDP : 0;
}

void tl_l7_flow_start(struct tl_worker *w, struct tl_flow *f)
{
    unsigned t = l7_transport(f);
    const struct tl_dissector *d = t ? tl_dissector_by_port(t, f->key.pa, f->key.pb) : NULL;
    if (d)
        l7_attach(w, f, d);
}

void tl_l7_ndpi_named(struct tl_worker *w, struct tl_flow *f, uint16_t master, uint16_t app)
{
    unsigned t = l7_transport(f);
    if (f->l7_done || !t || !w->ndpi)
        return;
    uint16_t ids[2] = { master, app };
    for (int i = 0; i < 2; i++) {
        if (ids[i] == NDPI_PROTOCOL_UNKNOWN)
            continue;
        const char *name = ndpi_get_proto_name(w->ndpi, ids[i]);
        for (size_t j = 0; name && j < tl_ndissectors; j++)
            if (strcasecmp(name, tl_dissectors[j]->name) == 0 &&
                (tl_dissectors[j]->transports & t)) {
                l7_attach(w, f, tl_dissectors[j]);
                return;
            }
    }
}

/*
 * Has nDPI named the flow something else than d's protocol? A protocol of d's
 * family (its name begins with d's: DNScrypt, whose certificate queries are
 * DNS) does not count.
 */
static bool l7_ndpi_other(const struct tl_worker *w, const struct tl_flow *f,
                          const struct tl_dissector *d)
{
    uint16_t ids[2] = { f->app_master, f->app_proto };
    bool named = false;
    for (int i = 0; i < 2; i++) {
        if (ids[i] == NDPI_PROTOCOL_UNKNOWN)
            continue;
        const char *name = w->ndpi ? ndpi_get_proto_name(w->ndpi, ids[i]) : NULL;
        if (name && strncasecmp(name, d->name, strlen(d->name)) == 0)
            return false;
        named = true;
    }
    return named;
}

void tl_l7_probe(struct tl_worker *w, struct tl_flow *f, const struct tl_slot *s)
{
    const struct tl_decoded *d = &s->d;
    unsigned t = l7_transport(f);

    if (f->l7_done || f->l7_probed || !t || d->payload_len == 0)
        return;
    f->l7_probed = true; /* the first payload only: what is not DNS there will not become it */
    if (t == TL_TCP && !(f->dir[0].flags & TL_FD_SYN))
        return; /* the stream may have begun before the capture */
    for (size_t i = 0; i < tl_ndissectors && i < 32; i++) {
        const struct tl_dissector *dd = tl_dissectors[i];
        if (dd->probe && (dd->transports & t) && (w->l7.enabled & (1u << i)) &&
            !l7_ndpi_other(w, f, dd) &&
            dd->probe(t, tl_slot_bytes(s) + d->payload_off, d->payload_len)) {
            w->st.dissect[i][TL_DC_BY_CONTENT]++;
            l7_attach(w, f, dd);
            return;
        }
    }
}

/* Passes what a record says about who works from an address to the coordinator. */
static void l7_identity(struct tl_worker *w, const struct tl_flow *f, const struct tl_dissector *d,
                        const void *record, uint64_t order_us)
{
    struct tl_identity_obs *o = malloc(sizeof(*o));
    if (!o || !d->identity(record, o)) {
        free(o);
        return;
    }
    w->st.v[TL_STAT_IDENT_OBS]++;
    struct tl_cmsg *m = calloc(1, sizeof(*m));
    if (!m) {
        w->st.v[TL_STAT_IDENT_DROPPED]++;
        free(o);
        return;
    }
    m->kind = TL_CMSG_IDENTITY;
    m->order_us = order_us;
    m->u.ident = o;
    tl_worker_send(w, f, m);
}

/*
 * The flow's `service` (as Zeek's conn.log has it) is the dissector that
 * wrote a record it could read: one not flagged malformed. A flow on a
 * dissector's port that carries something else gets none.
 */
static void l7_service(struct tl_worker *w, struct tl_flow *f, const void *record)
{
    const struct tl_l7 *l = f->l7;
    size_t off = l->di < 32 ? w->l7.status_off[l->di] : SIZE_MAX;
    if (f->service || (off != SIZE_MAX && ((const uint8_t *)record)[off] == TL_MSG_MALFORMED))
        return;
    f->service = (uint8_t)(l->di + 1);
}

static void l7_emit(struct tl_parse_ctx *ctx, void *record, uint64_t ts_us)
{
    struct l7_call *c = ctx->emit_arg;
    struct tl_flow_ids *ids = record;
    const struct tl_dissector *d = c->f->l7->d;
    struct tl_str none = { "", 0 };

    c->emitted = true;
    l7_service(c->w, c->f, record);
    tl_flow_ids_fill(ids, c->f, (uint16_t)c->w->cfg->cid_seed);
    ids->ts = ts_us;
    /* Sightings first: what is written may carry pseudonyms, the identity table never does. */
    if (d->identity)
        l7_identity(c->w, c->f, d, record, tl_worker_order(c->w, ts_us));
    tl_worker_emit(c->w, c->f, d->event, record, d->record_size,
                   d->domain ? d->domain(record) : none);
}

/* ctx->resize: what a dissector's state grows beside itself, counted in the state bytes. */
static void *l7_resize(struct tl_parse_ctx *ctx, void *p, size_t old, size_t n)
{
    struct l7_call *c = ctx->emit_arg;
    struct tl_l7_worker *lw = &c->w->l7;
    if (n == 0) {
        free(p);
        lw->state_bytes -= old;
        return NULL;
    }
    if (n > old && lw->state_bytes + (n - old) > lw->max_state_bytes)
        return NULL;
    void *q = realloc(p, n);
    if (q)
        lw->state_bytes = lw->state_bytes - old + n;
    return q;
}

static struct tl_parse_ctx l7_ctx(struct l7_call *c, int dir, uint64_t ts_us)
{
    struct tl_l7 *l = c->f->l7;
    struct tl_parse_ctx ctx = { 0 };
    ctx.transport = (uint8_t)l7_transport(c->f);
    ctx.dir = (uint8_t)dir;
    ctx.ts_us = ts_us;
    ctx.state = l->state;
    ctx.arena = &c->w->l7.arena;
    ctx.counters = c->w->st.dissect[l->di];
    ctx.limits = &c->w->l7.limits;
    ctx.emit = l7_emit;
    ctx.emit_arg = c;
    ctx.resize = l7_resize;
    return ctx;
}

/* Frees the flow's dissector state and what it holds; the header stays. */
static void l7_state_free(struct tl_worker *w, struct tl_flow *f)
{
    struct tl_l7 *l = f->l7;
    if (!l->state)
        return;
    if (l->d->state_free) {
        struct l7_call c = { .w = w, .f = f, .ts_us = f->last_us };
        struct tl_parse_ctx ctx = l7_ctx(&c, 0, f->last_us);
        l->d->state_free(&ctx);
    }
    free(l->state);
    l->state = NULL;
    w->l7.state_bytes -= l->d->state_size;
}

static void l7_give_up(struct tl_worker *w, struct tl_l7 *l)
{
    l->gave_up = true;
    w->st.dissect[l->di][TL_DC_GIVEUP]++;
}

/*
 * The dissector's state, made when it is first given something: most TCP
 * flows to a dissector's port that never carry a byte (scans, refused
 * connections) cost a header, not an HTTP state. Older states are
 * shed to make room (memory.max_bytes), never this one; false (counted, the
 * flow given up) when there is none.
 */
static bool l7_state(struct tl_worker *w, struct tl_l7 *l)
{
    struct tl_l7_worker *lw = &w->l7;
    if (l->state)
        return true;
    l7_unlink(lw, l); /* its age is its state's */
    l7_link_newest(lw, l);
    size_t cost = l->d->state_size;
    l7_shed(w, cost, l);
    if (lw->state_bytes + cost > lw->max_state_bytes || !(l->state = calloc(1, l->d->state_size))) {
        w->st.v[TL_STAT_L7_CAPPED]++;
        l7_give_up(w, l);
        return false;
    }
    lw->state_bytes += cost;
    if (l->resting) {
        l->d->resume(l->state, l->kept);
        l->resting = false;
    }
    return true;
}

/*
 * TCP between messages: the state goes, what it remembers waits in the header
 * (d->rest). Asked only when a record was written, which is when a message ends.
 */
static void l7_rest(struct tl_worker *w, struct tl_l7 *l)
{
    if (!l->state || !l->d->rest || l->flow->key.proto != TL_IPPROTO_TCP || l->pend_len[0] ||
        l->pend_len[1] || !l->d->rest(l->state, l->kept))
        return;
    l7_due_remove(&w->l7, l); /* nothing waits to be written */
    l7_state_free(w, l->flow);
    l->resting = true;
}

/*
 * Runs the dissector over in-order stream bytes; returns how many it consumed.
 * cut: nothing follows these bytes (a gap, or the flow's end), so the dissector
 * may read a partial message from them (ctx.capture_cut, as for a UDP datagram
 * the capture cut short).
 */
static size_t l7_parse_stream(struct l7_call *c, int dir, const uint8_t *p, size_t n, bool cut)
{
    struct tl_l7 *l = c->f->l7;
    if (!l7_state(c->w, l))
        return n;
    struct tl_parse_ctx ctx = l7_ctx(c, dir, c->ts_us);
    struct tl_cursor in = tl_cur_make(p, n);

    ctx.capture_cut = cut;
    while (!l->gave_up && !l->handover && tl_cur_left(&in) > 0) {
        size_t before = tl_cur_left(&in);
        enum tl_parse r = l->d->parse(&ctx, &in);
        if (r == TL_PARSE_GIVEUP)
            l7_give_up(c->w, l);
        l->handover = ctx.handover;
        if (r != TL_PARSE_OK || tl_cur_left(&in) >= before)
            break;
    }
    return l->gave_up ? n : n - tl_cur_left(&in);
}

/* Keeps unconsumed bytes for the next delivery, within reassembly's caps. */
static void l7_keep(struct l7_call *c, int dir, const uint8_t *p, size_t n)
{
    struct tl_l7 *l = c->f->l7;
    struct tl_l7_worker *lw = &c->w->l7;
    size_t old = l->pend_len[dir];

    if (n == old && p == l->pend[dir])
        return;
    if (n > lw->reasm.max_per_flow || lw->pend_bytes - old + n > lw->reasm.max_per_worker) {
        c->w->st.dissect[l->di][TL_DC_CAPPED]++;
        l7_give_up(c->w, l);
        n = 0;
    }
    uint8_t *buf = n ? malloc(n) : NULL;
    if (n && !buf) {
        l7_give_up(c->w, l);
        n = 0;
    }
    if (n)
        memcpy(buf, p, n);
    free(l->pend[dir]);
    l->pend[dir] = buf;
    l->pend_len[dir] = (uint32_t)n;
    lw->pend_bytes = lw->pend_bytes - old + n;
}

static void l7_stream_data(void *arg, int dir, const uint8_t *p, size_t n)
{
    struct l7_call *c = arg;
    struct tl_l7 *l = c->f->l7;

    if (l->gave_up || n == 0)
        return;
    if (l->pend_len[dir] == 0) {
        size_t used = l7_parse_stream(c, dir, p, n, false);
        if (!l->gave_up && used < n)
            l7_keep(c, dir, p + used, n - used);
        return;
    }
    size_t total = (size_t)l->pend_len[dir] + n;
    uint8_t *joined = malloc(total);
    if (!joined) {
        l7_give_up(c->w, l);
        return;
    }
    memcpy(joined, l->pend[dir], l->pend_len[dir]);
    memcpy(joined + l->pend_len[dir], p, n);
    size_t used = l7_parse_stream(c, dir, joined, total, false);
    if (!l->gave_up)
        l7_keep(c, dir, joined + used, total - used);
    free(joined);
}

/* The stream of dir stops after what is kept: what the dissector reads of it as a partial
 * message is its last word, the rest is dropped (bytes before a hole complete nothing).
 * Bytes kept for the next dissector of a hand-over stay for it. */
static void l7_stream_cut(struct l7_call *c, int dir)
{
    struct tl_l7 *l = c->f->l7;

    if (l->handover)
        return;
    if (!l->gave_up && l->pend_len[dir] > 0)
        l7_parse_stream(c, dir, l->pend[dir], l->pend_len[dir], true);
    l7_keep(c, dir, NULL, 0);
}

static void l7_stream_gap(void *arg, int dir, uint64_t n)
{
    struct l7_call *c = arg;
    struct tl_l7 *l = c->f->l7;

    if (l->gave_up)
        return;
    c->w->st.dissect[l->di][TL_DC_GAPS]++;
    if (l->handover) { /* the next dissector would begin with a hole */
        l7_give_up(c->w, l);
        return;
    }
    l7_stream_cut(c, dir);
    if (l->gave_up)
        return;
    if (l->d->gap) {
        if (!l7_state(c->w, l))
            return;
        struct tl_parse_ctx ctx = l7_ctx(c, dir, c->ts_us);
        l->d->gap(&ctx, n);
    } else {
        l7_give_up(c->w, l);
    }
}

/* The dissector writes what still waits (the flow's end, or it gave up). */
static void l7_flush_all(struct l7_call *c)
{
    struct tl_l7 *l = c->f->l7;
    if (l->d->flush && l->state) { /* no state: it was given nothing, nothing waits */
        struct tl_parse_ctx ctx = l7_ctx(c, 0, c->ts_us);
        l->d->flush(&ctx, UINT64_MAX);
    }
}

/* Gives the dissector the bytes waiting in pend[dir], as if they had just arrived. */
static void l7_replay(struct l7_call *c, int dir)
{
    struct tl_l7 *l = c->f->l7;
    uint8_t *p = l->pend[dir];
    uint32_t n = l->pend_len[dir];
    if (!n)
        return;
    l->pend[dir] = NULL;
    l->pend_len[dir] = 0;
    c->w->l7.pend_bytes -= n;
    l7_stream_data(c, dir, p, n);
    free(p);
}

/*
 * The dissector asked to hand the flow over: the old one writes what waits,
 * the next one (if enabled) gets a fresh state with the reassembly and the
 * waiting bytes of both directions. Not enabled, or no memory: the flow is
 * dissected no more.
 */
static void l7_switch(struct l7_call *c)
{
    struct tl_worker *w = c->w;
    struct tl_flow *f = c->f;
    struct tl_l7 *l = f->l7;
    const struct tl_dissector *d = l->handover;
    size_t di = l7_index(d);

    l7_flush_all(c);
    if (!(di < tl_ndissectors && (w->l7.enabled & (1u << di)))) {
        l7_free(w, f);
        f->l7_d = NULL;
        return;
    }
    /* The header stays (reassembly, pend[], list links, deadline); the old dissector's state
     * goes, the next one's comes with the bytes replayed to it. */
    l7_state_free(w, f);
    l->resting = false; /* a defence: parse() asks for a hand-over, so the state was resumed */
    l->d = d;
    l->di = (uint8_t)di;
    l->handover = NULL;
    f->l7_d = d;
    for (int dir = 0; dir < 2 && !l->gave_up; dir++)
        l7_replay(c, dir);
}

/*
 * After a packet: a hand-over happens (a few in a row at most), state given
 * up is flushed and freed for good, idle UDP state freed until the next
 * datagram, TCP state between messages rests (l7_rest); state that stays is
 * asked at the tick what it will write when.
 */
static void l7_after_packet(struct l7_call *c)
{
    struct tl_flow *f = c->f;
    for (int hops = 0; f->l7 && f->l7->handover && !f->l7->gave_up && hops < 4; hops++)
        l7_switch(c);
    struct tl_l7 *l = f->l7;
    if (!l)
        return;
    if (l->gave_up || l->handover) {
        l7_flush_all(c);
        l7_free(c->w, f);
        f->l7_d = NULL;
    } else if (f->key.proto == TL_IPPROTO_UDP &&
               (!l->state || (l->d->idle && l->d->idle(l->state)))) {
        l7_free(c->w, f);
    } else {
        if (c->emitted)
            l7_rest(c->w, l);
        l7_touched(&c->w->l7, l);
    }
}

/* Can no byte come any more, either way: both directions done to their FIN, or reset? */
static bool l7_stream_over(const struct tl_l7 *l)
{
    return tl_reasm_reset(&l->rs[0]) || tl_reasm_reset(&l->rs[1]) ||
           (tl_reasm_ended(&l->rs[0]) && tl_reasm_ended(&l->rs[1]));
}

void tl_l7_packet(struct tl_worker *w, struct tl_flow *f, const struct tl_slot *s, int dir)
{
    const struct tl_decoded *d = &s->d;
    struct l7_call c = { .w = w, .f = f, .ts_us = d->ts_us };

    if (!f->l7 && (d->payload_len == 0 || !l7_state_new(w, f, f->l7_d)))
        return;
    struct tl_l7 *l = f->l7;
    tl_arena_reset(&w->l7.arena);
    if (f->key.proto == TL_IPPROTO_UDP) {
        if (d->payload_len && l7_state(w, l)) {
            struct tl_parse_ctx ctx = l7_ctx(&c, dir, d->ts_us);
            struct tl_cursor in = tl_cur_make(tl_slot_bytes(s) + d->payload_off, d->payload_len);
            ctx.capture_cut = d->payload_len < d->payload_wire;
            if (l->d->parse(&ctx, &in) == TL_PARSE_GIVEUP)
                l7_give_up(w, l);
        }
        l7_after_packet(&c);
        return;
    }
    struct tl_reasm_sink sink = { l7_stream_data, l7_stream_gap, &c };
    struct tl_reasm_seg seg = {
        .seq = d->seq,
        .flags = d->tcp_flags,
        .p = tl_slot_bytes(s) + d->payload_off,
        .len = d->payload_len,
        .wire = d->payload_wire,
    };
    tl_reasm_segment(&l->rs[dir], dir, &seg, &sink, &w->l7.reasm);
    if ((d->tcp_flags & TL_TH_ACK) && !l->gave_up)
        tl_reasm_ack(&l->rs[!dir], !dir, d->ack, &sink, &w->l7.reasm);
    l7_after_packet(&c);
    if (f->l7 && l7_stream_over(f->l7)) {
        tl_l7_flow_end(w, f); /* the flow lingers (flows.tcp_close_linger); its dissector not */
        f->l7_d = NULL;
    }
}

void tl_l7_flow_end(struct tl_worker *w, struct tl_flow *f)
{
    struct tl_l7 *l = f->l7;
    struct l7_call c = { .w = w, .f = f, .ts_us = f->last_us };

    if (!l)
        return;
    tl_arena_reset(&w->l7.arena);
    if (f->key.proto == TL_IPPROTO_TCP && !l->gave_up) {
        struct tl_reasm_sink sink = { l7_stream_data, l7_stream_gap, &c };
        for (int dir = 0; dir < 2; dir++)
            tl_reasm_flush(&l->rs[dir], dir, &sink, &w->l7.reasm);
    }
    for (int hops = 0; f->l7 && f->l7->handover && !f->l7->gave_up && hops < 4; hops++)
        l7_switch(&c);
    if (!f->l7)
        return;
    if (f->key.proto == TL_IPPROTO_TCP)
        for (int dir = 0; dir < 2; dir++)
            l7_stream_cut(&c, dir);
    l7_flush_all(&c);
    l7_free(w, f);
}

/*
 * What waits too long is written alone: each dissector whose time has come (or
 * that had packets since the last tick) writes what is due and says when it
 * will next have something, if ever; the others are not asked.
 */
void tl_l7_expire(struct tl_worker *w, uint64_t now_us)
{
    struct tl_l7_worker *lw = &w->l7;
    while (lw->ndue && lw->due[0].us <= now_us) {
        struct tl_l7 *l = lw->due[0].l;
        struct l7_call c = { .w = w, .f = l->flow, .ts_us = now_us };
        struct tl_parse_ctx ctx = l7_ctx(&c, 0, now_us);
        tl_arena_reset(&lw->arena);
        uint64_t next = l->state ? l->d->flush(&ctx, now_us) : UINT64_MAX;
        if (next == UINT64_MAX) {
            l7_due_remove(lw, l);
            if (c.emitted)
                l7_rest(w, l);
        } else
            l7_due(lw, l, next > now_us ? next : now_us + 1);
    }
}

void tl_l7_stats(struct tl_worker *w)
{
    const struct tl_reasm_stats *r = &w->l7.reasm.st;
    uint64_t *v = w->st.v;
    v[TL_STAT_REASM_SEGMENTS] = r->segments;
    v[TL_STAT_REASM_OOO] = r->out_of_order;
    v[TL_STAT_REASM_RETX] = r->retransmitted;
    v[TL_STAT_REASM_CONFLICTS] = r->overlap_conflicts;
    v[TL_STAT_REASM_GAPS] = r->gaps;
    v[TL_STAT_REASM_GAP_BYTES] = r->gap_bytes;
    v[TL_STAT_REASM_WINDOW] = r->out_of_window;
    v[TL_STAT_REASM_FLOW_CAPPED] = r->flow_capped;
    v[TL_STAT_REASM_UNACKED_CAPPED] = r->unacked_capped;
    v[TL_STAT_REASM_WORKER_CAPPED] = r->worker_capped;
    v[TL_STAT_REASM_HELD] = w->l7.reasm.used + w->l7.pend_bytes;
    v[TL_STAT_L7_STATES] = w->l7.nstates;
}
