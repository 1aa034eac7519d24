#!/usr/bin/env bash
# domains.sh - domain-usage statistics on the project's capture pcaps/domains-rare.pcap
# (20 hosts ask for the same names; 10.97.0.10, where alice logged on with Kerberos, also
# asks for a name under example.org that nobody else asks for):
#   rare_domain       the rare domain has the lowest frequency index and prevalence, is new,
#                     lists the right host and user; the common one the highest
#   enrichment        dns events carry the statistics as of their moment; names that are not
#                     counted (.arpa, single label, .local) carry none; private suffixes
#   deterministic     --threads 1 and 4, and a second replay, give the same events
#   snapshot          domains.state_file: a second run continues the first one's counts
#   fleet             against a real redis-server on loopback: two tapline processes replaying
#                     halves of the capture share counts (hosts of both, earliest first seen)
#   redis_down        with Redis unreachable the run completes and counts the errors
#   pseudonyms        privacy.hmac_key_file: alice is the same HMAC-SHA-256 pseudonym on the
#                     kerberos, identity and domain events, and nowhere in clear
SUITE=domains
. "$(dirname "$0")/../lib/suite.sh"

PCAP=pcaps/domains-rare.pcap
run() { "$TAPLINE" --set sensor=t -w - "$@" 2>>"$TMP/err"; }
domain() { jq -c --arg d "$2" 'select(.event_type=="domain" and .registered_domain==$d)' "$1"; }

run -r $PCAP >"$TMP/one.jsonl"

if selected rare_domain; then
    rare=$(domain "$TMP/one.jsonl" example.org)
    common=$(domain "$TMP/one.jsonl" example.com)
    min_fi=$(jq -s 'map(select(.event_type=="domain") | .frequency_index) | min' "$TMP/one.jsonl")
    min_prev=$(jq -s 'map(select(.event_type=="domain") | .prevalence) | min' "$TMP/one.jsonl")
    if [ "$(jq -r .frequency_index <<<"$rare")" = "$min_fi" ] && [ "$min_fi" = 0 ] &&
        [ "$(jq -r .prevalence <<<"$rare")" = "$min_prev" ] &&
        [ "$(jq -r .is_new <<<"$rare")" = true ] &&
        [ "$(jq -c .hosts <<<"$rare")" = '["10.97.0.10"]' ] &&
        [ "$(jq -c .users <<<"$rare")" = '["alice"]' ] &&
        [ "$(jq -r .frequency_index <<<"$common")" = 100 ] &&
        [ "$(jq -r .hosts_30d <<<"$common")" = 20 ] && [ "$(jq -r .requests_30d <<<"$common")" = 80 ]; then
        ok rare_domain
    else
        not_ok rare_domain "example.org: $rare; example.com: $common"
    fi
fi

if selected enrichment; then
    q() { jq -c --arg q "$1" 'select(.event_type=="dns" and .query==$q)' "$TMP/one.jsonl"; }
    rare=$(q rare-tools.example.org)
    last_www=$(q www.example.com | tail -n 1)
    uncounted=$(for n in fileserver printer.local 1.0.97.10.in-addr.arpa; do q $n; done |
        jq -s 'map(select(has("domain_hosts_30d") or has("domain_first_seen"))) | length')
    gh=$(q team.github.io | head -n 1)
    if [ "$(jq -r '[.registered_domain, .public_suffix, .domain_hosts_30d, .domain_frequency_index, .is_new_domain] | @tsv' <<<"$rare")" = "$(printf 'example.org\torg\t1\t0\ttrue')" ] &&
        [ "$(jq -r '[.domain_hosts_30d, .domain_requests_24h, .domain_prevalence] | @tsv' <<<"$last_www")" = "$(printf '20\t79\t1')" ] &&
        [ "$uncounted" = 0 ] &&
        [ "$(jq -r '[.registered_domain, .public_suffix] | @tsv' <<<"$gh")" = "$(printf 'team.github.io\tgithub.io')" ]; then
        ok enrichment
    else
        not_ok enrichment "rare: $rare / last www: $last_www / uncounted with stats: $uncounted / $gh"
    fi
fi

if selected deterministic; then
    canon_run() { run -r $PCAP "$@" | canon --no-stats; }
    a=$(canon_run --threads 1 | md5sum)
    b=$(canon_run --threads 4 | md5sum)
    c=$(canon_run --threads 4 | md5sum)
    if [ "$a" = "$b" ] && [ "$b" = "$c" ]; then ok deterministic; else not_ok deterministic "1 thread $a, 4 threads $b then $c"; fi
fi

if selected snapshot; then
    state=$TMP/domains.state
    run -r $PCAP --set domains.state_file="$state" >/dev/null
    run -r $PCAP --set domains.state_file="$state" >"$TMP/two.jsonl"
    first=$(domain "$TMP/one.jsonl" example.com | jq -r .first_seen)
    again=$(domain "$TMP/two.jsonl" example.com)
    if [ -s "$state" ] && [ "$(jq -r .requests_30d <<<"$again")" = 160 ] &&
        [ "$(jq -r .first_seen <<<"$again")" = "$first" ] &&
        [ "$(jq -r .hosts_30d <<<"$again")" = 20 ]; then
        ok snapshot
    else
        not_ok snapshot "second run: $again; $(cat "$TMP/err")"
    fi
fi

# A real redis-server on a free loopback port, with no persistence.
redis_start() {
    REDIS_PORT=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --save '' --appendonly no --dir "$TMP" \
        >"$TMP/redis.log" 2>&1 &
    REDIS_PID=$!
    for _ in $(seq 100); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && return 0; sleep 0.05; done
    return 1
}

if selected fleet; then
    if ! command -v redis-server >/dev/null || ! redis_start; then
        not_ok fleet "no redis-server (tools/deps.sh test installs it)"
    else
        # sensor A sees the hosts .10-.19 and the KDC, sensor B the hosts .20-.29
        tshark -r $PCAP -w "$TMP/a.pcap" -Y "ip.addr in {10.97.0.10..10.97.0.19}" 2>/dev/null
        tshark -r $PCAP -w "$TMP/b.pcap" -Y "ip.addr in {10.97.0.20..10.97.0.29}" 2>/dev/null
        url=redis://127.0.0.1:$REDIS_PORT/0
        run -r "$TMP/a.pcap" --set redis.url="$url" >"$TMP/a.jsonl"
        run -r "$TMP/b.pcap" --set redis.url="$url" >"$TMP/b.jsonl"
        a=$(domain "$TMP/a.jsonl" example.com)
        b=$(domain "$TMP/b.jsonl" example.com)
        a_first=$(jq -r .first_seen <<<"$a")
        # Redis counts hosts with its HyperLogLog (0.81% standard error): 20 within one
        b_hosts=$(jq -r .hosts_30d <<<"$b")
        if [ "$(jq -r .hosts_30d <<<"$a")" = 10 ] && [ "$b_hosts" -ge 19 ] && [ "$b_hosts" -le 21 ] &&
            [ "$(jq -r .requests_30d <<<"$b")" = 80 ] && [ "$(jq -r .first_seen <<<"$b")" = "$a_first" ] &&
            [ "$(jq -c '.hosts | length' <<<"$b")" = 10 ]; then
            ok fleet
        else
            not_ok fleet "sensor A: $a / sensor B: $b / $(tail -n 3 "$TMP/err")"
        fi
        kill "$REDIS_PID"
        wait "$REDIS_PID" 2>/dev/null
    fi
fi

if selected redis_down; then
    port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
    if run -r $PCAP --set redis.url="redis://127.0.0.1:$port" --set redis.timeout=0.2 >"$TMP/down.jsonl" &&
        [ "$(jq -r 'select(.event_type=="stats") | .["redis.errors"] > 0' "$TMP/down.jsonl")" = true ] &&
        [ -n "$(domain "$TMP/down.jsonl" example.org)" ]; then
        ok redis_down
    else
        not_ok redis_down "$(jq -c 'select(.event_type=="stats") | with_entries(select(.key|startswith("redis")))' "$TMP/down.jsonl") $(tail -n 3 "$TMP/err")"
    fi
fi
if selected pseudonyms; then
    printf 's3cret-key\n' >"$TMP/key"
    want=$(printf alice | openssl dgst -sha256 -hmac s3cret-key | sed 's/.*= //' | cut -c1-32)
    run -r $PCAP --set privacy.hmac_key_file="$TMP/key" >"$TMP/p.jsonl"
    got=$(jq -r 'select(.event_type=="kerberos") | .client, (select(.event_type=="identity") | .user),
        (select(.event_type=="domain" and .registered_domain=="example.org") | .users[])' "$TMP/p.jsonl" | sort -u)
    if [ "$got" = "$want" ] && ! grep -q alice "$TMP/p.jsonl"; then
        ok pseudonyms
    else
        not_ok pseudonyms "want $want, got: $got"
    fi
fi
finish
