/* SPDX-License-Identifier: BSD-3-Clause */
/* dsp.h - the GEMM micro-kernels by instruction set, chosen at run time.
 *
 * In the pattern of libwebp's dsp/: a portable C reference (kern_c.c), an
 * AVX2+FMA path (kern_avx2.c) and an AVX-512 path (kern_avx512.c).  The table
 * is chosen once from cpuid (pthread_once, then read-only); AEC_CPU=c|avx2|
 * avx512 in the environment forces a lower path.
 *
 * Every path computes each output element the same way: over a K slice of at
 * most NN_KC, acc = fmaf(a_k, b_k, acc) for k in order from acc = 0, then
 * C += acc.  So results are bit-identical across paths (and thread counts),
 * and the encoder's bytes do not depend on the CPU it runs on. */
#ifndef AEC_NN_DSP_H
#define AEC_NN_DSP_H

#define NN_KC 256    /* K slice: the packed panel stays in L1/L2 */
#define NN_NR_MAX 32 /* widest panel any path packs */

#include <stddef.h>
#include <stdint.h>

enum nn_isa { NN_ISA_C, NN_ISA_AVX2, NN_ISA_AVX512, NN_ISA_COUNT };

/* The epilogue, how the block's sums acc (over one K slice) reach C:
 * by default C += acc; with NN_EPI_SET (the first slice) C = start + acc,
 * start = bias[r] or 0 without bias (the same bits as filling C with the
 * start and adding, without the pass over C); with NN_EPI_RELU (the last
 * slice) C is then replaced by C > 0 ? C : 0 while still in registers. */
enum { NN_EPI_SET = 1, NN_EPI_RELU = 2 };

/* C[rows<=mr, ncols<=nr] (+)= A[rows, kc] * Bp[kc][nr], Bp a packed
 * zero-padded panel of nr columns.  A's element (r, k) is A[r * lda + k],
 * or with lda = 0 A[k * mr + r]: A packed in the order the kernel reads it,
 * one stream instead of mr rows lda apart (rows >= `rows` are not read).
 * bias: the block's rows' starts (read only with NN_EPI_SET; NULL: 0);
 * epi: NN_EPI_* flags. */
typedef void (*nn_kernel_fn)(int rows, int kc, const float *A, int lda, const float *Bp,
                             float *C, int ldc, int ncols, const float *bias, int epi);

/* Bp[kc][nr] = B[kc rows, ncols<=nr] (row stride ldb), zero-padded to nr
 * columns: the panel the kernel reads.  A plain copy, so any path may pack
 * for any other of the same nr. */
typedef void (*nn_pack_fn)(const float *B, int ldb, int kc, int ncols, float *Bp);

/* One output row of a 3x3 stride-1 convolution with few outputs (cout <=
 * NN_CONV3_MAX_OUT, K = cin * 9 <= NN_KC): for x < W and o < cout,
 *   out[o * ostride + x] = bias[o] + acc,  acc = fmaf(wt[k*cout + o], in_k, acc)
 *   over k = (i*3 + ky)*3 + kx in order from 0,
 *   in_k = rows[i*3 + ky][x + kx - 1], 0 outside 0..W-1 or where the row
 *   pointer is NULL (a row above or below the grid)
 * (then the ReLU when relu): the bits of the GEMM with its one K slice.
 * wt is the layer's weight matrix [cout][K] transposed, [K][cout], so that
 * the weights of one k are consecutive.
 * Layers with few output channels (the full-resolution ones) spend more
 * time gathering the GEMM's panels than multiplying; this reads the input
 * rows where they are. */
#define NN_CONV3_MAX_OUT 16

/* dst[i] = the IEEE binary16 stored little-endian at src + 2i, i < n: a
 * model's 16-bit weights made floats (common/half.h).  Every finite half
 * is exactly a float, so every path gives the same bits (a NaN stays a
 * NaN; its payload may not). */
typedef void (*nn_halves_fn)(const uint8_t *src, size_t n, float *dst);
/* T[c * ldt + r] = X[r * ld + c] for r < rows, c < cols: a block of a
 * matrix transposed (the weight gradients' products read their operands
 * so).  A copy, so every path gives the same bits. */
typedef void (*nn_transpose_fn)(const float *X, int rows, int cols, size_t ld, float *T,
                                size_t ldt);
typedef void (*nn_conv3_row_fn)(int cout, int cin, int W, const float *const *rows,
                                const float *wt, const float *bias, float *out, long ostride,
                                int relu);

/* Rows k0..k0+kc-1 and columns j0..j0+ncols-1 (ncols <= nr) of the im2col
 * matrix of a 3x3 convolution of stride 1 and padding 1 over in[C][B][H][W],
 * packed as the path's pack would pack the stored matrix:
 *   Bp[(k - k0) * nr + (j - j0)] = in[ci][b][y + ky - 1][x + kx - 1]
 *   for k = (ci*3 + ky)*3 + kx and j = (b*H + y)*W + x, 0 outside the
 *   image and past ncols.
 * The convolutions read their panels straight from the input this way: no
 * im2col matrix is written and read back. */
typedef void (*nn_pack_conv3_fn)(const float *in, int B, int H, int W, int k0, int kc, int j0,
                                 int ncols, float *Bp);

/* The restoration filter's normal equations (enc/wiener_fit.c): for m rows
 * of n integers a[i * lda + x], |a| <= 2^11,
 *   G[i * m + k] += sum over x < n of a[i * lda + x] * a[k * lda + x]
 * for i <= k < m, exactly (int64): every path gives the same.  The vector
 * paths sum in doubles, exact for these products over chunks of 256. */
typedef void (*nn_gram_fn)(int m, const int32_t *a, size_t lda, size_t n, int64_t *G);

/* One output row of one colour of the restoration filter, its taps made
 * on the fly from the padded rows (vq/wiener.h), for x < n:
 *   acc[x] = w[k*wstride + T-1]
 *          + sum over t < S of w[k*wstride + t] * (down[t][x] + up[t][x] - 2 centre[x])
 *          + for each other colour e < others, rows o = other + 3e (the
 *            row, the row above, the row below), at t = S + 3e:
 *            w[..t] * (o[0][x] - centre[x])
 *            + w[..t+1] * (o[0][x+1] + o[0][x-1] - 2 o[0][x])
 *            + w[..t+2] * (o[2][x] + o[1][x] - 2 o[0][x])
 * with k = cls[x], T = S + 3 others + 1, in int32: exact, so every path
 * gives the same; no tap is stored. */
typedef void (*nn_wiener_row_fn)(int S, const int32_t *const *down, const int32_t *const *up,
                                 const int32_t *centre, int others, const int32_t *const *other,
                                 const int32_t *cls, int K, const int16_t *w, size_t wstride,
                                 size_t n, int32_t *acc);

typedef struct {
    const char *name; /* "c", "avx2", "avx512" */
    int mr, nr;       /* register block: rows of A, columns of the panel */
    nn_kernel_fn kernel;
    nn_pack_fn pack;  /* with the path's vectors: a row of the panel is one
                       * or two loads, not a call to memcpy */
    nn_conv3_row_fn conv3_row; /* NULL: the GEMM does these layers too */
    nn_pack_conv3_fn pack_conv3;
    nn_halves_fn halves;       /* with the path's conversion instruction */
    nn_transpose_fn transpose; /* in tiles of the path's vectors */
    nn_gram_fn gram;
    nn_wiener_row_fn wiener_row;
} nn_dsp;

/* The path in use: the widest this CPU runs, or the one AEC_CPU asks for
 * when that is lower. */
const nn_dsp *nn_dsp_active(void);
/* The table of one path, or NULL when this CPU (or build) cannot run it. */
const nn_dsp *nn_dsp_of(enum nn_isa isa);

/* The kernels (defined only where the compiler can build them). */
extern const nn_dsp nn_dsp_c;
/* The C path's transpose, also the vector paths' edges. */
void nn_transpose_c(const float *X, int rows, int cols, size_t ld, float *T, size_t ldt);
#if defined(__x86_64__) && defined(__GNUC__)
#define NN_HAVE_X86_PATHS 1
extern const nn_dsp nn_dsp_avx2;
extern const nn_dsp nn_dsp_avx512;
#endif
#endif
