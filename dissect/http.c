/*
 * http.c - HTTP/1.x (RFC 9112, RFC 9110) and HTTP/0.9 simple requests on
 * reassembled TCP -> `http` records, one per request/response pair, named as
 * in Zeek's http.log.
 *
 * Invariants:
 * - Only a start line plus header block is ever waited for, and only up to
 *   HTTP_MAX_HEAD bytes; past that the message is malformed and the flow is
 *   given up. Bodies, chunk streams and trailers are consumed as they arrive.
 * - Requests wait for their responses in a queue of at most HTTP_MAX_PENDING
 *   (and limits->max_pending) entries whose strings live in a fixed pool in the
 *   flow state; what does not fit is cut and flagged (value_capped). When the
 *   queue is full the oldest request is written alone and the response owed
 *   to it is later written alone too, so the pairing of the rest holds.
 * - Response bodies are hashed (MD5, SHA-256) as they stream, up to
 *   limits->max_body_hash bytes; a longer body or one with a gap gets no hash.
 *   The hash contexts (dissect/hash.c) are plain structs kept in the flow state;
 *   nothing allocates.
 * - Gaps: a gap inside a body of known length (or a close-delimited one) is
 *   skipped and counted in the body length, the stream stays in sync and the
 *   hashes are dropped. A gap anywhere else writes what is pending with what is
 *   known, then resynchronises: that direction (and the other one if it was
 *   inside a message) skips to a plausible start line (a request line that
 *   begins a line; a status line anywhere, as bodies need not end in a line
 *   end), and parsing goes on from there. A stream that starts
 *   mid-conversation (a first request line that is not one, or a first
 *   response that is not one) resynchronises the same way, unless the first
 *   line of the originator holds control bytes: then it never was HTTP and the
 *   flow is given up. The first message read after a resync is flagged
 *   `resynced`. Skipping consumes what it has looked at; a partial line is kept
 *   only while it could still become a start line, and never past
 *   HTTP_MAX_HEAD, so a resync buffers no more than a header block does.
 * - CONNECT answered 2xx and 101 Switching Protocols end parsing: the record is
 *   written and parse() returns TL_PARSE_GIVEUP.
 *
 * Zeek's conventions: `version` is the response's version when there is one
 * (the request's otherwise, "0.9" for simple requests), `uri` is the request
 * target as sent (absolute for proxies) with %XX escapes decoded, `host` is the
 * Host value as sent, `proxied` holds "NAME -> value" for each proxy header.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cursor.h"
#include "dissect.h"
#include "domain.h"
#include "flow.h"
#include "hash.h"

enum {
    HTTP_MAX_PENDING = 8,    /* requests awaiting a response (also capped by limits) */
    HTTP_REQ_POOL = 4096,    /* strings of the pending requests */
    HTTP_RESP_POOL = 1024,   /* strings of the response being read */
    HTTP_MAX_HEAD = 65536,   /* start line + header block (also one chunk or trailer line) */
    HTTP_MAX_PROXIED = 8,    /* proxy headers kept per request */
    HTTP_SNIFF = 64,         /* first response body bytes kept for resp_mime */
    HTTP_SCRATCH = 512,      /* unfolded values that are interpreted, not kept */
    HTTP_VERSION_LEN = 8,    /* "1.1" and a NUL, with room for odd ones */
    HTTP_METHOD_PEEK = 32,   /* start-line bytes checked for binary garbage */
    HTTP_RESYNC_METHOD = 20, /* longest method token a resync accepts */
    HTTP_STATUS_START = 13,  /* "HTTP/1.1 200" and the byte after it */
};

/* ---- the record ---- */

struct http_rec {
    struct tl_flow_ids ids;
    uint32_t trans_depth;
    struct tl_str method, host, uri, version, referrer, user_agent, origin, xff;
    uint64_t request_body_len, response_body_len;
    uint16_t status_code, info_code;
    struct tl_str status_msg, info_msg, request_content_type, response_content_type;
    const char *resp_mime;
    struct tl_str resp_md5, resp_sha256;
    const char *auth_scheme;
    struct tl_str username;
    struct tl_strlist proxied;
    uint8_t status;
    bool value_capped, resynced;
};

static const struct tl_field http_fields[] = {
    TL_FLOW_ID_FIELDS(struct http_rec),
    TL_FIELD(struct http_rec, trans_depth, U32, "trans_depth",
             "position of the request in the flow, from 1"),
    TL_FIELD_OPT(struct http_rec, method, STR, "method", "request method, as sent"),
    TL_FIELD_OPT(struct http_rec, host, STR, "host", "Host header"),
    TL_FIELD_OPT(struct http_rec, uri, STR, "uri", "request target, %XX decoded"),
    TL_FIELD_OPT(struct http_rec, version, STR, "version",
                 "HTTP version of the response (else of the request)"),
    TL_FIELD_OPT(struct http_rec, referrer, STR, "referrer", "Referer header"),
    TL_FIELD_OPT(struct http_rec, user_agent, STR, "user_agent", "User-Agent header"),
    TL_FIELD_OPT(struct http_rec, origin, STR, "origin", "Origin header"),
    TL_FIELD_OPT(struct http_rec, xff, STR, "xff", "X-Forwarded-For header"),
    TL_FIELD(struct http_rec, request_body_len, U64, "request_body_len",
             "request body bytes, de-chunked"),
    TL_FIELD(struct http_rec, response_body_len, U64, "response_body_len",
             "response body bytes, de-chunked"),
    TL_FIELD_OPT(struct http_rec, status_code, U16, "status_code", "final response status code"),
    TL_FIELD_OPT(struct http_rec, status_msg, STR, "status_msg", "final response reason phrase"),
    TL_FIELD_OPT(struct http_rec, info_code, U16, "info_code", "last 1xx status code"),
    TL_FIELD_OPT(struct http_rec, info_msg, STR, "info_msg", "last 1xx reason phrase"),
    TL_FIELD_OPT(struct http_rec, request_content_type, STR, "request_content_type",
                 "request Content-Type"),
    TL_FIELD_OPT(struct http_rec, response_content_type, STR, "response_content_type",
                 "response Content-Type"),
    TL_FIELD_OPT(struct http_rec, resp_mime, CSTR, "resp_mime",
                 "type sniffed from the first response body bytes"),
    TL_FIELD_OPT(struct http_rec, resp_md5, STR, "resp_md5",
                 "MD5 of the response body (up to http.max_body_hash)"),
    TL_FIELD_OPT(struct http_rec, resp_sha256, STR, "resp_sha256",
                 "SHA-256 of the response body (up to http.max_body_hash)"),
    TL_FIELD_OPT(struct http_rec, auth_scheme, CSTR, "auth_scheme",
                 "Authorization scheme: Basic, NTLM, Negotiate, Bearer, Digest"),
    TL_FIELD_OPT(struct http_rec, username, STR, "username",
                 "Basic authorization user (never the password)"),
    TL_FIELD_OPT(struct http_rec, proxied, STRLIST, "proxied",
                 "proxy headers as \"NAME -> value\""),
    TL_FIELD(struct http_rec, status, STATUS, "status",
             "ok, truncated (flow ended mid-message) or malformed"),
    TL_FIELD_OPT(struct http_rec, value_capped, BOOL, "value_capped",
                 "a name or value was cut to its cap"),
    TL_FIELD_OPT(struct http_rec, resynced, BOOL, "resynced",
                 "first message read after skipping to a start line (gap, mid-stream start)"),
};

/* ---- per-flow state ---- */

struct http_ref {
    uint16_t off, len;
};

enum { RS_METHOD, RS_HOST, RS_URI, RS_REFERRER, RS_UA, RS_ORIGIN, RS_XFF, RS_CTYPE, RS_USER, RS_N };
enum { RP_MSG, RP_CTYPE, RP_INFO, RP_N };

struct http_req {
    struct http_ref s[RS_N];
    struct http_ref proxied[HTTP_MAX_PROXIED];
    uint16_t pool_start;
    uint8_t nproxied;
    uint8_t status; /* enum tl_msg_status */
    char version[HTTP_VERSION_LEN];
    const char *auth_scheme;
    uint64_t ts, body_len;
    uint32_t depth;
    bool head, connect, v09, capped;
    bool resynced; /* its request line ended a resync */
};

struct http_resp {
    struct http_ref s[RP_N];
    uint16_t used;
    uint16_t code, info_code;
    uint8_t status;
    uint8_t nsniff;
    bool seen;       /* a status line (or a 0.9 body) has been read */
    bool capped;     /* a value was cut */
    bool hash_on;    /* hashing this body */
    bool sniff_done; /* the sniff bytes are final (a gap came) */
    bool resynced;   /* its status line ended a resync */
    char version[HTTP_VERSION_LEN];
    uint64_t ts, body_len;
    struct tl_md5 md5;
    struct tl_sha256 sha256;
    uint8_t sniff[HTTP_SNIFF];
    char pool[HTTP_RESP_POOL];
};

enum http_phase { PH_HEAD, PH_BODY, PH_CONNECT, PH_V09, PH_RESYNC };
enum http_mode { BM_LENGTH, BM_CHUNK_SIZE, BM_CHUNK_DATA, BM_CHUNK_END, BM_TRAILER, BM_CLOSE };

struct http_dir {
    uint8_t phase, mode;
    uint64_t left;   /* BM_LENGTH, BM_CHUNK_DATA: body bytes still due */
    size_t scan_lf;  /* no LF before this offset of the unread input */
    size_t scan_end; /* no end of headers before this offset */
    bool skip_line;  /* PH_RESYNC: the unread input starts inside a line already rejected */
    bool resync_hit; /* the next start line read ended a resync: flag its message */
};

struct http_state {
    struct http_dir d[2];
    struct http_req q[HTTP_MAX_PENDING];
    uint8_t nq;
    bool dead;
    uint16_t pool_used;
    uint32_t nreq, nresp; /* requests and final responses seen: trans_depth */
    uint32_t orphans;     /* responses due to requests already written alone */
    uint32_t body_req;    /* depth of the request whose body dir 0 is reading */
    struct http_resp r;
    char pool[HTTP_REQ_POOL];
};

/* What a header block says about framing (RFC 9112 6). */
struct http_frame {
    uint64_t clen;
    bool has_clen, bad_clen, chunked, other_te;
};

/* ---- helpers ---- */

/* RFC 9110 5.6.2 tchar. */
static bool http_tchar(uint8_t c)
{
    if ((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z'))
        return true;
    return c != 0 && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}

static bool http_ws(char c)
{
    return c == ' ' || c == '\t';
}

static uint8_t http_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool http_iprefix(const char *p, size_t n, const char *lit)
{
    size_t m = strlen(lit);
    if (n < m)
        return false;
    for (size_t i = 0; i < m; i++)
        if (http_lower((uint8_t)p[i]) != http_lower((uint8_t)lit[i]))
            return false;
    return true;
}

/* Is s the start of lit (case-insensitively)? */
static bool http_is_start(struct tl_str s, const char *lit)
{
    size_t m = strlen(lit);
    for (size_t i = 0; i < s.len; i++)
        if (i >= m || http_lower((uint8_t)s.ptr[i]) != http_lower((uint8_t)lit[i]))
            return false;
    return true;
}

static bool http_ieq(struct tl_str s, const char *lit)
{
    return s.len == strlen(lit) && http_iprefix(s.ptr, s.len, lit);
}

static int http_hex(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    c = http_lower(c);
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    return -1;
}

static struct tl_str http_trim(struct tl_str s)
{
    while (s.len && (http_ws(s.ptr[0]) || s.ptr[0] == '\r' || s.ptr[0] == '\n')) {
        s.ptr++;
        s.len--;
    }
    while (s.len &&
           (http_ws(s.ptr[s.len - 1]) || s.ptr[s.len - 1] == '\r' || s.ptr[s.len - 1] == '\n'))
        s.len--;
    return s;
}

/* The next line of a bounded cursor without its LF or CRLF; false at its end. */
static bool http_line(struct tl_cursor *c, struct tl_str *line)
{
    struct tl_str rest = tl_cur_rest(c);
    if (rest.len == 0)
        return false;
    const char *lf = memchr(rest.ptr, '\n', rest.len);
    size_t n = lf ? (size_t)(lf - rest.ptr) : rest.len;
    tl_cur_skip(c, lf ? n + 1 : n);
    if (n && rest.ptr[n - 1] == '\r')
        n--;
    line->ptr = rest.ptr;
    line->len = n;
    return true;
}

/* Offset just past the first LF of the unread input, or 0 (d->scan_lf remembers how far). */
static size_t http_find_lf(struct http_dir *d, const struct tl_cursor *in)
{
    struct tl_str r = tl_cur_rest(in);
    if (d->scan_lf < r.len) {
        const char *lf = memchr(r.ptr + d->scan_lf, '\n', r.len - d->scan_lf);
        if (lf)
            return (size_t)(lf - r.ptr) + 1;
    }
    d->scan_lf = r.len;
    return 0;
}

/*
 * Offset just past the blank line ending a header block whose first line ends
 * at `from` (just past its LF), or 0. A terminator is LF [CR] LF (RFC 9112 2.2
 * allows bare LF line ends).
 */
static size_t http_find_end(struct http_dir *d, const struct tl_cursor *in, size_t from)
{
    struct tl_str r = tl_cur_rest(in);
    size_t i = d->scan_end > from - 1 ? d->scan_end : from - 1;
    while (i < r.len) {
        const char *lf = memchr(r.ptr + i, '\n', r.len - i);
        if (!lf)
            break;
        i = (size_t)(lf - r.ptr);
        if (i + 1 >= r.len) {
            d->scan_end = i;
            return 0;
        }
        if (r.ptr[i + 1] == '\n')
            return i + 2;
        if (r.ptr[i + 1] == '\r') {
            if (i + 2 >= r.len) {
                d->scan_end = i;
                return 0;
            }
            if (r.ptr[i + 2] == '\n')
                return i + 3;
        }
        i++;
    }
    d->scan_end = r.len;
    return 0;
}

/* Consumes n bytes of input and forgets the scan offsets, which were relative to it. */
static void http_consume(struct http_dir *d, struct tl_cursor *in, size_t n)
{
    tl_cur_skip(in, n);
    d->scan_lf = 0;
    d->scan_end = 0;
}

/* Appends into a fixed buffer, noting whether anything was cut. */
struct http_w {
    char *p;
    size_t len, cap;
    bool cut;
};

static void http_wc(struct http_w *w, char c)
{
    if (w->len < w->cap)
        w->p[w->len++] = c;
    else
        w->cut = true;
}

/*
 * Writes a header value with obs-fold line breaks (RFC 9112 5.2) replaced by
 * one space and outer whitespace removed; `decode` also turns %XX into bytes.
 */
static void http_wvalue(struct http_w *w, struct tl_str v, bool decode)
{
    v = http_trim(v);
    for (size_t i = 0; i < v.len;) {
        uint8_t c = (uint8_t)v.ptr[i];
        if (c == '\r' || c == '\n') {
            while (i < v.len && (v.ptr[i] == '\r' || v.ptr[i] == '\n' || http_ws(v.ptr[i])))
                i++;
            http_wc(w, ' ');
            continue;
        }
        if (decode && c == '%' && i + 2 < v.len && http_hex((uint8_t)v.ptr[i + 1]) >= 0 &&
            http_hex((uint8_t)v.ptr[i + 2]) >= 0) {
            http_wc(w,
                    (char)(http_hex((uint8_t)v.ptr[i + 1]) * 16 + http_hex((uint8_t)v.ptr[i + 2])));
            i += 3;
            continue;
        }
        http_wc(w, (char)c);
        i++;
    }
}

static size_t http_min(size_t a, size_t b)
{
    return a < b ? a : b;
}

static void http_capped(struct tl_parse_ctx *ctx, bool *flag)
{
    *flag = true;
    ctx->counters[TL_DC_CAPPED]++;
}

/* A writer onto the free part of the request pool, capped at max_value_len. */
static struct http_w http_req_w(const struct tl_parse_ctx *ctx, struct http_state *s)
{
    struct http_w w = { s->pool + s->pool_used, 0, 0, false };
    w.cap = http_min(ctx->limits->max_value_len, HTTP_REQ_POOL - (size_t)s->pool_used);
    return w;
}

static struct http_ref http_req_close(struct tl_parse_ctx *ctx, struct http_state *s,
                                      struct http_req *q, struct http_w *w)
{
    struct http_ref ref = { s->pool_used, (uint16_t)w->len };
    s->pool_used = (uint16_t)(s->pool_used + w->len);
    if (w->cut)
        http_capped(ctx, &q->capped);
    return ref;
}

static struct http_ref http_req_put(struct tl_parse_ctx *ctx, struct http_state *s,
                                    struct http_req *q, struct tl_str v, bool decode)
{
    struct http_w w = http_req_w(ctx, s);
    http_wvalue(&w, v, decode);
    return http_req_close(ctx, s, q, &w);
}

static struct http_ref http_resp_put(struct tl_parse_ctx *ctx, struct http_resp *r, struct tl_str v)
{
    struct http_w w = { r->pool + r->used, 0, 0, false };
    w.cap = http_min(ctx->limits->max_value_len, HTTP_RESP_POOL - (size_t)r->used);
    http_wvalue(&w, v, false);
    struct http_ref ref = { r->used, (uint16_t)w.len };
    r->used = (uint16_t)(r->used + w.len);
    if (w.cut)
        http_capped(ctx, &r->capped);
    return ref;
}

static void http_version(struct tl_parse_ctx *ctx, char out[HTTP_VERSION_LEN], struct tl_str v,
                         bool *capped)
{
    size_t n = 0;
    while (n < v.len && !http_ws(v.ptr[n]))
        n++;
    if (n >= HTTP_VERSION_LEN) {
        n = HTTP_VERSION_LEN - 1;
        http_capped(ctx, capped);
    }
    memcpy(out, v.ptr, n);
    out[n] = 0;
}

static void http_malformed(struct tl_parse_ctx *ctx, uint8_t *status)
{
    if (*status != TL_MSG_MALFORMED)
        ctx->counters[TL_DC_MALFORMED]++;
    *status = TL_MSG_MALFORMED;
}

/* ---- resp_mime: magic numbers, then markup, then clearly-text ---- */

static const char *http_sniff(const uint8_t *p, size_t n)
{
    static const struct {
        const char *magic;
        uint8_t len;
        const char *mime;
    } magic[] = {
        { "MZ", 2, "application/x-dosexec" },
        { "\x7f"
          "ELF",
          4, "application/x-executable" },
        { "PK\x03\x04", 4, "application/zip" },
        { "PK\x05\x06", 4, "application/zip" },
        { "%PDF-", 5, "application/pdf" },
        { "\x1f\x8b", 2, "application/gzip" },
        { "\x89PNG\r\n\x1a\n", 8, "image/png" },
        { "\xff\xd8\xff", 3, "image/jpeg" },
        { "GIF87a", 6, "image/gif" },
        { "GIF89a", 6, "image/gif" },
    };
    static const char *const html[] = { "<!doctype html", "<html",   "<head",   "<body",
                                        "<title",         "<script", "<iframe", "<h1",
                                        "<table",         "<div",    "<!--" };
    if (n == 0)
        return NULL;
    for (size_t i = 0; i < TL_ARRAY_LEN(magic); i++)
        if (n >= magic[i].len && memcmp(p, magic[i].magic, magic[i].len) == 0)
            return magic[i].mime;

    bool text = true;
    for (size_t i = 0; i < n; i++)
        if (p[i] < 0x20 && p[i] != '\t' && p[i] != '\n' && p[i] != '\r' && p[i] != '\f')
            text = false;
    size_t i = 0;
    if (n >= 3 && memcmp(p, "\xef\xbb\xbf", 3) == 0)
        i = 3;
    while (i < n && (p[i] == ' ' || p[i] == '\t' || p[i] == '\r' || p[i] == '\n'))
        i++;
    const char *t = (const char *)p + i;
    for (size_t k = 0; k < TL_ARRAY_LEN(html); k++)
        if (http_iprefix(t, n - i, html[k]))
            return "text/html";
    if (http_iprefix(t, n - i, "<?xml"))
        return "text/xml";
    if (text && i < n && (p[i] == '{' || p[i] == '['))
        return "text/json";
    for (size_t k = 0; k < n; k++)
        if (p[k] == 0x7f || p[k] >= 0x80) /* only ASCII counts as clearly text */
            text = false;
    return text ? "text/plain" : NULL;
}

/* ---- records ---- */

static struct tl_str http_ref_str(const char *pool, struct http_ref r)
{
    struct tl_str s = { pool + r.off, r.len };
    return s;
}

static struct tl_str http_hexstr(char *out, const uint8_t *md, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[md[i] >> 4];
        out[2 * i + 1] = digits[md[i] & 15];
    }
    struct tl_str s = { out, 2 * n };
    return s;
}

/* Writes one record: request q (or NULL), with the response read so far when with_resp. */
static void http_write(struct tl_parse_ctx *ctx, struct http_state *s, const struct http_req *q,
                       bool with_resp)
{
    struct http_rec m = { 0 };
    struct http_resp *r = &s->r;
    struct tl_str px[HTTP_MAX_PROXIED];
    char md5hex[2 * TL_MD5_LEN], shahex[2 * TL_SHA256_LEN];
    uint64_t ts = ctx->ts_us;

    if (q) {
        m.trans_depth = q->depth;
        m.method = http_ref_str(s->pool, q->s[RS_METHOD]);
        m.host = http_ref_str(s->pool, q->s[RS_HOST]);
        m.uri = http_ref_str(s->pool, q->s[RS_URI]);
        m.referrer = http_ref_str(s->pool, q->s[RS_REFERRER]);
        m.user_agent = http_ref_str(s->pool, q->s[RS_UA]);
        m.origin = http_ref_str(s->pool, q->s[RS_ORIGIN]);
        m.xff = http_ref_str(s->pool, q->s[RS_XFF]);
        m.request_content_type = http_ref_str(s->pool, q->s[RS_CTYPE]);
        m.username = http_ref_str(s->pool, q->s[RS_USER]);
        m.version.ptr = q->version;
        m.version.len = strlen(q->version);
        m.request_body_len = q->body_len;
        m.auth_scheme = q->auth_scheme;
        for (uint8_t i = 0; i < q->nproxied; i++)
            px[i] = http_ref_str(s->pool, q->proxied[i]);
        m.proxied.v = px;
        m.proxied.n = q->nproxied;
        m.status = q->status;
        m.value_capped = q->capped;
        m.resynced = q->resynced;
        ts = q->ts;
    } else {
        m.trans_depth = s->nresp;
    }
    if (with_resp && r->seen) {
        if (r->version[0]) {
            m.version.ptr = r->version;
            m.version.len = strlen(r->version);
        }
        if (r->code >= 200 || r->code == 101)
            m.status_code = r->code;
        m.info_code = r->info_code;
        m.status_msg = m.status_code ? http_ref_str(r->pool, r->s[RP_MSG]) : m.status_msg;
        m.info_msg = http_ref_str(r->pool, r->s[RP_INFO]);
        m.response_content_type = http_ref_str(r->pool, r->s[RP_CTYPE]);
        m.response_body_len = r->body_len;
        m.resp_mime = http_sniff(r->sniff, r->nsniff);
        if (r->hash_on && r->body_len > 0) {
            uint8_t md[TL_SHA256_LEN];
            tl_md5_final(&r->md5, md);
            m.resp_md5 = http_hexstr(md5hex, md, TL_MD5_LEN);
            tl_sha256_final(&r->sha256, md);
            m.resp_sha256 = http_hexstr(shahex, md, TL_SHA256_LEN);
            r->hash_on = false;
        }
        if (r->status > m.status)
            m.status = r->status;
        m.value_capped = m.value_capped || r->capped;
        m.resynced = m.resynced || r->resynced;
        if (!q)
            ts = r->ts;
    }
    if (m.status == TL_MSG_TRUNCATED)
        ctx->counters[TL_DC_TRUNCATED]++;
    ctx->emit(ctx, &m, ts);
}

/* Drops the oldest pending request and its strings. */
static void http_pop(struct http_state *s)
{
    if (s->nq == 0)
        return;
    uint16_t shift = s->nq > 1 ? s->q[1].pool_start : s->pool_used;
    memmove(s->pool, s->pool + shift, (size_t)(s->pool_used - shift));
    s->pool_used = (uint16_t)(s->pool_used - shift);
    memmove(&s->q[0], &s->q[1], sizeof(s->q[0]) * (size_t)(s->nq - 1));
    s->nq--;
    for (uint8_t i = 0; i < s->nq; i++) {
        struct http_req *q = &s->q[i];
        q->pool_start = (uint16_t)(q->pool_start - shift);
        for (size_t k = 0; k < RS_N; k++)
            if (q->s[k].len)
                q->s[k].off = (uint16_t)(q->s[k].off - shift);
        for (uint8_t k = 0; k < q->nproxied; k++)
            q->proxied[k].off = (uint16_t)(q->proxied[k].off - shift);
    }
}

static void http_resp_reset(struct http_state *s)
{
    memset(&s->r, 0, offsetof(struct http_resp, sniff));
}

/* A final response is complete: pair it with the oldest request, or write it alone. */
static void http_resp_done(struct tl_parse_ctx *ctx, struct http_state *s)
{
    s->nresp++;
    if (s->orphans) {
        s->orphans--;
        http_write(ctx, s, NULL, true);
    } else if (s->nq) {
        http_write(ctx, s, &s->q[0], true);
        http_pop(s);
    } else {
        http_write(ctx, s, NULL, true);
    }
    http_resp_reset(s);
    s->d[1].phase = PH_HEAD;
}

/* A response is being read (not: waiting for a status line, or skipping to one). */
static bool http_resp_busy(const struct http_state *s)
{
    return s->r.seen || s->d[1].phase == PH_BODY;
}

/* Writes everything pending: the response in progress with its request, then the rest alone. */
static void http_write_all(struct tl_parse_ctx *ctx, struct http_state *s)
{
    if (s->d[0].phase == PH_BODY)
        for (uint8_t i = 0; i < s->nq; i++)
            if (s->q[i].depth == s->body_req && s->q[i].status == TL_MSG_OK)
                s->q[i].status = TL_MSG_TRUNCATED;
    if (http_resp_busy(s)) {
        if (s->d[1].phase == PH_BODY && s->d[1].mode != BM_CLOSE && s->r.status == TL_MSG_OK)
            s->r.status = TL_MSG_TRUNCATED;
        http_resp_done(ctx, s);
    }
    while (s->nq) {
        http_write(ctx, s, &s->q[0], false);
        http_pop(s);
    }
    s->d[0].phase = s->d[1].phase = PH_HEAD;
}

static void http_giveup(struct tl_parse_ctx *ctx, struct http_state *s)
{
    http_write_all(ctx, s); /* the caller counts the give-up (TL_DC_GIVEUP) */
    s->dead = true;
}

/* ---- headers ---- */

static const char *const http_proxy_headers[] = {
    "FORWARDED", "X-FORWARDED-FOR",  "X-FORWARDED-FROM", "CLIENT-IP",
    "VIA",       "XROXY-CONNECTION", "PROXY-CONNECTION",
};

static void http_frame_header(struct http_frame *f, struct tl_str name, struct tl_str value)
{
    char buf[HTTP_SCRATCH];
    struct http_w w = { buf, 0, sizeof(buf), false };

    if (http_ieq(name, "content-length")) {
        http_wvalue(&w, value, false);
        uint64_t v = 0;
        bool ok = w.len > 0 && !w.cut;
        for (size_t i = 0; i < w.len && ok; i++) {
            if (buf[i] < '0' || buf[i] > '9' || v > (UINT64_MAX >> 4))
                ok = false;
            else
                v = v * 10 + (uint64_t)(buf[i] - '0');
        }
        if (!ok || (f->has_clen && f->clen != v))
            f->bad_clen = true; /* RFC 9112 6.3: invalid or differing lengths */
        f->clen = v;
        f->has_clen = true;
    } else if (http_ieq(name, "transfer-encoding")) {
        http_wvalue(&w, value, false);
        struct tl_str t = { buf, w.len };
        while (t.len && (http_ws(t.ptr[t.len - 1]) || t.ptr[t.len - 1] == ','))
            t.len--;
        /* RFC 9112 6.3: chunked must be the final coding. */
        f->chunked = t.len >= 7 && http_iprefix(t.ptr + t.len - 7, 7, "chunked") &&
                     (t.len == 7 || t.ptr[t.len - 8] == ',' || http_ws(t.ptr[t.len - 8]));
        f->other_te = !f->chunked && t.len > 0;
    }
}

/* Authorization: the scheme, and for Basic the user before the first colon (RFC 7617). */
static void http_auth(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                      struct tl_str value)
{
    static const char *const schemes[] = { "Basic", "NTLM", "Negotiate", "Bearer", "Digest" };
    char buf[HTTP_SCRATCH];
    struct http_w v = { buf, 0, sizeof(buf), false };
    http_wvalue(&v, value, false);
    size_t n = 0;
    while (n < v.len && !http_ws(buf[n]))
        n++;
    struct tl_str scheme = { buf, n };
    for (size_t i = 0; i < TL_ARRAY_LEN(schemes); i++)
        if (http_ieq(scheme, schemes[i]))
            q->auth_scheme = schemes[i];
    if (q->auth_scheme != schemes[0] || q->s[RS_USER].len)
        return;

    struct http_w w = http_req_w(ctx, s);
    uint32_t acc = 0;
    unsigned bits = 0;
    bool colon = false;
    for (size_t i = n; i < v.len && !colon; i++) {
        uint8_t c = (uint8_t)buf[i];
        int d;
        if (c >= 'A' && c <= 'Z')
            d = c - 'A';
        else if (c >= 'a' && c <= 'z')
            d = c - 'a' + 26;
        else if (c >= '0' && c <= '9')
            d = c - '0' + 52;
        else if (c == '+' || c == '-')
            d = 62;
        else if (c == '/' || c == '_')
            d = 63;
        else if (http_ws((char)c))
            continue;
        else
            break;
        acc = (acc << 6 | (uint32_t)d) & 0xffffff;
        bits += 6;
        if (bits >= 8) {
            bits -= 8;
            char out = (char)((acc >> bits) & 0xff);
            if (out == ':')
                colon = true; /* the password follows: never decoded further */
            else
                http_wc(&w, out);
        }
    }
    if (!colon)
        return; /* no user:password pair */
    q->s[RS_USER] = http_req_close(ctx, s, q, &w);
}

static void http_proxied(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                         struct tl_str name, struct tl_str value)
{
    size_t max = http_min(HTTP_MAX_PROXIED, ctx->limits->max_items);
    if (q->nproxied >= max) {
        http_capped(ctx, &q->capped);
        return;
    }
    struct http_w w = http_req_w(ctx, s);
    for (size_t i = 0; i < name.len; i++) {
        uint8_t c = (uint8_t)name.ptr[i];
        http_wc(&w, (char)(c >= 'a' && c <= 'z' ? c - 32 : c));
    }
    for (const char *p = " -> "; *p; p++)
        http_wc(&w, *p);
    http_wvalue(&w, value, false);
    q->proxied[q->nproxied++] = http_req_close(ctx, s, q, &w);
}

static void http_req_header(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                            struct tl_str name, struct tl_str value)
{
    static const struct {
        const char *name;
        uint8_t slot;
    } kept[] = {
        { "host", RS_HOST },     { "referer", RS_REFERRER },   { "user-agent", RS_UA },
        { "origin", RS_ORIGIN }, { "content-type", RS_CTYPE },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(kept); i++)
        if (http_ieq(name, kept[i].name) && !q->s[kept[i].slot].len)
            q->s[kept[i].slot] = http_req_put(ctx, s, q, value, false);
    if (http_ieq(name, "authorization") || http_ieq(name, "proxy-authorization"))
        http_auth(ctx, s, q, value);
    for (size_t i = 0; i < TL_ARRAY_LEN(http_proxy_headers); i++) {
        if (!http_ieq(name, http_proxy_headers[i]))
            continue;
        if (i == 1 && !q->s[RS_XFF].len)
            q->s[RS_XFF] = http_req_put(ctx, s, q, value, false);
        http_proxied(ctx, s, q, name, value);
    }
}

/*
 * Walks the header lines of a block (start line already read), joining obs-fold
 * continuation lines (RFC 9112 5.2) to their header. Lines without a colon are
 * skipped. Calls the request or the response handler for each header.
 */
static void http_headers(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                         struct tl_cursor *hb, struct http_frame *f)
{
    struct tl_str line;
    bool *capped = q ? &q->capped : &s->r.capped;
    while (http_line(hb, &line) && line.len) {
        uint8_t next;
        struct tl_str raw = line;
        while (tl_cur_peek(hb, 0, &next) && (next == ' ' || next == '\t')) {
            struct tl_str cont;
            http_line(hb, &cont);
            raw.len = (size_t)(cont.ptr + cont.len - raw.ptr);
        }
        const char *colon = memchr(raw.ptr, ':', raw.len);
        if (!colon)
            continue;
        struct tl_str name = { raw.ptr, (size_t)(colon - raw.ptr) };
        struct tl_str value = { colon + 1, raw.len - name.len - 1 };
        while (name.len && http_ws(name.ptr[name.len - 1]))
            name.len--;
        if (name.len > ctx->limits->max_value_len) {
            name.len = ctx->limits->max_value_len;
            http_capped(ctx, capped);
        }
        http_frame_header(f, name, value);
        if (q)
            http_req_header(ctx, s, q, name, value);
        else if (http_ieq(name, "content-type") && !s->r.s[RP_CTYPE].len)
            s->r.s[RP_CTYPE] = http_resp_put(ctx, &s->r, value);
    }
}

/* ---- start lines ---- */

/*
 * Where the start line and header block at the start of `in` end: 1 and the
 * offsets when complete, 0 when more is needed, -1 past HTTP_MAX_HEAD.
 * A simple request (HTTP/0.9) is one line: the caller decides with line_only.
 */
static int http_find_head(struct http_dir *d, const struct tl_cursor *in, bool line_only,
                          size_t *line_end, size_t *end)
{
    *line_end = http_find_lf(d, in);
    if (!*line_end)
        return tl_cur_left(in) >= HTTP_MAX_HEAD ? -1 : 0;
    if (*line_end > HTTP_MAX_HEAD)
        return -1;
    if (line_only) {
        *end = *line_end;
        return 1;
    }
    *end = http_find_end(d, in, *line_end);
    if (!*end)
        return tl_cur_left(in) >= HTTP_MAX_HEAD ? -1 : 0;
    return *end > HTTP_MAX_HEAD ? -1 : 1;
}

/* Leading empty lines before a start line are ignored (RFC 9112 2.2). */
static bool http_skip_blank(struct http_dir *d, struct tl_cursor *in)
{
    struct tl_str r = tl_cur_rest(in);
    size_t n = 0;
    while (n < r.len && (r.ptr[n] == '\r' || r.ptr[n] == '\n'))
        n++;
    if (n)
        http_consume(d, in, n);
    return n > 0;
}

/*
 * Control bytes where a request line should start: not HTTP, so give up.
 * Non-ASCII text is let through, to become a malformed request that is still
 * paired with its response (Zeek logs those too).
 */
static bool http_garbage(const struct tl_cursor *in)
{
    struct tl_str r = tl_cur_rest(in);
    if (r.len && !http_tchar((uint8_t)r.ptr[0]) && (uint8_t)r.ptr[0] < 0x80)
        return true;
    for (size_t i = 0; i < r.len && i < HTTP_METHOD_PEEK; i++) {
        uint8_t c = (uint8_t)r.ptr[i];
        if (c == '\r' || c == '\n')
            break;
        if ((c < 0x20 && c != '\t') || c == 0x7f)
            return true;
    }
    return false;
}

struct http_reqline {
    struct tl_str method, uri, version;
    bool ok, v09;
};

/*
 * method SP target SP HTTP/x.y (RFC 9112 3), leniently as Zeek reads it: the
 * target runs to the first whitespace followed by "HTTP/", and may contain
 * spaces; without a version it is a simple request (HTTP/0.9).
 */
static struct http_reqline http_reqline(struct tl_str line)
{
    struct http_reqline rl = { 0 };
    size_t i = 0, n = line.len;
    while (i < n && http_tchar((uint8_t)line.ptr[i]))
        i++;
    if (i == 0 || i == n || !http_ws(line.ptr[i]))
        return rl;
    rl.ok = true;
    rl.method.ptr = line.ptr;
    rl.method.len = i;
    while (i < n && http_ws(line.ptr[i]))
        i++;
    while (n > i && http_ws(line.ptr[n - 1]))
        n--;
    for (size_t k = i; k + 5 <= n; k++) {
        if ((k == i || http_ws(line.ptr[k - 1])) && http_iprefix(line.ptr + k, n - k, "HTTP/")) {
            rl.uri.ptr = line.ptr + i;
            rl.uri.len = k - i;
            rl.uri = http_trim(rl.uri);
            rl.version.ptr = line.ptr + k + 5;
            rl.version.len = n - k - 5;
            return rl;
        }
    }
    rl.v09 = true;
    rl.uri.ptr = line.ptr + i;
    rl.uri.len = n - i;
    return rl;
}

/* ---- resync ---- */

/* Method tokens a resync accepts: uppercase letters, '-' and '_' (every registered one). */
static bool http_method_char(char c)
{
    return (c >= 'A' && c <= 'Z') || c == '-' || c == '_';
}

static bool http_digit(char c)
{
    return c >= '0' && c <= '9';
}

/*
 * Can the n bytes of a line seen so far (no line end yet) still begin a request
 * line that http_request_line() accepts? A necessary condition only, on at most
 * HTTP_RESYNC_METHOD + 1 bytes: a partial line that fails it is dropped at once
 * rather than kept until its end.
 */
static bool http_request_prefix(const char *p, size_t n)
{
    size_t i = 0;
    while (i < n && i < HTTP_RESYNC_METHOD && http_method_char(p[i]))
        i++;
    return i == n || (i > 0 && p[i] == ' ');
}

/*
 * Is the whole line p[0..n) (with its LF) a request line a resync may stop at?
 * method SP request-target SP "HTTP/1.0" or "HTTP/1.1", then CRLF or LF
 * (RFC 9112 3): the method a token of uppercase letters, '-' and '_' (as every
 * registered method is) of at most HTTP_RESYNC_METHOD, the target at least one
 * byte with no space or control byte.
 */
static bool http_request_line(const char *p, size_t n)
{
    if (n && p[n - 1] == '\n')
        n--;
    if (n && p[n - 1] == '\r')
        n--;
    size_t i = 0;
    while (i < n && i < HTTP_RESYNC_METHOD && http_method_char(p[i]))
        i++;
    if (i == 0 || i == n || p[i] != ' ')
        return false;
    size_t target = ++i;
    while (i < n && (uint8_t)p[i] > ' ' && (uint8_t)p[i] != 0x7f)
        i++;
    if (i == target || n - i != 9 || memcmp(p + i, " HTTP/1.", 8) != 0)
        return false;
    return p[i + 8] == '0' || p[i + 8] == '1';
}

/*
 * Do the first n bytes at p match "HTTP/1.x" SP 3DIGIT followed by SP, CR or
 * LF (RFC 9112 4), as far as they go? All HTTP_STATUS_START of them must for a
 * status line.
 */
static bool http_status_start(const char *p, size_t n)
{
    static const char pat[] = "HTTP/1.# ###";
    for (size_t i = 0; i < n && i < HTTP_STATUS_START; i++) {
        bool ok;
        if (i == sizeof(pat) - 1)
            ok = p[i] == ' ' || p[i] == '\r' || p[i] == '\n';
        else
            ok = pat[i] == '#' ? http_digit(p[i]) : p[i] == pat[i];
        if (!ok)
            return false;
    }
    return true;
}

/*
 * Could the first line of a flow's originator be meant as a request line,
 * however broken (Zeek logs those too)? Yes when it starts with a method-like
 * token followed by whitespace, '/' or its end, or names an HTTP version
 * anywhere. Other text is taken for the middle of a conversation that the
 * capture joined late.
 */
static bool http_req_plausible(struct tl_str line)
{
    size_t i = 0;
    while (i < line.len && i < HTTP_RESYNC_METHOD && http_method_char(line.ptr[i]))
        i++;
    if (i > 0 && (i == line.len || http_ws(line.ptr[i]) || line.ptr[i] == '/'))
        return true;
    for (size_t k = 0; k + 5 <= line.len; k++)
        if (http_iprefix(line.ptr + k, line.len - k, "HTTP/"))
            return true;
    return false;
}

/*
 * The originator's first line: 1 with *lf just past its LF, 0 when it has not
 * ended yet, -1 when it holds a control byte other than TAB or CR (binary: not
 * HTTP). d->scan_lf remembers how far the bytes were found clean, so each byte
 * is looked at once however the line arrives.
 */
static int http_first_line(struct http_dir *d, const struct tl_cursor *in, size_t *lf)
{
    struct tl_str r = tl_cur_rest(in);
    for (size_t i = d->scan_lf; i < r.len; i++) {
        uint8_t c = (uint8_t)r.ptr[i];
        if (c == '\n') {
            *lf = i + 1;
            return 1;
        }
        if ((c < 0x20 && c != '\t' && c != '\r') || c == 0x7f)
            return -1;
    }
    d->scan_lf = r.len;
    return 0;
}

/*
 * One direction lost its place: skip to a start line. For the response
 * direction, responses still owed to requests written alone can no longer be
 * told apart, so none are expected any more. skip_line: the unread input
 * starts inside a line already rejected.
 */
static void http_resync_enter(struct http_state *s, uint8_t dir, bool skip_line)
{
    struct http_dir *d = &s->d[dir];
    d->phase = PH_RESYNC;
    d->skip_line = skip_line;
    d->scan_lf = d->scan_end = 0;
    if (dir == 1)
        s->orphans = 0;
}

static enum tl_parse http_resync(struct tl_parse_ctx *ctx, struct http_state *s,
                                 struct tl_cursor *in);

/* A new pending request; when the queue is full the oldest is written alone. */
static struct http_req *http_push(struct tl_parse_ctx *ctx, struct http_state *s)
{
    size_t max = http_min(HTTP_MAX_PENDING, ctx->limits->max_pending);
    if (max == 0)
        max = 1;
    while (s->nq >= max) {
        http_write(ctx, s, &s->q[0], false);
        http_pop(s);
        s->orphans++;
        ctx->counters[TL_DC_CAPPED]++;
    }
    struct http_req *q = &s->q[s->nq++];
    memset(q, 0, sizeof(*q));
    q->pool_start = s->pool_used;
    q->ts = ctx->ts_us;
    q->depth = ++s->nreq;
    q->resynced = s->d[0].resync_hit;
    s->d[0].resync_hit = false;
    return q;
}

static enum tl_parse http_request(struct tl_parse_ctx *ctx, struct http_state *s,
                                  struct tl_cursor *in)
{
    struct http_dir *d = &s->d[0];
    if (http_skip_blank(d, in))
        return TL_PARSE_OK;
    if (s->nreq == 0) {
        /* The first line decides: binary is not HTTP, other text is mid-conversation. */
        size_t lf = 0;
        int first = http_first_line(d, in, &lf);
        if (first < 0)
            return TL_PARSE_GIVEUP; /* never was HTTP: no record */
        if (first == 0 && tl_cur_left(in) < HTTP_MAX_HEAD)
            return TL_PARSE_MORE;
        struct tl_str line = { tl_cur_rest(in).ptr, lf ? lf - 1 : 0 };
        if (first == 0 || !http_req_plausible(line)) {
            http_resync_enter(s, 0, false);
            return http_resync(ctx, s, in);
        }
    }
    if (http_garbage(in)) {
        if (s->nreq == 0)
            return TL_PARSE_GIVEUP; /* never was HTTP: no record */
        struct http_req *q = http_push(ctx, s);
        http_malformed(ctx, &q->status);
        ctx->counters[TL_DC_MESSAGES]++;
        return TL_PARSE_GIVEUP;
    }

    size_t line_end, end;
    int found = http_find_head(d, in, false, &line_end, &end);
    struct tl_str line = { tl_cur_rest(in).ptr, line_end };
    struct http_reqline rl = { 0 };
    if (line_end) {
        rl = http_reqline(http_trim(line));
        if (rl.ok && rl.v09)
            found = http_find_head(d, in, true, &line_end, &end);
    }
    if (found == 0)
        return TL_PARSE_MORE;
    if (found < 0) {
        struct http_req *q = http_push(ctx, s);
        http_malformed(ctx, &q->status);
        http_capped(ctx, &q->capped);
        ctx->counters[TL_DC_MESSAGES]++;
        return TL_PARSE_GIVEUP;
    }

    ctx->counters[TL_DC_MESSAGES]++;
    struct tl_cursor hb;
    tl_cur_sub(in, end, &hb);
    d->scan_lf = d->scan_end = 0;
    tl_cur_skip(&hb, line_end);

    struct http_req *q = http_push(ctx, s);
    struct http_frame f = { 0 };
    if (!rl.ok) {
        http_malformed(ctx, &q->status); /* kept, so its response pairs as Zeek does */
        return TL_PARSE_OK;
    }
    q->s[RS_METHOD] = http_req_put(ctx, s, q, rl.method, false);
    q->s[RS_URI] = http_req_put(ctx, s, q, rl.uri, true);
    q->head = http_ieq(rl.method, "HEAD");
    q->connect = http_ieq(rl.method, "CONNECT");
    q->v09 = rl.v09;
    if (rl.v09)
        memcpy(q->version, "0.9", 4);
    else
        http_version(ctx, q->version, rl.version, &q->capped);
    if (!rl.v09)
        http_headers(ctx, s, q, &hb, &f);

    if (f.bad_clen || f.other_te) {
        /* RFC 9112 6.3: the body cannot be delimited, so neither can what follows. */
        http_malformed(ctx, &q->status);
        return TL_PARSE_GIVEUP;
    }
    s->body_req = q->depth;
    if (rl.v09) {
        d->phase = PH_V09; /* Zeek reads header lines after a simple request, if any come */
    } else if (f.chunked) {
        d->phase = PH_BODY;
        d->mode = BM_CHUNK_SIZE;
    } else if (f.has_clen && f.clen) {
        d->phase = PH_BODY;
        d->mode = BM_LENGTH;
        d->left = f.clen;
    } else if (q->connect) {
        d->phase = PH_CONNECT; /* wait for the response: tunnel or not */
    }
    return TL_PARSE_OK;
}

/*
 * Lines after a simple request: read as its header block (as Zeek does), which
 * then ends the request. A blank line first ends it at once.
 */
static enum tl_parse http_v09_headers(struct tl_parse_ctx *ctx, struct http_state *s,
                                      struct tl_cursor *in)
{
    struct http_dir *d = &s->d[0];
    uint8_t c0;
    tl_cur_peek(in, 0, &c0);
    if (c0 == '\n' || c0 == '\r') {
        d->phase = PH_HEAD;
        http_skip_blank(d, in); /* OK must consume, or the caller stops calling */
        return TL_PARSE_OK;
    }
    size_t line_end, end;
    int found = http_find_head(d, in, false, &line_end, &end);
    if (found == 0)
        return TL_PARSE_MORE;
    struct http_req *q = s->nq && s->q[s->nq - 1].depth == s->body_req ? &s->q[s->nq - 1] : NULL;
    if (found < 0) {
        if (q) {
            http_malformed(ctx, &q->status);
            http_capped(ctx, &q->capped);
        }
        return TL_PARSE_GIVEUP;
    }
    struct tl_cursor hb;
    tl_cur_sub(in, end, &hb);
    d->scan_lf = d->scan_end = 0;
    d->phase = PH_HEAD;
    struct http_frame f = { 0 };
    if (q)
        http_headers(ctx, s, q, &hb, &f); /* the last request: its strings end the pool */
    return TL_PARSE_OK;
}

/* Starts reading a response body: hashing and sniffing begin afresh. */
static void http_body_start(struct http_state *s, uint8_t mode, uint64_t left)
{
    s->d[1].phase = PH_BODY;
    s->d[1].mode = mode;
    s->d[1].left = left;
    s->r.hash_on = true;
    tl_md5_init(&s->r.md5);
    tl_sha256_init(&s->r.sha256);
}

static enum tl_parse http_body(struct tl_parse_ctx *ctx, struct http_state *s,
                               struct tl_cursor *in);

static enum tl_parse http_response(struct tl_parse_ctx *ctx, struct http_state *s,
                                   struct tl_cursor *in)
{
    struct http_dir *d = &s->d[1];
    struct http_resp *r = &s->r;
    const struct http_req *q = !s->orphans && s->nq ? &s->q[0] : NULL;

    if (q && q->v09 && !r->seen) {
        /* A simple request gets the bare body up to the close (RFC 1945 4). */
        r->seen = true;
        r->ts = ctx->ts_us;
        memcpy(r->version, "0.9", 4);
        http_body_start(s, BM_CLOSE, 0);
        return http_body(ctx, s, in);
    }
    if (http_skip_blank(d, in))
        return TL_PARSE_OK;
    struct tl_str rest = tl_cur_rest(in);
    if (!http_iprefix(rest.ptr, rest.len, "HTTP/")) {
        if (rest.len < 5 && http_is_start(rest, "HTTP/"))
            return TL_PARSE_MORE;
        bool first = s->nresp == 0 && !r->seen, owed = s->nq || s->orphans;
        if (first && !owed) {
            /* The capture joined inside a response: skip to the next one. */
            http_resync_enter(s, 1, false);
            return http_resync(ctx, s, in);
        }
        http_malformed(ctx, &r->status);
        r->seen = true;
        r->ts = ctx->ts_us;
        ctx->counters[TL_DC_MESSAGES]++;
        if (!first)
            return TL_PARSE_GIVEUP;
        /* Its start was not captured: written with its request, then skipped. */
        http_resp_done(ctx, s);
        http_resync_enter(s, 1, false);
        return http_resync(ctx, s, in);
    }

    size_t line_end, end;
    int found = http_find_head(d, in, false, &line_end, &end);
    if (found == 0)
        return TL_PARSE_MORE;
    ctx->counters[TL_DC_MESSAGES]++;
    r->seen = true;
    if (!r->ts)
        r->ts = ctx->ts_us;
    if (d->resync_hit) {
        r->resynced = true;
        d->resync_hit = false;
    }
    if (found < 0) {
        http_malformed(ctx, &r->status);
        http_capped(ctx, &r->capped);
        return TL_PARSE_GIVEUP;
    }
    struct tl_cursor hb;
    tl_cur_sub(in, end, &hb);
    d->scan_lf = d->scan_end = 0;

    /* HTTP-version SP status-code SP [reason-phrase] (RFC 9112 4) */
    struct tl_str line;
    http_line(&hb, &line);
    size_t i = 5, n = line.len;
    while (i < n && !http_ws(line.ptr[i]))
        i++;
    struct tl_str ver = { line.ptr + 5, i - 5 };
    while (i < n && http_ws(line.ptr[i]))
        i++;
    unsigned code = 0, digits = 0;
    while (i < n && line.ptr[i] >= '0' && line.ptr[i] <= '9' && digits < 4) {
        code = code * 10 + (unsigned)(line.ptr[i++] - '0');
        digits++;
    }
    if (digits != 3 || (i < n && !http_ws(line.ptr[i]))) {
        http_malformed(ctx, &r->status);
        return TL_PARSE_GIVEUP;
    }
    struct tl_str reason = { line.ptr + i, n - i };
    http_version(ctx, r->version, ver, &r->capped);

    struct http_frame f = { 0 };
    if (code >= 100 && code < 200 && code != 101) {
        /* Interim: the final response to the same request follows (RFC 9110 15.2). */
        http_headers(ctx, s, NULL, &hb, &f);
        r->info_code = (uint16_t)code;
        r->s[RP_INFO] = http_resp_put(ctx, r, reason);
        r->code = (uint16_t)code;
        return TL_PARSE_OK;
    }
    r->code = (uint16_t)code;
    r->s[RP_MSG] = http_resp_put(ctx, r, reason);
    http_headers(ctx, s, NULL, &hb, &f);

    bool tunnel = code == 101 || (q && q->connect && code >= 200 && code < 300);
    if (tunnel) {
        http_resp_done(ctx, s);
        return TL_PARSE_GIVEUP;
    }
    if (q && q->connect && s->d[0].phase == PH_CONNECT)
        s->d[0].phase = PH_HEAD;
    if ((q && q->head) || code == 204 || code == 304) {
        http_resp_done(ctx, s); /* RFC 9112 6.3: no body, whatever the headers say */
        return TL_PARSE_OK;
    }
    if (f.chunked) {
        http_body_start(s, BM_CHUNK_SIZE, 0);
    } else if (f.has_clen && !f.bad_clen) {
        if (f.clen == 0) {
            http_resp_done(ctx, s);
            return TL_PARSE_OK;
        }
        http_body_start(s, BM_LENGTH, f.clen);
    } else {
        if (f.bad_clen)
            http_malformed(ctx, &r->status);
        http_body_start(s, BM_CLOSE, 0); /* RFC 9112 6.3 rule 8: until the close */
    }
    return TL_PARSE_OK;
}

/*
 * Requests: whole lines are consumed until one is a request line. A partial
 * last line is kept only while http_request_prefix() allows and within
 * HTTP_MAX_HEAD; otherwise it is consumed and the rest of it skipped when it
 * ends. Returns the bytes consumed; d->phase is PH_HEAD once a line is found.
 */
static size_t http_skip_to_request(struct http_dir *d, struct tl_cursor *in)
{
    size_t skipped = 0;
    for (;;) {
        struct tl_str r = tl_cur_rest(in);
        if (r.len == 0)
            return skipped;
        size_t lf = http_find_lf(d, in);
        if (!lf) {
            if (!d->skip_line && r.len < HTTP_MAX_HEAD && http_request_prefix(r.ptr, r.len))
                return skipped; /* may still become a request line */
            http_consume(d, in, r.len);
            d->skip_line = true;
            return skipped + r.len;
        }
        if (!d->skip_line && lf <= HTTP_MAX_HEAD && http_request_line(r.ptr, lf)) {
            d->phase = PH_HEAD;
            return skipped;
        }
        http_consume(d, in, lf);
        d->skip_line = false;
        skipped += lf;
    }
}

/*
 * Responses: the next "HTTP/1.x ddd" anywhere, not only at a line start, since
 * a body need not end with a line end. Only the last HTTP_STATUS_START - 1
 * bytes are ever kept, when they could begin one. Returns the bytes consumed;
 * d->phase is PH_HEAD once a status line is found.
 */
static size_t http_skip_to_status(struct http_dir *d, struct tl_cursor *in)
{
    struct tl_str r = tl_cur_rest(in);
    size_t i = 0;
    while (i < r.len) {
        const char *h = memchr(r.ptr + i, 'H', r.len - i);
        if (!h) {
            i = r.len;
            break;
        }
        i = (size_t)(h - r.ptr);
        if (http_status_start(h, r.len - i))
            break; /* found, or may still be */
        i++;
    }
    http_consume(d, in, i);
    if (r.len - i >= HTTP_STATUS_START)
        d->phase = PH_HEAD;
    return i;
}

/* PH_RESYNC: skips to a start line for this direction, then reads on from it. */
static enum tl_parse http_resync(struct tl_parse_ctx *ctx, struct http_state *s,
                                 struct tl_cursor *in)
{
    struct http_dir *d = &s->d[ctx->dir];
    size_t skipped = ctx->dir == 0 ? http_skip_to_request(d, in) : http_skip_to_status(d, in);
    if (d->phase != PH_HEAD)
        return skipped ? TL_PARSE_OK : TL_PARSE_MORE;
    d->resync_hit = true;
    if (skipped)
        return TL_PARSE_OK; /* read from the start line on the next call */
    return ctx->dir == 0 ? http_request(ctx, s, in) : http_response(ctx, s, in);
}

/* ---- bodies ---- */

static void http_body_data(struct tl_parse_ctx *ctx, struct http_state *s, const uint8_t *p,
                           size_t n)
{
    if (ctx->dir == 0) {
        for (uint8_t i = 0; i < s->nq; i++)
            if (s->q[i].depth == s->body_req)
                s->q[i].body_len += n;
        return;
    }
    struct http_resp *r = &s->r;
    if (!r->sniff_done && r->nsniff < HTTP_SNIFF) {
        size_t k = http_min(n, HTTP_SNIFF - (size_t)r->nsniff);
        memcpy(r->sniff + r->nsniff, p, k);
        r->nsniff = (uint8_t)(r->nsniff + k);
    }
    r->body_len += n;
    if (!r->hash_on)
        return;
    if (r->body_len > ctx->limits->max_body_hash) {
        r->hash_on = false;
        ctx->counters[TL_DC_CAPPED]++;
        return;
    }
    tl_md5_update(&r->md5, p, n);
    tl_sha256_update(&r->sha256, p, n);
}

static void http_msg_done(struct tl_parse_ctx *ctx, struct http_state *s)
{
    if (ctx->dir == 0)
        s->d[0].phase = PH_HEAD;
    else
        http_resp_done(ctx, s);
}

/* The message in progress cannot be delimited: flag it and give up. */
static enum tl_parse http_bad_framing(struct tl_parse_ctx *ctx, struct http_state *s)
{
    if (ctx->dir == 1) {
        http_malformed(ctx, &s->r.status);
    } else {
        for (uint8_t i = 0; i < s->nq; i++)
            if (s->q[i].depth == s->body_req)
                http_malformed(ctx, &s->q[i].status);
    }
    return TL_PARSE_GIVEUP;
}

/* Consumes body bytes as they come; chunk-size lines and trailers need a whole line. */
static enum tl_parse http_body(struct tl_parse_ctx *ctx, struct http_state *s, struct tl_cursor *in)
{
    struct http_dir *d = &s->d[ctx->dir];
    size_t avail = tl_cur_left(in), lf;

    switch (d->mode) {
    case BM_LENGTH:
    case BM_CHUNK_DATA:
    case BM_CLOSE: {
        size_t take = d->mode == BM_CLOSE || avail < d->left ? avail : (size_t)d->left;
        if (take == 0)
            return TL_PARSE_MORE;
        const uint8_t *p = tl_cur_bytes(in, take);
        http_body_data(ctx, s, p, take);
        if (d->mode == BM_CLOSE)
            return TL_PARSE_OK;
        d->left -= take;
        if (d->left == 0) {
            if (d->mode == BM_LENGTH)
                http_msg_done(ctx, s);
            else
                d->mode = BM_CHUNK_END;
        }
        return TL_PARSE_OK;
    }
    case BM_CHUNK_SIZE: {
        /* chunk-size [chunk-ext] CRLF (RFC 9112 7.1); extensions are ignored */
        lf = http_find_lf(d, in);
        if (!lf || lf > HTTP_MAX_HEAD)
            return avail >= HTTP_MAX_HEAD ? http_bad_framing(ctx, s) : TL_PARSE_MORE;
        struct tl_cursor lc;
        struct tl_str line;
        tl_cur_sub(in, lf, &lc);
        d->scan_lf = 0;
        http_line(&lc, &line);
        line = http_trim(line);
        uint64_t size = 0;
        size_t i = 0;
        while (i < line.len && http_hex((uint8_t)line.ptr[i]) >= 0) {
            if (size > (UINT64_MAX >> 5))
                return http_bad_framing(ctx, s);
            size = size * 16 + (uint64_t)http_hex((uint8_t)line.ptr[i++]);
        }
        while (i < line.len && http_ws(line.ptr[i]))
            i++;
        if (i == 0 || (i < line.len && line.ptr[i] != ';'))
            return http_bad_framing(ctx, s);
        d->mode = size ? BM_CHUNK_DATA : BM_TRAILER;
        d->left = size;
        return TL_PARSE_OK;
    }
    case BM_CHUNK_END: {
        uint8_t c0, c1;
        tl_cur_peek(in, 0, &c0);
        if (c0 == '\n') {
            tl_cur_skip(in, 1);
        } else if (c0 == '\r') {
            if (!tl_cur_peek(in, 1, &c1))
                return TL_PARSE_MORE;
            if (c1 != '\n')
                return http_bad_framing(ctx, s);
            tl_cur_skip(in, 2);
        } else {
            return http_bad_framing(ctx, s);
        }
        d->mode = BM_CHUNK_SIZE;
        return TL_PARSE_OK;
    }
    case BM_TRAILER: {
        /* trailer-section CRLF (RFC 9112 7.1.2): fields are skipped one line at a time */
        lf = http_find_lf(d, in);
        if (!lf || lf > HTTP_MAX_HEAD)
            return avail >= HTTP_MAX_HEAD ? http_bad_framing(ctx, s) : TL_PARSE_MORE;
        struct tl_cursor lc;
        struct tl_str line;
        tl_cur_sub(in, lf, &lc);
        d->scan_lf = 0;
        http_line(&lc, &line);
        if (line.len == 0)
            http_msg_done(ctx, s);
        return TL_PARSE_OK;
    }
    default: return TL_PARSE_GIVEUP;
    }
}

/* ---- entry points ---- */

static enum tl_parse http_parse(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct http_state *s = ctx->state;
    enum tl_parse r;

    if (s->dead || ctx->dir > 1)
        return TL_PARSE_GIVEUP;
    switch (s->d[ctx->dir].phase) {
    case PH_HEAD: r = ctx->dir == 0 ? http_request(ctx, s, in) : http_response(ctx, s, in); break;
    case PH_BODY: r = http_body(ctx, s, in); break;
    case PH_V09: r = http_v09_headers(ctx, s, in); break;
    case PH_RESYNC: r = http_resync(ctx, s, in); break;
    default: /* CONNECT sent: wait for the answer, but not forever */
        r = tl_cur_left(in) >= HTTP_MAX_HEAD ? TL_PARSE_GIVEUP : TL_PARSE_MORE;
        break;
    }
    if (r == TL_PARSE_GIVEUP)
        http_giveup(ctx, s);
    return r;
}

static void http_gap(struct tl_parse_ctx *ctx, uint64_t n)
{
    struct http_state *s = ctx->state;
    if (s->dead || ctx->dir > 1)
        return; /* the caller counts gaps (TL_DC_GAPS) */
    struct http_dir *d = &s->d[ctx->dir];
    d->scan_lf = d->scan_end = 0;
    bool known = d->phase == PH_BODY &&
                 (d->mode == BM_CLOSE ||
                  ((d->mode == BM_LENGTH || d->mode == BM_CHUNK_DATA) && n <= d->left));
    if (!known && d->phase == PH_RESYNC) {
        d->skip_line = false; /* already lost; what follows the gap may start a line */
        return;
    }
    if (!known) {
        /* Write what is pending; the other side resyncs too if it was inside a message. */
        uint8_t o = (uint8_t)!ctx->dir;
        bool o_lost = s->d[o].phase == PH_RESYNC;
        bool o_skip = o_lost && s->d[o].skip_line;
        o_lost = o_lost || (o == 0 ? s->d[0].phase != PH_HEAD : http_resp_busy(s));
        http_write_all(ctx, s);
        http_resync_enter(s, ctx->dir, false);
        if (o_lost)
            http_resync_enter(s, o, o_skip);
        return;
    }
    if (ctx->dir == 0) {
        for (uint8_t i = 0; i < s->nq; i++)
            if (s->q[i].depth == s->body_req)
                s->q[i].body_len += n;
    } else {
        s->r.body_len += n;
        s->r.hash_on = false;
        s->r.sniff_done = true;
    }
    if (d->mode == BM_CLOSE)
        return;
    d->left -= n;
    if (d->left == 0) {
        if (d->mode == BM_LENGTH)
            http_msg_done(ctx, s);
        else
            d->mode = BM_CHUNK_END;
    }
}

static void http_flush(struct tl_parse_ctx *ctx, uint64_t now_us)
{
    struct http_state *s = ctx->state;
    if (now_us == UINT64_MAX) {
        http_write_all(ctx, s);
        return;
    }
    uint64_t timeout = ctx->limits->pending_timeout;
    /* Not the request still sending its body or waiting for its CONNECT answer. */
    while (s->nq && !http_resp_busy(s) &&
           !(s->d[0].phase != PH_HEAD && s->q[0].depth == s->body_req) && s->q[0].ts <= now_us &&
           now_us - s->q[0].ts >= timeout) {
        http_write(ctx, s, &s->q[0], false);
        http_pop(s);
        s->orphans++;
    }
}

const struct tl_event_type tl_http_event = {
    .name = "http",
    .doc = "one HTTP/1.x request and its response",
    .fields = http_fields,
    .nfields = TL_ARRAY_LEN(http_fields),
    .ext = &tl_domain_names_fields,
};

/* The Host the request names, as the domain statistics count it. */
static struct tl_str http_domain(const void *record)
{
    return ((const struct http_rec *)record)->host;
}

const struct tl_dissector tl_http_dissector = {
    .name = "http",
    .doc = "HTTP/1.x requests paired with their responses",
    .transports = TL_TCP,
    .ports = { 80, 8080, 8000, 3128 },
    .state_size = sizeof(struct http_state),
    .record_size = sizeof(struct http_rec),
    .parse = http_parse,
    .gap = http_gap,
    .flush = http_flush,
    .event = &tl_http_event,
    .domain = http_domain,
};
