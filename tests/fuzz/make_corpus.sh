#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# make_corpus.sh - regenerate the fuzz seed corpus tests/fuzz/corpus/:
# generated models and files (mkseeds.c) plus the valid conformance files,
# and small PNG, JPEG and PNM images for fuzz_imageio (mkimgseeds.c).
# Usage: sh tests/fuzz/make_corpus.sh [BUILD]   (after `make all`)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
CC=${CC:-cc}
C=tests/fuzz/corpus
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
$CC -O1 -std=c11 -fopenmp -D_POSIX_C_SOURCE=200809L -Iinclude -Icodec -I"$BUILD/gen" -Itests \
    -o "$tmp/mkseeds" tests/fuzz/mkseeds.c "$BUILD/libcodec.a" -lzstd -lz -lm -lpthread
$CC -O1 -std=c11 -D_POSIX_C_SOURCE=200809L -o "$tmp/mkimgseeds" tests/fuzz/mkimgseeds.c -lpng -ljpeg
# Generated files are written over; the inputs fuzzing found (named by
# their SHA-1, committed) stay.
mkdir -p "$C/header" "$C/decode" "$C/model" "$C/lattice" "$C/residual" "$C/wiener" "$C/imageio"
"$tmp/mkseeds" "$C"
"$tmp/mkimgseeds" "$C/imageio"
for f in grey33x17 rgb100x60 rgba70x70 rgb80x48-cut2 greyalpha45x23 rgb100x60-lattice \
         rgba70x70-lattice0 rgb100x60-split rgba70x70-split0 layers-rgb300x70 \
         layers-rgb300x70-cut1 layers-rgba150x70-planes residual-rgb75x41 residual-ga96x50 \
         residual-fine-rgb64x40 filter-rgb75x41 filter-ga96x50 filter-half-rgb75x41; do
    cp "tests/conformance/$f.aec" "$C/decode/conf-$f.aec"
    cp "tests/conformance/$f.aec" "$C/header/conf-$f.aec"
done
echo "make_corpus.sh: $(ls "$C"/*/* | wc -l) seed files in $C"
