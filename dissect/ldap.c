/*
 * ldap.c - LDAP over TCP and CLDAP over UDP (RFC 4511; filters RFC 4515;
 * SASL security layers RFC 4422 3.7, 4752; GSS-API wrap tokens RFC 4121 4.2.6,
 * RFC 1964 1.2.2; NTLM signatures MS-NLMP 2.2.2.9) -> one `ldap` record per
 * operation.
 *
 * TCP carries LDAPMessage SEQUENCEs back to back (RFC 4511 5.1); a UDP
 * datagram carries one or more. A request waits in the flow state (a bounded
 * copy: every string it keeps lives in the entry's own pool, so a long filter
 * is cut there and flagged `value_capped`) until its response with the same
 * messageID arrives; a search waits for SearchResultDone and counts the
 * entries and references before it. Unbind and abandon have no response and
 * are written at once; a response nobody asked for is written alone. Every
 * other request is written: one nobody answers by flush(), when the
 * dissector gives up on the flow, or when newer ones push it out, with
 * `unanswered` saying why (a gap or an unreadable message in the other
 * direction after it is remembered).
 *
 * Encryption. After a successful extended StartTLS response the rest of the
 * flow is TLS: its records are counted (not parsed) and written as one
 * `tls` tally record at flush. After a successful SASL bind with a mechanism
 * that can negotiate a security layer (GSSAPI, GSS-SPNEGO, NTLM, Sicily
 * NTLM), a buffer that starts with a 4-byte length instead of a SEQUENCE is a
 * SASL buffer: a signed-only one is unwrapped and its LDAP messages parsed
 * (records say `sasl-signed`); a sealed one is counted into a per-flow tally
 * written as a `sasl-sealed` record (buffers and bytes) at flush, when older
 * than pending_timeout or at flow end. One record per sealed buffer would
 * repeat the flow ids hundreds of times and say nothing more.
 *
 * Names follow Zeek's ldap logs where Zeek has a field (scope, deref_aliases,
 * the filter text with lowercase \xx escapes, and opcode, result, result_count
 * written as Zeek writes them beside operation, result_name and
 * result_entries); result_name uses RFC 4511 4.1.9's names.
 *
 * A search's filter is classified as it is walked: recon_categories names
 * what Active Directory reconnaissance it performs (see RC_*), from the
 * parsed leaves, never from the filter's text.
 *
 * Invariants: every string kept is copied into a fixed pool; the filter walk
 * recurses at most LDAP_MAX_FILTER_DEPTH levels and each level consumes the
 * bytes of its own BER element; loops over elements end because every pass
 * consumes bytes or fails the cursor.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "ber.h"
#include "cursor.h"
#include "dissect.h"
#include "flow.h"
#include "schema.h"

enum {
    LDAP_MAX_PENDING = 16,       /* requests awaiting a response per flow; also max_pending */
    LDAP_PENDING_INLINE = 2,     /* of them, kept in the state; more grow it */
    LDAP_POOL = 1024,            /* bytes of strings kept per pending request */
    LDAP_MAX_ATTRS = 32,         /* attribute names kept per request; also max_items */
    LDAP_MAX_FILTER_DEPTH = 16,  /* and/or/not nesting; deeper is malformed */
    LDAP_MAX_MESSAGE = 16 << 20, /* longest LDAPMessage or SASL buffer buffered */
    LDAP_SASL_HDR = 16,          /* RFC 4121 4.2.6.2 token header; MS-NLMP signature */
    LDAP_SASL_PEEK = 64,         /* bytes of a SASL buffer read before it is classified */
    LDAP_SASL_CARRY = 4096,      /* a message split across SASL buffers is joined up to this */
};

/* protocolOp tags, RFC 4511 4.2 - 4.14 ([APPLICATION n]). */
enum {
    OP_BIND_REQ = 0,
    OP_BIND_RES = 1,
    OP_UNBIND = 2,
    OP_SEARCH_REQ = 3,
    OP_SEARCH_ENTRY = 4,
    OP_SEARCH_DONE = 5,
    OP_MODIFY_REQ = 6,
    OP_MODIFY_RES = 7,
    OP_ADD_REQ = 8,
    OP_ADD_RES = 9,
    OP_DEL_REQ = 10,
    OP_DEL_RES = 11,
    OP_MODDN_REQ = 12,
    OP_MODDN_RES = 13,
    OP_COMPARE_REQ = 14,
    OP_COMPARE_RES = 15,
    OP_ABANDON = 16,
    OP_SEARCH_REF = 19,
    OP_EXT_REQ = 23,
    OP_EXT_RES = 24,
    OP_INTERMEDIATE = 25,
};

enum ldap_enc { ENC_NONE, ENC_TLS, ENC_SIGNED, ENC_SEALED };
static const char *const ldap_enc_names[] = { "none", "tls", "sasl-signed", "sasl-sealed" };

enum ldap_auth {
    AUTH_NONE,
    AUTH_SIMPLE,
    AUTH_SASL,
    AUTH_SICILY_DISC,
    AUTH_SICILY_NEG,
    AUTH_SICILY_RESP
};
static const char *const ldap_auth_names[] = {
    NULL, "simple", "sasl", "sicily_package_discovery", "sicily_negotiate", "sicily_response",
};

/* Zeek's names (base/protocols/ldap/consts.zeek), RFC 4511 4.5.1.2 and 4.5.1.3. */
static const char *const ldap_scopes[] = { "base", "single", "tree" };
static const char *const ldap_derefs[] = { "never", "searching", "finding", "always" };

static const char ldap_starttls_oid[] = "1.3.6.1.4.1.1466.20037"; /* RFC 4511 4.14.1 */

/* A string in a pending entry's pool. */
struct ldap_sref {
    uint16_t off, len;
};

/* A request waiting for its response(s), with bounded copies of what it said. */
struct ldap_pending {
    uint64_t ts;
    uint32_t msgid;
    bool used, have_request, value_capped, starttls;
    uint8_t op; /* request tag (for a response alone: the matching request's) */
    uint8_t status, enc, version, auth, scope, deref;
    uint8_t dir; /* the request's direction */
    uint8_t why; /* enum tl_unanswered, once a gap or bad message followed it */
    bool types_only, cleartext, has_scope, delete_old_rdn;
    uint16_t recon; /* search: RC_* categories of the filter and attributes */
    uint32_t size_limit, time_limit;
    uint64_t entries, bytes, refs;
    struct ldap_sref dn, mech, filter, oid, superior;
    uint8_t nattrs;
    struct ldap_sref attrs[LDAP_MAX_ATTRS];
    uint16_t pool_used;
    char pool[LDAP_POOL];
};

/* Bytes nobody can read: sealed SASL buffers, or TLS after StartTLS. */
struct ldap_tally {
    uint64_t ts, buffers, bytes;
};

/* One direction's SASL buffers (RFC 4422 3.7), read as they stream in. */
struct ldap_sasl {
    uint32_t left;  /* bytes of the current buffer still to come (0: a length is next) */
    uint32_t lead;  /* of those, a checksum before the plaintext (RFC 4121 RRC) */
    uint32_t plain; /* then plaintext; what is left after it is a trailing checksum */
    bool sealed;    /* the buffer is tallied, not read */
    bool pad;       /* RFC 1964 token: padding ends the plaintext */
    /* across buffers: */
    uint32_t skip;      /* plaintext bytes of a search entry to pass over */
    uint16_t carry_len; /* bytes of a message begun in an earlier buffer */
    uint8_t *carry;     /* LDAP_SASL_CARRY bytes, from the first message that needs them */
};

enum { LDAP_NTLM_UNKNOWN, LDAP_NTLM_SIGNED, LDAP_NTLM_SEALED };

/* What holds for the whole connection: all a resting state keeps (ldap_rest). */
struct ldap_conn {
    bool seen;       /* a valid LDAPMessage has been parsed on this flow */
    bool sasl_layer; /* a SASL bind that can negotiate a security layer succeeded */
    bool tls;        /* StartTLS succeeded: the rest is TLS */
    uint8_t ntlm[2]; /* NTLM signatures: LDAP_NTLM_*, decided on the first buffer */
};
_Static_assert(sizeof(struct ldap_conn) <= TL_REST_BYTES, "what a resting LDAP state keeps");

struct ldap_state {
    struct ldap_conn conn;
    bool lost[2];     /* a gap: the next bytes must parse or the flow is given up */
    uint32_t skip[2]; /* bytes of a search entry to pass over (counted from its header) */
    struct ldap_tally sealed, tls_tally;
    struct ldap_sasl sasl[2];
    struct ldap_pending *pending; /* slots: pending_inline, or what it grew into (ldap_alloc) */
    uint8_t npending;             /* slots there are, used or not */
    struct ldap_pending pending_inline[LDAP_PENDING_INLINE];
};

struct ldap_rec {
    struct tl_flow_ids ids;
    uint32_t message_id;
    const char *operation;
    uint8_t status;
    const char *encryption;
    uint32_t result_code;
    const char *result_name;
    struct tl_str matched_dn, diagnostic_message;
    uint8_t version;
    struct tl_str bind_name;
    const char *auth_type;
    struct tl_str sasl_mechanism;
    bool cleartext_password;
    struct tl_str base_object;
    const char *scope, *deref_aliases;
    uint32_t size_limit, time_limit;
    bool types_only;
    struct tl_str filter;
    struct tl_strlist attributes;
    uint64_t result_entries, result_bytes, result_references;
    bool has_result; /* a response was seen: its code and counts are written, zeros too */
    bool is_search;
    struct tl_str object, new_superior;
    bool delete_old_rdn;
    struct tl_strlist attribute_names;
    struct tl_str request_oid, response_oid;
    uint32_t abandon_id;
    uint64_t sealed_buffers, sealed_bytes;
    bool value_capped;
    const char *opcode, *result;
    struct tl_strlist recon_categories;
    bool recon_sensitive;
    const char *reply_status;
};

#define R struct ldap_rec
static const struct tl_field ldap_fields[] = {
    TL_FLOW_ID_FIELDS(R),
    TL_FIELD(R, message_id, U32, "message_id", "LDAPMessage messageID (RFC 4511 4.1.1.1)"),
    TL_FIELD(R, operation, CSTR, "operation",
             "bind, search, modify, add, delete, modDN, compare, extended, unbind, abandon; "
             "sasl-sealed or tls for a tally of unreadable bytes"),
    TL_FIELD(R, status, STATUS, "status", "ok, truncated or malformed"),
    TL_FIELD_OPT(R, reply_status, CSTR, "reply_status", TL_UNANSWERED_DOC),
    TL_FIELD(R, encryption, CSTR, "encryption", "none, tls, sasl-signed or sasl-sealed"),
    TL_FIELD_IF(R, result_code, U32, has_result, "result_code",
                "LDAPResult resultCode; absent when no response was seen"),
    TL_FIELD_OPT(R, result_name, CSTR, "result_name",
                 "resultCode name (RFC 4511 4.1.9); absent when no response was seen"),
    TL_FIELD_OPT_P(R, matched_dn, STR, "matched_dn", "LDAPResult matchedDN"),
    TL_FIELD_OPT(R, diagnostic_message, STR, "diagnostic_message", "LDAPResult diagnosticMessage"),
    TL_FIELD_OPT(R, version, U8, "version", "bind: protocol version"),
    TL_FIELD_OPT_P(R, bind_name, STR, "bind_name", "bind: name (DN or user)"),
    TL_FIELD_OPT(R, auth_type, CSTR, "auth_type",
                 "bind: simple, sasl, sicily_package_discovery, sicily_negotiate, "
                 "sicily_response"),
    TL_FIELD_OPT(R, sasl_mechanism, STR, "sasl_mechanism", "bind: SASL mechanism"),
    TL_FIELD_OPT(R, cleartext_password, BOOL, "cleartext_password",
                 "bind: simple bind with a non-empty password (never written)"),
    TL_FIELD_IF_P(R, base_object, STR, is_search, "base_object",
                  "search: baseObject (empty for the root DSE)"),
    TL_FIELD_OPT(R, scope, CSTR, "scope", "search: base, single or tree (Zeek's names)"),
    TL_FIELD_OPT(R, deref_aliases, CSTR, "deref_aliases",
                 "search: never, searching, finding or always (Zeek's names)"),
    TL_FIELD_OPT(R, size_limit, U32, "size_limit", "search: sizeLimit (0: none)"),
    TL_FIELD_OPT(R, time_limit, U32, "time_limit", "search: timeLimit in seconds (0: none)"),
    TL_FIELD_OPT(R, types_only, BOOL, "types_only", "search: typesOnly"),
    TL_FIELD_OPT_P(R, filter, STR, "filter", "search: filter in RFC 4515 string form"),
    TL_FIELD_OPT(R, attributes, STRLIST, "attributes", "search: requested attributes"),
    TL_FIELD_IF(R, result_entries, U64, is_search, "result_entries",
                "search: SearchResultEntry count"),
    TL_FIELD_IF(R, result_entries, U64, is_search, "result_count",
                "Zeek's: search: SearchResultEntry count (as result_entries)"),
    TL_FIELD_OPT(R, recon_categories, STRLIST, "recon_categories",
                 "search: what the filter looks for: users, computers, groups, spn, "
                 "asrep_roastable, delegation, domain_controllers, admin_count, trusts, gpo, "
                 "laps, gmsa, pki (leaves under a NOT excluded)"),
    TL_FIELD_OPT(R, recon_sensitive, BOOL, "recon_sensitive",
                 "search: a category that finds accounts to attack (spn, asrep_roastable, "
                 "delegation, laps, gmsa)"),
    TL_FIELD_IF(R, result_bytes, U64, is_search, "result_bytes",
                "search: encoded size of the SearchResultEntry messages"),
    TL_FIELD_IF(R, result_references, U64, is_search, "result_references",
                "search: SearchResultReference count"),
    TL_FIELD_OPT_P(R, object, STR, "object", "modify, add, delete, modDN, compare: the entry DN"),
    TL_FIELD_OPT(R, attribute_names, STRLIST, "attribute_names",
                 "modify, add, compare: attribute names; modDN: the new RDN"),
    TL_FIELD_OPT(R, new_superior, STR, "new_superior",
                 "modDN: newSuperior, the parent the entry moves under (absent: it stays)"),
    TL_FIELD_OPT(R, delete_old_rdn, BOOL, "delete_old_rdn",
                 "modDN: deleteoldrdn, the old RDN's values are removed from the entry"),
    TL_FIELD_OPT(R, request_oid, STR, "request_oid", "extended: requestName"),
    TL_FIELD_OPT(R, response_oid, STR, "response_oid", "extended: responseName"),
    TL_FIELD_OPT(R, abandon_id, U32, "abandon_id", "abandon: messageID abandoned"),
    TL_FIELD_OPT(R, sealed_buffers, U64, "sealed_buffers",
                 "sasl-sealed: SASL buffers; tls: TLS records, not readable"),
    TL_FIELD_OPT(R, sealed_bytes, U64, "sealed_bytes", "sasl-sealed, tls: bytes not readable"),
    TL_FIELD_OPT(R, value_capped, BOOL, "value_capped", "a kept value or list was cut by a cap"),
    TL_FIELD_OPT(R, opcode, CSTR, "opcode",
                 "Zeek's: bind simple, bind SASL, sicily_negotiate, sicily_response, search, "
                 "modify (also modDN), add, delete, compare, extended, unbind, abandon"),
    TL_FIELD_OPT(R, result, CSTR, "result",
                 "Zeek's resultCode text (success, invalid credentials, no such object...)"),
};
#undef R

/* ---- names ---- */

static const char *ldap_op_name(uint8_t op)
{
    switch (op) {
    case OP_BIND_REQ: return "bind";
    case OP_UNBIND: return "unbind";
    case OP_SEARCH_REQ: return "search";
    case OP_MODIFY_REQ: return "modify";
    case OP_ADD_REQ: return "add";
    case OP_DEL_REQ: return "delete";
    case OP_MODDN_REQ: return "modDN";
    case OP_COMPARE_REQ: return "compare";
    case OP_ABANDON: return "abandon";
    case OP_EXT_REQ: return "extended";
    default: return "unknown";
    }
}

/* The request a response answers; 0xff for none. */
static uint8_t ldap_request_of(uint8_t op)
{
    switch (op) {
    case OP_BIND_RES: return OP_BIND_REQ;
    case OP_SEARCH_ENTRY:
    case OP_SEARCH_DONE:
    case OP_SEARCH_REF: return OP_SEARCH_REQ;
    case OP_MODIFY_RES: return OP_MODIFY_REQ;
    case OP_ADD_RES: return OP_ADD_REQ;
    case OP_DEL_RES: return OP_DEL_REQ;
    case OP_MODDN_RES: return OP_MODDN_REQ;
    case OP_COMPARE_RES: return OP_COMPARE_REQ;
    case OP_EXT_RES: return OP_EXT_REQ;
    default: return 0xff;
    }
}

static bool ldap_is_request(uint8_t op)
{
    return op == OP_BIND_REQ || op == OP_UNBIND || op == OP_SEARCH_REQ || op == OP_MODIFY_REQ ||
           op == OP_ADD_REQ || op == OP_DEL_REQ || op == OP_MODDN_REQ || op == OP_COMPARE_REQ ||
           op == OP_ABANDON || op == OP_EXT_REQ;
}

/*
 * Result codes: RFC 4511 4.1.9 and Appendix A.1 names, and the text Zeek's
 * ldap logs write in `result` (base/protocols/ldap/consts.zeek; NULL: Zeek
 * has none and writes "unknown"). 9, 60, 61, 70 and 76 are codes of older
 * or vendor servers that Zeek names.
 */
static const struct {
    uint16_t code;
    const char *name, *zeek;
} ldap_results[] = {
    { 0, "success", "success" },
    { 1, "operationsError", "operations error" },
    { 2, "protocolError", "protocol error" },
    { 3, "timeLimitExceeded", "time limit exceeded" },
    { 4, "sizeLimitExceeded", "size limit exceeded" },
    { 5, "compareFalse", "compare false" },
    { 6, "compareTrue", "compare true" },
    { 7, "authMethodNotSupported", "auth method not supported" },
    { 8, "strongerAuthRequired", "stronger auth required" },
    { 9, NULL, "partial results" },
    { 10, "referral", "referral" },
    { 11, "adminLimitExceeded", "admin limit exceeded" },
    { 12, "unavailableCriticalExtension", "unavailable critical extension" },
    { 13, "confidentialityRequired", "confidentiality required" },
    { 14, "saslBindInProgress", "SASL bind in progress" },
    { 16, "noSuchAttribute", "no such attribute" },
    { 17, "undefinedAttributeType", "undefined attribute type" },
    { 18, "inappropriateMatching", "inappropriate matching" },
    { 19, "constraintViolation", "constraint violation" },
    { 20, "attributeOrValueExists", "attribute or value exists" },
    { 21, "invalidAttributeSyntax", "invalid attribute syntax" },
    { 32, "noSuchObject", "no such object" },
    { 33, "aliasProblem", "alias problem" },
    { 34, "invalidDNSyntax", "invalid DN syntax" },
    { 36, "aliasDereferencingProblem", "alias dereferencing problem" },
    { 48, "inappropriateAuthentication", "inappropriate authentication" },
    { 49, "invalidCredentials", "invalid credentials" },
    { 50, "insufficientAccessRights", "insufficient access rights" },
    { 51, "busy", "busy" },
    { 52, "unavailable", "unavailable" },
    { 53, "unwillingToPerform", "unwilling to perform" },
    { 54, "loopDetect", "loop detect" },
    { 60, NULL, "sort control missing" },
    { 61, NULL, "offset range error" },
    { 64, "namingViolation", "naming violation" },
    { 65, "objectClassViolation", "object class violation" },
    { 66, "notAllowedOnNonLeaf", "not allowed on non-leaf" },
    { 67, "notAllowedOnRDN", "not allowed on RDN" },
    { 68, "entryAlreadyExists", "entry already exists" },
    { 69, "objectClassModsProhibited", "object class mods prohibited" },
    { 70, NULL, "results too large" },
    { 71, "affectsMultipleDSAs", "affects multiple DSAs" },
    { 76, NULL, "control error" },
    { 80, "other", "other" },
    { 118, "canceled", "canceled" },                        /* RFC 3909 */
    { 119, "noSuchOperation", "no such operation" },        /* RFC 3909 */
    { 120, "tooLate", "too late" },                         /* RFC 3909 */
    { 121, "cannotCancel", "cannot cancel" },               /* RFC 3909 */
    { 122, "assertionFailed", "assertion failed" },         /* RFC 4528 */
    { 123, "authorizationDenied", "authorization denied" }, /* RFC 4370 */
    { 4096, "syncRefreshRequired", NULL },                  /* RFC 4533 */
};

/* The code's RFC name (zeek: Zeek's text), or "unknown". */
static const char *ldap_result_name(uint64_t code, bool zeek)
{
    for (size_t i = 0; i < TL_ARRAY_LEN(ldap_results); i++) {
        if (ldap_results[i].code != code)
            continue;
        const char *name = zeek ? ldap_results[i].zeek : ldap_results[i].name;
        return name ? name : "unknown";
    }
    return "unknown";
}

/* Zeek's `opcode` (ldap/consts.zeek): a bind by its method, modDN as "modify". */
static const char *ldap_zeek_opcode(const struct ldap_pending *p)
{
    static const char *const binds[] = {
        [AUTH_NONE] = "bind",
        [AUTH_SIMPLE] = "bind simple",
        [AUTH_SASL] = "bind SASL",
        [AUTH_SICILY_DISC] = "sicily_package_discovery",
        [AUTH_SICILY_NEG] = "sicily_negotiate",
        [AUTH_SICILY_RESP] = "sicily_response",
    };
    if (p->op == OP_BIND_REQ)
        return p->auth < TL_ARRAY_LEN(binds) ? binds[p->auth] : "bind";
    if (p->op == OP_MODDN_REQ)
        return "modify";
    return ldap_op_name(p->op);
}

/* ---- the string pool of a pending entry ---- */

/* Room left for one value: the pool's rest, at most max_value_len. */
static size_t ldap_room(const struct tl_parse_ctx *ctx, const struct ldap_pending *p)
{
    size_t room = LDAP_POOL - p->pool_used;
    return room < ctx->limits->max_value_len ? room : ctx->limits->max_value_len;
}

/* Copies s into the pool, cut to the room left (flagged and counted). */
static struct ldap_sref ldap_keep(struct tl_parse_ctx *ctx, struct ldap_pending *p, struct tl_str s)
{
    struct ldap_sref r = { p->pool_used, 0 };
    size_t room = ldap_room(ctx, p), n = s.len;
    if (n > room) {
        n = room;
        p->value_capped = true;
        ctx->counters[TL_DC_CAPPED]++;
    }
    if (n)
        memcpy(p->pool + p->pool_used, s.ptr, n);
    r.len = (uint16_t)n;
    p->pool_used = (uint16_t)(p->pool_used + n);
    return r;
}

static void ldap_keep_attr(struct tl_parse_ctx *ctx, struct ldap_pending *p, struct tl_str s)
{
    if (p->nattrs >= LDAP_MAX_ATTRS || p->nattrs >= ctx->limits->max_items) {
        if (!p->value_capped)
            ctx->counters[TL_DC_CAPPED]++;
        p->value_capped = true;
        return;
    }
    p->attrs[p->nattrs++] = ldap_keep(ctx, p, s);
}

static struct tl_str ldap_sref_str(const struct ldap_pending *p, struct ldap_sref r)
{
    struct tl_str s = { p->pool + r.off, r.len };
    return s;
}

/* ---- filter rendering, RFC 4515 ---- */

/* A bounded text being built in a pending entry's pool. */
struct ldap_text {
    char *buf;
    size_t len, cap;
    bool cut;
};

static void ldap_put(struct ldap_text *t, const char *s, size_t n)
{
    if (n > t->cap - t->len) {
        n = t->cap - t->len;
        t->cut = true;
    }
    memcpy(t->buf + t->len, s, n);
    t->len += n;
}

static void ldap_putc(struct ldap_text *t, char ch)
{
    ldap_put(t, &ch, 1);
}

/* Length of a valid UTF-8 sequence at s (RFC 3629 4), or 0. */
static size_t ldap_utf8_len(const uint8_t *s, size_t n)
{
    uint8_t b = s[0];
    size_t len;
    uint32_t min, cp;
    if (b < 0x80)
        return 1;
    if ((b & 0xe0) == 0xc0)
        len = 2, min = 0x80, cp = b & 0x1fu;
    else if ((b & 0xf0) == 0xe0)
        len = 3, min = 0x800, cp = b & 0x0fu;
    else if ((b & 0xf8) == 0xf0)
        len = 4, min = 0x10000, cp = b & 0x07u;
    else
        return 0;
    if (len > n)
        return 0;
    for (size_t i = 1; i < len; i++) {
        if ((s[i] & 0xc0) != 0x80)
            return 0;
        cp = cp << 6 | (s[i] & 0x3fu);
    }
    if (cp < min || cp > 0x10ffff || (cp >= 0xd800 && cp <= 0xdfff))
        return 0;
    return len;
}

/*
 * A value escaped per RFC 4515 3: '*', '(', ')', '\\', NUL, the other control
 * bytes (as the RFC's own example (bin=\00\00\00\04) does) and bytes that are
 * not UTF-8 become \xx (lowercase hex, as Zeek writes them). Attribute names
 * go through here too, so no packet byte can break the filter's structure.
 */
static void ldap_put_escaped(struct ldap_text *t, struct tl_str s)
{
    static const char hex[] = "0123456789abcdef";
    const uint8_t *p = (const uint8_t *)s.ptr;
    size_t i = 0;
    while (i < s.len && !t->cut) {
        uint8_t b = p[i];
        size_t u = ldap_utf8_len(p + i, s.len - i);
        if (u == 0 || b < 0x20 || b == 0x7f || b == '*' || b == '(' || b == ')' || b == '\\') {
            char e[3] = { '\\', hex[b >> 4], hex[b & 15] };
            ldap_put(t, e, sizeof(e));
            i++;
        } else {
            ldap_put(t, (const char *)p + i, u);
            i += u;
        }
    }
}

/* ---- reconnaissance categories of a search filter ---- */

/*
 * What a search asks the directory for, in the terms of Active Directory
 * reconnaissance (BloodHound, PowerView, ldapdomaindump, Certify...). Each
 * leaf of the parsed filter that is not under an odd number of NOTs adds its
 * categories; the requested attributes add LAPS and gMSA (their secrets are
 * fetched as attributes). Attribute names compare without case.
 */
enum {
    RC_USERS = 1 << 0,      /* sAMAccountType=805306368, objectCategory=person, objectClass=user,
                               inetOrgPerson */
    RC_COMPUTERS = 1 << 1,  /* sAMAccountType=805306369, objectCategory/Class=computer */
    RC_GROUPS = 1 << 2,     /* objectCategory/Class=group, group sAMAccountTypes, groupType,
                               member, memberOf */
    RC_SPN = 1 << 3,        /* servicePrincipalName present or by wildcard (not one SPN) */
    RC_ASREP = 1 << 4,      /* userAccountControl bit DONT_REQ_PREAUTH (4194304) */
    RC_DELEGATION = 1 << 5, /* UAC bits 524288, 16777216; msDS-AllowedToDelegateTo,
                               msDS-AllowedToActOnBehalfOfOtherIdentity */
    RC_DCS = 1 << 6,        /* UAC bit 8192 (or 67108864, RODC); primaryGroupID=516 or 521 */
    RC_ADMINCOUNT = 1 << 7, /* adminCount present or >= 1 */
    RC_TRUSTS = 1 << 8,     /* objectClass=trustedDomain, trust* attributes */
    RC_GPO = 1 << 9,        /* objectClass=groupPolicyContainer, gPLink, gPCFileSysPath */
    RC_LAPS = 1 << 10,      /* ms-Mcs-AdmPwd*, msLAPS-* */
    RC_GMSA = 1 << 11,      /* msDS-GroupManagedServiceAccount, msDS-ManagedPassword* */
    RC_PKI = 1 << 12,       /* pKICertificateTemplate, certificationAuthority, msPKI-* */
    RC_N = 13,
    /* A search for any of these alone is worth an alert: it finds accounts to attack. */
    RC_SENSITIVE = RC_SPN | RC_ASREP | RC_DELEGATION | RC_LAPS | RC_GMSA,
};

static const char *const ldap_recon_names[RC_N] = {
    "users",
    "computers",
    "groups",
    "spn",
    "asrep_roastable",
    "delegation",
    "domain_controllers",
    "admin_count",
    "trusts",
    "gpo",
    "laps",
    "gmsa",
    "pki",
};

/* The kinds of filter leaves (RFC 4511 4.5.1.7). */
enum ldap_leaf { LEAF_EQ, LEAF_GE, LEAF_LE, LEAF_APPROX, LEAF_SUB, LEAF_PRESENT, LEAF_EXT };

/* The filter being walked: its text, and the categories its leaves name. */
struct ldap_walk {
    struct ldap_text t;
    uint16_t recon;
};

static uint8_t ldap_lower(uint8_t c)
{
    return c >= 'A' && c <= 'Z' ? (uint8_t)(c + 32) : c;
}

static bool ldap_ieq(struct tl_str s, const char *lit)
{
    size_t n = strlen(lit);
    if (s.len != n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (ldap_lower((uint8_t)s.ptr[i]) != ldap_lower((uint8_t)lit[i]))
            return false;
    return true;
}

static bool ldap_iprefix(struct tl_str s, const char *lit)
{
    size_t n = strlen(lit);
    struct tl_str head = { s.ptr, n };
    return s.len >= n && ldap_ieq(head, lit);
}

/* A decimal INTEGER value (RFC 4517 3.3.16), as AD writes UAC and group types; false if not. */
static bool ldap_number(struct tl_str v, int64_t *out)
{
    size_t i = v.len && v.ptr[0] == '-' ? 1 : 0;
    int64_t n = 0;
    if (i == v.len || v.len - i > 12)
        return false;
    for (; i < v.len; i++) {
        if (v.ptr[i] < '0' || v.ptr[i] > '9')
            return false;
        n = n * 10 + (v.ptr[i] - '0');
    }
    *out = v.len && v.ptr[0] == '-' ? -n : n;
    return true;
}

/* objectClass or objectCategory values; a category may be a schema DN ("CN=Person,CN=Schema,...").
 */
static uint16_t ldap_recon_class(struct tl_str v)
{
    static const struct {
        const char *name;
        uint16_t rc;
    } classes[] = {
        { "person", RC_USERS },
        { "user", RC_USERS },
        { "organizationalPerson", RC_USERS },
        { "inetOrgPerson", RC_USERS },
        { "computer", RC_COMPUTERS },
        { "group", RC_GROUPS },
        { "trustedDomain", RC_TRUSTS },
        { "groupPolicyContainer", RC_GPO },
        { "msDS-GroupManagedServiceAccount", RC_GMSA },
        { "msDS-ManagedServiceAccount", RC_GMSA },
        { "pKICertificateTemplate", RC_PKI },
        { "certificationAuthority", RC_PKI },
        { "pKIEnrollmentService", RC_PKI },
        { "msPKI-Enterprise-Oid", RC_PKI },
    };
    if (ldap_iprefix(v, "CN=")) {
        const char *comma = memchr(v.ptr, ',', v.len);
        v.ptr += 3;
        v.len = (comma ? (size_t)(comma - v.ptr) : v.len - 3);
    }
    for (size_t i = 0; i < TL_ARRAY_LEN(classes); i++)
        if (ldap_ieq(v, classes[i].name))
            return classes[i].rc;
    return 0;
}

/* Categories named by an attribute whatever the test on it. */
static uint16_t ldap_recon_attr(struct tl_str a)
{
    static const struct {
        const char *name;
        uint16_t rc;
        bool prefix;
    } attrs[] = {
        { "msDS-AllowedToDelegateTo", RC_DELEGATION, false },
        { "msDS-AllowedToActOnBehalfOfOtherIdentity", RC_DELEGATION, false },
        { "memberOf", RC_GROUPS, false },
        { "member", RC_GROUPS, false },
        { "groupType", RC_GROUPS, false },
        { "trustPartner", RC_TRUSTS, false },
        { "trustDirection", RC_TRUSTS, false },
        { "trustAttributes", RC_TRUSTS, false },
        { "trustType", RC_TRUSTS, false },
        { "gPLink", RC_GPO, false },
        { "gPCFileSysPath", RC_GPO, false },
        { "ms-Mcs-AdmPwd", RC_LAPS, true },
        { "msLAPS-", RC_LAPS, true },
        { "msDS-ManagedPassword", RC_GMSA, true },
        { "msDS-GroupMSAMembership", RC_GMSA, false },
        { "msPKI-", RC_PKI, true },
        { "pKIExtendedKeyUsage", RC_PKI, false },
    };
    for (size_t i = 0; i < TL_ARRAY_LEN(attrs); i++)
        if (attrs[i].prefix ? ldap_iprefix(a, attrs[i].name) : ldap_ieq(a, attrs[i].name))
            return attrs[i].rc;
    return 0;
}

/* userAccountControl bits (MS-ADTS 2.2.16) tested by equality or a bitwise matching rule. */
static uint16_t ldap_recon_uac(int64_t v)
{
    uint32_t u = (uint32_t)v;
    uint16_t rc = 0;
    if (u & 0x400000u) /* DONT_REQ_PREAUTH */
        rc |= RC_ASREP;
    if (u & (0x80000u | 0x1000000u)) /* TRUSTED_FOR_DELEGATION, TRUSTED_TO_AUTH_FOR_DELEGATION */
        rc |= RC_DELEGATION;
    if (u & (0x2000u | 0x4000000u)) /* SERVER_TRUST_ACCOUNT, PARTIAL_SECRETS_ACCOUNT (RODC) */
        rc |= RC_DCS;
    return rc;
}

/* sAMAccountType values (MS-ADTS 2.2.17). */
static uint16_t ldap_recon_samtype(int64_t v)
{
    switch (v) {
    case 0x30000000: return RC_USERS;     /* SAM_USER_OBJECT */
    case 0x30000001: return RC_COMPUTERS; /* SAM_MACHINE_ACCOUNT */
    case 0x10000000:                      /* SAM_GROUP_OBJECT */
    case 0x10000001:                      /* SAM_NON_SECURITY_GROUP_OBJECT */
    case 0x20000000:                      /* SAM_ALIAS_OBJECT */
    case 0x20000001: return RC_GROUPS;    /* SAM_NON_SECURITY_ALIAS_OBJECT */
    default: return 0;
    }
}

/*
 * One leaf of a search filter: its kind, attribute, matching rule (extensible
 * match) and value. LDAP_MATCHING_RULE_BIT_AND and _BIT_OR (MS-ADTS 3.1.1.3.4.4)
 * test UAC bits; a NOT above the leaf turns it into an exclusion, which names
 * nothing.
 */
static void ldap_recon_leaf(struct ldap_walk *w, bool neg, enum ldap_leaf kind, struct tl_str type,
                            struct tl_str rule, struct tl_str value)
{
    static const char bit_and[] = "1.2.840.113556.1.4.803", bit_or[] = "1.2.840.113556.1.4.804";
    bool eq = kind == LEAF_EQ || kind == LEAF_APPROX;
    int64_t v = 0;
    bool num = ldap_number(value, &v);
    if (neg)
        return;
    if (ldap_ieq(type, "objectClass") || ldap_ieq(type, "objectCategory")) {
        if (eq)
            w->recon |= ldap_recon_class(value);
    } else if (ldap_ieq(type, "sAMAccountType")) {
        if (eq && num)
            w->recon |= ldap_recon_samtype(v);
    } else if (ldap_ieq(type, "userAccountControl")) {
        bool bits = kind == LEAF_EXT && (ldap_ieq(rule, bit_and) || ldap_ieq(rule, bit_or));
        if ((eq || bits) && num)
            w->recon |= ldap_recon_uac(v);
    } else if (ldap_ieq(type, "servicePrincipalName")) {
        if (kind == LEAF_PRESENT || kind == LEAF_SUB)
            w->recon |= RC_SPN;
    } else if (ldap_ieq(type, "primaryGroupID")) {
        if (eq && num && (v == 516 || v == 521)) /* domain controllers, read-only ones */
            w->recon |= RC_DCS;
    } else if (ldap_ieq(type, "adminCount")) {
        if (kind == LEAF_PRESENT || ((eq || kind == LEAF_GE) && num && v >= 1))
            w->recon |= RC_ADMINCOUNT;
    } else {
        w->recon |= ldap_recon_attr(type);
    }
}

/* Reads one OCTET STRING (any tag: the caller checked the context) as a view. */
static struct tl_str ldap_read_str(struct tl_cursor *c, unsigned depth)
{
    struct ber_tlv t;
    struct tl_str s = { "", 0 };
    if (ber_read(c, &t, depth)) {
        if (t.constructed)
            tl_cur_fail(c, TL_CUR_BAD); /* constructed strings: not in LDAP (RFC 4511 5.1) */
        else
            s = ber_str(&t);
    }
    return s;
}

/* AttributeValueAssertion (RFC 4511 4.1.6): "(type" op "value)". */
static void ldap_filter_ava(struct ldap_walk *w, struct tl_cursor *c, enum ldap_leaf kind, bool neg,
                            unsigned d)
{
    static const char *const ops[] = {
        [LEAF_EQ] = "=", [LEAF_GE] = ">=", [LEAF_LE] = "<=", [LEAF_APPROX] = "~="
    };
    struct tl_str type = ldap_read_str(c, d), value = ldap_read_str(c, d);
    ldap_put_escaped(&w->t, type);
    ldap_put(&w->t, ops[kind], strlen(ops[kind]));
    ldap_put_escaped(&w->t, value);
    ldap_recon_leaf(w, neg, kind, type, (struct tl_str){ "", 0 }, value);
}

/* SubstringFilter (RFC 4511 4.5.1.7.2): initial*any*...*final. */
static void ldap_filter_substrings(struct ldap_walk *w, struct tl_cursor *c, bool neg, unsigned d)
{
    struct ber_tlv seq, item;
    struct ldap_text *t = &w->t;
    struct tl_str type = ldap_read_str(c, d);
    ldap_put_escaped(t, type);
    ldap_putc(t, '=');
    if (!ber_expect(c, &seq, BER_UNIVERSAL, BER_SEQUENCE, d))
        return;
    ldap_recon_leaf(w, neg, LEAF_SUB, type, (struct tl_str){ "", 0 }, (struct tl_str){ "", 0 });
    bool star = false; /* the last thing written is a '*' */
    while (tl_cur_left(&seq.value) > 0 && ber_read(&seq.value, &item, d + 1)) {
        if (item.cls != BER_CONTEXT || item.tag > 2 || item.constructed) {
            tl_cur_fail(c, TL_CUR_BAD);
            return;
        }
        if (item.tag != 0 && !star)
            ldap_putc(t, '*'); /* any and final follow a '*' */
        ldap_put_escaped(t, ber_str(&item));
        star = false;
        if (item.tag != 2) {
            ldap_putc(t, '*'); /* initial and any are followed by one */
            star = true;
        }
    }
    if (!tl_cur_ok(&seq.value))
        tl_cur_fail(c, seq.value.err);
}

/* MatchingRuleAssertion (RFC 4511 4.5.1.7.7): [type][:dn][:rule]:=value. */
static void ldap_filter_extensible(struct ldap_walk *w, struct tl_cursor *c, bool neg, unsigned d)
{
    struct ber_tlv e;
    struct ldap_text *t = &w->t;
    struct tl_str rule = { "", 0 }, type = { "", 0 }, value = { "", 0 };
    bool dn = false;
    while (tl_cur_left(c) > 0 && ber_read(c, &e, d)) {
        if (e.cls != BER_CONTEXT || e.constructed) {
            tl_cur_fail(c, TL_CUR_BAD);
            return;
        }
        if (e.tag == 1)
            rule = ber_str(&e);
        else if (e.tag == 2)
            type = ber_str(&e);
        else if (e.tag == 3)
            value = ber_str(&e);
        else if (e.tag == 4)
            ber_bool(&e, &dn);
    }
    ldap_put_escaped(t, type);
    if (dn)
        ldap_put(t, ":dn", 3);
    if (rule.len) {
        ldap_putc(t, ':');
        ldap_put_escaped(t, rule);
    }
    ldap_put(t, ":=", 2);
    ldap_put_escaped(t, value);
    ldap_recon_leaf(w, neg, LEAF_EXT, type, rule, value);
}

/*
 * One Filter (RFC 4511 4.5.1.7), recursively; too deep a nesting fails c BAD.
 * neg: inside an odd number of NOTs, where a leaf excludes what it names.
 */
static void ldap_filter(struct ldap_walk *w, struct tl_cursor *c, unsigned depth, bool neg)
{
    struct ber_tlv f;
    struct ldap_text *t = &w->t;
    if (depth >= LDAP_MAX_FILTER_DEPTH) {
        tl_cur_fail(c, TL_CUR_BAD);
        return;
    }
    if (!ber_read(c, &f, depth + 3))
        return;
    if (f.cls != BER_CONTEXT || f.tag > 9) {
        tl_cur_fail(c, TL_CUR_BAD);
        return;
    }
    struct tl_cursor *v = &f.value;
    unsigned d = depth + 4; /* BER depth inside: LDAPMessage, op, filter levels */
    ldap_putc(t, '(');
    switch (f.tag) {
    case 0:
    case 1:
    case 2:
        ldap_putc(t, f.tag == 0 ? '&' : f.tag == 1 ? '|' : '!');
        if (f.tag == 2) { /* not: exactly one filter */
            ldap_filter(w, v, depth + 1, !neg);
            if (tl_cur_left(v) > 0)
                tl_cur_fail(v, TL_CUR_BAD);
        }
        while (f.tag != 2 && tl_cur_left(v) > 0) /* (&) and (|) may be empty: RFC 4526 */
            ldap_filter(w, v, depth + 1, neg);
        break;
    case 3: ldap_filter_ava(w, v, LEAF_EQ, neg, d); break;
    case 4: ldap_filter_substrings(w, v, neg, d); break;
    case 5: ldap_filter_ava(w, v, LEAF_GE, neg, d); break;
    case 6: ldap_filter_ava(w, v, LEAF_LE, neg, d); break;
    case 7: /* present: the contents are the AttributeDescription */
        ldap_put_escaped(t, ber_str(&f));
        ldap_put(t, "=*", 2);
        ldap_recon_leaf(w, neg, LEAF_PRESENT, ber_str(&f), (struct tl_str){ "", 0 },
                        (struct tl_str){ "", 0 });
        break;
    case 8: ldap_filter_ava(w, v, LEAF_APPROX, neg, d); break;
    case 9: ldap_filter_extensible(w, v, neg, d); break;
    }
    ldap_putc(t, ')');
    if (f.constructed != (f.tag != 7))
        tl_cur_fail(c, TL_CUR_BAD); /* every choice but present is constructed */
    if (!tl_cur_ok(v))
        tl_cur_fail(c, v->err);
}

/* ---- pending requests ---- */

static struct ldap_pending *ldap_find(struct ldap_state *st, uint32_t msgid, uint8_t req)
{
    for (size_t i = 0; i < st->npending; i++)
        if (st->pending[i].used && st->pending[i].msgid == msgid && st->pending[i].op == req)
            return &st->pending[i];
    return NULL;
}

/* Writes one pending entry (with the response's LDAPResult when res is set) and frees it. */
struct ldap_result {
    bool present;
    uint64_t code;
    struct tl_str matched_dn, diag, response_oid;
    uint8_t status, enc;
};

static void ldap_emit(struct tl_parse_ctx *ctx, struct ldap_pending *p,
                      const struct ldap_result *res, uint32_t abandon_id, enum tl_unanswered why)
{
    struct ldap_rec r = { 0 };
    struct tl_str attrs[LDAP_MAX_ATTRS], recon[RC_N];
    uint32_t nrecon = 0;
    if (!res && p->have_request && p->op != OP_UNBIND && p->op != OP_ABANDON)
        r.reply_status = tl_unanswered_name(p->why ? p->why : why);
    r.message_id = p->msgid;
    r.operation = ldap_op_name(p->op);
    r.opcode = ldap_zeek_opcode(p);
    r.status = p->status;
    r.encryption = ldap_enc_names[p->enc];
    r.value_capped = p->value_capped;
    r.abandon_id = abandon_id;
    if (res && res->present) {
        r.has_result = true;
        r.result_code = (uint32_t)(res->code > UINT32_MAX ? UINT32_MAX : res->code);
        r.result_name = ldap_result_name(res->code, false);
        r.result = ldap_result_name(res->code, true);
        /* Sicily negotiate answers with the NTLM challenge in matchedDN (MS-ADTS 5.1.1.1.3). */
        if (!(p->op == OP_BIND_REQ && p->auth == AUTH_SICILY_NEG))
            r.matched_dn = res->matched_dn;
        r.diagnostic_message = res->diag;
        r.response_oid = res->response_oid;
    }
    if (res) {
        if (res->status > r.status)
            r.status = res->status;
        if (res->enc > p->enc)
            r.encryption = ldap_enc_names[res->enc];
    }
    for (size_t i = 0; i < p->nattrs; i++)
        attrs[i] = ldap_sref_str(p, p->attrs[i]);
    struct tl_strlist list = { attrs, p->nattrs };
    switch (p->op) {
    case OP_BIND_REQ:
        r.version = p->version;
        r.bind_name = ldap_sref_str(p, p->dn);
        r.auth_type = ldap_auth_names[p->auth];
        r.sasl_mechanism = ldap_sref_str(p, p->mech);
        r.cleartext_password = p->cleartext;
        break;
    case OP_SEARCH_REQ:
        r.base_object = ldap_sref_str(p, p->dn);
        if (p->has_scope) {
            r.scope = p->scope < 3 ? ldap_scopes[p->scope] : "unknown";
            r.deref_aliases = p->deref < 4 ? ldap_derefs[p->deref] : "unknown";
        }
        r.size_limit = p->size_limit;
        r.time_limit = p->time_limit;
        r.types_only = p->types_only;
        r.filter = ldap_sref_str(p, p->filter);
        r.attributes = list;
        r.is_search = true;
        r.result_entries = p->entries;
        r.result_bytes = p->bytes;
        r.result_references = p->refs;
        for (unsigned i = 0; i < RC_N; i++)
            if (p->recon & (1u << i))
                recon[nrecon++] =
                    (struct tl_str){ ldap_recon_names[i], strlen(ldap_recon_names[i]) };
        r.recon_categories.v = recon;
        r.recon_categories.n = nrecon;
        r.recon_sensitive = (p->recon & RC_SENSITIVE) != 0;
        break;
    case OP_EXT_REQ: r.request_oid = ldap_sref_str(p, p->oid); break;
    case OP_UNBIND:
    case OP_ABANDON: break;
    default:
        r.object = ldap_sref_str(p, p->dn);
        r.attribute_names = list;
        r.new_superior = ldap_sref_str(p, p->superior);
        r.delete_old_rdn = p->delete_old_rdn;
        break;
    }
    ctx->emit(ctx, &r, p->ts);
    p->used = false;
}

/*
 * More slots, doubling up to cap: most connections have one or two requests
 * waiting, kept in the state. False when memory is short.
 */
static bool ldap_grow(struct tl_parse_ctx *ctx, struct ldap_state *st, size_t cap)
{
    size_t n = 2u * st->npending < cap ? 2u * st->npending : cap, size = sizeof(*st->pending);
    struct ldap_pending *p = tl_state_grow(ctx, st->pending, st->pending == st->pending_inline,
                                           st->npending * size, st->npending * size, n * size);
    if (!p)
        return false;
    memset(p + st->npending, 0, (n - st->npending) * size);
    st->pending = p;
    st->npending = (uint8_t)n;
    return true;
}

/* A free entry for a new request; when all are taken the oldest is written alone. */
static struct ldap_pending *ldap_alloc(struct tl_parse_ctx *ctx, struct ldap_state *st)
{
    size_t cap = ctx->limits->max_pending;
    if (cap == 0 || cap > LDAP_MAX_PENDING)
        cap = cap ? LDAP_MAX_PENDING : 1;
    if (!st->pending) {
        st->pending = st->pending_inline;
        st->npending = LDAP_PENDING_INLINE;
    }
    struct ldap_pending *oldest = &st->pending[0];
    size_t i = 0;
    for (; i < cap && i < st->npending; i++) {
        if (!st->pending[i].used)
            return &st->pending[i];
        if (st->pending[i].ts < oldest->ts)
            oldest = &st->pending[i];
    }
    if (i < cap && ldap_grow(ctx, st, cap))
        return &st->pending[i];
    ctx->counters[TL_DC_CAPPED]++;
    ldap_emit(ctx, oldest, NULL, 0, TL_UNANS_CAPPED);
    return oldest;
}

static void ldap_init_pending(struct ldap_pending *p, const struct tl_parse_ctx *ctx,
                              uint32_t msgid, uint8_t op, uint8_t enc)
{
    memset(p, 0, offsetof(struct ldap_pending, pool));
    p->used = true;
    p->ts = ctx->ts_us;
    p->dir = ctx->dir;
    p->msgid = msgid;
    p->op = op;
    p->enc = enc;
}

/* ---- requests, RFC 4511 4.2 - 4.14 ---- */

static void ldap_bind_req(struct tl_parse_ctx *ctx, struct ldap_pending *p, struct tl_cursor *c)
{
    struct ber_tlv v, auth;
    uint64_t version = 0;
    if (ber_expect(c, &v, BER_UNIVERSAL, BER_INTEGER, 2) && ber_uint(&v, &version))
        p->version = (uint8_t)(version > 255 ? 255 : version);
    else
        tl_cur_fail(c, TL_CUR_BAD);
    p->dn = ldap_keep(ctx, p, ldap_read_str(c, 2));
    if (!ber_read(c, &auth, 2))
        return;
    if (auth.cls != BER_CONTEXT) {
        tl_cur_fail(c, TL_CUR_BAD);
        return;
    }
    switch (auth.tag) {
    case 0: /* simple: the password is only measured */
        p->auth = AUTH_SIMPLE;
        p->cleartext = tl_cur_left(&auth.value) > 0;
        break;
    case 3: /* SaslCredentials */
        p->auth = AUTH_SASL;
        p->mech = ldap_keep(ctx, p, ldap_read_str(&auth.value, 3));
        break;
    case 9: p->auth = AUTH_SICILY_DISC; break; /* MS-ADTS 5.1.1.1.3 */
    case 10: p->auth = AUTH_SICILY_NEG; break;
    case 11: p->auth = AUTH_SICILY_RESP; break;
    default: tl_cur_fail(c, TL_CUR_BAD); break;
    }
    if (p->auth >= AUTH_SICILY_NEG) {
        static const struct tl_str ntlm = { "NTLM", 4 };
        p->mech = ldap_keep(ctx, p, ntlm);
    }
    if (!tl_cur_ok(&auth.value))
        tl_cur_fail(c, auth.value.err);
}

static void ldap_search_req(struct tl_parse_ctx *ctx, struct ldap_pending *p, struct tl_cursor *c)
{
    struct ber_tlv scope, deref, size, time, types, attrs;
    uint64_t v1 = 0, v2 = 0, v3 = 0, v4 = 0;
    p->dn = ldap_keep(ctx, p, ldap_read_str(c, 2));
    ber_expect(c, &scope, BER_UNIVERSAL, BER_ENUMERATED, 2);
    ber_expect(c, &deref, BER_UNIVERSAL, BER_ENUMERATED, 2);
    ber_expect(c, &size, BER_UNIVERSAL, BER_INTEGER, 2);
    ber_expect(c, &time, BER_UNIVERSAL, BER_INTEGER, 2);
    ber_expect(c, &types, BER_UNIVERSAL, BER_BOOLEAN, 2);
    if (!tl_cur_ok(c))
        return;
    if (!ber_uint(&scope, &v1) || !ber_uint(&deref, &v2) || !ber_uint(&size, &v3) ||
        !ber_uint(&time, &v4) || !ber_bool(&types, &p->types_only)) {
        tl_cur_fail(c, TL_CUR_BAD);
        return;
    }
    p->has_scope = true;
    p->scope = (uint8_t)(v1 > 3 ? 3 : v1);
    p->deref = (uint8_t)(v2 > 4 ? 4 : v2);
    p->size_limit = (uint32_t)(v3 > UINT32_MAX ? UINT32_MAX : v3);
    p->time_limit = (uint32_t)(v4 > UINT32_MAX ? UINT32_MAX : v4);

    /* The filter is rendered straight into the pool, cut at the room left. */
    struct ldap_walk w = { { p->pool + p->pool_used, 0, ldap_room(ctx, p), false }, 0 };
    ldap_filter(&w, c, 0, false);
    p->recon = w.recon;
    p->filter.off = p->pool_used;
    p->filter.len = (uint16_t)w.t.len;
    p->pool_used = (uint16_t)(p->pool_used + w.t.len);
    if (w.t.cut) {
        p->value_capped = true;
        ctx->counters[TL_DC_CAPPED]++;
    }
    if (!ber_expect(c, &attrs, BER_UNIVERSAL, BER_SEQUENCE, 2))
        return;
    while (tl_cur_left(&attrs.value) > 0) {
        struct tl_str a = ldap_read_str(&attrs.value, 3);
        if (!tl_cur_ok(&attrs.value))
            break;
        ldap_keep_attr(ctx, p, a);
        p->recon |= ldap_recon_attr(a) & (RC_LAPS | RC_GMSA);
    }
    if (!tl_cur_ok(&attrs.value))
        tl_cur_fail(c, attrs.value.err);
}

/* modify (changes), add (attributes): a SEQUENCE OF SEQUENCE whose type sits at `skip`. */
static void ldap_attr_list(struct tl_parse_ctx *ctx, struct ldap_pending *p, struct tl_cursor *c,
                           bool modify)
{
    struct ber_tlv list, item, part, skip;
    p->dn = ldap_keep(ctx, p, ldap_read_str(c, 2));
    if (!ber_expect(c, &list, BER_UNIVERSAL, BER_SEQUENCE, 2))
        return;
    while (tl_cur_left(&list.value) > 0 &&
           ber_expect(&list.value, &item, BER_UNIVERSAL, BER_SEQUENCE, 3)) {
        struct tl_cursor *ic = &item.value;
        if (modify) { /* SEQUENCE { operation ENUMERATED, modification PartialAttribute } */
            ber_expect(ic, &skip, BER_UNIVERSAL, BER_ENUMERATED, 4);
            if (!ber_expect(ic, &part, BER_UNIVERSAL, BER_SEQUENCE, 4))
                break;
            ic = &part.value;
        }
        struct tl_str type = ldap_read_str(ic, 5);
        if (!tl_cur_ok(ic))
            break;
        ldap_keep_attr(ctx, p, type);
    }
    if (!tl_cur_ok(&list.value))
        tl_cur_fail(c, list.value.err);
}

static void ldap_request(struct tl_parse_ctx *ctx, struct ldap_pending *p, struct ber_tlv *op)
{
    struct tl_cursor *c = &op->value;
    struct ber_tlv t;
    switch (op->tag) {
    case OP_BIND_REQ: ldap_bind_req(ctx, p, c); break;
    case OP_SEARCH_REQ: ldap_search_req(ctx, p, c); break;
    case OP_MODIFY_REQ: ldap_attr_list(ctx, p, c, true); break;
    case OP_ADD_REQ: ldap_attr_list(ctx, p, c, false); break;
    case OP_DEL_REQ: p->dn = ldap_keep(ctx, p, ber_str(op)); break; /* primitive LDAPDN */
    case OP_MODDN_REQ: /* entry, newrdn, deleteoldrdn, newSuperior [0] OPTIONAL */
        p->dn = ldap_keep(ctx, p, ldap_read_str(c, 2));
        ldap_keep_attr(ctx, p, ldap_read_str(c, 2));
        if (ber_expect(c, &t, BER_UNIVERSAL, BER_BOOLEAN, 2) && !ber_bool(&t, &p->delete_old_rdn))
            tl_cur_fail(c, TL_CUR_BAD);
        if (tl_cur_left(c) > 0 && ber_expect(c, &t, BER_CONTEXT, 0, 2))
            p->superior = ldap_keep(ctx, p, ber_str(&t));
        break;
    case OP_COMPARE_REQ: /* entry, ava { attributeDesc, assertionValue (not kept) } */
        p->dn = ldap_keep(ctx, p, ldap_read_str(c, 2));
        if (ber_expect(c, &t, BER_UNIVERSAL, BER_SEQUENCE, 2)) {
            struct tl_str a = ldap_read_str(&t.value, 3);
            if (tl_cur_ok(&t.value))
                ldap_keep_attr(ctx, p, a);
            else
                tl_cur_fail(c, t.value.err);
        }
        break;
    case OP_EXT_REQ:
        if (ber_expect(c, &t, BER_CONTEXT, 0, 2)) {
            struct tl_str oid = ber_str(&t);
            p->oid = ldap_keep(ctx, p, oid);
            p->starttls = oid.len == sizeof(ldap_starttls_oid) - 1 &&
                          memcmp(oid.ptr, ldap_starttls_oid, oid.len) == 0;
        }
        break;
    default: break; /* unbind (NULL) and abandon: handled by the caller */
    }
}

/* LDAPResult (RFC 4511 4.1.9) at the start of a response's contents. */
static void ldap_result(struct tl_cursor *c, struct ldap_result *res)
{
    struct ber_tlv code, t;
    if (ber_expect(c, &code, BER_UNIVERSAL, BER_ENUMERATED, 2) && ber_uint(&code, &res->code))
        res->present = true;
    else
        tl_cur_fail(c, TL_CUR_BAD);
    res->matched_dn = ldap_read_str(c, 2);
    res->diag = ldap_read_str(c, 2);
    /* referral [3], then per operation: serverSaslCreds [7], responseName [10]... */
    while (tl_cur_left(c) > 0 && ber_read(c, &t, 2))
        if (t.cls == BER_CONTEXT && t.tag == 10)
            res->response_oid = ber_str(&t);
}

/* ---- one LDAPMessage ---- */

/* The pending search a response of `msgid` belongs to; a new entry when none waits. */
static struct ldap_pending *ldap_for_response(struct tl_parse_ctx *ctx, uint32_t msgid, uint8_t req,
                                              uint8_t enc)
{
    struct ldap_state *st = ctx->state;
    struct ldap_pending *p = ldap_find(st, msgid, req);
    if (!p) {
        p = ldap_alloc(ctx, st);
        ldap_init_pending(p, ctx, msgid, req, enc);
    }
    return p;
}

/* A SearchResultEntry (counted with its encoded size) or SearchResultReference: never parsed. */
static void ldap_entry(struct tl_parse_ctx *ctx, uint32_t msgid, uint8_t optag, size_t size,
                       uint8_t enc)
{
    struct ldap_pending *p = ldap_for_response(ctx, msgid, OP_SEARCH_REQ, enc);
    if (optag == OP_SEARCH_ENTRY) {
        p->entries++;
        p->bytes += size;
    } else {
        p->refs++;
    }
    if (enc > p->enc)
        p->enc = enc;
}

static bool ldap_sasl_capable(const struct ldap_pending *p)
{
    static const char *const mechs[] = { "GSSAPI", "GSS-SPNEGO", "NTLM" };
    if (p->auth == AUTH_SICILY_RESP || p->auth == AUTH_SICILY_NEG)
        return true;
    if (p->auth != AUTH_SASL)
        return false;
    for (size_t i = 0; i < TL_ARRAY_LEN(mechs); i++)
        if (p->mech.len == strlen(mechs[i]) &&
            memcmp(p->pool + p->mech.off, mechs[i], p->mech.len) == 0)
            return true;
    return false;
}

/*
 * Parses the LDAPMessage that is exactly `msg` (its whole TLV). Returns false
 * when it is not an LDAPMessage at all (no SEQUENCE, messageID and protocolOp),
 * so the first message of a flow can decide whether the flow is LDAP.
 */
static bool ldap_message(struct tl_parse_ctx *ctx, struct tl_cursor msg, uint8_t enc)
{
    struct ldap_state *st = ctx->state;
    struct ber_tlv seq, id, op;
    int64_t msgid = -1;
    size_t size = tl_cur_left(&msg);

    if (!ber_expect(&msg, &seq, BER_UNIVERSAL, BER_SEQUENCE, 0))
        return false;
    struct tl_cursor *c = &seq.value;
    if (!ber_expect(c, &id, BER_UNIVERSAL, BER_INTEGER, 1) || !ber_int(&id, &msgid) || msgid < 0 ||
        msgid > INT32_MAX)
        return false;
    uint8_t cls;
    uint32_t tag;
    bool cons;
    if (ctx->transport == TL_UDP && ber_peek(c, &cls, &tag, &cons) && cls == BER_UNIVERSAL &&
        tag == BER_OCTET_STRING)
        ldap_read_str(c, 1); /* RFC 1798 CLDAP: `user` LDAPDN before the operation */
    if (!ber_read(c, &op, 1) || op.cls != BER_APPLICATION || op.tag > OP_INTERMEDIATE)
        return false;
    /* controls [0] may follow; anything else is malformed */
    struct ber_tlv ctl;
    if (tl_cur_left(c) > 0 && (!ber_read(c, &ctl, 1) || ctl.cls != BER_CONTEXT || ctl.tag != 0))
        tl_cur_fail(c, TL_CUR_BAD);
    if (tl_cur_left(c) > 0)
        tl_cur_fail(c, TL_CUR_BAD);

    st->conn.seen = true;
    ctx->counters[TL_DC_MESSAGES]++;
    uint32_t mid = (uint32_t)msgid;
    uint8_t optag = (uint8_t)op.tag;

    if (ldap_is_request(optag)) {
        /* unbind and abandon are written at once: they take no place from those that wait */
        struct ldap_pending once,
            *p = optag == OP_UNBIND || optag == OP_ABANDON ? &once : ldap_alloc(ctx, st);
        ldap_init_pending(p, ctx, mid, optag, enc);
        p->have_request = true;
        ldap_request(ctx, p, &op);
        uint8_t status = (uint8_t)tl_parse_status(ctx, &op.value);
        if (status == TL_MSG_OK)
            status = (uint8_t)tl_parse_status(ctx, c);
        p->status = status;
        if (status == TL_MSG_MALFORMED)
            ctx->counters[TL_DC_MALFORMED]++;
        else if (status == TL_MSG_TRUNCATED)
            ctx->counters[TL_DC_TRUNCATED]++;
        if (optag == OP_UNBIND) {
            ldap_emit(ctx, p, NULL, 0, TL_UNANS_NONE);
        } else if (optag == OP_ABANDON) {
            uint64_t aid = 0;
            for (size_t i = 0; i < 4 && tl_cur_left(&op.value) > 0; i++)
                aid = aid << 8 | tl_cur_u8(&op.value); /* primitive MessageID */
            ldap_emit(ctx, p, NULL, (uint32_t)aid, TL_UNANS_NONE);
        }
        return true;
    }

    /* A response: find its request, or write it alone. */
    struct ldap_result res = { 0 };
    res.enc = enc;
    uint8_t req = ldap_request_of(optag);
    if (req == 0xff) /* intermediate response: counted only */
        return true;
    if (optag == OP_SEARCH_ENTRY || optag == OP_SEARCH_REF) {
        ldap_entry(ctx, mid, optag, size, enc);
        return true;
    }
    struct ldap_pending *p = ldap_for_response(ctx, mid, req, enc);
    ldap_result(&op.value, &res);
    res.status = (uint8_t)tl_parse_status(ctx, &op.value);
    if (res.status == TL_MSG_MALFORMED)
        ctx->counters[TL_DC_MALFORMED]++;
    else if (res.status == TL_MSG_TRUNCATED)
        ctx->counters[TL_DC_TRUNCATED]++;
    if (res.present && res.code == 0) {
        if (req == OP_BIND_REQ && ldap_sasl_capable(p))
            st->conn.sasl_layer = true;
        if (req == OP_EXT_REQ && p->starttls) {
            st->conn.tls = true;
            res.enc = ENC_TLS;
        }
    }
    ldap_emit(ctx, p, &res, 0, TL_UNANS_NONE);
    return true;
}

/* ---- framing ---- */

/*
 * Size of the definite-length SEQUENCE header at c and its contents: 0 when
 * the header is incomplete (need more), SIZE_MAX when it is no SEQUENCE or the
 * length is indefinite (ber_read resolves that).
 */
static size_t ldap_frame_len(const struct tl_cursor *in, bool *bad)
{
    struct tl_cursor c = *in;
    *bad = false;
    uint8_t tag = tl_cur_u8(&c), b = tl_cur_u8(&c);
    if (!tl_cur_ok(&c))
        return 0;
    if (tag != 0x30 || b == 0xff || b > 0x84) {
        *bad = true;
        return SIZE_MAX;
    }
    if (b == 0x80)
        return SIZE_MAX;
    size_t len = b, hdr = 2;
    if (b & 0x80) {
        len = 0;
        for (unsigned n = b & 0x7fu; n > 0; n--, hdr++)
            len = len << 8 | tl_cur_u8(&c);
        if (!tl_cur_ok(&c))
            return 0;
    }
    return hdr + len;
}

/*
 * The header of the LDAPMessage at in, when its first bytes are there: its
 * whole (definite) length, messageID and protocolOp tag. False when more
 * bytes are needed or it is no message header.
 */
static bool ldap_peek_header(const struct tl_cursor *in, size_t *total, uint32_t *msgid,
                             uint8_t *op)
{
    bool bad;
    size_t len = ldap_frame_len(in, &bad);
    if (bad || len == 0 || len == SIZE_MAX)
        return false;
    struct tl_cursor c = *in;
    uint8_t b = tl_cur_u8(&c);
    b = tl_cur_u8(&c);
    if (b & 0x80)
        tl_cur_skip(&c, b & 0x7fu);
    uint8_t itag = tl_cur_u8(&c), ilen = tl_cur_u8(&c);
    if (!tl_cur_ok(&c) || itag != 0x02 || ilen == 0 || ilen > 4)
        return false;
    uint32_t id = 0;
    for (unsigned i = 0; i < ilen; i++)
        id = id << 8 | tl_cur_u8(&c);
    uint8_t optag = tl_cur_u8(&c);
    if (!tl_cur_ok(&c) || (optag & 0xc0) != 0x40 || (optag & 0x1f) == 0x1f)
        return false;
    *total = len;
    *msgid = id;
    *op = optag & 0x1f;
    return true;
}

/*
 * Length of the whole message at in, an indefinite one resolved by the BER
 * reader: 0 while more bytes are needed, *bad when it is no message.
 */
static size_t ldap_msg_len(const struct tl_cursor *in, bool *bad)
{
    size_t len = ldap_frame_len(in, bad);
    if (*bad || len != SIZE_MAX)
        return len;
    struct ber_tlv t;
    struct tl_cursor probe = *in;
    if (ber_read(&probe, &t, 0))
        return tl_cur_left(in) - tl_cur_left(&probe);
    *bad = probe.err != TL_CUR_SHORT;
    return 0;
}

/* Counts an unreadable buffer into a tally. */
static void ldap_tally(struct tl_parse_ctx *ctx, struct ldap_tally *t, size_t n)
{
    if (t->buffers == 0)
        t->ts = ctx->ts_us;
    t->buffers++;
    t->bytes += n;
    ctx->counters[TL_DC_ENCRYPTED]++;
    ctx->counters[TL_DC_ENCRYPTED_BYTES] += n;
}

/*
 * Something that may have been the response to the requests waiting for one
 * from the other direction could not be read: if they stay unanswered, that
 * is why.
 */
static void ldap_mark(struct ldap_state *st, unsigned from_dir, enum tl_unanswered why)
{
    for (size_t i = 0; i < st->npending; i++) {
        struct ldap_pending *p = &st->pending[i];
        if (p->used && p->have_request && p->dir != from_dir && !p->why)
            p->why = (uint8_t)why;
    }
}

/* The dissector gives up on the flow: every request waiting is written now. */
static enum tl_parse ldap_giveup(struct tl_parse_ctx *ctx)
{
    struct ldap_state *st = ctx->state;
    for (size_t i = 0; i < st->npending; i++)
        if (st->pending[i].used)
            ldap_emit(ctx, &st->pending[i], NULL, 0, TL_UNANS_UNPARSEABLE);
    return TL_PARSE_GIVEUP; /* the caller counts it (TL_DC_GIVEUP) */
}

/*
 * A message too long to wait for whole that the buffered bytes begin (size
 * in all, `have` of them here): a search entry or reference is counted from
 * its header and the rest of it passed over (`skip`), so a large result costs
 * no memory. False for anything else.
 */
static bool ldap_skip_entry(struct tl_parse_ctx *ctx, const struct tl_cursor *in, uint8_t enc,
                            uint32_t *skip)
{
    size_t total;
    uint32_t msgid;
    uint8_t op;
    if (!ldap_peek_header(in, &total, &msgid, &op) ||
        (op != OP_SEARCH_ENTRY && op != OP_SEARCH_REF) || total <= tl_cur_left(in) ||
        total > LDAP_MAX_MESSAGE)
        return false;
    ctx->counters[TL_DC_MESSAGES]++;
    ldap_entry(ctx, msgid, op, total, enc);
    *skip = (uint32_t)(total - tl_cur_left(in));
    return true;
}

/* ---- SASL buffers (RFC 4422 3.7), read as they stream in ---- */

/*
 * The start of a SASL buffer of `len` bytes (after its 4-byte length): the
 * wrap token's header - GSS-API RFC 4121 4.2.6.2, RFC 1964 1.2.2 / RFC 4757
 * 7.3, or an MS-NLMP 2.2.2.9 signature - in b, which holds at least
 * min(len, LDAP_SASL_PEEK) bytes. Sets sb for the rest of the buffer and
 * *hdr to the header's size; false when it is no wrap token we know.
 */
static bool ldap_sasl_token(struct ldap_state *st, unsigned dir, struct tl_cursor b, uint32_t len,
                            size_t *hdr)
{
    struct ldap_sasl *sb = &st->sasl[dir];
    uint8_t h[LDAP_SASL_HDR];
    struct tl_cursor c = b;
    if (!tl_cur_copy(&c, h, sizeof(h)))
        return false;
    memset(sb, 0, offsetof(struct ldap_sasl, skip));
    *hdr = LDAP_SASL_HDR;
    if (h[0] == 0x05 && h[1] == 0x04 && h[3] == 0xff) {
        /* RFC 4121 4.2.6.2: flags (sealed: 0x02), filler, EC, RRC, SND_SEQ. A signed token's
         * checksum (EC bytes) ends the data, rotated right by RRC (4.2.5): with RRC 0 or
         * RRC == EC (Windows) the plaintext is contiguous. */
        size_t ec = (size_t)h[4] << 8 | h[5], rrc = (size_t)h[6] << 8 | h[7];
        if (ec > len - LDAP_SASL_HDR)
            return false;
        sb->sealed = (h[2] & 0x02) != 0 || (rrc != 0 && rrc != ec);
        sb->lead = (uint32_t)rrc;
        sb->plain = (uint32_t)(len - LDAP_SASL_HDR - ec);
    } else if (h[0] == 0x01 && h[1] == 0 && h[2] == 0 && h[3] == 0) {
        /* MS-NLMP 2.2.2.9.1: a 16-byte signature. Sealing is invisible in it; the direction's
         * first buffer decided it (ldap_ntlm_plain). */
        sb->sealed = st->conn.ntlm[dir] == LDAP_NTLM_SEALED;
        sb->plain = len - LDAP_SASL_HDR;
    } else if (h[0] == 0x60) {
        /* RFC 1964 1.2.2 / RFC 4757 7.3 (DES, RC4): [APPLICATION 0] { mech OID, TOK_ID 02 01,
         * SGN_ALG, SEAL_ALG (ff ff: none), filler, SND_SEQ, SGN_CKSUM, confounder, then the
         * data and its padding }. */
        c = b;
        tl_cur_skip(&c, 1);
        uint8_t l = tl_cur_u8(&c);
        size_t nlen = l & 0x80 ? l & 0x7fu : 0, app = nlen ? 0 : l;
        for (size_t i = 0; i < nlen && i < 4; i++)
            app = app << 8 | tl_cur_u8(&c);
        uint8_t oid = tl_cur_u8(&c), oidlen = tl_cur_u8(&c);
        tl_cur_skip(&c, oidlen);
        uint8_t th[32];
        if (!tl_cur_copy(&c, th, sizeof(th)) || nlen > 4 || oid != 0x06 || oidlen >= 0x80 ||
            th[0] != 0x02 || th[1] != 0x01)
            return false;
        *hdr = 2 + nlen + 2 + oidlen + sizeof(th);
        if (2 + nlen + app > len || 2 + nlen + app < *hdr)
            return false;
        sb->sealed = !(th[4] == 0xff && th[5] == 0xff);
        sb->pad = true;
        sb->plain = (uint32_t)(2 + nlen + app - *hdr);
    } else {
        return false;
    }
    if (sb->sealed) {
        *hdr = 0;
        sb->lead = sb->plain = 0;
    }
    sb->left = (uint32_t)(len - *hdr);
    return true;
}

/*
 * Is p, an NTLM-signed payload, exactly LDAPMessages? Asked of a direction's
 * first NTLM buffer (waited for whole), it decides whether the direction's
 * buffers are sealed: a sealed payload is noise.
 */
static bool ldap_ntlm_plain(struct tl_cursor p)
{
    while (tl_cur_left(&p) > 0) {
        bool bad;
        struct ber_tlv t;
        if (ldap_frame_len(&p, &bad) == 0 || bad || !ber_read(&p, &t, 0))
            return false;
    }
    return true;
}

/*
 * A message begun in an earlier buffer, in sb->carry: bytes of p join it
 * until it is whole (then it is parsed), or until it shows itself too long to
 * carry (a search entry is then counted and its rest passed over; anything
 * else is dropped, counted as capped). Returns the bytes of p taken (some).
 */
static size_t ldap_sasl_join(struct tl_parse_ctx *ctx, struct ldap_sasl *sb, struct tl_cursor p)
{
    if (!sb->carry && !(sb->carry = ctx->resize(ctx, NULL, 0, LDAP_SASL_CARRY))) {
        ctx->counters[TL_DC_CAPPED]++; /* no memory to join it: lost, as one too long */
        ldap_mark(ctx->state, ctx->dir, TL_UNANS_UNPARSEABLE);
        return tl_cur_left(&p);
    }
    size_t room = LDAP_SASL_CARRY - sb->carry_len, n = tl_cur_left(&p);
    size_t take = n < room ? n : room, old = sb->carry_len;
    memcpy(sb->carry + old, tl_cur_rest(&p).ptr, take);
    struct tl_cursor c = tl_cur_make(sb->carry, old + take), msg;
    bool bad;
    size_t len = ldap_msg_len(&c, &bad);
    sb->carry_len = 0;
    if (bad || (len == 0 && old + take == LDAP_SASL_CARRY)) {
        ctx->counters[TL_DC_MALFORMED]++;
        ldap_mark(ctx->state, ctx->dir, TL_UNANS_UNPARSEABLE);
        return take;
    }
    if (len != 0 && len <= old + take) {
        tl_cur_sub(&c, len, &msg);
        if (!ldap_message(ctx, msg, ENC_SIGNED)) {
            ctx->counters[TL_DC_MALFORMED]++;
            ldap_mark(ctx->state, ctx->dir, TL_UNANS_UNPARSEABLE);
        }
        return len - old;
    }
    if (len == 0 || len <= LDAP_SASL_CARRY) { /* the rest comes in a later buffer */
        sb->carry_len = (uint16_t)(old + take);
        return take;
    }
    if (!ldap_skip_entry(ctx, &c, ENC_SIGNED, &sb->skip)) {
        ctx->counters[TL_DC_CAPPED]++;
        ldap_mark(ctx->state, ctx->dir, TL_UNANS_UNPARSEABLE);
        sb->skip = (uint32_t)(len - old - take);
    }
    return take;
}

/*
 * Plaintext of a signed SASL buffer (p: what has arrived of it; last: p ends
 * it): the LDAP messages in it, which may begin in an earlier buffer and end
 * in a later one. Returns the bytes taken; when not last, a message not yet
 * whole is left for the rest of the buffer.
 */
static size_t ldap_sasl_plain(struct tl_parse_ctx *ctx, struct ldap_sasl *sb, struct tl_cursor p,
                              bool last)
{
    size_t start = tl_cur_left(&p);
    uint8_t pad = 0;
    struct tl_cursor whole = p;
    if (last && sb->pad && tl_cur_peek(&p, start - 1, &pad) && pad >= 1 && pad <= 8 &&
        pad <= start) /* RFC 1964 1.2.2.3: 1-8 bytes, each the count, end the data */
        tl_cur_sub(&whole, start - pad, &p);
    else
        pad = 0;
    while (tl_cur_left(&p) > 0) {
        bool bad = false;
        size_t len = sb->skip || sb->carry_len ? 0 : ldap_msg_len(&p, &bad);
        struct tl_cursor msg;
        if (sb->skip) {
            size_t k = sb->skip < tl_cur_left(&p) ? sb->skip : tl_cur_left(&p);
            tl_cur_skip(&p, k);
            sb->skip -= (uint32_t)k;
        } else if (sb->carry_len) {
            tl_cur_skip(&p, ldap_sasl_join(ctx, sb, p));
        } else if (bad) { /* no message: the rest of this buffer is noise */
            ctx->counters[TL_DC_MALFORMED]++;
            ldap_mark(ctx->state, ctx->dir, TL_UNANS_UNPARSEABLE);
            tl_cur_skip(&p, tl_cur_left(&p));
        } else if (len != 0 && len <= tl_cur_left(&p)) {
            tl_cur_sub(&p, len, &msg);
            if (!ldap_message(ctx, msg, ENC_SIGNED)) {
                ctx->counters[TL_DC_MALFORMED]++;
                ldap_mark(ctx->state, ctx->dir, TL_UNANS_UNPARSEABLE);
            }
        } else if (ldap_skip_entry(ctx, &p, ENC_SIGNED, &sb->skip)) {
            tl_cur_skip(&p, tl_cur_left(&p));
        } else if (!last) {
            break; /* the rest of it is still to come in this buffer */
        } else {
            tl_cur_skip(&p, ldap_sasl_join(ctx, sb, p));
        }
    }
    size_t taken = start - pad - tl_cur_left(&p);
    return tl_cur_left(&p) == 0 ? taken + pad : taken;
}

/*
 * TCP once a SASL security layer is on: this direction's buffers, each read
 * as it streams in - the length and token header, then the leading checksum
 * (RFC 4121 RRC), the plaintext (signed) or everything (sealed: tallied) and
 * the trailing checksum - so a buffer of any size costs no more than the
 * message being read.
 */
static enum tl_parse ldap_sasl(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct ldap_state *st = ctx->state;
    unsigned dir = ctx->dir & 1;
    struct ldap_sasl *sb = &st->sasl[dir];
    size_t n = tl_cur_left(in), take;

    if (sb->left == 0) {
        struct tl_cursor c = *in, buf;
        uint32_t len = tl_cur_be32(&c);
        uint8_t b0;
        if (!tl_cur_ok(&c))
            return TL_PARSE_MORE;
        if (len < LDAP_SASL_HDR || len > LDAP_MAX_MESSAGE)
            return ldap_giveup(ctx);
        size_t need = len < LDAP_SASL_PEEK ? len : LDAP_SASL_PEEK;
        tl_cur_peek(&c, 0, &b0);
        bool decide = b0 == 0x01 && st->conn.ntlm[dir] == LDAP_NTLM_UNKNOWN;
        if (decide)
            need = len; /* the first NTLM buffer decides, seen whole */
        if (tl_cur_left(&c) < need)
            return TL_PARSE_MORE;
        struct tl_cursor whole = c;
        tl_cur_sub(&whole, need, &buf);
        if (decide) {
            struct tl_cursor payload = buf;
            tl_cur_skip(&payload, LDAP_SASL_HDR);
            st->conn.ntlm[dir] = ldap_ntlm_plain(payload) ? LDAP_NTLM_SIGNED : LDAP_NTLM_SEALED;
        }
        size_t hdr;
        if (!ldap_sasl_token(st, dir, buf, len, &hdr))
            return ldap_giveup(ctx);
        if (sb->sealed)
            ldap_tally(ctx, &st->sealed, len);
        st->lost[dir] = false;
        tl_cur_skip(&c, hdr);
        *in = c;
        return TL_PARSE_OK;
    }
    if (sb->sealed || (sb->lead == 0 && sb->plain == 0)) { /* sealed, or the trailing checksum */
        take = n < sb->left ? n : sb->left;
    } else if (sb->lead) {
        take = n < sb->lead ? n : sb->lead;
        sb->lead -= (uint32_t)take;
    } else {
        /* RFC 1964 padding is read from the last byte: the last 8 wait for the buffer's end */
        size_t avail = n < sb->plain ? n : sb->plain;
        bool last = avail == sb->plain;
        if (!last && sb->pad)
            avail = sb->plain <= 8 ? 0 : avail < sb->plain - 8 ? avail : sb->plain - 8;
        struct tl_cursor c = *in, p;
        tl_cur_sub(&c, avail, &p);
        take = avail ? ldap_sasl_plain(ctx, sb, p, last) : 0;
        if (take == 0)
            return TL_PARSE_MORE;
        sb->plain -= (uint32_t)take;
    }
    tl_cur_skip(in, take);
    sb->left -= (uint32_t)take;
    return TL_PARSE_OK;
}

/* TLS records after StartTLS (RFC 8446 5.1): counted, never parsed. */
static enum tl_parse ldap_tls(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct ldap_state *st = ctx->state;
    struct tl_cursor c = *in;
    uint8_t type = tl_cur_u8(&c), major = tl_cur_u8(&c);
    tl_cur_u8(&c);
    uint16_t len = tl_cur_be16(&c);
    if (!tl_cur_ok(&c))
        return ctx->transport == TL_TCP ? TL_PARSE_MORE : TL_PARSE_OK;
    if (type < 20 || type > 24 || major != 3) {
        /* not a record boundary: count the rest as bytes and stop */
        st->tls_tally.bytes += tl_cur_left(in);
        tl_cur_skip(in, tl_cur_left(in));
        return ldap_giveup(ctx);
    }
    if (!tl_cur_skip(&c, len))
        return ctx->transport == TL_TCP ? TL_PARSE_MORE : TL_PARSE_OK;
    ldap_tally(ctx, &st->tls_tally, (size_t)len + 5);
    *in = c;
    return TL_PARSE_OK;
}

static enum tl_parse ldap_parse(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct ldap_state *st = ctx->state;
    unsigned dir = ctx->dir & 1;
    bool tcp = ctx->transport == TL_TCP;
    bool was_lost = tcp && st->lost[dir];

    if (st->conn.tls)
        return ldap_tls(ctx, in);
    if (tcp && st->skip[dir]) { /* the rest of a search entry too long to wait for */
        size_t k = st->skip[dir] < tl_cur_left(in) ? st->skip[dir] : tl_cur_left(in);
        tl_cur_skip(in, k);
        st->skip[dir] -= (uint32_t)k;
        return TL_PARSE_OK;
    }
    uint8_t first;
    if (!tl_cur_peek(in, 0, &first))
        return TL_PARSE_MORE;
    if (tcp && (st->sasl[dir].left > 0 || (first != 0x30 && st->conn.sasl_layer)))
        return ldap_sasl(ctx, in);

    /* UDP: every message of the datagram; TCP: one message. */
    do {
        bool bad;
        size_t len = ldap_msg_len(in, &bad);
        struct tl_cursor c = *in, msg;
        if (bad)
            goto giveup;
        if (len == 0 || !tl_cur_sub(&c, len, &msg)) {
            if (!tcp)
                goto udp_cut;
            /* A large search entry is counted from its header rather than waited for. */
            if (st->conn.seen && !was_lost && ldap_skip_entry(ctx, in, ENC_NONE, &st->skip[dir])) {
                tl_cur_skip(in, tl_cur_left(in));
                return TL_PARSE_OK;
            }
            if (len > LDAP_MAX_MESSAGE)
                goto giveup;
            return TL_PARSE_MORE;
        }
        if (!ldap_message(ctx, msg, ENC_NONE)) {
            if (!st->conn.seen || was_lost)
                goto giveup;
            ctx->counters[TL_DC_MALFORMED]++; /* framed, but not a message: skip it */
            ldap_mark(st, dir, TL_UNANS_UNPARSEABLE);
        }
        st->lost[dir] = false;
        was_lost = false;
        *in = c;
    } while (!tcp && tl_cur_left(in) > 0);
    return TL_PARSE_OK;

udp_cut:
    /* The datagram ends inside a message: cut by the capture, or malformed. */
    if (!st->conn.seen)
        return TL_PARSE_GIVEUP;
    ctx->counters[ctx->capture_cut ? TL_DC_TRUNCATED : TL_DC_MALFORMED]++;
    tl_cur_skip(in, tl_cur_left(in));
    return TL_PARSE_OK;

giveup:
    if (st->conn.seen)
        ctx->counters[TL_DC_MALFORMED]++;
    return ldap_giveup(ctx);
}

/*
 * n bytes of this direction were lost. Inside a search entry being passed
 * over, or a sealed SASL buffer, the stream is still in step; elsewhere the
 * next bytes must be a message boundary or the flow is given up, and the
 * requests waiting for a response from this direction may have lost it.
 */
static void ldap_gap(struct tl_parse_ctx *ctx, uint64_t n)
{
    struct ldap_state *st = ctx->state;
    unsigned dir = ctx->dir & 1;
    struct ldap_sasl *sb = &st->sasl[dir];
    if (st->skip[dir] >= n) {
        st->skip[dir] -= (uint32_t)n;
        return;
    }
    if (sb->left >= n && (sb->sealed || (sb->lead == 0 && sb->plain >= n && sb->skip >= n))) {
        sb->left -= (uint32_t)n;
        if (!sb->sealed) {
            sb->plain -= (uint32_t)n;
            sb->skip -= (uint32_t)n;
        }
        return;
    }
    st->skip[dir] = 0;
    memset(sb, 0, offsetof(struct ldap_sasl, carry)); /* its join buffer is kept for the next */
    st->lost[dir] = true;
    ldap_mark(st, dir, TL_UNANS_GAP);
}

static void ldap_emit_tally(struct tl_parse_ctx *ctx, struct ldap_tally *t, const char *op,
                            enum ldap_enc enc)
{
    struct ldap_rec r = { 0 };
    r.operation = op;
    r.encryption = ldap_enc_names[enc];
    r.sealed_buffers = t->buffers;
    r.sealed_bytes = t->bytes;
    ctx->emit(ctx, &r, t->ts);
    memset(t, 0, sizeof(*t));
}

static void ldap_state_free(struct tl_parse_ctx *ctx)
{
    struct ldap_state *st = ctx->state;
    for (int dir = 0; dir < 2; dir++)
        if (st->sasl[dir].carry)
            ctx->resize(ctx, st->sasl[dir].carry, LDAP_SASL_CARRY, 0);
    if (st->pending)
        tl_state_shrink(ctx, st->pending, st->pending == st->pending_inline,
                        st->npending * sizeof(*st->pending));
}

/*
 * Between messages - no request waits, no tally waits to be written, both
 * directions at a message's (and a SASL buffer's) first byte, no gap to
 * recover from (under TLS a gap does not matter) - the state is a fresh one
 * but for what holds for the whole connection (struct ldap_conn): a
 * long-lived LDAP session (a server's, a client's to its domain controller)
 * costs its L7 header between operations, not a whole ldap_state. A sealed or
 * TLS session rests once its tally was written (pending_timeout after it
 * began).
 */
static bool ldap_rest(const void *state, uint8_t kept[TL_REST_BYTES])
{
    const struct ldap_state *st = state;
    if (st->sealed.buffers || st->sealed.bytes || st->tls_tally.buffers || st->tls_tally.bytes)
        return false;
    for (size_t i = 0; i < st->npending; i++)
        if (st->pending[i].used)
            return false;
    for (int dir = 0; dir < 2; dir++) {
        const struct ldap_sasl *sb = &st->sasl[dir];
        /* after StartTLS a gap leaves lost set, but TLS records are found without it */
        if ((st->lost[dir] && !st->conn.tls) || st->skip[dir] || sb->left || sb->skip ||
            sb->carry_len)
            return false;
    }
    memcpy(kept, &st->conn, sizeof(st->conn));
    return true;
}

static void ldap_resume(void *state, const uint8_t kept[TL_REST_BYTES])
{
    struct ldap_state *st = state;
    memcpy(&st->conn, kept, sizeof(st->conn));
}

static uint64_t ldap_flush(struct tl_parse_ctx *ctx, uint64_t now_us)
{
    struct ldap_state *st = ctx->state;
    uint64_t timeout = ctx->limits->pending_timeout, due = UINT64_MAX;
    bool all = now_us == UINT64_MAX;
    for (size_t i = 0; i < st->npending; i++) {
        struct ldap_pending *p = &st->pending[i];
        if (p->used && (all || (now_us > p->ts && now_us - p->ts >= timeout)))
            ldap_emit(ctx, p, NULL, 0, all ? TL_UNANS_FLOW_END : TL_UNANS_TIMEOUT);
        else if (p->used)
            due = tl_due_min(due, tl_pending_due(p->ts, timeout));
    }
    if (st->sealed.buffers &&
        (all || (now_us > st->sealed.ts && now_us - st->sealed.ts >= timeout)))
        ldap_emit_tally(ctx, &st->sealed, "sasl-sealed", ENC_SEALED);
    else if (st->sealed.buffers)
        due = tl_due_min(due, tl_pending_due(st->sealed.ts, timeout));
    if ((st->tls_tally.buffers || st->tls_tally.bytes) &&
        (all || (now_us > st->tls_tally.ts && now_us - st->tls_tally.ts >= timeout)))
        ldap_emit_tally(ctx, &st->tls_tally, "tls", ENC_TLS);
    else if (st->tls_tally.buffers || st->tls_tally.bytes)
        due = tl_due_min(due, tl_pending_due(st->tls_tally.ts, timeout));
    return due;
}

const struct tl_event_type tl_ldap_event = {
    .name = "ldap",
    .doc = "one LDAP/CLDAP operation: request and response(s), or a tally of encrypted bytes",
    .fields = ldap_fields,
    .nfields = TL_ARRAY_LEN(ldap_fields),
};

/* A successful simple bind with a name: that name works from the originator's address. */
static bool ldap_identity(const void *record, struct tl_identity_obs *o)
{
    const struct ldap_rec *r = record;

    if (!r->operation || strcmp(r->operation, "bind") != 0 || !r->auth_type ||
        strcmp(r->auth_type, "simple") != 0 || !r->has_result || r->result_code != 0 ||
        !r->bind_name.len)
        return false;
    memset(o, 0, sizeof(*o));
    o->ts_us = r->ids.ts;
    o->addr = r->ids.orig_h;
    tl_identity_copy(o->user, TL_ID_NAME, r->bind_name);
    o->source = TL_ID_LDAP;
    return true;
}

const struct tl_dissector tl_ldap_dissector = {
    .name = "ldap",
    .doc = "LDAP over TCP, CLDAP over UDP (RFC 4511)",
    .transports = TL_TCP | TL_UDP,
    .ports = { 389, 3268 },
    .state_size = sizeof(struct ldap_state),
    .state_free = ldap_state_free,
    .record_size = sizeof(struct ldap_rec),
    .parse = ldap_parse,
    .gap = ldap_gap,
    .flush = ldap_flush,
    .rest = ldap_rest,
    .resume = ldap_resume,
    .event = &tl_ldap_event,
    .identity = ldap_identity,
};
