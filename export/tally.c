/*
 * tally.c - a summary's counting: each JSON line read strictly (jsonread.c),
 * the few fields the summary needs picked by name, and added to bounded
 * tables and time series (see tally.h and summary.h).
 *
 * Keys are compared as the writer writes them: a key spelled with escapes is
 * another key, ignored. Names kept are unescaped UTF-8 cut at TALLY_NAME
 * bytes; the writers sanitise them for a terminal or escape them for HTML.
 * The maps hash with a seed drawn at start, so chosen names cannot force
 * collisions, and a full map counts what it refuses.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>

#include "jsonread.h"
#include "tally.h"

const char *const tally_level_names[TALLY_LEVELS] = { "critical", "high",          "medium",
                                                      "low",      "informational", "other" };

/* ---- bounded maps ---- */

static uint64_t tally_seed;

static uint64_t tally_hash(const char *s)
{
    uint64_t h = 0xcbf29ce484222325ull ^ tally_seed;
    for (; *s; s++)
        h = (h ^ (uint8_t)*s) * 0x100000001b3ull;
    h ^= h >> 33; /* the murmur3 finaliser spreads FNV's low bits */
    h *= 0xff51afd7ed558ccdull;
    return h ^ h >> 33;
}

static bool tally_map_init(struct tally_map *m, size_t cap)
{
    m->cap = cap;
    m->nslots = 16;
    while (m->nslots < cap * 2)
        m->nslots *= 2;
    m->slot = calloc(m->nslots, sizeof(*m->slot));
    return m->slot != NULL;
}

static void tally_list_free(struct tally_list *l)
{
    for (unsigned i = 0; i < l->n; i++)
        free(l->v[i]);
}

static void tally_map_free(struct tally_map *m)
{
    for (size_t i = 0; m->slot && i < m->nslots; i++) {
        struct tally_row *r = m->slot[i];
        if (!r)
            continue;
        tally_list_free(&r->a);
        tally_list_free(&r->b);
        free(r->key);
        free(r);
    }
    free(m->slot);
}

/* The row of key, added when absent (NULL when the map is full, counted, or no memory). */
static struct tally_row *tally_row(struct tally_map *m, const char *key)
{
    size_t i = (size_t)tally_hash(key) & (m->nslots - 1);
    for (; m->slot[i]; i = (i + 1) & (m->nslots - 1))
        if (strcmp(m->slot[i]->key, key) == 0)
            return m->slot[i];
    if (m->n == m->cap) {
        m->capped++;
        return NULL;
    }
    struct tally_row *r = calloc(1, sizeof(*r));
    if (!r || !(r->key = strdup(key))) {
        free(r);
        return NULL;
    }
    r->freq = NAN;
    m->slot[i] = r;
    m->n++;
    return r;
}

/* The row of key if there is one. */
static struct tally_row *tally_find(const struct tally_map *m, const char *key)
{
    size_t i = (size_t)tally_hash(key) & (m->nslots - 1);
    for (; m->slot[i]; i = (i + 1) & (m->nslots - 1))
        if (strcmp(m->slot[i]->key, key) == 0)
            return m->slot[i];
    return NULL;
}

static void tally_list_add(struct tally_list *l, const char *name)
{
    if (!*name)
        return;
    for (unsigned i = 0; i < l->n; i++)
        if (strcmp(l->v[i], name) == 0)
            return;
    if (l->n < TALLY_LIST && (l->v[l->n] = strdup(name)))
        l->n++;
    else
        l->more++;
}

size_t tally_top(const struct tally_map *m, int (*cmp)(const void *, const void *),
                 const struct tally_row **out, size_t max)
{
    const struct tally_row **all = m->n ? malloc(m->n * sizeof(*all)) : NULL;
    size_t n = 0;
    if (!all)
        return 0;
    for (size_t i = 0; i < m->nslots; i++)
        if (m->slot[i])
            all[n++] = m->slot[i];
    qsort(all, n, sizeof(*all), cmp);
    n = n < max ? n : max;
    if (n)
        memcpy(out, all, n * sizeof(*out));
    free(all);
    return n;
}

/* qsort comparators over const struct tally_row *: larger c[k] first, then by key. */
static int tally_cmp_key(const struct tally_row *a, const struct tally_row *b)
{
    return strcmp(a->key, b->key);
}

static int tally_cmp_desc(const void *pa, const void *pb, int k)
{
    const struct tally_row *a = *(const struct tally_row *const *)pa;
    const struct tally_row *b = *(const struct tally_row *const *)pb;
    if (a->c[k] != b->c[k])
        return a->c[k] > b->c[k] ? -1 : 1;
    return tally_cmp_key(a, b);
}

int tally_by_bytes(const void *a, const void *b)
{
    return tally_cmp_desc(a, b, T_BYTES);
}

int tally_by_flows(const void *a, const void *b)
{
    return tally_cmp_desc(a, b, T_FLOWS);
}

int tally_by_hosts(const void *a, const void *b)
{
    int d = tally_cmp_desc(a, b, T_HOSTS30);
    const struct tally_row *ra = *(const struct tally_row *const *)a;
    const struct tally_row *rb = *(const struct tally_row *const *)b;
    if (ra->c[T_HOSTS30] == rb->c[T_HOSTS30] && ra->c[T_REQ30] != rb->c[T_REQ30])
        return ra->c[T_REQ30] > rb->c[T_REQ30] ? -1 : 1;
    return d;
}

int tally_by_rarity(const void *pa, const void *pb)
{
    const struct tally_row *a = *(const struct tally_row *const *)pa;
    const struct tally_row *b = *(const struct tally_row *const *)pb;
    double fa = isnan(a->freq) ? 1e9 : a->freq, fb = isnan(b->freq) ? 1e9 : b->freq;
    if (fa != fb)
        return fa < fb ? -1 : 1;
    if (a->c[T_HOSTS30] != b->c[T_HOSTS30])
        return a->c[T_HOSTS30] < b->c[T_HOSTS30] ? -1 : 1;
    return tally_cmp_key(a, b);
}

/* A level's rank in tally_level_names (critical first); unknown last. */
size_t tally_level(const char *name)
{
    size_t lv = 0;
    while (lv < TALLY_LEVELS - 1 && strcmp(tally_level_names[lv], name) != 0)
        lv++;
    return lv;
}

int tally_by_alerts(const void *pa, const void *pb)
{
    const struct tally_row *a = *(const struct tally_row *const *)pa;
    const struct tally_row *b = *(const struct tally_row *const *)pb;
    size_t la = tally_level(a->level), lb = tally_level(b->level);
    if (la != lb)
        return la < lb ? -1 : 1;
    return tally_cmp_desc(pa, pb, T_ALERTS);
}

uint64_t tally_activity(const struct tally_row *r)
{
    uint64_t n = 0;
    for (int k = T_AS_OK; k <= T_LDAP_OPS; k++)
        n += r->c[k];
    return n;
}

int tally_by_activity(const void *pa, const void *pb)
{
    const struct tally_row *a = *(const struct tally_row *const *)pa;
    const struct tally_row *b = *(const struct tally_row *const *)pb;
    uint64_t na = tally_activity(a), nb = tally_activity(b);
    if (na != nb)
        return na > nb ? -1 : 1;
    return tally_cmp_key(a, b);
}

/* ---- the time grid ---- */

/* Every series, one row each, for remapping. */
static size_t tally_series(struct tl_summary *s, double **rows)
{
    size_t n = 0;
    for (size_t i = 0; i <= TALLY_SERIES; i++)
        rows[n++] = s->traffic[i];
    for (size_t i = 0; i < TALLY_LEVELS; i++)
        rows[n++] = s->alerts[i];
    return n;
}

/*
 * Bucket widths a person reads easily, each a multiple of the one before (so merged buckets
 * never straddle): 10 ms to a day, then doubling.
 */
static uint64_t tally_wider(uint64_t w)
{
    static const uint64_t steps[] = { 10000,       20000,      100000,     200000,     1000000,
                                      2000000,     10000000,   20000000,   60000000,   120000000,
                                      600000000,   1200000000, 3600000000, 7200000000, 21600000000,
                                      43200000000, 86400000000 };
    for (size_t i = 0; i < TL_ARRAY_LEN(steps); i++)
        if (steps[i] > w)
            return steps[i];
    return w * 2;
}

/* Widens the grid (merging buckets) until ts falls in it. */
static void tally_fit(struct tl_summary *s, uint64_t ts)
{
    struct tally_grid *g = &s->grid;
    if (!g->width_us) {
        g->width_us = tally_wider(0);
        g->origin_us = ts - ts % g->width_us;
        return;
    }
    uint64_t end = g->origin_us + TALLY_BUCKETS * g->width_us;
    if (ts >= g->origin_us && ts < end)
        return;
    uint64_t lo = ts < g->origin_us ? ts : g->origin_us, hi = ts >= end ? ts + 1 : end;
    uint64_t w = g->width_us, o;
    do { /* origins stay multiples of the width, so old buckets never straddle new ones */
        w = tally_wider(w);
        o = lo - lo % w;
    } while ((hi - o + w - 1) / w > TALLY_BUCKETS);
    double *rows[TALLY_SERIES + 1 + TALLY_LEVELS], tmp[TALLY_BUCKETS];
    size_t nrows = tally_series(s, rows);
    for (size_t r = 0; r < nrows; r++) {
        memset(tmp, 0, sizeof(tmp));
        for (size_t i = 0; i < TALLY_BUCKETS; i++)
            if (rows[r][i] != 0)
                tmp[(g->origin_us + i * g->width_us - o) / w] += rows[r][i];
        memcpy(rows[r], tmp, sizeof(tmp));
    }
    g->origin_us = o;
    g->width_us = w;
}

/* Adds v to row h, spread evenly over [start, end] (all at start when end <= start). */
static void tally_spread(struct tl_summary *s, double *h, uint64_t start, uint64_t end, double v)
{
    tally_fit(s, start);
    if (end > start)
        tally_fit(s, end - 1);
    const struct tally_grid *g = &s->grid;
    size_t first = (start - g->origin_us) / g->width_us;
    if (end <= start) {
        h[first] += v;
        return;
    }
    size_t last = (end - 1 - g->origin_us) / g->width_us;
    for (size_t i = first; i <= last; i++) {
        uint64_t b0 = tally_bucket_us(s, i), b1 = b0 + g->width_us;
        uint64_t lo = start > b0 ? start : b0, hi = end < b1 ? end : b1;
        h[i] += v * (double)(hi - lo) / (double)(end - start);
    }
}

/* ---- text for people ---- */

size_t tally_char(const unsigned char *p, size_t n, bool *unsafe)
{
    size_t k = p[0] < 0x80                    ? 1
               : p[0] >= 0xc2 && p[0] <= 0xdf ? 2
               : p[0] >= 0xe0 && p[0] <= 0xef ? 3
               : p[0] >= 0xf0 && p[0] <= 0xf4 ? 4
                                              : 0;
    bool valid = k && k <= n;
    for (size_t i = 1; valid && i < k; i++)
        valid = (p[i] & 0xc0) == 0x80;
    if (valid &&
        ((k == 3 && p[0] == 0xe0 && p[1] < 0xa0) || (k == 3 && p[0] == 0xed && p[1] >= 0xa0) ||
         (k == 4 && p[0] == 0xf0 && p[1] < 0x90) || (k == 4 && p[0] == 0xf4 && p[1] >= 0x90)))
        valid = false; /* overlong, a surrogate, past U+10FFFF (RFC 3629) */
    if (!valid) {
        *unsafe = true;
        return 1;
    }
    *unsafe = p[0] < 0x20 || p[0] == 0x7f || (k == 2 && p[0] == 0xc2 && p[1] < 0xa0) ||
              (k == 3 && p[0] == 0xe2 &&
               ((p[1] == 0x80 && p[2] >= 0xaa && p[2] <= 0xae) ||
                (p[1] == 0x81 && p[2] >= 0xa6 && p[2] <= 0xa9)));
    return k;
}

const char *tally_bytes(char out[16], uint64_t v)
{
    static const char *const unit[] = { "B", "kB", "MB", "GB", "TB", "PB", "EB" };
    double d = (double)v;
    size_t u = 0;
    while (d >= 1000 && u < 6) {
        d /= 1000;
        u++;
    }
    if (u == 0)
        snprintf(out, 16, "%llu B", (unsigned long long)v);
    else
        snprintf(out, 16, "%.1f %s", d, unit[u]);
    return out;
}

void tally_time(char out[32], uint64_t us)
{
    time_t t = (time_t)(us / 1000000u);
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(out, 32, "%Y-%m-%d %H:%M:%S", &tm))
        snprintf(out, 32, "?");
}

void tally_span(char out[32], uint64_t us)
{
    unsigned long long s = us / 1000000u;
    if (s < 60)
        snprintf(out, 32, "%llu s", s);
    else if (s < 3600)
        snprintf(out, 32, "%llu min %llu s", s / 60, s % 60);
    else if (s < 86400)
        snprintf(out, 32, "%llu h %llu min", s / 3600, s / 60 % 60);
    else
        snprintf(out, 32, "%llu d %llu h", s / 86400, s / 3600 % 24);
}

/* ---- one event ---- */

enum {
    F_TS,
    F_TYPE,
    F_ORIG,
    F_UID,
    F_STATUS,
    F_OIPB,
    F_RIPB,
    F_DUR,
    F_INTERIM,
    F_SERVICE,
    F_APP,
    F_PROTO,
    F_RD,
    F_REQ30,
    F_REQ24,
    F_HOSTS30,
    F_HOSTS24,
    F_USERS30,
    F_FREQ,
    F_PREV,
    F_NEW,
    F_HOSTS,
    F_USERS,
    F_RULE_ID,
    F_RULE_TITLE,
    F_LEVEL,
    F_CLIENT,
    F_REALM,
    F_REQTYPE,
    F_SUCCESS,
    F_BIND,
    F_OPERATION,
    F_RESULT,
    F_RESP,
    F_N
};

/* The fields picked, by name (and length, compared first). */
#define TALLY_F(name)                                                                              \
    {                                                                                              \
        name, sizeof(name) - 1                                                                     \
    }
static const struct {
    const char *name;
    size_t len;
} tally_fields[F_N] = {
    TALLY_F("ts"),
    TALLY_F("event_type"),
    TALLY_F("id.orig_h"),
    TALLY_F("uid"),
    TALLY_F("status"),
    TALLY_F("orig_ip_bytes"),
    TALLY_F("resp_ip_bytes"),
    TALLY_F("duration"),
    TALLY_F("interim"),
    TALLY_F("service"),
    TALLY_F("app_proto"),
    TALLY_F("proto"),
    TALLY_F("registered_domain"),
    TALLY_F("requests_30d"),
    TALLY_F("requests_24h"),
    TALLY_F("hosts_30d"),
    TALLY_F("hosts_24h"),
    TALLY_F("users_30d"),
    TALLY_F("frequency_index"),
    TALLY_F("prevalence"),
    TALLY_F("is_new"),
    TALLY_F("hosts"),
    TALLY_F("users"),
    TALLY_F("rule.id"),
    TALLY_F("rule.title"),
    TALLY_F("rule.level"),
    TALLY_F("client"),
    TALLY_F("client_realm"),
    TALLY_F("request_type"),
    TALLY_F("success"),
    TALLY_F("bind_name"),
    TALLY_F("operation"),
    TALLY_F("result_code"),
    TALLY_F("id.resp_h"),
};
#undef TALLY_F

struct tally_ev {
    struct tl_jval v[F_N];
    bool has[F_N];
};

static bool tally_pick(void *arg, const struct tl_jval *key, const struct tl_jval *val)
{
    struct tally_ev *e = arg;
    size_t n = key->text.len - 2; /* without the quotes */
    const char *k = key->text.ptr + 1;
    for (int f = 0; f < F_N; f++)
        if (tally_fields[f].len == n && tally_fields[f].name[0] == k[0] &&
            memcmp(k, tally_fields[f].name, n) == 0) {
            e->v[f] = *val;
            e->has[f] = true;
            break;
        }
    return true;
}

/* Field f as text into buf (empty when absent or not a string). */
static const char *tally_str(const struct tally_ev *e, int f, char *buf, size_t cap)
{
    if (!e->has[f] || !tl_jread_str(&e->v[f], buf, cap))
        buf[0] = '\0';
    return buf;
}

static uint64_t tally_u64(const struct tally_ev *e, int f)
{
    uint64_t v = 0;
    if (e->has[f] && !tl_jread_u64(&e->v[f], &v))
        v = 0;
    return v;
}

static bool tally_true(const struct tally_ev *e, int f)
{
    return e->has[f] && e->v[f].kind == TL_J_TRUE;
}

/* src into dst, cut to cap - 1 bytes (the writers cope with a cut character). */
static void tally_copy(char *dst, size_t cap, const char *src)
{
    size_t n = strnlen(src, cap - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static void tally_type(struct tl_summary *s, const struct tally_ev *e, const char *type)
{
    size_t i = 0;
    while (i < s->ntypes && strcmp(s->types[i].name, type) != 0)
        i++;
    if (i == s->ntypes) {
        if (s->ntypes == TALLY_TYPES || strlen(type) >= sizeof(s->types[0].name)) {
            i = TALLY_TYPES;
            snprintf(s->types[i].name, sizeof(s->types[i].name), "(other)");
        } else {
            tally_copy(s->types[i].name, sizeof(s->types[i].name), type);
            s->ntypes++;
        }
    }
    s->types[i].events++;
    if (e->has[F_STATUS] && tl_jread_streq(&e->v[F_STATUS], "truncated"))
        s->types[i].truncated++;
    if (e->has[F_STATUS] && tl_jread_streq(&e->v[F_STATUS], "malformed"))
        s->types[i].malformed++;
}

/* The traffic series of a flow: its dissector's service, else nDPI's master protocol, else
 * the transport; lower case. */
static double *tally_protocol(struct tl_summary *s, const struct tally_ev *e)
{
    char name[TALLY_NAME];
    if (!*tally_str(e, F_SERVICE, name, sizeof(name)) &&
        !*tally_str(e, F_APP, name, sizeof(name)) && !*tally_str(e, F_PROTO, name, sizeof(name)))
        snprintf(name, sizeof(name), "other");
    name[strcspn(name, ".")] = '\0';
    for (char *p = name; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p - 'A' + 'a');
    name[sizeof(s->series[0]) - 1] = '\0'; /* the name the series is kept under */
    for (size_t i = 0; i < s->nseries; i++)
        if (strcmp(s->series[i], name) == 0)
            return s->traffic[i];
    if (s->nseries == TALLY_SERIES)
        return s->traffic[TALLY_SERIES];
    tally_copy(s->series[s->nseries], sizeof(s->series[0]), name);
    return s->traffic[s->nseries++];
}

static void tally_talker(struct tl_summary *s, const char *addr, uint64_t bytes, bool flow)
{
    struct tally_row *r = *addr ? tally_row(&s->talkers, addr) : NULL;
    if (!r)
        return;
    r->c[T_BYTES] += bytes;
    r->c[T_FLOWS] += flow;
}

static void tally_flow(struct tl_summary *s, const struct tally_ev *e, uint64_t ts)
{
    char a[TALLY_NAME];
    uint64_t bytes = tally_u64(e, F_OIPB) + tally_u64(e, F_RIPB);
    double dur = 0;
    bool last = !tally_true(e, F_INTERIM); /* interim records carry counts, not new flows */

    tally_talker(s, tally_str(e, F_ORIG, a, sizeof(a)), bytes, last);
    tally_talker(s, tally_str(e, F_RESP, a, sizeof(a)), bytes, last);
    if (!e->has[F_DUR] || !tl_jread_f64(&e->v[F_DUR], &dur) || !(dur >= 0) || dur > 3.2e7)
        dur = 0; /* a year at most: a hostile duration cannot widen the grid forever */
    tally_spread(s, tally_protocol(s, e), ts, ts + (uint64_t)(dur * 1e6), (double)bytes);
}

static bool tally_add_name(void *arg, const struct tl_jval *v)
{
    char name[TALLY_NAME];
    if (tl_jread_str(v, name, sizeof(name)))
        tally_list_add(arg, name);
    return true;
}

/* The last report of a registered domain wins (its counts cover the ones before). */
static void tally_domain(struct tl_summary *s, const struct tally_ev *e, uint64_t ts)
{
    char name[TALLY_NAME];
    struct tally_row *r =
        *tally_str(e, F_RD, name, sizeof(name)) ? tally_row(&s->domains, name) : NULL;
    double d;
    if (!r || ts < r->last_us)
        return;
    r->last_us = ts;
    r->c[T_REQ30] = tally_u64(e, F_REQ30);
    r->c[T_REQ24] = tally_u64(e, F_REQ24);
    r->c[T_HOSTS30] = tally_u64(e, F_HOSTS30);
    r->c[T_HOSTS24] = tally_u64(e, F_HOSTS24);
    r->c[T_USERS30] = tally_u64(e, F_USERS30);
    r->freq = e->has[F_FREQ] && tl_jread_f64(&e->v[F_FREQ], &d) ? d : NAN;
    r->prevalence = e->has[F_PREV] && tl_jread_f64(&e->v[F_PREV], &d) ? d : 0;
    r->is_new = tally_true(e, F_NEW);
    tally_list_free(&r->a);
    tally_list_free(&r->b);
    memset(&r->a, 0, sizeof(r->a));
    memset(&r->b, 0, sizeof(r->b));
    if (e->has[F_HOSTS])
        tl_jread_elements(&e->v[F_HOSTS], tally_add_name, &r->a);
    if (e->has[F_USERS])
        tl_jread_elements(&e->v[F_USERS], tally_add_name, &r->b);
}

static void tally_alert(struct tl_summary *s, const struct tally_ev *e, uint64_t ts)
{
    char title[TALLY_NAME], level[16], addr[TALLY_NAME];
    size_t lv;

    if (!*tally_str(e, F_RULE_TITLE, title, sizeof(title)) &&
        !*tally_str(e, F_RULE_ID, title, sizeof(title)))
        snprintf(title, sizeof(title), "(untitled rule)");
    lv = tally_level(tally_str(e, F_LEVEL, level, sizeof(level)));
    s->alerts_by_level[lv]++;
    tally_spread(s, s->alerts[lv], ts, ts, 1);
    struct tally_row *r = tally_row(&s->rules, title);
    if (!r)
        return;
    if (!r->c[T_ALERTS] || ts < r->first_us)
        r->first_us = ts;
    if (ts > r->last_us)
        r->last_us = ts;
    r->c[T_ALERTS]++;
    snprintf(r->level, sizeof(r->level), "%s", tally_level_names[lv]);
    tally_list_add(&r->a, tally_str(e, F_ORIG, addr, sizeof(addr)));
}

static struct tally_row *tally_principal(struct tl_summary *s, const char *name,
                                         const struct tally_ev *e)
{
    char addr[TALLY_NAME];
    struct tally_row *r = tally_row(&s->principals, name);
    if (r)
        tally_list_add(&r->a, tally_str(e, F_ORIG, addr, sizeof(addr)));
    return r;
}

static void tally_kerberos(struct tl_summary *s, const struct tally_ev *e)
{
    char client[TALLY_NAME], realm[TALLY_NAME], name[2 * TALLY_NAME], svc[TALLY_NAME];
    if (!*tally_str(e, F_CLIENT, client, sizeof(client)))
        return;
    if (*tally_str(e, F_REALM, realm, sizeof(realm)))
        snprintf(name, sizeof(name), "%s@%s", client, realm);
    else
        snprintf(name, sizeof(name), "%s", client);
    name[TALLY_NAME - 1] = '\0';
    struct tally_row *r = tally_principal(s, name, e);
    if (!r)
        return;
    bool ok = tally_true(e, F_SUCCESS),
         tgs = e->has[F_REQTYPE] && tl_jread_streq(&e->v[F_REQTYPE], "TGS");
    r->c[tgs ? (ok ? T_TGS_OK : T_TGS_FAIL) : (ok ? T_AS_OK : T_AS_FAIL)]++;
    if (tgs)
        tally_list_add(&r->b, tally_str(e, F_SERVICE, svc, sizeof(svc)));
}

/* A bind names the principal of its flow; later operations on the flow count for it. */
static void tally_ldap(struct tl_summary *s, const struct tally_ev *e)
{
    char name[TALLY_NAME], uid[64];
    struct tally_row *flow;

    tally_str(e, F_UID, uid, sizeof(uid));
    if (e->has[F_OPERATION] && tl_jread_streq(&e->v[F_OPERATION], "bind")) {
        if (!*tally_str(e, F_BIND, name, sizeof(name)))
            snprintf(name, sizeof(name), "(anonymous)");
        struct tally_row *r = tally_principal(s, name, e);
        if (r && e->has[F_RESULT])
            r->c[tally_u64(e, F_RESULT) == 0 ? T_BIND_OK : T_BIND_FAIL]++;
        if (*uid && (flow = tally_row(&s->ldap_flows, uid))) {
            tally_list_free(&flow->a);
            memset(&flow->a, 0, sizeof(flow->a));
            tally_list_add(&flow->a, name);
        }
        return;
    }
    flow = *uid ? tally_find(&s->ldap_flows, uid) : NULL;
    struct tally_row *r =
        tally_principal(s, flow && flow->a.n ? flow->a.v[0] : "(no bind seen)", e);
    if (r)
        r->c[T_LDAP_OPS]++;
}

/* Counters of the stats event worth a person's attention when not zero. */
static bool tally_problem(const char *name)
{
    static const char *const ends[] = { ".malformed",
                                        ".truncated",
                                        ".gaps",
                                        "_capped",
                                        "_drops",
                                        ".write_errors",
                                        ".errors",
                                        ".failed",
                                        ".invalid",
                                        ".expired",
                                        ".given_up",
                                        ".late",
                                        ".overlap_conflicts",
                                        ".out_of_window",
                                        ".reload_failures",
                                        ".truncated_packets" };
    size_t n = strlen(name);
    if (strncmp(name, "decode.", 7) == 0)
        return strcmp(name, "decode.ok") != 0;
    if (strncmp(name, "ndpi.", 5) == 0)
        return false; /* nDPI giving up on a flow is routine */
    for (size_t i = 0; i < TL_ARRAY_LEN(ends); i++) {
        size_t k = strlen(ends[i]);
        if (n > k && strcmp(name + n - k, ends[i]) == 0)
            return true;
    }
    return false;
}

static bool tally_stat(void *arg, const struct tl_jval *key, const struct tl_jval *val)
{
    struct tl_summary *s = arg;
    char name[64];
    uint64_t v;
    if (!tl_jread_u64(val, &v) || tl_jread_str(key, name, sizeof(name)) >= sizeof(name) - 1)
        return true;
    if (strcmp(name, "capture.packets") == 0)
        s->packets = v;
    else if (strcmp(name, "capture.bytes") == 0)
        s->bytes = v;
    else if (strcmp(name, "flows.created") == 0)
        s->flows = v;
    else if (strcmp(name, "events.written") == 0)
        s->events = v;
    else if (strcmp(name, "schema_version") == 0)
        s->schema_version = v;
    else if (v && tally_problem(name)) {
        if (s->nproblems == TALLY_PROBLEMS) {
            s->problems_more++;
            return true;
        }
        snprintf(s->problems[s->nproblems].name, sizeof(s->problems[0].name), "%s", name);
        s->problems[s->nproblems++].value = v;
    }
    return true;
}

/* The last stats event is the run's (a live run writes one per interval). */
static void tally_stats(struct tl_summary *s, const struct tl_jval *obj)
{
    s->have_stats = true;
    s->nproblems = 0;
    s->problems_more = 0;
    s->packets = s->bytes = s->flows = s->events = s->schema_version = 0;
    tl_jread_members(obj, tally_stat, s);
}

void tl_summary_line(struct tl_summary *s, const char *p, size_t n)
{
    struct tl_jval obj;
    struct tally_ev e;
    char type[32];
    uint64_t ts;

    if (n && p[n - 1] == '\n')
        n--;
    s->lines++;
    memset(e.has, 0, sizeof(e.has));
    if (!tl_jread_each(p, n, &obj, tally_pick, &e) || !e.has[F_TS] ||
        !tl_jread_ts(&e.v[F_TS], &ts) || !*tally_str(&e, F_TYPE, type, sizeof(type))) {
        s->unread++;
        return;
    }
    tally_type(s, &e, type);
    if (s->lines - s->unread == 1 || ts < s->first_us)
        s->first_us = ts;
    if (ts > s->last_us)
        s->last_us = ts;
    if (strcmp(type, "flow") == 0)
        tally_flow(s, &e, ts);
    else if (strcmp(type, "domain") == 0)
        tally_domain(s, &e, ts);
    else if (strcmp(type, "alert") == 0)
        tally_alert(s, &e, ts);
    else if (strcmp(type, "kerberos") == 0)
        tally_kerberos(s, &e);
    else if (strcmp(type, "ldap") == 0)
        tally_ldap(s, &e);
    else if (strcmp(type, "stats") == 0)
        tally_stats(s, &obj);
}

struct tl_summary *tl_summary_new(uint64_t max_entries)
{
    struct tl_summary *s = calloc(1, sizeof(*s));
    size_t cap = max_entries > (1u << 24) ? (1u << 24) : max_entries ? (size_t)max_entries : 1;

    while (!tally_seed && getrandom(&tally_seed, sizeof(tally_seed), 0) < 0)
        tally_seed = 1; /* no entropy: a fixed seed, the caps still bound the work */
    if (!s || !tally_map_init(&s->talkers, cap) || !tally_map_init(&s->domains, cap) ||
        !tally_map_init(&s->rules, cap) || !tally_map_init(&s->principals, cap) ||
        !tally_map_init(&s->ldap_flows, cap)) {
        tl_summary_free(s);
        return NULL;
    }
    snprintf(s->series[TALLY_SERIES], sizeof(s->series[0]), "other");
    return s;
}

void tl_summary_free(struct tl_summary *s)
{
    if (!s)
        return;
    tally_map_free(&s->talkers);
    tally_map_free(&s->domains);
    tally_map_free(&s->rules);
    tally_map_free(&s->principals);
    tally_map_free(&s->ldap_flows);
    free(s);
}
