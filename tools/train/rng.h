/* SPDX-License-Identifier: BSD-3-Clause */
/* rng.h - splitmix64: small, fast, and the same sequence on every platform,
 * which is what makes training runs reproducible from a seed. */
#ifndef AET_RNG_H
#define AET_RNG_H
#include <stdint.h>

static inline uint64_t aet_rng_next(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}
/* Uniform integer in [0, n). */
static inline uint32_t aet_rng_below(uint64_t *s, uint32_t n)
{
    return (uint32_t)(((aet_rng_next(s) >> 32) * (uint64_t)n) >> 32);
}
/* Uniform float in [0, 1). */
static inline float aet_rng_float(uint64_t *s)
{
    return (float)(aet_rng_next(s) >> 40) * (1.0f / 16777216.0f);
}
#endif
