/*
 * http.c - HTTP/1.x (RFC 9112, RFC 9110) and HTTP/0.9 simple requests on
 * reassembled TCP -> `http` records, one per request/response pair, named as
 * in Zeek's http.log.
 *
 * Invariants:
 * - Only a start line plus header block is ever waited for, and only up to
 *   HTTP_MAX_HEAD bytes; past that the message is malformed and the flow is
 *   given up. Bodies, chunk streams and trailers are consumed as they arrive.
 * - Requests wait for their responses in a queue of at most HTTP_MAX_PIPELINE
 *   (and limits->max_pipeline) entries, HTTP_Q_INLINE in the state and the
 *   rest grown when a pipeline is deeper: their fields, never their bytes, with
 *   the strings in a fixed pool in the flow state. A string equal to the one
 *   the request before it has (Host, User-Agent, header names... of a
 *   pipeline) is kept once, so deep pipelines fit. When the queue is full, or
 *   the pool has less than HTTP_REQ_ROOM free, the oldest request is written
 *   alone (counted in TL_DC_CAPPED) and the response owed to it is later
 *   written alone too, so the pairing of the rest holds; what still does not
 *   fit is cut and flagged (value_capped).
 * - Every request and response read is written; `reply_status` says why one
 *   was written without the other (see http_fields). A start line and header
 *   block cut by a gap or by the flow's end (ctx->capture_cut) is read as far
 *   as it goes and flagged truncated.
 * - Response bodies that are files are hashed as they stream (limits->body_hash
 *   and body_digests: by default SHA-256 of executables, archives, office
 *   documents, scripts and PDFs), up to limits->max_body_hash bytes; a longer
 *   body or one with a gap gets no hash. A body is a file when its declared
 *   type (Content-Type, the URI's or Content-Disposition's extension) says so,
 *   or else when its first HTTP_SNIFF bytes do: until those are in, the bytes
 *   wait in the sniff buffer and are hashed first once the answer is yes. Web
 *   pages, JSON and images, most of the bytes on a network, cost no digest.
 *   The hash contexts (dissect/hash.c) are plain structs kept in the flow
 *   state; nothing allocates.
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
 * Zeek's http.log fields beside tapline's own: orig_mime_types and
 * resp_mime_types type the bodies with Zeek's file-magic names (see
 * http_sniff; a content-encoded response body is not typed, Zeek would type
 * it decoded), client_header_names and server_header_names list the header
 * names in order, upper case, as Zeek's header-names policy does. For the
 * detections: exe_download, mime_mismatch, client_kind and client_tool (see
 * http_file_flags, http_client_kind), computed when a record is written.
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
    HTTP_MAX_PIPELINE = 64,  /* requests awaiting a response (also capped by limits) */
    HTTP_Q_INLINE = 4,       /* of them, kept in the state; a deeper pipeline grows a queue */
    HTTP_REQ_POOL = 6144,    /* strings of the pending requests */
    HTTP_POOL_INLINE = 1024, /* of them, kept in the state; more grow the pool */
    HTTP_REQ_ROOM = 512,     /* pool bytes kept free for the next request */
    HTTP_RESP_POOL = 1024,   /* strings of the response being read */
    HTTP_MAX_HEAD = 65536,   /* start line + header block (also one chunk or trailer line) */
    HTTP_MAX_PROXIED = 8,    /* proxy headers kept per request */
    HTTP_SNIFF = 64,         /* first body bytes kept to type a body (resp_mime, *_mime_types) */
    HTTP_MAX_NAMES = 64,     /* header names kept per message (also capped by max_items) */
    HTTP_NAMES_BUF = 1024,   /* one header block's names, before they go to a pool */
    HTTP_NAME_MAX = 255,     /* a header name kept (its length is one byte in the list) */
    HTTP_EXT_LEN = 8,        /* a file extension kept, with its NUL */
    HTTP_SCRATCH = 512,      /* unfolded values that are interpreted, not kept */
    HTTP_VERSION_LEN = 8,    /* "1.1" and a NUL, with room for odd ones */
    HTTP_METHOD_PEEK = 32,   /* start-line bytes checked for binary garbage */
    HTTP_RESYNC_METHOD = 20, /* longest method token a resync accepts */
    HTTP_STATUS_START = 13,  /* "HTTP/1.1 200" and the byte after it */
    HTTP_MAX_FRAMING = 6,    /* framing header lines kept for framing_conflict */
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
    struct tl_str resp_md5, resp_sha1, resp_sha256;
    const char *auth_scheme;
    struct tl_str username;
    struct tl_strlist proxied;
    uint8_t status;
    bool value_capped, resynced;
    const char *reply_status;
    struct tl_strlist orig_mime_types, resp_mime_types, client_header_names, server_header_names;
    bool exe_download, mime_mismatch;
    const char *client_kind, *client_tool;
    struct tl_strlist framing_conflict;
    bool smuggled;
};

static const struct tl_field http_fields[] = {
    TL_FLOW_ID_FIELDS(struct http_rec),
    TL_FIELD(struct http_rec, trans_depth, U32, "trans_depth",
             "position of the request in the flow, from 1"),
    TL_FIELD_OPT(struct http_rec, method, STR, "method", "request method, as sent"),
    TL_FIELD_OPT_P(struct http_rec, host, STR, "host", "Host header"),
    TL_FIELD_OPT_P(struct http_rec, uri, STR, "uri", "request target, %XX decoded"),
    TL_FIELD_OPT(struct http_rec, version, STR, "version",
                 "HTTP version of the response (else of the request)"),
    TL_FIELD_OPT_P(struct http_rec, referrer, STR, "referrer", "Referer header"),
    TL_FIELD_OPT_P(struct http_rec, user_agent, STR, "user_agent", "User-Agent header"),
    TL_FIELD_OPT_P(struct http_rec, origin, STR, "origin", "Origin header"),
    TL_FIELD_OPT_P(struct http_rec, xff, STR, "xff", "X-Forwarded-For header"),
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
                 "type sniffed from the first response body bytes as transferred (Zeek's names)"),
    TL_FIELD_OPT(struct http_rec, resp_md5, STR, "resp_md5",
                 "MD5 of the response body (see http.hash_bodies, http.hash_algorithms)"),
    TL_FIELD_OPT(struct http_rec, resp_sha1, STR, "resp_sha1",
                 "SHA-1 of the response body (see http.hash_bodies, http.hash_algorithms)"),
    TL_FIELD_OPT(struct http_rec, resp_sha256, STR, "resp_sha256",
                 "SHA-256 of the response body (see http.hash_bodies, http.hash_algorithms)"),
    TL_FIELD_OPT(struct http_rec, auth_scheme, CSTR, "auth_scheme",
                 "Authorization scheme: Basic, NTLM, Negotiate, Bearer, Digest"),
    TL_FIELD_OPT_P(struct http_rec, username, STR, "username",
                   "Basic authorization user (never the password)"),
    TL_FIELD_OPT_P(struct http_rec, proxied, STRLIST, "proxied",
                   "proxy headers as \"NAME -> value\""),
    TL_FIELD(struct http_rec, status, STATUS, "status",
             "ok, truncated (flow ended mid-message) or malformed"),
    TL_FIELD_OPT(struct http_rec, value_capped, BOOL, "value_capped",
                 "a name or value was cut to its cap"),
    TL_FIELD_OPT(struct http_rec, resynced, BOOL, "resynced",
                 "first message read after skipping to a start line (gap, mid-stream start)"),
    TL_FIELD_OPT(struct http_rec, reply_status, CSTR, "reply_status",
                 "why the request has no complete response, or the response no request (absent "
                 "when both are there): no_reply (none within dissect.pending_timeout), "
                 "flow_ended (the connection ended first), reply_cut (the response's end was "
                 "lost: status truncated), reply_gap / request_gap (bytes of that direction were "
                 "lost, so the pairing stopped there), reply_unparseable / request_unparseable "
                 "(that direction could not be read on), tunnel (CONNECT or Upgrade ended HTTP "
                 "first), pending_capped (http.max_pipeline requests waited; its response is "
                 "written alone too), request_written_early (a response whose request was "
                 "written alone before it came), no_request (a response whose request was not "
                 "seen)"),
    TL_FIELD_OPT(struct http_rec, orig_mime_types, STRLIST, "orig_mime_types",
                 "Zeek's: type of the request body, as Zeek's file magic names it"),
    TL_FIELD_OPT(struct http_rec, resp_mime_types, STRLIST, "resp_mime_types",
                 "Zeek's: type of the response body (e.g. application/x-dosexec); absent when "
                 "Content-Encoding hides it"),
    TL_FIELD_OPT(struct http_rec, client_header_names, STRLIST, "client_header_names",
                 "Zeek's: request header names in order, upper case (dissect.max_items)"),
    TL_FIELD_OPT(struct http_rec, server_header_names, STRLIST, "server_header_names",
                 "Zeek's: response header names in order, 1xx included, upper case"),
    TL_FIELD_OPT(struct http_rec, exe_download, BOOL, "exe_download",
                 "a 2xx response body that is a program or script: typed PE, ELF, Mach-O, Java, "
                 "shell/Perl/Python script, or named .exe .dll .msi .ps1 .vbs .hta .bat .jar..."),
    TL_FIELD_OPT(struct http_rec, mime_mismatch, BOOL, "mime_mismatch",
                 "the body is a program, archive, image, PDF or OLE file, but Content-Type or "
                 "the file extension says another kind"),
    TL_FIELD_OPT(struct http_rec, client_kind, CSTR, "client_kind",
                 "the User-Agent: browser, tool (see client_tool), bot or other"),
    TL_FIELD_OPT(struct http_rec, client_tool, CSTR, "client_tool",
                 "the non-browser client: powershell, bits, certutil, curl, wget, python, go, "
                 "java, perl, winhttp, webdav, msiexec, scanner..."),
    TL_FIELD_OPT(
        struct http_rec, framing_conflict, STRLIST, "framing_conflict",
        "the request's framing header lines, as sent, when servers may delimit its "
        "body differently (request smuggling, RFC 9112 6.1, 6.3, 11.2): Transfer-Encoding "
        "with Content-Length, Transfer-Encoding not ending in chunked or on several lines, "
        "Content-Lengths that differ or are invalid, obs-fold or whitespace before the "
        "colon, Transfer-Encoding in HTTP/1.0, Expect: 100-continue without a body or "
        "with a request as its body"),
    TL_FIELD_OPT(struct http_rec, smuggled, BOOL, "smuggled",
                 "a request only one reading of an earlier request's framing sees: inside that "
                 "body for the other reading (then parsed and paired as usual), or found there by "
                 "it (then written alone, reply_status smuggled, trans_depth of that request)"),
};

/* ---- per-flow state ---- */

struct http_ref {
    uint16_t off, len;
};

enum { RS_METHOD, RS_HOST, RS_URI, RS_REFERRER, RS_UA, RS_ORIGIN, RS_XFF, RS_CTYPE, RS_USER, RS_N };
enum { RP_MSG, RP_CTYPE, RP_INFO, RP_N };

/* A request waiting for its response: its fields, with the strings in the flow's pool. */
struct http_req {
    uint64_t ts, body_len;
    const char *auth_scheme;
    const char *mime; /* its body's type, once the body is typed */
    struct http_ref s[RS_N];
    struct http_ref names;    /* header names: (length byte, name) entries */
    struct http_ref proxied;  /* "NAME -> value" entries: (2 length bytes, text) */
    struct http_ref conflict; /* its framing header lines, as proxied */
    uint32_t depth;
    uint16_t pool_start; /* its own strings start here; shared ones are older */
    uint16_t nnames;
    uint8_t nproxied, nconflict;
    bool show_conflict; /* the lines go to framing_conflict */
    bool smuggled;
    uint8_t status; /* enum tl_msg_status */
    char version[HTTP_VERSION_LEN];
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
    uint8_t hashing; /* enum http_hashing */
    bool sniff_done; /* the sniff bytes are final (a gap came) */
    bool resynced;   /* its status line ended a resync */
    bool encoded;    /* a Content-Encoding other than identity: the body is not the file */
    char version[HTTP_VERSION_LEN];
    char cd_ext[HTTP_EXT_LEN]; /* extension of the Content-Disposition filename, lower case */
    struct http_ref names;     /* header names in the pool, as in http_req */
    uint16_t nnames;
    uint64_t ts, body_len;
    struct tl_digests dg;
    uint8_t sniff[HTTP_SNIFF];
    char pool[HTTP_RESP_POOL];
};

/* Whether a response body is being hashed; undecided while its sniff bytes come in. */
enum http_hashing { HASH_OFF, HASH_ON, HASH_UNDECIDED };

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

enum http_len { LEN_NONE, LEN_FIXED, LEN_CHUNKED };

/* How a request body is delimited: none, a length, or chunked. */
struct http_reading {
    uint8_t kind; /* enum http_len */
    uint64_t len;
};

/* Where in a chunked body the other reading is (RFC 9112 7.1). */
enum { AW_SIZE, AW_EXT, AW_DATA, AW_DATA_CR, AW_DATA_LF, AW_TRL, AW_TRL_CR, AW_TRL_LINE };

/*
 * The other reading of a request's framing (struct http_frame), followed over
 * dir 0's bytes after that request's head, to where it says the next request
 * starts.
 */
struct http_alt {
    bool on;
    bool quiet;    /* Expect: flag the request only if a request is found there */
    uint8_t kind;  /* enum http_len */
    uint8_t state; /* LEN_CHUNKED: AW_* */
    uint8_t digits;
    uint64_t left; /* body or chunk bytes still due; AW_SIZE: the size so far */
    uint32_t depth;
};

struct http_state {
    struct http_dir d[2];
    struct http_req *q; /* q_inline, or the queue it grew into (http_q_room) */
    struct http_req q_inline[HTTP_Q_INLINE];
    uint8_t nq, qcap;
    bool dead;
    bool tunnel;      /* CONNECT or Upgrade ended HTTP */
    bool alt_end;     /* alt's body ends alt_clear bytes into dir 0's unread input */
    size_t alt_clear; /* dir 0 bytes ahead known to be inside alt's body */
    size_t alt_until; /* alt is done, but its body still covers this many bytes ahead */
    struct http_alt alt;
    struct http_alt main; /* this side's own reading, walked beside alt up to alt's end */
    char *pool;           /* pool_inline, or what it grew into (http_pool_room) */
    uint16_t pool_used, pool_cap;
    uint32_t nreq, nresp; /* requests and final responses seen: trans_depth */
    uint32_t orphans;     /* responses due to requests already written alone */
    uint32_t body_req;    /* depth of the request whose body dir 0 is reading */
    uint8_t nqsniff;      /* first bytes of that request's body, to type it */
    bool qsniff_done;     /* they are final (a gap came) */
    uint8_t qsniff[HTTP_SNIFF];
    struct http_resp r;
    char pool_inline[HTTP_POOL_INLINE];
};

/* One header of a block as sent. */
struct http_hdr {
    struct tl_str name; /* without whitespace before the colon */
    struct tl_str value, raw;
    bool folded;   /* obs-fold continuation lines joined (RFC 9112 5.2) */
    bool ws_colon; /* whitespace between the name and the colon (RFC 9112 5.1) */
};

/*
 * What a header block says about framing (RFC 9112 6), as sent, so that a
 * request can be read the way a conforming server reads it and the other ways
 * servers have read it (request smuggling).
 */
struct http_frame {
    uint64_t clen;       /* the first valid Content-Length */
    uint64_t clen_other; /* a valid one that differs from it */
    bool has_clen, valid_clen;
    bool bad_clen;    /* invalid, or values that differ (RFC 9112 6.3 rule 5) */
    bool clen_differ; /* valid values that differ */
    bool has_te;
    bool chunked;    /* chunked is the final coding of all Transfer-Encoding lines */
    bool te_lists;   /* chunked appears elsewhere too (chunked, identity; chunked twice) */
    bool te_like;    /* a coding that contains "chunked" without being it (xchunked) */
    bool last_chunk; /* while reading: the last coding so far was chunked */
    uint8_t nte;     /* Transfer-Encoding lines */
    uint8_t nchunked;
    bool odd;    /* obs-fold, or whitespace before the colon, in a framing header */
    bool expect; /* Expect: 100-continue */
    uint8_t nlines;
    struct tl_str lines[HTTP_MAX_FRAMING]; /* the framing header lines, as sent */
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

static bool http_digit(char c)
{
    return c >= '0' && c <= '9';
}

static uint8_t http_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

/* Does lit start p[0..n), compared without case? One pass up to lit's NUL, no strlen. */
static bool http_iprefix(const char *p, size_t n, const char *lit)
{
    for (size_t i = 0; lit[i]; i++)
        if (i >= n || http_lower((uint8_t)p[i]) != http_lower((uint8_t)lit[i]))
            return false;
    return true;
}

/* Is s the start of lit (case-insensitively)? One pass, stopping at lit's NUL. */
static bool http_is_start(struct tl_str s, const char *lit)
{
    for (size_t i = 0; i < s.len; i++)
        if (!lit[i] || http_lower((uint8_t)s.ptr[i]) != http_lower((uint8_t)lit[i]))
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

/* The queue and the pool start inline (the state comes zeroed). */
static void http_inline(struct http_state *s)
{
    if (s->q)
        return;
    s->q = s->q_inline;
    s->qcap = HTTP_Q_INLINE;
    s->pool = s->pool_inline;
    s->pool_cap = HTTP_POOL_INLINE;
}

/*
 * Room for `need` more bytes in the request pool: most requests fit in the
 * state, and the pool grows, doubling, up to HTTP_REQ_POOL for those that do
 * not. When memory is short it stays as it is and writers cut (counted).
 */
static void http_pool_room(struct tl_parse_ctx *ctx, struct http_state *s, size_t need)
{
    http_inline(s);
    size_t want = http_min(HTTP_REQ_POOL, s->pool_used + need), cap = s->pool_cap;
    if (want <= cap)
        return;
    while (cap < want)
        cap = http_min(HTTP_REQ_POOL, 2 * cap);
    char *p =
        tl_state_grow(ctx, s->pool, s->pool == s->pool_inline, s->pool_cap, s->pool_used, cap);
    if (p) {
        s->pool = p;
        s->pool_cap = (uint16_t)cap;
    }
}

/*
 * A writer onto the free part of the request pool for a value of up to `want`
 * bytes, capped at max_value_len.
 */
static struct http_w http_req_w(struct tl_parse_ctx *ctx, struct http_state *s, size_t want)
{
    http_pool_room(ctx, s, http_min(want, ctx->limits->max_value_len));
    struct http_w w = { s->pool + s->pool_used, 0, 0, false };
    w.cap = http_min(ctx->limits->max_value_len, (size_t)s->pool_cap - s->pool_used);
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
    struct http_w w = http_req_w(ctx, s, v.len);
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
    if (n)
        memcpy(out, v.ptr, n);
    out[n] = 0;
}

static void http_malformed(struct tl_parse_ctx *ctx, uint8_t *status)
{
    if (*status != TL_MSG_MALFORMED)
        ctx->counters[TL_DC_MALFORMED]++;
    *status = TL_MSG_MALFORMED;
}

/* ---- body types: Zeek's file magic, on the first HTTP_SNIFF bytes ---- */

/*
 * Bodies are typed as Zeek's file analysis types them (the signatures of
 * base/frameworks/files/magic, by their names), so that resp_mime_types and
 * orig_mime_types read as in Zeek's http.log: a signature of higher priority
 * wins; text/plain (any 10 printable ASCII bytes first) is the last resort;
 * a body that matches nothing has no type. Zeek sees up to 4 KiB where this
 * sees HTTP_SNIFF bytes, so signatures that look further (a JAR's manifest,
 * an OOXML part name) are approximated from the first local file header.
 */
static bool http_at(const uint8_t *p, size_t n, size_t off, const char *lit, size_t len)
{
    return n >= off + len && memcmp(p + off, lit, len) == 0;
}

static bool http_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* Executables, archives, images, documents: fixed bytes at fixed offsets. */
static const char *http_sniff_magic(const uint8_t *p, size_t n)
{
    static const struct {
        const char *magic;
        uint8_t off, len;
        const char *mime;
    } magic[] = {
        { "MSCF\0\0\0\0", 0, 8, "application/vnd.ms-cab-compressed" },
        { "\x89PNG", 0, 4, "image/png" },
        { "\x1f\x8b", 0, 2, "application/x-gzip" },
        { "\xfd"
          "7zXZ\0",
          0, 6, "application/x-xz" },
        { "GIF8", 0, 4, "image/gif" },
        { "Rar!", 0, 4, "application/x-rar" },
        { "\0\0\1\0", 0, 4, "image/x-icon" },
        { "BZh", 0, 3, "application/x-bzip2" },
        { "%PDF", 0, 4, "application/pdf" },
        { "\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1", 0, 8, "application/msword" }, /* OLE: .doc, .msi */
        { "\xce\xfa\xed\xfe", 0, 4, "application/x-mach-o-executable" },
        { "\xcf\xfa\xed\xfe", 0, 4, "application/x-mach-o-executable" },
        { "7z\xbc\xaf\x27\x1c", 0, 6, "application/x-7z-compressed" },
        { "\xff\xd8", 0, 2, "image/jpeg" },
        { "MZ", 0, 2, "application/x-dosexec" },
        { "%!PS", 0, 4, "application/postscript" },
        { "{\\rtf1", 0, 6, "text/rtf" },
    };
    static const char *const elf_types[] = { NULL, "application/x-object",
                                             "application/x-executable", "application/x-sharedlib",
                                             "application/x-coredump" };
    if (http_at(p, n, 0, "RIFF", 4) && http_at(p, n, 8, "WEBP", 4))
        return "image/webp";
    if (http_at(p, n, 0, "\xca\xfe\xba\xbe", 4) && n >= 8) /* Mach-O universal, else Java class */
        return p[6] == 0 && p[7] >= 1 && p[7] <= 0x14 ? "application/x-mach-o-executable"
               : p[7] >= 0x2d && p[7] <= 0x34         ? "application/x-java-applet"
                                                      : NULL;
    if (http_at(p, n, 0,
                "\x7f"
                "ELF",
                4) &&
        n >= 18 && (p[5] == 1 || p[5] == 2)) {
        unsigned type = p[5] == 1 ? p[16] | (unsigned)p[17] << 8 : (unsigned)p[16] << 8 | p[17];
        return type < TL_ARRAY_LEN(elf_types) ? elf_types[type] : NULL;
    }
    if (http_at(p, n, 0, "PK\x03\x04", 4)) {
        if (http_at(p, n, 4, "\x14\x00\x06\x00", 4))
            return "application/vnd.openxmlformats-officedocument";
        return http_at(p, n, 30, "META-INF/", 9) ? "application/java-archive" : "application/zip";
    }
    for (size_t i = 0; i < TL_ARRAY_LEN(magic); i++)
        if (http_at(p, n, magic[i].off, magic[i].magic, magic[i].len))
            return magic[i].mime;
    return NULL;
}

/* "#!" and an interpreter path (general.sig): shell first, as Zeek ranks them. */
static const char *http_sniff_shebang(const uint8_t *p, size_t n)
{
    static const struct {
        const char *name;
        const char *mime;
    } interp[] = {
        { "sh", "text/x-shellscript" },   { "bash", "text/x-shellscript" },
        { "zsh", "text/x-shellscript" },  { "ksh", "text/x-shellscript" },
        { "csh", "text/x-shellscript" },  { "tcsh", "text/x-shellscript" },
        { "dash", "text/x-shellscript" }, { "perl", "text/x-perl" },
        { "python", "text/x-python" },    { "ruby", "text/x-ruby" },
        { "php", "text/x-php" },          { "node", "application/javascript" },
        { "awk", "text/x-awk" },          { "lua", "text/x-lua" },
    };
    if (!http_at(p, n, 0, "#!", 2))
        return NULL;
    size_t i = 2, end = n;
    while (i < n && p[i] != '\n')
        i++;
    end = i;
    for (i = 2; i + 4 <= end && i <= 17; i++) {
        if (memcmp(p + i, "bin/", 4) != 0)
            continue;
        size_t k = i + 4;
        if (end - k >= 4 && memcmp(p + k, "env", 3) == 0 && http_blank(p[k + 3]))
            for (k += 3; k < end && http_blank(p[k]);)
                k++;
        size_t w = k;
        while (w < end && !http_blank(p[w]))
            w++;
        for (size_t t = 0; t < TL_ARRAY_LEN(interp); t++) {
            size_t len = strlen(interp[t].name);
            if (w - k >= len && memcmp(p + k, interp[t].name, len) == 0)
                return interp[t].mime;
        }
        return NULL;
    }
    return NULL;
}

/* Markup after a BOM, blank lines and comments (general.sig's html, xml, rss signatures). */
static const char *http_sniff_markup(const uint8_t *p, size_t n)
{
    size_t i = http_at(p, n, 0, "\xef\xbb\xbf", 3) ? 3 : 0;
    bool xml = false;
    for (;;) {
        while (i < n && http_blank(p[i]))
            i++;
        if (http_at(p, n, i, "<!--", 4)) {
            const uint8_t *end = memmem(p + i + 4, n - i - 4, "-->", 3);
            if (!end)
                return NULL;
            i = (size_t)(end - p) + 3;
        } else if (http_at(p, n, i, "<?xml ", 6)) {
            const uint8_t *end = memmem(p + i, n - i, "?>", 2);
            if (!end)
                return "application/xml";
            xml = true;
            i = (size_t)(end - p) + 2;
        } else {
            break;
        }
    }
    const char *t = (const char *)p + i;
    size_t left = n - i;
    static const char *const html[] = { "<!doctype html", "<html",  "<meta http-equiv",
                                        "<head",          "<title", "<body" };
    for (size_t k = 0; k < TL_ARRAY_LEN(html); k++)
        if (http_iprefix(t, left, html[k]))
            return "text/html";
    if (http_iprefix(t, left, "<rss"))
        return "text/rss";
    if (http_iprefix(t, left, "<?php"))
        return "text/x-php";
    if (http_iprefix(t, left, "<script") && left > 7 && (http_blank(p[i + 7]) || p[i + 7] == '>'))
        return "application/javascript";
    return xml ? "application/xml" : NULL;
}

/* JSON (general.sig): an object with a first key, or an array of values. */
static const char *http_sniff_json(const uint8_t *p, size_t n)
{
    size_t i = http_at(p, n, 0, "\xef\xbb\xbf", 3) ? 3 : 0;
    while (i < n && http_blank(p[i]))
        i++;
    if (i + 1 >= n || (p[i] != '{' && p[i] != '['))
        return NULL;
    uint8_t open = p[i++];
    while (i < n && http_blank(p[i]))
        i++;
    if (i >= n)
        return NULL;
    if (open == '[')
        return strchr("{[\"-0123456789tfn]", p[i]) ? "text/json" : NULL;
    if (p[i] == '}')
        return "text/json";
    if (p[i] != '"')
        return NULL;
    const uint8_t *q = memchr(p + i + 1, '"', n - i - 1);
    if (!q)
        return NULL;
    for (i = (size_t)(q - p) + 1; i < n && http_blank(p[i]);)
        i++;
    return i < n && p[i] == ':' ? "text/json" : NULL;
}

/* The first n bytes of a body, typed by Zeek's name; NULL when nothing matches. */
static const char *http_sniff(const uint8_t *p, size_t n)
{
    const char *t;
    if (n == 0)
        return NULL;
    if ((t = http_sniff_shebang(p, n)) || (t = http_sniff_magic(p, n)) ||
        (t = http_sniff_markup(p, n)) || (t = http_sniff_json(p, n)))
        return t;
    size_t i = http_at(p, n, 0, "\xef\xbb\xbf", 3) ? 3 : 0;
    if (n < i + 10)
        return NULL;
    for (size_t k = i; k < i + 10; k++)
        if ((p[k] < 0x20 || p[k] > 0x7e) && !http_blank(p[k]) && p[k] != '\v' && p[k] != '\f')
            return NULL;
    return "text/plain";
}

/* ---- detection features ---- */

/* What kind of file a type, a Content-Type or an extension names. */
enum http_family { FAM_NONE, FAM_EXE, FAM_ARCHIVE, FAM_IMAGE, FAM_PDF, FAM_OLE, FAM_TEXT };

struct http_kind {
    const char *name;
    uint8_t family; /* enum http_family */
    bool prefix;    /* name is a prefix */
    bool program;   /* a program or script (exe_download) */
};

/* Body types (http_sniff's names), Content-Types and extensions, lower case. */
static const struct http_kind http_kinds[] = {
    { "application/x-dosexec", FAM_EXE, false, true },
    { "application/x-executable", FAM_EXE, false, true },
    { "application/x-sharedlib", FAM_EXE, false, true },
    { "application/x-mach-o-executable", FAM_EXE, false, true },
    { "application/x-java-applet", FAM_EXE, false, true },
    { "application/java-archive", FAM_ARCHIVE, false, true },
    { "text/x-shellscript", FAM_TEXT, false, true },
    { "text/x-perl", FAM_TEXT, false, true },
    { "text/x-python", FAM_TEXT, false, true },
    { "text/x-ruby", FAM_TEXT, false, true },
    { "application/x-msdownload", FAM_EXE, false, false },
    { "application/x-msdos-program", FAM_EXE, false, false },
    { "application/vnd.microsoft.portable-executable", FAM_EXE, false, false },
    { "application/x-object", FAM_EXE, false, false },
    { "application/x-coredump", FAM_EXE, false, false },
    { "application/zip", FAM_ARCHIVE, false, false },
    { "application/x-zip-compressed", FAM_ARCHIVE, false, false },
    { "application/x-gzip", FAM_ARCHIVE, false, false },
    { "application/gzip", FAM_ARCHIVE, false, false },
    { "application/x-tar", FAM_ARCHIVE, false, false },
    { "application/x-bzip2", FAM_ARCHIVE, false, false },
    { "application/x-xz", FAM_ARCHIVE, false, false },
    { "application/x-7z-compressed", FAM_ARCHIVE, false, false },
    { "application/x-rar", FAM_ARCHIVE, true, false }, /* and x-rar-compressed */
    { "application/vnd.rar", FAM_ARCHIVE, false, false },
    { "application/vnd.ms-cab-compressed", FAM_ARCHIVE, false, false },
    { "application/vnd.openxmlformats-officedocument", FAM_ARCHIVE, true, false },
    { "application/vnd.oasis.opendocument", FAM_ARCHIVE, true, false },
    { "application/vnd.android.package-archive", FAM_ARCHIVE, false, false },
    { "application/epub+zip", FAM_ARCHIVE, false, false },
    { "image/svg", FAM_TEXT, true, false },
    { "image/", FAM_IMAGE, true, false },
    { "application/pdf", FAM_PDF, false, false },
    { "application/msword", FAM_OLE, false, false },
    { "application/vnd.ms-excel", FAM_OLE, false, false },
    { "application/vnd.ms-powerpoint", FAM_OLE, false, false },
    { "application/x-msi", FAM_OLE, false, false },
    { "application/x-ms-installer", FAM_OLE, false, false },
    { "text/", FAM_TEXT, true, false },
    { "application/json", FAM_TEXT, false, false },
    { "application/javascript", FAM_TEXT, false, false },
    { "application/xml", FAM_TEXT, false, false },
    { "application/xhtml+xml", FAM_TEXT, false, false },
};

static const struct http_kind http_exts[] = {
    { "exe", FAM_EXE, false, true },       { "dll", FAM_EXE, false, true },
    { "scr", FAM_EXE, false, true },       { "com", FAM_EXE, false, true },
    { "pif", FAM_EXE, false, true },       { "cpl", FAM_EXE, false, true },
    { "sys", FAM_EXE, false, true },       { "ocx", FAM_EXE, false, true },
    { "elf", FAM_EXE, false, true },       { "msi", FAM_OLE, false, true },
    { "msp", FAM_OLE, false, true },       { "msix", FAM_ARCHIVE, false, true },
    { "appx", FAM_ARCHIVE, false, true },  { "jar", FAM_ARCHIVE, false, true },
    { "apk", FAM_ARCHIVE, false, true },   { "ps1", FAM_TEXT, false, true },
    { "psm1", FAM_TEXT, false, true },     { "vbs", FAM_TEXT, false, true },
    { "vbe", FAM_TEXT, false, true },      { "jse", FAM_TEXT, false, true },
    { "wsf", FAM_TEXT, false, true },      { "wsh", FAM_TEXT, false, true },
    { "hta", FAM_TEXT, false, true },      { "bat", FAM_TEXT, false, true },
    { "cmd", FAM_TEXT, false, true },      { "sh", FAM_TEXT, false, true },
    { "lnk", FAM_NONE, false, true },      { "zip", FAM_ARCHIVE, false, false },
    { "gz", FAM_ARCHIVE, false, false },   { "tgz", FAM_ARCHIVE, false, false },
    { "tar", FAM_ARCHIVE, false, false },  { "7z", FAM_ARCHIVE, false, false },
    { "rar", FAM_ARCHIVE, false, false },  { "bz2", FAM_ARCHIVE, false, false },
    { "xz", FAM_ARCHIVE, false, false },   { "cab", FAM_ARCHIVE, false, false },
    { "docx", FAM_ARCHIVE, false, false }, { "xlsx", FAM_ARCHIVE, false, false },
    { "pptx", FAM_ARCHIVE, false, false }, { "odt", FAM_ARCHIVE, false, false },
    { "png", FAM_IMAGE, false, false },    { "jpg", FAM_IMAGE, false, false },
    { "jpeg", FAM_IMAGE, false, false },   { "gif", FAM_IMAGE, false, false },
    { "bmp", FAM_IMAGE, false, false },    { "ico", FAM_IMAGE, false, false },
    { "webp", FAM_IMAGE, false, false },   { "pdf", FAM_PDF, false, false },
    { "doc", FAM_OLE, false, false },      { "xls", FAM_OLE, false, false },
    { "ppt", FAM_OLE, false, false },      { "html", FAM_TEXT, false, false },
    { "htm", FAM_TEXT, false, false },     { "txt", FAM_TEXT, false, false },
    { "css", FAM_TEXT, false, false },     { "js", FAM_TEXT, false, false },
    { "json", FAM_TEXT, false, false },    { "xml", FAM_TEXT, false, false },
    { "svg", FAM_TEXT, false, false },
};

/* The entry of t naming s (compared without case; a prefix entry matches its start), or NULL. */
static const struct http_kind *http_kind_of(const struct http_kind *t, size_t n, struct tl_str s)
{
    uint8_t first = s.len ? http_lower((uint8_t)s.ptr[0]) : 0;
    for (size_t i = 0; s.len && i < n; i++) {
        if ((uint8_t)t[i].name[0] != first) /* the names are lower case */
            continue;
        bool hit = t[i].prefix ? http_iprefix(s.ptr, s.len, t[i].name) : http_ieq(s, t[i].name);
        if (hit)
            return &t[i];
    }
    return NULL;
}

static struct tl_str http_cstr(const char *s)
{
    struct tl_str v = { s ? s : "", s ? strlen(s) : 0 };
    return v;
}

/*
 * The extension of the URI's last path segment (before any query or fragment),
 * or empty. An absolute URI's authority is no path (http://example.com has none).
 */
static struct tl_str http_uri_ext(struct tl_str uri)
{
    struct tl_str ext = { "", 0 };
    size_t end = 0, path = 0;
    while (end < uri.len && uri.ptr[end] != '?' && uri.ptr[end] != '#')
        end++;
    for (size_t i = 0; i + 3 <= end && uri.ptr[i] != '/'; i++)
        if (memcmp(uri.ptr + i, "://", 3) == 0) {
            const char *slash = memchr(uri.ptr + i + 3, '/', end - i - 3);
            path = slash ? (size_t)(slash - uri.ptr) : end;
            break;
        }
    for (size_t i = end; i > path && uri.ptr[i - 1] != '/'; i--)
        if (uri.ptr[i - 1] == '.') {
            ext.ptr = uri.ptr + i;
            ext.len = end - i;
            break;
        }
    return ext;
}

/* The media type of a Content-Type value: before any parameter, trimmed. */
static struct tl_str http_media_type(struct tl_str ctype)
{
    size_t n = 0;
    while (n < ctype.len && ctype.ptr[n] != ';')
        n++;
    ctype.len = n;
    return http_trim(ctype);
}

static uint8_t http_family(const struct http_kind *k)
{
    return k ? k->family : FAM_NONE;
}

/*
 * exe_download and mime_mismatch of a response: body is its type (NULL when
 * unknown or content-encoded), ctype its Content-Type, exts the extensions of
 * the URI and of the Content-Disposition filename.
 */
static void http_file_flags(struct http_rec *m, const char *body, struct tl_str ctype,
                            const struct tl_str exts[2])
{
    const struct http_kind *b = http_kind_of(http_kinds, TL_ARRAY_LEN(http_kinds), http_cstr(body));
    const struct http_kind *x[2] = {
        http_kind_of(http_exts, TL_ARRAY_LEN(http_exts), exts[0]),
        http_kind_of(http_exts, TL_ARRAY_LEN(http_exts), exts[1]),
    };
    bool ok = m->status_code >= 200 && m->status_code < 300 && m->response_body_len > 0;
    m->exe_download =
        ok && ((b && b->program) || (x[0] && x[0]->program) || (x[1] && x[1]->program));
    uint8_t fb = http_family(b);
    if (fb == FAM_NONE || fb == FAM_TEXT)
        return; /* text bodies under other names are error pages more often than not */
    uint8_t declared[3] = {
        http_family(http_kind_of(http_kinds, TL_ARRAY_LEN(http_kinds), http_media_type(ctype))),
        http_family(x[0]),
        http_family(x[1]),
    };
    for (size_t i = 0; i < 3; i++)
        m->mime_mismatch = m->mime_mismatch || (declared[i] != FAM_NONE && declared[i] != fb);
}

/*
 * Which of n lower-case tokens occurs first in s, case-insensitively: the one at the
 * earliest position, in table order at one position; -1 if none. Token k is at
 * (const char *const *)((const char *)tokens + k * stride), so that a table of
 * structs can be searched by its token member. A position is compared only with
 * the tokens that start with its byte.
 */
static int http_find_token(struct tl_str s, const char *const *tokens, size_t n, size_t stride)
{
    const char *tok[32];
    uint32_t by_first[256] = { 0 };
    for (size_t k = 0; k < n && k < 32; k++) {
        tok[k] = *(const char *const *)(const void *)((const char *)tokens + k * stride);
        by_first[(uint8_t)tok[k][0]] |= 1u << k;
    }
    for (size_t i = 0; i < s.len; i++)
        for (uint32_t m = by_first[http_lower((uint8_t)s.ptr[i])]; m; m &= m - 1) {
            int k = __builtin_ctz(m);
            if (http_iprefix(s.ptr + i, s.len - i, tok[k]))
                return k;
        }
    return -1;
}

/*
 * The kind of client a User-Agent names. Tools are looked for first: some put
 * "Mozilla/5.0" in front (PowerShell's Invoke-WebRequest does).
 */
static void http_client_kind(struct http_rec *m, struct tl_str ua)
{
    static const struct {
        const char *token, *tool;
    } tools[] = {
        { "powershell", "powershell" },
        { "microsoft bits", "bits" },
        { "microsoft-cryptoapi", "certutil" },
        { "certutil", "certutil" },
        { "curl/", "curl" },
        { "wget", "wget" },
        { "python", "python" },
        { "aiohttp", "python" },
        { "go-http-client", "go" },
        { "java/", "java" },
        { "apache-httpclient", "java" },
        { "okhttp", "java" },
        { "libwww-perl", "perl" },
        { "lwp::", "perl" },
        { "winhttp", "winhttp" },
        { "microsoft-webdav-miniredir", "webdav" },
        { "windows installer", "msiexec" },
        { "node-fetch", "node" },
        { "axios/", "node" },
        { "httpie", "httpie" },
        { "nmap", "scanner" },
        { "masscan", "scanner" },
        { "zgrab", "scanner" },
        { "sqlmap", "scanner" },
        { "nikto", "scanner" },
        { "nuclei", "scanner" },
        { "gobuster", "scanner" },
    };
    static const char *const bots[] = { "bot", "crawler", "spider", "slurp" };
    static const char *const engines[] = { "gecko/",   "applewebkit/", "trident/",
                                           "msie ",    "presto/",      "chrome/",
                                           "firefox/", "safari/",      "edg/" };
    _Static_assert(TL_ARRAY_LEN(tools) <= 32, "http_find_token takes up to 32 tokens");
    if (ua.len == 0)
        return;
    int k = http_find_token(ua, &tools[0].token, TL_ARRAY_LEN(tools), sizeof(tools[0]));
    if (k >= 0) {
        m->client_kind = "tool";
        m->client_tool = tools[k].tool;
        return;
    }
    if (http_find_token(ua, bots, TL_ARRAY_LEN(bots), sizeof(bots[0])) >= 0) {
        m->client_kind = "bot";
        return;
    }
    m->client_kind = "other";
    if (!http_iprefix(ua.ptr, ua.len, "mozilla/") && !http_iprefix(ua.ptr, ua.len, "opera/"))
        return;
    if (http_find_token(ua, engines, TL_ARRAY_LEN(engines), sizeof(engines[0])) >= 0)
        m->client_kind = "browser";
}

/*
 * A list in the pool as views in the arena (empty when the arena is full):
 * entries of one length byte and a name (http_names_keep), or with wide, of
 * two length bytes and a text (http_proxied).
 */
static struct tl_strlist http_list(struct tl_arena *a, const char *pool, struct http_ref ref,
                                   uint16_t n, bool wide)
{
    struct tl_strlist l = { NULL, 0 };
    struct tl_str *v = n ? tl_arena_alloc(a, n * sizeof(*v)) : NULL;
    size_t hdr = wide ? 2 : 1;
    if (!v)
        return l;
    for (size_t at = ref.off; l.n < n && at + hdr <= (size_t)ref.off + ref.len;) {
        size_t len = (uint8_t)pool[at];
        if (wide)
            len = len << 8 | (uint8_t)pool[at + 1];
        v[l.n++] = (struct tl_str){ pool + at + hdr, len };
        at += hdr + len;
    }
    l.v = v;
    return l;
}

/* The request whose body dir 0 is reading gets its type from the bytes seen so far. */
static void http_req_typed(struct http_state *s)
{
    for (uint8_t i = 0; i < s->nq; i++)
        if (s->q[i].depth == s->body_req && !s->q[i].mime)
            s->q[i].mime = http_sniff(s->qsniff, s->nqsniff);
}

/* ---- records ---- */

static struct tl_str http_ref_str(const char *pool, struct http_ref r)
{
    struct tl_str s = { pool + r.off, r.len };
    return s;
}

/* A kind of file worth a hash under http.hash_bodies: files. */
static bool http_kind_is_file(const struct http_kind *k)
{
    return k && (k->program || k->family == FAM_EXE || k->family == FAM_ARCHIVE ||
                 k->family == FAM_PDF || k->family == FAM_OLE);
}

/* Does the response about to send its body declare a file: Content-Type, or the extension of
 * the Content-Disposition filename or of the request's URI? */
static bool http_declared_file(const struct http_state *s)
{
    const struct http_resp *r = &s->r;
    struct tl_str ctype = http_media_type(http_ref_str(r->pool, r->s[RP_CTYPE]));
    if (http_kind_is_file(http_kind_of(http_kinds, TL_ARRAY_LEN(http_kinds), ctype)) ||
        http_kind_is_file(http_kind_of(http_exts, TL_ARRAY_LEN(http_exts), http_cstr(r->cd_ext))))
        return true;
    const struct http_req *q = !s->orphans && s->nq ? &s->q[0] : NULL;
    struct tl_str uri = q ? http_ref_str(s->pool, q->s[RS_URI]) : http_cstr(NULL);
    return http_kind_is_file(http_kind_of(http_exts, TL_ARRAY_LEN(http_exts), http_uri_ext(uri)));
}

static void http_hash_on(struct http_resp *r, unsigned digests)
{
    r->hashing = HASH_ON;
    tl_digests_init(&r->dg, digests);
}

/*
 * Under http.hash_bodies: files, a body whose declared type said nothing is a
 * file if its first bytes are one (not when content-encoded: those bytes are
 * the encoding's). The sniff buffer holds the body so far: it is hashed first.
 */
static void http_hash_decide(struct tl_parse_ctx *ctx, struct http_resp *r)
{
    const char *type = r->encoded ? NULL : http_sniff(r->sniff, r->nsniff);
    if (!http_kind_is_file(http_kind_of(http_kinds, TL_ARRAY_LEN(http_kinds), http_cstr(type)))) {
        r->hashing = HASH_OFF;
        return;
    }
    http_hash_on(r, ctx->limits->body_digests);
    tl_digests_update(&r->dg, r->sniff, r->nsniff);
}

/*
 * Writes one record: request q (or NULL), with the response read so far when
 * with_resp. why: its reply_status, when one side is missing (a response cut
 * short is reply_cut).
 */
static void http_write(struct tl_parse_ctx *ctx, struct http_state *s, const struct http_req *q,
                       bool with_resp, const char *why)
{
    struct http_rec m = { 0 };
    struct http_resp *r = &s->r;
    struct tl_str orig_mime, resp_mime, exts[2] = { { "", 0 }, { "", 0 } };
    struct tl_digests_hex hex;
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
        m.proxied = http_list(ctx->arena, s->pool, q->proxied, q->nproxied, true);
        m.status = q->status;
        m.value_capped = q->capped;
        m.resynced = q->resynced;
        m.smuggled = q->smuggled;
        if (q->show_conflict)
            m.framing_conflict = http_list(ctx->arena, s->pool, q->conflict, q->nconflict, true);
        m.client_header_names = http_list(ctx->arena, s->pool, q->names, q->nnames, false);
        if (q->depth == s->body_req && !q->mime && q < s->q + s->nq) /* queued, not a hidden one */
            http_req_typed(s);
        if (q->mime) {
            orig_mime = http_cstr(q->mime);
            m.orig_mime_types = (struct tl_strlist){ &orig_mime, 1 };
        }
        exts[0] = http_uri_ext(m.uri);
        http_client_kind(&m, m.user_agent);
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
        m.server_header_names = http_list(ctx->arena, r->pool, r->names, r->nnames, false);
        if (m.resp_mime && !r->encoded) {
            resp_mime = http_cstr(m.resp_mime);
            m.resp_mime_types = (struct tl_strlist){ &resp_mime, 1 };
        }
        exts[1] = http_cstr(r->cd_ext);
        http_file_flags(&m, r->encoded ? NULL : m.resp_mime, m.response_content_type, exts);
        if (r->hashing == HASH_UNDECIDED) /* a body shorter than the sniff bytes */
            http_hash_decide(ctx, r);
        if (r->hashing == HASH_ON && r->body_len > 0) {
            tl_digests_final(&r->dg, &hex);
            m.resp_md5 = http_cstr(hex.md5);
            m.resp_sha1 = http_cstr(hex.sha1);
            m.resp_sha256 = http_cstr(hex.sha256);
        }
        r->hashing = HASH_OFF;
        if (r->status > m.status)
            m.status = r->status;
        m.value_capped = m.value_capped || r->capped;
        m.resynced = m.resynced || r->resynced;
        if (!q)
            ts = r->ts;
        if (!why && r->status == TL_MSG_TRUNCATED)
            why = "reply_cut";
    }
    m.reply_status = why;
    if (m.status == TL_MSG_TRUNCATED)
        ctx->counters[TL_DC_TRUNCATED]++;
    ctx->emit(ctx, &m, ts);
}

/* The refs of a request's strings (RS_N slots, then its lists), to compare and move them. */
enum { HTTP_REQ_REFS = RS_N + 3 };

static void http_req_refs(struct http_req *q, struct http_ref *r[HTTP_REQ_REFS])
{
    for (size_t k = 0; k < RS_N; k++)
        r[k] = &q->s[k];
    r[RS_N] = &q->names;
    r[RS_N + 1] = &q->proxied;
    r[RS_N + 2] = &q->conflict;
}

/* Sorts refs by pool offset (at most HTTP_REQ_REFS of them). */
static void http_refs_sort(struct http_ref *r[], size_t n)
{
    for (size_t i = 1; i < n; i++)
        for (size_t k = i; k > 0 && r[k]->off < r[k - 1]->off; k--) {
            struct http_ref *t = r[k];
            r[k] = r[k - 1];
            r[k - 1] = t;
        }
}

/*
 * q, the last request, keeps once what equals the request before it (a
 * pipeline repeats Host, User-Agent, header names...): those refs point at the
 * older bytes, and q's own strings are packed down to end the pool again.
 */
static void http_req_share(struct http_state *s, struct http_req *q)
{
    struct http_ref *mine[HTTP_REQ_REFS], *prev[HTTP_REQ_REFS], *own[HTTP_REQ_REFS];
    size_t n = 0;
    bool shared = false;
    if (s->nq < 2 || q != &s->q[s->nq - 1] || q->v09)
        return;
    http_req_refs(q, mine);
    http_req_refs(q - 1, prev);
    for (size_t k = 0; k < HTTP_REQ_REFS; k++) {
        if (!mine[k]->len)
            continue;
        if (mine[k]->len == prev[k]->len &&
            memcmp(s->pool + mine[k]->off, s->pool + prev[k]->off, mine[k]->len) == 0) {
            *mine[k] = *prev[k];
            shared = true;
        } else {
            own[n++] = mine[k];
        }
    }
    if (!shared)
        return;
    http_refs_sort(own, n);
    uint16_t at = q->pool_start;
    for (size_t k = 0; k < n; k++) {
        memmove(s->pool + at, s->pool + own[k]->off, own[k]->len);
        own[k]->off = at;
        at = (uint16_t)(at + own[k]->len);
    }
    s->pool_used = at;
}

/*
 * Drops the oldest pending request and its strings. Those a later request
 * shares are kept, packed to the start of the pool, where they become the new
 * oldest request's own.
 */
static void http_pop(struct http_state *s)
{
    struct http_ref *old[HTTP_REQ_REFS], *r[HTTP_REQ_REFS];
    uint16_t from[HTTP_REQ_REFS], to[HTTP_REQ_REFS], kept = 0;
    size_t nk = 0;
    if (s->nq == 0)
        return;
    uint16_t end = s->nq > 1 ? s->q[1].pool_start : s->pool_used;
    http_req_refs(&s->q[0], old);
    http_refs_sort(old, HTTP_REQ_REFS);
    for (size_t k = 0; k < HTTP_REQ_REFS; k++) {
        bool used = false;
        for (uint8_t i = 1; i < s->nq && old[k]->len && !used; i++) {
            http_req_refs(&s->q[i], r);
            for (size_t j = 0; j < HTTP_REQ_REFS && !used; j++)
                used = r[j]->off == old[k]->off && r[j]->len == old[k]->len;
        }
        if (!used || (nk && from[nk - 1] == old[k]->off))
            continue;
        memmove(s->pool + kept, s->pool + old[k]->off, old[k]->len);
        from[nk] = old[k]->off;
        to[nk++] = kept;
        kept = (uint16_t)(kept + old[k]->len);
    }
    uint16_t shift = (uint16_t)(end - kept);
    memmove(s->pool + kept, s->pool + end, (size_t)(s->pool_used - end));
    s->pool_used = (uint16_t)(s->pool_used - shift);
    memmove(&s->q[0], &s->q[1], sizeof(s->q[0]) * (size_t)(s->nq - 1));
    s->nq--;
    for (uint8_t i = 0; i < s->nq; i++) {
        struct http_req *q = &s->q[i];
        q->pool_start = i ? (uint16_t)(q->pool_start - shift) : 0;
        http_req_refs(q, r);
        for (size_t j = 0; j < HTTP_REQ_REFS; j++) {
            if (!r[j]->len)
                r[j]->off = 0;
            else if (r[j]->off >= end)
                r[j]->off = (uint16_t)(r[j]->off - shift);
            else
                for (size_t k = 0; k < nk; k++)
                    if (from[k] == r[j]->off)
                        r[j]->off = to[k];
        }
    }
}

/* The response slot's fields; the sniff bytes and the pool after them are read only as far
 * as nsniff and used say. */
#define HTTP_RESP_FIELDS offsetof(struct http_resp, sniff)

static void http_resp_reset(struct http_state *s)
{
    memset(&s->r, 0, HTTP_RESP_FIELDS);
}

/* Is the response slot as http_resp_reset leaves it? */
static bool http_resp_idle(const struct http_state *s)
{
    static const struct http_resp fresh;
    return memcmp(&s->r, &fresh, HTTP_RESP_FIELDS) == 0;
}

/* A final response is complete: pair it with the oldest request, or write it alone. */
static void http_resp_done(struct tl_parse_ctx *ctx, struct http_state *s)
{
    s->nresp++;
    if (s->orphans) {
        s->orphans--;
        http_write(ctx, s, NULL, true, "request_written_early");
    } else if (s->nq) {
        http_write(ctx, s, &s->q[0], true, NULL);
        http_pop(s);
    } else {
        http_write(ctx, s, NULL, true, "no_request");
    }
    http_resp_reset(s);
    s->d[1].phase = PH_HEAD;
}

/* A response is being read (not: waiting for a status line, or skipping to one). */
static bool http_resp_busy(const struct http_state *s)
{
    return s->r.seen || s->d[1].phase == PH_BODY;
}

/*
 * Writes everything pending: the response in progress with its request, then
 * the rest alone, for reason why.
 */
static void http_write_all(struct tl_parse_ctx *ctx, struct http_state *s, const char *why)
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
        http_write(ctx, s, &s->q[0], false, why);
        http_pop(s);
    }
    s->d[0].phase = s->d[1].phase = PH_HEAD;
}

static void http_giveup(struct tl_parse_ctx *ctx, struct http_state *s)
{
    const char *why = s->tunnel       ? "tunnel"
                      : ctx->dir == 1 ? "reply_unparseable"
                                      : "request_unparseable";
    http_write_all(ctx, s, why); /* the caller counts the give-up (TL_DC_GIVEUP) */
    s->dead = true;
}

/* ---- headers ---- */

static const char *const http_proxy_headers[] = {
    "FORWARDED", "X-FORWARDED-FOR",  "X-FORWARDED-FROM", "CLIENT-IP",
    "VIA",       "XROXY-CONNECTION", "PROXY-CONNECTION",
};

/* The next element of a comma list at *i, trimmed; empty ones are skipped (RFC 9110 5.6.1). */
static bool http_list_next(struct tl_str v, size_t *i, struct tl_str *e)
{
    while (*i <= v.len) {
        size_t end = *i;
        while (end < v.len && v.ptr[end] != ',')
            end++;
        *e = http_trim((struct tl_str){ v.ptr + *i, end - *i });
        *i = end + 1;
        if (e->len)
            return true;
    }
    return false;
}

/* Content-Length: a list of equal decimal values is one value (RFC 9112 6.3 rule 5). */
static void http_frame_clen(struct http_frame *f, struct tl_str v)
{
    struct tl_str e;
    size_t i = 0;
    bool any = false;
    while (http_list_next(v, &i, &e)) {
        uint64_t n = 0;
        bool ok = true;
        any = true;
        for (size_t k = 0; k < e.len && ok; k++) {
            if (!http_digit(e.ptr[k]) || n > (UINT64_MAX >> 4))
                ok = false;
            else
                n = n * 10 + (uint64_t)(e.ptr[k] - '0');
        }
        if (!ok) {
            f->bad_clen = true;
        } else if (!f->valid_clen) {
            f->clen = n;
            f->valid_clen = true;
        } else if (n != f->clen) {
            f->bad_clen = f->clen_differ = true;
            f->clen_other = n;
        }
    }
    f->bad_clen = f->bad_clen || !any;
    f->has_clen = true;
}

/* Transfer-Encoding: the codings in order, over every line (RFC 9112 6.1). */
static void http_frame_te(struct http_frame *f, struct tl_str v)
{
    struct tl_str c;
    size_t i = 0;
    while (http_list_next(v, &i, &c)) {
        size_t semi = 0;
        while (semi < c.len && c.ptr[semi] != ';')
            semi++;
        c = http_trim((struct tl_str){ c.ptr, semi });
        f->last_chunk = http_ieq(c, "chunked");
        if (f->last_chunk)
            f->nchunked++;
        else
            for (size_t k = 0; k + 7 <= c.len && !f->te_like; k++)
                f->te_like = http_iprefix(c.ptr + k, c.len - k, "chunked");
    }
    f->has_te = true;
    f->nte++;
    f->chunked = f->last_chunk;
    f->te_lists = f->nchunked > (f->chunked ? 1 : 0);
}

static void http_frame_header(struct http_frame *f, const struct http_hdr *h)
{
    char buf[HTTP_SCRATCH];
    struct http_w w = { buf, 0, sizeof(buf), false };
    bool clen = http_ieq(h->name, "content-length"), te = http_ieq(h->name, "transfer-encoding");
    bool expect = http_ieq(h->name, "expect");

    if (!clen && !te && !expect)
        return;
    if (f->nlines < HTTP_MAX_FRAMING)
        f->lines[f->nlines++] = h->raw;
    http_wvalue(&w, h->value, false);
    struct tl_str v = { buf, w.cut ? 0 : w.len };
    if (expect) {
        f->expect = f->expect || http_ieq(v, "100-continue");
        return;
    }
    f->odd = f->odd || h->folded || h->ws_colon;
    if (w.cut) /* longer than any sane value: not a length, not a coding anyone reads */
        f->bad_clen = f->bad_clen || clen;
    else if (clen)
        http_frame_clen(f, v);
    else
        http_frame_te(f, v);
    f->has_clen = f->has_clen || clen;
    f->has_te = f->has_te || te;
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

    struct http_w w = http_req_w(ctx, s, v.len);
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

/*
 * A writer for the next entry, of up to `want` bytes, of a list of (2 length
 * bytes, text) entries at the end of the pool: nothing else may be written
 * before http_list_close. False (capped) when the list is full or the pool is.
 */
static bool http_list_open(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                           uint8_t n, size_t max, size_t want, struct http_w *w)
{
    http_pool_room(ctx, s, 2 + http_min(want, ctx->limits->max_value_len));
    if (n >= max || (size_t)s->pool_cap - s->pool_used < 2) {
        http_capped(ctx, &q->capped);
        return false;
    }
    s->pool_used = (uint16_t)(s->pool_used + 2);
    *w = http_req_w(ctx, s, want);
    return true;
}

static void http_list_close(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                            struct http_ref *list, uint8_t *n, struct http_w *w)
{
    uint16_t at = (uint16_t)(s->pool_used - 2);
    struct http_ref text = http_req_close(ctx, s, q, w);
    if (!list->len)
        list->off = at;
    s->pool[at] = (char)(text.len >> 8);
    s->pool[at + 1] = (char)(text.len & 0xff);
    list->len = (uint16_t)(list->len + 2 + text.len);
    (*n)++;
}

/*
 * Appends "NAME -> value" to the request's proxied list, the last thing in the
 * pool while the header block is read (http_headers calls it in a pass of its
 * own).
 */
static void http_proxied(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                         struct tl_str name, struct tl_str value)
{
    struct http_w w;
    if (!http_list_open(ctx, s, q, q->nproxied, http_min(HTTP_MAX_PROXIED, ctx->limits->max_items),
                        name.len + 4 + value.len, &w))
        return;
    for (size_t i = 0; i < name.len; i++) {
        uint8_t c = (uint8_t)name.ptr[i];
        http_wc(&w, (char)(c >= 'a' && c <= 'z' ? c - 32 : c));
    }
    for (const char *p = " -> "; *p; p++)
        http_wc(&w, *p);
    http_wvalue(&w, value, false);
    http_list_close(ctx, s, q, &q->proxied, &q->nproxied, &w);
}

/* Keeps the framing header lines of f, as sent, in the request's conflict list. */
static void http_conflict_keep(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                               const struct http_frame *f)
{
    struct http_w w;
    for (uint8_t i = 0; i < f->nlines; i++) {
        if (!http_list_open(ctx, s, q, q->nconflict, HTTP_MAX_FRAMING, f->lines[i].len, &w))
            return;
        for (size_t k = 0; k < f->lines[i].len; k++)
            http_wc(&w, f->lines[i].ptr[k]);
        http_list_close(ctx, s, q, &q->conflict, &q->nconflict, &w);
    }
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
    if (http_ieq(name, "x-forwarded-for") && !q->s[RS_XFF].len)
        q->s[RS_XFF] = http_req_put(ctx, s, q, value, false);
}

/* A proxy header (Via, X-Forwarded-For...) joins the proxied list. */
static void http_req_proxy(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                           struct tl_str name, struct tl_str value)
{
    for (size_t i = 0; i < TL_ARRAY_LEN(http_proxy_headers); i++)
        if (http_ieq(name, http_proxy_headers[i]))
            http_proxied(ctx, s, q, name, value);
}

/* The names of one header block, upper case as Zeek logs them, before they go to a pool. */
struct http_names {
    uint8_t b[HTTP_NAMES_BUF]; /* entries: a length byte, then the name */
    size_t len;
    uint16_t n, max;
    bool cut;
};

static void http_names_add(struct http_names *nm, struct tl_str name)
{
    size_t len = http_min(name.len, HTTP_NAME_MAX);
    if (nm->n >= nm->max || len + 1 > sizeof(nm->b) - nm->len || len < name.len) {
        nm->cut = true;
        if (nm->n >= nm->max || len + 1 > sizeof(nm->b) - nm->len)
            return;
    }
    nm->b[nm->len++] = (uint8_t)len;
    for (size_t i = 0; i < len; i++) {
        uint8_t c = (uint8_t)name.ptr[i];
        nm->b[nm->len++] = c >= 'a' && c <= 'z' ? (uint8_t)(c - 32) : c;
    }
    nm->n++;
}

/*
 * Appends the names of nm to the list at *ref in a pool (used of cap bytes
 * taken): the list is rewritten at the end of the pool when something follows
 * it, and only whole entries are kept. False when some did not fit.
 */
static bool http_names_keep(char *pool, uint16_t *used, size_t cap, struct http_ref *ref,
                            uint16_t *count, const struct http_names *nm)
{
    if (nm->n == 0)
        return true;
    if (ref->len && (size_t)ref->off + ref->len != *used) {
        if (ref->len > cap - *used)
            return false;
        memmove(pool + *used, pool + ref->off, ref->len);
        ref->off = *used;
        *used = (uint16_t)(*used + ref->len);
    } else if (!ref->len) {
        ref->off = *used;
    }
    for (size_t i = 0; i < nm->len; i += 1u + nm->b[i]) {
        size_t e = 1u + nm->b[i];
        if (e > cap - *used)
            return false;
        memcpy(pool + *used, nm->b + i, e);
        *used = (uint16_t)(*used + e);
        ref->len = (uint16_t)(ref->len + e);
        (*count)++;
    }
    return true;
}

/* Content-Encoding and Content-Disposition, which decide what the response body is. */
static void http_resp_header(struct tl_parse_ctx *ctx, struct http_resp *r, struct tl_str name,
                             struct tl_str value)
{
    char buf[HTTP_SCRATCH];
    struct http_w w = { buf, 0, sizeof(buf), false };
    if (http_ieq(name, "content-type") && !r->s[RP_CTYPE].len) {
        r->s[RP_CTYPE] = http_resp_put(ctx, r, value);
    } else if (http_ieq(name, "content-encoding")) {
        http_wvalue(&w, value, false);
        struct tl_str v = { buf, w.len };
        r->encoded = r->encoded || (v.len && !http_ieq(v, "identity"));
    } else if (http_ieq(name, "content-disposition")) {
        /* RFC 6266 4.1: filename="name.ext" or filename*=UTF-8''name.ext; the extension only. */
        http_wvalue(&w, value, true);
        const char *f = NULL;
        for (size_t i = 0; i + 8 < w.len && !f; i++)
            if (http_iprefix(buf + i, w.len - i, "filename"))
                f = buf + i + 8;
        if (!f)
            return;
        size_t end = (size_t)(f - buf);
        while (end < w.len && buf[end] != ';')
            end++;
        while (end > (size_t)(f - buf) && (buf[end - 1] == '"' || http_ws(buf[end - 1])))
            end--;
        const char *dot = NULL;
        for (const char *c = f; c < buf + end; c++)
            if (*c == '.')
                dot = c;
        size_t n = dot ? (size_t)(buf + end - dot - 1) : 0;
        if (!dot || n == 0 || n >= HTTP_EXT_LEN)
            return;
        for (size_t i = 0; i < n; i++)
            r->cd_ext[i] = (char)http_lower((uint8_t)dot[1 + i]);
        r->cd_ext[n] = '\0';
    }
}

/*
 * The next header of a block (start line already read), its obs-fold
 * continuation lines joined; lines without a colon are skipped. False at the
 * blank line or the block's end.
 */
static bool http_next_header(struct tl_cursor *hb, struct http_hdr *h)
{
    struct tl_str line;
    while (http_line(hb, &line) && line.len) {
        uint8_t next;
        h->raw = line;
        h->folded = false;
        while (tl_cur_peek(hb, 0, &next) && (next == ' ' || next == '\t')) {
            struct tl_str cont;
            http_line(hb, &cont);
            h->raw.len = (size_t)(cont.ptr + cont.len - h->raw.ptr);
            h->folded = true;
        }
        const char *colon = memchr(h->raw.ptr, ':', h->raw.len);
        if (!colon)
            continue;
        h->name = (struct tl_str){ h->raw.ptr, (size_t)(colon - h->raw.ptr) };
        h->value = (struct tl_str){ colon + 1, h->raw.len - h->name.len - 1 };
        h->ws_colon = false;
        while (h->name.len && http_ws(h->name.ptr[h->name.len - 1])) {
            h->name.len--;
            h->ws_colon = true;
        }
        return true;
    }
    return false;
}

/*
 * Reads the header lines of a block: the request or the response handler for
 * each header, the framing in f, and the names (Zeek's client_header_names,
 * server_header_names). A request's proxy headers are read in a second pass,
 * so that their list is one run of the pool.
 */
static void http_headers(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                         struct tl_cursor *hb, struct http_frame *f)
{
    struct http_hdr h;
    struct tl_cursor again = *hb;
    size_t max_name = ctx->limits->max_value_len;
    bool *capped = q ? &q->capped : &s->r.capped;
    struct http_names nm;
    nm.len = 0;
    nm.n = 0;
    nm.cut = false;
    nm.max = (uint16_t)http_min(HTTP_MAX_NAMES, ctx->limits->max_items);
    nm.max = (uint16_t)(nm.max - http_min(nm.max, q ? q->nnames : s->r.nnames));
    while (http_next_header(hb, &h)) {
        if (h.name.len > max_name) {
            h.name.len = max_name;
            http_capped(ctx, capped);
        }
        http_frame_header(f, &h);
        http_names_add(&nm, h.name);
        if (q)
            http_req_header(ctx, s, q, h.name, h.value);
        else
            http_resp_header(ctx, &s->r, h.name, h.value);
    }
    while (q && http_next_header(&again, &h))
        http_req_proxy(ctx, s, q, (struct tl_str){ h.name.ptr, http_min(h.name.len, max_name) },
                       h.value);
    if (q)
        http_pool_room(ctx, s, q->names.len + nm.len);
    bool kept =
        q ? http_names_keep(s->pool, &s->pool_used, s->pool_cap, &q->names, &q->nnames, &nm)
          : http_names_keep(s->r.pool, &s->r.used, HTTP_RESP_POOL, &s->r.names, &s->r.nnames, &nm);
    if (nm.cut || !kept)
        http_capped(ctx, capped);
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

/* The fields of a request head: its start line rl (read) and header block hb; framing into f. */
static void http_req_fill(struct tl_parse_ctx *ctx, struct http_state *s, struct http_req *q,
                          const struct http_reqline *rl, struct tl_cursor *hb, struct http_frame *f)
{
    q->s[RS_METHOD] = http_req_put(ctx, s, q, rl->method, false);
    q->s[RS_URI] = http_req_put(ctx, s, q, rl->uri, true);
    q->head = http_ieq(rl->method, "HEAD");
    q->connect = http_ieq(rl->method, "CONNECT");
    q->v09 = rl->v09;
    if (rl->v09)
        memcpy(q->version, "0.9", 4);
    else
        http_version(ctx, q->version, rl->version, &q->capped);
    if (!rl->v09)
        http_headers(ctx, s, q, hb, f);
}

/*
 * How a server that follows RFC 9112 6.3 delimits a request body: chunked when
 * it is the final coding, else a valid Content-Length, else none. Where the
 * RFC has the server refuse the request instead (400, then close), the reading
 * lenient servers make: chunked when it is listed at all, the first valid
 * Content-Length.
 */
static struct http_reading http_req_body(const struct http_frame *f)
{
    struct http_reading r = { LEN_NONE, 0 };
    if (f->has_te && (f->chunked || f->te_lists)) {
        r.kind = LEN_CHUNKED;
    } else if (f->valid_clen && f->clen > 0) {
        r.kind = LEN_FIXED;
        r.len = f->clen;
    }
    return r;
}

static bool http_reading_eq(struct http_reading a, struct http_reading b)
{
    return a.kind == b.kind && (a.kind != LEN_FIXED || a.len == b.len);
}

static struct http_reading http_reading_len(uint64_t n)
{
    struct http_reading r = { n ? LEN_FIXED : LEN_NONE, n };
    return r;
}

/*
 * Another reading servers have made of the same head, the first that differs
 * from body: Content-Length alone (a server that ignores or does not
 * recognise Transfer-Encoding), the other Content-Length, chunked for a coding
 * that only contains the word, and no body under Expect: 100-continue (a
 * server that answers before the body comes, RFC 9110 10.1.1).
 */
static bool http_req_other(const struct http_frame *f, struct http_reading body,
                           struct http_reading *out)
{
    struct http_reading c[4];
    size_t n = 0;
    if (f->has_te)
        c[n++] = http_reading_len(f->valid_clen ? f->clen : 0);
    if (f->clen_differ)
        c[n++] = http_reading_len(f->clen_other);
    if (f->te_like) {
        c[n].kind = LEN_CHUNKED;
        c[n++].len = 0;
    }
    if (f->expect)
        c[n++] = http_reading_len(0);
    for (size_t i = 0; i < n; i++)
        if (!http_reading_eq(c[i], body)) {
            *out = c[i];
            return true;
        }
    return false;
}

/*
 * Does the head frame its body in a way servers read differently (RFC 9112
 * 6.1, 6.3, 11.2)? Transfer-Encoding with Content-Length, not ending in
 * chunked, listing chunked twice, on several lines or in HTTP/1.0; invalid or
 * differing Content-Lengths; obs-fold or whitespace before the colon in either;
 * Expect: 100-continue on a request without a body (RFC 9110 10.1.1).
 */
static bool http_req_conflict(const struct http_frame *f, const char *version)
{
    if (f->has_te &&
        (f->has_clen || !f->chunked || f->te_lists || f->nte > 1 || strcmp(version, "1.0") == 0))
        return true;
    if (f->odd || f->bad_clen)
        return true;
    return f->expect && !f->has_te && (!f->valid_clen || f->clen == 0);
}

static void http_walker(struct http_alt *a, struct http_reading r, uint32_t depth)
{
    memset(a, 0, sizeof(*a));
    a->on = true;
    a->kind = r.kind;
    a->left = r.kind == LEN_FIXED ? r.len : 0;
    a->state = AW_SIZE;
    a->depth = depth;
}

/*
 * From here on dir 0's bytes are also read as the other reading `r` says,
 * from the body's start, beside this side's own reading `own`.
 */
static void http_alt_start(struct http_state *s, struct http_reading r, struct http_reading own,
                           uint32_t depth, bool quiet)
{
    http_walker(&s->alt, r, depth);
    http_walker(&s->main, own, depth);
    s->alt.quiet = quiet;
    s->alt_clear = s->alt_until = 0;
    s->alt_end = false;
}

/*
 * Follows the other reading over n more bytes: true when its body ends
 * within them, *used bytes in. A chunked body that breaks RFC 9112 7.1 ends
 * the reading (a->on false): that server would have refused it.
 */
static bool http_alt_walk(struct http_alt *a, const uint8_t *p, size_t n, size_t *used)
{
    size_t i = 0;
    if (a->kind != LEN_CHUNKED) {
        size_t take = a->left < n ? (size_t)a->left : n;
        a->left -= take;
        *used = take;
        return a->left == 0;
    }
    while (i < n && a->on) {
        uint8_t c = p[i];
        switch (a->state) {
        case AW_SIZE:
            if (http_hex(c) >= 0 && a->digits < 16) {
                a->left = a->left * 16 + (uint64_t)http_hex(c);
                a->digits++;
                i++;
            } else {
                a->on = a->digits > 0;
                a->state = AW_EXT; /* extensions, then the line end */
            }
            break;
        case AW_EXT:
            i++;
            if (c == '\n') {
                a->state = a->left ? AW_DATA : AW_TRL;
                a->digits = 0;
            }
            break;
        case AW_DATA: {
            size_t take = a->left < n - i ? (size_t)a->left : n - i;
            i += take;
            a->left -= take;
            if (a->left == 0)
                a->state = AW_DATA_CR;
            break;
        }
        case AW_DATA_CR:
        case AW_DATA_LF:
            i++;
            if (c == '\r' && a->state == AW_DATA_CR)
                a->state = AW_DATA_LF;
            else if (c == '\n')
                a->state = AW_SIZE;
            else
                a->on = false;
            break;
        case AW_TRL:
        case AW_TRL_CR:
            i++;
            if (c == '\n') {
                *used = i;
                return true;
            }
            a->state = c == '\r' && a->state == AW_TRL ? AW_TRL_CR : AW_TRL_LINE;
            break;
        default: /* AW_TRL_LINE */
            i++;
            if (c == '\n')
                a->state = AW_TRL;
            break;
        }
    }
    *used = i;
    return false;
}

/*
 * Room for n requests in the queue: most connections have one pending at a
 * time, so a state keeps HTTP_Q_INLINE and a deeper pipeline grows the queue,
 * up to HTTP_MAX_PIPELINE. False when n is past it, or memory is short.
 */
static bool http_q_room(struct tl_parse_ctx *ctx, struct http_state *s, size_t n)
{
    http_inline(s);
    if (n <= s->qcap)
        return true;
    if (n > HTTP_MAX_PIPELINE)
        return false;
    size_t cap = http_min(HTTP_MAX_PIPELINE, 2 * (size_t)s->qcap);
    struct http_req *q = tl_state_grow(ctx, s->q, s->q == s->q_inline, s->qcap * sizeof(*q),
                                       s->nq * sizeof(*q), cap * sizeof(*q));
    if (!q)
        return false;
    s->q = q;
    s->qcap = (uint8_t)cap;
    return true;
}

static void http_state_free(struct tl_parse_ctx *ctx)
{
    struct http_state *s = ctx->state;
    if (!s->q)
        return;
    tl_state_shrink(ctx, s->q, s->q == s->q_inline, s->qcap * sizeof(*s->q));
    tl_state_shrink(ctx, s->pool, s->pool == s->pool_inline, s->pool_cap);
}

/* HTTP_REQ_ROOM pool bytes free for a new request's strings, the pool grown if need be. */
static bool http_req_room(struct tl_parse_ctx *ctx, struct http_state *s)
{
    http_pool_room(ctx, s, HTTP_REQ_ROOM);
    return (size_t)s->pool_cap - s->pool_used >= HTTP_REQ_ROOM;
}

/*
 * A new pending request; when the queue is full (or cannot grow), or the pool
 * has less than HTTP_REQ_ROOM left and cannot grow, the oldest is written
 * alone (counted).
 */
static struct http_req *http_push(struct tl_parse_ctx *ctx, struct http_state *s)
{
    size_t max = http_min(HTTP_MAX_PIPELINE, ctx->limits->max_pipeline);
    if (max == 0)
        max = 1;
    while (s->nq && (s->nq >= max || !http_req_room(ctx, s) || !http_q_room(ctx, s, s->nq + 1u))) {
        http_write(ctx, s, &s->q[0], false, "pending_capped");
        http_pop(s);
        s->orphans++;
        ctx->counters[TL_DC_CAPPED]++;
    }
    http_q_room(ctx, s, 1); /* the inline ones, at least */
    struct http_req *q = &s->q[s->nq++];
    memset(q, 0, sizeof(*q));
    q->pool_start = s->pool_used;
    q->ts = ctx->ts_us;
    q->depth = ++s->nreq;
    q->resynced = s->d[0].resync_hit;
    q->smuggled = s->alt.on || s->alt_until; /* the other reading is inside a body here */
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
            return TL_PARSE_GIVEUP;                    /* never was HTTP: no record */
        bool partial = first == 0 && ctx->capture_cut; /* nothing follows: judge what is there */
        if (first == 0 && tl_cur_left(in) < HTTP_MAX_HEAD && !partial)
            return TL_PARSE_MORE;
        struct tl_str line = { tl_cur_rest(in).ptr, lf ? lf - 1 : partial ? tl_cur_left(in) : 0 };
        if ((first == 0 && !partial) || !http_req_plausible(line)) {
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
    bool whole_line = line_end > 0;
    bool cut = found == 0 && ctx->capture_cut;
    if (cut) { /* nothing follows: what there is of the head, truncated */
        end = tl_cur_left(in);
        line_end = whole_line ? line_end : end;
        found = 1;
    }
    struct tl_str line = { tl_cur_rest(in).ptr, line_end };
    struct http_reqline rl = { 0 };
    if (line_end) {
        rl = http_reqline(http_trim(line));
        rl.v09 = rl.v09 && whole_line; /* a cut line may have lost its version */
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
    if (cut)
        q->status = TL_MSG_TRUNCATED;
    if (!rl.ok) {
        if (!cut)
            http_malformed(ctx, &q->status); /* kept, so its response pairs as Zeek does */
        return TL_PARSE_OK;
    }
    http_req_fill(ctx, s, q, &rl, &hb, &f);
    struct http_reading body = { LEN_NONE, 0 }, other;
    bool alt = false;
    if (!rl.v09 && !cut) {
        body = http_req_body(&f);
        alt = http_req_other(&f, body, &other);
        q->show_conflict = http_req_conflict(&f, q->version);
        if (f.bad_clen || (f.has_te && !f.chunked))
            http_malformed(ctx, &q->status); /* RFC 9112 6.3: a server refuses it */
        if (q->show_conflict || alt)
            http_conflict_keep(ctx, s, q, &f);
    }
    http_req_share(s, q);
    if (cut)
        return TL_PARSE_OK; /* no body can follow */
    if (alt)
        http_alt_start(s, other, body, q->depth, !q->show_conflict);

    s->body_req = q->depth;
    s->nqsniff = 0;
    s->qsniff_done = false;
    if (rl.v09) {
        d->phase = PH_V09; /* Zeek reads header lines after a simple request, if any come */
    } else if (body.kind == LEN_CHUNKED) {
        d->phase = PH_BODY;
        d->mode = BM_CHUNK_SIZE;
    } else if (body.kind == LEN_FIXED) {
        d->phase = PH_BODY;
        d->mode = BM_LENGTH;
        d->left = body.len;
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
static void http_body_start(struct tl_parse_ctx *ctx, struct http_state *s, uint8_t mode,
                            uint64_t left)
{
    s->d[1].phase = PH_BODY;
    s->d[1].mode = mode;
    s->d[1].left = left;
    s->r.hashing = HASH_OFF;
    if (ctx->limits->body_hash == TL_HASH_NONE)
        return;
    if (ctx->limits->body_hash == TL_HASH_ALL || http_declared_file(s))
        http_hash_on(&s->r, ctx->limits->body_digests);
    else
        s->r.hashing = HASH_UNDECIDED;
}

static enum tl_parse http_body(struct tl_parse_ctx *ctx, struct http_state *s,
                               struct tl_cursor *in);

/* A response whose end was lost (ctx->capture_cut): written, truncated, with what was read. */
static enum tl_parse http_resp_cut(struct tl_parse_ctx *ctx, struct http_state *s,
                                   struct tl_cursor *in)
{
    struct http_resp *r = &s->r;
    if (!r->seen)
        ctx->counters[TL_DC_MESSAGES]++;
    r->seen = true;
    if (!r->ts)
        r->ts = ctx->ts_us;
    if (r->status == TL_MSG_OK)
        r->status = TL_MSG_TRUNCATED;
    http_consume(&s->d[1], in, tl_cur_left(in));
    http_resp_done(ctx, s);
    return TL_PARSE_OK;
}

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
        http_body_start(ctx, s, BM_CLOSE, 0);
        return http_body(ctx, s, in);
    }
    if (http_skip_blank(d, in))
        return TL_PARSE_OK;
    struct tl_str rest = tl_cur_rest(in);
    if (!http_iprefix(rest.ptr, rest.len, "HTTP/")) {
        if (rest.len < 5 && http_is_start(rest, "HTTP/"))
            return ctx->capture_cut ? http_resp_cut(ctx, s, in) : TL_PARSE_MORE;
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
    bool cut = found == 0 && ctx->capture_cut;
    if (cut && !line_end)
        return http_resp_cut(ctx, s, in); /* not even its status line */
    if (cut) { /* nothing follows: what there is of the head, truncated */
        end = tl_cur_left(in);
        found = 1;
    }
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
        return cut ? http_resp_cut(ctx, s, in) : TL_PARSE_OK;
    }
    r->code = (uint16_t)code;
    r->s[RP_MSG] = http_resp_put(ctx, r, reason);
    http_headers(ctx, s, NULL, &hb, &f);
    if (cut)
        return http_resp_cut(ctx, s, in); /* no body can follow */

    bool tunnel = code == 101 || (q && q->connect && code >= 200 && code < 300);
    if (tunnel) {
        s->tunnel = true;
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
        http_body_start(ctx, s, BM_CHUNK_SIZE, 0);
    } else if (f.valid_clen && !f.bad_clen && !f.has_te) {
        if (f.clen == 0) {
            http_resp_done(ctx, s);
            return TL_PARSE_OK;
        }
        http_body_start(ctx, s, BM_LENGTH, f.clen);
    } else {
        if (f.bad_clen)
            http_malformed(ctx, &r->status);
        http_body_start(ctx, s, BM_CLOSE, 0); /* RFC 9112 6.3 rule 8: until the close */
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
        if (!s->qsniff_done && s->nqsniff < HTTP_SNIFF) {
            size_t k = http_min(n, HTTP_SNIFF - (size_t)s->nqsniff);
            memcpy(s->qsniff + s->nqsniff, p, k);
            s->nqsniff = (uint8_t)(s->nqsniff + k);
        }
        return;
    }
    struct http_resp *r = &s->r;
    size_t sniffed = 0;
    if (!r->sniff_done && r->nsniff < HTTP_SNIFF) {
        sniffed = http_min(n, HTTP_SNIFF - (size_t)r->nsniff);
        memcpy(r->sniff + r->nsniff, p, sniffed);
        r->nsniff = (uint8_t)(r->nsniff + sniffed);
    }
    r->body_len += n;
    if (r->hashing == HASH_OFF)
        return;
    if (r->body_len > ctx->limits->max_body_hash) {
        r->hashing = HASH_OFF;
        ctx->counters[TL_DC_CAPPED]++;
        return;
    }
    if (r->hashing == HASH_UNDECIDED) {
        if (r->nsniff < HTTP_SNIFF)
            return;               /* the bytes wait in the sniff buffer */
        http_hash_decide(ctx, r); /* hashes the sniff buffer, which holds `sniffed` of these */
        p += sniffed;
        n -= sniffed;
    }
    if (r->hashing == HASH_ON)
        tl_digests_update(&r->dg, p, n);
}

static void http_msg_done(struct tl_parse_ctx *ctx, struct http_state *s)
{
    if (ctx->dir == 0) {
        http_req_typed(s);
        s->d[0].phase = PH_HEAD;
    } else
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

/*
 * The request the other reading finds at `at` (a request line, then its head;
 * leading blank lines skipped): written alone, flagged smuggled, with the
 * framing lines of the request whose body holds it. 1 written, 0 more bytes
 * needed, -1 none there.
 */
static int http_hidden(struct tl_parse_ctx *ctx, struct http_state *s, struct tl_cursor at)
{
    struct http_dir d = { 0 };
    size_t line_end, end;
    http_skip_blank(&d, &at);
    struct tl_str rest = tl_cur_rest(&at);
    size_t lf = http_find_lf(&d, &at);
    if (!lf) {
        bool may = rest.len < HTTP_MAX_HEAD && http_request_prefix(rest.ptr, rest.len);
        return may && !ctx->capture_cut ? 0 : -1;
    }
    if (lf > HTTP_MAX_HEAD || !http_request_line(rest.ptr, lf))
        return -1;
    int found = http_find_head(&d, &at, false, &line_end, &end);
    if (found < 0 || !http_q_room(ctx, s, s->nq + 1u)) /* read into the slot after the last */
        return -1;
    if (found == 0 && !ctx->capture_cut)
        return 0;
    struct tl_cursor hb = at;
    tl_cur_sub(&at, found ? end : rest.len, &hb);
    tl_cur_skip(&hb, lf);

    struct http_req *q = &s->q[s->nq], *outer = NULL;
    struct http_reqline rl = http_reqline(http_trim((struct tl_str){ rest.ptr, lf }));
    struct http_frame f = { 0 };
    for (uint8_t i = 0; i < s->nq; i++)
        if (s->q[i].depth == s->alt.depth)
            outer = &s->q[i];
    memset(q, 0, sizeof(*q));
    q->pool_start = s->pool_used;
    q->ts = ctx->ts_us;
    q->depth = s->alt.depth;
    q->smuggled = true;
    q->status = found ? TL_MSG_OK : TL_MSG_TRUNCATED;
    ctx->counters[TL_DC_MESSAGES]++;
    http_req_fill(ctx, s, q, &rl, &hb, &f);
    if (outer) {
        outer->show_conflict = true; /* an Expect that hid a request is a conflict after all */
        q->conflict = outer->conflict;
        q->nconflict = outer->nconflict;
        q->show_conflict = true;
    }
    http_write(ctx, s, q, false, "smuggled");
    s->pool_used = q->pool_start;
    return 1;
}

/*
 * Dir 0, while another reading of a request's framing runs: where it says the
 * next request starts, that request is read (http_hidden) before the bytes
 * are read as this side's own reading has them. True with *r when the parse
 * must wait for more bytes. s->alt_clear saves walking the same bytes twice.
 */
static bool http_alt_check(struct tl_parse_ctx *ctx, struct http_state *s, struct tl_cursor *in,
                           enum tl_parse *r)
{
    struct tl_str rest = tl_cur_rest(in);
    bool same = false;
    if (!s->alt_end) {
        size_t used, mused;
        const uint8_t *p = (const uint8_t *)rest.ptr + s->alt_clear;
        if (s->alt_clear >= rest.len)
            return false;
        s->alt_end = http_alt_walk(&s->alt, p, rest.len - s->alt_clear, &used);
        if (s->main.on) { /* over the same bytes, up to alt's end */
            bool end = http_alt_walk(&s->main, p, used, &mused);
            same = s->alt_end && end && mused == used;
            s->main.on = s->main.on && !end;
        }
        s->alt_clear += used;
        if (!s->alt_end)
            return false;
    }
    /* Both readings start the next request at the same byte: they agree from now on. */
    if (same || (s->alt_clear == 0 && s->d[0].phase == PH_HEAD)) {
        s->alt.on = false;
        return false;
    }
    struct tl_cursor at = *in;
    tl_cur_skip(&at, s->alt_clear);
    int got = http_hidden(ctx, s, at);
    if (got == 0) {
        *r = TL_PARSE_MORE;
        return true;
    }
    s->alt.on = false;
    s->alt_until = s->alt_clear;
    return false;
}

static enum tl_parse http_parse(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct http_state *s = ctx->state;
    enum tl_parse r;

    if (s->dead || ctx->dir > 1)
        return TL_PARSE_GIVEUP;
    if (ctx->dir == 0 && s->alt.on && http_alt_check(ctx, s, in, &r))
        return r;
    size_t *ahead = ctx->dir ? NULL : s->alt.on ? &s->alt_clear : &s->alt_until;
    size_t before = tl_cur_left(in);
    switch (s->d[ctx->dir].phase) {
    case PH_HEAD: r = ctx->dir == 0 ? http_request(ctx, s, in) : http_response(ctx, s, in); break;
    case PH_BODY: r = http_body(ctx, s, in); break;
    case PH_V09: r = http_v09_headers(ctx, s, in); break;
    case PH_RESYNC: r = http_resync(ctx, s, in); break;
    default: /* CONNECT sent: wait for the answer, but not forever */
        r = tl_cur_left(in) >= HTTP_MAX_HEAD ? TL_PARSE_GIVEUP : TL_PARSE_MORE;
        break;
    }
    if (ahead) /* the bytes read were inside the other reading's body, if it covers them */
        *ahead -= http_min(*ahead, before - tl_cur_left(in));
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
    if (ctx->dir == 0) { /* where the other reading stands is lost */
        s->alt.on = false;
        s->alt_until = 0;
    }
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
        http_write_all(ctx, s, ctx->dir == 1 ? "reply_gap" : "request_gap");
        http_resync_enter(s, ctx->dir, false);
        if (o_lost)
            http_resync_enter(s, o, o_skip);
        return;
    }
    if (ctx->dir == 0) {
        for (uint8_t i = 0; i < s->nq; i++)
            if (s->q[i].depth == s->body_req)
                s->q[i].body_len += n;
        s->qsniff_done = true;
    } else {
        s->r.body_len += n;
        s->r.hashing = HASH_OFF;
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

/* Can the oldest request be written alone once it is old enough? Not while the response is
 * being read, nor while the request still sends its body or waits for its CONNECT answer:
 * only more bytes change that. */
static bool http_flushable(const struct http_state *s)
{
    return s->nq && !http_resp_busy(s) &&
           !(s->d[0].phase != PH_HEAD && s->q[0].depth == s->body_req);
}

/*
 * Between messages - no request waits, none is half read or sending its body,
 * the response slot is as http_resp_reset leaves it, no other reading of a
 * body is followed - the state is a fresh one but for its counters. (What
 * main, alt_end and alt_clear hold is read only while alt is on, and
 * http_alt_start sets them afresh.) A keep-alive connection's state then goes
 * until its next request.
 */
/* What a resting state keeps: the counters a fresh one would lose. */
struct http_kept {
    uint32_t nreq, nresp, orphans, body_req;
};
_Static_assert(sizeof(struct http_kept) <= TL_REST_BYTES, "what a resting HTTP state keeps");

static bool http_rest(const void *state, uint8_t kept[TL_REST_BYTES])
{
    const struct http_state *s = state;
    if (s->nq || s->pool_used || s->dead || s->tunnel || s->alt.on || s->alt_until)
        return false;
    for (int i = 0; i < 2; i++)
        if (s->d[i].phase != PH_HEAD || s->d[i].resync_hit || s->d[i].skip_line)
            return false;
    if (!http_resp_idle(s))
        return false;
    struct http_kept k = { s->nreq, s->nresp, s->orphans, s->body_req };
    memcpy(kept, &k, sizeof(k));
    return true;
}

static void http_resume(void *state, const uint8_t kept[TL_REST_BYTES])
{
    struct http_state *s = state;
    struct http_kept k;
    memcpy(&k, kept, sizeof(k));
    s->nreq = k.nreq;
    s->nresp = k.nresp;
    s->orphans = k.orphans;
    s->body_req = k.body_req;
}

static uint64_t http_flush(struct tl_parse_ctx *ctx, uint64_t now_us)
{
    struct http_state *s = ctx->state;
    if (now_us == UINT64_MAX) {
        http_write_all(ctx, s, "flow_ended");
        return UINT64_MAX;
    }
    uint64_t timeout = ctx->limits->pending_timeout;
    while (http_flushable(s) && s->q[0].ts <= now_us && now_us - s->q[0].ts >= timeout) {
        http_write(ctx, s, &s->q[0], false, "no_reply");
        http_pop(s);
        s->orphans++;
    }
    return http_flushable(s) ? tl_pending_due(s->q[0].ts, timeout) : UINT64_MAX;
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
    .state_free = http_state_free,
    .record_size = sizeof(struct http_rec),
    .parse = http_parse,
    .gap = http_gap,
    .flush = http_flush,
    .event = &tl_http_event,
    .domain = http_domain,
    .rest = http_rest,
    .resume = http_resume,
};
