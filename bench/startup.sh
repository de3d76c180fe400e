#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench/startup.sh [BUILD] [RUNS] - what a thumbnailer or a batch job pays
# per file: the whole-process wall time of `aedec` on an 8x8 file and of
# `aeinfo`, medians of RUNS runs (default 51), against /bin/true for the
# cost of starting any process.  Output in a temporary folder.
BUILD=${1:-build}
RUNS=${2:-51}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM HUP
# An 8x8 RGB PPM of a fixed pattern.
{ printf 'P6\n8 8\n255\n'; i=0; while [ $i -lt 64 ]; do printf '\%03o\%03o\%03o' $((i * 4)) $((255 - i * 3)) $((i * 7 % 256)); i=$((i + 1)); done; } > "$tmp/in.ppm"
"$BUILD/aeenc" "$tmp/in.ppm" "$tmp/in.ae" || exit 1
median_ms() { # command... : median wall time in ms over RUNS runs
    i=0
    while [ $i -lt "$RUNS" ]; do
        t0=$(date +%s%N)
        "$@" >/dev/null 2>&1
        t1=$(date +%s%N)
        echo $(( (t1 - t0) / 1000 ))
        i=$((i + 1))
    done | sort -n | awk '{ v[NR] = $1 } END { printf "%.2f", v[int((NR + 1) / 2)] / 1000 }'
}
echo "start-up, whole process, median of $RUNS runs ($(nproc) cores):"
echo "  /bin/true                     $(median_ms /bin/true) ms"
echo "  aeinfo 8x8.ae                 $(median_ms "$BUILD/aeinfo" "$tmp/in.ae") ms"
echo "  aedec 8x8.ae 8x8.ppm          $(median_ms "$BUILD/aedec" "$tmp/in.ae" "$tmp/out.ppm") ms"
echo "  aedec -t 1 8x8.ae 8x8.ppm     $(median_ms "$BUILD/aedec" -t 1 "$tmp/in.ae" "$tmp/out.ppm") ms"
