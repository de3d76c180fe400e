# SPDX-License-Identifier: BSD-3-Clause
"""aecodec: encode and decode aecodec images from Python, over libcodec.so
with ctypes (nothing compiled).

    import aecodec
    data = aecodec.encode(array, quality=7)      # numpy uint8 [H, W] / [H, W, 1..4]
    array = aecodec.decode(data)                  # [H, W] grey, else [H, W, C]
    info = aecodec.read_info(data)                # width, height, channels, ...

The library is found through $AECODEC_LIBRARY, then beside a source tree's
build/ folder, then the system's linker path (libcodec.so.N or libcodec.so).
Errors raise aecodec.Error with the library's message.
"""
import ctypes
import ctypes.util
import os

__all__ = ["Error", "encode", "decode", "encode_bytes", "decode_bytes", "read_info", "version"]


class Error(Exception):
    """An aecodec call failed; the message is the library's."""


def _load():
    names = []
    if os.environ.get("AECODEC_LIBRARY"):
        names.append(os.environ["AECODEC_LIBRARY"])
    here = os.path.dirname(os.path.abspath(__file__))
    names.append(os.path.join(here, "..", "..", "build", "libcodec.so"))
    found = ctypes.util.find_library("codec")
    names += [found] if found else []
    names += ["libcodec.so.0", "libcodec.so"]
    for name in names:
        if os.sep in name and not os.path.exists(name):
            continue
        try:
            return ctypes.CDLL(name)
        except OSError:
            continue
    raise ImportError("aecodec: libcodec.so not found (set AECODEC_LIBRARY to its path)")


_lib = _load()
_c = ctypes
_u8p = _c.POINTER(_c.c_uint8)


# The parameter structures grow at their end as the library gains options,
# and aec_*_params_default writes the whole of the library's: the
# _reserved tail keeps a newer library's fields inside this memory.
class _EncodeParams(_c.Structure):
    _fields_ = [("quality", _c.c_int), ("threads", _c.c_int), ("tile_size", _c.c_int),
                ("lambda_", _c.c_float), ("lattice_step", _c.c_float),
                ("quality_fine", _c.c_float), ("target_size", _c.c_uint64),
                ("target_psnr", _c.c_float),
                ("icc", _c.c_void_p), ("icc_size", _c.c_size_t),
                ("exif", _c.c_void_p), ("exif_size", _c.c_size_t),
                ("denoise", _c.c_int), ("lattice_only", _c.c_int),
                ("half_size", _c.c_int), ("residual_step", _c.c_int),
                ("filter", _c.c_int), ("effort", _c.c_int), ("_reserved", _c.c_uint8 * 256)]


class _DecodeParams(_c.Structure):
    _fields_ = [("stages", _c.c_int), ("x", _c.c_uint32), ("y", _c.c_uint32),
                ("w", _c.c_uint32), ("h", _c.c_uint32), ("layout", _c.c_int),
                ("scale", _c.c_int), ("partial", _c.c_int), ("_reserved", _c.c_uint8 * 256)]


# output layouts by PIL-style mode name (None: the file's own)
_MODES = {None: 0, "L": 1, "LA": 2, "RGB": 3, "RGBA": 4}


class _Metadata(_c.Structure):
    _fields_ = [("icc", _u8p), ("icc_size", _c.c_size_t), ("exif", _u8p),
                ("exif_size", _c.c_size_t)]


class _Info(_c.Structure):
    _fields_ = [("width", _c.c_uint32), ("height", _c.c_uint32), ("layout", _c.c_int),
                ("stages_coded", _c.c_int), ("stages_available", _c.c_int),
                ("tile_size", _c.c_uint32), ("tiles_x", _c.c_uint32), ("tiles_y", _c.c_uint32),
                ("model_id", _c.c_uint64), ("stage_bytes", _c.c_uint64 * 16),
                ("alpha_bytes", _c.c_uint64), ("lattice_step", _c.c_float),
                ("lattice_available", _c.c_int), ("lattice_bytes", _c.c_uint64),
                ("file_size", _c.c_uint64), ("lattice_layers", _c.c_int),
                ("lattice_layers_available", _c.c_int), ("layer_bytes", _c.c_uint64 * 6),
                ("layer_channels", (_c.c_uint32 * 2) * 6), ("half_size", _c.c_int),
                ("residual", _c.c_int), ("residual_available", _c.c_int),
                ("residual_bytes", _c.c_uint64), ("filter_classes", _c.c_int),
                ("filter_available", _c.c_int), ("filter_bytes", _c.c_uint64),
                # aec_read_info clears the whole of the library's aec_info,
                # which grows at its end: room for a newer library's fields
                ("_reserved", _c.c_uint8 * 256)]


def _sig(name, res, *args):
    f = getattr(_lib, name)
    f.restype, f.argtypes = res, list(args)
    return f


_vp = _c.c_void_p
_version = _sig("aec_version_string", _c.c_char_p)
_status_string = _sig("aec_status_string", _c.c_char_p, _c.c_int)
_free = _sig("aec_free", None, _vp)
_read_info = _sig("aec_read_info", _c.c_int, _c.c_char_p, _c.c_size_t, _c.POINTER(_Info))
_read_metadata = _sig("aec_read_metadata", _c.c_int, _c.c_char_p, _c.c_size_t,
                      _c.POINTER(_Metadata))
_enc_create = _sig("aec_encoder_create", _c.c_int, _c.POINTER(_vp), _vp)
_enc_destroy = _sig("aec_encoder_destroy", None, _vp)
_enc_levels = _sig("aec_encoder_levels", _c.c_int, _vp)
_enc_defaults = _sig("aec_encode_params_default", None, _c.POINTER(_EncodeParams))
_enc_error = _sig("aec_encoder_last_error", _c.c_char_p, _vp)
_encode = _sig("aec_encode", _c.c_int, _vp, _c.c_char_p, _c.c_uint32, _c.c_uint32, _c.c_size_t,
               _c.c_int, _c.POINTER(_EncodeParams), _c.POINTER(_u8p), _c.POINTER(_c.c_size_t))
_dec_create = _sig("aec_decoder_create", _c.c_int, _c.POINTER(_vp), _vp)
_dec_destroy = _sig("aec_decoder_destroy", None, _vp)
_dec_threads = _sig("aec_decoder_set_threads", None, _vp, _c.c_int)
_dec_defaults = _sig("aec_decode_params_default", None, _c.POINTER(_DecodeParams))
_dec_error = _sig("aec_decoder_last_error", _c.c_char_p, _vp)
_decode = _sig("aec_decode", _c.c_int, _vp, _c.c_char_p, _c.c_size_t, _c.POINTER(_DecodeParams),
               _c.POINTER(_u8p), _c.POINTER(_c.c_uint32), _c.POINTER(_c.c_uint32),
               _c.POINTER(_c.c_int))


def _fail(status, detail=None):
    msg = _status_string(status).decode()
    if detail:
        msg += ": " + detail.decode(errors="replace")
    raise Error(msg)


def version():
    """The library's version string."""
    return _version().decode()


def read_info(data):
    """The header of an aecodec file (bytes) as a dict; no model needed."""
    data = bytes(data)
    info = _Info()
    st = _read_info(data, len(data), _c.byref(info))
    if st:
        _fail(st)
    return {"width": info.width, "height": info.height, "channels": info.layout,
            "stages_coded": info.stages_coded, "stages_available": info.stages_available,
            "tile_size": info.tile_size, "model_id": info.model_id,
            "lattice_step": info.lattice_step, "file_size": info.file_size,
            "lattice_layers": info.lattice_layers,
            "lattice_layers_available": info.lattice_layers_available,
            "layer_bytes": list(info.layer_bytes)[:max(info.lattice_layers, 0)],
            "layer_channels": [tuple(c) for c in info.layer_channels][:max(info.lattice_layers, 0)],
            "half_size": bool(info.half_size), "residual": bool(info.residual),
            "residual_available": bool(info.residual_available),
            "residual_bytes": info.residual_bytes, "filter_classes": info.filter_classes,
            "filter_available": bool(info.filter_available), "filter_bytes": info.filter_bytes}


def read_metadata(data):
    """The file's colour profile and EXIF: {"icc_profile": bytes or None,
    "exif": bytes or None} (EXIF from its TIFF header on)."""
    data = bytes(data)
    md = _Metadata()
    st = _read_metadata(data, len(data), _c.byref(md))
    if st:
        _fail(st)
    return {"icc_profile": _c.string_at(md.icc, md.icc_size) if md.icc_size else None,
            "exif": _c.string_at(md.exif, md.exif_size) if md.exif_size else None}


def encode_bytes(pixels, width, height, channels, quality=7, threads=0, icc_profile=None,
                 exif=None, half_size=None, residual=None, filter=None, effort=0):
    """Encode tightly packed 8-bit pixels (bytes of height*width*channels;
    channels 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA) at a quality level; the file's bytes.
    icc_profile and exif (bytes, EXIF from its TIFF header on) are stored in the file.
    half_size: None (the level's: 1..5), True or False; residual: None (the
    level's pixel residual layer: 8..14), False (none) or a step of 8..255;
    filter: None (the restoration filter where it pays), True (wherever it
    gains) or False (none); effort: 0 (default) .. 3, the latents refined
    through the decoder (slower, slightly better files)."""
    pixels = bytes(pixels)
    icc_profile = bytes(icc_profile) if icc_profile else None
    exif = bytes(exif) if exif else None
    if channels not in (1, 2, 3, 4) or len(pixels) != width * height * channels:
        raise ValueError("aecodec: pixels must be width*height*channels bytes, channels 1..4")
    enc = _vp()
    st = _enc_create(_c.byref(enc), None)
    if st:
        _fail(st)
    try:
        if not 1 <= quality <= _enc_levels(enc):
            raise ValueError("aecodec: quality must be 1..%d" % _enc_levels(enc))
        p = _EncodeParams()
        _enc_defaults(_c.byref(p))
        p.quality, p.threads = int(quality), int(threads)
        if half_size is not None:
            p.half_size = 1 if half_size else -1
        if residual is not None:
            p.residual_step = -1 if residual is False else int(residual)
        if filter is not None:
            p.filter = 1 if filter else -1
        p.effort = int(effort)
        if icc_profile:  # the bytes objects stay alive until aec_encode returns
            p.icc, p.icc_size = _c.cast(_c.c_char_p(icc_profile), _c.c_void_p), len(icc_profile)
        if exif:
            p.exif, p.exif_size = _c.cast(_c.c_char_p(exif), _c.c_void_p), len(exif)
        out, size = _u8p(), _c.c_size_t()
        st = _encode(enc, pixels, width, height, 0, channels, _c.byref(p), _c.byref(out),
                     _c.byref(size))
        if st:
            _fail(st, _enc_error(enc))
        try:
            return _c.string_at(out, size.value)
        finally:
            _free(out)
    finally:
        _enc_destroy(enc)


def decode_bytes(data, stages=0, threads=0, scale=1, mode=None, partial=False):
    """Decode an aecodec file: (pixels, width, height, channels), pixels
    tightly packed bytes in the file's own layout, or in `mode` ("L", "LA",
    "RGB", "RGBA": grey widened, alpha 255 added or dropped).  scale 2, 4
    or 8: reduced to ceil(w/scale) x ceil(h/scale), each pixel the mean of
    its box (thumbnails).  partial: data may be the start of a file still
    arriving (a preview from the complete streams it holds)."""
    data = bytes(data)
    if mode not in _MODES:
        raise ValueError("aecodec: mode must be one of L, LA, RGB, RGBA or None")
    if scale not in (1, 2, 4, 8):
        raise ValueError("aecodec: scale must be 1, 2, 4 or 8")
    dec = _vp()
    st = _dec_create(_c.byref(dec), None)
    if st:
        _fail(st)
    try:
        if threads:
            _dec_threads(dec, int(threads))
        p = _DecodeParams()
        _dec_defaults(_c.byref(p))
        p.stages, p.layout, p.scale, p.partial = int(stages), _MODES[mode], int(scale), int(bool(partial))
        out, w, h, layout = _u8p(), _c.c_uint32(), _c.c_uint32(), _c.c_int()
        st = _decode(dec, data, len(data), _c.byref(p), _c.byref(out), _c.byref(w), _c.byref(h),
                     _c.byref(layout))
        if st:
            _fail(st, _dec_error(dec))
        try:
            return _c.string_at(out, w.value * h.value * layout.value), w.value, h.value, layout.value
        finally:
            _free(out)
    finally:
        _dec_destroy(dec)


def encode(array, quality=7, threads=0, half_size=None, residual=None, filter=None, effort=0):
    """Encode a numpy uint8 array of shape [H, W] or [H, W, C] (C 1..4)
    (half_size, residual, filter and effort as encode_bytes)."""
    import numpy as np
    a = np.ascontiguousarray(array)
    if a.dtype != np.uint8:
        raise ValueError("aecodec: the array must be uint8, not %s" % a.dtype)
    if a.ndim == 2:
        a = a[:, :, None]
    if a.ndim != 3:
        raise ValueError("aecodec: the array must be [H, W] or [H, W, C]")
    return encode_bytes(a.tobytes(), a.shape[1], a.shape[0], a.shape[2], quality, threads,
                        half_size=half_size, residual=residual, filter=filter,
                        effort=effort)


def decode(data, stages=0, threads=0, scale=1, mode=None, partial=False):
    """Decode to a numpy uint8 array: [H, W] for grey output, else [H, W, C]
    (arguments as decode_bytes)."""
    import numpy as np
    pix, w, h, c = decode_bytes(data, stages, threads, scale, mode, partial)
    a = np.frombuffer(pix, dtype=np.uint8).reshape(h, w, c)
    return a[:, :, 0] if c == 1 else a
