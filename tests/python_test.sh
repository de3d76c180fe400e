#!/bin/sh
# python_test.sh - the Python module (python/aecodec/, ctypes over
# BUILD/libcodec.so) and its Pillow plugin, with /usr/bin/python3: numpy
# round trips equal to aedec's pixels, Image.open / img.save, and bad input
# raising a clear error.  Skipped without python3-numpy / python3-pil, and
# for sanitizer builds (their libcodec.so cannot load into a plain python3).
# Usage: sh tests/python_test.sh BUILD.  Prints "ok NAME" / "FAIL NAME".
BUILD=${1:-build}
PY=/usr/bin/python3
case $BUILD in *asan*)
    echo "SKIP python_test: $BUILD is a sanitizer build"; exit 0 ;;
esac
if ! $PY -c 'import numpy' 2>/dev/null; then
    echo "SKIP python_test: python3-numpy not installed"; exit 0
fi
AECODEC_LIBRARY=$(cd "$BUILD" && pwd)/libcodec.so
PYTHONPATH=$(pwd)/python
export AECODEC_LIBRARY PYTHONPATH
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_py.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
result() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1"; failed=1; fi; }

# numpy: RGB and grey round trips; the file decodes in aedec to the same pixels
$PY - "$tmp" <<'PY'
import sys, numpy as np, aecodec
d = sys.argv[1]
y, x = np.mgrid[0:45, 0:67]
rgb = np.stack([x * 3, y * 5, (x + y) * 2], -1).astype(np.uint8)
data = aecodec.encode(rgb, quality=7, filter=False)  # layers last: cut below
back = aecodec.decode(data)
open(d + "/np.aec", "wb").write(data)
np.save(d + "/np.npy", back)
err = np.abs(back.astype(int) - rgb).mean()
info = aecodec.read_info(data)
ok = back.shape == rgb.shape and back.dtype == np.uint8 and err < 8 and info["width"] == 67
grey = aecodec.decode(aecodec.encode(rgb[:, :, 1], quality=9))
ok = ok and grey.shape == (45, 67) and np.abs(grey.astype(int) - rgb[:, :, 1]).mean() < 8
sys.exit(0 if ok else 1)
PY
result python_numpy_round_trip $?
"$BUILD/aedec" -t 1 "$tmp/np.aec" "$tmp/np.ppm" && $PY - "$tmp" <<'PY'
import sys, numpy as np
d = sys.argv[1]
raw = open(d + "/np.ppm", "rb").read()
ref = np.frombuffer(raw[len(raw) - 45 * 67 * 3:], np.uint8).reshape(45, 67, 3)
sys.exit(0 if (ref == np.load(d + "/np.npy")).all() else 1)
PY
result python_decode_equals_aedec $?

# mode= and scale= (the library's layout conversion and box-averaged
# thumbnail), partial= on a prefix
$PY - "$tmp" <<'PY'
import sys, numpy as np, aecodec
rgb = np.load(sys.argv[1] + "/np.npy")                 # the decode of np.aec, 45 x 67
data = open(sys.argv[1] + "/np.aec", "rb").read()
rgba = aecodec.decode(data, mode="RGBA")
ok = rgba.shape == (45, 67, 4) and (rgba[..., :3] == rgb).all() and (rgba[..., 3] == 255).all()
small = aecodec.decode(data, scale=4)
box = rgb[:4, :4].reshape(-1, 3).astype(int).sum(0)
ok = ok and small.shape == (12, 17, 3) and (small[0, 0] == (box + 8) // 16).all()
ok = ok and aecodec.decode(data, partial=True).shape == (45, 67, 3)
# a lattice file in layers: cut in layer 0, its tile is still missing (mid-grey);
# cut in the last layer, the tile decodes with the layers before
info = aecodec.read_info(data)
layers = info["layer_bytes"]
ok = ok and info["lattice_layers"] == len(layers) == 4 and info["lattice_layers_available"] == 4
ok = ok and info["layer_channels"] == [(0, 8), (8, 8), (16, 16), (32, 32)]
grey = aecodec.decode(data[:len(data) - sum(layers[1:]) - 1], partial=True)
ok = ok and (grey == 128).all()
three = aecodec.decode(data[:len(data) - 1], partial=True)
ok = ok and three.shape == rgb.shape and not (three == 128).all() and (three != rgb).any()
ok = ok and aecodec.read_info(data[:len(data) - 1])["lattice_layers_available"] == 3
sys.exit(0 if ok else 1)
PY
result python_mode_scale_partial $?

# half_size= and residual= reach the encoder, read_info reports both
$PY - <<'PY'
import sys, numpy as np, aecodec
y, x = np.mgrid[0:40, 0:56]
rgb = np.stack([x * 4, y * 6, (x * y) % 251], -1).astype(np.uint8)
top = aecodec.encode(rgb, quality=10)
bare = aecodec.encode(rgb, quality=10, residual=False)
fine = aecodec.encode(rgb, quality=10, residual=16)
i, j, k = aecodec.read_info(top), aecodec.read_info(bare), aecodec.read_info(fine)
ok = i["residual"] and i["residual_available"] and i["residual_bytes"] > 0
ok = ok and not j["residual"] and j["residual_bytes"] == 0 and len(bare) < len(top)
ok = ok and k["residual"] and k["residual_bytes"] >= i["residual_bytes"]
err = lambda d: np.abs(aecodec.decode(d).astype(int) - rgb).mean()
ok = ok and err(fine) <= err(top) < err(bare)
# filter= reaches the encoder: the restoration filter, or none
noisy = (rgb.astype(int) + np.random.RandomState(5).randint(-9, 10, rgb.shape)).clip(0, 255)
f = aecodec.read_info(aecodec.encode(noisy.astype(np.uint8), quality=7, filter=True))
g = aecodec.read_info(aecodec.encode(noisy.astype(np.uint8), quality=7, filter=False))
ok = ok and 1 <= f["filter_classes"] <= 8 and f["filter_bytes"] > 0 and f["filter_available"]
ok = ok and g["filter_classes"] == 0 and g["filter_bytes"] == 0
half = aecodec.read_info(aecodec.encode(rgb, quality=7, half_size=True))
full = aecodec.read_info(aecodec.encode(rgb, quality=2, half_size=False))
ok = ok and half["half_size"] and not full["half_size"] and not half["residual"]
# effort= reaches the encoder: the latents refined, a file that decodes
e0 = aecodec.encode(rgb, quality=7, filter=False)
e1 = aecodec.encode(rgb, quality=7, filter=False, effort=1)
ok = ok and e0 != e1 and aecodec.decode(e1).shape == rgb.shape
try:
    aecodec.encode(rgb, quality=7, effort=-1)
    ok = False
except aecodec.Error:
    pass
sys.exit(0 if ok else 1)
PY
result python_half_size_and_residual $?

$PY - "$tmp" <<'PY'
import sys, numpy as np, aecodec
def clear_error(f):
    try:
        f()
    except aecodec.Error as e:
        return len(str(e)) > 5
    return False
data = aecodec.encode(np.zeros((16, 16, 3), np.uint8), quality=3, filter=False)
ok = clear_error(lambda: aecodec.decode(data[:len(data) // 2]))
ok = ok and clear_error(lambda: aecodec.decode(np.random.RandomState(3).bytes(3000)))
ok = ok and clear_error(lambda: aecodec.decode(b"\x8bAEC" + np.random.RandomState(4).bytes(3000)))
try:
    aecodec.encode(np.zeros((4, 4, 3), np.float32))
    ok = False
except ValueError:
    pass
sys.exit(0 if ok else 1)
PY
result python_bad_input_raises $?

if ! $PY -c 'import PIL' 2>/dev/null; then
    echo "SKIP python_pillow: python3-pil not installed"
    exit $failed
fi
$PY - "$tmp" <<'PY'
import sys, numpy as np
from PIL import Image
import aecodec.pillow
d = sys.argv[1]
y, x = np.mgrid[0:50, 0:70]
src = Image.fromarray(np.stack([x * 3, y * 5, (x + y) * 2, 255 - x], -1).astype(np.uint8), "RGBA")
src.save(d + "/pil.aec", quality=7)
im = Image.open(d + "/pil.aec")
ok = im.format == "AEC" and im.mode == "RGBA" and im.size == (70, 50)
a = np.asarray(im.convert("RGBA")).astype(int)
s = np.asarray(src).astype(int)
ok = ok and np.abs(a[..., :3] - s[..., :3]).mean() < 8 and (a[..., 3] == s[..., 3]).all()
src.convert("L").save(d + "/pil.ae")       # by extension, default quality
ok = ok and Image.open(d + "/pil.ae").mode == "L"
sys.exit(0 if ok else 1)
PY
result python_pillow_open_save $?

# draft(): the library's reduced decode, in the asked mode; thumbnail() uses it
$PY - "$tmp" <<'PY'
import sys, numpy as np
from PIL import Image
import aecodec, aecodec.pillow
d = sys.argv[1]
im = Image.open(d + "/pil.aec")
im.draft("RGB", (17, 12))
ok = im.mode == "RGB" and im.size == (18, 13)
ref = aecodec.decode(open(d + "/pil.aec", "rb").read(), scale=4, mode="RGB")
ok = ok and (np.asarray(im) == ref).all()
th = Image.open(d + "/pil.aec")
th.thumbnail((20, 20))
ok = ok and th.size == (20, 14) and th.mode == "RGBA"
sys.exit(0 if ok else 1)
PY
result python_pillow_draft $?

head -c 100 "$tmp/pil.aec" >"$tmp/cut.aec"
head -c 3000 /dev/urandom >"$tmp/rand.aec"
{ printf '\213AEC'; head -c 3000 /dev/urandom; } >"$tmp/magic.aec"
$PY - "$tmp" <<'PY'
import sys
from PIL import Image
import aecodec.pillow
d = sys.argv[1]
ok = True
for name in ("cut.aec", "rand.aec", "magic.aec"):
    try:
        Image.open(d + "/" + name).load()
        ok = False
    except (OSError, SyntaxError) as e:      # UnidentifiedImageError is an OSError
        ok = ok and len(str(e)) > 5
sys.exit(0 if ok else 1)
PY
result python_pillow_bad_input_raises $?

# metadata: a JPEG's ICC profile and EXIF go through Pillow into the file
# and back into Image.info; read_metadata reads them from the bytes
"$BUILD/tests/test_metadata" --make-jpeg "$tmp/icc.jpg" 40 24 1
$PY - "$tmp" <<'PY'
import sys
from PIL import Image
import aecodec, aecodec.pillow
d = sys.argv[1]
src = Image.open(d + "/icc.jpg")
icc, exif = src.info["icc_profile"], src.info["exif"]
src.save(d + "/icc.aec", quality=3)
back = Image.open(d + "/icc.aec")
md = aecodec.read_metadata(open(d + "/icc.aec", "rb").read())
plain = aecodec.read_metadata(aecodec.encode_bytes(bytes(12), 2, 2, 3))
ok = (len(icc) == 300 and back.info.get("icc_profile") == icc and md["icc_profile"] == icc
      and back.info.get("exif") == exif and md["exif"] == exif[6:]
      and plain == {"icc_profile": None, "exif": None})
sys.exit(0 if ok else 1)
PY
result python_pillow_metadata $?
exit $failed
