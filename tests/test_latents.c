/* SPDX-License-Identifier: BSD-3-Clause */
/* test_latents.c - latent export (aec_encode_latents, aeenc --latents): the
 * grid's shape, the quantised latent within the lattice's rounding of the
 * encoder's output, and the .npy writer read back by a small reader here.
 * Images are generated here. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aecodec.h"
#include "common/npy.h"
#include "testlib.h"
#include "vq/lattice.h"

static uint8_t *make_image(uint32_t w, uint32_t h)
{
    uint8_t *p = malloc((size_t)w * h * 3);
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < 3; c++)
                p[((size_t)y * w + x) * 3 + c] =
                    (uint8_t)(128 + 90 * sin(0.13 * x + 0.05 * y * (c + 1)) + ((x * y) % 7));
    return p;
}

/* Largest |z - zhat| of the two halves of a latent export of n floats. */
static double max_diff(const float *lat, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs((double)lat[i] - lat[n + i]));
    return m;
}

static void test_latents_grid(void)
{
    uint32_t w = 77, h = 45; /* not whole blocks: the grid rounds up */
    uint8_t *img = make_image(w, h);
    aec_encoder *enc = NULL;
    CHECK(aec_encoder_create(&enc, NULL) == AEC_OK);
    aec_encode_params p;
    aec_encode_params_default(&p);
    float *lat = NULL;
    uint32_t gw = 0, gh = 0, D = 0;
    double prev = 0;
    const float steps[3] = {0.4f, 0.1f, 0.025f};
    for (int k = 0; k < 3; k++) {
        p.lattice_step = steps[k];
        aec_status st = aec_encode_latents(enc, img, w, h, 0, AEC_RGB, &p, &lat, &gw, &gh, &D);
        CHECKF(st == AEC_OK, "%s", aec_encoder_last_error(enc));
        if (st != AEC_OK)
            break;
        CHECK(gw == 10 && gh == 6 && D > 0);
        size_t n = (size_t)gw * gh * D;
        double d = max_diff(lat, n);
        /* The codec rounds with an offset of at least that of the detail
         * channels at this step (an error of at most 1 - offset steps),
         * and empties sparse groups only under a threshold above that. */
        double bound = aem_lattice_sparse_threshold(steps[k]);
        CHECKF(d <= bound * steps[k] + 1e-5 && d > 0, "step %g: max error %g", steps[k], d);
        if (k > 0)
            CHECK(d < prev);
        prev = d;
        double mag = 0;
        for (size_t i = 0; i < n; i++)
            mag += fabs(lat[i]);
        CHECK(mag / n > 1e-3); /* a real latent, not zeros */
        aec_free(lat);
        lat = NULL;
    }
    /* Errors are codes with a message, and nothing is returned. */
    p.quality = 99;
    p.lattice_step = AEC_LATTICE_AUTO;
    CHECK(aec_encode_latents(enc, img, w, h, 0, AEC_RGB, &p, &lat, &gw, &gh, &D) ==
              AEC_ERR_INVALID_ARGUMENT &&
          lat == NULL);
    aec_encoder_destroy(enc);
    free(img);
}

/* A reader of the .npy header written by npy_f32_bytes: 0 when it is
 * version 1.0 '<f4' C order of the expected shape string. */
static int check_npy(const uint8_t *b, size_t size, const char *shape, size_t *data_at)
{
    if (size < 10 || memcmp(b, "\x93NUMPY\x01\x00", 8))
        return -1;
    size_t hl = b[8] | (size_t)b[9] << 8;
    if (10 + hl > size || (10 + hl) % 64 || b[10 + hl - 1] != '\n')
        return -1;
    char head[600] = {0};
    memcpy(head, b + 10, hl < sizeof head - 1 ? hl : sizeof head - 1);
    if (!strstr(head, "'descr': '<f4'") || !strstr(head, "'fortran_order': False") ||
        !strstr(head, shape))
        return -1;
    *data_at = 10 + hl;
    return 0;
}

static void test_npy_writer(void)
{
    float data[2 * 3 * 4];
    for (int i = 0; i < 24; i++)
        data[i] = (float)i * 0.5f - 3.25f;
    uint64_t shape[3] = {2, 3, 4};
    uint8_t *b = NULL;
    size_t size = 0, at = 0;
    CHECK(npy_f32_bytes(data, shape, 3, &b, &size) == 0);
    CHECK(check_npy(b, size, "'shape': (2, 3, 4), }", &at) == 0);
    CHECK(size == at + sizeof data);
    int same = 1;
    for (int i = 0; i < 24 && size == at + sizeof data; i++) {
        uint32_t v = 0;
        for (int k = 0; k < 4; k++)
            v |= (uint32_t)b[at + 4 * i + k] << (8 * k);
        float f;
        memcpy(&f, &v, 4);
        same &= f == data[i];
    }
    CHECK(same);
    free(b);
    uint64_t one[1] = {5};
    CHECK(npy_f32_bytes(data, one, 1, &b, &size) == 0);
    CHECK(check_npy(b, size, "'shape': (5,), }", &at) == 0); /* numpy's 1-tuple */
    free(b);
}

int main(void)
{
    RUN_TEST(test_latents_grid);
    RUN_TEST(test_npy_writer);
    TEST_EXIT();
}
