/*
 * output.c - the sinks' building blocks: line inspection, the file sink's
 * rotation and compression, and the spool's zstd segments, each round trip
 * checked with the `zstd` command (an independent decoder and encoder).
 */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "sink.h"

enum { NLINES = 3000 };

static void tmpdir(char *out, size_t n)
{
    snprintf(out, n, "/tmp/tl-output-XXXXXX");
    if (!mkdtemp(out))
        out[0] = '\0';
}

static void rmtree(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "  cannot remove %s\n", dir);
}

/* Line i: a JSON event with some text that compresses, and some that does not. */
static size_t mkline(char *out, size_t n, unsigned i)
{
    unsigned x = i * 2654435761u;
    return (size_t)snprintf(out, n,
                            "{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event_type\":\"flow\","
                            "\"community_id\":\"1:%08x=\",\"n\":%u,\"pad\":\"%0*u\"}",
                            x, i, (int)(i % 97), x % 1000);
}

/* Output of a shell command, up to n-1 bytes, NUL-terminated; its length. */
static size_t run(const char *cmd, char *out, size_t n)
{
    FILE *p = popen(cmd, "r");
    size_t got = p ? fread(out, 1, n - 1, p) : 0;
    out[got] = '\0';
    if (p)
        pclose(p);
    return got;
}

static size_t expected(char *out, size_t n, unsigned from, unsigned to)
{
    size_t len = 0;
    char line[512];
    for (unsigned i = from; i < to && len < n; i++) {
        size_t l = mkline(line, sizeof(line), i);
        if (len + l + 1 >= n)
            break;
        memcpy(out + len, line, l);
        len += l;
        out[len++] = '\n';
    }
    out[len] = '\0';
    return len;
}

static void test_line_parse(void)
{
    static const char ev[] = "{\"ts\":\"2026-01-01T00:00:00.000000Z\",\"event_type\":\"dns\","
                             "\"sensor\":\"s\",\"uid\":\"Cabc\",\"community_id\":\"1:xyz=\","
                             "\"query\":\"a\\\"community_id\\\":\\\"no\"}";
    struct tl_line l;
    size_t n = 0;
    tl_line_parse(&l, ev, sizeof(ev) - 1);
    CHECK_MEM(l.type, l.type_len, "dns");
    const char *v = tl_line_field(&l, "community_id", &n);
    CHECK_MEM(v, n, "1:xyz=");
    v = tl_line_field(&l, "uid", &n);
    CHECK_MEM(v, n, "Cabc");
    CHECK(tl_line_field(&l, "missing", &n) == NULL);
    /* Names of up to 59 bytes are looked for; a longer one is not, even when present. */
    char line[160], name[61];
    for (size_t len = 59; len <= 60; len++) {
        memset(name, 'a', len);
        name[len] = '\0';
        int ln = snprintf(line, sizeof(line), "{\"%s\":\"v\"}", name);
        tl_line_parse(&l, line, (size_t)ln);
        v = tl_line_field(&l, name, &n);
        if (len == 59)
            CHECK_MEM(v, n, "v");
        else
            CHECK(v == NULL);
    }
    tl_line_parse(&l, "{\"ts\":1}", 8);
    CHECK_EQ(l.type_len, 0);
}

/* Appends, then the zstd command decodes the segments: the same lines, in order. */
static void test_spool_zstd_roundtrip(void)
{
    char dir[64], cmd[256], err[256], line[512];
    static char want[1 << 20], got[1 << 20];
    tl_counter st[TL_STAT_N] = { 0 };

    tmpdir(dir, sizeof(dir));
    struct tl_spool *s = tl_spool_open(dir, 1 << 30, 3, st, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    for (unsigned i = 0; i < NLINES; i++)
        tl_spool_append(s, line, mkline(line, sizeof(line), i));
    CHECK_EQ(tl_spool_unread(s), NLINES);
    CHECK_EQ(atomic_load(&st[TL_STAT_KAFKA_SPOOLED]), NLINES);
    tl_spool_close(s);
    snprintf(cmd, sizeof(cmd), "cat %s/spool-*.jsonl.zst | zstd -dcq", dir);
    size_t n = run(cmd, got, sizeof(got));
    size_t m = expected(want, sizeof(want), 0, NLINES);
    CHECK_EQ(n, m);
    CHECK(memcmp(want, got, m) == 0);

    /* A new run replays what was left, in order, and deletes it once resolved. */
    s = tl_spool_open(dir, 1 << 30, 3, st, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    CHECK_EQ(tl_spool_unread(s), NLINES);
    const char *p;
    size_t len;
    uint64_t seq;
    unsigned i = 0;
    bool same = true;
    while (tl_spool_next(s, &p, &len, &seq)) {
        size_t l = mkline(line, sizeof(line), i++);
        same = same && l == len && memcmp(line, p, l) == 0;
        tl_spool_done(s, seq);
    }
    CHECK(same);
    CHECK_EQ(i, NLINES);
    CHECK_EQ(tl_spool_unread(s), 0);
    CHECK_EQ(tl_spool_bytes(s), 0);
    tl_spool_close(s);
    snprintf(cmd, sizeof(cmd), "ls %s | wc -l", dir);
    run(cmd, got, sizeof(got));
    CHECK_STR(got, "0\n");
    rmtree(dir);
}

/* A segment the zstd command wrote, and one cut short by a crash, are read line by line. */
static void test_spool_reads_zstd_and_cut(void)
{
    char dir[64], cmd[512], err[256], path[256];
    static char want[1 << 20];
    tl_counter st[TL_STAT_N] = { 0 };

    tmpdir(dir, sizeof(dir));
    size_t m = expected(want, sizeof(want), 0, NLINES);
    snprintf(path, sizeof(path), "%s/in.jsonl", dir);
    FILE *f = fopen(path, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fwrite(want, 1, m, f);
    fclose(f);
    snprintf(cmd, sizeof(cmd),
             "cd %s && zstd -q --rm -o spool-00000000000000000007.jsonl.zst in.jsonl && "
             "head -c $(($(stat -c %%s spool-00000000000000000007.jsonl.zst) / 2)) "
             "spool-00000000000000000007.jsonl.zst > spool-00000000000000000009.jsonl.zst",
             dir);
    CHECK(system(cmd) == 0);
    struct tl_spool *s = tl_spool_open(dir, 1 << 30, 3, st, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    uint64_t cut = tl_spool_unread(s) - NLINES; /* whole lines in the half segment */
    CHECK(cut > 0 && cut < NLINES);
    const char *p;
    size_t len;
    uint64_t seq, n = 0;
    char line[512];
    bool same = true;
    while (tl_spool_next(s, &p, &len, &seq)) {
        size_t l = mkline(line, sizeof(line), (unsigned)(n < NLINES ? n : n - NLINES));
        same = same && l == len && memcmp(line, p, l) == 0;
        CHECK_EQ(seq, n < NLINES ? 7 : 9);
        n++;
        tl_spool_done(s, seq);
    }
    CHECK(same);
    CHECK_EQ(n, NLINES + cut);
    /* New lines go to a segment numbered after what was found. */
    tl_spool_append(s, "{}", 2);
    tl_spool_close(s);
    snprintf(cmd, sizeof(cmd), "ls %s", dir);
    run(cmd, want, sizeof(want));
    CHECK_STR(want, "spool-00000000000000000010.jsonl.zst\n");
    rmtree(dir);
}

/* Past max_bytes the oldest segments go, counted; the disk use stays near the cap. */
static void test_spool_cap(void)
{
    char dir[64], err[256], line[4200];
    tl_counter st[TL_STAT_N] = { 0 };
    uint64_t x = 88172645463325252ull;

    tmpdir(dir, sizeof(dir));
    struct tl_spool *s = tl_spool_open(dir, 256 << 10, 3, st, err, sizeof(err));
    CHECK(s != NULL);
    if (!s)
        return;
    for (unsigned i = 0; i < 400; i++) { /* 1.6 MB that does not compress */
        for (size_t j = 0; j < 4096; j++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            line[j] = (char)('a' + x % 26);
        }
        tl_spool_append(s, line, 4096);
        CHECK(tl_spool_bytes(s) <= 256 << 10);
    }
    uint64_t capped = atomic_load(&st[TL_STAT_KAFKA_SPOOL_CAPPED]);
    CHECK(capped > 200);
    CHECK_EQ(tl_spool_unread(s) + capped, 400);
    tl_spool_close(s);
    rmtree(dir);
}

/* Rotation by size: no file over the limit, every file whole lines, compressed ones
 * readable by the zstd command, all lines kept in order across the files. */
static void test_file_rotation(void)
{
    char dir[64], path[128], cmd[512], err[256], line[512];
    static char want[1 << 20], got[1 << 20];
    struct tl_config cfg;
    tl_counter st[TL_STAT_N] = { 0 };

    tmpdir(dir, sizeof(dir));
    tl_config_defaults(&cfg);
    cfg.rotate_bytes = 20000;
    cfg.compress_level = 3;
    snprintf(path, sizeof(path), "%s/events.jsonl", dir);
    struct tl_file *f = tl_file_open(&cfg, path, st, err, sizeof(err));
    CHECK(f != NULL);
    if (!f)
        return;
    for (unsigned i = 0; i < NLINES; i++) {
        size_t l = mkline(line, sizeof(line), i);
        line[l++] = '\n';
        CHECK(tl_file_write(f, line, l) == 0);
    }
    tl_file_close(f);
    uint64_t rotated = atomic_load(&st[TL_STAT_OUTPUT_ROTATED]);
    CHECK(rotated > 5);
    /* Rotated files sort by name in time order; .N suffixes within a second sort by N. */
    snprintf(cmd, sizeof(cmd),
             "cd %s && ls events.*.jsonl.zst | wc -l && ls | grep -vc 'zst$' && "
             "for z in $(ls events.*.jsonl.zst | sort -t. -k2,2 -k3,3n); do "
             "zstd -dcq $z | wc -c | awk '$1 > 20000 {print \"big\"}'; "
             "test \"$(zstd -dcq $z | tail -c 1 | od -An -c | tr -d ' ')\" = '\\n' || echo cut; "
             "done",
             dir);
    run(cmd, got, sizeof(got));
    char expect[64];
    snprintf(expect, sizeof(expect), "%llu\n1\n", (unsigned long long)rotated);
    CHECK_STR(got, expect);
    snprintf(cmd, sizeof(cmd),
             "cd %s && { for z in $(ls events.*.jsonl.zst | sort -t. -k2,2 -k3,3n); do "
             "zstd -dcq $z; done; cat events.jsonl; }",
             dir);
    size_t n = run(cmd, got, sizeof(got));
    size_t m = expected(want, sizeof(want), 0, NLINES);
    CHECK_EQ(n, m);
    CHECK(memcmp(want, got, m) == 0);
    tl_config_free(&cfg);
    rmtree(dir);
}

/* The file sink writes in large blocks: half a MiB of lines stays in its buffer until a
 * flush (glibc's default 4 KiB buffer made a write(2) per 4 KiB). */
static void test_file_buffered(void)
{
    char dir[64], path[128], err[256], line[512];
    struct tl_config cfg;
    tl_counter st[TL_STAT_N] = { 0 };
    struct stat sb;

    tmpdir(dir, sizeof(dir));
    tl_config_defaults(&cfg);
    snprintf(path, sizeof(path), "%s/events.jsonl", dir);
    struct tl_file *f = tl_file_open(&cfg, path, st, err, sizeof(err));
    CHECK(f != NULL);
    if (!f)
        return;
    size_t total = 0;
    for (unsigned i = 0; total < 512 * 1024; i++) {
        size_t l = mkline(line, sizeof(line), i);
        line[l++] = '\n';
        CHECK(tl_file_write(f, line, l) == 0);
        total += l;
    }
    CHECK(stat(path, &sb) == 0 && sb.st_size == 0);
    CHECK(tl_file_flush(f) == 0);
    CHECK(stat(path, &sb) == 0 && (size_t)sb.st_size == total);
    tl_file_close(f);
    tl_config_free(&cfg);
    rmtree(dir);
}

/* tl_file_compress against the zstd command. */
static void test_file_compress(void)
{
    char dir[64], src[128], dst[128], cmd[512], err[256];
    static char want[1 << 20], got[1 << 20];

    tmpdir(dir, sizeof(dir));
    snprintf(src, sizeof(src), "%s/a.jsonl", dir);
    snprintf(dst, sizeof(dst), "%s/a.jsonl.zst", dir);
    size_t m = expected(want, sizeof(want), 0, NLINES);
    FILE *f = fopen(src, "w");
    CHECK(f != NULL);
    if (!f)
        return;
    fwrite(want, 1, m, f);
    fclose(f);
    CHECK(tl_file_compress(src, dst, 19, err, sizeof(err)) == 0);
    snprintf(cmd, sizeof(cmd), "zstd -tq %s && zstd -dcq %s", dst, dst);
    CHECK_EQ(run(cmd, got, sizeof(got)), m);
    CHECK(memcmp(want, got, m) == 0);
    struct stat sb;
    CHECK(stat(dst, &sb) == 0 && (size_t)sb.st_size < m / 4);
    rmtree(dir);
}

const struct tl_test tl_tests_output[] = {
    { "line_parse", test_line_parse },
    { "spool_zstd_roundtrip", test_spool_zstd_roundtrip },
    { "spool_reads_zstd_and_cut", test_spool_reads_zstd_and_cut },
    { "spool_cap", test_spool_cap },
    { "file_rotation", test_file_rotation },
    { "file_buffered", test_file_buffered },
    { "file_compress", test_file_compress },
    { 0 },
};
