/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * residual_stream.c - the run/size token layout of a tile's pixel
 * residual stream (spec/bitstream.md section 6.10).
 *
 *   directory  NT, the number of tokens, then ST, the token frame's size
 *              (two LEB128 numbers)
 *   T          one magicless zstd frame of 1 + NT bytes: the step q, then
 *              the tokens
 *   E          the rest of the stream, stored: the extra bits, packed from
 *              the least significant bit of each byte
 * Each channel's blocks in raster order, each block's 64 coefficients in
 * zigzag order: 0x00 ends the block (the rest is zero), 0xF0 skips 16
 * zeros, run << 4 | s skips `run` zeros and then holds a coefficient of
 * size class s (1..7), whose magnitude 2^(s-1) + m and sign follow in E
 * (s - 1 bits of m, then 1 for negative).
 */
#include "bitstream/residual_stream.h"

#include <stdlib.h>
#include <string.h>

#include "bitstream/container.h"
#include "bitstream/zstream.h"
#include "common/bytes.h"
#include "vq/residual.h"

enum {
    FREQS = 64,
    END_OF_BLOCK = 0x00,
    SIXTEEN_ZEROS = 0xF0,
    MAX_CLASS = 7, /* |k| <= 127 */
};

/* Zigzag position i -> frequency f = 8 ky + kx, JPEG's order. */
static const uint8_t zigzag[FREQS] = {
    0,  1,  8,  16, 9,  2,  3,  10, 17, 24, 32, 25, 18, 11, 4,  5,  12, 19, 26, 33, 40, 48,
    41, 34, 27, 20, 13, 6,  7,  14, 21, 28, 35, 42, 49, 56, 57, 50, 43, 36, 29, 22, 15, 23,
    30, 37, 44, 51, 58, 59, 52, 45, 38, 31, 39, 46, 53, 60, 61, 54, 47, 55, 62, 63,
};

uint64_t aecb_residual_bound(size_t colours, size_t blocks)
{
    uint64_t coefs = (uint64_t)colours * FREQS * blocks;
    return 2 * AEC_LEB128_MAX + aecb_compress_bound(1 + coefs) + (coefs * MAX_CLASS + 7) / 8;
}

size_t aecb_residual_work_bytes(size_t colours, size_t blocks)
{
    return 1 + colours * FREQS * blocks;
}

/* Appends the n low bits of v to the bit buffer (zeroed beforehand). */
static void put_bits(uint8_t *bits, size_t *at, uint32_t v, int n)
{
    for (int i = 0; i < n; i++, (*at)++)
        bits[*at >> 3] |= (uint8_t)(((v >> i) & 1) << (*at & 7));
}

static int size_class(uint32_t magnitude)
{
    int s = 0;
    while (magnitude >> s)
        s++;
    return s;
}

aec_status aecb_residual_write(const uint8_t *raw, size_t colours, size_t blocks, int level,
                               uint8_t **out, size_t *out_size, char *err, size_t errlen)
{
    size_t coefs = colours * FREQS * blocks;
    uint8_t *tokens = malloc(1 + coefs), *bits = calloc((coefs * MAX_CLASS + 7) / 8 + 1, 1);
    uint8_t *frame = NULL;
    aec_status st = AEC_OK;
    if (!tokens || !bits) {
        st = AEC_ERR_OUT_OF_MEMORY;
        aecb_seterr(err, errlen, "out of memory for a residual stream");
        goto done;
    }
    size_t nt = 0, nbits = 0;
    tokens[0] = raw[0];
    for (size_t c = 0; c < colours; c++)
        for (size_t b = 0; b < blocks; b++) {
            uint32_t run = 0;
            for (int i = 0; i < FREQS; i++) {
                uint8_t z = raw[1 + (c * FREQS + zigzag[i]) * blocks + b];
                uint32_t magnitude = (z >> 1) + (z & 1);
                if (!magnitude) {
                    run++;
                    continue;
                }
                if (magnitude > 127) {
                    st = AEC_ERR_INVALID_ARGUMENT;
                    aecb_seterr(err, errlen, "residual coefficient outside -127..127");
                    goto done;
                }
                for (; run >= 16; run -= 16)
                    tokens[1 + nt++] = SIXTEEN_ZEROS;
                int s = size_class(magnitude);
                tokens[1 + nt++] = (uint8_t)(run << 4 | (uint32_t)s);
                put_bits(bits, &nbits, magnitude - (1u << (s - 1)), s - 1);
                put_bits(bits, &nbits, z & 1, 1);
                run = 0;
            }
            if (run)
                tokens[1 + nt++] = END_OF_BLOCK;
        }
    size_t frame_size = 0;
    st = aecb_zstd_compress(NULL, tokens, 1 + nt, level, NULL, &frame, &frame_size, err, errlen);
    if (st != AEC_OK)
        goto done;
    uint8_t dir[2 * AEC_LEB128_MAX];
    size_t dl = aec_put_leb128(dir, (uint32_t)nt);
    dl += aec_put_leb128(dir + dl, (uint32_t)frame_size);
    size_t nbytes = (nbits + 7) / 8;
    *out_size = dl + frame_size + nbytes;
    *out = malloc(*out_size);
    if (!*out) {
        st = AEC_ERR_OUT_OF_MEMORY;
        aecb_seterr(err, errlen, "out of memory for a residual stream");
        goto done;
    }
    memcpy(*out, dir, dl);
    memcpy(*out + dl, frame, frame_size);
    memcpy(*out + dl + frame_size, bits, nbytes);
done:
    free(tokens), free(bits), free(frame);
    return st;
}

/* A bit reader over E. */
typedef struct {
    const uint8_t *bytes;
    size_t bits, at;
} bit_reader;

static uint32_t get_bits(bit_reader *r, int n)
{
    uint32_t v = 0;
    for (int i = 0; i < n; i++, r->at++)
        v |= (uint32_t)((r->bytes[r->at >> 3] >> (r->at & 7)) & 1) << i;
    return v;
}

static aec_status corrupt(char *err, size_t errlen, const char *why)
{
    aecb_seterr(err, errlen, "residual stream %s (file corrupt)", why);
    return AEC_ERR_CORRUPT;
}

aec_status aecb_residual_read(ZSTD_DCtx *dctx, const uint8_t *src, size_t size, size_t colours,
                              size_t blocks, uint8_t *work, uint8_t *raw, char *err,
                              size_t errlen)
{
    if (!src || !work || !raw || !blocks || (colours != 1 && colours != 3)) {
        aecb_seterr(err, errlen, "NULL or empty argument");
        return AEC_ERR_INVALID_ARGUMENT;
    }
    size_t coefs = colours * FREQS * blocks, pos = 0;
    uint32_t nt, frame_size;
    int bad = aec_get_leb128(src, size, &pos, &nt);
    if (!bad)
        bad = aec_get_leb128(src, size, &pos, &frame_size);
    if (bad)
        return corrupt(err, errlen,
                       bad == 1   ? "directory truncated"
                       : bad == 2 ? "directory has a number over 5 bytes"
                                  : "directory has a number over 2^32");
    if (nt > coefs)
        return corrupt(err, errlen, "has more tokens than coefficients");
    if (frame_size > size - pos)
        return corrupt(err, errlen, "token frame runs past the stream");
    aec_status st =
        aecb_zstd_decompress(dctx, NULL, src + pos, frame_size, work, 1 + (size_t)nt, err, errlen);
    if (st != AEC_OK)
        return st;
    if (work[0] < AEM_RESIDUAL_MIN_STEP) {
        aecb_seterr(err, errlen, "residual step %u is below %d (file corrupt)", work[0],
                    AEM_RESIDUAL_MIN_STEP);
        return AEC_ERR_CORRUPT;
    }
    bit_reader r = {src + pos + frame_size, 8 * (size - pos - frame_size), 0};
    raw[0] = work[0];
    memset(raw + 1, 0, coefs);
    const uint8_t *token = work + 1, *end = token + nt;
    for (size_t c = 0; c < colours; c++)
        for (size_t b = 0; b < blocks; b++)
            for (int p = 0; p < FREQS;) {
                if (token == end)
                    return corrupt(err, errlen, "ends inside a block");
                uint8_t t = *token++;
                if (t == END_OF_BLOCK)
                    break;
                if (t == SIXTEEN_ZEROS) {
                    if (p + 16 >= FREQS)
                        return corrupt(err, errlen, "skips past a block's end");
                    p += 16;
                    continue;
                }
                int s = t & 15;
                p += t >> 4;
                if (s == 0 || s > MAX_CLASS)
                    return corrupt(err, errlen, "has an invalid token");
                if (p >= FREQS)
                    return corrupt(err, errlen, "skips past a block's end");
                if (r.at + (size_t)s > r.bits)
                    return corrupt(err, errlen, "has too few extra bits");
                uint32_t magnitude = (1u << (s - 1)) + get_bits(&r, s - 1);
                uint32_t negative = get_bits(&r, 1);
                raw[1 + (c * FREQS + zigzag[p]) * blocks + b] =
                    (uint8_t)(2 * magnitude - negative);
                p++;
            }
    if (token != end)
        return corrupt(err, errlen, "has tokens after the last block");
    if ((r.at + 7) / 8 != r.bits / 8)
        return corrupt(err, errlen, "has extra bytes after its bits");
    return AEC_OK;
}
