/*
 * http.c - the HTTP/1.x dissector: pairing, framing, caps, hashes, sniffing,
 * garbage and gaps, driven through dtest. The messages come from
 * pcaps/http-basic.pcap (nginx + curl) unless a case needs a crafted one.
 */
#include <stdlib.h>
#include <string.h>

#include "check.h"
#include "dtest.h"
#include "event.h"
#include "flow.h"

#define S(lit) lit, sizeof(lit) - 1

/* pcaps/http-basic.pcap, TCP stream 0: a keep-alive connection with 4 GETs. */
static const char get_root[] = "GET / HTTP/1.1\r\n"
                               "Host: www.tapline.test\r\n"
                               "User-Agent: curl/7.88.1\r\n"
                               "Accept: */*\r\n"
                               "\r\n";
static const char resp_root[] = "HTTP/1.1 200 OK\r\n"
                                "Server: nginx\r\n"
                                "Date: Wed, 25 Nov 2026 11:15:03 GMT\r\n"
                                "Content-Type: text/html\r\n"
                                "Content-Length: 154\r\n"
                                "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
                                "Connection: keep-alive\r\n"
                                "ETag: \"6955b900-9a\"\r\n"
                                "Accept-Ranges: bytes\r\n"
                                "\r\n"
                                "<!DOCTYPE html>\n"
                                "<html><head><title>tapline test page</title></head>\n"
                                "<body><h1>tapline</h1><p>A small page served for the capture "
                                "tests.</p></body></html>\n";
static const char get_pixel[] = "GET /pixel.png HTTP/1.1\r\n"
                                "Host: www.tapline.test\r\n"
                                "User-Agent: curl/7.88.1\r\n"
                                "Accept: */*\r\n"
                                "\r\n";
static const char resp_pixel[] =
    "HTTP/1.1 200 OK\r\n"
    "Server: nginx\r\n"
    "Date: Wed, 25 Nov 2026 11:15:03 GMT\r\n"
    "Content-Type: image/png\r\n"
    "Content-Length: 70\r\n"
    "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
    "Connection: keep-alive\r\n"
    "ETag: \"6955b900-46\"\r\n"
    "Accept-Ranges: bytes\r\n"
    "\r\n"
    "\211PNG\r\n\032\n"
    "\000\000\000\rIHDR\000\000\000\001\000\000\000\001\010\006\000\000\000\037\025\304\211\000\000"
    "\000\rIDATx\332cd\370\317P\017\000\003\206\001\200Z4}k\000\000\000\000IEND\256B`\202";
static const char get_missing[] = "GET /missing.html HTTP/1.1\r\n"
                                  "Host: www.tapline.test\r\n"
                                  "User-Agent: curl/7.88.1\r\n"
                                  "Accept: */*\r\n"
                                  "\r\n";
static const char resp_missing[] = "HTTP/1.1 404 Not Found\r\n"
                                   "Server: nginx\r\n"
                                   "Date: Wed, 25 Nov 2026 11:15:03 GMT\r\n"
                                   "Content-Type: text/html\r\n"
                                   "Content-Length: 146\r\n"
                                   "Connection: keep-alive\r\n"
                                   "\r\n"
                                   "<html>\r\n"
                                   "<head><title>404 Not Found</title></head>\r\n"
                                   "<body>\r\n"
                                   "<center><h1>404 Not Found</h1></center>\r\n"
                                   "<hr><center>nginx</center>\r\n"
                                   "</body>\r\n"
                                   "</html>\r\n";
/* Stream 1: HEAD. */
static const char head_pixel[] = "HEAD /pixel.png HTTP/1.1\r\n"
                                 "Host: www.tapline.test\r\n"
                                 "User-Agent: curl/7.88.1\r\n"
                                 "Accept: */*\r\n"
                                 "\r\n";
static const char resp_head[] = "HTTP/1.1 200 OK\r\n"
                                "Server: nginx\r\n"
                                "Date: Wed, 25 Nov 2026 11:15:03 GMT\r\n"
                                "Content-Type: image/png\r\n"
                                "Content-Length: 70\r\n"
                                "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
                                "Connection: keep-alive\r\n"
                                "ETag: \"6955b900-46\"\r\n"
                                "Accept-Ranges: bytes\r\n"
                                "\r\n";
/* Stream 2: POST with a body. */
static const char post_submit[] = "POST /submit HTTP/1.1\r\n"
                                  "Host: www.tapline.test\r\n"
                                  "User-Agent: tapline-test/1.0 (curl)\r\n"
                                  "Accept: */*\r\n"
                                  "Content-Type: application/x-www-form-urlencoded\r\n"
                                  "Content-Length: 21\r\n"
                                  "\r\n"
                                  "name=tapline&value=42";
static const char resp_created[] = "HTTP/1.1 201 Created\r\n"
                                   "Server: nginx\r\n"
                                   "Date: Wed, 25 Nov 2026 11:15:03 GMT\r\n"
                                   "Content-Type: text/plain\r\n"
                                   "Content-Length: 8\r\n"
                                   "Connection: keep-alive\r\n"
                                   "\r\n"
                                   "created\n";
/* Stream 4: Basic authorization user:pass. */
static const char get_private[] = "GET /private/ HTTP/1.1\r\n"
                                  "Host: www.tapline.test\r\n"
                                  "Authorization: Basic dXNlcjpwYXNz\r\n"
                                  "User-Agent: curl/7.88.1\r\n"
                                  "Accept: */*\r\n"
                                  "\r\n";
static const char resp_private[] = "HTTP/1.1 200 OK\r\n"
                                   "Server: nginx\r\n"
                                   "Date: Wed, 25 Nov 2026 11:15:03 GMT\r\n"
                                   "Content-Type: text/html\r\n"
                                   "Content-Length: 12\r\n"
                                   "Last-Modified: Thu, 01 Jan 2026 00:00:00 GMT\r\n"
                                   "Connection: keep-alive\r\n"
                                   "ETag: \"6955b900-c\"\r\n"
                                   "Accept-Ranges: bytes\r\n"
                                   "\r\n"
                                   "secret page\n";

/* Crafted: chunked both ways, with chunk extensions and trailers (RFC 9112 7.1). */
static const char post_chunked[] = "POST /up HTTP/1.1\r\n"
                                   "Host: h\r\n"
                                   "Transfer-Encoding: chunked\r\n"
                                   "\r\n"
                                   "4;a=b\r\n"
                                   "abcd\r\n"
                                   "0\r\n"
                                   "\r\n";
static const char resp_chunked[] = "HTTP/1.1 200 OK\r\n"
                                   "Content-Type: text/plain\r\n"
                                   "Transfer-Encoding: gzip, chunked\r\n"
                                   "\r\n"
                                   "5;name=\"v a l\"\r\n"
                                   "hello\r\n"
                                   "6 ; ext\r\n"
                                   " world\r\n"
                                   "0\r\n"
                                   "X-Checksum: 1\r\n"
                                   "X-More: 2\r\n"
                                   "\r\n";

#define HTML_MD5 "73c01a635540ee216f951c12f1527305"
#define HTML_SHA "bb62a6d9433699897df84c51f7e4cdfbd382ec4e23506ff9b7ffbf5bdfa98ef2"
#define PNG_MD5  "f829b914fc47cfc9c0747c119c27cf1b"
#define PNG_SHA  "6b7fa434f92a8b80aab02d9bf1a12e49ffcae424e4013a1c4f68b67e3d2bbcd0"

static void tcp(struct dtest *t, int dir, const char *p, size_t n)
{
    dtest_tcp(t, dir, 1000, p, n);
}

static bool has(const struct dtest *t, const char *needle)
{
    return dtest_count(t, needle) > 0;
}

static void test_get_content_length(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    CHECK_EQ(t.records, 0);
    tcp(&t, 1, S(resp_root));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"trans_depth\":1,"));
    CHECK(has(&t, "\"method\":\"GET\""));
    CHECK(has(&t, "\"host\":\"www.tapline.test\""));
    CHECK(has(&t, "\"uri\":\"/\""));
    CHECK(has(&t, "\"version\":\"1.1\""));
    CHECK(has(&t, "\"user_agent\":\"curl/7.88.1\""));
    CHECK(has(&t, "\"request_body_len\":0,"));
    CHECK(has(&t, "\"response_body_len\":154,"));
    CHECK(has(&t, "\"status_code\":200,"));
    CHECK(has(&t, "\"status_msg\":\"OK\""));
    CHECK(has(&t, "\"response_content_type\":\"text/html\""));
    CHECK(has(&t, "\"resp_mime\":\"text/html\""));
    CHECK(has(&t, "\"resp_md5\":\"" HTML_MD5 "\""));
    CHECK(has(&t, "\"resp_sha256\":\"" HTML_SHA "\""));
    CHECK(has(&t, "\"status\":\"ok\""));
    CHECK(!has(&t, "value_capped"));
    CHECK(!has(&t, "info_code"));
    CHECK_EQ(t.counters[TL_DC_MESSAGES], 2);
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 0);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    dtest_free(&t);
}

static void test_keepalive(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S(resp_root));
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S(resp_pixel));
    tcp(&t, 0, S(get_missing));
    tcp(&t, 1, S(resp_missing));
    CHECK_EQ(t.records, 3);
    CHECK(has(&t, "\"trans_depth\":2,\"method\":\"GET\",\"host\":\"www.tapline.test\","
                  "\"uri\":\"/pixel.png\""));
    CHECK(has(&t, "\"resp_mime\":\"image/png\""));
    CHECK(has(&t, "\"response_body_len\":70,"));
    CHECK(has(&t, "\"resp_md5\":\"" PNG_MD5 "\""));
    CHECK(has(&t, "\"resp_sha256\":\"" PNG_SHA "\""));
    CHECK(has(&t, "\"trans_depth\":3,"));
    CHECK(has(&t, "\"status_code\":404,\"status_msg\":\"Not Found\""));
    dtest_end(&t);
    CHECK_EQ(t.records, 3);
    dtest_free(&t);
}

static void test_pipelining(void)
{
    char req[1024], resp[2048];
    size_t rn = 0, sn = 0;
    memcpy(req + rn, S(get_root)), rn += sizeof(get_root) - 1;
    memcpy(req + rn, S(get_pixel)), rn += sizeof(get_pixel) - 1;
    memcpy(req + rn, S(get_missing)), rn += sizeof(get_missing) - 1;
    memcpy(resp + sn, S(resp_root)), sn += sizeof(resp_root) - 1;
    memcpy(resp + sn, S(resp_pixel)), sn += sizeof(resp_pixel) - 1;
    memcpy(resp + sn, S(resp_missing)), sn += sizeof(resp_missing) - 1;

    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, req, rn);
    CHECK_EQ(t.records, 0);
    tcp(&t, 1, resp, sn);
    CHECK_EQ(t.records, 3);
    CHECK(has(&t, "\"trans_depth\":1,\"method\":\"GET\",\"host\":\"www.tapline.test\","
                  "\"uri\":\"/\",\"version\":\"1.1\""));
    CHECK(has(&t, "\"uri\":\"/pixel.png\",\"version\":\"1.1\",\"user_agent\":\"curl/7.88.1\","
                  "\"request_body_len\":0,\"response_body_len\":70,\"status_code\":200"));
    CHECK(has(&t, "\"uri\":\"/missing.html\",\"version\":\"1.1\",\"user_agent\":\"curl/7.88.1\","
                  "\"request_body_len\":0,\"response_body_len\":146,\"status_code\":404"));
    const char *first = strstr(t.out.p, "\"uri\":\"/\"");
    const char *last = strstr(t.out.p, "/missing.html");
    CHECK(first && last && first < last);
    dtest_free(&t);
}

/* The pending queue: max_pipeline 2, so the oldest is written alone and so is its response. */
static void test_max_pending(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    t.limits.max_pipeline = 2;
    tcp(&t, 0, S(get_root));
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 0, S(get_missing));
    CHECK_EQ(t.records, 1); /* GET / alone */
    CHECK(has(&t, "\"reply_status\":\"pending_capped\""));
    tcp(&t, 1, S(resp_root));
    tcp(&t, 1, S(resp_pixel));
    tcp(&t, 1, S(resp_missing));
    CHECK_EQ(t.records, 4);
    CHECK_EQ(dtest_count(&t, "\"method\""), 3);
    CHECK(has(&t, "\"reply_status\":\"request_written_early\""));
    CHECK_EQ(dtest_count(&t, "\"reply_status\""), 2);
    CHECK(has(&t, "\"uri\":\"/pixel.png\",\"version\":\"1.1\",\"user_agent\":\"curl/7.88.1\","
                  "\"request_body_len\":0,\"response_body_len\":70,"));
    CHECK(has(&t, "\"uri\":\"/missing.html\",\"version\":\"1.1\",\"user_agent\":\"curl/7.88.1\","
                  "\"request_body_len\":0,\"response_body_len\":146,"));
    CHECK(t.counters[TL_DC_CAPPED] >= 1);
    dtest_free(&t);
}

static void test_head(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(head_pixel));
    tcp(&t, 1, S(resp_head));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"method\":\"HEAD\""));
    CHECK(has(&t, "\"response_body_len\":0,\"status_code\":200"));
    CHECK(has(&t, "\"response_content_type\":\"image/png\""));
    CHECK(!has(&t, "resp_md5"));
    CHECK(!has(&t, "resp_mime"));
    /* The next message on the connection is a status line again, not body. */
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S(resp_pixel));
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"resp_md5\":\"" PNG_MD5 "\""));
    dtest_free(&t);
}

static void test_204_304(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("DELETE /x HTTP/1.1\r\nHost: h\r\n\r\nGET /y HTTP/1.1\r\nHost: h\r\n\r\n"));
    tcp(&t, 1,
        S("HTTP/1.1 204 No Content\r\nContent-Length: 5\r\n\r\n"
          "HTTP/1.1 304 Not Modified\r\nContent-Length: 154\r\n\r\n"));
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"response_body_len\":0,\"status_code\":204"));
    CHECK(has(&t, "\"response_body_len\":0,\"status_code\":304"));
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S(resp_root));
    CHECK_EQ(t.records, 3);
    CHECK(has(&t, "\"trans_depth\":3,"));
    CHECK(has(&t, "\"resp_md5\":\"" HTML_MD5 "\""));
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 0);
    dtest_free(&t);
}

static void test_continue(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0,
        S("POST /form HTTP/1.1\r\nHost: h\r\nContent-Length: 6\r\n"
          "Expect: 100-continue\r\n\r\n"));
    tcp(&t, 1, S("HTTP/1.1 100 Continue\r\n\r\n"));
    CHECK_EQ(t.records, 0);
    tcp(&t, 0, S("a=1&b2"));
    tcp(&t, 1, S(resp_created));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"request_body_len\":6,\"response_body_len\":8,\"status_code\":201,"
                  "\"status_msg\":\"Created\",\"info_code\":100,\"info_msg\":\"Continue\""));
    CHECK(has(&t, "\"trans_depth\":1,"));
    dtest_free(&t);
}

static void test_chunked(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(post_chunked));
    tcp(&t, 1, S(resp_chunked));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"request_body_len\":4,\"response_body_len\":11,"));
    CHECK(has(&t, "\"resp_md5\":\"5eb63bbbe01eeed093cb22bb8f5acdc3\"")); /* "hello world" */
    CHECK(has(&t, "\"resp_sha256\":"
                  "\"b94d27b9934d3e08a52e52d7da7dabfac484efe37a5380ee9088f7ace2efcde9\""));
    CHECK(has(&t, "\"resp_mime\":\"text/plain\""));
    CHECK(has(&t, "\"status\":\"ok\""));
    /* Keep-alive after the trailers. */
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S(resp_root));
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"trans_depth\":2,"));
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 0);
    dtest_free(&t);
}

static void test_bad_chunk(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n"));
    CHECK(t.gave_up);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"status\":\"malformed\""));
    CHECK_EQ(t.counters[TL_DC_GIVEUP], 1);
    dtest_free(&t);
}

static void test_close_delimited(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S("HTTP/1.0 200 OK\r\nContent-Type: application/json\r\n\r\n{\"a\":"));
    tcp(&t, 1, S("1}\n"));
    CHECK_EQ(t.records, 0);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"version\":\"1.0\""));
    CHECK(has(&t, "\"response_body_len\":8,"));
    CHECK(has(&t, "\"resp_mime\":\"text/json\""));
    CHECK(has(&t, "\"status\":\"ok\""));
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    dtest_free(&t);
}

static void test_unanswered_and_truncated(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S("HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nabc"));
    dtest_end(&t);
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"response_body_len\":3,\"status_code\":200"));
    CHECK(has(&t, "\"status\":\"truncated\""));
    CHECK(has(&t, "\"uri\":\"/pixel.png\",\"version\":\"1.1\",\"user_agent\":\"curl/7.88.1\","
                  "\"request_body_len\":0,\"response_body_len\":0,\"status\":\"ok\","
                  "\"reply_status\":\"flow_ended\""));
    CHECK(has(&t, "\"status\":\"truncated\",\"reply_status\":\"reply_cut\""));
    dtest_free(&t);
}

/* The stream of one side stops after k bytes at the flow's end: one record, saying so. */
static void test_cut_at_end(void)
{
    for (size_t k = 0; k < sizeof(get_root) - 1; k++) {
        struct dtest t;
        dtest_init(&t, &tl_http_dissector);
        tcp(&t, 0, get_root, k);
        dtest_end(&t);
        CHECK_EQ(t.records, k > 0);
        CHECK_EQ(dtest_count(&t, "\"status\":\"truncated\",\"reply_status\":\"flow_ended\""),
                 k > 0);
        if (k > 16) /* the request line is whole */
            CHECK(has(&t, "\"method\":\"GET\",") && has(&t, "\"uri\":\"/\",\"version\":\"1.1\""));
        dtest_free(&t);
    }
    for (size_t k = 0; k < sizeof(resp_root) - 1; k++) {
        struct dtest t;
        dtest_init(&t, &tl_http_dissector);
        tcp(&t, 0, S(get_root));
        tcp(&t, 1, resp_root, k);
        dtest_end(&t);
        CHECK_EQ(t.records, 1);
        CHECK(has(&t, "\"uri\":\"/\""));
        CHECK(has(&t, k ? "\"status\":\"truncated\",\"reply_status\":\"reply_cut\""
                        : "\"status\":\"ok\",\"reply_status\":\"flow_ended\""));
        if (k > 16)
            CHECK(has(&t, "\"status_code\":200"));
        CHECK(!t.gave_up);
        dtest_free(&t);
    }
}

/* Requests pipelined behind an Upgrade the server accepts are no longer HTTP. */
static void test_tunnel(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("GET /ws HTTP/1.1\r\nUpgrade: websocket\r\n\r\nGET /x HTTP/1.1\r\n\r\n"));
    tcp(&t, 1, S("HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\n\r\n\201\005hello"));
    CHECK(t.gave_up);
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"uri\":\"/ws\",\"version\":\"1.1\",\"request_body_len\":0,"
                  "\"response_body_len\":0,\"status_code\":101"));
    CHECK(has(&t, "\"uri\":\"/x\",\"version\":\"1.1\",\"request_body_len\":0,"
                  "\"response_body_len\":0,\"status\":\"ok\",\"reply_status\":\"tunnel\""));
    dtest_free(&t);
}

static void test_connect(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0,
        S("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n"
          "Proxy-Authorization: Basic dXNlcjpwYXNz\r\n\r\n\026\003\001\002\000"));
    CHECK(!t.gave_up);
    tcp(&t, 1, S("HTTP/1.1 200 Connection established\r\n\r\n\026\003\003\000\100"));
    CHECK(t.gave_up);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"method\":\"CONNECT\",\"host\":\"example.com:443\","
                  "\"uri\":\"example.com:443\""));
    CHECK(has(&t, "\"status_code\":200,\"status_msg\":\"Connection established\""));
    CHECK(has(&t, "\"status\":\"ok\""));
    CHECK_EQ(t.counters[TL_DC_GIVEUP], 1);
    tcp(&t, 0, S(get_root));
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    dtest_free(&t);

    /* Refused: the connection goes on as HTTP. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("CONNECT example.com:443 HTTP/1.1\r\nHost: example.com:443\r\n\r\n"));
    tcp(&t, 1, S("HTTP/1.1 407 Proxy Authentication Required\r\nContent-Length: 0\r\n\r\n"));
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S(resp_root));
    CHECK(!t.gave_up);
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"status_code\":407"));
    dtest_free(&t);
}

static void test_basic_auth(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_private));
    tcp(&t, 1, S(resp_private));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"auth_scheme\":\"Basic\",\"username\":\"user\""));
    CHECK(!has(&t, "pass"));
    CHECK(!has(&t, "dXNlcjpwYXNz"));
    dtest_free(&t);

    /* Zeek's basic-auth-with-colon: two spaces, and a colon inside the password. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0,
        S("GET / HTTP/1.1\r\nHost: 172.24.133.205:8000\r\n"
          "Authorization: Basic  dGVzdDoxOjM0\r\n\r\n"));
    tcp(&t, 1, S("HTTP/1.0 200 OK\r\nContent-Length: 0\r\n\r\n"));
    CHECK(has(&t, "\"username\":\"test\""));
    CHECK(has(&t, "\"version\":\"1.0\""));
    CHECK(has(&t, "\"host\":\"172.24.133.205:8000\""));
    CHECK(!has(&t, "1:34"));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0,
        S("GET / HTTP/1.1\r\nAuthorization: NTLM TlRMTVNTUAABAAAAB4IIog==\r\n\r\n"
          "GET / HTTP/1.1\r\nAuthorization: bearer abc.def\r\n\r\n"));
    dtest_end(&t);
    CHECK(has(&t, "\"auth_scheme\":\"NTLM\""));
    CHECK(has(&t, "\"auth_scheme\":\"Bearer\""));
    CHECK(!has(&t, "username"));
    dtest_free(&t);
}

static void test_proxied_and_fold(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0,
        S("GET http://www.example.com/a%20b?q=%41 HTTP/1.1\r\n"
          "Host: www.example.com\r\n"
          "User-Agent: Mozilla/5.0\r\n"
          "  (folded;\r\n"
          "\tcontinued)\r\n"
          "X-Forwarded-For: 192.0.2.1\r\n"
          "Via: 1.1 squid\r\n"
          "Referer: http://r/\r\n"
          "Origin: http://o\r\n"
          "Content-Type: text/plain\r\n"
          "Content-Length: 3\r\n"
          "\r\n"
          "abc"));
    tcp(&t, 1, S(resp_created));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"uri\":\"http://www.example.com/a b?q=A\""));
    CHECK(has(&t, "\"user_agent\":\"Mozilla/5.0 (folded; continued)\""));
    CHECK(has(&t, "\"referrer\":\"http://r/\""));
    CHECK(has(&t, "\"origin\":\"http://o\""));
    CHECK(has(&t, "\"xff\":\"192.0.2.1\""));
    CHECK(has(&t, "\"request_content_type\":\"text/plain\""));
    CHECK(has(&t, "\"request_body_len\":3,"));
    CHECK(has(&t, "\"proxied\":[\"X-FORWARDED-FOR -> 192.0.2.1\",\"VIA -> 1.1 squid\"]"));
    dtest_free(&t);
}

static void test_value_cap(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    t.limits.max_value_len = 16;
    tcp(&t, 0,
        S("GET /0123456789abcdefXYZ HTTP/1.1\r\n"
          "User-Agent: 0123456789abcdef-and-more\r\n\r\n"));
    tcp(&t, 1, S("HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"uri\":\"/0123456789abcde\""));
    CHECK(has(&t, "\"user_agent\":\"0123456789abcdef\""));
    CHECK(has(&t, "\"value_capped\":true"));
    CHECK(!has(&t, "and-more"));
    CHECK_EQ(t.counters[TL_DC_CAPPED], 2);
    dtest_free(&t);
}

/* A header block that never ends: bounded, flagged, given up. */
static void test_endless_headers(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("GET / HTTP/1.1\r\n"));
    char line[1024];
    memset(line, 'a', sizeof(line));
    memcpy(line, "X-Pad: ", 7);
    line[sizeof(line) - 2] = '\r';
    line[sizeof(line) - 1] = '\n';
    for (int i = 0; i < 80 && !t.gave_up; i++)
        tcp(&t, 0, line, sizeof(line));
    CHECK(t.gave_up);
    CHECK(t.stream_len[0] == 0);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"status\":\"malformed\""));
    CHECK(has(&t, "\"value_capped\":true"));
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 1);
    CHECK_EQ(t.counters[TL_DC_GIVEUP], 1);
    dtest_free(&t);
}

static void test_garbage(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("\026\003\001\002\000\001\000\001\374\003\003"));
    CHECK(t.gave_up); /* never was HTTP: not mine, no record */
    CHECK_EQ(t.records, 0);
    CHECK_EQ(t.counters[TL_DC_GIVEUP], 1);
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 0);
    dtest_free(&t);

    /* Binary after a good exchange: the pending request and a malformed one are written. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S(resp_root));
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 0, S("\377\364\377\375\006"));
    CHECK(t.gave_up);
    CHECK_EQ(t.records, 3);
    CHECK(has(&t, "\"trans_depth\":3,\"request_body_len\":0,\"response_body_len\":0,"
                  "\"status\":\"malformed\""));
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 1);
    dtest_end(&t);
    CHECK_EQ(t.records, 3);
    dtest_free(&t);

    /*
     * A first response that is not one: the pending request is written, flagged;
     * the capture may have missed the response's start, so the flow resyncs.
     */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S("SSH-2.0-OpenSSH_9.2\r\n"));
    CHECK(!t.gave_up);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"uri\":\"/\""));
    CHECK(has(&t, "\"status\":\"malformed\""));
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    dtest_free(&t);

    /* A later one that is not one: given up as before. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S(resp_root));
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S("SSH-2.0-OpenSSH_9.2\r\n"));
    CHECK(t.gave_up);
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"uri\":\"/pixel.png\",\"version\":\"1.1\",\"user_agent\":\"curl/7.88.1\","
                  "\"request_body_len\":0,\"response_body_len\":0,\"status\":\"malformed\""));
    dtest_free(&t);

    /* A control byte anywhere in the first line: never was HTTP, whatever follows. */
    static const struct {
        const char *p;
        size_t n;
    } binary[] = {
        { S("\377\330\377\340\000\020JFIF") },
        { S("abc def\001ghi\r\nGET / HTTP/1.1\r\n\r\n") },
        { S("<html>\000") },
        { S("GET /\033[1m HTTP/1.1\r\n\r\n") },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(binary); i++) {
        dtest_init(&t, &tl_http_dissector);
        tcp(&t, 0, binary[i].p, binary[i].n);
        CHECK(t.gave_up);
        CHECK_EQ(t.records, 0);
        CHECK_EQ(t.counters[TL_DC_GIVEUP], 1);
        dtest_free(&t);
    }

    /* Printable but not a request line (Zeek's methods.pcap): flagged, paired, kept going. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("OPTIONSHTTP/1.1\nHost: www.google.com\n\n"));
    tcp(&t, 1, S("HTTP/1.0 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad"));
    CHECK(!t.gave_up);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"version\":\"1.0\""));
    CHECK(has(&t, "\"status_code\":400"));
    CHECK(has(&t, "\"status\":\"malformed\""));
    dtest_free(&t);

    /* Bad status code. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S("HTTP/1.1 2000 OK\r\n\r\n"));
    CHECK(t.gave_up);
    CHECK(has(&t, "\"status\":\"malformed\""));
    dtest_free(&t);
}

static void test_lenient_request_lines(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0,
        S("\r\nOPTIONS * HTTP/1.1\nHost: www.google.com\n\n"
          "OPTIONS HTTP/1.1\r\n\r\n"
          "BREW /pot%zz HTTP/1.1\r\n\r\n"));
    tcp(&t, 1,
        S("HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n"
          "HTTP/1.0 400 Bad Request\r\nContent-Length: 0\r\n\r\n"
          "HTTP/1.1 418 I'm a teapot\r\nContent-Length: 0\r\n\r\n"));
    CHECK_EQ(t.records, 3);
    CHECK(has(&t, "\"method\":\"OPTIONS\",\"host\":\"www.google.com\",\"uri\":\"*\""));
    CHECK(has(&t, "\"trans_depth\":2,\"method\":\"OPTIONS\",\"version\":\"1.0\""));
    CHECK(has(&t, "\"method\":\"BREW\",\"uri\":\"/pot%zz\""));
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 0);
    dtest_free(&t);
}

static void test_http09(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("GET /cgi-bin/formmail.pl?email=f2@aol.com\r\n"));
    tcp(&t, 1, S("<HTML><HEAD><TITLE>404 Not Found</TITLE></HEAD>\n"));
    CHECK_EQ(t.records, 0);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"method\":\"GET\",\"uri\":\"/cgi-bin/formmail.pl?email=f2@aol.com\","
                  "\"version\":\"0.9\""));
    CHECK(has(&t, "\"response_body_len\":48,"));
    CHECK(has(&t, "\"resp_mime\":\"text/html\""));
    CHECK(!has(&t, "status_code"));
    CHECK(has(&t, "\"status\":\"ok\""));
    dtest_free(&t);
}

/* Zeek's methods.pcap: "GET /HTTP/1.1" is a simple request, and the lines after it its headers. */
static void test_http09_headers(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("CCM_POST /HTTP/1.1\r\nHost: www.google.com\r\n\r\n"));
    tcp(&t, 1, S("HTTP/1.0 400 Bad Request\r\nContent-Length: 3\r\n\r\nbad"));
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"method\":\"CCM_POST\",\"host\":\"www.google.com\",\"uri\":\"/HTTP/1.1\","
                  "\"version\":\"0.9\""));
    CHECK(has(&t, "\"response_body_len\":50,"));
    CHECK(has(&t, "\"resp_mime\":\"text/plain\""));
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 0);
    dtest_free(&t);
}

/*
 * Fuzz crash (split invariance): a blank line after a simple request returned OK
 * without consuming, so a whole delivery stalled while a cut one went on.
 */
static void test_fuzz_v09_blank_stall(void)
{
    static const char in[] = "J  m\377\n\nj\f\n\000\020a\000J";
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(in));
    CHECK(t.gave_up);
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"trans_depth\":2,\"request_body_len\":0,\"response_body_len\":0,"
                  "\"status\":\"malformed\""));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("GET /a\n\nGET /b HTTP/1.1\r\n\r\n"));
    CHECK_EQ(t.stream_len[0], 0);
    dtest_end(&t);
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"uri\":\"/b\",\"version\":\"1.1\""));
    dtest_free(&t);
}

static void test_body_hash_cap(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    t.limits.max_body_hash = 100;
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S(resp_pixel));
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S(resp_root));
    CHECK_EQ(t.records, 2);
    CHECK_EQ(dtest_count(&t, "resp_md5"), 1); /* the 70-byte PNG, not the 154-byte page */
    CHECK(has(&t, "\"resp_md5\":\"" PNG_MD5 "\""));
    CHECK(has(&t, "\"resp_mime\":\"text/html\""));
    dtest_free(&t);
}

/* A small Windows program: MZ header, DOS stub text, filler (119 bytes). */
static const char exe_body[] =
    "MZ\220\000\003\000\000\000\004\000\000\000\377\377\000\000This program cannot be run in DOS "
    "mode.\015\015\012$0123456789:;<=>?@ABCDEFGHIJKLMNOPQRSTUVWXYZ[\134]^_`abcdefghijk";
#define EXE_MD5    "e39522678a091cbfa8f64c13593ab514"
#define EXE_SHA1   "57e047c96cf5af06f8c9238819adddbbe64bf8e1"
#define EXE_SHA256 "e2408a285402120429aefe664184669cd82df3db78ff5fce5d6e62aff584e592"

/*
 * One exchange under the default policy (files, SHA-256) unless digests says otherwise: GET
 * uri, a 200 with the extra header lines and the body, the body sent 7 bytes at a time so that
 * the sniff bytes come in pieces. Returns the dtest for the caller to check and free.
 */
static void hash_case(struct dtest *t, unsigned policy, unsigned digests, const char *uri,
                      const char *headers, const char *body, size_t n)
{
    char msg[512];
    dtest_init(t, &tl_http_dissector);
    t->limits.body_hash = (uint8_t)policy;
    t->limits.body_digests = (uint8_t)digests;
    int k = snprintf(msg, sizeof(msg), "GET %s HTTP/1.1\r\nHost: h.test\r\n\r\n", uri);
    tcp(t, 0, msg, (size_t)k);
    k = snprintf(msg, sizeof(msg), "HTTP/1.1 200 OK\r\n%sContent-Length: %zu\r\n\r\n", headers, n);
    tcp(t, 1, msg, (size_t)k);
    for (size_t i = 0; i < n; i += 7)
        tcp(t, 1, body + i, n - i < 7 ? n - i : 7);
    dtest_end(t);
}

/* http.hash_bodies: files hashes programs, archives, documents and scripts, by their first
 * bytes or by what the response declares; pages, images and encoded bodies are not. */
static void test_hash_policy(void)
{
    struct dtest t;
    hash_case(&t, TL_HASH_FILES, TL_DIGEST_SHA256, "/dl",
              "Content-Type: application/octet-stream\r\n", S(exe_body));
    CHECK(has(&t, "\"resp_mime\":\"application/x-dosexec\""));
    CHECK(has(&t, "\"resp_sha256\":\"" EXE_SHA256 "\""));
    CHECK(!has(&t, "resp_md5") && !has(&t, "resp_sha1"));
    dtest_free(&t);

    hash_case(&t, TL_HASH_FILES, TL_DIGEST_SHA256, "/", "Content-Type: text/html\r\n",
              S("<!DOCTYPE html>\n<html><body>a page, not a file; nothing to hash here at all, "
                "whatever its length</body></html>\n"));
    CHECK(has(&t, "\"resp_mime\":\"text/html\"") && !has(&t, "resp_sha256"));
    dtest_free(&t);

    /* declared: by Content-Type, by the URI's extension; the bytes say nothing */
    hash_case(&t, TL_HASH_FILES, TL_DIGEST_SHA256, "/x", "Content-Type: application/pdf\r\n",
              S("hello"));
    CHECK(has(
        &t,
        "\"resp_sha256\":\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\""));
    dtest_free(&t);
    hash_case(&t, TL_HASH_FILES, TL_DIGEST_SHA256, "/setup.exe?v=2", "Content-Type: text/plain\r\n",
              S("hello"));
    CHECK(has(
        &t,
        "\"resp_sha256\":\"2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824\""));
    dtest_free(&t);

    /* a script shorter than the sniff bytes: decided, and hashed, when the body ends */
    hash_case(&t, TL_HASH_FILES, TL_DIGEST_SHA256, "/run", "Content-Type: text/plain\r\n",
              S("#!/bin/sh\necho hi\n"));
    CHECK(has(
        &t,
        "\"resp_sha256\":\"299001868fb8c02fd431c336c6d058f5558c5dff5b5af5e6fe04b870a6a9cbba\""));
    dtest_free(&t);

    /* gzip on the wire for a page: the gzip magic is the encoding's, not a file's */
    hash_case(&t, TL_HASH_FILES, TL_DIGEST_SHA256, "/",
              "Content-Type: text/html\r\nContent-Encoding: gzip\r\n",
              S("\037\213\010\000\000\000\000\000\000\003+I,\310\311\314K\005\000"));
    CHECK(!has(&t, "resp_sha256"));
    dtest_free(&t);

    /* the PNG of the capture: an image is no file to hash */
    hash_case(&t, TL_HASH_FILES, TL_DIGEST_SHA256, "/pixel.png", "Content-Type: image/png\r\n",
              resp_pixel + sizeof(resp_pixel) - 1 - 70, 70);
    CHECK(has(&t, "\"resp_mime\":\"image/png\"") && !has(&t, "resp_sha256"));
    dtest_free(&t);

    /* every digest on request; none at all */
    hash_case(&t, TL_HASH_FILES, TL_DIGEST_MD5 | TL_DIGEST_SHA1 | TL_DIGEST_SHA256, "/dl", "",
              S(exe_body));
    CHECK(has(&t, "\"resp_md5\":\"" EXE_MD5 "\",\"resp_sha1\":\"" EXE_SHA1
                  "\",\"resp_sha256\":\"" EXE_SHA256 "\""));
    dtest_free(&t);
    hash_case(&t, TL_HASH_NONE, TL_DIGEST_SHA256, "/setup.exe", "", S(exe_body));
    CHECK(has(&t, "\"response_body_len\":119") && !has(&t, "resp_sha256"));
    dtest_free(&t);
    hash_case(&t, TL_HASH_ALL, TL_DIGEST_SHA1, "/", "Content-Type: text/plain\r\n", S("hello"));
    CHECK(has(&t, "\"resp_sha1\":\"aaf4c61ddcc5e8a2dabede0f3b482cd9aea9434d\""));
    dtest_free(&t);
}

/* The option words reach the limits through one parser each; config.c refuses the rest. */
/* Digests and certificate hashes are written as lower-case hex. */
static void test_hex(void)
{
    static const uint8_t bytes[] = { 0x00, 0x0f, 0xa5, 0xff, 0x10 };
    char out[2 * sizeof(bytes) + 1];
    tl_hex(out, bytes, sizeof(bytes));
    CHECK_STR(out, "000fa5ff10");
    tl_hex(out, bytes, 0);
    CHECK_STR(out, "");
}

static void test_hash_options(void)
{
    CHECK_EQ(tl_body_hash_parse("files"), TL_HASH_FILES);
    CHECK_EQ(tl_body_hash_parse("all"), TL_HASH_ALL);
    CHECK_EQ(tl_body_hash_parse("none"), TL_HASH_NONE);
    CHECK_EQ(tl_body_hash_parse("some"), -1);
    CHECK_EQ(tl_digests_parse("sha256"), TL_DIGEST_SHA256);
    CHECK_EQ(tl_digests_parse("md5, sha1,sha256"),
             TL_DIGEST_MD5 | TL_DIGEST_SHA1 | TL_DIGEST_SHA256);
    CHECK_EQ(tl_digests_parse("sha512"), -1);
    CHECK_EQ(tl_digests_parse(""), -1);
}

static void test_mime(void)
{
    static const struct {
        const char *body;
        size_t len;
        const char *want;
    } cases[] = {
        { S("MZ\220\000\003\000\000\000"), "\"resp_mime\":\"application/x-dosexec\"" },
        { S("\177ELF\002\001\001\000\000\000\000\000\000\000\000\000\002\000>\000"),
          "\"resp_mime\":\"application/x-executable\"" },
        { S("PK\003\004\024\000\000\000"), "\"resp_mime\":\"application/zip\"" },
        { S("%PDF-1.7\n%\342\343"), "\"resp_mime\":\"application/pdf\"" },
        { S("\037\213\010\000\000\000\000\000"), "\"resp_mime\":\"application/x-gzip\"" },
        { S("GIF89a\001\000\001\000"), "\"resp_mime\":\"image/gif\"" },
        { S("\377\330\377\340\000\020JFIF"), "\"resp_mime\":\"image/jpeg\"" },
        { S("  <!doctype HTML><p>x"), "\"resp_mime\":\"text/html\"" },
        { S("[1, 2, 3]"), "\"resp_mime\":\"text/json\"" },
        { S("<?xml version=\"1.0\"?><a/>"), "\"resp_mime\":\"application/xml\"" },
        { S("body { color: red }\n"), "\"resp_mime\":\"text/plain\"" },
        { S("\000\001\002\003binary"), NULL },
        { S("caf\303\251"), NULL },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        char resp[256];
        int n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n",
                         cases[i].len);
        memcpy(resp + n, cases[i].body, cases[i].len);
        struct dtest t;
        dtest_init(&t, &tl_http_dissector);
        tcp(&t, 0, S(get_root));
        tcp(&t, 1, resp, (size_t)n + cases[i].len);
        CHECK_EQ(t.records, 1);
        if (cases[i].want)
            CHECK(has(&t, cases[i].want));
        else
            CHECK(!has(&t, "resp_mime"));
        dtest_free(&t);
    }
}

static void test_gaps(void)
{
    /* In a body of known length: skipped, still in sync, no hash. */
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, resp_root, sizeof(resp_root) - 1 - 154 + 20);
    dtest_gap(&t, 1, 100);
    tcp(&t, 1, resp_root + sizeof(resp_root) - 1 - 34, 34);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"response_body_len\":154,"));
    CHECK(!has(&t, "resp_md5"));
    CHECK(has(&t, "\"resp_mime\":\"text/html\""));
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S(resp_pixel));
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"resp_md5\":\"" PNG_MD5 "\""));
    CHECK_EQ(t.counters[TL_DC_GAPS], 1); /* counted once, by the caller (dtest) */
    CHECK(!t.gave_up);
    dtest_free(&t);

    /*
     * In a header block: the pending request is written alone, the rest of the
     * lost one skipped; the answer to it comes alone, and the next pair is
     * read again, flagged.
     */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 0, S("GET /b HTTP/1.1\r\nHo"));
    dtest_gap(&t, 0, 50);
    CHECK_EQ(t.records, 2); /* the cut one too */
    CHECK(has(&t, "\"uri\":\"/\",\"version\":\"1.1\",\"user_agent\":\"curl/7.88.1\","
                  "\"request_body_len\":0,\"response_body_len\":0,\"status\":\"ok\","
                  "\"reply_status\":\"request_gap\""));
    CHECK(has(&t,
              "\"uri\":\"/b\",\"version\":\"1.1\",\"request_body_len\":0,"
              "\"response_body_len\":0,\"status\":\"truncated\",\"reply_status\":\"request_gap\""));
    tcp(&t, 0, S("st: x\r\nAccept: */*\r\n\r\n"));
    CHECK(t.stream_len[0] == 0);
    tcp(&t, 1, S(resp_missing));
    CHECK_EQ(t.records, 3);
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S(resp_pixel));
    CHECK(!t.gave_up);
    CHECK_EQ(t.records, 4);
    CHECK_EQ(dtest_count(&t, "\"resynced\":true"), 1);
    CHECK(has(&t, "\"uri\":\"/pixel.png\""));
    CHECK(has(&t, "\"resp_md5\":\"" PNG_MD5 "\",\"resp_sha256\":\"" PNG_SHA "\","
                  "\"status\":\"ok\",\"resynced\":true"));
    CHECK(has(&t, "\"trans_depth\":1,\"version\":\"1.1\",\"request_body_len\":0,"
                  "\"response_body_len\":146,\"status_code\":404"));
    CHECK_EQ(t.counters[TL_DC_GIVEUP], 0);
    CHECK_EQ(t.counters[TL_DC_GAPS], 1); /* counted once, by the caller (dtest) */
    dtest_end(&t);
    CHECK_EQ(t.records, 4);
    dtest_free(&t);

    /* Right after the gap a request line: read at once; the cut one was written. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("GET /lost HTTP/1.1\r\nHost: h\r\n"));
    dtest_gap(&t, 0, 10);
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S(resp_pixel));
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"uri\":\"/pixel.png\""));
    CHECK(has(&t, "\"resynced\":true"));
    CHECK(has(&t, "\"host\":\"h\",\"uri\":\"/lost\""));
    CHECK(has(&t, "\"status\":\"truncated\",\"reply_status\":\"request_gap\""));
    dtest_free(&t);

    /*
     * In a chunked response body, past the chunk: that response is written,
     * truncated; the response side skips to the next status line, which need
     * not start a line.
     */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhel"));
    dtest_gap(&t, 1, 1000);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"response_body_len\":3,\"status_code\":200,"));
    CHECK(has(&t, "\"status\":\"truncated\""));
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S("\377\330 ... 2000 bytes of JPEG\r\n0\r\n\r\nX"));
    CHECK(t.stream_len[1] == 0);
    tcp(&t, 1, S(resp_pixel));
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"resp_md5\":\"" PNG_MD5 "\",\"resp_sha256\":\"" PNG_SHA "\","
                  "\"status\":\"ok\",\"resynced\":true"));
    CHECK(!t.gave_up);
    dtest_free(&t);

    /* A second gap while skipping changes nothing; the other side stays in step. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, resp_root, 40);
    dtest_gap(&t, 1, 20);
    dtest_gap(&t, 1, 20);
    CHECK_EQ(t.records, 1);
    /* its head was cut: what it showed, truncated */
    CHECK(has(&t, "\"response_body_len\":0,\"status_code\":200,\"status_msg\":\"OK\""));
    CHECK(has(&t, "\"status\":\"truncated\",\"reply_status\":\"reply_cut\""));
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S("er: nginx\r\n\r\n"));
    tcp(&t, 1, S(resp_pixel));
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"resynced\":true"));
    dtest_free(&t);
}

/* pcaps/tcp-midstream.pcap, flow 192.0.2.110:40110: the capture starts inside a response body. */
static const char mid_rest[] = "...and the rest of a response that started before the capture\n";
static const char mid_get[] = "GET /next HTTP/1.1\r\n"
                              "Host: mid.example\r\n"
                              "User-Agent: pcapcraft/1.0\r\n"
                              "Accept: */*\r\n"
                              "\r\n";
static const char mid_resp[] = "HTTP/1.1 200 OK\r\n"
                               "Server: pcapcraft\r\n"
                               "Content-Type: text/plain\r\n"
                               "Content-Length: 16\r\n"
                               "\r\n"
                               "second response\n";

static void test_midstream(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 1, S(mid_rest));
    CHECK(!t.gave_up);
    CHECK_EQ(t.records, 0);
    CHECK_EQ(t.stream_len[1], 0);
    tcp(&t, 0, S(mid_get));
    tcp(&t, 1, S(mid_resp));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"trans_depth\":1,\"method\":\"GET\",\"host\":\"mid.example\","
                  "\"uri\":\"/next\",\"version\":\"1.1\",\"user_agent\":\"pcapcraft/1.0\","
                  "\"request_body_len\":0,\"response_body_len\":16,\"status_code\":200"));
    CHECK(has(&t, "\"resynced\":true"));
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 0);
    CHECK_EQ(t.counters[TL_DC_GIVEUP], 0);
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    dtest_free(&t);

    /* Binary, with no line end, and the next response glued to it. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 1, S("\000\001\002HTTP/1.1 2xx HTTP/1"));
    CHECK_EQ(t.stream_len[1], 6); /* "HTTP/1" may begin one */
    tcp(&t, 1, S(".0 999 no\r\n"));
    CHECK_EQ(t.stream_len[1], 17); /* a status line: its head is awaited */
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S("Content-Length: 3\r\n\r\nabc"));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"uri\":\"/\""));
    CHECK(has(&t, "\"response_body_len\":3,\"status_code\":999,\"status_msg\":\"no\""));
    CHECK(has(&t, "\"resynced\":true"));
    dtest_end(&t);
    CHECK_EQ(t.records, 1);
    dtest_free(&t);

    /* The requests' side starts inside a form body: text, so skipped to the request line. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("name=tapline&value=42\r\n<p>the rest</p>\r\nGET"));
    CHECK_EQ(t.stream_len[0], 3);
    tcp(&t, 0, S("/nope\r\nX HTTP/1.1\r\nPOST /x HTTP/1.1\r\nContent-Length: 0\r\n\r\n"));
    tcp(&t, 1, S(resp_created));
    CHECK(!t.gave_up);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"trans_depth\":1,\"method\":\"POST\",\"uri\":\"/x\""));
    CHECK(has(&t, "\"resynced\":true"));
    dtest_free(&t);

    /* A response whose start was not captured, a request pending (ndpi_1kxun.pcap). */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, resp_root + 200, sizeof(resp_root) - 1 - 200);
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"uri\":\"/\""));
    CHECK(has(&t, "\"status\":\"malformed\""));
    tcp(&t, 0, S(get_pixel));
    tcp(&t, 1, S(resp_pixel));
    tcp(&t, 0, S(get_missing));
    tcp(&t, 1, S(resp_missing));
    CHECK(!t.gave_up);
    CHECK_EQ(t.records, 3);
    CHECK_EQ(dtest_count(&t, "\"resynced\":true"), 1);
    CHECK(has(&t, "\"trans_depth\":2,\"method\":\"GET\",\"host\":\"www.tapline.test\","
                  "\"uri\":\"/pixel.png\""));
    CHECK(has(&t, "\"status_code\":404,\"status_msg\":\"Not Found\""));
    dtest_free(&t);

    /* Skipping keeps nothing it need not: long lines go as they come. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("<html>\n"));
    char big[4096];
    memset(big, 'A', sizeof(big));
    big[100] = ' ';
    for (int i = 0; i < 40; i++) {
        tcp(&t, 0, big, sizeof(big));
        tcp(&t, 1, big, sizeof(big));
        CHECK(t.stream_len[0] == 0);
        CHECK(t.stream_len[1] <= 12);
    }
    CHECK(!t.gave_up);
    tcp(&t, 0, S("\n"));
    tcp(&t, 0, S(get_root));
    tcp(&t, 1, S(resp_root));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"resp_md5\":\"" HTML_MD5 "\""));
    dtest_free(&t);
}

/* What dtest's emit does, for calling flush() with a time (dtest_end passes UINT64_MAX). */
static void timeout_emit(struct tl_parse_ctx *ctx, void *record, uint64_t ts_us)
{
    struct dtest *t = ctx->emit_arg;
    struct tl_flow_ids *ids = record;
    ids->ts = ts_us;
    ids->proto = "test";
    tl_event_json(&t->out, t->d->event, "test", record);
    t->records++;
}

/* Calls flush(now_us); returns when it says it will next have something to write. */
static uint64_t timeout_flush(struct dtest *t, uint64_t now_us)
{
    struct tl_parse_ctx c = { 0 };
    c.transport = TL_TCP;
    c.ts_us = now_us;
    c.state = t->state;
    c.arena = &t->arena;
    c.counters = t->counters;
    c.limits = &t->limits;
    c.emit = timeout_emit;
    c.emit_arg = t;
    return t->d->flush(&c, now_us);
}

static void test_timeout_flush(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    t.limits.pending_timeout = 5000;
    dtest_tcp(&t, 0, 1000, S(get_root));
    dtest_tcp(&t, 0, 3000, S(get_pixel));
    CHECK_EQ(timeout_flush(&t, 5999), 6000); /* GET / is due then */
    CHECK_EQ(t.records, 0);
    CHECK_EQ(timeout_flush(&t, 6000), 8000); /* then GET /pixel.png */
    CHECK_EQ(t.records, 1);                  /* GET / alone; GET /pixel.png is younger */
    CHECK(!has(&t, "status_code"));
    CHECK(has(&t, "\"reply_status\":\"no_reply\""));
    /* The late answer to GET / is written alone; the next pairs with /pixel.png. */
    tcp(&t, 1, S(resp_root));
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"status_code\":200,\"status_msg\":\"OK\",\"response_content_type\":"
                  "\"text/html\",\"resp_mime\":\"text/html\""));
    CHECK(has(&t, "\"reply_status\":\"request_written_early\""));
    tcp(&t, 1, S(resp_pixel));
    CHECK_EQ(t.records, 3);
    CHECK_EQ(timeout_flush(&t, 9000), UINT64_MAX); /* nothing waits */
    CHECK(has(&t, "\"uri\":\"/pixel.png\",\"version\":\"1.1\",\"user_agent\":\"curl/7.88.1\","
                  "\"request_body_len\":0,\"response_body_len\":70,"));
    CHECK_EQ(dtest_count(&t, "\"method\""), 2);
    dtest_free(&t);
}

/* Output of the request/response pair delivered whole, then cut at every byte. */
static void split_check(const char *req, size_t rn, const char *resp, size_t sn)
{
    struct dtest ref;
    dtest_init(&ref, &tl_http_dissector);
    tcp(&ref, 0, req, rn);
    tcp(&ref, 1, resp, sn);
    dtest_end(&ref);
    CHECK_EQ(ref.records, 1);
    for (int side = 0; side < 2; side++) {
        const char *p = side ? resp : req;
        size_t n = side ? sn : rn;
        for (size_t k = 0; k <= n; k++) {
            struct dtest t;
            dtest_init(&t, &tl_http_dissector);
            if (side) {
                tcp(&t, 0, req, rn);
            }
            tcp(&t, side, p, k);
            tcp(&t, side, p + k, n - k);
            if (!side)
                tcp(&t, 1, resp, sn);
            dtest_end(&t);
            if (t.out.len != ref.out.len || memcmp(t.out.p, ref.out.p, t.out.len) != 0) {
                tl_check_report(__FILE__, __LINE__, "side %d split %zu differs", side, k);
                dtest_free(&t);
                break;
            }
            dtest_free(&t);
        }
    }
    dtest_free(&ref);
}

struct delivery {
    int dir;
    const char *p;
    size_t n;
};

/* The output of deliveries made whole, then with each one cut at every byte. */
static void split_seq_check(const struct delivery *dv, size_t nd, int want)
{
    struct dtest ref;
    dtest_init(&ref, &tl_http_dissector);
    for (size_t i = 0; i < nd; i++)
        tcp(&ref, dv[i].dir, dv[i].p, dv[i].n);
    dtest_end(&ref);
    CHECK_EQ(ref.records, want);
    for (size_t cut = 0; cut < nd; cut++) {
        for (size_t k = 0; k <= dv[cut].n; k++) {
            struct dtest t;
            dtest_init(&t, &tl_http_dissector);
            for (size_t i = 0; i < nd; i++) {
                if (i == cut) {
                    tcp(&t, dv[i].dir, dv[i].p, k);
                    tcp(&t, dv[i].dir, dv[i].p + k, dv[i].n - k);
                } else {
                    tcp(&t, dv[i].dir, dv[i].p, dv[i].n);
                }
            }
            dtest_end(&t);
            bool same = t.out.len == ref.out.len && memcmp(t.out.p, ref.out.p, t.out.len) == 0;
            dtest_free(&t);
            if (!same) {
                tl_check_report(__FILE__, __LINE__, "delivery %zu split %zu differs", cut, k);
                break;
            }
        }
    }
    dtest_free(&ref);
}

static void test_split_resync(void)
{
    const struct delivery mid[] = {
        { 1, S(mid_rest) },
        { 0, S(mid_get) },
        { 1, S("\377\330\377binaryHTTP/1.0 20 HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok") },
    };
    split_seq_check(mid, TL_ARRAY_LEN(mid), 1);
    const struct delivery req[] = {
        { 0, S("a=1&b=2\r\nGET\tx HTTP/1.1\r\nGET / HTTP/1.2\r\n\r\nHEAD /h HTTP/1.0\r\n\r\n") },
        { 1, S("HTTP/1.0 200 OK\r\nContent-Length: 99\r\n\r\n") },
    };
    split_seq_check(req, TL_ARRAY_LEN(req), 1);
    const struct delivery owed[] = {
        { 0, S(get_root) },
        { 1, S("tail of a lost body\r\n\r\nHTTP/1.1 304 Not Modified\r\n\r\n") },
        { 0, S(get_pixel) },
        { 1, S(resp_pixel) },
    };
    split_seq_check(owed, TL_ARRAY_LEN(owed), 3);
}

/*
 * n pipelined GETs (as nmap sends them: one Host and User-Agent, a URI each,
 * every third from another agent), then n responses whose reason phrase is
 * the URI they answer. Returns the two streams (heap, NUL-terminated).
 */
static void pipeline_streams(unsigned n, size_t uri_pad, char **req, size_t *rn, char **resp,
                             size_t *sn)
{
    size_t cap = n * (300 + uri_pad);
    char *q = malloc(cap), *r = malloc(cap);
    size_t a = 0, b = 0;
    for (unsigned i = 0; i < n; i++) {
        char uri[512];
        snprintf(
            uri, sizeof(uri), "/p%u-%c%.*s", i, i % 3 ? 'a' : 'b', (int)uri_pad,
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx"
            "xxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxxx");
        a += (size_t)snprintf(q + a, cap - a,
                              "GET %s HTTP/1.1\r\nConnection: keep-alive\r\nHost: 10.0.0.%u\r\n"
                              "User-Agent: Mozilla/5.0 (compatible; Nmap Scripting Engine; "
                              "ua-%c)\r\n\r\n",
                              uri, i < n / 2 ? 1 : 2, i % 3 ? 'a' : 'b');
        b += (size_t)snprintf(r + b, cap - b, "HTTP/1.1 404 %s\r\nContent-Length: 3\r\n\r\nno\n",
                              uri);
    }
    *req = q;
    *rn = a;
    *resp = r;
    *sn = b;
}

/* Every record that has both holds the URI its response names, with the right agent and host. */
static unsigned pipeline_pairs_ok(const struct dtest *t, unsigned n)
{
    unsigned ok = 0;
    char *text = strndup(t->out.p, t->out.len);
    for (char *line = text, *nl; line && *line; line = nl ? nl + 1 : NULL) {
        if ((nl = strchr(line, '\n')))
            *nl = '\0';
        const char *u = strstr(line, "\"uri\":\"/p"), *m = strstr(line, "\"status_msg\":\"/p");
        if (!u || !m)
            continue;
        unsigned i = (unsigned)atoi(u + 9), k = (unsigned)atoi(m + 16);
        char want[160];
        snprintf(want, sizeof(want), "\"host\":\"10.0.0.%u\",", i < n / 2 ? 1 : 2);
        bool host = strstr(line, want) != NULL;
        snprintf(want, sizeof(want), "Nmap Scripting Engine; ua-%c)\"", i % 3 ? 'a' : 'b');
        if (i == k && host && strstr(line, want))
            ok++;
    }
    free(text);
    return ok;
}

/* 40 pipelined requests (an nmap scan) pair in order; past http.max_pipeline the oldest go alone.
 */
static void test_deep_pipeline(void)
{
    char *req, *resp;
    size_t rn, sn;
    struct dtest t;

    pipeline_streams(40, 0, &req, &rn, &resp, &sn);
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, req, rn);
    CHECK_EQ(t.records, 0);
    tcp(&t, 1, resp, sn);
    CHECK_EQ(t.records, 40);
    CHECK_EQ(pipeline_pairs_ok(&t, 40), 40);
    CHECK_EQ(dtest_count(&t, "reply_status"), 0);
    CHECK_EQ(t.counters[TL_DC_CAPPED], 0);
    dtest_free(&t);
    free(req);
    free(resp);

    /* 100 deep, 64 held: 36 requests alone, then their 36 responses alone, 64 pairs. */
    pipeline_streams(100, 0, &req, &rn, &resp, &sn);
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, req, rn);
    CHECK_EQ(t.records, 36);
    tcp(&t, 1, resp, sn);
    CHECK_EQ(t.records, 136);
    CHECK_EQ(pipeline_pairs_ok(&t, 100), 64);
    CHECK_EQ(dtest_count(&t, "\"reply_status\":\"pending_capped\""), 36);
    CHECK_EQ(dtest_count(&t, "\"reply_status\":\"request_written_early\""), 36);
    CHECK_EQ(t.counters[TL_DC_CAPPED], 36);
    dtest_free(&t);
    free(req);
    free(resp);

    /* No memory to grow the queue past the 4 the state holds: the oldest go alone, counted. */
    pipeline_streams(10, 0, &req, &rn, &resp, &sn);
    dtest_init(&t, &tl_http_dissector);
    t.no_memory = true;
    tcp(&t, 0, req, rn);
    CHECK_EQ(t.records, 6);
    tcp(&t, 1, resp, sn);
    CHECK_EQ(pipeline_pairs_ok(&t, 10), 4);
    CHECK_EQ(dtest_count(&t, "\"reply_status\":\"pending_capped\""), 6);
    CHECK_EQ(t.counters[TL_DC_CAPPED], 6);
    dtest_free(&t);
    free(req);
    free(resp);

    /* No memory to grow the pool past the KiB the state holds: the oldest request goes alone
     * to make room for the next one's strings rather than those being cut. */
    pipeline_streams(6, 240, &req, &rn, &resp, &sn);
    dtest_init(&t, &tl_http_dissector);
    t.no_memory = true;
    tcp(&t, 0, req, rn);
    tcp(&t, 1, resp, sn);
    unsigned alone = (unsigned)dtest_count(&t, "\"reply_status\":\"pending_capped\"");
    CHECK(alone > 0 && alone < 6);
    CHECK_EQ(pipeline_pairs_ok(&t, 6), 6 - alone);
    CHECK_EQ(dtest_count(&t, "value_capped"), 0);
    dtest_free(&t);
    free(req);
    free(resp);

    /* Long distinct URIs fill the pool first: the oldest go alone, the rest still pair. */
    pipeline_streams(60, 240, &req, &rn, &resp, &sn);
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, req, rn);
    unsigned early = (unsigned)t.records;
    CHECK(early > 0 && early < 60);
    tcp(&t, 1, resp, sn);
    CHECK_EQ(pipeline_pairs_ok(&t, 60), 60 - early);
    CHECK_EQ(dtest_count(&t, "\"reply_status\":\"pending_capped\""), (int)early);
    CHECK_EQ(dtest_count(&t, "value_capped"), 0);
    dtest_free(&t);
    free(req);
    free(resp);

    /* A shallow one cut at every byte, both ways: shared strings survive every pop. */
    pipeline_streams(7, 0, &req, &rn, &resp, &sn);
    const struct delivery dv[] = { { 0, req, rn }, { 1, resp, sn } };
    split_seq_check(dv, TL_ARRAY_LEN(dv), 7);
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, req, rn);
    for (size_t i = 0; i < sn; i++) /* responses byte by byte: pops between requests' reads */
        tcp(&t, 1, resp + i, 1);
    CHECK_EQ(pipeline_pairs_ok(&t, 7), 7);
    dtest_free(&t);
    free(req);
    free(resp);
}

/*
 * A request's strings: the first KiB in the state, more in a pool grown through
 * ctx->resize and kept whole; without memory to grow, cut and flagged.
 */
static void test_request_pool_grows(void)
{
    enum { LONG = 1800 };
    struct tl_buf req = { 0 }, want[2] = { { 0 } };
    const char *const parts[] = { "GET /", " HTTP/1.1\r\nHost: pool.test\r\nUser-Agent: ",
                                  "\r\nReferer: http://r/", "\r\n\r\n" };
    const char fill[] = "uar";
    for (size_t i = 0; i < TL_ARRAY_LEN(parts); i++) {
        tl_buf_puts(&req, parts[i]);
        for (size_t k = 0; i < 3 && k < LONG; k++)
            tl_buf_putc(&req, fill[i]);
    }
    tl_buf_putc(&want[0], '/');
    for (size_t k = 0; k < LONG; k++) {
        tl_buf_putc(&want[0], 'u');
        tl_buf_putc(&want[1], 'a');
    }
    tl_buf_putc(&want[0], '\0');
    tl_buf_putc(&want[1], '\0');
    const char resp[] = "HTTP/1.1 204 No Content\r\n\r\n";

    for (int no_memory = 0; no_memory < 2; no_memory++) {
        struct dtest t;
        dtest_init(&t, &tl_http_dissector);
        t.no_memory = no_memory;
        tcp(&t, 0, req.p, req.len);
        tcp(&t, 1, resp, sizeof(resp) - 1);
        CHECK_EQ(t.records, 1);
        CHECK(has(&t, want[0].p) == !no_memory);
        CHECK(has(&t, want[1].p) == !no_memory);
        CHECK(has(&t, "\"host\":\"pool.test\"") == !no_memory);
        CHECK(has(&t, "\"value_capped\":true") == no_memory);
        CHECK((t.counters[TL_DC_CAPPED] > 0) == no_memory);
        dtest_free(&t);
    }
    tl_buf_free(&req);
    tl_buf_free(&want[0]);
    tl_buf_free(&want[1]);
}

/* The smuggled request inside a TE.CL request's chunk, and the chunk size line that leads it. */
static const char smuggled_gpost[] = "GPOST / HTTP/1.1\r\n"
                                     "Content-Type: application/x-www-form-urlencoded\r\n"
                                     "Content-Length: 15\r\n"
                                     "\r\n"
                                     "x=1";

/* TE.CL (RFC 9112 6.3 rule 3): chunked by the RFC; a server that reads the Content-Length
 * (4: the chunk-size line) takes the chunk for a second request. Both are written. */
static void test_smuggling_te_cl(void)
{
    char req[512];
    int n = snprintf(req, sizeof(req),
                     "POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 4\r\n"
                     "Transfer-Encoding: chunked\r\n\r\n%zx\r\n%s\r\n0\r\n\r\n",
                     sizeof(smuggled_gpost) - 1, smuggled_gpost);
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok";
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, req, (size_t)n);
    CHECK_EQ(t.records, 1); /* the hidden one, at once */
    CHECK(has(&t, "\"trans_depth\":1,\"method\":\"GPOST\",\"uri\":\"/\",\"version\":\"1.1\","
                  "\"request_body_len\":0,\"response_body_len\":0,\"request_content_type\":"
                  "\"application/x-www-form-urlencoded\",\"status\":\"ok\","
                  "\"reply_status\":\"smuggled\""));
    tcp(&t, 1, S(resp));
    CHECK_EQ(t.records, 2);
    CHECK(has(&t, "\"method\":\"POST\",\"host\":\"victim\",\"uri\":\"/\",\"version\":\"1.1\","
                  "\"request_body_len\":92,\"response_body_len\":2,\"status_code\":200"));
    CHECK_EQ(dtest_count(&t, "\"framing_conflict\":[\"Content-Length: 4\","
                             "\"Transfer-Encoding: chunked\"],\"smuggled\":true"),
             1);
    CHECK_EQ(dtest_count(&t, "\"framing_conflict\":[\"Content-Length: 4\","
                             "\"Transfer-Encoding: chunked\"]}"),
             1);
    CHECK_EQ(t.counters[TL_DC_MALFORMED], 0);
    CHECK(!t.gave_up);
    dtest_end(&t);
    CHECK_EQ(t.records, 2);

    const struct delivery dv[] = { { 0, req, (size_t)n }, { 1, S(resp) } };
    split_seq_check(dv, TL_ARRAY_LEN(dv), 2);
    dtest_free(&t);
}

/* CL.TE: the RFC's chunked reading ends early, so "GPOST" starts a request that a
 * Content-Length reader takes for body; the Content-Length reader's next request
 * ("POST", a byte later) is written too. */
static void test_smuggling_cl_te(void)
{
    static const char req[] = "POST / HTTP/1.1\r\nHost: victim\r\nContent-Length: 6\r\n"
                              "Transfer-Encoding: chunked\r\n\r\n0\r\n\r\nG"
                              "POST /next HTTP/1.1\r\nHost: victim\r\n\r\n";
    static const char resp[] = "HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n"
                               "HTTP/1.1 405 Not Allowed\r\nContent-Length: 0\r\n\r\n";
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S(req));
    tcp(&t, 1, S(resp));
    dtest_end(&t);
    CHECK_EQ(t.records, 3);
    CHECK(has(&t, "\"trans_depth\":1,\"method\":\"POST\",\"host\":\"victim\",\"uri\":\"/next\","
                  "\"version\":\"1.1\",\"request_body_len\":0,\"response_body_len\":0,"
                  "\"status\":\"ok\",\"reply_status\":\"smuggled\""));
    CHECK(has(&t, "\"trans_depth\":2,\"method\":\"GPOST\",\"host\":\"victim\",\"uri\":\"/next\""));
    CHECK(has(&t, "\"status_code\":405"));
    CHECK_EQ(dtest_count(&t, "\"smuggled\":true"), 2);
    CHECK_EQ(dtest_count(&t, "\"framing_conflict\":[\"Content-Length: 6\","
                             "\"Transfer-Encoding: chunked\"]"),
             2);
    const struct delivery dv[] = { { 0, S(req) }, { 1, S(resp) } };
    split_seq_check(dv, TL_ARRAY_LEN(dv), 3);
    dtest_free(&t);
}

/* One request head and body; how many records, conflicts and smuggled ones come of it. */
static void smuggle_case(const char *req, size_t n, int records, int conflicts, int smuggled,
                         const char *want)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, req, n);
    dtest_end(&t);
    CHECK_EQ(t.records, records);
    CHECK_EQ(dtest_count(&t, "\"framing_conflict\""), conflicts);
    CHECK_EQ(dtest_count(&t, "\"smuggled\":true"), smuggled);
    if (want && !has(&t, want))
        tl_check_report(__FILE__, __LINE__, "no %s in %.*s", want, (int)t.out.len, t.out.p);
    CHECK(!t.gave_up);
    dtest_free(&t);
}

/* The variants of conflicting framing, and the ordinary framings that are none. */
static void test_smuggling_variants(void)
{
    /* Transfer-Encoding that does not end in chunked, with a Content-Length. */
    smuggle_case(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: 5"
                   "\r\n\r\n0\r\n\r\nGET /te1 HTTP/1.1\r\n\r\n"),
                 2, 1, 0, "\"framing_conflict\":[\"Transfer-Encoding: chunked, identity\"");
    /* A coding that only contains the word: the body by its length, or chunked. */
    smuggle_case(S("POST / HTTP/1.1\r\nTransfer-Encoding: xchunked\r\nContent-Length: 37\r\n\r\n"
                   "0\r\n\r\nGET /admin HTTP/1.1\r\nHost: in\r\n\r\n"),
                 2, 2, 1,
                 "\"method\":\"GET\",\"host\":\"in\",\"uri\":\"/admin\",\"version\":\"1.1\","
                 "\"request_body_len\":0,\"response_body_len\":0,\"status\":\"ok\","
                 "\"reply_status\":\"smuggled\"");
    /* Two Transfer-Encoding lines, the last not chunked. */
    smuggle_case(S("POST / HTTP/1.1\r\nTransfer-Encoding: chunked\r\nTransfer-Encoding: identity"
                   "\r\n\r\n0\r\n\r\n"),
                 1, 1, 0, "\"status\":\"malformed\"");
    /* obs-fold, and whitespace before the colon, in Transfer-Encoding. */
    smuggle_case(S("POST / HTTP/1.1\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 3\r\n\r\n"
                   "0\r\n\r\n"),
                 1, 1, 0, "\"framing_conflict\":[\"Transfer-Encoding:\\r\\n chunked\"");
    smuggle_case(S("POST / HTTP/1.1\r\nTransfer-Encoding : chunked\r\n\r\n"
                   "0\r\n\r\nGET /ws HTTP/1.1\r\n\r\n"),
                 2, 1, 0, "\"uri\":\"/ws\"");
    /* Content-Lengths that differ: the first (RFC: refused), and the last's reading. */
    smuggle_case(S("POST / HTTP/1.1\r\nContent-Length: 0\r\nContent-Length: 22\r\n\r\n"
                   "GET /cl2 HTTP/1.1\r\n\r\n"),
                 2, 1, 1, "\"uri\":\"/cl2\",\"version\":\"1.1\",\"request_body_len\":0");
    /* Expect: 100-continue without a body, and with a request for a body. */
    smuggle_case(S("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\n"
                   "GET /e0 HTTP/1.1\r\n\r\n"),
                 2, 1, 0, "\"framing_conflict\":[\"Expect: 100-continue\",\"Content-Length: 0\"]");
    smuggle_case(S("POST / HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 22\r\n\r\n"
                   "GET /e1 HTTP/1.1\r\n\r\n"),
                 2, 2, 1, "\"uri\":\"/e1\"");
    /* Transfer-Encoding in HTTP/1.0 (RFC 9112 6.1). */
    smuggle_case(S("POST / HTTP/1.0\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\n"), 1, 1, 0,
                 NULL);
    /* None: chunked alone, a length alone, equal lengths, an upload under Expect. */
    smuggle_case(S("POST / HTTP/1.1\r\nTransfer-Encoding: gzip, chunked\r\n\r\n0\r\n\r\n"), 1, 0, 0,
                 "\"status\":\"ok\"");
    smuggle_case(S("POST / HTTP/1.1\r\nContent-Length: 5, 5\r\n\r\nhello"), 1, 0, 0,
                 "\"request_body_len\":5");
    smuggle_case(S("POST / HTTP/1.1\r\nContent-Length: 5\r\nContent-Length: 5\r\n\r\nhello"), 1, 0,
                 0, "\"request_body_len\":5");
    smuggle_case(S("POST /up HTTP/1.1\r\nExpect: 100-continue\r\nContent-Length: 24\r\n\r\n"
                   "UPLOAD A B\r\nsome data\r\n\r\n"),
                 1, 0, 0, "\"request_body_len\":24");
}

/* One GET of `uri` by user agent `ua` (none when NULL) answered 200 with `headers` and `body`. */
static void http_fetch(struct dtest *t, const char *uri, const char *ua, const char *headers,
                       const char *body, size_t blen)
{
    char req[512], resp[1024];
    int n = snprintf(req, sizeof(req), "GET %s HTTP/1.1\r\nHost: h\r\n%s%s%s\r\n", uri,
                     ua ? "User-Agent: " : "", ua ? ua : "", ua ? "\r\n" : "");
    tcp(t, 0, req, (size_t)n);
    n = snprintf(resp, sizeof(resp), "HTTP/1.1 200 OK\r\n%sContent-Length: %zu\r\n\r\n", headers,
                 blen);
    memcpy(resp + n, body, blen);
    tcp(t, 1, resp, (size_t)n + blen);
}

/* Bodies typed by Zeek's names, in resp_mime_types and orig_mime_types. */
static void test_zeek_mime_types(void)
{
    static const struct {
        const char *body;
        size_t len;
        const char *want; /* NULL: no type */
    } cases[] = {
        { S("MZ\220\000\003\000\000\000\004\000"), "application/x-dosexec" },
        { S("\177ELF\001\001\001\000\000\000\000\000\000\000\000\000\003\000\003\000"),
          "application/x-sharedlib" },
        { S("\177ELF\002\002\001\000\000\000\000\000\000\000\000\000\000\002\000\025"),
          "application/x-executable" },
        { S("\317\372\355\376\007\000\000\001"), "application/x-mach-o-executable" },
        { S("\312\376\272\276\000\000\000\064\000"), "application/x-java-applet" },
        { S("PK\003\004\024\000\010\010\010\000\000\000\000\000\000\000\000\000\000\000\000\000"
            "\000\000\000\000\011\000\004\000META-INF/\376\312"),
          "application/java-archive" },
        { S("PK\003\004\024\000\006\000\010\000"),
          "application/vnd.openxmlformats-officedocument" },
        { S("PK\003\004\012\000\000\000\000\000"), "application/zip" },
        { S("\320\317\021\340\241\261\032\341\000\000"), "application/msword" },
        { S("Rar!\032\007\001\000"), "application/x-rar" },
        { S("7z\274\257\047\034\000\004"), "application/x-7z-compressed" },
        { S("\211PNG\r\n\032\n\000\000"), "image/png" },
        { S("#!/bin/sh\necho hi\n"), "text/x-shellscript" },
        { S("#!/usr/bin/env bash\nid\n"), "text/x-shellscript" },
        { S("#!/usr/bin/env python3\nimport os\n"), "text/x-python" },
        { S("#!/usr/bin/perl -w\n"), "text/x-perl" },
        { S("\357\273\277<!-- c --> <HTML><body>"), "text/html" },
        { S("<?xml version=\"1.0\"?>\n<html xmlns=\"x\">"), "text/html" },
        { S("<?xml version=\"1.0\"?><a/>"), "application/xml" },
        { S("<rss version=\"2.0\">"), "text/rss" },
        { S("<script type=\"text/javascript\">var a;"), "application/javascript" },
        { S(" {\"a\": [1]}"), "text/json" },
        { S("plain words and more\n"), "text/plain" },
        { S("short"), NULL }, /* fewer than 10 printable bytes */
        { S("\001\002\003\004binary"), NULL },
    };
    char want[128];
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        struct dtest t;
        dtest_init(&t, &tl_http_dissector);
        http_fetch(&t, "/f", NULL, "", cases[i].body, cases[i].len);
        CHECK_EQ(t.records, 1);
        if (cases[i].want) {
            snprintf(want, sizeof(want), "\"resp_mime_types\":[\"%s\"]", cases[i].want);
            if (!has(&t, want))
                tl_check_report(__FILE__, __LINE__, "case %zu: want %s in %.*s", i, want,
                                (int)t.out.len, t.out.p);
        } else {
            CHECK(!has(&t, "mime"));
        }
        dtest_free(&t);
    }

    /* A content-encoded body is not the file: resp_mime types the bytes, Zeek's field is out. */
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    http_fetch(&t, "/f", NULL, "Content-Encoding: gzip\r\n", S("\037\213\010\000\000\000\000\000"));
    CHECK(has(&t, "\"resp_mime\":\"application/x-gzip\""));
    CHECK(!has(&t, "resp_mime_types"));
    dtest_free(&t);

    /* Request bodies: a form, then JSON in chunks. */
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0, S("POST /a HTTP/1.1\r\nContent-Length: 15\r\n\r\nuser=a&pass=bcd"));
    tcp(&t, 0,
        S("POST /b HTTP/1.1\r\nTransfer-Encoding: chunked\r\n\r\n"
          "3\r\n{\"k\r\n6\r\n\": 12}\r\n0\r\n\r\n"));
    tcp(&t, 0, S("GET /c HTTP/1.1\r\n\r\n"));
    tcp(&t, 1,
        S("HTTP/1.1 204 No Content\r\n\r\nHTTP/1.1 204 No Content\r\n\r\n"
          "HTTP/1.1 204 No Content\r\n\r\n"));
    CHECK_EQ(t.records, 3);
    CHECK_EQ(dtest_count(&t, "\"orig_mime_types\":[\"text/plain\"]"), 1);
    CHECK_EQ(dtest_count(&t, "\"orig_mime_types\":[\"text/json\"]"), 1);
    CHECK_EQ(dtest_count(&t, "orig_mime_types"), 2);
    CHECK_EQ(dtest_count(&t, "resp_mime"), 0);
    dtest_free(&t);
}

/* Header names in order, upper case, 1xx included; capped by max_items and counted. */
static void test_header_names(void)
{
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    tcp(&t, 0,
        S("POST /form HTTP/1.1\r\nhost: h\r\nUser-Agent: x\r\nContent-Length: 2\r\n"
          "X-Folded: a\r\n b\r\nExpect: 100-continue\r\n\r\nab"));
    tcp(&t, 1,
        S("HTTP/1.1 100 Continue\r\nX-Interim: 1\r\n\r\n"
          "HTTP/1.1 200 OK\r\nServer: s\r\ncontent-length: 0\r\n\r\n"));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"client_header_names\":[\"HOST\",\"USER-AGENT\",\"CONTENT-LENGTH\","
                  "\"X-FOLDED\",\"EXPECT\"]"));
    CHECK(has(&t, "\"server_header_names\":[\"X-INTERIM\",\"SERVER\",\"CONTENT-LENGTH\"]"));
    CHECK(!has(&t, "value_capped"));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector);
    t.limits.max_items = 2;
    tcp(&t, 0, S("GET / HTTP/1.1\r\nA: 1\r\nB: 2\r\nC: 3\r\n\r\n"));
    tcp(&t, 1, S("HTTP/1.1 204 No Content\r\nD: 1\r\n\r\n"));
    CHECK(has(&t, "\"client_header_names\":[\"A\",\"B\"]"));
    CHECK(has(&t, "\"server_header_names\":[\"D\"]"));
    CHECK(has(&t, "\"value_capped\":true"));
    CHECK_EQ(t.counters[TL_DC_CAPPED], 1);
    dtest_free(&t);

    /* A header block whose names fill the request pool: whole names only, flagged. */
    dtest_init(&t, &tl_http_dissector);
    char req[8192];
    size_t n = (size_t)snprintf(req, sizeof(req), "GET / HTTP/1.1\r\n");
    for (int i = 0; i < 60; i++)
        n += (size_t)snprintf(req + n, sizeof(req) - n, "X-%070d: v\r\n", i);
    n += (size_t)snprintf(req + n, sizeof(req) - n, "\r\n");
    tcp(&t, 0, req, n);
    tcp(&t, 1, S("HTTP/1.1 204 No Content\r\n\r\n"));
    CHECK_EQ(t.records, 1);
    CHECK(has(&t, "\"client_header_names\":[\"X-0000"));
    CHECK(has(&t, "\"value_capped\":true"));
    CHECK_EQ(t.counters[TL_DC_CAPPED], 1);
    dtest_free(&t);
}

/* exe_download and mime_mismatch. */
static void test_exe_download(void)
{
    static const char pe[] = "MZ\220\000\003\000\000\000\004\000";
    struct dtest t;

    dtest_init(&t, &tl_http_dissector); /* a program, named as one */
    http_fetch(&t, "/dl/setup.exe", NULL, "Content-Type: application/octet-stream\r\n", S(pe));
    CHECK(has(&t, "\"exe_download\":true"));
    CHECK(!has(&t, "mime_mismatch"));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector); /* a program posing as an image */
    http_fetch(&t, "/img/logo.png?v=2", NULL, "Content-Type: image/png\r\n", S(pe));
    CHECK(has(&t, "\"exe_download\":true"));
    CHECK(has(&t, "\"mime_mismatch\":true"));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector); /* media types compare without case (RFC 9110 8.3.1) */
    http_fetch(&t, "/img/logo", NULL, "Content-Type: Image/PNG\r\n", S(pe));
    CHECK(has(&t, "\"mime_mismatch\":true"));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector); /* ... or as a page, by Content-Type alone */
    http_fetch(&t, "/download", NULL, "Content-Type: text/html; charset=utf-8\r\n", S(pe));
    CHECK(has(&t, "\"mime_mismatch\":true"));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector); /* a script by its extension, %XX decoded */
    http_fetch(&t, "/s/run%2Eps1",
               "Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) "
               "WindowsPowerShell/5.1.19041.1",
               "Content-Type: text/plain\r\n", S("Invoke-Expression $x\n"));
    CHECK(has(&t, "\"exe_download\":true"));
    CHECK(!has(&t, "mime_mismatch"));
    CHECK(has(&t, "\"client_kind\":\"tool\",\"client_tool\":\"powershell\""));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector); /* named by Content-Disposition */
    http_fetch(&t, "/get?id=7", NULL,
               "Content-Disposition: attachment; filename=\"invoice.pdf.EXE\"\r\n",
               S("data data data data"));
    CHECK(has(&t, "\"exe_download\":true"));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector); /* a zip named .docx is what it says */
    http_fetch(&t, "/a/report.docx", NULL,
               "Content-Type: application/vnd.openxmlformats-"
               "officedocument.wordprocessingml.document\r\n",
               S("PK\003\004\024\000\006\000"));
    CHECK(!has(&t, "exe_download"));
    CHECK(!has(&t, "mime_mismatch"));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector); /* a proxy's absolute URI: .com is the host's */
    http_fetch(&t, "http://example.com", NULL, "", S("0123456789 text"));
    http_fetch(&t, "http://example.com/get.exe?x=1", NULL, "", S("0123456789 text"));
    CHECK_EQ(dtest_count(&t, "\"exe_download\":true"), 1);
    CHECK(has(&t, "\"uri\":\"http://example.com/get.exe?x=1\""));
    dtest_free(&t);

    dtest_init(&t, &tl_http_dissector); /* an image, an error page for a program: neither */
    http_fetch(&t, "/p.png", NULL, "Content-Type: image/png\r\n", S("\211PNG\r\n\032\n\000"));
    tcp(&t, 0, S("GET /x.exe HTTP/1.1\r\n\r\n"));
    tcp(&t, 1, S("HTTP/1.1 404 Not Found\r\nContent-Length: 20\r\n\r\n<html>missing</html>"));
    CHECK_EQ(t.records, 2);
    CHECK(!has(&t, "exe_download"));
    CHECK(!has(&t, "mime_mismatch"));
    dtest_free(&t);
}

static void test_client_kind(void)
{
    static const struct {
        const char *ua, *want;
    } cases[] = {
        { "Microsoft BITS/7.8", "\"client_kind\":\"tool\",\"client_tool\":\"bits\"" },
        { "CertUtil URL Agent", "\"client_tool\":\"certutil\"" },
        { "Microsoft-CryptoAPI/10.0", "\"client_tool\":\"certutil\"" },
        { "curl/8.5.0", "\"client_tool\":\"curl\"" },
        { "Wget/1.21.3", "\"client_tool\":\"wget\"" },
        { "python-requests/2.31.0", "\"client_tool\":\"python\"" },
        { "Python-urllib/3.11", "\"client_tool\":\"python\"" },
        { "Go-http-client/1.1", "\"client_tool\":\"go\"" },
        { "Java/1.8.0_151", "\"client_tool\":\"java\"" },
        { "Microsoft-WebDAV-MiniRedir/10.0.19045", "\"client_tool\":\"webdav\"" },
        { "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
          "\"client_kind\":\"browser\"" },
        { "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 (KHTML, like Gecko) "
          "Chrome/126.0.0.0 Safari/537.36",
          "\"client_kind\":\"browser\"" },
        { "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)",
          "\"client_kind\":\"bot\"" },
        { "Mozilla/5.0 (compatible; MSIE 9.0; Windows NT 6.1; Trident/5.0)",
          "\"client_kind\":\"browser\"" },
        { "SomeApp/1.0 (build 7)", "\"client_kind\":\"other\"" },
        /* the token at the earliest position names the tool, whatever its place in the table */
        { "Wget/1.2 (python; curl/8)", "\"client_tool\":\"wget\"" },
        { "x NMAP python", "\"client_tool\":\"scanner\"" },
        /* tools are looked for before bots, wherever the bot's token is */
        { "crawler powershell", "\"client_tool\":\"powershell\"" },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(cases); i++) {
        struct dtest t;
        dtest_init(&t, &tl_http_dissector);
        http_fetch(&t, "/", cases[i].ua, "", S("0123456789"));
        if (!has(&t, cases[i].want))
            tl_check_report(__FILE__, __LINE__, "case %zu: want %s in %.*s", i, cases[i].want,
                            (int)t.out.len, t.out.p);
        if (!strstr(cases[i].want, "tool"))
            CHECK(!has(&t, "client_tool"));
        dtest_free(&t);
    }
    struct dtest t;
    dtest_init(&t, &tl_http_dissector);
    http_fetch(&t, "/", NULL, "", S("0123456789"));
    CHECK(!has(&t, "client_kind"));
    dtest_free(&t);
}

static void test_split_everywhere(void)
{
    split_check(S(post_submit), S(resp_created));
    split_check(S(get_root), S(resp_root));
    split_check(S(post_chunked), S(resp_chunked));
    split_check(S("GET /old\n"), S("<html>old</html>\n"));
    split_check(S("GET /HTTP/1.1\nHost: h\n\n"), S("<html>old</html>\n"));
    split_check(S("POST /f HTTP/1.1\nContent-Length: 2\n\nab"),
                S("HTTP/1.1 100 Continue\n\nHTTP/1.1 200 OK\nContent-Length: 2\n\nok"));
    /* Typed bodies, header names, Content-Disposition, a tool's user agent. */
    split_check(S("POST /up.php HTTP/1.1\r\nUser-Agent: curl/8.5.0\r\nContent-Length: 12\r\n\r\n"
                  "#!/bin/sh\nid\n"),
                S("HTTP/1.1 200 OK\r\nContent-Type: image/gif\r\nContent-Disposition: "
                  "attachment; filename=a.exe\r\nContent-Length: 10\r\n\r\n"
                  "MZ\220\000\003\000\000\000\004\000"));
}

const struct tl_test tl_tests_http[] = {
    { "get_content_length", test_get_content_length },
    { "keepalive", test_keepalive },
    { "pipelining", test_pipelining },
    { "max_pending", test_max_pending },
    { "head", test_head },
    { "204_304", test_204_304 },
    { "continue", test_continue },
    { "chunked", test_chunked },
    { "bad_chunk", test_bad_chunk },
    { "close_delimited", test_close_delimited },
    { "unanswered_and_truncated", test_unanswered_and_truncated },
    { "connect", test_connect },
    { "basic_auth", test_basic_auth },
    { "proxied_and_fold", test_proxied_and_fold },
    { "value_cap", test_value_cap },
    { "endless_headers", test_endless_headers },
    { "garbage", test_garbage },
    { "lenient_request_lines", test_lenient_request_lines },
    { "http09", test_http09 },
    { "http09_headers", test_http09_headers },
    { "fuzz_v09_blank_stall", test_fuzz_v09_blank_stall },
    { "body_hash_cap", test_body_hash_cap },
    { "hash_policy", test_hash_policy },
    { "hex", test_hex },
    { "hash_options", test_hash_options },
    { "mime", test_mime },
    { "gaps", test_gaps },
    { "midstream", test_midstream },
    { "timeout_flush", test_timeout_flush },
    { "split_everywhere", test_split_everywhere },
    { "zeek_mime_types", test_zeek_mime_types },
    { "header_names", test_header_names },
    { "exe_download", test_exe_download },
    { "client_kind", test_client_kind },
    { "split_resync", test_split_resync },
    { "cut_at_end", test_cut_at_end },
    { "tunnel", test_tunnel },
    { "deep_pipeline", test_deep_pipeline },
    { "request_pool_grows", test_request_pool_grows },
    { "smuggling_te_cl", test_smuggling_te_cl },
    { "smuggling_cl_te", test_smuggling_cl_te },
    { "smuggling_variants", test_smuggling_variants },
    { 0 },
};
