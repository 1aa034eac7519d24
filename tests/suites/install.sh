#!/usr/bin/env bash
# install.sh - `make install` into a prefix of our own: the binary finds the installed
# rules, the sample configuration passes --check-config, the man page renders, the
# systemd unit passes systemd-analyze verify, the logrotate snippet passes logrotate -d.
SUITE=install
. "$(dirname "$0")/../lib/suite.sh"

PFX=$TMP/prefix
if ! make --no-print-directory install PREFIX="$PFX" >"$TMP/make.log" 2>&1; then
    not_ok make_install "$(tail -n 20 "$TMP/make.log")"
    finish
    exit
fi
ok make_install

files="bin/tapline share/man/man8/tapline.8 etc/tapline/tapline.yaml etc/tapline/tapline.yaml.sample
    lib/systemd/system/tapline.service etc/logrotate.d/tapline share/tapline/rules"
missing=""
for f in $files; do [ -e "$PFX/$f" ] || missing="$missing $f"; done
if [ -z "$missing" ] && "$PFX/bin/tapline" --help-config | grep -q "$PFX/share/tapline/rules"; then
    ok installed_files
else
    not_ok installed_files "missing:$missing"
fi

if "$PFX/bin/tapline" -T -c "$PFX/etc/tapline/tapline.yaml" 2>"$TMP/check.err" &&
    grep -q "configuration OK" "$TMP/check.err"; then
    ok sample_config
else
    not_ok sample_config "$(cat "$TMP/check.err")"
fi

if command -v man >/dev/null; then
    check man_page bash -c "man -l '$PFX/share/man/man8/tapline.8' 2>&1 | grep -q 'network traffic analysis sensor'"
fi

if command -v systemd-analyze >/dev/null; then
    if MANPATH="$PFX/share/man:" systemd-analyze verify "$PFX/lib/systemd/system/tapline.service" \
        >"$TMP/unit.out" 2>&1; then
        ok systemd_unit
    else
        not_ok systemd_unit "$(cat "$TMP/unit.out")"
    fi
fi

# (the service's user may not exist here: the syntax is checked with root's)
if command -v logrotate >/dev/null; then
    sed 's/create 0640 tapline tapline/create 0640 root root/' "$PFX/etc/logrotate.d/tapline" >"$TMP/lr"
    if logrotate -d -s "$TMP/lr.state" "$TMP/lr" >"$TMP/lr.out" 2>&1 && ! grep -q '^error' "$TMP/lr.out"; then
        ok logrotate_snippet
    else
        not_ok logrotate_snippet "$(cat "$TMP/lr.out")"
    fi
fi
finish
