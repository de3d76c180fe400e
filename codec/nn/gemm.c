/* gemm.c - blocked single-precision GEMM.
 *
 * The product is computed in panels of NR=16 columns of B, packed so the
 * micro-kernel reads them sequentially, and in blocks of MR=6 rows of A.  The
 * 6x16 accumulator block (12 AVX registers) stays in registers over the whole
 * K loop, which is what makes it run near the FMA peak; GCC's vector
 * extensions keep the code portable (SSE, NEON or scalar on other targets),
 * and target_clones adds an AVX2+FMA version chosen at load time on x86-64.
 *
 * Work is split over OpenMP threads by column panels when the caller is not
 * already inside a parallel region (the codec parallelises over tiles). Each
 * output element is always summed in the same order, so results do not
 * depend on the thread count. */
#include "nn/gemm.h"
#include "nn/parallel.h"

#include <stdlib.h>
#include <string.h>

#define MR 6
#define NR 16
#define KC 256 /* K is processed in slices so the packed panel stays in L1/L2 */

typedef float v8f __attribute__((vector_size(32)));

#if defined(__x86_64__) && defined(__GNUC__) && !defined(__clang__) && !defined(AEC_NO_CLONES)
#define AEC_CLONES __attribute__((target_clones("arch=x86-64-v3", "default")))
#else
#define AEC_CLONES
#endif

static inline v8f load8(const float *p)
{
    v8f v;
    memcpy(&v, p, sizeof v);
    return v;
}
static inline void store8(float *p, v8f v) { memcpy(p, &v, sizeof v); }

/* C[rows<=MR, 16] += A[rows, kc] * Bp[kc][16]; Bp is a packed panel. */
AEC_CLONES
static void kernel_6x16(int rows, int kc, const float *A, int lda, const float *Bp, float *C,
                        int ldc, int ncols)
{
    v8f acc[MR][2];
    memset(acc, 0, sizeof acc);
    if (rows == MR) {
        for (int k = 0; k < kc; k++) {
            v8f b0 = load8(Bp + k * NR), b1 = load8(Bp + k * NR + 8);
            for (int r = 0; r < MR; r++) {
                float a = A[(size_t)r * lda + k];
                acc[r][0] += a * b0;
                acc[r][1] += a * b1;
            }
        }
    } else {
        for (int k = 0; k < kc; k++) {
            v8f b0 = load8(Bp + k * NR), b1 = load8(Bp + k * NR + 8);
            for (int r = 0; r < rows; r++) {
                float a = A[(size_t)r * lda + k];
                acc[r][0] += a * b0;
                acc[r][1] += a * b1;
            }
        }
    }
    for (int r = 0; r < rows; r++) {
        float *c = C + (size_t)r * ldc;
        if (ncols == NR) {
            store8(c, load8(c) + acc[r][0]);
            store8(c + 8, load8(c + 8) + acc[r][1]);
        } else {
            float tmp[NR];
            store8(tmp, acc[r][0]);
            store8(tmp + 8, acc[r][1]);
            for (int j = 0; j < ncols; j++)
                c[j] += tmp[j];
        }
    }
}

/* Copies B[k0..k0+kc, j0..j0+ncols] into a zero-padded kc x 16 panel. */
static void pack_panel(const float *B, int ldb, int k0, int kc, int j0, int ncols, float *Bp)
{
    for (int k = 0; k < kc; k++) {
        const float *src = B + (size_t)(k0 + k) * ldb + j0;
        float *dst = Bp + k * NR;
        if (ncols == NR) {
            memcpy(dst, src, NR * sizeof(float));
        } else {
            memcpy(dst, src, (size_t)ncols * sizeof(float));
            memset(dst + ncols, 0, (size_t)(NR - ncols) * sizeof(float));
        }
    }
}

static void gemm_panels(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                        float *C, int ldc)
{
    int npanels = (N + NR - 1) / NR;
    int parallel = nn_may_fork((double)M * N * K);
#pragma omp parallel if (parallel)
    {
        float Bp[KC * NR];
#pragma omp for schedule(static)
        for (int p = 0; p < npanels; p++) {
            int j0 = p * NR;
            int ncols = N - j0 < NR ? N - j0 : NR;
            for (int k0 = 0; k0 < K; k0 += KC) {
                int kc = K - k0 < KC ? K - k0 : KC;
                pack_panel(B, ldb, k0, kc, j0, ncols, Bp);
                for (int i = 0; i < M; i += MR) {
                    int rows = M - i < MR ? M - i : MR;
                    kernel_6x16(rows, kc, A + (size_t)i * lda + k0, lda, Bp,
                                C + (size_t)i * ldc + j0, ldc, ncols);
                }
            }
        }
    }
}

static void clear_rows(int M, int N, float *C, int ldc)
{
    for (int i = 0; i < M; i++)
        memset(C + (size_t)i * ldc, 0, (size_t)N * sizeof(float));
}

void nn_gemm_nn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int accumulate)
{
    if (!accumulate)
        clear_rows(M, N, C, ldc);
    if (M <= 0 || N <= 0 || K <= 0)
        return;
    gemm_panels(M, N, K, A, lda, B, ldb, C, ldc);
}

/* Transposes rows x cols (leading dimension ld) into a dense cols x rows. */
static float *transpose_copy(const float *X, int rows, int cols, int ld)
{
    float *T = malloc((size_t)rows * cols * sizeof(float));
    if (!T)
        return NULL;
    for (int r0 = 0; r0 < rows; r0 += 32)
        for (int c0 = 0; c0 < cols; c0 += 32)
            for (int r = r0; r < rows && r < r0 + 32; r++)
                for (int c = c0; c < cols && c < c0 + 32; c++)
                    T[(size_t)c * rows + r] = X[(size_t)r * ld + c];
    return T;
}

void nn_gemm_nt(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int accumulate)
{
    if (!accumulate)
        clear_rows(M, N, C, ldc);
    if (M <= 0 || N <= 0 || K <= 0)
        return;
    float *Bt = transpose_copy(B, N, K, ldb); /* K x N */
    if (!Bt) { /* out of memory: slow path, B read as [N][K] */
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                float s = 0;
                for (int k = 0; k < K; k++)
                    s += A[(size_t)i * lda + k] * B[(size_t)j * ldb + k];
                C[(size_t)i * ldc + j] += s;
            }
        return;
    }
    gemm_panels(M, N, K, A, lda, Bt, N, C, ldc);
    free(Bt);
}

void nn_gemm_tn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int accumulate)
{
    if (!accumulate)
        clear_rows(M, N, C, ldc);
    if (M <= 0 || N <= 0 || K <= 0)
        return;
    float *At = transpose_copy(A, K, M, lda); /* M x K */
    if (!At) {
        for (int i = 0; i < M; i++)
            for (int j = 0; j < N; j++) {
                float s = 0;
                for (int k = 0; k < K; k++)
                    s += A[(size_t)k * lda + i] * B[(size_t)k * ldb + j];
                C[(size_t)i * ldc + j] += s;
            }
        return;
    }
    gemm_panels(M, N, K, At, K, B, ldb, C, ldc);
    free(At);
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
