/*
 * dns.c - the DNS dissector through dtest: crafted messages (every RR type,
 * compression, caps, EDNS, pairing, TCP framing) and messages recorded in
 * pcaps/dns-udp-basic.pcap and pcaps/dns-tcp.pcap. Every input is also
 * replayed cut at every byte, in exact-size heap copies.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dtest.h"

/* ---- a message builder ---- */

struct mb {
    uint8_t b[4096];
    size_t n;
};

static void put(struct mb *m, const void *p, size_t n)
{
    memcpy(m->b + m->n, p, n);
    m->n += n;
}

static void u8(struct mb *m, unsigned v)
{
    m->b[m->n++] = (uint8_t)v;
}

static void u16(struct mb *m, unsigned v)
{
    u8(m, v >> 8);
    u8(m, v & 0xff);
}

static void u32(struct mb *m, uint32_t v)
{
    u16(m, v >> 16);
    u16(m, v & 0xffff);
}

/* "a.b.c" as labels and the root; "" is the root alone. */
static void name(struct mb *m, const char *s)
{
    while (*s) {
        const char *dot = strchr(s, '.');
        size_t n = dot ? (size_t)(dot - s) : strlen(s);
        u8(m, (unsigned)n);
        put(m, s, n);
        s += n + (dot ? 1 : 0);
    }
    u8(m, 0);
}

static void hdr(struct mb *m, unsigned id, unsigned flags, unsigned qd, unsigned an, unsigned ns,
                unsigned ar)
{
    m->n = 0;
    u16(m, id);
    u16(m, flags);
    u16(m, qd);
    u16(m, an);
    u16(m, ns);
    u16(m, ar);
}

static void question(struct mb *m, const char *qname, unsigned qtype)
{
    name(m, qname);
    u16(m, qtype);
    u16(m, 1);
}

/* An RR owned by the question name (pointer to offset 12), RDATA given. */
static void rr(struct mb *m, unsigned type, uint32_t ttl, const void *rd, size_t n)
{
    u16(m, 0xc00c);
    u16(m, type);
    u16(m, 1);
    u32(m, ttl);
    u16(m, (unsigned)n);
    put(m, rd, n);
}

/* Starts an RR whose RDATA the caller appends; rr_end() fills RDLENGTH. */
static size_t rr_begin(struct mb *m, unsigned type, uint32_t ttl)
{
    u16(m, 0xc00c);
    u16(m, type);
    u16(m, 1);
    u32(m, ttl);
    u16(m, 0);
    return m->n;
}

static void rr_end(struct mb *m, size_t start)
{
    size_t n = m->n - start;
    m->b[start - 2] = (uint8_t)(n >> 8);
    m->b[start - 1] = (uint8_t)n;
}

static size_t unhex(const char *s, uint8_t *out)
{
    size_t n = 0;
    for (; s[0] && s[1]; s += 2)
        out[n++] = (uint8_t)strtoul((char[3]){ s[0], s[1], 0 }, NULL, 16);
    return n;
}

/* Replays a datagram cut at every length, with and without capture_cut: no crash, one record. */
static void every_cut_udp(const uint8_t *p, size_t n)
{
    for (size_t cut = 0; cut < n; cut++) {
        for (int cc = 0; cc < 2; cc++) {
            struct dtest t;
            dtest_init(&t, &tl_dns_dissector);
            dtest_udp(&t, 1, 1000, p, cut, cc != 0);
            dtest_end(&t);
            CHECK(t.gave_up || t.records == 1);
            if (t.records == 1)
                CHECK_EQ(dtest_count(&t, "\"status\":\"ok\""), 0);
            if (cc && t.records == 1)
                CHECK_EQ(dtest_count(&t, "\"status\":\"truncated\""), 1);
            dtest_free(&t);
        }
    }
}

/* A response alone through a fresh dtest; returns the dtest for checks (caller frees). */
static void run_udp(struct dtest *t, const struct mb *m)
{
    dtest_init(t, &tl_dns_dissector);
    dtest_udp(t, 1, 1000000, m->b, m->n, false);
    dtest_end(t);
}

static bool has(const struct dtest *t, const char *needle)
{
    if (dtest_count(t, needle) > 0)
        return true;
    fprintf(stderr, "  missing %s in %.*s\n", needle, (int)t->out.len, t->out.p);
    return false;
}

/* ---- cases ---- */

static void test_rr_types(void)
{
    struct mb m;
    hdr(&m, 0x1234, 0x8180, 1, 19, 0, 0);
    question(&m, "example.com", 255);
    rr(&m, 1, 60, "\x0a\x00\x00\x01", 4);
    rr(&m, 28, 60, "\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x01", 16);
    size_t s = rr_begin(&m, 5, 1); /* CNAME www.example.com, compressed */
    name(&m, "www");
    m.n--;
    u16(&m, 0xc00c);
    rr_end(&m, s);
    s = rr_begin(&m, 2, 2);
    name(&m, "NS1.Example.com");
    rr_end(&m, s);
    s = rr_begin(&m, 12, 3);
    name(&m, "host.example.com");
    rr_end(&m, s);
    s = rr_begin(&m, 15, 4);
    u16(&m, 10);
    name(&m, "mail.example.com");
    rr_end(&m, s);
    s = rr_begin(&m, 16, 5);
    put(&m, "\x05hello\x03 w\\", 10);
    rr_end(&m, s);
    s = rr_begin(&m, 33, 6);
    u16(&m, 1);
    u16(&m, 2);
    u16(&m, 389);
    name(&m, "dc1.example.com");
    rr_end(&m, s);
    s = rr_begin(&m, 6, 7);
    name(&m, "ns1.example.com");
    name(&m, "hostmaster.example.com");
    for (int i = 0; i < 5; i++)
        u32(&m, 100);
    rr_end(&m, s);
    s = rr_begin(&m, 257, 8);
    put(&m, "\x00\x05issueletsencrypt.org", 22);
    rr_end(&m, s);
    s = rr_begin(&m, 43, 9); /* DS: key tag, alg 8, digest type 2, digest */
    put(&m, "\x12\x34\x08\x02\xaa\xbb", 6);
    rr_end(&m, s);
    s = rr_begin(&m, 48, 10); /* DNSKEY: flags 257, proto 3, alg 13, key */
    put(&m, "\x01\x01\x03\x0d\x01\x02", 6);
    rr_end(&m, s);
    s = rr_begin(&m, 46, 11); /* RRSIG covering A, signer example.com */
    u16(&m, 1);
    put(&m, "\x0d\x02\x00\x00\x0e\x10\x00\x00\x00\x01\x00\x00\x00\x02\x30\x39", 16);
    u16(&m, 0xc00c);
    put(&m, "\xde\xad", 2);
    rr_end(&m, s);
    s = rr_begin(&m, 47, 12); /* NSEC next a.example.com, bitmap */
    name(&m, "a.example.com");
    put(&m, "\x00\x01\x40", 3);
    rr_end(&m, s);
    s = rr_begin(&m, 65, 13); /* HTTPS 1 . alpn=h2,h3 port=443 ipv4hint ipv6hint ech */
    u16(&m, 1);
    u8(&m, 0);
    put(&m, "\x00\x01\x00\x06\x02h2\x02h3", 10);
    put(&m, "\x00\x03\x00\x02\x01\xbb", 6);
    put(&m, "\x00\x04\x00\x04\xc0\x00\x02\x01", 8);
    put(&m, "\x00\x06\x00\x10\x20\x01\x0d\xb8\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x00\x02", 20);
    put(&m, "\x00\x05\x00\x02\xab\xcd", 6);
    rr_end(&m, s);
    s = rr_begin(&m, 64, 14); /* SVCB 0 svc.example.com (alias form) */
    u16(&m, 0);
    name(&m, "svc.example.com");
    rr_end(&m, s);
    s = rr_begin(&m, 65280, 15);
    put(&m, "\x01\x02\xff", 3);
    rr_end(&m, s);
    s = rr_begin(&m, 50, 16);
    put(&m, "\x01\x00\x00\x0a\x00\x00\x00", 7);
    rr_end(&m, s);
    s = rr_begin(&m, 44, 17);
    put(&m, "\x01\x01\xa6\xb9", 4);
    rr_end(&m, s);

    struct dtest t;
    run_udp(&t, &m);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"answers\":[\"10.0.0.1\",\"2001:db8::1\",\"www.example.com\","
                  "\"ns1.example.com\",\"host.example.com\",\"mail.example.com\","
                  "\"TXT 5 hello TXT 3  w\\\\x5c\",\"dc1.example.com\",\"ns1.example.com\","
                  "\"CAA 0 issue letsencrypt.org\",\"DS 8 2\",\"DNSKEY 13\","
                  "\"RRSIG 1 example.com\",\"NSEC example.com a.example.com\","
                  "\"HTTPS 1 . alpn=h2,h3 port=443 ipv4hint=192.0.2.1 ipv6hint=2001:db8::2 "
                  "ech=abcd\",\"SVCB 0 svc.example.com\",\"TYPE65280 0102ff\",\"NSEC3\","
                  "\"SSHFP: a6b9\"]"));
    CHECK(has(&t, "\"TTLs\":[60,60,1,2,3,4,5,6,7,8,9,10,11,12,13,14,15,16,17]"));
    CHECK(has(&t, "\"qtype_name\":\"*\""));
    CHECK(has(&t, "\"status\":\"ok\""));
    CHECK(has(&t, "\"AA\":false,\"TC\":false,\"RD\":true,\"RA\":true"));
    CHECK(dtest_count(&t, "\"rtt\"") == 0);
    CHECK(dtest_count(&t, "\"rcode_name\":\"NOERROR\"") == 1);
    dtest_free(&t);
    every_cut_udp(m.b, m.n);
}

static void test_compression(void)
{
    struct mb m;
    /* valid: the answer's CNAME target points back into an earlier RDATA */
    hdr(&m, 1, 0x8180, 1, 2, 0, 0);
    question(&m, "example.com", 1);
    size_t s = rr_begin(&m, 5, 1);
    size_t target = m.n;
    name(&m, "a.b");
    m.n--;
    u16(&m, 0xc00c);
    rr_end(&m, s);
    s = rr_begin(&m, 5, 1);
    u8(&m, 1);
    u8(&m, 'x');
    u16(&m, 0xc000 | (unsigned)target);
    rr_end(&m, s);
    struct dtest t;
    run_udp(&t, &m);
    CHECK(has(&t, "\"answers\":[\"a.b.example.com\",\"x.a.b.example.com\"]"));
    CHECK(has(&t, "\"status\":\"ok\""));
    dtest_free(&t);
    every_cut_udp(m.b, m.n);

    /* forward pointer: the question name points past itself */
    hdr(&m, 2, 0x0100, 1, 0, 0, 0);
    u16(&m, 0xc000 | 16);
    u16(&m, 1);
    u16(&m, 1);
    name(&m, "fwd");
    run_udp(&t, &m);
    CHECK(has(&t, "\"status\":\"malformed\""));
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 1);
    dtest_free(&t);

    /* loop: a name that points to itself */
    hdr(&m, 3, 0x0100, 1, 0, 0, 0);
    u8(&m, 1);
    u8(&m, 'a');
    u16(&m, 0xc00c);
    u16(&m, 1);
    u16(&m, 1);
    run_udp(&t, &m);
    CHECK(has(&t, "\"status\":\"malformed\""));
    CHECK(has(&t, "\"query\":\"a\"")); /* what was read before the bad pointer */
    dtest_free(&t);

    /* a pointer to itself at the start of the name */
    hdr(&m, 4, 0x0100, 1, 0, 0, 0);
    u16(&m, 0xc00c);
    u16(&m, 1);
    u16(&m, 1);
    run_udp(&t, &m);
    CHECK(has(&t, "\"status\":\"malformed\""));
    dtest_free(&t);

    /* pointer past the end of the message (in an answer) */
    hdr(&m, 5, 0x8180, 1, 1, 0, 0);
    question(&m, "x", 5);
    s = rr_begin(&m, 5, 1);
    u16(&m, 0xc000 | 0x3fff);
    rr_end(&m, s);
    run_udp(&t, &m);
    CHECK(has(&t, "\"status\":\"malformed\""));
    CHECK(has(&t, "\"query\":\"x\""));
    dtest_free(&t);

    /* a pointer to a pointer, each further back */
    hdr(&m, 6, 0x8180, 1, 2, 0, 0);
    question(&m, "z", 1);
    size_t prev = rr_begin(&m, 5, 1);
    u16(&m, 0xc00c);
    rr_end(&m, prev);
    s = rr_begin(&m, 5, 1);
    u16(&m, 0xc000 | (unsigned)prev); /* -> the previous RDATA, which points to 12 */
    rr_end(&m, s);
    run_udp(&t, &m);
    CHECK(has(&t, "\"answers\":[\"z\",\"z\"]"));
    CHECK(has(&t, "\"status\":\"ok\""));
    dtest_free(&t);
}

static void test_overlong_name(void)
{
    struct mb m;
    hdr(&m, 7, 0x0100, 1, 0, 0, 0);
    char label[64];
    memset(label, 'a', 63);
    label[63] = 0;
    for (int i = 0; i < 5; i++) { /* 5 * 64 + 1 = 321 octets > 255 */
        u8(&m, 63);
        put(&m, label, 63);
    }
    u8(&m, 0);
    u16(&m, 1);
    u16(&m, 1);
    struct dtest t;
    run_udp(&t, &m);
    CHECK(has(&t, "\"status\":\"malformed\""));
    CHECK(has(&t, "\"query\":\"aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa."));
    CHECK(dtest_count(&t, "aaaaaaa") >= 3);
    dtest_free(&t);

    /* exactly 255 octets is fine: 3 * 64 + 62 + 1 */
    hdr(&m, 8, 0x0100, 1, 0, 0, 0);
    for (int i = 0; i < 3; i++) {
        u8(&m, 63);
        put(&m, label, 63);
    }
    u8(&m, 61);
    put(&m, label, 61);
    u8(&m, 0);
    u16(&m, 1);
    u16(&m, 1);
    CHECK_EQ(m.n, 12 + 255 + 4);
    run_udp(&t, &m);
    CHECK(has(&t, "\"status\":\"ok\""));
    dtest_free(&t);
}

static void test_truncated(void)
{
    struct mb m;
    hdr(&m, 9, 0x8180, 1, 2, 0, 0);
    question(&m, "cut.example", 1);
    rr(&m, 1, 5, "\x01\x02\x03\x04", 4);
    rr(&m, 1, 5, "\x05\x06\x07\x08", 4);
    struct dtest t;
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 1, 5, m.b, m.n - 3, true);
    dtest_end(&t);
    CHECK(has(&t, "\"status\":\"truncated\""));
    CHECK(has(&t, "\"answers\":[\"1.2.3.4\"]"));
    CHECK_EQ(t.counters[TL_DC_TRUNCATED], 1);
    dtest_free(&t);

    /* the same bytes without a capture cut: the message itself is short */
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 1, 5, m.b, m.n - 3, false);
    dtest_end(&t);
    CHECK(has(&t, "\"status\":\"malformed\""));
    dtest_free(&t);

    /* RDATA that does not fit its type */
    hdr(&m, 10, 0x8180, 1, 1, 0, 0);
    question(&m, "bad.example", 1);
    rr(&m, 1, 5, "\x01\x02\x03", 3);
    run_udp(&t, &m);
    CHECK(has(&t, "\"status\":\"malformed\""));
    dtest_free(&t);
}

static void test_edns(void)
{
    struct mb m;
    hdr(&m, 11, 0x0120, 1, 0, 0, 1);
    question(&m, "edns.example", 1);
    u8(&m, 0);
    u16(&m, 41);
    u16(&m, 4096);
    u32(&m, 0x00008000); /* DO */
    size_t s = m.n + 2;
    u16(&m, 0);
    put(&m, "\x00\x08\x00\x07\x00\x01\x18\x00\xc0\x00\x02", 11);     /* ECS 192.0.2.0/24 */
    put(&m, "\x00\x0a\x00\x08\x01\x02\x03\x04\x05\x06\x07\x08", 12); /* cookie */
    rr_end(&m, s);
    struct dtest t;
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 100, m.b, m.n, false);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"edns_udp_size\":4096,\"edns_do\":true,\"edns_ecs\":\"192.0.2.0/24\","
                  "\"edns_cookie\":true"));
    CHECK(has(&t, "\"AD\":true"));
    CHECK(dtest_count(&t, "\"rcode_name\"") == 0); /* unanswered */
    dtest_free(&t);
    every_cut_udp(m.b, m.n);

    /* IPv6 ECS /56 in the response, no DO */
    hdr(&m, 12, 0x8180, 1, 0, 0, 1);
    question(&m, "edns6.example", 1);
    u8(&m, 0);
    u16(&m, 41);
    u16(&m, 1232);
    u32(&m, 0);
    s = m.n + 2;
    u16(&m, 0);
    put(&m, "\x00\x08\x00\x0b\x00\x02\x38\x00\x20\x01\x04\x70\x1f\x0b\x16", 15);
    rr_end(&m, s);
    run_udp(&t, &m);
    CHECK(has(&t, "\"edns_udp_size\":1232,\"edns_ecs\":\"2001:470:1f0b:1600::/56\""));
    CHECK(dtest_count(&t, "edns_do") == 0);
    CHECK(has(&t, "\"rejected\":false")); /* arcount 1: not rejected (Zeek's rule) */
    dtest_free(&t);
}

static void test_rcodes_and_flags(void)
{
    struct mb m;
    hdr(&m, 13, 0x8183, 1, 0, 0, 0); /* NXDOMAIN, no RRs */
    question(&m, "nx.example", 1);
    struct dtest t;
    run_udp(&t, &m);
    CHECK(has(&t, "\"rcode\":3,\"rcode_name\":\"NXDOMAIN\""));
    CHECK(has(&t, "\"rejected\":true"));
    dtest_free(&t);

    hdr(&m, 14, 0x8385, 0, 0, 0, 0); /* REFUSED, TC, no question */
    run_udp(&t, &m);
    CHECK(has(&t, "\"rcode\":5,\"rcode_name\":\"REFUSED\""));
    CHECK(has(&t, "\"TC\":true"));
    CHECK(has(&t, "\"rejected\":true"));
    CHECK(dtest_count(&t, "\"query\":") == 0);
    dtest_free(&t);

    hdr(&m, 15, 0x2800, 1, 0, 0, 0); /* opcode 5 (UPDATE), unknown class */
    question(&m, "Zone.Example", 6);
    m.b[m.n - 1] = 9;
    run_udp(&t, &m);
    CHECK(has(&t, "\"opcode\":5,\"opcode_name\":\"dynamic-update\""));
    CHECK(has(&t, "\"qclass\":9,\"qclass_name\":\"qclass-9\""));
    CHECK(has(&t, "\"query\":\"zone.example\",\"query_original\":\"Zone.Example\""));
    dtest_free(&t);

    /* escaping: a control byte and a backslash in a label */
    hdr(&m, 16, 0x0100, 1, 0, 0, 0);
    u8(&m, 3);
    put(&m, "a\x01\\", 3);
    u8(&m, 0);
    u16(&m, 1);
    u16(&m, 1);
    run_udp(&t, &m);
    CHECK(has(&t, "\"query\":\"a\\\\x01\\\\x5c\""));
    dtest_free(&t);

    /* runs of plain bytes between escapes: lowered in query, as sent in query_original */
    hdr(&m, 17, 0x0100, 1, 0, 0, 0);
    u8(&m, 8);
    put(&m,
        "Ab\x7f"
        "Cd\\Ef",
        8);
    u8(&m, 0);
    u16(&m, 1);
    u16(&m, 1);
    run_udp(&t, &m);
    CHECK(has(&t, "\"query\":\"ab\\\\x7fcd\\\\x5cef\""));
    CHECK(has(&t, "\"query_original\":\"Ab\\\\x7fCd\\\\x5cEf\""));
    dtest_free(&t);
}

static void test_pairing(void)
{
    struct mb q1, q2, r2;
    hdr(&q1, 77, 0x0100, 1, 0, 0, 0);
    question(&q1, "foo.example", 1);
    hdr(&q2, 77, 0x0100, 1, 0, 0, 0); /* the same id, another question */
    question(&q2, "bar.example", 1);
    hdr(&r2, 77, 0x8180, 1, 1, 0, 0);
    question(&r2, "BAR.example", 1);
    rr(&r2, 1, 30, "\x0a\x00\x00\x02", 4);

    struct dtest t;
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, q1.b, q1.n, false);
    dtest_udp(&t, 0, 2000000, q2.b, q2.n, false);
    dtest_udp(&t, 1, 2500000, r2.b, r2.n, false);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"rtt\":0.500000,\"query\":\"bar.example\""));
    CHECK(has(&t, "\"answers\":[\"10.0.0.2\"]"));
    dtest_end(&t); /* foo is flushed unanswered */
    CHECK_EQ(t.records, 2);
    CHECK_EQ(dtest_count(&t, "\"query\":\"foo.example\""), 1);
    CHECK_EQ(dtest_count(&t, "\"rtt\""), 1);
    dtest_free(&t);

    /* a response alone, then a second response to an answered query */
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, q2.b, q2.n, false);
    dtest_udp(&t, 1, 1100000, r2.b, r2.n, false);
    dtest_udp(&t, 1, 1200000, r2.b, r2.n, false);
    dtest_end(&t);
    CHECK_EQ(t.records, 2);
    CHECK_EQ(dtest_count(&t, "\"rtt\""), 1);
    CHECK_EQ(dtest_count(&t, "\"qtype_name\":\"A\""), 2);
    dtest_free(&t);
}

static void test_caps(void)
{
    struct dtest t;
    struct mb q;
    dtest_init(&t, &tl_dns_dissector);
    for (unsigned i = 0; i < 17; i++) {
        hdr(&q, i, 0x0100, 1, 0, 0, 0);
        question(&q, "cap.example", 1);
        dtest_udp(&t, 0, 1000000 + i, q.b, q.n, false);
    }
    CHECK_EQ(t.records, 1); /* the 17th pushed out the first */
    CHECK_EQ(t.counters[TL_DC_CAPPED], 1);
    CHECK(has(&t, "\"trans_id\":0,"));

    dtest_end(&t);
    CHECK_EQ(t.records, 17);
    dtest_free(&t);

    /* max_pending below the array: 2 */
    dtest_init(&t, &tl_dns_dissector);
    t.limits.max_pending = 2;
    for (unsigned i = 0; i < 3; i++) {
        hdr(&q, i, 0x0100, 1, 0, 0, 0);
        question(&q, "cap.example", 1);
        dtest_udp(&t, 0, 1000000 + i, q.b, q.n, false);
    }
    CHECK_EQ(t.records, 1);
    dtest_free(&t);

    /* max_items 2 with 3 answers */
    struct mb r;
    hdr(&r, 5, 0x8180, 1, 3, 0, 0);
    question(&r, "many.example", 1);
    rr(&r, 1, 1, "\x01\x01\x01\x01", 4);
    rr(&r, 1, 2, "\x02\x02\x02\x02", 4);
    rr(&r, 1, 3, "\x03\x03\x03\x03", 4);
    dtest_init(&t, &tl_dns_dissector);
    t.limits.max_items = 2;
    dtest_udp(&t, 1, 1, r.b, r.n, false);
    CHECK(has(&t, "\"answers\":[\"1.1.1.1\",\"2.2.2.2\"],\"TTLs\":[1,2],\"answers_capped\":true"));
    CHECK(has(&t, "\"ancount\":3"));
    CHECK_EQ(t.counters[TL_DC_CAPPED], 1);
    dtest_free(&t);

    /* max_value_len cuts a long TXT */
    hdr(&r, 6, 0x8180, 1, 1, 0, 0);
    question(&r, "txt.example", 16);
    size_t s = rr_begin(&r, 16, 1);
    u8(&r, 200);
    for (int i = 0; i < 200; i++)
        u8(&r, 'x');
    rr_end(&r, s);
    dtest_init(&t, &tl_dns_dissector);
    t.limits.max_value_len = 20;
    dtest_udp(&t, 1, 1, r.b, r.n, false);
    CHECK(has(&t, "\"answers\":[\"TXT 200 xxxxxxxxxxxx\"]"));
    CHECK_EQ(t.counters[TL_DC_CAPPED], 1);
    dtest_free(&t);
}

/*
 * Queries waiting on one flow: two in the state, more in memory from
 * ctx->resize; without it the oldest go alone, counted, and the rest still pair.
 */
static void test_pending_grows(void)
{
    for (int no_memory = 0; no_memory < 2; no_memory++) {
        struct dtest t;
        struct mb q, r;
        dtest_init(&t, &tl_dns_dissector);
        t.no_memory = no_memory;
        for (unsigned i = 0; i < 8; i++) {
            hdr(&q, 100 + i, 0x0100, 1, 0, 0, 0);
            question(&q, "burst.example", 1);
            dtest_udp(&t, 0, 1000000 + i, q.b, q.n, false);
        }
        CHECK_EQ(t.records, no_memory ? 6 : 0);
        CHECK_EQ(t.counters[TL_DC_CAPPED], no_memory ? 6 : 0);
        for (unsigned i = 8; i-- > 0;) {
            hdr(&r, 100 + i, 0x8180, 1, 1, 0, 0);
            question(&r, "burst.example", 1);
            rr(&r, 1, 30, "\x0a\x00\x00\x02", 4);
            dtest_udp(&t, 1, 2000000 + i, r.b, r.n, false);
        }
        CHECK_EQ(t.records, no_memory ? 14 : 8);
        CHECK_EQ(dtest_count(&t, "\"rtt\""), no_memory ? 2 : 8);
        CHECK_EQ(dtest_count(&t, "\"reply_status\":\"pending_capped\""), no_memory ? 6 : 0);
        dtest_free(&t);
    }
}

/* Counts what a flush writes, each a query that timed out, as the flow table's timer would. */
static void emit_count(struct tl_parse_ctx *ctx, void *rec, uint64_t ts)
{
    const struct tl_event_type *ev = &tl_dns_event;
    (void)ts;
    for (size_t i = 0; i < ev->nfields; i++)
        if (strcmp(ev->fields[i].name, "reply_status") == 0)
            CHECK_STR(*(const char *const *)(const void *)((const char *)rec + ev->fields[i].off),
                      "no_reply");
    (*(int *)ctx->emit_arg)++;
}

static void test_flush_timeout(void)
{
    struct dtest t;
    struct mb q;
    dtest_init(&t, &tl_dns_dissector);
    hdr(&q, 1, 0x0100, 1, 0, 0, 0);
    question(&q, "old.example", 1);
    dtest_udp(&t, 0, 1000000, q.b, q.n, false);
    hdr(&q, 2, 0x0100, 1, 0, 0, 0);
    question(&q, "new.example", 1);
    dtest_udp(&t, 0, 9000000, q.b, q.n, false);

    int n = 0;
    struct tl_parse_ctx c = { 0 };
    c.transport = TL_UDP;
    c.state = t.state;
    c.arena = &t.arena;
    c.counters = t.counters;
    c.limits = &t.limits;
    c.emit = emit_count;
    c.emit_arg = &n;
    tl_dns_dissector.flush(&c, 5000000); /* nothing is 10 s old */
    CHECK_EQ(n, 0);
    tl_dns_dissector.flush(&c, 12000000); /* old.example is */
    CHECK_EQ(n, 1);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "new.example"));
    dtest_free(&t);
}

/* Recorded: pcaps/dns-udp-basic.pcap frames 1-2, 25-26 (ECS), 9-10 (MX). */
static const char *const udp_basic[][2] = {
    { "4bb10120000100000000000103777777077461706c696e650474657374000001000100002904d00000000000"
      "0c000a000804ce96ddfe3ad87c",
      "4bb18580000100010000000103777777077461706c696e6504746573740000010001c00c00010001000000000"
      "0040a63000a00002904d0000000000000" },
    { "20370120000100000000000103777777077461706c696e650474657374000001000100002904d00000000000"
      "170008000700011800c00002000a0008c3f133a3b2396842",
      "20378580000100010000000103777777077461706c696e6504746573740000010001c00c00010001000000000"
      "0040a63000a00002904d0000000000000" },
    { "7a3f01200001000000000001077461706c696e65047465737400000f000100002904d000000000000c000a00"
      "08515485ddc95825f8",
      "7a3f85800001000100000002077461706c696e65047465737400000f0001c00c000f0001000000000015000a"
      "046d61696c077461706c696e65047465737400c02c000100010000000000040a63001900002904d000000000"
      "0000" },
};

static void test_recorded_udp(void)
{
    static const char *const want[] = {
        "\"trans_id\":19377,\"rtt\":0.000100,\"query\":\"www.tapline.test\",\"qclass\":1,"
        "\"qclass_name\":\"C_INTERNET\",\"qtype\":1,\"qtype_name\":\"A\",\"opcode\":0,"
        "\"opcode_name\":\"query\",\"rcode\":0,\"rcode_name\":\"NOERROR\",\"AA\":true,"
        "\"TC\":false,\"RD\":true,\"RA\":true,\"Z\":2,\"AD\":false,\"CD\":false,"
        "\"answers\":[\"10.99.0.10\"],\"TTLs\":[0],\"edns_udp_size\":1232,\"edns_cookie\":true,"
        "\"rejected\":false,\"qdcount\":1,\"ancount\":1,\"nscount\":0,\"arcount\":1,"
        "\"status\":\"ok\"",
        "\"edns_ecs\":\"192.0.2.0/24\"",
        "\"answers\":[\"mail.tapline.test\"],\"TTLs\":[0],\"addl\":[\"10.99.0.25\"]",
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(udp_basic); i++) {
        uint8_t q[512], r[512];
        size_t qn = unhex(udp_basic[i][0], q), rn = unhex(udp_basic[i][1], r);
        struct dtest t;
        dtest_init(&t, &tl_dns_dissector);
        dtest_udp(&t, 0, 1000000, q, qn, false);
        dtest_udp(&t, 1, 1000100, r, rn, false);
        dtest_end(&t);
        CHECK_EQ(t.records, 1);
        CHECK(has(&t, want[i]));
        CHECK_EQ(t.counters[TL_DC_MESSAGES], 2);
        dtest_free(&t);
        every_cut_udp(q, qn);
        every_cut_udp(r, rn);
    }
}

/* Fuzz finding: TCP, two frames split at byte 0 (an empty first call). */
static const char fuzz_empty_split[] =
    "003d4bb18580000100010000000103777777077461706c696e6504746573740000010001c00c00010001000000"
    "0000040a63000a00002904d0000000000000003d4bb18580000100010000000103777777077461706c696e6504"
    "746573740000010001c00c000100010000000000040a63000a00002904d0000000000000";

/* Recorded: pcaps/dns-tcp.pcap frames 4 and 6, each with its length prefix. */
static const char tcp_query[] = "003941ce0120000100000000000103777777077461706c696e650474657374"
                                "000001000100002904d000000000000c000a000889cf2dc5a4417442";
static const char tcp_resp[] = "003d41ce8580000100010000000103777777077461706c696e650474657374"
                               "0000010001c00c000100010000000000040a63000a00002904d0000000000000";

static void test_tcp(void)
{
    uint8_t q[128], r[128], two[256];
    size_t qn = unhex(tcp_query, q), rn = unhex(tcp_resp, r);

    /* whole messages */
    struct dtest base;
    dtest_init(&base, &tl_dns_dissector);
    dtest_tcp(&base, 0, 1000, q, qn);
    dtest_tcp(&base, 1, 2000, r, rn);
    dtest_end(&base);
    CHECK_EQ(base.records, 1);
    CHECK(has(&base, "\"trans_id\":16846,\"rtt\":0.001000,\"query\":\"www.tapline.test\""));
    CHECK(has(&base, "\"answers\":[\"10.99.0.10\"]"));

    /* split at every byte boundary: the same output every time */
    for (size_t cut = 0; cut <= qn; cut++) {
        for (size_t rcut = 0; rcut <= rn; rcut += (cut == 0 ? 1 : rn)) {
            struct dtest t;
            dtest_init(&t, &tl_dns_dissector);
            dtest_tcp(&t, 0, 1000, q, cut);
            dtest_tcp(&t, 0, 1000, q + cut, qn - cut);
            dtest_tcp(&t, 1, 2000, r, rcut);
            dtest_tcp(&t, 1, 2000, r + rcut, rn - rcut);
            dtest_end(&t);
            CHECK(!t.gave_up);
            CHECK(t.out.len == base.out.len && memcmp(t.out.p, base.out.p, t.out.len) == 0);
            dtest_free(&t);
        }
    }

    /* two queries in one segment, then both responses in one segment */
    memcpy(two, q, qn);
    memcpy(two + qn, q, qn);
    two[qn + 2] = 0x41;
    two[qn + 3] = 0xcf; /* the second query: id 0x41cf */
    struct dtest t;
    dtest_init(&t, &tl_dns_dissector);
    dtest_tcp(&t, 0, 1000, two, 2 * qn);
    memcpy(two, r, rn);
    memcpy(two + rn, r, rn);
    two[rn + 2] = 0x41;
    two[rn + 3] = 0xcf;
    dtest_tcp(&t, 1, 3000, two, 2 * rn);
    dtest_end(&t);
    CHECK_EQ(t.records, 2);
    CHECK_EQ(dtest_count(&t, "\"rtt\":0.002000"), 2);
    CHECK_EQ(dtest_count(&t, "\"trans_id\":16847"), 1);
    CHECK_EQ(t.counters[TL_DC_MESSAGES], 4);
    dtest_free(&t);

    /* fuzz finding: an empty call before two frames (UBSan: NULL + 0 in a failed child) */
    uint8_t f[256];
    size_t fn = unhex(fuzz_empty_split, f);
    dtest_init(&t, &tl_dns_dissector);
    dtest_tcp(&t, 1, 1, f, 0);
    dtest_tcp(&t, 0, 2, f, fn);
    dtest_end(&t);
    CHECK_EQ(t.records, 2);
    dtest_free(&t);

    /* a stream split in the middle of a frame waits */
    dtest_init(&t, &tl_dns_dissector);
    dtest_tcp(&t, 1, 1, r, rn - 1);
    CHECK_EQ(t.records, 0);
    CHECK_EQ(t.stream_len[1], rn - 1);
    dtest_free(&t);
    dtest_free(&base);
}

static void test_giveup(void)
{
    struct dtest t;
    dtest_init(&t, &tl_dns_dissector);
    dtest_tcp(&t, 0, 1, "\x00\x00\x00\x00", 4); /* length 0 */
    CHECK(t.gave_up);
    CHECK_EQ(t.records, 0);
    dtest_free(&t);

    dtest_init(&t, &tl_dns_dissector);
    dtest_tcp(&t, 0, 1, "GET / HTTP/1.1\r\n\r\n", 18); /* "GE" = 18245: waits for more */
    CHECK(!t.gave_up);
    dtest_free(&t);

    /* after a gap, a frame that is not DNS gives up; one that is goes on */
    uint8_t r[128];
    size_t rn = unhex(tcp_resp, r);
    dtest_init(&t, &tl_dns_dissector);
    dtest_tcp(&t, 1, 1, r, rn);
    dtest_gap(&t, 1, 100);
    dtest_tcp(&t, 1, 2, r, rn);
    CHECK(!t.gave_up);
    CHECK_EQ(t.records, 2);
    dtest_gap(&t, 1, 100);
    dtest_tcp(&t, 1, 3, "\x00\x05hello", 7); /* a length no message has */
    CHECK(t.gave_up);
    dtest_free(&t);

    dtest_init(&t, &tl_dns_dissector);
    static const uint8_t bad_opcode[12] = { 0, 1, 0x78, 0, 0, 1 }; /* opcode 15 */
    dtest_udp(&t, 0, 1, bad_opcode, sizeof(bad_opcode), false);
    CHECK(t.gave_up);
    dtest_free(&t);

    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1, "\x01\x02\x03", 3, false); /* shorter than a header */
    CHECK(t.gave_up);
    dtest_free(&t);
}

/* The query name alone (a query, flushed unanswered): its record's JSON. */
static void query_only(struct dtest *t, struct mb *m, const char *qname)
{
    hdr(m, 7, 0x0100, 1, 0, 0, 0);
    question(m, qname, 1);
    dtest_init(t, &tl_dns_dissector);
    dtest_udp(t, 0, 1000000, m->b, m->n, false);
    dtest_end(t);
}

/* Query features for the tunnelling and DGA detections, by name. */
static void test_query_features(void)
{
    static const struct {
        const char *qname;
        const char *want[4]; /* substrings of the record; "!x": x absent */
    } cases[] = {
        { "www.example.com",
          { "\"query_length\":15,\"longest_label\":7", "\"subdomain_charset\":\"alnum\"",
            "!subdomain_entropy", "\"dga_score\":0.0" } }, /* "www": entropy 0, left out */
        { "abcd.aabb.example.com",
          { "\"subdomain_entropy\":1.811", "\"subdomain_charset\":\"alnum\"" } },
        { "abcd.example.com", { "\"subdomain_entropy\":2,", NULL } },
        { "4a6f686e2053.6d697468.example.com",
          { "\"subdomain_charset\":\"hex\"", "\"longest_label\":12" } },
        { "MZXW6YTBOI2DCMRT.example.org", { "\"subdomain_charset\":\"base32\"", NULL } },
        { "aGVsbG8gV29ybGQ1.example.net", { "\"subdomain_charset\":\"base64\"", NULL } },
        { "abc1.example.net", { "\"subdomain_charset\":\"alnum\"", NULL } }, /* too short */
        { "1234.5678.example.com", { "\"subdomain_charset\":\"numeric\"", NULL } },
        { "_ldap._tcp.dc._msdcs.corp.local", { "\"subdomain_charset\":\"other\"", NULL } },
        { "4.3.2.1.in-addr.arpa", { "\"query_length\":20", "!subdomain", "!dga_score", NULL } },
        { "example.com", { "!subdomain", "\"dga_score\":0.0", NULL } },
        { "com", { "\"query_length\":3", "!subdomain", "!dga_score", NULL } },
        /* The registrable label of a ccTLD's second level is left of it. */
        { "news.bbc.co.uk", { "\"dga_score\":0.014", "\"subdomain_charset\":\"alnum\"", NULL } },
    };
    /* dga_score against its threshold, 0.7: names people chose, and generated ones. */
    static const struct {
        const char *qname;
        double min, max;
    } dga[] = {
        { "www.wikipedia.org", 0, 0.1 },
        { "stackoverflow.com", 0, 0.1 },
        { "mail.google.com", 0, 0.1 },
        { "login.microsoftonline.com", 0, 0.3 },
        { "cdn.cloudflare.net", 0, 0.3 },
        { "updates.thunderbird.net", 0, 0.3 },
        { "xkcd.com", 0, 0.1 }, /* short: the ramp gives it no weight */
        { "xjwqkzvbtplmrhd.com", 0.7, 1 },
        { "qpzkvmxwtr.biz", 0.7, 1 },
        { "a3f9c2e1b7d4e8f06b2c.net", 0.7, 1 },
        { "kq3hv9zt2mwx8p.info", 0.7, 1 },
        { "ssd.yxnkkbfqrcdgvn.ru", 0.7, 1 },
        { "ns-1372.awsdns-43.org", 0, 0.5 }, /* numbered: scored as awsdns */
        { "s3-eu-west-1.amazonaws.com", 0, 0.3 },
        { "x.a!b-\"c-12-x-1-2--.com", 0, 1 }, /* odd bytes and hyphens: any score, no hang */
        { "123-456.com", 0, 0.5 },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        struct dtest t;
        struct mb m;
        query_only(&t, &m, cases[i].qname);
        CHECK_EQ(t.records, 1);
        for (size_t k = 0; k < 4 && cases[i].want[k]; k++) {
            const char *w = cases[i].want[k];
            bool absent = w[0] == '!';
            if ((dtest_count(&t, absent ? w + 1 : w) > 0) == absent)
                tl_check_report(__FILE__, __LINE__, "%s: %s in %.*s", cases[i].qname, w,
                                (int)t.out.len, t.out.p);
        }
        dtest_free(&t);
    }

    for (size_t i = 0; i < TL_ARRAY_LEN(dga); i++) {
        struct dtest t;
        struct mb m;
        query_only(&t, &m, dga[i].qname);
        char *text = strndup(t.out.p, t.out.len);
        const char *v = strstr(text, "\"dga_score\":");
        double score = v ? strtod(v + 12, NULL) : -1;
        if (score < dga[i].min || score > dga[i].max)
            tl_check_report(__FILE__, __LINE__, "%s: dga_score %.3f, want %.1f-%.1f", dga[i].qname,
                            score, dga[i].min, dga[i].max);
        free(text);
        dtest_free(&t);
    }

    /* The longest label there is, and the query cut at every byte. */
    char big[80];
    memset(big, 'k', 63);
    memcpy(big + 63, ".example.com", 13);
    struct dtest t;
    struct mb m;
    query_only(&t, &m, big);
    CHECK(has(&t, "\"query_length\":75,\"longest_label\":63"));
    dtest_free(&t);
    query_only(&t, &m, "a1b2c3d4e5f6.xjwqkzvbtplmrhd.co.uk");
    dtest_free(&t);
    every_cut_udp(m.b, m.n);

    /* Fuzz finding: labels made of dots (a 250-byte name of 250 "labels" by its dots). */
    hdr(&m, 8, 0x0100, 1, 0, 0, 0);
    for (int l = 0; l < 4; l++) {
        u8(&m, 62);
        memset(m.b + m.n, '.', 62);
        m.n += 62;
    }
    u8(&m, 0);
    u16(&m, 1);
    u16(&m, 1);
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, m.b, m.n, false);
    dtest_end(&t);
    CHECK(has(&t, "\"query_length\":251"));
    dtest_free(&t);
}

/* ---- every query gets a record, and the reason when it stands alone ---- */

static void test_unanswered(void)
{
    struct dtest t;
    struct mb q, r;
    hdr(&q, 7, 0x0100, 1, 0, 0, 0);
    question(&q, "lost.example", 1);

    /* UDP: the flow ends first (a timeout: test_flush_timeout) */
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, q.b, q.n, false);
    dtest_end(&t);
    CHECK(has(&t, "\"reply_status\":\"flow_ended\""));
    dtest_free(&t);
    /* answered: no reason */
    hdr(&r, 7, 0x8180, 1, 1, 0, 0);
    question(&r, "lost.example", 1);
    rr(&r, 1, 30, "\x0a\x00\x00\x07", 4);
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, q.b, q.n, false);
    dtest_udp(&t, 1, 1000500, r.b, r.n, false);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK_EQ(dtest_count(&t, "\"reply_status\""), 0);
    dtest_free(&t);

    /* a response cut in its question (capture) still answers its query, by id */
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, q.b, q.n, false);
    dtest_udp(&t, 1, 1000500, r.b, 20, true);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"rtt\":0.000500"));
    CHECK(has(&t, "\"status\":\"truncated\""));
    CHECK_EQ(dtest_count(&t, "\"reply_status\""), 0);
    dtest_free(&t);

    /* a reply too short for its flags: the query's reason is that it was unreadable */
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, q.b, q.n, false);
    dtest_udp(&t, 1, 1000500, "\x00\x07\x81", 3, false);
    CHECK_EQ(t.records, 1); /* the fragment, alone and malformed */
    dtest_end(&t);
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"query\":\"lost.example\""));
    CHECK(has(&t, "\"reply_status\":\"reply_unparseable\""));
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 1);
    dtest_free(&t);

    /* pushed out by newer queries */
    dtest_init(&t, &tl_dns_dissector);
    t.limits.max_pending = 1;
    dtest_udp(&t, 0, 1000000, q.b, q.n, false);
    dtest_udp(&t, 0, 1000001, q.b, q.n, false);
    CHECK(has(&t, "\"reply_status\":\"pending_capped\""));
    dtest_free(&t);

    /* TCP: a gap, then maybe what is not DNS, in either direction */
    static const struct {
        int gap_dir, junk_dir; /* junk_dir -1: none */
        const char *why;
    } tcp[] = {
        { 1, -1, "reply_gap" },        /* bytes lost where the response would be */
        { 0, -1, "flow_ended" },       /* a gap the query's way says nothing of its response */
        { 1, 1, "reply_gap" },         /* then the responder sends no DNS: given up at once */
        { 0, 0, "reply_unparseable" }, /* the querier's own stream turns to nonsense */
    };
    struct mb tq;
    tq.n = 0;
    u16(&tq, (unsigned)q.n);
    put(&tq, q.b, q.n);
    for (size_t i = 0; i < TL_ARRAY_LEN(tcp); i++) {
        char want[64];
        snprintf(want, sizeof(want), "\"reply_status\":\"%s\"", tcp[i].why);
        dtest_init(&t, &tl_dns_dissector);
        dtest_tcp(&t, 0, 1000, tq.b, tq.n);
        dtest_gap(&t, tcp[i].gap_dir, 80);
        if (tcp[i].junk_dir >= 0) {
            dtest_tcp(&t, tcp[i].junk_dir, 2000, "\x00\x05hello", 7);
            CHECK(t.gave_up);
            CHECK_EQ(t.records, 1); /* written when the dissector gave up */
        }
        dtest_end(&t);
        CHECK_EQ(t.records, 1);
        CHECK(has(&t, want));
        dtest_free(&t);
    }
}

/* ---- NetBIOS name service ---- */

/* A NetBIOS name in the half-ASCII encoding (RFC 1001 14.1): 15 characters padded with
 * spaces, the suffix; then scope labels, if any. */
static void nb_name(struct mb *m, const char *nb, unsigned suffix, const char *scope)
{
    uint8_t raw[16];
    memset(raw, ' ', 15);
    memcpy(raw, nb, strlen(nb));
    raw[15] = (uint8_t)suffix;
    u8(m, 32);
    for (int i = 0; i < 16; i++) {
        u8(m, 'A' + (raw[i] >> 4));
        u8(m, 'A' + (raw[i] & 15));
    }
    if (scope && *scope)
        name(m, scope);
    else
        u8(m, 0);
}

/* A NetBIOS name question (qtype NB or NBSTAT) in a fresh message. */
static void nb_question(struct mb *m, unsigned id, unsigned flags, const char *nb, unsigned suffix,
                        unsigned qtype)
{
    hdr(m, id, flags, 1, 0, 0, 0);
    nb_name(m, nb, suffix, NULL);
    u16(m, qtype);
    u16(m, 1);
}

/* One datagram through a fresh dtest, then the flow's end. */
static void one_udp(struct dtest *t, const struct mb *m)
{
    dtest_init(t, &tl_dns_dissector);
    dtest_udp(t, 0, 1000000, m->b, m->n, false);
    dtest_end(t);
}

static void test_nbns(void)
{
    struct dtest t;
    struct mb q, r;

    /* a broadcast name query and its positive response (no question, an NB answer) */
    nb_question(&q, 0x8001, 0x0110, "BRWC0CB383D1F42", 0x00, 32);
    hdr(&r, 0x8001, 0x8500, 0, 1, 0, 0);
    nb_name(&r, "BRWC0CB383D1F42", 0x00, NULL);
    u16(&r, 32);
    u16(&r, 1);
    u32(&r, 300000);
    u16(&r, 12);
    put(&r, "\x00\x00\xc0\x00\x02\x05\x60\x00\xc0\x00\x02\x06", 12);
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, q.b, q.n, false);
    dtest_udp(&t, 1, 1000200, r.b, r.n, false);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"query\":\"brwc0cb383d1f42\",\"query_original\":\"BRWC0CB383D1F42\""));
    CHECK(has(&t, "\"qtype\":32,\"qtype_name\":\"NIMLOC\",\"opcode\":0,"
                  "\"opcode_name\":\"netbios-query\""));
    CHECK(has(&t, "\"Z\":1"));
    CHECK(has(&t, "\"answers\":[\"192.0.2.5 192.0.2.6\"],\"TTLs\":[300000]"));
    CHECK(has(&t, "\"status\":\"ok\""));
    dtest_free(&t);
    every_cut_udp(q.b, q.n);
    every_cut_udp(r.b, r.n);

    /* node status: "*" (RFC 1002 4.2.17), answered with two names and the statistics */
    nb_question(&q, 0x8002, 0x0000, "*", 0x00, 33);
    for (int i = 15; i < 45; i++)
        q.b[i] = 'A'; /* "*" padded with NULs, the wildcard's form */
    hdr(&r, 0x8002, 0x8400, 0, 1, 0, 0);
    r.b[r.n++] = 32;
    memcpy(r.b + r.n, q.b + 13, 32);
    r.n += 32;
    u8(&r, 0);
    u16(&r, 33);
    u16(&r, 1);
    u32(&r, 0);
    size_t s = r.n;
    u16(&r, 0);
    u8(&r, 2);
    put(&r, "WIN10          \x00\x04\x00", 18);
    put(&r, "WORKGROUP      \x00\x84\x00", 18);
    for (int i = 0; i < 46; i++)
        u8(&r, i == 0 ? 0x52 : 0);
    r.b[s] = (uint8_t)((r.n - s - 2) >> 8);
    r.b[s + 1] = (uint8_t)(r.n - s - 2);
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, q.b, q.n, false);
    dtest_udp(&t, 1, 1000200, r.b, r.n, false);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"query\":\"*\\\\x00\\\\x00"));
    CHECK(has(&t, "\"qtype\":33,\"qtype_name\":\"NBSTAT\""));
    CHECK(has(&t, "\"answers\":[\"NBSTAT WIN10<00> WORKGROUP<00>\"]"));
    dtest_free(&t);
    every_cut_udp(r.b, r.n);

    /* a refresh (opcode 8) as the first message is NBNS, not nonsense; a scope follows */
    hdr(&q, 0x8003, 0x4010, 1, 0, 0, 1);
    nb_name(&q, "FILESRV", 0x20, "corp.example");
    u16(&q, 32);
    u16(&q, 1);
    u16(&q, 0xc00c);
    put(&q, "\x00\x20\x00\x01\x00\x04\x93\xe0\x00\x06\x00\x00\xc0\x00\x02\x07", 16);
    one_udp(&t, &q);
    CHECK(!t.gave_up);
    CHECK(has(&t, "\"query\":\"filesrv.corp.example\""));
    CHECK(has(&t, "\"opcode\":8,\"opcode_name\":\"netbios-refresh\""));
    dtest_free(&t);
    every_cut_udp(q.b, q.n);

    /* registration (5), and Windows' multi-homed registration (15) */
    q.b[2] = 0x28;
    one_udp(&t, &q);
    CHECK(has(&t, "\"opcode_name\":\"netbios-registration\""));
    dtest_free(&t);
    q.b[2] = 0x78;
    one_udp(&t, &q);
    CHECK(!t.gave_up);
    CHECK(has(&t, "\"opcode_name\":\"netbios-opcode-15\""));
    dtest_free(&t);

    /* a negative response (RFC 1002 4.2.14): RCODE 3, a NULL record under the name */
    nb_question(&q, 0x8005, 0x0100, "NOSUCHPC", 0x00, 32);
    hdr(&r, 0x8005, 0x8583, 0, 1, 0, 0);
    nb_name(&r, "NOSUCHPC", 0x00, NULL);
    put(&r, "\x00\x0a\x00\x01\x00\x00\x00\x00\x00\x00", 10);
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, q.b, q.n, false);
    dtest_udp(&t, 1, 1000100, r.b, r.n, false);
    CHECK(has(&t, "\"query\":\"nosuchpc\""));
    CHECK(has(&t, "\"rcode\":3,\"rcode_name\":\"NXDOMAIN\""));
    CHECK(has(&t, "\"answers\":[\"NULL\"]"));
    dtest_free(&t);
    every_cut_udp(r.b, r.n);

    /* opcode 8 with an ordinary name: not DNS */
    hdr(&q, 9, 0x4000, 1, 0, 0, 0);
    question(&q, "refresh.example", 1);
    dtest_init(&t, &tl_dns_dissector);
    dtest_udp(&t, 0, 1000000, q.b, q.n, false);
    CHECK(t.gave_up);
    dtest_free(&t);

    /* the browser election name: control bytes pass, as in Zeek */
    nb_question(&q, 0x8004, 0x0110, "\x01\x02__MSBROWSE__\x02", 0x01, 32);
    one_udp(&t, &q);
    CHECK(has(&t, "\"query\":\"\\\\x01\\\\x02__msbrowse__\\\\x02\""));
    dtest_free(&t);

    /* 32 letters A-P asked as an A record: an ordinary (odd) DNS name, not decoded */
    nb_question(&q, 10, 0x0100, "HOST", 0x00, 1);
    one_udp(&t, &q);
    CHECK(has(&t, "\"query\":\"eiepfdfecacacacacacacacacacacaaa\""));
    dtest_free(&t);
}

/* ---- DNS found by content ---- */

static bool probe(unsigned transport, const struct mb *m)
{
    uint8_t *copy = malloc(m->n ? m->n : 1);
    memcpy(copy, m->b, m->n);
    bool yes = tl_dns_dissector.probe(transport, copy, m->n);
    free(copy);
    return yes;
}

static void test_probe(void)
{
    struct mb m, t;

    /* DNSCrypt's certificate query (TXT, EDNS), as on UDP 443 */
    hdr(&m, 0x5a5a, 0x0100, 1, 0, 0, 1);
    question(&m, "2.dnscrypt-cert.resolver.example", 16);
    put(&m, "\x00\x00\x29\x10\x00\x00\x00\x00\x00\x00\x00", 11);
    CHECK(probe(TL_UDP, &m));
    for (size_t cut = 0; cut < m.n; cut++) { /* every cut is refused */
        struct mb c = m;
        c.n = cut;
        CHECK(!probe(TL_UDP, &c));
    }
    /* the same, length-prefixed (TCP) */
    t.n = 0;
    u16(&t, (unsigned)m.n);
    put(&t, m.b, m.n);
    CHECK(probe(TL_TCP, &t));
    CHECK(!probe(TL_UDP, &t));
    u8(&t, 0); /* a byte more */
    CHECK(!probe(TL_TCP, &t));

    /* a response with its answer */
    hdr(&m, 1, 0x8180, 1, 1, 0, 0);
    question(&m, "tunnel.example", 1);
    rr(&m, 1, 60, "\xc0\x00\x02\x01", 4);
    CHECK(probe(TL_UDP, &m));
    m.b[m.n - 10] = 0x80; /* a TTL past 2^31 */
    CHECK(!probe(TL_UDP, &m));

    /* what a query must not be */
    static const struct {
        unsigned flags, qd, an, ar;
    } bad[] = {
        { 0x2800, 1, 0, 0 }, /* opcode 5 */
        { 0x0140, 1, 0, 0 }, /* Z */
        { 0x0500, 1, 0, 0 }, /* AA in a query */
        { 0x0101, 1, 0, 0 }, /* rcode in a query */
        { 0x0100, 2, 0, 0 }, /* two questions */
        { 0x0100, 0, 0, 0 }, /* none */
        { 0x0100, 1, 1, 0 }, /* an answer in a query */
        { 0x0100, 1, 0, 2 }, /* two additional records */
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(bad); i++) {
        hdr(&m, 3, bad[i].flags, bad[i].qd, bad[i].an, 0, bad[i].ar);
        question(&m, "x.example", 1);
        if (!probe(TL_UDP, &m))
            continue;
        tl_check_report(__FILE__, __LINE__, "probe took bad[%zu]", i);
    }
    hdr(&m, 3, 0x0100, 1, 0, 0, 0);
    question(&m, "x.example", 1);
    CHECK(probe(TL_UDP, &m));
    m.b[m.n - 1] = 7; /* class 7 */
    CHECK(!probe(TL_UDP, &m));
    hdr(&m, 3, 0x0100, 1, 0, 0, 0);
    question(&m, "", 1); /* the root alone */
    CHECK(!probe(TL_UDP, &m));
    hdr(&m, 3, 0x0100, 1, 0, 0, 0);
    u16(&m, 0xc000); /* a compressed question */
    u16(&m, 1);
    u16(&m, 1);
    CHECK(!probe(TL_UDP, &m));
    hdr(&m, 3, 0x0100, 1, 0, 0, 1);
    question(&m, "x.example", 1);
    rr(&m, 1, 1, "\x01\x02\x03\x04", 4); /* an A record, not an OPT */
    CHECK(!probe(TL_UDP, &m));

    /* other protocols: a QUIC v1 Initial's first bytes, a STUN binding request, zeros */
    static const uint8_t quic[] = { 0xc3, 0x00, 0x00, 0x00, 0x01, 0x08, 0x83, 0x94, 0xc8, 0xf0,
                                    0x3e, 0x51, 0x57, 0x08, 0x00, 0x00, 0x44, 0x9e, 0x00, 0x00 };
    static const uint8_t stun[] = { 0x00, 0x01, 0x00, 0x00, 0x21, 0x12, 0xa4, 0x42, 1,  2,
                                    3,    4,    5,    6,    7,    8,    9,    10,   11, 12 };
    m.n = 0;
    put(&m, quic, sizeof(quic));
    CHECK(!probe(TL_UDP, &m));
    m.n = 0;
    put(&m, stun, sizeof(stun));
    CHECK(!probe(TL_UDP, &m));
    memset(m.b, 0, 64);
    m.n = 64;
    CHECK(!probe(TL_UDP, &m));
    m.n = 0;
    CHECK(!probe(TL_UDP, &m));
    CHECK(!probe(TL_TCP, &m));
}

const struct tl_test tl_tests_dns[] = {
    { "query_features", test_query_features },
    { "rr_types", test_rr_types },
    { "compression", test_compression },
    { "overlong_name", test_overlong_name },
    { "truncated", test_truncated },
    { "edns", test_edns },
    { "rcodes_and_flags", test_rcodes_and_flags },
    { "pairing", test_pairing },
    { "caps", test_caps },
    { "pending_grows", test_pending_grows },
    { "flush_timeout", test_flush_timeout },
    { "recorded_udp", test_recorded_udp },
    { "tcp", test_tcp },
    { "giveup", test_giveup },
    { "unanswered", test_unanswered },
    { "nbns", test_nbns },
    { "probe", test_probe },
    { 0 },
};
