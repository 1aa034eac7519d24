/*
 * afpacket.h - live capture through AF_PACKET (Linux): TPACKET_V3 rings in fanout groups.
 *
 * Each interface gets one socket per worker, all in one fanout group of that
 * interface. After the kernel has reassembled IPv4 fragments
 * (PACKET_FANOUT_FLAG_DEFRAG), the group's classic BPF program picks a socket
 * with tl_spread_hash() (pipeline.h), the function that decides which worker
 * owns a flow, so both directions of a plain flow land on its owner, on every
 * interface. Each worker reads its own sockets' rings in place (the read
 * function of tl_afp_source): every offset and length the kernel wrote into a
 * block is checked against that block before it is used. Sockets are opened
 * before privileges are dropped; nothing here needs them afterwards.
 */
#ifndef TL_CAPTURE_AFPACKET_H
#define TL_CAPTURE_AFPACKET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <linux/filter.h>

#include "config.h"
#include "pipeline.h"

struct tl_afp;

/* One socket's counters, or a sum of them. */
struct tl_afp_counters {
    uint64_t packets; /* frames handed to the worker */
    uint64_t drops;   /* frames the kernel dropped: the ring was full (tp_drops) */
    uint64_t freezes; /* times the ring filled up (tp_freeze_q_cnt) */
    uint64_t bad;     /* frames whose offsets did not fit their block (skipped) */
};

/*
 * Opens nworkers sockets on each of the nifaces interfaces (ring, filter,
 * promiscuous mode, fanout group). NULL with one line naming the interface in
 * errbuf: no such interface, no permission (CAP_NET_RAW), a link type it
 * cannot read, a ring the kernel will not give, a filter libpcap rejects.
 */
struct tl_afp *tl_afp_open(const struct tl_config *cfg, const char (*names)[64], int nifaces,
                           unsigned nworkers, char *errbuf, size_t n);
void tl_afp_close(struct tl_afp *a);

/* The packet source of the pipeline's workers (a stays open while they run). */
void tl_afp_source(struct tl_afp *a, struct tl_pipe_source *src);

/* Counters of an interface's sockets, or of a worker's; any thread, approximate while live. */
void tl_afp_iface_counters(const struct tl_afp *a, int iface, struct tl_afp_counters *c);
void tl_afp_worker_counters(const struct tl_afp *a, unsigned worker, struct tl_afp_counters *c);
/* Packets the interface itself dropped since it was opened (rx_missed_errors, rx_fifo_errors). */
uint64_t tl_afp_iface_drops(const struct tl_afp *a, int iface);

/* A socket failed otherwise than by its link going down: -1 with errbuf, once; else 0. */
int tl_afp_failed(struct tl_afp *a, char *errbuf, size_t n);

/* ---- exposed for tests ---- */

/* How the frames of a block are read, and what came of it. */
struct tl_afp_walk {
    int linktype;  /* of the interface */
    bool loopback; /* outgoing frames are skipped: they come back as incoming */
    tl_frame_fn fn;
    void *arg;
    uint64_t frames; /* given to fn */
    uint64_t bad;    /* skipped: they did not fit the block */
};

/*
 * Reads the frames of one TPACKET_V3 block of `size` bytes that the kernel
 * handed over, giving each to w->fn. A VLAN tag the kernel took out of a frame
 * is put back before its EtherType, in place (the socket reserves the room).
 * A frame whose header or bytes do not fit the block ends the walk: it and
 * the frames the block says follow it are counted in w->bad.
 */
void tl_afp_block_walk(uint8_t *block, size_t size, struct tl_afp_walk *w);

/*
 * The fanout program into out (TL_AFP_PROG_MAX instructions): tl_spread_hash()
 * of a frame of the link type (Ethernet or raw IP) read from offset `base`
 * (SKF_LL_OFF in the kernel: the link-layer header), after the encapsulations
 * decode.c follows most (VLAN, MPLS, VXLAN, GRE, ERSPAN, IP in IP; one level),
 * so that both directions of a tunnelled flow land on its owner too. Returns
 * the length; 0 when it does not fit.
 */
enum { TL_AFP_PROG_MAX = 512 };
size_t tl_afp_spread_prog(struct sock_filter *out, uint32_t seed, int linktype, uint32_t base);

#endif
