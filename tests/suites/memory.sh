#!/usr/bin/env bash
# memory.sh - memory.max_bytes holds against a flood: 160,000 connections to dissector ports,
# none answered (a whole HTTP GET on 80, an LDAP search on 389, half a Kerberos record on
# 88, a SYN alone on 53/tcp; made by tools/pcapgen.c). Without a budget their dissector
# state takes about 600 MiB (80,000 were enough when states were 3-9 times larger: the
# flood must need far more than the budget for the check to mean anything); under a
# 64 MiB budget the oldest state is shed, the peak RSS stays within the budget (plus a
# margin for the allocator and what is not state: batches, output buffers), and every
# request still gets its event.
SUITE=memory
. "$(dirname "$0")/../lib/suite.sh"

if ! cc -O2 -o "$TMP/pcapgen" tools/pcapgen.c -lm 2>"$TMP/cc.err"; then
    not_ok pcapgen "$(cat "$TMP/cc.err")"
    finish
    exit
fi
"$TMP/pcapgen" flood "$TMP/flood.pcap" 160000 2>/dev/null
"$TMP/pcapgen" flood "$TMP/small.pcap" 1000 2>/dev/null

# run NAME PCAP BUDGET [RING_BATCHES]: events in $TMP/NAME.jsonl, peak RSS (KiB) in $TMP/NAME.rss.
run() {
    /usr/bin/time -f %M -o "$TMP/$1.rss" "$TAPLINE" -r "$2" --set memory.max_bytes="$3" \
        --set capture.ring_batches="${4:-8}" -w "$TMP/$1.jsonl" 2>"$TMP/$1.err"
    echo $? >"$TMP/$1.rc"
}
stat_of() { jq -r "select(.event_type==\"stats\") | .[\"$2\"]" "$TMP/$1.jsonl"; }
requests() { jq -r 'select(.event_type=="http" or .event_type=="ldap" or .event_type=="kerberos")
    | .event_type' "$TMP/$1.jsonl" | sort | uniq -c | tr -s ' \n' ' '; }

run base "$TMP/small.pcap" 64M
run budget "$TMP/flood.pcap" 64M
run free "$TMP/flood.pcap" 0
# 2048 batches of 260 KiB: taken in turn, the flood would write each of the ~530 it fills
# (104 MiB more than with 8, measured); the dispatcher takes the last one given back, so only
# the few in flight are written past their first page (pipe_stash in flows/pipeline.c): 27 MiB
run batches "$TMP/flood.pcap" 64M 2048

# Under ASan the allocator keeps freed memory in quarantine: RSS says nothing there.
asan=false
nm "$TAPLINE" 2>/dev/null | grep -q __asan_init && asan=true

# Every run ends well: exit 0, no sanitizer report (make test-asan runs this suite too).
if selected clean_exit; then
    bad=""
    for r in base budget free batches; do
        [ "$(cat "$TMP/$r.rc")" = 0 ] || bad="$bad $r: exit $(cat "$TMP/$r.rc") $(tail -n 3 "$TMP/$r.err")"
        grep -qE 'Sanitizer|runtime error' "$TMP/$r.err" && bad="$bad $r: $(grep -m 3 -E 'Sanitizer|runtime error' "$TMP/$r.err")"
    done
    if [ -z "$bad" ]; then ok clean_exit; else not_ok clean_exit "$bad"; fi
fi

if selected budget_rss; then
    base=$(cat "$TMP/base.rss") budget=$(cat "$TMP/budget.rss") free=$(cat "$TMP/free.rss")
    grown=$(((budget - base) / 1024))
    if $asan; then
        ok "budget_rss (not measured under ASan)"
    elif [ "$grown" -gt $((64 * 5 / 4 + 8)) ]; then
        not_ok budget_rss "peak RSS grew by $grown MiB over a 1,000-connection run, budget 64 MiB"
    elif [ $(((free - budget) / 1024)) -lt 256 ]; then
        # the flood must need far more than the budget, or the check above proves nothing
        not_ok budget_rss "without a budget $((free / 1024)) MiB, with one $((budget / 1024)) MiB"
    else
        ok "budget_rss (+$grown MiB under 64 MiB; $((free / 1024)) MiB without a budget)"
    fi
fi

# Free batches unused cost no memory: peak RSS with 2048 of them is near that with 8.
if selected batches_rss; then
    grown=$((($(cat "$TMP/batches.rss") - $(cat "$TMP/budget.rss")) / 1024))
    if $asan; then
        ok "batches_rss (not measured under ASan)"
    elif [ "$grown" -gt 48 ]; then
        not_ok batches_rss "2048 batches took $grown MiB more than 8 (budget run)"
    else
        ok "batches_rss (2048 batches: $grown MiB over 8)"
    fi
fi

if selected shed_counted; then
    shed=$(stat_of budget dissect.memory_shed)
    evicted=$(stat_of budget flows.max_per_worker_capped)
    none=$(stat_of free dissect.memory_shed)
    if [ "${shed:-0}" -gt 10000 ] && [ "${evicted:-0}" -gt 10000 ] && [ "$none" = 0 ]; then
        ok "shed_counted ($shed dissector states shed, $evicted flows evicted)"
    else
        not_ok shed_counted "memory_shed '$shed', flows capped '$evicted', without a budget '$none'"
    fi
fi

# Shedding ends a state as its flow's end would: every request waiting is written.
if selected nothing_lost; then
    want=$(requests free)
    got=$(requests budget)
    if [ "$got" = "$want" ] && [ -n "$want" ]; then
        ok "nothing_lost ($got)"
    else
        not_ok nothing_lost "with the budget: $got; without: $want"
    fi
fi

finish
