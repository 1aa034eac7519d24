#!/usr/bin/env bash
# golden.sh - pcap regression cases: tests/pcap/CASE/args are tapline's arguments
# (from the project root), tests/pcap/CASE/expected.jsonl the canonical events.
# `make golden CASE=name` rewrites one expected file; review it with git diff. The built-in
# rules are named from the project's root, so alerts (and events.bytes) do not depend on
# where the checkout is.
SUITE=golden
. "$(dirname "$0")/../lib/suite.sh"

for dir in tests/pcap/*/; do
    [ -f "$dir/args" ] || continue
    name=$(basename "$dir")
    selected "$name" || continue
    # shellcheck disable=SC2046
    if ! eval "\"$TAPLINE\" $(cat "$dir/args") --set sensor=test --set rules.paths=detect/rules -w -" 2>"$TMP/err" | canon >"$TMP/got"; then
        not_ok "$name" "tapline failed: $(cat "$TMP/err")"
        continue
    fi
    if [ "${GOLDEN_UPDATE:-}" = "$name" ]; then
        cp "$TMP/got" "$dir/expected.jsonl"
        echo "rewrote $dir/expected.jsonl"
    fi
    if diff -u "$dir/expected.jsonl" "$TMP/got" >"$TMP/diff"; then
        ok "$name"
    else
        not_ok "$name" "events differ (- expected, + got):
$(head -n 60 "$TMP/diff")"
    fi
done
finish
