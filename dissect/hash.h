/*
 * hash.h - MD5 and SHA-256 for dissectors that log content hashes (Kerberos
 * tickets, HTTP bodies). Private to dissect/.
 *
 * Thin wrappers over OpenSSL's low-level digests: their contexts are plain
 * structs the caller owns (on the stack, or in per-flow state for a body
 * hashed across segments), nothing allocates, and they run OpenSSL's
 * assembly (SHA extensions where the CPU has them) - a body hashed on the
 * packet path costs a fraction of a portable C digest. The EVP interface is
 * avoided because it allocates a context per digest.
 *
 * struct tl_digests runs the digests http.hash_algorithms asks for (a mask of
 * TL_DIGEST_*, include/dissect.h) over one stream, as HTTP bodies need.
 */
#ifndef TL_DISSECT_HASH_H
#define TL_DISSECT_HASH_H

#define OPENSSL_SUPPRESS_DEPRECATED
#include <openssl/md5.h>
#include <openssl/sha.h>
#include <stddef.h>
#include <stdint.h>

enum { TL_MD5_LEN = 16, TL_SHA1_LEN = 20, TL_SHA256_LEN = 32 };

struct tl_md5 {
    MD5_CTX ctx;
};

struct tl_sha256 {
    SHA256_CTX ctx;
};

void tl_md5_init(struct tl_md5 *c);
void tl_md5_update(struct tl_md5 *c, const void *p, size_t n);
void tl_md5_final(struct tl_md5 *c, uint8_t out[TL_MD5_LEN]);

void tl_sha256_init(struct tl_sha256 *c);
void tl_sha256_update(struct tl_sha256 *c, const void *p, size_t n);
void tl_sha256_final(struct tl_sha256 *c, uint8_t out[TL_SHA256_LEN]);

struct tl_digests {
    unsigned on; /* TL_DIGEST_* */
    MD5_CTX md5;
    SHA_CTX sha1;
    SHA256_CTX sha256;
};

/* Lower-case hex digests, NUL-terminated; empty for a digest not on. */
struct tl_digests_hex {
    char md5[2 * TL_MD5_LEN + 1], sha1[2 * TL_SHA1_LEN + 1], sha256[2 * TL_SHA256_LEN + 1];
};

void tl_digests_init(struct tl_digests *d, unsigned which);
void tl_digests_update(struct tl_digests *d, const void *p, size_t n);
void tl_digests_final(struct tl_digests *d, struct tl_digests_hex *out);

#endif
