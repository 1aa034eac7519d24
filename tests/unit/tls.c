/*
 * tls.c - the tls event: the ServerHello ALPN and QUIC version readers (every
 * cut of their input, in exact-size heap copies), and the record filled from
 * an nDPI flow state set by hand as nDPI 4.2 leaves it.
 */
#include <ndpi/ndpi_api.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "event.h"
#include "tls.h"

/* A TLS 1.2 ServerHello record: session id of 4 bytes, cipher 0xc02f, extensions as given. */
static size_t server_hello(uint8_t *out, const uint8_t *random, const uint8_t *ext, size_t next)
{
    size_t body = 2 + 32 + 1 + 4 + 2 + 1 + 2 + next, n = 0;
    out[n++] = 22;
    out[n++] = 3;
    out[n++] = 3;
    out[n++] = (uint8_t)((body + 4) >> 8);
    out[n++] = (uint8_t)(body + 4);
    out[n++] = 2;
    out[n++] = 0;
    out[n++] = (uint8_t)(body >> 8);
    out[n++] = (uint8_t)body;
    out[n++] = 3;
    out[n++] = 3;
    memcpy(out + n, random, 32);
    n += 32;
    out[n++] = 4;
    memset(out + n, 0xaa, 4);
    n += 4;
    out[n++] = 0xc0;
    out[n++] = 0x2f;
    out[n++] = 0;
    out[n++] = (uint8_t)(next >> 8);
    out[n++] = (uint8_t)next;
    memcpy(out + n, ext, next);
    return n + next;
}

/* renegotiation_info (empty), then ALPN "h2". */
static const uint8_t alpn_h2[] = { 0xff, 0x01, 0, 1, 0, 0, 16, 0, 5, 0, 3, 2, 'h', '2' };

static void seen_from(struct tl_tls_seen *s, const uint8_t *b, size_t n)
{
    uint8_t *p = tl_test_dup(b, n);
    memset(s, 0, sizeof(*s));
    tl_tls_server_data(s, p, n);
    free(p);
}

static void test_server_hello_alpn(void)
{
    uint8_t rec[128], random[32] = { 1 };
    struct tl_tls_seen s;
    size_t n = server_hello(rec, random, alpn_h2, sizeof(alpn_h2));

    seen_from(&s, rec, n);
    CHECK(s.server_hello);
    CHECK_MEM(s.next_protocol, s.next_protocol_len, "h2");
    CHECK_EQ(s.version, 0x0303);
    /* Every cut: nothing read past the end, and the name is whole or absent. */
    for (size_t cut = 0; cut < n; cut++) {
        seen_from(&s, rec, cut);
        CHECK(s.next_protocol_len == 0 || (cut == n && s.next_protocol_len == 2));
        CHECK_EQ(s.server_hello, cut >= 6);
    }
    /* Once a ServerHello was read, later segments are not looked at. */
    tl_tls_server_data(&s, rec, n);
    CHECK_EQ(s.next_protocol_len, 0);
}

static void test_server_hello_others(void)
{
    static const uint8_t hrr[32] = {
        0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c,
        0x02, 0x1e, 0x65, 0xb8, 0x91, 0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb,
        0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
    };
    static const uint8_t no_alpn[] = { 0xff, 0x01, 0, 1, 0 };
    static const uint8_t empty_name[] = { 0, 16, 0, 3, 0, 1, 0 };
    static const uint8_t appdata[] = { 23, 3, 3, 0, 2, 2, 0 };
    static const uint8_t tls13[] = { 0, 43, 0, 2, 3, 4, 0, 51, 0, 4, 0, 29, 0, 0 };
    uint8_t rec[128], random[32] = { 7 };
    struct tl_tls_seen s;

    seen_from(&s, rec, server_hello(rec, hrr, alpn_h2, sizeof(alpn_h2)));
    CHECK(!s.server_hello); /* a HelloRetryRequest: keep looking */
    seen_from(&s, rec, server_hello(rec, random, no_alpn, sizeof(no_alpn)));
    CHECK(s.server_hello);
    CHECK_EQ(s.next_protocol_len, 0);
    seen_from(&s, rec, server_hello(rec, random, empty_name, sizeof(empty_name)));
    CHECK_EQ(s.next_protocol_len, 0);
    seen_from(&s, rec, server_hello(rec, random, tls13, sizeof(tls13)));
    CHECK_EQ(s.version, 0x0304); /* supported_versions, not legacy_version */
    seen_from(&s, appdata, sizeof(appdata));
    CHECK(!s.server_hello);
    size_t n = server_hello(rec, random, alpn_h2, sizeof(alpn_h2));
    rec[5] = 1; /* a ClientHello is not the server's */
    seen_from(&s, rec, n);
    CHECK(!s.server_hello);
}

static void test_quic_version(void)
{
    static const uint8_t initial[] = { 0xc3, 0, 0, 0, 1, 8, 1, 2, 3, 4, 5, 6, 7, 8 };
    static const uint8_t vneg[] = { 0x80, 0, 0, 0, 0, 0 };
    static const uint8_t short_hdr[] = { 0x43, 0xff, 0xff, 0xff, 0xff };
    struct tl_tls_seen s = { 0 };

    for (size_t cut = 0; cut <= sizeof(initial); cut++) {
        uint8_t *p = tl_test_dup(initial, cut);
        memset(&s, 0, sizeof(s));
        tl_tls_quic_data(&s, p, cut);
        CHECK_EQ(s.quic_version, cut >= 5 ? 1 : 0);
        free(p);
    }
    memset(&s, 0, sizeof(s));
    tl_tls_quic_data(&s, short_hdr, sizeof(short_hdr));
    tl_tls_quic_data(&s, vneg, sizeof(vneg));
    CHECK_EQ(s.quic_version, 0);
    tl_tls_quic_data(&s, initial, sizeof(initial));
    CHECK_EQ(s.quic_version, 1);
}

/* ---- the record from an nDPI flow state ---- */

struct fixture {
    struct ndpi_flow_struct *nf;
    struct tl_tls_seen seen;
    struct tl_dissect_limits lim;
    struct tl_arena arena;
    uint8_t mem[16384];
    char alpn[64], subject[128], issuer[128], sans[128];
};

static struct fixture *fixture_new(void)
{
    struct fixture *x = calloc(1, sizeof(*x));
    x->nf = calloc(1, SIZEOF_FLOW_STRUCT);
    x->lim.max_value_len = 8192;
    x->lim.max_items = 64;
    x->arena.base = x->mem;
    x->arena.cap = sizeof(x->mem);
    struct ndpi_flow_struct *nf = x->nf;
    nf->detected_protocol_stack[0] = NDPI_PROTOCOL_GOOGLE;
    nf->detected_protocol_stack[1] = NDPI_PROTOCOL_TLS;
    nf->protos.tls_quic.hello_processed = 1;
    nf->protos.tls_quic.ssl_version = 0x0303;
    nf->protos.tls_quic.server_cipher = 0xc02f;
    snprintf(nf->protos.tls_quic.ja3_client, 33, "%s", "0123456789abcdef0123456789abcdef");
    snprintf(nf->protos.tls_quic.ja3_server, 33, "%s", "fedcba9876543210fedcba9876543210");
    snprintf(nf->host_server_name, sizeof(nf->host_server_name), "www.example.com");
    snprintf(x->alpn, sizeof(x->alpn), "h2,http/1.1");
    snprintf(x->subject, sizeof(x->subject), "C=XX, O=Example, CN=www.example.com");
    snprintf(x->issuer, sizeof(x->issuer), "C=XX, O=Example, CN=Example CA");
    snprintf(x->sans, sizeof(x->sans), "www.example.com,example.com,192.0.2.1,ops@example.com");
    nf->protos.tls_quic.alpn = x->alpn;
    nf->protos.tls_quic.subjectDN = x->subject;
    nf->protos.tls_quic.issuerDN = x->issuer;
    nf->protos.tls_quic.server_names = x->sans;
    nf->protos.tls_quic.notBefore = 1767225600; /* 2026-01-01 */
    nf->protos.tls_quic.notAfter = 1798761600;  /* 2027-01-01 */
    for (int i = 0; i < 20; i++)
        nf->protos.tls_quic.sha1_certificate_fingerprint[i] = (uint8_t)(0x10 + i);
    memcpy(x->seen.next_protocol, "h2", 2);
    x->seen.next_protocol_len = 2;
    x->seen.server_hello = true;
    return x;
}

static void fixture_free(struct fixture *x)
{
    free(x->nf);
    free(x);
}

static bool fill(struct fixture *x, struct tl_tls_rec *r)
{
    tl_arena_reset(&x->arena);
    return tl_tls_fill(r, x->nf, &x->seen, &x->lim, &x->arena);
}

/* The record as JSON, for checks on what is written and what is left out. */
static char *json(const struct tl_tls_rec *r)
{
    struct tl_buf b = { 0 };
    tl_event_json(&b, &tl_tls_event, "unit", r);
    tl_buf_putc(&b, '\0');
    return b.p;
}

static void test_fill_tls12(void)
{
    struct fixture *x = fixture_new();
    struct tl_tls_rec r;

    CHECK(fill(x, &r));
    CHECK_STR(r.version, "TLSv12");
    CHECK_STR(r.cipher, "TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256");
    CHECK_MEM(r.server_name.ptr, r.server_name.len, "www.example.com");
    CHECK_MEM(r.next_protocol.ptr, r.next_protocol.len, "h2");
    CHECK_EQ(r.alpn.n, 2);
    if (r.alpn.n == 2) {
        CHECK_MEM(r.alpn.v[0].ptr, r.alpn.v[0].len, "h2");
        CHECK_MEM(r.alpn.v[1].ptr, r.alpn.v[1].len, "http/1.1");
    }
    CHECK_STR(r.ja3, "0123456789abcdef0123456789abcdef");
    CHECK_STR(r.ja3s, "fedcba9876543210fedcba9876543210");
    CHECK_MEM(r.subject.ptr, r.subject.len, "C=XX, O=Example, CN=www.example.com");
    CHECK(r.subject.ptr != x->subject); /* copied: nDPI frees its string with the flow */
    CHECK_EQ(r.cert_not_before, 1767225600ull * 1000000);
    CHECK_STR(r.cert_sha1, "101112131415161718191a1b1c1d1e1f20212223");
    CHECK_EQ(r.san_dns.n, 2);
    CHECK_EQ(r.san_ip.n, 1);
    CHECK_EQ(r.san_email.n, 1);
    if (r.san_ip.n == 1 && r.san_email.n == 1) {
        CHECK_MEM(r.san_ip.v[0].ptr, r.san_ip.v[0].len, "192.0.2.1");
        CHECK_MEM(r.san_email.v[0].ptr, r.san_email.v[0].len, "ops@example.com");
    }
    CHECK(r.sni_checked && r.sni_matches_cert);
    CHECK(!r.quic && !r.value_capped);

    char *j = json(&r);
    CHECK(strstr(j, "\"event_type\":\"tls\"") != NULL);
    CHECK(strstr(j, "\"san_dns\":[\"www.example.com\",\"example.com\"]") != NULL);
    CHECK(strstr(j, "\"cert_not_after\":\"2027-01-01T00:00:00.000000Z\"") != NULL);
    CHECK(strstr(j, "\"sni_matches_cert\":true") != NULL);
    CHECK(strstr(j, "quic_version") == NULL);
    free(j);

    x->nf->risk |= 1ull << NDPI_TLS_CERTIFICATE_MISMATCH;
    CHECK(fill(x, &r));
    CHECK(r.sni_checked && !r.sni_matches_cert);
    x->nf->protos.tls_quic.server_names = NULL; /* no SANs: nothing to match against */
    CHECK(fill(x, &r));
    CHECK(!r.sni_checked);
    fixture_free(x);
}

static void test_fill_partial(void)
{
    struct fixture *x = fixture_new();
    struct ndpi_flow_struct *nf = x->nf;
    struct tl_tls_rec r;

    /* Only the ClientHello: ssl_version is the client's offer, so no version or cipher. */
    nf->protos.tls_quic.ja3_server[0] = '\0';
    CHECK(fill(x, &r));
    CHECK_STR(r.version, "");
    CHECK_STR(r.cipher, "");
    char *j = json(&r);
    CHECK(strstr(j, "\"version\"") == NULL && strstr(j, "\"cipher\"") == NULL);
    free(j);
    /* No hello at all (a flow seen mid-stream): no event. */
    memset(&nf->protos.tls_quic, 0, sizeof(nf->protos.tls_quic));
    CHECK(!fill(x, &r));
    /* Not TLS: the union belongs to another protocol. */
    nf->protos.tls_quic.hello_processed = 1;
    nf->detected_protocol_stack[0] = NDPI_PROTOCOL_HTTP;
    nf->detected_protocol_stack[1] = NDPI_PROTOCOL_UNKNOWN;
    CHECK(!fill(x, &r));
    nf->detected_protocol_stack[0] = NDPI_PROTOCOL_MAIL_IMAPS;
    CHECK(fill(x, &r));
    fixture_free(x);
}

static void test_fill_names(void)
{
    static const struct {
        uint16_t version;
        const char *name;
    } versions[] = {
        { 0x0300, "SSLv3" },   { 0x0301, "TLSv10" },         { 0x0304, "TLSv13" },
        { 0xfefd, "DTLSv12" }, { 0x7f1c, "TLSv13-draft28" }, { 0x0a0a, "unknown-2570" },
    };
    struct fixture *x = fixture_new();
    struct tl_tls_rec r;

    for (size_t i = 0; i < TL_ARRAY_LEN(versions); i++) {
        x->nf->protos.tls_quic.ssl_version = versions[i].version;
        CHECK(fill(x, &r));
        CHECK_STR(r.version, versions[i].name);
    }
    /* The ServerHello's version wins over nDPI's (the client's offer in a TLS 1.0 reply). */
    x->nf->protos.tls_quic.ssl_version = 0x0303;
    x->seen.version = 0x0301;
    CHECK(fill(x, &r));
    CHECK_STR(r.version, "TLSv10");
    x->seen.version = 0;
    x->nf->protos.tls_quic.server_cipher = 0x1301;
    CHECK(fill(x, &r));
    CHECK_STR(r.cipher, "TLS_AES_128_GCM_SHA256");
    x->nf->protos.tls_quic.server_cipher = 0xeeee;
    CHECK(fill(x, &r));
    CHECK_STR(r.cipher, "unknown-61166");
    fixture_free(x);
}

static void test_fill_quic(void)
{
    struct fixture *x = fixture_new();
    struct ndpi_flow_struct *nf = x->nf;
    struct tl_tls_rec r;

    nf->detected_protocol_stack[0] = NDPI_PROTOCOL_GOOGLE;
    nf->detected_protocol_stack[1] = NDPI_PROTOCOL_QUIC;
    nf->protos.tls_quic.ja3_server[0] = '\0'; /* nDPI 4.2 does not read a QUIC ServerHello */
    nf->protos.tls_quic.ssl_version = 0x0304;
    x->seen.quic_version = 1;
    x->seen.next_protocol_len = 0;
    CHECK(fill(x, &r));
    CHECK(r.quic);
    CHECK_STR(r.version, "TLSv13");
    CHECK_STR(r.cipher, "");
    CHECK_EQ(r.quic_version, 1);
    char *j = json(&r);
    CHECK(strstr(j, "\"quic\":true") != NULL);
    CHECK(strstr(j, "\"quic_version\":\"0x00000001\"") != NULL);
    free(j);
    fixture_free(x);
}

static void test_fill_caps(void)
{
    struct fixture *x = fixture_new();
    struct tl_tls_rec r;

    x->lim.max_items = 1;
    x->lim.max_value_len = 10;
    CHECK(fill(x, &r));
    CHECK(r.value_capped);
    CHECK_EQ(r.alpn.n, 1);
    CHECK_MEM(r.server_name.ptr, r.server_name.len, "www.exampl");
    CHECK_MEM(r.subject.ptr, r.subject.len, "C=XX, O=Ex");
    CHECK_EQ(r.san_dns.n, 1);
    /* server_name, subject, issuer, a DNS name and the e-mail address cut; an ALPN name and
     * a DNS name left out */
    CHECK_EQ(r.ncapped, 7);
    x->lim.max_items = 0;
    CHECK(fill(x, &r));
    CHECK_EQ(r.alpn.n, 0);
    CHECK_EQ(r.san_dns.n + r.san_ip.n + r.san_email.n, 0);
    /* A full arena leaves values empty, never out of bounds. */
    x->lim.max_items = 64;
    x->lim.max_value_len = 8192;
    x->arena.cap = 16;
    CHECK(fill(x, &r));
    CHECK_EQ(r.subject.len, 0);
    fixture_free(x);
}

static int fake_extra(struct ndpi_detection_module_struct *m, struct ndpi_flow_struct *f)
{
    (void)m;
    (void)f;
    return 1;
}

static void test_wants_more(void)
{
    struct fixture *x = fixture_new();
    struct ndpi_flow_struct *nf = x->nf;

    nf->extra_packets_func = fake_extra;
    CHECK(tl_tls_wants_more(nf, TL_IPPROTO_TCP));
    CHECK(!tl_tls_wants_more(nf, TL_IPPROTO_UDP));
    nf->l4.tcp.tls.certificate_processed = 1;
    CHECK(!tl_tls_wants_more(nf, TL_IPPROTO_TCP));
    nf->l4.tcp.tls.certificate_processed = 0;
    nf->extra_packets_func = NULL; /* nDPI stopped looking */
    CHECK(!tl_tls_wants_more(nf, TL_IPPROTO_TCP));
    nf->extra_packets_func = fake_extra;
    nf->detected_protocol_stack[0] = NDPI_PROTOCOL_HTTP;
    nf->detected_protocol_stack[1] = NDPI_PROTOCOL_UNKNOWN;
    CHECK(!tl_tls_wants_more(nf, TL_IPPROTO_TCP));
    fixture_free(x);
}

const struct tl_test tl_tests_tls[] = {
    { "server_hello_alpn", test_server_hello_alpn },
    { "server_hello_others", test_server_hello_others },
    { "quic_version", test_quic_version },
    { "fill_tls12", test_fill_tls12 },
    { "fill_partial", test_fill_partial },
    { "fill_names", test_fill_names },
    { "fill_quic", test_fill_quic },
    { "fill_caps", test_fill_caps },
    { "wants_more", test_wants_more },
    { 0 },
};
