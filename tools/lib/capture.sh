# shellcheck shell=bash disable=SC2154  # out, CLI, SRV, CAP_IFACE come from the sourcing script
# capture.sh - recording helpers shared by tools/mkpcaps*.sh (sourced).
# rec_init makes the scratch directory and the teardown; the caller sets CLI
# and SRV (namespaces) before it, CAP_IFACE (the server's veth) and out (where
# captures go) before cap_start/cap_stop, which record one capture with tcpdump.

cap_pid=""

# rec_init PREFIX: scratch directory $work, process list pids, and a trap that
# kills the processes, deletes both namespaces and the scratch (KEEP=1 keeps it).
rec_init() {
    work=$(mktemp -d "/tmp/$1.XXXXXX")
    chmod 755 "$work"
    pids=()
    trap rec_cleanup EXIT
    trap 'exit 1' INT TERM
}

rec_cleanup() {
    set +e
    local p
    for p in "${pids[@]}"; do
        kill "$p" 2>/dev/null
    done
    for p in "${pids[@]}"; do
        wait "$p" 2>/dev/null
    done
    ip netns del "$CLI" 2>/dev/null
    ip netns del "$SRV" 2>/dev/null
    if [ -n "${KEEP:-}" ]; then echo "kept $work" >&2; else rm -rf "$work"; fi
}

# cap_start NAME FILTER: tcpdump on the server side, started directly (not
# through a function) so that $! is tcpdump itself; returns once it listens.
cap_start() {
    rm -f "$work/$1.pcap" "$work/$1.log"
    ip netns exec "$SRV" tcpdump -i "$CAP_IFACE" -s 0 -U --immediate-mode -n -Z root \
        -w "$work/$1.pcap" "$2" 2>"$work/$1.log" &
    cap_pid=$!
    pids+=("$cap_pid")
    for _ in $(seq 100); do
        grep -q "listening on" "$work/$1.log" 2>/dev/null && break
        sleep 0.05
    done
    sleep 0.2
}

# cap_stop NAME: stops tcpdump, checks it kept every packet it received, and
# copies the capture to $out.
cap_stop() {
    # let the ring hand over the last packets before stopping tcpdump
    sleep 1.2
    kill -TERM "$cap_pid"
    wait "$cap_pid" || true
    local p keep=()
    for p in "${pids[@]}"; do [ "$p" = "$cap_pid" ] || keep+=("$p"); done
    pids=("${keep[@]}")
    local got seen
    got=$(sed -n 's/^\([0-9]*\) packets\{0,1\} captured$/\1/p' "$work/$1.log")
    seen=$(sed -n 's/^\([0-9]*\) packets\{0,1\} received by filter$/\1/p' "$work/$1.log")
    if [ -z "$got" ] || [ "$got" = 0 ] || [ "$got" != "$seen" ]; then
        echo "$(basename "$0"): $1: tcpdump captured ${got:-?} of ${seen:-?} packets" >&2
        cat "$work/$1.log" >&2
        exit 1
    fi
    cp "$work/$1.pcap" "$out/$1.pcap"
    chmod 644 "$out/$1.pcap"
    echo "$out/$1.pcap: $got packets" >&2
}
