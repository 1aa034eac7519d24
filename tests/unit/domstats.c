/*
 * domstats.c - domain statistics on constructed traffic: the rare domain among
 * common ones (lowest frequency index and prevalence, new, the right host and
 * user on its event), windows, the cap, resolvers, reports, determinism, the
 * memory per domain, and the snapshot (round trip, every cut and a flipped
 * byte refused with the file and offset named).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "domain.h"
#include "event.h"
#include "stats.h"
#include "view.h"

enum { DS_BYTES_PER_DOMAIN = 600 }; /* the figure stated in detect/domstats.c */

static const uint64_t HOUR = 3600ULL * 1000000, DAY = 86400ULL * 1000000;
static const uint64_t T0 = 1735732800ULL * 1000000; /* 2025-01-01T12:00:00Z */

static struct tl_domain_ctx *names;

static struct tl_domstats *ds_new(const char *k1, const char *v1, const char *k2, const char *v2)
{
    struct tl_config cfg;
    char err[512];
    tl_config_defaults(&cfg);
    if (k1)
        CHECK(tl_config_set(&cfg, k1, v1, err, sizeof(err)) == 0);
    if (k2)
        CHECK(tl_config_set(&cfg, k2, v2, err, sizeof(err)) == 0);
    if (!names)
        names = tl_domain_ctx_new(&cfg, err, sizeof(err));
    struct tl_domstats *ds = tl_domstats_new(&cfg, NULL, err, sizeof(err));
    if (!ds)
        fprintf(stderr, "  domstats: %s\n", err);
    tl_config_free(&cfg);
    return ds;
}

static struct tl_ip ip4(uint8_t a, uint8_t b, uint8_t c, uint8_t d)
{
    struct tl_ip ip = { .b = { [10] = 0xff, [11] = 0xff, [12] = a, [13] = b, [14] = c, [15] = d } };
    return ip;
}

static struct tl_ip host(unsigned i)
{
    return ip4(10, 1, (uint8_t)(i >> 8), (uint8_t)i);
}

/* One use, as the pipeline makes it: the worker's names part, then the coordinator's. */
static struct tl_domain_enrich use(struct tl_domstats *ds, uint64_t ts, const char *name,
                                   struct tl_ip h, const char *user)
{
    struct tl_domain_name nm;
    struct tl_domain_enrich e;
    tl_domain_name(names, name, strlen(name), &nm);
    tl_domain_enrich_names(&e, &nm);
    tl_domstats_observe(ds, ts, &nm, &h, user, &e);
    return e;
}

/* Field by field: struct copies need not copy padding. */
static bool same(const struct tl_domain_enrich *a, const struct tl_domain_enrich *b)
{
    return strcmp(a->registered_domain, b->registered_domain) == 0 &&
           strcmp(a->public_suffix, b->public_suffix) == 0 && a->counted == b->counted &&
           a->is_new == b->is_new && a->first_seen == b->first_seen && a->age_days == b->age_days &&
           a->hosts_24h == b->hosts_24h && a->hosts_30d == b->hosts_30d &&
           a->users_30d == b->users_30d && a->requests_24h == b->requests_24h &&
           a->prevalence == b->prevalence && a->frequency_index == b->frequency_index;
}

/* ---- domain events, read through their field table ---- */

struct got {
    char domain[64];
    double ts, first_seen, hosts_24h, hosts_30d, users_30d, requests_24h, requests_30d;
    double hosts_capped, users_capped, prevalence, frequency_index, is_new;
    char hosts[8][64], users[8][64];
    size_t nhosts, nusers;
    bool json_ok;
};

struct events {
    struct got ev[64];
    size_t n;
};

static struct tl_values vals;

static double field_num(const void *rec, const char *name)
{
    struct tl_fref ref;
    tl_values_reset(&vals);
    if (!tl_view_find(&tl_domain_event, name, &ref))
        return -1;
    tl_field_values(ref.f, rec, &vals);
    return vals.n ? vals.v[0].num : 0;
}

static size_t field_strs(const void *rec, const char *name, char (*out)[64], size_t width)
{
    struct tl_fref ref;
    tl_values_reset(&vals);
    if (!tl_view_find(&tl_domain_event, name, &ref))
        return 0;
    tl_field_values(ref.f, rec, &vals);
    for (size_t i = 0; i < vals.n && i < 8; i++)
        snprintf((char *)out + i * width, width, "%.*s", (int)vals.v[i].s.len, vals.v[i].s.ptr);
    return vals.n;
}

static void collect(void *arg, const void *rec)
{
    struct events *evs = arg;
    if (evs->n >= TL_ARRAY_LEN(evs->ev))
        return;
    struct got *g = &evs->ev[evs->n++];
    char one[1][64];
    memset(g, 0, sizeof(*g));
    field_strs(rec, "registered_domain", one, 64);
    snprintf(g->domain, sizeof(g->domain), "%s", one[0]);
    g->ts = field_num(rec, "ts");
    g->first_seen = field_num(rec, "first_seen");
    g->hosts_24h = field_num(rec, "hosts_24h");
    g->hosts_30d = field_num(rec, "hosts_30d");
    g->users_30d = field_num(rec, "users_30d");
    g->requests_24h = field_num(rec, "requests_24h");
    g->requests_30d = field_num(rec, "requests_30d");
    g->hosts_capped = field_num(rec, "hosts_capped");
    g->users_capped = field_num(rec, "users_capped");
    g->prevalence = field_num(rec, "prevalence");
    g->frequency_index = field_num(rec, "frequency_index");
    g->is_new = field_num(rec, "is_new");
    g->nhosts = field_strs(rec, "hosts", g->hosts, sizeof(g->hosts[0]));
    g->nusers = field_strs(rec, "users", g->users, sizeof(g->users[0]));

    struct tl_buf b = { 0 };
    tl_event_json(&b, &tl_domain_event, "test", rec);
    g->json_ok = b.len > 0 && b.p[b.len - 1] == '\n' && strstr(b.p, "\"event_type\":\"domain\"");
    tl_buf_free(&b);
}

static const struct got *find(const struct events *evs, const char *domain)
{
    for (size_t i = 0; i < evs->n; i++)
        if (strcmp(evs->ev[i].domain, domain) == 0)
            return &evs->ev[i];
    return NULL;
}

static uint64_t counter(struct tl_domstats *ds, enum tl_stat which)
{
    struct tl_stats st;
    memset(&st, 0, sizeof(st));
    tl_domstats_measure(ds);
    tl_domstats_counters(ds, &st);
    return st.v[which];
}

/* ---- the cases ---- */

/* Many hosts ask for the same names, one host for a rare one. */
static void test_rare_domain(void)
{
    static const char *const common[] = { "www.google.com", "cdn.example.net", "mail.example.org" };
    struct tl_domstats *ds = ds_new("domains.report_interval", "0", NULL, NULL);
    struct tl_domain_enrich e;
    uint64_t t = T0;

    for (unsigned day = 0; day < 10; day++)
        for (unsigned h = 1; h <= 50; h++)
            for (size_t k = 0; k < TL_ARRAY_LEN(common); k++)
                use(ds, t + day * DAY + h * 1000000 + k, common[k], host(h), NULL);
    t += 10 * DAY;
    e = use(ds, t, "a.b.example.org", host(7), "alice");
    CHECK(e.counted);
    CHECK(!e.is_new);
    CHECK_EQ(e.age_days, 9); /* first seen a second after T0 */
    CHECK_EQ(e.hosts_30d, 50);
    CHECK_EQ(e.users_30d, 1);
    CHECK_EQ(e.requests_24h, 1);     /* yesterday's uses are more than 24 hours ago */
    CHECK(e.frequency_index == 0.0); /* all three tie so far */

    e = use(ds, t + 1000, "login.rare-thing.info", ip4(10, 9, 9, 77), "mallory");
    CHECK(e.counted);
    CHECK(e.is_new);
    CHECK_EQ(e.first_seen, t + 1000);
    CHECK_EQ(e.age_days, 0);
    CHECK_EQ(e.hosts_24h, 1);
    CHECK_EQ(e.hosts_30d, 1);
    CHECK_EQ(e.users_30d, 1);
    CHECK_EQ(e.requests_24h, 1);
    CHECK(e.frequency_index == 0.0);
    CHECK(e.prevalence > 1.0 / 51 - 1e-9 && e.prevalence < 1.0 / 51 + 1e-9);
    CHECK_STR(e.registered_domain, "rare-thing.info");
    CHECK_STR(e.public_suffix, "info");

    e = use(ds, t + 2000, "www.google.com", host(1), NULL);
    CHECK(e.frequency_index == 100.0 / 3); /* above the rare one, tied with the other two */
    CHECK(e.prevalence > 50.0 / 51 - 1e-9 && e.prevalence < 50.0 / 51 + 1e-9);

    struct events *evs = calloc(1, sizeof(*evs));
    tl_domstats_finish(ds, t + 3000, collect, evs);
    CHECK_EQ(evs->n, 4);
    const struct got *g = find(evs, "rare-thing.info");
    CHECK(g != NULL);
    if (g) {
        CHECK(g->json_ok);
        CHECK_EQ(g->nhosts, 1);
        CHECK_STR(g->hosts[0], "10.9.9.77");
        CHECK_EQ(g->nusers, 1);
        CHECK_STR(g->users[0], "mallory");
        CHECK(g->is_new == 1.0);
        CHECK(g->frequency_index == 0.0);
        CHECK(g->hosts_30d == 1.0 && g->hosts_capped == 0.0);
        CHECK(g->ts == (double)(t + 3000));
    }
    g = find(evs, "example.org");
    CHECK(g && g->hosts_30d == 50.0 && g->requests_30d == 501.0);
    CHECK(g && g->frequency_index == 100.0 / 3 && g->nhosts == 50);
    CHECK_EQ(counter(ds, TL_STAT_DOM_ENTRIES), 4);
    CHECK_EQ(counter(ds, TL_STAT_DOM_EVENTS), 4);
    CHECK_EQ(counter(ds, TL_STAT_DOM_OBSERVED), 1503);
    free(evs);
    tl_domstats_free(ds);
}

/* Hosts k = 1..10 use domain dk: its index is the share of the others with fewer hosts. */
static void test_frequency_index(void)
{
    struct tl_domstats *ds = ds_new(NULL, NULL, NULL, NULL);
    char name[32];
    struct tl_domain_enrich e;

    for (unsigned k = 1; k <= 10; k++)
        for (unsigned h = 0; h < k; h++) {
            snprintf(name, sizeof(name), "www.d%u-example.com", k);
            use(ds, T0 + k * 1000 + h, name, host(h), NULL);
        }
    for (unsigned k = 1; k <= 10; k++) {
        snprintf(name, sizeof(name), "www.d%u-example.com", k);
        e = use(ds, T0 + 100000 + k, name, host(0), NULL);
        double want = 100.0 * (k - 1) / 9;
        if (e.frequency_index < want - 1e-9 || e.frequency_index > want + 1e-9)
            tl_check_report(__FILE__, __LINE__, "d%u: index %f, want %f", k, e.frequency_index,
                            want);
    }
    /* 31 days later only d1 is used again: the others left the 30 days, it ranks alone. */
    e = use(ds, T0 + 31 * DAY, "www.d1-example.com", host(0), NULL);
    CHECK_EQ(e.hosts_30d, 1);
    CHECK(e.frequency_index == 0.0);
    CHECK(e.prevalence == 1.0);
    e = use(ds, T0 + 31 * DAY + 1, "www.d2-example.com", host(5), NULL);
    CHECK(e.frequency_index == 0.0); /* d1 has as many hosts: a tie */
    e = use(ds, T0 + 31 * DAY + 2, "www.d2-example.com", host(6), NULL);
    CHECK(e.frequency_index == 100.0);
    CHECK(!e.is_new);
    CHECK_EQ(e.age_days, 30);
    tl_domstats_free(ds);
}

static void test_windows(void)
{
    struct tl_domstats *ds = ds_new(NULL, NULL, NULL, NULL);
    struct tl_domain_enrich e;

    use(ds, T0, "x.example.com", host(1), "alice");
    e = use(ds, T0 + 25 * HOUR, "y.example.com", host(2), NULL);
    CHECK_EQ(e.hosts_24h, 1);
    CHECK_EQ(e.hosts_30d, 2);
    CHECK_EQ(e.users_30d, 1);
    CHECK_EQ(e.requests_24h, 1);
    CHECK_EQ(e.age_days, 1);
    CHECK(e.is_new);
    e = use(ds, T0 + 25 * HOUR + 1, "www.example.com", host(2), NULL);
    CHECK_EQ(e.requests_24h, 2);
    CHECK_EQ(e.hosts_24h, 1);
    e = use(ds, T0 + 31 * DAY, "example.com", host(3), NULL);
    CHECK_EQ(e.hosts_30d, 2); /* host 1 aged out, 2 and 3 remain */
    CHECK_EQ(e.users_30d, 0);
    CHECK_EQ(e.requests_24h, 1);
    CHECK(!e.is_new);
    CHECK_EQ(e.first_seen, T0);
    CHECK_EQ(e.age_days, 31);

    /* One use an hour for 30 hours: 24 of them in the 24 h window, every one in a report. */
    struct events *evs = calloc(1, sizeof(*evs));
    uint64_t t1 = T0 + 40 * DAY;
    for (unsigned h = 0; h < 30; h++)
        e = use(ds, t1 + h * HOUR, "hourly.example.org", host(4), NULL);
    CHECK_EQ(e.requests_24h, 24);
    tl_domstats_finish(ds, t1 + 30 * HOUR, collect, evs);
    const struct got *g = find(evs, "example.org");
    CHECK(g && g->requests_24h == 24.0 && g->requests_30d == 30.0);
    free(evs);
    tl_domstats_free(ds);
}

static void test_cap(void)
{
    struct tl_domstats *ds = ds_new("domains.max_entries", "3", NULL, NULL);
    char name[32];
    for (unsigned k = 1; k <= 5; k++) {
        snprintf(name, sizeof(name), "d%u-example.net", k);
        use(ds, T0 + k * HOUR, name, host(k), NULL);
    }
    CHECK_EQ(counter(ds, TL_STAT_DOM_ENTRIES), 3);
    CHECK_EQ(counter(ds, TL_STAT_DOM_CAPPED), 2);
    /* d3 was used last among the three oldest kept; d1 was forgotten and is new again. */
    struct tl_domain_enrich e = use(ds, T0 + 10 * HOUR, "d3-example.net", host(3), NULL);
    CHECK_EQ(e.first_seen, T0 + 3 * HOUR);
    e = use(ds, T0 + 11 * HOUR, "d1-example.net", host(1), NULL);
    CHECK_EQ(e.first_seen, T0 + 11 * HOUR);
    CHECK_EQ(counter(ds, TL_STAT_DOM_CAPPED), 3); /* d4, the least recently used, went */
    e = use(ds, T0 + 12 * HOUR, "d5-example.net", host(5), NULL);
    CHECK_EQ(e.first_seen, T0 + 5 * HOUR);
    e = use(ds, T0 + 13 * HOUR, "d4-example.net", host(4), NULL);
    CHECK_EQ(e.first_seen, T0 + 13 * HOUR);
    tl_domstats_free(ds);
}

static void test_resolvers(void)
{
    struct tl_domstats *ds = ds_new("domains.resolvers", "10.0.0.53, 192.0.2.0/24", NULL, NULL);
    struct tl_domain_enrich e = use(ds, T0, "www.example.com", ip4(10, 0, 0, 53), NULL);
    CHECK(!e.counted);
    e = use(ds, T0 + 1, "www.example.com", ip4(192, 0, 2, 200), NULL);
    CHECK(!e.counted);
    e = use(ds, T0 + 2, "www.example.com", ip4(10, 0, 0, 54), NULL);
    CHECK(e.counted);
    CHECK_EQ(e.hosts_30d, 1);
    CHECK_EQ(e.requests_24h, 1);
    CHECK_EQ(counter(ds, TL_STAT_DOM_RESOLVER), 2);
    CHECK_EQ(counter(ds, TL_STAT_DOM_OBSERVED), 1);
    /* Names that are not counted are not taken at all. */
    e = use(ds, T0 + 3, "printer.local", ip4(10, 0, 0, 54), NULL);
    CHECK(!e.counted);
    CHECK_EQ(counter(ds, TL_STAT_DOM_ENTRIES), 1);
    tl_domstats_free(ds);

    char err[256];
    struct tl_config cfg;
    tl_config_defaults(&cfg);
    CHECK(tl_config_set(&cfg, "domains.resolvers", "10.0.0.300", err, sizeof(err)) < 0);
    CHECK(strstr(err, "domains.resolvers") && strstr(err, "10.0.0.300"));
    tl_config_free(&cfg);
}

static void test_reports(void)
{
    struct tl_domstats *ds = ds_new("dissect.max_items", "2", NULL, NULL);
    struct events *evs = calloc(1, sizeof(*evs));
    uint64_t ten = T0 - 2 * HOUR; /* 10:00 */

    use(ds, ten + 5000000, "a.example.net", host(1), "alice");
    tl_domstats_tick(ds, ten + 6000000, collect, evs);
    CHECK_EQ(evs->n, 0);
    for (unsigned h = 1; h <= 5; h++)
        use(ds, ten + HOUR / 2 + h, "b.example.com", host(h), h <= 3 ? "bob" : "carol");
    tl_domstats_tick(ds, ten + HOUR + 500000, collect, evs); /* 11:00:00.5 */
    CHECK_EQ(evs->n, 2);
    const struct got *a = find(evs, "example.com");
    CHECK(a && a->ts == (double)(ten + HOUR) && a->nhosts == 2 && a->hosts_capped == 3.0);
    CHECK(a && a->nusers == 2 && a->users_capped == 0.0 && a->requests_24h == 5.0);
    CHECK(a && a->users_30d == 2.0);
    CHECK(find(evs, "example.net") != NULL);
    tl_domstats_tick(ds, ten + HOUR + HOUR / 2, collect, evs);
    CHECK_EQ(evs->n, 2);

    use(ds, ten + HOUR + 40 * 60 * 1000000ULL, "c.example.org", host(9), NULL);
    tl_domstats_finish(ds, ten + HOUR + 50 * 60 * 1000000ULL, collect, evs);
    CHECK_EQ(evs->n, 3);
    const struct got *c = find(evs, "example.org");
    CHECK(c && c->nhosts == 1 && strcmp(c->hosts[0], "10.1.0.9") == 0 && c->hosts_capped == 0.0);
    CHECK_EQ(counter(ds, TL_STAT_DOM_EVENTS), 3);
    free(evs);
    tl_domstats_free(ds);
}

/* The same uses in the same order give the same values, whatever else happens around them. */
static void test_deterministic(void)
{
    struct tl_domstats *a = ds_new(NULL, NULL, NULL, NULL), *b = ds_new(NULL, NULL, NULL, NULL);
    uint64_t r = 99;
    char name[32];
    for (int i = 0; i < 20000; i++) {
        r = r * 6364136223846793005ULL + 1442695040888963407ULL;
        snprintf(name, sizeof(name), "n%u.example.com", (unsigned)(r >> 40) % 300);
        uint64_t ts = T0 + (uint64_t)i * 60 * 1000000;
        struct tl_domain_enrich ea = use(a, ts, name, host((unsigned)(r >> 20) % 400), NULL);
        struct tl_domain_enrich eb = use(b, ts, name, host((unsigned)(r >> 20) % 400), NULL);
        if (!same(&ea, &eb)) {
            tl_check_report(__FILE__, __LINE__, "use %d differs", i);
            break;
        }
    }
    tl_domstats_free(a);
    tl_domstats_free(b);
}

/* 10 000 domains with a few hosts each: bytes per domain under the stated figure. */
static void test_memory(void)
{
    struct tl_domstats *ds = ds_new(NULL, NULL, NULL, NULL);
    char name[40];
    for (unsigned k = 0; k < 10000; k++) {
        snprintf(name, sizeof(name), "www.domain-%05u.com", k);
        for (unsigned h = 0; h < 3; h++)
            use(ds, T0 + k * 1000 + h, name, host(k % 300 + h), h ? NULL : "user");
    }
    struct events *evs = calloc(1, sizeof(*evs));
    tl_domstats_tick(ds, T0 + 2 * HOUR, collect, evs); /* the lists go with the report */
    free(evs);
    uint64_t entries = counter(ds, TL_STAT_DOM_ENTRIES), bytes = counter(ds, TL_STAT_DOM_BYTES);
    CHECK_EQ(entries, 10000);
    if (bytes / entries >= DS_BYTES_PER_DOMAIN)
        tl_check_report(__FILE__, __LINE__, "%llu bytes per domain",
                        (unsigned long long)(bytes / entries));
    tl_domstats_free(ds);
}

/* ---- snapshots ---- */

static char state[64];

static void feed(struct tl_domstats *ds, int from, int to, struct tl_domain_enrich *out)
{
    char name[32];
    for (int i = from; i < to; i++) {
        if (i % 3)
            snprintf(name, sizeof(name), "s%d-example.com", i % 37);
        else /* one popular enough for a HyperLogLog */
            snprintf(name, sizeof(name), "popular.example.com");
        out[i] = use(ds, T0 + (uint64_t)i * 7 * 60 * 1000000, name,
                     host((unsigned)(i * 7919) % (i < 300 ? 20 : 500)), i % 5 ? NULL : "ursula");
    }
}

static void test_snapshot_roundtrip(void)
{
    static struct tl_domain_enrich once[1200], twice[1200];
    struct events *evs = calloc(1, sizeof(*evs));
    snprintf(state, sizeof(state), "/tmp/tapline-domstats-%d.snap", (int)getpid());
    unlink(state);

    struct tl_domstats *ds = ds_new(NULL, NULL, NULL, NULL);
    feed(ds, 0, 1200, once);
    tl_domstats_free(ds);

    ds = ds_new("domains.state_file", state, "domains.report_interval", "0");
    feed(ds, 0, 700, twice);
    tl_domstats_finish(ds, T0 + 700 * 7 * 60 * 1000000ULL, collect, evs);
    CHECK_EQ(counter(ds, TL_STAT_DOM_SNAPSHOTS), 1);
    CHECK(access(state, F_OK) == 0);
    tl_domstats_free(ds);

    ds = ds_new("domains.state_file", state, "domains.report_interval", "0");
    CHECK(ds != NULL);
    if (ds) {
        CHECK_EQ(counter(ds, TL_STAT_DOM_ENTRIES), 38);
        feed(ds, 700, 1200, twice);
        tl_domstats_free(ds);
        CHECK(twice[1197].hosts_30d > 128); /* its sketch went through as a HyperLogLog */
    }
    for (int i = 0; i < 1200; i++)
        if (!same(&once[i], &twice[i])) {
            tl_check_report(__FILE__, __LINE__, "use %d differs after the restart", i);
            break;
        }
    free(evs);
}

static bool load_fails(const char *want)
{
    struct tl_config cfg;
    char err[512];
    tl_config_defaults(&cfg);
    tl_config_set(&cfg, "domains.state_file", state, err, sizeof(err));
    struct tl_domstats *ds = tl_domstats_new(&cfg, NULL, err, sizeof(err));
    tl_config_free(&cfg);
    if (ds) {
        tl_domstats_free(ds);
        return false;
    }
    if (!strstr(err, state) || !strstr(err, want)) {
        fprintf(stderr, "  error: %s\n", err);
        return false;
    }
    return true;
}

static void write_file(const uint8_t *p, size_t n)
{
    FILE *f = fopen(state, "wb");
    CHECK(f && fwrite(p, 1, n, f) == n);
    if (f)
        fclose(f);
}

static void test_snapshot_corrupt(void)
{
    FILE *f = fopen(state, "rb");
    static uint8_t good[1 << 20];
    size_t n = f ? fread(good, 1, sizeof(good), f) : 0;
    if (f)
        fclose(f);
    CHECK(n > 1000);

    for (size_t cut = 0; cut < n; cut += 1 + cut / 50) {
        write_file(good, cut);
        if (!load_fails("cut at offset"))
            tl_check_report(__FILE__, __LINE__, "cut at %zu accepted", cut);
    }
    write_file(good, n - 1);
    CHECK(load_fails("cut at offset"));

    static uint8_t bad[1 << 20];
    for (size_t at = 30; at < n; at += n / 13) {
        memcpy(bad, good, n);
        bad[at] ^= 0x20;
        write_file(bad, n);
        if (!load_fails("offset")) /* cut short or corrupt, depending on the byte */
            tl_check_report(__FILE__, __LINE__, "byte %zu flipped, accepted", at);
    }
    memcpy(bad, good, n);
    bad[0] = 'X';
    write_file(bad, n);
    CHECK(load_fails("not a tapline statistics snapshot"));
    write_file(good, n);
    CHECK(!load_fails("")); /* the good one still loads */

    /* A snapshot that cannot be written is counted, the run goes on. */
    struct tl_domstats *ds = ds_new("domains.state_file", "/nonexistent-dir/x.snap", NULL, NULL);
    struct events *evs = calloc(1, sizeof(*evs));
    use(ds, T0, "a.example.com", host(1), NULL);
    tl_domstats_finish(ds, T0 + 1, collect, evs);
    CHECK_EQ(counter(ds, TL_STAT_DOM_SNAPSHOT_ERRORS), 1);
    CHECK_EQ(evs->n, 1);
    free(evs);
    tl_domstats_free(ds);
    unlink(state);
}

/* Every domains.snapshot_interval of packet time, and at the end. */
static void test_snapshot_periodic(void)
{
    char path[64];
    snprintf(path, sizeof(path), "/tmp/tapline-domstats-p%d.snap", (int)getpid());
    unlink(path);
    struct tl_domstats *ds = ds_new("domains.state_file", path, "domains.snapshot_interval", "300");
    struct events *evs = calloc(1, sizeof(*evs));
    uint64_t t = T0 + 10 * 1000000; /* 12:00:10 */
    use(ds, t, "a.example.com", host(1), NULL);
    tl_domstats_tick(ds, t + 100 * 1000000ULL, collect, evs);
    CHECK_EQ(counter(ds, TL_STAT_DOM_SNAPSHOTS), 0);
    CHECK(access(path, F_OK) != 0);
    tl_domstats_tick(ds, T0 + 300 * 1000000ULL, collect, evs); /* 12:05:00 */
    CHECK_EQ(counter(ds, TL_STAT_DOM_SNAPSHOTS), 1);
    CHECK(access(path, F_OK) == 0);
    tl_domstats_tick(ds, T0 + 599 * 1000000ULL, collect, evs);
    CHECK_EQ(counter(ds, TL_STAT_DOM_SNAPSHOTS), 1);
    tl_domstats_tick(ds, T0 + 1900 * 1000000ULL, collect, evs); /* past several: one */
    CHECK_EQ(counter(ds, TL_STAT_DOM_SNAPSHOTS), 2);
    tl_domstats_finish(ds, T0 + 2000 * 1000000ULL, collect, evs);
    CHECK_EQ(counter(ds, TL_STAT_DOM_SNAPSHOTS), 3);
    CHECK_EQ(counter(ds, TL_STAT_DOM_SNAPSHOT_ERRORS), 0);
    tl_domstats_free(ds);
    free(evs);
    unlink(path);
}

static void test_cleanup(void)
{
    tl_domain_ctx_free(names);
    names = NULL;
}

const struct tl_test tl_tests_domstats[] = {
    { "rare_domain", test_rare_domain },
    { "frequency_index", test_frequency_index },
    { "windows", test_windows },
    { "cap", test_cap },
    { "resolvers", test_resolvers },
    { "reports", test_reports },
    { "deterministic", test_deterministic },
    { "memory", test_memory },
    { "snapshot_roundtrip", test_snapshot_roundtrip },
    { "snapshot_corrupt", test_snapshot_corrupt },
    { "snapshot_periodic", test_snapshot_periodic },
    { "cleanup", test_cleanup },
    { NULL, NULL },
};
