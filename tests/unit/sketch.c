/*
 * sketch.c - distinct counts over hour windows: exact while small, a sliding
 * HyperLogLog past TL_SKETCH_EXACT_MAX; the error bound of sketch.h on
 * 100 000 hosts, the windows, the cache against a full recount, the memory,
 * and the snapshot form (every cut of it refused, never a crash).
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "domain.h"
#include "sketch.h"

enum { H0 = 480000 }; /* an hour in 2024 */

static uint64_t item(uint32_t i)
{
    return tl_domain_hash(&i, sizeof(i));
}

static void counts(struct tl_sketch *s, uint32_t hour, uint64_t *c24, uint64_t *c30)
{
    tl_sketch_counts(s, hour, c24, c30);
    /* The cached, incrementally kept counts equal a recount from scratch. */
    CHECK_EQ(*c24, tl_sketch_count_since(s, hour - 23));
    CHECK_EQ(*c30, tl_sketch_count_since(s, hour - 719));
}

/* Within 3 standard errors of the HyperLogLog (sketch.h: +-10 %). */
static bool close_to(uint64_t est, uint64_t truth)
{
    double d = (double)est - (double)truth;
    return d <= 0.10 * (double)truth && -d <= 0.10 * (double)truth;
}

static void test_exact(void)
{
    struct tl_sketch s = { 0 };
    uint64_t c24, c30;

    counts(&s, H0, &c24, &c30);
    CHECK_EQ(c30, 0);
    for (uint32_t i = 0; i < 5; i++)
        CHECK(tl_sketch_add(&s, item(i), H0));
    CHECK(!tl_sketch_add(&s, item(3), H0)); /* seen this hour already */
    counts(&s, H0, &c24, &c30);
    CHECK_EQ(c24, 5);
    CHECK_EQ(c30, 5);
    CHECK(!s.hll);
    CHECK_EQ(tl_sketch_bytes(&s), 8 * 8); /* 5 items: 8 slots */

    /* Hosts 0-4 stop; 10-14 keep asking every hour for 30 hours. */
    for (uint32_t h = H0; h <= H0 + 30; h++) {
        for (uint32_t i = 10; i < 15; i++)
            tl_sketch_add(&s, item(i), h);
        counts(&s, h, &c24, &c30);
    }
    CHECK_EQ(c24, 5);
    CHECK_EQ(c30, 10);
    CHECK_EQ(tl_sketch_count_since(&s, H0 + 1), 5);
    CHECK_EQ(tl_sketch_count_since(&s, H0), 10);
    counts(&s, H0 + 719, &c24, &c30); /* hour H0 is the window's first */
    CHECK_EQ(c24, 0);
    CHECK_EQ(c30, 10);
    counts(&s, H0 + 720, &c24, &c30); /* 0-4 aged out */
    CHECK_EQ(c30, 5);
    counts(&s, H0 + 750, &c24, &c30); /* all of them */
    CHECK_EQ(c30, 0);
    CHECK_EQ(tl_sketch_bytes(&s), 0);
    tl_sketch_clear(&s);
}

static void test_one_item_memory(void)
{
    struct tl_sketch s = { 0 };
    tl_sketch_add(&s, item(1), H0);
    CHECK_EQ(tl_sketch_bytes(&s), 32);
    tl_sketch_clear(&s);
    CHECK_EQ(tl_sketch_bytes(&s), 0);
}

static void test_promotion(void)
{
    struct tl_sketch s = { 0 };
    uint64_t c24, c30;

    for (uint32_t i = 0; i < TL_SKETCH_EXACT_MAX; i++)
        tl_sketch_add(&s, item(i), H0);
    counts(&s, H0, &c24, &c30);
    CHECK(!s.hll);
    CHECK_EQ(c30, TL_SKETCH_EXACT_MAX);
    CHECK_EQ(tl_sketch_bytes(&s), 256 * 8); /* the largest exact table: 2 KiB */
    tl_sketch_add(&s, item(TL_SKETCH_EXACT_MAX), H0);
    CHECK(s.hll);
    counts(&s, H0, &c24, &c30);
    CHECK(close_to(c30, TL_SKETCH_EXACT_MAX + 1));
    tl_sketch_clear(&s);

    /* A full table whose items aged out takes new ones without turning into a HyperLogLog. */
    for (uint32_t i = 0; i < TL_SKETCH_EXACT_MAX; i++)
        tl_sketch_add(&s, item(i), H0);
    tl_sketch_add(&s, item(1000), H0 + 800);
    CHECK(!s.hll);
    counts(&s, H0 + 800, &c24, &c30);
    CHECK_EQ(c30, 1);
    tl_sketch_clear(&s);
}

/* The bound of sketch.h on 100 000 distinct hosts, and on the way there. */
static void test_accuracy(void)
{
    static const uint32_t at[] = { 200, 500, 1000, 2000, 3000, 5000, 10000, 30000, 100000 };
    struct tl_sketch s = { 0 };
    uint64_t c24, c30;
    size_t k = 0;
    double sum_sq = 0;

    for (uint32_t i = 0; i < 100000; i++) {
        tl_sketch_add(&s, item(i), H0);
        if (k < TL_ARRAY_LEN(at) && i + 1 == at[k]) {
            counts(&s, H0, &c24, &c30);
            if (!close_to(c30, at[k]))
                tl_check_report(__FILE__, __LINE__, "%u distinct: estimate %llu", at[k],
                                (unsigned long long)c30);
            CHECK_EQ(c24, c30);
            double e = ((double)c30 - at[k]) / at[k];
            sum_sq += e * e;
            k++;
        }
    }
    CHECK_EQ(k, TL_ARRAY_LEN(at));
    CHECK(sum_sq / (double)k < 0.05 * 0.05); /* rms error well inside the bound */
    /* Memory: far below the 157 KiB bound; one hour of pairs is about one per register. */
    CHECK(tl_sketch_bytes(&s) <= 8 * 1024);
    tl_sketch_clear(&s);
}

/* Hosts that stop asking leave the 24 h count, then the 30 d count. */
static void test_windows(void)
{
    struct tl_sketch s = { 0 };
    uint64_t c24, c30;

    for (uint32_t i = 0; i < 50000; i++) /* A: once, at H0 */
        tl_sketch_add(&s, item(i), H0);
    for (uint32_t h = H0; h <= H0 + 30; h++) /* B: every hour for 31 hours */
        for (uint32_t i = 1000000; i < 1020000; i++)
            tl_sketch_add(&s, item(i), h);
    counts(&s, H0 + 30, &c24, &c30);
    CHECK(close_to(c24, 20000));
    CHECK(close_to(c30, 70000));
    CHECK(tl_sketch_bytes(&s) <= 64 * 1024);

    counts(&s, H0 + 60, &c24, &c30);
    CHECK_EQ(c24, 0);
    CHECK(close_to(c30, 70000));
    counts(&s, H0 + 725, &c24, &c30); /* A aged out */
    CHECK(close_to(c30, 20000));
    counts(&s, H0 + 760, &c24, &c30); /* B too: nothing is left */
    CHECK_EQ(c30, 0);
    CHECK_EQ(tl_sketch_bytes(&s), 0);
    CHECK(!s.hll);
    tl_sketch_clear(&s);
}

/* Adds at random hours, counts at random moments: cache == recount, in both forms. */
static void test_cache(void)
{
    struct tl_sketch s = { 0 };
    uint64_t c24, c30, r = 12345;
    uint32_t hour = H0;

    for (int i = 0; i < 40000; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        if ((r >> 60) == 0)
            hour += (uint32_t)(r >> 40) % 50;
        uint32_t who = (uint32_t)(r >> 33) % (i < 5000 ? 100 : 5000);
        tl_sketch_add(&s, item(who), hour);
        if ((r >> 20) % 7 == 0)
            counts(&s, hour, &c24, &c30);
    }
    CHECK(s.hll);
    tl_sketch_clear(&s);
}

/* Packet time jumps further than 16 bits of hours: the base moves, nothing breaks. */
static void test_rebase(void)
{
    struct tl_sketch s = { 0 };
    uint64_t c24, c30;
    for (uint32_t i = 0; i < 10; i++)
        tl_sketch_add(&s, item(i), 100);
    tl_sketch_add(&s, item(99), 100 + 70000);
    counts(&s, 100 + 70000, &c24, &c30);
    CHECK_EQ(c30, 1);
    for (uint32_t i = 0; i < 500; i++)
        tl_sketch_add(&s, item(i), 200000);
    tl_sketch_add(&s, item(7), 300000);
    counts(&s, 300000, &c24, &c30);
    CHECK_EQ(c30, 1);
    tl_sketch_clear(&s);
}

struct blob {
    uint8_t b[65536];
    size_t n;
};

static void blob_put(void *arg, const void *p, size_t n)
{
    struct blob *bl = arg;
    if (n <= sizeof(bl->b) - bl->n) {
        memcpy(bl->b + bl->n, p, n);
        bl->n += n;
    }
}

static void roundtrip(uint32_t items)
{
    static struct blob bl;
    struct tl_sketch s = { 0 }, t;
    struct tl_sink w = { blob_put, &bl };
    uint64_t a24, a30, b24, b30;

    for (uint32_t i = 0; i < items; i++)
        tl_sketch_add(&s, item(i), H0 + i % 40);
    bl.n = 0;
    tl_sketch_save(&s, &w);
    struct tl_cursor c = tl_cur_make(bl.b, bl.n);
    CHECK(tl_sketch_load(&t, &c));
    CHECK_EQ(tl_cur_left(&c), 0);
    counts(&s, H0 + 40, &a24, &a30);
    counts(&t, H0 + 40, &b24, &b30);
    CHECK_EQ(a24, b24);
    CHECK_EQ(a30, b30);
    tl_sketch_clear(&t);

    /* Every cut is refused, from an exact-size copy. */
    for (size_t cut = 0; cut < bl.n; cut += 1 + cut / 64) {
        uint8_t *copy = tl_test_dup(bl.b, cut);
        c = tl_cur_make(copy, cut);
        CHECK(!tl_sketch_load(&t, &c));
        CHECK(!tl_cur_ok(&c));
        CHECK_EQ(tl_sketch_bytes(&t), 0);
        free(copy);
    }
    tl_sketch_clear(&s);
}

static void test_save_load(void)
{
    roundtrip(0);
    roundtrip(3);
    roundtrip(TL_SKETCH_EXACT_MAX);
    roundtrip(3000);
}

static void test_load_corrupt(void)
{
    struct tl_sketch t;
    struct tl_cursor c;
    /* An exact table of two equal items, a HyperLogLog with a rank of 0, one unsorted. */
    static const uint8_t dup[] = { 0, 0, 0, 0, 1, 0, 0, 0, 2, 1, 2, 3, 4,
                                   5, 6, 0, 1, 1, 2, 3, 4, 5, 6, 0, 1 };
    static const uint8_t rank0[] = { 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0x40 };
    static const uint8_t unsorted[] = { 1, 0, 0, 0, 1, 0, 0, 0, 2, 0, 0, 1, 0x41, 0, 0, 0, 0x41 };
    static const uint8_t huge[] = { 1, 0, 0, 0, 1, 0xff, 0xff, 0xff, 0xff, 0, 0, 0, 1 };
    static const uint8_t mode[] = { 7, 0, 0, 0, 1, 0, 0, 0, 0 };
    const struct {
        const uint8_t *p;
        size_t n;
    } bad[] = { { dup, sizeof(dup) },
                { rank0, sizeof(rank0) },
                { unsorted, sizeof(unsorted) },
                { huge, sizeof(huge) },
                { mode, sizeof(mode) } };
    for (size_t i = 0; i < TL_ARRAY_LEN(bad); i++) {
        uint8_t *copy = tl_test_dup(bad[i].p, bad[i].n);
        c = tl_cur_make(copy, bad[i].n);
        if (tl_sketch_load(&t, &c))
            tl_check_report(__FILE__, __LINE__, "corrupt sketch %zu accepted", i);
        CHECK_EQ(tl_sketch_bytes(&t), 0);
        free(copy);
    }
}

const struct tl_test tl_tests_sketch[] = {
    { "exact", test_exact },
    { "one_item_memory", test_one_item_memory },
    { "promotion", test_promotion },
    { "accuracy", test_accuracy },
    { "windows", test_windows },
    { "cache", test_cache },
    { "rebase", test_rebase },
    { "save_load", test_save_load },
    { "load_corrupt", test_load_corrupt },
    { NULL, NULL },
};
