/*
 * table.h - a worker's flow table.
 *
 * Flows live in a hash table (chained) and in one LRU list per timeout class,
 * ordered by last activity. All flows of a class share one timeout, so the head
 * of each list is the next to expire and expiry costs O(expired). Flow memory
 * comes from slabs that grow up to flows.max_per_worker and are reused.
 */
#ifndef TL_FLOWS_TABLE_H
#define TL_FLOWS_TABLE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "key.h"

struct ndpi_flow_struct;
struct tl_l7;
struct tl_dissector;

enum tl_tclass {
    TL_TC_TCP_SYN, /* TCP not (yet) established */
    TL_TC_TCP_EST, /* TCP established or seen mid-stream */
    TL_TC_CLOSED,  /* TCP closed by FIN both ways or RST: lingering */
    TL_TC_UDP,
    TL_TC_ICMP,
    TL_TC_OTHER,
    TL_TC_N
};

enum tl_end_reason {
    TL_END_NONE,
    TL_END_IDLE,
    TL_END_ACTIVE,
    TL_END_FIN,
    TL_END_RST,
    TL_END_EVICTED,
    TL_END_SHUTDOWN
};

/* Per-direction TCP and traffic state. Index 0 is the originator, 1 the responder. */
struct tl_fdir {
    uint64_t pkts, bytes, ip_bytes;             /* cumulative */
    uint64_t rep_pkts, rep_bytes, rep_ip_bytes; /* values at the last record */
    uint32_t isn, seq_hi;                       /* TCP: first and highest sequence seen */
    uint64_t seq_bytes;                         /* TCP: payload bytes by sequence span */
    bool seq_init;
    uint8_t mac[6];
    uint16_t flags; /* TL_FD_* below */
};

enum {
    TL_FD_SYN = 1 << 0,    /* SYN without ACK */
    TL_FD_SYNACK = 1 << 1, /* SYN with ACK */
    TL_FD_ACK = 1 << 2,    /* pure ACK */
    TL_FD_DATA = 1 << 3,
    TL_FD_FIN = 1 << 4,
    TL_FD_RST = 1 << 5,
    TL_FD_RETX = 1 << 6,
    TL_FD_ZWIN = 1 << 7,
    TL_FD_MAC_SEEN = 1 << 8,
};

struct tl_flow {
    struct tl_flow *hnext;       /* hash chain */
    struct tl_flow *prev, *next; /* LRU list of its class */
    struct tl_fkey key;
    uint64_t hash;
    uint64_t first_us, last_us;
    uint64_t rec_start_us; /* start of the current (interim) record */
    struct tl_fdir dir[2];
    struct ndpi_flow_struct *ndpi;   /* freed once classification ends */
    struct tl_l7 *l7;                /* dissector state, while a dissector follows the flow */
    const struct tl_dissector *l7_d; /* the flow's dissector, even while its state is freed */
    uint16_t app_master, app_proto, app_category;
    uint64_t app_risk;
    uint16_t ndpi_pkts;
    bool ndpi_done;
    bool l7_done;   /* a dissector was attached (or refused) once */
    bool l7_probed; /* its first payload was offered to the dissectors' probes */
    bool orig_is_a; /* the originator is the key's side a */
    bool flipped;   /* originator corrected by SYN/SYN-ACK */
    bool has_mac;
    uint8_t tclass; /* enum tl_tclass */
    uint8_t ipv;
    uint8_t icmp_type, icmp_code; /* of the originator's first ICMP packet */
    uint16_t ether_type;
    uint8_t nvlan;
    uint8_t tunnel, outer_ipv;
    uint32_t tunnel_id;
    uint8_t outer_src[16], outer_dst[16];
    char history[24];
    uint8_t hist_len;
    uint8_t service; /* registry index + 1 of the dissector that parsed a message; 0: none */
    uint64_t missed_bytes;
};

struct tl_fslab;

struct tl_ftable {
    struct tl_flow **bucket;
    size_t mask;
    struct tl_flow *head[TL_TC_N], *tail[TL_TC_N];
    size_t count, max;
    struct tl_flow *free_list;
    struct tl_fslab *slabs;
    size_t allocated;
};

int tl_ftable_init(struct tl_ftable *t, size_t max_flows);
void tl_ftable_free(struct tl_ftable *t);
struct tl_flow *tl_ftable_find(struct tl_ftable *t, const struct tl_fkey *k, uint64_t hash);
/* A zeroed flow with key and hash set, in class tc; NULL when the table is full. */
struct tl_flow *tl_ftable_insert(struct tl_ftable *t, const struct tl_fkey *k, uint64_t hash,
                                 enum tl_tclass tc);
/* Unlinks f and returns its memory to the pool. */
void tl_ftable_remove(struct tl_ftable *t, struct tl_flow *f);
/* Moves f to the tail (most recent) of class tc. */
void tl_ftable_touch(struct tl_ftable *t, struct tl_flow *f, enum tl_tclass tc);
/* The flow with the oldest last activity across all classes, or NULL. */
struct tl_flow *tl_ftable_oldest(struct tl_ftable *t);

#endif
