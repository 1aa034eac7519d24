/*
 * coord.c - the coordinator applies workers' messages in (time, flow, sequence) order.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "coord.h"

struct fixture {
    struct tl_config cfg;
    struct tl_detect det;
    struct tl_coord *c;
};

static void setup(struct fixture *fx, uint64_t max_held)
{
    char err[256];
    memset(fx, 0, sizeof(*fx));
    tl_config_defaults(&fx->cfg);
    fx->cfg.max_held = max_held;
    fx->c = tl_coord_new(&fx->cfg, &fx->det, err, sizeof(err));
    CHECK(fx->c != NULL);
}

static void teardown(struct fixture *fx)
{
    tl_coord_free(fx->c);
    tl_config_free(&fx->cfg);
}

/* A sighting of user at 10.0.0.1, made at order time `order` on a flow of order `flow` as
 * message `seq`. */
static struct tl_cmsg *sighting(uint64_t order, uint64_t flow, uint64_t seq, const char *user)
{
    struct tl_cmsg *m = calloc(1, sizeof(*m));
    struct tl_identity_obs *o = calloc(1, sizeof(*o));
    o->ts_us = order;
    o->addr.b[10] = o->addr.b[11] = 0xff;
    o->addr.b[12] = 10;
    o->addr.b[15] = 1;
    snprintf(o->user, sizeof(o->user), "%s", user);
    o->source = TL_ID_KERBEROS;
    m->kind = TL_CMSG_IDENTITY;
    m->order_us = order;
    m->flow_order = flow;
    m->seq = seq;
    m->u.ident = o;
    return m;
}

/* The users of the identity events written since the last call, joined by spaces. */
static void users_written(struct tl_coord *c, char *out, size_t n)
{
    struct tl_buf *b = tl_coord_output(c);
    out[0] = '\0';
    if (!b)
        return;
    tl_buf_putc(b, '\0');
    for (const char *p = b->p; (p = strstr(p, "\"user\":\"")); p++) {
        const char *u = p + 8, *end = strchr(u, '"');
        size_t used = strlen(out);
        snprintf(out + used, n - used, "%s%.*s", used ? " " : "", (int)(end - u), u);
    }
    tl_buf_free(b);
    free(b);
}

static uint64_t counter(struct tl_coord *c, enum tl_stat s)
{
    struct tl_stats st;
    tl_coord_stats(c, &st);
    return st.v[s];
}

/* Two workers' messages arrive interleaved; release applies them in time order. */
static void test_orders_by_time(void)
{
    struct fixture fx;
    char users[128];
    setup(&fx, 1000);
    tl_coord_take(fx.c, sighting(1000, 7, 0, "x"));
    tl_coord_take(fx.c, sighting(3000, 7, 1, "x"));
    tl_coord_take(fx.c, sighting(2000, 9, 0, "y"));
    tl_coord_release(fx.c, 1500);
    users_written(fx.c, users, sizeof(users));
    CHECK_STR(users, "x");
    CHECK_EQ(counter(fx.c, TL_STAT_COORD_HELD), 2);
    tl_coord_release(fx.c, 3000);
    users_written(fx.c, users, sizeof(users));
    CHECK_STR(users, "y x");
    CHECK_EQ(counter(fx.c, TL_STAT_COORD_HELD), 0);
    CHECK_EQ(counter(fx.c, TL_STAT_IDENT_CHANGES), 3);
    teardown(&fx);
}

/* At the same microsecond, the flow's order decides, then the worker's sequence. */
static void test_ties(void)
{
    struct fixture fx;
    char users[128];
    setup(&fx, 1000);
    tl_coord_take(fx.c, sighting(1000, 9, 0, "c"));
    tl_coord_take(fx.c, sighting(1000, 5, 1, "b"));
    tl_coord_take(fx.c, sighting(1000, 5, 0, "a"));
    tl_coord_finish(fx.c, 2000);
    users_written(fx.c, users, sizeof(users));
    CHECK_STR(users, "a b c");
    teardown(&fx);
}

/* A message older than what was already applied is applied at once, and counted. */
static void test_late(void)
{
    struct fixture fx;
    char users[128];
    setup(&fx, 1000);
    tl_coord_take(fx.c, sighting(1000, 1, 0, "a"));
    tl_coord_release(fx.c, 5000);
    tl_coord_take(fx.c, sighting(4000, 2, 0, "b"));
    tl_coord_take(fx.c, sighting(6000, 3, 0, "c"));
    users_written(fx.c, users, sizeof(users));
    CHECK_STR(users, "a b");
    tl_coord_release(fx.c, 6000);
    CHECK_EQ(counter(fx.c, TL_STAT_COORD_LATE), 1);
    users_written(fx.c, users, sizeof(users));
    CHECK_STR(users, "c");
    teardown(&fx);
}

/* Past coordinator.max_held the earliest is applied early; later ones stay in order. */
static void test_cap(void)
{
    struct fixture fx;
    char users[128];
    setup(&fx, 2);
    tl_coord_take(fx.c, sighting(3000, 1, 0, "c"));
    tl_coord_take(fx.c, sighting(1000, 1, 1, "a"));
    tl_coord_take(fx.c, sighting(2000, 1, 2, "b"));
    users_written(fx.c, users, sizeof(users));
    CHECK_STR(users, "a");
    tl_coord_take(fx.c, sighting(1500, 1, 3, "z")); /* the earliest again: applied early too */
    tl_coord_finish(fx.c, 9000);
    CHECK_EQ(counter(fx.c, TL_STAT_COORD_CAPPED), 2);
    CHECK_EQ(counter(fx.c, TL_STAT_COORD_LATE), 0);
    users_written(fx.c, users, sizeof(users));
    CHECK_STR(users, "z b c");
    teardown(&fx);
}

/* A coordinator with domain statistics, default configuration. */
static void setup_domains(struct fixture *fx)
{
    char err[256];
    memset(fx, 0, sizeof(*fx));
    tl_config_defaults(&fx->cfg);
    fx->det.domains = tl_domain_ctx_new(&fx->cfg, err, sizeof(err));
    fx->c = tl_coord_new(&fx->cfg, &fx->det, err, sizeof(err));
    CHECK(fx->c != NULL);
}

/* A DNS event of www.icir.org from 10.0.0.1 at ts (us), as a worker sends it. */
static struct tl_cmsg *dns_event(uint64_t ts)
{
    static const char json[] = "{\"event_type\":\"dns\"";
    static const struct tl_domain_name nm = { .name = "www.icir.org",
                                              .registered = "icir.org",
                                              .suffix = "org" };
    struct tl_cmsg *m = tl_cmsg_event_new(NULL, &nm, sizeof(json) - 1, 0);
    struct tl_cmsg_event *ev = m->u.ev;
    ev->type = NULL;
    memset(&ev->host, 0, sizeof(ev->host));
    ev->ts_us = ts;
    ev->host.b[10] = ev->host.b[11] = 0xff;
    ev->host.b[12] = 10;
    ev->host.b[15] = 1;
    memcpy(ev->json, json, sizeof(json) - 1);
    m->order_us = tl_vtime(0, ts);
    return m;
}

/* A held event keeps its name's three strings at their length, the longest whole. */
static void test_event_name(void)
{
    struct tl_domain_name nm = { .suffix = "org" }, back;
    memset(nm.name, 'a', TL_DOMAIN_MAX - 1);
    memcpy(nm.registered, "example.org", 12);
    struct tl_cmsg *m = tl_cmsg_event_new(NULL, &nm, 5, 64);
    CHECK(m->u.ev->clone != NULL);
    CHECK_EQ((uintptr_t)m->u.ev->clone % 8, 0);
    memcpy(m->u.ev->json, "{\"a\":", 5);
    memset(m->u.ev->clone, 0xee, 64); /* writes nothing past the block (ASan) */
    tl_cmsg_event_name(m->u.ev, &back);
    CHECK_EQ(strlen(back.name), TL_DOMAIN_MAX - 1);
    CHECK_EQ(memcmp(back.name, nm.name, TL_DOMAIN_MAX), 0);
    CHECK_STR(back.registered, "example.org");
    CHECK_STR(back.suffix, "org");
    CHECK_EQ(back.kind, TL_DOM_COUNTED);
    CHECK_EQ(memcmp(m->u.ev->json, "{\"a\":", 5), 0);
    tl_cmsg_free(m);
}

static const struct tl_domain_name hold_name = { .name = "www.icir.org",
                                                 .registered = "icir.org",
                                                 .suffix = "org" };
enum { HOLD_N = 1000, HOLD_JSON = 2000 }; /* about 125 events a block: 8 blocks */

/* An event cut from hp whose JSON is HOLD_JSON bytes of tag; NULL when that failed. */
static struct tl_cmsg *hold_event(struct tl_hold_pool *hp, unsigned char tag)
{
    struct tl_cmsg *m = tl_cmsg_event_new(hp, &hold_name, HOLD_JSON, 0);
    CHECK(m != NULL && m->block != NULL);
    if (!m || !m->block)
        return NULL;
    memset(m->u.ev->json, tag, HOLD_JSON); /* its own bytes only (ASan) */
    return m;
}

static size_t hold_spares(const struct tl_hold_pool *hp)
{
    return atomic_load(&hp->back.tail) - atomic_load(&hp->back.head);
}

/* A block whose events were all freed while it was cut from is cut from again at once. */
static void test_hold_reuse(void)
{
    struct tl_hold_pool hp;
    CHECK(tl_hold_pool_init(&hp) == 0);
    struct tl_hold_block *first = NULL;
    for (unsigned i = 0; i < HOLD_N; i++) {
        struct tl_cmsg *m = hold_event(&hp, 'x');
        if (!m)
            break;
        if (!first)
            first = m->block;
        CHECK(m->block == first);
        tl_cmsg_free(m);
    }
    CHECK_EQ(hold_spares(&hp), 0);
    tl_hold_pool_free(&hp);
}

/*
 * Blocks whose events are all freed, in whatever order, go back to the worker
 * (but for the one still cut from); a block with one event still held is not
 * cut from again, and that event's bytes stay as they were. A large event is
 * malloc'd. Under ASan the unit run also proves nothing leaks.
 */
static void test_hold_return(void)
{
    static struct tl_cmsg *m[HOLD_N], *again[HOLD_N];
    struct tl_hold_pool hp;
    size_t nblocks = 0, nkept = 0;
    struct tl_cmsg *kept[HOLD_N];

    CHECK(tl_hold_pool_init(&hp) == 0);
    for (size_t i = 0; i < HOLD_N; i++)
        if (!(m[i] = hold_event(&hp, (unsigned char)i)))
            return;
    for (size_t i = 0; i < HOLD_N; i++) /* each block's first event stays held */
        if (i == 0 || m[i]->block != m[i - 1]->block)
            kept[nkept++] = m[i];
    nblocks = nkept;
    CHECK(nblocks > 4);
    for (size_t i = 0; i < HOLD_N; i++) { /* every other one, then the rest: out of order */
        struct tl_cmsg *x = m[(i * 2) % HOLD_N + (i * 2 >= HOLD_N)];
        bool keep = false;
        for (size_t k = 0; k < nkept; k++)
            keep |= kept[k] == x;
        if (!keep)
            tl_cmsg_free(x);
    }
    CHECK_EQ(hold_spares(&hp), 0);
    for (size_t i = 0; i < HOLD_N; i++) {
        if (!(again[i] = hold_event(&hp, 0xee)))
            return;
        for (size_t k = 0; k + 1 < nkept; k++) /* the last is still being cut from */
            CHECK(again[i]->block != kept[k]->block);
    }
    for (size_t k = 0; k < nkept; k++) {
        const unsigned char *j = (const unsigned char *)kept[k]->u.ev->json;
        unsigned char tag = j[0];
        for (size_t b = 0; b < HOLD_JSON; b++)
            CHECK(j[b] == tag);
        tl_cmsg_free(kept[k]);
    }
    CHECK_EQ(hold_spares(&hp), nblocks - 1);
    for (size_t i = 0; i < HOLD_N; i++)
        tl_cmsg_free(again[i]);
    struct tl_cmsg *big = tl_cmsg_event_new(&hp, &hold_name, 100000, 0);
    CHECK(big != NULL && big->block == NULL);
    tl_cmsg_free(big);
    tl_hold_pool_free(&hp);
}

/* More emptied blocks than a worker keeps: the rest are freed (ASan: no leak, no double free). */
static void test_hold_spares_capped(void)
{
    enum { MANY = 10000 }; /* 80 blocks */
    static struct tl_cmsg *m[MANY];
    struct tl_hold_pool hp;
    CHECK(tl_hold_pool_init(&hp) == 0);
    for (size_t i = 0; i < MANY; i++)
        if (!(m[i] = hold_event(&hp, 'x')))
            return;
    CHECK(m[0]->block != m[MANY / 2]->block);
    for (size_t i = 0; i < MANY; i++)
        tl_cmsg_free(m[i]);
    CHECK_EQ(hold_spares(&hp), hp.back.mask + 1);
    tl_hold_pool_free(&hp);
}

/*
 * An hourly report boundary that the capture crossed is reported at the boundary,
 * whether the workers' clocks got the watermark past it before the end or not
 * (a race between threads: the end used to report at its own time instead).
 */
static void test_report_boundary_at_end(void)
{
    const uint64_t hour14 = 1278597600ull * 1000000; /* 2010-07-08T14:00:00Z */
    for (int passed = 0; passed < 2; passed++) {
        struct fixture fx;
        setup_domains(&fx);
        tl_coord_take(fx.c, dns_event(hour14 - 1800000000ull));
        /* the watermark stops before the boundary, or has just passed it */
        tl_coord_release(fx.c, tl_vtime(0, hour14 - (passed ? 0 : 1000000)));
        tl_coord_finish(fx.c, hour14 + 3202000000ull);
        struct tl_buf *b = tl_coord_output(fx.c);
        CHECK(b != NULL);
        if (b) {
            tl_buf_putc(b, '\0');
            CHECK(
                strstr(b->p, "{\"ts\":\"2010-07-08T14:00:00.000000Z\",\"event_type\":\"domain\""));
            CHECK(!strstr(b->p, "2010-07-08T14:53:22"));
            tl_buf_free(b);
            free(b);
        }
        teardown(&fx);
        tl_domain_ctx_free(fx.det.domains);
    }
}

/*
 * A replay of several captures: the first ends past an hourly boundary, the next
 * starts a day earlier (a new epoch). The boundary the first crossed is reported
 * at it before anything of the next, even when the watermark went from before the
 * boundary straight into the next epoch (threads race there: CI saw both).
 */
static void test_report_boundary_at_epoch_end(void)
{
    const uint64_t hour14 = 1278597600ull * 1000000; /* 2010-07-08T14:00:00Z */
    const uint64_t day_before = hour14 - 86400000000ull;
    struct fixture fx;
    setup_domains(&fx);
    tl_coord_take(fx.c, dns_event(hour14 - 1800000000ull));
    tl_coord_release(fx.c, tl_vtime(0, hour14 - 1000000));
    struct tl_buf *first = tl_coord_output(fx.c); /* the first capture's event */
    CHECK(first != NULL);
    if (first) {
        tl_buf_free(first);
        free(first);
    }
    tl_coord_epoch_ended(fx.c, 0, hour14 + 10000000);
    struct tl_cmsg *next = dns_event(day_before);
    next->order_us = tl_vtime(1, day_before);
    tl_coord_take(fx.c, next);
    tl_coord_release(fx.c, tl_vtime(1, day_before));
    struct tl_buf *b = tl_coord_output(fx.c);
    CHECK(b != NULL);
    if (b) {
        tl_buf_putc(b, '\0');
        const char *report =
            strstr(b->p, "{\"ts\":\"2010-07-08T14:00:00.000000Z\",\"event_type\":\"domain\"");
        const char *second = strstr(b->p, "{\"event_type\":\"dns\"");
        CHECK(report != NULL);
        CHECK(second != NULL && report && second > report);
        tl_buf_free(b);
        free(b);
    }
    tl_coord_finish(fx.c, tl_vtime(1, day_before + 1000000));
    teardown(&fx);
    tl_domain_ctx_free(fx.det.domains);
}

const struct tl_test tl_tests_coord[] = {
    { "orders_by_time", test_orders_by_time },
    { "ties", test_ties },
    { "late", test_late },
    { "cap", test_cap },
    { "report_boundary_at_end", test_report_boundary_at_end },
    { "report_boundary_at_epoch_end", test_report_boundary_at_epoch_end },
    { "event_name", test_event_name },
    { "hold_reuse", test_hold_reuse },
    { "hold_return", test_hold_return },
    { "hold_spares_capped", test_hold_spares_capped },
    { 0 },
};
