/*
 * condition.c - the Sigma condition grammar (specification 2.0, "Condition"),
 * and the legacy aggregation after `|` (Sigma 1, translated to correlations
 * by the loader).
 *
 *   expr    := or [ '|' agg ]
 *   or      := and { 'or' and }
 *   and     := not { 'and' not }
 *   not     := 'not' not | primary
 *   primary := '(' or ')' | ('1' | 'any' | 'all') 'of' (pattern | 'them') | identifier
 *   agg     := (count|sum|avg|min|max) '(' [field] ')' [ 'by' field ] op number
 *
 * Keywords are matched in any case. Nesting is capped, so a hostile
 * condition cannot exhaust the stack.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "sigma.h"

enum { COND_MAX_DEPTH = 64, COND_MAX_TOKEN = 256 };

struct cond_parser {
    struct sg_cexpr *e;
    const char *p;
    const char *const *ids;
    size_t nids;
    char tok[COND_MAX_TOKEN];
    bool have; /* tok holds a token not yet consumed */
    char *err;
    size_t n;
    int depth;
};

static int cond_fail(struct cond_parser *c, const char *fmt, const char *what)
    __attribute__((format(printf, 2, 0)));

/* fmt holds at most one %s, for what. */
static int cond_fail(struct cond_parser *c, const char *fmt, const char *what)
{
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wformat-nonliteral"
    snprintf(c->err, c->n, fmt, what ? what : "");
#pragma GCC diagnostic pop
    return -1;
}

static bool cond_opchar(char ch)
{
    return ch == '<' || ch == '>' || ch == '=' || ch == '!';
}

/* The next token into c->tok ("" at the end); -1 when it is too long. */
static int cond_peek(struct cond_parser *c)
{
    if (c->have)
        return 0;
    while (*c->p == ' ' || *c->p == '\t' || *c->p == '\n' || *c->p == '\r')
        c->p++;
    size_t len = 0;
    if (*c->p == '(' || *c->p == ')' || *c->p == '|') {
        c->tok[len++] = *c->p++;
    } else if (cond_opchar(*c->p)) {
        while (cond_opchar(*c->p) && len + 1 < sizeof(c->tok))
            c->tok[len++] = *c->p++;
    } else {
        while (*c->p && !strchr(" \t\r\n()|<>=!", *c->p)) {
            if (len + 1 >= sizeof(c->tok))
                return cond_fail(c, "condition: a word is too long", NULL);
            c->tok[len++] = *c->p++;
        }
    }
    c->tok[len] = '\0';
    c->have = true;
    return 0;
}

static bool cond_is(struct cond_parser *c, const char *kw)
{
    return cond_peek(c) == 0 && strcasecmp(c->tok, kw) == 0;
}

static void cond_take(struct cond_parser *c)
{
    c->have = false;
}

static int cond_node(struct cond_parser *c, enum sg_cop op, uint32_t a, uint32_t b, uint32_t *out)
{
    struct sg_cexpr *e = c->e;
    if (e->n == e->cap) {
        uint32_t cap = e->cap ? e->cap * 2 : 16;
        struct sg_cnode *nn = realloc(e->nodes, cap * sizeof(*nn));
        if (!nn)
            return cond_fail(c, "out of memory", NULL);
        e->nodes = nn;
        e->cap = cap;
    }
    e->nodes[e->n] = (struct sg_cnode){ (uint8_t)op, a, b };
    *out = e->n++;
    return 0;
}

/* Simple `*` and `?` wildcards over identifier names. */
static bool cond_glob(const char *g, const char *s)
{
    const char *star = NULL, *mark = NULL;
    while (*s) {
        if (*g == '*') {
            star = g++;
            mark = s;
        } else if (*g && (*g == '?' || *g == *s)) {
            g++;
            s++;
        } else if (star) {
            g = star + 1;
            s = ++mark;
        } else {
            return false;
        }
    }
    while (*g == '*')
        g++;
    return *g == '\0';
}

static bool cond_reserved(const char *w)
{
    static const char *const kw[] = { "and", "or", "not", "of", "them", "all", "any", "by" };
    for (size_t i = 0; i < TL_ARRAY_LEN(kw); i++)
        if (strcasecmp(w, kw[i]) == 0)
            return true;
    return false;
}

/* `1 of`, `any of`, `all of`: the identifiers the target names, joined with OR or AND. */
static int cond_quantified(struct cond_parser *c, bool all, uint32_t *out)
{
    if (!cond_is(c, "of"))
        return cond_fail(c, "condition: 'of' expected after '%s'", all ? "all" : "1");
    cond_take(c);
    if (cond_peek(c) || !c->tok[0] || strchr("()|", c->tok[0]) || cond_opchar(c->tok[0]))
        return cond_fail(c, "condition: a pattern or 'them' expected after 'of'", NULL);
    char target[COND_MAX_TOKEN];
    snprintf(target, sizeof(target), "%s", c->tok);
    cond_take(c);
    bool them = strcasecmp(target, "them") == 0;
    bool found = false;
    for (size_t i = 0; i < c->nids; i++) {
        const char *id = c->ids[i];
        if (id[0] == '_' && (them || target[0] != '_'))
            continue;
        if (!them && !cond_glob(target, id))
            continue;
        uint32_t leaf;
        if (cond_node(c, C_ID, (uint32_t)i, 0, &leaf))
            return -1;
        if (found && cond_node(c, all ? C_AND : C_OR, *out, leaf, &leaf))
            return -1;
        *out = leaf;
        found = true;
    }
    if (!found)
        return cond_fail(c, "condition: '%s' matches no identifier", target);
    return 0;
}

static int cond_or(struct cond_parser *c, uint32_t *out);

static const char *const cond_fns[] = { "count", "sum", "avg", "min", "max" };

static int cond_primary(struct cond_parser *c, uint32_t *out)
{
    if (cond_peek(c))
        return -1;
    if (!c->tok[0])
        return cond_fail(c, "condition: ends where an identifier was expected", NULL);
    if (strcmp(c->tok, "(") == 0) {
        cond_take(c);
        if (cond_or(c, out))
            return -1;
        if (!cond_is(c, ")"))
            return cond_fail(c, "condition: ')' expected", NULL);
        cond_take(c);
        return 0;
    }
    if (strcmp(c->tok, "1") == 0 || strcasecmp(c->tok, "any") == 0) {
        cond_take(c);
        return cond_quantified(c, false, out);
    }
    if (strcasecmp(c->tok, "all") == 0) {
        cond_take(c);
        return cond_quantified(c, true, out);
    }
    for (size_t i = 0; i < TL_ARRAY_LEN(cond_fns); i++)
        if (strcasecmp(c->tok, cond_fns[i]) == 0 && *c->p == '(')
            return cond_fail(c, "condition: an aggregation (%s) must follow '|'", cond_fns[i]);
    if (strcasecmp(c->tok, "near") == 0)
        return cond_fail(c, "condition: 'near' (Sigma 1) is not supported", NULL);
    if (strchr(")|", c->tok[0]) || cond_opchar(c->tok[0]) || cond_reserved(c->tok))
        return cond_fail(c, "condition: unexpected '%s'", c->tok);
    for (size_t i = 0; i < c->nids; i++)
        if (strcmp(c->ids[i], c->tok) == 0) {
            cond_take(c);
            return cond_node(c, C_ID, (uint32_t)i, 0, out);
        }
    if (strchr(c->tok, '*'))
        return cond_fail(c, "condition: pattern '%s' needs '1 of' or 'all of'", c->tok);
    return cond_fail(c, "condition: unknown identifier '%s'", c->tok);
}

static int cond_not(struct cond_parser *c, uint32_t *out)
{
    if (++c->depth > COND_MAX_DEPTH)
        return cond_fail(c, "condition: nested too deeply", NULL);
    int rc;
    if (cond_is(c, "not")) {
        cond_take(c);
        uint32_t kid;
        rc = cond_not(c, &kid) || cond_node(c, C_NOT, kid, 0, out) ? -1 : 0;
    } else {
        rc = cond_primary(c, out);
    }
    c->depth--;
    return rc;
}

/* A chain of `word` (and/or) over sub, left to right. */
static int cond_chain(struct cond_parser *c, const char *word, enum sg_cop op,
                      int (*sub)(struct cond_parser *, uint32_t *), uint32_t *out)
{
    if (sub(c, out))
        return -1;
    while (cond_is(c, word)) {
        cond_take(c);
        uint32_t rhs;
        if (sub(c, &rhs) || cond_node(c, op, *out, rhs, out))
            return -1;
    }
    return 0;
}

static int cond_and(struct cond_parser *c, uint32_t *out)
{
    return cond_chain(c, "and", C_AND, cond_not, out);
}

static int cond_or(struct cond_parser *c, uint32_t *out)
{
    if (++c->depth > COND_MAX_DEPTH)
        return cond_fail(c, "condition: nested too deeply", NULL);
    int rc = cond_chain(c, "or", C_OR, cond_and, out);
    c->depth--;
    return rc;
}

static int cond_cmp(const char *op, uint8_t *cmp)
{
    static const struct {
        const char *op;
        enum sg_cmp cmp;
    } ops[] = { { ">", CMP_GT }, { ">=", CMP_GTE }, { "<", CMP_LT },  { "<=", CMP_LTE },
                { "=", CMP_EQ }, { "==", CMP_EQ },  { "!=", CMP_NEQ } };
    for (size_t i = 0; i < TL_ARRAY_LEN(ops); i++)
        if (strcmp(op, ops[i].op) == 0) {
            *cmp = (uint8_t)ops[i].cmp;
            return 0;
        }
    return -1;
}

/* A field name token into dst; -1 when the token is not a word. */
static int cond_word(struct cond_parser *c, char *dst, size_t n, const char *what)
{
    if (cond_peek(c))
        return -1;
    if (!c->tok[0] || strchr("()|", c->tok[0]) || cond_opchar(c->tok[0]))
        return cond_fail(c, "condition: %s expected", what);
    size_t len = strlen(c->tok);
    if (len >= n)
        return cond_fail(c, "condition: '%s' is too long", c->tok);
    memcpy(dst, c->tok, len + 1);
    cond_take(c);
    return 0;
}

static int cond_agg(struct cond_parser *c)
{
    const char *const *fns = cond_fns;
    struct sg_agg *a = &c->e->agg;
    size_t i;

    if (cond_peek(c))
        return -1;
    for (i = 0; i < TL_ARRAY_LEN(cond_fns) && strcasecmp(c->tok, fns[i]) != 0; i++)
        ;
    if (i == TL_ARRAY_LEN(cond_fns))
        return cond_fail(c, "condition: unknown aggregation '%s'", c->tok);
    cond_take(c);
    a->present = true;
    a->fn = (uint8_t)i;
    if (!cond_is(c, "("))
        return cond_fail(c, "condition: '(' expected after '%s'", fns[i]);
    cond_take(c);
    if (!cond_is(c, ")") && cond_word(c, a->field, sizeof(a->field), "a field"))
        return -1;
    if (!cond_is(c, ")"))
        return cond_fail(c, "condition: ')' expected in the aggregation", NULL);
    cond_take(c);
    if (a->fn != AGG_COUNT && !a->field[0])
        return cond_fail(c, "condition: %s() needs a field", fns[i]);
    if (cond_is(c, "by")) {
        cond_take(c);
        if (cond_word(c, a->by, sizeof(a->by), "a field after 'by'"))
            return -1;
    }
    if (cond_peek(c) || cond_cmp(c->tok, &a->cmp))
        return cond_fail(c, "condition: a comparison expected, not '%s'", c->tok);
    cond_take(c);
    if (cond_peek(c))
        return -1;
    char *end;
    a->v = strtod(c->tok, &end);
    if (!c->tok[0] || *end)
        return cond_fail(c, "condition: a number expected, not '%s'", c->tok);
    cond_take(c);
    return 0;
}

int sg_cond_parse(struct sg_cexpr *out, const char *text, const char *const *ids, size_t nids,
                  char *err, size_t n)
{
    struct cond_parser c = { .e = out, .p = text, .ids = ids, .nids = nids, .err = err, .n = n };
    memset(out, 0, sizeof(*out));
    if (cond_or(&c, &out->root))
        return -1;
    if (cond_is(&c, "|")) {
        cond_take(&c);
        if (cond_agg(&c))
            return -1;
    }
    if (cond_peek(&c))
        return -1;
    if (c.tok[0])
        return cond_fail(&c, "condition: unexpected '%s'", c.tok);
    return 0;
}

void sg_cond_free(struct sg_cexpr *e)
{
    free(e->nodes);
    memset(e, 0, sizeof(*e));
}
