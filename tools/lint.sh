#!/bin/sh
# lint.sh - the rules a compiler does not check (STYLE.md):
#  - modules include each other only through include/ (no "../" includes)
#  - no code outside include/cursor.h touches a cursor's pos/end
#  - dissect/ is pure: no allocation, no I/O
#  - no strcpy, sprintf, strtok, gets
set -u
cd "$(dirname "$0")/.."
status=0
fail() {
    echo "lint: $1" >&2
    status=1
}
src=$(find include capture dissect flows detect export tests -name '*.[ch]' 2>/dev/null)

hits=$(grep -n '#include "\.\./' $src)
[ -z "$hits" ] || fail "include through ../ (use include/):
$hits"
# A cursor's fields are pos and end; other structs (zstd buffers) have a pos too, so
# only accesses through a cursor-like name count, judged on the code, not the file name.
hits=$(grep -nE '(->|\.)(pos|end)\b' $(echo "$src" | grep -v '^include/cursor.h$') |
    awk '{ code = $0; sub(/^[^:]*:[0-9]+:/, "", code)
           if (code ~ /^[ \t]*(\/\*|\*)/) next
           if (code ~ /(cur|tl_cursor|[^A-Za-z0-9_]c(->|\.)|sub(->|\.))/) print }')
[ -z "$hits" ] || fail "cursor internals used outside cursor.h:
$hits"
hits=$(grep -nE '\b(malloc|calloc|realloc|free|fopen|printf|fprintf|puts)\s*\(' dissect/*.c 2>/dev/null)
[ -z "$hits" ] || fail "dissect/ must not allocate or do I/O:
$hits"
hits=$(grep -nE '\b(strcpy|sprintf|vsprintf|strtok|gets)\s*\(' $src)
[ -z "$hits" ] || fail "banned function:
$hits"
[ $status -eq 0 ] && echo "lint: ok"
exit $status
