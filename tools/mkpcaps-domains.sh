#!/bin/bash
# mkpcaps-domains.sh - record the project's capture for domain-usage statistics.
#
# Run as root: tools/mkpcaps-domains.sh [OUTDIR]   (default: pcaps/ next to this script)
#
# Many hosts of one network ask a real DNS server (dnsmasq) for the same few
# names; one of them, where alice has just logged on with Kerberos (MIT krb5kdc),
# also asks for a name nobody else asks for. Two network namespaces joined by a
# veth pair; the client namespace holds 20 addresses, each query leaves from one
# of them (dig -b). Nothing leaves the namespaces. Torn down on exit, even on error.
#
#   tl-dmc  veth-dmc 02:00:00:97:00:02  10.97.0.10-29/24  (clients; .10 is alice's)
#   tl-dms  veth-dms 02:00:00:97:00:01  10.97.0.1/24      (dnsmasq, krb5kdc)
#
# Writes domains-rare.pcap: alice's AS exchange from 10.97.0.10, then two rounds of
# queries from every client for www.example.com and mail.example.com, from every
# fourth for cdn.example.net, from 10.97.0.10 alone for rare-tools.example.org;
# plus names that are logged but not counted (a reverse lookup, a single label,
# a .local name) and one under a private suffix (team.github.io).
# Timestamps, DNS ids and ports differ between runs; names and counts do not.
set -euo pipefail


CLI=tl-dmc
SRV=tl-dms
SRV4=10.97.0.1
ALICE4=10.97.0.10
CLI4=$ALICE4
SRVMAC=02:00:00:97:00:01
CLIMAC=02:00:00:97:00:02
REALM=TAPLINE.TEST
ALICEPW=alice-pw-1

# shellcheck source=tools/lib/capture.sh
. "$(dirname "$0")/lib/capture.sh"
# shellcheck source=tools/lib/kdc.sh
. "$(dirname "$0")/lib/kdc.sh"
# shellcheck source=tools/lib/servers.sh
. "$(dirname "$0")/lib/servers.sh"
rec_outdir "${1:-}"
rec_install krb5-kdc krb5-admin-server krb5-user dnsmasq-base bind9-dnsutils tcpdump iproute2 \
    iputils-ping ethtool
rec_netns_unused
rec_init tl-mkpcaps-domains

in_cli() { ip netns exec $CLI "$@"; }

rec_link veth-dmc veth-dms
clients=()
for i in $(seq 10 29); do
    clients+=("10.97.0.$i")
    [ "$i" -eq 10 ] || ip -n $CLI addr add "10.97.0.$i/24" dev veth-dmc
done

kdc_start $REALM $SRV4 "alice:$ALICEPW"

# dnsmasq answers every name below from its own configuration; it never forwards.
cat >"$work/dnsmasq.conf" <<EOF
no-resolv
no-hosts
no-poll
listen-address=$SRV4
bind-interfaces
address=/example.com/$SRV4
address=/example.net/$SRV4
address=/example.org/$SRV4
address=/github.io/$SRV4
ptr-record=1.0.97.10.in-addr.arpa,dns.tapline.test
log-queries
log-facility=$work/dnsmasq.log
EOF
dnsmasq_start "$work/dnsmasq.conf" $SRV4 www.example.com

q() { # source name [type]
    in_cli dig +tries=1 +time=2 +noedns -b "$1" @$SRV4 "$2" "${3:-A}" >>"$work/dig.log" 2>&1 || true
}

CAP_IFACE=veth-dms
cap_start domains-rare "port 53 or port 88"
printf '%s\n' "$ALICEPW" | in_cli kinit alice >>"$work/kinit.log" 2>&1
for round in 1 2; do
    for i in "${!clients[@]}"; do
        src=${clients[$i]}
        q "$src" www.example.com
        q "$src" mail.example.com
        [ $((i % 4)) -eq 0 ] && q "$src" cdn.example.net
        [ "$round" -eq 1 ] && [ $((i % 5)) -eq 1 ] && q "$src" team.github.io
    done
done
q $ALICE4 rare-tools.example.org
q $ALICE4 dl.rare-tools.example.org
q $ALICE4 1.0.97.10.in-addr.arpa PTR
q $ALICE4 fileserver
q $ALICE4 printer.local
cap_stop domains-rare

echo "mkpcaps-domains.sh: done" >&2
