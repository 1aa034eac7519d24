/*
 * flows.c - the flow table and its timeouts, driven through the inline
 * pipeline (no threads) with hand-built packets; records checked as JSON text.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "check.h"
#include "config.h"
#include "event.h"
#include "key.h"
#include "packet.h"
#include "pipeline.h"

enum { T0 = 1700000000 };

struct run {
    struct tl_config cfg;
    struct tl_output *out;
    struct tl_pipeline *p;
    char path[64];
    char *text;            /* the events written, after run_end() */
    struct tl_stats total; /* the final counters, after run_end() */
};

static void run_start(struct run *r, const char *const *settings)
{
    char err[256];
    memset(r, 0, sizeof(*r));
    tl_config_defaults(&r->cfg);
    tl_config_set(&r->cfg, "sensor", "unit", err, sizeof(err));
    tl_config_set(&r->cfg, "ndpi.enabled", "false", err, sizeof(err));
    for (; settings && *settings; settings += 2)
        if (tl_config_set(&r->cfg, settings[0], settings[1], err, sizeof(err)) < 0)
            fprintf(stderr, "  %s\n", err);
    snprintf(r->path, sizeof(r->path), "/tmp/tl-flows-XXXXXX");
    close(mkstemp(r->path));
    tl_config_set(&r->cfg, "output.path", r->path, err, sizeof(err));
    r->out = tl_output_open(&r->cfg, err, sizeof(err));
    r->p = tl_pipeline_new(&r->cfg, r->out, TL_PIPE_INLINE, err, sizeof(err));
}

static void run_end(struct run *r)
{
    tl_pipeline_finish(r->p, &r->total);
    tl_pipeline_free(r->p);
    tl_output_close(r->out);
    FILE *f = fopen(r->path, "r");
    size_t cap = 1 << 20, n = f ? fread(r->text = calloc(1, cap), 1, cap - 1, f) : 0;
    (void)n;
    if (f)
        fclose(f);
    unlink(r->path);
    tl_config_free(&r->cfg);
}

static void put16(uint8_t *p, unsigned v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

static void put32(uint8_t *p, uint32_t v)
{
    put16(p, v >> 16);
    put16(p + 2, v & 0xffff);
}

/* Writes Ethernet + IPv4 + TCP (flags, seq) or UDP (flags == 0xff) with len payload bytes
 * into b (1600 bytes, zeroed): data, or 'x' repeated when data is NULL. Returns its length. */
static unsigned make_pkt(uint8_t *b, uint8_t src, uint16_t sport, uint8_t dst, uint16_t dport,
                         unsigned flags, uint32_t seq, const void *data, unsigned len)
{
    bool udp = flags == 0xff;
    unsigned l4 = udp ? 8 : 20, total = 20 + l4 + len;

    memcpy(b, "\x02\x00\x00\x00\x00", 5);
    b[5] = dst;
    memcpy(b + 6, "\x02\x00\x00\x00\x00", 5);
    b[11] = src;
    put16(b + 12, 0x0800);
    uint8_t *ip = b + 14;
    ip[0] = 0x45;
    put16(ip + 2, total);
    ip[8] = 64;
    ip[9] = udp ? 17 : 6;
    put32(ip + 12, 0x0a000000u | src);
    put32(ip + 16, 0x0a000000u | dst);
    uint8_t *l = ip + 20;
    put16(l, sport);
    put16(l + 2, dport);
    if (udp) {
        put16(l + 4, 8 + len);
    } else {
        put32(l + 4, seq);
        l[12] = 5 << 4;
        l[13] = (uint8_t)flags;
        put16(l + 14, 1024);
    }
    if (data)
        memcpy(l + l4, data, len);
    else
        memset(l + l4, 'x', len);
    return 14 + total;
}

static uint64_t ts_of(double t)
{
    return (uint64_t)(t * 1e6) + (uint64_t)T0 * 1000000u;
}

static void send_data(struct run *r, double t, uint8_t src, uint16_t sport, uint8_t dst,
                      uint16_t dport, unsigned flags, uint32_t seq, const void *data, unsigned len)
{
    uint8_t b[1600] = { 0 };
    unsigned n = make_pkt(b, src, sport, dst, dport, flags, seq, data, len);
    tl_pipeline_packet(r->p, TL_LINK_ETHERNET, ts_of(t), b, n, n);
}

static void send_pkt(struct run *r, double t, uint8_t src, uint16_t sport, uint8_t dst,
                     uint16_t dport, unsigned flags, uint32_t seq, unsigned len)
{
    send_data(r, t, src, sport, dst, dport, flags, seq, NULL, len);
}

#define SYN 0x02
#define ACK 0x10
#define FIN 0x01
#define RST 0x04
#define PSH 0x08
#define UDP 0xff

static int count(const char *text, const char *needle)
{
    int n = 0;
    for (const char *p = text; p && (p = strstr(p, needle)); p++)
        n++;
    return n;
}

/* The value of "key": in the n-th line containing `line_has`, as a number. */
static long long field(const char *text, const char *line_has, int nth, const char *key)
{
    char k[64];
    snprintf(k, sizeof(k), "\"%s\":", key);
    for (const char *line = text; line && *line;) {
        const char *end = strchr(line, '\n');
        size_t len = end ? (size_t)(end - line) : strlen(line);
        char *copy = strndup(line, len);
        if (strstr(copy, line_has) && nth-- == 0) {
            const char *v = strstr(copy, k);
            long long out = v ? strtoll(v + strlen(k), NULL, 10) : -1;
            free(copy);
            return out;
        }
        free(copy);
        line = end ? end + 1 : NULL;
    }
    return -1;
}

#define FLOW "\"event_type\":\"flow\""

static void test_tcp_normal_close(void)
{
    struct run r;
    run_start(&r, NULL);
    send_pkt(&r, 0.0, 1, 40000, 2, 80, SYN, 100, 0);
    send_pkt(&r, 0.1, 2, 80, 1, 40000, SYN | ACK, 500, 0);
    send_pkt(&r, 0.2, 1, 40000, 2, 80, ACK, 101, 0);
    send_pkt(&r, 0.3, 1, 40000, 2, 80, ACK | PSH, 101, 10);
    send_pkt(&r, 0.4, 2, 80, 1, 40000, ACK | PSH, 501, 300);
    send_pkt(&r, 0.5, 1, 40000, 2, 80, ACK | PSH, 101, 10); /* retransmission */
    send_pkt(&r, 0.6, 1, 40000, 2, 80, FIN | ACK, 111, 0);
    send_pkt(&r, 0.7, 2, 80, 1, 40000, FIN | ACK, 801, 0);
    run_end(&r);
    CHECK_EQ(count(r.text, FLOW), 1);
    CHECK(count(r.text, "\"conn_state\":\"SF\""));
    CHECK(count(r.text, "\"history\":\"ShADdTFf\""));
    CHECK(count(r.text, "\"end_reason\":\"fin\""));
    CHECK(count(r.text, "\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":40000"));
    CHECK_EQ(field(r.text, FLOW, 0, "orig_bytes"), 10);
    CHECK_EQ(field(r.text, FLOW, 0, "resp_bytes"), 300);
    CHECK_EQ(field(r.text, FLOW, 0, "orig_pkts"), 5);
    CHECK_EQ(field(r.text, FLOW, 0, "orig_ip_bytes"), 5 * 40 + 20);
    free(r.text);
}

static void test_syn_ack_first_flips(void)
{
    struct run r;
    run_start(&r, NULL);
    send_pkt(&r, 0.0, 2, 80, 1, 40000, SYN | ACK, 500, 0);
    send_pkt(&r, 0.1, 1, 40000, 2, 80, ACK, 101, 0);
    run_end(&r);
    CHECK(count(r.text, "\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":40000"));
    CHECK(count(r.text, "\"history\":\"^hA\""));
    CHECK(count(r.text, "\"end_reason\":\"shutdown\""));
    free(r.text);
}

/* A DNS answer seen before its query: the client is still the originator. */
static void test_reply_first_flips(void)
{
    struct run r;
    run_start(&r, NULL);
    send_pkt(&r, 0.0, 2, 53, 1, 5353, UDP, 0, 40);
    send_pkt(&r, 0.1, 1, 5353, 2, 53, UDP, 0, 20);
    run_end(&r);
    CHECK(count(r.text, "\"id.orig_h\":\"10.0.0.1\",\"id.orig_p\":5353"));
    CHECK(count(r.text, "\"history\":\"^dD\""));
    free(r.text);
}

static void test_rejected(void)
{
    struct run r;
    run_start(&r, NULL);
    send_pkt(&r, 0.0, 1, 40001, 2, 81, SYN, 100, 0);
    send_pkt(&r, 0.1, 2, 81, 1, 40001, RST | ACK, 0, 0);
    run_end(&r);
    CHECK(count(r.text, "\"conn_state\":\"REJ\""));
    CHECK(count(r.text, "\"end_reason\":\"rst\""));
    free(r.text);
}

/* An unanswered SYN ends after flows.tcp_syn_timeout; the same tuple later is a new flow. */
static void test_syn_timeout_and_reuse(void)
{
    struct run r;
    run_start(&r, NULL);
    send_pkt(&r, 0.0, 1, 40002, 2, 22, SYN, 100, 0);
    send_pkt(&r, 31.0, 1, 40002, 2, 22, SYN, 100, 0);
    run_end(&r);
    CHECK_EQ(count(r.text, FLOW), 2);
    CHECK_EQ(count(r.text, "\"conn_state\":\"S0\""), 2);
    CHECK_EQ(count(r.text, "\"end_reason\":\"idle\""), 1);
    CHECK_EQ(count(r.text, "\"flows.expired_idle\":1,"), 1);
    free(r.text);
}

static void test_udp_timeout_configurable(void)
{
    static const char *const set[] = { "flows.udp_timeout", "10", NULL };
    struct run r;
    run_start(&r, set);
    send_pkt(&r, 0.0, 1, 5000, 2, 53, UDP, 0, 20);
    send_pkt(&r, 0.5, 2, 53, 1, 5000, UDP, 0, 40);
    send_pkt(&r, 9.0, 1, 5000, 2, 53, UDP, 0, 20);  /* within 10 s: same flow */
    send_pkt(&r, 20.0, 1, 5000, 2, 53, UDP, 0, 20); /* 11 s idle: a new flow */
    run_end(&r);
    CHECK_EQ(count(r.text, FLOW), 2);
    CHECK_EQ(field(r.text, FLOW, 0, "orig_pkts") + field(r.text, FLOW, 1, "orig_pkts"), 3);
    CHECK_EQ(count(r.text, "\"conn_state\":\"SF\""), 1);
    CHECK_EQ(count(r.text, "\"conn_state\":\"S0\""), 1);
    free(r.text);
}

/* The active timeout cuts a long flow into interim records that add up. */
static void test_active_timeout(void)
{
    static const char *const set[] = { "flows.active_timeout", "30", NULL };
    struct run r;
    run_start(&r, set);
    for (int i = 0; i <= 10; i++)
        send_pkt(&r, 10.0 * i, 1, 6000, 2, 123, UDP, 0, 48);
    run_end(&r);
    int interim = count(r.text, "\"interim\":true");
    CHECK_EQ(interim, 3);
    CHECK_EQ(count(r.text, FLOW), interim + 1);
    long long sum = 0;
    for (int i = 0; i < interim + 1; i++)
        sum += field(r.text, FLOW, i, "orig_pkts");
    CHECK_EQ(sum, 11);
    free(r.text);
}

/* Past flows.max_per_worker the least recently active flow is evicted, and counted. */
static void test_eviction_cap(void)
{
    static const char *const set[] = { "flows.max_per_worker", "4", NULL };
    struct run r;
    run_start(&r, set);
    for (int i = 0; i < 10; i++)
        send_pkt(&r, 0.1 * i, 1, (uint16_t)(7000 + i), 2, 53, UDP, 0, 10);
    run_end(&r);
    CHECK_EQ(count(r.text, FLOW), 10);
    CHECK_EQ(count(r.text, "\"end_reason\":\"evicted\""), 6);
    CHECK_EQ(count(r.text, "\"flows.max_per_worker_capped\":6,"), 1);
    CHECK(count(r.text, "\"id.orig_p\":7000,") == 1 && count(r.text, "\"id.orig_p\":7009,") == 1);
    free(r.text);
}

static void test_icmp_echo_pairs(void)
{
    struct run r;
    static const uint8_t req[] = {
        0x45, 0, 0,   28, 0, 1, 0, 0, 64, 1, 0,    0,    192, 0,
        2,    1, 192, 0,  2, 2, 8, 0, 0,  0, 0x12, 0x34, 0,   1,
    };
    uint8_t rep[sizeof(req)];
    memcpy(rep, req, sizeof(req));
    memcpy(rep + 12, req + 16, 4);
    memcpy(rep + 16, req + 12, 4);
    rep[20] = 0; /* echo reply */
    run_start(&r, NULL);
    tl_pipeline_packet(r.p, TL_LINK_RAW, 1000000, req, sizeof(req), sizeof(req));
    tl_pipeline_packet(r.p, TL_LINK_RAW, 1100000, rep, sizeof(rep), sizeof(rep));
    run_end(&r);
    CHECK_EQ(count(r.text, FLOW), 1);
    CHECK(count(r.text,
                "\"id.orig_p\":8,\"id.resp_h\":\"192.0.2.2\",\"id.resp_p\":0,\"proto\":\"icmp\""));
    CHECK(count(r.text, "\"conn_state\":\"OTH\"")); /* as Zeek says of ICMP */
    CHECK_EQ(field(r.text, FLOW, 0, "resp_pkts"), 1);
    free(r.text);
}

/* Two IPv4 fragments, last first: one UDP flow with the datagram's ports. */
static void test_fragments_reach_the_flow(void)
{
    struct run r;
    uint8_t f1[20 + 16] = { 0x45, 0, 0,  36, 0xab, 0xcd, 0x20, 0, 64, 17,
                            0,    0, 10, 0,  0,    1,    10,   0, 0,  2 };
    uint8_t f2[20 + 8] = { 0x45, 0, 0,  28, 0xab, 0xcd, 0x00, 2, 64, 17,
                           0,    0, 10, 0,  0,    1,    10,   0, 0,  2 };
    /* UDP header: 1234 -> 53, length 8 + 16 payload bytes */
    memcpy(f1 + 20, "\x04\xd2\x00\x35\x00\x18\x00\x00", 8);
    memset(f1 + 28, 'a', 8);
    memset(f2 + 20, 'b', 8);
    run_start(&r, NULL);
    tl_pipeline_packet(r.p, TL_LINK_RAW, 1000000, f2, sizeof(f2), sizeof(f2));
    tl_pipeline_packet(r.p, TL_LINK_RAW, 1000100, f1, sizeof(f1), sizeof(f1));
    run_end(&r);
    CHECK_EQ(count(r.text, FLOW), 1);
    CHECK(count(r.text, "\"id.orig_p\":1234,\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":53"));
    CHECK_EQ(field(r.text, FLOW, 0, "orig_bytes"), 16);
    CHECK_EQ(count(r.text, "\"defrag.reassembled\":1,"), 1);
    free(r.text);
}

/*
 * service: the dissector that read the flow, by Zeek's name; none for a flow on a
 * dissector's port that carries something else, or only messages it could not read.
 */
static void test_service(void)
{
    static const uint8_t dns_q[] = { 0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,
                                     0,    0,    7,    'e',  'x', 'a', 'm', 'p', 'l', 'e',
                                     3,    'c',  'o',  'm',  0,   0,   1,   0,   1 };
    static const char http_req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    static const char http_res[] = "HTTP/1.1 204 No Content\r\n\r\n";
    /* An AS-REQ tag, then a body whose SEQUENCE holds an INTEGER where [1] pvno belongs. */
    static const uint8_t krb_bad[] = { 0x6a, 0x07, 0x30, 0x05, 0xa1, 0x03, 0x04, 0x01, 0x05 };
    const char *const dissect_all[] = { "dissect.protocols", "dns,http,kerberos,ldap", NULL };
    struct run r;
    run_start(&r, dissect_all);
    send_data(&r, 0.0, 1, 40001, 2, 53, UDP, 0, dns_q, sizeof(dns_q));
    send_pkt(&r, 0.1, 1, 40002, 2, 53, UDP, 0, 40); /* 'x' * 40: opcode 15, not DNS */
    send_pkt(&r, 0.2, 1, 40003, 2, 80, SYN, 100, 0);
    send_pkt(&r, 0.3, 2, 80, 1, 40003, SYN | ACK, 500, 0);
    send_data(&r, 0.4, 1, 40003, 2, 80, ACK | PSH, 101, http_req, sizeof(http_req) - 1);
    send_data(&r, 0.5, 2, 80, 1, 40003, ACK | PSH, 501, http_res, sizeof(http_res) - 1);
    send_data(&r, 0.6, 1, 40004, 2, 88, UDP, 0, krb_bad, sizeof(krb_bad));
    run_end(&r);
    CHECK_EQ(count(r.text, FLOW), 4);
    CHECK_EQ(count(r.text, "\"event_type\":\"dns\""), 1);
    CHECK_EQ(count(r.text, "\"event_type\":\"http\""), 1);
    CHECK_EQ(count(r.text, "\"event_type\":\"kerberos\""), 1);
    CHECK_EQ(count(r.text, "\"id.orig_p\":40001,\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":53,"
                           "\"proto\":\"udp\",\"ip_proto\":17"),
             1);
    CHECK_EQ(count(r.text, "\"service\":\"dns\""), 1);
    CHECK_EQ(count(r.text, "\"service\":\"http\""), 1);
    CHECK_EQ(count(r.text, "\"service\""), 2); /* not the junk on 53 nor the malformed on 88 */
    CHECK_EQ(count(r.text, "\"status\":\"malformed\""), 1);
    free(r.text);
}

/*
 * Packets of a capture file reach the workers as pointers: the pipeline says which
 * bytes are still read (pinned_from), and after unpin none are, so the source may
 * reuse them. The "file" is freed right after unpin: a worker reading it later would be a
 * use after free under ASan, and the counts would not match the copied run's.
 */
static void test_pinned_packets(void)
{
    enum { NPKT = 400, SZ = 1600 };
    static const char *const set[] = { "threads", "2", NULL };
    for (int pinned = 0; pinned < 2; pinned++) {
        struct run r;
        char err[256];
        run_start(&r, set);
        tl_pipeline_free(r.p); /* run_start's is inline: these go through worker threads */
        r.p = tl_pipeline_new(&r.cfg, r.out, TL_PIPE_OFFLINE, err, sizeof(err));
        uint8_t *file = calloc(NPKT, SZ);
        for (unsigned i = 0; i < NPKT; i++) {
            uint8_t *b = file + (size_t)i * SZ;
            unsigned n = make_pkt(b, (uint8_t)(1 + i % 50), (uint16_t)(1000 + i % 50), 200, 53, UDP,
                                  0, NULL, 100 + i % 300);
            uint64_t mark = pinned ? (uint64_t)i * SZ + 1 : 0;
            tl_pipeline_packet_pinned(r.p, TL_LINK_ETHERNET, ts_of(i * 0.001), b, n, n, mark);
            if (pinned && i == 0)
                CHECK_EQ(tl_pipeline_pinned_from(r.p), 1); /* in the batch being filled */
        }
        CHECK(tl_pipeline_pinned_from(r.p) == (pinned ? 1 : UINT64_MAX));
        tl_pipeline_unpin(r.p, UINT64_MAX);
        CHECK(tl_pipeline_pinned_from(r.p) == UINT64_MAX);
        free(file);
        run_end(&r);
        CHECK_EQ(count(r.text, "\"event_type\":\"flow\""), 50);
        /* 10.0.0.7:1006 sent packets 6, 56, ... 356: 8 x 100 bytes + their i % 300 */
        CHECK_EQ(field(r.text, "\"id.orig_p\":1006,", 0, "orig_bytes"), 1648);
        CHECK_EQ(field(r.text, "\"id.orig_p\":1006,", 0, "orig_pkts"), 8);
        free(r.text);
    }
}

/*
 * Live, a burst larger than the workers' rings (two batches each, nDPI on a new flow per
 * packet keeps a worker slower than this thread hands packets over). One worker: the capture
 * waits for it and nothing is dropped. Two workers: a packet whose worker is behind may be
 * dropped, and every packet is either processed or counted in capture.ring_drops.
 */
static void test_live_burst(void)
{
    enum { NPKT = 20000 };
    for (unsigned threads = 1; threads <= 2; threads++) {
        const char *const set[] = { "threads",
                                    threads == 1 ? "1" : "2",
                                    "capture.ring_batches",
                                    "2",
                                    "capture.batch_bytes",
                                    "262400",
                                    "ndpi.enabled",
                                    "true",
                                    NULL };
        struct run r;
        char err[256];
        uint8_t b[1600] = { 0 };
        run_start(&r, set);
        tl_pipeline_free(r.p);
        r.p = tl_pipeline_new(&r.cfg, r.out, TL_PIPE_LIVE, err, sizeof(err));
        CHECK(r.p != NULL);
        if (!r.p)
            return;
        for (unsigned i = 0; i < NPKT; i++) {
            unsigned n = make_pkt(b, (uint8_t)(1 + i % 200), (uint16_t)(1024 + i / 200), 200, 53,
                                  UDP, 0, NULL, 1400);
            tl_pipeline_packet(r.p, TL_LINK_ETHERNET, ts_of(i * 1e-6), b, n, n);
        }
        run_end(&r);
        free(r.text);
        if (threads == 1)
            CHECK_EQ(r.total.v[TL_STAT_RING_DROPS], 0);
        CHECK_EQ(r.total.v[TL_STAT_WORKER_PKTS] + r.total.v[TL_STAT_RING_DROPS], NPKT);
    }
}

/*
 * Dissection by content: a DNS query and its response on UDP 5300 are found by the probe
 * (dns.by_content); 'x' bytes on another odd port are not; a TCP flow whose handshake was
 * not seen is not probed.
 */
static void test_probe(void)
{
    static const uint8_t q[] = { 0x12, 0x34, 0x01, 0x00, 0,   1,   0,   0,   0,   0,
                                 0,    0,    7,    'e',  'x', 'a', 'm', 'p', 'l', 'e',
                                 3,    'c',  'o',  'm',  0,   0,   1,   0,   1 };
    uint8_t r[sizeof(q) + 16];
    memcpy(r, q, sizeof(q));
    r[2] = 0x81;
    r[3] = 0x80;
    r[7] = 1; /* one answer: example.com A 192.0.2.1 */
    memcpy(r + sizeof(q), "\xc0\x0c\x00\x01\x00\x01\x00\x00\x00\x3c\x00\x04\xc0\x00\x02\x01", 16);
    struct run run;
    run_start(&run, NULL);
    send_data(&run, 0.0, 1, 40001, 2, 5300, UDP, 0, q, sizeof(q));
    send_data(&run, 0.1, 2, 5300, 1, 40001, UDP, 0, r, sizeof(r));
    send_pkt(&run, 0.2, 1, 40002, 2, 5301, UDP, 0, 40);
    send_data(&run, 0.3, 1, 40003, 2, 5302, ACK | PSH, 100, q, sizeof(q)); /* TCP, mid-stream */
    run_end(&run);
    CHECK_EQ(count(run.text, "\"event_type\":\"dns\""), 1);
    CHECK_EQ(count(run.text, "\"rtt\":0.100000,\"query\":\"example.com\""), 1);
    CHECK_EQ(count(run.text, "\"dns.by_content\":1,"), 1);
    free(run.text);
}

/* SOCKS 5 hands its flow to the HTTP dissector: the GET the client sent before the reply
 * and the response are one http event of the same flow as the socks event. */
static void test_handover(void)
{
    static const uint8_t greet[] = { 5, 1, 0 }, method[] = { 5, 0 };
    static const uint8_t req[] = { 5,   1,   0,   3,   11,  'w', 'w', 'w', '.',
                                   'e', 'x', 'a', 'm', 'p', 'l', 'e', 0,   80 };
    static const uint8_t reply[] = { 5, 0, 0, 1, 10, 0, 0, 2, 0x9c, 0x40 };
    static const char get[] = "GET / HTTP/1.1\r\nHost: www.example\r\n\r\n";
    static const char ok[] = "HTTP/1.1 204 No Content\r\n\r\n";
    uint8_t c2s[sizeof(req) + sizeof(get)];
    memcpy(c2s, req, sizeof(req));
    memcpy(c2s + sizeof(req), get, sizeof(get) - 1); /* the request and the GET together */
    struct run r;
    run_start(&r, NULL);
    send_pkt(&r, 0.0, 1, 40001, 2, 1080, SYN, 100, 0);
    send_pkt(&r, 0.1, 2, 1080, 1, 40001, SYN | ACK, 500, 0);
    send_data(&r, 0.2, 1, 40001, 2, 1080, ACK | PSH, 101, greet, sizeof(greet));
    send_data(&r, 0.3, 2, 1080, 1, 40001, ACK | PSH, 501, method, sizeof(method));
    send_data(&r, 0.4, 1, 40001, 2, 1080, ACK | PSH, 104, c2s, sizeof(req) + sizeof(get) - 1);
    send_data(&r, 0.5, 2, 1080, 1, 40001, ACK | PSH, 503, reply, sizeof(reply));
    send_data(&r, 0.6, 2, 1080, 1, 40001, ACK | PSH, 513, ok, sizeof(ok) - 1);
    run_end(&r);
    CHECK_EQ(count(r.text, "\"event_type\":\"socks\""), 1);
    CHECK_EQ(count(r.text, "\"request.name\":\"www.example\",\"request_p\":80"), 1);
    CHECK_EQ(count(r.text, "\"proxied_protocol\":\"http\""), 1);
    CHECK_EQ(count(r.text, "\"event_type\":\"http\""), 1);
    CHECK_EQ(count(r.text, "\"method\":\"GET\",\"host\":\"www.example\",\"uri\":\"/\""), 1);
    CHECK_EQ(count(r.text, "\"status_code\":204"), 1);
    CHECK_EQ(count(r.text, "\"service\":\"socks\""), 1);
    CHECK_EQ(count(r.text, "\"socks.messages\":4,"), 1);
    free(r.text);
}

/* A flow given up (a response larger than reassembly.max_per_flow) writes what waits: the
 * search request, with the reason. */
static void test_giveup_flush(void)
{
    static const uint8_t search[] = { 0x30, 0x25, 0x02, 0x01, 0x02, 0x63, 0x20, 0x04, 0x00, 0x0a,
                                      0x01, 0x00, 0x0a, 0x01, 0x00, 0x02, 0x01, 0x00, 0x02, 0x01,
                                      0x00, 0x01, 0x01, 0x00, 0x87, 0x0b, 'o',  'b',  'j',  'e',
                                      'c',  't',  'C',  'l',  'a',  's',  's',  0x30, 0x00 };
    static const uint8_t done_head[] = {
        0x30, 0x82, 0x08, 0x10, 0x02, 0x01, 0x02, 0x65, 0x82, 0x08,
        0x09, 0x0a, 0x01, 0x00, 0x04, 0x00, 0x04, 0x82, 0x08, 0x00
    }; /* a 2 KiB diagnostic follows */
    const char *const small[] = { "reassembly.max_per_flow", "1024", NULL };
    struct run r;
    run_start(&r, small);
    send_pkt(&r, 0.0, 1, 40001, 2, 389, SYN, 100, 0);
    send_pkt(&r, 0.1, 2, 389, 1, 40001, SYN | ACK, 500, 0);
    send_data(&r, 0.2, 1, 40001, 2, 389, ACK | PSH, 101, search, sizeof(search));
    send_data(&r, 0.3, 2, 389, 1, 40001, ACK | PSH, 501, done_head, sizeof(done_head));
    send_pkt(&r, 0.4, 2, 389, 1, 40001, ACK | PSH, 501 + sizeof(done_head), 1200);
    run_end(&r);
    CHECK_EQ(count(r.text, "\"ldap.given_up\":1,"), 1);
    CHECK_EQ(count(r.text, "\"operation\":\"search\""), 1);
    CHECK_EQ(count(r.text, "\"reply_status\":\"flow_ended\""), 1);
    free(r.text);
}

/*
 * The two directions of one tunnelled conversation make one key, however the
 * tunnel marks them: a GRE key set one way only, the PPTP call ids each side
 * names; a VXLAN VNI keeps two segments with the same addresses apart.
 */
static void test_tunnel_keys(void)
{
    struct tl_decoded there, back;
    struct tl_fkey k1, k2;
    bool a1, a2;
    memset(&there, 0, sizeof(there));
    there.ipv = 4;
    there.ip_proto = TL_IPPROTO_UDP;
    there.src.b[15] = 1;
    there.dst.b[15] = 2;
    there.sport = 40000;
    there.dport = 53;
    back = there;
    back.src = there.dst;
    back.dst = there.src;
    back.sport = 53;
    back.dport = 40000;
    static const struct {
        uint8_t tunnel;
        uint32_t id_there, id_back;
        bool same;
    } cases[] = {
        { TL_TUNNEL_GRE, 0x2a, 0, true },         { TL_TUNNEL_GRE, 0x2a, 0x2b, true },
        { TL_TUNNEL_PPTP, 0x1234, 0x4321, true }, { TL_TUNNEL_VXLAN, 4242, 4242, true },
        { TL_TUNNEL_VXLAN, 4242, 4243, false },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        there.tunnel = back.tunnel = cases[i].tunnel;
        there.tunnel_id = cases[i].id_there;
        back.tunnel_id = cases[i].id_back;
        tl_fkey_make(&k1, &there, &a1);
        tl_fkey_make(&k2, &back, &a2);
        CHECK_EQ(memcmp(&k1, &k2, sizeof(k1)) == 0, cases[i].same);
        CHECK(a1 != a2);
    }
}

/* One HTTP exchange on client port cport: SYN, SYN-ACK, ACK, GET, 204 (from t on). */
static void http_exchange(struct run *r, double t, uint16_t cport)
{
    static const char req[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    static const char res[] = "HTTP/1.1 204 No Content\r\n\r\n";
    send_pkt(r, t, 1, cport, 2, 80, SYN, 100, 0);
    send_pkt(r, t + 0.01, 2, 80, 1, cport, SYN | ACK, 500, 0);
    send_data(r, t + 0.02, 1, cport, 2, 80, ACK | PSH, 101, req, sizeof(req) - 1);
    send_data(r, t + 0.03, 2, 80, 1, cport, ACK | PSH, 501, res, sizeof(res) - 1);
}

/*
 * A connection that is over (FIN both ways with every byte read, or a RST)
 * gives its dissector state back at once, though the flow lingers for late
 * packets (flows.tcp_close_linger): they count in the flow, and no longer go
 * through reassembly (reassembly.segments). A half-closed one keeps it.
 */
static void test_dissector_state_ends_with_the_connection(void)
{
    enum { REQ = 27, RES = 27 }; /* the lengths of http_exchange's messages */
    const char *const set[] = { "dissect.protocols", "http", NULL };
    struct run r;
    run_start(&r, set);
    http_exchange(&r, 0.0, 40010); /* closed both ways, then its last ACK */
    send_pkt(&r, 0.1, 1, 40010, 2, 80, FIN | ACK, 101 + REQ, 0);
    send_pkt(&r, 0.2, 2, 80, 1, 40010, FIN | ACK, 501 + RES, 0);
    send_pkt(&r, 0.25, 1, 40010, 2, 80, ACK, 102 + REQ, 0);
    http_exchange(&r, 0.3, 40011); /* half-closed, then an ACK */
    send_pkt(&r, 0.4, 1, 40011, 2, 80, FIN | ACK, 101 + REQ, 0);
    send_pkt(&r, 0.45, 2, 80, 1, 40011, ACK, 501 + RES, 0);
    http_exchange(&r, 0.5, 40012); /* reset, then a late ACK */
    send_pkt(&r, 0.6, 2, 80, 1, 40012, RST | ACK, 501 + RES, 0);
    send_pkt(&r, 0.65, 1, 40012, 2, 80, ACK, 101 + REQ, 0);
    run_end(&r);
    /* SYN, SYN-ACK, GET and 204 each, then 2 FINs (A), a FIN and an ACK (B), a RST (C) */
    CHECK_EQ(field(r.text, "\"event_type\":\"stats\"", 0, "reassembly.segments"), 3 * 4 + 5);
    /* SYN, GET, FIN and the late ACK */
    CHECK_EQ(field(r.text,
                   "\"id.orig_p\":40010,\"id.resp_h\":\"10.0.0.2\",\"id.resp_p\":80,"
                   "\"proto\":\"tcp\",\"ip_proto\"",
                   0, "orig_pkts"),
             4);
    CHECK_EQ(count(r.text, "\"event_type\":\"http\""), 3);
    CHECK_EQ(count(r.text, "\"status_code\":204"), 3);
    free(r.text);
}

/* Sends one message of a connection on client port cport, advancing its sequence number. */
static void send_msg(struct run *r, double t, uint16_t cport, int from_server, uint32_t *seq,
                     const char *msg)
{
    uint32_t n = (uint32_t)strlen(msg);
    if (from_server)
        send_data(r, t, 2, 80, 1, cport, ACK | PSH, *seq, msg, n);
    else
        send_data(r, t, 1, cport, 2, 80, ACK | PSH, *seq, msg, n);
    *seq += n;
}

/*
 * A keep-alive connection's HTTP state rests between its exchanges: with room
 * for one state, two connections that take turns are both read whole, each
 * request at its depth, and no state is shed for the other's. A's first
 * request waits for 100 Continue before its body, which has its framing read
 * two ways (http_alt_start): that does not keep its state from resting.
 */
static void test_state_rests_between_requests(void)
{
    static const char get[] = "GET / HTTP/1.1\r\nHost: a\r\n\r\n";
    static const char post[] = "POST / HTTP/1.1\r\nHost: a\r\nExpect: 100-continue\r\n"
                               "Content-Length: 2\r\n\r\n";
    static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
    static const char res[] = "HTTP/1.1 204 No Content\r\n\r\n";
    /* memory.max_bytes: its dissector share (35%) holds one HTTP state (3.2 KB), not two */
    const char *const set[] = { "dissect.protocols", "http", "memory.max_bytes", "14000", NULL };
    uint32_t cseq[2] = { 101, 101 }, sseq[2] = { 501, 501 };
    struct run r;
    run_start(&r, set);
    for (int i = 0; i < 2; i++) {
        uint16_t cport = (uint16_t)(40020 + i);
        send_pkt(&r, 0.1 * i, 1, cport, 2, 80, SYN, 100, 0);
        send_pkt(&r, 0.1 * i + 0.01, 2, 80, 1, cport, SYN | ACK, 500, 0);
    }
    send_msg(&r, 1.0, 40020, 0, &cseq[0], post);
    send_msg(&r, 1.01, 40020, 1, &sseq[0], cont);
    send_msg(&r, 1.02, 40020, 0, &cseq[0], "hi");
    send_msg(&r, 1.03, 40020, 1, &sseq[0], res);
    for (int turn = 1; turn < 4; turn++) { /* B, A, B */
        int i = turn % 2;
        uint16_t cport = (uint16_t)(40020 + i);
        send_msg(&r, 1.0 + 0.1 * turn, cport, 0, &cseq[i], get);
        send_msg(&r, 1.01 + 0.1 * turn, cport, 1, &sseq[i], res);
    }
    run_end(&r);
    CHECK_EQ(count(r.text, "\"event_type\":\"http\""), 4);
    CHECK_EQ(count(r.text, "\"trans_depth\":2"), 2);
    CHECK_EQ(count(r.text, "\"method\":\"POST\""), 1);
    CHECK_EQ(field(r.text, "\"event_type\":\"stats\"", 0, "dissect.memory_shed"), 0);
    free(r.text);

    /* The control: the budget does hold only one state - two requests waiting at once shed one */
    run_start(&r, set);
    for (int i = 0; i < 2; i++) {
        uint16_t cport = (uint16_t)(40020 + i);
        uint32_t seq = 101;
        send_pkt(&r, 0.1 * i, 1, cport, 2, 80, SYN, 100, 0);
        send_pkt(&r, 0.1 * i + 0.01, 2, 80, 1, cport, SYN | ACK, 500, 0);
        send_msg(&r, 0.1 * i + 0.02, cport, 0, &seq, get);
    }
    run_end(&r);
    CHECK_EQ(field(r.text, "\"event_type\":\"stats\"", 0, "dissect.memory_shed"), 1);
    free(r.text);
}

/*
 * Only the server's side is in the capture (asymmetric routing): after a hole,
 * its bytes wait for reassembly.max_unacked (16 KiB), not until the flow ends;
 * 0 turns that off.
 */
static void test_one_way_hole(void)
{
    static const char head[] = "HTTP/1.1 200 OK\r\nContent-Length: 30000\r\n\r\n";
    for (int off = 0; off < 2; off++) {
        const char *const set[] = { "dissect.protocols", "http", "reassembly.max_unacked",
                                    off ? "0" : "16384", NULL };
        struct run r;
        run_start(&r, set);
        uint32_t seq = 501;
        send_data(&r, 0.0, 2, 80, 1, 40030, ACK | PSH, seq, head, sizeof(head) - 1);
        seq += (uint32_t)sizeof(head) - 1 + 1000; /* the hole */
        for (int i = 0; i < 20; i++, seq += 1000)
            send_pkt(&r, 0.01 * (i + 1), 2, 80, 1, 40030, ACK | PSH, seq, 1000);
        run_end(&r);
        const char *stats = "\"event_type\":\"stats\"";
        CHECK_EQ(field(r.text, stats, 0, "reassembly.max_unacked_capped"), off ? 0 : 1);
        CHECK_EQ(field(r.text, stats, 0, "reassembly.gaps"), 1);
        CHECK_EQ(field(r.text, stats, 0, "reassembly.gap_bytes"), 1000);
        CHECK_EQ(count(r.text, "\"event_type\":\"http\""), 1);
        free(r.text);
    }
}

/*
 * The flow-key hash spreads keys that differ in little (one client, its ports)
 * evenly over a table's buckets and over two workers, changes with any bit of
 * the key, and with the seed; the same seed gives the same hash. The fixed
 * hash (workers, the coordinator's order) is the keyed one under its seed.
 */
static void test_key_hash_spreads(void)
{
    enum { BITS = 16, N = 1 << BITS };
    static uint16_t load[N];
    struct tl_hash_secret fixed;
    tl_hash_secret_init(&fixed, 0x7461706c696e65ULL);
    for (uint64_t seed = 1; seed <= 3; seed++) {
        struct tl_hash_secret ks, other;
        tl_hash_secret_init(&ks, seed);
        tl_hash_secret_init(&other, seed + 100);
        memset(load, 0, sizeof(load));
        unsigned odd = 0, odd_fixed = 0, peak = 0, same_other = 0;
        for (unsigned i = 0; i < N; i++) {
            struct tl_fkey k = { .pa = (uint16_t)(1024 + i % 4096), .pb = 443, .proto = 6 };
            k.a[10] = k.a[11] = k.b[10] = k.b[11] = 0xff;
            k.a[12] = 10;
            k.a[15] = (uint8_t)(i / 4096);
            k.b[12] = 192;
            uint64_t h = tl_hash48(&k, &ks);
            CHECK_EQ(h, tl_hash48(&k, &ks));
            same_other += h == tl_hash48(&k, &other);
            odd += h & 1;
            odd_fixed += tl_fkey_fixed(&k) & 1;
            if (++load[h & (N - 1)] > peak)
                peak = load[h & (N - 1)];
            if (i % 1000 == 0)
                CHECK_EQ(tl_fkey_fixed(&k), tl_hash48(&k, &fixed));
        }
        /* a Poisson(1) bucket over 65,536 reaches 8 or 9; a weak hash chains by the hundred */
        CHECK(peak <= 12);
        CHECK(odd > N / 2 - N / 50 && odd < N / 2 + N / 50); /* two workers: within 2% */
        CHECK(odd_fixed > N / 2 - N / 50 && odd_fixed < N / 2 + N / 50);
        CHECK_EQ(same_other, 0);
        struct tl_fkey k = { .pa = 40000, .pb = 53, .proto = 17 };
        uint64_t h = tl_hash48(&k, &ks);
        for (size_t bit = 0; bit < 8 * sizeof(k); bit++) {
            struct tl_fkey f = k;
            ((uint8_t *)&f)[bit / 8] ^= (uint8_t)(1u << bit % 8);
            CHECK(tl_hash48(&f, &ks) != h);
        }
    }
}

/* A DNS query for name (id), or its answer when answer is set; returns the length. */
static unsigned dns_msg(uint8_t *b, uint16_t id, const char *name, bool answer)
{
    static const uint8_t a_in[] = { 0, 1, 0, 1 };
    unsigned n = 12;
    put16(b, id);
    put16(b + 2, answer ? 0x8180 : 0x0100);
    put16(b + 4, 1);
    put16(b + 6, answer);
    for (const char *l = name; *l;) {
        size_t len = strcspn(l, ".");
        b[n++] = (uint8_t)len;
        memcpy(b + n, l, len);
        n += (unsigned)len;
        l += len + (l[len] == '.');
    }
    b[n++] = 0;
    memcpy(b + n, a_in, 4);
    n += 4;
    if (answer) {
        static const uint8_t rr[] = { 0xc0, 12, 0, 1, 0, 1, 0, 0, 0, 60, 0, 4, 192, 0, 2, 1 };
        memcpy(b + n, rr, sizeof(rr));
        n += sizeof(rr);
    }
    return n;
}

/*
 * Answers of different flows at the same microsecond reach the domain
 * statistics in an order that depends on the flows alone, not on the seed of
 * the flow table's hash: each event's domain_requests_24h is the same whatever
 * the seed.
 */
static void test_simultaneous_flows_same_statistics(void)
{
    char *first = NULL;
    for (int seed = 1; seed <= 8; seed++) {
        char seedtext[12];
        snprintf(seedtext, sizeof(seedtext), "%d", seed);
        const char *const set[] = { "flows.hash_seed", seedtext, NULL };
        struct run r;
        run_start(&r, set);
        for (int phase = 0; phase < 2; phase++)
            for (uint16_t i = 0; i < 6; i++) {
                uint8_t m[128] = { 0 };
                unsigned n = dns_msg(m, (uint16_t)(100 + i), "www.example.org", phase);
                if (phase)
                    send_data(&r, 1.001, 2, 53, 1, (uint16_t)(50000 + i), UDP, 0, m, n);
                else
                    send_data(&r, 1.0, 1, (uint16_t)(50000 + i), 2, 53, UDP, 0, m, n);
            }
        run_end(&r);
        CHECK_EQ(count(r.text, "\"event_type\":\"dns\""), 6);
        CHECK_EQ(count(r.text, "\"status\":\"ok\""), 6);
        CHECK_EQ(count(r.text, "\"domain_requests_24h\":6"), 1);
        if (!first) {
            first = r.text;
        } else {
            /* the lines before the stats event: the same text in the same order */
            const char *end_a = strstr(first, "\"event_type\":\"stats\"");
            const char *end_b = strstr(r.text, "\"event_type\":\"stats\"");
            CHECK(end_a && end_b && end_a - first == end_b - r.text &&
                  memcmp(first, r.text, (size_t)(end_a - first)) == 0);
            free(r.text);
        }
    }
    free(first);
}

const struct tl_test tl_tests_flows[] = {
    { "tcp_normal_close", test_tcp_normal_close },
    { "syn_ack_first_flips", test_syn_ack_first_flips },
    { "reply_first_flips", test_reply_first_flips },
    { "rejected", test_rejected },
    { "syn_timeout_and_reuse", test_syn_timeout_and_reuse },
    { "udp_timeout_configurable", test_udp_timeout_configurable },
    { "active_timeout", test_active_timeout },
    { "eviction_cap", test_eviction_cap },
    { "icmp_echo_pairs", test_icmp_echo_pairs },
    { "fragments_reach_the_flow", test_fragments_reach_the_flow },
    { "service", test_service },
    { "pinned_packets", test_pinned_packets },
    { "live_burst", test_live_burst },
    { "tunnel_keys", test_tunnel_keys },
    { "probe", test_probe },
    { "handover", test_handover },
    { "giveup_flush", test_giveup_flush },
    { "dissector_state_ends_with_the_connection", test_dissector_state_ends_with_the_connection },
    { "state_rests_between_requests", test_state_rests_between_requests },
    { "one_way_hole", test_one_way_hole },
    { "key_hash_spreads", test_key_hash_spreads },
    { "simultaneous_flows_same_statistics", test_simultaneous_flows_same_statistics },
    { 0 },
};
