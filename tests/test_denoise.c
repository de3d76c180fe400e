/* SPDX-License-Identifier: BSD-3-Clause */
/* test_denoise.c - de-noising training (aetrain --denoise): the noise's
 * statistics, a training step whose loss compares with the clean crop, and
 * checkpoints that keep the noise options.  Images are generated here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testlib.h"
#include "train/noise.h"
#include "train/trainer.h"

/* Standard deviation of n values around their mean. */
static double stddev(const float *v, size_t n)
{
    double s = 0, s2 = 0;
    for (size_t i = 0; i < n; i++)
        s += v[i], s2 += (double)v[i] * v[i];
    double m = s / n;
    return sqrt(s2 / n - m * m);
}

static void test_noise_statistics(void)
{
    enum { B = 2, SIDE = 64 };
    size_t plane = SIDE * SIDE, n = 3 * B * plane;
    float *pix = malloc(sizeof(float) * n);
    uint64_t rng = 3;
    for (size_t i = 0; i < n; i++)
        pix[i] = 128 / 255.0f;
    aet_noise_add(pix, B, SIDE, 10, 10, 0, &rng);
    double sd = stddev(pix, n) * 255;
    CHECKF(fabs(sd - 10) < 0.5, "Gaussian sigma 10 measured %.3f", sd);
    int on_grid = 1, in_range = 1;
    for (size_t i = 0; i < n; i++) {
        float v = pix[i] * 255;
        on_grid &= fabsf(v - floorf(v + 0.5f)) < 1e-3f;
        in_range &= pix[i] >= 0 && pix[i] <= 1;
    }
    CHECK(on_grid && in_range);
    /* Signal-dependent: none on black, sigma at mid-grey. */
    for (size_t i = 0; i < n; i++)
        pix[i] = i < n / 2 ? 0.0f : 0.5f;
    aet_noise_add(pix, B, SIDE, 20, 20, 1, &rng);
    int black = 1;
    for (size_t i = 0; i < n / 2; i++)
        black &= pix[i] == 0;
    CHECK(black);
    sd = stddev(pix + n / 2 + plane, plane) * 255; /* a mid-grey plane */
    CHECKF(fabs(sd - 20) < 1.0, "Poisson-like sigma 20 at mid-grey measured %.3f", sd);
    /* sigma 0 leaves 8-bit values as they are. */
    for (size_t i = 0; i < n; i++)
        pix[i] = (float)(i % 256) / 255.0f;
    aet_noise_add(pix, B, SIDE, 0, 0, 0, &rng);
    int same = 1;
    for (size_t i = 0; i < n; i++)
        same &= fabsf(pix[i] - (float)(i % 256) / 255.0f) < 1e-6f;
    CHECK(same);
    free(pix);
}

static const aem_config small_cfg = {
    .block = 8, .channels = 3, .latent = 8, .enc_width = 8, .enc_convs = 1,
    .dec_width = 8, .dec_convs = 1, .stages = 2, .codes = 16,
};

/* Four smooth 64x64 images in memory. */
static void make_dataset(aet_dataset *ds)
{
    ds->count = 4;
    ds->images = calloc(4, sizeof *ds->images);
    ds->names = calloc(4, sizeof *ds->names);
    for (int k = 0; k < 4; k++) {
        aeio_image *im = &ds->images[k];
        im->width = im->height = 64, im->channels = 3, im->source_bit_depth = 8;
        im->pixels = malloc(64 * 64 * 3);
        for (int y = 0; y < 64; y++)
            for (int x = 0; x < 64; x++)
                for (int c = 0; c < 3; c++)
                    im->pixels[(y * 64 + x) * 3 + c] =
                        (uint8_t)(128 + 100 * sin(0.1 * (k + 1) * x + 0.07 * y + c));
        ds->names[k] = strdup("generated");
    }
}

static void test_denoise_step(void)
{
    aet_dataset ds;
    make_dataset(&ds);
    aet_options o;
    aet_options_default(&o);
    o.batch = 2, o.crop = 32, o.steps = 4, o.warmup = 2, o.seed = 9;
    o.noise_min = 15, o.noise_max = 25;
    aet_trainer t;
    char err[256];
    int rc = aet_trainer_new(&t, &small_cfg, &o, &ds, "denoise", err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc) {
        aet_dataset_free(&ds);
        return;
    }
    CHECK(t.clean != NULL);
    aet_trainer_step(&t, &ds);
    /* The encoder saw noise of sigma 15..25; the loss is against the clean
     * crop (the decoder's output y is still that step's). */
    size_t X = 3 * 64, N = (size_t)o.batch * 4 * 4;
    double noise = 0, se_clean = 0, se_noisy = 0;
    for (size_t i = 0; i < X * N; i++) {
        double dn = (double)t.acts.x[i] - t.clean[i];
        double ec = (double)t.acts.y[i] - t.clean[i], en = (double)t.acts.y[i] - t.acts.x[i];
        noise += dn * dn, se_clean += ec * ec, se_noisy += en * en;
    }
    double noise_sd = sqrt(noise / (X * N)) * 255;
    CHECKF(noise_sd > 12 && noise_sd < 27, "input noise %.2f", noise_sd);
    CHECKF(fabs(t.mse - se_clean / (X * N)) < 1e-6 * (1 + t.mse),
           "mse %.7f, against clean %.7f", t.mse, se_clean / (X * N));
    CHECK(fabs(t.mse - se_noisy / (X * N)) > 1e-5);
    /* A checkpoint keeps the noise options. */
    char ckpt[64];
    snprintf(ckpt, sizeof ckpt, "/tmp/aec-denoise-%d.ckpt", (int)getpid());
    CHECK(aet_trainer_save(&t, ckpt, err, sizeof err) == 0);
    aet_trainer r;
    rc = aet_trainer_resume(&r, ckpt, &o, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(r.opt.noise_min == 15 && r.opt.noise_max == 25 && r.clean != NULL);
        aet_trainer_free(&r);
    }
    unlink(ckpt);
    aet_trainer_free(&t);
    aet_dataset_free(&ds);
}

int main(void)
{
    RUN_TEST(test_noise_statistics);
    RUN_TEST(test_denoise_step);
    TEST_EXIT();
}
