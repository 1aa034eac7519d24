/*
 * kerberos.c - Kerberos V5 KDC exchanges over UDP and TCP port 88 (RFC 4120)
 * -> one `kerberos` record per exchange.
 *
 * Messages: AS-REQ [APPLICATION 10], AS-REP [11], TGS-REQ [12], TGS-REP [13],
 * KRB-ERROR [30]; the AP-REQ [14] inside PA-TGS-REQ (padata type 1) is read
 * for the ticket the client presents. UDP carries one message per datagram;
 * TCP prefixes each with a 4-byte record marker whose high bit is reserved
 * (RFC 4120 7.2.2). A request waits in per-flow state (at most
 * KRB_MAX_PENDING, and limits->max_pending) for its reply or KRB-ERROR. The
 * nonce that would pair them is inside the encrypted part of a reply, so
 * replies pair with the oldest pending request of their kind (any kind for a
 * KRB-ERROR).
 *
 * Every request and every reply read is written, and `reply_status` says why
 * one was written without the other: a request unanswered after
 * limits->pending_timeout or when its flow ends, one whose reply was cut (a
 * partial record is read when nothing follows it: ctx->capture_cut), lost in a
 * gap or unreadable, one pushed out by the pending cap, a reply with no
 * request. After a gap, or bytes that are no record, a TCP direction resyncs
 * to the next plausible record marker (a length whose first element, a KDC
 * message tag, has that length) instead of giving the flow up; only a flow
 * whose first bytes are not Kerberos is given up.
 *
 * Zeek's kerberos.log columns are written as Zeek writes them beside
 * tapline's own: `cipher` (the issued ticket's etype by Zeek's name, beside
 * ticket_etype), `error_msg` (the e-text when sent, else the error's name,
 * beside error_name and error_text), `forwardable` and `renewable` (the
 * request's KDC options, beside kdc_option_names).
 *
 * Only what is in the clear is logged: from/till/rtime are the times the
 * client *requested*; the issued ticket's flags and times are encrypted.
 * Requests copy their strings, cut to fixed caps, into the flow state.
 */
#include <stdio.h>

#include "ber.h"
#include "cursor.h"
#include "dissect.h"
#include "flow.h"
#include "hash.h"

enum {
    KRB_MAX_PENDING = 4,      /* requests awaiting a reply per flow */
    KRB_PENDING_INLINE = 1,   /* of them, kept in the state (one exchange); more grow it */
    KRB_NAME_CAP = 256,       /* a principal name, components joined with '/' */
    KRB_REALM_CAP = 128,      /* a realm */
    KRB_MAX_ETYPES = 16,      /* offered etypes kept per request */
    KRB_MAX_PA = 12,          /* padata types kept per request */
    KRB_MAX_ADDRS = 4,        /* HostAddresses kept per request */
    KRB_ADDR_CAP = 48,        /* one address as text */
    KRB_MAX_RECORD = 1 << 20, /* TCP: a longer record marker is not Kerberos */
};

/* Application tags (RFC 4120 5.10). */
enum {
    KRB_AS_REQ = 10,
    KRB_AS_REP = 11,
    KRB_TGS_REQ = 12,
    KRB_TGS_REP = 13,
    KRB_AP_REQ = 14,
    KRB_ERROR = 30,
};

/* The request side of an exchange, copied into the flow state while it waits. */
struct krb_req {
    uint64_t ts;
    uint8_t msg;    /* KRB_AS_REQ or KRB_TGS_REQ */
    uint8_t status; /* enum tl_msg_status */
    bool preauth, has_name_type, has_tgs_etype;
    bool skipped; /* the reply direction carried unreadable bytes while it waited */
    uint8_t netypes, npa, naddrs;
    int32_t name_type, tgs_etype;
    uint32_t kdc_options, nonce;
    uint64_t from, till, rtime;
    int32_t etypes[KRB_MAX_ETYPES];
    int32_t pa[KRB_MAX_PA];
    char client[KRB_NAME_CAP], realm[KRB_REALM_CAP], service[KRB_NAME_CAP];
    char tgs_realm[KRB_REALM_CAP], tgs_service[KRB_NAME_CAP];
    char addrs[KRB_MAX_ADDRS][KRB_ADDR_CAP];
};

/* The reply side: views into the packet, except the joined names. */
struct krb_rep {
    uint64_t ts;
    uint8_t msg; /* KRB_AS_REP, KRB_TGS_REP or KRB_ERROR */
    uint8_t status;
    bool has_error, has_name_type, has_ticket_etype, has_rep_etype;
    int32_t error_code, name_type, ticket_etype, rep_etype;
    struct tl_str error_text, client_realm, service_realm, ticket_cipher;
    char client[KRB_NAME_CAP], service[KRB_NAME_CAP];
};

struct krb_state {
    uint8_t n;      /* pending[0] is the oldest */
    bool seen;      /* a Kerberos message was read: later garbage is skipped, not given up */
    bool lost[2];   /* TCP: this direction lost its place (gap, garbage): find a record start */
    bool cut_reply; /* TCP: a reply cut short was just written: the gap after it owes nothing */
    uint8_t cap;
    struct krb_req *pending; /* pending_inline, or what it grew into (krb_room) */
    struct krb_req pending_inline[KRB_PENDING_INLINE];
};

struct krb_rec {
    struct tl_flow_ids ids;
    const char *request_type, *reply_type;
    bool success, preauth;
    uint32_t error_code;
    const char *error_name;
    struct tl_str error_text, client, client_name_type, client_realm, service, service_realm;
    uint32_t kdc_options;
    struct tl_strlist kdc_option_names, req_etypes, pa_types, addresses;
    uint64_t from, till, rtime;
    struct tl_str ticket_etype, rep_etype;
    char ticket_md5[2 * TL_MD5_LEN + 1], ticket_sha256[2 * TL_SHA256_LEN + 1];
    struct tl_str tgs_ticket_realm, tgs_ticket_service, tgs_ticket_etype;
    uint8_t status;
    const char *cipher;
    struct tl_str error_msg;
    bool forwardable, renewable, has_request;
    const char *reply_status;
    char cipher_buf[24];
};

static const struct tl_field krb_fields[] = {
    TL_FLOW_ID_FIELDS(struct krb_rec),
    TL_FIELD_OPT(struct krb_rec, request_type, CSTR, "request_type",
                 "AS or TGS (absent for a KRB-ERROR seen without its request)"),
    TL_FIELD_OPT(struct krb_rec, reply_type, CSTR, "reply_type",
                 "AS-REP, TGS-REP or KRB-ERROR; absent when no reply was seen"),
    TL_FIELD(struct krb_rec, success, BOOL, "success", "the KDC answered with AS-REP or TGS-REP"),
    TL_FIELD_OPT(struct krb_rec, error_code, U32, "error_code", "KRB-ERROR error-code"),
    TL_FIELD_OPT(struct krb_rec, error_name, CSTR, "error_name",
                 "error-code name (RFC 4120 7.5.9), e.g. KDC_ERR_PREAUTH_REQUIRED"),
    TL_FIELD_OPT(struct krb_rec, error_text, STR, "error_text", "KRB-ERROR e-text"),
    TL_FIELD_OPT(struct krb_rec, error_msg, STR, "error_msg",
                 "Zeek's: the KRB-ERROR e-text when sent, else error_name"),
    TL_FIELD_OPT_P(struct krb_rec, client, STR, "client",
                   "client principal name (cname components joined with '/'); TGS: from the reply"),
    TL_FIELD_OPT(struct krb_rec, client_name_type, STR, "client_name_type",
                 "cname name-type, e.g. NT-PRINCIPAL, NT-ENTERPRISE"),
    TL_FIELD_OPT(struct krb_rec, client_realm, STR, "client_realm", "client realm"),
    TL_FIELD_OPT_P(struct krb_rec, service, STR, "service",
                   "requested service principal (sname components joined with '/')"),
    TL_FIELD_OPT(struct krb_rec, service_realm, STR, "service_realm", "realm of the service"),
    TL_FIELD_OPT(struct krb_rec, kdc_options, HEX32, "kdc_options",
                 "requested KDC options as Windows shows Ticket Options (bit 0 = 0x80000000)"),
    TL_FIELD_OPT(struct krb_rec, kdc_option_names, STRLIST, "kdc_option_names",
                 "requested KDC options by name (RFC 4120 5.4.1, RFC 6806 canonicalize)"),
    TL_FIELD_IF(struct krb_rec, forwardable, BOOL, has_request, "forwardable",
                "Zeek's: the request asked for a forwardable ticket"),
    TL_FIELD_IF(struct krb_rec, renewable, BOOL, has_request, "renewable",
                "Zeek's: the request asked for a renewable ticket"),
    TL_FIELD_OPT(struct krb_rec, from, TS, "from", "requested start time of the ticket"),
    TL_FIELD_OPT(struct krb_rec, till, TS, "till", "requested expiration time of the ticket"),
    TL_FIELD_OPT(struct krb_rec, rtime, TS, "rtime", "requested renew-till time of the ticket"),
    TL_FIELD_OPT(struct krb_rec, req_etypes, STRLIST, "req_etypes",
                 "encryption types the client offered, in its order, as name(number)"),
    TL_FIELD_OPT(struct krb_rec, ticket_etype, STR, "ticket_etype",
                 "etype of the issued ticket's enc-part (what a cracker attacks), as name(number)"),
    TL_FIELD_OPT(struct krb_rec, cipher, CSTR, "cipher",
                 "Zeek's: etype of the issued ticket by Zeek's name (rc4-hmac, "
                 "aes256-cts-hmac-sha1-96...; unknown-N)"),
    TL_FIELD_OPT(struct krb_rec, rep_etype, STR, "rep_etype",
                 "etype of the reply's enc-part (the client's key), as name(number)"),
    TL_FIELD_OPT(struct krb_rec, pa_types, STRLIST, "pa_types",
                 "pre-authentication data types in the request (unknown ones as numbers)"),
    TL_FIELD(struct krb_rec, preauth, BOOL, "preauth",
             "the request carried encrypted-timestamp or PKINIT pre-authentication"),
    TL_FIELD_OPT(struct krb_rec, ticket_md5, CHARS, "ticket_md5",
                 "MD5 of the issued ticket's cipher bytes"),
    TL_FIELD_OPT(struct krb_rec, ticket_sha256, CHARS, "ticket_sha256",
                 "SHA-256 of the issued ticket's cipher bytes"),
    TL_FIELD_OPT_P(struct krb_rec, addresses, STRLIST, "addresses",
                   "HostAddresses in the request (IPv4, IPv6, NetBIOS name, else type:hex)"),
    TL_FIELD_OPT(struct krb_rec, tgs_ticket_realm, STR, "tgs_ticket_realm",
                 "TGS-REQ: realm of the ticket presented in PA-TGS-REQ"),
    TL_FIELD_OPT(struct krb_rec, tgs_ticket_service, STR, "tgs_ticket_service",
                 "TGS-REQ: service of the ticket presented in PA-TGS-REQ (usually krbtgt/REALM)"),
    TL_FIELD_OPT(struct krb_rec, tgs_ticket_etype, STR, "tgs_ticket_etype",
                 "TGS-REQ: etype of the ticket presented in PA-TGS-REQ, as name(number)"),
    TL_FIELD(struct krb_rec, status, STATUS, "status", "ok, truncated or malformed"),
    TL_FIELD_OPT(struct krb_rec, reply_status, CSTR, "reply_status",
                 "why the exchange is incomplete (absent when it is not): no_reply (none within "
                 "dissect.pending_timeout, or before a UDP flow ended), flow_ended (the TCP "
                 "connection ended first), reply_cut (the reply's end was lost: status truncated), "
                 "reply_gap (bytes of the reply direction were lost), reply_unparseable (what came "
                 "back was no Kerberos message), pending_capped (dissect.max_pending requests "
                 "waited), no_request (a reply or KRB-ERROR whose request was not seen)"),
};

const struct tl_event_type tl_kerberos_event = {
    .name = "kerberos",
    .doc = "one Kerberos KDC exchange: AS or TGS request with its reply or error",
    .fields = krb_fields,
    .nfields = TL_ARRAY_LEN(krb_fields),
};

/* ---- names ---- */

struct krb_name {
    int32_t v;
    const char *name;
};

static const char *krb_lookup(const struct krb_name *t, size_t n, int32_t v)
{
    for (size_t i = 0; i < n; i++)
        if (t[i].v == v)
            return t[i].name;
    return NULL;
}

/* RFC 4120 7.5.9, RFC 4556 (PKINIT), RFC 6113 (FAST), RFC 6806. */
static const struct krb_name krb_errors[] = {
    { 0, "KDC_ERR_NONE" },
    { 1, "KDC_ERR_NAME_EXP" },
    { 2, "KDC_ERR_SERVICE_EXP" },
    { 3, "KDC_ERR_BAD_PVNO" },
    { 4, "KDC_ERR_C_OLD_MAST_KVNO" },
    { 5, "KDC_ERR_S_OLD_MAST_KVNO" },
    { 6, "KDC_ERR_C_PRINCIPAL_UNKNOWN" },
    { 7, "KDC_ERR_S_PRINCIPAL_UNKNOWN" },
    { 8, "KDC_ERR_PRINCIPAL_NOT_UNIQUE" },
    { 9, "KDC_ERR_NULL_KEY" },
    { 10, "KDC_ERR_CANNOT_POSTDATE" },
    { 11, "KDC_ERR_NEVER_VALID" },
    { 12, "KDC_ERR_POLICY" },
    { 13, "KDC_ERR_BADOPTION" },
    { 14, "KDC_ERR_ETYPE_NOSUPP" },
    { 15, "KDC_ERR_SUMTYPE_NOSUPP" },
    { 16, "KDC_ERR_PADATA_TYPE_NOSUPP" },
    { 17, "KDC_ERR_TRTYPE_NOSUPP" },
    { 18, "KDC_ERR_CLIENT_REVOKED" },
    { 19, "KDC_ERR_SERVICE_REVOKED" },
    { 20, "KDC_ERR_TGT_REVOKED" },
    { 21, "KDC_ERR_CLIENT_NOTYET" },
    { 22, "KDC_ERR_SERVICE_NOTYET" },
    { 23, "KDC_ERR_KEY_EXPIRED" },
    { 24, "KDC_ERR_PREAUTH_FAILED" },
    { 25, "KDC_ERR_PREAUTH_REQUIRED" },
    { 26, "KDC_ERR_SERVER_NOMATCH" },
    { 27, "KDC_ERR_MUST_USE_USER2USER" },
    { 28, "KDC_ERR_PATH_NOT_ACCEPTED" },
    { 29, "KDC_ERR_SVC_UNAVAILABLE" },
    { 31, "KRB_AP_ERR_BAD_INTEGRITY" },
    { 32, "KRB_AP_ERR_TKT_EXPIRED" },
    { 33, "KRB_AP_ERR_TKT_NYV" },
    { 34, "KRB_AP_ERR_REPEAT" },
    { 35, "KRB_AP_ERR_NOT_US" },
    { 36, "KRB_AP_ERR_BADMATCH" },
    { 37, "KRB_AP_ERR_SKEW" },
    { 38, "KRB_AP_ERR_BADADDR" },
    { 39, "KRB_AP_ERR_BADVERSION" },
    { 40, "KRB_AP_ERR_MSG_TYPE" },
    { 41, "KRB_AP_ERR_MODIFIED" },
    { 42, "KRB_AP_ERR_BADORDER" },
    { 44, "KRB_AP_ERR_BADKEYVER" },
    { 45, "KRB_AP_ERR_NOKEY" },
    { 46, "KRB_AP_ERR_MUT_FAIL" },
    { 47, "KRB_AP_ERR_BADDIRECTION" },
    { 48, "KRB_AP_ERR_METHOD" },
    { 49, "KRB_AP_ERR_BADSEQ" },
    { 50, "KRB_AP_ERR_INAPP_CKSUM" },
    { 51, "KRB_AP_PATH_NOT_ACCEPTED" },
    { 52, "KRB_ERR_RESPONSE_TOO_BIG" },
    { 60, "KRB_ERR_GENERIC" },
    { 61, "KRB_ERR_FIELD_TOOLONG" },
    { 62, "KDC_ERROR_CLIENT_NOT_TRUSTED" },
    { 63, "KDC_ERROR_KDC_NOT_TRUSTED" },
    { 64, "KDC_ERROR_INVALID_SIG" },
    { 65, "KDC_ERR_KEY_TOO_WEAK" },
    { 66, "KDC_ERR_CERTIFICATE_MISMATCH" },
    { 67, "KRB_AP_ERR_NO_TGT" },
    { 68, "KDC_ERR_WRONG_REALM" },
    { 69, "KRB_AP_ERR_USER_TO_USER_REQUIRED" },
    { 70, "KDC_ERR_CANT_VERIFY_CERTIFICATE" },
    { 71, "KDC_ERR_INVALID_CERTIFICATE" },
    { 72, "KDC_ERR_REVOKED_CERTIFICATE" },
    { 73, "KDC_ERR_REVOCATION_STATUS_UNKNOWN" },
    { 74, "KDC_ERR_REVOCATION_STATUS_UNAVAILABLE" },
    { 75, "KDC_ERR_CLIENT_NAME_MISMATCH" },
    { 76, "KDC_ERR_KDC_NAME_MISMATCH" },
    { 77, "KDC_ERR_INCONSISTENT_KEY_PURPOSE" },
    { 78, "KDC_ERR_DIGEST_IN_CERT_NOT_ACCEPTED" },
    { 79, "KDC_ERR_PA_CHECKSUM_MUST_BE_INCLUDED" },
    { 80, "KDC_ERR_DIGEST_IN_SIGNED_DATA_NOT_ACCEPTED" },
    { 81, "KDC_ERR_PUBLIC_KEY_ENCRYPTION_NOT_SUPPORTED" },
    { 90, "KDC_ERR_PREAUTH_EXPIRED" },
    { 91, "KDC_ERR_MORE_PREAUTH_DATA_REQUIRED" },
    { 92, "KDC_ERR_PREAUTH_BAD_AUTHENTICATION_SET" },
    { 93, "KDC_ERR_UNKNOWN_CRITICAL_FAST_OPTIONS" },
};

/*
 * Etypes (RFC 3961, 3962, 4757, 8009) by MIT's name, and by the name Zeek's
 * kerberos.log writes in `cipher` (base/protocols/krb/consts.zeek) where it
 * differs: 7 and 16, the CMS algorithm ids 9-15 that RFC 4556 lets appear as
 * etypes, and 65. A NULL name: none on that side ("unknown").
 */
struct krb_etype {
    int32_t v;
    const char *name, *zeek;
};

static const struct krb_etype krb_etypes[] = {
    { 1, "des-cbc-crc", NULL },
    { 2, "des-cbc-md4", NULL },
    { 3, "des-cbc-md5", NULL },
    { 5, "des3-cbc-md5", NULL },
    { 7, "old-des3-cbc-sha1", "des3-cbc-sha1" },
    { 9, NULL, "dsaWithSHA1-CmsOID" },
    { 10, NULL, "md5WithRSAEncryption-CmsOID" },
    { 11, NULL, "sha1WithRSAEncryption-CmsOID" },
    { 12, NULL, "rc2CBC-EnvOID" },
    { 13, NULL, "rsaEncryption-EnvOID" },
    { 14, NULL, "rsaES-OAEP-ENV-OID" },
    { 15, NULL, "des-ede3-cbc-Env-OID" },
    { 16, "des3-cbc-sha1", "des3-cbc-sha1-kd" },
    { 17, "aes128-cts-hmac-sha1-96", NULL },
    { 18, "aes256-cts-hmac-sha1-96", NULL },
    { 19, "aes128-cts-hmac-sha256-128", NULL },
    { 20, "aes256-cts-hmac-sha384-192", NULL },
    { 23, "rc4-hmac", NULL },
    { 24, "rc4-hmac-exp", NULL },
    { 25, "camellia128-cts-cmac", NULL },
    { 26, "camellia256-cts-cmac", NULL },
    { 65, NULL, "subkey-keymaterial" },
    { -128, "rc4-md4", "" },
    { -133, "rc4-hmac-old", "" },
    { -135, "rc4-hmac-old-exp", "" },
};

/* The etype's MIT name (zeek: Zeek's), or NULL. */
static const char *krb_etype_name(int32_t v, bool zeek)
{
    for (size_t i = 0; i < TL_ARRAY_LEN(krb_etypes); i++) {
        const struct krb_etype *e = &krb_etypes[i];
        if (e->v != v)
            continue;
        const char *name = zeek && e->zeek ? e->zeek : e->name;
        return name && name[0] ? name : NULL;
    }
    return NULL;
}

/* IANA Kerberos pre-authentication and typed data. */
static const struct krb_name krb_pa_types[] = {
    { 1, "PA-TGS-REQ" },
    { 2, "PA-ENC-TIMESTAMP" },
    { 3, "PA-PW-SALT" },
    { 5, "PA-ENC-UNIX-TIME" },
    { 6, "PA-SANDIA-SECUREID" },
    { 7, "PA-SESAME" },
    { 8, "PA-OSF-DCE" },
    { 9, "PA-CYBERSAFE-SECUREID" },
    { 10, "PA-AFS3-SALT" },
    { 11, "PA-ETYPE-INFO" },
    { 12, "PA-SAM-CHALLENGE" },
    { 13, "PA-SAM-RESPONSE" },
    { 14, "PA-PK-AS-REQ-OLD" },
    { 15, "PA-PK-AS-REP-OLD" },
    { 16, "PA-PK-AS-REQ" },
    { 17, "PA-PK-AS-REP" },
    { 19, "PA-ETYPE-INFO2" },
    { 20, "PA-SVR-REFERRAL-INFO" },
    { 21, "PA-SAM-REDIRECT" },
    { 22, "PA-GET-FROM-TYPED-DATA" },
    { 25, "PA-SAM-ETYPE-INFO" },
    { 128, "PA-PAC-REQUEST" },
    { 129, "PA-FOR-USER" },
    { 130, "PA-FOR-X509-USER" },
    { 131, "PA-FOR-CHECK-DUPS" },
    { 132, "PA-AS-CHECKSUM" },
    { 133, "PA-FX-COOKIE" },
    { 134, "PA-AUTHENTICATION-SET" },
    { 135, "PA-AUTH-SET-SELECTED" },
    { 136, "PA-FX-FAST" },
    { 137, "PA-FX-ERROR" },
    { 138, "PA-ENCRYPTED-CHALLENGE" },
    { 141, "PA-OTP-CHALLENGE" },
    { 142, "PA-OTP-REQUEST" },
    { 144, "PA-OTP-PIN-CHANGE" },
    { 147, "PA-PKINIT-KX" },
    { 149, "PA-REQ-ENC-PA-REP" },
    { 150, "PA-AS-FRESHNESS" },
    { 151, "PA-SPAKE" },
    { 161, "KERB-KEY-LIST-REQ" },
    { 162, "KERB-KEY-LIST-REP" },
    { 165, "PA-SUPPORTED-ETYPES" },
    { 167, "PA-PAC-OPTIONS" },
};

/* RFC 4120 6.2, MS-KILE 2.2.1 (negative values). */
static const struct krb_name krb_name_types[] = {
    { 0, "NT-UNKNOWN" },
    { 1, "NT-PRINCIPAL" },
    { 2, "NT-SRV-INST" },
    { 3, "NT-SRV-HST" },
    { 4, "NT-SRV-XHST" },
    { 5, "NT-UID" },
    { 6, "NT-X500-PRINCIPAL" },
    { 7, "NT-SMTP-NAME" },
    { 10, "NT-ENTERPRISE" },
    { 11, "NT-WELLKNOWN" },
    { 12, "NT-SRV-HST-DOMAIN" },
    { -128, "NT-MS-PRINCIPAL" },
    { -129, "NT-MS-PRINCIPAL-AND-ID" },
    { -130, "NT-ENT-PRINCIPAL-AND-ID" },
};

/* KDCOptions bit numbers (RFC 4120 5.4.1; 14 from MS-SFU, 15 RFC 6806, 16 RFC 6112). */
static const char *const krb_option_names[32] = {
    [1] = "forwardable",   [2] = "forwarded",          [3] = "proxiable",
    [4] = "proxy",         [5] = "allow-postdate",     [6] = "postdated",
    [8] = "renewable",     [11] = "opt-hardware-auth", [14] = "constrained-delegation",
    [15] = "canonicalize", [16] = "request-anonymous", [26] = "disable-transited-check",
    [27] = "renewable-ok", [28] = "enc-tkt-in-skey",   [30] = "renew",
    [31] = "validate",
};

/* ---- reading ---- */

/* One message being read: the first failure, and whether a cap cut something. */
struct krb_rd {
    enum tl_cur_err err;
    bool capped;
};

static void krb_note(struct krb_rd *r, const struct tl_cursor *c)
{
    if (r->err == TL_CUR_OK)
        r->err = c->err;
}

/* An element of the wrong type or value: the message is malformed. */
static void krb_bad(struct krb_rd *r)
{
    if (r->err == TL_CUR_OK)
        r->err = TL_CUR_BAD;
}

/*
 * The next [n] EXPLICIT field of a SEQUENCE: its tag number in *tag and its
 * one inner element in *v. Other classes are skipped. False at the end of the
 * sequence or on a failure (noted in r). Constructed elements cut by the end
 * of a capture are returned partially (ber_read_cut).
 */
static bool krb_next(struct krb_rd *r, struct tl_cursor *seq, uint32_t *tag, struct ber_tlv *v,
                     unsigned depth)
{
    while (tl_cur_left(seq) > 0) {
        struct ber_tlv f;
        bool got = ber_read_cut(seq, &f, depth);
        krb_note(r, seq);
        if (!got)
            return false;
        if (f.cls != BER_CONTEXT || !f.constructed)
            continue;
        got = ber_read_cut(&f.value, v, depth + 1);
        krb_note(r, &f.value);
        if (!got)
            return false;
        *tag = f.tag;
        return true;
    }
    return false;
}

/* The element v must be a SEQUENCE (OF); *seq is its contents. */
static bool krb_seq(struct krb_rd *r, const struct ber_tlv *v, struct tl_cursor *seq)
{
    if (v->cls != BER_UNIVERSAL || v->tag != BER_SEQUENCE || !v->constructed) {
        krb_bad(r);
        return false;
    }
    *seq = v->value;
    return true;
}

static bool krb_i32(struct krb_rd *r, struct ber_tlv *v, int32_t *out)
{
    int64_t x = 0;
    *out = 0;
    if (v->cls != BER_UNIVERSAL || v->tag != BER_INTEGER || !ber_int(v, &x) || x < INT32_MIN ||
        x > UINT32_MAX) { /* UInt32 fields (nonce) share this reader */
        if (r->err == TL_CUR_OK)
            r->err = TL_CUR_BAD;
        return false;
    }
    *out = x > INT32_MAX ? (int32_t)(x - 0x100000000) : (int32_t)x;
    return true;
}

/* Copies s into buf (cap bytes with the NUL) after *at; notes a cut. */
static void krb_append(struct krb_rd *r, char *buf, size_t cap, size_t *at, const char *s, size_t n)
{
    if (*at >= cap - 1) {
        r->capped = r->capped || n > 0;
        return;
    }
    size_t room = cap - 1 - *at;
    if (n > room) {
        n = room;
        r->capped = true;
    }
    memcpy(buf + *at, s, n);
    *at += n;
    buf[*at] = '\0';
}

static void krb_copy(struct krb_rd *r, char *buf, size_t cap, struct tl_str s)
{
    size_t at = 0;
    buf[0] = '\0';
    krb_append(r, buf, cap, &at, s.ptr, s.len);
}

/* A KerberosString (GeneralString, RFC 4120 5.2.1) or other string type. */
static bool krb_string(struct krb_rd *r, const struct ber_tlv *v, struct tl_str *out)
{
    *out = (struct tl_str){ "", 0 };
    if (v->constructed || v->cls != BER_UNIVERSAL) {
        if (r->err == TL_CUR_OK)
            r->err = TL_CUR_BAD;
        return false;
    }
    *out = ber_str(v);
    return true;
}

/* PrincipalName ::= SEQUENCE { name-type [0] Int32, name-string [1] SEQUENCE OF KerberosString } */
static void krb_principal(struct krb_rd *r, struct ber_tlv *v, char *buf, size_t cap,
                          int32_t *name_type, bool *has_type, unsigned depth)
{
    struct tl_cursor seq;
    struct ber_tlv f;
    uint32_t tag;
    buf[0] = '\0';
    if (!krb_seq(r, v, &seq))
        return;
    while (krb_next(r, &seq, &tag, &f, depth + 1)) {
        if (tag == 0 && name_type) {
            *has_type = krb_i32(r, &f, name_type);
        } else if (tag == 1) {
            struct tl_cursor parts;
            size_t at = 0;
            if (!krb_seq(r, &f, &parts))
                continue;
            for (unsigned i = 0; tl_cur_left(&parts) > 0; i++) {
                struct ber_tlv s;
                struct tl_str str;
                bool got = ber_read(&parts, &s, depth + 3);
                krb_note(r, &parts);
                if (!got || !krb_string(r, &s, &str))
                    break;
                if (i > 0)
                    krb_append(r, buf, cap, &at, "/", 1);
                krb_append(r, buf, cap, &at, str.ptr, str.len);
            }
        }
    }
}

static bool krb_realm(struct krb_rd *r, struct ber_tlv *v, struct tl_str *out)
{
    return krb_string(r, v, out);
}

/* KerberosTime (GeneralizedTime "YYYYMMDDHHMMSSZ", RFC 4120 5.2.3) -> us since 1970, or 0. */
static uint64_t krb_time(const struct ber_tlv *v)
{
    struct tl_str s = ber_str(v);
    unsigned d[14];
    if (s.len < 15 || s.ptr[s.len - 1] != 'Z' || (s.len > 15 && s.ptr[14] != '.'))
        return 0;
    for (unsigned i = 0; i < 14; i++) {
        if (s.ptr[i] < '0' || s.ptr[i] > '9')
            return 0;
        d[i] = (unsigned)(s.ptr[i] - '0');
    }
    unsigned y = d[0] * 1000 + d[1] * 100 + d[2] * 10 + d[3], mo = d[4] * 10 + d[5];
    unsigned day = d[6] * 10 + d[7], h = d[8] * 10 + d[9], mi = d[10] * 10 + d[11];
    unsigned sec = d[12] * 10 + d[13];
    if (y < 1970 || mo < 1 || mo > 12 || day < 1 || day > 31 || h > 23 || mi > 59 || sec > 60)
        return 0;
    /* Days from civil (H. Hinnant), for years >= 1970. */
    unsigned yy = mo <= 2 ? y - 1 : y;
    unsigned era = yy / 400, yoe = yy - era * 400;
    unsigned doy = (153 * (mo > 2 ? mo - 3 : mo + 9) + 2) / 5 + day - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    uint64_t days = (uint64_t)era * 146097 + doe - 719468;
    return ((days * 86400) + h * 3600u + mi * 60u + sec) * 1000000u;
}

/* EncryptedData ::= SEQUENCE { etype [0] Int32, kvno [1] UInt32 OPTIONAL, cipher [2] OCTET STRING }
 */
static void krb_encdata(struct krb_rd *r, struct ber_tlv *v, int32_t *etype, bool *has_etype,
                        struct tl_str *cipher, unsigned depth)
{
    struct tl_cursor seq;
    struct ber_tlv f;
    uint32_t tag;
    if (!krb_seq(r, v, &seq))
        return;
    while (krb_next(r, &seq, &tag, &f, depth + 1)) {
        if (tag == 0)
            *has_etype = krb_i32(r, &f, etype);
        else if (tag == 2 && cipher && !f.constructed)
            *cipher = ber_str(&f);
    }
}

/* What a Ticket shows in the clear. */
struct krb_ticket {
    struct tl_str realm, cipher;
    int32_t etype;
    bool has_etype;
};

/* Ticket ::= [APPLICATION 1] SEQUENCE { tkt-vno [0], realm [1], sname [2], enc-part [3] } */
static void krb_ticket(struct krb_rd *r, struct ber_tlv *v, struct krb_ticket *t, char *sname,
                       size_t cap, unsigned depth)
{
    struct tl_cursor seq;
    struct ber_tlv s, f;
    uint32_t tag;
    if (v->cls != BER_APPLICATION || v->tag != 1) {
        if (r->err == TL_CUR_OK)
            r->err = TL_CUR_BAD;
        return;
    }
    bool got = ber_read_cut(&v->value, &s, depth + 1);
    krb_note(r, &v->value);
    if (!got || !krb_seq(r, &s, &seq))
        return;
    while (krb_next(r, &seq, &tag, &f, depth + 2)) {
        if (tag == 1)
            krb_realm(r, &f, &t->realm);
        else if (tag == 2)
            krb_principal(r, &f, sname, cap, NULL, NULL, depth + 3);
        else if (tag == 3)
            krb_encdata(r, &f, &t->etype, &t->has_etype, &t->cipher, depth + 3);
    }
}

/* AP-REQ ::= [APPLICATION 14] SEQUENCE { ..., ticket [3] Ticket, authenticator [4] } */
static void krb_ap_req(struct krb_rd *r, struct tl_str bytes, struct krb_req *q, unsigned depth)
{
    struct tl_cursor c = tl_cur_make(bytes.ptr, bytes.len), seq;
    struct ber_tlv app, s, f;
    uint32_t tag;
    struct krb_ticket t = { 0 };
    bool got = ber_read_cut(&c, &app, depth);
    krb_note(r, &c);
    if (!got || app.cls != BER_APPLICATION || app.tag != KRB_AP_REQ) {
        if (r->err == TL_CUR_OK)
            r->err = TL_CUR_BAD;
        return;
    }
    got = ber_read_cut(&app.value, &s, depth + 1);
    krb_note(r, &app.value);
    if (!got || !krb_seq(r, &s, &seq))
        return;
    while (krb_next(r, &seq, &tag, &f, depth + 2)) {
        if (tag != 3)
            continue;
        krb_ticket(r, &f, &t, q->tgs_service, sizeof(q->tgs_service), depth + 3);
        krb_copy(r, q->tgs_realm, sizeof(q->tgs_realm), t.realm);
        q->tgs_etype = t.etype;
        q->has_tgs_etype = t.has_etype;
    }
}

/* padata [3] SEQUENCE OF PA-DATA { padata-type [1] Int32, padata-value [2] OCTET STRING } */
static void krb_padata(struct krb_rd *r, struct ber_tlv *v, struct krb_req *q, unsigned depth)
{
    struct tl_cursor list;
    if (!krb_seq(r, v, &list))
        return;
    while (tl_cur_left(&list) > 0) {
        struct ber_tlv pa, f;
        struct tl_cursor seq;
        uint32_t tag;
        int32_t type = 0;
        bool has_type = false;
        struct tl_str value = { "", 0 };
        bool got = ber_read_cut(&list, &pa, depth + 1);
        krb_note(r, &list);
        if (!got || !krb_seq(r, &pa, &seq))
            return;
        while (krb_next(r, &seq, &tag, &f, depth + 2)) {
            if (tag == 1)
                has_type = krb_i32(r, &f, &type);
            else if (tag == 2 && !f.constructed)
                value = ber_str(&f);
        }
        if (!has_type)
            continue;
        if (q->npa < KRB_MAX_PA)
            q->pa[q->npa++] = type;
        else
            r->capped = true;
        if (type == 2 || type == 14 || type == 16) /* encrypted timestamp, PKINIT */
            q->preauth = true;
        if (type == 1 && value.len > 0)
            krb_ap_req(r, value, q, depth + 3);
    }
}

/* HostAddress ::= SEQUENCE { addr-type [0] Int32, address [1] OCTET STRING } as text. */
static void krb_address(struct krb_rd *r, struct ber_tlv *v, char *out, size_t cap, unsigned depth)
{
    struct tl_cursor seq;
    struct ber_tlv f;
    uint32_t tag;
    int32_t type = 0;
    struct tl_str a = { "", 0 };
    out[0] = '\0';
    if (!krb_seq(r, v, &seq))
        return;
    while (krb_next(r, &seq, &tag, &f, depth + 1)) {
        if (tag == 0)
            krb_i32(r, &f, &type);
        else if (tag == 1 && !f.constructed)
            a = ber_str(&f);
    }
    const uint8_t *b = (const uint8_t *)a.ptr;
    if (type == 2 && a.len == 4) { /* IPv4 */
        snprintf(out, cap, "%u.%u.%u.%u", b[0], b[1], b[2], b[3]);
    } else if (type == 24 && a.len == 16) { /* IPv6, uncompressed groups */
        size_t at = 0;
        for (unsigned i = 0; i < 8; i++) {
            char g[8];
            int n =
                snprintf(g, sizeof(g), i ? ":%x" : "%x", (unsigned)b[2 * i] << 8 | b[2 * i + 1]);
            krb_append(r, out, cap, &at, g, n > 0 ? (size_t)n : 0);
        }
    } else if (type == 20) { /* NetBIOS name, space padded */
        size_t n = a.len;
        while (n > 0 && (a.ptr[n - 1] == ' ' || a.ptr[n - 1] == '\0'))
            n--;
        size_t at = 0;
        krb_append(r, out, cap, &at, a.ptr, n);
    } else {
        static const char hex[] = "0123456789abcdef";
        int n = snprintf(out, cap, "%ld:", (long)type);
        size_t at = n > 0 ? (size_t)n : 0;
        for (size_t i = 0; i < a.len; i++) {
            char h[2] = { hex[b[i] >> 4], hex[b[i] & 15] };
            krb_append(r, out, cap, &at, h, 2);
        }
    }
}

/*
 * KDC-REQ-BODY ::= SEQUENCE { kdc-options [0], cname [1], realm [2], sname [3],
 *   from [4], till [5], rtime [6], nonce [7], etype [8], addresses [9], ... }
 */
static void krb_req_body(struct krb_rd *r, struct ber_tlv *v, struct krb_req *q, unsigned depth)
{
    struct tl_cursor seq;
    struct ber_tlv f;
    uint32_t tag;
    struct tl_str realm;
    if (!krb_seq(r, v, &seq))
        return;
    while (krb_next(r, &seq, &tag, &f, depth + 1)) {
        unsigned d = depth + 2;
        switch (tag) {
        case 0:
            if (f.tag != BER_BIT_STRING || !ber_bits32(&f, &q->kdc_options))
                krb_bad(r);
            break;
        case 1:
            krb_principal(r, &f, q->client, sizeof(q->client), &q->name_type, &q->has_name_type, d);
            break;
        case 2:
            if (krb_realm(r, &f, &realm))
                krb_copy(r, q->realm, sizeof(q->realm), realm);
            break;
        case 3: krb_principal(r, &f, q->service, sizeof(q->service), NULL, NULL, d); break;
        case 4: q->from = krb_time(&f); break;
        case 5: q->till = krb_time(&f); break;
        case 6: q->rtime = krb_time(&f); break;
        case 7: {
            int32_t n;
            if (krb_i32(r, &f, &n))
                q->nonce = (uint32_t)n;
            break;
        }
        case 8: {
            struct tl_cursor list;
            if (!krb_seq(r, &f, &list))
                break;
            while (tl_cur_left(&list) > 0) {
                struct ber_tlv e;
                int32_t et;
                bool got = ber_read(&list, &e, d + 1);
                krb_note(r, &list);
                if (!got || !krb_i32(r, &e, &et))
                    break;
                if (q->netypes < KRB_MAX_ETYPES)
                    q->etypes[q->netypes++] = et;
                else
                    r->capped = true;
            }
            break;
        }
        case 9: {
            struct tl_cursor list;
            if (!krb_seq(r, &f, &list))
                break;
            while (tl_cur_left(&list) > 0) {
                struct ber_tlv a;
                bool got = ber_read(&list, &a, d + 1);
                krb_note(r, &list);
                if (!got)
                    break;
                if (q->naddrs < KRB_MAX_ADDRS)
                    krb_address(r, &a, q->addrs[q->naddrs++], KRB_ADDR_CAP, d + 1);
                else
                    r->capped = true;
            }
            break;
        }
        default: break;
        }
    }
}

/* pvno must be 5 and msg-type the application tag (RFC 4120 5.4.1, 5.9.1). */
static void krb_header(struct krb_rd *r, struct ber_tlv *v, bool is_pvno, uint8_t msg)
{
    int32_t x;
    if (krb_i32(r, v, &x) && x != (is_pvno ? 5 : msg))
        krb_bad(r);
}

/* KDC-REQ ::= SEQUENCE { pvno [1], msg-type [2], padata [3] OPTIONAL, req-body [4] } */
static void krb_kdc_req(struct krb_rd *r, struct tl_cursor *seq, struct krb_req *q)
{
    struct ber_tlv f;
    uint32_t tag;
    while (krb_next(r, seq, &tag, &f, 2)) {
        if (tag == 1 || tag == 2)
            krb_header(r, &f, tag == 1, q->msg);
        else if (tag == 3)
            krb_padata(r, &f, q, 3);
        else if (tag == 4)
            krb_req_body(r, &f, q, 3);
    }
}

/* KDC-REP ::= SEQUENCE { pvno [0], msg-type [1], padata [2], crealm [3], cname [4],
 *   ticket [5] Ticket, enc-part [6] EncryptedData } */
static void krb_kdc_rep(struct krb_rd *r, struct tl_cursor *seq, struct krb_rep *p)
{
    struct ber_tlv f;
    uint32_t tag;
    struct krb_ticket t = { 0 };
    while (krb_next(r, seq, &tag, &f, 2)) {
        if (tag == 0 || tag == 1) {
            krb_header(r, &f, tag == 0, p->msg);
        } else if (tag == 3) {
            krb_realm(r, &f, &p->client_realm);
        } else if (tag == 4) {
            krb_principal(r, &f, p->client, sizeof(p->client), &p->name_type, &p->has_name_type, 3);
        } else if (tag == 5) {
            krb_ticket(r, &f, &t, p->service, sizeof(p->service), 3);
            p->service_realm = t.realm;
            p->ticket_etype = t.etype;
            p->has_ticket_etype = t.has_etype;
            p->ticket_cipher = t.cipher;
        } else if (tag == 6) {
            krb_encdata(r, &f, &p->rep_etype, &p->has_rep_etype, NULL, 3);
        }
    }
}

/* KRB-ERROR ::= SEQUENCE { ..., error-code [6], crealm [7], cname [8], realm [9], sname [10],
 *   e-text [11], e-data [12] } */
static void krb_error(struct krb_rd *r, struct tl_cursor *seq, struct krb_rep *p)
{
    struct ber_tlv f;
    uint32_t tag;
    while (krb_next(r, seq, &tag, &f, 2)) {
        if (tag == 0 || tag == 1)
            krb_header(r, &f, tag == 0, p->msg);
        else if (tag == 6)
            p->has_error = krb_i32(r, &f, &p->error_code);
        else if (tag == 7)
            krb_realm(r, &f, &p->client_realm);
        else if (tag == 8)
            krb_principal(r, &f, p->client, sizeof(p->client), &p->name_type, &p->has_name_type, 3);
        else if (tag == 9)
            krb_realm(r, &f, &p->service_realm);
        else if (tag == 10)
            krb_principal(r, &f, p->service, sizeof(p->service), NULL, NULL, 3);
        else if (tag == 11)
            krb_string(r, &f, &p->error_text);
    }
}

/* ---- records ---- */

static void krb_count(struct tl_parse_ctx *ctx, uint8_t status, bool capped)
{
    ctx->counters[TL_DC_MESSAGES]++;
    if (status == TL_MSG_MALFORMED)
        ctx->counters[TL_DC_MALFORMED]++;
    else if (status == TL_MSG_TRUNCATED)
        ctx->counters[TL_DC_TRUNCATED]++;
    if (capped)
        ctx->counters[TL_DC_CAPPED]++;
}

/* "name(number)" in the arena. */
static struct tl_str krb_etype_str(struct tl_arena *a, int32_t v)
{
    char buf[64];
    const char *name = krb_etype_name(v, false);
    int n = snprintf(buf, sizeof(buf), "%s(%ld)", name ? name : "unknown", (long)v);
    return tl_arena_str(a, buf, n > 0 ? (size_t)n : 0);
}

static struct tl_str krb_num_str(struct tl_arena *a, const struct krb_name *t, size_t nt, int32_t v)
{
    char buf[16];
    const char *name = krb_lookup(t, nt, v);
    if (name)
        return (struct tl_str){ name, strlen(name) };
    int n = snprintf(buf, sizeof(buf), "%ld", (long)v);
    return tl_arena_str(a, buf, n > 0 ? (size_t)n : 0);
}

/* Zeek's name for an etype, or "unknown-N" written into buf. */
static const char *krb_zeek_cipher(char *buf, size_t n, int32_t v)
{
    const char *name = krb_etype_name(v, true);
    if (name)
        return name;
    snprintf(buf, n, "unknown-%ld", (long)v);
    return buf;
}

static struct tl_str krb_view(const char *s)
{
    return (struct tl_str){ s, strlen(s) };
}

/* A list of n views in the arena; n = 0 when it does not fit. */
static struct tl_strlist krb_list(struct tl_arena *a, uint32_t n, struct tl_str **v)
{
    struct tl_strlist l = { NULL, 0 };
    *v = n ? tl_arena_alloc(a, n * sizeof(**v)) : NULL;
    if (*v) {
        l.v = *v;
        l.n = n;
    }
    return l;
}

/*
 * Writes one exchange: q and/or p may be NULL (unanswered request, reply alone),
 * why says so; a reply cut short is reply_cut.
 */
static void krb_emit(struct tl_parse_ctx *ctx, const struct krb_req *q, const struct krb_rep *p,
                     const char *why)
{
    struct krb_rec m = { 0 };
    struct tl_arena *a = ctx->arena;
    struct tl_str *v;

    if (q) {
        m.request_type = q->msg == KRB_AS_REQ ? "AS" : "TGS";
        m.client = krb_view(q->client);
        if (q->msg == KRB_AS_REQ) /* AS: the body realm is the client's and the service's */
            m.client_realm = krb_view(q->realm);
        if (q->has_name_type)
            m.client_name_type =
                krb_num_str(a, krb_name_types, TL_ARRAY_LEN(krb_name_types), q->name_type);
        m.service = krb_view(q->service);
        m.service_realm = krb_view(q->realm);
        m.kdc_options = q->kdc_options;
        unsigned nopt = 0;
        for (unsigned i = 0; i < 32; i++)
            nopt += (q->kdc_options >> (31 - i)) & 1u;
        m.kdc_option_names = krb_list(a, nopt, &v);
        for (unsigned i = 0, k = 0; v && i < 32; i++) {
            if (!((q->kdc_options >> (31 - i)) & 1u))
                continue;
            if (krb_option_names[i]) {
                v[k++] = krb_view(krb_option_names[i]);
            } else {
                char buf[8];
                int n = snprintf(buf, sizeof(buf), "bit%u", i);
                v[k++] = tl_arena_str(a, buf, n > 0 ? (size_t)n : 0);
            }
        }
        m.from = q->from;
        m.till = q->till;
        m.rtime = q->rtime;
        m.req_etypes = krb_list(a, q->netypes, &v);
        for (unsigned i = 0; v && i < q->netypes; i++)
            v[i] = krb_etype_str(a, q->etypes[i]);
        m.pa_types = krb_list(a, q->npa, &v);
        for (unsigned i = 0; v && i < q->npa; i++)
            v[i] = krb_num_str(a, krb_pa_types, TL_ARRAY_LEN(krb_pa_types), q->pa[i]);
        m.preauth = q->preauth;
        m.addresses = krb_list(a, q->naddrs, &v);
        for (unsigned i = 0; v && i < q->naddrs; i++)
            v[i] = krb_view(q->addrs[i]);
        m.tgs_ticket_realm = krb_view(q->tgs_realm);
        m.tgs_ticket_service = krb_view(q->tgs_service);
        m.has_request = true;
        m.forwardable = (q->kdc_options >> 30) & 1u; /* bit 1, RFC 4120 5.4.1 */
        m.renewable = (q->kdc_options >> 23) & 1u;   /* bit 8 */
        if (q->has_tgs_etype)
            m.tgs_ticket_etype = krb_etype_str(a, q->tgs_etype);
        m.status = q->status;
    }
    if (p) {
        m.reply_type = p->msg == KRB_AS_REP    ? "AS-REP"
                       : p->msg == KRB_TGS_REP ? "TGS-REP"
                                               : "KRB-ERROR";
        if (!q && p->msg != KRB_ERROR)
            m.request_type = p->msg == KRB_AS_REP ? "AS" : "TGS";
        m.success = p->msg != KRB_ERROR;
        if (p->has_error) {
            m.error_code = (uint32_t)p->error_code;
            m.error_name = krb_lookup(krb_errors, TL_ARRAY_LEN(krb_errors), p->error_code);
        }
        m.error_text = p->error_text;
        if (p->error_text.len)
            m.error_msg = p->error_text; /* Zeek prefers the e-text (krb/main.zeek) */
        else if (m.error_name)
            m.error_msg = krb_view(m.error_name);
        /* The request's names when it had them; the KDC's otherwise (TGS: cname). */
        if (m.client.len == 0 && p->client[0]) {
            m.client = krb_view(p->client);
            if (p->has_name_type)
                m.client_name_type =
                    krb_num_str(a, krb_name_types, TL_ARRAY_LEN(krb_name_types), p->name_type);
        }
        if (m.client_realm.len == 0)
            m.client_realm = p->client_realm;
        if (m.service.len == 0)
            m.service = krb_view(p->service);
        if (m.service_realm.len == 0)
            m.service_realm = p->service_realm;
        if (p->has_ticket_etype) {
            m.ticket_etype = krb_etype_str(a, p->ticket_etype);
            m.cipher = krb_zeek_cipher(m.cipher_buf, sizeof(m.cipher_buf), p->ticket_etype);
        }
        if (p->has_rep_etype)
            m.rep_etype = krb_etype_str(a, p->rep_etype);
        if (p->ticket_cipher.len > 0) {
            uint8_t h[TL_SHA256_LEN];
            struct tl_md5 md5;
            struct tl_sha256 sha;
            tl_md5_init(&md5);
            tl_md5_update(&md5, p->ticket_cipher.ptr, p->ticket_cipher.len);
            tl_md5_final(&md5, h);
            tl_hex(m.ticket_md5, h, TL_MD5_LEN);
            tl_sha256_init(&sha);
            tl_sha256_update(&sha, p->ticket_cipher.ptr, p->ticket_cipher.len);
            tl_sha256_final(&sha, h);
            tl_hex(m.ticket_sha256, h, TL_SHA256_LEN);
        }
        if (p->status > m.status)
            m.status = p->status;
        if (!why && p->status == TL_MSG_TRUNCATED)
            why = "reply_cut";
    }
    m.reply_status = why;
    if (a->failed)
        ctx->counters[TL_DC_CAPPED]++;
    ctx->emit(ctx, &m, q ? q->ts : p->ts);
}

static void krb_drop(struct krb_state *st, unsigned i)
{
    memmove(&st->pending[i], &st->pending[i + 1], (st->n - i - 1) * sizeof(st->pending[0]));
    st->n--;
}

static unsigned krb_cap(const struct tl_parse_ctx *ctx)
{
    return ctx->limits->max_pending < KRB_MAX_PENDING ? ctx->limits->max_pending : KRB_MAX_PENDING;
}

/*
 * Room for one more waiting request: a flow mostly carries one exchange at a
 * time, kept in the state; more grow the list (doubling, up to
 * KRB_MAX_PENDING). False when memory is short.
 */
static bool krb_room(struct tl_parse_ctx *ctx, struct krb_state *st)
{
    if (!st->pending) {
        st->pending = st->pending_inline;
        st->cap = KRB_PENDING_INLINE;
    }
    if (st->n < st->cap)
        return true;
    unsigned cap = 2u * st->cap < KRB_MAX_PENDING ? 2u * st->cap : KRB_MAX_PENDING;
    struct krb_req *p = tl_state_grow(ctx, st->pending, st->pending == st->pending_inline,
                                      st->cap * sizeof(*p), st->n * sizeof(*p), cap * sizeof(*p));
    if (!p)
        return false;
    st->pending = p;
    st->cap = (uint8_t)cap;
    return true;
}

static void krb_state_free(struct tl_parse_ctx *ctx)
{
    struct krb_state *st = ctx->state;
    if (st->pending)
        tl_state_shrink(ctx, st->pending, st->pending == st->pending_inline,
                        st->cap * sizeof(*st->pending));
}

static void krb_request(struct tl_parse_ctx *ctx, const struct krb_req *q)
{
    struct krb_state *st = ctx->state;
    unsigned cap = krb_cap(ctx);
    if (cap == 0) {
        krb_emit(ctx, q, NULL, "pending_capped");
        return;
    }
    if (st->n >= cap || (!krb_room(ctx, st) && st->n)) { /* the oldest is written alone */
        ctx->counters[TL_DC_CAPPED]++;
        krb_emit(ctx, &st->pending[0], NULL, "pending_capped");
        krb_drop(st, 0);
    }
    st->pending[st->n++] = *q;
}

static void krb_reply(struct tl_parse_ctx *ctx, const struct krb_rep *p)
{
    struct krb_state *st = ctx->state;
    uint8_t want = p->msg == KRB_AS_REP ? KRB_AS_REQ : KRB_TGS_REQ;
    for (unsigned i = 0; i < st->n; i++) {
        if (p->msg == KRB_ERROR || st->pending[i].msg == want) {
            krb_emit(ctx, &st->pending[i], p, NULL);
            krb_drop(st, i);
            return;
        }
    }
    krb_emit(ctx, NULL, p, "no_request");
}

/* Why a pending request is written alone at flush time. */
static const char *krb_why_alone(const struct tl_parse_ctx *ctx, const struct krb_req *q,
                                 bool flow_end)
{
    if (q->skipped)
        return "reply_unparseable";
    return flow_end && ctx->transport == TL_TCP ? "flow_ended" : "no_reply";
}

/*
 * The reply direction carried what is no reply: the oldest request is owed
 * nothing readable any more (UDP), or is marked so for when it is written
 * (TCP: a reply may still come after the resync).
 */
static void krb_unreadable(struct tl_parse_ctx *ctx)
{
    struct krb_state *st = ctx->state;
    ctx->counters[TL_DC_MALFORMED]++;
    if (ctx->dir != 1 || st->n == 0)
        return;
    if (ctx->transport == TL_UDP) {
        krb_emit(ctx, &st->pending[0], NULL, "reply_unparseable");
        krb_drop(st, 0);
    } else {
        st->pending[0].skipped = true;
    }
}

static bool krb_is_kerberos(uint8_t id)
{
    switch (id) {
    case 0x60 | KRB_AS_REQ:
    case 0x60 | KRB_AS_REP:
    case 0x60 | KRB_TGS_REQ:
    case 0x60 | KRB_TGS_REP:
    case 0x60 | KRB_AP_REQ:
    case 0x60 | 15: /* AP-REP */
    case 0x60 | 20: /* KRB-SAFE */
    case 0x60 | 21: /* KRB-PRIV */
    case 0x60 | 22: /* KRB-CRED */
    case 0x60 | KRB_ERROR: return true;
    default: return false;
    }
}

/* One message (a datagram or a TCP record); its first octet is a Kerberos tag. */
static void krb_message(struct tl_parse_ctx *ctx, struct tl_cursor msg)
{
    struct krb_rd r = { TL_CUR_OK, false };
    struct ber_tlv app, s;
    struct tl_cursor seq = { 0 };
    uint8_t id;
    tl_cur_peek(&msg, 0, &id);
    bool got = ber_read_cut(&msg, &app, 0);
    krb_note(&r, &msg);
    if (got) {
        got = ber_read_cut(&app.value, &s, 1);
        krb_note(&r, &app.value);
        got = got && krb_seq(&r, &s, &seq);
    }
    if (got && tl_cur_ok(&msg) && tl_cur_left(&msg) > 0 && r.err == TL_CUR_OK)
        r.err = TL_CUR_BAD; /* trailing bytes after the message */

    struct tl_cursor status = { .err = r.err };
    uint8_t tag = (uint8_t)(id & 0x1f);
    ((struct krb_state *)ctx->state)->seen = true;
    if (tag == KRB_AS_REQ || tag == KRB_TGS_REQ) {
        struct krb_req q;
        memset(&q, 0, sizeof(q));
        q.ts = ctx->ts_us;
        q.msg = tag;
        if (got)
            krb_kdc_req(&r, &seq, &q);
        status.err = r.err;
        q.status = (uint8_t)tl_parse_status(ctx, &status);
        krb_count(ctx, q.status, r.capped);
        krb_request(ctx, &q);
    } else if (tag == KRB_AS_REP || tag == KRB_TGS_REP || tag == KRB_ERROR) {
        struct krb_rep p;
        memset(&p, 0, sizeof(p));
        p.ts = ctx->ts_us;
        p.msg = tag;
        if (got && tag == KRB_ERROR)
            krb_error(&r, &seq, &p);
        else if (got)
            krb_kdc_rep(&r, &seq, &p);
        status.err = r.err;
        p.status = (uint8_t)tl_parse_status(ctx, &status);
        krb_count(ctx, p.status, r.capped);
        krb_reply(ctx, &p);
    } else {
        ctx->counters[TL_DC_MESSAGES]++; /* AP, SAFE, PRIV, CRED: not a KDC exchange */
    }
}

/*
 * Does a TCP record start at offset `at` of c: a marker (RFC 4120 7.2.2, high
 * bit clear) whose length is the whole of a KDC message's first element, read
 * from its tag and BER length? 1 yes, -1 no, 0 when too few bytes are there.
 */
static int krb_record_at(const struct tl_cursor *c, size_t at)
{
    static const uint8_t kdc[] = { 0x60 | KRB_AS_REQ, 0x60 | KRB_AS_REP, 0x60 | KRB_TGS_REQ,
                                   0x60 | KRB_TGS_REP, 0x60 | KRB_ERROR };
    struct tl_cursor p = *c;
    if (!tl_cur_skip(&p, at))
        return 0;
    uint32_t len = tl_cur_be32(&p);
    uint8_t tag = tl_cur_u8(&p), first = tl_cur_u8(&p);
    if (!tl_cur_ok(&p))
        return 0;
    if ((len & 0x80000000u) || len < 2 || len > KRB_MAX_RECORD || !memchr(kdc, tag, sizeof(kdc)))
        return -1;
    uint64_t body = first, head = 2;
    if (first & 0x80) {
        unsigned n = first & 0x7f;
        if (n == 0 || n > 4)
            return -1;
        body = 0;
        for (unsigned i = 0; i < n; i++)
            body = body << 8 | tl_cur_u8(&p);
        if (!tl_cur_ok(&p))
            return 0;
        head += n;
    }
    return head + body == len ? 1 : -1;
}

/* TCP, a direction lost its place: skips to the next record start. False: none yet. */
static bool krb_resync(struct tl_cursor *in)
{
    size_t at = 0;
    int hit;
    while ((hit = krb_record_at(in, at)) < 0)
        at++;
    tl_cur_skip(in, at);
    return hit > 0;
}

/*
 * TCP, nothing follows `in` (a gap or the flow's end) and no message can be
 * read from it: dropped. In the reply direction a reply had begun, so the
 * oldest request is written as cut.
 */
static enum tl_parse krb_cut(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct krb_state *st = ctx->state;
    if (ctx->dir == 1 && st->n > 0 && !st->lost[1]) {
        krb_emit(ctx, &st->pending[0], NULL, "reply_cut");
        krb_drop(st, 0);
        st->cut_reply = true;
    }
    tl_cur_skip(in, tl_cur_left(in));
    return TL_PARSE_OK;
}

/* UDP: the datagram; TCP: one record behind its 4-byte marker (RFC 4120 7.2.2). */
static enum tl_parse krb_parse(struct tl_parse_ctx *ctx, struct tl_cursor *in)
{
    struct krb_state *st = ctx->state;
    uint8_t id;
    uint8_t dir = ctx->dir & 1;
    if (ctx->transport == TL_UDP) {
        if (!tl_cur_peek(in, 0, &id) || !krb_is_kerberos(id)) {
            if (!st->seen)
                return TL_PARSE_GIVEUP; /* never was Kerberos */
            krb_unreadable(ctx);
        } else {
            krb_message(ctx, *in);
        }
        tl_cur_skip(in, tl_cur_left(in));
        return TL_PARSE_OK;
    }

    if (st->lost[dir]) {
        size_t before = tl_cur_left(in);
        if (!krb_resync(in)) {
            if (ctx->capture_cut) /* nothing follows: no record can start here */
                return krb_cut(ctx, in);
            return tl_cur_left(in) < before ? TL_PARSE_OK : TL_PARSE_MORE;
        }
        st->lost[dir] = false;
    }
    struct tl_cursor c = *in, rec;
    uint32_t len = tl_cur_be32(&c);
    if (!tl_cur_ok(&c))
        return ctx->capture_cut ? krb_cut(ctx, in) : TL_PARSE_MORE;
    bool bad = (len & 0x80000000u) || len == 0 || len > KRB_MAX_RECORD;
    if (bad || (tl_cur_peek(&c, 0, &id) && !krb_is_kerberos(id))) {
        if (!st->seen)
            return TL_PARSE_GIVEUP; /* reserved bit, or no Kerberos record: never was Kerberos */
        krb_unreadable(ctx);
        st->lost[dir] = true;
        tl_cur_skip(in, 1);
        return TL_PARSE_OK;
    }
    if (tl_cur_left(&c) < len && !ctx->capture_cut)
        return TL_PARSE_MORE;
    if (tl_cur_left(&c) < len) { /* cut: what there is of it, truncated */
        if (tl_cur_left(&c) == 0)
            return krb_cut(ctx, in);
        len = (uint32_t)tl_cur_left(&c);
        st->cut_reply = dir == 1;
    }
    tl_cur_sub(&c, len, &rec);
    *in = c;
    krb_message(ctx, rec);
    return TL_PARSE_OK;
}

/*
 * TCP: n bytes of this direction were lost. A reply due then is written as
 * lost (unless the reply cut just before the gap was it), and the direction
 * resyncs to the next record.
 */
static void krb_gap(struct tl_parse_ctx *ctx, uint64_t n)
{
    struct krb_state *st = ctx->state;
    uint8_t dir = ctx->dir & 1;
    (void)n; /* the caller counts gaps (TL_DC_GAPS) */
    if (dir == 1 && !st->cut_reply && st->n > 0) {
        krb_emit(ctx, &st->pending[0], NULL, "reply_gap");
        krb_drop(st, 0);
    }
    st->cut_reply = false;
    st->lost[dir] = true;
}

static uint64_t krb_flush(struct tl_parse_ctx *ctx, uint64_t now_us)
{
    struct krb_state *st = ctx->state;
    uint64_t timeout = ctx->limits->pending_timeout, due = UINT64_MAX;
    for (unsigned i = 0; i < st->n;) {
        const struct krb_req *q = &st->pending[i];
        if (now_us == UINT64_MAX || (now_us > q->ts && now_us - q->ts > timeout)) {
            krb_emit(ctx, q, NULL, krb_why_alone(ctx, q, now_us == UINT64_MAX));
            krb_drop(st, i);
        } else {
            due = tl_due_min(due, tl_pending_due(q->ts, timeout));
            i++;
        }
    }
    return due;
}

static bool krb_idle(const void *state)
{
    return ((const struct krb_state *)state)->n == 0;
}

/*
 * A successful AS or TGS exchange names the client working from the
 * originator's address: a computer account (NAME$, or a host/ principal) is
 * the host, any other principal the user.
 */
static bool krb_identity(const void *record, struct tl_identity_obs *o)
{
    const struct krb_rec *r = record;
    bool host;

    if (!r->success || !r->client.len || !r->reply_type ||
        (strcmp(r->reply_type, "AS-REP") != 0 && strcmp(r->reply_type, "TGS-REP") != 0))
        return false;
    host = r->client.ptr[r->client.len - 1] == '$' ||
           (r->client.len > 5 && memcmp(r->client.ptr, "host/", 5) == 0);
    memset(o, 0, sizeof(*o));
    o->ts_us = r->ids.ts;
    o->addr = r->ids.orig_h;
    tl_identity_copy(host ? o->host : o->user, TL_ID_NAME, r->client);
    tl_identity_copy(o->realm, TL_ID_REALM, r->client_realm);
    o->source = TL_ID_KERBEROS;
    return true;
}

const struct tl_dissector tl_kerberos_dissector = {
    .name = "kerberos",
    .doc = "Kerberos V5 AS and TGS exchanges (RFC 4120), UDP and TCP",
    .transports = TL_UDP | TL_TCP,
    .ports = { 88 },
    .state_size = sizeof(struct krb_state),
    .state_free = krb_state_free,
    .record_size = sizeof(struct krb_rec),
    .parse = krb_parse,
    .gap = krb_gap,
    .flush = krb_flush,
    .event = &tl_kerberos_event,
    .identity = krb_identity,
    .idle = krb_idle,
};
