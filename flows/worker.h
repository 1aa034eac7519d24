/*
 * worker.h - one worker thread: its flow table, nDPI module and events.
 */
#ifndef TL_FLOWS_WORKER_H
#define TL_FLOWS_WORKER_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "batch.h"
#include "config.h"
#include "coord.h"
#include "event.h"
#include "l7.h"
#include "netlist.h"
#include "pipeline.h"
#include "ring.h"
#include "stats.h"
#include "table.h"

struct ndpi_detection_module_struct;

enum {
    /*
     * Events are handed over in chunks of at least TL_WORKER_SHIP_BYTES, in
     * buffers of TL_WORKER_CHUNK_BYTES: a power of two, which tl_buf's doubling
     * reaches exactly, so the last event of a chunk rarely makes it grow.
     */
    TL_WORKER_SHIP_BYTES = 60 * 1024,
    TL_WORKER_CHUNK_BYTES = 64 * 1024,
    TL_TICK_OFFLINE_US = 1000000, /* the pipeline's tick in a replay */
    TL_TICK_LIVE_US = 100000,     /* live: events reach the output within a few ticks */
};
struct ndpi_flow_struct;
struct tl_defrag;
struct tl_handoff; /* packets one worker passes to another (live, worker.c) */

/* What a flow costs at most against memory.max_bytes: record, table slot, nDPI state. */
enum { TL_FLOW_BUDGET_BYTES = 1024 };

struct tl_worker {
    int id;
    unsigned nworkers; /* of the pipeline: the workers share memory.max_bytes */
    const struct tl_config *cfg;
    const struct tl_netlist *home;
    struct tl_ring in;               /* batches from the dispatcher */
    struct tl_ring free;             /* batches back to the dispatcher */
    struct tl_ring out;              /* struct tl_buf * of JSON lines to the output thread */
    struct tl_ring spare;            /* and back, written: chunks to fill again (no malloc) */
    struct tl_ring coord;            /* struct tl_cmsg * to the coordinator */
    struct tl_bell wake;             /* rung by the dispatcher: a batch in `in` */
    struct tl_bell room;             /* rung by the output thread: `out` and `coord` drained */
    struct tl_bell *output_bell;     /* the output thread's: events, messages, clock moved */
    struct tl_bell *dispatcher_bell; /* the dispatcher's: a batch back in `free` */
    struct tl_ftable flows;
    const struct tl_hash_secret *keyh; /* the pipeline's, for tl_hash48: flow table, defrag */
    struct ndpi_detection_module_struct *ndpi;
    struct ndpi_flow_struct *ndpi_scratch; /* for guesses about flows without nDPI state */
    struct tl_buf *events;                 /* being filled */
    struct tl_detect *det;                 /* shared: domain names, pseudonyms, rules */
    struct tl_ruleset *rules;              /* the rule set of the batch being processed */
    _Atomic uint64_t rules_epoch;          /* the epoch of `rules` (see struct tl_detect) */
    struct tl_rules_scratch *rscratch;
    struct tl_buf held;       /* scratch: the JSON of an event going to the coordinator */
    struct tl_hold_pool hold; /* what held events are cut from */
    uint64_t order_us;        /* order time of what is emitted now; 0: the record's own deadline */
    uint64_t cseq;            /* messages sent to the coordinator */
    unsigned unrung;          /* messages sent since the output bell last rang */
    bool wake_output;         /* a chunk shipped or a tick passed since then (tl_worker_main) */
    unsigned freed_unrung;    /* batches given back since the dispatcher's bell last rang */
    uint64_t now_us;          /* packet clock */
    uint64_t next_scan_us;
    uint64_t tick_us; /* expiry scan and stats snapshot period: the pipeline's tick */
    struct tl_l7_worker l7;
    struct tl_stats st; /* written by this thread only */
    pthread_mutex_t snap_lock;
    struct tl_stats snap; /* copy for the stats event, refreshed once a second */
    _Atomic bool done;
    uint32_t epoch;             /* of packet time (coord.h) */
    _Atomic uint64_t clock_vt;  /* virtual time up to which this worker has sent everything */
    _Atomic uint64_t done_mark; /* mark_hi of the last batch read (batch.h) */
    uint64_t sent_mark;         /* dispatcher's: mark_hi of the last batch sent */
    pthread_t thread;
    /* live, reading sockets of its own (TL_PIPE_SOCKETS; tl_worker_live_main) */
    const struct tl_pipe_source *src;
    struct tl_worker *all;         /* every worker; this one is all[id] */
    struct tl_handoff *from;       /* [nworkers]: what each other worker passes to this one */
    struct tl_defrag *defrag;      /* fragments the kernel did not reassemble */
    uint64_t sock_us;              /* packet time up to which its sockets are read */
    unsigned nheld;                /* workers whose passed packets wait in `from` */
    _Atomic bool *live_stop;       /* the pipeline's: stop reading the sockets */
    _Atomic unsigned *live_done;   /* the pipeline's: stages of the stop passed, all workers */
    _Atomic uint64_t *live_end_us; /* the pipeline's: the latest clock at the stop */
};

int tl_worker_init(struct tl_worker *w, int id, unsigned nworkers, const struct tl_config *cfg,
                   const struct tl_netlist *home, struct tl_detect *det, char *errbuf, size_t n);
void tl_worker_destroy(struct tl_worker *w);
void *tl_worker_main(void *arg);

/*
 * Live, TL_PIPE_SOCKETS: the hand-off rings and fragment reassembly of a worker
 * whose src, all, live_stop and live_done are set (-1 with errbuf),
 * and its thread. It reads its sockets, processes each packet in place when it
 * owns the flow (tl_spread_hash) and passes it to the owner otherwise; its
 * clock follows the packets, and the UTC clock when the sockets are quiet.
 * Once live_stop is set it reads what the sockets still hold and, with the
 * others, every packet passed between them, then ends its flows.
 */
int tl_worker_live_init(struct tl_worker *w, char *errbuf, size_t n);
void *tl_worker_live_main(void *arg);

/* A reassembled datagram takes the link layer and tunnel of the fragment that completed it. */
void tl_worker_keep_outer(struct tl_decoded *inner, const struct tl_decoded *frag);

/* Processes one batch (exposed for tests, which drive a worker without threads). */
void tl_worker_batch(struct tl_worker *w, const struct tl_batch *b);
/* Packet time jumped back (an EPOCH batch): ends every flow as at shutdown, then takes the
 * batch's epoch and time. */
void tl_worker_epoch(struct tl_worker *w, const struct tl_batch *b);
/* Ends every flow: idle when its timeout has passed by now_us, else shutdown. */
void tl_worker_flush_all(struct tl_worker *w, uint64_t now_us);
/* Moves the events built so far to the output ring (waits while it is full). */
void tl_worker_ship_events(struct tl_worker *w);
/* The output thread wrote chunk b of w's: w may fill it again; false: b is the caller's to free. */
bool tl_worker_give_back(struct tl_worker *w, struct tl_buf *b);
/* Pushes to one of this worker's rings to the output thread, waiting for room while it is full. */
void tl_worker_push(struct tl_worker *w, struct tl_ring *r, void *item);

/*
 * Everything a worker records goes through here (flows/emit.c): pseudonyms,
 * the domain name the event is about (`domain`, empty when none), the
 * single-event rules, then either the output, or the coordinator when the
 * domain statistics count the name. rec is a record of type t, size bytes,
 * starting with its struct tl_flow_ids (filled); f is its flow.
 */
void tl_worker_emit(struct tl_worker *w, const struct tl_flow *f, const struct tl_event_type *t,
                    void *rec, size_t size, struct tl_str domain);
/* The order time (a virtual time, coord.h) of a record with time rec_ts emitted now. */
uint64_t tl_worker_order(const struct tl_worker *w, uint64_t rec_ts);
/* Hands a message to the coordinator (waits while its ring is full: nothing is dropped). */
void tl_worker_send(struct tl_worker *w, const struct tl_flow *f, struct tl_cmsg *m);

#endif
