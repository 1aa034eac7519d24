/*
 * config.h - every option, declared once.
 *
 * TL_CONFIG_KEYS lists each option with its YAML key (dotted path into the
 * configuration file, also accepted by --set key=value), type, default and
 * meaning. The struct, the defaults, the YAML loader and `--help-config` are all
 * generated from it. Every cap is a max_* option with a *_capped counter.
 */
#ifndef TL_CONFIG_H
#define TL_CONFIG_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#define TL_VERSION "0.2.0"

enum { TL_MAX_WORKERS = 64 };

/* rules.paths defaults to TL_RULES_DIR, the rule content the project ships: the Makefile writes
 * it into a header only capture/config.c reads (detect/rules in the source tree, or
 * PREFIX/share/tapline/rules when installed). */

/*
 * X(type, member, "yaml.key", default, lo, hi, "meaning"); types: U64, BOOL, STR, SECS
 * (seconds, stored as us). lo and hi bound a U64 or SECS value (SECS in seconds), both
 * included; a value outside is refused with the option's name. 0 is allowed only where
 * lo is 0, and the meaning then says what 0 does. STR and BOOL take 0, 0.
 */
#define TL_CONFIG_KEYS(X)                                                                          \
    X(STR, sensor, "sensor", NULL, 0, 0,                                                           \
      "sensor name written in every event (default: host name)")                                   \
    X(U64, threads, "threads", 0, 0, 64,                                                           \
      "worker threads; 0 = one per core less one, at least one")                                   \
    X(STR, output, "output.path", "-", 0, 0, "where JSON lines go: a file path, or - for stdout")  \
    X(STR, filter, "capture.filter", NULL, 0, 0, "BPF filter expression applied to every source")  \
    X(STR, interfaces, "capture.interfaces", NULL, 0, 0,                                           \
      "live: interfaces to capture from (comma list or YAML list); -i adds one")                   \
    X(STR, cpus, "capture.cpus", NULL, 0, 0,                                                       \
      "CPUs to pin threads to, comma list: capture, then workers, then output, round robin")       \
    X(STR, user, "capture.user", NULL, 0, 0,                                                       \
      "live: once the capture and outputs are open, run as this user and its group, no "           \
      "capabilities")                                                                              \
    X(U64, snaplen, "capture.snaplen", 65535, 64, 262144, "live capture: bytes kept per packet")   \
    X(BOOL, promisc, "capture.promisc", true, 0, 0, "live capture: promiscuous mode")              \
    X(U64, buffer_mb, "capture.buffer_mb", 128, 1, 65536,                                          \
      "live capture: kernel buffer per interface in MiB (afpacket: shared by its worker rings)")   \
    X(STR, method, "capture.method", NULL, 0, 0,                                                   \
      "live: afpacket (each worker reads its own TPACKET_V3 ring in a fanout group) or pcap "      \
      "(libpcap, one capture thread); unset: afpacket, pcap for -i any")                           \
    X(U64, afp_block_size, "capture.afpacket.block_size", 1048576, 4096, 1ull << 28,               \
      "afpacket: bytes per ring block, a multiple of the page size holding a whole packet")        \
    X(U64, afp_blocks, "capture.afpacket.blocks", 0, 0, 65536,                                     \
      "afpacket: blocks per worker ring; 0: capture.buffer_mb / threads, at least 4")              \
    X(U64, afp_block_ms, "capture.afpacket.block_timeout_ms", 10, 1, 1000,                         \
      "afpacket: a partly filled block reaches its worker after this long (ms)")                   \
    X(U64, afp_fanout, "capture.afpacket.fanout_group", 0, 0, 65535,                               \
      "afpacket: fanout group id of the first interface (the next count up); 0: a free id")        \
    X(U64, ring_batches, "capture.ring_batches", 64, 2, 4096, "batches in flight per worker ring") \
    X(U64, batch_bytes, "capture.batch_bytes", 266240, 262400, 1ull << 30,                         \
      "bytes per packet batch (at least one packet of 256 KiB)")                                   \
    X(BOOL, progress, "capture.progress", true, 0, 0,                                              \
      "progress line on stderr when it is a terminal")                                             \
    X(U64, max_flows, "flows.max_per_worker", 500000, 1, 1ull << 31,                               \
      "concurrent flows per worker; oldest idle evicted past it")                                  \
    X(SECS, tcp_idle, "flows.tcp_idle_timeout", 300, 0.01, 604800,                                 \
      "established TCP flow idle timeout (s)")                                                     \
    X(SECS, tcp_syn, "flows.tcp_syn_timeout", 30, 0.01, 604800,                                    \
      "unanswered or unestablished TCP flow idle timeout (s)")                                     \
    X(SECS, tcp_linger, "flows.tcp_close_linger", 5, 0, 3600,                                      \
      "time a closed TCP flow is kept for late packets (s)")                                       \
    X(SECS, udp_idle, "flows.udp_timeout", 60, 0.01, 604800, "UDP flow idle timeout (s)")          \
    X(SECS, icmp_idle, "flows.icmp_timeout", 60, 0.01, 604800, "ICMP flow idle timeout (s)")       \
    X(SECS, other_idle, "flows.other_timeout", 60, 0.01, 604800,                                   \
      "other IP protocols idle timeout (s)")                                                       \
    X(SECS, active, "flows.active_timeout", 1800, 0, 604800,                                       \
      "interim record after this long (s); 0: never")                                              \
    X(U64, cid_seed, "flows.community_id_seed", 0, 0, 65535, "Community ID v1 seed")               \
    X(U64, hash_seed, "flows.hash_seed", 0, 0, 4294967295,                                         \
      "seed of the flow and fragment tables' hash (the bucket a flow falls in, not its worker: "   \
      "no event depends on it); 0: drawn at random each run, so that no one can aim keys at one "  \
      "bucket; a fixed seed (guessable) repeats a run's table layout, for fuzzing")                \
    X(STR, home_nets, "flows.home_nets", "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7", 0, 0, \
      "home networks for local_orig/local_resp (comma list or YAML list)")                         \
    X(BOOL, ndpi, "ndpi.enabled", true, 0, 0, "classify flows with nDPI")                          \
    X(U64, ndpi_max_packets, "ndpi.max_packets", 32, 1, 1000,                                      \
      "packets per flow given to nDPI before giving up")                                           \
    X(STR, protocols, "dissect.protocols", "dns,http,kerberos,ldap,socks", 0, 0,                   \
      "application protocols to dissect")                                                          \
    X(U64, max_l7_flows, "dissect.max_flows", 262144, 1, 1ull << 31,                               \
      "flows per worker with dissector state at once")                                             \
    X(U64, mem_max, "memory.max_bytes", 4294967296, 0, 1ull << 50,                                 \
      "bytes all state together may hold: flows 35%, dissector state 35%, reassembly 15%, "        \
      "domain statistics 7%, rule state 5%, fragments 3%; each part's own cap is lowered to fit "  \
      "its share, the oldest state is shed past it (counted); 0: the parts' own caps alone")       \
    X(U64, max_identities, "identity.max_entries", 65536, 1, 1ull << 22,                           \
      "addresses the identity table remembers")                                                    \
    X(SECS, identity_timeout, "identity.timeout", 86400, 1, 31536000,                              \
      "an address's identity is forgotten after this long unconfirmed (s)")                        \
    X(U64, max_value_len, "dissect.max_value_len", 8192, 64, 1ull << 20,                           \
      "longest field value kept (URI, header, name); longer ones are cut and flagged")             \
    X(U64, max_items, "dissect.max_items", 64, 1, 4096,                                            \
      "items kept per message (answers, headers, attributes); the rest are counted")               \
    X(U64, max_pending, "dissect.max_pending", 16, 1, 4096,                                        \
      "requests awaiting a response per flow (HTTP: http.max_pipeline); the oldest is written "    \
      "alone past it")                                                                             \
    X(SECS, pending_timeout, "dissect.pending_timeout", 10, 0.001, 3600,                           \
      "an unanswered request is written alone after this long (s)")                                \
    X(STR, hash_bodies, "http.hash_bodies", "files", 0, 0,                                         \
      "response bodies hashed: files (executables, archives, office documents, scripts, PDFs, "    \
      "by sniffed or declared type), all, or none")                                                \
    X(STR, hash_algorithms, "http.hash_algorithms", "sha256", 0, 0,                                \
      "digests of a hashed body: md5, sha1, sha256 (comma list)")                                  \
    X(U64, max_body_hash, "http.max_body_hash", 10485760, 0, 1ull << 40,                           \
      "a body is hashed up to this many bytes; a longer one gets no hash (http.capped)")           \
    X(U64, max_pipeline, "http.max_pipeline", 64, 1, 64,                                           \
      "HTTP requests of a connection awaiting their responses (pipelined); past it the oldest is " \
      "written alone (http.capped)")                                                               \
    X(U64, max_flow_buffer, "reassembly.max_per_flow", 262144, 1024, 1ull << 30,                   \
      "TCP bytes buffered per flow direction (out of order or unconsumed)")                        \
    X(U64, max_worker_buffer, "reassembly.max_per_worker", 268435456, 65536, 1ull << 40,           \
      "TCP bytes buffered per worker, all flows together")                                         \
    X(U64, max_unacked_hold, "reassembly.max_unacked", 16384, 0, 1ull << 30,                       \
      "TCP bytes held after a hole while the other side has sent no ACK since the direction's "    \
      "first byte (a one-way capture: asymmetric routing); past it the hole is lost. 0: off")      \
    X(U64, max_frag_datagrams, "defrag.max_datagrams", 4096, 1, 1ull << 24,                        \
      "datagrams in reassembly at once")                                                           \
    X(U64, max_frag_bytes, "defrag.max_bytes", 16777216, 65536, 1ull << 34,                        \
      "bytes held by fragment reassembly")                                                         \
    X(SECS, frag_timeout, "defrag.timeout", 30, 1, 3600, "incomplete datagram lifetime (s)")       \
    X(SECS, stats_interval, "stats.interval", 60, 1, 86400,                                        \
      "live capture: stats event period (s)")                                                      \
    X(STR, output_types, "output.types", NULL, 0, 0,                                               \
      "event types written to output.path, comma list; unset: all")                                \
    X(U64, rotate_bytes, "output.rotate_bytes", 0, 0, 1ull << 50,                                  \
      "rotate the output file before it passes this size; 0: never")                               \
    X(SECS, rotate_secs, "output.rotate_seconds", 0, 0, 31536000,                                  \
      "rotate the output file this long after opening it (wall clock, s); 0: never")               \
    X(U64, compress_level, "output.compress_level", 0, 0, 22,                                      \
      "zstd level for rotated files (.jsonl.zst); 0: keep them plain")                             \
    X(STR, kafka_brokers, "kafka.brokers", NULL, 0, 0,                                             \
      "Kafka bootstrap servers, host:port,...; unset: no Kafka output")                            \
    X(STR, kafka_topic, "kafka.topic", "tapline.{type}", 0, 0,                                     \
      "Kafka topic; {type} becomes the event type")                                                \
    X(STR, kafka_key, "kafka.key", "community_id", 0, 0, "message key: community_id, uid or none") \
    X(STR, kafka_types, "kafka.types", NULL, 0, 0,                                                 \
      "event types sent to Kafka, comma list; unset: all")                                         \
    X(STR, kafka_props, "kafka.properties", NULL, 0, 0,                                            \
      "librdkafka properties: name=value,... or a YAML mapping")                                   \
    X(STR, kafka_spool, "kafka.spool_dir", "/var/spool/tapline", 0, 0,                             \
      "where events wait while Kafka cannot take them")                                            \
    X(U64, max_spool_bytes, "kafka.max_spool_bytes", 1073741824, 1ull << 20, 1ull << 50,           \
      "spool size on disk; past it the oldest segment is dropped")                                 \
    X(SECS, spool_fsync, "kafka.spool_fsync", 1, 0, 3600,                                          \
      "spooled events reach the disk itself (fsync) this often; 0: after every write (s)")         \
    X(SECS, kafka_flush, "kafka.flush_timeout", 10, 0, 3600,                                       \
      "at exit, wait this long for deliveries, then spool the rest (s)")                           \
    X(STR, kafka_dead_letter, "kafka.dead_letter", NULL, 0, 0,                                     \
      "file for events Kafka refused for good; unset: spool_dir/dead-letter.jsonl")                \
    X(STR, log_level, "log.level", "info", 0, 0,                                                   \
      "lines on stderr: error, warning, info or debug (librdkafka's too)")                         \
    X(STR, metrics_listen, "metrics.listen", NULL, 0, 0,                                           \
      "serve Prometheus metrics on ADDRESS:PORT (e.g. 127.0.0.1:9108); unset: no endpoint")        \
    X(U64, max_held, "coordinator.max_held", 262144, 1024, 1ull << 28,                             \
      "events, sightings and rule matches held to be applied in packet-time order")                \
    X(BOOL, domains, "domains.enabled", true, 0, 0,                                                \
      "keep domain-usage statistics and put them on dns, http and tls events")                     \
    X(STR, internal_zones, "domains.internal_zones", NULL, 0, 0,                                   \
      "zones whose names are not counted (comma list, e.g. corp.example.com)")                     \
    X(STR, psl_file, "domains.psl_file", NULL, 0, 0,                                               \
      "public_suffix_list.dat to load; unset: libpsl's built-in list")                             \
    X(STR, resolvers, "domains.resolvers", NULL, 0, 0,                                             \
      "resolver addresses or networks not counted as requesting hosts (comma list)")               \
    X(U64, max_domains, "domains.max_entries", 200000, 1, 1ull << 28,                              \
      "registered domains tracked; the least recently seen is forgotten past it")                  \
    X(U64, new_days, "domains.new_days", 7, 1, 3650,                                               \
      "a domain first seen fewer days ago than this is new")                                       \
    X(SECS, domain_report, "domains.report_interval", 3600, 0, 31536000,                           \
      "a domain event per active domain this often (packet time, s; 0: only at the end)")          \
    X(STR, domain_state, "domains.state_file", NULL, 0, 0,                                         \
      "statistics snapshot: read at start, written at exit and every snapshot_interval")           \
    X(SECS, domain_snapshot, "domains.snapshot_interval", 300, 1, 31536000,                        \
      "how often the snapshot is written (packet time, s)")                                        \
    X(STR, redis_url, "redis.url", NULL, 0, 0,                                                     \
      "redis://[[USER]:PASSWORD@]HOST[:PORT][/DB] or unix:PATH: share domain statistics (fleet)")  \
    X(STR, redis_password, "redis.password", NULL, 0, 0,                                           \
      "Redis password (AUTH), if not in the url")                                                  \
    X(STR, redis_prefix, "redis.prefix", "tapline", 0, 0, "prefix of every Redis key")             \
    X(U64, redis_max_backlog, "redis.max_backlog", 1048576, 1, 1ull << 28,                         \
      "updates held while Redis is unreachable; past it the oldest are dropped (counted)")         \
    X(SECS, redis_interval, "redis.sync_interval", 1, 0.01, 3600,                                  \
      "how often updates are written and fleet counts read (wall clock, s)")                       \
    X(SECS, redis_timeout, "redis.timeout", 2, 0.01, 600, "Redis connect and command timeout (s)") \
    X(SECS, redis_refresh, "redis.refresh_interval", 60, 0, 86400,                                 \
      "a domain used again is re-read from Redis at most this often (wall clock, s)")              \
    X(STR, hmac_key_file, "privacy.hmac_key_file", NULL, 0, 0,                                     \
      "key file: user names are written as HMAC-SHA-256 pseudonyms; unset: in clear")              \
    X(STR, pseudonymise, "privacy.pseudonymise",                                                   \
      "identity.user,domain.users,kerberos.client,ldap.bind_name,http.username,socks.user", 0, 0,  \
      "fields written as pseudonyms when privacy.hmac_key_file is set (type.field, comma list)")   \
    X(U64, pseudonym_len, "privacy.pseudonym_hex_len", 32, 8, 64,                                  \
      "hex digits of a pseudonym kept (8 to 64)")                                                  \
    X(STR, rule_paths, "rules.paths", TL_RULES_DIR, 0, 0,                                          \
      "Sigma rule files or folders (comma list; *.yml below a folder); empty: no rules")           \
    X(STR, placeholders, "rules.placeholders", NULL, 0, 0,                                         \
      "values of Sigma %placeholders%: a YAML mapping name: [values] (or name: @file)")            \
    X(U64, max_rule_state, "rules.max_state", 100000, 1, 1ull << 28,                               \
      "correlation groups tracked at once; the oldest is forgotten past it")                       \
    X(U64, max_alert_uids, "rules.max_alert_uids", 32, 0, 10000,                                   \
      "uids of contributing events listed on a correlation alert; the rest are counted")           \
    X(U64, max_summary, "summary.max_entries", 10000, 16, 1ull << 24,                              \
      "rows per table of the run summary and report (talkers, domains, rules, principals, "        \
      "LDAP flows); the rest are counted in the summary, not listed")

struct tl_config {
#define TL_CFG_MEMBER_U64(m)                 uint64_t m;
#define TL_CFG_MEMBER_BOOL(m)                bool m;
#define TL_CFG_MEMBER_STR(m)                 char *m;
#define TL_CFG_MEMBER_SECS(m)                uint64_t m;
#define TL_X(type, m, key, def, lo, hi, doc) TL_CFG_MEMBER_##type(m)
    TL_CONFIG_KEYS(TL_X)
#undef TL_X
};

void tl_config_defaults(struct tl_config *c);
void tl_config_free(struct tl_config *c);
/* Sets one option by its key from text; -1 with a reason in errbuf. */
int tl_config_set(struct tl_config *c, const char *key, const char *value, char *errbuf, size_t n);
/* Loads a YAML file of nested mappings; -1 with "file:line: reason" in errbuf. */
int tl_config_load(struct tl_config *c, const char *path, char *errbuf, size_t n);
/* Prints every option with its default, meaning and range. */
void tl_config_print_help(FILE *out);

/*
 * memory.max_bytes, split: the share of one part, per holder of it (a worker's
 * flows, the one defragmenter), in bytes; UINT64_MAX without a budget.
 */
enum tl_mem_part {
    TL_MEM_FLOWS,
    TL_MEM_DISSECT,
    TL_MEM_REASM,
    TL_MEM_DOMAINS,
    TL_MEM_RULES,
    TL_MEM_FRAGS
};
uint64_t tl_config_mem_share(const struct tl_config *c, enum tl_mem_part part, unsigned holders);
/* own, or fewer: as many units of unit_bytes as the part's share holds (at least 1). */
uint64_t tl_config_mem_cap(const struct tl_config *c, enum tl_mem_part part, unsigned holders,
                           uint64_t own, uint64_t unit_bytes);

/* One option as the table declares it, for walking them all (tests, documentation). */
struct tl_config_info {
    const char *key;
    char type; /* 'n' a number (lo..hi, seconds when secs), 'b' true/false, 's' text */
    bool secs;
    double lo, hi;
};
/* The i-th option; false past the last. */
bool tl_config_option(size_t i, struct tl_config_info *out);

#endif
