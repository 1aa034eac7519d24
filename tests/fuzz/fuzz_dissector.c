/*
 * fuzz_dissector.c - libFuzzer target for one application dissector, chosen at
 * build time with -DTARGET=name (dns, http, kerberos, ldap).
 *
 * Input: [mode][bytes]. mode bit 0: TCP (else UDP, when the dissector takes
 * UDP); bits 1-7 pick a split point. UDP: the bytes are one datagram from the
 * originator, then the same bytes from the responder (so requests and replies
 * both run). TCP: the bytes are cut at the split point into two deliveries per
 * direction, through the same harness the unit tests use; the flow ends with
 * a flush. Every delivery is an exact-size heap copy. A dissector that rests
 * between messages (rest/resume) is run twice: resting after every step it
 * can (more often than flows/l7.c asks, which is after a record) and never;
 * the two must write the same records.
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

static void fuzz_init(struct dtest *t, const struct tl_dissector *d)
{
    dtest_init(t, d);
    t->limits.max_pending = 4;
    t->limits.max_pipeline = 4;
    t->limits.max_items = 8;
    t->limits.max_value_len = 256;
}

/* TCP: p cut at `cut` into two deliveries from the originator around one whole from the
 * responder, maybe a gap; resting after each step when `rest` is set. */
static void fuzz_tcp(struct dtest *t, const uint8_t *p, size_t n, size_t cut, bool gap, bool rest)
{
    dtest_tcp(t, 0, 1000, p, cut);
    if (rest)
        dtest_rest(t);
    dtest_tcp(t, 1, 2000, p, n);
    if (rest)
        dtest_rest(t);
    dtest_tcp(t, 0, 3000, p + cut, n - cut);
    if (rest)
        dtest_rest(t);
    if (gap) {
        dtest_gap(t, 1, 100);
        if (rest)
            dtest_rest(t);
    }
    dtest_end(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const struct tl_dissector *d;
    static struct dtest t, never_rested; /* big (arena): static, reinitialised per input */

    if (!d && !(d = tl_dissector_by_name(TL_STR(TARGET))))
        abort();
    if (size < 1)
        return 0;
    uint8_t mode = data[0];
    const uint8_t *p = data + 1;
    size_t n = size - 1, cut = n ? (size_t)(mode >> 1) * n / 128 : 0;
    bool tcp = (mode & 1) || !(d->transports & TL_UDP);

    fuzz_init(&t, d);
    if (tcp) {
        fuzz_tcp(&t, p, n, cut, mode & 0x80, true);
        /* the oracle: a state that rested wherever it could writes what one that never
         * rested writes */
        if (d->rest) {
            fuzz_init(&never_rested, d);
            fuzz_tcp(&never_rested, p, n, cut, mode & 0x80, false);
            if (never_rested.out.len != t.out.len || never_rested.gave_up != t.gave_up ||
                (t.out.len && memcmp(never_rested.out.p, t.out.p, t.out.len) != 0))
                abort();
            dtest_free(&never_rested);
        }
    } else {
        dtest_udp(&t, 0, 1000, p, n, (mode & 2) != 0);
        dtest_udp(&t, 1, 2000, p, n, (mode & 4) != 0);
        dtest_end(&t);
    }
    dtest_free(&t);
    return 0;
}
