# shellcheck shell=bash disable=SC2153,SC2154  # CLI, SRV, their addresses, out, CAP_IFACE come from the sourcing script
# capture.sh - recording helpers shared by tools/mkpcaps*.sh (sourced).
# rec_init makes the scratch directory and the teardown; the caller sets CLI
# and SRV (namespaces) before it, CAP_IFACE (the server's veth) and out (where
# captures go) before cap_start/cap_stop, which record one capture with tcpdump.
# rec_outdir, rec_install, rec_layout, rec_netns_unused and rec_link set up the
# output folder, the packages, the names and addresses and the link; rec_in_cli
# runs a client command.

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

# rec_outdir [DIR]: $out, where captures go (default: pcaps/ beside tools/),
# made if missing; exits unless run as root.
rec_outdir() {
    out=${1:-$(cd "$(dirname "$0")" && pwd)/../pcaps}
    mkdir -p "$out"
    out=$(cd "$out" && pwd)
    [ "$(id -u)" -eq 0 ] || { echo "$(basename "$0"): run as root" >&2; exit 1; }
}

# rec_install PKG...: installs with apt-get those of the packages that are missing;
# "A|B" is there when either is installed, else A is installed. A missing slapd
# comes without a database of its own and asks nothing (the scripts run slapd
# with a config of their own).
rec_install() {
    local p alt have missing=""
    for p in "$@"; do
        have=""
        for alt in ${p//|/ }; do
            dpkg-query -W -f='${Status}' "$alt" 2>/dev/null | grep -q "install ok installed" && have=1
        done
        [ -n "$have" ] || missing="$missing ${p%%|*}"
    done
    [ -n "$missing" ] || return 0
    echo "installing:$missing" >&2
    case "$missing " in
    *" slapd "*) echo 'slapd slapd/no_configuration boolean true' | debconf-set-selections ;;
    esac
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    # shellcheck disable=SC2086
    apt-get install -y -qq --no-install-recommends $missing >&2
}

# rec_layout CLI SRV N [v6]: the scripts' layout in subnet 10.N.0.0/24: client
# namespace CLI with CLI4=10.N.0.2 and CLIMAC=02:00:00:N:00:02, server namespace
# SRV with SRV4=10.N.0.1 and SRVMAC=02:00:00:N:00:01; with v6 also CLI6=fdN::2
# and SRV6=fdN::1 (rec_link gives the link these addresses).
rec_layout() {
    CLI=$1 SRV=$2
    CLI4=10.$3.0.2 SRV4=10.$3.0.1
    CLIMAC=02:00:00:$3:00:02 SRVMAC=02:00:00:$3:00:01
    if [ "${4:-}" = v6 ]; then CLI6=fd$3::2 SRV6=fd$3::1; fi
}

# rec_netns_unused: exits when namespace $CLI or $SRV exists (another run is
# recording). Call it before rec_init, whose teardown deletes both.
rec_netns_unused() {
    local ns
    for ns in "$CLI" "$SRV"; do
        if ip netns list | grep -qw "$ns"; then
            echo "$(basename "$0"): namespace $ns already exists (another run?); remove it with: ip netns del $ns" >&2
            exit 1
        fi
    done
}

# rec_link CLIIF SRVIF: namespaces $CLI and $SRV joined by a veth pair with
# MACs $CLIMAC/$SRVMAC, addresses $CLI4/$SRV4 (/24) and, when set, $CLI6/$SRV6
# (/64, quiet: no router solicitations, no DAD); checksums and segmentation in
# software, so captures hold correct checksums and wire-sized segments.
# Returns once the server answers a ping.
rec_link() {
    local ns
    ip netns add "$CLI"
    ip netns add "$SRV"
    for ns in "$CLI" "$SRV"; do
        ip -n "$ns" link set lo up
        ip netns exec "$ns" sysctl -q -w net.ipv6.conf.default.router_solicitations=0 \
            net.ipv6.conf.default.accept_ra=0 net.ipv6.conf.default.use_tempaddr=0
    done
    ip link add "$1" netns "$CLI" type veth peer name "$2" netns "$SRV"
    ip -n "$CLI" link set "$1" address "$CLIMAC"
    ip -n "$SRV" link set "$2" address "$SRVMAC"
    ip -n "$CLI" addr add "$CLI4/24" dev "$1"
    ip -n "$SRV" addr add "$SRV4/24" dev "$2"
    if [ -n "${CLI6:-}" ]; then
        ip -n "$CLI" addr add "$CLI6/64" dev "$1" nodad
        ip -n "$SRV" addr add "$SRV6/64" dev "$2" nodad
    fi
    ip netns exec "$CLI" ethtool -K "$1" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip netns exec "$SRV" ethtool -K "$2" tx off rx off tso off gso off gro off >/dev/null 2>&1 || true
    ip -n "$CLI" link set "$1" up
    ip -n "$SRV" link set "$2" up
    for _ in $(seq 50); do
        ip netns exec "$CLI" ping -c 1 -W 1 -q "$SRV4" >/dev/null 2>&1 && break
        sleep 0.1
    done
}

# rec_in_cli CMD...: runs CMD in namespace $CLI in a private mount namespace
# where $work/hosts and $work/resolv.conf (the caller writes them) stand for
# /etc/hosts and /etc/resolv.conf, so names resolve without the host's files.
rec_in_cli() {
    # shellcheck disable=SC2016  # $0 and $@ expand in the inner sh
    ip netns exec "$CLI" unshare -m --propagation private sh -c \
        'mount --bind "$0/hosts" /etc/hosts && mount --bind "$0/resolv.conf" /etc/resolv.conf && exec "$@"' \
        "$work" "$@"
}
