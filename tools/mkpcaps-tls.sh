#!/bin/bash
# mkpcaps-tls.sh - record the project's own TLS capture from a real server and client.
#
# Run as root: tools/mkpcaps-tls.sh [OUTDIR]   (default: pcaps/ next to this script)
#
# The same layout as mkpcaps.sh, with other names and another subnet so the
# scripts never clash: two network namespaces joined by a veth pair, Debian's
# nginx serving HTTPS in the server namespace, curl -k in the client namespace,
# tcpdump on the server-side veth. Nothing leaves the namespaces: every address
# below exists only inside them. Everything is torn down on exit, even on error.
#
#   tl-tlc  veth-tlc 02:00:00:97:00:02  10.97.0.2/24  fd97::2/64   (client)
#   tl-tls  veth-tls 02:00:00:97:00:01  10.97.0.1/24  fd97::1/64   (server)
#
# Certificates are made afresh in the scratch directory with openssl: a test CA
# ("tapline test CA") signs the certificate of www.tapline.test (RSA 2048, SANs
# www.tapline.test, tapline.test, *.cdn.tapline.test, 10.97.0.1 and an e-mail
# address), served with the CA certificate as its chain; requests without a
# matching server name get the default server's self-signed certificate (EC
# P-256, CN 10.97.0.1). Both are valid for 365 days from the recording.
#
# Writes tls-basic.pcap: nine connections, each one GET / (see pcaps/README.md).
# Timestamps, ports, TCP sequence numbers, random values, keys and certificates
# (so their SHA-1s and validity dates) differ between runs; versions, cipher
# suites, server names, ALPN, JA3/JA3S and the names in the certificates do not.
# KEEP=1 keeps the scratch directory (certificates, configs, logs) for debugging.
set -euo pipefail

# shellcheck source=tools/lib/capture.sh
. "$(dirname "$0")/lib/capture.sh"
# shellcheck source=tools/lib/servers.sh
. "$(dirname "$0")/lib/servers.sh"
rec_outdir "${1:-}"

rec_layout tl-tlc tl-tls 97 v6
HOST=www.tapline.test
# 98 characters: longer than the 79 that nDPI 4.2 keeps of a server name
LONGHOST=a-server-name-longer-than-seventy-nine-characters.which-ndpi-cuts-from-the-left.names.tapline.test

rec_install openssl curl tcpdump iproute2 iputils-ping ethtool "nginx-light|nginx"
rec_netns_unused
rec_init tl-mkpcaps-tls

in_cli() { ip netns exec "$CLI" "$@"; }

rec_link veth-tlc veth-tls
CAP_IFACE=veth-tls

# --- certificates ---------------------------------------------------------------
pki=$work/pki
mkdir -p "$pki"
ossl() { openssl "$@" 2>>"$work/openssl.log"; }
ossl req -x509 -newkey rsa:2048 -nodes -days 3650 -keyout "$pki/ca.key" -out "$pki/ca.crt" \
    -subj "/C=XX/O=tapline test/OU=test CA/CN=tapline test CA" \
    -addext "basicConstraints=critical,CA:TRUE" -addext "keyUsage=critical,keyCertSign,cRLSign"
ossl req -newkey rsa:2048 -nodes -keyout "$pki/www.key" -out "$pki/www.csr" \
    -subj "/C=XX/ST=Test State/L=Namespace/O=tapline test/OU=capture/CN=$HOST"
cat >"$pki/www.ext" <<EOF
basicConstraints = CA:FALSE
keyUsage = critical, digitalSignature, keyEncipherment
extendedKeyUsage = serverAuth
subjectAltName = DNS:$HOST, DNS:tapline.test, DNS:*.cdn.tapline.test, IP:$SRV4, email:admin@tapline.test
EOF
ossl x509 -req -in "$pki/www.csr" -CA "$pki/ca.crt" -CAkey "$pki/ca.key" -CAcreateserial \
    -days 365 -sha256 -extfile "$pki/www.ext" -out "$pki/www.crt"
cat "$pki/www.crt" "$pki/ca.crt" >"$pki/www-chain.crt"
ossl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 365 \
    -keyout "$pki/default.key" -out "$pki/default.crt" -subj "/O=tapline test/CN=$SRV4" \
    -addext "subjectAltName=IP:$SRV4"

# --- HTTPS server ---------------------------------------------------------------
www=$work/www
mkdir -p "$www"
printf '<!DOCTYPE html>\n<html><head><title>tapline TLS test</title></head><body>tls</body></html>\n' \
    >"$www/index.html"
touch -d '2026-01-01 00:00:00 UTC' "$www/index.html"
chmod -R a+rX "$www" "$work"
nginx_start "https://$SRV4/" "    types { text/html html; }
    ssl_protocols TLSv1.2 TLSv1.3;
    ssl_session_tickets off;
    ssl_session_cache off;
    server {
        listen $SRV4:443 ssl http2 default_server;
        listen [$SRV6]:443 ssl http2 default_server;
        ssl_certificate $pki/default.crt;
        ssl_certificate_key $pki/default.key;
        root $www;
    }
    server {
        listen $SRV4:443 ssl http2;
        listen [$SRV6]:443 ssl http2;
        listen $SRV4:993 ssl;
        server_name $HOST;
        ssl_certificate $pki/www-chain.crt;
        ssl_certificate_key $pki/www.key;
        root $www;
    }"

# One connection per call; --resolve gives the name (and so the SNI) without DNS.
c() { in_cli curl -sk --max-time 5 -o /dev/null --resolve "$HOST:443:$SRV4" "$@"; }

cap_start tls-basic "tcp port 443 or tcp port 993"
# (1) TLS 1.2, SNI, ALPN h2,http/1.1 -> h2: the CA-signed certificate in the clear
c --tlsv1.2 --tls-max 1.2 "https://$HOST/"
# (2) TLS 1.2, SNI, ALPN http/1.1 only, one cipher suite offered
c --tlsv1.2 --tls-max 1.2 --http1.1 --ciphers ECDHE-RSA-CHACHA20-POLY1305 "https://$HOST/"
# (3) TLS 1.3, SNI, h2
c --tlsv1.3 "https://$HOST/"
# (4) TLS 1.3, SNI, http/1.1
c --tlsv1.3 --http1.1 "https://$HOST/"
# (5) TLS 1.2 to the address: no SNI, no ALPN, the self-signed default certificate
c --tlsv1.2 --tls-max 1.2 --no-alpn "https://$SRV4/"
# (6) TLS 1.3 to the address: no SNI, h2
c --tlsv1.3 "https://$SRV4/"
# (7) TLS 1.3 over IPv6, SNI, h2
c --tlsv1.3 --resolve "$HOST:443:[$SRV6]" -g "https://$HOST/"
# (8) TLS 1.2, a 98-character server name no server block matches: the default certificate
c --tlsv1.2 --tls-max 1.2 --resolve "$LONGHOST:443:$SRV4" "https://$LONGHOST/"
# (9) TLS 1.2 to port 993, which nDPI 4.2 names IMAPS by its port alone (the content is HTTPS):
# a protocol over TLS, for which nDPI's own extra dissection stops right after the ClientHello
c --tlsv1.2 --tls-max 1.2 --http1.1 --resolve "$HOST:993:$SRV4" "https://$HOST:993/"
cap_stop tls-basic

echo "mkpcaps-tls.sh: done" >&2
