/*
 * config.c - options from TL_CONFIG_KEYS: defaults, `--set key=value`, the YAML
 * file (YAML 1.1 via libyaml's event API) and `--help-config`.
 *
 * Accepted text, per type:
 *   U64   decimal digits with an optional k, M or G suffix (x1024, x1024^2, x1024^3);
 *   BOOL  true/false, yes/no, on/off, 1/0, any case;
 *   SECS  decimal seconds, fraction allowed ("0.5"); stored as microseconds,
 *         digits past the sixth decimal are dropped;
 *   STR   anything; in the file, a YAML null (~, null, or nothing) restores the
 *         default (for sensor and capture.filter, unset: NULL).
 * Anything else, and any overflow, is refused with the key in the message.
 * In the file, nested mappings make dotted keys ("flows:\n  udp_timeout: 30" is
 * flows.udp_timeout) and a sequence of scalars is joined with commas.
 */
#include <errno.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <yaml.h>

#include "config.h"
#include "dissect.h"
#include "netlist.h"
#include "paths.h" /* TL_RULES_DIR, written by the Makefile */

enum cfg_type { CFG_U64, CFG_BOOL, CFG_STR, CFG_SECS };

struct cfg_opt {
    const char *key;
    enum cfg_type type;
    size_t off;         /* offsetof the member in struct tl_config */
    uint64_t defnum;    /* U64, BOOL, SECS (in seconds) */
    const char *defstr; /* STR */
    double lo, hi;      /* U64, SECS (in seconds): the values allowed, both included */
    const char *doc;
};

#define CFG_OFF(m) offsetof(struct tl_config, m)
#define CFG_OPT_U64(m, k, def, lo, hi, d)                                                          \
    { k, CFG_U64, CFG_OFF(m), (uint64_t)(def), NULL, lo, hi, d },
#define CFG_OPT_BOOL(m, k, def, lo, hi, d)                                                         \
    { k, CFG_BOOL, CFG_OFF(m), (def) ? 1 : 0, NULL, 0, 0, d },
#define CFG_OPT_SECS(m, k, def, lo, hi, d)                                                         \
    { k, CFG_SECS, CFG_OFF(m), (uint64_t)(def), NULL, lo, hi, d },
#define CFG_OPT_STR(m, k, def, lo, hi, d)    { k, CFG_STR, CFG_OFF(m), 0, def, 0, 0, d },
#define TL_X(type, m, key, def, lo, hi, doc) CFG_OPT_##type(m, key, def, lo, hi, doc)
static const struct cfg_opt cfg_opts[] = { TL_CONFIG_KEYS(TL_X) };
#undef TL_X

enum { CFG_MAX_DEPTH = 16, CFG_MAX_KEY = 256 };

static char *cfg_strdup(const char *s)
{
    if (!s)
        return NULL;
    char *d = strdup(s);
    if (!d)
        abort(); /* at start-up, before any capture: nothing to save */
    return d;
}

static uint64_t cfg_secs_us(uint64_t secs)
{
    return secs * 1000000;
}

void tl_config_defaults(struct tl_config *c)
{
    memset(c, 0, sizeof(*c));
#define CFG_DEF_U64(m, def)                  c->m = (uint64_t)(def);
#define CFG_DEF_BOOL(m, def)                 c->m = (def);
#define CFG_DEF_SECS(m, def)                 c->m = cfg_secs_us((uint64_t)(def));
#define CFG_DEF_STR(m, def)                  c->m = cfg_strdup(def);
#define TL_X(type, m, key, def, lo, hi, doc) CFG_DEF_##type(m, def)
    TL_CONFIG_KEYS(TL_X)
#undef TL_X
}

uint64_t tl_config_mem_share(const struct tl_config *c, enum tl_mem_part part, unsigned holders)
{
    static const unsigned percent[] = {
        [TL_MEM_FLOWS] = 35,  [TL_MEM_DISSECT] = 35, [TL_MEM_REASM] = 15,
        [TL_MEM_DOMAINS] = 7, [TL_MEM_RULES] = 5,    [TL_MEM_FRAGS] = 3
    };
    if (!c->mem_max)
        return UINT64_MAX;
    return c->mem_max / 100 * percent[part] / (holders ? holders : 1);
}

uint64_t tl_config_mem_cap(const struct tl_config *c, enum tl_mem_part part, unsigned holders,
                           uint64_t own, uint64_t unit_bytes)
{
    uint64_t fit = tl_config_mem_share(c, part, holders) / unit_bytes;
    if (fit < own)
        own = fit;
    return own ? own : 1;
}

void tl_config_free(struct tl_config *c)
{
#define CFG_FREE_U64(m)
#define CFG_FREE_BOOL(m)
#define CFG_FREE_SECS(m)
#define CFG_FREE_STR(m)                                                                            \
    free(c->m);                                                                                    \
    c->m = NULL;
#define TL_X(type, m, key, def, lo, hi, doc) CFG_FREE_##type(m)
    TL_CONFIG_KEYS(TL_X)
#undef TL_X
}

static int cfg_err(char *errbuf, size_t n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Fills errbuf, if any room; returns -1 so callers can `return cfg_err(...)`. */
static int cfg_err(char *errbuf, size_t n, const char *fmt, ...)
{
    va_list ap;
    if (n) {
        va_start(ap, fmt);
        vsnprintf(errbuf, n, fmt, ap);
        va_end(ap);
    }
    return -1;
}

static const struct cfg_opt *cfg_find(const char *key)
{
    for (size_t i = 0; i < sizeof(cfg_opts) / sizeof(cfg_opts[0]); i++)
        if (strcmp(cfg_opts[i].key, key) == 0)
            return &cfg_opts[i];
    return NULL;
}

/* Decimal digits, then an optional k/M/G; no sign, no spaces. 0 on success. */
static int cfg_parse_u64(const char *s, uint64_t *out)
{
    uint64_t v = 0;
    const char *p = s;

    if (*p < '0' || *p > '9')
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (v > (UINT64_MAX - d) / 10)
            return -2;
        v = v * 10 + d;
    }
    unsigned shift = 0;
    switch (*p) {
    case '\0': break;
    case 'k':
    case 'K':
        shift = 10;
        p++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        p++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        p++;
        break;
    default: return -1;
    }
    if (*p)
        return -1;
    if (shift && v > UINT64_MAX >> shift)
        return -2;
    *out = v << shift;
    return 0;
}

/* Decimal seconds, optional fraction, to microseconds. 0 on success. */
static int cfg_parse_secs(const char *s, uint64_t *out)
{
    uint64_t secs = 0, us = 0;
    const char *p = s;
    int frac = 0;

    if ((*p < '0' || *p > '9') && !(*p == '.' && p[1] >= '0' && p[1] <= '9'))
        return -1;
    for (; *p >= '0' && *p <= '9'; p++) {
        unsigned d = (unsigned)(*p - '0');
        if (secs > (UINT64_MAX / 1000000 - d) / 10)
            return -2;
        secs = secs * 10 + d;
    }
    if (*p == '.') {
        p++;
        if (*p < '0' || *p > '9')
            return -1;
        for (; *p >= '0' && *p <= '9'; p++, frac++)
            if (frac < 6)
                us = us * 10 + (unsigned)(*p - '0');
    }
    if (*p)
        return -1;
    for (; frac < 6; frac++)
        us *= 10;
    if (secs > (UINT64_MAX - us) / 1000000)
        return -2;
    *out = secs * 1000000 + us;
    return 0;
}

static int cfg_parse_bool(const char *s, bool *out)
{
    static const char *const yes[] = { "true", "yes", "on", "1" };
    static const char *const no[] = { "false", "no", "off", "0" };
    for (size_t i = 0; i < 4; i++) {
        if (strcasecmp(s, yes[i]) == 0) {
            *out = true;
            return 0;
        }
        if (strcasecmp(s, no[i]) == 0) {
            *out = false;
            return 0;
        }
    }
    return -1;
}

/* ---- what a text option may hold (checked where it is set, so errors carry file:line) ---- */

static int cfg_check_nets(const char *v, char *why, size_t n)
{
    struct tl_netlist l;
    return tl_netlist_parse(&l, v, why, n);
}

/* A comma list whose members each satisfy ok(). */
static int cfg_check_list(const char *v, bool (*ok)(const char *s, size_t len), const char *what,
                          char *why, size_t n)
{
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ", ");
        if (len && !ok(p, len))
            return cfg_err(why, n, "'%.*s' is not %s", (int)len, p, what);
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}

static bool cfg_is_dissector(const char *s, size_t len)
{
    char name[32];
    if (len == 4 && !memcmp(s, "none", 4))
        return true;
    if (len >= sizeof(name))
        return false;
    memcpy(name, s, len);
    name[len] = '\0';
    return tl_dissector_by_name(name) != NULL;
}

static int cfg_check_protocols(const char *v, char *why, size_t n)
{
    return cfg_check_list(v, cfg_is_dissector, "a dissector (dns, http, kerberos, ldap) or none",
                          why, n);
}

static bool cfg_is_number(const char *s, size_t len)
{
    for (size_t i = 0; i < len; i++)
        if (s[i] < '0' || s[i] > '9')
            return false;
    return len > 0 && len < 6;
}

static int cfg_check_cpus(const char *v, char *why, size_t n)
{
    return cfg_check_list(v, cfg_is_number, "a CPU number", why, n);
}

static bool cfg_is_type_field(const char *s, size_t len)
{
    const char *dot = memchr(s, '.', len);
    return dot && dot > s && dot < s + len - 1;
}

static int cfg_check_pseudonymise(const char *v, char *why, size_t n)
{
    return cfg_check_list(v, cfg_is_type_field, "type.field (e.g. kerberos.client)", why, n);
}

/* One of the words of `words` (a NULL-terminated list). */
static int cfg_check_word(const char *v, const char *const *words, char *why, size_t n)
{
    char list[128] = "";
    for (size_t i = 0; words[i]; i++) {
        if (strcmp(v, words[i]) == 0)
            return 0;
        size_t used = strlen(list);
        snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "", words[i]);
    }
    return cfg_err(why, n, "'%s' is not one of %s", v, list);
}

static int cfg_check_kafka_key(const char *v, char *why, size_t n)
{
    static const char *const words[] = { "community_id", "uid", "none", NULL };
    return cfg_check_word(v, words, why, n);
}

static int cfg_check_method(const char *v, char *why, size_t n)
{
    static const char *const words[] = { "afpacket", "pcap", NULL };
    return cfg_check_word(v, words, why, n);
}

static int cfg_check_level(const char *v, char *why, size_t n)
{
    static const char *const words[] = { "error", "warning", "info", "debug", NULL };
    return cfg_check_word(v, words, why, n);
}

/* HOST:PORT or [V6]:PORT, the port 1 to 65535. */
static int cfg_check_listen(const char *v, char *why, size_t n)
{
    const char *colon = strrchr(v, ':');
    char *end = NULL;
    long port = colon ? strtol(colon + 1, &end, 10) : 0;
    if (!colon || colon == v || *end || end == colon + 1 || port < 1 || port > 65535)
        return cfg_err(why, n, "'%s' is not ADDRESS:PORT (e.g. 127.0.0.1:9108)", v);
    return 0;
}

static int cfg_check_hash_bodies(const char *v, char *why, size_t n)
{
    if (tl_body_hash_parse(v) < 0)
        return cfg_err(why, n, "'%s' is not one of files, all, none", v);
    return 0;
}

static int cfg_check_digests(const char *v, char *why, size_t n)
{
    if (tl_digests_parse(v) < 0)
        return cfg_err(why, n, "'%s' is not a list of md5, sha1, sha256", v);
    return 0;
}

static const struct {
    const char *key;
    int (*check)(const char *value, char *why, size_t n);
} cfg_checks[] = {
    { "flows.home_nets", cfg_check_nets },
    { "domains.resolvers", cfg_check_nets },
    { "dissect.protocols", cfg_check_protocols },
    { "capture.cpus", cfg_check_cpus },
    { "capture.method", cfg_check_method },
    { "privacy.pseudonymise", cfg_check_pseudonymise },
    { "kafka.key", cfg_check_kafka_key },
    { "log.level", cfg_check_level },
    { "http.hash_bodies", cfg_check_hash_bodies },
    { "http.hash_algorithms", cfg_check_digests },
    { "metrics.listen", cfg_check_listen },
};

static int cfg_check_str(const struct cfg_opt *o, const char *value, char *errbuf, size_t n)
{
    char why[256];
    for (size_t i = 0; value && i < sizeof(cfg_checks) / sizeof(cfg_checks[0]); i++)
        if (strcmp(cfg_checks[i].key, o->key) == 0 && cfg_checks[i].check(value, why, sizeof(why)))
            return cfg_err(errbuf, n, "%s: %s", o->key, why);
    return 0;
}

/* "LO to HI", the bounds as the option counts. */
static void cfg_range_text(const struct cfg_opt *o, char *out, size_t n)
{
    if (o->type == CFG_SECS)
        snprintf(out, n, "%.15g to %.15g seconds", o->lo, o->hi);
    else /* whole numbers, every digit (2^50 is no 1.12589990684262e+15) */
        snprintf(out, n, "%.0f to %.0f", o->lo, o->hi);
}

/* "KEY: 'V' is out of range (LO to HI)". */
static int cfg_range_err(const struct cfg_opt *o, const char *value, char *errbuf, size_t n)
{
    char range[96];
    cfg_range_text(o, range, sizeof(range));
    return cfg_err(errbuf, n, "%s: '%s' is out of range (%s)", o->key, value, range);
}

/* value NULL: the YAML null, which restores a STR option's default and is refused for others. */
static int cfg_set_opt(struct tl_config *c, const struct cfg_opt *o, const char *value,
                       char *errbuf, size_t n)
{
    char *m = (char *)c + o->off;
    int r;

    if (!value && o->type != CFG_STR)
        return cfg_err(errbuf, n, "%s: a value is required", o->key);
    switch (o->type) {
    case CFG_U64: {
        uint64_t v;
        r = cfg_parse_u64(value, &v);
        if (r == -2)
            return cfg_err(errbuf, n, "%s: '%s' is too large", o->key, value);
        if (r)
            return cfg_err(errbuf, n, "%s: '%s' is not a number (digits, optional k/M/G)", o->key,
                           value);
        if ((double)v < o->lo || (double)v > o->hi)
            return cfg_range_err(o, value, errbuf, n);
        memcpy(m, &v, sizeof(v));
        return 0;
    }
    case CFG_SECS: {
        uint64_t v;
        r = cfg_parse_secs(value, &v);
        if (r == -2)
            return cfg_err(errbuf, n, "%s: '%s' seconds is too large", o->key, value);
        if (r)
            return cfg_err(errbuf, n, "%s: '%s' is not a number of seconds", o->key, value);
        if ((double)v / 1e6 < o->lo || (double)v / 1e6 > o->hi)
            return cfg_range_err(o, value, errbuf, n);
        memcpy(m, &v, sizeof(v));
        return 0;
    }
    case CFG_BOOL: {
        bool v;
        if (cfg_parse_bool(value, &v))
            return cfg_err(errbuf, n, "%s: '%s' is not a boolean (true/false, yes/no, on/off, 1/0)",
                           o->key, value);
        memcpy(m, &v, sizeof(v));
        return 0;
    }
    case CFG_STR: {
        if (cfg_check_str(o, value, errbuf, n) < 0)
            return -1;
        char *old, *v = cfg_strdup(value ? value : o->defstr);
        memcpy(&old, m, sizeof(old));
        free(old);
        memcpy(m, &v, sizeof(v));
        return 0;
    }
    }
    return cfg_err(errbuf, n, "%s: bad option type", o->key);
}

/* Edit distance (Levenshtein) of two short strings, capped at 9. */
static unsigned cfg_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    unsigned row[CFG_MAX_KEY + 1];
    if (la > CFG_MAX_KEY || lb > CFG_MAX_KEY)
        return 9;
    for (size_t j = 0; j <= lb; j++)
        row[j] = (unsigned)j;
    for (size_t i = 1; i <= la; i++) {
        unsigned diag = row[0];
        row[0] = (unsigned)i;
        for (size_t j = 1; j <= lb; j++) {
            unsigned up = row[j];
            unsigned best = diag + (a[i - 1] != b[j - 1]);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb] > 9 ? 9 : row[lb];
}

/* "unknown option 'x'", with the closest known key when one is a few edits away. */
static int cfg_unknown(const char *key, char *errbuf, size_t n)
{
    const char *best = NULL;
    unsigned best_d = 4;
    for (size_t i = 0; i < sizeof(cfg_opts) / sizeof(cfg_opts[0]); i++) {
        unsigned d = cfg_distance(key, cfg_opts[i].key);
        if (d < best_d) {
            best_d = d;
            best = cfg_opts[i].key;
        }
    }
    if (best)
        return cfg_err(errbuf, n, "unknown option '%s' (did you mean '%s'?)", key, best);
    return cfg_err(errbuf, n, "unknown option '%s'", key);
}

int tl_config_set(struct tl_config *c, const char *key, const char *value, char *errbuf, size_t n)
{
    const struct cfg_opt *o = cfg_find(key);
    if (!o)
        return cfg_unknown(key, errbuf, n);
    if (!value)
        return cfg_err(errbuf, n, "%s: a value is required", key);
    return cfg_set_opt(c, o, value, errbuf, n);
}

/* --- the YAML file ------------------------------------------------------ */

struct cfg_yaml {
    struct tl_config *c;
    yaml_parser_t parser;
    const char *path;
    char *errbuf;
    size_t n;
    char key[CFG_MAX_KEY]; /* the dotted path of the mapping being read */
    struct cfg_seen {      /* keys set so far, to refuse one set twice */
        char key[CFG_MAX_KEY];
        unsigned long line;
    } * seen;
    size_t nseen;
};

/* Remembers that y->key was set at line; -1 (errbuf set) when it already was. */
static int cfg_once(struct cfg_yaml *y, unsigned long line)
{
    for (size_t i = 0; i < y->nseen; i++)
        if (strcmp(y->seen[i].key, y->key) == 0)
            return cfg_err(y->errbuf, y->n, "%s:%lu: '%s' is set twice (first at line %lu)",
                           y->path, line, y->key, y->seen[i].line);
    struct cfg_seen *s = realloc(y->seen, (y->nseen + 1) * sizeof(*s));
    if (!s)
        abort(); /* at start-up, before any capture */
    y->seen = s;
    memcpy(s[y->nseen].key, y->key, sizeof(y->key));
    s[y->nseen++].line = line;
    return 0;
}

/* Next event into ev, or -1 with the parser's reason. */
static int cfg_next(struct cfg_yaml *y, yaml_event_t *ev)
{
    if (yaml_parser_parse(&y->parser, ev))
        return 0;
    return cfg_err(y->errbuf, y->n, "%s:%lu: %s%s%s", y->path,
                   (unsigned long)(y->parser.problem_mark.line + 1),
                   y->parser.problem ? y->parser.problem : "YAML syntax error",
                   y->parser.context ? " " : "", y->parser.context ? y->parser.context : "");
}

static unsigned long cfg_line(const yaml_event_t *ev)
{
    return (unsigned long)ev->start_mark.line + 1;
}

/* A plain ~, null or empty scalar is YAML's null (YAML 1.1 null type). */
static bool cfg_is_null(const yaml_event_t *ev)
{
    const char *v = (const char *)ev->data.scalar.value;
    return ev->data.scalar.style == YAML_PLAIN_SCALAR_STYLE &&
           (!*v || strcmp(v, "~") == 0 || strcmp(v, "null") == 0 || strcmp(v, "Null") == 0 ||
            strcmp(v, "NULL") == 0);
}

/*
 * A mapping under a STR option whose key ends in ".properties" (kafka.properties)
 * or ".placeholders" (rules.placeholders) passes names through: each entry is
 * appended to the option as a "name=value" line (a list value joined with commas).
 */
static bool cfg_is_map_option(const char *k)
{
    static const char *const suffixes[] = { ".properties", ".placeholders" };
    size_t kl = strlen(k);
    for (size_t i = 0; i < sizeof(suffixes) / sizeof(suffixes[0]); i++) {
        size_t sl = strlen(suffixes[i]);
        if (kl > sl && strcmp(k + kl - sl, suffixes[i]) == 0)
            return true;
    }
    return false;
}

static const struct cfg_opt *cfg_find_property(const char *key, const char **name)
{
    for (size_t i = 0; i < sizeof(cfg_opts) / sizeof(cfg_opts[0]); i++) {
        const char *k = cfg_opts[i].key;
        size_t kl = strlen(k);
        if (cfg_opts[i].type == CFG_STR && cfg_is_map_option(k) && strncmp(key, k, kl) == 0 &&
            key[kl] == '.' && key[kl + 1]) {
            *name = key + kl + 1;
            return &cfg_opts[i];
        }
    }
    return NULL;
}

static int cfg_apply_property(struct cfg_yaml *y, const struct cfg_opt *o, const char *name,
                              const char *value, unsigned long line)
{
    char *old, why[512];
    memcpy(&old, (char *)y->c + o->off, sizeof(old));
    if (!value)
        return cfg_err(y->errbuf, y->n, "%s:%lu: %s: a value is required", y->path, line, y->key);
    size_t n = (old ? strlen(old) + 1 : 0) + strlen(name) + strlen(value) + 2;
    char *v = malloc(n);
    if (!v)
        abort();
    snprintf(v, n, "%s%s%s=%s", old ? old : "", old ? "\n" : "", name, value);
    int rc = cfg_set_opt(y->c, o, v, why, sizeof(why));
    free(v);
    return rc ? cfg_err(y->errbuf, y->n, "%s:%lu: %s", y->path, line, why) : 0;
}

/* Applies key = value (NULL: YAML null) read at `line`; errors get "path:line: ". */
static int cfg_apply(struct cfg_yaml *y, const char *value, unsigned long line)
{
    char why[512];
    const char *name;
    const struct cfg_opt *o = cfg_find(y->key);

    if (cfg_once(y, line) < 0)
        return -1;
    if (!o && (o = cfg_find_property(y->key, &name)))
        return cfg_apply_property(y, o, name, value, line);
    if (!o) {
        cfg_unknown(y->key, why, sizeof(why));
        return cfg_err(y->errbuf, y->n, "%s:%lu: %s", y->path, line, why);
    }
    if (cfg_set_opt(y->c, o, value, why, sizeof(why)))
        return cfg_err(y->errbuf, y->n, "%s:%lu: %s", y->path, line, why);
    return 0;
}

/* The rest of a sequence whose start was consumed: scalars joined with commas. */
static int cfg_sequence(struct cfg_yaml *y, unsigned long line)
{
    char *joined = NULL;
    size_t len = 0;
    int rc = -1;
    yaml_event_t ev;

    for (;;) {
        if (cfg_next(y, &ev))
            goto fail;
        if (ev.type == YAML_SEQUENCE_END_EVENT) {
            yaml_event_delete(&ev);
            break;
        }
        if (ev.type != YAML_SCALAR_EVENT) {
            cfg_err(y->errbuf, y->n, "%s:%lu: '%s': a list may hold only plain values", y->path,
                    cfg_line(&ev), y->key);
            yaml_event_delete(&ev);
            goto fail;
        }
        size_t vlen = ev.data.scalar.length;
        char *p = realloc(joined, len + vlen + 2);
        if (!p)
            abort();
        joined = p;
        if (len)
            joined[len++] = ',';
        memcpy(joined + len, ev.data.scalar.value, vlen);
        len += vlen;
        joined[len] = '\0';
        yaml_event_delete(&ev);
    }
    rc = cfg_apply(y, joined ? joined : "", line);
fail:
    free(joined);
    return rc;
}

/* The rest of a mapping whose start was consumed; y->key holds its dotted path. */
static int cfg_mapping(struct cfg_yaml *y, int depth)
{
    size_t base = strlen(y->key);
    yaml_event_t ev;

    if (depth > CFG_MAX_DEPTH)
        return cfg_err(y->errbuf, y->n, "%s: nested deeper than %d levels", y->path, CFG_MAX_DEPTH);
    for (;;) {
        if (cfg_next(y, &ev))
            return -1;
        if (ev.type == YAML_MAPPING_END_EVENT) {
            yaml_event_delete(&ev);
            return 0;
        }
        unsigned long line = cfg_line(&ev);
        if (ev.type != YAML_SCALAR_EVENT) {
            yaml_event_delete(&ev);
            return cfg_err(y->errbuf, y->n, "%s:%lu: keys must be plain names", y->path, line);
        }
        size_t klen = ev.data.scalar.length;
        if (base + 1 + klen >= sizeof(y->key) || memchr(ev.data.scalar.value, '\0', klen)) {
            yaml_event_delete(&ev);
            return cfg_err(y->errbuf, y->n, "%s:%lu: key too long", y->path, line);
        }
        size_t at = base;
        if (base)
            y->key[at++] = '.';
        memcpy(y->key + at, ev.data.scalar.value, klen);
        y->key[at + klen] = '\0';
        yaml_event_delete(&ev);

        if (cfg_next(y, &ev))
            return -1;
        int rc;
        switch (ev.type) {
        case YAML_SCALAR_EVENT:
            rc = cfg_apply(y, cfg_is_null(&ev) ? NULL : (const char *)ev.data.scalar.value, line);
            break;
        case YAML_MAPPING_START_EVENT: rc = cfg_mapping(y, depth + 1); break;
        case YAML_SEQUENCE_START_EVENT: rc = cfg_sequence(y, line); break;
        default:
            rc = cfg_err(y->errbuf, y->n, "%s:%lu: '%s': aliases are not supported", y->path,
                         cfg_line(&ev), y->key);
            break;
        }
        yaml_event_delete(&ev);
        if (rc)
            return rc;
        y->key[base] = '\0';
    }
}

/* Every document must be a mapping; an empty file sets nothing. */
int tl_config_load(struct tl_config *c, const char *path, char *errbuf, size_t n)
{
    struct cfg_yaml y = { .c = c, .path = path, .errbuf = errbuf, .n = n };
    yaml_event_t ev;
    int rc = -1;
    FILE *f = fopen(path, "rb");

    if (!f)
        return cfg_err(errbuf, n, "%s: %s", path, strerror(errno));
    if (!yaml_parser_initialize(&y.parser)) {
        fclose(f);
        return cfg_err(errbuf, n, "%s: out of memory", path);
    }
    yaml_parser_set_input_file(&y.parser, f);
    for (;;) {
        if (cfg_next(&y, &ev))
            goto fail;
        yaml_event_type_t t = ev.type;
        if (t == YAML_MAPPING_START_EVENT) {
            y.key[0] = '\0';
            yaml_event_delete(&ev);
            if (cfg_mapping(&y, 1))
                goto fail;
            continue;
        }
        bool empty_doc = t == YAML_SCALAR_EVENT && cfg_is_null(&ev); /* "---" and nothing */
        if (!empty_doc &&
            (t == YAML_SCALAR_EVENT || t == YAML_SEQUENCE_START_EVENT || t == YAML_ALIAS_EVENT)) {
            cfg_err(errbuf, n, "%s:%lu: not a mapping of options", path, cfg_line(&ev));
            yaml_event_delete(&ev);
            goto fail;
        }
        yaml_event_delete(&ev);
        if (t == YAML_STREAM_END_EVENT)
            break;
    }
    if (y.nseen == 0) {
        cfg_err(errbuf, n, "%s: sets no option (an empty file: give no -c instead)", path);
        goto fail;
    }
    rc = 0;
fail:
    free(y.seen);
    yaml_parser_delete(&y.parser);
    fclose(f);
    return rc;
}

/* --- --help-config ------------------------------------------------------ */

enum { CFG_DEF_COL = 12 }; /* longer defaults push the meaning onto the next line */

static void cfg_default_text(const struct cfg_opt *o, char *out, size_t n)
{
    switch (o->type) {
    case CFG_U64:
    case CFG_SECS: snprintf(out, n, "%llu", (unsigned long long)o->defnum); break;
    case CFG_BOOL: snprintf(out, n, "%s", o->defnum ? "true" : "false"); break;
    case CFG_STR: snprintf(out, n, "%s", o->defstr ? o->defstr : "(unset)"); break;
    }
}

bool tl_config_option(size_t i, struct tl_config_info *out)
{
    if (i >= sizeof(cfg_opts) / sizeof(cfg_opts[0]))
        return false;
    const struct cfg_opt *o = &cfg_opts[i];
    out->key = o->key;
    out->type = o->type == CFG_BOOL ? 'b' : o->type == CFG_STR ? 's' : 'n';
    out->secs = o->type == CFG_SECS;
    out->lo = o->lo;
    out->hi = o->hi;
    return true;
}

void tl_config_print_help(FILE *out)
{
    size_t kw = 0, nopts = sizeof(cfg_opts) / sizeof(cfg_opts[0]);
    char def[256];

    for (size_t i = 0; i < nopts; i++)
        if (strlen(cfg_opts[i].key) > kw)
            kw = strlen(cfg_opts[i].key);
    fprintf(out, "  %-*s  %-*s  %s\n", (int)kw, "option", CFG_DEF_COL, "default", "meaning");
    for (size_t i = 0; i < nopts; i++) {
        const struct cfg_opt *o = &cfg_opts[i];
        char bounds[96], range[100] = "";
        if (o->type == CFG_U64 || o->type == CFG_SECS) {
            cfg_range_text(o, bounds, sizeof(bounds));
            snprintf(range, sizeof(range), " [%s]", bounds);
        }
        cfg_default_text(o, def, sizeof(def));
        if (strlen(def) > CFG_DEF_COL)
            fprintf(out, "  %-*s  %s\n  %-*s  %-*s  %s%s\n", (int)kw, o->key, def, (int)kw, "",
                    CFG_DEF_COL, "", o->doc, range);
        else
            fprintf(out, "  %-*s  %-*s  %s%s\n", (int)kw, o->key, CFG_DEF_COL, def, o->doc, range);
    }
}
