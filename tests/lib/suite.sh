# suite.sh - helpers for the shell test suites (sourced).
# Each check prints "ok NAME" or "FAIL NAME: why"; finish prints "N passed, N failed".
# T (from the environment) selects cases by name.

TAPLINE=${TAPLINE:-build/release/tapline}
SHARED=${SHARED:-../shared}
npass=0
nfail=0
TMP=$(mktemp -d)
trap 'rm -rf "$TMP"' EXIT

selected() { [ -z "${T:-}" ] || [ "$T" = "$1" ] || [ "$T" = "$SUITE" ]; }
ok() { npass=$((npass + 1)); echo "ok $1"; }
not_ok() { nfail=$((nfail + 1)); echo "FAIL $1: $2"; }
check() { # check NAME COMMAND...: passes when the command succeeds
    local name=$1
    shift
    if "$@" >"$TMP/check.out" 2>&1; then ok "$name"; else not_ok "$name" "$(head -c 2000 "$TMP/check.out")"; fi
}
finish() { echo "$SUITE: $npass passed, $nfail failed"; [ "$nfail" -eq 0 ]; }

# Canonical events: sorted keys, one per line, sorted lines. Drops what depends
# on the machine or the moment (sensor, uptime, rss_bytes) and, with --no-stats, the stats event;
# a rule's file is named from the project's root, wherever the checkout is.
canon() {
    local keep=true
    [ "${1:-}" = --no-stats ] && keep='.event_type != "stats"'
    jq -cS --arg root "$PWD/" "select($keep) | del(.sensor, .uptime, .rss_bytes)
        | if .[\"rule.file\"] then .[\"rule.file\"] |= ltrimstr(\$root) else . end" | LC_ALL=C sort
}
