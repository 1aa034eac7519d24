/*
 * emit.c - what happens to every record a worker makes.
 *
 * In this order: user names become pseudonyms (privacy.*, so rules and
 * outputs see the same values); the name the event is about gets its
 * canonical form and registered domain (domain.h); the single-event rules run
 * (an alert is written at once, a correlation's input goes to the
 * coordinator); then the event is written, unless the domain statistics count
 * its name: then it goes to the coordinator, which adds the statistics as of
 * the event's moment, runs the rules that read them, and writes it.
 */
#include <stdlib.h>
#include <string.h>

#include "flow.h"
#include "privacy.h"
#include "worker.h"

uint64_t tl_worker_order(const struct tl_worker *w, uint64_t rec_ts)
{
    /* A request written alone once it expired (order_us 0): its deadline. */
    uint64_t us = w->order_us ? w->order_us : rec_ts + w->cfg->pending_timeout;
    return tl_vtime(w->epoch, us);
}

void tl_worker_send(struct tl_worker *w, const struct tl_flow *f, struct tl_cmsg *m)
{
    m->flow_order = f ? tl_fkey_fixed(&f->key) : 0;
    m->seq = w->cseq++;
    w->unrung++;
    tl_worker_push(w, &w->coord, m);
}

static struct tl_cmsg *emit_cmsg(enum tl_cmsg_kind kind, uint64_t order_us)
{
    struct tl_cmsg *m = calloc(1, sizeof(*m));
    if (!m)
        abort(); /* bounded by the ring and coordinator.max_held */
    m->kind = (uint8_t)kind;
    m->order_us = order_us;
    return m;
}

struct emit_call {
    struct tl_worker *w;
    const struct tl_flow *f;
    uint64_t order_us;
};

static void emit_hit(void *arg, const struct tl_rule *r, const struct tl_view *v)
{
    struct emit_call *c = arg;
    struct tl_worker *w = c->w;

    w->st.v[TL_STAT_RULES_MATCHES]++;
    if (tl_rule_alerts(r)) {
        tl_alert_json(w->events, w->cfg->sensor, r, v, w->rscratch);
        w->st.v[TL_STAT_ALERTS]++;
    }
    struct tl_corr_input *in = tl_corr_inputs(w->rules, r, v, w->rscratch);
    if (in) {
        struct tl_cmsg *m = emit_cmsg(TL_CMSG_CORR, c->order_us);
        m->u.corr = in;
        m->rules = w->rules;
        tl_worker_send(w, c->f, m);
    }
}

/* The event as written so far, its name and (for late rules) its record, for the coordinator. */
static void emit_held(struct emit_call *c, const struct tl_event_type *t, const void *rec,
                      size_t size, const struct tl_domain_enrich *e,
                      const struct tl_domain_name *nm)
{
    struct tl_worker *w = c->w;
    const struct tl_flow_ids *ids = rec;

    w->held.len = 0;
    tl_event_json_begin(&w->held, t, w->cfg->sensor, rec);
    tl_event_json_more(&w->held, &tl_domain_names_fields, e);
    bool late = w->rules && tl_rules_wants(w->rules, t, TL_PHASE_LATE);
    struct tl_cmsg *m =
        tl_cmsg_event_new(&w->hold, nm, w->held.len, late ? tl_record_clone_size(t, rec, size) : 0);
    if (!m)
        abort(); /* bounded by the ring and coordinator.max_held */
    struct tl_cmsg_event *ev = m->u.ev;
    if (ev->clone)
        tl_record_clone_into(t, rec, size, ev->clone);
    ev->type = t;
    ev->host = ids->orig_h;
    ev->ts_us = ids->ts;
    memcpy(ev->json, w->held.p, w->held.len);
    m->order_us = c->order_us;
    tl_worker_send(w, c->f, m);
}

void tl_worker_emit(struct tl_worker *w, const struct tl_flow *f, const struct tl_event_type *t,
                    void *rec, size_t size, struct tl_str domain)
{
    const struct tl_flow_ids *ids = rec;
    struct emit_call c = { w, f, tl_worker_order(w, ids->ts) };
    struct tl_view v = { t, rec, NULL };
    struct tl_domain_enrich e;
    struct tl_domain_name nm;
    bool counted = false;

    tl_privacy_apply(w->det->privacy, t, rec, &w->l7.arena);
    if (t->ext) {
        memset(&e, 0, sizeof(e));
        if (domain.len && w->det->domains) {
            counted =
                tl_domain_name(w->det->domains, domain.ptr, domain.len, &nm) == TL_DOM_COUNTED;
            tl_domain_enrich_names(&e, &nm);
            if (!counted)
                w->st.v[TL_STAT_DOM_NOT_COUNTED]++;
        }
        v.ext = &e;
    }
    if (w->rules) {
        w->st.v[TL_STAT_RULES_EVENTS]++;
        tl_rules_match(w->rules, &v, TL_PHASE_RECORD, w->rscratch, emit_hit, &c);
        if (!counted) /* no statistics will come: the late rules see them absent now */
            tl_rules_match(w->rules, &v, TL_PHASE_LATE, w->rscratch, emit_hit, &c);
    }
    if (counted) {
        emit_held(&c, t, rec, size, &e, &nm);
        return;
    }
    tl_event_json_begin(w->events, t, w->cfg->sensor, rec);
    for (const struct tl_event_type *x = t->ext; x; x = x->ext)
        tl_event_json_more(w->events, x, &e);
    tl_event_json_end(w->events);
    w->st.v[TL_STAT_EVENTS]++;
    if (w->events->len >= TL_WORKER_SHIP_BYTES)
        tl_worker_ship_events(w);
}
