/*
 * fuzz_dissector.c - libFuzzer target for one application dissector, chosen at
 * build time with -DTARGET=name (dns, http, kerberos, ldap).
 *
 * Input: [mode][bytes]. mode bit 0: TCP (else UDP, when the dissector takes
 * UDP); bits 1-7 pick a split point. UDP: the bytes are one datagram from the
 * originator, then the same bytes from the responder (so requests and replies
 * both run). TCP: the bytes are cut at the split point into two deliveries per
 * direction, through the same harness the unit tests use, and after each the
 * dissector may rest (dtest_rest: asked more often than flows/l7.c asks, which
 * is after a record); the flow ends with a flush. Every delivery is an
 * exact-size heap copy.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "dissect.h"
#include "dtest.h"

#ifndef TARGET
#error "build with -DTARGET=<dissector name>"
#endif
#define TL_STR2(x) #x
#define TL_STR(x)  TL_STR2(x)

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct tl_dissector *d;
    static struct dtest t; /* big (arena): static, reinitialised per input */

    if (!d && !(d = tl_dissector_by_name(TL_STR(TARGET))))
        abort();
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1, cut = n ? (size_t)(mode >> 1) * n / 128 : 0;
    bool tcp = (mode & 1) || !(d->transports & TL_UDP);

    dtest_init(&t, d);
    t.limits.max_pending = 4;
    t.limits.max_pipeline = 4;
    t.limits.max_items = 8;
    t.limits.max_value_len = 256;
    if (tcp) {
        dtest_tcp(&t, 0, 1000, p, cut);
        dtest_rest(&t);
        dtest_tcp(&t, 1, 2000, p, n);
        dtest_rest(&t);
        dtest_tcp(&t, 0, 3000, p + cut, n - cut);
        dtest_rest(&t);
        if (mode & 0x80)
            dtest_gap(&t, 1, 100);
    } else {
        dtest_udp(&t, 0, 1000, p, n, (mode & 2) != 0);
        dtest_udp(&t, 1, 2000, p, n, (mode & 4) != 0);
    }
    dtest_end(&t);
    dtest_free(&t);
    return 0;
}
