/*
 * reasm.h - TCP stream reassembly, one direction of one flow at a time.
 *
 * Bytes come out in sequence order through a sink, each exactly once: in-order
 * payload straight from the caller's packet (no copy), out-of-order payload
 * copied and held until the hole before it fills, is declared lost, or a cap
 * bites. A hole declared lost comes out as a gap of its byte count, never as
 * bytes. Overlaps keep the first copy seen; a later copy with different bytes
 * is counted. Sequence numbers are compared in 32-bit serial arithmetic
 * (RFC 1982), so streams may wrap at 2^32.
 *
 * Memory: only held bytes are charged, to the direction (reassembly.max_per_flow)
 * and to the worker (reassembly.max_per_worker). A segment that would pass
 * either cap first makes the earliest hole lost (and so on) until it fits; a
 * segment that does not fit even then is delivered after a gap. Held bytes are
 * freed as they are delivered. One thread owns a struct tl_reasm and all the
 * directions charged to it.
 */
#ifndef TL_FLOWS_REASM_H
#define TL_FLOWS_REASM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* Proposed for stats.h as reassembly.<name>. */
struct tl_reasm_stats {
    uint64_t segments;          /* segments given to tl_reasm_segment() */
    uint64_t out_of_order;      /* segments held (copied) because a hole came before them */
    uint64_t retransmitted;     /* segments carrying bytes already seen (delivered or held) */
    uint64_t overlap_conflicts; /* segments with bytes that differ from the copy kept */
    uint64_t gaps;              /* holes declared lost */
    uint64_t gap_bytes;         /* bytes in those holes (the flow's missed bytes) */
    uint64_t out_of_window;     /* segments starting > 2^30 bytes ahead of the stream: ignored */
    uint64_t flow_capped;       /* holes declared lost because of max_per_flow */
    uint64_t worker_capped;     /* holes declared lost because of max_per_worker (or no memory) */
    uint64_t unacked_capped;    /* holes declared lost because of max_unacked */
};

/* A worker's reassembly: its caps, the bytes all its directions hold, its counters. */
struct tl_reasm {
    uint64_t max_per_flow;   /* reassembly.max_per_flow: bytes held by one direction */
    uint64_t max_per_worker; /* reassembly.max_per_worker: bytes held by all directions */
    uint64_t max_unacked;    /* reassembly.max_unacked: until the other side sends an ACK after
                              * the direction's first byte (tl_reasm_ack); 0: none */
    uint64_t used;           /* bytes held now by all directions (a gauge) */
    struct tl_reasm_stats st;
};

struct tl_reasm_run; /* private: one held run of contiguous out-of-order bytes */

/*
 * One direction of a flow: 24 bytes, embeddable, zeroed = tl_reasm_init().
 * Read-only outside reasm.c. At most TL_REASM_MAX_RUNS runs are held (past it
 * the earliest hole is declared lost, counted as flow_capped), which bounds
 * both the per-run overhead and the cost of an insertion.
 */
enum { TL_REASM_MAX_RUNS = 256 };

struct tl_reasm_dir {
    struct tl_reasm_run *held; /* sorted, disjoint, all after next */
    uint32_t next;             /* sequence number of the next byte to deliver */
    uint32_t held_bytes;       /* bytes in held, charged to the worker */
    uint32_t fin_seq;          /* sequence number of the FIN, once seen */
    uint16_t nruns;            /* runs in held */
    uint8_t flags;             /* private */
};

/*
 * Where in-order bytes go (the worker forwards them to the dissector). dir is
 * passed through from the caller. The bytes are borrowed for the call only. A
 * sink must not call back into the direction that called it.
 */
struct tl_reasm_sink {
    void (*data)(void *arg, int dir, const uint8_t *p, size_t n);
    void (*gap)(void *arg, int dir, uint64_t n); /* n bytes will never come; may be NULL */
    void *arg;
};

/* One TCP segment as the capture saw it. */
struct tl_reasm_seg {
    uint32_t seq;     /* sequence number from the TCP header (of the SYN, when SYN is set) */
    uint8_t flags;    /* TCP flags (TL_TH_*); SYN, FIN and RST are used */
    const uint8_t *p; /* captured payload, borrowed for the call */
    uint32_t len;     /* captured payload bytes */
    uint32_t wire;    /* payload bytes per the IP and TCP headers; >= len when the capture cut it */
};

void tl_reasm_init(struct tl_reasm_dir *d);

/*
 * Feeds one segment of direction dir and delivers, in order, every byte that it
 * made in order. The SYN flag takes one sequence number: the payload starts at
 * seq + 1 (as in TCP Fast Open). The first segment seen defines the start of
 * the stream (a capture may begin mid-stream: no SYN needed); bytes before it
 * are never delivered. A SYN before any byte restarts the stream at its seq.
 * Payload behind the stream (retransmissions, keep-alives at next - 1) is
 * dropped. A payload cut by the capture (len < wire) loses its tail: when it
 * comes in order the tail is declared a gap at once, as a retransmission would
 * be cut the same way. FIN marks the end: bytes after it are ignored. RST ends
 * the direction: held bytes are flushed (holes as gaps) and later segments
 * are ignored; the RST's own payload is not delivered.
 */
void tl_reasm_segment(struct tl_reasm_dir *d, int dir, const struct tl_reasm_seg *seg,
                      const struct tl_reasm_sink *sink, struct tl_reasm *r);

/*
 * The peer acknowledged every byte before ack: a hole below it was lost by the
 * capture, not the network (the peer received it), so it is declared lost now
 * and the bytes after it delivered. An ack behind the stream, or more than
 * 2^30 ahead of it, is ignored. Call it with the ACK field of every segment of
 * the other direction that has ACK set: one after the direction's first byte
 * also lifts max_unacked (the other side is in the capture).
 */
void tl_reasm_ack(struct tl_reasm_dir *d, int dir, uint32_t ack, const struct tl_reasm_sink *sink,
                  struct tl_reasm *r);

/*
 * End of the flow (or of the wait for a hole): every hole is declared lost and
 * every held byte delivered, with gaps between; bytes missing before a FIN
 * seen are a final gap. The direction stays usable.
 */
void tl_reasm_flush(struct tl_reasm_dir *d, int dir, const struct tl_reasm_sink *sink,
                    struct tl_reasm *r);

/*
 * Has the direction ended, so that no byte of it can come any more? After a
 * RST, or once every byte up to its FIN was delivered (nothing held).
 */
bool tl_reasm_ended(const struct tl_reasm_dir *d);
/* Did a RST end it? */
bool tl_reasm_reset(const struct tl_reasm_dir *d);
/* Frees held bytes without delivering them, gives them back to r and re-inits d. */
void tl_reasm_free(struct tl_reasm_dir *d, struct tl_reasm *r);

#endif
