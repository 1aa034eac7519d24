/*
 * ber.c - the ASN.1 BER reader (ITU-T X.690): see ber.h.
 *
 * Invariants: every read goes through the cursor; a length is compared with
 * the bytes that remain before anything is split off (too long -> SHORT, so a
 * cut capture reads as truncated); an indefinite length (X.690 8.1.3.6) is
 * resolved by walking the nested TLVs up to the end-of-contents octets at the
 * same level, so recursion is bounded by BER_MAX_DEPTH and every pass of the
 * walk consumes at least the two octets of a TLV header.
 */
#include "ber.h"

/* X.690 8.1.2: identifier octets. Multi-byte tag numbers keep at most 28 bits. */
static bool ber_read_tag(struct tl_cursor *c, uint8_t *cls, bool *constructed, uint32_t *tag)
{
    uint8_t b = tl_cur_u8(c);
    if (!tl_cur_ok(c))
        return false;
    *cls = (uint8_t)(b >> 6);
    *constructed = (b & 0x20) != 0;
    *tag = b & 0x1fu;
    if (*tag != 0x1f)
        return true;

    /* 8.1.2.4: base-128, high bit set on all but the last octet. */
    uint32_t v = 0;
    for (unsigned i = 0;; i++) {
        b = tl_cur_u8(c);
        if (!tl_cur_ok(c))
            return false;
        if ((i == 0 && b == 0x80) || i == 4) { /* 8.1.2.4.2 c: no leading zero groups */
            tl_cur_fail(c, TL_CUR_BAD);
            return false;
        }
        v = v << 7 | (b & 0x7fu);
        if (!(b & 0x80))
            break;
    }
    *tag = v;
    return true;
}

/*
 * X.690 8.1.3: the length octets. Sets *indefinite for 0x80. Long forms may
 * carry leading zero octets (BER allows them); a value above 32 bits is BAD.
 */
static bool ber_read_len(struct tl_cursor *c, size_t *len, bool *indefinite)
{
    uint8_t b = tl_cur_u8(c);
    *len = 0;
    *indefinite = false;
    if (!tl_cur_ok(c))
        return false;
    if (b < 0x80) {
        *len = b;
        return true;
    }
    if (b == 0x80) {
        *indefinite = true;
        return true;
    }
    if (b == 0xff) { /* 8.1.3.5 c: reserved */
        tl_cur_fail(c, TL_CUR_BAD);
        return false;
    }
    uint32_t v = 0;
    for (unsigned n = b & 0x7fu; n > 0; n--) {
        uint8_t d = tl_cur_u8(c);
        if (!tl_cur_ok(c))
            return false;
        if (v > 0x00ffffffu) {
            tl_cur_fail(c, TL_CUR_BAD);
            return false;
        }
        v = v << 8 | d;
    }
    *len = v;
    return true;
}

/* Is the next thing in c the end-of-contents octets 00 00? */
static bool ber_at_eoc(const struct tl_cursor *c)
{
    uint8_t a, b;
    return tl_cur_peek(c, 0, &a) && tl_cur_peek(c, 1, &b) && a == 0 && b == 0;
}

bool ber_read(struct tl_cursor *c, struct ber_tlv *t, unsigned depth)
{
    size_t len;

    *t = (struct ber_tlv){ 0 }; /* value: empty until the length is known */
    if (depth >= BER_MAX_DEPTH)
        tl_cur_fail(c, TL_CUR_BAD);
    if (!ber_read_tag(c, &t->cls, &t->constructed, &t->tag) ||
        !ber_read_len(c, &len, &t->indefinite))
        goto fail;
    if (t->cls == BER_UNIVERSAL && t->tag == 0) { /* end-of-contents outside its place */
        tl_cur_fail(c, TL_CUR_BAD);
        goto fail;
    }
    if (t->indefinite) {
        if (!t->constructed) { /* 8.1.3.2 a: primitive elements are definite */
            tl_cur_fail(c, TL_CUR_BAD);
            goto fail;
        }
        /* 8.1.3.6: contents are TLVs up to 00 00 at this level. */
        struct tl_cursor walk = *c;
        struct ber_tlv child;
        while (tl_cur_ok(&walk) && !ber_at_eoc(&walk))
            ber_read(&walk, &child, depth + 1);
        if (!tl_cur_ok(&walk)) {
            tl_cur_fail(c, walk.err);
            goto fail;
        }
        len = tl_cur_left(c) - tl_cur_left(&walk);
    }
    /* Checked before tl_cur_sub(), whose failure path forms NULL + 0 (UB under clang UBSan). */
    if (!tl_cur_need(c, len))
        goto fail;
    tl_cur_sub(c, len, &t->value);
    if (t->indefinite)
        tl_cur_skip(c, 2);
    return tl_cur_ok(c);

fail:
    t->value.err = c->err;
    return false;
}

bool ber_read_cut(struct tl_cursor *c, struct ber_tlv *t, unsigned depth)
{
    struct tl_cursor h = *c;
    size_t len;

    if (ber_read(c, t, depth) || c->err != TL_CUR_SHORT)
        return tl_cur_ok(c);
    /* Re-read the header: a whole header of a constructed, definite element is kept. */
    *t = (struct ber_tlv){ 0 };
    if (depth >= BER_MAX_DEPTH || !ber_read_tag(&h, &t->cls, &t->constructed, &t->tag) ||
        !ber_read_len(&h, &len, &t->indefinite) || t->indefinite || !t->constructed ||
        (t->cls == BER_UNIVERSAL && t->tag == 0)) {
        *t = (struct ber_tlv){ 0 };
        t->value.err = c->err;
        return false;
    }
    t->value = h; /* the rest of c: len is larger */
    return true;
}

bool ber_expect(struct tl_cursor *c, struct ber_tlv *t, uint8_t cls, uint32_t tag, unsigned depth)
{
    if (!ber_read(c, t, depth))
        return false;
    if (t->cls != cls || t->tag != tag) {
        tl_cur_fail(c, TL_CUR_BAD);
        tl_cur_fail(&t->value, TL_CUR_BAD);
        return false;
    }
    return true;
}

bool ber_peek(const struct tl_cursor *c, uint8_t *cls, uint32_t *tag, bool *constructed)
{
    struct tl_cursor p = *c;
    *cls = 0;
    *tag = 0;
    *constructed = false;
    if (tl_cur_left(&p) == 0)
        return false;
    return ber_read_tag(&p, cls, constructed, tag);
}

/* 8.3: two's complement, one to eight octets here. */
bool ber_int(struct ber_tlv *t, int64_t *out)
{
    struct tl_cursor c = t->value;
    size_t n = tl_cur_left(&c);
    *out = 0;
    if (!tl_cur_ok(&c) || n == 0 || n > 8) {
        tl_cur_fail(&t->value, TL_CUR_BAD);
        return false;
    }
    uint8_t first = tl_cur_u8(&c);
    uint64_t v = first & 0x80 ? UINT64_MAX : 0;
    v = v << 8 | first;
    while (tl_cur_left(&c) > 0)
        v = v << 8 | tl_cur_u8(&c);
    /* Two's complement back to a signed value without implementation-defined conversion. */
    *out = v > INT64_MAX ? -(int64_t)(UINT64_MAX - v) - 1 : (int64_t)v;
    return true;
}

bool ber_uint(struct ber_tlv *t, uint64_t *out)
{
    struct tl_cursor c = t->value;
    size_t n = tl_cur_left(&c);
    uint8_t first;
    *out = 0;
    if (!tl_cur_peek(&c, 0, &first) || (first & 0x80) || n > 9 || (n == 9 && first != 0)) {
        tl_cur_fail(&t->value, TL_CUR_BAD);
        return false;
    }
    uint64_t v = 0;
    while (tl_cur_left(&c) > 0)
        v = v << 8 | tl_cur_u8(&c);
    *out = v;
    return true;
}

/* 8.2: exactly one octet; any non-zero value is TRUE. */
bool ber_bool(struct ber_tlv *t, bool *out)
{
    struct tl_cursor c = t->value;
    *out = false;
    if (tl_cur_left(&c) != 1) {
        tl_cur_fail(&t->value, TL_CUR_BAD);
        return false;
    }
    *out = tl_cur_u8(&c) != 0;
    return true;
}

struct tl_str ber_str(const struct ber_tlv *t)
{
    return tl_cur_rest(&t->value);
}

/*
 * 8.6: the unused-bits octet (0-7), then the bits, first bit in the top of
 * the first octet. Bit 0 lands in the top of *out (as RFC 4120 numbers
 * KerberosFlags); fewer than 32 bits are padded with zeros, more are ignored.
 */
bool ber_bits32(struct ber_tlv *t, uint32_t *out)
{
    struct tl_cursor c = t->value;
    uint8_t unused = tl_cur_u8(&c);
    size_t n = tl_cur_left(&c);
    *out = 0;
    if (!tl_cur_ok(&c) || unused > 7 || (n == 0 && unused != 0)) {
        tl_cur_fail(&t->value, TL_CUR_BAD);
        return false;
    }
    uint32_t v = 0;
    for (unsigned i = 0; i < 4; i++)
        v = v << 8 | (tl_cur_left(&c) > 0 ? tl_cur_u8(&c) : 0u);
    if (n > 0 && n <= 4) /* clear the unused bits of the last octet */
        v &= UINT32_MAX << (unused + 8u * (unsigned)(4 - n));
    *out = v;
    return true;
}

/* Appends v in decimal to buf at *at; false when it does not fit (with the NUL). */
static bool ber_put_u64(char *buf, size_t len, size_t *at, uint64_t v, bool dot)
{
    char tmp[24];
    size_t n = 0;
    if (dot)
        tmp[n++] = '.';
    char digits[20];
    size_t d = 0;
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (d > 0)
        tmp[n++] = digits[--d];
    if (n >= len - *at)
        return false;
    memcpy(buf + *at, tmp, n);
    *at += n;
    buf[*at] = '\0';
    return true;
}

/* 8.19: subidentifiers in base 128; the first one is X * 40 + Y. */
bool ber_oid(const struct ber_tlv *t, char *buf, size_t len)
{
    struct tl_cursor c = t->value;
    size_t at = 0;
    bool first = true;

    if (len == 0)
        return false;
    buf[0] = '\0';
    if (tl_cur_left(&c) == 0)
        return false;
    while (tl_cur_left(&c) > 0) {
        uint64_t v = 0;
        uint8_t b = tl_cur_u8(&c);
        if (b == 0x80) /* 8.19.2: no leading 0x80 */
            return false;
        for (;;) {
            if (v > (UINT64_MAX >> 7))
                return false;
            v = v << 7 | (b & 0x7fu);
            if (!(b & 0x80))
                break;
            b = tl_cur_u8(&c);
            if (!tl_cur_ok(&c)) /* the last octet still had its continuation bit */
                return false;
        }
        if (first) {
            uint64_t x = v < 40 ? 0 : v < 80 ? 1 : 2;
            if (!ber_put_u64(buf, len, &at, x, false) ||
                !ber_put_u64(buf, len, &at, v - 40 * x, true))
                return false;
            first = false;
        } else if (!ber_put_u64(buf, len, &at, v, true)) {
            return false;
        }
    }
    return true;
}
