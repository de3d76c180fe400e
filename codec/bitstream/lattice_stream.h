/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lattice_stream.h - a tile's lattice refinement stream in the split layout
 * (spec/bitstream.md section 6.7, flags bit 3).
 *
 * zstd's entropy stage codes bytes order-0 with Huffman codes of at least
 * one bit per byte, and most lattice symbols are zeros: one 16-bit code per
 * symbol (the planes layout of section 6.6) wastes bits on them.  The split
 * layout gives zstd bytes whose statistics it can use: the significance of
 * 8 channels at a position in one byte, "greater than one" and sign bits
 * packed 8 to a byte, and the rare large magnitudes apart, each kind in its
 * own zstd frame with its own tables.  With 512-pixel tiles the lattice
 * streams of photographs are 9-12 % smaller; the 14 frames' headers and
 * tables make it a loss for tiles of 128 pixels or less, where the encoder
 * keeps the planes layout (bench/NOTES.md).
 *
 * Internal to libcodec; everything is prefixed aecb_.
 */
#ifndef AECB_LATTICE_STREAM_H
#define AECB_LATTICE_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "aecodec.h"

/* A stream codes D latent channels, first .. first + D - 1: all of them
 * (first = 0), or one layer of a layered file (spec/bitstream.md 6.9).
 * The functions without _at are those of first = 0.  Of its channels,
 * those below AEM_LATTICE_PREDICTED (vq/lattice.h) are predicted: */
size_t aecb_split_predicted(size_t first, size_t D);

/* Sections of a split stream of D channels: the predicted channels, one
 * significance section per group of 8 other channels, then the
 * greater-than-one bits, the small and large remainders and the signs. */
size_t aecb_split_sections(size_t D);
size_t aecb_split_sections_at(size_t first, size_t D);

/* Bytes of the work buffer aecb_split_read needs for a tile of n latents. */
size_t aecb_split_work_bytes(size_t D, size_t n);
size_t aecb_split_work_bytes_at(size_t first, size_t D, size_t n);

/* Upper bound of a split stream's size for a tile of n latents. */
uint64_t aecb_split_bound(size_t D, size_t n);
uint64_t aecb_split_bound_at(size_t first, size_t D, size_t n);

/* sym [D][lh][lw], every value within +-AEM_LATTICE_MAX_SYMBOL, -> a split
 * stream in a malloc'ed buffer of *out_size bytes (free with free).  cctx
 * may be NULL (a temporary context) or one to reuse.  Errors:
 * OUT_OF_MEMORY, INVALID_ARGUMENT (a symbol out of range). */
aec_status aecb_split_write(ZSTD_CCtx *cctx, const int32_t *sym, size_t D, size_t lw,
                            size_t lh, int level, uint8_t **out, size_t *out_size, char *err,
                            size_t errlen);
aec_status aecb_split_write_at(ZSTD_CCtx *cctx, const int32_t *sym, size_t first, size_t D,
                               size_t lw, size_t lh, int level, uint8_t **out, size_t *out_size,
                               char *err, size_t errlen);

/* The same bytes, the sections compressed as OpenMP tasks, each with a
 * zstd context of its own: for a caller inside a parallel region with
 * threads to spare (an image of fewer tiles than threads), outside one it
 * runs them one after the other. */
aec_status aecb_split_write_tasks(const int32_t *sym, size_t D, size_t lw, size_t lh, int level,
                                  uint8_t **out, size_t *out_size, char *err, size_t errlen);
aec_status aecb_split_write_tasks_at(const int32_t *sym, size_t first, size_t D, size_t lw,
                                     size_t lh, int level, uint8_t **out, size_t *out_size,
                                     char *err, size_t errlen);

/* A split stream src[0..size) -> sym [D][lh][lw].  work holds
 * aecb_split_work_bytes(D, lw*lh) bytes.  AEC_ERR_CORRUPT with a one-line
 * reason when the stream breaks any rule of section 6.7; sym is then
 * partly written.  dctx may be NULL or one to reuse. */
aec_status aecb_split_read(ZSTD_DCtx *dctx, const uint8_t *src, size_t size, size_t D,
                           size_t lw, size_t lh, uint8_t *work, int32_t *sym, char *err,
                           size_t errlen);
aec_status aecb_split_read_at(ZSTD_DCtx *dctx, const uint8_t *src, size_t size, size_t first,
                              size_t D, size_t lw, size_t lh, uint8_t *work, int32_t *sym,
                              char *err, size_t errlen);

#endif
