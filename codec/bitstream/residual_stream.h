/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * residual_stream.h - a tile's pixel residual stream (spec/bitstream.md
 * section 6.10, flags bit 7): the quantised DCT coefficients of
 * vq/residual.h as run/size tokens, as JPEG codes its blocks.
 *
 * Most residual coefficients are zero and the others small.  One zstd
 * frame of the coefficient planes (session 34's layout) paid an LZ
 * sequence for nearly every non-zero coefficient; a byte per run of zeros
 * and size class, the sizes' bits stored apart, costs 30-35 % less on the
 * validation photographs (bench/NOTES.md, "The residual as run/size
 * tokens").
 *
 * Internal to libcodec; everything is prefixed aecb_.
 */
#ifndef AECB_RESIDUAL_STREAM_H
#define AECB_RESIDUAL_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "aecodec.h"

/* A stream codes the planes of vq/residual.h: raw[0] the step q, then
 * raw[1 + (c * 64 + f) * blocks + b] the zigzag byte of coefficient f of
 * block b in colour channel c, `colours` channels of `blocks` blocks. */

/* Upper bound of a stream's size (what step 12 of spec section 9 allows). */
uint64_t aecb_residual_bound(size_t colours, size_t blocks);

/* Bytes of the work buffer aecb_residual_read needs. */
size_t aecb_residual_work_bytes(size_t colours, size_t blocks);

/* raw -> a stream in a malloc'ed buffer of *out_size bytes (free with
 * free), its tokens compressed at zstd `level`.  Errors: OUT_OF_MEMORY,
 * INVALID_ARGUMENT (a coefficient outside -127..127). */
aec_status aecb_residual_write(const uint8_t *raw, size_t colours, size_t blocks, int level,
                               uint8_t **out, size_t *out_size, char *err, size_t errlen);

/* A stream src[0..size) -> raw (1 + colours * 64 * blocks bytes).  work
 * holds aecb_residual_work_bytes(colours, blocks).  AEC_ERR_CORRUPT with a
 * one-line reason when it breaks a rule of section 6.10 (the step below 8
 * included); raw is then partly written.  dctx may be NULL or one to
 * reuse. */
aec_status aecb_residual_read(ZSTD_DCtx *dctx, const uint8_t *src, size_t size, size_t colours,
                              size_t blocks, uint8_t *work, uint8_t *raw, char *err,
                              size_t errlen);

#endif
