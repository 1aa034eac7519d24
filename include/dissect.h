/*
 * dissect.h - the pure decoders: bytes in, typed records out.
 *
 * Nothing here does I/O, keeps global state or allocates.
 */
#ifndef TL_DISSECT_H
#define TL_DISSECT_H

#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "arena.h"
#include "cursor.h"
#include "identity.h"
#include "packet.h"
#include "schema.h"

/* Is this libpcap link type one tl_decode() understands? */
bool tl_link_supported(int linktype);

/*
 * Decodes link, network and transport headers of one captured packet into d
 * (d->ts_us, caplen and wirelen are the caller's; everything else is set here).
 * Tunnels (GRE, ERSPAN I/II/III, VXLAN, IP-in-IP) are followed to the innermost
 * IP packet; the outermost tunnel is recorded. Returns d->err: TL_DECODE_OK when
 * a flow key could be formed (for a fragment: addresses, protocol and fragment
 * fields only).
 */
enum tl_decode_err tl_decode(struct tl_decoded *d, int linktype, const uint8_t *pkt,
                             uint32_t caplen);

/* ---- application dissectors ---- */

enum tl_transport { TL_UDP = 1, TL_TCP = 2 };

/* What parse() did with its input. */
enum tl_parse {
    TL_PARSE_OK,     /* consumed a message (or part of a streamed body); call again */
    TL_PARSE_MORE,   /* needs more bytes; consumed nothing */
    TL_PARSE_GIVEUP, /* not this protocol, or cannot resynchronise: stop for this flow */
};

/* A record's `status` field: what the parser could read. */
enum tl_msg_status { TL_MSG_OK, TL_MSG_TRUNCATED, TL_MSG_MALFORMED };

/*
 * Why a request is written without its response: a record's `reply_status`
 * field. The names are the ones HTTP and Kerberos write for the same cases.
 */
enum tl_unanswered {
    TL_UNANS_NONE,        /* answered, or no response is expected */
    TL_UNANS_TIMEOUT,     /* no_reply: none came within dissect.pending_timeout */
    TL_UNANS_FLOW_END,    /* flow_ended: the flow ended first */
    TL_UNANS_GAP,         /* reply_gap: the capture lost bytes where the response would be */
    TL_UNANS_UNPARSEABLE, /* reply_unparseable: what came back could not be read */
    TL_UNANS_CAPPED, /* pending_capped: pushed out by newer requests past dissect.max_pending */
};

static inline const char *tl_unanswered_name(unsigned why)
{
    static const char *const names[] = { NULL,        "no_reply",          "flow_ended",
                                         "reply_gap", "reply_unparseable", "pending_capped" };
    return why < sizeof(names) / sizeof(names[0]) ? names[why] : NULL;
}

/* The doc line of a `reply_status` field written through tl_unanswered_name(). */
#define TL_UNANSWERED_DOC                                                                          \
    "why the request has no response (absent when it has one): no_reply (none within "             \
    "dissect.pending_timeout), flow_ended (the flow ended first), reply_gap (bytes were lost "     \
    "where it would be), reply_unparseable (what came back could not be read), pending_capped "    \
    "(dissect.max_pending requests waited)"

/* Per-dissector counters, in the stats event as "<name>.<counter>". */
enum tl_dcounter {
    TL_DC_MESSAGES,        /* messages parsed */
    TL_DC_MALFORMED,       /* messages flagged malformed */
    TL_DC_TRUNCATED,       /* messages flagged truncated */
    TL_DC_CAPPED,          /* values or items cut by a configured cap */
    TL_DC_GAPS,            /* stream gaps seen */
    TL_DC_GIVEUP,          /* flows given up */
    TL_DC_ENCRYPTED,       /* units (TLS records, sealed SASL buffers) that could not be read */
    TL_DC_ENCRYPTED_BYTES, /* their bytes */
    TL_DC_BY_CONTENT,      /* flows given this dissector by probe(), not by port or nDPI */
    TL_DC_N
};

struct tl_dissector;

struct tl_parse_ctx {
    /* Set by the caller for each call. */
    uint8_t transport;      /* TL_UDP or TL_TCP */
    uint8_t dir;            /* 0: bytes from the originator, 1: from the responder */
    bool capture_cut;       /* UDP: the capture cut this datagram short; TCP: nothing follows
                               `in` (a gap or the flow's end): read a partial message or not */
    uint64_t ts_us;         /* packet time */
    void *state;            /* state_size bytes for this flow, zeroed when it starts */
    struct tl_arena *arena; /* scratch for this packet's records */
    uint64_t *counters;     /* TL_DC_N counters of this dissector on this worker */
    const struct tl_dissect_limits *limits;
    /*
     * Writes one record now (it is serialised before emit returns, so it may
     * borrow packet, arena and state memory). The record starts with a zeroed
     * struct tl_flow_ids, which the caller fills; ts_us is the record's time.
     */
    void (*emit)(struct tl_parse_ctx *ctx, void *record, uint64_t ts_us);
    void *emit_arg;
    /*
     * Memory the state holds beside itself, for what grows on demand (a deep
     * HTTP pipeline): p of `old` bytes resized to n (p NULL: new; n 0: freed,
     * returns NULL). Dissectors never allocate themselves: this comes from the
     * caller, which counts it against memory.max_bytes and returns NULL when
     * that share is spent (or memory is); the dissector then makes do.
     */
    void *(*resize)(struct tl_parse_ctx *ctx, void *p, size_t old, size_t n);
    /*
     * Set by parse (TCP), which then returns TL_PARSE_OK: the rest of the flow
     * belongs to this dissector - the bytes of this direction from where `in`
     * was left, and the other direction's from its first unconsumed byte (a
     * proxy's handshake is over and the proxied stream begins). The caller
     * switches the flow and calls parse no more for this dissector.
     */
    const struct tl_dissector *handover;
};

/* Which HTTP response bodies are hashed (http.hash_bodies). */
enum tl_body_hash {
    TL_HASH_FILES, /* executables, archives, documents, scripts, PDFs: by sniffed or declared type
                    */
    TL_HASH_ALL,
    TL_HASH_NONE,
};

/* The digests of a hashed body (http.hash_algorithms). */
enum { TL_DIGEST_MD5 = 1, TL_DIGEST_SHA1 = 2, TL_DIGEST_SHA256 = 4 };

/* http.hash_bodies and http.hash_algorithms (a comma list) parsed; -1 when not valid. */
int tl_body_hash_parse(const char *v);
int tl_digests_parse(const char *v);

/* Caps shared by the dissectors (configured: see config.h). */
struct tl_dissect_limits {
    uint32_t max_value_len;   /* longest header or field value kept; longer ones are cut */
    uint32_t max_items;       /* answers, headers, attributes kept per message */
    uint32_t max_pending;     /* requests awaiting their response per flow */
    uint32_t max_pipeline;    /* HTTP: pipelined requests awaiting their response per flow */
    uint64_t max_body_hash;   /* HTTP bodies hashed up to this many bytes */
    uint8_t body_hash;        /* enum tl_body_hash */
    uint8_t body_digests;     /* TL_DIGEST_* */
    uint64_t pending_timeout; /* us after which an unanswered request is written alone */
};

enum { TL_REST_BYTES = 16 }; /* what a resting TCP state keeps (tl_dissector.rest) */

struct tl_dissector {
    const char *name;    /* event type, config key and stats prefix */
    const char *doc;     /* one line for --list-fields */
    unsigned transports; /* TL_UDP | TL_TCP */
    uint16_t ports[4];   /* default ports (0 = none); either side matches */
    size_t state_size;   /* per-flow state, zeroed */
    /* Optional: frees what the state holds beside itself, through ctx->resize. */
    void (*state_free)(struct tl_parse_ctx *ctx);
    size_t record_size; /* the record emit() receives */
    /*
     * UDP: `in` is one datagram. TCP: `in` is the in-order stream of one
     * direction from the first unconsumed byte; parse consumes by advancing
     * `in` (nothing on TL_PARSE_MORE) and is called again while it returns OK
     * and bytes remain.
     */
    enum tl_parse (*parse)(struct tl_parse_ctx *ctx, struct tl_cursor *in);
    /* TCP: n bytes of this direction were lost before the next data. May be NULL. */
    void (*gap)(struct tl_parse_ctx *ctx, uint64_t n);
    /*
     * Emits what is still pending (unanswered requests) older than now_us minus
     * limits->pending_timeout, or everything when now_us is UINT64_MAX (flow end).
     * Returns when it would next have something to write if no more bytes came
     * (tl_pending_due), UINT64_MAX for never: the worker calls it again then, or
     * after the flow's next packet, not at every tick (flows/l7.c).
     */
    uint64_t (*flush)(struct tl_parse_ctx *ctx, uint64_t now_us);
    const struct tl_event_type *event;
    /*
     * Optional: when the record (its ids filled) shows who works from the
     * originator's address - a successful Kerberos exchange, an LDAP simple
     * bind - fills an observation for the identity table and returns true.
     */
    bool (*identity)(const void *record, struct tl_identity_obs *out);
    /*
     * Optional: the name the record is about, whose use the domain statistics
     * count (a DNS query, an HTTP Host). Empty when it has none.
     */
    struct tl_str (*domain)(const void *record);
    /*
     * Optional, UDP: the state holds nothing worth keeping (no request waits
     * for its reply). The caller then frees it and starts afresh with the next
     * datagram, so a quiet DNS or Kerberos flow costs only its flow record.
     */
    bool (*idle)(const void *state);
    /*
     * Optional, TCP: between messages, when nothing is half read and nothing
     * waits, the state is a fresh one but for what holds for the whole
     * connection (HTTP's request depth, LDAP's SASL layer or TLS): rest() puts
     * that in `kept` and returns true, and the caller frees the state. The
     * next bytes get a fresh state that resume() gives it back to, so an open
     * connection between its exchanges (HTTP keep-alive, a long-lived LDAP
     * session) costs its L7 header, not a state.
     */
    bool (*rest)(const void *state, uint8_t kept[TL_REST_BYTES]);
    void (*resume)(void *state, const uint8_t kept[TL_REST_BYTES]);
    /*
     * Optional: a strict look at the first payload of a flow that no port
     * and no nDPI verdict gave a dissector (UDP: a datagram; TCP: the first
     * data after a seen handshake). True only when it is this protocol beyond
     * reasonable doubt: the flow then gets this dissector, counted as
     * <name>.by_content.
     */
    bool (*probe)(unsigned transport, const uint8_t *p, size_t n);
};

/* Copies a record's string into an observation's field, cut to fit, NUL-terminated. */
/*
 * When flush() writes a request made at ts_us alone: at the first tick at or
 * after ts_us + limits->pending_timeout. Dissectors that wait for strictly
 * longer are called once more a tick later, which writes it.
 */
static inline uint64_t tl_pending_due(uint64_t ts_us, uint64_t timeout)
{
    return ts_us < UINT64_MAX - timeout ? ts_us + timeout : UINT64_MAX - 1;
}

static inline uint64_t tl_due_min(uint64_t a, uint64_t b)
{
    return a < b ? a : b;
}

/*
 * What a state keeps inline for the common case and grows into memory from
 * ctx->resize for the rare big one (a deep HTTP pipeline, a burst of DNS
 * queries): moves the array at p (`old` bytes, the first `used` of them in
 * use; in_state: still the inline one) to a block of n bytes. NULL, nothing
 * changed, when memory is refused.
 */
static inline void *tl_state_grow(struct tl_parse_ctx *ctx, void *p, bool in_state, size_t old,
                                  size_t used, size_t n)
{
    void *q = ctx->resize(ctx, in_state ? NULL : p, in_state ? 0 : old, n);
    if (q && in_state)
        memcpy(q, p, used);
    return q;
}

/* Gives back what tl_state_grow took (nothing if the array is still inline). */
static inline void tl_state_shrink(struct tl_parse_ctx *ctx, void *p, bool in_state, size_t old)
{
    if (!in_state)
        ctx->resize(ctx, p, old, 0);
}

static inline void tl_identity_copy(char *dst, size_t cap, struct tl_str s)
{
    size_t n = s.len < cap - 1 ? s.len : cap - 1;
    if (n)
        memcpy(dst, s.ptr, n);
    dst[n] = '\0';
}

extern const struct tl_dissector tl_dns_dissector, tl_http_dissector, tl_kerberos_dissector,
    tl_ldap_dissector, tl_socks_dissector;
extern const struct tl_event_type tl_dns_event, tl_http_event, tl_kerberos_event, tl_ldap_event,
    tl_socks_event;

/* Lower-case hex of n bytes into out (2n + 1 bytes, NUL-terminated): digests, certificate
 * hashes (dissect/hash.c). */
void tl_hex(char *out, const uint8_t *p, size_t n);

/* Every dissector, in registry order (dissect/registry.c). */
extern const struct tl_dissector *const tl_dissectors[];
extern const size_t tl_ndissectors;

/* The dissector for ports (either side) and transport, or NULL. */
const struct tl_dissector *tl_dissector_by_port(unsigned transport, uint16_t a, uint16_t b);
const struct tl_dissector *tl_dissector_by_name(const char *name);

/* The record's status: SHORT on a packet the capture cut -> truncated; other failures -> malformed.
 */
static inline enum tl_msg_status tl_parse_status(const struct tl_parse_ctx *ctx,
                                                 const struct tl_cursor *c)
{
    if (c->err == TL_CUR_OK)
        return TL_MSG_OK;
    if (c->err == TL_CUR_SHORT && ctx->capture_cut)
        return TL_MSG_TRUNCATED;
    return TL_MSG_MALFORMED;
}

#endif
