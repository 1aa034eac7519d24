#!/usr/bin/env bash
# options.sh - every option of --help-config at its bounds runs a whole replay: it ends
# cleanly, or stops with one clear line (out of memory, say). Never a crash, a sanitizer
# report or a hang (make test-asan runs it under ASan). Values past the bounds, of the wrong
# type, empty or huge are refused in-process for every option by the unit test
# config.every_option; here a sample checks the command line says so and exits 2.
SUITE=options
. "$(dirname "$0")/../lib/suite.sh"

PCAP=$PWD/pcaps/http-basic.pcap
TAPLINE=$(realpath "$TAPLINE")
LIMIT=${OPTIONS_TIMEOUT:-60}

# key, kind (num, bool or str), lo, hi: one line per option, from --help-config (an option
# line starts with two spaces; a long default pushes the meaning and range to the next line).
options() {
    "$TAPLINE" --help-config | awk 'NR > 1 {
        if ($0 ~ /^  [^ ]/) { key = $1; order[++n] = key; def[key] = $2 }
        if (match($0, /\[[^ ]+ to [^] ]+/)) {
            split(substr($0, RSTART + 1, RLENGTH - 1), b, " to "); lo[key] = b[1]; hi[key] = b[2]
        }
    }
    END {
        for (i = 1; i <= n; i++) {
            k = order[i]
            kind = (k in lo) ? "num" : (def[k] == "true" || def[k] == "false") ? "bool" : "str"
            print k "\t" kind "\t" lo[k] "\t" hi[k]
        }
    }'
}

# Crashed, hung or reported by a sanitizer?
broken() {
    [ "$1" -ge 124 ] || grep -qE 'Sanitizer|runtime error|Segmentation|Aborted|double free' "$TMP/err"
}

# run KEY=VALUE...: tapline over a capture with the options set, in its own folder (paths
# land there). Its exit code; stderr in $TMP/err.
run() {
    local sets=() kv
    for kv in "$@"; do sets+=(--set "$kv"); done
    rm -rf "$TMP/cwd" && mkdir "$TMP/cwd"
    (cd "$TMP/cwd" && timeout -s KILL "$LIMIT" "$TAPLINE" "${sets[@]}" -r "$PCAP" \
        -w "$TMP/cwd/out.json" >/dev/null 2>"$TMP/err")
}

# One accepted value alone: runs to the end, or stops with one clear line.
accepted_alone() {
    local name=${1:0:60} rc
    run "$1"
    rc=$?
    if broken $rc; then
        not_ok "$name" "exit $rc: $(tail -c 600 "$TMP/err")"
    elif [ $rc -ne 0 ] && ! tail -n 1 "$TMP/err" | grep -q '^tapline: '; then
        not_ok "$name" "exit $rc without a clear error: $(tail -c 600 "$TMP/err")"
    else
        ok "$name"
    fi
}

# Accepted values in runs of eight options (a run costs a start-up: nDPI, the rules); a run
# that does not end cleanly is taken apart, each value alone, to name the culprit.
accepted_all() {
    local i j
    for ((i = 0; i < ${#ACCEPT[@]}; i += 8)); do
        local group=("${ACCEPT[@]:i:8}")
        if run "${group[@]}"; then
            for j in "${group[@]}"; do ok "${j:0:60}"; done
        else
            for j in "${group[@]}"; do accepted_alone "$j"; done
        fi
    done
}

# refused KEY VALUE: exit 2 and a line naming the option (nothing is read: --check-config).
refused() {
    local name="$1=${2:0:40}" rc
    timeout -s KILL "$LIMIT" "$TAPLINE" --set "$1=$2" --check-config >/dev/null 2>"$TMP/err"
    rc=$?
    if broken $rc || [ $rc -ne 2 ] || ! grep -qF -- "$1" "$TMP/err"; then
        not_ok "$name" "exit $rc, wanted 2 naming $1: $(tail -c 600 "$TMP/err")"
    else
        ok "$name"
    fi
}

# Below lo and above hi, as the option counts (whole numbers, or seconds with a fraction).
below() { python3 -c "import sys; v = float(sys.argv[1]); print('%.15g' % (v / 10) if v != int(v) else ('-1' if v == 0 else '%d' % (v - 1)))" "$1"; }
above() { python3 -c "import sys; v = float(sys.argv[1]); print('%d' % (int(v) + 1) if v == int(v) else '%.15g' % (v * 10))" "$1"; }

huge=$(head -c 5000 /dev/zero | tr '\0' 'a')
ACCEPT=()
n=0
while IFS=$'\t' read -r key kind lo hi; do
    selected "$key" || selected "$SUITE" || continue
    n=$((n + 1))
    case $kind in
    num)
        ACCEPT+=("$key=$lo" "$key=$hi")
        [ "$key" = flows.udp_timeout ] && refused "$key" "$(above "$hi")"
        [ "$key" = capture.snaplen ] && refused "$key" "$(below "$lo")"
        ;;
    bool)
        ACCEPT+=("$key=true" "$key=false")
        [ "$key" = capture.promisc ] && refused "$key" maybe
        ;;
    str)
        # text: checked for some (refused naming the option), free for others (run)
        for v in "" x "$huge" "a,,b, ,"; do
            if "$TAPLINE" --set "$key=$v" --check-config >/dev/null 2>"$TMP/err"; then
                ACCEPT+=("$key=$v")
            else
                refused "$key" "$v"
            fi
        done
        ;;
    esac
done < <(options)
accepted_all
[ "$n" -gt 50 ] && ok options_found || not_ok options_found "only $n options parsed from --help-config"
finish
