/* SPDX-License-Identifier: BSD-3-Clause */
/* wiener_fit.h - the encoder's restoration filter (vq/wiener.h,
 * spec/bitstream.md 6.11). */
#ifndef AEC_ENC_WIENER_FIT_H
#define AEC_ENC_WIENER_FIT_H
#include <stddef.h>
#include <stdint.h>

#include "aecodec.h"

/* Decodes *file (a version 1 file of the source `pixels`, rows `stride`
 * bytes apart) as a decoder will, fits the filter to it by least squares
 * with 1..8 classes, and when the best gain pays for its bytes (or with
 * `always`, when it gains at all) rewrites *file as version 2 with the
 * filter's stream (else leaves it).  *gain_db, when not NULL, receives
 * the PSNR gain expected (0 when none kept). */
aec_status aec_enc_add_filter(const aec_model *m, const uint8_t *pixels, size_t stride,
                              int threads, int always, uint8_t **file, size_t *file_size,
                              double *gain_db, char *err);
#endif
