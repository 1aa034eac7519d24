/*
 * compile.c - a Sigma `detection` into tests, patterns and nodes for one event
 * type (see sigma.h): field names through the alias table, values through the
 * modifiers, the condition through condition.c.
 *
 * Sigma specification 2.0/2.1 (with 2.2's re sub-modifiers). A mapping is an
 * AND of its fields, a list of mappings an OR, a list of plain values a
 * keyword search over every text value of the event. Values compare without
 * regard to ASCII case unless `cased` (or an encoding that makes case
 * meaningful: base64). A plain `null` means the field is absent; '' is an
 * empty value. Every pattern is built here, once; nothing is parsed at match
 * time.
 */
#include <arpa/inet.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ac.h"
#include "sigma.h"
#include "ytree.h"

enum {
    CC_MAX_EXPAND = 4096, /* patterns one value may become (windash, expand, base64offset) */
    CC_REGEX_ERR = 256,
};

/*
 * W3C extended log format (SigmaHQ's proxy and webserver rules), ECS and
 * other names SigmaHQ rules use, and the tapline/Zeek field each stands for.
 * A name the event type has itself always wins; an alias applies only to the
 * types that have its target.
 */
static const struct cc_alias {
    const char *name, *target;
} cc_aliases[] = {
    /* proxy and webserver (http events) */
    { "c-uri", "uri" },             /* request target as sent (absolute for proxies) */
    { "cs-uri", "uri" },            /* the same */
    { "cs-uri-query", "uri" },      /* SigmaHQ's webserver rules test paths here too */
    { "c-uri-query", "uri_query" }, /* after '?' */
    { "c-uri-stem", "uri_path" },   /* before '?' */
    { "cs-uri-stem", "uri_path" },  /* the same */
    { "c-uri-extension", "uri_extension" },
    { "c-useragent", "user_agent" },
    { "cs-user-agent", "user_agent" },
    { "cs-host", "host" },
    { "r-dns", "host" },
    { "cs-method", "method" },
    { "cs-referer", "referrer" },
    { "cs-referrer", "referrer" },
    { "cs-username", "username" },
    { "cs-content-type", "request_content_type" },
    { "rs-content-type", "response_content_type" },
    { "sc-status", "status_code" },
    { "cs-version", "version" },
    { "cs-bytes", "request_body_len" },
    { "sc-bytes", "response_body_len" },
    { "c-ip", "id.orig_h" },
    { "s-ip", "id.resp_h" },
    { "s-port", "id.resp_p" },
    /* firewall and generic network names (every flow-like event) */
    { "src_ip", "id.orig_h" },
    { "dst_ip", "id.resp_h" },
    { "src_port", "id.orig_p" },
    { "dst_port", "id.resp_p" },
    /* dns category */
    { "record_type", "qtype_name" },
    { "answer", "answers" },
    { "response_code", "rcode_name" },
    { "ttl", "TTLs" },
    /* ECS */
    { "source.ip", "id.orig_h" },
    { "source.port", "id.orig_p" },
    { "destination.ip", "id.resp_h" },
    { "destination.port", "id.resp_p" },
    { "network.transport", "proto" },
    { "network.community_id", "community_id" },
    { "dns.question.name", "query" },
    { "dns.question.type", "qtype_name" },
    { "dns.answers.data", "answers" },
    { "dns.answers.ttl", "TTLs" },
    { "dns.response_code", "rcode_name" },
    { "dns.id", "trans_id" },
    { "url.original", "uri" },
    { "url.full", "url" },
    { "url.path", "uri_path" },
    { "url.query", "uri_query" },
    { "url.extension", "uri_extension" },
    { "url.domain", "host" },
    { "http.request.method", "method" },
    { "http.request.referrer", "referrer" },
    { "http.request.mime_type", "request_content_type" },
    { "http.request.body.bytes", "request_body_len" },
    { "http.response.status_code", "status_code" },
    { "http.response.mime_type", "response_content_type" },
    { "http.response.body.bytes", "response_body_len" },
    { "user_agent.original", "user_agent" },
    /* Windows LDAP client events (rules/windows/builtin/ldap) on ldap events */
    { "SearchFilter", "filter" },
    { "DistinguishedName", "base_object" },
    { "AttributeList", "attributes" },
    { "SearchScope", "scope" },
};

/* Fields computed from http's host and uri (see match.c). */
static const struct {
    const char *name;
    enum sg_slot_kind kind;
} cc_derived[] = {
    { "url", SLOT_URL },
    { "uri_path", SLOT_URI_PATH },
    { "uri_query", SLOT_URI_QUERY },
    { "uri_extension", SLOT_URI_EXT },
    { "host_is_ip", SLOT_HOST_IS_IP },
};

/* Patterns by content while loading: rules that test the same value share one pattern. */
struct sg_intern {
    struct cc_ientry {
        uint8_t *key;
        size_t len;
        uint32_t pid;
    } * e;
    size_t cap, n;
};

struct cc {
    struct sg_cc *o;
    struct sg_type *ty;
    const struct sg_phs *ph;
    unsigned *line;
    char *reason;
    size_t n;
    enum sg_cc_rc rc;
    const char **ids;
    const struct yt_node **idval;
    uint32_t *idnode;
    size_t nids;
    bool dry; /* the field is unknown: check values, register nothing */
};

int sg_grow(void **p, uint32_t *cap, uint32_t need, size_t size)
{
    if (need <= *cap)
        return 0;
    uint32_t c = *cap ? *cap : 8;
    while (c < need) {
        if (c > UINT32_MAX / 2)
            return -1;
        c *= 2;
    }
    void *q = realloc(*p, (size_t)c * size);
    if (!q)
        return -1;
    *p = q;
    *cap = c;
    return 0;
}

static int cc_err(struct cc *c, enum sg_cc_rc rc, unsigned line, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

/* Records the first failure: REJECTED wins over INACTIVE. Returns -1. */
static int cc_err(struct cc *c, enum sg_cc_rc rc, unsigned line, const char *fmt, ...)
{
    if (c->rc == CC_REJECTED || (c->rc == CC_INACTIVE && rc == CC_INACTIVE))
        return -1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(c->reason, c->n, fmt, ap);
    va_end(ap);
    *c->line = line;
    c->rc = rc;
    return -1;
}

static int cc_oom(struct cc *c, unsigned line)
{
    return cc_err(c, CC_REJECTED, line, "out of memory");
}

/* ---- slots ---- */

static bool cc_numeric(const struct tl_field *f)
{
    switch (f->type) {
    case TL_F_U8:
    case TL_F_U16:
    case TL_F_U32:
    case TL_F_U64:
    case TL_F_DUR:
    case TL_F_F64:
    case TL_F_HEX32:
    case TL_F_U16LIST:
    case TL_F_U64LIST: return true;
    default: return false;
    }
}

static uint32_t cc_slot_add(struct sg_type *ty, const struct sg_slot *want)
{
    for (uint32_t i = 0; i < ty->nslots; i++) {
        const struct sg_slot *s = &ty->slots[i];
        if (s->kind == want->kind && s->ref.f == want->ref.f && s->ref.in_ext == want->ref.in_ext)
            return i;
    }
    if (sg_grow((void **)&ty->slots, &ty->capslots, ty->nslots + 1, sizeof(*ty->slots)))
        return UINT32_MAX;
    ty->slots[ty->nslots] = *want;
    return ty->nslots++;
}

static uint32_t cc_slot_field(struct sg_type *ty, const char *name)
{
    struct sg_slot s = { .kind = SLOT_FIELD };
    if (!tl_view_find(ty->t, name, &s.ref))
        return UINT32_MAX;
    s.late = (s.ref.f->flags & TL_FF_LATE) != 0;
    s.numeric = cc_numeric(s.ref.f);
    s.name = s.ref.f->name;
    return cc_slot_add(ty, &s);
}

static uint32_t cc_slot_derived(struct sg_type *ty, const char *name)
{
    for (size_t i = 0; i < TL_ARRAY_LEN(cc_derived); i++) {
        if (strcmp(name, cc_derived[i].name) != 0)
            continue;
        struct sg_slot s = { .kind = (uint8_t)cc_derived[i].kind, .name = cc_derived[i].name };
        if (!tl_view_find(ty->t, "host", &s.host) || !tl_view_find(ty->t, "uri", &s.uri))
            return UINT32_MAX;
        s.late = ((s.host.f->flags | s.uri.f->flags) & TL_FF_LATE) != 0;
        return cc_slot_add(ty, &s);
    }
    return UINT32_MAX;
}

uint32_t sg_slot_resolve(struct sg_type *ty, const char *name)
{
    uint32_t s = cc_slot_field(ty, name);
    if (s == UINT32_MAX)
        s = cc_slot_derived(ty, name);
    for (size_t i = 0; s == UINT32_MAX && i < TL_ARRAY_LEN(cc_aliases); i++)
        if (strcmp(name, cc_aliases[i].name) == 0) {
            s = cc_slot_field(ty, cc_aliases[i].target);
            if (s == UINT32_MAX)
                s = cc_slot_derived(ty, cc_aliases[i].target);
        }
    return s;
}

static uint32_t cc_slot_keywords(struct sg_type *ty)
{
    struct sg_slot s = { .kind = SLOT_KEYWORDS, .name = "keywords" };
    return cc_slot_add(ty, &s);
}

/* ---- patterns ---- */

static uint64_t cc_hash(const uint8_t *p, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ p[i]) * 1099511628211ull;
    return h;
}

/* The pattern with this key, or a new slot for it: *found says which. -1 on memory. */
static int cc_intern(struct sg_type *ty, const uint8_t *key, size_t len, uint32_t **pid,
                     bool *found)
{
    struct sg_intern *in = ty->intern;
    if (!in && !(in = ty->intern = calloc(1, sizeof(*in))))
        return -1;
    if (in->n * 2 >= in->cap) {
        size_t cap = in->cap ? in->cap * 2 : 256;
        struct cc_ientry *e = calloc(cap, sizeof(*e));
        if (!e)
            return -1;
        for (size_t i = 0; i < in->cap; i++)
            if (in->e[i].key) {
                size_t j = cc_hash(in->e[i].key, in->e[i].len) & (cap - 1);
                while (e[j].key)
                    j = (j + 1) & (cap - 1);
                e[j] = in->e[i];
            }
        free(in->e);
        in->e = e;
        in->cap = cap;
    }
    size_t j = cc_hash(key, len) & (in->cap - 1);
    for (; in->e[j].key; j = (j + 1) & (in->cap - 1))
        if (in->e[j].len == len && memcmp(in->e[j].key, key, len) == 0) {
            *pid = &in->e[j].pid;
            *found = true;
            return 0;
        }
    if (!(in->e[j].key = malloc(len ? len : 1)))
        return -1;
    memcpy(in->e[j].key, key, len);
    in->e[j].len = len;
    in->e[j].pid = UINT32_MAX;
    in->n++;
    *pid = &in->e[j].pid;
    *found = false;
    return 0;
}

static void cc_intern_free(struct sg_intern *in)
{
    if (!in)
        return;
    for (size_t i = 0; i < in->cap; i++)
        free(in->e[i].key);
    free(in->e);
    free(in);
}

/* The identity of a pattern as bytes: fixed header, then its text or tokens. */
static int cc_key(uint8_t **key, size_t *klen, const struct sg_pat *p, const void *body,
                  size_t blen)
{
    uint8_t hdr[4 + 4 + sizeof(double) + 17];
    memcpy(hdr, &p->slot, 4);
    hdr[4] = p->kind;
    hdr[5] = p->anchor;
    hdr[6] = p->cased;
    hdr[7] = p->cmp;
    memcpy(hdr + 8, &p->num, sizeof(double));
    memcpy(hdr + 8 + sizeof(double), p->net, 16);
    hdr[8 + sizeof(double) + 16] = p->bits;
    *klen = sizeof(hdr) + blen;
    if (!(*key = malloc(*klen)))
        return -1;
    memcpy(*key, hdr, sizeof(hdr));
    if (blen)
        memcpy(*key + sizeof(hdr), body, blen);
    return 0;
}

/* Registers p (its buffers taken on success or failure) with identity body; its pid. */
static int cc_pat_add(struct cc *c, struct sg_pat *p, const void *body, size_t blen, unsigned line,
                      uint32_t *pid)
{
    struct sg_type *ty = c->ty;
    uint8_t *key = NULL;
    size_t klen;
    uint32_t *slot;
    bool found;

    if (cc_key(&key, &klen, p, body, blen) || cc_intern(ty, key, klen, &slot, &found))
        goto oom;
    free(key);
    key = NULL;
    if (found) {
        free(p->lit);
        free(p->glob);
        if (p->re)
            pcre2_code_free(p->re);
        *pid = *slot;
        return 0;
    }
    if (sg_grow((void **)&ty->pats, &ty->cappats, ty->npats + 1, sizeof(*ty->pats)))
        goto oom;
    ty->pats[ty->npats] = *p;
    *slot = *pid = ty->npats++;
    return 0;
oom:
    free(key);
    free(p->lit);
    free(p->glob);
    if (p->re)
        pcre2_code_free(p->re);
    return cc_oom(c, line);
}

static uint8_t cc_lower(uint16_t ch)
{
    return (uint8_t)(ch >= 'A' && ch <= 'Z' ? ch + 32 : ch);
}

/* A token string as a pattern of slot: literal with anchoring, glob, any, empty, number. */
static int cc_classify(struct cc *c, uint32_t slot, const struct sg_tok *t, bool cased,
                       unsigned line, uint32_t *pid)
{
    struct sg_pat p = { .slot = slot, .cased = cased };
    size_t lead = 0, trail = 0, n = t->n;
    bool inner_wild = false;

    if (c->dry)
        return 0;
    while (lead < n && t->t[lead] == SG_STAR)
        lead++;
    while (trail < n - lead && t->t[n - 1 - trail] == SG_STAR)
        trail++;
    for (size_t i = lead; i < n - trail; i++)
        inner_wild |= t->t[i] > 255;
    if (n == 0) {
        p.kind = PK_EMPTY;
        return cc_pat_add(c, &p, NULL, 0, line, pid);
    }
    if (lead == n) {
        p.kind = PK_ANY;
        return cc_pat_add(c, &p, NULL, 0, line, pid);
    }
    if (inner_wild) {
        /* the longest literal run: a value that lacks it cannot match (a trigger) */
        size_t best = 0, blen = 0;
        for (size_t i = 0, run = 0; i <= n; i++) {
            if (i < n && t->t[i] <= 255) {
                run++;
                continue;
            }
            if (run > blen) {
                blen = run;
                best = i - run;
            }
            run = 0;
        }
        if (blen) {
            struct sg_tok lit = { t->t + best, blen, blen };
            struct sg_tok wrapped = { 0 };
            uint32_t aux;
            if (sg_tok_copy(&wrapped, &lit) || sg_tok_wrap(&wrapped, true, true) ||
                cc_classify(c, slot, &wrapped, cased, line, &aux)) {
                sg_tok_free(&wrapped);
                return cc_oom(c, line);
            }
            sg_tok_free(&wrapped);
            p.aux1 = aux + 1;
        }
        p.kind = PK_GLOB;
        if (!(p.glob = malloc(n * sizeof(*p.glob))))
            return cc_oom(c, line);
        for (size_t i = 0; i < n; i++) {
            if (t->t[i] == SG_STAR && p.nglob && p.glob[p.nglob - 1] == SG_STAR)
                continue;
            p.glob[p.nglob++] = t->t[i] > 255 || cased ? t->t[i] : cc_lower(t->t[i]);
        }
        return cc_pat_add(c, &p, p.glob, p.nglob * sizeof(*p.glob), line, pid);
    }
    size_t len = n - lead - trail;
    if (!(p.lit = malloc(len)))
        return cc_oom(c, line);
    for (size_t i = 0; i < len; i++)
        p.lit[i] = cased ? (uint8_t)t->t[lead + i] : cc_lower(t->t[lead + i]);
    p.len = len;
    p.kind = PK_LIT;
    p.anchor = (uint8_t)((lead ? 0 : AC_PREFIX) | (trail ? 0 : AC_SUFFIX));
    if (c->ty->slots[slot].numeric && p.anchor == AC_EXACT &&
        sg_number((const char *)p.lit, len, &p.num)) {
        free(p.lit);
        p.lit = NULL;
        p.len = 0;
        p.kind = PK_CMP;
        p.cmp = CMP_EQ;
        p.cased = 0;
        p.anchor = 0;
        return cc_pat_add(c, &p, NULL, 0, line, pid);
    }
    return cc_pat_add(c, &p, p.lit, len, line, pid);
}

/* ---- modifiers ---- */

enum cc_xf { XF_WIDE, XF_U16LE, XF_U16BE, XF_U16, XF_B64, XF_B64OFF, XF_WINDASH };

struct cc_mods {
    bool contains, startswith, endswith, all, re, re_i, re_m, re_s, cidr, exists, cased, neq,
        fieldref, expand;
    int cmp; /* enum sg_cmp, or -1 */
    uint8_t xf[8];
    unsigned nxf;
};

static const struct {
    const char *name;
    int what; /* >= 0: a transformation; < 0: a flag below */
} cc_modnames[] = {
    { "wide", XF_WIDE },
    { "utf16le", XF_U16LE },
    { "utf16be", XF_U16BE },
    { "utf16", XF_U16 },
    { "base64", XF_B64 },
    { "base64offset", XF_B64OFF },
    { "windash", XF_WINDASH },
    { "contains", -1 },
    { "startswith", -2 },
    { "endswith", -3 },
    { "all", -4 },
    { "re", -5 },
    { "i", -6 },
    { "m", -7 },
    { "s", -8 },
    { "cidr", -9 },
    { "exists", -10 },
    { "cased", -11 },
    { "neq", -12 },
    { "fieldref", -13 },
    { "expand", -14 },
    { "gt", -20 - CMP_GT },
    { "gte", -20 - CMP_GTE },
    { "lt", -20 - CMP_LT },
    { "lte", -20 - CMP_LTE },
};

static void cc_mod_flag(struct cc_mods *m, int what)
{
    bool *flags[] = { NULL,       &m->contains, &m->startswith, &m->endswith, &m->all,
                      &m->re,     &m->re_i,     &m->re_m,       &m->re_s,     &m->cidr,
                      &m->exists, &m->cased,    &m->neq,        &m->fieldref, &m->expand };
    if (what <= -20)
        m->cmp = -20 - what;
    else
        *flags[-what] = true;
}

/* The modifier list after the field name ("contains|all"); rejects unknown or clashing ones. */
static int cc_mods_parse(struct cc *c, const char *list, unsigned line, struct cc_mods *m)
{
    memset(m, 0, sizeof(*m));
    m->cmp = -1;
    while (list && *list) {
        const char *bar = strchr(list, '|');
        size_t len = bar ? (size_t)(bar - list) : strlen(list);
        size_t i;
        for (i = 0; i < TL_ARRAY_LEN(cc_modnames); i++)
            if (strlen(cc_modnames[i].name) == len && memcmp(cc_modnames[i].name, list, len) == 0)
                break;
        if (i == TL_ARRAY_LEN(cc_modnames))
            return cc_err(c, CC_REJECTED, line, "unknown modifier '%.*s'", (int)len, list);
        if (cc_modnames[i].what >= 0) {
            if (m->nxf == TL_ARRAY_LEN(m->xf))
                return cc_err(c, CC_REJECTED, line, "too many modifiers");
            m->xf[m->nxf++] = (uint8_t)cc_modnames[i].what;
        } else {
            cc_mod_flag(m, cc_modnames[i].what);
        }
        list = bar ? bar + 1 : NULL;
    }
    int anchors = m->contains + m->startswith + m->endswith;
    bool strmods = anchors || m->nxf || m->cased || m->neq || m->expand;
    bool b64 = false, b64off = false;
    for (unsigned i = 0; i < m->nxf; i++) {
        b64 |= m->xf[i] == XF_B64;
        b64off |= m->xf[i] == XF_B64OFF;
    }
    if (anchors > 1)
        return cc_err(c, CC_REJECTED, line, "contains, startswith and endswith exclude each other");
    if (b64 && b64off)
        return cc_err(c, CC_REJECTED, line, "base64 and base64offset exclude each other");
    if ((m->re_i || m->re_m || m->re_s) && !m->re)
        return cc_err(c, CC_REJECTED, line, "i, m and s are sub-modifiers of re");
    if (m->re && strmods)
        return cc_err(c, CC_REJECTED, line, "re takes only i, m, s and all");
    if ((m->cidr || m->exists || m->cmp >= 0) && (strmods || m->re || m->fieldref))
        return cc_err(c, CC_REJECTED, line, "cidr, exists, gt, gte, lt and lte stand alone");
    if (m->cidr + m->exists + (m->cmp >= 0) > 1)
        return cc_err(c, CC_REJECTED, line, "cidr, exists, gt, gte, lt and lte stand alone");
    if (m->fieldref && (m->nxf || m->expand || m->re))
        return cc_err(c, CC_REJECTED, line,
                      "fieldref takes only contains, startswith, endswith, "
                      "cased, neq and all");
    return 0;
}

/* ---- nodes and tests ---- */

static int cc_node(struct sg_cc *o, uint8_t op, uint32_t a, uint32_t n, uint32_t *out)
{
    if (sg_grow((void **)&o->nodes, &o->capnodes, o->nnodes + 1, sizeof(*o->nodes)))
        return -1;
    o->nodes[o->nnodes] = (struct sg_node){ op, a, n };
    *out = o->nnodes++;
    return 0;
}

/* AND/OR over kids (a single kid is itself). */
static int cc_nary(struct sg_cc *o, uint8_t op, const uint32_t *kids, uint32_t n, uint32_t *out)
{
    if (n == 1) {
        *out = kids[0];
        return 0;
    }
    if (sg_grow((void **)&o->kids, &o->capkids, o->nkids + n, sizeof(*o->kids)))
        return -1;
    memcpy(o->kids + o->nkids, kids, n * sizeof(*kids));
    o->nkids += n;
    return cc_node(o, op, o->nkids - n, n, out);
}

static int cc_note_slot(struct sg_cc *o, const struct sg_type *ty, uint32_t slot)
{
    if (ty->slots[slot].late)
        o->late = true;
    if (ty->slots[slot].kind == SLOT_KEYWORDS)
        return 0;
    for (uint32_t i = 0; i < o->nslots; i++)
        if (o->slots[i] == slot)
            return 0;
    if (sg_grow((void **)&o->slots, &o->capslots, o->nslots + 1, sizeof(*o->slots)))
        return -1;
    o->slots[o->nslots++] = slot;
    return 0;
}

/* Adds test t (its pids taken) as a node. */
static int cc_test(struct sg_cc *o, const struct sg_type *ty, struct sg_test *t, uint32_t *out)
{
    if ((t->kind != TK_UNKNOWN && cc_note_slot(o, ty, t->slot)) ||
        (t->kind == TK_FIELDREF && cc_note_slot(o, ty, t->slot2)) ||
        sg_grow((void **)&o->tests, &o->captests, o->ntests + 1, sizeof(*o->tests))) {
        free(t->pids);
        return -1;
    }
    o->tests[o->ntests] = *t;
    return cc_node(o, OP_TEST, o->ntests++, 0, out);
}

static void cc_unknown(struct cc *c, const char *name)
{
    char *u = c->o->unknown;
    if (!*name)
        name = "''"; /* a fieldref to an empty name */
    size_t used = strlen(u), nl = strlen(name);
    for (const char *p = u; (p = strstr(p, name)); p += nl)
        if ((p == u || p[-1] == ',') && (p[nl] == ',' || p[nl] == '\0'))
            return;
    if (used + nl + 2 < sizeof(c->o->unknown))
        snprintf(u + used, sizeof(c->o->unknown) - used, "%s%s", used ? "," : "", name);
}

/* A list of node indexes being collected. */
struct cc_list {
    uint32_t *v;
    uint32_t n, cap;
};

static int cc_list_add(struct cc_list *l, uint32_t x)
{
    if (sg_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
        return -1;
    l->v[l->n++] = x;
    return 0;
}

/* cc_list_add, failing as out of memory at line. */
static int cc_push(struct cc *c, struct cc_list *l, uint32_t x, unsigned line)
{
    return cc_list_add(l, x) ? cc_oom(c, line) : 0;
}

/* ---- values ---- */

static const struct sg_ph *cc_ph(const struct sg_phs *ph, const char *name, size_t len)
{
    for (size_t i = 0; ph && i < ph->n; i++)
        if (strlen(ph->v[i].name) == len && memcmp(ph->v[i].name, name, len) == 0)
            return &ph->v[i];
    return NULL;
}

static bool cc_ph_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           ch == '_' || ch == '-' || ch == '.';
}

/* A growing list of texts. */
struct cc_strs {
    char **v;
    uint32_t n, cap;
};

static void cc_strs_free(struct cc_strs *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/*
 * The texts s becomes with its %placeholders% at or after `from` replaced,
 * every combination; a substituted value is not searched again.
 */
static int cc_expand(struct cc *c, const char *s, size_t from, unsigned line, struct cc_strs *out)
{
    const char *a = strchr(s + from, '%'), *b = NULL;
    while (a) {
        for (b = a + 1; cc_ph_char(*b); b++)
            ;
        if (*b == '%' && b > a + 1)
            break;
        a = strchr(a + 1, '%');
    }
    if (!a) {
        if (out->n >= CC_MAX_EXPAND)
            return cc_err(c, CC_REJECTED, line, "expand: more than %d values", CC_MAX_EXPAND);
        char *x = strdup(s);
        if (!x || sg_grow((void **)&out->v, &out->cap, out->n + 1, sizeof(*out->v))) {
            free(x);
            return cc_oom(c, line);
        }
        out->v[out->n++] = x;
        return 0;
    }
    const struct sg_ph *ph = cc_ph(c->ph, a + 1, (size_t)(b - a - 1));
    if (!ph || ph->n == 0)
        return cc_err(c, CC_INACTIVE, line, "placeholder %.*s has no values (rules.placeholders)",
                      (int)(b - a + 1), a);
    size_t pre = (size_t)(a - s), post = strlen(b + 1);
    for (size_t i = 0; i < ph->n; i++) {
        size_t vl = strlen(ph->vals[i]);
        char *x = malloc(pre + vl + post + 1);
        if (!x)
            return cc_oom(c, line);
        memcpy(x, s, pre);
        memcpy(x + pre, ph->vals[i], vl);
        memcpy(x + pre + vl, b + 1, post + 1);
        int rc = cc_expand(c, x, pre + vl, line, out);
        free(x);
        if (rc)
            return -1;
    }
    return 0;
}

/* A growing list of token strings. */
struct cc_toks {
    struct sg_tok *v;
    uint32_t n, cap;
};

static void cc_toks_free(struct cc_toks *l)
{
    for (uint32_t i = 0; i < l->n; i++)
        sg_tok_free(&l->v[i]);
    free(l->v);
    memset(l, 0, sizeof(*l));
}

/* Moves t into l (t is emptied). */
static int cc_toks_take(struct cc_toks *l, struct sg_tok *t)
{
    if (l->n >= CC_MAX_EXPAND || sg_grow((void **)&l->v, &l->cap, l->n + 1, sizeof(*l->v)))
        return -1;
    l->v[l->n++] = *t;
    memset(t, 0, sizeof(*t));
    return 0;
}

/* One transformation on every token string of cur. */
static int cc_step(struct cc *c, uint8_t xf, struct cc_toks *cur, unsigned line)
{
    struct cc_toks next = { 0 };
    for (uint32_t i = 0; i < cur->n; i++) {
        struct sg_tok *t = &cur->v[i];
        if ((xf == XF_B64 || xf == XF_B64OFF) && sg_tok_has_wildcard(t)) {
            cc_toks_free(&next);
            return cc_err(c, CC_REJECTED, line, "base64 of a value with wildcards");
        }
        if (xf == XF_WINDASH) {
            struct sg_tok *v;
            size_t nv;
            if (sg_tok_windash(t, &v, &nv, CC_MAX_EXPAND)) {
                cc_toks_free(&next);
                return cc_err(c, CC_REJECTED, line, "windash: too many variants");
            }
            int rc = 0;
            for (size_t k = 0; k < nv; k++)
                if (rc || (rc = cc_toks_take(&next, &v[k])))
                    sg_tok_free(&v[k]);
            free(v);
            if (rc)
                goto big;
            continue;
        }
        if (xf == XF_B64OFF) {
            for (int off = 0; off < 3; off++) {
                struct sg_tok d = { 0 };
                if (sg_tok_copy(&d, t) || sg_tok_base64(&d, off) || cc_toks_take(&next, &d)) {
                    sg_tok_free(&d);
                    goto big;
                }
            }
            continue;
        }
        int rc = xf == XF_B64 ? sg_tok_base64(t, -1)
                              : sg_tok_utf16(t, xf == XF_U16BE ? SG_UTF16BE
                                                : xf == XF_U16 ? SG_UTF16BOM
                                                               : SG_UTF16LE);
        if (rc || cc_toks_take(&next, t))
            goto big;
    }
    cc_toks_free(cur);
    *cur = next;
    return 0;
big:
    cc_toks_free(&next);
    return cc_err(c, CC_REJECTED, line, "a value becomes more than %d patterns", CC_MAX_EXPAND);
}

static bool cc_mods_cased(const struct cc_mods *m)
{
    for (unsigned i = 0; i < m->nxf; i++)
        if (m->xf[i] == XF_B64 || m->xf[i] == XF_B64OFF)
            return true;
    return m->cased;
}

/* One string value: its patterns (one per variant) appended to pids. */
static int cc_string(struct cc *c, uint32_t slot, const struct cc_mods *m, bool keyword,
                     const struct yt_node *v, struct cc_list *pids)
{
    struct cc_strs texts = { 0 };
    struct cc_toks alts = { 0 };
    int rc = -1;

    if (m->expand && cc_expand(c, v->str, 0, v->line, &texts))
        goto done;
    for (uint32_t i = 0; i < (m->expand ? texts.n : 1); i++) {
        struct sg_tok t = { 0 };
        /* a value may hold NULs: without expand, the node's length counts */
        if (m->expand ? sg_tok_parse(&t, texts.v[i], strlen(texts.v[i]))
                      : sg_tok_parse(&t, v->str, v->len)) {
            sg_tok_free(&t);
            cc_oom(c, v->line);
            goto done;
        }
        if (cc_toks_take(&alts, &t)) {
            sg_tok_free(&t);
            cc_err(c, CC_REJECTED, v->line, "a value becomes more than %d patterns", CC_MAX_EXPAND);
            goto done;
        }
    }
    for (unsigned x = 0; x < m->nxf; x++)
        if (cc_step(c, m->xf[x], &alts, v->line))
            goto done;
    bool front = m->contains || m->endswith || (keyword && !m->startswith);
    bool back = m->contains || m->startswith || (keyword && !m->endswith);
    for (uint32_t i = 0; i < alts.n; i++) {
        uint32_t pid = UINT32_MAX;
        if (sg_tok_wrap(&alts.v[i], front, back) ||
            cc_classify(c, slot, &alts.v[i], cc_mods_cased(m), v->line, &pid) ||
            (!c->dry && cc_list_add(pids, pid))) {
            cc_oom(c, v->line);
            goto done;
        }
    }
    rc = 0;
done:
    cc_strs_free(&texts);
    cc_toks_free(&alts);
    return rc;
}

static int cc_regex(struct cc *c, uint32_t slot, const struct cc_mods *m, const struct yt_node *v,
                    uint32_t *pid)
{
    struct sg_pat p = { .slot = slot, .kind = PK_RE, .cased = 1 };
    uint32_t flags = (m->re_i ? PCRE2_CASELESS : 0) | (m->re_m ? PCRE2_MULTILINE : 0) |
                     (m->re_s ? PCRE2_DOTALL : 0);
    int code;
    PCRE2_SIZE off;

    p.re = pcre2_compile((PCRE2_SPTR)v->str, v->len, flags, &code, &off, NULL);
    if (!p.re) {
        PCRE2_UCHAR msg[CC_REGEX_ERR];
        pcre2_get_error_message(code, msg, sizeof(msg));
        return cc_err(c, CC_REJECTED, v->line, "re: %s at offset %zu", (const char *)msg,
                      (size_t)off);
    }
    if (c->dry) {
        pcre2_code_free(p.re);
        return 0;
    }
    p.jit = pcre2_jit_compile(p.re, PCRE2_JIT_COMPLETE) == 0;
    p.num = flags; /* part of the identity */
    return cc_pat_add(c, &p, v->str, v->len, v->line, pid);
}

static int cc_cidr(struct cc *c, uint32_t slot, const struct yt_node *v, uint32_t *pid)
{
    struct sg_pat p = { .slot = slot, .kind = PK_CIDR };
    char addr[INET6_ADDRSTRLEN + 8];
    const char *slash = strchr(v->str, '/');
    size_t alen = slash ? (size_t)(slash - v->str) : v->len;
    long bits = -1;

    if (alen >= sizeof(addr))
        goto bad;
    memcpy(addr, v->str, alen);
    addr[alen] = '\0';
    if (slash) {
        char *end;
        bits = strtol(slash + 1, &end, 10);
        if (!slash[1] || *end || bits < 0)
            goto bad;
    }
    if (inet_pton(AF_INET, addr, p.net + 12) == 1) {
        if (bits > 32)
            goto bad;
        p.net[10] = p.net[11] = 0xff;
        p.bits = (uint8_t)(96 + (bits < 0 ? 32 : bits));
    } else if (inet_pton(AF_INET6, addr, p.net) == 1) {
        if (bits > 128)
            goto bad;
        p.bits = (uint8_t)(bits < 0 ? 128 : bits);
    } else {
        goto bad;
    }
    for (unsigned i = p.bits; i < 128; i++)
        p.net[i / 8] &= (uint8_t) ~(0x80u >> (i % 8));
    return c->dry ? 0 : cc_pat_add(c, &p, NULL, 0, v->line, pid);
bad:
    return cc_err(c, CC_REJECTED, v->line, "cidr: '%s' is not a network", v->str);
}

static int cc_compare(struct cc *c, uint32_t slot, int cmp, const struct yt_node *v, uint32_t *pid)
{
    struct sg_pat p = { .slot = slot, .kind = PK_CMP, .cmp = (uint8_t)cmp };
    if (!sg_number(v->str, v->len, &p.num))
        return cc_err(c, CC_REJECTED, v->line, "'%s' is not a number", v->str);
    return c->dry ? 0 : cc_pat_add(c, &p, NULL, 0, v->line, pid);
}

static bool cc_bool(const struct yt_node *v, bool *out)
{
    if (strcasecmp(v->str, "true") == 0 || strcasecmp(v->str, "yes") == 0)
        *out = true;
    else if (strcasecmp(v->str, "false") == 0 || strcasecmp(v->str, "no") == 0)
        *out = false;
    else
        return false;
    return true;
}

/* A test of one kind for one value (or all values when pids holds several), appended to out. */
static int cc_emit(struct cc *c, struct sg_test *t, struct cc_list *pids, unsigned line,
                   struct cc_list *out)
{
    uint32_t node;
    if (c->dry) {
        free(pids->v);
        memset(pids, 0, sizeof(*pids));
        return 0;
    }
    t->pids = pids->v;
    t->npids = pids->n;
    memset(pids, 0, sizeof(*pids));
    if (cc_test(c->o, c->ty, t, &node) || cc_list_add(out, node))
        return cc_oom(c, line);
    return 0;
}

/* One value of a field entry under modifiers m: its test(s) appended to tests. */
static int cc_value(struct cc *c, uint32_t slot, const struct cc_mods *m, bool keyword,
                    const struct yt_node *v, struct cc_list *pids, struct cc_list *tests)
{
    struct sg_test t = { .kind = TK_PATS, .slot = slot, .neq = m->neq };
    uint32_t pid = UINT32_MAX;

    if (v->kind != YT_SCALAR)
        return cc_err(c, CC_REJECTED, v->line, "a field's values must be plain values");
    if (yt_is_null(v)) {
        if (keyword || m->cidr || m->exists || m->cmp >= 0 || m->re || m->fieldref)
            return cc_err(c, CC_REJECTED, v->line, "null is not a value here");
        t.kind = TK_NULL;
        struct cc_list none = { 0 };
        return cc_emit(c, &t, &none, v->line, tests);
    }
    if (m->exists) {
        if (!cc_bool(v, &t.want))
            return cc_err(c, CC_REJECTED, v->line, "exists takes true or false");
        t.kind = TK_EXISTS;
        struct cc_list none = { 0 };
        return cc_emit(c, &t, &none, v->line, tests);
    }
    if (m->fieldref) {
        t.kind = TK_FIELDREF;
        t.slot2 = c->dry ? UINT32_MAX : sg_slot_resolve(c->ty, v->str);
        t.cased = m->cased;
        t.anchor = m->contains     ? AC_CONTAINS
                   : m->startswith ? AC_PREFIX
                   : m->endswith   ? AC_SUFFIX
                                   : AC_EXACT;
        if (!c->dry && t.slot2 == UINT32_MAX) {
            cc_unknown(c, v->str);
            t.kind = TK_UNKNOWN;
        }
        struct cc_list none = { 0 };
        return cc_emit(c, &t, &none, v->line, tests);
    }
    int rc = m->re         ? cc_regex(c, slot, m, v, &pid)
             : m->cidr     ? cc_cidr(c, slot, v, &pid)
             : m->cmp >= 0 ? cc_compare(c, slot, m->cmp, v, &pid)
                           : cc_string(c, slot, m, keyword, v, pids);
    if (rc)
        return -1;
    if (pid != UINT32_MAX && cc_list_add(pids, pid))
        return cc_oom(c, v->line);
    if (m->all || m->neq)
        return cc_emit(c, &t, pids, v->line, tests);
    return 0;
}

/*
 * `field|mods: value(s)`: one node. Without all/neq, every value's patterns
 * go into one test (any value, any pattern); with them, a test per value
 * under AND (all) or OR. An empty field name is a keyword list.
 */
static int cc_entry(struct cc *c, const char *key, size_t klen, unsigned line,
                    const struct yt_node *const *vals, size_t nv, uint32_t *out)
{
    char name[256];
    const char *bar = memchr(key, '|', klen);
    size_t nlen = bar ? (size_t)(bar - key) : klen;
    struct cc_mods m;
    struct cc_list pids = { 0 }, tests = { 0 };
    int rc = -1;

    if (nlen >= sizeof(name))
        return cc_err(c, CC_REJECTED, line, "field name too long");
    memcpy(name, key, nlen);
    name[nlen] = '\0';
    if (cc_mods_parse(c, bar ? bar + 1 : NULL, line, &m))
        return -1;
    bool keyword = nlen == 0;
    if (keyword && (m.exists || m.cidr || m.cmp >= 0 || m.fieldref))
        return cc_err(c, CC_REJECTED, line, "keywords take no field modifiers");
    if (nv == 0)
        return cc_err(c, CC_REJECTED, line, "'%s': an empty list of values", name);
    uint32_t slot = keyword ? cc_slot_keywords(c->ty) : sg_slot_resolve(c->ty, name);
    c->dry = slot == UINT32_MAX;
    for (size_t i = 0; i < nv; i++)
        if (cc_value(c, slot, &m, keyword, vals[i], &pids, &tests))
            goto done;
    if (c->dry) {
        cc_unknown(c, name);
        c->dry = false;
        struct sg_test t = { .kind = TK_UNKNOWN };
        struct cc_list none = { 0 };
        if (cc_emit(c, &t, &none, line, &tests))
            goto done;
    } else if (pids.n) {
        struct sg_test t = { .kind = TK_PATS, .slot = slot, .neq = m.neq };
        if (cc_emit(c, &t, &pids, line, &tests))
            goto done;
    }
    rc = cc_nary(c->o, m.all ? OP_AND : OP_OR, tests.v, tests.n, out) ? cc_oom(c, line) : 0;
done:
    c->dry = false;
    free(pids.v);
    free(tests.v);
    return rc;
}

/* A mapping entry: its value is one value or a list of them. */
static int cc_field(struct cc *c, const struct yt_node *key, const struct yt_node *val,
                    uint32_t *out)
{
    if (val->kind == YT_MAP)
        return cc_err(c, CC_REJECTED, val->line, "'%s': a value or a list of values expected",
                      key->str);
    if (val->kind == YT_SEQ)
        return cc_entry(c, key->str, key->len, key->line, (const struct yt_node *const *)val->kids,
                        val->n, out);
    return cc_entry(c, key->str, key->len, key->line, &val, 1, out);
}

static int cc_map(struct cc *c, const struct yt_node *map, uint32_t *out)
{
    struct cc_list kids = { 0 };
    int rc = -1;
    if (map->n == 0)
        return cc_err(c, CC_REJECTED, map->line, "an empty mapping");
    for (size_t i = 0; i + 1 < map->n; i += 2) {
        uint32_t k;
        if (cc_field(c, map->kids[i], map->kids[i + 1], &k) || cc_push(c, &kids, k, map->line))
            goto done;
    }
    rc = cc_nary(c->o, OP_AND, kids.v, kids.n, out) ? cc_oom(c, map->line) : 0;
done:
    free(kids.v);
    return rc;
}

/* A plain list of keywords (any of them, anywhere in the event). */
static int cc_keywords(struct cc *c, const struct yt_node *const *v, size_t n, uint32_t *out)
{
    return cc_entry(c, "", 0, v[0]->line, v, n, out);
}

static int cc_selection(struct cc *c, const struct yt_node *sel, uint32_t *out)
{
    if (sel->kind == YT_MAP)
        return cc_map(c, sel, out);
    if (sel->kind == YT_SCALAR) {
        if (yt_is_null(sel))
            return cc_err(c, CC_REJECTED, sel->line, "an empty selection");
        return cc_keywords(c, (const struct yt_node *const *)&sel, 1, out);
    }
    if (sel->n == 0)
        return cc_err(c, CC_REJECTED, sel->line, "an empty selection");
    struct cc_list kids = { 0 };
    const struct yt_node **kw = calloc(sel->n, sizeof(*kw));
    size_t nkw = 0;
    int rc = -1;
    if (!kw)
        return cc_oom(c, sel->line);
    for (size_t i = 0; i < sel->n; i++) {
        const struct yt_node *it = sel->kids[i];
        uint32_t k;
        if (it->kind == YT_SCALAR) {
            kw[nkw++] = it;
            continue;
        }
        if (it->kind != YT_MAP) {
            cc_err(c, CC_REJECTED, it->line, "a selection list holds mappings or keywords");
            goto done;
        }
        if (cc_map(c, it, &k) || cc_push(c, &kids, k, it->line))
            goto done;
    }
    if (nkw) {
        uint32_t k;
        if (cc_keywords(c, kw, nkw, &k) || cc_push(c, &kids, k, sel->line))
            goto done;
    }
    rc = cc_nary(c->o, OP_OR, kids.v, kids.n, out) ? cc_oom(c, sel->line) : 0;
done:
    free(kids.v);
    free(kw);
    return rc;
}

/* ---- the condition ---- */

static int cc_ident(struct cc *c, uint32_t i, uint32_t *out)
{
    if (c->idnode[i] == UINT32_MAX && cc_selection(c, c->idval[i], &c->idnode[i]))
        return -1;
    *out = c->idnode[i];
    return 0;
}

/* A condition node; an and/or chain is gathered along its left spine, without recursion. */
static int cc_cnode(struct cc *c, const struct sg_cexpr *e, uint32_t x, unsigned line,
                    uint32_t *out)
{
    const struct sg_cnode *cn = &e->nodes[x];
    if (cn->op == C_ID)
        return cc_ident(c, cn->a, out);
    if (cn->op == C_NOT) {
        uint32_t kid;
        if (cc_cnode(c, e, cn->a, line, &kid))
            return -1;
        return cc_node(c->o, OP_NOT, kid, 0, out) ? cc_oom(c, line) : 0;
    }
    struct cc_list rights = { 0 }, kids = { 0 };
    int rc = -1;
    uint32_t y = x;
    for (; e->nodes[y].op == cn->op; y = e->nodes[y].a)
        if (cc_push(c, &rights, e->nodes[y].b, line))
            goto done;
    if (cc_push(c, &rights, y, line))
        goto done;
    for (uint32_t i = rights.n; i-- > 0;) {
        uint32_t k;
        if (cc_cnode(c, e, rights.v[i], line, &k) || cc_push(c, &kids, k, line))
            goto done;
    }
    rc = cc_nary(c->o, cn->op == C_AND ? OP_AND : OP_OR, kids.v, kids.n, out) ? cc_oom(c, line) : 0;
done:
    free(rights.v);
    free(kids.v);
    return rc;
}

static int cc_condition(struct cc *c, const struct yt_node *cond, bool single, uint32_t *out)
{
    struct sg_cexpr e;
    char why[256];
    if (cond->kind != YT_SCALAR || yt_is_null(cond))
        return cc_err(c, CC_REJECTED, cond->line, "a condition must be text");
    if (sg_cond_parse(&e, cond->str, c->ids, c->nids, why, sizeof(why))) {
        sg_cond_free(&e);
        return cc_err(c, CC_REJECTED, cond->line, "%s", why);
    }
    if (e.agg.present && !single) {
        sg_cond_free(&e);
        return cc_err(c, CC_REJECTED, cond->line, "an aggregation needs a single condition");
    }
    c->o->agg = e.agg;
    int rc = cc_cnode(c, &e, e.root, cond->line, out);
    sg_cond_free(&e);
    return rc;
}

static int cc_detection(struct cc *c, const struct yt_node *det)
{
    const struct yt_node *cond = NULL;
    if (!det || det->kind != YT_MAP)
        return cc_err(c, CC_REJECTED, det ? det->line : 0, "detection must be a mapping");
    c->ids = calloc(det->n / 2 + 1, sizeof(*c->ids));
    c->idval = calloc(det->n / 2 + 1, sizeof(*c->idval));
    c->idnode = calloc(det->n / 2 + 1, sizeof(*c->idnode));
    if (!c->ids || !c->idval || !c->idnode)
        return cc_oom(c, det->line);
    for (size_t i = 0; i + 1 < det->n; i += 2) {
        const struct yt_node *k = det->kids[i];
        if (yt_is(k, "condition")) {
            cond = det->kids[i + 1];
            continue;
        }
        if (yt_is(k, "timeframe"))
            continue;
        if (memchr(k->str, '\0', k->len))
            return cc_err(c, CC_REJECTED, k->line, "an identifier holds a NUL");
        c->ids[c->nids] = k->str;
        c->idval[c->nids] = det->kids[i + 1];
        c->idnode[c->nids++] = UINT32_MAX;
    }
    if (!cond)
        return cc_err(c, CC_REJECTED, det->line, "detection has no condition");
    if (cond->kind != YT_SEQ)
        return cc_condition(c, cond, true, &c->o->root);
    if (cond->n == 0)
        return cc_err(c, CC_REJECTED, cond->line, "an empty list of conditions");
    struct cc_list kids = { 0 };
    int rc = -1;
    for (size_t i = 0; i < cond->n; i++) {
        uint32_t k;
        if (cc_condition(c, cond->kids[i], cond->n == 1, &k) || cc_push(c, &kids, k, cond->line))
            goto done;
    }
    rc = cc_nary(c->o, OP_OR, kids.v, kids.n, &c->o->root) ? cc_oom(c, cond->line) : 0;
done:
    free(kids.v);
    return rc;
}

enum sg_cc_rc sg_compile(struct sg_cc *out, struct sg_type *ty, const struct yt_node *detection,
                         const struct sg_phs *ph, unsigned *line, char *reason, size_t n)
{
    struct cc c = { .o = out, .ty = ty, .ph = ph, .line = line, .reason = reason, .n = n };
    memset(out, 0, sizeof(*out));
    if (cc_detection(&c, detection) && c.rc == CC_OK)
        cc_oom(&c, detection ? detection->line : 0);
    free(c.ids);
    free(c.idval);
    free(c.idnode);
    if (c.rc != CC_OK)
        sg_cc_free(out);
    return c.rc;
}

/* ---- combining ---- */

int sg_cc_and(struct sg_cc *dst, struct sg_cc *src)
{
    uint32_t noff = dst->nnodes, koff = dst->nkids, toff = dst->ntests;
    if (sg_grow((void **)&dst->nodes, &dst->capnodes, dst->nnodes + src->nnodes + 1,
                sizeof(*dst->nodes)) ||
        sg_grow((void **)&dst->kids, &dst->capkids, dst->nkids + src->nkids + 2,
                sizeof(*dst->kids)) ||
        sg_grow((void **)&dst->tests, &dst->captests, dst->ntests + src->ntests,
                sizeof(*dst->tests)))
        return -1;
    for (uint32_t i = 0; i < src->nnodes; i++) {
        struct sg_node nd = src->nodes[i];
        if (nd.op == OP_AND || nd.op == OP_OR)
            nd.a += koff;
        else if (nd.op == OP_NOT)
            nd.a += noff;
        else if (nd.op == OP_TEST)
            nd.a += toff;
        dst->nodes[dst->nnodes++] = nd;
    }
    for (uint32_t i = 0; i < src->nkids; i++)
        dst->kids[dst->nkids++] = src->kids[i] + noff;
    memcpy(dst->tests + dst->ntests, src->tests, src->ntests * sizeof(*src->tests));
    dst->ntests += src->ntests;
    src->ntests = 0;
    for (uint32_t i = 0; i < src->nslots; i++) {
        bool seen = false;
        for (uint32_t j = 0; j < dst->nslots; j++)
            seen |= dst->slots[j] == src->slots[i];
        if (!seen &&
            (sg_grow((void **)&dst->slots, &dst->capslots, dst->nslots + 1, sizeof(*dst->slots))))
            return -1;
        if (!seen)
            dst->slots[dst->nslots++] = src->slots[i];
    }
    dst->late |= src->late;
    if (src->unknown[0]) {
        size_t used = strlen(dst->unknown);
        snprintf(dst->unknown + used, sizeof(dst->unknown) - used, "%s%s", used ? "," : "",
                 src->unknown);
    }
    uint32_t pair[2] = { dst->root, src->root + noff };
    int rc = cc_nary(dst, OP_AND, pair, 2, &dst->root);
    sg_cc_free(src);
    return rc;
}

int sg_cc_require(struct sg_cc *dst, struct sg_type *ty, const char *field, const char *value)
{
    unsigned line = 0;
    char why[64];
    struct cc c = { .o = dst, .ty = ty, .line = &line, .reason = why, .n = sizeof(why) };
    uint32_t slot = sg_slot_resolve(ty, field), pid, node;
    struct sg_tok t = { 0 };
    if (slot == UINT32_MAX)
        return 1;
    int rc = sg_tok_literal(&t, value, strlen(value)) || cc_classify(&c, slot, &t, false, 0, &pid);
    sg_tok_free(&t);
    if (rc)
        return -1;
    uint32_t *pids = malloc(sizeof(*pids));
    if (!pids)
        return -1;
    pids[0] = pid;
    struct sg_test test = { .kind = TK_PATS, .slot = slot, .pids = pids, .npids = 1 };
    uint32_t pair[2];
    if (cc_test(dst, ty, &test, &node))
        return -1;
    pair[0] = dst->root;
    pair[1] = node;
    return cc_nary(dst, OP_AND, pair, 2, &dst->root);
}

/* Whether node x can be true (*t) and can be false (*f), each test on its own. */
static void cc_can(const struct sg_cc *c, uint32_t x, int depth, bool *t, bool *f)
{
    const struct sg_node *nd = &c->nodes[x];
    if (depth > 256) { /* deeper than any condition the parser builds: assume either */
        *t = *f = true;
        return;
    }
    switch (nd->op) {
    case OP_TEST: *t = *f = c->tests[nd->a].kind != TK_UNKNOWN; return;
    case OP_CONST:
        *t = nd->a == SG_TRUE;
        *f = nd->a == SG_FALSE;
        return;
    case OP_NOT: cc_can(c, nd->a, depth + 1, f, t); return;
    default: break;
    }
    bool and = nd->op == OP_AND;
    *t = and;
    *f = !and;
    for (uint32_t i = 0; i < nd->n; i++) {
        bool kt, kf;
        cc_can(c, c->kids[nd->a + i], depth + 1, &kt, &kf);
        if (and) {
            *t = *t && kt;
            *f = *f || kf;
        } else {
            *t = *t || kt;
            *f = *f && kf;
        }
    }
}

bool sg_cc_viable(const struct sg_cc *c)
{
    bool t, f;
    if (!c->nnodes)
        return false;
    cc_can(c, c->root, 0, &t, &f);
    return t;
}

void sg_cc_free(struct sg_cc *c)
{
    for (uint32_t i = 0; i < c->ntests; i++)
        free(c->tests[i].pids);
    free(c->tests);
    free(c->nodes);
    free(c->kids);
    free(c->slots);
    memset(c, 0, sizeof(*c));
}

/* ---- triggers ---- */

/* A set of trigger patterns and how rare its commonest member is likely (its shortest literal). */
struct cc_trig {
    uint32_t *v;
    uint32_t n, cap;
    size_t score;
    bool ok;
};

static void cc_trig_node(const struct tl_rule *r, const struct sg_type *ty, uint32_t x, int depth,
                         struct cc_trig *out)
{
    const struct sg_node *nd = &r->nodes[x];
    memset(out, 0, sizeof(*out));
    if (depth > 64)
        return;
    if (nd->op == OP_TEST) {
        const struct sg_test *t = &r->tests[nd->a];
        if (t->kind != TK_PATS || t->neq || !t->npids)
            return;
        out->score = SIZE_MAX;
        if (!(out->v = malloc(t->npids * sizeof(*out->v))))
            return;
        for (uint32_t i = 0; i < t->npids; i++) {
            const struct sg_pat *p = &ty->pats[t->pids[i]];
            uint32_t pid = p->kind == PK_LIT ? t->pids[i] : p->aux1 ? p->aux1 - 1 : UINT32_MAX;
            if (pid == UINT32_MAX) { /* a value that no literal stands for */
                free(out->v);
                out->v = NULL;
                return;
            }
            if (ty->pats[pid].len < out->score)
                out->score = ty->pats[pid].len;
            out->v[i] = pid;
        }
        out->n = out->cap = t->npids;
        out->ok = true;
        return;
    }
    if (nd->op != OP_AND && nd->op != OP_OR)
        return;
    bool and = nd->op == OP_AND;
    out->ok = !and;
    out->score = SIZE_MAX;
    for (uint32_t i = 0; i < nd->n; i++) {
        struct cc_trig k;
        cc_trig_node(r, ty, r->kids[nd->a + i], depth + 1, &k);
        if (and) { /* any one kid's set will do: keep the rarest */
            if (k.ok &&
                (!out->ok || k.score > out->score || (k.score == out->score && k.n < out->n))) {
                free(out->v);
                *out = k;
                continue;
            }
        } else if (k.ok && out->ok &&
                   !sg_grow((void **)&out->v, &out->cap, out->n + k.n, sizeof(*out->v))) {
            memcpy(out->v + out->n, k.v, k.n * sizeof(*k.v)); /* every kid's set, together */
            out->n += k.n;
            if (k.score < out->score)
                out->score = k.score;
        } else {
            out->ok = false;
        }
        free(k.v);
    }
    if (!out->ok) {
        free(out->v);
        memset(out, 0, sizeof(*out));
    }
}

int sg_rule_triggers(const struct tl_rule *r, const struct sg_type *ty, uint32_t **out, uint32_t *n)
{
    struct cc_trig t;
    cc_trig_node(r, ty, r->root, 0, &t);
    *out = t.v;
    *n = t.ok ? t.n : 0;
    if (!t.ok) {
        free(t.v);
        *out = NULL;
    }
    return 0;
}

/* ---- the type's automata ---- */

int sg_type_finish(struct sg_type *ty)
{
    struct ac_build **b = calloc((size_t)ty->nslots * 2 + 1, sizeof(*b));
    int rc = -1;
    if (!b)
        return -1;
    for (uint32_t i = 0; i < ty->npats; i++) {
        const struct sg_pat *p = &ty->pats[i];
        if (p->kind != PK_LIT)
            continue;
        struct ac_build **pb = &b[p->slot * 2 + p->cased];
        if (!*pb && !(*pb = ac_build_new(!p->cased)))
            goto done;
        if (ac_add(*pb, p->lit, p->len, i, (enum ac_anchor)p->anchor))
            goto done;
    }
    rc = 0;
    for (uint32_t s = 0; s < ty->nslots; s++)
        for (int k = 0; k < 2; k++) {
            struct ac_build *pb = b[s * 2 + (uint32_t)k];
            b[s * 2 + (uint32_t)k] = NULL;
            if (pb && !(ty->slots[s].ac[k] = ac_finish(pb)))
                rc = -1;
            ty->slots[s].has_lit[k] = ty->slots[s].ac[k] != NULL;
        }
done:
    for (uint32_t s = 0; s < ty->nslots * 2; s++)
        if (b[s])
            ac_free(ac_finish(b[s]));
    free(b);
    cc_intern_free(ty->intern);
    ty->intern = NULL;
    return rc;
}

void sg_type_free(struct sg_type *ty)
{
    for (uint32_t i = 0; i < ty->npats; i++) {
        free(ty->pats[i].lit);
        free(ty->pats[i].glob);
        if (ty->pats[i].re)
            pcre2_code_free(ty->pats[i].re);
    }
    free(ty->pats);
    for (uint32_t s = 0; s < ty->nslots; s++) {
        ac_free(ty->slots[s].ac[0]);
        ac_free(ty->slots[s].ac[1]);
    }
    free(ty->slots);
    free(ty->rules[0]);
    free(ty->rules[1]);
    for (uint32_t i = 0; ty->pid_rules && i < ty->npats; i++)
        free(ty->pid_rules[i]);
    free(ty->pid_rules);
    free(ty->scans[0]);
    free(ty->scans[1]);
    cc_intern_free(ty->intern);
    memset(ty, 0, sizeof(*ty));
}
