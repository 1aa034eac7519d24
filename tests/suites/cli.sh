#!/usr/bin/env bash
# cli.sh - the command line: errors name the file and reason and exit non-zero;
# a capture cut mid-record is processed up to the cut with a warning.
SUITE=cli
. "$(dirname "$0")/../lib/suite.sh"

# expect_error NAME "message part" ARGS...: non-zero exit and one line naming the reason.
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

# A one-packet pcap with the given link type (LINKTYPE number) and payload hex.
mkpcap() {
    local linktype=$1 hex=$2 out=$3 len
    len=$((${#hex} / 2))
    {
        printf '\xd4\xc3\xb2\xa1\x02\x00\x04\x00\x00\x00\x00\x00\x00\x00\x00\x00\xff\xff\x00\x00'
        printf "$(printf '\\x%02x\\x%02x\\x%02x\\x%02x' $((linktype & 255)) $((linktype >> 8 & 255)) 0 0)"
        printf '\x00\x00\x00\x00\x00\x00\x00\x00'
        printf "$(printf '\\x%02x\\x%02x\\x00\\x00' $((len & 255)) $((len >> 8)))"
        printf "$(printf '\\x%02x\\x%02x\\x00\\x00' $((len & 255)) $((len >> 8)))"
        printf "$(sed 's/../\\x&/g' <<<"$hex")"
    } >"$out"
}

expect_error missing_file "$TMP/nope.pcap: No such file" -r "$TMP/nope.pcap"
# A missing file among good ones: its error, nothing written (no stats event dated 1970).
if selected missing_file_no_output; then
    mkpcap 101 00 "$TMP/good.pcap"
    if ! "$TAPLINE" -r "$TMP/good.pcap" -r "$TMP/nope.pcap" -w "$TMP/missing.jsonl" 2>"$TMP/err" &&
        grep -qF "$TMP/nope.pcap: No such file" "$TMP/err" && [ ! -e "$TMP/missing.jsonl" ]; then
        ok missing_file_no_output
    else
        not_ok missing_file_no_output "$(cat "$TMP/err"; cat "$TMP/missing.jsonl" 2>/dev/null)"
    fi
fi
echo "hello, not a capture" >"$TMP/text.pcap"
expect_error not_a_capture "$TMP/text.pcap: not a pcap" -r "$TMP/text.pcap"
mkpcap 147 00112233 "$TMP/user0.pcap"
expect_error unsupported_link "unsupported link type" -r "$TMP/user0.pcap"
expect_error no_input "nothing to read" -w -
expect_error bad_option "unknown option 'flows.nonsense'" -r "$TMP/user0.pcap" --set flows.nonsense=1
expect_error bad_value "flows.udp_timeout" -r "$TMP/user0.pcap" --set flows.udp_timeout=soon
mkpcap 101 4500001c000100004011f9cbc0000201c000020204d2003500080000 "$TMP/raw.pcap"
expect_error bad_filter "bad filter 'tcp port banana'" -r "$TMP/raw.pcap" -f "tcp port banana"
expect_error no_such_iface "tl-nonexistent0: no such interface" -i tl-nonexistent0
if [ -r /dev/null ] && [ "$(id -u)" -ne 0 ]; then
    expect_error unreadable "Permission denied" -r /etc/shadow
fi

# An IPv4/UDP packet, raw link type, written twice; the second record cut short.
udp=4500001c000100004011f9cbc0000201c000020204d2003500080000
if selected truncated_capture; then
    mkpcap 101 "$udp" "$TMP/one.pcap"
    { cat "$TMP/one.pcap"; tail -c +25 "$TMP/one.pcap" | head -c 30; } >"$TMP/cut.pcap"
    if "$TAPLINE" -r "$TMP/cut.pcap" --set sensor=t >"$TMP/out" 2>"$TMP/err" &&
        grep -q "capture cut off in the record at byte 68" "$TMP/err" &&
        [ "$(jq -r 'select(.event_type=="flow") | .orig_pkts' "$TMP/out")" = 1 ]; then
        ok truncated_capture
    else
        not_ok truncated_capture "$(cat "$TMP/err")"
    fi
fi

# A pcapng cut inside its last block: a warning with the block's byte offset, exit 0.
if selected truncated_pcapng; then
    mkpcap 101 "$udp" "$TMP/one.pcap"
    editcap -F pcapng "$TMP/one.pcap" "$TMP/one.pcapng"
    size=$(stat -c %s "$TMP/one.pcapng")
    head -c $((size - 6)) "$TMP/one.pcapng" >"$TMP/cut.pcapng"
    at=$(sed -n 's/.*capture cut off in the block at byte \([0-9]*\)$/\1/p' \
        <("$TAPLINE" -r "$TMP/cut.pcapng" --set sensor=t 2>&1 >/dev/null))
    if [ -n "$at" ] && [ "$at" -gt 0 ] && [ "$at" -lt "$size" ]; then
        ok truncated_pcapng
    else
        not_ok truncated_pcapng "no byte offset: $("$TAPLINE" -r "$TMP/cut.pcapng" 2>&1 >/dev/null)"
    fi
fi

# A folder: subfolders are read in path order, a README is skipped with a warning, a
# corrupt capture is reported and the files after it are still read; the exit is 1.
if selected folder_replay; then
    mkdir -p "$TMP/dir/a" "$TMP/dir/b"
    mkpcap 101 "$udp" "$TMP/dir/a/one.pcap"
    echo "captures of the lab" >"$TMP/dir/b/README.md"
    { head -c 24 "$TMP/dir/a/one.pcap"; printf '\0\0\0\0\0\0\0\0\xff\xff\xff\x0f\xff\xff\xff\x0f'; } >"$TMP/dir/c-bad.pcap"
    mkpcap 101 "$udp" "$TMP/dir/d.pcap"
    "$TAPLINE" -r "$TMP/dir//" --set sensor=t >"$TMP/out" 2>"$TMP/err"
    rc=$?
    pkts=$(jq -s '[.[] | select(.event_type=="flow") | .orig_pkts] | add' "$TMP/out")
    if [ "$rc" = 1 ] && [ "$pkts" = 2 ] &&
        grep -q "warning: $TMP/dir/b/README.md: not a pcap or pcapng capture file, skipped" "$TMP/err" &&
        grep -q "$TMP/dir/c-bad.pcap: cannot read the record at byte 24: captured length" "$TMP/err" &&
        ! grep -q "//" "$TMP/err"; then
        ok folder_replay
    else
        not_ok folder_replay "exit $rc, $pkts packets: $(cat "$TMP/err")"
    fi
fi

if selected stdin_and_filter; then
    mkpcap 101 "$udp" "$TMP/one.pcap"
    n_all=$("$TAPLINE" -r - --set sensor=t <"$TMP/one.pcap" 2>/dev/null | jq -r 'select(.event_type=="flow") | .uid' | wc -l)
    n_none=$("$TAPLINE" -r - --set sensor=t tcp <"$TMP/one.pcap" 2>/dev/null | jq -r 'select(.event_type=="flow") | .uid' | wc -l)
    if [ "$n_all" = 1 ] && [ "$n_none" = 0 ]; then ok stdin_and_filter; else not_ok stdin_and_filter "all=$n_all filtered=$n_none"; fi
fi

expect_error unknown_event_type "output.types: unknown event type 'flows' (known: flow" -r "$TMP/raw.pcap" --set output.types=flows
expect_error check_config_bad "unknown option 'flows.udp_timout' (did you mean 'flows.udp_timeout'?)" -T --set flows.udp_timout=3
if selected check_config_ok; then
    printf 'flows:\n  udp_timeout: 30\noutput:\n  types: [flow, dns]\n' >"$TMP/ok.yaml"
    check check_config_ok bash -c "\"$TAPLINE\" -T -c \"$TMP/ok.yaml\" 2>&1 | grep -q 'configuration OK'"
fi
if selected version_names_libraries; then
    check version_names_libraries bash -c "\"$TAPLINE\" --version | grep -q 'nDPI 4.*libpcap.*librdkafka.*zstd.*hiredis'"
fi

if selected list_fields; then
    check list_fields bash -c "\"$TAPLINE\" --list-fields | grep -q 'community_id' && \"$TAPLINE\" --list-fields | grep -q '^stats:' && \"$TAPLINE\" --list-fields | grep -q '^identity:' && \"$TAPLINE\" --list-fields | grep -q '^kerberos:'"
fi
if selected version; then
    check version bash -c "\"$TAPLINE\" --version | grep -q '^tapline '"
fi
if selected every_line_is_json; then
    check every_line_is_json bash -c "for p in pcaps/*.pcap; do \"$TAPLINE\" -r \"\$p\" 2>/dev/null | jq -e . >/dev/null || exit 1; done"
fi
# Live capture in a network namespace of our own (loopback only), stopped by
# SIGTERM: open flows end with end_reason shutdown, the stats event is written.
if selected live_capture_sigterm && [ "$(id -u)" -eq 0 ] && command -v ip >/dev/null && command -v ping >/dev/null; then
    ns=tl-test-$$
    if ip netns add "$ns" 2>/dev/null; then
        ip netns exec "$ns" ip link set lo up
        ip netns exec "$ns" "$TAPLINE" -i lo -w "$TMP/live.jsonl" --set sensor=t 2>"$TMP/live.err" &
        pid=$!
        sleep 1.5
        ip netns exec "$ns" ping -c 3 -i 0.2 127.0.0.1 >/dev/null 2>&1
        sleep 1.2
        kill -TERM "$pid"
        wait "$pid"
        rc=$?
        ip netns del "$ns"
        if [ "$rc" -eq 0 ] &&
            [ "$(jq -r 'select(.event_type=="flow" and .proto=="icmp") | .end_reason' "$TMP/live.jsonl")" = shutdown ] &&
            [ "$(jq -r 'select(.event_type=="stats") | .["capture.packets"]' "$TMP/live.jsonl")" = 6 ]; then
            ok live_capture_sigterm
        else
            not_ok live_capture_sigterm "exit $rc: $(cat "$TMP/live.err" "$TMP/live.jsonl")"
        fi
    else
        not_ok live_capture_sigterm "cannot create a network namespace"
    fi
fi

# On a terminal, a replay shows a progress line on stderr; otherwise none.
if selected progress_on_terminal && command -v script >/dev/null; then
    script -qec "\"$TAPLINE\" -r pcaps/http-basic.pcap -w /dev/null" /dev/null >"$TMP/tty" 2>&1
    "$TAPLINE" -r pcaps/http-basic.pcap -w /dev/null 2>"$TMP/notty"
    if grep -q "packets/s" "$TMP/tty" && ! grep -q "packets/s" "$TMP/notty"; then
        ok progress_on_terminal
    else
        not_ok progress_on_terminal "tty: $(cat "$TMP/tty") / no tty: $(cat "$TMP/notty")"
    fi
fi
finish
