/*
 * summary.c - a summary as plain columns for an 80-column terminal (see
 * summary.h; the counting is tally.c's).
 *
 * Names come from packets: before one reaches a terminal, every character
 * tally_char() calls unsafe (C0, DEL, C1, bidirectional controls, bytes that
 * are not valid UTF-8) becomes '?', so no escape sequence can get through; a
 * name wider than its column is cut on a character boundary and ends "..".
 */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <string.h>

#include "tally.h"

enum { SUM_TOP = 10, SUM_WIDTH = 80, SUM_CELL = 4 * SUM_WIDTH + 1 };

/* s made safe for a terminal into out, at most width columns (cut ones end ".."). */
static void sum_safe(char out[SUM_CELL], const char *s, int width)
{
    const unsigned char *p = (const unsigned char *)s;
    size_t n = strlen(s), used = 0, cols = 0, cut_at = 0;
    bool cut = false;

    for (size_t i = 0; i < n;) {
        bool bad;
        size_t k = tally_char(p + i, n - i, &bad);
        if ((int)cols == width - 2)
            cut_at = used;
        if ((int)cols == width) {
            cut = true;
            break;
        }
        if (bad) {
            out[used++] = '?';
            i += k;
        } else {
            memcpy(out + used, p + i, k);
            used += k;
            i += k;
        }
        cols++;
    }
    if (cut && width >= 2) {
        used = cut_at;
        out[used++] = '.';
        out[used++] = '.';
    }
    out[used] = '\0';
}

/* A cell of `width` columns: left aligned, padded, a space after. */
static void sum_cell(FILE *out, const char *s, int width)
{
    char buf[SUM_CELL];
    size_t cols = 0;
    sum_safe(buf, s, width);
    for (const unsigned char *p = (const unsigned char *)buf; *p; p++)
        cols += (*p & 0xc0) != 0x80;
    fputs(buf, out);
    for (; (int)cols <= width; cols++)
        fputc(' ', out);
}

/* Columns of s on a terminal (one per character). */
static size_t sum_cols(const char *s)
{
    size_t cols = 0;
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        cols += (*p & 0xc0) != 0x80;
    return cols;
}

/* The names of a list (then `label` and the names of l2, when both have any), whole names
 * while they fit in `width` columns, then "+" when some were left out or more were seen. */
static void sum_list(FILE *out, const struct tally_list *l, const char *label,
                     const struct tally_list *l2, int width)
{
    const char *names[2 * TALLY_LIST + 1];
    size_t n = 0, cols = 0;
    bool more = l->more || (l2 && l2->more);
    char buf[SUM_CELL];

    for (unsigned i = 0; i < l->n; i++)
        names[n++] = l->v[i];
    if (l2 && l2->n && n)
        names[n++] = label;
    for (unsigned i = 0; l2 && i < l2->n; i++)
        names[n++] = l2->v[i];
    for (size_t i = 0; i < n; i++) {
        size_t w = sum_cols(names[i]) + (i > 0);
        if (i > 0 && cols + w + 2 > (size_t)width) {
            more = true;
            break;
        }
        sum_safe(buf, names[i], width - (int)cols - (i > 0));
        fprintf(out, "%s%s", i ? " " : "", buf);
        cols += w;
    }
    fputs(more ? (n ? " +\n" : "+\n") : "\n", out);
}

static void sum_head(FILE *out, const char *title)
{
    fprintf(out, "\n%s\n", title);
}

static void sum_header(const struct tl_summary *s, FILE *out)
{
    char a[32], b[32], span[32], bytes[16];
    if (s->lines == s->unread) {
        fprintf(out, "tapline summary: no events\n");
        return;
    }
    tally_time(a, s->first_us);
    tally_time(b, s->last_us);
    tally_span(span, s->last_us - s->first_us);
    fprintf(out, "tapline summary: %s to %s UTC (%s)\n", a, memcmp(a, b, 10) ? b : b + 11, span);
    if (s->have_stats)
        fprintf(out,
                "%" PRIu64 " packets, %s on the wire, %" PRIu64 " flows, %" PRIu64
                " events (schema %" PRIu64 ")\n",
                s->packets, tally_bytes(bytes, s->bytes), s->flows, s->events, s->schema_version);
}

static void sum_types(const struct tl_summary *s, FILE *out)
{
    sum_head(out, "EVENTS                       count   truncated   malformed");
    for (size_t i = 0; i <= TALLY_TYPES; i++) {
        const struct tally_type *t = &s->types[i];
        if ((i >= s->ntypes && i < TALLY_TYPES) || !t->events)
            continue;
        fputs("  ", out);
        sum_cell(out, t->name, 20);
        fprintf(out, "%11" PRIu64, t->events);
        if (t->truncated || t->malformed)
            fprintf(out, " %11" PRIu64 " %11" PRIu64, t->truncated, t->malformed);
        fputc('\n', out);
    }
}

/* The top talkers by bytes or by flows, the other count beside. */
static void sum_talker_table(const struct tl_summary *s, FILE *out, bool by_bytes)
{
    const struct tally_row *top[SUM_TOP];
    char bytes[16], flows[24];
    size_t n = tally_top(&s->talkers, by_bytes ? tally_by_bytes : tally_by_flows, top, SUM_TOP);
    if (!n)
        return;
    sum_head(out, by_bytes ? "TOP TALKERS BY BYTES                          bytes      flows"
                           : "TOP TALKERS BY FLOWS                          flows      bytes");
    for (size_t i = 0; i < n; i++) {
        snprintf(flows, sizeof(flows), "%" PRIu64, top[i]->c[T_FLOWS]);
        tally_bytes(bytes, top[i]->c[T_BYTES]);
        fputs("  ", out);
        sum_cell(out, top[i]->key, 39);
        fprintf(out, "%10s %10s\n", by_bytes ? bytes : flows, by_bytes ? flows : bytes);
    }
}

static void sum_domains(const struct tl_summary *s, FILE *out)
{
    const struct tally_row *top[SUM_TOP];
    size_t n = tally_top(&s->domains, tally_by_hosts, top, SUM_TOP);
    if (!n)
        return;
    sum_head(out, "MOST USED DOMAINS          hosts  requests users  hosts (30 days)");
    for (size_t i = 0; i < n; i++) {
        fputs("  ", out);
        sum_cell(out, top[i]->key, 24);
        fprintf(out, "%5" PRIu64 " %9" PRIu64 " %5" PRIu64 "  ", top[i]->c[T_HOSTS30],
                top[i]->c[T_REQ30], top[i]->c[T_USERS30]);
        sum_list(out, &top[i]->a, NULL, NULL, 80 - 50);
    }
    n = tally_top(&s->domains, tally_by_rarity, top, SUM_TOP);
    sum_head(out, "RAREST DOMAINS           freq.idx hosts new  users | hosts");
    for (size_t i = 0; i < n; i++) {
        fputs("  ", out);
        sum_cell(out, top[i]->key, 24);
        if (isnan(top[i]->freq))
            fprintf(out, "%8s", "-");
        else
            fprintf(out, "%8.1f", top[i]->freq);
        fprintf(out, " %5" PRIu64 " %-4s ", top[i]->c[T_HOSTS30], top[i]->is_new ? "yes" : "");
        sum_list(out, &top[i]->b, "|", &top[i]->a, 80 - 47);
    }
}

static void sum_alerts(const struct tl_summary *s, FILE *out)
{
    const struct tally_row *top[SUM_TOP * 2];
    size_t n = tally_top(&s->rules, tally_by_alerts, top, SUM_TOP * 2);
    if (!n)
        return;
    sum_head(out, "ALERTS BY RULE                                 level          count  from");
    for (size_t i = 0; i < n; i++) {
        fputs("  ", out);
        sum_cell(out, top[i]->key, 44);
        sum_cell(out, top[i]->level, 13);
        fprintf(out, "%6" PRIu64 "  ", top[i]->c[T_ALERTS]);
        sum_list(out, &top[i]->a, NULL, NULL, 80 - 69);
    }
    fputs("  by level:", out);
    for (size_t lv = 0; lv < TALLY_LEVELS; lv++)
        if (s->alerts_by_level[lv])
            fprintf(out, " %s %" PRIu64, tally_level_names[lv], s->alerts_by_level[lv]);
    fputc('\n', out);
}

static void sum_principals(const struct tl_summary *s, FILE *out)
{
    const struct tally_row *top[SUM_TOP * 2];
    size_t n = tally_top(&s->principals, tally_by_activity, top, SUM_TOP * 2);
    if (!n)
        return;
    fprintf(out, "\n%-25s%5s %4s %6s %4s %6s %4s %6s  %s\n", "KERBEROS/LDAP PRINCIPALS", "AS ok",
            "fail", "TGS ok", "fail", "bind", "fail", "ops", "from");
    for (size_t i = 0; i < n; i++) {
        const uint64_t *c = top[i]->c;
        fputs("  ", out);
        sum_cell(out, top[i]->key, 22);
        fprintf(out,
                "%5" PRIu64 " %4" PRIu64 " %6" PRIu64 " %4" PRIu64 " %6" PRIu64 " %4" PRIu64
                " %6" PRIu64 "  ",
                c[T_AS_OK], c[T_AS_FAIL], c[T_TGS_OK], c[T_TGS_FAIL], c[T_BIND_OK], c[T_BIND_FAIL],
                c[T_LDAP_OPS]);
        sum_list(out, &top[i]->a, NULL, NULL, 80 - 68);
    }
}

/* What a table could not hold, said once. */
static void sum_capped(FILE *out, const char *what, const struct tally_map *m)
{
    if (m->capped)
        fprintf(out, "  summary.max_entries (%zu) reached: %" PRIu64 " %s not counted\n", m->cap,
                m->capped, what);
}

static void sum_problems(const struct tl_summary *s, FILE *out)
{
    sum_head(out, "PROBLEMS (decode, dissectors, caps)                              count");
    for (size_t i = 0; i < s->nproblems; i++) {
        fputs("  ", out);
        sum_cell(out, s->problems[i].name, 59);
        fprintf(out, "%15" PRIu64 "\n", s->problems[i].value);
    }
    if (s->problems_more)
        fprintf(out, "  and %" PRIu64 " more counters\n", s->problems_more);
    if (!s->have_stats)
        fprintf(out, "  no stats event was written\n");
    else if (!s->nproblems)
        fprintf(out, "  none\n");
    sum_capped(out, "addresses", &s->talkers);
    sum_capped(out, "domains", &s->domains);
    sum_capped(out, "rules", &s->rules);
    sum_capped(out, "principals", &s->principals);
    sum_capped(out, "LDAP flows", &s->ldap_flows);
    if (s->unread)
        fprintf(out, "  %" PRIu64 " of %" PRIu64 " lines were not one JSON event\n", s->unread,
                s->lines);
}

void tl_summary_text(const struct tl_summary *s, FILE *out)
{
    sum_header(s, out);
    sum_types(s, out);
    sum_talker_table(s, out, true);
    sum_talker_table(s, out, false);
    sum_domains(s, out);
    sum_alerts(s, out);
    sum_principals(s, out);
    sum_problems(s, out);
}
