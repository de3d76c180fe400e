#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# layers.sh - what a lattice file cut after each of its layers gives
# (spec/bitstream.md 6.9): for each level, the bytes of the prefix that
# ends with layer n and the PSNR of its decode, averaged over the
# photographs of DIR.  The cut files are decoded as they are (a truncated
# file), not with aedec --stages, so this also checks that every prefix
# ending at a layer decodes.
#
#   sh bench/layers.sh DIR [LEVELS...]      (default levels 3 7 11)
set -eu
DIR=${1:?usage: layers.sh DIR [LEVELS...]}
shift
BUILD=${BUILD:-build}
[ $# -gt 0 ] || set -- 3 7 11
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
printf '%6s %6s %10s %8s %8s\n' level layers bytes bpp PSNR
for level in "$@"; do
    : >"$T/rows"
    for img in "$DIR"/*.png "$DIR"/*.jpg; do
        [ -f "$img" ] || continue
        # --strip: no metadata stream after the lattice streams, so the
        # prefix that ends with layer n is the file minus the later layers
        "$BUILD"/aeenc --strip -q "$level" "$img" "$T/x.aec"
        "$BUILD"/aeinfo "$T/x.aec" >"$T/info"
        dims=$(sed -n 's/^size: *//p' "$T/info")
        pixels=$((${dims%x*} * ${dims#*x}))
        total=$(wc -c <"$T/x.aec")
        sed -n 's/^  layer \([0-9]*\): .*, \([0-9]*\) bytes, .*/\1 \2/p' "$T/info" >"$T/layers"
        count=$(wc -l <"$T/layers")
        [ "$count" -gt 0 ] || { echo "layers.sh: level $level is not layered" >&2; exit 1; }
        n=1
        while [ "$n" -le "$count" ]; do
            later=$(awk -v n="$n" '$1 > n {s += $2} END {print s + 0}' "$T/layers")
            cut=$((total - later))
            head -c "$cut" "$T/x.aec" >"$T/cut.aec"
            "$BUILD"/aedec "$T/cut.aec" "$T/cut.png"
            psnr=$("$BUILD"/aecompare "$img" "$T/cut.png" | awk '{print $2}')
            echo "$n $cut $pixels $psnr" >>"$T/rows"
            n=$((n + 1))
        done
    done
    sort -n "$T/rows" | awk -v level="$level" '
        { bytes[$1] += $2; bpp[$1] += 8 * $2 / $3; psnr[$1] += $4; k[$1]++ }
        END { for (n in k) printf "%6d %6d %10.0f %8.4f %8.2f\n", level, n, bytes[n] / k[n],
                                   bpp[n] / k[n], psnr[n] / k[n] }' | sort -n -k2
done
