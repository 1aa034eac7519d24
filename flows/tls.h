/*
 * tls.h - the `tls` event: what nDPI 4.2 read of a TLS, DTLS or QUIC handshake.
 *
 * One event per flow nDPI names TLS, DTLS, QUIC or a protocol over them
 * (Google over TLS, IMAPS...) once it has read a ClientHello or ServerHello,
 * written when nDPI is done with the flow or at the flow's end. Filling
 * (tl_tls_fill) is apart from writing, so the caller decides where the record
 * goes; the record borrows the arena it was filled in.
 */
#ifndef TL_FLOWS_TLS_H
#define TL_FLOWS_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "arena.h"
#include "dissect.h"
#include "flow.h"

struct ndpi_flow_struct;

/*
 * What the worker reads itself while nDPI follows a flow, because nDPI 4.2
 * does not keep it: the protocol the ServerHello selected (ALPN, RFC 7301
 * 3.1; nDPI stores only the client's list) and the version it selected (nDPI
 * keeps the ClientHello's unless the ServerHello has supported_versions), and
 * the QUIC version of the first long-header packet (RFC 9000 17.2). Zeroed
 * with the nDPI state.
 */
struct tl_tls_seen {
    uint32_t quic_version;
    uint16_t version;  /* the ServerHello's; 0: none read */
    bool server_hello; /* a ServerHello was read (or could not be): stop looking */
    uint8_t next_protocol_len;
    char next_protocol[255]; /* an ALPN name is at most 255 bytes: its length is one byte */
};

/* The `tls` record. Strings and lists point into the arena given to tl_tls_fill. */
struct tl_tls_rec {
    struct tl_flow_ids ids;
    char version[24];
    char cipher[64];
    struct tl_str server_name;
    struct tl_str next_protocol;
    struct tl_strlist alpn;
    char ja3[33], ja3s[33];
    struct tl_str subject, issuer;
    uint64_t cert_not_before, cert_not_after;
    char cert_sha1[41];
    struct tl_strlist san_dns, san_ip, san_email;
    bool sni_checked, sni_matches_cert;
    bool quic;
    uint32_t quic_version;
    bool value_capped;
    uint32_t ncapped; /* values and lists cut (not a field: the tls.capped counter) */
};

/* A responder's TCP payload, while nDPI follows the flow: reads a ServerHello's version and ALPN.
 */
void tl_tls_server_data(struct tl_tls_seen *s, const uint8_t *p, size_t n);

/* An originator's UDP payload, while nDPI follows the flow: notes a QUIC version. */
void tl_tls_quic_data(struct tl_tls_seen *s, const uint8_t *p, size_t n);

/* Is this nDPI protocol id TLS, DTLS, QUIC or one nDPI names for TLS on its own port? */
bool tl_tls_protocol(uint16_t ndpi_id);

/*
 * Does nDPI still have something to read from a TLS flow it has classified:
 * the handshake has begun and neither the certificate nor a TLS 1.3
 * ServerHello (whose certificate is encrypted) has come by? nDPI's own
 * ndpi_extra_dissection_possible() says no for the protocols that ride on TLS
 * (IMAPS, SMTPS...) right after the ClientHello. ip_proto: the flow's transport.
 */
bool tl_tls_wants_more(const struct ndpi_flow_struct *nf, uint8_t ip_proto);

/*
 * Fills r from nDPI's flow state nf and what the worker saw, with the
 * strings copied into arena (cut to lim->max_value_len, lists to
 * lim->max_items: r->value_capped and r->ncapped say so). Returns false, r
 * untouched beyond zeroing, when nf is not a TLS/DTLS/QUIC flow or nDPI read
 * no hello of it. r->ids stays zeroed: the caller fills it (tl_flow_ids_fill).
 */
bool tl_tls_fill(struct tl_tls_rec *r, const struct ndpi_flow_struct *nf,
                 const struct tl_tls_seen *seen, const struct tl_dissect_limits *lim,
                 struct tl_arena *arena);

#endif
