#!/bin/sh
# demo.sh - encodes and decodes one photograph with the built-in model at a
# few quality levels and prints size, bpp and PSNR.   usage: demo.sh [IMAGE]
set -e
BUILD=${BUILD:-build}
IMG=$1
if [ -z "$IMG" ]; then
    IMG=$(ls corpus/photos/*.png 2>/dev/null | head -n 1)
    if [ -z "$IMG" ]; then
        echo "demo: fetching sample photographs (corpus/fetch-debian-photos.sh)"
        sh corpus/fetch-debian-photos.sh >/dev/null
        IMG=$(ls corpus/photos/*.png | head -n 1)
    fi
fi
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
"$BUILD"/aeinfo --version | head -n 1
echo "image: $IMG"
for q in 1 2 4 6 9 12; do
    "$BUILD"/aeenc -q $q "$IMG" "$OUT/x.aec" 2>/dev/null || break
    "$BUILD"/aedec "$OUT/x.aec" "$OUT/x.png"
    size=$(wc -c <"$OUT/x.aec")
    dims=$("$BUILD"/aeinfo "$OUT/x.aec" | sed -n 's/^size: *//p')
    w=${dims%x*}
    h=${dims#*x}
    bpp=$(awk "BEGIN{printf \"%.3f\", 8*$size/($w*$h)}")
    printf 'q=%-2d %8d bytes  %s bpp  %s\n' $q "$size" "$bpp" "$("$BUILD"/aecompare "$IMG" "$OUT/x.png")"
done
