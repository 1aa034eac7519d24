/*
 * domstats.c - domain-usage statistics: the coordinator's bounded table of
 * registered domains, the enrichment as of each use, `domain` events, and the
 * snapshot that carries the table across restarts (see domain.h).
 *
 * Per registered domain: first and last use, uses per hour (24 hours) and per
 * day (30 days) in rings, a sketch of the requesting hosts and one of the
 * users (sketch.h: exact up to 128, then a sliding HyperLogLog), and what the
 * next `domain` event lists: the hosts and users since the last one, up to
 * dissect.max_items each. One more sketch counts every host with any counted
 * use (the denominator of the prevalence).
 *
 * Memory (domains.bytes counts what is allocated, allocator overhead aside):
 * a tracked domain costs its entry (sizeof(struct ds_entry) is 392 bytes on
 * x86-64), its name, a hash bucket and its two sketches: 490 bytes for a
 * domain with three hosts and a user (the unit test measures 10 000 of them
 * and holds domains.bytes / domains.entries under 600). A popular domain's
 * sketch is at most 2 KiB exact and 157 KiB as a HyperLogLog (5-17 KiB in
 * practice, see sketch.h). The lists for the next event hold up to
 * dissect.max_items hosts (16 bytes each) and users (their names), and are
 * freed at each report. Past domains.max_entries the least recently used
 * domain is forgotten (domains.max_entries_capped).
 *
 * Windows are whole hours (sketch.h): "24 h" is the current hour and the 23
 * before it, "30 days" the current hour and the 719 before; requests_30d are
 * the current day and the 29 before (UTC days).
 *
 * Frequency index: the share of the other tracked domains used in 30 days
 * whose hosts_30d is lower, in percent: 100 * fewer / (domains - 1). The
 * rarest domains get 0, a domain with more hosts than any other 100; ties
 * (equal counts) rank alike, at the bottom of the tie. Counts are exact up to
 * 1023 hosts; above, counts within 1/256 of a power of two are ties. A Fenwick
 * tree over those 6656 buckets makes each update and query O(log buckets).
 *
 * Determinism: the values depend only on the uses, in the order given, and on
 * their packet times. When packet time enters a new hour, every domain's
 * 30-day host count is recomputed for that hour (the tree then reflects hosts
 * that aged out), whoever brings the hour - an observation or a report. The
 * caller must report (tl_domstats_tick) before observing uses at or after the
 * report time; reports fall on multiples of domains.report_interval, and their
 * counts are as of the last microsecond of the interval.
 *
 * Snapshot (domains.state_file), big-endian:
 *   "TLDOMST\0", u32 version (1), u32 HyperLogLog precision, u64 saved at
 *   (packet time), u32 hour, u32 domains, the active-hosts sketch, then per
 *   domain from least to most recently used: u8 name length, the name, u64
 *   first seen, u64 last seen, u32 last hour, 24 x u32, u32 last day,
 *   30 x u32, the hosts sketch, the users sketch; then the SHA-256 of all
 *   before it. Written to PATH.tmp and renamed over PATH; read back through
 *   a cursor: a cut or corrupt file is an error naming the file and offset.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "config.h"
#include "cursor.h"
#include "domain.h"
#include "event.h"
#include "netlist.h"
#include "sketch.h"
#include "stats.h"

enum {
    DS_HOURS = 24,
    DS_DAYS = 30,
    DS_EXACT_BUCKETS = 1024,                  /* hosts_30d ranked exactly below this */
    DS_BUCKETS = DS_EXACT_BUCKETS + 22 * 256, /* then 256 per power of two up to 2^32 */
    DS_SNAP_VERSION = 1,
    DS_MAX_LIST = 65535, /* dissect.max_items beyond this is taken as this */
    DS_WRITE_BUF = 65536,
    DS_BUDGET_BYTES = 600, /* a domain against memory.max_bytes: used by a few hosts (above) */
};

static const uint64_t DS_HOUR_US = 3600ULL * 1000000, DS_DAY_US = 86400ULL * 1000000;
static const char DS_MAGIC[8] = "TLDOMST";

struct ds_entry {
    struct ds_entry *hnext;       /* hash chain */
    struct ds_entry *prev, *next; /* LRU list: head is the least recently used */
    uint64_t hash;
    uint64_t first_seen, last_seen;
    struct tl_sketch hosts, users;
    uint32_t req_hour[DS_HOURS];  /* uses per hour, by hour % 24 */
    uint32_t req_day[DS_DAYS];    /* uses per day, by day % 30 */
    uint32_t last_hour, last_day; /* where the rings end */
    uint32_t bucket;              /* Fenwick bucket of hosts_30d; 0: not ranked */
    uint32_t nlist_hosts, nlist_users;
    struct tl_ip *list_hosts; /* since the last report, first come first listed */
    char **list_users;
    bool dirty; /* used since the last report */
    uint8_t len;
    char name[];
};

struct tl_domstats {
    struct ds_entry **bucket;
    size_t nbuckets, count, max;
    struct ds_entry *head, *tail;
    struct tl_sketch active;   /* every host with a counted use */
    uint32_t tree[DS_BUCKETS]; /* Fenwick tree over hosts_30d buckets, 1-based */
    uint32_t ranked;           /* domains in the tree */
    uint32_t hour;             /* the hour the tree is for */
    uint64_t new_us, report_every, snapshot_every, sync_timeout;
    uint64_t next_report, next_snapshot;
    uint64_t interval_start; /* the previous report, or the first use */
    bool scheduled;
    uint32_t max_list;
    struct tl_netlist resolvers;
    struct tl_fleet *fleet;
    char *state_file;
    /* what the next domain event borrows */
    char (*ip_text)[TL_IP_TEXT];
    struct tl_str *host_strs, *user_strs;
    /* counters */
    uint64_t capped, reports, snapshots, snapshot_errors, observed, from_resolvers;
    size_t bytes; /* as last measured (tl_domstats_measure) */
};

/* The `domain` event. */
struct ds_rec {
    uint64_t ts;
    const char *registered_domain, *public_suffix;
    uint64_t first_seen, last_seen, age_days;
    bool is_new;
    uint64_t requests_24h, requests_30d, hosts_24h, hosts_30d, users_30d;
    double prevalence, frequency_index;
    struct tl_strlist hosts, users;
    uint64_t hosts_capped, users_capped;
};

static const struct tl_field ds_fields[] = {
    TL_FIELD(struct ds_rec, ts, TS, "ts", "end of the reporting interval (packet time)"),
    TL_FIELD(struct ds_rec, registered_domain, CSTR, "registered_domain",
             "the registered domain (Public Suffix List, ICANN and private sections)"),
    TL_FIELD(struct ds_rec, public_suffix, CSTR, "public_suffix", "its public suffix"),
    TL_FIELD(struct ds_rec, first_seen, TS, "first_seen",
             "first use seen (the fleet's earliest with Redis)"),
    TL_FIELD(struct ds_rec, last_seen, TS, "last_seen", "last use seen by this sensor"),
    TL_FIELD(struct ds_rec, age_days, U64, "age_days", "whole days from first_seen to ts"),
    TL_FIELD(struct ds_rec, is_new, BOOL, "is_new",
             "first seen fewer than domains.new_days days before ts"),
    TL_FIELD(struct ds_rec, requests_24h, U64, "requests_24h", "uses in the 24 h before ts"),
    TL_FIELD(struct ds_rec, requests_30d, U64, "requests_30d", "uses in the 30 days before ts"),
    TL_FIELD(struct ds_rec, hosts_24h, U64, "hosts_24h",
             "distinct requesting hosts in the 24 h before ts"),
    TL_FIELD(struct ds_rec, hosts_30d, U64, "hosts_30d",
             "distinct requesting hosts in the 30 days before ts"),
    TL_FIELD(struct ds_rec, users_30d, U64, "users_30d",
             "distinct users (identity table) in the 30 days before ts"),
    TL_FIELD(struct ds_rec, prevalence, F64, "prevalence",
             "hosts_30d over the hosts with any counted use in 30 days (0..1)"),
    TL_FIELD(struct ds_rec, frequency_index, F64, "frequency_index",
             "percentile rank of hosts_30d among tracked domains (0 rarest, 100 most common)"),
    TL_FIELD_OPT_P(struct ds_rec, hosts, STRLIST, "hosts",
                   "hosts that used it since the last domain event (up to dissect.max_items)"),
    TL_FIELD_OPT(struct ds_rec, hosts_capped, U64, "hosts_capped",
                 "further hosts not listed (from the host sketch since the interval's first "
                 "hour)"),
    TL_FIELD_OPT_P(struct ds_rec, users, STRLIST, "users",
                   "users (identity table) that used it since the last domain event"),
    TL_FIELD_OPT(struct ds_rec, users_capped, U64, "users_capped", "further users not listed"),
};

const struct tl_event_type tl_domain_event = {
    .name = "domain",
    .doc = "usage of one registered domain, every domains.report_interval it was used and at "
           "the end",
    .fields = ds_fields,
    .nfields = TL_ARRAY_LEN(ds_fields),
};

/* What the enrichment and the event report of a domain at one moment. */
struct ds_values {
    uint64_t first_seen, age_days, h24, h30, u30, r24, r30;
    double prevalence, frequency_index;
    bool is_new;
};

/* ---- the frequency tree ---- */

static uint32_t ds_bucket_of(uint64_t hosts)
{
    if (hosts < DS_EXACT_BUCKETS)
        return (uint32_t)hosts;
    if (hosts > UINT32_MAX)
        hosts = UINT32_MAX;
    int e = 63 - __builtin_clzll(hosts); /* 10..31 */
    return DS_EXACT_BUCKETS + (uint32_t)(e - 10) * 256 + (uint32_t)((hosts >> (e - 8)) & 255);
}

static void ds_tree_add(struct tl_domstats *ds, uint32_t i, int32_t delta)
{
    for (; i < DS_BUCKETS; i += i & -i)
        ds->tree[i] += (uint32_t)delta;
}

static uint32_t ds_tree_prefix(const struct tl_domstats *ds, uint32_t i)
{
    uint32_t sum = 0;
    for (; i > 0; i -= i & -i)
        sum += ds->tree[i];
    return sum;
}

static void ds_rank(struct tl_domstats *ds, struct ds_entry *d, uint64_t hosts_30d)
{
    uint32_t b = hosts_30d ? ds_bucket_of(hosts_30d) : 0;
    if (b == d->bucket)
        return;
    if (d->bucket) {
        ds_tree_add(ds, d->bucket, -1);
        ds->ranked--;
    }
    if (b) {
        ds_tree_add(ds, b, 1);
        ds->ranked++;
    }
    d->bucket = b;
}

static double ds_frequency_index(const struct tl_domstats *ds, const struct ds_entry *d)
{
    if (!d->bucket || ds->ranked < 2)
        return 0;
    return 100.0 * ds_tree_prefix(ds, d->bucket - 1) / (ds->ranked - 1);
}

/* ---- rings of uses ---- */

static void ds_ring_add(uint32_t *ring, uint32_t size, uint32_t *last, uint32_t now)
{
    if (now > *last) {
        for (uint32_t k = 1; k <= now - *last && k <= size; k++)
            ring[(*last + k) % size] = 0;
        *last = now;
    } else if (*last - now >= size) {
        return; /* older than the ring */
    }
    if (ring[now % size] < UINT32_MAX)
        ring[now % size]++;
}

/*
 * Uses in the `size` hours (or days) ending at `now`. The ring holds the
 * `size` ending at `last`, hour h in slot h % size: the two spans overlap in
 * size - |now - last| slots, the newest at min(now, last).
 */
static uint64_t ds_ring_sum(const uint32_t *ring, uint32_t size, uint32_t last, uint32_t now)
{
    uint32_t newest = now < last ? now : last, apart = now < last ? last - now : now - last;
    uint64_t sum = 0;
    for (uint32_t k = apart, i = newest % size; k < size; k++, i = i ? i - 1 : size - 1)
        sum += ring[i];
    return sum;
}

/* ---- the table ---- */

static struct ds_entry *ds_find(const struct tl_domstats *ds, const char *name, size_t len,
                                uint64_t hash)
{
    for (struct ds_entry *d = ds->bucket[hash & (ds->nbuckets - 1)]; d; d = d->hnext)
        if (d->hash == hash && d->len == len && memcmp(d->name, name, len) == 0)
            return d;
    return NULL;
}

static void ds_unlink(struct tl_domstats *ds, struct ds_entry *d)
{
    if (d->prev)
        d->prev->next = d->next;
    else
        ds->head = d->next;
    if (d->next)
        d->next->prev = d->prev;
    else
        ds->tail = d->prev;
    d->prev = d->next = NULL;
}

static void ds_append(struct tl_domstats *ds, struct ds_entry *d)
{
    d->prev = ds->tail;
    d->next = NULL;
    if (ds->tail)
        ds->tail->next = d;
    else
        ds->head = d;
    ds->tail = d;
}

static void ds_clear_lists(struct ds_entry *d)
{
    for (uint32_t i = 0; i < d->nlist_users; i++)
        free(d->list_users[i]);
    free(d->list_users);
    free(d->list_hosts);
    d->list_users = NULL;
    d->list_hosts = NULL;
    d->nlist_users = d->nlist_hosts = 0;
}

static void ds_free_entry(struct ds_entry *d)
{
    tl_sketch_clear(&d->hosts);
    tl_sketch_clear(&d->users);
    ds_clear_lists(d);
    free(d);
}

static void ds_forget(struct tl_domstats *ds, struct ds_entry *d)
{
    struct ds_entry **pp = &ds->bucket[d->hash & (ds->nbuckets - 1)];
    while (*pp != d)
        pp = &(*pp)->hnext;
    *pp = d->hnext;
    ds_unlink(ds, d);
    ds_rank(ds, d, 0);
    ds_free_entry(d);
    ds->count--;
}

static void ds_grow(struct tl_domstats *ds)
{
    size_t n = ds->nbuckets * 2;
    struct ds_entry **b = calloc(n, sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < ds->nbuckets; i++)
        for (struct ds_entry *d = ds->bucket[i], *next; d; d = next) {
            next = d->hnext;
            d->hnext = b[d->hash & (n - 1)];
            b[d->hash & (n - 1)] = d;
        }
    free(ds->bucket);
    ds->bucket = b;
    ds->nbuckets = n;
}

/* A new entry at the most recent end, the least recently used one forgotten past the cap. */
static struct ds_entry *ds_insert(struct tl_domstats *ds, const char *name, size_t len,
                                  uint64_t hash)
{
    struct ds_entry *d = calloc(1, sizeof(*d) + len + 1);
    if (!d)
        return NULL;
    if (ds->count >= ds->max) {
        ds_forget(ds, ds->head);
        ds->capped++;
    }
    if (ds->count >= ds->nbuckets)
        ds_grow(ds);
    d->hash = hash;
    d->len = (uint8_t)len;
    memcpy(d->name, name, len);
    d->hnext = ds->bucket[hash & (ds->nbuckets - 1)];
    ds->bucket[hash & (ds->nbuckets - 1)] = d;
    ds_append(ds, d);
    ds->count++;
    return d;
}

/* ---- counting ---- */

/* Packet time entered a new hour: every domain's 30-day host count, as of that hour. */
static void ds_set_hour(struct tl_domstats *ds, uint32_t hour)
{
    uint64_t c24, c30;
    if (hour <= ds->hour)
        return;
    ds->hour = hour;
    tl_sketch_counts(&ds->active, hour, &c24, &c30);
    for (struct ds_entry *d = ds->head; d; d = d->next) {
        tl_sketch_counts(&d->users, hour, &c24, &c30);
        tl_sketch_counts(&d->hosts, hour, &c24, &c30);
        ds_rank(ds, d, c30);
    }
}

/* A full list takes no more: what is left out is counted from the sketch at report time. */
static void ds_list_host(const struct tl_domstats *ds, struct ds_entry *d, const struct tl_ip *h)
{
    if (d->nlist_hosts >= ds->max_list)
        return;
    for (uint32_t i = 0; i < d->nlist_hosts; i++)
        if (memcmp(d->list_hosts[i].b, h->b, 16) == 0)
            return;
    if ((d->nlist_hosts & (d->nlist_hosts - 1)) == 0) { /* 0, 1, 2, 4...: grow to 2n */
        struct tl_ip *l =
            realloc(d->list_hosts, sizeof(*l) * (d->nlist_hosts ? 2 * d->nlist_hosts : 1));
        if (!l)
            return;
        d->list_hosts = l;
    }
    d->list_hosts[d->nlist_hosts++] = *h;
}

static void ds_list_user(const struct tl_domstats *ds, struct ds_entry *d, const char *user)
{
    if (d->nlist_users >= ds->max_list)
        return;
    for (uint32_t i = 0; i < d->nlist_users; i++)
        if (strcmp(d->list_users[i], user) == 0)
            return;
    if ((d->nlist_users & (d->nlist_users - 1)) == 0) {
        char **l = realloc(d->list_users, sizeof(*l) * (d->nlist_users ? 2 * d->nlist_users : 1));
        if (!l)
            return;
        d->list_users = l;
    }
    if ((d->list_users[d->nlist_users] = strdup(user)))
        d->nlist_users++;
}

/* The statistics of d at packet time ts (hour: its hour), the fleet's view merged in. */
static void ds_values(struct tl_domstats *ds, struct ds_entry *d, uint64_t ts, uint32_t hour,
                      struct ds_values *v)
{
    uint64_t u24, a24, active, fleet_active;
    struct tl_fleet_domain fd;

    tl_sketch_counts(&d->hosts, hour, &v->h24, &v->h30);
    tl_sketch_counts(&d->users, hour, &u24, &v->u30);
    tl_sketch_counts(&ds->active, hour, &a24, &active);
    ds_rank(ds, d, v->h30);
    v->r24 = ds_ring_sum(d->req_hour, DS_HOURS, d->last_hour, hour);
    v->r30 = ds_ring_sum(d->req_day, DS_DAYS, d->last_day, hour / 24);
    v->first_seen = d->first_seen;
    if (ds->fleet && tl_fleet_lookup(ds->fleet, d->name, &fd)) {
        if (fd.first_seen && fd.first_seen < v->first_seen)
            v->first_seen = fd.first_seen;
        v->h24 = fd.hosts_24h > v->h24 ? fd.hosts_24h : v->h24;
        v->h30 = fd.hosts_30d > v->h30 ? fd.hosts_30d : v->h30;
        v->u30 = fd.users_30d > v->u30 ? fd.users_30d : v->u30;
        v->r24 = fd.requests_24h > v->r24 ? fd.requests_24h : v->r24;
        v->r30 = fd.requests_30d > v->r30 ? fd.requests_30d : v->r30;
    }
    if (ds->fleet && tl_fleet_active_hosts(ds->fleet, &fleet_active) && fleet_active > active)
        active = fleet_active;
    v->prevalence = active ? (double)v->h30 / (double)active : 0;
    if (v->prevalence > 1)
        v->prevalence = 1;
    v->frequency_index = ds_frequency_index(ds, d);
    v->age_days = ts > v->first_seen ? (ts - v->first_seen) / DS_DAY_US : 0;
    v->is_new = ds->new_us && (ts < v->first_seen || ts - v->first_seen < ds->new_us);
}

static void ds_schedule(struct tl_domstats *ds, uint64_t t)
{
    if (ds->scheduled)
        return;
    ds->scheduled = true;
    if (ds->report_every)
        ds->next_report = (t / ds->report_every + 1) * ds->report_every;
    ds->interval_start = t;
    if (ds->snapshot_every)
        ds->next_snapshot = (t / ds->snapshot_every + 1) * ds->snapshot_every;
}

/* The entry of a registered domain, now the most recently used; created when new. */
static struct ds_entry *ds_touch(struct tl_domstats *ds, const char *name, size_t len, uint64_t ts)
{
    uint64_t hash = tl_domain_hash(name, len);
    struct ds_entry *d = ds_find(ds, name, len, hash);
    if (!d) {
        if ((d = ds_insert(ds, name, len, hash)))
            d->first_seen = d->last_seen = ts;
        return d;
    }
    if (d != ds->tail) {
        ds_unlink(ds, d);
        ds_append(ds, d);
    }
    d->first_seen = ts < d->first_seen ? ts : d->first_seen;
    d->last_seen = ts > d->last_seen ? ts : d->last_seen;
    return d;
}

/* One use of d by host (and user, when known) in `hour`. */
static void ds_count(struct tl_domstats *ds, struct ds_entry *d, uint64_t ts, uint32_t hour,
                     const struct tl_ip *host, const char *user)
{
    uint64_t host_hash = tl_domain_hash(host->b, 16), user_hash = 0;

    ds->observed++;
    d->dirty = true;
    ds_ring_add(d->req_hour, DS_HOURS, &d->last_hour, hour);
    ds_ring_add(d->req_day, DS_DAYS, &d->last_day, hour / 24);
    tl_sketch_add(&d->hosts, host_hash, hour);
    tl_sketch_add(&ds->active, host_hash, hour);
    ds_list_host(ds, d, host);
    if (user && *user) {
        user_hash = tl_domain_hash(user, strlen(user));
        tl_sketch_add(&d->users, user_hash, hour);
        ds_list_user(ds, d, user);
    }
    if (ds->fleet)
        tl_fleet_record(ds->fleet, d->name, ts, host_hash, user_hash);
}

void tl_domstats_observe(struct tl_domstats *ds, uint64_t ts_us, const struct tl_domain_name *nm,
                         const struct tl_ip *host, const char *user, struct tl_domain_enrich *e)
{
    struct ds_values v;
    size_t len = strnlen(nm->registered, TL_DOMAIN_MAX);

    e->counted = false;
    if (nm->kind != TL_DOM_COUNTED || len == 0 || len >= TL_DOMAIN_MAX)
        return;
    if (tl_netlist_contains(&ds->resolvers, host->b)) {
        ds->from_resolvers++;
        return;
    }
    ds_schedule(ds, ts_us);
    ds_set_hour(ds, (uint32_t)(ts_us / DS_HOUR_US)); /* a late use counts in the current hour */
    struct ds_entry *d = ds_touch(ds, nm->registered, len, ts_us);
    if (!d)
        return;
    ds_count(ds, d, ts_us, ds->hour, host, user);
    ds_values(ds, d, ts_us, ds->hour, &v);
    e->counted = true;
    e->is_new = v.is_new;
    e->first_seen = v.first_seen;
    e->age_days = v.age_days;
    e->hosts_24h = v.h24;
    e->hosts_30d = v.h30;
    e->users_30d = v.u30;
    e->requests_24h = v.r24;
    e->prevalence = v.prevalence;
    e->frequency_index = v.frequency_index;
}

/* ---- domain events ---- */

/* The first entry used since the last report; those after it were too. */
static struct ds_entry *ds_first_dirty(const struct tl_domstats *ds)
{
    struct ds_entry *first = NULL;
    for (struct ds_entry *d = ds->tail; d && d->dirty; d = d->prev)
        first = d;
    return first;
}

/* Further items than listed: those seen since the interval's first hour, less the listed. */
static uint64_t ds_more(const struct tl_sketch *s, uint32_t listed, uint32_t max, uint32_t since)
{
    if (listed < max)
        return 0;
    uint64_t seen = tl_sketch_count_since(s, since);
    return seen > listed ? seen - listed : 0;
}

static void ds_emit_one(struct tl_domstats *ds, struct ds_entry *d, uint64_t at, uint32_t hour,
                        uint32_t since_hour, tl_domain_emit_fn emit, void *arg)
{
    struct ds_values v;
    struct ds_rec r;

    ds_values(ds, d, at, hour, &v);
    memset(&r, 0, sizeof(r));
    r.ts = at;
    r.registered_domain = d->name;
    r.public_suffix = strchr(d->name, '.') ? strchr(d->name, '.') + 1 : "";
    r.first_seen = v.first_seen;
    r.last_seen = d->last_seen;
    r.age_days = v.age_days;
    r.is_new = v.is_new;
    r.requests_24h = v.r24;
    r.requests_30d = v.r30;
    r.hosts_24h = v.h24;
    r.hosts_30d = v.h30;
    r.users_30d = v.u30;
    r.prevalence = v.prevalence;
    r.frequency_index = v.frequency_index;
    for (uint32_t i = 0; i < d->nlist_hosts; i++) {
        ds->host_strs[i].ptr = ds->ip_text[i];
        ds->host_strs[i].len = tl_fmt_ip(ds->ip_text[i], d->list_hosts[i].b);
    }
    for (uint32_t i = 0; i < d->nlist_users; i++) {
        ds->user_strs[i].ptr = d->list_users[i];
        ds->user_strs[i].len = strlen(d->list_users[i]);
    }
    r.hosts = (struct tl_strlist){ ds->host_strs, d->nlist_hosts };
    r.users = (struct tl_strlist){ ds->user_strs, d->nlist_users };
    r.hosts_capped = ds_more(&d->hosts, d->nlist_hosts, ds->max_list, since_hour);
    r.users_capped = ds_more(&d->users, d->nlist_users, ds->max_list, since_hour);
    emit(arg, &r);
    ds->reports++;
    ds_clear_lists(d);
    d->dirty = false;
}

/* Writes the fleet's backlog and reads back the views of `first` and the entries after it. */
static void ds_sync(struct tl_domstats *ds, const struct ds_entry *first)
{
    size_t n = 0;
    for (const struct ds_entry *d = first; d; d = d->next)
        n++;
    const char **names = malloc(n * sizeof(*names));
    if (!names)
        return; /* the events carry what was last read */
    n = 0;
    for (const struct ds_entry *d = first; d; d = d->next)
        names[n++] = d->name;
    tl_fleet_sync(ds->fleet, names, n, ds->sync_timeout);
    free(names);
}

/*
 * One event per domain used since the last report, as of packet time `at`
 * (the interval's end; counts at the hour of its last microsecond).
 */
static void ds_report(struct tl_domstats *ds, uint64_t at, bool sync, tl_domain_emit_fn emit,
                      void *arg)
{
    struct ds_entry *first = ds_first_dirty(ds);
    uint32_t hour = (uint32_t)((at ? at - 1 : 0) / DS_HOUR_US);
    uint32_t since = (uint32_t)(ds->interval_start / DS_HOUR_US);

    if (!first)
        return;
    ds_set_hour(ds, hour);
    if (hour < ds->hour)
        hour = ds->hour;
    if (sync && ds->fleet)
        ds_sync(ds, first);
    for (struct ds_entry *d = first, *next; d; d = next) {
        next = d->next;
        ds_emit_one(ds, d, at, hour, since, emit, arg);
    }
}

/* ---- the snapshot: writing ---- */

struct ds_writer {
    FILE *f;
    EVP_MD_CTX *md;
    bool failed;
    size_t n;
    uint8_t buf[DS_WRITE_BUF];
};

static void ds_flush(struct ds_writer *w)
{
    if (w->n && (fwrite(w->buf, 1, w->n, w->f) != w->n || !EVP_DigestUpdate(w->md, w->buf, w->n)))
        w->failed = true;
    w->n = 0;
}

static void ds_put(void *arg, const void *p, size_t n)
{
    struct ds_writer *w = arg;
    while (n) {
        size_t k = n < DS_WRITE_BUF - w->n ? n : DS_WRITE_BUF - w->n;
        memcpy(w->buf + w->n, p, k);
        w->n += k;
        p = (const uint8_t *)p + k;
        n -= k;
        if (w->n == DS_WRITE_BUF)
            ds_flush(w);
    }
}

static void ds_save_entry(struct tl_sink *s, const struct ds_entry *d)
{
    tl_sink_u8(s, d->len);
    s->put(s->arg, d->name, d->len);
    tl_sink_u64(s, d->first_seen);
    tl_sink_u64(s, d->last_seen);
    tl_sink_u32(s, d->last_hour);
    for (int i = 0; i < DS_HOURS; i++)
        tl_sink_u32(s, d->req_hour[i]);
    tl_sink_u32(s, d->last_day);
    for (int i = 0; i < DS_DAYS; i++)
        tl_sink_u32(s, d->req_day[i]);
    tl_sketch_save(&d->hosts, s);
    tl_sketch_save(&d->users, s);
}

static bool ds_write_all(struct tl_domstats *ds, struct ds_writer *w, uint64_t at)
{
    struct tl_sink s = { ds_put, w };
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;

    if (!EVP_DigestInit_ex(w->md, EVP_sha256(), NULL))
        return false;
    ds_put(w, DS_MAGIC, sizeof(DS_MAGIC));
    tl_sink_u32(&s, DS_SNAP_VERSION);
    tl_sink_u32(&s, TL_SKETCH_P);
    tl_sink_u64(&s, at);
    tl_sink_u32(&s, ds->hour);
    tl_sink_u32(&s, (uint32_t)ds->count);
    tl_sketch_save(&ds->active, &s);
    for (const struct ds_entry *d = ds->head; d; d = d->next)
        ds_save_entry(&s, d);
    ds_flush(w);
    if (w->failed || !EVP_DigestFinal_ex(w->md, digest, &dlen))
        return false;
    return fwrite(digest, 1, dlen, w->f) == dlen;
}

/* Writes the table to state_file.tmp and renames it over state_file. */
static void ds_snapshot(struct tl_domstats *ds, uint64_t at)
{
    size_t plen = strlen(ds->state_file) + 5;
    char *tmp = malloc(plen);
    struct ds_writer *w = calloc(1, sizeof(*w));
    bool ok = false;

    if (tmp && w && (w->md = EVP_MD_CTX_new())) {
        snprintf(tmp, plen, "%s.tmp", ds->state_file);
        if ((w->f = fopen(tmp, "wb"))) {
            ok = ds_write_all(ds, w, at);
            ok = fflush(w->f) == 0 && ok;
            ok = fsync(fileno(w->f)) == 0 && ok;
            ok = fclose(w->f) == 0 && ok;
            ok = ok && rename(tmp, ds->state_file) == 0;
            if (!ok)
                unlink(tmp);
        }
    }
    if (w)
        EVP_MD_CTX_free(w->md);
    free(w);
    free(tmp);
    if (ok)
        ds->snapshots++;
    else
        ds->snapshot_errors++;
}

/* ---- the snapshot: reading ---- */

static int ds_load_fail(const struct tl_cursor *c, const uint8_t *base, const char *path,
                        const char *what, char *errbuf, size_t n)
{
    snprintf(errbuf, n, "domains.state_file %s: %s at offset %zu (%s)", path,
             c->err == TL_CUR_SHORT ? "cut" : "corrupt", tl_cur_offset(c, base), what);
    return -1;
}

static bool ds_load_entry(struct tl_domstats *ds, struct tl_cursor *c)
{
    uint8_t len = tl_cur_u8(c);
    const uint8_t *name = tl_cur_bytes(c, len);
    if (!name || len == 0 || len > TL_DOMAIN_MAX - 1 || memchr(name, '\0', len) ||
        !memchr(name, '.', len)) {
        tl_cur_fail(c, TL_CUR_BAD);
        return false;
    }
    uint64_t hash = tl_domain_hash(name, len);
    if (ds_find(ds, (const char *)name, len, hash)) {
        tl_cur_fail(c, TL_CUR_BAD); /* twice the same domain */
        return false;
    }
    struct ds_entry *d = ds_insert(ds, (const char *)name, len, hash);
    if (!d) {
        tl_cur_fail(c, TL_CUR_BAD);
        return false;
    }
    d->first_seen = tl_sketch_be64(c);
    d->last_seen = tl_sketch_be64(c);
    d->last_hour = tl_cur_be32(c);
    for (int i = 0; i < DS_HOURS; i++)
        d->req_hour[i] = tl_cur_be32(c);
    d->last_day = tl_cur_be32(c);
    for (int i = 0; i < DS_DAYS; i++)
        d->req_day[i] = tl_cur_be32(c);
    return tl_cur_ok(c) && tl_sketch_load(&d->hosts, c) && tl_sketch_load(&d->users, c);
}

static int ds_load_buf(struct tl_domstats *ds, const uint8_t *buf, size_t size, const char *path,
                       char *errbuf, size_t n)
{
    struct tl_cursor c = tl_cur_make(buf, size);
    const uint8_t *magic = tl_cur_bytes(&c, sizeof(DS_MAGIC));
    uint32_t version = tl_cur_be32(&c), p = tl_cur_be32(&c);

    if (!tl_cur_ok(&c))
        return ds_load_fail(&c, buf, path, "header", errbuf, n);
    if (memcmp(magic, DS_MAGIC, sizeof(DS_MAGIC)) != 0 || version != DS_SNAP_VERSION ||
        p != TL_SKETCH_P) {
        snprintf(errbuf, n,
                 "domains.state_file %s: not a tapline statistics snapshot of version %d", path,
                 DS_SNAP_VERSION);
        return -1;
    }
    tl_sketch_be64(&c); /* saved at */
    uint32_t hour = tl_cur_be32(&c), count = tl_cur_be32(&c);
    if (!tl_cur_ok(&c) || !tl_sketch_load(&ds->active, &c))
        return ds_load_fail(&c, buf, path, "header", errbuf, n);
    for (uint32_t i = 0; i < count; i++) {
        struct tl_cursor at = c;
        if (!ds_load_entry(ds, &c)) {
            char what[48];
            snprintf(what, sizeof(what), "domain %u of %u, from offset %zu", i + 1, count,
                     tl_cur_offset(&at, buf));
            return ds_load_fail(&c, buf, path, what, errbuf, n);
        }
    }
    size_t body = tl_cur_offset(&c, buf);
    uint8_t digest[EVP_MAX_MD_SIZE];
    unsigned dlen = 0;
    const uint8_t *sum = tl_cur_bytes(&c, 32);
    if (!sum || tl_cur_left(&c) != 0) {
        if (sum)
            tl_cur_fail(&c, TL_CUR_BAD);
        return ds_load_fail(&c, buf, path, sum ? "bytes after the checksum" : "checksum", errbuf,
                            n);
    }
    if (!EVP_Digest(buf, body, digest, &dlen, EVP_sha256(), NULL) || dlen != 32 ||
        memcmp(digest, sum, 32) != 0) {
        snprintf(errbuf, n,
                 "domains.state_file %s: corrupt (the checksum at offset %zu does not match)", path,
                 body);
        return -1;
    }
    ds_set_hour(ds, hour);
    return 0;
}

/* Reads state_file when it exists: 0, or -1 with the reason. */
static int ds_load(struct tl_domstats *ds, const char *path, char *errbuf, size_t n)
{
    FILE *f = fopen(path, "rb");
    struct stat st;
    uint8_t *buf = NULL;
    int rc = -1;

    if (!f && errno == ENOENT)
        return 0;
    if (!f || fstat(fileno(f), &st) != 0) {
        snprintf(errbuf, n, "domains.state_file %s: %s", path, strerror(errno));
        goto fail;
    }
    size_t size = (size_t)st.st_size;
    if (!(buf = malloc(size ? size : 1)) || fread(buf, 1, size, f) != size) {
        snprintf(errbuf, n, "domains.state_file %s: cannot read %zu bytes", path, size);
        goto fail;
    }
    rc = ds_load_buf(ds, buf, size, path, errbuf, n);
fail:
    if (f)
        fclose(f);
    free(buf);
    return rc;
}

/* ---- life ---- */

struct tl_domstats *tl_domstats_new(const struct tl_config *cfg, struct tl_fleet *fleet,
                                    char *errbuf, size_t n)
{
    struct tl_domstats *ds = calloc(1, sizeof(*ds));
    char why[200];

    if (!ds)
        goto oom;
    ds->max = tl_config_mem_cap(cfg, TL_MEM_DOMAINS, 1, cfg->max_domains, DS_BUDGET_BYTES);
    ds->nbuckets = 1024;
    ds->max_list = cfg->max_items < DS_MAX_LIST ? (uint32_t)cfg->max_items : DS_MAX_LIST;
    ds->new_us = cfg->new_days * DS_DAY_US;
    ds->report_every = cfg->domain_report;
    ds->snapshot_every = cfg->domain_snapshot;
    ds->sync_timeout = cfg->redis_timeout;
    ds->fleet = fleet;
    ds->bucket = calloc(ds->nbuckets, sizeof(*ds->bucket));
    ds->ip_text = calloc(ds->max_list ? ds->max_list : 1, sizeof(*ds->ip_text));
    ds->host_strs = calloc(ds->max_list ? ds->max_list : 1, sizeof(*ds->host_strs));
    ds->user_strs = calloc(ds->max_list ? ds->max_list : 1, sizeof(*ds->user_strs));
    if (!ds->bucket || !ds->ip_text || !ds->host_strs || !ds->user_strs)
        goto oom;
    if (cfg->resolvers && tl_netlist_parse(&ds->resolvers, cfg->resolvers, why, sizeof(why))) {
        snprintf(errbuf, n, "domains.resolvers: %s", why);
        goto fail;
    }
    if (cfg->domain_state && *cfg->domain_state) {
        if (!(ds->state_file = strdup(cfg->domain_state)))
            goto oom;
        if (ds_load(ds, ds->state_file, errbuf, n) != 0)
            goto fail;
    }
    return ds;
oom:
    snprintf(errbuf, n, "domain statistics: out of memory");
fail:
    tl_domstats_free(ds);
    return NULL;
}

void tl_domstats_free(struct tl_domstats *ds)
{
    if (!ds)
        return;
    for (struct ds_entry *d = ds->head, *next; d; d = next) {
        next = d->next;
        ds_free_entry(d);
    }
    tl_sketch_clear(&ds->active);
    free(ds->bucket);
    free(ds->ip_text);
    free(ds->host_strs);
    free(ds->user_strs);
    free(ds->state_file);
    free(ds);
}

void tl_domstats_tick(struct tl_domstats *ds, uint64_t now_us, tl_domain_emit_fn emit, void *arg)
{
    ds_schedule(ds, now_us);
    if (ds->report_every && now_us >= ds->next_report) {
        uint64_t at = now_us / ds->report_every * ds->report_every;
        ds_report(ds, at, false, emit, arg);
        ds->interval_start = at;
        ds->next_report = at + ds->report_every;
    }
    if (ds->state_file && ds->snapshot_every && now_us >= ds->next_snapshot) {
        ds_snapshot(ds, now_us);
        ds->next_snapshot = now_us / ds->snapshot_every * ds->snapshot_every + ds->snapshot_every;
    }
}

void tl_domstats_finish(struct tl_domstats *ds, uint64_t now_us, tl_domain_emit_fn emit, void *arg)
{
    ds_report(ds, now_us, true, emit, arg);
    ds->interval_start = now_us;
    if (ds->state_file)
        ds_snapshot(ds, now_us);
}

/* The room the lists grew to (powers of two). */
static size_t ds_list_room(uint32_t n)
{
    size_t room = 1;
    while (room < n)
        room *= 2;
    return n ? room : 0;
}

static size_t ds_entry_bytes(const struct ds_entry *d)
{
    size_t b = sizeof(*d) + d->len + 1 + tl_sketch_bytes(&d->hosts) + tl_sketch_bytes(&d->users);
    b += ds_list_room(d->nlist_hosts) * sizeof(struct tl_ip);
    b += ds_list_room(d->nlist_users) * sizeof(char *);
    for (uint32_t i = 0; i < d->nlist_users; i++)
        b += strlen(d->list_users[i]) + 1;
    return b;
}

void tl_domstats_measure(struct tl_domstats *ds)
{
    size_t bytes = sizeof(*ds) + ds->nbuckets * sizeof(*ds->bucket) + tl_sketch_bytes(&ds->active) +
                   ds->max_list * (sizeof(*ds->ip_text) + 2 * sizeof(struct tl_str));
    for (const struct ds_entry *d = ds->head; d; d = d->next)
        bytes += ds_entry_bytes(d);
    ds->bytes = bytes;
}

void tl_domstats_counters(const struct tl_domstats *ds, struct tl_stats *st)
{
    st->v[TL_STAT_DOM_ENTRIES] += ds->count;
    st->v[TL_STAT_DOM_BYTES] += ds->bytes;
    st->v[TL_STAT_DOM_CAPPED] += ds->capped;
    st->v[TL_STAT_DOM_EVENTS] += ds->reports;
    st->v[TL_STAT_DOM_SNAPSHOTS] += ds->snapshots;
    st->v[TL_STAT_DOM_SNAPSHOT_ERRORS] += ds->snapshot_errors;
    st->v[TL_STAT_DOM_OBSERVED] += ds->observed;
    st->v[TL_STAT_DOM_RESOLVER] += ds->from_resolvers;
}
