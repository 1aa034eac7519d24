#!/bin/bash
# mkpcaps-proxy.sh - record the project's captures of a SOCKS proxy and of DNS on odd ports.
#
# Run as root: tools/mkpcaps-proxy.sh [OUTDIR]   (default: pcaps/ next to this script)
#
# The layout of mkpcaps.sh on a subnet of its own: two network namespaces joined
# by a veth pair, servers in one, clients in the other, tcpdump on the server's
# veth. Nothing leaves the namespaces. Everything is torn down on exit.
#
#   tl-pxc  veth-pxc 02:00:00:95:00:02  10.95.0.2/24  fd95::2/64   (client)
#   tl-pxs  veth-pxs 02:00:00:95:00:01  10.95.0.1/24  fd95::1/64   (server)
#
# socks.pcap: Debian's Dante (danted) on port 1080 and nginx on port 80 in the
# server namespace; curl through the proxy with SOCKS 5 (names resolved by the
# proxy, or addresses; no login, or a username/password login, right and
# wrong), SOCKS 4 and SOCKS 4A. Dante reads the logins from passwd and shadow
# files of its own (alice, password "wonderland"), bind-mounted over /etc in a
# private mount namespace, as are its hosts file; nothing under /etc changes.
# One destination is refused by a rule, one port is closed.
#
# dns-odd-ports.pcap: dnsmasq (authoritative for tapline.test, no upstream)
# answering on UDP and TCP port 5300 and on UDP port 443 (where DNSCrypt
# resolvers answer their certificate queries); dig asks on those ports.
#
# Timestamps, ports and TCP sequence numbers differ between runs; the requests,
# names, answers and replies do not. KEEP=1 keeps the scratch directory.
set -euo pipefail

# shellcheck source=tools/lib/capture.sh
. "$(dirname "$0")/lib/capture.sh"
# shellcheck source=tools/lib/servers.sh
. "$(dirname "$0")/lib/servers.sh"
rec_outdir "${1:-}"

CLI=tl-pxc
SRV=tl-pxs
SRV4=10.95.0.1
CLI4=10.95.0.2
SRV6=fd95::1
CLI6=fd95::2
SRVMAC=02:00:00:95:00:01
CLIMAC=02:00:00:95:00:02
BLOCKED4=10.95.0.9

nginx="nginx-light"
dpkg-query -W -f='${Status}\n' nginx-light nginx 2>/dev/null | grep -q "install ok installed" && nginx=""
rec_install dante-server dnsmasq-base bind9-dnsutils curl openssl tcpdump iproute2 iputils-ping \
    ethtool $nginx
rec_netns_unused
rec_init tl-mkpcaps-proxy

in_cli() { ip netns exec $CLI "$@"; }

rec_link veth-pxc veth-pxs
CAP_IFACE=veth-pxs
# the refused destination is on the link, so Dante's rule, not routing, refuses it
ip -n $SRV addr add $BLOCKED4/32 dev veth-pxs

# --- web server -------------------------------------------------------------------
www=$work/www
mkdir -p "$www"
printf 'hello through the proxy\n' >"$www/index.html"
touch -d '2026-01-01 00:00:00 UTC' "$www/index.html"
chmod -R a+rX "$www"
nginx_start "http://$SRV4/" "    types { text/html html; }
    server {
        listen $SRV4:80;
        listen [$SRV6]:80;
        server_name www.tapline.test;
        root $www;
    }"

# --- Dante --------------------------------------------------------------------------
cat >"$work/hosts" <<EOF
127.0.0.1 localhost
$SRV4 www.tapline.test
$SRV6 www6.tapline.test
$BLOCKED4 blocked.tapline.test
EOF
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\nalice:x:1001:1001:alice:/nonexistent:/usr/sbin/nologin\n' >"$work/passwd"
printf 'root:x:0:\nnogroup:x:65534:\nalice:x:1001:\n' >"$work/group"
printf 'root:*:19000:0:99999:7:::\nnobody:*:19000:0:99999:7:::\nalice:%s:19000:0:99999:7:::\n' \
    "$(openssl passwd -6 -salt tapline wonderland)" >"$work/shadow"
chmod 600 "$work/shadow"
cat >"$work/danted.conf" <<EOF
logoutput: $work/danted.log
internal: $SRV4 port = 1080
internal: $SRV6 port = 1080
external: veth-pxs
clientmethod: none
socksmethod: username none
user.privileged: root
user.unprivileged: nobody
client pass { from: 0.0.0.0/0 to: 0.0.0.0/0 }
client pass { from: ::/0 to: ::/0 }
socks block { from: 0.0.0.0/0 to: $BLOCKED4/32 log: error }
socks pass { from: 0.0.0.0/0 to: 0.0.0.0/0 log: error }
socks pass { from: ::/0 to: ::/0 log: error }
EOF
# shellcheck disable=SC2016  # $0 and $@ expand in the inner sh
ip netns exec $SRV unshare -m --propagation private sh -c \
    'for f in hosts passwd group shadow; do mount --bind "$0/$f" "/etc/$f"; done; exec "$@"' \
    "$work" danted -N 1 -f "$work/danted.conf" &
pids+=($!)
for _ in $(seq 50); do
    in_cli curl -s -o /dev/null --max-time 1 -x "socks5h://$SRV4:1080" http://www.tapline.test/ && break
    sleep 0.2
done

c() { in_cli curl -s -o /dev/null --max-time 5 "$@" || true; }

cap_start socks "tcp port 1080"
c -x "socks5h://$SRV4:1080" http://www.tapline.test/
c -x "socks5://alice:wonderland@$SRV4:1080" -H 'Host: www.tapline.test' "http://$SRV4/"
c -x "socks5h://alice:guessed@$SRV4:1080" http://www.tapline.test/
c -x "socks4://$SRV4:1080" -H 'Host: www.tapline.test' "http://$SRV4/"
c -x "socks4a://$SRV4:1080" http://www.tapline.test/index.html
c -x "socks5h://$SRV4:1080" http://blocked.tapline.test/
c -x "socks5://$SRV4:1080" "http://$SRV4:81/"
c -g -x "socks5://[$SRV6]:1080" -H 'Host: www6.tapline.test' "http://[$SRV6]/"
cap_stop socks

# --- DNS on odd ports ---------------------------------------------------------------
for port in 5300 443; do
    cat >"$work/dnsmasq-$port.conf" <<EOF
no-hosts
no-resolv
no-poll
user=root
group=root
bind-interfaces
listen-address=$SRV4
port=$port
log-facility=$work/dnsmasq-$port.log
cache-size=0
local=/tapline.test/
host-record=www.tapline.test,10.95.0.10
txt-record=2.dnscrypt-cert.tapline.test,"DNSC certificate of a test resolver"
txt-record=t0a1b2c3d4.tunnel.tapline.test,"tunnelled reply"
EOF
    dnsmasq_start "$work/dnsmasq-$port.conf" $SRV4 www.tapline.test $port
done

q() { in_cli dig +time=2 +tries=1 "$@" >/dev/null || true; }

cap_start dns-odd-ports "udp port 5300 or tcp port 5300 or udp port 443"
q -p 5300 @$SRV4 www.tapline.test A
q -p 5300 @$SRV4 t0a1b2c3d4.tunnel.tapline.test TXT
q -p 5300 @$SRV4 nosuchhost.tapline.test A
q +tcp -p 5300 @$SRV4 www.tapline.test A
q -p 443 @$SRV4 2.dnscrypt-cert.tapline.test TXT
q -p 443 @$SRV4 2.dnscrypt-cert.tapline.test TXT
cap_stop dns-odd-ports

echo "mkpcaps-proxy.sh: done" >&2
