# SPDX-License-Identifier: BSD-3-Clause
"""Pillow plugin: `import aecodec.pillow` registers the AEC format, so that
Image.open("x.aec") decodes an aecodec file and img.save("x.aec",
quality=7) (or format="AEC") encodes one.  Modes: L, LA, RGB, RGBA (others
are converted to RGB or RGBA before coding)."""
from PIL import Image, ImageFile

from . import Error, decode_bytes, encode_bytes, read_info

MAGIC = b"\x8bAEC"
_MODES = {1: "L", 2: "LA", 3: "RGB", 4: "RGBA"}
_CHANNELS = {m: c for c, m in _MODES.items()}


def _accept(prefix):
    return prefix[:4] == MAGIC


class AecImageFile(ImageFile.ImageFile):
    format = "AEC"
    format_description = "aecodec learned image codec"

    def _open(self):
        # the whole file: the decoder needs its stream table and CRCs
        self._aec_data = self.fp.read()
        try:
            info = read_info(self._aec_data)
        except Error as e:
            raise SyntaxError("not a valid aecodec file: %s" % e) from None
        mode = _MODES[info["channels"]]
        if isinstance(getattr(type(self), "mode", None), property):
            self._mode = mode  # Pillow >= 10.1: mode is read-only
        else:
            self.mode = mode
        self._size = (info["width"], info["height"])
        self.tile = []

    def load(self):
        if self._aec_data is not None:
            try:
                pix, w, h, c = decode_bytes(self._aec_data)
            except Error as e:
                raise OSError("aecodec: cannot decode: %s" % e) from None
            self.im = Image.core.new(self.mode, self.size)
            self.frombytes(pix)
            self._aec_data = None
        return Image.Image.load(self)


def _save(im, fp, filename):
    quality = im.encoderinfo.get("quality", 7)
    if im.mode not in _CHANNELS:
        im = im.convert("RGBA" if "A" in im.mode or "transparency" in im.info else "RGB")
    fp.write(encode_bytes(im.tobytes(), im.width, im.height, _CHANNELS[im.mode], quality))


Image.register_open(AecImageFile.format, AecImageFile, _accept)
Image.register_save(AecImageFile.format, _save)
Image.register_extensions(AecImageFile.format, [".aec", ".ae"])
Image.register_mime(AecImageFile.format, "image/x-aecodec")
