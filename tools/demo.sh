#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# demo.sh - encodes and decodes one photograph (default: corpus/sample/) with the built-in models at a
# few quality levels and prints size, bpp and PSNR.   usage: demo.sh [IMAGE]
set -e
BUILD=${BUILD:-build}
IMG=$1
# The sample is a photograph from Debian's mate-backgrounds (corpus/sample/).
[ -n "$IMG" ] || IMG=corpus/sample/ladybird-768x480.png
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$BUILD"/aeinfo --version | head -n 1
echo "image: $IMG"
for q in 1 3 5 7 10 13; do
    "$BUILD"/aeenc -q $q "$IMG" "$OUT/x.aec" 2>/dev/null || break
    "$BUILD"/aedec "$OUT/x.aec" "$OUT/x.png"
    size=$(wc -c <"$OUT/x.aec")
    dims=$("$BUILD"/aeinfo "$OUT/x.aec" | sed -n 's/^size: *//p')
    w=${dims%x*}
    h=${dims#*x}
    bpp=$(awk "BEGIN{printf \"%.3f\", 8*$size/($w*$h)}")
    printf 'q=%-2d %8d bytes  %s bpp  %s\n' $q "$size" "$bpp" "$("$BUILD"/aecompare "$IMG" "$OUT/x.png")"
done
