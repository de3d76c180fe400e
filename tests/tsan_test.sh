#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# tsan_test.sh - tests/test_concurrency.c under ThreadSanitizer: `make
# tsan-build` (mk/tsan.mk: libcodec and the test in build-tsan/ with
# -fsanitize=thread), then the test, which must pass with no TSan report.
# Its own ok lines are indented so that the count has one line per check
# here.  Runs for the plain build only; skipped where the compiler cannot
# link -fsanitize=thread.
# Usage (from the repository root): sh tests/tsan_test.sh BUILD
BUILD=${1:-build}
TSAN_CC=${TSAN_CC:-${CC:-cc}}
case $BUILD in
build) ;;
*) echo "SKIP tsan_test: runs for the plain build only, not $BUILD"; exit 0 ;;
esac
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_tsan.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
printf 'int main(void) { return 0; }\n' >"$tmp/probe.c"
if ! "$TSAN_CC" -fsanitize=thread -o "$tmp/probe" "$tmp/probe.c" >/dev/null 2>&1; then
    echo "SKIP tsan_test: $TSAN_CC cannot link -fsanitize=thread"; exit 0
fi
# Not $(MAKE): this script runs outside make too (sh tests/run_tests.sh).
if make -s -j2 TSAN_CC="$TSAN_CC" tsan-build >"$tmp/build.log" 2>&1; then
    echo "ok tsan_build"
else
    echo "FAIL tsan_build"
    tail -n 20 "$tmp/build.log" | sed 's/^/  | /'
    exit 1
fi
# halt_on_error: the first report ends the run (exit status 66)
TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" OMP_NUM_THREADS=1 \
    build-tsan/test_concurrency >"$tmp/run.log" 2>&1
rc=$?
sed 's/^/  | /' "$tmp/run.log" | head -n 80
if [ $rc -eq 0 ] && ! grep -q 'WARNING: ThreadSanitizer' "$tmp/run.log" &&
    grep -q '^ok ' "$tmp/run.log" && ! grep -q '^FAIL ' "$tmp/run.log"; then
    echo "ok tsan_concurrency"
else
    echo "FAIL tsan_concurrency (exit status $rc)"
    exit 1
fi
