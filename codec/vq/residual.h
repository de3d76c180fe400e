/* SPDX-License-Identifier: BSD-3-Clause */
/* residual.h - the pixel residual layer (spec/bitstream.md 6.10): what the
 * decoder network leaves of a tile's pixels, coded as 8x8 DCT blocks.
 *
 * The auto-encoder's reconstruction has a ceiling: with the latent
 * unquantised, aecodec-high-v4-top rebuilds the validation photographs at
 * 39.9 dB, a smooth one at 41.3 dB, so the finest lattice steps buy less
 * and less, while JPEG XL reaches 43 dB on that photograph at 1 bpp.  What
 * the network misses there is a few large errors (edges, slow gradients of
 * flat areas) that a plain transform codes in few bits: on the validation
 * photographs a residual layer over level 10 added 0.36 dB against the
 * lattice levels at the same rate (bench/NOTES.md, "The pixel residual
 * layer").
 *
 * The residual of a colour picture is coded in the orthonormal basis
 * (1,1,1)/sqrt3, (1,0,-1)/sqrt2, (1,-2,1)/sqrt6 of (R,G,B), a grey one as
 * it is; each channel in 8x8 blocks aligned on the tile, each block by the
 * orthonormal DCT-II, each coefficient rounded to a multiple of the step
 * q, its multiple k clamped to -127..127.  Here a tile's coefficients are
 * "raw planes": the byte q, then for every channel and every frequency
 * (ky, kx) in raster order, the zigzag byte (k >= 0: 2k, else -2k-1) of
 * that coefficient of every block of the tile in raster order.  The stream
 * codes them as run/size tokens (bitstream/residual_stream.h). */
#ifndef AEC_VQ_RESIDUAL_H
#define AEC_VQ_RESIDUAL_H
#include <stddef.h>
#include <stdint.h>

#include "aecodec.h"

#define AEM_RESIDUAL_BLOCK 8
/* The finest step.  An 8x8 DCT coefficient of 8-bit pixels is below
 * 8 * 255 in size, so from steps below 16 on a multiple may leave
 * -127..127 and the encoder clamps it; the top level's step 12 beat 16 by
 * 0.12 dB at equal rate (bench/NOTES.md, "The residual as run/size
 * tokens"), and residuals of over 127 a pixel across a block are rare. */
#define AEM_RESIDUAL_MIN_STEP AEC_RESIDUAL_STEP_MIN
#define AEM_RESIDUAL_MAX_STEP AEC_RESIDUAL_STEP_MAX
/* The encoder rounds |c| / q + this down: a dead zone, as the lattice
 * symbols have, since small coefficients cost more bits than their error
 * is worth (0.2-0.3 measured alike, bench/NOTES.md). */
#define AEM_RESIDUAL_ROUNDING 0.25f

/* The 8x8 blocks of a w x h tile, the last ones partial. */
size_t aem_residual_blocks(uint32_t w, uint32_t h);
/* Bytes of the raw planes of a w x h tile with `colours` channels coded
 * (1 for grey layouts, 3 for colour ones). */
size_t aem_residual_raw_size(uint32_t w, uint32_t h, int colours);

/* Encoder: the raw planes of a w x h tile at step q
 * (AEM_RESIDUAL_MIN_STEP..AEM_RESIDUAL_MAX_STEP) from its source pixels
 * `src` and the base layers' decoded pixels `dec`, both of `channels`
 * interleaved samples a pixel (colours of them coded, alpha skipped) with
 * their row strides.  raw holds aem_residual_raw_size(w, h, colours).
 * Returns the number of non-zero coefficients. */
size_t aem_residual_code(const uint8_t *src, size_t src_stride, const uint8_t *dec,
                         size_t dec_stride, int channels, int colours, uint32_t w, uint32_t h,
                         int q, uint8_t *raw);

/* Decoder: adds the residual of a w x h tile's raw planes to the pixels
 * [x0, x1) x [y0, y1) of the tile (tile coordinates), rounding and
 * clamping to 0..255.  px points at the tile's pixel (x0, y0), `channels`
 * interleaved samples a pixel, rows `stride` bytes apart. */
void aem_residual_apply(const uint8_t *raw, uint32_t w, uint32_t h, int colours, uint32_t x0,
                        uint32_t y0, uint32_t x1, uint32_t y1, uint8_t *px, size_t stride,
                        int channels);
#endif
