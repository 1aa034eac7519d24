#!/usr/bin/env bash
# live.sh - live capture in network namespaces of our own (nothing leaves them).
# 1. The clock moves without packets: one DNS exchange on an otherwise idle link is
#    written within 2 s, its flow ends by idle timeout, stats events keep coming with
#    no traffic, with a current, non-decreasing ts. The bounds are generous: they catch
#    a clock that waits for the next packet (seconds to forever), not a slow machine.
# 2. Two interfaces at once, each with its counters; --user drops root and every
#    capability and the capture goes on; a link going down and up is said and counted;
#    the Prometheus endpoint (metrics.listen) answers in the exposition format
#    (checked by promtool) with every counter, per worker and per interface.
# 3. Stderr says where it listens, how it goes with each stats event, what it did at the end.
# 4. AF_PACKET (capture.method afpacket): a capture of real traffic (DNS over UDP and
#    TCP, IPv4 and IPv6 fragments, HTTP, VLAN, QinQ, MPLS, VXLAN, GRE, ERSPAN) replayed
#    by tcpreplay into a veth pair at a fixed rate gives the flow, dns and http events
#    of the same capture read with -r (what depends on the wire aside: ts, uid,
#    durations, rtt), with 2 workers and 1, and through libpcap (capture.method pcap, 2 and 1);
#    no kernel drop, both workers fed, per-worker counters; a filter; the errors.
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
# What an operator reads on stderr (the journal): where it listens, a line with each stats
# event, and at the end what it read and made of it.
if head -n 1 "$TMP/live.err" | grep -qE '^tapline: listening on lo; [0-9]+ worker\(s\); events to ' &&
    grep -qE '^tapline: [0-9]+ packets \([0-9]+ dropped\), [0-9]+ flows, [0-9]+ events so far$' "$TMP/live.err" &&
    tail -n 1 "$TMP/live.err" | grep -qE '^tapline: lo: [1-9][0-9]* packets \(0 dropped by the kernel, 0 by the interface\), [0-9]+ not decoded, [1-9][0-9]* flows, [1-9][0-9]* events, 0 output errors$'; then
    ok stderr_lines
else
    not_ok stderr_lines "$(cat "$TMP/live.err")"
fi

# --- two interfaces, --user, link down and up -------------------------------------------
peer=tl-livep-$$
ip netns add "$peer"
for n in "$ns" "$peer"; do # IPv4 only: no neighbour discovery or MLD on the link
    ip netns exec "$n" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
done
trap 'kill $tl_pid $dm_pid 2>/dev/null; wait $tl_pid $dm_pid 2>/dev/null; ip netns del "$ns"; ip netns del "$peer"; rm -rf "$TMP"' EXIT
ip link add tl-v0 netns "$ns" type veth peer name tl-v1 netns "$peer"
ip -n "$ns" addr add 10.77.0.1/24 dev tl-v0
ip -n "$peer" addr add 10.77.0.2/24 dev tl-v1
ip -n "$ns" link set tl-v0 up
ip -n "$peer" link set tl-v1 up
: >"$TMP/two.jsonl"
ip netns exec "$ns" "$TAPLINE" -i lo -i tl-v0 --user nobody -w "$TMP/two.jsonl" --set sensor=t \
    --set stats.interval=1 --set metrics.listen=127.0.0.1:9108 2>"$TMP/two.err" &
tl_pid=$!
deadline=$((SECONDS + 6))
until grep -q '"event_type":"stats"' "$TMP/two.jsonl" || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
status=$(cat "/proc/$tl_pid/status" 2>/dev/null)
nobody=$(id -u nobody)
if grep -qE "^Uid:\s+$nobody\s+$nobody\s+$nobody\s+$nobody\s*$" <<<"$status" &&
    grep -qE '^CapEff:\s+0+$' <<<"$status" && grep -qE '^CapPrm:\s+0+$' <<<"$status"; then
    ok user_drops_root
else
    not_ok user_drops_root "$(grep -E '^(Uid|Gid|CapEff|CapPrm):' <<<"$status") $(cat "$TMP/two.err")"
fi
ip netns exec "$ns" ping -c 2 -i 0.2 -W 1 10.77.0.2 >/dev/null 2>&1
ip netns exec "$ns" ping -c 2 -i 0.2 -W 1 127.0.0.1 >/dev/null 2>&1
ip -n "$ns" link set tl-v0 down
sleep 1.5
ip -n "$ns" link set tl-v0 up
sleep 2.5
ip netns exec "$ns" curl -s --max-time 5 http://127.0.0.1:9108/metrics >"$TMP/metrics.txt"
if ! command -v promtool >/dev/null; then
    not_ok metrics "no promtool (tools/deps.sh test installs prometheus)"
elif promtool check metrics <"$TMP/metrics.txt" >"$TMP/promtool.out" 2>&1 &&
    grep -qE '^tapline_capture_packets_total [1-9]' "$TMP/metrics.txt" &&
    grep -qE '^tapline_flows_worker_packets_total\{worker="0"\} [0-9]' "$TMP/metrics.txt" &&
    grep -qE '^tapline_capture_interface_packets_total\{interface="tl-v0"\} [1-9]' "$TMP/metrics.txt" &&
    grep -qE '^tapline_capture_interface_down_total\{interface="tl-v0"\} 1$' "$TMP/metrics.txt" &&
    grep -qE '^tapline_rules_matches_total [0-9]' "$TMP/metrics.txt" &&
    grep -qE '^tapline_uptime_seconds [0-9.]+$' "$TMP/metrics.txt" &&
    grep -qE '^tapline_build_info\{version="[^"]+",ndpi="[^"]+"\} 1$' "$TMP/metrics.txt"; then
    ok "metrics ($(grep -c '^# TYPE' "$TMP/metrics.txt") metrics)"
else
    not_ok metrics "$(cat "$TMP/promtool.out"; grep -E 'capture_packets|worker|interface|build' "$TMP/metrics.txt")"
fi
kill -TERM "$tl_pid"
wait "$tl_pid"
rc=$?
tl_pid=""
last=$(jq -c 'select(.event_type=="stats") | .["capture.interfaces"]' "$TMP/two.jsonl" | tail -n 1)
v0=$(jq -r '.["tl-v0"].packets' <<<"$last")
lo=$(jq -r '.lo.packets' <<<"$last")
flows=$(jq -r 'select(.event_type=="flow" and .proto=="icmp") | .["id.resp_h"]' "$TMP/two.jsonl" | sort -u | tr '\n' ' ')
if [ "$rc" = 0 ] && [ "${v0:-0}" -ge 4 ] && [ "${lo:-0}" -ge 4 ] && [ "$flows" = "10.77.0.2 127.0.0.1 " ]; then
    ok "two_interfaces (lo $lo, tl-v0 $v0 packets)"
else
    not_ok two_interfaces "exit $rc, counters $last, icmp flows to: $flows; $(cat "$TMP/two.err")"
fi
if [ "$(jq -r '.["tl-v0"].down' <<<"$last")" = 1 ] && grep -q "tl-v0: interface went down" "$TMP/two.err" &&
    grep -q "tl-v0: interface is up again" "$TMP/two.err"; then
    ok link_down_up
else
    not_ok link_down_up "counters $last; $(cat "$TMP/two.err")"
fi

# --- AF_PACKET: a replay through a veth pair against the same capture read offline ---------
afp_needs=""
for c in tcpreplay mergecap editcap; do command -v "$c" >/dev/null || afp_needs="$afp_needs $c"; done
if [ -n "$afp_needs" ]; then
    not_ok afpacket "needs$afp_needs (tools/deps.sh test installs them)"
    finish
    exit
fi
# The capture: real ones from ../shared/pcaps and the project's tunnels, one after the other,
# 2 ms apart, so that a replay at 500 packets/s has the timing the offline run sees.
parts=""
for f in dns/ndpi_dns_fragmented.pcap dns/zeek_ipv6-fragmented-dns.pcap dns/arkime_dns-tcp.pcap \
    http/zeek_http_pipelined-requests.pcap http/zeek_mixed-vlan-mpls.pcap http/arkime_twovlan.pcap; do
    [ -r "$SHARED/pcaps/$f" ] && parts="$parts $SHARED/pcaps/$f"
done
# shellcheck disable=SC2086
mergecap -a -F pcap -w "$TMP/joined.pcap" $parts pcaps/vxlan.pcap pcaps/gre-erspan.pcap \
    pcaps/mpls.pcap pcaps/vlan-qinq.pcap pcaps/ipv6-frag.pcap
editcap -S -0.002 "$TMP/joined.pcap" "$TMP/replay.pcap"
afp=tl-afp-$$
ip netns add "$afp"
trap 'kill $tl_pid $dm_pid 2>/dev/null; wait $tl_pid $dm_pid 2>/dev/null; ip netns del "$ns"; ip netns del "$peer"; ip netns del "$afp"; rm -rf "$TMP"' EXIT
ip netns exec "$afp" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$afp" link add tl-a0 type veth peer name tl-a1
ip -n "$afp" link set tl-a0 mtu 9000 up # frames up to 4418 bytes
ip -n "$afp" link set tl-a1 mtu 9000 up

# What a run writes that the wire decides is left out; uids follow from ts.
norm() {
    jq -cS 'select(.event_type == "flow" or .event_type == "dns" or .event_type == "http")
        | del(.ts, .uid, .sensor, .duration, .rtt, .domain_first_seen)' "$1" | LC_ALL=C sort
}
"$TAPLINE" -r "$TMP/replay.pcap" --threads 2 --set sensor=t -w "$TMP/offline.jsonl" 2>"$TMP/offline.err"
norm "$TMP/offline.jsonl" >"$TMP/offline.norm"

# live_replay OUT ARGS...: tapline on tl-a1 until the replay into tl-a0 is over; its exit status.
live_replay() {
    local out=$1 deadline
    shift
    : >"$out"
    ip netns exec "$afp" "$TAPLINE" -i tl-a1 -w "$out" --set sensor=t --set stats.interval=1 "$@" \
        2>"$out.err" &
    tl_pid=$!
    deadline=$((SECONDS + 8)) # the first stats event: every socket is open
    until grep -q '"event_type":"stats"' "$out" || [ $SECONDS -ge $deadline ]; do sleep 0.05; done
    ip netns exec "$afp" tcpreplay -q -i tl-a0 --pps 500 "$TMP/replay.pcap" >"$out.replay" 2>&1
    kill -INT "$tl_pid" # what the sockets hold is read before the workers stop
    wait "$tl_pid"
    local rc=$?
    tl_pid=""
    return $rc
}

# same_as_offline NAME THREADS METHOD: the events equal, nothing dropped, every worker fed.
same_as_offline() {
    local name=$1 threads=$2 method=$3 out="$TMP/$1.jsonl" rc stats why=""
    live_replay "$out" --threads "$threads" --set capture.method="$method"
    rc=$?
    norm "$out" >"$out.norm"
    stats=$(jq -c 'select(.event_type == "stats")' "$out" | tail -n 1)
    [ "$rc" = 0 ] || why="exit $rc: $(cat "$out.err")"
    diff "$TMP/offline.norm" "$out.norm" >"$out.diff" || why="$why events differ: $(head -c 1500 "$out.diff")"
    [ "$(jq '.["capture.kernel_drops"] + .["capture.ring_drops"]' <<<"$stats")" = 0 ] ||
        why="$why drops: $stats"
    [ "$(jq '.["flows.worker_packets"] | map(select(. > 0)) | length' <<<"$stats")" = "$threads" ] ||
        why="$why a worker got no packet: $(jq -c '.["flows.worker_packets"]' <<<"$stats")"
    if [ "$method" = afpacket ] &&
        { [ "$(jq '.["capture.worker_drops"] | length' <<<"$stats")" != "$threads" ] ||
            [ "$(jq '.["capture.interfaces"]["tl-a1"].ring_full' <<<"$stats")" != 0 ]; }; then
        why="$why per-worker counters: $stats"
    fi
    if [ -z "$why" ]; then
        ok "$name ($(wc -l <"$out.norm") events, packets per worker $(jq -c '.["flows.worker_packets"]' <<<"$stats"), handed over $(jq '.["capture.handoffs"] // 0' <<<"$stats"))"
    else
        not_ok "$name" "$why"
    fi
}
selected afpacket_2_workers && same_as_offline afpacket_2_workers 2 afpacket
selected afpacket_1_worker && same_as_offline afpacket_1_worker 1 afpacket
selected pcap_2_workers && same_as_offline pcap_2_workers 2 pcap
selected pcap_1_worker && same_as_offline pcap_1_worker 1 pcap

if selected afpacket_filter; then
    live_replay "$TMP/filter.jsonl" --threads 2 --set capture.method=afpacket \
        --set capture.afpacket.fanout_group=4242 -f "udp port 53" # a group id of its own too
    rc=$?
    others=$(jq -c 'select(.event_type == "flow" and (.proto != "udp" or
        (.["id.orig_p"] != 53 and .["id.resp_p"] != 53)))' "$TMP/filter.jsonl")
    ndns=$(jq -c 'select(.event_type == "dns")' "$TMP/filter.jsonl" | wc -l)
    nhttp=$(jq -c 'select(.event_type == "http")' "$TMP/filter.jsonl" | wc -l)
    # the DNS over UDP port 53 of the same capture read offline (fewer without ../shared/pcaps),
    # but for a tunnel's: the filter sees the outer headers (VXLAN is UDP 4789)
    want=$(jq -s '[.[] | select(.event_type == "flow" and .["tunnel.type"]) | .uid] as $tunnelled
        | [.[] | select(.event_type == "dns" and .proto == "udp" and
            (.["id.orig_p"] == 53 or .["id.resp_p"] == 53) and (.uid | IN($tunnelled[]) | not))]
        | length' "$TMP/offline.jsonl")
    if [ "$rc" = 0 ] && [ -z "$others" ] && [ "$ndns" = "$want" ] && [ "$want" -gt 0 ] &&
        [ "$nhttp" = 0 ]; then
        ok "afpacket_filter ($ndns dns events, nothing but port 53)"
    else
        not_ok afpacket_filter "exit $rc, dns $ndns (offline $want), http $nhttp, others: $others $(cat "$TMP/filter.jsonl.err")"
    fi
fi

# expect_fail NAME MESSAGE ARGS...: exits non-zero with that one line on stderr.
expect_fail() {
    local name=$1 want=$2 rc
    shift 2
    ip netns exec "$afp" "$@" -w /dev/null 2>"$TMP/fail.err"
    rc=$?
    if [ "$rc" -ne 0 ] && [ "$(cat "$TMP/fail.err")" = "$want" ]; then
        ok "$name"
    else
        not_ok "$name" "exit $rc: $(cat "$TMP/fail.err")"
    fi
}
selected afpacket_no_such_interface && expect_fail afpacket_no_such_interface \
    "tapline: tl-nosuch0: no such interface" "$TAPLINE" -i tl-nosuch0 --set capture.method=afpacket
if selected afpacket_no_permission && command -v setpriv >/dev/null; then
    expect_fail afpacket_no_permission \
        "tapline: tl-a1: permission denied (run as root or grant CAP_NET_RAW)" \
        setpriv --reuid=nobody --regid=nogroup --clear-groups --inh-caps=-all "$TAPLINE" -i tl-a1
fi
selected afpacket_any && expect_fail afpacket_any \
    "tapline: capture.method afpacket cannot capture on 'any': use pcap" \
    "$TAPLINE" -i any --set capture.method=afpacket
finish
