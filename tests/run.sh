#!/usr/bin/env bash
# run.sh - every test suite: unit tests, then each tests/suites/*.sh (pcap golden
# cases, command line, thread equivalence, cross-checks with tshark...).
# Ends with "N passed, N failed". B=build tree (default build/release);
# T=name narrows every suite to the cases with that name.
set -u
cd "$(dirname "$0")/.."
export B=${B:-build/release}
export T=${T:-}
export TAPLINE="$B/tapline"
pass=0
fail=0

# Runs one suite, shows its failures, and adds its closing "N passed, N failed".
suite() {
    local name=$1 log line p f rc
    shift
    log=$(mktemp)
    "$@" >"$log" 2>&1
    rc=$?
    grep -vE '^ok |[0-9]+ passed, [0-9]+ failed' "$log" | sed "s/^/  /"
    line=$(grep -E '[0-9]+ passed, [0-9]+ failed' "$log" | tail -n 1)
    rm -f "$log"
    if [ -z "$line" ]; then
        echo "  $name: no result line (exit $rc)"
        fail=$((fail + 1))
        return
    fi
    p=$(sed -E 's/^.*[^0-9]?\b([0-9]+) passed.*$/\1/' <<<"$line")
    f=$(sed -E 's/^.* ([0-9]+) failed.*$/\1/' <<<"$line")
    pass=$((pass + p))
    fail=$((fail + f))
    if [ "$rc" -ne 0 ] && [ "$f" -eq 0 ]; then
        echo "  $name exited $rc"
        fail=$((fail + 1))
    fi
    printf '%-12s %s\n' "$name" "$line"
}

suite unit "$B/tests/unit/run" "$T"
for s in tests/suites/*.sh; do
    suite "$(basename "$s" .sh)" bash "$s"
done
echo "$pass passed, $fail failed"
[ "$fail" -eq 0 ]
