/* SPDX-License-Identifier: BSD-3-Clause */
/* kern_avx2.c - the AVX2+FMA micro-kernel: a 6x16 block of C in 12 ymm
 * accumulators over the whole K slice (6 broadcasts, 2 panel loads per 12
 * FMAs).  Built with a target attribute, run only when cpuid has AVX2+FMA. */
#include "nn/dsp.h"

#ifdef NN_HAVE_X86_PATHS
#include <immintrin.h>

#define MR 6
#define NR 16
#define T __attribute__((target("avx2,fma")))

/* R rows (a constant in each instantiation, so the accumulators stay in
 * registers for the edge blocks too). */
T static inline __attribute__((always_inline)) void block(int R, int kc, const float *A, int lda,
                                                          const float *Bp, float *C, int ldc,
                                                          int ncols, const float *bias, int epi)
{
    __m256 acc[MR][2];
    for (int r = 0; r < R; r++) {
        /* C rows are N floats apart: fetch them while the K loop runs. */
        _mm_prefetch((const char *)(C + (long)r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(C + (long)r * ldc + NR - 1), _MM_HINT_T0);
        acc[r][0] = acc[r][1] = _mm256_setzero_ps();
    }
    for (int k = 0; k < kc; k++) {
        __m256 b0 = _mm256_loadu_ps(Bp + k * NR), b1 = _mm256_loadu_ps(Bp + k * NR + 8);
        for (int r = 0; r < R; r++) {
            __m256 a = _mm256_broadcast_ss(A + (long)r * lda + k);
            acc[r][0] = _mm256_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm256_fmadd_ps(a, b1, acc[r][1]);
        }
    }
    const __m256 zero = _mm256_setzero_ps();
    for (int r = 0; r < R; r++) {
        float *c = C + (long)r * ldc;
        float start = bias ? bias[r] : 0.0f;
        if (ncols == NR) {
            __m256 s0, s1;
            if (epi & NN_EPI_SET) {
                s0 = s1 = _mm256_set1_ps(start);
            } else {
                s0 = _mm256_loadu_ps(c);
                s1 = _mm256_loadu_ps(c + 8);
            }
            s0 = _mm256_add_ps(s0, acc[r][0]);
            s1 = _mm256_add_ps(s1, acc[r][1]);
            if (epi & NN_EPI_RELU) { /* max(x, 0): x > 0 ? x : 0, NaN included */
                s0 = _mm256_max_ps(s0, zero);
                s1 = _mm256_max_ps(s1, zero);
            }
            _mm256_storeu_ps(c, s0);
            _mm256_storeu_ps(c + 8, s1);
        } else {
            float tmp[NR];
            _mm256_storeu_ps(tmp, acc[r][0]);
            _mm256_storeu_ps(tmp + 8, acc[r][1]);
            for (int j = 0; j < ncols; j++) {
                float v = ((epi & NN_EPI_SET) ? start : c[j]) + tmp[j];
                c[j] = (epi & NN_EPI_RELU) ? (v > 0.0f ? v : 0.0f) : v;
            }
        }
    }
}

T static void kernel_avx2(int rows, int kc, const float *A, int lda, const float *Bp, float *C,
                          int ldc, int ncols, const float *bias, int epi)
{
    switch (rows) {
    case 6: block(6, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 5: block(5, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 4: block(4, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 3: block(3, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 2: block(2, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    default: block(1, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    }
}

/* A full row is two loads; an edge row goes through lane masks (masked-off
 * lanes read nothing and come back zero). */
T static void pack_avx2(const float *B, int ldb, int kc, int ncols, float *Bp)
{
    if (ncols == NR) {
        for (int k = 0; k < kc; k++, B += ldb, Bp += NR) {
            _mm256_storeu_ps(Bp, _mm256_loadu_ps(B));
            _mm256_storeu_ps(Bp + 8, _mm256_loadu_ps(B + 8));
        }
        return;
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m0 = _mm256_cmpgt_epi32(_mm256_set1_epi32(ncols), lane);
    __m256i m1 = _mm256_cmpgt_epi32(_mm256_set1_epi32(ncols - 8), lane);
    for (int k = 0; k < kc; k++, B += ldb, Bp += NR) {
        _mm256_storeu_ps(Bp, _mm256_maskload_ps(B, m0));
        _mm256_storeu_ps(Bp + 8, _mm256_maskload_ps(B + 8, m1));
    }
}

const nn_dsp nn_dsp_avx2 = {"avx2", MR, NR, kernel_avx2, pack_avx2, NULL};
#endif
