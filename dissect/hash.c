/*
 * hash.c - MD5, SHA-1 and SHA-256 over OpenSSL's low-level digests: see hash.h.
 */
#include "hash.h"

#include <string.h>

#include "dissect.h"

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

void tl_digests_init(struct tl_digests *d, unsigned which)
{
    d->on = which;
    if (which & TL_DIGEST_MD5)
        MD5_Init(&d->md5);
    if (which & TL_DIGEST_SHA1)
        SHA1_Init(&d->sha1);
    if (which & TL_DIGEST_SHA256)
        SHA256_Init(&d->sha256);
}

void tl_digests_update(struct tl_digests *d, const void *p, size_t n)
{
    if (d->on & TL_DIGEST_MD5)
        MD5_Update(&d->md5, p, n);
    if (d->on & TL_DIGEST_SHA1)
        SHA1_Update(&d->sha1, p, n);
    if (d->on & TL_DIGEST_SHA256)
        SHA256_Update(&d->sha256, p, n);
}

void tl_digests_final(struct tl_digests *d, struct tl_digests_hex *out)
{
    uint8_t md[TL_SHA256_LEN];
    memset(out, 0, sizeof(*out));
    if (d->on & TL_DIGEST_MD5) {
        MD5_Final(md, &d->md5);
        tl_hex(out->md5, md, TL_MD5_LEN);
    }
    if (d->on & TL_DIGEST_SHA1) {
        SHA1_Final(md, &d->sha1);
        tl_hex(out->sha1, md, TL_SHA1_LEN);
    }
    if (d->on & TL_DIGEST_SHA256) {
        SHA256_Final(md, &d->sha256);
        tl_hex(out->sha256, md, TL_SHA256_LEN);
    }
    d->on = 0;
}

static const char *const body_hash_words[] = { "files", "all", "none" }; /* enum tl_body_hash */

int tl_body_hash_parse(const char *v)
{
    for (size_t i = 0; i < sizeof(body_hash_words) / sizeof(*body_hash_words); i++)
        if (strcmp(v, body_hash_words[i]) == 0)
            return (int)i;
    return -1;
}

int tl_digests_parse(const char *v)
{
    static const struct {
        const char *name;
        unsigned bit;
    } names[] = { { "md5", TL_DIGEST_MD5 },
                  { "sha1", TL_DIGEST_SHA1 },
                  { "sha256", TL_DIGEST_SHA256 } };
    unsigned mask = 0;
    for (const char *p = v; *p;) {
        size_t len = strcspn(p, ", ");
        bool known = len == 0;
        for (size_t i = 0; i < sizeof(names) / sizeof(*names) && !known; i++)
            if (len == strlen(names[i].name) && memcmp(p, names[i].name, len) == 0) {
                mask |= names[i].bit;
                known = true;
            }
        if (!known)
            return -1;
        p += len;
        p += strspn(p, ", ");
    }
    return mask ? (int)mask : -1;
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
