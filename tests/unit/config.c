/*
 * config.c - options: defaults, --set of every type, refused values, the YAML
 * loader (nesting, lists, nulls, line numbers in errors) and --help-config.
 */
#include <stdlib.h>
#include <unistd.h>

#include "check.h"
#include "config.h"

#define LEN(a) (sizeof(a) / sizeof((a)[0]))

/* Writes text to a new temporary file; its path goes into path[32]. */
static void write_tmp(char path[32], const char *text)
{
    snprintf(path, 32, "/tmp/tl_config_XXXXXX");
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    size_t n = strlen(text);
    CHECK_EQ(write(fd, text, n), n);
    close(fd);
}

/* Loads text as a config file; the return of tl_config_load. */
static int load_text(struct tl_config *c, const char *text, char *err, size_t n)
{
    char path[32];
    write_tmp(path, text);
    int rc = tl_config_load(c, path, err, n);
    unlink(path);
    return rc;
}

/* err with the temporary path cut off: ":3: unknown option 'x'". */
static const char *after_path(const char *err)
{
    const char *p = strstr(err, "/tmp/tl_config_");
    return p ? p + strlen("/tmp/tl_config_XXXXXX") : err;
}

static void test_defaults(void)
{
    struct tl_config c;
    tl_config_defaults(&c);
    CHECK(c.sensor == NULL);
    CHECK(c.filter == NULL);
    CHECK_STR(c.output, "-");
    CHECK_STR(c.home_nets, "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7");
    CHECK_EQ(c.threads, 0);
    CHECK_EQ(c.snaplen, 65535);
    CHECK_EQ(c.batch_bytes, 266240);
    CHECK_EQ(c.max_flows, 500000);
    CHECK(c.promisc);
    CHECK(c.ndpi);
    CHECK_EQ(c.tcp_idle, 300000000ULL);
    CHECK_EQ(c.tcp_linger, 5000000ULL);
    CHECK_EQ(c.active, 1800000000ULL);
    CHECK_EQ(c.stats_interval, 60000000ULL);
    tl_config_free(&c);
    CHECK(c.output == NULL && c.home_nets == NULL);
    tl_config_free(&c); /* twice is harmless */
}

static void test_set_each_type(void)
{
    struct tl_config c;
    char err[256] = "";
    tl_config_defaults(&c);

    CHECK_EQ(tl_config_set(&c, "threads", "8", err, sizeof(err)), 0);
    CHECK_EQ(c.threads, 8);
    CHECK_EQ(tl_config_set(&c, "capture.batch_bytes", "512k", err, sizeof(err)), 0);
    CHECK_EQ(c.batch_bytes, 512 * 1024);
    CHECK_EQ(tl_config_set(&c, "defrag.max_bytes", "16M", err, sizeof(err)), 0);
    CHECK_EQ(c.max_frag_bytes, 16 << 20);
    CHECK_EQ(tl_config_set(&c, "defrag.max_bytes", "2G", err, sizeof(err)), 0);
    CHECK_EQ(c.max_frag_bytes, 2ULL << 30);
    CHECK_EQ(tl_config_set(&c, "defrag.max_bytes", "16G", err, sizeof(err)), 0); /* its highest */
    CHECK_EQ(c.max_frag_bytes, 16ULL << 30);
    CHECK_EQ(tl_config_set(&c, "flows.community_id_seed", "65535", err, sizeof(err)), 0);
    CHECK_EQ(c.cid_seed, 65535);

    static const char *const yes[] = { "true", "yes", "on", "1", "TRUE", "Yes" };
    static const char *const no[] = { "false", "no", "off", "0", "False", "OFF" };
    for (size_t i = 0; i < LEN(yes); i++) {
        CHECK_EQ(tl_config_set(&c, "capture.promisc", no[i], err, sizeof(err)), 0);
        CHECK(!c.promisc);
        CHECK_EQ(tl_config_set(&c, "capture.promisc", yes[i], err, sizeof(err)), 0);
        CHECK(c.promisc);
    }

    CHECK_EQ(tl_config_set(&c, "flows.udp_timeout", "30", err, sizeof(err)), 0);
    CHECK_EQ(c.udp_idle, 30000000ULL);
    CHECK_EQ(tl_config_set(&c, "flows.udp_timeout", "0.5", err, sizeof(err)), 0);
    CHECK_EQ(c.udp_idle, 500000);
    CHECK_EQ(tl_config_set(&c, "flows.udp_timeout", ".25", err, sizeof(err)), 0);
    CHECK_EQ(c.udp_idle, 250000);
    CHECK_EQ(tl_config_set(&c, "flows.udp_timeout", "1.000001", err, sizeof(err)), 0);
    CHECK_EQ(c.udp_idle, 1000001);
    CHECK_EQ(tl_config_set(&c, "flows.udp_timeout", "2.0000019", err, sizeof(err)), 0);
    CHECK_EQ(c.udp_idle, 2000001); /* past microseconds: dropped */
    CHECK_EQ(tl_config_set(&c, "flows.active_timeout", "0", err, sizeof(err)), 0); /* 0: never */
    CHECK_EQ(c.active, 0);

    CHECK_EQ(tl_config_set(&c, "sensor", "tap-01", err, sizeof(err)), 0);
    CHECK_STR(c.sensor, "tap-01");
    CHECK_EQ(tl_config_set(&c, "sensor", "tap-02", err, sizeof(err)), 0); /* old one freed */
    CHECK_STR(c.sensor, "tap-02");
    CHECK_EQ(tl_config_set(&c, "output.path", "", err, sizeof(err)), 0);
    CHECK_STR(c.output, "");
    tl_config_free(&c);
}

static void test_bad_values(void)
{
    static const struct {
        const char *key, *value, *err;
    } cases[] = {
        { "threads", "", "threads: '' is not a number (digits, optional k/M/G)" },
        { "threads", "abc", "threads: 'abc' is not a number (digits, optional k/M/G)" },
        { "threads", "-1", "threads: '-1' is not a number (digits, optional k/M/G)" },
        { "threads", " 4", "threads: ' 4' is not a number (digits, optional k/M/G)" },
        { "threads", "4x", "threads: '4x' is not a number (digits, optional k/M/G)" },
        { "threads", "4kk", "threads: '4kk' is not a number (digits, optional k/M/G)" },
        { "threads", "1.5", "threads: '1.5' is not a number (digits, optional k/M/G)" },
        { "threads", "18446744073709551616", "threads: '18446744073709551616' is too large" },
        { "threads", "17179869184G", "threads: '17179869184G' is too large" },
        { "capture.promisc", "maybe",
          "capture.promisc: 'maybe' is not a boolean (true/false, yes/no, on/off, 1/0)" },
        { "capture.promisc", "",
          "capture.promisc: '' is not a boolean (true/false, yes/no, "
          "on/off, 1/0)" },
        { "flows.udp_timeout", "1.", "flows.udp_timeout: '1.' is not a number of seconds" },
        { "flows.udp_timeout", ".", "flows.udp_timeout: '.' is not a number of seconds" },
        { "flows.udp_timeout", "-3", "flows.udp_timeout: '-3' is not a number of seconds" },
        { "flows.udp_timeout", "3s", "flows.udp_timeout: '3s' is not a number of seconds" },
        { "flows.udp_timeout", "1e3", "flows.udp_timeout: '1e3' is not a number of seconds" },
        { "flows.udp_timeout", "18446744073710",
          "flows.udp_timeout: '18446744073710' seconds "
          "is too large" },
        { "flows.udp_timeout", "18446744073709.551616",
          "flows.udp_timeout: '18446744073709.551616' seconds is too large" },
        { "capture.batch_bytes", "100",
          "capture.batch_bytes: '100' is out of range (262400 to 1073741824)" },
        { "capture.ring_batches", "0", "capture.ring_batches: '0' is out of range (2 to 4096)" },
        { "flows.max_per_worker", "0",
          "flows.max_per_worker: '0' is out of range (1 to 2147483648)" },
        { "stats.interval", "0", "stats.interval: '0' is out of range (1 to 86400 seconds)" },
        { "output.compress_level", "99", "output.compress_level: '99' is out of range (0 to 22)" },
        { "privacy.pseudonym_hex_len", "7",
          "privacy.pseudonym_hex_len: '7' is out of range (8 to 64)" },
        { "flows.udp_timeout", "0",
          "flows.udp_timeout: '0' is out of range (0.01 to 604800 seconds)" },
        { "flows.udp_timeout", "604800.000001",
          "flows.udp_timeout: '604800.000001' is out of range (0.01 to 604800 seconds)" },
        { "flows.community_id_seed", "65536",
          "flows.community_id_seed: '65536' is out of range (0 to 65535)" },
        { "http.hash_bodies", "some", "http.hash_bodies: 'some' is not one of files, all, none" },
        { "http.hash_algorithms", "sha256,sha512",
          "http.hash_algorithms: 'sha256,sha512' is not a list of md5, sha1, sha256" },
        { "flows.nope", "1", "unknown option 'flows.nope'" },
        { "flows", "1", "unknown option 'flows'" },
    };
    struct tl_config c;
    char err[256];
    tl_config_defaults(&c);
    for (size_t i = 0; i < LEN(cases); i++) {
        err[0] = '\0';
        CHECK_EQ(tl_config_set(&c, cases[i].key, cases[i].value, err, sizeof(err)), -1);
        CHECK_STR(err, cases[i].err);
    }
    /* Refused values leave the old ones. */
    CHECK_EQ(c.threads, 0);
    CHECK(c.promisc);
    CHECK_EQ(c.udp_idle, 60000000ULL);
    /* The bounds themselves are taken. */
    CHECK_EQ(tl_config_set(&c, "flows.udp_timeout", "604800", err, sizeof(err)), 0);
    CHECK_EQ(c.udp_idle, 604800000000ULL);
    CHECK_EQ(tl_config_set(&c, "flows.udp_timeout", "0.01", err, sizeof(err)), 0);
    CHECK_EQ(c.udp_idle, 10000);
    /* A short errbuf is cut, never overrun; none at all is allowed. */
    char small[8];
    CHECK_EQ(tl_config_set(&c, "nope", "1", small, sizeof(small)), -1);
    CHECK_STR(small, "unknown");
    CHECK_EQ(tl_config_set(&c, "nope", "1", NULL, 0), -1);
    tl_config_free(&c);
}

static void test_yaml_file(void)
{
    struct tl_config c;
    char err[256] = "";
    tl_config_defaults(&c);
    int rc = load_text(&c,
                       "# tapline\n"
                       "sensor: edge-1\n"
                       "threads: 4\n"
                       "capture:\n"
                       "  snaplen: 1500\n"
                       "  promisc: no\n"
                       "  filter: \"tcp port 80\"\n"
                       "flows:\n"
                       "  udp_timeout: 30\n"
                       "  tcp_syn_timeout: 2.5\n"
                       "  home_nets:\n"
                       "    - 10.1.0.0/16\n"
                       "    - 2001:db8::/32\n"
                       "output: {path: /var/log/tapline.jsonl}\n"
                       "defrag:\n"
                       "  max_bytes: 1M\n"
                       "ndpi: {enabled: off, max_packets: 8}\n",
                       err, sizeof(err));
    CHECK_EQ(rc, 0);
    CHECK_STR(err, "");
    CHECK_STR(c.sensor, "edge-1");
    CHECK_EQ(c.threads, 4);
    CHECK_EQ(c.snaplen, 1500);
    CHECK(!c.promisc);
    CHECK_STR(c.filter, "tcp port 80");
    CHECK_EQ(c.udp_idle, 30000000ULL);
    CHECK_EQ(c.tcp_syn, 2500000);
    CHECK_STR(c.home_nets, "10.1.0.0/16,2001:db8::/32");
    CHECK_STR(c.output, "/var/log/tapline.jsonl");
    CHECK_EQ(c.max_frag_bytes, 1 << 20);
    CHECK(!c.ndpi);
    CHECK_EQ(c.ndpi_max_packets, 8);
    CHECK_EQ(c.tcp_idle, 300000000ULL); /* untouched keep their defaults */

    /* A flow-style list, an empty list, nulls (back to the default) and a quoted "null". */
    CHECK_EQ(
        load_text(&c, "flows: {home_nets: [10.0.0.0/8, fd00::/8, 192.0.2.1]}\n", err, sizeof(err)),
        0);
    CHECK_STR(c.home_nets, "10.0.0.0/8,fd00::/8,192.0.2.1");
    CHECK_EQ(load_text(&c, "flows:\n  home_nets: []\n", err, sizeof(err)), 0);
    CHECK_STR(c.home_nets, "");
    CHECK_EQ(load_text(&c,
                       "capture:\n  filter: ~\nsensor:\noutput:\n  path: null\n"
                       "flows: {home_nets: Null}\n",
                       err, sizeof(err)),
             0);
    CHECK(c.filter == NULL);
    CHECK(c.sensor == NULL);
    CHECK_STR(c.output, "-");
    CHECK_STR(c.home_nets, "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7");
    CHECK_EQ(load_text(&c, "sensor: \"null\"\n", err, sizeof(err)), 0);
    CHECK_STR(c.sensor, "null");
    /* A file that sets nothing is a mistake (the wrong file?), said as such. */
    static const char *const empty[] = { "", "# nothing\n", "---\n" };
    for (size_t i = 0; i < LEN(empty); i++) {
        CHECK_EQ(load_text(&c, empty[i], err, sizeof(err)), -1);
        CHECK_STR(after_path(err), ": sets no option (an empty file: give no -c instead)");
    }
    CHECK_STR(c.sensor, "null");
    /* An option set twice is refused, naming both lines, the nested form too. */
    CHECK_EQ(
        load_text(&c, "flows:\n  udp_timeout: 3\nflows:\n  udp_timeout: 4\n", err, sizeof(err)),
        -1);
    CHECK_STR(after_path(err), ":4: 'flows.udp_timeout' is set twice (first at line 2)");
    CHECK_EQ(load_text(&c, "flows.udp_timeout: 3\nflows:\n  udp_timeout: 4\n", err, sizeof(err)),
             -1);
    CHECK_STR(after_path(err), ":3: 'flows.udp_timeout' is set twice (first at line 1)");
    tl_config_free(&c);
}

static void test_yaml_errors(void)
{
    static const struct {
        const char *text, *err;
    } cases[] = {
        { "threads: 2\nflows:\n  udp_timeout: 30\n  bogus: 1\n",
          ":4: unknown option 'flows.bogus'" },
        { "capture:\n  snaplen: lots\n",
          ":2: capture.snaplen: 'lots' is not a number (digits, optional k/M/G)" },
        { "capture:\n  promisc: ~\n", ":2: capture.promisc: a value is required" },
        { "flows: 3\n", ":1: unknown option 'flows'" },
        { "threads:\n  count: 3\n", ":2: unknown option 'threads.count'" },
        { "- a\n- b\n", ":1: not a mapping of options" },
        { "just text\n", ":1: not a mapping of options" },
        { "flows:\n  home_nets:\n    - a\n    - {b: c}\n",
          ":4: 'flows.home_nets': a list may hold only plain values" },
        { "sensor: &s x\noutput:\n  path: *s\n", ":3: 'output.path': aliases are not supported" },
        { "? [a]\n: 1\n", ":1: keys must be plain names" },
        { "threads: [1\n", ":2: did not find expected ',' or ']' while parsing a flow sequence" },
    };
    struct tl_config c;
    char err[256];
    tl_config_defaults(&c);
    for (size_t i = 0; i < LEN(cases); i++) {
        err[0] = '\0';
        CHECK_EQ(load_text(&c, cases[i].text, err, sizeof(err)), -1);
        CHECK(strncmp(err, "/tmp/tl_config_", 15) == 0);
        CHECK_STR(after_path(err), cases[i].err);
    }
    tl_config_free(&c);
}

static void test_missing_file(void)
{
    struct tl_config c;
    char err[256] = "";
    tl_config_defaults(&c);
    CHECK_EQ(tl_config_load(&c, "/nonexistent/tapline.yaml", err, sizeof(err)), -1);
    CHECK_STR(err, "/nonexistent/tapline.yaml: No such file or directory");
    tl_config_free(&c);
}

/* Column of `word` on the line that starts with "  <first> ", or -1. */
static long help_col(const char *text, const char *first, const char *word)
{
    size_t flen = strlen(first);
    for (const char *line = text; *line;) {
        const char *eol = strchr(line, '\n');
        if (!eol)
            eol = line + strlen(line);
        if (strncmp(line, "  ", 2) == 0 && strncmp(line + 2, first, flen) == 0 &&
            line[2 + flen] == ' ') {
            const char *w = strstr(line, word);
            return w && w <= eol ? w - line : -1;
        }
        line = *eol ? eol + 1 : eol;
    }
    return -1;
}

/* A mistyped option names the closest one; a word far from every option does not. */
static void test_did_you_mean(void)
{
    struct tl_config c;
    char err[256];
    tl_config_defaults(&c);
    CHECK(tl_config_set(&c, "flows.udp_timout", "3", err, sizeof(err)) < 0);
    CHECK_STR(err, "unknown option 'flows.udp_timout' (did you mean 'flows.udp_timeout'?)");
    CHECK(tl_config_set(&c, "kafka.broker", "h:1", err, sizeof(err)) < 0);
    CHECK_STR(err, "unknown option 'kafka.broker' (did you mean 'kafka.brokers'?)");
    CHECK(tl_config_set(&c, "banana", "3", err, sizeof(err)) < 0);
    CHECK_STR(err, "unknown option 'banana'");
    tl_config_free(&c);
}

static void test_help(void)
{
    char *text = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&text, &len);
    CHECK(f != NULL);
    if (!f)
        return;
    tl_config_print_help(f);
    fclose(f);
    CHECK(strncmp(text, "  option ", 9) == 0);
    long def = help_col(text, "option", "default"), mean = help_col(text, "option", "meaning");
    CHECK(def > 0 && mean > def);
    CHECK_EQ(help_col(text, "capture.snaplen", "65535"), def);
    CHECK_EQ(
        help_col(text, "capture.snaplen", "live capture: bytes kept per packet [64 to 262144]\n"),
        mean); /* a number's range follows its meaning */
    CHECK(strstr(text, "UDP flow idle timeout (s) [0.01 to 604800 seconds]\n"));
    CHECK(strstr(text, "[0 to 1125899906842624]\n")); /* output.rotate_bytes: every digit */
    CHECK_EQ(help_col(text, "capture.promisc", "true"), def);
    CHECK_EQ(help_col(text, "flows.udp_timeout", "60 "), def); /* seconds, as written */
    CHECK_EQ(help_col(text, "flows.udp_timeout", "UDP flow idle timeout (s)"), mean);
    CHECK_EQ(help_col(text, "sensor", "(unset)"), def);
    CHECK_EQ(help_col(text, "output.path", "- "), def);
    /* A default too long for its column pushes the meaning onto the next line. */
    CHECK_EQ(
        help_col(text, "flows.home_nets", "10.0.0.0/8,172.16.0.0/12,192.168.0.0/16,fc00::/7\n"),
        def);
    const char *wrapped = strstr(text, "fc00::/7\n");
    CHECK(wrapped && strspn(wrapped + 9, " ") == (size_t)mean &&
          strncmp(wrapped + 9 + mean, "home networks", 13) == 0);
    free(text);
}

/* A bound as text: seconds with their fraction, other numbers whole (every digit). */
static const char *bound(char *v, size_t n, const struct tl_config_info *o, double x)
{
    if (o->secs)
        snprintf(v, n, "%.15g", x);
    else
        snprintf(v, n, "%llu", (unsigned long long)x);
    return v;
}

/* set KEY=VALUE must be refused with a reason naming the option. */
static void refused(struct tl_config *c, const char *key, const char *value)
{
    char err[512] = "";
    int rc = tl_config_set(c, key, value, err, sizeof(err));
    CHECK(rc == -1 && strstr(err, key));
    if (rc != -1 || !strstr(err, key))
        fprintf(stderr, "  %s=%.40s: rc %d, '%s'\n", key, value, rc, err);
}

static void accepted(struct tl_config *c, const char *key, const char *value)
{
    char err[512] = "";
    int rc = tl_config_set(c, key, value, err, sizeof(err));
    CHECK_EQ(rc, 0);
    if (rc)
        fprintf(stderr, "  %s=%.40s: %s\n", key, value, err);
}

/*
 * Every option of the table at its bounds and past them: in range is taken, out of range,
 * of the wrong type, empty or huge is refused naming the option; text is taken or refused
 * the same way, never half-set (the run under ASan frees what each one kept).
 * tests/suites/options.sh runs the values taken through a whole replay.
 */
static void test_every_option(void)
{
    static char huge[5001];
    memset(huge, 'a', sizeof(huge) - 1);
    struct tl_config c;
    struct tl_config_info o;
    char v[64];
    size_t n = 0;
    tl_config_defaults(&c);
    for (size_t i = 0; tl_config_option(i, &o); i++, n++) {
        switch (o.type) {
        case 'n':
            accepted(&c, o.key, bound(v, sizeof(v), &o, o.lo));
            accepted(&c, o.key, bound(v, sizeof(v), &o, o.hi));
            if (o.lo == 0)
                snprintf(v, sizeof(v), "-1");
            else if (o.lo != (double)(uint64_t)o.lo)
                snprintf(v, sizeof(v), "%.15g", o.lo / 10);
            else
                snprintf(v, sizeof(v), "%llu", (unsigned long long)o.lo - 1);
            refused(&c, o.key, v);
            if (o.secs)
                snprintf(v, sizeof(v), "%.15g", o.hi + 0.5);
            else
                snprintf(v, sizeof(v), "%llu", (unsigned long long)o.hi + 1);
            refused(&c, o.key, v);
            refused(&c, o.key, "18446744073709551616");
            refused(&c, o.key, "1e400");
            refused(&c, o.key, "twelve");
            refused(&c, o.key, "5x");
            refused(&c, o.key, "");
            refused(&c, o.key, huge);
            break;
        case 'b':
            accepted(&c, o.key, "true");
            accepted(&c, o.key, "false");
            refused(&c, o.key, "maybe");
            refused(&c, o.key, "");
            refused(&c, o.key, huge);
            break;
        default: {
            static const char *const texts[] = { "", "x", "a,,b, ,", "\x01\x7f", "-1" };
            char err[512];
            for (size_t k = 0; k < LEN(texts); k++) {
                err[0] = '\0';
                if (tl_config_set(&c, o.key, texts[k], err, sizeof(err)) < 0)
                    CHECK(strstr(err, o.key) != NULL);
            }
            if (tl_config_set(&c, o.key, huge, err, sizeof(err)) < 0)
                CHECK(strstr(err, o.key) != NULL);
        }
        }
    }
    CHECK(n > 80);
    tl_config_free(&c);
}

const struct tl_test tl_tests_config[] = {
    { "every_option", test_every_option },
    { "defaults", test_defaults },
    { "set_each_type", test_set_each_type },
    { "bad_values", test_bad_values },
    { "yaml_file", test_yaml_file },
    { "yaml_errors", test_yaml_errors },
    { "missing_file", test_missing_file },
    { "did_you_mean", test_did_you_mean },
    { "help", test_help },
    { 0 },
};
