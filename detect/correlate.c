/*
 * correlate.c - Sigma 2.1 correlations over base-rule matches, on the
 * coordinator's thread (see rules.h).
 *
 * Every match of a base rule a correlation reads becomes an input (its time,
 * uid, group-by values and value field, copied), applied here in packet-time
 * order. State is kept per (correlation, group-by values):
 *   - gt/gte conditions are checked as each input arrives, over a sliding
 *     window of `timespan` ending at it; when they hold, the correlation
 *     alerts and the group starts afresh (each alert counts new events);
 *   - lt/lte/eq/neq (alone or with others) are checked when the window that
 *     the group's first input opened closes (tick or a later input), since
 *     "fewer than" is only known at the end.
 * event_count counts inputs, value_count distinct values of the field,
 * temporal distinct rules (default: all of them), temporal_ordered the rules
 * in their listed order, value_sum/value_avg the field's numbers. A
 * correlation that others read feeds them an input per alert (chaining).
 * Groups and held entries together are capped by rules.max_state: past it the
 * least recently updated group is forgotten and counted. Nothing depends on
 * hash order, so the same inputs in the same order give the same alerts.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "sigma.h"
#include "stats.h"

enum { CR_MAX_VALUES = 64 }; /* values one input carries for value_count */

struct tl_corr_input {
    struct tl_corr_input *next;
    uint32_t corr, pos;
    uint64_t ts;
    char uid[TL_UID_LEN];
    const char *gv[SG_MAX_GROUP]; /* group-by values, NULL when absent */
    const char **vals;            /* value_count: the field's values */
    uint32_t nvals;
    double num; /* value_sum, value_avg: the field's first number */
    bool has_num;
    _Alignas(void *) char data[]; /* vals[], then the texts gv and vals point to */
};

struct cr_entry {
    uint64_t ts;
    uint32_t pos;
    double num;
    char *val; /* value_count: owned */
    char uid[TL_UID_LEN];
};

struct cr_group {
    struct cr_group *hnext;         /* hash chain */
    struct cr_group *lprev, *lnext; /* by last update, oldest first */
    struct cr_group *fnext;         /* at_end: the correlation's groups by opening */
    uint64_t hash, seq;
    uint32_t corr;
    char **gv; /* the group's values (NULL entries: absent) */
    uint64_t first_ts, last_ts, deadline;
    struct cr_entry *e; /* in time order: e[head..n) live */
    uint32_t head, n, cap;
    uint64_t count;    /* at_end: inputs in the window */
    uint64_t nnum;     /* at_end: inputs with a number (value_avg) */
    uint64_t unlisted; /* at_end: inputs counted without an entry (their uids not listed) */
    double sum;
    uint64_t *step; /* temporal_ordered: start of the sequence that reached step i, +1 (0: none) */
    bool pinned;    /* being fired or closed: not to be evicted meanwhile */
};

struct cr_fifo {
    struct cr_group *head, *tail;
};

struct tl_corr {
    const struct tl_ruleset *rs;
    struct cr_group **buckets;
    size_t nbuckets, ngroups;
    struct cr_group *lru_head, *lru_tail;
    struct cr_fifo *fifo; /* per correlation */
    uint64_t held;        /* groups + entries */
    uint64_t max_state, max_uids, seq, max_span;
    uint64_t matches, alerts, capped;
    const char *sensor;
    struct tl_buf *out;
    struct tl_buf scratch;
};

/* ---- inputs ---- */

static size_t cr_text(struct tl_values *vs, size_t i, const char **p)
{
    *p = vs->v[i].s.ptr;
    return vs->v[i].s.len;
}

struct tl_corr_input *tl_corr_input_next(const struct tl_corr_input *in)
{
    return in->next;
}

void tl_corr_input_free(struct tl_corr_input *in)
{
    free(in);
}

/* One input for use u of a rule match, copied out of the event. */
static struct tl_corr_input *cr_input(struct tl_rules_scratch *sc, const struct sg_type *ty,
                                      const struct sg_corr *c, const struct sg_use *u, uint64_t ts,
                                      const char *uid)
{
    size_t need = 0, n;
    const struct sg_val *v;
    uint32_t nvals = 0;

    for (uint32_t g = 0; g < c->ngroup; g++) {
        v = sg_values(sc, ty, u->gslots[g], &n);
        need += n ? v[0].len + 1 : 0;
    }
    if (u->vslot != UINT32_MAX && c->kind == CORR_VALUE_COUNT) {
        v = sg_values(sc, ty, u->vslot, &n);
        for (size_t i = 0; i < n && nvals < CR_MAX_VALUES; i++, nvals++)
            need += v[i].len + 1 + sizeof(char *);
    }
    struct tl_corr_input *in = calloc(1, sizeof(*in) + need + sizeof(char *));
    if (!in)
        return NULL;
    in->corr = u->corr;
    in->pos = u->pos;
    in->ts = ts;
    snprintf(in->uid, sizeof(in->uid), "%s", uid);
    char *p = in->data;
    in->vals = (const char **)(void *)p; /* pointers first: data is aligned for them */
    p += nvals * sizeof(char *);
    for (uint32_t g = 0; g < c->ngroup; g++) {
        v = sg_values(sc, ty, u->gslots[g], &n);
        if (!n)
            continue;
        memcpy(p, v[0].raw, v[0].len);
        p[v[0].len] = '\0';
        in->gv[g] = p;
        p += v[0].len + 1;
    }
    if (u->vslot == UINT32_MAX)
        return in;
    v = sg_values(sc, ty, u->vslot, &n);
    if (c->kind == CORR_VALUE_COUNT) {
        for (uint32_t i = 0; i < nvals; i++) {
            memcpy(p, v[i].raw, v[i].len);
            p[v[i].len] = '\0';
            in->vals[in->nvals++] = p;
            p += v[i].len + 1;
        }
    } else {
        for (size_t i = 0; i < n && !in->has_num; i++) {
            in->has_num = v[i].kind == TL_V_NUM || sg_number(v[i].raw, v[i].len, &in->num);
            if (v[i].kind == TL_V_NUM)
                in->num = v[i].num;
        }
    }
    return in;
}

struct tl_corr_input *tl_corr_inputs(const struct tl_ruleset *rs, const struct tl_rule *r,
                                     const struct tl_view *v, struct tl_rules_scratch *sc)
{
    const struct sg_type *ty = &rs->types[r->type];
    struct tl_corr_input *head = NULL, **tail = &head;
    uint64_t ts = 0;
    char uid[TL_UID_LEN] = "";

    if (!r->nuses)
        return NULL;
    sg_begin(sc, rs, ty, v, false);
    struct tl_values *vs = sg_scratch_values(sc);
    for (int k = ID_TS; k <= ID_UID; k++) {
        if (!ty->has_id[k])
            continue;
        tl_values_reset(vs);
        tl_view_values(v, ty->ids[k], vs);
        const char *p;
        size_t len = vs->n ? cr_text(vs, 0, &p) : 0;
        if (vs->n && k == ID_TS)
            ts = (uint64_t)vs->v[0].num;
        else if (vs->n)
            snprintf(uid, sizeof(uid), "%.*s", (int)len, p);
    }
    for (uint32_t i = 0; i < r->nuses; i++) {
        const struct sg_corr *c = &rs->corrs[r->uses[i].corr];
        if (c->dead)
            continue;
        struct tl_corr_input *in = cr_input(sc, ty, c, &r->uses[i], ts, uid);
        if (!in)
            abort(); /* as tl_buf: bounded upstream */
        *tail = in;
        tail = &in->next;
    }
    return head;
}

/* ---- groups ---- */

struct tl_corr *tl_corr_new(const struct tl_ruleset *rs, const struct tl_rules_env *env)
{
    struct tl_corr *c = calloc(1, sizeof(*c));
    if (!c)
        return NULL;
    c->rs = rs;
    c->max_state = env->max_state ? env->max_state : 1;
    c->max_uids = env->max_alert_uids;
    c->nbuckets = 1024;
    c->buckets = calloc(c->nbuckets, sizeof(*c->buckets));
    c->fifo = calloc(rs->ncorrs + 1, sizeof(*c->fifo));
    if (!c->buckets || !c->fifo) {
        tl_corr_free(c);
        return NULL;
    }
    for (uint32_t k = 0; k < rs->ncorrs; k++)
        if (rs->corrs[k].span_us > c->max_span)
            c->max_span = rs->corrs[k].span_us;
    return c;
}

static uint64_t cr_hash(uint32_t corr, const char *const *gv, uint32_t ngroup)
{
    uint64_t h = 1469598103934665603ull ^ corr;
    for (uint32_t g = 0; g < ngroup; g++) {
        const char *s = gv[g];
        h = (h ^ (s ? 1 : 2)) * 1099511628211ull;
        for (; s && *s; s++)
            h = (h ^ (uint8_t)*s) * 1099511628211ull;
    }
    return h;
}

static bool cr_same(const struct cr_group *gr, uint32_t corr, const char *const *gv, uint32_t ng)
{
    if (gr->corr != corr)
        return false;
    for (uint32_t g = 0; g < ng; g++)
        if ((gr->gv[g] == NULL) != (gv[g] == NULL) || (gv[g] && strcmp(gr->gv[g], gv[g]) != 0))
            return false;
    return true;
}

static void cr_lru_unlink(struct tl_corr *c, struct cr_group *gr)
{
    if (gr->lprev)
        gr->lprev->lnext = gr->lnext;
    else
        c->lru_head = gr->lnext;
    if (gr->lnext)
        gr->lnext->lprev = gr->lprev;
    else
        c->lru_tail = gr->lprev;
    gr->lprev = gr->lnext = NULL;
}

static void cr_lru_touch(struct tl_corr *c, struct cr_group *gr)
{
    if (c->lru_tail == gr)
        return;
    if (gr->lprev || gr->lnext || c->lru_head == gr)
        cr_lru_unlink(c, gr);
    gr->lprev = c->lru_tail;
    if (c->lru_tail)
        c->lru_tail->lnext = gr;
    else
        c->lru_head = gr;
    c->lru_tail = gr;
}

static void cr_entry_drop(struct tl_corr *c, struct cr_group *gr)
{
    free(gr->e[gr->head].val);
    gr->head++;
    c->held--;
}

static void cr_clear(struct tl_corr *c, struct cr_group *gr)
{
    while (gr->head < gr->n)
        cr_entry_drop(c, gr);
    gr->head = gr->n = 0;
    gr->count = gr->nnum = gr->unlisted = 0;
    gr->sum = 0;
    if (gr->step)
        memset(gr->step, 0, c->rs->corrs[gr->corr].nrefs * sizeof(*gr->step));
}

/* Unlinks and frees a group (from the hash, the LRU list; the caller handles the fifo). */
static void cr_free_group(struct tl_corr *c, struct cr_group *gr)
{
    struct cr_group **pp = &c->buckets[gr->hash & (c->nbuckets - 1)];
    while (*pp && *pp != gr)
        pp = &(*pp)->hnext;
    if (*pp)
        *pp = gr->hnext;
    cr_lru_unlink(c, gr);
    cr_clear(c, gr);
    for (uint32_t g = 0; g < c->rs->corrs[gr->corr].ngroup; g++)
        free(gr->gv[g]);
    free(gr->gv);
    free(gr->e);
    free(gr->step);
    free(gr);
    c->ngroups--;
    c->held--;
}

static void cr_fifo_remove(struct tl_corr *c, struct cr_group *gr)
{
    struct cr_fifo *f = &c->fifo[gr->corr];
    struct cr_group *prev = NULL;
    for (struct cr_group *x = f->head; x; prev = x, x = x->fnext)
        if (x == gr) {
            if (prev)
                prev->fnext = x->fnext;
            else
                f->head = x->fnext;
            if (f->tail == x)
                f->tail = prev;
            return;
        }
}

/* Forgets the least recently updated group other than keep and the pinned; false if none. */
static bool cr_evict(struct tl_corr *c, const struct cr_group *keep)
{
    struct cr_group *gr = c->lru_head;
    while (gr && (gr == keep || gr->pinned))
        gr = gr->lnext;
    if (!gr)
        return false;
    if (c->rs->corrs[gr->corr].at_end)
        cr_fifo_remove(c, gr);
    cr_free_group(c, gr);
    c->capped++;
    return true;
}

static void cr_rehash(struct tl_corr *c)
{
    size_t n = c->nbuckets * 2;
    struct cr_group **b = calloc(n, sizeof(*b));
    if (!b)
        return; /* longer chains, still correct */
    for (size_t i = 0; i < c->nbuckets; i++)
        for (struct cr_group *gr = c->buckets[i], *next; gr; gr = next) {
            next = gr->hnext;
            gr->hnext = b[gr->hash & (n - 1)];
            b[gr->hash & (n - 1)] = gr;
        }
    free(c->buckets);
    c->buckets = b;
    c->nbuckets = n;
}

static struct cr_group *cr_group(struct tl_corr *c, uint32_t corr, const char *const *gv)
{
    const struct sg_corr *sc = &c->rs->corrs[corr];
    uint64_t h = cr_hash(corr, gv, sc->ngroup);
    for (struct cr_group *gr = c->buckets[h & (c->nbuckets - 1)]; gr; gr = gr->hnext)
        if (gr->hash == h && cr_same(gr, corr, gv, sc->ngroup))
            return gr;
    struct cr_group *gr = calloc(1, sizeof(*gr));
    if (!gr || !(gr->gv = calloc(sc->ngroup + 1, sizeof(*gr->gv))) ||
        (sc->kind == CORR_TEMPORAL_ORDERED && !(gr->step = calloc(sc->nrefs, sizeof(*gr->step)))))
        abort(); /* as tl_buf: the state is capped */
    for (uint32_t g = 0; g < sc->ngroup; g++)
        if (gv[g] && !(gr->gv[g] = strdup(gv[g])))
            abort();
    gr->hash = h;
    gr->corr = corr;
    gr->seq = c->seq++;
    gr->hnext = c->buckets[h & (c->nbuckets - 1)];
    c->buckets[h & (c->nbuckets - 1)] = gr;
    if (sc->at_end) {
        struct cr_fifo *f = &c->fifo[corr];
        if (f->tail)
            f->tail->fnext = gr;
        else
            f->head = gr;
        f->tail = gr;
    }
    c->ngroups++;
    c->held++;
    if (c->ngroups > c->nbuckets)
        cr_rehash(c);
    return gr;
}

/* ---- conditions and alerts ---- */

static bool cr_cmp(uint8_t cmp, double a, double b)
{
    switch (cmp) {
    case CMP_EQ: return a == b;
    case CMP_NEQ: return a != b;
    case CMP_GT: return a > b;
    case CMP_GTE: return a >= b;
    case CMP_LT: return a < b;
    case CMP_LTE: return a <= b;
    default: return false;
    }
}

/* How many distinct values (or rules) are worth holding: past it no condition changes. */
static uint64_t cr_enough(const struct sg_corr *sc)
{
    double most = 0;
    for (uint32_t i = 0; i < sc->ncond; i++)
        if (sc->cond[i].v > most)
            most = sc->cond[i].v;
    return most >= 1e9 ? 1000000000ull : (uint64_t)most + 2;
}

/* The number the conditions test. */
static double cr_metric(const struct sg_corr *sc, const struct cr_group *gr)
{
    uint32_t live = gr->n - gr->head;
    switch (sc->kind) {
    case CORR_EVENT_COUNT: return sc->at_end ? (double)gr->count : live;
    case CORR_VALUE_SUM: return gr->sum;
    case CORR_VALUE_AVG: {
        double n = sc->at_end ? (double)gr->nnum : live;
        return n ? gr->sum / n : 0;
    }
    case CORR_TEMPORAL_ORDERED: {
        uint32_t k = 0;
        while (k < sc->nrefs && gr->step[k])
            k++;
        return k;
    }
    default: return live; /* value_count, temporal: entries are distinct */
    }
}

static bool cr_holds(const struct sg_corr *sc, const struct cr_group *gr)
{
    double m = cr_metric(sc, gr);
    for (uint32_t i = 0; i < sc->ncond; i++)
        if (!cr_cmp(sc->cond[i].cmp, m, sc->cond[i].v))
            return false;
    return true;
}

static void cr_json_list_end(struct tl_buf *b, bool any)
{
    tl_buf_puts(b, any ? "]" : "[]");
}

static void cr_feed(struct tl_corr *c, struct tl_corr_input *in);

/* Writes the alert of group gr at time ts, and feeds the correlations that read this one. */
static void cr_fire(struct tl_corr *c, struct cr_group *gr, uint64_t ts)
{
    const struct sg_corr *sc = &c->rs->corrs[gr->corr];
    struct tl_buf *b = &c->scratch;
    size_t o_group, o_values = 0, o_uids, o_rules;
    struct sg_corr_alert a = { .c = sc, .ts = ts };
    bool first = true;

    b->len = 0;
    o_group = b->len;
    tl_buf_putc(b, '{');
    for (uint32_t g = 0; g < sc->ngroup; g++) {
        tl_json_key(b, &first, sc->group[g]);
        if (gr->gv[g])
            tl_json_string(b, gr->gv[g], strlen(gr->gv[g]));
        else
            tl_buf_puts(b, "null");
    }
    tl_buf_put(b, "}", 2);
    bool listed = sc->kind == CORR_VALUE_COUNT;
    if (listed) {
        o_values = b->len;
        for (uint32_t i = gr->head; i < gr->n; i++) {
            tl_buf_putc(b, i == gr->head ? '[' : ',');
            tl_json_string(b, gr->e[i].val, strlen(gr->e[i].val));
        }
        cr_json_list_end(b, gr->n > gr->head);
        tl_buf_putc(b, '\0');
    }
    o_uids = b->len;
    uint64_t listed_uids = 0;
    a.uids_more = gr->unlisted;
    for (uint32_t i = gr->head; i < gr->n; i++) {
        bool dup = !gr->e[i].uid[0];
        for (uint32_t k = gr->head; k < i && !dup; k++)
            dup = strcmp(gr->e[k].uid, gr->e[i].uid) == 0;
        if (dup)
            continue;
        if (listed_uids == c->max_uids) {
            a.uids_more++;
            continue;
        }
        tl_buf_putc(b, listed_uids++ ? ',' : '[');
        tl_json_string(b, gr->e[i].uid, strlen(gr->e[i].uid));
    }
    cr_json_list_end(b, listed_uids > 0);
    tl_buf_putc(b, '\0');
    o_rules = b->len;
    bool any = false;
    for (uint32_t p = 0; p < sc->nrefs; p++) {
        bool seen = false;
        for (uint32_t i = gr->head; i < gr->n && !seen; i++)
            seen = gr->e[i].pos == p;
        if (!seen)
            continue;
        tl_buf_putc(b, any ? ',' : '[');
        tl_json_string(b, sc->refs[p].label, strlen(sc->refs[p].label));
        any = true;
    }
    cr_json_list_end(b, any);
    tl_buf_putc(b, '\0');
    a.group = b->p + o_group;
    a.values = listed ? b->p + o_values : NULL;
    a.uids = b->p + o_uids;
    a.rules = b->p + o_rules;
    a.count = sc->at_end ? gr->count : gr->n - gr->head;
    a.has_value = sc->kind == CORR_VALUE_SUM || sc->kind == CORR_VALUE_AVG;
    a.value = a.has_value ? cr_metric(sc, gr) : 0;
    a.first = gr->n > gr->head ? gr->e[gr->head].ts : gr->first_ts;
    a.last = gr->n > gr->head ? gr->e[gr->n - 1].ts : gr->last_ts;
    if (sc->alerts) {
        sg_alert_corr_json(c->out, c->sensor, &a);
        c->alerts++;
    }
    gr->pinned = true; /* what the chained correlations do cannot evict gr */
    for (uint32_t k = 0; k < sc->nuses; k++) {
        const struct sg_use *u = &sc->uses[k];
        const struct sg_corr *outer = &c->rs->corrs[u->corr];
        struct tl_corr_input *in = calloc(1, sizeof(*in));
        if (!in)
            abort();
        in->corr = u->corr;
        in->pos = u->pos;
        in->ts = ts;
        for (uint32_t g = 0; g < outer->ngroup; g++)
            in->gv[g] = gr->gv[u->gslots[g]];
        cr_feed(c, in); /* the chain is acyclic (checked at load) */
        free(in);
    }
    gr->pinned = false;
}

/* ---- applying inputs ---- */

static void cr_push(struct tl_corr *c, struct cr_group *gr, const struct tl_corr_input *in,
                    const char *val)
{
    if (gr->head > 0 && gr->head == gr->n)
        gr->head = gr->n = 0;
    if (gr->n == gr->cap) {
        if (gr->head > gr->cap / 2) { /* reuse the dropped front */
            memmove(gr->e, gr->e + gr->head, (gr->n - gr->head) * sizeof(*gr->e));
            gr->n -= gr->head;
            gr->head = 0;
        } else if (sg_grow((void **)&gr->e, &gr->cap, gr->n + 1, sizeof(*gr->e))) {
            abort();
        }
    }
    struct cr_entry *e = &gr->e[gr->n++];
    memset(e, 0, sizeof(*e));
    e->ts = in->ts;
    e->pos = in->pos;
    e->num = in->num;
    memcpy(e->uid, in->uid, sizeof(e->uid));
    if (val && !(e->val = strdup(val)))
        abort();
    c->held++;
}

/* Removes the live entry i (a value or rule seen again), keeping time order. */
static void cr_remove(struct tl_corr *c, struct cr_group *gr, uint32_t i)
{
    free(gr->e[i].val);
    memmove(gr->e + i, gr->e + i + 1, (gr->n - i - 1) * sizeof(*gr->e));
    gr->n--;
    c->held--;
}

/* Entries older than the window that ends at ts leave (sliding windows). */
static void cr_slide(struct tl_corr *c, const struct sg_corr *sc, struct cr_group *gr, uint64_t ts)
{
    while (gr->head < gr->n && gr->e[gr->head].ts + sc->span_us < ts) {
        gr->sum -= gr->e[gr->head].num;
        cr_entry_drop(c, gr);
    }
    for (uint32_t k = 0; gr->step && k < sc->nrefs; k++)
        if (gr->step[k] && gr->step[k] - 1 + sc->span_us < ts)
            gr->step[k] = 0;
}

/* The entry for one input: distinct values and rules replace their older entry. */
static void cr_add(struct tl_corr *c, const struct sg_corr *sc, struct cr_group *gr,
                   const struct tl_corr_input *in, const char *val)
{
    bool distinct = sc->kind == CORR_VALUE_COUNT || sc->kind == CORR_TEMPORAL;
    for (uint32_t i = gr->head; distinct && i < gr->n; i++)
        if (val ? strcmp(gr->e[i].val, val) == 0 : gr->e[i].pos == in->pos) {
            cr_remove(c, gr, i);
            break;
        }
    /* At the window's end only the count matters past a point: a count held at
     * cr_enough() compares with every threshold as the true count would. */
    if (sc->at_end && distinct && gr->n - gr->head >= cr_enough(sc))
        return;
    if (sc->at_end && !distinct && gr->n - gr->head >= c->max_uids) {
        gr->unlisted++;
        return;
    }
    cr_push(c, gr, in, val);
}

/* A window that closed: its verdict (lt, lte, eq, neq), then the group goes. */
static void cr_close(struct tl_corr *c, struct cr_group *gr)
{
    const struct sg_corr *sc = &c->rs->corrs[gr->corr];
    gr->pinned = true;
    if (cr_holds(sc, gr))
        cr_fire(c, gr, gr->deadline);
    cr_fifo_remove(c, gr);
    cr_free_group(c, gr);
}

static void cr_ordered(const struct sg_corr *sc, struct cr_group *gr,
                       const struct tl_corr_input *in)
{
    if (in->pos == 0)
        gr->step[0] = in->ts + 1;
    else if (gr->step[in->pos - 1] && gr->step[in->pos - 1] > gr->step[in->pos])
        gr->step[in->pos] = gr->step[in->pos - 1];
    (void)sc;
}

static void cr_feed(struct tl_corr *c, struct tl_corr_input *in)
{
    const struct sg_corr *sc = &c->rs->corrs[in->corr];
    if (sc->dead)
        return;
    c->matches++;
    struct cr_group *gr = cr_group(c, in->corr, in->gv);
    if (sc->at_end && gr->count > 0 && in->ts > gr->deadline) {
        cr_close(c, gr); /* the window this group opened is over: a new one opens */
        gr = cr_group(c, in->corr, in->gv);
    }
    if (!gr->count && gr->n == gr->head) {
        gr->first_ts = in->ts;
        gr->deadline = in->ts + sc->span_us;
    }
    gr->last_ts = in->ts;
    cr_lru_touch(c, gr);
    if (!sc->at_end)
        cr_slide(c, sc, gr, in->ts);
    gr->count++;
    if (sc->kind == CORR_VALUE_COUNT) {
        for (uint32_t i = 0; i < in->nvals; i++)
            cr_add(c, sc, gr, in, in->vals[i]);
    } else if (sc->kind != CORR_VALUE_SUM && sc->kind != CORR_VALUE_AVG) {
        cr_add(c, sc, gr, in, NULL);
    } else if (in->has_num) {
        gr->sum += in->num;
        gr->nnum++;
        cr_add(c, sc, gr, in, NULL);
    }
    if (gr->step)
        cr_ordered(sc, gr, in);
    while (c->held > c->max_state && cr_evict(c, gr))
        ;
    while (c->held > c->max_state && gr->head < gr->n) { /* this group alone is too big */
        gr->sum -= gr->e[gr->head].num;
        cr_entry_drop(c, gr);
        c->capped++;
    }
    if (!sc->at_end && cr_holds(sc, gr)) {
        cr_fire(c, gr, in->ts);
        cr_clear(c, gr);
    }
}

void tl_corr_feed(struct tl_corr *c, struct tl_corr_input *in, struct tl_buf *out,
                  const char *sensor)
{
    c->out = out;
    c->sensor = sensor;
    if (in->corr < c->rs->ncorrs)
        cr_feed(c, in);
    tl_corr_input_free(in);
}

/* Closed windows, oldest deadline first (ties: opening order). */
static int cr_deadline_cmp(const void *x, const void *y)
{
    const struct cr_group *a = *(struct cr_group *const *)x, *b = *(struct cr_group *const *)y;
    if (a->deadline != b->deadline)
        return a->deadline < b->deadline ? -1 : 1;
    return a->seq < b->seq ? -1 : a->seq > b->seq;
}

void tl_corr_tick(struct tl_corr *c, uint64_t now_us, struct tl_buf *out, const char *sensor)
{
    struct cr_group **due = NULL;
    size_t ndue = 0;
    c->out = out;
    c->sensor = sensor;
    for (uint32_t k = 0; k < c->rs->ncorrs; k++)
        for (struct cr_group *gr = c->fifo[k].head; gr && gr->deadline < now_us; gr = gr->fnext) {
            struct cr_group **d = realloc(due, (ndue + 1) * sizeof(*d));
            if (!d)
                abort();
            due = d;
            due[ndue++] = gr;
            gr->pinned = true; /* closing one cannot evict another */
        }
    if (ndue > 1)
        qsort(due, ndue, sizeof(*due), cr_deadline_cmp);
    for (size_t i = 0; i < ndue; i++)
        cr_close(c, due[i]);
    free(due);
    /* Sliding windows with nothing left in them go. The list is by last update,
     * so past the longest timespan nothing further can be idle. */
    for (struct cr_group *gr = c->lru_head, *next; gr; gr = next) {
        const struct sg_corr *sc = &c->rs->corrs[gr->corr];
        next = gr->lnext;
        if (gr->last_ts + c->max_span >= now_us)
            break;
        if (!sc->at_end && gr->last_ts + sc->span_us < now_us)
            cr_free_group(c, gr);
    }
}

void tl_corr_counters(const struct tl_corr *c, struct tl_stats *st)
{
    st->v[TL_STAT_RULES_MATCHES] += c->matches;
    st->v[TL_STAT_ALERTS] += c->alerts;
    st->v[TL_STAT_RULES_STATE_CAPPED] += c->capped;
}

void tl_corr_free(struct tl_corr *c)
{
    if (!c)
        return;
    while (c->lru_head)
        cr_free_group(c, c->lru_head);
    free(c->buckets);
    free(c->fifo);
    tl_buf_free(&c->scratch);
    free(c);
}
