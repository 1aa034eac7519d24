# shellcheck shell=bash disable=SC2154  # work, pids, SRV come from the sourcing script
# kdc.sh - an MIT Kerberos KDC of our own for tools/mkpcaps*.sh (sourced).
# Everything lives in $work: configs, database, logs; nothing under /etc is
# read or changed. Clients read $KRB5_CONFIG, exported here.

# kdc_config FILE REALM KDC_ADDR [LIBDEFAULTS_LINE]: a krb5.conf for clients.
kdc_config() {
    cat >"$1" <<KRB5
[libdefaults]
    default_realm = $2
    dns_lookup_kdc = false
    dns_lookup_realm = false
    dns_canonicalize_hostname = false
    rdns = false
    noaddresses = true
    forwardable = true
    renew_lifetime = 7d
    ticket_lifetime = 10h
    ${4:-}
[realms]
    $2 = {
        kdc = $3
    }
[domain_realm]
    .${2,,} = $2
    ${2,,} = $2
[logging]
    kdc = FILE:$work/kdc.log
KRB5
}

# kdc_start REALM KDC_ADDR PRINC...: creates the realm with the principals
# ("name:password" or "name" for a random key; all require pre-authentication
# unless the entry ends in ":nopreauth") and starts krb5kdc in namespace $SRV.
# $KDC_LIBDEFAULTS, when set, goes into the [libdefaults] of $work/krb5.conf,
# which the KDC reads too (e.g. allow_rc4 = true).
kdc_start() {
    local realm=$1 addr=$2 p name pw
    shift 2
    export KRB5_CONFIG=$work/krb5.conf KRB5_KDC_PROFILE=$work/kdc.conf
    export KRB5CCNAME=FILE:$work/ccache KRB5RCACHEDIR=$work KRB5_TRACE=$work/krb5-trace.log
    kdc_config "$work/krb5.conf" "$realm" "$addr" "${KDC_LIBDEFAULTS:-}"
    mkdir -p "$work/krb5kdc"
    cat >"$work/kdc.conf" <<KDC
[kdcdefaults]
    kdc_ports = 88
    kdc_tcp_ports = 88
[realms]
    $realm = {
        database_name = $work/krb5kdc/principal
        key_stash_file = $work/krb5kdc/stash
        acl_file = $work/krb5kdc/kadm5.acl
        max_life = 10h 0m 0s
        max_renewable_life = 7d 0h 0m 0s
        supported_enctypes = aes256-cts-hmac-sha1-96:normal aes128-cts-hmac-sha1-96:normal
    }
KDC
    : >"$work/krb5kdc/kadm5.acl"
    kdb5_util create -s -P pass -r "$realm" >"$work/kdb5_util.log" 2>&1
    for p in "$@"; do
        local flags="+requires_preauth"
        case "$p" in *:nopreauth) flags="-requires_preauth" p=${p%:nopreauth} ;; esac
        name=${p%%:*}
        pw=${p#*:}
        [ "$pw" = "$p" ] && pw=""
        if [ -n "$pw" ]; then
            kdc_addprinc "$realm" "$name" -pw "$pw" $flags
        else
            kdc_addprinc "$realm" "$name" -randkey $flags
        fi
    done
    # directly (not through a function) so that $! is krb5kdc itself
    ip netns exec "$SRV" krb5kdc -n -r "$realm" &
    pids+=($!)
    for _ in $(seq 50); do
        grep -q "commencing" "$work/kdc.log" 2>/dev/null && break
        sleep 0.1
    done
}

# kdc_addprinc REALM NAME OPTION...: "addprinc OPTION... NAME" (e.g. -randkey
# -e rc4-hmac:normal -requires_preauth; the name may hold a ':', as in
# MSSQLSvc/db1.example:1433), exits unless the principal was created.
kdc_addprinc() {
    local realm=$1 name=$2
    shift 2
    kadm "$realm" "addprinc $* $name"
    grep -qF "Principal \"$name@$realm\" created" "$work/kadmin.log" ||
        { cat "$work/kadmin.log" >&2; exit 1; }
}

# kadm REALM QUERY: one kadmin.local command, logged.
kadm() { kadmin.local -r "$1" -q "$2" >>"$work/kadmin.log" 2>&1; }
