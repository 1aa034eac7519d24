/*
 * rules.h - Sigma rules over tapline's events: loading, matching, correlation, alerts.
 *
 * Rules are Sigma (specification 2.1, with 2.2's `re` sub-modifiers), read
 * from YAML and evaluated natively over the typed records (view.h), by field
 * name through the event types' tables, so any field an event has is
 * matchable. Logsources route a rule to one event type (product zeek with
 * service dns/http/kerberos/ldap/conn/rdp; category dns/proxy/webserver/
 * firewall/network); W3C/ECS names (c-uri, cs-host, dst_ip...) are aliases of
 * tapline's fields, resolved at load.
 *
 * Threads: a loaded rule set is immutable and shared. Single-event rules run
 * on the thread that has the event (a worker), each thread with its own
 * scratch. Rules that read fields the coordinator fills (TL_FF_LATE: the
 * domain statistics) run in the coordinator. A match of a rule that a
 * correlation uses becomes a self-contained input the coordinator feeds to
 * the correlation engine in packet-time order, so one worker or many give the
 * same alerts.
 */
#ifndef TL_RULES_H
#define TL_RULES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "event.h"
#include "schema.h"
#include "view.h"

struct tl_stats;
struct tl_ruleset;
struct tl_rule;

/* ---- loading ---- */

enum tl_rule_verdict {
    TL_RULE_ACTIVE,   /* loaded; its rules match */
    TL_RULE_INACTIVE, /* valid, but for a logsource the sensor does not produce, or an
                         `expand` placeholder without values: the reason says which */
    TL_RULE_REJECTED, /* not valid Sigma: file, line and reason */
};

/* One verdict per file (per document for a multi-document file: line says where). */
typedef void (*tl_rules_report_fn)(void *arg, const char *path, enum tl_rule_verdict v,
                                   unsigned line, const char *reason);

/* What a held correlation entry or group costs at most against memory.max_bytes. */
enum { TL_RULE_STATE_BUDGET_BYTES = 512 };

struct tl_rules_env {
    const struct tl_event_type *const *types; /* event types rules can target, by name */
    size_t ntypes;
    const char *placeholders; /* rules.placeholders: "name=v1,v2\n..." ("@FILE": a value a line) */
    uint64_t max_state;       /* rules.max_state, or memory.max_bytes' share */
    uint64_t max_alert_uids;  /* rules.max_alert_uids */
};

struct tl_rules_summary {
    unsigned files_active, files_inactive, files_rejected;
    unsigned rules, correlations, filters;
};

/*
 * Loads every *.yml (and *.yaml) file under each entry of `paths` (a comma
 * list of files and folders, folders walked recursively in name order).
 * Reports each file's verdict; a rejected file never stops the others.
 * Returns NULL with errbuf only when a listed path cannot be read at all or
 * memory runs out; a set with no rules is a valid set.
 */
struct tl_ruleset *tl_rules_load(const struct tl_rules_env *env, const char *paths,
                                 tl_rules_report_fn report, void *arg, struct tl_rules_summary *sum,
                                 char *errbuf, size_t n);
void tl_rules_free(struct tl_ruleset *rs);

/* ---- matching one event ---- */

enum tl_rule_phase {
    TL_PHASE_RECORD = 1, /* rules that read only what the worker has */
    TL_PHASE_LATE = 2,   /* rules that read TL_FF_LATE fields (domain statistics) */
};

/* Per-thread working memory for matching and alerts. */
struct tl_rules_scratch;
struct tl_rules_scratch *tl_rules_scratch_new(void);
void tl_rules_scratch_free(struct tl_rules_scratch *sc);

/* Whether any rule for event type t runs in phase ph (the caller can skip work otherwise). */
bool tl_rules_wants(const struct tl_ruleset *rs, const struct tl_event_type *t,
                    enum tl_rule_phase ph);

typedef void (*tl_rule_hit_fn)(void *arg, const struct tl_rule *r, const struct tl_view *v);

/* Runs the rules of phase ph for v->type, in load order; hit() once per matching rule. */
void tl_rules_match(const struct tl_ruleset *rs, const struct tl_view *v, enum tl_rule_phase ph,
                    struct tl_rules_scratch *sc, tl_rule_hit_fn hit, void *arg);

/* Whether a match of r is an alert of its own (false for a base rule of a correlation
 * without `generate: true`). */
bool tl_rule_alerts(const struct tl_rule *r);

/*
 * The `alert` event for a single-event match: rule id, title, level, status,
 * tags, file; the matched event's type, uid, community_id, id.*; and the
 * fields the rule tested with their values.
 */
void tl_alert_json(struct tl_buf *b, const char *sensor, const struct tl_rule *r,
                   const struct tl_view *v, struct tl_rules_scratch *sc);
extern const struct tl_event_type tl_alert_event;

/* ---- correlation (the coordinator's thread) ---- */

/*
 * A base-rule match as the correlations that use it see it: the event's time
 * and uid, the group-by values and the value field, copied so it outlives the
 * event. A list, one per correlation that uses r; NULL when none does.
 */
struct tl_corr_input;
struct tl_corr_input *tl_corr_inputs(const struct tl_ruleset *rs, const struct tl_rule *r,
                                     const struct tl_view *v, struct tl_rules_scratch *sc);
struct tl_corr_input *tl_corr_input_next(const struct tl_corr_input *in);
void tl_corr_input_free(struct tl_corr_input *in); /* one, not its successors */

struct tl_corr;
struct tl_corr *tl_corr_new(const struct tl_ruleset *rs, const struct tl_rules_env *env);
void tl_corr_free(struct tl_corr *c);
/* Applies one input (taken) at packet time; alerts are appended to out as JSON lines. */
void tl_corr_feed(struct tl_corr *c, struct tl_corr_input *in, struct tl_buf *out,
                  const char *sensor);
/* Packet time moved to now_us: closes windows that ended (alerts for those that fire at
 * their end, e.g. value_count with lt), frees state. */
void tl_corr_tick(struct tl_corr *c, uint64_t now_us, struct tl_buf *out, const char *sensor);
/* Adds rules.* counters (matches, alerts, max_state_capped). */
void tl_corr_counters(const struct tl_corr *c, struct tl_stats *st);

#endif
