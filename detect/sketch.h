/*
 * sketch.h - distinct items (hosts, users) over sliding windows of packet time,
 * in bounded memory. Private to detect/.
 *
 * Time is in whole hours (packet time / 3600 s). A count "since hour S" counts
 * the items last seen at hour S or later; the windows the statistics use are
 * the current hour and the 23 before it (24 h) and the current hour and the
 * 719 before it (30 days). Nothing older than 30 days is kept.
 *
 * Two forms, one interface:
 *  - exact, while at most TL_SKETCH_EXACT_MAX items were seen in 30 days: an
 *    open-addressing table of 8-byte slots (the top 48 bits of the item's
 *    hash, the hour it was last seen in the low 16). Counts are exact (two
 *    items collide on 48 bits with probability < 2^-34 at 128 items).
 *    Memory: 8 bytes per slot, at most 3/4 full: 32 bytes for 1-3 items,
 *    2 KiB at 128.
 *  - a sliding HyperLogLog past that (Chabchoub, Hebrail, "Sliding
 *    HyperLogLog", 2010): m = 2^10 registers; each register keeps the list of
 *    (hour, rank) pairs that may still be its maximum for some window - a
 *    pair is dropped once a later pair has a rank as high - so ranks fall as
 *    hours rise and a register's value for "since S" is the rank of its first
 *    pair at or after S. All pairs live in one sorted vector of 4-byte words
 *    (register 10 bits, hour 16 bits, rank 6 bits), after a 1.2 KiB header
 *    (the cached windows' histograms, and each register's highest rank of the
 *    current hour, so that an item seen again within the hour costs no
 *    search). A register holds at most 39 pairs (one per rank value), so a
 *    sketch is never more than 1.2 + 1024 * 39 * 4 / 1024 = 157 KiB. In
 *    practice 1-4 pairs per register (measured): 100 000 hosts in one hour
 *    take 5.2 KiB, 5 000 hosts every hour for 30 days with 200 new ones an
 *    hour 17 KiB.
 *    Estimates use Ertl's improved raw estimator ("New cardinality estimation
 *    algorithms for HyperLogLog sketches", 2017), unbiased from 0 up: the
 *    relative standard error is 1.04 / sqrt(1024) = 3.3 %, and 99.7 % of
 *    estimates are within +-10 % (3 sigma) of the true count.
 * The exact form turns into the HyperLogLog when a 129th item arrives and
 * back into an empty exact table when every pair has aged out.
 *
 * Counts for the two windows at the current hour are cached and kept up to
 * date by each add (O(1) exact, O(log n + 39) HyperLogLog); when the hour
 * moves on they are recomputed once (O(size)), which is also when pairs and
 * slots older than 30 days are dropped. Same adds in the same order give the
 * same counts: nothing depends on a clock or on randomness.
 */
#ifndef TL_DETECT_SKETCH_H
#define TL_DETECT_SKETCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "cursor.h"

enum {
    TL_SKETCH_P = 10,            /* HyperLogLog precision: 2^10 registers */
    TL_SKETCH_EXACT_MAX = 128,   /* items counted exactly */
    TL_SKETCH_DAY_HOURS = 24,    /* the short window */
    TL_SKETCH_WINDOW_HOURS = 720 /* the long window: 30 days, all that is kept */
};

struct tl_sketch {
    void *v;           /* exact: uint64_t slots[cap]; HyperLogLog: struct sk_hll */
    uint32_t n, cap;   /* items (exact) or pairs (HyperLogLog); slots or pairs allocated */
    uint32_t base;     /* the hour stored as relative hour 0 */
    uint32_t hour;     /* the hour c24 and c30 are for, when cached */
    uint32_t c24, c30; /* distinct items in the 24 h and 30 d windows ending at `hour` */
    bool hll, cached;
};

/* A zeroed struct tl_sketch is an empty one. */
void tl_sketch_clear(struct tl_sketch *s);

/* Counts item `hash` (tl_domain_hash) seen at `hour`. True when a count may have changed. */
bool tl_sketch_add(struct tl_sketch *s, uint64_t hash, uint32_t hour);

/* Distinct items in the 24 h and 30 d windows ending at `hour` (cached until it changes). */
void tl_sketch_counts(struct tl_sketch *s, uint32_t hour, uint64_t *c24, uint64_t *c30);

/* Distinct items seen at hour `since` or later (within the 30 days kept). */
uint64_t tl_sketch_count_since(const struct tl_sketch *s, uint32_t since);

/* Bytes allocated (the struct itself not included). */
size_t tl_sketch_bytes(const struct tl_sketch *s);

/* ---- serialisation (the statistics snapshot): big-endian ---- */

struct tl_sink {
    void (*put)(void *arg, const void *p, size_t n);
    void *arg;
};

static inline void tl_sink_u8(struct tl_sink *w, uint8_t v)
{
    w->put(w->arg, &v, 1);
}

static inline void tl_sink_u32(struct tl_sink *w, uint32_t v)
{
    uint8_t b[4] = { (uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v };
    w->put(w->arg, b, 4);
}

static inline void tl_sink_u64(struct tl_sink *w, uint64_t v)
{
    tl_sink_u32(w, (uint32_t)(v >> 32));
    tl_sink_u32(w, (uint32_t)v);
}

static inline uint64_t tl_sketch_be64(struct tl_cursor *c)
{
    uint64_t hi = tl_cur_be32(c);
    return hi << 32 | tl_cur_be32(c);
}

void tl_sketch_save(const struct tl_sketch *s, struct tl_sink *w);
/* Reads what tl_sketch_save wrote into an empty s; false (the cursor failed) when cut or corrupt.
 */
bool tl_sketch_load(struct tl_sketch *s, struct tl_cursor *c);

#endif
