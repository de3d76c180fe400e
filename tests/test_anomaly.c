/* SPDX-License-Identifier: BSD-3-Clause */
/* test_anomaly.c - the anomaly scores of tools/common/anomaly.c, and the
 * pictures that tests/anomaly_test.sh and tests/denoise_test.sh need:
 *
 *   test_anomaly                                  the unit tests
 *   test_anomaly --scene OUT W H SEED             a smooth synthetic scene
 *   test_anomaly --noise IN OUT SIGMA SEED        IN plus Gaussian noise
 *   test_anomaly --patch IN OUT X Y W H SEED      IN with a square of strong
 *                                                 noise at X,Y (W x H): a
 *                                                 planted defect
 *   test_anomaly --brightest MAP                  "X Y" of MAP's brightest
 *                                                 pixel (the first, in
 *                                                 raster order)
 */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/anomaly.h"
#include "common/imageio.h"
#include "testlib.h"

static uint64_t rng_next(uint64_t *s)
{
    *s = *s * 6364136223846793005ull + 1442695040888963407ull;
    uint64_t z = *s;
    z = (z ^ (z >> 33)) * 0xff51afd7ed558ccdull;
    return z ^ (z >> 29);
}

static double rng_uniform(uint64_t *s) { return ((rng_next(s) >> 11) + 0.5) / 9007199254740992.0; }

static double rng_normal(uint64_t *s)
{
    double u = rng_uniform(s), v = rng_uniform(s);
    return sqrt(-2 * log(u)) * cos(6.283185307179586 * v);
}

static uint8_t clip8(double v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v)); }

/* A smooth RGB scene: a sky-like gradient, soft discs and gentle waves
 * (what the codec's models rebuild well), from the seed. */
static aeio_image make_scene(uint32_t w, uint32_t h, uint64_t seed)
{
    aeio_image img = {.width = w, .height = h, .channels = 3,
                      .pixels = malloc((size_t)w * h * 3 + 1), .source_bit_depth = 8};
    double cx[4], cy[4], r[4], col[4][3];
    for (int k = 0; k < 4; k++) {
        cx[k] = rng_uniform(&seed) * w, cy[k] = rng_uniform(&seed) * h;
        r[k] = (0.1 + 0.2 * rng_uniform(&seed)) * (w < h ? w : h);
        for (int c = 0; c < 3; c++)
            col[k][c] = 40 + 170 * rng_uniform(&seed);
    }
    double phase = 6.28 * rng_uniform(&seed);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            double v[3] = {90 + 80.0 * y / h, 120 + 60.0 * x / w, 170 - 50.0 * y / h};
            for (int k = 0; k < 4; k++) {
                double d = hypot(x - cx[k], y - cy[k]) - r[k];
                double a = 1 / (1 + exp(d / 3)); /* a soft edge */
                for (int c = 0; c < 3; c++)
                    v[c] = (1 - a) * v[c] + a * col[k][c];
            }
            double wave = 6 * sin(x * 0.09 + phase) * cos(y * 0.07);
            for (int c = 0; c < 3; c++)
                img.pixels[((size_t)y * w + x) * 3 + c] = clip8(v[c] + wave);
        }
    return img;
}

/* ---- unit tests ----------------------------------------------------------- */

static void test_auc_exact(void)
{
    double n[] = {0.1, 0.2, 0.3}, a[] = {0.4, 0.5};
    CHECK(aean_auc(n, 3, a, 2) == 1.0);
    CHECK(aean_auc(a, 2, n, 3) == 0.0);
    double same[] = {1, 1, 1};
    CHECK(aean_auc(same, 3, same, 2) == 0.5);
    /* normal {1,2,3}, anomalous {2,4}: pairs right 1 (2>1) + 0.5 (2=2) + 3 = 4.5 of 6 */
    double n2[] = {3, 1, 2}, a2[] = {4, 2};
    CHECKF(fabs(aean_auc(n2, 3, a2, 2) - 0.75) < 1e-12, "%g", aean_auc(n2, 3, a2, 2));
    CHECK(isnan(aean_auc(n, 0, a, 2)));
}

/* A perfect rebuild: every block's ratio is floor/(detail + floor) <= 1,
 * so log2 <= 0, and flat blocks give exactly 0; the map is then 128 there. */
static void test_map_identity(void)
{
    uint32_t w = 20, h = 12; /* blocks cut by the edges: 3 x 2 */
    uint8_t *a = malloc((size_t)w * h * 3);
    for (size_t i = 0; i < (size_t)w * h * 3; i++)
        a[i] = (uint8_t)(i % 7 * 30);
    aean_map m = {0};
    CHECK(aean_map_make(a, a, NULL, w, h, 3, &m) == 0);
    CHECK(m.bw == 3 && m.bh == 2);
    for (int i = 0; i < 6; i++)
        CHECK(m.log_ratio[i] <= 0);
    memset(a, 100, (size_t)w * h * 3);
    aean_map_free(&m);
    CHECK(aean_map_make(a, a, NULL, w, h, 3, &m) == 0);
    uint8_t *g = NULL;
    CHECK(aean_map_image(&m, w, h, &g) == 0);
    for (size_t i = 0; g && i < (size_t)w * h; i++)
        CHECK(g[i] == 128);
    free(g);
    aean_map_free(&m);
    free(a);
}

/* An error where the content has no detail raises that block, and only
 * that one; the score is the worst 2 % (here one block of 6). */
static void test_map_locates_error(void)
{
    uint32_t w = 24, h = 16;
    uint8_t *a = malloc((size_t)w * h), *b = malloc((size_t)w * h);
    memset(a, 80, (size_t)w * h);
    memcpy(b, a, (size_t)w * h);
    for (uint32_t y = 8; y < 16; y++)
        for (uint32_t x = 16; x < 24; x++)
            b[y * w + x] = 110;
    aean_map m = {0};
    CHECK(aean_map_make(a, b, NULL, w, h, 1, &m) == 0);
    int worst = 0;
    for (int i = 1; i < 6; i++)
        if (m.log_ratio[i] > m.log_ratio[worst])
            worst = i;
    CHECK(worst == 5);
    /* (900 + 100) / 100 */
    CHECKF(fabs(m.log_ratio[5] - log2(1000.0 / 100)) < 1e-4, "%g", m.log_ratio[5]);
    CHECK(fabs(aean_score(&m) - m.log_ratio[5]) < 1e-6);
    aean_map_free(&m);
    /* against a reference that makes the same error: ratio 1 everywhere */
    CHECK(aean_map_make(a, b, b, w, h, 1, &m) == 0);
    for (int i = 0; i < 6; i++)
        CHECK(fabs(m.log_ratio[i]) < 1e-6);
    aean_map_free(&m);
    free(a), free(b);
}

/* ---- picture helpers for the shell tests ---------------------------------- */

static int write_or_fail(const char *path, aeio_image *img)
{
    char err[512];
    int rc = aeio_write(path, img, err, sizeof err);
    if (rc)
        fprintf(stderr, "%s\n", err);
    aeio_free(img);
    return rc ? 1 : 0;
}

static int read_or_fail(const char *path, aeio_image *img)
{
    char err[512];
    if (aeio_read(path, img, 0, err, sizeof err) == 0)
        return 0;
    fprintf(stderr, "%s\n", err);
    return 1;
}

/* Gaussian noise of sigma on every colour sample, or, inside the box
 * x0,y0,bw,bh only, when bw > 0. */
static void add_noise(aeio_image *img, double sigma, uint64_t seed, uint32_t x0, uint32_t y0,
                      uint32_t bw, uint32_t bh)
{
    int colours = img->channels >= 3 ? 3 : 1;
    for (uint32_t y = 0; y < img->height; y++)
        for (uint32_t x = 0; x < img->width; x++) {
            if (bw && (x < x0 || x >= x0 + bw || y < y0 || y >= y0 + bh))
                continue;
            uint8_t *p = img->pixels + ((size_t)y * img->width + x) * (size_t)img->channels;
            for (int c = 0; c < colours; c++)
                p[c] = clip8(p[c] + sigma * rng_normal(&seed));
        }
}

int main(int argc, char **argv)
{
    aeio_image img = {0};
    if (argc == 6 && !strcmp(argv[1], "--scene")) {
        img = make_scene((uint32_t)atoi(argv[3]), (uint32_t)atoi(argv[4]),
                         strtoull(argv[5], NULL, 10));
        return write_or_fail(argv[2], &img);
    }
    if (argc == 6 && !strcmp(argv[1], "--noise")) {
        if (read_or_fail(argv[2], &img))
            return 1;
        add_noise(&img, atof(argv[4]), strtoull(argv[5], NULL, 10), 0, 0, 0, 0);
        return write_or_fail(argv[3], &img);
    }
    if (argc == 9 && !strcmp(argv[1], "--patch")) {
        if (read_or_fail(argv[2], &img))
            return 1;
        add_noise(&img, 60, strtoull(argv[8], NULL, 10), (uint32_t)atoi(argv[4]),
                  (uint32_t)atoi(argv[5]), (uint32_t)atoi(argv[6]), (uint32_t)atoi(argv[7]));
        return write_or_fail(argv[3], &img);
    }
    if (argc == 3 && !strcmp(argv[1], "--brightest")) {
        if (read_or_fail(argv[2], &img))
            return 1;
        size_t best = 0, n = (size_t)img.width * img.height;
        for (size_t i = 1; i < n; i++)
            if (img.pixels[i * (size_t)img.channels] > img.pixels[best * (size_t)img.channels])
                best = i;
        printf("%zu %zu\n", best % img.width, best / img.width);
        aeio_free(&img);
        return 0;
    }
    if (argc != 1) {
        fprintf(stderr, "usage: see the comment at the top of tests/test_anomaly.c\n");
        return 2;
    }
    RUN_TEST(test_auc_exact);
    RUN_TEST(test_map_identity);
    RUN_TEST(test_map_locates_error);
    TEST_EXIT();
}
