/* SPDX-License-Identifier: BSD-3-Clause */
/* noise.h - the noise that de-noising training (aetrain --denoise) adds to
 * the encoder's input; the loss still compares with the clean crop. */
#ifndef AET_NOISE_H
#define AET_NOISE_H
#include <stdint.h>

/* Adds noise to B crops of planes [3][B][side][side] (values 0..1), each
 * crop with its own sigma drawn uniformly in [sigma_min, sigma_max] (on the
 * 0..255 scale).  A crop's noise is signal-dependent with probability
 * poisson (variance sigma^2 * v / 0.5 at value v: Poisson-like shot noise
 * with the given sigma at mid-grey), Gaussian otherwise.  The result is
 * clipped to 0..1 and rounded to 8 bits, as a noisy photograph would be. */
void aet_noise_add(float *pix, int B, int side, float sigma_min, float sigma_max, float poisson,
                   uint64_t *rng);

/* One standard normal deviate (Box-Muller on two uniform draws). */
float aet_noise_normal(uint64_t *rng);
#endif
