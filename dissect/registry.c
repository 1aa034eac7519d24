/*
 * registry.c - every application dissector: one line each.
 */
#include <string.h>

#include "dissect.h"

const struct tl_dissector *const tl_dissectors[] = {
    &tl_dns_dissector,  &tl_http_dissector,  &tl_kerberos_dissector,
    &tl_ldap_dissector, &tl_socks_dissector,
};
const size_t tl_ndissectors = TL_ARRAY_LEN(tl_dissectors);

const struct tl_dissector *tl_dissector_by_port(unsigned transport, uint16_t a, uint16_t b)
{
    for (size_t i = 0; i < tl_ndissectors; i++) {
        const struct tl_dissector *d = tl_dissectors[i];
        if (!(d->transports & transport))
            continue;
        for (size_t j = 0; j < TL_ARRAY_LEN(d->ports) && d->ports[j]; j++)
            if (d->ports[j] == a || d->ports[j] == b)
                return d;
    }
    return NULL;
}

const struct tl_dissector *tl_dissector_by_name(const char *name)
{
    for (size_t i = 0; i < tl_ndissectors; i++)
        if (strcmp(tl_dissectors[i]->name, name) == 0)
            return tl_dissectors[i];
    return NULL;
}
