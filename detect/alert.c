/*
 * alert.c - the `alert` event (see rules.h): one per single-event match and
 * per correlation that fires.
 *
 * Both kinds share one field table, so --list-fields and the JSON agree. A
 * single-event alert carries the matched event's time, type and flow fields
 * (uid, community_id, id.*, proto: the Kafka key and joins work as for the
 * event itself) and `matched`, the fields the rule tested with their values
 * (null when absent). A correlation alert carries the group-by values, the
 * count, the value set or sum/average, the window and the contributing uids
 * (at most rules.max_alert_uids, then a count).
 */
#include <stdio.h>
#include <string.h>

#include "flow.h"
#include "sigma.h"

enum { ALERT_MAX_VALUES = 16 }; /* values listed per field in `matched` */

struct alert_rec {
    uint64_t ts;
    const char *id, *title, *level, *status;
    struct tl_strlist tags;
    const char *file;
    const char *event_type;
    char uid[TL_UID_LEN];
    char cid[TL_CID_LEN];
    struct tl_ip orig_h, resp_h;
    uint16_t orig_p, resp_p;
    bool has_ids;
    const char *proto;
    const char *matched;
    const char *corr_type;
    const char *group;
    bool is_corr, has_value;
    uint64_t count;
    const char *values;
    double value;
    uint64_t first, last, span;
    const char *uids;
    uint64_t uids_more;
    const char *rules;
};

#define A struct alert_rec
static const struct tl_field alert_fields[] = {
    TL_FIELD(A, ts, TS, "ts", "time of the matched event (correlation: of the last one)"),
    TL_FIELD_OPT(A, id, CSTR, "rule.id", "the rule's id"),
    TL_FIELD_OPT(A, title, CSTR, "rule.title", "the rule's title"),
    TL_FIELD_OPT(A, level, CSTR, "rule.level", "informational, low, medium, high or critical"),
    TL_FIELD_OPT(A, status, CSTR, "rule.status", "stable, test, experimental..."),
    TL_FIELD_OPT(A, tags, STRLIST, "rule.tags", "the rule's tags (attack.t1071.001...)"),
    TL_FIELD_OPT(A, file, CSTR, "rule.file", "the file the rule was loaded from"),
    TL_FIELD_OPT(A, event_type, CSTR, "matched_event_type", "event type of the matched event"),
    TL_FIELD_OPT(A, uid, CHARS, "uid", "the matched event's flow uid"),
    TL_FIELD_OPT_P(A, cid, CHARS, "community_id", "the matched event's Community ID"),
    TL_FIELD_IF_P(A, orig_h, IP, has_ids, "id.orig_h", "the matched event's originator address"),
    TL_FIELD_IF(A, orig_p, U16, has_ids, "id.orig_p", "the matched event's originator port"),
    TL_FIELD_IF_P(A, resp_h, IP, has_ids, "id.resp_h", "the matched event's responder address"),
    TL_FIELD_IF(A, resp_p, U16, has_ids, "id.resp_p", "the matched event's responder port"),
    TL_FIELD_OPT(A, proto, CSTR, "proto", "the matched event's transport protocol"),
    TL_FIELD_OPT_P(A, matched, RAWJSON, "matched",
                   "the fields the rule tested and their values (null: absent)"),
    TL_FIELD_OPT(A, corr_type, CSTR, "correlation.type",
                 "event_count, value_count, temporal, temporal_ordered, value_sum, value_avg"),
    TL_FIELD_OPT_P(A, group, RAWJSON, "correlation.group", "the group-by fields and their values"),
    TL_FIELD_IF(A, count, U64, is_corr, "correlation.count", "events counted in the window"),
    TL_FIELD_OPT_P(A, values, RAWJSON, "correlation.values",
                   "value_count: the distinct values (temporal: the rules seen)"),
    TL_FIELD_IF(A, value, F64, has_value, "correlation.value",
                "value_sum: the sum, value_avg: the mean"),
    TL_FIELD_IF(A, first, TS, is_corr, "correlation.start",
                "packet time of the first event counted"),
    TL_FIELD_IF(A, last, TS, is_corr, "correlation.end", "packet time of the last event counted"),
    TL_FIELD_IF(A, span, DUR, is_corr, "correlation.timespan", "the rule's timespan (s)"),
    TL_FIELD_OPT(A, uids, RAWJSON, "correlation.uids",
                 "uids of the events counted (the first ones)"),
    TL_FIELD_OPT(A, uids_more, U64, "correlation.uids_more", "uids counted but not listed"),
    TL_FIELD_OPT(A, rules, RAWJSON, "correlation.rules", "the rules whose matches were counted"),
};
#undef A

const struct tl_event_type tl_alert_event = {
    .name = "alert",
    .doc = "a Sigma rule matched an event, or a correlation of matches fired",
    .fields = alert_fields,
    .nfields = TL_ARRAY_LEN(alert_fields),
};

static void alert_meta(struct alert_rec *a, const struct sg_meta *m)
{
    a->id = m->id;
    a->title = m->title;
    a->level = m->level;
    a->status = m->status;
    a->tags = m->tags;
    a->file = m->file;
}

/* Whether text is a JSON number as written (a view's number text may be 0x...). */
static bool alert_json_number(const char *p, size_t n)
{
    size_t i = p[0] == '-';
    if (i >= n || p[i] < '0' || p[i] > '9' || (p[i] == '0' && i + 1 < n && p[i + 1] != '.'))
        return false;
    for (; i < n; i++)
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
            return false;
    return p[n - 1] != '.';
}

static void alert_value(struct tl_buf *b, const struct sg_val *v)
{
    if (v->kind == TL_V_BOOL)
        tl_buf_puts(b, v->num != 0 ? "true" : "false");
    else if (v->kind == TL_V_NUM && alert_json_number(v->raw, v->len))
        tl_buf_put(b, v->raw, v->len);
    else
        tl_json_string(b, v->raw, v->len);
}

/* "keywords": the keyword patterns of r found in the event (as the rule wrote them, lowered). */
static void alert_keywords(struct tl_rules_scratch *sc, const struct sg_type *ty,
                           const struct tl_rule *r, struct tl_buf *b, bool *first)
{
    unsigned listed = 0;
    for (uint32_t i = 0; i < r->ntests; i++) {
        const struct sg_test *t = &r->tests[i];
        if (t->kind != TK_PATS || ty->slots[t->slot].kind != SLOT_KEYWORDS)
            continue;
        for (uint32_t k = 0; k < t->npids && listed < ALERT_MAX_VALUES; k++) {
            const struct sg_pat *p = &ty->pats[t->pids[k]];
            if (p->kind != PK_LIT || !sg_found(sc, ty, t->pids[k]))
                continue;
            if (!listed++) {
                tl_json_key(b, first, "keywords");
                tl_buf_putc(b, '[');
            } else {
                tl_buf_putc(b, ',');
            }
            tl_json_string(b, (const char *)p->lit, p->len);
        }
    }
    if (listed)
        tl_buf_putc(b, ']');
}

/* {"field": value or [values] or null, ..., "keywords": [...]} for what r tests, NUL-ended. */
static void alert_matched(struct tl_rules_scratch *sc, const struct sg_type *ty,
                          const struct tl_rule *r, struct tl_buf *b)
{
    bool first = true;
    b->len = 0;
    tl_buf_putc(b, '{');
    for (uint32_t i = 0; i < r->nslots; i++) {
        size_t n;
        const struct sg_val *v = sg_values(sc, ty, r->slots[i], &n);
        tl_json_key(b, &first, ty->slots[r->slots[i]].name);
        if (n == 0)
            tl_buf_puts(b, "null");
        else if (n == 1)
            alert_value(b, v);
        for (size_t k = 0; n > 1 && k < n && k < ALERT_MAX_VALUES; k++) {
            tl_buf_putc(b, k ? ',' : '[');
            alert_value(b, &v[k]);
        }
        if (n > 1)
            tl_buf_putc(b, ']');
    }
    alert_keywords(sc, ty, r, b, &first);
    tl_buf_put(b, "}", 2); /* with its NUL */
}

/* The matched event's time and flow fields. */
static void alert_ids(struct alert_rec *a, const struct sg_type *ty, const struct tl_view *v,
                      struct tl_values *vs)
{
    for (int k = 0; k < ID_N; k++) {
        if (!ty->has_id[k])
            continue;
        tl_values_reset(vs);
        tl_view_values(v, ty->ids[k], vs);
        if (!vs->n)
            continue;
        const struct tl_value *x = &vs->v[0];
        switch (k) {
        case ID_TS: a->ts = (uint64_t)x->num; break;
        case ID_UID: snprintf(a->uid, sizeof(a->uid), "%.*s", (int)x->s.len, x->s.ptr); break;
        case ID_CID: snprintf(a->cid, sizeof(a->cid), "%.*s", (int)x->s.len, x->s.ptr); break;
        case ID_ORIG_H: a->orig_h = x->ip; break;
        case ID_RESP_H: a->resp_h = x->ip; break;
        case ID_ORIG_P: a->orig_p = (uint16_t)x->num; break;
        case ID_RESP_P: a->resp_p = (uint16_t)x->num; break;
        case ID_PROTO: a->proto = x->s.ptr; break; /* CSTR: static text or the record's */
        default: break;
        }
    }
    a->has_ids = ty->has_id[ID_ORIG_H] && ty->has_id[ID_RESP_H];
}

void tl_alert_json(struct tl_buf *b, const char *sensor, const struct tl_rule *r,
                   const struct tl_view *v, struct tl_rules_scratch *sc)
{
    const struct sg_type *ty = &r->rs->types[r->type];
    struct alert_rec a = { 0 };
    sg_begin(sc, r->rs, ty, v, false);
    alert_meta(&a, &r->m);
    a.event_type = v->type->name;
    alert_ids(&a, ty, v, sg_scratch_values(sc));
    struct tl_buf *m = sg_scratch_buf(sc);
    alert_matched(sc, ty, r, m);
    a.matched = m->p;
    tl_event_json(b, &tl_alert_event, sensor, &a);
}

void sg_alert_corr_json(struct tl_buf *b, const char *sensor, const struct sg_corr_alert *c)
{
    static const char *const kinds[] = { "event_count",      "value_count", "temporal",
                                         "temporal_ordered", "value_sum",   "value_avg" };
    struct alert_rec a = { 0 };
    alert_meta(&a, &c->c->m);
    a.ts = c->ts;
    a.corr_type = kinds[c->c->kind];
    a.group = c->group;
    a.is_corr = true;
    a.count = c->count;
    a.values = c->values;
    a.value = c->value;
    a.has_value = c->has_value;
    a.first = c->first;
    a.last = c->last;
    a.span = c->c->span_us;
    a.uids = c->uids;
    a.uids_more = c->uids_more;
    a.rules = c->rules;
    tl_event_json(b, &tl_alert_event, sensor, &a);
}
