/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * wiener_stream.h - the restoration filter's stream (spec/bitstream.md
 * section 6.11, bitstream version 2): one byte, the number of classes K
 * (1..8), then one zstd frame of the thresholds (K - 1 little-endian u16,
 * strictly ascending, 1..AEM_WIENER_MAX_ACTIVITY) and the coefficients
 * (little-endian s16 within +-AEM_WIENER_MAX_WEIGHT, for each class, each
 * colour, each tap of vq/wiener.h).
 *
 * Internal to libcodec; everything is prefixed aecb_.
 */
#ifndef AECB_WIENER_STREAM_H
#define AECB_WIENER_STREAM_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "aecodec.h"
#include "vq/wiener.h"

/* Bytes of the frame's content for K classes and `colours` colours. */
size_t aecb_wiener_raw_size(int classes, int colours);
/* Upper bound of a stream's size (step 12 of spec section 9). */
uint64_t aecb_wiener_bound(int colours);

/* wf -> a stream in a malloc'ed buffer (free with free).  Errors:
 * INVALID_ARGUMENT (a field out of range), OUT_OF_MEMORY. */
aec_status aecb_wiener_write(const aem_wiener *wf, uint8_t **out, size_t *out_size, char *err,
                             size_t errlen);

/* A stream -> *wf for a picture of `colours` colours.  CORRUPT with a
 * one-line reason when a field is out of range or the frame is bad. */
aec_status aecb_wiener_read(ZSTD_DCtx *dctx, const uint8_t *src, size_t size, int colours,
                            aem_wiener *wf, char *err, size_t errlen);

#endif
