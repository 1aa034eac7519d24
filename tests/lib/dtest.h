/*
 * dtest.h - drives one dissector as a worker would, without a flow table:
 * UDP datagrams go to parse() whole; TCP bytes are appended to a per-direction
 * stream buffer and parse() is called while it returns OK. Records are
 * serialised with the dissector's event type into `out` (one JSON line each).
 */
#ifndef TL_DTEST_H
#define TL_DTEST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "dissect.h"
#include "event.h"

struct dtest {
    const struct tl_dissector *d;
    struct tl_dissect_limits limits;
    void *state;
    uint8_t arena_mem[1 << 16];
    struct tl_arena arena;
    uint64_t counters[TL_DC_N];
    uint8_t *stream[2]; /* TCP: unconsumed bytes per direction */
    size_t stream_len[2];
    bool gave_up;
    const struct tl_dissector *handover; /* TCP: asked for by parse; nothing more is parsed */
    int records;
    struct tl_buf out;
    bool no_memory; /* ctx->resize refuses to grow, as when memory.max_bytes' share is spent */
    long long
        resized; /* bytes ctx->resize holds: dtest_free aborts unless state_free gave all back */
};

void dtest_init(struct dtest *t, const struct tl_dissector *d);
void dtest_free(struct dtest *t);
/* One UDP datagram (capture_cut: the capture cut it short). */
void dtest_udp(struct dtest *t, int dir, uint64_t ts_us, const void *p, size_t n, bool capture_cut);
/* TCP bytes of one direction; each call is an exact-size heap copy. Once the dissector
 * hands the flow over, bytes are only kept (stream[], as flows/l7.c keeps them). */
void dtest_tcp(struct dtest *t, int dir, uint64_t ts_us, const void *p, size_t n);
/* TCP: n bytes lost in this direction (what waits is parsed once more as cut, then dropped). */
void dtest_gap(struct dtest *t, int dir, uint64_t n);
/* Flow end: what waits is parsed as cut, then everything pending is flushed. */
void dtest_end(struct dtest *t);
/* Time passes to now_us: what is due is written (the dissector's flush()). */
void dtest_flush(struct dtest *t, uint64_t now_us);
/*
 * TCP between records, as flows/l7.c after one: when no stream byte waits and the
 * dissector rests, its state is freed and the next bytes get a fresh one, resumed from
 * what it kept. True when it rested.
 */
bool dtest_rest(struct dtest *t);
/* Number of occurrences of needle in the output. */
int dtest_count(const struct dtest *t, const char *needle);

#endif
