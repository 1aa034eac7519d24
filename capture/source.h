/*
 * source.h - packet sources: capture files, directories, stdin, interfaces.
 *
 * A source opens with libpcap, applies the BPF filter, and feeds every packet
 * to a callback. It parses nothing itself. Errors name the file or interface.
 */
#ifndef TL_CAPTURE_SOURCE_H
#define TL_CAPTURE_SOURCE_H

#include <signal.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <pcap/pcap.h>

#include "config.h"

/* mark > 0: pkt stays readable until pinned_from passes mark (tl_pipeline_packet_pinned). */
typedef void (*tl_packet_fn)(void *user, int linktype, uint64_t ts_us, const uint8_t *pkt,
                             uint32_t caplen, uint32_t wirelen, uint64_t mark);
typedef void (*tl_idle_fn)(void *user, uint64_t wall_us);
/* Live: every interface is open; -1 (errbuf set) stops the capture. */
typedef int (*tl_opened_fn)(void *user, char *errbuf, size_t n);
struct tl_afp;
/* Live, afpacket: the sockets are open; the workers start reading them (-1: errbuf set). */
typedef int (*tl_sockets_fn)(void *user, struct tl_afp *afp, char *errbuf, size_t n);

enum { TL_SOURCE_MAX_IFACES = 32 };

struct tl_source_ctx;

/* One interface of a live capture, with its own counters. */
struct tl_live_iface {
    char name[64];
    pcap_t *h;
    int fd;
    int linktype;
    bool down; /* said to have gone down, not seen up again */
    uint64_t packets, kernel_drops, iface_drops, downs;
    uint64_t freezes, ring_errors; /* afpacket */
    struct tl_source_ctx *ctx;
};

enum { TL_SOURCE_MAX_FILTERS = 16, TL_SOURCE_NOT_CAPTURE = -2, TL_SOURCE_MAX_DEPTH = 16 };

struct tl_source_filter {
    int linktype;
    struct bpf_program prog;
};

struct tl_source_ctx {
    const struct tl_config *cfg;
    tl_packet_fn on_packet;
    tl_idle_fn on_idle; /* live: called when the interface is quiet, and at least every 100 ms */
    tl_opened_fn on_opened;   /* live: every interface is open (privileges can be dropped) */
    tl_sockets_fn on_sockets; /* live, afpacket: the workers' sockets are open */
    unsigned nworkers;        /* live, afpacket: sockets per interface */
    struct tl_afp *afp;       /* live, afpacket */
    /*
     * files: the lowest mark still read, and a wait until none below `below` is
     * (UINT64_MAX: none at all); NULL: packets are copied
     */
    uint64_t (*pinned_from)(void *user);
    void (*unpin)(void *user, uint64_t below);
    uint64_t mark_base; /* marks of the current file start past those of the files before */
    void *user;
    volatile sig_atomic_t *stop;
    bool progress;        /* progress line on stderr */
    uint64_t total_bytes; /* of all files, for the progress line */
    uint64_t done_bytes;
    uint64_t kernel_drops, iface_drops;
    unsigned files;
    struct tl_live_iface *ifaces; /* live */
    int nifaces;
    bool behind; /* live, pcap: the last read left packets waiting in a kernel buffer */
    struct tl_source_filter
        filters[TL_SOURCE_MAX_FILTERS]; /* files: capture.filter per link type */
    unsigned nfilters;
};

/* The capture files to read: from -r arguments, folders walked. */
struct tl_inputs {
    char **path;
    bool *from_dir; /* found in a folder (not named on the command line) */
    int n, cap;
};

/*
 * Expands the -r arguments into capture files: a folder gives the regular files
 * below it (subfolders too, hidden ones skipped, up to TL_SOURCE_MAX_DEPTH
 * deep) in path order; "-" stays stdin. Returns the count, -1 with errbuf set.
 */
int tl_source_expand(char **args, int nargs, struct tl_inputs *in, char *errbuf, size_t n);
void tl_source_free_inputs(struct tl_inputs *in);

/*
 * Reads one capture file (or stdin for "-") to its end. -1 with errbuf set;
 * TL_SOURCE_NOT_CAPTURE (errbuf set) when the file is not a capture at all.
 */
int tl_source_read_file(struct tl_source_ctx *ctx, const char *path, char *errbuf, size_t n);
void tl_source_free_filters(struct tl_source_ctx *ctx);

/* Captures from the interfaces of a comma list until *stop. -1 with errbuf set. */
int tl_source_live(struct tl_source_ctx *ctx, const char *ifaces, char *errbuf, size_t n);
/*
 * The same through AF_PACKET (capture/afpacket.h): opens ctx->nworkers sockets
 * per interface and hands them to on_sockets; the workers read them. This
 * thread only calls on_idle every 100 ms and watches the links, until *stop
 * or a socket fails (-1 with errbuf).
 */
int tl_source_afpacket(struct tl_source_ctx *ctx, const char *ifaces, char *errbuf, size_t n);
/* Whether a live capture of these interfaces goes through AF_PACKET (capture.method);
 * -1 with errbuf when the method cannot capture them. */
int tl_source_use_afpacket(const struct tl_config *cfg, const char *ifaces, char *errbuf, size_t n);
/* Refreshes the interfaces' drop counters and the totals kernel_drops, iface_drops. */
void tl_source_live_stats(struct tl_source_ctx *ctx);
void tl_source_live_close(struct tl_source_ctx *ctx);

/* Interrupts a live capture from a signal handler. */
void tl_source_break(struct tl_source_ctx *ctx);

#endif
