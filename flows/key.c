/*
 * key.c - canonical flow keys and hashing.
 *
 * A tunnel's type is part of the key; its id only where it names a segment
 * both directions share (VXLAN, ERSPAN), not a GRE key or PPTP call id.
 *
 * ICMP has no ports. Like Zeek and the Community ID spec, a request and its
 * reply (echo, timestamp, information, address mask, and the ICMPv6 echo and
 * neighbour/router pairs) form one flow: the key uses the request type, and
 * for echo the identifier. Other ICMP messages are keyed by type and code.
 */
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>

#include "cursor.h"
#include "key.h"

int tl_icmp_request_type(int ipv, uint8_t type)
{
    if (ipv == 4) {
        switch (type) {
        case 0: return 8;   /* echo reply -> echo */
        case 14: return 13; /* timestamp reply */
        case 16: return 15; /* information reply */
        case 18: return 17; /* address mask reply */
        case 8:
        case 13:
        case 15:
        case 17: return type;
        }
        return -1;
    }
    switch (type) {
    case 129: return 128; /* echo reply -> echo request */
    case 131: return 130; /* MLD report -> query */
    case 134: return 133; /* router advertisement -> solicitation */
    case 136: return 135; /* neighbour advertisement -> solicitation */
    case 128:
    case 130:
    case 133:
    case 135: return type;
    }
    return -1;
}

static int key_cmp_endpoint(const uint8_t *a, uint16_t pa, const uint8_t *b, uint16_t pb)
{
    int c = memcmp(a, b, 16);
    if (c)
        return c;
    return (int)pa - (int)pb;
}

void tl_fkey_make(struct tl_fkey *k, const struct tl_decoded *d, bool *from_a)
{
    uint16_t sp = d->sport, dp = d->dport;

    memset(k, 0, sizeof(*k));
    k->proto = d->ip_proto;
    k->tunnel = d->tunnel;
    /* A GRE key can be set one way only (a router that keys what it sends) and each PPTP
     * peer puts the other's call id: metadata, not the key. A VXLAN VNI or an ERSPAN
     * session, the same both ways, keeps apart segments whose addresses overlap. */
    if (d->tunnel != TL_TUNNEL_GRE && d->tunnel != TL_TUNNEL_PPTP)
        k->tunnel_id = d->tunnel_id;
    for (unsigned i = 0; i < d->nvlan && i < TL_MAX_VLANS; i++)
        k->vlan[i] = d->vlan[i];

    if (d->ip_proto == TL_IPPROTO_ICMP || d->ip_proto == TL_IPPROTO_ICMPV6) {
        int req = tl_icmp_request_type(d->ipv, d->icmp_type);
        if (req >= 0) {
            sp = dp = (uint16_t)req;
            k->icmp_id = d->icmp_id;
        }
    }
    if (key_cmp_endpoint(d->src.b, sp, d->dst.b, dp) <= 0) {
        memcpy(k->a, d->src.b, 16);
        memcpy(k->b, d->dst.b, 16);
        k->pa = sp;
        k->pb = dp;
        *from_a = true;
    } else {
        memcpy(k->a, d->dst.b, 16);
        memcpy(k->b, d->src.b, 16);
        k->pa = dp;
        k->pb = sp;
        *from_a = false;
    }
}

/* 64-bit multiply-xorshift mixing (in the spirit of wyhash/murmur finalizers). */
static inline uint64_t hash_mix(uint64_t h)
{
    h ^= h >> 33;
    h *= 0xff51afd7ed558ccdULL;
    h ^= h >> 33;
    h *= 0xc4ceb9fe1a85ec53ULL;
    h ^= h >> 33;
    return h;
}

uint64_t tl_hash64(const void *p, size_t n, uint64_t seed)
{
    const uint8_t *b = p;
    uint64_t h = seed ^ (n * 0x9e3779b97f4a7c15ULL);
    size_t i = 0;

    for (; i + 8 <= n; i += 8) {
        uint64_t w;
        memcpy(&w, b + i, 8);
        h = hash_mix(h ^ w) + 0x9e3779b97f4a7c15ULL;
    }
    if (i < n) {
        uint64_t w = 0;
        memcpy(&w, b + i, n - i);
        h = hash_mix(h ^ w ^ 0xa0761d6478bd642fULL);
    }
    return hash_mix(h);
}

/* splitmix64's step: spreads a seed into words with no relation a key could exploit */
static uint64_t key_splitmix(uint64_t *x)
{
    uint64_t z = (*x += 0x9e3779b97f4a7c15ULL);
    z = (z ^ z >> 30) * 0xbf58476d1ce4e5b9ULL;
    z = (z ^ z >> 27) * 0x94d049bb133111ebULL;
    return z ^ z >> 31;
}

bool tl_hash_secret_init(struct tl_hash_secret *ks, uint64_t seed)
{
    bool drawn = true;
    if (!seed && getrandom(&seed, sizeof(seed), 0) != (ssize_t)sizeof(seed)) {
        seed = (uint64_t)time(NULL) ^ (uint64_t)getpid() << 32;
        drawn = false;
    }
    for (size_t i = 0; i < TL_ARRAY_LEN(ks->s); i++)
        ks->s[i] = key_splitmix(&seed);
    ks->s[7] |= 1; /* the last multiplier: odd, never zero */
    return drawn;
}

/* The 128-bit product of a and b, folded to 64 bits (as wyhash's mum). */
static inline uint64_t key_mum(uint64_t a, uint64_t b)
{
    unsigned __int128 r = (unsigned __int128)a * b;
    return (uint64_t)r ^ (uint64_t)(r >> 64);
}

/*
 * The six words, each keyed by its own secret word, multiplied in three
 * independent pairs (the CPU overlaps them), then mixed once: about 40
 * instructions with the call, where tl_hash64's serial rounds take 130.
 */
uint64_t tl_hash48(const void *p, const struct tl_hash_secret *ks)
{
    uint64_t w[6];
    memcpy(w, p, sizeof(w));
    const uint64_t *s = ks->s;
    uint64_t h = key_mum(w[0] ^ s[0], w[1] ^ s[1]) ^ key_mum(w[2] ^ s[2], w[3] ^ s[3]) ^
                 key_mum(w[4] ^ s[4], w[5] ^ s[5]);
    return key_mum(h ^ s[6], s[7]);
}

/* tl_hash_secret_init's words for the seed 0x7461706c696e65 ("tapline"), as
 * tests/unit/flows.c (key_hash_spreads) checks */
static const struct tl_hash_secret key_fixed = { {
    0x7eb2a11cff7a6f78ULL,
    0x380b3c93c133852dULL,
    0xa832e7c1dfc88538ULL,
    0xd2463d19c55f440cULL,
    0xfc9b499230905a76ULL,
    0xf6784158942c86d8ULL,
    0x60413eaccfefeb3dULL,
    0x00978f398a7355abULL,
} };

uint64_t tl_fkey_fixed(const struct tl_fkey *k)
{
    return tl_hash48(k, &key_fixed);
}
