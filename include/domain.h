/*
 * domain.h - which domains the network uses: names, registered domains, statistics.
 *
 * Three parts, three owners:
 *  - naming (detect/domain.c): workers turn a name seen on the wire (a DNS
 *    query, an HTTP Host, a TLS server name) into its canonical form and find
 *    its registered domain and public suffix with libpsl. The context is
 *    read-only once built and shared by every worker.
 *  - statistics (detect/domstats.c): the coordinator counts every use of a
 *    counted name, in packet-time order, in one bounded table keyed by
 *    registered domain, and computes the enrichment written on the event as of
 *    that moment; a `domain` event per registered domain reports the table.
 *  - the fleet (detect/redis.c): with redis.url, a thread of its own writes the
 *    uses to Redis and reads back fleet-wide views, which the statistics merge
 *    into what they report. Never on the packet path; Redis down only delays.
 *
 * Time is packet time everywhere but in the fleet's own pacing (wall clock).
 */
#ifndef TL_DOMAIN_H
#define TL_DOMAIN_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "schema.h"

struct tl_config;
struct tl_stats;

/* ---- naming (any thread) ---- */

/* Why a name is counted or not. */
enum tl_dom_kind {
    TL_DOM_COUNTED, /* a name under a public suffix: counted */
    TL_DOM_IP,      /* an IPv4 or IPv6 literal (also in brackets, with a port) */
    TL_DOM_SINGLE,  /* a single label */
    TL_DOM_ARPA,    /* under .arpa */
    TL_DOM_LOCAL,   /* under .local, .localhost, .internal, .lan, .home.arpa... (RFC 6761/6762/8375)
                     */
    TL_DOM_INTERNAL,  /* under a zone of domains.internal_zones */
    TL_DOM_NO_SUFFIX, /* no registrable part: a public suffix itself, or no known suffix */
    TL_DOM_INVALID,   /* empty, longer than 253 octets, or bytes a host name cannot hold */
};

enum { TL_DOMAIN_MAX = 254 }; /* 253 octets (RFC 1035 2.3.4 less the root) and a NUL */

struct tl_domain_name {
    char name[TL_DOMAIN_MAX];       /* canonical: lower case, no trailing dot, IDN as UTF-8 */
    char registered[TL_DOMAIN_MAX]; /* the registered domain ("" when none) */
    char suffix[TL_DOMAIN_MAX];     /* the public suffix ("" when none) */
    uint8_t kind;                   /* enum tl_dom_kind */
};

struct tl_domain_ctx;

/* The list (domains.psl_file, or libpsl's built-in one) and domains.internal_zones. */
struct tl_domain_ctx *tl_domain_ctx_new(const struct tl_config *cfg, char *errbuf, size_t n);
void tl_domain_ctx_free(struct tl_domain_ctx *c);
/* The list's date as YYYY-MM-DD (its file time, or libpsl's build date), for the stats event. */
const char *tl_domain_psl_date(const struct tl_domain_ctx *c);

/*
 * Canonicalises name (n bytes, as a dissector wrote it: DNS text escapes \xNN
 * and \\ are decoded; an HTTP Host may carry a port) into *out and classifies
 * it. Thread-safe. out->registered and out->suffix are set for every kind but
 * IP and INVALID, even when the name is not counted.
 */
enum tl_dom_kind tl_domain_name(const struct tl_domain_ctx *c, const char *name, size_t n,
                                struct tl_domain_name *out);

/* A 64-bit hash of an address or a user name, the same on every sensor (fleet sketches). */
uint64_t tl_domain_hash(const void *p, size_t n);
/* Its core, SipHash-2-4 under any key (for the reference vectors in the unit test). */
uint64_t tl_domain_siphash(uint64_t k0, uint64_t k1, const void *p, size_t n);

/*
 * ---- the enrichment on dns, http and tls events ----
 *
 * One record, two field tables: the names part (filled by the worker from
 * tl_domain_name) and the statistics part (filled by the coordinator, only for
 * counted names: its fields are written when `counted` is true). The event
 * types' `ext` is tl_domain_names_fields, whose `ext` is tl_domain_stats_fields.
 */
struct tl_domain_enrich {
    char registered_domain[TL_DOMAIN_MAX];
    char public_suffix[TL_DOMAIN_MAX];
    bool counted;
    bool is_new;            /* first seen fewer than domains.new_days days before the event */
    uint64_t first_seen;    /* packet time, us (earliest of the fleet with Redis) */
    uint64_t age_days;      /* whole days from first_seen to the event */
    uint64_t hosts_24h;     /* distinct requesting hosts in the 24 h before the event */
    uint64_t hosts_30d;     /* ... in the 30 days before it */
    uint64_t users_30d;     /* distinct users (identity table) in the 30 days */
    uint64_t requests_24h;  /* uses in the 24 h before the event */
    double prevalence;      /* hosts_30d / hosts active (any counted use) in 30 d, 0..1 */
    double frequency_index; /* percentile rank of hosts_30d among all domains: 0 rarest, 100 most
                               common */
};

extern const struct tl_event_type tl_domain_names_fields, tl_domain_stats_fields;

/* Fills the names part of e from a classified name (the stats part zeroed, counted false). */
void tl_domain_enrich_names(struct tl_domain_enrich *e, const struct tl_domain_name *nm);

/* ---- statistics (the coordinator's thread only) ---- */

struct tl_domstats;
struct tl_fleet;

/* Reads domains.state_file when it exists (a bad file: errbuf, NULL). fleet may be NULL. */
struct tl_domstats *tl_domstats_new(const struct tl_config *cfg, struct tl_fleet *fleet,
                                    char *errbuf, size_t n);
void tl_domstats_free(struct tl_domstats *ds);

/*
 * Counts one use of a counted name (nm->kind == TL_DOM_COUNTED) by host, with
 * user (NULL when the identity table knows none) at packet time ts_us, then
 * fills the statistics part of *e as of that moment (e->counted = true). A
 * host in domains.resolvers is not counted (e->counted stays false).
 */
void tl_domstats_observe(struct tl_domstats *ds, uint64_t ts_us, const struct tl_domain_name *nm,
                         const struct tl_ip *host, const char *user, struct tl_domain_enrich *e);

/* A `domain` record to write; borrowed until emit returns. */
typedef void (*tl_domain_emit_fn)(void *arg, const void *domain_rec);

/*
 * Packet time moved to now_us: writes the domain events and the snapshot that
 * are due. Reports fall on multiples of domains.report_interval and count as of
 * the interval's end, so call it before observing any use at or after now_us.
 */
void tl_domstats_tick(struct tl_domstats *ds, uint64_t now_us, tl_domain_emit_fn emit, void *arg);
/* End of the run: a domain event for every domain used since its last one, then the snapshot. */
void tl_domstats_finish(struct tl_domstats *ds, uint64_t now_us, tl_domain_emit_fn emit, void *arg);
/* Walks every entry for domains.bytes: O(domains), so callers do it now and then. */
void tl_domstats_measure(struct tl_domstats *ds);
/* Adds the domains.* counters and gauges (domains.bytes as last measured). */
void tl_domstats_counters(const struct tl_domstats *ds, struct tl_stats *st);

/* The `domain` event: first/last seen, counts, hosts (up to dissect.max_items), users. */
extern const struct tl_event_type tl_domain_event;

/* ---- the fleet: Redis (the coordinator's thread calls; a thread of its own talks) ---- */

/* What the fleet knows of one registered domain, as last read. */
struct tl_fleet_domain {
    uint64_t first_seen; /* earliest of all sensors, us; 0: none yet */
    uint64_t hosts_24h, hosts_30d, users_30d, requests_24h, requests_30d;
};

/* Opens redis.url (a bad URL: errbuf, NULL; an unreachable server is not an error). */
struct tl_fleet *tl_fleet_open(const struct tl_config *cfg, char *errbuf, size_t n);
/* Queues one use (never blocks; past redis.max_backlog the oldest is dropped, counted). */
void tl_fleet_record(struct tl_fleet *fl, const char *registered, uint64_t ts_us,
                     uint64_t host_hash, uint64_t user_hash /* 0: none */);
/* The last fleet-wide view of a domain (false: none read yet). */
bool tl_fleet_lookup(struct tl_fleet *fl, const char *registered, struct tl_fleet_domain *out);
/* Distinct hosts with any counted use in 30 days, fleet-wide (false: not read yet). */
bool tl_fleet_active_hosts(struct tl_fleet *fl, uint64_t *hosts_30d);
/* Writes what is queued and re-reads the views of these domains, waiting up to timeout_us. */
void tl_fleet_sync(struct tl_fleet *fl, const char *const *registered, size_t n,
                   uint64_t timeout_us);
/* Adds the redis.* counters and gauges. */
void tl_fleet_counters(struct tl_fleet *fl, struct tl_stats *st);
void tl_fleet_close(struct tl_fleet *fl);

#endif
