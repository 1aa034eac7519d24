/*
 * flow.h - what every event about a flow carries, and the flow event type.
 *
 * Records of every flow-related event type (flow, dns, http, ...) start with a
 * struct tl_flow_ids, and their field tables start with TL_FLOW_ID_FIELDS, so the
 * connection fields are declared once.
 */
#ifndef TL_FLOW_H
#define TL_FLOW_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "packet.h"
#include "schema.h"

enum { TL_UID_LEN = 20, TL_CID_LEN = 32 };

struct tl_flow_ids {
    uint64_t ts;                   /* flow start, or the event's own time */
    char uid[TL_UID_LEN];          /* "C" + base62, from a seeded hash of key and start */
    char community_id[TL_CID_LEN]; /* "1:" + base64(SHA-1) */
    struct tl_ip orig_h, resp_h;
    uint16_t orig_p, resp_p;
    const char *proto; /* "tcp", "udp", "icmp", or the IANA number as text */
    uint16_t vlan[TL_MAX_VLANS];
    uint8_t nvlan;
};

#define TL_FLOW_ID_FIELDS(rec)                                                                     \
    TL_FIELD(rec, ids.ts, TS, "ts", "time of the first packet (flow) or of the message"),          \
        TL_FIELD(rec, ids.uid, CHARS, "uid", "flow identifier shared by all events of a flow"),    \
        TL_FIELD_P(rec, ids.community_id, CHARS, "community_id",                                   \
                   "Community ID v1 of the flow: a hash of its addresses and ports"),              \
        TL_FIELD_P(rec, ids.orig_h, IP, "id.orig_h", "originator address"),                        \
        TL_FIELD(rec, ids.orig_p, U16, "id.orig_p", "originator port (ICMP: type)"),               \
        TL_FIELD_P(rec, ids.resp_h, IP, "id.resp_h", "responder address"),                         \
        TL_FIELD(rec, ids.resp_p, U16, "id.resp_p", "responder port (ICMP: code)"),                \
        TL_FIELD(rec, ids.proto, CSTR, "proto",                                                    \
                 "transport protocol: tcp, udp, icmp, or its number"),                             \
        TL_FIELD_LIST(rec, ids.vlan, ids.nvlan, "vlan", "VLAN ids, outermost first")

/*
 * Community ID v1 (https://github.com/corelight/community-id-spec): writes
 * "1:<base64>" into out. Addresses are 4 bytes (ipv 4) or 16 bytes. For ICMP the
 * ports are type and code, mapped to the request/reply counterpart as the spec says.
 */
void tl_community_id(char out[TL_CID_LEN], uint16_t seed, int ipv, const uint8_t *saddr,
                     const uint8_t *daddr, uint8_t proto, uint16_t sport, uint16_t dport);

/* Zeek-like uid: "C" followed by base62 of a 64-bit hash. */
void tl_uid_format(char out[TL_UID_LEN], uint64_t h);

/* The `flow` event (flows/record.c) and the `tls` event (flows/tls.c). */
extern const struct tl_event_type tl_flow_event, tl_tls_event;

#endif
