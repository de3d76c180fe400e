/* SPDX-License-Identifier: BSD-3-Clause */
/* bytes.h - little-endian reads and writes, independent of the host. */
#ifndef AEC_COMMON_BYTES_H
#define AEC_COMMON_BYTES_H
#include <stdint.h>
#include <string.h>

static inline uint32_t aec_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}
static inline uint64_t aec_rd64(const uint8_t *p)
{
    return (uint64_t)aec_rd32(p) | (uint64_t)aec_rd32(p + 4) << 32;
}
static inline void aec_wr32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8), p[2] = (uint8_t)(v >> 16), p[3] = (uint8_t)(v >> 24);
}
static inline void aec_wr64(uint8_t *p, uint64_t v)
{
    aec_wr32(p, (uint32_t)v), aec_wr32(p + 4, (uint32_t)(v >> 32));
}
/* IEEE-754 binary32 stored little-endian. */
static inline float aec_rdf32(const uint8_t *p)
{
    uint32_t u = aec_rd32(p);
    float f;
    memcpy(&f, &u, 4);
    return f;
}
static inline void aec_wrf32(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, 4);
    aec_wr32(p, u);
}
#endif
