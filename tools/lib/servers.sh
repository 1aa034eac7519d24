# shellcheck shell=bash disable=SC2154  # work, pids, CLI, SRV come from the sourcing script
# servers.sh - OpenLDAP slapd, dnsmasq and nginx of our own for tools/mkpcaps*.sh
# (sourced after capture.sh, once rec_init and rec_link have run).
# Each server runs in the foreground in namespace $SRV as a child of the script,
# so rec_cleanup stops it; its config, data and logs live in $work, nothing
# under /etc is read or changed. Each start returns once a client in $CLI gets
# an answer.

# slapd_start URI BASE ROOTDN ROOTPW LDIF [GLOBAL_LINES [DATABASE_LINES [KEYTAB]]]:
# directory BASE (mdb) loaded from LDIF, the core, cosine, inetorgperson and nis
# schemas, ROOTDN/ROOTPW as its administrator, userPassword readable by nobody,
# the rest by everyone. GLOBAL_LINES go into the global section (e.g. sasl-host,
# authz-regexp), DATABASE_LINES after the mdb database (e.g. "database monitor").
# With KEYTAB, slapd takes its service keys for SASL/GSSAPI from it and traces
# its Kerberos calls into $work/slapd-krb5-trace.log. Clients read $LDAPCONF
# (URI, BASE, no host name canonicalization for SASL, no certificate check).
# The readiness check runs through rec_in_cli, so $work/hosts and
# $work/resolv.conf must exist (URI may name a host listed there).
slapd_start() {
    local uri=$1 base=$2 keytab=${8:-}
    export LDAPCONF=$work/ldap.conf LDAPRC=$work/ldaprc-none
    unset LDAPNOINIT
    mkdir -p "$work/ldap-db"
    cat >"$work/slapd.conf" <<EOF
include /etc/ldap/schema/core.schema
include /etc/ldap/schema/cosine.schema
include /etc/ldap/schema/inetorgperson.schema
include /etc/ldap/schema/nis.schema
modulepath /usr/lib/ldap
moduleload back_mdb
pidfile $work/slapd.pid
argsfile $work/slapd.args
loglevel stats
${6:-}
database mdb
maxsize 16777216
suffix "$base"
rootdn "$3"
rootpw $4
directory $work/ldap-db
access to attrs=userPassword by self write by anonymous auth by * none
access to * by * read
${7:-}
EOF
    slapadd -f "$work/slapd.conf" -l "$5" >"$work/slapadd.log" 2>&1 || { cat "$work/slapadd.log" >&2; exit 1; }
    printf 'URI %s\nBASE %s\nSASL_NOCANON on\nTLS_REQCERT never\n' "$uri" "$base" >"$work/ldap.conf"
    local env=()
    [ -z "$keytab" ] || env=(KRB5_KTNAME="FILE:$keytab" KRB5_TRACE="$work/slapd-krb5-trace.log")
    # -d keeps slapd in the foreground; env and ip netns exec exec it, so $! is slapd
    ip netns exec "$SRV" env "${env[@]}" slapd -d stats -h "ldap:///" -f "$work/slapd.conf" 2>"$work/slapd.log" &
    pids+=($!)
    for _ in $(seq 50); do
        rec_in_cli ldapsearch -x -LLL -s base -b "" namingContexts >/dev/null 2>&1 && return 0
        sleep 0.1
    done
    echo "$(basename "$0"): slapd does not answer" >&2
    exit 1
}

# dnsmasq_start CONF ADDR NAME [PORT]: dnsmasq with the options in file CONF (it
# adds nothing to them), ready once it answers NAME at ADDR (on PORT, default 53;
# give the one CONF sets).
dnsmasq_start() {
    ip netns exec "$SRV" dnsmasq --keep-in-foreground --conf-file="$1" \
        --pid-file="$work/dnsmasq${4:+-$4}.pid" &
    pids+=($!)
    for _ in $(seq 50); do
        ip netns exec "$CLI" dig +short +tries=1 +time=1 -p "${4:-53}" "@$2" "$3" >/dev/null 2>&1 &&
            return 0
        sleep 0.1
    done
    echo "$(basename "$0"): dnsmasq does not answer" >&2
    exit 1
}

# nginx_start URL HTTP_LINES: nginx (one worker, no access log, no version in
# headers) with HTTP_LINES (types, servers, ssl settings...) in its http block,
# ready once URL (http or https: no certificate check) answers.
nginx_start() {
    cat >"$work/nginx.conf" <<EOF
worker_processes 1;
daemon off;
pid $work/nginx.pid;
error_log $work/nginx-error.log warn;
events { worker_connections 64; }
http {
    access_log off;
    server_tokens off;
    keepalive_timeout 10;
    client_body_temp_path $work/nginx-body;
    proxy_temp_path $work/nginx-proxy;
    fastcgi_temp_path $work/nginx-fastcgi;
    uwsgi_temp_path $work/nginx-uwsgi;
    scgi_temp_path $work/nginx-scgi;
$2
}
EOF
    ip netns exec "$SRV" nginx -c "$work/nginx.conf" -e "$work/nginx-error.log" &
    pids+=($!)
    for _ in $(seq 50); do
        ip netns exec "$CLI" curl -sk -o /dev/null --max-time 1 "$1" && return 0
        sleep 0.1
    done
    echo "$(basename "$0"): nginx does not answer" >&2
    exit 1
}
