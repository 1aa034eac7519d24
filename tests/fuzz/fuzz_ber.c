/*
 * fuzz_ber.c - libFuzzer target for the BER reader (dissect/ber.c): walks any
 * input as nested TLVs, reading every primitive as each type the dissectors
 * use, in an exact-size heap copy.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "ber.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Each pass consumes a TLV or fails the cursor; depth is bounded by BER_MAX_DEPTH. */
static void fuzz_walk(struct tl_cursor *c, unsigned depth)
{
    while (tl_cur_ok(c) && tl_cur_left(c) > 0) {
        struct ber_tlv t;
        if (!ber_read(c, &t, depth))
            return;
        if (t.constructed && depth + 1 < BER_MAX_DEPTH) {
            fuzz_walk(&t.value, depth + 1);
            continue;
        }
        int64_t i;
        uint64_t u;
        uint32_t bits;
        bool b;
        char oid[128];
        struct ber_tlv copy = t;
        ber_int(&copy, &i);
        copy = t;
        ber_uint(&copy, &u);
        copy = t;
        ber_bool(&copy, &b);
        copy = t;
        ber_bits32(&copy, &bits);
        ber_oid(&t, oid, sizeof(oid));
        (void)ber_str(&t);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    if (!copy)
        abort();
    memcpy(copy, data, size);
    struct tl_cursor c = tl_cur_make(copy, size);
    fuzz_walk(&c, 0);
    free(copy);
    return 0;
}
