/* SPDX-License-Identifier: BSD-3-Clause */
/* downsample.h - the half-size image of a picture (downsample.c). */
#ifndef AEC_ENC_DOWNSAMPLE_H
#define AEC_ENC_DOWNSAMPLE_H
#include <stddef.h>
#include <stdint.h>

/* dst, (width + 1) / 2 x (height + 1) / 2 pixels of ch 8-bit channels,
 * packed, from src (rows `stride` bytes apart).  Returns -1 when out of
 * memory. */
int aec_downsample2(const uint8_t *src, uint32_t width, uint32_t height, size_t stride, int ch,
                    uint8_t *dst);
#endif
