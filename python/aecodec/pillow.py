# SPDX-License-Identifier: BSD-3-Clause
"""Pillow plugin: `import aecodec.pillow` registers the AEC format, so that
Image.open("x.aec") decodes an aecodec file and img.save("x.aec",
quality=7) (or format="AEC") encodes one.  Modes: L, LA, RGB, RGBA (others
are converted to RGB or RGBA before coding).  img.draft(mode, size), which
img.thumbnail() calls, makes the library decode at 1/2, 1/4 or 1/8 (the
largest reduction still at least `size`) and in any of those modes."""
from PIL import Image, ImageFile

from . import Error, decode_bytes, encode_bytes, read_info, read_metadata

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
        md = read_metadata(self._aec_data)
        if md["icc_profile"]:
            self.info["icc_profile"] = md["icc_profile"]
        if md["exif"]:  # as Pillow's JPEG and PNG readers keep it
            self.info["exif"] = b"Exif\x00\x00" + md["exif"]
        self._set_mode(_MODES[info["channels"]])  # Pillow >= 10.1: mode is read-only
        self._size = (info["width"], info["height"])
        self._aec_scale, self._aec_mode = 1, None
        self.tile = []

    def _set_mode(self, mode):
        if isinstance(getattr(type(self), "mode", None), property):
            self._mode = mode
        else:
            self.mode = mode

    def draft(self, mode, size):
        """Decode reduced (the library's box average) and/or in another mode."""
        if self._aec_data is None or self._aec_scale != 1:
            return None
        w, h = self.size
        if mode in _CHANNELS and mode != self.mode:
            self._aec_mode = mode
            self._set_mode(mode)
        scale = 1
        if size:
            for s in (8, 4, 2):
                if -(-w // s) >= size[0] and -(-h // s) >= size[1]:
                    scale = s
                    break
        self._aec_scale = scale
        self._size = (-(-w // scale), -(-h // scale))
        return self.mode, (0, 0, w / scale, h / scale)

    def load(self):
        if self._aec_data is not None:
            try:
                pix, w, h, c = decode_bytes(self._aec_data, scale=self._aec_scale,
                                            mode=self._aec_mode)
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
    icc = im.encoderinfo.get("icc_profile", im.info.get("icc_profile"))
    exif = im.encoderinfo.get("exif", im.info.get("exif"))
    if isinstance(exif, Image.Exif):
        exif = exif.tobytes()
    if exif and exif.startswith(b"Exif\x00\x00"):
        exif = exif[6:]
    fp.write(encode_bytes(im.tobytes(), im.width, im.height, _CHANNELS[im.mode], quality,
                          icc_profile=icc, exif=exif))


Image.register_open(AecImageFile.format, AecImageFile, _accept)
Image.register_save(AecImageFile.format, _save)
Image.register_extensions(AecImageFile.format, [".aec", ".ae"])
Image.register_mime(AecImageFile.format, "image/x-aecodec")
