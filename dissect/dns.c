/*
 * dns.c - DNS over UDP and TCP (RFC 1035, 7766; EDNS RFC 6891, ECS RFC 7871,
 * cookies RFC 7873, SVCB/HTTPS RFC 9460) -> one `dns` record per transaction.
 *
 * UDP carries one message per datagram; TCP frames each message with a 2-byte
 * length (RFC 7766 8). A query waits in the flow state (a bounded copy) until
 * the response with the same id and question arrives, then both are written
 * as one record; a response nobody asked for is written alone, and a query
 * nobody answers is written by flush(). Field names and meanings follow Zeek's
 * dns.log; answers use Zeek's text where Zeek has one (see dns_format_rdata).
 *
 * Invariants: names are at most 255 octets (RFC 1035 2.3.4) and every
 * compression pointer points strictly before the start of the label run that
 * led to it ("a prior occurrence", RFC 1035 4.1.4), so a name walk visits
 * strictly decreasing offsets and ends; a hop limit bounds it further. Name
 * bytes outside 0x20..0x7e, and the backslash, are written as \xNN (as Zeek's
 * logs do), so every backslash in a name or TXT string starts an escape; a
 * dot inside a label is not escaped (Zeek neither). `query` is that text with
 * A-Z lowercased; `query_original` is set only when the case differs.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cursor.h"
#include "dissect.h"
#include "domain.h"
#include "flow.h"
#include "schema.h"

enum {
    DNS_HDR_LEN = 12,                 /* RFC 1035 4.1.1 */
    DNS_MAX_NAME = 255,               /* octets on the wire, RFC 1035 2.3.4 */
    DNS_MAX_HOPS = 64,                /* compression pointers followed per name */
    DNS_MAX_ANSWERS = 64,             /* answers (and auth, addl) kept per record; also max_items */
    DNS_MAX_PENDING = 16,             /* queries awaiting a response per flow; also max_pending */
    DNS_MAX_TEXT = 8192,              /* longest answer text; also max_value_len */
    DNS_NAME_TEXT = 4 * DNS_MAX_NAME, /* a name with every byte escaped */
};

/* Header flags, RFC 1035 4.1.1 and RFC 2535 6.1 (AD, CD). */
enum {
    DNS_QR = 0x8000,
    DNS_AA = 0x0400,
    DNS_TC = 0x0200,
    DNS_RD = 0x0100,
    DNS_RA = 0x0080,
    DNS_AD = 0x0020,
    DNS_CD = 0x0010,
};

/* A decoded name: labels joined by '.', raw bytes (escaped only when written). */
struct dns_name {
    uint8_t len;
    uint8_t b[DNS_MAX_NAME];
};

/* EDNS(0) as read from an OPT RR (RFC 6891 6.1.2). */
struct dns_edns {
    bool present, dnssec_ok, cookie, ecs;
    uint8_t ext_rcode;
    uint16_t udp_size;
    uint16_t ecs_family; /* 1: IPv4, 2: IPv6 (RFC 7871 6) */
    uint8_t ecs_prefix;
    uint8_t ecs_addr[16];
};

/*
 * What a message says about its transaction. A pending query is one of these,
 * copied into the flow state, so it owns its bytes.
 */
struct dns_info {
    uint64_t ts_us;
    uint16_t id, flags, qdcount, ancount, nscount, arcount, qtype, qclass;
    bool has_q;
    bool name_from_answer; /* no question: qname is the first answer's owner (mDNS), as Zeek */
    uint8_t status;        /* enum tl_msg_status */
    struct dns_edns edns;
    struct dns_name qname;
};

struct dns_state {
    struct dns_info pending[DNS_MAX_PENDING]; /* oldest first */
    uint8_t npending;
    bool seen;      /* a message parsed on this flow: no more giving up */
    bool resync[2]; /* TCP: bytes were lost; the next frame must look like DNS */
};

/* The record: borrowed strings live in the packet arena until emit returns. */
struct dns_rec {
    struct tl_flow_ids ids;
    uint16_t trans_id;
    uint64_t rtt;
    struct tl_str query, query_original;
    uint16_t qclass, qtype;
    const char *qclass_name, *qtype_name, *opcode_name, *rcode_name;
    uint8_t opcode, rcode, Z;
    bool AA, TC, RD, RA, AD, CD, rejected, answers_capped;
    struct tl_strlist answers, auth, addl;
    uint64_t ttls[DNS_MAX_ANSWERS];
    uint16_t nttls;
    uint16_t edns_udp_size;
    bool edns_do, edns_cookie;
    struct tl_str edns_ecs;
    uint16_t qdcount, ancount, nscount, arcount;
    uint8_t status; /* enum tl_msg_status */
    /* storage behind answers, auth and addl */
    struct tl_str ans_v[DNS_MAX_ANSWERS], auth_v[DNS_MAX_ANSWERS], addl_v[DNS_MAX_ANSWERS];
    char qclass_buf[16], qtype_buf[16], opcode_buf[16], rcode_buf[16];
};

static const struct tl_field dns_fields[] = {
    TL_FLOW_ID_FIELDS(struct dns_rec),
    TL_FIELD(struct dns_rec, trans_id, U16, "trans_id", "DNS transaction id"),
    TL_FIELD_OPT(struct dns_rec, rtt, DUR, "rtt",
                 "response time minus query time; absent unanswered"),
    TL_FIELD_OPT(struct dns_rec, query, STR, "query",
                 "queried name, lowercased; bytes outside 0x20-0x7e and \\ as \\xNN"),
    TL_FIELD_OPT(struct dns_rec, query_original, STR, "query_original",
                 "queried name as sent, when its case differs from query"),
    TL_FIELD_OPT(struct dns_rec, qclass, U16, "qclass", "QCLASS of the question"),
    TL_FIELD_OPT(struct dns_rec, qclass_name, CSTR, "qclass_name", "QCLASS name (Zeek's)"),
    TL_FIELD_OPT(struct dns_rec, qtype, U16, "qtype", "QTYPE of the question"),
    TL_FIELD_OPT(struct dns_rec, qtype_name, CSTR, "qtype_name", "QTYPE name (Zeek's)"),
    TL_FIELD(struct dns_rec, opcode, U8, "opcode", "header opcode"),
    TL_FIELD(struct dns_rec, opcode_name, CSTR, "opcode_name", "opcode name (Zeek's)"),
    TL_FIELD(struct dns_rec, rcode, U8, "rcode",
             "response code, EDNS-extended (0 when unanswered: see rcode_name)"),
    TL_FIELD_OPT(struct dns_rec, rcode_name, CSTR, "rcode_name",
                 "response code name; absent when no response was seen"),
    TL_FIELD(struct dns_rec, AA, BOOL, "AA", "authoritative answer (response)"),
    TL_FIELD(struct dns_rec, TC, BOOL, "TC", "truncation bit in the query or the response"),
    TL_FIELD(struct dns_rec, RD, BOOL, "RD", "recursion desired (query)"),
    TL_FIELD(struct dns_rec, RA, BOOL, "RA", "recursion available (response)"),
    TL_FIELD(struct dns_rec, Z, U8, "Z", "the 3 bits Z, AD, CD of the query, as Zeek's Z"),
    TL_FIELD(struct dns_rec, AD, BOOL, "AD", "authentic data bit (response)"),
    TL_FIELD(struct dns_rec, CD, BOOL, "CD", "checking disabled bit (query)"),
    TL_FIELD_OPT(struct dns_rec, answers, STRLIST, "answers",
                 "one string per answer RR, Zeek's text where Zeek has one"),
    { "TTLs", TL_F_U64LIST, TL_FF_OPT, (uint16_t)offsetof(struct dns_rec, nttls),
      offsetof(struct dns_rec, ttls), "TTL in seconds of each kept answer" },
    TL_FIELD_OPT(struct dns_rec, answers_capped, BOOL, "answers_capped",
                 "more answers (or auth, addl) than dissect.max_items; see ancount"),
    TL_FIELD_OPT(struct dns_rec, auth, STRLIST, "auth", "authority RRs, as answers, distinct"),
    TL_FIELD_OPT(struct dns_rec, addl, STRLIST, "addl",
                 "additional RRs except OPT and TSIG, as answers, distinct"),
    TL_FIELD_OPT(struct dns_rec, edns_udp_size, U16, "edns_udp_size",
                 "EDNS UDP payload size (the query's OPT, else the response's)"),
    TL_FIELD_OPT(struct dns_rec, edns_do, BOOL, "edns_do", "EDNS DNSSEC OK bit"),
    TL_FIELD_OPT(struct dns_rec, edns_ecs, STR, "edns_ecs", "EDNS client subnet, addr/prefix"),
    TL_FIELD_OPT(struct dns_rec, edns_cookie, BOOL, "edns_cookie",
                 "an EDNS cookie option is present"),
    TL_FIELD(struct dns_rec, rejected, BOOL, "rejected",
             "Zeek's: a response with a question and no RRs, or an error rcode and no question"),
    TL_FIELD(struct dns_rec, qdcount, U16, "qdcount", "QDCOUNT (the response's when seen)"),
    TL_FIELD(struct dns_rec, ancount, U16, "ancount", "ANCOUNT (the response's when seen)"),
    TL_FIELD(struct dns_rec, nscount, U16, "nscount", "NSCOUNT (the response's when seen)"),
    TL_FIELD(struct dns_rec, arcount, U16, "arcount", "ARCOUNT (the response's when seen)"),
    TL_FIELD(struct dns_rec, status, STATUS, "status",
             "ok; truncated (capture cut); malformed (bad pointer, overlong name, short RR)"),
};

const struct tl_event_type tl_dns_event = {
    .name = "dns",
    .doc = "one DNS transaction: a query and its response, or either alone",
    .fields = dns_fields,
    .nfields = TL_ARRAY_LEN(dns_fields),
    .ext = &tl_domain_names_fields,
};

/* ---- names and tables (Zeek's base/protocols/dns/consts.zeek) ---- */

struct dns_code {
    uint16_t code;
    const char *name;
};

static const struct dns_code dns_types[] = {
    { 1, "A" },          { 2, "NS" },        { 3, "MD" },
    { 4, "MF" },         { 5, "CNAME" },     { 6, "SOA" },
    { 7, "MB" },         { 8, "MG" },        { 9, "MR" },
    { 10, "NULL" },      { 11, "WKS" },      { 12, "PTR" },
    { 13, "HINFO" },     { 14, "MINFO" },    { 15, "MX" },
    { 16, "TXT" },       { 17, "RP" },       { 18, "AFSDB" },
    { 19, "X25" },       { 20, "ISDN" },     { 21, "RT" },
    { 22, "NSAP" },      { 23, "NSAP-PTR" }, { 24, "SIG" },
    { 25, "KEY" },       { 26, "PX" },       { 27, "GPOS" },
    { 28, "AAAA" },      { 29, "LOC" },      { 30, "NXT" },
    { 31, "EID" },       { 32, "NIMLOC" },   { 33, "SRV" },
    { 34, "ATMA" },      { 35, "NAPTR" },    { 36, "KX" },
    { 37, "CERT" },      { 38, "A6" },       { 39, "DNAME" },
    { 40, "SINK" },      { 41, "OPT" },      { 42, "APL" },
    { 43, "DS" },        { 44, "SSHFP" },    { 45, "IPSECKEY" },
    { 46, "RRSIG" },     { 47, "NSEC" },     { 48, "DNSKEY" },
    { 49, "DHCID" },     { 50, "NSEC3" },    { 51, "NSEC3PARAM" },
    { 52, "TLSA" },      { 53, "SMIMEA" },   { 55, "HIP" },
    { 56, "NINFO" },     { 57, "RKEY" },     { 58, "TALINK" },
    { 59, "CDS" },       { 60, "CDNSKEY" },  { 61, "OPENPGPKEY" },
    { 62, "CSYNC" },     { 63, "ZONEMD" },   { 64, "SVCB" },
    { 65, "HTTPS" },     { 99, "SPF" },      { 100, "UINFO" },
    { 101, "UID" },      { 102, "GID" },     { 103, "UNSPEC" },
    { 104, "NID" },      { 105, "L32" },     { 106, "L64" },
    { 107, "LP" },       { 108, "EUI48" },   { 109, "EUI64" },
    { 249, "TKEY" },     { 250, "TSIG" },    { 251, "IXFR" },
    { 252, "AXFR" },     { 253, "MAILB" },   { 254, "MAILA" },
    { 255, "*" },        { 256, "URI" },     { 257, "CAA" },
    { 32768, "TA" },     { 32769, "DLV" },   { 65281, "WINS" },
    { 65282, "WINS-R" }, { 65422, "XPF" },   { 65521, "INTEGRITY" },
};

static const struct dns_code dns_classes[] = {
    { 1, "C_INTERNET" }, { 2, "C_CSNET" },  { 3, "C_CHAOS" },
    { 4, "C_HESIOD" },   { 254, "C_NONE" }, { 255, "C_ANY" },
};

static const struct dns_code dns_rcodes[] = {
    { 0, "NOERROR" }, { 1, "FORMERR" },   { 2, "SERVFAIL" },   { 3, "NXDOMAIN" },
    { 4, "NOTIMP" },  { 5, "REFUSED" },   { 6, "YXDOMAIN" },   { 7, "YXRRSET" },
    { 8, "NXRRSet" }, { 9, "NOTAUTH" },   { 10, "NOTZONE" },   { 16, "BADVERS" },
    { 17, "BADKEY" }, { 18, "BADTIME" },  { 19, "BADMODE" },   { 20, "BADNAME" },
    { 21, "BADALG" }, { 22, "BADTRUNC" }, { 23, "BADCOOKIE" },
};

static const struct dns_code dns_opcodes[] = {
    { 0, "query" },  { 1, "iquery" },         { 2, "server-status" },
    { 4, "notify" }, { 5, "dynamic-update" }, { 6, "dso" },
};

/* Fixed-capacity text, cut (and flagged) at its capacity. */
struct dns_text {
    char *p;
    size_t len, cap;
    bool cut;
};

static void dns_put(struct dns_text *t, const void *p, size_t n)
{
    if (n > t->cap - t->len) {
        n = t->cap - t->len;
        t->cut = true;
    }
    memcpy(t->p + t->len, p, n);
    t->len += n;
}

static void dns_puts(struct dns_text *t, const char *s)
{
    dns_put(t, s, strlen(s));
}

static void dns_putu(struct dns_text *t, uint64_t v)
{
    char b[20];
    size_t i = sizeof(b);
    do {
        b[--i] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    dns_put(t, b + i, sizeof(b) - i);
}

static void dns_puthex(struct dns_text *t, const uint8_t *p, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n && !t->cut; i++) {
        char b[2] = { hex[p[i] >> 4], hex[p[i] & 15] };
        dns_put(t, b, 2);
    }
}

/* Zeek's log escaping: bytes outside 0x20..0x7e, and the backslash, as \xNN. */
static void dns_putesc(struct dns_text *t, const uint8_t *p, size_t n, bool lower)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n && !t->cut; i++) {
        uint8_t c = p[i];
        if (c < 0x20 || c > 0x7e || c == '\\') {
            char b[4] = { '\\', 'x', hex[c >> 4], hex[c & 15] };
            dns_put(t, b, 4);
        } else {
            char ch = (char)(lower && c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c);
            dns_put(t, &ch, 1);
        }
    }
}

static const char *dns_code_name(const struct dns_code *tab, size_t n, unsigned code)
{
    for (size_t i = 0; i < n; i++)
        if (tab[i].code == code)
            return tab[i].name;
    return NULL;
}

/* The table's name, or Zeek's fallback "<prefix><code>" written into buf. */
static const char *dns_name_of(const struct dns_code *tab, size_t n, unsigned code,
                               const char *prefix, char *buf, size_t bufsize)
{
    const char *s = dns_code_name(tab, n, code);
    if (s)
        return s;
    struct dns_text t = { buf, 0, bufsize - 1, false };
    dns_puts(&t, prefix);
    dns_putu(&t, code);
    buf[t.len] = '\0';
    return buf;
}

static void dns_put_ipv4(struct dns_text *t, const uint8_t a[4])
{
    for (int i = 0; i < 4; i++) {
        if (i)
            dns_put(t, ".", 1);
        dns_putu(t, a[i]);
    }
}

/* RFC 5952: lowercase, no leading zeros, the longest run (>= 2) of zero groups as "::". */
static void dns_put_ipv6(struct dns_text *t, const uint8_t a[16])
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    if (memcmp(a, mapped, sizeof(mapped)) == 0) { /* RFC 5952 5 */
        dns_puts(t, "::ffff:");
        dns_put_ipv4(t, a + 12);
        return;
    }
    unsigned g[8];
    int best = -1, bestlen = 0;
    for (int i = 0; i < 8; i++)
        g[i] = (unsigned)a[2 * i] << 8 | a[2 * i + 1];
    for (int i = 0; i < 8;) {
        int j = i;
        while (j < 8 && g[j] == 0)
            j++;
        if (j - i > bestlen && j - i >= 2) {
            best = i;
            bestlen = j - i;
        }
        i = j > i ? j : i + 1;
    }
    static const char hex[] = "0123456789abcdef";
    for (int i = 0; i < 8; i++) {
        if (i == best) {
            dns_puts(t, "::");
            i += bestlen - 1;
            continue;
        }
        if (i && i != best + bestlen)
            dns_put(t, ":", 1);
        char b[4];
        size_t n = 0;
        bool lead = true;
        for (int s = 12; s >= 0; s -= 4) {
            unsigned d = g[i] >> s & 15;
            if (lead && d == 0 && s)
                continue;
            lead = false;
            b[n++] = hex[d];
        }
        dns_put(t, b, n);
    }
}

/*
 * tl_cur_sub() that fails (SHORT) without asking cursor.h for a child over no
 * bytes: tl_cur_make(NULL, 0) computes NULL + 0, which UBSan reports.
 */
static bool dns_sub(struct tl_cursor *c, size_t n, struct tl_cursor *sub)
{
    if (!tl_cur_ok(c) || tl_cur_left(c) < n) {
        tl_cur_fail(c, TL_CUR_SHORT);
        *sub = *c;
        return false;
    }
    return tl_cur_sub(c, n, sub);
}

/* ---- wire reading ---- */

/*
 * Reads a possibly compressed name at c (RFC 1035 3.1, 4.1.4) into out and
 * moves c past it. `msg` is the whole message, for pointers. Each pointer must
 * point strictly before where the current label run began; one that does not,
 * an unknown label type, more than DNS_MAX_HOPS pointers or more than 255
 * octets fail c with BAD. out keeps what was read before any failure.
 */
static void dns_read_name(const struct tl_cursor *msg, struct tl_cursor *c, struct dns_name *out)
{
    const void *base = tl_cur_rest(msg).ptr;
    struct tl_cursor jump;
    struct tl_cursor *r = c; /* reads labels from c until the first pointer */
    size_t run_start = tl_cur_offset(c, base);
    size_t wire = 1; /* the root label */
    unsigned hops = 0;

    out->len = 0;
    for (;;) {
        uint8_t len = tl_cur_u8(r);
        if (!tl_cur_ok(r))
            break;
        if (len == 0)
            return;
        if ((len & 0xc0) == 0xc0) {
            size_t target = (size_t)(len & 0x3f) << 8 | tl_cur_u8(r);
            if (!tl_cur_ok(r))
                break;
            if (target >= run_start || ++hops > DNS_MAX_HOPS) {
                tl_cur_fail(r, TL_CUR_BAD);
                break;
            }
            jump = tl_cur_at(msg, target);
            r = &jump;
            run_start = target;
            continue;
        }
        if (len & 0xc0) { /* 0x40, 0x80: extended label types, RFC 6891 5 */
            tl_cur_fail(r, TL_CUR_BAD);
            break;
        }
        const uint8_t *label = tl_cur_bytes(r, len);
        if (!label)
            break;
        size_t sep = out->len ? 1 : 0, room = sizeof(out->b) - out->len;
        size_t keep = sep + len <= room ? len : room > sep ? room - sep : 0;
        if (sep && room)
            out->b[out->len++] = '.';
        memcpy(out->b + out->len, label, keep);
        out->len = (uint8_t)(out->len + keep);
        wire += 1u + len;
        if (wire > DNS_MAX_NAME) { /* overlong: keep what fits, RFC 1035 2.3.4 */
            tl_cur_fail(r, TL_CUR_BAD);
            break;
        }
    }
    if (r != c)
        tl_cur_fail(c, r->err == TL_CUR_SHORT ? TL_CUR_SHORT : TL_CUR_BAD);
}

static void dns_put_name(struct dns_text *t, const struct dns_name *n, bool lower)
{
    dns_putesc(t, n->b, n->len, lower);
}

/* A copy of the text in the arena (empty, and the record truncated, when it is full). */
static struct tl_str dns_keep(struct tl_parse_ctx *ctx, const struct dns_text *t, bool *full)
{
    struct tl_str s = tl_arena_str(ctx->arena, t->p, t->len);
    if (t->len && s.len == 0)
        *full = true;
    return s;
}

/* Reads a name from rd (inside the RDATA of msg) and writes it. */
static void dns_put_rname(struct dns_text *t, const struct tl_cursor *msg, struct tl_cursor *rd)
{
    struct dns_name n;
    dns_read_name(msg, rd, &n);
    dns_put_name(t, &n, true);
}

/* TXT and SPF: Zeek's "TXT <len> <text>" per character-string, joined by spaces. */
static void dns_put_strings(struct dns_text *t, struct tl_cursor *rd, const char *tag)
{
    bool first = true;
    while (tl_cur_left(rd) > 0) {
        uint8_t n = tl_cur_u8(rd);
        const uint8_t *s = tl_cur_bytes(rd, n);
        if (!s)
            return;
        if (!first)
            dns_put(t, " ", 1);
        first = false;
        dns_puts(t, tag);
        dns_put(t, " ", 1);
        dns_putu(t, n);
        dns_put(t, " ", 1);
        dns_putesc(t, s, n, false);
    }
}

/* SVCB and HTTPS (RFC 9460 2.2): "<TYPE> <prio> <target> key=value ...". */
static void dns_put_svcb(struct dns_text *t, const struct tl_cursor *msg, struct tl_cursor *rd,
                         const char *tag)
{
    static const char *const keys[] = { "mandatory", "alpn", "no-default-alpn", "port",
                                        "ipv4hint",  "ech",  "ipv6hint" };
    dns_puts(t, tag);
    dns_put(t, " ", 1);
    dns_putu(t, tl_cur_be16(rd));
    dns_put(t, " ", 1);
    struct dns_name target;
    dns_read_name(msg, rd, &target);
    if (target.len)
        dns_put_name(t, &target, true);
    else
        dns_put(t, ".", 1);
    while (tl_cur_left(rd) > 0) {
        uint16_t key = tl_cur_be16(rd);
        uint16_t len = tl_cur_be16(rd);
        struct tl_cursor v;
        if (!dns_sub(rd, len, &v))
            return;
        dns_put(t, " ", 1);
        if (key < TL_ARRAY_LEN(keys)) {
            dns_puts(t, keys[key]);
        } else {
            dns_puts(t, "key");
            dns_putu(t, key);
        }
        if (len == 0)
            continue;
        dns_put(t, "=", 1);
        for (bool first = true; tl_cur_left(&v) > 0; first = false) {
            if (!first)
                dns_put(t, ",", 1);
            if (key == 0) {
                uint16_t k = tl_cur_be16(&v);
                if (k < TL_ARRAY_LEN(keys))
                    dns_puts(t, keys[k]);
                else {
                    dns_puts(t, "key");
                    dns_putu(t, k);
                }
            } else if (key == 1) {
                uint8_t n = tl_cur_u8(&v);
                const uint8_t *s = tl_cur_bytes(&v, n);
                if (s)
                    dns_putesc(t, s, n, false);
            } else if (key == 3) {
                dns_putu(t, tl_cur_be16(&v));
            } else if (key == 4) {
                const uint8_t *a = tl_cur_bytes(&v, 4);
                if (a)
                    dns_put_ipv4(t, a);
            } else if (key == 6) {
                const uint8_t *a = tl_cur_bytes(&v, 16);
                if (a)
                    dns_put_ipv6(t, a);
            } else {
                struct tl_str rest = tl_cur_rest(&v);
                dns_puthex(t, (const uint8_t *)rest.ptr, rest.len);
                tl_cur_skip(&v, rest.len);
            }
        }
        if (!tl_cur_ok(&v))
            tl_cur_fail(rd, TL_CUR_BAD);
    }
}

/*
 * Formats one RR's RDATA (rd is exactly RDLENGTH bytes). Zeek's text where
 * Zeek has one: addresses; the target name for CNAME, NS, PTR, DNAME, MX, SRV;
 * SOA's MNAME; "TXT <len> <text>"; "RRSIG <type covered> <signer>"; "DS <alg>
 * <digest type>"; "DNSKEY <alg>"; "NSEC <owner> <next>"; "NSEC3"; "SSHFP: <hex>";
 * "BIND9 signing signal". Ours: "CAA <flags> <tag> <value>", SVCB/HTTPS above,
 * and "TYPE<n> <hex>" for the rest (Zeek: "<unknown type=n>"). RDATA that does
 * not fit its type fails rd with BAD.
 */
static void dns_format_rdata(struct dns_text *t, const struct tl_cursor *msg, struct tl_cursor *rd,
                             uint16_t type, const struct dns_name *owner)
{
    size_t rdlen = tl_cur_left(rd);
    switch (type) {
    case 1: /* A */
        if (rdlen != 4)
            tl_cur_fail(rd, TL_CUR_BAD);
        else
            dns_put_ipv4(t, tl_cur_bytes(rd, 4));
        return;
    case 28: /* AAAA */
        if (rdlen != 16)
            tl_cur_fail(rd, TL_CUR_BAD);
        else
            dns_put_ipv6(t, tl_cur_bytes(rd, 16));
        return;
    case 2:  /* NS */
    case 5:  /* CNAME */
    case 12: /* PTR */
    case 39: /* DNAME */ dns_put_rname(t, msg, rd); return;
    case 15: /* MX */
        tl_cur_skip(rd, 2);
        dns_put_rname(t, msg, rd);
        return;
    case 33: /* SRV */
        tl_cur_skip(rd, 6);
        dns_put_rname(t, msg, rd);
        return;
    case 6: { /* SOA: MNAME; RNAME and the five counters are read to check them */
        struct dns_name rname;
        dns_put_rname(t, msg, rd);
        dns_read_name(msg, rd, &rname);
        tl_cur_skip(rd, 20);
        return;
    }
    case 16: dns_put_strings(t, rd, "TXT"); return;
    case 99: dns_put_strings(t, rd, "SPF"); return;
    case 257: { /* CAA, RFC 8659 4.1 */
        uint8_t flags = tl_cur_u8(rd);
        uint8_t taglen = tl_cur_u8(rd);
        const uint8_t *tag = tl_cur_bytes(rd, taglen);
        if (!tag)
            return;
        struct tl_str value = tl_cur_rest(rd);
        tl_cur_skip(rd, value.len);
        dns_puts(t, "CAA ");
        dns_putu(t, flags);
        dns_put(t, " ", 1);
        dns_putesc(t, tag, taglen, false);
        dns_put(t, " ", 1);
        dns_putesc(t, (const uint8_t *)value.ptr, value.len, false);
        return;
    }
    case 43:   /* DS, RFC 4034 5.1 */
    case 59: { /* CDS */
        tl_cur_skip(rd, 2);
        uint8_t alg = tl_cur_u8(rd);
        uint8_t digest = tl_cur_u8(rd);
        tl_cur_skip(rd, tl_cur_left(rd));
        dns_puts(t, type == 43 ? "DS " : "CDS ");
        dns_putu(t, alg);
        dns_put(t, " ", 1);
        dns_putu(t, digest);
        return;
    }
    case 48:   /* DNSKEY, RFC 4034 2.1 */
    case 60: { /* CDNSKEY */
        tl_cur_skip(rd, 3);
        uint8_t alg = tl_cur_u8(rd);
        tl_cur_skip(rd, tl_cur_left(rd));
        dns_puts(t, type == 48 ? "DNSKEY " : "CDNSKEY ");
        dns_putu(t, alg);
        return;
    }
    case 46: { /* RRSIG, RFC 4034 3.1 */
        uint16_t covered = tl_cur_be16(rd);
        tl_cur_skip(rd, 16);
        struct dns_name signer;
        dns_read_name(msg, rd, &signer);
        tl_cur_skip(rd, tl_cur_left(rd));
        dns_puts(t, "RRSIG ");
        dns_putu(t, covered);
        dns_put(t, " ", 1);
        if (signer.len)
            dns_put_name(t, &signer, true);
        else
            dns_puts(t, "<Root>");
        return;
    }
    case 47: { /* NSEC, RFC 4034 4.1 */
        struct dns_name next;
        dns_read_name(msg, rd, &next);
        tl_cur_skip(rd, tl_cur_left(rd));
        dns_puts(t, "NSEC ");
        dns_put_name(t, owner, true);
        dns_put(t, " ", 1);
        dns_put_name(t, &next, true);
        return;
    }
    case 50:
        tl_cur_skip(rd, rdlen);
        dns_puts(t, "NSEC3");
        return;
    case 51:
        tl_cur_skip(rd, rdlen);
        dns_puts(t, "NSEC3PARAM");
        return;
    case 44: { /* SSHFP, RFC 4255 3.1 */
        tl_cur_skip(rd, 2);
        struct tl_str fp = tl_cur_rest(rd);
        tl_cur_skip(rd, fp.len);
        dns_puts(t, "SSHFP: ");
        dns_puthex(t, (const uint8_t *)fp.ptr, fp.len);
        return;
    }
    case 65534:
        tl_cur_skip(rd, rdlen);
        dns_puts(t, "BIND9 signing signal");
        return;
    case 64: dns_put_svcb(t, msg, rd, "SVCB"); return;
    case 65: dns_put_svcb(t, msg, rd, "HTTPS"); return;
    default: {
        struct tl_str raw = tl_cur_rest(rd);
        tl_cur_skip(rd, raw.len);
        dns_puts(t, "TYPE");
        dns_putu(t, type);
        dns_put(t, " ", 1);
        dns_puthex(t, (const uint8_t *)raw.ptr, raw.len);
        return;
    }
    }
}

/* The OPT RR's fields and options (RFC 6891 6.1.2, 6.1.3; ECS RFC 7871 6; cookie RFC 7873 4). */
static void dns_read_opt(struct tl_cursor *rd, uint16_t rclass, uint32_t ttl, struct dns_edns *e)
{
    if (e->present)
        return; /* the first OPT counts (RFC 6891 6.1.1 allows one) */
    e->present = true;
    e->udp_size = rclass;
    e->ext_rcode = (uint8_t)(ttl >> 24);
    e->dnssec_ok = (ttl & 0x8000) != 0;
    while (tl_cur_left(rd) > 0) {
        uint16_t code = tl_cur_be16(rd);
        uint16_t len = tl_cur_be16(rd);
        struct tl_cursor o;
        if (!dns_sub(rd, len, &o))
            return;
        if (code == 10) {
            e->cookie = true;
        } else if (code == 8 && !e->ecs) {
            uint16_t family = tl_cur_be16(&o);
            uint8_t prefix = tl_cur_u8(&o);
            tl_cur_skip(&o, 1); /* scope prefix */
            size_t alen = tl_cur_left(&o);
            size_t max = family == 1 ? 4 : family == 2 ? 16 : 0;
            /* Address bytes: exactly ceil(prefix / 8), RFC 7871 6; others are ignored. */
            if (tl_cur_ok(&o) && max && prefix <= max * 8 && alen == (prefix + 7u) / 8) {
                memset(e->ecs_addr, 0, sizeof(e->ecs_addr));
                tl_cur_copy(&o, e->ecs_addr, alen);
                e->ecs = true;
                e->ecs_family = family;
                e->ecs_prefix = prefix;
            }
        }
    }
}

/* Appends s to a distinct-strings list (Zeek's auth and addl are sets). */
static void dns_add_distinct(struct tl_str *v, uint32_t *n, struct tl_str s)
{
    for (uint32_t i = 0; i < *n; i++)
        if (v[i].len == s.len && memcmp(v[i].ptr, s.ptr, s.len) == 0)
            return;
    v[(*n)++] = s;
}

/*
 * One message, already bounded: header, questions (the first is kept),
 * answer, authority and additional RRs into info and rec. Stops at the first
 * failure; c->err then says why.
 */
static void dns_read_msg(struct tl_parse_ctx *ctx, const struct tl_cursor *msg,
                         struct dns_info *info, struct dns_rec *rec)
{
    struct tl_cursor c = *msg;
    char buf[DNS_MAX_TEXT];
    size_t cap =
        ctx->limits->max_value_len < sizeof(buf) ? ctx->limits->max_value_len : sizeof(buf);
    uint32_t max_items =
        ctx->limits->max_items < DNS_MAX_ANSWERS ? ctx->limits->max_items : DNS_MAX_ANSWERS;
    bool capped = false, full = false;

    info->ts_us = ctx->ts_us;
    info->id = tl_cur_be16(&c);
    info->flags = tl_cur_be16(&c);
    info->qdcount = tl_cur_be16(&c);
    info->ancount = tl_cur_be16(&c);
    info->nscount = tl_cur_be16(&c);
    info->arcount = tl_cur_be16(&c);

    /* Each pass reads at least one byte or fails c, so no count can spin. */
    for (unsigned i = 0; i < info->qdcount && tl_cur_ok(&c); i++) {
        struct dns_name n;
        dns_read_name(msg, &c, &n);
        uint16_t qtype = tl_cur_be16(&c);
        uint16_t qclass = tl_cur_be16(&c);
        if (i == 0) { /* kept even when cut short: what was read */
            info->qname = n;
            info->has_q = true;
            info->qtype = qtype;
            info->qclass = qclass;
        }
    }

    unsigned total = (unsigned)info->ancount + info->nscount + info->arcount;
    for (unsigned i = 0; i < total && tl_cur_ok(&c); i++) {
        struct dns_name owner;
        struct tl_cursor rd;
        dns_read_name(msg, &c, &owner);
        uint16_t type = tl_cur_be16(&c);
        uint16_t rclass = tl_cur_be16(&c);
        uint32_t ttl = tl_cur_be32(&c);
        uint16_t rdlen = tl_cur_be16(&c);
        if (!dns_sub(&c, rdlen, &rd))
            break;
        int section = i < info->ancount ? 0 : i < (unsigned)info->ancount + info->nscount ? 1 : 2;

        if (type == 41) { /* OPT, RFC 6891 6.1.1 */
            dns_read_opt(&rd, rclass, ttl, &info->edns);
            continue;
        }
        if (!(info->flags & DNS_QR) || (section == 2 && type == 250))
            continue; /* a query's RRs are not logged (Zeek neither); TSIG is not data */
        if (i == 0 && !info->has_q && section == 0) {
            info->qname = owner;
            info->name_from_answer = true;
        }
        uint32_t *n = section == 0 ? &rec->answers.n : section == 1 ? &rec->auth.n : &rec->addl.n;
        if (*n >= max_items) {
            capped = true;
            continue;
        }
        struct dns_text t = { buf, 0, cap, false };
        char tbuf[16];
        if (rdlen == 0) /* e.g. an UPDATE's "delete RRset" (RFC 2136 2.5.2) */
            dns_puts(&t, dns_name_of(dns_types, TL_ARRAY_LEN(dns_types), type, "TYPE", tbuf,
                                     sizeof(tbuf)));
        else
            dns_format_rdata(&t, msg, &rd, type, &owner);
        if (!tl_cur_ok(&rd) || tl_cur_left(&rd) != 0) {
            tl_cur_fail(&c, TL_CUR_BAD); /* RDATA shorter or longer than its type says */
            break;
        }
        if (t.cut)
            ctx->counters[TL_DC_CAPPED]++;
        struct tl_str s = dns_keep(ctx, &t, &full);
        if (section == 0) {
            rec->ans_v[*n] = s;
            rec->ttls[*n] = ttl;
            (*n)++;
            rec->nttls = (uint16_t)*n;
        } else {
            dns_add_distinct(section == 1 ? rec->auth_v : rec->addl_v, n, s);
        }
    }
    if (capped) {
        rec->answers_capped = true;
        ctx->counters[TL_DC_CAPPED]++;
    }

    info->status = (uint8_t)tl_parse_status(ctx, &c);
    if (full && info->status == TL_MSG_OK)
        info->status = TL_MSG_TRUNCATED; /* the arena is full: arena.h */
}

static bool dns_same_question(const struct dns_info *a, const struct dns_info *b)
{
    if (a->has_q != b->has_q)
        return false;
    if (!a->has_q)
        return true;
    if (a->qtype != b->qtype || a->qclass != b->qclass || a->qname.len != b->qname.len)
        return false;
    for (size_t i = 0; i < a->qname.len; i++) { /* names compare without case, RFC 4343 */
        uint8_t x = a->qname.b[i], y = b->qname.b[i];
        if (x >= 'A' && x <= 'Z')
            x = (uint8_t)(x + 32);
        if (y >= 'A' && y <= 'Z')
            y = (uint8_t)(y + 32);
        if (x != y)
            return false;
    }
    return true;
}

static void dns_put_ecs(struct dns_text *t, const struct dns_edns *e)
{
    if (e->ecs_family == 1)
        dns_put_ipv4(t, e->ecs_addr);
    else
        dns_put_ipv6(t, e->ecs_addr);
    dns_put(t, "/", 1);
    dns_putu(t, e->ecs_prefix);
}

/* Fills rec from the query q and the response r (either may be NULL) and writes it. */
static void dns_emit(struct tl_parse_ctx *ctx, const struct dns_info *q, const struct dns_info *r,
                     struct dns_rec *rec)
{
    const struct dns_info *m = r ? r : q;   /* counts, rcode: the response's */
    const struct dns_info *ask = q ? q : r; /* question and request flags: the query's */
    char text[DNS_NAME_TEXT];
    bool full = false;

    rec->trans_id = m->id;
    if (q && r && r->ts_us > q->ts_us)
        rec->rtt = r->ts_us - q->ts_us;
    if (ask->has_q || ask->name_from_answer) {
        struct dns_text lo = { text, 0, sizeof(text), false };
        dns_put_name(&lo, &ask->qname, true);
        rec->query = dns_keep(ctx, &lo, &full);
        struct dns_text orig = { text, 0, sizeof(text), false };
        dns_put_name(&orig, &ask->qname, false);
        if (rec->query.len == orig.len && memcmp(rec->query.ptr, text, orig.len) != 0)
            rec->query_original = dns_keep(ctx, &orig, &full);
    }
    if (ask->has_q && ask->qtype) /* 0 is reserved: a question cut before its type */
        rec->qtype_name = dns_name_of(dns_types, TL_ARRAY_LEN(dns_types), ask->qtype, "query-",
                                      rec->qtype_buf, sizeof(rec->qtype_buf));
    if (ask->has_q && ask->qclass)
        rec->qclass_name = dns_name_of(dns_classes, TL_ARRAY_LEN(dns_classes), ask->qclass,
                                       "qclass-", rec->qclass_buf, sizeof(rec->qclass_buf));
    rec->qtype = ask->qtype;
    rec->qclass = ask->qclass;
    rec->opcode = (uint8_t)(ask->flags >> 11 & 15);
    rec->opcode_name = dns_name_of(dns_opcodes, TL_ARRAY_LEN(dns_opcodes), rec->opcode, "opcode-",
                                   rec->opcode_buf, sizeof(rec->opcode_buf));
    if (r) {
        unsigned rcode = (unsigned)r->edns.ext_rcode << 4 | (r->flags & 15u); /* RFC 6891 6.1.3 */
        rec->rcode = (uint8_t)(rcode > 255 ? 255 : rcode);
        rec->rcode_name = dns_name_of(dns_rcodes, TL_ARRAY_LEN(dns_rcodes), rcode, "rcode-",
                                      rec->rcode_buf, sizeof(rec->rcode_buf));
        rec->AA = (r->flags & DNS_AA) != 0;
        rec->RA = (r->flags & DNS_RA) != 0;
        rec->AD = (r->flags & DNS_AD) != 0;
        rec->rejected = (r->has_q && r->ancount == 0 && r->nscount == 0 && r->arcount == 0) ||
                        ((r->flags & 15u) != 0 && r->qdcount == 0);
    } else {
        rec->AD = (q->flags & DNS_AD) != 0;
    }
    rec->TC = ((q ? q->flags : 0) | (r ? r->flags : 0)) & DNS_TC ? true : false;
    rec->RD = (ask->flags & DNS_RD) != 0;
    rec->CD = (ask->flags & DNS_CD) != 0;
    rec->Z = (uint8_t)(ask->flags >> 4 & 7);

    const struct dns_edns *e = q && q->edns.present ? &q->edns : &m->edns;
    if (e->present) {
        rec->edns_udp_size = e->udp_size;
        rec->edns_do = e->dnssec_ok;
        rec->edns_cookie = e->cookie;
        if (e->ecs) {
            struct dns_text t = { text, 0, sizeof(text), false };
            dns_put_ecs(&t, e);
            rec->edns_ecs = dns_keep(ctx, &t, &full);
        }
    }
    rec->qdcount = m->qdcount;
    rec->ancount = m->ancount;
    rec->nscount = m->nscount;
    rec->arcount = m->arcount;
    uint8_t st = q ? q->status : TL_MSG_OK;
    if (r && r->status > st)
        st = r->status;
    if (full && st == TL_MSG_OK)
        st = TL_MSG_TRUNCATED;
    rec->status = st;
    rec->answers.v = rec->ans_v;
    rec->auth.v = rec->auth_v;
    rec->addl.v = rec->addl_v;
    ctx->emit(ctx, rec, q ? q->ts_us : r->ts_us);
}

static void dns_emit_query(struct tl_parse_ctx *ctx, const struct dns_info *q)
{
    struct dns_rec rec;
    memset(&rec, 0, sizeof(rec));
    dns_emit(ctx, q, NULL, &rec);
}

/* Removes pending[i], keeping the others in arrival order. */
static void dns_drop(struct dns_state *st, unsigned i)
{
    memmove(&st->pending[i], &st->pending[i + 1], (st->npending - i - 1u) * sizeof(st->pending[0]));
    st->npending--;
}

static unsigned dns_max_pending(const struct tl_parse_ctx *ctx)
{
    uint32_t n = ctx->limits->max_pending;
    return n == 0 ? 1 : n < DNS_MAX_PENDING ? n : DNS_MAX_PENDING;
}

/* One complete message: a query waits in the state, a response finds its query. */
static void dns_message(struct tl_parse_ctx *ctx, const struct tl_cursor *msg)
{
    struct dns_state *st = ctx->state;
    struct dns_info info;
    struct dns_rec rec;

    memset(&info, 0, sizeof(info));
    memset(&rec, 0, sizeof(rec));
    ctx->counters[TL_DC_MESSAGES]++;
    dns_read_msg(ctx, msg, &info, &rec);
    if (info.status == TL_MSG_MALFORMED)
        ctx->counters[TL_DC_MALFORMED]++;
    else if (info.status == TL_MSG_TRUNCATED)
        ctx->counters[TL_DC_TRUNCATED]++;

    if (!(info.flags & DNS_QR)) {
        if (st->npending >= dns_max_pending(ctx)) {
            ctx->counters[TL_DC_CAPPED]++;
            dns_emit_query(ctx, &st->pending[0]);
            dns_drop(st, 0);
        }
        st->pending[st->npending++] = info;
        return;
    }
    /* A response without a question (e.g. FORMERR) pairs by id alone. */
    for (unsigned i = 0; i < st->npending; i++) {
        struct dns_info *q = &st->pending[i];
        if (q->id == info.id && (!info.has_q || dns_same_question(q, &info))) {
            dns_emit(ctx, q, &info, &rec);
            dns_drop(st, i);
            return;
        }
    }
    dns_emit(ctx, NULL, &info, &rec);
}

/*
 * A first message that cannot be DNS: shorter than the header, or a reserved
 * opcode (RFC 6895 2.2: 3 and 7-15 are unassigned).
 */
static bool dns_nonsense(const struct tl_cursor *msg)
{
    uint8_t flags_hi;
    if (tl_cur_left(msg) < DNS_HDR_LEN || !tl_cur_peek(msg, 2, &flags_hi))
        return true;
    unsigned opcode = flags_hi >> 3 & 15u;
    return opcode == 3 || opcode > 6;
}

/* UDP: the datagram is the message. TCP: one length-prefixed frame (RFC 7766 8). */
static enum tl_parse dns_parse(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct dns_state *st = ctx->state;
    struct tl_cursor msg, frame = *in;

    bool check = !st->seen;
    if (ctx->transport == TL_TCP) {
        uint16_t len = tl_cur_be16(&frame);
        check = check || st->resync[ctx->dir & 1];
        if (!tl_cur_ok(&frame))
            return TL_PARSE_MORE;
        if (len < DNS_HDR_LEN && check)
            return TL_PARSE_GIVEUP;
        if (!dns_sub(&frame, len, &msg))
            return TL_PARSE_MORE; /* frame incomplete: nothing consumed */
        st->resync[ctx->dir & 1] = false;
    } else {
        dns_sub(&frame, tl_cur_left(&frame), &msg);
    }
    if (check && !ctx->capture_cut && dns_nonsense(&msg))
        return TL_PARSE_GIVEUP;
    *in = frame;
    st->seen = true;
    dns_message(ctx, &msg);
    return TL_PARSE_OK;
}

/*
 * TCP bytes were lost: the next bytes need not start a frame (RFC 7766 has no
 * marker to find one), so the next frame must look like DNS or the flow is
 * given up.
 */
static void dns_gap(struct tl_parse_ctx *ctx, uint64_t n)
{
    struct dns_state *st = ctx->state;
    (void)n;
    st->resync[ctx->dir & 1] = true;
}

/* Writes, oldest first, the queries older than now_us - pending_timeout (all at UINT64_MAX). */
static void dns_flush(struct tl_parse_ctx *ctx, uint64_t now_us)
{
    struct dns_state *st = ctx->state;
    uint64_t timeout = ctx->limits->pending_timeout;
    unsigned i = 0;

    while (i < st->npending) {
        const struct dns_info *q = &st->pending[i];
        if (now_us == UINT64_MAX || (now_us >= timeout && q->ts_us < now_us - timeout)) {
            dns_emit_query(ctx, q);
            dns_drop(st, i);
        } else {
            i++;
        }
    }
}

/* The queried name, as the domain statistics count it. */
static struct tl_str dns_domain(const void *record)
{
    return ((const struct dns_rec *)record)->query;
}

static bool dns_idle(const void *state)
{
    return ((const struct dns_state *)state)->npending == 0;
}

const struct tl_dissector tl_dns_dissector = {
    .name = "dns",
    .doc = "DNS over UDP and TCP: one record per query/response transaction",
    .transports = TL_UDP | TL_TCP,
    .ports = { 53, 5353, 5355 },
    .state_size = sizeof(struct dns_state),
    .record_size = sizeof(struct dns_rec),
    .parse = dns_parse,
    .gap = dns_gap,
    .flush = dns_flush,
    .event = &tl_dns_event,
    .domain = dns_domain,
    .idle = dns_idle,
};
