/*
 * hash.c - MD5 and SHA-256 over OpenSSL's low-level digests: see hash.h.
 */
#include "hash.h"

void tl_md5_init(struct tl_md5 *c)
{
    MD5_Init(&c->ctx);
}

void tl_md5_update(struct tl_md5 *c, const void *p, size_t n)
{
    MD5_Update(&c->ctx, p, n);
}

void tl_md5_final(struct tl_md5 *c, uint8_t out[TL_MD5_LEN])
{
    MD5_Final(out, &c->ctx);
}

void tl_sha256_init(struct tl_sha256 *c)
{
    SHA256_Init(&c->ctx);
}

void tl_sha256_update(struct tl_sha256 *c, const void *p, size_t n)
{
    SHA256_Update(&c->ctx, p, n);
}

void tl_sha256_final(struct tl_sha256 *c, uint8_t out[TL_SHA256_LEN])
{
    SHA256_Final(out, &c->ctx);
}

void tl_hex(char *out, const uint8_t *p, size_t n)
{
    static const char digits[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        out[2 * i] = digits[p[i] >> 4];
        out[2 * i + 1] = digits[p[i] & 15];
    }
    out[2 * n] = '\0';
}
