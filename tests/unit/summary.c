/*
 * summary.c - the run summary from JSON lines: counts per type, talkers
 * (interim flow records add bytes, not flows), the last report of a domain,
 * alerts by level, principals (LDAP operations counted for the bind of their
 * flow), the problems of the last stats event, caps that count what they
 * refuse, time series whose sums survive the grid widening, and hostile
 * names: no terminal control reaches the text, no markup the HTML; every
 * line of the text fits 80 columns.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "cursor.h"
#include "tally.h"

static void feed(struct tl_summary *s, const char *line)
{
    char *p = tl_test_dup(line, strlen(line));
    tl_summary_line(s, p, strlen(line));
    free(p);
}

/* Lines as a run of a few flows, a domain, Kerberos, LDAP and alerts would write them. */
static const char *const run_lines[] = {
    "{\"ts\":\"2026-12-06T10:00:00.000000Z\",\"event_type\":\"flow\",\"sensor\":\"t\","
    "\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"orig_ip_bytes\":1000,"
    "\"resp_ip_bytes\":500,\"duration\":10.0,\"interim\":true,\"service\":\"http\"}",
    "{\"ts\":\"2026-12-06T10:00:10.000000Z\",\"event_type\":\"flow\",\"sensor\":\"t\","
    "\"id.orig_h\":\"10.0.0.1\",\"id.resp_h\":\"10.0.0.2\",\"orig_ip_bytes\":100,"
    "\"resp_ip_bytes\":400,\"duration\":1.0,\"interim\":false,\"service\":\"http\"}",
    "{\"ts\":\"2026-12-06T10:00:05.000000Z\",\"event_type\":\"flow\",\"sensor\":\"t\","
    "\"id.orig_h\":\"10.0.0.3\",\"id.resp_h\":\"10.0.0.2\",\"orig_ip_bytes\":60,"
    "\"resp_ip_bytes\":40,\"duration\":0.0,\"interim\":false,\"app_proto\":\"DNS.Google\"}",
    "{\"ts\":\"2026-12-06T10:00:01.000000Z\",\"event_type\":\"dns\",\"sensor\":\"t\","
    "\"status\":\"malformed\"}",
    "{\"ts\":\"2026-12-06T10:00:02.000000Z\",\"event_type\":\"dns\",\"sensor\":\"t\","
    "\"status\":\"ok\"}",
    "{\"ts\":\"2026-12-06T10:00:03.000000Z\",\"event_type\":\"domain\",\"sensor\":\"t\","
    "\"registered_domain\":\"rare.example\",\"requests_30d\":2,\"hosts_30d\":1,"
    "\"frequency_index\":0.0,\"is_new\":true,\"hosts\":[\"10.0.0.3\"],\"users\":[\"alice\"]}",
    "{\"ts\":\"2026-12-06T10:00:03.000000Z\",\"event_type\":\"domain\",\"sensor\":\"t\","
    "\"registered_domain\":\"common.example\",\"requests_30d\":50,\"hosts_30d\":3,"
    "\"frequency_index\":100.0,\"hosts\":[\"10.0.0.1\",\"10.0.0.2\",\"10.0.0.3\"]}",
    "{\"ts\":\"2026-12-06T10:00:09.000000Z\",\"event_type\":\"domain\",\"sensor\":\"t\","
    "\"registered_domain\":\"common.example\",\"requests_30d\":60,\"hosts_30d\":4,"
    "\"frequency_index\":100.0,\"hosts\":[\"10.0.0.4\"]}",
    "{\"ts\":\"2026-12-06T10:00:01.000000Z\",\"event_type\":\"domain\",\"sensor\":\"t\","
    "\"registered_domain\":\"common.example\",\"requests_30d\":1,\"hosts_30d\":1}",
    "{\"ts\":\"2026-12-06T10:00:04.000000Z\",\"event_type\":\"kerberos\",\"sensor\":\"t\","
    "\"id.orig_h\":\"10.0.0.3\",\"request_type\":\"AS\",\"success\":true,\"client\":\"alice\","
    "\"client_realm\":\"CORP\"}",
    "{\"ts\":\"2026-12-06T10:00:04.500000Z\",\"event_type\":\"kerberos\",\"sensor\":\"t\","
    "\"id.orig_h\":\"10.0.0.3\",\"request_type\":\"TGS\",\"success\":false,\"client\":\"alice\","
    "\"client_realm\":\"CORP\",\"service\":\"cifs/fs1\"}",
    "{\"ts\":\"2026-12-06T10:00:06.000000Z\",\"event_type\":\"ldap\",\"sensor\":\"t\","
    "\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.3\",\"operation\":\"bind\",\"bind_name\":\"cn=bob\","
    "\"result_code\":49}",
    "{\"ts\":\"2026-12-06T10:00:06.100000Z\",\"event_type\":\"ldap\",\"sensor\":\"t\","
    "\"uid\":\"C1\",\"id.orig_h\":\"10.0.0.3\",\"operation\":\"search\"}",
    "{\"ts\":\"2026-12-06T10:00:06.200000Z\",\"event_type\":\"ldap\",\"sensor\":\"t\","
    "\"uid\":\"C2\",\"id.orig_h\":\"10.0.0.4\",\"operation\":\"search\"}",
    "{\"ts\":\"2026-12-06T10:00:07.000000Z\",\"event_type\":\"alert\",\"sensor\":\"t\","
    "\"rule.title\":\"Weak\",\"rule.level\":\"low\",\"id.orig_h\":\"10.0.0.3\"}",
    "{\"ts\":\"2026-12-06T10:00:08.000000Z\",\"event_type\":\"alert\",\"sensor\":\"t\","
    "\"rule.title\":\"Roast\",\"rule.level\":\"high\",\"id.orig_h\":\"10.0.0.3\"}",
    "{\"ts\":\"2026-12-06T10:00:08.500000Z\",\"event_type\":\"alert\",\"sensor\":\"t\","
    "\"rule.title\":\"Weak\",\"rule.level\":\"low\",\"id.orig_h\":\"10.0.0.4\"}",
    "{\"ts\":\"2026-12-06T10:00:09.000000Z\",\"event_type\":\"stats\",\"sensor\":\"t\","
    "\"capture.packets\":99,\"dns.malformed\":7,\"decode.ok\":90,\"ndpi.given_up\":3}",
    "{\"ts\":\"2026-12-06T10:00:11.000000Z\",\"event_type\":\"stats\",\"sensor\":\"t\","
    "\"capture.packets\":120,\"capture.bytes\":5000,\"flows.created\":2,\"events.written\":20,"
    "\"schema_version\":2,\"dns.malformed\":1,\"decode.ok\":110,\"decode.ipv4_bad\":2,"
    "\"ndpi.given_up\":3,\"reassembly.gaps\":0,\"flows.max_per_worker_capped\":4}",
};

static struct tl_summary *run(void)
{
    struct tl_summary *s = tl_summary_new(100);
    for (size_t i = 0; i < TL_ARRAY_LEN(run_lines); i++)
        feed(s, run_lines[i]);
    return s;
}

/* The summary's text or page, NUL-terminated; free() it. */
static char *as_text(const struct tl_summary *s)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    tl_summary_text(s, f);
    fclose(f);
    return buf;
}

static char *as_html(const struct tl_summary *s, const char *title)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    CHECK_EQ(tl_summary_html(s, f, title), 0);
    fclose(f);
    return buf;
}

static const struct tally_type *type_of(const struct tl_summary *s, const char *name)
{
    for (size_t i = 0; i < s->ntypes; i++)
        if (strcmp(s->types[i].name, name) == 0)
            return &s->types[i];
    return NULL;
}

static void test_counts(void)
{
    struct tl_summary *s = run();
    CHECK_EQ(s->lines, TL_ARRAY_LEN(run_lines));
    CHECK_EQ(s->unread, 0);
    CHECK(type_of(s, "flow") && type_of(s, "flow")->events == 3);
    CHECK(type_of(s, "dns") && type_of(s, "dns")->malformed == 1);
    CHECK(type_of(s, "stats") && type_of(s, "stats")->events == 2);
    CHECK(s->first_us && s->last_us - s->first_us == 11000000u);

    const struct tally_row *top[4];
    CHECK_EQ(tally_top(&s->talkers, tally_by_bytes, top, 4), 3);
    CHECK_STR(top[0]->key, "10.0.0.2");
    CHECK_EQ(top[0]->c[T_BYTES], 2100);
    CHECK_EQ(top[0]->c[T_FLOWS], 2); /* the interim record added bytes, not a flow */
    CHECK_STR(top[1]->key, "10.0.0.1");
    CHECK_EQ(top[1]->c[T_FLOWS], 1);
    tl_summary_free(s);
}

static void test_domains(void)
{
    struct tl_summary *s = run();
    const struct tally_row *top[4];
    CHECK_EQ(tally_top(&s->domains, tally_by_hosts, top, 4), 2);
    CHECK_STR(top[0]->key, "common.example");
    CHECK_EQ(top[0]->c[T_REQ30], 60); /* the latest report, not the older one after it */
    CHECK_EQ(top[0]->a.n, 1);
    CHECK_STR(top[0]->a.v[0], "10.0.0.4");
    CHECK_EQ(tally_top(&s->domains, tally_by_rarity, top, 4), 2);
    CHECK_STR(top[0]->key, "rare.example");
    CHECK(top[0]->is_new);
    CHECK_STR(top[0]->b.v[0], "alice");
    tl_summary_free(s);
}

static void test_alerts_and_principals(void)
{
    struct tl_summary *s = run();
    const struct tally_row *top[8];
    CHECK_EQ(tally_top(&s->rules, tally_by_alerts, top, 8), 2);
    CHECK_STR(top[0]->key, "Roast"); /* high before low, whatever the counts */
    CHECK_STR(top[1]->key, "Weak");
    CHECK_EQ(top[1]->c[T_ALERTS], 2);
    CHECK_EQ(top[1]->a.n, 2);
    CHECK_EQ(s->alerts_by_level[tally_level("low")], 2);
    CHECK_EQ(s->alerts_by_level[tally_level("high")], 1);

    size_t n = tally_top(&s->principals, tally_by_activity, top, 8);
    CHECK_EQ(n, 3);
    for (size_t i = 0; i < n; i++) {
        if (strcmp(top[i]->key, "alice@CORP") == 0) {
            CHECK_EQ(top[i]->c[T_AS_OK], 1);
            CHECK_EQ(top[i]->c[T_TGS_FAIL], 1);
            CHECK_STR(top[i]->b.v[0], "cifs/fs1");
        } else if (strcmp(top[i]->key, "cn=bob") == 0) {
            CHECK_EQ(top[i]->c[T_BIND_FAIL], 1);
            CHECK_EQ(top[i]->c[T_LDAP_OPS], 1); /* the search on the flow bob bound */
        } else {
            CHECK_STR(top[i]->key, "(no bind seen)");
        }
    }
    tl_summary_free(s);
}

static void test_problems(void)
{
    struct tl_summary *s = run();
    CHECK(s->have_stats);
    CHECK_EQ(s->packets, 120); /* the last stats event */
    CHECK_EQ(s->schema_version, 2);
    CHECK_EQ(s->nproblems, 3);
    bool malformed = false, ipv4 = false, capped = false;
    for (size_t i = 0; i < s->nproblems; i++) {
        malformed |= strcmp(s->problems[i].name, "dns.malformed") == 0 && s->problems[i].value == 1;
        ipv4 |= strcmp(s->problems[i].name, "decode.ipv4_bad") == 0;
        capped |= strcmp(s->problems[i].name, "flows.max_per_worker_capped") == 0;
    }
    CHECK(malformed && ipv4 && capped);
    tl_summary_free(s);
}

/* Traffic spread over time keeps its sum while the grid widens from 10 ms to days. */
static void test_grid(void)
{
    struct tl_summary *s = tl_summary_new(100);
    char line[256];
    double want = 0, got = 0;
    for (int i = 0; i < 40; i++) {
        int day = 1 + (i * 7) % 28, h = i % 24;
        snprintf(line, sizeof(line),
                 "{\"ts\":\"2026-02-%02dT%02d:00:00.000000Z\",\"event_type\":\"flow\","
                 "\"sensor\":\"t\",\"id.orig_h\":\"10.0.0.%d\",\"orig_ip_bytes\":%d,"
                 "\"duration\":%d.5,\"proto\":\"udp\"}",
                 day, h, i, 100 + i, i * 1000);
        feed(s, line);
        want += 100 + i;
    }
    for (size_t k = 0; k <= TALLY_SERIES; k++)
        for (size_t i = 0; i < TALLY_BUCKETS; i++)
            got += s->traffic[k][i];
    CHECK(fabs(got - want) < 1e-6);
    CHECK_EQ(s->grid.width_us, 21600000000ull); /* 21 days in 96 buckets: 6 h each */
    CHECK_EQ(s->grid.origin_us % s->grid.width_us, 0);
    CHECK(s->first_us >= s->grid.origin_us);
    CHECK(s->last_us < tally_bucket_us(s, TALLY_BUCKETS));
    tl_summary_free(s);
}

static void test_caps(void)
{
    struct tl_summary *s = tl_summary_new(16);
    char line[256];
    for (int i = 0; i < 20; i++) {
        snprintf(line, sizeof(line),
                 "{\"ts\":\"2026-12-06T10:00:00Z\",\"event_type\":\"flow\",\"sensor\":\"t\","
                 "\"id.orig_h\":\"10.1.0.%d\",\"orig_ip_bytes\":1}",
                 i);
        feed(s, line);
    }
    CHECK_EQ(s->talkers.n, 16);
    CHECK_EQ(s->talkers.capped, 4);
    char *buf = as_text(s);
    CHECK(strstr(buf, "summary.max_entries (16) reached: 4 addresses not counted") != NULL);
    free(buf);
    tl_summary_free(s);
}

static const char *const hostile[] = {
    "{\"ts\":\"2026-12-06T10:00:00Z\",\"event_type\":\"kerberos\",\"sensor\":\"t\","
    "\"client\":\"\\u001b[31mred\\u001b]0;title\\u0007<script>alert(1)</script>\","
    "\"id.orig_h\":\"\\\"><img src=x>\",\"success\":true}",
    "{\"ts\":\"2026-12-06T10:00:00Z\",\"event_type\":\"alert\",\"sensor\":\"t\","
    "\"rule.title\":\"</text><script>x</script>&amp;\\u202eevil\\u009b\","
    "\"rule.level\":\"high'\\\"<\"}",
    "{\"ts\":\"2026-12-06T10:00:00Z\",\"event_type\":\"domain\",\"sensor\":\"t\","
    "\"registered_domain\":\"<b>x</b>\",\"hosts\":[\"<i>\",\"\\u0000nul\"],\"users\":[1,{}]}",
    "{\"ts\":\"2026-12-06T10:00:00Z\",\"event_type\":\"<svg onload=alert(1)>\",\"sensor\":\"t\"}",
    "{\"ts\":\"2026-12-06T10:00:00Z\",\"event_type\":\"flow\",\"sensor\":\"t\","
    "\"app_proto\":\"<svg>\",\"id.orig_h\":\"a\\u00e9\\ud83d\\ude00\",\"duration\":-5,"
    "\"orig_ip_bytes\":18446744073709551615,\"resp_ip_bytes\":18446744073709551615}",
    "{\"ts\":\"9999-12-31T23:59:59.999999Z\",\"event_type\":\"flow\",\"sensor\":\"t\","
    "\"duration\":1e308}",
    "{\"ts\":\"1970-01-01T00:00:00Z\",\"event_type\":\"alert\",\"sensor\":\"t\"}",
    "not json at all \x1b[2J",
    "{\"ts\":1,\"event_type\":\"flow\"}",
    "{\"event_type\":\"flow\"}",
};

/* Every character of the text is printable or a newline; no line is wider than 80. */
static void check_text(const char *buf)
{
    size_t cols = 0;
    for (const unsigned char *p = (const unsigned char *)buf; *p; p++) {
        if (*p == '\n') {
            if (cols > 80)
                tl_check_report(__FILE__, __LINE__, "a line of %zu columns", cols);
            cols = 0;
            continue;
        }
        if (*p < 0x20 || *p == 0x7f || (*p == 0xc2 && p[1] >= 0x80 && p[1] < 0xa0) ||
            (*p == 0xe2 && p[1] == 0x80 && p[2] == 0xae))
            tl_check_report(__FILE__, __LINE__, "control character 0x%02x in the text", *p);
        cols += (*p & 0xc0) != 0x80;
    }
}

static void test_hostile(void)
{
    struct tl_summary *s = tl_summary_new(100);
    for (size_t i = 0; i < TL_ARRAY_LEN(hostile); i++) {
        feed(s, hostile[i]);
        for (size_t cut = 0; cut < strlen(hostile[i]); cut += 7) { /* cut lines, in exact copies */
            char *p = tl_test_dup(hostile[i], cut);
            tl_summary_line(s, p, cut);
            free(p);
        }
    }
    CHECK(s->unread >= 3);
    char *buf = as_text(s);
    check_text(buf);
    CHECK(strstr(buf, "  ?[31mred?]0;title?<s..     1") != NULL);
    CHECK(strstr(buf, "no events") == NULL); /* 1970-01-01 is a time like any other */
    free(buf);

    buf = as_html(s, "<title>\"run\"");
    CHECK(strstr(buf, "<script") == NULL);
    CHECK(strstr(buf, "<img") == NULL);
    CHECK(strstr(buf, "<b>") == NULL && strstr(buf, "<i>") == NULL);
    CHECK(strstr(buf, "<svg onload") == NULL);
    CHECK(strstr(buf, "&lt;script&gt;alert(1)&lt;/script&gt;") != NULL);
    CHECK(strstr(buf, "&#65533;[31mred") != NULL);
    CHECK(strstr(buf, "&lt;title&gt;&quot;run&quot;") != NULL);
    CHECK(strstr(buf, "\x1b") == NULL);
    free(buf);
    tl_summary_free(s);
}

static size_t count(const char *hay, const char *needle)
{
    size_t n = 0;
    for (const char *p = hay; (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* The page of a run: its charts, nothing fetched, nothing scripted. */
static void test_html(void)
{
    struct tl_summary *s = run();
    char *buf = as_html(s, "a.pcap");
    CHECK(strncmp(buf, "<!DOCTYPE html>", 15) == 0);
    CHECK(strstr(buf, "default-src 'none'") != NULL);
    static const char *const ids[] = { "traffic",       "alerts",  "talkers-bytes",
                                       "talkers-flows", "domains", "principals" };
    for (size_t i = 0; i < TL_ARRAY_LEN(ids); i++) {
        char want[64];
        snprintf(want, sizeof(want), "<svg class=\"chart\" id=\"%s\"", ids[i]);
        if (!strstr(buf, want))
            tl_check_report(__FILE__, __LINE__, "no chart %s", ids[i]);
    }
    CHECK_EQ(count(buf, "<svg"), count(buf, "</svg>"));
    CHECK_EQ(count(buf, "<table"), count(buf, "</table>"));
    CHECK(count(buf, "<rect") >= 10);
    CHECK(count(buf, "<circle") >= 2);
    CHECK(strstr(buf, "<script") == NULL && strstr(buf, "src=") == NULL &&
          strstr(buf, "href=") == NULL && strstr(buf, "url(") == NULL &&
          strstr(buf, "@import") == NULL && strstr(buf, "://") == NULL);
    CHECK(strstr(buf, "rare.example") != NULL);
    CHECK(strstr(buf, "dns.malformed") != NULL);
    free(buf);

    /* An empty run still makes a page. */
    struct tl_summary *e = tl_summary_new(16);
    buf = as_html(e, "");
    CHECK(strstr(buf, "No flows.") != NULL && strstr(buf, "</html>") != NULL);
    free(buf);
    buf = as_text(e);
    CHECK(strstr(buf, "no events") != NULL);
    free(buf);
    tl_summary_free(e);
    tl_summary_free(s);
}

static void test_text(void)
{
    struct tl_summary *s = run();
    char *buf = as_text(s);
    check_text(buf);
    CHECK(strstr(buf, "tapline summary: 2026-12-06 10:00:00 to 10:00:11 UTC (11 s)") != NULL);
    CHECK(strstr(buf, "120 packets, 5.0 kB on the wire, 2 flows, 20 events (schema 2)") != NULL);
    CHECK(strstr(buf, "\n  dns                            2           0           1\n") != NULL);
    CHECK(strstr(buf, "  rare.example                  0.0     1 yes  alice | 10.0.0.3") != NULL);
    CHECK(strstr(buf, "  Roast") != NULL && strstr(buf, "by level: high 1 low 2") != NULL);
    CHECK(strstr(buf, "  decode.ipv4_bad") != NULL);
    CHECK(strstr(buf, "ndpi.given_up") == NULL && strstr(buf, "decode.ok") == NULL);
    free(buf);
    tl_summary_free(s);
}

const struct tl_test tl_tests_summary[] = {
    { "counts", test_counts },
    { "domains", test_domains },
    { "alerts_and_principals", test_alerts_and_principals },
    { "problems", test_problems },
    { "grid", test_grid },
    { "caps", test_caps },
    { "hostile", test_hostile },
    { "html", test_html },
    { "text", test_text },
    { 0 },
};
