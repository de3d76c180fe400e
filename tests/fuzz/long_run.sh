#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# long_run.sh - long fuzz runs in the background of a shared machine: each
# target for SECONDS, two at a time, at nice 15, one OpenMP thread each.
# The binaries are copied first (build-fuzz/long/) so that a rebuild while
# they run changes nothing.  Logs: build-fuzz/logs/NAME.log; new inputs:
# build-fuzz/corpus/NAME; crashes: build-fuzz/artifacts/NAME-*.  Ends with
# each target's final statistics.
# Usage: sh tests/fuzz/long_run.sh SECONDS [NAME...]   (after make fuzz-build;
#        NAME: header decode model lattice imageio, the default all five)
set -u
cd "$(dirname "$0")/../.."
secs=${1:?usage: long_run.sh SECONDS [NAME...]}
shift
[ $# -gt 0 ] || set -- header decode model lattice imageio
names="$*"
O=build-fuzz
mkdir -p $O/long $O/logs $O/artifacts
for t in "$@"; do
    cp $O/fuzz_$t $O/long/fuzz_$t || exit 1
    mkdir -p $O/corpus/$t
done
run() { # NAME
    dict=
    [ -f tests/fuzz/$1.dict ] && dict=-dict=tests/fuzz/$1.dict
    OMP_NUM_THREADS=1 nice -n 15 $O/long/fuzz_$1 -timeout=30 -rss_limit_mb=2048 \
        -max_total_time="$secs" -print_final_stats=1 $dict \
        -artifact_prefix=$O/artifacts/$1- $O/corpus/$1 tests/fuzz/corpus/$1 \
        >$O/logs/$1.log 2>&1
    echo "fuzz_$1: exit status $? ($(date -u +%H:%M:%S))" >>$O/logs/$1.log
}
# two at a time: the targets in pairs
while [ $# -gt 0 ]; do
    run "$1" &
    a=$!
    if [ $# -gt 1 ]; then
        run "$2" &
        b=$!
        wait $a $b
        shift 2
    else
        wait $a
        shift
    fi
done
for t in $names; do
    echo "== fuzz_$t ($O/logs/$t.log)"
    grep -E '^#[0-9]+ +DONE|^stat::|exit status|^==[0-9]+==ERROR|SUMMARY|Test unit' \
        "$O/logs/$t.log" | tail -12
done
