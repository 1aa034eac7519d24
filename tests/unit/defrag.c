/*
 * defrag.c - fragment reassembly: orders, duplicates, overlaps, IPv6, timeout,
 * caps, impossible fragments, and every cut of a fragment under ASan.
 *
 * Fragments are built here as raw IP packets, decoded with tl_decode() as the
 * worker does, and each reassembled datagram is checked byte by byte and by
 * decoding it again.
 */
#include <stdlib.h>

#include "check.h"
#include "cursor.h"
#include "defrag.h"
#include "dissect.h"
#include "stats.h"

enum { T_MAX = 70000 };

static const uint8_t T_SRC4[4] = { 10, 0, 0, 1 }, T_DST4[4] = { 10, 0, 0, 2 };
static const uint8_t T_SRC6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 1 };
static const uint8_t T_DST6[16] = { 0x20, 0x01, 0x0d, 0xb8, [15] = 2 };

struct t_env {
    struct tl_config cfg;
    struct tl_stats st;
    struct tl_hash_secret ks;
    struct tl_defrag *df;
};

static void t_env_init(struct t_env *e, uint64_t max_dgrams, uint64_t max_bytes)
{
    memset(e, 0, sizeof(*e));
    e->cfg.max_frag_datagrams = max_dgrams;
    e->cfg.max_frag_bytes = max_bytes;
    e->cfg.frag_timeout = 30 * 1000000ULL;
    tl_hash_secret_init(&e->ks, 1);
    e->df = tl_defrag_new(&e->cfg, &e->st, &e->ks);
    CHECK(e->df != NULL);
}

static uint8_t *t_prev; /* the copy t_feed() last returned */

static void t_env_done(struct t_env *e)
{
    tl_defrag_free(e->df);
    free(t_prev);
    t_prev = NULL;
}

/* A UDP datagram of n bytes (header + pattern), the payload that gets fragmented. */
static void t_udp(uint8_t *p, uint32_t n, uint8_t salt)
{
    p[0] = 0x30, p[1] = 0x39; /* 12345 */
    p[2] = 0x00, p[3] = 0x35; /* 53 */
    p[4] = (uint8_t)(n >> 8), p[5] = (uint8_t)n;
    p[6] = p[7] = 0; /* no checksum */
    for (uint32_t i = 8; i < n; i++)
        p[i] = (uint8_t)(i * 7 + salt);
}

static uint16_t t_cksum(const uint8_t *p, size_t n)
{
    uint32_t s = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        s += (uint32_t)p[i] << 8 | p[i + 1];
    while (s >> 16)
        s = (s & 0xffff) + (s >> 16);
    return (uint16_t)~s;
}

/* An IPv4 fragment carrying data[0, len) at byte offset off. Returns the packet length. */
static uint32_t t_frag4(uint8_t *p, uint16_t id, uint32_t off, bool more, const uint8_t *data,
                        uint32_t len)
{
    uint32_t total = 20 + len;
    uint16_t fo = (uint16_t)((off / 8) | (more ? 0x2000 : 0));
    memset(p, 0, 20);
    p[0] = 0x45;
    p[2] = (uint8_t)(total >> 8), p[3] = (uint8_t)total;
    p[4] = (uint8_t)(id >> 8), p[5] = (uint8_t)id;
    p[6] = (uint8_t)(fo >> 8), p[7] = (uint8_t)fo;
    p[8] = 64;
    p[9] = TL_IPPROTO_UDP;
    memcpy(p + 12, T_SRC4, 4);
    memcpy(p + 16, T_DST4, 4);
    uint16_t ck = t_cksum(p, 20);
    p[10] = (uint8_t)(ck >> 8), p[11] = (uint8_t)ck;
    memcpy(p + 20, data, len);
    return total;
}

/*
 * An IPv6 fragment; with_ext puts an 8-byte Destination Options header before
 * the Fragment header (the unfragmentable part reassembly drops).
 */
static uint32_t t_frag6(uint8_t *p, uint32_t id, uint32_t off, bool more, const uint8_t *data,
                        uint32_t len, bool with_ext)
{
    uint32_t ext = with_ext ? 8 : 0, plen = ext + 8 + len;
    memset(p, 0, 40 + ext + 8);
    p[0] = 0x60;
    p[4] = (uint8_t)(plen >> 8), p[5] = (uint8_t)plen;
    p[6] = with_ext ? 60 : 44;
    p[7] = 64;
    memcpy(p + 8, T_SRC6, 16);
    memcpy(p + 24, T_DST6, 16);
    uint8_t *f = p + 40;
    if (with_ext) {
        f[0] = 44;
        f[1] = 0;
        f[2] = 1, f[3] = 4; /* PadN: 4 bytes of padding */
        f += 8;
    }
    uint16_t om = (uint16_t)(off | (more ? 1 : 0));
    f[0] = TL_IPPROTO_UDP;
    f[2] = (uint8_t)(om >> 8), f[3] = (uint8_t)om;
    f[4] = (uint8_t)(id >> 24), f[5] = (uint8_t)(id >> 16), f[6] = (uint8_t)(id >> 8),
    f[7] = (uint8_t)id;
    memcpy(f + 8, data, len);
    return 40 + plen;
}

/* Decodes a fragment as the worker would, then feeds it; the packet is an exact heap copy. */
static const uint8_t *t_feed(struct t_env *e, const uint8_t *pkt, uint32_t n, uint64_t ts,
                             uint32_t *len)
{
    struct tl_decoded d;
    uint8_t *p = tl_test_dup(pkt, n);
    memset(&d, 0, sizeof(d));
    d.ts_us = ts;
    d.caplen = d.wirelen = n;
    CHECK_EQ(tl_decode(&d, TL_LINK_RAW, p, n), TL_DECODE_OK);
    CHECK(d.is_fragment);
    const uint8_t *out = tl_defrag_add(e->df, &d, p, len);
    free(p); /* the result must borrow nothing from the fragment */
    free(t_prev);
    t_prev = NULL;
    if (out) { /* an exact copy, so ASan sees a wrong *len */
        t_prev = tl_test_dup(out, *len);
        out = t_prev;
    }
    return out;
}

/* The reassembled datagram decodes whole and carries `udp` as its payload. */
static void t_check_v4(const uint8_t *out, uint32_t len, const uint8_t *udp, uint32_t n)
{
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK_EQ(len, 20 + n);
    CHECK_EQ(out[0], 0x45);
    CHECK_EQ((uint32_t)out[2] << 8 | out[3], 20 + n);
    CHECK_EQ(out[6] & 0x3f, 0); /* MF and offset cleared */
    CHECK_EQ(out[7], 0);
    CHECK_EQ(t_cksum(out, 20), 0); /* a valid checksum sums to 0xffff */
    CHECK(memcmp(out + 20, udp, n) == 0);

    struct tl_decoded d2;
    memset(&d2, 0, sizeof(d2));
    d2.caplen = d2.wirelen = len;
    CHECK_EQ(tl_decode(&d2, TL_LINK_RAW, out, len), TL_DECODE_OK);
    CHECK(!d2.is_fragment);
    CHECK_EQ(d2.ip_proto, TL_IPPROTO_UDP);
    CHECK_EQ(d2.sport, 12345);
    CHECK_EQ(d2.dport, 53);
    CHECK_EQ(d2.payload_len, n - 8);
    CHECK(!d2.truncated);
}

static void t_check_v6(const uint8_t *out, uint32_t len, const uint8_t *udp, uint32_t n)
{
    CHECK(out != NULL);
    if (!out)
        return;
    CHECK_EQ(len, 40 + n);
    CHECK_EQ(out[0] >> 4, 6);
    CHECK_EQ((uint32_t)out[4] << 8 | out[5], n);
    CHECK_EQ(out[6], TL_IPPROTO_UDP);
    CHECK(memcmp(out + 8, T_SRC6, 16) == 0 && memcmp(out + 24, T_DST6, 16) == 0);
    CHECK(memcmp(out + 40, udp, n) == 0);

    struct tl_decoded d2;
    memset(&d2, 0, sizeof(d2));
    d2.caplen = d2.wirelen = len;
    CHECK_EQ(tl_decode(&d2, TL_LINK_RAW, out, len), TL_DECODE_OK);
    CHECK(!d2.is_fragment);
    CHECK_EQ(d2.ipv, 6);
    CHECK_EQ(d2.ip_proto, TL_IPPROTO_UDP);
    CHECK_EQ(d2.dport, 53);
    CHECK_EQ(d2.payload_len, n - 8);
}

static void t_no_leftovers(struct t_env *e)
{
    uint64_t bytes = 1;
    CHECK_EQ(tl_defrag_held(e->df, &bytes), 0);
    CHECK_EQ(bytes, 0);
}

/* Three fragments of a 100-byte UDP datagram: [0,40) [40,80) [80,100). */
static const uint32_t T3_OFF[3] = { 0, 40, 80 }, T3_LEN[3] = { 40, 40, 20 };

static void t_run3_v4(const int order[3], uint16_t id)
{
    struct t_env e;
    uint8_t udp[100], pkt[200];
    uint32_t len = 0;
    t_env_init(&e, 16, 1 << 20);
    t_udp(udp, sizeof(udp), 3);
    for (int i = 0; i < 3; i++) {
        int k = order[i];
        uint32_t n = t_frag4(pkt, id, T3_OFF[k], k != 2, udp + T3_OFF[k], T3_LEN[k]);
        const uint8_t *out = t_feed(&e, pkt, n, 1000 + (uint64_t)i, &len);
        if (i < 2) {
            CHECK(out == NULL); /* complete only once the last hole is filled */
            CHECK_EQ(tl_defrag_held(e.df, NULL), 1);
        } else {
            t_check_v4(out, len, udp, sizeof(udp));
        }
    }
    CHECK_EQ(e.st.v[TL_STAT_FRAGS], 3);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_DONE], 1);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_OVERLAP], 0);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_BAD], 0);
    t_no_leftovers(&e);
    t_env_done(&e);
}

static void test_in_order(void)
{
    static const int order[3] = { 0, 1, 2 };
    t_run3_v4(order, 0x1234);
}

/* Every arrival order of three fragments; the datagram completes on the third. */
static void test_out_of_order(void)
{
    static const int orders[][3] = {
        { 0, 2, 1 }, { 1, 0, 2 }, { 1, 2, 0 }, { 2, 0, 1 }, { 2, 1, 0 }
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(orders); i++)
        t_run3_v4(orders[i], (uint16_t)(0x100 + i));
}

/* The middle fragment arrives last: both ends known, one hole left. */
static void test_last_hole(void)
{
    static const int order[3] = { 2, 0, 1 };
    t_run3_v4(order, 7);
}

static void test_duplicate(void)
{
    struct t_env e;
    uint8_t udp[64], pkt[128];
    uint32_t len = 0, n;
    t_env_init(&e, 16, 1 << 20);
    t_udp(udp, sizeof(udp), 9);
    n = t_frag4(pkt, 1, 0, true, udp, 32);
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    CHECK(t_feed(&e, pkt, n, 2, &len) == NULL);
    n = t_frag4(pkt, 1, 32, false, udp + 32, 32);
    const uint8_t *out = t_feed(&e, pkt, n, 3, &len);
    t_check_v4(out, len, udp, sizeof(udp));
    CHECK_EQ(e.st.v[TL_STAT_FRAG_OVERLAP], 1);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_DONE], 1);
    /* A late duplicate after completion starts a new datagram, which then times out. */
    CHECK(t_feed(&e, pkt, n, 4, &len) == NULL);
    CHECK_EQ(tl_defrag_held(e.df, NULL), 1);
    tl_defrag_expire(e.df, 4 + e.cfg.frag_timeout + 1);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_EXPIRED], 1);
    t_no_leftovers(&e);
    t_env_done(&e);
}

/* Overlapping data keeps the first copy, whichever fragment came first. */
static void test_overlap_first_wins(void)
{
    for (int first_a = 0; first_a < 2; first_a++) {
        struct t_env e;
        uint8_t udp[64], a[48], b[40], want[64], pkt[128];
        uint32_t len = 0;
        t_env_init(&e, 16, 1 << 20);
        t_udp(udp, sizeof(udp), 1);
        memcpy(a, udp, 8); /* A: [0,48) = UDP header + 'A'; B: [24,64) final = 'B' */
        memset(a + 8, 'A', sizeof(a) - 8);
        memset(b, 'B', sizeof(b));
        memcpy(want, a, 24);
        memset(want + 24, first_a ? 'A' : 'B', 24);
        memset(want + 48, 'B', 16);

        uint8_t pa[128];
        uint32_t na = t_frag4(pa, 5, 0, true, a, sizeof(a));
        uint32_t nb = t_frag4(pkt, 5, 24, false, b, sizeof(b));
        const uint8_t *out;
        if (first_a) {
            CHECK(t_feed(&e, pa, na, 1, &len) == NULL);
            out = t_feed(&e, pkt, nb, 2, &len);
        } else {
            CHECK(t_feed(&e, pkt, nb, 1, &len) == NULL);
            out = t_feed(&e, pa, na, 2, &len);
        }
        CHECK(out != NULL);
        if (out) {
            CHECK_EQ(len, 20 + 64);
            CHECK(memcmp(out + 20, want, 64) == 0);
        }
        CHECK_EQ(e.st.v[TL_STAT_FRAG_OVERLAP], 1);
        t_no_leftovers(&e);
        t_env_done(&e);
    }
}

static void test_ipv6(void)
{
    for (int ext = 0; ext < 2; ext++) {
        struct t_env e;
        uint8_t udp[200], pkt[300];
        uint32_t len = 0, n;
        t_env_init(&e, 16, 1 << 20);
        t_udp(udp, sizeof(udp), 5);
        n = t_frag6(pkt, 0xdeadbeef, 96, false, udp + 96, 104, ext);
        CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
        n = t_frag6(pkt, 0xdeadbeef, 0, true, udp, 48, ext);
        CHECK(t_feed(&e, pkt, n, 2, &len) == NULL);
        n = t_frag6(pkt, 0xdeadbeef, 48, true, udp + 48, 48, ext);
        const uint8_t *out = t_feed(&e, pkt, n, 3, &len);
        t_check_v6(out, len, udp, sizeof(udp));
        CHECK_EQ(e.st.v[TL_STAT_FRAG_DONE], 1);
        t_no_leftovers(&e);
        t_env_done(&e);
    }
}

/* The same id from another VLAN is another datagram. */
static void test_vlan_keys(void)
{
    struct t_env e;
    uint8_t udp[64], pkt[128];
    uint32_t len = 0, n;
    struct tl_decoded d;
    t_env_init(&e, 16, 1 << 20);
    t_udp(udp, sizeof(udp), 2);
    n = t_frag4(pkt, 9, 0, true, udp, 32);
    memset(&d, 0, sizeof(d));
    d.caplen = n;
    CHECK_EQ(tl_decode(&d, TL_LINK_RAW, pkt, n), TL_DECODE_OK);
    d.nvlan = 1;
    d.vlan[0] = 100;
    CHECK(tl_defrag_add(e.df, &d, pkt, &len) == NULL);
    n = t_frag4(pkt, 9, 32, false, udp + 32, 32);
    CHECK(t_feed(&e, pkt, n, 2, &len) == NULL); /* no VLAN: does not complete VLAN 100's */
    CHECK_EQ(tl_defrag_held(e.df, NULL), 2);
    t_env_done(&e);
}

static void test_timeout(void)
{
    struct t_env e;
    uint8_t udp[64], pkt[128];
    uint32_t len = 0, n;
    t_env_init(&e, 16, 1 << 20);
    t_udp(udp, sizeof(udp), 4);
    n = t_frag4(pkt, 1, 0, true, udp, 32);
    CHECK(t_feed(&e, pkt, n, 1000, &len) == NULL);
    tl_defrag_expire(e.df, 1000 + e.cfg.frag_timeout); /* not older than the timeout yet */
    CHECK_EQ(tl_defrag_held(e.df, NULL), 1);
    tl_defrag_expire(e.df, 1000 + e.cfg.frag_timeout + 1);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_EXPIRED], 1);
    t_no_leftovers(&e);
    n = t_frag4(pkt, 1, 32, false, udp + 32, 32);
    CHECK(t_feed(&e, pkt, n, 1000 + e.cfg.frag_timeout + 2, &len) == NULL);

    /* A later fragment's own time expires what it finds, without a tl_defrag_expire() call. */
    n = t_frag4(pkt, 2, 0, true, udp, 32);
    CHECK(t_feed(&e, pkt, n, 100000000, &len) == NULL);
    n = t_frag4(pkt, 2, 32, false, udp + 32, 32);
    CHECK(t_feed(&e, pkt, n, 100000000 + e.cfg.frag_timeout + 1, &len) == NULL);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_EXPIRED], 3);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_DONE], 0);
    t_env_done(&e);
}

static void test_cap_eviction(void)
{
    struct t_env e;
    uint8_t udp[64], pkt[128];
    uint32_t len = 0, n;
    t_env_init(&e, 2, 1 << 20);
    t_udp(udp, sizeof(udp), 8);
    for (uint16_t id = 1; id <= 3; id++) {
        n = t_frag4(pkt, id, 0, true, udp, 32);
        CHECK(t_feed(&e, pkt, n, id, &len) == NULL);
    }
    CHECK_EQ(e.st.v[TL_STAT_FRAG_CAPPED], 1); /* id 1, the oldest, made room for id 3 */
    CHECK_EQ(tl_defrag_held(e.df, NULL), 2);
    for (uint16_t id = 2; id <= 3; id++) {
        n = t_frag4(pkt, id, 32, false, udp + 32, 32);
        const uint8_t *out = t_feed(&e, pkt, n, 10, &len);
        t_check_v4(out, len, udp, sizeof(udp));
    }
    n = t_frag4(pkt, 1, 32, false, udp + 32, 32);
    CHECK(t_feed(&e, pkt, n, 11, &len) == NULL);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_DONE], 2);
    t_env_done(&e);

    t_env_init(&e, 0, 1 << 20); /* nothing may be tracked */
    n = t_frag4(pkt, 1, 0, true, udp, 32);
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_CAPPED], 1);
    t_no_leftovers(&e);
    t_env_done(&e);
}

static void test_bytes_cap(void)
{
    struct t_env e;
    uint8_t udp[4000], pkt[4100];
    uint32_t len = 0, n;
    uint64_t one;
    t_env_init(&e, 16, 1 << 20);
    t_udp(udp, sizeof(udp), 6);
    n = t_frag4(pkt, 1, 0, true, udp, 1000);
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    tl_defrag_held(e.df, &one);
    t_env_done(&e);

    /* Room for one datagram's first allocation, not for a second datagram. */
    t_env_init(&e, 16, one + 100);
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    n = t_frag4(pkt, 2, 0, true, udp, 1000);
    CHECK(t_feed(&e, pkt, n, 2, &len) == NULL);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_BYTES_CAPPED], 1);
    CHECK_EQ(tl_defrag_held(e.df, NULL), 1); /* the refused datagram left nothing behind */
    /* Growing id 1 past its first allocation does not fit either. */
    n = t_frag4(pkt, 1, 3000, false, udp + 3000, 1000);
    CHECK(t_feed(&e, pkt, n, 3, &len) == NULL);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_BYTES_CAPPED], 2);
    uint64_t b;
    tl_defrag_held(e.df, &b);
    CHECK(b <= e.cfg.max_frag_bytes);
    t_env_done(&e);
}

static void test_bad_fragments(void)
{
    struct t_env e;
    uint8_t data[64] = { 0 }, pkt[128];
    uint32_t len = 0, n;
    t_env_init(&e, 16, 1 << 20);

    n = t_frag4(pkt, 1, 65528, false, data, 16); /* 20 + 65528 + 16 > 65535 */
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    n = t_frag4(pkt, 2, 0, true, data, 12); /* non-final, not a multiple of 8 */
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_BAD], 2);
    CHECK_EQ(tl_defrag_held(e.df, NULL), 0);

    n = t_frag4(pkt, 3, 16, false, data, 16); /* ends at 32 */
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    n = t_frag4(pkt, 3, 32, true, data, 8); /* data past the end */
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    n = t_frag4(pkt, 3, 8, false, data, 16); /* a second, different end */
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_BAD], 4);

    n = t_frag4(pkt, 4, 0, true, data, 48); /* data up to 48 ... */
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    n = t_frag4(pkt, 4, 16, false, data, 16); /* ... then a last fragment ending at 32 */
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_BAD], 5);

    n = t_frag6(pkt, 5, 65528, false, data, 16, false); /* IPv6: payload past 65535 */
    CHECK(t_feed(&e, pkt, n, 1, &len) == NULL);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_BAD], 6);
    CHECK_EQ(e.st.v[TL_STAT_FRAG_DONE], 0);
    CHECK_EQ(e.st.v[TL_STAT_FRAGS], 8);
    t_env_done(&e);
}

/* Every cut of a fragment, in exact-size copies: a cut fragment is refused, nothing read past. */
static void test_every_cut(void)
{
    uint8_t udp[64], full[200];
    t_udp(udp, sizeof(udp), 3);
    for (int v6 = 0; v6 < 2; v6++) {
        uint32_t n =
            v6 ? t_frag6(full, 77, 0, true, udp, 48, true) : t_frag4(full, 77, 0, true, udp, 48);
        struct tl_decoded d;
        memset(&d, 0, sizeof(d));
        d.caplen = n;
        CHECK_EQ(tl_decode(&d, TL_LINK_RAW, full, n), TL_DECODE_OK);
        for (uint32_t cut = 0; cut < n; cut++) {
            struct t_env e;
            uint32_t len = 0;
            t_env_init(&e, 16, 1 << 20);
            uint8_t *p = tl_test_dup(full, cut);
            d.caplen = cut;
            CHECK(tl_defrag_add(e.df, &d, p, &len) == NULL);
            CHECK_EQ(e.st.v[TL_STAT_FRAG_BAD], 1);
            CHECK_EQ(tl_defrag_held(e.df, NULL), 0);
            free(p);
            t_env_done(&e);
        }
    }
}

const struct tl_test tl_tests_defrag[] = {
    { "in_order", test_in_order },
    { "out_of_order", test_out_of_order },
    { "last_hole", test_last_hole },
    { "duplicate", test_duplicate },
    { "overlap_first_wins", test_overlap_first_wins },
    { "ipv6", test_ipv6 },
    { "vlan_keys", test_vlan_keys },
    { "timeout", test_timeout },
    { "cap_eviction", test_cap_eviction },
    { "bytes_cap", test_bytes_cap },
    { "bad_fragments", test_bad_fragments },
    { "every_cut", test_every_cut },
    { 0 },
};
