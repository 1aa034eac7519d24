/*
 * match.c - evaluating compiled rules on one event (see rules.h, sigma.h).
 *
 * Per event, each slot's values are fetched and ASCII-lowered once, when a
 * rule first reads them; each slot's automaton runs once over them and marks
 * every literal pattern found; other patterns are computed once when first
 * asked. Marks are epoch-stamped arrays in the scratch, so starting an event
 * clears nothing. Values borrow the record's memory or live in the scratch's
 * arena, reset per event. Only the rules of the event's type and phase run.
 */
#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>

#include "ac.h"
#include "sigma.h"

enum { SC_BLOCK = 64 << 10 };

struct sc_slot {
    uint32_t epoch; /* values fetched for this event */
    uint32_t first, n;
    uint32_t ac_epoch[2];
};

struct sc_block {
    struct sc_block *next;
    size_t used, cap;
    char data[];
};

struct tl_rules_scratch {
    uint32_t epoch;
    struct tl_view view;
    const struct tl_ruleset *rs;
    const struct sg_type *ty;
    struct sc_slot *slots;
    uint32_t capslots;
    uint32_t *hit, *done; /* per pattern: epoch of the event it matched / was computed in */
    uint8_t *res;
    uint32_t cappats;
    uint32_t *cand; /* per rule of the type: epoch of the event one of its triggers was found in */
    uint32_t caprules;
    struct sg_val *vals;
    uint32_t nvals, capvals;
    struct sc_block *blocks, *cur;
    pcre2_match_data *md;
    struct tl_buf buf;
    struct tl_values tmp;
};

static void *sc_must(void *p)
{
    if (!p)
        abort(); /* as tl_buf: what an event needs is bounded upstream */
    return p;
}

struct tl_rules_scratch *tl_rules_scratch_new(void)
{
    struct tl_rules_scratch *sc = calloc(1, sizeof(*sc));
    if (!sc)
        return NULL;
    if (!(sc->md = pcre2_match_data_create(1, NULL))) {
        free(sc);
        return NULL;
    }
    return sc;
}

void tl_rules_scratch_free(struct tl_rules_scratch *sc)
{
    if (!sc)
        return;
    while (sc->blocks) {
        struct sc_block *b = sc->blocks;
        sc->blocks = b->next;
        free(b);
    }
    pcre2_match_data_free(sc->md);
    free(sc->slots);
    free(sc->hit);
    free(sc->done);
    free(sc->res);
    free(sc->cand);
    free(sc->vals);
    tl_buf_free(&sc->buf);
    free(sc);
}

struct tl_buf *sg_scratch_buf(struct tl_rules_scratch *sc)
{
    return &sc->buf;
}

struct tl_values *sg_scratch_values(struct tl_rules_scratch *sc)
{
    return &sc->tmp;
}

/* n bytes from the arena, valid until the next event. */
static char *sc_alloc(struct tl_rules_scratch *sc, size_t n)
{
    struct sc_block *b = sc->cur;
    while (b && b->cap - b->used < n)
        b = sc->cur = b->next;
    if (!b) {
        size_t cap = n > SC_BLOCK ? n : SC_BLOCK;
        b = sc_must(malloc(sizeof(*b) + cap));
        b->cap = cap;
        b->used = 0;
        b->next = NULL;
        struct sc_block **tail = &sc->blocks;
        while (*tail)
            tail = &(*tail)->next;
        *tail = sc->cur = b;
    }
    char *p = b->data + b->used;
    b->used += n;
    return p;
}

/* Grows the per-slot and per-pattern arrays to what rs needs, zero-filled (epoch 0 is never
 * current). */
static void sc_fit(struct tl_rules_scratch *sc, const struct tl_ruleset *rs)
{
    if (rs->max_slots > sc->capslots) {
        uint32_t cap = rs->max_slots * 2;
        sc->slots = sc_must(realloc(sc->slots, (size_t)cap * sizeof(*sc->slots)));
        memset(sc->slots + sc->capslots, 0, (size_t)(cap - sc->capslots) * sizeof(*sc->slots));
        sc->capslots = cap;
    }
    if (rs->max_pats > sc->cappats) {
        uint32_t cap = rs->max_pats * 2, old = sc->cappats;
        sc->hit = sc_must(realloc(sc->hit, (size_t)cap * sizeof(*sc->hit)));
        sc->done = sc_must(realloc(sc->done, (size_t)cap * sizeof(*sc->done)));
        sc->res = sc_must(realloc(sc->res, cap));
        memset(sc->hit + old, 0, (size_t)(cap - old) * sizeof(*sc->hit));
        memset(sc->done + old, 0, (size_t)(cap - old) * sizeof(*sc->done));
        sc->cappats = cap;
    }
    if (rs->max_rules > sc->caprules) {
        uint32_t cap = rs->max_rules * 2;
        sc->cand = sc_must(realloc(sc->cand, (size_t)cap * sizeof(*sc->cand)));
        memset(sc->cand + sc->caprules, 0, (size_t)(cap - sc->caprules) * sizeof(*sc->cand));
        sc->caprules = cap;
    }
}

const struct sg_type *sg_type_of(const struct tl_ruleset *rs, const struct tl_event_type *t)
{
    for (uint32_t i = 0; i < rs->ntypes; i++)
        if (rs->types[i].t == t)
            return &rs->types[i];
    for (uint32_t i = 0; t && i < rs->ntypes; i++)
        if (strcmp(rs->types[i].t->name, t->name) == 0)
            return &rs->types[i];
    return NULL;
}

void sg_begin(struct tl_rules_scratch *sc, const struct tl_ruleset *rs, const struct sg_type *ty,
              const struct tl_view *v, bool fresh)
{
    if (!fresh && sc->rs == rs && sc->ty == ty && sc->view.rec == v->rec &&
        sc->view.ext == v->ext && sc->view.type == v->type)
        return;
    sc_fit(sc, rs);
    if (++sc->epoch == 0) { /* wrapped: old stamps could look current */
        memset(sc->slots, 0, (size_t)sc->capslots * sizeof(*sc->slots));
        memset(sc->hit, 0, (size_t)sc->cappats * sizeof(*sc->hit));
        memset(sc->done, 0, (size_t)sc->cappats * sizeof(*sc->done));
        memset(sc->cand, 0, (size_t)sc->caprules * sizeof(*sc->cand));
        sc->epoch = 1;
    }
    sc->rs = rs;
    sc->ty = ty;
    sc->view = *v;
    sc->nvals = 0;
    for (struct sc_block *b = sc->blocks; b; b = b->next)
        b->used = 0;
    sc->cur = sc->blocks;
}

/* ---- values ---- */

static bool sc_in_tmp(const struct tl_rules_scratch *sc, const char *p)
{
    return p >= sc->tmp.text && p < sc->tmp.text + TL_VALUES_TEXT;
}

/* Appends one value: text copied when it lives in tmp, lowered copy when it has capitals. */
static void sc_push(struct tl_rules_scratch *sc, uint8_t kind, const char *p, size_t len,
                    double num, const struct tl_ip *ip)
{
    if (sc->nvals == sc->capvals &&
        sg_grow((void **)&sc->vals, &sc->capvals, sc->nvals + 1, sizeof(*sc->vals)))
        abort();
    struct sg_val *v = &sc->vals[sc->nvals++];
    if (len && sc_in_tmp(sc, p)) {
        char *c = sc_alloc(sc, len);
        memcpy(c, p, len);
        p = c;
    }
    v->raw = len ? p : "";
    v->low = NULL;
    v->len = len;
    v->kind = kind;
    v->num = num;
    if (ip)
        v->ip = *ip;
}

const char *sg_lower(struct tl_rules_scratch *sc, const struct sg_val *cv)
{
    struct sg_val *v = &sc->vals[cv - sc->vals]; /* the scratch's own, made mutable */
    if (v->low)
        return v->low;
    v->low = v->raw;
    for (size_t i = 0; i < v->len; i++)
        if (v->raw[i] >= 'A' && v->raw[i] <= 'Z') {
            char *l = sc_alloc(sc, v->len);
            for (size_t k = 0; k < v->len; k++)
                l[k] = (char)(v->raw[k] >= 'A' && v->raw[k] <= 'Z' ? v->raw[k] + 32 : v->raw[k]);
            v->low = l;
            break;
        }
    return v->low;
}

static void sc_push_values(struct tl_rules_scratch *sc, const struct tl_values *vs)
{
    for (size_t i = 0; i < vs->n; i++)
        sc_push(sc, vs->v[i].kind, vs->v[i].s.ptr, vs->v[i].s.len, vs->v[i].num, &vs->v[i].ip);
}

static bool sc_text_field(const struct tl_field *f)
{
    switch (f->type) {
    case TL_F_STR:
    case TL_F_CSTR:
    case TL_F_CHARS:
    case TL_F_STRLIST:
    case TL_F_IP: return true;
    default: return false;
    }
}

/* Every text value of the record and its ext tables: what keywords search. */
static void sc_keywords(struct tl_rules_scratch *sc)
{
    const struct tl_event_type *t = sc->view.type;
    for (int depth = 0; t && depth < 4; depth++, t = t->ext) {
        const void *rec = depth ? sc->view.ext : sc->view.rec;
        for (size_t i = 0; rec && i < t->nfields; i++) {
            if (!sc_text_field(&t->fields[i]))
                continue;
            tl_values_reset(&sc->tmp);
            tl_field_values(&t->fields[i], rec, &sc->tmp);
            sc_push_values(sc, &sc->tmp);
        }
    }
}

/* The first value of ref as text (copied into the arena), or NULL. */
static const char *sc_first(struct tl_rules_scratch *sc, struct tl_fref ref, size_t *len)
{
    tl_values_reset(&sc->tmp);
    tl_view_values(&sc->view, ref, &sc->tmp);
    if (!sc->tmp.n)
        return NULL;
    *len = sc->tmp.v[0].s.len;
    char *c = sc_alloc(sc, *len + 1);
    memcpy(c, sc->tmp.v[0].s.ptr, *len);
    c[*len] = '\0';
    return c;
}

static bool sc_is_ip(const char *h, size_t n)
{
    char buf[64];
    uint8_t out[16];
    if (n && h[0] == '[') { /* [v6]:port */
        const char *e = memchr(h, ']', n);
        if (!e)
            return false;
        h++;
        n = (size_t)(e - h);
    } else if (memchr(h, ':', n) && memchr(h, ':', n) == memrchr(h, ':', n)) {
        n = (size_t)((const char *)memchr(h, ':', n) - h); /* v4:port or name:port */
    }
    if (n == 0 || n >= sizeof(buf))
        return false;
    memcpy(buf, h, n);
    buf[n] = '\0';
    return inet_pton(AF_INET, buf, out) == 1 || inet_pton(AF_INET6, buf, out) == 1;
}

/* url, uri_path, uri_query, uri_extension, host_is_ip from host and uri (see sigma.h). */
static void sc_derived(struct tl_rules_scratch *sc, const struct sg_slot *s)
{
    size_t hl = 0, ul = 0;
    const char *host = sc_first(sc, s->host, &hl), *uri = sc_first(sc, s->uri, &ul);
    if (s->kind == SLOT_HOST_IS_IP) {
        bool ip = host && sc_is_ip(host, hl);
        if (host)
            sc_push(sc, TL_V_BOOL, ip ? "true" : "false", ip ? 4 : 5, ip, NULL);
        return;
    }
    if (!uri)
        return;
    const char *scheme = strstr(uri, "://");
    bool absolute = uri[0] != '/' && scheme && scheme < uri + 16;
    if (s->kind == SLOT_URL) {
        if (absolute || !host) {
            sc_push(sc, TL_V_STR, uri, ul, 0, NULL);
            return;
        }
        char *u = sc_alloc(sc, hl + ul);
        memcpy(u, host, hl);
        memcpy(u + hl, uri, ul);
        sc_push(sc, TL_V_STR, u, hl + ul, 0, NULL);
        return;
    }
    const char *path = absolute ? strchr(scheme + 3, '/') : uri;
    if (!path)
        path = uri + ul;
    size_t plen = strcspn(path, "?#");
    if (s->kind == SLOT_URI_PATH) {
        sc_push(sc, TL_V_STR, path, plen, 0, NULL);
    } else if (s->kind == SLOT_URI_QUERY) {
        if (path[plen] == '?')
            sc_push(sc, TL_V_STR, path + plen + 1, strcspn(path + plen + 1, "#"), 0, NULL);
    } else {
        const char *seg = memrchr(path, '/', plen), *dot;
        seg = seg ? seg + 1 : path;
        dot = memrchr(seg, '.', (size_t)(path + plen - seg));
        if (dot && dot + 1 < path + plen)
            sc_push(sc, TL_V_STR, dot + 1, (size_t)(path + plen - dot - 1), 0, NULL);
    }
}

const struct sg_val *sg_values(struct tl_rules_scratch *sc, const struct sg_type *ty, uint32_t s,
                               size_t *n)
{
    struct sc_slot *c = &sc->slots[s];
    if (c->epoch != sc->epoch) {
        const struct sg_slot *sl = &ty->slots[s];
        c->epoch = sc->epoch;
        c->ac_epoch[0] = c->ac_epoch[1] = 0;
        c->first = sc->nvals;
        if (sl->kind == SLOT_FIELD) {
            tl_values_reset(&sc->tmp);
            tl_view_values(&sc->view, sl->ref, &sc->tmp);
            sc_push_values(sc, &sc->tmp);
        } else if (sl->kind == SLOT_KEYWORDS) {
            sc_keywords(sc);
        } else {
            sc_derived(sc, sl);
        }
        c->n = sc->nvals - c->first;
    }
    *n = c->n;
    return sc->vals + c->first;
}

/* ---- patterns ---- */

/* A literal pattern found: it and the rules it triggers are marked for this event. */
static void sc_mark(void *arg, uint32_t id)
{
    struct tl_rules_scratch *sc = arg;
    sc->hit[id] = sc->epoch;
    for (const uint32_t *r = sc->ty->pid_rules[id]; r && *r != UINT32_MAX; r++)
        sc->cand[*r] = sc->epoch;
}

/* Runs the slot's automaton (case-insensitive or cased) over its values, once per event. */
static void sc_scan(struct tl_rules_scratch *sc, const struct sg_type *ty, uint32_t s, int cased)
{
    struct sc_slot *c = &sc->slots[s];
    size_t n;
    const struct sg_val *v = sg_values(sc, ty, s, &n);
    if (c->ac_epoch[cased] == sc->epoch)
        return;
    c->ac_epoch[cased] = sc->epoch;
    const struct ac *a = ty->slots[s].ac[cased];
    for (size_t i = 0; a && i < n; i++)
        ac_scan(a, (const uint8_t *)v[i].raw, v[i].len, sc_mark, sc);
}

static bool sc_num(const struct sg_val *v, double *out)
{
    if (v->kind == TL_V_NUM || v->kind == TL_V_BOOL) {
        *out = v->num;
        return true;
    }
    return v->kind == TL_V_STR && sg_number(v->raw, v->len, out);
}

static bool sc_cmp(uint8_t cmp, double a, double b)
{
    switch (cmp) {
    case CMP_EQ: return a == b;
    case CMP_GT: return a > b;
    case CMP_GTE: return a >= b;
    case CMP_LT: return a < b;
    case CMP_LTE: return a <= b;
    case CMP_NEQ: return a != b;
    default: return false;
    }
}

static bool sc_cidr(const struct sg_pat *p, const struct sg_val *v)
{
    uint8_t ip[16] = { 0 };
    if (v->kind == TL_V_IP) {
        memcpy(ip, v->ip.b, 16);
    } else {
        char buf[64];
        if (v->len >= sizeof(buf))
            return false;
        memcpy(buf, v->raw, v->len);
        buf[v->len] = '\0';
        if (inet_pton(AF_INET, buf, ip + 12) == 1)
            ip[10] = ip[11] = 0xff;
        else if (inet_pton(AF_INET6, buf, ip) != 1)
            return false;
    }
    unsigned full = p->bits / 8, rest = p->bits % 8;
    if (memcmp(ip, p->net, full) != 0)
        return false;
    return rest == 0 || ((ip[full] ^ p->net[full]) & (uint8_t)(0xff00u >> rest)) == 0;
}

static bool sc_one(struct tl_rules_scratch *sc, const struct sg_pat *p, const struct sg_val *v)
{
    const uint8_t *s = (const uint8_t *)(p->cased || p->kind != PK_GLOB ? v->raw : sg_lower(sc, v));
    double x;
    switch (p->kind) {
    case PK_ANY: return true;
    case PK_EMPTY: return v->len == 0;
    case PK_GLOB: return sg_glob_match(p->glob, p->nglob, s, v->len);
    case PK_CMP: return sc_num(v, &x) && sc_cmp(p->cmp, x, p->num);
    case PK_CIDR: return sc_cidr(p, v);
    case PK_RE: {
        int rc =
            p->jit ? pcre2_jit_match(p->re, (PCRE2_SPTR)v->raw, v->len, 0, 0, sc->md, sc->rs->mctx)
                   : pcre2_match(p->re, (PCRE2_SPTR)v->raw, v->len, 0, 0, sc->md, sc->rs->mctx);
        return rc >= 0;
    }
    default: return false;
    }
}

static bool sc_pat(struct tl_rules_scratch *sc, const struct sg_type *ty, uint32_t pid)
{
    const struct sg_pat *p = &ty->pats[pid];
    if (p->kind == PK_LIT) {
        sc_scan(sc, ty, p->slot, p->cased);
        return sc->hit[pid] == sc->epoch;
    }
    if (sc->done[pid] == sc->epoch)
        return sc->res[pid];
    size_t n;
    const struct sg_val *v = sg_values(sc, ty, p->slot, &n);
    bool r = false;
    for (size_t i = 0; i < n && !r; i++)
        r = sc_one(sc, p, &v[i]);
    sc->done[pid] = sc->epoch;
    sc->res[pid] = r;
    return r;
}

bool sg_found(struct tl_rules_scratch *sc, const struct sg_type *ty, uint32_t pid)
{
    return sc_pat(sc, ty, pid);
}

/* ---- tests and nodes ---- */

static bool sc_ref_match(struct tl_rules_scratch *sc, const struct sg_val *a,
                         const struct sg_val *b, const struct sg_test *t)
{
    const char *x = t->cased ? a->raw : sg_lower(sc, a), *y = t->cased ? b->raw : sg_lower(sc, b);
    switch (t->anchor) {
    case AC_EXACT: return a->len == b->len && memcmp(x, y, a->len) == 0;
    case AC_PREFIX: return b->len <= a->len && memcmp(x, y, b->len) == 0;
    case AC_SUFFIX: return b->len <= a->len && memcmp(x + a->len - b->len, y, b->len) == 0;
    default: return b->len == 0 || memmem(x, a->len, y, b->len) != NULL;
    }
}

static enum sg_tri sc_test(struct tl_rules_scratch *sc, const struct sg_type *ty,
                           const struct sg_test *t)
{
    size_t n, n2;
    const struct sg_val *v, *w;
    bool any = false;

    if (t->kind == TK_UNKNOWN)
        return SG_UNKNOWN;
    v = sg_values(sc, ty, t->slot, &n);
    switch (t->kind) {
    case TK_NULL: return n == 0 ? SG_TRUE : SG_FALSE;
    case TK_EXISTS: return (n > 0) == t->want ? SG_TRUE : SG_FALSE;
    case TK_FIELDREF:
        w = sg_values(sc, ty, t->slot2, &n2);
        v = sg_values(sc, ty, t->slot, &n); /* fetching slot2 may have moved slot's values */
        for (size_t i = 0; i < n && !any; i++)
            for (size_t k = 0; k < n2 && !any; k++)
                any = sc_ref_match(sc, &v[i], &w[k], t);
        return any != t->neq && (n > 0 || !t->neq) ? SG_TRUE : SG_FALSE;
    default: break;
    }
    if (n == 0)
        return SG_FALSE;
    for (uint32_t i = 0; i < t->npids && !any; i++)
        any = sc_pat(sc, ty, t->pids[i]);
    return any != t->neq ? SG_TRUE : SG_FALSE;
}

static enum sg_tri sc_node(struct tl_rules_scratch *sc, const struct sg_type *ty,
                           const struct tl_rule *r, uint32_t x)
{
    const struct sg_node *nd = &r->nodes[x];
    switch (nd->op) {
    case OP_TEST: return sc_test(sc, ty, &r->tests[nd->a]);
    case OP_CONST: return (enum sg_tri)nd->a;
    case OP_NOT: {
        enum sg_tri k = sc_node(sc, ty, r, nd->a);
        return k == SG_UNKNOWN ? SG_UNKNOWN : k == SG_TRUE ? SG_FALSE : SG_TRUE;
    }
    default: break;
    }
    bool and = nd->op == OP_AND;
    enum sg_tri res = and? SG_TRUE : SG_FALSE;
    for (uint32_t i = 0; i < nd->n; i++) {
        enum sg_tri k = sc_node(sc, ty, r, r->kids[nd->a + i]);
        if (k == (and? SG_FALSE : SG_TRUE))
            return k;
        if (k == SG_UNKNOWN)
            res = SG_UNKNOWN;
    }
    return res;
}

enum sg_tri sg_eval(struct tl_rules_scratch *sc, const struct sg_type *ty, const struct tl_rule *r)
{
    return sc_node(sc, ty, r, r->root);
}

void tl_rules_match(const struct tl_ruleset *rs, const struct tl_view *v, enum tl_rule_phase ph,
                    struct tl_rules_scratch *sc, tl_rule_hit_fn hit, void *arg)
{
    const struct sg_type *ty = rs ? sg_type_of(rs, v->type) : NULL;
    uint32_t k = ph == TL_PHASE_LATE;
    if (!ty || !ty->nrules[k])
        return;
    sg_begin(sc, rs, ty, v, true);
    for (uint32_t i = 0; i < ty->nscans[k]; i++) /* the automata that decide which rules run */
        sc_scan(sc, ty, ty->scans[k][i] / 2, (int)(ty->scans[k][i] % 2));
    for (uint32_t i = 0; i < ty->nrules[k]; i++) {
        const struct tl_rule *r = ty->rules[k][i];
        if (r->ntrig && sc->cand[r->tidx] != sc->epoch)
            continue; /* none of the literals it needs is in the event */
        if (sg_eval(sc, ty, r) == SG_TRUE)
            hit(arg, r, v);
    }
}
