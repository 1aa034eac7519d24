#!/usr/bin/env bash
# threads.sh - one worker or four, the events are the same (order aside), on the
# project's captures and on every capture in ../shared/pcaps.
SUITE=threads
. "$(dirname "$0")/../lib/suite.sh"

for p in pcaps/*.pcap pcaps/*.pcapng "$SHARED"/pcaps/*/*.pcap "$SHARED"/pcaps/*/*.pcapng; do
    [ -e "$p" ] || continue
    name=$(basename "$p")
    selected "$name" || continue
    "$TAPLINE" -r "$p" --threads 1 2>/dev/null | canon --no-stats >"$TMP/one"
    "$TAPLINE" -r "$p" --threads 4 2>/dev/null | canon --no-stats >"$TMP/four"
    if [ ! -s "$TMP/one" ] && [ "${p#pcaps/}" != "$p" ]; then
        not_ok "$name" "no events"
    elif cmp -s "$TMP/one" "$TMP/four"; then
        ok "$name"
    else
        not_ok "$name" "$(diff "$TMP/one" "$TMP/four" | head -n 10)"
    fi
done
finish
