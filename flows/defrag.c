/*
 * defrag.c - IPv4 (RFC 791, 815) and IPv6 (RFC 8200 4.5) fragment reassembly.
 *
 * A datagram in reassembly owns one buffer: header room, then the data at its
 * fragment offsets. A bitmap of the 8-byte blocks received (offsets are in
 * 8-byte units; only the last fragment may end elsewhere) gives overlap
 * detection and an O(1) "complete?" test: blocks held == blocks up to the end
 * the last fragment (MF=0) set. Overlapping data keeps the first copy, as most
 * hosts and IDSes do since RFC 5722 forbade overlaps for IPv6.
 *
 * Datagrams sit in a hash table (chains, O(1) unlink) and in one arrival-ordered
 * list, oldest first: the timeout runs from the first fragment (RFC 8200 4.5:
 * "within 60 seconds of the reception of the first-arriving fragment"), so the
 * same list serves expiry and eviction. Caps: defrag.max_datagrams (evicts the
 * oldest), defrag.max_bytes (drops the fragment; the timeout frees the rest).
 *
 * Invariants: bytes == the sum of dgram_cost() over held datagrams; a held
 * datagram's received data lies within [0, max_end) and, once the last fragment
 * is known, max_end <= final_end.
 */
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "cursor.h"
#include "defrag.h"

enum {
    DF_MAX_DATA = 65535,   /* IPv4 Total Length, IPv6 Payload Length: 16 bits */
    DF_ROOM = 60,          /* header room before the data: the largest IPv4 header */
    DF_BLOCKS = 65536 / 8, /* 8-byte blocks covering any datagram */
    DF_MIN_CAP = 2048,     /* first allocation while the length is unknown */
    DF_MAX_EXT = 8,        /* IPv6 extension headers walked before the Fragment header */
    DF_MAX_BUCKETS = 1 << 20,
    DF_IPV6_FRAG = 44, /* Fragment header (RFC 8200 4.5) */
};

/* Zeroed before it is filled and free of padding, so it hashes and compares as bytes. */
struct defrag_key {
    uint8_t src[16], dst[16]; /* IPv4 in the first 4 bytes */
    uint32_t id;
    uint32_t tunnel_id;
    uint16_t vlan[TL_MAX_VLANS];
    uint8_t ipv;
    uint8_t proto; /* IPv4 only; IPv6 takes it from the offset-0 fragment */
    uint8_t nvlan;
    uint8_t pad;
};

_Static_assert(sizeof(struct defrag_key) == 48,
               "defrag key must have no padding, and be tl_hash48's");

struct defrag_dgram {
    struct defrag_key key;
    struct defrag_dgram *hnext, **hpprev; /* hash chain */
    struct defrag_dgram *older, *newer;   /* arrival list */
    uint64_t first_us;                    /* packet time of the first fragment */
    uint8_t *buf;                         /* DF_ROOM + cap bytes; data at DF_ROOM */
    uint32_t cap;
    uint32_t max_end;   /* end of the furthest data received */
    uint32_t final_end; /* datagram data length, once has_final */
    uint32_t nblocks;   /* blocks set in have[] */
    bool has_final;
    uint8_t hdr_len; /* 0 until the offset-0 fragment arrived */
    uint8_t next_proto;
    uint8_t hdr[DF_ROOM]; /* IPv4: its whole header; IPv6: the fixed 40 bytes */
    uint8_t have[DF_BLOCKS / 8];
};

struct tl_defrag {
    const struct tl_config *cfg;
    struct tl_stats *st;
    const struct tl_hash_secret *ks; /* the buckets' (tl_hash48): a sender cannot aim at one */
    struct defrag_dgram **buckets;
    size_t mask;
    struct defrag_dgram *oldest, *newest;
    size_t n;
    uint64_t bytes, max_bytes; /* defrag.max_bytes, or memory.max_bytes' share */
    uint8_t *done;             /* the buffer last returned by tl_defrag_add() */
};

/* What one fragment says; pointers borrow the packet. */
struct defrag_frag {
    struct defrag_key key;
    const uint8_t *hdr; /* IPv4: the header; IPv6: the fixed header */
    uint8_t hdr_len;
    uint8_t next_proto;
    bool more;
    uint32_t unfrag_len; /* bytes before the data that count toward the 65535 limit */
    uint32_t off, len;
    const uint8_t *data;
};

static uint64_t dgram_cost(const struct defrag_dgram *g)
{
    return sizeof(*g) + (g->buf ? DF_ROOM + (uint64_t)g->cap : 0);
}

static void defrag_key_base(struct defrag_key *k, const struct tl_decoded *d, uint8_t ipv)
{
    memset(k, 0, sizeof(*k));
    k->ipv = ipv;
    k->tunnel_id = d->tunnel_id;
    k->nvlan = d->nvlan < TL_MAX_VLANS ? d->nvlan : TL_MAX_VLANS;
    for (unsigned i = 0; i < k->nvlan; i++)
        k->vlan[i] = d->vlan[i];
}

/* RFC 791 3.1. Rejects bad versions and lengths, and data the capture cut. */
static bool defrag_parse4(struct tl_cursor *ip, const struct tl_decoded *d, struct defrag_frag *f)
{
    struct tl_cursor c = *ip;
    uint8_t vihl = tl_cur_u8(&c);
    tl_cur_skip(&c, 1); /* TOS */
    uint16_t total = tl_cur_be16(&c);
    uint16_t id = tl_cur_be16(&c);
    uint16_t frag = tl_cur_be16(&c);
    tl_cur_skip(&c, 1); /* TTL */
    uint8_t proto = tl_cur_u8(&c);
    tl_cur_skip(&c, 2); /* checksum */
    defrag_key_base(&f->key, d, 4);
    tl_cur_copy(&c, f->key.src, 4);
    tl_cur_copy(&c, f->key.dst, 4);
    if (!tl_cur_ok(&c) || vihl >> 4 != 4)
        return false;

    unsigned hlen = (vihl & 0x0fu) * 4;
    if (hlen < 20 || total < hlen)
        return false;
    f->key.id = id;
    f->key.proto = proto;
    f->next_proto = proto;
    f->hdr_len = (uint8_t)hlen;
    f->hdr = tl_cur_bytes(ip, hlen);
    f->unfrag_len = hlen;
    f->off = (uint32_t)(frag & 0x1fff) * 8;
    f->more = (frag & 0x2000) != 0;
    f->len = total - hlen;
    f->data = tl_cur_bytes(ip, f->len); /* Ethernet padding after `total` is ignored */
    return f->hdr && f->data;
}

/*
 * RFC 8200 4.5: walks Hop-by-Hop, Routing and Destination Options headers to
 * the Fragment header; anything else before it (or none at all) is rejected.
 */
static bool defrag_parse6(struct tl_cursor *ip, const struct tl_decoded *d, struct defrag_frag *f)
{
    struct tl_cursor c = *ip, body;
    uint32_t vtf = tl_cur_be32(&c);
    uint16_t plen = tl_cur_be16(&c);
    uint8_t nh = tl_cur_u8(&c);
    tl_cur_skip(&c, 1); /* hop limit */
    defrag_key_base(&f->key, d, 6);
    tl_cur_copy(&c, f->key.src, 16);
    tl_cur_copy(&c, f->key.dst, 16);
    if (!tl_cur_ok(&c) || vtf >> 28 != 6 || plen == 0) /* jumbograms are never fragmented */
        return false;
    f->hdr = tl_cur_bytes(ip, 40);
    f->hdr_len = 40;
    if (!tl_cur_sub(ip, plen, &body))
        return false;

    f->unfrag_len = 0;
    for (int i = 0; i < DF_MAX_EXT && tl_cur_ok(&body); i++) {
        if (nh == DF_IPV6_FRAG) {
            f->next_proto = tl_cur_u8(&body);
            tl_cur_skip(&body, 1); /* reserved */
            uint16_t offm = tl_cur_be16(&body);
            f->key.id = tl_cur_be32(&body);
            f->off = offm & 0xfff8u;
            f->more = (offm & 1u) != 0;
            f->len = (uint32_t)tl_cur_left(&body);
            f->data = tl_cur_bytes(&body, f->len);
            return tl_cur_ok(&body);
        }
        if (nh != 0 && nh != 43 && nh != 60)
            return false;
        nh = tl_cur_u8(&body);
        size_t elen = ((size_t)tl_cur_u8(&body) + 1) * 8;
        tl_cur_skip(&body, elen - 2);
        f->unfrag_len += (uint32_t)elen;
    }
    return false;
}

static void defrag_unlink(struct tl_defrag *df, struct defrag_dgram *g)
{
    *g->hpprev = g->hnext;
    if (g->hnext)
        g->hnext->hpprev = g->hpprev;
    if (g->older)
        g->older->newer = g->newer;
    else
        df->oldest = g->newer;
    if (g->newer)
        g->newer->older = g->older;
    else
        df->newest = g->older;
    df->n--;
    df->bytes -= dgram_cost(g);
}

/* Unlinks and frees g, counting it under `stat` (TL_STAT_N: not counted). */
static void defrag_drop(struct tl_defrag *df, struct defrag_dgram *g, enum tl_stat stat)
{
    defrag_unlink(df, g);
    if (stat != TL_STAT_N)
        df->st->v[stat]++;
    free(g->buf);
    free(g);
}

static bool defrag_expired(const struct tl_defrag *df, const struct defrag_dgram *g, uint64_t now)
{
    return now > g->first_us && now - g->first_us > df->cfg->frag_timeout;
}

static void defrag_release_done(struct tl_defrag *df)
{
    free(df->done);
    df->done = NULL;
}

struct tl_defrag *tl_defrag_new(const struct tl_config *cfg, struct tl_stats *st,
                                const struct tl_hash_secret *ks)
{
    struct tl_defrag *df = calloc(1, sizeof(*df));
    if (!df)
        return NULL;
    size_t nb = 16;
    while (nb < cfg->max_frag_datagrams && nb < DF_MAX_BUCKETS)
        nb <<= 1;
    df->buckets = calloc(nb, sizeof(*df->buckets));
    if (!df->buckets) {
        free(df);
        return NULL;
    }
    df->mask = nb - 1;
    df->cfg = cfg;
    df->st = st;
    df->ks = ks;
    df->max_bytes = tl_config_mem_cap(cfg, TL_MEM_FRAGS, 1, cfg->max_frag_bytes, 1);
    return df;
}

void tl_defrag_free(struct tl_defrag *df)
{
    if (!df)
        return;
    while (df->oldest)
        defrag_drop(df, df->oldest, TL_STAT_N);
    defrag_release_done(df);
    free(df->buckets);
    free(df);
}

void tl_defrag_expire(struct tl_defrag *df, uint64_t now_us)
{
    defrag_release_done(df);
    while (df->oldest && defrag_expired(df, df->oldest, now_us))
        defrag_drop(df, df->oldest, TL_STAT_FRAG_EXPIRED);
}

size_t tl_defrag_held(const struct tl_defrag *df, uint64_t *bytes)
{
    if (bytes)
        *bytes = df->bytes;
    return df->n;
}

static struct defrag_dgram *defrag_find(struct tl_defrag *df, const struct defrag_key *k,
                                        size_t *bucket)
{
    *bucket = (size_t)tl_hash48(k, df->ks) & df->mask;
    for (struct defrag_dgram *g = df->buckets[*bucket]; g; g = g->hnext)
        if (memcmp(&g->key, k, sizeof(*k)) == 0)
            return g;
    return NULL;
}

/* A new, empty datagram, or NULL (counted) when the caps or malloc refuse. */
static struct defrag_dgram *defrag_create(struct tl_defrag *df, const struct defrag_key *k,
                                          size_t bucket, uint64_t now)
{
    if (df->cfg->max_frag_datagrams == 0) {
        df->st->v[TL_STAT_FRAG_CAPPED]++;
        return NULL;
    }
    while (df->n >= df->cfg->max_frag_datagrams)
        defrag_drop(df, df->oldest, TL_STAT_FRAG_CAPPED);
    if (df->bytes + sizeof(struct defrag_dgram) > df->max_bytes) {
        df->st->v[TL_STAT_FRAG_BYTES_CAPPED]++;
        return NULL;
    }
    struct defrag_dgram *g = calloc(1, sizeof(*g));
    if (!g) {
        df->st->v[TL_STAT_FRAG_BYTES_CAPPED]++;
        return NULL;
    }
    g->key = *k;
    g->first_us = now;
    g->hnext = df->buckets[bucket];
    if (g->hnext)
        g->hnext->hpprev = &g->hnext;
    g->hpprev = &df->buckets[bucket];
    df->buckets[bucket] = g;
    g->older = df->newest;
    if (df->newest)
        df->newest->newer = g;
    else
        df->oldest = g;
    df->newest = g;
    df->n++;
    df->bytes += dgram_cost(g);
    return g;
}

/* Makes room for data up to `end`; false (counted) when max_bytes or malloc refuse. */
static bool defrag_grow(struct tl_defrag *df, struct defrag_dgram *g, uint32_t end, bool exact)
{
    if (end <= g->cap && g->buf)
        return true;
    uint32_t want = end;
    if (!exact) { /* doubling keeps the copies amortised O(1) per byte */
        uint32_t dbl = g->cap > DF_MAX_DATA / 2 ? DF_MAX_DATA : 2 * g->cap;
        want = dbl > want ? dbl : want;
        want = want < DF_MIN_CAP ? DF_MIN_CAP : want;
    }
    uint64_t old = g->buf ? DF_ROOM + (uint64_t)g->cap : 0;
    if (df->bytes - old + DF_ROOM + want > df->max_bytes)
        want = end; /* perhaps the exact size still fits */
    if (df->bytes - old + DF_ROOM + want > df->max_bytes) {
        df->st->v[TL_STAT_FRAG_BYTES_CAPPED]++;
        return false;
    }
    uint8_t *nbuf = realloc(g->buf, DF_ROOM + (size_t)want);
    if (!nbuf) {
        df->st->v[TL_STAT_FRAG_BYTES_CAPPED]++;
        return false;
    }
    g->buf = nbuf;
    g->cap = want;
    df->bytes = df->bytes - old + DF_ROOM + want;
    return true;
}

/* Copies the blocks of f not held yet (first copy wins); true if any were held already. */
static bool defrag_copy(struct defrag_dgram *g, const struct defrag_frag *f)
{
    uint32_t end = f->off + f->len, b = f->off / 8, bend = (end + 7) / 8;
    bool overlap = false;
    while (b < bend) {
        if (g->have[b / 8] & (1u << (b % 8))) {
            overlap = true;
            b++;
            continue;
        }
        uint32_t run = b;
        while (run < bend && !(g->have[run / 8] & (1u << (run % 8)))) {
            g->have[run / 8] |= (uint8_t)(1u << (run % 8));
            run++;
        }
        uint32_t from = b * 8, to = run * 8 < end ? run * 8 : end;
        memcpy(g->buf + DF_ROOM + from, f->data + (from - f->off), to - from);
        g->nblocks += run - b;
        b = run;
    }
    return overlap;
}

static uint16_t defrag_cksum(const uint8_t *p, size_t n)
{
    uint32_t sum = 0;
    for (size_t i = 0; i + 1 < n; i += 2)
        sum += (uint32_t)p[i] << 8 | p[i + 1];
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* Writes the header in front of the data; returns its start, or NULL if too long. */
static uint8_t *defrag_build(struct defrag_dgram *g, uint32_t *len)
{
    uint8_t *p = g->buf + DF_ROOM - g->hdr_len;
    uint32_t total = g->hdr_len + g->final_end;
    memcpy(p, g->hdr, g->hdr_len);
    if (g->key.ipv == 4) {
        if (total > DF_MAX_DATA)
            return NULL;
        p[2] = (uint8_t)(total >> 8);
        p[3] = (uint8_t)total;
        p[6] &= 0xc0; /* keep the reserved and DF bits; clear MF and the offset */
        p[7] = 0;
        p[10] = p[11] = 0;
        uint16_t ck = defrag_cksum(p, g->hdr_len);
        p[10] = (uint8_t)(ck >> 8);
        p[11] = (uint8_t)ck;
    } else {
        p[4] = (uint8_t)(g->final_end >> 8); /* final_end <= 65535 was checked per fragment */
        p[5] = (uint8_t)g->final_end;
        p[6] = g->next_proto;
    }
    *len = total;
    return p;
}

const uint8_t *tl_defrag_add(struct tl_defrag *df, const struct tl_decoded *d, const uint8_t *pkt,
                             uint32_t *len)
{
    struct defrag_frag f;
    uint64_t now = d->ts_us;
    *len = 0;
    tl_defrag_expire(df, now);
    df->st->v[TL_STAT_FRAGS]++;

    struct tl_cursor ip = tl_cur_make(pkt, d->caplen);
    bool ok = tl_cur_skip(&ip, d->l3_off);
    if (ok && d->ipv == 4)
        ok = defrag_parse4(&ip, d, &f);
    else if (ok && d->ipv == 6)
        ok = defrag_parse6(&ip, d, &f);
    else
        ok = false;
    /* RFC 791/8200: every fragment but the last carries a multiple of 8 bytes. */
    uint32_t end = ok ? f.off + f.len : 0;
    if (!ok || (f.more && f.len % 8 != 0) || f.unfrag_len + end > DF_MAX_DATA) {
        df->st->v[TL_STAT_FRAG_BAD]++;
        return NULL;
    }

    size_t bucket;
    struct defrag_dgram *g = defrag_find(df, &f.key, &bucket);
    if (g && defrag_expired(df, g, now)) { /* packet time went backwards past the list order */
        defrag_drop(df, g, TL_STAT_FRAG_EXPIRED);
        g = NULL;
    }
    bool created = !g;
    if (!g && !(g = defrag_create(df, &f.key, bucket, now)))
        return NULL;

    /* Data past the last fragment's end, or two different ends: impossible. */
    if ((g->has_final && end > g->final_end) ||
        (!f.more && ((g->has_final && end != g->final_end) || g->max_end > end))) {
        df->st->v[TL_STAT_FRAG_BAD]++;
        return NULL; /* a datagram just created has no final end: never left empty here */
    }
    /* Once the last fragment is known, the buffer is sized to it in one step. */
    uint32_t need = g->has_final ? g->final_end : end;
    if (!defrag_grow(df, g, need, !f.more || g->has_final)) {
        if (created)
            defrag_drop(df, g, TL_STAT_N);
        return NULL;
    }
    if (defrag_copy(g, &f))
        df->st->v[TL_STAT_FRAG_OVERLAP]++;
    if (f.off == 0 && g->hdr_len == 0) {
        memcpy(g->hdr, f.hdr, f.hdr_len);
        g->hdr_len = f.hdr_len;
        g->next_proto = f.next_proto;
    }
    if (!f.more) {
        g->has_final = true;
        g->final_end = end;
    }
    if (end > g->max_end)
        g->max_end = end;

    if (!g->has_final || g->hdr_len == 0 || g->nblocks != (g->final_end + 7) / 8)
        return NULL;
    const uint8_t *out = defrag_build(g, len);
    if (!out) {
        defrag_drop(df, g, TL_STAT_FRAG_BAD);
        return NULL;
    }
    df->done = g->buf; /* handed out until the next call */
    defrag_unlink(df, g);
    free(g);
    df->st->v[TL_STAT_FRAG_DONE]++;
    return out;
}
