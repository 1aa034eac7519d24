#!/usr/bin/env bash
# detections.sh - the built-in detections (detect/rules/) on the captures recorded for them
# by tools/mkpcaps-attacks.sh (pcaps/README.md says what each holds): every scenario raises
# its alerts, with the level the rule says; the benign office morning raises nothing above
# informational; SigmaHQ's rules loaded beside them change nothing on the benign capture.
SUITE=detections
. "$(dirname "$0")/../lib/suite.sh"

# expect CASE PCAP "LEVEL<TAB>TITLE<TAB>MIN_COUNT"...: each listed alert at least MIN times.
expect() {
    local name=$1 pcap=$2
    shift 2
    selected "$name" || return
    "$TAPLINE" -r "pcaps/$pcap" --set sensor=t -w - 2>"$TMP/err" |
        jq -r 'select(.event_type=="alert") | "\(.["rule.level"])\t\(.["rule.title"])"' |
        sort | uniq -c >"$TMP/alerts"
    local want missing=""
    for want in "$@"; do
        local level=${want%%$'\t'*} rest=${want#*$'\t'}
        local title=${rest%$'\t'*} min=${rest##*$'\t'}
        local got
        got=$(awk -v l="$level" -v t="$title" -F'\t' '{ split($1, a, " "); if (a[2] == l && $2 == t) print a[1] }' "$TMP/alerts")
        [ "${got:-0}" -ge "$min" ] || missing="$missing [$level $title: ${got:-0} < $min]"
    done
    if [ -z "$missing" ]; then ok "$name"; else not_ok "$name" "missing:$missing; got: $(cat "$TMP/alerts" "$TMP/err")"; fi
}
T_=$'\t'

expect kerberoasting attack-kerberoast.pcap \
    "high${T_}Kerberoasting - RC4 or DES service tickets for several services from one host${T_}1" \
    "low${T_}Kerberos ticket issued with weak encryption${T_}5"
expect asrep_roasting attack-asrep-roast.pcap \
    "high${T_}AS-REP roasting - a TGT granted without pre-authentication${T_}2"
expect kerberos_spray_and_enumeration attack-spray.pcap \
    "high${T_}Kerberos password spraying - wrong passwords for many users from one host${T_}1" \
    "medium${T_}Kerberos user enumeration - many unknown user names from one host${T_}1"
expect ldap_recon_and_binds attack-ldap-recon.pcap \
    "medium${T_}Directory reconnaissance - LDAP searches of three or more kinds from one host${T_}1" \
    "medium${T_}LDAP search for accounts to attack${T_}5" \
    "medium${T_}LDAP simple bind with a password in clear text${T_}1" \
    "high${T_}LDAP bind spraying - invalid credentials for many accounts from one host${T_}1"
expect dns_tunnel_and_dga attack-dns.pcap \
    "high${T_}DNS tunnelling - many encoded names under one domain from one host${T_}1" \
    "medium${T_}DNS NULL record query${T_}1" \
    "high${T_}Domain generation algorithm - many unresolvable generated-looking domains from one host${T_}1"
expect http_smuggling attack-http-smuggle.pcap \
    "high${T_}HTTP request smuggling - a request hidden by conflicting message framing${T_}6" \
    "medium${T_}HTTP request with conflicting message framing${T_}8"
expect http_download attack-http-download.pcap \
    "medium${T_}Executable or script downloaded over HTTP${T_}4" \
    "high${T_}Executable downloaded by a tool, from an address, disguised, or from a new or rare domain${T_}4"

# The benign morning: nothing above informational, with the shipped rules and with SigmaHQ's too.
benign() {
    local name=$1
    shift
    selected "$name" || return
    "$TAPLINE" -r pcaps/benign-office.pcap --set sensor=t -w - "$@" 2>"$TMP/err" |
        jq -r 'select(.event_type=="alert" and .["rule.level"] != "informational") | .["rule.title"]' >"$TMP/loud"
    if [ ! -s "$TMP/loud" ] && ! grep -q rejected "$TMP/err"; then
        ok "$name"
    else
        not_ok "$name" "$(sort "$TMP/loud" | uniq -c) $(cat "$TMP/err")"
    fi
}
benign benign_quiet
if [ -d "$SHARED/sigma" ]; then
    benign benign_quiet_with_sigmahq --set rules.paths="detect/rules,$SHARED/sigma/rules,$SHARED/sigma/rules-emerging-threats"
fi

# One worker or four: the same alerts (correlations run in packet-time order).
if selected detections_threads; then
    bad=""
    for p in pcaps/attack-*.pcap; do
        a=$("$TAPLINE" -r "$p" --set sensor=t --threads 1 -w - 2>/dev/null | jq -cS 'select(.event_type=="alert")' | sort | md5sum)
        b=$("$TAPLINE" -r "$p" --set sensor=t --threads 4 -w - 2>/dev/null | jq -cS 'select(.event_type=="alert")' | sort | md5sum)
        [ "$a" = "$b" ] || bad="$bad $p"
    done
    if [ -z "$bad" ]; then ok detections_threads; else not_ok detections_threads "alerts differ:$bad"; fi
fi
finish
