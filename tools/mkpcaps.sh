#!/bin/bash
# mkpcaps.sh - record the project's own small captures from real servers and clients.
#
# Run as root: tools/mkpcaps.sh [OUTDIR]   (default: pcaps/ next to this script)
#
# Builds two network namespaces joined by a veth pair (so the captures carry real
# Ethernet headers and fixed MACs), runs dnsmasq and nginx in the server namespace,
# dig, curl and ping in the client namespace, and records with tcpdump on the
# server-side veth. Nothing leaves the namespaces: every address below exists only
# inside them. Everything is torn down on exit, even on error.
#
#   tl-cli  veth-cli 02:00:00:99:00:02  10.99.0.2/24  fd99::2/64
#   tl-srv  veth-srv 02:00:00:99:00:01  10.99.0.1/24  fd99::1/64
#
# Writes dns-udp-basic.pcap, dns-tcp.pcap, http-basic.pcap, icmp-ping.pcap.
# Timestamps, DNS ids, ports and TCP sequence numbers differ between runs; the
# content (names, records, URLs, headers, bodies, packet counts) does not.
# KEEP=1 keeps the scratch directory (configs, tcpdump and server logs) for debugging.
set -euo pipefail

# shellcheck source=tools/lib/capture.sh
. "$(dirname "$0")/lib/capture.sh"
# shellcheck source=tools/lib/servers.sh
. "$(dirname "$0")/lib/servers.sh"
rec_outdir "${1:-}"
rec_layout tl-cli tl-srv 99 v6
UNUSED4=10.99.0.3
UNUSEDMAC=02:00:00:99:00:63

rec_install dnsmasq-base bind9-dnsutils curl tcpdump iproute2 iputils-ping ethtool "nginx-light|nginx"
rec_netns_unused
rec_init tl-mkpcaps

in_cli() { ip netns exec "$CLI" "$@"; }

# --- network ------------------------------------------------------------------
rec_link veth-cli veth-srv
# an address in the subnet that nobody owns: a static neighbour entry lets the
# echo request go out on the wire, where nothing answers it
ip -n "$CLI" neigh add $UNUSED4 lladdr $UNUSEDMAC dev veth-cli nud permanent

# --- capture helpers ----------------------------------------------------------
CAP_IFACE=veth-srv

# --- DNS ----------------------------------------------------------------------
# all names under tapline.test (RFC 6761 reserved); no upstream, answers only these
long1=abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0
long2=label-two-of-a-rather-long-name-used-by-the-tapline-tests-xyz
long3=label-three-of-the-same-long-name-for-the-dns-dissector-tests
longname=$long1.$long2.$long3.long.tapline.test
cat >"$work/dnsmasq.conf" <<EOF
no-hosts
no-resolv
no-poll
user=root
group=root
bind-interfaces
listen-address=$SRV4
listen-address=$SRV6
log-facility=$work/dnsmasq.log
cache-size=0
local=/tapline.test/
local=/99.10.in-addr.arpa/
domain-needed
bogus-priv
host-record=www.tapline.test,10.99.0.10,fd99::10
host-record=mail.tapline.test,10.99.0.25
host-record=dc1.tapline.test,10.99.0.88,fd99::88
host-record=$longname,10.99.0.77
cname=web.tapline.test,www.tapline.test
cname=portal.tapline.test,web.tapline.test
address=/wild.tapline.test/10.99.0.99
mx-host=tapline.test,mail.tapline.test,10
txt-record=tapline.test,"v=spf1 ip4:10.99.0.25 -all"
txt-record=_dmarc.tapline.test,"v=DMARC1; p=reject"
srv-host=_ldap._tcp.tapline.test,dc1.tapline.test,389,0,100
srv-host=_kerberos._udp.tapline.test,dc1.tapline.test,88,0,100
ptr-record=5.0.99.10.in-addr.arpa,printer.tapline.test
EOF
dnsmasq_start "$work/dnsmasq.conf" "$SRV4" www.tapline.test

q() { in_cli dig +time=2 +tries=1 "$@" >/dev/null; }

cap_start dns-udp-basic "udp port 53"
q "@$SRV4" www.tapline.test A
q "@$SRV4" www.tapline.test AAAA
q "@$SRV4" web.tapline.test A
q "@$SRV4" portal.tapline.test A
q "@$SRV4" tapline.test MX
q "@$SRV4" tapline.test TXT
q "@$SRV4" _dmarc.tapline.test TXT
q "@$SRV4" _ldap._tcp.tapline.test SRV
q "@$SRV4" -x 10.99.0.10
q "@$SRV4" -x 10.99.0.5
q "@$SRV4" foo.wild.tapline.test A
q "@$SRV4" nosuchhost.tapline.test A
q "@$SRV4" +subnet=192.0.2.0/24 www.tapline.test A
q "@$SRV4" $longname A
q "@$SRV6" dc1.tapline.test AAAA
q "@$SRV6" _kerberos._udp.tapline.test SRV
cap_stop dns-udp-basic

cap_start dns-tcp "tcp port 53"
q +tcp "@$SRV4" www.tapline.test A
q +tcp +keepopen "@$SRV4" tapline.test MX tapline.test TXT
q +tcp "@$SRV4" nosuchhost.tapline.test A
q +tcp "@$SRV6" _ldap._tcp.tapline.test SRV
cap_stop dns-tcp

# --- HTTP ---------------------------------------------------------------------
www=$work/www
mkdir -p "$www/private"
cat >"$www/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>tapline test page</title></head>
<body><h1>tapline</h1><p>A small page served for the capture tests.</p></body></html>
EOF
# a 67-byte 1x1 PNG
printf '%s' 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==' |
    base64 -d >"$www/pixel.png"
printf 'secret page\n' >"$www/private/index.html"
printf 'user:{PLAIN}pass\n' >"$work/htpasswd"
touch -d '2026-01-01 00:00:00 UTC' "$www/index.html" "$www/pixel.png" "$www/private/index.html"
chmod -R a+rX "$www"
http=$(cat <<EOF
    types { text/html html; image/png png; text/plain txt; }
    default_type application/octet-stream;
    etag on;
    server {
        listen $SRV4:80;
        listen [$SRV6]:80;
        server_name www.tapline.test;
        root $www;
        location /private/ {
            auth_basic "tapline";
            auth_basic_user_file $work/htpasswd;
        }
        location = /submit {
            client_max_body_size 4k;
            default_type text/plain;
            return 201 "created\n";
        }
    }
EOF
)
nginx_start "http://$SRV4/" "$http"

c() { in_cli curl -s --max-time 5 "$@" >/dev/null; }

cap_start http-basic "tcp port 80"
# one connection, four requests (keep-alive): page, image, 404, page again
c -H 'Host: www.tapline.test' "http://$SRV4/" "http://$SRV4/pixel.png" "http://$SRV4/missing.html" "http://$SRV4/index.html"
c -I -H 'Host: www.tapline.test' "http://$SRV4/pixel.png"
c -A 'tapline-test/1.0 (curl)' -H 'Host: www.tapline.test' \
    -H 'Content-Type: application/x-www-form-urlencoded' -d 'name=tapline&value=42' "http://$SRV4/submit"
c -H 'Host: www.tapline.test' "http://$SRV4/private/"
c -u user:pass -H 'Host: www.tapline.test' "http://$SRV4/private/"
c -g -A 'tapline-test/1.0 (curl; ipv6)' -H 'Host: www.tapline.test' "http://[$SRV6]/" "http://[$SRV6]/missing.html"
cap_stop http-basic

# --- ICMP ---------------------------------------------------------------------
# fresh neighbour caches so the capture starts with ARP and neighbour discovery
ip -n "$CLI" neigh flush dev veth-cli nud reachable nud stale nud delay nud probe 2>/dev/null || true
ip -n "$SRV" neigh flush dev veth-srv 2>/dev/null || true
cap_start icmp-ping "icmp or icmp6 or arp"
in_cli ping -q -c 3 -i 0.2 -s 56 -p 74617020 "$SRV4" >/dev/null
in_cli ping -6 -q -c 3 -i 0.2 -s 56 -p 74617020 "$SRV6" >/dev/null
in_cli ping -q -c 1 -W 1 $UNUSED4 >/dev/null || true
cap_stop icmp-ping

echo "mkpcaps.sh: done" >&2
