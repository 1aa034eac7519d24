/*
 * pattern.c - Sigma values as token strings, and their transformations (see sigma.h).
 *
 * Sigma specification 2.0, "Wildcards" and "Value modifiers": `*` and `?` are
 * wildcards, a backslash escapes a wildcard or a backslash, any other
 * backslash is a literal one. The encoding modifiers (wide/utf16*, base64,
 * base64offset, windash) act on the value in the order written, before
 * contains/startswith/endswith add their wildcards; base64 of a value that
 * holds a wildcard has no meaning and is refused by the caller.
 */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "sigma.h"

int sg_tok_push(struct sg_tok *t, uint16_t c)
{
    if (t->n == t->cap) {
        size_t cap = t->cap ? t->cap * 2 : 32;
        uint16_t *p = realloc(t->t, cap * sizeof(*p));
        if (!p)
            return -1;
        t->t = p;
        t->cap = cap;
    }
    t->t[t->n++] = c;
    return 0;
}

void sg_tok_free(struct sg_tok *t)
{
    free(t->t);
    memset(t, 0, sizeof(*t));
}

int sg_tok_parse(struct sg_tok *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        uint16_t c = (uint8_t)s[i];
        if (c == '*')
            c = SG_STAR;
        else if (c == '?')
            c = SG_QMARK;
        else if (c == '\\' && i + 1 < len &&
                 (s[i + 1] == '*' || s[i + 1] == '?' || s[i + 1] == '\\'))
            c = (uint8_t)s[++i];
        if (sg_tok_push(out, c))
            return -1;
    }
    return 0;
}

int sg_tok_copy(struct sg_tok *dst, const struct sg_tok *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (sg_tok_push(dst, src->t[i]))
            return -1;
    return 0;
}

int sg_tok_literal(struct sg_tok *out, const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (sg_tok_push(out, (uint8_t)s[i]))
            return -1;
    return 0;
}

bool sg_tok_has_wildcard(const struct sg_tok *t)
{
    for (size_t i = 0; i < t->n; i++)
        if (t->t[i] > 255)
            return true;
    return false;
}

/* One code point from UTF-8 at t[*i] (literal bytes only); a bad byte stands for itself. */
static uint32_t pattern_utf8(const struct sg_tok *t, size_t *i)
{
    uint32_t c = t->t[*i];
    size_t need = c >= 0xf0 && c < 0xf8 ? 3 : c >= 0xe0 ? 2 : c >= 0xc0 ? 1 : 0;
    if (c < 0x80 || need == 0 || *i + need >= t->n || c >= 0xf8) {
        (*i)++;
        return c;
    }
    uint32_t cp = c & (0x3f >> need);
    for (size_t k = 1; k <= need; k++) {
        uint16_t b = t->t[*i + k];
        if (b > 255 || (b & 0xc0) != 0x80) {
            (*i)++;
            return c;
        }
        cp = cp << 6 | (b & 0x3f);
    }
    *i += need + 1;
    return cp;
}

static int pattern_unit(struct sg_tok *o, uint32_t u, bool be)
{
    uint16_t lo = (uint16_t)(u & 0xff), hi = (uint16_t)(u >> 8 & 0xff);
    return sg_tok_push(o, be ? hi : lo) || sg_tok_push(o, be ? lo : hi) ? -1 : 0;
}

int sg_tok_utf16(struct sg_tok *t, enum sg_utf16 how)
{
    struct sg_tok o = { 0 };
    bool be = how == SG_UTF16BE;
    if (how == SG_UTF16BOM && (sg_tok_push(&o, 0xff) || sg_tok_push(&o, 0xfe)))
        goto fail;
    for (size_t i = 0; i < t->n;) {
        if (t->t[i] > 255) {
            if (sg_tok_push(&o, t->t[i++]))
                goto fail;
            continue;
        }
        uint32_t cp = pattern_utf8(t, &i);
        int rc;
        if (cp >= 0x10000) {
            cp -= 0x10000;
            rc = pattern_unit(&o, 0xd800 | cp >> 10, be) ||
                 pattern_unit(&o, 0xdc00 | (cp & 0x3ff), be);
        } else {
            rc = pattern_unit(&o, cp, be);
        }
        if (rc)
            goto fail;
    }
    sg_tok_free(t);
    *t = o;
    return 0;
fail:
    sg_tok_free(&o);
    return -1;
}

static const char pattern_b64[] =
    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";

/* RFC 4648 base64 of n bytes into out (4 * ceil(n / 3) bytes, padded). */
static size_t pattern_b64enc(const uint8_t *in, size_t n, uint8_t *out)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i += 3) {
        uint32_t v = (uint32_t)in[i] << 16;
        if (i + 1 < n)
            v |= (uint32_t)in[i + 1] << 8;
        if (i + 2 < n)
            v |= in[i + 2];
        out[o++] = (uint8_t)pattern_b64[v >> 18 & 63];
        out[o++] = (uint8_t)pattern_b64[v >> 12 & 63];
        out[o++] = i + 1 < n ? (uint8_t)pattern_b64[v >> 6 & 63] : '=';
        out[o++] = i + 2 < n ? (uint8_t)pattern_b64[v & 63] : '=';
    }
    return o;
}

/*
 * base64offset: the value may sit at any of three byte offsets in the encoded
 * data; for each, encode it behind that many filler bytes and keep only the
 * characters that depend on the value alone (the same three strings pySigma
 * and the spec's examples give).
 */
int sg_tok_base64(struct sg_tok *t, int offset)
{
    size_t pad = offset > 0 ? (size_t)offset : 0, n = t->n + pad;
    uint8_t *in = malloc(n + 1), *enc = malloc(4 * (n / 3 + 1) + 1);
    struct sg_tok o = { 0 };
    int rc = -1;

    if (!in || !enc)
        goto done;
    memset(in, ' ', pad);
    for (size_t i = 0; i < t->n; i++)
        in[pad + i] = (uint8_t)t->t[i];
    size_t elen = pattern_b64enc(in, n, enc), from = 0, to = elen;
    if (offset >= 0) {
        static const size_t start[3] = { 0, 2, 3 }, cut[3] = { 0, 3, 2 };
        from = start[offset];
        size_t c = cut[(t->n + (size_t)offset) % 3];
        to = elen > c ? elen - c : 0;
        if (to < from)
            to = from;
    }
    for (size_t i = from; i < to; i++)
        if (sg_tok_push(&o, enc[i]))
            goto done;
    sg_tok_free(t);
    *t = o;
    o.t = NULL;
    rc = 0;
done:
    sg_tok_free(&o);
    free(in);
    free(enc);
    return rc;
}

int sg_tok_wrap(struct sg_tok *t, bool front, bool back)
{
    if (front && (t->n == 0 || t->t[0] != SG_STAR)) {
        if (sg_tok_push(t, 0))
            return -1;
        memmove(t->t + 1, t->t, (t->n - 1) * sizeof(*t->t));
        t->t[0] = SG_STAR;
    }
    if (back && (t->n == 0 || t->t[t->n - 1] != SG_STAR))
        return sg_tok_push(t, SG_STAR);
    return 0;
}

static bool pattern_word(uint16_t c)
{
    return c < 256 &&
           (c == '_' || (c >= '0' && c <= '9') || ((c | 0x20) >= 'a' && (c | 0x20) <= 'z'));
}

/* Option dashes: `-` or `/` not after a word character and before one (pySigma's \B[-/]\b). */
static bool pattern_dash_at(const struct sg_tok *t, size_t i)
{
    if (t->t[i] != '-' && t->t[i] != '/')
        return false;
    if (i > 0 && pattern_word(t->t[i - 1]))
        return false;
    return i + 1 < t->n && pattern_word(t->t[i + 1]);
}

int sg_tok_windash(const struct sg_tok *t, struct sg_tok **out, size_t *nout, size_t max)
{
    static const char *const dashes[] = { "-", "/", "\xe2\x80\x93", "\xe2\x80\x94",
                                          "\xe2\x80\x95" };
    enum { ND = 5 };
    size_t pos[16], k = 0, total = 1;

    for (size_t i = 0; i < t->n; i++)
        if (pattern_dash_at(t, i)) {
            if (k == 16 || total * ND > max)
                return -1;
            pos[k++] = i;
            total *= ND;
        }
    struct sg_tok *v = calloc(total, sizeof(*v));
    if (!v)
        return -1;
    for (size_t c = 0; c < total; c++) {
        size_t code = c, next = 0;
        for (size_t i = 0; i < t->n; i++) {
            if (next < k && pos[next] == i) {
                const char *d = dashes[code % ND];
                code /= ND;
                next++;
                if (sg_tok_literal(&v[c], d, strlen(d)))
                    goto fail;
            } else if (sg_tok_push(&v[c], t->t[i])) {
                goto fail;
            }
        }
    }
    *out = v;
    *nout = total;
    return 0;
fail:
    for (size_t c = 0; c < total; c++)
        sg_tok_free(&v[c]);
    free(v);
    return -1;
}

bool sg_number(const char *s, size_t len, double *out)
{
    char buf[64], *end;
    if (!len || len >= sizeof(buf) || s[0] == ' ' || s[0] == '\t')
        return false;
    memcpy(buf, s, len);
    buf[len] = '\0';
    *out = strtod(buf, &end);
    return *end == '\0' && isfinite(*out);
}

/* Iterative glob: on a mismatch, retry from the last star one byte further. Linear per star. */
bool sg_glob_match(const uint16_t *g, size_t ng, const uint8_t *s, size_t n)
{
    size_t gi = 0, si = 0, star = SIZE_MAX, mark = 0;
    while (si < n) {
        if (gi < ng && g[gi] == SG_STAR) {
            star = gi++;
            mark = si;
        } else if (gi < ng && (g[gi] == SG_QMARK || g[gi] == s[si])) {
            gi++;
            si++;
        } else if (star != SIZE_MAX) {
            gi = star + 1;
            si = ++mark;
        } else {
            return false;
        }
    }
    while (gi < ng && g[gi] == SG_STAR)
        gi++;
    return gi == ng;
}
