#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# denoise-check.sh - what `aeenc --denoise` buys on noisy photographs.
#
#   sh bench/denoise-check.sh BUILD PHOTO_DIR [LEVELS] [SIGMAS] [SIZE]
#
# For each photograph of PHOTO_DIR (its centre, SIZE x SIZE when SIZE is
# given) and each sigma of SIGMAS (default "0 5 10 20", on 0..255), adds
# seeded Gaussian noise (clipped, rounded to 8 bits), codes the noisy
# picture at each level of LEVELS (default "6 7": full-size levels) with and without
# --denoise, and compares each decoded picture with the CLEAN original.
# Prints one markdown row per sigma: the noisy input's PSNR against the
# clean picture, then per level the plain and the --denoise PSNR (dB,
# mean over the photographs) and rate (bits per pixel over all of them).
# Needs /usr/bin/python3 with numpy and Pillow for the noise.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BUILD PHOTO_DIR [LEVELS] [SIGMAS] [SIZE]" >&2; exit 2; }
B=$1 SRC=$2 LEVELS=${3:-6 7} SIGMAS=${4:-0 5 10 20} SIZE=${5:-0}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
psnr() { "$B/aecompare" "$1" "$2" | awk '{print $2}'; }
header="| sigma | noisy input |"
rule="|---|---|"
for L in $LEVELS; do
    header="$header level $L | level $L --denoise |"
    rule="$rule---|---|"
done
echo "$header"
echo "$rule"
for s in $SIGMAS; do
    /usr/bin/python3 - "$SRC" "$T" "$s" "$SIZE" <<'EOF'
import os, sys
import numpy as np
from PIL import Image
src, out, sigma, size = sys.argv[1], sys.argv[2], float(sys.argv[3]), int(sys.argv[4])
rng = np.random.default_rng(1234)
for n in sorted(f for f in os.listdir(src) if not f.startswith('.')):
    im = Image.open(os.path.join(src, n)).convert('RGB')
    if size:
        w, h = im.size
        x, y = max(0, (w - size) // 2), max(0, (h - size) // 2)
        im = im.crop((x, y, min(w, x + size), min(h, y + size)))
    b = os.path.splitext(n)[0]
    im.save(os.path.join(out, b + '.clean.png'))
    with open(os.path.join(out, b + '.pixels'), 'w') as f:
        f.write('%d\n' % (im.size[0] * im.size[1]))
    a = np.asarray(im, dtype=np.float64) + rng.normal(0, sigma, (im.size[1], im.size[0], 3))
    Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8)).save(
        os.path.join(out, b + '.noisy.png'))
EOF
    row="| $s |"
    noisy=$(for c in "$T"/*.clean.png; do psnr "$c" "${c%.clean.png}.noisy.png"; done |
            awk '{t += $1; n++} END {printf "%.2f", t / n}')
    row="$row $noisy dB |"
    for L in $LEVELS; do
        for d in "" --denoise; do
            cell=$(for c in "$T"/*.clean.png; do
                       n=${c%.clean.png}
                       "$B/aeenc" -q "$L" $d "$n.noisy.png" "$n.aec"
                       "$B/aedec" "$n.aec" "$n.out.png"
                       echo "$(psnr "$c" "$n.out.png") $(wc -c < "$n.aec") $(cat "$n.pixels")"
                   done | awk '{p += $1; bytes += $2; px += $3; n++}
                               END {printf "%.2f dB, %.3f bpp", p / n, 8 * bytes / px}')
            row="$row $cell |"
        done
    done
    echo "$row"
done
