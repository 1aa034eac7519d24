#!/usr/bin/env bash
# report.sh - what the analyst and the data protection officer read: the JSON
# Schema (real output of every project capture validates against it, with
# Debian's python3-jsonschema), the data sheet (docs/DATA.md is what the
# binary says; every field it calls pseudonymisable comes out as a pseudonym),
# the end-of-run summary and the HTML report (rendered by a headless chromium).
SUITE=report
. "$(dirname "$0")/../lib/suite.sh"

PY=/usr/bin/python3 # Debian's, with python3-jsonschema

# Every project capture's events, and those of the attack captures replayed together.
if selected schema_validates; then
    "$TAPLINE" --list-fields --json >"$TMP/schema.json"
    mkdir -p "$TMP/events"
    for p in pcaps/*.pcap; do
        "$TAPLINE" -r "$p" --set sensor=t -w "$TMP/events/$(basename "$p" .pcap).jsonl" 2>/dev/null
    done
    "$TAPLINE" -r pcaps/attack-kerberoast.pcap -r pcaps/attack-spray.pcap -r pcaps/attack-ldap-recon.pcap \
        -r pcaps/domains-rare.pcap --threads 2 -w "$TMP/events/together.jsonl" 2>/dev/null
    if $PY tests/lib/schemacheck.py "$TMP/schema.json" "$TMP/events"/*.jsonl >"$TMP/check.out" 2>&1; then
        ok schema_validates
    else
        not_ok schema_validates "$(head -n 20 "$TMP/check.out")"
    fi
fi

# One type alone, in text and as a schema; an unknown type is refused with the known ones.
if selected list_fields_type; then
    if "$TAPLINE" --list-fields kerberos | head -n 1 | grep -q '^kerberos: ' &&
        [ "$("$TAPLINE" --list-fields kerberos | grep -c '^[a-z]')" = 1 ] &&
        "$TAPLINE" --list-fields ldap --json | jq -e '.properties.bind_name."x-personal" == true and
            .properties.bind_name."x-pseudonymisable" == true and
            (.properties.operation.enum | index("search")) != null and .additionalProperties == false' >/dev/null &&
        "$TAPLINE" --list-fields --json dns | jq -e '.properties.query.type == "string"' >/dev/null &&
        ! "$TAPLINE" --list-fields flows 2>"$TMP/err" && grep -q "no event type 'flows' (known: flow" "$TMP/err"; then
        ok list_fields_type
    else
        not_ok list_fields_type "$(cat "$TMP/err")"
    fi
fi

# docs/DATA.md is what this binary writes (make writes it; a stale copy fails here).
if selected data_sheet_fresh; then
    if "$TAPLINE" --data-sheet | diff -u docs/DATA.md - >"$TMP/diff"; then
        ok data_sheet_fresh
    else
        not_ok data_sheet_fresh "docs/DATA.md is stale (run make): $(head -n 20 "$TMP/diff")"
    fi
fi

# Every field the sheet calls pseudonymisable, listed in privacy.pseudonymise with a key,
# comes out as a pseudonym wherever it appears; the addresses stay as they are.
if selected pseudonymisable_fields; then
    "$TAPLINE" --list-fields --json >"$TMP/schema.json"
    fields=$(jq -r '."$defs" | to_entries[] | .key as $t | .value.properties | to_entries[] |
        select(.value."x-pseudonymisable") | "\($t).\(.key)"' "$TMP/schema.json" | paste -sd, -)
    printf 'sheet-test-key\n' >"$TMP/key"
    for p in pcaps/attack-kerberoast.pcap pcaps/attack-ldap-recon.pcap pcaps/attack-http-download.pcap \
        pcaps/domains-rare.pcap pcaps/ldap-simple.pcap pcaps/tls-basic.pcap; do
        "$TAPLINE" -r "$p" --set sensor=t --set privacy.hmac_key_file="$TMP/key" \
            --set privacy.pseudonymise="$fields" --set privacy.pseudonym_hex_len=16 2>>"$TMP/err"
    done >"$TMP/pseudo.jsonl"
    # Each listed field that appears holds 16 hex digits (or a list of them); count them.
    bad=$(jq -r --arg f "$fields" '. as $e | ($f | split(",")[] | select(startswith($e.event_type + "."))
        | ltrimstr($e.event_type + ".")) as $k | select($e | has($k)) | $e[$k] |
        (if type == "array" then .[] else . end) | select(test("^[0-9a-f]{16}$") | not)' "$TMP/pseudo.jsonl")
    seen=$(jq -r --arg f "$fields" '. as $e | ($f | split(",")[] | select(startswith($e.event_type + "."))
        | ltrimstr($e.event_type + ".")) as $k | select($e | has($k)) | "\($e.event_type).\($k)"' \
        "$TMP/pseudo.jsonl" | sort -u | wc -l)
    clear_addr=$(jq -r 'select(.event_type == "flow") | ."id.orig_h"' "$TMP/pseudo.jsonl" | grep -c '^10\.')
    if [ -n "$fields" ] && [ -z "$bad" ] && [ "$seen" -ge 8 ] && [ "$clear_addr" -gt 0 ]; then
        ok pseudonymisable_fields
    else
        not_ok pseudonymisable_fields "fields=$fields seen=$seen clear=$clear_addr not pseudonyms: $(head -c 600 <<<"$bad") $(head -c 600 "$TMP/err")"
    fi
fi

# The summary: on stderr only when it is a terminal; --summary FILE always. Its counts are
# the events written, it fits 80 columns, and it reads the same from the events file later.
ATTACKS="-r pcaps/attack-kerberoast.pcap -r pcaps/attack-spray.pcap -r pcaps/attack-ldap-recon.pcap
 -r pcaps/attack-dns.pcap -r pcaps/attack-http-download.pcap -r pcaps/domains-rare.pcap"
if selected summary_counts; then
    # shellcheck disable=SC2086
    "$TAPLINE" $ATTACKS --set sensor=t -w "$TMP/run.jsonl" --summary "$TMP/sum.txt" 2>"$TMP/err"
    want=$(jq -r .event_type "$TMP/run.jsonl" | sort | uniq -c | awk '{print $2, $1}' | sort)
    got=$(sed -n '/^EVENTS/,/^$/p' "$TMP/sum.txt" | awk 'NF >= 2 && $1 != "EVENTS" {print $1, $2}' | sort)
    wide=$(awk 'length($0) > 80' "$TMP/sum.txt")
    "$TAPLINE" --events "$TMP/run.jsonl" >"$TMP/again.txt"
    if [ "$want" = "$got" ] && [ -z "$wide" ] && cmp -s "$TMP/sum.txt" "$TMP/again.txt" &&
        grep -q '^TOP TALKERS BY BYTES' "$TMP/sum.txt" && grep -q '^RAREST DOMAINS' "$TMP/sum.txt" &&
        grep -qE '^  [0-9a-z]+\.(net|com) +0\.0 +1 yes  10\.96\.0\.3$' "$TMP/sum.txt" &&
        grep -qE '^  example\.org +1 +2 +1  10\.97\.0\.10$' "$TMP/sum.txt" &&
        grep -q '^  Kerberoasting .* high ' "$TMP/sum.txt" &&
        grep -q '^  eve@TAPLINE.TEST ' "$TMP/sum.txt" && grep -q '^PROBLEMS' "$TMP/sum.txt" &&
        ! grep -q '^EVENTS' "$TMP/err"; then
        ok summary_counts
    else
        not_ok summary_counts "want [$want] got [$got] wide [$wide] $(diff "$TMP/sum.txt" "$TMP/again.txt" | head -5) $(head -c 300 "$TMP/err")"
    fi
fi

# A terminal on stderr gets the summary after the run; script(1) gives the run one.
if selected summary_on_terminal; then
    script -qec "$TAPLINE -r pcaps/attack-kerberoast.pcap --set sensor=t -w /dev/null" /dev/null \
        >"$TMP/tty.txt" 2>&1
    if grep -q 'tapline summary: 2026-' "$TMP/tty.txt" && grep -q 'KERBEROS/LDAP PRINCIPALS' "$TMP/tty.txt"; then
        ok summary_on_terminal
    else
        not_ok summary_on_terminal "$(head -c 600 "$TMP/tty.txt")"
    fi
fi

expect_fail() { # expect_fail NAME "message" ARGS...: non-zero exit, the message on stderr
    local name=$1 want=$2
    shift 2
    selected "$name" || return
    if ! "$TAPLINE" "$@" >/dev/null 2>"$TMP/err" && grep -qF -- "$want" "$TMP/err"; then
        ok "$name"
    else
        not_ok "$name" "$(cat "$TMP/err")"
    fi
}
expect_fail summary_not_live "--summary and --report are for runs that read files (-r)" -i lo --summary "$TMP/x"
expect_fail report_bad_path "$TMP/no/such/dir/r.html: No such file" -r pcaps/icmp-ping.pcap --report "$TMP/no/such/dir/r.html"
expect_fail events_not_with_r "--events reads events, not packets" --events "$TMP/x" -r pcaps/icmp-ping.pcap

# Headless chromium: the page loads with nothing refused and nothing on the console, and
# every chart is drawn (pixels of its colours in a screenshot).
chrome() { # chrome DIR ARGS...: a profile of its own in DIR, the browser's log in DIR/log
    local dir=$1
    shift
    mkdir -p "$dir"
    timeout 120 chromium --headless --no-sandbox --disable-gpu --disable-background-networking \
        --disable-component-update --disable-sync --no-first-run --user-data-dir="$dir/profile" \
        --enable-logging=stderr --v=0 "$@" 2>>"$dir/log"
}
if selected report_in_browser; then
    # shellcheck disable=SC2086
    "$TAPLINE" $ATTACKS --set sensor=t -w /dev/null --report "$TMP/report.html" 2>/dev/null
    chrome "$TMP/c1" --dump-dom "file://$TMP/report.html" >"$TMP/dom.html"
    chrome "$TMP/c1" --screenshot="$TMP/shot.png" --window-size=1200,3200 "file://$TMP/report.html" >/dev/null
    charts=$(grep -o '<svg class="chart" id="[a-z-]*"' "$TMP/dom.html" | sed 's/.*id="//; s/"//' | paste -sd' ' -)
    console=$(grep -E 'CONSOLE|Uncaught' "$TMP/c1/log")
    # talkers and the top protocol, domains, high and medium alerts, LDAP operations
    colors=$($PY tests/lib/pngcolors.py "$TMP/shot.png" 4e79a7 59a14f d32f2f f57c00 b07aa1 2>&1)
    thin=$(awk '$2 < 100' <<<"$colors")
    if [ "$charts" = "traffic alerts talkers-bytes talkers-flows domains principals" ] &&
        [ -z "$console" ] && [ -n "$colors" ] && [ -z "$thin" ] &&
        [ "$(grep -o '<rect' "$TMP/dom.html" | wc -l)" -gt 50 ] &&
        ! grep -qE '<script|src=|href=|url\(|://' "$TMP/report.html"; then
        ok report_in_browser
    else
        not_ok report_in_browser "charts [$charts] console [$console] colours [$colors]"
    fi
fi

# Names from packets are text, never markup: hostile events make no element and run nothing.
if selected report_hostile_names; then
    cat >"$TMP/hostile.jsonl" <<'END'
{"ts":"2026-12-06T10:00:00Z","event_type":"kerberos","sensor":"t","client":"<script>console.log('pwned')</script>","client_realm":"<img src=x onerror=console.log(1)>","id.orig_h":"10.0.0.1","success":true,"request_type":"AS"}
{"ts":"2026-12-06T10:00:01Z","event_type":"alert","sensor":"t","rule.title":"</svg></text><img src=x onerror=console.log(2)>","rule.level":"high","id.orig_h":"\"><script>console.log(3)</script>"}
{"ts":"2026-12-06T10:00:02Z","event_type":"domain","sensor":"t","registered_domain":"<iframe src=x>","hosts_30d":3,"requests_30d":3,"frequency_index":1.0,"hosts":["<b onmouseover=x>"],"users":["\u001b[2J\u202e"]}
{"ts":"2026-12-06T10:00:03Z","event_type":"flow","sensor":"t","id.orig_h":"<style>body{display:none}</style>","orig_ip_bytes":100,"app_proto":"<svg onload=console.log(4)>"}
{"ts":"2026-12-06T10:00:04Z","event_type":"stats","sensor":"t","<x>.malformed":5}
END
    "$TAPLINE" --events "$TMP/hostile.jsonl" --report "$TMP/hostile.html" --summary "$TMP/hostile.txt"
    chrome "$TMP/c2" --dump-dom "file://$TMP/hostile.html" >"$TMP/hdom.html"
    console=$(grep -E 'CONSOLE|Uncaught' "$TMP/c2/log")
    if [ -z "$console" ] && ! grep -qiE '<(script|img|iframe|b |style>body.display)' "$TMP/hdom.html" &&
        grep -q '&lt;script&gt;console.log' "$TMP/hdom.html" &&
        grep -q '&lt;iframe src=x&gt;' "$TMP/hdom.html" &&
        [ "$(grep -c '<svg' "$TMP/hdom.html")" -ge 1 ] &&
        ! LC_ALL=C grep -q "$(printf '\033')" "$TMP/hostile.txt"; then
        ok report_hostile_names
    else
        not_ok report_hostile_names "console [$console] $(grep -oiE '<(script|img|iframe|b |style>body.display)[^>]*>' "$TMP/hdom.html" | head -5)"
    fi
fi

# make run makes what make makes (the ./tapline link, the data sheet), then says where things are.
if selected make_run; then
    make -n -W "$B/tapline" --no-print-directory B="$B" run >"$TMP/run.txt" 2>&1
    if grep -q "ln -sf $B/tapline tapline" "$TMP/run.txt" &&
        grep -q -- "--report out/session.html" "$TMP/run.txt" &&
        grep -q 'echo "binary:  .*/tapline -> ' "$TMP/run.txt" &&
        grep -q 'echo "outputs: ' "$TMP/run.txt"; then
        ok make_run
    else
        not_ok make_run "$(head -c 1500 "$TMP/run.txt")"
    fi
fi

finish
