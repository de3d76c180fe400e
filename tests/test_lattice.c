/* test_lattice.c - the lattice refinement's rounding and byte layout
 * (codec/vq/lattice.{h,c}, spec/bitstream.md). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "vq/lattice.h"

static uint32_t rng_state = 12345;
static uint32_t next_random(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

/* Values round to the nearer lattice point, except that the rounding
 * offset sends values up to 0.65 of a step to the smaller magnitude. */
static void test_symbol_rounding(void)
{
    const float step = 0.25f, inv = 1.0f / step;
    CHECK(aem_lattice_symbol(0.0f, inv) == 0);
    CHECK(aem_lattice_symbol(0.64f * step, inv) == 0);
    CHECK(aem_lattice_symbol(0.66f * step, inv) == 1);
    CHECK(aem_lattice_symbol(-0.66f * step, inv) == -1);
    CHECK(aem_lattice_symbol(1.64f * step, inv) == 1);
    CHECK(aem_lattice_symbol(1.66f * step, inv) == 2);
    CHECK(aem_lattice_symbol(-7.9f * step, inv) == -8);
    CHECK(aem_lattice_symbol(1e30f, inv) == AEM_LATTICE_MAX_SYMBOL);
    CHECK(aem_lattice_symbol(-1e30f, inv) == -AEM_LATTICE_MAX_SYMBOL);
    CHECK(aem_lattice_symbol(NAN, inv) == 0);
    /* The error never exceeds 0.65 of a step below saturation. */
    float worst = 0;
    for (int i = -4000; i <= 4000; i++) {
        float r = (float)i * 0.0037f;
        float e = fabsf(r - step * (float)aem_lattice_symbol(r, inv));
        worst = e > worst ? e : worst;
    }
    printf("  largest rounding error %.4f steps\n", (double)(worst / step));
    CHECK(worst <= 0.651f * step);
}

/* pack then unpack gives the symbols back, for any tile shape, extreme
 * values included; the predicted channels' residuals are what makes a
 * smooth plane cheap. */
static void test_pack_round_trip(void)
{
    const size_t shapes[][3] = {{1, 1, 1}, {3, 5, 2}, {4, 1, 7}, {1, 6, 3}, {64, 64, 5}, {17, 9, 64}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        size_t lw = shapes[k][0], lh = shapes[k][1], D = shapes[k][2], n = lw * lh;
        int32_t *sym = malloc(sizeof(int32_t) * D * n), *back = malloc(sizeof(int32_t) * D * n);
        uint8_t *planes = malloc(2 * D * n);
        for (size_t i = 0; i < D * n; i++) {
            uint32_t r = next_random();
            int32_t v = (int32_t)(r % (2 * AEM_LATTICE_MAX_SYMBOL + 1)) - AEM_LATTICE_MAX_SYMBOL;
            if (r % 7 == 0) /* extremes, alternating: the largest residuals */
                v = (i % 2) ? AEM_LATTICE_MAX_SYMBOL : -AEM_LATTICE_MAX_SYMBOL;
            if (r % 5 == 0)
                v = (int32_t)(r % 5) - 2;
            sym[i] = v;
        }
        aem_lattice_pack(sym, D, lw, lh, planes);
        aem_lattice_unpack(planes, D, lw, lh, back);
        CHECKF(memcmp(sym, back, sizeof(int32_t) * D * n) == 0, "round trip %zux%zu, D=%zu", lw,
               lh, D);
        free(sym), free(back), free(planes);
    }
    /* A ramp 6 + x + 2y in a predicted channel packs to small residuals:
     * 6 at the origin, then 1 along the first row, 2 down the first column,
     * and 1 inside (there the corner is below left and above, so the median
     * predictor takes the larger neighbour, 8 for 9 at (1,1)). */
    size_t lw = 8, lh = 8, D = AEM_LATTICE_PREDICTED + 1, n = lw * lh;
    int32_t sym[3 * 64];
    uint8_t planes[2 * 3 * 64];
    for (size_t d = 0; d < D; d++)
        for (size_t j = 0; j < n; j++)
            sym[d * n + j] = 6 + (int32_t)(j % lw) + 2 * (int32_t)(j / lw);
    aem_lattice_pack(sym, D, lw, lh, planes);
    CHECK(planes[0] == 12 && planes[1] == 2 && planes[lw] == 4); /* zigzag of 6, +1, +2 */
    CHECK(planes[lw + 1] == 2);
    CHECK(planes[(D - 1) * n + lw + 1] == 2 * 9); /* the unpredicted channel: the value itself */
}

/* Bytes from a hostile file decode to symbols within range. */
static void test_unpack_hostile(void)
{
    size_t lw = 13, lh = 11, D = 4, n = lw * lh;
    uint8_t *planes = malloc(2 * D * n);
    int32_t *sym = malloc(sizeof(int32_t) * D * n);
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < 2 * D * n; i++)
            planes[i] = (uint8_t)(round % 3 == 0 ? 0xff : next_random());
        aem_lattice_unpack(planes, D, lw, lh, sym);
        int ok = 1;
        for (size_t i = 0; i < D * n; i++)
            ok &= sym[i] >= -AEM_LATTICE_MAX_SYMBOL && sym[i] <= AEM_LATTICE_MAX_SYMBOL;
        CHECKF(ok, "round %d: a symbol out of range", round);
    }
    free(planes), free(sym);
}

int main(void)
{
    RUN_TEST(test_symbol_rounding);
    RUN_TEST(test_pack_round_trip);
    RUN_TEST(test_unpack_hostile);
    TEST_EXIT();
}
