/* SPDX-License-Identifier: BSD-3-Clause */
/* kern_avx2.c - the AVX2+FMA micro-kernel: a 6x16 block of C in 12 ymm
 * accumulators over the whole K slice (6 broadcasts, 2 panel loads per 12
 * FMAs).  Built with a target attribute, run only when cpuid has AVX2+FMA. */
#include "nn/dsp.h"
#include "nn/wiener_sums.h"

#ifdef NN_HAVE_X86_PATHS
#include <immintrin.h>

#include "common/half.h"

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
            __m256 a = _mm256_broadcast_ss(lda ? A + (long)r * lda + k : A + k * MR + r);
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

/* lda = 0 (packed A) gets an instantiation of its own, whose addresses
 * are constant offsets. */
T static inline __attribute__((always_inline)) void rows_block(int R, int kc, const float *A,
                                                               int lda, const float *Bp, float *C,
                                                               int ldc, int ncols,
                                                               const float *bias, int epi)
{
    if (lda)
        block(R, kc, A, lda, Bp, C, ldc, ncols, bias, epi);
    else
        block(R, kc, A, 0, Bp, C, ldc, ncols, bias, epi);
}

T static void kernel_avx2(int rows, int kc, const float *A, int lda, const float *Bp, float *C,
                          int ldc, int ncols, const float *bias, int epi)
{
    switch (rows) {
    case 6: rows_block(6, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 5: rows_block(5, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 4: rows_block(4, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 3: rows_block(3, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 2: rows_block(2, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    default: rows_block(1, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
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

/* pack_conv3 (nn/dsp.h): the panel's columns as runs along the input's
 * rows; for each run, k row and half of the panel, a masked load of the
 * lanes that read inside the row (lo..hi-1).  A half whose first lane
 * would read before the row (column -1 at an image's left edge) is filled
 * lane by lane instead, so no address before the row is formed. */
T static __m256 conv3_half(__m256 v, const float *row, int first, int lo, int hi)
{
    if (lo >= hi)
        return v;
    if (first < 0) { /* first: the column lane 0 of the half reads */
        float t[8];
        _mm256_storeu_ps(t, v);
        for (int l = lo; l < hi; l++)
            t[l] = row[first + l];
        return _mm256_loadu_ps(t);
    }
    const __m256i lane = _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7);
    __m256i m = _mm256_and_si256(_mm256_cmpgt_epi32(_mm256_set1_epi32(hi), lane),
                                 _mm256_cmpgt_epi32(lane, _mm256_set1_epi32(lo - 1)));
    return _mm256_blendv_ps(v, _mm256_maskload_ps(row + first, m), _mm256_castsi256_ps(m));
}

T static void pack_conv3_avx2(const float *in, int B, int H, int W, int k0, int kc, int j0,
                              int ncols, float *Bp)
{
    struct {
        int b, y, x, a, len;
    } run[NR];
    int nruns = 0;
    for (int a = 0; a < ncols; nruns++) {
        int j = j0 + a, x = j % W, row = j / W;
        int len = W - x < ncols - a ? W - x : ncols - a;
        run[nruns].b = row / H, run[nruns].y = row % H, run[nruns].x = x;
        run[nruns].a = a, run[nruns].len = len;
        a += len;
    }
    int ci = k0 / 9, ky = k0 % 9 / 3, kx = k0 % 3;
    for (int k = 0; k < kc; k++, Bp += NR) {
        __m256 v[2] = {_mm256_setzero_ps(), _mm256_setzero_ps()};
        for (int r = 0; r < nruns; r++) {
            int iy = run[r].y + ky - 1;
            if (iy < 0 || iy >= H)
                continue;
            const float *row = in + (((size_t)ci * B + run[r].b) * H + iy) * W;
            int shift = run[r].x - run[r].a + kx - 1; /* lane l reads column l + shift */
            int lo = run[r].a > -shift ? run[r].a : -shift;
            int hi = run[r].a + run[r].len < W - shift ? run[r].a + run[r].len : W - shift;
            for (int h = 0; h < 2; h++) {
                int l0 = lo - 8 * h > 0 ? lo - 8 * h : 0, l1 = hi - 8 * h < 8 ? hi - 8 * h : 8;
                v[h] = conv3_half(v[h], row, shift + 8 * h, l0, l1);
            }
        }
        _mm256_storeu_ps(Bp, v[0]);
        _mm256_storeu_ps(Bp + 8, v[1]);
        if (++kx == 3) {
            kx = 0;
            if (++ky == 3)
                ky = 0, ci++;
        }
    }
}

/* conv3_row (nn/dsp.h) with 8-lane vectors.  Outputs go in groups of at
 * most 8 (16 ymm registers: R x NB accumulators, NB inputs, a weight);
 * each output's sum is the same sequence of FMAs in any grouping, so the
 * bits are the other paths'.  wt's rows are cout apart. */

/* bias + the sum of products, then the ReLU: the other paths' order.
 * maxps gives its second operand for a NaN: x > 0 ? x : 0. */
T static inline __attribute__((always_inline)) __m256 conv3_finish(__m256 acc, float bias,
                                                                   int relu)
{
    __m256 s = _mm256_add_ps(_mm256_set1_ps(bias), acc);
    return relu ? _mm256_max_ps(s, _mm256_setzero_ps()) : s;
}

/* NB blocks of 8 pixels inside the row (x >= 1 and x + 8 NB + 1 <= W). */
T static inline __attribute__((always_inline)) void conv3_inside(int R, int NB, int cin, int cout,
                                                                 int x,
                                                                 const float *const *rows,
                                                                 const float *wt,
                                                                 const float *bias, float *out,
                                                                 long ostride, int relu)
{
    const __m256 zero = _mm256_setzero_ps();
    __m256 acc[8][3];
    for (int o = 0; o < R; o++)
        for (int b = 0; b < NB; b++)
            acc[o][b] = zero;
    for (int j = 0; j < cin * 3; j++) {
        const float *r = rows[j];
        for (int kx = 0; kx < 3; kx++) {
            __m256 v[3];
            for (int b = 0; b < NB; b++)
                v[b] = r ? _mm256_loadu_ps(r + x + 8 * b + kx - 1) : zero;
            const float *wk = wt + (long)(j * 3 + kx) * cout;
            for (int o = 0; o < R; o++) {
                __m256 wo = _mm256_broadcast_ss(wk + o);
                for (int b = 0; b < NB; b++)
                    acc[o][b] = _mm256_fmadd_ps(wo, v[b], acc[o][b]);
            }
        }
    }
    for (int o = 0; o < R; o++)
        for (int b = 0; b < NB; b++)
            _mm256_storeu_ps(out + o * ostride + x + 8 * b, conv3_finish(acc[o][b], bias[o], relu));
}

/* One block of up to 8 pixels anywhere in the row: each input row's
 * pixels x-1 .. x+8 copied with zeros outside the row, then loaded at the
 * three offsets. */
T static inline __attribute__((always_inline)) void conv3_edge(int R, int cin, int cout, int W,
                                                               int x,
                                                               const float *const *rows,
                                                               const float *wt,
                                                               const float *bias, float *out,
                                                               long ostride, int relu)
{
    int n = W - x < 8 ? W - x : 8;
    const __m256 zero = _mm256_setzero_ps();
    __m256 acc[8];
    for (int o = 0; o < R; o++)
        acc[o] = zero;
    for (int j = 0; j < cin * 3; j++) {
        float pad[10];
        for (int l = 0; l < 10; l++) {
            int at = x - 1 + l;
            pad[l] = rows[j] && at >= 0 && at < W ? rows[j][at] : 0.0f;
        }
        for (int kx = 0; kx < 3; kx++) {
            __m256 v = _mm256_loadu_ps(pad + kx);
            const float *wk = wt + (long)(j * 3 + kx) * cout;
            for (int o = 0; o < R; o++)
                acc[o] = _mm256_fmadd_ps(_mm256_broadcast_ss(wk + o), v, acc[o]);
        }
    }
    const __m256i keep =
        _mm256_cmpgt_epi32(_mm256_set1_epi32(n), _mm256_setr_epi32(0, 1, 2, 3, 4, 5, 6, 7));
    for (int o = 0; o < R; o++)
        _mm256_maskstore_ps(out + o * ostride + x, keep, conv3_finish(acc[o], bias[o], relu));
}

/* R outputs (a constant in each instantiation) over the whole row. */
T static inline __attribute__((always_inline)) void conv3_group(int R, int NB, int cin, int cout,
                                                                int W,
                                                                const float *const *rows,
                                                                const float *wt,
                                                                const float *bias, float *out,
                                                                long ostride, int relu)
{
    int x = 0;
    if (W >= 9) { /* the first block reaches before the row */
        conv3_edge(R, cin, cout, W, 0, rows, wt, bias, out, ostride, relu);
        x = 8;
    }
    for (; x + 8 * NB + 1 <= W; x += 8 * NB)
        conv3_inside(R, NB, cin, cout, x, rows, wt, bias, out, ostride, relu);
    for (; x + 9 <= W; x += 8)
        conv3_inside(R, 1, cin, cout, x, rows, wt, bias, out, ostride, relu);
    for (; x < W; x += 8)
        conv3_edge(R, cin, cout, W, x, rows, wt, bias, out, ostride, relu);
}

T static void conv3_row_avx2(int cout, int cin, int W, const float *const *rows, const float *wt,
                             const float *bias, float *out, long ostride, int relu)
{
    for (int o0 = 0; o0 < cout; o0 += 8) {
        int R = cout - o0 < 8 ? cout - o0 : 8;
        const float *w = wt + o0, *b = bias + o0;
        float *y = out + o0 * ostride;
        switch (R) {
#define CASE(R, NB)                                                                            \
    case R: conv3_group(R, NB, cin, cout, W, rows, w, b, y, ostride, relu); break;
            CASE(1, 3) CASE(2, 3) CASE(3, 3) CASE(4, 2) CASE(5, 2) CASE(6, 2) CASE(7, 1)
#undef CASE
        default: conv3_group(8, 1, cin, cout, W, rows, w, b, y, ostride, relu); break;
        }
    }
}

/* F16C converts 8 halves an instruction (every AVX2 CPU has it: dsp.c
 * asks cpuid for both). */
__attribute__((target("avx2,f16c"))) static void halves_avx2(const uint8_t *src, size_t n,
                                                             float *dst)
{
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        _mm256_storeu_ps(dst + i, _mm256_cvtph_ps(_mm_loadu_si128((const __m128i *)(src + 2 * i))));
    aec_halves_to_floats(src + 2 * i, n - i, dst + i);
}

/* 8x8 tiles: 8 rows in, three rounds of shuffles, 8 columns out. */
T static void transpose_avx2(const float *X, int rows, int cols, size_t ld, float *Tr, size_t ldt)
{
    int r8 = rows / 8 * 8, c8 = cols / 8 * 8;
    for (int r0 = 0; r0 < r8; r0 += 8)
        for (int c0 = 0; c0 < c8; c0 += 8) {
            const float *x = X + (size_t)r0 * ld + c0;
            __m256 v[8], u[8], w[8];
            for (int i = 0; i < 8; i++)
                v[i] = _mm256_loadu_ps(x + (size_t)i * ld);
            for (int i = 0; i < 8; i += 2) {
                u[i] = _mm256_unpacklo_ps(v[i], v[i + 1]);
                u[i + 1] = _mm256_unpackhi_ps(v[i], v[i + 1]);
            }
            for (int i = 0; i < 8; i += 4)
                for (int j = 0; j < 2; j++) {
                    w[i + j] = _mm256_shuffle_ps(u[i + j], u[i + j + 2], 0x44);
                    w[i + j + 2] = _mm256_shuffle_ps(u[i + j], u[i + j + 2], 0xee);
                }
            float *t = Tr + (size_t)c0 * ldt + r0;
            /* w[0..3] hold columns 0,2,1,3 (and 4,6,5,7 in the high lanes) of rows 0-3 */
            static const int col_of[4] = {0, 2, 1, 3};
            for (int j = 0; j < 4; j++) {
                int c = col_of[j];
                __m256 lo = _mm256_permute2f128_ps(w[j], w[j + 4], 0x20);
                __m256 hi = _mm256_permute2f128_ps(w[j], w[j + 4], 0x31);
                _mm256_storeu_ps(t + (size_t)c * ldt, lo);
                _mm256_storeu_ps(t + (size_t)(c + 4) * ldt, hi);
            }
        }
    if (c8 < cols)
        nn_transpose_c(X + c8, r8, cols - c8, ld, Tr + (size_t)c8 * ldt, ldt);
    if (r8 < rows)
        nn_transpose_c(X + (size_t)r8 * ld, rows - r8, cols, ld, Tr + r8, ldt);
}

T static double hsum_avx2(__m256d v)
{
    __m128d s = _mm_add_pd(_mm256_castpd256_pd128(v), _mm256_extractf128_pd(v, 1));
    return _mm_cvtsd_f64(_mm_add_sd(s, _mm_unpackhi_pd(s, s)));
}

T static void gram_avx2(int m, const int32_t *a, size_t lda, size_t n, int64_t *G)
{
    NN_GRAM_VECTOR_BODY(__m256d, 4, _mm256_setzero_pd(), _mm256_load_pd, _mm256_fmadd_pd,
                        hsum_avx2);
}

T static void wiener_row_avx2(int S, const int32_t *const *down, const int32_t *const *up,
                              const int32_t *centre, int others, const int32_t *const *other,
                              const int32_t *cls, int K, const int16_t *w, size_t wstride,
                              size_t n, int32_t *acc)
{
    nn_wiener_row_body(S, down, up, centre, others, other, cls, K, w, wstride, n, acc);
}

const nn_dsp nn_dsp_avx2 = {"avx2",         MR, NR, kernel_avx2, pack_avx2, conv3_row_avx2,
                            pack_conv3_avx2,
                            halves_avx2,    transpose_avx2, gram_avx2, wiener_row_avx2};
#endif
