/*
 * pcapgen.c - the benchmark's capture generator (`make bench`).
 *
 *   pcapgen mixed OUT [PACKETS]      a mixed capture of at least PACKETS packets (default 2000000)
 *   pcapgen idle OUT N [udp|syn]     N distinct flows of one packet each (default udp)
 *   pcapgen flood OUT N              N TCP connections to dissector ports, none answered after
 *                                    the handshake: a whole HTTP GET (80), LDAP search (389) or
 *                                    half a Kerberos record (88), or a SYN alone (53)
 *
 * Writes a classic pcap (LINKTYPE_ETHERNET, microsecond timestamps, little-endian). Everything is
 * deterministic: a fixed seed, and timestamps that start at a fixed instant and advance with the
 * traffic (about 100k packets per second of capture time), so two runs give identical files.
 *
 * The mixed capture is what a span port at the edge of a client network sees: sessions start as
 * a Poisson process and run concurrently, each one a script played out in packet time --
 *   HTTP/1.1  TCP handshake, GET with Host/User-Agent, a response of one or more segments with a
 *             body, sometimes a second request on the same connection, FIN/ACK both ways;
 *   TLS 1.3   handshake, ClientHello with SNI/ALPN/key_share, ServerHello + ChangeCipherSpec +
 *             encrypted records, application data both ways (some bulk downloads);
 *   DNS       query and response in RFC 1035 wire format (A with an optional CNAME, AAAA NODATA,
 *             NXDOMAIN, some unanswered);
 *   NTP, ICMP echo, SYNs to closed or filtered ports;
 * with about 10% of the TCP connections left open (no FIN), and the clients of some subnets
 * behind an 802.1Q VLAN tag. Clients are 10.16.0.0/16, servers 198.18.0.0/15 (RFC 2544
 * benchmarking space). IPv4 header and TCP checksums are computed; UDP checksums are 0 ("none").
 * Frames shorter than 60 bytes are padded, as a span port delivers them.
 */
#define _POSIX_C_SOURCE 200809L
#include <errno.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

enum {
    GEN_CLIENTS = 30000,
    GEN_SERVERS = 8000,
    GEN_RESOLVERS = 4,
    GEN_MSS = 1448,
    GEN_MAX_FRAME = 14 + 4 + 20 + 60 + GEN_MSS,
    GEN_MAX_MSGS = 8,
    GEN_TLS_REC = 16384,
    GEN_FILL = 65536, /* size of the text and noise tables (a power of two) */
};

static const uint64_t gen_epoch_us = 1709294400ull * 1000000u; /* 2024-03-01 12:00:00 UTC */
static const double gen_sessions_per_s = 9000.0;               /* gives about 100k packets/s */

/* ---------------------------------------------------------------- random numbers (splitmix64) */

static uint64_t rng_state = 0x7a91e5c3d1f0b2a4ull;

static uint64_t rnd(void)
{
    uint64_t z = (rng_state += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

static uint32_t rnd_below(uint32_t n)
{
    return (uint32_t)(((rnd() >> 32) * (uint64_t)n) >> 32);
}

static uint32_t rnd_range(uint32_t lo, uint32_t hi) /* inclusive */
{
    return lo + rnd_below(hi - lo + 1);
}

static double rnd_unit(void)
{
    return (double)(rnd() >> 11) * 0x1.0p-53;
}

static uint64_t rnd_exp_us(double mean_us)
{
    return (uint64_t)(-log(1.0 - rnd_unit()) * mean_us);
}

/* Log-uniform between lo and hi: many small sizes, a long tail of large ones. */
static uint32_t rnd_logu(uint32_t lo, uint32_t hi)
{
    return (uint32_t)(lo * exp(rnd_unit() * log((double)hi / lo)));
}

static uint32_t mix32(uint32_t x)
{
    x ^= x >> 16;
    x *= 0x7feb352du;
    x ^= x >> 15;
    x *= 0x846ca68bu;
    return x ^ (x >> 16);
}

/* ---------------------------------------------------------------- content tables */

static uint8_t gen_noise[GEN_FILL + 2048]; /* ciphertext-looking bytes */
static uint8_t gen_text[GEN_FILL + 2048];  /* HTML-looking bytes */

static void fill_tables(void)
{
    static const char *const words[] = {
        "<div class=\"item\">",
        "<p>",
        "</p>",
        "network ",
        "traffic ",
        "sensor ",
        "the ",
        "and ",
        "<a href=\"/news/",
        "\">",
        "</a>",
        "</div>\n",
        "flow ",
        "packet ",
        "record ",
        "<span>",
        "</span>",
        "analysis ",
        "of ",
        "with ",
    };
    size_t n = 0;
    while (n < sizeof(gen_text)) {
        const char *w = words[rnd_below(sizeof(words) / sizeof(words[0]))];
        size_t l = strlen(w);
        if (l > sizeof(gen_text) - n)
            l = sizeof(gen_text) - n;
        memcpy(gen_text + n, w, l);
        n += l;
    }
    for (size_t i = 0; i < sizeof(gen_noise); i++)
        gen_noise[i] = (uint8_t)(rnd() >> 56);
}

/* ---------------------------------------------------------------- hosts and names */

static const char *const gen_words[] = {
    "news", "shop",  "mail",  "video",  "cloud", "maps",    "bank",   "games",
    "docs", "photo", "music", "travel", "sport", "weather", "social", "learn",
};
static const char *const gen_tlds[] = { "com", "net", "org", "io", "de", "fr", "co.uk", "info" };
static const char *const gen_agents[] = {
    "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/122.0.0.0 Safari/537.36",
    "Mozilla/5.0 (X11; Linux x86_64; rv:123.0) Gecko/20100101 Firefox/123.0",
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_3) AppleWebKit/605.1.15 (KHTML, like Gecko) "
    "Version/17.3 Safari/605.1.15",
    "curl/7.88.1",
    "Debian APT-HTTP/1.3 (2.6.1)",
};

static uint32_t client_ip(uint32_t i)
{
    return 0x0a100000u | ((i / 250) << 8) | (i % 250 + 2); /* 10.16.x.2-251 */
}

static uint32_t server_ip(uint32_t j)
{
    return 0xc6120000u | ((j / 250) << 8) | (j % 250 + 2); /* 198.18.x.2-251 */
}

static uint32_t resolver_ip(uint32_t k)
{
    return 0xc6130035u | (k << 8); /* 198.19.k.53 */
}

static int server_name(uint32_t j, char *out, size_t n)
{
    return snprintf(out, n, "www.%s%u.%s", gen_words[j % 16], j, gen_tlds[(j / 16) % 8]);
}

/* 802.1Q: the clients of one subnet in ten sit behind a VLAN. */
static uint16_t client_vlan(uint32_t i)
{
    return (i / 250) % 10 == 3 ? (uint16_t)(100 + (i / 250) % 7) : 0;
}

static uint16_t client_port[GEN_CLIENTS];

static uint16_t next_port(uint32_t ci)
{
    uint16_t p = client_port[ci];
    client_port[ci] = p >= 60999 ? 32768 : (uint16_t)(p + 1);
    return p;
}

/* Popular servers get most sessions (a rough Zipf). */
static uint32_t pick_server(void)
{
    double u = rnd_unit();
    return (uint32_t)(GEN_SERVERS * u * u * u) % GEN_SERVERS;
}

/* ---------------------------------------------------------------- pcap output */

struct out {
    FILE *f;
    uint64_t packets, bytes;
};

static void put16le(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}

static void put32le(uint8_t *p, uint32_t v)
{
    put16le(p, (uint16_t)v);
    put16le(p + 2, (uint16_t)(v >> 16));
}

static int out_open(struct out *o, const char *path)
{
    static char iobuf[1 << 20]; /* glibc ignores setvbuf's size without a buffer */
    uint8_t h[24];
    o->f = fopen(path, "wb");
    if (!o->f)
        return -1;
    setvbuf(o->f, iobuf, _IOFBF, sizeof(iobuf));
    put32le(h, 0xa1b2c3d4u);
    put16le(h + 4, 2);
    put16le(h + 6, 4);
    put32le(h + 8, 0);
    put32le(h + 12, 0);
    put32le(h + 16, 65535);
    put32le(h + 20, 1); /* LINKTYPE_ETHERNET */
    o->packets = o->bytes = 0;
    return fwrite(h, sizeof(h), 1, o->f) == 1 ? 0 : -1;
}

static void out_packet(struct out *o, uint64_t ts_us, const uint8_t *frame, size_t len)
{
    uint8_t h[16];
    put32le(h, (uint32_t)(ts_us / 1000000u));
    put32le(h + 4, (uint32_t)(ts_us % 1000000u));
    put32le(h + 8, (uint32_t)len);
    put32le(h + 12, (uint32_t)len);
    fwrite(h, sizeof(h), 1, o->f);
    fwrite(frame, len, 1, o->f);
    o->packets++;
    o->bytes += len;
}

/* ---------------------------------------------------------------- frames */

static uint8_t *be16(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
    return p + 2;
}

static uint8_t *be24(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 16);
    return be16(p + 1, v);
}

static uint8_t *be32(uint8_t *p, uint32_t v)
{
    be16(p, v >> 16);
    return be16(p + 2, v);
}

static uint8_t *bytes(uint8_t *p, const void *src, size_t n)
{
    memcpy(p, src, n);
    return p + n;
}

static uint32_t csum_add(uint32_t sum, const uint8_t *p, size_t n)
{
    for (; n > 1; p += 2, n -= 2)
        sum += (uint32_t)p[0] << 8 | p[1];
    if (n)
        sum += (uint32_t)p[0] << 8;
    return sum;
}

static uint16_t csum_fold(uint32_t sum)
{
    while (sum >> 16)
        sum = (sum & 0xffff) + (sum >> 16);
    return (uint16_t)~sum;
}

/* One endpoint pair, seen from the side that sends. */
struct ends {
    uint32_t src, dst;
    uint16_t sport, dport;
    uint16_t vlan;
    uint16_t ipid;
    uint8_t ttl;
    int from_client;
    uint32_t client_tag; /* client index, for its MAC */
};

static const uint8_t gateway_mac[6] = { 0x00, 0x1b, 0x21, 0x3c, 0x9d, 0x01 };

/* Ethernet [802.1Q] IPv4 headers; returns the offset of the L4 header. */
static size_t frame_l3(uint8_t *f, const struct ends *e, uint8_t proto)
{
    uint8_t cmac[6] = { 0x02,
                        0x00,
                        0x0a,
                        (uint8_t)(e->client_tag >> 16),
                        (uint8_t)(e->client_tag >> 8),
                        (uint8_t)e->client_tag };
    uint8_t *p = f;
    p = bytes(p, e->from_client ? gateway_mac : cmac, 6);
    p = bytes(p, e->from_client ? cmac : gateway_mac, 6);
    if (e->vlan) {
        p = be16(p, 0x8100);
        p = be16(p, e->vlan);
    }
    p = be16(p, 0x0800);
    *p++ = 0x45;
    *p++ = 0;
    p = be16(p, 0); /* total length, set by frame_done */
    p = be16(p, e->ipid);
    p = be16(p, 0x4000); /* DF */
    *p++ = e->ttl;
    *p++ = proto;
    p = be16(p, 0);
    p = be32(p, e->src);
    p = be32(p, e->dst);
    return (size_t)(p - f);
}

/* Sets the IPv4 length and checksum, the L4 checksum, pads to 60 bytes; returns the frame size. */
static size_t frame_done(uint8_t *f, size_t l4off, size_t l4len, uint8_t proto)
{
    uint8_t *ip = f + l4off - 20;
    uint8_t *l4 = f + l4off;
    be16(ip + 2, (uint32_t)(20 + l4len));
    be16(ip + 10, csum_fold(csum_add(0, ip, 20)));
    if (proto == 6) {
        uint32_t sum = csum_add(0, ip + 12, 8) + 6 + (uint32_t)l4len;
        be16(l4 + 16, csum_fold(csum_add(sum, l4, l4len)));
    } else if (proto == 1) {
        be16(l4 + 2, csum_fold(csum_add(0, l4, l4len)));
    }
    size_t len = l4off + l4len;
    if (len < 60) {
        memset(f + len, 0, 60 - len);
        len = 60;
    }
    return len;
}

enum { TH_FIN = 0x01, TH_SYN = 0x02, TH_RST = 0x04, TH_PSH = 0x08, TH_ACK = 0x10 };

/* A TCP segment; the payload is written by the caller at the returned pointer, before
 * frame_done. SYNs carry the usual options (MSS, SACK permitted, timestamps, window scale). */
static uint8_t *frame_tcp(uint8_t *f, const struct ends *e, uint32_t seq, uint32_t ack,
                          uint8_t flags, size_t *l4off, size_t *hlen)
{
    size_t off = frame_l3(f, e, 6);
    uint8_t *p = f + off;
    size_t hl = flags & TH_SYN ? 40 : 20;
    p = be16(p, e->sport);
    p = be16(p, e->dport);
    p = be32(p, seq);
    p = be32(p, ack);
    *p++ = (uint8_t)(hl / 4) << 4;
    *p++ = flags;
    p = be16(p, flags & TH_SYN ? 64240 : 502);
    p = be16(p, 0);
    p = be16(p, 0);
    if (flags & TH_SYN) {
        static const uint8_t opt[20] = { 2, 4, 0x05, 0xb4, 4, 2, 8, 10, 0, 0,
                                         0, 0, 0,    0,    0, 0, 1, 3,  3, 7 };
        memcpy(p, opt, sizeof(opt));
        be32(p + 8, mix32(seq));
        p += 20;
    }
    *l4off = off;
    *hlen = hl;
    return p;
}

/* ---------------------------------------------------------------- sessions */

enum kind { K_HTTP, K_TLS, K_DNS, K_NTP, K_ICMP, K_SCAN };

enum msgtype { M_HTTP_REQ, M_HTTP_RESP, M_TLS_CH, M_TLS_SH, M_TLS_CFIN, M_TLS_REQ, M_TLS_RESP };

enum state {
    S_SYN,
    S_SYNACK,
    S_ACK,
    S_DATA,
    S_DACK,
    S_FIN1,
    S_FIN2,
    S_FIN3, /* TCP */
    S_RST,
    S_QUERY,
    S_REPLY, /* other */
};

struct msg {
    uint8_t type;
    uint16_t status; /* HTTP status */
    uint32_t body;   /* body length */
    uint32_t len;    /* whole message */
};

struct sess {
    uint8_t kind, state, nmsg, mi, open_end, count, sub;
    uint16_t vlan, cport, sport;
    uint32_t ci, sj; /* client index, server index (resolver for DNS) */
    uint32_t cip, sip;
    uint32_t cseq, sseq; /* next sequence number each side sends */
    uint32_t moff;       /* bytes of the current message sent */
    uint32_t seg;        /* segments of the current message sent */
    uint32_t rtt_us;
    uint32_t seed;
    uint16_t cipid, sipid, qid;
    uint64_t start_us;
    struct msg msg[GEN_MAX_MSGS];
};

/* ---- message heads (rebuilt for every segment that needs them: they are small) */

static size_t dns_name(uint8_t *p, const char *name)
{
    uint8_t *start = p;
    while (*name) {
        const char *dot = strchr(name, '.');
        size_t l = dot ? (size_t)(dot - name) : strlen(name);
        *p++ = (uint8_t)l;
        p = bytes(p, name, l);
        name += l + (dot ? 1 : 0);
    }
    *p++ = 0;
    return (size_t)(p - start);
}

static size_t tls_client_hello(const struct sess *s, uint8_t *out)
{
    static const uint8_t suites[] = { 0x13, 0x01, 0x13, 0x02, 0x13, 0x03, 0xc0, 0x2b, 0xc0, 0x2f,
                                      0xc0, 0x2c, 0xc0, 0x30, 0xcc, 0xa9, 0xcc, 0xa8, 0xc0, 0x13,
                                      0xc0, 0x14, 0x00, 0x9c, 0x00, 0x9d, 0x00, 0x2f, 0x00, 0x35 };
    static const uint8_t groups[] = { 0x00, 0x0a, 0x00, 0x08, 0x00, 0x06,
                                      0x00, 0x1d, 0x00, 0x17, 0x00, 0x18 };
    static const uint8_t sigalgs[] = { 0x00, 0x0d, 0x00, 0x12, 0x00, 0x10, 0x04, 0x03,
                                       0x08, 0x04, 0x04, 0x01, 0x05, 0x03, 0x08, 0x05,
                                       0x05, 0x01, 0x08, 0x06, 0x06, 0x01 };
    static const uint8_t misc[] = {
        0x00, 0x17, 0x00, 0x00,                               /* extended master secret */
        0xff, 0x01, 0x00, 0x01, 0x00,                         /* renegotiation info */
        0x00, 0x0b, 0x00, 0x02, 0x01, 0x00,                   /* ec point formats */
        0x00, 0x23, 0x00, 0x00,                               /* session ticket */
        0x00, 0x2b, 0x00, 0x05, 0x04, 0x03, 0x04, 0x03, 0x03, /* supported versions */
        0x00, 0x2d, 0x00, 0x02, 0x01, 0x01,                   /* psk key exchange modes */
    };
    static const uint8_t alpn[] = { 0x00, 0x10, 0x00, 0x0e, 0x00, 0x0c, 0x02, 'h', '2',
                                    0x08, 'h',  't',  't',  'p',  '/',  '1',  '.', '1' };
    char name[64];
    size_t nl = (size_t)server_name(s->sj, name, sizeof(name));
    /* curl-like clients offer fewer suites and no ALPN: a second JA3 */
    int lean = s->ci % 5 == 0;
    uint8_t *p = out, *rec, *hs, *ext;

    *p++ = 0x16;
    p = be16(p, 0x0301);
    rec = p;
    p += 2;
    *p++ = 0x01;
    hs = p;
    p += 3;
    p = be16(p, 0x0303);
    p = bytes(p, gen_noise + (s->seed & 0x7fff), 32); /* random */
    *p++ = 32;
    p = bytes(p, gen_noise + ((s->seed >> 8) & 0x7fff), 32); /* session id */
    size_t ns = lean ? 16 : sizeof(suites);
    p = be16(p, (uint32_t)ns);
    p = bytes(p, suites, ns);
    *p++ = 1;
    *p++ = 0;
    ext = p;
    p += 2;
    p = be16(p, 0x0000); /* server_name, RFC 6066 3 */
    p = be16(p, (uint32_t)(nl + 5));
    p = be16(p, (uint32_t)(nl + 3));
    *p++ = 0;
    p = be16(p, (uint32_t)nl);
    p = bytes(p, name, nl);
    p = bytes(p, misc, sizeof(misc));
    p = bytes(p, groups, sizeof(groups));
    if (!lean)
        p = bytes(p, alpn, sizeof(alpn));
    p = bytes(p, sigalgs, sizeof(sigalgs));
    p = be16(p, 0x0033); /* key_share: x25519 */
    p = be16(p, 38);
    p = be16(p, 36);
    p = be16(p, 0x001d);
    p = be16(p, 32);
    p = bytes(p, gen_noise + ((s->seed >> 4) & 0x7fff), 32);
    be16(ext, (uint32_t)(p - ext - 2));
    be24(hs, (uint32_t)(p - hs - 3));
    be16(rec, (uint32_t)(p - rec - 2));
    return (size_t)(p - out);
}

/* ServerHello, ChangeCipherSpec and the header of the record that carries the encrypted rest
 * of the server's flight (its body follows as noise). */
static size_t tls_server_hello(const struct sess *s, uint32_t body, uint8_t *out)
{
    uint8_t *p = out, *rec, *hs, *ext;
    *p++ = 0x16;
    p = be16(p, 0x0303);
    rec = p;
    p += 2;
    *p++ = 0x02;
    hs = p;
    p += 3;
    p = be16(p, 0x0303);
    p = bytes(p, gen_noise + ((s->seed >> 3) & 0x7fff), 32);
    *p++ = 32;
    p = bytes(p, gen_noise + ((s->seed >> 8) & 0x7fff), 32); /* echoes the client's */
    p = be16(p, 0x1301);
    *p++ = 0;
    ext = p;
    p += 2;
    p = be16(p, 0x002b);
    p = be16(p, 2);
    p = be16(p, 0x0304);
    p = be16(p, 0x0033);
    p = be16(p, 36);
    p = be16(p, 0x001d);
    p = be16(p, 32);
    p = bytes(p, gen_noise + ((s->seed >> 5) & 0x7fff), 32);
    be16(ext, (uint32_t)(p - ext - 2));
    be24(hs, (uint32_t)(p - hs - 3));
    be16(rec, (uint32_t)(p - rec - 2));
    static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01 };
    p = bytes(p, ccs, sizeof(ccs));
    *p++ = 0x17;
    p = be16(p, 0x0303);
    p = be16(p, body);
    return (size_t)(p - out);
}

static const struct {
    const char *pre, *post; /* a number goes between them when post is set */
} gen_paths[] = {
    { "/", NULL },
    { "/index.html", NULL },
    { "/static/js/app.", ".js" },
    { "/images/photo", ".jpg" },
    { "/api/v1/items?id=", "" },
    { "/css/site.", ".css" },
    { "/news/", "" },
    { "/favicon.ico", NULL },
};

static size_t http_head(const struct sess *s, unsigned mi, uint8_t *out, size_t n)
{
    const struct msg *m = &s->msg[mi];
    char host[64], path[64];
    int l;
    server_name(s->sj, host, sizeof(host));
    if (m->type == M_HTTP_REQ) {
        uint32_t h = mix32(s->seed + mi);
        if (gen_paths[h % 8].post)
            snprintf(path, sizeof(path), "%s%u%s", gen_paths[h % 8].pre, h % 10000,
                     gen_paths[h % 8].post);
        else
            snprintf(path, sizeof(path), "%s", gen_paths[h % 8].pre);
        l = snprintf((char *)out, n,
                     "GET %s HTTP/1.1\r\nHost: %s\r\nUser-Agent: %s\r\nAccept: */*\r\n"
                     "Accept-Encoding: gzip, deflate\r\nConnection: keep-alive\r\n\r\n",
                     path, host, gen_agents[s->ci % 5]);
    } else {
        char date[40];
        time_t t = (time_t)(s->start_us / 1000000u);
        struct tm tm;
        gmtime_r(&t, &tm);
        strftime(date, sizeof(date), "%a, %d %b %Y %H:%M:%S GMT", &tm);
        const char *reason = m->status == 200   ? "OK"
                             : m->status == 304 ? "Not Modified"
                                                : "Not Found";
        l = snprintf((char *)out, n,
                     "HTTP/1.1 %u %s\r\nServer: nginx/1.22.1\r\nDate: %s\r\n"
                     "Content-Type: text/html; charset=utf-8\r\nContent-Length: %u\r\n"
                     "Connection: keep-alive\r\n\r\n",
                     m->status, reason, date, m->body);
    }
    return l > 0 && (size_t)l < n ? (size_t)l : 0;
}

/* The head of message mi (0 for pure record streams), written to out. */
static size_t msg_head(const struct sess *s, unsigned mi, uint8_t *out, size_t n)
{
    const struct msg *m = &s->msg[mi];
    switch (m->type) {
    case M_HTTP_REQ:
    case M_HTTP_RESP: return http_head(s, mi, out, n);
    case M_TLS_CH: return tls_client_hello(s, out);
    case M_TLS_SH: return tls_server_hello(s, m->body, out);
    case M_TLS_CFIN: {
        static const uint8_t ccs[] = { 0x14, 0x03, 0x03, 0x00, 0x01, 0x01,
                                       0x17, 0x03, 0x03, 0x00, 0x35 };
        uint8_t *p = bytes(out, ccs, sizeof(ccs));
        p = bytes(p, gen_noise + (s->seed & 0x3fff), 0x35); /* Finished */
        *p++ = 0x17;
        p = be16(p, 0x0303);
        p = be16(p, m->body);
        return (size_t)(p - out);
    }
    case M_TLS_REQ: {
        uint8_t *p = out;
        *p++ = 0x17;
        p = be16(p, 0x0303);
        p = be16(p, m->body);
        return (size_t)(p - out);
    }
    default: return 0;
    }
}

/* Bytes [off, off+n) of a stream of TLS application data records of total length len. */
static void tls_records(uint32_t seed, uint32_t len, uint32_t off, uint32_t n, uint8_t *out)
{
    const uint32_t full = GEN_TLS_REC + 5;
    while (n) {
        uint32_t r = off / full, in = off % full;
        uint32_t rstart = r * full;
        uint32_t rlen = len - rstart < full ? len - rstart : full; /* with its header */
        uint32_t c;
        if (in < 5) {
            uint8_t h[5] = { 0x17, 0x03, 0x03, (uint8_t)((rlen - 5) >> 8), (uint8_t)(rlen - 5) };
            c = 5 - in < n ? 5 - in : n;
            memcpy(out, h + in, c);
        } else {
            c = rlen - in < n ? rlen - in : n;
            if (c > 2048)
                c = 2048;
            memcpy(out, gen_noise + ((seed + off) & (GEN_FILL - 1)), c);
        }
        out += c;
        off += c;
        n -= c;
    }
}

static void msg_bytes(const struct sess *s, unsigned mi, uint32_t off, uint32_t n, uint8_t *out)
{
    const struct msg *m = &s->msg[mi];
    if (m->type == M_TLS_RESP) {
        tls_records(s->seed, m->len, off, n, out);
        return;
    }
    uint8_t head[1024];
    size_t hl = msg_head(s, mi, head, sizeof(head));
    while (n) {
        uint32_t c;
        if (off < hl) {
            c = (uint32_t)hl - off < n ? (uint32_t)hl - off : n;
            memcpy(out, head + off, c);
        } else {
            const uint8_t *src = m->type == M_HTTP_RESP ? gen_text : gen_noise;
            c = n < 2048 ? n : 2048;
            memcpy(out, src + ((s->seed + off) & (GEN_FILL - 1)), c);
        }
        out += c;
        off += c;
        n -= c;
    }
}

static void msg_set(struct sess *s, unsigned i, uint8_t type, uint32_t body, uint16_t status)
{
    struct msg *m = &s->msg[i];
    uint8_t head[1024];
    m->type = type;
    m->body = body;
    m->status = status;
    if (type == M_TLS_RESP) {
        /* records of 16384 bytes and a shorter last one; len counts their headers too */
        m->len = body + 5 * ((body + GEN_TLS_REC - 1) / GEN_TLS_REC);
        return;
    }
    m->len = (uint32_t)msg_head(s, i, head, sizeof(head)) + body;
}

static void http_messages(struct sess *s)
{
    unsigned nreq = rnd_below(10) < 8 ? 1 : rnd_range(2, 3);
    for (unsigned r = 0; r < nreq; r++) {
        uint32_t u = rnd_below(100), body;
        uint16_t status = 200;
        if (u < 8) {
            status = 304;
            body = 0;
        } else if (u < 12) {
            status = 404;
            body = rnd_range(150, 600);
        } else {
            body = rnd_logu(300, 80000);
        }
        msg_set(s, 2 * r, M_HTTP_REQ, 0, 0);
        msg_set(s, 2 * r + 1, M_HTTP_RESP, body, status);
    }
    s->nmsg = (uint8_t)(2 * nreq);
}

static void tls_messages(struct sess *s)
{
    unsigned extra = rnd_below(10) < 7 ? 0 : rnd_range(1, 2);
    msg_set(s, 0, M_TLS_CH, 0, 0);
    msg_set(s, 1, M_TLS_SH, rnd_range(1800, 5200), 0);
    msg_set(s, 2, M_TLS_CFIN, rnd_range(100, 700), 0);
    /* mostly pages and API calls; one in sixty a bulk download */
    uint32_t size = rnd_below(60) == 0 ? rnd_logu(100000, 600000) : rnd_logu(200, 40000);
    msg_set(s, 3, M_TLS_RESP, size, 0);
    for (unsigned r = 0; r < extra; r++) {
        msg_set(s, 4 + 2 * r, M_TLS_REQ, rnd_range(80, 900), 0);
        msg_set(s, 5 + 2 * r, M_TLS_RESP, rnd_logu(100, 30000), 0);
    }
    s->nmsg = (uint8_t)(4 + 2 * extra);
}

/* ---------------------------------------------------------------- the scheduler */

struct ev {
    uint64_t t;
    uint32_t seq, id;
};

struct heap {
    struct ev *v;
    size_t n, cap;
    uint32_t seq;
};

static int ev_less(const struct ev *a, const struct ev *b)
{
    return a->t < b->t || (a->t == b->t && a->seq < b->seq);
}

static void heap_push(struct heap *h, uint64_t t, uint32_t id)
{
    if (h->n == h->cap) {
        h->cap = h->cap ? 2 * h->cap : 4096;
        h->v = realloc(h->v, h->cap * sizeof(*h->v));
        if (!h->v) {
            perror("pcapgen");
            exit(1);
        }
    }
    struct ev e = { t, h->seq++, id };
    size_t i = h->n++;
    while (i && ev_less(&e, &h->v[(i - 1) / 2])) {
        h->v[i] = h->v[(i - 1) / 2];
        i = (i - 1) / 2;
    }
    h->v[i] = e;
}

static struct ev heap_pop(struct heap *h)
{
    struct ev top = h->v[0], last = h->v[--h->n];
    size_t i = 0;
    for (;;) {
        size_t c = 2 * i + 1;
        if (c >= h->n)
            break;
        if (c + 1 < h->n && ev_less(&h->v[c + 1], &h->v[c]))
            c++;
        if (!ev_less(&h->v[c], &last))
            break;
        h->v[i] = h->v[c];
        i = c;
    }
    if (h->n)
        h->v[i] = last;
    return top;
}

struct gen {
    struct out out;
    struct heap heap;
    struct sess *pool;
    uint32_t npool, capool, *freel, nfree;
    uint64_t sessions, kinds[6], open_tcp;
    uint8_t frame[GEN_MAX_FRAME + 64];
};

static uint32_t sess_alloc(struct gen *g)
{
    if (g->nfree)
        return g->freel[--g->nfree];
    if (g->npool == g->capool) {
        g->capool = g->capool ? 2 * g->capool : 4096;
        g->pool = realloc(g->pool, g->capool * sizeof(*g->pool));
        g->freel = realloc(g->freel, g->capool * sizeof(*g->freel));
        if (!g->pool || !g->freel) {
            perror("pcapgen");
            exit(1);
        }
    }
    return g->npool++;
}

static void sess_start(struct gen *g, uint64_t t)
{
    uint32_t id = sess_alloc(g);
    struct sess *s = &g->pool[id];
    uint32_t u = rnd_below(100);
    memset(s, 0, sizeof(*s));
    s->kind = u < 42   ? K_DNS
              : u < 62 ? K_HTTP
              : u < 88 ? K_TLS
              : u < 91 ? K_NTP
              : u < 94 ? K_ICMP
                       : K_SCAN;
    s->ci = rnd_below(GEN_CLIENTS);
    s->cip = client_ip(s->ci);
    s->vlan = client_vlan(s->ci);
    s->cport = next_port(s->ci);
    s->seed = (uint32_t)rnd();
    s->start_us = t;
    s->cipid = (uint16_t)rnd();
    s->sipid = (uint16_t)rnd();
    s->rtt_us = rnd_logu(400, 120000);
    s->cseq = (uint32_t)rnd();
    s->sseq = (uint32_t)rnd();
    switch (s->kind) {
    case K_DNS:
        s->sj = pick_server();
        s->sub = (uint8_t)rnd_below(100); /* <75 A, <88 AAAA, <93 HTTPS, <97 NXDOMAIN, else lost */
        s->sip = resolver_ip(s->ci % GEN_RESOLVERS);
        s->sport = 53;
        s->rtt_us = rnd_logu(300, 40000);
        s->qid = (uint16_t)rnd();
        s->state = S_QUERY;
        break;
    case K_NTP:
        s->sj = rnd_below(4);
        s->sip = 0xc6120100u | (s->sj + 123); /* 198.18.1.123-126 */
        s->cport = 123;
        s->sport = 123;
        s->state = S_QUERY;
        break;
    case K_ICMP:
        s->sj = pick_server();
        s->sip = server_ip(s->sj);
        s->qid = (uint16_t)rnd();
        s->count = (uint8_t)rnd_range(1, 4);
        s->state = S_QUERY;
        break;
    case K_SCAN: {
        static const uint16_t ports[] = { 22, 23, 445, 3389, 8080, 5900, 1433, 25 };
        s->sj = rnd_below(GEN_SERVERS);
        s->sip = server_ip(s->sj);
        s->sport = ports[rnd_below(8)];
        s->sub = (uint8_t)rnd_below(2); /* 0: RST, 1: unanswered with retransmissions */
        s->count = (uint8_t)rnd_range(1, 3);
        s->state = S_SYN;
        break;
    }
    default:
        s->sj = pick_server();
        s->sip = server_ip(s->sj);
        s->sport = s->kind == K_HTTP ? 80 : 443;
        s->open_end = rnd_below(10) == 0;
        if (s->kind == K_HTTP)
            http_messages(s);
        else
            tls_messages(s);
        s->state = S_SYN;
        g->open_tcp += s->open_end;
        break;
    }
    g->sessions++;
    g->kinds[s->kind]++;
    heap_push(&g->heap, t, id);
}

static struct ends sess_ends(struct sess *s, int from_client)
{
    struct ends e = { 0 };
    e.from_client = from_client;
    e.vlan = s->vlan;
    e.client_tag = s->cip;
    if (from_client) {
        e.src = s->cip;
        e.dst = s->sip;
        e.sport = s->cport;
        e.dport = s->sport;
        e.ipid = s->cipid++;
        e.ttl = 64;
    } else {
        e.src = s->sip;
        e.dst = s->cip;
        e.sport = s->sport;
        e.dport = s->cport;
        e.ipid = s->sipid++;
        e.ttl = (uint8_t)(64 - 3 - s->sj % 12);
    }
    return e;
}

static void emit_tcp(struct gen *g, struct sess *s, uint64_t t, int from_client, uint8_t flags,
                     uint32_t plen)
{
    struct ends e = sess_ends(s, from_client);
    size_t off, hl;
    uint32_t seq = from_client ? s->cseq : s->sseq;
    uint32_t ack = from_client ? s->sseq : s->cseq;
    uint8_t *pl = frame_tcp(g->frame, &e, seq, (flags & TH_ACK) ? ack : 0, flags, &off, &hl);
    if (plen)
        msg_bytes(s, s->mi, s->moff, plen, pl);
    size_t len = frame_done(g->frame, off, hl + plen, 6);
    out_packet(&g->out, t, g->frame, len);
    uint32_t adv = plen + ((flags & (TH_SYN | TH_FIN)) ? 1 : 0);
    if (from_client)
        s->cseq += adv;
    else
        s->sseq += adv;
}

static void emit_udp(struct gen *g, struct sess *s, uint64_t t, int from_client,
                     const uint8_t *payload, size_t plen)
{
    struct ends e = sess_ends(s, from_client);
    size_t off = frame_l3(g->frame, &e, 17);
    uint8_t *p = g->frame + off;
    p = be16(p, e.sport);
    p = be16(p, e.dport);
    p = be16(p, (uint32_t)(8 + plen));
    p = be16(p, 0);
    memcpy(p, payload, plen);
    out_packet(&g->out, t, g->frame, frame_done(g->frame, off, 8 + plen, 17));
}

static size_t dns_message(const struct sess *s, int response, uint8_t *out)
{
    char name[96];
    uint16_t qtype = s->sub < 75 ? 1 : s->sub < 88 ? 28 : s->sub < 93 ? 65 : 1;
    if (s->sub >= 93 && s->sub < 97)
        snprintf(name, sizeof(name), "x%08x.%s%u.%s", s->seed, gen_words[s->sj % 16], s->sj,
                 gen_tlds[(s->sj / 16) % 8]);
    else
        server_name(s->sj, name, sizeof(name));
    uint8_t *p = out;
    p = be16(p, s->qid);
    uint16_t flags = 0x0100; /* RD */
    uint16_t an = 0;
    int cname = s->sub < 75 && s->sj % 3 == 0;
    if (response) {
        flags = s->sub >= 93 ? 0x8183 : 0x8180; /* QR RD RA, NXDOMAIN */
        if (s->sub < 75)
            an = cname ? 2 : 1;
    }
    p = be16(p, flags);
    p = be16(p, 1);
    p = be16(p, an);
    p = be16(p, 0);
    p = be16(p, 0);
    p += dns_name(p, name);
    p = be16(p, qtype);
    p = be16(p, 1);
    if (!response || !an)
        return (size_t)(p - out);
    uint16_t owner = 0xc00c; /* the question's name, RFC 1035 4.1.4 */
    if (cname) {
        char target[64];
        snprintf(target, sizeof(target), "e%u.cdn-edge.net", s->sj % 97);
        uint16_t at = (uint16_t)(p - out);
        p = be16(p, owner);
        p = be16(p, 5);
        p = be16(p, 1);
        p = be32(p, 3600);
        uint8_t *rdl = p;
        p += 2;
        size_t l = dns_name(p, target);
        p += l;
        be16(rdl, (uint32_t)l);
        owner = (uint16_t)(0xc000 | (at + 12));
    }
    p = be16(p, owner);
    p = be16(p, 1);
    p = be16(p, 1);
    p = be32(p, 300);
    p = be16(p, 4);
    p = be32(p, server_ip(s->sj));
    return (size_t)(p - out);
}

/* The pause before the next segment of a message: slow start sends a window of 10, 20, 40...
 * segments (up to 640) per round trip, back to back within a window. */
static int64_t data_gap(const struct sess *s)
{
    uint32_t end = 10, w = 10;
    while (end < s->seg) {
        w = w < 640 ? 2 * w : w;
        end += w;
    }
    return s->seg == end ? (int64_t)s->rtt_us : (int64_t)rnd_range(8, 30);
}

/* Plays the session's next packet at time t; returns the delay to the one after, or -1 when the
 * session is over. */
static int64_t sess_step(struct gen *g, struct sess *s, uint64_t t)
{
    uint8_t buf[512];
    switch (s->state) {
    case S_SYN:
        emit_tcp(g, s, t, 1, TH_SYN, 0);
        if (s->kind == K_SCAN) {
            if (s->sub == 0) {
                s->state = S_RST;
                return s->rtt_us;
            }
            s->cseq--; /* a retransmission repeats the sequence number */
            if (--s->count == 0)
                return -1;
            return 1000000u << (2 - s->count % 3); /* 1 s, 2 s backoff */
        }
        s->state = S_SYNACK;
        return s->rtt_us;
    case S_RST: emit_tcp(g, s, t, 0, TH_RST | TH_ACK, 0); return -1;
    case S_SYNACK:
        emit_tcp(g, s, t, 0, TH_SYN | TH_ACK, 0);
        s->state = S_ACK;
        return rnd_range(20, 200);
    case S_ACK:
        emit_tcp(g, s, t, 1, TH_ACK, 0);
        s->state = S_DATA;
        return rnd_range(30, 800);
    case S_DATA: {
        const struct msg *m = &s->msg[s->mi];
        int from_client = s->mi % 2 == 0;
        uint32_t n = m->len - s->moff < GEN_MSS ? m->len - s->moff : GEN_MSS;
        int last = s->moff + n == m->len;
        emit_tcp(g, s, t, from_client, (uint8_t)(TH_ACK | (last ? TH_PSH : 0)), n);
        s->moff += n;
        s->seg++;
        if (!last) {
            if (!from_client && s->seg % 2 == 0) {
                s->state = S_DACK; /* delayed ACK from the client */
                return rnd_range(5, 40);
            }
            return data_gap(s);
        }
        s->mi++;
        s->moff = 0;
        s->seg = 0;
        if (s->mi < s->nmsg) {
            /* the other side answers: a server after the round trip and its own think time */
            return from_client ? s->rtt_us + rnd_logu(100, 30000) : rnd_logu(200, 200000);
        }
        if (s->open_end)
            return -1;
        s->state = S_FIN1;
        return rnd_logu(1000, 2000000);
    }
    case S_DACK:
        emit_tcp(g, s, t, 1, TH_ACK, 0);
        s->state = S_DATA;
        return data_gap(s);
    case S_FIN1:
        emit_tcp(g, s, t, 1, TH_FIN | TH_ACK, 0);
        s->state = S_FIN2;
        return s->rtt_us;
    case S_FIN2:
        emit_tcp(g, s, t, 0, TH_FIN | TH_ACK, 0);
        s->state = S_FIN3;
        return rnd_range(20, 200);
    case S_FIN3: emit_tcp(g, s, t, 1, TH_ACK, 0); return -1;
    case S_QUERY:
        if (s->kind == K_DNS) {
            emit_udp(g, s, t, 1, buf, dns_message(s, 0, buf));
            s->state = S_REPLY;
            return s->sub >= 97 ? -1 : (int64_t)s->rtt_us;
        }
        if (s->kind == K_NTP) {
            memset(buf, 0, 48);
            buf[0] = 0x23; /* v4, client */
            memcpy(buf + 40, gen_noise + (s->seed & 0x7fff), 8);
            emit_udp(g, s, t, 1, buf, 48);
            s->state = S_REPLY;
            return s->rtt_us;
        }
        {
            /* ICMP echo request, RFC 792 */
            struct ends e = sess_ends(s, 1);
            size_t off = frame_l3(g->frame, &e, 1);
            uint8_t *p = g->frame + off;
            *p++ = 8;
            *p++ = 0;
            p = be16(p, 0);
            p = be16(p, s->qid);
            p = be16(p, s->seg + 1u);
            memcpy(p, gen_text + (s->seed & 0x7fff), 56);
            out_packet(&g->out, t, g->frame, frame_done(g->frame, off, 64, 1));
            s->state = S_REPLY;
            return s->rtt_us;
        }
    case S_REPLY:
        if (s->kind == K_DNS) {
            emit_udp(g, s, t, 0, buf, dns_message(s, 1, buf));
            return -1;
        }
        if (s->kind == K_NTP) {
            memset(buf, 0, 48);
            buf[0] = 0x24; /* v4, server */
            buf[1] = 2;
            memcpy(buf + 24, gen_noise + (s->seed & 0x7fff), 8); /* origin = client's transmit */
            memcpy(buf + 32, gen_noise + ((s->seed >> 3) & 0x7fff), 16);
            emit_udp(g, s, t, 0, buf, 48);
            return -1;
        }
        {
            struct ends e = sess_ends(s, 0);
            size_t off = frame_l3(g->frame, &e, 1);
            uint8_t *p = g->frame + off;
            *p++ = 0;
            *p++ = 0;
            p = be16(p, 0);
            p = be16(p, s->qid);
            p = be16(p, s->seg + 1u);
            memcpy(p, gen_text + (s->seed & 0x7fff), 56);
            out_packet(&g->out, t, g->frame, frame_done(g->frame, off, 64, 1));
            s->seg++;
            if (s->seg >= s->count)
                return -1;
            s->state = S_QUERY;
            return 1000000 - s->rtt_us;
        }
    }
    return -1;
}

static int gen_mixed(const char *path, uint64_t target)
{
    struct gen *g = calloc(1, sizeof(*g));
    if (!g || out_open(&g->out, path) < 0) {
        fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fill_tables();
    for (uint32_t i = 0; i < GEN_CLIENTS; i++)
        client_port[i] = (uint16_t)rnd_range(32768, 60000);

    const double mean_gap_us = 1e6 / gen_sessions_per_s;
    uint64_t next_arrival = gen_epoch_us, peak = 0;
    int spawning = 1;
    for (;;) {
        if (spawning && (!g->heap.n || next_arrival <= g->heap.v[0].t)) {
            sess_start(g, next_arrival);
            next_arrival += rnd_exp_us(mean_gap_us);
            continue;
        }
        if (!g->heap.n)
            break;
        if (g->heap.n > peak)
            peak = g->heap.n;
        struct ev e = heap_pop(&g->heap);
        int64_t d = sess_step(g, &g->pool[e.id], e.t);
        if (d >= 0)
            heap_push(&g->heap, e.t + (uint64_t)d, e.id);
        else
            g->freel[g->nfree++] = e.id;
        if (spawning && g->out.packets >= target)
            spawning = 0;
    }
    if (fflush(g->out.f) != 0 || fclose(g->out.f) != 0) {
        fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(stderr,
            "pcapgen: %s: %llu packets, %llu bytes, %llu sessions (dns %llu, http %llu, "
            "tls %llu, ntp %llu, icmp %llu, syn-only %llu; %llu TCP left open), "
            "up to %llu sessions active at once\n",
            path, (unsigned long long)g->out.packets, (unsigned long long)g->out.bytes,
            (unsigned long long)g->sessions, (unsigned long long)g->kinds[K_DNS],
            (unsigned long long)g->kinds[K_HTTP], (unsigned long long)g->kinds[K_TLS],
            (unsigned long long)g->kinds[K_NTP], (unsigned long long)g->kinds[K_ICMP],
            (unsigned long long)g->kinds[K_SCAN], (unsigned long long)g->open_tcp,
            (unsigned long long)peak);
    free(g->heap.v);
    free(g->pool);
    free(g->freel);
    free(g);
    return 0;
}

/* N flows of one packet each, 10 us apart: flow i is 10.x.y.z:(1024 + i % 60000) to one server. */
static int gen_idle(const char *path, uint64_t n, int syn)
{
    struct out o;
    uint8_t f[128];
    if (out_open(&o, path) < 0) {
        fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fill_tables();
    for (uint64_t i = 0; i < n; i++) {
        struct ends e = { 0 };
        e.from_client = 1;
        e.src = 0x0a000000u | (uint32_t)((i / 250) << 8) | (uint32_t)(i % 250 + 2);
        e.dst = 0xc6120000u | (uint32_t)(i % 16 + 2);
        e.sport = (uint16_t)(1024 + i % 60000);
        e.dport = syn ? 443 : 5001;
        e.ipid = (uint16_t)i;
        e.ttl = 64;
        e.client_tag = e.src;
        size_t off, hl, len;
        if (syn) {
            frame_tcp(f, &e, (uint32_t)mix32((uint32_t)i), 0, TH_SYN, &off, &hl);
            len = frame_done(f, off, hl, 6);
        } else {
            off = frame_l3(f, &e, 17);
            uint8_t *p = f + off;
            p = be16(p, e.sport);
            p = be16(p, e.dport);
            p = be16(p, 8 + 32);
            p = be16(p, 0);
            memcpy(p, gen_noise + (i & 0x7fff), 32);
            len = frame_done(f, off, 8 + 32, 17);
        }
        out_packet(&o, gen_epoch_us + i * 10, f, len);
    }
    if (fflush(o.f) != 0 || fclose(o.f) != 0) {
        fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(stderr, "pcapgen: %s: %llu one-packet %s flows\n", path, (unsigned long long)n,
            syn ? "TCP SYN" : "UDP");
    return 0;
}

/* Connection i of a flood: its handshake, then what the client sends (see the top). */
static void flood_one(struct out *o, uint64_t i)
{
    static const uint8_t ldap_search[] = { 0x30, 0x25, 0x02, 0x01, 0x02, 0x63, 0x20, 0x04,
                                           0x00, 0x0a, 0x01, 0x00, 0x0a, 0x01, 0x00, 0x02,
                                           0x01, 0x00, 0x02, 0x01, 0x00, 0x01, 0x01, 0x00,
                                           0x87, 0x0b, 'o',  'b',  'j',  'e',  'c',  't',
                                           'C',  'l',  'a',  's',  's',  0x30, 0x00 };
    static const uint16_t ports[] = { 80, 389, 88, 53 };
    uint8_t f[256], payload[96];
    size_t n = 0, off, hl, len;
    uint64_t ts = gen_epoch_us + i * 30;
    struct ends c = { 0 }, s;
    c.from_client = 1;
    c.src = 0x0a000000u | (uint32_t)((i / 250) << 8) | (uint32_t)(i % 250 + 2);
    c.dst = 0xc6120000u | (uint32_t)(i % 16 + 2);
    c.sport = (uint16_t)(1024 + i % 60000);
    c.dport = ports[i % 4];
    c.ipid = (uint16_t)i;
    c.ttl = 64;
    c.client_tag = c.src;
    s = c;
    s.from_client = 0;
    s.src = c.dst;
    s.dst = c.src;
    s.sport = c.dport;
    s.dport = c.sport;
    uint32_t cseq = mix32((uint32_t)i), sseq = mix32((uint32_t)i ^ 0x5a5a5a5au);
    frame_tcp(f, &c, cseq, 0, TH_SYN, &off, &hl);
    out_packet(o, ts, f, frame_done(f, off, hl, 6));
    if (c.dport == 53)
        return;
    frame_tcp(f, &s, sseq, cseq + 1, TH_SYN | TH_ACK, &off, &hl);
    out_packet(o, ts + 10, f, frame_done(f, off, hl, 6));
    if (c.dport == 80) {
        n = (size_t)snprintf((char *)payload, sizeof(payload),
                             "GET /%llu HTTP/1.1\r\nHost: flood.example\r\n\r\n",
                             (unsigned long long)i);
    } else if (c.dport == 389) {
        memcpy(payload, ldap_search, sizeof(ldap_search));
        n = sizeof(ldap_search);
    } else {
        uint8_t *p = be32(payload, 1000); /* a 1000-byte record; 60 of it come */
        memset(p, 0x6a, 60);
        n = 64;
    }
    uint8_t *p = frame_tcp(f, &c, cseq + 1, sseq + 1, TH_ACK | TH_PSH, &off, &hl);
    memcpy(p, payload, n);
    len = frame_done(f, off, hl + n, 6);
    out_packet(o, ts + 20, f, len);
}

static int gen_flood(const char *path, uint64_t n)
{
    struct out o;
    if (out_open(&o, path) < 0) {
        fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    for (uint64_t i = 0; i < n; i++)
        flood_one(&o, i);
    if (fflush(o.f) != 0 || fclose(o.f) != 0) {
        fprintf(stderr, "pcapgen: %s: %s\n", path, strerror(errno));
        return 1;
    }
    fprintf(stderr, "pcapgen: %s: %llu unanswered connections\n", path, (unsigned long long)n);
    return 0;
}

static void usage(void)
{
    fprintf(stderr, "usage: pcapgen mixed OUT [PACKETS]\n"
                    "       pcapgen idle OUT N [udp|syn]\n"
                    "       pcapgen flood OUT N\n");
}

int main(int argc, char **argv)
{
    if (argc >= 3 && strcmp(argv[1], "mixed") == 0) {
        uint64_t target = argc > 3 ? strtoull(argv[3], NULL, 10) : 2000000;
        return gen_mixed(argv[2], target ? target : 1);
    }
    if (argc >= 4 && strcmp(argv[1], "idle") == 0) {
        int syn = argc > 4 && strcmp(argv[4], "syn") == 0;
        return gen_idle(argv[2], strtoull(argv[3], NULL, 10), syn);
    }
    if (argc >= 4 && strcmp(argv[1], "flood") == 0)
        return gen_flood(argv[2], strtoull(argv[3], NULL, 10));
    usage();
    return 2;
}
