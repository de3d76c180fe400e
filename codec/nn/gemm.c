/* SPDX-License-Identifier: BSD-3-Clause */
/* gemm.c - blocked single-precision GEMM.
 *
 * The product is computed in panels of nr columns of B, packed so the
 * micro-kernel reads them sequentially, and in blocks of mr rows of A; the
 * micro-kernel keeps its block of C in registers over a whole K slice.  The
 * kernel, mr and nr come from the path chosen at run time (nn/dsp.h: C,
 * AVX2+FMA or AVX-512); every path sums each element in the same order with
 * fused multiply-adds, so the bits do not depend on the path.
 *
 * Work is split over OpenMP threads by column panels when the caller is not
 * already inside a parallel region (the codec parallelises over tiles). Each
 * output element is always summed in the same order, so results do not
 * depend on the thread count. */
#include "nn/gemm.h"
#include "nn/dsp.h"
#include "nn/parallel.h"

#include <stdlib.h>
#include <string.h>

#define KC NN_KC

/* The panels of a B stored in memory, packed by the path's own routine. */
typedef struct {
    nn_panel_source base;
    const nn_dsp *d;
    const float *B;
    int ldb;
} stored_source;

static void stored_pack(const nn_panel_source *src, int k0, int kc, int j0, int ncols, int nr,
                        float *Bp)
{
    const stored_source *s = (const stored_source *)src;
    (void)nr; /* the path's own */
    s->d->pack(s->B + (size_t)k0 * s->ldb + j0, s->ldb, kc, ncols, Bp);
}

/* Floats of packed A that one pass over the panels works on: A's columns
 * are packed a group of K slices at a time, at most this many floats (at
 * least one slice), so that a forward layer's weights (cout x cin*9) are
 * packed once per product and a long K (a weight gradient's, every pixel
 * of the batch) needs no copy of the whole A. */
#define A_GROUP_FLOATS (1u << 19)
/* Panels from which A is packed: the copy pays where every packed block is
 * read by this many panels or more (a convolution's pixels), not in a
 * weight gradient's product of few panels over a long K. */
#define A_PACK_PANELS 16

/* Ap = a block of `rows` rows and kc columns of A (its first element at A)
 * in the kernel's order, Ap[k * mr + r] = A[r][k]; the rows >= `rows` are
 * left as they are (the kernel does not read them). */
static void pack_a(const float *A, int lda, int rows, int kc, int mr, float *Ap)
{
    for (int k = 0; k < kc; k++)
        for (int r = 0; r < rows; r++)
            Ap[k * mr + r] = A[(size_t)r * lda + k];
}

/* C = start + A*B (set: start = bias[i] or 0) or C += A*B, then the ReLU
 * (relu), all in the micro-kernel's epilogue: NN_EPI_SET on the first K
 * slice, NN_EPI_RELU on the last (nn/dsp.h).  K > 0.  B comes panel by
 * panel from its source.  With A_PACK_PANELS panels or more, A is packed
 * a group of K slices at a time by the whole team into Ap: the slice at
 * k0 starts at Ap + Mp*(k0 - g0), its block of rows i at i*kc further (Mp
 * = M rounded up to mr); otherwise (or without memory for Ap) the kernel
 * reads A where it is.  Each element of C gets its K slices in order
 * whatever the grouping, so the bits depend on neither. */
static void gemm_source(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                        const nn_panel_source *B, float *C, int ldc, const float *bias, int set,
                        int relu)
{
    const int MR = d->mr, NR = d->nr;
    int npanels = (N + NR - 1) / NR, nblocks = (M + MR - 1) / MR;
    int parallel = nn_may_fork((double)M * N * K);
    size_t Mp = (size_t)nblocks * MR;
    size_t slices = A_GROUP_FLOATS / Mp / KC;
    int group = slices < 1 ? KC : slices * KC >= (size_t)K ? K : (int)(slices * KC);
    float *Ap = npanels >= A_PACK_PANELS ? malloc(Mp * (size_t)group * sizeof(float)) : NULL;
    if (!Ap)
        group = K;
#pragma omp parallel if (parallel)
    {
        _Alignas(64) float Bp[KC * NN_NR_MAX]; /* whole cache lines: no split loads */
        for (int g0 = 0; g0 < K; g0 += group) {
            int gk = K - g0 < group ? K - g0 : group;
            int gslices = (gk + KC - 1) / KC;
            if (Ap) {
#pragma omp for schedule(static)
                for (int t = 0; t < gslices * nblocks; t++) {
                    int k0 = g0 + t / nblocks * KC, i = t % nblocks * MR;
                    int kc = g0 + gk - k0 < KC ? g0 + gk - k0 : KC;
                    pack_a(A + (size_t)i * lda + k0, lda, M - i < MR ? M - i : MR, kc, MR,
                           Ap + Mp * (size_t)(k0 - g0) + (size_t)i * kc);
                }
            }
#pragma omp for schedule(static)
            for (int p = 0; p < npanels; p++) {
                int j0 = p * NR;
                int ncols = N - j0 < NR ? N - j0 : NR;
                for (int k0 = g0; k0 < g0 + gk; k0 += KC) {
                    int kc = g0 + gk - k0 < KC ? g0 + gk - k0 : KC;
                    int epi = (set && k0 == 0 ? NN_EPI_SET : 0) |
                              (relu && k0 + kc == K ? NN_EPI_RELU : 0);
                    B->pack(B, k0, kc, j0, ncols, NR, Bp);
                    const float *slice = Ap ? Ap + Mp * (size_t)(k0 - g0) : NULL;
                    for (int i = 0; i < M; i += MR) {
                        int rows = M - i < MR ? M - i : MR;
                        float *c = C + (size_t)i * ldc + j0;
                        const float *b = bias ? bias + i : NULL;
                        if (slice)
                            d->kernel(rows, kc, slice + (size_t)i * kc, 0, Bp, c, ldc, ncols, b, epi);
                        else
                            d->kernel(rows, kc, A + (size_t)i * lda + k0, lda, Bp, c, ldc, ncols, b,
                                      epi);
                    }
                }
            }
        }
    }
    free(Ap);
}

static void gemm_panels(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, float *C, int ldc, const float *bias, int set,
                        int relu)
{
    stored_source src = {{stored_pack}, d, B, ldb};
    gemm_source(d, M, N, K, A, lda, &src.base, C, ldc, bias, set, relu);
}

static void clear_rows(int M, int N, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof(float));
}

void nn_gemm_nn_on(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float *C, int ldc, int accumulate)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        if (!accumulate)
            clear_rows(M, N, C, ldc);
        return;
    }
    gemm_panels(d, M, N, K, A, lda, B, ldb, C, ldc, NULL, !accumulate, 0);
}

/* C = the start (bias or 0) through the ReLU: a product over K = 0. */
static void fill_start(int M, int N, float *C, int ldc, const float *bias, int relu)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            float v = bias ? bias[i] : 0.0f;
            C[(size_t)i * ldc + j] = relu && !(v > 0.0f) ? 0.0f : v;
        }
}

void nn_gemm_nn_bias_on(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, float *C, int ldc, const float *bias, int relu)
{
    if (M <= 0 || N <= 0)
        return;
    if (K > 0)
        gemm_panels(d, M, N, K, A, lda, B, ldb, C, ldc, bias, 1, relu);
    else
        fill_start(M, N, C, ldc, bias, relu);
}

/* T[c][r] = X[r][c] for rows x cols of X (leading dimension ld), T's rows
 * ldt apart; blocks of 32 x 32 by the path's transpose, T's row blocks
 * shared out among threads. */
static void transpose_into(const nn_dsp *d, const float *X, int rows, int cols, size_t ld,
                           float *T, size_t ldt)
{
#pragma omp parallel for schedule(static) if (nn_may_fork_pass((size_t)rows * cols))
    for (int c0 = 0; c0 < cols; c0 += 32)
        for (int r0 = 0; r0 < rows; r0 += 32)
            d->transpose(X + (size_t)r0 * ld + c0, rows - r0 < 32 ? rows - r0 : 32,
                         cols - c0 < 32 ? cols - c0 : 32, ld, T + (size_t)c0 * ldt + r0, ldt);
}

/* Transposes rows x cols (leading dimension ld) into a dense cols x rows. */
static float *transpose_copy(const nn_dsp *d, const float *X, int rows, int cols, int ld)
{
    float *T = malloc((size_t)rows * cols * sizeof(float));
    if (T)
        transpose_into(d, X, rows, cols, (size_t)ld, T, (size_t)rows);
    return T;
}

/* Floats of B's transposed slice that nn_gemm_nt_on works on at a time: a
 * buffer this small is reused by malloc from one call to the next, where a
 * whole transposed B (a weight gradient's im2col matrix: 100 MB for a
 * full-resolution layer of a training batch) was mapped afresh at every
 * call, and its page faults were a fifth of a training step. */
#define NT_SLICE_FLOATS (1u << 21)

/* C = A*B^T computed as its transpose, C^T = B*A^T: only A (M x K) and C
 * (M x N, twice) are transposed instead of B (N x K), which is far smaller
 * when M is: a weight gradient dW[out][in*9] = dY[out][pixels] *
 * cols[in*9][pixels]^T has M = out channels, N = 9 times more, K = every
 * pixel of the batch.  C^T starts from C's values, so each element gets
 * the same operations in the same order (C += acc per K slice of the
 * micro-kernel; a x b = b x a in each fma): the bits do not change. */
static int gemm_nt_swapped(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                           const float *B, int ldb, float *C, int ldc, int accumulate)
{
    float *At = transpose_copy(d, A, M, K, lda); /* K x M */
    float *Ct = accumulate ? transpose_copy(d, C, M, N, ldc) /* N x M */
                           : malloc((size_t)N * M * sizeof(float));
    if (!At || !Ct) {
        free(At), free(Ct);
        return -1;
    }
    gemm_panels(d, N, M, K, B, ldb, At, M, Ct, M, NULL, !accumulate, 0);
    transpose_into(d, Ct, N, M, (size_t)M, C, (size_t)ldc);
    free(At), free(Ct);
    return 0;
}

void nn_gemm_nt_on(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float *C, int ldc, int accumulate)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        if (!accumulate)
            clear_rows(M, N, C, ldc);
        return;
    }
    /* Transposing B costs N*K; the swapped product K*M + 2*M*N. */
    if ((double)K * M + 2.0 * M * N < (double)K * N &&
        gemm_nt_swapped(d, M, N, K, A, lda, B, ldb, C, ldc, accumulate) == 0)
        return;
    /* Slices of whole KC blocks, so each element of C is summed in the
     * same order as by one product over all of K (the bits do not change). */
    size_t per = NT_SLICE_FLOATS / (size_t)N / KC * KC;
    int slice = per < KC ? KC : per > (size_t)K ? K : (int)per;
    float *Bt = malloc((size_t)slice * N * sizeof(float));
    if (!Bt) { /* out of memory: slow path, B read as [N][K] */
        if (!accumulate)
            clear_rows(M, N, C, ldc);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                float s = 0;
                for (int k = 0; k < K; k++)
                    s += A[(size_t)i * lda + k] * B[(size_t)j * ldb + k];
                C[(size_t)i * ldc + j] += s;
            }
        return;
    }
    for (int k0 = 0; k0 < K; k0 += slice) {
        int kc = K - k0 < slice ? K - k0 : slice;
        transpose_into(d, B + k0, N, kc, (size_t)ldb, Bt, (size_t)N); /* B's K slice, kc x N */
        gemm_panels(d, M, N, kc, A + k0, lda, Bt, N, C, ldc, NULL, !accumulate && k0 == 0, 0);
    }
    free(Bt);
}

/* Most floats of one thread's block of B's rows (a K slice of each):
 * 256 KB, in the core's L2 beside the panel in L1. */
#define ROW_BLOCK_FLOATS (1u << 16)

/* Rows of B in a block: a multiple of mr, at most ROW_BLOCK_FLOATS / KC,
 * and the same number of blocks for every thread where N allows. */
static int row_block(int N, int threads, int mr)
{
    int most = (int)(ROW_BLOCK_FLOATS / KC) / mr * mr;
    int per = (N + threads - 1) / threads;
    int rounds = (per + most - 1) / most;
    int block = (per + rounds - 1) / rounds;
    return (block + mr - 1) / mr * mr;
}

/* The panels of A^T (K x M) for every K slice, each packed as the path's
 * pack would pack them from A^T stored, but read straight from A through
 * the path's transpose: slice k0's panel p at P + ((k0 / KC) * npanels +
 * p) * KC * nr, zero past M's last column.  A copy, the same bits. */
static void pack_transposed_panels(const nn_dsp *d, int M, int K, const float *A, int lda,
                                   float *P)
{
    const int NR = d->nr, npanels = (M + NR - 1) / NR, nslices = (K + KC - 1) / KC;
#pragma omp parallel for schedule(static) if (nn_may_fork_pass((size_t)M * K))
    for (int t = 0; t < nslices * npanels; t++) {
        int k0 = t / npanels * KC, i0 = t % npanels * NR;
        int kc = K - k0 < KC ? K - k0 : KC, ncols = M - i0 < NR ? M - i0 : NR;
        float *Bp = P + (size_t)t * KC * NR;
        for (int r0 = 0; r0 < ncols; r0 += 32) /* blocks of 32 a side, as transpose_into */
            for (int c0 = 0; c0 < kc; c0 += 32) {
                int rows = ncols - r0 < 32 ? ncols - r0 : 32, cols = kc - c0 < 32 ? kc - c0 : 32;
                d->transpose(A + (size_t)(i0 + r0) * lda + k0 + c0, rows, cols, (size_t)lda,
                             Bp + (size_t)c0 * NR + r0, (size_t)NR);
            }
        if (ncols < NR)
            for (int k = 0; k < kc; k++)
                memset(Bp + (size_t)k * NR + ncols, 0, (size_t)(NR - ncols) * sizeof(float));
    }
}

/* As gemm_nt_swapped, C^T = B * A^T, where the micro-kernel's A operand
 * is B's rows (lda = kc, from the thread's buffer) and its panels are
 * A^T's, packed once for all threads: each element of C^T gets its K
 * slices in order, C += acc per slice, the bits of nn_gemm_nt. */
int nn_gemm_nt_rows_on(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                       const nn_row_source *B, float *C, int ldc)
{
    if (M <= 0 || N <= 0 || K <= 0)
        return 0;
    const int MR = d->mr, NR = d->nr, npanels = (M + NR - 1) / NR;
    int parallel = nn_may_fork((double)M * N * K), threads = 1;
#ifdef _OPENMP
    if (parallel)
        threads = omp_get_max_threads();
#endif
    int block = row_block(N, threads, MR), nblocks = (N + block - 1) / block;
    size_t panel = (size_t)KC * NR, nslices = (size_t)(K + KC - 1) / KC;
    /* whole cache lines: no split loads (a panel is a multiple of 64 bytes) */
    float *P = aligned_alloc(64, nslices * npanels * panel * sizeof(float));
    float *Ct = transpose_copy(d, C, M, N, ldc); /* N x M */
    int failed = !P || !Ct;
    if (!failed)
        pack_transposed_panels(d, M, K, A, lda, P);
#pragma omp parallel if (parallel && !failed)
    {
        float *Bb = malloc((size_t)block * KC * sizeof(float));
        int mine_failed = !Bb;
#pragma omp atomic
        failed |= mine_failed;
#pragma omp barrier
        if (!failed) {
#pragma omp for schedule(static)
            for (int t = 0; t < nblocks; t++) {
                int j0 = t * block, rows = N - j0 < block ? N - j0 : block;
                for (int k0 = 0; k0 < K; k0 += KC) {
                    int kc = K - k0 < KC ? K - k0 : KC;
                    B->rows(B, j0, rows, k0, kc, Bb);
                    for (int p = 0; p < npanels; p++) {
                        int i0 = p * NR, ncols = M - i0 < NR ? M - i0 : NR;
                        const float *Bp = P + ((size_t)(k0 / KC) * npanels + p) * panel;
                        for (int r = 0; r < rows; r += MR)
                            d->kernel(rows - r < MR ? rows - r : MR, kc, Bb + (size_t)r * kc, kc,
                                      Bp, Ct + (size_t)(j0 + r) * M + i0, M, ncols, NULL, 0);
                    }
                }
            }
        }
        free(Bb);
    }
    if (!failed)
        transpose_into(d, Ct, N, M, (size_t)M, C, (size_t)ldc);
    free(P), free(Ct);
    return failed ? -1 : 0;
}

void nn_gemm_tn_on(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float *C, int ldc, int accumulate)
{
    if (M <= 0 || N <= 0)
        return;
    if (K <= 0) {
        if (!accumulate)
            clear_rows(M, N, C, ldc);
        return;
    }
    float *At = transpose_copy(d, A, K, M, lda); /* M x K */
    if (!At) {
        if (!accumulate)
            clear_rows(M, N, C, ldc);
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                float s = 0;
                for (int k = 0; k < K; k++)
                    s += A[(size_t)k * lda + i] * B[(size_t)k * ldb + j];
                C[(size_t)i * ldc + j] += s;
            }
        return;
    }
    gemm_panels(d, M, N, K, At, K, B, ldb, C, ldc, NULL, !accumulate, 0);
    free(At);
}

void nn_gemm_nn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int accumulate)
{
    nn_gemm_nn_on(nn_dsp_active(), M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

void nn_gemm_nt(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int accumulate)
{
    nn_gemm_nt_on(nn_dsp_active(), M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

void nn_gemm_tn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int accumulate)
{
    nn_gemm_tn_on(nn_dsp_active(), M, N, K, A, lda, B, ldb, C, ldc, accumulate);
}

int nn_gemm_nt_rows(int M, int N, int K, const float *A, int lda, const nn_row_source *B,
                    float *C, int ldc)
{
    return nn_gemm_nt_rows_on(nn_dsp_active(), M, N, K, A, lda, B, C, ldc);
}

void nn_gemm_nn_bias(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                     float *C, int ldc, const float *bias, int relu)
{
    nn_gemm_nn_bias_on(nn_dsp_active(), M, N, K, A, lda, B, ldb, C, ldc, bias, relu);
}

void nn_gemm_source_bias(int M, int N, int K, const float *A, int lda, const nn_panel_source *B,
                         float *C, int ldc, const float *bias, int relu)
{
    if (M <= 0 || N <= 0)
        return;
    if (K > 0)
        gemm_source(nn_dsp_active(), M, N, K, A, lda, B, C, ldc, bias, 1, relu);
    else
        fill_start(M, N, C, ldc, bias, relu);
}

void nn_gemm_reference(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                       float *C, int ldc, int accumulate)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++) {
            double s = accumulate ? C[(size_t)i * ldc + j] : 0.0;
            for (int k = 0; k < K; k++)
                s += (double)A[(size_t)i * lda + k] * B[(size_t)k * ldb + j];
            C[(size_t)i * ldc + j] = (float)s;
        }
}
