/*
 * arena.h - a bump allocator over a fixed buffer, for the records a dissector
 * builds from one packet (decoded names, formatted answers). It is reset after
 * every packet; when it is full, allocation fails and the dissector flags the
 * record truncated. No malloc on the packet path.
 */
#ifndef TL_ARENA_H
#define TL_ARENA_H

#include <stddef.h>
#include <stdint.h>
#include <string.h>

#include "cursor.h"

struct tl_arena {
    uint8_t *base;
    size_t used, cap;
    size_t failed; /* allocations refused since the last reset */
};

static inline void tl_arena_reset(struct tl_arena *a)
{
    a->used = 0;
    a->failed = 0;
}

/* n bytes aligned to 8, or NULL when the arena is full. */
static inline void *tl_arena_alloc(struct tl_arena *a, size_t n)
{
    size_t start = (a->used + 7) & ~(size_t)7;
    if (start > a->cap || n > a->cap - start) {
        a->failed++;
        return NULL;
    }
    a->used = start + n;
    return a->base + start;
}

/* A copy of s in the arena; an empty string when it does not fit. */
static inline struct tl_str tl_arena_str(struct tl_arena *a, const void *p, size_t n)
{
    struct tl_str s = { "", 0 };
    char *q = tl_arena_alloc(a, n ? n : 1);
    if (q) {
        if (n)
            memcpy(q, p, n);
        s.ptr = q;
        s.len = n;
    }
    return s;
}

#endif
