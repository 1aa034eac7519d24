/*
 * netlist.c - prefix lists for home networks. A handful of prefixes, tested
 * once per flow record, so a linear scan is the right structure.
 */
#include <arpa/inet.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netlist.h"

static int netlist_add(struct tl_netlist *l, const char *item, char *errbuf, size_t n)
{
    char addr[64];
    const char *slash = strchr(item, '/');
    size_t alen = slash ? (size_t)(slash - item) : strlen(item);
    uint8_t b[16] = { 0 };
    int maxbits, bits;

    if (alen == 0 || alen >= sizeof(addr))
        goto bad;
    memcpy(addr, item, alen);
    addr[alen] = '\0';
    if (inet_pton(AF_INET, addr, b + 12) == 1) {
        b[10] = b[11] = 0xff;
        maxbits = 32;
    } else if (inet_pton(AF_INET6, addr, b) == 1) {
        maxbits = 128;
    } else {
        goto bad;
    }
    bits = maxbits;
    if (slash) {
        char *end;
        long v = strtol(slash + 1, &end, 10);
        if (*end || end == slash + 1 || v < 0 || v > maxbits)
            goto bad;
        bits = (int)v;
    }
    if (l->n >= TL_NETLIST_MAX) {
        snprintf(errbuf, n, "more than %d networks", TL_NETLIST_MAX);
        return -1;
    }
    memcpy(l->net[l->n].addr, b, 16);
    l->net[l->n].bits = (uint8_t)(maxbits == 32 ? 96 + bits : bits);
    l->n++;
    return 0;
bad:
    snprintf(errbuf, n, "'%s' is not an address or prefix", item);
    return -1;
}

int tl_netlist_parse(struct tl_netlist *l, const char *text, char *errbuf, size_t n)
{
    char *copy = strdup(text ? text : ""), *save = NULL;
    int rc = 0;

    memset(l, 0, sizeof(*l));
    if (!copy)
        return -1;
    for (char *tok = strtok_r(copy, ", \t", &save); tok && rc == 0;
         tok = strtok_r(NULL, ", \t", &save))
        rc = netlist_add(l, tok, errbuf, n);
    free(copy);
    return rc;
}

bool tl_netlist_contains(const struct tl_netlist *l, const uint8_t ip[16])
{
    for (size_t i = 0; i < l->n; i++) {
        unsigned bits = l->net[i].bits, full = bits / 8, rest = bits % 8;
        if (memcmp(ip, l->net[i].addr, full) != 0)
            continue;
        if (rest && ((ip[full] ^ l->net[i].addr[full]) & (0xff00 >> rest) & 0xff))
            continue;
        return true;
    }
    return false;
}
