/*
 * source.c - libpcap sources.
 *
 * Offline files may be pcap or pcapng. A file cut off mid-record is not an
 * error: every packet before the cut is processed and a warning names the
 * byte offset of the incomplete record.
 */
#include <dirent.h>
#include <errno.h>
#include <net/if.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "afpacket.h"
#include "dissect.h"
#include "pcapfile.h"
#include "source.h"

enum {
    LIVE_BURST = 256,              /* packets of an interface per read */
    LIVE_LAST_MAX_US = 5 * 1000000 /* stopped: how long a backlog is read on */
};

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

/* Appends path (taken) to the list; -1 when out of memory (path freed). */
static int source_push(struct tl_inputs *in, char *path, bool from_dir)
{
    if (!path)
        return -1;
    if (in->n == in->cap) {
        int ncap = in->cap ? in->cap * 2 : 16;
        char **np = realloc(in->path, (size_t)ncap * sizeof(*np));
        bool *nd = np ? realloc(in->from_dir, (size_t)ncap * sizeof(*nd)) : NULL;
        if (np)
            in->path = np;
        if (!nd) {
            free(path);
            return -1;
        }
        in->from_dir = nd;
        in->cap = ncap;
    }
    in->path[in->n] = path;
    in->from_dir[in->n++] = from_dir;
    return 0;
}

/* Adds the regular files under dir and its subfolders (hidden ones skipped), unsorted. */
static int source_walk_dir(const char *dir, struct tl_inputs *in, int depth, char *errbuf,
                           size_t en)
{
    DIR *d = opendir(dir);
    struct dirent *e;
    int dlen = (int)strlen(dir);

    if (!d) {
        snprintf(errbuf, en, "%s: %s", dir, strerror(errno));
        return -1;
    }
    while (dlen > 0 && dir[dlen - 1] == '/')
        dlen--; /* "dir//", "dir/" and "dir" give the same paths; "/" gives "/name" */
    while ((e = readdir(d))) {
        char *path;
        struct stat st;
        if (e->d_name[0] == '.' || asprintf(&path, "%.*s/%s", dlen, dir, e->d_name) < 0)
            continue;
        int rc = 0;
        if (stat(path, &st) == 0 && S_ISDIR(st.st_mode) && depth < TL_SOURCE_MAX_DEPTH) {
            rc = source_walk_dir(path, in, depth + 1, errbuf, en);
            free(path);
        } else if (stat(path, &st) == 0 && S_ISREG(st.st_mode)) {
            rc = source_push(in, path, true);
            if (rc < 0)
                snprintf(errbuf, en, "out of memory");
        } else {
            free(path);
        }
        if (rc < 0) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    return 0;
}

int tl_source_expand(char **args, int nargs, struct tl_inputs *in, char *errbuf, size_t n)
{
    memset(in, 0, sizeof(*in));
    for (int i = 0; i < nargs; i++) {
        struct stat st;
        int first = in->n;
        if (strcmp(args[i], "-") != 0 && stat(args[i], &st) == 0 && S_ISDIR(st.st_mode)) {
            if (source_walk_dir(args[i], in, 0, errbuf, n) < 0)
                goto fail;
            qsort(in->path + first, (size_t)(in->n - first), sizeof(char *), source_cmp);
        } else if (source_push(in, strdup(args[i]), false) < 0) {
            snprintf(errbuf, n, "out of memory");
            goto fail;
        }
    }
    return in->n;
fail:
    tl_source_free_inputs(in);
    return -1;
}

void tl_source_free_inputs(struct tl_inputs *in)
{
    for (int i = 0; i < in->n; i++)
        free(in->path[i]);
    free(in->path);
    free(in->from_dir);
    memset(in, 0, sizeof(*in));
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

/* A compiled capture.filter per link type (a pcapng may mix them); NULL without a filter. */
static const struct bpf_program *source_file_filter(struct tl_source_ctx *ctx, int linktype,
                                                    const char *name, char *errbuf, size_t n)
{
    const char *expr = ctx->cfg->filter;
    if (!expr || !*expr)
        return NULL;
    for (unsigned i = 0; i < ctx->nfilters; i++)
        if (ctx->filters[i].linktype == linktype)
            return &ctx->filters[i].prog;
    if (ctx->nfilters == TL_SOURCE_MAX_FILTERS) {
        snprintf(errbuf, n, "%s: more than %d link types in one run", name, TL_SOURCE_MAX_FILTERS);
        return NULL;
    }
    pcap_t *dead = pcap_open_dead(linktype, TL_PCAP_MAX_PACKET);
    struct tl_source_filter *sf = &ctx->filters[ctx->nfilters];
    if (!dead || pcap_compile(dead, &sf->prog, expr, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(errbuf, n, "%s: bad filter '%s': %s", name, expr,
                 dead ? pcap_geterr(dead) : "out of memory");
        if (dead)
            pcap_close(dead);
        return NULL;
    }
    pcap_close(dead);
    sf->linktype = linktype;
    ctx->nfilters++;
    return &sf->prog;
}

void tl_source_free_filters(struct tl_source_ctx *ctx)
{
    for (unsigned i = 0; i < ctx->nfilters; i++)
        pcap_freecode(&ctx->filters[i].prog);
    ctx->nfilters = 0;
}

/* Whether the filter (if any) keeps the packet; *err set when the filter cannot be compiled. */
static bool source_keep(struct tl_source_ctx *ctx, const struct tl_pkt *pkt, const char *name,
                        char *errbuf, size_t n, bool *err)
{
    if (!ctx->cfg->filter || !*ctx->cfg->filter)
        return true;
    const struct bpf_program *prog = source_file_filter(ctx, pkt->linktype, name, errbuf, n);
    if (!prog) {
        *err = true;
        return false;
    }
    struct pcap_pkthdr h = { .caplen = pkt->caplen, .len = pkt->wirelen };
    return pcap_offline_filter(prog, &h, pkt->data) != 0;
}

/* Says once, at the end of a file, how many packets had a link type nobody decodes. */
static void source_report_skipped(const char *name, uint64_t skipped, int linktype)
{
    const char *lname = pcap_datalink_val_to_name(linktype);
    if (skipped)
        fprintf(stderr,
                "tapline: warning: %s: %llu packet(s) of unsupported link type %s (%d) skipped\n",
                name, (unsigned long long)skipped, lname ? lname : "unknown", linktype);
}

/* Tells the reader which part of the file no worker reads any more. */
static void source_release(struct tl_source_ctx *ctx, struct tl_pcapfile *pf)
{
    uint64_t below = UINT64_MAX;
    if (ctx->pinned_from) {
        uint64_t mark = ctx->pinned_from(ctx->user);
        if (mark != UINT64_MAX)
            below = mark - 1 - ctx->mark_base;
    }
    tl_pcapfile_release(pf, below);
}

struct source_file {
    struct tl_source_ctx *ctx;
    struct tl_pcapfile *pf;
};

/* The reader wants a buffer back whose packets up to file offset upto workers may still read. */
static void source_on_full(void *arg, uint64_t upto)
{
    struct source_file *sf = arg;
    sf->ctx->unpin(sf->ctx->user, sf->ctx->mark_base + upto + 1); /* a packet's mark: offset + 1 */
    source_release(sf->ctx, sf->pf);
}

int tl_source_read_file(struct tl_source_ctx *ctx, const char *path, char *errbuf, size_t n)
{
    bool not_capture = false, filter_err = false;
    struct tl_pcapfile *pf = tl_pcapfile_open(path, &not_capture, errbuf, n);
    const char *name = strcmp(path, "-") == 0 ? "stdin" : path;
    struct tl_pkt pkt;
    uint64_t pkts = 0, skipped = 0, start = source_wall_us(), next_progress = start;
    int skipped_type = 0, result = 0;
    enum tl_pcap_next r = TL_PCAP_END;

    if (!pf)
        return not_capture ? TL_SOURCE_NOT_CAPTURE : -1;
    if (!tl_pcapfile_is_ng(pf) && !tl_link_supported(tl_pcapfile_linktype(pf))) {
        int dlt = tl_pcapfile_linktype(pf);
        const char *dname = pcap_datalink_val_to_name(dlt);
        snprintf(errbuf, n, "%s: unsupported link type %s (%d)", name, dname ? dname : "unknown",
                 dlt);
        tl_pcapfile_close(pf);
        return -1;
    }
    struct source_file sf = { ctx, pf };
    if (ctx->pinned_from && ctx->unpin)
        tl_pcapfile_on_full(pf, source_on_full, &sf);
    while (!*ctx->stop && (r = tl_pcapfile_next(pf, &pkt)) == TL_PCAP_PACKET) {
        if (!tl_link_supported(pkt.linktype)) {
            skipped++;
            skipped_type = pkt.linktype;
            continue;
        }
        if (!source_keep(ctx, &pkt, name, errbuf, n, &filter_err)) {
            if (filter_err)
                break;
            continue;
        }
        ctx->on_packet(ctx->user, pkt.linktype, pkt.ts_us, pkt.data, pkt.caplen, pkt.wirelen,
                       pkt.pinned ? ctx->mark_base + pkt.data_off + 1 : 0);
        pkts++;
        if ((pkts & 1023) == 0)
            source_release(ctx, pf);
        if (ctx->progress && (pkts & 4095) == 0 && source_wall_us() >= next_progress) {
            source_progress(ctx, tl_pcapfile_offset(pf), pkts, start, false);
            next_progress = source_wall_us() + 500000;
        }
    }
    const char *unit = tl_pcapfile_is_ng(pf) ? "block" : "record";
    unsigned long long at = (unsigned long long)tl_pcapfile_offset(pf);
    if (filter_err) {
        result = -1;
    } else if (!*ctx->stop && r == TL_PCAP_CUT) {
        /* A record cut short by the end of the file: keep what came before it. */
        fprintf(stderr, "tapline: warning: %s: capture cut off in the %s at byte %llu\n", name,
                unit, at);
    } else if (!*ctx->stop && r == TL_PCAP_BAD) {
        snprintf(errbuf, n, "%s: cannot read the %s at byte %llu: %s", name, unit, at,
                 tl_pcapfile_error(pf));
        result = -1;
    }
    source_report_skipped(name, skipped, skipped_type);
    if (ctx->progress)
        source_progress(ctx, tl_pcapfile_offset(pf), pkts, start, true);
    ctx->done_bytes += tl_pcapfile_offset(pf);
    ctx->files++;
    if (ctx->unpin)
        ctx->unpin(ctx->user, UINT64_MAX); /* no worker reads the buffers once they are freed */
    ctx->mark_base += tl_pcapfile_offset(pf) + 1;
    tl_pcapfile_close(pf);
    return result;
}

static void source_live_cb(u_char *user, const struct pcap_pkthdr *hdr, const u_char *data)
{
    struct tl_live_iface *li = (struct tl_live_iface *)(void *)user;
    uint64_t ts = (uint64_t)hdr->ts.tv_sec * 1000000u + (uint64_t)hdr->ts.tv_usec;
    li->packets++;
    li->ctx->on_packet(li->ctx->user, li->linktype, ts, data, hdr->caplen, hdr->len, 0);
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

/*
 * Opens one interface for reading with our own wait: libpcap's wait on Linux
 * (TPACKET_V3) has no timeout, so with no packets it would never return; the
 * handle is non-blocking and the loop polls its descriptor for 100 ms.
 */
static int source_live_open(struct tl_source_ctx *ctx, struct tl_live_iface *li, char *errbuf,
                            size_t n)
{
    char perr[PCAP_ERRBUF_SIZE] = "";
    pcap_t *h = pcap_create(li->name, perr);
    if (!h) {
        snprintf(errbuf, n, "%s: %s", li->name, perr);
        return -1;
    }
    pcap_set_snaplen(h, (int)ctx->cfg->snaplen);
    pcap_set_promisc(h, ctx->cfg->promisc);
    pcap_set_buffer_size(h, (int)(ctx->cfg->buffer_mb << 20));
    pcap_set_timeout(h, 100);
    int rc = pcap_activate(h);
    if (rc < 0) {
        source_activate_error(h, rc, li->name, errbuf, n);
        goto fail;
    }
    if (source_check_link(h, li->name, errbuf, n) < 0 ||
        source_filter(h, ctx->cfg->filter, li->name, errbuf, n) < 0)
        goto fail;
    li->fd = pcap_get_selectable_fd(h);
    if (li->fd < 0 || pcap_setnonblock(h, 1, perr) < 0) {
        snprintf(errbuf, n, "%s: cannot wait for packets: %s", li->name,
                 li->fd < 0 ? "no descriptor" : perr);
        goto fail;
    }
    li->h = h;
    li->linktype = pcap_datalink(h);
    li->ctx = ctx;
    return 0;
fail:
    pcap_close(h);
    return -1;
}

/* Whether the interface is up and running (SIOCGIFFLAGS needs no privilege). */
static bool source_iface_up(const char *name)
{
    struct ifreq ifr;
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    bool up = false;
    if (s < 0)
        return true; /* cannot tell: do not claim it is down */
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (ioctl(s, SIOCGIFFLAGS, &ifr) == 0)
        up = (ifr.ifr_flags & IFF_UP) && (ifr.ifr_flags & IFF_RUNNING);
    close(s);
    return up;
}

/* The link went down (said once, counted) or came back (said). */
static void source_link(struct tl_live_iface *li, bool up)
{
    if (li->down == !up)
        return;
    li->down = !up;
    if (up) {
        fprintf(stderr, "tapline: %s: interface is up again\n", li->name);
    } else {
        li->downs++;
        fprintf(stderr, "tapline: %s: interface went down; waiting for it\n", li->name);
    }
}

/*
 * A read failed. The link going down is not the end: the socket stays bound
 * and delivers again when the link comes back, so it is said and watched.
 * Any other failure ends the capture.
 */
static int source_live_failed(struct tl_live_iface *li, char *errbuf, size_t n)
{
    const char *why = pcap_geterr(li->h);
    if (strstr(why, "went down") || !source_iface_up(li->name)) {
        source_link(li, false);
        return 0;
    }
    snprintf(errbuf, n, "%s: capture failed: %s", li->name, why);
    return -1;
}

/*
 * Reads up to LIVE_BURST packets of each interface (also once stopped: last); the count, -1 on
 * a capture error. A full burst means more may wait: ctx->behind.
 */
static int source_live_read(struct tl_source_ctx *ctx, bool last, char *errbuf, size_t n)
{
    int got = 0;
    ctx->behind = false;
    for (int i = 0; i < ctx->nifaces && (last || !*ctx->stop); i++) {
        struct tl_live_iface *li = &ctx->ifaces[i];
        int rc = pcap_dispatch(li->h, LIVE_BURST, source_live_cb, (u_char *)li);
        if (rc >= LIVE_BURST)
            ctx->behind = true;
        if (rc > 0) {
            got += rc;
            source_link(li, true);
        } else if (rc < 0 && rc != PCAP_ERROR_BREAK && source_live_failed(li, errbuf, n) < 0) {
            return -1;
        }
    }
    return got;
}

/* Once a second: a link that went down without a read error (no traffic), or came back. */
static void source_live_watch(struct tl_source_ctx *ctx)
{
    for (int i = 0; i < ctx->nifaces; i++)
        source_link(&ctx->ifaces[i], source_iface_up(ctx->ifaces[i].name));
}

/* An interface's counters from its AF_PACKET sockets. */
static void source_afp_stats(struct tl_source_ctx *ctx, int i)
{
    struct tl_live_iface *li = &ctx->ifaces[i];
    struct tl_afp_counters c;
    tl_afp_iface_counters(ctx->afp, i, &c);
    li->packets = c.packets;
    li->kernel_drops = c.drops;
    li->freezes = c.freezes;
    li->ring_errors = c.bad;
    li->iface_drops = tl_afp_iface_drops(ctx->afp, i);
}

void tl_source_live_stats(struct tl_source_ctx *ctx)
{
    ctx->kernel_drops = ctx->iface_drops = 0;
    for (int i = 0; i < ctx->nifaces; i++) {
        struct tl_live_iface *li = &ctx->ifaces[i];
        struct pcap_stat ps;
        if (ctx->afp) {
            source_afp_stats(ctx, i);
        } else if (li->h && pcap_stats(li->h, &ps) == 0) {
            li->kernel_drops = ps.ps_drop;
            li->iface_drops = ps.ps_ifdrop;
        }
        ctx->kernel_drops += li->kernel_drops;
        ctx->iface_drops += li->iface_drops;
    }
}

/* The interfaces of a comma list, each once; -1 on an empty or too long list. */
static int source_live_list(struct tl_source_ctx *ctx, const char *list, char *errbuf, size_t n)
{
    ctx->ifaces = calloc(TL_SOURCE_MAX_IFACES, sizeof(*ctx->ifaces));
    if (!ctx->ifaces) {
        snprintf(errbuf, n, "out of memory");
        return -1;
    }
    for (const char *p = list; *p;) {
        size_t len = strcspn(p, ", ");
        if (len) {
            if (len >= sizeof(ctx->ifaces[0].name)) {
                snprintf(errbuf, n, "%.*s: interface name too long", (int)len, p);
                return -1;
            }
            bool dup = false;
            for (int i = 0; i < ctx->nifaces; i++)
                dup |= strlen(ctx->ifaces[i].name) == len && !memcmp(ctx->ifaces[i].name, p, len);
            if (!dup && ctx->nifaces == TL_SOURCE_MAX_IFACES) {
                snprintf(errbuf, n, "more than %d interfaces", TL_SOURCE_MAX_IFACES);
                return -1;
            }
            if (!dup)
                memcpy(ctx->ifaces[ctx->nifaces++].name, p, len);
        }
        p += len + (p[len] != '\0');
    }
    if (!ctx->nifaces) {
        snprintf(errbuf, n, "no interface to capture from");
        return -1;
    }
    return 0;
}

/* Polls every interface's descriptor for up to ms. */
static void source_live_wait(struct tl_source_ctx *ctx, int ms)
{
    struct pollfd pfd[TL_SOURCE_MAX_IFACES];
    for (int i = 0; i < ctx->nifaces; i++)
        pfd[i] = (struct pollfd){ .fd = ctx->ifaces[i].fd, .events = POLLIN };
    poll(pfd, (nfds_t)ctx->nifaces, ms);
}

/*
 * Stopped: what the kernel already holds is read too, a burst at a time, so that traffic
 * going on cannot keep it reading. A partly filled block of libpcap's ring is handed over by
 * a timer of its timeout (100 ms) that closes a block it has seen open for a whole period:
 * within 200 ms. A backlog (a worker behind) is read for up to LIVE_LAST_MAX_US; what is still
 * waiting then is left (ctx->behind stays set, and the caller says so).
 */
static void source_live_last(struct tl_source_ctx *ctx, char *errbuf, size_t n)
{
    uint64_t start = source_wall_us(), until = start + 2 * 100000 + 20000;
    for (int i = 0; i < ctx->nifaces; i++) /* takes a pending breakloop */
        pcap_dispatch(ctx->ifaces[i].h, LIVE_BURST, source_live_cb, (u_char *)&ctx->ifaces[i]);
    ctx->behind = true; /* read at once: no wait before the first read */
    for (uint64_t now = start; now < until || (ctx->behind && now < start + LIVE_LAST_MAX_US);
         now = source_wall_us()) {
        if (!ctx->behind)
            source_live_wait(ctx, (int)((until - now) / 1000) + 1);
        if (source_live_read(ctx, true, errbuf, n) < 0) {
            ctx->behind = false; /* what was left is not known */
            break;
        }
    }
}

int tl_source_live(struct tl_source_ctx *ctx, const char *ifaces, char *errbuf, size_t n)
{
    int rc = 0;
    if (source_live_list(ctx, ifaces, errbuf, n) < 0)
        return -1;
    for (int i = 0; i < ctx->nifaces; i++)
        if (source_live_open(ctx, &ctx->ifaces[i], errbuf, n) < 0)
            return -1;
    if (ctx->on_opened && ctx->on_opened(ctx->user, errbuf, n) < 0)
        return -1;
    uint64_t next_idle = source_wall_us(), next_watch = next_idle;
    while (!*ctx->stop) {
        int got = source_live_read(ctx, false, errbuf, n);
        if (got < 0) {
            rc = -1;
            break;
        }
        /* a stop cuts a read short (interfaces skipped, a burst broken off), so ctx->behind
         * is not to be trusted: no idle call, source_live_last reads what waits */
        if (*ctx->stop)
            break;
        if (got == 0)
            source_live_wait(ctx, 100);
        uint64_t now = source_wall_us();
        if (got == 0 || now >= next_idle) {
            ctx->on_idle(ctx->user, now);
            next_idle = now + 100000;
        }
        if (now >= next_watch) {
            source_live_watch(ctx);
            next_watch = now + 1000000;
        }
    }
    if (rc == 0)
        source_live_last(ctx, errbuf, n);
    tl_source_live_stats(ctx);
    return rc;
}

int tl_source_use_afpacket(const struct tl_config *cfg, const char *ifaces, char *errbuf, size_t n)
{
    bool any = false;
    for (const char *p = ifaces; p && *p;) {
        size_t len = strcspn(p, ", ");
        any |= len == 3 && !memcmp(p, "any", 3);
        p += len + (p[len] != '\0');
    }
    if (cfg->method && !strcmp(cfg->method, "pcap"))
        return 0;
    if (any && cfg->method) {
        snprintf(errbuf, n, "capture.method afpacket cannot capture on 'any': use pcap");
        return -1;
    }
    return !any;
}

int tl_source_afpacket(struct tl_source_ctx *ctx, const char *ifaces, char *errbuf, size_t n)
{
    char names[TL_SOURCE_MAX_IFACES][64];
    if (source_live_list(ctx, ifaces, errbuf, n) < 0)
        return -1;
    for (int i = 0; i < ctx->nifaces; i++)
        memcpy(names[i], ctx->ifaces[i].name, sizeof(names[i]));
    if (!(ctx->afp = tl_afp_open(ctx->cfg, (const char(*)[64])names, ctx->nifaces, ctx->nworkers,
                                 errbuf, n)) ||
        ctx->on_sockets(ctx->user, ctx->afp, errbuf, n) < 0 ||
        (ctx->on_opened && ctx->on_opened(ctx->user, errbuf, n) < 0))
        return -1;
    uint64_t next_watch = source_wall_us();
    while (!*ctx->stop) {
        poll(NULL, 0, 100); /* a signal ends it early */
        uint64_t now = source_wall_us();
        ctx->on_idle(ctx->user, now);
        if (now >= next_watch) {
            source_live_watch(ctx);
            next_watch = now + 1000000;
        }
        if (tl_afp_failed(ctx->afp, errbuf, n) < 0)
            return -1;
    }
    return 0;
}

void tl_source_live_close(struct tl_source_ctx *ctx)
{
    tl_afp_close(ctx->afp);
    ctx->afp = NULL;
    for (int i = 0; i < ctx->nifaces; i++)
        if (ctx->ifaces[i].h)
            pcap_close(ctx->ifaces[i].h);
    free(ctx->ifaces);
    ctx->ifaces = NULL;
    ctx->nifaces = 0;
}

void tl_source_break(struct tl_source_ctx *ctx)
{
    for (int i = 0; i < ctx->nifaces; i++)
        if (ctx->ifaces[i].h)
            pcap_breakloop(ctx->ifaces[i].h);
}
