/*
 * defrag.h - IPv4 and IPv6 fragment reassembly with bounded memory.
 *
 * One instance per worker, used by one thread. Datagrams are keyed by IP
 * version, addresses, identification, protocol (IPv4 only: RFC 8200 4.5 keys
 * IPv6 without it), VLAN ids and tunnel id. Memory is bounded by
 * defrag.max_datagrams and defrag.max_bytes; every drop has a counter in stats.h.
 */
#ifndef TL_FLOWS_DEFRAG_H
#define TL_FLOWS_DEFRAG_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "key.h"
#include "packet.h"
#include "stats.h"

struct tl_defrag;

/* Borrows cfg, st and the hash's secret ks for the life of the instance; NULL when out of
 * memory. */
struct tl_defrag *tl_defrag_new(const struct tl_config *cfg, struct tl_stats *st,
                                const struct tl_hash_secret *ks);
void tl_defrag_free(struct tl_defrag *df);

/*
 * Feeds one fragment: d came from tl_decode() with d->is_fragment set, pkt are
 * the d->caplen packet bytes it describes (only the innermost IP header at
 * d->l3_off is read). When the fragment completes a datagram, returns the
 * reassembled IP datagram and its length in *len; it stays valid until the
 * next call on df. Otherwise returns NULL (held, or dropped and counted).
 *
 * IPv4: the first fragment's header (options included) with MF and offset
 * cleared, total length and checksum recomputed. IPv6: a fresh 40-byte header
 * from the first fragment's, next header = the fragmented payload's protocol;
 * extension headers before the Fragment header are dropped. Either decodes
 * with tl_decode(&d2, TL_LINK_RAW, p, *len); VLANs, tunnel and MACs of the
 * original packet are the caller's to carry over.
 */
const uint8_t *tl_defrag_add(struct tl_defrag *df, const struct tl_decoded *d, const uint8_t *pkt,
                             uint32_t *len);

/* Drops datagrams whose first fragment is older than defrag.timeout at packet time now_us. */
void tl_defrag_expire(struct tl_defrag *df, uint64_t now_us);

/* Datagrams held now; *bytes (if not NULL) gets the bytes they hold, as charged to max_bytes. */
size_t tl_defrag_held(const struct tl_defrag *df, uint64_t *bytes);

#endif
