#!/usr/bin/env bash
# live.sh - a live capture whose clock moves without packets: in a network namespace of
# our own (loopback only), one DNS exchange on an otherwise idle link is written within
# 2 s, its flow ends by idle timeout, and stats events keep coming with no traffic, with
# a current, non-decreasing ts. Bounds are generous: they catch a clock that waits for
# the next packet (seconds to forever), not a slow machine.
SUITE=live
. "$(dirname "$0")/../lib/suite.sh"

if [ "$(id -u)" -ne 0 ] || ! command -v ip >/dev/null || ! command -v dnsmasq >/dev/null ||
    ! command -v dig >/dev/null; then
    not_ok live "needs root, ip, dnsmasq and dig (tools/deps.sh test installs them)"
    finish
    exit
fi

ns=tl-live-$$
ip netns add "$ns" || { not_ok live "cannot create a network namespace"; finish; exit; }
trap 'kill $tl_pid $dm_pid 2>/dev/null; wait $tl_pid $dm_pid 2>/dev/null; ip netns del "$ns"; rm -rf "$TMP"' EXIT
ip netns exec "$ns" ip link set lo up
ip netns exec "$ns" dnsmasq --keep-in-foreground --no-resolv --no-hosts --listen-address=127.0.0.1 \
    --bind-interfaces --address=/example.com/127.0.0.9 --pid-file="$TMP/dnsmasq.pid" 2>/dev/null &
dm_pid=$!
ip netns exec "$ns" "$TAPLINE" -i lo -w "$TMP/live.jsonl" --set sensor=t --set flows.udp_timeout=2 \
    --set stats.interval=1 2>"$TMP/live.err" &
tl_pid=$!

# wait_for PATTERN SECONDS: until a line of the output matches, or the time is up.
wait_for() {
    local deadline=$((SECONDS + $2 + 1))
    while [ $SECONDS -lt $deadline ]; do
        grep -q "$1" "$TMP/live.jsonl" 2>/dev/null && return 0
        sleep 0.05
    done
    return 1
}

wait_for '"event_type":"stats"' 5 # tapline listens
start=$(date +%s%N)
ip netns exec "$ns" dig +tries=1 +time=1 @127.0.0.1 www.example.com >/dev/null 2>&1
if wait_for '"event_type":"dns"' 2; then
    ok "dns_event_on_idle_link ($((($(date +%s%N) - start) / 1000000)) ms)"
else
    not_ok dns_event_on_idle_link "no dns event 2 s after the exchange: $(cat "$TMP/live.err")"
fi
if wait_for '"end_reason":"idle"' 4; then
    ok "idle_flow_ends ($((($(date +%s%N) - start) / 1000000)) ms, flows.udp_timeout 2 s)"
else
    not_ok idle_flow_ends "the DNS flow did not end by idle timeout within 4 s"
fi
before=$(grep -c '"event_type":"stats"' "$TMP/live.jsonl")
sleep 3
after=$(grep -c '"event_type":"stats"' "$TMP/live.jsonl")
if [ $((after - before)) -ge 2 ]; then
    ok "stats_without_traffic ($((after - before)) in 3 s)"
else
    not_ok stats_without_traffic "$((after - before)) stats events in 3 s of quiet (stats.interval 1 s)"
fi
kill -TERM "$tl_pid"
wait "$tl_pid"
rc=$?
tl_pid=""
now=$(date -u +%Y-%m-%dT%H)
ts=$(jq -r 'select(.event_type=="stats") | .ts' "$TMP/live.jsonl")
if [ "$rc" = 0 ] && [ "$(sort <<<"$ts")" = "$ts" ] && ! grep -q '^1970' <<<"$ts" &&
    [ "$(tail -n 1 <<<"$ts" | cut -c1-13)" = "$now" ]; then
    ok stats_ts_current_and_monotonic
else
    not_ok stats_ts_current_and_monotonic "exit $rc, stats ts: $(tr '\n' ' ' <<<"$ts")"
fi
finish
