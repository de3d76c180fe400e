/* SPDX-License-Identifier: BSD-3-Clause */
/* npy.h - NumPy .npy files (format version 1.0) of little-endian float32,
 * for the latents aeenc exports (aeenc --latents). */
#ifndef AE_NPY_H
#define AE_NPY_H
#include <stddef.h>
#include <stdint.h>

/* The bytes of a .npy file holding data (C order) of the given shape
 * (ndim 1..8): *out is malloc'ed, *size its length; -1 when out of memory. */
int npy_f32_bytes(const float *data, const uint64_t *shape, int ndim, uint8_t **out,
                  size_t *size);
#endif
