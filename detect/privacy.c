/*
 * privacy.c - user names as keyed pseudonyms (see privacy.h).
 *
 * A pseudonym is HMAC-SHA-256 (RFC 2104, FIPS 180-4) of the name's bytes under
 * the key, in lower-case hex, cut to privacy.pseudonym_hex_len digits (8..64).
 * The key is the key file's bytes, one trailing newline (LF or CRLF) removed so
 * that `echo secret > key` and `printf secret > key` give the same key; at most
 * PV_MAX_KEY bytes. OpenSSL's one-shot HMAC() keeps no state between calls, so
 * workers apply one shared struct tl_privacy at once.
 *
 * Rewritten in place: STR and CSTR values point to the pseudonym in the
 * record's arena; STRLIST values get a new array of pseudonyms there; CHARS
 * arrays are overwritten, so a CHARS field is taken only when its array (the
 * field's aux) holds the pseudonym; the user fields do (TL_ID_NAME). When the
 * arena is full the value becomes empty: a clear name is never left behind.
 */
#include <errno.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config.h"
#include "privacy.h"

enum { PV_MAX_KEY = 4096, PV_MIN_HEX = 8, PV_MAX_HEX = 64 };

struct pv_target {
    const struct tl_event_type *type;
    const struct tl_field *field;
};

struct tl_privacy {
    unsigned char key[PV_MAX_KEY];
    size_t keylen;
    size_t hexlen;
    struct pv_target *targets;
    size_t ntargets;
};

static int pv_read_key(struct tl_privacy *pv, const char *path, char *errbuf, size_t n)
{
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(errbuf, n, "privacy.hmac_key_file %s: %s", path, strerror(errno));
        return -1;
    }
    size_t len = fread(pv->key, 1, sizeof(pv->key), f);
    int more = fgetc(f), failed = ferror(f);
    fclose(f);
    if (failed) {
        snprintf(errbuf, n, "privacy.hmac_key_file %s: read error", path);
        return -1;
    }
    if (more != EOF) {
        snprintf(errbuf, n, "privacy.hmac_key_file %s: longer than %d bytes", path, PV_MAX_KEY);
        return -1;
    }
    if (len && pv->key[len - 1] == '\n')
        len--;
    if (len && pv->key[len - 1] == '\r')
        len--;
    if (len == 0) {
        snprintf(errbuf, n, "privacy.hmac_key_file %s: empty", path);
        return -1;
    }
    pv->keylen = len;
    return 0;
}

static bool pv_text(const struct tl_field *f)
{
    return f->type == TL_F_STR || f->type == TL_F_STRLIST || f->type == TL_F_CHARS ||
           f->type == TL_F_CSTR;
}

/* Resolves one "type.field" (the type's name has no dot; the field's may). */
static int pv_resolve(struct tl_privacy *pv, const char *item,
                      const struct tl_event_type *const *types, size_t ntypes, char *errbuf,
                      size_t n)
{
    const char *dot = strchr(item, '.');
    const struct tl_event_type *t = NULL;
    const struct tl_field *f = NULL;

    for (size_t i = 0; dot && i < ntypes && !t; i++)
        if (strlen(types[i]->name) == (size_t)(dot - item) &&
            memcmp(types[i]->name, item, (size_t)(dot - item)) == 0)
            t = types[i];
    if (!t) {
        snprintf(errbuf, n, "privacy.pseudonymise: '%s': no such event type", item);
        return -1;
    }
    for (size_t i = 0; i < t->nfields && !f; i++)
        if (strcmp(t->fields[i].name, dot + 1) == 0)
            f = &t->fields[i];
    if (!f) {
        snprintf(errbuf, n, "privacy.pseudonymise: '%s': %s has no field '%s'", item, t->name,
                 dot + 1);
        return -1;
    }
    if (!pv_text(f)) {
        snprintf(errbuf, n, "privacy.pseudonymise: '%s' is not a text field", item);
        return -1;
    }
    /* a CHARS array is rewritten in place: the pseudonym must fit (aux is its size) */
    if (f->type == TL_F_CHARS && ((f->flags & TL_FF_IF) || f->aux < pv->hexlen + 1)) {
        snprintf(errbuf, n,
                 "privacy.pseudonymise: '%s' holds %u characters, too few for a pseudonym of "
                 "privacy.pseudonym_hex_len %zu",
                 item, f->flags & TL_FF_IF ? 0u : (unsigned)f->aux - 1, pv->hexlen);
        return -1;
    }
    pv->targets[pv->ntargets++] = (struct pv_target){ t, f };
    return 0;
}

static int pv_targets(struct tl_privacy *pv, const char *list,
                      const struct tl_event_type *const *types, size_t ntypes, char *errbuf,
                      size_t n)
{
    char *copy = strdup(list ? list : ""), *save = NULL;
    size_t items = 1;
    int rc = 0;

    for (const char *p = copy; p && *p; p++)
        items += *p == ',' || *p == ' ' || *p == '\t';
    pv->targets = calloc(items, sizeof(*pv->targets));
    if (!copy || !pv->targets) {
        free(copy);
        snprintf(errbuf, n, "privacy: out of memory");
        return -1;
    }
    for (char *tok = strtok_r(copy, ", \t", &save); tok && rc == 0;
         tok = strtok_r(NULL, ", \t", &save))
        rc = pv_resolve(pv, tok, types, ntypes, errbuf, n);
    free(copy);
    return rc;
}

int tl_privacy_open(const struct tl_config *cfg, const struct tl_event_type *const *types,
                    size_t ntypes, struct tl_privacy **out, char *errbuf, size_t n)
{
    struct tl_privacy *pv;

    *out = NULL;
    if (!cfg->hmac_key_file || !*cfg->hmac_key_file)
        return 0;
    if (cfg->pseudonym_len < PV_MIN_HEX || cfg->pseudonym_len > PV_MAX_HEX) {
        snprintf(errbuf, n, "privacy.pseudonym_hex_len %llu: must be %d to %d",
                 (unsigned long long)cfg->pseudonym_len, PV_MIN_HEX, PV_MAX_HEX);
        return -1;
    }
    if (!(pv = calloc(1, sizeof(*pv)))) {
        snprintf(errbuf, n, "privacy: out of memory");
        return -1;
    }
    pv->hexlen = cfg->pseudonym_len;
    if (pv_read_key(pv, cfg->hmac_key_file, errbuf, n) != 0 ||
        pv_targets(pv, cfg->pseudonymise, types, ntypes, errbuf, n) != 0) {
        tl_privacy_free(pv);
        return -1;
    }
    *out = pv;
    return 0;
}

void tl_privacy_free(struct tl_privacy *pv)
{
    if (!pv)
        return;
    OPENSSL_cleanse(pv->key, sizeof(pv->key));
    free(pv->targets);
    free(pv);
}

bool tl_privacy_field(const struct tl_privacy *pv, const char *type, const char *field)
{
    for (size_t i = 0; pv && i < pv->ntargets; i++)
        if (strcmp(pv->targets[i].type->name, type) == 0 &&
            strcmp(pv->targets[i].field->name, field) == 0)
            return true;
    return false;
}

size_t tl_privacy_pseudonym(const struct tl_privacy *pv, const char *name, size_t n,
                            char out[TL_PSEUDONYM_MAX])
{
    static const char hex[] = "0123456789abcdef";
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned mdlen = 0;

    out[0] = '\0';
    if (!HMAC(EVP_sha256(), pv->key, (int)pv->keylen, (const unsigned char *)name, n, md, &mdlen) ||
        mdlen * 2 < pv->hexlen)
        return 0;
    for (size_t i = 0; i < pv->hexlen; i++)
        out[i] = hex[(md[i / 2] >> (i % 2 ? 0 : 4)) & 15];
    out[pv->hexlen] = '\0';
    return pv->hexlen;
}

/* The pseudonym of n bytes as a string in the arena; empty when the arena is full. */
static struct tl_str pv_arena_pseudonym(const struct tl_privacy *pv, const char *name, size_t n,
                                        struct tl_arena *a)
{
    char tmp[TL_PSEUDONYM_MAX];
    struct tl_str s = { "", 0 };
    size_t len = n ? tl_privacy_pseudonym(pv, name, n, tmp) : 0;
    char *q = len ? tl_arena_alloc(a, len + 1) : NULL;
    if (q) {
        memcpy(q, tmp, len + 1);
        s.ptr = q;
        s.len = len;
    }
    return s;
}

static void pv_rewrite(const struct tl_privacy *pv, const struct tl_field *f, void *rec,
                       struct tl_arena *a)
{
    char *p = (char *)rec + f->off;

    switch (f->type) {
    case TL_F_STR: {
        struct tl_str s;
        memcpy(&s, p, sizeof(s));
        if (s.len) {
            s = pv_arena_pseudonym(pv, s.ptr, s.len, a);
            memcpy(p, &s, sizeof(s));
        }
        break;
    }
    case TL_F_CSTR: {
        const char *c;
        memcpy(&c, p, sizeof(c));
        if (c && *c) {
            c = pv_arena_pseudonym(pv, c, strlen(c), a).ptr;
            memcpy(p, &c, sizeof(c));
        }
        break;
    }
    case TL_F_CHARS:
        if (*p) {
            char tmp[TL_PSEUDONYM_MAX];
            size_t len = tl_privacy_pseudonym(pv, p, strlen(p), tmp);
            memcpy(p, tmp, len + 1);
        }
        break;
    case TL_F_STRLIST: {
        struct tl_strlist l;
        memcpy(&l, p, sizeof(l));
        struct tl_str *v = l.n ? tl_arena_alloc(a, l.n * sizeof(*v)) : NULL;
        for (uint32_t i = 0; v && i < l.n; i++)
            v[i] = pv_arena_pseudonym(pv, l.v[i].ptr, l.v[i].len, a);
        l.v = v;
        l.n = v ? l.n : 0;
        memcpy(p, &l, sizeof(l));
        break;
    }
    default: break;
    }
}

/* The field of t named like the target's: the target's own when t is its type. */
static const struct tl_field *pv_field_of(const struct pv_target *tg, const struct tl_event_type *t)
{
    if (tg->type == t)
        return tg->field;
    if (strcmp(tg->type->name, t->name) != 0)
        return NULL;
    for (size_t i = 0; i < t->nfields; i++) /* same name, another table: its own offsets */
        if (strcmp(t->fields[i].name, tg->field->name) == 0 && pv_text(&t->fields[i]))
            return &t->fields[i];
    return NULL;
}

void tl_privacy_apply(const struct tl_privacy *pv, const struct tl_event_type *t, void *rec,
                      struct tl_arena *a)
{
    for (size_t i = 0; pv && i < pv->ntargets; i++) {
        const struct tl_field *f = pv_field_of(&pv->targets[i], t);
        if (f)
            pv_rewrite(pv, f, rec, a);
    }
}
