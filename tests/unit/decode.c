/*
 * decode.c - the L2-L4 decoder on hand-built packets: every link type, VLAN and
 * MPLS stacks, IPv4 options and fragments, IPv6 extension headers, TCP, UDP,
 * ICMP, the tunnels (GRE, ERSPAN I/II/III, VXLAN, IP in IP, PPTP) and the errors.
 * Every valid sample is also decoded cut at every byte in an exact-size heap
 * copy: no prefix that cuts a header may decode as OK.
 */
#include <stdlib.h>

#include "check.h"
#include "cursor.h"
#include "dissect.h"

/* Ethernet destination 00:11:22:33:44:55, source 66:77:88:99:aa:bb. */
#define MACS 0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb

/* 32 bytes: IPv4 10.0.0.1 -> 10.0.0.2, id 1, TTL 64, UDP 1024 -> 53, "abcd". */
#define V4_UDP                                                                                     \
    0x45, 0x00, 0x00, 0x20, 0x00, 0x01, 0x00, 0x00, 0x40, 0x11, 0x00, 0x00, 10, 0, 0, 1, 10, 0, 0, \
        2, 0x04, 0x00, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 'a', 'b', 'c', 'd'

/* Outer IPv4 192.0.2.1 -> 192.0.2.2, TTL 64, protocol p, total length t. */
#define V4_OUTER(t, p)                                                                             \
    0x45, 0x00, (t) >> 8, (t)&0xff, 0x00, 0x02, 0x00, 0x00, 0x40, (p), 0x00, 0x00, 192, 0, 2, 1,   \
        192, 0, 2, 2

/* 2001:db8::1 and 2001:db8::2 */
#define V6_SRC 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1
#define V6_DST 0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 2

static const uint8_t v6_src[16] = { V6_SRC };
static const uint8_t v6_dst[16] = { V6_DST };

/* The samples: one header per line, byte for byte as on the wire. */
/* clang-format off */

/* Ethernet / IPv4 / TCP with 12 option bytes (MSS, NOP, NOP, SACK-perm, WS) / "GET ". */
static const uint8_t eth_tcp[] = {
    MACS, 0x08, 0x00,
    /* IPv4: total 56, id 0x1234, DF, TTL 64, TCP */
    0x45, 0x00, 0x00, 0x38, 0x12, 0x34, 0x40, 0x00, 0x40, 0x06, 0x00, 0x00,
    10, 0, 0, 1, 10, 0, 0, 2,
    /* TCP 12345 -> 80, seq 1, ack 2, data offset 8, PSH|ACK, window 29200, options */
    0x30, 0x39, 0x00, 0x50, 0x00, 0x00, 0x00, 0x01, 0x00, 0x00, 0x00, 0x02,
    0x80, 0x18, 0x72, 0x10, 0x00, 0x00, 0x00, 0x00,
    0x02, 0x04, 0x05, 0xb4, 0x01, 0x01, 0x04, 0x02, 0x01, 0x03, 0x03, 0x07,
    'G', 'E', 'T', ' ',
};

/* IPv4 with a router alert option (IHL 6), UDP "hi", Ethernet padding to 60 bytes. */
static const uint8_t eth_ipopt[] = {
    MACS, 0x08, 0x00,
    0x46, 0x00, 0x00, 0x22, 0x00, 0x07, 0x00, 0x00, 0x01, 0x11, 0x00, 0x00,
    10, 0, 0, 1, 10, 0, 0, 2,
    0x94, 0x04, 0x00, 0x00,                         /* router alert (RFC 2113) */
    0x04, 0x00, 0x00, 0x35, 0x00, 0x0a, 0x00, 0x00, /* UDP 1024 -> 53, length 10 */
    'h', 'i',
    0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,             /* Ethernet padding */
};

static const uint8_t eth_udp[] = { MACS, 0x08, 0x00, V4_UDP };

/* 802.1Q: PCP 1, VID 100. */
static const uint8_t eth_vlan[] = {
    MACS, 0x81, 0x00,
    0x20, 0x64, 0x08, 0x00,
    V4_UDP,
};

/* 802.1ad outer VID 200, 802.1Q inner VID 100. */
static const uint8_t eth_qinq[] = {
    MACS, 0x88, 0xa8,
    0x00, 0xc8, 0x81, 0x00,
    0x00, 0x64, 0x08, 0x00,
    V4_UDP,
};

/* Three tags (0x9100, 0x88a8, 0x8100): the first two ids are kept. */
static const uint8_t eth_3vlan[] = {
    MACS, 0x91, 0x00,
    0x00, 0x01, 0x88, 0xa8,
    0x00, 0x02, 0x81, 0x00,
    0x00, 0x03, 0x08, 0x00,
    V4_UDP,
};

/* MPLS labels 16 (TTL 64) and 17 (bottom of stack). */
static const uint8_t eth_mpls[] = {
    MACS, 0x88, 0x47,
    0x00, 0x01, 0x00, 0x40,
    0x00, 0x01, 0x11, 0x40,
    V4_UDP,
};

/* Linux cooked v1: outgoing, ARPHRD_ETHER, 6-byte address (+2), protocol IPv4. */
static const uint8_t sll_udp[] = {
    0x00, 0x04, 0x00, 0x01, 0x00, 0x06,
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00,
    0x08, 0x00,
    V4_UDP,
};

/* Linux cooked v2: protocol IPv4, reserved, ifindex 2, ARPHRD_ETHER, host, 6-byte address. */
static const uint8_t sll2_udp[] = {
    0x08, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x02,
    0x00, 0x01, 0x00, 0x06,
    0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0x00, 0x00,
    V4_UDP,
};

/* DLT_NULL AF_INET written by a little-endian and by a big-endian host. */
static const uint8_t null_le[] = { 0x02, 0x00, 0x00, 0x00, V4_UDP };
static const uint8_t null_be[] = { 0x00, 0x00, 0x00, 0x02, V4_UDP };

/* Raw IPv6, hop-by-hop (8) + destination options (16) + TCP SYN 443 -> 49152. */
static const uint8_t raw6_ext_tcp[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x2c, 0x00, 0x40, V6_SRC, V6_DST,
    /* hop-by-hop: next 60, length 0, PadN(4) */
    60, 0, 0x01, 0x04, 0, 0, 0, 0,
    /* destination options: next TCP, length 1, PadN(12) */
    6, 1, 0x01, 0x0c, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0,
    /* TCP: seq 0x11223344, data offset 5, SYN, window 65535 */
    0x01, 0xbb, 0xc0, 0x00, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x00,
    0x50, 0x02, 0xff, 0xff, 0x00, 0x00, 0x00, 0x00,
};

/* IPv6 non-first fragment: offset 1480, M set, id 0xdeadbeef, of UDP; 8 data bytes. */
static const uint8_t raw6_frag[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x10, 44, 0x40, V6_SRC, V6_DST,
    17, 0, 0x05, 0xc9, 0xde, 0xad, 0xbe, 0xef,
    1, 2, 3, 4, 5, 6, 7, 8,
};

/* IPv6 atomic fragment (offset 0, M clear, RFC 6946): decoded whole. UDP 53 -> 1024. */
static const uint8_t raw6_atomic[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x14, 44, 0x40, V6_SRC, V6_DST,
    17, 0, 0x00, 0x00, 0x00, 0x00, 0x00, 0x09,
    0x00, 0x35, 0x04, 0x00, 0x00, 0x0c, 0x00, 0x00,
    'w', 'x', 'y', 'z',
};

/* IPv4 first fragment: MF, offset 0, id 0x0abc, UDP header and 8 data bytes. */
static const uint8_t eth_frag1[] = {
    MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x24, 0x0a, 0xbc, 0x20, 0x00, 0x40, 0x11, 0x00, 0x00,
    10, 0, 0, 1, 10, 0, 0, 2,
    0x04, 0x00, 0x00, 0x35, 0x05, 0xd0, 0x00, 0x00,
    1, 2, 3, 4, 5, 6, 7, 8,
};

/* IPv4 last fragment: offset 185 * 8 = 1480, MF clear, 6 data bytes. */
static const uint8_t eth_frag2[] = {
    MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x1a, 0x0a, 0xbc, 0x00, 0xb9, 0x40, 0x11, 0x00, 0x00,
    10, 0, 0, 1, 10, 0, 0, 2,
    1, 2, 3, 4, 5, 6,
};

/* ICMP echo request, id 0x1234, seq 1, 4 data bytes. */
static const uint8_t eth_icmp[] = {
    MACS, 0x08, 0x00,
    0x45, 0x00, 0x00, 0x20, 0x00, 0x03, 0x00, 0x00, 0x40, 0x01, 0x00, 0x00,
    10, 0, 0, 1, 10, 0, 0, 2,
    0x08, 0x00, 0x00, 0x00, 0x12, 0x34, 0x00, 0x01,
    'p', 'i', 'n', 'g',
};

/* Raw IPv6 (LINKTYPE_IPV6) ICMPv6 echo reply, id 0xabcd, seq 1, no data. */
static const uint8_t raw6_icmp[] = {
    0x60, 0x00, 0x00, 0x00, 0x00, 0x08, 58, 0xff, V6_SRC, V6_DST,
    0x81, 0x00, 0x00, 0x00, 0xab, 0xcd, 0x00, 0x01,
};

/* GRE (K bit, key 1001) carrying IPv4. */
static const uint8_t eth_gre[] = {
    MACS, 0x08, 0x00,
    V4_OUTER(60, 47),
    0x20, 0x00, 0x08, 0x00, 0x00, 0x00, 0x03, 0xe9,
    V4_UDP,
};

/* ERSPAN type I: GRE 0x88be without sequence number, the frame follows. */
static const uint8_t eth_erspan1[] = {
    MACS, 0x08, 0x00,
    V4_OUTER(70, 47),
    0x00, 0x00, 0x88, 0xbe,
    MACS, 0x08, 0x00,
    V4_UDP,
};

/* ERSPAN type II: GRE S bit, seq 7; version 1, VLAN 0, COS 1, session 0x123, index 0. */
static const uint8_t eth_erspan2[] = {
    MACS, 0x08, 0x00,
    V4_OUTER(82, 47),
    0x10, 0x00, 0x88, 0xbe, 0x00, 0x00, 0x00, 0x07,
    0x10, 0x00, 0x21, 0x23, 0x00, 0x00, 0x00, 0x00,
    MACS, 0x08, 0x00,
    V4_UDP,
};

/* ERSPAN type III: version 2, session 0x155, timestamp, frame type 0, O bit, subheader. */
static const uint8_t eth_erspan3[] = {
    MACS, 0x08, 0x00,
    V4_OUTER(94, 47),
    0x10, 0x00, 0x22, 0xeb, 0x00, 0x00, 0x00, 0x01,
    0x20, 0x00, 0x01, 0x55, 0x11, 0x22, 0x33, 0x44, 0x00, 0x00, 0x00, 0x01,
    0x08, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00,
    MACS, 0x08, 0x00,
    V4_UDP,
};

/* VXLAN VNI 12345 on outer VLAN 10; the inner frame has VLAN 20. */
static const uint8_t eth_vxlan[] = {
    MACS, 0x81, 0x00, 0x00, 0x0a, 0x08, 0x00,
    V4_OUTER(86, 17),
    0xd4, 0x31, 0x12, 0xb5, 0x00, 0x42, 0x00, 0x00, /* UDP 54321 -> 4789, length 66 */
    0x08, 0x00, 0x00, 0x00, 0x00, 0x30, 0x39, 0x00, /* I flag, VNI 0x003039 */
    MACS, 0x81, 0x00, 0x00, 0x14, 0x08, 0x00,
    V4_UDP,
};

/* IPv4 in IPv4 on raw IP. */
static const uint8_t raw_ipip[] = { V4_OUTER(52, 4), V4_UDP };

/* PPTP: enhanced GRE (K, S, A, version 1), payload 36, call id 0x1234, seq 5, ack 4;
 * PPP with address and control, protocol 0x0021. */
static const uint8_t eth_pptp[] = {
    MACS, 0x08, 0x00,
    V4_OUTER(72, 47),
    0x30, 0x81, 0x88, 0x0b, 0x00, 0x24, 0x12, 0x34,
    0x00, 0x00, 0x00, 0x05, 0x00, 0x00, 0x00, 0x04,
    0xff, 0x03, 0x00, 0x21,
    V4_UDP,
};

/* PPTP without acknowledgment, address and control compressed away, 1-byte protocol. */
static const uint8_t eth_pptp_acfc[] = {
    MACS, 0x08, 0x00,
    V4_OUTER(65, 47),
    0x30, 0x01, 0x88, 0x0b, 0x00, 0x21, 0x00, 0x42, 0x00, 0x00, 0x00, 0x06,
    0x21,
    V4_UDP,
};

/* PPTP carrying IPv6 (0x57, compressed): 2001:db8::1 -> 2001:db8::2 UDP 1024 -> 53 "abcd". */
static const uint8_t eth_pptp6[] = {
    MACS, 0x08, 0x00,
    V4_OUTER(85, 47),
    0x30, 0x01, 0x88, 0x0b, 0x00, 0x35, 0x00, 0x43, 0x00, 0x00, 0x00, 0x07,
    0x57,
    0x60, 0x00, 0x00, 0x00, 0x00, 0x0c, 17, 64, V6_SRC, V6_DST,
    0x04, 0x00, 0x00, 0x35, 0x00, 0x0c, 0x00, 0x00, 'a', 'b', 'c', 'd',
};

struct sample {
    const char *name;
    int link;
    const uint8_t *b;
    size_t n;
};

#define SAMPLE(link, a) { #a, link, a, sizeof(a) }

static const struct sample samples[] = {
    SAMPLE(TL_LINK_ETHERNET, eth_tcp),     SAMPLE(TL_LINK_ETHERNET, eth_ipopt),
    SAMPLE(TL_LINK_ETHERNET, eth_udp),     SAMPLE(TL_LINK_ETHERNET, eth_vlan),
    SAMPLE(TL_LINK_ETHERNET, eth_qinq),    SAMPLE(TL_LINK_ETHERNET, eth_3vlan),
    SAMPLE(TL_LINK_ETHERNET, eth_mpls),    SAMPLE(TL_LINK_LINUX_SLL, sll_udp),
    SAMPLE(TL_LINK_LINUX_SLL2, sll2_udp),  SAMPLE(TL_LINK_NULL, null_le),
    SAMPLE(TL_LINK_NULL, null_be),         SAMPLE(TL_LINK_RAW, raw6_ext_tcp),
    SAMPLE(TL_LINK_RAW, raw6_frag),        SAMPLE(TL_LINK_IPV6, raw6_atomic),
    SAMPLE(TL_LINK_ETHERNET, eth_frag1),   SAMPLE(TL_LINK_ETHERNET, eth_frag2),
    SAMPLE(TL_LINK_ETHERNET, eth_icmp),    SAMPLE(TL_LINK_IPV6, raw6_icmp),
    SAMPLE(TL_LINK_ETHERNET, eth_gre),     SAMPLE(TL_LINK_ETHERNET, eth_erspan1),
    SAMPLE(TL_LINK_ETHERNET, eth_erspan2), SAMPLE(TL_LINK_ETHERNET, eth_erspan3),
    SAMPLE(TL_LINK_ETHERNET, eth_vxlan),   SAMPLE(TL_LINK_DLT_RAW, raw_ipip),
    SAMPLE(TL_LINK_ETHERNET, eth_pptp),    SAMPLE(TL_LINK_ETHERNET, eth_pptp_acfc),
    SAMPLE(TL_LINK_ETHERNET, eth_pptp6),
};
/* clang-format on */

/* Decodes an exact-size heap copy of the first n bytes of b. */
static enum tl_decode_err decode_n(struct tl_decoded *d, int link, const uint8_t *b, size_t n)
{
    uint8_t *p = tl_test_dup(b, n);
    memset(d, 0, sizeof(*d));
    d->caplen = (uint32_t)n;
    d->wirelen = (uint32_t)n;
    enum tl_decode_err err = tl_decode(d, link, p, (uint32_t)n);
    CHECK_EQ(d->err, err);
    free(p);
    return err;
}

#define DECODE(d, link, a) decode_n(d, link, a, sizeof(a))

static int is_v4(const struct tl_ip *ip, uint8_t a, uint8_t b, uint8_t c, uint8_t e)
{
    static const uint8_t mapped[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff };
    const uint8_t v4[4] = { a, b, c, e };
    return memcmp(ip->b, mapped, 12) == 0 && memcmp(ip->b + 12, v4, 4) == 0;
}

/* The 10.0.0.1:1024 -> 10.0.0.2:53 "abcd" datagram of V4_UDP at offset l3. */
static void check_v4_udp(const struct tl_decoded *d, uint32_t l3)
{
    CHECK_EQ(d->err, TL_DECODE_OK);
    CHECK(!d->truncated);
    CHECK_EQ(d->ipv, 4);
    CHECK_EQ(d->ether_type, 0x0800);
    CHECK(is_v4(&d->src, 10, 0, 0, 1));
    CHECK(is_v4(&d->dst, 10, 0, 0, 2));
    CHECK_EQ(d->ip_proto, TL_IPPROTO_UDP);
    CHECK_EQ(d->ttl, 64);
    CHECK_EQ(d->ip_len, 32);
    CHECK_EQ(d->l3_off, l3);
    CHECK_EQ(d->l4_off, l3 + 20);
    CHECK_EQ(d->sport, 1024);
    CHECK_EQ(d->dport, 53);
    CHECK_EQ(d->payload_off, l3 + 28);
    CHECK_EQ(d->payload_len, 4);
    CHECK_EQ(d->payload_wire, 4);
    CHECK(!d->is_fragment);
}

static void check_outer(const struct tl_decoded *d, enum tl_tunnel kind, uint32_t id)
{
    CHECK_EQ(d->tunnel, kind);
    CHECK_EQ(d->tunnel_id, id);
    CHECK_EQ(d->outer_ipv, 4);
    CHECK(is_v4(&d->outer_src, 192, 0, 2, 1));
    CHECK(is_v4(&d->outer_dst, 192, 0, 2, 2));
}

static void test_link_supported(void)
{
    CHECK(tl_link_supported(TL_LINK_ETHERNET));
    CHECK(tl_link_supported(TL_LINK_NULL));
    CHECK(tl_link_supported(TL_LINK_LINUX_SLL2));
    CHECK(tl_link_supported(12) && tl_link_supported(14) && tl_link_supported(101));
    CHECK(!tl_link_supported(105)); /* 802.11 */
    CHECK(!tl_link_supported(-1));
    struct tl_decoded d;
    CHECK_EQ(DECODE(&d, 105, eth_udp), TL_DECODE_LINK_UNSUPPORTED);
}

static void test_eth_tcp_options(void)
{
    struct tl_decoded d;
    d.ts_us = 77;
    d.caplen = d.wirelen = 70;
    CHECK_EQ(tl_decode(&d, TL_LINK_ETHERNET, eth_tcp, sizeof(eth_tcp)), TL_DECODE_OK);
    CHECK_EQ(d.ts_us, 77); /* the caller's fields survive */
    CHECK_EQ(d.caplen, 70);
    CHECK(d.has_mac);
    CHECK_EQ(d.dst_mac[0], 0x00);
    CHECK_EQ(d.dst_mac[5], 0x55);
    CHECK_EQ(d.src_mac[0], 0x66);
    CHECK_EQ(d.src_mac[5], 0xbb);
    CHECK_EQ(d.nvlan, 0);
    CHECK_EQ(d.ipv, 4);
    CHECK_EQ(d.ether_type, 0x0800);
    CHECK(is_v4(&d.src, 10, 0, 0, 1));
    CHECK(is_v4(&d.dst, 10, 0, 0, 2));
    CHECK_EQ(d.ip_proto, TL_IPPROTO_TCP);
    CHECK_EQ(d.ip_len, 56);
    CHECK_EQ(d.l3_off, 14);
    CHECK_EQ(d.l4_off, 34);
    CHECK_EQ(d.sport, 12345);
    CHECK_EQ(d.dport, 80);
    CHECK_EQ(d.seq, 1);
    CHECK_EQ(d.ack, 2);
    CHECK_EQ(d.tcp_flags, TL_TH_PUSH | TL_TH_ACK);
    CHECK_EQ(d.window, 29200);
    CHECK_EQ(d.payload_off, 66);
    CHECK_EQ(d.payload_len, 4);
    CHECK_EQ(d.payload_wire, 4);
    CHECK_EQ(d.tunnel, TL_TUNNEL_NONE);
    CHECK(!d.truncated);
    CHECK(!d.is_fragment);
}

static void test_ipv4_options_and_padding(void)
{
    struct tl_decoded d;
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, eth_ipopt), TL_DECODE_OK);
    CHECK_EQ(d.ttl, 1);
    CHECK_EQ(d.ip_len, 34);
    CHECK_EQ(d.l4_off, 38);
    CHECK_EQ(d.payload_off, 46);
    CHECK_EQ(d.payload_len, 2); /* the Ethernet padding is not payload */
    CHECK_EQ(d.payload_wire, 2);
    CHECK(!d.truncated);
}

static void test_udp(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_ETHERNET, eth_udp);
    check_v4_udp(&d, 14);
}

static void test_vlan(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_ETHERNET, eth_vlan);
    check_v4_udp(&d, 18);
    CHECK_EQ(d.nvlan, 1);
    CHECK_EQ(d.vlan[0], 100); /* PCP masked off */
}

static void test_qinq(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_ETHERNET, eth_qinq);
    check_v4_udp(&d, 22);
    CHECK_EQ(d.nvlan, 2);
    CHECK_EQ(d.vlan[0], 200);
    CHECK_EQ(d.vlan[1], 100);

    DECODE(&d, TL_LINK_ETHERNET, eth_3vlan);
    check_v4_udp(&d, 26);
    CHECK_EQ(d.nvlan, 2);
    CHECK_EQ(d.vlan[0], 1);
    CHECK_EQ(d.vlan[1], 2);
}

static void test_vlan_depth(void)
{
    uint8_t b[14 + 9 * 4 + 32] = { MACS };
    size_t o = 12;
    for (int i = 0; i < 9; i++) {
        b[o++] = 0x81;
        b[o++] = 0x00;
        b[o++] = 0x00;
        b[o++] = (uint8_t)(i + 1);
    }
    b[o++] = 0x08;
    b[o++] = 0x00;
    struct tl_decoded d;
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_VLAN_DEPTH);
    CHECK_EQ(d.nvlan, 2);
}

static void test_mpls(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_ETHERNET, eth_mpls);
    check_v4_udp(&d, 22);
    CHECK_EQ(d.nmpls, 2);

    uint8_t deep[14 + 9 * 4 + 32] = { MACS, 0x88, 0x47 };
    for (size_t i = 0; i < 9; i++)
        deep[14 + i * 4 + 2] = i == 8 ? 0x01 : 0x00; /* bottom of stack on the 9th */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, deep), TL_DECODE_MPLS_DEPTH);
}

static void test_sll(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_LINUX_SLL, sll_udp);
    check_v4_udp(&d, 16);
    CHECK(!d.has_mac);
    DECODE(&d, TL_LINK_LINUX_SLL2, sll2_udp);
    check_v4_udp(&d, 20);
}

static void test_null_loop(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_NULL, null_le);
    check_v4_udp(&d, 4);
    DECODE(&d, TL_LINK_NULL, null_be);
    check_v4_udp(&d, 4);

    uint8_t v6[4 + sizeof(raw6_icmp)] = { 0, 0, 0, 30 }; /* macOS AF_INET6, big-endian host */
    memcpy(v6 + 4, raw6_icmp, sizeof(raw6_icmp));
    CHECK_EQ(DECODE(&d, TL_LINK_NULL, v6), TL_DECODE_OK);
    CHECK_EQ(d.ipv, 6);
    v6[0] = 24; /* NetBSD AF_INET6, little-endian host */
    v6[3] = 0;
    CHECK_EQ(DECODE(&d, TL_LINK_NULL, v6), TL_DECODE_OK);
    v6[0] = 28; /* FreeBSD AF_INET6, DLT_LOOP wants network order */
    CHECK_EQ(DECODE(&d, TL_LINK_LOOP, v6), TL_DECODE_NOT_IP);
    v6[0] = 0;
    v6[3] = 28;
    CHECK_EQ(DECODE(&d, TL_LINK_LOOP, v6), TL_DECODE_OK);
    CHECK_EQ(d.l3_off, 4);
    v6[3] = 7; /* AF_UNIX? */
    CHECK_EQ(DECODE(&d, TL_LINK_NULL, v6), TL_DECODE_NOT_IP);
}

static void test_ipv6_ext_tcp(void)
{
    struct tl_decoded d;
    CHECK_EQ(DECODE(&d, TL_LINK_RAW, raw6_ext_tcp), TL_DECODE_OK);
    CHECK_EQ(d.ipv, 6);
    CHECK_EQ(d.ether_type, 0x86dd);
    CHECK(memcmp(d.src.b, v6_src, 16) == 0);
    CHECK(memcmp(d.dst.b, v6_dst, 16) == 0);
    CHECK_EQ(d.ttl, 64);
    CHECK_EQ(d.ip_proto, TL_IPPROTO_TCP);
    CHECK_EQ(d.ip_len, 84);
    CHECK_EQ(d.l3_off, 0);
    CHECK_EQ(d.l4_off, 64);
    CHECK_EQ(d.sport, 443);
    CHECK_EQ(d.dport, 49152);
    CHECK_EQ(d.seq, 0x11223344);
    CHECK_EQ(d.tcp_flags, TL_TH_SYN);
    CHECK_EQ(d.window, 0xffff);
    CHECK_EQ(d.payload_off, 84);
    CHECK_EQ(d.payload_len, 0);
    CHECK(!d.has_mac);
}

static void test_ipv6_ext_limit(void)
{
    /* Nine destination options headers: more than the decoder walks. */
    uint8_t b[40 + 9 * 8 + 20] = { 0x60, 0, 0, 0, 0, 9 * 8 + 20, 60, 64 };
    for (size_t i = 0; i < 9; i++)
        b[40 + i * 8] = i == 8 ? 6 : 60;
    b[40 + 9 * 8 + 12] = 0x50;
    b[40 + 2 * 8 + 12] = 0x50; /* where TCP starts after two headers (an option byte here) */
    struct tl_decoded d;
    CHECK_EQ(DECODE(&d, TL_LINK_RAW, b), TL_DECODE_IPV6_EXT);
    b[40 + 8] = 6; /* two headers: fine */
    CHECK_EQ(DECODE(&d, TL_LINK_RAW, b), TL_DECODE_OK);
    CHECK_EQ(d.l4_off, 56);
    CHECK_EQ(d.ip_proto, TL_IPPROTO_TCP);
    /* An extension header longer than the payload length is bad, not short. */
    b[5] = 4;
    CHECK_EQ(DECODE(&d, TL_LINK_RAW, b), TL_DECODE_IPV6_EXT);
    CHECK(!d.truncated);
}

static void test_ipv6_fragment(void)
{
    struct tl_decoded d;
    CHECK_EQ(DECODE(&d, TL_LINK_RAW, raw6_frag), TL_DECODE_OK);
    CHECK(d.is_fragment);
    CHECK(d.more_frags);
    CHECK_EQ(d.frag_off, 1480);
    CHECK_EQ(d.frag_id, 0xdeadbeef);
    CHECK_EQ(d.frag_proto, TL_IPPROTO_UDP);
    CHECK_EQ(d.ip_proto, TL_IPPROTO_UDP);
    CHECK_EQ(d.ip_len, 56);
    CHECK_EQ(d.l4_off, 48);
    CHECK_EQ(d.payload_off, 48);
    CHECK_EQ(d.payload_len, 8);
    CHECK_EQ(d.sport, 0);

    CHECK_EQ(DECODE(&d, TL_LINK_IPV6, raw6_atomic), TL_DECODE_OK);
    CHECK(!d.is_fragment);
    CHECK_EQ(d.sport, 53);
    CHECK_EQ(d.dport, 1024);
    CHECK_EQ(d.l4_off, 48);
    CHECK_EQ(d.payload_len, 4);
}

static void test_ipv4_fragments(void)
{
    struct tl_decoded d;
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, eth_frag1), TL_DECODE_OK);
    CHECK(d.is_fragment);
    CHECK(d.more_frags);
    CHECK_EQ(d.frag_off, 0);
    CHECK_EQ(d.frag_id, 0x0abc);
    CHECK_EQ(d.frag_proto, TL_IPPROTO_UDP);
    CHECK_EQ(d.ip_len, 36);
    CHECK_EQ(d.l4_off, 34);
    CHECK_EQ(d.payload_off, 34);
    CHECK_EQ(d.payload_len, 16);
    CHECK_EQ(d.sport, 0); /* the reassembler feeds the datagram back whole */
    CHECK_EQ(d.dport, 0);
    CHECK(is_v4(&d.src, 10, 0, 0, 1));

    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, eth_frag2), TL_DECODE_OK);
    CHECK(d.is_fragment);
    CHECK(!d.more_frags);
    CHECK_EQ(d.frag_off, 1480);
    CHECK_EQ(d.frag_id, 0x0abc);
    CHECK_EQ(d.frag_proto, TL_IPPROTO_UDP);
    CHECK_EQ(d.l4_off, 34);
    CHECK_EQ(d.payload_len, 6);
    CHECK_EQ(d.payload_wire, 6);
    CHECK_EQ(d.sport, 0);
}

static void test_icmp(void)
{
    struct tl_decoded d;
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, eth_icmp), TL_DECODE_OK);
    CHECK_EQ(d.ip_proto, TL_IPPROTO_ICMP);
    CHECK_EQ(d.icmp_type, 8);
    CHECK_EQ(d.icmp_code, 0);
    CHECK_EQ(d.sport, 8);
    CHECK_EQ(d.dport, 0);
    CHECK_EQ(d.icmp_id, 0x1234);
    CHECK_EQ(d.l4_off, 34);
    CHECK_EQ(d.payload_off, 42);
    CHECK_EQ(d.payload_len, 4);

    CHECK_EQ(DECODE(&d, TL_LINK_IPV6, raw6_icmp), TL_DECODE_OK);
    CHECK_EQ(d.ipv, 6);
    CHECK_EQ(d.ip_proto, TL_IPPROTO_ICMPV6);
    CHECK_EQ(d.ttl, 255);
    CHECK_EQ(d.icmp_type, 129);
    CHECK_EQ(d.sport, 129);
    CHECK_EQ(d.icmp_id, 0xabcd);
    CHECK_EQ(d.payload_off, 48);
    CHECK_EQ(d.payload_len, 0);
}

static void test_gre_key(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_ETHERNET, eth_gre);
    check_v4_udp(&d, 14 + 20 + 8);
    check_outer(&d, TL_TUNNEL_GRE, 1001);
}

/* A PPTP packet with the given PPP bytes after the GRE header (payload length set). */
static enum tl_decode_err pptp_with(struct tl_decoded *d, uint16_t gre_flags, const uint8_t *ppp,
                                    size_t n)
{
    uint8_t b[96];
    size_t h = 14 + 20;
    memcpy(b, eth_pptp, h);
    b[h++] = (uint8_t)(gre_flags >> 8);
    b[h++] = (uint8_t)gre_flags;
    b[h++] = 0x88;
    b[h++] = 0x0b;
    b[h++] = (uint8_t)(n >> 8);
    b[h++] = (uint8_t)n;
    b[h++] = 0x12;
    b[h++] = 0x34;
    if (n)
        memcpy(b + h, ppp, n);
    h += n;
    b[14 + 2] = (uint8_t)((h - 14) >> 8);
    b[14 + 3] = (uint8_t)(h - 14);
    return decode_n(d, TL_LINK_ETHERNET, b, h);
}

static void test_pptp(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_ETHERNET, eth_pptp);
    check_v4_udp(&d, 14 + 20 + 16 + 4);
    check_outer(&d, TL_TUNNEL_PPTP, 0x1234);
    DECODE(&d, TL_LINK_ETHERNET, eth_pptp_acfc);
    check_v4_udp(&d, 14 + 20 + 12 + 1);
    check_outer(&d, TL_TUNNEL_PPTP, 0x42);
    DECODE(&d, TL_LINK_ETHERNET, eth_pptp6);
    CHECK_EQ(d.err, TL_DECODE_OK);
    CHECK_EQ(d.ipv, 6);
    CHECK(memcmp(d.src.b, v6_src, 16) == 0);
    CHECK_EQ(d.dport, 53);
    CHECK_EQ(d.payload_len, 4);
    check_outer(&d, TL_TUNNEL_PPTP, 0x43);

    /* PPP that is not IP stays the tunnel's own flow, noted: LCP, CHAP, IPCP, CCP, MPPE */
    static const struct {
        uint8_t ppp[6];
        size_t n;
        enum tl_ppp_skip why;
    } skip[] = {
        { { 0xff, 0x03, 0xc0, 0x21, 0x01, 0x01 }, 6, TL_PPP_CONTROL },
        { { 0xc2, 0x23, 0x01, 0x02 }, 4, TL_PPP_CONTROL },
        { { 0xff, 0x03, 0x80, 0x21, 0x01 }, 5, TL_PPP_CONTROL },
        { { 0x80, 0xfd, 0x01 }, 3, TL_PPP_CONTROL },
        { { 0xff, 0x03, 0x00, 0xfd, 0x90, 0x01 }, 6, TL_PPP_COMPRESSED },
        { { 0xfd, 0x90, 0x02 }, 3, TL_PPP_COMPRESSED },
        { { 0x00, 0x2b, 0x00 }, 3, TL_PPP_OTHER }, /* IPX */
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(skip); i++) {
        CHECK_EQ(pptp_with(&d, 0x2001, skip[i].ppp, skip[i].n), TL_DECODE_OK);
        CHECK_EQ(d.tunnel, TL_TUNNEL_NONE);
        CHECK_EQ(d.ip_proto, 47);
        CHECK_EQ(d.ppp_skip, skip[i].why);
        CHECK_EQ(d.payload_off, 14 + 20);
        CHECK_EQ(d.payload_len, 8 + skip[i].n);
    }
    /* an acknowledgment alone (no payload): the tunnel's flow */
    CHECK_EQ(pptp_with(&d, 0x2001, NULL, 0), TL_DECODE_OK);
    CHECK_EQ(d.tunnel, TL_TUNNEL_NONE);
    CHECK_EQ(d.ppp_skip, TL_PPP_NONE);
    /* RFC 2637's clear bits set (checksum, routing, recursion), or K clear: bad */
    static const uint16_t bad[] = { 0xa001, 0x6001, 0x2101, 0x0001 };
    for (size_t i = 0; i < TL_ARRAY_LEN(bad); i++)
        CHECK_EQ(pptp_with(&d, bad[i], (const uint8_t *)"\x21", 1), TL_DECODE_TUNNEL_BAD);
    /* a payload length past the packet, with the capture complete: bad */
    uint8_t b[sizeof(eth_pptp)];
    memcpy(b, eth_pptp, sizeof(b));
    b[14 + 20 + 5] = 0x40;
    CHECK_EQ(decode_n(&d, TL_LINK_ETHERNET, b, sizeof(b)), TL_DECODE_TUNNEL_BAD);
}

static void test_erspan(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_ETHERNET, eth_erspan1);
    check_v4_udp(&d, 14 + 20 + 4 + 14);
    check_outer(&d, TL_TUNNEL_ERSPAN_I, 0);
    CHECK_EQ(d.src_mac[0], 0x66); /* the outermost frame's */

    DECODE(&d, TL_LINK_ETHERNET, eth_erspan2);
    check_v4_udp(&d, 14 + 20 + 8 + 8 + 14);
    check_outer(&d, TL_TUNNEL_ERSPAN_II, 0x123);

    DECODE(&d, TL_LINK_ETHERNET, eth_erspan3);
    check_v4_udp(&d, 14 + 20 + 8 + 12 + 8 + 14);
    check_outer(&d, TL_TUNNEL_ERSPAN_III, 0x155);

    uint8_t bad[sizeof(eth_erspan2)];
    memcpy(bad, eth_erspan2, sizeof(bad));
    bad[14 + 20 + 8] = 0x20; /* version 2 in a type II header */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, bad), TL_DECODE_TUNNEL_BAD);
}

static void test_vxlan(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_ETHERNET, eth_vxlan);
    check_v4_udp(&d, 18 + 20 + 8 + 8 + 18);
    check_outer(&d, TL_TUNNEL_VXLAN, 12345);
    CHECK_EQ(d.nvlan, 2);
    CHECK_EQ(d.vlan[0], 10);
    CHECK_EQ(d.vlan[1], 20);

    /* Without the I flag it is no VXLAN: a plain UDP datagram to 4789. */
    uint8_t b[sizeof(eth_vxlan)];
    memcpy(b, eth_vxlan, sizeof(b));
    b[18 + 20 + 8] = 0;
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_OK);
    CHECK_EQ(d.tunnel, TL_TUNNEL_NONE);
    CHECK_EQ(d.sport, 54321);
    CHECK_EQ(d.dport, 4789);
    CHECK(is_v4(&d.src, 192, 0, 2, 1));
    CHECK_EQ(d.payload_off, 18 + 20 + 8);
    CHECK_EQ(d.payload_len, 58);
}

static void test_ipip_depth(void)
{
    struct tl_decoded d;
    DECODE(&d, TL_LINK_DLT_RAW, raw_ipip);
    check_v4_udp(&d, 20);
    check_outer(&d, TL_TUNNEL_IPIP, 0);

    /* Five IP-in-IP headers around the datagram: one more than the cap. */
    uint8_t b[5 * 20 + 32];
    static const uint8_t hdr[] = { V4_OUTER(0, 4) };
    static const uint8_t inner[] = { V4_UDP };
    for (size_t i = 0; i < 5; i++) {
        memcpy(b + i * 20, hdr, 20);
        b[i * 20 + 3] = (uint8_t)(sizeof(b) - i * 20);
    }
    memcpy(b + 100, inner, sizeof(inner));
    CHECK_EQ(DECODE(&d, TL_LINK_DLT_RAW, b), TL_DECODE_TUNNEL_DEPTH);
    CHECK(decode_n(&d, TL_LINK_DLT_RAW, b + 20, sizeof(b) - 20) == TL_DECODE_OK);
    CHECK_EQ(d.l3_off, 80);
}

static void test_truncated_tcp(void)
{
    struct tl_decoded d;
    CHECK_EQ(decode_n(&d, TL_LINK_ETHERNET, eth_tcp, 14 + 20 + 10), TL_DECODE_TCP_SHORT);
    CHECK(d.truncated);
    CHECK(is_v4(&d.src, 10, 0, 0, 1));
    CHECK_EQ(d.l4_off, 34);

    /* Options past the length the IP header declares: bad, not truncated. */
    uint8_t b[sizeof(eth_tcp)];
    memcpy(b, eth_tcp, sizeof(b));
    b[14 + 20 + 12] = 0xf0; /* data offset 15: 60 bytes */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_TCP_BAD);
    CHECK(!d.truncated);
    b[14 + 20 + 12] = 0x40; /* data offset 4 */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_TCP_BAD);
}

static void test_ipv4_bad(void)
{
    struct tl_decoded d;
    uint8_t b[sizeof(eth_udp)];
    memcpy(b, eth_udp, sizeof(b));
    b[14 + 3] = 16; /* total length below the 20-byte header */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_IPV4_BAD);
    CHECK(!d.truncated);
    b[14 + 3] = 32;
    b[14] = 0x44; /* IHL 4 */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_IPV4_BAD);
    b[14] = 0x55; /* version 5 */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_IPV4_BAD);
    b[14] = 0x45;
    b[14 + 2] = 0x05; /* total 1312: more than captured */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_OK);
    CHECK(d.truncated);
    CHECK_EQ(d.ip_len, 1312);
    CHECK_EQ(d.payload_len, 4); /* UDP's own length still says 4 */
}

static void test_udp_bad(void)
{
    struct tl_decoded d;
    uint8_t b[sizeof(eth_udp)];
    memcpy(b, eth_udp, sizeof(b));
    b[14 + 20 + 5] = 4; /* UDP length 4 */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_UDP_BAD);
    b[14 + 20 + 5] = 40; /* more than the complete IP datagram carries */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_UDP_BAD);
    /* The same, cut by the capture: truncated. */
    b[14 + 2] = 0x01;
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_OK);
    CHECK(d.truncated);
    CHECK_EQ(d.payload_len, 4);
    CHECK_EQ(d.payload_wire, 32);
}

static void test_not_ip(void)
{
    struct tl_decoded d;
    uint8_t b[sizeof(eth_udp)];
    memcpy(b, eth_udp, sizeof(b));
    b[12] = 0x08;
    b[13] = 0x06; /* ARP */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_NOT_IP);
    b[12] = 0x00;
    b[13] = 0x2e; /* IEEE 802.3 length */
    CHECK_EQ(DECODE(&d, TL_LINK_ETHERNET, b), TL_DECODE_NOT_IP);
    CHECK(!d.truncated);
    CHECK_EQ(decode_n(&d, TL_LINK_ETHERNET, b, 13), TL_DECODE_LINK_SHORT);
    CHECK(d.truncated);
    CHECK_EQ(tl_decode(&d, TL_LINK_RAW, NULL, 0), TL_DECODE_LINK_SHORT);
}

/* No prefix that cuts a header decodes as OK; every longer prefix does. */
static void test_every_prefix(void)
{
    for (size_t s = 0; s < TL_ARRAY_LEN(samples); s++) {
        const struct sample *sm = &samples[s];
        struct tl_decoded d;
        if (decode_n(&d, sm->link, sm->b, sm->n) != TL_DECODE_OK) {
            tl_check_report(__FILE__, __LINE__, "%s does not decode", sm->name);
            continue;
        }
        CHECK(!d.truncated);
        uint32_t hdr_end = d.payload_off;
        for (size_t n = 0; n < sm->n; n++) {
            enum tl_decode_err err = decode_n(&d, sm->link, sm->b, n);
            if (n < hdr_end ? err == TL_DECODE_OK || !d.truncated : err != TL_DECODE_OK)
                tl_check_report(__FILE__, __LINE__, "%s cut at %zu: err %d truncated %d", sm->name,
                                n, (int)err, (int)d.truncated);
        }
    }
}

const struct tl_test tl_tests_decode[] = {
    { "link_supported", test_link_supported },
    { "eth_tcp_options", test_eth_tcp_options },
    { "ipv4_options_and_padding", test_ipv4_options_and_padding },
    { "udp", test_udp },
    { "vlan", test_vlan },
    { "qinq", test_qinq },
    { "vlan_depth", test_vlan_depth },
    { "mpls", test_mpls },
    { "sll", test_sll },
    { "null_loop", test_null_loop },
    { "ipv6_ext_tcp", test_ipv6_ext_tcp },
    { "ipv6_ext_limit", test_ipv6_ext_limit },
    { "ipv6_fragment", test_ipv6_fragment },
    { "ipv4_fragments", test_ipv4_fragments },
    { "icmp", test_icmp },
    { "gre_key", test_gre_key },
    { "pptp", test_pptp },
    { "erspan", test_erspan },
    { "vxlan", test_vxlan },
    { "ipip_depth", test_ipip_depth },
    { "truncated_tcp", test_truncated_tcp },
    { "ipv4_bad", test_ipv4_bad },
    { "udp_bad", test_udp_bad },
    { "not_ip", test_not_ip },
    { "every_prefix", test_every_prefix },
    { 0 },
};
