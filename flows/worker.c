/*
 * worker.c - a worker owns its flows: lookup, TCP state, nDPI, timeouts, records.
 *
 * Time is packet time. A flow whose timeout has passed when its next packet
 * arrives is ended before that packet starts a new one, so the records do not
 * depend on when the periodic scan happens to run, nor on the number of workers.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <ndpi/ndpi_api.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "defrag.h"
#include "dissect.h"
#include "record.h"
#include "tls.h"
#include "worker.h"

enum {
    WORKER_OUT_RING = 64,                      /* chunks in flight to the output thread: 4 MiB */
    WORKER_COORD_RING = 4096,                  /* messages in flight to the coordinator */
    WORKER_RING_EVERY = WORKER_COORD_RING / 8, /* messages that wake the output thread */
    WORKER_FREE_EVERY = 16,                    /* batches given back that wake the dispatcher */
};

/*
 * A flow's nDPI state and what the worker notes beside it for the tls event,
 * in one allocation: f->ndpi points at `flow`, so ndpi_free_flow() frees both.
 */
struct worker_ndpi {
    struct ndpi_flow_struct flow;
    struct tl_tls_seen tls;
};

static struct worker_ndpi *worker_ndpi_state(const struct tl_flow *f)
{
    return (struct worker_ndpi *)(void *)f->ndpi;
}

/* A chunk for events: one the output thread gave back, or a new one. */
static struct tl_buf *worker_new_buf(struct tl_worker *w)
{
    struct tl_buf *b = tl_ring_pop(&w->spare);
    if (b)
        return b;
    b = calloc(1, sizeof(*b));
    if (!b)
        abort();
    tl_buf_reserve(b, TL_WORKER_CHUNK_BYTES);
    return b;
}

bool tl_worker_give_back(struct tl_worker *w, struct tl_buf *b)
{
    if (b->cap != TL_WORKER_CHUNK_BYTES) /* grown for a large event: not kept */
        return false;
    b->len = 0;
    return tl_ring_push(&w->spare, b);
}

int tl_worker_init(struct tl_worker *w, int id, unsigned nworkers, const struct tl_config *cfg,
                   const struct tl_netlist *home, struct tl_detect *det, char *errbuf, size_t n)
{
    memset(w, 0, sizeof(*w));
    w->id = id;
    w->nworkers = nworkers;
    w->cfg = cfg;
    w->home = home;
    w->det = det;
    w->tick_us = TL_TICK_OFFLINE_US;
    pthread_mutex_init(&w->snap_lock, NULL);
    if (tl_ring_init(&w->in, cfg->ring_batches) < 0 ||
        tl_ring_init(&w->free, cfg->ring_batches) < 0 ||
        tl_ring_init(&w->out, WORKER_OUT_RING) < 0 ||
        tl_ring_init(&w->spare, WORKER_OUT_RING) < 0 ||
        tl_ring_init(&w->coord, WORKER_COORD_RING) < 0 || tl_hold_pool_init(&w->hold) < 0 ||
        !(w->rscratch = tl_rules_scratch_new()) ||
        tl_ftable_init(&w->flows, tl_config_mem_cap(cfg, TL_MEM_FLOWS, nworkers, cfg->max_flows,
                                                    TL_FLOW_BUDGET_BYTES)) < 0) {
        snprintf(errbuf, n, "worker %d: out of memory", id);
        return -1;
    }
    if (cfg->ndpi) {
        w->ndpi = ndpi_init_detection_module(ndpi_no_prefs);
        if (!w->ndpi) {
            snprintf(errbuf, n, "worker %d: nDPI initialisation failed", id);
            return -1;
        }
        NDPI_PROTOCOL_BITMASK all;
        NDPI_BITMASK_SET_ALL(all);
        ndpi_set_protocol_detection_bitmask2(w->ndpi, &all);
        ndpi_finalize_initialization(w->ndpi);
        w->ndpi_scratch = calloc(1, SIZEOF_FLOW_STRUCT);
        if (!w->ndpi_scratch) {
            snprintf(errbuf, n, "worker %d: out of memory", id);
            return -1;
        }
    }
    if (tl_l7_init(w, errbuf, n) < 0)
        return -1;
    w->events = worker_new_buf(w);
    return 0;
}

static void worker_live_destroy(struct tl_worker *w);

void tl_worker_destroy(struct tl_worker *w)
{
    worker_live_destroy(w);
    struct tl_buf *b;
    while ((w->out.slot && (b = tl_ring_pop(&w->out))) ||
           (w->spare.slot && (b = tl_ring_pop(&w->spare)))) {
        tl_buf_free(b);
        free(b);
    }
    struct tl_cmsg *m;
    while (w->coord.slot && (m = tl_ring_pop(&w->coord)))
        tl_cmsg_free(m);
    tl_hold_pool_free(&w->hold); /* the coordinator has freed what it held (tl_pipeline_free) */
    tl_rules_scratch_free(w->rscratch);
    tl_buf_free(&w->held);
    if (w->events) {
        tl_buf_free(w->events);
        free(w->events);
    }
    tl_l7_destroy(w);
    /* Flows still holding nDPI state (only after an abnormal stop). */
    for (int c = 0; c < TL_TC_N; c++)
        for (struct tl_flow *f = w->flows.head[c]; f; f = f->next)
            if (f->ndpi)
                ndpi_free_flow(f->ndpi);
    free(w->ndpi_scratch);
    if (w->ndpi)
        ndpi_exit_detection_module(w->ndpi);
    tl_ftable_free(&w->flows);
    tl_ring_free(&w->in);
    tl_ring_free(&w->free);
    tl_ring_free(&w->out);
    tl_ring_free(&w->spare);
    tl_ring_free(&w->coord);
    pthread_mutex_destroy(&w->snap_lock);
}

void tl_worker_ship_events(struct tl_worker *w)
{
    if (w->events->len == 0)
        return;
    tl_worker_push(w, &w->out, w->events);
    w->events = worker_new_buf(w);
    w->wake_output = true;
}

void tl_worker_push(struct tl_worker *w, struct tl_ring *r, void *item)
{
    unsigned spins = 0;
    while (!tl_ring_push(r, item)) {
        tl_bell_ring(w->output_bell); /* it may be asleep with our ring full */
        tl_bell_wait(&w->room, &spins, tl_ring_full, r, 100);
    }
}

static uint64_t worker_timeout(const struct tl_worker *w, enum tl_tclass c)
{
    switch (c) {
    case TL_TC_TCP_SYN: return w->cfg->tcp_syn;
    case TL_TC_TCP_EST: return w->cfg->tcp_idle;
    case TL_TC_CLOSED: return w->cfg->tcp_linger;
    case TL_TC_UDP: return w->cfg->udp_idle;
    case TL_TC_ICMP: return w->cfg->icmp_idle;
    default: return w->cfg->other_idle;
    }
}

static bool worker_expired(const struct tl_worker *w, const struct tl_flow *f, uint64_t now)
{
    return now > f->last_us && now - f->last_us > worker_timeout(w, f->tclass);
}

static enum tl_end_reason worker_close_reason(const struct tl_flow *f)
{
    if (f->tclass != TL_TC_CLOSED)
        return TL_END_IDLE;
    return ((f->dir[0].flags | f->dir[1].flags) & TL_FD_RST) ? TL_END_RST : TL_END_FIN;
}

/* Ends nDPI's work on f: asks for its best guess if it had not decided, then frees its state. */
/*
 * A flow that never carried payload never got nDPI state; like nDPI's own
 * give-up, name it by its ports and addresses (a scanned port 53 is "DNS").
 */
static void worker_ndpi_guess(struct tl_worker *w, struct tl_flow *f)
{
    const struct tl_fkey *k = &f->key;
    const uint8_t *o = f->orig_is_a ? k->a : k->b, *r = f->orig_is_a ? k->b : k->a;
    uint16_t op = f->orig_is_a ? k->pa : k->pb, rp = f->orig_is_a ? k->pb : k->pa;
    uint32_t oh = 0, rh = 0;

    if (f->ipv == 4) {
        memcpy(&oh, o + 12, 4);
        memcpy(&rh, r + 12, 4);
    }
    memset(w->ndpi_scratch, 0, SIZEOF_FLOW_STRUCT);
    ndpi_protocol p = ndpi_guess_undetected_protocol(w->ndpi, w->ndpi_scratch, k->proto, ntohl(oh),
                                                     op, ntohl(rh), rp);
    f->app_master = p.master_protocol;
    f->app_proto = p.app_protocol;
    f->app_category = (uint16_t)p.category;
    ndpi_free_flow_data(w->ndpi_scratch);
}

/* The flow's tls event, while nDPI's state is still there (a TLS-family flow with a hello). */
static void worker_tls(struct tl_worker *w, struct tl_flow *f)
{
    struct worker_ndpi *n = worker_ndpi_state(f);
    struct tl_tls_rec r;

    tl_arena_reset(&w->l7.arena);
    if (!tl_tls_fill(&r, &n->flow, &n->tls, &w->l7.limits, &w->l7.arena))
        return;
    tl_flow_ids_fill(&r.ids, f, (uint16_t)w->cfg->cid_seed);
    w->st.v[TL_STAT_TLS_EVENTS]++;
    w->st.v[TL_STAT_TLS_CAPPED] += r.ncapped;
    tl_worker_emit(w, f, &tl_tls_event, &r, sizeof(r), r.server_name); /* SNI: a domain's use */
}

static void worker_ndpi_finish(struct tl_worker *w, struct tl_flow *f)
{
    if (!f->ndpi) {
        if (w->ndpi && !f->ndpi_done)
            worker_ndpi_guess(w, f);
        f->ndpi_done = true;
        return;
    }
    worker_tls(w, f);
    if (f->app_master == NDPI_PROTOCOL_UNKNOWN && f->app_proto == NDPI_PROTOCOL_UNKNOWN) {
        uint8_t guessed = 0;
        ndpi_protocol p = ndpi_detection_giveup(w->ndpi, f->ndpi, 1, &guessed);
        f->app_master = p.master_protocol;
        f->app_proto = p.app_protocol;
        f->app_category = (uint16_t)p.category;
        w->st.v[TL_STAT_NDPI_GIVEUP]++;
    } else {
        w->st.v[TL_STAT_NDPI_CLASSIFIED]++;
    }
    f->app_risk = (uint64_t)f->ndpi->risk;
    ndpi_free_flow(f->ndpi);
    f->ndpi = NULL;
    f->ndpi_done = true;
    w->st.v[TL_STAT_NDPI_HELD]--;
}

/* Notes for the tls event what nDPI 4.2 does not keep (the chosen ALPN, the QUIC version). */
static void worker_tls_seen(struct tl_flow *f, const struct tl_decoded *d, const uint8_t *bytes,
                            int dir)
{
    struct tl_tls_seen *seen = &worker_ndpi_state(f)->tls;
    const uint8_t *p = bytes + d->payload_off;

    if (d->payload_len == 0)
        return;
    if (dir == 1 && f->key.proto == TL_IPPROTO_TCP)
        tl_tls_server_data(seen, p, d->payload_len);
    else if (dir == 0 && f->key.proto == TL_IPPROTO_UDP)
        tl_tls_quic_data(seen, p, d->payload_len);
}

static void worker_classify(struct tl_worker *w, struct tl_flow *f, const struct tl_decoded *d,
                            const uint8_t *bytes, uint32_t len, int dir)
{
    if (f->ndpi_done)
        return;
    if (!w->ndpi) {
        f->ndpi_done = true;
        return;
    }
    if (!f->ndpi) {
        /* Until a flow carries payload there is nothing to classify, and a
         * scanned port or an unanswered SYN should cost only the flow record. */
        if (d->payload_len == 0)
            return;
        struct worker_ndpi *n = ndpi_flow_malloc(sizeof(*n));
        if (!n) {
            f->ndpi_done = true;
            return;
        }
        memset(n, 0, sizeof(*n));
        f->ndpi = &n->flow;
        w->st.v[TL_STAT_NDPI_HELD]++;
    }
    worker_tls_seen(f, d, bytes, dir);
    uint32_t ip_caplen = len > d->l3_off ? len - d->l3_off : 0;
    if (ip_caplen > d->ip_len)
        ip_caplen = d->ip_len;
    ndpi_protocol p = ndpi_detection_process_packet(w->ndpi, f->ndpi, bytes + d->l3_off,
                                                    (unsigned short)ip_caplen, d->ts_us / 1000);
    f->ndpi_pkts++;
    if (p.app_protocol != NDPI_PROTOCOL_UNKNOWN || p.master_protocol != NDPI_PROTOCOL_UNKNOWN) {
        f->app_master = p.master_protocol;
        f->app_proto = p.app_protocol;
        f->app_category = (uint16_t)p.category;
        tl_l7_ndpi_named(w, f, p.master_protocol, p.app_protocol);
        if (!ndpi_extra_dissection_possible(w->ndpi, f->ndpi) &&
            !tl_tls_wants_more(f->ndpi, f->key.proto))
            worker_ndpi_finish(w, f);
    }
    if (!f->ndpi_done && f->ndpi_pkts >= w->cfg->ndpi_max_packets)
        worker_ndpi_finish(w, f);
}

static void worker_names(struct tl_worker *w, const struct tl_flow *f, struct tl_flow_names *nm,
                         char *proto_buf, size_t proto_len)
{
    memset(nm, 0, sizeof(*nm));
    if (!w->ndpi)
        return;
    if (f->app_master != NDPI_PROTOCOL_UNKNOWN || f->app_proto != NDPI_PROTOCOL_UNKNOWN) {
        ndpi_protocol p = { f->app_master, f->app_proto,
                            (ndpi_protocol_category_t)f->app_category };
        nm->app_proto = ndpi_protocol2name(w->ndpi, p, proto_buf, (u_int)proto_len);
        nm->app_category = ndpi_category_get_name(w->ndpi, p.category);
    }
    for (unsigned i = 0; i < 64 && nm->nrisks < TL_MAX_RISKS; i++)
        if (f->app_risk & (1ULL << i)) {
            const char *s = ndpi_risk2str((ndpi_risk_enum)i);
            if (s)
                nm->risks[nm->nrisks++] = s;
        }
}

struct worker_call {
    struct tl_worker *w;
    const struct tl_flow *f;
};

static void worker_emit_record(void *arg, const struct tl_event_type *t, void *rec, size_t size)
{
    struct worker_call *c = arg;
    struct tl_str none = { "", 0 };
    tl_worker_emit(c->w, c->f, t, rec, size, none);
}

static void worker_record(struct tl_worker *w, struct tl_flow *f, enum tl_end_reason why,
                          bool interim)
{
    struct tl_flow_names nm;
    char proto_buf[64];
    struct worker_call c = { w, f };

    worker_names(w, f, &nm, proto_buf, sizeof(proto_buf));
    tl_flow_emit(worker_emit_record, &c, f, why, interim, &nm, w->home, (uint16_t)w->cfg->cid_seed);
}

static void worker_end(struct tl_worker *w, struct tl_flow *f, enum tl_end_reason why)
{
    tl_l7_flow_end(w, f);
    worker_ndpi_finish(w, f);
    worker_record(w, f, why, false);
    switch (why) {
    case TL_END_IDLE: w->st.v[TL_STAT_FLOWS_IDLE]++; break;
    case TL_END_FIN:
    case TL_END_RST: w->st.v[TL_STAT_FLOWS_CLOSED]++; break;
    case TL_END_EVICTED: w->st.v[TL_STAT_FLOWS_EVICTED]++; break;
    case TL_END_SHUTDOWN: w->st.v[TL_STAT_FLOWS_SHUTDOWN]++; break;
    default: break;
    }
    tl_ftable_remove(&w->flows, f);
}

static enum tl_tclass worker_initial_class(uint8_t proto)
{
    switch (proto) {
    case TL_IPPROTO_TCP: return TL_TC_TCP_SYN;
    case TL_IPPROTO_UDP: return TL_TC_UDP;
    case TL_IPPROTO_ICMP:
    case TL_IPPROTO_ICMPV6: return TL_TC_ICMP;
    default: return TL_TC_OTHER;
    }
}

/*
 * Does the first packet of a flow come from the responder? A SYN-ACK does (the
 * capture missed the SYN). So does a TCP segment without SYN, or a UDP
 * datagram, sent from a well-known port (< 1024) to an ephemeral one: the
 * capture started mid-conversation. Zeek flips such connections too ('^').
 */
static bool worker_first_packet_is_reply(const struct tl_decoded *d)
{
    uint8_t syn_ack = d->tcp_flags & (TL_TH_SYN | TL_TH_ACK);
    if (d->ip_proto == TL_IPPROTO_TCP) {
        if (syn_ack == (TL_TH_SYN | TL_TH_ACK))
            return true;
        if (syn_ack & TL_TH_SYN)
            return false;
    } else if (d->ip_proto != TL_IPPROTO_UDP) {
        return false;
    }
    return d->sport < 1024 && d->dport >= 1024;
}

static struct tl_flow *worker_new_flow(struct tl_worker *w, const struct tl_decoded *d,
                                       const struct tl_fkey *k, uint64_t h, bool from_a)
{
    struct tl_flow *f = tl_ftable_insert(&w->flows, k, h, worker_initial_class(k->proto));
    if (!f) {
        struct tl_flow *victim = tl_ftable_oldest(&w->flows);
        if (!victim)
            return NULL;
        worker_end(w, victim, TL_END_EVICTED);
        f = tl_ftable_insert(&w->flows, k, h, worker_initial_class(k->proto));
        if (!f)
            return NULL;
    }
    w->st.v[TL_STAT_FLOWS_CREATED]++;
    f->first_us = f->last_us = f->rec_start_us = d->ts_us;
    f->orig_is_a = from_a;
    if (worker_first_packet_is_reply(d)) {
        f->orig_is_a = !from_a;
        f->flipped = true;
        f->history[f->hist_len++] = '^';
    }
    bool sender_is_orig = from_a == f->orig_is_a;
    f->ipv = d->ipv;
    f->ether_type = d->ether_type;
    f->nvlan = d->nvlan < TL_MAX_VLANS ? d->nvlan : TL_MAX_VLANS;
    f->tunnel = d->tunnel;
    f->outer_ipv = d->outer_ipv;
    f->tunnel_id = d->tunnel_id;
    memcpy(f->outer_src, sender_is_orig ? d->outer_src.b : d->outer_dst.b, 16);
    memcpy(f->outer_dst, sender_is_orig ? d->outer_dst.b : d->outer_src.b, 16);
    if (sender_is_orig) {
        f->icmp_type = d->icmp_type;
        f->icmp_code = d->icmp_code;
    } else {
        int req = tl_icmp_request_type(d->ipv, d->icmp_type);
        f->icmp_type = (uint8_t)(req >= 0 ? req : d->icmp_type);
        f->icmp_code = d->icmp_code;
    }
    tl_l7_flow_start(w, f);
    return f;
}

/* Records a history letter the first time a side shows it: upper case for the originator. */
static void worker_history(struct tl_flow *f, int dir, uint16_t flag, char letter)
{
    struct tl_fdir *fd = &f->dir[dir];
    if (fd->flags & flag)
        return;
    fd->flags |= flag;
    if ((size_t)f->hist_len + 1 < sizeof(f->history))
        f->history[f->hist_len++] = dir == 0 ? letter : (char)(letter - 'A' + 'a');
}

/*
 * TCP payload bytes by sequence span, as Zeek counts them: a retransmission
 * counts once, and a jump past the highest byte seen is a gap (missed_bytes).
 */
static void worker_tcp_seq(struct tl_flow *f, int dir, const struct tl_decoded *d)
{
    struct tl_fdir *fd = &f->dir[dir];
    bool syn = d->tcp_flags & TL_TH_SYN;
    uint32_t start = syn ? d->seq + 1 : d->seq;

    if (!fd->seq_init) {
        fd->isn = fd->seq_hi = start;
        fd->seq_init = true;
    }
    if (d->payload_wire == 0)
        return;
    uint32_t end = start + d->payload_wire;
    int32_t gap = (int32_t)(start - fd->seq_hi);
    int32_t adv = (int32_t)(end - fd->seq_hi);
    if (gap > 0)
        f->missed_bytes += (uint32_t)gap;
    if (adv > 0) {
        fd->seq_bytes += (uint32_t)adv;
        fd->seq_hi = end;
    } else if (!(d->tcp_flags & TL_TH_RST)) {
        worker_history(f, dir, TL_FD_RETX, 'T');
    }
}

static void worker_tcp(struct tl_flow *f, int dir, const struct tl_decoded *d)
{
    uint8_t fl = d->tcp_flags;

    if ((fl & (TL_TH_SYN | TL_TH_ACK)) == TL_TH_SYN)
        worker_history(f, dir, TL_FD_SYN, 'S');
    else if ((fl & (TL_TH_SYN | TL_TH_ACK)) == (TL_TH_SYN | TL_TH_ACK))
        worker_history(f, dir, TL_FD_SYNACK, 'H');
    if (d->payload_wire > 0)
        worker_history(f, dir, TL_FD_DATA, 'D');
    else if ((fl & TL_TH_ACK) && !(fl & (TL_TH_SYN | TL_TH_FIN | TL_TH_RST)))
        worker_history(f, dir, TL_FD_ACK, 'A');
    if (d->window == 0 && !(fl & (TL_TH_RST | TL_TH_SYN)))
        worker_history(f, dir, TL_FD_ZWIN, 'W');
    worker_tcp_seq(f, dir, d);
    if (fl & TL_TH_FIN)
        worker_history(f, dir, TL_FD_FIN, 'F');
    if (fl & TL_TH_RST)
        worker_history(f, dir, TL_FD_RST, 'R');
    f->dir[dir].bytes = f->dir[dir].seq_bytes;
}

static enum tl_tclass worker_tcp_class(const struct tl_flow *f)
{
    uint16_t o = f->dir[0].flags, r = f->dir[1].flags;
    if (((o | r) & TL_FD_RST) || ((o & TL_FD_FIN) && (r & TL_FD_FIN)))
        return TL_TC_CLOSED;
    if ((o & TL_FD_SYN) && !(r & TL_FD_SYNACK))
        return TL_TC_TCP_SYN;
    if (!(o & TL_FD_SYN) && (r & TL_FD_SYNACK) && !(o & (TL_FD_ACK | TL_FD_DATA)))
        return TL_TC_TCP_SYN;
    return TL_TC_TCP_EST;
}

static void worker_packet(struct tl_worker *w, const struct tl_slot *s)
{
    const struct tl_decoded *d = &s->d;
    const struct tl_fkey *k = &s->key;
    const uint8_t *bytes = tl_slot_bytes(s);
    uint32_t len = s->len;
    bool from_a = s->from_a;
    uint64_t h = tl_hash48(k, w->keyh);
    struct tl_flow *f = tl_ftable_find(&w->flows, k, h);
    if (f && worker_expired(w, f, d->ts_us)) {
        w->order_us = f->last_us + worker_timeout(w, (enum tl_tclass)f->tclass) + 1;
        worker_end(w, f, worker_close_reason(f));
        f = NULL;
    }
    w->order_us = d->ts_us;
    if (!f && !(f = worker_new_flow(w, d, k, h, from_a)))
        return;

    int dir = from_a == f->orig_is_a ? 0 : 1;
    struct tl_fdir *fd = &f->dir[dir];
    enum tl_tclass tc = (enum tl_tclass)f->tclass;

    if (d->ts_us > f->last_us)
        f->last_us = d->ts_us;
    fd->pkts++;
    fd->ip_bytes += d->ip_len;
    if (!f->tunnel_id && d->tunnel == f->tunnel)
        f->tunnel_id = d->tunnel_id; /* a GRE key sent one way only, if the first had none */
    if (d->has_mac && !(fd->flags & TL_FD_MAC_SEEN)) {
        memcpy(fd->mac, d->src_mac, 6);
        fd->flags |= TL_FD_MAC_SEEN;
        f->has_mac = true;
    }
    if (k->proto == TL_IPPROTO_TCP) {
        worker_tcp(f, dir, d);
        tc = worker_tcp_class(f);
    } else {
        fd->bytes += d->payload_wire;
        if (d->payload_wire > 0)
            worker_history(f, dir, TL_FD_DATA, 'D');
    }
    tl_ftable_touch(&w->flows, f, tc);
    worker_classify(w, f, d, bytes, len, dir);
    if (!f->l7_d)
        tl_l7_probe(w, f, s);
    if (f->l7_d)
        tl_l7_packet(w, f, s, dir);
    if (d->ts_us >= f->rec_start_us + w->cfg->active && w->cfg->active > 0) {
        worker_record(w, f, TL_END_ACTIVE, true);
        w->st.v[TL_STAT_FLOWS_ACTIVE_REC]++;
    }
}

/* A flow that expired ends, for the coordinator, at its deadline rather than at this scan. */
static void worker_expire(struct tl_worker *w, uint64_t now)
{
    for (int c = 0; c < TL_TC_N; c++) {
        struct tl_flow *f;
        while ((f = w->flows.head[c]) && worker_expired(w, f, now)) {
            w->order_us = f->last_us + worker_timeout(w, (enum tl_tclass)f->tclass) + 1;
            worker_end(w, f, worker_close_reason(f));
        }
    }
}

static void worker_snapshot(struct tl_worker *w)
{
    w->st.v[TL_STAT_FLOWS_ACTIVE] = w->flows.count;
    tl_l7_stats(w);
    pthread_mutex_lock(&w->snap_lock);
    w->snap = w->st;
    pthread_mutex_unlock(&w->snap_lock);
}

/* A packet of a flow this worker owns, from a batch or read in place: the clock follows it. */
static void worker_take(struct tl_worker *w, const struct tl_slot *s)
{
    if (s->d.ts_us > w->now_us)
        w->now_us = s->d.ts_us;
    w->st.v[TL_STAT_WORKER_PKTS]++;
    worker_packet(w, s);
}

/* The clock moves on to now_us if that is later; once a tick, what expired ends. */
static void worker_advance(struct tl_worker *w, uint64_t now_us)
{
    if (now_us > w->now_us)
        w->now_us = now_us;
    if (w->now_us >= w->next_scan_us) {
        worker_expire(w, w->now_us);
        w->order_us = 0; /* each expired request at its own deadline */
        tl_l7_expire(w, w->now_us);
        if (w->defrag)
            tl_defrag_expire(w->defrag, w->now_us);
        tl_worker_ship_events(w);
        worker_snapshot(w);
        w->next_scan_us = w->now_us + w->tick_us;
        w->wake_output = true; /* the watermark may release held messages */
    }
    /*
     * Only now may the coordinator believe this worker is at now_us: what
     * expired in a quiet stretch was sent above, keyed by deadlines that can
     * lie far behind now_us (coord.h).
     */
    atomic_store_explicit(&w->clock_vt, tl_vtime(w->epoch, w->now_us), memory_order_release);
}

void tl_worker_batch(struct tl_worker *w, const struct tl_batch *b)
{
    uint32_t off = 0;
    w->rules = tl_detect_rules(w->det, &w->rules_epoch);
    for (uint32_t i = 0; i < b->n; i++) {
        const struct tl_slot *s = (const struct tl_slot *)(const void *)(b->data + off);
        worker_take(w, s);
        off += tl_slot_stride(s);
    }
    if (b->mark_hi) /* its pinned bytes are read: the source may reuse them */
        atomic_store_explicit(&w->done_mark, b->mark_hi, memory_order_release);
    worker_advance(w, b->now_us);
}

void tl_worker_flush_all(struct tl_worker *w, uint64_t now_us)
{
    w->rules = tl_detect_rules(w->det, &w->rules_epoch);
    w->order_us = now_us;
    for (int c = 0; c < TL_TC_N; c++) {
        struct tl_flow *f;
        while ((f = w->flows.head[c])) {
            enum tl_end_reason why = TL_END_SHUTDOWN;
            if (f->tclass == TL_TC_CLOSED || worker_expired(w, f, now_us))
                why = worker_close_reason(f);
            worker_end(w, f, why);
        }
    }
    tl_worker_ship_events(w);
    worker_snapshot(w);
}

void tl_worker_epoch(struct tl_worker *w, const struct tl_batch *b)
{
    tl_worker_flush_all(w, w->now_us);
    w->epoch = b->epoch;
    w->now_us = b->now_us;
    w->next_scan_us = b->now_us + w->tick_us;
    atomic_store_explicit(&w->clock_vt, tl_vtime(w->epoch, w->now_us), memory_order_release);
}

/*
 * Wakes the output thread for a chunk of events, a tick of the clock (its
 * watermark) or WORKER_RING_EVERY messages, not after every batch: a wake-up
 * costs both threads a system call, and the coordinator holds messages for
 * ticks anyway. A full ring rings at once (tl_worker_push).
 */
static void worker_ring_output(struct tl_worker *w, bool always)
{
    if (!always && !w->wake_output && w->unrung < WORKER_RING_EVERY)
        return;
    tl_bell_ring(w->output_bell);
    w->wake_output = false;
    w->unrung = 0;
}

/*
 * Wakes the dispatcher, which may sleep for a free batch or for the reader's
 * buffers to be read, once a quarter of the ring's batches (at most
 * WORKER_FREE_EVERY) came back or this worker has nothing left to do, not for
 * every batch: with a backlog it has plenty queued meanwhile, and each
 * wake-up is a system call on both sides. The cap: the reader's 6 MiB of
 * buffers run out long before a quarter of a large capture.ring_batches could
 * come back, and it would wait for the worker to run dry.
 */
static void worker_ring_dispatcher(struct tl_worker *w, bool always)
{
    uint64_t every = w->cfg->ring_batches / 4;
    if (every > WORKER_FREE_EVERY)
        every = WORKER_FREE_EVERY;
    if (!always && ++w->freed_unrung < every && !tl_ring_empty(&w->in))
        return;
    tl_bell_ring(w->dispatcher_bell);
    w->freed_unrung = 0;
}

void *tl_worker_main(void *arg)
{
    struct tl_worker *w = arg;
    unsigned spins = 0;

    for (;;) {
        struct tl_batch *b = tl_ring_pop(&w->in);
        if (!b) {
            tl_bell_wait(&w->wake, &spins, tl_ring_empty, &w->in, 100);
            continue;
        }
        spins = 0;
        bool end = b->kind == TL_BATCH_END, epoch = b->kind == TL_BATCH_EPOCH;
        if (end)
            tl_worker_flush_all(w, b->now_us > w->now_us ? b->now_us : w->now_us);
        else if (epoch)
            tl_worker_epoch(w, b);
        else
            tl_worker_batch(w, b);
        /* The free ring holds every batch this worker has, so a push cannot fail;
         * b is the dispatcher's once pushed. */
        tl_ring_push(&w->free, b);
        worker_ring_dispatcher(w, end || epoch);
        worker_ring_output(w, end || epoch);
        if (end)
            break;
    }
    atomic_store_explicit(&w->done, true, memory_order_release);
    return NULL;
}

/* ---- live: a worker reading sockets of its own (TL_PIPE_SOCKETS) ---- */

enum { WORKER_PASS_BATCHES = 8 }; /* batches in flight from one worker to another */

/* What one worker passes to another: batches there over `full`, back over `empty`. */
struct tl_handoff {
    struct tl_ring full;
    struct tl_ring empty;
    struct tl_batch *cur;  /* the sender's, being filled */
    unsigned made;         /* the sender's: batches allocated, up to WORKER_PASS_BATCHES */
    struct tl_batch *held; /* the receiver's: being taken, from slot k at byte off */
    uint32_t k, off;
};

void tl_worker_keep_outer(struct tl_decoded *inner, const struct tl_decoded *frag)
{
    inner->ts_us = frag->ts_us;
    inner->caplen = inner->ip_len;
    inner->wirelen = inner->ip_len;
    inner->has_mac = frag->has_mac;
    memcpy(inner->src_mac, frag->src_mac, 6);
    memcpy(inner->dst_mac, frag->dst_mac, 6);
    memcpy(inner->vlan, frag->vlan, sizeof(inner->vlan));
    inner->nvlan = frag->nvlan;
    inner->nmpls = frag->nmpls;
    inner->tunnel = frag->tunnel;
    inner->outer_ipv = frag->outer_ipv;
    inner->tunnel_id = frag->tunnel_id;
    inner->outer_src = frag->outer_src;
    inner->outer_dst = frag->outer_dst;
}

int tl_worker_live_init(struct tl_worker *w, char *errbuf, size_t n)
{
    w->from = calloc(w->nworkers, sizeof(*w->from));
    w->defrag = tl_defrag_new(w->cfg, &w->st, w->keyh);
    if (!w->from || !w->defrag)
        goto fail;
    for (unsigned i = 0; i < w->nworkers; i++)
        if (i != (unsigned)w->id && (tl_ring_init(&w->from[i].full, WORKER_PASS_BATCHES) < 0 ||
                                     tl_ring_init(&w->from[i].empty, WORKER_PASS_BATCHES) < 0))
            goto fail;
    return 0;
fail:
    snprintf(errbuf, n, "worker %d: out of memory", w->id);
    return -1;
}

/* Frees what the other workers passed to this one (every thread has stopped). */
static void worker_live_destroy(struct tl_worker *w)
{
    for (unsigned i = 0; w->from && i < w->nworkers; i++) {
        struct tl_handoff *h = &w->from[i];
        struct tl_batch *b;
        while (h->full.slot && (b = tl_ring_pop(&h->full)))
            free(b);
        while (h->empty.slot && (b = tl_ring_pop(&h->empty)))
            free(b);
        free(h->cur);
        free(h->held);
        tl_ring_free(&h->full);
        tl_ring_free(&h->empty);
    }
    free(w->from);
    if (w->defrag)
        tl_defrag_free(w->defrag);
}

static void worker_pass_send(struct tl_worker *w, struct tl_handoff *h, unsigned to)
{
    tl_ring_push(&h->full, h->cur); /* it holds every batch there is: cannot fail */
    h->cur = NULL;
    w->src->wake(w->src->ctx, to);
    tl_bell_ring(&w->all[to].wake);
}

/* An empty batch to fill for another worker; NULL when all are in flight. */
static struct tl_batch *worker_pass_batch(struct tl_worker *w, struct tl_handoff *h)
{
    struct tl_batch *b = tl_ring_pop(&h->empty);
    if (!b && h->made < WORKER_PASS_BATCHES && (b = malloc(sizeof(*b) + w->cfg->batch_bytes))) {
        b->cap = (uint32_t)w->cfg->batch_bytes;
        h->made++;
    }
    if (b) {
        b->n = b->used = b->load = 0;
        b->kind = TL_BATCH_PKTS;
        b->mark_lo = b->mark_hi = 0;
    }
    return b;
}

/* Copies a packet to worker `to`, its owner; dropped and counted when `to` is that far behind. */
static void worker_pass(struct tl_worker *w, unsigned to, const struct tl_slot *s,
                        const uint8_t *bytes)
{
    struct tl_handoff *h = &w->all[to].from[w->id];
    uint32_t need = tl_slot_size(s->len);
    if (h->cur && h->cur->used + need > h->cur->cap)
        worker_pass_send(w, h, to);
    if (!h->cur)
        h->cur = worker_pass_batch(w, h);
    if (!h->cur || need > h->cur->cap) {
        w->st.v[TL_STAT_RING_DROPS]++;
        return;
    }
    struct tl_slot *c = (struct tl_slot *)(void *)(h->cur->data + h->cur->used);
    memcpy(c, s, sizeof(*c));
    c->ext = NULL;
    memcpy(c->bytes, bytes, s->len);
    h->cur->used += need;
    h->cur->n++;
    w->st.v[TL_STAT_HANDOFFS]++;
}

/* Sends what is batched for the others. */
static void worker_pass_flush(struct tl_worker *w)
{
    for (unsigned to = 0; to < w->nworkers; to++) {
        struct tl_handoff *h = &w->all[to].from[w->id];
        if (to != (unsigned)w->id && h->cur && h->cur->n)
            worker_pass_send(w, h, to);
    }
}

/* A decoded packet that is not a fragment: processed here if this worker owns it. */
static void worker_route(struct tl_worker *w, struct tl_slot *s, const uint8_t *bytes, uint32_t len)
{
    tl_fkey_make(&s->key, &s->d, &s->from_a);
    s->len = len;
    s->ext = bytes;
    unsigned to = tl_spread_hash(w->src->seed, &s->d, true) % w->nworkers;
    if (to == (unsigned)w->id)
        worker_take(w, s);
    else
        worker_pass(w, to, s, bytes);
}

/* A fragment this worker reassembles; the datagram goes to its owner, like any packet. */
static void worker_frag(struct tl_worker *w, const struct tl_decoded *d, const uint8_t *bytes)
{
    struct tl_slot s;
    uint32_t len = 0;
    const uint8_t *dg = tl_defrag_add(w->defrag, d, bytes, &len);
    if (!dg)
        return;
    enum tl_decode_err err = tl_decode(&s.d, TL_LINK_RAW, dg, len);
    if (err != TL_DECODE_OK) {
        w->st.decode_err[err]++;
        return;
    }
    tl_worker_keep_outer(&s.d, d);
    worker_route(w, &s, dg, len); /* the reassembly buffer: copied if passed on */
}

/* The next packet worker i passed to this one, or NULL; its batches are taken in order. */
static const struct tl_slot *worker_passed_next(struct tl_worker *w, struct tl_handoff *h)
{
    for (;;) {
        if (!h->held) {
            if (!(h->held = tl_ring_pop(&h->full)))
                return NULL;
            h->k = h->off = 0;
            w->nheld++;
        }
        if (h->k < h->held->n)
            return (const struct tl_slot *)(const void *)(h->held->data + h->off);
        tl_ring_push(&h->empty, h->held); /* it holds every batch there is: cannot fail */
        h->held = NULL;
        w->nheld--;
    }
}

/*
 * Processes what the others passed, oldest first, up to packet time upto:
 * a packet passed on may come sooner than one this worker's own socket has
 * not yet handed over (each ring hands blocks over on its own timer), so it
 * waits until the sockets have been read past its time. Whether any came.
 */
static bool worker_take_passed(struct tl_worker *w, uint64_t upto)
{
    bool any = false;
    for (;;) {
        struct tl_handoff *first = NULL;
        const struct tl_slot *s = NULL;
        for (unsigned i = 0; i < w->nworkers; i++) {
            const struct tl_slot *c =
                i != (unsigned)w->id ? worker_passed_next(w, &w->from[i]) : NULL;
            if (c && c->d.ts_us <= upto && (!s || c->d.ts_us < s->d.ts_us)) {
                s = c;
                first = &w->from[i];
            }
        }
        if (!s)
            return any;
        worker_take(w, s);
        first->off += tl_slot_stride(s);
        first->k++;
        any = true;
    }
}

/*
 * A frame read in place from one of this worker's sockets. A fragment the
 * kernel did not reassemble is reassembled here: the fanout program spreads
 * fragments by their addresses alone, so all those of a datagram land on one
 * socket; the datagram then goes to its owner.
 */
static void worker_frame(void *arg, int linktype, uint64_t ts_us, const uint8_t *pkt,
                         uint32_t caplen, uint32_t wirelen)
{
    struct tl_worker *w = arg;
    struct tl_slot s;

    if (ts_us > w->sock_us)
        w->sock_us = ts_us;
    if (w->nheld)
        worker_take_passed(w, ts_us);
    w->st.v[TL_STAT_PKTS]++;
    w->st.v[TL_STAT_BYTES] += wirelen;
    enum tl_decode_err err = tl_decode(&s.d, linktype, pkt, caplen);
    s.d.ts_us = ts_us;
    s.d.caplen = caplen;
    s.d.wirelen = wirelen;
    if (s.d.truncated)
        w->st.v[TL_STAT_TRUNCATED]++;
    w->st.decode_err[err]++;
    if (err != TL_DECODE_OK)
        return;
    if (s.d.is_fragment)
        worker_frag(w, &s.d, pkt);
    else
        worker_route(w, &s, pkt, caplen);
}

static uint64_t worker_clock_us(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/*
 * One round: the sockets (waiting up to timeout_ms when nothing is held),
 * then what was passed up to the time the sockets are read to, then the
 * clock. When the sockets are quiet, they are read to the UTC clock less the
 * time a packet may take to be handed over. Returns whether anything came.
 */
static bool worker_live_round(struct tl_worker *w, int timeout_ms, uint64_t *next_stats)
{
    const struct tl_pipe_source *src = w->src;
    int lag_ms = (int)(src->lag_us / 1000) + 1;
    w->rules = tl_detect_rules(w->det, &w->rules_epoch);
    worker_take_passed(w, w->sock_us); /* takes in what came meanwhile */
    int got = src->read(src->ctx, (unsigned)w->id,
                        w->nheld && lag_ms < timeout_ms ? lag_ms : timeout_ms, worker_frame, w);
    worker_pass_flush(w);
    if (got <= 0) {
        uint64_t utc = worker_clock_us(CLOCK_REALTIME);
        if (utc > src->lag_us && utc - src->lag_us > w->sock_us)
            w->sock_us = utc - src->lag_us;
    }
    bool passed = worker_take_passed(w, w->sock_us);
    worker_advance(w, w->sock_us);
    uint64_t mono = worker_clock_us(CLOCK_MONOTONIC);
    if (mono >= *next_stats) {
        src->stats(src->ctx, (unsigned)w->id);
        *next_stats = mono + w->tick_us;
    }
    tl_bell_ring(w->output_bell);
    return got > 0 || passed;
}

/* A stage of the stop as one worker waits through it. */
struct worker_stage {
    struct tl_worker *w;
    unsigned upto; /* *live_done once every worker is past it */
};

/* Nothing was passed to the worker, and some worker is not past the stage. */
static bool worker_stage_waiting(void *arg)
{
    const struct worker_stage *st = arg;
    const struct tl_worker *w = st->w;
    if (w->nheld || atomic_load_explicit(w->live_done, memory_order_acquire) >= st->upto)
        return false;
    for (unsigned i = 0; i < w->nworkers; i++)
        if (i != (unsigned)w->id && !tl_ring_empty(&w->from[i].full))
            return false;
    return true;
}

/*
 * A stage of the stop: this worker says it is past it (*live_done), then takes
 * what the others pass until every worker has said the same. Stage 1 comes
 * after the last read of the sockets, the only thing that passes packets on;
 * stage 2 after each worker has published its clock in *live_end_us.
 */
static void worker_live_stage(struct tl_worker *w, unsigned stage)
{
    struct worker_stage st = { w, stage * w->nworkers };
    unsigned spins = 0;
    worker_pass_flush(w);
    atomic_fetch_add_explicit(w->live_done, 1, memory_order_acq_rel);
    for (unsigned i = 0; i < w->nworkers; i++)
        tl_bell_ring(&w->all[i].wake);
    for (;;) {
        bool all = atomic_load_explicit(w->live_done, memory_order_acquire) >= st.upto;
        if (worker_take_passed(w, UINT64_MAX))
            spins = 0;
        else if (all)
            break;
        else
            tl_bell_wait(&w->wake, &spins, worker_stage_waiting, &st, 100);
    }
}

void *tl_worker_live_main(void *arg)
{
    struct tl_worker *w = arg;
    uint64_t next_stats = 0;
    int tick_ms = (int)(w->tick_us / 1000);

    while (!atomic_load_explicit(w->live_stop, memory_order_acquire))
        worker_live_round(w, tick_ms, &next_stats);
    /*
     * What the sockets still hold: the kernel's timer closes a partly filled
     * block it has seen open for a whole period, so within twice lag_us.
     */
    uint64_t until = worker_clock_us(CLOCK_MONOTONIC) + 2 * w->src->lag_us + 2000;
    for (uint64_t now = worker_clock_us(CLOCK_MONOTONIC); now < until;
         now = worker_clock_us(CLOCK_MONOTONIC))
        worker_live_round(w, (int)((until - now) / 1000) + 1, &next_stats);
    w->src->stats(w->src->ctx, (unsigned)w->id);
    worker_live_stage(w, 1);
    /* Every worker ends its flows at one time, as a replay's end does. */
    uint64_t end = atomic_load_explicit(w->live_end_us, memory_order_relaxed);
    while (end < w->now_us &&
           !atomic_compare_exchange_weak_explicit(w->live_end_us, &end, w->now_us,
                                                  memory_order_acq_rel, memory_order_relaxed))
        ;
    worker_live_stage(w, 2);
    tl_worker_flush_all(w, atomic_load_explicit(w->live_end_us, memory_order_acquire));
    atomic_store_explicit(&w->done, true, memory_order_release);
    tl_bell_ring(w->output_bell);
    return NULL;
}
