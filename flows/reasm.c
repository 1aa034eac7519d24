/*
 * reasm.c - TCP stream reassembly (RFC 9293 3.4 sequence numbers, RFC 1982
 * serial arithmetic), one direction at a time.
 *
 * A direction delivers its stream from next onwards. Payload that starts at or
 * before next is delivered from the caller's packet; payload after next is
 * copied into runs: malloc'd blocks of contiguous bytes, kept sorted and
 * disjoint in one list (a piece that touches the run before it is appended to
 * it, and touching runs are merged, so a burst after one hole is one run).
 * Where a segment overlaps bytes already seen, the first copy wins: delivered
 * bytes are gone, held bytes are kept and compared (a difference is counted).
 *
 * Every position is handled as an offset from next (seq - next, unsigned): a
 * segment is held only when it starts within REASM_WINDOW of next, so held
 * offsets stay far below 2^31 and never wrap, even when sequence numbers do.
 *
 * Invariants: held runs start after next, are sorted and disjoint;
 * held_bytes and nruns count them; r->used is the sum of held_bytes over the
 * directions charged to r; held_bytes <= max_per_flow (and <= max_unacked
 * until the other side sends an ACK after the direction's first byte) and
 * r->used <= max_per_worker after every call (a segment that would pass one
 * first makes the earliest hole lost, or is delivered after a gap).
 */
#include <stdlib.h>
#include <string.h>

#include "packet.h"
#include "reasm.h"

enum {
    REASM_STARTED = 1 << 0, /* next is set */
    REASM_DATA = 1 << 1,    /* a byte was delivered, held or declared lost */
    REASM_FIN = 1 << 2,     /* fin_seq is set */
    REASM_CLOSED = 1 << 3,  /* RST seen: nothing more is delivered */
    REASM_ACKED = 1 << 4,   /* the other side sent an ACK after this side's first byte */
};

/* Segments starting further ahead than this are not the stream (RFC 7323 2.3: windows < 2^30). */
#define REASM_WINDOW (1u << 30)

struct tl_reasm_run {
    struct tl_reasm_run *next;
    uint32_t seq;      /* of data[0] */
    uint32_t len, cap; /* bytes held, bytes allocated */
    uint8_t data[];
};

static bool reasm_before(uint32_t a, uint32_t b)
{
    return (int32_t)(a - b) < 0;
}

void tl_reasm_init(struct tl_reasm_dir *d)
{
    memset(d, 0, sizeof(*d));
}

static void reasm_emit(struct tl_reasm_dir *d, int dir, const struct tl_reasm_sink *sink,
                       const uint8_t *p, uint32_t n)
{
    if (n == 0)
        return;
    sink->data(sink->arg, dir, p, n);
    d->next += n;
    d->flags |= REASM_DATA;
}

static void reasm_gap(struct tl_reasm_dir *d, int dir, const struct tl_reasm_sink *sink,
                      struct tl_reasm *r, uint32_t n)
{
    if (n == 0)
        return;
    if (sink->gap)
        sink->gap(sink->arg, dir, n);
    d->next += n;
    d->flags |= REASM_DATA;
    r->st.gaps++;
    r->st.gap_bytes += n;
}

/* Delivers and frees the first run, which starts at next. */
static void reasm_pop(struct tl_reasm_dir *d, int dir, const struct tl_reasm_sink *sink,
                      struct tl_reasm *r)
{
    struct tl_reasm_run *run = d->held;
    d->held = run->next;
    d->held_bytes -= run->len;
    d->nruns--;
    r->used -= run->len;
    reasm_emit(d, dir, sink, run->data, run->len);
    free(run);
}

/* Delivers the runs that have become in order. */
static void reasm_advance(struct tl_reasm_dir *d, int dir, const struct tl_reasm_sink *sink,
                          struct tl_reasm *r)
{
    while (d->held && d->held->seq == d->next)
        reasm_pop(d, dir, sink, r);
}

/* Declares the hole before the first run lost and delivers what follows it. */
static void reasm_drop_hole(struct tl_reasm_dir *d, int dir, const struct tl_reasm_sink *sink,
                            struct tl_reasm *r)
{
    reasm_gap(d, dir, sink, r, d->held->seq - d->next);
    reasm_advance(d, dir, sink, r);
}

/* Declares every byte before target that is not held lost, and delivers the held ones. */
static void reasm_skip_to(struct tl_reasm_dir *d, int dir, uint32_t target,
                          const struct tl_reasm_sink *sink, struct tl_reasm *r)
{
    while (reasm_before(d->next, target)) {
        if (d->held && reasm_before(d->held->seq, target))
            reasm_drop_hole(d, dir, sink, r);
        else
            reasm_gap(d, dir, sink, r, target - d->next);
    }
    reasm_advance(d, dir, sink, r); /* a run may start right at target */
}

static struct tl_reasm_run *reasm_run_new(uint32_t seq, const uint8_t *p, uint32_t n)
{
    struct tl_reasm_run *run = malloc(sizeof(*run) + n);
    if (!run)
        return NULL;
    run->next = NULL;
    run->seq = seq;
    run->len = run->cap = n;
    memcpy(run->data, p, n);
    return run;
}

/* Appends n bytes to the run *link points to, growing it geometrically; NULL when out of memory. */
static struct tl_reasm_run *reasm_run_append(struct tl_reasm_run **link, const uint8_t *p,
                                             uint32_t n)
{
    struct tl_reasm_run *run = *link;
    if (run->cap - run->len < n) {
        uint64_t cap = (uint64_t)run->cap * 2;
        if (cap < (uint64_t)run->len + n)
            cap = (uint64_t)run->len + n;
        if (cap > UINT32_MAX)
            return NULL;
        struct tl_reasm_run *grown = realloc(run, sizeof(*run) + (size_t)cap);
        if (!grown)
            return NULL;
        grown->cap = (uint32_t)cap;
        *link = run = grown;
    }
    memcpy(run->data + run->len, p, n);
    run->len += n;
    return run;
}

/*
 * What holding n bytes at offset off (> 0) from next would add: bytes not yet
 * held, and new runs (a piece touching the run before it extends that run).
 */
static void reasm_measure(const struct tl_reasm_dir *d, uint32_t off, uint32_t n, uint64_t *add,
                          uint32_t *runs)
{
    uint64_t s = off, e = (uint64_t)off + n, prev_end = UINT64_MAX;
    *add = 0;
    *runs = 0;
    for (const struct tl_reasm_run *run = d->held; run && s < e; run = run->next) {
        uint64_t rs = run->seq - d->next, re = rs + run->len;
        if (re <= s) {
            prev_end = re;
            continue;
        }
        if (rs >= e)
            break;
        if (s < rs) {
            *add += rs - s;
            *runs += prev_end != s;
        }
        s = prev_end = re;
    }
    if (s < e) {
        *add += e - s;
        *runs += prev_end != s;
    }
}

/*
 * Holds the bytes of p[0, n) at offset off (> 0) from next that no run holds,
 * and compares the others with the copy held (*seen, *conflict). False when
 * out of memory; the pieces held until then stay held.
 */
static bool reasm_hold(struct tl_reasm_dir *d, struct tl_reasm *r, uint32_t off, const uint8_t *p,
                       uint32_t n, bool *seen, bool *conflict)
{
    struct tl_reasm_run **link = &d->held, **prevlink = NULL, **first = NULL;
    uint64_t s = off, e = (uint64_t)off + n;
    bool ok = true;

    while (s < e) {
        struct tl_reasm_run *run = *link;
        uint64_t rs = run ? run->seq - d->next : UINT64_MAX;
        uint64_t re = run ? rs + run->len : UINT64_MAX;
        if (run && re <= s) {
            prevlink = link;
            link = &run->next;
            continue;
        }
        if (run && rs <= s) { /* overlap: the held copy wins */
            uint64_t oe = e < re ? e : re;
            *seen = true;
            if (memcmp(run->data + (s - rs), p + (s - off), (size_t)(oe - s)) != 0)
                *conflict = true;
            s = oe;
            prevlink = link;
            link = &run->next;
            continue;
        }
        uint64_t pe = e < rs ? e : rs;
        uint32_t k = (uint32_t)(pe - s);
        struct tl_reasm_run *prev = prevlink ? *prevlink : NULL;
        if (!first)
            first = prevlink ? prevlink : &d->held;
        if (prev && prev->seq + prev->len == d->next + (uint32_t)s) {
            if (!(prev = reasm_run_append(prevlink, p + (s - off), k))) {
                ok = false;
                break;
            }
        } else {
            if (!(prev = reasm_run_new(d->next + (uint32_t)s, p + (s - off), k))) {
                ok = false;
                break;
            }
            prev->next = run;
            *link = prev;
            prevlink = link;
            d->nruns++;
        }
        link = &prev->next;
        d->held_bytes += k;
        r->used += k;
        s = pe;
    }
    /* Merge the runs the new pieces made touch (at most up to the run starting at e). */
    for (struct tl_reasm_run **l = first; l && *l && (uint64_t)((*l)->seq - d->next) < e;) {
        struct tl_reasm_run *a = *l, *b = a->next;
        if (b && b->seq == a->seq + a->len && (a = reasm_run_append(l, b->data, b->len))) {
            a->next = b->next;
            free(b);
            d->nruns--;
            continue;
        }
        l = &(*l)->next;
    }
    return ok;
}

/* Payload starting at or before next: delivered from p, held runs winning where they overlap. */
static void reasm_in_order(struct tl_reasm_dir *d, int dir, uint32_t start, const uint8_t *p,
                           uint32_t len, uint32_t wire, const struct tl_reasm_sink *sink,
                           struct tl_reasm *r)
{
    uint32_t back = d->next - start, cap_end = start + len, wire_end = start + wire;
    bool seen = back > 0, conflict = false;

    if (back >= wire) { /* all seen; a keep-alive (one byte at next - 1) is no retransmission */
        if (!(back == 1 && wire == 1))
            r->st.retransmitted++;
        return;
    }
    while (reasm_before(d->next, cap_end)) {
        const uint8_t *q = p + (d->next - start);
        uint32_t k = cap_end - d->next;
        struct tl_reasm_run *run = d->held;
        if (run && run->seq == d->next) {
            seen = true;
            if (memcmp(run->data, q, k < run->len ? k : run->len) != 0)
                conflict = true;
            reasm_pop(d, dir, sink, r);
            continue;
        }
        if (run && run->seq - d->next < k)
            k = run->seq - d->next;
        reasm_emit(d, dir, sink, q, k);
    }
    /* The capture cut the tail: a retransmission would be cut the same way. */
    reasm_skip_to(d, dir, wire_end, sink, r);
    if (seen)
        r->st.retransmitted++;
    if (conflict)
        r->st.overlap_conflicts++;
}

static void reasm_data(struct tl_reasm_dir *d, int dir, uint32_t start, const uint8_t *p,
                       uint32_t len, uint32_t wire, const struct tl_reasm_sink *sink,
                       struct tl_reasm *r)
{
    for (;;) {
        uint32_t off = start - d->next;
        if ((int32_t)off <= 0) {
            reasm_in_order(d, dir, start, p, len, wire, sink, r);
            return;
        }
        if (off > REASM_WINDOW) {
            r->st.out_of_window++;
            return;
        }
        if (len == 0) /* nothing captured to hold */
            return;
        uint64_t add;
        uint32_t runs;
        reasm_measure(d, off, len, &add, &runs);
        /* No ACK from the other side since this side's first byte: if that side is not in the
         * capture, no ack will show the hole lost (tl_reasm_ack), so it waits only so long (as
         * Zeek's tcp_max_initial_window and tcp_max_above_hole_without_any_acks). */
        bool unacked =
            !(d->flags & REASM_ACKED) && r->max_unacked && d->held_bytes + add > r->max_unacked;
        bool flow_ok = !unacked && d->held_bytes + add <= r->max_per_flow &&
                       (uint64_t)d->nruns + runs <= TL_REASM_MAX_RUNS;
        bool worker_ok = r->used + add <= r->max_per_worker;
        if (flow_ok && worker_ok) {
            bool seen = false, conflict = false;
            if (reasm_hold(d, r, off, p, len, &seen, &conflict)) {
                d->flags |= REASM_DATA;
                if (add > 0)
                    r->st.out_of_order++;
                if (seen)
                    r->st.retransmitted++;
                if (conflict)
                    r->st.overlap_conflicts++;
                return;
            }
            worker_ok = false; /* out of memory: as if the worker's cap bit */
        }
        if (unacked)
            r->st.unacked_capped++;
        else if (!flow_ok)
            r->st.flow_capped++;
        else
            r->st.worker_capped++;
        if (d->held)
            reasm_drop_hole(d, dir, sink, r);
        else
            reasm_gap(d, dir, sink, r, off); /* then it is in order */
    }
}

void tl_reasm_segment(struct tl_reasm_dir *d, int dir, const struct tl_reasm_seg *seg,
                      const struct tl_reasm_sink *sink, struct tl_reasm *r)
{
    bool syn = seg->flags & TL_TH_SYN;
    uint32_t start = seg->seq + syn;
    uint32_t len = seg->len < seg->wire ? seg->len : seg->wire;
    uint32_t wire = seg->wire;

    r->st.segments++;
    if (d->flags & REASM_CLOSED)
        return;
    if (seg->flags & TL_TH_RST) {
        tl_reasm_flush(d, dir, sink, r);
        d->flags |= REASM_CLOSED;
        return;
    }
    if (!(d->flags & REASM_STARTED) || (syn && !(d->flags & REASM_DATA))) {
        /* Not on a bare ACK: a keep-alive (at next - 1) would misplace the stream. */
        if (!syn && wire == 0 && !(seg->flags & TL_TH_FIN))
            return;
        d->next = start;
        d->flags |= REASM_STARTED;
    }
    if ((seg->flags & TL_TH_FIN) && !(d->flags & REASM_FIN) &&
        !reasm_before(start + wire, d->next)) {
        d->fin_seq = start + wire;
        d->flags |= REASM_FIN;
    }
    if (d->flags & REASM_FIN) { /* nothing comes after the FIN */
        int32_t room = (int32_t)(d->fin_seq - start);
        if (room < 0)
            room = 0;
        if (wire > (uint32_t)room)
            wire = (uint32_t)room;
        if (len > wire)
            len = wire;
    }
    if (wire > 0)
        reasm_data(d, dir, start, seg->p, len, wire, sink, r);
}

void tl_reasm_ack(struct tl_reasm_dir *d, int dir, uint32_t ack, const struct tl_reasm_sink *sink,
                  struct tl_reasm *r)
{
    if (d->flags & REASM_DATA) /* the other side is in the capture since this side's first byte */
        d->flags |= REASM_ACKED;
    if (!(d->flags & REASM_STARTED) || (d->flags & REASM_CLOSED))
        return;
    if ((d->flags & REASM_FIN) && reasm_before(d->fin_seq, ack))
        ack = d->fin_seq; /* the FIN takes one sequence number, but no byte */
    uint32_t off = ack - d->next;
    if ((int32_t)off <= 0 || off > REASM_WINDOW)
        return;
    reasm_skip_to(d, dir, ack, sink, r);
}

void tl_reasm_flush(struct tl_reasm_dir *d, int dir, const struct tl_reasm_sink *sink,
                    struct tl_reasm *r)
{
    while (d->held)
        reasm_drop_hole(d, dir, sink, r);
    if ((d->flags & REASM_FIN) && reasm_before(d->next, d->fin_seq))
        reasm_gap(d, dir, sink, r, d->fin_seq - d->next);
}

bool tl_reasm_ended(const struct tl_reasm_dir *d)
{
    return (d->flags & REASM_CLOSED) ||
           ((d->flags & REASM_FIN) && !d->held && d->next == d->fin_seq);
}

bool tl_reasm_reset(const struct tl_reasm_dir *d)
{
    return d->flags & REASM_CLOSED;
}

void tl_reasm_free(struct tl_reasm_dir *d, struct tl_reasm *r)
{
    while (d->held) {
        struct tl_reasm_run *run = d->held;
        d->held = run->next;
        r->used -= run->len;
        free(run);
    }
    tl_reasm_init(d);
}
