/*
 * l7.h - application dissection of a worker's flows.
 *
 * A flow gets a dissector when one of its ports is that dissector's, when
 * nDPI names its protocol, or - when neither did - when a dissector's probe()
 * recognises its first payload. Its L7 state (the dissector's per-flow state,
 * TCP reassembly of both directions and the bytes a dissector has not
 * consumed yet) is allocated then, and freed when the flow ends or the
 * dissector gives up (after it wrote what waits). A dissector may hand a TCP
 * flow over to another (a proxy's handshake done, the proxied stream
 * begins): the next one takes over reassembly and the bytes not consumed.
 * Every record a dissector emits becomes an event carrying the flow's ids.
 */
#ifndef TL_FLOWS_L7_H
#define TL_FLOWS_L7_H

#include <stdbool.h>
#include <stdint.h>

#include "dissect.h"
#include "reasm.h"

struct tl_worker;
struct tl_flow;
struct tl_slot;

struct tl_l7 {
    const struct tl_dissector *d;
    const struct tl_dissector *handover; /* asked for (ctx.handover): switched after the packet */
    uint8_t di;                          /* registry index, for the counters */
    bool gave_up;
    bool resting; /* the state went between messages (d->rest) */
    struct tl_flow *flow;
    struct tl_l7 *prev, *next; /* the worker's flows with L7 state */
    uint32_t due_at;           /* its place in tl_l7_worker.due, or L7_NOT_DUE */
    struct tl_reasm_dir rs[2]; /* TCP, by direction (0: from the originator) */
    uint8_t *pend[2];          /* TCP: in-order bytes the dissector has not consumed */
    uint32_t pend_len[2];
    void *state; /* d->state_size bytes from the first the dissector is given (a SYN: none yet;
                    none while resting) */
    uint8_t kept[TL_REST_BYTES]; /* while resting: what d->rest kept for d->resume */
};

enum { L7_NOT_DUE = UINT32_MAX };

struct tl_l7_due {
    uint64_t us;
    struct tl_l7 *l;
};

struct tl_l7_worker {
    struct tl_arena arena;
    struct tl_dissect_limits limits;
    struct tl_reasm reasm;
    struct tl_l7 *head, *tail; /* newest first */
    /*
     * States whose dissector may have something to write when time passes, in a
     * min-heap by the time it will (0: after this tick's packets, not asked yet).
     * A tick asks only those whose time has come, not every state.
     */
    struct tl_l7_due *due;
    size_t ndue, capdue;
    uint64_t nstates;
    uint64_t state_bytes, max_state_bytes; /* states themselves; memory.max_bytes' share */
    uint64_t pend_bytes;                   /* held in pend[] by all flows, capped with reassembly */
    uint32_t enabled;                      /* bit per registry index */
    size_t
        status_off[32]; /* per registry index: offset of the record's STATUS field, or SIZE_MAX */
};

int tl_l7_init(struct tl_worker *w, char *errbuf, size_t n);
void tl_l7_destroy(struct tl_worker *w);

/* A new flow: attaches the dissector its ports name, if any. */
void tl_l7_flow_start(struct tl_worker *w, struct tl_flow *f);
/* nDPI named the flow's protocol (an nDPI protocol id): attaches that dissector, if any. */
void tl_l7_ndpi_named(struct tl_worker *w, struct tl_flow *f, uint16_t master, uint16_t app);
/* A packet of a flow without a dissector: its first payload may show one by content. */
void tl_l7_probe(struct tl_worker *w, struct tl_flow *f, const struct tl_slot *s);
/* One packet of a flow with L7 state, from direction dir. */
void tl_l7_packet(struct tl_worker *w, struct tl_flow *f, const struct tl_slot *s, int dir);
/* The flow ends: delivers what reassembly holds, flushes the dissector, frees. */
void tl_l7_flow_end(struct tl_worker *w, struct tl_flow *f);
/* Writes requests unanswered for longer than dissect.pending_timeout. */
void tl_l7_expire(struct tl_worker *w, uint64_t now_us);
/* Copies reassembly counters into the worker's stats. */
void tl_l7_stats(struct tl_worker *w);

#endif
