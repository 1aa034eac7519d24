/*
 * schemadoc.c - the field tables as a JSON Schema and a data sheet: the schema
 * is one strict JSON document with every field of every type, personal fields
 * marked; every fixed set names a real field; the default pseudonyms are all
 * personal fields the pseudonymiser can rewrite; unknown types are refused.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "config.h"
#include "jsonread.h"
#include "pipeline.h"
#include "schemadoc.h"

struct types {
    const struct tl_event_type *t[TL_MAX_EVENT_TYPES];
    size_t n;
};

static struct types all_types(void)
{
    struct types ts;
    ts.n = tl_event_types(ts.t, TL_MAX_EVENT_TYPES);
    return ts;
}

static const struct tl_field *find_field(const struct tl_event_type *t, const char *name)
{
    for (const struct tl_event_type *ft = t; ft; ft = ft->ext)
        for (size_t j = 0; j < ft->nfields; j++)
            if (strcmp(ft->fields[j].name, name) == 0)
                return &ft->fields[j];
    return NULL;
}

static const struct tl_event_type *find_type(const struct types *ts, const char *name)
{
    for (size_t i = 0; i < ts->n; i++)
        if (strcmp(ts->t[i]->name, name) == 0)
            return ts->t[i];
    return NULL;
}

static void test_enums_name_fields(void)
{
    struct types ts = all_types();
    size_t found = 0;
    for (size_t i = 0; i < ts.n; i++)
        for (const struct tl_event_type *ft = ts.t[i]; ft; ft = ft->ext)
            for (size_t j = 0; j < ft->nfields; j++) {
                const char *const *v = tl_schemadoc_enum(ts.t[i]->name, ft->fields[j].name);
                if (!v)
                    continue;
                found++;
                CHECK(ft->fields[j].type == TL_F_CSTR || ft->fields[j].type == TL_F_STR);
                CHECK(v[0] != NULL);
            }
    CHECK_EQ(found, tl_schemadoc_enum_count());
}

/* Keys are written as they are when their length is known (TL_FNAME): such a name must be
 * its length and need no JSON escape. Only the stats event's per-dissector counters are
 * named at run time. */
static void test_names_plain(void)
{
    struct types ts = all_types();
    size_t known = 0, unknown = 0;
    for (size_t i = 0; i < ts.n; i++)
        for (const struct tl_event_type *ft = ts.t[i]; ft; ft = ft->ext)
            for (size_t j = 0; j < ft->nfields; j++) {
                const struct tl_field *f = &ft->fields[j];
                if (!f->name_len) {
                    unknown++;
                    CHECK_STR(ts.t[i]->name, "stats");
                    continue;
                }
                known++;
                CHECK_EQ(f->name_len, strlen(f->name));
                CHECK_EQ(strspn(f->name, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ"
                                         "0123456789_.-"),
                         f->name_len);
            }
    CHECK(known > 300);
    CHECK(unknown > 0);
}

struct props {
    const struct tl_event_type *type;
    unsigned seen, personal, bad;
};

static bool check_prop(void *arg, const struct tl_jval *key, const struct tl_jval *val)
{
    struct props *p = arg;
    char name[64];
    tl_jread_str(key, name, sizeof(name));
    p->seen++;
    if (strcmp(name, "event_type") == 0 || strcmp(name, "sensor") == 0)
        return true;
    const struct tl_field *f = find_field(p->type, name);
    bool marked = val->text.len && memmem(val->text.ptr, val->text.len, "\"x-personal\":true", 17);
    if (!f || marked != ((f->flags & TL_FF_PERSONAL) != 0))
        p->bad++;
    p->personal += marked;
    return true;
}

struct lookup {
    const char *name;
    struct tl_jval val;
    bool found;
};

static bool find_member(void *arg, const struct tl_jval *key, const struct tl_jval *val)
{
    struct lookup *l = arg;
    if (!tl_jread_streq(key, l->name))
        return true;
    l->val = *val;
    l->found = true;
    return false;
}

/* The member named name of obj, into *out; false when absent. */
static bool member(const struct tl_jval *obj, const char *name, struct tl_jval *out)
{
    struct lookup l = { .name = name, .found = false };
    tl_jread_members(obj, find_member, &l);
    if (l.found)
        *out = l.val;
    return l.found;
}

static void test_json_schema(void)
{
    struct types ts = all_types();
    char *buf = NULL, err[256];
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    struct tl_jval root, defs, def, props;

    CHECK_EQ(tl_schemadoc_json(f, ts.t, ts.n, NULL, err, sizeof(err)), 0);
    fclose(f);
    CHECK(tl_jread_object(buf, len, &root));
    CHECK(member(&root, "$defs", &defs));
    for (size_t i = 0; i < ts.n; i++) {
        struct props p = { ts.t[i], 0, 0, 0 };
        unsigned nf = 2, np = 0;
        CHECK(member(&defs, ts.t[i]->name, &def));
        CHECK(member(&def, "properties", &props));
        tl_jread_members(&props, check_prop, &p);
        for (const struct tl_event_type *ft = ts.t[i]; ft; ft = ft->ext)
            for (size_t j = 0; j < ft->nfields; j++) {
                nf++;
                np += (ft->fields[j].flags & TL_FF_PERSONAL) != 0;
            }
        CHECK_EQ(p.seen, nf); /* names are unique: a duplicate would be seen twice */
        CHECK_EQ(p.personal, np);
        CHECK_EQ(p.bad, 0);
    }
    free(buf);

    /* One type alone is a document of its own. */
    buf = NULL;
    f = open_memstream(&buf, &len);
    CHECK_EQ(tl_schemadoc_json(f, ts.t, ts.n, "identity", err, sizeof(err)), 0);
    fclose(f);
    CHECK(tl_jread_object(buf, len, &root));
    CHECK(member(&root, "properties", &props));
    CHECK(member(&props, "user", &def));
    CHECK(memmem(def.text.ptr, def.text.len, "\"x-pseudonymisable\":true", 24) != NULL);
    CHECK(member(&props, "source", &def));
    CHECK(memmem(def.text.ptr, def.text.len, "\"enum\":[\"kerberos\",\"ldap\"]", 26) != NULL);
    CHECK(!member(&root, "$defs", &def));
    free(buf);
}

static void test_unknown_type(void)
{
    struct types ts = all_types();
    char err[256] = "";
    FILE *f = fopen("/dev/null", "w");
    CHECK_EQ(tl_schemadoc_text(f, ts.t, ts.n, "flows", err, sizeof(err)), -1);
    CHECK(strstr(err, "no event type 'flows' (known: flow tls dns") != NULL);
    CHECK_EQ(tl_schemadoc_json(f, ts.t, ts.n, "", err, sizeof(err)), -1);
    CHECK_EQ(tl_schemadoc_text(f, ts.t, ts.n, "dns", err, sizeof(err)), 0);
    fclose(f);
}

static void test_pseudonymisable(void)
{
    struct types ts = all_types();
    static const struct {
        const char *type, *field;
        bool yes;
    } cases[] = {
        { "identity", "user", true },   { "identity", "addr", false },
        { "flow", "id.orig_h", false }, { "flow", "community_id", false },
        { "dns", "query", true },       { "http", "proxied", true },
        { "domain", "users", true },    { "domain", "hosts", false },
        { "alert", "matched", false },  { "kerberos", "client", true },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        const struct tl_event_type *t = find_type(&ts, cases[i].type);
        const struct tl_field *f = t ? find_field(t, cases[i].field) : NULL;
        CHECK(f != NULL);
        if (f && tl_schemadoc_pseudonymisable(t, f) != cases[i].yes)
            tl_check_report(__FILE__, __LINE__, "%s.%s", cases[i].type, cases[i].field);
        if (f)
            CHECK(f->flags & TL_FF_PERSONAL);
    }
}

/* Each field pseudonymised by default is personal, and one the pseudonymiser rewrites. */
static void test_default_pseudonyms(void)
{
    struct types ts = all_types();
    struct tl_config cfg;
    tl_config_defaults(&cfg);
    char *list = strdup(cfg.pseudonymise), *save = NULL;
    unsigned n = 0;
    for (char *tok = strtok_r(list, ",", &save); tok; tok = strtok_r(NULL, ",", &save), n++) {
        char *dot = strchr(tok, '.');
        CHECK(dot != NULL);
        if (!dot)
            continue;
        *dot = '\0';
        const struct tl_event_type *t = find_type(&ts, tok);
        const struct tl_field *f = t ? find_field(t, dot + 1) : NULL;
        if (!f || !(f->flags & TL_FF_PERSONAL) || !tl_schemadoc_pseudonymisable(t, f))
            tl_check_report(__FILE__, __LINE__, "default pseudonym %s.%s", tok, dot + 1);
    }
    CHECK(n >= 5);
    free(list);
    tl_config_free(&cfg);
}

static void test_sheet(void)
{
    struct types ts = all_types();
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);

    tl_schemadoc_sheet(f, ts.t, ts.n, "kerberos.client");
    fclose(f);
    for (size_t i = 0; i < ts.n; i++) {
        char head[64];
        snprintf(head, sizeof(head), "\n## %s\n", ts.t[i]->name);
        CHECK(strstr(buf, head) != NULL);
    }
    CHECK(strstr(buf, "| `client` | string | client principal name") != NULL);
    CHECK(strstr(buf, "pseudonymised once `privacy.hmac_key_file` is set (`kerberos.client`") !=
          NULL);
    CHECK(strstr(buf, "pseudonymise: add `ldap.bind_name` to `privacy.pseudonymise`") != NULL);
    CHECK(strstr(buf, "| `addr` | addr | the address | **yes** | not pseudonymisable: drop "
                      "`identity` events |") != NULL);
    CHECK(strstr(buf, "| `orig_pkts` | uint64 | packets from the originator | no |  |") != NULL);
    free(buf);
}

const struct tl_test tl_tests_schemadoc[] = {
    { "enums_name_fields", test_enums_name_fields },
    { "names_plain", test_names_plain },
    { "json_schema", test_json_schema },
    { "unknown_type", test_unknown_type },
    { "pseudonymisable", test_pseudonymisable },
    { "default_pseudonyms", test_default_pseudonyms },
    { "sheet", test_sheet },
    { 0 },
};
