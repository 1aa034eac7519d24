/*
 * redis.c - the fleet (detect/redis.c) against a real redis-server that each
 * case starts on a free loopback port: record, sync and lookup with the
 * 24 h / 30 d windows and the key layout; two sensors sharing a domain; Redis
 * killed (uses still accepted, backlog capped and counted) then restarted
 * (backlog written); AUTH; bad urls; the last flush at close. Asynchronous
 * results are polled with a 10 s deadline, never timed.
 */
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <hiredis/hiredis.h>

#include "check.h"
#include "config.h"
#include "domain.h"
#include "stats.h"

#define T0   1709294430000000ull /* 2024-03-01 12:00:30 UTC, us */
#define HOUR 3600000000ull
#define DAY  (24 * HOUR)
#define SYNC 10000000ull /* tl_fleet_sync's timeout when Redis is up */

struct srv {
    pid_t pid;
    int port;
    char dir[64], sock[96], log[96];
    const char *pass; /* --requirepass */
};

static uint64_t now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000 + (uint64_t)ts.tv_nsec / 1000000;
}

static void nap(void)
{
    struct timespec ts = { 0, 10 * 1000 * 1000 };
    nanosleep(&ts, NULL);
}

/* Polls cond for up to 10 s, then checks it. */
#define EVENTUALLY(cond)                                                                           \
    do {                                                                                           \
        uint64_t dl_ = now_ms() + 10000;                                                           \
        while (!(cond) && now_ms() < dl_)                                                          \
            nap();                                                                                 \
        CHECK(cond);                                                                               \
    } while (0)

static int free_port(void)
{
    struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
    socklen_t len = sizeof(a);
    int fd = socket(AF_INET, SOCK_STREAM, 0), port = 0;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &len) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

/* The test's own connection, to look at keys (NULL: the server does not answer). */
static redisContext *srv_client(const struct srv *s)
{
    struct timeval tv = { 1, 0 };
    redisContext *c = redisConnectWithTimeout("127.0.0.1", s->port, tv);
    if (c && !c->err && s->pass) {
        redisReply *r = redisCommand(c, "AUTH %s", s->pass);
        if (r)
            freeReplyObject(r);
    }
    if (c && c->err) {
        redisFree(c);
        c = NULL;
    }
    return c;
}

static bool srv_answers(const struct srv *s)
{
    redisContext *c = srv_client(s);
    redisReply *r = c ? redisCommand(c, "PING") : NULL;
    bool ok = r && r->type == REDIS_REPLY_STATUS;
    if (r)
        freeReplyObject(r);
    if (c)
        redisFree(c);
    return ok;
}

static void srv_exec(const struct srv *s)
{
    char port[16];
    snprintf(port, sizeof(port), "%d", s->port);
    const char *argv[] = { "redis-server",
                           "--port",
                           port,
                           "--bind",
                           "127.0.0.1",
                           "--save",
                           "",
                           "--appendonly",
                           "no",
                           "--dir",
                           s->dir,
                           "--unixsocket",
                           s->sock,
                           "--unixsocketperm",
                           "700",
                           "--logfile",
                           s->log,
                           s->pass ? "--requirepass" : NULL,
                           s->pass,
                           NULL };
    char *args[sizeof(argv) / sizeof(argv[0])];
    for (size_t i = 0; i < sizeof(argv) / sizeof(argv[0]); i++)
        args[i] = (char *)(uintptr_t)argv[i]; /* execvp's prototype predates const */
    int null = open("/dev/null", O_WRONLY);
    if (null >= 0)
        dup2(null, STDOUT_FILENO);
    execvp(args[0], args);
    _exit(127);
}

/* Starts redis-server (again, on the same port and folder when it ran before). */
static bool srv_start(struct srv *s)
{
    if (!s->dir[0]) {
        snprintf(s->dir, sizeof(s->dir), "/tmp/tl-redis-XXXXXX");
        if (!mkdtemp(s->dir)) {
            tl_check_report(__FILE__, __LINE__, "mkdtemp failed");
            return false;
        }
        snprintf(s->sock, sizeof(s->sock), "%s/redis.sock", s->dir);
        snprintf(s->log, sizeof(s->log), "%s/redis.log", s->dir);
        s->port = free_port();
    }
    s->pid = fork();
    if (s->pid == 0)
        srv_exec(s);
    uint64_t deadline = now_ms() + 10000;
    while (s->pid > 0 && now_ms() < deadline) {
        int st;
        if (srv_answers(s))
            return true;
        if (waitpid(s->pid, &st, WNOHANG) == s->pid) {
            tl_check_report(
                __FILE__, __LINE__,
                "redis-server exited (status %d; missing? `tools/deps.sh test` installs "
                "it); see %s",
                WIFEXITED(st) ? WEXITSTATUS(st) : -1, s->log);
            s->pid = 0;
            return false;
        }
        nap();
    }
    tl_check_report(__FILE__, __LINE__, "redis-server did not answer PING within 10 s");
    return false;
}

static void srv_kill(struct srv *s)
{
    if (s->pid > 0) {
        kill(s->pid, SIGKILL);
        waitpid(s->pid, NULL, 0);
    }
    s->pid = 0;
}

static void srv_done(struct srv *s)
{
    srv_kill(s);
    unlink(s->sock);
    unlink(s->log);
    rmdir(s->dir);
}

/* A fleet on url with prefix, syncing every interval seconds, and one more option. */
static struct tl_fleet *fleet_try(const char *url, const char *prefix, const char *interval,
                                  const char *key, const char *value, char *err, size_t n)
{
    struct tl_config cfg;
    tl_config_defaults(&cfg);
    err[0] = '\0';
    if (tl_config_set(&cfg, "redis.url", url, err, n) < 0 ||
        tl_config_set(&cfg, "redis.prefix", prefix, err, n) < 0 ||
        tl_config_set(&cfg, "redis.sync_interval", interval, err, n) < 0 ||
        tl_config_set(&cfg, "redis.timeout", "1", err, n) < 0 ||
        (key && tl_config_set(&cfg, key, value, err, n) < 0)) {
        tl_config_free(&cfg);
        return NULL;
    }
    struct tl_fleet *fl = tl_fleet_open(&cfg, err, n);
    tl_config_free(&cfg);
    return fl;
}

static struct tl_fleet *fleet(const char *url, const char *prefix, const char *interval,
                              const char *key, const char *value)
{
    char err[256];
    struct tl_fleet *fl = fleet_try(url, prefix, interval, key, value, err, sizeof(err));
    if (!fl)
        tl_check_report(__FILE__, __LINE__, "tl_fleet_open(%s): %s", url, err);
    return fl;
}

static const char *tcp_url(const struct srv *s, const char *userinfo, int db)
{
    static char url[128];
    snprintf(url, sizeof(url), "redis://%s%s127.0.0.1:%d/%d", userinfo ? userinfo : "",
             userinfo ? "@" : "", s->port, db);
    return url;
}

/* A server of the case's own and a fleet on it (NULL: either failed, reported). */
static struct tl_fleet *setup(struct srv *s, const char *prefix, const char *interval,
                              const char *key, const char *value)
{
    return srv_start(s) ? fleet(tcp_url(s, NULL, 0), prefix, interval, key, value) : NULL;
}

static uint64_t stat(struct tl_fleet *fl, enum tl_stat which)
{
    struct tl_stats st;
    memset(&st, 0, sizeof(st));
    tl_fleet_counters(fl, &st);
    return st.v[which];
}

static void sync_one(struct tl_fleet *fl, const char *name)
{
    tl_fleet_sync(fl, &name, 1, SYNC);
}

/* A reply of the test's own client, as text ("" for nil, the number for an integer). */
static const char *ask(redisContext *c, const char *fmt, const char *key)
{
    static char out[64];
    redisReply *r = c ? redisCommand(c, fmt, key) : NULL;
    out[0] = '\0';
    if (r && (r->type == REDIS_REPLY_STRING || r->type == REDIS_REPLY_STATUS))
        snprintf(out, sizeof(out), "%s", r->str);
    else if (r && r->type == REDIS_REPLY_INTEGER)
        snprintf(out, sizeof(out), "%lld", r->integer);
    if (r)
        freeReplyObject(r);
    return out;
}

/* The view of name as last read is want (hosts_24h, hosts_30d, users_30d, requests_24h,
 * first_seen). */
#define CHECK_VIEW(fl, name, ...)                                                                  \
    check_view(fl, name, (struct tl_fleet_domain){ __VA_ARGS__ }, __LINE__)

static void check_view(struct tl_fleet *fl, const char *name, struct tl_fleet_domain want, int line)
{
    struct tl_fleet_domain d = { 0 };
    if (!tl_fleet_lookup(fl, name, &d))
        tl_check_report(__FILE__, line, "no view of %s", name);
    else if (memcmp(&d, &want, sizeof(d)) != 0)
        tl_check_report(__FILE__, line,
                        "%s: hosts_24h %llu/%llu hosts_30d %llu/%llu users_30d %llu/%llu "
                        "requests_24h %llu/%llu requests_30d %llu/%llu first_seen %llu/%llu "
                        "(got/want)",
                        name, (unsigned long long)d.hosts_24h, (unsigned long long)want.hosts_24h,
                        (unsigned long long)d.hosts_30d, (unsigned long long)want.hosts_30d,
                        (unsigned long long)d.users_30d, (unsigned long long)want.users_30d,
                        (unsigned long long)d.requests_24h, (unsigned long long)want.requests_24h,
                        (unsigned long long)d.requests_30d, (unsigned long long)want.requests_30d,
                        (unsigned long long)d.first_seen, (unsigned long long)want.first_seen);
}

/* A HyperLogLog count: exact here for a few elements, within one for dozens. */
#define CHECK_ABOUT(a, b) CHECK((a) + 1 >= (b) && (a) <= (b) + 1)

static void test_bad_options(void)
{
    static const char *const urls[] = {
        "http://127.0.0.1", "redis://",
        "redis://:pw@",     "redis://h:0",
        "redis://h:65536",  "redis://h:x",
        "redis://h/db",     "redis://h/1?x=1",
        "rediss://h",       "unix:",
        "unix://",          "redis://[::1",
        "redis://h:1:2",    "redis://u%zz:pw@h",
        "redis://user@h",   "redis://:hunter2@h:99999",
    };
    char err[256];
    for (size_t i = 0; i < sizeof(urls) / sizeof(urls[0]); i++) {
        struct tl_fleet *fl = fleet_try(urls[i], "t0", "1", NULL, NULL, err, sizeof(err));
        CHECK(fl == NULL);
        CHECK(strstr(err, "redis.url") != NULL);
        CHECK(strstr(err, "hunter2") == NULL); /* never quotes a password */
        tl_fleet_close(fl);
    }
    static const char *const good[] = { "redis://[::1]:1/0", "redis://localhost:1", "unix:/nowhere",
                                        "redis://u%40x:p%3Aw@127.0.0.1:1/15" };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
        struct tl_fleet *fl = fleet_try(good[i], "t0", "1", NULL, NULL, err, sizeof(err));
        CHECK(fl != NULL); /* nobody listens: not an error */
        tl_fleet_close(fl);
    }
    CHECK(!fleet_try("redis://h", "a{b", "1", NULL, NULL, err, sizeof(err)));
    CHECK(strstr(err, "redis.prefix") != NULL);
    CHECK(!fleet_try("redis://h", "t0", "1", "redis.max_backlog", "0", err, sizeof(err)));
    CHECK(strstr(err, "redis.max_backlog") != NULL);
}

/* A server nobody listens on: no error at open, uses accepted, errors counted. */
static void test_unreachable(void)
{
    char url[64];
    snprintf(url, sizeof(url), "redis://127.0.0.1:%d", free_port());
    struct tl_fleet *fl = fleet(url, "t0", "0.05", NULL, NULL);
    if (!fl)
        return;
    tl_fleet_record(fl, "nowhere.net", T0, 1, 0);
    EVENTUALLY(stat(fl, TL_STAT_REDIS_ERRORS) >= 2);
    const char *name = "nowhere.net";
    tl_fleet_sync(fl, &name, 1, 100000); /* returns after its timeout */
    struct tl_fleet_domain d;
    CHECK(!tl_fleet_lookup(fl, name, &d));
    CHECK_EQ(stat(fl, TL_STAT_REDIS_CONNECTED), 0);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_BACKLOG), 1);
    tl_fleet_close(fl);
}

/* Uses of one domain in and out of the windows, then what Redis and the view hold. */
static void test_record_sync_lookup(void)
{
    struct srv s = { 0 };
    struct tl_fleet *fl = setup(&s, "t1", "3600", NULL, NULL);
    if (!fl)
        goto out;
    for (uint64_t h = 1; h <= 5; h++)
        tl_fleet_record(fl, "example.com", T0, h, h <= 3 ? 100 : h == 4 ? 101 : 0);
    for (int i = 0; i < 9; i++)
        tl_fleet_record(fl, "example.com", T0 + 1000000, 1, 100); /* the same update */
    tl_fleet_record(fl, "example.com", T0 - 23 * HOUR, 6, 0);     /* in 24 h: 13h yesterday */
    tl_fleet_record(fl, "example.com", T0 - 24 * HOUR, 7, 102);   /* out: 12h yesterday */
    tl_fleet_record(fl, "example.com", T0 - 29 * DAY, 8, 0);      /* in 30 d */
    tl_fleet_record(fl, "example.com", T0 - 40 * DAY, 9, 0);      /* out of 30 d, but first */
    tl_fleet_record(fl, "other.net", T0, 1, 0);
    tl_fleet_record(fl, "other.net", T0, 50, 0);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_BACKLOG), 11);

    struct tl_fleet_domain d;
    uint64_t active = 0;
    CHECK(!tl_fleet_lookup(fl, "example.com", &d));
    const char *names[] = { "example.com", "other.net" };
    tl_fleet_sync(fl, names, 2, SYNC);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_BACKLOG), 0);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_WRITES), 11);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_READS), 2);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_ERRORS), 0);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_CONNECTED), 1);
    CHECK_VIEW(fl, "example.com", .hosts_24h = 6, .hosts_30d = 8, .users_30d = 3,
               .requests_24h = 15, .requests_30d = 17, .first_seen = T0 - 40 * DAY);
    CHECK_VIEW(fl, "other.net", .hosts_24h = 2, .hosts_30d = 2, .requests_24h = 2,
               .requests_30d = 2, .first_seen = T0);
    CHECK(tl_fleet_active_hosts(fl, &active));
    CHECK_EQ(active, 9);

    redisContext *c = srv_client(&s);
    CHECK_STR(ask(c, "HGET %s 12", "{t1:example.com}:req:20240301"), "14");
    CHECK_STR(ask(c, "HGET %s day", "{t1:example.com}:req:20240301"), "14");
    CHECK_STR(ask(c, "HGET %s 13", "{t1:example.com}:req:20240229"), "1");
    CHECK_STR(ask(c, "ZSCORE %s first", "{t1:example.com}:seen"), "1705838430000000");
    CHECK_STR(ask(c, "PFCOUNT %s", "{t1:example.com}:h:2024030112"), "5");
    CHECK_STR(ask(c, "PFCOUNT %s", "{t1:example.com}:ud:20240301"), "2");
    CHECK_STR(ask(c, "PFCOUNT %s", "{t1}:active:20240301"), "6");
    int64_t ttl = atoll(ask(c, "TTL %s", "{t1:example.com}:h:2024030112"));
    CHECK(ttl > 25 * 3600 - 60 && ttl <= 25 * 3600);
    ttl = atoll(ask(c, "TTL %s", "{t1:example.com}:hd:20240301"));
    CHECK(ttl > 31 * 86400 - 60 && ttl <= 31 * 86400);
    ttl = atoll(ask(c, "TTL %s", "{t1:example.com}:seen"));
    CHECK(ttl > 400 * 86400 - 60 && ttl <= 400 * 86400);
    ttl = atoll(ask(c, "TTL %s", "{t1}:active:20240301"));
    CHECK(ttl > 31 * 86400 - 60 && ttl <= 31 * 86400);
    if (c)
        redisFree(c);
    tl_fleet_close(fl);
out:
    srv_done(&s);
}

/* The same host using the same name many times is one update. */
static void test_aggregation(void)
{
    struct srv s = { 0 };
    struct tl_fleet *fl = setup(&s, "t7", "3600", NULL, NULL);
    if (fl) {
        for (int i = 0; i < 1000; i++)
            tl_fleet_record(fl, "busy.org", T0 + (uint64_t)i, 42, 7);
        CHECK_EQ(stat(fl, TL_STAT_REDIS_BACKLOG), 1);
        sync_one(fl, "busy.org");
        CHECK_EQ(stat(fl, TL_STAT_REDIS_WRITES), 1);
        CHECK_VIEW(fl, "busy.org", .hosts_24h = 1, .hosts_30d = 1, .users_30d = 1,
                   .requests_24h = 1000, .requests_30d = 1000, .first_seen = T0);
        tl_fleet_close(fl);
    }
    srv_done(&s);
}

/* A domain written again is read again only once its view is redis.refresh_interval old;
 * tl_fleet_sync reads it at once. */
static void test_refresh(void)
{
    struct srv s = { 0 };
    struct tl_fleet *fl = setup(&s, "t8", "0.05", "redis.refresh_interval", "3600");
    if (fl) {
        tl_fleet_record(fl, "fresh.org", T0, 1, 0);
        sync_one(fl, "fresh.org");
        CHECK_EQ(stat(fl, TL_STAT_REDIS_READS), 1);
        tl_fleet_record(fl, "fresh.org", T0, 2, 0);
        EVENTUALLY(stat(fl, TL_STAT_REDIS_WRITES) == 2);
        tl_fleet_sync(fl, NULL, 0, SYNC); /* a whole round after the one that wrote */
        CHECK_EQ(stat(fl, TL_STAT_REDIS_READS), 1);
        CHECK_VIEW(fl, "fresh.org", .hosts_24h = 1, .hosts_30d = 1, .requests_24h = 1,
                   .requests_30d = 1, .first_seen = T0);
        sync_one(fl, "fresh.org");
        CHECK_EQ(stat(fl, TL_STAT_REDIS_READS), 2);
        CHECK_VIEW(fl, "fresh.org", .hosts_24h = 2, .hosts_30d = 2, .requests_24h = 2,
                   .requests_30d = 2, .first_seen = T0);
    }
    tl_fleet_close(fl);
    srv_done(&s);
}

/* Two sensors (two fleets) share a domain: hosts from both, the earliest first seen. */
static void test_two_sensors(void)
{
    struct srv s = { 0 };
    struct tl_fleet *a = setup(&s, "t2", "3600", NULL, NULL);
    struct tl_fleet *b = a ? fleet(tcp_url(&s, NULL, 0), "t2", "3600", NULL, NULL) : NULL;
    if (a && b) {
        tl_fleet_record(a, "shared.org", T0, 1, 7);
        tl_fleet_record(a, "shared.org", T0, 2, 0);
        tl_fleet_record(a, "only-a.org", T0, 1, 0);
        tl_fleet_record(b, "shared.org", T0 - 2 * HOUR, 3, 0);
        tl_fleet_record(b, "shared.org", T0 - 1 * HOUR, 1, 8);
        const char *names[] = { "shared.org", "only-a.org" };
        tl_fleet_sync(a, names, 2, SYNC);
        tl_fleet_sync(b, names, 1, SYNC);
        tl_fleet_sync(a, names, 1, SYNC); /* reads what b wrote */

        struct tl_fleet_domain d;
        uint64_t active = 0;
        CHECK_VIEW(a, "shared.org", .hosts_24h = 3, .hosts_30d = 3, .users_30d = 2,
                   .requests_24h = 4, .requests_30d = 4, .first_seen = T0 - 2 * HOUR);
        CHECK(tl_fleet_active_hosts(a, &active));
        CHECK_EQ(active, 3);
        /* b reads as of its own newest use, T0 - 1 h: a's hour is after it */
        CHECK_VIEW(b, "shared.org", .hosts_24h = 2, .hosts_30d = 3, .users_30d = 2,
                   .requests_24h = 2, .requests_30d = 4, .first_seen = T0 - 2 * HOUR);
        CHECK(!tl_fleet_lookup(b, "only-a.org", &d));
    }
    tl_fleet_close(a);
    tl_fleet_close(b);
    srv_done(&s);
}

/* Redis killed: uses accepted, errors counted, the backlog capped with a count; Redis back on
 * the same port: the backlog is written and the view shows it. */
static void test_outage(void)
{
    struct srv s = { 0 };
    const char *name = "down.net";
    struct tl_fleet_domain d;
    struct tl_fleet *fl = setup(&s, "t3", "0.05", "redis.max_backlog", "50");
    if (!fl)
        goto out;
    tl_fleet_record(fl, name, T0, 1000, 0);
    sync_one(fl, name);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_CONNECTED), 1);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_BACKLOG), 0);

    srv_kill(&s);
    EVENTUALLY(stat(fl, TL_STAT_REDIS_CONNECTED) == 0 && stat(fl, TL_STAT_REDIS_ERRORS) > 0);
    for (uint64_t i = 0; i < 100; i++)
        tl_fleet_record(fl, name, T0 + i, i + 1, 0);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_BACKLOG), 50);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_CAPPED), 50);
    uint64_t errors = stat(fl, TL_STAT_REDIS_ERRORS), writes = stat(fl, TL_STAT_REDIS_WRITES);
    tl_fleet_sync(fl, &name, 1, 200000); /* Redis down: returns after its timeout, counted */
    CHECK(stat(fl, TL_STAT_REDIS_ERRORS) > errors);

    if (!srv_start(&s))
        goto out;
    EVENTUALLY(stat(fl, TL_STAT_REDIS_BACKLOG) == 0 && stat(fl, TL_STAT_REDIS_CONNECTED) == 1);
    CHECK_EQ(stat(fl, TL_STAT_REDIS_WRITES), writes + 50);
    sync_one(fl, name);
    CHECK(tl_fleet_lookup(fl, name, &d));
    CHECK_EQ(d.requests_24h, 50);    /* the newest 50: the server lost the rest */
    CHECK_EQ(d.first_seen, T0 + 50); /* the 50 oldest were dropped */
    CHECK_ABOUT(d.hosts_24h, 50);
out:
    tl_fleet_close(fl);
    srv_done(&s);
}

/* Redis refusing writes for a while (OOM under maxmemory): the updates are kept and written
 * once it accepts them again, each once. */
static void test_refused(void)
{
    struct srv s = { 0 };
    struct tl_fleet *fl = setup(&s, "t9", "0.05", NULL, NULL);
    redisContext *c = srv_client(&s);
    if (fl && c) {
        CHECK_STR(ask(c, "CONFIG SET maxmemory %s", "1"), "OK");
        tl_fleet_record(fl, "full.org", T0, 1, 0);
        tl_fleet_record(fl, "full.org", T0, 1, 0);
        EVENTUALLY(stat(fl, TL_STAT_REDIS_ERRORS) >= 3);
        CHECK_EQ(stat(fl, TL_STAT_REDIS_BACKLOG), 1);
        CHECK_EQ(stat(fl, TL_STAT_REDIS_WRITES), 0);
        CHECK_STR(ask(c, "CONFIG SET maxmemory %s", "0"), "OK");
        EVENTUALLY(stat(fl, TL_STAT_REDIS_WRITES) == 1);
        sync_one(fl, "full.org");
        CHECK_VIEW(fl, "full.org", .hosts_24h = 1, .hosts_30d = 1, .requests_24h = 2,
                   .requests_30d = 2, .first_seen = T0);
    }
    if (c)
        redisFree(c);
    tl_fleet_close(fl);
    srv_done(&s);
}

static bool works(struct tl_fleet *fl, const char *name)
{
    struct tl_fleet_domain d = { 0 };
    tl_fleet_record(fl, name, T0, 5, 0);
    sync_one(fl, name);
    return tl_fleet_lookup(fl, name, &d) && d.hosts_24h == 1 &&
           stat(fl, TL_STAT_REDIS_CONNECTED) == 1;
}

/* requirepass: the password in the url (percent-encoded, or raw up to the last @, with the
 * ACL user), or in redis.password; a wrong one is counted and never connects. */
static void test_auth(void)
{
    struct srv s = { .pass = "s3cr@t/:x" };
    if (!srv_start(&s))
        return;
    struct tl_fleet *fl = fleet(tcp_url(&s, ":s3cr%40t%2F%3ax", 0), "t5", "3600", NULL, NULL);
    CHECK(fl && works(fl, "auth.io"));
    tl_fleet_close(fl);
    fl = fleet(tcp_url(&s, "default:s3cr@t/:x", 2), "t5", "3600", NULL, NULL);
    CHECK(fl && works(fl, "acl.io"));
    tl_fleet_close(fl);
    fl = fleet(tcp_url(&s, NULL, 0), "t5", "3600", "redis.password", "s3cr@t/:x");
    CHECK(fl && works(fl, "option.io"));
    tl_fleet_close(fl);

    redisContext *c = srv_client(&s);
    CHECK_STR(ask(c, "EXISTS %s", "{t5:acl.io}:seen"), "0"); /* it went to database 2 */
    CHECK_STR(ask(c, "SELECT %s", "2"), "OK");
    CHECK_STR(ask(c, "EXISTS %s", "{t5:acl.io}:seen"), "1");
    if (c)
        redisFree(c);

    fl = fleet(tcp_url(&s, ":wrong", 0), "t5", "0.05", NULL, NULL);
    if (fl) {
        EVENTUALLY(stat(fl, TL_STAT_REDIS_ERRORS) >= 1);
        CHECK_EQ(stat(fl, TL_STAT_REDIS_CONNECTED), 0);
        tl_fleet_close(fl);
    }
    srv_done(&s);
}

/* A unix socket (both spellings), and the last flush at close without any sync. */
static void test_unix_close_flush(void)
{
    struct srv s = { 0 };
    char url[160];
    if (!srv_start(&s))
        return;
    snprintf(url, sizeof(url), "unix:%s", s.sock);
    struct tl_fleet *fl = fleet(url, "t6", "3600", NULL, NULL);
    if (fl) {
        tl_fleet_record(fl, "flush.me", T0, 1, 0);
        tl_fleet_record(fl, "flush.me", T0, 1, 0);
        tl_fleet_close(fl);
    }
    redisContext *c = srv_client(&s);
    CHECK_STR(ask(c, "HGET %s day", "{t6:flush.me}:req:20240301"), "2");
    if (c)
        redisFree(c);
    snprintf(url, sizeof(url), "unix://%s", s.sock);
    fl = fleet(url, "t6", "3600", NULL, NULL);
    CHECK(fl && works(fl, "unix.io"));
    tl_fleet_close(fl);
    srv_done(&s);
}

const struct tl_test tl_tests_redis[] = {
    { "bad_options", test_bad_options },
    { "unreachable", test_unreachable },
    { "record_sync_lookup", test_record_sync_lookup },
    { "aggregation", test_aggregation },
    { "refresh", test_refresh },
    { "two_sensors", test_two_sensors },
    { "outage", test_outage },
    { "refused", test_refused },
    { "auth", test_auth },
    { "unix_close_flush", test_unix_close_flush },
    { NULL, NULL },
};
