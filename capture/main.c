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
#define PCRE2_CODE_UNIT_WIDTH 8
#include <grp.h>
#include <hiredis/hiredis.h>
#include <libpsl.h>
#include <librdkafka/rdkafka.h>
#include <ndpi/ndpi_api.h>
#include <pcap/pcap.h>
#include <pcre2.h>
#include <pwd.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>
#include <yaml.h>
#include <zstd.h>

#include "afpacket.h"
#include "config.h"
#include "dissect.h"
#include "event.h"
#include "flow.h"
#include "identity.h"
#include "log.h"
#include "pipeline.h"
#include "rules.h"
#include "schemadoc.h"
#include "source.h"
#include "stats.h"
#include "summary.h"

#include "version.h" /* TL_COMMIT, written by the Makefile */

static volatile sig_atomic_t stop_requested, reload_requested;
static struct tl_source_ctx *live_ctx;
static struct tl_output *hup_output;

/* SIGHUP: the output thread reopens the output file (logrotate); this only sets its flag. */
static void on_hup(int sig)
{
    (void)sig;
    tl_output_hup(hup_output);
    reload_requested = 1;
}

/* SIGHUP also reloads the rules, on the capture thread between two packets. */
static void reload_rules(struct tl_pipeline *p)
{
    char err[512];
    reload_requested = 0;
    if (tl_pipeline_reload_rules(p, err, sizeof(err)) < 0)
        fprintf(stderr, "tapline: %s\n", err);
    else
        fprintf(stderr, "tapline: rules reloaded\n");
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
            "  -r FILE        read a pcap/pcapng file; a directory, the captures below it in\n"
            "                 path order (other files skipped with a warning); - reads stdin\n"
            "                 (repeatable)\n"
            "  -i IFACE       capture live from an interface (repeatable)\n"
            "  --user NAME    live: once open, run as NAME with no capabilities\n"
            "  -f EXPR        BPF filter (or give it as trailing arguments, like tcpdump)\n"
            "  -w PATH        write JSON lines to PATH (- for stdout, the default)\n"
            "  --kafka HOSTS  send events to Kafka (kafka.brokers); without -w, only to Kafka\n"
            "  --summary FILE -r: the run summary to FILE (- stdout); by default on stderr\n"
            "                 when it is a terminal\n"
            "  --report FILE  -r: the run as one self-contained HTML page with charts\n"
            "  --events FILE  read tapline's JSON lines (- stdin) instead of packets, for\n"
            "                 --summary (default: stdout) and --report\n"
            "  -c FILE        YAML configuration file\n"
            "  --threads N    worker threads (default: one per core less one)\n"
            "  --set KEY=VAL  set any configuration option (see --help-config)\n"
            "  --list-fields [TYPE] [--json]  print every event type's fields (or TYPE's);\n"
            "                 --json: as a JSON Schema\n"
            "  --data-sheet   every field as markdown: its use, whether it is personal data,\n"
            "                 how to pseudonymise or drop it\n"
            "  --check-rules [PATH...]  load Sigma rules (default: rules.paths), print each\n"
            "                 file's verdict; exit 1 if any is rejected\n"
            "  --help-config  print every configuration option\n"
            "  -T, --check-config  check the configuration (-c, --set, rules) and exit\n"
            "  --version      print the version\n");
}

/* --list-fields [TYPE] [--json]: the arguments after it name the type and the form (getopt
 * stops at the first non-option, so --json may come after TYPE). 0, or 2 for a bad argument. */
static int list_fields(int argc, char **argv, int from, bool json)
{
    const struct tl_event_type *types[TL_MAX_EVENT_TYPES];
    size_t ntypes = tl_event_types(types, TL_ARRAY_LEN(types));
    const char *only = NULL;
    char err[512];

    for (int i = from; i < argc; i++) {
        if (strcmp(argv[i], "--json") == 0) {
            json = true;
        } else if (!only && argv[i][0] != '-') {
            only = argv[i];
        } else {
            fprintf(stderr, "tapline: --list-fields [TYPE] [--json]: unexpected '%s'\n", argv[i]);
            return 2;
        }
    }
    int rc = json ? tl_schemadoc_json(stdout, types, ntypes, only, err, sizeof(err))
                  : tl_schemadoc_text(stdout, types, ntypes, only, err, sizeof(err));
    if (rc < 0) {
        fprintf(stderr, "tapline: --list-fields: %s\n", err);
        return 2;
    }
    return 0;
}

/* --data-sheet: every field as markdown, with the pseudonyms this configuration makes. */
static void data_sheet(const struct tl_config *cfg)
{
    const struct tl_event_type *types[TL_MAX_EVENT_TYPES];
    size_t ntypes = tl_event_types(types, TL_ARRAY_LEN(types));
    tl_schemadoc_sheet(stdout, types, ntypes, cfg->pseudonymise);
}

/* An event-type list (output.types, kafka.types) names only types tapline writes. */
static int check_types(const char *key, const char *list, char *errbuf, size_t n)
{
    const struct tl_event_type *types[TL_MAX_EVENT_TYPES];
    size_t ntypes = tl_event_types(types, TL_ARRAY_LEN(types));
    for (const char *p = list; p && *p;) {
        size_t len = strcspn(p, ", "), i = 0;
        while (len && i < ntypes &&
               !(strlen(types[i]->name) == len && !memcmp(types[i]->name, p, len)))
            i++;
        if (len && i == ntypes) {
            size_t used = (size_t)snprintf(errbuf, n, "%s: unknown event type '%.*s' (known:", key,
                                           (int)len, p);
            for (i = 0; i < ntypes && used < n; i++)
                used += (size_t)snprintf(errbuf + used, n - used, " %s", types[i]->name);
            if (used < n)
                snprintf(errbuf + used, n - used, ")");
            return -1;
        }
        p += len;
        p += strspn(p, ", ");
    }
    return 0;
}

/* What --version says: the build, and the libraries it runs with. */
static void print_version(void)
{
    unsigned pcre_len = (unsigned)pcre2_config(PCRE2_CONFIG_VERSION, NULL);
    char pcre[32] = "?";
    if (pcre_len && pcre_len <= sizeof(pcre))
        pcre2_config(PCRE2_CONFIG_VERSION, pcre);
    printf("tapline %s (%s)\n", TL_VERSION, TL_COMMIT);
    printf("  nDPI %s, %s, librdkafka %s, zstd %s, hiredis %d.%d.%d, libpsl %s, libyaml %s, "
           "PCRE2 %s\n",
           ndpi_revision(), pcap_lib_version(), rd_kafka_version_str(), ZSTD_versionString(),
           HIREDIS_MAJOR, HIREDIS_MINOR, HIREDIS_PATCH, psl_get_version(),
           yaml_get_version_string(), pcre);
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
    const struct tl_event_type *types[TL_MAX_EVENT_TYPES];
    struct tl_rules_env env = { .types = types,
                                .placeholders = cfg->placeholders,
                                .max_state = cfg->max_rule_state,
                                .max_alert_uids = cfg->max_alert_uids };
    struct tl_rules_summary sum;
    char err[512];

    env.ntypes = tl_event_types(types, TL_ARRAY_LEN(types));
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
    const char *config_path;
    const char *summary_path, *report_path, *events_path;
    bool check_config;
    struct tl_pipeline *pipe;
    struct tl_source_ctx *src;
    struct tl_pipe_source sockets; /* afpacket: what the workers read */
    uint64_t next_stats_us, next_capture_us;
    bool listening; /* live: every interface opened */
};

/* Live: the capture's counters, per interface, for the next stats event and the metrics. */
static void capture_stats(struct run *r)
{
    struct tl_source_ctx *ctx = r->src;
    struct tl_iface_counters c[TL_MAX_IFACES];
    int n = ctx->nifaces < TL_MAX_IFACES ? ctx->nifaces : TL_MAX_IFACES;

    tl_source_live_stats(ctx);
    for (int i = 0; i < n; i++) {
        const struct tl_live_iface *li = &ctx->ifaces[i];
        snprintf(c[i].name, sizeof(c[i].name), "%s", li->name);
        c[i].packets = li->packets;
        c[i].kernel_drops = li->kernel_drops;
        c[i].iface_drops = li->iface_drops;
        c[i].downs = li->downs;
        c[i].freezes = li->freezes;
        c[i].ring_errors = li->ring_errors;
    }
    tl_pipeline_set_capture_stats(r->pipe, c, n);
    if (ctx->afp) {
        uint64_t drops[TL_MAX_WORKERS];
        unsigned nw = tl_pipeline_workers(r->pipe);
        for (unsigned w = 0; w < nw && w < TL_MAX_WORKERS; w++) {
            struct tl_afp_counters wc;
            tl_afp_worker_counters(ctx->afp, w, &wc);
            drops[w] = wc.drops;
        }
        tl_pipeline_set_worker_drops(r->pipe, drops, nw);
    }
}

/* Live, afpacket: the sockets are open; the workers start reading them. */
static int start_workers(void *user, struct tl_afp *afp, char *errbuf, size_t n)
{
    struct run *r = user;
    tl_afp_source(afp, &r->sockets);
    return tl_pipeline_start_source(r->pipe, &r->sockets, errbuf, n);
}

/* The interfaces of a live capture, "lo, eth1". */
static void iface_names(const struct tl_source_ctx *ctx, char *out, size_t n)
{
    size_t used = 0;
    out[0] = '\0';
    for (int i = 0; i < ctx->nifaces && used < n; i++)
        used += (size_t)snprintf(out + used, n - used, "%s%s", i ? ", " : "", ctx->ifaces[i].name);
}

static int drop_privileges(void *user, char *errbuf, size_t n);

/* Live, every interface open: says so, then gives up root when asked. */
static int live_opened(void *user, char *errbuf, size_t n)
{
    struct run *r = user;
    char names[256];
    iface_names(r->src, names, sizeof(names));
    r->listening = true;
    tl_log(TL_LOG_INFO, "listening on %s; %u worker(s); events to %s%s%s", names,
           tl_pipeline_workers(r->pipe), r->cfg.output ? r->cfg.output : "-",
           r->cfg.kafka_brokers ? " and Kafka " : "",
           r->cfg.kafka_brokers ? r->cfg.kafka_brokers : "");
    return drop_privileges(user, errbuf, n);
}

/*
 * Live, once every interface and output is open: capture.user gives up root
 * for good. setuid() from root to another user clears every capability.
 */
static int drop_privileges(void *user, char *errbuf, size_t n)
{
    struct run *r = user;
    const char *name = r->cfg.user;
    if (!name || !*name)
        return 0;
    struct passwd *pw = getpwnam(name);
    if (!pw) {
        snprintf(errbuf, n, "capture.user: no such user '%s'", name);
        return -1;
    }
    if (setgroups(1, &pw->pw_gid) < 0 || setgid(pw->pw_gid) < 0 || setuid(pw->pw_uid) < 0) {
        snprintf(errbuf, n, "capture.user: cannot become '%s': %s", name, strerror(errno));
        return -1;
    }
    if (pw->pw_uid != 0 && setuid(0) == 0) {
        snprintf(errbuf, n, "capture.user: could become root again after dropping to '%s'", name);
        return -1;
    }
    return 0;
}

static void on_packet(void *user, int linktype, uint64_t ts_us, const uint8_t *pkt, uint32_t caplen,
                      uint32_t wirelen, uint64_t mark)
{
    struct run *r = user;
    if (reload_requested)
        reload_rules(r->pipe);
    tl_pipeline_packet_pinned(r->pipe, linktype, ts_us, pkt, caplen, wirelen, mark);
}

static uint64_t pinned_from(void *user)
{
    struct run *r = user;
    return tl_pipeline_pinned_from(r->pipe);
}

static void unpin(void *user, uint64_t below)
{
    struct run *r = user;
    tl_pipeline_unpin(r->pipe, below);
}

/* UTC now, in microseconds: the clock live packets are stamped with. */
static uint64_t utc_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Live, with each stats event: a line for the journal, totals since the start. */
static void live_progress(struct run *r)
{
    uint64_t drops = 0;
    for (int i = 0; i < r->src->nifaces; i++)
        drops += r->src->ifaces[i].kernel_drops + r->src->ifaces[i].iface_drops;
    tl_log(TL_LOG_INFO, "%llu packets (%llu dropped), %llu flows, %llu events so far",
           (unsigned long long)tl_pipeline_packets(r->pipe), (unsigned long long)drops,
           (unsigned long long)tl_pipeline_flows(r->pipe),
           (unsigned long long)tl_pipeline_events(r->pipe));
}

/* Live, at least every 100 ms: packet time follows the clock even on a quiet link. */
static void on_idle(void *user, uint64_t wall_us)
{
    struct run *r = user;
    uint64_t utc = utc_now_us();
    if (reload_requested)
        reload_rules(r->pipe);
    if (wall_us >= r->next_capture_us) { /* the interfaces' counters, once a second */
        capture_stats(r);
        r->next_capture_us = wall_us + 1000000;
    }
    /* behind a backlog, packet time stays the packets': the wall clock would end flows and
     * requests whose packets still wait in the kernel's buffer */
    tl_pipeline_idle(r->pipe, r->src->behind ? 0 : utc);
    if (r->cfg.stats_interval && wall_us >= r->next_stats_us) {
        if (r->next_stats_us) {
            tl_pipeline_stats_event(r->pipe, utc);
            live_progress(r);
        }
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
    OPT_USER,
    OPT_CHECK_RULES,
    OPT_JSON,
    OPT_DATA_SHEET,
    OPT_SUMMARY,
    OPT_REPORT,
    OPT_EVENTS,
};

static const struct option long_opts[] = {
    { "threads", required_argument, NULL, OPT_THREADS },
    { "kafka", required_argument, NULL, OPT_KAFKA },
    { "user", required_argument, NULL, OPT_USER },
    { "check-config", no_argument, NULL, 'T' },
    { "set", required_argument, NULL, OPT_SET },
    { "list-fields", no_argument, NULL, OPT_LIST_FIELDS },
    { "json", no_argument, NULL, OPT_JSON },
    { "data-sheet", no_argument, NULL, OPT_DATA_SHEET },
    { "summary", required_argument, NULL, OPT_SUMMARY },
    { "report", required_argument, NULL, OPT_REPORT },
    { "events", required_argument, NULL, OPT_EVENTS },
    { "check-rules", no_argument, NULL, OPT_CHECK_RULES },
    { "help-config", no_argument, NULL, OPT_HELP_CONFIG },
    { "version", no_argument, NULL, OPT_VERSION },
    { "help", no_argument, NULL, 'h' },
    { 0 },
};

/* -i NAME, repeatable: the first replaces capture.interfaces from the file, the others add. */
static int add_interface(struct tl_config *cfg, const char *name, char *errbuf, size_t n)
{
    static bool seen;
    char *list = NULL;
    if (asprintf(&list, "%s%s%s", seen && cfg->interfaces ? cfg->interfaces : "",
                 seen && cfg->interfaces ? "," : "", name) < 0) {
        snprintf(errbuf, n, "out of memory");
        return -1;
    }
    seen = true;
    int rc = tl_config_set(cfg, "capture.interfaces", list, errbuf, n);
    free(list);
    return rc;
}

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
    bool check = false, fields = false, json = false, sheet = false;
    char *filter = NULL;
    size_t flen = 0;
    bool kafka_arg = false, w_arg = false;

    if (find_config(argc, argv, r, errbuf, n) < 0)
        return -1;
    while ((c = getopt_long(argc, argv, "+r:i:f:w:c:hT", long_opts, NULL)) != -1) {
        switch (c) {
        case 'r':
            r->reads = realloc(r->reads, (size_t)(r->nreads + 1) * sizeof(*r->reads));
            r->reads[r->nreads++] = optarg;
            break;
        case 'i':
            if (add_interface(&r->cfg, optarg, errbuf, n) < 0)
                return -1;
            break;
        case OPT_USER:
            if (tl_config_set(&r->cfg, "capture.user", optarg, errbuf, n) < 0)
                return -1;
            break;
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
        case OPT_LIST_FIELDS: fields = true; break;
        case OPT_JSON: json = true; break;
        case OPT_SUMMARY: r->summary_path = optarg; break;
        case OPT_REPORT: r->report_path = optarg; break;
        case OPT_EVENTS: r->events_path = optarg; break;
        case OPT_DATA_SHEET: sheet = true; break;
        case OPT_CHECK_RULES: check = true; break;
        case OPT_HELP_CONFIG: tl_config_print_help(stdout); return 1;
        case OPT_VERSION: print_version(); return 1;
        case 'T': r->check_config = true; break;
        case 'h': usage(stdout); return 1;
        default:
            usage(stderr);
            snprintf(errbuf, n, "bad command line");
            return -1;
        }
    }
    if (fields) {
        *exit_rc = list_fields(argc, argv, optind, json);
        return 1;
    }
    if (sheet) {
        data_sheet(&r->cfg);
        return 1;
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
    int level = tl_log_parse_level(r->cfg.log_level);
    if (level < 0) {
        snprintf(errbuf, n, "log.level: '%s' is not error, warning, info or debug",
                 r->cfg.log_level ? r->cfg.log_level : "");
        return -1;
    }
    tl_log_set_level((enum tl_log_level)level);
    if (check_types("output.types", r->cfg.output_types, errbuf, n) < 0 ||
        check_types("kafka.types", r->cfg.kafka_types, errbuf, n) < 0)
        return -1;
    if (r->check_config)
        return 0;
    bool live = r->cfg.interfaces && *r->cfg.interfaces;
    if (r->events_path && (r->nreads || live)) {
        snprintf(errbuf, n, "--events reads events, not packets: no -r or -i with it");
        return -1;
    }
    if (r->events_path)
        return 0;
    if (!r->nreads && !live) {
        usage(stderr);
        snprintf(errbuf, n, "nothing to read: give -r FILE or -i IFACE");
        return -1;
    }
    if (r->nreads && live) {
        snprintf(errbuf, n, "-r and -i cannot be combined");
        return -1;
    }
    if (live && (r->summary_path || r->report_path)) {
        snprintf(errbuf, n, "--summary and --report are for runs that read files (-r)");
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

static uint64_t total_size(const struct tl_inputs *in)
{
    uint64_t sum = 0;
    for (int i = 0; i < in->n; i++) {
        struct stat st;
        if (strcmp(in->path[i], "-") != 0 && stat(in->path[i], &st) == 0)
            sum += (uint64_t)st.st_size;
    }
    return sum;
}

/*
 * Reads every file; a bad one is reported and the next one read. A file found
 * in a folder that is not a capture (a README) is skipped with a warning.
 * Returns the number of files that failed.
 */
static unsigned read_files(struct tl_source_ctx *ctx, const struct tl_inputs *in,
                           unsigned *not_captures)
{
    unsigned failed = 0;
    for (int i = 0; i < in->n && !stop_requested; i++) {
        char err[512] = "";
        int rc = tl_source_read_file(ctx, in->path[i], err, sizeof(err));
        if (rc == TL_SOURCE_NOT_CAPTURE && in->from_dir[i]) {
            fprintf(stderr, "tapline: warning: %s, skipped\n", err);
            (*not_captures)++;
        } else if (rc < 0) {
            fprintf(stderr, "tapline: %s\n", err);
            failed++;
        }
    }
    return failed;
}

/* The last line of a run: what was read (files, or interfaces and their drops), what came of it. */
static void summary(const struct tl_stats *s, const struct tl_source_ctx *ctx, bool live,
                    unsigned failed, unsigned skipped)
{
    char from[512];
    uint64_t bad = 0;
    for (int i = 1; i < TL_DECODE_NERR; i++)
        bad += s->decode_err[i];
    if (live) {
        char names[256];
        iface_names(ctx, names, sizeof(names));
        snprintf(from, sizeof(from),
                 "%s: %llu packets (%llu dropped by the kernel, %llu by the "
                 "interface)",
                 names, (unsigned long long)s->v[TL_STAT_PKTS],
                 (unsigned long long)s->v[TL_STAT_KERNEL_DROPS],
                 (unsigned long long)s->v[TL_STAT_IFACE_DROPS]);
    } else {
        snprintf(from, sizeof(from), "%u file(s), %llu packets", ctx->files,
                 (unsigned long long)s->v[TL_STAT_PKTS]);
    }
    fprintf(stderr, "tapline: %s, %llu not decoded, %llu flows, %llu events, %llu output errors\n",
            from, (unsigned long long)bad, (unsigned long long)s->v[TL_STAT_FLOWS_CREATED],
            (unsigned long long)s->v[TL_STAT_EVENTS],
            (unsigned long long)s->v[TL_STAT_OUTPUT_ERRORS]);
    if (failed || skipped)
        fprintf(stderr, "tapline: %u file(s) could not be read, %u not captures skipped\n", failed,
                skipped);
}

/* Run summaries: the sink, and the files it goes to (opened before the run, so a path that
 * cannot be written fails fast). */
struct run_summary {
    struct tl_summary *sum;
    FILE *text, *html; /* text NULL: stderr when it is a terminal */
};

static FILE *summary_file(const char *path, char *errbuf, size_t n)
{
    FILE *f = strcmp(path, "-") == 0 ? stdout : fopen(path, "w");
    if (!f)
        snprintf(errbuf, n, "%s: %s", path, strerror(errno));
    return f;
}

/* Offline, with --summary, --report or a terminal on stderr; 0 also when there is none. */
static int summary_open(const struct run *r, struct run_summary *rs, char *errbuf, size_t n)
{
    if (!r->events_path &&
        (!r->nreads || (!r->summary_path && !r->report_path && !isatty(STDERR_FILENO))))
        return 0;
    if ((r->summary_path && !(rs->text = summary_file(r->summary_path, errbuf, n))) ||
        (r->report_path && !(rs->html = summary_file(r->report_path, errbuf, n))))
        return -1;
    if (!(rs->sum = tl_summary_new(r->cfg.max_summary))) {
        snprintf(errbuf, n, "summary: out of memory");
        return -1;
    }
    return 0;
}

static int summary_close(FILE *f, const char *path)
{
    int rc = ferror(f) ? -1 : 0;
    if ((f == stdout ? fflush(f) : fclose(f)) != 0 || rc < 0) {
        fprintf(stderr, "tapline: %s: %s\n", path, strerror(errno ? errno : EIO));
        return -1;
    }
    return 0;
}

/* The summary (and report) once the run is over; -1 when a file could not be written. */
static int summary_write(const struct run *r, struct run_summary *rs)
{
    int rc = 0;
    if (!rs->sum)
        return 0;
    if (rs->text) {
        tl_summary_text(rs->sum, rs->text);
        rc |= summary_close(rs->text, r->summary_path);
        rs->text = NULL;
    } else if (r->events_path && !r->report_path) {
        tl_summary_text(rs->sum, stdout);
    } else if (!r->events_path && isatty(STDERR_FILENO)) {
        tl_summary_text(rs->sum, stderr);
    }
    if (rs->html) {
        char *title = r->events_path ? strdup(r->events_path) : join_args(r->nreads, r->reads, 0);
        if (tl_summary_html(rs->sum, rs->html, title ? title : "") < 0)
            rc = -1;
        free(title);
        rc |= summary_close(rs->html, r->report_path);
        rs->html = NULL;
    }
    return rc;
}

/*
 * --events: every line of a file of events to the summary, read in blocks. A line longer
 * than the buffer (tapline writes none) is skipped and counted as not one event; bytes
 * are bytes (a NUL inside a line makes it no event, not two). -1 with errbuf set.
 */
static int summary_events(const char *path, struct tl_summary *sum, char *errbuf, size_t n)
{
    enum { EVENTS_BUF = 1 << 20 };
    FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "r");
    char *buf = malloc(EVENTS_BUF);
    size_t have = 0, got;
    bool skipping = false; /* in a line longer than the buffer */
    int rc = 0;

    if (!f || !buf) {
        snprintf(errbuf, n, "%s: %s", path, f ? "out of memory" : strerror(errno));
        rc = -1;
        goto done;
    }
    do {
        got = fread(buf + have, 1, EVENTS_BUF - have, f);
        have += got;
        size_t start = 0;
        for (char *nl; (nl = memchr(buf + start, '\n', have - start));
             start = (size_t)(nl - buf) + 1) {
            if (!skipping)
                tl_summary_line(sum, buf + start, (size_t)(nl - buf) - start);
            skipping = false;
        }
        memmove(buf, buf + start, have - start);
        have -= start;
        if (have == EVENTS_BUF) {
            if (!skipping)
                tl_summary_line(sum, "", 0);
            skipping = true;
            have = 0;
        }
    } while (got);
    if (have && !skipping)
        tl_summary_line(sum, buf, have); /* the last line, without its newline */
    if (ferror(f)) {
        snprintf(errbuf, n, "%s: %s", path, strerror(errno));
        rc = -1;
    }
done:
    if (f && f != stdin)
        fclose(f);
    free(buf);
    return rc;
}

static void summary_free(struct run_summary *rs)
{
    if (rs->text && rs->text != stdout)
        fclose(rs->text);
    if (rs->html && rs->html != stdout)
        fclose(rs->html);
    tl_summary_free(rs->sum);
}

int main(int argc, char **argv)
{
    char err[512] = "";
    struct run r = { 0 };
    struct tl_output *out = NULL;
    struct tl_source_ctx ctx = { 0 };
    struct tl_stats total;
    struct tl_inputs files = { 0 };
    struct run_summary rs = { 0 };
    unsigned failed = 0, not_captures = 0;
    int rc = 1, exit_rc = -1;

    tl_config_defaults(&r.cfg);
    int pa = parse_args(argc, argv, &r, &exit_rc, err, sizeof(err));
    if (pa != 0) {
        rc = exit_rc >= 0 ? exit_rc : pa > 0 ? 0 : 2;
        goto done;
    }
    if (r.check_config) { /* every part built once, without threads, inputs or outputs */
        if (!(r.pipe = tl_pipeline_new(&r.cfg, NULL, TL_PIPE_INLINE, err, sizeof(err)))) {
            rc = 2;
            goto done;
        }
        fprintf(stderr, "tapline: configuration OK\n");
        rc = 0;
        goto done;
    }
    if (r.events_path) {
        rc = summary_open(&r, &rs, err, sizeof(err)) < 0 ||
                     summary_events(r.events_path, rs.sum, err, sizeof(err)) < 0 ||
                     summary_write(&r, &rs) < 0
                 ? 1
                 : 0;
        goto done;
    }
    if (r.nreads && tl_source_expand(r.reads, r.nreads, &files, err, sizeof(err)) < 0)
        goto done;
    /* Check every named file before any output, so a mistyped argument fails fast. */
    for (int i = 0; i < files.n; i++)
        if (strcmp(files.path[i], "-") != 0 && access(files.path[i], R_OK) != 0) {
            snprintf(err, sizeof(err), "%s: %s", files.path[i], strerror(errno));
            goto done;
        }
    if (summary_open(&r, &rs, err, sizeof(err)) < 0 ||
        !(out = tl_output_open(&r.cfg, err, sizeof(err))))
        goto done;
    tl_output_summary(out, rs.sum);
    hup_output = out;
    bool live = !r.nreads;
    int afp = live ? tl_source_use_afpacket(&r.cfg, r.cfg.interfaces, err, sizeof(err)) : 0;
    if (afp < 0)
        goto done;
    enum tl_pipe_mode mode = afp ? TL_PIPE_SOCKETS : live ? TL_PIPE_LIVE : TL_PIPE_OFFLINE;
    if (!(r.pipe = tl_pipeline_new(&r.cfg, out, mode, err, sizeof(err))))
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
    ctx.pinned_from = pinned_from;
    ctx.unpin = unpin;
    ctx.on_idle = on_idle;
    ctx.on_opened = live_opened;
    ctx.on_sockets = start_workers;
    ctx.nworkers = tl_pipeline_workers(r.pipe);
    ctx.user = &r;
    r.src = &ctx;
    ctx.stop = &stop_requested;
    ctx.progress = r.cfg.progress && isatty(STDERR_FILENO);
    ctx.total_bytes = total_size(&files);

    int src_rc = 0;
    if (live) {
        live_ctx = &ctx;
        src_rc = afp ? tl_source_afpacket(&ctx, r.cfg.interfaces, err, sizeof(err))
                     : tl_source_live(&ctx, r.cfg.interfaces, err, sizeof(err));
        if (src_rc == 0 && ctx.behind)
            tl_log(TL_LOG_WARNING, "stopped with packets still in the kernel's buffer: the worker "
                                   "was behind, and they were read for 5 s after the stop");
        live_ctx = NULL;
        tl_pipeline_stop_source(r.pipe); /* afpacket: the workers' counters are final */
        capture_stats(&r);
    } else {
        failed = read_files(&ctx, &files, &not_captures);
    }
    tl_pipeline_finish(r.pipe, &total);
    if (!live || r.listening) /* an interface that would not open: its error says it all */
        summary(&total, &ctx, live, failed, not_captures);
    rc = summary_write(&r, &rs) < 0 || src_rc < 0 || failed ? 1 : 0;
done:
    if (err[0])
        fprintf(stderr, "tapline: %s\n", err);
    tl_pipeline_free(r.pipe);
    hup_output = NULL;
    tl_output_close(out);
    summary_free(&rs);
    tl_source_free_inputs(&files);
    tl_source_free_filters(&ctx);
    tl_source_live_close(&ctx);
    free(r.reads);
    tl_config_free(&r.cfg);
    return rc;
}
