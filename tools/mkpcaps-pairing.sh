#!/bin/bash
# mkpcaps-pairing.sh - record the captures on which every request must still be
# written when its answer is missing, cut or lost, deep HTTP pipelines pair, and
# requests with conflicting framing show what each server would read.
#
# Run as root: tools/mkpcaps-pairing.sh [OUTDIR]   (default: pcaps/ next to this script)
#
# Real servers and clients in two network namespaces, as in mkpcaps-ad.sh: MIT
# krb5kdc and nginx (configs of our own in a scratch directory; nothing under /etc
# is read or changed) and a few lines of Python that listen without answering or
# answer half, in the server namespace; kinit, kvno and a raw HTTP client (Python,
# one socket, the bytes as given) in the client namespace; tcpdump on the
# server-side veth. Nothing leaves the namespaces. Everything is torn down on exit.
#
#   tl-pgc  veth-pgc 02:00:00:95:00:02  10.95.0.2/24  (client)
#   tl-pgs  veth-pgs 02:00:00:95:00:01  10.95.0.1/24  (server: KDC, HTTP)
#
# Writes (pcaps/README.md says what each holds):
#   krb-lost.pcap            a logon over TCP, a TGS-REP the capture lost (its frame is
#                            deleted, as a span port drops one), a KDC that stops answering
#                            (TCP and UDP), and an AS-REP cut by the capture's end
#   http-pipeline.pcap       40 pipelined requests as nmap sends them; 30 to a server that
#                            closes after 10; one never answered; one answered half
#   attack-http-smuggle.pcap TE.CL, CL.TE, odd Transfer-Encodings, differing lengths and
#                            Expect: 100-continue, each on its own connection to nginx
# Ports, timestamps, nonces and keys differ between runs; what the requests say,
# the pipelines' depths and the frames deleted do not.
# KEEP=1 keeps the scratch directory (configs, logs) for debugging.
# shellcheck disable=SC2129  # one client command, one log append: clearer than grouping
set -euo pipefail

CLI=tl-pgc
SRV=tl-pgs
SRV4=10.95.0.1
CLI4=10.95.0.2
SRVMAC=02:00:00:95:00:01
CLIMAC=02:00:00:95:00:02
REALM=TAPLINE.TEST
HOST=www.tapline.test
ALICEPW=alice-pw-1
BOBPW=bob-pw-2
NMAP='Mozilla/5.0 (compatible; Nmap Scripting Engine; https://nmap.org/book/nse.html)'

# shellcheck source=tools/lib/capture.sh
. "$(dirname "$0")/lib/capture.sh"
# shellcheck source=tools/lib/kdc.sh
. "$(dirname "$0")/lib/kdc.sh"
# shellcheck source=tools/lib/servers.sh
. "$(dirname "$0")/lib/servers.sh"
rec_outdir "${1:-}"

nginx="nginx-light"
dpkg-query -W -f='${Status}\n' nginx-light nginx 2>/dev/null | grep -q "install ok installed" && nginx=""
rec_install krb5-kdc krb5-admin-server krb5-user curl tcpdump tshark iproute2 iputils-ping ethtool \
    util-linux python3 $nginx
rec_netns_unused
rec_init tl-mkpcaps-pairing
rec_link veth-pgc veth-pgs
CAP_IFACE=veth-pgs

printf '127.0.0.1\tlocalhost\n%s\t%s kdc.tapline.test\n' $SRV4 $HOST >"$work/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$work/resolv.conf"
in_cli() { rec_in_cli "$@"; }

# rawhttp.py HOST PORT FILE [WAIT]: sends FILE's bytes on one connection as they
# are, reads what comes back for up to WAIT seconds (default 2; it stops early when
# the server closes), then closes.
cat >"$work/rawhttp.py" <<'EOF'
import socket, sys, time
host, port, path = sys.argv[1], int(sys.argv[2]), sys.argv[3]
wait = float(sys.argv[4]) if len(sys.argv) > 4 else 2.0
s = socket.create_connection((host, port))
s.sendall(open(path, "rb").read())
end = time.time() + wait
s.settimeout(0.2)
while time.time() < end:
    try:
        if not s.recv(65536):
            break
    except socket.timeout:
        pass
s.close()
EOF
# halfhttp.py PORT: the first connection is read and never answered; the second
# gets the start of a response (its Content-Length promises more), then a close.
cat >"$work/halfhttp.py" <<'EOF'
import socket, sys
ls = socket.socket()
ls.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
ls.bind(("0.0.0.0", int(sys.argv[1])))
ls.listen(4)
print("listening", flush=True)
for n in range(2):
    c, _ = ls.accept()
    c.recv(65536)
    if n == 0:
        while c.recv(65536):
            pass
    else:
        c.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: text/plain\r\nContent-Length: 400\r\n\r\nthe first")
    c.close()
EOF
raw() { # port file [wait]
    in_cli python3 "$work/rawhttp.py" $SRV4 "$@"
}
# lastframe PCAP FILTER: the last frame number tshark shows for FILTER.
lastframe() {
    tshark -r "$1" -Y "$2" -T fields -e frame.number 2>/dev/null | tail -n 1
}

# --- Kerberos -------------------------------------------------------------------
kdc_start $REALM $SRV4 "alice:$ALICEPW" "bob:$BOBPW" "HTTP/$HOST" "cifs/$HOST"
kdcpid=${pids[-1]}
kdc_config "$work/krb5-tcp.conf" $REALM $SRV4 "udp_preference_limit = 1"
tcp() { KRB5_CONFIG=$work/krb5-tcp.conf "$@"; }

cap_start krb-lost "port 88"
# 1. A logon over TCP: AS-REQ -> KDC_ERR_PREAUTH_REQUIRED; AS-REQ with PA-ENC-TIMESTAMP on a
#    new connection -> AS-REP; TGS-REQ -> TGS-REP.
printf '%s\n' "$ALICEPW" | tcp in_cli kinit alice >>"$work/kinit.log" 2>&1
tcp in_cli kvno HTTP/$HOST >>"$work/kinit.log" 2>&1
# 2. A TGS-REQ whose TGS-REP the capture loses (deleted below; the client's ACK covers it).
tcp in_cli kvno cifs/$HOST >>"$work/kinit.log" 2>&1
# 3. The KDC stops answering: a TCP AS-REQ whose client gives up and closes, and UDP
#    AS-REQs retried into silence; then the KDC is killed, so nothing queued is answered.
kill -STOP "$kdcpid"
printf '%s\n' "$BOBPW" | tcp timeout 3 ip netns exec $CLI kinit -c "FILE:$work/cc-bob" bob \
    >>"$work/kinit.log" 2>&1 || true
printf '%s\n' "$BOBPW" | timeout 3 ip netns exec $CLI kinit -c "FILE:$work/cc-bob" bob \
    >>"$work/kinit.log" 2>&1 || true
kill -KILL "$kdcpid"
wait "$kdcpid" 2>/dev/null || true
ip netns exec $SRV krb5kdc -n -r $REALM &
pids+=($!)
sleep 1
# 4. A logon over TCP on a link with a small MTU: its AS-REP comes in two segments, and the
#    capture ends after the first (cut below).
ip -n $CLI link set veth-pgc mtu 400
ip -n $SRV link set veth-pgs mtu 400
printf '%s\n' "$BOBPW" | tcp in_cli kinit -c "FILE:$work/cc-bob3" bob >>"$work/kinit.log" 2>&1
cap_stop krb-lost
ip -n $CLI link set veth-pgc mtu 1500
ip -n $SRV link set veth-pgs mtu 1500

# The lost TGS-REP (the last one over TCP), then the end after the last AS-REP's first segment.
f=$out/krb-lost.pcap
lost=$(lastframe "$f" "tcp && kerberos.msg_type == 13")
editcap "$f" "$work/krb-1.pcap" "$lost" >/dev/null
stream=$(tshark -r "$work/krb-1.pcap" -Y "tcp && kerberos.msg_type == 11" -T fields -e tcp.stream 2>/dev/null | tail -n 1)
first=$(tshark -r "$work/krb-1.pcap" -Y "tcp.stream == $stream && tcp.srcport == 88 && tcp.len > 0" \
    -T fields -e frame.number 2>/dev/null | head -n 1)
editcap -r "$work/krb-1.pcap" "$f" "1-$first" >/dev/null
echo "$f: TGS-REP frame $lost deleted, cut after frame $first" >&2

# --- HTTP -----------------------------------------------------------------------
nginx_start "http://$SRV4/" "
    server {
        listen 80;
        location / { return 404; }
    }
    server {
        listen 8000;
        keepalive_requests 10;
        location / { return 404; }
    }"
ip netns exec $SRV python3 "$work/halfhttp.py" 8080 >"$work/halfhttp.log" 2>&1 &
pids+=($!)
for _ in $(seq 50); do grep -q listening "$work/halfhttp.log" 2>/dev/null && break; sleep 0.1; done

pipeline() { # count: pipelined GETs as nmap's http library sends them
    local i
    for i in $(seq 1 "$1"); do
        printf 'GET /nmaplowercheck%04d HTTP/1.1\r\nConnection: keep-alive\r\nHost: %s\r\nUser-Agent: %s\r\n\r\n' \
            "$i" $SRV4 "$NMAP"
    done
}

cap_start http-pipeline "tcp port 80 or tcp port 8000 or tcp port 8080"
pipeline 40 >"$work/p40"
raw 80 "$work/p40"
pipeline 30 >"$work/p30"
raw 8000 "$work/p30"
printf 'GET /never HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/8.0\r\n\r\n' $HOST >"$work/never"
raw 8080 "$work/never" 1
printf 'GET /half HTTP/1.1\r\nHost: %s\r\nUser-Agent: curl/8.0\r\n\r\n' $HOST >"$work/half"
raw 8080 "$work/half" 1
cap_stop http-pipeline

# --- HTTP request smuggling ----------------------------------------------------------
smuggle() { # name: the request bytes, one connection each
    printf '%b' "$2" >"$work/sm-$1"
    raw 80 "$work/sm-$1" 1
}
gpost='GPOST / HTTP/1.1\r\nContent-Type: application/x-www-form-urlencoded\r\nContent-Length: 15\r\n\r\nx=1'
glen=$(printf '%b' "$gpost" | wc -c)
cap_start attack-http-smuggle "tcp port 80"
smuggle te-cl "POST / HTTP/1.1\r\nHost: $HOST\r\nContent-Length: 4\r\nTransfer-Encoding: chunked\r\n\r\n$(printf '%x' "$glen")\r\n$gpost\r\n0\r\n\r\n"
smuggle cl-te "POST / HTTP/1.1\r\nHost: $HOST\r\nContent-Length: 6\r\nTransfer-Encoding: chunked\r\n\r\n0\r\n\r\nGPOST /next HTTP/1.1\r\nHost: $HOST\r\n\r\n"
smuggle te-list "POST / HTTP/1.1\r\nHost: $HOST\r\nTransfer-Encoding: chunked, identity\r\nContent-Length: 5\r\n\r\n0\r\n\r\n"
smuggle xchunked "POST / HTTP/1.1\r\nHost: $HOST\r\nTransfer-Encoding: xchunked\r\nContent-Length: 37\r\n\r\n0\r\n\r\nGET /admin HTTP/1.1\r\nHost: in\r\n\r\n"
smuggle te-fold "POST / HTTP/1.1\r\nHost: $HOST\r\nTransfer-Encoding:\r\n chunked\r\nContent-Length: 3\r\n\r\n0\r\n\r\n"
smuggle cl-cl "POST / HTTP/1.1\r\nHost: $HOST\r\nContent-Length: 0\r\nContent-Length: 22\r\n\r\nGET /cl2 HTTP/1.1\r\n\r\n"
smuggle expect-0 "POST / HTTP/1.1\r\nHost: $HOST\r\nExpect: 100-continue\r\nContent-Length: 0\r\n\r\nGET /e0 HTTP/1.1\r\nHost: $HOST\r\n\r\n"
smuggle expect-req "POST / HTTP/1.1\r\nHost: $HOST\r\nExpect: 100-continue\r\nContent-Length: 22\r\n\r\nGET /e1 HTTP/1.1\r\n\r\n"
# and an ordinary upload under Expect, which is none of these
printf 'name=tapline&value=42' >"$work/form"
in_cli curl -s -o /dev/null -H 'Expect: 100-continue' --data-binary @"$work/form" "http://$HOST/up" || true
cap_stop attack-http-smuggle
