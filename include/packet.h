/*
 * packet.h - a captured packet and what the L2-L4 decoder learned from it.
 *
 * The decoder (dissect/decode.c) fills struct tl_decoded from raw link-layer
 * bytes. Offsets, not pointers, locate the layers, so a decoded packet can be
 * copied into a ring slot together with its bytes and used by another thread.
 */
#ifndef TL_PACKET_H
#define TL_PACKET_H

#include <stdbool.h>
#include <stdint.h>

enum { TL_SNAPLEN = 65535, TL_MAX_VLANS = 2 };

/* Link types we decode: libpcap's DLT/LINKTYPE numbers. */
enum tl_linktype {
    TL_LINK_NULL = 0, /* BSD loopback: 4-byte host-order family */
    TL_LINK_ETHERNET = 1,
    TL_LINK_RAW = 101,  /* LINKTYPE_RAW: raw IPv4/IPv6 */
    TL_LINK_LOOP = 108, /* OpenBSD loopback: 4-byte network-order family */
    TL_LINK_LINUX_SLL = 113,
    TL_LINK_IPV4 = 228,
    TL_LINK_IPV6 = 229,
    TL_LINK_LINUX_SLL2 = 276,
    TL_LINK_DLT_RAW = 12,   /* DLT_RAW on most platforms */
    TL_LINK_DLT_RAW14 = 14, /* DLT_RAW on OpenBSD */
};

enum tl_tunnel {
    TL_TUNNEL_NONE,
    TL_TUNNEL_GRE,
    TL_TUNNEL_ERSPAN_I,
    TL_TUNNEL_ERSPAN_II,
    TL_TUNNEL_ERSPAN_III,
    TL_TUNNEL_VXLAN,
    TL_TUNNEL_IPIP, /* IP in IP (4in4, 6in4, 4in6, 6in6) */
    TL_TUNNEL_PPTP, /* enhanced GRE (version 1) carrying PPP */
};

/* A PPTP packet whose PPP payload is not followed (it stays the tunnel's own flow). */
enum tl_ppp_skip {
    TL_PPP_NONE,
    TL_PPP_CONTROL,    /* LCP, authentication, network control (IPCP, CCP...): 0x8000 and up */
    TL_PPP_COMPRESSED, /* compressed or encrypted datagrams (MPPC/MPPE, 0x00fd, 0x00fb) */
    TL_PPP_OTHER,      /* any other network protocol */
};

/*
 * Why a packet could not be decoded down to a flow. X-macro: the names are the
 * stats counter names under "decode.".
 */
#define TL_DECODE_ERRORS(X)                                                                        \
    X(OK, "ok") /* also counted: packets decoded */                                                \
    X(LINK_SHORT, "link_short")                                                                    \
    X(LINK_UNSUPPORTED, "link_unsupported")                                                        \
    X(NOT_IP, "not_ip")                                                                            \
    X(VLAN_DEPTH, "vlan_depth")                                                                    \
    X(MPLS_DEPTH, "mpls_depth")                                                                    \
    X(IPV4_SHORT, "ipv4_short")                                                                    \
    X(IPV4_BAD, "ipv4_bad")                                                                        \
    X(IPV6_SHORT, "ipv6_short")                                                                    \
    X(IPV6_BAD, "ipv6_bad")                                                                        \
    X(IPV6_EXT, "ipv6_ext_bad")                                                                    \
    X(TCP_SHORT, "tcp_short")                                                                      \
    X(TCP_BAD, "tcp_bad")                                                                          \
    X(UDP_SHORT, "udp_short")                                                                      \
    X(UDP_BAD, "udp_bad")                                                                          \
    X(ICMP_SHORT, "icmp_short")                                                                    \
    X(TUNNEL_SHORT, "tunnel_short")                                                                \
    X(TUNNEL_BAD, "tunnel_bad")                                                                    \
    X(TUNNEL_DEPTH, "tunnel_depth")

enum tl_decode_err {
#define TL_X(sym, name) TL_DECODE_##sym,
    TL_DECODE_ERRORS(TL_X)
#undef TL_X
        TL_DECODE_NERR
};

/* An IP address: IPv4 is stored v4-mapped (::ffff:a.b.c.d) so keys compare uniformly. */
struct tl_ip {
    uint8_t b[16];
};

/* TCP flag bits as on the wire. */
enum {
    TL_TH_FIN = 0x01,
    TL_TH_SYN = 0x02,
    TL_TH_RST = 0x04,
    TL_TH_PUSH = 0x08,
    TL_TH_ACK = 0x10,
    TL_TH_URG = 0x20,
};

enum { TL_IPPROTO_ICMP = 1, TL_IPPROTO_TCP = 6, TL_IPPROTO_UDP = 17, TL_IPPROTO_ICMPV6 = 58 };

struct tl_decoded {
    uint64_t ts_us;   /* capture time, microseconds since the epoch */
    uint32_t caplen;  /* bytes captured */
    uint32_t wirelen; /* bytes on the wire */

    /* Link layer (outermost). */
    uint8_t src_mac[6], dst_mac[6];
    bool has_mac;
    uint16_t ether_type; /* of the innermost IP packet, 0x0800 or 0x86dd */
    uint16_t vlan[TL_MAX_VLANS];
    uint8_t nvlan;
    uint8_t nmpls;

    /* Tunnel (outermost encapsulation only). */
    uint8_t tunnel;     /* enum tl_tunnel */
    uint8_t outer_ipv;  /* 4 or 6 */
    uint8_t ppp_skip;   /* enum tl_ppp_skip */
    uint32_t tunnel_id; /* VXLAN VNI, ERSPAN session id, GRE key, PPTP call id */
    struct tl_ip outer_src, outer_dst;

    /* Innermost IP. */
    uint8_t ipv; /* 4 or 6 */
    uint8_t ip_proto;
    uint8_t ttl;
    struct tl_ip src, dst;
    uint32_t l3_off; /* offset of the innermost IP header in the packet bytes */
    uint32_t ip_len; /* IP total length from the header (header + payload) */
    uint32_t l4_off; /* offset of the transport header */

    /* Fragments: set when the innermost IP packet is a fragment. */
    bool is_fragment;
    bool more_frags;
    uint32_t frag_off;  /* bytes */
    uint32_t frag_id;   /* IPv4 id or IPv6 identification */
    uint8_t frag_proto; /* next header of the fragmented payload */

    /* Transport. */
    uint16_t sport, dport; /* ICMP: type and code */
    uint8_t tcp_flags;
    uint32_t seq, ack;
    uint16_t window;
    uint16_t icmp_id;
    uint8_t icmp_type, icmp_code;

    uint32_t payload_off;  /* offset of the L4 payload */
    uint32_t payload_len;  /* captured payload bytes */
    uint32_t payload_wire; /* payload bytes per the headers (may exceed captured) */

    uint8_t err;    /* enum tl_decode_err */
    bool truncated; /* the capture cut the packet before the headers said it ended */
};

#endif
