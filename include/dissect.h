/*
 * dissect.h - the pure decoders: bytes in, typed records out.
 *
 * Nothing here does I/O, keeps global state or allocates.
 */
#ifndef TL_DISSECT_H
#define TL_DISSECT_H

#include <stdbool.h>
#include <stdint.h>

#include "packet.h"

/* Is this libpcap link type one tl_decode() understands? */
bool tl_link_supported(int linktype);

/*
 * Decodes link, network and transport headers of one captured packet into d
 * (d->ts_us, caplen and wirelen are the caller's; everything else is set here).
 * Tunnels (GRE, ERSPAN I/II/III, VXLAN, IP-in-IP) are followed to the innermost
 * IP packet; the outermost tunnel is recorded. Returns d->err: TL_DECODE_OK when
 * a flow key could be formed (for a fragment: addresses, protocol and fragment
 * fields only).
 */
enum tl_decode_err tl_decode(struct tl_decoded *d, int linktype, const uint8_t *pkt,
                             uint32_t caplen);

#endif
