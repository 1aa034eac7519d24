/*
 * ytree.c - YAML documents into node trees through libyaml's event API (see ytree.h).
 *
 * YAML 1.1 as libyaml reads it. Duplicate mapping keys are refused (YAML says
 * keys are unique; a rule with two `condition:` is a mistake, not a choice).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <yaml.h>

#include "ytree.h"

struct yt_parser {
    yaml_parser_t p;
    size_t nodes;
    unsigned err_line;
    char *err;
    size_t n;
};

static int yt_fail(struct yt_parser *y, unsigned line, const char *why, const char *what)
{
    y->err_line = line;
    snprintf(y->err, y->n, "%s%s%s", why, what ? " " : "", what ? what : "");
    return -1;
}

static int yt_next(struct yt_parser *y, yaml_event_t *ev)
{
    if (yaml_parser_parse(&y->p, ev))
        return 0;
    return yt_fail(y, (unsigned)y->p.problem_mark.line + 1,
                   y->p.problem ? y->p.problem : "YAML syntax error", y->p.context);
}

static unsigned yt_line(const yaml_event_t *ev)
{
    return (unsigned)ev->start_mark.line + 1;
}

void yt_free(struct yt_node *node)
{
    if (!node)
        return;
    for (size_t i = 0; i < node->n; i++)
        yt_free(node->kids[i]);
    free(node->kids);
    free(node->str);
    free(node);
}

static struct yt_node *yt_new(struct yt_parser *y, enum yt_kind kind, unsigned line)
{
    if (++y->nodes > YT_MAX_NODES) {
        yt_fail(y, line, "document too large", NULL);
        return NULL;
    }
    struct yt_node *node = calloc(1, sizeof(*node));
    if (!node) {
        yt_fail(y, line, "out of memory", NULL);
        return NULL;
    }
    node->kind = (unsigned char)kind;
    node->line = line;
    return node;
}

static int yt_add(struct yt_parser *y, struct yt_node *parent, struct yt_node *kid)
{
    if ((parent->n & (parent->n - 1)) == 0) { /* grow at powers of two */
        size_t cap = parent->n ? parent->n * 2 : 4;
        struct yt_node **k = realloc(parent->kids, cap * sizeof(*k));
        if (!k) {
            yt_free(kid);
            return yt_fail(y, kid ? kid->line : parent->line, "out of memory", NULL);
        }
        parent->kids = k;
    }
    parent->kids[parent->n++] = kid;
    return 0;
}

static struct yt_node *yt_scalar(struct yt_parser *y, const yaml_event_t *ev)
{
    struct yt_node *node = yt_new(y, YT_SCALAR, yt_line(ev));
    if (!node)
        return NULL;
    node->len = ev->data.scalar.length;
    node->plain = ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE;
    node->str = malloc(node->len + 1);
    if (!node->str) {
        yt_free(node);
        yt_fail(y, yt_line(ev), "out of memory", NULL);
        return NULL;
    }
    memcpy(node->str, ev->data.scalar.value, node->len);
    node->str[node->len] = '\0';
    return node;
}

static bool yt_same_key(const struct yt_node *a, const struct yt_node *b)
{
    return a->kind == YT_SCALAR && b->kind == YT_SCALAR && a->len == b->len &&
           memcmp(a->str, b->str, a->len) == 0;
}

static struct yt_node *yt_build(struct yt_parser *y, yaml_event_t *ev, int depth);

/* The items of a collection whose start event was consumed, up to its end event. */
static int yt_items(struct yt_parser *y, struct yt_node *node, int depth)
{
    yaml_event_type_t end = node->kind == YT_MAP ? YAML_MAPPING_END_EVENT : YAML_SEQUENCE_END_EVENT;
    for (;;) {
        yaml_event_t ev;
        if (yt_next(y, &ev))
            return -1;
        if (ev.type == end) {
            yaml_event_delete(&ev);
            return 0;
        }
        bool is_key = node->kind == YT_MAP && node->n % 2 == 0;
        if (is_key && ev.type != YAML_SCALAR_EVENT) {
            unsigned line = yt_line(&ev);
            yaml_event_delete(&ev);
            return yt_fail(y, line, "mapping keys must be plain text", NULL);
        }
        struct yt_node *kid = yt_build(y, &ev, depth + 1);
        yaml_event_delete(&ev);
        if (!kid || yt_add(y, node, kid))
            return -1;
        if (is_key)
            for (size_t i = 0; i + 1 < node->n; i += 2)
                if (yt_same_key(node->kids[i], kid))
                    return yt_fail(y, kid->line, "duplicate key", kid->str);
    }
}

/* The node that starts with ev (not consumed here: the caller deletes it). */
static struct yt_node *yt_build(struct yt_parser *y, yaml_event_t *ev, int depth)
{
    unsigned line = yt_line(ev);
    if (depth > YT_MAX_DEPTH) {
        yt_fail(y, line, "nested too deeply", NULL);
        return NULL;
    }
    switch (ev->type) {
    case YAML_SCALAR_EVENT: return yt_scalar(y, ev);
    case YAML_MAPPING_START_EVENT:
    case YAML_SEQUENCE_START_EVENT: {
        struct yt_node *node =
            yt_new(y, ev->type == YAML_MAPPING_START_EVENT ? YT_MAP : YT_SEQ, line);
        if (node && yt_items(y, node, depth)) {
            yt_free(node);
            return NULL;
        }
        return node;
    }
    case YAML_ALIAS_EVENT: yt_fail(y, line, "YAML aliases are not supported", NULL); return NULL;
    default: yt_fail(y, line, "unexpected YAML event", NULL); return NULL;
    }
}

int yt_parse(const char *buf, size_t len, yt_doc_fn fn, void *arg, unsigned *err_line, char *err,
             size_t n)
{
    struct yt_parser y = { .err = err, .n = n };
    int rc = -1;

    if (!yaml_parser_initialize(&y.p)) {
        *err_line = 0;
        snprintf(err, n, "out of memory");
        return -1;
    }
    yaml_parser_set_input_string(&y.p, (const unsigned char *)buf, len);
    for (;;) {
        yaml_event_t ev;
        if (yt_next(&y, &ev))
            goto fail;
        yaml_event_type_t t = ev.type;
        if (t == YAML_STREAM_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        yaml_event_delete(&ev);
        if (t != YAML_DOCUMENT_START_EVENT)
            continue;
        if (yt_next(&y, &ev))
            goto fail;
        y.nodes = 0;
        struct yt_node *doc = yt_build(&y, &ev, 0);
        yaml_event_delete(&ev);
        if (!doc)
            goto fail;
        if (fn(arg, doc))
            break;
    }
    rc = 0;
fail:
    *err_line = y.err_line;
    yaml_parser_delete(&y.p);
    return rc;
}

const struct yt_node *yt_get(const struct yt_node *map, const char *key)
{
    if (!map || map->kind != YT_MAP)
        return NULL;
    size_t kl = strlen(key);
    for (size_t i = 0; i + 1 < map->n; i += 2)
        if (map->kids[i]->len == kl && memcmp(map->kids[i]->str, key, kl) == 0)
            return map->kids[i + 1];
    return NULL;
}

bool yt_is_null(const struct yt_node *node)
{
    if (!node)
        return true;
    if (node->kind != YT_SCALAR || !node->plain)
        return false;
    return node->len == 0 || strcmp(node->str, "~") == 0 || strcmp(node->str, "null") == 0 ||
           strcmp(node->str, "Null") == 0 || strcmp(node->str, "NULL") == 0;
}

bool yt_is(const struct yt_node *node, const char *s)
{
    return node && node->kind == YT_SCALAR && strlen(s) == node->len &&
           memcmp(node->str, s, node->len) == 0;
}
