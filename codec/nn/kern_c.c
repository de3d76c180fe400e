/* SPDX-License-Identifier: BSD-3-Clause */
/* kern_c.c - the portable reference micro-kernel: one fmaf per product, in
 * the order every vector path follows (see dsp.h). */
#include "nn/dsp.h"
#include "nn/wiener_sums.h"

#include <math.h>
#include <string.h>

#include "common/half.h"

#define MR 4
#define NR 16

/* C[rows, ncols] (+)= A[rows, kc] * Bp[kc][16], A and the epilogue as in
 * dsp.h. */
static void kernel_c(int rows, int kc, const float *A, int lda, const float *Bp, float *C,
                     int ldc, int ncols, const float *bias, int epi)
{
    long rs = lda ? lda : 1, ks = lda ? 1 : MR; /* A[r][k] at r * rs + k * ks */
    for (int r = 0; r < rows; r++) {
        float acc[NR] = {0};
        for (int k = 0; k < kc; k++)
            for (int j = 0; j < NR; j++)
                acc[j] = fmaf(A[r * rs + k * ks], Bp[k * NR + j], acc[j]);
        float *c = C + (long)r * ldc;
        float start = bias ? bias[r] : 0.0f;
        for (int j = 0; j < ncols; j++) {
            float v = ((epi & NN_EPI_SET) ? start : c[j]) + acc[j];
            c[j] = (epi & NN_EPI_RELU) ? (v > 0.0f ? v : 0.0f) : v;
        }
    }
}

static void pack_c(const float *B, int ldb, int kc, int ncols, float *Bp)
{
    for (int k = 0; k < kc; k++) {
        memcpy(Bp + (long)k * NR, B + (long)k * ldb, (size_t)ncols * sizeof(float));
        memset(Bp + (long)k * NR + ncols, 0, (size_t)(NR - ncols) * sizeof(float));
    }
}

static void conv3_row_c(int cout, int cin, int W, const float *const *rows, const float *wt,
                        const float *bias, float *out, long ostride, int relu)
{
    for (int o = 0; o < cout; o++)
        for (int x = 0; x < W; x++) {
            float acc = 0.0f;
            for (int j = 0; j < cin * 3; j++)
                for (int kx = 0; kx < 3; kx++) {
                    int at = x + kx - 1;
                    float in = rows[j] && at >= 0 && at < W ? rows[j][at] : 0.0f;
                    acc = fmaf(wt[(long)(j * 3 + kx) * cout + o], in, acc);
                }
            float v = bias[o] + acc;
            out[o * ostride + x] = relu ? (v > 0.0f ? v : 0.0f) : v;
        }
}

static void pack_conv3_c(const float *in, int B, int H, int W, int k0, int kc, int j0, int ncols,
                         float *Bp)
{
    for (int k = k0; k < k0 + kc; k++) {
        int ci = k / 9, ky = k % 9 / 3, kx = k % 3;
        for (int a = 0; a < NR; a++) {
            int j = j0 + a, x = j % W, y = j / W % H, b = j / W / H;
            int iy = y + ky - 1, ix = x + kx - 1;
            int inside = a < ncols && iy >= 0 && iy < H && ix >= 0 && ix < W;
            Bp[(long)(k - k0) * NR + a] =
                inside ? in[(((long)ci * B + b) * H + iy) * W + ix] : 0.0f;
        }
    }
}

void nn_transpose_c(const float *X, int rows, int cols, size_t ld, float *T, size_t ldt)
{
    for (int r = 0; r < rows; r++)
        for (int c = 0; c < cols; c++)
            T[(size_t)c * ldt + r] = X[(size_t)r * ld + c];
}

static void gram_c(int m, const int32_t *a, size_t lda, size_t n, int64_t *G)
{
    nn_gram_body(m, a, lda, n, G);
}

static void wiener_row_c(int S, const int32_t *const *down, const int32_t *const *up,
                         const int32_t *centre, int others, const int32_t *const *other,
                         const int32_t *cls, int K, const int16_t *w, size_t wstride, size_t n,
                         int32_t *acc)
{
    nn_wiener_row_body(S, down, up, centre, others, other, cls, K, w, wstride, n, acc);
}

const nn_dsp nn_dsp_c = {"c",          MR,          NR,
                         kernel_c,     pack_c,      conv3_row_c,
                         pack_conv3_c, aec_halves_to_floats, nn_transpose_c,
                         gram_c, wiener_row_c};
