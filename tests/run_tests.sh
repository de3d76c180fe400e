#!/bin/sh
# Runs every test program in BUILD/tests and every tests/*_test.sh script,
# counts "ok NAME" / "FAIL NAME" lines and ends with "N passed, N failed".
BUILD=${1:-build}
export AEC_BUILD="$BUILD"
log=$(mktemp)
status=0
for t in "$BUILD"/tests/test_*; do
    [ -x "$t" ] || continue
    echo "== $t"
    "$t" >"$log" 2>&1
    rc=$?
    cat "$log"
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$log"; then
        echo "FAIL $(basename "$t") (exit status $rc)"
        echo "FAIL $(basename "$t")" >>"$log.all"
    fi
    cat "$log" >>"$log.all"
done
for s in tests/*_test.sh; do
    [ -f "$s" ] || continue
    echo "== $s"
    sh "$s" "$BUILD" >"$log" 2>&1
    rc=$?
    cat "$log"
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$log"; then
        echo "FAIL $(basename "$s") (exit status $rc)"
        echo "FAIL $(basename "$s")" >>"$log.all"
    fi
    cat "$log" >>"$log.all"
done
passed=$(grep -c '^ok ' "$log.all" 2>/dev/null)
failed=$(grep -c '^FAIL ' "$log.all" 2>/dev/null)
rm -f "$log" "$log.all"
echo "${passed:-0} passed, ${failed:-0} failed"
[ "${failed:-0}" -eq 0 ] && [ "${passed:-0}" -gt 0 ]
