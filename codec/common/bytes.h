/* SPDX-License-Identifier: BSD-3-Clause */
/* bytes.h - little-endian reads and writes, independent of the host. */
#ifndef AEC_COMMON_BYTES_H
#define AEC_COMMON_BYTES_H
#include <stddef.h>
#include <stdint.h>
#include <string.h>

static inline uint16_t aec_rd16(const uint8_t *p) { return (uint16_t)(p[0] | p[1] << 8); }
static inline void aec_wr16(uint8_t *p, uint16_t v) { p[0] = (uint8_t)v, p[1] = (uint8_t)(v >> 8); }
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

/* LEB128 numbers (the directories of spec/bitstream.md 6.7 and 6.10): 7
 * bits a byte from the least significant group, bit 7 set when another
 * byte follows; a u32 takes 1 to AEC_LEB128_MAX bytes. */
enum { AEC_LEB128_MAX = 5 };
static inline size_t aec_put_leb128(uint8_t *p, uint32_t v)
{
    size_t k = 0;
    do {
        p[k++] = (uint8_t)((v & 0x7f) | (v >= 0x80 ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return k;
}
/* Reads one at p[*pos..size) into *v and moves *pos past it.  Returns 0,
 * or why it is invalid: 1 truncated, 2 longer than AEC_LEB128_MAX bytes,
 * 3 above 2^32 - 1. */
static inline int aec_get_leb128(const uint8_t *p, size_t size, size_t *pos, uint32_t *v)
{
    uint64_t x = 0;
    for (int k = 0;; k++) {
        if (*pos >= size)
            return 1;
        if (k == AEC_LEB128_MAX)
            return 2;
        uint8_t b = p[(*pos)++];
        x |= (uint64_t)(b & 0x7f) << (7 * k);
        if (!(b & 0x80))
            break;
    }
    if (x > UINT32_MAX)
        return 3;
    *v = (uint32_t)x;
    return 0;
}
#endif
