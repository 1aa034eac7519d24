/*
 * domain.c - a name seen on the wire -> its canonical form, registered domain
 * and public suffix (libpsl), and whether it is counted (see domain.h).
 *
 * Canonical form, in this order:
 *  - the dissectors' text escapes are decoded (\xNN, \\: dissect/dns.c writes
 *    bytes outside 0x20..0x7e and the backslash so); any other backslash, or a
 *    result longer than a name with brackets and a port can be, is invalid;
 *  - an HTTP Host's port goes, and [v6] brackets (RFC 3986 3.2.2);
 *  - one trailing dot (the root) goes; ASCII is lowercased;
 *  - valid: at most 253 octets, labels of 1..63 octets (RFC 1035 2.3.4), bytes
 *    a-z 0-9 - _ (SRV and DKIM names have underscores) and well-formed UTF-8;
 *    anything else (spaces, controls, '*', '%', invalid UTF-8) is invalid;
 *  - an xn-- label (an IDNA A-label, how IDNs travel in DNS, SNI and Host) is
 *    turned into UTF-8 with libidn2 when it round-trips (U-label -> A-label
 *    gives it back, RFC 5891 5.4); one that does not (bad punycode, emoji,
 *    code points IDNA2008 disallows) stays as it came, so it can never alias a
 *    real name; UTF-8 is lowercased with libpsl's psl_str_to_utf8lower (full
 *    Unicode case folding, no NFC or UTS 46 mapping). So xn--mnchen-3ya.de,
 *    MÜNCHEN.de and münchen.de are one name: münchen.de.
 *
 * Kinds, first match wins: invalid; IP literal (IPv6 with or without brackets,
 * IPv4 as inet_aton reads it, so 127.1 and 0x7f.0.0.1 too); single label;
 * special use (RFC 6761 test, localhost, invalid, example; RFC 6762 local;
 * RFC 7686 onion; RFC 8375 home.arpa; RFC 9476 alt; ICANN's internal; and the
 * private names networks use: localdomain, lan, home, corp, intranet,
 * private); .arpa; domains.internal_zones; no registrable part (a public
 * suffix itself, or a top-level label the list does not know, such as a
 * private TLD - libpsl's implicit "*" rule is not trusted); counted.
 *
 * The suffix rules are the list's, both sections: wildcards (*.ck makes b.ck a
 * suffix), exceptions (!www.ck makes www.ck registrable) and private suffixes
 * (a.github.io and b.github.io are two registered domains).
 *
 * The registered domain and the suffix are filled for every kind but IP and
 * invalid (dc1.corp.example.com in an internal zone still says example.com);
 * both stay empty when the top-level label is unknown to the list.
 *
 * The context is read-only after tl_domain_ctx_new(); libpsl and libidn2 keep
 * no state between calls, and the only thing that changes is each thread's
 * own memo of recent answers (see dom_memo), so any number of workers call
 * tl_domain_name() at once. ASCII names (nearly all of them) allocate nothing.
 */
#include <arpa/inet.h>
#include <endian.h>
#include <errno.h>
#include <idn2.h>
#include <libpsl.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "config.h"
#include "domain.h"

enum {
    DOM_MAX_NAME = 253,  /* octets, RFC 1035 2.3.4 less the root */
    DOM_MAX_LABEL = 63,  /* octets */
    DOM_MAX_INPUT = 272, /* a name, a trailing dot, brackets and ":65535" */
    DOM_MAX_ZONES = 256, /* domains.internal_zones entries */
};

struct dom_zone {
    const char *z;
    size_t len;
};

/* What a byte can be in a name. */
enum { DOM_C_BAD, DOM_C_NAME, DOM_C_UPPER, DOM_C_DOT, DOM_C_HIGH };

struct tl_domain_ctx {
    psl_ctx_t *owned;     /* the list loaded from domains.psl_file */
    const psl_ctx_t *psl; /* owned, or the built-in list (sorted, or libpsl's DAFSA) */
    uint64_t gen;         /* tells this context's memo entries from another's */
    char date[16];        /* YYYY-MM-DD */
    uint8_t cls[256];     /* DOM_C_* of each byte */
    struct dom_zone zones[DOM_MAX_ZONES]; /* their text in zone_text */
    char *zone_text[DOM_MAX_ZONES];
    size_t nzones;
};

#define DOM_ZONE(z)                                                                                \
    {                                                                                              \
        z, sizeof(z) - 1                                                                           \
    }
/* Names no public resolver answers for: special use and common private TLDs. */
static const struct dom_zone dom_local_zones[] = {
    DOM_ZONE("local"),    DOM_ZONE("localhost"), DOM_ZONE("localdomain"), DOM_ZONE("internal"),
    DOM_ZONE("intranet"), DOM_ZONE("lan"),       DOM_ZONE("home"),        DOM_ZONE("corp"),
    DOM_ZONE("private"),  DOM_ZONE("test"),      DOM_ZONE("invalid"),     DOM_ZONE("example"),
    DOM_ZONE("onion"),    DOM_ZONE("alt"),       DOM_ZONE("home.arpa"),
};

/*
 * The memo: libpsl's lookups are most of the cost of a name (several
 * thousand instructions for four labels) and the same names come back again
 * and again, so each thread remembers the answers for its recent names, by
 * canonical name, in a direct-mapped table of its own (72 KiB a thread; no
 * lock, nothing shared). An entry holds the kind and where the registered
 * domain and the suffix start in the name, and is valid only for the context
 * (generation) that computed it.
 */
enum { DOM_MEMO_SLOTS = 1024, DOM_MEMO_NAME = 60, DOM_NONE = 0xff };

struct dom_memo {
    uint64_t gen; /* 0: empty */
    uint8_t len, kind, reg, suf;
    char name[DOM_MEMO_NAME];
};

static _Thread_local struct dom_memo dom_memo[DOM_MEMO_SLOTS];
static atomic_uint_fast64_t dom_generation;

/* ---- the context ---- */

static void dom_date(char out[16], time_t t)
{
    struct tm tm;
    if (t <= 0 || !gmtime_r(&t, &tm) || strftime(out, 16, "%Y-%m-%d", &tm) == 0)
        snprintf(out, 16, "unknown");
}

/* Lowercase, without leading or trailing dots; false when nothing is left. */
static bool dom_zone_canon(char *z)
{
    size_t n = strlen(z), s = 0;
    while (n && z[n - 1] == '.')
        n--;
    while (s < n && z[s] == '.')
        s++;
    memmove(z, z + s, n - s);
    z[n - s] = '\0';
    for (char *p = z; *p; p++)
        if (*p >= 'A' && *p <= 'Z')
            *p = (char)(*p + ('a' - 'A'));
    return z[0] != '\0';
}

static int dom_zones(struct tl_domain_ctx *c, const char *text, char *errbuf, size_t n)
{
    char *copy = strdup(text ? text : ""), *save = NULL;
    int rc = 0;

    if (!copy) {
        snprintf(errbuf, n, "domains.internal_zones: out of memory");
        return -1;
    }
    for (char *tok = strtok_r(copy, ", \t", &save); tok && rc == 0;
         tok = strtok_r(NULL, ", \t", &save)) {
        if (!dom_zone_canon(tok))
            continue;
        if (c->nzones >= DOM_MAX_ZONES) {
            snprintf(errbuf, n, "domains.internal_zones: more than %d zones", DOM_MAX_ZONES);
            rc = -1;
        } else if (!(c->zone_text[c->nzones] = strdup(tok))) {
            snprintf(errbuf, n, "domains.internal_zones: out of memory");
            rc = -1;
        } else {
            c->zones[c->nzones].z = c->zone_text[c->nzones];
            c->zones[c->nzones++].len = strlen(tok);
        }
    }
    free(copy);
    return rc;
}

static psl_ctx_t *dom_builtin_sorted;
static pthread_once_t dom_builtin_once = PTHREAD_ONCE_INIT;

/*
 * The built-in list's source, when it is still there unchanged, is the same rules in the
 * form libpsl searches two to three times faster (sorted, not a DAFSA). Read once per
 * process: it is read-only, and a pipeline made per fuzz input or test would read it again.
 */
static void dom_load_builtin_sorted(void)
{
    struct stat st;
    const char *src = psl_builtin_filename();
    if (src && stat(src, &st) == 0 && st.st_mtime == psl_builtin_file_time())
        dom_builtin_sorted = psl_load_file(src);
}

static int dom_load_psl(struct tl_domain_ctx *c, const char *path, char *errbuf, size_t n)
{
    struct stat st;

    if (!path || !*path) {
        pthread_once(&dom_builtin_once, dom_load_builtin_sorted);
        c->psl = dom_builtin_sorted ? dom_builtin_sorted : psl_builtin();
        if (!c->psl) {
            snprintf(errbuf, n, "libpsl has no built-in list: set domains.psl_file");
            return -1;
        }
        dom_date(c->date, psl_builtin_file_time());
        return 0;
    }
    if (stat(path, &st) != 0) {
        snprintf(errbuf, n, "domains.psl_file %s: %s", path, strerror(errno));
        return -1;
    }
    c->owned = psl_load_file(path);
    if (!c->owned || psl_suffix_count(c->owned) <= 0) {
        snprintf(errbuf, n, "domains.psl_file %s: not a public suffix list (no rules read)", path);
        return -1;
    }
    c->psl = c->owned;
    dom_date(c->date, st.st_mtime);
    return 0;
}

static uint8_t dom_class(int b)
{
    if (b >= 0x80)
        return DOM_C_HIGH;
    if (b == '.')
        return DOM_C_DOT;
    if (b >= 'A' && b <= 'Z')
        return DOM_C_UPPER;
    if ((b >= 'a' && b <= 'z') || (b >= '0' && b <= '9') || b == '-' || b == '_')
        return DOM_C_NAME;
    return DOM_C_BAD;
}

struct tl_domain_ctx *tl_domain_ctx_new(const struct tl_config *cfg, char *errbuf, size_t n)
{
    struct tl_domain_ctx *c = calloc(1, sizeof(*c));

    if (!c) {
        snprintf(errbuf, n, "out of memory");
        return NULL;
    }
    c->gen = atomic_fetch_add(&dom_generation, 1) + 1;
    for (int b = 0; b < 256; b++)
        c->cls[b] = dom_class(b);
    if (dom_load_psl(c, cfg->psl_file, errbuf, n) != 0 ||
        dom_zones(c, cfg->internal_zones, errbuf, n) != 0) {
        tl_domain_ctx_free(c);
        return NULL;
    }
    return c;
}

void tl_domain_ctx_free(struct tl_domain_ctx *c)
{
    if (!c)
        return;
    for (size_t i = 0; i < c->nzones; i++)
        free(c->zone_text[i]);
    psl_free(c->owned);
    free(c);
}

const char *tl_domain_psl_date(const struct tl_domain_ctx *c)
{
    return c->date;
}

/* ---- canonical form ---- */

static int dom_hex(char ch)
{
    if (ch >= '0' && ch <= '9')
        return ch - '0';
    if (ch >= 'a' && ch <= 'f')
        return ch - 'a' + 10;
    if (ch >= 'A' && ch <= 'F')
        return ch - 'A' + 10;
    return -1;
}

/* Decodes \xNN and \\ into out (at most DOM_MAX_INPUT bytes); 0 when malformed or too long. */
static size_t dom_unescape(const char *in, size_t n, char *out)
{
    size_t o = 0;
    if (n <= DOM_MAX_INPUT && !memchr(in, '\\', n)) { /* nearly always: nothing to decode */
        memcpy(out, in, n);
        return n;
    }
    for (size_t i = 0; i < n; i++) {
        char ch = in[i];
        if (ch == '\\') {
            if (i + 1 < n && in[i + 1] == '\\') {
                i++;
            } else if (i + 3 < n && in[i + 1] == 'x' && dom_hex(in[i + 2]) >= 0 &&
                       dom_hex(in[i + 3]) >= 0) {
                ch = (char)(dom_hex(in[i + 2]) << 4 | dom_hex(in[i + 3]));
                i += 3;
            } else {
                return 0;
            }
        }
        if (o == DOM_MAX_INPUT)
            return 0;
        out[o++] = ch;
    }
    return o;
}

static bool dom_digits(const char *p, size_t n)
{
    if (n == 0 || n > 5)
        return false;
    for (size_t i = 0; i < n; i++)
        if (p[i] < '0' || p[i] > '9')
            return false;
    return true;
}

static bool dom_is_v6(const char *p, size_t n)
{
    char tmp[INET6_ADDRSTRLEN + 1];
    struct in6_addr a;
    if (n == 0 || n >= sizeof(tmp))
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    return inet_pton(AF_INET6, tmp, &a) == 1;
}

/* Copies n bytes of p, lowercased, into out->name as an IP literal. */
static enum tl_dom_kind dom_ip(const char *p, size_t n, struct tl_domain_name *out)
{
    for (size_t i = 0; i < n; i++)
        out->name[i] = (char)(p[i] >= 'A' && p[i] <= 'Z' ? p[i] + ('a' - 'A') : p[i]);
    out->name[n] = '\0';
    return TL_DOM_IP;
}

/*
 * Removes a port and IPv6 brackets from b (len bytes). Returns TL_DOM_IP for an
 * IPv6 literal (written to out), TL_DOM_INVALID for a malformed one, and
 * TL_DOM_COUNTED when b (now *len bytes) is left to read as a name.
 */
static enum tl_dom_kind dom_host_port(const char *b, size_t *len, struct tl_domain_name *out)
{
    size_t n = *len, colons = 0, last = 0;

    if (n && b[0] == '[') {
        const char *close = memchr(b, ']', n);
        if (!close)
            return TL_DOM_INVALID;
        size_t in = (size_t)(close - b - 1), after = n - in - 2;
        if (after && (b[in + 2] != ':' || !dom_digits(b + in + 3, after - 1)))
            return TL_DOM_INVALID;
        return dom_is_v6(b + 1, in) ? dom_ip(b + 1, in, out) : TL_DOM_INVALID;
    }
    for (const char *p = memchr(b, ':', n); p; p = memchr(p + 1, ':', n - (size_t)(p - b) - 1)) {
        colons++;
        last = (size_t)(p - b);
    }
    if (colons > 1)
        return dom_is_v6(b, n) ? dom_ip(b, n, out) : TL_DOM_INVALID;
    if (colons == 1) {
        if (!dom_digits(b + last + 1, n - last - 1))
            return TL_DOM_INVALID;
        *len = last;
    }
    return TL_DOM_COUNTED;
}

/* Length of a well-formed UTF-8 sequence at p (RFC 3629 4), 0 when there is none. */
static size_t dom_utf8_len(const unsigned char *p, size_t n)
{
    unsigned char c = p[0];
    size_t len;
    unsigned char lo = 0x80, hi = 0xbf;

    if (c >= 0xc2 && c <= 0xdf)
        len = 2;
    else if (c >= 0xe0 && c <= 0xef)
        len = 3, lo = c == 0xe0 ? 0xa0 : 0x80, hi = c == 0xed ? 0x9f : 0xbf;
    else if (c >= 0xf0 && c <= 0xf4)
        len = 4, lo = c == 0xf0 ? 0x90 : 0x80, hi = c == 0xf4 ? 0x8f : 0xbf;
    else
        return 0;
    if (len > n || p[1] < lo || p[1] > hi)
        return 0;
    for (size_t i = 2; i < len; i++)
        if (p[i] < 0x80 || p[i] > 0xbf)
            return 0;
    return len;
}

/* Whether the label at p (n bytes left) starts "xn--" (the ACE prefix, RFC 5890 2.3.2.5). */
static bool dom_ace(const char *p, size_t n)
{
    return n > 4 && (p[0] | 0x20) == 'x' && (p[1] | 0x20) == 'n' && p[2] == '-' && p[3] == '-';
}

/*
 * Lowercases ASCII in place and checks the bytes and the label lengths, one
 * table lookup a byte. *utf8 tells whether any byte is not ASCII, *idn whether
 * a label starts "xn--".
 */
static bool dom_check(const struct tl_domain_ctx *c, char *b, size_t n, bool *utf8, bool *idn)
{
    size_t label = 0;
    *utf8 = false;
    *idn = dom_ace(b, n);
    for (size_t i = 0; i < n; i++) {
        uint8_t k = c->cls[(uint8_t)b[i]];
        if (k == DOM_C_NAME) {
            if (++label > DOM_MAX_LABEL)
                return false;
        } else if (k == DOM_C_UPPER) {
            b[i] = (char)(b[i] + ('a' - 'A'));
            if (++label > DOM_MAX_LABEL)
                return false;
        } else if (k == DOM_C_DOT) {
            if (label == 0)
                return false;
            label = 0;
            *idn |= dom_ace(b + i + 1, n - i - 1);
        } else if (k == DOM_C_HIGH) {
            size_t len = dom_utf8_len((const unsigned char *)b + i, n - i);
            if (len == 0 || label + len > DOM_MAX_LABEL)
                return false;
            *utf8 = true;
            label += len;
            i += len - 1;
        } else {
            return false;
        }
    }
    return label > 0;
}

/* The U-label of an A-label when it round-trips (RFC 5891 5.4), else NULL (idn2_free it). */
static char *dom_ulabel(const char *alabel, size_t n)
{
    char in[DOM_MAX_LABEL + 1], *u = NULL, *back = NULL;
    memcpy(in, alabel, n);
    in[n] = '\0';
    if (idn2_to_unicode_8z8z(in, &u, 0) != IDN2_OK || !u || !*u)
        goto fail;
    if (idn2_to_ascii_8z(u, &back, IDN2_NO_TR46) != IDN2_OK || !back || strcmp(back, in) != 0)
        goto fail;
    idn2_free(back);
    return u;
fail:
    idn2_free(u);
    idn2_free(back);
    return NULL;
}

/*
 * Writes the name (n bytes, checked) into out->name with its xn-- labels as
 * UTF-8 where they round-trip; a result too long keeps the A-labels.
 */
static size_t dom_decode_idn(const char *b, size_t n, char out[TL_DOMAIN_MAX], bool *utf8)
{
    size_t o = 0;
    for (size_t s = 0; s < n;) {
        const char *dot = memchr(b + s, '.', n - s);
        size_t e = dot ? (size_t)(dot - b) : n, len = e - s;
        char *u = len > 4 && memcmp(b + s, "xn--", 4) == 0 ? dom_ulabel(b + s, len) : NULL;
        const char *src = u ? u : b + s;
        size_t slen = u ? strlen(u) : len;
        if (o + slen + (e < n) > DOM_MAX_NAME) {
            idn2_free(u);
            memcpy(out, b, n);
            out[n] = '\0';
            return n;
        }
        memcpy(out + o, src, slen);
        o += slen;
        if (e < n)
            out[o++] = '.';
        *utf8 |= u != NULL;
        idn2_free(u);
        s = e + 1;
    }
    out[o] = '\0';
    return o;
}

/* Unicode lower case of a UTF-8 name in out (n bytes); unchanged when it fails or grows too long.
 */
static size_t dom_utf8_lower(char out[TL_DOMAIN_MAX], size_t n)
{
    char *lower = NULL;
    if (psl_str_to_utf8lower(out, "utf-8", NULL, &lower) == PSL_SUCCESS && lower) {
        size_t len = strlen(lower);
        if (len <= DOM_MAX_NAME) {
            memcpy(out, lower, len + 1);
            n = len;
        }
    }
    psl_free_string(lower);
    return n;
}

/* ---- classification ---- */

/* A NUL-terminated copy of at most TL_DOMAIN_MAX - 1 bytes. */
static void dom_copy(char dst[TL_DOMAIN_MAX], const char *src)
{
    size_t n = strnlen(src, TL_DOMAIN_MAX - 1);
    memcpy(dst, src, n);
    dst[n] = '\0';
}

static bool dom_under(const char *name, size_t n, const char *zone, size_t zlen)
{
    if (n == zlen)
        return memcmp(name, zone, n) == 0;
    return n > zlen && name[n - zlen - 1] == '.' && memcmp(name + n - zlen, zone, zlen) == 0;
}

static bool dom_under_any(const char *name, size_t n, const struct dom_zone *z, size_t nz)
{
    for (size_t i = 0; i < nz; i++)
        if (dom_under(name, n, z[i].z, z[i].len))
            return true;
    return false;
}

/* Registered domain and public suffix from the list; false when the top label is unknown. */
static bool dom_psl(const struct tl_domain_ctx *c, struct tl_domain_name *out, size_t n)
{
    const char *tld = memrchr(out->name, '.', n);
    tld = tld ? tld + 1 : out->name;
    if (!psl_is_public_suffix2(c->psl, tld, PSL_TYPE_ANY | PSL_TYPE_NO_STAR_RULE))
        return false;
    const char *reg = psl_registrable_domain(c->psl, out->name);
    if (reg) {
        const char *dot = strchr(reg, '.');
        dom_copy(out->registered, reg);
        dom_copy(out->suffix, dot ? dot + 1 : "");
    } else {
        const char *suf = psl_unregistrable_domain(c->psl, out->name);
        dom_copy(out->suffix, suf ? suf : "");
    }
    return true;
}

/* The kind of a canonical name (out->name, len bytes); fills out->registered and out->suffix. */
static enum tl_dom_kind dom_classify(const struct tl_domain_ctx *c, struct tl_domain_name *out,
                                     size_t len)
{
    bool known = dom_psl(c, out, len);
    if (!memchr(out->name, '.', len))
        return TL_DOM_SINGLE;
    if (dom_under_any(out->name, len, dom_local_zones, TL_ARRAY_LEN(dom_local_zones)))
        return TL_DOM_LOCAL;
    if (dom_under(out->name, len, "arpa", 4))
        return TL_DOM_ARPA;
    if (dom_under_any(out->name, len, c->zones, c->nzones))
        return TL_DOM_INTERNAL;
    if (!known || !out->registered[0])
        return TL_DOM_NO_SUFFIX;
    return TL_DOM_COUNTED;
}

static uint8_t dom_offset(const char *name, const char *tail)
{
    return tail[0] ? (uint8_t)(strlen(name) - strlen(tail)) : DOM_NONE;
}

static void dom_tail(char dst[TL_DOMAIN_MAX], const struct dom_memo *m, uint8_t off)
{
    size_t n = off == DOM_NONE ? 0 : (size_t)(m->len - off);
    memcpy(dst, m->name + m->len - n, n);
    dst[n] = '\0';
}

/* Classifies through this thread's memo (names too long for it are classified each time). */
static enum tl_dom_kind dom_classify_memo(const struct tl_domain_ctx *c, struct tl_domain_name *out,
                                          size_t len)
{
    if (len >= DOM_MEMO_NAME)
        return dom_classify(c, out, len);
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < len; i++)
        h = (h ^ (uint8_t)out->name[i]) * 1099511628211ULL;
    struct dom_memo *m = &dom_memo[(h ^ h >> 32) & (DOM_MEMO_SLOTS - 1)];
    if (m->gen == c->gen && m->len == len && memcmp(m->name, out->name, len) == 0) {
        dom_tail(out->registered, m, m->reg);
        dom_tail(out->suffix, m, m->suf);
        return (enum tl_dom_kind)m->kind;
    }
    enum tl_dom_kind kind = dom_classify(c, out, len);
    m->gen = c->gen;
    m->len = (uint8_t)len;
    m->kind = (uint8_t)kind;
    m->reg = dom_offset(out->name, out->registered);
    m->suf = dom_offset(out->name, out->suffix);
    memcpy(m->name, out->name, len);
    return kind;
}

enum tl_dom_kind tl_domain_name(const struct tl_domain_ctx *c, const char *name, size_t n,
                                struct tl_domain_name *out)
{
    char b[DOM_MAX_INPUT];
    size_t len;
    bool utf8, idn;
    struct in_addr v4;
    enum tl_dom_kind kind;

    out->name[0] = out->registered[0] = out->suffix[0] = '\0';
    out->kind = TL_DOM_INVALID;
    if (n > 4 * DOM_MAX_INPUT || (len = dom_unescape(name, n, b)) == 0)
        return TL_DOM_INVALID;
    if ((kind = dom_host_port(b, &len, out)) != TL_DOM_COUNTED)
        return (enum tl_dom_kind)(out->kind = (uint8_t)kind);
    if (len && b[len - 1] == '.')
        len--;
    if (len == 0 || len > DOM_MAX_NAME || !dom_check(c, b, len, &utf8, &idn))
        return TL_DOM_INVALID;
    b[len] = '\0';
    const char *top = memrchr(b, '.', len);
    top = top ? top + 1 : b;
    if (*top >= '0' && *top <= '9' && inet_aton(b, &v4))
        return (enum tl_dom_kind)(out->kind = (uint8_t)dom_ip(b, len, out));

    if (idn)
        len = dom_decode_idn(b, len, out->name, &utf8);
    else
        memcpy(out->name, b, len + 1);
    if (utf8)
        len = dom_utf8_lower(out->name, len);
    kind = dom_classify_memo(c, out, len);
    out->kind = (uint8_t)kind;
    return kind;
}

/* ---- the fleet-wide hash: SipHash-2-4 (Aumasson, Bernstein 2012) under a fixed key ---- */

#define DOM_ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define DOM_SIPROUND                                                                               \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = DOM_ROTL(v1, 13) ^ v0;                                                                \
        v0 = DOM_ROTL(v0, 32);                                                                     \
        v2 += v3;                                                                                  \
        v3 = DOM_ROTL(v3, 16) ^ v2;                                                                \
        v0 += v3;                                                                                  \
        v3 = DOM_ROTL(v3, 21) ^ v0;                                                                \
        v2 += v1;                                                                                  \
        v1 = DOM_ROTL(v1, 17) ^ v2;                                                                \
        v2 = DOM_ROTL(v2, 32);                                                                     \
    } while (0)

static uint64_t dom_le64(const uint8_t *p)
{
    uint64_t x;
    memcpy(&x, p, 8);
    return le64toh(x);
}

uint64_t tl_domain_siphash(uint64_t k0, uint64_t k1, const void *p, size_t n)
{
    const uint8_t *in = p;
    uint64_t v0 = k0 ^ 0x736f6d6570736575ULL, v1 = k1 ^ 0x646f72616e646f6dULL;
    uint64_t v2 = k0 ^ 0x6c7967656e657261ULL, v3 = k1 ^ 0x7465646279746573ULL;
    uint8_t last[8] = { 0 };
    size_t full = n & ~(size_t)7;

    for (size_t i = 0; i < full; i += 8) {
        uint64_t m = dom_le64(in + i);
        v3 ^= m;
        DOM_SIPROUND;
        DOM_SIPROUND;
        v0 ^= m;
    }
    memcpy(last, in + full, n - full);
    last[7] = (uint8_t)n;
    uint64_t m = dom_le64(last);
    v3 ^= m;
    DOM_SIPROUND;
    DOM_SIPROUND;
    v0 ^= m;
    v2 ^= 0xff;
    DOM_SIPROUND;
    DOM_SIPROUND;
    DOM_SIPROUND;
    DOM_SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

/* The key is fixed ("tapline domain h"): every sensor must hash a host the same way. */
uint64_t tl_domain_hash(const void *p, size_t n)
{
    return tl_domain_siphash(0x7461706c696e6520ULL, 0x646f6d61696e2068ULL, p, n);
}

/* ---- the enrichment fields ---- */

static const struct tl_field dom_stats_fields[] = {
    TL_FIELD_LATE(struct tl_domain_enrich, first_seen, TS, counted, "domain_first_seen",
                  "first use of the registered domain seen (the fleet's earliest with Redis)"),
    TL_FIELD_LATE(struct tl_domain_enrich, age_days, U64, counted, "domain_age_days",
                  "whole days from domain_first_seen to this event"),
    TL_FIELD_LATE(struct tl_domain_enrich, is_new, BOOL, counted, "is_new_domain",
                  "first seen fewer than domains.new_days days before this event"),
    TL_FIELD_LATE(struct tl_domain_enrich, hosts_24h, U64, counted, "domain_hosts_24h",
                  "distinct hosts that used the registered domain in the last 24 h"),
    TL_FIELD_LATE(struct tl_domain_enrich, hosts_30d, U64, counted, "domain_hosts_30d",
                  "distinct hosts that used the registered domain in the last 30 days"),
    TL_FIELD_LATE(struct tl_domain_enrich, users_30d, U64, counted, "domain_users_30d",
                  "distinct users (identity table) that used it in the last 30 days"),
    TL_FIELD_LATE(struct tl_domain_enrich, requests_24h, U64, counted, "domain_requests_24h",
                  "uses of the registered domain in the last 24 h"),
    TL_FIELD_LATE(struct tl_domain_enrich, prevalence, F64, counted, "domain_prevalence",
                  "domain_hosts_30d over the hosts with any counted use in 30 days (0..1)"),
    TL_FIELD_LATE(struct tl_domain_enrich, frequency_index, F64, counted, "domain_frequency_index",
                  "percentile rank of domain_hosts_30d among tracked domains (0 rarest, 100 most "
                  "common)"),
};

const struct tl_event_type tl_domain_stats_fields = {
    .name = "domain_stats",
    .doc = "domain-usage statistics as of the event (counted names only)",
    .fields = dom_stats_fields,
    .nfields = TL_ARRAY_LEN(dom_stats_fields),
};

static const struct tl_field dom_names_fields[] = {
    TL_FIELD_OPT(struct tl_domain_enrich, registered_domain, CHARS, "registered_domain",
                 "registered domain of the name (Public Suffix List, ICANN and private)"),
    TL_FIELD_OPT(struct tl_domain_enrich, public_suffix, CHARS, "public_suffix",
                 "public suffix of the name"),
};

const struct tl_event_type tl_domain_names_fields = {
    .name = "domain_names",
    .doc = "registered domain and public suffix of the name",
    .fields = dom_names_fields,
    .nfields = TL_ARRAY_LEN(dom_names_fields),
    .ext = &tl_domain_stats_fields,
};

void tl_domain_enrich_names(struct tl_domain_enrich *e, const struct tl_domain_name *nm)
{
    dom_copy(e->registered_domain, nm->registered);
    dom_copy(e->public_suffix, nm->suffix);
    memset(&e->counted, 0, sizeof(*e) - offsetof(struct tl_domain_enrich, counted));
}
