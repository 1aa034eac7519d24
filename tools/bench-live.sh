#!/usr/bin/env bash
# bench-live.sh TAPLINE - the highest packet rate a live capture takes with nothing dropped,
# for capture.method afpacket and pcap, with 1 and 2 workers. Run by `make bench BENCH_LIVE=1`
# (as root: it makes a network namespace with a veth pair, tl-b0 -> tl-b1, and removes it).
#
# tools/pktsend.c (built here into build/bench/) sends the first $BENCH_LIVE_PACKETS packets of
# build/bench/real.pcap (real traffic, ../shared/tools/make-bench-pcap.sh; made here if
# missing) into tl-b0; tapline captures on tl-b1 with default options, events to a file. A run
# passes when its last stats event counts no packet dropped (capture.kernel_drops,
# capture.ring_drops, capture.iface_drops all 0) and the device refused no send. First at full
# speed: if nothing is dropped, the rate the sender reached is the answer (on one machine the
# sender and tapline share the CPUs, so that is a floor, marked "sender-bound"); otherwise a
# bisection over rates below it. Rates are those pktsend reports (achieved, not asked for).
# Prints a table (also in build/bench/live/table.txt, beside every run's raw output). Takes 2-3
# minutes on 2 cores.
#
# Environment: BENCH_LIVE_PACKETS (0: the whole capture), BENCH_LIVE_STEPS (5 bisection steps).
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

npackets=${BENCH_LIVE_PACKETS:-0}
steps=${BENCH_LIVE_STEPS:-5}
B=build/bench
R=$B/live
real=$B/real.pcap
mkdir -p "$R"

if [ "$(id -u)" -ne 0 ]; then
    echo "bench-live: needs root (a network namespace and a veth pair)" >&2
    exit 1
fi
cc=${CC:-cc}
for c in ip jq "${cc%% *}"; do
    command -v "$c" >/dev/null || {
        echo "bench-live: needs $c (tools/deps.sh test)" >&2
        exit 1
    }
done
if [ ! -s "$real" ]; then
    echo "bench-live: building $real with ../shared/tools/make-bench-pcap.sh" >&2
    ../shared/tools/make-bench-pcap.sh "$real" >&2
fi

if [ ! -x $B/pktsend ] || [ -n "$(find tools/pktsend.c -newer $B/pktsend)" ]; then
    echo "bench-live: CC $B/pktsend" >&2
    $cc -std=c11 -O2 -Wall -Wextra -Werror -o $B/pktsend tools/pktsend.c
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

# settled_ticks PID: the CPU ticks of PID once it is done with what its ring still held (no tick
# used in 0.2 s), waiting 5 s at most.
settled_ticks() {
    local before after i
    after=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
    for ((i = 0; i < 25; i++)); do
        before=$after
        sleep 0.2
        after=$(awk '{ print $14 + $15 }' "/proc/$1/stat")
        [ "$after" != "$before" ] || break
    done
    echo "$after"
}

# run METHOD THREADS RATE: one replay (RATE 0: full speed). Sets run_pps and run_mbps (the rate
# pktsend achieved), run_drops (what tapline's counters dropped, plus the sends the device
# refused for a full queue) and run_cpu (tapline's CPU seconds). Called in this shell, not in a
# command substitution, so that a failure ends the script.
run() {
    local method=$1 threads=$2 rate=$3 name="$R/$1-$2-$3" ticks line errors drops
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
    ip netns exec "$ns" $B/pktsend tl-b0 "$real" "$npackets" "$rate" >"$name.replay"
    ticks=$(settled_ticks "$tl_pid")
    kill -INT "$tl_pid"
    wait "$tl_pid" || true
    tl_pid=""
    run_cpu=$(awk -v t="$ticks" -v hz="$(getconf CLK_TCK)" 'BEGIN { printf "%.1f", t / hz }')
    # "sent N packets (B bytes) in S s: R pps, M Mbit/s, E send errors, K skipped"
    line=$(sed -n 's/^sent .*: \([0-9]*\) pps, \([0-9]*\) Mbit\/s, \([0-9]*\) send errors.*/\1 \2 \3/p' \
        "$name.replay")
    read -r run_pps run_mbps errors <<<"$line"
    drops=$(jq -r 'select(.event_type == "stats") | .["capture.kernel_drops"] +
        .["capture.ring_drops"] + .["capture.iface_drops"]' "$name.jsonl" | tail -n 1)
    if [ -z "${errors:-}" ] || [ -z "$drops" ]; then
        echo "bench-live: no result from $name.replay or $name.jsonl" >&2
        exit 1
    fi
    run_drops=$((drops + errors))
}

# best METHOD THREADS: sets best_pps, best_mbps, best_cpu and best_how for the highest rate with
# no drop: "sender-bound" when nothing was dropped at full speed, else "bisected" (over the
# rates asked for; the answer is the best rate achieved), "none" when no rate tried passed.
best() {
    local method=$1 threads=$2 lo=0 hi rate i
    best_pps=none best_mbps=- best_cpu=- best_how=none
    run "$method" "$threads" 0
    echo "  $method, $threads worker(s), full speed: $run_pps pps, $run_drops dropped," \
        "$run_cpu s CPU" >&2
    if [ "$run_drops" = 0 ]; then
        best_pps=$run_pps best_mbps=$run_mbps best_cpu=$run_cpu best_how=sender-bound
        return
    fi
    hi=$run_pps
    rate=$((hi / 2))
    for ((i = 0; i < steps && rate > 0; i++)); do
        run "$method" "$threads" "$rate"
        echo "  $method, $threads worker(s), $rate pps asked: $run_pps pps, $run_drops dropped" >&2
        if [ "$run_drops" = 0 ]; then
            lo=$rate
            if [ "$best_pps" = none ] || [ "$run_pps" -gt "$best_pps" ]; then
                best_pps=$run_pps best_mbps=$run_mbps best_cpu=$run_cpu best_how=bisected
            fi
        else
            hi=$rate
        fi
        if [ "$lo" -gt 0 ]; then
            rate=$(((lo + hi) / 2))
        else
            rate=$((rate / 2))
        fi
    done
}

echo "bench-live: ${npackets/#0/all} packets of $real per run, veth pair, $(nproc) cores" >&2
row() {
    printf '%-9s %-8s %14s %8s %7s  %s\n' "$@" | tee -a "$R/table.txt"
}
: >"$R/table.txt"
row method workers "pps, 0 drops" "Mbit/s" "CPU s" "how"
for method in afpacket pcap; do
    for threads in 1 2; do
        best "$method" "$threads"
        row "$method" "$threads" "$best_pps" "$best_mbps" "$best_cpu" "$best_how"
    done
done
