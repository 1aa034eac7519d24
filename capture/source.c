/*
 * source.c - libpcap sources.
 *
 * Offline files may be pcap or pcapng. A file cut off mid-record is not an
 * error: every packet before the cut is processed and a warning names the
 * byte offset of the incomplete record.
 */
#include <dirent.h>
#include <errno.h>
#include <pcap/pcap.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "dissect.h"
#include "source.h"

static uint64_t source_wall_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

static int source_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int source_push(char ***files, int *n, int *cap, char *path)
{
    if (!path)
        return -1;
    if (*n == *cap) {
        int ncap = *cap ? *cap * 2 : 16;
        char **nf = realloc(*files, (size_t)ncap * sizeof(*nf));
        if (!nf) {
            free(path);
            return -1;
        }
        *files = nf;
        *cap = ncap;
    }
    (*files)[(*n)++] = path;
    return 0;
}

static int source_expand_dir(const char *dir, char ***files, int *n, int *cap, char *errbuf,
                             size_t en)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int first = *n;

    if (!d) {
        snprintf(errbuf, en, "%s: %s", dir, strerror(errno));
        return -1;
    }
    while ((e = readdir(d))) {
        char *path;
        struct stat st;
        if (e->d_name[0] == '.' || asprintf(&path, "%s/%s", dir, e->d_name) < 0)
            continue;
        if (stat(path, &st) < 0 || !S_ISREG(st.st_mode)) {
            free(path);
            continue;
        }
        if (source_push(files, n, cap, path) < 0) {
            closedir(d);
            snprintf(errbuf, en, "out of memory");
            return -1;
        }
    }
    closedir(d);
    qsort(*files + first, (size_t)(*n - first), sizeof(char *), source_cmp);
    return 0;
}

int tl_source_expand(char **args, int nargs, char ***files, char *errbuf, size_t n)
{
    int count = 0, cap = 0;
    *files = NULL;
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        if (strcmp(args[i], "-") != 0 && stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (source_expand_dir(args[i], files, &count, &cap, errbuf, n) < 0)
                goto fail;
        } else if (source_push(files, &count, &cap, strdup(args[i])) < 0) {
            snprintf(errbuf, n, "out of memory");
            goto fail;
        }
    }
    return count;
fail:
    tl_source_free_list(*files, count);
    *files = NULL;
    return -1;
}

void tl_source_free_list(char **files, int n)
{
    for (int i = 0; i < n; i++)
        free(files[i]);
    free(files);
}

static int source_filter(pcap_t *h, const char *expr, const char *name, char *errbuf, size_t n)
{
    struct bpf_program prog;
    if (!expr || !*expr)
        return 0;
    if (pcap_compile(h, &prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(errbuf, n, "%s: bad filter '%s': %s", name, expr, pcap_geterr(h));
        return -1;
    }
    int rc = pcap_setfilter(h, &prog);
    pcap_freecode(&prog);
    if (rc < 0) {
        snprintf(errbuf, n, "%s: cannot set filter: %s", name, pcap_geterr(h));
        return -1;
    }
    return 0;
}

static int source_check_link(pcap_t *h, const char *name, char *errbuf, size_t n)
{
    int dlt = pcap_datalink(h);
    if (tl_link_supported(dlt))
        return 0;
    const char *dname = pcap_datalink_val_to_name(dlt);
    snprintf(errbuf, n, "%s: unsupported link type %s (%d)", name, dname ? dname : "unknown", dlt);
    return -1;
}

/* Is f a classic pcap (not pcapng)? Reads the magic number and rewinds. */
static bool source_is_classic(FILE *f)
{
    uint8_t m[4];
    bool classic = fread(m, 1, 4, f) == 4 &&
                   ((m[0] == 0xa1 && m[1] == 0xb2) || (m[2] == 0xb2 && m[3] == 0xa1));
    rewind(f);
    return classic;
}

static void source_progress(struct tl_source_ctx *ctx, uint64_t file_pos, uint64_t pkts,
                            uint64_t start_us, bool last)
{
    uint64_t now = source_wall_us(), done = ctx->done_bytes + file_pos;
    double secs = (double)(now - start_us) / 1e6;
    fprintf(stderr, "\r%.1f of %.1f MB (%3.0f%%), %llu packets, %.0f packets/s%s",
            (double)done / 1e6, (double)ctx->total_bytes / 1e6,
            ctx->total_bytes ? 100.0 * (double)done / (double)ctx->total_bytes : 0.0,
            (unsigned long long)pkts, secs > 0 ? (double)pkts / secs : 0.0, last ? "\n" : "");
}

int tl_source_read_file(struct tl_source_ctx *ctx, const char *path, char *errbuf, size_t n)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    bool is_stdin = strcmp(path, "-") == 0;
    const char *name = is_stdin ? "stdin" : path;
    pcap_t *h;

    FILE *in = is_stdin ? stdin : fopen(path, "rb");
    if (!in) {
        snprintf(errbuf, n, "%s: %s", name, strerror(errno));
        return -1;
    }
    /* Where the next record starts is known for classic pcap without asking
     * the stream (an ftell per packet is a system call); pcapng blocks vary. */
    bool classic = !is_stdin && source_is_classic(in);
    h = pcap_fopen_offline_with_tstamp_precision(in, PCAP_TSTAMP_PRECISION_MICRO, perr);
    if (!h) {
        if (!is_stdin)
            fclose(in);
        /* libpcap says "unknown file format" for a file that is not a capture. */
        snprintf(errbuf, n, "%s: %s", name,
                 strstr(perr, "unknown file format") ? "not a pcap or pcapng capture file" : perr);
        return -1;
    }
    if (source_check_link(h, name, errbuf, n) < 0 ||
        source_filter(h, ctx->cfg->filter, name, errbuf, n) < 0) {
        pcap_close(h);
        return -1;
    }
    int dlt = pcap_datalink(h);
    FILE *f = pcap_file(h);
    struct pcap_pkthdr *hdr;
    const u_char *data;
    uint64_t pkts = 0, start = source_wall_us(), next_progress = start;
    uint64_t pos = 24; /* classic pcap: offset of the next record */
    int rc = 0;

    while (!*ctx->stop && (rc = pcap_next_ex(h, &hdr, &data)) >= 0) {
        uint64_t ts = (uint64_t)hdr->ts.tv_sec * 1000000u + (uint64_t)hdr->ts.tv_usec;
        ctx->on_packet(ctx->user, dlt, ts, data, hdr->caplen, hdr->len);
        pkts++;
        if (ctx->progress && (pkts & 4095) == 0 && source_wall_us() >= next_progress) {
            source_progress(ctx, f ? (uint64_t)ftell(f) : 0, pkts, start, false);
            next_progress = source_wall_us() + 500000;
        }
        pos += 16 + (uint64_t)hdr->caplen;
    }
    int result = 0;
    if (!*ctx->stop && rc == PCAP_ERROR) {
        /* A record cut short by the end of the file: keep what came before it. Any
         * other read error is an error, after the packets before it were processed. */
        const char *why = pcap_geterr(h);
        char where[64];
        if (classic)
            snprintf(where, sizeof(where), "in the record at byte %llu", (unsigned long long)pos);
        else
            snprintf(where, sizeof(where), "after packet %llu", (unsigned long long)pkts);
        if (strstr(why, "truncated")) {
            fprintf(stderr, "tapline: warning: %s: capture cut off %s\n", name, where);
        } else {
            snprintf(errbuf, n, "%s: cannot read %s: %s", name, where, why);
            result = -1;
        }
    }
    if (ctx->progress)
        source_progress(ctx, f ? (uint64_t)ftell(f) : 0, pkts, start, true);
    if (f && !is_stdin)
        ctx->done_bytes += (uint64_t)ftell(f);
    ctx->files++;
    pcap_close(h);
    return result;
}

static void source_live_cb(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data)
{
    struct tl_source_ctx *ctx = (struct tl_source_ctx *)(void *)user;
    uint64_t ts = (uint64_t)hdr->ts.tv_sec * 1000000u + (uint64_t)hdr->ts.tv_usec;
    ctx->on_packet(ctx->user, pcap_datalink(ctx->live_handle), ts, data, hdr->caplen, hdr->len);
}

static int source_activate_error(pcap_t *h, int rc, const char *iface, char *errbuf, size_t n)
{
    switch (rc) {
    case PCAP_ERROR_NO_SUCH_DEVICE: snprintf(errbuf, n, "%s: no such interface", iface); break;
    case PCAP_ERROR_PERM_DENIED:
        snprintf(errbuf, n, "%s: permission denied (run as root or grant CAP_NET_RAW)", iface);
        break;
    case PCAP_ERROR_IFACE_NOT_UP: snprintf(errbuf, n, "%s: interface is down", iface); break;
    default: snprintf(errbuf, n, "%s: cannot capture: %s", iface, pcap_geterr(h));
    }
    return -1;
}

int tl_source_live(struct tl_source_ctx *ctx, const char *iface, char *errbuf, size_t n)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *h = pcap_create(iface, perr);
    int rc = 0;

    if (!h) {
        snprintf(errbuf, n, "%s: %s", iface, perr);
        return -1;
    }
    pcap_set_snaplen(h, (int)ctx->cfg->snaplen);
    pcap_set_promisc(h, ctx->cfg->promisc);
    pcap_set_buffer_size(h, (int)(ctx->cfg->buffer_mb << 20));
    pcap_set_timeout(h, 100);
    rc = pcap_activate(h);
    if (rc < 0) {
        source_activate_error(h, rc, iface, errbuf, n);
        pcap_close(h);
        return -1;
    }
    if (source_check_link(h, iface, errbuf, n) < 0 ||
        source_filter(h, ctx->cfg->filter, iface, errbuf, n) < 0) {
        pcap_close(h);
        return -1;
    }
    ctx->live_handle = h;
    uint64_t next_idle = source_wall_us();
    while (!*ctx->stop) {
        rc = pcap_dispatch(h, 256, source_live_cb, (u_char *)ctx);
        if (rc < 0 && rc != PCAP_ERROR_BREAK) {
            snprintf(errbuf, n, "%s: capture failed: %s", iface, pcap_geterr(h));
            break;
        }
        uint64_t now = source_wall_us();
        if (rc == 0 || now >= next_idle) {
            ctx->on_idle(ctx->user, now);
            next_idle = now + 1000000;
        }
    }
    struct pcap_stat ps;
    if (pcap_stats(h, &ps) == 0) {
        ctx->kernel_drops += ps.ps_drop;
        ctx->iface_drops += ps.ps_ifdrop;
    }
    ctx->live_handle = NULL;
    pcap_close(h);
    return rc < 0 && rc != PCAP_ERROR_BREAK ? -1 : 0;
}

void tl_source_break(struct tl_source_ctx *ctx)
{
    if (ctx->live_handle)
        pcap_breakloop(ctx->live_handle);
}
