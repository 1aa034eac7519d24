/*
 * cursor.h - the only way to read untrusted bytes.
 *
 * A cursor knows where the next unread byte is and how many remain. Every read
 * first asks tl_cur_need(), which compares sizes and never forms a pointer past
 * `end`. The first failure is sticky: later reads return 0 and move nothing, so
 * a parser reads a whole fixed header and tests tl_cur_ok() once.
 */
#ifndef TL_CURSOR_H
#define TL_CURSOR_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <string.h>

#define TL_ARRAY_LEN(a) (sizeof(a) / sizeof((a)[0]))

/* A borrowed byte string: not NUL-terminated, valid as long as its owner. */
struct tl_str {
    const char *ptr;
    size_t len;
};

enum tl_cur_err { TL_CUR_OK, TL_CUR_SHORT, TL_CUR_BAD };

struct tl_cursor {
    const uint8_t *pos;  /* next unread byte */
    const uint8_t *end;  /* one past the last readable byte */
    enum tl_cur_err err; /* first failure; sticky */
};

static inline struct tl_cursor tl_cur_make(const void *p, size_t n)
{
    /* NULL + 0 is undefined in C: an empty cursor over NULL stays NULL. */
    struct tl_cursor c = { (const uint8_t *)p, p ? (const uint8_t *)p + n : NULL, TL_CUR_OK };
    return c;
}

static inline size_t tl_cur_left(const struct tl_cursor *c)
{
    return c->err == TL_CUR_OK ? (size_t)(c->end - c->pos) : 0;
}

static inline bool tl_cur_ok(const struct tl_cursor *c)
{
    return c->err == TL_CUR_OK;
}

/* Marks the cursor failed with `err` unless it already failed. */
static inline void tl_cur_fail(struct tl_cursor *c, enum tl_cur_err err)
{
    if (c->err == TL_CUR_OK)
        c->err = err;
}

/* Can n more bytes be read? Compares sizes, never a pointer past end. */
static inline bool tl_cur_need(struct tl_cursor *c, size_t n)
{
    if (c->err == TL_CUR_OK && n <= (size_t)(c->end - c->pos))
        return true;
    tl_cur_fail(c, TL_CUR_SHORT);
    return false;
}

static inline uint8_t tl_cur_u8(struct tl_cursor *c)
{
    if (!tl_cur_need(c, 1))
        return 0;
    return *c->pos++;
}

static inline uint16_t tl_cur_be16(struct tl_cursor *c)
{
    if (!tl_cur_need(c, 2))
        return 0;
    uint16_t v = (uint16_t)((unsigned)c->pos[0] << 8 | c->pos[1]);
    c->pos += 2;
    return v;
}

static inline uint16_t tl_cur_le16(struct tl_cursor *c)
{
    if (!tl_cur_need(c, 2))
        return 0;
    uint16_t v = (uint16_t)((unsigned)c->pos[1] << 8 | c->pos[0]);
    c->pos += 2;
    return v;
}

static inline uint32_t tl_cur_be24(struct tl_cursor *c)
{
    if (!tl_cur_need(c, 3))
        return 0;
    uint32_t v = (uint32_t)c->pos[0] << 16 | (uint32_t)c->pos[1] << 8 | c->pos[2];
    c->pos += 3;
    return v;
}

static inline uint32_t tl_cur_be32(struct tl_cursor *c)
{
    if (!tl_cur_need(c, 4))
        return 0;
    uint32_t v = (uint32_t)c->pos[0] << 24 | (uint32_t)c->pos[1] << 16 | (uint32_t)c->pos[2] << 8 |
                 c->pos[3];
    c->pos += 4;
    return v;
}

static inline uint32_t tl_cur_le32(struct tl_cursor *c)
{
    if (!tl_cur_need(c, 4))
        return 0;
    uint32_t v = (uint32_t)c->pos[3] << 24 | (uint32_t)c->pos[2] << 16 | (uint32_t)c->pos[1] << 8 |
                 c->pos[0];
    c->pos += 4;
    return v;
}

static inline bool tl_cur_skip(struct tl_cursor *c, size_t n)
{
    if (!tl_cur_need(c, n))
        return false;
    c->pos += n;
    return true;
}

/* Copies n bytes into dst; on failure dst is zeroed. */
static inline bool tl_cur_copy(struct tl_cursor *c, void *dst, size_t n)
{
    if (!tl_cur_need(c, n)) {
        memset(dst, 0, n);
        return false;
    }
    memcpy(dst, c->pos, n);
    c->pos += n;
    return true;
}

/* Borrows the next n bytes; NULL (and a failed cursor) if fewer remain. */
static inline const uint8_t *tl_cur_bytes(struct tl_cursor *c, size_t n)
{
    if (!tl_cur_need(c, n))
        return NULL;
    const uint8_t *p = c->pos;
    c->pos += n;
    return p;
}

/* Looks at the byte `off` ahead without consuming; 0 and false if absent. */
static inline bool tl_cur_peek(const struct tl_cursor *c, size_t off, uint8_t *out)
{
    if (c->err != TL_CUR_OK || off >= (size_t)(c->end - c->pos)) {
        *out = 0;
        return false;
    }
    *out = c->pos[off];
    return true;
}

/* Splits the next n bytes off as a child cursor and moves past them. */
static inline bool tl_cur_sub(struct tl_cursor *c, size_t n, struct tl_cursor *sub)
{
    const uint8_t *p = tl_cur_bytes(c, n);
    *sub = tl_cur_make(p, p ? n : 0);
    if (!p)
        sub->err = c->err;
    return p != NULL;
}

/* Offset of the cursor from `base`, which must be where it (or its parent) started. */
static inline size_t tl_cur_offset(const struct tl_cursor *c, const void *base)
{
    return (size_t)(c->pos - (const uint8_t *)base);
}

/*
 * A cursor over [base + off, end): seeks within a message already bounded by
 * the caller, e.g. DNS compression pointers. Fails BAD if off is past the end.
 */
static inline struct tl_cursor tl_cur_at(const struct tl_cursor *whole, size_t off)
{
    struct tl_cursor c = *whole;
    if (c.err != TL_CUR_OK || off > (size_t)(c.end - c.pos)) {
        c.err = TL_CUR_BAD;
        return c;
    }
    c.pos += off;
    return c;
}

/* The unread rest as a string view (does not consume). */
static inline struct tl_str tl_cur_rest(const struct tl_cursor *c)
{
    struct tl_str s = { (const char *)c->pos, tl_cur_left(c) };
    return s;
}

#endif
