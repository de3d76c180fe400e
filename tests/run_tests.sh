#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Runs every test program in each BUILD/tests and every tests/*_test.sh
# script against each BUILD, counts "ok NAME" / "FAIL NAME" lines and ends
# with "N passed, N failed".   usage: sh tests/run_tests.sh BUILD [BUILD...]
[ $# -gt 0 ] || set -- build
log=$(mktemp)
all=$(mktemp)
run_one() { # label, command...
    label=$1
    shift
    echo "== $label"
    "$@" >"$log" 2>&1
    rc=$?
    cat "$log"
    if [ $rc -ne 0 ] && ! grep -q '^FAIL ' "$log"; then
        echo "FAIL $label (exit status $rc)"
        echo "FAIL $label" >>"$all"
    fi
    cat "$log" >>"$all"
}
for BUILD in "$@"; do
    export AEC_BUILD="$BUILD"
    for t in "$BUILD"/tests/test_*; do
        [ -x "$t" ] && run_one "$t" "$t"
    done
    for s in tests/*_test.sh; do
        [ -f "$s" ] && run_one "$s ($BUILD)" sh "$s" "$BUILD"
    done
done
passed=$(grep -c '^ok ' "$all")
failed=$(grep -c '^FAIL ' "$all")
rm -f "$log" "$all"
echo "${passed:-0} passed, ${failed:-0} failed"
[ "${failed:-0}" -eq 0 ] && [ "${passed:-0}" -gt 0 ]
