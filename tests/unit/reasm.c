/*
 * reasm.c - TCP stream reassembly: order, retransmissions, overlaps, gaps,
 * mid-stream starts, wrap-around, caps, SYN/FIN/RST, acks and truncation.
 *
 * A sink writes a transcript: bytes as they are, a gap as "<n>" (payloads are
 * letters only), so each check compares the exact stream. Every payload is an
 * exact-size heap copy freed right after the call, so ASan catches a held
 * pointer into the caller's packet; every case ends with the budget back at 0.
 */
#include <stdlib.h>

#include "check.h"
#include "packet.h"
#include "reasm.h"

struct t_out {
    char buf[4096];
    size_t len;
};

static void t_data(void *arg, int dir, const uint8_t *p, size_t n)
{
    struct t_out *o = arg;
    (void)dir;
    CHECK(n > 0);
    CHECK(o->len + n < sizeof(o->buf));
    if (o->len + n < sizeof(o->buf)) {
        memcpy(o->buf + o->len, p, n);
        o->len += n;
    }
}

static void t_gap(void *arg, int dir, uint64_t n)
{
    struct t_out *o = arg;
    (void)dir;
    CHECK(n > 0);
    int k = snprintf(o->buf + o->len, sizeof(o->buf) - o->len, "<%llu>", (unsigned long long)n);
    if (k > 0 && o->len + (size_t)k < sizeof(o->buf))
        o->len += (size_t)k;
}

struct t_env {
    struct tl_reasm r;
    struct tl_reasm_dir d;
    struct t_out out;
    struct tl_reasm_sink sink;
};

static void t_init(struct t_env *e, uint64_t per_flow, uint64_t per_worker)
{
    memset(e, 0, sizeof(*e));
    e->r.max_per_flow = per_flow;
    e->r.max_per_worker = per_worker;
    tl_reasm_init(&e->d);
    e->sink = (struct tl_reasm_sink){ t_data, t_gap, &e->out };
}

/* Feeds s at seq with TCP flags fl; the capture kept cut bytes of it (all when cut < 0). */
static void t_seg_cut(struct tl_reasm_dir *d, struct t_env *e, uint32_t seq, uint8_t fl,
                      const char *s, long cut)
{
    uint32_t n = (uint32_t)strlen(s);
    uint8_t *p = tl_test_dup(s, n);
    struct tl_reasm_seg seg = { .seq = seq, .flags = fl, .p = p, .len = n, .wire = n };
    if (cut >= 0)
        seg.len = (uint32_t)cut;
    tl_reasm_segment(d, 0, &seg, &e->sink, &e->r);
    free(p);
}

static void t_seg(struct t_env *e, uint32_t seq, uint8_t fl, const char *s)
{
    t_seg_cut(&e->d, e, seq, fl, s, -1);
}

static void t_done(struct t_env *e)
{
    tl_reasm_free(&e->d, &e->r);
    CHECK_EQ(e->r.used, 0);
    CHECK(e->d.held == NULL);
}

static void test_in_order(void)
{
    struct t_env e;
    t_init(&e, 1000, 1000);
    t_seg(&e, 1000, TL_TH_SYN, "");
    t_seg(&e, 1001, TL_TH_ACK, "abc");
    t_seg(&e, 1004, TL_TH_ACK, "def");
    CHECK_MEM(e.out.buf, e.out.len, "abcdef");
    CHECK_EQ(e.r.st.segments, 3);
    CHECK_EQ(e.r.st.out_of_order, 0);
    CHECK_EQ(e.r.used, 0);
    CHECK_EQ(e.d.next, 1007);
    t_done(&e);
}

static void test_permutations(void)
{
    static const char *const segs[4] = { "aaaa", "bbb", "cc", "d" };
    static const uint32_t offs[4] = { 0, 4, 7, 9 };
    int perms = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 4; b++)
            for (int c = 0; c < 4; c++)
                for (int x = 0; x < 4; x++) {
                    if (a == b || a == c || a == x || b == c || b == x || c == x)
                        continue;
                    int order[4] = { a, b, c, x };
                    struct t_env e;
                    t_init(&e, 1000, 1000);
                    t_seg(&e, 99, TL_TH_SYN, "");
                    for (int i = 0; i < 4; i++)
                        t_seg(&e, 100 + offs[order[i]], TL_TH_ACK, segs[order[i]]);
                    CHECK_MEM(e.out.buf, e.out.len, "aaaabbbccd");
                    CHECK_EQ(e.r.st.gaps, 0);
                    CHECK_EQ(e.r.used, 0);
                    CHECK_EQ(e.d.nruns, 0);
                    t_done(&e);
                    perms++;
                }
    CHECK_EQ(perms, 24);
}

static void test_retransmission(void)
{
    struct t_env e;
    t_init(&e, 1000, 1000);
    t_seg(&e, 0, TL_TH_SYN, "");
    t_seg(&e, 1, 0, "abc");
    t_seg(&e, 1, 0, "abc"); /* delivered already */
    t_seg(&e, 7, 0, "ghi");
    t_seg(&e, 7, 0, "ghi"); /* held already */
    CHECK_EQ(e.r.used, 3);
    t_seg(&e, 4, 0, "def");
    CHECK_MEM(e.out.buf, e.out.len, "abcdefghi");
    CHECK_EQ(e.r.st.retransmitted, 2);
    CHECK_EQ(e.r.st.out_of_order, 1);
    CHECK_EQ(e.r.st.overlap_conflicts, 0);
    t_done(&e);
}

static void test_partial_overlap(void)
{
    struct t_env e;
    /* A segment reaching back into delivered bytes: only its new tail. */
    t_init(&e, 1000, 1000);
    t_seg(&e, 0, TL_TH_SYN, "");
    t_seg(&e, 1, 0, "abcd");
    t_seg(&e, 3, 0, "cdef");
    CHECK_MEM(e.out.buf, e.out.len, "abcdef");
    CHECK_EQ(e.r.st.retransmitted, 1);
    t_done(&e);

    /* Held runs overlapped at their start, their end, and spanned: one run in the end. */
    t_init(&e, 1000, 1000);
    t_seg(&e, 0, TL_TH_SYN, "");
    t_seg(&e, 3, 0, "cd");
    t_seg(&e, 7, 0, "gh");
    CHECK_EQ(e.d.nruns, 2);
    t_seg(&e, 2, 0, "bcdefghi"); /* fills b, ef, i */
    CHECK_EQ(e.d.nruns, 1);
    CHECK_EQ(e.d.held_bytes, 8);
    t_seg(&e, 8, 0, "hij"); /* overlaps the end of the run: j appended */
    CHECK_EQ(e.d.nruns, 1);
    CHECK_EQ(e.r.used, 9);
    t_seg(&e, 1, 0, "abc"); /* in order, overlapping the run's start */
    CHECK_MEM(e.out.buf, e.out.len, "abcdefghij");
    CHECK_EQ(e.r.st.overlap_conflicts, 0);
    CHECK_EQ(e.r.st.retransmitted, 3);
    CHECK_EQ(e.r.used, 0);
    t_done(&e);
}

static void test_conflict(void)
{
    struct t_env e;
    t_init(&e, 1000, 1000);
    t_seg(&e, 0, TL_TH_SYN, "");
    t_seg(&e, 4, 0, "XYZ");
    t_seg(&e, 4, 0, "xyzw"); /* conflicts with the held copy; w is new */
    CHECK_EQ(e.r.st.overlap_conflicts, 1);
    t_seg(&e, 1, 0, "abcdef"); /* conflicts with XY */
    CHECK_MEM(e.out.buf, e.out.len, "abcXYZw");
    CHECK_EQ(e.r.st.overlap_conflicts, 2);
    t_seg(&e, 1, 0, "ABCDEFGH"); /* behind: nothing kept to compare, only h is new */
    CHECK_MEM(e.out.buf, e.out.len, "abcXYZwH");
    t_done(&e);
}

static void test_gap_at_flush(void)
{
    struct t_env e;
    t_init(&e, 1000, 1000);
    t_seg(&e, 0, TL_TH_SYN, "");
    t_seg(&e, 1, 0, "abc");
    t_seg(&e, 7, 0, "ghi");
    t_seg(&e, 12, 0, "lm");
    tl_reasm_flush(&e.d, 0, &e.sink, &e.r);
    CHECK_MEM(e.out.buf, e.out.len, "abc<3>ghi<2>lm");
    CHECK_EQ(e.r.st.gaps, 2);
    CHECK_EQ(e.r.st.gap_bytes, 5);
    CHECK_EQ(e.r.used, 0);
    t_seg(&e, 4, 0, "def"); /* too late */
    t_seg(&e, 14, 0, "no");
    CHECK_MEM(e.out.buf, e.out.len, "abc<3>ghi<2>lmno");
    t_done(&e);
}

static void test_mid_stream(void)
{
    struct t_env e;
    t_init(&e, 1000, 1000);
    t_seg(&e, 5000, TL_TH_ACK, "");  /* a bare ACK does not start the stream */
    t_seg(&e, 4999, TL_TH_ACK, "k"); /* a keep-alive does, here: no SYN seen */
    t_seg(&e, 5000, TL_TH_ACK, "hello");
    t_seg(&e, 4990, TL_TH_ACK, "early"); /* before the start: never delivered */
    t_seg(&e, 5005, TL_TH_ACK, "world");
    CHECK_MEM(e.out.buf, e.out.len, "khelloworld");
    CHECK_EQ(e.r.st.retransmitted, 1);
    t_done(&e);

    /* A SYN before any byte restarts the stream. */
    t_init(&e, 1000, 1000);
    t_seg(&e, 77, TL_TH_ACK, "");
    t_seg(&e, 10, TL_TH_SYN, "");
    t_seg(&e, 11, 0, "ab");
    CHECK_MEM(e.out.buf, e.out.len, "ab");
    t_done(&e);
}

static void test_wrap(void)
{
    struct t_env e;
    /* The stream a..f sits at 2^32 - 3 .. 2; the runs on both sides of 2^32 join. */
    t_init(&e, 1000, 1000);
    t_seg(&e, 0xfffffffcu, TL_TH_SYN, "");
    t_seg(&e, 1, 0, "ef");
    t_seg(&e, 0xffffffffu, 0, "cd");
    CHECK_EQ(e.r.used, 4);
    CHECK_EQ(e.d.nruns, 1);
    t_seg(&e, 0xfffffffdu, 0, "a");
    CHECK_MEM(e.out.buf, e.out.len, "a");
    tl_reasm_flush(&e.d, 0, &e.sink, &e.r);
    CHECK_MEM(e.out.buf, e.out.len, "a<1>cdef");
    t_seg(&e, 0xfffffffeu, 0, "b"); /* too late */
    t_seg(&e, 3, 0, "g");
    CHECK_MEM(e.out.buf, e.out.len, "a<1>cdefg");
    CHECK_EQ(e.d.next, 4);
    t_done(&e);

    t_init(&e, 1000, 1000);
    t_seg(&e, 0xfffffffcu, TL_TH_SYN, "");
    t_seg(&e, 1, 0, "ef");
    t_seg(&e, 0xffffffffu, 0, "c");
    t_seg(&e, 0, 0, "d");
    CHECK_EQ(e.d.nruns, 1);
    t_seg(&e, 0xfffffffdu, 0, "ab");
    CHECK_MEM(e.out.buf, e.out.len, "abcdef");
    CHECK_EQ(e.d.next, 3);
    t_done(&e);
}

static void test_flow_cap(void)
{
    struct t_env e;
    t_init(&e, 10, 1000);
    t_seg(&e, 0, TL_TH_SYN, "");
    t_seg(&e, 1, 0, "abc");
    t_seg(&e, 6, 0, "fghij");
    t_seg(&e, 12, 0, "lmnop");
    CHECK_EQ(e.d.held_bytes, 10);
    CHECK_EQ(e.r.st.flow_capped, 0);
    t_seg(&e, 18, 0, "rs"); /* 12 > 10: the first hole goes */
    CHECK_MEM(e.out.buf, e.out.len, "abc<2>fghij");
    CHECK_EQ(e.r.st.flow_capped, 1);
    CHECK_EQ(e.d.held_bytes, 7);
    t_seg(&e, 30, 0, "abcdefghijkl"); /* alone past the cap: everything before it goes */
    CHECK_MEM(e.out.buf, e.out.len, "abc<2>fghij<1>lmnop<1>rs<10>abcdefghijkl");
    CHECK_EQ(e.r.st.flow_capped, 4);
    CHECK_EQ(e.r.used, 0);
    t_done(&e);
}

/* A direction after its SYN, holding at most 6 bytes while nothing of it is acknowledged. */
static void t_init_unacked(struct t_env *e)
{
    t_init(e, 100, 1000);
    e->r.max_unacked = 6;
    t_seg(e, 0, TL_TH_SYN, "");
}

/*
 * A direction the other side has acknowledged nothing of (its packets are not
 * in the capture) holds only max_unacked after a hole; once an ack is seen,
 * max_per_flow holds.
 */
static void test_unacked_cap(void)
{
    struct t_env e;
    t_init_unacked(&e);
    t_seg(&e, 1, 0, "abc");
    t_seg(&e, 6, 0, "fgh");
    t_seg(&e, 9, 0, "ijk");
    CHECK_EQ(e.d.held_bytes, 6);
    t_seg(&e, 12, 0, "l"); /* 7 > 6: the hole is taken as lost */
    CHECK_MEM(e.out.buf, e.out.len, "abc<2>fghijkl");
    CHECK_EQ(e.r.st.unacked_capped, 1);
    CHECK_EQ(e.r.st.flow_capped, 0);
    tl_reasm_ack(&e.d, 0, 13, &e.sink, &e.r); /* the other side shows up */
    t_seg(&e, 20, 0, "uvw");
    t_seg(&e, 23, 0, "xyz");
    t_seg(&e, 26, 0, "0");
    CHECK_EQ(e.d.held_bytes, 7);
    CHECK_EQ(e.r.st.unacked_capped, 1);
    tl_reasm_flush(&e.d, 0, &e.sink, &e.r);
    CHECK_MEM(e.out.buf, e.out.len, "abc<2>fghijkl<7>uvwxyz0");
    t_done(&e);

    /* An ack before the direction's first byte does not count (the other side may have left
     * the capture since, as on a path that is one-way after the request); one after it does. */
    t_init_unacked(&e);
    tl_reasm_ack(&e.d, 0, 1, &e.sink, &e.r);
    t_seg(&e, 1, 0, "abc");
    t_seg(&e, 6, 0, "fghijkl");
    CHECK_MEM(e.out.buf, e.out.len, "abc<2>fghijkl");
    CHECK_EQ(e.r.st.unacked_capped, 1);
    t_done(&e);
    t_init_unacked(&e);
    t_seg(&e, 1, 0, "abc");
    tl_reasm_ack(&e.d, 0, 1, &e.sink, &e.r); /* crosses "abc": the other side is there */
    t_seg(&e, 6, 0, "fghijkl");
    CHECK_EQ(e.d.held_bytes, 7);
    t_seg(&e, 4, 0, "de");
    CHECK_MEM(e.out.buf, e.out.len, "abcdefghijkl");
    CHECK_EQ(e.r.st.unacked_capped, 0);
    t_done(&e);
}

static void test_run_cap(void)
{
    struct t_env e;
    t_init(&e, 100000, 100000);
    t_seg(&e, 0, TL_TH_SYN, "");
    for (uint32_t i = 0; i < TL_REASM_MAX_RUNS + 10; i++)
        t_seg(&e, 2 + 2 * i, 0, "x"); /* one-byte runs after one-byte holes */
    CHECK(e.d.nruns <= TL_REASM_MAX_RUNS);
    CHECK_EQ(e.r.st.flow_capped, 10);
    CHECK_EQ(e.r.st.gaps, 10);
    tl_reasm_flush(&e.d, 0, &e.sink, &e.r);
    CHECK_EQ(e.r.st.gaps, TL_REASM_MAX_RUNS + 10);
    CHECK_EQ(e.r.st.gap_bytes, TL_REASM_MAX_RUNS + 10);
    t_done(&e);
}

static void test_worker_budget(void)
{
    struct t_env e;
    struct tl_reasm_dir d2;
    struct t_out out2 = { .len = 0 };
    struct tl_reasm_sink sink2 = { t_data, t_gap, &out2 };
    t_init(&e, 1000, 10);
    tl_reasm_init(&d2);

    t_seg(&e, 0, TL_TH_SYN, "");
    t_seg(&e, 3, 0, "bcdefg"); /* flow 1 holds 6 */
    struct tl_reasm_seg s = { .seq = 100, .flags = TL_TH_SYN };
    tl_reasm_segment(&d2, 1, &s, &sink2, &e.r);
    uint8_t *p = tl_test_dup("WXYZ", 4);
    s = (struct tl_reasm_seg){ .seq = 103, .p = p, .len = 4, .wire = 4 };
    tl_reasm_segment(&d2, 1, &s, &sink2, &e.r); /* flow 2 holds 4: the worker is full */
    CHECK_EQ(e.r.used, 10);
    CHECK_EQ(e.r.st.worker_capped, 0);
    memcpy(p, "klm", 3);
    s = (struct tl_reasm_seg){ .seq = 110, .p = p, .len = 3, .wire = 3 };
    tl_reasm_segment(&d2, 1, &s, &sink2, &e.r); /* flow 2 must give up its hole */
    free(p);
    CHECK_MEM(out2.buf, out2.len, "<2>WXYZ");
    CHECK_EQ(e.r.st.worker_capped, 1);
    CHECK_EQ(d2.held_bytes, 3);
    CHECK_EQ(e.r.used, 9);
    t_seg(&e, 20, 0, "tu"); /* 11 > 10: flow 1 gives up its hole */
    CHECK_MEM(e.out.buf, e.out.len, "<2>bcdefg");
    CHECK_EQ(e.r.st.worker_capped, 2);
    CHECK_EQ(e.r.used, 5);
    tl_reasm_free(&d2, &e.r);
    CHECK_EQ(e.r.used, 2);
    t_done(&e);
}

static void test_syn_fin_rst(void)
{
    struct t_env e;
    t_init(&e, 1000, 1000);
    t_seg(&e, 100, TL_TH_SYN, "ab");             /* TCP Fast Open: data after the SYN's number */
    t_seg(&e, 100, TL_TH_SYN, "ab");             /* retransmitted SYN */
    t_seg(&e, 106, TL_TH_FIN | TL_TH_ACK, "fg"); /* FIN at 108 */
    t_seg(&e, 108, TL_TH_ACK, "zz");             /* after the FIN: ignored */
    t_seg(&e, 103, 0, "cd");
    CHECK_MEM(e.out.buf, e.out.len, "abcd");
    CHECK_EQ(e.r.used, 2);
    tl_reasm_flush(&e.d, 0, &e.sink, &e.r);
    CHECK_MEM(e.out.buf, e.out.len, "abcd<1>fg");
    t_done(&e);

    /* Bytes missing before a FIN with no payload are a gap at flush. */
    t_init(&e, 1000, 1000);
    t_seg(&e, 0, 0, "abc");
    t_seg(&e, 10, TL_TH_FIN, "");
    tl_reasm_flush(&e.d, 0, &e.sink, &e.r);
    CHECK_MEM(e.out.buf, e.out.len, "abc<7>");
    t_done(&e);

    /* RST: held bytes come out, nothing after, not even its own payload. */
    t_init(&e, 1000, 1000);
    t_seg(&e, 0, 0, "abc");
    t_seg(&e, 5, 0, "fg");
    t_seg(&e, 7, TL_TH_RST, "hi");
    t_seg(&e, 3, 0, "de");
    CHECK_MEM(e.out.buf, e.out.len, "abc<2>fg");
    CHECK_EQ(e.r.used, 0);
    t_done(&e);
}

static void test_ack(void)
{
    struct t_env e;
    t_init(&e, 1000, 1000);
    tl_reasm_ack(&e.d, 0, 50, &e.sink, &e.r); /* not started: ignored */
    t_seg(&e, 0, TL_TH_SYN, "");
    t_seg(&e, 1, 0, "abc");
    t_seg(&e, 7, 0, "ghi");
    t_seg(&e, 13, 0, "mn");
    tl_reasm_ack(&e.d, 0, 3, &e.sink, &e.r); /* behind: ignored */
    tl_reasm_ack(&e.d, 0, 8, &e.sink, &e.r); /* past the first hole only */
    CHECK_MEM(e.out.buf, e.out.len, "abc<3>ghi");
    tl_reasm_ack(&e.d, 0, 20, &e.sink, &e.r); /* past everything: a trailing gap */
    CHECK_MEM(e.out.buf, e.out.len, "abc<3>ghi<3>mn<5>");
    CHECK_EQ(e.d.next, 20);
    t_seg(&e, 20, TL_TH_FIN, "");
    tl_reasm_ack(&e.d, 0, 21, &e.sink, &e.r); /* the FIN's number is no byte */
    CHECK_MEM(e.out.buf, e.out.len, "abc<3>ghi<3>mn<5>");
    t_done(&e);

    /* An ack right at a run's start: the gap, then the run (found by the fuzzer). */
    t_init(&e, 1000, 1000);
    t_seg(&e, 0, 0, "ab");
    t_seg(&e, 5, 0, "fg");
    tl_reasm_ack(&e.d, 0, 5, &e.sink, &e.r);
    CHECK_MEM(e.out.buf, e.out.len, "ab<3>fg");
    CHECK_EQ(e.r.used, 0);
    t_done(&e);
}

static void test_truncated(void)
{
    struct t_env e;
    t_init(&e, 1000, 1000);
    t_seg(&e, 0, TL_TH_SYN, "");
    t_seg_cut(&e.d, &e, 1, 0, "abcdef", 2); /* the capture kept ab */
    t_seg(&e, 7, 0, "gh");
    CHECK_MEM(e.out.buf, e.out.len, "ab<4>gh");
    t_seg_cut(&e.d, &e, 12, 0, "lmno", 1); /* ahead: its l is held */
    t_seg_cut(&e.d, &e, 9, 0, "ijk", 0);   /* nothing captured */
    CHECK_MEM(e.out.buf, e.out.len, "ab<4>gh<3>l");
    tl_reasm_flush(&e.d, 0, &e.sink, &e.r);
    t_done(&e);
}

static void test_probes_and_window(void)
{
    struct t_env e;
    t_init(&e, 1000, 1000);
    t_seg(&e, 0, TL_TH_SYN, "");
    t_seg(&e, 1, 0, "abc");
    t_seg(&e, 3, TL_TH_ACK, "c"); /* keep-alive at next - 1 */
    t_seg(&e, 3, TL_TH_ACK, "");  /* bare keep-alive */
    CHECK_EQ(e.r.st.retransmitted, 0);
    t_seg(&e, 4, TL_TH_ACK, "d"); /* zero-window probe: real data, sent again later */
    t_seg(&e, 4, TL_TH_ACK, "def");
    CHECK_MEM(e.out.buf, e.out.len, "abcdef");
    CHECK_EQ(e.r.st.retransmitted, 1);
    t_seg(&e, 7 + (1u << 30) + 1, 0, "far"); /* not this stream */
    CHECK_EQ(e.r.st.out_of_window, 1);
    CHECK_EQ(e.r.used, 0);
    t_done(&e);
}

static void test_free_releases(void)
{
    struct t_env e;
    t_init(&e, 100000, 100000);
    t_seg(&e, 0, TL_TH_SYN, "");
    for (uint32_t i = 0; i < 50; i++)
        t_seg(&e, 1000 - 10 * i, 0, "0123456789"); /* backwards: one growing run */
    CHECK_EQ(e.d.nruns, 1);
    CHECK_EQ(e.r.used, 500);
    CHECK_EQ(e.out.len, 0);
    t_done(&e);
    CHECK_EQ(e.d.held_bytes, 0);
    CHECK_EQ(e.d.nruns, 0);
}

const struct tl_test tl_tests_reasm[] = {
    { "in_order", test_in_order },
    { "permutations", test_permutations },
    { "retransmission", test_retransmission },
    { "partial_overlap", test_partial_overlap },
    { "conflict", test_conflict },
    { "gap_at_flush", test_gap_at_flush },
    { "mid_stream", test_mid_stream },
    { "wrap", test_wrap },
    { "flow_cap", test_flow_cap },
    { "unacked_cap", test_unacked_cap },
    { "run_cap", test_run_cap },
    { "worker_budget", test_worker_budget },
    { "syn_fin_rst", test_syn_fin_rst },
    { "ack", test_ack },
    { "truncated", test_truncated },
    { "probes_and_window", test_probes_and_window },
    { "free_releases", test_free_releases },
    { 0 },
};
