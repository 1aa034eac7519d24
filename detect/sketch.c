/*
 * sketch.c - exact sets and sliding HyperLogLogs over hours of packet time
 * (see sketch.h for the design, the error bound and the memory).
 *
 * Invariants: exact slots are 0 (empty) or (48-bit hash | relative hour) with
 * a non-zero hash part, at most 3/4 of cap used, cap a power of two. HLL pairs
 * are sorted as 32-bit words, so by (register, hour, rank); within a register
 * hours strictly rise and ranks strictly fall. When `cached`, c24/c30 (and the
 * HyperLogLog's per-window histograms of register values) are those at `hour`.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sketch.h"

enum {
    SK_M = 1 << TL_SKETCH_P,
    SK_Q = 64 - TL_SKETCH_P - 16, /* hash bits left for the rank: 48-bit hashes */
    SK_RANKS = SK_Q + 2,          /* register values 0..Q+1 */
    SK_REL_MAX = 0xffff,          /* relative hours fit 16 bits */
    SK_MIN_PAIRS = 256,
};

/*
 * The HyperLogLog block: per-window histograms of register values; each
 * register's highest rank at the latest hour added (most adds repeat an item
 * seen this hour and stop there, without a search); then the pairs.
 */
struct sk_hll {
    uint16_t hist[2][SK_RANKS]; /* [0]: 24 h, [1]: 30 d; registers holding each value */
    uint32_t cur_hour;
    uint8_t cur[SK_M];
    uint32_t pairs[];
};

static uint64_t sk_h48(uint64_t hash)
{
    uint64_t h = hash & ~(uint64_t)SK_REL_MAX;
    return h ? h : (uint64_t)1 << 16;
}

static uint32_t sk_since(uint32_t hour, uint32_t window)
{
    return hour >= window - 1 ? hour - (window - 1) : 0;
}

static uint32_t sk_pair(uint32_t reg, uint32_t rel, uint32_t rank)
{
    return reg << 22 | rel << 6 | rank;
}
static uint32_t sk_preg(uint32_t p)
{
    return p >> 22;
}
static uint32_t sk_prel(uint32_t p)
{
    return (p >> 6) & SK_REL_MAX;
}
static uint32_t sk_prank(uint32_t p)
{
    return p & 63;
}

void tl_sketch_clear(struct tl_sketch *s)
{
    free(s->v);
    memset(s, 0, sizeof(*s));
}

/* Frees the storage of a sketch whose items all aged out; the cached counts stay true. */
static void sk_release(struct tl_sketch *s)
{
    free(s->v);
    s->v = NULL;
    s->n = s->cap = 0;
    s->hll = false;
}

size_t tl_sketch_bytes(const struct tl_sketch *s)
{
    if (!s->v)
        return 0;
    return s->hll ? sizeof(struct sk_hll) + (size_t)s->cap * 4 : (size_t)s->cap * 8;
}

/* ---- the estimator (Ertl 2017, "improved raw estimator") ---- */

static double sk_sigma(double x)
{
    if (x == 1.0)
        return INFINITY;
    double y = 1, z = x, prev;
    do {
        x *= x;
        prev = z;
        z += x * y;
        y += y;
    } while (z != prev);
    return z;
}

static double sk_tau(double x)
{
    if (x == 0.0 || x == 1.0)
        return 0;
    double y = 1, z = 1 - x, prev;
    do {
        x = sqrt(x);
        prev = z;
        y *= 0.5;
        z -= (1 - x) * (1 - x) * y;
    } while (z != prev);
    return z / 3;
}

static uint32_t sk_estimate(const uint16_t hist[SK_RANKS])
{
    double m = SK_M, z = m * sk_tau(1 - hist[SK_Q + 1] / m);
    for (int k = SK_Q; k >= 1; k--)
        z = 0.5 * (z + hist[k]);
    z += m * sk_sigma(hist[0] / m);
    double e = m * m / (2 * M_LN2) / z;
    return e >= 4e9 ? 4000000000u : (uint32_t)llround(e);
}

/* ---- exact ---- */

static uint64_t *sk_slot(uint64_t *slots, uint32_t cap, uint64_t h)
{
    uint32_t i = (uint32_t)(h >> 16) & (cap - 1);
    while (slots[i] && (slots[i] & ~(uint64_t)SK_REL_MAX) != h)
        i = (i + 1) & (cap - 1);
    return &slots[i];
}

/* Rebuilds the table at capacity cap keeping the slots whose hour is `keep_from` or later,
 * with relative hours moved down by `shift`. */
static bool sk_exact_rebuild(struct tl_sketch *s, uint32_t cap, uint32_t keep_from, uint32_t shift)
{
    uint64_t *slots = calloc(cap, 8), *old = s->v;
    if (!slots)
        return false;
    s->n = 0;
    for (uint32_t i = 0; old && i < s->cap; i++) {
        uint32_t rel = (uint32_t)(old[i] & SK_REL_MAX);
        if (!old[i] || s->base + rel < keep_from || rel < shift)
            continue;
        *sk_slot(slots, cap, old[i] & ~(uint64_t)SK_REL_MAX) = old[i] - shift;
        s->n++;
    }
    free(old);
    s->v = slots;
    s->cap = cap;
    s->base += shift;
    return true;
}

/* Items seen at hour `keep_from` or later. */
static uint32_t sk_exact_live(const struct tl_sketch *s, uint32_t keep_from)
{
    const uint64_t *slots = s->v;
    uint32_t live = 0;
    for (uint32_t i = 0; i < s->cap; i++)
        live += slots[i] && s->base + (uint32_t)(slots[i] & SK_REL_MAX) >= keep_from;
    return live;
}

static uint32_t sk_exact_cap(uint32_t n)
{
    uint32_t cap = 4;
    while (n * 4 > cap * 3)
        cap *= 2;
    return cap;
}

static void sk_exact_counts(const struct tl_sketch *s, uint32_t s24, uint32_t s30, uint32_t *c24,
                            uint32_t *c30)
{
    const uint64_t *slots = s->v;
    *c24 = *c30 = 0;
    for (uint32_t i = 0; slots && i < s->cap; i++) {
        if (!slots[i])
            continue;
        uint32_t h = s->base + (uint32_t)(slots[i] & SK_REL_MAX);
        *c24 += h >= s24;
        *c30 += h >= s30;
    }
}

/* ---- sliding HyperLogLog ---- */

static uint32_t sk_lower(const uint32_t *p, uint32_t n, uint32_t key)
{
    uint32_t lo = 0, hi = n;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (p[mid] < key)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* Where register reg's pairs are: [*lo, *hi). */
static void sk_range(const uint32_t *p, uint32_t n, uint32_t reg, uint32_t *lo, uint32_t *hi)
{
    *lo = *hi = sk_lower(p, n, reg << 22);
    while (*hi < n && sk_preg(p[*hi]) == reg)
        (*hi)++;
}

/* A register's value for "since rel": the rank of its first pair at or after it. */
static uint32_t sk_reg_value(const uint32_t *p, uint32_t lo, uint32_t hi, uint32_t since_rel)
{
    for (uint32_t i = lo; i < hi; i++)
        if (sk_prel(p[i]) >= since_rel)
            return sk_prank(p[i]);
    return 0;
}

static bool sk_hll_reserve(struct tl_sketch *s, uint32_t more)
{
    if (s->n + more <= s->cap)
        return true;
    uint32_t cap = s->cap ? s->cap : SK_MIN_PAIRS;
    while (cap < s->n + more)
        cap *= 2;
    struct sk_hll *h = realloc(s->v, sizeof(*h) + (size_t)cap * 4);
    if (!h)
        return false;
    if (!s->v)
        memset(h, 0, sizeof(*h));
    s->v = h;
    s->cap = cap;
    return true;
}

/* The relative hour of `hour` (0 for an hour older than the base). */
static uint32_t sk_rel(const struct tl_sketch *s, uint32_t hour)
{
    return hour > s->base ? hour - s->base : 0;
}

/* Inserts (rel, rank) into register reg's list; false when a pair dominates it. */
static bool sk_hll_insert(struct tl_sketch *s, uint32_t reg, uint32_t rel, uint32_t rank)
{
    struct sk_hll *h = s->v;
    uint32_t lo, hi, tmp[SK_RANKS + 1], k = 0, add = sk_pair(reg, rel, rank);
    bool placed = false;

    sk_range(h->pairs, s->n, reg, &lo, &hi);
    for (uint32_t i = lo; i < hi; i++)
        if (sk_prel(h->pairs[i]) >= rel && sk_prank(h->pairs[i]) >= rank)
            return false;
    for (uint32_t i = lo; i < hi && k < SK_RANKS; i++) {
        uint32_t p = h->pairs[i];
        if (!placed && sk_prel(p) > rel) {
            tmp[k++] = add;
            placed = true;
        }
        if (sk_prel(p) > rel || sk_prank(p) > rank)
            tmp[k++] = p;
    }
    if (!placed)
        tmp[k++] = add;
    if (k > hi - lo) {
        if (!sk_hll_reserve(s, k - (hi - lo)))
            return false;
        h = s->v;
    }
    memmove(h->pairs + lo + k, h->pairs + hi, (size_t)(s->n - hi) * 4);
    memcpy(h->pairs + lo, tmp, (size_t)k * 4);
    s->n = s->n + k - (hi - lo);
    return true;
}

/* Adds to the HyperLogLog, keeping the cached histograms when the hour is the cached one. */
static bool sk_hll_add(struct tl_sketch *s, uint64_t h48, uint32_t hour)
{
    uint32_t reg = (uint32_t)(h48 >> (64 - TL_SKETCH_P));
    uint64_t w = h48 << TL_SKETCH_P | (uint64_t)1 << (TL_SKETCH_P + 15);
    uint32_t rank = (uint32_t)__builtin_clzll(w) + 1, rel = sk_rel(s, hour), old[2] = { 0, 0 };
    struct sk_hll *h = s->v;
    bool keep = s->cached && hour == s->hour;

    if (hour == h->cur_hour && rank <= h->cur[reg])
        return false; /* a pair of this hour ranks as high */
    if (keep) {
        uint32_t lo, hi;
        sk_range(h->pairs, s->n, reg, &lo, &hi);
        old[0] = sk_reg_value(h->pairs, lo, hi, sk_rel(s, sk_since(hour, TL_SKETCH_DAY_HOURS)));
        old[1] = sk_reg_value(h->pairs, lo, hi, sk_rel(s, sk_since(hour, TL_SKETCH_WINDOW_HOURS)));
    }
    if (!sk_hll_insert(s, reg, rel, rank))
        return false;
    h = s->v;
    if (hour > h->cur_hour) {
        memset(h->cur, 0, sizeof(h->cur));
        h->cur_hour = hour;
    }
    if (hour == h->cur_hour)
        h->cur[reg] = (uint8_t)rank;
    s->cached = keep;
    if (!keep)
        return true;
    for (int win = 0; win < 2; win++)
        if (rank > old[win]) {
            h->hist[win][old[win]]--;
            h->hist[win][rank]++;
        }
    s->c24 = sk_estimate(h->hist[0]);
    s->c30 = sk_estimate(h->hist[1]);
    return true;
}

static void sk_hll_hist(const struct tl_sketch *s, uint32_t since, uint16_t hist[SK_RANKS])
{
    const struct sk_hll *h = s->v;
    uint32_t rel = sk_rel(s, since);
    memset(hist, 0, SK_RANKS * sizeof(hist[0]));
    hist[0] = SK_M;
    for (uint32_t i = 0; i < s->n;) {
        uint32_t reg = sk_preg(h->pairs[i]), j = i;
        while (j < s->n && sk_preg(h->pairs[j]) == reg)
            j++;
        uint32_t v = sk_reg_value(h->pairs, i, j, rel);
        hist[0]--;
        hist[v]++;
        i = j;
    }
}

/* Turns the exact table into a HyperLogLog holding the same items. */
static bool sk_promote(struct tl_sketch *s)
{
    struct tl_sketch t = { .base = s->base, .hll = true };
    const uint64_t *slots = s->v;
    if (!sk_hll_reserve(&t, 2 * s->n))
        return false;
    for (uint32_t i = 0; i < s->cap; i++)
        if (slots[i])
            sk_hll_add(&t, slots[i] & ~(uint64_t)SK_REL_MAX,
                       t.base + (uint32_t)(slots[i] & SK_REL_MAX));
    free(s->v);
    *s = t;
    return true;
}

/* ---- both forms ---- */

/*
 * Drops what is older than the 30 days ending at `hour`, and moves the base up
 * when relative hours would no longer fit 16 bits.
 */
static void sk_prune(struct tl_sketch *s, uint32_t hour)
{
    uint32_t keep = sk_since(hour, TL_SKETCH_WINDOW_HOURS);
    uint32_t shift = hour - s->base > SK_REL_MAX / 2 && keep > s->base ? keep - s->base : 0;

    if (!s->v)
        return;
    if (!s->hll) {
        uint32_t live = sk_exact_live(s, keep);
        if (live == 0)
            sk_release(s);
        else if (live < s->n || shift || sk_exact_cap(live) < s->cap)
            sk_exact_rebuild(s, sk_exact_cap(live), keep, shift);
        return;
    }
    struct sk_hll *h = s->v;
    uint32_t o = 0, keep_rel = sk_rel(s, keep);
    for (uint32_t i = 0; i < s->n; i++) {
        uint32_t p = h->pairs[i];
        if (sk_prel(p) >= keep_rel && sk_prel(p) >= shift)
            h->pairs[o++] = sk_pair(sk_preg(p), sk_prel(p) - shift, sk_prank(p));
    }
    s->n = o;
    s->base += shift;
    if (o == 0) {
        sk_release(s);
    } else if (o < s->cap / 4 && s->cap > SK_MIN_PAIRS) {
        struct sk_hll *shrunk = realloc(h, sizeof(*h) + (size_t)(s->cap / 2) * 4);
        if (shrunk) {
            s->v = shrunk;
            s->cap /= 2;
        }
    }
}

static bool sk_exact_add(struct tl_sketch *s, uint64_t h48, uint32_t hour)
{
    uint64_t *slot = s->v ? sk_slot(s->v, s->cap, h48) : NULL;
    uint32_t rel = sk_rel(s, hour);
    bool keep = s->cached && hour == s->hour;

    if (slot && *slot) {
        uint32_t old = s->base + (uint32_t)(*slot & SK_REL_MAX);
        if (old >= hour)
            return false;
        *slot = h48 | rel;
        s->c24 += keep && old < sk_since(hour, TL_SKETCH_DAY_HOURS);
        s->c30 += keep && old < sk_since(hour, TL_SKETCH_WINDOW_HOURS);
        s->cached = keep;
        return true;
    }
    if (s->n >= TL_SKETCH_EXACT_MAX) {
        sk_prune(s, hour); /* what it drops was outside the cached windows */
        if (s->n >= TL_SKETCH_EXACT_MAX) {
            if (!sk_promote(s))
                return false;
            sk_hll_add(s, h48, hour);
            return true;
        }
        if (!s->v) /* all aged out: the table is gone */
            s->base = hour;
        rel = sk_rel(s, hour); /* the base may have moved */
    }
    if (!s->v || (s->n + 1) * 4 > s->cap * 3) {
        if (!sk_exact_rebuild(s, s->v ? s->cap * 2 : 4, 0, 0))
            return false;
    }
    *sk_slot(s->v, s->cap, h48) = h48 | rel;
    s->n++;
    s->c24 += keep;
    s->c30 += keep;
    s->cached = keep;
    return true;
}

bool tl_sketch_add(struct tl_sketch *s, uint64_t hash, uint32_t hour)
{
    if (hour > s->base && hour - s->base > SK_REL_MAX)
        sk_prune(s, hour); /* moves the base up */
    if (!s->v)
        s->base = hour;
    uint64_t h48 = sk_h48(hash);
    return s->hll ? sk_hll_add(s, h48, hour) : sk_exact_add(s, h48, hour);
}

void tl_sketch_counts(struct tl_sketch *s, uint32_t hour, uint64_t *c24, uint64_t *c30)
{
    if (!s->cached || s->hour != hour) {
        uint32_t s24 = sk_since(hour, TL_SKETCH_DAY_HOURS);
        uint32_t s30 = sk_since(hour, TL_SKETCH_WINDOW_HOURS);
        sk_prune(s, hour);
        if (s->hll) {
            struct sk_hll *h = s->v;
            sk_hll_hist(s, s24, h->hist[0]);
            sk_hll_hist(s, s30, h->hist[1]);
            s->c24 = sk_estimate(h->hist[0]);
            s->c30 = sk_estimate(h->hist[1]);
        } else {
            sk_exact_counts(s, s24, s30, &s->c24, &s->c30);
        }
        s->hour = hour;
        s->cached = true;
    }
    *c24 = s->c24;
    *c30 = s->c30;
}

uint64_t tl_sketch_count_since(const struct tl_sketch *s, uint32_t since)
{
    uint32_t c, unused;
    if (!s->hll) {
        sk_exact_counts(s, since, since, &c, &unused);
        return c;
    }
    uint16_t hist[SK_RANKS];
    sk_hll_hist(s, since, hist);
    return sk_estimate(hist);
}

/* ---- serialisation ---- */

void tl_sketch_save(const struct tl_sketch *s, struct tl_sink *w)
{
    tl_sink_u8(w, s->hll);
    tl_sink_u32(w, s->base);
    tl_sink_u32(w, s->n);
    if (s->hll) {
        const struct sk_hll *h = s->v;
        for (uint32_t i = 0; i < s->n; i++)
            tl_sink_u32(w, h->pairs[i]);
        return;
    }
    const uint64_t *slots = s->v;
    for (uint32_t i = 0; slots && i < s->cap; i++)
        if (slots[i])
            tl_sink_u64(w, slots[i]);
}

static bool sk_load_exact(struct tl_sketch *s, struct tl_cursor *c, uint32_t n)
{
    if (n > TL_SKETCH_EXACT_MAX)
        return false;
    if (n && !sk_exact_rebuild(s, sk_exact_cap(n), 0, 0))
        return false;
    for (uint32_t i = 0; i < n; i++) {
        uint64_t v = tl_sketch_be64(c), h = v & ~(uint64_t)SK_REL_MAX;
        uint64_t *slot = h ? sk_slot(s->v, s->cap, h) : NULL;
        if (!tl_cur_ok(c) || !slot || *slot) /* cut, an empty hash, or twice the same */
            return false;
        *slot = v;
        s->n++;
    }
    return true;
}

static bool sk_load_hll(struct tl_sketch *s, struct tl_cursor *c, uint32_t n)
{
    s->hll = true;
    if (n == 0 || n > (uint32_t)SK_M * SK_RANKS)
        return false;
    if (n > tl_cur_left(c) / 4) {
        tl_cur_fail(c, TL_CUR_SHORT);
        return false;
    }
    if (!sk_hll_reserve(s, n))
        return false;
    struct sk_hll *h = s->v;
    for (uint32_t i = 0; i < n; i++) {
        uint32_t p = tl_cur_be32(c), rank = sk_prank(p);
        if (!tl_cur_ok(c) || rank == 0 || rank > SK_Q + 1)
            return false;
        if (i > 0) { /* sorted; within a register, ranks fall */
            uint32_t q = h->pairs[i - 1];
            if (p <= q || (sk_preg(p) == sk_preg(q) && rank >= sk_prank(q)))
                return false;
        }
        h->pairs[i] = p;
        s->n++;
    }
    return true;
}

bool tl_sketch_load(struct tl_sketch *s, struct tl_cursor *c)
{
    uint8_t mode = tl_cur_u8(c);
    uint32_t base = tl_cur_be32(c), n = tl_cur_be32(c);
    bool ok = tl_cur_ok(c) && mode <= 1;

    memset(s, 0, sizeof(*s));
    s->base = base;
    if (ok)
        ok = mode ? sk_load_hll(s, c, n) : sk_load_exact(s, c, n);
    if (!ok) {
        tl_sketch_clear(s);
        if (tl_cur_ok(c))
            tl_cur_fail(c, TL_CUR_BAD);
    }
    return ok;
}
