/* SPDX-License-Identifier: BSD-3-Clause */
/* residual.c - the pixel residual layer's transform and quantiser (see
 * residual.h and spec/bitstream.md 6.10). */
#include "vq/residual.h"

#include <math.h>

enum { B = AEM_RESIDUAL_BLOCK, FREQS = B * B };

/* The orthonormal DCT-II basis: basis[k][n] = sqrt((k ? 2 : 1) / 8)
 * cos(pi (2n + 1) k / 16). */
static void dct_basis(float basis[B][B])
{
    for (int k = 0; k < B; k++)
        for (int n = 0; n < B; n++)
            basis[k][n] = (float)(sqrt((k ? 2.0 : 1.0) / B) * cos(3.14159265358979323846 * (2 * n + 1) * k / (2 * B)));
}

/* The colour basis's rows: (1,1,1)/sqrt3, (1,0,-1)/sqrt2, (1,-2,1)/sqrt6. */
static const float colour_basis[3][3] = {
    {0.57735026919f, 0.57735026919f, 0.57735026919f},
    {0.70710678119f, 0.0f, -0.70710678119f},
    {0.40824829046f, -0.81649658093f, 0.40824829046f},
};

size_t aem_residual_blocks(uint32_t w, uint32_t h)
{
    return (size_t)((w + B - 1) / B) * ((h + B - 1) / B);
}

size_t aem_residual_raw_size(uint32_t w, uint32_t h, int colours)
{
    return 1 + (size_t)colours * FREQS * aem_residual_blocks(w, h);
}

/* out[ky][kx] = sum over y, x of basis[ky][y] basis[kx][x] in[y][x]: the
 * DCT with the basis, and its inverse with the basis transposed (the basis
 * is orthonormal). */
static void dct2(const float basis[B][B], const float in[B][B], float out[B][B])
{
    float rows[B][B]; /* [y][kx] */
    for (int y = 0; y < B; y++)
        for (int k = 0; k < B; k++) {
            float s = 0;
            for (int x = 0; x < B; x++)
                s += basis[k][x] * in[y][x];
            rows[y][k] = s;
        }
    for (int ky = 0; ky < B; ky++)
        for (int kx = 0; kx < B; kx++) {
            float s = 0;
            for (int y = 0; y < B; y++)
                s += basis[ky][y] * rows[y][kx];
            out[ky][kx] = s;
        }
}

size_t aem_residual_code(const uint8_t *src, size_t src_stride, const uint8_t *dec,
                         size_t dec_stride, int channels, int colours, uint32_t w, uint32_t h,
                         int q, uint8_t *raw)
{
    float basis[B][B];
    dct_basis(basis);
    uint32_t bw = (w + B - 1) / B, bh = (h + B - 1) / B;
    size_t blocks = (size_t)bw * bh, nonzero = 0;
    raw[0] = (uint8_t)q;
    float inv_q = 1.0f / (float)q;
    for (uint32_t by = 0; by < bh; by++)
        for (uint32_t bx = 0; bx < bw; bx++) {
            /* The block's residual, zero outside the tile, in the colour
             * basis: res[c][y][x]. */
            float res[3][B][B] = {{{0}}};
            for (int y = 0; y < B; y++)
                for (int x = 0; x < B; x++) {
                    uint32_t X = bx * B + (uint32_t)x, Y = by * B + (uint32_t)y;
                    if (X >= w || Y >= h)
                        continue;
                    const uint8_t *s = src + (size_t)Y * src_stride + (size_t)X * channels;
                    const uint8_t *d = dec + (size_t)Y * dec_stride + (size_t)X * channels;
                    float r[3];
                    for (int c = 0; c < colours; c++)
                        r[c] = (float)s[c] - (float)d[c];
                    for (int c = 0; c < colours; c++)
                        res[c][y][x] = colours == 1 ? r[0]
                                                    : colour_basis[c][0] * r[0] +
                                                          colour_basis[c][1] * r[1] +
                                                          colour_basis[c][2] * r[2];
                }
            size_t block = (size_t)by * bw + bx;
            for (int c = 0; c < colours; c++) {
                float coef[B][B];
                dct2(basis, (const float(*)[B])res[c], coef);
                for (int f = 0; f < FREQS; f++) {
                    float v = coef[f / B][f % B];
                    int k = (int)(fabsf(v) * inv_q + AEM_RESIDUAL_ROUNDING);
                    k = k > 127 ? 127 : k;
                    nonzero += k != 0;
                    raw[1 + ((size_t)c * FREQS + (size_t)f) * blocks + block] =
                        (uint8_t)(v < 0 && k ? 2 * k - 1 : 2 * k);
                }
            }
        }
    return nonzero;
}

void aem_residual_apply(const uint8_t *raw, uint32_t w, uint32_t h, int colours, uint32_t x0,
                        uint32_t y0, uint32_t x1, uint32_t y1, uint8_t *px, size_t stride,
                        int channels)
{
    float basis[B][B], inverse[B][B];
    dct_basis(basis);
    for (int k = 0; k < B; k++)
        for (int n = 0; n < B; n++)
            inverse[n][k] = basis[k][n];
    uint32_t bw = (w + B - 1) / B, bh = (h + B - 1) / B;
    size_t blocks = (size_t)bw * bh;
    float q = (float)raw[0];
    for (uint32_t by = y0 / B; by < bh && by * B < y1; by++)
        for (uint32_t bx = x0 / B; bx < bw && bx * B < x1; bx++) {
            size_t block = (size_t)by * bw + bx;
            float res[3][B][B];
            int any = 0;
            for (int c = 0; c < colours; c++) {
                float coef[B][B];
                int nz = 0;
                for (int f = 0; f < FREQS; f++) {
                    uint8_t z = raw[1 + ((size_t)c * FREQS + (size_t)f) * blocks + block];
                    int k = (z & 1) ? -(int)(z >> 1) - 1 : (int)(z >> 1);
                    coef[f / B][f % B] = q * (float)k;
                    nz |= k;
                }
                if (nz)
                    dct2(inverse, (const float(*)[B])coef, res[c]);
                else
                    for (int y = 0; y < B; y++)
                        for (int x = 0; x < B; x++)
                            res[c][y][x] = 0;
                any |= nz;
            }
            if (!any)
                continue; /* most blocks at the lower rates */
            for (int y = 0; y < B; y++)
                for (int x = 0; x < B; x++) {
                    uint32_t X = bx * B + (uint32_t)x, Y = by * B + (uint32_t)y;
                    if (X < x0 || X >= x1 || Y < y0 || Y >= y1)
                        continue;
                    uint8_t *p = px + (size_t)(Y - y0) * stride + (size_t)(X - x0) * channels;
                    for (int c = 0; c < colours; c++) {
                        /* back from the colour basis: its transpose */
                        float r = colours == 1 ? res[0][y][x]
                                               : colour_basis[0][c] * res[0][y][x] +
                                                     colour_basis[1][c] * res[1][y][x] +
                                                     colour_basis[2][c] * res[2][y][x];
                        float v = floorf((float)p[c] + r + 0.5f);
                        p[c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
                    }
                }
        }
}
