#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# lattice-sweep.sh - rate and PSNR of the high-rate model's lattice
# refinement for a list of steps, averaged over the photographs of DIR: the
# measurement behind the built-in levels' steps (codec/enc/levels.c).
#
#   sh bench/lattice-sweep.sh DIR [STEPS...]      (default steps below)
#   MODEL=models/NAME.aem sh bench/lattice-sweep.sh DIR [STEPS...]
#       the same with a model file, coded as the built-in lattice levels
#       code (aeenc --model M --lattice-only: no VQ stage), to compare a
#       candidate, or a model's 32-bit file, with the built-in levels
#   AEENC_ARGS="--half-size on" sh bench/lattice-sweep.sh DIR [STEPS...]
#       more aeenc options for every encode (here: the half-size picture,
#       as levels 1-5 code it)
set -eu
DIR=${1:?usage: lattice-sweep.sh DIR [STEPS...]}
shift
BUILD=${BUILD:-build}
[ $# -gt 0 ] || set -- 0.5 0.4 0.3 0.25 0.2 0.16 0.13 0.1 0.08 0.065 0.05
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
LEVELS=$("$BUILD"/aeenc --version | sed -n 's/.*; \([0-9][0-9]*\) quality levels.*/\1/p')
Q=$LEVELS
[ -z "${MODEL:-}" ] || Q="1 --lattice-only"
printf '%8s %8s %8s\n' step bpp PSNR
for step in "$@"; do
    n=0
    sum_bpp=0
    sum_psnr=0
    for img in "$DIR"/*.png "$DIR"/*.jpg; do
        [ -f "$img" ] || continue
        # the top level codes with the high-rate model; --lattice sets its step
        # shellcheck disable=SC2086
        "$BUILD"/aeenc ${MODEL:+--model "$MODEL"} -q $Q ${AEENC_ARGS:-} --lattice "$step" "$img" "$T/x.aec"
        "$BUILD"/aedec ${MODEL:+--model "$MODEL"} "$T/x.aec" "$T/x.png"
        dims=$("$BUILD"/aeinfo "$T/x.aec" | sed -n 's/^size: *//p')
        size=$(wc -c <"$T/x.aec")
        psnr=$("$BUILD"/aecompare "$img" "$T/x.png" | awk '{print $2}')
        sum_bpp=$(awk "BEGIN{print $sum_bpp + 8*$size/(${dims%x*}*${dims#*x})}")
        sum_psnr=$(awk "BEGIN{print $sum_psnr + $psnr}")
        n=$((n + 1))
    done
    awk "BEGIN{printf \"%8s %8.4f %8.2f\n\", \"$step\", $sum_bpp/$n, $sum_psnr/$n}"
done
