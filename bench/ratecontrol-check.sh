#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# ratecontrol-check.sh - how close the library's rate search (target size or
# PSNR, codec/enc/ratecontrol.c) lands on photographs, and what it costs:
# per image and target the file it returned, its error and the encodes the
# search spent (aec_encoder_last_search), as Markdown on stdout.
#
#   sh bench/ratecontrol-check.sh [BUILD] [DIR] [BPP_LIST] [PSNR_LIST]
#
# Defaults: build, ../shared/corpus/valid, 0.25,0.5 bpp, 32,36 dB.  One
# thread, niced: it measures search quality, not speed.
BUILD=${1:-build}
DIR=${2:-../shared/corpus/valid}
BPP=${3:-0.25,0.5}
PSNR=${4:-32,36}
[ -x "$BUILD/aebench" ] || { echo "ratecontrol-check: $BUILD/aebench not built (make $BUILD/aebench)" >&2; exit 1; }
set -- "$DIR"/*.png
[ -f "$1" ] || { echo "ratecontrol-check: no PNG in $DIR" >&2; exit 1; }
echo "Rate search on $# images of $DIR: sizes of $BPP bpp, PSNRs of $PSNR dB"
echo "(in window: a size within 2 % below the target, a PSNR within 0.1 dB above it; s: wall time of the search)"
echo
exec nice -n 10 "$BUILD/aebench" --rate-search -t 1 --bpp "$BPP" --psnr "$PSNR" "$@"
