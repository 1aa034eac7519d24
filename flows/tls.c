/*
 * tls.c - the `tls` event, from what nDPI 4.2 keeps of a TLS, DTLS or QUIC
 * handshake (flow->protos.tls_quic, flow->host_server_name).
 *
 * Field names are Zeek's ssl.log ones (and its ja3 package's) where Zeek has
 * the concept. nDPI's strings (subjectDN, issuerDN, alpn, server_names) are
 * malloc'd by nDPI and freed with its flow state, so every value is copied
 * into the caller's arena, cut to dissect.max_value_len, lists to
 * dissect.max_items. nDPI does not keep the ALPN protocol the server chose nor
 * the QUIC version: the worker reads those two from the packets while nDPI
 * follows the flow (tl_tls_server_data, tl_tls_quic_data), through the cursor.
 */
#include <arpa/inet.h>
#include <ndpi/ndpi_api.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#include "cursor.h"
#include "dissect.h"
#include "domain.h"
#include "event.h"
#include "tls.h"

static const struct tl_field tls_fields[] = {
    TL_FLOW_ID_FIELDS(struct tl_tls_rec),
    TL_FIELD_OPT(struct tl_tls_rec, version, CHARS, "version",
                 "version the server chose, Zeek's names: TLSv12, TLSv13, DTLSv12... (from the "
                 "ServerHello; QUIC: TLSv13)"),
    TL_FIELD_OPT(struct tl_tls_rec, cipher, CHARS, "cipher",
                 "cipher suite the server chose, IANA name (unknown-N when nDPI has none)"),
    TL_FIELD_OPT_P(struct tl_tls_rec, server_name, STR, "server_name",
                   "server name the client asked for (SNI), lower case; nDPI 4.2 keeps its last "
                   "79 bytes"),
    TL_FIELD_OPT(struct tl_tls_rec, next_protocol, STR, "next_protocol",
                 "application protocol the server chose (ALPN), e.g. h2, http/1.1"),
    TL_FIELD_AT("alpn", TL_F_STRLIST, TL_FF_OPT, 0, offsetof(struct tl_tls_rec, alpn),
                "application protocols the client offered (ALPN), in its order"),
    TL_FIELD_OPT(struct tl_tls_rec, ja3, CHARS, "ja3", "JA3 hash of the ClientHello"),
    TL_FIELD_OPT(struct tl_tls_rec, ja3s, CHARS, "ja3s", "JA3S hash of the ServerHello"),
    TL_FIELD_OPT_P(struct tl_tls_rec, subject, STR, "subject",
                   "server certificate subject as nDPI writes it: C, ST, L, O, OU, CN in "
                   "certificate order, \", \" between (TLS <= 1.2: in the clear)"),
    TL_FIELD_OPT(struct tl_tls_rec, issuer, STR, "issuer",
                 "server certificate issuer, written like subject"),
    TL_FIELD_OPT(struct tl_tls_rec, cert_not_before, TS, "cert_not_before",
                 "server certificate valid from (UTCTime dates only)"),
    TL_FIELD_OPT(struct tl_tls_rec, cert_not_after, TS, "cert_not_after",
                 "server certificate valid until (UTCTime dates only)"),
    TL_FIELD_OPT(struct tl_tls_rec, cert_sha1, CHARS, "cert_sha1",
                 "SHA-1 of the server certificate (DER), lower-case hex"),
    TL_FIELD_AT("san_dns", TL_F_STRLIST, TL_FF_OPT, 0, offsetof(struct tl_tls_rec, san_dns),
                "server certificate subject alternative names: DNS names, lower case"),
    TL_FIELD_AT("san_ip", TL_F_STRLIST, TL_FF_OPT, 0, offsetof(struct tl_tls_rec, san_ip),
                "server certificate subject alternative names: IPv4 addresses"),
    TL_FIELD_AT("san_email", TL_F_STRLIST, TL_FF_OPT | TL_FF_PERSONAL, 0,
                offsetof(struct tl_tls_rec, san_email),
                "server certificate subject alternative names: e-mail addresses"),
    TL_FIELD_IF(struct tl_tls_rec, sni_matches_cert, BOOL, sni_checked, "sni_matches_cert",
                "server_name matches a DNS name of the certificate (when both were seen)"),
    TL_FIELD(struct tl_tls_rec, quic, BOOL, "quic", "the handshake was carried by QUIC"),
    TL_FIELD_OPT(struct tl_tls_rec, quic_version, HEX32, "quic_version",
                 "QUIC version of the first long-header packet (0x00000001: QUIC v1)"),
    TL_FIELD(struct tl_tls_rec, value_capped, BOOL, "value_capped",
             "a value was cut to dissect.max_value_len or a list to dissect.max_items"),
};

const struct tl_event_type tl_tls_event = {
    .name = "tls",
    .doc = "one record per TLS, DTLS or QUIC flow whose handshake nDPI read",
    .fields = tls_fields,
    .nfields = TL_ARRAY_LEN(tls_fields),
    .ext = &tl_domain_names_fields,
};

bool tl_tls_protocol(uint16_t id)
{
    switch (id) {
    case NDPI_PROTOCOL_TLS:
    case NDPI_PROTOCOL_DTLS:
    case NDPI_PROTOCOL_QUIC:
    case NDPI_PROTOCOL_MAIL_IMAPS:
    case NDPI_PROTOCOL_MAIL_SMTPS:
    case NDPI_PROTOCOL_MAIL_POPS: return true;
    default: return false;
    }
}

/* nDPI's protocol stack of the flow holds a TLS-family protocol (the union is then tls_quic). */
static bool tls_family(const struct ndpi_flow_struct *nf)
{
    return tl_tls_protocol(nf->detected_protocol_stack[0]) ||
           tl_tls_protocol(nf->detected_protocol_stack[1]);
}

static bool tls_is_quic(const struct ndpi_flow_struct *nf)
{
    return nf->detected_protocol_stack[0] == NDPI_PROTOCOL_QUIC ||
           nf->detected_protocol_stack[1] == NDPI_PROTOCOL_QUIC;
}

/* A hello was read: nDPI sets hello_processed for TLS and gQUIC, a JA3 hash for the rest. */
static bool tls_hello_seen(const struct ndpi_flow_struct *nf)
{
    return nf->protos.tls_quic.hello_processed || nf->protos.tls_quic.ja3_client[0] ||
           nf->protos.tls_quic.ja3_server[0];
}

bool tl_tls_wants_more(const struct ndpi_flow_struct *nf, uint8_t ip_proto)
{
    if (ip_proto != TL_IPPROTO_TCP || !tls_family(nf) || !tls_hello_seen(nf))
        return false;
    return !nf->l4.tcp.tls.certificate_processed && nf->extra_packets_func != NULL;
}

/* ---- what nDPI does not keep ---- */

/* SHA-256("HelloRetryRequest"): the random of a HelloRetryRequest (RFC 8446 4.1.3). */
static const uint8_t tls_hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

enum {
    TLS_REC_HANDSHAKE = 22,          /* RFC 8446 5.1 ContentType */
    TLS_HS_SERVER_HELLO = 2,         /* RFC 8446 4 HandshakeType */
    TLS_EXT_ALPN = 16,               /* RFC 7301 3.1 */
    TLS_EXT_SUPPORTED_VERSIONS = 43, /* RFC 8446 4.2.1 */
};

/* The first protocol name of an ALPN extension body (RFC 7301 3.1: the server sends exactly one).
 */
static void tls_read_alpn(struct tl_tls_seen *s, struct tl_cursor *ext)
{
    struct tl_cursor list;
    if (!tl_cur_sub(ext, tl_cur_be16(ext), &list))
        return;
    uint8_t n = tl_cur_u8(&list);
    const uint8_t *name = tl_cur_bytes(&list, n);
    if (!name || n == 0)
        return;
    memcpy(s->next_protocol, name, n);
    s->next_protocol_len = n;
}

/*
 * A ServerHello at the start of a segment (the server's first flight starts
 * with it): record header, handshake header, then RFC 8446 4.1.3 / RFC 5246
 * 7.4.1.3. A record longer than the segment is read as far as it goes. Keeps
 * the version the server chose (nDPI 4.2 keeps the client's offer unless the
 * ServerHello has supported_versions) and the ALPN protocol.
 */
void tl_tls_server_data(struct tl_tls_seen *s, const uint8_t *p, size_t n)
{
    struct tl_cursor c = tl_cur_make(p, n), hs, exts;

    if (s->server_hello || n < 6 || p[0] != TLS_REC_HANDSHAKE || p[1] != 3 ||
        p[5] != TLS_HS_SERVER_HELLO)
        return;
    s->server_hello = true;
    tl_cur_skip(&c, 5); /* type, version, length */
    tl_cur_skip(&c, 1);
    uint32_t len = tl_cur_be24(&c);
    if (!tl_cur_sub(&c, len < tl_cur_left(&c) ? len : tl_cur_left(&c), &hs))
        return;
    uint16_t version = tl_cur_be16(&hs); /* legacy_version */
    const uint8_t *random = tl_cur_bytes(&hs, 32);
    if (random && memcmp(random, tls_hrr_random, sizeof(tls_hrr_random)) == 0) {
        s->server_hello = false; /* a HelloRetryRequest: the ServerHello comes later */
        return;
    }
    if (tl_cur_ok(&hs))
        s->version = version;
    tl_cur_skip(&hs, tl_cur_u8(&hs)); /* legacy_session_id_echo */
    tl_cur_skip(&hs, 3);              /* cipher_suite, legacy_compression_method */
    if (!tl_cur_sub(&hs, tl_cur_be16(&hs), &exts))
        return;
    /* Each pass consumes four bytes or fails the cursor. */
    while (tl_cur_left(&exts) >= 4) {
        struct tl_cursor body;
        uint16_t type = tl_cur_be16(&exts);
        if (!tl_cur_sub(&exts, tl_cur_be16(&exts), &body))
            return;
        if (type == TLS_EXT_ALPN)
            tls_read_alpn(s, &body);
        else if (type == TLS_EXT_SUPPORTED_VERSIONS && tl_cur_left(&body) == 2)
            s->version = tl_cur_be16(&body); /* RFC 8446 4.2.1: the version chosen */
    }
}

/* RFC 9000 17.2: a long header has the high bit set, then the 32-bit version. */
void tl_tls_quic_data(struct tl_tls_seen *s, const uint8_t *p, size_t n)
{
    struct tl_cursor c = tl_cur_make(p, n);

    if (s->quic_version || !(tl_cur_u8(&c) & 0x80))
        return;
    uint32_t v = tl_cur_be32(&c);
    if (tl_cur_ok(&c))
        s->quic_version = v; /* 0 is a Version Negotiation packet: still unknown */
}

/* ---- filling the record ---- */

/* Zeek's names (base/protocols/ssl/consts.zeek) for the versions that have one. */
static void tls_version_name(char *out, size_t cap, uint16_t v)
{
    static const struct {
        uint16_t v;
        const char *name;
    } names[] = {
        { 0x0002, "SSLv2" },   { 0x0300, "SSLv3" },   { 0x0301, "TLSv10" },
        { 0x0302, "TLSv11" },  { 0x0303, "TLSv12" },  { 0x0304, "TLSv13" },
        { 0xfeff, "DTLSv10" }, { 0xfefd, "DTLSv12" }, { 0xfefc, "DTLSv13" },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(names); i++)
        if (names[i].v == v) {
            snprintf(out, cap, "%s", names[i].name);
            return;
        }
    if ((v >> 8) == 0x7f)
        snprintf(out, cap, "TLSv13-draft%u", v & 0xff);
    else
        snprintf(out, cap, "unknown-%u", v);
}

/* nDPI names unknown suites into one static buffer, so lookups are serialised. */
static void tls_cipher_name(char *out, size_t cap, uint16_t id)
{
    static pthread_mutex_t lock = PTHREAD_MUTEX_INITIALIZER;

    pthread_mutex_lock(&lock);
    const char *name = ndpi_cipher2str(id);
    if (name && strncmp(name, "0X", 2) != 0)
        snprintf(out, cap, "%s", name);
    else
        snprintf(out, cap, "unknown-%u", id);
    pthread_mutex_unlock(&lock);
}

struct tls_fill {
    struct tl_tls_rec *r;
    const struct tl_dissect_limits *lim;
    struct tl_arena *arena;
};

/* A copy of n bytes of p in the arena, cut to max_value_len (counted). */
static struct tl_str tls_copy(struct tls_fill *t, const char *p, size_t n)
{
    if (n > t->lim->max_value_len) {
        n = t->lim->max_value_len;
        t->r->ncapped++;
    }
    return tl_arena_str(t->arena, p, n);
}

static struct tl_str tls_copy_cstr(struct tls_fill *t, const char *s)
{
    return s ? tls_copy(t, s, strlen(s)) : (struct tl_str){ NULL, 0 };
}

/* A list of up to max_items values, in the arena; the array is sized for all of them. */
static bool tls_list_init(struct tls_fill *t, struct tl_strlist *l, struct tl_str **v, size_t max)
{
    size_t n = max < t->lim->max_items ? max : t->lim->max_items;
    *v = n ? tl_arena_alloc(t->arena, n * sizeof(**v)) : NULL;
    l->v = *v;
    l->n = 0;
    return *v != NULL;
}

static void tls_list_add(struct tls_fill *t, struct tl_strlist *l, struct tl_str *v, const char *p,
                         size_t n)
{
    if (l->n >= t->lim->max_items || !v) {
        t->r->ncapped++;
        return;
    }
    v[l->n++] = tls_copy(t, p, n);
}

static size_t tls_count_items(const char *s)
{
    size_t n = 1;
    for (; *s; s++)
        n += *s == ',';
    return n;
}

/* nDPI's comma list of offered ALPN names. */
static void tls_fill_alpn(struct tls_fill *t, const char *s)
{
    struct tl_str *v;
    if (!s || !*s || !tls_list_init(t, &t->r->alpn, &v, tls_count_items(s)))
        return;
    for (const char *p = s;; p++) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        tls_list_add(t, &t->r->alpn, v, p, n);
        if (!comma)
            break;
        p = comma;
    }
}

static bool tls_is_ipv4(const char *p, size_t n)
{
    char text[INET_ADDRSTRLEN];
    struct in_addr a;
    if (n >= sizeof(text))
        return false;
    memcpy(text, p, n);
    text[n] = '\0';
    return inet_pton(AF_INET, text, &a) == 1;
}

/*
 * nDPI's comma list of subject alternative names: DNS names (lower-cased by
 * nDPI), IPv4 addresses and e-mail addresses, each type in its own list.
 */
static void tls_fill_san(struct tls_fill *t, const char *s)
{
    struct tl_tls_rec *r = t->r;
    struct tl_str *dns, *ip, *email;
    size_t max = s && *s ? tls_count_items(s) : 0;
    if (!max)
        return;
    tls_list_init(t, &r->san_dns, &dns, max);
    tls_list_init(t, &r->san_ip, &ip, max);
    tls_list_init(t, &r->san_email, &email, max);
    for (const char *p = s;; p++) {
        const char *comma = strchr(p, ',');
        size_t n = comma ? (size_t)(comma - p) : strlen(p);
        if (tls_is_ipv4(p, n))
            tls_list_add(t, &r->san_ip, ip, p, n);
        else if (memchr(p, '@', n))
            tls_list_add(t, &r->san_email, email, p, n);
        else
            tls_list_add(t, &r->san_dns, dns, p, n);
        if (!comma)
            break;
        p = comma;
    }
}

static void tls_fill_cert(struct tls_fill *t, const struct ndpi_flow_struct *nf)
{
    struct tl_tls_rec *r = t->r;
    const uint8_t *sha1 = nf->protos.tls_quic.sha1_certificate_fingerprint;
    bool have_sha1 = false;

    r->subject = tls_copy_cstr(t, nf->protos.tls_quic.subjectDN);
    r->issuer = tls_copy_cstr(t, nf->protos.tls_quic.issuerDN);
    r->cert_not_before = (uint64_t)nf->protos.tls_quic.notBefore * 1000000u;
    r->cert_not_after = (uint64_t)nf->protos.tls_quic.notAfter * 1000000u;
    for (size_t i = 0; i < 20; i++)
        have_sha1 |= sha1[i] != 0;
    if (have_sha1)
        tl_hex(r->cert_sha1, sha1, 20);
    tls_fill_san(t, nf->protos.tls_quic.server_names);
    /* nDPI flags a server name that no DNS name of the certificate matches. */
    if (r->server_name.len && nf->protos.tls_quic.server_names) {
        r->sni_checked = true;
        r->sni_matches_cert = !(nf->risk & (1ull << NDPI_TLS_CERTIFICATE_MISMATCH));
    }
}

bool tl_tls_fill(struct tl_tls_rec *r, const struct ndpi_flow_struct *nf,
                 const struct tl_tls_seen *seen, const struct tl_dissect_limits *lim,
                 struct tl_arena *arena)
{
    struct tls_fill t = { r, lim, arena };

    memset(r, 0, sizeof(*r));
    if (!tls_family(nf) || !tls_hello_seen(nf))
        return false;
    r->quic = tls_is_quic(nf);
    /* Before the ServerHello, nDPI's ssl_version is only what the client offered. */
    uint16_t version = seen->version;
    if (!version && (nf->protos.tls_quic.ja3_server[0] || r->quic))
        version = nf->protos.tls_quic.ssl_version;
    if (version)
        tls_version_name(r->version, sizeof(r->version), version);
    if (nf->protos.tls_quic.ja3_server[0])
        tls_cipher_name(r->cipher, sizeof(r->cipher), nf->protos.tls_quic.server_cipher);
    r->server_name = tls_copy(&t, nf->host_server_name,
                              strnlen(nf->host_server_name, sizeof(nf->host_server_name)));
    if (seen->next_protocol_len)
        r->next_protocol = tls_copy(&t, seen->next_protocol, seen->next_protocol_len);
    tls_fill_alpn(&t, nf->protos.tls_quic.alpn);
    memcpy(r->ja3, nf->protos.tls_quic.ja3_client, sizeof(r->ja3) - 1);
    memcpy(r->ja3s, nf->protos.tls_quic.ja3_server, sizeof(r->ja3s) - 1);
    tls_fill_cert(&t, nf);
    if (r->quic)
        r->quic_version = seen->quic_version;
    r->value_capped = r->ncapped > 0;
    return true;
}
