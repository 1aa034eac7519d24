/*
 * jsonread.c - a small strict JSON reader (see jsonread.h).
 *
 * One recursive scanner, jr_value(), both checks a value and finds its end;
 * the member and element walks run it again over a value already checked, so
 * every walk is bounded by the value's length and the depth by
 * TL_JREAD_DEPTH. Every byte is read through the cursor.
 */
#include <stdlib.h>
#include <string.h>

#include "jsonread.h"

static bool jr_value(struct tl_cursor *c, int depth, struct tl_jval *v);

static bool jr_is(const struct tl_cursor *c, uint8_t want)
{
    uint8_t b;
    return tl_cur_peek(c, 0, &b) && b == want;
}

static void jr_ws(struct tl_cursor *c)
{
    uint8_t b;
    while (tl_cur_peek(c, 0, &b) && (b == ' ' || b == '\t' || b == '\n' || b == '\r'))
        tl_cur_skip(c, 1);
}

/* Consumes `want` (after whitespace); false if the next byte is another. */
static bool jr_expect(struct tl_cursor *c, uint8_t want)
{
    jr_ws(c);
    return jr_is(c, want) && tl_cur_skip(c, 1);
}

static bool jr_literal(struct tl_cursor *c, const char *lit)
{
    size_t n = strlen(lit);
    const uint8_t *p = tl_cur_bytes(c, n);
    return p && memcmp(p, lit, n) == 0;
}

static size_t jr_digits(struct tl_cursor *c)
{
    uint8_t b;
    size_t k = 0;
    while (tl_cur_peek(c, 0, &b) && b >= '0' && b <= '9') {
        tl_cur_skip(c, 1);
        k++;
    }
    return k;
}

/* RFC 8259 6: -?(0|[1-9][0-9]*)(.[0-9]+)?([eE][+-]?[0-9]+)? */
static bool jr_number(struct tl_cursor *c)
{
    uint8_t b;
    if (jr_is(c, '-'))
        tl_cur_skip(c, 1);
    if (!tl_cur_peek(c, 0, &b) || b < '0' || b > '9')
        return false;
    if (b == '0')
        tl_cur_skip(c, 1);
    else
        jr_digits(c);
    if (jr_is(c, '.') && (!tl_cur_skip(c, 1) || !jr_digits(c)))
        return false;
    if (jr_is(c, 'e') || jr_is(c, 'E')) {
        tl_cur_skip(c, 1);
        if (jr_is(c, '+') || jr_is(c, '-'))
            tl_cur_skip(c, 1);
        if (!jr_digits(c))
            return false;
    }
    return true;
}

static bool jr_hex4(struct tl_cursor *c, uint32_t *u)
{
    *u = 0;
    for (int i = 0; i < 4; i++) {
        uint8_t b = tl_cur_u8(c);
        uint32_t d = b >= '0' && b <= '9'   ? (uint32_t)(b - '0')
                     : b >= 'a' && b <= 'f' ? (uint32_t)(b - 'a' + 10)
                     : b >= 'A' && b <= 'F' ? (uint32_t)(b - 'A' + 10)
                                            : 16;
        if (d == 16 || !tl_cur_ok(c))
            return false;
        *u = *u << 4 | d;
    }
    return true;
}

/* After a backslash: the escaped character, a \u surrogate pair joined. */
static bool jr_escape(struct tl_cursor *c, uint32_t *cp)
{
    static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
    uint8_t b = tl_cur_u8(c);
    const char *k = b ? strchr(from, b) : NULL;
    uint32_t lo;

    if (k) {
        *cp = (uint8_t)to[k - from];
        return true;
    }
    if (b != 'u' || !jr_hex4(c, cp) || (*cp >= 0xdc00 && *cp <= 0xdfff))
        return false;
    if (*cp < 0xd800 || *cp > 0xdbff)
        return true;
    if (!jr_literal(c, "\\u") || !jr_hex4(c, &lo) || lo < 0xdc00 || lo > 0xdfff)
        return false;
    *cp = 0x10000 + ((*cp - 0xd800) << 10) + (lo - 0xdc00);
    return true;
}

/* A multi-byte UTF-8 sequence whose lead byte b was read (RFC 3629 4). */
static bool jr_utf8(struct tl_cursor *c, uint8_t b, uint32_t *cp)
{
    size_t more = b >= 0xf0 ? 3 : b >= 0xe0 ? 2 : 1;
    uint32_t min = more == 3 ? 0x10000 : more == 2 ? 0x800 : 0x80;

    if (b < 0xc2 || b > 0xf4)
        return false;
    *cp = b & (more == 3 ? 0x07 : more == 2 ? 0x0f : 0x1f);
    for (size_t i = 0; i < more; i++) {
        uint8_t t = tl_cur_u8(c);
        if (!tl_cur_ok(c) || (t & 0xc0) != 0x80)
            return false;
        *cp = *cp << 6 | (t & 0x3f);
    }
    return *cp >= min && *cp <= 0x10ffff && (*cp < 0xd800 || *cp > 0xdfff);
}

/* The next character of a string (the opening quote read): 1 and *cp, 0 at the closing
 * quote, -1 on anything RFC 8259 and RFC 3629 refuse. */
static int jr_char(struct tl_cursor *c, uint32_t *cp)
{
    uint8_t b = tl_cur_u8(c);
    if (!tl_cur_ok(c) || b < 0x20)
        return -1;
    if (b == '"')
        return 0;
    if (b == '\\')
        return jr_escape(c, cp) ? 1 : -1;
    *cp = b;
    if (b < 0x80)
        return 1;
    return jr_utf8(c, b, cp) ? 1 : -1;
}

static bool jr_string(struct tl_cursor *c)
{
    uint32_t cp;
    uint8_t b;
    int r;
    if (!jr_literal(c, "\""))
        return false;
    do { /* runs of plain ASCII first: most of a line */
        while (tl_cur_peek(c, 0, &b) && b >= 0x20 && b < 0x80 && b != '"' && b != '\\')
            tl_cur_skip(c, 1);
    } while ((r = jr_char(c, &cp)) > 0);
    return r == 0;
}

/* `{...}` or `[...]`: members (a string key, a colon and a value) or values, comma-separated. */
static bool jr_container(struct tl_cursor *c, int depth, uint8_t close, bool keys)
{
    struct tl_jval v;
    tl_cur_skip(c, 1);
    jr_ws(c);
    if (jr_is(c, close))
        return tl_cur_skip(c, 1);
    do {
        jr_ws(c);
        if (keys && (!jr_string(c) || !jr_expect(c, ':')))
            return false;
        if (!jr_value(c, depth + 1, &v))
            return false;
        jr_ws(c);
    } while (jr_is(c, ',') && tl_cur_skip(c, 1));
    return jr_is(c, close) && tl_cur_skip(c, 1);
}

/* One value after optional whitespace; v holds its kind and text. */
static bool jr_value(struct tl_cursor *c, int depth, struct tl_jval *v)
{
    uint8_t b;
    bool ok;

    jr_ws(c);
    struct tl_str start = tl_cur_rest(c);
    if (!tl_cur_peek(c, 0, &b) || ((b == '{' || b == '[') && depth > TL_JREAD_DEPTH))
        return false; /* depth counts the objects and arrays around a value */
    switch (b) {
    case '{': v->kind = TL_J_OBJ, ok = jr_container(c, depth, '}', true); break;
    case '[': v->kind = TL_J_ARR, ok = jr_container(c, depth, ']', false); break;
    case '"': v->kind = TL_J_STR, ok = jr_string(c); break;
    case 't': v->kind = TL_J_TRUE, ok = jr_literal(c, "true"); break;
    case 'f': v->kind = TL_J_FALSE, ok = jr_literal(c, "false"); break;
    case 'n': v->kind = TL_J_NULL, ok = jr_literal(c, "null"); break;
    default: v->kind = TL_J_NUM, ok = jr_number(c); break;
    }
    v->text.ptr = start.ptr;
    v->text.len = start.len - tl_cur_left(c);
    return ok && tl_cur_ok(c);
}

bool tl_jread_object(const char *p, size_t n, struct tl_jval *obj)
{
    struct tl_cursor c = tl_cur_make(p, n);
    if (!jr_value(&c, 1, obj) || obj->kind != TL_J_OBJ)
        return false;
    jr_ws(&c);
    return tl_cur_left(&c) == 0;
}

/*
 * The members (keys) or elements of the container at c, each to fn until it returns false
 * (`all` ignores its return); true when the container was well formed up to its end.
 */
static bool jr_walk_at(struct tl_cursor *c, bool keys, bool all, tl_jmember_fn fn, void *arg)
{
    struct tl_jval key = { TL_J_STR, { "", 0 } }, val;
    uint8_t close = keys ? '}' : ']';

    tl_cur_skip(c, 1);
    jr_ws(c);
    if (jr_is(c, close))
        return tl_cur_skip(c, 1);
    do {
        jr_ws(c);
        if (keys) {
            struct tl_str start = tl_cur_rest(c);
            if (!jr_string(c))
                return false;
            key.text.ptr = start.ptr;
            key.text.len = start.len - tl_cur_left(c);
            if (!jr_expect(c, ':'))
                return false;
        }
        if (!jr_value(c, 2, &val))
            return false;
        if (!fn(arg, &key, &val) && !all)
            return true;
        jr_ws(c);
    } while (jr_is(c, ',') && tl_cur_skip(c, 1));
    return jr_is(c, close) && tl_cur_skip(c, 1);
}

/* The walk of a checked container: each key (objects) and value to fn. */
static void jr_walk(const struct tl_jval *v, bool keys, tl_jmember_fn fn, void *arg)
{
    struct tl_cursor c = tl_cur_make(v->text.ptr, v->text.len);
    jr_walk_at(&c, keys, false, fn, arg);
}

bool tl_jread_each(const char *p, size_t n, struct tl_jval *obj, tl_jmember_fn fn, void *arg)
{
    struct tl_cursor c = tl_cur_make(p, n);
    jr_ws(&c);
    struct tl_str start = tl_cur_rest(&c);
    if (!jr_is(&c, '{') || !jr_walk_at(&c, true, true, fn, arg))
        return false;
    obj->kind = TL_J_OBJ;
    obj->text.ptr = start.ptr;
    obj->text.len = start.len - tl_cur_left(&c);
    jr_ws(&c);
    return tl_cur_ok(&c) && tl_cur_left(&c) == 0;
}

void tl_jread_members(const struct tl_jval *obj, tl_jmember_fn fn, void *arg)
{
    if (obj->kind == TL_J_OBJ)
        jr_walk(obj, true, fn, arg);
}

struct jr_elem {
    tl_jelem_fn fn;
    void *arg;
};

static bool jr_elem(void *arg, const struct tl_jval *key, const struct tl_jval *val)
{
    struct jr_elem *e = arg;
    (void)key;
    return e->fn(e->arg, val);
}

void tl_jread_elements(const struct tl_jval *arr, tl_jelem_fn fn, void *arg)
{
    struct jr_elem e = { fn, arg };
    if (arr->kind == TL_J_ARR)
        jr_walk(arr, false, jr_elem, &e);
}

/* UTF-8 of cp into out; its length (1 to 4). */
static size_t jr_encode(uint32_t cp, char out[4])
{
    if (cp < 0x80) {
        out[0] = (char)cp;
        return 1;
    }
    if (cp < 0x800) {
        out[0] = (char)(0xc0 | cp >> 6);
        out[1] = (char)(0x80 | (cp & 0x3f));
        return 2;
    }
    if (cp < 0x10000) {
        out[0] = (char)(0xe0 | cp >> 12);
        out[1] = (char)(0x80 | (cp >> 6 & 0x3f));
        out[2] = (char)(0x80 | (cp & 0x3f));
        return 3;
    }
    out[0] = (char)(0xf0 | cp >> 18);
    out[1] = (char)(0x80 | (cp >> 12 & 0x3f));
    out[2] = (char)(0x80 | (cp >> 6 & 0x3f));
    out[3] = (char)(0x80 | (cp & 0x3f));
    return 4;
}

size_t tl_jread_str(const struct tl_jval *v, char *out, size_t cap)
{
    struct tl_cursor c = tl_cur_make(v->text.ptr, v->text.len);
    size_t used = 0;
    uint32_t cp;
    char enc[4];

    out[0] = '\0';
    if (v->kind != TL_J_STR || !jr_literal(&c, "\""))
        return 0;
    while (jr_char(&c, &cp) > 0) {
        size_t k = jr_encode(cp, enc);
        if (k >= cap - used)
            break;
        memcpy(out + used, enc, k);
        used += k;
    }
    out[used] = '\0';
    return used;
}

bool tl_jread_streq(const struct tl_jval *v, const char *s)
{
    struct tl_cursor c = tl_cur_make(v->text.ptr, v->text.len);
    size_t n = strlen(s), i = 0;
    uint32_t cp;
    char enc[4];
    int r;

    if (v->kind != TL_J_STR || !jr_literal(&c, "\""))
        return false;
    while ((r = jr_char(&c, &cp)) > 0) {
        size_t k = jr_encode(cp, enc);
        if (k > n - i || memcmp(s + i, enc, k) != 0)
            return false;
        i += k;
    }
    return r == 0 && i == n;
}

bool tl_jread_u64(const struct tl_jval *v, uint64_t *out)
{
    struct tl_cursor c = tl_cur_make(v->text.ptr, v->text.len);
    uint64_t x = 0;
    uint8_t b;

    if (v->kind != TL_J_NUM || !tl_cur_left(&c))
        return false;
    while (tl_cur_peek(&c, 0, &b) && b >= '0' && b <= '9') {
        if (x > (UINT64_MAX - (uint64_t)(b - '0')) / 10)
            return false;
        x = x * 10 + (uint64_t)(b - '0');
        tl_cur_skip(&c, 1);
    }
    *out = x;
    return tl_cur_left(&c) == 0;
}

bool tl_jread_f64(const struct tl_jval *v, double *out)
{
    char buf[64];
    char *end;
    if (v->kind != TL_J_NUM || v->text.len >= sizeof(buf))
        return false;
    memcpy(buf, v->text.ptr, v->text.len);
    buf[v->text.len] = '\0';
    *out = strtod(buf, &end);
    return *end == '\0';
}

/* Days from 1970-01-01 to y-m-d (proleptic Gregorian; H. Hinnant's days_from_civil). */
static int64_t jr_days(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = y / 400; /* y >= 1969: no negative eras */
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned mp = m > 2 ? m - 3 : m + 9; /* March is 0 */
    unsigned doy = (153 * mp + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

/* n decimal digits at s; -1 if any is not a digit. */
static int64_t jr_num(const char *s, size_t n)
{
    int64_t x = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        x = x * 10 + (s[i] - '0');
    }
    return x;
}

bool tl_jread_ts(const struct tl_jval *v, uint64_t *us)
{
    static const unsigned mdays[] = { 31, 29, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
    char s[40];
    size_t n = tl_jread_str(v, s, sizeof(s)), frac = 0;
    int64_t sub = 0;

    if (n < 20 || s[4] != '-' || s[7] != '-' || s[10] != 'T' || s[13] != ':' || s[16] != ':' ||
        s[n - 1] != 'Z')
        return false;
    int64_t y = jr_num(s, 4), mo = jr_num(s + 5, 2), d = jr_num(s + 8, 2), h = jr_num(s + 11, 2),
            mi = jr_num(s + 14, 2), se = jr_num(s + 17, 2);
    if (n > 20) { /* .f to .ffffff, then Z */
        frac = n - 21;
        if (s[19] != '.' || frac < 1 || frac > 6 || (sub = jr_num(s + 20, frac)) < 0)
            return false;
        for (size_t i = frac; i < 6; i++)
            sub *= 10;
    }
    if (y < 1970 || mo < 1 || mo > 12 || d < 1 || (unsigned)d > mdays[mo - 1] || h < 0 || h > 23 ||
        mi < 0 || mi > 59 || se < 0 || se > 59)
        return false;
    bool leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    if (mo == 2 && d == 29 && !leap)
        return false;
    int64_t secs = jr_days(y, (unsigned)mo, (unsigned)d) * 86400 + h * 3600 + mi * 60 + se;
    *us = (uint64_t)secs * 1000000u + (uint64_t)sub;
    return true;
}
