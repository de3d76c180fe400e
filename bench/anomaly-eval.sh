#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# anomaly-eval.sh - scores the planted defects of bench/anomaly-defects.sh
# (README, "The auto-encoder's other uses").
#
#   sh bench/anomaly-eval.sh BUILD DEFECTS_DIR [LEVELS]
#
# For each level (default "2 4") and each kind of defect (noise, text,
# paste) prints one line: the ROC AUC of `aeanomaly --level L --eval
# DEFECTS_DIR/clean DEFECTS_DIR/KIND` and how many of the defective
# pictures have their map's brightest 8x8 block (`aeanomaly --map`, the
# first in raster order where several tie) overlapping the defect's box
# (DEFECTS_DIR/defects.txt).  Needs /usr/bin/python3 with numpy and Pillow.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BUILD DEFECTS_DIR [LEVELS]" >&2; exit 2; }
B=$1 D=$2 LEVELS=${3:-2 4}
[ -f "$D/defects.txt" ] || { echo "$0: $D/defects.txt: not found (run bench/anomaly-defects.sh)" >&2; exit 1; }
MAPS=$(mktemp -d)
trap 'rm -rf "$MAPS"' EXIT INT TERM
for level in $LEVELS; do
    for kind in noise text paste; do
        auc=$("$B/aeanomaly" --level "$level" --eval "$D/clean" "$D/$kind" |
              awk '$1 == "auc" {print $2}')
        hits=0 total=0
        while read -r file x y w h; do
            case $file in "$kind"/*) ;; *) continue ;; esac
            "$B/aeanomaly" --level "$level" --map "$MAPS/map.png" "$D/$file" > /dev/null
            total=$((total + 1))
            if /usr/bin/python3 - "$MAPS/map.png" "$x" "$y" "$w" "$h" <<'EOF'
import sys
import numpy as np
from PIL import Image
m = np.asarray(Image.open(sys.argv[1]).convert('L'), dtype=np.int32)
x, y, w, h = (int(v) for v in sys.argv[2:6])
blocks = m[::8, ::8]  # the map is constant over each 8x8 block
by, bx = np.unravel_index(int(np.argmax(blocks)), blocks.shape)
px, py = 8 * bx, 8 * by
sys.exit(0 if px < x + w and x < px + 8 and py < y + h and y < py + 8 else 1)
EOF
            then hits=$((hits + 1)); fi
        done < "$D/defects.txt"
        echo "level $level $kind: auc $auc, brightest on the defect $hits of $total"
    done
done
