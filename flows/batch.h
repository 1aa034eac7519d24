/*
 * batch.h - packets in flight from the dispatcher to one worker.
 *
 * A batch is one allocation holding decoded packets back to back; it travels
 * over the worker's SPSC ring and comes back over the free ring, so the packet
 * path allocates nothing. Each slot holds the decode result and the packet
 * bytes its offsets refer to, or, for a packet of a capture file, a pointer
 * to them in the reader's buffers: the source keeps those bytes where they are
 * while a worker may read them (tl_pipeline_pinned_from), so a replay copies no
 * packet.
 */
#ifndef TL_FLOWS_BATCH_H
#define TL_FLOWS_BATCH_H

#include <stdint.h>

#include "key.h"
#include "packet.h"

/* PKTS: packets; END: the capture ended; EPOCH: packet time jumped back (coord.h). */
enum tl_batch_kind { TL_BATCH_PKTS, TL_BATCH_END, TL_BATCH_EPOCH };

struct tl_batch {
    uint32_t n;                /* packets */
    uint32_t used;             /* bytes of data[] used */
    uint32_t load;             /* used, counting pinned packets as if copied: what fills a batch */
    uint32_t cap;              /* bytes of data[] */
    uint8_t kind;              /* enum tl_batch_kind */
    uint64_t now_us;           /* the dispatcher's packet clock when the batch left */
    uint32_t epoch;            /* EPOCH: the new epoch */
    uint64_t mark_lo, mark_hi; /* the marks of its first and last pinned packets; 0: none */
    _Alignas(16) uint8_t data[];
};

struct tl_slot {
    struct tl_decoded d;
    struct tl_fkey key; /* built once, by the dispatcher */
    bool from_a;        /* sent by the key's side a */
    uint32_t len;       /* packet bytes */
    const uint8_t *ext; /* the bytes in the source's buffer, or NULL: they follow in bytes[] */
    _Alignas(8) uint8_t bytes[];
};

/* Bytes a slot takes in a batch, holding `inline_len` packet bytes. */
static inline uint32_t tl_slot_size(uint32_t inline_len)
{
    return (uint32_t)((sizeof(struct tl_slot) + inline_len + 15) & ~(size_t)15);
}

static inline uint32_t tl_slot_stride(const struct tl_slot *s)
{
    return tl_slot_size(s->ext ? 0 : s->len);
}

static inline const uint8_t *tl_slot_bytes(const struct tl_slot *s)
{
    return s->ext ? s->ext : s->bytes;
}

#endif
