#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# fuzz_test.sh - the fuzz targets cannot rot: `make fuzz-build` builds
# every target of tests/fuzz/fuzz.mk (the library again, with clang,
# libFuzzer and the sanitizers), then each target runs a bounded smoke run
# from its seeds (at most FUZZ_SMOKE_RUNS inputs or FUZZ_SMOKE_SECONDS
# seconds, fixed seed), so a broken fuzz build or a target that crashes on
# its first inputs fails `make check`.  Runs for the plain build only (the
# fuzz build has its own sanitizers); skipped without clang or its
# libFuzzer runtime.  Long runs: tests/fuzz/long_run.sh.
# Usage (from the repository root): sh tests/fuzz_test.sh BUILD
BUILD=${1:-build}
FUZZ_CC=${FUZZ_CC:-clang}
RUNS=${FUZZ_SMOKE_RUNS:-3000}
SECS=${FUZZ_SMOKE_SECONDS:-10}
case $BUILD in
build) ;;
*) echo "SKIP fuzz_test: runs for the plain build only, not $BUILD"; exit 0 ;;
esac
if ! command -v "$FUZZ_CC" >/dev/null 2>&1; then
    echo "SKIP fuzz_test: $FUZZ_CC not installed (apt-get install clang)"; exit 0
fi
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_fuzz.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'int LLVMFuzzerTestOneInput(const unsigned char *d, unsigned long n)\n{ (void)d, (void)n; return 0; }\n' \
    >"$tmp/probe.c"
if ! "$FUZZ_CC" -fsanitize=fuzzer -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1; then
    echo "SKIP fuzz_test: $FUZZ_CC has no libFuzzer runtime"; exit 0
fi
failed=0
# Not $(MAKE): this script runs outside make too (sh tests/run_tests.sh).
if make -s -j2 BUILD="$BUILD" FUZZ_CC="$FUZZ_CC" fuzz-build >"$tmp/build.log" 2>&1; then
    echo "ok fuzz_build"
else
    echo "FAIL fuzz_build"
    tail -n 20 "$tmp/build.log" | sed 's/^/  | /'
    exit 1
fi
names=$(sed -n 's/^FUZZ_NAMES *:= *//p' tests/fuzz/fuzz.mk)
if [ -z "$names" ]; then
    echo "FAIL fuzz_targets (no FUZZ_NAMES in tests/fuzz/fuzz.mk)"
    exit 1
fi
for t in $names; do
    mkdir -p "$tmp/corpus-$t" build-fuzz/artifacts
    dict=
    [ -f "tests/fuzz/$t.dict" ] && dict="-dict=tests/fuzz/$t.dict"
    # new inputs go to a scratch corpus: the seeds stay as they are
    if OMP_NUM_THREADS=1 build-fuzz/fuzz_$t -seed=1 -runs="$RUNS" -max_total_time="$SECS" \
        -timeout=30 -rss_limit_mb=2048 -print_final_stats=1 $dict \
        -artifact_prefix="build-fuzz/artifacts/smoke-$t-" "$tmp/corpus-$t" "tests/fuzz/corpus/$t" \
        >"$tmp/$t.log" 2>&1; then
        echo "ok fuzz_${t}_smoke"
        grep -E '^stat::(number_of_executed_units|new_units_added)' "$tmp/$t.log" | sed 's/^/  /'
    else
        echo "FAIL fuzz_${t}_smoke"
        grep -E 'ERROR|SUMMARY|#[0-9]+|Test unit written|^Base64' "$tmp/$t.log" | tail -n 20 |
            sed 's/^/  | /'
        failed=1
    fi
done
exit $failed
