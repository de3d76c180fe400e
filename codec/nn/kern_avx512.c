/* SPDX-License-Identifier: BSD-3-Clause */
/* kern_avx512.c - the AVX-512 micro-kernel: an 8x32 block of C in 16 zmm
 * accumulators (8 broadcasts, 2 panel loads per 16 FMAs of 16 lanes), the
 * edge columns through a write mask.  Run only when cpuid has AVX-512F. */
#include "nn/dsp.h"
#include "nn/wiener_sums.h"

#ifdef NN_HAVE_X86_PATHS
#include <immintrin.h>

#include "common/half.h"

#define MR 8
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
            __m512 a = _mm512_set1_ps(lda ? A[(long)r * lda + k] : A[k * MR + r]);
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

T static void kernel_avx512(int rows, int kc, const float *A, int lda, const float *Bp, float *C,
                            int ldc, int ncols, const float *bias, int epi)
{
    switch (rows) {
    case 8: rows_block(8, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 7: rows_block(7, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 6: rows_block(6, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 5: rows_block(5, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 4: rows_block(4, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 3: rows_block(3, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    case 2: rows_block(2, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
    default: rows_block(1, kc, A, lda, Bp, C, ldc, ncols, bias, epi); break;
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

/* One run of a conv3 panel's columns: lanes a..a+len-1 read one row of
 * the input (batch item b, output row y), shifted by kx - 1.  For each kx
 * and half of the panel, the lanes that fall inside the row and where the
 * half's first lane reads, relative to the row; a run whose half would
 * start before the row expands its lanes from the first one inside, so no
 * address before the row is ever formed. */
typedef struct {
    int b, y;
    __mmask16 mask[3][2];
    int off[3][2];
    char expand[3][2];
} conv3_run;

/* The runs of columns j0..j0+ncols-1 (at most one a column); returns how many. */
static int conv3_runs(int H, int W, int j0, int ncols, conv3_run *run)
{
    int n = 0;
    for (int a = 0; a < ncols; n++) {
        int j = j0 + a, x = j % W, row = j / W;
        int len = W - x < ncols - a ? W - x : ncols - a;
        conv3_run *r = &run[n];
        r->b = row / H, r->y = row % H;
        for (int kx = 0; kx < 3; kx++)
            for (int h = 0; h < 2; h++) {
                unsigned bits = 0;
                for (int l = 0; l < 16; l++) {
                    int lane = 16 * h + l, col = x + (lane - a) + kx - 1;
                    bits |= (unsigned)(lane >= a && lane < a + len && col >= 0 && col < W) << l;
                }
                int off = x - a + kx - 1 + 16 * h; /* the column lane 16h reads */
                r->mask[kx][h] = (__mmask16)bits;
                r->expand[kx][h] = bits && off < 0;
                r->off[kx][h] = off < 0 && bits ? off + __builtin_ctz(bits) : off;
            }
        a += len;
    }
    return n;
}

T static inline __m512 run_lanes(__m512 v, __mmask16 m, int expand, const float *at)
{
    if (!m)
        return v;
    return expand ? _mm512_mask_expandloadu_ps(v, m, at) : _mm512_mask_loadu_ps(v, m, at);
}

/* A row of the panel is a masked load per run and half, two stores. */
T static void pack_conv3_avx512(const float *in, int B, int H, int W, int k0, int kc, int j0,
                                int ncols, float *Bp)
{
    conv3_run run[NR];
    int nruns = conv3_runs(H, W, j0, ncols, run);
    int ci = k0 / 9, ky = k0 % 9 / 3, kx = k0 % 3;
    for (int k = 0; k < kc; k++, Bp += NR) {
        __m512 v0 = _mm512_setzero_ps(), v1 = _mm512_setzero_ps();
        for (int r = 0; r < nruns; r++) {
            const conv3_run *u = &run[r];
            int iy = u->y + ky - 1;
            if (iy < 0 || iy >= H)
                continue;
            const float *row = in + (((size_t)ci * B + u->b) * H + iy) * W;
            if (kx == 0) /* the next panels' columns of this row, from L3 in time */
                _mm_prefetch((const char *)((uintptr_t)row +
                                            sizeof(float) * (size_t)(u->off[0][1] + 2 * NR)),
                             _MM_HINT_T0); /* an address only: it may lie past the input */
            v0 = run_lanes(v0, u->mask[kx][0], u->expand[kx][0], row + u->off[kx][0]);
            v1 = run_lanes(v1, u->mask[kx][1], u->expand[kx][1], row + u->off[kx][1]);
        }
        _mm512_storeu_ps(Bp, v0);
        _mm512_storeu_ps(Bp + 16, v1);
        if (++kx == 3) {
            kx = 0;
            if (++ky == 3)
                ky = 0, ci++;
        }
    }
}

/* NB blocks of 16 pixels of conv3_row inside the row (x >= 1 and x + 16 NB
 * + 1 <= W: the loads need no mask), R outputs: R x NB accumulators, so
 * that a few outputs still keep enough FMA chains in flight to hide their
 * latency. */
T static inline __attribute__((always_inline)) void conv3_inside(int R, int NB, int cin, int x,
                                                                 const float *const *rows,
                                                                 const float *wt, int ldw,
                                                                 const float *bias, float *out,
                                                                 long ostride, int relu)
{
    const __m512 zero = _mm512_setzero_ps();
    __m512 acc[NN_CONV3_MAX_OUT][4];
    for (int o = 0; o < R; o++)
        for (int b = 0; b < NB; b++)
            acc[o][b] = zero;
    for (int j = 0; j < cin * 3; j++) {
        const float *r = rows[j];
        for (int kx = 0; kx < 3; kx++) {
            __m512 v[4];
            for (int b = 0; b < NB; b++)
                v[b] = r ? _mm512_loadu_ps(r + x + 16 * b + kx - 1) : zero;
            const float *wk = wt + (j * 3 + kx) * ldw;
            for (int o = 0; o < R; o++) {
                __m512 wo = _mm512_set1_ps(wk[o]);
                for (int b = 0; b < NB; b++)
                    acc[o][b] = _mm512_fmadd_ps(wo, v[b], acc[o][b]);
            }
        }
    }
    for (int o = 0; o < R; o++)
        for (int b = 0; b < NB; b++) {
            __m512 s = _mm512_add_ps(_mm512_set1_ps(bias[o]), acc[o][b]);
            if (relu) /* max(x, 0) is 0 for x <= 0 and NaN: x > 0 ? x : 0 */
                s = _mm512_max_ps(s, zero);
            _mm512_storeu_ps(out + o * ostride + x + 16 * b, s);
        }
}

/* One block of up to 16 pixels at an end of the row: masked loads, the
 * lanes outside the row (and a missing row) read as zeros. */
T static inline __attribute__((always_inline)) void conv3_edge(int R, int cin, int W, int x,
                                                               const float *const *rows,
                                                               const float *wt, int ldw,
                                                               const float *bias, float *out,
                                                               long ostride, int relu)
{
    int n = W - x < 16 ? W - x : 16;
    const __m512 zero = _mm512_setzero_ps();
    __mmask16 m[3]; /* lanes l < n with 0 <= x + l + kx - 1 < W */
    for (int kx = 0; kx < 3; kx++) {
        unsigned bits = 0;
        for (int l = 0; l < n; l++)
            bits |= (unsigned)(x + l + kx - 1 >= 0 && x + l + kx - 1 < W) << l;
        m[kx] = (__mmask16)bits;
    }
    __m512 acc[NN_CONV3_MAX_OUT];
    for (int o = 0; o < R; o++)
        acc[o] = zero;
    for (int j = 0; j < cin * 3; j++) {
        const float *r = rows[j];
        for (int kx = 0; kx < 3; kx++) {
            __m512 v;
            if (!r)
                v = zero;
            else if (x + kx == 0) /* lanes 1.. take r[0..]: no address before the row */
                v = _mm512_maskz_expandloadu_ps(m[0], r);
            else
                v = _mm512_maskz_loadu_ps(m[kx], r + x + kx - 1);
            const float *wk = wt + (j * 3 + kx) * ldw;
            for (int o = 0; o < R; o++)
                acc[o] = _mm512_fmadd_ps(_mm512_set1_ps(wk[o]), v, acc[o]);
        }
    }
    __mmask16 keep = (__mmask16)((1u << n) - 1);
    for (int o = 0; o < R; o++) {
        __m512 s = _mm512_add_ps(_mm512_set1_ps(bias[o]), acc[o]);
        if (relu)
            s = _mm512_max_ps(s, zero);
        _mm512_mask_storeu_ps(out + o * ostride + x, keep, s);
    }
}

/* conv3_row for R outputs (a constant in each instantiation, so the
 * accumulators stay in registers), whose weights of one k are R of the
 * ldw at wt + k * ldw: the inside of the row NB blocks at a time, its ends
 * one masked block each. */
T static inline __attribute__((always_inline)) void conv3_block(int R, int NB, int cin, int W,
                                                                const float *const *rows,
                                                                const float *wt, int ldw,
                                                                const float *bias, float *out,
                                                                long ostride, int relu)
{
    int x = 0;
    if (W >= 17) { /* the first block reaches before the row */
        conv3_edge(R, cin, W, 0, rows, wt, ldw, bias, out, ostride, relu);
        x = 16;
    }
    for (; x + 16 * NB + 1 <= W; x += 16 * NB)
        conv3_inside(R, NB, cin, x, rows, wt, ldw, bias, out, ostride, relu);
    for (; x + 17 <= W; x += 16)
        conv3_inside(R, 1, cin, x, rows, wt, ldw, bias, out, ostride, relu);
    for (; x < W; x += 16)
        conv3_edge(R, cin, W, x, rows, wt, ldw, bias, out, ostride, relu);
}

/* Up to 12 outputs in one pass: R x NB accumulators, at least 12 chains
 * and at most 24 registers. */
T static void conv3_outputs(int R, int cin, int W, const float *const *rows, const float *wt,
                            int ldw, const float *bias, float *out, long ostride, int relu)
{
    switch (R) {
#define CASE(R, NB)                                                                            \
    case R: conv3_block(R, NB, cin, W, rows, wt, ldw, bias, out, ostride, relu); break;
        CASE(1, 4) CASE(2, 4) CASE(3, 4) CASE(4, 3) CASE(5, 3) CASE(6, 3) CASE(7, 3)
        CASE(9, 2) CASE(10, 2) CASE(11, 2) CASE(12, 2)
#undef CASE
    default: conv3_block(8, 3, cin, W, rows, wt, ldw, bias, out, ostride, relu); break;
    }
}

T static void conv3_row_avx512(int cout, int cin, int W, const float *const *rows,
                               const float *wt, const float *bias, float *out, long ostride,
                               int relu)
{
    /* More than 12 outputs in two passes, the first of 8: 16 outputs at
     * once had one input load and 16 weight broadcasts per 16 FMAs, bound
     * by the load ports; 8 x 3 blocks have 11 loads per 24 FMAs. */
    if (cout > 12) {
        conv3_outputs(8, cin, W, rows, wt, cout, bias, out, ostride, relu);
        conv3_outputs(cout - 8, cin, W, rows, wt + 8, cout, bias + 8, out + 8 * ostride,
                      ostride, relu);
        return;
    }
    conv3_outputs(cout, cin, W, rows, wt, cout, bias, out, ostride, relu);
}

/* 16 halves an instruction (vcvtph2ps is in AVX-512F). */
T static void halves_avx512(const uint8_t *src, size_t n, float *dst)
{
    size_t i = 0;
    for (; i + 16 <= n; i += 16)
        _mm512_storeu_ps(dst + i,
                         _mm512_cvtph_ps(_mm256_loadu_si256((const __m256i *)(src + 2 * i))));
    aec_halves_to_floats(src + 2 * i, n - i, dst + i);
}

/* 16x16 tiles: 16 rows in, four rounds of shuffles, 16 columns out. */
T static void transpose_avx512(const float *X, int rows, int cols, size_t ld, float *Tr,
                               size_t ldt)
{
    int r16 = rows / 16 * 16, c16 = cols / 16 * 16;
    for (int r0 = 0; r0 < r16; r0 += 16)
        for (int c0 = 0; c0 < c16; c0 += 16) {
            const float *x = X + (size_t)r0 * ld + c0;
            __m512 v[16], u[16];
            for (int i = 0; i < 16; i++)
                v[i] = _mm512_loadu_ps(x + (size_t)i * ld);
            /* pairs of rows interleaved, then pairs of pairs as doubles */
            for (int i = 0; i < 16; i += 2) {
                u[i] = _mm512_unpacklo_ps(v[i], v[i + 1]);
                u[i + 1] = _mm512_unpackhi_ps(v[i], v[i + 1]);
            }
            for (int i = 0; i < 16; i += 4)
                for (int j = 0; j < 2; j++) {
                    __m512d a = _mm512_castps_pd(u[i + j]), b = _mm512_castps_pd(u[i + j + 2]);
                    v[i + j] = _mm512_castpd_ps(_mm512_unpacklo_pd(a, b));
                    v[i + j + 2] = _mm512_castpd_ps(_mm512_unpackhi_pd(a, b));
                }
            /* Now v[4g + m] holds, in its 128-bit lane L, rows 4g..4g+3 of
             * column 4L + (0, 2, 1, 3)[m].  Gather the lanes: u[m] and
             * u[4 + m] get lanes 0 and 2 of rows 0-7 and 8-15, u[8 + m]
             * and u[12 + m] lanes 1 and 3; then each pair makes two
             * columns of all 16 rows. */
            for (int i = 0; i < 8; i++) {
                int g = i / 4 * 8, m = i % 4;
                u[i] = _mm512_shuffle_f32x4(v[g + m], v[g + 4 + m], 0x88);
                u[i + 8] = _mm512_shuffle_f32x4(v[g + m], v[g + 4 + m], 0xdd);
            }
            float *t = Tr + (size_t)c0 * ldt + r0;
            static const int col_of[4] = {0, 2, 1, 3};
            for (int h = 0; h < 2; h++)
                for (int m = 0; m < 4; m++) {
                    __m512 a = u[h * 8 + m], b = u[h * 8 + 4 + m];
                    __m512 lo = _mm512_shuffle_f32x4(a, b, 0x88);
                    __m512 hi = _mm512_shuffle_f32x4(a, b, 0xdd);
                    int c = col_of[m] + 4 * h;
                    _mm512_storeu_ps(t + (size_t)c * ldt, lo);
                    _mm512_storeu_ps(t + (size_t)(c + 8) * ldt, hi);
                }
        }
    if (c16 < cols)
        nn_transpose_c(X + c16, r16, cols - c16, ld, Tr + (size_t)c16 * ldt, ldt);
    if (r16 < rows)
        nn_transpose_c(X + (size_t)r16 * ld, rows - r16, cols, ld, Tr + r16, ldt);
}

T static void gram_avx512(int m, const int32_t *a, size_t lda, size_t n, int64_t *G)
{
    NN_GRAM_VECTOR_BODY(__m512d, 8, _mm512_setzero_pd(), _mm512_load_pd, _mm512_fmadd_pd,
                        _mm512_reduce_add_pd);
}

/* Each tap's weights of the (up to 16) classes in one vector, and each
 * pixel's picked by its class with one permute, so that the work does not
 * grow with the class count; the taps made from the rows in registers. */
T static void wiener_row_avx512(int S, const int32_t *const *down, const int32_t *const *up,
                                const int32_t *centre, int others, const int32_t *const *other,
                                const int32_t *cls, int K, const int16_t *w, size_t wstride,
                                size_t n, int32_t *acc)
{
    enum { MAX_TAPS = 32 };
    const int Tn = S + 3 * others + 1;
    if (K > 16 || Tn > MAX_TAPS) {
        nn_wiener_row_body(S, down, up, centre, others, other, cls, K, w, wstride, n, acc);
        return;
    }
    __m512i tab[MAX_TAPS];
    for (int t = 0; t < Tn; t++) {
        int32_t v[16] = {0};
        for (int k = 0; k < K; k++)
            v[k] = w[(size_t)k * wstride + (size_t)t];
        tab[t] = _mm512_loadu_si512(v);
    }
#define LD(p) _mm512_maskz_loadu_epi32(m, (p) + x)
#define MAC(t, v) a = _mm512_add_epi32(a, _mm512_mullo_epi32(_mm512_permutexvar_epi32(c, tab[t]), (v)))
    for (size_t x = 0; x < n; x += 16) {
        __mmask16 m = n - x >= 16 ? (__mmask16)0xffff : (__mmask16)((1u << (n - x)) - 1);
        __m512i c = LD(cls), c2 = _mm512_slli_epi32(LD(centre), 1);
        __m512i a = _mm512_permutexvar_epi32(c, tab[Tn - 1]);
        for (int t = 0; t < S; t++)
            MAC(t, _mm512_sub_epi32(_mm512_add_epi32(LD(down[t]), LD(up[t])), c2));
        for (int e = 0; e < others; e++) {
            const int32_t *o0 = other[3 * e], *o1 = other[3 * e + 1], *o2 = other[3 * e + 2];
            __m512i p = LD(o0), p2 = _mm512_slli_epi32(p, 1);
            MAC(S + 3 * e, _mm512_sub_epi32(p, LD(centre)));
            MAC(S + 3 * e + 1, _mm512_sub_epi32(_mm512_add_epi32(LD(o0 + 1), LD(o0 - 1)), p2));
            MAC(S + 3 * e + 2, _mm512_sub_epi32(_mm512_add_epi32(LD(o2), LD(o1)), p2));
        }
        _mm512_mask_storeu_epi32(acc + x, m, a);
    }
#undef LD
#undef MAC
}

const nn_dsp nn_dsp_avx512 = {"avx512",          MR,           NR,
                              kernel_avx512,     pack_avx512,  conv3_row_avx512,
                              pack_conv3_avx512, halves_avx512, transpose_avx512,
                              gram_avx512, wiener_row_avx512};
#endif
