#!/usr/bin/env bash
# kafka.sh - the Kafka sink against a real Kafka-protocol broker (tests/kafka-broker, on
# librdkafka's mock cluster), checked with an independent client (kcat):
#   all_pcaps     every capture, file and Kafka sinks at once: same events, keys are the
#                 community ids, headers present, batches zstd-compressed
#   outage        the broker goes down mid-replay for seconds: nothing lost, spool empty after,
#                 the stats event counts what was spooled and replayed
#   sigterm       tapline stopped while the broker is down: the next run replays the spool
#   kill9         tapline killed (SIGKILL) at three moments of an outage: every event its file
#                 got reaches Kafka once the next run has replayed the spool
#   dead_letter   a message over message.max.bytes goes to the dead-letter file, counted
#   topics        the stats field kafka.topics: per topic, delivered equals what kcat reads
#                 back from that topic, and the per-topic counts add up to the totals
SUITE=kafka
. "$(dirname "$0")/../lib/suite.sh"

BROKER=${BROKER:-${B:-build/release}/tests/kafka-broker}
SHORT=(--set flows.udp_timeout=0.2 --set flows.tcp_idle_timeout=0.2 --set flows.tcp_syn_timeout=0.2
    --set flows.tcp_close_linger=0.1 --set flows.icmp_timeout=0.2 --set flows.other_timeout=0.2)

missing=""
for c in kcat zstd jq cc python3; do command -v "$c" >/dev/null || missing="$missing $c"; done
[ -x "$BROKER" ] || missing="$missing $BROKER"
if [ -n "$missing" ]; then
    not_ok setup "missing:$missing (tools/deps.sh test installs them; make test builds the broker)"
    finish
    exit
fi

# broker_start: a fresh broker; sets ADDR. broker CMD: sends a command, waits for its answer.
broker_start() {
    rm -f "$TMP/bin" "$TMP/bout"
    mkfifo "$TMP/bin"
    "$BROKER" <"$TMP/bin" >"$TMP/bout" 2>"$TMP/berr" &
    BPID=$!
    exec 7>"$TMP/bin"
    for _ in $(seq 100); do [ -s "$TMP/bout" ] && break; sleep 0.05; done
    ADDR=$(head -n 1 "$TMP/bout")
    BLINES=1
}
broker() {
    echo "$*" >&7
    BLINES=$((BLINES + 1))
    for _ in $(seq 100); do [ "$(wc -l <"$TMP/bout")" -ge "$BLINES" ] && return; sleep 0.02; done
}
broker_stop() {
    echo quit >&7
    exec 7>&-
    wait "$BPID" 2>/dev/null
}

# consume OUT: every message of every tapline.* topic the file names, as kcat -J envelopes.
consume() {
    local t
    : >"$1"
    for t in $(jq -r .event_type "$TMP/all.jsonl" | sort -u); do
        kcat -b "$ADDR" -C -t "tapline.$t" -e -q -J >>"$1" 2>>"$TMP/kcat.err" || return 1
    done
}
# The events, canonical (sorted keys, sorted lines, duplicates kept).
payloads() { jq -r .payload "$1" | jq -cS . | LC_ALL=C sort; }
events() { jq -cS . "$1" | LC_ALL=C sort; }

run_tapline() { # run_tapline SPOOL ARGS...: file and Kafka sinks, stderr in $TMP/err
    local spool=$1
    shift
    "$TAPLINE" --kafka "$ADDR" --set sensor=test --set kafka.spool_dir="$spool" \
        --set kafka.flush_timeout=5 "$@" 2>>"$TMP/err"
}
run_tapline_bg() { # the same in the background, TPID its process id (not a subshell's)
    local spool=$1 feed=$2
    shift 2
    "$TAPLINE" --kafka "$ADDR" --set sensor=test --set kafka.spool_dir="$spool" \
        --set kafka.flush_timeout=5 "$@" <"$feed" 2>>"$TMP/err" &
    TPID=$!
}

stat_of() { jq -r "select(.event_type==\"stats\") | .[\"$2\"]" "$1" | tail -n 1; }
# topic_sums FILE: "delivered retried failed" summed over kafka.topics of the last stats event.
topic_sums() {
    jq -r 'select(.event_type=="stats") | .["kafka.topics"] // {} | [.[]] |
        "\(map(.delivered) | add // 0) \(map(.retried) | add // 0) \(map(.failed) | add // 0)"' \
        "$1" | tail -n 1
}

# ---------------------------------------------------------------- every capture, both sinks
if selected all_pcaps; then
    broker_start
    : >"$TMP/all.jsonl"
    : >"$TMP/err"
    fail=""
    for p in pcaps/*.pcap pcaps/*.pcapng; do
        [ -e "$p" ] || continue
        run_tapline "$TMP/spool1" -r "$p" -w "$TMP/one.jsonl" || fail="$fail $p"
        cat "$TMP/one.jsonl" >>"$TMP/all.jsonl"
    done
    consume "$TMP/kafka.json"
    events "$TMP/all.jsonl" >"$TMP/want"
    payloads "$TMP/kafka.json" >"$TMP/got"
    # Keys: the community id where the event has one, none elsewhere; the three headers.
    badkeys=$(jq -c 'select(.key != ((.payload | fromjson | .community_id) // null))
        | [.topic, .key]' "$TMP/kafka.json" | head -n 3)
    badhdr=$(jq -c '(.headers // []) as $h
        | select(($h | length) != 6 or $h[0] != "event_type" or $h[2] != "sensor"
                 or $h[3] != "test" or $h[4] != "schema_version"
                 or $h[1] != (.payload | fromjson | .event_type)) | .headers' \
        "$TMP/kafka.json" | head -n 3)
    # Compression: what the broker stores, as the consumer's fetch reports it.
    kcat -b "$ADDR" -C -t tapline.flow -e -q -d msg -f '' >/dev/null 2>"$TMP/fetch.log"
    codecs=$(grep -o 'aborted msgsets, [a-z0-9]*)' "$TMP/fetch.log" | sort | uniq -c | tr -s ' ' | tr '\n' ';')
    if [ -n "$fail" ]; then
        not_ok all_pcaps "tapline failed on:$fail: $(tail -n 3 "$TMP/err")"
    elif [ ! -s "$TMP/want" ]; then
        not_ok all_pcaps "no events written"
    elif ! diff -q "$TMP/want" "$TMP/got" >/dev/null; then
        not_ok all_pcaps "file $(wc -l <"$TMP/want") events, Kafka $(wc -l <"$TMP/got"):
$(diff "$TMP/want" "$TMP/got" | head -n 6 | cut -c 1-300)"
    elif [ -n "$badkeys" ]; then
        not_ok all_pcaps "keys are not the community ids: $badkeys"
    elif [ -n "$badhdr" ]; then
        not_ok all_pcaps "headers: $badhdr"
    elif ! grep -q 'zstd)' <<<"$codecs" || grep -q 'uncompressed' <<<"$codecs"; then
        not_ok all_pcaps "flow batches not all zstd: $codecs"
    elif [ -n "$(ls -A "$TMP/spool1" | grep -v '^dead-letter')" ]; then
        not_ok all_pcaps "spool not empty: $(ls "$TMP/spool1")"
    else
        ok all_pcaps
    fi
    broker_stop
fi

# A capture long enough to take the broker down in the middle: made by tools/pcapgen.c.
# Its packet time is stretched tenfold (to about 3 s), so that flows end all along the replay.
big_pcap() {
    [ -s "$TMP/big.pcap" ] && return
    cc -O2 -o "$TMP/pcapgen" tools/pcapgen.c -lm &&
        "$TMP/pcapgen" mixed "$TMP/gen.pcap" 30000 >/dev/null 2>&1 &&
        python3 - "$TMP/gen.pcap" "$TMP/big.pcap" <<'PY'
import struct, sys
src = open(sys.argv[1], "rb").read()
out, off, t0 = [src[:24]], 24, None
while off + 16 <= len(src):
    sec, usec, incl, orig = struct.unpack_from("<IIII", src, off)
    t = sec * 1000000 + usec
    t0 = t if t0 is None else t0
    t = t0 + (t - t0) * 10
    out.append(struct.pack("<IIII", t // 1000000, t % 1000000, incl, orig))
    out.append(src[off + 16:off + 16 + incl])
    off += 16 + incl
open(sys.argv[2], "wb").write(b"".join(out))
PY
}

# feed_thirds FIFO CMD_AFTER_1 PAUSE CMD_AFTER_2 PAUSE: the capture in three parts.
third() { # third N: bytes 1..3 of the capture
    local size
    size=$(stat -c %s "$TMP/big.pcap")
    case $1 in
    1) head -c $((size / 3)) "$TMP/big.pcap" ;;
    2) tail -c +$((size / 3 + 1)) "$TMP/big.pcap" | head -c $((size / 3)) ;;
    3) tail -c +$((size / 3 * 2 + 1)) "$TMP/big.pcap" ;;
    esac
}

# ---------------------------------------------------------------- outage in the middle
if selected outage; then
    broker_start
    : >"$TMP/err"
    big_pcap
    rm -f "$TMP/feed"
    mkfifo "$TMP/feed"
    # the end waits up to 60 s for the broker and the spool (the final stats count every
    # replay; it returns as soon as both are done, about a second here): loaded CI machines
    # took longer than 5 s, and once longer than 20 s, to reconnect and replay 11 k events
    run_tapline_bg "$TMP/spool2" "$TMP/feed" -r - -w "$TMP/all.jsonl" "${SHORT[@]}" \
        --set kafka.flush_timeout=60
    exec 8>"$TMP/feed"
    third 1 >&8
    sleep 1
    broker down
    third 2 >&8
    sleep 4
    broker up
    third 3 >&8
    exec 8>&-
    wait "$TPID"
    rc=$?
    consume "$TMP/kafka.json"
    events "$TMP/all.jsonl" >"$TMP/want"
    payloads "$TMP/kafka.json" >"$TMP/got"
    spooled=$(stat_of "$TMP/all.jsonl" kafka.spooled)
    replayed=$(stat_of "$TMP/all.jsonl" kafka.replayed)
    [ -n "${KAFKA_DEBUG:-}" ] && jq -c "select(.event_type==\"stats\") | with_entries(select(.key | test(\"kafka|events\")))" "$TMP/all.jsonl" && cat "$TMP/err"
    outages=$(stat_of "$TMP/all.jsonl" kafka.outages)
    totals="$(stat_of "$TMP/all.jsonl" kafka.delivered) $(stat_of "$TMP/all.jsonl" kafka.retried) $(stat_of "$TMP/all.jsonl" kafka.failed)"
    sums=$(topic_sums "$TMP/all.jsonl")
    if [ "$rc" -ne 0 ]; then
        not_ok outage "tapline exited $rc: $(tail -n 3 "$TMP/err")"
    elif ! diff -q "$TMP/want" "$TMP/got" >/dev/null; then
        not_ok outage "file $(wc -l <"$TMP/want") events, Kafka $(wc -l <"$TMP/got") (spooled $spooled, replayed $replayed): $(diff "$TMP/want" "$TMP/got" | grep -c '^<') missing, $(diff "$TMP/want" "$TMP/got" | grep -c '^>') extra"
    elif ! [ "${spooled:-0}" -gt 0 ] || ! [ "${replayed:-0}" -ge "$spooled" ] || ! [ "${outages:-0}" -ge 1 ]; then
        not_ok outage "stats: spooled '$spooled' replayed '$replayed' outages '$outages'"
    elif ls "$TMP/spool2" | grep -q '^spool-'; then
        not_ok outage "spool not empty: $(ls "$TMP/spool2")"
    elif [ "$sums" != "$totals" ]; then
        not_ok outage "kafka.topics sums (delivered retried failed) '$sums', totals '$totals'"
    else
        ok outage
    fi
    broker_stop
fi

# second_run SPOOL FIRST SECOND: the broker back, a second run replays the spool; the two runs'
# files and what Kafka holds, as distinct events, in $TMP/want and $TMP/got. Its exit code.
second_run() {
    local rc
    broker up
    run_tapline "$1" -r pcaps/icmp-ping.pcap -w "$3"
    rc=$?
    cat "$2" "$3" >"$TMP/all.jsonl"
    consume "$TMP/kafka.json"
    events "$TMP/all.jsonl" | uniq >"$TMP/want"
    payloads "$TMP/kafka.json" | uniq >"$TMP/got"
    return $rc
}

# ---------------------------------------------------------------- SIGTERM while down
if selected sigterm; then
    broker_start
    : >"$TMP/err"
    big_pcap
    rm -f "$TMP/feed"
    mkfifo "$TMP/feed"
    run_tapline_bg "$TMP/spool3" "$TMP/feed" -r - -w "$TMP/run1.jsonl" "${SHORT[@]}" \
        --set kafka.flush_timeout=1
    exec 8>"$TMP/feed"
    third 1 >&8
    sleep 1
    broker down
    third 2 >&8
    sleep 1.5
    kill -TERM "$TPID"
    exec 8>&-
    wait "$TPID"
    left=$(ls "$TMP/spool3" | grep -c '^spool-')
    spooled=$(stat_of "$TMP/run1.jsonl" kafka.spooled)
    second_run "$TMP/spool3" "$TMP/run1.jsonl" "$TMP/run2.jsonl"
    rc=$?
    replayed=$(stat_of "$TMP/run2.jsonl" kafka.replayed)
    [ -n "${KAFKA_DEBUG:-}" ] && jq -c "select(.event_type==\"stats\") | with_entries(select(.key | test(\"kafka|events|capture.packets\")))" "$TMP/run1.jsonl" "$TMP/run2.jsonl" && cat "$TMP/err"
    if [ "$left" -eq 0 ] || ! [ "${spooled:-0}" -gt 0 ]; then
        not_ok sigterm "nothing spooled at SIGTERM (segments $left, kafka.spooled '$spooled'): $(tail -n 3 "$TMP/err")"
    elif [ "$rc" -ne 0 ]; then
        not_ok sigterm "second run exited $rc: $(tail -n 3 "$TMP/err")"
    elif ! diff -q "$TMP/want" "$TMP/got" >/dev/null; then
        not_ok sigterm "files $(wc -l <"$TMP/want") distinct events, Kafka $(wc -l <"$TMP/got"): $(diff "$TMP/want" "$TMP/got" | grep -c '^<') missing"
    elif ! [ "${replayed:-0}" -gt 0 ] || ls "$TMP/spool3" | grep -q '^spool-'; then
        not_ok sigterm "second run: replayed '$replayed', spool: $(ls "$TMP/spool3")"
    else
        ok sigterm
    fi
    broker_stop
fi

# ---------------------------------------------------------------- SIGKILL while down
if selected kill9; then
    : >"$TMP/err"
    big_pcap
    for at in 0.3 1 2; do
        broker_start # a broker of its own: the same capture's events from a moment before must not count
        spool="$TMP/spool-kill-$at"
        rm -f "$TMP/feed"
        mkfifo "$TMP/feed"
        run_tapline_bg "$spool" "$TMP/feed" -r - -w "$TMP/k1.jsonl" "${SHORT[@]}"
        exec 8>"$TMP/feed"
        third 1 >&8
        sleep 1
        broker down
        third 2 >&8
        sleep "$at"
        kill -KILL "$TPID"
        exec 8>&- 2>/dev/null
        wait "$TPID" 2>/dev/null
        # The file keeps lines in its buffer: what it got before the kill is what it shows.
        second_run "$spool" "$TMP/k1.jsonl" "$TMP/k2.jsonl"
        rc=$?
        missing=$(LC_ALL=C comm -23 "$TMP/want" "$TMP/got" | wc -l)
        [ -n "${KAFKA_DEBUG:-}" ] && cat "$TMP/err"
        if [ "$rc" -ne 0 ]; then
            not_ok "kill9_$at" "second run exited $rc: $(tail -n 3 "$TMP/err")"
        elif ! [ "$(wc -l <"$TMP/k1.jsonl")" -gt 0 ]; then
            not_ok "kill9_$at" "the killed run wrote nothing to its file"
        elif [ "$missing" -ne 0 ]; then
            not_ok "kill9_$at" "$missing of $(wc -l <"$TMP/want") events in the files never reached Kafka: $(LC_ALL=C comm -23 "$TMP/want" "$TMP/got" | head -c 300)"
        else
            ok "kill9_$at"
        fi
        broker_stop
    done
fi

# ---------------------------------------------------------------- permanent failure
if selected dead_letter; then
    broker_start
    : >"$TMP/err"
    # A 600-byte sensor name makes every event larger than message.max.bytes=1000.
    long=$(printf 'x%.0s' $(seq 600))
    run_tapline "$TMP/spool4" -r pcaps/http-basic.pcap -w "$TMP/all.jsonl" --set sensor="$long" \
        --set kafka.properties="message.max.bytes=1000, batch.size=1000" \
        --set kafka.dead_letter="$TMP/dead.jsonl"
    rc=$?
    n=$(wc -l <"$TMP/all.jsonl")
    failed=$(stat_of "$TMP/all.jsonl" kafka.failed)
    ndead=$(wc -l <"$TMP/dead.jsonl" 2>/dev/null || echo 0)
    jq -c .event "$TMP/dead.jsonl" 2>/dev/null | jq -cS . | LC_ALL=C sort >"$TMP/got"
    events "$TMP/all.jsonl" >"$TMP/want"
    consume "$TMP/kafka.json"
    if [ "$rc" -ne 0 ]; then
        not_ok dead_letter "tapline exited $rc: $(tail -n 3 "$TMP/err")"
    elif [ "$ndead" -ne "$n" ] || ! diff -q "$TMP/want" "$TMP/got" >/dev/null; then
        not_ok dead_letter "$n events, $ndead dead letters: $(head -c 300 "$TMP/dead.jsonl")"
    elif [ "$failed" != $((n - 1)) ]; then
        not_ok dead_letter "kafka.failed is '$failed', wanted $((n - 1)) (all but the stats event itself)"
    elif ! jq -e 'select(.error | test("too large"; "i") | not)' "$TMP/dead.jsonl" >/dev/null; then
        if [ -s "$TMP/kafka.json" ]; then
            not_ok dead_letter "Kafka has $(wc -l <"$TMP/kafka.json") messages, wanted none"
        else
            ok dead_letter
        fi
    else
        not_ok dead_letter "reasons: $(jq -r .error "$TMP/dead.jsonl" | sort | uniq -c)"
    fi
    broker_stop
fi

# ---------------------------------------------------------------- per-topic delivery counts
if selected topics; then
    broker_start
    : >"$TMP/err"
    big_pcap
    run_tapline "$TMP/spool5" -r "$TMP/big.pcap" -w "$TMP/all.jsonl" "${SHORT[@]}"
    rc=$?
    consume "$TMP/kafka.json"
    # kcat's count per topic; the final stats event counts the deliveries before it, not
    # its own: it is one message more in tapline.stats than its count says.
    jq -r .topic "$TMP/kafka.json" | LC_ALL=C sort | uniq -c |
        awk '{ n = $2 == "tapline.stats" ? $1 - 1 : $1; if (n > 0) print $2, n }' >"$TMP/want"
    jq -r 'select(.event_type=="stats") | .["kafka.topics"] // {} | to_entries[]
        | "\(.key) \(.value.delivered)"' "$TMP/all.jsonl" | LC_ALL=C sort |
        awk '$2 > 0' >"$TMP/got"
    other=$(jq -r 'select(.event_type=="stats") | .["kafka.topics"] // {} | to_entries[]
        | select(.value.retried + .value.failed > 0) | .key' "$TMP/all.jsonl")
    totals="$(stat_of "$TMP/all.jsonl" kafka.delivered) $(stat_of "$TMP/all.jsonl" kafka.retried) $(stat_of "$TMP/all.jsonl" kafka.failed)"
    sums=$(topic_sums "$TMP/all.jsonl")
    [ -n "${KAFKA_DEBUG:-}" ] && paste "$TMP/want" "$TMP/got"
    if [ "$rc" -ne 0 ]; then
        not_ok topics "tapline exited $rc: $(tail -n 3 "$TMP/err")"
    elif [ "$(wc -l <"$TMP/want")" -lt 3 ]; then
        not_ok topics "only $(wc -l <"$TMP/want") topics in Kafka"
    elif ! diff -q "$TMP/want" "$TMP/got" >/dev/null; then
        not_ok topics "per topic (kcat vs kafka.topics delivered): $(diff "$TMP/want" "$TMP/got" | grep '^[<>]' | head -n 6 | tr '\n' ';')"
    elif [ -n "$other" ] || [ "$sums" != "$totals" ]; then
        not_ok topics "retried/failed on '$other'; sums '$sums' vs totals '$totals'"
    else
        ok topics
    fi
    broker_stop
fi

finish
