/*
 * coord.h - the coordinator: what must be seen across flows, in packet-time order.
 *
 * Workers share nothing, but some work needs every worker's view: the identity
 * table, the domain statistics, and correlation rules. Workers hand that work
 * to the coordinator (the output thread) as messages over a ring each. The
 * coordinator holds them in a heap ordered by (order time, fixed hash of the
 * flow's key, worker sequence) and applies them once every worker's clock has
 * passed their time by TL_COORD_HOLD_TICKS clock ticks, so the results do not
 * depend on how flows were spread over workers nor on when the rings were
 * drained.
 *
 * The order time of a message is when the worker produced it, in packet time:
 * the packet that completed it, or the deadline that expired it (a flow's idle
 * timeout, a request's dissect.pending_timeout). Workers look for expired
 * deadlines once a tick (1 s of packet time offline, 100 ms live), and every
 * worker's clock moves at least once a tick, so a worker's order times never
 * fall more than two ticks behind its clock, which the hold covers; a
 * message that still arrives after later ones were applied is applied at once
 * and counted (coordinator.late).
 */
#ifndef TL_FLOWS_COORD_H
#define TL_FLOWS_COORD_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include "domain.h"
#include "event.h"
#include "identity.h"
#include "ring.h"
#include "rules.h"
#include "stats.h"

struct tl_config;
struct tl_privacy;

/* Ticks of the pipeline's clock (pipeline.c) a message waits behind the slowest worker. */
enum { TL_COORD_HOLD_TICKS = 3 };

/*
 * Order times and clocks are "virtual times": an epoch in the top 12 bits, packet
 * time (us, good to the year 2112) below. A replay whose time jumps back (a folder of
 * unrelated captures) starts a new epoch (pipeline.c): everything of the earlier
 * epoch is applied before anything of the next, so the order stays deterministic.
 */
enum { TL_VT_SHIFT = 52, TL_VT_EPOCHS = 1 << 12 };
#define TL_VT_US_MASK ((UINT64_C(1) << TL_VT_SHIFT) - 1)

static inline uint64_t tl_vtime(uint32_t epoch, uint64_t us)
{
    return (uint64_t)epoch << TL_VT_SHIFT | (us < TL_VT_US_MASK ? us : TL_VT_US_MASK);
}

static inline uint64_t tl_vtime_us(uint64_t vt)
{
    return vt & TL_VT_US_MASK;
}

/*
 * What workers read and the coordinator owns; set up before any thread starts.
 * A rule reload stores the new set, then bumps the epoch; each thread takes
 * the set with tl_detect_rules() at the start of a unit of work and publishes
 * the epoch it saw, so a replaced set is freed once every thread has moved on.
 */
struct tl_detect {
    struct tl_domain_ctx *domains;      /* NULL: no domain names, no statistics */
    struct tl_privacy *privacy;         /* NULL: user names in clear */
    _Atomic(struct tl_ruleset *) rules; /* NULL: no rules */
    _Atomic uint64_t epoch;             /* rule sets stored so far */
    struct tl_rules_env env;            /* event types and limits the rules are loaded with */
};

static inline struct tl_ruleset *tl_detect_rules(struct tl_detect *det, _Atomic uint64_t *seen)
{
    uint64_t e = atomic_load_explicit(&det->epoch, memory_order_acquire);
    struct tl_ruleset *rs = atomic_load_explicit(&det->rules, memory_order_acquire);
    atomic_store_explicit(seen, e, memory_order_release);
    return rs;
}

enum tl_cmsg_kind {
    TL_CMSG_IDENTITY, /* a sighting for the identity table */
    TL_CMSG_EVENT,    /* an event whose name the domain statistics count */
    TL_CMSG_CORR,     /* base-rule matches for correlations */
};

/*
 * An event held for the domain statistics: its JSON so far, its name, its
 * record for late rules. Held events add up (three ticks of them), so the
 * name's three strings are kept at their length, after the JSON
 * (tl_cmsg_event_name gives them back).
 */
struct tl_cmsg_event {
    const struct tl_event_type *type;
    void *clone;       /* a copy of the record when late-phase rules want it, else NULL */
    struct tl_ip host; /* the requesting host: the originator */
    uint64_t ts_us;    /* the event's own time */
    uint8_t len[3];    /* of the canonical name, registered domain and public suffix */
    size_t json_len;   /* json: "{...fields so far" without the closing brace */
    char json[];
};

struct tl_hold_block;

struct tl_cmsg {
    struct tl_hold_block *block; /* EVENT: the pool block it was cut from; NULL: malloc'd */
    uint64_t order_us;           /* a virtual time (tl_vtime) */
    uint64_t flow_order;         /* tl_fkey_fixed: simultaneous messages of different flows */
    uint64_t seq; /* per worker: keeps one flow's messages in the order they were made */
    uint8_t kind; /* enum tl_cmsg_kind */
    const struct tl_ruleset *rules; /* CORR: the set the inputs were made with */
    union {
        struct tl_identity_obs *ident;
        struct tl_corr_input *corr;
        struct tl_cmsg_event *ev;
    } u;
};

/*
 * Where a worker cuts its held events from: blocks of its own, not a malloc
 * each. The output thread frees what the worker allocated, and through
 * glibc's per-thread arenas that was a lock, heap growth (mprotect) and fresh
 * pages every few events. A block goes back to its worker through `back` once
 * the coordinator has applied every event cut from it.
 */
struct tl_hold_pool {
    struct tl_hold_block *cur; /* being cut from */
    size_t used;               /* bytes of cur cut (here, not in the block the coordinator
                                  writes its counts to: no shared cache line) */
    uint32_t cut;              /* events cut from cur */
    struct tl_ring back;       /* struct tl_hold_block *, emptied: coordinator -> worker */
};

int tl_hold_pool_init(struct tl_hold_pool *hp);
/* Only once every event cut from the pool is freed (tl_cmsg_free): a later free would
 * return its block to the freed ring. */
void tl_hold_pool_free(struct tl_hold_pool *hp);

/*
 * A TL_CMSG_EVENT message for the name nm with room for json_len bytes of
 * JSON and, when clone_size is not 0, a record clone of that many bytes
 * (ev->clone), all in one piece cut from hp (a malloc when hp is NULL or the
 * event is large). NULL when out of memory.
 */
struct tl_cmsg *tl_cmsg_event_new(struct tl_hold_pool *hp, const struct tl_domain_name *nm,
                                  size_t json_len, size_t clone_size);

/* The name a held event is about, as tl_cmsg_event_new was given it (kind: counted). */
void tl_cmsg_event_name(const struct tl_cmsg_event *ev, struct tl_domain_name *nm);

void tl_cmsg_free(struct tl_cmsg *m);

struct tl_coord;
struct tl_output;

/* NULL with errbuf on failure (a bad domains.state_file, redis.url...). */
struct tl_coord *tl_coord_new(const struct tl_config *cfg, struct tl_detect *det, char *errbuf,
                              size_t n);
void tl_coord_free(struct tl_coord *c);

/* Takes a message from a worker (and its memory): held, or applied at once when late. */
void tl_coord_take(struct tl_coord *c, struct tl_cmsg *m);
/* Applies every held message with order time <= upto (virtual), then the work due by then. */
void tl_coord_release(struct tl_coord *c, uint64_t upto);
/*
 * The dispatcher (any thread) says that packet-time epoch `epoch` ended at
 * packet time last_us, before it sends anything of the next: the coordinator
 * then does the work due by last_us (domain reports, correlation windows)
 * before the next epoch's, however far the watermark jumped.
 */
void tl_coord_epoch_ended(struct tl_coord *c, uint32_t epoch, uint64_t last_us);
/* End of the run: everything held, the last domain events and snapshot, open correlations. */
void tl_coord_finish(struct tl_coord *c, uint64_t now_vt);
/* JSON lines the coordinator produced since the last call (identity, domain, alert events). */
struct tl_buf *tl_coord_output(struct tl_coord *c);

/* The rule epoch the coordinator works with (see struct tl_detect). */
uint64_t tl_coord_rules_epoch(struct tl_coord *c);
/* Counters: a copy any thread may read (refreshed by the coordinator after each release). */
void tl_coord_stats(struct tl_coord *c, struct tl_stats *st);
/* The public suffix list's date, for the stats event ("" without domain statistics). */
const char *tl_coord_psl_date(const struct tl_coord *c);

#endif
