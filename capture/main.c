/*
 * main.c - the command line, and the one place that wires sources, the
 * pipeline and the output together.
 *
 *   tapline -r FILE|DIR|- [-r ...] | -i IFACE  [-w PATH] [-c CONFIG] [--threads N]
 *           [--set key=value] [-f EXPR | EXPR...]
 *   tapline --check-rules [PATH...]
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "config.h"
#include "dissect.h"
#include "event.h"
#include "flow.h"
#include "identity.h"
#include "pipeline.h"
#include "rules.h"
#include "source.h"
#include "stats.h"

#ifndef TL_VERSION
#define TL_VERSION "0.1.0"
#endif

static volatile sig_atomic_t stop_requested;
static struct tl_source_ctx *live_ctx;
static struct tl_output *hup_output;

/* SIGHUP: the output thread reopens the output file (logrotate); this only sets its flag. */
static void on_hup(int sig)
{
    (void)sig;
    tl_output_hup(hup_output);
}

static void on_signal(int sig)
{
    (void)sig;
    if (stop_requested)
        _exit(130); /* a second signal: leave at once */
    stop_requested = 1;
    if (live_ctx)
        tl_source_break(live_ctx);
}

static void usage(FILE *out)
{
    fprintf(out,
            "usage: tapline -r FILE [-r FILE...] | -i IFACE [options] [BPF filter]\n"
            "  -r FILE        read a pcap/pcapng file; a directory reads its files in name order;\n"
            "                 - reads stdin (repeatable)\n"
            "  -i IFACE       capture live from an interface\n"
            "  -f EXPR        BPF filter (or give it as trailing arguments, like tcpdump)\n"
            "  -w PATH        write JSON lines to PATH (- for stdout, the default)\n"
            "  --kafka HOSTS  send events to Kafka (kafka.brokers); without -w, only to Kafka\n"
            "  -c FILE        YAML configuration file\n"
            "  --threads N    worker threads (default: one per core less one)\n"
            "  --set KEY=VAL  set any configuration option (see --help-config)\n"
            "  --list-fields  print every event type's fields\n"
            "  --check-rules [PATH...]  load Sigma rules (default: rules.paths), print each\n"
            "                 file's verdict; exit 1 if any is rejected\n"
            "  --help-config  print every configuration option\n"
            "  --version      print the version\n");
}

enum { MAX_TYPES = 4 + TL_MAX_DISSECTORS };

/* Every event type the sensor writes: what --list-fields lists and rules may target. */
static size_t event_types(const struct tl_event_type *types[MAX_TYPES])
{
    size_t n = 0;
    types[n++] = &tl_flow_event;
    for (size_t i = 0; i < tl_ndissectors && i < TL_MAX_DISSECTORS; i++)
        types[n++] = tl_dissectors[i]->event;
    types[n++] = &tl_identity_event;
    types[n++] = tl_stats_event();
    types[n++] = &tl_alert_event;
    return n;
}

static void list_fields(void)
{
    const struct tl_event_type *types[MAX_TYPES];
    size_t ntypes = event_types(types);
    for (size_t i = 0; i < ntypes; i++) {
        const struct tl_event_type *t = types[i];
        printf("%s: %s\n", t->name, t->doc);
        printf("  %-28s %-16s %s\n", "event_type", "string", "the event type");
        printf("  %-28s %-16s %s\n", "sensor", "string", "the sensor name");
        for (const struct tl_event_type *ft = t; ft; ft = ft->ext)
            for (size_t j = 0; j < ft->nfields; j++)
                printf("  %-28s %-16s %s\n", ft->fields[j].name,
                       tl_ftype_name((enum tl_ftype)ft->fields[j].type), ft->fields[j].doc);
        printf("\n");
    }
}

static void check_rules_line(void *arg, const char *path, enum tl_rule_verdict v, unsigned line,
                             const char *reason)
{
    static const char *const names[] = { "active", "inactive", "rejected" };
    (void)arg;
    printf("%-8s  %s", names[v], path);
    if (line)
        printf(":%u", line);
    printf("%s%s\n", reason[0] ? "  " : "", reason);
}

/* --check-rules: the verdict of every file under paths (NULL: rules.paths); 0, 1 (a file was
 * rejected) or 2 (a path cannot be read). */
static int check_rules(const struct tl_config *cfg, const char *paths)
{
    const struct tl_event_type *types[MAX_TYPES];
    struct tl_rules_env env = { .types = types,
                                .placeholders = cfg->placeholders,
                                .max_state = cfg->max_rule_state,
                                .max_alert_uids = cfg->max_alert_uids };
    struct tl_rules_summary sum;
    char err[512];

    env.ntypes = event_types(types);
    struct tl_ruleset *rs = tl_rules_load(&env, paths ? paths : cfg->rule_paths, check_rules_line,
                                          NULL, &sum, err, sizeof(err));
    if (!rs) {
        fprintf(stderr, "tapline: %s\n", err);
        return 2;
    }
    printf("files: %u active, %u inactive, %u rejected; rules: %u, correlations: %u, "
           "filters: %u\n",
           sum.files_active, sum.files_inactive, sum.files_rejected, sum.rules, sum.correlations,
           sum.filters);
    tl_rules_free(rs);
    return sum.files_rejected ? 1 : 0;
}

/* The trailing arguments joined with commas (the paths of --check-rules), or NULL. */
static char *join_args(int argc, char **argv, int from)
{
    char *out = NULL;
    size_t len = 0;
    for (int i = from; i < argc; i++) {
        size_t l = strlen(argv[i]);
        char *p = realloc(out, len + l + 2);
        if (!p)
            abort();
        out = p;
        if (len)
            out[len++] = ',';
        memcpy(out + len, argv[i], l + 1);
        len += l;
    }
    return out;
}

struct run {
    struct tl_config cfg;
    char **reads;
    int nreads;
    const char *iface;
    const char *config_path;
    struct tl_pipeline *pipe;
    uint64_t next_stats_us;
};

static void on_packet(void *user, int linktype, uint64_t ts_us, const uint8_t *pkt, uint32_t caplen,
                      uint32_t wirelen)
{
    struct run *r = user;
    tl_pipeline_packet(r->pipe, linktype, ts_us, pkt, caplen, wirelen);
}

static void on_idle(void *user, uint64_t wall_us)
{
    struct run *r = user;
    tl_pipeline_flush(r->pipe);
    if (r->cfg.stats_interval && wall_us >= r->next_stats_us) {
        if (r->next_stats_us)
            tl_pipeline_stats_event(r->pipe, (uint64_t)time(NULL) * 1000000u);
        r->next_stats_us = wall_us + r->cfg.stats_interval;
    }
}

static int set_option(struct tl_config *cfg, const char *kv, char *errbuf, size_t n)
{
    const char *eq = strchr(kv, '=');
    char key[128];
    if (!eq || (size_t)(eq - kv) >= sizeof(key)) {
        snprintf(errbuf, n, "--set wants key=value, not '%s'", kv);
        return -1;
    }
    memcpy(key, kv, (size_t)(eq - kv));
    key[eq - kv] = '\0';
    return tl_config_set(cfg, key, eq + 1, errbuf, n);
}

enum {
    OPT_THREADS = 256,
    OPT_SET,
    OPT_LIST_FIELDS,
    OPT_HELP_CONFIG,
    OPT_VERSION,
    OPT_KAFKA,
    OPT_CHECK_RULES
};

static const struct option long_opts[] = {
    { "threads", required_argument, NULL, OPT_THREADS },
    { "kafka", required_argument, NULL, OPT_KAFKA },
    { "set", required_argument, NULL, OPT_SET },
    { "list-fields", no_argument, NULL, OPT_LIST_FIELDS },
    { "check-rules", no_argument, NULL, OPT_CHECK_RULES },
    { "help-config", no_argument, NULL, OPT_HELP_CONFIG },
    { "version", no_argument, NULL, OPT_VERSION },
    { "help", no_argument, NULL, 'h' },
    { 0 },
};

/* The configuration file first, so the command line overrides it whatever the order. */
static int find_config(int argc, char **argv, struct run *r, char *errbuf, size_t n)
{
    for (int i = 1; i < argc - 1; i++)
        if (strcmp(argv[i], "-c") == 0)
            r->config_path = argv[i + 1];
    if (r->config_path && tl_config_load(&r->cfg, r->config_path, errbuf, n) < 0)
        return -1;
    return 0;
}

/* Returns 0 to run, 1 to exit successfully (help, version...), -1 on error; *exit_rc set
 * when the command ran and decided the exit status (--check-rules). */
static int parse_args(int argc, char **argv, struct run *r, int *exit_rc, char *errbuf, size_t n)
{
    int c;
    bool check = false;
    char *filter = NULL;
    size_t flen = 0;
    bool kafka_arg = false, w_arg = false;

    if (find_config(argc, argv, r, errbuf, n) < 0)
        return -1;
    while ((c = getopt_long(argc, argv, "+r:i:f:w:c:h", long_opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            r->reads = realloc(r->reads, (size_t)(r->nreads + 1) * sizeof(*r->reads));
            r->reads[r->nreads++] = optarg;
            break;
        case 'i': r->iface = optarg; break;
        case 'f':
            if (tl_config_set(&r->cfg, "capture.filter", optarg, errbuf, n) < 0)
                return -1;
            break;
        case 'w':
            if (tl_config_set(&r->cfg, "output.path", optarg, errbuf, n) < 0)
                return -1;
            w_arg = true;
            break;
        case OPT_KAFKA:
            if (tl_config_set(&r->cfg, "kafka.brokers", optarg, errbuf, n) < 0)
                return -1;
            kafka_arg = true;
            break;
        case 'c': break; /* loaded above */
        case OPT_THREADS:
            if (tl_config_set(&r->cfg, "threads", optarg, errbuf, n) < 0)
                return -1;
            break;
        case OPT_SET:
            if (set_option(&r->cfg, optarg, errbuf, n) < 0)
                return -1;
            break;
        case OPT_LIST_FIELDS: list_fields(); return 1;
        case OPT_CHECK_RULES: check = true; break;
        case OPT_HELP_CONFIG: tl_config_print_help(stdout); return 1;
        case OPT_VERSION: printf("tapline %s\n", TL_VERSION); return 1;
        case 'h': usage(stdout); return 1;
        default:
            usage(stderr);
            snprintf(errbuf, n, "bad command line");
            return -1;
        }
    }
    if (check) {
        char *paths = join_args(argc, argv, optind);
        *exit_rc = check_rules(&r->cfg, paths);
        free(paths);
        return 1;
    }
    if (kafka_arg && !w_arg && tl_config_set(&r->cfg, "output.path", "none", errbuf, n) < 0)
        return -1;
    /* Trailing arguments are a BPF filter, as with tcpdump. */
    for (int i = optind; i < argc; i++) {
        size_t l = strlen(argv[i]);
        filter = realloc(filter, flen + l + 2);
        if (flen)
            filter[flen++] = ' ';
        memcpy(filter + flen, argv[i], l + 1);
        flen += l;
    }
    if (filter) {
        int rc = tl_config_set(&r->cfg, "capture.filter", filter, errbuf, n);
        free(filter);
        if (rc < 0)
            return -1;
    }
    if (!r->nreads && !r->iface) {
        usage(stderr);
        snprintf(errbuf, n, "nothing to read: give -r FILE or -i IFACE");
        return -1;
    }
    if (r->nreads && r->iface) {
        snprintf(errbuf, n, "-r and -i cannot be combined");
        return -1;
    }
    if (r->cfg.threads > TL_MAX_WORKERS) {
        snprintf(errbuf, n, "threads: at most %d", TL_MAX_WORKERS);
        return -1;
    }
    if (!r->cfg.sensor) {
        char host[256] = "tapline";
        gethostname(host, sizeof(host) - 1);
        host[sizeof(host) - 1] = '\0';
        tl_config_set(&r->cfg, "sensor", host, errbuf, n);
    }
    return 0;
}

static uint64_t total_size(char **files, int n)
{
    uint64_t sum = 0;
    for (int i = 0; i < n; i++) {
        struct stat st;
        if (strcmp(files[i], "-") != 0 && stat(files[i], &st) == 0)
            sum += (uint64_t)st.st_size;
    }
    return sum;
}

static void summary(const struct tl_stats *s, unsigned files)
{
    uint64_t bad = 0;
    for (int i = 1; i < TL_DECODE_NERR; i++)
        bad += s->decode_err[i];
    fprintf(stderr,
            "tapline: %u file(s), %llu packets, %llu not decoded, %llu flows, %llu events, "
            "%llu output errors\n",
            files, (unsigned long long)s->v[TL_STAT_PKTS], (unsigned long long)bad,
            (unsigned long long)s->v[TL_STAT_FLOWS_CREATED],
            (unsigned long long)s->v[TL_STAT_EVENTS],
            (unsigned long long)s->v[TL_STAT_OUTPUT_ERRORS]);
}

int main(int argc, char **argv)
{
    char err[512] = "";
    struct run r = { 0 };
    struct tl_output *out = NULL;
    struct tl_source_ctx ctx = { 0 };
    struct tl_stats total;
    char **files = NULL;
    int nfiles = 0, rc = 1, exit_rc = -1;

    tl_config_defaults(&r.cfg);
    int pa = parse_args(argc, argv, &r, &exit_rc, err, sizeof(err));
    if (pa != 0) {
        rc = exit_rc >= 0 ? exit_rc : pa > 0 ? 0 : 2;
        goto done;
    }
    if (r.nreads && (nfiles = tl_source_expand(r.reads, r.nreads, &files, err, sizeof(err))) < 0)
        goto done;
    /* Open every file before any output, so a bad argument fails fast. */
    for (int i = 0; i < nfiles; i++)
        if (strcmp(files[i], "-") != 0 && access(files[i], R_OK) != 0) {
            snprintf(err, sizeof(err), "%s: %s", files[i], strerror(errno));
            goto done;
        }
    if (!(out = tl_output_open(&r.cfg, err, sizeof(err))))
        goto done;
    hup_output = out;
    if (!(r.pipe = tl_pipeline_new(&r.cfg, out, r.iface ? TL_PIPE_LIVE : TL_PIPE_OFFLINE, err,
                                   sizeof(err))))
        goto done;

    struct sigaction sa = { 0 };
    sa.sa_handler = on_signal;
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sa.sa_handler = on_hup;
    sa.sa_flags = SA_RESTART;
    sigaction(SIGHUP, &sa, NULL);
    signal(SIGPIPE, SIG_IGN);

    ctx.cfg = &r.cfg;
    ctx.on_packet = on_packet;
    ctx.on_idle = on_idle;
    ctx.user = &r;
    ctx.stop = &stop_requested;
    ctx.progress = r.cfg.progress && isatty(STDERR_FILENO);
    ctx.total_bytes = total_size(files, nfiles);

    int src_rc = 0;
    if (r.iface) {
        live_ctx = &ctx;
        src_rc = tl_source_live(&ctx, r.iface, err, sizeof(err));
        live_ctx = NULL;
        tl_pipeline_add_capture_stats(r.pipe, ctx.kernel_drops, ctx.iface_drops);
    } else {
        for (int i = 0; i < nfiles && !stop_requested && src_rc == 0; i++)
            src_rc = tl_source_read_file(&ctx, files[i], err, sizeof(err));
    }
    tl_pipeline_finish(r.pipe, &total);
    if (!r.iface)
        summary(&total, ctx.files);
    rc = src_rc < 0 ? 1 : 0;
done:
    if (err[0])
        fprintf(stderr, "tapline: %s\n", err);
    tl_pipeline_free(r.pipe);
    hup_output = NULL;
    tl_output_close(out);
    tl_source_free_list(files, nfiles > 0 ? nfiles : 0);
    free(r.reads);
    tl_config_free(&r.cfg);
    return rc;
}
