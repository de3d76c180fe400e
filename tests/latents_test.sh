#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# latents_test.sh - aeenc --latents end to end: a .npy of float32
# [2][ceil(H/8)][ceil(W/8)][D] beside the coded file, read back by NumPy
# (/usr/bin/python3) when it is installed; refused with -o DIR.
# Usage: sh tests/latents_test.sh BUILD.  Prints "ok NAME" / "FAIL NAME".
BUILD=${1:-build}
ENC=$BUILD/aeenc
T=$BUILD/tests/test_imageio
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_lat.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
result() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1"; failed=1; fi; }

"$T" --make-sample "$tmp/in.ppm" 67 45 3
"$ENC" -t 1 --latents "$tmp/lat.npy" "$tmp/in.ppm" "$tmp/out.aec" 2>"$tmp/err"
rc=$?
# magic "\x93NUMPY" and version 1.0, then the header naming the shape
head -c 6 "$tmp/lat.npy" 2>/dev/null | tail -c 5 | grep -q NUMPY &&
    head -c 128 "$tmp/lat.npy" | grep -q "'shape': (2, 6, 9, 64)" && [ $rc -eq 0 ] &&
    [ -s "$tmp/out.aec" ]
result latents_cli_writes_npy $?

if /usr/bin/python3 -c 'import numpy' 2>/dev/null; then
    /usr/bin/python3 - "$tmp/lat.npy" <<'PY'
import sys, numpy as np
a = np.load(sys.argv[1])
ok = a.shape == (2, 6, 9, 64) and a.dtype == np.float32 and np.isfinite(a).all()
d = np.abs(a[0] - a[1]).max()
ok = ok and 0 < d < 1 and np.abs(a[0]).mean() > 1e-3   # quantised, but close
sys.exit(0 if ok else 1)
PY
    result latents_numpy_reads_back $?
else
    echo "ok latents_numpy_reads_back (skipped: no /usr/bin/python3 with numpy)"
fi

rm -f "$tmp/lat2.npy"
"$ENC" -t 1 --latents "$tmp/lat2.npy" -o "$tmp/dir" "$tmp/in.ppm" 2>"$tmp/err"
rc=$?
[ $rc -eq 2 ] && [ ! -e "$tmp/lat2.npy" ] && [ "$(wc -l <"$tmp/err")" -eq 1 ]
result latents_refused_with_output_dir $?
exit $failed
