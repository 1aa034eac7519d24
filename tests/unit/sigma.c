/*
 * sigma.c - the Sigma engine (detect/): loading and verdicts, every modifier
 * and condition construct and their quirks, routing and aliases, alerts,
 * filters, the legacy aggregation and correlations, over small event types of
 * the tests' own named like the real ones (the real records are private to
 * dissect/).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "ac.h"
#include "check.h"
#include "event.h"
#include "rules.h"
#include "stats.h"

/* ---- the tests' event types ---- */

struct t_ids {
    uint64_t ts;
    char uid[20];
    char cid[32];
    struct tl_ip orig_h, resp_h;
    uint16_t orig_p, resp_p;
    const char *proto;
};

#define T_IDS(R)                                                                                   \
    TL_FIELD(R, ids.ts, TS, "ts", "time"), TL_FIELD_OPT(R, ids.uid, CHARS, "uid", "uid"),          \
        TL_FIELD_OPT(R, ids.cid, CHARS, "community_id", "cid"),                                    \
        TL_FIELD(R, ids.orig_h, IP, "id.orig_h", "orig"),                                          \
        TL_FIELD(R, ids.orig_p, U16, "id.orig_p", "orig port"),                                    \
        TL_FIELD(R, ids.resp_h, IP, "id.resp_h", "resp"),                                          \
        TL_FIELD(R, ids.resp_p, U16, "id.resp_p", "resp port"),                                    \
        TL_FIELD_OPT(R, ids.proto, CSTR, "proto", "proto")

struct t_dns {
    struct t_ids ids;
    struct tl_str query;
    const char *qtype_name, *rcode_name;
    uint8_t Z;
    bool AA;
    struct tl_strlist answers;
    uint64_t ttls[4];
    uint16_t nttls;
    uint64_t rtt;
};

static const struct tl_field t_dns_fields[] = {
    T_IDS(struct t_dns),
    TL_FIELD_OPT(struct t_dns, query, STR, "query", "name"),
    TL_FIELD_OPT(struct t_dns, qtype_name, CSTR, "qtype_name", "type"),
    TL_FIELD_OPT(struct t_dns, rcode_name, CSTR, "rcode_name", "rcode"),
    TL_FIELD(struct t_dns, Z, U8, "Z", "Z bits"),
    TL_FIELD(struct t_dns, AA, BOOL, "AA", "authoritative"),
    TL_FIELD_OPT(struct t_dns, answers, STRLIST, "answers", "answers"),
    TL_FIELD_AT("TTLs", TL_F_U64LIST, TL_FF_OPT, (uint16_t)offsetof(struct t_dns, nttls),
                offsetof(struct t_dns, ttls), "ttls"),
    TL_FIELD_OPT(struct t_dns, rtt, DUR, "rtt", "rtt"),
};
static const struct tl_event_type t_dns_event = {
    .name = "dns", .doc = "dns", .fields = t_dns_fields, .nfields = TL_ARRAY_LEN(t_dns_fields)
};

struct t_http {
    struct t_ids ids;
    struct tl_str method, host, uri, user_agent, referrer, username;
    uint16_t status_code;
    struct tl_strlist resp_mime_types;
    const char *note;
    bool is_new, has_stats;
};

static const struct tl_field t_http_fields[] = {
    T_IDS(struct t_http),
    TL_FIELD_OPT(struct t_http, method, STR, "method", "method"),
    TL_FIELD_OPT(struct t_http, host, STR, "host", "host"),
    TL_FIELD_OPT(struct t_http, uri, STR, "uri", "uri"),
    TL_FIELD_OPT(struct t_http, user_agent, STR, "user_agent", "ua"),
    TL_FIELD_OPT(struct t_http, referrer, STR, "referrer", "ref"),
    TL_FIELD_OPT(struct t_http, username, STR, "username", "user"),
    TL_FIELD_OPT(struct t_http, status_code, U16, "status_code", "status"),
    TL_FIELD_OPT(struct t_http, resp_mime_types, STRLIST, "resp_mime_types", "mimes"),
    TL_FIELD_OPT(struct t_http, note, CSTR, "note", "a note"),
    TL_FIELD_LATE(struct t_http, is_new, BOOL, has_stats, "domain_is_new", "late field"),
};
static const struct tl_event_type t_http_event = {
    .name = "http", .doc = "http", .fields = t_http_fields, .nfields = TL_ARRAY_LEN(t_http_fields)
};

struct t_flow {
    struct t_ids ids;
    uint64_t orig_bytes;
    uint64_t duration;
    const char *app_proto, *conn_state;
};

static const struct tl_field t_flow_fields[] = {
    T_IDS(struct t_flow),
    TL_FIELD(struct t_flow, orig_bytes, U64, "orig_bytes", "bytes"),
    TL_FIELD(struct t_flow, duration, DUR, "duration", "duration"),
    TL_FIELD_OPT(struct t_flow, app_proto, CSTR, "app_proto", "ndpi"),
    TL_FIELD_OPT(struct t_flow, conn_state, CSTR, "conn_state", "state"),
};
static const struct tl_event_type t_flow_event = {
    .name = "flow", .doc = "flow", .fields = t_flow_fields, .nfields = TL_ARRAY_LEN(t_flow_fields)
};

struct t_ldap {
    struct t_ids ids;
    struct tl_str filter, base_object;
    const char *scope;
    struct tl_strlist attributes;
};

static const struct tl_field t_ldap_fields[] = {
    T_IDS(struct t_ldap),
    TL_FIELD_OPT(struct t_ldap, filter, STR, "filter", "filter"),
    TL_FIELD_OPT(struct t_ldap, base_object, STR, "base_object", "base"),
    TL_FIELD_OPT(struct t_ldap, scope, CSTR, "scope", "scope"),
    TL_FIELD_OPT(struct t_ldap, attributes, STRLIST, "attributes", "attrs"),
};
static const struct tl_event_type t_ldap_event = {
    .name = "ldap", .doc = "ldap", .fields = t_ldap_fields, .nfields = TL_ARRAY_LEN(t_ldap_fields)
};

static const struct tl_event_type *const t_types[] = { &t_flow_event, &t_dns_event, &t_http_event,
                                                       &t_ldap_event, &tl_alert_event };

static struct tl_str S(const char *s) {
    return (struct tl_str){ s, strlen(s) };
}

static void
t_v4(struct tl_ip *ip, int a, int b, int c, int d)
{
    memset(ip, 0, sizeof(*ip));
    ip->b[10] = ip->b[11] = 0xff;
    ip->b[12] = (uint8_t)a;
    ip->b[13] = (uint8_t)b;
    ip->b[14] = (uint8_t)c;
    ip->b[15] = (uint8_t)d;
}

static void t_ids(struct t_ids *ids, uint64_t ts, const char *uid)
{
    memset(ids, 0, sizeof(*ids));
    ids->ts = ts;
    snprintf(ids->uid, sizeof(ids->uid), "%s", uid);
    snprintf(ids->cid, sizeof(ids->cid), "1:abc=");
    t_v4(&ids->orig_h, 10, 0, 0, 5);
    t_v4(&ids->resp_h, 192, 0, 2, 1);
    ids->orig_p = 50000;
    ids->resp_p = 80;
    ids->proto = "tcp";
}

/* ---- loading ---- */

struct t_verdicts {
    int n;
    enum tl_rule_verdict v[16];
    unsigned line[16];
    char reason[16][300];
};

static void t_report(void *arg, const char *path, enum tl_rule_verdict v, unsigned line,
                     const char *reason)
{
    struct t_verdicts *tv = arg;
    (void)path;
    if (tv->n < 16) {
        tv->v[tv->n] = v;
        tv->line[tv->n] = line;
        snprintf(tv->reason[tv->n], sizeof(tv->reason[0]), "%s", reason);
        tv->n++;
    }
}

static char t_dir[64];

static const char *t_write(const char *name, const char *text)
{
    static char path[160];
    if (!t_dir[0]) {
        snprintf(t_dir, sizeof(t_dir), "/tmp/tl-sigma-XXXXXX");
        if (!mkdtemp(t_dir))
            abort();
    }
    snprintf(path, sizeof(path), "%s/%s", t_dir, name);
    FILE *f = fopen(path, "w");
    if (!f)
        abort();
    fputs(text, f);
    fclose(f);
    return path;
}

static void t_unlink(const char *name)
{
    char path[160];
    snprintf(path, sizeof(path), "%s/%s", t_dir, name);
    unlink(path);
}

static const char *t_placeholders;

/* Loads one rule file (any number of documents); verdicts into tv. */
static struct tl_ruleset *t_load_paths(const char *paths, struct t_verdicts *tv,
                                       struct tl_rules_summary *sum)
{
    struct tl_rules_env env = { t_types, TL_ARRAY_LEN(t_types), t_placeholders, 1000, 4 };
    char err[256];
    memset(tv, 0, sizeof(*tv));
    struct tl_ruleset *rs = tl_rules_load(&env, paths, t_report, tv, sum, err, sizeof(err));
    if (!rs)
        tl_check_report(__FILE__, __LINE__, "load failed: %s", err);
    return rs;
}

static struct tl_ruleset *t_load(const char *yaml, struct t_verdicts *tv)
{
    const char *p = t_write("rule.yml", yaml);
    struct tl_rules_summary sum;
    return t_load_paths(p, tv, &sum);
}

/* A rule document for logsource ls with the given detection body (indented 4). */
static char t_doc[8192];
static const char *t_rule(const char *ls, const char *detection)
{
    snprintf(t_doc, sizeof(t_doc),
             "title: test rule\nid: 11111111-2222-3333-4444-555555555555\nstatus: test\n"
             "level: high\ntags:\n  - attack.t1071.001\nlogsource:\n%sdetection:\n%s",
             ls, detection);
    return t_doc;
}

#define LS_DNS  "    product: zeek\n    service: dns\n"
#define LS_HTTP "    product: zeek\n    service: http\n"
#define LS_CONN "    product: zeek\n    service: conn\n"

struct t_hits {
    int n;
    const struct tl_rule *last;
};

static void t_hit(void *arg, const struct tl_rule *r, const struct tl_view *v)
{
    struct t_hits *h = arg;
    (void)v;
    h->n++;
    h->last = r;
}

static struct tl_rules_scratch *t_sc;

static int t_match_ph(const struct tl_ruleset *rs, const struct tl_event_type *t, const void *rec,
                      enum tl_rule_phase ph)
{
    struct t_hits h = { 0 };
    struct tl_view v = { t, rec, NULL };
    if (!t_sc)
        t_sc = tl_rules_scratch_new();
    if (rs)
        tl_rules_match(rs, &v, ph, t_sc, t_hit, &h);
    return h.n;
}

static int t_match(const struct tl_ruleset *rs, const struct tl_event_type *t, const void *rec)
{
    return t_match_ph(rs, t, rec, TL_PHASE_RECORD);
}

/* Loads one detection for a logsource, checks it is active, and matches rec. */
static int t_one(const char *ls, const char *det, const struct tl_event_type *t, const void *rec)
{
    struct t_verdicts tv;
    struct tl_ruleset *rs = t_load(t_rule(ls, det), &tv);
    if (tv.n != 1 || tv.v[0] != TL_RULE_ACTIVE)
        tl_check_report(__FILE__, __LINE__, "not active: %s", tv.n ? tv.reason[0] : "no verdict");
    int n = t_match(rs, t, rec);
    tl_rules_free(rs);
    return n;
}

struct t_case {
    const char *det; /* one line of a selection: "field|mods: value" */
    int want;
};

/* Each case as the rule's only selection, matched on rec; reports those that differ. */
static void t_cases(int line, const char *ls, const struct tl_event_type *t, const void *rec,
                    const struct t_case *c, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        char det[512];
        snprintf(det, sizeof(det), "    sel:\n        %s\n    condition: sel\n", c[i].det);
        int got = t_one(ls, det, t, rec);
        if (got != c[i].want)
            tl_check_report(__FILE__, line, "%s: %d, wanted %d", c[i].det, got, c[i].want);
    }
}

static struct t_dns t_dnsrec(const char *query)
{
    struct t_dns d;
    memset(&d, 0, sizeof(d));
    t_ids(&d.ids, 1700000000000000ull, "CDNS1");
    d.ids.proto = "udp";
    d.ids.resp_p = 53;
    d.query = S(query);
    d.qtype_name = "A";
    d.rcode_name = "NOERROR";
    return d;
}

static struct t_http t_httprec(const char *method, const char *host, const char *uri)
{
    struct t_http h;
    memset(&h, 0, sizeof(h));
    t_ids(&h.ids, 1700000000000000ull, "CHTTP1");
    h.method = S(method);
    h.host = S(host);
    h.uri = S(uri);
    h.user_agent = S("Mozilla/5.0 (Windows NT 10.0)");
    h.status_code = 200;
    return h;
}

/* ---- single-event matching ---- */

static void test_maps_and_lists(void)
{
    struct t_http h = t_httprec("POST", "example.com", "/upload.php?x=1");
    const char *and = "    sel:\n        method: POST\n        uri|contains: upload\n"
                      "    condition: sel\n";
    const char *and_miss = "    sel:\n        method: GET\n        uri|contains: upload\n"
                           "    condition: sel\n";
    const char * or = "    sel:\n        - method: GET\n        - uri|endswith: '?x=1'\n"
                      "    condition: sel\n";
    const char *values = "    sel:\n        method:\n            - GET\n            - post\n"
                         "    condition: sel\n";
    CHECK_EQ(t_one(LS_HTTP, and, &t_http_event, &h), 1);
    CHECK_EQ(t_one(LS_HTTP, and_miss, &t_http_event, &h), 0);
    CHECK_EQ(t_one(LS_HTTP, or, &t_http_event, &h), 1);
    CHECK_EQ(t_one(LS_HTTP, values, &t_http_event, &h), 1); /* case-insensitive */
    /* another event type never reaches the rule */
    struct t_dns d = t_dnsrec("POST");
    CHECK_EQ(t_one(LS_HTTP, values, &t_dns_event, &d), 0);
}

static void test_keywords(void)
{
    struct t_http h = t_httprec("GET", "evil.example", "/index.html");
    h.referrer = S("http://Ref.Example/Some/Path");
    const char *kw = "    keywords:\n        - 'nothing'\n        - 'some/path'\n"
                     "    condition: keywords\n";
    const char *kw_miss = "    keywords:\n        - 'nothing'\n        - 'other'\n"
                          "    condition: keywords\n";
    const char *kw_all = "    keywords:\n        '|all':\n            - evil\n            - index\n"
                         "    condition: keywords\n";
    const char *kw_all_miss = "    keywords:\n        '|all':\n            - evil\n"
                              "            - absent\n    condition: keywords\n";
    const char *kw_ip = "    keywords:\n        - '192.0.2.1'\n    condition: keywords\n";
    const char *kw_mixed = "    sel:\n        method: GET\n    kw:\n        - EVIL.EXAMPLE\n"
                           "    condition: sel and kw\n";
    CHECK_EQ(t_one(LS_HTTP, kw, &t_http_event, &h), 1);
    CHECK_EQ(t_one(LS_HTTP, kw_miss, &t_http_event, &h), 0);
    CHECK_EQ(t_one(LS_HTTP, kw_all, &t_http_event, &h), 1);
    CHECK_EQ(t_one(LS_HTTP, kw_all_miss, &t_http_event, &h), 0);
    CHECK_EQ(t_one(LS_HTTP, kw_ip, &t_http_event, &h), 1); /* addresses are text too */
    CHECK_EQ(t_one(LS_HTTP, kw_mixed, &t_http_event, &h), 1);
}

static void test_null_and_empty(void)
{
    struct t_http h = t_httprec("GET", "", "/");
    const char *is_null = "    sel:\n        host: null\n    condition: sel\n";
    const char *is_empty = "    sel:\n        host: ''\n    condition: sel\n";
    const char *null_text = "    sel:\n        user_agent: 'null'\n    condition: sel\n";
    const char *null_or = "    sel:\n        referrer:\n            - null\n            - x\n"
                          "    condition: sel\n";
    const char *not_null = "    sel:\n        uri: null\n    condition: not sel\n";
    /* host is OPT: an empty host is not written, so it is absent (null), not '' */
    CHECK_EQ(t_one(LS_HTTP, is_null, &t_http_event, &h), 1);
    CHECK_EQ(t_one(LS_HTTP, is_empty, &t_http_event, &h), 0);
    h.user_agent = S("null");
    CHECK_EQ(t_one(LS_HTTP, null_text, &t_http_event, &h), 1);
    h.user_agent = S("nul");
    CHECK_EQ(t_one(LS_HTTP, null_text, &t_http_event, &h), 0);
    CHECK_EQ(t_one(LS_HTTP, null_or, &t_http_event, &h), 1);
    CHECK_EQ(t_one(LS_HTTP, not_null, &t_http_event, &h), 1);
    /* '' against a value that is written empty: a DNS answer "" in a list */
    struct t_dns d = t_dnsrec("a.example");
    struct tl_str ans[2] = { S("x"), S("") };
    d.answers = (struct tl_strlist){ ans, 2 };
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        answers: ''\n    condition: sel\n", &t_dns_event, &d),
             1);
    d.answers.n = 1;
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        answers: ''\n    condition: sel\n", &t_dns_event, &d),
             0);
}

static void test_wildcards_and_escapes(void)
{
    struct t_http h = t_httprec("GET", "a.example", "/a*b?c\\d/x");
    static const struct t_case cases[] = {
        { "uri: '/a*'", 1 },         /* prefix */
        { "uri: '*x'", 1 },          /* suffix */
        { "uri: '/a?b*'", 1 },       /* ? is one character (here '*') */
        { "uri: '/a\\*b*'", 1 },     /* \* is a literal star */
        { "uri: '/ax\\*b*'", 0 },    /* ...so it does not match other text */
        { "uri: '/a\\*b\\?c*'", 1 }, /* \? is a literal question mark */
        { "uri: '*\\\\d/x'", 1 },    /* \\ is one backslash */
        { "uri: '*c\\d/x'", 1 },     /* a backslash before anything else is itself */
        { "uri: '/A*B*'", 1 },       /* any case */
        { "uri: '*'", 1 },           /* any value */
        { "uri: '/a*q'", 0 },
        { "uri: '/a*b?c*d/?'", 1 }, /* globs with wildcards inside */
        { "uri: '/a*b?c*d/?"
          "?'",
          0 }, /* ("??" split: a trigraph otherwise) */
    };
    t_cases(__LINE__, LS_HTTP, &t_http_event, &h, cases, TL_ARRAY_LEN(cases));
    struct t_http none = t_httprec("GET", "a.example", "");
    CHECK_EQ(
        t_one(LS_HTTP, "    sel:\n        uri: '*'\n    condition: sel\n", &t_http_event, &none),
        0); /* '*' needs a value */
}

static void test_case(void)
{
    struct t_http h = t_httprec("GET", "a.example", "/Admin/Login");
    CHECK_EQ(t_one(LS_HTTP, "    sel:\n        uri|contains: admin/login\n    condition: sel\n",
                   &t_http_event, &h),
             1);
    CHECK_EQ(t_one(LS_HTTP,
                   "    sel:\n        uri|contains|cased: admin/login\n    condition: sel\n",
                   &t_http_event, &h),
             0);
    CHECK_EQ(t_one(LS_HTTP,
                   "    sel:\n        uri|contains|cased: Admin/Login\n    condition: sel\n",
                   &t_http_event, &h),
             1);
    CHECK_EQ(t_one(LS_HTTP, "    sel:\n        uri|cased: '/Admin/*'\n    condition: sel\n",
                   &t_http_event, &h),
             1);
}

static void test_numbers_and_booleans(void)
{
    struct t_http h = t_httprec("GET", "a.example", "/");
    struct t_dns d = t_dnsrec("x.example");
    d.Z = 2; /* Zeek's Z: the three bits Z, AD, CD as one number */
    d.AA = true;
    d.rtt = 1500000;
    const char *n200 = "    sel:\n        status_code: 200\n    condition: sel\n";
    const char *s200 = "    sel:\n        status_code: '200'\n    condition: sel\n";
    const char *list = "    sel:\n        status_code:\n            - 301\n            - 200\n"
                       "    condition: sel\n";
    const char *glob = "    sel:\n        status_code: '2*'\n    condition: sel\n";
    CHECK_EQ(t_one(LS_HTTP, n200, &t_http_event, &h), 1);
    CHECK_EQ(t_one(LS_HTTP, s200, &t_http_event, &h), 1);
    CHECK_EQ(t_one(LS_HTTP, list, &t_http_event, &h), 1);
    CHECK_EQ(t_one(LS_HTTP, glob, &t_http_event, &h), 1);
    h.status_code = 404;
    CHECK_EQ(t_one(LS_HTTP, n200, &t_http_event, &h), 0);
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        Z: 2\n    condition: sel\n", &t_dns_event, &d), 1);
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        Z: 1\n    condition: sel\n", &t_dns_event, &d), 0);
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        Z|gt: 0\n    condition: sel\n", &t_dns_event, &d), 1);
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        Z|gte: 3\n    condition: sel\n", &t_dns_event, &d),
             0);
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        Z|lt: 3\n    condition: sel\n", &t_dns_event, &d), 1);
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        Z|lte: 1\n    condition: sel\n", &t_dns_event, &d),
             0);
    d.Z = 0; /* a zero Z is still a value (the field is always written) */
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        Z: 0\n    condition: sel\n", &t_dns_event, &d), 1);
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        AA: true\n    condition: sel\n", &t_dns_event, &d),
             1);
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        AA: 'true'\n    condition: sel\n", &t_dns_event, &d),
             1);
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        AA: false\n    condition: sel\n", &t_dns_event, &d),
             0);
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        rtt: 1.5\n    condition: sel\n", &t_dns_event, &d),
             1); /* durations compare as numbers, not as "1.500000" */
    CHECK_EQ(t_one(LS_DNS, "    sel:\n        rtt|gt: 1\n    condition: sel\n", &t_dns_event, &d),
             1);
}

static void test_string_modifiers(void)
{
    struct t_http h = t_httprec("GET", "a.example", "/wp-admin/install.php");
    static const struct t_case cases[] = {
        { "uri|startswith: /wp-", 1 },
        { "uri|startswith: wp-", 0 },
        { "uri|endswith: .PHP", 1 },
        { "uri|endswith: install", 0 },
        { "uri|contains: admin/inst", 1 },
        { "uri|contains|all: [admin, install, '.php']", 1 },
        { "uri|contains|all: [admin, nothere]", 0 },
        { "method|neq: POST", 1 },
        { "method|neq: get", 0 },
        { "method|neq|all: [POST, PUT]", 1 },
        { "method|neq|all: [POST, GET]", 0 },
        { "referrer|neq: x", 0 }, /* no value to differ */
        { "uri|exists: true", 1 },
        { "referrer|exists: true", 0 },
        { "referrer|exists: false", 1 },
        { "uri|startswith|all: [/wp, /wp-admin]", 1 },
    };
    t_cases(__LINE__, LS_HTTP, &t_http_event, &h, cases, TL_ARRAY_LEN(cases));
}

static void test_regex(void)
{
    struct t_http h = t_httprec("GET", "a.example", "/x.php?d=192.168.1.10\nnext");
    static const struct t_case cases[] = {
        { "uri|re: '\\?d=[0-9]{1,3}\\.[0-9]{1,3}'", 1 },
        { "uri|re: '\\.PHP'", 0 },   /* re is case-sensitive */
        { "uri|re|i: '\\.PHP'", 1 }, /* unless i */
        { "uri|re: '^next'", 0 },
        { "uri|re|m: '^next'", 1 }, /* m: ^ after a newline */
        { "uri|re: '10.next'", 0 },
        { "uri|re|s: '10.next'", 1 }, /* s: . matches a newline */
        { "host|re: '.{150}'", 0 },
    };
    t_cases(__LINE__, LS_HTTP, &t_http_event, &h, cases, TL_ARRAY_LEN(cases));
}

static void test_cidr(void)
{
    struct t_flow f;
    memset(&f, 0, sizeof(f));
    t_ids(&f.ids, 1, "CF");
    static const struct t_case cases[] = {
        { "id.orig_h|cidr: 10.0.0.0/8", 1 },
        { "id.orig_h|cidr: 10.0.0.6/31", 0 },
        { "id.orig_h|cidr: 10.0.0.4/30", 1 },
        { "id.orig_h|cidr: [172.16.0.0/12, 10.0.0.5]", 1 },
        { "dst_ip|cidr: 192.0.2.0/24", 1 }, /* through the alias */
        { "id.orig_h|cidr: '2001:db8::/32'", 0 },
        { "id.orig_h|cidr: '::ffff:10.0.0.0/104'", 1 }, /* v4-mapped, as stored */
    };
    t_cases(__LINE__, LS_CONN, &t_flow_event, &f, cases, TL_ARRAY_LEN(cases));
    static const uint8_t v6[16] = { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 };
    memcpy(f.ids.orig_h.b, v6, 16);
    CHECK_EQ(t_one(LS_CONN,
                   "    sel:\n        id.orig_h|cidr: '2001:db8::/32'\n    condition: sel\n",
                   &t_flow_event, &f),
             1);
    CHECK_EQ(t_one(LS_CONN,
                   "    sel:\n        id.orig_h|cidr: '2001:db9::/32'\n    condition: sel\n",
                   &t_flow_event, &f),
             0);
    CHECK_EQ(t_one(LS_CONN, "    sel:\n        id.orig_h|cidr: 10.0.0.0/8\n    condition: sel\n",
                   &t_flow_event, &f),
             0);
}

static void test_encodings(void)
{
    struct t_http h = t_httprec("GET", "a.example", "");
    struct {
        const char *uri, *det;
        int want;
    } cases[] = {
        /* base64("/bin/sh") = L2Jpbi9zaA== */
        { "/?q=L2Jpbi9zaA==", "uri|base64|contains: /bin/sh", 1 },
        { "/?q=l2jpbi9zaa==", "uri|base64|contains: /bin/sh", 0 }, /* base64 is cased */
        /* base64offset of "http": aHR0c, h0dH, odHRw (the value at offset 0, 1, 2) */
        { "/?q=eGFodHRwOi8v", "uri|base64offset|contains: http", 1 }, /* base64("xahttp://") */
        { "/?q=eGh0dHA6Ly8=", "uri|base64offset|contains: http", 1 }, /* base64("xhttp://") */
        { "/?q=aHR0cDovLw==", "uri|base64offset|contains: http", 1 }, /* base64("http://") */
        { "/?q=aHR0cA", "uri|base64offset|contains: ftp", 0 },
        /* wide: "ab" as UTF-16LE is a\0b\0; then base64 = YQBiAA== */
        { "/?q=YQBiAA==", "uri|wide|base64|contains: ab", 1 },
        { "/?q=YQBiAA==", "uri|utf16le|base64|contains: ab", 1 },
        { "/?q=AGEAYg==", "uri|utf16be|base64|contains: ab", 1 },
        { "/?q=//5hAGIA", "uri|utf16|base64|contains: ab", 1 }, /* with the FF FE mark */
        { "/?q=//5hAGIA", "uri|utf16le|base64|contains: ab", 0 },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        char det[256];
        h.uri = S(cases[i].uri);
        snprintf(det, sizeof(det), "    sel:\n        %s\n    condition: sel\n", cases[i].det);
        int got = t_one(LS_HTTP, det, &t_http_event, &h);
        if (got != cases[i].want)
            tl_check_report(__FILE__, __LINE__, "%s on %s: %d, wanted %d", cases[i].det,
                            cases[i].uri, got, cases[i].want);
    }
}

static void test_windash(void)
{
    struct t_http h = t_httprec("GET", "a.example", "");
    const char *det = "    sel:\n        uri|windash|contains: ' -enc '\n    condition: sel\n";
    const char *variants[] = { "x -enc y", "x /enc y",
                               "x \xe2\x80\x93"
                               "enc y",
                               "x \xe2\x80\x94"
                               "enc y",
                               "x \xe2\x80\x95"
                               "enc y" };
    for (size_t i = 0; i < TL_ARRAY_LEN(variants); i++) {
        h.uri = S(variants[i]);
        if (t_one(LS_HTTP, det, &t_http_event, &h) != 1)
            tl_check_report(__FILE__, __LINE__, "windash missed '%s'", variants[i]);
    }
    h.uri = S("x +enc y");
    CHECK_EQ(t_one(LS_HTTP, det, &t_http_event, &h), 0);
    h.uri = S("a-b"); /* a dash inside a word is not an option dash */
    CHECK_EQ(t_one(LS_HTTP, "    sel:\n        uri|windash: 'a-b'\n    condition: sel\n",
                   &t_http_event, &h),
             1);
    h.uri = S("a/b");
    CHECK_EQ(t_one(LS_HTTP, "    sel:\n        uri|windash: 'a-b'\n    condition: sel\n",
                   &t_http_event, &h),
             0);
}

static void test_fieldref(void)
{
    struct t_http h = t_httprec("GET", "Same.Example", "same.example");
    CHECK_EQ(t_one(LS_HTTP, "    sel:\n        uri|fieldref: host\n    condition: sel\n",
                   &t_http_event, &h),
             1);
    CHECK_EQ(t_one(LS_HTTP, "    sel:\n        uri|fieldref|cased: host\n    condition: sel\n",
                   &t_http_event, &h),
             0);
    h.uri = S("/x/same.example/y");
    CHECK_EQ(t_one(LS_HTTP, "    sel:\n        uri|fieldref: host\n    condition: sel\n",
                   &t_http_event, &h),
             0);
    CHECK_EQ(t_one(LS_HTTP, "    sel:\n        uri|fieldref|contains: host\n    condition: sel\n",
                   &t_http_event, &h),
             1);
    CHECK_EQ(t_one(LS_HTTP, "    sel:\n        uri|fieldref|neq: host\n    condition: sel\n",
                   &t_http_event, &h),
             1);
}

static void test_expand(void)
{
    struct t_verdicts tv;
    struct t_http h = t_httprec("GET", "a.example", "/admin/x");
    const char *det = "    sel:\n        uri|expand|startswith: '%paths%'\n    condition: sel\n";
    t_placeholders = NULL;
    struct tl_ruleset *rs = t_load(t_rule(LS_HTTP, det), &tv);
    CHECK_EQ(tv.n, 1);
    CHECK_EQ(tv.v[0], TL_RULE_INACTIVE);
    CHECK(strstr(tv.reason[0], "%paths%") != NULL);
    CHECK_EQ(t_match(rs, &t_http_event, &h), 0);
    tl_rules_free(rs);

    t_placeholders = "other=x\npaths=/login,/admin/";
    CHECK_EQ(t_one(LS_HTTP, det, &t_http_event, &h), 1);
    h.uri = S("/public");
    CHECK_EQ(t_one(LS_HTTP, det, &t_http_event, &h), 0);

    char ph[200];
    snprintf(ph, sizeof(ph), "%%paths%%=@%s", t_write("paths.txt", "/nope\n/pub*\n\n"));
    t_placeholders = ph;
    CHECK_EQ(t_one(LS_HTTP, det, &t_http_event, &h), 1);
    t_placeholders = "paths=/p";
    h.uri = S("/pre/in/x");
    CHECK_EQ(t_one(LS_HTTP, "    sel:\n        uri|expand: '%paths%re/in/*'\n    condition: sel\n",
                   &t_http_event, &h),
             1); /* a placeholder inside a value */
    t_placeholders = NULL;
    t_unlink("paths.txt");
}

static void test_conditions(void)
{
    struct t_http h = t_httprec("POST", "a.example", "/x");
    const char *ids = "    sel_a:\n        method: POST\n    sel_b:\n        uri: /y\n"
                      "    sel_c:\n        host: a.example\n    _sel_d:\n        uri: /nope\n"
                      "    filter:\n        host: b.example\n";
    struct {
        const char *cond;
        int want;
    } cases[] = {
        { "sel_a and sel_c", 1 },
        { "sel_a and sel_b", 0 },
        { "sel_a or sel_b", 1 },
        { "not sel_b", 1 },
        { "not sel_a", 0 },
        { "sel_a and not (sel_b or filter)", 1 },
        { "(sel_a and sel_b) or sel_c", 1 },
        { "sel_b or sel_a and sel_c", 1 }, /* and binds tighter */
        { "(sel_b or sel_a) and not sel_c", 0 },
        { "1 of sel_*", 1 },
        { "any of sel_*", 1 },
        { "all of sel_*", 0 },
        { "all of sel_a sel_c", -1 }, /* not a pattern: rejected below */
        { "1 of them", 1 },
        { "all of them", 0 },
        { "all of sel_* or 1 of _sel*", 0 },
        { "1 of _sel*", 0 },           /* an explicit _ pattern includes _ identifiers */
        { "SEL_A AND NOT sel_b", -1 }, /* identifiers are case-sensitive... */
        { "sel_a AND NOT sel_b", 1 },  /* ...keywords are not */
        { "not not sel_a", 1 },
        { "all of sel_a*", 1 },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        char det[1024];
        struct t_verdicts tv;
        snprintf(det, sizeof(det), "%s    condition: %s\n", ids, cases[i].cond);
        struct tl_ruleset *rs = t_load(t_rule(LS_HTTP, det), &tv);
        int got = tv.v[0] == TL_RULE_ACTIVE ? t_match(rs, &t_http_event, &h) : -1;
        if (got != cases[i].want)
            tl_check_report(__FILE__, __LINE__, "%s: %d, wanted %d (%s)", cases[i].cond, got,
                            cases[i].want, tv.reason[0]);
        tl_rules_free(rs);
    }
    /* `all of them` excludes _ identifiers: true with _sel_d false */
    const char *them = "    sel_a:\n        method: POST\n    _other:\n        uri: /nope\n"
                       "    condition: all of them\n";
    CHECK_EQ(t_one(LS_HTTP, them, &t_http_event, &h), 1);
    /* a list of conditions is ORed */
    const char *list = "    sel_a:\n        method: GET\n    sel_b:\n        uri: /x\n"
                       "    condition:\n        - sel_a\n        - sel_b\n";
    CHECK_EQ(t_one(LS_HTTP, list, &t_http_event, &h), 1);
}

static void test_multivalued(void)
{
    struct t_dns d = t_dnsrec("a.example");
    struct tl_str ans[3] = { S("192.0.2.7"), S("cname.Example.NET"), S("2001:db8::1") };
    d.answers = (struct tl_strlist){ ans, 3 };
    d.ttls[0] = 30;
    d.ttls[1] = 3600;
    d.nttls = 2;
    static const struct t_case cases[] = {
        { "answers: cname.example.net", 1 }, /* any element */
        { "answers|endswith: '.net'", 1 },
        { "answers|contains|all: ['192.0.2', 'cname']", 1 }, /* each by some element */
        { "answers|contains|all: ['192.0.2', 'nothere']", 0 },
        { "answers|cidr: 2001:db8::/48", 1 },
        { "answer|cidr: 192.0.2.0/24", 1 }, /* the dns-category alias */
        { "TTLs|lt: 60", 1 },
        { "TTLs|gt: 4000", 0 },
        { "TTLs: 3600", 1 },
    };
    t_cases(__LINE__, LS_DNS, &t_dns_event, &d, cases, TL_ARRAY_LEN(cases));
}

/* ---- verdicts ---- */

static void test_rejections(void)
{
    struct {
        const char *text;
        unsigned line;
        const char *why;
    } cases[] = {
        { "title: x\nlogsource:\n  product: zeek\n  service: dns\ndetection:\n  sel:\n"
          "    query|nope: x\n  condition: sel\n",
          7, "unknown modifier 'nope'" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query: x\n"
          "  condition: sel and\n",
          7, "ends where" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query: x\n"
          "  condition: sel and other\n",
          7, "unknown identifier 'other'" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query: x\n"
          "  condition: 1 of filter*\n",
          7, "matches no identifier" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query: x\n"
          "  condition: (sel\n",
          7, "')' expected" },
        { "title: x\nlogsource:\n  category: dns\n", 1, "missing detection" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query: x\n", 5,
          "no condition" },
        { "logsource:\n  category: dns\ndetection:\n  sel:\n    query: x\n  condition: sel\n", 1,
          "missing title" },
        { "title: x\ndetection:\n  sel:\n    query: x\n  condition: sel\n", 1,
          "missing logsource" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query|re: '(x'\n"
          "  condition: sel\n",
          6, "re: missing closing parenthesis" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query: [x\n", 7,
          "" }, /* YAML syntax error: libyaml's reason */
        { "title: x\nlevel: severe\nlogsource:\n  category: dns\ndetection:\n  sel:\n"
          "    query: x\n  condition: sel\n",
          2, "level 'severe'" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n"
          "    query|contains|endswith: x\n  condition: sel\n",
          6, "exclude each other" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query|i: x\n"
          "  condition: sel\n",
          6, "sub-modifiers of re" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n"
          "    query|base64: 'a*'\n  condition: sel\n",
          6, "base64 of a value with wildcards" },
        { "title: x\nlogsource:\n  category: firewall\ndetection:\n  sel:\n"
          "    dst_ip|cidr: 10.0.0.0/33\n  condition: sel\n",
          6, "not a network" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query:\n"
          "      a: b\n  condition: sel\n",
          7, "a value or a list of values" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel: null\n  condition: sel\n", 5,
          "empty selection" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query: *a\n"
          "  condition: sel\n",
          6, "alias" }, /* YAML: *a is an alias */
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query: x\n"
          "  condition: sel | count() by src_ip > 5\n",
          7, "needs a timeframe" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query: x\n"
          "  timeframe: 5m\n  condition: sel | max(rtt) by src_ip > 5\n",
          8, "min() and max()" },
        { "title: x\nlogsource:\n  category: dns\ndetection:\n  sel:\n    query: x\n"
          "    query: y\n  condition: sel\n",
          7, "duplicate key" },
        { "title: x\naction: global\nlogsource:\n  category: dns\n", 2, "action" },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        struct t_verdicts tv;
        struct tl_ruleset *rs = t_load(cases[i].text, &tv);
        CHECK(rs != NULL);
        if (tv.n != 1 || tv.v[0] != TL_RULE_REJECTED || tv.line[0] != cases[i].line ||
            !strstr(tv.reason[0], cases[i].why))
            tl_check_report(__FILE__, __LINE__, "case %zu: verdict %d line %u '%s'", i,
                            tv.n ? (int)tv.v[0] : -1, tv.n ? tv.line[0] : 0,
                            tv.n ? tv.reason[0] : "");
        tl_rules_free(rs);
    }
}

static void test_routing(void)
{
    struct {
        const char *ls, *det;
        enum tl_rule_verdict v;
        const char *why;
    } cases[] = {
        { "    product: zeek\n    service: smb_files\n", "    sel:\n        name: x\n",
          TL_RULE_INACTIVE, "product zeek service smb_files is not produced" },
        { "    product: zeek\n    service: x509\n", "    sel:\n        name: x\n", TL_RULE_INACTIVE,
          "x509" },
        { "    product: windows\n    category: process_creation\n", "    sel:\n        Image: x\n",
          TL_RULE_INACTIVE, "product windows" },
        { "    product: cisco\n    service: aaa\n", "    sel:\n        - x\n", TL_RULE_INACTIVE,
          "cisco" },
        { "    product: zeek\n    service: kerberos\n", "    sel:\n        client: x\n",
          TL_RULE_INACTIVE, "kerberos events are not produced" }, /* no such type here */
        { "    category: proxy\n", "    sel:\n        c-uri: x\n", TL_RULE_ACTIVE, "" },
        { "    category: webserver\n", "    sel:\n        cs-uri-query: x\n", TL_RULE_ACTIVE, "" },
        { "    category: firewall\n", "    sel:\n        dst_port: 53\n", TL_RULE_ACTIVE, "" },
        { "    category: network\n", "    sel:\n        src_ip: 10.0.0.1\n", TL_RULE_ACTIVE, "" },
        { "    category: dns\n", "    sel:\n        record_type: TXT\n", TL_RULE_ACTIVE, "" },
        { "    product: apache\n    category: webserver\n", "    sel:\n        cs-method: GET\n",
          TL_RULE_ACTIVE, "" },
        { "    product: zeek\n    service: rdp\n", "    sel:\n        id.resp_p: 3389\n",
          TL_RULE_ACTIVE, "" },
        { "    product: windows\n    service: ldap_debug\n",
          "    sel:\n        SearchFilter|contains: admincount\n", TL_RULE_ACTIVE, "" },
        { "    category: proxy\n", "    sel:\n        cs-cookie: x\n", TL_RULE_INACTIVE,
          "cs-cookie not on http events: the condition can never match" },
        { "    product: zeek\n", "    sel:\n        nosuchfield: x\n", TL_RULE_INACTIVE,
          "nosuchfield not on flow events" },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        struct t_verdicts tv;
        char det[512];
        snprintf(det, sizeof(det), "%s    condition: sel\n", cases[i].det);
        struct tl_ruleset *rs = t_load(t_rule(cases[i].ls, det), &tv);
        if (tv.n != 1 || tv.v[0] != cases[i].v || !strstr(tv.reason[0], cases[i].why))
            tl_check_report(__FILE__, __LINE__, "case %zu: verdict %d '%s'", i,
                            tv.n ? (int)tv.v[0] : -1, tv.n ? tv.reason[0] : "");
        tl_rules_free(rs);
    }
}

static void test_rdp_and_zeek_without_service(void)
{
    struct t_flow f;
    memset(&f, 0, sizeof(f));
    t_ids(&f.ids, 1, "CF");
    f.ids.resp_p = 3389;
    const char *det = "    sel:\n        id.resp_p: 3389\n    condition: sel\n";
    CHECK_EQ(t_one("    product: zeek\n    service: rdp\n", det, &t_flow_event, &f), 0);
    f.app_proto = "RDP";
    CHECK_EQ(t_one("    product: zeek\n    service: rdp\n", det, &t_flow_event, &f), 1);
    CHECK_EQ(t_one("    product: zeek\n    service: conn\n", det, &t_flow_event, &f), 1);

    /* product zeek alone: every type that has the fields */
    struct t_dns d = t_dnsrec("x.example");
    struct t_http h = t_httprec("GET", "x.example", "/");
    struct t_verdicts tv;
    struct tl_ruleset *rs =
        t_load(t_rule("    product: zeek\n", "    sel:\n        query: x.example\n"
                                             "    condition: sel\n"),
               &tv);
    CHECK_EQ(tv.v[0], TL_RULE_ACTIVE);
    CHECK_EQ(t_match(rs, &t_dns_event, &d), 1);
    CHECK_EQ(t_match(rs, &t_http_event, &h), 0);
    tl_rules_free(rs);
    rs = t_load(t_rule("    product: zeek\n", "    kw:\n        - x.example\n    condition: kw\n"),
                &tv);
    CHECK_EQ(t_match(rs, &t_dns_event, &d), 1);
    CHECK_EQ(t_match(rs, &t_http_event, &h), 1);
    tl_rules_free(rs);
}

static void test_aliases_and_derived(void)
{
    struct t_http h = t_httprec("POST", "Files.Example.com", "/dl/Payload.EXE?id=7&x=1");
    h.status_code = 302;
    h.referrer = S("http://r.example/");
    h.username = S("alice");
    static const struct t_case cases[] = {
        { "c-uri|contains: payload.exe", 1 },
        { "cs-uri-query|contains: id=7", 1 }, /* the whole request target */
        { "c-uri-query: 'id=7&x=1'", 1 },
        { "c-uri-query|contains: /dl", 0 },
        { "c-uri-stem: /dl/payload.exe", 1 },
        { "cs-uri-stem|endswith: .exe", 1 },
        { "c-uri-extension: exe", 1 },
        { "c-uri-extension: 'exe?id=7'", 0 },
        { "cs-host: files.example.com", 1 },
        { "cs-method: POST", 1 },
        { "sc-status: 302", 1 },
        { "cs-referer|startswith: http://r.", 1 },
        { "c-useragent|contains: windows nt", 1 },
        { "cs-username: alice", 1 },
        { "url: files.example.com/dl/payload.exe?id=7&x=1", 1 },
        { "url.path: /dl/Payload.EXE", 1 },
        { "host_is_ip: false", 1 },
        { "dst_port: 80", 1 },
        { "src_ip: 10.0.0.5", 1 },
    };
    t_cases(__LINE__, "    category: proxy\n", &t_http_event, &h, cases, TL_ARRAY_LEN(cases));
    struct t_http ip = t_httprec("GET", "192.0.2.9:8080", "http://192.0.2.9:8080/a/b.ps1");
    CHECK_EQ(t_one("    category: proxy\n",
                   "    sel:\n        host_is_ip: true\n    condition: sel\n", &t_http_event, &ip),
             1);
    CHECK_EQ(t_one("    category: proxy\n",
                   "    sel:\n        c-uri-extension: ps1\n    condition: sel\n", &t_http_event,
                   &ip),
             1);
    CHECK_EQ(t_one("    category: proxy\n",
                   "    sel:\n        c-uri-stem: /a/b.ps1\n    condition: sel\n", &t_http_event,
                   &ip),
             1); /* an absolute target's path */
    CHECK_EQ(t_one("    category: proxy\n",
                   "    sel:\n        url: http://192.0.2.9:8080/a/b.ps1\n    condition: sel\n",
                   &t_http_event, &ip),
             1);
    struct t_http v6 = t_httprec("GET", "[2001:db8::1]:80", "/");
    CHECK_EQ(t_one("    category: proxy\n",
                   "    sel:\n        host_is_ip: true\n    condition: sel\n", &t_http_event, &v6),
             1);
    /* dns category names */
    struct t_dns d = t_dnsrec("Tunnel.Example");
    d.qtype_name = "TXT";
    CHECK_EQ(t_one("    category: dns\n",
                   "    sel:\n        dns.question.name|endswith: .example\n"
                   "        record_type: txt\n    condition: sel\n",
                   &t_dns_event, &d),
             1);
}

static void test_ldap_view(void)
{
    struct t_ldap l;
    memset(&l, 0, sizeof(l));
    t_ids(&l.ids, 1, "CL");
    l.filter = S("(&(objectCategory=person)(adminCount=1))");
    l.base_object = S("DC=corp,DC=example");
    l.scope = "tree";
    struct tl_str attrs[2] = { S("sAMAccountName"), S("servicePrincipalName") };
    l.attributes = (struct tl_strlist){ attrs, 2 };
    const char *ls = "    product: windows\n    service: ldap_debug\n";
    CHECK_EQ(t_one(ls,
                   "    sel:\n        SearchFilter|contains: '(admincount=1)'\n"
                   "        DistinguishedName|endswith: dc=example\n"
                   "        AttributeList: serviceprincipalname\n"
                   "        SearchScope: tree\n    condition: sel\n",
                   &t_ldap_event, &l),
             1);
    CHECK_EQ(t_one(ls,
                   "    sel:\n        SearchFilter|contains: 'useraccountcontrol'\n"
                   "    condition: sel\n",
                   &t_ldap_event, &l),
             0);
}

static void test_unknown_fields(void)
{
    struct t_http h = t_httprec("GET", "a.example", "/x");
    struct t_verdicts tv;
    /* one branch names a field http events lack: the rule stays, that branch never matches */
    const char *det = "    sel_a:\n        cs-cookie: x\n    sel_b:\n        uri: /x\n"
                      "    condition: 1 of sel_*\n";
    struct tl_ruleset *rs = t_load(t_rule("    category: proxy\n", det), &tv);
    CHECK_EQ(tv.v[0], TL_RULE_ACTIVE);
    CHECK(strstr(tv.reason[0], "cs-cookie not on http events") != NULL);
    CHECK_EQ(t_match(rs, &t_http_event, &h), 1);
    tl_rules_free(rs);
    /* `not` of an unknown is still unknown: never a match */
    det = "    sel_a:\n        cs-cookie: x\n    sel_b:\n        uri: /x\n"
          "    condition: sel_b and not sel_a\n";
    rs = t_load(t_rule("    category: proxy\n", det), &tv);
    CHECK_EQ(tv.v[0], TL_RULE_INACTIVE);
    CHECK_EQ(t_match(rs, &t_http_event, &h), 0);
    tl_rules_free(rs);
}

static void test_phases(void)
{
    struct t_http h = t_httprec("GET", "new.example", "/");
    struct t_verdicts tv;
    struct tl_ruleset *rs =
        t_load(t_rule(LS_HTTP, "    sel:\n        domain_is_new: true\n    condition: sel\n"), &tv);
    CHECK(!tl_rules_wants(rs, &t_http_event, TL_PHASE_RECORD));
    CHECK(tl_rules_wants(rs, &t_http_event, TL_PHASE_LATE));
    CHECK(!tl_rules_wants(rs, &t_dns_event, TL_PHASE_LATE));
    CHECK_EQ(t_match_ph(rs, &t_http_event, &h, TL_PHASE_RECORD), 0);
    CHECK_EQ(t_match_ph(rs, &t_http_event, &h, TL_PHASE_LATE), 0); /* not filled in */
    h.has_stats = true;
    h.is_new = true;
    CHECK_EQ(t_match_ph(rs, &t_http_event, &h, TL_PHASE_LATE), 1);
    tl_rules_free(rs);
}

static void test_alert_json(void)
{
    struct t_http h = t_httprec("POST", "a.example", "/upload");
    struct tl_str mimes[2] = { S("application/x-dosexec"), S("text/plain") };
    h.resp_mime_types = (struct tl_strlist){ mimes, 2 };
    struct t_verdicts tv;
    struct tl_ruleset *rs =
        t_load(t_rule(LS_HTTP,
                      "    sel:\n        method: POST\n        resp_mime_types|contains: dosexec\n"
                      "        referrer: null\n        status_code: 200\n    condition: sel\n"),
               &tv);
    struct t_hits hits = { 0 };
    struct tl_view v = { &t_http_event, &h, NULL };
    if (!t_sc)
        t_sc = tl_rules_scratch_new();
    tl_rules_match(rs, &v, TL_PHASE_RECORD, t_sc, t_hit, &hits);
    CHECK_EQ(hits.n, 1);
    if (hits.n) {
        struct tl_buf b = { 0 };
        CHECK(tl_rule_alerts(hits.last));
        tl_alert_json(&b, "s1", hits.last, &v, t_sc);
        tl_buf_putc(&b, '\0');
        const char *want[] = {
            "{\"ts\":\"2023-11-14T22:13:20.000000Z\",\"event_type\":\"alert\",\"sensor\":\"s1\"",
            "\"rule.id\":\"11111111-2222-3333-4444-555555555555\"",
            "\"rule.title\":\"test rule\"",
            "\"rule.level\":\"high\"",
            "\"rule.status\":\"test\"",
            "\"rule.tags\":[\"attack.t1071.001\"]",
            "\"rule.file\":\"",
            "\"matched_event_type\":\"http\"",
            "\"uid\":\"CHTTP1\"",
            "\"community_id\":\"1:abc=\"",
            "\"id.orig_h\":\"10.0.0.5\",\"id.orig_p\":50000,\"id.resp_h\":\"192.0.2.1\","
            "\"id.resp_p\":80,\"proto\":\"tcp\"",
            "\"matched\":{\"method\":\"POST\",\"resp_mime_types\":[\"application/x-dosexec\","
            "\"text/plain\"],\"referrer\":null,\"status_code\":200}",
        };
        for (size_t i = 0; i < TL_ARRAY_LEN(want); i++)
            if (!strstr(b.p, want[i]))
                tl_check_report(__FILE__, __LINE__, "alert lacks %s: %s", want[i], b.p);
        tl_buf_free(&b);
    }
    tl_rules_free(rs);

    /* a keyword rule names the keywords it found */
    rs = t_load(
        t_rule(LS_HTTP, "    kw:\n        - nothere\n        - Upload\n    condition: kw\n"), &tv);
    hits.n = 0;
    tl_rules_match(rs, &v, TL_PHASE_RECORD, t_sc, t_hit, &hits);
    CHECK_EQ(hits.n, 1);
    if (hits.n) {
        struct tl_buf b = { 0 };
        tl_alert_json(&b, "s1", hits.last, &v, t_sc);
        tl_buf_putc(&b, '\0');
        if (!strstr(b.p, "\"matched\":{\"keywords\":[\"upload\"]}"))
            tl_check_report(__FILE__, __LINE__, "keyword alert: %s", b.p);
        tl_buf_free(&b);
    }
    tl_rules_free(rs);
}

static void test_filters_and_documents(void)
{
    struct t_http a = t_httprec("GET", "a.example", "/admin");
    struct t_http b = t_httprec("GET", "trusted.example", "/admin");
    const char *text =
        "title: admin pages\nname: admin_pages\nid: 7d1b5b1e-0000-4000-8000-000000000001\n"
        "logsource:\n  category: proxy\ndetection:\n  sel:\n    c-uri|startswith: /admin\n"
        "  condition: sel\n---\n"
        "title: not from trusted hosts\nlogsource:\n  category: proxy\nfilter:\n  rules:\n"
        "    - admin_pages\n  trusted:\n    cs-host: trusted.example\n  condition: not trusted\n"
        "---\n"
        "title: a filter for a rule that is not here\nlogsource:\n  category: proxy\nfilter:\n"
        "  rules: nosuchrule\n  sel:\n    cs-host: x\n  condition: not sel\n";
    struct t_verdicts tv;
    struct tl_rules_summary sum;
    struct tl_ruleset *rs = t_load_paths(t_write("multi.yml", text), &tv, &sum);
    CHECK_EQ(tv.n, 3);
    CHECK_EQ(tv.v[0], TL_RULE_ACTIVE);
    CHECK_EQ(tv.line[0], 1);
    CHECK_EQ(tv.v[1], TL_RULE_ACTIVE);
    CHECK_EQ(tv.line[1], 11);
    CHECK_EQ(tv.v[2], TL_RULE_INACTIVE);
    CHECK_EQ(sum.files_active, 1);
    CHECK_EQ(sum.rules, 1);
    CHECK_EQ(sum.filters, 1);
    CHECK_EQ(t_match(rs, &t_http_event, &a), 1);
    CHECK_EQ(t_match(rs, &t_http_event, &b), 0);
    tl_rules_free(rs);
    t_unlink("multi.yml");
}

static void test_paths(void)
{
    char dir[128], sub[160];
    struct t_verdicts tv;
    struct tl_rules_summary sum;
    snprintf(dir, sizeof(dir), "%s/tree", t_dir[0] ? t_dir : "/tmp");
    t_write("x.yml", "x: 1\n"); /* makes t_dir */
    snprintf(dir, sizeof(dir), "%s/tree", t_dir);
    snprintf(sub, sizeof(sub), "%s/b", dir);
    mkdir(dir, 0700);
    mkdir(sub, 0700);
    t_write("tree/b/2.yaml", t_rule("    category: dns\n", "    s:\n        query: x\n"
                                                           "    condition: s\n"));
    t_write("tree/a.yml", "title: bad\n  - :\n");
    t_write("tree/c.txt", "not a rule");
    t_write("tree/.hidden.yml", "not read");
    struct tl_ruleset *rs = t_load_paths(dir, &tv, &sum);
    CHECK_EQ(tv.n, 2); /* a.yml then b/2.yaml, in name order; .txt and dot-files skipped */
    CHECK_EQ(tv.v[0], TL_RULE_REJECTED);
    CHECK_EQ(tv.v[1], TL_RULE_ACTIVE);
    CHECK_EQ(sum.files_rejected, 1);
    CHECK_EQ(sum.files_active, 1);
    tl_rules_free(rs);
    /* a comma list; an empty file */
    char both[400];
    snprintf(both, sizeof(both), "%s/b , %s", dir, t_write("empty.yml", ""));
    rs = t_load_paths(both, &tv, &sum);
    CHECK_EQ(tv.n, 2);
    CHECK_EQ(tv.v[1], TL_RULE_REJECTED);
    tl_rules_free(rs);
    /* a path that does not exist stops the load */
    struct tl_rules_env env = { t_types, TL_ARRAY_LEN(t_types), NULL, 10, 4 };
    char err[256] = "";
    CHECK(tl_rules_load(&env, "/nonexistent/rules", NULL, NULL, NULL, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "/nonexistent/rules") != NULL);
    /* no paths: an empty set */
    rs = tl_rules_load(&env, "", NULL, NULL, &sum, err, sizeof(err));
    CHECK(rs != NULL);
    CHECK_EQ(sum.rules, 0);
    tl_rules_free(rs);
    t_unlink("tree/b/2.yaml");
    t_unlink("tree/a.yml");
    t_unlink("tree/c.txt");
    t_unlink("tree/.hidden.yml");
    t_unlink("empty.yml");
    t_unlink("x.yml");
    rmdir(sub);
    rmdir(dir);
}

/* ---- correlations ---- */

/* Matches rec and feeds every correlation input of every hit; alerts appended to out. */
struct t_corr {
    struct tl_ruleset *rs;
    struct tl_corr *c;
    struct tl_buf out;
    int single; /* single-event alerts (rules that alert on their own) */
};

static void t_corr_hit(void *arg, const struct tl_rule *r, const struct tl_view *v)
{
    struct t_corr *tc = arg;
    if (tl_rule_alerts(r))
        tc->single++;
    for (struct tl_corr_input *in = tl_corr_inputs(tc->rs, r, v, t_sc), *next; in; in = next) {
        next = tl_corr_input_next(in);
        tl_corr_feed(tc->c, in, &tc->out, "s1");
    }
}

static void t_corr_event(struct t_corr *tc, const struct tl_event_type *t, const void *rec)
{
    struct tl_view v = { t, rec, NULL };
    tl_rules_match(tc->rs, &v, TL_PHASE_RECORD, t_sc, t_corr_hit, tc);
}

static bool t_corr_open(struct t_corr *tc, const char *yaml, uint64_t max_state,
                        struct t_verdicts *tv)
{
    struct tl_rules_env env = { t_types, TL_ARRAY_LEN(t_types), NULL, max_state, 2 };
    struct tl_rules_summary sum;
    char err[256];
    memset(tc, 0, sizeof(*tc));
    if (!t_sc)
        t_sc = tl_rules_scratch_new();
    memset(tv, 0, sizeof(*tv));
    tc->rs = tl_rules_load(&env, t_write("corr.yml", yaml), t_report, tv, &sum, err, sizeof(err));
    tc->c = tc->rs ? tl_corr_new(tc->rs, &env) : NULL;
    return tc->c != NULL;
}

static void t_corr_close(struct t_corr *tc)
{
    tl_corr_free(tc->c);
    tl_rules_free(tc->rs);
    tl_buf_free(&tc->out);
    t_unlink("corr.yml");
}

static int t_lines(const struct tl_buf *b)
{
    int n = 0;
    for (size_t i = 0; i < b->len; i++)
        n += b->p[i] == '\n';
    return n;
}

static bool t_has(struct tl_buf *b, const char *s)
{
    tl_buf_putc(b, '\0');
    b->len--;
    return strstr(b->p, s) != NULL;
}

static struct t_dns t_q(uint64_t sec, int host, const char *query, const char *uid)
{
    struct t_dns d = t_dnsrec(query);
    d.ids.ts = sec * 1000000ull;
    d.ids.orig_h.b[15] = (uint8_t)host;
    snprintf(d.ids.uid, sizeof(d.ids.uid), "%s", uid);
    return d;
}

#define T_BASE                                                                                     \
    "title: lookups\nname: lookups\nid: 0b5f7d3a-0000-4000-8000-000000000001\n"                    \
    "logsource:\n  category: dns\ndetection:\n  sel:\n    query|endswith: .example\n"              \
    "  condition: sel\n---\n"

static void test_corr_event_count(void)
{
    struct t_corr tc;
    struct t_verdicts tv;
    const char *y = T_BASE "title: many lookups\nid: c0000000-0000-4000-8000-000000000001\n"
                           "level: medium\ncorrelation:\n  type: event_count\n  rules:\n"
                           "    - lookups\n  group-by:\n    - src_ip\n  timespan: 60s\n"
                           "  condition:\n    gte: 3\n";
    if (!t_corr_open(&tc, y, 1000, &tv))
        return;
    CHECK_EQ(tv.n, 2);
    CHECK_EQ(tv.v[1], TL_RULE_ACTIVE);
    struct t_dns q[] = {
        t_q(100, 5, "a.example", "C1"), t_q(110, 6, "b.example", "C2"), /* another host */
        t_q(120, 5, "c.example", "C3"), t_q(200, 5, "d.example", "C4"), /* C1 left the window */
        t_q(230, 5, "e.other", "C5"),                                   /* not a match */
        t_q(250, 5, "f.example", "C6"), /* C3 C4 C6 within 60 s of C6? C3 is 130 s old: no */
        t_q(255, 5, "g.example", "C7"), /* C4 C6 C7: fires */
        t_q(256, 5, "h.example", "C8"), /* afresh after the alert: one */
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(q); i++)
        t_corr_event(&tc, &t_dns_event, &q[i]);
    CHECK_EQ(tc.single, 0); /* the base rule alerts only through the correlation */
    CHECK_EQ(t_lines(&tc.out), 1);
    CHECK(t_has(&tc.out, "\"rule.title\":\"many lookups\""));
    CHECK(t_has(&tc.out, "\"correlation.type\":\"event_count\""));
    CHECK(t_has(&tc.out, "\"correlation.group\":{\"src_ip\":\"10.0.0.5\"}"));
    CHECK(t_has(&tc.out, "\"correlation.count\":3"));
    CHECK(t_has(&tc.out, "\"correlation.uids\":[\"C4\",\"C6\"]")); /* max_alert_uids 2 */
    CHECK(t_has(&tc.out, "\"correlation.uids_more\":1"));
    CHECK(t_has(&tc.out, "\"correlation.start\":\"1970-01-01T00:03:20.000000Z\""));
    CHECK(t_has(&tc.out, "\"ts\":\"1970-01-01T00:04:15.000000Z\""));
    CHECK(t_has(&tc.out, "\"correlation.rules\":[\"lookups\"]"));
    struct tl_stats st;
    memset(&st, 0, sizeof(st));
    tl_corr_counters(tc.c, &st);
    CHECK_EQ(st.v[TL_STAT_ALERTS], 1);
    CHECK_EQ(st.v[TL_STAT_RULES_MATCHES], 7);
    t_corr_close(&tc);
}

static void test_corr_value_count_and_generate(void)
{
    struct t_corr tc;
    struct t_verdicts tv;
    const char *y = T_BASE "title: many names\ncorrelation:\n  type: value_count\n"
                           "  rules: lookups\n  group-by: [src_ip]\n  timespan: 2m\n"
                           "  generate: true\n  condition:\n    field: query\n    gt: 2\n";
    if (!t_corr_open(&tc, y, 1000, &tv))
        return;
    struct t_dns q[] = {
        t_q(10, 5, "a.example", "C1"), t_q(11, 5, "A.example", "C2"), /* another text */
        t_q(12, 5, "a.example", "C3"),                                /* seen: still 2 */
        t_q(13, 5, "b.example", "C4"),                                /* 3 distinct */
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(q); i++)
        t_corr_event(&tc, &t_dns_event, &q[i]);
    CHECK_EQ(tc.single, 4); /* generate: the base rule alerts too */
    CHECK_EQ(t_lines(&tc.out), 1);
    CHECK(t_has(&tc.out, "\"correlation.values\":[\"A.example\",\"a.example\",\"b.example\"]"));
    CHECK(t_has(&tc.out, "\"correlation.count\":3"));
    t_corr_close(&tc);
}

static void test_corr_temporal(void)
{
    struct t_corr tc;
    struct t_verdicts tv;
    const char *y = "title: first\nname: r1\nlogsource:\n  category: dns\ndetection:\n  s:\n"
                    "    query: one.example\n  condition: s\n---\n"
                    "title: second\nname: r2\nlogsource:\n  category: dns\ndetection:\n  s:\n"
                    "    query: two.example\n  condition: s\n---\n"
                    "title: both\nname: both\ncorrelation:\n  type: temporal\n  rules: [r1, r2]\n"
                    "  group-by: [src_ip]\n  timespan: 30s\n---\n"
                    "title: in order\ncorrelation:\n  type: temporal_ordered\n  rules: [r1, r2]\n"
                    "  group-by: [src_ip]\n  timespan: 30s\n";
    if (!t_corr_open(&tc, y, 1000, &tv))
        return;
    for (int i = 0; i < 4; i++)
        CHECK_EQ(tv.v[i], TL_RULE_ACTIVE);
    struct t_dns a = t_q(100, 5, "two.example", "C1"), b = t_q(110, 5, "one.example", "C2");
    t_corr_event(&tc, &t_dns_event, &a);
    t_corr_event(&tc, &t_dns_event, &b); /* both, but not in order */
    CHECK_EQ(t_lines(&tc.out), 1);
    CHECK(t_has(&tc.out, "\"rule.title\":\"both\""));
    struct t_dns c = t_q(120, 5, "two.example", "C3"); /* r1 at 110 then r2 at 120: in order */
    t_corr_event(&tc, &t_dns_event, &c);
    CHECK_EQ(t_lines(&tc.out), 2);
    CHECK(t_has(&tc.out, "\"rule.title\":\"in order\""));
    CHECK(t_has(&tc.out, "\"correlation.type\":\"temporal_ordered\""));
    struct t_dns d = t_q(200, 5, "one.example", "C4"), e = t_q(240, 5, "two.example", "C5");
    t_corr_event(&tc, &t_dns_event, &d);
    t_corr_event(&tc, &t_dns_event, &e); /* 40 s apart: outside the window */
    CHECK_EQ(t_lines(&tc.out), 2);
    t_corr_close(&tc);
}

static void test_corr_sum_avg_and_window_end(void)
{
    struct t_corr tc;
    struct t_verdicts tv;
    const char *y =
        "title: flows out\nname: out\nlogsource:\n  category: firewall\ndetection:\n  s:\n"
        "    dst_port: 53\n  condition: s\n---\n"
        "title: many bytes\ncorrelation:\n  type: value_sum\n  rules: out\n  group-by: [src_ip]\n"
        "  timespan: 1m\n  condition:\n    field: orig_bytes\n    gte: 1000\n---\n"
        "title: big on average\ncorrelation:\n  type: value_avg\n  rules: out\n"
        "  group-by: [src_ip]\n  timespan: 1m\n  condition:\n    field: orig_bytes\n"
        "    gt: 600\n---\n"
        "title: few flows\ncorrelation:\n  type: event_count\n  rules: out\n"
        "  group-by: [src_ip]\n  timespan: 10s\n  condition:\n    lt: 3\n";
    if (!t_corr_open(&tc, y, 1000, &tv))
        return;
    uint64_t bytes[] = { 400, 500, 700 };
    for (int i = 0; i < 3; i++) {
        struct t_flow f;
        memset(&f, 0, sizeof(f));
        t_ids(&f.ids, (uint64_t)(100 + i) * 1000000u, "CF");
        f.ids.resp_p = 53;
        f.orig_bytes = bytes[i];
        t_corr_event(&tc, &t_flow_event, &f);
    }
    /* sum: 400+500+700 >= 1000 at the third (900 before it); avg 400, 450, 533: never > 600 */
    CHECK_EQ(t_lines(&tc.out), 1);
    CHECK(t_has(&tc.out, "\"rule.title\":\"many bytes\""));
    CHECK(t_has(&tc.out, "\"correlation.value\":1600"));
    /* few flows: 3 in the window, not fewer than 3: nothing when it closes */
    tl_corr_tick(tc.c, 200 * 1000000ull, &tc.out, "s1");
    CHECK_EQ(t_lines(&tc.out), 1);
    struct t_flow f;
    memset(&f, 0, sizeof(f));
    t_ids(&f.ids, 300 * 1000000ull, "CG");
    f.ids.resp_p = 53;
    f.orig_bytes = 1;
    t_corr_event(&tc, &t_flow_event, &f);
    tl_corr_tick(tc.c, 305 * 1000000ull, &tc.out, "s1"); /* window still open */
    CHECK_EQ(t_lines(&tc.out), 1);
    tl_corr_tick(tc.c, 311 * 1000000ull, &tc.out, "s1");
    CHECK_EQ(t_lines(&tc.out), 2);
    CHECK(t_has(&tc.out, "\"rule.title\":\"few flows\""));
    CHECK(t_has(&tc.out, "\"ts\":\"1970-01-01T00:05:10.000000Z\"")); /* the window's end */
    t_corr_close(&tc);
}

static void test_corr_chain_and_aliases(void)
{
    struct t_corr tc;
    struct t_verdicts tv;
    const char *y =
        "title: lookup\nname: lookup\nlogsource:\n  category: dns\ndetection:\n  s:\n"
        "    query: bad.example\n  condition: s\n---\n"
        "title: download\nname: download\nlogsource:\n  category: proxy\ndetection:\n  s:\n"
        "    cs-host: bad.example\n  condition: s\n---\n"
        "title: lookup then download\nname: seq\ncorrelation:\n  type: temporal_ordered\n"
        "  rules: [lookup, download]\n  group-by: [client, name]\n  timespan: 1m\n"
        "  aliases:\n    client:\n      lookup: id.orig_h\n      download: id.orig_h\n"
        "    name:\n      lookup: query\n      download: host\n---\n"
        "title: repeated\ncorrelation:\n  type: event_count\n  rules: seq\n"
        "  group-by: [client]\n  timespan: 1h\n  condition:\n    gte: 2\n";
    if (!t_corr_open(&tc, y, 1000, &tv))
        return;
    for (int i = 0; i < 4; i++)
        if (tv.v[i] != TL_RULE_ACTIVE)
            tl_check_report(__FILE__, __LINE__, "document %d: %s", i, tv.reason[i]);
    for (int round = 0; round < 2; round++) {
        struct t_dns d = t_q(100 + 100 * (uint64_t)round, 5, "bad.example", "CD");
        struct t_http h = t_httprec("GET", "bad.example", "/x");
        h.ids.ts = (110 + 100 * (uint64_t)round) * 1000000ull;
        t_corr_event(&tc, &t_dns_event, &d);
        t_corr_event(&tc, &t_http_event, &h);
    }
    /* the inner correlation feeds the outer and alerts only through it (no generate) */
    CHECK_EQ(t_lines(&tc.out), 1);
    CHECK(t_has(&tc.out, "\"rule.title\":\"repeated\""));
    CHECK(t_has(&tc.out, "\"correlation.group\":{\"client\":\"10.0.0.5\"}"));
    t_corr_close(&tc);
}

static void test_corr_legacy_and_state_cap(void)
{
    struct t_corr tc;
    struct t_verdicts tv;
    const char *y = "title: legacy rate\nid: 1e000000-0000-4000-8000-000000000001\n"
                    "logsource:\n  category: dns\ndetection:\n  selection:\n"
                    "    record_type: TXT\n  timeframe: 1m\n"
                    "  condition: selection | count() by src_ip > 2\n";
    if (!t_corr_open(&tc, y, 6, &tv))
        return;
    CHECK_EQ(tv.n, 1);
    CHECK_EQ(tv.v[0], TL_RULE_ACTIVE);
    for (int host = 1; host <= 4; host++) /* groups for 4 hosts: the cap forgets some */
        for (int i = 0; i < 2; i++) {
            struct t_dns d = t_q(100 + (uint64_t)i, host, "t.example", "CT");
            d.qtype_name = "TXT";
            t_corr_event(&tc, &t_dns_event, &d);
        }
    CHECK_EQ(tc.single, 0);
    struct tl_stats st;
    memset(&st, 0, sizeof(st));
    tl_corr_counters(tc.c, &st);
    /* two lookups per host: > 2 needs a third; none fires */
    CHECK_EQ(t_lines(&tc.out), 0);
    CHECK(st.v[TL_STAT_RULES_STATE_CAPPED] > 0);
    for (int i = 0; i < 4; i++) { /* the third fires; the fourth starts afresh */
        struct t_dns d = t_q(110 + (uint64_t)i, 9, "t.example", "CT");
        d.qtype_name = "TXT";
        t_corr_event(&tc, &t_dns_event, &d);
    }
    CHECK_EQ(t_lines(&tc.out), 1);
    CHECK(t_has(&tc.out, "\"rule.title\":\"legacy rate\""));
    CHECK(t_has(&tc.out, "\"correlation.group\":{\"src_ip\":\"10.0.0.9\"}"));
    t_corr_close(&tc);
}

/* The same inputs in the same order give the same bytes, with one engine or another. */
static void test_corr_deterministic(void)
{
    struct tl_buf outs[2] = { { 0 }, { 0 } };
    const char *y = T_BASE "title: names\ncorrelation:\n  type: value_count\n  rules: lookups\n"
                           "  group-by: [src_ip]\n  timespan: 30s\n  condition:\n"
                           "    field: query\n    gte: 2\n---\n"
                           "title: quiet\ncorrelation:\n  type: event_count\n  rules: lookups\n"
                           "  group-by: [src_ip, query]\n  timespan: 5s\n  condition:\n"
                           "    eq: 1\n";
    for (int run = 0; run < 2; run++) {
        struct t_corr tc;
        struct t_verdicts tv;
        if (!t_corr_open(&tc, y, 50, &tv))
            return;
        for (uint64_t i = 0; i < 200; i++) {
            char name[32], uid[16];
            snprintf(name, sizeof(name), "n%llu.example", (unsigned long long)(i * 7 % 13));
            snprintf(uid, sizeof(uid), "C%llu", (unsigned long long)i);
            struct t_dns d = t_q(1000 + i / 3, (int)(i % 11), name, uid);
            t_corr_event(&tc, &t_dns_event, &d);
            if (i % 20 == 0)
                tl_corr_tick(tc.c, (1000 + i / 3) * 1000000ull, &tc.out, "s1");
        }
        tl_corr_tick(tc.c, UINT64_MAX / 2, &tc.out, "s1");
        tl_buf_put(&outs[run], tc.out.p, tc.out.len);
        t_corr_close(&tc);
    }
    CHECK(outs[0].len > 0);
    CHECK_EQ(outs[0].len, outs[1].len);
    CHECK(outs[0].len == outs[1].len && memcmp(outs[0].p, outs[1].p, outs[0].len) == 0);
    tl_buf_free(&outs[0]);
    tl_buf_free(&outs[1]);
}

static void test_corr_rejections(void)
{
    struct {
        const char *corr;
        enum tl_rule_verdict v;
        const char *why;
    } cases[] = {
        { "  type: event_count\n  rules: nosuch\n  timespan: 1m\n  condition:\n    gte: 2\n",
          TL_RULE_REJECTED, "rule 'nosuch' is not loaded" },
        { "  type: event_count\n  rules: lookups\n  timespan: soon\n  condition:\n    gte: 2\n",
          TL_RULE_REJECTED, "timespan" },
        { "  type: event_count\n  rules: lookups\n  timespan: 1m\n", TL_RULE_REJECTED,
          "missing condition" },
        { "  type: value_count\n  rules: lookups\n  timespan: 1m\n  condition:\n    gte: 2\n",
          TL_RULE_REJECTED, "needs a field" },
        { "  type: temporal\n  rules: lookups\n  timespan: 1m\n", TL_RULE_REJECTED,
          "two rules or more" },
        { "  type: sometimes\n  rules: lookups\n  timespan: 1m\n", TL_RULE_REJECTED,
          "correlation type" },
        { "  type: event_count\n  rules: lookups\n  timespan: 1m\n  condition:\n    about: 2\n",
          TL_RULE_REJECTED, "unknown condition 'about'" },
        { "  type: event_count\n  rules: lookups\n  group-by: [nosuchfield]\n  timespan: 1m\n"
          "  condition:\n    gte: 2\n",
          TL_RULE_INACTIVE, "nosuchfield is not on dns events" },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        char y[2048];
        struct t_verdicts tv;
        snprintf(y, sizeof(y), T_BASE "title: c\ncorrelation:\n%s", cases[i].corr);
        struct tl_ruleset *rs = t_load(y, &tv);
        if (tv.n != 2 || tv.v[1] != cases[i].v || !strstr(tv.reason[1], cases[i].why))
            tl_check_report(__FILE__, __LINE__, "case %zu: %d '%s'", i,
                            tv.n > 1 ? (int)tv.v[1] : -1, tv.n > 1 ? tv.reason[1] : "");
        tl_rules_free(rs);
    }
    /* two correlations that use each other */
    struct t_verdicts tv;
    struct tl_ruleset *rs =
        t_load("title: a\nname: a\ncorrelation:\n  type: event_count\n  rules: b\n"
               "  timespan: 1m\n  condition:\n    gte: 2\n---\n"
               "title: b\nname: b\ncorrelation:\n  type: event_count\n  rules: a\n"
               "  timespan: 1m\n  condition:\n    gte: 2\n",
               &tv);
    CHECK_EQ(tv.n, 2);
    CHECK(tv.v[0] != TL_RULE_ACTIVE && tv.v[1] != TL_RULE_ACTIVE);
    CHECK(strstr(tv.reason[1], "use each other") != NULL || strstr(tv.reason[0], "use each other"));
    tl_rules_free(rs);
}

/* ---- SigmaHQ rules from ../shared/sigma: a positive and a near-miss event each ---- */

#define T_SHARED "../shared/sigma/"

/* Loads one shared rule file; NULL (and nothing checked) when the corpus is not there. */
static struct tl_ruleset *t_shared(const char *rel, int line)
{
    char path[512];
    struct t_verdicts tv;
    struct tl_rules_summary sum;
    snprintf(path, sizeof(path), T_SHARED "%s", rel);
    if (access(path, R_OK) != 0)
        return NULL;
    struct tl_ruleset *rs = t_load_paths(path, &tv, &sum);
    if (tv.n != 1 || tv.v[0] != TL_RULE_ACTIVE)
        tl_check_report(__FILE__, line, "%s: not active: %s", rel, tv.n ? tv.reason[0] : "");
    return rs;
}

/* Positive and negative event of one type against one shared rule. */
static void t_pair(const char *rel, int line, const struct tl_event_type *t, const void *yes,
                   const void *no)
{
    struct tl_ruleset *rs = t_shared(rel, line);
    if (!rs)
        return;
    if (t_match(rs, t, yes) != 1)
        tl_check_report(__FILE__, line, "%s: the positive event did not match", rel);
    if (t_match(rs, t, no) != 0)
        tl_check_report(__FILE__, line, "%s: the near miss matched", rel);
    tl_rules_free(rs);
}

static void test_shared_samples(void)
{
    struct t_dns dy = t_dnsrec("seed3.nkn.org"), dn = t_dnsrec("seed3.nkn.com");
    t_pair("rules/network/zeek/zeek_dns_nkn.yml", __LINE__, &t_dns_event, &dy, &dn);
    dy = t_dnsrec("API.Telegram.org");
    dn = t_dnsrec("api.telegram.org.example.net");
    t_pair("rules/network/dns/net_dns_susp_telegram_api.yml", __LINE__, &t_dns_event, &dy, &dn);
    dy = t_dnsrec("aGVsbG8==.evil.example");
    dn = t_dnsrec("aGVsbG8=.evil.example");
    t_pair("rules/network/dns/net_dns_susp_b64_queries.yml", __LINE__, &t_dns_event, &dy, &dn);

    struct t_http hy = t_httprec("GET", "x.example", "/"), hn = hy;
    hy.user_agent = S("Mozilla/5.0 katz-ontop");
    hn.user_agent = S("Mozilla/5.0 katz-on-top");
    t_pair("rules-emerging-threats/2025/Malware/Katz-Stealer/"
           "zeek_http_katz_stealer_susp_useragent.yml",
           __LINE__, &t_http_event, &hy, &hn);
    hy = t_httprec("GET", "files.hopto.org", "/d/Invoice.EXE");
    hn = t_httprec("GET", "files.hopto.org.example", "/d/Invoice.EXE");
    t_pair("rules/web/proxy_generic/proxy_download_susp_dyndns.yml", __LINE__, &t_http_event, &hy,
           &hn);
    hy = t_httprec("GET", "192.0.2.41", "/a");
    hy.user_agent = S("Microsoft BITS/7.8");
    hn = hy;
    hn.host = S("updates.example.com");
    t_pair("rules/web/proxy_generic/proxy_ua_bitsadmin_susp_ip.yml", __LINE__, &t_http_event, &hy,
           &hn);
    hy = t_httprec("GET", "onedrive.live.com", "/x?manifest=wac"); /* \? in the rule: literal */
    hn = t_httprec("GET", "onedrive.live.com", "/x?manifesto=wac");
    t_pair("rules/web/proxy_generic/proxy_hktl_cobalt_strike_malleable_c2_requests.yml", __LINE__,
           &t_http_event, &hy, &hn);
    hn = t_httprec("GET", "onedrive.live.com", "http://onedrive.live.com/x?manifest=wac");
    t_pair("rules/web/proxy_generic/proxy_hktl_cobalt_strike_malleable_c2_requests.yml", __LINE__,
           &t_http_event, &hy, &hn); /* the filter: an absolute onedrive URL is not an alert */
    hy = t_httprec("GET", "x.example", "/app/Payload.class");
    hn = t_httprec("GET", "x.example", "/app/Payload.classes");
    t_pair("rules-threat-hunting/web/proxy_generic/proxy_susp_class_extension_request.yml",
           __LINE__, &t_http_event, &hy, &hn);
    hy = t_httprec("GET", "x.example", "/cgi/../../../etc/passwd");
    hn = t_httprec("GET", "x.example", "/cgi/../etc/passwd");
    t_pair("rules/web/webserver_generic/web_path_traversal_exploitation_attempt.yml", __LINE__,
           &t_http_event, &hy, &hn);
    hy = t_httprec("GET", "x.example", "/");
    hy.referrer = S("ldap://a/Basic/Command/Base64/Y2FsYw=="); /* keywords: any text field */
    hn = t_httprec("GET", "x.example", "/Basic/Command/");
    t_pair("rules/web/webserver_generic/web_jndi_exploit.yml", __LINE__, &t_http_event, &hy, &hn);
    hy = t_httprec("OPTIONS", "x.example", "/*~1*/a.aspx");
    hn = hy;
    hn.status_code = 404;
    t_pair("rules/web/webserver_generic/web_iis_tilt_shortname_scan.yml", __LINE__, &t_http_event,
           &hy, &hn);

    /* a legacy aggregation on flows: > 1000 DNS flows from one source in a minute */
    struct t_corr tc;
    struct t_verdicts tv;
    FILE *f = fopen(T_SHARED "unsupported/network/net_firewall_high_dns_requests_rate.yml", "r");
    if (!f)
        return;
    char text[4096];
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    if (!t_corr_open(&tc, text, 100000, &tv))
        return;
    for (int host = 1; host <= 2; host++)
        for (uint64_t i = 0; i < (host == 1 ? 1001u : 1000u); i++) {
            struct t_flow fl;
            memset(&fl, 0, sizeof(fl));
            t_ids(&fl.ids, 1000000000 + i * 50000, "CF"); /* 1001 flows in 50 s */
            fl.ids.orig_h.b[15] = (uint8_t)host;
            fl.ids.resp_p = 53;
            t_corr_event(&tc, &t_flow_event, &fl);
        }
    CHECK_EQ(t_lines(&tc.out), 1);
    CHECK(t_has(&tc.out, "\"correlation.group\":{\"src_ip\":\"10.0.0.1\"}"));
    CHECK(t_has(&tc.out, "\"correlation.count\":1001"));
    t_corr_close(&tc);
}

/* ---- the automaton against a naive search ---- */

static uint32_t t_rand_state = 12345;
static uint32_t t_rand(void)
{
    t_rand_state = t_rand_state * 1103515245u + 12345u;
    return t_rand_state >> 8;
}

struct t_acpat {
    uint8_t p[8];
    size_t len;
    enum ac_anchor anchor;
};

static void t_ac_hit(void *arg, uint32_t id)
{
    ((uint8_t *)arg)[id] = 1;
}

static bool t_ac_naive(const struct t_acpat *p, const uint8_t *text, size_t n, bool fold)
{
    for (size_t at = 0; at + p->len <= n; at++) {
        if ((p->anchor & AC_PREFIX) && at != 0)
            continue;
        if ((p->anchor & AC_SUFFIX) && at + p->len != n)
            continue;
        size_t k = 0;
        for (; k < p->len; k++) {
            uint8_t c = text[at + k];
            if (fold && c >= 'A' && c <= 'Z')
                c |= 0x20;
            if (c != p->p[k])
                break;
        }
        if (k == p->len)
            return true;
    }
    return false;
}

/* npat random patterns over alphabet; filler patterns (never in the texts) grow the automaton
 * past the DFA size when big, so the trie walk is checked too. */
static void t_ac_run(const char *alphabet, size_t npat, size_t filler, bool fold)
{
    size_t na = strlen(alphabet);
    struct t_acpat *pats = calloc(npat, sizeof(*pats));
    uint8_t *got = calloc(npat + filler, 1);
    struct ac_build *b = ac_build_new(fold);
    for (size_t i = 0; i < npat; i++) {
        pats[i].len = 1 + t_rand() % 6;
        for (size_t k = 0; k < pats[i].len; k++) {
            uint8_t c = (uint8_t)alphabet[t_rand() % na];
            pats[i].p[k] = fold && c >= 'A' && c <= 'Z' ? (uint8_t)(c | 0x20) : c;
        }
        pats[i].anchor = (enum ac_anchor)(t_rand() % 4);
        CHECK(ac_add(b, pats[i].p, pats[i].len, (uint32_t)i, pats[i].anchor) == 0);
    }
    for (size_t i = 0; i < filler; i++) { /* bytes 0x80-0xff: never in the texts */
        uint8_t f[64];
        for (size_t k = 0; k < sizeof(f); k++)
            f[k] = (uint8_t)(0x80 | (t_rand() % 128));
        CHECK(ac_add(b, f, sizeof(f), (uint32_t)(npat + i), AC_CONTAINS) == 0);
    }
    struct ac *a = ac_finish(b);
    CHECK(a != NULL);
    for (int round = 0; a && round < 300; round++) {
        uint8_t text[40];
        size_t n = t_rand() % sizeof(text);
        for (size_t k = 0; k < n; k++)
            text[k] = (uint8_t)alphabet[t_rand() % na];
        memset(got, 0, npat + filler);
        ac_scan(a, text, n, t_ac_hit, got);
        for (size_t i = 0; i < npat; i++)
            if (got[i] != t_ac_naive(&pats[i], text, n, fold))
                tl_check_report(__FILE__, __LINE__, "pattern %zu '%.*s' anchor %d on '%.*s': %d", i,
                                (int)pats[i].len, pats[i].p, pats[i].anchor, (int)n, text, got[i]);
    }
    ac_free(a);
    free(got);
    free(pats);
}

static void test_ac_crosscheck(void)
{
    t_ac_run("ab", 40, 0, false);
    t_ac_run("abcAB./", 300, 0, false);
    t_ac_run("abcAB./", 300, 0, true);
    t_ac_run("abcAB./", 300, 2000, true); /* ~128k states x ~135 classes: no DFA */
}

static void test_cleanup(void)
{
    tl_rules_scratch_free(t_sc);
    t_sc = NULL;
    t_unlink("rule.yml");
    if (t_dir[0])
        rmdir(t_dir);
    t_dir[0] = '\0';
}

const struct tl_test tl_tests_sigma[] = {
    { "ac_crosscheck", test_ac_crosscheck },
    { "maps_and_lists", test_maps_and_lists },
    { "keywords", test_keywords },
    { "null_and_empty", test_null_and_empty },
    { "wildcards_and_escapes", test_wildcards_and_escapes },
    { "case", test_case },
    { "numbers_and_booleans", test_numbers_and_booleans },
    { "string_modifiers", test_string_modifiers },
    { "regex", test_regex },
    { "cidr", test_cidr },
    { "encodings", test_encodings },
    { "windash", test_windash },
    { "fieldref", test_fieldref },
    { "expand", test_expand },
    { "conditions", test_conditions },
    { "multivalued", test_multivalued },
    { "rejections", test_rejections },
    { "routing", test_routing },
    { "rdp_and_zeek_without_service", test_rdp_and_zeek_without_service },
    { "aliases_and_derived", test_aliases_and_derived },
    { "ldap_view", test_ldap_view },
    { "unknown_fields", test_unknown_fields },
    { "phases", test_phases },
    { "alert_json", test_alert_json },
    { "filters_and_documents", test_filters_and_documents },
    { "paths", test_paths },
    { "corr_event_count", test_corr_event_count },
    { "corr_value_count_and_generate", test_corr_value_count_and_generate },
    { "corr_temporal", test_corr_temporal },
    { "corr_sum_avg_and_window_end", test_corr_sum_avg_and_window_end },
    { "corr_chain_and_aliases", test_corr_chain_and_aliases },
    { "corr_legacy_and_state_cap", test_corr_legacy_and_state_cap },
    { "corr_deterministic", test_corr_deterministic },
    { "corr_rejections", test_corr_rejections },
    { "shared_samples", test_shared_samples },
    { "cleanup", test_cleanup },
    { NULL, NULL },
};
