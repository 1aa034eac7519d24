#!/bin/sh
# deps.sh - make sure the Debian packages tapline builds and tests with are installed.
# As root, installs what is missing; otherwise prints the exact apt-get line and fails.
# `deps.sh test` adds what `make test` needs (the cross-checks run tshark, ndpiReader
# and python3; the report suite chromium and python3-jsonschema), `deps.sh bench` what
# `make bench` needs, `deps.sh fuzz` what `make fuzz` needs.
set -eu

pkgs="gcc make pkg-config libpcap-dev libndpi-dev libyaml-dev libzstd-dev libssl-dev librdkafka-dev
    libpsl-dev libidn2-dev libhiredis-dev libpcre2-dev libmicrohttpd-dev jq wamerican"
for extra in "$@"; do
    case "$extra" in
    test) pkgs="$pkgs clang-format time tshark wireshark-common tcpreplay libndpi-bin python3 iproute2 iputils-ping bsdutils kcat zstd redis-server dnsmasq-base bind9-dnsutils curl prometheus logrotate man-db chromium python3-jsonschema" ;;
    bench) pkgs="$pkgs libndpi-bin time redis-server wireshark-common python3" ;;
    fuzz) pkgs="$pkgs clang libclang-rt-dev" ;;
    esac
done

missing=""
for p in $pkgs; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
        missing="$missing $p"
done
[ -z "$missing" ] && exit 0

if [ "$(id -u)" -ne 0 ]; then
    echo "tapline needs:$missing" >&2
    echo "run as root: apt-get install -y$missing" >&2
    exit 1
fi
echo "installing:$missing" >&2
export DEBIAN_FRONTEND=noninteractive
apt-get update -qq >&2
# shellcheck disable=SC2086
apt-get install -y -qq $missing >&2
