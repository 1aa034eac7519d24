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

finish
