#!/bin/bash
# bench.sh TAPLINE - throughput and memory of tapline against ndpiReader (nDPI's own reader),
# on a large mixed capture made by tools/pcapgen.c. Run by `make bench`.
#
# Everything lands in build/bench/: pcapgen, mixed.pcap (made once, remade only when
# tools/pcapgen.c changes), idle-*.pcap, and the raw output of every run in runs/.
# Times are the best of $BENCH_RUNS runs (default 3) with the capture in the page cache, the
# commands compared taking turns (measure_all); peak RSS is the largest of those runs.
# Prints a table and the targets, met or not; exits non-zero only when something could not
# run.
#
# Environment: BENCH_RUNS (3), BENCH_PACKETS (2000000, packets in mixed.pcap),
# BENCH_IDLE_FLOWS (200000, flows in the idle-flow captures).
set -eu

if [ $# -ne 1 ] || [ ! -x "$1" ]; then
    echo "usage: tools/bench.sh path/to/tapline" >&2
    exit 2
fi
case "$1" in
/*) tapline=$1 ;;
*) tapline=$(pwd)/$1 ;;
esac
cd "$(dirname "$0")/.."

runs=${BENCH_RUNS:-3}
npackets=${BENCH_PACKETS:-2000000}
nidle=${BENCH_IDLE_FLOWS:-200000}
B=build/bench
R=$B/runs
mkdir -p "$R"

# ---------------------------------------------------------------- what the bench needs

missing=""
for p in libndpi-bin time; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
if [ -n "$missing" ]; then
    if [ "$(id -u)" -ne 0 ]; then
        echo "bench needs:$missing" >&2
        echo "run as root: apt-get install -y$missing" >&2
        exit 1
    fi
    echo "bench: installing$missing" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq $missing >&2
fi
TIME=/usr/bin/time
NDPI=$(command -v ndpiReader)

# ---------------------------------------------------------------- captures

# newer A B: is file A newer than file B? (test -nt is not POSIX)
newer() {
    [ -n "$(find "$1" -newer "$2" 2>/dev/null)" ]
}

if [ ! -x $B/pcapgen ] || newer tools/pcapgen.c $B/pcapgen; then
    echo "bench: CC $B/pcapgen" >&2
    ${CC:-cc} -std=c11 -O2 -Wall -Wextra -Werror -o $B/pcapgen tools/pcapgen.c -lm
fi

# gen NAME ARGS...: makes $B/NAME.pcap (and NAME.info, pcapgen's report) unless up to date.
gen() {
    name=$1
    shift
    if [ -s "$B/$name.pcap" ] && [ -s "$B/$name.info" ] && newer "$B/$name.info" $B/pcapgen &&
        [ "$(sed -n 's/^args: //p' "$B/$name.info")" = "$*" ]; then
        return 0
    fi
    echo "bench: generating $B/$name.pcap" >&2
    rm -f "$B/$name.pcap" "$B/$name.info"
    $B/pcapgen "$@" 2>"$B/$name.tmp"
    cat "$B/$name.tmp" >&2
    { echo "args: $*"; cat "$B/$name.tmp"; } >"$B/$name.info"
    rm -f "$B/$name.tmp"
}
gen mixed mixed $B/mixed.pcap.tmp "$npackets"
[ -e $B/mixed.pcap.tmp ] && mv $B/mixed.pcap.tmp $B/mixed.pcap
gen idle-udp idle $B/idle-udp.pcap "$nidle" udp
gen idle-syn idle $B/idle-syn.pcap "$nidle" syn
# The base of the per-flow figure holds half as many flows, not a handful: what every run
# holds whatever its flows (packet batches cycled through, the flow hash's buckets) is then in
# both, and the difference is what one more idle flow costs.
gen half-udp idle $B/half-udp.pcap $((nidle / 2)) udp
gen half-syn idle $B/half-syn.pcap $((nidle / 2)) syn

info=$(grep 'packets,' $B/mixed.info)
pkts=$(echo "$info" | sed 's/.*: \([0-9]*\) packets, \([0-9]*\) bytes, \([0-9]*\) sessions.*/\1/')
bytes=$(echo "$info" | sed 's/.*: \([0-9]*\) packets, \([0-9]*\) bytes, \([0-9]*\) sessions.*/\2/')
sessions=$(echo "$info" | sed 's/.*: \([0-9]*\) packets, \([0-9]*\) bytes, \([0-9]*\) sessions.*/\3/')
cat $B/mixed.pcap >/dev/null # into the page cache: the runs measure processing, not the disk

# Other work on the machine skews every number: say so rather than print a quiet lie.
load=$(cut -d' ' -f1 /proc/loadavg)
if awk -v l="$load" 'BEGIN { exit !(l > 0.5) }'; then
    echo "bench: warning: load average $load before the runs; the machine is not idle" >&2
fi

# ---------------------------------------------------------------- running and measuring

# measure TAG CMD...: queues CMD under TAG, for the next measure_all.
q_tags=() q_cmds=()
measure() {
    q_tags+=("$1")
    q_cmds+=("$(printf '%q ' "${@:2}")")
}

# measure_all: runs each queued command $runs times under time(1), round by round (every
# command once a round, in queue order), so that a drift of the machine's speed - this one
# drifts by up to 1.6x within minutes - falls on all the commands compared, not on one; then
# appends to $R/results, per command: TAG wall user sys rss_kb flows slowest_wall (wall, user
# and sys of the fastest run, rss the largest of all runs; flows from the output).
measure_all() {
    local i j tag
    local -a cmd
    for tag in "${q_tags[@]}"; do : >"$R/$tag.times"; done
    for ((i = 0; i < runs; i++)); do
        for ((j = 0; j < ${#q_tags[@]}; j++)); do
            tag=${q_tags[j]}
            eval "cmd=(${q_cmds[j]})"
            if ! $TIME -f '%e %U %S %M' -o "$R/$tag.time" "${cmd[@]}" >"$R/$tag.out" 2>"$R/$tag.err"; then
                echo "bench: $tag failed: ${cmd[*]}" >&2
                tail -5 "$R/$tag.err" >&2
                exit 1
            fi
            tail -1 "$R/$tag.time" >>"$R/$tag.times"
        done
    done
    for tag in "${q_tags[@]}"; do
        awk -v tag="$tag" -v flows="$(flows_of "$R/$tag")" '
            BEGIN { rss = 0; slow = 0 }
            NR == 1 || $1 < w { w = $1; u = $2; s = $3 }
            { if ($4 > rss) rss = $4; if ($1 > slow) slow = $1 }
            END { print tag, w, u, s, rss, flows, slow }' "$R/$tag.times" >>$R/results
    done
    q_tags=() q_cmds=()
}

# The number of flows a run reports: tapline's summary line, ndpiReader's "Unique flows".
flows_of() {
    f=$(sed -n 's/^tapline: .* \([0-9][0-9]*\) flows, .*/\1/p' "$1.err")
    [ -n "$f" ] || f=$(sed -n 's/^[[:space:]]*Unique flows:[[:space:]]*\([0-9][0-9]*\).*/\1/p' "$1.out")
    echo "${f:-?}"
}

: >$R/results
echo "bench: $runs runs each of tapline and ndpiReader on $B/mixed.pcap" >&2
measure tl1 "$tapline" -r $B/mixed.pcap -w /dev/null --threads 1
measure tl2 "$tapline" -r $B/mixed.pcap -w /dev/null --threads 2
measure nd1 "$NDPI" -i $B/mixed.pcap
measure nd2 "$NDPI" -i $B/mixed.pcap -n 2
measure nl1 "$tapline" -r $B/mixed.pcap -w /dev/null --threads 1 --set dissect.protocols=none
measure fo1 "$tapline" -r $B/mixed.pcap -w /dev/null --threads 1 --set ndpi.enabled=false
measure fo2 "$tapline" -r $B/mixed.pcap -w /dev/null --threads 2 --set ndpi.enabled=false
measure_all
# ndpiReader opens a pcap file "in single threads mode": -n is ignored (its -h says so, and
# openPcapFileOrDevice() resets num_threads to 1). Check that it did not change in this build.
nd2_threads=$(grep -c '^Running thread' $R/nd2.out || true)

echo "bench: memory per idle flow ($nidle one-packet flows)" >&2
big="--set flows.udp_timeout=100000 --set flows.tcp_syn_timeout=100000"
for kind in udp syn; do
    # shellcheck disable=SC2086
    measure tlidle-$kind "$tapline" -r $B/idle-$kind.pcap -w $R/idle-$kind.jsonl --threads 1 $big
    # shellcheck disable=SC2086
    measure tlhalf-$kind "$tapline" -r $B/half-$kind.pcap -w $R/half-$kind.jsonl --threads 1 $big
    # shellcheck disable=SC2086
    measure foidle-$kind "$tapline" -r $B/idle-$kind.pcap -w /dev/null --threads 1 $big \
        --set ndpi.enabled=false
    # shellcheck disable=SC2086
    measure fohalf-$kind "$tapline" -r $B/half-$kind.pcap -w /dev/null --threads 1 $big \
        --set ndpi.enabled=false
    measure ndidle-$kind "$NDPI" -i $B/idle-$kind.pcap
    measure ndhalf-$kind "$NDPI" -i $B/half-$kind.pcap
done
measure_all
for kind in udp syn; do
    grep '"event_type":"stats"' $R/idle-$kind.jsonl | tail -1 >$R/tlidle-$kind.stats || true
    rm -f $R/idle-$kind.jsonl $R/half-$kind.jsonl
done

# ---------------------------------------------------------------- the report

stat_of() { # stat_of FILE KEY: a number from a stats event
    sed -n "s/.*\"$2\":\([0-9]*\).*/\1/p" "$1" 2>/dev/null | head -1
}

awk -v pkts="$pkts" -v bytes="$bytes" -v sessions="$sessions" -v nidle="$nidle" \
    -v runs="$runs" -v load="$load" -v nd2threads="$nd2_threads" -v cores="$(nproc)" \
    -v created_udp="$(stat_of $R/tlidle-udp.stats flows.created)" \
    -v active_udp="$(stat_of $R/tlidle-udp.stats flows.flushed_at_shutdown)" \
    -v created_syn="$(stat_of $R/tlidle-syn.stats flows.created)" \
    -v active_syn="$(stat_of $R/tlidle-syn.stats flows.flushed_at_shutdown)" \
    -v cpu="$(sed -n 's/^model name[[:space:]]*: //p' /proc/cpuinfo | head -1)" '
{ wall[$1] = $2; cpus[$1] = $3 + $4; rss[$1] = $5; flows[$1] = $6; slow[$1] = $7 }
function row(tag, name, thr) {
    w = wall[tag]; if (w <= 0) w = 0.005
    printf "%-30s %-7s %7.2f %6.0f%% %7.3f %6.2f %6.0f %6.2f %5.2f %8.0f %7.1f %7s\n", name, thr,
        w, 100 * (slow[tag] - w) / w, pkts / w / 1e6, bytes * 8 / w / 1e9, w * 1e9 / pkts,
        cpus[tag], cpus[tag] / w, cpus[tag] * 1e9 / pkts, rss[tag] / 1024, flows[tag]
}
function pps(tag) { return pkts / (wall[tag] > 0 ? wall[tag] : 0.005) }
function verdict(ok) { return ok ? "met" : "NOT met" }
function per_flow(idle, half) { return (rss[idle] - rss[half]) * 1024 / (nidle - int(nidle / 2)) }
END {
    printf "\ntapline bench: build/bench/mixed.pcap, %d packets, %.2f GB of frames, %d sessions " \
        "generated\n", pkts, bytes / 1e9, sessions
    printf "machine: %d cores, %s; capture in page cache; best wall time of %d runs, " \
        "peak RSS the largest\n\n", cores, cpu, runs
    printf "%-30s %-7s %7s %7s %7s %6s %6s %6s %5s %8s %7s %7s\n", "run", "threads", "wall s",
        "spread", "Mpkt/s", "Gbit/s", "ns/pkt", "CPU s", "cores", "CPUns/pk", "RSS MiB", "flows"
    printf "%-30s %-7s %7s %7s %7s %6s %6s %6s %5s %8s %7s %7s\n", "---", "-------", "------",
        "------", "------", "------", "------", "-----", "-----", "--------", "-------", "-----"
    row("tl1", "tapline", "1")
    row("tl2", "tapline", "2")
    row("nd1", "ndpiReader", "1")
    row("nd2", "ndpiReader -n 2 (*)", nd2threads " of 2")
    row("nl1", "tapline dissect.protocols=none", "1")
    row("fo1", "tapline ndpi.enabled=false", "1")
    row("fo2", "tapline ndpi.enabled=false", "2")
    print ""
    print "  threads: tapline --threads N = N workers, plus its capture/dispatch thread and its"
    print "           output thread (hence \"cores\" = CPU s / wall s above 1 with one worker)."
    printf "  (*) ndpiReader 4.2 reads a pcap file \"in single threads mode\": -n is ignored for" \
        " files\n      (ndpiReader -h; openPcapFileOrDevice() sets num_threads = 1); it ran %s" \
        " thread(s).\n      So the 2-thread comparison is tapline with 2 workers vs ndpiReader" \
        " with 1.\n", nd2threads
    print "  wall s = fastest run; spread = slowest run over the fastest; Gbit/s = capture frame"
    print "  bytes * 8 / wall; ns/pkt = wall / packets; CPUns/pk = (user+sys) / packets."
    printf "  load average before the runs: %s\n", load

    print "\nratios"
    r1 = pps("tl1") / pps("nd1"); r2 = pps("tl2") / pps("nd2"); rw = pps("tl2") / pps("tl1")
    printf "  tapline / ndpiReader packets/s, 1 thread each:           %5.2fx\n", r1
    printf "  tapline 2 workers / ndpiReader (1 thread, -n 2 ignored): %5.2fx\n", r2
    printf "  tapline 2 workers / 1 worker:                            %5.2fx\n", rw
    printf "  tapline flows only (ndpi off) / with nDPI, 1 worker:      %5.2fx\n",
        pps("fo1") / pps("tl1")
    printf "  cost of DNS+HTTP+Kerberos+LDAP logging over flows+nDPI:  %+5.1f%% (target <= 25%%)\n",
        100 * (wall["tl1"] / wall["nl1"] - 1)
    printf "  CPU per packet, tapline 1 worker / ndpiReader:           %5.2fx\n",
        cpus["tl1"] / cpus["nd1"]

    print "\nmemory per idle flow (peak RSS on N one-packet flows - peak RSS on N/2, / (N/2))"
    printf "  %-40s %10s %10s %12s\n", "run", "RSS MiB", "base MiB", "bytes/flow"
    split("udp syn", kinds, " ")
    for (k = 1; k <= 2; k++) {
        kd = kinds[k]; label = kd == "udp" ? "UDP" : "TCP SYN"
        printf "  %-40s %10.1f %10.1f %12.0f\n", "tapline, " nidle " " label " flows",
            rss["tlidle-" kd] / 1024, rss["tlhalf-" kd] / 1024,
            per_flow("tlidle-" kd, "tlhalf-" kd)
        printf "  %-40s %10.1f %10.1f %12.0f\n", "tapline ndpi.enabled=false, " label,
            rss["foidle-" kd] / 1024, rss["fohalf-" kd] / 1024,
            per_flow("foidle-" kd, "fohalf-" kd)
        printf "  %-40s %10.1f %10.1f %12.0f\n", "ndpiReader, " label,
            rss["ndidle-" kd] / 1024, rss["ndhalf-" kd] / 1024,
            per_flow("ndidle-" kd, "ndhalf-" kd)
    }
    printf "  (tapline stats: UDP run created %s flows, %s still held at the end; SYN run %s, %s)\n",
        created_udp, active_udp, created_syn, active_syn
    iu = per_flow("tlidle-udp", "tlhalf-udp"); is = per_flow("tlidle-syn", "tlhalf-syn")

    print "\ntargets (issue 10; for the real capture see below)"
    printf "  %-44s %-9s (%.2fx)\n", ">= 2x ndpiReader packets/s, 1 worker", verdict(r1 >= 2), r1
    printf "  %-44s %-9s (%.2fx)\n", "CPU <= ndpiReader CPU, 1 worker", verdict(cpus["tl1"] <= cpus["nd1"]),
        cpus["tl1"] / cpus["nd1"]
    printf "  %-44s %-9s (%.2fx)\n", "2 workers >= 1.6x 1 worker", verdict(rw >= 1.6), rw
    printf "  %-44s %-9s (%+.1f%%)\n", "dissectors <= 25% over flows+nDPI",
        verdict(wall["tl1"] <= 1.25 * wall["nl1"]), 100 * (wall["tl1"] / wall["nl1"] - 1)
    printf "  %-44s %-9s (%.2fx)\n", "peak RSS <= 0.5x ndpiReader RSS", verdict(rss["tl1"] <= 0.5 * rss["nd1"]),
        rss["tl1"] / rss["nd1"]
    printf "  %-44s %-9s (%.0f B)\n", "<= 512 B per idle flow, UDP", verdict(iu <= 512), iu
    printf "  %-44s %-9s (%.0f B)\n", "<= 512 B per idle flow, TCP SYN", verdict(is <= 512), is
}' $R/results

# ---------------------------------------------------------------- real traffic, domains, rules
#
# The same on a capture of real traffic (../shared/tools/make-bench-pcap.sh: public test
# captures replicated with fresh addresses, ~1 M packets), made once into $B/real.pcap when
# ../shared is there. Then the cost of the domain statistics (in process, and with Redis on
# loopback: a redis-server of our own on a free port) and of the rules (the shipped ones and
# SigmaHQ's 210 files of ../shared/sigma), one worker, on both captures: each figure against
# the same replay without it. BENCH_REAL=0 skips this part.

real=$B/real.pcap
if [ "${BENCH_REAL:-1}" != 0 ] && [ ! -s "$real" ] && [ -x ../shared/tools/make-bench-pcap.sh ]; then
    echo "bench: building $real with ../shared/tools/make-bench-pcap.sh" >&2
    ../shared/tools/make-bench-pcap.sh "$real" >&2 || rm -f "$real"
fi
sigma=""
[ -d ../shared/sigma ] && sigma=",../shared/sigma"
if [ "${BENCH_REAL:-1}" != 0 ]; then
    redis_port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$redis_port" --bind 127.0.0.1 --save '' --appendonly no --dir "$R" \
        >"$R/redis.log" 2>&1 &
    redis_pid=$!
    for cap in mixed real; do
        [ -s "$B/$cap.pcap" ] || continue
        cat "$B/$cap.pcap" >/dev/null
        : >$R/results
        echo "bench: domains and rules on $B/$cap.pcap" >&2
        c="$tapline -r $B/$cap.pcap --threads 1"
        # shellcheck disable=SC2086
        measure none $c -w /dev/null --set domains.enabled=false --set rules.paths=
        # shellcheck disable=SC2086
        measure dom $c -w $R/dom.jsonl --set rules.paths=
        redis-cli -p "$redis_port" flushall >/dev/null 2>&1 || true
        # shellcheck disable=SC2086
        measure redis $c -w /dev/null --set rules.paths= --set redis.url=redis://127.0.0.1:$redis_port
        # shellcheck disable=SC2086
        measure builtin $c -w /dev/null
        # shellcheck disable=SC2086
        measure allrules $c -w /dev/null --set "rules.paths=detect/rules$sigma"
        if [ "$cap" = real ]; then
            # shellcheck disable=SC2086
            measure rtl2 "$tapline" -r $B/real.pcap --threads 2 -w /dev/null
            measure rnd1 "$NDPI" -i $B/real.pcap
            # shellcheck disable=SC2086
            measure rnl1 $c -w /dev/null --set dissect.protocols=none
            # shellcheck disable=SC2086
            measure rnh1 $c -w /dev/null --set http.hash_bodies=none
        fi
        measure_all
        grep '"event_type":"stats"' $R/dom.jsonl | tail -1 >$R/dom.stats || true
        rm -f $R/dom.jsonl
        awk -v cap="$cap" -v pkts="$(capinfos -c -M $B/$cap.pcap 2>/dev/null | sed -n 's/^Number of packets: *//p')" \
            -v dbytes="$(stat_of $R/dom.stats domains.bytes)" -v dents="$(stat_of $R/dom.stats domains.entries)" \
            -v sigma="$sigma" '
        { wall[$1] = $2; cpus[$1] = $3 + $4; rss[$1] = $5 }
        function row(tag, name) {
            printf "  %-44s %7.2f %7.2f %8.0f %7.1f %+8.1f%%\n", name, wall[tag], cpus[tag],
                (wall[tag] > 0 ? pkts / wall[tag] / 1e3 : 0), rss[tag] / 1024,
                100 * (wall[tag] / wall["none"] - 1)
        }
        END {
            printf "\n%s capture (%s, %d packets), 1 worker: domain statistics and rules\n",
                cap, cap == "real" ? "real traffic, make-bench-pcap.sh" : "pcapgen", pkts
            printf "  %-44s %7s %7s %8s %7s %9s\n", "run", "wall s", "CPU s", "kpkt/s", "RSS MiB",
                "vs none"
            row("none", "no domain statistics, no rules")
            row("dom", "domain statistics in process")
            row("redis", "domain statistics with Redis (loopback)")
            row("builtin", "statistics + built-in rules (the default)")
            row("allrules", "statistics + built-in + SigmaHQ" (sigma ? " 210 files" : " (absent)"))
            d = 100 * (wall["dom"] / wall["none"] - 1)
            rd = 100 * (wall["redis"] / wall["none"] - 1)
            ru = 100 * (wall["allrules"] / wall["dom"] - 1)
            printf "  domain statistics: %+.1f%% (target <= 10%%), with Redis %+.1f%% (target <= 15%%)\n", d, rd
            printf "  all rules over statistics alone: %+.1f%% (target <= 15%%)\n", ru
            if (dents > 0)
                printf "  bytes per tracked domain: %.0f (%d domains, domains.bytes %d)\n",
                    dbytes / dents, dents, dbytes
            if (cap == "real") {
                row("rnl1", "flows and nDPI only (dissect.protocols=none)")
                row("rnh1", "the default without file hashes (hash_bodies=none)")
                row("rtl2", "the default, 2 workers")
                row("rnd1", "ndpiReader")
                printf "  tapline 1 worker / ndpiReader packets/s: %.2fx (CPU %.2f s vs %.2f s); " \
                    "2 workers / 1: %.2fx\n", wall["rnd1"] / wall["builtin"], cpus["builtin"],
                    cpus["rnd1"], wall["builtin"] / wall["rtl2"]
                printf "  dissectors, statistics and rules over flows: %+.1f%% (%+.1f%% without " \
                    "hashing the files HTTP carries)\n", 100 * (wall["builtin"] / wall["rnl1"] - 1),
                    100 * (wall["rnh1"] / wall["rnl1"] - 1)
            }
        }' $R/results
    done
    kill "$redis_pid" 2>/dev/null
    wait "$redis_pid" 2>/dev/null || true
fi

# ---------------------------------------------------------------- Kafka export
#
# The Kafka sink against the test broker (tests/kafka-broker, librdkafka's mock cluster on
# loopback), on the same mixed capture, one worker: the file sink alone, then the file sink
# and Kafka together, compression zstd (the default) and none. Times are the best of
# $BENCH_KAFKA_RUNS runs (default 2); each run ends once librdkafka has every delivery report.
# Bytes on the wire: the mock cluster keeps no byte count, so one more run per compression
# with librdkafka's debug=protocol sums the sizes of the ProduceRequests it sent to the broker
# (untimed: the logging slows it). Environment: BENCH_KAFKA_RUNS (2); BENCH_KAFKA=0 skips.

BROKER=build/release/tests/kafka-broker
[ -x "$BROKER" ] || make -s "$BROKER" >&2 || true
if [ "${BENCH_KAFKA:-1}" = 0 ]; then
    exit 0
elif [ ! -x "$BROKER" ]; then
    printf '\nKafka export: skipped (%s could not be built)\n' "$BROKER"
    exit 0
fi
runs=${BENCH_KAFKA_RUNS:-2}
K=$R/kafka
rm -rf "$K"
mkdir -p "$K"
mkfifo "$K/in"
"$BROKER" <"$K/in" >"$K/broker.out" 2>"$K/broker.err" &
kbroker=$!
exec 9>"$K/in"
i=0
while [ ! -s "$K/broker.out" ] && [ $i -lt 100 ]; do i=$((i + 1)); sleep 0.05; done
kaddr=$(head -n 1 "$K/broker.out")
kafka_stop() {
    echo quit >&9 2>/dev/null || true
    exec 9>&-
    wait "$kbroker" 2>/dev/null || true
}
if [ -z "$kaddr" ]; then
    echo "bench: the Kafka test broker did not start: $(cat "$K/broker.err")" >&2
    kafka_stop
    exit 1
fi
echo "bench: Kafka export, $runs runs each, test broker at $kaddr" >&2
kafka_args="--kafka $kaddr --set kafka.spool_dir=$K/spool --set kafka.flush_timeout=30"
: >$R/results
# shellcheck disable=SC2086
measure kf0 "$tapline" -r $B/mixed.pcap -w "$K/kf0.jsonl" --threads 1
# shellcheck disable=SC2086
measure kfz "$tapline" -r $B/mixed.pcap -w "$K/kfz.jsonl" --threads 1 $kafka_args
# shellcheck disable=SC2086
measure kfn "$tapline" -r $B/mixed.pcap -w "$K/kfn.jsonl" --threads 1 $kafka_args \
    --set kafka.properties=compression.type=none
measure_all
for tag in kfz kfn; do
    grep '"event_type":"stats"' "$K/$tag.jsonl" | tail -1 >"$K/$tag.stats" || true
done
rm -f "$K"/kf?.jsonl
events=$(sed -n 's/^tapline: .* \([0-9][0-9]*\) events, .*/\1/p' "$R/kf0.err")
# wire_bytes COMPRESSION: the ProduceRequest bytes of one run with debug=protocol.
wire_bytes() {
    # shellcheck disable=SC2086
    "$tapline" -r $B/mixed.pcap -w /dev/null --threads 1 $kafka_args --set log.level=debug \
        --set kafka.properties="compression.type=$1,debug=protocol" 2>"$K/wire.err" || true
    grep -o 'Sent ProduceRequest (v[0-9]*, [0-9]* bytes' "$K/wire.err" |
        awk '{ s += $4 } END { printf "%.0f %d\n", s, NR }'
    rm -f "$K/wire.err"
}
echo "bench: Kafka bytes on the wire (debug=protocol runs)" >&2
wire_z=$(wire_bytes zstd)
wire_n=$(wire_bytes none)
kafka_stop

awk -v events="${events:-0}" -v runs="$runs" -v wz="$wire_z" -v wn="$wire_n" \
    -v dz="$(stat_of "$K/kfz.stats" kafka.delivered)" -v dn="$(stat_of "$K/kfn.stats" kafka.delivered)" \
    -v sz="$(stat_of "$K/kfz.stats" kafka.spooled)" -v sn="$(stat_of "$K/kfn.stats" kafka.spooled)" '
{ wall[$1] = $2; cpus[$1] = $3 + $4; rss[$1] = $5; slow[$1] = $7 }
function row(tag, name, deliv, spool) {
    w = wall[tag] > 0 ? wall[tag] : 0.005
    printf "  %-34s %7.2f %6.0f%% %9.0f %6.2f %7.1f %+7.1f%% %10s %7s\n", name, w,
        100 * (slow[tag] - w) / w, events / w, cpus[tag], rss[tag] / 1024,
        100 * (w / wall["kf0"] - 1), deliv, spool
}
END {
    printf "\nKafka export: build/bench/mixed.pcap, 1 worker, %d events, test broker on loopback " \
        "(librdkafka mock cluster); best of %d runs\n", events, runs
    printf "  %-34s %7s %7s %9s %6s %7s %8s %10s %7s\n", "run", "wall s", "spread", "events/s",
        "CPU s", "RSS MiB", "vs file", "delivered", "spooled"
    row("kf0", "file sink only", "-", "-")
    row("kfz", "file + Kafka, zstd (default)", dz, sz)
    row("kfn", "file + Kafka, compression none", dn, sn)
    split(wz, z, " "); split(wn, n, " ")
    print "  bytes on the wire (ProduceRequests sent to the broker, a debug=protocol run each):"
    printf "    %-32s %14.0f bytes in %6d requests, %7.1f bytes/event\n", "zstd", z[1], z[2],
        events ? z[1] / events : 0
    printf "    %-32s %14.0f bytes in %6d requests, %7.1f bytes/event\n", "none", n[1], n[2],
        events ? n[1] / events : 0
    if (z[1] > 0)
        printf "    zstd / none: %.3f (%.1fx smaller)\n", z[1] / n[1], n[1] / z[1]
    ov = 100 * (wall["kfz"] / wall["kf0"] - 1)
    printf "  %-44s %-9s (%+.1f%% with zstd, %+.1f%% without)\n",
        "Kafka export adds <= 15% to the replay time", (ov <= 15 ? "met" : "NOT met"), ov,
        100 * (wall["kfn"] / wall["kf0"] - 1)
}' $R/results
