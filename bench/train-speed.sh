#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench/train-speed.sh [BUILD] [THREADS] [ROUNDS] - training speed: aetrain's
# crops/s on aecodec-high-v2's shape (batch 16 of 128x128, lattice crops,
# started from models/high.aem so no initialisation is timed) and, when
# /usr/bin/python3 has torch, the PyTorch twin's (../shared/peers/
# twin_train.py) on the same shape and threads, alternating, ROUNDS rounds
# (default 3), medians; TWIN_TRAIN=PATH names another copy of the twin.
# The training photographs are random noise (speed only), made in a
# temporary folder.
BUILD=${1:-build}
TH=${2:-2}
ROUNDS=${3:-3}
TWIN=${TWIN_TRAIN:-../shared/peers/twin_train.py}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT INT TERM HUP
mkdir "$tmp/train"
for i in 1 2 3 4; do
    { printf 'P6\n256 256\n255\n'; head -c 196608 /dev/urandom; } > "$tmp/train/img$i.ppm"
done
ours() { # crops/s of the last progress line (steps 9-24, after 8 warm-up steps)
    "$BUILD/aetrain" --train "$tmp/train" --out "$tmp/m.aem" --init models/high.aem \
        --fine 1 --steps 24 --log-every 8 --ckpt-every 100000 --valid-every 100000 -t "$TH" \
        2>&1 | sed -n 's/.*| \([0-9.]*\) crops\/s.*/\1/p' | tail -1
}
twin() {
    /usr/bin/python3 "$TWIN" "$TH" 2>/dev/null | sed -n 's/.*: \([0-9.]*\) crops\/s.*/\1/p' | tail -1
}
have_twin=0
[ -f "$TWIN" ] && /usr/bin/python3 -c 'import torch' 2>/dev/null && have_twin=1
median() { sort -n | awk '{ v[NR] = $1 } END { if (NR) printf "%.1f", v[int((NR + 1) / 2)]; else printf "n/a" }'; }
r=0
while [ $r -lt "$ROUNDS" ]; do
    ours >> "$tmp/ours"
    [ $have_twin = 1 ] && twin >> "$tmp/twin"
    r=$((r + 1))
done
echo "training speed, aecodec-high-v2's shape, batch 16 x 128x128, $TH threads, median of $ROUNDS rounds:"
echo "  aetrain           $(median < "$tmp/ours") crops/s   (rounds: $(tr '\n' ' ' < "$tmp/ours"))"
if [ $have_twin = 1 ]; then
    echo "  PyTorch twin      $(median < "$tmp/twin") crops/s   (rounds: $(tr '\n' ' ' < "$tmp/twin"))"
else
    echo "  PyTorch twin      not run (needs $TWIN and /usr/bin/python3 with torch)"
fi
