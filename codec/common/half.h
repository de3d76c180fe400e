/* SPDX-License-Identifier: BSD-3-Clause */
/* half.h - IEEE-754 binary16 ("half") to and from binary32, exactly and
 * without the host's help: model files may store their weights in 16 bits
 * (spec/model.md, weight_format 1).  The built-in models are stored so
 * (tools/embed_models.c rounds them when the library is built), halving
 * the library. */
#ifndef AEC_COMMON_HALF_H
#define AEC_COMMON_HALF_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

/* The half h as a float: every half is exactly a float.  Infinities and
 * NaNs (exponent field 31) come back as such; callers refuse them. */
static inline float aec_half_to_float(uint16_t h)
{
    uint32_t sign = (uint32_t)(h & 0x8000u) << 16, exp = (h >> 10) & 0x1fu, man = h & 0x3ffu;
    float f;
    if (exp == 0) { /* zero or subnormal: man * 2^-24, exact in a float */
        f = (float)man * (1.0f / 16777216.0f);
        return sign ? -f : f;
    }
    uint32_t bits = exp == 31 ? sign | 0x7f800000u | man << 13 /* inf, NaN */
                              : sign | (exp + 112) << 23 | man << 13;
    memcpy(&f, &bits, 4);
    return f;
}

/* dst[i] = the half stored little-endian at src + 2i, for n of them: the
 * same values as aec_half_to_float, computed without branches so that the
 * compiler vectorises it (a model's million weights at start-up). */
static inline void aec_halves_to_floats(const uint8_t *src, size_t n, float *dst)
{
    const float two_m14 = 1.0f / 16384.0f; /* 2^-14: 113 << 23 as a float */
    for (size_t i = 0; i < n; i++) {
        uint32_t h = (uint32_t)src[2 * i] | (uint32_t)src[2 * i + 1] << 8;
        uint32_t em = (h & 0x7fffu) << 13, e = em & 0x0f800000u;
        uint32_t normal = em + (112u << 23) + (e == 0x0f800000u) * (112u << 23); /* inf, NaN */
        uint32_t biased = em + (113u << 23), sub;
        float fs;
        memcpy(&fs, &biased, 4);
        fs -= two_m14; /* zero and subnormals: man * 2^-24, exactly */
        memcpy(&sub, &fs, 4);
        uint32_t is_sub = 0u - (uint32_t)(e == 0); /* all ones or zero: a select, no branch */
        uint32_t bits = (sub & is_sub) | (normal & ~is_sub) | (h & 0x8000u) << 16;
        memcpy(&dst[i], &bits, 4);
    }
}

/* f rounded to the nearest half, ties to even; overflow gives an infinity
 * (callers check |f| < 65520 first), NaN a NaN. */
static inline uint16_t aec_float_to_half(float f)
{
    uint32_t bits;
    memcpy(&bits, &f, 4);
    uint16_t sign = (uint16_t)(bits >> 16 & 0x8000u);
    uint32_t exp = bits >> 23 & 0xffu, man = bits & 0x7fffffu;
    if (exp == 255) /* infinity or NaN */
        return (uint16_t)(sign | 0x7c00u | (man ? 0x200u : 0));
    int e = (int)exp - 127 + 15; /* the half's biased exponent */
    if (e >= 31)
        return (uint16_t)(sign | 0x7c00u);
    if (e <= 0) { /* a subnormal half (or zero): man with its implicit bit, shifted */
        if (e < -10)
            return sign;
        man |= 0x800000u;
        int shift = 14 - e; /* 13 for the mantissa, 1 - e for the exponent */
        uint32_t half = man >> shift, rest = man & ((1u << shift) - 1), mid = 1u << (shift - 1);
        if (rest > mid || (rest == mid && (half & 1)))
            half++;
        return (uint16_t)(sign | half);
    }
    uint32_t half = (uint32_t)e << 10 | man >> 13, rest = man & 0x1fffu;
    if (rest > 0x1000u || (rest == 0x1000u && (half & 1)))
        half++; /* a carry into the exponent is the right rounding, up to infinity */
    return (uint16_t)(sign | half);
}
#endif
