/*
 * ring.h - single-producer single-consumer ring of pointers.
 *
 * One thread pushes, one thread pops; each index is written by one side only,
 * published with release and read with acquire, so no lock is taken. Whoever
 * pops an item owns it.
 */
#ifndef TL_RING_H
#define TL_RING_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdlib.h>
#include <time.h>

struct tl_ring {
    _Alignas(64) _Atomic size_t head; /* next slot to pop; written by the consumer */
    _Alignas(64) _Atomic size_t tail; /* next slot to push; written by the producer */
    _Alignas(64) size_t mask;
    void **slot;
};

/* cap is rounded up to a power of two; -1 when out of memory. */
static inline int tl_ring_init(struct tl_ring *r, size_t cap)
{
    size_t n = 2;
    while (n < cap)
        n <<= 1;
    r->slot = calloc(n, sizeof(*r->slot));
    if (!r->slot)
        return -1;
    r->mask = n - 1;
    atomic_init(&r->head, 0);
    atomic_init(&r->tail, 0);
    return 0;
}

static inline void tl_ring_free(struct tl_ring *r)
{
    free(r->slot);
    r->slot = NULL;
}

static inline bool tl_ring_push(struct tl_ring *r, void *item)
{
    size_t tail = atomic_load_explicit(&r->tail, memory_order_relaxed);
    size_t head = atomic_load_explicit(&r->head, memory_order_acquire);
    if (tail - head > r->mask)
        return false;
    r->slot[tail & r->mask] = item;
    atomic_store_explicit(&r->tail, tail + 1, memory_order_release);
    return true;
}

static inline void *tl_ring_pop(struct tl_ring *r)
{
    size_t head = atomic_load_explicit(&r->head, memory_order_relaxed);
    size_t tail = atomic_load_explicit(&r->tail, memory_order_acquire);
    if (head == tail)
        return NULL;
    void *item = r->slot[head & r->mask];
    atomic_store_explicit(&r->head, head + 1, memory_order_release);
    return item;
}

/*
 * Backoff for a side that found its ring empty (or full): spin a little, then
 * sleep 20 us, then 200 us, so an idle thread costs no CPU and a busy one
 * loses no time. *spins counts consecutive waits; reset it after progress.
 */
static inline void tl_ring_wait(unsigned *spins)
{
    if (++*spins < 64)
        return;
    struct timespec ts = { 0, *spins < 1024 ? 20000 : 200000 };
    nanosleep(&ts, NULL);
}

#endif
