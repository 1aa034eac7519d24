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

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/../pcaps}
mkdir -p "$out"
out=$(cd "$out" && pwd)

[ "$(id -u)" -eq 0 ] || { echo "mkpcaps.sh: run as root" >&2; exit 1; }

CLI=tl-cli
SRV=tl-srv
SRV4=10.99.0.1
CLI4=10.99.0.2
UNUSED4=10.99.0.3
SRV6=fd99::1
CLI6=fd99::2
SRVMAC=02:00:00:99:00:01
CLIMAC=02:00:00:99:00:02
UNUSEDMAC=02:00:00:99:00:63

need="dnsmasq-base bind9-dnsutils curl tcpdump iproute2 iputils-ping ethtool"
if ! dpkg-query -W -f='${Status}\n' nginx-light nginx 2>/dev/null | grep -q "install ok installed"; then
    need="$need nginx-light"
fi
missing=""
for p in $need; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
if [ -n "$missing" ]; then
    echo "installing:$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
fi

for ns in $CLI $SRV; do
    if ip netns list | grep -qw "$ns"; then
        echo "mkpcaps.sh: namespace $ns already exists (another run?); remove it with: ip netns del $ns" >&2
        exit 1
    fi
done

# shellcheck source=tools/lib/capture.sh
. "$(dirname "$0")/lib/capture.sh"
rec_init tl-mkpcaps

in_cli() { ip netns exec $CLI "$@"; }
in_srv() { ip netns exec $SRV "$@"; }

# --- network ------------------------------------------------------------------
ip netns add $CLI
ip netns add $SRV
for ns in $CLI $SRV; do
    ip -n "$ns" link set lo up
    # no router solicitations, no DAD wait, no temporary addresses: quiet, fast links
    ip netns exec "$ns" sysctl -q -w net.ipv6.conf.default.router_solicitations=0 \
        net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.use_tempaddr=0
done
ip link add veth-cli netns $CLI type veth peer name veth-srv netns $SRV
ip -n $CLI link set veth-cli address $CLIMAC
ip -n $SRV link set veth-srv address $SRVMAC
ip -n $CLI addr add $CLI4/24 dev veth-cli
ip -n $SRV addr add $SRV4/24 dev veth-srv
ip -n $CLI addr add $CLI6/64 dev veth-cli nodad
ip -n $SRV addr add $SRV6/64 dev veth-srv nodad
# checksums and segmentation done in software, so the capture holds correct
# checksums and wire-sized segments
in_cli ethtool -K veth-cli tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
in_srv ethtool -K veth-srv tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
ip -n $CLI link set veth-cli up
ip -n $SRV link set veth-srv up
# an address in the subnet that nobody owns: a static neighbour entry lets the
# echo request go out on the wire, where nothing answers it
ip -n $CLI neigh add $UNUSED4 lladdr $UNUSEDMAC dev veth-cli nud permanent
for _ in $(seq 50); do
    in_cli ping -c 1 -W 1 -q $SRV4 >/dev/null 2>&1 && break
    sleep 0.1
done

# --- capture helpers ----------------------------------------------------------
CAP_IFACE=veth-srv

# --- DNS ----------------------------------------------------------------------
# all names under tapline.test (RFC 6761 reserved); no upstream, answers only these
long1=abcdefghijklmnopqrstuvwxyz0123456789abcdefghijklmnopqrstuvwxyz0
long2=label-two-of-a-rather-long-name-used-by-the-tapline-tests-xyz
long3=label-three-of-the-same-long-name-for-the-dns-dissector-tests
longname=$long1.$long2.$long3.long.tapline.test
ip netns exec $SRV dnsmasq --keep-in-foreground --conf-file=/dev/null --no-hosts --no-resolv \
    --no-poll --user=root --group=root --pid-file="$work/dnsmasq.pid" \
    --bind-interfaces --listen-address=$SRV4 --listen-address=$SRV6 \
    --log-facility="$work/dnsmasq.log" --cache-size=0 \
    --local=/tapline.test/ --local=/99.10.in-addr.arpa/ --domain-needed --bogus-priv \
    --host-record=www.tapline.test,10.99.0.10,fd99::10 \
    --host-record=mail.tapline.test,10.99.0.25 \
    --host-record=dc1.tapline.test,10.99.0.88,fd99::88 \
    --host-record=$longname,10.99.0.77 \
    --cname=web.tapline.test,www.tapline.test \
    --cname=portal.tapline.test,web.tapline.test \
    --address=/wild.tapline.test/10.99.0.99 \
    --mx-host=tapline.test,mail.tapline.test,10 \
    --txt-record=tapline.test,"v=spf1 ip4:10.99.0.25 -all" \
    --txt-record=_dmarc.tapline.test,"v=DMARC1; p=reject" \
    --srv-host=_ldap._tcp.tapline.test,dc1.tapline.test,389,0,100 \
    --srv-host=_kerberos._udp.tapline.test,dc1.tapline.test,88,0,100 \
    --ptr-record=5.0.99.10.in-addr.arpa,printer.tapline.test &
pids+=($!)
for _ in $(seq 50); do
    in_cli dig +time=1 +tries=1 @$SRV4 www.tapline.test A >/dev/null 2>&1 && break
    sleep 0.1
done

q() { in_cli dig +time=2 +tries=1 "$@" >/dev/null; }

cap_start dns-udp-basic "udp port 53"
q @$SRV4 www.tapline.test A
q @$SRV4 www.tapline.test AAAA
q @$SRV4 web.tapline.test A
q @$SRV4 portal.tapline.test A
q @$SRV4 tapline.test MX
q @$SRV4 tapline.test TXT
q @$SRV4 _dmarc.tapline.test TXT
q @$SRV4 _ldap._tcp.tapline.test SRV
q @$SRV4 -x 10.99.0.10
q @$SRV4 -x 10.99.0.5
q @$SRV4 foo.wild.tapline.test A
q @$SRV4 nosuchhost.tapline.test A
q @$SRV4 +subnet=192.0.2.0/24 www.tapline.test A
q @$SRV4 $longname A
q @$SRV6 dc1.tapline.test AAAA
q @$SRV6 _kerberos._udp.tapline.test SRV
cap_stop dns-udp-basic

cap_start dns-tcp "tcp port 53"
q +tcp @$SRV4 www.tapline.test A
q +tcp +keepopen @$SRV4 tapline.test MX tapline.test TXT
q +tcp @$SRV4 nosuchhost.tapline.test A
q +tcp @$SRV6 _ldap._tcp.tapline.test SRV
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
cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 64; }
http {
    types { text/html html; image/png png; text/plain txt; }
    default_type application/octet-stream;
    access_log off;
    server_tokens off;
    etag on;
    keepalive_timeout 10;
    client_body_temp_path $work/nginx-body;
    proxy_temp_path $work/nginx-proxy;
    fastcgi_temp_path $work/nginx-fastcgi;
    uwsgi_temp_path $work/nginx-uwsgi;
    scgi_temp_path $work/nginx-scgi;
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
}
EOF
# in the foreground, as a child of this script, so cleanup stops and reaps it
ip netns exec $SRV nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" &
pids+=($!)
for _ in $(seq 50); do
    in_cli curl -s -o /dev/null --max-time 1 http://$SRV4/ && break
    sleep 0.1
done

c() { in_cli curl -s --max-time 5 "$@" >/dev/null; }

cap_start http-basic "tcp port 80"
# one connection, four requests (keep-alive): page, image, 404, page again
c -H 'Host: www.tapline.test' http://$SRV4/ http://$SRV4/pixel.png http://$SRV4/missing.html http://$SRV4/index.html
c -I -H 'Host: www.tapline.test' http://$SRV4/pixel.png
c -A 'tapline-test/1.0 (curl)' -H 'Host: www.tapline.test' \
    -H 'Content-Type: application/x-www-form-urlencoded' -d 'name=tapline&value=42' http://$SRV4/submit
c -H 'Host: www.tapline.test' http://$SRV4/private/
c -u user:pass -H 'Host: www.tapline.test' http://$SRV4/private/
c -g -A 'tapline-test/1.0 (curl; ipv6)' -H 'Host: www.tapline.test' "http://[$SRV6]/" "http://[$SRV6]/missing.html"
cap_stop http-basic

# --- ICMP ---------------------------------------------------------------------
# fresh neighbour caches so the capture starts with ARP and neighbour discovery
ip -n $CLI neigh flush dev veth-cli nud reachable nud stale nud delay nud probe 2>/dev/null || true
ip -n $SRV neigh flush dev veth-srv 2>/dev/null || true
cap_start icmp-ping "icmp or icmp6 or arp"
in_cli ping -q -c 3 -i 0.2 -s 56 -p 74617020 $SRV4 >/dev/null
in_cli ping -6 -q -c 3 -i 0.2 -s 56 -p 74617020 $SRV6 >/dev/null
in_cli ping -q -c 1 -W 1 $UNUSED4 >/dev/null || true
cap_stop icmp-ping

echo "mkpcaps.sh: done" >&2
