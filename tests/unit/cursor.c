/*
 * cursor.c - the bounds-checked reader: exact reads, sticky failure, children.
 */
#include <stdlib.h>

#include "check.h"
#include "cursor.h"

static void test_reads(void)
{
    static const uint8_t b[] = { 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a };
    uint8_t *p = tl_test_dup(b, sizeof(b));
    struct tl_cursor c = tl_cur_make(p, sizeof(b));
    CHECK_EQ(tl_cur_u8(&c), 0x01);
    CHECK_EQ(tl_cur_be16(&c), 0x0203);
    CHECK_EQ(tl_cur_be32(&c), 0x04050607);
    CHECK_EQ(tl_cur_le16(&c), 0x0908);
    CHECK_EQ(tl_cur_left(&c), 1);
    CHECK(tl_cur_ok(&c));
    free(p);
}

static void test_short_is_sticky(void)
{
    static const uint8_t b[] = { 0xaa, 0xbb, 0xcc };
    uint8_t *p = tl_test_dup(b, sizeof(b));
    struct tl_cursor c = tl_cur_make(p, sizeof(b));
    CHECK_EQ(tl_cur_be32(&c), 0);
    CHECK_EQ(c.err, TL_CUR_SHORT);
    CHECK_EQ(tl_cur_u8(&c), 0); /* one byte remains, but the failure sticks */
    CHECK_EQ(tl_cur_left(&c), 0);
    CHECK(!tl_cur_skip(&c, 0));
    free(p);
}

static void test_every_cut(void)
{
    static const uint8_t b[] = { 0, 4, 'a', 'b', 'c', 'd', 0xff };
    for (size_t n = 0; n <= sizeof(b); n++) {
        uint8_t *p = tl_test_dup(b, n);
        struct tl_cursor c = tl_cur_make(p, n), sub;
        uint16_t len = tl_cur_be16(&c);
        bool got = tl_cur_sub(&c, len, &sub);
        uint8_t last = tl_cur_u8(&c);
        CHECK_EQ(got, n >= 6);
        CHECK_EQ(tl_cur_ok(&c), n == 7);
        CHECK_EQ(last, n == 7 ? 0xff : 0);
        if (got)
            CHECK_MEM(tl_cur_rest(&sub).ptr, tl_cur_rest(&sub).len, "abcd");
        else
            CHECK_EQ(tl_cur_left(&sub), 0);
        free(p);
    }
}

static void test_at_and_peek(void)
{
    static const uint8_t b[] = { 1, 2, 3 };
    struct tl_cursor c = tl_cur_make(b, sizeof(b));
    struct tl_cursor at = tl_cur_at(&c, 2);
    uint8_t v;
    CHECK_EQ(tl_cur_u8(&at), 3);
    at = tl_cur_at(&c, 4);
    CHECK_EQ(at.err, TL_CUR_BAD);
    CHECK(tl_cur_peek(&c, 1, &v) && v == 2);
    CHECK(!tl_cur_peek(&c, 3, &v) && v == 0);
    tl_cur_fail(&c, TL_CUR_BAD);
    tl_cur_fail(&c, TL_CUR_SHORT);
    CHECK_EQ(c.err, TL_CUR_BAD); /* first failure wins */
}

const struct tl_test tl_tests_cursor[] = {
    { "reads", test_reads },
    { "short_is_sticky", test_short_is_sticky },
    { "every_cut", test_every_cut },
    { "at_and_peek", test_at_and_peek },
    { 0 },
};
