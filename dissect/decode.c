/*
 * decode.c - link, network and transport headers of one captured packet ->
 * struct tl_decoded.
 *
 * Link layers: Ethernet II (IEEE 802.3), 802.1Q/802.1ad tags, MPLS (RFC 3032),
 * PPPoE session (RFC 2516), Linux cooked SLL/SLL2, raw IP, BSD loopback.
 * Network: IPv4 (RFC 791), IPv6 and its extension headers (RFC 8200, RFC 4302).
 * Transport: TCP (RFC 9293), UDP (RFC 768), ICMP (RFC 792), ICMPv6 (RFC 4443).
 * Tunnels: GRE (RFC 2784, 2890; in UDP RFC 8086), ERSPAN I/II/III
 * (draft-foschiano-erspan), VXLAN (RFC 7348), IP in IP (RFC 2003, 4213),
 * PPTP's enhanced GRE carrying PPP (RFC 2637 4.1, RFC 1661, 1662).
 *
 * Invariants: every byte is read through a cursor; each header is read whole
 * and tested once. Each layer works in a child cursor bounded by the smaller of
 * what its carrier declared and what was captured, so nothing inner can read
 * past an outer length. `cut` tracks whether that bound came from the capture
 * (a failed read is then *_SHORT and `truncated`) or from a header (*_BAD).
 * Recursion happens only through a tunnel, which is capped at DEC_MAX_TUNNELS.
 */
#include "cursor.h"
#include "dissect.h"

enum {
    DEC_MAX_VLAN_TAGS = 8, /* tags per Ethernet header; deeper is VLAN_DEPTH */
    DEC_MAX_MPLS = 8,      /* labels per stack; deeper is MPLS_DEPTH */
    DEC_MAX_IPV6_EXT = 8,  /* extension headers per IPv6 packet; more is IPV6_EXT */
    DEC_MAX_TUNNELS = 4,   /* nested encapsulations; deeper is TUNNEL_DEPTH */
};

enum {
    ETH_IPV4 = 0x0800,
    ETH_IPV6 = 0x86dd,
    ETH_VLAN = 0x8100,
    ETH_QINQ = 0x88a8,
    ETH_QINQ_OLD = 0x9100,
    ETH_MPLS_UC = 0x8847,
    ETH_MPLS_MC = 0x8848,
    ETH_PPPOE_SESS = 0x8864,
    ETH_TEB = 0x6558,       /* transparent Ethernet bridging (GRE) */
    ETH_ERSPAN_12 = 0x88be, /* ERSPAN type I and II */
    ETH_ERSPAN_3 = 0x22eb,
    ETH_PPP = 0x880b, /* PPP in enhanced GRE (PPTP) */
};

/* IP protocol numbers of extension headers and encapsulations. ESP (50) and No
 * Next Header (59) end an IPv6 chain like any upper layer: ports 0, rest payload. */
enum {
    PROTO_HOPOPTS = 0,
    PROTO_IPIP = 4,
    PROTO_IPV6 = 41,
    PROTO_ROUTING = 43,
    PROTO_FRAGMENT = 44,
    PROTO_GRE = 47,
    PROTO_AH = 51,
    PROTO_DSTOPTS = 60,
};

enum { UDP_PORT_GRE = 4754, UDP_PORT_VXLAN = 4789 };

/* One decode in progress: the packet, its result and the walk's state. */
struct dec {
    struct tl_decoded *d;
    const uint8_t *base; /* first byte of the packet: offsets are from here */
    unsigned tunnels;    /* encapsulations entered so far */
    bool cut;            /* the current cursor ends where the capture ended */
};

static enum tl_decode_err decode_ethertype(struct dec *dc, struct tl_cursor *c, uint16_t type);
static enum tl_decode_err decode_ethernet(struct dec *dc, struct tl_cursor *c);
static enum tl_decode_err decode_ip_any(struct dec *dc, struct tl_cursor *c);
static enum tl_decode_err decode_ipv4(struct dec *dc, struct tl_cursor *c);
static enum tl_decode_err decode_ipv6(struct dec *dc, struct tl_cursor *c);

static uint32_t dec_off(const struct dec *dc, const struct tl_cursor *c)
{
    return (uint32_t)tl_cur_offset(c, dc->base);
}

/*
 * Each fixed header is first split off whole (tl_cur_sub) and its fields read
 * from that child cursor: one bounds check for the header, and the compiler
 * folds the per-field checks of a cursor whose length it knows.
 *
 * A header did not fit in its cursor: the capture cut it (short, and the
 * packet is truncated) or an outer length left no room for it (bad).
 */
static enum tl_decode_err dec_short(struct dec *dc, enum tl_decode_err shrt, enum tl_decode_err bad)
{
    if (!dc->cut)
        return bad;
    dc->d->truncated = true;
    return shrt;
}

/*
 * Bounds the cursor to a length a header declared. More than is left: the
 * capture cut it (truncated) or, when the carrier was complete, it is bad.
 * Fewer: the rest is trailing padding (e.g. Ethernet minimum frame) and goes.
 */
static bool dec_bound(struct dec *dc, struct tl_cursor *c, size_t declared)
{
    size_t left = tl_cur_left(c);
    struct tl_cursor sub;

    if (declared > left) {
        if (!dc->cut)
            return false;
        dc->d->truncated = true;
        return true; /* keep what was captured; cut stays true */
    }
    tl_cur_sub(c, declared, &sub);
    *c = sub;
    dc->cut = false;
    return true;
}

/* Sets the transport payload to the rest of c; `wire` bytes per the headers. */
static enum tl_decode_err dec_payload(struct dec *dc, const struct tl_cursor *c, uint32_t wire)
{
    dc->d->payload_off = dec_off(dc, c);
    dc->d->payload_len = (uint32_t)tl_cur_left(c);
    dc->d->payload_wire = wire;
    return TL_DECODE_OK;
}

/*
 * Enters one more encapsulation. The first (outermost) one is recorded with
 * the addresses of the IP header that carried it.
 */
static enum tl_decode_err dec_tunnel(struct dec *dc, enum tl_tunnel kind, uint32_t id)
{
    struct tl_decoded *d = dc->d;

    if (++dc->tunnels > DEC_MAX_TUNNELS)
        return TL_DECODE_TUNNEL_DEPTH;
    if (d->tunnel != TL_TUNNEL_NONE)
        return TL_DECODE_OK;
    d->tunnel = (uint8_t)kind;
    d->tunnel_id = id;
    d->outer_ipv = d->ipv;
    d->outer_src = d->src;
    d->outer_dst = d->dst;
    return TL_DECODE_OK;
}

/* ---- link layer -------------------------------------------------------- */

/* 802.1Q / 802.1ad tags: 2-byte TCI (12-bit VID) and the next ether type. */
static enum tl_decode_err decode_vlan(struct dec *dc, struct tl_cursor *c, uint16_t *type)
{
    struct tl_decoded *d = dc->d;
    unsigned tags = 0;

    while (*type == ETH_VLAN || *type == ETH_QINQ || *type == ETH_QINQ_OLD) {
        if (++tags > DEC_MAX_VLAN_TAGS)
            return TL_DECODE_VLAN_DEPTH;
        uint16_t tci = tl_cur_be16(c);
        *type = tl_cur_be16(c);
        if (!tl_cur_ok(c))
            return dec_short(dc, TL_DECODE_LINK_SHORT, TL_DECODE_LINK_SHORT);
        if (d->nvlan < TL_MAX_VLANS)
            d->vlan[d->nvlan++] = (uint16_t)(tci & 0x0fff);
    }
    return TL_DECODE_OK;
}

/*
 * MPLS label stack (RFC 3032 2.1): 4-byte entries until the bottom-of-stack
 * bit. No field names the payload; RFC 3032 leaves that to the label, so the
 * IP version nibble decides, as in most analysers.
 */
static enum tl_decode_err decode_mpls(struct dec *dc, struct tl_cursor *c)
{
    unsigned labels = 0;
    uint32_t entry;

    do {
        if (++labels > DEC_MAX_MPLS)
            return TL_DECODE_MPLS_DEPTH;
        entry = tl_cur_be32(c);
        if (!tl_cur_ok(c))
            return dec_short(dc, TL_DECODE_LINK_SHORT, TL_DECODE_LINK_SHORT);
        if (dc->d->nmpls < UINT8_MAX)
            dc->d->nmpls++;
    } while (!(entry & 0x100)); /* S bit */
    return decode_ip_any(dc, c);
}

/*
 * PPPoE session stage (RFC 2516 4): ver/type 0x11, code 0, session id, length,
 * then the PPP protocol (RFC 1661 2; IPv4 0x0021, IPv6 0x0057), 1 or 2 bytes.
 */
static enum tl_decode_err decode_pppoe(struct dec *dc, struct tl_cursor *c)
{
    uint8_t vertype = tl_cur_u8(c);
    uint8_t code = tl_cur_u8(c);
    tl_cur_skip(c, 2); /* session id */
    uint16_t len = tl_cur_be16(c);
    uint16_t proto = tl_cur_u8(c);
    if (!(proto & 1)) /* else a compressed 1-byte protocol field (RFC 1661 6.5) */
        proto = (uint16_t)(proto << 8 | tl_cur_u8(c));

    if (!tl_cur_ok(c))
        return dec_short(dc, TL_DECODE_LINK_SHORT, TL_DECODE_LINK_SHORT);
    if (vertype != 0x11 || code != 0 || len == 0)
        return TL_DECODE_NOT_IP;
    if (proto == 0x0021)
        return decode_ipv4(dc, c);
    if (proto == 0x0057)
        return decode_ipv6(dc, c);
    return TL_DECODE_NOT_IP;
}

/* What follows an ether type: tags, labels, PPPoE, IP; anything else is not IP. */
static enum tl_decode_err decode_ethertype(struct dec *dc, struct tl_cursor *c, uint16_t type)
{
    enum tl_decode_err err = decode_vlan(dc, c, &type);

    if (err != TL_DECODE_OK)
        return err;
    switch (type) {
    case ETH_IPV4: return decode_ipv4(dc, c);
    case ETH_IPV6: return decode_ipv6(dc, c);
    case ETH_MPLS_UC:
    case ETH_MPLS_MC: return decode_mpls(dc, c);
    case ETH_PPPOE_SESS: return decode_pppoe(dc, c);
    default: return TL_DECODE_NOT_IP;
    }
}

/*
 * Ethernet II. A type/length field below 0x0600 is an IEEE 802.3 length (LLC
 * follows), which carries no IP here. Only the outermost MACs are kept.
 */
static enum tl_decode_err decode_ethernet(struct dec *dc, struct tl_cursor *c)
{
    struct tl_decoded *d = dc->d;
    uint8_t dst[6], src[6];
    struct tl_cursor h;

    if (!tl_cur_sub(c, 14, &h))
        return dec_short(dc, TL_DECODE_LINK_SHORT, TL_DECODE_LINK_SHORT);
    tl_cur_copy(&h, dst, sizeof(dst));
    tl_cur_copy(&h, src, sizeof(src));
    uint16_t type = tl_cur_be16(&h);
    if (!d->has_mac) {
        memcpy(d->dst_mac, dst, sizeof(dst));
        memcpy(d->src_mac, src, sizeof(src));
        d->has_mac = true;
    }
    if (type < 0x0600)
        return TL_DECODE_NOT_IP;
    return decode_ethertype(dc, c, type);
}

/* Linux cooked v1: 16 bytes, the protocol (an ether type) at offset 14. */
static enum tl_decode_err decode_sll(struct dec *dc, struct tl_cursor *c)
{
    tl_cur_skip(c, 14); /* packet type, ARPHRD type, address length, address */
    uint16_t proto = tl_cur_be16(c);
    if (!tl_cur_ok(c))
        return dec_short(dc, TL_DECODE_LINK_SHORT, TL_DECODE_LINK_SHORT);
    return decode_ethertype(dc, c, proto);
}

/* Linux cooked v2: 20 bytes, the protocol at offset 0. */
static enum tl_decode_err decode_sll2(struct dec *dc, struct tl_cursor *c)
{
    uint16_t proto = tl_cur_be16(c);
    tl_cur_skip(c, 18); /* reserved, ifindex, ARPHRD, packet type, address */
    if (!tl_cur_ok(c))
        return dec_short(dc, TL_DECODE_LINK_SHORT, TL_DECODE_LINK_SHORT);
    return decode_ethertype(dc, c, proto);
}

/* BSD address families: AF_INET is 2 everywhere; AF_INET6 differs by OS. */
static enum tl_decode_err decode_family(struct dec *dc, struct tl_cursor *c, uint32_t family)
{
    if (family == 2)
        return decode_ipv4(dc, c);
    if (family == 24 || family == 28 || family == 30) /* NetBSD/OpenBSD, FreeBSD, macOS */
        return decode_ipv6(dc, c);
    return TL_DECODE_NOT_IP;
}

/*
 * DLT_NULL: the family in the capturing host's byte order, which need not be
 * ours. Families are small, so a value above 0xffff was written the other way.
 */
static enum tl_decode_err decode_null(struct dec *dc, struct tl_cursor *c)
{
    uint32_t family = tl_cur_le32(c);
    if (!tl_cur_ok(c))
        return dec_short(dc, TL_DECODE_LINK_SHORT, TL_DECODE_LINK_SHORT);
    if (family > 0xffff)
        family =
            (family >> 24) | (family >> 8 & 0xff00) | (family << 8 & 0xff0000) | (family << 24);
    return decode_family(dc, c, family);
}

/* DLT_LOOP: the same family, always in network byte order. */
static enum tl_decode_err decode_loop(struct dec *dc, struct tl_cursor *c)
{
    uint32_t family = tl_cur_be32(c);
    if (!tl_cur_ok(c))
        return dec_short(dc, TL_DECODE_LINK_SHORT, TL_DECODE_LINK_SHORT);
    return decode_family(dc, c, family);
}

/* Raw IP (and MPLS, ERSPAN III IP frames): the version nibble decides. */
static enum tl_decode_err decode_ip_any(struct dec *dc, struct tl_cursor *c)
{
    uint8_t first;

    if (!tl_cur_peek(c, 0, &first))
        return dec_short(dc, TL_DECODE_LINK_SHORT, TL_DECODE_LINK_SHORT);
    if (first >> 4 == 4)
        return decode_ipv4(dc, c);
    if (first >> 4 == 6)
        return decode_ipv6(dc, c);
    return TL_DECODE_NOT_IP;
}

/* ---- tunnels ----------------------------------------------------------- */

/* VXLAN (RFC 7348 5): flags (I = 0x08), 24 reserved bits, 24-bit VNI, 8 reserved bits. */
static enum tl_decode_err decode_vxlan(struct dec *dc, struct tl_cursor *c)
{
    uint32_t w0 = tl_cur_be32(c);
    uint32_t w1 = tl_cur_be32(c);

    if (!tl_cur_ok(c))
        return dec_short(dc, TL_DECODE_TUNNEL_SHORT, TL_DECODE_TUNNEL_BAD);
    if (!(w0 & 0x08000000))
        return TL_DECODE_TUNNEL_BAD; /* "I flag MUST be set to 1 for a valid VNI" */
    enum tl_decode_err err = dec_tunnel(dc, TL_TUNNEL_VXLAN, w1 >> 8);
    return err != TL_DECODE_OK ? err : decode_ethernet(dc, c);
}

/*
 * ERSPAN type II header (draft-foschiano-erspan-03 4.1): version 1, VLAN,
 * COS/En/T, 10-bit session id, reserved and index. An Ethernet frame follows.
 */
static enum tl_decode_err decode_erspan2(struct dec *dc, struct tl_cursor *c)
{
    uint16_t ver_vlan = tl_cur_be16(c);
    uint16_t session = tl_cur_be16(c);
    tl_cur_skip(c, 4); /* reserved, index */

    if (!tl_cur_ok(c))
        return dec_short(dc, TL_DECODE_TUNNEL_SHORT, TL_DECODE_TUNNEL_BAD);
    if (ver_vlan >> 12 != 1)
        return TL_DECODE_TUNNEL_BAD;
    enum tl_decode_err err = dec_tunnel(dc, TL_TUNNEL_ERSPAN_II, session & 0x03ffu);
    return err != TL_DECODE_OK ? err : decode_ethernet(dc, c);
}

/*
 * ERSPAN type III header (draft-foschiano-erspan-03 4.2): version 2, VLAN,
 * COS/BSO/T, 10-bit session id, timestamp, SGT, P, frame type (0 Ethernet,
 * 2 IP), hardware id, D, Gra and O; O set adds an 8-byte platform subheader.
 */
static enum tl_decode_err decode_erspan3(struct dec *dc, struct tl_cursor *c)
{
    uint16_t ver_vlan = tl_cur_be16(c);
    uint16_t session = tl_cur_be16(c);
    tl_cur_skip(c, 4); /* timestamp */
    tl_cur_skip(c, 2); /* security group tag */
    uint16_t bits = tl_cur_be16(c);

    if (!tl_cur_ok(c))
        return dec_short(dc, TL_DECODE_TUNNEL_SHORT, TL_DECODE_TUNNEL_BAD);
    if (ver_vlan >> 12 != 2)
        return TL_DECODE_TUNNEL_BAD;
    unsigned frame_type = (unsigned)(bits >> 10) & 0x1fu;
    if (frame_type != 0 && frame_type != 2)
        return TL_DECODE_TUNNEL_BAD;
    if ((bits & 0x0001) && !tl_cur_skip(c, 8)) /* platform-specific subheader */
        return dec_short(dc, TL_DECODE_TUNNEL_SHORT, TL_DECODE_TUNNEL_BAD);
    enum tl_decode_err err = dec_tunnel(dc, TL_TUNNEL_ERSPAN_III, session & 0x03ffu);
    if (err != TL_DECODE_OK)
        return err;
    return frame_type == 0 ? decode_ethernet(dc, c) : decode_ip_any(dc, c);
}

/* What a PPP protocol number not followed is (RFC 1661 2, IANA's PPP DLL protocol numbers). */
static uint8_t dec_ppp_skip(uint16_t proto)
{
    if (proto >= 0x8000)
        return TL_PPP_CONTROL;
    if (proto == 0x00fd || proto == 0x00fb) /* RFC 1962 4: compressed datagrams */
        return TL_PPP_COMPRESSED;
    return TL_PPP_OTHER;
}

/*
 * Enhanced GRE (PPTP, RFC 2637 4.1) after its flags and protocol: C, R, s,
 * recursion and flags clear, K set; the key holds the payload length and the
 * peer's call id; S adds a sequence number, A an acknowledgment. The payload
 * is a PPP frame in HDLC-like framing without flags or FCS (RFC 1662 3.1;
 * address and control 0xff 0x03 left out when compressed, RFC 1661 6.6; a
 * 1-byte protocol when compressed, 6.5). IPv4 (0x0021) and IPv6 (0x0057) are
 * followed as a pptp tunnel whose id is the call id; anything else - an
 * acknowledgment alone, LCP, authentication, IPCP, CCP, MPPE-encrypted or
 * MPPC-compressed datagrams - stays the tunnel's own protocol 47 flow (c, the
 * whole GRE packet), noted in d->ppp_skip to be counted.
 */
static enum tl_decode_err decode_pptp(struct dec *dc, const struct tl_cursor *c,
                                      struct tl_cursor *g, uint16_t flags)
{
    uint16_t len = tl_cur_be16(g);
    uint16_t call = tl_cur_be16(g);
    if (flags & 0x1000)
        tl_cur_skip(g, 4); /* sequence number */
    if (flags & 0x0080)
        tl_cur_skip(g, 4); /* acknowledgment number */
    if (!tl_cur_ok(g))
        return dec_short(dc, TL_DECODE_TUNNEL_SHORT, TL_DECODE_TUNNEL_BAD);
    if ((flags & 0xcf78) != 0 || !(flags & 0x2000))
        return TL_DECODE_TUNNEL_BAD;
    if (len == 0)
        return dec_payload(dc, c, (uint32_t)tl_cur_left(c));
    if (!dec_bound(dc, g, len))
        return TL_DECODE_TUNNEL_BAD;
    uint8_t a = 0;
    if (tl_cur_peek(g, 0, &a) && a == 0xff) { /* 0xff is no protocol: address, then control */
        tl_cur_skip(g, 1);
        if (tl_cur_u8(g) != 0x03 && tl_cur_ok(g))
            return TL_DECODE_TUNNEL_BAD;
    }
    uint16_t proto = tl_cur_u8(g);
    if (!(proto & 1)) /* else a compressed 1-byte protocol field */
        proto = (uint16_t)(proto << 8 | tl_cur_u8(g));
    if (!tl_cur_ok(g))
        return dec_short(dc, TL_DECODE_TUNNEL_SHORT, TL_DECODE_TUNNEL_BAD);
    if (proto != 0x0021 && proto != 0x0057) {
        dc->d->ppp_skip = dec_ppp_skip(proto);
        return dec_payload(dc, c, (uint32_t)tl_cur_left(c));
    }
    enum tl_decode_err err = dec_tunnel(dc, TL_TUNNEL_PPTP, call);
    if (err != TL_DECODE_OK)
        return err;
    return proto == 0x0021 ? decode_ipv4(dc, g) : decode_ipv6(dc, g);
}

/*
 * GRE (RFC 2784 2, RFC 2890 2): C, K and S add the checksum word, the key and
 * the sequence number. Bits 1 and 4 (RFC 1701 routing, strict source route)
 * MUST make a receiver discard (RFC 2784 2.3). Version 1 carrying PPP is
 * PPTP's; other versions and payloads we do not follow stay a plain protocol
 * 47 flow.
 */
static enum tl_decode_err decode_gre(struct dec *dc, struct tl_cursor *c)
{
    struct tl_cursor g = *c;
    uint16_t flags = tl_cur_be16(&g);
    uint16_t proto = tl_cur_be16(&g);
    uint32_t key = 0;

    if (!tl_cur_ok(&g))
        return dec_short(dc, TL_DECODE_TUNNEL_SHORT, TL_DECODE_TUNNEL_BAD);
    if ((flags & 0x0007) == 1 && proto == ETH_PPP)
        return decode_pptp(dc, c, &g, flags);
    if ((flags & 0x0007) != 0)
        return dec_payload(dc, c, (uint32_t)tl_cur_left(c)); /* not RFC 2784 GRE */
    if (flags & 0x4c00)                                      /* bits 1, 4 and 5 */
        return TL_DECODE_TUNNEL_BAD;
    if (flags & 0x8000)
        tl_cur_skip(&g, 4); /* checksum, reserved1 */
    if (flags & 0x2000)
        key = tl_cur_be32(&g);
    if (flags & 0x1000)
        tl_cur_skip(&g, 4); /* sequence number */
    if (!tl_cur_ok(&g))
        return dec_short(dc, TL_DECODE_TUNNEL_SHORT, TL_DECODE_TUNNEL_BAD);

    enum tl_decode_err err;
    switch (proto) {
    case ETH_IPV4:
    case ETH_IPV6:
    case ETH_MPLS_UC:
    case ETH_MPLS_MC:
        err = dec_tunnel(dc, TL_TUNNEL_GRE, key);
        return err != TL_DECODE_OK ? err : decode_ethertype(dc, &g, proto);
    case ETH_TEB:
        err = dec_tunnel(dc, TL_TUNNEL_GRE, key);
        return err != TL_DECODE_OK ? err : decode_ethernet(dc, &g);
    case ETH_ERSPAN_12:
        if (flags & 0x1000) /* type II carries a sequence number and a header */
            return decode_erspan2(dc, &g);
        err = dec_tunnel(dc, TL_TUNNEL_ERSPAN_I, key); /* type I: the frame follows */
        return err != TL_DECODE_OK ? err : decode_ethernet(dc, &g);
    case ETH_ERSPAN_3: return decode_erspan3(dc, &g);
    default: return dec_payload(dc, c, (uint32_t)tl_cur_left(c));
    }
}

/* ---- transport --------------------------------------------------------- */

/* TCP (RFC 9293 3.1): 20 fixed bytes, then options up to data offset * 4. */
static enum tl_decode_err decode_tcp(struct dec *dc, struct tl_cursor *c, uint32_t wire)
{
    struct tl_decoded *d = dc->d;
    struct tl_cursor h;

    if (!tl_cur_sub(c, 20, &h))
        return dec_short(dc, TL_DECODE_TCP_SHORT, TL_DECODE_TCP_BAD);
    d->sport = tl_cur_be16(&h);
    d->dport = tl_cur_be16(&h);
    d->seq = tl_cur_be32(&h);
    d->ack = tl_cur_be32(&h);
    uint8_t doff = tl_cur_u8(&h);
    d->tcp_flags = tl_cur_u8(&h);
    d->window = tl_cur_be16(&h); /* then checksum, urgent pointer */

    uint32_t hlen = (uint32_t)(doff >> 4) * 4;
    if (hlen < 20 || hlen > wire)
        return TL_DECODE_TCP_BAD;
    if (!tl_cur_skip(c, hlen - 20)) /* options */
        return dec_short(dc, TL_DECODE_TCP_SHORT, TL_DECODE_TCP_BAD);
    return dec_payload(dc, c, wire - hlen);
}

/*
 * UDP (RFC 768): the length covers header and data; below 8 is impossible.
 * Port 4789 carries VXLAN (RFC 7348 5) and 4754 GRE (RFC 8086 3).
 */
static enum tl_decode_err decode_udp(struct dec *dc, struct tl_cursor *c)
{
    struct tl_decoded *d = dc->d;
    struct tl_cursor h;

    if (!tl_cur_sub(c, 8, &h))
        return dec_short(dc, TL_DECODE_UDP_SHORT, TL_DECODE_UDP_BAD);
    uint16_t sport = tl_cur_be16(&h);
    uint16_t dport = tl_cur_be16(&h);
    uint16_t len = tl_cur_be16(&h); /* then the checksum */
    if (len < 8 || !dec_bound(dc, c, (size_t)len - 8))
        return TL_DECODE_UDP_BAD;
    /* A port only suggests the encapsulation: what does not parse as one is plain UDP. */
    if (dport == UDP_PORT_VXLAN || dport == UDP_PORT_GRE) {
        struct tl_cursor t = *c;
        unsigned before = dc->tunnels;
        enum tl_decode_err err =
            dport == UDP_PORT_VXLAN ? decode_vxlan(dc, &t) : decode_gre(dc, &t);
        if (dc->tunnels != before || (err != TL_DECODE_OK && err != TL_DECODE_TUNNEL_BAD))
            return err;
    }
    d->sport = sport;
    d->dport = dport;
    return dec_payload(dc, c, (uint32_t)len - 8);
}

/*
 * ICMP (RFC 792) and ICMPv6 (RFC 4443 2.1): type, code, checksum and 4 bytes
 * whose meaning depends on the type; the echo-like types begin them with an
 * identifier (echo, timestamp, information, address mask, extended echo).
 */
static enum tl_decode_err decode_icmp(struct dec *dc, struct tl_cursor *c, uint32_t wire)
{
    struct tl_decoded *d = dc->d;
    uint8_t type = tl_cur_u8(c);
    uint8_t code = tl_cur_u8(c);
    tl_cur_skip(c, 2); /* checksum */
    uint16_t id = tl_cur_be16(c);
    tl_cur_skip(c, 2); /* sequence number or other */

    if (!tl_cur_ok(c))
        return dec_short(dc, TL_DECODE_ICMP_SHORT, TL_DECODE_ICMP_SHORT);
    d->icmp_type = type;
    d->icmp_code = code;
    d->sport = type;
    d->dport = code;
    bool has_id;
    if (d->ip_proto == TL_IPPROTO_ICMP)
        has_id = type == 0 || type == 8 || (type >= 13 && type <= 18) || type == 42 || type == 43;
    else
        has_id = type == 128 || type == 129 || type == 160 || type == 161;
    if (has_id)
        d->icmp_id = id;
    return dec_payload(dc, c, wire - 8);
}

/* The IP payload at c, `wire` bytes per the IP header, protocol d->ip_proto. */
static enum tl_decode_err decode_l4(struct dec *dc, struct tl_cursor *c, uint32_t wire)
{
    struct tl_decoded *d = dc->d;
    enum tl_decode_err err;

    d->l4_off = dec_off(dc, c);
    switch (d->ip_proto) {
    case TL_IPPROTO_TCP: return decode_tcp(dc, c, wire);
    case TL_IPPROTO_UDP: return decode_udp(dc, c);
    case TL_IPPROTO_ICMP: return d->ipv == 4 ? decode_icmp(dc, c, wire) : dec_payload(dc, c, wire);
    case TL_IPPROTO_ICMPV6:
        return d->ipv == 6 ? decode_icmp(dc, c, wire) : dec_payload(dc, c, wire);
    case PROTO_GRE: {
        unsigned before = dc->tunnels;
        err = decode_gre(dc, c);
        if (err == TL_DECODE_OK && dc->tunnels == before)
            d->payload_wire = wire; /* a plain protocol 47 flow */
        return err;
    }
    case PROTO_IPIP:
        err = dec_tunnel(dc, TL_TUNNEL_IPIP, 0);
        return err != TL_DECODE_OK ? err : decode_ipv4(dc, c);
    case PROTO_IPV6:
        err = dec_tunnel(dc, TL_TUNNEL_IPIP, 0);
        return err != TL_DECODE_OK ? err : decode_ipv6(dc, c);
    default: return dec_payload(dc, c, wire);
    }
}

/* ---- network ----------------------------------------------------------- */

/* Records the fragment fields; the data at c is fragment data, not L4. */
static enum tl_decode_err dec_fragment(struct dec *dc, const struct tl_cursor *c, uint32_t id,
                                       uint32_t off, bool more, uint8_t proto, uint32_t wire)
{
    struct tl_decoded *d = dc->d;

    d->is_fragment = true;
    d->more_frags = more;
    d->frag_off = off;
    d->frag_id = id;
    d->frag_proto = proto;
    d->ip_proto = proto;
    d->l4_off = dec_off(dc, c);
    return dec_payload(dc, c, wire);
}

/* The fields every IP version sets; clears what an outer packet left behind. */
static void dec_ip_start(struct dec *dc, const struct tl_cursor *c, uint8_t ipv)
{
    struct tl_decoded *d = dc->d;

    d->ipv = ipv;
    d->ether_type = ipv == 4 ? ETH_IPV4 : ETH_IPV6;
    d->l3_off = dec_off(dc, c);
    d->is_fragment = false;
    d->more_frags = false;
    d->frag_off = 0;
    d->frag_id = 0;
    d->frag_proto = 0;
}

/*
 * IPv4 (RFC 791 3.1). IHL below 5 or a total length shorter than the header is
 * impossible, except a total length of 0, which segmentation offload (TSO)
 * leaves in captures: the captured bytes are then the datagram. The header
 * checksum is not verified (offloading zeroes it too).
 * Fragments (MF set or offset non-zero) stop here: even a first fragment is
 * left to the reassembler, which feeds the whole datagram back.
 */
static enum tl_decode_err decode_ipv4(struct dec *dc, struct tl_cursor *c)
{
    struct tl_decoded *d = dc->d;
    struct tl_cursor h;

    dec_ip_start(dc, c, 4);
    if (!tl_cur_sub(c, 20, &h))
        return dec_short(dc, TL_DECODE_IPV4_SHORT, TL_DECODE_IPV4_BAD);
    uint8_t vihl = tl_cur_u8(&h);
    tl_cur_skip(&h, 1); /* DSCP, ECN */
    uint16_t total = tl_cur_be16(&h);
    uint16_t id = tl_cur_be16(&h);
    uint16_t frag = tl_cur_be16(&h);
    uint8_t ttl = tl_cur_u8(&h);
    uint8_t proto = tl_cur_u8(&h);
    tl_cur_skip(&h, 2); /* header checksum */
    uint8_t src[4], dst[4];
    tl_cur_copy(&h, src, sizeof(src));
    tl_cur_copy(&h, dst, sizeof(dst));

    uint32_t hlen = (uint32_t)(vihl & 0x0f) * 4;
    if (total == 0 && tl_cur_left(c) + 20 <= UINT16_MAX)
        total = (uint16_t)(tl_cur_left(c) + 20); /* segmentation offload: the length is unset */
    if (vihl >> 4 != 4 || hlen < 20 || total < hlen)
        return TL_DECODE_IPV4_BAD;
    d->ip_len = total;
    d->ttl = ttl;
    d->ip_proto = proto;
    memset(&d->src, 0, sizeof(d->src));
    memset(&d->dst, 0, sizeof(d->dst));
    d->src.b[10] = d->src.b[11] = d->dst.b[10] = d->dst.b[11] = 0xff; /* RFC 4291 2.5.5.2 */
    memcpy(&d->src.b[12], src, 4);
    memcpy(&d->dst.b[12], dst, 4);

    /* Bound to the total length first: the options must lie inside it. */
    if (!dec_bound(dc, c, (size_t)total - 20))
        return TL_DECODE_IPV4_BAD;
    if (!tl_cur_skip(c, hlen - 20)) /* options */
        return dec_short(dc, TL_DECODE_IPV4_SHORT, TL_DECODE_IPV4_BAD);

    uint32_t wire = (uint32_t)total - hlen;
    uint32_t off = (uint32_t)(frag & 0x1fff) * 8;
    bool more = (frag & 0x2000) != 0;
    if (more || off != 0)
        return dec_fragment(dc, c, id, off, more, proto, wire);
    return decode_l4(dc, c, wire);
}

/*
 * IPv6 extension headers (RFC 8200 4; AH RFC 4302 2): each names the next and
 * gives its length in 8-octet units (AH: 4-octet units, minus 2). The chain ends
 * at an upper-layer protocol, ESP (opaque) or No Next Header. A fragment header
 * with offset 0 and M clear is an atomic fragment, processed whole (RFC 6946).
 */
static enum tl_decode_err decode_ipv6_ext(struct dec *dc, struct tl_cursor *c, uint8_t nh,
                                          uint32_t wire)
{
    struct tl_decoded *d = dc->d;
    uint32_t start = dec_off(dc, c);

    for (unsigned n = 0;; n++) {
        if (nh != PROTO_HOPOPTS && nh != PROTO_ROUTING && nh != PROTO_DSTOPTS &&
            nh != PROTO_FRAGMENT && nh != PROTO_AH)
            break;
        if (n >= DEC_MAX_IPV6_EXT)
            return TL_DECODE_IPV6_EXT;
        uint8_t next = tl_cur_u8(c);
        uint8_t len = tl_cur_u8(c);
        if (nh == PROTO_FRAGMENT) {
            uint16_t offm = tl_cur_be16(c);
            uint32_t id = tl_cur_be32(c);
            if (!tl_cur_ok(c))
                return dec_short(dc, TL_DECODE_IPV6_SHORT, TL_DECODE_IPV6_EXT);
            uint32_t off = (uint32_t)(offm >> 3) * 8;
            bool more = (offm & 1) != 0;
            uint32_t used = dec_off(dc, c) - start;
            if (used > wire)
                return TL_DECODE_IPV6_EXT;
            if (more || off != 0)
                return dec_fragment(dc, c, id, off, more, next, wire - used);
        } else {
            size_t body = nh == PROTO_AH ? ((size_t)len + 2) * 4 : ((size_t)len + 1) * 8;
            if (!tl_cur_skip(c, body - 2))
                return dec_short(dc, TL_DECODE_IPV6_SHORT, TL_DECODE_IPV6_EXT);
        }
        nh = next;
    }
    uint32_t used = dec_off(dc, c) - start;
    if (used > wire)
        return TL_DECODE_IPV6_EXT;
    d->ip_proto = nh;
    return decode_l4(dc, c, wire - used);
}

/*
 * IPv6 (RFC 8200 3). Payload length 0 with a hop-by-hop header may be a
 * jumbogram (RFC 2675 2): the captured bytes are then taken as the payload.
 */
static enum tl_decode_err decode_ipv6(struct dec *dc, struct tl_cursor *c)
{
    struct tl_decoded *d = dc->d;
    struct tl_cursor h;

    dec_ip_start(dc, c, 6);
    if (!tl_cur_sub(c, 40, &h))
        return dec_short(dc, TL_DECODE_IPV6_SHORT, TL_DECODE_IPV6_BAD);
    uint32_t vtcfl = tl_cur_be32(&h);
    uint16_t plen = tl_cur_be16(&h);
    uint8_t nh = tl_cur_u8(&h);
    uint8_t hlim = tl_cur_u8(&h);
    tl_cur_copy(&h, d->src.b, 16);
    tl_cur_copy(&h, d->dst.b, 16);
    if (vtcfl >> 28 != 6)
        return TL_DECODE_IPV6_BAD;
    d->ttl = hlim;
    d->ip_proto = nh;

    uint32_t wire = plen;
    if (plen == 0 && nh == PROTO_HOPOPTS)
        wire = (uint32_t)tl_cur_left(c);
    else if (!dec_bound(dc, c, plen))
        return TL_DECODE_IPV6_BAD;
    d->ip_len = 40 + wire;
    return decode_ipv6_ext(dc, c, nh, wire);
}

/* ---- entry points ------------------------------------------------------ */

bool tl_link_supported(int linktype)
{
    switch (linktype) {
    case TL_LINK_NULL:
    case TL_LINK_ETHERNET:
    case TL_LINK_DLT_RAW:
    case TL_LINK_DLT_RAW14:
    case TL_LINK_RAW:
    case TL_LINK_LOOP:
    case TL_LINK_LINUX_SLL:
    case TL_LINK_IPV4:
    case TL_LINK_IPV6:
    case TL_LINK_LINUX_SLL2: return true;
    default: return false;
    }
}

static enum tl_decode_err decode_link(struct dec *dc, struct tl_cursor *c, int linktype)
{
    switch (linktype) {
    case TL_LINK_ETHERNET: return decode_ethernet(dc, c);
    case TL_LINK_LINUX_SLL: return decode_sll(dc, c);
    case TL_LINK_LINUX_SLL2: return decode_sll2(dc, c);
    case TL_LINK_NULL: return decode_null(dc, c);
    case TL_LINK_LOOP: return decode_loop(dc, c);
    case TL_LINK_RAW:
    case TL_LINK_DLT_RAW:
    case TL_LINK_DLT_RAW14: return decode_ip_any(dc, c);
    case TL_LINK_IPV4: return decode_ipv4(dc, c);
    case TL_LINK_IPV6: return decode_ipv6(dc, c);
    default: return TL_DECODE_LINK_UNSUPPORTED;
    }
}

enum tl_decode_err tl_decode(struct tl_decoded *d, int linktype, const uint8_t *pkt,
                             uint32_t caplen)
{
    uint64_t ts_us = d->ts_us;
    uint32_t cap = d->caplen, wirelen = d->wirelen;

    memset(d, 0, sizeof(*d));
    d->ts_us = ts_us;
    d->caplen = cap;
    d->wirelen = wirelen;

    static const uint8_t none[1];
    if (!pkt) {
        pkt = none;
        caplen = 0;
    }
    struct tl_cursor c = tl_cur_make(pkt, caplen);
    struct dec dc = { .d = d, .base = pkt, .tunnels = 0, .cut = true };
    enum tl_decode_err err = decode_link(&dc, &c, linktype);
    d->err = (uint8_t)err;
    return err;
}
