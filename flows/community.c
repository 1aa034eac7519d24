/*
 * community.c - Community ID v1 flow hashes and Zeek-like flow uids.
 *
 * Community ID v1 (https://github.com/corelight/community-id-spec): SHA-1 over
 *   seed(2, NBO) . addr_lo . addr_hi . proto(1) . 0(1) [. port_lo(2) . port_hi(2)]
 * where (addr_lo, port_lo) is the numerically smaller endpoint (address bytes
 * first, then port), rendered as "1:" + base64(digest). Ports are hashed only
 * for TCP, UDP, SCTP, ICMP and ICMPv6. For ICMP the "ports" are the type and,
 * when the type has a request/reply counterpart, that counterpart (so both
 * directions hash alike), else the code; one-way messages are never reordered
 * (the spec's mapping, taken from Zeek's ICMP4_counterpart/ICMP6_counterpart).
 */
/* SHA1_Init() and friends are deprecated in OpenSSL 3 in favour of EVP; see tl_community_id. */
#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/evp.h>
#include <openssl/sha.h>

#include "flow.h"

enum {
    CID_PROTO_SCTP = 132,
    CID_SHA1_LEN = 20,
    CID_MAX_INPUT = 2 + 16 + 16 + 1 + 1 + 2 + 2,
};

/* Request/reply type pairs (Zeek's ICMP4_counterpart, ICMP6_counterpart); other types are one-way.
 */
static const uint8_t community_icmp4_pairs[][2] = {
    { 8, 0 },   /* echo, echo reply (RFC 792) */
    { 13, 14 }, /* timestamp */
    { 15, 16 }, /* information */
    { 10, 9 },  /* router solicitation, advertisement (RFC 1256) */
    { 17, 18 }, /* address mask (RFC 950) */
};
static const uint8_t community_icmp6_pairs[][2] = {
    { 128, 129 }, /* echo request, reply (RFC 4443) */
    { 130, 131 }, /* MLD query, report (RFC 2710) */
    { 133, 134 }, /* router solicitation, advertisement (RFC 4861) */
    { 135, 136 }, /* neighbor solicitation, advertisement */
    { 139, 140 }, /* node information query, reply (RFC 4620) */
    { 144, 145 }, /* home agent address discovery request, reply (RFC 6275) */
};

/* The counterpart of a two-way type into *peer; false for one-way types. */
static bool community_icmp_peer(uint8_t proto, uint16_t type, uint16_t *peer)
{
    const uint8_t(*pairs)[2] = community_icmp4_pairs;
    size_t n = TL_ARRAY_LEN(community_icmp4_pairs);
    if (proto == TL_IPPROTO_ICMPV6) {
        pairs = community_icmp6_pairs;
        n = TL_ARRAY_LEN(community_icmp6_pairs);
    }
    for (size_t i = 0; i < n; i++) {
        if (type == pairs[i][0] || type == pairs[i][1]) {
            *peer = type == pairs[i][0] ? pairs[i][1] : pairs[i][0];
            return true;
        }
    }
    return false;
}

static uint8_t *community_put16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

void tl_community_id(char out[TL_CID_LEN], uint16_t seed, int ipv, const uint8_t *saddr,
                     const uint8_t *daddr, uint8_t proto, uint16_t sport, uint16_t dport)
{
    size_t alen = ipv == 4 ? 4 : 16;
    bool has_ports = proto == TL_IPPROTO_TCP || proto == TL_IPPROTO_UDP ||
                     proto == CID_PROTO_SCTP || proto == TL_IPPROTO_ICMP ||
                     proto == TL_IPPROTO_ICMPV6;
    bool two_way = true;

    if (proto == TL_IPPROTO_ICMP || proto == TL_IPPROTO_ICMPV6) {
        uint16_t peer;
        two_way = community_icmp_peer(proto, sport, &peer);
        if (two_way)
            dport = peer; /* the code does not enter the hash */
    }

    if (!has_ports)
        sport = dport = 0;
    if (two_way) {
        int c = memcmp(saddr, daddr, alen);
        if (c > 0 || (c == 0 && sport > dport)) {
            const uint8_t *ta = saddr;
            uint16_t tp = sport;
            saddr = daddr;
            daddr = ta;
            sport = dport;
            dport = tp;
        }
    }

    uint8_t buf[CID_MAX_INPUT], *p = buf;
    p = community_put16(p, seed);
    memcpy(p, saddr, alen);
    p += alen;
    memcpy(p, daddr, alen);
    p += alen;
    *p++ = proto;
    *p++ = 0; /* padding keeps the input 32-bit aligned */
    if (has_ports) {
        p = community_put16(p, sport);
        p = community_put16(p, dport);
    }

    /* The low-level calls hash on the stack. In OpenSSL 3 the one-shot SHA1()
     * is EVP_Q_digest(), which looks the algorithm up (under a lock) and
     * allocates a context for every flow record and event: 490 ns against 56. */
    unsigned char md[CID_SHA1_LEN];
    SHA_CTX sha;
    SHA1_Init(&sha);
    SHA1_Update(&sha, buf, (size_t)(p - buf));
    SHA1_Final(md, &sha);
    /* 20 bytes -> 28 base64 characters + NUL, after "1:": 31 <= TL_CID_LEN. */
    out[0] = '1';
    out[1] = ':';
    EVP_EncodeBlock((unsigned char *)out + 2, md, CID_SHA1_LEN);
}

/*
 * "C" + 16 base62 digits, always 17 characters like most Zeek uids. The first
 * 11 digits encode all 64 bits of h (62^11 > 2^64); the last 5 come from a
 * mix of h, so they add no entropy, only the familiar width.
 */
void tl_uid_format(char out[TL_UID_LEN], uint64_t h)
{
    static const char digits[] = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";
    enum { UID_HI = 11, UID_LO = 5 };
    uint64_t m = h; /* splitmix64 finalizer */
    m = (m ^ (m >> 30)) * 0xbf58476d1ce4e5b9ULL;
    m = (m ^ (m >> 27)) * 0x94d049bb133111ebULL;
    m ^= m >> 31;

    out[0] = 'C';
    for (int i = UID_HI; i >= 1; i--) {
        out[i] = digits[h % 62];
        h /= 62;
    }
    for (int i = UID_HI + UID_LO; i > UID_HI; i--) {
        out[i] = digits[m % 62];
        m /= 62;
    }
    out[1 + UID_HI + UID_LO] = '\0';
}
