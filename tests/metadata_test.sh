#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# metadata_test.sh - aeenc and aedec keep a photo's ICC profile and EXIF and
# turn it upright by its EXIF orientation: a JPEG made by test_metadata
# (48x32, orientation 6 = turned 90 degrees clockwise, a 300-byte profile)
# codes to a 32x48 file whose metadata stream holds both, and decodes to a
# PNG with iCCP and eXIf; --strip drops them on either side.
# Usage: sh tests/metadata_test.sh BUILD.  Prints "ok NAME" / "FAIL NAME".
BUILD=${1:-build}
M=$BUILD/tests/test_metadata
I=$BUILD/tests/test_imageio
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_metadata.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
result() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1"; failed=1; fi; }

"$M" --make-jpeg "$tmp/in.jpg" 48 32 6 && [ "$("$M" --show "$tmp/in.jpg")" = "icc 300 exif 38 orientation 1" ]
result metadata_reader_applies_orientation $?

"$BUILD/aeenc" -t 1 -q 3 -v "$tmp/in.jpg" "$tmp/x.aec" 2>"$tmp/enc.err" &&
    grep -q 'EXIF orientation 6 applied' "$tmp/enc.err" &&
    [ "$("$M" --show "$tmp/x.aec")" = "icc 300 exif 38 orientation 1" ]
result metadata_aeenc_keeps_profile_and_exif $?

"$BUILD/aedec" -t 1 "$tmp/x.aec" "$tmp/y.png" && [ "$("$I" --info "$tmp/y.png")" = "32 48 3" ] &&
    [ "$("$M" --show "$tmp/y.png")" = "icc 300 exif 38 orientation 1" ]
result metadata_aedec_writes_png_upright $?

"$BUILD/aedec" -t 1 --strip "$tmp/x.aec" "$tmp/s.png" &&
    [ "$("$M" --show "$tmp/s.png")" = "icc 0 exif 0 orientation 0" ] &&
    cmp -s "$tmp/s.png" "$tmp/y.png"; [ $? -eq 1 ]
result metadata_aedec_strip $?

"$BUILD/aeenc" -t 1 -q 3 --strip "$tmp/in.jpg" "$tmp/s.aec" &&
    [ "$("$M" --show "$tmp/s.aec")" = "icc 0 exif 0 orientation 0" ] &&
    [ $(wc -c <"$tmp/s.aec") -lt $(wc -c <"$tmp/x.aec") ]
result metadata_aeenc_strip $?

"$BUILD/aedec" -t 1 "$tmp/x.aec" "$tmp/y.ppm" 2>"$tmp/ppm.err" &&
    grep -q 'ICC profile / EXIF not written' "$tmp/ppm.err"
result metadata_ppm_output_warns $?
exit $failed
