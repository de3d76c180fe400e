/* SPDX-License-Identifier: BSD-3-Clause */
/* test_resample.c - the half-size files' filters: the decoder's normative
 * upsampling against the spec's formula computed here in two dimensions at
 * once, on any window of the coded image; the encoder's downsampling on
 * flat pictures, odd sizes and one pixel. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "dec/dec_internal.h"
#include "enc/downsample.h"
#include "testlib.h"

static uint32_t rnd(uint32_t *s)
{
    *s = *s * 1664525u + 1013904223u;
    return *s >> 8;
}

static int64_t clampi(int64_t i, int64_t n) { return i < 0 ? 0 : i >= n ? n - 1 : i; }

/* spec/bitstream.md 4.1: the picture's pixel (X, Y) of channel c. */
static uint8_t spec_pixel(const uint8_t *coded, uint32_t cw, uint32_t chh, int ch, uint32_t X,
                          uint32_t Y, int c)
{
    static const int w[2][6] = {{2, -17, 69, 229, -34, 7}, {7, -34, 229, 69, -17, 2}};
    int64_t fx = (int64_t)(X / 2) - 3 + (X & 1), fy = (int64_t)(Y / 2) - 3 + (Y & 1);
    int64_t v = 0;
    for (int j = 0; j < 6; j++)
        for (int i = 0; i < 6; i++)
            v += (int64_t)w[Y & 1][j] * w[X & 1][i] *
                 coded[((size_t)clampi(fy + j, chh) * cw + (size_t)clampi(fx + i, cw)) * ch + c];
    int64_t r = v + 32768 < 0 ? -1 : (v + 32768) >> 16; /* floor: v is exact */
    return (uint8_t)(r < 0 ? 0 : r > 255 ? 255 : r);
}

static void test_upsample_matches_spec(void)
{
    uint32_t s = 7;
    int bad = 0;
    for (int trial = 0; trial < 40; trial++) {
        uint32_t cw = 1 + rnd(&s) % 23, chh = 1 + rnd(&s) % 19;
        int ch = trial % 2 ? 3 : 1;
        uint32_t W = 2 * cw - (rnd(&s) & 1), H = 2 * chh - (rnd(&s) & 1); /* odd or even */
        if (W == 0)
            W = 1;
        if (H == 0)
            H = 1;
        uint8_t *coded = malloc((size_t)cw * chh * ch);
        for (size_t i = 0; i < (size_t)cw * chh * ch; i++) /* extremes make the clamps work */
            coded[i] = trial % 3 == 0 ? (uint8_t)(rnd(&s) & 1 ? 255 : 0) : (uint8_t)rnd(&s);
        /* a window of the picture, and the coded pixels it reads */
        uint32_t X0 = rnd(&s) % W, Y0 = rnd(&s) % H;
        uint32_t RW = 1 + rnd(&s) % (W - X0), RH = 1 + rnd(&s) % (H - Y0);
        uint32_t cx0, cx1, cy0, cy1;
        aec_half_source(X0, RW, cw, &cx0, &cx1);
        aec_half_source(Y0, RH, chh, &cy0, &cy1);
        CHECK(cx0 < cx1 && cx1 <= cw && cy0 < cy1 && cy1 <= chh);
        size_t sstride = (size_t)(cx1 - cx0) * ch;
        uint8_t *win = malloc(sstride * (cy1 - cy0));
        for (uint32_t y = cy0; y < cy1; y++)
            memcpy(win + (size_t)(y - cy0) * sstride, coded + ((size_t)y * cw + cx0) * ch, sstride);
        size_t dstride = (size_t)RW * ch + 5; /* rows apart, padding left alone */
        uint8_t *out = malloc(dstride * RH);
        memset(out, 0xA5, dstride * RH);
        CHECK(aec_upsample2(win, sstride, cx0, cy0, cw, chh, ch, X0, Y0, RW, RH, out, dstride) == 0);
        for (uint32_t y = 0; y < RH; y++) {
            for (uint32_t x = 0; x < RW; x++)
                for (int c = 0; c < ch; c++)
                    bad += out[(size_t)y * dstride + (size_t)x * ch + c] !=
                           spec_pixel(coded, cw, chh, ch, X0 + x, Y0 + y, c);
            for (int k = 0; k < 5; k++)
                bad += out[(size_t)y * dstride + (size_t)RW * ch + k] != 0xA5;
        }
        free(coded), free(win), free(out);
    }
    CHECKF(bad == 0, "%d upsampled samples differ from the spec's formula", bad);
}

/* A flat picture stays flat (the taps are renormalised at the edges), the
 * size rounds up, and a lone pixel is itself. */
static void test_downsample_flat_and_sizes(void)
{
    const uint32_t sizes[][2] = {{1, 1}, {2, 3}, {17, 9}, {64, 64}, {3, 40}};
    for (int k = 0; k < 5; k++) {
        uint32_t w = sizes[k][0], h = sizes[k][1], cw = (w + 1) / 2, chh = (h + 1) / 2;
        size_t stride = (size_t)w * 3 + 2;
        uint8_t *pic = malloc(stride * h), *out = malloc((size_t)cw * chh * 3 + 1);
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++)
                pic[y * stride + x * 3] = 17, pic[y * stride + x * 3 + 1] = 200,
                                       pic[y * stride + x * 3 + 2] = 255;
        out[(size_t)cw * chh * 3] = 0x5A; /* one past the end: untouched */
        CHECK(aec_downsample2(pic, w, h, stride, 3, out) == 0);
        int bad = 0;
        for (size_t i = 0; i < (size_t)cw * chh; i++)
            bad += out[3 * i] != 17 || out[3 * i + 1] != 200 || out[3 * i + 2] != 255;
        CHECKF(bad == 0 && out[(size_t)cw * chh * 3] == 0x5A, "%ux%u: %d pixels not flat", w, h,
               bad);
        free(pic), free(out);
    }
}

/* Down then up keeps a smooth ramp within a level or two: the two filters
 * fit (a half-size file of a smooth picture loses little). */
static void test_down_up_smooth(void)
{
    uint32_t w = 61, h = 37, cw = 31, chh = 19;
    uint8_t *pic = malloc((size_t)w * h), *half = malloc((size_t)cw * chh), *up = malloc((size_t)w * h);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            pic[y * w + x] = (uint8_t)(40 + 2 * x + y);
    CHECK(aec_downsample2(pic, w, h, w, 1, half) == 0);
    CHECK(aec_upsample2(half, cw, 0, 0, cw, chh, 1, 0, 0, w, h, up, w) == 0);
    int worst = 0;
    for (uint32_t y = 2; y + 2 < h; y++) /* the edges' clamps bend a ramp a little */
        for (uint32_t x = 2; x + 2 < w; x++) {
            int d = abs((int)up[y * w + x] - (int)pic[y * w + x]);
            worst = d > worst ? d : worst;
        }
    CHECKF(worst <= 2, "a ramp comes back %d levels off", worst);
    free(pic), free(half), free(up);
}

int main(void)
{
    RUN_TEST(test_upsample_matches_spec);
    RUN_TEST(test_downsample_flat_and_sizes);
    RUN_TEST(test_down_up_smooth);
    TEST_EXIT();
}
