/*
 * jsonread.c - the strict JSON reader: what it accepts and refuses (RFC 8259,
 * RFC 3629), every cut of a valid line refused in an exact-size copy, walks,
 * unescaping with cuts on character boundaries, numbers and times.
 */
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "check.h"
#include "jsonread.h"

static bool count_member(void *arg, const struct tl_jval *key, const struct tl_jval *val)
{
    (void)key;
    (void)val;
    ++*(unsigned *)arg;
    return false; /* tl_jread_each goes on regardless */
}

/* Both readers agree on every text: the checking one and the one-pass one. */
static bool parses(const char *s, size_t n)
{
    char *p = tl_test_dup(s, n);
    struct tl_jval v, w;
    unsigned members = 0;
    bool ok = tl_jread_object(p, n, &v), each = tl_jread_each(p, n, &w, count_member, &members);
    if (ok != each)
        tl_check_report(__FILE__, __LINE__, "the readers disagree on \"%.*s\"", (int)n, s);
    if (ok && (v.text.ptr != w.text.ptr || v.text.len != w.text.len))
        tl_check_report(__FILE__, __LINE__, "the readers' objects differ");
    free(p);
    return ok;
}

#define ACCEPT(s) CHECK(parses(s, sizeof(s) - 1))
#define REFUSE(s) CHECK(!parses(s, sizeof(s) - 1))

static void test_accepts(void)
{
    ACCEPT("{}");
    ACCEPT(" \t{ }\r\n");
    ACCEPT("{\"a\":1,\"b\":[true,false,null],\"c\":{\"d\":\"e\"}}");
    ACCEPT("{\"n\":[0,-0,1.5,-2e10,3E+2,4e-3,123456789012345678901234567890]}");
    ACCEPT("{\"s\":\"\\\"\\\\\\/\\b\\f\\n\\r\\t\\u00e9\\ud83d\\ude00\"}");
    ACCEPT("{\"s\":\"caf\xc3\xa9 \xe2\x82\xac \xf0\x9f\x98\x80\"}");
    ACCEPT("{\"\":\"\"}");
}

static void test_refuses(void)
{
    REFUSE("");
    REFUSE("   ");
    REFUSE("[]");
    REFUSE("\"x\"");
    REFUSE("{");
    REFUSE("{\"a\"}");
    REFUSE("{\"a\":}");
    REFUSE("{\"a\":1,}");
    REFUSE("{,}");
    REFUSE("{a:1}");
    REFUSE("{\"a\":01}");
    REFUSE("{\"a\":1.}");
    REFUSE("{\"a\":.5}");
    REFUSE("{\"a\":-}");
    REFUSE("{\"a\":+1}");
    REFUSE("{\"a\":1e}");
    REFUSE("{\"a\":tru}");
    REFUSE("{\"a\":nul}");
    REFUSE("{\"a\":[1,]}");
    REFUSE("{\"a\":[1 2]}");
    REFUSE("{\"a\":\"\\x\"}");
    REFUSE("{\"a\":\"\\u12\"}");
    REFUSE("{\"a\":\"\\ud800\"}");        /* a lone high surrogate */
    REFUSE("{\"a\":\"\\udc00\\ud800\"}"); /* low before high */
    REFUSE("{\"a\":\"\\ud800\\u0041\"}");
    REFUSE("{\"a\":\"tab\there\"}");
    REFUSE("{\"a\":\"\xc0\x80\"}");         /* overlong NUL */
    REFUSE("{\"a\":\"\xe0\x80\xaf\"}");     /* overlong slash */
    REFUSE("{\"a\":\"\xed\xa0\x80\"}");     /* a surrogate in UTF-8 */
    REFUSE("{\"a\":\"\xf4\x90\x80\x80\"}"); /* past U+10FFFF */
    REFUSE("{\"a\":\"\xc3\"}");             /* cut sequence */
    REFUSE("{\"a\":\"\x80\"}");             /* lone continuation */
    REFUSE("{\"a\":\"\xff\"}");
    REFUSE("{\"a\":\"open}");
    REFUSE("{} x");
    REFUSE("{}{}");
    REFUSE("{\"a\":1}\0");
    char nul[] = "{\"a\":\"x\0y\"}";
    CHECK(!parses(nul, sizeof(nul) - 1));
}

/* TL_JREAD_DEPTH levels are read, one more is refused. */
static void test_depth(void)
{
    char buf[2 * (TL_JREAD_DEPTH + 2) + 8];
    for (int levels = TL_JREAD_DEPTH; levels <= TL_JREAD_DEPTH + 1; levels++) {
        size_t n = 0;
        buf[n++] = '{';
        buf[n++] = '"';
        buf[n++] = '"';
        buf[n++] = ':';
        for (int i = 1; i < levels; i++)
            buf[n++] = '[';
        buf[n++] = '1';
        for (int i = 1; i < levels; i++)
            buf[n++] = ']';
        buf[n++] = '}';
        CHECK_EQ(parses(buf, n), levels <= TL_JREAD_DEPTH);
    }
}

static const char line[] =
    "{\"ts\":\"2026-12-06T18:31:36.238737Z\",\"event_type\":\"kerberos\",\"sensor\":\"vm\","
    "\"client\":\"eve\\u00e9\",\"success\":false,\"error_code\":25,\"req_etypes\":[\"aes\","
    "\"rc4\"],\"matched\":{\"x\":[1,{\"y\":null}]},\"rtt\":0.000909}";

/* Every proper prefix of a valid line is refused, read in an exact-size copy. */
static void test_every_cut(void)
{
    size_t n = sizeof(line) - 1;
    CHECK(parses(line, n));
    for (size_t cut = 0; cut < n; cut++)
        CHECK(!parses(line, cut));
}

struct walk {
    char keys[16][32];
    struct tl_jval vals[16];
    int n;
};

static bool walk_member(void *arg, const struct tl_jval *key, const struct tl_jval *val)
{
    struct walk *w = arg;
    if (w->n == 16)
        return false;
    tl_jread_str(key, w->keys[w->n], sizeof(w->keys[0]));
    w->vals[w->n++] = *val;
    return true;
}

static bool walk_elem(void *arg, const struct tl_jval *val)
{
    return walk_member(arg, val, val);
}

static void test_walks(void)
{
    struct tl_jval obj;
    struct walk w = { .n = 0 }, each = { .n = 0 };
    char s[32];

    CHECK(tl_jread_object(line, sizeof(line) - 1, &obj));
    tl_jread_members(&obj, walk_member, &w);
    CHECK_EQ(w.n, 9);
    CHECK(tl_jread_each(line, sizeof(line) - 1, &obj, walk_member, &each));
    CHECK_EQ(each.n, 9);
    CHECK_MEM(each.vals[8].text.ptr, each.vals[8].text.len, "0.000909");
    CHECK_STR(w.keys[0], "ts");
    CHECK_STR(w.keys[3], "client");
    CHECK(tl_jread_streq(&w.vals[3], "eve\xc3\xa9"));
    CHECK(!tl_jread_streq(&w.vals[3], "eve"));
    CHECK(!tl_jread_streq(&w.vals[3], "eve\xc3\xa9x"));
    CHECK_EQ(w.vals[4].kind, TL_J_FALSE);
    uint64_t u = 0;
    CHECK(tl_jread_u64(&w.vals[5], &u));
    CHECK_EQ(u, 25);
    CHECK_EQ(w.vals[6].kind, TL_J_ARR);
    CHECK_MEM(w.vals[7].text.ptr, w.vals[7].text.len, "{\"x\":[1,{\"y\":null}]}");
    double d = 0;
    CHECK(tl_jread_f64(&w.vals[8], &d));
    CHECK(d > 0.000908 && d < 0.00091);

    struct walk e = { .n = 0 };
    tl_jread_elements(&w.vals[6], walk_elem, &e);
    CHECK_EQ(e.n, 2);
    CHECK(tl_jread_streq(&e.vals[1], "rc4"));
    CHECK_EQ(tl_jread_str(&e.vals[0], s, sizeof(s)), 3);
    /* Walks of the wrong kind and stops part way. */
    struct walk none = { .n = 0 };
    tl_jread_elements(&obj, walk_elem, &none);
    tl_jread_members(&w.vals[6], walk_member, &none);
    CHECK_EQ(none.n, 0);
    none.n = 15;
    tl_jread_members(&obj, walk_member, &none);
    CHECK_EQ(none.n, 16);
}

static void test_strings(void)
{
    struct tl_jval obj;
    struct walk w = { .n = 0 };
    static const char text[] = "{\"a\":\"caf\\u00e9!\",\"b\":7}";
    char s[8];

    CHECK(tl_jread_object(text, sizeof(text) - 1, &obj));
    tl_jread_members(&obj, walk_member, &w);
    CHECK_EQ(tl_jread_str(&w.vals[0], s, sizeof(s)), 6);
    CHECK_STR(s, "caf\xc3\xa9!");
    CHECK_EQ(tl_jread_str(&w.vals[0], s, 6), 5); /* 5 bytes and the NUL */
    CHECK_STR(s, "caf\xc3\xa9");
    CHECK_EQ(tl_jread_str(&w.vals[0], s, 5), 3); /* never half of the é */
    CHECK_STR(s, "caf");
    CHECK_EQ(tl_jread_str(&w.vals[0], s, 1), 0);
    CHECK_STR(s, "");
    CHECK_EQ(tl_jread_str(&w.vals[1], s, sizeof(s)), 0); /* not a string */
    CHECK(!tl_jread_streq(&w.vals[1], "7"));
}

static bool num(const char *text, uint64_t *u, double *d)
{
    struct tl_jval v = { TL_J_NUM, { text, strlen(text) } };
    return tl_jread_u64(&v, u) && tl_jread_f64(&v, d);
}

static void test_numbers(void)
{
    uint64_t u = 0;
    double d = 0;
    CHECK(num("18446744073709551615", &u, &d));
    CHECK_EQ(u, UINT64_MAX);
    CHECK(!num("18446744073709551616", &u, &d));
    CHECK(!num("-1", &u, &d));
    CHECK(!num("1.5", &u, &d));
    CHECK(!num("1e3", &u, &d));
    struct tl_jval s = { TL_J_STR, { "\"1\"", 3 } };
    CHECK(!tl_jread_u64(&s, &u));
    CHECK(!tl_jread_f64(&s, &d));
}

static bool ts(const char *text, uint64_t *us)
{
    char q[64];
    snprintf(q, sizeof(q), "\"%s\"", text);
    struct tl_jval v = { TL_J_STR, { q, strlen(q) } };
    return tl_jread_ts(&v, us);
}

static void test_times(void)
{
    uint64_t us = 0;
    struct tm tm = {
        .tm_year = 126, .tm_mon = 11, .tm_mday = 6, .tm_hour = 18, .tm_min = 31, .tm_sec = 36
    };
    uint64_t want = (uint64_t)timegm(&tm) * 1000000u + 238737u;

    CHECK(ts("2026-12-06T18:31:36.238737Z", &us));
    CHECK_EQ(us, want);
    CHECK(ts("2026-12-06T18:31:36.2Z", &us));
    CHECK_EQ(us, want - 38737u);
    CHECK(ts("2026-12-06T18:31:36Z", &us));
    CHECK_EQ(us, want - 238737u);
    CHECK(ts("1970-01-01T00:00:00Z", &us));
    CHECK_EQ(us, 0);
    CHECK(ts("2024-02-29T00:00:00Z", &us));
    CHECK(!ts("2026-02-29T00:00:00Z", &us));
    CHECK(!ts("2100-02-29T00:00:00Z", &us));
    CHECK(ts("2000-02-29T00:00:00Z", &us));
    CHECK(!ts("1969-12-31T23:59:59Z", &us));
    CHECK(!ts("2026-13-01T00:00:00Z", &us));
    CHECK(!ts("2026-12-06T24:00:00Z", &us));
    CHECK(!ts("2026-12-06T18:31:36.1234567Z", &us));
    CHECK(!ts("2026-12-06T18:31:36.Z", &us));
    CHECK(!ts("2026-12-06 18:31:36Z", &us));
    CHECK(!ts("2026-12-06T18:31:36", &us));
    CHECK(!ts("2026-1a-06T18:31:36Z", &us));
    CHECK(!ts("", &us));
}

const struct tl_test tl_tests_jsonread[] = {
    { "accepts", test_accepts },     { "refuses", test_refuses }, { "depth", test_depth },
    { "every_cut", test_every_cut }, { "walks", test_walks },     { "strings", test_strings },
    { "numbers", test_numbers },     { "times", test_times },     { 0 },
};
