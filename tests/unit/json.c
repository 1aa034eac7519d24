/*
 * json.c - the JSON writer: escapes, UTF-8 repair, numbers, times, addresses,
 * every field type through tl_event_json, and a property test that any bytes
 * come out as one valid JSON string.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>

#include "check.h"
#include "event.h"
#include "schema.h"

/* The buffer's contents as a C string (the buffer keeps the NUL past len). */
static const char *buf_str(struct tl_buf *b)
{
    tl_buf_putc(b, '\0');
    b->len--;
    return b->p;
}

/* tl_json_string of exactly n heap bytes (so ASan sees any overread); caller frees b. */
static const char *str_json(struct tl_buf *b, const char *s, size_t n)
{
    char *p = tl_test_dup(s, n);
    b->len = 0;
    tl_json_string(b, p, n);
    free(p);
    return buf_str(b);
}

#define CHECK_JSTR(in, out)                                                                        \
    do {                                                                                           \
        struct tl_buf b_ = { 0 };                                                                  \
        CHECK_STR(str_json(&b_, in, sizeof(in) - 1), out);                                         \
        tl_buf_free(&b_);                                                                          \
    } while (0)

static void test_buf(void)
{
    struct tl_buf b = { 0 };
    for (int i = 0; i < 10000; i++)
        tl_buf_putc(&b, (char)('a' + i % 26));
    tl_buf_puts(&b, "xyz");
    tl_buf_put(&b, "", 0);
    CHECK_EQ(b.len, 10003);
    CHECK(b.cap >= b.len);
    CHECK(b.p[0] == 'a' && b.p[25] == 'z' && b.p[26] == 'a');
    CHECK_MEM(b.p + 10000, 3, "xyz");
    tl_buf_free(&b);
    CHECK(b.p == NULL && b.len == 0 && b.cap == 0);
    tl_buf_free(&b);
}

static void test_escapes(void)
{
    static const char *const want[32] = {
        "\\u0000", "\\u0001", "\\u0002", "\\u0003", "\\u0004", "\\u0005", "\\u0006", "\\u0007",
        "\\b",     "\\t",     "\\n",     "\\u000b", "\\f",     "\\r",     "\\u000e", "\\u000f",
        "\\u0010", "\\u0011", "\\u0012", "\\u0013", "\\u0014", "\\u0015", "\\u0016", "\\u0017",
        "\\u0018", "\\u0019", "\\u001a", "\\u001b", "\\u001c", "\\u001d", "\\u001e", "\\u001f",
    };
    struct tl_buf b = { 0 };
    for (int c = 0; c < 32; c++) {
        char in[3] = { 'a', (char)c, 'z' }, out[16];
        snprintf(out, sizeof(out), "\"a%sz\"", want[c]);
        CHECK_STR(str_json(&b, in, 3), out);
    }
    tl_buf_free(&b);
    CHECK_JSTR("", "\"\"");
    CHECK_JSTR("plain text", "\"plain text\"");
    CHECK_JSTR("\"q\" \\b\\", "\"\\\"q\\\" \\\\b\\\\\"");
    CHECK_JSTR("/\x7f~", "\"/\x7f~\""); /* '/' and DEL need no escape (RFC 8259 section 7) */
    CHECK_JSTR("\r\n\t", "\"\\r\\n\\t\"");
}

static void test_invalid_utf8(void)
{
    CHECK_JSTR("\x80", "\"\\ufffd\""); /* lone continuation */
    CHECK_JSTR("a\xbf"
               "b",
               "\"a\\ufffdb\"");
    CHECK_JSTR("a\xe2\x82", "\"a\\ufffd\\ufffd\""); /* truncated at end */
    CHECK_JSTR("\xf0\x9f\x98", "\"\\ufffd\\ufffd\\ufffd\"");
    CHECK_JSTR("\xc3", "\"\\ufffd\"");
    CHECK_JSTR("\xe2\x28\xa1", "\"\\ufffd(\\ufffd\""); /* bad continuation */
    CHECK_JSTR("\xc3"
               "a",
               "\"\\ufffda\"");
    CHECK_JSTR("\xc0\x80", "\"\\ufffd\\ufffd\""); /* overlong NUL */
    CHECK_JSTR("\xc1\xbf", "\"\\ufffd\\ufffd\"");
    CHECK_JSTR("\xe0\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\""); /* overlong '/' */
    CHECK_JSTR("\xf0\x80\x80\xaf", "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
    CHECK_JSTR("\xed\xa0\x80", "\"\\ufffd\\ufffd\\ufffd\"");            /* U+D800 */
    CHECK_JSTR("\xed\xbf\xbf", "\"\\ufffd\\ufffd\\ufffd\"");            /* U+DFFF */
    CHECK_JSTR("\xf4\x90\x80\x80", "\"\\ufffd\\ufffd\\ufffd\\ufffd\""); /* U+110000 */
    for (int c = 0xf5; c <= 0xff; c++) {
        struct tl_buf b = { 0 };
        char in[4] = { (char)c, '\x80', '\x80', '\x80' };
        CHECK_STR(str_json(&b, in, 1), "\"\\ufffd\"");
        CHECK_STR(str_json(&b, in, 4), "\"\\ufffd\\ufffd\\ufffd\\ufffd\"");
        tl_buf_free(&b);
    }
}

static void test_valid_utf8(void)
{
    CHECK_JSTR("caf\xc3\xa9", "\"caf\xc3\xa9\"");             /* U+00E9 */
    CHECK_JSTR("\xc2\x80", "\"\xc2\x80\"");                   /* U+0080, smallest 2-byte */
    CHECK_JSTR("\xe0\xa0\x80", "\"\xe0\xa0\x80\"");           /* U+0800, smallest 3-byte */
    CHECK_JSTR("\xe2\x82\xac", "\"\xe2\x82\xac\"");           /* U+20AC */
    CHECK_JSTR("\xed\x9f\xbf", "\"\xed\x9f\xbf\"");           /* U+D7FF, below the surrogates */
    CHECK_JSTR("\xee\x80\x80", "\"\xee\x80\x80\"");           /* U+E000, above them */
    CHECK_JSTR("\xef\xbf\xbf", "\"\xef\xbf\xbf\"");           /* U+FFFF */
    CHECK_JSTR("\xf0\x90\x80\x80", "\"\xf0\x90\x80\x80\"");   /* U+10000 */
    CHECK_JSTR("\xf0\x9f\x98\x80!", "\"\xf0\x9f\x98\x80!\""); /* U+1F600 */
    CHECK_JSTR("\xf4\x8f\xbf\xbf", "\"\xf4\x8f\xbf\xbf\"");   /* U+10FFFF */
    CHECK_JSTR("\xe2\x80\xa8", "\"\xe2\x80\xa8\"");           /* U+2028 is valid JSON */
    CHECK_JSTR("\xc3\xa9\n\xff\xc3\xa9", "\"\xc3\xa9\\n\\ufffd\xc3\xa9\"");
}

/* Each special byte at every position of a run, around the 8-byte scan's edges. */
static void test_every_position(void)
{
    static const struct {
        uint8_t c;
        const char *esc; /* NULL: copied as is */
    } cases[] = {
        { 0x00, "\\u0000" }, { 0x1f, "\\u001f" }, { '"', "\\\"" }, { '\\', "\\\\" },
        { 0x80, "\\ufffd" }, { 0xff, "\\ufffd" }, { 0x20, NULL },  { 0x21, NULL },
        { 0x23, NULL },      { 0x5b, NULL },      { 0x5d, NULL },  { 0x7f, NULL },
    };
    struct tl_buf b = { 0 };
    char in[40], want[64];
    for (size_t k = 0; k < TL_ARRAY_LEN(cases); k++) {
        for (size_t pos = 0; pos < sizeof(in); pos++) {
            for (size_t n = pos + 1; n <= sizeof(in); n += 7) {
                memset(in, 'x', sizeof(in));
                in[pos] = (char)cases[k].c;
                const char *esc = cases[k].esc;
                snprintf(want, sizeof(want), "\"%.*s%s%.*s\"", (int)pos, in,
                         esc ? esc : (const char[]){ (char)cases[k].c, 0 }, (int)(n - pos - 1),
                         in + pos + 1);
                CHECK_STR(str_json(&b, in, n), want);
            }
        }
    }
    tl_buf_free(&b);
}

static void test_key(void)
{
    struct tl_buf b = { 0 };
    bool first = true;
    tl_buf_putc(&b, '{');
    tl_json_key(&b, &first, "a");
    tl_json_u64(&b, 1);
    tl_json_key(&b, &first, "id.orig_h");
    tl_json_u64(&b, 2);
    tl_json_key(&b, &first, "q\"\\\t\xff"); /* a key that needs escaping (a rule's field) */
    tl_json_u64(&b, 3);
    tl_buf_putc(&b, '}');
    CHECK_STR(buf_str(&b), "{\"a\":1,\"id.orig_h\":2,\"q\\\"\\\\\\t\\ufffd\":3}");
    CHECK(!first);
    tl_buf_free(&b);
}

/* A field named at run time (no name_len) has its key escaped; a TL_FNAME one is copied. */
static void test_field_keys(void)
{
    struct {
        uint64_t a, b;
    } r = { 1, 2 };
    const struct tl_field run_time = { .name = "q\"1", .type = TL_F_U64, .off = 0 };
    const struct tl_field literal = TL_FIELD_AT("id.resp_p", TL_F_U64, 0, 0, sizeof(uint64_t), "");
    struct tl_buf b = { 0 };
    bool first = true;
    CHECK_EQ(literal.name_len, 9);
    tl_json_field(&b, &first, &run_time, &r);
    tl_json_field(&b, &first, &literal, &r);
    CHECK_STR(buf_str(&b), "\"q\\\"1\":1,\"id.resp_p\":2");
    /* every length the short copy treats apart: 1-3, 4-7, 8, and the words after */
    for (uint16_t n = 1; n <= 40; n++) {
        char name[41], want[64];
        for (uint16_t i = 0; i < n; i++)
            name[i] = (char)('a' + i % 26);
        name[n] = '\0';
        const struct tl_field f = { .name = name, .name_len = n, .type = TL_F_U64, .off = 0 };
        snprintf(want, sizeof(want), ",\"%s\":1", name);
        b.len = 0;
        first = false;
        tl_json_field(&b, &first, &f, &r);
        CHECK_STR(buf_str(&b), want);
    }
    tl_buf_free(&b);
}

static void test_u64(void)
{
    static const struct {
        uint64_t v;
        const char *s;
    } cases[] = {
        { 0, "0" },
        { 7, "7" },
        { 10, "10" },
        { 99, "99" },
        { 100, "100" },
        { 101, "101" },
        { 999, "999" },
        { 1000, "1000" },
        { 10009, "10009" },
        { 65535, "65535" },
        { 1000000000000ULL, "1000000000000" },
        { UINT64_MAX, "18446744073709551615" },
    };
    struct tl_buf b = { 0 };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        b.len = 0;
        tl_json_u64(&b, cases[i].v);
        CHECK_STR(buf_str(&b), cases[i].s);
        char text[TL_U64_TEXT];
        CHECK_EQ(tl_fmt_u64(text, cases[i].v), strlen(cases[i].s));
        CHECK_STR(text, cases[i].s);
    }
    tl_buf_free(&b);
}

static void test_ts(void)
{
    static const struct {
        uint64_t us;
        const char *s;
    } cases[] = {
        { 0, "\"1970-01-01T00:00:00.000000Z\"" },
        { 1, "\"1970-01-01T00:00:00.000001Z\"" },
        { 1258531221512500ULL, "\"2009-11-18T08:00:21.512500Z\"" },
        { 1709210096000001ULL, "\"2024-02-29T12:34:56.000001Z\"" }, /* leap year */
        { 951868799999999ULL, "\"2000-02-29T23:59:59.999999Z\"" },  /* 400-year leap */
        { 4107542400000010ULL, "\"2100-03-01T00:00:00.000010Z\"" }, /* 2100 is not leap */
        { 94694399000000ULL, "\"1972-12-31T23:59:59.000000Z\"" },
        { 253402300799999999ULL, "\"9999-12-31T23:59:59.999999Z\"" },
        /* the second before is remembered: the same second again, another, then one back */
        { 253402300799000000ULL, "\"9999-12-31T23:59:59.000000Z\"" },
        { 253402300800000000ULL, "\"10000-01-01T00:00:00.000000Z\"" },
        { 253402300800000007ULL, "\"10000-01-01T00:00:00.000007Z\"" },
        { 1258531221000000ULL, "\"2009-11-18T08:00:21.000000Z\"" },
        { 1258531221999999ULL, "\"2009-11-18T08:00:21.999999Z\"" },
    };
    struct tl_buf b = { 0 };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        b.len = 0;
        tl_json_ts(&b, cases[i].us);
        CHECK_STR(buf_str(&b), cases[i].s);
    }
    tl_buf_free(&b);
}

static void test_dur(void)
{
    static const struct {
        uint64_t us;
        const char *s;
    } cases[] = {
        { 0, "0.000000" },
        { 123, "0.000123" },
        { 999999, "0.999999" },
        { 1500000, "1.500000" },
        { 86400000001ULL, "86400.000001" },
        { UINT64_MAX, "18446744073709.551615" },
    };
    struct tl_buf b = { 0 };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        b.len = 0;
        tl_json_dur(&b, cases[i].us);
        CHECK_STR(buf_str(&b), cases[i].s);
    }
    tl_buf_free(&b);
}

static void test_ip(void)
{
    static const struct {
        uint8_t ip[16];
        const char *s;
    } cases[] = {
        { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 192, 168, 0, 1 }, "\"192.168.0.1\"" },
        { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 0, 0, 0, 0 }, "\"0.0.0.0\"" },
        { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 255, 255, 255, 255 }, "\"255.255.255.255\"" },
        { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 10, 100, 9, 99 }, "\"10.100.9.99\"" },
        { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff, 1, 20, 200, 109 }, "\"1.20.200.109\"" },
        { { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, "\"2001:db8::1\"" },
        { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1 }, "\"::1\"" },
        { { 0 }, "\"::\"" },
        { { 0xfe, 0x80 }, "\"fe80::\"" },
        /* RFC 5952 4.2.3: the first of two equal runs */
        { { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1 }, "\"2001:db8::1:0:0:1\"" },
        /* 4.2.3: the longest run */
        { { 0, 1, 0, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0, 3 }, "\"1:0:0:2::3\"" },
        /* 4.2.2: one zero group is not shortened */
        { { 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1 },
          "\"2001:db8:0:1:1:1:1:1\"" },
        /* 4.3: lowercase, no leading zeros */
        { { 0x20, 0x01, 0x0d, 0xb8, 0xab, 0xcd, 0x00, 0x0f, 0x0f, 0x00, 0xff, 0xff, 0, 0, 0, 0x10 },
          "\"2001:db8:abcd:f:f00:ffff:0:10\"" },
        /* IPv4-compatible (deprecated) and NAT64 stay hex, unlike inet_ntop */
        { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 2, 3, 4 }, "\"::102:304\"" },
        { { 0, 0x64, 0xff, 0x9b, 0, 0, 0, 0, 0, 0, 0, 0, 192, 0, 2, 1 }, "\"64:ff9b::c000:201\"" },
        /* not quite v4-mapped */
        { { 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0xff, 0xff, 1, 2, 3, 4 }, "\"::1:ffff:102:304\"" },
    };
    struct tl_buf b = { 0 };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        b.len = 0;
        tl_json_ip(&b, cases[i].ip);
        CHECK_STR(buf_str(&b), cases[i].s);
    }
    tl_buf_free(&b);
}

/* A record with every field type, once required and once optional. */
struct rec {
    uint64_t ts;
    bool flag, oflag;
    uint8_t u8, ou8;
    uint16_t u16, ou16;
    uint32_t u32, ou32;
    uint64_t u64, ou64;
    uint64_t dur, odur;
    struct tl_str str, ostr;
    const char *cstr, *ocstr;
    char chars[8], ochars[8];
    uint8_t ip[16], oip[16];
    uint8_t mac[6], omac[6];
    uint16_t ports[4];
    uint8_t nports;
    struct tl_strlist names, onames;
    uint32_t hex, ohex;
    uint16_t ncounts;
    uint64_t counts[3];
};

#define F(m, t, n) TL_FIELD(struct rec, m, t, n, "doc")
#define O(m, t, n) TL_FIELD_OPT(struct rec, m, t, n, "doc")
static const struct tl_field rec_fields[] = {
    F(ts, TS, "ts"),
    F(flag, BOOL, "flag"),
    O(oflag, BOOL, "oflag"),
    F(u8, U8, "u8"),
    O(ou8, U8, "ou8"),
    F(u16, U16, "u16"),
    O(ou16, U16, "ou16"),
    F(u32, U32, "u32"),
    O(ou32, U32, "ou32"),
    F(u64, U64, "u64"),
    O(ou64, U64, "ou64"),
    F(dur, DUR, "dur"),
    O(odur, DUR, "odur"),
    F(str, STR, "str"),
    O(ostr, STR, "ostr"),
    F(cstr, CSTR, "cstr"),
    O(ocstr, CSTR, "ocstr"),
    F(chars, CHARS, "chars"),
    O(ochars, CHARS, "ochars"),
    F(ip, IP, "ip"),
    O(oip, IP, "oip"),
    F(mac, MAC, "mac"),
    O(omac, MAC, "omac"),
    TL_FIELD_LIST(struct rec, ports, nports, "ports", "doc"),
    F(names, STRLIST, "names"),
    O(onames, STRLIST, "onames"),
    F(hex, HEX32, "hex"),
    O(ohex, HEX32, "ohex"),
    TL_FIELD_AT("counts", TL_F_U64LIST, 0, (uint16_t)offsetof(struct rec, ncounts),
                offsetof(struct rec, counts), "doc"),
    TL_FIELD_AT("ocounts", TL_F_U64LIST, TL_FF_OPT, (uint16_t)offsetof(struct rec, ncounts),
                offsetof(struct rec, counts), "doc"),
};
#undef F
#undef O

static const struct tl_event_type rec_type = { .name = "test",
                                               .doc = "a test record",
                                               .fields = rec_fields,
                                               .nfields = TL_ARRAY_LEN(rec_fields) };

static void test_event_empty(void)
{
    struct rec r = { 0 };
    struct tl_buf b = { 0 };
    tl_event_json(&b, &rec_type, "s1", &r);
    CHECK_STR(buf_str(&b), "{\"ts\":\"1970-01-01T00:00:00.000000Z\",\"event_type\":\"test\","
                           "\"sensor\":\"s1\",\"flag\":false,\"u8\":0,\"u16\":0,\"u32\":0,"
                           "\"u64\":0,\"dur\":0.000000,\"str\":\"\",\"cstr\":null,\"chars\":\"\","
                           "\"ip\":\"::\",\"mac\":\"00:00:00:00:00:00\",\"names\":[],"
                           "\"hex\":\"0x00000000\",\"counts\":[]}\n");
    b.len = 0;
    tl_event_json(&b, &rec_type, NULL, &r);
    CHECK(strstr(buf_str(&b), ",\"event_type\":\"test\",\"sensor\":null,\"flag\":false,") != NULL);
    tl_buf_free(&b);
}

static void test_event_full(void)
{
    static const struct tl_str names[] = { { "a", 1 }, { "b\"\xff", 3 } };
    struct rec r = {
        .ts = 1258531221512500ULL,
        .flag = true,
        .oflag = true,
        .u8 = 255,
        .ou8 = 1,
        .u16 = 65535,
        .ou16 = 2,
        .u32 = 4294967295U,
        .ou32 = 3,
        .u64 = UINT64_MAX,
        .ou64 = 4,
        .dur = 1500000,
        .odur = 123,
        .str = { "x\ny", 3 },
        .ostr = { "z", 1 },
        .cstr = "tcp",
        .ocstr = "c",
        .chars = "C1",
        .ochars = "o",
        .ip = { [10] = 0xff, [11] = 0xff, 10, 0, 0, 1 },
        .oip = { 0x20, 0x01, [15] = 1 },
        .mac = { 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff },
        .omac = { [5] = 1 },
        .ports = { 80, 443, 0 },
        .nports = 3,
        .names = { names, 2 },
        .onames = { names, 1 },
        .hex = 0xdeadbeef,
        .ohex = 0x1f,
        .ncounts = 3,
        .counts = { 0, 7, UINT64_MAX },
    };
    struct tl_buf b = { 0 };
    tl_event_json(&b, &rec_type, "sensor-1", &r);
    CHECK_STR(buf_str(&b),
              "{\"ts\":\"2009-11-18T08:00:21.512500Z\",\"event_type\":\"test\","
              "\"sensor\":\"sensor-1\",\"flag\":true,\"oflag\":true,\"u8\":255,\"ou8\":1,"
              "\"u16\":65535,\"ou16\":2,\"u32\":4294967295,\"ou32\":3,"
              "\"u64\":18446744073709551615,\"ou64\":4,\"dur\":1.500000,\"odur\":0.000123,"
              "\"str\":\"x\\ny\",\"ostr\":\"z\",\"cstr\":\"tcp\",\"ocstr\":\"c\","
              "\"chars\":\"C1\",\"ochars\":\"o\",\"ip\":\"10.0.0.1\",\"oip\":\"2001::1\","
              "\"mac\":\"aa:bb:cc:dd:ee:ff\",\"omac\":\"00:00:00:00:00:01\","
              "\"ports\":[80,443,0],\"names\":[\"a\",\"b\\\"\\ufffd\"],\"onames\":[\"a\"],"
              "\"hex\":\"0xdeadbeef\",\"ohex\":\"0x0000001f\","
              "\"counts\":[0,7,18446744073709551615],"
              "\"ocounts\":[0,7,18446744073709551615]}\n");
    /* Appends: a second event follows the first line. */
    size_t one = b.len;
    tl_event_json(&b, &rec_type, "sensor-1", &r);
    CHECK_EQ(b.len, 2 * one);
    CHECK(memcmp(b.p, b.p + one, one) == 0);
    tl_buf_free(&b);
}

static void test_opt_empty_string(void)
{
    /* OPT CSTR and CHARS are left out when empty as well as when NULL. */
    struct rec r = { .ocstr = "", .ostr = { "ignored", 0 } };
    struct tl_buf b = { 0 };
    bool first = true;
    for (size_t i = 0; i < TL_ARRAY_LEN(rec_fields); i++)
        if (rec_fields[i].flags & TL_FF_OPT)
            tl_json_field(&b, &first, &rec_fields[i], &r);
    CHECK_EQ(b.len, 0);
    CHECK(first);
    tl_buf_free(&b);
}

static void test_ftype_name(void)
{
    CHECK_STR(tl_ftype_name(TL_F_BOOL), "bool");
    CHECK_STR(tl_ftype_name(TL_F_TS), "time");
    CHECK_STR(tl_ftype_name(TL_F_DUR), "interval");
    CHECK_STR(tl_ftype_name(TL_F_IP), "addr");
    CHECK_STR(tl_ftype_name(TL_F_U16LIST), "vector[uint16]");
    CHECK_STR(tl_ftype_name(TL_F_HEX32), "string(hex)");
    CHECK_STR(tl_ftype_name(TL_F_U64LIST), "vector[uint64]");
    for (int t = TL_F_BOOL; t <= TL_F_U64LIST; t++)
        CHECK(strcmp(tl_ftype_name((enum tl_ftype)t), "unknown") != 0);
    CHECK_STR(tl_ftype_name((enum tl_ftype)99), "unknown");
}

/* --- property: any bytes give one valid JSON string ---------------------- */

static uint64_t rng_state = 0x9e3779b97f4a7c15ULL;

static uint32_t rng(void)
{
    rng_state ^= rng_state << 13;
    rng_state ^= rng_state >> 7;
    rng_state ^= rng_state << 17;
    return (uint32_t)(rng_state >> 32);
}

/*
 * Decodes one UTF-8 sequence at s by its bit patterns (independently of the
 * writer's tables): its length, or 0 if overlong, a surrogate, above U+10FFFF,
 * badly continued or cut short.
 */
static size_t utf8_decode(const uint8_t *s, size_t n, uint32_t *cp)
{
    static const uint32_t min[5] = { 0, 0, 0x80, 0x800, 0x10000 };
    size_t len;
    uint32_t v;
    if (s[0] < 0x80) {
        *cp = s[0];
        return 1;
    } else if ((s[0] & 0xe0) == 0xc0) {
        len = 2, v = s[0] & 0x1f;
    } else if ((s[0] & 0xf0) == 0xe0) {
        len = 3, v = s[0] & 0x0f;
    } else if ((s[0] & 0xf8) == 0xf0) {
        len = 4, v = s[0] & 0x07;
    } else {
        return 0;
    }
    if (n < len)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        v = v << 6 | (s[i] & 0x3f);
    }
    if (v < min[len] || (v >= 0xd800 && v <= 0xdfff) || v > 0x10ffff)
        return 0;
    *cp = v;
    return len;
}

static size_t utf8_encode(uint32_t cp, uint8_t *o)
{
    if (cp < 0x80) {
        o[0] = (uint8_t)cp;
        return 1;
    }
    if (cp < 0x800) {
        o[0] = (uint8_t)(0xc0 | cp >> 6), o[1] = (uint8_t)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        o[0] = (uint8_t)(0xe0 | cp >> 12), o[1] = (uint8_t)(0x80 | (cp >> 6 & 0x3f));
        o[2] = (uint8_t)(0x80 | (cp & 0x3f));
        return 3;
    }
    o[0] = (uint8_t)(0xf0 | cp >> 18), o[1] = (uint8_t)(0x80 | (cp >> 12 & 0x3f));
    o[2] = (uint8_t)(0x80 | (cp >> 6 & 0x3f)), o[3] = (uint8_t)(0x80 | (cp & 0x3f));
    return 4;
}

static bool utf8_valid(const uint8_t *s, size_t n)
{
    uint32_t cp;
    for (size_t i = 0, k; i < n; i += k)
        if (!(k = utf8_decode(s + i, n - i, &cp)))
            return false;
    return true;
}

/*
 * Validates one JSON string (RFC 8259 section 7) spanning exactly j[0..n) and
 * decodes it into out (at least n bytes); the decoded length, or -1.
 */
static long json_parse_string(const uint8_t *j, size_t n, uint8_t *out)
{
    size_t i = 1, o = 0;
    uint32_t cp;
    if (n < 2 || j[0] != '"' || j[n - 1] != '"')
        return -1;
    while (i < n - 1) {
        if (j[i] < 0x20 || j[i] == '"')
            return -1;
        if (j[i] == '\\') {
            if (i + 1 >= n - 1)
                return -1;
            const char *esc = strchr("\"\\/bfnrt", j[i + 1]);
            if (esc && j[i + 1]) {
                out[o++] = (uint8_t) "\"\\/\b\f\n\r\t"[esc - "\"\\/bfnrt"];
                i += 2;
                continue;
            }
            if (j[i + 1] != 'u' || i + 6 > n - 1)
                return -1;
            cp = 0;
            for (size_t k = 2; k < 6; k++) {
                uint8_t h = j[i + k];
                if (h >= '0' && h <= '9')
                    cp = cp << 4 | (uint32_t)(h - '0');
                else if (h >= 'a' && h <= 'f')
                    cp = cp << 4 | (uint32_t)(h - 'a' + 10);
                else if (h >= 'A' && h <= 'F')
                    cp = cp << 4 | (uint32_t)(h - 'A' + 10);
                else
                    return -1;
            }
            if (cp >= 0xd800 && cp <= 0xdfff)
                return -1; /* the writer never needs surrogate pairs */
            o += utf8_encode(cp, out + o);
            i += 6;
            continue;
        }
        size_t k = utf8_decode(j + i, n - 1 - i, &cp);
        if (!k)
            return -1;
        memcpy(out + o, j + i, k);
        o += k, i += k;
    }
    return (long)o;
}

/* Bytes drawn to hit the interesting classes often. */
static uint8_t rng_byte(void)
{
    static const uint8_t pick[] = { 0x00, 0x1f, '"',  '\\', 0x7f, 0x80, 0xbf, 0xc0, 0xc1, 0xc2,
                                    0xdf, 0xe0, 0xed, 0xef, 0xf0, 0xf4, 0xf5, 0xff, 0xa0, 0x9f };
    uint32_t r = rng();
    if (r % 3 == 0)
        return pick[(r >> 8) % sizeof(pick)];
    return (uint8_t)(r >> 16);
}

/* "%.6f" with trailing zeros and a lone "-0" dropped: what tl_json_f64 must write. */
static void f64_reference(char *out, size_t cap, double v)
{
    int n = snprintf(out, cap, "%.6f", v);
    while (n > 1 && out[n - 1] == '0')
        n--;
    if (n > 1 && out[n - 1] == '.')
        n--;
    if (n == 2 && out[0] == '-' && out[1] == '0')
        out[0] = '0', n = 1;
    out[n] = '\0';
}

static void f64_check(struct tl_buf *b, double v)
{
    char want[64];
    f64_reference(want, sizeof(want), v);
    b->len = 0;
    tl_json_f64(b, v);
    CHECK_STR(buf_str(b), want);
}

/* Without printf where the rounding is certain; the same text as printf always. */
static void test_f64(void)
{
    static const double cases[] = {
        0.0,
        -0.0,
        0.25,
        12,
        1e-6,
        5e-7,
        4.999999e-7,
        -1e-7,
        -4e-7,
        -6e-7,
        123.4567885,
        0.1 + 0.2,
        2.5e-6,
        1.0000005,
        0.0000015,
        4503599627.370495,
        4503599627.3704955,
        1e12,
        1e15,
        9.999999999e17,
        -1e18,
        3.14159265358979,
        0.9999995,
        0.99999949999,
    };
    struct tl_buf b = { 0 };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++)
        f64_check(&b, cases[i]);
    b.len = 0;
    tl_json_f64(&b, 0.0 / 0.0);
    CHECK_STR(buf_str(&b), "null");
    b.len = 0;
    tl_json_f64(&b, 2e18);
    CHECK_STR(buf_str(&b), "null");
    for (int i = 0; i < 200000; i++) {
        uint64_t r = (uint64_t)rng() << 32 | rng();
        double unit = ldexp(1.0, (int)(rng() % 90) - 40); /* 2^-40 .. 2^49 */
        double v = (double)(r >> 11) / 0x1p53 * unit;
        if (i % 3 == 1) /* near a half millionth, where rounding is decided */
            v = ((double)(r % 100000000000ull) + 0.5) / 1e6;
        else if (i % 3 == 2) /* a decimal with at most 6 places */
            v = (double)(r % 10000000000000ull) / 1e6;
        f64_check(&b, (r & 1) ? -v : v);
    }
    tl_buf_free(&b);
}

static void test_property_random(void)
{
    struct tl_buf b = { 0 };
    uint8_t in[96], dec[96 * 6];
    int valid_inputs = 0;

    for (int iter = 0; iter < 2000; iter++) {
        size_t n = rng() % 64;
        if (iter % 2) { /* random bytes */
            for (size_t i = 0; i < n; i++)
                in[i] = rng_byte();
        } else { /* random code points, sometimes with a byte broken */
            size_t len = 0;
            while (len + 4 <= n) {
                uint32_t r = rng(), cp;
                switch (r % 4) {
                case 0: cp = r >> 8 & 0x7f; break;
                case 1: cp = 0x80 + (r >> 8) % 0x780; break;
                case 2: cp = 0x800 + (r >> 8) % 0xf800; break;
                default: cp = 0x10000 + (r >> 8) % 0x100000; break;
                }
                if (cp >= 0xd800 && cp <= 0xdfff)
                    cp = 0xfffd;
                len += utf8_encode(cp, in + len);
            }
            n = len;
            if (n && rng() % 4 == 0)
                in[rng() % n] = (uint8_t)rng();
        }
        const char *js = str_json(&b, (const char *)in, n);
        long dlen = json_parse_string((const uint8_t *)js, b.len, dec);
        if (dlen < 0) {
            tl_check_report(__FILE__, __LINE__, "iteration %d: not a JSON string: %s", iter, js);
            break;
        }
        if (utf8_valid(in, n)) { /* nothing replaced: decoding gives the input back */
            valid_inputs++;
            if ((size_t)dlen != n || memcmp(dec, in, n) != 0) {
                tl_check_report(__FILE__, __LINE__, "iteration %d: round trip differs", iter);
                break;
            }
        } else {
            CHECK(strstr(js, "\\ufffd") != NULL);
        }
    }
    CHECK(valid_inputs > 500);
    tl_buf_free(&b);
}

const struct tl_test tl_tests_json[] = {
    { "buf", test_buf },
    { "escapes", test_escapes },
    { "invalid_utf8", test_invalid_utf8 },
    { "valid_utf8", test_valid_utf8 },
    { "every_position", test_every_position },
    { "key", test_key },
    { "field_keys", test_field_keys },
    { "u64", test_u64 },
    { "ts", test_ts },
    { "dur", test_dur },
    { "f64", test_f64 },
    { "ip", test_ip },
    { "event_empty", test_event_empty },
    { "event_full", test_event_full },
    { "opt_empty_string", test_opt_empty_string },
    { "ftype_name", test_ftype_name },
    { "property_random", test_property_random },
    { 0 },
};
