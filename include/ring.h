/*
 * ring.h - single-producer single-consumer ring of pointers.
 *
 * One thread pushes, one thread pops; each index is written by one side only,
 * published with release and read with acquire, so no lock is taken. Whoever
 * pops an item owns it. A side that finds nothing to do waits on a bell
 * (below) that the other side rings.
 */
#ifndef TL_RING_H
#define TL_RING_H

#include <limits.h>
#include <linux/futex.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

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
 * A bell: a thread with nothing to do sleeps on one, a thread that gives it
 * work rings it. Ringing costs a fence and a load while nobody sleeps, so a
 * producer may ring after every push; a futex wake is paid only when a
 * sleeper is there. The sleeper announces itself (sleepers), reads the
 * sequence, then checks its condition once more before sleeping: a ring that
 * came in between either is seen by that check or has moved the sequence, so
 * no wake-up is lost (the classic eventcount).
 */
struct tl_bell {
    _Atomic uint32_t seq;
    _Atomic uint32_t sleepers;
};

enum { TL_BELL_SPINS = 128 }; /* rounds spent polling before going to sleep */

static inline void tl_cpu_relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
    __builtin_ia32_pause();
#elif defined(__aarch64__)
    __asm__ __volatile__("yield");
#endif
}

static inline void tl_bell_ring(struct tl_bell *b)
{
    if (!b)
        return;
    atomic_thread_fence(memory_order_seq_cst); /* the work is visible before sleepers is read */
    if (atomic_load_explicit(&b->sleepers, memory_order_relaxed) == 0)
        return;
    atomic_fetch_add_explicit(&b->seq, 1, memory_order_seq_cst);
    syscall(SYS_futex, &b->seq, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

/*
 * Waits for work: spins a while (*spins counts consecutive idle rounds; reset
 * it after progress), then sleeps on the bell until it rings or timeout_ms
 * passes, unless idle(arg) says work came in meanwhile. A timeout is a
 * safety net, not a poll: every producer rings.
 */
static inline void tl_bell_wait(struct tl_bell *b, unsigned *spins, bool (*idle)(void *), void *arg,
                                unsigned timeout_ms)
{
    if (++*spins < TL_BELL_SPINS) {
        tl_cpu_relax();
        return;
    }
    if (!b) {
        sched_yield();
        return;
    }
    atomic_fetch_add_explicit(&b->sleepers, 1, memory_order_seq_cst);
    uint32_t key = atomic_load_explicit(&b->seq, memory_order_seq_cst);
    if (idle(arg)) {
        struct timespec ts = { timeout_ms / 1000, (long)(timeout_ms % 1000) * 1000000L };
        syscall(SYS_futex, &b->seq, FUTEX_WAIT_PRIVATE, key, &ts, NULL, 0);
    }
    atomic_fetch_sub_explicit(&b->sleepers, 1, memory_order_relaxed);
}

static inline bool tl_ring_empty(void *ring)
{
    struct tl_ring *r = ring;
    return atomic_load_explicit(&r->tail, memory_order_acquire) ==
           atomic_load_explicit(&r->head, memory_order_acquire);
}

static inline bool tl_ring_full(void *ring)
{
    struct tl_ring *r = ring;
    return atomic_load_explicit(&r->tail, memory_order_acquire) -
               atomic_load_explicit(&r->head, memory_order_acquire) >
           r->mask;
}

#endif
