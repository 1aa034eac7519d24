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
#include "event.h"
#include "l7.h"
#include "netlist.h"
#include "ring.h"
#include "stats.h"
#include "table.h"

struct ndpi_detection_module_struct;
struct ndpi_flow_struct;

struct tl_worker {
    int id;
    const struct tl_config *cfg;
    const struct tl_netlist *home;
    struct tl_ring in;    /* batches from the dispatcher */
    struct tl_ring free;  /* batches back to the dispatcher */
    struct tl_ring out;   /* struct tl_buf * of JSON lines to the output thread */
    struct tl_ring ident; /* struct tl_identity_obs * to the coordinator */
    struct tl_ftable flows;
    struct ndpi_detection_module_struct *ndpi;
    struct ndpi_flow_struct *ndpi_scratch; /* for guesses about flows without nDPI state */
    struct tl_buf *events;                 /* being filled */
    uint64_t now_us;                       /* packet clock */
    uint64_t next_scan_us;
    struct tl_l7_worker l7;
    struct tl_stats st; /* written by this thread only */
    pthread_mutex_t snap_lock;
    struct tl_stats snap; /* copy for the stats event, refreshed once a second */
    _Atomic bool done;
    _Atomic uint64_t clock_us; /* packet time up to which this worker has sent everything */
    pthread_t thread;
};

int tl_worker_init(struct tl_worker *w, int id, const struct tl_config *cfg,
                   const struct tl_netlist *home, char *errbuf, size_t n);
void tl_worker_destroy(struct tl_worker *w);
void *tl_worker_main(void *arg);

/* Processes one batch (exposed for tests, which drive a worker without threads). */
void tl_worker_batch(struct tl_worker *w, const struct tl_batch *b);
/* Ends every flow: idle when its timeout has passed by now_us, else shutdown. */
void tl_worker_flush_all(struct tl_worker *w, uint64_t now_us);
/* Moves the events built so far to the output ring (waits while it is full). */
void tl_worker_ship_events(struct tl_worker *w);

#endif
