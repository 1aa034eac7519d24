/*
 * pipeline.h - from packets to events: dispatch, workers, output.
 *
 * The capture thread calls tl_pipeline_packet() for every packet. It decodes
 * just enough for the flow key (reassembling fragments first), hashes the key
 * symmetrically and appends the packet to that worker's batch. Workers own
 * their flows and share nothing; an output thread hands their events to the
 * sink. tl_pipeline_finish() drains everything and writes the final stats.
 */
#ifndef TL_PIPELINE_H
#define TL_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "stats.h"

struct tl_pipeline;
struct tl_output;
struct tl_event_type;

/* Every event type the binary writes (for --list-fields, rules and pseudonyms). */
enum { TL_MAX_EVENT_TYPES = 24 };
size_t tl_event_types(const struct tl_event_type **out, size_t max);

enum tl_pipe_mode {
    TL_PIPE_OFFLINE, /* replay: a full ring makes the reader wait */
    TL_PIPE_LIVE,    /* live: a full ring drops the packet (counted) */
    TL_PIPE_INLINE,  /* no threads: one worker runs on the caller's thread (tests, fuzzing) */
};

struct tl_pipeline *tl_pipeline_new(const struct tl_config *cfg, struct tl_output *out,
                                    enum tl_pipe_mode mode, char *errbuf, size_t n);

void tl_pipeline_packet(struct tl_pipeline *p, int linktype, uint64_t ts_us, const uint8_t *pkt,
                        uint32_t caplen, uint32_t wirelen);

/*
 * The same for bytes the source keeps readable (a mapped capture file) until it
 * is told they are no longer needed: workers get a pointer, not a copy. mark
 * (> 0) is the packet's place in the source, growing from packet to packet;
 * mark 0 is tl_pipeline_packet.
 */
void tl_pipeline_packet_mapped(struct tl_pipeline *p, int linktype, uint64_t ts_us,
                               const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
                               uint64_t mark);
/* The lowest mark whose bytes a worker may still read; UINT64_MAX when none. */
uint64_t tl_pipeline_pinned_from(struct tl_pipeline *p);
/* Sends what is batched and waits until no worker reads mapped bytes (before an unmap). */
void tl_pipeline_unpin(struct tl_pipeline *p);

/* Sends partly filled batches now. */
void tl_pipeline_flush(struct tl_pipeline *p);

/*
 * Live: the link is quiet, and the wall clock (UTC, the packets' clock) reads
 * now_us. Packet time moves on to it, so flows time out, unanswered requests
 * are written and events reach the output without waiting for the next packet.
 */
void tl_pipeline_idle(struct tl_pipeline *p, uint64_t now_us);

/* One live interface's counters. */
enum { TL_MAX_IFACES = 32 };
struct tl_iface_counters {
    char name[64];
    uint64_t packets, kernel_drops, iface_drops, downs;
};

/* Live: the capture's counters so far, per interface (copied; the totals are summed). */
void tl_pipeline_set_capture_stats(struct tl_pipeline *p, const struct tl_iface_counters *ifaces,
                                   int n);

/* Totals so far, for the progress line (read without locks: approximate). */
uint64_t tl_pipeline_packets(const struct tl_pipeline *p);
uint64_t tl_pipeline_flows(const struct tl_pipeline *p);
uint64_t tl_pipeline_events(struct tl_pipeline *p);
unsigned tl_pipeline_workers(const struct tl_pipeline *p);

/*
 * Loads rules.paths again (the capture thread, on SIGHUP). The new set replaces
 * the old one atomically for every worker; if any file is rejected, the old set
 * stays, the errors are logged and counted, and -1 returns with errbuf.
 */
int tl_pipeline_reload_rules(struct tl_pipeline *p, char *errbuf, size_t n);

/* Emits a `stats` event now with the counters so far (live: periodic). */
void tl_pipeline_stats_event(struct tl_pipeline *p, uint64_t now_us);

/* Ends every flow (shutdown), writes the final stats event, joins the threads. */
void tl_pipeline_finish(struct tl_pipeline *p, struct tl_stats *total);
void tl_pipeline_free(struct tl_pipeline *p);

#endif
