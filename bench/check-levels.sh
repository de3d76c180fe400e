#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# check-levels.sh - acceptance check of the quality levels on real photos:
# for every image of DIR and every built-in level L, encode with -q L and
# decode; for the VQ levels (if any) also decode the file of the top VQ
# level cut right after stage L, and for levels 2 and 7 (a half-size and a
# full-size lattice level) the file cut right after each lattice layer but
# the last.  Prints one row per image and level; fails if an output has the
# wrong size, if PSNR does not rise with L, or if a cut file decodes
# differently from `aedec --stages` with as many stages or layers.
#
#   sh bench/check-levels.sh DIR [BUILD]
set -u
DIR=${1:?usage: check-levels.sh DIR [BUILD]}
BUILD=${2:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
LEVELS=$("$BUILD"/aeenc --version | sed -n 's/.*; \([0-9][0-9]*\) quality levels.*/\1/p')
[ -n "$LEVELS" ] || LEVELS=12
fail=0
printf '%-14s %3s %9s %8s %8s  %s\n' image L bytes bpp PSNR "cut-file check"
for img in "$DIR"/*.png "$DIR"/*.jpg; do
    [ -f "$img" ] || continue
    name=$(basename "$img")
    # The top VQ level: the last level whose file has no lattice layer.
    VQ=0
    L=1
    while [ "$L" -le "$LEVELS" ]; do
        "$BUILD"/aeenc -q "$L" "$img" "$T/q$L.aec" || { fail=1; break; }
        "$BUILD"/aeinfo "$T/q$L.aec" | grep -q '^lattice:' || VQ=$L
        L=$((L + 1))
    done
    [ "$fail" -eq 0 ] || continue
    "$BUILD"/aeinfo "$T/q$((VQ > 0 ? VQ : 1)).aec" >"$T/info"
    dims=$(sed -n 's/^size: *//p' "$T/info")
    cut=$(sed -n 's/^other bytes: *\([0-9]*\).*/\1/p' "$T/info")
    w=${dims%x*}
    h=${dims#*x}
    prev=0
    L=1
    while [ "$L" -le "$LEVELS" ]; do
        "$BUILD"/aedec "$T/q$L.aec" "$T/q.png" || fail=1
        size=$(wc -c <"$T/q$L.aec")
        out_dims=$("$BUILD"/tests/test_imageio --info "$T/q.png" 2>/dev/null | awk '{print $1"x"$2}')
        psnr=$("$BUILD"/aecompare "$img" "$T/q.png" | awk '{print $2}')
        bpp=$(awk "BEGIN{printf \"%.4f\", 8*$size/($w*$h)}")
        cutok="-"
        if [ "$L" -le "$VQ" ]; then
            # cut the top VQ level's file after stage L, compare with --stages L
            stage_bytes=$(awk -v l="$L" '$1==l && NF==4 {print $2}' "$T/info")
            cut=$((cut + stage_bytes))
            head -c "$cut" "$T/q$VQ.aec" >"$T/cut.aec"
            "$BUILD"/aedec "$T/cut.aec" "$T/cut.ppm" 2>/dev/null &&
                "$BUILD"/aedec --stages "$L" "$T/q$VQ.aec" "$T/ref.ppm" &&
                cmp -s "$T/cut.ppm" "$T/ref.ppm" && cutok=same || { cutok=DIFFERENT; fail=1; }
        elif [ "$L" -eq 2 ] || [ "$L" -eq 7 ]; then
            # cut after each layer l but the last, compare with --stages l
            "$BUILD"/aeinfo "$T/q$L.aec" >"$T/linfo"
            lcut=$(sed -n 's/^other bytes: *\([0-9]*\).*/\1/p' "$T/linfo")
            sed -n 's/^  layer \([0-9]*\): .*, \([0-9]*\) bytes,.*/\1 \2/p' "$T/linfo" >"$T/layers"
            nl=$(wc -l <"$T/layers")
            cutok=layers-same
            while read -r l lbytes; do
                [ "$l" -lt "$nl" ] || break
                lcut=$((lcut + lbytes))
                head -c "$lcut" "$T/q$L.aec" >"$T/cut.aec"
                "$BUILD"/aedec "$T/cut.aec" "$T/cut.ppm" 2>/dev/null &&
                    "$BUILD"/aedec --stages "$l" "$T/q$L.aec" "$T/ref.ppm" &&
                    cmp -s "$T/cut.ppm" "$T/ref.ppm" || { cutok=DIFFERENT; fail=1; }
            done <"$T/layers"
        fi
        mono=$(awk "BEGIN{print ($psnr > $prev - 0.01) ? \"\" : \"  PSNR FELL\"}")
        [ -z "$mono" ] || fail=1
        case "$out_dims" in "$dims"*) ;; *) [ -z "$out_dims" ] || { mono="$mono SIZE $out_dims"; fail=1; } ;; esac
        printf '%-14s %3d %9d %8s %8s  %s%s\n' "$name" "$L" "$size" "$bpp" "$psnr" "$cutok" "$mono"
        prev=$psnr
        L=$((L + 1))
    done
done
[ "$fail" -eq 0 ] && echo "check-levels: all levels decode, PSNR rises with the level, cut files decode" ||
    echo "check-levels: FAILED"
exit "$fail"
