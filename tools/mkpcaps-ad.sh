#!/bin/bash
# mkpcaps-ad.sh - record the project's own Kerberos and LDAP captures from real servers.
#
# Run as root: tools/mkpcaps-ad.sh [OUTDIR]   (default: pcaps/ next to this script)
# (kadmin.local comes with krb5-admin-server; kadmind itself is never started)
#
# The same layout as mkpcaps.sh, with other names and another subnet so the two
# never clash: two network namespaces joined by a veth pair, the servers (MIT
# krb5kdc and OpenLDAP slapd, both with configs of our own in a scratch directory;
# nothing under /etc is read or changed) in the server namespace, kinit, kvno and
# the ldap-utils clients in the client namespace, tcpdump on the server-side veth.
# Nothing leaves the namespaces: every address below exists only inside them.
# Everything is torn down on exit, even on error.
#
#   tl-adc  veth-adc 02:00:00:98:00:02  10.98.0.2/24   (client)
#   tl-ads  veth-ads 02:00:00:98:00:01  10.98.0.1/24   (server: ldap.tapline.test)
#
# Realm TAPLINE.TEST (principals alice [+requires_preauth], host/ldap.tapline.test,
# ldap/ldap.tapline.test; slapd gets a keytab for the last), directory
# dc=tapline,dc=test. Client commands run in a private mount namespace where
# /etc/hosts maps ldap.tapline.test to 10.98.0.1 and /etc/resolv.conf points at
# 127.0.0.1 (so no name lookup ever reaches the wire).
#
# Writes krb-as-tgs.pcap, ldap-simple.pcap, ldap-gssapi.pcap.
# Timestamps, nonces, ports, TCP sequence numbers, keys and cipher bytes differ
# between runs; names, message types, error codes, LDAP operations and packet
# counts do not. KEEP=1 keeps the scratch directory (configs, logs) for debugging.
# shellcheck disable=SC2129  # one client command, one log append: clearer than grouping
set -euo pipefail


REALM=TAPLINE.TEST
HOST=ldap.tapline.test
BASE=dc=tapline,dc=test
ADMIN=cn=admin,$BASE
ADMINPW=secret
ALICEPW=alice-pw-1
URI=ldap://$HOST/

# shellcheck source=tools/lib/capture.sh
. "$(dirname "$0")/lib/capture.sh"
# shellcheck source=tools/lib/kdc.sh
. "$(dirname "$0")/lib/kdc.sh"
# shellcheck source=tools/lib/servers.sh
. "$(dirname "$0")/lib/servers.sh"
rec_outdir "${1:-}"
rec_layout tl-adc tl-ads 98

rec_install krb5-kdc krb5-admin-server krb5-user slapd ldap-utils libsasl2-modules-gssapi-mit \
    tcpdump iproute2 iputils-ping ethtool util-linux
rec_netns_unused

rec_init tl-mkpcaps-ad

# Kerberos and LDAP clients and servers read only files in $work (kdc.sh sets
# KRB5_*, servers.sh LDAPCONF)
export SASL_PATH=/usr/lib/x86_64-linux-gnu/sasl2

unexpected() { echo "mkpcaps-ad.sh: $1 succeeded but should have failed" >&2; exit 1; }
# the client gets its own /etc/hosts and /etc/resolv.conf in a private mount namespace
in_cli() { rec_in_cli "$@"; }

# --- network ------------------------------------------------------------------
rec_link veth-adc veth-ads

printf '127.0.0.1\tlocalhost\n%s\t%s ldap\n%s\tclient.tapline.test client\n' "$SRV4" $HOST "$CLI4" >"$work/hosts"
printf 'nameserver 127.0.0.1\noptions timeout:1 attempts:1\n' >"$work/resolv.conf"

# --- capture helpers ----------------------------------------------------------
CAP_IFACE=veth-ads

# --- Kerberos KDC ---------------------------------------------------------------
kdc_start $REALM "$SRV4" "alice:$ALICEPW" "host/$HOST" "ldap/$HOST:nopreauth"
kdc_config "$work/krb5-tcp.conf" $REALM "$SRV4" "udp_preference_limit = 1"
kadm $REALM "ktadd -k $work/ldap.keytab ldap/$HOST"

# --- OpenLDAP slapd -------------------------------------------------------------
alicehash=$(slappasswd -s "$ALICEPW")
cat >"$work/base.ldif" <<EOF
dn: $BASE
objectClass: dcObject
objectClass: organization
dc: tapline
o: tapline test

dn: ou=people,$BASE
objectClass: organizationalUnit
ou: people

dn: ou=groups,$BASE
objectClass: organizationalUnit
ou: groups

dn: uid=alice,ou=people,$BASE
objectClass: inetOrgPerson
uid: alice
cn: Alice Example
sn: Example
givenName: Alice
mail: alice@tapline.test
title: engineer
userPassword: $alicehash

dn: uid=bob,ou=people,$BASE
objectClass: inetOrgPerson
uid: bob
cn: Bob Example
sn: Example
mail: bob@tapline.test
title: manager

dn: cn=admins,ou=groups,$BASE
objectClass: groupOfNames
cn: admins
member: uid=alice,ou=people,$BASE
EOF
# SASL/GSSAPI with the ldap/ keytab; Kerberos names map to directory entries
sasl=$(cat <<EOF
sasl-host $HOST
sasl-realm $REALM
sasl-secprops none
authz-regexp "^uid=([^,/]+)(,cn=[^,]+)?,cn=gssapi,cn=auth\$" "uid=\$1,ou=people,$BASE"
EOF
)
slapd_start "$URI" "$BASE" "$ADMIN" "$ADMINPW" "$work/base.ldif" "$sasl" "database monitor" "$work/ldap.keytab"

# --- Kerberos -------------------------------------------------------------------
kin() { # password principal [kinit options]
    local pw=$1
    shift
    printf '%s\n' "$pw" | in_cli kinit "$@" >>"$work/kinit.log" 2>&1
}

cap_start krb-as-tgs "port 88"
kdestroy -q 2>/dev/null || true
# 1. AS-REQ without pre-auth -> KDC_ERR_PREAUTH_REQUIRED, AS-REQ with PA-ENC-TIMESTAMP -> AS-REP
kin "$ALICEPW" alice
# 2. TGS-REQ -> TGS-REP for the LDAP service ticket
in_cli kvno ldap/$HOST >>"$work/kinit.log" 2>&1
# 3. TGS-REQ for a service that does not exist -> KDC_ERR_S_PRINCIPAL_UNKNOWN
in_cli kvno cifs/nosuchhost.tapline.test >>"$work/kinit.log" 2>&1 && unexpected "kvno of an unknown service"
# 4. wrong password: PREAUTH_REQUIRED, then KDC_ERR_PREAUTH_FAILED
kin wrong-password alice -c "FILE:$work/ccache-bad" && unexpected "kinit with a wrong password"
# 5. unknown client -> KDC_ERR_C_PRINCIPAL_UNKNOWN
kin whatever mallory -c "FILE:$work/ccache-bad" && unexpected "kinit of an unknown client"
# 6. the same good kinit over TCP (udp_preference_limit = 1)
printf '%s\n' "$ALICEPW" | KRB5_CONFIG=$work/krb5-tcp.conf in_cli kinit -c "FILE:$work/ccache-tcp" alice >>"$work/kinit.log" 2>&1
cap_stop krb-as-tgs

# --- LDAP, simple binds -----------------------------------------------------------
ls_() { in_cli ldapsearch "$@" >>"$work/ldap-client.log" 2>&1; }

cat >"$work/add.ldif" <<EOF
dn: uid=carol,ou=people,$BASE
objectClass: inetOrgPerson
uid: carol
cn: Carol Example
sn: Example
mail: carol@tapline.test
EOF
cat >"$work/modify.ldif" <<EOF
dn: uid=carol,ou=people,$BASE
changetype: modify
replace: mail
mail: carol.example@tapline.test
-
add: title
title: auditor
-
add: description
description: added by mkpcaps-ad.sh
EOF

cap_start ldap-simple "tcp port 389"
# anonymous: root DSE, then a subtree search
ls_ -x -LLL -b "" -s base "(objectClass=*)" namingContexts supportedSASLMechanisms supportedExtension
ls_ -x -LLL -b "ou=people,$BASE" -s one "(uid=alice)" cn mail
# authenticated: and/or/not/substrings/present, attributes, size and time limits
ls_ -x -LLL -D "$ADMIN" -w "$ADMINPW" -b "$BASE" -s sub -z 10 -l 5 \
    "(&(objectClass=inetOrgPerson)(|(uid=ali*)(cn=*Bob*)(mail=*@tapline.*test))(!(title=manager))(givenName=*))" \
    cn mail uid title
# failed bind: invalidCredentials (49)
ls_ -x -LLL -D "uid=alice,ou=people,$BASE" -w wrong-password -b "$BASE" "(uid=alice)" && unexpected "bind with a wrong password"
# a user bind and the Who am I? extended operation
in_cli ldapwhoami -x -D "uid=alice,ou=people,$BASE" -w "$ALICEPW" >>"$work/ldap-client.log" 2>&1
# add, modify, rename, compare (true and false), delete
in_cli ldapadd -x -D "$ADMIN" -w "$ADMINPW" -f "$work/add.ldif" >>"$work/ldap-client.log" 2>&1
in_cli ldapmodify -x -D "$ADMIN" -w "$ADMINPW" -f "$work/modify.ldif" >>"$work/ldap-client.log" 2>&1
in_cli ldapmodrdn -x -D "$ADMIN" -w "$ADMINPW" -r "uid=carol,ou=people,$BASE" "uid=caroline" >>"$work/ldap-client.log" 2>&1
in_cli ldapcompare -x -D "$ADMIN" -w "$ADMINPW" "uid=alice,ou=people,$BASE" "mail:alice@tapline.test" >>"$work/ldap-client.log" 2>&1 || [ $? -eq 6 ]
in_cli ldapcompare -x -D "$ADMIN" -w "$ADMINPW" "uid=bob,ou=people,$BASE" "title:engineer" >>"$work/ldap-client.log" 2>&1 || [ $? -eq 5 ]
in_cli ldapdelete -x -D "$ADMIN" -w "$ADMINPW" "uid=caroline,ou=people,$BASE" >>"$work/ldap-client.log" 2>&1
# a delete of an entry that is not there: noSuchObject (32)
in_cli ldapdelete -x -D "$ADMIN" -w "$ADMINPW" "uid=nobody,ou=people,$BASE" >>"$work/ldap-client.log" 2>&1 && unexpected "delete of a missing entry"
# StartTLS: slapd has no certificate, so the extended operation fails and -Z goes on in the clear
ls_ -x -Z -LLL -b "$BASE" "(uid=bob)" cn
cap_stop ldap-simple

# --- LDAP, SASL/GSSAPI ----------------------------------------------------------------
cap_start ldap-gssapi "port 88 or tcp port 389"
kdestroy -q 2>/dev/null || true
kin "$ALICEPW" alice
# no security layer: the operations after the bind are in the clear
ls_ -Q -Y GSSAPI -N -O maxssf=0 -LLL -b "ou=people,$BASE" "(objectClass=inetOrgPerson)" uid cn mail
# integrity only: SASL-wrapped, signed
ls_ -Q -Y GSSAPI -N -O minssf=1,maxssf=1 -LLL -b "ou=people,$BASE" "(uid=bob)" uid cn
# the default: confidentiality, sealed
ls_ -Q -Y GSSAPI -N -LLL -b "$BASE" "(cn=admins)" member
cap_stop ldap-gssapi

echo "mkpcaps-ad.sh: done" >&2
