/* SPDX-License-Identifier: BSD-3-Clause */
/* noise.c - Gaussian and Poisson-like noise for de-noising training. */
#include "train/noise.h"

#include <math.h>
#include <stddef.h>

#include "train/rng.h"

float aet_noise_normal(uint64_t *rng)
{
    float u = aet_rng_float(rng), v = aet_rng_float(rng);
    /* u in (0, 1]: log(0) would be infinite. */
    return sqrtf(-2.0f * logf(1.0f - u)) * cosf(6.28318530718f * v);
}

void aet_noise_add(float *pix, int B, int side, float sigma_min, float sigma_max, float poisson,
                   uint64_t *rng)
{
    size_t plane = (size_t)side * side;
    for (int b = 0; b < B; b++) {
        float sigma = (sigma_min + (sigma_max - sigma_min) * aet_rng_float(rng)) / 255.0f;
        /* Drawn only when enabled, so Gaussian runs keep their sequence. */
        int shot = poisson > 0 && aet_rng_float(rng) < poisson;
        for (int ch = 0; ch < 3; ch++) {
            float *p = pix + ((size_t)ch * B + b) * plane;
            for (size_t i = 0; i < plane; i++) {
                float s = shot ? sigma * sqrtf(p[i] * 2.0f) : sigma;
                float v = p[i] + s * aet_noise_normal(rng);
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                p[i] = floorf(v * 255.0f + 0.5f) / 255.0f;
            }
        }
    }
}
