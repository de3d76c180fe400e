/* SPDX-License-Identifier: BSD-3-Clause */
/* residual.h - the encoder's pixel residual layer (spec/bitstream.md 6.10). */
#ifndef AEC_ENC_RESIDUAL_H
#define AEC_ENC_RESIDUAL_H
#include <stddef.h>
#include <stdint.h>

#include "aecodec.h"

/* Adds the pixel residual layer at step `step` (8..255) to the full-size
 * lattice file *file of *file_size bytes, coded with model m from the
 * source `pixels` (its layout, rows `stride` bytes apart): decodes the
 * file with `threads` threads, codes each tile's residual and replaces
 * *file (malloc'ed; the old buffer is freed) by the file with flags bit 7.
 * On error *file is unchanged and err holds one line. */
aec_status aec_enc_add_residual(const aec_model *m, const uint8_t *pixels, size_t stride,
                                int step, int threads, uint8_t **file, size_t *file_size,
                                char *err);
#endif
