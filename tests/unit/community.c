/*
 * community.c - Community ID v1 against the spec's published baseline and
 * against ids Arkime computed for real flows; uid formatting.
 */
#include <arpa/inet.h>
#include <stdlib.h>

#include "check.h"
#include "flow.h"

struct cid_case {
    uint16_t seed;
    uint8_t proto;
    const char *saddr, *daddr;
    uint16_t sport,
        dport; /* ICMP: type and code (or the counterpart type, as the baseline lists) */
    const char *want;
};

/*
 * corelight/community-id-spec baseline/baseline_deflt.json (seed 0) and
 * baseline/baseline_seed1.json (seed 1), commit c4ec2bc4: every row, both directions.
 */
static const struct cid_case cid_baseline[] = {
    { 0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136,
      "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=" },
    { 0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135,
      "1:dGHyGvjMfljg6Bppwm3bg0LO8TY=" },
    { 0, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136,
      "1:zavyT/cezQr1fmImYCwYnMXbgck=" },
    { 0, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135,
      "1:zavyT/cezQr1fmImYCwYnMXbgck=" },
    { 0, 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
      "1:2ObVBgIn28oZvibYZhZMBgh7WdQ=" },
    { 0, 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
      "1:hLZd0XGWojozrvxqE0dWB1iM6R0=" },
    { 0, 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129,
      "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=" },
    { 0, 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128,
      "1:+TW+HtLHvV1xnGhV1lv7XoJrqQg=" },
    { 0, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:hO+sN4H+MG5MY/8hIrXPqc4ZQz0=" },
    { 0, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:pkvHqCL88/tg1k4cPigmZXUtL00=" },
    { 0, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
    { 0, 1, "192.168.0.1", "192.168.0.89", 0, 8, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
    { 0, 1, "10.0.0.1", "10.0.0.2", 11, 0, "1:YHxtAirCG//0OzkcVAukqKQN9xM=" },
    { 0, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
      "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
    { 0, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
      "1:/qFaeAR+gFe1KYjMzVDsMv+wgU4=" },
    { 0, 132, "192.168.170.8", "192.168.170.56", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=" },
    { 0, 132, "192.168.170.56", "192.168.170.8", 7, 7, "1:MP2EtRCAUIZvTw6MxJHLV7N7JDs=" },
    { 0, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
    { 0, 6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:LQU9qZlK+B5F3KDmev6m5PMibrg=" },
    { 0, 17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
    { 0, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:d/FP5EW3wiY1vCndhwleRRKHowQ=" },
    { 0, 46, "10.1.12.1", "10.1.12.2", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
    { 0, 46, "10.1.12.2", "10.1.12.1", 0, 0, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
    { 1, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 135, 136,
      "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=" },
    { 1, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 136, 135,
      "1:kHa1FhMYIT6Ym2Vm2AOtoOARDzY=" },
    { 1, 58, "fe80::260:97ff:fe07:69ea", "fe80::200:86ff:fe05:80da", 135, 136,
      "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=" },
    { 1, 58, "fe80::200:86ff:fe05:80da", "fe80::260:97ff:fe07:69ea", 136, 135,
      "1:2hSqmsDZ2kdcY9kbiUzOEBic0iM=" },
    { 1, 58, "3ffe:501:1800:2345::2", "3ffe:507:0:1:200:86ff:fe05:80da", 3, 0,
      "1:lVEtCZpYu84Xqaa++3lXFyuu2n4=" },
    { 1, 58, "3ffe:501:410:0:2c0:dfff:fe47:33e", "3ffe:507:0:1:200:86ff:fe05:80da", 1, 4,
      "1:W8MHwXpWzpoSTD+cGcaJr4u0ys8=" },
    { 1, 58, "3ffe:507:0:1:200:86ff:fe05:80da", "3ffe:501:0:1001::2", 128, 129,
      "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=" },
    { 1, 58, "3ffe:501:0:1001::2", "3ffe:507:0:1:200:86ff:fe05:80da", 129, 128,
      "1:GfZxjAkDk2MkegpBYHV6tadtFXQ=" },
    { 1, 58, "fe80::200:86ff:fe05:80da", "ff02::2", 133, 134, "1:L7Ka0ZMYu+J3bL4ulW2PrqyXNo8=" },
    { 1, 58, "fe80::260:97ff:fe07:69ea", "ff02::1", 134, 133, "1:K/ee5UCqAMAQXDorP5nSa2CGLjc=" },
    { 1, 1, "192.168.0.89", "192.168.0.1", 8, 0, "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
    { 1, 1, "192.168.0.1", "192.168.0.89", 0, 8, "1:03g6IloqVBdcZlPyX8r0hgoE7kA=" },
    { 1, 1, "10.0.0.1", "10.0.0.2", 11, 0, "1:XjUibYHaafLQ3pxQeiMI8g25q20=" },
    { 1, 6, "2001:470:e5bf:dead:4957:2174:e82c:4887", "2607:f8b0:400c:c03::1a", 63943, 25,
      "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
    { 1, 6, "2607:f8b0:400c:c03::1a", "2001:470:e5bf:dead:4957:2174:e82c:4887", 25, 63943,
      "1:eJYTW6AOzFLlSUoESovMjnu7rMw=" },
    { 1, 132, "192.168.170.8", "192.168.170.56", 7, 7, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
    { 1, 132, "192.168.170.56", "192.168.170.8", 7, 7, "1:5w3ZRjeKBzqT3zsaEECDGjUbYeg=" },
    { 1, 6, "128.232.110.120", "66.35.250.204", 34855, 80, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
    { 1, 6, "66.35.250.204", "128.232.110.120", 80, 34855, "1:3V71V58M3Ksw/yuFALMcW0LAHvc=" },
    { 1, 17, "192.168.1.52", "8.8.8.8", 54585, 53, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
    { 1, 17, "8.8.8.8", "192.168.1.52", 53, 54585, "1:Q9We8WO3piVF8yEQBNJF4uiSVrI=" },
    { 1, 46, "10.1.12.1", "10.1.12.2", 0, 0, "1:rYir8gphR31noO9iDRQmF/BteEI=" },
    { 1, 46, "10.1.12.2", "10.1.12.1", 0, 0, "1:rYir8gphR31noO9iDRQmF/BteEI=" },
};

/*
 * Flows from /work/shared/pcaps, tuple read with `tshark -T fields -e ip.src -e ipv6.src ...`,
 * expected id from Arkime's `network.community_id` in the *.arkime.test.json next to the pcap.
 */
static const struct cid_case cid_arkime[] = {
    /* http/arkime_http-100-continue.pcap: TCP over IPv6 */
    { 0, 6, "102:304:ef6e:0:586c:40b9:519f:7bae", "102:305:220:1:248:1893:25c8:1946", 61273, 80,
      "1:sUieXKbsJ2FhfxmjSMYdjlRe8x0=" },
    /* kerberos/arkime_krb5-udp.pcap: UDP */
    { 0, 17, "10.172.10.172", "10.150.10.150", 58412, 88, "1:37biltTX+G3ht//omeHKaBaSt6A=" },
    /* dns/arkime_dns-tcp.pcap: two TCP connections */
    { 0, 6, "10.180.156.141", "10.2.95.39", 49342, 53, "1:aiyyBmnGUlby3uK/mWpMfvJm2U4=" },
    { 0, 6, "10.2.95.39", "10.180.156.141", 53, 49343, "1:Ni+vClyYvGtwxC4Wu5dkGjaQ8ts=" },
    /* http/arkime_twovlan.pcap: TCP inside two 802.1Q tags (VLANs do not enter the id) */
    { 0, 6, "10.0.0.1", "10.0.0.2", 54422, 80, "1:SPYgVgvcW0g9bsfBLLnTtlWJezA=" },
};

static void cid_run(const struct cid_case *cs, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        const struct cid_case *c = &cs[i];
        uint8_t s[16], d[16];
        int ipv = strchr(c->saddr, ':') ? 6 : 4;
        int af = ipv == 6 ? AF_INET6 : AF_INET;
        CHECK(inet_pton(af, c->saddr, s) == 1 && inet_pton(af, c->daddr, d) == 1);
        /* Exact-size heap copies: the function must read only 4 bytes of an IPv4 address. */
        uint8_t *hs = tl_test_dup(s, ipv == 6 ? 16 : 4), *hd = tl_test_dup(d, ipv == 6 ? 16 : 4);
        char out[TL_CID_LEN];
        memset(out, 'x', sizeof(out));
        tl_community_id(out, c->seed, ipv, hs, hd, c->proto, c->sport, c->dport);
        if (strcmp(out, c->want) != 0)
            tl_check_report(__FILE__, __LINE__, "case %zu (%s -> %s proto %u seed %u): %s != %s", i,
                            c->saddr, c->daddr, c->proto, c->seed, out, c->want);
        free(hs);
        free(hd);
    }
}

static void test_spec_baseline(void)
{
    cid_run(cid_baseline, TL_ARRAY_LEN(cid_baseline));
}

static void test_arkime_flows(void)
{
    cid_run(cid_arkime, TL_ARRAY_LEN(cid_arkime));
}

/* Ports of port-less protocols never enter the hash; ICMP codes of two-way types neither. */
static void test_ignored_fields(void)
{
    static const struct cid_case cs[] = {
        { 0, 46, "10.1.12.1", "10.1.12.2", 1234, 99, "1:KHlLkgoJW7ifUTyTSgyVfkFHzKw=" },
        { 0, 1, "192.168.0.89", "192.168.0.1", 8, 5, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
        { 0, 1, "192.168.0.1", "192.168.0.89", 0, 3, "1:X0snYXpgwiv9TZtqg64sgzUn6Dk=" },
    };
    cid_run(cs, TL_ARRAY_LEN(cs));
}

/* A one-way ICMP type keeps its direction: the reverse tuple is a different flow. */
static void test_icmp_one_way(void)
{
    uint8_t a[4] = { 10, 0, 0, 1 }, b[4] = { 10, 0, 0, 2 };
    char fwd[TL_CID_LEN], rev[TL_CID_LEN];
    tl_community_id(fwd, 0, 4, a, b, 1, 11, 0);
    tl_community_id(rev, 0, 4, b, a, 1, 11, 0);
    CHECK_STR(fwd, "1:YHxtAirCG//0OzkcVAukqKQN9xM=");
    CHECK(strcmp(fwd, rev) != 0);
}

static void test_uid_format(void)
{
    static const uint64_t hs[] = { 0, 1, 61, 62, 0x0123456789abcdefULL, UINT64_MAX };
    char prev[TL_UID_LEN] = "";
    for (size_t i = 0; i < TL_ARRAY_LEN(hs); i++) {
        char a[TL_UID_LEN], b[TL_UID_LEN];
        tl_uid_format(a, hs[i]);
        tl_uid_format(b, hs[i]);
        CHECK_STR(a, b); /* deterministic */
        CHECK_EQ(strlen(a), 17);
        CHECK_EQ(a[0], 'C');
        for (size_t j = 1; j < strlen(a); j++)
            CHECK((a[j] >= '0' && a[j] <= '9') || (a[j] >= 'A' && a[j] <= 'Z') ||
                  (a[j] >= 'a' && a[j] <= 'z'));
        CHECK(strcmp(a, prev) != 0);
        memcpy(prev, a, sizeof(prev));
    }
    char u[TL_UID_LEN];
    tl_uid_format(u, 0);
    CHECK_MEM(u, 12, "C00000000000");
    tl_uid_format(u, 63); /* 63 = 1*62 + 1 */
    CHECK_MEM(u, 12, "C00000000011");
    tl_uid_format(u, UINT64_MAX); /* 2^64-1 in base 62 */
    CHECK_MEM(u, 12, "CLygHa16AHYF");
}

const struct tl_test tl_tests_community[] = {
    { "spec_baseline", test_spec_baseline },   { "arkime_flows", test_arkime_flows },
    { "ignored_fields", test_ignored_fields }, { "icmp_one_way", test_icmp_one_way },
    { "uid_format", test_uid_format },         { 0 },
};
