/*
 * domain.c - canonical names, kinds, registered domains and suffixes (libpsl),
 * the fleet hash. Every input is also run from an exact-size heap copy, so
 * ASan sees any read past its end.
 */
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/time.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "domain.h"

static struct tl_domain_ctx *ctx_with(const char *key, const char *value)
{
    struct tl_config cfg;
    char err[256];
    tl_config_defaults(&cfg);
    if (key && tl_config_set(&cfg, key, value, err, sizeof(err)) != 0)
        fprintf(stderr, "  config: %s\n", err);
    struct tl_domain_ctx *c = tl_domain_ctx_new(&cfg, err, sizeof(err));
    if (!c)
        fprintf(stderr, "  domain ctx: %s\n", err);
    tl_config_free(&cfg);
    return c;
}

/* Classifies n bytes of in, from the caller's buffer and from an exact-size copy. */
static enum tl_dom_kind classify_n(const struct tl_domain_ctx *c, const char *in, size_t n,
                                   struct tl_domain_name *out)
{
    struct tl_domain_name again;
    char *copy = tl_test_dup(in, n);
    enum tl_dom_kind k = tl_domain_name(c, copy, n, out);
    free(copy);
    CHECK_EQ(tl_domain_name(c, in, n, &again), k);
    CHECK(strcmp(again.name, out->name) == 0 && strcmp(again.registered, out->registered) == 0 &&
          strcmp(again.suffix, out->suffix) == 0);
    CHECK_EQ(out->kind, k);
    CHECK(memchr(out->name, '\0', TL_DOMAIN_MAX) != NULL);
    return k;
}

static enum tl_dom_kind classify(const struct tl_domain_ctx *c, const char *in,
                                 struct tl_domain_name *out)
{
    return classify_n(c, in, strlen(in), out);
}

#define EXPECT(c, in, want_kind, want_name, want_reg, want_suf)                                    \
    do {                                                                                           \
        struct tl_domain_name nm_;                                                                 \
        enum tl_dom_kind k_ = classify(c, in, &nm_);                                               \
        if (k_ != (want_kind))                                                                     \
            fprintf(stderr, "  input \"%s\"\n", in);                                               \
        CHECK_EQ(k_, want_kind);                                                                   \
        CHECK_STR(nm_.name, want_name);                                                            \
        CHECK_STR(nm_.registered, want_reg);                                                       \
        CHECK_STR(nm_.suffix, want_suf);                                                           \
    } while (0)

static void test_canonical(void)
{
    struct tl_domain_ctx *c = ctx_with(NULL, NULL);
    EXPECT(c, "www.example.com", TL_DOM_COUNTED, "www.example.com", "example.com", "com");
    EXPECT(c, "WWW.Example.COM.", TL_DOM_COUNTED, "www.example.com", "example.com", "com");
    EXPECT(c, "example.com:8080", TL_DOM_COUNTED, "example.com", "example.com", "com");
    EXPECT(c, "example.com.:80", TL_DOM_COUNTED, "example.com", "example.com", "com");
    EXPECT(c, "_ldap._tcp.dc._msdcs.example.org", TL_DOM_COUNTED,
           "_ldap._tcp.dc._msdcs.example.org", "example.org", "org");
    EXPECT(c, "x.y.example.co.uk", TL_DOM_COUNTED, "x.y.example.co.uk", "example.co.uk", "co.uk");
    EXPECT(c, "example.com..", TL_DOM_INVALID, "", "", "");
    EXPECT(c, ".example.com", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "a..example.com", TL_DOM_INVALID, "", "", "");
    EXPECT(c, ".", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "exa mple.com", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "*.example.com", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "example.com:", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "example.com:http", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "example.com:123456", TL_DOM_INVALID, "", "", "");
    EXPECT(c, ":80", TL_DOM_INVALID, "", "", "");
    tl_domain_ctx_free(c);
}

static void test_escapes(void)
{
    struct tl_domain_ctx *c = ctx_with(NULL, NULL);
    /* As dissect/dns.c writes them: bytes outside 0x20..0x7e and the backslash. */
    EXPECT(c, "ex\\x41mple.com", TL_DOM_COUNTED, "example.com", "example.com", "com");
    EXPECT(c, "m\\xc3\\xbcnchen.de", TL_DOM_COUNTED, "münchen.de", "münchen.de", "de");
    EXPECT(c, "a\\x5cb.example.com", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "a\\\\b.example.com", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "a\\qb.example.com", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "\\x00.example.com", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "a\\x0a.example.com", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "example.com\\x4", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "example.com\\", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "\\xff\\xfe.example.com", TL_DOM_INVALID, "", "", "");      /* not UTF-8 */
    EXPECT(c, "\\xc0\\xaf.example.com", TL_DOM_INVALID, "", "", "");      /* overlong */
    EXPECT(c, "\\xed\\xa0\\x80.example.com", TL_DOM_INVALID, "", "", ""); /* surrogate */
    tl_domain_ctx_free(c);
}

static void test_idn(void)
{
    struct tl_domain_ctx *c = ctx_with(NULL, NULL);
    EXPECT(c, "www.xn--mnchen-3ya.de", TL_DOM_COUNTED, "www.münchen.de", "münchen.de", "de");
    EXPECT(c, "XN--MNCHEN-3YA.DE", TL_DOM_COUNTED, "münchen.de", "münchen.de", "de");
    EXPECT(c, "MÜNCHEN.de", TL_DOM_COUNTED, "münchen.de", "münchen.de", "de");
    EXPECT(c, "www.xn--fsqu00a.xn--fiqs8s", TL_DOM_COUNTED, "www.例子.中国", "例子.中国", "中国");
    EXPECT(c, "食狮.公司.cn", TL_DOM_COUNTED, "食狮.公司.cn", "食狮.公司.cn", "公司.cn");
    EXPECT(c, "ΒΌΛΟΣ.com", TL_DOM_COUNTED, "βόλοσ.com", "βόλοσ.com", "com");
    /* A-labels that do not round-trip stay as they came: never an alias of another name. */
    EXPECT(c, "xn--ls8h.la", TL_DOM_COUNTED, "xn--ls8h.la", "xn--ls8h.la", "la");
    EXPECT(c, "xn--zz.example.com", TL_DOM_COUNTED, "xn--zz.example.com", "example.com", "com");
    EXPECT(c, "xn--a.example.com", TL_DOM_COUNTED, "xn--a.example.com", "example.com", "com");
    EXPECT(c, "xn--.example.com", TL_DOM_COUNTED, "xn--.example.com", "example.com", "com");
    tl_domain_ctx_free(c);
}

static void test_suffix_rules(void)
{
    struct tl_domain_ctx *c = ctx_with(NULL, NULL);
    /* *.ck with the exception !www.ck */
    EXPECT(c, "a.b.ck", TL_DOM_COUNTED, "a.b.ck", "a.b.ck", "b.ck");
    EXPECT(c, "x.a.b.ck", TL_DOM_COUNTED, "x.a.b.ck", "a.b.ck", "b.ck");
    EXPECT(c, "www.ck", TL_DOM_COUNTED, "www.ck", "www.ck", "ck");
    EXPECT(c, "x.www.ck", TL_DOM_COUNTED, "x.www.ck", "www.ck", "ck");
    EXPECT(c, "b.ck", TL_DOM_NO_SUFFIX, "b.ck", "", "b.ck");
    /* *.kawasaki.jp with !city.kawasaki.jp */
    EXPECT(c, "a.city.kawasaki.jp", TL_DOM_COUNTED, "a.city.kawasaki.jp", "city.kawasaki.jp",
           "kawasaki.jp");
    EXPECT(c, "a.foo.kawasaki.jp", TL_DOM_COUNTED, "a.foo.kawasaki.jp", "a.foo.kawasaki.jp",
           "foo.kawasaki.jp");
    /* The private section: each github.io site is its own registered domain. */
    EXPECT(c, "a.github.io", TL_DOM_COUNTED, "a.github.io", "a.github.io", "github.io");
    EXPECT(c, "www.b.github.io", TL_DOM_COUNTED, "www.b.github.io", "b.github.io", "github.io");
    EXPECT(c, "github.io", TL_DOM_NO_SUFFIX, "github.io", "", "github.io");
    EXPECT(c, "co.uk", TL_DOM_NO_SUFFIX, "co.uk", "", "co.uk");
    /* A top-level label the list does not know: libpsl's implicit * rule is not trusted. */
    EXPECT(c, "host.example.unknowntld", TL_DOM_NO_SUFFIX, "host.example.unknowntld", "", "");
    tl_domain_ctx_free(c);
}

static void test_not_counted(void)
{
    struct tl_domain_ctx *c =
        ctx_with("domains.internal_zones", "Corp.Example.COM., .lab.test2.org");
    EXPECT(c, "localhost", TL_DOM_SINGLE, "localhost", "", "");
    EXPECT(c, "WPAD.", TL_DOM_SINGLE, "wpad", "", "");
    EXPECT(c, "com", TL_DOM_SINGLE, "com", "", "com");
    EXPECT(c, "4.3.2.1.in-addr.arpa", TL_DOM_ARPA, "4.3.2.1.in-addr.arpa", "1.in-addr.arpa",
           "in-addr.arpa");
    EXPECT(c, "printer.local", TL_DOM_LOCAL, "printer.local", "", "");
    EXPECT(c, "nas.home.arpa", TL_DOM_LOCAL, "nas.home.arpa", "home.arpa", "arpa");
    EXPECT(c, "db.internal", TL_DOM_LOCAL, "db.internal", "", "");
    EXPECT(c, "x.y.onion", TL_DOM_LOCAL, "x.y.onion", "y.onion", "onion");
    EXPECT(c, "fileserver.corp", TL_DOM_LOCAL, "fileserver.corp", "", "");
    EXPECT(c, "dc1.corp.example.com", TL_DOM_INTERNAL, "dc1.corp.example.com", "example.com",
           "com");
    EXPECT(c, "corp.example.com", TL_DOM_INTERNAL, "corp.example.com", "example.com", "com");
    EXPECT(c, "notcorp.example.com", TL_DOM_COUNTED, "notcorp.example.com", "example.com", "com");
    EXPECT(c, "x.LAB.test2.org:8443", TL_DOM_INTERNAL, "x.lab.test2.org", "test2.org", "org");
    tl_domain_ctx_free(c);
}

static void test_ip_literals(void)
{
    struct tl_domain_ctx *c = ctx_with(NULL, NULL);
    EXPECT(c, "192.0.2.1", TL_DOM_IP, "192.0.2.1", "", "");
    EXPECT(c, "192.0.2.1.", TL_DOM_IP, "192.0.2.1", "", "");
    EXPECT(c, "192.0.2.1:8080", TL_DOM_IP, "192.0.2.1", "", "");
    EXPECT(c, "127.1", TL_DOM_IP, "127.1", "", "");
    EXPECT(c, "0x7f.0.0.1", TL_DOM_IP, "0x7f.0.0.1", "", "");
    EXPECT(c, "[2001:DB8::1]:443", TL_DOM_IP, "2001:db8::1", "", "");
    EXPECT(c, "[::1]", TL_DOM_IP, "::1", "", "");
    EXPECT(c, "2001:db8::1", TL_DOM_IP, "2001:db8::1", "", "");
    EXPECT(c, "::ffff:192.0.2.1", TL_DOM_IP, "::ffff:192.0.2.1", "", "");
    EXPECT(c, "[::1", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "[::1]x", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "[::1]:", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "[zz::1]:80", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "[]", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "fe80::1%eth0", TL_DOM_INVALID, "", "", "");
    EXPECT(c, "1.2.3.4.5", TL_DOM_NO_SUFFIX, "1.2.3.4.5", "", "");
    EXPECT(c, "1e100.net", TL_DOM_COUNTED, "1e100.net", "1e100.net", "net");
    tl_domain_ctx_free(c);
}

/* n labels of one letter: 2n - 1 octets. */
static void labels(char *out, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = 'a';
        out[2 * i + 1] = '.';
    }
    out[2 * n - 1] = '\0';
}

static void test_hostile(void)
{
    struct tl_domain_ctx *c = ctx_with(NULL, NULL);
    struct tl_domain_name nm;
    char buf[2048];

    /* 253 octets is the longest name; 254 is too long. */
    memset(buf, 'a', sizeof(buf));
    for (size_t i = 63; i < 240; i += 64)
        buf[i] = '.';
    memcpy(buf + 249, ".com", 5);
    CHECK_EQ(strlen(buf), 253);
    CHECK_EQ(classify(c, buf, &nm), TL_DOM_COUNTED);
    CHECK_EQ(strlen(nm.name), 253);
    memcpy(buf + 249, "a.com", 6);
    CHECK_EQ(classify(c, buf, &nm), TL_DOM_INVALID);
    /* 253 octets and a trailing dot is still 253. */
    memcpy(buf + 249, ".com.", 6);
    CHECK_EQ(classify(c, buf, &nm), TL_DOM_COUNTED);

    /* A 63-octet label is fine, 64 is not. */
    memset(buf, 'b', 63);
    memcpy(buf + 63, ".com", 5);
    CHECK_EQ(classify(c, buf, &nm), TL_DOM_COUNTED);
    memset(buf, 'b', 64);
    memcpy(buf + 64, ".com", 5);
    CHECK_EQ(classify(c, buf, &nm), TL_DOM_INVALID);

    /* 127 labels fill 253 octets; 128 do not fit. */
    labels(buf, 127);
    CHECK_EQ(classify(c, buf, &nm), TL_DOM_NO_SUFFIX);
    labels(buf, 128);
    CHECK_EQ(classify(c, buf, &nm), TL_DOM_INVALID);

    /* Escapes that decode past any name, and input far longer than one. */
    buf[0] = '\0';
    for (int i = 0; i < 300; i++)
        strcat(buf, "\\x61");
    CHECK_EQ(classify(c, buf, &nm), TL_DOM_INVALID);
    memset(buf, 'a', sizeof(buf));
    CHECK_EQ(classify_n(c, buf, sizeof(buf), &nm), TL_DOM_INVALID);

    /* Every byte value alone, and inside a name. */
    for (int b = 0; b < 256; b++) {
        char one[1] = { (char)b }, mid[16];
        classify_n(c, one, 1, &nm);
        memcpy(mid, "ab", 2);
        mid[2] = (char)b;
        memcpy(mid + 3, "c.com", 5);
        enum tl_dom_kind k = classify_n(c, mid, 8, &nm);
        bool ok = (b >= 'a' && b <= 'z') || (b >= 'A' && b <= 'Z') || (b >= '0' && b <= '9') ||
                  b == '-' || b == '_';
        if (b == '.')
            CHECK_EQ(k, TL_DOM_COUNTED);
        else if (ok != (k == TL_DOM_COUNTED))
            tl_check_report(__FILE__, __LINE__, "byte 0x%02x: kind %d", b, k);
    }
    tl_domain_ctx_free(c);
}

/* Random inputs from an alphabet rich in separators and escapes: invariants hold, no crash. */
static void test_random(void)
{
    static const char alpha[] = "ab.-_:[]\\x0c1f9eA\xc3\xbc\xff";
    struct tl_domain_ctx *c = ctx_with(NULL, NULL);
    uint64_t s = 0x9e3779b97f4a7c15ULL;
    char buf[600];

    for (int i = 0; i < 20000; i++) {
        s = s * 6364136223846793005ULL + 1442695040888963407ULL;
        size_t n = (size_t)(s >> 33) % (i < 19000 ? 40 : sizeof(buf));
        for (size_t j = 0; j < n; j++) {
            s = s * 6364136223846793005ULL + 1442695040888963407ULL;
            buf[j] = alpha[(s >> 33) % (sizeof(alpha) - 1)];
        }
        struct tl_domain_name nm;
        enum tl_dom_kind k = classify_n(c, buf, n, &nm);
        CHECK(k <= TL_DOM_INVALID);
        CHECK(strlen(nm.name) <= 253);
        if (k == TL_DOM_COUNTED) {
            size_t nl = strlen(nm.name), rl = strlen(nm.registered);
            CHECK(rl > 0 && rl <= nl && strcmp(nm.name + nl - rl, nm.registered) == 0);
        }
    }
    tl_domain_ctx_free(c);
}

static void test_psl_file(void)
{
    char path[] = "/tmp/tapline-psl-XXXXXX", err[256];
    int fd = mkstemp(path);
    static const char list[] = "// test list\ncom\nio\nuk\nco.uk\n*.ck\n!www.ck\n"
                               "// ===BEGIN PRIVATE DOMAINS===\nexample.io\n";
    CHECK(fd >= 0 && write(fd, list, sizeof(list) - 1) == (ssize_t)(sizeof(list) - 1));
    close(fd);
    struct timeval tv[2] = { { 1700000000, 0 }, { 1700000000, 0 } }; /* 2023-11-14 */
    CHECK(utimes(path, tv) == 0);

    struct tl_domain_ctx *c = ctx_with("domains.psl_file", path);
    CHECK(c != NULL);
    if (c) {
        CHECK_STR(tl_domain_psl_date(c), "2023-11-14");
        EXPECT(c, "a.b.example.io", TL_DOM_COUNTED, "a.b.example.io", "b.example.io", "example.io");
        EXPECT(c, "www.example.co.uk", TL_DOM_COUNTED, "www.example.co.uk", "example.co.uk",
               "co.uk");
        EXPECT(c, "a.b.ck", TL_DOM_COUNTED, "a.b.ck", "a.b.ck", "b.ck");
        /* Not the built-in list: github.io is no suffix here, and xyz no top-level label. */
        EXPECT(c, "www.github.io", TL_DOM_COUNTED, "www.github.io", "github.io", "io");
        EXPECT(c, "a.example.xyz", TL_DOM_NO_SUFFIX, "a.example.xyz", "", "");
        tl_domain_ctx_free(c);
    }

    struct tl_config cfg;
    tl_config_defaults(&cfg);
    tl_config_set(&cfg, "domains.psl_file", "/nonexistent/psl.dat", err, sizeof(err));
    CHECK(tl_domain_ctx_new(&cfg, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "/nonexistent/psl.dat") != NULL);
    fd = open(path, O_WRONLY | O_TRUNC);
    close(fd);
    tl_config_set(&cfg, "domains.psl_file", path, err, sizeof(err));
    CHECK(tl_domain_ctx_new(&cfg, err, sizeof(err)) == NULL);
    CHECK(strstr(err, path) != NULL);
    tl_config_free(&cfg);
    unlink(path);

    c = ctx_with(NULL, NULL);
    CHECK(c != NULL);
    if (!c)
        return;
    const char *d = tl_domain_psl_date(c);
    CHECK(strlen(d) == 10 && d[4] == '-' && d[7] == '-' && strncmp(d, "20", 2) == 0);
    tl_domain_ctx_free(c);
}

static void test_hash(void)
{
    uint8_t key[16], msg[15];
    for (int i = 0; i < 16; i++)
        key[i] = (uint8_t)i;
    for (int i = 0; i < 15; i++)
        msg[i] = (uint8_t)i;
    uint64_t k0 = 0, k1 = 0;
    for (int i = 7; i >= 0; i--) {
        k0 = k0 << 8 | key[i];
        k1 = k1 << 8 | key[8 + i];
    }
    /* The SipHash paper's appendix A, and the first entries of its vector table. */
    CHECK_EQ(tl_domain_siphash(k0, k1, msg, 15), 0xa129ca6149be45e5ULL);
    CHECK_EQ(tl_domain_siphash(k0, k1, msg, 0), 0x726fdb47dd0e0e31ULL);
    CHECK_EQ(tl_domain_siphash(k0, k1, msg, 8), 0x93f5f5799a932462ULL);

    /* The fleet key is fixed: these values must never change. */
    uint8_t ip[16] = { [10] = 0xff, [11] = 0xff, [12] = 192, [13] = 0, [14] = 2, [15] = 1 };
    CHECK_EQ(tl_domain_hash(ip, 16), tl_domain_hash(ip, 16));
    CHECK(tl_domain_hash(ip, 16) != tl_domain_hash(ip, 15));
    CHECK_EQ(tl_domain_hash("alice", 5), 0x471615e510ef39d9ULL);
}

static void test_enrich_names(void)
{
    struct tl_domain_ctx *c = ctx_with(NULL, NULL);
    struct tl_domain_name nm;
    struct tl_domain_enrich e;
    memset(&e, 0xab, sizeof(e));
    classify(c, "www.a.github.io", &nm);
    tl_domain_enrich_names(&e, &nm);
    CHECK_STR(e.registered_domain, "a.github.io");
    CHECK_STR(e.public_suffix, "github.io");
    CHECK(!e.counted && !e.is_new && e.hosts_30d == 0 && e.prevalence == 0.0);
    CHECK(tl_domain_names_fields.ext == &tl_domain_stats_fields);
    for (size_t i = 0; i < tl_domain_stats_fields.nfields; i++)
        CHECK(!tl_field_present(&tl_domain_stats_fields.fields[i], &e)); /* LATE on counted */
    e.counted = true;
    for (size_t i = 0; i < tl_domain_stats_fields.nfields; i++)
        CHECK(tl_field_present(&tl_domain_stats_fields.fields[i], &e));
    tl_domain_ctx_free(c);
}

/* Each thread remembers recent answers; another context (other zones, another list) never
 * sees them. */
static void test_memo(void)
{
    struct tl_domain_ctx *a = ctx_with(NULL, NULL);
    struct tl_domain_ctx *b = ctx_with("domains.internal_zones", "corp.example.com");
    struct tl_domain_name nm;
    for (int round = 0; round < 3; round++) {
        CHECK_EQ(tl_domain_name(a, "dc1.corp.example.com", 20, &nm), TL_DOM_COUNTED);
        CHECK_STR(nm.registered, "example.com");
        CHECK_EQ(tl_domain_name(b, "dc1.corp.example.com", 20, &nm), TL_DOM_INTERNAL);
        CHECK_STR(nm.registered, "example.com");
        CHECK_STR(nm.suffix, "com");
    }
    tl_domain_ctx_free(b);
    b = ctx_with("domains.internal_zones", "example.com");
    CHECK_EQ(tl_domain_name(b, "dc1.corp.example.com", 20, &nm), TL_DOM_INTERNAL);
    tl_domain_ctx_free(b);
    b = ctx_with(NULL, NULL); /* perhaps at the same address: still its own */
    CHECK_EQ(tl_domain_name(b, "dc1.corp.example.com", 20, &nm), TL_DOM_COUNTED);
    /* A name too long for the memo, twice. */
    const char *longname = "a-rather-long-label-for-the-memo.another-long-label-here.example.net";
    for (int round = 0; round < 2; round++) {
        CHECK_EQ(tl_domain_name(b, longname, strlen(longname), &nm), TL_DOM_COUNTED);
        CHECK_STR(nm.registered, "example.net");
    }
    tl_domain_ctx_free(a);
    tl_domain_ctx_free(b);
}

struct race {
    const struct tl_domain_ctx *c;
    int bad;
};

static void *race_run(void *arg)
{
    static const char *const names[] = { "www.Example.com", "xn--mnchen-3ya.de", "a.b.ck",
                                         "MÜNCHEN.de",      "[::1]:80",          "x.github.io" };
    static const char *const want[] = { "example.com", "münchen.de", "a.b.ck",
                                        "münchen.de",  "",           "x.github.io" };
    struct race *r = arg;
    for (int i = 0; i < 3000; i++) {
        struct tl_domain_name nm;
        size_t k = (size_t)i % TL_ARRAY_LEN(names);
        tl_domain_name(r->c, names[k], strlen(names[k]), &nm);
        if (strcmp(nm.registered, want[k]) != 0)
            r->bad++;
    }
    return NULL;
}

/* Workers share one context. */
static void test_threads(void)
{
    struct tl_domain_ctx *c = ctx_with(NULL, NULL);
    pthread_t t[4];
    struct race r[4];
    for (int i = 0; i < 4; i++) {
        r[i] = (struct race){ c, 0 };
        pthread_create(&t[i], NULL, race_run, &r[i]);
    }
    for (int i = 0; i < 4; i++) {
        pthread_join(t[i], NULL);
        CHECK_EQ(r[i].bad, 0);
    }
    tl_domain_ctx_free(c);
}

const struct tl_test tl_tests_domain[] = {
    { "canonical", test_canonical },
    { "escapes", test_escapes },
    { "idn", test_idn },
    { "suffix_rules", test_suffix_rules },
    { "not_counted", test_not_counted },
    { "ip_literals", test_ip_literals },
    { "hostile", test_hostile },
    { "random", test_random },
    { "psl_file", test_psl_file },
    { "hash", test_hash },
    { "enrich_names", test_enrich_names },
    { "memo", test_memo },
    { "threads", test_threads },
    { NULL, NULL },
};
