/*
 * ber.h - the ASN.1 BER reader shared by the Kerberos and LDAP dissectors
 * (X.690). Private to dissect/.
 *
 * A TLV is read from a cursor into a struct ber_tlv whose `value` is a child
 * cursor bounded by the element's length, so nothing inside an element can
 * read past it. Indefinite lengths (LDAP allows them) are resolved by finding
 * the end-of-contents octets within the enclosing element, with a nesting
 * depth limit. A length is never trusted before it is checked against the
 * bytes that remain.
 */
#ifndef TL_DISSECT_BER_H
#define TL_DISSECT_BER_H

#include <stdbool.h>
#include <stdint.h>

#include "cursor.h"

enum { BER_MAX_DEPTH = 32 }; /* nesting beyond this is malformed */

enum ber_class { BER_UNIVERSAL = 0, BER_APPLICATION = 1, BER_CONTEXT = 2, BER_PRIVATE = 3 };

/* Universal tags used by the dissectors. */
enum {
    BER_BOOLEAN = 1,
    BER_INTEGER = 2,
    BER_BIT_STRING = 3,
    BER_OCTET_STRING = 4,
    BER_NULL = 5,
    BER_OID = 6,
    BER_ENUMERATED = 10,
    BER_UTF8_STRING = 12,
    BER_SEQUENCE = 16,
    BER_SET = 17,
    BER_PRINTABLE_STRING = 19,
    BER_IA5_STRING = 22,
    BER_GENERALIZED_TIME = 24,
    BER_GENERAL_STRING = 27,
};

struct ber_tlv {
    uint8_t cls; /* enum ber_class */
    bool constructed;
    uint32_t tag;           /* tag number (multi-byte tags supported up to 2^28) */
    bool indefinite;        /* the length was indefinite (0x80) */
    struct tl_cursor value; /* exactly the contents octets */
};

/*
 * Reads one TLV from c (which moves past it). depth is the nesting level of
 * the element (0 at top level) for the indefinite-length search. On failure
 * c is failed: SHORT when the bytes ran out, BAD for an impossible encoding.
 */
bool ber_read(struct tl_cursor *c, struct ber_tlv *t, unsigned depth);

/*
 * Like ber_read, but when a constructed element's definite length runs past the
 * end of c (a cut capture), returns true with t->value holding the bytes that
 * are there and c failed SHORT, so the caller keeps what precedes the cut.
 * Primitive elements are never returned partially.
 */
bool ber_read_cut(struct tl_cursor *c, struct ber_tlv *t, unsigned depth);

/* Reads one TLV and checks its class and tag; a mismatch fails c with BAD. */
bool ber_expect(struct tl_cursor *c, struct ber_tlv *t, uint8_t cls, uint32_t tag, unsigned depth);

/* Peeks at the next TLV's class and tag without consuming; false at the end. */
bool ber_peek(const struct tl_cursor *c, uint8_t *cls, uint32_t *tag, bool *constructed);

/* Contents as an integer (two's complement, at most 8 bytes; more is BAD). */
bool ber_int(struct ber_tlv *t, int64_t *out);
/* Contents as an unsigned integer (leading zero allowed; negative is BAD). */
bool ber_uint(struct ber_tlv *t, uint64_t *out);
bool ber_bool(struct ber_tlv *t, bool *out);
/* Contents as a string view (borrowed from the packet). */
struct tl_str ber_str(const struct ber_tlv *t);
/* A BIT STRING's bits (after the unused-bits octet) as a 32-bit big-endian value. */
bool ber_bits32(struct ber_tlv *t, uint32_t *out);
/* An OID in dotted form into buf; false when it does not fit or is malformed. */
bool ber_oid(const struct ber_tlv *t, char *buf, size_t len);

#endif
