/*
 * json.c - records to JSON lines (RFC 8259), driven by the field tables of schema.h.
 *
 * Invariant: whatever bytes a record holds, every line written is one valid JSON
 * object in valid UTF-8. Strings keep valid UTF-8 (RFC 3629: no overlongs, no
 * surrogates, nothing above U+10FFFF) and replace each byte that is not part of a
 * valid sequence with the escape \ufffd. Control characters are escaped
 * (RFC 8259 section 7). Numbers, times and addresses are formatted by hand: this
 * is the hot path, and printf with its locale is slow and not needed.
 */
#include <math.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "event.h"
#include "schema.h"

/* --- tl_buf ------------------------------------------------------------- */

void tl_buf_grow(struct tl_buf *b, size_t more)
{
    if (more <= b->cap - b->len)
        return;
    if (more > SIZE_MAX - b->len)
        abort();
    size_t need = b->len + more, cap = b->cap ? b->cap : 256;
    while (cap < need) {
        if (cap > SIZE_MAX / 2) {
            cap = need;
            break;
        }
        cap *= 2;
    }
    char *p = realloc(b->p, cap);
    if (!p)
        abort(); /* event memory is bounded upstream; see event.h */
    b->p = p;
    b->cap = cap;
}

void tl_buf_puts(struct tl_buf *b, const char *s)
{
    tl_buf_put(b, s, strlen(s));
}

void tl_buf_free(struct tl_buf *b)
{
    free(b->p);
    b->p = NULL;
    b->len = b->cap = 0;
}

/* --- strings ------------------------------------------------------------ */

static const char json_hex[] = "0123456789abcdef";

/* 0: copied as is; 1: ASCII that needs an escape; 2: lead of a multi-byte sequence or invalid. */
static const uint8_t json_class[256] = {
    /* 0x00-0x1f: control characters */
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    1,
    /* 0x20-0x7f: '"' and '\\' only */
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    1,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    0,
    /* 0x80-0xff */
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
    2,
};

/*
 * Length of the valid UTF-8 sequence at p (RFC 3629 section 4, Table 3-7 of the
 * Unicode standard), or 0 if the lead byte p[0] >= 0x80 does not start one.
 * Second-byte ranges exclude overlongs (E0, F0), surrogates (ED) and values
 * above U+10FFFF (F4); C0, C1 and F5..FF never lead.
 */
static size_t json_utf8_len(const uint8_t *p, size_t left)
{
    uint8_t c = p[0], lo = 0x80, hi = 0xbf;
    size_t len;

    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4;
    else
        return 0;
    if (left < len)
        return 0;
    if (c == 0xe0)
        lo = 0xa0;
    else if (c == 0xed)
        hi = 0x9f;
    else if (c == 0xf0)
        lo = 0x90;
    else if (c == 0xf4)
        hi = 0x8f;
    if (p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if ((p[i] & 0xc0) != 0x80)
            return 0;
    return len;
}

/*
 * Whether any of 8 bytes is below 0x20, '"', '\\' or non-ASCII (SWAR: a byte
 * test sets the top bit of that byte; borrows can only add false hits above a
 * true one, so the answer "any" is exact).
 */
static bool json_word_special(uint64_t x)
{
    const uint64_t ones = 0x0101010101010101ULL, high = 0x8080808080808080ULL;
    uint64_t q = x ^ (ones * '"'), bs = x ^ (ones * '\\');
    uint64_t lt20 = (x - ones * 0x20) & ~x;
    uint64_t zq = (q - ones) & ~q, zbs = (bs - ones) & ~bs;
    return ((x | lt20 | zq | zbs) & high) != 0;
}

/* Runs of bytes that need nothing are scanned 8 at a time and copied with one memcpy. */
void tl_json_string(struct tl_buf *b, const char *s, size_t n)
{
    const uint8_t *p = (const uint8_t *)s;
    size_t i = 0, run = 0;

    tl_buf_putc(b, '"');
    tl_buf_reserve(b, n + 1); /* the common case: nothing to escape */
    while (i < n) {
        if (n - i >= 8) {
            uint64_t x;
            memcpy(&x, p + i, sizeof(x));
            if (!json_word_special(x)) {
                i += 8;
                continue;
            }
        }
        uint8_t c = p[i];
        if (json_class[c] == 0) {
            i++;
            continue;
        }
        if (c >= 0x80) {
            size_t k = json_utf8_len(p + i, n - i);
            if (k) {
                i += k;
                continue;
            }
        }
        tl_buf_put(b, p + run, i - run);
        char e[6] = { '\\', 0 };
        size_t elen = 2;
        switch (c) {
        case '"': e[1] = '"'; break;
        case '\\': e[1] = '\\'; break;
        case '\n': e[1] = 'n'; break;
        case '\r': e[1] = 'r'; break;
        case '\t': e[1] = 't'; break;
        case '\b': e[1] = 'b'; break;
        case '\f': e[1] = 'f'; break;
        default:
            if (c < 0x20) {
                memcpy(e + 1, "u00", 3);
                e[4] = json_hex[c >> 4];
                e[5] = json_hex[c & 0xf];
            } else {
                memcpy(e + 1, "ufffd", 5); /* one replacement per invalid byte */
            }
            elen = 6;
            break;
        }
        tl_buf_put(b, e, elen);
        run = ++i;
    }
    tl_buf_put(b, p + run, n - run);
    tl_buf_putc(b, '"');
}

void tl_json_key(struct tl_buf *b, bool *first, const char *key)
{
    if (!*first)
        tl_buf_putc(b, ',');
    *first = false;
    tl_json_string(b, key, strlen(key));
    tl_buf_putc(b, ':');
}

/*
 * n bytes from s to w, for a key of a few to a few dozen bytes: word copies
 * that overlap at the end, no call into the C library for every key.
 */
static inline void json_copy_short(char *w, const char *s, size_t n)
{
    if (n >= 8) {
        for (size_t i = 0; i + 8 < n; i += 8)
            memcpy(w + i, s + i, 8);
        memcpy(w + n - 8, s + n - 8, 8);
    } else if (n >= 4) {
        memcpy(w, s, 4);
        memcpy(w + n - 4, s + n - 4, 4);
    } else if (n > 0) {
        w[0] = s[0];
        w[n / 2] = s[n / 2];
        w[n - 1] = s[n - 1];
    }
}

/* A key known to need no escape (a schema name, a literal of ours): one copy. Inline, as
 * json_field. */
static inline __attribute__((always_inline)) void json_key_plain(struct tl_buf *b, bool *first,
                                                                 const char *key, size_t n)
{
    tl_buf_reserve(b, n + 4);
    char *w = b->p + b->len;
    if (!*first)
        *w++ = ',';
    *first = false;
    *w++ = '"';
    json_copy_short(w, key, n);
    w += n;
    *w++ = '"';
    *w++ = ':';
    b->len = (size_t)(w - b->p);
}

/* --- numbers, times, addresses ------------------------------------------ */

/* Writes v in decimal, right-aligned and zero-padded to at least `width` digits,
 * ending at `end`; returns the start. */
static char *json_digits(char *end, uint64_t v, int width)
{
    static const char pairs[] = "00010203040506070809101112131415161718192021222324"
                                "25262728293031323334353637383940414243444546474849"
                                "50515253545556575859606162636465666768697071727374"
                                "75767778798081828384858687888990919293949596979899";
    char *p = end;
    /* two digits a division while more than two are due, then the last one or two */
    for (; v >= 100 || width > 2; width -= 2) {
        p -= 2;
        memcpy(p, pairs + v % 100 * 2, 2);
        v /= 100;
    }
    if (v >= 10 || width == 2) {
        p -= 2;
        memcpy(p, pairs + v * 2, 2);
    } else {
        *--p = (char)('0' + v);
    }
    return p;
}

void tl_json_u64(struct tl_buf *b, uint64_t v)
{
    char tmp[20], *end = tmp + sizeof(tmp);
    char *p = json_digits(end, v, 1);
    tl_buf_put(b, p, (size_t)(end - p));
}

size_t tl_fmt_u64(char out[TL_U64_TEXT], uint64_t v)
{
    char tmp[20], *end = tmp + sizeof(tmp);
    char *p = json_digits(end, v, 1);
    size_t n = (size_t)(end - p);
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

/* Proleptic Gregorian date from days since 1970-01-01 (H. Hinnant's civil_from_days). */
static void json_civil(uint64_t days, uint64_t *y, unsigned *m, unsigned *d)
{
    uint64_t z = days + 719468;
    uint64_t era = z / 146097;
    uint64_t doe = z - era * 146097;                                      /* [0, 146096] */
    uint64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365; /* [0, 399] */
    uint64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);               /* [0, 365] */
    uint64_t mp = (5 * doy + 2) / 153;                                    /* [0, 11], from March */
    *d = (unsigned)(doy - (153 * mp + 2) / 5 + 1);
    *m = (unsigned)(mp < 10 ? mp + 3 : mp - 9);
    *y = yoe + era * 400 + (*m <= 2);
}

/* RFC 3339 section 5.6, UTC, always six fraction digits: 2009-11-18T08:00:21.512500Z. */
static size_t json_fmt_ts(char out[TL_TS_TEXT], uint64_t ts_us)
{
    char tmp[48], *end = tmp + sizeof(tmp), *p = end;
    uint64_t secs = ts_us / 1000000, y;
    unsigned mon, day, sod = (unsigned)(secs % 86400);

    json_civil(secs / 86400, &y, &mon, &day);
    *--p = 'Z';
    p = json_digits(p, ts_us % 1000000, 6);
    *--p = '.';
    p = json_digits(p, sod % 60, 2);
    *--p = ':';
    p = json_digits(p, sod / 60 % 60, 2);
    *--p = ':';
    p = json_digits(p, sod / 3600, 2);
    *--p = 'T';
    p = json_digits(p, day, 2);
    *--p = '-';
    p = json_digits(p, mon, 2);
    *--p = '-';
    p = json_digits(p, y, 4);
    size_t n = (size_t)(end - p);
    if (n >= TL_TS_TEXT)
        n = TL_TS_TEXT - 1; /* a year past 9999: cut, never overrun */
    memcpy(out, p, n);
    out[n] = '\0';
    return n;
}

/* The date and time of the second last written by this thread: events come in bursts
 * within one second, and the calendar arithmetic is most of a timestamp's cost. */
static _Thread_local struct {
    uint64_t secs;
    char text[20]; /* 2009-11-18T08:00:21 */
} json_last_second = { UINT64_MAX, "" };

size_t tl_fmt_ts(char out[TL_TS_TEXT], uint64_t ts_us)
{
    uint64_t secs = ts_us / 1000000;
    if (secs == json_last_second.secs) {
        char *p = json_digits(out + 26, ts_us % 1000000, 6);
        memcpy(out, json_last_second.text, 19);
        p[-1] = '.';
        out[26] = 'Z';
        out[27] = '\0';
        return 27;
    }
    size_t n = json_fmt_ts(out, ts_us);
    if (n == 27) {
        memcpy(json_last_second.text, out, 19);
        json_last_second.secs = secs;
    }
    return n;
}

void tl_json_ts(struct tl_buf *b, uint64_t ts_us)
{
    char tmp[TL_TS_TEXT];
    size_t n = tl_fmt_ts(tmp, ts_us);
    tl_buf_putc(b, '"');
    tl_buf_put(b, tmp, n);
    tl_buf_putc(b, '"');
}

/* A JSON number of seconds, always six decimals: 0.000123, 1.500000. */
void tl_json_dur(struct tl_buf *b, uint64_t dur_us)
{
    char tmp[32], *end = tmp + sizeof(tmp), *p;
    p = json_digits(end, dur_us % 1000000, 6);
    *--p = '.';
    p = json_digits(p, dur_us / 1000000, 1);
    tl_buf_put(b, p, (size_t)(end - p));
}

/*
 * |v| in millionths, rounded as "%.6f" rounds it, without printf when that is
 * certain: |v| * 1e6 is within half an ulp of the exact product, so unless it
 * lies within an ulp of a half, its nearest integer is the one printf prints.
 * False (printf then) for those and for values past 2^53 millionths.
 */
static bool json_millionths(double v, uint64_t *out)
{
    double a = fabs(v) * 1e6;
    if (!(a < 0x1p52))
        return false;
    double whole = floor(a), frac = a - whole; /* exact below 2^52 */
    if (fabs(frac - 0.5) <= a * 0x1p-51)
        return false;
    *out = (uint64_t)whole + (frac > 0.5);
    return true;
}

/* Up to 6 decimals, trailing zeros dropped: 0.25, 12, 0.000001. Not finite: null. */
void tl_json_f64(struct tl_buf *b, double v)
{
    char tmp[64];
    uint64_t m;
    if (!isfinite(v) || v > 1e18 || v < -1e18) {
        tl_buf_put(b, "null", 4);
        return;
    }
    if (json_millionths(v, &m)) {
        char *end = tmp + sizeof(tmp), *p = end;
        uint64_t frac = m % 1000000;
        int width = 6;
        if (frac) {
            for (; frac % 10 == 0; width--)
                frac /= 10; /* trailing zeros dropped */
            p = json_digits(p, frac, width);
            *--p = '.';
        }
        p = json_digits(p, m / 1000000, 1);
        if (v < 0 && m)
            *--p = '-';
        tl_buf_put(b, p, (size_t)(end - p));
        return;
    }
    int n = snprintf(tmp, sizeof(tmp), "%.6f", v);
    while (n > 1 && tmp[n - 1] == '0')
        n--;
    if (n > 1 && tmp[n - 1] == '.')
        n--;
    if (n == 2 && tmp[0] == '-' && tmp[1] == '0')
        tmp[0] = '0', n = 1;
    tl_buf_put(b, tmp, (size_t)n);
}

static bool json_zero(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (p[i])
            return false;
    return true;
}

/*
 * A quoted address. v4-mapped (::ffff:0:0/96, RFC 4291 section 2.5.5.2) is the
 * dotted quad; everything else is RFC 5952 text: lowercase hex without leading
 * zeros (4.1, 4.3), the longest run of two or more zero groups, the first one on
 * a tie, shortened to "::" (4.2). Never the mixed ::a.b.c.d form of inet_ntop.
 */
size_t tl_fmt_ip(char out[TL_IP_TEXT], const uint8_t ip[16])
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    char *q = out;

    if (memcmp(ip, mapped, sizeof(mapped)) == 0) {
        for (int i = 12; i < 16; i++) {
            unsigned v = ip[i];
            if (v >= 100)
                *q++ = (char)('0' + v / 100);
            if (v >= 10)
                *q++ = (char)('0' + v / 10 % 10);
            *q++ = (char)('0' + v % 10);
            if (i < 15)
                *q++ = '.';
        }
    } else {
        unsigned w[8];
        int best = -1, best_len = 1, cur = -1;
        for (int i = 0; i < 8; i++) {
            w[i] = (unsigned)ip[2 * i] << 8 | ip[2 * i + 1];
            if (w[i] != 0) {
                cur = -1;
                continue;
            }
            if (cur < 0)
                cur = i;
            if (i - cur + 1 > best_len) {
                best = cur;
                best_len = i - cur + 1;
            }
        }
        for (int i = 0; i < 8; i++) {
            if (i == best) {
                *q++ = ':';
                if (i == 0)
                    *q++ = ':';
                i += best_len - 1;
                continue;
            }
            bool lead = true;
            for (int sh = 12; sh >= 0; sh -= 4) {
                unsigned x = w[i] >> sh & 0xf;
                if (x == 0 && lead && sh)
                    continue;
                lead = false;
                *q++ = json_hex[x];
            }
            if (i < 7)
                *q++ = ':';
        }
    }
    *q = '\0';
    return (size_t)(q - out);
}

void tl_json_ip(struct tl_buf *b, const uint8_t ip[16])
{
    char tmp[TL_IP_TEXT];
    size_t n = tl_fmt_ip(tmp, ip);
    tl_buf_putc(b, '"');
    tl_buf_put(b, tmp, n);
    tl_buf_putc(b, '"');
}

/* --- fields ------------------------------------------------------------- */

static void json_mac(struct tl_buf *b, const uint8_t *m)
{
    char tmp[19], *q = tmp;
    *q++ = '"';
    for (int i = 0; i < 6; i++) {
        *q++ = json_hex[m[i] >> 4];
        *q++ = json_hex[m[i] & 0xf];
        *q++ = i < 5 ? ':' : '"';
    }
    tl_buf_put(b, tmp, sizeof(tmp));
}

static void json_hex32(struct tl_buf *b, uint32_t v)
{
    char tmp[12] = { '"', '0', 'x' };
    for (int i = 0; i < 8; i++)
        tmp[3 + i] = json_hex[v >> (28 - 4 * i) & 0xf];
    tmp[11] = '"';
    tl_buf_put(b, tmp, sizeof(tmp));
}

/* Loads from the record with memcpy: offsets come from tables, not from alignment promises. */
static uint16_t json_u16(const void *rec, size_t off)
{
    uint16_t v;
    memcpy(&v, (const char *)rec + off, sizeof(v));
    return v;
}

static uint32_t json_u32(const void *rec, size_t off)
{
    uint32_t v;
    memcpy(&v, (const char *)rec + off, sizeof(v));
    return v;
}

static uint64_t json_u64v(const void *rec, size_t off)
{
    uint64_t v;
    memcpy(&v, (const char *)rec + off, sizeof(v));
    return v;
}

static double json_f64v(const void *rec, size_t off)
{
    double v;
    memcpy(&v, (const char *)rec + off, sizeof(v));
    return v;
}

static bool json_bool(const void *rec, size_t off)
{
    bool v;
    memcpy(&v, (const char *)rec + off, sizeof(v));
    return v;
}

static const char *json_cstr(const void *rec, size_t off)
{
    const char *v;
    memcpy(&v, (const char *)rec + off, sizeof(v));
    return v;
}

static struct tl_str json_str(const void *rec, size_t off)
{
    struct tl_str v;
    memcpy(&v, (const char *)rec + off, sizeof(v));
    return v;
}

static struct tl_strlist json_strlist(const void *rec, size_t off)
{
    struct tl_strlist v;
    memcpy(&v, (const char *)rec + off, sizeof(v));
    return v;
}

/* Whether a TL_FF_OPT field holds nothing, and is therefore left out. */
static bool json_empty(const struct tl_field *f, const void *rec)
{
    const uint8_t *p = (const uint8_t *)rec + f->off;

    switch (f->type) {
    case TL_F_BOOL: return !json_bool(rec, f->off);
    case TL_F_U8: return *p == 0;
    case TL_F_U16: return json_u16(rec, f->off) == 0;
    case TL_F_U32:
    case TL_F_HEX32: return json_u32(rec, f->off) == 0;
    case TL_F_STATUS: return *p == 0;
    case TL_F_U64:
    case TL_F_TS:
    case TL_F_DUR: return json_u64v(rec, f->off) == 0;
    case TL_F_F64: return json_f64v(rec, f->off) == 0.0;
    case TL_F_STR: return json_str(rec, f->off).len == 0;
    case TL_F_CSTR:
    case TL_F_RAWJSON: {
        const char *s = json_cstr(rec, f->off);
        return !s || !*s;
    }
    case TL_F_CHARS: return *p == 0;
    case TL_F_IP: return json_zero(p, 16);
    case TL_F_MAC: return json_zero(p, 6);
    case TL_F_U16LIST: return ((const uint8_t *)rec)[f->aux] == 0;
    case TL_F_STRLIST: return json_strlist(rec, f->off).n == 0;
    case TL_F_U64LIST: return json_u16(rec, f->aux) == 0;
    default: return false;
    }
}

/* tl_field_present, inline for json_field: most fields are neither optional nor conditional */
static inline bool json_present(const struct tl_field *f, const void *rec)
{
    if ((f->flags & TL_FF_OPT) && json_empty(f, rec))
        return false;
    return !(f->flags & TL_FF_IF) || json_bool(rec, f->aux);
}

bool tl_field_present(const struct tl_field *f, const void *rec)
{
    return json_present(f, rec);
}

/* Inline in the loops over a table's fields, with json_key_plain: their calls took a fifth of
 * the instructions an event's JSON takes (callgrind). */
static inline __attribute__((always_inline)) void
json_field(struct tl_buf *b, bool *first, const struct tl_field *f, const void *rec)
{
    const uint8_t *p = (const uint8_t *)rec + f->off;

    if (!json_present(f, rec))
        return;
    if (f->name_len)
        json_key_plain(b, first, f->name, f->name_len);
    else
        tl_json_key(b, first, f->name);
    switch (f->type) {
    case TL_F_BOOL:
        if (json_bool(rec, f->off))
            tl_buf_put(b, "true", 4);
        else
            tl_buf_put(b, "false", 5);
        break;
    case TL_F_U8: tl_json_u64(b, *p); break;
    case TL_F_U16: tl_json_u64(b, json_u16(rec, f->off)); break;
    case TL_F_U32: tl_json_u64(b, json_u32(rec, f->off)); break;
    case TL_F_U64: tl_json_u64(b, json_u64v(rec, f->off)); break;
    case TL_F_TS: tl_json_ts(b, json_u64v(rec, f->off)); break;
    case TL_F_DUR: tl_json_dur(b, json_u64v(rec, f->off)); break;
    case TL_F_STR: {
        struct tl_str s = json_str(rec, f->off);
        tl_json_string(b, s.len ? s.ptr : "", s.len);
        break;
    }
    case TL_F_CSTR: {
        const char *s = json_cstr(rec, f->off);
        if (s)
            tl_json_string(b, s, strlen(s));
        else
            tl_buf_put(b, "null", 4);
        break;
    }
    case TL_F_CHARS: tl_json_string(b, (const char *)p, strlen((const char *)p)); break;
    case TL_F_IP: tl_json_ip(b, p); break;
    case TL_F_MAC: json_mac(b, p); break;
    case TL_F_U16LIST: {
        uint8_t n = ((const uint8_t *)rec)[f->aux];
        tl_buf_putc(b, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                tl_buf_putc(b, ',');
            tl_json_u64(b, json_u16(rec, f->off + 2 * i));
        }
        tl_buf_putc(b, ']');
        break;
    }
    case TL_F_STRLIST: {
        struct tl_strlist l = json_strlist(rec, f->off);
        tl_buf_putc(b, '[');
        for (uint32_t i = 0; i < l.n; i++) {
            if (i)
                tl_buf_putc(b, ',');
            tl_json_string(b, l.v[i].len ? l.v[i].ptr : "", l.v[i].len);
        }
        tl_buf_putc(b, ']');
        break;
    }
    case TL_F_U64LIST: {
        uint16_t n = json_u16(rec, f->aux);
        tl_buf_putc(b, '[');
        for (size_t i = 0; i < n; i++) {
            if (i)
                tl_buf_putc(b, ',');
            tl_json_u64(b, json_u64v(rec, f->off + 8 * i));
        }
        tl_buf_putc(b, ']');
        break;
    }
    case TL_F_HEX32: json_hex32(b, json_u32(rec, f->off)); break;
    case TL_F_F64: tl_json_f64(b, json_f64v(rec, f->off)); break;
    case TL_F_RAWJSON: { /* the producer vouches for its validity */
        const char *s = json_cstr(rec, f->off);
        if (s && *s)
            tl_buf_puts(b, s);
        else
            tl_buf_put(b, "null", 4);
        break;
    }
    case TL_F_STATUS: {
        static const char *const status[] = { "ok", "truncated", "malformed" };
        uint8_t v = ((const uint8_t *)rec)[f->off];
        const char *name = v < TL_ARRAY_LEN(status) ? status[v] : "malformed";
        tl_json_string(b, name, strlen(name));
        break;
    }
    default: tl_buf_put(b, "null", 4); break; /* a type this writer does not know */
    }
}

void tl_json_field(struct tl_buf *b, bool *first, const struct tl_field *f, const void *rec)
{
    json_field(b, first, f, rec);
}

/*
 * ts first, then event_type and sensor, then the other fields in table order.
 * A table whose first field is not the "ts" TS field is written whole after
 * sensor. A NULL sensor is written as null. The object is left open.
 */
void tl_event_json_begin(struct tl_buf *b, const struct tl_event_type *t, const char *sensor,
                         const void *rec)
{
    bool first = true;
    size_t i = 0;

    tl_buf_putc(b, '{');
    if (t->nfields && t->fields[0].type == TL_F_TS && strcmp(t->fields[0].name, "ts") == 0)
        tl_json_field(b, &first, &t->fields[i++], rec);
    json_key_plain(b, &first, "event_type", strlen("event_type"));
    tl_json_string(b, t->name, strlen(t->name));
    json_key_plain(b, &first, "sensor", strlen("sensor"));
    if (sensor)
        tl_json_string(b, sensor, strlen(sensor));
    else
        tl_buf_put(b, "null", 4);
    for (; i < t->nfields; i++)
        json_field(b, &first, &t->fields[i], rec);
}

void tl_event_json_more(struct tl_buf *b, const struct tl_event_type *fields, const void *rec)
{
    bool first = false;
    for (size_t i = 0; i < fields->nfields; i++)
        json_field(b, &first, &fields->fields[i], rec);
}

void tl_event_json_end(struct tl_buf *b)
{
    tl_buf_put(b, "}\n", 2);
}

void tl_event_json(struct tl_buf *b, const struct tl_event_type *t, const char *sensor,
                   const void *rec)
{
    tl_event_json_begin(b, t, sensor, rec);
    tl_event_json_end(b);
}

/* Zeek-like type names for --list-fields. */
const char *tl_ftype_name(enum tl_ftype t)
{
    static const char *const names[] = {
        [TL_F_BOOL] = "bool",
        [TL_F_U8] = "uint8",
        [TL_F_U16] = "uint16",
        [TL_F_U32] = "uint32",
        [TL_F_U64] = "uint64",
        [TL_F_TS] = "time",
        [TL_F_DUR] = "interval",
        [TL_F_STR] = "string",
        [TL_F_CSTR] = "string",
        [TL_F_CHARS] = "string",
        [TL_F_IP] = "addr",
        [TL_F_MAC] = "mac",
        [TL_F_U16LIST] = "vector[uint16]",
        [TL_F_STRLIST] = "vector[string]",
        [TL_F_HEX32] = "string(hex)",
        [TL_F_U64LIST] = "vector[uint64]",
        [TL_F_STATUS] = "enum(ok,truncated,malformed)",
        [TL_F_RAWJSON] = "object",
        [TL_F_F64] = "double",
    };
    if ((unsigned)t < TL_ARRAY_LEN(names) && names[t])
        return names[t];
    return "unknown";
}
