/*
 * ytree.h - YAML documents as small node trees, for the rule loader (private to detect/).
 *
 * Each node keeps its line and, for scalars, whether it was written plain
 * (unquoted): Sigma gives `null` and `'null'`, `200` and `'200'` different
 * meanings. Aliases are refused; depth and size are capped, so hostile YAML
 * costs bounded memory.
 */
#ifndef TL_YTREE_H
#define TL_YTREE_H

#include <stdbool.h>
#include <stddef.h>

enum yt_kind { YT_SCALAR, YT_MAP, YT_SEQ };

enum {
    YT_MAX_DEPTH = 64,     /* nesting of mappings and sequences */
    YT_MAX_NODES = 200000, /* nodes per document */
};

struct yt_node {
    unsigned char kind; /* enum yt_kind */
    bool plain;         /* scalar: written without quotes or block style */
    unsigned line;      /* 1-based */
    char *str;          /* scalar text, NUL-terminated (may hold NULs: use len) */
    size_t len;
    struct yt_node **kids; /* sequence: items; mapping: key, value, key, value... */
    size_t n;              /* kids used (a mapping has n/2 entries) */
};

/* Takes the document (free it with yt_free); returns -1 to stop parsing. */
typedef int (*yt_doc_fn)(void *arg, struct yt_node *doc);

/*
 * Parses every document of buf; fn gets each whole document in order. On a
 * YAML error, returns -1 with its line in *err_line and a reason in err (the
 * documents before it were delivered). 0 otherwise.
 */
int yt_parse(const char *buf, size_t len, yt_doc_fn fn, void *arg, unsigned *err_line, char *err,
             size_t n);
void yt_free(struct yt_node *node);

/* The value of key in a mapping, or NULL. */
const struct yt_node *yt_get(const struct yt_node *map, const char *key);
/* A plain ~, null, Null, NULL or empty scalar. */
bool yt_is_null(const struct yt_node *node);
/* A scalar holding the text s. */
bool yt_is(const struct yt_node *node, const char *s);

#endif
