/*
 * table.c - hash table, per-class LRU lists and the slab pool of flows.
 */
#include <stdlib.h>
#include <string.h>

#include "table.h"

enum { SLAB_FLOWS = 1024 };

struct tl_fslab {
    struct tl_fslab *next;
    struct tl_flow flows[SLAB_FLOWS];
};

int tl_ftable_init(struct tl_ftable *t, size_t max_flows)
{
    size_t n = 1024;

    memset(t, 0, sizeof(*t));
    while (n < max_flows / 2 && n < ((size_t)1 << 24))
        n <<= 1;
    t->bucket = calloc(n, sizeof(*t->bucket));
    if (!t->bucket)
        return -1;
    t->mask = n - 1;
    t->max = max_flows ? max_flows : 1;
    return 0;
}

void tl_ftable_free(struct tl_ftable *t)
{
    struct tl_fslab *s = t->slabs;
    while (s) {
        struct tl_fslab *next = s->next;
        free(s);
        s = next;
    }
    free(t->bucket);
    memset(t, 0, sizeof(*t));
}

struct tl_flow *tl_ftable_find(struct tl_ftable *t, const struct tl_fkey *k, uint64_t hash)
{
    for (struct tl_flow *f = t->bucket[hash & t->mask]; f; f = f->hnext)
        if (f->hash == hash && memcmp(&f->key, k, sizeof(*k)) == 0)
            return f;
    return NULL;
}

static void table_list_unlink(struct tl_ftable *t, struct tl_flow *f)
{
    if (f->prev)
        f->prev->next = f->next;
    else
        t->head[f->tclass] = f->next;
    if (f->next)
        f->next->prev = f->prev;
    else
        t->tail[f->tclass] = f->prev;
    f->prev = f->next = NULL;
}

static void table_list_append(struct tl_ftable *t, struct tl_flow *f, enum tl_tclass tc)
{
    f->tclass = (uint8_t)tc;
    f->next = NULL;
    f->prev = t->tail[tc];
    if (t->tail[tc])
        t->tail[tc]->next = f;
    else
        t->head[tc] = f;
    t->tail[tc] = f;
}

/* Takes a flow from the free list, growing the pool by one slab while under the cap. */
static struct tl_flow *table_alloc(struct tl_ftable *t)
{
    if (!t->free_list) {
        if (t->allocated >= t->max)
            return NULL;
        struct tl_fslab *s = malloc(sizeof(*s));
        if (!s)
            return NULL;
        s->next = t->slabs;
        t->slabs = s;
        size_t n = SLAB_FLOWS;
        if (n > t->max - t->allocated)
            n = t->max - t->allocated;
        for (size_t i = n; i-- > 0;) {
            s->flows[i].hnext = t->free_list;
            t->free_list = &s->flows[i];
        }
        t->allocated += n;
    }
    struct tl_flow *f = t->free_list;
    t->free_list = f->hnext;
    return f;
}

struct tl_flow *tl_ftable_insert(struct tl_ftable *t, const struct tl_fkey *k, uint64_t hash,
                                 enum tl_tclass tc)
{
    struct tl_flow *f = table_alloc(t);
    if (!f)
        return NULL;
    memset(f, 0, sizeof(*f));
    f->key = *k;
    f->hash = hash;
    f->hnext = t->bucket[hash & t->mask];
    t->bucket[hash & t->mask] = f;
    table_list_append(t, f, tc);
    t->count++;
    return f;
}

void tl_ftable_remove(struct tl_ftable *t, struct tl_flow *f)
{
    struct tl_flow **pp = &t->bucket[f->hash & t->mask];
    while (*pp && *pp != f)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = f->hnext;
    table_list_unlink(t, f);
    t->count--;
    f->hnext = t->free_list;
    t->free_list = f;
}

void tl_ftable_touch(struct tl_ftable *t, struct tl_flow *f, enum tl_tclass tc)
{
    if (t->tail[f->tclass] == f && f->tclass == tc)
        return;
    table_list_unlink(t, f);
    table_list_append(t, f, tc);
}

struct tl_flow *tl_ftable_oldest(struct tl_ftable *t)
{
    struct tl_flow *best = NULL;
    for (int c = 0; c < TL_TC_N; c++)
        if (t->head[c] && (!best || t->head[c]->last_us < best->last_us))
            best = t->head[c];
    return best;
}
