/*
 * afpacket.c - AF_PACKET sockets with TPACKET_V3 receive rings, one per worker
 * and interface, joined per interface in a fanout group (packet(7)).
 *
 * The kernel fills a ring block by block and hands a block over by setting
 * TP_STATUS_USER in its descriptor; the worker walks its frames in place and
 * gives it back with TP_STATUS_KERNEL. A partly filled block is handed over
 * after capture.afpacket.block_timeout_ms, which bounds how late a packet
 * reaches its worker. The kernel takes a VLAN tag out of the frame (it is in
 * the frame header); the socket reserves four bytes before every frame so the
 * tag can be put back where it was on the wire.
 *
 * The fanout group spreads packets with a classic BPF program (tl_afp_spread_prog)
 * computing tl_spread_hash() over the IP header, so the kernel delivers a plain
 * flow to the worker tapline's own hash makes its owner. The kernel's hash
 * (PACKET_FANOUT_HASH) cannot be computed outside the kernel: a datagram that
 * tapline had to reassemble (IPv6 fragments) or decapsulate would then belong to
 * a worker it cannot name. Here every worker can tell the owner of any packet.
 */
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/if_packet.h>
#include <net/if.h>
#include <net/if_arp.h>
#include <netinet/in.h>
#include <pcap/pcap.h>
#include <poll.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/eventfd.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "afpacket.h"

enum {
    AFP_HDR = TPACKET_ALIGN(sizeof(struct tpacket3_hdr)), /* the sockaddr_ll follows */
    AFP_SLL_END = AFP_HDR + sizeof(struct sockaddr_ll),   /* the frame may start here */
    AFP_VLAN = 4,                                         /* the tag put back: TPID, TCI */
    AFP_MACS = 12,                                        /* destination and source */
    AFP_MIN_BLOCKS = 4,
    AFP_BLOCKS_PER_READ = 4, /* per socket and read, so hand-offs and the clock keep up */
};

struct afp_sock {
    int fd;
    uint8_t *ring;
    size_t block_size;
    unsigned nblocks, next; /* next: the block to look at; the worker's */
    int iface;
    _Atomic uint64_t packets, drops, freezes, bad; /* written by the worker only */
    _Atomic int err;                               /* a failure to report (errno), or 0 */
};

struct afp_iface {
    char name[64];
    int index;
    int linktype;
    bool loopback;
    uint64_t if_drops0; /* the interface's own drop counters when opened */
};

struct tl_afp {
    unsigned nworkers;
    int nifaces;
    struct afp_iface ifaces[TL_MAX_IFACES];
    struct afp_sock *socks; /* [iface * nworkers + worker] */
    int *wake;              /* an eventfd per worker: its read returns */
    uint32_t seed;
    uint64_t lag_us;
    bool said; /* tl_afp_failed reported */
};

static struct afp_sock *afp_sock(const struct tl_afp *a, int iface, unsigned worker)
{
    return &a->socks[(size_t)iface * a->nworkers + worker];
}

/* ---- the fanout program ---- */

/*
 * Classic BPF with labels: emitted twice, the first pass learning where each
 * label is, the second resolving the jumps (conditional ones reach 255
 * instructions: far targets go through a BPF_JA). Loads are relative to X,
 * the offset of the header being read from `base`. Scratch memory: M[0], M[1]
 * the folded addresses, M[2], M[3] the ports, M[4] an EtherType or GRE flags,
 * M[5] the IP header, M[6] the GRE header, M[7] a protocol, M[8..11] words.
 */
enum { AFP_MAX_LABELS = 96, AFP_UDP_VXLAN = 4789 };

struct afp_prog {
    struct sock_filter *out;
    size_t n;
    uint32_t base;
    unsigned nlabels;
    bool bad; /* a jump too far, or too many labels */
    size_t at[AFP_MAX_LABELS];
};

/* Label 0 is the next instruction. */
static unsigned afp_label(struct afp_prog *p)
{
    if (++p->nlabels < AFP_MAX_LABELS)
        return p->nlabels;
    p->bad = true;
    return 0;
}

static void afp_here(struct afp_prog *p, unsigned l)
{
    p->at[l] = p->n;
}

static void afp_op(struct afp_prog *p, uint16_t code, uint32_t k)
{
    if (p->n < TL_AFP_PROG_MAX)
        p->out[p->n] = (struct sock_filter){ code, 0, 0, k };
    p->n++;
}

/* A load of 1, 2 or 4 bytes (BPF_B, BPF_H, BPF_W) at X + off. */
static void afp_ld(struct afp_prog *p, uint16_t size, uint32_t off)
{
    afp_op(p, BPF_LD | size | BPF_IND, p->base + off);
}

static uint32_t afp_dist(struct afp_prog *p, unsigned l, uint32_t max)
{
    size_t next = p->n + 1;
    if (!l || p->at[l] < next)
        return 0; /* the next one (or, in the first pass, not known yet) */
    if (p->at[l] - next > max)
        p->bad = true;
    return (uint32_t)(p->at[l] - next);
}

/* if (A op k) goto t else goto f, with op BPF_JEQ or BPF_JSET. */
static void afp_if(struct afp_prog *p, uint16_t op, uint32_t k, unsigned t, unsigned f)
{
    uint32_t jt = afp_dist(p, t, 255), jf = afp_dist(p, f, 255);
    if (p->n < TL_AFP_PROG_MAX)
        p->out[p->n] = (struct sock_filter){ BPF_JMP | op | BPF_K, (uint8_t)jt, (uint8_t)jf, k };
    p->n++;
}

static void afp_goto(struct afp_prog *p, unsigned l)
{
    afp_op(p, BPF_JMP | BPF_JA, afp_dist(p, l, UINT32_MAX));
}

/* X += k. */
static void afp_skip(struct afp_prog *p, uint32_t k)
{
    afp_op(p, BPF_MISC | BPF_TXA, 0);
    afp_op(p, BPF_ALU | BPF_ADD | BPF_K, k);
    afp_op(p, BPF_MISC | BPF_TAX, 0);
}

/* M[slot] = the four words at X + off XORed; X is kept (from M[5]). */
static void afp_fold6(struct afp_prog *p, uint32_t off, uint32_t slot)
{
    for (uint32_t i = 0; i < 4; i++) {
        afp_ld(p, BPF_W, off + 4 * i);
        afp_op(p, BPF_ST, 8 + i);
    }
    afp_op(p, BPF_LDX | BPF_MEM, 8);
    for (uint32_t i = 1; i < 4; i++) {
        afp_op(p, BPF_LD | BPF_MEM, 8 + i);
        afp_op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
        if (i < 3)
            afp_op(p, BPF_MISC | BPF_TAX, 0);
    }
    afp_op(p, BPF_ST, slot);
    afp_op(p, BPF_LDX | BPF_MEM, 5);
}

/*
 * An Ethernet header at X, up to two VLAN tags, then IPv4, IPv6 or an MPLS
 * stack of up to four labels: on to `ip` with X at the IP header, else `fail`.
 */
static void afp_emit_link(struct afp_prog *p, unsigned ip, unsigned fail)
{
    unsigned tag1 = afp_label(p), tag2 = afp_label(p), untagged = afp_label(p);
    unsigned type = afp_label(p), mpls = afp_label(p), bos = afp_label(p);
    unsigned no = afp_label(p);

    afp_ld(p, BPF_H, 12);
    afp_op(p, BPF_ST, 4);
    afp_if(p, BPF_JEQ, ETH_P_8021Q, tag1, 0);
    afp_if(p, BPF_JEQ, ETH_P_8021AD, tag1, untagged);
    afp_here(p, tag1);
    afp_ld(p, BPF_H, 16);
    afp_op(p, BPF_ST, 4);
    afp_if(p, BPF_JEQ, ETH_P_8021Q, tag2, 0);
    afp_if(p, BPF_JEQ, ETH_P_8021AD, tag2, 0);
    afp_skip(p, 18);
    afp_goto(p, type);
    afp_here(p, tag2);
    afp_ld(p, BPF_H, 20);
    afp_op(p, BPF_ST, 4);
    afp_skip(p, 22);
    afp_goto(p, type);
    afp_here(p, untagged);
    afp_skip(p, 14);
    afp_here(p, type);
    afp_op(p, BPF_LD | BPF_MEM, 4);
    afp_if(p, BPF_JEQ, ETH_P_IP, ip, 0);
    afp_if(p, BPF_JEQ, ETH_P_IPV6, ip, 0);
    afp_if(p, BPF_JEQ, ETH_P_MPLS_UC, mpls, no);
    afp_here(p, mpls);
    for (int i = 0; i < 4; i++) { /* the bottom of stack bit (RFC 3032 2.1) */
        afp_ld(p, BPF_B, 2);
        afp_if(p, BPF_JSET, 1, bos, 0);
        afp_skip(p, 4);
    }
    afp_goto(p, fail);
    afp_here(p, bos);
    afp_skip(p, 4);
    afp_goto(p, ip);
    afp_here(p, no);
    afp_goto(p, fail);
}

/* Where an IP header section goes next. */
struct afp_ip_out {
    unsigned mix, noports, fail;
    unsigned link, ip; /* the inner sections; 0: tunnels are not followed */
};

/* A GRE header at X (RFC 2784, 2890), as decode.c follows it; outer addresses kept. */
static void afp_emit_gre(struct afp_prog *p, const struct afp_ip_out *o)
{
    unsigned e2 = afp_label(p), e2s = afp_label(p), e3 = afp_label(p), e3o = afp_label(p);
    unsigned e3eth = afp_label(p), no = afp_label(p);

    afp_op(p, BPF_STX, 6);
    afp_ld(p, BPF_H, 2);
    afp_op(p, BPF_ST, 7); /* protocol */
    afp_ld(p, BPF_H, 0);
    afp_op(p, BPF_ST, 4); /* flags: C, K and S add a word each */
    afp_op(p, BPF_ALU | BPF_RSH | BPF_K, 15);
    afp_op(p, BPF_ALU | BPF_AND | BPF_K, 1);
    afp_op(p, BPF_MISC | BPF_TAX, 0);
    afp_op(p, BPF_LD | BPF_MEM, 4);
    afp_op(p, BPF_ALU | BPF_RSH | BPF_K, 13);
    afp_op(p, BPF_ALU | BPF_AND | BPF_K, 1);
    afp_op(p, BPF_ALU | BPF_ADD | BPF_X, 0);
    afp_op(p, BPF_MISC | BPF_TAX, 0);
    afp_op(p, BPF_LD | BPF_MEM, 4);
    afp_op(p, BPF_ALU | BPF_RSH | BPF_K, 12);
    afp_op(p, BPF_ALU | BPF_AND | BPF_K, 1);
    afp_op(p, BPF_ALU | BPF_ADD | BPF_X, 0);
    afp_op(p, BPF_ALU | BPF_ADD | BPF_K, 1);
    afp_op(p, BPF_ALU | BPF_LSH | BPF_K, 2);
    afp_op(p, BPF_LDX | BPF_MEM, 6);
    afp_op(p, BPF_ALU | BPF_ADD | BPF_X, 0);
    afp_op(p, BPF_MISC | BPF_TAX, 0);
    afp_op(p, BPF_LD | BPF_MEM, 7);
    afp_if(p, BPF_JEQ, ETH_P_IP, o->ip, 0);
    afp_if(p, BPF_JEQ, ETH_P_IPV6, o->ip, 0);
    afp_if(p, BPF_JEQ, ETH_P_TEB, o->link, 0);
    afp_if(p, BPF_JEQ, ETH_P_ERSPAN, e2, 0);
    afp_if(p, BPF_JEQ, ETH_P_ERSPAN2, e3, no);
    afp_here(p, e2); /* type II has a sequence number and an 8-byte header; type I neither */
    afp_op(p, BPF_LD | BPF_MEM, 4);
    afp_if(p, BPF_JSET, 0x1000, e2s, 0);
    afp_goto(p, o->link);
    afp_here(p, e2s);
    afp_skip(p, 8);
    afp_goto(p, o->link);
    afp_here(p, e3); /* type III: 12 bytes, 8 more with O; frame type 0 Ethernet, 2 IP */
    afp_ld(p, BPF_H, 10);
    afp_op(p, BPF_ST, 4);
    afp_if(p, BPF_JSET, 1, e3o, 0);
    afp_skip(p, 12);
    afp_goto(p, e3eth);
    afp_here(p, e3o);
    afp_skip(p, 20);
    afp_here(p, e3eth);
    afp_op(p, BPF_LD | BPF_MEM, 4);
    afp_op(p, BPF_ALU | BPF_RSH | BPF_K, 10);
    afp_op(p, BPF_ALU | BPF_AND | BPF_K, 0x1f);
    afp_if(p, BPF_JEQ, 0, o->link, 0);
    afp_if(p, BPF_JEQ, 2, o->ip, no);
    afp_here(p, no);
    afp_goto(p, o->noports);
}

/*
 * An IP header at X: addresses into M[0], M[1]; TCP and UDP ports into M[2],
 * M[3] unless a fragment. With inner sections, VXLAN (UDP port 4789), GRE and
 * IP in IP are followed once: the inner packet decides, as decode.c's does.
 */
static void afp_emit_ip(struct afp_prog *p, const struct afp_ip_out *o)
{
    unsigned v4 = afp_label(p), v6 = afp_label(p), l4v4 = afp_label(p), ports = afp_label(p);
    unsigned gre = afp_label(p), inip = afp_label(p), greskip = afp_label(p); /* greskip: mix */
    unsigned np = afp_label(p), fail = afp_label(p);
    bool tunnels = o->link != 0;

    afp_op(p, BPF_STX, 5);
    afp_ld(p, BPF_B, 0);
    afp_op(p, BPF_ALU | BPF_RSH | BPF_K, 4);
    afp_if(p, BPF_JEQ, 4, v4, 0);
    afp_if(p, BPF_JEQ, 6, v6, fail);

    afp_here(p, v4);
    afp_ld(p, BPF_W, 12);
    afp_op(p, BPF_ST, 0);
    afp_ld(p, BPF_W, 16);
    afp_op(p, BPF_ST, 1);
    afp_ld(p, BPF_H, 6); /* a fragment has no ports to read */
    afp_if(p, BPF_JSET, 0x3fff, np, 0);
    afp_ld(p, BPF_B, 9);
    afp_op(p, BPF_ST, 7);
    afp_ld(p, BPF_B, 0); /* X = the transport header */
    afp_op(p, BPF_ALU | BPF_AND | BPF_K, 0xf);
    afp_op(p, BPF_ALU | BPF_LSH | BPF_K, 2);
    afp_op(p, BPF_ALU | BPF_ADD | BPF_X, 0);
    afp_op(p, BPF_MISC | BPF_TAX, 0);
    afp_goto(p, l4v4);

    afp_here(p, v6); /* ports only when TCP or UDP follows the fixed header */
    afp_fold6(p, 8, 0);
    afp_fold6(p, 24, 1);
    afp_ld(p, BPF_B, 6);
    afp_op(p, BPF_ST, 7);
    afp_skip(p, 40);

    afp_here(p, l4v4);
    afp_op(p, BPF_LD | BPF_MEM, 7);
    afp_if(p, BPF_JEQ, TL_IPPROTO_TCP, ports, 0);
    afp_if(p, BPF_JEQ, TL_IPPROTO_UDP, ports, 0);
    if (tunnels) {
        afp_if(p, BPF_JEQ, IPPROTO_GRE, gre, 0);
        afp_if(p, BPF_JEQ, IPPROTO_IPIP, inip, 0);
        afp_if(p, BPF_JEQ, IPPROTO_IPV6, inip, np);
    } else {
        afp_goto(p, np);
    }
    afp_here(p, ports);
    afp_ld(p, BPF_H, 0);
    afp_op(p, BPF_ST, 2);
    afp_ld(p, BPF_H, 2);
    afp_op(p, BPF_ST, 3);
    if (tunnels) {
        afp_op(p, BPF_LD | BPF_MEM, 7);
        afp_if(p, BPF_JEQ, TL_IPPROTO_UDP, 0, greskip);
        afp_op(p, BPF_LD | BPF_MEM, 3);
        afp_if(p, BPF_JEQ, AFP_UDP_VXLAN, 0, greskip);
        afp_skip(p, 16); /* UDP and VXLAN headers: an Ethernet frame follows */
        afp_goto(p, o->link);
        afp_here(p, gre);
        afp_op(p, BPF_LD | BPF_IMM, 0); /* what the inner packet does not tell, the outer does */
        afp_op(p, BPF_ST, 2);
        afp_op(p, BPF_ST, 3);
        afp_emit_gre(p, o);
        afp_here(p, inip);
        afp_op(p, BPF_LD | BPF_IMM, 0);
        afp_op(p, BPF_ST, 2);
        afp_op(p, BPF_ST, 3);
        afp_goto(p, o->ip);
        afp_here(p, greskip);
    }
    afp_goto(p, o->mix);
    afp_here(p, np);
    afp_goto(p, o->noports);
    afp_here(p, fail);
    afp_goto(p, o->fail);
}

/* A = tl_spread_side(seed, M[addr], M[port]). */
static void afp_side(struct afp_prog *p, uint32_t seed, uint32_t addr, uint32_t port)
{
    afp_op(p, BPF_LD | BPF_MEM, addr);
    afp_op(p, BPF_ALU | BPF_XOR | BPF_K, seed);
    afp_op(p, BPF_ALU | BPF_MUL | BPF_K, TL_SPREAD_K1);
    afp_op(p, BPF_MISC | BPF_TAX, 0);
    afp_op(p, BPF_LD | BPF_MEM, port);
    afp_op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
    afp_op(p, BPF_ALU | BPF_MUL | BPF_K, TL_SPREAD_K2);
}

static void afp_emit(struct afp_prog *p, uint32_t seed, bool ethernet)
{
    unsigned ip = afp_label(p), link_in = afp_label(p), ip_in = afp_label(p);
    unsigned mix = afp_label(p), noports = afp_label(p), ret0 = afp_label(p);
    struct afp_ip_out outer = { mix, noports, ret0, link_in, ip_in };
    struct afp_ip_out inner = { mix, noports, noports, 0, 0 };

    afp_op(p, BPF_LDX | BPF_IMM, 0);
    if (ethernet)
        afp_emit_link(p, ip, ret0);
    afp_here(p, ip);
    afp_emit_ip(p, &outer);
    afp_here(p, link_in);
    afp_emit_link(p, ip_in, noports);
    afp_here(p, ip_in);
    afp_emit_ip(p, &inner);

    afp_here(p, noports);
    afp_op(p, BPF_LD | BPF_IMM, 0);
    afp_op(p, BPF_ST, 2);
    afp_op(p, BPF_ST, 3);
    afp_here(p, mix); /* tl_spread_mix() */
    afp_side(p, seed, 0, 2);
    afp_op(p, BPF_ST, 4);
    afp_side(p, seed, 1, 3);
    afp_op(p, BPF_MISC | BPF_TAX, 0);
    afp_op(p, BPF_LD | BPF_MEM, 4);
    afp_op(p, BPF_ALU | BPF_ADD | BPF_X, 0);
    afp_op(p, BPF_MISC | BPF_TAX, 0);
    afp_op(p, BPF_ALU | BPF_RSH | BPF_K, 15);
    afp_op(p, BPF_ALU | BPF_XOR | BPF_X, 0);
    afp_op(p, BPF_ALU | BPF_MUL | BPF_K, TL_SPREAD_K2);
    afp_op(p, BPF_ALU | BPF_RSH | BPF_K, 16);
    afp_op(p, BPF_RET | BPF_A, 0);
    afp_here(p, ret0);
    afp_op(p, BPF_RET | BPF_K, 0);
}

size_t tl_afp_spread_prog(struct sock_filter *out, uint32_t seed, int linktype, uint32_t base)
{
    struct afp_prog p = { .out = out, .base = base };
    for (int pass = 0; pass < 2; pass++) {
        p.n = 0;
        p.nlabels = 0;
        p.bad = false;
        afp_emit(&p, seed, linktype == TL_LINK_ETHERNET);
    }
    return p.n <= TL_AFP_PROG_MAX && !p.bad ? p.n : 0;
}

/* ---- reading a block ---- */

static void afp_be16(uint16_t v, uint8_t *out)
{
    out[0] = (uint8_t)(v >> 8);
    out[1] = (uint8_t)v;
}

/* One frame at f, its bytes at f + mac (checked by the caller); false when it cannot be read. */
static bool afp_frame(uint8_t *f, size_t mac, const struct tpacket3_hdr *h, struct tl_afp_walk *w)
{
    struct sockaddr_ll sll;
    memcpy(&sll, f + AFP_HDR, sizeof(sll));
    if (w->loopback && sll.sll_pkttype == PACKET_OUTGOING)
        return true;
    uint8_t *pkt = f + mac;
    uint32_t caplen = h->tp_snaplen, wirelen = h->tp_len;
    if ((h->tp_status & TP_STATUS_VLAN_VALID) && w->linktype == TL_LINK_ETHERNET) {
        if (mac < AFP_SLL_END + AFP_VLAN || caplen < AFP_MACS)
            return false;
        pkt -= AFP_VLAN;
        memmove(pkt, pkt + AFP_VLAN, AFP_MACS);
        afp_be16((h->tp_status & TP_STATUS_VLAN_TPID_VALID) ? h->hv1.tp_vlan_tpid : ETH_P_8021Q,
                 pkt + AFP_MACS);
        afp_be16((uint16_t)h->hv1.tp_vlan_tci, pkt + AFP_MACS + 2);
        caplen += AFP_VLAN;
        wirelen += AFP_VLAN;
    }
    uint64_t ts = (uint64_t)h->tp_sec * 1000000u + h->tp_nsec / 1000u;
    w->frames++;
    w->fn(w->arg, w->linktype, ts, pkt, caplen, wirelen);
    return true;
}

void tl_afp_block_walk(uint8_t *block, size_t size, struct tl_afp_walk *w)
{
    struct tpacket_block_desc bd;
    if (size < sizeof(bd))
        return;
    memcpy(&bd, block, sizeof(bd));
    const struct tpacket_hdr_v1 *b1 = &bd.hdr.bh1;
    size_t end = b1->blk_len < size ? b1->blk_len : size; /* what the kernel wrote */
    size_t off = b1->offset_to_first_pkt;
    uint32_t i = 0;

    for (; i < b1->num_pkts; i++) {
        struct tpacket3_hdr h;
        if (off < sizeof(bd) || off > end || end - off < AFP_SLL_END)
            break;
        memcpy(&h, block + off, sizeof(h));
        size_t room = end - off, mac = h.tp_mac, snap = h.tp_snaplen;
        if (mac < AFP_SLL_END || mac > room || snap > room - mac)
            break;
        if (!afp_frame(block + off, mac, &h, w))
            w->bad++;
        if (i + 1 < b1->num_pkts && (h.tp_next_offset < mac + snap || h.tp_next_offset > room)) {
            i++;
            break;
        }
        off += h.tp_next_offset;
    }
    w->bad += b1->num_pkts - i;
}

/* Walks the blocks the kernel has handed over on one socket; the frames read. */
static int afp_sock_read(struct tl_afp *a, struct afp_sock *s, tl_frame_fn fn, void *arg)
{
    const struct afp_iface *ifc = &a->ifaces[s->iface];
    struct tl_afp_walk w = {
        .linktype = ifc->linktype, .loopback = ifc->loopback, .fn = fn, .arg = arg
    };
    for (unsigned k = 0; k < AFP_BLOCKS_PER_READ; k++) {
        uint8_t *block = s->ring + (size_t)s->next * s->block_size;
        struct tpacket_block_desc *bd = (struct tpacket_block_desc *)(void *)block;
        if (!(__atomic_load_n(&bd->hdr.bh1.block_status, __ATOMIC_ACQUIRE) & TP_STATUS_USER))
            break;
        tl_afp_block_walk(block, s->block_size, &w);
        __atomic_store_n(&bd->hdr.bh1.block_status, TP_STATUS_KERNEL, __ATOMIC_RELEASE);
        s->next = (s->next + 1) % s->nblocks;
    }
    atomic_fetch_add_explicit(&s->packets, w.frames, memory_order_relaxed);
    if (w.bad)
        atomic_fetch_add_explicit(&s->bad, w.bad, memory_order_relaxed);
    return (int)w.frames;
}

static int afp_read_ready(struct tl_afp *a, unsigned worker, tl_frame_fn fn, void *arg)
{
    int got = 0;
    for (int i = 0; i < a->nifaces; i++)
        got += afp_sock_read(a, afp_sock(a, i, worker), fn, arg);
    return got;
}

/* poll said POLLERR: the error is taken (so poll does not say it again) and, unless the
 * link went down (the capture thread watches links), kept for tl_afp_failed. */
static void afp_sock_error(struct afp_sock *s)
{
    int e = 0, none = 0;
    socklen_t len = sizeof(e);
    if (getsockopt(s->fd, SOL_SOCKET, SO_ERROR, &e, &len) < 0)
        e = errno;
    if (e && e != ENETDOWN)
        atomic_compare_exchange_strong(&s->err, &none, e);
}

static int afp_read(void *ctx, unsigned worker, int timeout_ms, tl_frame_fn fn, void *arg)
{
    struct tl_afp *a = ctx;
    struct pollfd pfd[TL_MAX_IFACES + 1];
    int got = afp_read_ready(a, worker, fn, arg);
    if (got > 0 || timeout_ms <= 0)
        return got;
    for (int i = 0; i < a->nifaces; i++)
        pfd[i] = (struct pollfd){ .fd = afp_sock(a, i, worker)->fd, .events = POLLIN };
    pfd[a->nifaces] = (struct pollfd){ .fd = a->wake[worker], .events = POLLIN };
    if (poll(pfd, (nfds_t)a->nifaces + 1, timeout_ms) <= 0)
        return 0;
    for (int i = 0; i < a->nifaces; i++)
        if (pfd[i].revents & POLLERR)
            afp_sock_error(afp_sock(a, i, worker));
    if (pfd[a->nifaces].revents & POLLIN) {
        uint64_t v;
        if (read(a->wake[worker], &v, sizeof(v)) < 0)
            v = 0; /* EAGAIN: another read took it */
    }
    return afp_read_ready(a, worker, fn, arg);
}

static void afp_wake(void *ctx, unsigned worker)
{
    struct tl_afp *a = ctx;
    uint64_t one = 1;
    if (write(a->wake[worker], &one, sizeof(one)) < 0)
        one = 0; /* EAGAIN: the counter is already set */
}

/* Reading PACKET_STATISTICS resets them: each read adds to the totals. */
static void afp_stats(void *ctx, unsigned worker)
{
    struct tl_afp *a = ctx;
    for (int i = 0; i < a->nifaces; i++) {
        struct afp_sock *s = afp_sock(a, i, worker);
        struct tpacket_stats_v3 st;
        socklen_t len = sizeof(st);
        if (getsockopt(s->fd, SOL_PACKET, PACKET_STATISTICS, &st, &len) < 0)
            continue;
        atomic_fetch_add_explicit(&s->drops, st.tp_drops, memory_order_relaxed);
        atomic_fetch_add_explicit(&s->freezes, st.tp_freeze_q_cnt, memory_order_relaxed);
    }
}

void tl_afp_source(struct tl_afp *a, struct tl_pipe_source *src)
{
    *src = (struct tl_pipe_source){ .ctx = a,
                                    .seed = a->seed,
                                    .lag_us = a->lag_us,
                                    .read = afp_read,
                                    .wake = afp_wake,
                                    .stats = afp_stats };
}

/* ---- counters ---- */

static void afp_add(struct tl_afp_counters *c, const struct afp_sock *s)
{
    c->packets += atomic_load_explicit(&s->packets, memory_order_relaxed);
    c->drops += atomic_load_explicit(&s->drops, memory_order_relaxed);
    c->freezes += atomic_load_explicit(&s->freezes, memory_order_relaxed);
    c->bad += atomic_load_explicit(&s->bad, memory_order_relaxed);
}

void tl_afp_iface_counters(const struct tl_afp *a, int iface, struct tl_afp_counters *c)
{
    memset(c, 0, sizeof(*c));
    for (unsigned w = 0; w < a->nworkers; w++)
        afp_add(c, afp_sock(a, iface, w));
}

void tl_afp_worker_counters(const struct tl_afp *a, unsigned worker, struct tl_afp_counters *c)
{
    memset(c, 0, sizeof(*c));
    for (int i = 0; i < a->nifaces; i++)
        afp_add(c, afp_sock(a, i, worker));
}

/*
 * What the interface itself could not take in: rx_missed_errors + rx_fifo_errors, as
 * libpcap counts ps_ifdrop (rx_dropped also counts what the stack dropped after the
 * capture had it). 0 when unreadable.
 */
static uint64_t afp_if_drops(const char *name)
{
    static const char *const files[] = { "rx_missed_errors", "rx_fifo_errors" };
    uint64_t sum = 0;
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        char path[128];
        unsigned long long v = 0;
        snprintf(path, sizeof(path), "/sys/class/net/%s/statistics/%s", name, files[i]);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        if (fscanf(f, "%llu", &v) == 1)
            sum += v;
        fclose(f);
    }
    return sum;
}

uint64_t tl_afp_iface_drops(const struct tl_afp *a, int iface)
{
    uint64_t now = afp_if_drops(a->ifaces[iface].name);
    return now > a->ifaces[iface].if_drops0 ? now - a->ifaces[iface].if_drops0 : 0;
}

int tl_afp_failed(struct tl_afp *a, char *errbuf, size_t n)
{
    for (size_t i = 0; !a->said && i < (size_t)a->nifaces * a->nworkers; i++) {
        int e = atomic_load(&a->socks[i].err);
        if (e) {
            a->said = true;
            snprintf(errbuf, n, "%s: capture failed: %s", a->ifaces[a->socks[i].iface].name,
                     strerror(e));
            return -1;
        }
    }
    return 0;
}

/* ---- opening ---- */

/* The interface's index, link type and own drop counters; -1 with errbuf. */
static int afp_iface_init(struct afp_iface *ifc, const char *name, char *errbuf, size_t n)
{
    struct ifreq ifr;
    snprintf(ifc->name, sizeof(ifc->name), "%s", name);
    ifc->index = (int)if_nametoindex(name);
    if (!ifc->index) {
        if (errno == ENODEV || errno == ENXIO)
            snprintf(errbuf, n, "%s: no such interface", name);
        else
            snprintf(errbuf, n, "%s: cannot look the interface up: %s", name, strerror(errno));
        return -1;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    memset(&ifr, 0, sizeof(ifr));
    snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "%s", name);
    if (s < 0 || ioctl(s, SIOCGIFHWADDR, &ifr) < 0) {
        snprintf(errbuf, n, "%s: cannot read the link type: %s", name, strerror(errno));
        if (s >= 0)
            close(s);
        return -1;
    }
    close(s);
    switch (ifr.ifr_hwaddr.sa_family) {
    case ARPHRD_LOOPBACK:
        ifc->loopback = true;
        ifc->linktype = TL_LINK_ETHERNET;
        break;
    case ARPHRD_ETHER: ifc->linktype = TL_LINK_ETHERNET; break;
    case ARPHRD_NONE: ifc->linktype = TL_LINK_RAW; break; /* tun: IP packets */
    default:
        snprintf(errbuf, n,
                 "%s: link type %u (ARPHRD) is not one capture.method afpacket reads; "
                 "use capture.method: pcap",
                 name, (unsigned)ifr.ifr_hwaddr.sa_family);
        return -1;
    }
    ifc->if_drops0 = afp_if_drops(name);
    return 0;
}

/*
 * capture.filter compiled by libpcap on a handle of the interface itself, so
 * the code is what libpcap would run there (VLAN tags in the frame header
 * included); accepted packets keep capture.snaplen bytes. Without a filter,
 * the program only cuts packets to capture.snaplen.
 */
static int afp_filter(const struct tl_config *cfg, const char *name, struct sock_fprog *out,
                      char *errbuf, size_t n)
{
    uint32_t snap = (uint32_t)cfg->snaplen;
    char perr[PCAP_ERRBUF_SIZE] = "";
    struct bpf_program prog = { 0 };
    pcap_t *h = NULL;
    int rc = -1;

    if (!cfg->filter || !*cfg->filter) {
        out->filter = calloc(1, sizeof(*out->filter));
        if (!out->filter) {
            snprintf(errbuf, n, "out of memory");
            return -1;
        }
        out->filter[0] = (struct sock_filter)BPF_STMT(BPF_RET | BPF_K, snap);
        out->len = 1;
        return 0;
    }
    if (!(h = pcap_create(name, perr))) {
        snprintf(errbuf, n, "%s: %s", name, perr);
        return -1;
    }
    pcap_set_snaplen(h, (int)snap);
    pcap_set_buffer_size(h, 1 << 20); /* opened only to compile the filter */
    if (pcap_activate(h) < 0) {
        snprintf(errbuf, n, "%s: cannot compile the filter there: %s", name, pcap_geterr(h));
        goto fail;
    }
    if (pcap_compile(h, &prog, cfg->filter, 1, PCAP_NETMASK_UNKNOWN) < 0) {
        snprintf(errbuf, n, "%s: bad filter '%s': %s", name, cfg->filter, pcap_geterr(h));
        goto fail;
    }
    out->filter = calloc(prog.bf_len, sizeof(*out->filter));
    if (!out->filter) {
        snprintf(errbuf, n, "out of memory");
        goto fail;
    }
    for (u_int i = 0; i < prog.bf_len; i++) {
        const struct bpf_insn *in = &prog.bf_insns[i];
        uint32_t k = in->code == (BPF_RET | BPF_K) && in->k ? snap : in->k;
        out->filter[i] = (struct sock_filter){ in->code, in->jt, in->jf, k };
    }
    out->len = (unsigned short)prog.bf_len;
    rc = 0;
fail:
    pcap_freecode(&prog);
    pcap_close(h);
    return rc;
}

/* Joins socket s (of interface i) to the interface's group, made by the first one. */
static int afp_fanout(const struct tl_config *cfg, struct afp_sock *s, unsigned worker,
                      uint32_t seed, int linktype, uint16_t *id, const char *name, char *errbuf,
                      size_t n)
{
    uint32_t mode = PACKET_FANOUT_CBPF | PACKET_FANOUT_FLAG_DEFRAG;
    uint32_t arg = (uint32_t)*id | mode << 16;
    int val;
    socklen_t len = sizeof(val);

    if (worker == 0 && !cfg->afp_fanout) /* the kernel picks a free id */
        arg = (mode | PACKET_FANOUT_FLAG_UNIQUEID) << 16;
    memcpy(&val, &arg, sizeof(val));
    if (setsockopt(s->fd, SOL_PACKET, PACKET_FANOUT, &val, sizeof(val)) < 0) {
        if (errno == EINVAL && cfg->afp_fanout)
            snprintf(errbuf, n,
                     "%s: fanout group %u is in use by another program "
                     "(capture.afpacket.fanout_group)",
                     name, *id);
        else
            snprintf(errbuf, n, "%s: cannot join a fanout group: %s", name, strerror(errno));
        return -1;
    }
    if (worker != 0)
        return 0;
    if (getsockopt(s->fd, SOL_PACKET, PACKET_FANOUT, &val, &len) < 0) {
        snprintf(errbuf, n, "%s: cannot read the fanout group: %s", name, strerror(errno));
        return -1;
    }
    *id = (uint16_t)((uint32_t)val & 0xffff);
    struct sock_filter prog[TL_AFP_PROG_MAX];
    struct sock_fprog fp = {
        (unsigned short)tl_afp_spread_prog(prog, seed, linktype, (uint32_t)SKF_LL_OFF), prog
    };
    if (setsockopt(s->fd, SOL_PACKET, PACKET_FANOUT_DATA, &fp, sizeof(fp)) < 0) {
        snprintf(errbuf, n, "%s: the kernel refused the fanout program: %s", name, strerror(errno));
        return -1;
    }
    return 0;
}

/* The ring of one socket: block geometry from the options, mapped. */
static int afp_ring(const struct tl_config *cfg, struct afp_sock *s, const char *name, char *errbuf,
                    size_t n)
{
    uint32_t frame = TPACKET_ALIGN(AFP_SLL_END + 16 + AFP_VLAN + (uint32_t)cfg->snaplen);
    struct tpacket_req3 req = {
        .tp_block_size = (unsigned)s->block_size,
        .tp_block_nr = s->nblocks,
        .tp_frame_size = frame,
        .tp_frame_nr = (unsigned)(s->block_size / frame) * s->nblocks,
        .tp_retire_blk_tov = (unsigned)cfg->afp_block_ms,
    };
    int v = TPACKET_V3, reserve = AFP_VLAN;
    if (setsockopt(s->fd, SOL_PACKET, PACKET_VERSION, &v, sizeof(v)) < 0 ||
        setsockopt(s->fd, SOL_PACKET, PACKET_RESERVE, &reserve, sizeof(reserve)) < 0) {
        snprintf(errbuf, n, "%s: TPACKET_V3 rings are not supported here: %s", name,
                 strerror(errno));
        return -1;
    }
    void *map = MAP_FAILED;
    size_t bytes = s->block_size * s->nblocks;
    if (setsockopt(s->fd, SOL_PACKET, PACKET_RX_RING, &req, sizeof(req)) < 0 ||
        (map = mmap(NULL, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, s->fd, 0)) == MAP_FAILED) {
        snprintf(errbuf, n,
                 "%s: cannot get a ring of %u blocks of %zu KiB (capture.afpacket.blocks, "
                 "capture.afpacket.block_size, capture.buffer_mb): %s",
                 name, s->nblocks, s->block_size >> 10, strerror(errno));
        return -1;
    }
    s->ring = map;
    return 0;
}

static int afp_sock_open(struct tl_afp *a, const struct tl_config *cfg, int iface, unsigned worker,
                         const struct sock_fprog *filter, uint16_t *group, char *errbuf, size_t n)
{
    struct afp_sock *s = afp_sock(a, iface, worker);
    const struct afp_iface *ifc = &a->ifaces[iface];
    s->iface = iface;
    s->fd = socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); /* no packets until bound */
    if (s->fd < 0) {
        if (errno == EPERM || errno == EACCES)
            snprintf(errbuf, n, "%s: permission denied (run as root or grant CAP_NET_RAW)",
                     ifc->name);
        else
            snprintf(errbuf, n, "%s: cannot open a packet socket: %s", ifc->name, strerror(errno));
        return -1;
    }
    if (afp_ring(cfg, s, ifc->name, errbuf, n) < 0)
        return -1;
    if (setsockopt(s->fd, SOL_SOCKET, SO_ATTACH_FILTER, filter, sizeof(*filter)) < 0) {
        snprintf(errbuf, n, "%s: cannot attach the filter: %s", ifc->name, strerror(errno));
        return -1;
    }
    struct sockaddr_ll sll = { .sll_family = AF_PACKET,
                               .sll_protocol = htons(ETH_P_ALL),
                               .sll_ifindex = ifc->index };
    if (bind(s->fd, (struct sockaddr *)&sll, sizeof(sll)) < 0) {
        snprintf(errbuf, n, "%s: cannot bind: %s", ifc->name, strerror(errno));
        return -1;
    }
    struct packet_mreq mr = { .mr_ifindex = ifc->index, .mr_type = PACKET_MR_PROMISC };
    if (cfg->promisc && setsockopt(s->fd, SOL_PACKET, PACKET_ADD_MEMBERSHIP, &mr, sizeof(mr)) < 0) {
        snprintf(errbuf, n, "%s: cannot set promiscuous mode: %s", ifc->name, strerror(errno));
        return -1;
    }
    return afp_fanout(cfg, s, worker, a->seed, ifc->linktype, group, ifc->name, errbuf, n);
}

/* Block size and count from the options: a packet of capture.snaplen must fit a block. */
static int afp_geometry(const struct tl_config *cfg, unsigned nworkers, size_t *block,
                        unsigned *nblocks, char *errbuf, size_t n)
{
    size_t page = (size_t)sysconf(_SC_PAGESIZE);
    size_t need = TPACKET_ALIGN(sizeof(struct tpacket_block_desc)) +
                  TPACKET_ALIGN(AFP_SLL_END + 16 + AFP_VLAN + (size_t)cfg->snaplen);
    *block = (size_t)cfg->afp_block_size;
    if (*block % page) {
        snprintf(errbuf, n,
                 "capture.afpacket.block_size: %zu is not a multiple of the page size (%zu)",
                 *block, page);
        return -1;
    }
    if (*block < need) {
        snprintf(errbuf, n,
                 "capture.afpacket.block_size: %zu bytes cannot hold a packet of capture.snaplen "
                 "(%llu bytes): at least %zu",
                 *block, (unsigned long long)cfg->snaplen, need);
        return -1;
    }
    uint64_t per = (cfg->buffer_mb << 20) / nworkers / *block;
    *nblocks = cfg->afp_blocks ? (unsigned)cfg->afp_blocks
                               : (unsigned)(per < AFP_MIN_BLOCKS ? AFP_MIN_BLOCKS
                                            : per > 65536        ? 65536
                                                                 : per);
    return 0;
}

struct tl_afp *tl_afp_open(const struct tl_config *cfg, const char (*names)[64], int nifaces,
                           unsigned nworkers, char *errbuf, size_t n)
{
    struct tl_afp *a = calloc(1, sizeof(*a));
    size_t block;
    unsigned nblocks;

    if (!a || nifaces > TL_MAX_IFACES || !nworkers) {
        snprintf(errbuf, n, a ? "too many interfaces" : "out of memory");
        free(a);
        return NULL;
    }
    a->nworkers = nworkers;
    a->lag_us = cfg->afp_block_ms * 1000u;
    if (getrandom(&a->seed, sizeof(a->seed), 0) != sizeof(a->seed))
        a->seed = (uint32_t)time(NULL) ^ (uint32_t)getpid() * TL_SPREAD_K1;
    a->socks = calloc((size_t)nifaces * nworkers, sizeof(*a->socks));
    a->wake = calloc(nworkers, sizeof(*a->wake));
    if (!a->socks || !a->wake) {
        snprintf(errbuf, n, "out of memory");
        goto fail;
    }
    for (size_t i = 0; i < (size_t)nifaces * nworkers; i++)
        a->socks[i].fd = -1;
    for (unsigned w = 0; w < nworkers; w++)
        a->wake[w] = -1;
    a->nifaces = nifaces;
    if (afp_geometry(cfg, nworkers, &block, &nblocks, errbuf, n) < 0)
        goto fail;
    for (unsigned w = 0; w < nworkers; w++)
        if ((a->wake[w] = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC)) < 0) {
            snprintf(errbuf, n, "cannot make an eventfd: %s", strerror(errno));
            goto fail;
        }
    for (int i = 0; i < nifaces; i++) {
        struct sock_fprog filter = { 0 };
        uint16_t group = (uint16_t)(cfg->afp_fanout + (uint64_t)i);
        if (afp_iface_init(&a->ifaces[i], names[i], errbuf, n) < 0 ||
            afp_filter(cfg, names[i], &filter, errbuf, n) < 0)
            goto fail;
        int rc = 0;
        for (unsigned w = 0; w < nworkers && rc == 0; w++) {
            afp_sock(a, i, w)->block_size = block;
            afp_sock(a, i, w)->nblocks = nblocks;
            rc = afp_sock_open(a, cfg, i, w, &filter, &group, errbuf, n);
        }
        free(filter.filter);
        if (rc < 0)
            goto fail;
    }
    return a;
fail:
    tl_afp_close(a);
    return NULL;
}

void tl_afp_close(struct tl_afp *a)
{
    if (!a)
        return;
    for (size_t i = 0; a->socks && i < (size_t)a->nifaces * a->nworkers; i++) {
        struct afp_sock *s = &a->socks[i];
        if (s->ring)
            munmap(s->ring, s->block_size * s->nblocks);
        if (s->fd >= 0)
            close(s->fd);
    }
    for (unsigned w = 0; a->wake && w < a->nworkers; w++)
        if (a->wake[w] >= 0)
            close(a->wake[w]);
    free(a->socks);
    free(a->wake);
    free(a);
}
