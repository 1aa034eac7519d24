#!/usr/bin/env bash
# output.sh - the file sink end to end: rotation by size with zstd, the event-type filter,
# SIGHUP reopening the file (logrotate), option errors.
SUITE=output
. "$(dirname "$0")/../lib/suite.sh"

PCAP=pcaps/dns-udp-basic.pcap

# Rotation: every event exactly once across the rotated (.jsonl.zst) files and the last one.
if selected rotation; then
    mkdir -p "$TMP/rot"
    R=()
    for p in pcaps/*.pcap; do R+=(-r "$p"); done
    "$TAPLINE" "${R[@]}" --set sensor=t -w - 2>/dev/null | canon --no-stats >"$TMP/want"
    "$TAPLINE" "${R[@]}" --set sensor=t -w "$TMP/rot/ev.jsonl" --set output.rotate_bytes=4k \
        --set output.compress_level=5 2>"$TMP/err"
    nz=$(ls "$TMP/rot" | grep -c '^ev\..*\.jsonl\.zst$')
    { for z in "$TMP"/rot/ev.*.jsonl.zst; do zstd -dcq "$z"; done; cat "$TMP/rot/ev.jsonl"; } |
        canon --no-stats >"$TMP/got"
    # A line is never split: only a file that holds a single line may be over the cap.
    big=$(for z in "$TMP"/rot/ev.*.jsonl.zst; do zstd -dcq "$z" | wc -lc; done |
        awk '$2 > 4096 && $1 > 1 { print $2 }' | head -n 1)
    # The stats event counts the rotations before it; writing it may make one more.
    rotated=$({ for z in "$TMP"/rot/ev.*.jsonl.zst; do zstd -dcq "$z"; done; cat "$TMP/rot/ev.jsonl"; } |
        jq -r 'select(.event_type=="stats") | .["output.rotated"]')
    if [ "$nz" -lt 2 ]; then
        not_ok rotation "only $nz rotated files: $(ls "$TMP/rot") $(cat "$TMP/err")"
    elif ! diff -q "$TMP/want" "$TMP/got" >/dev/null; then
        not_ok rotation "events differ: $(diff "$TMP/want" "$TMP/got" | head -n 4 | cut -c 1-200)"
    elif [ -n "$big" ]; then
        not_ok rotation "a rotated file holds $big bytes, over output.rotate_bytes"
    elif [ "$rotated" != "$nz" ] && [ "$rotated" != $((nz - 1)) ]; then
        not_ok rotation "output.rotated is '$rotated', $nz files"
    else
        ok rotation
    fi
fi

if selected types; then
    check types bash -c "\"$TAPLINE\" -r $PCAP --set output.types=stats -w - 2>/dev/null |
        jq -r .event_type | sort -u | tr '\n' ' ' | grep -qx 'stats '"
fi

# SIGHUP: the file is renamed away mid-run, then reopened; both together hold every event.
if selected sighup; then
    rm -f "$TMP/feed"
    mkfifo "$TMP/feed"
    "$TAPLINE" -r - --set sensor=t -w "$TMP/hup.jsonl" <"$TMP/feed" 2>"$TMP/err" &
    pid=$!
    exec 8>"$TMP/feed"
    size=$(stat -c %s pcaps/http-basic.pcap)
    head -c $((size / 2)) pcaps/http-basic.pcap >&8
    sleep 0.5
    mv "$TMP/hup.jsonl" "$TMP/hup.jsonl.1"
    kill -HUP "$pid"
    sleep 0.5
    tail -c +$((size / 2 + 1)) pcaps/http-basic.pcap >&8
    exec 8>&-
    wait "$pid"
    rc=$?
    "$TAPLINE" -r pcaps/http-basic.pcap --set sensor=t -w - 2>/dev/null | canon --no-stats >"$TMP/want"
    cat "$TMP/hup.jsonl.1" "$TMP/hup.jsonl" | canon --no-stats >"$TMP/got"
    reopened=$(jq -r 'select(.event_type=="stats") | .["output.reopened"]' "$TMP/hup.jsonl")
    if [ "$rc" -ne 0 ]; then
        not_ok sighup "exit $rc: $(cat "$TMP/err")"
    elif [ "$reopened" != 1 ] || ! diff -q "$TMP/want" "$TMP/got" >/dev/null; then
        not_ok sighup "output.reopened '$reopened'; events: $(diff "$TMP/want" "$TMP/got" | head -n 4)"
    else
        ok sighup
    fi
fi

if selected no_file; then
    check no_file bash -c "[ -z \"\$(\"$TAPLINE\" -r $PCAP -w none 2>/dev/null)\" ]"
fi
# expect_error NAME "message part" ARGS...: a non-zero exit, and stderr names the reason.
expect_error() {
    local name=$1 want=$2
    shift 2
    selected "$name" || return
    if "$TAPLINE" "$@" >"$TMP/out" 2>"$TMP/err"; then
        not_ok "$name" "exit 0, wanted an error"
    elif ! grep -qF -- "$want" "$TMP/err"; then
        not_ok "$name" "stderr lacks '$want': $(cat "$TMP/err")"
    else
        ok "$name"
    fi
}
K=(-r "$PCAP" --kafka 127.0.0.1:1 --set kafka.spool_dir="$TMP/sp")
expect_error bad_kafka_key "kafka.key: 'flow' is not" "${K[@]}" --set kafka.key=flow
expect_error bad_kafka_property "kafka.properties: No such configuration property" \
    "${K[@]}" --set kafka.properties=no.such.property=1
expect_error bad_spool_dir "kafka.spool_dir: /dev/null/x" "${K[@]}" --set kafka.spool_dir=/dev/null/x
finish
