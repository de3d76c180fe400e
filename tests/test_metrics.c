/* SPDX-License-Identifier: BSD-3-Clause */
/* test_metrics.c - PSNR, MS-SSIM, PCHIP and BD-rate of tools/common/metrics. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "common/metrics.h"
#include "testlib.h"

/* Reference values computed with scipy 1.10 (scipy.interpolate.
 * PchipInterpolator, its .derivative() and .integrate()); see the tests. */
#define REF_PCHIP0 1.309187734082397
#define REF_PCHIP1 1.5833616449383625
#define REF_PCHIP2 2.3819672131147538
#define REF_PCHIP3 3
#define REF_PCHIP4 3.8280000000000003
#define REF_D0 1.2166666666666668
#define REF_D1 0.26966292134831454
#define REF_D2 0.25573770491803272
#define REF_D3 0
#define REF_D4 0
#define REF_D5 1.3
#define REF_PCHIP_INT 14.563793600884397
#define REF_BD -42.983434820848174

static int near(double a, double b, double tol) { return fabs(a - b) <= tol; }

/* Small deterministic PRNG (xorshift) and Gaussian noise. */
static uint32_t rng_state = 12345u;
static uint32_t rng(void)
{
    uint32_t x = rng_state;
    x ^= x << 13;
    x ^= x >> 17;
    x ^= x << 5;
    return rng_state = x;
}
static double rng_gauss(void)
{
    double u1 = (rng() + 1.0) / 4294967297.0, u2 = (rng() + 1.0) / 4294967297.0;
    return sqrt(-2.0 * log(u1)) * cos(6.283185307179586 * u2);
}
static uint8_t clamp8(double v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lrint(v)); }

/* A smooth + textured test picture. */
static uint8_t *make_picture(uint32_t w, uint32_t h, int ch)
{
    uint8_t *p = malloc((size_t)w * h * (size_t)ch);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                double v = 128 + 60 * sin(x * 0.05 + c) * cos(y * 0.07) +
                           30 * sin(x * 0.9 + y * 0.4 + c * 2) + 10 * rng_gauss();
                p[((size_t)y * w + x) * (size_t)ch + (size_t)c] = clamp8(v);
            }
    return p;
}

static void test_psnr_hand(void)
{
    /* 2x2 RGB, errors 1,2,3 / 0,0,0 / 4,0,0 / 0,0,2: MSE = 34/12 */
    uint8_t a[12], b[12];
    const int err[12] = {1, 2, 3, 0, 0, 0, 4, 0, 0, 0, 0, -2};
    for (int i = 0; i < 12; i++) {
        a[i] = (uint8_t)(100 + i);
        b[i] = (uint8_t)(a[i] + err[i]);
    }
    CHECK(near(aem_mse(a, b, 2, 2, 3), 34.0 / 12.0, 1e-12));
    double p = aem_psnr(a, b, 2, 2, 3);
    CHECKF(near(p, 43.607826898732796, 1e-9), "psnr %.12f", p);
    CHECK(near(aem_psnr(b, a, 2, 2, 3), p, 1e-12)); /* symmetric */

    /* grey 1x3, every sample off by 255: MSE 65025, PSNR 0 dB */
    uint8_t g0[3] = {0, 0, 255}, g1[3] = {255, 255, 0};
    CHECK(near(aem_mse(g0, g1, 3, 1, 1), 65025.0, 1e-9));
    CHECK(near(aem_psnr(g0, g1, 3, 1, 1), 0.0, 1e-12));

    /* an MSE of 1 is 48.1308 dB */
    CHECK(near(aem_psnr_from_mse(1.0), 20.0 * log10(255.0), 1e-12));
    CHECK(near(aem_psnr_from_mse(1.0), 48.130803608679, 1e-9));
}

static void test_psnr_identical_capped(void)
{
    uint8_t a[12];
    for (int i = 0; i < 12; i++)
        a[i] = (uint8_t)(i * 20);
    CHECK(aem_mse(a, a, 2, 2, 3) == 0.0);
    double p = aem_psnr(a, a, 2, 2, 3);
    CHECK(isfinite(p));
    CHECK(p == AEM_PSNR_CAP);
    CHECK(aem_psnr_from_mse(0.0) == AEM_PSNR_CAP);
    CHECK(aem_psnr_from_mse(1e-30) == AEM_PSNR_CAP); /* > cap is capped */
    /* the mean of capped values stays finite */
    CHECK(isfinite((p + aem_psnr_from_mse(4.0)) / 2));
}

static void test_msssim_scales(void)
{
    CHECK(aem_msssim_scales(768, 512) == 5);
    CHECK(aem_msssim_scales(176, 1000) == 5);
    CHECK(aem_msssim_scales(1000, 175) == 4);
    CHECK(aem_msssim_scales(88, 88) == 4);
    CHECK(aem_msssim_scales(87, 88) == 3);
    CHECK(aem_msssim_scales(44, 50) == 3);
    CHECK(aem_msssim_scales(22, 50) == 2);
    CHECK(aem_msssim_scales(21, 50) == 1);
    CHECK(aem_msssim_scales(5, 5) == 1);
}

static void test_msssim_identical(void)
{
    static const uint32_t sizes[][2] = {{256, 192}, {97, 61}, {30, 20}, {7, 9}, {1, 1}};
    for (size_t i = 0; i < sizeof sizes / sizeof sizes[0]; i++) {
        uint32_t w = sizes[i][0], h = sizes[i][1];
        uint8_t *p = make_picture(w, h, 3);
        double m = aem_msssim(p, p, w, h, 3);
        CHECKF(near(m, 1.0, 1e-6), "%ux%u: %.9f", w, h, m);
        free(p);
    }
}

/* Constant images: every contrast-structure term is exactly 1, so MS-SSIM is
 * the luminance term l = (2ab + C1) / (a^2 + b^2 + C1) to the power of the
 * last scale's weight. */
static void test_msssim_constant_hand(void)
{
    const double C1 = (0.01 * 255) * (0.01 * 255);
    const double l = (2 * 100.0 * 110.0 + C1) / (100.0 * 100 + 110.0 * 110 + C1);
    for (int pass = 0; pass < 2; pass++) {
        uint32_t w = pass ? 40 : 256, h = pass ? 48 : 200;
        size_t n = (size_t)w * h;
        uint8_t *a = malloc(n), *b = malloc(n);
        memset(a, 100, n);
        memset(b, 110, n);
        /* 5 scales: weight 0.1333; 40x48: 2 scales, 0.2856 / (0.0448 + 0.2856) */
        double expect = pow(l, pass ? 0.2856 / (0.0448 + 0.2856) : 0.1333);
        double m = aem_msssim(a, b, w, h, 1);
        CHECKF(near(m, expect, 1e-9), "%ux%u: %.9f expected %.9f", w, h, m, expect);
        free(a);
        free(b);
    }
}

static void test_msssim_decreases_with_noise(void)
{
    const uint32_t w = 200, h = 180;
    uint8_t *p = make_picture(w, h, 3);
    uint8_t *q = malloc((size_t)w * h * 3);
    double prev = 1.0, prev_psnr = AEM_PSNR_CAP;
    const double sigmas[] = {1, 3, 8, 20, 50};
    for (size_t s = 0; s < sizeof sigmas / sizeof sigmas[0]; s++) {
        rng_state = 777u;
        for (size_t i = 0; i < (size_t)w * h * 3; i++)
            q[i] = clamp8(p[i] + sigmas[s] * rng_gauss());
        double m = aem_msssim(p, q, w, h, 3);
        double ps = aem_psnr(p, q, w, h, 3);
        CHECKF(m < prev && m > 0.0, "sigma %g: %.6f after %.6f", sigmas[s], m, prev);
        CHECK(ps < prev_psnr);
        prev = m;
        prev_psnr = ps;
        /* symmetric in its arguments */
        CHECK(near(aem_msssim(q, p, w, h, 3), m, 1e-6));
    }
    CHECK(prev < 0.9);
    /* a one-plane float call agrees with the 8-bit one on a grey image */
    {
        size_t n = (size_t)w * h;
        float *fx = malloc(n * sizeof(float)), *fy = malloc(n * sizeof(float));
        uint8_t *gx = malloc(n), *gy = malloc(n);
        for (size_t i = 0; i < n; i++) {
            gx[i] = p[3 * i];
            gy[i] = q[3 * i];
            fx[i] = gx[i];
            fy[i] = gy[i];
        }
        CHECK(near(aem_msssim_plane(fx, fy, w, h), aem_msssim(gx, gy, w, h, 1), 1e-9));
        free(fx);
        free(fy);
        free(gx);
        free(gy);
    }
    free(p);
    free(q);
}

static void test_pchip_hand(void)
{
    /* x = 0,1,2, y = 0,1,3: secants 1, 2; interior slope = weighted harmonic
     * mean 1/((3/1 + 3/2)/6) = 4/3; end slopes (3*1 - 2)/2 = 0.5 and
     * (3*2 - 1)/2 = 2.5. */
    const double x[3] = {0, 1, 2}, y[3] = {0, 1, 3};
    double d[3];
    aem_pchip_slopes(x, y, 3, d);
    CHECK(near(d[0], 0.5, 1e-12));
    CHECK(near(d[1], 4.0 / 3.0, 1e-12));
    CHECK(near(d[2], 2.5, 1e-12));
    /* Hermite basis at s = 1/2: y0/2 + h d0/8 + y1/2 - h d1/8 */
    CHECK(near(aem_pchip_eval(x, y, d, 3, 0.5), 0.0625 + 0.5 - 1.0 / 6.0, 1e-12));
    CHECK(near(aem_pchip_eval(x, y, d, 3, 1.5), 0.5 + 1.0 / 6.0 + 1.5 - 0.3125, 1e-12));
    for (int i = 0; i < 3; i++)
        CHECK(near(aem_pchip_eval(x, y, d, 3, x[i]), y[i], 1e-12));
    /* exact integral over [0, 2]: per piece h(y0+y1)/2 + h^2(d0-d1)/12 */
    double expect = (0 + 1) / 2.0 + (0.5 - 4.0 / 3.0) / 12 + (1 + 3) / 2.0 + (4.0 / 3.0 - 2.5) / 12;
    CHECK(near(aem_pchip_integral(x, y, d, 3, 0, 2), expect, 1e-12));

    /* two points: a straight line */
    const double x2[2] = {1, 3}, y2[2] = {2, 6};
    double d2[2];
    aem_pchip_slopes(x2, y2, 2, d2);
    CHECK(near(aem_pchip_eval(x2, y2, d2, 2, 2.5), 5.0, 1e-12));
    CHECK(near(aem_pchip_integral(x2, y2, d2, 2, 1.5, 2.5), 4.0, 1e-12));
}

/* Values of scipy.interpolate.PchipInterpolator on a non-uniform set. */
static void test_pchip_scipy_reference(void)
{
    const double x[6] = {0.0, 0.5, 2.0, 3.0, 4.5, 7.0};
    const double y[6] = {1.0, 1.5, 1.7, 3.0, 3.0, 5.0};
    const double t[5] = {0.25, 1.0, 2.5, 4.0, 6.0};
    const double ref[5] = {REF_PCHIP0, REF_PCHIP1, REF_PCHIP2, REF_PCHIP3, REF_PCHIP4};
    const double ref_slope[6] = {REF_D0, REF_D1, REF_D2, REF_D3, REF_D4, REF_D5};
    double d[6];
    aem_pchip_slopes(x, y, 6, d);
    for (int i = 0; i < 6; i++)
        CHECKF(near(d[i], ref_slope[i], 1e-12), "d[%d] = %.15g vs %.15g", i, d[i], ref_slope[i]);
    for (int i = 0; i < 5; i++) {
        double v = aem_pchip_eval(x, y, d, 6, t[i]);
        CHECKF(near(v, ref[i], 1e-12), "at %g: %.15g vs %.15g", t[i], v, ref[i]);
    }
    double integ = aem_pchip_integral(x, y, d, 6, 0.25, 6.0);
    CHECKF(near(integ, REF_PCHIP_INT, 1e-12), "integral %.15g vs %.15g", integ, REF_PCHIP_INT);
}

static void test_pchip_monotone(void)
{
    /* a staircase: PCHIP must not overshoot and must stay flat on flat parts */
    const double x[6] = {0, 1, 2, 3, 4, 5}, y[6] = {0, 0, 1, 1, 2, 5};
    double d[6];
    aem_pchip_slopes(x, y, 6, d);
    double prev = -1.0;
    for (int i = 0; i <= 500; i++) {
        double t = i / 100.0, v = aem_pchip_eval(x, y, d, 6, t);
        CHECKF(v >= prev - 1e-12, "not monotone at %g", t);
        CHECK(v >= 0.0 && v <= 5.0);
        if (t <= 1.0)
            CHECK(v == 0.0);
        if (t >= 2.0 && t <= 3.0)
            CHECK(near(v, 1.0, 1e-12));
        prev = v;
    }
    /* the convenience wrapper: unsorted input, equal x averaged, range check */
    const double ux[5] = {2, 0, 1, 1, 3}, uy[5] = {4, 0, 1, 3, 6};
    CHECK(near(aem_interp_pchip(ux, uy, 5, 1.0), 2.0, 1e-12));
    CHECK(near(aem_interp_pchip(ux, uy, 5, 3.0), 6.0, 1e-12));
    CHECK(isnan(aem_interp_pchip(ux, uy, 5, 3.5)));
    CHECK(isnan(aem_interp_pchip(ux, uy, 5, -0.1)));
}

static void test_bd_rate_self_and_half(void)
{
    const double r[5] = {0.1, 0.2, 0.45, 0.8, 1.6};
    const double p[5] = {26.0, 28.1, 31.0, 33.2, 36.9};
    double half[5];
    for (int i = 0; i < 5; i++)
        half[i] = r[i] / 2;
    CHECK(near(aem_bd_rate(r, p, 5, r, p, 5), 0.0, 1e-9));
    double bd = aem_bd_rate(r, p, 5, half, p, 5);
    CHECKF(near(bd, -50.0, 0.1) && near(bd, -50.0, 1e-9), "half rate: %.9f", bd);
    CHECK(near(aem_bd_rate(half, p, 5, r, p, 5), 100.0, 1e-9));
    CHECK(near(aem_bd_psnr(r, p, 5, r, p, 5), 0.0, 1e-9));
    /* half the rate with PSNRs at other points of the same curve */
    double p2[4], r2[4];
    double d[5];
    double lr[5];
    for (int i = 0; i < 5; i++)
        lr[i] = log(r[i]);
    aem_pchip_slopes(p, lr, 5, d);
    for (int i = 0; i < 4; i++) {
        p2[i] = 27.0 + 2.5 * i;
        r2[i] = exp(aem_pchip_eval(p, lr, d, 5, p2[i])) / 2;
    }
    bd = aem_bd_rate(r, p, 5, r2, p2, 4);
    CHECKF(near(bd, -50.0, 3.0), "resampled half rate: %.6f", bd);
}

static void test_bd_rate_hand(void)
{
    /* Two points each = straight lines in (PSNR, log rate).
     * anchor: log r = 1 + (P-30)/10; test: log r = 1 + (P-32)/10.
     * Shared range [32, 40], difference -0.2 everywhere: exp(-0.2) - 1. */
    const double ra[2] = {exp(1.0), exp(2.0)}, pa[2] = {30, 40};
    const double rt[2] = {exp(1.0), exp(2.0)}, pt[2] = {32, 42};
    double bd = aem_bd_rate(ra, pa, 2, rt, pt, 2);
    CHECKF(near(bd, -18.126924692201818, 1e-9), "%.12f", bd);
    /* test: log r = 1 + (P-30)/5 on [30, 40]: difference (P-30)/10, mean 0.5 */
    const double rt2[2] = {exp(1.0), exp(3.0)}, pt2[2] = {30, 40};
    bd = aem_bd_rate(ra, pa, 2, rt2, pt2, 2);
    CHECKF(near(bd, 64.87212707001282, 1e-9), "%.12f", bd);
    /* BD-PSNR of the first pair: shared log-rate range [1, 2], +2 dB */
    CHECK(near(aem_bd_psnr(ra, pa, 2, rt, pt, 2), 2.0, 1e-9));
    /* order of the points does not matter */
    const double ra3[3] = {exp(2.0), exp(1.0), exp(1.5)}, pa3[3] = {40, 30, 35};
    bd = aem_bd_rate(ra3, pa3, 3, rt, pt, 2);
    CHECKF(near(bd, -18.126924692201818, 1e-9), "%.12f", bd);
    /* no overlap / too few points */
    const double pf[2] = {50, 60};
    CHECK(isnan(aem_bd_rate(ra, pa, 2, rt, pf, 2)));
    CHECK(isnan(aem_bd_rate(ra, pa, 1, rt, pt, 2)));
}

static void test_bd_rate_scipy_reference(void)
{
    /* Realistic curves; reference from scipy PchipInterpolator(...).integrate */
    const double ra[6] = {0.12, 0.21, 0.35, 0.55, 0.83, 1.30};
    const double pa[6] = {25.1, 27.3, 29.4, 31.5, 33.6, 35.9};
    const double rt[4] = {0.08, 0.15, 0.29, 0.52};
    const double pt[4] = {26.0, 28.4, 31.0, 33.3};
    double bd = aem_bd_rate(ra, pa, 6, rt, pt, 4);
    CHECKF(near(bd, REF_BD, 1e-9), "%.12f vs %.12f", bd, REF_BD);
}

int main(void)
{
    RUN_TEST(test_psnr_hand);
    RUN_TEST(test_psnr_identical_capped);
    RUN_TEST(test_msssim_scales);
    RUN_TEST(test_msssim_identical);
    RUN_TEST(test_msssim_constant_hand);
    RUN_TEST(test_msssim_decreases_with_noise);
    RUN_TEST(test_pchip_hand);
    RUN_TEST(test_pchip_scipy_reference);
    RUN_TEST(test_pchip_monotone);
    RUN_TEST(test_bd_rate_self_and_half);
    RUN_TEST(test_bd_rate_hand);
    RUN_TEST(test_bd_rate_scipy_reference);
    TEST_EXIT();
}
