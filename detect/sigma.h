/*
 * sigma.h - the compiled rule set, private to detect/: sigma.c builds it from
 * YAML, match.c evaluates it on events, alert.c writes alerts, correlate.c
 * counts correlation inputs.
 *
 * Per event type, every field any rule reads is a slot; every value a rule
 * compares with is a pattern of one slot, numbered per type, shared by the
 * rules that use the same value the same way. Literal patterns of a slot are
 * found in one Aho-Corasick pass per value; the others (globs, regexes,
 * numbers, networks) are evaluated once per event when first asked. A rule is
 * a tree of AND/OR/NOT over tests; tests read patterns' results. Results are
 * three-valued: a field the event type does not have is UNKNOWN, and a rule
 * fires only when its condition is TRUE.
 */
#ifndef TL_SIGMA_H
#define TL_SIGMA_H

#define PCRE2_CODE_UNIT_WIDTH 8
#include <pcre2.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "rules.h"

struct ac;
struct yt_node;
struct sg_intern;

enum sg_tri { SG_FALSE = 0, SG_TRUE = 1, SG_UNKNOWN = 2 };

enum sg_slot_kind {
    SLOT_FIELD,    /* a field of the record or of its ext */
    SLOT_KEYWORDS, /* every text value of the event (Sigma keyword lists) */
    SLOT_URL,      /* derived from http host and uri: "host" + uri, or uri when absolute */
    SLOT_URI_PATH, /* uri up to '?' (or '#'), without scheme and authority */
    SLOT_URI_QUERY,
    SLOT_URI_EXT,   /* extension of the path's last segment, without the dot */
    SLOT_HOST_IS_IP /* whether host is an IPv4/IPv6 literal */
};

struct sg_slot {
    uint8_t kind;             /* enum sg_slot_kind */
    bool late;                /* reads a TL_FF_LATE field: phase LATE */
    bool numeric;             /* values are numbers: a numeric literal compares as a number */
    struct tl_fref ref;       /* SLOT_FIELD */
    struct tl_fref host, uri; /* derived slots */
    const char *name;         /* the event's field name, for an alert's `matched` */
    struct ac *ac[2];         /* literal patterns: [0] on lowered values, [1] cased */
    bool has_lit[2];
};

enum sg_pkind {
    PK_LIT,   /* literal with an anchoring (ac.h): in the slot's automaton */
    PK_ANY,   /* `*`: any value */
    PK_EMPTY, /* '': an empty value */
    PK_GLOB,  /* wildcards inside */
    PK_RE,    /* PCRE2 */
    PK_CMP,   /* a number: eq (numeric literal on a numeric slot), gt, gte, lt, lte */
    PK_CIDR,  /* a network */
};

enum sg_cmp { CMP_EQ, CMP_GT, CMP_GTE, CMP_LT, CMP_LTE, CMP_NEQ };

enum { SG_STAR = 256, SG_QMARK = 257 }; /* glob tokens beside bytes 0-255 */

struct sg_pat {
    uint8_t kind;   /* enum sg_pkind */
    uint8_t anchor; /* PK_LIT: enum ac_anchor */
    uint8_t cased;  /* compare with the values as written, not lowered */
    uint8_t cmp;    /* PK_CMP: enum sg_cmp */
    uint32_t slot;
    uint8_t *lit; /* PK_LIT: the literal (lowered unless cased) */
    size_t len;
    uint16_t *glob; /* PK_GLOB: tokens */
    size_t nglob;
    uint32_t aux1;   /* PK_GLOB: 1 + the pid of its longest literal run (a trigger); 0: none */
    double num;      /* PK_CMP */
    pcre2_code *re;  /* PK_RE */
    bool jit;        /* re was JIT-compiled */
    uint8_t net[16]; /* PK_CIDR: v4 as v4-mapped */
    uint8_t bits;
};

enum sg_tkind {
    TK_PATS,     /* values against patterns */
    TK_NULL,     /* the field is absent */
    TK_EXISTS,   /* |exists: want */
    TK_FIELDREF, /* values of slot against values of slot2 */
    TK_UNKNOWN,  /* a field the event type does not have */
};

/*
 * TK_PATS is true when some value matches some pattern (neq: when the field
 * has values and none matches any). `all`, and `null` or `neq` in a list,
 * become several tests under an AND/OR node.
 */
struct sg_test {
    uint8_t kind;   /* enum sg_tkind */
    bool neq;       /* TK_PATS */
    bool want;      /* TK_EXISTS */
    bool cased;     /* TK_FIELDREF */
    uint8_t anchor; /* TK_FIELDREF: enum ac_anchor */
    uint32_t slot, slot2;
    uint32_t *pids;
    uint32_t npids;
};

enum sg_op { OP_AND, OP_OR, OP_NOT, OP_TEST, OP_CONST };

struct sg_node {
    uint8_t op; /* enum sg_op */
    uint32_t a; /* AND/OR: first kid in kids[]; NOT: the kid; TEST: test index; CONST: tri */
    uint32_t n; /* AND/OR: number of kids */
};

/* A correlation that reads this rule's matches: its position and the slots it reads. */
struct sg_use {
    uint32_t corr;
    uint32_t pos;     /* index of the rule in the correlation's `rules` */
    uint32_t *gslots; /* per group-by field; UINT32_MAX: the rule has no such field */
    uint32_t vslot;   /* value field (value_count, value_sum, value_avg), or UINT32_MAX */
};

struct sg_meta {
    char *id, *name, *title, *level, *status, *file;
    struct tl_str *tagv;
    struct tl_strlist tags;
    unsigned line;
};

struct tl_rule {
    struct sg_meta m;
    const struct tl_ruleset *rs;
    uint32_t type; /* index in rs->types */
    uint8_t phase; /* enum tl_rule_phase */
    struct sg_node *nodes;
    uint32_t nnodes, root;
    uint32_t *kids;
    uint32_t nkids;
    struct sg_test *tests;
    uint32_t ntests;
    uint32_t *slots; /* fields the rule tests, for `matched` */
    uint32_t nslots;
    bool alerts;
    struct sg_use *uses;
    uint32_t nuses;
    uint32_t tidx;  /* index among its type's rules (candidate marks) */
    uint32_t *trig; /* literal patterns one of which must be found for a match; none: always run */
    uint32_t ntrig;
};

/* Indexes of the flow fields an alert copies from the matched event. */
enum { ID_TS, ID_UID, ID_CID, ID_ORIG_H, ID_ORIG_P, ID_RESP_H, ID_RESP_P, ID_PROTO, ID_N };

struct sg_type {
    const struct tl_event_type *t;
    struct sg_slot *slots;
    uint32_t nslots, capslots;
    struct sg_pat *pats;
    uint32_t npats, cappats;
    struct tl_rule **rules[2]; /* by phase: RECORD, LATE; load order */
    uint32_t nrules[2];
    uint32_t **pid_rules; /* per pattern: the tidx of the rules it triggers, UINT32_MAX-ended */
    uint32_t *scans[2];   /* per phase: slot * 2 + cased of the automata to run first */
    uint32_t nscans[2];
    struct tl_fref ids[ID_N];
    bool has_id[ID_N];
    struct sg_intern *intern; /* while loading: patterns by content, so rules share them */
};

enum sg_corr_kind {
    CORR_EVENT_COUNT,
    CORR_VALUE_COUNT,
    CORR_TEMPORAL,
    CORR_TEMPORAL_ORDERED,
    CORR_VALUE_SUM,
    CORR_VALUE_AVG,
};

enum { SG_MAX_GROUP = 8, SG_MAX_COND = 6 };

struct sg_cond {
    uint8_t cmp; /* enum sg_cmp */
    double v;
};

/* What a correlation reads: a base rule (some clones, one per event type) or a correlation. */
struct sg_ref {
    bool is_corr;
    uint32_t corr; /* is_corr */
    char *label;   /* the name or id it was referenced by */
};

struct sg_corr {
    struct sg_meta m;
    uint8_t kind; /* enum sg_corr_kind */
    uint64_t span_us;
    struct sg_cond cond[SG_MAX_COND];
    uint32_t ncond;
    bool at_end; /* lt, lte, eq, neq: decided when the window closes */
    char *group[SG_MAX_GROUP];
    uint32_t ngroup;
    char *field; /* value_count, value_sum, value_avg */
    struct sg_ref *refs;
    uint32_t nrefs;
    bool generate;
    bool alerts;         /* false when only an input of another correlation without generate */
    struct sg_use *uses; /* correlations that read this one (chaining): gslots index group[] */
    uint32_t nuses, capuses;
    bool dead; /* its document is not active: never fed */
};

struct tl_ruleset {
    struct sg_type *types;
    uint32_t ntypes;
    struct tl_rule **rules; /* every compiled rule (clones included) */
    uint32_t nrules;
    struct sg_corr *corrs;
    uint32_t ncorrs;
    uint32_t max_pats, max_slots, max_rules; /* sizes the scratch needs */
    uint64_t max_state, max_alert_uids;
    pcre2_match_context *mctx;
};

/* ---- pattern.c: Sigma values as token strings ---- */

/* A value as tokens: bytes 0-255, SG_STAR, SG_QMARK. */
struct sg_tok {
    uint16_t *t;
    size_t n, cap;
};

enum sg_utf16 { SG_UTF16LE, SG_UTF16BE, SG_UTF16BOM };

/* Sigma string: * and ? are wildcards; \*, \? and \\ escape them; another backslash is itself. */
int sg_tok_parse(struct sg_tok *out, const char *s, size_t len);
/* The text as literal bytes (re, cidr, fieldref and the like take values verbatim). */
int sg_tok_literal(struct sg_tok *out, const char *s, size_t len);
int sg_tok_push(struct sg_tok *t, uint16_t c);
int sg_tok_copy(struct sg_tok *dst, const struct sg_tok *src);
void sg_tok_free(struct sg_tok *t);
bool sg_tok_has_wildcard(const struct sg_tok *t);
/* Re-encodes the literal bytes (read as UTF-8) as UTF-16; wildcards stay. */
int sg_tok_utf16(struct sg_tok *t, enum sg_utf16 how);
/* base64 of the bytes: offset -1 plain, 0..2 the base64offset variants. No wildcards. */
int sg_tok_base64(struct sg_tok *t, int offset);
/* Adds a star in front and/or at the end (contains, startswith, endswith). */
int sg_tok_wrap(struct sg_tok *t, bool front, bool back);
/* The windash variants of t (every option dash as - / en dash em dash bar); at most max. */
int sg_tok_windash(const struct sg_tok *t, struct sg_tok **out, size_t *nout, size_t max);
/* Text that is a whole number (decimal, or C's 0x hex), as a double. */
bool sg_number(const char *s, size_t len, double *out);
/* Glob tokens (already lowered when case-insensitive) against bytes. */
bool sg_glob_match(const uint16_t *g, size_t ng, const uint8_t *s, size_t n);

/* ---- condition.c: the condition grammar ---- */

enum sg_cop { C_ID, C_NOT, C_AND, C_OR };

struct sg_cnode {
    uint8_t op; /* enum sg_cop */
    uint32_t a, b;
};

enum sg_aggfn { AGG_COUNT, AGG_SUM, AGG_AVG, AGG_MIN, AGG_MAX };

/* The legacy aggregation after `|` (Sigma 1): func(field) [by group] op number. */
struct sg_agg {
    bool present;
    uint8_t fn;  /* enum sg_aggfn */
    uint8_t cmp; /* enum sg_cmp */
    double v;
    char field[128]; /* "" for count() */
    char by[128];    /* "" when not grouped */
};

struct sg_cexpr {
    struct sg_cnode *nodes;
    uint32_t n, cap, root;
    struct sg_agg agg;
};

/*
 * Parses a condition over the identifiers ids[0..nids): and, or, not,
 * parentheses, `1 of`/`any of`/`all of` a pattern or `them` (identifiers
 * starting with `_` left out unless the pattern starts with `_`), and an
 * optional `| aggregation`. -1 with a reason in err.
 */
int sg_cond_parse(struct sg_cexpr *out, const char *text, const char *const *ids, size_t nids,
                  char *err, size_t n);
void sg_cond_free(struct sg_cexpr *e);

/* ---- compile.c: detections into tests and nodes ---- */

/* Grows *p (of *cap elements of size bytes) to hold need; -1 when memory runs out. */
int sg_grow(void **p, uint32_t *cap, uint32_t need, size_t size);

/* Values of the rules.placeholders names (expand). */
struct sg_ph {
    char *name;
    char **vals;
    size_t n;
};

struct sg_phs {
    struct sg_ph *v;
    size_t n;
};

/* A compiled detection for one event type. */
struct sg_cc {
    struct sg_node *nodes;
    uint32_t nnodes, capnodes, root;
    uint32_t *kids;
    uint32_t nkids, capkids;
    struct sg_test *tests;
    uint32_t ntests, captests;
    uint32_t *slots; /* distinct slots tested */
    uint32_t nslots, capslots;
    char unknown[256]; /* fields the type does not have, comma separated */
    bool late;         /* reads a TL_FF_LATE field */
    struct sg_agg agg; /* legacy aggregation, when the condition had one */
};

enum sg_cc_rc { CC_OK, CC_REJECTED, CC_INACTIVE };

/*
 * Compiles a `detection` mapping (and its condition) for type ty. REJECTED:
 * *line and reason say where and why; INACTIVE: reason says why (a
 * placeholder without values). Unknown fields are UNKNOWN tests, named in
 * out->unknown.
 */
enum sg_cc_rc sg_compile(struct sg_cc *out, struct sg_type *ty, const struct yt_node *detection,
                         const struct sg_phs *ph, unsigned *line, char *reason, size_t n);
/* dst becomes dst AND src (src is emptied). */
int sg_cc_and(struct sg_cc *dst, struct sg_cc *src);
/* dst becomes dst AND (field == value, any case). */
int sg_cc_require(struct sg_cc *dst, struct sg_type *ty, const char *field, const char *value);
/*
 * Literal patterns (PK_LIT) one of which a match of r needs, so r can be
 * skipped when none was found; *n = 0 when r has no such set.
 */
int sg_rule_triggers(const struct tl_rule *r, const struct sg_type *ty, uint32_t **out,
                     uint32_t *n);
/* Whether some values could make the condition true (UNKNOWN tests never are). */
bool sg_cc_viable(const struct sg_cc *c);
void sg_cc_free(struct sg_cc *c);
/* The slot of a field name (alias and derived names too) on ty, or UINT32_MAX. */
uint32_t sg_slot_resolve(struct sg_type *ty, const char *name);
/* Builds the automata of ty's slots; -1 when memory runs out. */
int sg_type_finish(struct sg_type *ty);
void sg_type_free(struct sg_type *ty);

/* ---- sigma.c ---- */

/* tl_rules_load of one file's bytes, named name in verdicts (the fuzz target's way in). */
struct tl_ruleset *sg_rules_load_mem(const struct tl_rules_env *env, const char *name,
                                     const char *buf, size_t len, tl_rules_report_fn report,
                                     void *arg, struct tl_rules_summary *sum, char *errbuf,
                                     size_t n);

/* ---- match.c ---- */

/* One value of a slot in the event being matched. */
struct sg_val {
    const char *raw; /* as written */
    const char *low; /* ASCII-lowered, made when first needed (sg_lower) */
    size_t len;
    uint8_t kind; /* enum tl_vkind */
    double num;
    struct tl_ip ip;
};

/* Starts an event (a new one unless v is the one the scratch holds and !fresh). */
void sg_begin(struct tl_rules_scratch *sc, const struct tl_ruleset *rs, const struct sg_type *ty,
              const struct tl_view *v, bool fresh);
/* The values of slot s of the current event (fetched once per event). */
const struct sg_val *sg_values(struct tl_rules_scratch *sc, const struct sg_type *ty, uint32_t s,
                               size_t *n);
/* v (a value sg_values returned) in ASCII small letters. */
const char *sg_lower(struct tl_rules_scratch *sc, const struct sg_val *v);
/* Whether pattern pid of ty matches a value of the current event. */
bool sg_found(struct tl_rules_scratch *sc, const struct sg_type *ty, uint32_t pid);
/* Evaluates a rule on the current event. */
enum sg_tri sg_eval(struct tl_rules_scratch *sc, const struct sg_type *ty, const struct tl_rule *r);
/* The type entry of t, or NULL. */
const struct sg_type *sg_type_of(const struct tl_ruleset *rs, const struct tl_event_type *t);
/* A text buffer of the scratch (alerts build JSON there); its user resets it. */
struct tl_buf *sg_scratch_buf(struct tl_rules_scratch *sc);
/* A values buffer of the scratch, for reads outside slots (sg_values reuses it). */
struct tl_values *sg_scratch_values(struct tl_rules_scratch *sc);

/* ---- alert.c ---- */

struct sg_corr_alert {
    const struct sg_corr *c;
    uint64_t ts, first, last; /* the alert's time; the first and last event counted */
    const char *group;        /* JSON object */
    uint64_t count;
    const char *values; /* JSON array, or NULL */
    double value;
    bool has_value;
    const char *uids; /* JSON array */
    uint64_t uids_more;
    const char *rules; /* JSON array of the contributing rules' names */
};
void sg_alert_corr_json(struct tl_buf *b, const char *sensor, const struct sg_corr_alert *a);

#endif
