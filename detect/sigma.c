/*
 * sigma.c - Sigma rule files into a rule set (see rules.h): files and
 * documents, metadata, logsource routing, filters, correlations and the
 * legacy aggregation; verdicts per document.
 *
 * Sigma specification 2.1 (rules, correlations, filters). Every .yml or .yaml
 * file below a listed folder is read in name order (dot-files and dot-folders
 * skipped); a listed file is read whatever its name. Each document is
 * ACTIVE, INACTIVE (its logsource is not produced here, a placeholder has no
 * values, the fields it needs are not on the events, a rule it builds on is
 * inactive) or REJECTED (not valid Sigma: line and reason). A rejected
 * document never stops the others.
 *
 * Routing (logsource -> event type, by name among env->types):
 *   product zeek, service dns|http|kerberos|ldap|ssl: that type (ssl: tls);
 *     conn: flow; rdp: flow, only flows nDPI names RDP; another service: inactive;
 *     no service: every Zeek-like type (flow, dns, http, kerberos, ldap, tls)
 *     that has every field the rule names (a keyword-only rule: all of them);
 *   product windows, service ldap_debug: ldap (through the LDAP aliases);
 *   category dns: dns; proxy, webserver: http; firewall, network: flow
 *     (whatever the product);
 *   anything else: inactive.
 * A field the event type does not have is UNKNOWN when matching: the rule
 * stays active if its condition can still be true without it (the verdict
 * line names the field), inactive if not.
 */
#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

#include "sigma.h"
#include "ytree.h"

enum {
    LD_MAX_FILE = 16 << 20,    /* bytes of one rule file */
    LD_MAX_DIR_DEPTH = 32,     /* folder nesting (and symlink loops) */
    LD_MAX_PH_LINES = 1000000, /* values of one @FILE placeholder */
    LD_REASON = 512,
    LD_MAX_CLONES = 8,
};

enum ld_kind { DOC_RULE, DOC_CORR, DOC_FILTER, DOC_BAD };

struct ld_doc {
    uint32_t file;
    unsigned line;  /* where the document starts */
    unsigned vline; /* a rejection's line */
    struct yt_node *y;
    uint8_t kind, verdict;
    char reason[LD_REASON];
    struct sg_meta m;
    uint32_t *clones; /* indexes in ld->clones */
    uint32_t nclones, capclones;
    uint32_t corr;     /* index in rs->corrs, or UINT32_MAX */
    uint8_t visit;     /* correlations: 0 new, 1 resolving, 2 done */
    struct sg_agg agg; /* legacy aggregation of a rule */
};

/* A rule compiled for one event type, until the set is finished. */
struct ld_clone {
    uint32_t doc, type;
    struct sg_cc cc;
    struct sg_use *uses;
    uint32_t nuses, capuses;
};

struct ld_file {
    char *path;
};

struct ld {
    const struct tl_rules_env *env;
    struct tl_ruleset *rs;
    struct ld_file *files;
    uint32_t nfiles, capfiles;
    struct ld_doc *docs;
    uint32_t ndocs, capdocs;
    struct ld_clone *clones;
    uint32_t nclones, capclones;
    uint32_t capcorrs;
    struct sg_phs ph;
    uint32_t cur_file;
    char *err;
    size_t n;
};

static int ld_errf(struct ld *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int ld_errf(struct ld *L, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(L->err, L->n, fmt, ap);
    va_end(ap);
    return -1;
}

static void ld_verdict(struct ld_doc *d, enum tl_rule_verdict v, unsigned line, const char *fmt,
                       ...) __attribute__((format(printf, 4, 5)));

/* Sets a document's verdict; a rejection is never overwritten. */
static void ld_verdict(struct ld_doc *d, enum tl_rule_verdict v, unsigned line, const char *fmt,
                       ...)
{
    if (d->verdict == TL_RULE_REJECTED)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(d->reason, sizeof(d->reason), fmt, ap);
    va_end(ap);
    d->verdict = (uint8_t)v;
    d->vline = line;
}

static char *ld_strdup(const char *s)
{
    return s ? strdup(s) : NULL;
}

/* ---- files ---- */

static int ld_add_file(struct ld *L, const char *path)
{
    if (sg_grow((void **)&L->files, &L->capfiles, L->nfiles + 1, sizeof(*L->files)))
        return ld_errf(L, "out of memory");
    if (!(L->files[L->nfiles].path = strdup(path)))
        return ld_errf(L, "out of memory");
    L->nfiles++;
    return 0;
}

static bool ld_is_yaml(const char *name)
{
    size_t n = strlen(name);
    return (n > 4 && strcmp(name + n - 4, ".yml") == 0) ||
           (n > 5 && strcmp(name + n - 5, ".yaml") == 0);
}

static int ld_name_cmp(const struct dirent **a, const struct dirent **b)
{
    return strcmp((*a)->d_name, (*b)->d_name);
}

static int ld_skip_dot(const struct dirent *e)
{
    return e->d_name[0] != '.';
}

/* A listed path (top) must exist; below a folder, what cannot be read is skipped. */
static int ld_walk(struct ld *L, const char *path, int depth, bool top)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return top ? ld_errf(L, "%s: %s", path, strerror(errno)) : 0;
    if (!S_ISDIR(st.st_mode))
        return top || ld_is_yaml(path) ? ld_add_file(L, path) : 0;
    if (depth > LD_MAX_DIR_DEPTH)
        return 0;
    struct dirent **list;
    int n = scandir(path, &list, ld_skip_dot, ld_name_cmp);
    if (n < 0)
        return top ? ld_errf(L, "%s: %s", path, strerror(errno)) : 0;
    int rc = 0;
    for (int i = 0; i < n; i++) {
        size_t len = strlen(path) + strlen(list[i]->d_name) + 2;
        char *sub = malloc(len);
        if (!sub)
            rc = ld_errf(L, "out of memory");
        else if (rc == 0) {
            snprintf(sub, len, "%s%s%s", path, path[strlen(path) - 1] == '/' ? "" : "/",
                     list[i]->d_name);
            rc = ld_walk(L, sub, depth + 1, false);
        }
        free(sub);
        free(list[i]);
    }
    free(list);
    return rc;
}

static int ld_paths(struct ld *L, const char *paths)
{
    char *copy = strdup(paths ? paths : ""), *save = NULL;
    int rc = 0;
    if (!copy)
        return ld_errf(L, "out of memory");
    for (char *p = strtok_r(copy, ",", &save); p && rc == 0; p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ' || *p == '\t')
            p++;
        size_t len = strlen(p);
        while (len && (p[len - 1] == ' ' || p[len - 1] == '\t'))
            p[--len] = '\0';
        if (len)
            rc = ld_walk(L, p, 0, true);
    }
    free(copy);
    return rc;
}

/* ---- placeholders: "name=v1,v2\n" lines, or "name=@FILE" with a value a line ---- */

static int ld_ph_value(struct sg_ph *ph, const char *s, size_t len)
{
    while (len && (*s == ' ' || *s == '\t')) {
        s++;
        len--;
    }
    while (len && (s[len - 1] == ' ' || s[len - 1] == '\t' || s[len - 1] == '\r'))
        len--;
    if (!len)
        return 0;
    char **v = realloc(ph->vals, (ph->n + 1) * sizeof(*v));
    if (!v)
        return -1;
    ph->vals = v;
    if (!(v[ph->n] = strndup(s, len)))
        return -1;
    ph->n++;
    return 0;
}

/* A file that cannot be read leaves the placeholder without values (its rules inactive). */
static int ld_ph_file(struct sg_ph *ph, const char *path)
{
    FILE *f = fopen(path, "r");
    char *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int rc = 0;
    if (!f)
        return 0;
    while (rc == 0 && ph->n < LD_MAX_PH_LINES && (len = getline(&line, &cap, f)) > 0)
        rc = ld_ph_value(ph, line, (size_t)len - (line[len - 1] == '\n'));
    free(line);
    fclose(f);
    return rc;
}

static int ld_placeholders(struct ld *L, const char *text)
{
    for (const char *p = text; p && *p;) {
        const char *nl = strchr(p, '\n'), *end = nl ? nl : p + strlen(p);
        const char *eq = memchr(p, '=', (size_t)(end - p));
        if (eq) {
            const char *name = p;
            size_t nlen = (size_t)(eq - p);
            if (nlen > 1 && name[0] == '%' && name[nlen - 1] == '%') {
                name++;
                nlen -= 2;
            }
            struct sg_ph *v = realloc(L->ph.v, (L->ph.n + 1) * sizeof(*v));
            if (!v)
                return ld_errf(L, "out of memory");
            L->ph.v = v;
            struct sg_ph *ph = &v[L->ph.n++];
            memset(ph, 0, sizeof(*ph));
            if (!(ph->name = strndup(name, nlen)))
                return ld_errf(L, "out of memory");
            const char *val = eq + 1;
            int rc = 0;
            if (*val == '@') {
                char *path = strndup(val + 1, (size_t)(end - val - 1));
                rc = path ? ld_ph_file(ph, path) : -1;
                free(path);
            } else {
                for (const char *a = val; rc == 0 && a < end;) {
                    const char *comma = memchr(a, ',', (size_t)(end - a));
                    const char *b = comma ? comma : end;
                    rc = ld_ph_value(ph, a, (size_t)(b - a));
                    a = b + 1;
                }
            }
            if (rc)
                return ld_errf(L, "out of memory");
        }
        p = nl ? nl + 1 : end;
    }
    return 0;
}

static void ld_ph_free(struct sg_phs *ph)
{
    for (size_t i = 0; i < ph->n; i++) {
        for (size_t k = 0; k < ph->v[i].n; k++)
            free(ph->v[i].vals[k]);
        free(ph->v[i].vals);
        free(ph->v[i].name);
    }
    free(ph->v);
}

/* ---- documents ---- */

static struct ld_doc *ld_new_doc(struct ld *L, unsigned line)
{
    if (sg_grow((void **)&L->docs, &L->capdocs, L->ndocs + 1, sizeof(*L->docs)))
        return NULL;
    struct ld_doc *d = &L->docs[L->ndocs++];
    memset(d, 0, sizeof(*d));
    d->file = L->cur_file;
    d->line = line;
    d->corr = UINT32_MAX;
    d->kind = DOC_BAD;
    return d;
}

static int ld_on_doc(void *arg, struct yt_node *doc)
{
    struct ld *L = arg;
    if (yt_is_null(doc)) { /* an empty document ("---" at the end) */
        yt_free(doc);
        return 0;
    }
    struct ld_doc *d = ld_new_doc(L, doc->line);
    if (!d) {
        yt_free(doc);
        return -1;
    }
    d->y = doc;
    return 0;
}

/* Adds a rejected document for file fi (where nothing better could be parsed). */
static int ld_reject_file(struct ld *L, uint32_t fi, unsigned line, const char *why)
{
    struct ld_doc *d = ld_new_doc(L, line);
    if (!d)
        return ld_errf(L, "out of memory");
    d->file = fi;
    ld_verdict(d, TL_RULE_REJECTED, line, "%s", why);
    return 0;
}

/* The documents of file fi, whose bytes are buf. */
static int ld_parse(struct ld *L, uint32_t fi, const char *buf, size_t len)
{
    uint32_t before = L->ndocs;
    unsigned eline = 0;
    char why[LD_REASON] = "";
    L->cur_file = fi;
    if (yt_parse(buf, len, ld_on_doc, L, &eline, why, sizeof(why)))
        return ld_reject_file(L, fi, eline, why);
    if (L->ndocs == before)
        return ld_reject_file(L, fi, 0, "no Sigma document in the file");
    return 0;
}

static int ld_read_file(struct ld *L, uint32_t fi)
{
    char *buf = NULL, why[LD_REASON];
    long size = -1;
    int rc;
    FILE *f = fopen(L->files[fi].path, "rb");

    errno = 0;
    if (f && fseek(f, 0, SEEK_END) == 0 && (size = ftell(f)) >= 0 && size <= LD_MAX_FILE &&
        fseek(f, 0, SEEK_SET) == 0 && (buf = malloc((size_t)size + 1)) &&
        fread(buf, 1, (size_t)size, f) == (size_t)size) {
        rc = ld_parse(L, fi, buf, (size_t)size);
    } else {
        if (size > LD_MAX_FILE)
            snprintf(why, sizeof(why), "larger than %d MiB", LD_MAX_FILE >> 20);
        else
            snprintf(why, sizeof(why), "cannot read: %s", errno ? strerror(errno) : "read error");
        rc = ld_reject_file(L, fi, 0, why);
    }
    free(buf);
    if (f)
        fclose(f);
    return rc;
}

/* ---- metadata ---- */

static const char *const ld_levels[] = { "informational", "low", "medium", "high", "critical" };
static const char *const ld_statuses[] = { "stable", "test", "experimental", "deprecated",
                                           "unsupported" };

static bool ld_one_of(const char *s, const char *const *set, size_t n)
{
    for (size_t i = 0; i < n; i++)
        if (strcmp(s, set[i]) == 0)
            return true;
    return false;
}

/* An optional scalar attribute; false (rejected) when it is not one. */
static bool ld_scalar(struct ld_doc *d, const struct yt_node *map, const char *key, char **out)
{
    const struct yt_node *v = yt_get(map, key);
    if (!v || yt_is_null(v))
        return true;
    if (v->kind != YT_SCALAR || memchr(v->str, '\0', v->len)) {
        ld_verdict(d, TL_RULE_REJECTED, v->line, "%s must be text", key);
        return false;
    }
    *out = strdup(v->str);
    return *out != NULL;
}

static bool ld_tags(struct ld_doc *d, const struct yt_node *map)
{
    const struct yt_node *v = yt_get(map, "tags");
    if (!v || yt_is_null(v))
        return true;
    size_t n = v->kind == YT_SEQ ? v->n : 1;
    if (v->kind == YT_MAP) {
        ld_verdict(d, TL_RULE_REJECTED, v->line, "tags must be a list");
        return false;
    }
    if (!(d->m.tagv = calloc(n + 1, sizeof(*d->m.tagv)))) {
        ld_verdict(d, TL_RULE_REJECTED, v->line, "out of memory");
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const struct yt_node *t = v->kind == YT_SEQ ? v->kids[i] : v;
        char *s;
        if (t->kind != YT_SCALAR) {
            ld_verdict(d, TL_RULE_REJECTED, t->line, "a tag must be text");
            return false;
        }
        if (!(s = strndup(t->str, t->len))) {
            ld_verdict(d, TL_RULE_REJECTED, t->line, "out of memory");
            return false;
        }
        d->m.tagv[d->m.tags.n++] = (struct tl_str){ s, strlen(s) };
    }
    d->m.tags.v = d->m.tagv;
    return true;
}

static bool ld_meta(struct ld *L, struct ld_doc *d)
{
    const struct yt_node *y = d->y;
    d->m.line = d->line;
    if (!(d->m.file = strdup(L->files[d->file].path)))
        return false;
    if (!ld_scalar(d, y, "title", &d->m.title) || !ld_scalar(d, y, "id", &d->m.id) ||
        !ld_scalar(d, y, "name", &d->m.name) || !ld_scalar(d, y, "level", &d->m.level) ||
        !ld_scalar(d, y, "status", &d->m.status) || !ld_tags(d, y))
        return false;
    if (!d->m.title || !d->m.title[0]) {
        ld_verdict(d, TL_RULE_REJECTED, y->line, "missing title");
        return false;
    }
    if (d->m.level && !ld_one_of(d->m.level, ld_levels, TL_ARRAY_LEN(ld_levels))) {
        ld_verdict(d, TL_RULE_REJECTED, yt_get(y, "level")->line,
                   "level '%s' is not informational, low, medium, high or critical", d->m.level);
        return false;
    }
    if (d->m.status && !ld_one_of(d->m.status, ld_statuses, TL_ARRAY_LEN(ld_statuses))) {
        ld_verdict(d, TL_RULE_REJECTED, yt_get(y, "status")->line, "unknown status '%s'",
                   d->m.status);
        return false;
    }
    return true;
}

static void ld_meta_free(struct sg_meta *m)
{
    free(m->id);
    free(m->name);
    free(m->title);
    free(m->level);
    free(m->status);
    free(m->file);
    for (uint32_t i = 0; m->tagv && i < m->tags.n; i++)
        free((void *)(uintptr_t)m->tagv[i].ptr); /* the meta owns its tags' text */
    free(m->tagv);
    memset(m, 0, sizeof(*m));
}

static int ld_meta_dup(struct sg_meta *dst, const struct sg_meta *src)
{
    memset(dst, 0, sizeof(*dst));
    dst->line = src->line;
    dst->id = ld_strdup(src->id);
    dst->name = ld_strdup(src->name);
    dst->title = ld_strdup(src->title);
    dst->level = ld_strdup(src->level);
    dst->status = ld_strdup(src->status);
    dst->file = ld_strdup(src->file);
    dst->tagv = calloc(src->tags.n + 1, sizeof(*dst->tagv));
    bool ok = dst->tagv && (!src->id || dst->id) && (!src->name || dst->name) &&
              (!src->title || dst->title) && (!src->level || dst->level) &&
              (!src->status || dst->status) && (!src->file || dst->file);
    for (uint32_t i = 0; ok && i < src->tags.n; i++) {
        char *s = strdup(src->tagv[i].ptr);
        ok = s != NULL;
        if (ok)
            dst->tagv[dst->tags.n++] = (struct tl_str){ s, src->tagv[i].len };
    }
    dst->tags.v = dst->tagv;
    if (!ok)
        ld_meta_free(dst);
    return ok ? 0 : -1;
}

static void ld_classify(struct ld *L, struct ld_doc *d)
{
    const struct yt_node *y = d->y;
    if (d->verdict == TL_RULE_REJECTED)
        return;
    if (y->kind != YT_MAP) {
        ld_verdict(d, TL_RULE_REJECTED, y->line, "a Sigma document is a mapping");
        return;
    }
    if (yt_get(y, "action")) {
        ld_verdict(d, TL_RULE_REJECTED, yt_get(y, "action")->line,
                   "action (Sigma 1 rule collections) is not supported");
        return;
    }
    if (!ld_meta(L, d)) {
        if (d->verdict != TL_RULE_REJECTED)
            ld_verdict(d, TL_RULE_REJECTED, y->line, "out of memory");
        return;
    }
    int kinds = !!yt_get(y, "detection") + !!yt_get(y, "correlation") + !!yt_get(y, "filter");
    if (kinds != 1) {
        ld_verdict(d, TL_RULE_REJECTED, y->line,
                   kinds ? "detection, correlation and filter exclude each other"
                         : "missing detection (nor correlation, nor filter)");
        return;
    }
    d->kind = yt_get(y, "detection") ? DOC_RULE : yt_get(y, "correlation") ? DOC_CORR : DOC_FILTER;
    const struct yt_node *ls = yt_get(y, "logsource");
    if (d->kind == DOC_RULE && !ls)
        ld_verdict(d, TL_RULE_REJECTED, y->line, "missing logsource");
    else if (ls && ls->kind != YT_MAP)
        ld_verdict(d, TL_RULE_REJECTED, ls->line, "logsource must be a mapping");
    if (d->verdict == TL_RULE_REJECTED)
        d->kind = DOC_BAD;
}

/* ---- routing ---- */

static uint32_t ld_type(const struct ld *L, const char *name)
{
    for (uint32_t i = 0; i < L->rs->ntypes; i++)
        if (strcmp(L->rs->types[i].t->name, name) == 0)
            return i;
    return UINT32_MAX;
}

struct ld_route {
    const char *types[LD_MAX_CLONES];
    uint32_t n;
    bool rdp, multi;
};

static const struct {
    const char *product, *service, *category, *type;
} ld_routes[] = {
    { "zeek", "dns", NULL, "dns" },
    { "zeek", "http", NULL, "http" },
    { "zeek", "kerberos", NULL, "kerberos" },
    { "zeek", "ldap", NULL, "ldap" },
    { "zeek", "ssl", NULL, "tls" },
    { "zeek", "conn", NULL, "flow" },
    { "zeek", "rdp", NULL, "flow" },
    { "windows", "ldap_debug", NULL, "ldap" },
    { NULL, NULL, "dns", "dns" },
    { NULL, NULL, "proxy", "http" },
    { NULL, NULL, "webserver", "http" },
    { NULL, NULL, "firewall", "flow" },
    { NULL, NULL, "network", "flow" },
};

static const char *const ld_zeek_types[] = { "flow", "dns", "http", "kerberos", "ldap", "tls" };

static const char *ld_ls(const struct yt_node *ls, const char *key)
{
    const struct yt_node *v = yt_get(ls, key);
    return v && v->kind == YT_SCALAR && !yt_is_null(v) ? v->str : NULL;
}

static bool ld_eq(const char *a, const char *b)
{
    return a && b && strcasecmp(a, b) == 0;
}

/* The event types of a logsource; false with the reason when none is produced. */
static bool ld_route(const struct yt_node *ls, struct ld_route *r, char *why, size_t n)
{
    const char *product = ld_ls(ls, "product"), *service = ld_ls(ls, "service"),
               *category = ld_ls(ls, "category");
    memset(r, 0, sizeof(*r));
    if (ld_eq(product, "zeek") && !service) {
        for (size_t i = 0; i < TL_ARRAY_LEN(ld_zeek_types); i++)
            r->types[r->n++] = ld_zeek_types[i];
        r->multi = true;
        return true;
    }
    for (size_t i = 0; i < TL_ARRAY_LEN(ld_routes); i++) {
        bool hit = ld_routes[i].product ? ld_eq(product, ld_routes[i].product) &&
                                              ld_eq(service, ld_routes[i].service)
                                        : ld_eq(category, ld_routes[i].category) &&
                                              !ld_eq(product, "zeek") && !ld_eq(product, "windows");
        if (hit) {
            r->types[r->n++] = ld_routes[i].type;
            r->rdp = ld_eq(service, "rdp");
            return true;
        }
    }
    snprintf(why, n, "logsource%s%s%s%s%s%s is not produced by this sensor",
             product ? " product " : "", product ? product : "", service ? " service " : "",
             service ? service : "", category ? " category " : "", category ? category : "");
    return false;
}

/* ---- rules ---- */

static int ld_clone_add(struct ld *L, struct ld_doc *d, uint32_t type, struct sg_cc *cc)
{
    if (sg_grow((void **)&L->clones, &L->capclones, L->nclones + 1, sizeof(*L->clones)) ||
        sg_grow((void **)&d->clones, &d->capclones, d->nclones + 1, sizeof(*d->clones)))
        return -1;
    struct ld_clone *c = &L->clones[L->nclones];
    memset(c, 0, sizeof(*c));
    c->doc = (uint32_t)(d - L->docs);
    c->type = type;
    c->cc = *cc;
    memset(cc, 0, sizeof(*cc));
    d->clones[d->nclones++] = L->nclones++;
    return 0;
}

/* Compiles a detection (rule or filter) for type ti; -1 when d got a verdict that stops it. */
static int ld_compile(struct ld *L, struct ld_doc *d, uint32_t ti, const struct yt_node *det,
                      struct sg_cc *cc)
{
    unsigned line = 0;
    char why[LD_REASON];
    enum sg_cc_rc rc = sg_compile(cc, &L->rs->types[ti], det, &L->ph, &line, why, sizeof(why));
    if (rc == CC_OK)
        return 0;
    ld_verdict(d, rc == CC_REJECTED ? TL_RULE_REJECTED : TL_RULE_INACTIVE, line, "%s", why);
    return -1;
}

static void ld_rule(struct ld *L, struct ld_doc *d)
{
    struct ld_route r;
    char why[LD_REASON], skipped[LD_REASON] = "";
    const struct yt_node *det = yt_get(d->y, "detection");

    if (!ld_route(yt_get(d->y, "logsource"), &r, why, sizeof(why))) {
        ld_verdict(d, TL_RULE_INACTIVE, 0, "%s", why);
        return;
    }
    for (uint32_t i = 0; i < r.n; i++) {
        uint32_t ti = ld_type(L, r.types[i]);
        struct sg_cc cc;
        if (ti == UINT32_MAX) {
            if (!r.multi)
                ld_verdict(d, TL_RULE_INACTIVE, 0, "%s events are not produced", r.types[i]);
            continue;
        }
        if (ld_compile(L, d, ti, det, &cc))
            return;
        if (i == 0 || !d->agg.present)
            d->agg = cc.agg;
        const char *tname = r.types[i];
        int req = r.rdp ? sg_cc_require(&cc, &L->rs->types[ti], "app_proto", "RDP") : 0;
        if (req) {
            sg_cc_free(&cc);
            ld_verdict(d, TL_RULE_INACTIVE, 0, "flow events have no app_proto to find RDP");
            return;
        }
        bool viable = sg_cc_viable(&cc) && !(r.multi && cc.unknown[0]);
        if (!viable || cc.unknown[0]) {
            size_t used = strlen(skipped);
            snprintf(skipped + used, sizeof(skipped) - used, "%s%s not on %s events",
                     used ? "; " : "", cc.unknown, tname);
        }
        if (!viable) {
            sg_cc_free(&cc);
            continue;
        }
        if (ld_clone_add(L, d, ti, &cc)) {
            sg_cc_free(&cc);
            ld_verdict(d, TL_RULE_REJECTED, d->line, "out of memory");
            return;
        }
    }
    if (d->verdict == TL_RULE_INACTIVE)
        return;
    if (!d->nclones && r.multi && !skipped[0])
        ld_verdict(d, TL_RULE_INACTIVE, 0, "none of the Zeek logs it may mean is produced");
    else if (!d->nclones)
        ld_verdict(d, TL_RULE_INACTIVE, 0, "%s: the condition can never match", skipped);
    else if (skipped[0] && !r.multi)
        ld_verdict(d, TL_RULE_ACTIVE, 0, "%s: the parts that test them never match", skipped);
}

/* ---- filters ---- */

static struct ld_doc *ld_find(struct ld *L, const char *label, bool *ambiguous)
{
    struct ld_doc *found = NULL;
    *ambiguous = false;
    for (int pass = 0; pass < 2 && !found; pass++) /* names first, then ids */
        for (uint32_t i = 0; i < L->ndocs; i++) {
            struct ld_doc *d = &L->docs[i];
            const char *k = pass == 0 ? d->m.name : d->m.id;
            if (d->kind == DOC_BAD || d->kind == DOC_FILTER || !k || strcmp(k, label) != 0)
                continue;
            if (found)
                *ambiguous = true;
            found = d;
        }
    return found;
}

/* The list of names or ids under key (a scalar is a list of one); NULL when absent or bad. */
static const struct yt_node *ld_labels(struct ld_doc *d, const struct yt_node *map, const char *key)
{
    const struct yt_node *v = yt_get(map, key);
    if (!v || yt_is_null(v)) {
        ld_verdict(d, TL_RULE_REJECTED, map->line, "missing %s", key);
        return NULL;
    }
    if (v->kind == YT_MAP) {
        ld_verdict(d, TL_RULE_REJECTED, v->line, "%s must be a list of rule names or ids", key);
        return NULL;
    }
    for (size_t i = 0; v->kind == YT_SEQ && i < v->n; i++)
        if (v->kids[i]->kind != YT_SCALAR || yt_is_null(v->kids[i])) {
            ld_verdict(d, TL_RULE_REJECTED, v->kids[i]->line, "%s: a rule name or id expected",
                       key);
            return NULL;
        }
    return v;
}

static const struct yt_node *ld_label(const struct yt_node *list, size_t i)
{
    return list->kind == YT_SEQ ? list->kids[i] : list;
}

static size_t ld_nlabels(const struct yt_node *list)
{
    return list->kind == YT_SEQ ? list->n : 1;
}

/* The filter's mapping without its `rules` entry: a detection to compile. */
static struct yt_node *ld_filter_detection(const struct yt_node *f)
{
    struct yt_node *det = calloc(1, sizeof(*det));
    if (!det || !(det->kids = calloc(f->n + 1, sizeof(*det->kids)))) {
        free(det);
        return NULL;
    }
    det->kind = YT_MAP;
    det->line = f->line;
    for (size_t i = 0; i + 1 < f->n; i += 2)
        if (!yt_is(f->kids[i], "rules")) {
            det->kids[det->n++] = f->kids[i];
            det->kids[det->n++] = f->kids[i + 1];
        }
    return det;
}

static void ld_filter(struct ld *L, struct ld_doc *d)
{
    const struct yt_node *f = yt_get(d->y, "filter"), *list;
    char notes[LD_REASON] = "";
    uint32_t applied = 0;

    if (f->kind != YT_MAP) {
        ld_verdict(d, TL_RULE_REJECTED, f->line, "filter must be a mapping");
        return;
    }
    if (!(list = ld_labels(d, f, "rules")))
        return;
    struct yt_node *det = ld_filter_detection(f);
    if (!det) {
        ld_verdict(d, TL_RULE_REJECTED, f->line, "out of memory");
        return;
    }
    for (size_t i = 0; i < ld_nlabels(list) && d->verdict != TL_RULE_REJECTED; i++) {
        bool amb;
        struct ld_doc *rd = ld_find(L, ld_label(list, i)->str, &amb);
        if (!rd || rd->kind != DOC_RULE || rd->verdict != TL_RULE_ACTIVE)
            continue;
        for (uint32_t k = 0; k < rd->nclones; k++) {
            struct ld_clone *cl = &L->clones[rd->clones[k]];
            struct sg_cc cc;
            if (ld_compile(L, d, cl->type, det, &cc))
                break;
            if (cc.unknown[0]) { /* an unknown filter would silence the rule: not applied */
                size_t used = strlen(notes);
                snprintf(notes + used, sizeof(notes) - used, "%s%s not on %s events",
                         used ? "; " : "", cc.unknown, L->rs->types[cl->type].t->name);
                sg_cc_free(&cc);
                continue;
            }
            if (sg_cc_and(&cl->cc, &cc)) {
                sg_cc_free(&cc);
                ld_verdict(d, TL_RULE_REJECTED, f->line, "out of memory");
                break;
            }
            applied++;
        }
    }
    free(det->kids);
    free(det);
    if (d->verdict != TL_RULE_ACTIVE)
        return;
    if (!applied)
        ld_verdict(d, TL_RULE_INACTIVE, 0, "%s", notes[0] ? notes : "names no active rule");
    else if (notes[0])
        ld_verdict(d, TL_RULE_ACTIVE, 0, "not applied where %s", notes);
}

/* ---- correlations ---- */

static const char *const ld_corr_kinds[] = { "event_count",      "value_count", "temporal",
                                             "temporal_ordered", "value_sum",   "value_avg" };

/* "30s", "5m", "1h", "2d", "1w" into microseconds; 0 when not a timespan. */
static uint64_t ld_timespan(const char *s)
{
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    static const struct {
        char unit;
        uint64_t us;
    } units[] = { { 's', 1000000ull },
                  { 'm', 60000000ull },
                  { 'h', 3600000000ull },
                  { 'd', 86400000000ull },
                  { 'w', 604800000000ull } };
    if (end == s || v == 0 || end[0] == '\0' || end[1] != '\0')
        return 0;
    for (size_t i = 0; i < TL_ARRAY_LEN(units); i++)
        if (*end == units[i].unit && v <= UINT64_MAX / units[i].us)
            return v * units[i].us;
    return 0;
}

static int ld_cmp_name(const char *k)
{
    static const char *const names[] = { [CMP_EQ] = "eq", [CMP_GT] = "gt",   [CMP_GTE] = "gte",
                                         [CMP_LT] = "lt", [CMP_LTE] = "lte", [CMP_NEQ] = "neq" };
    for (size_t i = 0; i < TL_ARRAY_LEN(names); i++)
        if (strcmp(k, names[i]) == 0)
            return (int)i;
    return -1;
}

static bool ld_corr_cond(struct ld_doc *d, struct sg_corr *c, const struct yt_node *cond)
{
    if (cond->kind != YT_MAP) {
        ld_verdict(d, TL_RULE_REJECTED, cond->line, "condition must be a mapping (gte: 10)");
        return false;
    }
    for (size_t i = 0; i + 1 < cond->n; i += 2) {
        const struct yt_node *k = cond->kids[i], *v = cond->kids[i + 1];
        if (yt_is(k, "field")) {
            if (v->kind != YT_SCALAR || yt_is_null(v) || !(c->field = strdup(v->str))) {
                ld_verdict(d, TL_RULE_REJECTED, v->line, "condition field must be a field name");
                return false;
            }
            continue;
        }
        int cmp = ld_cmp_name(k->str);
        char *end = NULL;
        double x = v->kind == YT_SCALAR ? strtod(v->str, &end) : 0;
        if (cmp < 0 || c->ncond == SG_MAX_COND) {
            ld_verdict(d, TL_RULE_REJECTED, k->line, "unknown condition '%s'", k->str);
            return false;
        }
        if (!end || end == v->str || *end || !isfinite(x)) {
            ld_verdict(d, TL_RULE_REJECTED, v->line, "%s: a number expected", k->str);
            return false;
        }
        c->cond[c->ncond++] = (struct sg_cond){ (uint8_t)cmp, x };
        c->at_end |= cmp == CMP_LT || cmp == CMP_LTE || cmp == CMP_EQ || cmp == CMP_NEQ;
    }
    if (!c->ncond) {
        ld_verdict(d, TL_RULE_REJECTED, cond->line, "condition has no comparison");
        return false;
    }
    return true;
}

static bool ld_corr_group(struct ld_doc *d, struct sg_corr *c, const struct yt_node *g)
{
    if (!g || yt_is_null(g))
        return true;
    size_t n = g->kind == YT_SEQ ? g->n : 1;
    if (g->kind == YT_MAP || n > SG_MAX_GROUP) {
        ld_verdict(d, TL_RULE_REJECTED, g->line, "group-by must be a list of at most %d fields",
                   SG_MAX_GROUP);
        return false;
    }
    for (size_t i = 0; i < n; i++) {
        const struct yt_node *f = g->kind == YT_SEQ ? g->kids[i] : g;
        if (f->kind != YT_SCALAR || yt_is_null(f) || !(c->group[c->ngroup] = strdup(f->str))) {
            ld_verdict(d, TL_RULE_REJECTED, f->line, "group-by: a field name expected");
            return false;
        }
        c->ngroup++;
    }
    return true;
}

/* The field a reference reads for name: through `aliases` (alias -> {rule: field}) or itself. */
static const char *ld_alias(const struct yt_node *aliases, const char *name,
                            const struct ld_doc *rd, const char *label)
{
    const struct yt_node *a = yt_get(aliases, name);
    if (!a || a->kind != YT_MAP)
        return name;
    for (size_t i = 0; i + 1 < a->n; i += 2) {
        const char *k = a->kids[i]->str;
        const struct yt_node *v = a->kids[i + 1];
        if (v->kind == YT_SCALAR &&
            (strcmp(k, label) == 0 || (rd->m.name && strcmp(k, rd->m.name) == 0) ||
             (rd->m.id && strcmp(k, rd->m.id) == 0)))
            return v->str;
    }
    return name;
}

static int ld_use_add(struct sg_use **uses, uint32_t *n, uint32_t *cap, const struct sg_use *u)
{
    if (sg_grow((void **)uses, cap, *n + 1, sizeof(**uses)))
        return -1;
    (*uses)[(*n)++] = *u;
    return 0;
}

static void ld_corr_resolve(struct ld *L, struct ld_doc *d);

/* Reads one `rules` entry of correlation c (index ci) into its uses; false: d has a verdict. */
static bool ld_corr_ref(struct ld *L, struct ld_doc *d, uint32_t ci, uint32_t pos,
                        const char *label, unsigned line, const struct yt_node *aliases)
{
    struct sg_corr *c = &L->rs->corrs[ci];
    bool amb;
    struct ld_doc *rd = ld_find(L, label, &amb);
    if (!rd || amb) {
        ld_verdict(d, TL_RULE_REJECTED, line,
                   rd ? "'%s' names several rules" : "rule '%s' is not loaded", label);
        return false;
    }
    if (rd == d) {
        ld_verdict(d, TL_RULE_REJECTED, line, "a correlation cannot use itself");
        return false;
    }
    if (!(c->refs[pos].label = strdup(label)))
        return false;
    if (rd->kind == DOC_CORR) {
        ld_corr_resolve(L, rd);
        c = &L->rs->corrs[ci]; /* resolving may have moved the array */
        if (rd->visit == 1) {
            ld_verdict(d, TL_RULE_REJECTED, line, "correlations '%s' use each other", label);
            return false;
        }
    }
    if (rd->verdict != TL_RULE_ACTIVE) {
        ld_verdict(d, TL_RULE_INACTIVE, line, "'%s' is %s", label,
                   rd->verdict == TL_RULE_REJECTED ? "rejected" : "inactive");
        return false;
    }
    struct sg_use u = { .corr = ci, .pos = pos, .vslot = UINT32_MAX };
    if (rd->corr != UINT32_MAX) { /* chaining: group fields by name among the inner's */
        struct sg_corr *in = &L->rs->corrs[rd->corr];
        c->refs[pos].is_corr = true;
        c->refs[pos].corr = rd->corr;
        if (!(u.gslots = calloc(SG_MAX_GROUP, sizeof(*u.gslots))))
            return false;
        for (uint32_t g = 0; g < c->ngroup; g++) {
            const char *f = ld_alias(aliases, c->group[g], rd, label);
            u.gslots[g] = UINT32_MAX;
            for (uint32_t k = 0; k < in->ngroup; k++)
                if (strcmp(in->group[k], f) == 0)
                    u.gslots[g] = k;
            if (u.gslots[g] == UINT32_MAX) {
                free(u.gslots);
                ld_verdict(d, TL_RULE_INACTIVE, line, "'%s' does not group by %s", label, f);
                return false;
            }
        }
        if (c->field) {
            free(u.gslots);
            ld_verdict(d, TL_RULE_REJECTED, line, "a value field over a correlation ('%s')", label);
            return false;
        }
        if (ld_use_add(&in->uses, &in->nuses, &in->capuses, &u)) {
            free(u.gslots);
            return false;
        }
        return true;
    }
    for (uint32_t k = 0; k < rd->nclones; k++) {
        struct ld_clone *cl = &L->clones[rd->clones[k]];
        struct sg_type *ty = &L->rs->types[cl->type];
        struct sg_use cu = u;
        if (!(cu.gslots = calloc(SG_MAX_GROUP, sizeof(*cu.gslots))))
            return false;
        for (uint32_t g = 0; g <= c->ngroup; g++) {
            const char *name = g < c->ngroup ? c->group[g] : c->field;
            if (!name)
                continue;
            const char *f = ld_alias(aliases, name, rd, label);
            uint32_t s = sg_slot_resolve(ty, f);
            if (s == UINT32_MAX) {
                free(cu.gslots);
                ld_verdict(d, TL_RULE_INACTIVE, line, "%s is not on %s events", f, ty->t->name);
                return false;
            }
            if (g < c->ngroup)
                cu.gslots[g] = s;
            else
                cu.vslot = s;
        }
        if (ld_use_add(&cl->uses, &cl->nuses, &cl->capuses, &cu)) {
            free(cu.gslots);
            return false;
        }
    }
    return true;
}

static bool ld_corr_new(struct ld *L, struct ld_doc *d, uint32_t *ci)
{
    if (sg_grow((void **)&L->rs->corrs, &L->capcorrs, L->rs->ncorrs + 1, sizeof(*L->rs->corrs)))
        return false;
    *ci = L->rs->ncorrs++;
    struct sg_corr *c = &L->rs->corrs[*ci];
    memset(c, 0, sizeof(*c));
    if (ld_meta_dup(&c->m, &d->m)) {
        L->rs->ncorrs--;
        return false;
    }
    d->corr = *ci;
    return true;
}

/* A `correlation:` document (or a legacy aggregation) into rs->corrs, in dependency order. */
static void ld_corr_resolve(struct ld *L, struct ld_doc *d)
{
    if (d->visit)
        return;
    d->visit = 1;
    const struct yt_node *y = yt_get(d->y, "correlation"), *type, *rules, *ts, *cond, *gen;
    uint32_t ci;
    if (y->kind != YT_MAP) {
        ld_verdict(d, TL_RULE_REJECTED, y->line, "correlation must be a mapping");
        goto done;
    }
    type = yt_get(y, "type");
    size_t kind = 0;
    while (type && kind < TL_ARRAY_LEN(ld_corr_kinds) && !yt_is(type, ld_corr_kinds[kind]))
        kind++;
    if (!type || kind == TL_ARRAY_LEN(ld_corr_kinds)) {
        ld_verdict(d, TL_RULE_REJECTED, type ? type->line : y->line,
                   "correlation type must be event_count, value_count, temporal, "
                   "temporal_ordered, value_sum or value_avg");
        goto done;
    }
    if (!(rules = ld_labels(d, y, "rules")))
        goto done;
    ts = yt_get(y, "timespan");
    uint64_t span = ts && ts->kind == YT_SCALAR ? ld_timespan(ts->str) : 0;
    if (!span) {
        ld_verdict(d, TL_RULE_REJECTED, ts ? ts->line : y->line,
                   "timespan must be a number and a unit (30s, 5m, 1h, 1d)");
        goto done;
    }
    if (!ld_corr_new(L, d, &ci)) {
        ld_verdict(d, TL_RULE_REJECTED, y->line, "out of memory");
        goto done;
    }
    struct sg_corr *c = &L->rs->corrs[ci];
    c->kind = (uint8_t)kind;
    c->span_us = span;
    gen = yt_get(y, "generate");
    if (!gen)
        gen = yt_get(d->y, "generate");
    c->generate = gen && gen->kind == YT_SCALAR && strcasecmp(gen->str, "true") == 0;
    bool temporal = kind == CORR_TEMPORAL || kind == CORR_TEMPORAL_ORDERED;
    cond = yt_get(y, "condition");
    if (!ld_corr_group(d, c, yt_get(y, "group-by")) || (cond && !ld_corr_cond(d, c, cond)))
        goto done;
    if (!cond && !temporal) {
        ld_verdict(d, TL_RULE_REJECTED, y->line, "missing condition");
        goto done;
    }
    bool needs_field = kind == CORR_VALUE_COUNT || kind == CORR_VALUE_SUM || kind == CORR_VALUE_AVG;
    if (needs_field != (c->field != NULL)) {
        ld_verdict(d, TL_RULE_REJECTED, cond ? cond->line : y->line,
                   needs_field ? "condition needs a field"
                               : "only value_* correlations take a field");
        goto done;
    }
    c->nrefs = (uint32_t)ld_nlabels(rules);
    if (temporal && c->nrefs < 2) {
        ld_verdict(d, TL_RULE_REJECTED, rules->line,
                   "a temporal correlation needs two rules or more");
        goto done;
    }
    if (temporal && !c->ncond)
        c->cond[c->ncond++] = (struct sg_cond){ CMP_GTE, c->nrefs };
    if (!(c->refs = calloc(c->nrefs, sizeof(*c->refs)))) {
        ld_verdict(d, TL_RULE_REJECTED, y->line, "out of memory");
        goto done;
    }
    const struct yt_node *aliases = yt_get(y, "aliases");
    for (uint32_t i = 0; i < c->nrefs; i++) {
        const struct yt_node *lb = ld_label(rules, i);
        if (!ld_corr_ref(L, d, ci, i, lb->str, lb->line, aliases)) {
            if (d->verdict == TL_RULE_ACTIVE)
                ld_verdict(d, TL_RULE_REJECTED, lb->line, "out of memory");
            break;
        }
        c = &L->rs->corrs[ci]; /* the array may have moved */
    }
done:
    d->visit = 2;
}

/*
 * A rule whose condition ends in `| count(field) by group > N` (Sigma 1)
 * becomes the rule (condition before `|`, no alerts of its own) and a
 * correlation of it: count() event_count, count(f) value_count, sum(f)
 * value_sum, avg(f) value_avg, grouped by `by`, over `timeframe`.
 */
static void ld_legacy(struct ld *L, struct ld_doc *d)
{
    static const uint8_t kinds[] = {
        [AGG_COUNT] = CORR_EVENT_COUNT, [AGG_SUM] = CORR_VALUE_SUM, [AGG_AVG] = CORR_VALUE_AVG
    };
    const struct yt_node *det = yt_get(d->y, "detection"), *tf = yt_get(det, "timeframe");
    const struct yt_node *cond = yt_get(det, "condition");
    struct sg_agg *a = &d->agg;
    uint32_t ci;
    unsigned line = cond ? cond->line : d->line;

    d->visit = 2;
    if (a->fn == AGG_MIN || a->fn == AGG_MAX) {
        ld_verdict(d, TL_RULE_REJECTED, line, "min() and max() have no Sigma correlation");
        return;
    }
    uint64_t span = tf && tf->kind == YT_SCALAR ? ld_timespan(tf->str) : 0;
    if (!span) {
        ld_verdict(d, TL_RULE_REJECTED, tf ? tf->line : line,
                   tf ? "timeframe must be a number and a unit (30s, 5m, 1h, 1d)"
                      : "an aggregation needs a timeframe");
        return;
    }
    if (d->verdict != TL_RULE_ACTIVE)
        return;
    if (!ld_corr_new(L, d, &ci)) {
        ld_verdict(d, TL_RULE_REJECTED, line, "out of memory");
        return;
    }
    struct sg_corr *c = &L->rs->corrs[ci];
    c->kind = a->fn == AGG_COUNT && a->field[0] ? CORR_VALUE_COUNT : kinds[a->fn];
    c->span_us = span;
    c->cond[c->ncond++] = (struct sg_cond){ a->cmp, a->v };
    c->at_end = a->cmp == CMP_LT || a->cmp == CMP_LTE || a->cmp == CMP_EQ || a->cmp == CMP_NEQ;
    c->nrefs = 1;
    bool ok = (c->refs = calloc(1, sizeof(*c->refs))) && (c->refs[0].label = strdup("(rule)")) &&
              (!a->field[0] || (c->field = strdup(a->field))) &&
              (!a->by[0] || (c->group[c->ngroup++] = strdup(a->by)));
    for (uint32_t k = 0; ok && k < d->nclones; k++) {
        struct ld_clone *cl = &L->clones[d->clones[k]];
        struct sg_type *ty = &L->rs->types[cl->type];
        struct sg_use u = { .corr = ci, .vslot = UINT32_MAX };
        const char *names[2] = { a->by[0] ? a->by : NULL, a->field[0] ? a->field : NULL };
        ok = (u.gslots = calloc(SG_MAX_GROUP, sizeof(*u.gslots))) != NULL;
        for (int g = 0; ok && g < 2; g++) {
            uint32_t s = names[g] ? sg_slot_resolve(ty, names[g]) : 0;
            if (s == UINT32_MAX) {
                free(u.gslots);
                ld_verdict(d, TL_RULE_INACTIVE, line, "%s is not on %s events", names[g],
                           ty->t->name);
                return;
            }
            if (names[g] && g == 0)
                u.gslots[0] = s;
            else if (names[g])
                u.vslot = s;
        }
        if (ok && ld_use_add(&cl->uses, &cl->nuses, &cl->capuses, &u)) {
            free(u.gslots);
            ok = false;
        }
    }
    if (!ok)
        ld_verdict(d, TL_RULE_REJECTED, line, "out of memory");
}

/* Forgets correlation ci (its document is not active): no rule or correlation feeds it. */
static void ld_corr_drop(struct ld *L, uint32_t ci)
{
    struct tl_ruleset *rs = L->rs;
    for (uint32_t i = 0; i <= L->nclones + rs->ncorrs; i++) {
        struct sg_use *u = NULL;
        uint32_t *n = NULL;
        if (i < L->nclones) {
            u = L->clones[i].uses;
            n = &L->clones[i].nuses;
        } else if (i - L->nclones < rs->ncorrs) {
            u = rs->corrs[i - L->nclones].uses;
            n = &rs->corrs[i - L->nclones].nuses;
        }
        for (uint32_t k = 0; n && k < *n;) {
            if (u[k].corr != ci) {
                k++;
                continue;
            }
            free(u[k].gslots);
            u[k] = u[--*n];
        }
    }
    rs->corrs[ci].dead = true;
}

/* ---- finishing ---- */

static int ld_rule_make(struct ld *L, struct ld_clone *cl)
{
    struct tl_ruleset *rs = L->rs;
    struct tl_rule *r = calloc(1, sizeof(*r));
    if (!r || ld_meta_dup(&r->m, &L->docs[cl->doc].m)) {
        free(r);
        return -1;
    }
    r->rs = rs;
    r->type = cl->type;
    r->phase = cl->cc.late ? TL_PHASE_LATE : TL_PHASE_RECORD;
    r->nodes = cl->cc.nodes;
    r->nnodes = cl->cc.nnodes;
    r->root = cl->cc.root;
    r->kids = cl->cc.kids;
    r->nkids = cl->cc.nkids;
    r->tests = cl->cc.tests;
    r->ntests = cl->cc.ntests;
    r->slots = cl->cc.slots;
    r->nslots = cl->cc.nslots;
    r->uses = cl->uses;
    r->nuses = cl->nuses;
    memset(&cl->cc, 0, sizeof(cl->cc));
    cl->uses = NULL;
    cl->nuses = 0;
    rs->rules[rs->nrules++] = r;
    struct sg_type *ty = &rs->types[r->type];
    uint32_t ph = r->phase == TL_PHASE_LATE;
    struct tl_rule **l = realloc(ty->rules[ph], (ty->nrules[ph] + 1) * sizeof(*l));
    if (!l)
        return -1;
    ty->rules[ph] = l;
    l[ty->nrules[ph]++] = r;
    return 0;
}

/* A match alerts unless every correlation that reads it lacks `generate`. */
static void ld_alerts(struct tl_ruleset *rs)
{
    for (uint32_t i = 0; i < rs->nrules; i++) {
        struct tl_rule *r = rs->rules[i];
        r->alerts = r->nuses == 0;
        for (uint32_t k = 0; k < r->nuses; k++)
            r->alerts |= rs->corrs[r->uses[k].corr].generate;
    }
    for (uint32_t i = 0; i < rs->ncorrs; i++) {
        struct sg_corr *c = &rs->corrs[i];
        c->alerts = c->nuses == 0;
        for (uint32_t k = 0; k < c->nuses; k++)
            c->alerts |= rs->corrs[c->uses[k].corr].generate;
    }
}

static int ld_scan_add(struct sg_type *ty, int ph, uint32_t scan)
{
    for (uint32_t i = 0; i < ty->nscans[ph]; i++)
        if (ty->scans[ph][i] == scan)
            return 0;
    uint32_t *v = realloc(ty->scans[ph], (ty->nscans[ph] + 1) * sizeof(*v));
    if (!v)
        return -1;
    ty->scans[ph] = v;
    v[ty->nscans[ph]++] = scan;
    return 0;
}

/* Each rule's trigger patterns, the rules each pattern triggers, the automata to run first. */
static int ld_triggers(struct tl_ruleset *rs, struct sg_type *ty)
{
    uint32_t tidx = 0, *count = calloc(ty->npats + 1, sizeof(*count));
    if (!count || !(ty->pid_rules = calloc(ty->npats + 1, sizeof(*ty->pid_rules)))) {
        free(count);
        return -1;
    }
    for (int ph = 0; ph < 2; ph++)
        for (uint32_t i = 0; i < ty->nrules[ph]; i++) {
            struct tl_rule *r = ty->rules[ph][i];
            r->tidx = tidx++;
            sg_rule_triggers(r, ty, &r->trig, &r->ntrig);
            for (uint32_t k = 0; k < r->ntrig; k++) {
                const struct sg_pat *p = &ty->pats[r->trig[k]];
                count[r->trig[k]]++;
                if (ld_scan_add(ty, ph, p->slot * 2 + p->cased)) {
                    free(count);
                    return -1;
                }
            }
        }
    for (uint32_t p = 0; p < ty->npats; p++) {
        if (!count[p])
            continue;
        if (!(ty->pid_rules[p] = malloc((count[p] + 1) * sizeof(**ty->pid_rules)))) {
            free(count);
            return -1;
        }
        ty->pid_rules[p][0] = UINT32_MAX;
        count[p] = 0;
    }
    for (int ph = 0; ph < 2; ph++)
        for (uint32_t i = 0; i < ty->nrules[ph]; i++) {
            const struct tl_rule *r = ty->rules[ph][i];
            for (uint32_t k = 0; k < r->ntrig; k++) {
                uint32_t *l = ty->pid_rules[r->trig[k]];
                l[count[r->trig[k]]++] = r->tidx;
                l[count[r->trig[k]]] = UINT32_MAX;
            }
        }
    free(count);
    if (tidx > rs->max_rules)
        rs->max_rules = tidx;
    return 0;
}

static int ld_finish(struct ld *L)
{
    struct tl_ruleset *rs = L->rs;
    static const char *const idnames[ID_N] = { "ts",        "uid",       "community_id",
                                               "id.orig_h", "id.orig_p", "id.resp_h",
                                               "id.resp_p", "proto" };
    if (!(rs->rules = calloc(L->nclones + 1, sizeof(*rs->rules))))
        return ld_errf(L, "out of memory");
    for (uint32_t i = 0; i < L->ndocs; i++)
        if (L->docs[i].corr != UINT32_MAX && L->docs[i].verdict != TL_RULE_ACTIVE)
            ld_corr_drop(L, L->docs[i].corr);
    for (uint32_t i = 0; i < L->nclones; i++) {
        struct ld_clone *cl = &L->clones[i];
        if (L->docs[cl->doc].verdict == TL_RULE_ACTIVE && ld_rule_make(L, cl))
            return ld_errf(L, "out of memory");
    }
    ld_alerts(rs);
    for (uint32_t t = 0; t < rs->ntypes; t++) {
        struct sg_type *ty = &rs->types[t];
        for (int k = 0; k < ID_N; k++)
            ty->has_id[k] = tl_view_find(ty->t, idnames[k], &ty->ids[k]);
        if (sg_type_finish(ty) || ld_triggers(rs, ty))
            return ld_errf(L, "out of memory");
        if (ty->npats > rs->max_pats)
            rs->max_pats = ty->npats;
        if (ty->nslots > rs->max_slots)
            rs->max_slots = ty->nslots;
    }
    return 0;
}

/* ---- the report ---- */

static void ld_report(struct ld *L, tl_rules_report_fn report, void *arg,
                      struct tl_rules_summary *sum)
{
    struct tl_rules_summary s = { 0 };
    for (uint32_t i = 0, f = 0; f < L->nfiles; f++) {
        uint32_t first = i;
        bool rejected = false, active = false;
        while (i < L->ndocs && L->docs[i].file == f)
            i++;
        for (uint32_t k = first; k < i; k++) {
            const struct ld_doc *d = &L->docs[k];
            bool on = d->verdict == TL_RULE_ACTIVE;
            unsigned line = d->verdict == TL_RULE_REJECTED ? d->vline : i - first > 1 ? d->line : 0;
            if (report)
                report(arg, L->files[f].path, (enum tl_rule_verdict)d->verdict, line, d->reason);
            s.rules += on && d->kind == DOC_RULE && d->corr == UINT32_MAX;
            s.correlations += on && d->corr != UINT32_MAX;
            s.filters += on && d->kind == DOC_FILTER;
            rejected |= d->verdict == TL_RULE_REJECTED;
            active |= on;
        }
        s.files_rejected += rejected;
        s.files_active += !rejected && active;
        s.files_inactive += !rejected && !active;
    }
    if (sum)
        *sum = s;
}

static void ld_free(struct ld *L)
{
    for (uint32_t i = 0; i < L->ndocs; i++) {
        yt_free(L->docs[i].y);
        ld_meta_free(&L->docs[i].m);
        free(L->docs[i].clones);
    }
    free(L->docs);
    for (uint32_t i = 0; i < L->nclones; i++) {
        sg_cc_free(&L->clones[i].cc);
        for (uint32_t k = 0; k < L->clones[i].nuses; k++)
            free(L->clones[i].uses[k].gslots);
        free(L->clones[i].uses);
    }
    free(L->clones);
    for (uint32_t i = 0; i < L->nfiles; i++)
        free(L->files[i].path);
    free(L->files);
    ld_ph_free(&L->ph);
}

static struct tl_ruleset *ld_ruleset(const struct tl_rules_env *env)
{
    struct tl_ruleset *rs = calloc(1, sizeof(*rs));
    if (!rs || !(rs->types = calloc(env->ntypes + 1, sizeof(*rs->types))) ||
        !(rs->mctx = pcre2_match_context_create(NULL))) {
        if (rs)
            free(rs->types);
        free(rs);
        return NULL;
    }
    pcre2_set_match_limit(rs->mctx, 200000);
    pcre2_set_depth_limit(rs->mctx, 10000);
    for (size_t i = 0; i < env->ntypes; i++)
        rs->types[rs->ntypes++].t = env->types[i];
    rs->max_state = env->max_state;
    rs->max_alert_uids = env->max_alert_uids;
    return rs;
}

/* Every document read: verdicts, rules, filters, correlations, then the set. */
static int ld_process(struct ld *L, tl_rules_report_fn report, void *arg,
                      struct tl_rules_summary *sum)
{
    for (uint32_t i = 0; i < L->ndocs; i++)
        ld_classify(L, &L->docs[i]);
    for (uint32_t i = 0; i < L->ndocs; i++)
        if (L->docs[i].kind == DOC_RULE && L->docs[i].verdict == TL_RULE_ACTIVE)
            ld_rule(L, &L->docs[i]);
    for (uint32_t i = 0; i < L->ndocs; i++)
        if (L->docs[i].kind == DOC_FILTER && L->docs[i].verdict == TL_RULE_ACTIVE)
            ld_filter(L, &L->docs[i]);
    for (uint32_t i = 0; i < L->ndocs; i++)
        if (L->docs[i].kind == DOC_RULE && L->docs[i].agg.present)
            ld_legacy(L, &L->docs[i]);
    for (uint32_t i = 0; i < L->ndocs; i++)
        if (L->docs[i].kind == DOC_CORR && L->docs[i].verdict == TL_RULE_ACTIVE)
            ld_corr_resolve(L, &L->docs[i]);
    if (ld_finish(L))
        return -1;
    ld_report(L, report, arg, sum);
    return 0;
}

static struct tl_ruleset *ld_done(struct ld *L, int rc)
{
    ld_free(L);
    if (rc == 0)
        return L->rs;
    tl_rules_free(L->rs);
    return NULL;
}

struct tl_ruleset *tl_rules_load(const struct tl_rules_env *env, const char *paths,
                                 tl_rules_report_fn report, void *arg, struct tl_rules_summary *sum,
                                 char *errbuf, size_t n)
{
    struct ld L = { .env = env, .err = errbuf, .n = n };
    int rc = -1;
    if (!(L.rs = ld_ruleset(env))) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    if (ld_placeholders(&L, env->placeholders) || ld_paths(&L, paths))
        return ld_done(&L, -1);
    for (uint32_t f = 0; f < L.nfiles; f++)
        if (ld_read_file(&L, f))
            return ld_done(&L, -1);
    rc = ld_process(&L, report, arg, sum);
    return ld_done(&L, rc);
}

struct tl_ruleset *sg_rules_load_mem(const struct tl_rules_env *env, const char *name,
                                     const char *buf, size_t len, tl_rules_report_fn report,
                                     void *arg, struct tl_rules_summary *sum, char *errbuf,
                                     size_t n)
{
    struct ld L = { .env = env, .err = errbuf, .n = n };
    if (!(L.rs = ld_ruleset(env))) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    if (ld_placeholders(&L, env->placeholders) || ld_add_file(&L, name) ||
        ld_parse(&L, 0, buf, len))
        return ld_done(&L, -1);
    return ld_done(&L, ld_process(&L, report, arg, sum));
}

static void ld_corr_free(struct sg_corr *c)
{
    ld_meta_free(&c->m);
    for (uint32_t g = 0; g < c->ngroup; g++)
        free(c->group[g]);
    free(c->field);
    for (uint32_t i = 0; c->refs && i < c->nrefs; i++)
        free(c->refs[i].label);
    free(c->refs);
    for (uint32_t k = 0; k < c->nuses; k++)
        free(c->uses[k].gslots);
    free(c->uses);
}

void tl_rules_free(struct tl_ruleset *rs)
{
    if (!rs)
        return;
    for (uint32_t i = 0; i < rs->nrules; i++) {
        struct tl_rule *r = rs->rules[i];
        struct sg_cc cc = { .nodes = r->nodes,
                            .kids = r->kids,
                            .tests = r->tests,
                            .ntests = r->ntests,
                            .slots = r->slots };
        sg_cc_free(&cc);
        for (uint32_t k = 0; k < r->nuses; k++)
            free(r->uses[k].gslots);
        free(r->uses);
        free(r->trig);
        ld_meta_free(&r->m);
        free(r);
    }
    free(rs->rules);
    for (uint32_t i = 0; i < rs->ncorrs; i++)
        ld_corr_free(&rs->corrs[i]);
    free(rs->corrs);
    for (uint32_t t = 0; t < rs->ntypes; t++)
        sg_type_free(&rs->types[t]);
    free(rs->types);
    if (rs->mctx)
        pcre2_match_context_free(rs->mctx);
    free(rs);
}

bool tl_rule_alerts(const struct tl_rule *r)
{
    return r->alerts;
}

bool tl_rules_wants(const struct tl_ruleset *rs, const struct tl_event_type *t,
                    enum tl_rule_phase ph)
{
    const struct sg_type *ty = rs ? sg_type_of(rs, t) : NULL;
    return ty && ty->nrules[ph == TL_PHASE_LATE] > 0;
}
