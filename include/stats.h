/*
 * stats.h - every counter, declared once.
 *
 * Each thread owns a struct tl_stats and increments it without locks; the
 * coordinator sums them for the `stats` event. The names are the JSON keys.
 * A cap that bites has a *_capped counter here, so nothing is lost silently.
 */
#ifndef TL_STATS_H
#define TL_STATS_H

#include <stdint.h>

#include "packet.h"
#include "schema.h"

#define TL_STAT_COUNTERS(X)                                                                        \
    X(PKTS, "capture.packets", "packets read from all sources")                                    \
    X(BYTES, "capture.bytes", "bytes on the wire of the packets read")                              \
    X(KERNEL_DROPS, "capture.kernel_drops", "packets the kernel dropped (pcap_stats ps_drop)")      \
    X(IFACE_DROPS, "capture.iface_drops", "packets the interface dropped (pcap_stats ps_ifdrop)")   \
    X(RING_DROPS, "capture.ring_drops", "packets dropped because a worker ring was full (live)")   \
    X(TRUNCATED, "capture.truncated_packets", "packets the capture cut short of their headers")    \
    X(FRAGS, "defrag.fragments", "IP fragments seen")                                              \
    X(FRAG_DONE, "defrag.reassembled", "datagrams reassembled")                                    \
    X(FRAG_EXPIRED, "defrag.expired", "incomplete datagrams dropped at timeout")                   \
    X(FRAG_OVERLAP, "defrag.overlaps", "fragments overlapping earlier data (first copy kept)")      \
    X(FRAG_BAD, "defrag.invalid", "fragments with impossible offsets or lengths")                  \
    X(FRAG_CAPPED, "defrag.max_datagrams_capped", "datagrams dropped: defrag.max_datagrams reached") \
    X(FRAG_BYTES_CAPPED, "defrag.max_bytes_capped", "fragments dropped: defrag.max_bytes reached")  \
    X(WORKER_PKTS, "flows.packets", "packets processed by workers")                                 \
    X(FLOWS_CREATED, "flows.created", "flows created")                                             \
    X(FLOWS_IDLE, "flows.expired_idle", "flows ended by idle timeout")                             \
    X(FLOWS_CLOSED, "flows.closed", "TCP flows ended by FIN or RST")                               \
    X(FLOWS_ACTIVE_REC, "flows.interim_records", "interim records at the active timeout")          \
    X(FLOWS_EVICTED, "flows.max_per_worker_capped", "flows evicted early: flows.max_per_worker reached") \
    X(FLOWS_ACTIVE, "flows.active", "flows open now (a gauge)")                                    \
    X(NDPI_HELD, "ndpi.states_held", "flows holding nDPI state now (a gauge)")                     \
    X(FLOWS_SHUTDOWN, "flows.flushed_at_shutdown", "flows open at shutdown")                       \
    X(NDPI_CLASSIFIED, "ndpi.classified", "flows nDPI classified")                                 \
    X(NDPI_GIVEUP, "ndpi.given_up", "flows nDPI gave up on")                                       \
    X(EVENTS, "events.written", "events written to the outputs")                                   \
    X(EVENT_BYTES, "events.bytes", "bytes of JSON written")                                        \
    X(OUTPUT_ERRORS, "events.write_errors", "events a sink failed to write")

enum tl_stat {
#define TL_X(sym, name, doc) TL_STAT_##sym,
    TL_STAT_COUNTERS(TL_X)
#undef TL_X
        TL_STAT_N
};

enum { TL_MAX_DISSECTORS = 8, TL_DSTAT_N = 8 };

/* Per-dissector counter names ("<dissector>.<name>"), indexed like enum tl_dcounter. */
#define TL_DSTAT_NAMES                                                                             \
    { "messages", "malformed", "truncated", "capped", "gaps", "given_up" }

/* Gauges (current values, not sums of increments) are computed at report time. */
struct tl_stats {
    uint64_t v[TL_STAT_N];
    uint64_t decode_err[TL_DECODE_NERR];
    uint64_t dissect[TL_MAX_DISSECTORS][TL_DSTAT_N]; /* by registry index, enum tl_dcounter */
};

static inline void tl_stats_add(struct tl_stats *dst, const struct tl_stats *src)
{
    for (int i = 0; i < TL_STAT_N; i++)
        dst->v[i] += src->v[i];
    for (int i = 0; i < TL_DECODE_NERR; i++)
        dst->decode_err[i] += src->decode_err[i];
    for (int i = 0; i < TL_MAX_DISSECTORS; i++)
        for (int j = 0; j < TL_DSTAT_N; j++)
            dst->dissect[i][j] += src->dissect[i][j];
}

/* The `stats` event (flows/pipeline.c); its per-dissector fields come from the registry. */
const struct tl_event_type *tl_stats_event(void);

#endif
