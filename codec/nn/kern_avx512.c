/* SPDX-License-Identifier: BSD-3-Clause */
/* kern_avx512.c - the AVX-512 micro-kernel: a 6x32 block of C in 12 zmm
 * accumulators (6 broadcasts, 2 panel loads per 12 FMAs of 16 lanes), the
 * edge columns through a write mask.  Run only when cpuid has AVX-512F. */
#include "nn/dsp.h"

#ifdef NN_HAVE_X86_PATHS
#include <immintrin.h>

#define MR 6
#define NR 32
#define T __attribute__((target("avx512f")))

/* R rows (a constant in each instantiation, so the accumulators stay in
 * registers for the edge blocks too). */
T static inline __attribute__((always_inline)) void block(int R, int kc, const float *A, int lda,
                                                          const float *Bp, float *C, int ldc,
                                                          int ncols, const float *bias, int epi)
{
    __m512 acc[MR][2];
    for (int r = 0; r < R; r++) {
        /* The C rows are N floats apart, out of any prefetcher's reach: ask
         * for them now, so the misses overlap the K loop, not the epilogue. */
        _mm_prefetch((const char *)(C + (long)r * ldc), _MM_HINT_T0);
        _mm_prefetch((const char *)(C + (long)r * ldc + NR - 1), _MM_HINT_T0);
        acc[r][0] = acc[r][1] = _mm512_setzero_ps();
    }
    for (int k = 0; k < kc; k++) {
        __m512 b0 = _mm512_loadu_ps(Bp + k * NR), b1 = _mm512_loadu_ps(Bp + k * NR + 16);
        for (int r = 0; r < R; r++) {
            __m512 a = _mm512_set1_ps(A[(long)r * lda + k]);
            acc[r][0] = _mm512_fmadd_ps(a, b0, acc[r][0]);
            acc[r][1] = _mm512_fmadd_ps(a, b1, acc[r][1]);
        }
    }
    int n0 = ncols < 16 ? ncols : 16, n1 = ncols - n0;
    __mmask16 m0 = (__mmask16)((1u << n0) - 1), m1 = (__mmask16)((1u << n1) - 1);
    const __m512 zero = _mm512_setzero_ps();
    for (int r = 0; r < R; r++) {
        float *c = C + (long)r * ldc;
        __m512 s0, s1;
        if (epi & NN_EPI_SET) {
            s0 = s1 = bias ? _mm512_set1_ps(bias[r]) : zero;
        } else if (ncols == NR) { /* plain loads: masked ones are slow (Zen 5) */
            s0 = _mm512_loadu_ps(c);
            s1 = _mm512_loadu_ps(c + 16);
        } else {
            s0 = _mm512_maskz_loadu_ps(m0, c);
            s1 = _mm512_maskz_loadu_ps(m1, c + 16);
        }
        s0 = _mm512_add_ps(s0, acc[r][0]);
        s1 = _mm512_add_ps(s1, acc[r][1]);
        if (epi & NN_EPI_RELU) { /* max(x, 0) is 0 for x <= 0 and NaN: x > 0 ? x : 0 */
            s0 = _mm512_max_ps(s0, zero);
            s1 = _mm512_max_ps(s1, zero);
        }
        if (ncols == NR) {
            _mm512_storeu_ps(c, s0);
            _mm512_storeu_ps(c + 16, s1);
        } else {
            _mm512_mask_storeu_ps(c, m0, s0);
            _mm512_mask_storeu_ps(c + 16, m1, s1);
        }
    }
}

T static void kernel_avx512(int rows, int kc, const float *A, int lda, const float *Bp, float *C,
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

/* A row of the panel is two loads and two stores (edge panels masked: the
 * masked-off lanes read nothing and are stored as zeros). */
T static void pack_avx512(const float *B, int ldb, int kc, int ncols, float *Bp)
{
    if (ncols == NR) { /* plain loads: masked ones are slow (Zen 5) */
        for (int k = 0; k < kc; k++, B += ldb, Bp += NR) {
            _mm512_storeu_ps(Bp, _mm512_loadu_ps(B));
            _mm512_storeu_ps(Bp + 16, _mm512_loadu_ps(B + 16));
        }
        return;
    }
    int n0 = ncols < 16 ? ncols : 16, n1 = ncols - n0;
    __mmask16 m0 = (__mmask16)((1u << n0) - 1), m1 = (__mmask16)((1u << n1) - 1);
    for (int k = 0; k < kc; k++, B += ldb, Bp += NR) {
        _mm512_storeu_ps(Bp, _mm512_maskz_loadu_ps(m0, B));
        _mm512_storeu_ps(Bp + 16, _mm512_maskz_loadu_ps(m1, B + 16));
    }
}

const nn_dsp nn_dsp_avx512 = {"avx512", MR, NR, kernel_avx512, pack_avx512};
#endif
