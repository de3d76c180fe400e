/* SPDX-License-Identifier: BSD-3-Clause */
/* gemm.h - single-precision matrix products, the kernel under every layer.
 * All matrices are row-major with explicit leading dimensions. */
#ifndef AEC_NN_GEMM_H
#define AEC_NN_GEMM_H
#include <stddef.h>

#include "nn/dsp.h"

/* C[M,N] (+)= A[M,K] * B[K,N].  accumulate=0 overwrites C. */
void nn_gemm_nn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int accumulate);
/* C[M,N] (+)= A[M,K] * B[N,K]^T  (used for weight gradients). */
void nn_gemm_nt(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int accumulate);
/* C[M,N] (+)= A[K,M]^T * B[K,N]  (used for input gradients). */
void nn_gemm_tn(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                float *C, int ldc, int accumulate);
/* C[M,N] = bias[m] + A[M,K] * B[K,N] (bias NULL: 0 + A*B), then, with relu,
 * C > 0 ? C : 0: the start and the ReLU applied in the micro-kernel's
 * epilogue while C's block is in registers.  The same bits as filling C
 * with the bias, nn_gemm_nn(..., 1) and nn_relu_forward, in one pass. */
void nn_gemm_nn_bias(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                     float *C, int ldc, const float *bias, int relu);
/* A B matrix that need not exist in memory: `pack` fills the kernel's
 * panel Bp[kc][nr] (row-major, zero past ncols) with rows k0..k0+kc-1 and
 * columns j0..j0+ncols-1 of B, exactly as nn_dsp's pack would from the
 * stored matrix.  A convolution's im2col matrix is one (nn/layers.c): its
 * panels are gathered from the input, so the matrix is never written.  A
 * source embeds this as its first member. */
typedef struct nn_panel_source {
    void (*pack)(const struct nn_panel_source *src, int k0, int kc, int j0, int ncols, int nr,
                 float *Bp);
} nn_panel_source;
/* nn_gemm_nn_bias with B given by its panels: the same bits as storing B
 * and calling nn_gemm_nn_bias. */
void nn_gemm_source_bias(int M, int N, int K, const float *A, int lda, const nn_panel_source *B,
                         float *C, int ldc, const float *bias, int relu);
/* A B matrix of C += A * B^T that need not exist in memory: `rows` writes
 * rows j0..j0+nrows-1, columns k0..k0+kc-1 of B into Bb[(j - j0) * kc +
 * (k - k0)].  A convolution's im2col matrix is one (nn/layers.c): its
 * weight gradient dW += dY * cols^T gets the matrix a block at a time. */
typedef struct nn_row_source {
    void (*rows)(const struct nn_row_source *src, int j0, int nrows, int k0, int kc, float *Bb);
} nn_row_source;
/* C[M,N] += A[M,K] * B[N,K]^T with B given by its rows: the same bits as
 * storing B and calling nn_gemm_nt(..., 1), with any thread count.  Each
 * thread takes blocks of B's rows (C's columns) and, a K slice at a time,
 * has them written into a buffer of its own, in its core's cache, where
 * the micro-kernel reads them for every panel: B is never stored whole,
 * nor read from memory once per panel.  Returns 0, or -1 without memory
 * (C untouched). */
int nn_gemm_nt_rows(int M, int N, int K, const float *A, int lda, const nn_row_source *B,
                    float *C, int ldc);
/* The same four (and nn_gemm_nt_rows) on one given path (nn/dsp.h), for
 * the per-path tests and benchmarks; the functions above use
 * nn_dsp_active(). */
void nn_gemm_nn_on(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float *C, int ldc, int accumulate);
void nn_gemm_nt_on(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float *C, int ldc, int accumulate);
void nn_gemm_tn_on(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                   const float *B, int ldb, float *C, int ldc, int accumulate);
void nn_gemm_nn_bias_on(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                        const float *B, int ldb, float *C, int ldc, const float *bias, int relu);
int nn_gemm_nt_rows_on(const nn_dsp *d, int M, int N, int K, const float *A, int lda,
                       const nn_row_source *B, float *C, int ldc);
/* Plain triple loop, the reference the tests compare against. */
void nn_gemm_reference(int M, int N, int K, const float *A, int lda, const float *B, int ldb,
                       float *C, int ldc, int accumulate);
#endif
