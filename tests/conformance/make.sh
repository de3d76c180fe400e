#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# make.sh - regenerate the conformance files of tests/conformance/:
#   tiny.aem      a tiny model trained here (deterministic, single thread)
#   pins.aem      a small model trained longer, whose decoder's convolution
#                 branch matters: the pin-*.aec files pin the network with it
#   layers.aem    tiny.aem's shape with a latent of 20 channels, so that its
#                 lattice makes 3 layers (flags bit 5): the layers-*.aec files
#   NAME.aec      files coded with it (and invalid variants)
#   NAME.png      the expected decoded images
#   manifest.txt  what tests/test_conformance.c checks for each file
# Usage (from anywhere): sh tests/conformance/make.sh [BUILD]
# Needs `make all` to have been run (BUILD/aetrain, BUILD/libcodec.a).
# Regenerating changes every file (a new model id): commit them together,
# and update spec/bitstream.md section 14 if the list of files changes.
# (`mkconf lattice MODEL DIR` adds only the lattice-layer files, `mkconf split
# MODEL DIR` only the split-layout ones, `mkconf zstd MODEL DIR` the frame
# rules' files, `mkconf pins MODEL DIR` the pin-*.aec files, `mkconf meta
# MODEL DIR` the metadata-stream files, `mkconf layers MODEL DIR` the
# lattice layers' files; README.md.)
set -eu
cd "$(dirname "$0")/../.."
BUILD=${1:-build}
CC=${CC:-cc}
DIR=tests/conformance
for f in "$BUILD/aetrain" "$BUILD/libcodec.a" "$BUILD/tools/common/imageio.o" \
         "$BUILD/tools/common/cleanup.o" "$BUILD/tools/common/orientation.o"; do
    [ -f "$f" ] || { echo "make.sh: $f missing: run make all first" >&2; exit 1; }
done
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM
$CC -O2 -std=c11 -fopenmp -D_POSIX_C_SOURCE=200809L -Iinclude -Icodec -Itools \
    -o "$tmp/mkconf" "$DIR/mkconf.c" "$BUILD/tools/common/imageio.o" \
    "$BUILD/tools/common/cleanup.o" "$BUILD/tools/common/orientation.o" "$BUILD/libcodec.a" -lpng -ljpeg -lzstd -lz -lm
mkdir "$tmp/train"
"$tmp/mkconf" train "$tmp/train"
rm -f "$DIR"/*.aec "$DIR"/*.png "$DIR/manifest.txt"
OMP_NUM_THREADS=1 "$BUILD/aetrain" --train "$tmp/train" --out "$DIR/tiny.aem" \
    --ckpt "$tmp/tiny.ckpt" --steps 40 --batch 4 --crop 32 --latent 8 \
    --enc-width 8 --enc-convs 1 --dec-width 8 --dec-convs 1 --stages 4 --codes 16 \
    --seed 7 -t 1 --ckpt-every 1000 --log-every 10 --name aecodec-conformance-tiny
OMP_NUM_THREADS=1 "$tmp/mkconf" files "$DIR/tiny.aem" "$DIR"
OMP_NUM_THREADS=1 "$tmp/mkconf" zstd "$DIR/tiny.aem" "$DIR"
# The network pins: wider, two decoder convolutions, 300 steps at a higher
# rate, so that the convolution branch moves the pixels by tens of levels.
OMP_NUM_THREADS=1 "$BUILD/aetrain" --train "$tmp/train" --out "$DIR/pins.aem" \
    --ckpt "$tmp/pins.ckpt" --steps 300 --batch 4 --crop 32 --latent 8 \
    --enc-width 16 --enc-convs 1 --dec-width 16 --dec-convs 2 --stages 4 --codes 16 \
    --lr 2e-3 --seed 7 -t 1 --ckpt-every 1000 --log-every 100 --name aecodec-conformance-pins
OMP_NUM_THREADS=1 "$tmp/mkconf" pins "$DIR/pins.aem" "$DIR"
OMP_NUM_THREADS=1 "$tmp/mkconf" meta "$DIR/tiny.aem" "$DIR"
# The lattice layers: tiny's shape and run with a latent of 20 channels, so
# that the layers are channels 0-7, 8-15 and 16-19.
OMP_NUM_THREADS=1 "$BUILD/aetrain" --train "$tmp/train" --out "$DIR/layers.aem" \
    --ckpt "$tmp/layers.ckpt" --steps 40 --batch 4 --crop 32 --latent 20 \
    --enc-width 8 --enc-convs 1 --dec-width 8 --dec-convs 1 --stages 4 --codes 16 \
    --seed 7 -t 1 --ckpt-every 1000 --log-every 10 --name aecodec-conformance-layers
OMP_NUM_THREADS=1 "$tmp/mkconf" layers "$DIR/layers.aem" "$DIR"
# Half-size files (flags bit 6): tiny.aem again.
OMP_NUM_THREADS=1 "$tmp/mkconf" half "$DIR/tiny.aem" "$DIR"
# Pixel residual files (flags bit 7): tiny.aem again.
OMP_NUM_THREADS=1 "$tmp/mkconf" residual "$DIR/tiny.aem" "$DIR"
# Restoration filter files (bitstream version 2): tiny.aem again.
OMP_NUM_THREADS=1 "$tmp/mkconf" filter "$DIR/tiny.aem" "$DIR"
echo "make.sh: wrote $DIR/tiny.aem, $DIR/pins.aem, $DIR/layers.aem, $(ls "$DIR"/*.aec | wc -l) .aec files and manifest.txt"
