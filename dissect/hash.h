/*
 * hash.h - MD5 (RFC 1321) and SHA-256 (FIPS 180-4) for dissectors that log
 * content hashes (Kerberos tickets, HTTP bodies). Private to dissect/.
 *
 * Pure and allocation-free: the state is a plain struct the caller owns (on the
 * stack, or in per-flow state for a body hashed across segments), so dissect/
 * does not depend on libcrypto, whose 3.x one-shot functions allocate.
 */
#ifndef TL_DISSECT_HASH_H
#define TL_DISSECT_HASH_H

#include <stddef.h>
#include <stdint.h>

enum { TL_MD5_LEN = 16, TL_SHA256_LEN = 32 };

struct tl_md5 {
    uint32_t h[4];
    uint64_t n; /* bytes hashed */
    uint8_t buf[64];
};

struct tl_sha256 {
    uint32_t h[8];
    uint64_t n;
    uint8_t buf[64];
};

void tl_md5_init(struct tl_md5 *c);
void tl_md5_update(struct tl_md5 *c, const void *p, size_t n);
void tl_md5_final(struct tl_md5 *c, uint8_t out[TL_MD5_LEN]);

void tl_sha256_init(struct tl_sha256 *c);
void tl_sha256_update(struct tl_sha256 *c, const void *p, size_t n);
void tl_sha256_final(struct tl_sha256 *c, uint8_t out[TL_SHA256_LEN]);

/* Lowercase hex of n bytes into out, which holds 2 * n + 1 chars (NUL-terminated). */
void tl_hex(char *out, const uint8_t *p, size_t n);

#endif
