/*
 * fuzz_tls.c - libFuzzer target for what the worker reads beside nDPI for the
 * tls event (flows/tls.c): the input, in an exact-size heap copy, as a
 * server's TCP segment (a ServerHello's ALPN) and as a client's UDP datagram
 * (a QUIC long header's version).
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "tls.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    uint8_t *copy = malloc(size ? size : 1);
    struct tl_tls_seen seen;

    if (!copy)
        abort();
    memcpy(copy, data, size);
    memset(&seen, 0, sizeof(seen));
    tl_tls_server_data(&seen, copy, size);
    tl_tls_quic_data(&seen, copy, size);
    free(copy);
    return 0;
}
