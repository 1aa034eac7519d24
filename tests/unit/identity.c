/*
 * identity.c - the address -> identity table: changes, expiry, the cap, and
 * sightings applied in time order whatever order they arrive in.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "identity.h"

static struct tl_identity_obs *obs(uint64_t ts, uint8_t last, const char *user, const char *host)
{
    struct tl_identity_obs *o = calloc(1, sizeof(*o));
    o->ts_us = ts;
    o->addr.b[10] = o->addr.b[11] = 0xff;
    o->addr.b[12] = 10;
    o->addr.b[15] = last;
    snprintf(o->user, sizeof(o->user), "%s", user);
    snprintf(o->host, sizeof(o->host), "%s", host);
    snprintf(o->realm, sizeof(o->realm), "CORP.EXAMPLE");
    o->source = TL_ID_KERBEROS;
    return o;
}

static bool update(struct tl_identity_table *t, struct tl_identity_obs *o, uint64_t *capped)
{
    struct tl_identity now;
    bool changed = tl_identity_update(t, o, &now, capped);
    free(o);
    return changed;
}

static void test_changes(void)
{
    struct tl_identity_table *t = tl_identity_new(16, 3600000000ull);
    uint64_t capped = 0;
    uint8_t a1[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 };

    CHECK(update(t, obs(1000, 1, "alice", ""), &capped));  /* new address */
    CHECK(!update(t, obs(2000, 1, "alice", ""), &capped)); /* the same */
    CHECK(update(t, obs(3000, 1, "", "WS01$"), &capped));  /* a host joins */
    CHECK(!update(t, obs(2500, 1, "bob", ""), &capped));   /* older: ignored */
    CHECK(update(t, obs(4000, 1, "bob", ""), &capped));    /* another user */
    const struct tl_identity *e = tl_identity_lookup(t, a1, 5000);
    CHECK(e != NULL);
    if (e) {
        CHECK_STR(e->user, "bob");
        CHECK_STR(e->host, "WS01$");
        CHECK_STR(e->realm, "CORP.EXAMPLE");
        CHECK_EQ(e->first_seen, 1000);
        CHECK_EQ(e->last_seen, 4000);
    }
    CHECK(tl_identity_lookup(t, a1, 4000 + 3600000001ull) == NULL); /* expired */
    CHECK_EQ(capped, 0);
    tl_identity_free(t);
}

static void test_cap_evicts_least_recent(void)
{
    struct tl_identity_table *t = tl_identity_new(3, 0);
    uint64_t capped = 0;
    for (uint8_t i = 1; i <= 5; i++)
        update(t, obs(i * 1000, i, "u", ""), &capped);
    CHECK_EQ(tl_identity_count(t), 3);
    CHECK_EQ(capped, 2);
    uint8_t a1[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 1 };
    uint8_t a5[16] = { [10] = 0xff, [11] = 0xff, [12] = 10, [15] = 5 };
    CHECK(tl_identity_lookup(t, a1, 6000) == NULL);
    CHECK(tl_identity_lookup(t, a5, 6000) != NULL);
    tl_identity_free(t);
}

const struct tl_test tl_tests_identity[] = {
    { "changes", test_changes },
    { "cap_evicts_least_recent", test_cap_evicts_least_recent },
    { 0 },
};
