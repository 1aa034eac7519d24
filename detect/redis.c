/*
 * redis.c - the fleet: domain usage shared by several sensors through Redis,
 * with hiredis 0.14 (Debian's libhiredis 0.14.1: RESP2 only, no TLS).
 *
 * Who does what. tl_fleet_record (the coordinator, once per counted use) only
 * adds to a bounded in-memory backlog under a mutex and never waits on Redis.
 * A thread of its own is the only one to talk to Redis: every
 * redis.sync_interval (wall clock) it takes the whole backlog, writes it
 * pipelined (FL_BATCH commands, then their replies), then reads back,
 * pipelined too, the fleet-wide view of the domains it wrote, into the table
 * tl_fleet_lookup reads under the same mutex. A domain whose view is younger
 * than redis.refresh_interval waits until it is due: the three merging
 * PFCOUNTs of one view cost Redis some 150 us, so re-reading every busy domain
 * every second would not scale. tl_fleet_sync reads what it names at once.
 *
 * Key layout. P is redis.prefix, D the registered domain; hours and days are
 * UTC buckets of the packet time of the use. Every key of one domain carries
 * the Redis Cluster hash tag {P:D}, so one domain's keys share a slot and the
 * multi-key PFCOUNTs below are legal on a cluster (this client talks to one
 * server and follows no MOVED: a cluster needs a cluster-aware proxy):
 *   {P:D}:h:YYYYMMDDHH   HyperLogLog: hosts that used D in that hour       TTL 25 h
 *   {P:D}:hd:YYYYMMDD    HyperLogLog: hosts that used D that day           TTL 31 d
 *   {P:D}:ud:YYYYMMDD    HyperLogLog: users that used D that day           TTL 31 d
 *   {P:D}:req:YYYYMMDD   hash: "00".."23" uses in that hour, "day" uses
 *                        that day (HINCRBY)                                TTL 31 d
 *   {P:D}:days           hash: "YYYYMMDD" uses that day (HINCRBY; the day
 *                        31 days back is deleted with each write)           TTL 31 d
 *   {P:D}:seen           sorted set, member "first": its score is the
 *                        earliest use of all sensors, in us (ZADD LT)      TTL 400 d
 *   {P}:active:YYYYMMDD  HyperLogLog: hosts with any counted use that day  TTL 31 d
 * Hosts and users are the 64-bit hashes the statistics pass (tl_domain_hash),
 * added as 16 lower-case hex digits. Every write renews its key's TTL with
 * EXPIRE, relative to the wall clock (EXPIREAT from packet time would delete
 * at once what a replay of an old capture writes): a key lives its retention
 * past its last write. ZADD LT (Redis >= 6.2) keeps the smallest score of all
 * sensors without reading it first; an older server refuses it (redis.errors,
 * one line on stderr) and first seen stays local.
 *
 * Windows. A view is read as of "now": the newest packet time this sensor has
 * recorded (the wall clock before any). "24 h" is the hour bucket holding now
 * and the 23 before it (23 to 24 hours of history): hosts_24h is PFCOUNT over
 * those 24 hourly keys (merged), requests_24h the sum of their 24 fields in
 * today's and yesterday's req hashes, requests_30d the sum of the days hash's
 * fields for the 30 day buckets. "30 d" is the day bucket holding now and
 * the 29 before it: hosts_30d, users_30d and the active hosts are PFCOUNT over
 * 30 daily keys. HyperLogLog counts have Redis's 0.81% standard error.
 *
 * Bounds. The backlog aggregates: one update per (domain, hour, host, user)
 * with its number of uses and earliest time, so a host using a name all day
 * costs one update an hour. At most redis.max_backlog updates wait; past it
 * the oldest is dropped (redis.max_backlog_capped). During a write the batch
 * being written (at most redis.max_backlog) is held beside new uses; what a
 * failed write did not confirm goes back as the oldest of the backlog. The
 * view table keeps at most redis.max_backlog domains, the least recently read
 * or looked up forgotten (it is read again when next written); the lists of
 * domains waiting to be read are capped alike (past it a name waits for its
 * next write).
 *
 * Failures. An I/O error or a timeout (redis.timeout, also for each command)
 * drops the connection; the thread reconnects with backoff (FL_BACKOFF_MIN
 * doubling to FL_BACKOFF_MAX), keeping the backlog. An error reply is counted
 * and not retried. Delivery is at least once: a batch cut by a failure is
 * written again, which PFADD, ZADD LT and EXPIRE absorb but HINCRBY counts
 * twice. Every failed connection attempt or command counts in redis.errors;
 * stderr gets one line when Redis becomes unreachable and one when it is back.
 */
#include <inttypes.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <hiredis/hiredis.h>

#include "config.h"
#include "domain.h"
#include "log.h"
#include "stats.h"

enum {
    FL_HOST_MAX = 256,   /* host name in redis.url */
    FL_PATH_MAX = 108,   /* a unix socket path (sun_path) */
    FL_SECRET_MAX = 256, /* user name or password */
    FL_PREFIX_MAX = 64,  /* redis.prefix */
    FL_KEY_MAX = FL_PREFIX_MAX + TL_DOMAIN_MAX + 32,
    FL_PFADD_MAX = 256,  /* elements per PFADD */
    FL_BATCH = 1024,     /* commands appended before their replies are read */
    FL_READ_BATCH = 128, /* domains per pipelined read */
    FL_VIEW_CMDS = 7,    /* commands per domain read, at most */
    FL_ARGS = FL_PFADD_MAX + 2,
    FL_ARGBUF = 32768, /* bytes of one command's arguments */
    FL_HOURS = 24,     /* "24 h": hour buckets */
    FL_DAYS = 30,      /* "30 d": day buckets */
    FL_TTL_HOUR = 25 * 3600,
    FL_TTL_DAY = 31 * 86400,
    FL_TTL_FIRST = 400 * 86400,
};

#define FL_HOUR_US     3600000000ull
#define FL_BACKOFF_MIN 100000ull  /* us */
#define FL_BACKOFF_MAX 5000000ull /* us */

struct fl_url {
    char host[FL_HOST_MAX];
    char path[FL_PATH_MAX];
    char user[FL_SECRET_MAX], pass[FL_SECRET_MAX];
    int port, db;
    bool is_unix, has_pass;
};

/* An entry of a table: in a hash chain, and in a list from oldest to newest. */
struct fl_link {
    struct fl_link *hnext, *prev, *next;
    uint64_t hash;
};

struct fl_table {
    struct fl_link **bucket;
    size_t nbuckets, count; /* nbuckets: a power of two */
    struct fl_link *head, *tail;
};

/* One waiting update: uses of a domain in one hour by one (host, user). */
struct fl_update {
    struct fl_link link; /* first: a link is its update */
    uint64_t hour;       /* hours since the epoch */
    uint64_t host, user, first_ts, count;
    char name[];
};

struct fl_view {
    struct fl_link link; /* first */
    struct tl_fleet_domain d;
    uint64_t read_us; /* when it was read (monotonic) */
    char name[];
};

/* Domain names to read (owned copies), at most max. */
struct fl_names {
    char **v;
    size_t n, cap, max;
};

/* One command being built: arguments copied into buf. */
struct fl_cmd {
    const char *argv[FL_ARGS];
    size_t len[FL_ARGS];
    int argc;
    size_t used;
    bool overflow;
    char buf[FL_ARGBUF];
};

struct tl_fleet {
    struct fl_url url;
    char where[FL_HOST_MAX + 16]; /* host:port or the socket path, for messages */
    char prefix[FL_PREFIX_MAX + 1];
    uint64_t max, interval_us, timeout_us, refresh_us;

    pthread_mutex_t mu;
    pthread_cond_t wake, done; /* CLOCK_MONOTONIC */
    pthread_t thread;

    /* under mu */
    struct fl_table queue, views;
    struct fl_names sync_names;
    uint64_t now_us, capped, inflight, active_hosts;
    uint64_t sync_req, sync_done;
    bool active_read, stop;

    /* the thread's own */
    redisContext *ctx;
    struct fl_names toread; /* written, to be read when their view is old enough */
    struct fl_names due;    /* to be read in this round (or the next, after a failure) */
    struct fl_cmd cmd;
    size_t pending; /* commands appended whose replies are not read */
    bool broken;    /* an append failed: the pipeline is incomplete */
    uint64_t backoff_us, sync_seen;
    bool down_logged, old_logged, error_logged;

    _Atomic uint64_t writes, reads, errors;
    _Atomic bool connected;
};

static int fl_err(char *errbuf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int fl_err(char *errbuf, size_t n, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(errbuf, n, fmt, ap);
    va_end(ap);
    return -1;
}

static uint64_t fl_mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static uint64_t fl_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static struct timeval fl_tv(uint64_t us)
{
    return (struct timeval){ .tv_sec = (time_t)(us / 1000000u),
                             .tv_usec = (suseconds_t)(us % 1000000u) };
}

/* Waits on cond until the monotonic time deadline_us (or a signal). */
static void fl_wait(pthread_cond_t *cond, pthread_mutex_t *mu, uint64_t deadline_us)
{
    struct timespec ts = { .tv_sec = (time_t)(deadline_us / 1000000u),
                           .tv_nsec = (long)(deadline_us % 1000000u) * 1000 };
    pthread_cond_timedwait(cond, mu, &ts);
}

/* ---- redis.url ---- */

static int fl_hexval(char c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

/* Copies s[0..n) into dst (cap bytes), decoding %XX; false when bad or too long. */
static bool fl_url_decode(char *dst, size_t cap, const char *s, size_t n)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (c == '%') {
            int hi = n - i >= 3 ? fl_hexval(s[i + 1]) : -1;
            int lo = n - i >= 3 ? fl_hexval(s[i + 2]) : -1;
            if (hi < 0 || lo < 0)
                return false;
            c = (char)(hi << 4 | lo);
            i += 2;
        }
        if (c == '\0' || o + 1 >= cap)
            return false;
        dst[o++] = c;
    }
    dst[o] = '\0';
    return true;
}

/* A decimal number in s[0..n), at most max; -1 when it is not one. */
static long fl_number(const char *s, size_t n, long max)
{
    long v = 0;
    if (n == 0 || n > 9)
        return -1;
    for (size_t i = 0; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return -1;
        v = v * 10 + (s[i] - '0');
    }
    return v <= max ? v : -1;
}

/* unix:PATH or unix://PATH (p: after "unix:"). */
static int fl_url_unix(struct fl_url *u, const char *p, char *errbuf, size_t n)
{
    if (strncmp(p, "//", 2) == 0)
        p += 2;
    if (!*p)
        return fl_err(errbuf, n, "redis.url: unix: needs a socket path");
    if (strlen(p) >= sizeof(u->path))
        return fl_err(errbuf, n, "redis.url: socket path longer than %zu bytes",
                      sizeof(u->path) - 1);
    snprintf(u->path, sizeof(u->path), "%s", p);
    u->is_unix = true;
    return 0;
}

/* user:password, :password or user (percent-encoded). */
static int fl_url_userinfo(struct fl_url *u, const char *s, size_t len, char *errbuf, size_t n)
{
    const char *colon = memchr(s, ':', len);
    size_t ulen = colon ? (size_t)(colon - s) : len;
    if (!fl_url_decode(u->user, sizeof(u->user), s, ulen))
        return fl_err(errbuf, n, "redis.url: bad or too long user name");
    if (colon && !fl_url_decode(u->pass, sizeof(u->pass), colon + 1, len - ulen - 1))
        return fl_err(errbuf, n, "redis.url: bad or too long password");
    u->has_pass = u->pass[0] != '\0';
    return 0;
}

/* host, host:port, [v6] or [v6]:port in s[0..len). */
static int fl_url_host(struct fl_url *u, const char *s, size_t len, char *errbuf, size_t n)
{
    const char *host = s, *port = NULL, *stop = s + len;
    size_t hlen = len;
    if (len && s[0] == '[') {
        const char *close = memchr(s, ']', len);
        if (!close || (close + 1 < stop && close[1] != ':'))
            return fl_err(errbuf, n, "redis.url: bad [address] in the host");
        host = s + 1;
        hlen = (size_t)(close - host);
        port = close + 1 < stop ? close + 2 : NULL;
    } else {
        const char *colon = memchr(s, ':', len);
        hlen = colon ? (size_t)(colon - s) : len;
        port = colon ? colon + 1 : NULL;
    }
    if (hlen == 0)
        return fl_err(errbuf, n, "redis.url: no host");
    if (hlen >= sizeof(u->host))
        return fl_err(errbuf, n, "redis.url: host longer than %zu bytes", sizeof(u->host) - 1);
    memcpy(u->host, host, hlen);
    u->host[hlen] = '\0';
    if (port) {
        long p = fl_number(port, (size_t)(stop - port), 65535);
        if (p <= 0)
            return fl_err(errbuf, n, "redis.url: the port must be a number from 1 to 65535");
        u->port = (int)p;
    }
    return 0;
}

/* redis://[[user]:password@]host[:port][/db], unix:PATH, unix://PATH. Errors never quote the
 * url: it may hold a password. */
static int fl_url_parse(struct fl_url *u, const char *s, char *errbuf, size_t n)
{
    memset(u, 0, sizeof(*u));
    u->port = 6379;
    if (strncmp(s, "unix:", 5) == 0)
        return fl_url_unix(u, s + 5, errbuf, n);
    if (strncmp(s, "rediss://", 9) == 0)
        return fl_err(errbuf, n,
                      "redis.url: rediss:// (TLS) is not supported: hiredis 0.14 has no TLS");
    if (strncmp(s, "redis://", 8) != 0)
        return fl_err(
            errbuf, n,
            "redis.url: expected redis://[[user]:password@]host[:port][/db] or unix:path");
    const char *rest = s + 8, *at = strrchr(rest, '@');
    if (at && fl_url_userinfo(u, rest, (size_t)(at - rest), errbuf, n) < 0)
        return -1;
    rest = at ? at + 1 : rest;
    if (strpbrk(rest, "?#"))
        return fl_err(errbuf, n, "redis.url: options after ? or # are not supported");
    const char *slash = strchr(rest, '/');
    if (fl_url_host(u, rest, slash ? (size_t)(slash - rest) : strlen(rest), errbuf, n) < 0)
        return -1;
    if (slash && slash[1]) {
        long db = fl_number(slash + 1, strlen(slash + 1), 999999999);
        if (db < 0)
            return fl_err(errbuf, n, "redis.url: the database after / must be a number");
        u->db = (int)db;
    }
    return 0;
}

/* The options besides the url; the password from redis.password when the url has none. */
static int fl_options(const struct tl_config *cfg, struct fl_url *u, char *errbuf, size_t n)
{
    const char *prefix = cfg->redis_prefix ? cfg->redis_prefix : "";
    if (strlen(prefix) > FL_PREFIX_MAX || strpbrk(prefix, "{}"))
        return fl_err(errbuf, n, "redis.prefix: at most %d bytes, without { or }", FL_PREFIX_MAX);
    if (cfg->redis_max_backlog == 0)
        return fl_err(errbuf, n, "redis.max_backlog: must be at least 1");
    if (cfg->redis_interval == 0)
        return fl_err(errbuf, n, "redis.sync_interval: must be more than 0");
    if (cfg->redis_timeout == 0)
        return fl_err(errbuf, n, "redis.timeout: must be more than 0");
    const char *pass = cfg->redis_password;
    if (!u->has_pass && pass && pass[0]) {
        if (strlen(pass) >= sizeof(u->pass))
            return fl_err(errbuf, n, "redis.password: longer than %zu bytes", sizeof(u->pass) - 1);
        snprintf(u->pass, sizeof(u->pass), "%s", pass);
        u->has_pass = true;
    }
    if (u->user[0] && !u->has_pass)
        return fl_err(errbuf, n,
                      "redis.url: a user name needs a password (in the url or redis.password)");
    return 0;
}

/* ---- tables: a hash index over a list in age order ---- */

static int fl_table_init(struct fl_table *t)
{
    t->nbuckets = 64;
    t->bucket = calloc(t->nbuckets, sizeof(*t->bucket));
    return t->bucket ? 0 : -1;
}

/* Frees the table and every entry (each link is the start of its allocation). */
static void fl_table_free(struct fl_table *t)
{
    struct fl_link *l = t->head;
    while (l) {
        struct fl_link *next = l->next;
        free(l);
        l = next;
    }
    free(t->bucket);
    memset(t, 0, sizeof(*t));
}

/* Forgets every entry without freeing them (they stay linked through next). */
static void fl_table_clear(struct fl_table *t)
{
    memset(t->bucket, 0, t->nbuckets * sizeof(*t->bucket));
    t->head = t->tail = NULL;
    t->count = 0;
}

static void fl_table_grow(struct fl_table *t)
{
    size_t nb = t->nbuckets * 2;
    struct fl_link **b = calloc(nb, sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    for (struct fl_link *l = t->head; l; l = l->next) {
        l->hnext = b[l->hash & (nb - 1)];
        b[l->hash & (nb - 1)] = l;
    }
    free(t->bucket);
    t->bucket = b;
    t->nbuckets = nb;
}

static struct fl_link *fl_table_chain(const struct fl_table *t, uint64_t hash)
{
    return t->bucket[hash & (t->nbuckets - 1)];
}

static void fl_list_unlink(struct fl_table *t, struct fl_link *l)
{
    if (l->prev)
        l->prev->next = l->next;
    else
        t->head = l->next;
    if (l->next)
        l->next->prev = l->prev;
    else
        t->tail = l->prev;
}

/* Adds l as the newest entry, or as the oldest. */
static void fl_table_add(struct fl_table *t, struct fl_link *l, bool oldest)
{
    if (t->count >= t->nbuckets)
        fl_table_grow(t);
    size_t i = l->hash & (t->nbuckets - 1);
    l->hnext = t->bucket[i];
    t->bucket[i] = l;
    l->prev = oldest ? NULL : t->tail;
    l->next = oldest ? t->head : NULL;
    if (oldest && t->head)
        t->head->prev = l;
    else if (!oldest && t->tail)
        t->tail->next = l;
    if (!t->head || oldest)
        t->head = l;
    if (!t->tail || !oldest)
        t->tail = l;
    t->count++;
}

static void fl_table_del(struct fl_table *t, struct fl_link *l)
{
    struct fl_link **pp = &t->bucket[l->hash & (t->nbuckets - 1)];
    while (*pp != l)
        pp = &(*pp)->hnext;
    *pp = l->hnext;
    fl_list_unlink(t, l);
    t->count--;
}

/* Makes l the newest entry. */
static void fl_table_touch(struct fl_table *t, struct fl_link *l)
{
    if (t->tail == l)
        return;
    fl_list_unlink(t, l);
    l->prev = t->tail;
    l->next = NULL;
    t->tail->next = l;
    t->tail = l;
}

/* Drops the oldest entry and frees it. */
static void fl_table_drop_oldest(struct fl_table *t)
{
    struct fl_link *l = t->head;
    fl_table_del(t, l);
    free(l);
}

static uint64_t fl_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    return h ^ (h >> 33);
}

static uint64_t fl_name_hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (uint8_t)s[i]) * 1099511628211ULL;
    return fl_mix(h);
}

/* ---- the backlog (under mu) ---- */

/* What identifies an update. */
struct fl_key {
    const char *name;
    size_t len;
    uint64_t hour, host, user, hash;
};

static struct fl_update *fl_update_find(const struct fl_table *t, const struct fl_key *k)
{
    for (struct fl_link *l = fl_table_chain(t, k->hash); l; l = l->hnext) {
        struct fl_update *u = (struct fl_update *)l;
        if (l->hash == k->hash && u->hour == k->hour && u->host == k->host && u->user == k->user &&
            strcmp(u->name, k->name) == 0)
            return u;
    }
    return NULL;
}

static void fl_update_merge(struct fl_update *u, uint64_t count, uint64_t ts)
{
    u->count += count;
    if (ts < u->first_ts)
        u->first_ts = ts;
}

/* A new update, the newest of the backlog; past redis.max_backlog the oldest goes. */
static void fl_update_new(struct tl_fleet *fl, const struct fl_key *k, uint64_t ts)
{
    if (fl->queue.count >= fl->max) {
        fl_table_drop_oldest(&fl->queue);
        fl->capped++;
    }
    struct fl_update *u = malloc(sizeof(*u) + k->len + 1);
    if (!u) {
        fl->capped++;
        return;
    }
    u->link.hash = k->hash;
    u->hour = k->hour;
    u->host = k->host;
    u->user = k->user;
    u->first_ts = ts;
    u->count = 1;
    memcpy(u->name, k->name, k->len + 1);
    fl_table_add(&fl->queue, &u->link, false);
}

/* Puts back, as the oldest of the backlog, the updates a failed write did not confirm. */
static void fl_requeue(struct tl_fleet *fl, struct fl_update **u, size_t n)
{
    pthread_mutex_lock(&fl->mu);
    for (size_t i = n; i-- > 0;) {
        struct fl_key k = { u[i]->name, strlen(u[i]->name), u[i]->hour,
                            u[i]->host, u[i]->user,         u[i]->link.hash };
        struct fl_update *q = fl_update_find(&fl->queue, &k);
        if (q || fl->queue.count >= fl->max) {
            if (q)
                fl_update_merge(q, u[i]->count, u[i]->first_ts);
            else
                fl->capped++;
            free(u[i]);
            continue;
        }
        fl_table_add(&fl->queue, &u[i]->link, true);
    }
    fl->inflight = 0;
    pthread_mutex_unlock(&fl->mu);
}

/* ---- names waiting to be read (the thread's, or under mu) ---- */

/* Takes name (allocated); false when full. */
static bool fl_names_push(struct fl_names *s, char *name)
{
    if (s->n >= s->max)
        return false;
    if (s->n == s->cap) {
        size_t cap = s->cap ? s->cap * 2 : 64;
        cap = cap < s->max ? cap : s->max;
        char **v = realloc(s->v, cap * sizeof(*v));
        if (!v)
            return false;
        s->v = v;
        s->cap = cap;
    }
    s->v[s->n++] = name;
    return true;
}

static void fl_names_add(struct fl_names *s, const char *name)
{
    char *d = s->n < s->max ? strdup(name) : NULL;
    if (d && !fl_names_push(s, d))
        free(d);
}

/* Moves src's names to dst (past dst's cap: freed). */
static void fl_names_move(struct fl_names *dst, struct fl_names *src)
{
    for (size_t i = 0; i < src->n; i++)
        if (!fl_names_push(dst, src->v[i]))
            free(src->v[i]);
    src->n = 0;
}

static int fl_names_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static void fl_names_uniq(struct fl_names *s)
{
    if (s->n < 2)
        return;
    qsort(s->v, s->n, sizeof(*s->v), fl_names_cmp);
    size_t o = 1;
    for (size_t i = 1; i < s->n; i++) {
        if (strcmp(s->v[i], s->v[o - 1]) == 0)
            free(s->v[i]);
        else
            s->v[o++] = s->v[i];
    }
    s->n = o;
}

/* Frees the first k names. */
static void fl_names_drop(struct fl_names *s, size_t k)
{
    if (k == 0)
        return;
    for (size_t i = 0; i < k; i++)
        free(s->v[i]);
    memmove(s->v, s->v + k, (s->n - k) * sizeof(*s->v));
    s->n -= k;
}

static void fl_names_free(struct fl_names *s)
{
    fl_names_drop(s, s->n);
    free(s->v);
    s->v = NULL;
    s->cap = 0;
}

/* ---- commands ---- */

static void fl_cmd_arg(struct fl_cmd *c, const char *s, size_t len)
{
    if (c->argc == FL_ARGS || len > sizeof(c->buf) - c->used) {
        c->overflow = true;
        return;
    }
    memcpy(c->buf + c->used, s, len);
    c->argv[c->argc] = c->buf + c->used;
    c->len[c->argc++] = len;
    c->used += len;
}

static void fl_cmd_argf(struct fl_cmd *c, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

static void fl_cmd_argf(struct fl_cmd *c, const char *fmt, ...)
{
    char tmp[64];
    va_list ap;
    va_start(ap, fmt);
    int k = vsnprintf(tmp, sizeof(tmp), fmt, ap);
    va_end(ap);
    if (k < 0 || (size_t)k >= sizeof(tmp))
        c->overflow = true;
    else
        fl_cmd_arg(c, tmp, (size_t)k);
}

static struct fl_cmd *fl_cmd_begin(struct tl_fleet *fl, const char *verb, const char *key)
{
    struct fl_cmd *c = &fl->cmd;
    c->argc = 0;
    c->used = 0;
    c->overflow = false;
    fl_cmd_arg(c, verb, strlen(verb));
    fl_cmd_arg(c, key, strlen(key));
    return c;
}

/* Appends the command built to the pipeline; its reply is read by fl_flush. */
static void fl_cmd_send(struct tl_fleet *fl)
{
    struct fl_cmd *c = &fl->cmd;
    if (c->overflow) { /* cannot happen within the caps above; never sent half */
        atomic_fetch_add(&fl->errors, 1);
        return;
    }
    if (redisAppendCommandArgv(fl->ctx, c->argc, c->argv, c->len) != REDIS_OK)
        fl->broken = true;
    else
        fl->pending++;
}

/* {P:D}:kind[:when], or {P}:kind:when without a domain. */
static void fl_key(const struct tl_fleet *fl, char *key, const char *name, const char *kind,
                   const char *when)
{
    if (name)
        snprintf(key, FL_KEY_MAX, "{%s:%s}:%s%s%s", fl->prefix, name, kind, when ? ":" : "",
                 when ? when : "");
    else
        snprintf(key, FL_KEY_MAX, "{%s}:%s:%s", fl->prefix, kind, when ? when : "");
}

/* YYYYMMDDHH of an hour since the epoch; its first 8 bytes are the day. */
static void fl_hour_text(uint64_t hour, char out[32])
{
    time_t t = (time_t)(hour * 3600);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y%m%d%H", &tm))
        snprintf(out, 32, "0000000000");
}

static void fl_day_text(uint64_t day, char out[32])
{
    fl_hour_text(day * 24, out);
    out[strlen(out) - 2] = '\0';
}

static void fl_expire(struct tl_fleet *fl, const char *key, int ttl)
{
    struct fl_cmd *c = fl_cmd_begin(fl, "EXPIRE", key);
    fl_cmd_argf(c, "%d", ttl);
    fl_cmd_send(fl);
}

/* PFADD key, in chunks, the hosts (or the users; 0 is none) of u[0..k), then EXPIRE key. */
static void fl_pfadd(struct tl_fleet *fl, const char *key, struct fl_update **u, size_t k,
                     bool users, int ttl)
{
    bool any = false;
    size_t i = 0;
    while (i < k) {
        struct fl_cmd *c = fl_cmd_begin(fl, "PFADD", key);
        for (; i < k && c->argc < FL_ARGS; i++) {
            uint64_t v = users ? u[i]->user : u[i]->host;
            uint64_t before = i == 0 ? 0 : users ? u[i - 1]->user : u[i - 1]->host;
            if ((users && v == 0) || (i > 0 && v == before))
                continue;
            fl_cmd_argf(c, "%016" PRIx64, v);
        }
        if (c->argc > 2) {
            fl_cmd_send(fl);
            any = true;
        }
    }
    if (any)
        fl_expire(fl, key, ttl);
}

/* Appends the commands of the group of updates starting at u[i] (one domain, one hour);
 * returns where the next group starts. */
static size_t fl_append_group(struct tl_fleet *fl, struct fl_update **u, size_t i, size_t n)
{
    const struct fl_update *g = u[i];
    uint64_t count = 0, first = UINT64_MAX;
    size_t j = i;
    for (; j < n && u[j]->hour == g->hour && strcmp(u[j]->name, g->name) == 0; j++) {
        count += u[j]->count;
        first = u[j]->first_ts < first ? u[j]->first_ts : first;
    }
    char hour[32], day[32], key[FL_KEY_MAX];
    fl_hour_text(g->hour, hour);
    fl_day_text(g->hour / 24, day);
    fl_key(fl, key, g->name, "h", hour);
    fl_pfadd(fl, key, u + i, j - i, false, FL_TTL_HOUR);
    fl_key(fl, key, g->name, "hd", day);
    fl_pfadd(fl, key, u + i, j - i, false, FL_TTL_DAY);
    fl_key(fl, key, g->name, "ud", day);
    fl_pfadd(fl, key, u + i, j - i, true, FL_TTL_DAY);
    fl_key(fl, key, NULL, "active", day);
    fl_pfadd(fl, key, u + i, j - i, false, FL_TTL_DAY);

    fl_key(fl, key, g->name, "req", day);
    struct fl_cmd *c = fl_cmd_begin(fl, "HINCRBY", key);
    fl_cmd_arg(c, hour + strlen(hour) - 2, 2); /* HH */
    fl_cmd_argf(c, "%" PRIu64, count);
    fl_cmd_send(fl);
    c = fl_cmd_begin(fl, "HINCRBY", key);
    fl_cmd_arg(c, "day", 3);
    fl_cmd_argf(c, "%" PRIu64, count);
    fl_cmd_send(fl);
    fl_expire(fl, key, FL_TTL_DAY);

    fl_key(fl, key, g->name, "days", NULL);
    c = fl_cmd_begin(fl, "HINCRBY", key);
    fl_cmd_arg(c, day, strlen(day));
    fl_cmd_argf(c, "%" PRIu64, count);
    fl_cmd_send(fl);
    if (g->hour / 24 > FL_DAYS) { /* the day that just left the window, so the hash stays small */
        char old[32];
        fl_day_text(g->hour / 24 - FL_DAYS - 1, old);
        c = fl_cmd_begin(fl, "HDEL", key);
        fl_cmd_arg(c, old, strlen(old));
        fl_cmd_send(fl);
    }
    fl_expire(fl, key, FL_TTL_DAY);

    fl_key(fl, key, g->name, "seen", NULL);
    c = fl_cmd_begin(fl, "ZADD", key);
    fl_cmd_arg(c, "LT", 2);
    fl_cmd_argf(c, "%" PRIu64, first);
    fl_cmd_arg(c, "first", 5);
    fl_cmd_send(fl);
    fl_expire(fl, key, FL_TTL_FIRST);
    return j;
}

/* PFCOUNT over the n buckets (hours or days) up to last: their union. */
static void fl_pfcount(struct tl_fleet *fl, const char *name, const char *kind, uint64_t last,
                       unsigned n, bool hourly)
{
    char when[32], key[FL_KEY_MAX];
    struct fl_cmd *c = NULL;
    for (uint64_t i = 0; i < n && i <= last; i++) {
        if (hourly)
            fl_hour_text(last - i, when);
        else
            fl_day_text(last - i, when);
        fl_key(fl, key, name, kind, when);
        if (c)
            fl_cmd_arg(c, key, strlen(key));
        else
            c = fl_cmd_begin(fl, "PFCOUNT", key);
    }
    fl_cmd_send(fl);
}

/* HMGET of the hour fields from..to of a day's req hash. */
static void fl_hmget(struct tl_fleet *fl, const char *name, uint64_t day, unsigned from,
                     unsigned to)
{
    char when[32], key[FL_KEY_MAX];
    fl_day_text(day, when);
    fl_key(fl, key, name, "req", when);
    struct fl_cmd *c = fl_cmd_begin(fl, "HMGET", key);
    for (unsigned h = from; h <= to; h++)
        fl_cmd_argf(c, "%02u", h);
    fl_cmd_send(fl);
}

/* The commands of one view: 6, or 7 unless now is in the day's last hour. */
static size_t fl_append_view(struct tl_fleet *fl, const char *name, uint64_t hour)
{
    uint64_t day = hour / 24;
    unsigned hh = (unsigned)(hour % 24);
    char key[FL_KEY_MAX];
    fl_pfcount(fl, name, "h", hour, FL_HOURS, true);
    fl_pfcount(fl, name, "hd", day, FL_DAYS, false);
    fl_pfcount(fl, name, "ud", day, FL_DAYS, false);
    fl_hmget(fl, name, day, 0, hh);
    if (hh < 23 && day > 0)
        fl_hmget(fl, name, day - 1, hh + 1, 23);
    fl_key(fl, key, name, "days", NULL);
    fl_cmd_begin(fl, "HGETALL", key);
    fl_cmd_send(fl);
    fl_key(fl, key, name, "seen", NULL);
    struct fl_cmd *c = fl_cmd_begin(fl, "ZSCORE", key);
    fl_cmd_arg(c, "first", 5);
    fl_cmd_send(fl);
    return hh < 23 && day > 0 ? 7 : 6;
}

/* ---- the connection (the thread's) ---- */

/* Redis became unreachable (or stays so): one line on stderr per outage. */
static void fl_down(struct tl_fleet *fl, const char *why)
{
    atomic_store(&fl->connected, false);
    if (!fl->down_logged)
        tl_log(TL_LOG_WARNING, "redis: %s: %s (retrying; updates wait, up to redis.max_backlog)",
               fl->where, why);
    fl->down_logged = true;
}

static void fl_disconnect(struct tl_fleet *fl)
{
    if (fl->ctx)
        redisFree(fl->ctx);
    fl->ctx = NULL;
    fl->pending = 0;
    fl->broken = false;
    atomic_store(&fl->connected, false);
}

/* An error reply that passes (a server loading, busy, out of memory, a replica, a
 * cluster resharding): what it answered is written again later. */
static bool fl_transient(const redisReply *r)
{
    static const char *const codes[] = { "LOADING",    "BUSY",     "TRYAGAIN",  "CLUSTERDOWN",
                                         "MASTERDOWN", "READONLY", "NOAUTH",    "OOM",
                                         "MOVED",      "ASK",      "NOREPLICAS" };
    for (size_t i = 0; i < sizeof(codes) / sizeof(codes[0]); i++) {
        size_t n = strlen(codes[i]);
        if (r->len >= n && strncmp(r->str, codes[i], n) == 0 && (r->len == n || r->str[n] == ' '))
            return true;
    }
    return false;
}

/* Counts an error reply; true when it passes. Others (WRONGTYPE, an unknown ZADD LT) are
 * not retried: one line on stderr for the first. */
static bool fl_reply_error(struct tl_fleet *fl, const redisReply *r)
{
    atomic_fetch_add(&fl->errors, 1);
    if (fl_transient(r))
        return true;
    if (!fl->error_logged)
        tl_log(TL_LOG_WARNING, "redis: %s: %s (further errors only counted)", fl->where, r->str);
    fl->error_logged = true;
    return false;
}

/* Reads the replies of every appended command into out[] (NULL: frees them). false when
 * the connection failed or an error passes: the connection is dropped, to retry later. */
static bool fl_flush(struct tl_fleet *fl, redisReply **out)
{
    char why[sizeof(fl->ctx->errstr)] = "";
    size_t n = fl->pending;
    bool io = !fl->broken;
    fl->pending = 0;
    for (size_t i = 0; i < n; i++) {
        redisReply *r = NULL;
        if (io && redisGetReply(fl->ctx, (void **)&r) != REDIS_OK)
            io = false;
        if (r && r->type == REDIS_REPLY_ERROR && fl_reply_error(fl, r) && !why[0])
            snprintf(why, sizeof(why), "%s", r->str);
        if (out)
            out[i] = r;
        else if (r)
            freeReplyObject(r);
    }
    if (!io) {
        atomic_fetch_add(&fl->errors, 1);
        snprintf(why, sizeof(why), "%s", fl->broken ? "out of memory" : fl->ctx->errstr);
    }
    if (why[0]) {
        fl_disconnect(fl);
        fl_down(fl, why);
    }
    return !why[0];
}

/* One command on a new connection; NULL with the reason in why when it failed. */
static redisReply *fl_call(redisContext *c, int argc, const char **argv, char *why, size_t n)
{
    redisReply *r = redisCommandArgv(c, argc, argv, NULL);
    if (!r) {
        snprintf(why, n, "%s", c->errstr);
        return NULL;
    }
    if (r->type == REDIS_REPLY_ERROR) {
        snprintf(why, n, "%s: %s", argv[0], r->str);
        freeReplyObject(r);
        return NULL;
    }
    return r;
}

/* ZADD LT came with Redis 6.2: say once if the server is older. */
static void fl_check_version(struct tl_fleet *fl, const redisReply *r)
{
    const char *v = r->type == REDIS_REPLY_STRING ? strstr(r->str, "redis_version:") : NULL;
    int major, minor;
    if (!v || sscanf(v + 14, "%d.%d", &major, &minor) != 2 || fl->old_logged)
        return;
    if (major > 6 || (major == 6 && minor >= 2))
        return;
    tl_log(TL_LOG_WARNING,
           "redis: %s runs Redis %d.%d; ZADD LT needs 6.2: first seen is not shared", fl->where,
           major, minor);
    fl->old_logged = true;
}

/* AUTH, SELECT and the version check; on failure, the reason in why. */
static void fl_hello(struct tl_fleet *fl, redisContext *c, char *why, size_t n)
{
    const struct fl_url *u = &fl->url;
    redisReply *r;
    if (u->has_pass) {
        const char *argv[3] = { "AUTH", u->user[0] ? u->user : u->pass, u->pass };
        if (!(r = fl_call(c, u->user[0] ? 3 : 2, argv, why, n)))
            return;
        freeReplyObject(r);
    }
    if (u->db) {
        char db[16];
        snprintf(db, sizeof(db), "%d", u->db);
        const char *argv[2] = { "SELECT", db };
        if (!(r = fl_call(c, 2, argv, why, n)))
            return;
        freeReplyObject(r);
    }
    if (!(r = redisCommand(c, "INFO server"))) {
        snprintf(why, n, "%s", c->errstr);
        return;
    }
    fl_check_version(fl, r); /* an error reply (INFO renamed away) is no failure */
    freeReplyObject(r);
}

static bool fl_connect(struct tl_fleet *fl)
{
    struct timeval tv = fl_tv(fl->timeout_us);
    char why[256] = "";
    redisContext *c = fl->url.is_unix ? redisConnectUnixWithTimeout(fl->url.path, tv)
                                      : redisConnectWithTimeout(fl->url.host, fl->url.port, tv);
    if (!c)
        snprintf(why, sizeof(why), "out of memory");
    else if (c->err || redisSetTimeout(c, tv) != REDIS_OK)
        snprintf(why, sizeof(why), "%s", c->errstr);
    else
        fl_hello(fl, c, why, sizeof(why));
    if (why[0]) {
        if (c)
            redisFree(c);
        atomic_fetch_add(&fl->errors, 1);
        fl_down(fl, why);
        return false;
    }
    fl->ctx = c;
    atomic_store(&fl->connected, true);
    return true;
}

/* ---- writing ---- */

static int fl_update_cmp(const void *a, const void *b)
{
    const struct fl_update *x = *(struct fl_update *const *)a, *y = *(struct fl_update *const *)b;
    int c = strcmp(x->name, y->name);
    if (c)
        return c;
    if (x->hour != y->hour)
        return x->hour < y->hour ? -1 : 1;
    if (x->host != y->host)
        return x->host < y->host ? -1 : 1;
    return x->user < y->user ? -1 : x->user > y->user;
}

/* Takes the whole backlog, sorted by domain, hour, host, user (NULL: empty). */
static struct fl_update **fl_take(struct tl_fleet *fl, size_t *n)
{
    pthread_mutex_lock(&fl->mu);
    size_t count = fl->queue.count;
    struct fl_update **u = count ? malloc(count * sizeof(*u)) : NULL;
    if (u) {
        size_t i = 0;
        for (struct fl_link *l = fl->queue.head; l; l = l->next)
            u[i++] = (struct fl_update *)l;
        fl_table_clear(&fl->queue);
        fl->inflight = count;
    }
    pthread_mutex_unlock(&fl->mu);
    *n = u ? count : 0;
    if (u)
        qsort(u, count, sizeof(*u), fl_update_cmp);
    return u;
}

/* Redis confirmed u[0..n): their domains are to be read, and they are done. */
static void fl_written(struct tl_fleet *fl, struct fl_update **u, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (i == 0 || strcmp(u[i]->name, u[i - 1]->name) != 0)
            fl_names_add(&fl->toread, u[i]->name);
    for (size_t i = 0; i < n; i++)
        free(u[i]);
    atomic_fetch_add(&fl->writes, n);
    pthread_mutex_lock(&fl->mu);
    fl->inflight -= n;
    pthread_mutex_unlock(&fl->mu);
}

/* Writes the backlog in pipelined batches; false when the connection failed (what was not
 * confirmed is back in the backlog). */
static bool fl_write(struct tl_fleet *fl)
{
    size_t n, done = 0;
    struct fl_update **u = fl_take(fl, &n);
    while (done < n) {
        size_t next = done;
        while (next < n && fl->pending < FL_BATCH)
            next = fl_append_group(fl, u, next, n);
        if (!fl_flush(fl, NULL))
            break;
        fl_written(fl, u + done, next - done);
        done = next;
    }
    if (u)
        fl_requeue(fl, u + done, n - done);
    free(u);
    return done == n;
}

/* ---- reading ---- */

static uint64_t fl_reply_int(const redisReply *r)
{
    return r && r->type == REDIS_REPLY_INTEGER && r->integer > 0 ? (uint64_t)r->integer : 0;
}

/* The sum of an HMGET's values. */
static uint64_t fl_reply_sum(const redisReply *r)
{
    uint64_t sum = 0;
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i < r->elements; i++)
        if (r->element[i]->type == REDIS_REPLY_STRING)
            sum += strtoull(r->element[i]->str, NULL, 10);
    return sum;
}

/* A ZSCORE (microseconds, exact below 2^53); 0 for none. */
static uint64_t fl_reply_score(const redisReply *r)
{
    double v = r && r->type == REDIS_REPLY_STRING ? strtod(r->str, NULL) : 0;
    return v >= 1 && v < 18446744073709551615.0 ? (uint64_t)v : 0;
}

/* The sum of an HGETALL of day fields, for the 30 days up to `day`. */
static uint64_t fl_reply_days(const redisReply *r, uint64_t day)
{
    char lo[32], hi[32];
    uint64_t sum = 0;
    fl_day_text(day >= FL_DAYS - 1 ? day - (FL_DAYS - 1) : 0, lo);
    fl_day_text(day, hi);
    for (size_t i = 0; r && r->type == REDIS_REPLY_ARRAY && i + 1 < r->elements; i += 2) {
        const redisReply *f = r->element[i], *v = r->element[i + 1];
        if (f->type == REDIS_REPLY_STRING && v->type == REDIS_REPLY_STRING &&
            strcmp(f->str, lo) >= 0 && strcmp(f->str, hi) <= 0) /* YYYYMMDD sorts as text */
            sum += strtoull(v->str, NULL, 10);
    }
    return sum;
}

static void fl_view_parse(redisReply **r, size_t per, uint64_t day, struct tl_fleet_domain *d)
{
    d->hosts_24h = fl_reply_int(r[0]);
    d->hosts_30d = fl_reply_int(r[1]);
    d->users_30d = fl_reply_int(r[2]);
    d->requests_24h = fl_reply_sum(r[3]) + (per == 7 ? fl_reply_sum(r[4]) : 0);
    d->requests_30d = fl_reply_days(r[per - 2], day);
    d->first_seen = fl_reply_score(r[per - 1]);
}

static struct fl_view *fl_view_find(const struct fl_table *t, uint64_t hash, const char *name)
{
    for (struct fl_link *l = fl_table_chain(t, hash); l; l = l->hnext)
        if (l->hash == hash && strcmp(((struct fl_view *)l)->name, name) == 0)
            return (struct fl_view *)l;
    return NULL;
}

/* Stores a view read (under mu); past redis.max_backlog views the least recent goes. */
static void fl_view_set(struct tl_fleet *fl, const char *name, const struct tl_fleet_domain *d)
{
    size_t len = strlen(name);
    uint64_t h = fl_name_hash(name, len);
    struct fl_view *v = fl_view_find(&fl->views, h, name);
    if (v) {
        fl_table_touch(&fl->views, &v->link);
    } else {
        if (fl->views.count >= fl->max)
            fl_table_drop_oldest(&fl->views);
        if (!(v = malloc(sizeof(*v) + len + 1)))
            return;
        v->link.hash = h;
        memcpy(v->name, name, len + 1);
        fl_table_add(&fl->views, &v->link, false);
    }
    v->d = *d;
    v->read_us = fl_mono_us();
}

/* Reads the views of names[0..n) as of hour; false when the connection failed. */
static bool fl_read_views(struct tl_fleet *fl, char **names, size_t n, uint64_t hour)
{
    redisReply *r[FL_READ_BATCH * FL_VIEW_CMDS];
    size_t per = 0;
    for (size_t i = 0; i < n; i++)
        per = fl_append_view(fl, names[i], hour);
    size_t nr = fl->pending;
    bool ok = fl_flush(fl, r);
    if (ok) {
        struct tl_fleet_domain d;
        pthread_mutex_lock(&fl->mu);
        for (size_t i = 0; i < n; i++) {
            fl_view_parse(r + i * per, per, hour / 24, &d);
            fl_view_set(fl, names[i], &d);
        }
        pthread_mutex_unlock(&fl->mu);
        atomic_fetch_add(&fl->reads, n);
    }
    for (size_t i = 0; i < nr; i++)
        if (r[i])
            freeReplyObject(r[i]);
    return ok;
}

/* The fleet's active hosts over 30 days; also tells a live connection from a dead one. */
static bool fl_read_active(struct tl_fleet *fl, uint64_t day)
{
    redisReply *r[1];
    fl_pfcount(fl, NULL, "active", day, FL_DAYS, false);
    if (!fl_flush(fl, r))
        return false;
    pthread_mutex_lock(&fl->mu);
    if (r[0] && r[0]->type == REDIS_REPLY_INTEGER) {
        fl->active_hosts = fl_reply_int(r[0]);
        fl->active_read = true;
    }
    pthread_mutex_unlock(&fl->mu);
    if (r[0])
        freeReplyObject(r[0]);
    return true;
}

/* Moves to due the names asked for by tl_fleet_sync, and the names written whose view is
 * older than redis.refresh_interval (or missing); the others wait in toread. Under mu. */
static void fl_due(struct tl_fleet *fl)
{
    uint64_t now = fl_mono_us();
    size_t keep = 0;
    fl_names_move(&fl->due, &fl->sync_names);
    for (size_t i = 0; i < fl->toread.n; i++) {
        char *name = fl->toread.v[i];
        const struct fl_view *v = fl_view_find(&fl->views, fl_name_hash(name, strlen(name)), name);
        if (v && now - v->read_us < fl->refresh_us)
            fl->toread.v[keep++] = name;
        else if (!fl_names_push(&fl->due, name))
            free(name);
    }
    fl->toread.n = keep;
}

/* Reads the active hosts, then the views due; false when the connection failed (the views
 * not read stay due). */
static bool fl_read(struct tl_fleet *fl)
{
    fl_names_uniq(&fl->toread);
    pthread_mutex_lock(&fl->mu);
    fl_due(fl);
    uint64_t now = fl->now_us ? fl->now_us : fl_wall_us();
    pthread_mutex_unlock(&fl->mu);
    fl_names_uniq(&fl->due);

    uint64_t hour = now / FL_HOUR_US;
    if (!fl_read_active(fl, hour / 24))
        return false;
    size_t done = 0;
    while (done < fl->due.n) {
        size_t k = fl->due.n - done < FL_READ_BATCH ? fl->due.n - done : FL_READ_BATCH;
        if (!fl_read_views(fl, fl->due.v + done, k, hour))
            break;
        done += k;
    }
    fl_names_drop(&fl->due, done);
    return fl->due.n == 0;
}

/* ---- the thread ---- */

/* Connects if needed, writes the backlog and, unless it is the last, reads the views. The
 * end of an outage is told once a whole round went through, not at a mere connection. */
static bool fl_round(struct tl_fleet *fl, bool last)
{
    bool ok = (fl->ctx || fl_connect(fl)) && fl_write(fl) && (last || fl_read(fl));
    if (ok && fl->down_logged) {
        tl_log(TL_LOG_INFO, "redis: %s reachable again", fl->where);
        fl->down_logged = false;
    }
    return ok;
}

/* How long until the next round: the interval, or the backoff after a failure. */
static uint64_t fl_pace(struct tl_fleet *fl, bool ok)
{
    if (ok) {
        fl->backoff_us = FL_BACKOFF_MIN;
        return fl->interval_us;
    }
    uint64_t d = fl->backoff_us;
    fl->backoff_us = d * 2 < FL_BACKOFF_MAX ? d * 2 : FL_BACKOFF_MAX;
    return d;
}

/* Rounds every redis.sync_interval, at once when tl_fleet_sync asks, a last one at close. */
static void *fl_main(void *arg)
{
    struct tl_fleet *fl = arg;
    sigset_t pipe;
    sigemptyset(&pipe);
    sigaddset(&pipe, SIGPIPE);
    pthread_sigmask(SIG_BLOCK, &pipe, NULL); /* a dead server: EPIPE from write, not a signal */

    uint64_t next = fl_mono_us() + fl_pace(fl, fl_connect(fl));
    pthread_mutex_lock(&fl->mu);
    for (;;) {
        bool last = fl->stop;
        uint64_t req = fl->sync_req;
        if (!last && req == fl->sync_seen && fl_mono_us() < next) {
            fl_wait(&fl->wake, &fl->mu, next);
            continue;
        }
        fl->sync_seen = req;
        pthread_mutex_unlock(&fl->mu);
        bool ok = fl_round(fl, last);
        next = fl_mono_us() + fl_pace(fl, ok);
        pthread_mutex_lock(&fl->mu);
        if (ok && req > fl->sync_done) {
            fl->sync_done = req;
            pthread_cond_broadcast(&fl->done);
        }
        if (last)
            break;
    }
    pthread_mutex_unlock(&fl->mu);
    fl_disconnect(fl);
    return NULL;
}

/* ---- the API ---- */

static void fl_free(struct tl_fleet *fl)
{
    fl_table_free(&fl->queue);
    fl_table_free(&fl->views);
    fl_names_free(&fl->sync_names);
    fl_names_free(&fl->toread);
    fl_names_free(&fl->due);
    pthread_cond_destroy(&fl->wake);
    pthread_cond_destroy(&fl->done);
    pthread_mutex_destroy(&fl->mu);
    free(fl);
}

static struct tl_fleet *fl_new(const struct tl_config *cfg, const struct fl_url *url)
{
    struct tl_fleet *fl = calloc(1, sizeof(*fl));
    if (!fl)
        return NULL;
    fl->url = *url;
    if (url->is_unix)
        snprintf(fl->where, sizeof(fl->where), "%s", url->path);
    else
        snprintf(fl->where, sizeof(fl->where), strchr(url->host, ':') ? "[%s]:%d" : "%s:%d",
                 url->host, url->port);
    snprintf(fl->prefix, sizeof(fl->prefix), "%s", cfg->redis_prefix ? cfg->redis_prefix : "");
    fl->max = fl->sync_names.max = fl->toread.max = fl->due.max = cfg->redis_max_backlog;
    fl->interval_us = cfg->redis_interval;
    fl->timeout_us = cfg->redis_timeout;
    fl->refresh_us = cfg->redis_refresh;
    fl->backoff_us = FL_BACKOFF_MIN;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    pthread_mutex_init(&fl->mu, NULL);
    pthread_cond_init(&fl->wake, &ca);
    pthread_cond_init(&fl->done, &ca);
    pthread_condattr_destroy(&ca);
    if (fl_table_init(&fl->queue) < 0 || fl_table_init(&fl->views) < 0) {
        fl_free(fl);
        return NULL;
    }
    return fl;
}

struct tl_fleet *tl_fleet_open(const struct tl_config *cfg, char *errbuf, size_t n)
{
    struct fl_url url;
    if (!cfg->redis_url || !cfg->redis_url[0]) {
        fl_err(errbuf, n, "redis.url: not set");
        return NULL;
    }
    if (fl_url_parse(&url, cfg->redis_url, errbuf, n) < 0 || fl_options(cfg, &url, errbuf, n) < 0)
        return NULL;
    struct tl_fleet *fl = fl_new(cfg, &url);
    if (!fl) {
        fl_err(errbuf, n, "redis: out of memory");
        return NULL;
    }
    int rc = pthread_create(&fl->thread, NULL, fl_main, fl);
    if (rc != 0) {
        fl_err(errbuf, n, "redis: cannot start its thread: %s", strerror(rc));
        fl_free(fl);
        return NULL;
    }
    return fl;
}

void tl_fleet_record(struct tl_fleet *fl, const char *registered, uint64_t ts_us,
                     uint64_t host_hash, uint64_t user_hash)
{
    size_t len = registered ? strnlen(registered, TL_DOMAIN_MAX) : 0;
    if (!fl || len == 0 || len == TL_DOMAIN_MAX)
        return;
    struct fl_key k = { registered, len, ts_us / FL_HOUR_US, host_hash, user_hash, 0 };
    k.hash = fl_mix(fl_mix(fl_mix(fl_name_hash(registered, len) ^ k.hour) ^ host_hash) ^ user_hash);
    pthread_mutex_lock(&fl->mu);
    if (ts_us > fl->now_us)
        fl->now_us = ts_us;
    struct fl_update *u = fl_update_find(&fl->queue, &k);
    if (u)
        fl_update_merge(u, 1, ts_us);
    else
        fl_update_new(fl, &k, ts_us);
    pthread_mutex_unlock(&fl->mu);
}

bool tl_fleet_lookup(struct tl_fleet *fl, const char *registered, struct tl_fleet_domain *out)
{
    if (!fl || !registered)
        return false;
    uint64_t h = fl_name_hash(registered, strlen(registered));
    pthread_mutex_lock(&fl->mu);
    struct fl_view *v = fl_view_find(&fl->views, h, registered);
    bool found = v != NULL;
    if (found) {
        *out = v->d;
        fl_table_touch(&fl->views, &v->link);
    }
    pthread_mutex_unlock(&fl->mu);
    return found;
}

bool tl_fleet_active_hosts(struct tl_fleet *fl, uint64_t *hosts_30d)
{
    if (!fl)
        return false;
    pthread_mutex_lock(&fl->mu);
    bool known = fl->active_read;
    if (known)
        *hosts_30d = fl->active_hosts;
    pthread_mutex_unlock(&fl->mu);
    return known;
}

void tl_fleet_sync(struct tl_fleet *fl, const char *const *registered, size_t n,
                   uint64_t timeout_us)
{
    if (!fl)
        return;
    uint64_t deadline = fl_mono_us() + timeout_us;
    pthread_mutex_lock(&fl->mu);
    for (size_t i = 0; i < n; i++)
        if (registered[i] && registered[i][0])
            fl_names_add(&fl->sync_names, registered[i]);
    uint64_t req = ++fl->sync_req;
    pthread_cond_signal(&fl->wake);
    while (fl->sync_done < req && fl_mono_us() < deadline)
        fl_wait(&fl->done, &fl->mu, deadline);
    bool done = fl->sync_done >= req;
    pthread_mutex_unlock(&fl->mu);
    if (!done)
        atomic_fetch_add(&fl->errors, 1);
}

void tl_fleet_counters(struct tl_fleet *fl, struct tl_stats *st)
{
    if (!fl)
        return;
    pthread_mutex_lock(&fl->mu);
    st->v[TL_STAT_REDIS_BACKLOG] += fl->queue.count + fl->inflight;
    st->v[TL_STAT_REDIS_CAPPED] += fl->capped;
    pthread_mutex_unlock(&fl->mu);
    st->v[TL_STAT_REDIS_WRITES] += atomic_load(&fl->writes);
    st->v[TL_STAT_REDIS_READS] += atomic_load(&fl->reads);
    st->v[TL_STAT_REDIS_ERRORS] += atomic_load(&fl->errors);
    st->v[TL_STAT_REDIS_CONNECTED] += atomic_load(&fl->connected) ? 1 : 0;
}

void tl_fleet_close(struct tl_fleet *fl)
{
    if (!fl)
        return;
    pthread_mutex_lock(&fl->mu);
    fl->stop = true;
    pthread_cond_signal(&fl->wake);
    pthread_mutex_unlock(&fl->mu);
    pthread_join(fl->thread, NULL);
    if (fl->queue.count)
        tl_log(TL_LOG_WARNING, "redis: %zu update(s) not written to %s", fl->queue.count,
               fl->where);
    fl_free(fl);
}
