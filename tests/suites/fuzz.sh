#!/usr/bin/env bash
# fuzz.sh - replays every fuzz corpus and every crash ever found (tests/fuzz/
# crashes/TARGET/) through the target, in this build (sanitizers under test-asan).
SUITE=fuzz
. "$(dirname "$0")/../lib/suite.sh"

for src in tests/fuzz/fuzz_*.c; do
    t=$(basename "$src" .c)
    t=${t#fuzz_}
    selected "$t" || continue
    for kind in corpus crashes; do
        files=(tests/fuzz/$kind/$t/*)
        [ -e "${files[0]}" ] || continue
        check "$t-$kind (${#files[@]} inputs)" "$B/tests/fuzz/$t-replay" "${files[@]}"
    done
done
finish
