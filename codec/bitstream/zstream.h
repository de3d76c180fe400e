/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zstream.h - the zstd frames of bitstream v1 (spec/bitstream.md, "Streams")
 * and the alpha plane's left-prediction filter.
 *
 * Every stream is exactly one zstd frame (RFC 8878) in the magicless format
 * (ZSTD_f_zstd1_magicless: the 4-byte magic number 0xFD2FB528 is omitted),
 * with Frame_Content_Size present, no Dictionary_ID and no content checksum
 * (the container's CRC-32 covers every stream).  When the file's flags bit 1
 * is set, the frames are compressed with the model's zstd dictionary.
 *
 * Internal to libcodec; everything is prefixed aecb_.
 */
#ifndef AECB_ZSTREAM_H
#define AECB_ZSTREAM_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "aecodec.h"

/* Compress src[0..n) into one frame at dst (capacity cap; cap >=
 * aecb_compress_bound(n) always suffices), *written bytes.  cctx may be NULL
 * (a temporary context is made) or a context to reuse (one per thread; its
 * parameters are reset on every call).  level is a zstd level (1..22; 0 =
 * zstd default 3); cdict NULL = no dictionary (the CDict's own level then
 * governs).  Errors: INVALID_ARGUMENT (NULL pointer, cap too small),
 * OUT_OF_MEMORY.  err may be NULL. */
aec_status aecb_zstd_compress_into(ZSTD_CCtx *cctx, void *dst, size_t cap, const void *src,
                                   size_t n, int level, const ZSTD_CDict *cdict,
                                   size_t *written, char *err, size_t errlen);

/* Same, into a malloc'ed buffer of exactly *out_size bytes (free with free). */
aec_status aecb_zstd_compress(ZSTD_CCtx *cctx, const void *src, size_t n, int level,
                              const ZSTD_CDict *cdict, uint8_t **out, size_t *out_size,
                              char *err, size_t errlen);

/* Decompress the single frame src[0..n) into dst, which must receive exactly
 * `expected` bytes.  AEC_ERR_CORRUPT (with a one-line reason) when the frame
 * is invalid, declares no content size or one other than `expected`,
 * declares a Dictionary_ID, decodes to another size, or is followed by
 * extra bytes.  dctx may be NULL (temporary) or reused (one per thread);
 * ddict NULL = no dictionary.  dst is written only within [0, expected). */
aec_status aecb_zstd_decompress(ZSTD_DCtx *dctx, const ZSTD_DDict *ddict, const void *src,
                                size_t n, void *dst, size_t expected, char *err,
                                size_t errlen);

/* Alpha plane left prediction (spec/bitstream.md, "Alpha plane").
 * filter:   dst[y*w + x] = (A(x,y) - A(x-1,y)) mod 256, A(-1,y) = 0, where
 *           A(x,y) = src[y*row_stride + x*pixel_step]; dst is w*h packed bytes.
 * unfilter: the inverse: reads w*h packed residuals from src and writes
 *           A(x,y) to dst[y*row_stride + x*pixel_step] (so it can write
 *           straight into the alpha channel of an interleaved image). */
void aecb_alpha_filter(uint8_t *dst, const uint8_t *src, uint32_t w, uint32_t h,
                       size_t pixel_step, size_t row_stride);
void aecb_alpha_unfilter(uint8_t *dst, size_t pixel_step, size_t row_stride,
                         const uint8_t *src, uint32_t w, uint32_t h);

#endif
