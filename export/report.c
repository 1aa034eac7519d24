/*
 * report.c - a summary as one self-contained HTML page (see summary.h): the
 * charts an analyst would rather look at than read, drawn here as inline SVG
 * (traffic over time by protocol, top talkers and domains as bars, alerts on
 * a timeline by level, Kerberos and LDAP activity per principal), then the
 * tables of the text summary.
 *
 * Self-contained: no script and no external resource of any kind; a
 * Content-Security-Policy of default-src 'none' tells the browser so too.
 * Everything that comes from packets or rule files is escaped (& < > " ')
 * in text and attributes alike, and characters tally_char() calls unsafe are
 * written as U+FFFD, so a hostile name can neither open markup nor garble the
 * page.
 */
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "schema.h"
#include "tally.h"

enum {
    RP_TOP = 10,
    RP_W = 960,         /* SVG width (user units; scaled to the page) */
    RP_LEFT = 80,       /* left margin of the time charts (axis labels) */
    RP_LABEL = 300,     /* label column of the activity chart */
    RP_BAR_LABEL = 196, /* label column of the half-width bar charts */
    RP_ROW = 26,        /* bar height with its gap */
    RP_SERIES = 7,      /* protocols drawn by name; the rest are "other" */
    RP_PRINCIPALS = 12  /* principals in the activity chart */
};

static const char *const rp_palette[] = { "#4e79a7", "#f28e2b", "#59a14f", "#b07aa1",
                                          "#76b7b2", "#edc948", "#ff9da7", "#9c755f" };
static const char *const rp_level_colors[TALLY_LEVELS] = { "#7b1fa2", "#d32f2f", "#f57c00",
                                                           "#fbc02d", "#1976d2", "#757575" };
static const char rp_talker_color[] = "#4e79a7", rp_domain_color[] = "#59a14f";

/* ---- escaping ---- */

/* s, escaped for HTML text and attribute values, at most max characters (cut ones end with
 * an ellipsis); 0 is no limit. */
static void rp_text(FILE *out, const char *s, size_t max)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), chars = 0;

    for (size_t i = 0; i < n; chars++) {
        bool unsafe;
        size_t k = tally_char(p + i, n - i, &unsafe);
        if (max && chars == max - 1 && i + k < n) {
            fputs("&#8230;", out);
            return;
        }
        if (unsafe)
            fputs("&#65533;", out);
        else if (p[i] == '&')
            fputs("&amp;", out);
        else if (p[i] == '<')
            fputs("&lt;", out);
        else if (p[i] == '>')
            fputs("&gt;", out);
        else if (p[i] == '"')
            fputs("&quot;", out);
        else if (p[i] == '\'')
            fputs("&#39;", out);
        else
            fwrite(p + i, 1, k, out);
        i += k;
    }
}

static void rp_list(FILE *out, const struct tally_list *l)
{
    for (unsigned i = 0; i < l->n; i++) {
        fputs(i ? ", " : "", out);
        rp_text(out, l->v[i], 64);
    }
    if (l->more)
        fputs(l->n ? ", &#8230;" : "&#8230;", out);
}

/* ---- scales ---- */

/* The smallest 1, 2 or 5 times a power of ten at or above v (v > 0). */
static double rp_nice(double v)
{
    double p = pow(10, floor(log10(v)));
    return v <= p ? p : v <= 2 * p ? 2 * p : v <= 5 * p ? 5 * p : 10 * p;
}

/* v (>= 0) as an integer, UINT64_MAX past it: hostile counts can add up beyond 2^64. */
static uint64_t rp_u64(double v)
{
    return v < 18446744073709549568.0 ? (uint64_t)v : UINT64_MAX;
}

/* The buckets that hold anything, first and last; false when all are empty. */
static bool rp_range(const struct tl_summary *s, size_t *b0, size_t *b1)
{
    bool any = false;
    for (size_t i = 0; i < TALLY_BUCKETS; i++) {
        double v = 0;
        for (size_t k = 0; k <= TALLY_SERIES; k++)
            v += s->traffic[k][i];
        for (size_t k = 0; k < TALLY_LEVELS; k++)
            v += s->alerts[k][i];
        if (v > 0) {
            *b0 = any ? *b0 : i;
            *b1 = i;
            any = true;
        }
    }
    return any;
}

/* Time labels under a chart of buckets b0..b1 drawn over [RP_LEFT, RP_W - 10]. */
static void rp_time_axis(FILE *out, const struct tl_summary *s, size_t b0, size_t b1, int y)
{
    size_t nb = b1 - b0 + 1;
    double bw = (double)(RP_W - 10 - RP_LEFT) / (double)nb;
    bool days = tally_bucket_us(s, b1 + 1) - tally_bucket_us(s, b0) > 86400000000ull;
    for (int t = 0; t <= 4; t++) {
        size_t i = b0 + (nb * (size_t)t) / 4;
        char when[32];
        tally_time(when, tally_bucket_us(s, i));
        double x = RP_LEFT + bw * (double)(i - b0);
        fprintf(out, "<text x=\"%.1f\" y=\"%d\" class=\"ax\" text-anchor=\"%s\">%s</text>", x, y,
                t == 0   ? "start"
                : t == 4 ? "end"
                         : "middle",
                days ? when + 5 : when + 11);
    }
}

/* ---- charts ---- */

/* Traffic over time: stacked bars of bytes per bucket, one colour per protocol. */
static void rp_traffic(FILE *out, const struct tl_summary *s)
{
    size_t b0, b1, order[TALLY_SERIES + 1], nser = s->nseries + 1, shown;
    double total[TALLY_SERIES + 1] = { 0 }, stack[TALLY_BUCKETS] = { 0 }, ymax = 0;

    fputs("<h2>Traffic over time, by protocol</h2>", out);
    if (!rp_range(s, &b0, &b1)) {
        fputs("<p class=\"none\">No flows.</p>", out);
        return;
    }
    for (size_t k = 0; k < nser; k++) { /* index TALLY_SERIES is "other" */
        size_t idx = k < s->nseries ? k : TALLY_SERIES;
        order[k] = idx;
        for (size_t i = 0; i < TALLY_BUCKETS; i++)
            total[idx] += s->traffic[idx][i];
    }
    for (size_t a = 0; a + 1 < s->nseries; a++) /* by total, "other" stays last */
        for (size_t b = a + 1; b < s->nseries; b++)
            if (total[order[b]] > total[order[a]]) {
                size_t t = order[a];
                order[a] = order[b];
                order[b] = t;
            }
    shown = s->nseries < RP_SERIES ? s->nseries : RP_SERIES;
    for (size_t i = b0; i <= b1; i++) {
        for (size_t k = 0; k < nser; k++)
            stack[i] += s->traffic[order[k]][i];
        ymax = stack[i] > ymax ? stack[i] : ymax;
    }
    ymax = rp_nice(ymax > 0 ? ymax : 1);
    size_t nb = b1 - b0 + 1;
    double bw = (double)(RP_W - 10 - RP_LEFT) / (double)nb, ph = 220;
    char lab[16], span[32];
    tally_span(span, s->grid.width_us);
    fprintf(out, "<svg class=\"chart\" id=\"traffic\" viewBox=\"0 0 %d 260\" role=\"img\">", RP_W);
    for (int g = 0; g <= 4; g++) {
        double y = 10 + ph - ph * g / 4;
        fprintf(out,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"ax\" text-anchor=\"end\">%s</text>",
                RP_LEFT, RP_W - 10, y, y, RP_LEFT - 6, y + 4,
                tally_bytes(lab, rp_u64(ymax * g / 4)));
    }
    for (size_t i = b0; i <= b1; i++) {
        double base = 0;
        for (size_t k = 0; k < nser; k++) {
            double v = s->traffic[order[k]][i], h = ph * v / ymax;
            const char *color = k < shown ? rp_palette[k] : "#bab0ac";
            if (v > 0)
                fprintf(out,
                        "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" "
                        "fill=\"%s\"/>",
                        RP_LEFT + bw * (double)(i - b0), 10 + ph - base - h, bw > 2 ? bw - 1 : bw,
                        h, color);
            base += h;
        }
    }
    rp_time_axis(out, s, b0, b1, 250);
    fputs("</svg><p class=\"legend\">", out);
    for (size_t k = 0; k < nser && k <= shown; k++) {
        bool other = k == shown;
        if (other && k == nser)
            break;
        fprintf(out, "<span class=\"sw\" style=\"background:%s\"></span>",
                other ? "#bab0ac" : rp_palette[k]);
        if (other)
            fputs("other", out);
        else
            rp_text(out, s->series[order[k]], 24);
        fputs(" &nbsp; ", out);
    }
    fprintf(out, "bytes on the wire per %s, a flow's spread over its duration</p>", span);
}

/* Horizontal bars: one row per label, lengths relative to the largest value. */
static void rp_bars(FILE *out, const char *id, const char *color, const char *const *labels,
                    const uint64_t *values, const char *const *texts, size_t n)
{
    uint64_t max = 1;
    for (size_t i = 0; i < n; i++)
        max = values[i] > max ? values[i] : max;
    fprintf(out, "<svg class=\"chart\" id=\"%s\" viewBox=\"0 0 %d %zu\" role=\"img\">", id,
            RP_W / 2, n * RP_ROW + 4);
    for (size_t i = 0; i < n; i++) {
        double w = (double)(RP_W / 2 - RP_BAR_LABEL - 70) * (double)values[i] / (double)max;
        size_t y = i * RP_ROW + 2;
        fprintf(out, "<text x=\"%d\" y=\"%zu\" class=\"lb\" text-anchor=\"end\">", RP_BAR_LABEL - 6,
                y + 16);
        rp_text(out, labels[i], 24);
        fprintf(out,
                "</text><rect x=\"%d\" y=\"%zu\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>",
                RP_BAR_LABEL, y, w > 1 ? w : 1, RP_ROW - 6, color);
        rp_text(out, labels[i], 0);
        fprintf(out, ": %s</title></rect><text x=\"%.1f\" y=\"%zu\" class=\"ax\">%s</text>",
                texts[i], RP_BAR_LABEL + w + 6, y + 16, texts[i]);
    }
    fputs("</svg>", out);
}

/* The top rows of a map as a bar chart of counter k (bytes when `bytes`). */
static void rp_top_bars(FILE *out, const char *id, const char *color, const struct tally_map *m,
                        int (*cmp)(const void *, const void *), int k, bool bytes)
{
    const struct tally_row *top[RP_TOP];
    const char *labels[RP_TOP], *texts[RP_TOP];
    char text[RP_TOP][24];
    uint64_t values[RP_TOP];
    size_t n = tally_top(m, cmp, top, RP_TOP);
    for (size_t i = 0; i < n; i++) {
        labels[i] = top[i]->key;
        values[i] = top[i]->c[k];
        if (bytes)
            tally_bytes(text[i], values[i]);
        else
            snprintf(text[i], sizeof(text[i]), "%llu", (unsigned long long)values[i]);
        texts[i] = text[i];
    }
    if (n)
        rp_bars(out, id, color, labels, values, texts, n);
    else
        fputs("<p class=\"none\">None.</p>", out);
}

/* Alerts on the traffic chart's time axis: a lane per level, a dot per bucket with alerts. */
static void rp_alert_timeline(FILE *out, const struct tl_summary *s)
{
    size_t b0, b1, lanes = 0;
    fputs("<h2>Alerts on a timeline</h2>", out);
    for (size_t lv = 0; lv < TALLY_LEVELS; lv++)
        lanes += s->alerts_by_level[lv] > 0;
    if (!lanes || !rp_range(s, &b0, &b1)) {
        fputs("<p class=\"none\">No alerts.</p>", out);
        return;
    }
    size_t nb = b1 - b0 + 1, lane = 0;
    double bw = (double)(RP_W - 10 - RP_LEFT) / (double)nb;
    fprintf(out, "<svg class=\"chart\" id=\"alerts\" viewBox=\"0 0 %d %zu\" role=\"img\">", RP_W,
            lanes * 34 + 30);
    for (size_t lv = 0; lv < TALLY_LEVELS; lv++) {
        if (!s->alerts_by_level[lv])
            continue;
        double y = 20 + 34.0 * (double)lane++;
        fprintf(out,
                "<line x1=\"%d\" x2=\"%d\" y1=\"%.1f\" y2=\"%.1f\" class=\"grid\"/>"
                "<text x=\"%d\" y=\"%.1f\" class=\"lb\" text-anchor=\"end\">%s</text>",
                RP_LEFT, RP_W - 10, y, y, RP_LEFT - 6, y + 4, tally_level_names[lv]);
        for (size_t i = b0; i <= b1; i++) {
            double v = s->alerts[lv][i];
            char when[32];
            if (v <= 0)
                continue;
            tally_time(when, tally_bucket_us(s, i));
            fprintf(out,
                    "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"%.1f\" fill=\"%s\"><title>%.0f %s "
                    "alert(s) from %s UTC</title></circle>",
                    RP_LEFT + bw * ((double)(i - b0) + 0.5), y, fmin(4 + 2 * sqrt(v), 15),
                    rp_level_colors[lv], v, tally_level_names[lv], when);
        }
    }
    rp_time_axis(out, s, b0, b1, (int)(lanes * 34 + 24));
    fputs("</svg>", out);
}

static const char *const rp_activity_names[] = { "Kerberos AS ok", "AS failed",    "TGS ok",
                                                 "TGS failed",     "LDAP bind ok", "bind failed",
                                                 "LDAP operations" };
static const char *const rp_activity_colors[] = { "#4e79a7", "#a0cbe8", "#59a14f", "#8cd17d",
                                                  "#f28e2b", "#ffbe7d", "#b07aa1" };

/* Kerberos and LDAP per principal: a stacked bar each, a segment per kind of request. */
static void rp_principals(FILE *out, const struct tl_summary *s)
{
    const struct tally_row *top[RP_PRINCIPALS];
    size_t n = tally_top(&s->principals, tally_by_activity, top, RP_PRINCIPALS);
    uint64_t max = 1;

    fputs("<h2>Kerberos and LDAP activity per principal</h2>", out);
    if (!n) {
        fputs("<p class=\"none\">No Kerberos or LDAP principals.</p>", out);
        return;
    }
    for (size_t i = 0; i < n; i++)
        max = tally_activity(top[i]) > max ? tally_activity(top[i]) : max;
    fprintf(out, "<svg class=\"chart\" id=\"principals\" viewBox=\"0 0 %d %zu\" role=\"img\">",
            RP_W, n * RP_ROW + 4);
    for (size_t i = 0; i < n; i++) {
        size_t y = i * RP_ROW + 2;
        double x = RP_LABEL, scale = (double)(RP_W - RP_LABEL - 70) / (double)max;
        fprintf(out, "<text x=\"%d\" y=\"%zu\" class=\"lb\" text-anchor=\"end\">", RP_LABEL - 6,
                y + 16);
        rp_text(out, top[i]->key, 40);
        fputs("</text>", out);
        for (int k = T_AS_OK; k <= T_LDAP_OPS; k++) {
            double w = scale * (double)top[i]->c[k];
            if (!top[i]->c[k])
                continue;
            fprintf(out,
                    "<rect x=\"%.1f\" y=\"%zu\" width=\"%.1f\" height=\"%d\" fill=\"%s\"><title>",
                    x, y, w, RP_ROW - 6, rp_activity_colors[k]);
            rp_text(out, top[i]->key, 0);
            fprintf(out, ": %llu %s</title></rect>", (unsigned long long)top[i]->c[k],
                    rp_activity_names[k]);
            x += w;
        }
        fprintf(out, "<text x=\"%.1f\" y=\"%zu\" class=\"ax\">%llu</text>", x + 6, y + 16,
                (unsigned long long)tally_activity(top[i]));
    }
    fputs("</svg><p class=\"legend\">", out);
    for (int k = T_AS_OK; k <= T_LDAP_OPS; k++)
        fprintf(out, "<span class=\"sw\" style=\"background:%s\"></span>%s &nbsp; ",
                rp_activity_colors[k], rp_activity_names[k]);
    fputs("(LDAP operations count for the principal bound on their connection)</p>", out);
}

/* ---- tables ---- */

static void rp_row_start(FILE *out, const char *key)
{
    fputs("<tr><td>", out);
    rp_text(out, key, 80);
    fputs("</td>", out);
}

static void rp_types(FILE *out, const struct tl_summary *s)
{
    fputs("<div><h2>Events</h2><table><tr><th>type</th><th>count</th><th>truncated</th>"
          "<th>malformed</th></tr>",
          out);
    for (size_t i = 0; i <= TALLY_TYPES; i++) {
        const struct tally_type *t = &s->types[i];
        if ((i >= s->ntypes && i < TALLY_TYPES) || !t->events)
            continue;
        rp_row_start(out, t->name);
        fprintf(out,
                "<td class=\"n\">%llu</td><td class=\"n\">%llu</td><td class=\"n\">%llu</td></tr>",
                (unsigned long long)t->events, (unsigned long long)t->truncated,
                (unsigned long long)t->malformed);
    }
    fputs("</table></div>", out);
}

static void rp_domains(FILE *out, const struct tl_summary *s)
{
    const struct tally_row *top[RP_TOP];
    size_t n = tally_top(&s->domains, tally_by_rarity, top, RP_TOP);
    fputs("<h2>Rarest domains</h2>", out);
    if (!n) {
        fputs("<p class=\"none\">No domain statistics.</p>", out);
        return;
    }
    fputs("<table><tr><th>registered domain</th><th>frequency index</th><th>hosts (30 d)</th>"
          "<th>requests (30 d)</th><th>new</th><th>hosts</th><th>users</th></tr>",
          out);
    for (size_t i = 0; i < n; i++) {
        rp_row_start(out, top[i]->key);
        if (isnan(top[i]->freq))
            fputs("<td class=\"n\">-</td>", out);
        else
            fprintf(out, "<td class=\"n\">%.1f</td>", top[i]->freq);
        fprintf(out, "<td class=\"n\">%llu</td><td class=\"n\">%llu</td><td>%s</td><td>",
                (unsigned long long)top[i]->c[T_HOSTS30], (unsigned long long)top[i]->c[T_REQ30],
                top[i]->is_new ? "new" : "");
        rp_list(out, &top[i]->a);
        fputs("</td><td>", out);
        rp_list(out, &top[i]->b);
        fputs("</td></tr>", out);
    }
    fputs("</table>", out);
}

static void rp_rules(FILE *out, const struct tl_summary *s)
{
    const struct tally_row *top[RP_TOP * 3];
    size_t n = tally_top(&s->rules, tally_by_alerts, top, RP_TOP * 3);
    if (!n)
        return;
    fputs("<table><tr><th>rule</th><th>level</th><th>alerts</th><th>first</th><th>last</th>"
          "<th>from</th></tr>",
          out);
    for (size_t i = 0; i < n; i++) {
        char first[32], last[32];
        tally_time(first, top[i]->first_us);
        tally_time(last, top[i]->last_us);
        rp_row_start(out, top[i]->key);
        fprintf(out,
                "<td><span class=\"sw\" style=\"background:%s\"></span>%s</td><td class=\"n\">"
                "%llu</td><td>%s</td><td>%s</td><td>",
                rp_level_colors[strcmp(top[i]->level, "critical") == 0        ? 0
                                : strcmp(top[i]->level, "high") == 0          ? 1
                                : strcmp(top[i]->level, "medium") == 0        ? 2
                                : strcmp(top[i]->level, "low") == 0           ? 3
                                : strcmp(top[i]->level, "informational") == 0 ? 4
                                                                              : 5],
                top[i]->level, (unsigned long long)top[i]->c[T_ALERTS], first, last);
        rp_list(out, &top[i]->a);
        fputs("</td></tr>", out);
    }
    fputs("</table>", out);
}

static void rp_capped(FILE *out, const char *what, const struct tally_map *m)
{
    if (m->capped)
        fprintf(out,
                "<tr><td>summary.max_entries (%zu) reached: %s not counted</td>"
                "<td class=\"n\">%llu</td></tr>",
                m->cap, what, (unsigned long long)m->capped);
}

static void rp_problems(FILE *out, const struct tl_summary *s)
{
    fputs("<div><h2>Problems: decode, dissectors, caps</h2><table><tr><th>counter</th>"
          "<th>count</th></tr>",
          out);
    for (size_t i = 0; i < s->nproblems; i++) {
        rp_row_start(out, s->problems[i].name);
        fprintf(out, "<td class=\"n\">%llu</td></tr>", (unsigned long long)s->problems[i].value);
    }
    if (s->problems_more)
        fprintf(out, "<tr><td>more counters</td><td class=\"n\">%llu</td></tr>",
                (unsigned long long)s->problems_more);
    rp_capped(out, "addresses", &s->talkers);
    rp_capped(out, "domains", &s->domains);
    rp_capped(out, "rules", &s->rules);
    rp_capped(out, "principals", &s->principals);
    rp_capped(out, "LDAP flows", &s->ldap_flows);
    if (s->unread)
        fprintf(out,
                "<tr><td>lines that were not one JSON event</td><td class=\"n\">%llu</td></tr>",
                (unsigned long long)s->unread);
    fputs("</table>", out);
    if (!s->have_stats)
        fputs("<p class=\"none\">No stats event was written.</p>", out);
    else if (!s->nproblems)
        fputs("<p class=\"none\">None.</p>", out);
    fputs("</div>", out);
}

static const char rp_style[] =
    "body{font:14px/1.4 system-ui,sans-serif;margin:24px auto;max-width:1140px;color:#222;"
    "background:#fff}h1{font-size:22px;margin:0 0 4px}h2{font-size:16px;margin:22px 0 6px}"
    ".sub{color:#555;margin:0}svg.chart{width:100%;height:auto;display:block}"
    ".two{display:grid;grid-template-columns:1fr 1fr;gap:24px}"
    "text{font:12px system-ui,sans-serif;fill:#222}text.ax{fill:#555;font-size:11px}"
    "line.grid{stroke:#ddd;stroke-width:1}.legend{color:#555;font-size:12px;margin:4px 0}"
    ".sw{display:inline-block;width:10px;height:10px;margin-right:4px;vertical-align:baseline}"
    "table{border-collapse:collapse;font-size:13px;margin:4px 0}td,th{padding:2px 10px 2px 0;"
    "text-align:left;vertical-align:top}th{border-bottom:1px solid #bbb;font-weight:600}"
    "td.n{text-align:right;font-variant-numeric:tabular-nums}.none{color:#777}"
    "footer{color:#888;font-size:12px;margin-top:24px}";

static void rp_head(FILE *out, const struct tl_summary *s, const char *title)
{
    char a[32], b[32], span[32], bytes[16];
    fputs("<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
          "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
          "style-src 'unsafe-inline'\"><meta name=\"viewport\" "
          "content=\"width=device-width\"><title>tapline report: ",
          out);
    rp_text(out, title, 120);
    fprintf(out, "</title><style>%s</style></head><body><h1>tapline report</h1><p class=\"sub\">",
            rp_style);
    rp_text(out, title, 0);
    if (s->lines > s->unread) {
        tally_time(a, s->first_us);
        tally_time(b, s->last_us);
        tally_span(span, s->last_us - s->first_us);
        fprintf(out, "<br>%s to %s UTC (%s)", a, memcmp(a, b, 10) ? b : b + 11, span);
    }
    if (s->have_stats)
        fprintf(out, "<br>%llu packets, %s on the wire, %llu flows, %llu events",
                (unsigned long long)s->packets, tally_bytes(bytes, s->bytes),
                (unsigned long long)s->flows, (unsigned long long)s->events);
    fputs("</p>", out);
}

int tl_summary_html(const struct tl_summary *s, FILE *out, const char *title)
{
    rp_head(out, s, title);
    rp_traffic(out, s);
    rp_alert_timeline(out, s);
    rp_rules(out, s);
    fputs("<div class=\"two\"><div><h2>Top talkers by bytes</h2>", out);
    rp_top_bars(out, "talkers-bytes", rp_talker_color, &s->talkers, tally_by_bytes, T_BYTES, true);
    fputs("</div><div><h2>Top talkers by flows</h2>", out);
    rp_top_bars(out, "talkers-flows", rp_talker_color, &s->talkers, tally_by_flows, T_FLOWS, false);
    fputs("</div></div><div class=\"two\"><div><h2>Most used domains (hosts, 30 days)</h2>", out);
    rp_top_bars(out, "domains", rp_domain_color, &s->domains, tally_by_hosts, T_HOSTS30, false);
    fputs("</div><div>", out);
    rp_domains(out, s);
    fputs("</div></div>", out);
    rp_principals(out, s);
    fputs("<div class=\"two\">", out);
    rp_types(out, s);
    rp_problems(out, s);
    fprintf(out,
            "</div><footer>Made by tapline %s from the events it wrote (schema version %d); "
            "times are packet times in UTC.</footer></body></html>\n",
            TL_VERSION, TL_SCHEMA_VERSION);
    return ferror(out) ? -1 : 0;
}
