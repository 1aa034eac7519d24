/*
 * key.h - the bidirectional flow key and the hash that picks a worker.
 *
 * A key is canonical: the lower (address, port) endpoint is side a, so both
 * directions of a flow build the same bytes. It has no padding and is zeroed
 * before it is filled, so it can be hashed and compared as bytes.
 */
#ifndef TL_FLOWS_KEY_H
#define TL_FLOWS_KEY_H

#include <stdbool.h>
#include <stdint.h>

#include "packet.h"

struct tl_fkey {
    uint8_t a[16], b[16]; /* addresses; IPv4 v4-mapped */
    uint32_t tunnel_id;
    uint16_t pa, pb; /* ports; ICMP: see key.c */
    uint16_t vlan[TL_MAX_VLANS];
    uint16_t icmp_id;
    uint8_t proto;
    uint8_t tunnel;
};

_Static_assert(sizeof(struct tl_fkey) == 48, "flow key must have no padding, and be tl_hash48's");

/*
 * Builds the canonical key of a decoded (non-fragment) packet. *from_a is true
 * when the packet was sent by side a.
 */
void tl_fkey_make(struct tl_fkey *k, const struct tl_decoded *d, bool *from_a);

/*
 * The secret of the tables' hash (flows, fragments): eight words spread from
 * flows.hash_seed, or from getrandom() when that is 0, so that nobody outside
 * can choose keys that all fall in one bucket (every packet of theirs would
 * walk the chain). False when getrandom() failed and the seed is the clock's
 * and the pid's.
 */
struct tl_hash_secret {
    uint64_t s[8];
};

bool tl_hash_secret_init(struct tl_hash_secret *ks, uint64_t seed);

/* A keyed hash of 48 bytes: a flow key (its bucket in a worker's table), a fragment's datagram. */
uint64_t tl_hash48(const void *p, const struct tl_hash_secret *ks);

/*
 * The same hash under a secret built in, so the same in every run: it picks a
 * flow's worker (which flows share a worker's caps must not change from run to
 * run: the events would) and orders the coordinator's simultaneous messages of
 * different flows (the domain statistics they feed).
 */
uint64_t tl_fkey_fixed(const struct tl_fkey *k);

/* A 64-bit hash of bytes with a seed (not cryptographic; spreads keys evenly). */
uint64_t tl_hash64(const void *p, size_t n, uint64_t seed);

/* For ICMP: the counterpart of a reply type (echo reply -> echo request), or -1. */
int tl_icmp_request_type(int ipv, uint8_t type);

#endif
