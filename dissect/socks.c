/*
 * socks.c - SOCKS 4, its 4A extension, and SOCKS 5 (RFC 1928; username and
 * password authentication RFC 1929) over TCP -> one `socks` record per
 * connection; then the proxied stream goes to the dissector of the port the
 * client asked for.
 *
 * Client side. SOCKS 4: VN 4, CD, DSTPORT, DSTIP, USERID and a NUL; 4A: DSTIP
 * 0.0.0.x (x not 0), then the host name and a NUL. SOCKS 5: the greeting (VER
 * 5, NMETHODS, METHODS), a username/password request (RFC 1929 2: VER 1,
 * ULEN, UNAME, PLEN, PASSWD - the password is passed over, never kept) when
 * the next byte is 1, then the request (VER 5, CMD, RSV, ATYP, DST.ADDR,
 * DST.PORT, RFC 1928 4). Server side. SOCKS 4: VN, CD (90: granted),
 * DSTPORT, DSTIP. SOCKS 5: the method chosen (RFC 1928 3), the
 * authentication status when it is 2 (RFC 1929 2), the reply (VER, REP, RSV,
 * ATYP, BND.ADDR, BND.PORT, RFC 1928 6).
 *
 * Each side is read on its own. The record is written with the reply (or a
 * refused method or login), else by flush() with `unanswered`. A granted
 * CONNECT hands the flow over (ctx.handover) to the dissector of the
 * requested port: the client's side from the byte after its request (what the
 * client sends before the reply waits, unconsumed, until then), the server's
 * from the byte after its reply. Field names are those of Zeek's socks.log
 * (version, user, status, request.host, request.name, request_p, bound.*);
 * the parse quality is `parse_status`, as Zeek's `status` is the reply.
 *
 * Not followed: GSSAPI authentication (RFC 1961 may wrap what follows), and
 * what BIND and UDP ASSOCIATE connections carry after the first reply.
 *
 * Invariants: every message is read whole from the bytes at hand or not at
 * all (TL_PARSE_MORE consumes nothing); names are at most 255 bytes (RFC 1928
 * 5's one-byte length; SOCKS 4 user ids and 4A names are cut there and a
 * message without its NUL within SOCKS_MAX_FIELD bytes is malformed), so
 * nothing waits without bound.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "cursor.h"
#include "dissect.h"
#include "domain.h"
#include "flow.h"
#include "schema.h"

enum {
    SOCKS_MAX_FIELD = 255,  /* user ids, names: RFC 1928 5's one-byte length */
    SOCKS_MAX_METHODS = 16, /* offered methods kept; also max_items */
    SOCKS_GRANTED4 = 90,    /* SOCKS 4 CD of a granted request */
    SOCKS_NO_METHOD = 0xff, /* RFC 1928 3: no acceptable methods */
};

enum socks_cmd { CMD_CONNECT = 1, CMD_BIND = 2, CMD_UDP = 3 };

/* Where each side is. */
enum socks_step {
    STEP_START,   /* client: greeting or SOCKS 4 request; server: first reply or method */
    STEP_AUTH,    /* client: login or request; server: login status (method 2) */
    STEP_REQUEST, /* server: the reply */
    STEP_WAIT,    /* client: request sent; what follows is the proxied stream */
    STEP_DONE,    /* nothing more is read on this side */
};

/* An address as a request or reply carries it: IPv4, a name, or IPv6 (RFC 1928 5). */
struct socks_addr {
    struct tl_ip ip;
    uint16_t port;
    uint8_t name_len;
    char name[SOCKS_MAX_FIELD];
};

struct socks_state {
    uint64_t ts; /* the client's first message */
    uint8_t version, command, method, nmethods;
    uint8_t step[2]; /* enum socks_step, per direction */
    uint8_t reply, status, unanswered;
    bool has_method, has_request, has_reply, auth_answered, auth_ok, written;
    uint8_t methods[SOCKS_MAX_METHODS];
    uint8_t user_len;
    char user[SOCKS_MAX_FIELD];
    struct socks_addr request, bound;
    const char *proxied;
};

struct socks_rec {
    struct tl_flow_ids ids;
    uint8_t version;
    const char *command;
    struct tl_str user;
    struct tl_strlist auth_methods;
    const char *auth_method;
    bool auth_success, auth_tried;
    struct tl_ip request_host;
    struct tl_str request_name;
    uint16_t request_p;
    const char *status;
    uint8_t reply_code;
    bool has_reply;
    struct tl_ip bound_host;
    struct tl_str bound_name;
    uint16_t bound_p;
    const char *proxied;
    const char *reply_status;
    uint8_t parse_status;
    struct tl_str methods_v[SOCKS_MAX_METHODS];
    char status_buf[24];
};

#define R struct socks_rec
static const struct tl_field socks_fields[] = {
    TL_FLOW_ID_FIELDS(R),
    TL_FIELD(R, version, U8, "version", "SOCKS version: 4 (4A too) or 5"),
    TL_FIELD_OPT(R, command, CSTR, "command", "request: connect, bind or udp_associate"),
    TL_FIELD_OPT_P(R, user, STR, "user",
                   "SOCKS 5 login name (RFC 1929; never the password), or the SOCKS 4 user id"),
    TL_FIELD_OPT(R, auth_methods, STRLIST, "auth_methods",
                 "SOCKS 5 methods the client offered: none, gssapi, username_password, chap, "
                 "cram, ssl, nds, maf, or method-<n>"),
    TL_FIELD_OPT(R, auth_method, CSTR, "auth_method",
                 "SOCKS 5 method the server chose, as auth_methods, or no_acceptable"),
    TL_FIELD_IF(R, auth_success, BOOL, auth_tried, "auth_success",
                "SOCKS 5 login (RFC 1929): the server accepted it"),
    TL_FIELD_OPT_P(R, request_host, IP, "request.host", "requested address (absent for a name)"),
    TL_FIELD_OPT_P(R, request_name, STR, "request.name",
                   "requested host name (SOCKS 5 domain name, SOCKS 4A)"),
    TL_FIELD_OPT(R, request_p, U16, "request_p", "requested port"),
    TL_FIELD_OPT(R, status, CSTR, "status",
                 "the server's reply, Zeek's text (succeeded, general SOCKS server failure, "
                 "connection not allowed by ruleset, Host unreachable, Connection refused...)"),
    TL_FIELD_IF(R, reply_code, U8, has_reply, "reply_code", "REP (SOCKS 5) or CD (SOCKS 4)"),
    TL_FIELD_OPT_P(R, bound_host, IP, "bound.host", "server's bound address in the reply"),
    TL_FIELD_OPT(R, bound_name, STR, "bound.name", "server's bound host name in the reply"),
    TL_FIELD_OPT(R, bound_p, U16, "bound_p", "server's bound port in the reply"),
    TL_FIELD_OPT(R, proxied, CSTR, "proxied_protocol",
                 "the dissector the proxied stream went to, by the requested port"),
    TL_FIELD_OPT(R, reply_status, CSTR, "reply_status", TL_UNANSWERED_DOC),
    TL_FIELD(R, parse_status, STATUS, "parse_status", "ok, truncated or malformed"),
};
#undef R

/* ---- names ---- */

static const char *socks_command(uint8_t c)
{
    switch (c) {
    case CMD_CONNECT: return "connect";
    case CMD_BIND: return "bind";
    case CMD_UDP: return "udp_associate";
    default: return NULL;
    }
}

/* "<prefix><code>" in buf (at least 16 bytes), for codes without a name. */
static const char *socks_numbered(char *buf, const char *prefix, uint8_t code)
{
    size_t k = strlen(prefix);
    memcpy(buf, prefix, k);
    if (code >= 100)
        buf[k++] = (char)('0' + code / 100);
    if (code >= 10)
        buf[k++] = (char)('0' + code / 10 % 10);
    buf[k++] = (char)('0' + code % 10);
    buf[k] = '\0';
    return buf;
}

/* RFC 1928 3 and IANA's SOCKS methods; the rest "method-<n>" written into buf. */
static const char *socks_method(uint8_t m, char *buf)
{
    static const char *const names[] = { "none", "gssapi", "username_password",
                                         "chap", NULL,     "cram",
                                         "ssl",  "nds",    "maf" };
    if (m < TL_ARRAY_LEN(names) && names[m])
        return names[m];
    return m == SOCKS_NO_METHOD ? "no_acceptable" : socks_numbered(buf, "method-", m);
}

/* Zeek's texts (base/protocols/socks/consts.zeek); others "unknown-<n>" written into buf. */
static const char *socks_status(uint8_t version, uint8_t code, char *buf)
{
    static const char *const v5[] = {
        "succeeded",
        "general SOCKS server failure",
        "connection not allowed by ruleset",
        "Network unreachable",
        "Host unreachable",
        "Connection refused",
        "TTL expired",
        "Command not supported",
        "Address type not supported",
    };
    static const char *const v4[] = {
        "succeeded",
        "general SOCKS server failure",
        "request failed because client is not running identd",
        ("request failed because client's identd could not confirm the user ID string in the "
         "request"),
    };
    if (version == 5 && code < TL_ARRAY_LEN(v5))
        return v5[code];
    if (version == 4 && code >= SOCKS_GRANTED4 && code < SOCKS_GRANTED4 + TL_ARRAY_LEN(v4))
        return v4[code - SOCKS_GRANTED4];
    return socks_numbered(buf, "unknown-", code);
}

/* ---- the record ---- */

static void socks_write(struct tl_parse_ctx *ctx, enum tl_unanswered why)
{
    struct socks_state *st = ctx->state;
    struct socks_rec r;
    char mbuf[SOCKS_MAX_METHODS + 1][16];

    if (st->written || st->version == 0)
        return;
    st->written = true;
    memset(&r, 0, sizeof(r));
    r.version = st->version;
    r.command = st->has_request ? socks_command(st->command) : NULL;
    r.user = (struct tl_str){ st->user, st->user_len };
    for (unsigned i = 0; i < st->nmethods; i++) {
        const char *m = socks_method(st->methods[i], mbuf[i]);
        r.methods_v[i] = (struct tl_str){ m, strlen(m) };
    }
    r.auth_methods = (struct tl_strlist){ r.methods_v, st->nmethods };
    if (st->has_method)
        r.auth_method = socks_method(st->method, mbuf[SOCKS_MAX_METHODS]);
    r.auth_tried = st->auth_answered;
    r.auth_success = st->auth_ok;
    if (st->has_request) {
        r.request_host = st->request.ip;
        r.request_name = (struct tl_str){ st->request.name, st->request.name_len };
        r.request_p = st->request.port;
    }
    if (st->has_reply) {
        r.has_reply = true;
        r.reply_code = st->reply;
        r.status = socks_status(st->version, st->reply, r.status_buf);
        r.bound_host = st->bound.ip;
        r.bound_name = (struct tl_str){ st->bound.name, st->bound.name_len };
        r.bound_p = st->bound.port;
    }
    r.proxied = st->proxied;
    if (!st->has_reply && why != TL_UNANS_NONE)
        r.reply_status = tl_unanswered_name(st->unanswered ? st->unanswered : why);
    r.parse_status = st->status;
    ctx->emit(ctx, &r, st->ts);
}

/* Something could not be read: recorded malformed, and the flow followed no further. */
static enum tl_parse socks_bad(struct tl_parse_ctx *ctx)
{
    struct socks_state *st = ctx->state;
    st->status = TL_MSG_MALFORMED;
    ctx->counters[TL_DC_MALFORMED]++;
    socks_write(ctx, TL_UNANS_UNPARSEABLE);
    return TL_PARSE_GIVEUP;
}

/* ---- reading ---- */

/* Copies n bytes (at most SOCKS_MAX_FIELD, cut and counted past it) of c into dst. */
static uint8_t socks_keep(struct tl_parse_ctx *ctx, char *dst, const uint8_t *p, size_t n)
{
    size_t keep = n < ctx->limits->max_value_len ? n : ctx->limits->max_value_len;
    if (keep > SOCKS_MAX_FIELD)
        keep = SOCKS_MAX_FIELD;
    if (keep < n)
        ctx->counters[TL_DC_CAPPED]++;
    if (keep)
        memcpy(dst, p, keep);
    return (uint8_t)keep;
}

/* A NUL-terminated field (SOCKS 4 USERID, 4A host name): kept; false while its NUL is not here. */
static bool socks_cstring(struct tl_parse_ctx *ctx, struct tl_cursor *c, char *dst, uint8_t *len)
{
    struct tl_str rest = tl_cur_rest(c);
    const char *nul = rest.len ? memchr(rest.ptr, 0, rest.len) : NULL;
    if (!nul) {
        tl_cur_fail(c, rest.len > SOCKS_MAX_FIELD ? TL_CUR_BAD : TL_CUR_SHORT);
        return false;
    }
    size_t n = (size_t)(nul - rest.ptr);
    *len = socks_keep(ctx, dst, (const uint8_t *)rest.ptr, n);
    tl_cur_skip(c, n + 1);
    return true;
}

/* ATYP, the address and the port (RFC 1928 4, 6); a bad ATYP fails c BAD. */
static void socks_address(struct tl_parse_ctx *ctx, struct tl_cursor *c, struct socks_addr *a)
{
    uint8_t atyp = tl_cur_u8(c);
    memset(a, 0, sizeof(*a));
    if (atyp == 1) {
        a->ip.b[10] = a->ip.b[11] = 0xff; /* v4-mapped, as struct tl_ip keeps IPv4 */
        tl_cur_copy(c, a->ip.b + 12, 4);
    } else if (atyp == 4) {
        tl_cur_copy(c, a->ip.b, 16);
    } else if (atyp == 3) {
        uint8_t n = tl_cur_u8(c);
        const uint8_t *name = tl_cur_bytes(c, n);
        if (name)
            a->name_len = socks_keep(ctx, a->name, name, n);
    } else {
        tl_cur_fail(c, TL_CUR_BAD);
    }
    a->port = tl_cur_be16(c);
}

/* SOCKS 4 request: CD, DSTPORT, DSTIP, USERID NUL, and for 4A the host name NUL. */
static void socks_request4(struct tl_parse_ctx *ctx, struct tl_cursor *c)
{
    struct socks_state *st = ctx->state;
    struct socks_addr *a = &st->request;
    uint8_t ip[4];
    tl_cur_skip(c, 1); /* VN */
    st->command = tl_cur_u8(c);
    memset(a, 0, sizeof(*a));
    a->port = tl_cur_be16(c);
    tl_cur_copy(c, ip, sizeof(ip));
    if (!tl_cur_ok(c) || !socks_cstring(ctx, c, st->user, &st->user_len))
        return;
    if (ip[0] == 0 && ip[1] == 0 && ip[2] == 0 && ip[3] != 0) { /* 4A: the name follows */
        socks_cstring(ctx, c, a->name, &a->name_len);
        return;
    }
    a->ip.b[10] = a->ip.b[11] = 0xff;
    memcpy(a->ip.b + 12, ip, sizeof(ip));
}

/* The client's side: one message per call, while the handshake lasts. */
static enum tl_parse socks_client(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct socks_state *st = ctx->state;
    struct tl_cursor c = *in;
    uint8_t first, next = st->step[0];
    tl_cur_peek(&c, 0, &first);

    if (st->step[0] == STEP_START) {
        if (first != 4 && first != 5)
            return TL_PARSE_GIVEUP; /* not SOCKS */
        if (first == 4) {
            socks_request4(ctx, &c);
            next = STEP_WAIT;
        } else {
            tl_cur_skip(&c, 1);
            uint8_t n = tl_cur_u8(&c);
            const uint8_t *m = tl_cur_bytes(&c, n);
            st->nmethods = 0; /* a greeting read again once the rest of it came */
            if (m && n == 0)
                tl_cur_fail(&c, TL_CUR_BAD); /* RFC 1928 3: at least one method */
            for (unsigned i = 0; m && i < n; i++)
                if (st->nmethods < SOCKS_MAX_METHODS && st->nmethods < ctx->limits->max_items)
                    st->methods[st->nmethods++] = m[i];
                else if (i + 1 == n)
                    ctx->counters[TL_DC_CAPPED]++;
            next = STEP_AUTH;
        }
    } else if (first == 1 && !(st->has_method && st->method == 1)) {
        /* RFC 1929 2: VER 1, ULEN, UNAME, PLEN, PASSWD (passed over) */
        tl_cur_skip(&c, 1);
        uint8_t ulen = tl_cur_u8(&c);
        const uint8_t *u = tl_cur_bytes(&c, ulen);
        uint8_t plen = tl_cur_u8(&c);
        tl_cur_skip(&c, plen);
        if (tl_cur_ok(&c))
            st->user_len = socks_keep(ctx, st->user, u, ulen);
    } else if (first == 5 && !(st->has_method && st->method == 1)) {
        /* RFC 1928 4: VER 5, CMD, RSV, then the address */
        tl_cur_skip(&c, 1);
        st->command = tl_cur_u8(&c);
        tl_cur_skip(&c, 1);
        socks_address(ctx, &c, &st->request);
        next = STEP_WAIT;
    } else {
        tl_cur_fail(&c, TL_CUR_BAD); /* GSSAPI's messages, or something else */
    }
    if (c.err == TL_CUR_SHORT)
        return TL_PARSE_MORE; /* read again, whole, once the rest has come */
    if (st->step[0] == STEP_START) {
        st->version = first;
        st->ts = ctx->ts_us;
    }
    if (!tl_cur_ok(&c) || (next == STEP_WAIT && !socks_command(st->command)))
        return socks_bad(ctx);
    ctx->counters[TL_DC_MESSAGES]++;
    st->step[0] = next;
    st->has_request = next == STEP_WAIT;
    *in = c;
    return TL_PARSE_OK;
}

/* A reply has come: the record, and for a granted CONNECT the hand-over. */
static void socks_replied(struct tl_parse_ctx *ctx, bool granted)
{
    struct socks_state *st = ctx->state;
    st->has_reply = true;
    st->step[1] = STEP_DONE;
    if (granted && st->has_request && st->command == CMD_CONNECT) {
        const struct tl_dissector *d = tl_dissector_by_port(TL_TCP, st->request.port, 0);
        if (d) {
            st->proxied = d->name;
            ctx->handover = d;
        }
    }
    socks_write(ctx, TL_UNANS_NONE);
    if (!ctx->handover)
        st->step[0] = STEP_DONE;
}

/* The server's side: one message per call. */
static enum tl_parse socks_server(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct socks_state *st = ctx->state;
    struct tl_cursor c = *in;
    uint8_t step = st->step[1], v = 0;

    if (st->version == 0 || ((st->version == 4 || step == STEP_REQUEST) && !st->has_request))
        return TL_PARSE_MORE; /* read after what it answers (which a lost segment may delay) */
    if (st->version == 4) {   /* VN (0; some servers send 4), CD, DSTPORT, DSTIP */
        tl_cur_skip(&c, 1);
        st->reply = tl_cur_u8(&c);
        memset(&st->bound, 0, sizeof(st->bound));
        st->bound.port = tl_cur_be16(&c);
        st->bound.ip.b[10] = st->bound.ip.b[11] = 0xff;
        tl_cur_copy(&c, st->bound.ip.b + 12, 4);
    } else if (step == STEP_START || step == STEP_AUTH) { /* VER, METHOD or VER 1, STATUS */
        tl_cur_skip(&c, 1);
        v = tl_cur_u8(&c);
    } else { /* VER, REP, RSV, then the address */
        tl_cur_skip(&c, 1);
        st->reply = tl_cur_u8(&c);
        tl_cur_skip(&c, 1);
        socks_address(ctx, &c, &st->bound);
    }
    if (c.err == TL_CUR_SHORT)
        return TL_PARSE_MORE;
    if (!tl_cur_ok(&c))
        return socks_bad(ctx);
    ctx->counters[TL_DC_MESSAGES]++;
    *in = c;
    if (st->version == 5 && step == STEP_START) {
        st->method = v;
        st->has_method = true;
    } else if (st->version == 5 && step == STEP_AUTH) {
        st->auth_ok = v == 0;
        st->auth_answered = true;
    }
    if (st->version == 4) {
        socks_replied(ctx, st->reply == SOCKS_GRANTED4);
    } else if (step == STEP_START) {
        st->step[1] = st->method == 2 ? STEP_AUTH : st->method == 0 ? STEP_REQUEST : STEP_DONE;
    } else if (step == STEP_AUTH) {
        st->step[1] = st->auth_ok ? STEP_REQUEST : STEP_DONE;
    } else {
        socks_replied(ctx, st->reply == 0);
    }
    if (st->step[1] == STEP_DONE && !st->has_reply) { /* no acceptable method, login refused */
        st->step[0] = STEP_DONE;
        socks_write(ctx, TL_UNANS_NONE);
    }
    return TL_PARSE_OK;
}

static enum tl_parse socks_parse(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct socks_state *st = ctx->state;
    unsigned dir = ctx->dir & 1;

    if (st->step[dir] == STEP_DONE) { /* not followed: passed over */
        tl_cur_skip(in, tl_cur_left(in));
        return TL_PARSE_OK;
    }
    if (dir == 0 && st->step[0] == STEP_WAIT)
        return TL_PARSE_MORE; /* the proxied stream: it waits for the reply's hand-over */
    return dir == 0 ? socks_client(ctx, in) : socks_server(ctx, in);
}

/* A gap: the handshake cannot be followed; if no reply was read, that may be why. */
static void socks_gap(struct tl_parse_ctx *ctx, uint64_t n)
{
    struct socks_state *st = ctx->state;
    (void)n;
    if (!st->has_reply && !st->unanswered)
        st->unanswered = TL_UNANS_GAP;
    st->step[0] = st->step[1] = STEP_DONE;
}

/* The record of a handshake whose reply did not come (in time). */
static uint64_t socks_flush(struct tl_parse_ctx *ctx, uint64_t now_us)
{
    struct socks_state *st = ctx->state;
    if (now_us == UINT64_MAX)
        socks_write(ctx, TL_UNANS_FLOW_END);
    else if (st->has_request && now_us >= ctx->limits->pending_timeout &&
             st->ts < now_us - ctx->limits->pending_timeout)
        socks_write(ctx, TL_UNANS_TIMEOUT);
    return st->has_request ? tl_pending_due(st->ts, ctx->limits->pending_timeout) : UINT64_MAX;
}

/* The name the client asked the proxy to reach, as the domain statistics count it. */
static struct tl_str socks_domain(const void *record)
{
    return ((const struct socks_rec *)record)->request_name;
}

const struct tl_event_type tl_socks_event = {
    .name = "socks",
    .doc = "one SOCKS 4/5 handshake: what the client asked the proxy for, and the answer",
    .fields = socks_fields,
    .nfields = TL_ARRAY_LEN(socks_fields),
    .ext = &tl_domain_names_fields,
};

const struct tl_dissector tl_socks_dissector = {
    .name = "socks",
    .doc = "SOCKS 4, 4A and 5 (RFC 1928, 1929) over TCP; the proxied stream goes on to the "
           "dissector of the requested port",
    .transports = TL_TCP,
    .ports = { 1080 },
    .state_size = sizeof(struct socks_state),
    .record_size = sizeof(struct socks_rec),
    .parse = socks_parse,
    .gap = socks_gap,
    .flush = socks_flush,
    .event = &tl_socks_event,
    .domain = socks_domain,
};
