/*
 * socks.c - the SOCKS dissector through dtest: SOCKS 5 with no login, with a
 * username/password login accepted and refused, no acceptable method, IPv6,
 * SOCKS 4 and 4A, the hand-over of a granted CONNECT (and none for BIND or a
 * port without a dissector), the unanswered, gaps, garbage, and both sides of
 * every exchange cut at every byte.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dissect.h"
#include "dtest.h"

/* SOCKS 5: a greeting offering "no login", the choice, CONNECT www.example.com:80, success. */
static const uint8_t greet_none[] = { 0x05, 0x01, 0x00 };
static const uint8_t method_none[] = { 0x05, 0x00 };
static const uint8_t req_name[] = { 0x05, 0x01, 0x00, 0x03, 0x0f, 'w', 'w', 'w', '.', 'e',  'x',
                                    'a',  'm',  'p',  'l',  'e',  '.', 'c', 'o', 'm', 0x00, 0x50 };
static const uint8_t reply_ok[] = { 0x05, 0x00, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x01, 0x9c, 0x40 };
static const char get[] = "GET / HTTP/1.1\r\nHost: www.example.com\r\n\r\n";
static const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n";

/* SOCKS 5 with a login (RFC 1929): alice / secret, accepted; CONNECT 192.0.2.10:2222. */
static const uint8_t greet_login[] = { 0x05, 0x02, 0x00, 0x02 };
static const uint8_t method_login[] = { 0x05, 0x02 };
static const uint8_t login[] = { 0x01, 0x05, 'a', 'l', 'i', 'c', 'e',
                                 0x06, 's',  'e', 'c', 'r', 'e', 't' };
static const uint8_t login_ok[] = { 0x01, 0x00 };
static const uint8_t login_bad[] = { 0x01, 0x01 };
static const uint8_t req_ip[] = { 0x05, 0x01, 0x00, 0x01, 0xc0, 0x00, 0x02, 0x0a, 0x08, 0xae };

/* SOCKS 5: CONNECT [2001:db8::5]:443, host unreachable. */
static const uint8_t req_ip6[] = {
    0x05, 0x01, 0x00, 0x04, 0x20, 0x01, 0x0d, 0xb8, 0,    0,    0,
    0,    0,    0,    0,    0,    0,    0,    0,    0x05, 0x01, 0xbb
};
static const uint8_t reply_unreach[] = { 0x05, 0x04, 0x00, 0x01, 0, 0, 0, 0, 0, 0 };

/* SOCKS 4: CONNECT 192.0.2.10:80 as "bob", granted; 4A: secure.example:443, rejected. */
static const uint8_t req4[] = { 0x04, 0x01, 0x00, 0x50, 0xc0, 0x00, 0x02, 0x0a, 'b', 'o', 'b', 0 };
static const uint8_t reply4_ok[] = { 0x00, 0x5a, 0x00, 0x50, 0xc0, 0x00, 0x02, 0x0a };
static const uint8_t req4a[] = { 0x04, 0x01, 0x01, 0xbb, 0x00, 0x00, 0x00, 0x01,
                                 0x00, 's',  'e',  'c',  'u',  'r',  'e',  '.',
                                 'e',  'x',  'a',  'm',  'p',  'l',  'e',  0x00 };
static const uint8_t reply4_no[] = { 0x00, 0x5b, 0, 0, 0, 0, 0, 0 };

static bool has(const struct dtest *t, const char *needle)
{
    if (dtest_count(t, needle) > 0)
        return true;
    fprintf(stderr, "  missing %s in %.*s\n", needle, (int)t->out.len, t->out.p);
    return false;
}

/* One side's messages, in order, each its own delivery. */
struct msg {
    int dir;
    const void *p;
    size_t n;
};

static void run(struct dtest *t, const struct msg *m, size_t n)
{
    dtest_init(t, &tl_socks_dissector);
    for (size_t i = 0; i < n; i++)
        dtest_tcp(t, m[i].dir, 1000 + i, m[i].p, m[i].n);
}

#define M(d, a)                                                                                    \
    {                                                                                              \
        d, a, sizeof(a)                                                                            \
    }

static void test_socks5_connect(void)
{
    const struct msg m[] = {
        M(0, greet_none), M(1, method_none),         M(0, req_name), { 0, get, sizeof(get) - 1 },
        M(1, reply_ok),   { 1, ok, sizeof(ok) - 1 },
    };
    struct dtest t;
    run(&t, m, TL_ARRAY_LEN(m));
    CHECK_EQ(t.records, 1);
    CHECK(t.handover == &tl_http_dissector);
    CHECK(has(&t, "\"version\":5,\"command\":\"connect\",\"auth_methods\":[\"none\"],"
                  "\"auth_method\":\"none\",\"request.name\":\"www.example.com\","
                  "\"request_p\":80,\"status\":\"succeeded\",\"reply_code\":0,"
                  "\"bound.host\":\"192.0.2.1\",\"bound_p\":40000,"
                  "\"proxied_protocol\":\"http\",\"parse_status\":\"ok\""));
    CHECK(has(&t, "\"ts\":\"1970-01-01T00:00:00.001000Z\"")); /* the greeting's time */
    /* what follows each side's handshake is left for the next dissector */
    CHECK_EQ(t.stream_len[0], sizeof(get) - 1);
    CHECK_EQ(t.stream_len[1], sizeof(ok) - 1);
    CHECK_EQ(t.counters[TL_DC_MESSAGES], 4);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    dtest_free(&t);
}

static void test_socks5_login(void)
{
    const struct msg m[] = {
        M(0, greet_login), M(1, method_login), M(0, login),
        M(1, login_ok),    M(0, req_ip),       M(1, reply_ok),
    };
    struct dtest t;
    run(&t, m, TL_ARRAY_LEN(m));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"user\":\"alice\",\"auth_methods\":[\"none\",\"username_password\"],"
                  "\"auth_method\":\"username_password\",\"auth_success\":true,"
                  "\"request.host\":\"192.0.2.10\",\"request_p\":2222"));
    CHECK_EQ(dtest_count(&t, "secret"), 0);
    CHECK_EQ(dtest_count(&t, "proxied_protocol"), 0); /* nothing is for port 2222 */
    CHECK(t.handover == NULL);
    dtest_tcp(&t, 0, 2000, get, sizeof(get) - 1); /* passed over */
    CHECK_EQ(t.stream_len[0], 0);
    dtest_free(&t);

    /* refused: written at once, not unanswered */
    const struct msg r[] = {
        M(0, greet_login), M(1, method_login), M(0, login), M(1, login_bad), M(0, req_ip),
    };
    run(&t, r, TL_ARRAY_LEN(r));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"auth_success\":false"));
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK_EQ(dtest_count(&t, "reply_status"), 0);
    CHECK_EQ(dtest_count(&t, "request"), 0);
    dtest_free(&t);

    /* no acceptable method */
    static const uint8_t none[] = { 0x05, 0xff };
    const struct msg n[] = { M(0, greet_login), M(1, none) };
    run(&t, n, TL_ARRAY_LEN(n));
    CHECK(has(&t, "\"auth_method\":\"no_acceptable\""));
    dtest_free(&t);

    /* GSSAPI (RFC 1961): written, not followed */
    static const uint8_t gss[] = { 0x05, 0x01 };
    static const uint8_t token[] = { 0x01, 0x01, 0x00, 0x02, 0xaa, 0xbb };
    const struct msg g[] = { M(0, greet_login), M(1, gss), M(0, token) };
    run(&t, g, TL_ARRAY_LEN(g));
    CHECK(!t.gave_up);
    CHECK(has(&t, "\"auth_method\":\"gssapi\""));
    dtest_free(&t);
}

static void test_socks5_other(void)
{
    const struct msg m[] = {
        M(0, greet_none),
        M(1, method_none),
        M(0, req_ip6),
        M(1, reply_unreach),
    };
    struct dtest t;
    run(&t, m, TL_ARRAY_LEN(m));
    CHECK(has(&t, "\"request.host\":\"2001:db8::5\",\"request_p\":443,"
                  "\"status\":\"Host unreachable\",\"reply_code\":4"));
    CHECK(t.handover == NULL);
    dtest_free(&t);

    /* BIND granted: not handed over */
    uint8_t bind[sizeof(req_name)];
    memcpy(bind, req_name, sizeof(bind));
    bind[1] = 2;
    const struct msg b[] = { M(0, greet_none), M(1, method_none), M(0, bind), M(1, reply_ok) };
    run(&t, b, TL_ARRAY_LEN(b));
    CHECK(has(&t, "\"command\":\"bind\""));
    CHECK(t.handover == NULL);
    dtest_free(&t);

    /* an unknown reply code, in Zeek's form */
    uint8_t odd[sizeof(reply_ok)];
    memcpy(odd, reply_ok, sizeof(odd));
    odd[1] = 0x2a;
    const struct msg o[] = { M(0, greet_none), M(1, method_none), M(0, req_name), M(1, odd) };
    run(&t, o, TL_ARRAY_LEN(o));
    CHECK(has(&t, "\"status\":\"unknown-42\""));
    dtest_free(&t);
}

static void test_socks4(void)
{
    const struct msg m[] = { M(0, req4), M(1, reply4_ok) };
    struct dtest t;
    run(&t, m, TL_ARRAY_LEN(m));
    CHECK(has(&t, "\"version\":4,\"command\":\"connect\",\"user\":\"bob\","
                  "\"request.host\":\"192.0.2.10\",\"request_p\":80,\"status\":\"succeeded\","
                  "\"reply_code\":90"));
    CHECK(t.handover == &tl_http_dissector);
    dtest_free(&t);

    const struct msg a[] = { M(0, req4a), M(1, reply4_no) };
    run(&t, a, TL_ARRAY_LEN(a));
    CHECK(has(&t, "\"request.name\":\"secure.example\",\"request_p\":443,"
                  "\"status\":\"general SOCKS server failure\",\"reply_code\":91"));
    CHECK_EQ(dtest_count(&t, "\"user\""), 0); /* an empty user id */
    CHECK(t.handover == NULL);
    dtest_free(&t);

    /* a user id without its NUL past 255 bytes: malformed, not waited for */
    uint8_t longid[300];
    memcpy(longid, req4, 8);
    memset(longid + 8, 'x', sizeof(longid) - 8);
    dtest_init(&t, &tl_socks_dissector);
    dtest_tcp(&t, 0, 1000, longid, sizeof(longid));
    CHECK(t.gave_up);
    CHECK(has(&t, "\"parse_status\":\"malformed\""));
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 1);
    dtest_free(&t);
}

static void test_unanswered(void)
{
    struct dtest t;
    const struct msg m[] = { M(0, greet_none), M(1, method_none), M(0, req_name) };
    run(&t, m, TL_ARRAY_LEN(m));
    CHECK_EQ(t.records, 0);
    dtest_end(&t);
    CHECK(has(&t, "\"request.name\":\"www.example.com\""));
    CHECK(has(&t, "\"reply_status\":\"flow_ended\""));
    dtest_free(&t);

    /* bytes lost on the server's side before the reply */
    run(&t, m, TL_ARRAY_LEN(m));
    dtest_gap(&t, 1, 10);
    dtest_tcp(&t, 1, 5000, reply_ok, sizeof(reply_ok));
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"reply_status\":\"reply_gap\""));
    dtest_free(&t);
}

static void test_garbage(void)
{
    struct dtest t;
    dtest_init(&t, &tl_socks_dissector);
    dtest_tcp(&t, 0, 1000, get, sizeof(get) - 1);
    CHECK(t.gave_up);
    dtest_end(&t);
    CHECK_EQ(t.records, 0);
    dtest_free(&t);

    /* an address type RFC 1928 does not have: the record says malformed */
    uint8_t bad[sizeof(req_ip)];
    memcpy(bad, req_ip, sizeof(bad));
    bad[3] = 9;
    const struct msg m[] = { M(0, greet_none), M(1, method_none), M(0, bad) };
    run(&t, m, TL_ARRAY_LEN(m));
    CHECK(t.gave_up);
    CHECK(has(&t, "\"parse_status\":\"malformed\""));
    CHECK(has(&t, "\"reply_status\":\"reply_unparseable\""));
    dtest_free(&t);

    /* a greeting offering no method */
    static const uint8_t zero[] = { 0x05, 0x00 };
    dtest_init(&t, &tl_socks_dissector);
    dtest_tcp(&t, 0, 1000, zero, sizeof(zero));
    CHECK(t.gave_up);
    dtest_free(&t);
}

/* Each side's bytes as one stream, cut at every byte into two deliveries: the same output. */
static void test_every_cut(void)
{
    static const struct {
        const uint8_t *c[3], *s[3];
        size_t cn[3], sn[3];
    } ex[] = {
        { { greet_none, req_name },
          { method_none, reply_ok },
          { sizeof(greet_none), sizeof(req_name) },
          { sizeof(method_none), sizeof(reply_ok) } },
        { { greet_login, login, req_ip6 },
          { method_login, login_ok, reply_unreach },
          { sizeof(greet_login), sizeof(login), sizeof(req_ip6) },
          { sizeof(method_login), sizeof(login_ok), sizeof(reply_unreach) } },
        { { req4a }, { reply4_no }, { sizeof(req4a) }, { sizeof(reply4_no) } },
        { { req4 }, { reply4_ok }, { sizeof(req4) }, { sizeof(reply4_ok) } },
    };
    for (size_t e = 0; e < TL_ARRAY_LEN(ex); e++) {
        uint8_t c[128], s[128];
        size_t cn = 0, sn = 0;
        for (int i = 0; i < 3; i++) {
            if (ex[e].c[i])
                memcpy(c + cn, ex[e].c[i], ex[e].cn[i]), cn += ex[e].cn[i];
            if (ex[e].s[i])
                memcpy(s + sn, ex[e].s[i], ex[e].sn[i]), sn += ex[e].sn[i];
        }
        struct dtest whole;
        dtest_init(&whole, &tl_socks_dissector);
        dtest_tcp(&whole, 0, 1000, c, cn);
        dtest_tcp(&whole, 1, 1000, s, sn);
        dtest_end(&whole);
        CHECK_EQ(whole.records, 1);
        for (size_t cut = 0; cut <= (cn > sn ? cn : sn); cut++) {
            size_t cc = cut < cn ? cut : cn, sc = cut < sn ? cut : sn;
            struct dtest t;
            dtest_init(&t, &tl_socks_dissector);
            dtest_tcp(&t, 0, 1000, c, cc);
            dtest_tcp(&t, 1, 1000, s, sc);
            dtest_tcp(&t, 0, 1000, c + cc, cn - cc);
            dtest_tcp(&t, 1, 1000, s + sc, sn - sc);
            dtest_end(&t);
            CHECK(t.out.len == whole.out.len && memcmp(t.out.p, whole.out.p, t.out.len) == 0);
            dtest_free(&t);
            /* and cut short: the client's bytes up to the cut, the flow ends */
            dtest_init(&t, &tl_socks_dissector);
            dtest_tcp(&t, 0, 1000, c, cc);
            dtest_tcp(&t, 1, 1000, s, sc);
            dtest_gap(&t, 1, 5);
            dtest_end(&t);
            CHECK(t.records <= 1);
            dtest_free(&t);
        }
        dtest_free(&whole);
    }
}

const struct tl_test tl_tests_socks[] = {
    { "socks5_connect", test_socks5_connect }, { "socks5_login", test_socks5_login },
    { "socks5_other", test_socks5_other },     { "socks4", test_socks4 },
    { "unanswered", test_unanswered },         { "garbage", test_garbage },
    { "every_cut", test_every_cut },           { 0 },
};
