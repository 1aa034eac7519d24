/*
 * afpacket.c - what of the AF_PACKET capture runs without a network: the
 * walk over a TPACKET_V3 block (well-formed, then hostile: every offset and
 * length the kernel writes, wrong), the fanout program against the owner
 * tl_spread_hash() names (run by libpcap's interpreter over real frames),
 * and the options and their checks.
 */
#include <linux/if_packet.h>
#include <pcap/pcap.h>
#include <stdlib.h>

#include "afpacket.h"
#include "check.h"
#include "dissect.h"
#include "source.h"

enum {
    T_HDR = TPACKET_ALIGN(sizeof(struct tpacket3_hdr)),
    T_SLL_END = T_HDR + sizeof(struct sockaddr_ll),
    T_MAC = 86, /* where the kernel puts an Ethernet frame with 4 bytes reserved */
    T_FIRST = 48,
    T_MAX_SEEN = 16,
};

/* One frame of a synthetic block. */
struct t_frame {
    const uint8_t *bytes;
    uint32_t len;
    uint32_t status;
    uint16_t tci, tpid;
    uint8_t pkttype;
    uint32_t mac; /* 0: T_MAC */
};

/* What the walk handed over. */
struct t_seen {
    const uint8_t *lo, *hi; /* the block: every frame must lie inside */
    unsigned n;
    bool outside;
    uint64_t ts[T_MAX_SEEN];
    uint32_t caplen[T_MAX_SEEN], wirelen[T_MAX_SEEN];
    uint8_t first[T_MAX_SEEN][20];
};

static void t_fn(void *arg, int linktype, uint64_t ts_us, const uint8_t *pkt, uint32_t caplen,
                 uint32_t wirelen)
{
    struct t_seen *s = arg;
    (void)linktype;
    if (pkt < s->lo || caplen > (size_t)(s->hi - pkt))
        s->outside = true;
    if (s->n < T_MAX_SEEN) {
        s->ts[s->n] = ts_us;
        s->caplen[s->n] = caplen;
        s->wirelen[s->n] = wirelen;
        memcpy(s->first[s->n], pkt, caplen < 20 ? caplen : 20);
    }
    s->n++;
}

static void t_put32(uint8_t *p, uint32_t v)
{
    memcpy(p, &v, 4);
}

/* Writes the frames into a block as the kernel lays them out; returns the bytes used. */
static size_t t_block(uint8_t *blk, size_t size, const struct t_frame *f, unsigned n)
{
    struct tpacket_block_desc bd = { .version = TPACKET_V3 };
    size_t off = T_FIRST;
    memset(blk, 0, size);
    for (unsigned i = 0; i < n; i++) {
        struct tpacket3_hdr h = { 0 };
        struct sockaddr_ll sll = { .sll_family = AF_PACKET, .sll_pkttype = f[i].pkttype };
        uint32_t mac = f[i].mac ? f[i].mac : T_MAC;
        size_t next = TPACKET_ALIGN(mac + f[i].len);
        h.tp_next_offset = i + 1 < n ? (uint32_t)next : 0;
        h.tp_sec = 1700000000 + i;
        h.tp_nsec = 123456789;
        h.tp_snaplen = f[i].len;
        h.tp_len = f[i].len;
        h.tp_status = TP_STATUS_USER | f[i].status;
        h.tp_mac = (uint16_t)mac;
        h.hv1.tp_vlan_tci = f[i].tci;
        h.hv1.tp_vlan_tpid = f[i].tpid;
        memcpy(blk + off, &h, sizeof(h));
        memcpy(blk + off + T_HDR, &sll, sizeof(sll));
        memcpy(blk + off + mac, f[i].bytes, f[i].len);
        off += next;
    }
    bd.hdr.bh1.block_status = TP_STATUS_USER;
    bd.hdr.bh1.num_pkts = n;
    bd.hdr.bh1.offset_to_first_pkt = T_FIRST;
    bd.hdr.bh1.blk_len = (uint32_t)off;
    memcpy(blk, &bd, sizeof(bd));
    return off;
}

static void t_walk(uint8_t *blk, size_t size, bool loopback, struct t_seen *seen,
                   struct tl_afp_walk *w)
{
    memset(seen, 0, sizeof(*seen));
    seen->lo = blk;
    seen->hi = blk + size;
    *w = (struct tl_afp_walk){
        .linktype = TL_LINK_ETHERNET, .loopback = loopback, .fn = t_fn, .arg = seen
    };
    tl_afp_block_walk(blk, size, w);
}

/* An Ethernet frame: MACs 02:..:01 -> 02:..:02, EtherType, then filler. */
static void t_eth(uint8_t *p, uint32_t len, uint16_t type)
{
    for (uint32_t i = 0; i < len; i++)
        p[i] = (uint8_t)(0x40 + i);
    memcpy(p, "\x02\0\0\0\0\x02\x02\0\0\0\0\x01", 12);
    p[12] = (uint8_t)(type >> 8);
    p[13] = (uint8_t)type;
}

static void test_walk_frames(void)
{
    uint8_t a[60], b[100], c[80];
    t_eth(a, sizeof(a), 0x0800);
    t_eth(b, sizeof(b), 0x86dd);
    t_eth(c, sizeof(c), 0x0800);
    struct t_frame f[] = {
        { a, sizeof(a), 0, 0, 0, PACKET_HOST, 0 },
        { b, sizeof(b), TP_STATUS_VLAN_VALID | TP_STATUS_VLAN_TPID_VALID, 0x2064, 0x88a8,
          PACKET_OTHERHOST, 0 },
        { c, sizeof(c), TP_STATUS_VLAN_VALID, 0x0007, 0, PACKET_OUTGOING, 0 },
    };
    size_t size = 4096;
    uint8_t *blk = malloc(size);
    struct t_seen s;
    struct tl_afp_walk w;

    t_block(blk, size, f, 3);
    t_walk(blk, size, false, &s, &w);
    CHECK_EQ(s.n, 3);
    CHECK_EQ(w.frames, 3);
    CHECK_EQ(w.bad, 0);
    CHECK(!s.outside);
    CHECK_EQ(s.ts[0], 1700000000ull * 1000000 + 123456);
    CHECK_EQ(s.ts[2], 1700000002ull * 1000000 + 123456);
    CHECK_EQ(s.caplen[0], 60);
    CHECK(memcmp(s.first[0], a, 20) == 0);
    /* the tag the kernel took out is back before the EtherType, its TPID as it was */
    CHECK_EQ(s.caplen[1], 104);
    CHECK_EQ(s.wirelen[1], 104);
    CHECK(memcmp(s.first[1], b, 12) == 0);
    CHECK(memcmp(s.first[1] + 12, "\x88\xa8\x20\x64\x86\xdd", 6) == 0);
    CHECK(memcmp(s.first[2] + 12, "\x81\x00\x00\x07\x08\x00", 6) == 0);

    /* on loopback every packet comes twice: the outgoing copy is skipped, uncounted */
    t_block(blk, size, f, 3);
    t_walk(blk, size, true, &s, &w);
    CHECK_EQ(s.n, 2);
    CHECK_EQ(w.bad, 0);

    /* no room before the frame for the tag: that frame is skipped and counted, not the rest */
    f[1].mac = T_SLL_END + 2;
    t_block(blk, size, f, 3);
    t_walk(blk, size, false, &s, &w);
    CHECK_EQ(s.n, 2);
    CHECK_EQ(w.bad, 1);
    free(blk);
}

/* One field of the first frame (or the block descriptor) set to v, then walked. */
static void t_hostile(size_t field, uint32_t v, bool in_desc, unsigned want_frames,
                      uint64_t want_bad)
{
    uint8_t a[64], b[64];
    t_eth(a, sizeof(a), 0x0800);
    t_eth(b, sizeof(b), 0x0800);
    struct t_frame f[] = { { a, sizeof(a), 0, 0, 0, 0, 0 }, { b, sizeof(b), 0, 0, 0, 0, 0 } };
    uint8_t tmp[512];
    size_t used = t_block(tmp, sizeof(tmp), f, 2);
    t_put32(tmp + (in_desc ? 0 : T_FIRST) + field, v);
    uint8_t *blk = tl_test_dup(tmp, used); /* exact size: ASan sees a read past the end */
    struct t_seen s;
    struct tl_afp_walk w;
    t_walk(blk, used, false, &s, &w);
    CHECK_EQ(s.n, want_frames);
    CHECK_EQ(w.bad, want_bad);
    CHECK(!s.outside);
    free(blk);
}

static void test_walk_hostile(void)
{
    const size_t num = offsetof(struct tpacket_block_desc, hdr.bh1.num_pkts);
    const size_t first = offsetof(struct tpacket_block_desc, hdr.bh1.offset_to_first_pkt);
    const size_t blen = offsetof(struct tpacket_block_desc, hdr.bh1.blk_len);
    const size_t next = offsetof(struct tpacket3_hdr, tp_next_offset);
    const size_t snap = offsetof(struct tpacket3_hdr, tp_snaplen);
    const size_t mac = offsetof(struct tpacket3_hdr, tp_mac);
    uint32_t frame_end = TPACKET_ALIGN(T_MAC + 64);

    t_hostile(0, 0, true, 2, 0);                     /* (the version: not read) */
    t_hostile(num, 0xffffffff, true, 2, 0xfffffffd); /* counts past what is there */
    t_hostile(num, 0, true, 0, 0);
    t_hostile(first, 0, true, 0, 2);                           /* inside the descriptor */
    t_hostile(first, 0xfffffff0, true, 0, 2);                  /* past the block */
    t_hostile(first, T_FIRST + 2 * frame_end - 8, true, 0, 2); /* no room for a header */
    t_hostile(blen, 0xffffffff, true, 2, 0);          /* more than the block: the block bounds */
    t_hostile(blen, T_FIRST + frame_end, true, 1, 1); /* the second frame past what was written */
    t_hostile(blen, 3, true, 0, 2);
    t_hostile(snap, 0xffffffff, false, 0, 2);
    t_hostile(snap, 2 * frame_end - T_MAC + 1, false, 0, 2); /* one byte past the end */
    t_hostile(snap, 2 * frame_end - T_MAC, false, 1, 1);     /* to the end: next offset short */
    t_hostile(mac, 0, false, 0, 2);
    t_hostile(mac, T_SLL_END - 1, false, 0, 2); /* over its own address */
    t_hostile(mac, 0xffff, false, 0, 2);
    t_hostile(next, 0, false, 1, 1); /* no next, one more said */
    t_hostile(next, 8, false, 1, 1); /* backwards into the frame */
    t_hostile(next, 0xffffffff, false, 1, 1);
    t_hostile(next, frame_end + 1, false, 1, 1); /* the second runs off the end */
}

/* Random blocks: whatever the kernel wrote, every frame handed over lies inside the block. */
static void test_walk_random(void)
{
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int round = 0; round < 3000; round++) {
        size_t size = 48 + (size_t)(x % 2048);
        uint8_t *blk = malloc(size);
        for (size_t i = 0; i < size; i++) {
            x ^= x << 13, x ^= x >> 7, x ^= x << 17;
            blk[i] = (uint8_t)(x >> 24);
        }
        struct tpacket_block_desc bd;
        memcpy(&bd, blk, sizeof(bd));
        if (round & 1) { /* half of them plausible, so the frames are reached */
            bd.hdr.bh1.num_pkts %= 8;
            bd.hdr.bh1.offset_to_first_pkt = T_FIRST + (bd.hdr.bh1.offset_to_first_pkt % 64);
            memcpy(blk, &bd, sizeof(bd));
        }
        uint8_t *exact = tl_test_dup(blk, size);
        struct t_seen s;
        struct tl_afp_walk w;
        t_walk(exact, size, round & 2, &s, &w);
        CHECK(!s.outside);
        CHECK(w.frames + w.bad <= (uint64_t)bd.hdr.bh1.num_pkts);
        free(exact);
        free(blk);
    }
}

/* ---- the fanout program ---- */

struct t_prog {
    struct bpf_insn insn[TL_AFP_PROG_MAX];
    size_t len;
};

static void t_prog_make(struct t_prog *p, uint32_t seed, int linktype)
{
    struct sock_filter f[TL_AFP_PROG_MAX];
    p->len = tl_afp_spread_prog(f, seed, linktype, 0);
    CHECK(p->len > 0);
    for (size_t i = 0; i < p->len; i++)
        p->insn[i] = (struct bpf_insn){ f[i].code, f[i].jt, f[i].jf, f[i].k };
}

static uint32_t t_prog_run(const struct t_prog *p, const uint8_t *pkt, uint32_t len)
{
    return bpf_filter(p->insn, pkt, len, len);
}

/*
 * Every packet of a capture: the program over the frame gives the hash of the
 * innermost packet the decoder finds, also with the outer VLAN tag taken out
 * (as the kernel shows a frame to the program). Returns the packets compared.
 */
static unsigned t_spread_file(const char *path, uint32_t seed)
{
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *h = pcap_open_offline(path, err);
    struct pcap_pkthdr *hdr;
    const u_char *data;
    unsigned n = 0;
    struct t_prog eth, raw;

    CHECK(h != NULL);
    if (!h)
        return 0;
    t_prog_make(&eth, seed, TL_LINK_ETHERNET);
    t_prog_make(&raw, seed, TL_LINK_RAW);
    int link = pcap_datalink(h) == DLT_EN10MB ? TL_LINK_ETHERNET : TL_LINK_RAW;
    const struct t_prog *prog = link == TL_LINK_ETHERNET ? &eth : &raw;
    while (pcap_next_ex(h, &hdr, &data) == 1) {
        struct tl_decoded d;
        if (tl_decode(&d, pcap_datalink(h), data, hdr->caplen) != TL_DECODE_OK)
            continue;
        uint32_t want = tl_spread_hash(seed, &d, !d.is_fragment);
        uint32_t got = t_prog_run(prog, data, hdr->caplen);
        if (got != want)
            tl_check_report(__FILE__, __LINE__, "%s packet %u: program %08x, owner hash %08x", path,
                            n + 1, got, want);
        if (link == TL_LINK_ETHERNET && hdr->caplen > 18 && data[12] == 0x81 && data[13] == 0) {
            uint8_t cut[2048];
            uint32_t len = hdr->caplen - 4 < sizeof(cut) ? hdr->caplen - 4 : sizeof(cut);
            memcpy(cut, data, 12);
            memcpy(cut + 12, data + 16, len - 12);
            CHECK_EQ(t_prog_run(prog, cut, len), want);
        }
        n++;
    }
    pcap_close(h);
    return n;
}

static void test_spread_program(void)
{
    static const char *const files[] = {
        "pcaps/dns-udp-basic.pcap", "pcaps/http-basic.pcap",    "pcaps/tcp-rst.pcap",
        "pcaps/icmp-ping.pcap",     "pcaps/vlan-qinq.pcap",     "pcaps/mpls.pcap",
        "pcaps/vxlan.pcap",         "pcaps/gre-erspan.pcap",    "pcaps/ipv4-frag.pcap",
        "pcaps/ipv6-frag.pcap",     "pcaps/linktypes-raw.pcap",
    };
    for (size_t i = 0; i < sizeof(files) / sizeof(files[0]); i++) {
        CHECK(t_spread_file(files[i], 0x5eed1234) > 0);
        CHECK(t_spread_file(files[i], 0) > 0);
    }
}

/* Both directions of a flow have one owner; addresses alone for fragments. */
static void test_spread_symmetric(void)
{
    struct tl_decoded d = { .ipv = 6, .ip_proto = TL_IPPROTO_TCP, .sport = 40000, .dport = 443 };
    unsigned count[4] = { 0 };
    for (unsigned i = 0; i < 4000; i++) {
        d.src.b[0] = 0x20, d.src.b[15] = (uint8_t)i, d.src.b[14] = (uint8_t)(i >> 8);
        d.dst.b[0] = 0x20, d.dst.b[15] = 9;
        d.sport = (uint16_t)(1024 + i * 7);
        struct tl_decoded r = d;
        r.src = d.dst, r.dst = d.src, r.sport = d.dport, r.dport = d.sport;
        CHECK_EQ(tl_spread_hash(7, &d, true), tl_spread_hash(7, &r, true));
        CHECK_EQ(tl_spread_hash(7, &d, false), tl_spread_hash(7, &r, false));
        count[tl_spread_hash(7, &d, true) % 4]++;
    }
    for (int w = 0; w < 4; w++) /* spread evenly enough: within 10% of a quarter */
        CHECK(count[w] > 900 && count[w] < 1100);
}

/* ---- options ---- */

static void t_set_fails(const char *key, const char *value, const char *want)
{
    struct tl_config cfg;
    char err[256] = "";
    tl_config_defaults(&cfg);
    CHECK(tl_config_set(&cfg, key, value, err, sizeof(err)) < 0);
    CHECK_STR(err, want);
    tl_config_free(&cfg);
}

static void test_options(void)
{
    struct tl_config cfg;
    char err[256] = "";

    tl_config_defaults(&cfg);
    CHECK(cfg.method == NULL);
    CHECK_EQ(cfg.afp_block_size, 1 << 20);
    CHECK_EQ(cfg.afp_blocks, 0);
    CHECK_EQ(cfg.afp_block_ms, 10);
    CHECK_EQ(cfg.afp_fanout, 0);
    CHECK_EQ(tl_source_use_afpacket(&cfg, "eth1,eth2", err, sizeof(err)), 1);
    CHECK_EQ(tl_source_use_afpacket(&cfg, "eth1,any", err, sizeof(err)), 0);
    CHECK(tl_config_set(&cfg, "capture.method", "pcap", err, sizeof(err)) == 0);
    CHECK_EQ(tl_source_use_afpacket(&cfg, "eth1", err, sizeof(err)), 0);
    CHECK(tl_config_set(&cfg, "capture.method", "afpacket", err, sizeof(err)) == 0);
    CHECK_EQ(tl_source_use_afpacket(&cfg, "eth1", err, sizeof(err)), 1);
    CHECK_EQ(tl_source_use_afpacket(&cfg, "any", err, sizeof(err)), -1);
    CHECK_STR(err, "capture.method afpacket cannot capture on 'any': use pcap");
    tl_config_free(&cfg);

    t_set_fails("capture.method", "xdp", "capture.method: 'xdp' is not one of afpacket, pcap");
    t_set_fails("capture.afpacket.block_size", "1024",
                "capture.afpacket.block_size: '1024' is out of range (4096 to 268435456)");
    t_set_fails("capture.afpacket.blocks", "65537",
                "capture.afpacket.blocks: '65537' is out of range (0 to 65536)");
    t_set_fails("capture.afpacket.block_timeout_ms", "0",
                "capture.afpacket.block_timeout_ms: '0' is out of range (1 to 1000)");
    t_set_fails("capture.afpacket.fanout_group", "65536",
                "capture.afpacket.fanout_group: '65536' is out of range (0 to 65535)");
}

/* What tl_afp_open refuses before it opens anything (no privilege needed). */
static void test_open_errors(void)
{
    struct tl_config cfg;
    char err[256] = "";
    const char names[1][64] = { "tl-nosuch0" };

    tl_config_defaults(&cfg);
    CHECK(tl_afp_open(&cfg, names, 1, 2, err, sizeof(err)) == NULL);
    CHECK_STR(err, "tl-nosuch0: no such interface");
    CHECK(tl_config_set(&cfg, "capture.afpacket.block_size", "6000", err, sizeof(err)) == 0);
    CHECK(tl_afp_open(&cfg, names, 1, 2, err, sizeof(err)) == NULL);
    CHECK_STR(err, "capture.afpacket.block_size: 6000 is not a multiple of the page size (4096)");
    CHECK(tl_config_set(&cfg, "capture.afpacket.block_size", "65536", err, sizeof(err)) == 0);
    CHECK(tl_afp_open(&cfg, names, 1, 2, err, sizeof(err)) == NULL);
    CHECK_STR(err, "capture.afpacket.block_size: 65536 bytes cannot hold a packet of "
                   "capture.snaplen (65535 bytes): at least 65680");
    tl_config_free(&cfg);
}

const struct tl_test tl_tests_afpacket[] = {
    { "walk_frames", test_walk_frames },           { "walk_hostile", test_walk_hostile },
    { "walk_random", test_walk_random },           { "spread_program", test_spread_program },
    { "spread_symmetric", test_spread_symmetric }, { "options", test_options },
    { "open_errors", test_open_errors },           { NULL, NULL },
};
