#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench_test.sh - the bench runs end to end on a small generated image and
# writes its CSV, summary and plot with sane figures.   usage: sh tests/bench_test.sh BUILD
BUILD=${1:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
"$BUILD"/tests/test_imageio --make-sample "$T/img.png" 160 96 3 >/dev/null 2>&1 || {
    echo "FAIL bench_sample_image"
    exit 1
}
if "$BUILD"/aebench --out "$T/out" --codecs aecodec,jpeg --levels 1,3 --jpeg-q 20,50,80 \
    --no-single-thread "$T/img.png" >"$T/log" 2>&1; then
    echo "ok bench_runs"
else
    cat "$T/log"
    echo "FAIL bench_runs"
fi
for f in rows.csv summary.md rd-psnr.svg; do
    if [ -s "$T/out/$f" ]; then echo "ok bench_writes_$f"; else echo "FAIL bench_writes_$f"; fi
done
# rows: header + 2 aecodec + 3 jpeg rows, every PSNR between 10 and 100 dB.
rows=$(tail -n +2 "$T/out/rows.csv" | wc -l)
bad=$(tail -n +2 "$T/out/rows.csv" | awk -F, '$8 < 10 || $8 > 100 || $7 <= 0' | wc -l)
if [ "$rows" -eq 5 ] && [ "$bad" -eq 0 ]; then
    echo "ok bench_rows_sane"
else
    cat "$T/out/rows.csv"
    echo "FAIL bench_rows_sane ($rows rows, $bad out of range)"
fi
# aecodec level 3 must cost more bytes and give more PSNR than level 1.
if awk -F, '$1=="aecodec"{b[$3]=$6; p[$3]=$8} END{exit !(b["q=3"]>b["q=1"] && p["q=3"]>p["q=1"])}' \
    "$T/out/rows.csv"; then
    echo "ok bench_levels_ordered"
else
    echo "FAIL bench_levels_ordered"
fi
