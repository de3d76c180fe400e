/* SPDX-License-Identifier: BSD-3-Clause */
/* downsample.c - the half-size image the low levels code (spec/bitstream.md
 * 4.1; the decoder upsamples it by two with Lanczos-3).
 *
 * Lanczos-3 at factor two: coded pixel i is centred between picture
 * pixels 2i and 2i+1 and reads the 12 pixels 2i-5 .. 2i+6, weighted by
 * sinc(d/2) sinc(d/6) at their distance d from that centre; at the
 * picture's edges the taps that fall outside are dropped and the rest
 * renormalised.  Rows first (in floats), then columns, rounded to 8 bits.
 * Non-normative: an encoder may make the half-size image any way it likes;
 * against a cubic upsampling it measured within 0.05 dB of a
 * least-squares fit at equal rate (bench/NOTES.md) for far less work. */
#include <math.h>
#include <stdlib.h>

#include "enc/downsample.h"

#define TAPS 12

static double sinc(double x)
{
    const double pi = 3.14159265358979323846;
    return x == 0 ? 1.0 : sin(pi * x) / (pi * x);
}

/* w[k] for picture pixel 2i - 5 + k. */
static void lanczos_taps(float w[TAPS])
{
    for (int k = 0; k < TAPS; k++) {
        double d = (double)(k - 5) - 0.5; /* pixel centre j + 1/2 minus 2i + 1 */
        w[k] = (float)(sinc(d / 2) * sinc(d / 6));
    }
}

/* out[i] (i < (n + 1) / 2, `step` floats apart) from in[j] (j < n, `in_step`
 * apart): one line of the filter. */
static void filter_line(const float *in, size_t in_step, uint32_t n, const float w[TAPS],
                        float *out, size_t step)
{
    for (uint32_t i = 0; i < (n + 1) / 2; i++) {
        double s = 0, norm = 0;
        for (int k = 0; k < TAPS; k++) {
            int64_t j = 2 * (int64_t)i - 5 + k;
            if (j < 0 || j >= (int64_t)n)
                continue;
            s += w[k] * in[(size_t)j * in_step];
            norm += w[k];
        }
        out[(size_t)i * step] = (float)(s / norm);
    }
}

int aec_downsample2(const uint8_t *src, uint32_t width, uint32_t height, size_t stride, int ch,
                    uint8_t *dst)
{
    uint32_t cw = (width + 1) / 2, chh = (height + 1) / 2;
    float w[TAPS];
    lanczos_taps(w);
    float *line = malloc(sizeof(float) * width);
    float *rows = malloc(sizeof(float) * (size_t)cw * height); /* one channel, rows filtered */
    float *col = malloc(sizeof(float) * chh);
    if (!line || !rows || !col) {
        free(line), free(rows), free(col);
        return -1;
    }
    for (int c = 0; c < ch; c++) {
        for (uint32_t y = 0; y < height; y++) {
            const uint8_t *r = src + (size_t)y * stride + c;
            for (uint32_t x = 0; x < width; x++)
                line[x] = r[(size_t)x * ch];
            filter_line(line, 1, width, w, rows + (size_t)y * cw, 1);
        }
        for (uint32_t x = 0; x < cw; x++) {
            filter_line(rows + x, cw, height, w, col, 1);
            for (uint32_t y = 0; y < chh; y++) {
                float v = col[y] + 0.5f;
                dst[((size_t)y * cw + x) * ch + c] = v <= 0 ? 0 : v >= 255 ? 255 : (uint8_t)v;
            }
        }
    }
    free(line), free(rows), free(col);
    return 0;
}
