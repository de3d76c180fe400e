/* SPDX-License-Identifier: BSD-3-Clause */
/* wiener_sums.h - the restoration filter's sums (dsp.h: nn_wiener_row_fn
 * and nn_gram_fn): the portable bodies, the C path and the fallbacks of
 * the vector paths, and the vector paths' Gram body as a macro that each
 * kernel file compiles for its own instruction set. */
#ifndef AEC_NN_WIENER_SUMS_H
#define AEC_NN_WIENER_SUMS_H
#include <stddef.h>
#include <stdint.h>

/* nn_wiener_row_fn, the portable body (the C and AVX2 paths). */
static inline __attribute__((always_inline)) void
nn_wiener_row_body(int S, const int32_t *const *down, const int32_t *const *up,
                   const int32_t *centre, int others, const int32_t *const *other,
                   const int32_t *cls, int K, const int16_t *w, size_t wstride, size_t n,
                   int32_t *acc)
{
    (void)K;
    const int T = S + 3 * others + 1;
    for (size_t x = 0; x < n; x++) {
        const int16_t *wk = w + (size_t)cls[x] * wstride;
        int32_t c2 = 2 * centre[x], a = wk[T - 1];
        for (int t = 0; t < S; t++)
            a += wk[t] * (down[t][x] + up[t][x] - c2);
        for (int e = 0; e < others; e++) {
            const int32_t *o0 = other[3 * e], *o1 = other[3 * e + 1], *o2 = other[3 * e + 2];
            const int16_t *we = wk + S + 3 * e;
            int32_t p = o0[x];
            a += we[0] * (p - centre[x]) + we[1] * (o0[x + 1] + o0[x - 1] - 2 * p) +
                 we[2] * (o2[x] + o1[x] - 2 * p);
        }
        acc[x] = a;
    }
}

/* nn_gram_fn in int64, the C path. */
static inline __attribute__((always_inline)) void nn_gram_body(int m, const int32_t *a, size_t lda,
                                                               size_t n, int64_t *G)
{
    for (int i = 0; i < m; i++)
        for (int k = i; k < m; k++) {
            const int32_t *ai = a + (size_t)i * lda, *ak = a + (size_t)k * lda;
            int64_t sum = 0;
            for (size_t x = 0; x < n; x++)
                sum += (int64_t)ai[x] * ak[x];
            G[(size_t)i * (size_t)m + (size_t)k] += sum;
        }
}

/* The vector paths' nn_gram_fn: chunks of GRAM_CHUNK columns made doubles,
 * whose products (< 2^22) and sums over a chunk (< 2^30) are exact, each
 * chunk's sums added to G as integers.  VEC doubles a vector, FMA and
 * ZERO/LOAD/SUM the path's intrinsics (a macro, so that each kernel file
 * compiles it for its own instruction set). */
#define NN_GRAM_CHUNK 256
#define NN_GRAM_MAX 24
#define NN_GRAM_VECTOR_BODY(VT, VEC, ZERO, LOAD, FMA, HSUM)                                     \
    do {                                                                                       \
        if (m > NN_GRAM_MAX) {                                                                 \
            nn_gram_body(m, a, lda, n, G);                                                     \
            return;                                                                            \
        }                                                                                      \
        double d[NN_GRAM_MAX][NN_GRAM_CHUNK] __attribute__((aligned(64)));                     \
        for (size_t x0 = 0; x0 < n; x0 += NN_GRAM_CHUNK) {                                     \
            size_t len = n - x0 < NN_GRAM_CHUNK ? n - x0 : NN_GRAM_CHUNK;                       \
            size_t padded = (len + (VEC)-1) / (VEC) * (VEC);                                   \
            for (int i = 0; i < m; i++) {                                                      \
                const int32_t *ai = a + (size_t)i * lda + x0;                                  \
                for (size_t x = 0; x < len; x++)                                               \
                    d[i][x] = (double)ai[x];                                                   \
                for (size_t x = len; x < padded; x++)                                          \
                    d[i][x] = 0;                                                               \
            }                                                                                  \
            for (int i = 0; i < m; i++)                                                        \
                for (int k = i; k < m; k++) {                                                  \
                    VT s = ZERO;                                                               \
                    for (size_t x = 0; x < padded; x += (VEC))                                 \
                        s = FMA(LOAD(&d[i][x]), LOAD(&d[k][x]), s);                            \
                    G[(size_t)i * (size_t)m + (size_t)k] += (int64_t)HSUM(s);                  \
                }                                                                              \
        }                                                                                      \
    } while (0)
#endif
