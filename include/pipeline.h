/*
 * pipeline.h - from packets to events: dispatch, workers, output.
 *
 * The capture thread calls tl_pipeline_packet() for every packet. It decodes
 * just enough for the flow key (reassembling fragments first), picks the
 * flow's worker by the key's fixed hash (tl_fkey_fixed; no hash with one
 * worker) and appends the packet to that worker's batch. Workers own
 * their flows and share nothing; an output thread hands their events to the
 * sink. tl_pipeline_finish() drains everything and writes the final stats.
 *
 * A live capture through AF_PACKET (TL_PIPE_SOCKETS) has no dispatcher: each
 * worker reads sockets of its own (struct tl_pipe_source), the kernel having
 * spread the flows over them with tl_spread_hash(), and passes what belongs
 * to another worker (tunnels, fragments) to it over a ring.
 */
#ifndef TL_PIPELINE_H
#define TL_PIPELINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "packet.h"
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
    TL_PIPE_SOCKETS, /* live: each worker reads its own sockets (tl_pipeline_start_source) */
};

struct tl_pipeline *tl_pipeline_new(const struct tl_config *cfg, struct tl_output *out,
                                    enum tl_pipe_mode mode, char *errbuf, size_t n);

void tl_pipeline_packet(struct tl_pipeline *p, int linktype, uint64_t ts_us, const uint8_t *pkt,
                        uint32_t caplen, uint32_t wirelen);

/*
 * The same for bytes the source keeps readable (a capture file's read buffers)
 * until it is told they are no longer needed: workers get a pointer, not a copy. mark
 * (> 0) is the packet's place in the source, growing from packet to packet;
 * mark 0 is tl_pipeline_packet.
 */
void tl_pipeline_packet_pinned(struct tl_pipeline *p, int linktype, uint64_t ts_us,
                               const uint8_t *pkt, uint32_t caplen, uint32_t wirelen,
                               uint64_t mark);
/* The lowest mark whose bytes a worker may still read; UINT64_MAX when none. */
uint64_t tl_pipeline_pinned_from(struct tl_pipeline *p);
/*
 * Sends what is batched and waits until no worker reads the bytes of a mark
 * below `below` (UINT64_MAX: of any mark, before the source frees them).
 */
void tl_pipeline_unpin(struct tl_pipeline *p, uint64_t below);

/* Sends partly filled batches now. */
void tl_pipeline_flush(struct tl_pipeline *p);

/*
 * Live: the link is quiet, and the wall clock (UTC, the packets' clock) reads
 * now_us. Packet time moves on to it, so flows time out, unanswered requests
 * are written and events reach the output without waiting for the next packet.
 * now_us 0: the capture is behind, packet time stays; batches are still flushed.
 */
void tl_pipeline_idle(struct tl_pipeline *p, uint64_t now_us);

/* One live interface's counters. */
enum { TL_MAX_IFACES = 32 };
struct tl_iface_counters {
    char name[64];
    uint64_t packets, kernel_drops, iface_drops, downs;
    uint64_t freezes;     /* afpacket: times a worker's ring was full (tp_freeze_q_cnt) */
    uint64_t ring_errors; /* afpacket: frames that did not fit their ring block */
};

/* Live: the capture's counters so far, per interface (copied; the totals are summed). */
void tl_pipeline_set_capture_stats(struct tl_pipeline *p, const struct tl_iface_counters *ifaces,
                                   int n);

/* Live, afpacket: the kernel's drops on each worker's sockets so far (capture.worker_drops). */
void tl_pipeline_set_worker_drops(struct tl_pipeline *p, const uint64_t *drops, unsigned n);

/* ---- live capture where each worker reads its own sockets (TL_PIPE_SOCKETS) ---- */

/* A packet read in place: pkt is valid until the function returns. */
typedef void (*tl_frame_fn)(void *arg, int linktype, uint64_t ts_us, const uint8_t *pkt,
                            uint32_t caplen, uint32_t wirelen);

struct tl_pipe_source {
    void *ctx;
    uint32_t seed;   /* of tl_spread_hash(), as the kernel spreads the packets */
    uint64_t lag_us; /* a packet may reach its worker this long after it was stamped */
    /* Worker i: waits up to timeout_ms for packets on its sockets (or a wake), gives each
     * to fn; returns how many. */
    int (*read)(void *ctx, unsigned worker, int timeout_ms, tl_frame_fn fn, void *arg);
    /* Any thread: worker i's read returns now. */
    void (*wake)(void *ctx, unsigned worker);
    /* Worker i, once a tick: its sockets' kernel counters are read. */
    void (*stats)(void *ctx, unsigned worker);
};

/* The number of workers (sockets per interface). */
unsigned tl_pipeline_workers(const struct tl_pipeline *p);
/* Starts the workers of a TL_PIPE_SOCKETS pipeline on src (kept until stop). -1 with errbuf. */
int tl_pipeline_start_source(struct tl_pipeline *p, const struct tl_pipe_source *src, char *errbuf,
                             size_t n);
/* Stops and joins them once the packets their sockets hold are read; then the counters are
 * final. tl_pipeline_finish() does it too. */
void tl_pipeline_stop_source(struct tl_pipeline *p);

/*
 * Which worker owns a live flow: a symmetric hash of the innermost addresses and,
 * for TCP and UDP, ports (ports false: addresses only, for a fragment), modulo the
 * workers. The kernel's fanout program (capture/afpacket.c) computes the same on the
 * outermost IP header, so a plain flow lands on its owner's socket. Addresses count
 * as 32-bit big-endian words, an IPv6 address as its four words XORed.
 */
#define TL_SPREAD_K1 0x9e3779b1u
#define TL_SPREAD_K2 0x85ebca77u

static inline uint32_t tl_spread_side(uint32_t seed, uint32_t addr, uint32_t port)
{
    return (((addr ^ seed) * TL_SPREAD_K1) ^ port) * TL_SPREAD_K2;
}

static inline uint32_t tl_spread_mix(uint32_t seed, uint32_t a, uint32_t pa, uint32_t b,
                                     uint32_t pb)
{
    uint32_t h = tl_spread_side(seed, a, pa) + tl_spread_side(seed, b, pb);
    h ^= h >> 15;
    return (h * TL_SPREAD_K2) >> 16;
}

static inline uint32_t tl_spread_addr(const struct tl_ip *ip, int ipv)
{
    uint32_t x = 0;
    for (int i = ipv == 4 ? 12 : 0; i < 16; i += 4)
        x ^= (uint32_t)ip->b[i] << 24 | (uint32_t)ip->b[i + 1] << 16 | (uint32_t)ip->b[i + 2] << 8 |
             ip->b[i + 3];
    return x;
}

static inline uint32_t tl_spread_hash(uint32_t seed, const struct tl_decoded *d, bool ports)
{
    bool p = ports && (d->ip_proto == TL_IPPROTO_TCP || d->ip_proto == TL_IPPROTO_UDP);
    return tl_spread_mix(seed, tl_spread_addr(&d->src, d->ipv), p ? d->sport : 0,
                         tl_spread_addr(&d->dst, d->ipv), p ? d->dport : 0);
}

/* Totals so far, for the progress line (read without locks: approximate). */
uint64_t tl_pipeline_packets(const struct tl_pipeline *p);
uint64_t tl_pipeline_flows(const struct tl_pipeline *p);
uint64_t tl_pipeline_events(struct tl_pipeline *p);

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
