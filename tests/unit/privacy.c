/*
 * privacy.c - pseudonyms: HMAC-SHA-256 against RFC 4231 test case 2, a record
 * of every text kind rewritten in place (a full arena empties, never leaks),
 * the shipped list resolved against the real event types, and every setup
 * error naming what is wrong.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "dissect.h"
#include "domain.h"
#include "identity.h"
#include "privacy.h"

static char keyfile[64];

static void write_key(const char *text, size_t n)
{
    snprintf(keyfile, sizeof(keyfile), "/tmp/tapline-key-%d", (int)getpid());
    FILE *f = fopen(keyfile, "wb");
    CHECK(f && fwrite(text, 1, n, f) == n);
    if (f)
        fclose(f);
}

/* Opens with the key file and these settings; the reason into err when it fails. */
static struct tl_privacy *open_with(const char *list, const char *hexlen,
                                    const struct tl_event_type *const *types, size_t ntypes,
                                    char *err, size_t n)
{
    struct tl_config cfg;
    struct tl_privacy *pv = NULL;
    tl_config_defaults(&cfg);
    err[0] = '\0';
    /* a malformed list or length is refused where it is set, naming the option */
    if (tl_config_set(&cfg, "privacy.hmac_key_file", keyfile, err, n) < 0 ||
        (list && tl_config_set(&cfg, "privacy.pseudonymise", list, err, n) < 0) ||
        (hexlen && tl_config_set(&cfg, "privacy.pseudonym_hex_len", hexlen, err, n) < 0))
        ;
    else if (tl_privacy_open(&cfg, types, ntypes, &pv, err, n) != 0)
        CHECK(pv == NULL);
    tl_config_free(&cfg);
    return pv;
}

struct rec {
    uint64_t ts;
    struct tl_str s, empty;
    const char *c;
    char chars[TL_ID_NAME];
    struct tl_strlist list;
    uint64_t num;
    char small[24]; /* like flow.history: too small for a pseudonym */
};

static const struct tl_field rec_fields[] = {
    TL_FIELD(struct rec, ts, TS, "ts", "time"),
    TL_FIELD(struct rec, s, STR, "s", "a view"),
    TL_FIELD(struct rec, empty, STR, "empty", "an empty view"),
    TL_FIELD(struct rec, c, CSTR, "c", "a C string"),
    TL_FIELD(struct rec, chars, CHARS, "chars", "an array"),
    TL_FIELD(struct rec, list, STRLIST, "list", "a list"),
    TL_FIELD(struct rec, num, U64, "num", "a number"),
    TL_FIELD(struct rec, small, CHARS, "small", "a short array"),
};

static const struct tl_event_type rec_type = {
    .name = "test", .doc = "test", .fields = rec_fields, .nfields = TL_ARRAY_LEN(rec_fields)
};

/* RFC 4231 4.3: key "Jefe", data "what do ya want for nothing?". */
static void test_rfc4231(void)
{
    static const char want[] = "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843";
    const struct tl_event_type *types[] = { &rec_type };
    char err[256], out[TL_PSEUDONYM_MAX];

    write_key("Jefe\n", 5); /* the trailing newline is not part of the key */
    struct tl_privacy *pv = open_with("test.s", "64", types, 1, err, sizeof(err));
    CHECK(pv != NULL);
    if (pv) {
        CHECK_EQ(tl_privacy_pseudonym(pv, "what do ya want for nothing?", 28, out), 64);
        CHECK_STR(out, want);
        tl_privacy_free(pv);
    }
    write_key("Jefe\r\n", 6);
    pv = open_with("test.s", "32", types, 1, err, sizeof(err));
    CHECK(pv != NULL);
    if (pv) {
        CHECK_EQ(tl_privacy_pseudonym(pv, "what do ya want for nothing?", 28, out), 32);
        CHECK(strlen(out) == 32 && strncmp(out, want, 32) == 0);
        tl_privacy_free(pv);
    }
    unlink(keyfile);
}

static void test_rewrite(void)
{
    const struct tl_event_type *types[] = { &rec_type };
    char err[256], alice[TL_PSEUDONYM_MAX], bob[TL_PSEUDONYM_MAX], carol[TL_PSEUDONYM_MAX];
    uint8_t mem[4096];
    struct tl_arena a = { mem, 0, sizeof(mem), 0 };

    write_key("k3y", 3);
    struct tl_privacy *pv = open_with("test.s, test.empty,test.c,test.chars,test.list", NULL, types,
                                      1, err, sizeof(err));
    CHECK(pv != NULL);
    if (!pv)
        return;
    CHECK(tl_privacy_field(pv, "test", "chars"));
    CHECK(!tl_privacy_field(pv, "test", "num"));
    CHECK(!tl_privacy_field(NULL, "test", "s"));
    tl_privacy_pseudonym(pv, "alice", 5, alice);
    tl_privacy_pseudonym(pv, "bob", 3, bob);
    tl_privacy_pseudonym(pv, "carol", 5, carol);
    CHECK_EQ(strlen(alice), 32); /* the default length */
    CHECK(strcmp(alice, bob) != 0);

    const struct tl_str names[] = { { "bob", 3 }, { "", 0 }, { "carol", 5 } };
    struct rec r = { .ts = 1, .s = { "alice", 5 }, .c = "bob", .list = { names, 3 }, .num = 7 };
    snprintf(r.chars, sizeof(r.chars), "carol");
    tl_privacy_apply(pv, &rec_type, &r, &a);
    CHECK_MEM(r.s.ptr, r.s.len, alice);
    CHECK_EQ(r.empty.len, 0);
    CHECK_STR(r.c, bob);
    CHECK_STR(r.chars, carol);
    CHECK_EQ(r.list.n, 3);
    CHECK_MEM(r.list.v[0].ptr, r.list.v[0].len, bob);
    CHECK_EQ(r.list.v[1].len, 0);
    CHECK_MEM(r.list.v[2].ptr, r.list.v[2].len, carol);
    CHECK_STR(names[0].ptr, "bob"); /* the caller's list is not written to */
    CHECK_EQ(r.num, 7);

    /* A full arena: values become empty, never stay clear. */
    struct tl_arena tiny = { mem, 0, 8, 0 };
    struct rec q = { .s = { "alice", 5 }, .c = "bob", .list = { names, 3 } };
    tl_privacy_apply(pv, &rec_type, &q, &tiny);
    CHECK_EQ(q.s.len, 0);
    CHECK_STR(q.c, "");
    CHECK_EQ(q.list.n, 0);

    /* Without a key nothing changes. */
    struct rec clear = { .s = { "alice", 5 } };
    tl_privacy_apply(NULL, &rec_type, &clear, &a);
    CHECK_MEM(clear.s.ptr, clear.s.len, "alice");
    tl_privacy_free(pv);
    unlink(keyfile);
}

/* The shipped privacy.pseudonymise resolves against the real event types. */
static void test_default_list(void)
{
    const struct tl_event_type *types[] = { &tl_dns_event,   &tl_http_event,  &tl_kerberos_event,
                                            &tl_ldap_event,  &tl_socks_event, &tl_identity_event,
                                            &tl_domain_event };
    char err[256];
    write_key("another key", 11);
    struct tl_privacy *pv = open_with(NULL, NULL, types, TL_ARRAY_LEN(types), err, sizeof(err));
    if (!pv)
        fprintf(stderr, "  %s\n", err);
    CHECK(pv != NULL);
    CHECK(tl_privacy_field(pv, "identity", "user"));
    CHECK(tl_privacy_field(pv, "domain", "users"));
    CHECK(tl_privacy_field(pv, "kerberos", "client"));
    CHECK(tl_privacy_field(pv, "ldap", "bind_name"));
    CHECK(tl_privacy_field(pv, "http", "username"));
    CHECK(tl_privacy_field(pv, "socks", "user"));
    CHECK(!tl_privacy_field(pv, "http", "host"));

    struct tl_identity id = { .first_seen = 1, .last_seen = 2 };
    char want[TL_PSEUDONYM_MAX];
    uint8_t mem[256];
    struct tl_arena a = { mem, 0, sizeof(mem), 0 };
    snprintf(id.user, sizeof(id.user), "alice@CORP.EXAMPLE");
    tl_privacy_pseudonym(pv, id.user, strlen(id.user), want);
    tl_privacy_apply(pv, &tl_identity_event, &id, &a);
    CHECK_STR(id.user, want);
    tl_privacy_free(pv);
    unlink(keyfile);
}

static void test_errors(void)
{
    const struct tl_event_type *types[] = { &rec_type };
    struct tl_config cfg;
    struct tl_privacy *pv = (struct tl_privacy *)&cfg;
    char err[256];

    /* No key file configured: nothing to do, no error. */
    tl_config_defaults(&cfg);
    CHECK_EQ(tl_privacy_open(&cfg, types, 1, &pv, err, sizeof(err)), 0);
    CHECK(pv == NULL);
    tl_config_free(&cfg);

    snprintf(keyfile, sizeof(keyfile), "/nonexistent/key");
    CHECK(open_with("test.s", NULL, types, 1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "/nonexistent/key") != NULL);

    write_key("\n", 1);
    CHECK(open_with("test.s", NULL, types, 1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, keyfile) && strstr(err, "empty"));

    static char big[5000];
    memset(big, 'k', sizeof(big));
    write_key(big, sizeof(big));
    CHECK(open_with("test.s", NULL, types, 1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "longer than"));

    write_key("key", 3);
    CHECK(open_with("nosuch.s", NULL, types, 1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "nosuch.s") && strstr(err, "no such event type"));
    CHECK(open_with("test.nosuch", NULL, types, 1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "test.nosuch") && strstr(err, "no field 'nosuch'"));
    CHECK(open_with("test", NULL, types, 1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "'test'"));
    CHECK(open_with("test.num", NULL, types, 1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "test.num") && strstr(err, "not a text field"));
    CHECK(open_with("test.s", "7", types, 1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "privacy.pseudonym_hex_len") && strstr(err, "'7' is out of range (8 to 64)"));
    CHECK(open_with("test.s", "65", types, 1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "'65' is out of range"));
    /* an array rewritten in place must hold the pseudonym: 23 characters hold 8 hex digits,
     * not 32 (it once took them and wrote past its end) */
    CHECK(open_with("test.small", "32", types, 1, err, sizeof(err)) == NULL);
    CHECK(strstr(err, "'test.small' holds 23 characters, too few"));
    pv = open_with("test.small", "8", types, 1, err, sizeof(err));
    CHECK(pv != NULL);
    tl_privacy_free(pv);
    pv = open_with("", "8", types, 1, err, sizeof(err)); /* a key, nothing listed */
    CHECK(pv != NULL);
    tl_privacy_free(pv);
    unlink(keyfile);
}

const struct tl_test tl_tests_privacy[] = {
    { "rfc4231", test_rfc4231 },
    { "rewrite", test_rewrite },
    { "default_list", test_default_list },
    { "errors", test_errors },
    { NULL, NULL },
};
