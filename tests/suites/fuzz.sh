#!/usr/bin/env bash
# fuzz.sh - replays every fuzz corpus and every crash ever found (tests/fuzz/
# corpus|crashes/TARGET/) through its target, in this build (sanitizers under
# test-asan). Targets: the packet path, and one per dissector.
SUITE=fuzz
. "$(dirname "$0")/../lib/suite.sh"

for replay in "$B"/tests/fuzz/*-replay; do
    t=$(basename "$replay" -replay)
    selected "$t" || continue
    for kind in corpus crashes; do
        files=(tests/fuzz/$kind/$t/*)
        [ -e "${files[0]}" ] || continue
        check "$t-$kind (${#files[@]} inputs)" "$replay" "${files[@]}"
    done
done
finish
