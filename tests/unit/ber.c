/*
 * ber.c - the ASN.1 BER reader (X.690): every length form, indefinite lengths,
 * the depth limit, tags of every class, integers, bit strings, OIDs, and
 * truncation at every byte in exact-size heap copies.
 */
#include <stdlib.h>

#include "ber.h"
#include "check.h"

/* Reads one TLV from an exact-size copy of b[0..n). Returns the cursor error. */
static enum tl_cur_err ber_one(const uint8_t *b, size_t n, struct ber_tlv *t, size_t *left,
                               size_t *vlen)
{
    uint8_t *p = tl_test_dup(b, n);
    struct tl_cursor c = tl_cur_make(p, n);
    bool ok = ber_read(&c, t, 0);
    CHECK_EQ(ok, tl_cur_ok(&c));
    *left = tl_cur_left(&c);
    *vlen = tl_cur_left(&t->value);
    free(p);
    return c.err;
}

static void test_short_form(void)
{
    static const uint8_t b[] = { 0x04, 0x03, 'a', 'b', 'c', 0x05, 0x00 };
    struct tl_cursor c = tl_cur_make(b, sizeof(b));
    struct ber_tlv t;
    CHECK(ber_read(&c, &t, 0));
    CHECK_EQ(t.cls, BER_UNIVERSAL);
    CHECK_EQ(t.tag, BER_OCTET_STRING);
    CHECK(!t.constructed && !t.indefinite);
    CHECK_MEM(ber_str(&t).ptr, ber_str(&t).len, "abc");
    CHECK(ber_read(&c, &t, 0));
    CHECK_EQ(t.tag, BER_NULL);
    CHECK_EQ(tl_cur_left(&t.value), 0);
    CHECK_EQ(tl_cur_left(&c), 0);
    CHECK(tl_cur_ok(&c));
}

static void test_long_forms(void)
{
    static uint8_t b[8 + 300];
    struct ber_tlv t;
    size_t left, vlen;
    memset(b, 'x', sizeof(b));

    /* 0x81 nn, 0x82 nnnn, 0x83, 0x84: one to four length octets. */
    b[0] = 0x04, b[1] = 0x81, b[2] = 200;
    CHECK_EQ(ber_one(b, 3 + 200, &t, &left, &vlen), TL_CUR_OK);
    CHECK_EQ(vlen, 200);
    CHECK_EQ(left, 0);
    b[1] = 0x82, b[2] = 0x01, b[3] = 0x2c;
    CHECK_EQ(ber_one(b, 4 + 300, &t, &left, &vlen), TL_CUR_OK);
    CHECK_EQ(vlen, 300);
    b[1] = 0x83, b[2] = 0x00, b[3] = 0x01, b[4] = 0x00;
    CHECK_EQ(ber_one(b, 5 + 256 + 3, &t, &left, &vlen), TL_CUR_OK);
    CHECK_EQ(vlen, 256);
    CHECK_EQ(left, 3);
    /* Leading zeros (allowed by BER, X.690 8.1.3.5 note). */
    b[1] = 0x84, b[2] = 0, b[3] = 0, b[4] = 0, b[5] = 5;
    CHECK_EQ(ber_one(b, 6 + 5, &t, &left, &vlen), TL_CUR_OK);
    CHECK_EQ(vlen, 5);
    b[1] = 0x86, b[2] = 0, b[3] = 0, b[4] = 0, b[5] = 0, b[6] = 0, b[7] = 2;
    CHECK_EQ(ber_one(b, 8 + 2, &t, &left, &vlen), TL_CUR_OK);
    CHECK_EQ(vlen, 2);
    /* A long form for a short length is still BER. */
    b[1] = 0x81, b[2] = 1;
    CHECK_EQ(ber_one(b, 4, &t, &left, &vlen), TL_CUR_OK);
    CHECK_EQ(vlen, 1);
    /* Longer than the bytes that remain: SHORT (a cut capture), not BAD. */
    b[1] = 0x82, b[2] = 0x01, b[3] = 0x2c;
    CHECK_EQ(ber_one(b, 4 + 299, &t, &left, &vlen), TL_CUR_SHORT);
    CHECK_EQ(t.value.err, TL_CUR_SHORT);
    CHECK_EQ(vlen, 0);
    b[1] = 0x84, b[2] = 0xff, b[3] = 0xff, b[4] = 0xff, b[5] = 0xff;
    CHECK_EQ(ber_one(b, 16, &t, &left, &vlen), TL_CUR_SHORT);
    /* Beyond 32 bits, and the reserved 0xff: impossible. */
    b[1] = 0x85, b[2] = 1, b[3] = 0, b[4] = 0, b[5] = 0, b[6] = 0;
    CHECK_EQ(ber_one(b, 16, &t, &left, &vlen), TL_CUR_BAD);
    b[1] = 0xff;
    CHECK_EQ(ber_one(b, 16, &t, &left, &vlen), TL_CUR_BAD);
    /* Length octets themselves cut. */
    b[1] = 0x82;
    CHECK_EQ(ber_one(b, 3, &t, &left, &vlen), TL_CUR_SHORT);
    CHECK_EQ(ber_one(b, 1, &t, &left, &vlen), TL_CUR_SHORT);
    CHECK_EQ(ber_one(b, 0, &t, &left, &vlen), TL_CUR_SHORT);
}

static void test_indefinite(void)
{
    /* SEQUENCE(indef) { OCTET STRING "A", SEQUENCE(indef) { INTEGER 5 } }, then NULL. */
    static const uint8_t b[] = { 0x30, 0x80, 0x04, 0x01, 'A',  0x30, 0x80, 0x02,
                                 0x01, 0x05, 0x00, 0x00, 0x00, 0x00, 0x05, 0x00 };
    struct tl_cursor c = tl_cur_make(b, sizeof(b));
    struct ber_tlv seq, t, inner;
    int64_t v;
    CHECK(ber_read(&c, &seq, 0));
    CHECK(seq.indefinite && seq.constructed);
    CHECK_EQ(tl_cur_left(&seq.value), 10); /* without the end-of-contents octets */
    CHECK(ber_expect(&seq.value, &t, BER_UNIVERSAL, BER_OCTET_STRING, 1));
    CHECK_MEM(ber_str(&t).ptr, ber_str(&t).len, "A");
    CHECK(ber_expect(&seq.value, &inner, BER_UNIVERSAL, BER_SEQUENCE, 1));
    CHECK(inner.indefinite);
    CHECK(ber_expect(&inner.value, &t, BER_UNIVERSAL, BER_INTEGER, 2));
    CHECK(ber_int(&t, &v) && v == 5);
    CHECK_EQ(tl_cur_left(&inner.value), 0);
    CHECK_EQ(tl_cur_left(&seq.value), 0);
    CHECK(ber_expect(&c, &t, BER_UNIVERSAL, BER_NULL, 0));
    CHECK_EQ(tl_cur_left(&c), 0);

    /* Empty indefinite contents. */
    static const uint8_t e[] = { 0xa0, 0x80, 0x00, 0x00 };
    c = tl_cur_make(e, sizeof(e));
    CHECK(ber_read(&c, &t, 0) && t.cls == BER_CONTEXT && tl_cur_left(&t.value) == 0);

    /* A primitive element cannot be indefinite. */
    static const uint8_t p[] = { 0x04, 0x80, 0x41, 0x00, 0x00 };
    c = tl_cur_make(p, sizeof(p));
    CHECK(!ber_read(&c, &t, 0) && c.err == TL_CUR_BAD);

    /* No end-of-contents: the input may be cut. */
    static const uint8_t m[] = { 0x30, 0x80, 0x04, 0x01, 'A' };
    c = tl_cur_make(m, sizeof(m));
    CHECK(!ber_read(&c, &t, 0) && c.err == TL_CUR_SHORT);

    /* A stray end-of-contents inside a definite element is malformed. */
    static const uint8_t s[] = { 0x30, 0x02, 0x00, 0x00 };
    c = tl_cur_make(s, sizeof(s));
    CHECK(ber_read(&c, &t, 0));
    CHECK(!ber_read(&t.value, &inner, 1) && t.value.err == TL_CUR_BAD);

    /* An inner element's 00 00 does not end the outer one early. */
    static const uint8_t d[] = { 0x30, 0x80, 0x04, 0x02, 0x00, 0x00, 0x00, 0x00 };
    c = tl_cur_make(d, sizeof(d));
    CHECK(ber_read(&c, &t, 0) && tl_cur_left(&t.value) == 4 && tl_cur_left(&c) == 0);
}

static void test_depth_limit(void)
{
    /* n nested indefinite SEQUENCEs, innermost empty, then n end-of-contents. */
    static uint8_t b[4 * (BER_MAX_DEPTH + 2)];
    for (unsigned n = BER_MAX_DEPTH - 1; n <= BER_MAX_DEPTH + 1; n++) {
        size_t len = 0;
        for (unsigned i = 0; i < n; i++)
            b[len++] = 0x30, b[len++] = 0x80;
        for (unsigned i = 0; i < n; i++)
            b[len++] = 0x00, b[len++] = 0x00;
        uint8_t *p = tl_test_dup(b, len);
        struct tl_cursor c = tl_cur_make(p, len);
        struct ber_tlv t;
        bool ok = ber_read(&c, &t, 0);
        CHECK_EQ(ok, n <= BER_MAX_DEPTH);
        if (!ok)
            CHECK_EQ(c.err, TL_CUR_BAD);
        free(p);
    }

    /* Definite elements: the caller passes the depth, and the limit applies too. */
    static const uint8_t d[] = { 0x05, 0x00 };
    struct tl_cursor c = tl_cur_make(d, sizeof(d));
    struct ber_tlv t;
    CHECK(!ber_read(&c, &t, BER_MAX_DEPTH) && c.err == TL_CUR_BAD);
    c = tl_cur_make(d, sizeof(d));
    CHECK(ber_read(&c, &t, BER_MAX_DEPTH - 1));
}

static void test_tags(void)
{
    struct ber_tlv t;
    struct tl_cursor c;
    uint8_t cls;
    uint32_t tag;
    bool cons;

    /* Every class in the short form: [APPLICATION 10], [2], PRIVATE 5, UNIVERSAL SET. */
    static const uint8_t s[] = { 0x6a, 0x00, 0xa2, 0x00, 0xc5, 0x00, 0x31, 0x00 };
    static const uint8_t want_cls[] = { BER_APPLICATION, BER_CONTEXT, BER_PRIVATE, BER_UNIVERSAL };
    static const uint32_t want_tag[] = { 10, 2, 5, BER_SET };
    c = tl_cur_make(s, sizeof(s));
    for (unsigned i = 0; i < 4; i++) {
        CHECK(ber_peek(&c, &cls, &tag, &cons));
        CHECK_EQ(cls, want_cls[i]);
        CHECK_EQ(tag, want_tag[i]);
        CHECK(ber_read(&c, &t, 0));
        CHECK_EQ(t.cls, want_cls[i]);
        CHECK_EQ(t.tag, want_tag[i]);
        CHECK_EQ(t.constructed, i != 2);
    }
    CHECK(!ber_peek(&c, &cls, &tag, &cons));

    /* Multi-byte tags: [31], [APPLICATION 128], [PRIVATE 2^28 - 1]. */
    static const uint8_t m[] = { 0x9f, 0x1f, 0x01, 'z',  0x7f, 0x81, 0x00,
                                 0x00, 0xdf, 0xff, 0xff, 0xff, 0x7f, 0x00 };
    c = tl_cur_make(m, sizeof(m));
    CHECK(ber_read(&c, &t, 0) && t.cls == BER_CONTEXT && t.tag == 31 && !t.constructed);
    CHECK_MEM(ber_str(&t).ptr, ber_str(&t).len, "z");
    CHECK(ber_peek(&c, &cls, &tag, &cons) && cls == BER_APPLICATION && tag == 128 && cons);
    CHECK(ber_read(&c, &t, 0) && t.cls == BER_APPLICATION && t.tag == 128 && t.constructed);
    CHECK(ber_read(&c, &t, 0) && t.cls == BER_PRIVATE && t.tag == 0x0fffffff);
    CHECK(tl_cur_ok(&c) && tl_cur_left(&c) == 0);

    /* A leading 0x80 group, five groups, and a tag cut inside its groups. */
    static const uint8_t z[] = { 0x9f, 0x80, 0x01, 0x00 };
    c = tl_cur_make(z, sizeof(z));
    CHECK(!ber_read(&c, &t, 0) && c.err == TL_CUR_BAD);
    static const uint8_t f[] = { 0x9f, 0x81, 0x81, 0x81, 0x81, 0x01, 0x00 };
    c = tl_cur_make(f, sizeof(f));
    CHECK(!ber_read(&c, &t, 0) && c.err == TL_CUR_BAD);
    static const uint8_t k[] = { 0x9f, 0x81, 0x81 };
    c = tl_cur_make(k, sizeof(k));
    CHECK(!ber_read(&c, &t, 0) && c.err == TL_CUR_SHORT);

    /* ber_expect: a mismatch fails the cursor with BAD. */
    c = tl_cur_make(s, sizeof(s));
    CHECK(!ber_expect(&c, &t, BER_APPLICATION, 11, 0) && c.err == TL_CUR_BAD);
    c = tl_cur_make(s, sizeof(s));
    CHECK(!ber_expect(&c, &t, BER_CONTEXT, 10, 0) && c.err == TL_CUR_BAD);
}

static bool ber_int_of(const uint8_t *b, size_t n, int64_t *v)
{
    struct tl_cursor c = tl_cur_make(b, n);
    struct ber_tlv t;
    return ber_expect(&c, &t, BER_UNIVERSAL, BER_INTEGER, 0) && ber_int(&t, v);
}

static bool ber_uint_of(const uint8_t *b, size_t n, uint64_t *v)
{
    struct tl_cursor c = tl_cur_make(b, n);
    struct ber_tlv t;
    return ber_expect(&c, &t, BER_UNIVERSAL, BER_INTEGER, 0) && ber_uint(&t, v);
}

static void test_integers(void)
{
    int64_t v;
    uint64_t u;
    static const uint8_t zero[] = { 0x02, 0x01, 0x00 };
    static const uint8_t m1[] = { 0x02, 0x01, 0xff };
    static const uint8_t m128[] = { 0x02, 0x01, 0x80 };
    static const uint8_t p128[] = { 0x02, 0x02, 0x00, 0x80 };
    static const uint8_t m129[] = { 0x02, 0x02, 0xff, 0x7f };
    static const uint8_t nonce[] = { 0x02, 0x04, 0x9a, 0x4c, 0x2d, 0x11 }; /* negative int32 */
    static const uint8_t max8[] = { 0x02, 0x08, 0x7f, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff };
    static const uint8_t min8[] = { 0x02, 0x08, 0x80, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t nine[] = {
        0x02, 0x09, 0x00, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff
    };
    static const uint8_t nine1[] = { 0x02, 0x09, 0x01, 0, 0, 0, 0, 0, 0, 0, 0 };
    static const uint8_t empty[] = { 0x02, 0x00 };

    CHECK(ber_int_of(zero, sizeof(zero), &v) && v == 0);
    CHECK(ber_int_of(m1, sizeof(m1), &v) && v == -1);
    CHECK(ber_int_of(m128, sizeof(m128), &v) && v == -128);
    CHECK(ber_int_of(p128, sizeof(p128), &v) && v == 128);
    CHECK(ber_int_of(m129, sizeof(m129), &v) && v == -129);
    CHECK(ber_int_of(nonce, sizeof(nonce), &v) && v == (int64_t)0x9a4c2d11 - 0x100000000);
    CHECK(ber_int_of(max8, sizeof(max8), &v) && v == INT64_MAX);
    CHECK(ber_int_of(min8, sizeof(min8), &v) && v == INT64_MIN);
    CHECK(!ber_int_of(nine, sizeof(nine), &v) && v == 0); /* 9 bytes: BAD as signed */
    CHECK(!ber_int_of(empty, sizeof(empty), &v));

    CHECK(ber_uint_of(p128, sizeof(p128), &u) && u == 128);
    CHECK(ber_uint_of(nine, sizeof(nine), &u) && u == UINT64_MAX);
    CHECK(!ber_uint_of(nine1, sizeof(nine1), &u));
    CHECK(!ber_uint_of(m1, sizeof(m1), &u)); /* negative */
    CHECK(!ber_uint_of(empty, sizeof(empty), &u));
    CHECK(ber_uint_of(max8, sizeof(max8), &u) && u == INT64_MAX);

    /* A failed conversion marks the value cursor BAD. */
    struct tl_cursor c = tl_cur_make(nine, sizeof(nine));
    struct ber_tlv t;
    CHECK(ber_read(&c, &t, 0) && !ber_int(&t, &v) && t.value.err == TL_CUR_BAD);
}

static void test_bool_bits(void)
{
    struct tl_cursor c;
    struct ber_tlv t;
    bool b;
    uint32_t bits;
    static const uint8_t t1[] = { 0x01, 0x01, 0xff, 0x01, 0x01, 0x00, 0x01, 0x02, 0x00, 0x00 };
    c = tl_cur_make(t1, sizeof(t1));
    CHECK(ber_read(&c, &t, 0) && ber_bool(&t, &b) && b);
    CHECK(ber_read(&c, &t, 0) && ber_bool(&t, &b) && !b);
    CHECK(ber_read(&c, &t, 0) && !ber_bool(&t, &b));

    /* RFC 4120 KDCOptions as Windows sends them: forwardable renewable canonicalize renewable-ok.
     */
    static const uint8_t k[] = { 0x03, 0x05, 0x00, 0x40, 0x81, 0x00, 0x10 };
    c = tl_cur_make(k, sizeof(k));
    CHECK(ber_read(&c, &t, 0) && ber_bits32(&t, &bits) && bits == 0x40810010);
    static const uint8_t one[] = { 0x03, 0x02, 0x07, 0xff }; /* one bit, unused bits cleared */
    c = tl_cur_make(one, sizeof(one));
    CHECK(ber_read(&c, &t, 0) && ber_bits32(&t, &bits) && bits == 0x80000000);
    static const uint8_t more[] = { 0x03, 0x06, 0x00, 1, 2, 3, 4, 5 }; /* extra bits ignored */
    c = tl_cur_make(more, sizeof(more));
    CHECK(ber_read(&c, &t, 0) && ber_bits32(&t, &bits) && bits == 0x01020304);
    static const uint8_t none[] = { 0x03, 0x01, 0x00 };
    c = tl_cur_make(none, sizeof(none));
    CHECK(ber_read(&c, &t, 0) && ber_bits32(&t, &bits) && bits == 0);
    static const uint8_t bad[] = { 0x03, 0x02, 0x08, 0x00, 0x03, 0x00, 0x03, 0x01, 0x01 };
    c = tl_cur_make(bad, sizeof(bad));
    CHECK(ber_read(&c, &t, 0) && !ber_bits32(&t, &bits));
    CHECK(ber_read(&c, &t, 0) && !ber_bits32(&t, &bits)); /* no unused-bits octet */
    CHECK(ber_read(&c, &t, 0) && !ber_bits32(&t, &bits)); /* unused bits, no data */
}

static bool ber_oid_of(const uint8_t *b, size_t n, char *buf, size_t len)
{
    struct tl_cursor c = tl_cur_make(b, n);
    struct ber_tlv t;
    return ber_expect(&c, &t, BER_UNIVERSAL, BER_OID, 0) && ber_oid(&t, buf, len);
}

static void test_oids(void)
{
    char buf[64];
    static const uint8_t krb5[] = {
        0x06, 0x09, 0x2a, 0x86, 0x48, 0x86, 0xf7, 0x12, 0x01, 0x02, 0x02
    };
    static const uint8_t starttls[] = { 0x06, 0x0a, 0x2b, 0x06, 0x01, 0x04,
                                        0x01, 0x8b, 0x3a, 0x81, 0x9c, 0x45 };
    static const uint8_t spnego[] = { 0x06, 0x06, 0x2b, 0x06, 0x01, 0x05, 0x05, 0x02 };
    static const uint8_t big[] = { 0x06, 0x03, 0x88, 0x37, 0x03 };  /* 2.999.3 */
    static const uint8_t zero[] = { 0x06, 0x01, 0x00 };             /* 0.0 */
    static const uint8_t lead[] = { 0x06, 0x03, 0x2a, 0x80, 0x01 }; /* non-minimal */
    static const uint8_t cut[] = { 0x06, 0x02, 0x2a, 0x86 };        /* continuation at the end */
    static const uint8_t empty[] = { 0x06, 0x00 };
    static const uint8_t huge[] = { 0x06, 0x0c, 0x2a, 0x81, 0x81, 0x81, 0x81,
                                    0x81, 0x81, 0x81, 0x81, 0x81, 0x81, 0x01 }; /* > 64 bits */

    CHECK(ber_oid_of(krb5, sizeof(krb5), buf, sizeof(buf)));
    CHECK_STR(buf, "1.2.840.113554.1.2.2");
    CHECK(ber_oid_of(starttls, sizeof(starttls), buf, sizeof(buf)));
    CHECK_STR(buf, "1.3.6.1.4.1.1466.20037");
    CHECK(ber_oid_of(spnego, sizeof(spnego), buf, sizeof(buf)));
    CHECK_STR(buf, "1.3.6.1.5.5.2");
    CHECK(ber_oid_of(big, sizeof(big), buf, sizeof(buf)));
    CHECK_STR(buf, "2.999.3");
    CHECK(ber_oid_of(zero, sizeof(zero), buf, sizeof(buf)));
    CHECK_STR(buf, "0.0");
    CHECK(!ber_oid_of(lead, sizeof(lead), buf, sizeof(buf)));
    CHECK(!ber_oid_of(cut, sizeof(cut), buf, sizeof(buf)));
    CHECK(!ber_oid_of(empty, sizeof(empty), buf, sizeof(buf)));
    CHECK(!ber_oid_of(huge, sizeof(huge), buf, sizeof(buf)));
    /* Exactly fitting ("1.3.6.1.5.5.2" is 13 chars + NUL), and one byte short. */
    CHECK(ber_oid_of(spnego, sizeof(spnego), buf, 14));
    CHECK(!ber_oid_of(spnego, sizeof(spnego), buf, 13));
    CHECK(!ber_oid_of(spnego, sizeof(spnego), buf, 0));
}

/* Reads every TLV, descending into constructed ones. */
static bool ber_walk(struct tl_cursor *c, unsigned depth)
{
    while (tl_cur_left(c) > 0) {
        struct ber_tlv t;
        if (!ber_read(c, &t, depth))
            return false;
        if (t.constructed && !ber_walk(&t.value, depth + 1)) {
            tl_cur_fail(c, t.value.err);
            return false;
        }
    }
    return tl_cur_ok(c);
}

static void test_every_cut(void)
{
    /* An LDAP-like message mixing definite, indefinite, long-form and multi-byte tags. */
    static const uint8_t b[] = {
        0x30, 0x80,                               /* SEQUENCE (indefinite) */
        0x02, 0x01, 0x07,                         /* messageID 7 */
        0x63, 0x81, 0x17,                         /* [APPLICATION 3] long form */
        0x04, 0x03, 'd',  'c',  '=',              /* baseObject */
        0x0a, 0x01, 0x02,                         /* scope */
        0xa0, 0x80,                               /* and (indefinite) */
        0x87, 0x02, 'c',  'n',                    /* present */
        0xbf, 0x81, 0x00, 0x03, 0x01, 0x01, 0xff, /* [128] { BOOLEAN } */
        0x00, 0x00,                               /* end of and */
        0x30, 0x00,                               /* attributes */
        0x06, 0x03, 0x2a, 0x86, 0x48,             /* trailing OID */
        0x00, 0x00,                               /* end of SEQUENCE */
    };
    struct tl_cursor c = tl_cur_make(b, sizeof(b));
    CHECK(ber_walk(&c, 0));
    for (size_t n = 1; n < sizeof(b); n++) {
        uint8_t *p = tl_test_dup(b, n);
        c = tl_cur_make(p, n);
        CHECK(!ber_walk(&c, 0));
        CHECK_EQ(c.err, TL_CUR_SHORT);
        free(p);
    }
}

/* An indefinite child whose end-of-contents is cut after one octet: SHORT, not BAD. */
static void test_cut_eoc(void)
{
    static const uint8_t a[] = { 0x30, 0x80, 0x30, 0x80, 0x00 };
    struct tl_cursor c = tl_cur_make(a, sizeof(a));
    CHECK(!ber_walk(&c, 0) && c.err == TL_CUR_SHORT);
}

/* ber_read_cut keeps the bytes of a constructed element a capture cut short. */
static void test_read_cut(void)
{
    static const uint8_t b[] = { 0x30, 0x10, 0x02, 0x01, 0x05, 0x04, 0x05, 'a', 'b' };
    struct tl_cursor c = tl_cur_make(b, sizeof(b));
    struct ber_tlv t, i;
    int64_t v;
    CHECK(ber_read_cut(&c, &t, 0));
    CHECK_EQ(c.err, TL_CUR_SHORT);
    CHECK(t.constructed && t.tag == BER_SEQUENCE);
    CHECK(ber_read(&t.value, &i, 1) && ber_int(&i, &v) && v == 5);
    CHECK(!ber_read(&t.value, &i, 1) && t.value.err == TL_CUR_SHORT); /* the cut string */

    /* A primitive element is never partial; a complete one reads as ber_read would. */
    c = tl_cur_make(b + 5, 4);
    CHECK(!ber_read_cut(&c, &t, 0) && c.err == TL_CUR_SHORT && tl_cur_left(&t.value) == 0);
    c = tl_cur_make(b + 2, 3);
    CHECK(ber_read_cut(&c, &t, 0) && tl_cur_ok(&c) && t.tag == BER_INTEGER);
    /* A cut header gives nothing. */
    c = tl_cur_make(b, 1);
    CHECK(!ber_read_cut(&c, &t, 0) && c.err == TL_CUR_SHORT);
}

const struct tl_test tl_tests_ber[] = {
    { "short_form", test_short_form },
    { "long_forms", test_long_forms },
    { "indefinite", test_indefinite },
    { "depth_limit", test_depth_limit },
    { "tags", test_tags },
    { "integers", test_integers },
    { "bool_bits", test_bool_bits },
    { "oids", test_oids },
    { "every_cut", test_every_cut },
    { "cut_eoc", test_cut_eoc },
    { "read_cut", test_read_cut },
    { 0 },
};
