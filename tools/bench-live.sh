#!/usr/bin/env bash
# bench-live.sh TAPLINE - the highest packet rate a live capture takes with nothing dropped,
# for capture.method afpacket and pcap, with 1 and 2 workers. Run by `make bench BENCH_LIVE=1`
# (as root: it makes a network namespace with a veth pair, tl-b0 -> tl-b1, and removes it).
#
# tcpreplay sends the first $BENCH_LIVE_PACKETS packets of build/bench/real.pcap (real
# traffic, ../shared/tools/make-bench-pcap.sh; made here if missing) into tl-b0, loaded in
# memory first (--preload-pcap); tapline captures on tl-b1 with default options, events to a
# file. A run passes when its last stats event counts no packet dropped: capture.kernel_drops,
# capture.ring_drops, capture.iface_drops all 0. First --topspeed: if nothing is dropped, the
# rate the replayer reached is the answer (on one machine tcpreplay and tapline share the CPUs,
# so that is a floor, marked "replayer-bound"); otherwise a bisection over --pps rates below
# it. Rates are those tcpreplay reports (Rated: ... pps). Prints a table; raw outputs in
# build/bench/live/. Takes 2-4 minutes on 2 cores (each run loads the packets first).
#
# Environment: BENCH_LIVE_PACKETS (600000), BENCH_LIVE_STEPS (4 bisection steps).
set -eu

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: tools/bench-live.sh path/to/tapline" >&2
    exit 2
fi
case "$1" in
/*) tapline=$1 ;;
*) tapline=$(pwd)/$1 ;;
esac
cd "$(dirname "$0")/.."

npackets=${BENCH_LIVE_PACKETS:-600000}
steps=${BENCH_LIVE_STEPS:-4}
B=build/bench
R=$B/live
real=$B/real.pcap
mkdir -p "$R"

if [ "$(id -u)" -ne 0 ]; then
    echo "bench-live: needs root (a network namespace and a veth pair)" >&2
    exit 1
fi
for c in ip tcpreplay jq; do
    command -v "$c" >/dev/null || {
        echo "bench-live: needs $c (tools/deps.sh test)" >&2
        exit 1
    }
done
if [ ! -s "$real" ]; then
    echo "bench-live: building $real with ../shared/tools/make-bench-pcap.sh" >&2
    ../shared/tools/make-bench-pcap.sh "$real" >&2
fi

ns=tl-bench-$$
tl_pid=""
cleanup() {
    [ -z "$tl_pid" ] || kill "$tl_pid" 2>/dev/null || true
    ip netns del "$ns" 2>/dev/null || true
}
trap cleanup EXIT
ip netns add "$ns"
ip netns exec "$ns" sysctl -q -w net.ipv6.conf.all.disable_ipv6=1 net.ipv6.conf.default.disable_ipv6=1
ip -n "$ns" link add tl-b0 type veth peer name tl-b1
ip -n "$ns" link set tl-b0 mtu 65535 up
ip -n "$ns" link set tl-b1 mtu 65535 up

# run METHOD THREADS RATE: one replay ("top" for --topspeed); prints "pps drops cpu_s packets".
run() {
    local method=$1 threads=$2 rate=$3 name="$R/$1-$2-$3" ticks cpu
    local pace="--pps=$rate"
    [ "$rate" = top ] && pace=--topspeed
    : >"$name.jsonl"
    ip netns exec "$ns" "$tapline" -i tl-b1 --threads "$threads" --set capture.method="$method" \
        --set stats.interval=1 --set sensor=bench -w "$name.jsonl" 2>"$name.err" &
    tl_pid=$!
    until grep -q '"event_type":"stats"' "$name.jsonl" 2>/dev/null; do
        kill -0 "$tl_pid" 2>/dev/null || {
            echo "bench-live: tapline stopped: $(cat "$name.err")" >&2
            exit 1
        }
        sleep 0.05
    done
    ip netns exec "$ns" tcpreplay -q -i tl-b0 "$pace" --preload-pcap --limit="$npackets" "$real" \
        >"$name.replay" 2>&1
    ticks=$(awk '{ print $14 + $15 }' "/proc/$tl_pid/stat")
    kill -INT "$tl_pid"
    wait "$tl_pid" || true
    tl_pid=""
    cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')
    jq -r --arg pps "$(sed -n 's/.* \([0-9.]*\) pps.*/\1/p' "$name.replay" | head -n 1)" \
        --arg cpu "$cpu" 'select(.event_type == "stats") |
        "\($pps | tonumber | floor) \(.["capture.kernel_drops"] + .["capture.ring_drops"] +
        .["capture.iface_drops"]) \($cpu) \(.["capture.packets"])"' "$name.jsonl" | tail -n 1
}

# best METHOD THREADS: "rate how" of the highest rate with no drop.
best() {
    local method=$1 threads=$2 top pps drops cpu pkts lo=0 hi
    read -r pps drops cpu pkts <<<"$(run "$method" "$threads" top)"
    echo "  $method, $threads worker(s), --topspeed: $pps pps, $drops dropped, $cpu s CPU" >&2
    if [ "$drops" = 0 ]; then
        echo "$pps replayer-bound $cpu"
        return
    fi
    top=$pps
    hi=$top
    local rate=$((top / 2)) i
    for ((i = 0; i < steps; i++)); do
        read -r pps drops cpu pkts <<<"$(run "$method" "$threads" "$rate")"
        echo "  $method, $threads worker(s), --pps $rate: $pps pps, $drops dropped" >&2
        if [ "$drops" = 0 ]; then
            lo=$pps
            locpu=$cpu
        else
            hi=$rate
        fi
        [ "$lo" -gt 0 ] && rate=$(((lo + hi) / 2)) || rate=$((rate / 2))
    done
    echo "$lo bisected ${locpu:-?}"
}

echo "bench-live: $npackets packets of $real per run, veth pair, $(nproc) cores" >&2
{
    printf '%-9s %-8s %14s %9s  %s\n' method workers "pps, 0 drops" "CPU s" "how"
    for method in afpacket pcap; do
        for threads in 1 2; do
            read -r rate how cpu <<<"$(best "$method" "$threads")"
            printf '%-9s %-8s %14s %9s  %s\n' "$method" "$threads" "$rate" "$cpu" "$how"
        done
    done
} | tee "$R/table.txt"
