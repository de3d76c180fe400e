#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# anomaly-defects.sh - planted defects for aeanomaly's worked case (README,
# "The auto-encoder's other uses").
#
#   sh bench/anomaly-defects.sh SRC_DIR OUT_DIR [SIZE]
#
# For each photograph of SRC_DIR, in name order, writes OUT_DIR/clean/NAME.png
# (its centre, SIZE x SIZE, default 512) and three copies with one defect
# each: OUT_DIR/noise/NAME.png (a 64x64 square of Gaussian noise, sigma
# 30), OUT_DIR/text/NAME.png (a line of black-outlined white text) and
# OUT_DIR/paste/NAME.png (a 96x96 piece of the next photograph pasted in),
# so that `aeanomaly --eval OUT_DIR/clean OUT_DIR/text` scores one kind.  The
# defect's place comes from a seeded generator; OUT_DIR/defects.txt lists
# each file with its defect's box "x y w h".  Needs /usr/bin/python3 with
# numpy and Pillow, and the DejaVu fonts.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 SRC_DIR OUT_DIR [SIZE]" >&2; exit 2; }
mkdir -p "$2/clean" "$2/noise" "$2/text" "$2/paste"
exec /usr/bin/python3 - "$1" "$2" "${3:-512}" <<'EOF'
import os, sys
import numpy as np
from PIL import Image, ImageDraw, ImageFont

src, out, size = sys.argv[1], sys.argv[2], int(sys.argv[3])
names = sorted(n for n in os.listdir(src) if not n.startswith('.'))
font = ImageFont.truetype('/usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf', 28)
rng = np.random.default_rng(17)

def centre(path):
    im = Image.open(path).convert('RGB')
    w, h = im.size
    s = min(size, w, h)
    x, y = (w - s) // 2, (h - s) // 2
    return im.crop((x, y, x + s, y + s))

crops = [centre(os.path.join(src, n)) for n in names]
boxes = []
for i, (n, im) in enumerate(zip(names, crops)):
    base = os.path.splitext(n)[0]
    im.save(os.path.join(out, 'clean', base + '.png'))
    s = im.size[0]
    # noise square
    x, y = (int(v) for v in rng.integers(0, s - 64, 2))
    a = np.asarray(im, dtype=np.float64).copy()
    a[y:y + 64, x:x + 64] += rng.normal(0, 30, (64, 64, 3))
    Image.fromarray(np.clip(np.rint(a), 0, 255).astype(np.uint8)).save(
        os.path.join(out, 'noise', base + '.png'))
    boxes.append(('noise/' + base + '.png', x, y, 64, 64))
    # text
    t = im.copy()
    d = ImageDraw.Draw(t)
    text = 'SAMPLE 0451'
    l, tp, r, b = d.textbbox((0, 0), text, font=font, stroke_width=2)
    x = int(rng.integers(0, s - (r - l)))
    y = int(rng.integers(0, s - (b - tp)))
    d.text((x - l, y - tp), text, font=font, fill=(255, 255, 255), stroke_width=2,
           stroke_fill=(0, 0, 0))
    t.save(os.path.join(out, 'text', base + '.png'))
    boxes.append(('text/' + base + '.png', x, y, r - l, b - tp))
    # a piece of the next photograph
    other = crops[(i + 1) % len(crops)]
    sx, sy = (int(v) for v in rng.integers(0, other.size[0] - 96, 2))
    x, y = (int(v) for v in rng.integers(0, s - 96, 2))
    p = im.copy()
    p.paste(other.crop((sx, sy, sx + 96, sy + 96)), (x, y))
    p.save(os.path.join(out, 'paste', base + '.png'))
    boxes.append(('paste/' + base + '.png', x, y, 96, 96))
with open(os.path.join(out, 'defects.txt'), 'w') as f:
    for b in boxes:
        f.write('%s %d %d %d %d\n' % b)
EOF
