/*
 * netlist.h - a list of IPv4/IPv6 prefixes (home networks, domains.resolvers).
 */
#ifndef TL_NETLIST_H
#define TL_NETLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum { TL_NETLIST_MAX = 64 };

struct tl_netlist {
    struct {
        uint8_t addr[16]; /* IPv4 v4-mapped */
        uint8_t bits;     /* prefix length over the 128-bit form */
    } net[TL_NETLIST_MAX];
    size_t n;
};

/* Parses "10.0.0.0/8,fc00::/7,..." (commas or spaces); -1 with a reason in errbuf. */
int tl_netlist_parse(struct tl_netlist *l, const char *text, char *errbuf, size_t n);
bool tl_netlist_contains(const struct tl_netlist *l, const uint8_t ip[16]);

#endif
