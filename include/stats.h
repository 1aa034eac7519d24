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
    X(BYTES, "capture.bytes", "bytes on the wire of the packets read")                             \
    X(KERNEL_DROPS, "capture.kernel_drops",                                                        \
      "packets the kernel dropped (pcap_stats ps_drop; afpacket: PACKET_STATISTICS tp_drops)")     \
    X(IFACE_DROPS, "capture.iface_drops", "packets the interface dropped (pcap_stats ps_ifdrop)")  \
    X(RING_DROPS, "capture.ring_drops",                                                            \
      "packets dropped because a worker ring was full (live, several workers: dispatch or "        \
      "hand-off)")                                                                                 \
    X(TRUNCATED, "capture.truncated_packets", "packets the capture cut short of their headers")    \
    X(PPP_CONTROL, "pptp.ppp_control",                                                             \
      "PPTP packets of PPP control (LCP, authentication, IPCP, CCP): the tunnel's own flow")       \
    X(PPP_COMPRESSED, "pptp.ppp_compressed",                                                       \
      "PPTP packets of compressed or encrypted PPP (MPPC/MPPE): the tunnel's own flow")            \
    X(PPP_OTHER, "pptp.ppp_other", "PPTP packets of PPP protocols other than IPv4 and IPv6")       \
    X(TIME_JUMPS, "capture.time_jumps",                                                            \
      "replay: times packet time jumped back (a new epoch: flows ended, order kept)")              \
    X(FRAGS, "defrag.fragments", "IP fragments seen")                                              \
    X(FRAG_DONE, "defrag.reassembled", "datagrams reassembled")                                    \
    X(FRAG_EXPIRED, "defrag.expired", "incomplete datagrams dropped at timeout")                   \
    X(FRAG_OVERLAP, "defrag.overlaps", "fragments overlapping earlier data (first copy kept)")     \
    X(FRAG_BAD, "defrag.invalid", "fragments with impossible offsets or lengths")                  \
    X(FRAG_CAPPED, "defrag.max_datagrams_capped",                                                  \
      "datagrams dropped: defrag.max_datagrams reached")                                           \
    X(FRAG_BYTES_CAPPED, "defrag.max_bytes_capped", "fragments dropped: defrag.max_bytes reached") \
    X(WORKER_PKTS, "flows.packets", "packets processed by workers")                                \
    X(FLOWS_CREATED, "flows.created", "flows created")                                             \
    X(FLOWS_IDLE, "flows.expired_idle", "flows ended by idle timeout")                             \
    X(FLOWS_CLOSED, "flows.closed", "TCP flows ended by FIN or RST")                               \
    X(FLOWS_ACTIVE_REC, "flows.interim_records", "interim records at the active timeout")          \
    X(FLOWS_EVICTED, "flows.max_per_worker_capped",                                                \
      "flows evicted early: flows.max_per_worker reached")                                         \
    X(FLOWS_ACTIVE, "flows.active", "flows open now (a gauge)")                                    \
    X(NDPI_HELD, "ndpi.states_held", "flows holding nDPI state now (a gauge)")                     \
    X(L7_STATES, "dissect.flows", "flows holding dissector state now (a gauge)")                   \
    X(L7_CAPPED, "dissect.max_flows_capped", "flows not dissected: dissect.max_flows reached")     \
    X(L7_SHED, "dissect.memory_shed",                                                              \
      "dissector states ended early, oldest first, to stay within memory.max_bytes")               \
    X(REASM_SEGMENTS, "reassembly.segments", "TCP segments given to reassembly")                   \
    X(REASM_OOO, "reassembly.out_of_order", "segments held because a hole came before them")       \
    X(REASM_RETX, "reassembly.retransmitted", "segments carrying bytes already seen")              \
    X(REASM_CONFLICTS, "reassembly.overlap_conflicts",                                             \
      "overlaps whose bytes differ from the first copy")                                           \
    X(REASM_GAPS, "reassembly.gaps", "holes declared lost (delivered to dissectors as gaps)")      \
    X(REASM_GAP_BYTES, "reassembly.gap_bytes", "bytes in those holes")                             \
    X(REASM_WINDOW, "reassembly.out_of_window", "segments far outside the stream, ignored")        \
    X(REASM_FLOW_CAPPED, "reassembly.max_per_flow_capped",                                         \
      "holes given up: reassembly.max_per_flow reached")                                           \
    X(REASM_WORKER_CAPPED, "reassembly.max_per_worker_capped",                                     \
      "holes given up: reassembly.max_per_worker reached")                                         \
    X(REASM_UNACKED_CAPPED, "reassembly.max_unacked_capped",                                       \
      "holes given up: reassembly.max_unacked held with no ACK from the other side")               \
    X(REASM_HELD, "reassembly.bytes_held",                                                         \
      "bytes held for reassembly and dissectors now (a gauge)")                                    \
    X(IDENT_OBS, "identity.sightings", "identities seen by dissectors (Kerberos, LDAP binds)")     \
    X(IDENT_CHANGES, "identity.changes", "identity events: an address's user or host changed")     \
    X(IDENT_ENTRIES, "identity.entries", "addresses in the identity table now (a gauge)")          \
    X(IDENT_CAPPED, "identity.max_entries_capped",                                                 \
      "addresses forgotten early: identity.max_entries reached")                                   \
    X(IDENT_DROPPED, "identity.ring_full", "sightings dropped: no memory to pass them on")         \
    X(FLOWS_SHUTDOWN, "flows.flushed_at_shutdown", "flows open at shutdown")                       \
    X(NDPI_CLASSIFIED, "ndpi.classified", "flows nDPI classified")                                 \
    X(NDPI_GIVEUP, "ndpi.given_up", "flows nDPI gave up on")                                       \
    X(TLS_EVENTS, "tls.events", "tls events written (TLS, DTLS, QUIC handshakes nDPI read)")       \
    X(TLS_CAPPED, "tls.capped",                                                                    \
      "tls values cut to dissect.max_value_len or lists to dissect.max_items")                     \
    X(EVENTS, "events.written", "events written to the outputs")                                   \
    X(EVENT_BYTES, "events.bytes", "bytes of JSON written")                                        \
    X(OUTPUT_ERRORS, "events.write_errors", "events a sink failed to write")                       \
    X(OUTPUT_ROTATED, "output.rotated", "output files rotated")                                    \
    X(OUTPUT_REOPENED, "output.reopened", "output file reopened on SIGHUP")                        \
    X(KAFKA_PRODUCED, "kafka.produced", "events handed to librdkafka (first sends and replays)")   \
    X(KAFKA_DELIVERED, "kafka.delivered", "events the Kafka broker acknowledged")                  \
    X(KAFKA_RETRIED, "kafka.retried",                                                              \
      "deliveries that failed for a passing reason; the event went back to the spool")             \
    X(KAFKA_FAILED, "kafka.failed",                                                                \
      "events Kafka refused for good (too large, unknown topic): dead-lettered")                   \
    X(KAFKA_OUTAGES, "kafka.outages", "times every broker became unreachable")                     \
    X(KAFKA_SPOOLED, "kafka.spooled", "events written to the disk spool")                          \
    X(KAFKA_REPLAYED, "kafka.replayed", "spooled events sent to Kafka again")                      \
    X(KAFKA_SPOOL_CAPPED, "kafka.max_spool_bytes_capped",                                          \
      "spooled events dropped with the oldest segment: kafka.max_spool_bytes reached")             \
    X(KAFKA_SPOOL_BYTES, "kafka.spool_bytes", "bytes in the spool now (a gauge)")                  \
    X(COORD_HELD, "coordinator.held", "items waiting to be applied in time order now (a gauge)")   \
    X(COORD_CAPPED, "coordinator.max_held_capped",                                                 \
      "items applied early, out of time order: coordinator.max_held reached")                      \
    X(COORD_LATE, "coordinator.late",                                                              \
      "items that arrived after later ones were applied (applied at once)")                        \
    X(DOM_OBSERVED, "domains.observed", "uses of counted names (queries, requests, server names)") \
    X(DOM_NOT_COUNTED, "domains.not_counted",                                                      \
      "names seen but not counted: IP literals, single labels, .arpa, .local, internal zones")     \
    X(DOM_RESOLVER, "domains.from_resolvers", "uses by a configured resolver, not counted")        \
    X(DOM_ENTRIES, "domains.entries", "registered domains tracked now (a gauge)")                  \
    X(DOM_BYTES, "domains.bytes", "memory held by domain statistics now (a gauge)")                \
    X(DOM_CAPPED, "domains.max_entries_capped",                                                    \
      "domains forgotten early: domains.max_entries reached")                                      \
    X(DOM_EVENTS, "domains.reports", "domain events written")                                      \
    X(DOM_SNAPSHOTS, "domains.snapshots", "statistics snapshots written")                          \
    X(DOM_SNAPSHOT_ERRORS, "domains.snapshot_errors",                                              \
      "snapshots that could not be read or written")                                               \
    X(REDIS_WRITES, "redis.writes", "updates written to Redis")                                    \
    X(REDIS_READS, "redis.reads", "fleet-wide domain views read from Redis")                       \
    X(REDIS_ERRORS, "redis.errors", "Redis commands or connections that failed")                   \
    X(REDIS_BACKLOG, "redis.backlog", "updates waiting for Redis now (a gauge)")                   \
    X(REDIS_CAPPED, "redis.max_backlog_capped",                                                    \
      "updates dropped while Redis was unreachable: redis.max_backlog reached")                    \
    X(REDIS_CONNECTED, "redis.connected", "1 while connected to Redis (a gauge)")                  \
    X(RULES_ACTIVE, "rules.active", "rules loaded and matching (a gauge)")                         \
    X(RULES_INACTIVE, "rules.inactive", "rule files loaded but inactive (a gauge)")                \
    X(RULES_REJECTED, "rules.rejected", "rule files rejected at the last load (a gauge)")          \
    X(RULES_RELOADS, "rules.reloads", "rule sets replaced on SIGHUP")                              \
    X(RULES_RELOAD_FAILED, "rules.reload_failures",                                                \
      "reloads refused because a file was rejected (the old set stays)")                           \
    X(RULES_EVENTS, "rules.events", "events rules were evaluated on")                              \
    X(RULES_MATCHES, "rules.matches", "rule matches (correlation inputs included)")                \
    X(ALERTS, "rules.alerts", "alert events written")                                              \
    X(RULES_STATE_CAPPED, "rules.max_state_capped",                                                \
      "correlation groups forgotten early: rules.max_state reached")

/*
 * Counters of a live capture whose workers read their own sockets (capture.method
 * afpacket): written only when not zero, so the stats of a replay stay as they were.
 */
#define TL_STAT_LIVE_COUNTERS(X)                                                                   \
    X(HANDOFFS, "capture.handoffs",                                                                \
      "packets a worker copied to the worker owning their flow (tunnels, fragments, MPLS)")        \
    X(RING_ERRORS, "capture.ring_errors",                                                          \
      "packets skipped: their offsets in the kernel ring did not fit their block")

enum tl_stat {
#define TL_X(sym, name, doc) TL_STAT_##sym,
    TL_STAT_COUNTERS(TL_X) TL_STAT_LIVE_COUNTERS(TL_X)
#undef TL_X
        TL_STAT_N
};

enum { TL_MAX_DISSECTORS = 8, TL_DSTAT_N = 9 };

/* Per-dissector counter names ("<dissector>.<name>"), indexed like enum tl_dcounter. */
#define TL_DSTAT_NAMES                                                                             \
    {                                                                                              \
        "messages", "malformed", "truncated", "capped", "gaps", "given_up", "encrypted",           \
            "encrypted_bytes", "by_content"                                                        \
    }

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
