#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench/batch-speed.sh [BUILD] [N] - a folder of small photos on one machine:
# threads per image (one aeenc -t 2 -o DIR over all files) or images in
# parallel (two aeenc -t 1 -o DIR processes, each over half the files)?
# Makes N (default 24) 512x384 crops of corpus/sample/ladybird-768x480.png
# in a temporary folder (needs /usr/bin/python3 with PIL), prints images/s
# for aeenc and for aedec both ways.
BUILD=${1:-build}
N=${2:-24}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM HUP
mkdir "$tmp/png" "$tmp/ae1" "$tmp/ae2" "$tmp/out1" "$tmp/out2"
/usr/bin/python3 - "$tmp/png" "$N" <<'PY' || exit 1
import sys
from PIL import Image
out, n = sys.argv[1], int(sys.argv[2])
src = Image.open("corpus/sample/ladybird-768x480.png").convert("RGB")
for i in range(n):
    x, y = (i * 37) % 256, (i * 13) % 96
    im = src.crop((x, y, x + 512, y + 384))
    if i % 2:
        im = im.transpose(Image.FLIP_LEFT_RIGHT)
    im.save("%s/p%03d.png" % (out, i))
PY
now() { date +%s%N; }
rate() { awk -v n="$N" -v t0="$1" -v t1="$2" 'BEGIN { printf "%.1f images/s (%.2f s)", n / ((t1 - t0) / 1e9), (t1 - t0) / 1e9 }'; }
# both_ways TOOL SRC_DIR OUT1 OUT2: TOOL over every file of SRC_DIR, first as
# one process with 2 threads into OUT1, then as two 1-thread processes,
# each over half the files, into OUT2.
both_ways() {
    files=$(ls "$2"/*)
    half1=$(echo "$files" | awk 'NR % 2 == 1')
    half2=$(echo "$files" | awk 'NR % 2 == 0')
    t0=$(now); "$BUILD/$1" -t 2 -o "$3" $files || exit 1; t1=$(now)
    echo "$1, threads per image (1 process, -t 2):   $(rate "$t0" "$t1")"
    t0=$(now)
    "$BUILD/$1" -t 1 -o "$4" $half1 & p=$!
    "$BUILD/$1" -t 1 -o "$4" $half2 || exit 1
    wait $p || exit 1
    t1=$(now)
    echo "$1, images in parallel (2 processes, -t 1): $(rate "$t0" "$t1")"
}
both_ways aeenc "$tmp/png" "$tmp/ae1" "$tmp/ae2"
both_ways aedec "$tmp/ae1" "$tmp/out1" "$tmp/out2"
