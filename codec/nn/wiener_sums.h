/* SPDX-License-Identifier: BSD-3-Clause */
/* wiener_sums.h - the portable body of nn_wiener_sums_fn (dsp.h): the C
 * path, and the vector paths' fallback for more classes than their
 * permutes pick from.  Plain loops over the row, which the compiler
 * vectorises. */
#ifndef AEC_NN_WIENER_SUMS_H
#define AEC_NN_WIENER_SUMS_H
#include <stddef.h>
#include <stdint.h>

static inline __attribute__((always_inline)) void
nn_wiener_sums_body(int K, int T, const int16_t *w, size_t wstride, const int32_t *f,
                    const int32_t *cls, size_t n, int32_t *acc, int32_t *sum)
{
    for (int k = 0; k < K; k++) {
        const int16_t *wk = w + (size_t)k * wstride;
        for (size_t x = 0; x < n; x++)
            sum[x] = 0;
        for (int t = 0; t < T; t++) {
            const int32_t *ft = f + (size_t)t * n, wt = wk[t];
            for (size_t x = 0; x < n; x++)
                sum[x] += wt * ft[x];
        }
        for (size_t x = 0; x < n; x++)
            acc[x] = cls[x] == k ? sum[x] : acc[x];
    }
}
#endif
