/* SPDX-License-Identifier: BSD-3-Clause */
/* test_nn.c - the neural-network engine: every forward pass against a plain,
 * obviously-correct loop; every backward pass against central finite
 * differences (maximum relative error printed and bounded); the residual VQ
 * against a brute-force search; the Jacobi eigen-solver; the model file. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "aecodec.h"
#include "bitstream/container.h" /* aecb_crc32, to forge consistent files */
#include "common/arena.h"
#include "common/bytes.h"
#include "common/half.h"
#include "model/model.h"
#include "model/network.h"
#include "nn/gemm.h"
#include "nn/dsp.h"
#include "nn/layers.h"
#include "nn/winograd.h"
#include "testlib.h"
#include "model/backward.h"
#include "train/init.h"
#include "train/rng.h"
#include "vq/rvq.h"

/* ---- helpers ----------------------------------------------------------- */

static uint64_t g_rng = 0x1234abcdULL;

static float urand(void) { return 2.0f * aet_rng_float(&g_rng) - 1.0f; } /* [-1, 1) */

static void fill(float *p, size_t n, float scale)
{
    for (size_t i = 0; i < n; i++)
        p[i] = scale * urand();
}

static float *falloc(size_t n)
{
    float *p = malloc((n ? n : 1) * sizeof(float));
    if (!p) {
        fprintf(stderr, "out of memory\n");
        exit(2);
    }
    return p;
}

/* Accumulates the worst relative error between an analytic gradient and a
 * numerical one.  The denominator has a floor (a fraction of the largest
 * gradient in the tensor) so that entries that are nearly zero do not turn
 * rounding noise into huge relative errors. */
typedef struct {
    double max_rel;
    double floor;
    int worst;
    double worst_a, worst_n;
} relerr;

static void relerr_init(relerr *r, const float *analytic, size_t n)
{
    double m = 0;
    for (size_t i = 0; i < n; i++)
        m = fmax(m, fabs(analytic[i]));
    r->max_rel = 0;
    r->floor = fmax(0.02 * m, 1e-6);
    r->worst = -1;
    r->worst_a = r->worst_n = 0;
}

static void relerr_add(relerr *r, int i, double a, double n)
{
    double den = fmax(fmax(fabs(a), fabs(n)), r->floor);
    double e = fabs(a - n) / den;
    if (e > r->max_rel || r->worst < 0) {
        r->max_rel = fmax(r->max_rel, e);
        r->worst = i, r->worst_a = a, r->worst_n = n;
    }
}

/* ---- GEMM -------------------------------------------------------------- */

/* Checks C against Cref with a tolerance scaled by sum_k |a_ik b_kj| (given
 * as Cabs) and that the padding columns between N and ldc are untouched. */
static void check_gemm_result(const char *what, int M, int N, int K, int acc, const float *C,
                              const float *Cref, const float *Cabs, int ldc, const float *C0)
{
    double worst = 0;
    int bad = 0;
    for (int i = 0; i < M; i++) {
        for (int j = 0; j < N; j++) {
            size_t o = (size_t)i * ldc + j;
            double tol = 2e-6 * (Cabs[o] + fabs(C0[o])) + 1e-30;
            double e = fabs((double)C[o] - Cref[o]);
            if (e / tol > worst)
                worst = e / tol;
            if (!(e <= tol))
                bad++;
        }
        for (int j = N; j < ldc; j++)
            if (memcmp(&C[(size_t)i * ldc + j], &C0[(size_t)i * ldc + j], sizeof(float)))
                bad++;
    }
    CHECKF(bad == 0, "%s M=%d N=%d K=%d acc=%d: %d bad elements (worst err/tol %.3g)", what, M,
           N, K, acc, bad, worst);
}

static void test_gemm(void)
{
    static const int sizes[][3] = {
        {1, 1, 1},    {1, 7, 13},   {7, 1, 17},    {13, 17, 1},   {7, 13, 17},  {17, 33, 65},
        {33, 65, 13}, {65, 17, 33}, {300, 7, 13},  {7, 300, 65},  {13, 17, 300}, {65, 33, 300},
        {6, 16, 256}, {12, 32, 257}, {300, 65, 33}, {33, 300, 300}, {1, 300, 7},  {300, 1, 300},
    };
    int nsizes = (int)(sizeof sizes / sizeof *sizes);
    for (int t = 0; t < nsizes; t++) {
        int M = sizes[t][0], N = sizes[t][1], K = sizes[t][2];
        for (int acc = 0; acc <= 1; acc++) {
            /* nn: A[M][K] (lda K+3), B[K][N] (ldb N+5), C[M][N] (ldc N+2). */
            int lda = K + 3, ldb = N + 5, ldc = N + 2;
            float *A = falloc((size_t)M * lda), *B = falloc((size_t)K * ldb);
            float *C = falloc((size_t)M * ldc), *C0 = falloc((size_t)M * ldc);
            float *Cref = falloc((size_t)M * ldc), *Cabs = falloc((size_t)M * ldc);
            float *Aabs = falloc((size_t)M * lda), *Babs = falloc((size_t)K * ldb);
            fill(A, (size_t)M * lda, 1.0f);
            fill(B, (size_t)K * ldb, 1.0f);
            fill(C0, (size_t)M * ldc, 1.0f);
            for (size_t i = 0; i < (size_t)M * lda; i++)
                Aabs[i] = fabsf(A[i]);
            for (size_t i = 0; i < (size_t)K * ldb; i++)
                Babs[i] = fabsf(B[i]);
            nn_gemm_reference(M, N, K, Aabs, lda, Babs, ldb, Cabs, ldc, 0);
            memcpy(Cref, C0, (size_t)M * ldc * sizeof(float));
            nn_gemm_reference(M, N, K, A, lda, B, ldb, Cref, ldc, acc);
            memcpy(C, C0, (size_t)M * ldc * sizeof(float));
            nn_gemm_nn(M, N, K, A, lda, B, ldb, C, ldc, acc);
            check_gemm_result("nn", M, N, K, acc, C, Cref, Cabs, ldc, C0);

            /* nt: B given as Bt[N][K] (ldbt K+5): C = A * Bt^T. */
            int ldbt = K + 5;
            float *Bt = falloc((size_t)N * ldbt);
            fill(Bt, (size_t)N * ldbt, 1.0f);
            for (int k = 0; k < K; k++) /* B = transpose of Bt, naively */
                for (int j = 0; j < N; j++)
                    B[(size_t)k * ldb + j] = Bt[(size_t)j * ldbt + k],
                                        Babs[(size_t)k * ldb + j] = fabsf(Bt[(size_t)j * ldbt + k]);
            nn_gemm_reference(M, N, K, Aabs, lda, Babs, ldb, Cabs, ldc, 0);
            memcpy(Cref, C0, (size_t)M * ldc * sizeof(float));
            nn_gemm_reference(M, N, K, A, lda, B, ldb, Cref, ldc, acc);
            memcpy(C, C0, (size_t)M * ldc * sizeof(float));
            nn_gemm_nt(M, N, K, A, lda, Bt, ldbt, C, ldc, acc);
            check_gemm_result("nt", M, N, K, acc, C, Cref, Cabs, ldc, C0);

            /* tn: A given as At[K][M] (ldat M+3): C = At^T * B. */
            int ldat = M + 3;
            float *At = falloc((size_t)K * ldat);
            fill(At, (size_t)K * ldat, 1.0f);
            fill(B, (size_t)K * ldb, 1.0f);
            for (int i = 0; i < M; i++)
                for (int k = 0; k < K; k++)
                    A[(size_t)i * lda + k] = At[(size_t)k * ldat + i],
                                        Aabs[(size_t)i * lda + k] = fabsf(At[(size_t)k * ldat + i]);
            for (size_t i = 0; i < (size_t)K * ldb; i++)
                Babs[i] = fabsf(B[i]);
            nn_gemm_reference(M, N, K, Aabs, lda, Babs, ldb, Cabs, ldc, 0);
            memcpy(Cref, C0, (size_t)M * ldc * sizeof(float));
            nn_gemm_reference(M, N, K, A, lda, B, ldb, Cref, ldc, acc);
            memcpy(C, C0, (size_t)M * ldc * sizeof(float));
            nn_gemm_tn(M, N, K, At, ldat, B, ldb, C, ldc, acc);
            check_gemm_result("tn", M, N, K, acc, C, Cref, Cabs, ldc, C0);

            free(A), free(B), free(C), free(C0), free(Cref), free(Cabs), free(Aabs), free(Babs);
            free(Bt), free(At);
        }
    }
    /* Degenerate sizes: K = 0 with accumulate=0 clears C, with 1 keeps it. */
    float C[6] = {1, 2, 3, 4, 5, 6}, A[1] = {0}, Bm[1] = {0};
    nn_gemm_nn(2, 3, 0, A, 1, Bm, 3, C, 3, 1);
    CHECK(C[0] == 1 && C[5] == 6);
    nn_gemm_nn(2, 3, 0, A, 1, Bm, 3, C, 3, 0);
    CHECK(C[0] == 0 && C[5] == 0);
}

/* A weight gradient's shape, dW[out][in*9] += dY[out][pixels] *
 * cols[in*9][pixels]^T (few rows, many columns, a long K): nn_gemm_nt
 * computes it as its transpose (gemm_nt_swapped), which must give the bits
 * of the plain product, with any thread count (the trainer's results do not
 * depend on either). */
static void test_gemm_nt_weight_gradient_bits(void)
{
    uint64_t rng_before = g_rng; /* the later tests' random networks stay as they were */
    int M = 40, N = 300, K = 1100;
    float *A = falloc((size_t)M * K), *Bt = falloc((size_t)N * K), *B = falloc((size_t)K * N);
    float *C0 = falloc((size_t)M * N), *Cnt = falloc((size_t)M * N), *Cnn = falloc((size_t)M * N);
    fill(A, (size_t)M * K, 1), fill(Bt, (size_t)N * K, 1), fill(C0, (size_t)M * N, 1);
    for (int k = 0; k < K; k++)
        for (int j = 0; j < N; j++)
            B[(size_t)k * N + j] = Bt[(size_t)j * K + k];
    int runs = 1;
#ifdef _OPENMP
    int saved = omp_get_max_threads();
    runs = 2;
#endif
    for (int r = 0; r < runs; r++) {
#ifdef _OPENMP
        omp_set_num_threads(r == 0 ? 1 : 3);
#endif
        for (int acc = 0; acc <= 1; acc++) {
            memcpy(Cnt, C0, (size_t)M * N * sizeof(float));
            memcpy(Cnn, C0, (size_t)M * N * sizeof(float));
            nn_gemm_nt(M, N, K, A, K, Bt, K, Cnt, N, acc);
            nn_gemm_nn(M, N, K, A, K, B, N, Cnn, N, acc);
            CHECKF(memcmp(Cnt, Cnn, (size_t)M * N * sizeof(float)) == 0,
                   "nt differs from nn (acc=%d, run %d)", acc, r);
        }
    }
#ifdef _OPENMP
    omp_set_num_threads(saved);
#endif
    free(A), free(Bt), free(B), free(C0), free(Cnt), free(Cnn);
    g_rng = rng_before;
}

/* The same product must give the same bits with 1 and 3 threads (each output
 * element is summed in the same order, whatever the split). */
static void test_gemm_thread_independence(void)
{
#ifdef _OPENMP
    int M = 70, N = 200, K = 300; /* M*N*K = 4.2e6 > the 2e6 parallel threshold */
    float *A = falloc((size_t)M * K), *B = falloc((size_t)K * N);
    float *C1 = falloc((size_t)M * N), *C3 = falloc((size_t)M * N);
    fill(A, (size_t)M * K, 1), fill(B, (size_t)K * N, 1);
    int saved = omp_get_max_threads();
    omp_set_num_threads(1);
    nn_gemm_nn(M, N, K, A, K, B, N, C1, N, 0);
    omp_set_num_threads(3);
    nn_gemm_nn(M, N, K, A, K, B, N, C3, N, 0);
    CHECK(memcmp(C1, C3, (size_t)M * N * sizeof(float)) == 0);
    /* A convolution big enough for the parallel im2col/col2im paths. */
    nn_conv_shape s = {17, 5, 3, 1, 1};
    int Bn = 2, H = 45, W = 47; /* plane * cin = 2*45*47*17 > 65536 */
    size_t nin = (size_t)s.cin * Bn * H * W, nout = (size_t)s.cout * Bn * H * W;
    size_t nsc = nn_conv_scratch_floats(&s, Bn, H, W);
    float *in = falloc(nin), *w = falloc((size_t)s.cout * s.cin * 9), *sc = falloc(nsc);
    float *dout = falloc(nout), *o1 = falloc(nout), *o3 = falloc(nout);
    float *d1 = falloc(nin), *d3 = falloc(nin);
    float *dw1 = calloc((size_t)s.cout * s.cin * 9, sizeof(float)),
          *dw3 = calloc((size_t)s.cout * s.cin * 9, sizeof(float));
    fill(in, nin, 1), fill(w, (size_t)s.cout * s.cin * 9, 0.1f), fill(dout, nout, 1);
    omp_set_num_threads(1);
    nn_conv_forward(&s, Bn, H, W, in, w, NULL, o1, sc);
    nn_conv_backward(&s, Bn, H, W, in, w, dout, dw1, NULL, d1, sc);
    omp_set_num_threads(3);
    nn_conv_forward(&s, Bn, H, W, in, w, NULL, o3, sc);
    nn_conv_backward(&s, Bn, H, W, in, w, dout, dw3, NULL, d3, sc);
    CHECK(memcmp(o1, o3, nout * sizeof(float)) == 0);
    CHECK(memcmp(d1, d3, nin * sizeof(float)) == 0);
    CHECK(memcmp(dw1, dw3, (size_t)s.cout * s.cin * 9 * sizeof(float)) == 0);
    omp_set_num_threads(saved);
    free(A), free(B), free(C1), free(C3), free(in), free(w), free(sc), free(dout), free(o1),
        free(o3), free(d1), free(d3), free(dw1), free(dw3);
#endif
}

/* ---- convolution ------------------------------------------------------- */

typedef struct {
    const char *name;
    int k, stride, pad;
} conv_case;

static const conv_case conv_cases[] = {
    {"conv1x1 s1", 1, 1, 0}, {"conv3x3 s1", 3, 1, 1}, {"conv3x3 s2", 3, 2, 1},
    {"conv5x5 s2", 5, 2, 2}, {"conv1x1 s2", 1, 2, 0}, {"conv3x3 s1 p0", 3, 1, 0},
};
#define N_CONV_CASES ((int)(sizeof conv_cases / sizeof *conv_cases))

static void test_conv_forward(void)
{
    const int B = 2, H = 7, W = 9, cin = 3, cout = 5;
    for (int c = 0; c < N_CONV_CASES; c++) {
        nn_conv_shape s = {cin, cout, conv_cases[c].k, conv_cases[c].stride, conv_cases[c].pad};
        int Ho = nn_conv_out_dim(H, s.k, s.stride, s.pad), Wo = nn_conv_out_dim(W, s.k, s.stride, s.pad);
        size_t nin = (size_t)cin * B * H * W, nout = (size_t)cout * B * Ho * Wo;
        size_t nw = (size_t)cout * cin * s.k * s.k, nsc = nn_conv_scratch_floats(&s, B, H, W);
        if (s.k == 1 && s.stride == 1 && s.pad == 0)
            CHECK(nsc == 0);
        float *in = falloc(nin), *w = falloc(nw), *b = falloc(cout);
        float *out = falloc(nout + 1), *ref = falloc(nout);
        float *sc = nsc ? falloc(nsc) : NULL; /* exact size: ASan catches overruns */
        fill(in, nin, 1), fill(w, nw, 1), fill(b, cout, 1);
        for (int with_bias = 0; with_bias <= 1; with_bias++) {
            const float *bp = with_bias ? b : NULL;
            for (size_t i = 0; i <= nout; i++)
                out[i] = 12345.0f; /* garbage, and a sentinel past the end */
            nn_conv_forward(&s, B, H, W, in, w, bp, out, sc);
            nn_conv_forward_reference(&s, B, H, W, in, w, bp, ref);
            double worst = 0;
            for (size_t i = 0; i < nout; i++)
                worst = fmax(worst, fabs((double)out[i] - ref[i]));
            CHECKF(worst < 1e-5, "%s bias=%d: max |fast - reference| = %.3g", conv_cases[c].name,
                   with_bias, worst);
            CHECK(out[nout] == 12345.0f);
        }
        /* An independent spot check of the reference itself (one output). */
        {
            int co = 2, bi = 1, oy = Ho - 1, ox = Wo / 2;
            double sum = b[co];
            for (int ci = 0; ci < cin; ci++)
                for (int ky = 0; ky < s.k; ky++)
                    for (int kx = 0; kx < s.k; kx++) {
                        int iy = oy * s.stride - s.pad + ky, ix = ox * s.stride - s.pad + kx;
                        if (iy >= 0 && iy < H && ix >= 0 && ix < W)
                            sum += (double)w[((co * cin + ci) * s.k + ky) * s.k + kx] *
                                   in[((size_t)(ci * B + bi) * H + iy) * W + ix];
                    }
            CHECK(fabs(sum - ref[((size_t)(co * B + bi) * Ho + oy) * Wo + ox]) < 1e-5);
        }
        free(in), free(w), free(b), free(out), free(ref), free(sc);
    }
}

/* L = sum(out * R) in double: dL/dout = R. */
static double conv_loss(const nn_conv_shape *s, int B, int H, int W, const float *in,
                        const float *w, const float *b, float *out, float *sc, const float *R,
                        size_t nout)
{
    nn_conv_forward(s, B, H, W, in, w, b, out, sc);
    double L = 0;
    for (size_t i = 0; i < nout; i++)
        L += (double)out[i] * R[i];
    return L;
}

/* Central differences of L over every entry of x (the convolution is linear
 * in each of w, b and in, so the only error is rounding). */
static double conv_fd_check(const char *what, const nn_conv_shape *s, int B, int H, int W,
                            float *in, float *w, float *b, float *x, size_t nx,
                            const float *analytic, float *out, float *sc, const float *R,
                            size_t nout)
{
    const float eps = 1e-2f;
    relerr r;
    relerr_init(&r, analytic, nx);
    for (size_t i = 0; i < nx; i++) {
        float v = x[i];
        x[i] = v + eps;
        double Lp = conv_loss(s, B, H, W, in, w, b, out, sc, R, nout);
        x[i] = v - eps;
        double Lm = conv_loss(s, B, H, W, in, w, b, out, sc, R, nout);
        x[i] = v;
        double num = (Lp - Lm) / (2.0 * (double)eps);
        relerr_add(&r, (int)i, analytic[i], num);
    }
    printf("  %-17s rel err %.2e (%zu entries)\n", what, r.max_rel, nx);
    return r.max_rel;
}

static void test_conv_backward(void)
{
    const int B = 2, H = 7, W = 9, cin = 3, cout = 4;
    for (int c = 0; c < N_CONV_CASES; c++) {
        nn_conv_shape s = {cin, cout, conv_cases[c].k, conv_cases[c].stride, conv_cases[c].pad};
        int Ho = nn_conv_out_dim(H, s.k, s.stride, s.pad), Wo = nn_conv_out_dim(W, s.k, s.stride, s.pad);
        size_t nin = (size_t)cin * B * H * W, nout = (size_t)cout * B * Ho * Wo;
        size_t nw = (size_t)cout * cin * s.k * s.k, nsc = nn_conv_scratch_floats(&s, B, H, W);
        float *in = falloc(nin), *w = falloc(nw), *b = falloc(cout), *R = falloc(nout);
        float *out = falloc(nout), *sc = nsc ? falloc(nsc) : NULL;
        float *dw = falloc(nw), *db = falloc(cout), *din = falloc(nin);
        float *dw0 = falloc(nw), *db0 = falloc(cout), *dw2 = falloc(nw), *db2 = falloc(cout);
        fill(in, nin, 1), fill(w, nw, 1), fill(b, cout, 1), fill(R, nout, 1);
        /* Backward accumulates into dw and db: start them from known values. */
        fill(dw0, nw, 1), fill(db0, cout, 1);
        memcpy(dw, dw0, nw * sizeof(float));
        memcpy(db, db0, cout * sizeof(float));
        for (size_t i = 0; i < nin; i++)
            din[i] = NAN; /* must be overwritten */
        nn_conv_backward(&s, B, H, W, in, w, R, dw, db, din, sc);
        for (size_t i = 0; i < nw; i++)
            dw[i] -= dw0[i];
        for (int i = 0; i < cout; i++)
            db[i] -= db0[i];
        int finite = 1;
        for (size_t i = 0; i < nin; i++)
            finite &= isfinite(din[i]) != 0;
        CHECKF(finite, "%s: din not fully written", conv_cases[c].name);

        /* Without din (the first layer of the encoder): same dw and db. */
        memset(dw2, 0, nw * sizeof(float));
        memset(db2, 0, cout * sizeof(float));
        nn_conv_backward(&s, B, H, W, in, w, R, dw2, db2, NULL, sc);
        double dd = 0;
        for (size_t i = 0; i < nw; i++)
            dd = fmax(dd, fabs((double)dw2[i] - dw[i]));
        CHECKF(dd < 1e-4, "%s: dw with din=NULL differs by %.3g", conv_cases[c].name, dd);

        char name[64];
        double e;
        snprintf(name, sizeof name, "%s dW", conv_cases[c].name);
        e = conv_fd_check(name, &s, B, H, W, in, w, b, w, nw, dw, out, sc, R, nout);
        CHECKF(e < 5e-3, "%s: %.3g", name, e);
        snprintf(name, sizeof name, "%s db", conv_cases[c].name);
        e = conv_fd_check(name, &s, B, H, W, in, w, b, b, cout, db, out, sc, R, nout);
        CHECKF(e < 5e-3, "%s: %.3g", name, e);
        snprintf(name, sizeof name, "%s dX", conv_cases[c].name);
        e = conv_fd_check(name, &s, B, H, W, in, w, b, in, nin, din, out, sc, R, nout);
        CHECKF(e < 5e-3, "%s: %.3g", name, e);
        free(in), free(w), free(b), free(R), free(out), free(sc), free(dw), free(db), free(din);
        free(dw0), free(db0), free(dw2), free(db2);
    }
}

/* The weight gradient, whose im2col matrix is made a block of rows at a
 * time (nn/gemm.h nn_gemm_nt_rows), has the bits of the stored matrix's
 * product: dw += dout * cols^T by nn_gemm_nt, cols written out here.  For
 * every shape of conv_cases, on grids whose K slices of positions cross
 * rows and batch items, with 1 and 3 threads. */
static void test_conv_weight_gradient_bits(void)
{
    uint64_t rng_before = g_rng; /* the later tests' random networks stay as they were */
    static const int grids[][3] = {{2, 7, 9}, {3, 13, 21}, {1, 40, 37}, {2, 16, 16}};
    for (int c = 0; c < N_CONV_CASES; c++)
        for (size_t g = 0; g < sizeof grids / sizeof *grids; g++) {
            int B = grids[g][0], H = grids[g][1], W = grids[g][2];
            nn_conv_shape s = {5, 6, conv_cases[c].k, conv_cases[c].stride, conv_cases[c].pad};
            if (s.k == 1)
                continue; /* 1x1: no im2col */
            int Ho = nn_conv_out_dim(H, s.k, s.stride, s.pad),
                Wo = nn_conv_out_dim(W, s.k, s.stride, s.pad);
            int N = B * Ho * Wo, K = s.cin * s.k * s.k;
            size_t nin = (size_t)s.cin * B * H * W, nw = (size_t)s.cout * K;
            size_t nsc = nn_conv_scratch_floats(&s, B, H, W);
            float *in = falloc(nin), *w = falloc(nw), *dout = falloc((size_t)s.cout * N);
            float *cols = falloc((size_t)K * N), *want = falloc(nw), *got = falloc(nw);
            float *sc = falloc(nsc);
            fill(in, nin, 1), fill(w, nw, 1), fill(dout, (size_t)s.cout * N, 1), fill(want, nw, 1);
            memcpy(got, want, nw * sizeof(float));
            for (int ci = 0; ci < s.cin; ci++)
                for (int t = 0; t < s.k * s.k; t++)
                    for (int p = 0; p < N; p++) {
                        int b = p / (Ho * Wo), oy = p / Wo % Ho, ox = p % Wo;
                        int iy = oy * s.stride + t / s.k - s.pad;
                        int ix = ox * s.stride + t % s.k - s.pad;
                        int inside = iy >= 0 && iy < H && ix >= 0 && ix < W;
                        cols[((size_t)ci * s.k * s.k + t) * N + p] =
                            inside ? in[(((size_t)ci * B + b) * H + iy) * W + ix] : 0.0f;
                    }
            nn_gemm_nt(s.cout, K, N, dout, N, cols, N, want, K, 1);
            int same = 1;
#ifdef _OPENMP
            int saved = omp_get_max_threads();
            for (int threads = 1; threads <= 3; threads += 2) {
                omp_set_num_threads(threads);
#endif
                float *dw = falloc(nw);
                memcpy(dw, got, nw * sizeof(float));
                nn_conv_backward(&s, B, H, W, in, w, dout, dw, NULL, NULL, sc);
                same &= memcmp(dw, want, nw * sizeof(float)) == 0;
                free(dw);
#ifdef _OPENMP
            }
            omp_set_num_threads(saved);
#endif
            CHECKF(same, "%s on %dx%dx%d: dw differs from the stored im2col's product",
                   conv_cases[c].name, B, H, W);
            free(in), free(w), free(dout), free(cols), free(want), free(got), free(sc);
        }
    g_rng = rng_before;
}

/* A batch's wide 3x3 layers go by Winograd's F(2x2, 3x3) (nn/winograd.h):
 * forward and both gradients must agree with the direct convolution to
 * rounding (a wrong sign or tile offset is off by the values' size), on
 * odd sizes and sizes of one row, and give the same bits on 1 and 3
 * threads. */
static void test_conv_winograd(void)
{
    uint64_t rng_before = g_rng;
    static const int cases[][5] = {/* cin, cout, B, H, W */
                                   {32, 40, 2, 7, 9},
                                   {48, 32, 3, 16, 16},
                                   {32, 33, 2, 1, 5},
                                   {40, 32, 2, 13, 70}};
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        nn_conv_shape s = {cases[c][0], cases[c][1], 3, 1, 1};
        int B = cases[c][2], H = cases[c][3], W = cases[c][4], plane = H * W;
        CHECK(nn_wino_supported(&s));
        size_t nin = (size_t)s.cin * B * plane, nout = (size_t)s.cout * B * plane;
        size_t nw = (size_t)s.cout * s.cin * 9;
        size_t nsc = nn_conv_scratch_floats(&s, B, H, W);
        size_t nsc1 = nn_conv_scratch_floats(&s, 1, H, W);
        CHECK(nn_conv_forward_scratch_floats(&s, B, H, W) <= nsc);
        float *in = falloc(nin), *w = falloc(nw), *bias = falloc(s.cout), *dout = falloc(nout);
        float *ref = falloc(nout), *sc = falloc(nsc), *sc1 = falloc(nsc1);
        float *dw_ref = calloc(nw, sizeof(float)), *din_ref = falloc(nin);
        fill(in, nin, 1), fill(w, nw, 0.1f), fill(bias, s.cout, 0.5f), fill(dout, nout, 1);
        nn_conv_forward_reference(&s, B, H, W, in, w, bias, ref);
        for (size_t i = 0; i < nout; i++)
            ref[i] = ref[i] > 0 ? ref[i] : 0;
        /* The gradients' reference: the direct convolution, image by image. */
        float *in1 = falloc((size_t)s.cin * plane), *dout1 = falloc((size_t)s.cout * plane);
        float *din1 = falloc((size_t)s.cin * plane);
        for (int b = 0; b < B; b++) {
            for (int ci = 0; ci < s.cin; ci++)
                memcpy(in1 + (size_t)ci * plane, in + ((size_t)ci * B + b) * plane,
                       sizeof(float) * plane);
            for (int co = 0; co < s.cout; co++)
                memcpy(dout1 + (size_t)co * plane, dout + ((size_t)co * B + b) * plane,
                       sizeof(float) * plane);
            nn_conv_backward(&s, 1, H, W, in1, w, dout1, dw_ref, NULL, din1, sc1);
            for (int ci = 0; ci < s.cin; ci++)
                memcpy(din_ref + ((size_t)ci * B + b) * plane, din1 + (size_t)ci * plane,
                       sizeof(float) * plane);
        }
        float *out[2], *dw[2], *din[2];
        double err_out = 0, err_dw = 0, err_din = 0, max_dw = 0;
        for (size_t i = 0; i < nw; i++)
            max_dw = fmax(max_dw, fabs(dw_ref[i]));
        for (int r = 0; r < 2; r++) {
#ifdef _OPENMP
            int saved = omp_get_max_threads();
            omp_set_num_threads(r == 0 ? 1 : 3);
#endif
            out[r] = falloc(nout), dw[r] = calloc(nw, sizeof(float)), din[r] = falloc(nin);
            nn_conv_forward_act(&s, B, H, W, in, w, bias, out[r], sc, 1);
            nn_conv_backward(&s, B, H, W, in, w, dout, dw[r], NULL, din[r], sc);
#ifdef _OPENMP
            omp_set_num_threads(saved);
#endif
        }
        for (size_t i = 0; i < nout; i++)
            err_out = fmax(err_out, fabs(out[0][i] - ref[i]) / (1 + fabs(ref[i])));
        for (size_t i = 0; i < nw; i++)
            err_dw = fmax(err_dw, fabs(dw[0][i] - dw_ref[i]) / (1 + max_dw));
        for (size_t i = 0; i < nin; i++)
            err_din = fmax(err_din, fabs(din[0][i] - din_ref[i]) / (1 + fabs(din_ref[i])));
        printf("  winograd %d->%d B=%d %dx%d: out %.2g, dw %.2g, din %.2g (relative)\n", s.cin,
               s.cout, B, H, W, err_out, err_dw, err_din);
        CHECKF(err_out < 1e-5 && err_dw < 1e-5 && err_din < 1e-5,
               "winograd %d->%d on %dx%dx%d differs from the direct convolution", s.cin, s.cout, B,
               H, W);
        CHECK(memcmp(out[0], out[1], nout * sizeof(float)) == 0);
        CHECK(memcmp(dw[0], dw[1], nw * sizeof(float)) == 0);
        CHECK(memcmp(din[0], din[1], nin * sizeof(float)) == 0);
        for (int r = 0; r < 2; r++)
            free(out[r]), free(dw[r]), free(din[r]);
        free(in), free(w), free(bias), free(dout), free(ref), free(sc), free(sc1), free(dw_ref),
            free(din_ref), free(in1), free(dout1), free(din1);
    }
    g_rng = rng_before;
}

/* One image's Winograd rows (the codec's cells and bands): against the
 * direct convolution to rounding, and, with the parity of where a window
 * lies in the whole grid, the same bits for every position a window
 * computes away from its border, whichever rows are asked (the rows not
 * asked stay as they were). */
static void test_conv_winograd_rows(void)
{
    uint64_t rng_before = g_rng;
    nn_conv_shape s = {32, 40, 3, 1, 1};
    int H = 33, W = 37, plane = H * W;
    size_t nw = (size_t)s.cout * s.cin * 9;
    float *in = falloc((size_t)s.cin * plane), *w = falloc(nw), *b = falloc(s.cout);
    fill(in, (size_t)s.cin * plane, 1), fill(w, nw, 0.1f), fill(b, s.cout, 0.5f);
    float *U = falloc(nn_wino_weights_floats(&s)), *work = falloc(nn_wino_rows_floats(&s, H, W));
    float *ref = falloc((size_t)s.cout * plane), *whole = falloc((size_t)s.cout * plane);
    nn_wino_weights(&s, w, U);
    nn_conv_forward_reference(&s, 1, H, W, in, w, b, ref);
    nn_wino_forward_rows(&s, H, W, 0, 0, in, U, b, whole, 1, 0, H, work);
    double err = 0;
    for (size_t i = 0; i < (size_t)s.cout * plane; i++)
        err = fmax(err, fabs(whole[i] - (ref[i] > 0 ? ref[i] : 0)) / (1 + fabs(ref[i])));
    CHECKF(err < 1e-5, "winograd rows differ from the direct convolution by %.3g", err);
    static const int windows[][6] = {/* x0, y0, w, h, y0 asked, y1 asked (window rows) */
                                     {1, 0, 20, 15, 1, 14},  {0, 1, 17, 22, 3, 20},
                                     {1, 1, 30, 22, 1, 21},  {3, 2, 11, 9, 2, 3},
                                     {2, 5, 14, 18, 7, 16},  {0, 0, 36, 32, 0, 32},
                                     {1, 1, 20, 21, 0, 21}};
    for (size_t k = 0; k < sizeof windows / sizeof *windows; k++) {
        int x0 = windows[k][0], y0 = windows[k][1], ww = windows[k][2], wh = windows[k][3];
        int r0 = windows[k][4], r1 = windows[k][5], wp = ww * wh;
        float *win = falloc((size_t)s.cin * wp), *out = falloc((size_t)s.cout * wp);
        for (int c = 0; c < s.cin; c++)
            for (int y = 0; y < wh; y++)
                memcpy(win + (size_t)c * wp + (size_t)y * ww,
                       in + (size_t)c * plane + (size_t)(y0 + y) * W + x0, sizeof(float) * ww);
        for (size_t i = 0; i < (size_t)s.cout * wp; i++)
            out[i] = 12345.0f;
        /* the window's own workspace, just as large as asked (ASan) */
        float *wwork = falloc(nn_wino_rows_floats(&s, wh, ww));
        nn_wino_forward_rows(&s, wh, ww, x0, y0, win, U, b, out, 1, r0, r1, wwork);
        free(wwork);
        int same = 1, kept = 1;
        for (int c = 0; c < s.cout; c++)
            for (int y = 0; y < wh; y++)
                for (int x = 0; x < ww; x++) {
                    float v = out[(size_t)c * wp + (size_t)y * ww + x];
                    int inner = x > 0 && x < ww - 1 && y > 0 && y < wh - 1;
                    if (y < r0 || y >= r1)
                        kept &= v == 12345.0f;
                    else if (inner)
                        same &= memcmp(&v, &whole[(size_t)c * plane + (size_t)(y0 + y) * W + x0 + x],
                                       sizeof v) == 0;
                }
        CHECKF(same, "window %zu (at %d,%d): not the whole grid's bits", k, x0, y0);
        CHECKF(kept, "window %zu: rows outside %d..%d written", k, r0, r1 - 1);
        free(win), free(out);
    }
    free(in), free(w), free(b), free(U), free(work), free(ref), free(whole);
    g_rng = rng_before;
}

/* ---- ReLU and space/depth --------------------------------------------- */

static void test_relu(void)
{
    float x[8] = {-2.0f, -0.0f, 0.0f, 1e-30f, 3.5f, -1e-30f, 7.0f, -7.0f};
    float y[8];
    memcpy(y, x, sizeof x);
    nn_relu_forward(y, 8);
    for (int i = 0; i < 8; i++)
        CHECKF(y[i] == (x[i] > 0 ? x[i] : 0.0f) && !signbit(y[i]), "relu(%g) = %g", x[i], y[i]);
    float dy[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    nn_relu_backward(y, dy, 8);
    for (int i = 0; i < 8; i++)
        CHECKF(dy[i] == (x[i] > 0 ? (float)(i + 1) : 0.0f), "relu' at %g: %g", x[i], dy[i]);
    /* Fused with the bias gradient: the mask of nn_relu_backward and the
     * sums of nn_conv_backward's db on the masked gradient, bit for bit. */
    enum { C = 3, N = 1000 };
    float *act = falloc(C * N), *g1 = falloc(C * N), *g2 = falloc(C * N);
    float *img = falloc(C * N), *wt = falloc(C * C);
    /* values of their own: the shared generator's sequence stays the
     * later tests' */
    for (int i = 0; i < C * N; i++)
        act[i] = sinf(0.37f * i), g1[i] = cosf(0.11f * i), img[i] = sinf(0.05f * i + 1);
    for (int i = 0; i < C * C; i++)
        wt[i] = 0.1f * (float)(i - 4);
    memcpy(g2, g1, sizeof(float) * C * N);
    float db1[C] = {0.5f, -1, 2}, db2[C] = {0.5f, -1, 2}, dw[C * C] = {0};
    nn_relu_backward(act, g1, (size_t)C * N);
    nn_conv_shape s = {C, C, 1, 1, 0};
    nn_conv_backward(&s, 1, 1, N, img, wt, g1, dw, db1, NULL, NULL);
    nn_relu_backward_bias(act, g2, C, N, db2);
    CHECK(memcmp(g1, g2, sizeof(float) * C * N) == 0);
    for (int c = 0; c < C; c++)
        CHECKF(db1[c] == db2[c] && db1[c] != (c == 0 ? 0.5f : c == 1 ? -1.0f : 2.0f),
               "channel %d: %g against %g", c, db2[c], db1[c]);
    free(act), free(g1), free(g2), free(img), free(wt);
}

static void test_space_depth(void)
{
    static const int cases[][5] = {/* C, B, H, W, P */
                                   {3, 2, 16, 24, 8},
                                   {2, 3, 6, 4, 2},
                                   {1, 1, 5, 10, 5},
                                   {3, 2, 3, 6, 1}};
    for (int t = 0; t < 4; t++) {
        int C = cases[t][0], B = cases[t][1], H = cases[t][2], W = cases[t][3], P = cases[t][4];
        int Hs = H / P, Ws = W / P;
        size_t n = (size_t)C * B * H * W;
        float *img = falloc(n), *dep = falloc(n), *back = falloc(n);
        fill(img, n, 1);
        nn_space_to_depth(C, B, H, W, P, img, dep);
        int bad = 0;
        for (int c = 0; c < C; c++)
            for (int b = 0; b < B; b++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        int oc = c * P * P + (y % P) * P + x % P;
                        float want = img[(((size_t)c * B + b) * H + y) * W + x];
                        float got = dep[(((size_t)oc * B + b) * Hs + y / P) * Ws + x / P];
                        bad += want != got;
                    }
        CHECKF(bad == 0, "s2d C=%d B=%d %dx%d P=%d: %d misplaced", C, B, H, W, P, bad);
        nn_depth_to_space(C, B, H, W, P, dep, back);
        CHECK(memcmp(img, back, n * sizeof(float)) == 0);
        /* And the other way round: s2d(d2s(v)) = v. */
        fill(dep, n, 1);
        nn_depth_to_space(C, B, H, W, P, dep, img);
        nn_space_to_depth(C, B, H, W, P, img, back);
        CHECK(memcmp(dep, back, n * sizeof(float)) == 0);
        free(img), free(dep), free(back);
    }
    /* The model's wrappers use the same convention. */
    aem_config cfg = {8, 3, 4, 5, 2, 6, 2, 3, 8, {0}, 0, {0}};
    int B = 2, Hs = 2, Ws = 3, H = 16, W = 24;
    size_t n = (size_t)3 * B * H * W;
    float *pix = falloc(n), *blk = falloc(n), *back = falloc(n);
    fill(pix, n, 1);
    aem_pixels_to_blocks(&cfg, B, Hs, Ws, pix, blk);
    aem_blocks_to_pixels(&cfg, B, Hs, Ws, blk, back);
    CHECK(memcmp(pix, back, n * sizeof(float)) == 0);
    /* pixel (c=2, b=1, y=13, x=22) -> channel 2*64 + 5*8 + 6, latent (1, 2) */
    CHECK(blk[((size_t)(2 * 64 + 5 * 8 + 6) * B + 1) * Hs * Ws + 1 * Ws + 2] ==
          pix[(((size_t)2 * B + 1) * H + 13) * W + 22]);
    free(pix), free(blk), free(back);
}

/* ---- whole networks ----------------------------------------------------- */

static const aem_config tiny_cfg = {
    .block = 8, .channels = 3, .latent = 4, .enc_width = 5, .enc_convs = 2,
    .dec_width = 6, .dec_convs = 2, .stages = 3, .codes = 8,
};

/* Uniform weights of standard deviation 1/sqrt(fan_in) (activations stay
 * O(1)); biases in [-0.1, 0.1]. */
static void fill_tensor(aec_model *m, size_t off, size_t count, int fan_in)
{
    fill(m->params + off, count, sqrtf(3.0f / (float)fan_in));
}

static aec_model *tiny_model_of(const aem_config *cfg);

/* The same with a (tiny) upsampling synthesis. */
static const aem_config tiny_up_cfg = {
    .block = 8, .channels = 3, .latent = 4, .enc_width = 5, .enc_convs = 2,
    .dec_width = 6, .dec_convs = 2, .stages = 3, .codes = 8,
    .up_width = {5, 4, 3}, .refine_width = 4,
};

/* The same with (tiny) analysis stages and the upsampling synthesis: a
 * version 3 model. */
static const aem_config tiny_down_cfg = {
    .block = 8, .channels = 3, .latent = 4, .enc_width = 5, .enc_convs = 2,
    .dec_width = 6, .dec_convs = 2, .stages = 3, .codes = 8,
    .up_width = {5, 4, 3}, .refine_width = 4, .down_width = {3, 4, 5},
};

static aec_model *tiny_model(void) { return tiny_model_of(&tiny_cfg); }

static aec_model *tiny_model_of(const aem_config *cfg)
{
    aec_model *m = NULL;
    char err[200];
    aec_status st = aem_model_new(cfg, "tiny test model", &m, err, sizeof err);
    if (st != AEC_OK) {
        printf("  aem_model_new: %s\n", err);
        return NULL;
    }
    const aem_config *c = &m->cfg;
    const aem_layout *L = &m->lay;
    int X = c->channels * c->block * c->block, D = c->latent;
    fill(m->params, L->total, 0.1f); /* biases (and everything else first) */
    fill_tensor(m, L->enc_lin_w, (size_t)D * X, X);
    for (int i = 0; i < c->enc_convs; i++) {
        int cin = i == 0 ? aem_encoder_inputs(c) : c->enc_width;
        fill_tensor(m, L->enc_conv_w[i], (size_t)c->enc_width * cin * 9, cin * 9);
    }
    if (aem_has_analysis(c)) {
        aem_down_shapes d;
        aem_down_shapes_of(c, &d);
        for (int j = 0; j < AEM_DOWN_STAGES; j++) /* He's gain, as the synthesis below */
            fill(m->params + L->down_w[j], (size_t)d.conv[j].cout * d.conv[j].cin * 9,
                 sqrtf(6.0f / (float)(d.conv[j].cin * 9)));
    }
    fill_tensor(m, L->enc_out_w, (size_t)D * c->enc_width, c->enc_width);
    fill_tensor(m, L->dec_lin_w, (size_t)X * D, D);
    for (int i = 0; i < c->dec_convs; i++) {
        int cin = i == 0 ? D : c->dec_width;
        fill_tensor(m, L->dec_conv_w[i], (size_t)c->dec_width * cin * 9, cin * 9);
    }
    fill_tensor(m, L->dec_out_w, (size_t)X * c->dec_width, c->dec_width);
    if (aem_has_upsampling(c)) {
        aem_up_shapes u;
        aem_up_shapes_of(c, &u);
        size_t w[AEM_UP_LAYERS] = {L->up_w[0], L->up_w[1], L->up_w[2], L->ref_w, L->fin_w};
        /* He's gain (half the units are off): the five layers keep the
         * signal, and so gradients well above the loss's rounding noise */
        for (int j = 0; j < AEM_UP_LAYERS; j++)
            fill(m->params + w[j], (size_t)u.conv[j].cout * u.conv[j].cin * 9,
                 sqrtf(6.0f / (float)(u.conv[j].cin * 9)));
    }
    fill(m->params + L->codebooks, L->total - L->codebooks, 1.0f);
    aem_model_refresh(m);
    return m;
}

/* ReLU pattern of the hidden layers (which units are > 0). */
static void relu_pattern(float *const *h, int n, size_t per, uint8_t *mask)
{
    for (int l = 0; l < n; l++)
        for (size_t i = 0; i < per; i++)
            mask[l * per + i] = h[l][i] > 0.0f;
}

typedef struct {
    aec_model *m;
    aem_acts *a;
    const float *R;
    size_t nR;
    int decoder;
    uint8_t *mask0, *mask1;
    size_t nmask;
    /* Deep stacks at full resolution: the loss's float rounding is a larger
     * share of the small weight gradients, so larger steps and a 3 % bound
     * (an error of the backward pass shows as far more: a wrong tensor is
     * off by its own size); biases, which move whole channels across ReLU
     * kinks, need only one clean entry. */
    int loose;
} net_ctx;

/* The decoder's ReLU units: the hidden layers, and those of the upsampling
 * synthesis when it has one; their pattern into mask unless it is NULL. */
static size_t decoder_relu_units(const aem_config *cfg, const aem_acts *a, uint8_t *mask)
{
    size_t N = (size_t)a->B * a->Hs * a->Ws, n = N * cfg->dec_width * cfg->dec_convs;
    if (mask)
        relu_pattern(a->dec_h, cfg->dec_convs, N * cfg->dec_width, mask);
    if (!aem_has_upsampling(cfg))
        return n;
    aem_up_shapes u;
    aem_up_shapes_of(cfg, &u);
    const float *h[AEM_UP_STAGES + 1] = {a->up_t[0], a->up_t[1], a->up_t[2], a->ref_h};
    for (int j = 0; j <= AEM_UP_STAGES; j++) {
        size_t per = N * u.scale[j] * u.scale[j] * u.conv[j].cout;
        for (size_t i = 0; mask && i < per; i++)
            mask[n + i] = h[j][i] > 0.0f;
        n += per;
    }
    return n;
}

static size_t encoder_relu_units(const aem_config *cfg, const aem_acts *a, uint8_t *mask);

static double net_loss(net_ctx *c, uint8_t *mask)
{
    const aem_config *cfg = &c->m->cfg;
    const float *out;
    if (c->decoder) {
        aem_decoder_forward(c->m, c->a);
        out = c->a->y;
        decoder_relu_units(cfg, c->a, mask);
    } else {
        aem_encoder_forward(c->m, c->a);
        out = c->a->z;
        encoder_relu_units(cfg, c->a, mask);
    }
    double L = 0;
    for (size_t i = 0; i < c->nR; i++)
        L += (double)out[i] * c->R[i];
    return L;
}

/* Checks up to `limit` entries of x (evenly spread) against central
 * differences.  Within one ReLU pattern the networks are linear in any
 * single parameter or input, so the difference is exact up to rounding;
 * entries whose +-eps moves cross a ReLU kink are skipped and counted. */
static double net_fd_check(net_ctx *c, const char *what, float *x, size_t nx,
                           const float *analytic, int limit, int *skipped, int *checked)
{
    /* Steps to try, largest first: a smaller one is used only when the
     * larger one crosses a kink (biases move whole channels). */
    static const float eps_try[] = {1e-2f, 2.5e-3f, 6.25e-4f};
    static const float eps_loose[] = {4e-2f, 1e-2f, 2.5e-3f};
    const float *eps_list = c->loose ? eps_loose : eps_try;
    relerr r;
    relerr_init(&r, analytic, nx);
    size_t step = nx > (size_t)limit ? (nx + limit - 1) / limit : 1;
    uint8_t *base = malloc(c->nmask);
    net_loss(c, base);
    *skipped = *checked = 0;
    for (size_t i = 0; i < nx; i += step) {
        float v = x[i];
        int ok = 0;
        double num = 0;
        for (int t = 0; t < 3 && !ok; t++) {
            float eps = eps_list[t];
            x[i] = v + eps;
            double Lp = net_loss(c, c->mask0);
            x[i] = v - eps;
            double Lm = net_loss(c, c->mask1);
            x[i] = v;
            ok = !memcmp(base, c->mask0, c->nmask) && !memcmp(base, c->mask1, c->nmask);
            num = (Lp - Lm) / (2.0 * (double)eps);
        }
        if (!ok) {
            (*skipped)++;
            continue;
        }
        (*checked)++;
        relerr_add(&r, (int)i, analytic[i], num);
    }
    net_loss(c, base); /* leave the activations as they were */
    free(base);
    printf("  %-14s rel err %.2e (%d checked, %d skipped at kinks, of %zu)\n", what, r.max_rel,
           *checked, *skipped, nx);
    return r.max_rel;
}

static void check_net_tensor(net_ctx *c, const char *what, float *x, size_t nx,
                             const float *analytic)
{
    int skipped, checked;
    double e = net_fd_check(c, what, x, nx, analytic, 160, &skipped, &checked);
    CHECKF(e < (c->loose ? 3e-2 : 1e-2), "%s: max relative error %.3g", what, e);
    CHECKF(checked >= 1 && (c->loose || skipped <= checked), "%s: %d checked, %d skipped", what,
           checked, skipped);
}

static void check_decoder_backward(const aem_config *config, int B, int Hs, int Ws)
{
    aec_model *m = tiny_model_of(config);
    CHECK(m != NULL);
    if (!m)
        return;
    const aem_config *cfg = &m->cfg;
    const aem_layout *L = &m->lay;
    int X = 192, D = cfg->latent;
    size_t N = (size_t)B * Hs * Ws;
    aem_acts a;
    aem_grad_ws ws;
    CHECK(aem_acts_alloc(&a, cfg, B, Hs, Ws, 1, 1) == 0);
    CHECK(aem_grad_ws_alloc(&ws, cfg, B, Hs, Ws) == 0);
    fill(a.q, (size_t)D * N, 1.0f);
    float *R = falloc((size_t)X * N), *grads = calloc(L->trainable, sizeof(float));
    float *dq = falloc((size_t)D * N), *grads2 = calloc(L->trainable, sizeof(float));
    float *dq2 = falloc((size_t)D * N);
    fill(R, (size_t)X * N, 1.0f);
    size_t nmask = decoder_relu_units(cfg, &a, NULL);
    net_ctx c = {m, &a, R, (size_t)X * N, 1, malloc(nmask), malloc(nmask), nmask,
                 aem_has_upsampling(cfg)};
    uint8_t *mk = malloc(nmask);
    net_loss(&c, mk);
    int active = 0;
    for (size_t i = 0; i < nmask; i++)
        active += mk[i];
    printf("  decoder: %d of %zu hidden units active\n", active, nmask);
    CHECK(active > (int)nmask / 5 && active < (int)nmask * 4 / 5);
    for (size_t i = 0; i < (size_t)D * N; i++)
        dq[i] = NAN; /* must be overwritten */
    aem_decoder_backward(m, &a, R, grads, dq, &ws);
    /* The encoder's gradients are not touched. */
    int touched = 0;
    for (size_t i = 0; i < L->dec_lin_w; i++)
        touched += grads[i] != 0.0f;
    CHECK(touched == 0);
    /* Accumulation: a second call adds the same gradient again. */
    memcpy(grads2, grads, L->trainable * sizeof(float));
    aem_decoder_backward(m, &a, R, grads2, dq2, &ws);
    double acc_err = 0, dq_diff = 0;
    for (size_t i = L->dec_lin_w; i < L->trainable; i++)
        acc_err = fmax(acc_err, fabs((double)grads2[i] - 2.0 * grads[i]));
    for (size_t i = 0; i < (size_t)D * N; i++)
        dq_diff = fmax(dq_diff, fabs((double)dq2[i] - dq[i]));
    CHECKF(acc_err < 1e-4, "second backward does not accumulate: %.3g", acc_err);
    CHECKF(dq_diff == 0, "dq differs between two calls: %.3g", dq_diff);
    /* Without weight gradients (the encoder's refinement): the same dq. */
    aem_decoder_backward(m, &a, R, NULL, dq2, &ws);
    CHECK(memcmp(dq, dq2, sizeof(float) * D * N) == 0);

    float *P = m->params;
    check_net_tensor(&c, "dec_lin_w", P + L->dec_lin_w, (size_t)X * D, grads + L->dec_lin_w);
    check_net_tensor(&c, "dec_lin_b", P + L->dec_lin_b, X, grads + L->dec_lin_b);
    for (int i = 0; i < cfg->dec_convs; i++) {
        char nm[32];
        int cin = i == 0 ? D : cfg->dec_width;
        snprintf(nm, sizeof nm, "dec_conv_w[%d]", i);
        check_net_tensor(&c, nm, P + L->dec_conv_w[i], (size_t)cfg->dec_width * cin * 9,
                         grads + L->dec_conv_w[i]);
        snprintf(nm, sizeof nm, "dec_conv_b[%d]", i);
        check_net_tensor(&c, nm, P + L->dec_conv_b[i], cfg->dec_width, grads + L->dec_conv_b[i]);
    }
    check_net_tensor(&c, "dec_out_w", P + L->dec_out_w, (size_t)X * cfg->dec_width,
                     grads + L->dec_out_w);
    check_net_tensor(&c, "dec_out_b", P + L->dec_out_b, X, grads + L->dec_out_b);
    if (aem_has_upsampling(cfg)) {
        aem_up_shapes u;
        aem_up_shapes_of(cfg, &u);
        size_t w[AEM_UP_LAYERS] = {L->up_w[0], L->up_w[1], L->up_w[2], L->ref_w, L->fin_w};
        size_t b[AEM_UP_LAYERS] = {L->up_b[0], L->up_b[1], L->up_b[2], L->ref_b, L->fin_b};
        for (int j = 0; j < AEM_UP_LAYERS; j++) {
            char nm[32];
            snprintf(nm, sizeof nm, "up layer %d w", j);
            check_net_tensor(&c, nm, P + w[j], (size_t)u.conv[j].cout * u.conv[j].cin * 9,
                             grads + w[j]);
            snprintf(nm, sizeof nm, "up layer %d b", j);
            check_net_tensor(&c, nm, P + b[j], (size_t)u.conv[j].cout, grads + b[j]);
        }
    }
    check_net_tensor(&c, "dq", a.q, (size_t)D * N, dq);
    free(c.mask0), free(c.mask1), free(mk);
    free(R), free(grads), free(grads2), free(dq), free(dq2);
    aem_grad_ws_free(&ws);
    aem_acts_free(&a);
    aec_model_free(m);
}

static void test_decoder_backward(void) { check_decoder_backward(&tiny_cfg, 2, 3, 4); }

/* The upsampling synthesis' backward pass, and the block decoder's through
 * it; a batch of two 16x8 crops keeps the loss's rounding noise (thousands
 * of full-resolution outputs) below the tolerance. */
static void test_upsampling_backward(void) { check_decoder_backward(&tiny_up_cfg, 2, 1, 2); }

/* The encoder's ReLU units: the analysis stages' when it has them, then
 * the hidden layers; their pattern into mask unless it is NULL. */
static size_t encoder_relu_units(const aem_config *cfg, const aem_acts *a, uint8_t *mask)
{
    size_t N = (size_t)a->B * a->Hs * a->Ws, n = 0;
    if (aem_has_analysis(cfg)) {
        aem_down_shapes d;
        aem_down_shapes_of(cfg, &d);
        const float *h[AEM_DOWN_STAGES] = {a->dn_t[0], a->dn_t[1], a->x + (size_t)192 * N};
        for (int j = 0; j < AEM_DOWN_STAGES; j++) {
            size_t per = N * d.scale[j] * d.scale[j] * d.conv[j].cout;
            for (size_t i = 0; mask && i < per; i++)
                mask[n + i] = h[j][i] > 0.0f;
            n += per;
        }
    }
    if (mask)
        relu_pattern(a->enc_h, cfg->enc_convs, N * cfg->enc_width, mask + n);
    return n + N * cfg->enc_width * cfg->enc_convs;
}

static void check_encoder_backward(const aem_config *config, int B, int Hs, int Ws)
{
    aec_model *m = tiny_model_of(config);
    CHECK(m != NULL);
    if (!m)
        return;
    const aem_config *cfg = &m->cfg;
    const aem_layout *L = &m->lay;
    int X = 192, D = cfg->latent;
    size_t N = (size_t)B * Hs * Ws;
    aem_acts a;
    aem_grad_ws ws;
    CHECK(aem_acts_alloc(&a, cfg, B, Hs, Ws, 1, 1) == 0);
    CHECK(aem_grad_ws_alloc(&ws, cfg, B, Hs, Ws) == 0);
    fill(a.x, (size_t)X * N, 1.0f);
    float *R = falloc((size_t)D * N), *grads = calloc(L->trainable, sizeof(float));
    fill(R, (size_t)D * N, 1.0f);
    size_t nmask = encoder_relu_units(cfg, &a, NULL);
    net_ctx c = {m, &a, R, (size_t)D * N, 0, malloc(nmask), malloc(nmask), nmask,
                 aem_has_analysis(cfg)};
    uint8_t *mk = malloc(nmask);
    net_loss(&c, mk);
    int active = 0;
    for (size_t i = 0; i < nmask; i++)
        active += mk[i];
    printf("  encoder: %d of %zu hidden units active\n", active, nmask);
    CHECK(active > (int)nmask / 5 && active < (int)nmask * 4 / 5);
    aem_encoder_backward(m, &a, R, grads, &ws);
    int touched = 0;
    for (size_t i = L->dec_lin_w; i < L->trainable; i++)
        touched += grads[i] != 0.0f;
    CHECK(touched == 0);

    float *P = m->params;
    check_net_tensor(&c, "enc_lin_w", P + L->enc_lin_w, (size_t)D * X, grads + L->enc_lin_w);
    check_net_tensor(&c, "enc_lin_b", P + L->enc_lin_b, D, grads + L->enc_lin_b);
    if (aem_has_analysis(cfg)) {
        aem_down_shapes d;
        aem_down_shapes_of(cfg, &d);
        for (int j = 0; j < AEM_DOWN_STAGES; j++) {
            char nm[32];
            snprintf(nm, sizeof nm, "down_w[%d]", j);
            check_net_tensor(&c, nm, P + L->down_w[j], (size_t)d.conv[j].cout * d.conv[j].cin * 9,
                             grads + L->down_w[j]);
            snprintf(nm, sizeof nm, "down_b[%d]", j);
            check_net_tensor(&c, nm, P + L->down_b[j], (size_t)d.conv[j].cout,
                             grads + L->down_b[j]);
        }
    }
    for (int i = 0; i < cfg->enc_convs; i++) {
        char nm[32];
        int cin = i == 0 ? aem_encoder_inputs(cfg) : cfg->enc_width;
        snprintf(nm, sizeof nm, "enc_conv_w[%d]", i);
        check_net_tensor(&c, nm, P + L->enc_conv_w[i], (size_t)cfg->enc_width * cin * 9,
                         grads + L->enc_conv_w[i]);
        snprintf(nm, sizeof nm, "enc_conv_b[%d]", i);
        check_net_tensor(&c, nm, P + L->enc_conv_b[i], cfg->enc_width, grads + L->enc_conv_b[i]);
    }
    check_net_tensor(&c, "enc_out_w", P + L->enc_out_w, (size_t)D * cfg->enc_width,
                     grads + L->enc_out_w);
    check_net_tensor(&c, "enc_out_b", P + L->enc_out_b, D, grads + L->enc_out_b);
    free(c.mask0), free(c.mask1), free(mk), free(R), free(grads);
    aem_grad_ws_free(&ws);
    aem_acts_free(&a);
    aec_model_free(m);
}

static void test_encoder_backward(void) { check_encoder_backward(&tiny_cfg, 2, 3, 4); }

/* The analysis stages' backward pass, and the encoder's through them. */
static void test_analysis_backward(void) { check_encoder_backward(&tiny_down_cfg, 2, 2, 2); }

/* The analysis stages widen the encoder's receptive field by at most
 * aem_encoder_halo - enc_convs latents: z of the inner latents of a window
 * grown by the halo equals z of the whole grid (what makes the encoder's
 * cells, and so its files, independent of the tiling). */
static void test_analysis_halo(void)
{
    aec_model *m = tiny_model_of(&tiny_down_cfg);
    CHECK(m != NULL);
    if (!m)
        return;
    const aem_config *cfg = &m->cfg;
    int H = 9, W = 10, halo = aem_encoder_halo(cfg), X = 192, D = cfg->latent;
    CHECK(halo == cfg->enc_convs + 2);
    aem_acts whole, win;
    CHECK(aem_acts_alloc(&whole, cfg, 1, H, W, 1, 0) == 0);
    fill(whole.x, (size_t)X * H * W, 1.0f);
    aem_encoder_forward(m, &whole);
    /* inner latents y0..y1, x0..x1 of the whole grid; window = them + halo */
    int y0 = 4, y1 = 5, x0 = 4, x1 = 6;
    int wy0 = y0 - halo, wx0 = x0 - halo, wh = y1 - y0 + 2 * halo, ww = x1 - x0 + 2 * halo;
    CHECK(wy0 >= 0 && wx0 >= 0 && wy0 + wh <= H && wx0 + ww <= W);
    CHECK(aem_acts_alloc(&win, cfg, 1, wh, ww, 1, 0) == 0);
    for (int k = 0; k < X; k++)
        for (int y = 0; y < wh; y++)
            memcpy(win.x + ((size_t)k * wh + y) * ww,
                   whole.x + ((size_t)k * H + wy0 + y) * W + wx0, sizeof(float) * ww);
    aem_encoder_forward(m, &win);
    double diff = 0;
    for (int d = 0; d < D; d++)
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
                diff = fmax(diff, fabs((double)win.z[((size_t)d * wh + y - wy0) * ww + x - wx0] -
                                       whole.z[((size_t)d * H + y) * W + x]));
    CHECKF(diff == 0, "inner z differs by %.3g between the window and the whole grid", diff);
    /* and one latent less of halo is not enough */
    aem_acts small;
    CHECK(aem_acts_alloc(&small, cfg, 1, wh - 2, ww - 2, 1, 0) == 0);
    for (int k = 0; k < X; k++)
        for (int y = 0; y < wh - 2; y++)
            memcpy(small.x + ((size_t)k * (wh - 2) + y) * (ww - 2),
                   whole.x + ((size_t)k * H + wy0 + 1 + y) * W + wx0 + 1, sizeof(float) * (ww - 2));
    aem_encoder_forward(m, &small);
    double diff1 = 0;
    for (int d = 0; d < D; d++)
        for (int y = y0; y < y1; y++)
            for (int x = x0; x < x1; x++)
                diff1 = fmax(diff1, fabs((double)small.z[((size_t)d * (wh - 2) + y - wy0 - 1) *
                                                             (ww - 2) + x - wx0 - 1] -
                                         whole.z[((size_t)d * H + y) * W + x]));
    CHECKF(diff1 > 0, "a halo one latent smaller gave the same z: the halo is not tight");
    aem_acts_free(&small);
    aem_acts_free(&win);
    aem_acts_free(&whole);
    aec_model_free(m);
}

static void fix_crc(uint8_t *d, size_t n);

/* A version 3 model (analysis stages, with and without the upsampling
 * synthesis) survives the file format; a bad width or reserved field is
 * refused. */
static void test_model_file_v3(void)
{
    aem_config no_up = tiny_cfg;
    no_up.down_width[0] = 2, no_up.down_width[1] = 3, no_up.down_width[2] = 4;
    const aem_config *cfgs[2] = {&tiny_down_cfg, &no_up};
    for (int k = 0; k < 2; k++) {
        aec_model *m = tiny_model_of(cfgs[k]), *p = NULL, *q = NULL;
        CHECK(m != NULL);
        if (!m)
            return;
        uint8_t *buf = NULL;
        size_t size = 0;
        char err[200];
        CHECK(aem_model_serialize(m, &buf, &size) == AEC_OK);
        CHECK(aec_rd32(buf + 4) == 3 && size == 144 + m->lay.total * 4 + 4);
        CHECK(aem_model_parse(buf, size, &p, err, sizeof err) == AEC_OK);
        if (p) {
            CHECK(memcmp(&p->cfg, &m->cfg, sizeof m->cfg) == 0);
            CHECK(memcmp(p->params, m->params, m->lay.total * sizeof(float)) == 0);
            CHECK(aem_encoder_halo(&p->cfg) == cfgs[k]->enc_convs + 2);
        }
        uint8_t *c = malloc(size);
        uint32_t bad[][3] = {{128, 0, AEC_ERR_BAD_MODEL},
                             {136, 257, AEC_ERR_BAD_MODEL},
                             {140, 1, AEC_ERR_UNSUPPORTED}};
        for (int i = 0; c && i < 3; i++) {
            memcpy(c, buf, size);
            aec_wr32(c + bad[i][0], bad[i][1]);
            fix_crc(c, size);
            CHECKF(aem_model_parse(c, size, &q, err, sizeof err) == (aec_status)bad[i][2] && !q,
                   "value %u at %u: not refused as expected", bad[i][1], bad[i][0]);
        }
        free(c), free(buf);
        aec_model_free(p), aec_model_free(m);
    }
}

/* The forward passes against direct loops over the architecture of
 * model.h (reference convolutions, explicit ReLU, explicit sums). */
static void test_network_forward(void)
{
    aec_model *m = tiny_model();
    CHECK(m != NULL);
    if (!m)
        return;
    const aem_config *cfg = &m->cfg;
    const aem_layout *L = &m->lay;
    const float *P = m->params;
    int B = 2, Hs = 3, Ws = 4, X = 192, D = cfg->latent;
    size_t N = (size_t)B * Hs * Ws;
    aem_acts a;
    CHECK(aem_acts_alloc(&a, cfg, B, Hs, Ws, 1, 1) == 0);
    fill(a.x, (size_t)X * N, 1.0f);
    fill(a.q, (size_t)D * N, 1.0f);
    aem_encoder_forward(m, &a);
    aem_decoder_forward(m, &a);
    int wmax = cfg->enc_width > cfg->dec_width ? cfg->enc_width : cfg->dec_width;
    float *h0 = falloc((size_t)wmax * N), *h1 = falloc((size_t)wmax * N);
    float *ref = falloc((size_t)X * N);
    /* encoder */
    const float *h = a.x;
    for (int i = 0; i < cfg->enc_convs; i++) {
        nn_conv_shape s = {i == 0 ? X : cfg->enc_width, cfg->enc_width, 3, 1, 1};
        float *o = i % 2 ? h1 : h0;
        nn_conv_forward_reference(&s, B, Hs, Ws, h, P + L->enc_conv_w[i], P + L->enc_conv_b[i], o);
        for (size_t j = 0; j < N * cfg->enc_width; j++)
            o[j] = o[j] > 0 ? o[j] : 0;
        h = o;
    }
    double worst = 0;
    for (int d = 0; d < D; d++)
        for (size_t n = 0; n < N; n++) {
            double z = P[L->enc_lin_b + d] + P[L->enc_out_b + d];
            for (int x = 0; x < X; x++)
                z += (double)P[L->enc_lin_w + (size_t)d * X + x] * a.x[(size_t)x * N + n];
            for (int k = 0; k < cfg->enc_width; k++)
                z += (double)P[L->enc_out_w + (size_t)d * cfg->enc_width + k] * h[(size_t)k * N + n];
            worst = fmax(worst, fabs(z - a.z[(size_t)d * N + n]));
        }
    CHECKF(worst < 1e-4, "encoder forward: max |z - reference| = %.3g", worst);
    /* decoder */
    h = a.q;
    for (int i = 0; i < cfg->dec_convs; i++) {
        nn_conv_shape s = {i == 0 ? D : cfg->dec_width, cfg->dec_width, 3, 1, 1};
        float *o = i % 2 ? h1 : h0;
        nn_conv_forward_reference(&s, B, Hs, Ws, h, P + L->dec_conv_w[i], P + L->dec_conv_b[i], o);
        for (size_t j = 0; j < N * cfg->dec_width; j++)
            o[j] = o[j] > 0 ? o[j] : 0;
        h = o;
    }
    worst = 0;
    for (int x = 0; x < X; x++)
        for (size_t n = 0; n < N; n++) {
            double y = P[L->dec_lin_b + x] + P[L->dec_out_b + x];
            for (int d = 0; d < D; d++)
                y += (double)P[L->dec_lin_w + (size_t)x * D + d] * a.q[(size_t)d * N + n];
            for (int k = 0; k < cfg->dec_width; k++)
                y += (double)P[L->dec_out_w + (size_t)x * cfg->dec_width + k] * h[(size_t)k * N + n];
            worst = fmax(worst, fabs(y - a.y[(size_t)x * N + n]));
        }
    CHECKF(worst < 1e-4, "decoder forward: max |y - reference| = %.3g", worst);
    free(h0), free(h1), free(ref);
    aem_acts_free(&a);
    aec_model_free(m);
}

/* ---- residual VQ ------------------------------------------------------ */

static void test_rvq(void)
{
    aem_config cfg = {.block = 8, .channels = 3, .latent = 32, .enc_width = 1, .enc_convs = 1,
                      .dec_width = 1, .dec_convs = 1, .stages = 4, .codes = 256};
    aec_model *m = NULL;
    char err[200];
    CHECK(aem_model_new(&cfg, "rvq", &m, err, sizeof err) == AEC_OK);
    if (!m)
        return;
    const int D = 32, K = 256, S = 4;
    const size_t N = 1000; /* three whole chunks of 256 and a partial one */
    float *books = m->params + m->lay.codebooks;
    for (int s = 0; s < S; s++) /* each stage finer than the last */
        fill(books + (size_t)s * K * D, (size_t)K * D, 0.5f / (float)(1 << s));
    aem_model_refresh(m);
    float *z = falloc((size_t)D * N), *q = falloc((size_t)D * N), *q2 = falloc((size_t)D * N);
    float *qd = falloc((size_t)D * N), *res = falloc((size_t)D * N);
    uint8_t *idx = malloc((size_t)S * N), *idx2 = malloc((size_t)S * N);
    fill(z, (size_t)D * N, 1.0f);
    CHECK(aem_rvq_encode(m, z, N, S, idx, q) == 0);

    /* Stage by stage against the brute-force search on the residual. */
    memcpy(res, z, (size_t)D * N * sizeof(float));
    int exact = 0, ties = 0, wrong = 0;
    double worst_gap = 0;
    for (int s = 0; s < S; s++) {
        const float *book = books + (size_t)s * K * D;
        for (size_t j = 0; j < N; j++) {
            int ref = aem_rvq_nearest_reference(book, K, D, res + j, N);
            int got = idx[(size_t)s * N + j];
            if (got == ref) {
                exact++;
            } else {
                /* Accept only a near-tie: distances equal to float precision. */
                double dg = 0, dr = 0, rn = 0;
                for (int d = 0; d < D; d++) {
                    double v = res[(size_t)d * N + j];
                    dg += (v - book[(size_t)got * D + d]) * (v - book[(size_t)got * D + d]);
                    dr += (v - book[(size_t)ref * D + d]) * (v - book[(size_t)ref * D + d]);
                    rn += v * v;
                }
                double gap = (dg - dr) / (rn + dr + 1e-30);
                worst_gap = fmax(worst_gap, gap);
                if (gap < 1e-5)
                    ties++;
                else
                    wrong++;
            }
            for (int d = 0; d < D; d++)
                res[(size_t)d * N + j] -= book[(size_t)got * D + d];
        }
    }
    printf("  rvq: %d of %zu choices equal the brute force, %d near-ties, %d wrong "
           "(worst relative distance gap %.2e)\n",
           exact, (size_t)S * N, ties, wrong, worst_gap);
    CHECK(wrong == 0);
    CHECK(ties <= 4);

    /* q_out = the sum of the chosen codes = what aem_rvq_decode gives. */
    aem_rvq_decode(m, idx, N, S, qd);
    double qdiff = 0;
    for (size_t i = 0; i < (size_t)D * N; i++)
        qdiff = fmax(qdiff, fabs((double)qd[i] - q[i]));
    printf("  rvq: max |decode(idx) - q_out| = %.2e\n", qdiff);
    CHECKF(qdiff < 1e-5, "%.3g", qdiff);
    /* The quantisation error shrinks with every stage. */
    double prev = 1e300;
    for (int s = 0; s <= S; s++) {
        aem_rvq_decode(m, idx, N, s, qd);
        double e = 0;
        for (size_t i = 0; i < (size_t)D * N; i++)
            e += ((double)z[i] - qd[i]) * ((double)z[i] - qd[i]);
        printf("  rvq: %d stages, mean squared error %.4f\n", s, e / ((double)D * N));
        CHECK(e < prev);
        prev = e;
    }

    /* Determinism, and a prefix of stages gives the same first indices. */
    CHECK(aem_rvq_encode(m, z, N, S, idx2, q2) == 0);
    CHECK(memcmp(idx, idx2, (size_t)S * N) == 0);
    CHECK(memcmp(q, q2, (size_t)D * N * sizeof(float)) == 0);
    memset(idx2, 0xee, (size_t)S * N);
    CHECK(aem_rvq_encode(m, z, N, 2, idx2, NULL) == 0);
    CHECK(memcmp(idx, idx2, 2 * N) == 0);
    CHECK(idx2[2 * N] == 0xee); /* stages beyond the request are not written */
    /* A vector equal to a code picks that code; exact duplicates go to the
     * lowest index. */
    memcpy(books + 7 * D, books + 3 * D, D * sizeof(float));
    aem_model_refresh(m);
    for (int d = 0; d < D; d++)
        z[(size_t)d * N] = books[3 * D + d], z[(size_t)d * N + 1] = books[200 * D + d];
    CHECK(aem_rvq_encode(m, z, N, 1, idx2, NULL) == 0);
    CHECK(idx2[0] == 3);
    CHECK(idx2[1] == 200);
    free(z), free(q), free(q2), free(qd), free(res), free(idx), free(idx2);
    aec_model_free(m);
}

/* ---- eigen-decomposition ----------------------------------------------- */

static void check_eigen(const char *what, int n, const double *A0)
{
    double *A = malloc(sizeof(double) * n * n), *vals = malloc(sizeof(double) * n),
           *vecs = malloc(sizeof(double) * n * n);
    memcpy(A, A0, sizeof(double) * n * n);
    aet_symmetric_eigen(n, A, vals, vecs);
    double scale = 0, resid = 0, ortho = 0, trace = 0, sum = 0;
    int order = 1;
    for (int i = 0; i < n * n; i++)
        scale = fmax(scale, fabs(A0[i]));
    for (int k = 0; k < n; k++) {
        const double *v = vecs + (size_t)k * n;
        for (int i = 0; i < n; i++) {
            double Av = 0;
            for (int j = 0; j < n; j++)
                Av += A0[i * n + j] * v[j];
            resid = fmax(resid, fabs(Av - vals[k] * v[i]));
        }
        for (int l = 0; l < n; l++) {
            double dot = 0;
            for (int i = 0; i < n; i++)
                dot += v[i] * vecs[(size_t)l * n + i];
            ortho = fmax(ortho, fabs(dot - (k == l)));
        }
        if (k && vals[k] > vals[k - 1])
            order = 0;
        trace += A0[k * n + k], sum += vals[k];
    }
    printf("  eigen %s: max |Av - lv| %.1e, max |V V^T - I| %.1e\n", what, resid, ortho);
    CHECKF(resid < 1e-9 * (scale + 1), "%s: residual %.3g", what, resid);
    CHECKF(ortho < 1e-10, "%s: orthonormality %.3g", what, ortho);
    CHECKF(order, "%s: eigenvalues not in descending order", what);
    CHECKF(fabs(trace - sum) < 1e-9 * (scale + 1) * n, "%s: trace %.17g vs sum %.17g", what,
           trace, sum);
    free(A), free(vals), free(vecs);
}

static void test_eigen(void)
{
    /* Known: tridiag(-1, 2, -1) has eigenvalues 2 + sqrt 2, 2, 2 - sqrt 2. */
    double A3[9] = {2, -1, 0, -1, 2, -1, 0, -1, 2}, A[9], vals[3], vecs[9];
    memcpy(A, A3, sizeof A);
    aet_symmetric_eigen(3, A, vals, vecs);
    CHECK(fabs(vals[0] - (2 + sqrt(2.0))) < 1e-12);
    CHECK(fabs(vals[1] - 2) < 1e-12);
    CHECK(fabs(vals[2] - (2 - sqrt(2.0))) < 1e-12);
    /* eigenvector of 2 is (1, 0, -1)/sqrt 2, up to sign */
    CHECK(fabs(fabs(vecs[3]) - sqrt(0.5)) < 1e-12 && fabs(vecs[4]) < 1e-12 &&
          fabs(vecs[3] + vecs[5]) < 1e-12);
    check_eigen("3x3", 3, A3);
    /* Diagonal, unsorted: values sorted, vectors a permutation. */
    double Dg[9] = {1, 0, 0, 0, 3, 0, 0, 0, 2};
    memcpy(A, Dg, sizeof A);
    aet_symmetric_eigen(3, A, vals, vecs);
    CHECK(vals[0] == 3 && vals[1] == 2 && vals[2] == 1);
    CHECK(fabs(vecs[1]) == 1 && fabs(vecs[5]) == 1 && fabs(vecs[6]) == 1);
    /* Random symmetric 20x20, and a PSD covariance-like one with repeated
     * eigenvalues (identity + rank 2). */
    int n = 20;
    double *S = malloc(sizeof(double) * n * n), *C = malloc(sizeof(double) * n * n);
    for (int i = 0; i < n; i++)
        for (int j = 0; j <= i; j++)
            S[i * n + j] = S[j * n + i] = urand();
    check_eigen("random 20x20", n, S);
    double u[20], v[20];
    for (int i = 0; i < n; i++)
        u[i] = urand(), v[i] = urand();
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            C[i * n + j] = (i == j) + 3 * u[i] * u[j] + v[i] * v[j];
    check_eigen("I + rank 2", n, C);
    free(S), free(C);
}

/* ---- model file ------------------------------------------------------- */

static void fix_crc(uint8_t *b, size_t size) { aec_wr32(b + size - 4, aecb_crc32(0, b, size - 4)); }

/* Bytes to corrupt: all of the header, every 97th of the body, the last 8. */
static size_t next_flip(size_t i, size_t size)
{
    if (i < 128 || i >= size - 8)
        return i + 1;
    return i + 97 < size - 8 ? i + 97 : size - 8;
}

static void test_model_file(void)
{
    aec_model *m = tiny_model();
    CHECK(m != NULL);
    if (!m)
        return;
    /* A 48-byte name (the longest the file holds) and a small dictionary. */
    snprintf(m->name, sizeof m->name, "%s", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFGHIJKL");
    CHECK(strlen(m->name) == AEM_NAME_BYTES);
    m->dict_size = 100;
    m->dict = malloc(m->dict_size);
    for (size_t i = 0; i < m->dict_size; i++)
        m->dict[i] = (uint8_t)(i * 7 + 1);
    uint8_t *buf = NULL;
    size_t size = 0;
    CHECK(aem_model_serialize(m, &buf, &size) == AEC_OK);
    if (!buf) {
        aec_model_free(m);
        return;
    }
    CHECK(size == 112 + m->lay.total * 4 + m->dict_size + 4);
    CHECK(memcmp(buf, "AEM1", 4) == 0);
    char err[200];
    aec_model *p = NULL;
    aec_status st = aem_model_parse(buf, size, &p, err, sizeof err);
    CHECKF(st == AEC_OK, "parse: %d %s", st, err);
    if (p) {
        CHECK(memcmp(&p->cfg, &m->cfg, sizeof m->cfg) == 0);
        CHECK(p->lay.total == m->lay.total);
        CHECK(memcmp(p->params, m->params, m->lay.total * sizeof(float)) == 0);
        CHECK(p->id == m->id && p->id != 0);
        CHECK(strcmp(p->name, m->name) == 0);
        CHECK(p->dict_size == m->dict_size && memcmp(p->dict, m->dict, m->dict_size) == 0);
        CHECK(memcmp(p->code_norms, m->code_norms,
                     sizeof(float) * m->cfg.stages * m->cfg.codes) == 0);
        /* Serialising the parsed model gives the same bytes. */
        uint8_t *buf2 = NULL;
        size_t size2 = 0;
        CHECK(aem_model_serialize(p, &buf2, &size2) == AEC_OK);
        CHECK(size2 == size && buf2 && memcmp(buf, buf2, size) == 0);
        free(buf2);
        aec_model_free(p);
    }

    /* Every flipped byte is refused: BAD_MODEL, except in the version field
     * (checked before the checksum), which says UNSUPPORTED. */
    uint8_t *c = malloc(size);
    int accepted = 0, wrong_status = 0, tried = 0;
    for (size_t i = 0; i < size; i = next_flip(i, size)) {
        memcpy(c, buf, size);
        c[i] ^= (uint8_t)(1u << (i % 8));
        p = NULL;
        st = aem_model_parse(c, size, &p, err, sizeof err);
        tried++;
        if (st == AEC_OK) {
            accepted++;
            aec_model_free(p);
        } else if (st != ((i >= 4 && i < 8) ? AEC_ERR_UNSUPPORTED : AEC_ERR_BAD_MODEL)) {
            wrong_status++;
            printf("  byte %zu flipped: status %d (%s)\n", i, st, err);
        }
    }
    CHECKF(accepted == 0, "%d of %d corrupted files accepted", accepted, tried);
    CHECK(wrong_status == 0);
    /* Truncated files. */
    size_t cuts[] = {0, 3, 4, 50, 112, 115, 116, 117, size / 2, size - 5, size - 4, size - 1};
    for (size_t i = 0; i < sizeof cuts / sizeof *cuts; i++) {
        memcpy(c, buf, size);
        p = NULL;
        st = aem_model_parse(c, cuts[i], &p, err, sizeof err);
        CHECKF(st == AEC_ERR_BAD_MODEL && p == NULL, "truncated to %zu: status %d", cuts[i], st);
        aec_model_free(p);
    }
    /* Truncated but with a valid checksum over what is left. */
    memcpy(c, buf, size);
    fix_crc(c, size - 40);
    st = aem_model_parse(c, size - 40, &p, err, sizeof err);
    CHECKF(st == AEC_ERR_BAD_MODEL && p == NULL, "consistent truncation: status %d", st);
    /* Bad magic, even with a valid checksum. */
    memcpy(c, buf, size);
    c[0] = 'X';
    fix_crc(c, size);
    CHECK(aem_model_parse(c, size, &p, err, sizeof err) == AEC_ERR_BAD_MODEL && p == NULL);
    /* Forged but consistent checksums: a configuration that does not match
     * the size, an invalid configuration, a NaN weight, an unknown
     * activation, a newer version. */
    memcpy(c, buf, size);
    aec_wr32(c + 8 + 4 * 2, 5); /* latent 4 -> 5 */
    fix_crc(c, size);
    CHECK(aem_model_parse(c, size, &p, err, sizeof err) == AEC_ERR_BAD_MODEL && p == NULL);
    memcpy(c, buf, size);
    aec_wr32(c + 8 + 4 * 8, 1000); /* 1000 codes */
    fix_crc(c, size);
    CHECK(aem_model_parse(c, size, &p, err, sizeof err) == AEC_ERR_BAD_MODEL && p == NULL);
    memcpy(c, buf, size);
    aec_wr32(c + 8, 0xffffffffu); /* block */
    fix_crc(c, size);
    CHECK(aem_model_parse(c, size, &p, err, sizeof err) == AEC_ERR_BAD_MODEL && p == NULL);
    memcpy(c, buf, size);
    aec_wr32(c + 112 + 4 * 10, 0x7fc00000u); /* NaN */
    fix_crc(c, size);
    CHECK(aem_model_parse(c, size, &p, err, sizeof err) == AEC_ERR_BAD_MODEL && p == NULL);
    memcpy(c, buf, size);
    aec_wr32(c + 112 + 4 * 11, 0x7f800000u); /* +inf */
    fix_crc(c, size);
    CHECK(aem_model_parse(c, size, &p, err, sizeof err) == AEC_ERR_BAD_MODEL && p == NULL);
    memcpy(c, buf, size);
    aec_wr32(c + 104, 1u << 30); /* dictionary size */
    fix_crc(c, size);
    CHECK(aem_model_parse(c, size, &p, err, sizeof err) == AEC_ERR_BAD_MODEL && p == NULL);
    memcpy(c, buf, size);
    aec_wr64(c + 96, (uint64_t)1 << 62); /* parameter count */
    fix_crc(c, size);
    CHECK(aem_model_parse(c, size, &p, err, sizeof err) == AEC_ERR_BAD_MODEL && p == NULL);
    memcpy(c, buf, size);
    aec_wr32(c + 44, 1);
    fix_crc(c, size);
    CHECK(aem_model_parse(c, size, &p, err, sizeof err) == AEC_ERR_UNSUPPORTED && p == NULL);
    memcpy(c, buf, size);
    aec_wr32(c + 4, 3);
    fix_crc(c, size);
    CHECK(aem_model_parse(c, size, &p, err, sizeof err) == AEC_ERR_UNSUPPORTED && p == NULL);

    /* The largest valid configuration in a bare header (116 bytes with a
     * valid checksum): refused for its size. */
    {
        uint8_t h[116] = {0};
        memcpy(h, "AEM1", 4);
        aec_wr32(h + 4, 1);
        const uint32_t big[9] = {8, 3, 256, 1024, 8, 1024, 8, 16, 256};
        for (int i = 0; i < 9; i++)
            aec_wr32(h + 8 + 4 * i, big[i]);
        aem_layout lay;
        aem_config bc = {8, 3, 256, 1024, 8, 1024, 8, 16, 256, {0}, 0, {0}};
        CHECK(aem_config_layout(&bc, &lay, err, sizeof err) == 0);
        aec_wr64(h + 96, lay.total);
        fix_crc(h, sizeof h);
        CHECK(aem_model_parse(h, sizeof h, &p, err, sizeof err) == AEC_ERR_BAD_MODEL && p == NULL);
    }

    /* The public wrappers. */
    aec_model *q = NULL;
    CHECK(aec_model_load_memory(&q, buf, size) == AEC_OK);
    if (q) {
        CHECK(aec_model_id(q) == m->id);
        CHECK(aec_model_stages(q) == tiny_cfg.stages);
        CHECK(strcmp(aec_model_name(q), m->name) == 0);
        CHECK(memcmp(q->params, m->params, m->lay.total * sizeof(float)) == 0);
        aec_model_free(q);
    }
    memcpy(c, buf, size);
    c[size / 2] ^= 0x10;
    q = NULL;
    CHECK(aec_model_load_memory(&q, c, size) == AEC_ERR_BAD_MODEL && q == NULL);
    CHECK(aec_model_load_memory(&q, NULL, size) == AEC_ERR_INVALID_ARGUMENT);
    CHECK(aec_model_load_memory(NULL, buf, size) == AEC_ERR_INVALID_ARGUMENT);
    CHECK(aec_model_id(NULL) == 0 && aec_model_stages(NULL) == 0);
    /* ... and from a file. */
    char path[] = "/tmp/aec_test_model_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd >= 0) {
        CHECK(write(fd, buf, size) == (ssize_t)size);
        close(fd);
        q = NULL;
        CHECK(aec_model_load_file(&q, path) == AEC_OK);
        CHECK(q && aec_model_id(q) == m->id);
        aec_model_free(q);
        unlink(path);
        CHECK(aec_model_load_file(&q, path) == AEC_ERR_IO);
    }
    free(c);
    free(buf);
    aec_model_free(m);
}

/* A single image is convolved a band of output positions at a time (bounded
 * scratch); the bands must give what one whole pass over a batch gives. */
static double max_rel_diff(const float *a, const float *b, size_t n)
{
    double m = 0, scale = 1e-6;
    for (size_t i = 0; i < n; i++)
        scale = fabs(b[i]) > scale ? fabs(b[i]) : scale;
    for (size_t i = 0; i < n; i++) {
        double d = fabs((double)a[i] - b[i]) / scale;
        m = d > m ? d : m;
    }
    return m;
}

static void test_conv_banded(void)
{
    nn_conv_shape s = {192, 16, 3, 1, 1};
    int H = 21, W = 70, K = 192 * 9;
    size_t nin = (size_t)192 * H * W, nout = (size_t)16 * H * W, nw = (size_t)16 * K;
    size_t band = nn_conv_scratch_floats(&s, 1, H, W);
    CHECKF(band < (size_t)K * H * W, "scratch for one image is not banded (%zu floats)", band);
    float *in = falloc(2 * nin), *w = falloc(nw), *b = falloc(16), *out = falloc(2 * nout),
          *ref = falloc(nout), *dout = falloc(2 * nout);
    float *dw1 = falloc(nw), *dw2 = falloc(nw), *db1 = falloc(16), *db2 = falloc(16);
    float *din1 = falloc(nin), *din2 = falloc(2 * nin);
    float *scratch1 = falloc(band), *scratch2 = falloc(nn_conv_scratch_floats(&s, 2, H, W));
    fill(in, nin, 1.0f), fill(w, nw, 0.1f), fill(b, 16, 0.1f), fill(dout, nout, 1.0f);
    nn_conv_forward(&s, 1, H, W, in, w, b, out, scratch1);
    nn_conv_forward_reference(&s, 1, H, W, in, w, b, ref);
    double ef = max_rel_diff(out, ref, nout);
    printf("  banded conv3x3 192->16 on %dx%d: forward rel err %.1e\n", H, W, ef);
    CHECKF(ef < 1e-5, "banded forward rel err %.3e", ef);
    memset(dw1, 0, nw * 4), memset(db1, 0, 64), memset(dw2, 0, nw * 4), memset(db2, 0, 64);
    nn_conv_backward(&s, 1, H, W, in, w, dout, dw1, db1, din1, scratch1);
    /* The same image as item 0 of a batch whose item 1 has zero input and
     * zero gradient: one band, the same sums. [C][B][H][W] layout. */
    float *in2 = falloc(2 * nin), *dout2 = falloc(2 * nout);
    memset(in2, 0, 2 * nin * 4), memset(dout2, 0, 2 * nout * 4);
    for (int c = 0; c < 192; c++)
        memcpy(in2 + (size_t)c * 2 * H * W, in + (size_t)c * H * W, sizeof(float) * H * W);
    for (int c = 0; c < 16; c++)
        memcpy(dout2 + (size_t)c * 2 * H * W, dout + (size_t)c * H * W, sizeof(float) * H * W);
    nn_conv_backward(&s, 2, H, W, in2, w, dout2, dw2, db2, din2, scratch2);
    double ew = max_rel_diff(dw1, dw2, nw), eb = max_rel_diff(db1, db2, 16);
    double ei = 0;
    for (int c = 0; c < 192; c++) {
        double e = max_rel_diff(din1 + (size_t)c * H * W, din2 + (size_t)c * 2 * H * W,
                                (size_t)H * W);
        ei = e > ei ? e : ei;
    }
    printf("  banded backward vs one pass: dW %.1e db %.1e dX %.1e\n", ew, eb, ei);
    CHECKF(ew < 1e-4 && eb < 1e-5 && ei < 1e-5, "banded backward differs");
    /* Forward bands split the output positions only (bands of positions, not
     * rows, cut mid-row here): the very bits of one pass over the batch; and
     * the ReLU in the GEMM's epilogue is the bits of nn_relu_forward after. */
    float *out2 = falloc(2 * nout), *act = falloc(nout);
    nn_conv_forward(&s, 2, H, W, in2, w, b, out2, scratch2);
    int same = 1;
    for (int c = 0; c < 16; c++)
        same &= !memcmp(out + (size_t)c * H * W, out2 + (size_t)c * 2 * H * W,
                        sizeof(float) * H * W);
    CHECKF(same, "banded forward is not bit-identical to one pass");
    nn_conv_forward_act(&s, 1, H, W, in, w, b, act, scratch1, 1);
    nn_relu_forward(out, nout);
    CHECKF(!memcmp(act, out, nout * sizeof(float)), "conv with fused ReLU differs from conv + ReLU");
    free(out2), free(act);
    free(in), free(w), free(b), free(out), free(ref), free(dout), free(dw1), free(dw2);
    free(db1), free(db2), free(din1), free(din2), free(scratch1), free(scratch2), free(in2);
    free(dout2);
}

/* binary16 weights (spec/model.md, weight_format 1): every finite half
 * survives float and back; a model stored so parses to the halves' exact
 * values, with its own identifier; a half infinity, an unknown format and
 * a binary32 size with format 1 are refused. */
static void test_model_file_f16(void)
{
    int bad = 0;
    for (uint32_t u = 0; u < 65536; u++)
        if ((u >> 10 & 31) != 31 && aec_float_to_half(aec_half_to_float((uint16_t)u)) != u)
            bad++;
    CHECKF(bad == 0, "%d halves do not survive float and back", bad);
    CHECK(aec_half_to_float(0x0001) == 1.0f / 16777216.0f && aec_half_to_float(0xc000) == -2.0f);
    CHECK(aec_float_to_half(1.0f + 1.0f / 2048) == 0x3c00);     /* tie: to even */
    CHECK(aec_float_to_half(1.0f + 3.0f / 2048) == 0x3c02);     /* tie: to even, up */
    CHECK(aec_float_to_half(65520.0f) == 0x7c00 && aec_float_to_half(1e-9f) == 0);
    aec_model *m = tiny_model(), *p = NULL, *q = NULL;
    uint8_t *buf = NULL;
    size_t size = 0;
    char err[200];
    CHECK(m && aem_model_serialize(m, &buf, &size) == AEC_OK);
    if (!buf) {
        aec_model_free(m);
        return;
    }
    size_t n = m->lay.total, hsize = 112 + 2 * n + 4;
    uint8_t *h = malloc(hsize);
    CHECK(h != NULL);
    if (!h) {
        free(buf), aec_model_free(m);
        return;
    }
    memcpy(h, buf, 112);
    aec_wr32(h + 108, 1);
    for (size_t i = 0; i < n; i++) {
        uint16_t v = aec_float_to_half(m->params[i]);
        h[112 + 2 * i] = (uint8_t)v, h[113 + 2 * i] = (uint8_t)(v >> 8);
    }
    fix_crc(h, hsize);
    CHECK(aem_model_parse(h, hsize, &p, err, sizeof err) == AEC_OK);
    if (p) {
        size_t differ = 0;
        for (size_t i = 0; i < n; i++)
            differ += p->params[i] != aec_half_to_float(aec_float_to_half(m->params[i]));
        CHECKF(differ == 0, "%zu parameters are not their halves", differ);
        CHECK(p->id != m->id && memcmp(&p->cfg, &m->cfg, sizeof m->cfg) == 0);
    }
    h[112] = 0x00, h[113] = 0x7c; /* +infinity */
    fix_crc(h, hsize);
    CHECK(aem_model_parse(h, hsize, &q, err, sizeof err) == AEC_ERR_BAD_MODEL && !q);
    aec_wr32(h + 108, 2);
    fix_crc(h, hsize);
    CHECK(aem_model_parse(h, hsize, &q, err, sizeof err) == AEC_ERR_UNSUPPORTED && !q);
    aec_wr32(buf + 108, 1); /* format 1 with 4 bytes a parameter */
    fix_crc(buf, size);
    CHECK(aem_model_parse(buf, size, &q, err, sizeof err) == AEC_ERR_BAD_MODEL && !q);
    free(h), free(buf);
    aec_model_free(p), aec_model_free(m);
}

/* The decoder's forward-only buffers, where the upsampling synthesis' stages
 * take turns in two regions and the image lands where q was (the library's
 * decoder), give the same pixels as the buffers a backward pass keeps, in
 * less memory. */
static void test_upsampling_forward_only(void)
{
    aec_model *m = tiny_model_of(&tiny_up_cfg);
    CHECK(m != NULL);
    if (!m)
        return;
    const aem_config *cfg = &m->cfg;
    int Hs = 3, Ws = 4, C = cfg->channels;
    size_t N = (size_t)Hs * Ws, pixels = N * cfg->block * cfg->block;
    aem_acts all, fwd;
    CHECK(aem_acts_alloc(&all, cfg, 1, Hs, Ws, AEM_ACTS_NONE, AEM_ACTS_ALL) == 0);
    CHECK(aem_acts_alloc(&fwd, cfg, 1, Hs, Ws, AEM_ACTS_NONE, AEM_ACTS_FORWARD) == 0);
    size_t all_bytes = aem_acts_bytes(cfg, 1, Hs, Ws, AEM_ACTS_NONE, AEM_ACTS_ALL);
    size_t fwd_bytes = aem_acts_bytes(cfg, 1, Hs, Ws, AEM_ACTS_NONE, AEM_ACTS_FORWARD);
    CHECKF(fwd_bytes < all_bytes, "forward-only %zu bytes, all layers %zu", fwd_bytes, all_bytes);
    fill(all.q, (size_t)cfg->latent * N, 1.0f);
    memcpy(fwd.q, all.q, sizeof(float) * cfg->latent * N);
    aem_decoder_forward(m, &all);
    aem_decoder_forward(m, &fwd);
    CHECK(!all.pix_only && fwd.pix_only);
    float *img = falloc((size_t)C * pixels);
    aem_blocks_to_pixels(cfg, 1, Hs, Ws, all.y, img);
    CHECK(memcmp(img, fwd.pix, sizeof(float) * C * pixels) == 0);
    free(img);
    aem_acts_free(&all), aem_acts_free(&fwd);
    aec_model_free(m);
}

/* A frozen model keeps its layers' Winograd weights (aec_model.wino, made
 * once, network.c): the encoder's and decoder's outputs must have the bits
 * of the same model transforming them at each call (not frozen), with the
 * grid at an odd origin in its image.  Wide enough that the 1/8-grid
 * layers and the first two upsampling stages go by Winograd; a wrong slot
 * offset gives other layers' weights and other values. */
static const aem_config wide_up_cfg = {
    .block = 8, .channels = 3, .latent = 32, .enc_width = 32, .enc_convs = 2,
    .dec_width = 40, .dec_convs = 2, .stages = 1, .codes = 8,
    .up_width = {32, 8, 4}, .refine_width = 4,
};

static void test_winograd_weights_kept(void)
{
    aec_model *plain = tiny_model_of(&wide_up_cfg), *kept = tiny_model_of(&wide_up_cfg);
    CHECK(plain && kept);
    if (!plain || !kept) {
        aec_model_free(plain), aec_model_free(kept);
        return;
    }
    memcpy(kept->params, plain->params, sizeof(float) * plain->lay.total); /* fill's draws differ */
    aem_model_refresh(kept);
    kept->frozen = 1;
    const aem_config *c = &plain->cfg;
    /* enc 192->32, 32->32; dec 32->40, 40->40; the up stages 40->128 and
     * 32->32 (the third, 8->16, is too narrow) */
    size_t expect = 6 * nn_wino_weights_floats(&(nn_conv_shape){32, 32, 3, 1, 1});
    expect += nn_wino_weights_floats(&(nn_conv_shape){192, 32, 3, 1, 1}) -
              nn_wino_weights_floats(&(nn_conv_shape){32, 32, 3, 1, 1});
    expect += nn_wino_weights_floats(&(nn_conv_shape){32, 40, 3, 1, 1}) -
              nn_wino_weights_floats(&(nn_conv_shape){32, 32, 3, 1, 1});
    expect += nn_wino_weights_floats(&(nn_conv_shape){40, 40, 3, 1, 1}) -
              nn_wino_weights_floats(&(nn_conv_shape){32, 32, 3, 1, 1});
    expect += nn_wino_weights_floats(&(nn_conv_shape){40, 128, 3, 1, 1}) -
              nn_wino_weights_floats(&(nn_conv_shape){32, 32, 3, 1, 1});
    size_t have = kept->wino_floats[0] + kept->wino_floats[1];
    CHECKF(have == expect, "%zu floats of Winograd weights, expected %zu", have, expect);
    CHECK(kept->wino_floats[0] == nn_wino_weights_floats(&(nn_conv_shape){192, 32, 3, 1, 1}) +
                                      nn_wino_weights_floats(&(nn_conv_shape){32, 32, 3, 1, 1}));
    int Hs = 5, Ws = 7, X = aem_encoder_inputs(c);
    size_t N = (size_t)Hs * Ws, pixels = N * c->block * c->block;
    aem_acts a[2];
    for (int k = 0; k < 2; k++) {
        CHECK(aem_acts_alloc(&a[k], c, 1, Hs, Ws, AEM_ACTS_FORWARD, AEM_ACTS_FORWARD) == 0);
        aem_acts_in_image(&a[k], 64, 64, 3, 5); /* an odd origin in a large image */
        CHECK(a[k].px == 1 && a[k].py == 1);
        for (size_t i = 0; i < (size_t)X * N; i++)
            a[k].x[i] = (float)((i * 2654435761u) % 1000) / 1000.0f;
    }
    for (int round = 0; round < 2; round++) { /* the second reads what the first made */
        aem_encoder_forward(plain, &a[0]);
        aem_encoder_forward(kept, &a[1]);
        CHECK(memcmp(a[0].z, a[1].z, sizeof(float) * c->latent * N) == 0);
        for (int k = 0; k < 2; k++)
            memcpy(a[k].q, a[k].z, sizeof(float) * c->latent * N);
        aem_decoder_forward(plain, &a[0]);
        aem_decoder_forward(kept, &a[1]);
        CHECK(memcmp(a[0].pix, a[1].pix, sizeof(float) * c->channels * pixels) == 0);
    }
    for (int part = 0; part < 2; part++)
        CHECK(atomic_load(&plain->wino[part]) == NULL && atomic_load(&kept->wino[part]) != NULL);
    for (int k = 0; k < 2; k++)
        aem_acts_free(&a[k]);
    aec_model_free(plain), aec_model_free(kept);
}

/* A row filler for nn_conv3_pair_rows: copies row y of item b from a
 * planar [11][B][H][W] tensor, counting calls and checking their order. */
typedef struct {
    const float *in;
    int H, W;
    size_t plane;
    int calls, out_of_order;
} pair_fill_ctx;

static void pair_fill(void *ctx, int b, int y, float *dst, int W)
{
    pair_fill_ctx *f = ctx;
    f->out_of_order |= f->calls != b * f->H + y || W != f->W;
    f->calls++;
    for (int i = 0; i < 11; i++)
        memcpy(dst + (size_t)i * W, f->in + i * f->plane + ((size_t)b * f->H + y) * W,
               sizeof(float) * (size_t)W);
}

/* The full-resolution pair run row by row (the second layer reading a
 * ring of the first's rows) gives the bits of the two layers one after
 * the other, for two items and rows at both borders. */
static void check_conv3_pair_rows(int M)
{
    nn_conv_shape first = {11, M, 3, 1, 1}, second = {M, 3, 3, 1, 1};
    /* every path with a row kernel runs the pair (AVX2 has none) */
    CHECK(nn_conv3_pair_supported(&first, &second) == (nn_dsp_active()->conv3_row != NULL));
    if (!nn_conv3_pair_supported(&first, &second)) {
        printf("  path %s: no row kernel, the pair runs as two layers\n", nn_dsp_active()->name);
        return;
    }
    int B = 2, H = 7, W = 37;
    size_t plane = (size_t)B * H * W;
    float *in = falloc(first.cin * plane), *w1 = falloc((size_t)M * 11 * 9), *b1 = falloc(M);
    float *w2 = falloc((size_t)3 * M * 9), *b2 = falloc(3), *mid = falloc(M * plane);
    float *want = falloc(3 * plane), *got = falloc(3 * plane), *ring = falloc((size_t)3 * M * W);
    float *scratch = falloc(nn_conv_scratch_floats(&first, B, H, W) +
                            nn_conv_scratch_floats(&second, B, H, W));
    fill(in, first.cin * plane, 1.0f), fill(w1, (size_t)M * 11 * 9, 0.3f), fill(b1, M, 0.1f);
    fill(w2, (size_t)3 * M * 9, 0.3f), fill(b2, 3, 0.1f);
    nn_conv_forward_act(&first, B, H, W, in, w1, b1, mid, scratch, 1);
    nn_conv_forward(&second, B, H, W, mid, w2, b2, want, scratch);
    nn_conv3_pair_forward(&first, &second, B, H, W, in, w1, b1, w2, b2, ring, got);
    CHECKF(memcmp(want, got, sizeof(float) * 3 * plane) == 0, "%d channels between", M);
    /* rows made by a filler into a ring of three, each once and in order,
     * plus input channels 8..10 added: the same bits as the planar pair
     * followed by the addition */
    for (size_t c = 0; c < 3; c++)
        for (size_t i = 0; i < plane; i++)
            want[c * plane + i] += in[(8 + c) * plane + i];
    float *in_ring = falloc((size_t)3 * 11 * W);
    pair_fill_ctx ctx = {in, H, W, plane, 0, 0};
    memset(got, 0, sizeof(float) * 3 * plane);
    nn_conv3_pair_rows(&first, &second, B, H, W, pair_fill, &ctx, in_ring, w1, b1, w2, b2, ring,
                       got, 8, 0, H);
    CHECK(memcmp(want, got, sizeof(float) * 3 * plane) == 0);
    CHECK(ctx.calls == B * H && !ctx.out_of_order);
    /* one image, output rows y0..y1-1 only: those rows' bits, the filler
     * asked for rows from y0 - 2 on, in order, and no other row written */
    for (int y0 = 0; y0 < H; y0++)
        for (int y1 = y0 + 1; y1 <= H; y1++) {
            pair_fill_ctx one = {in, H, W, plane, y0 > 2 ? y0 - 2 : 0, 0};
            size_t hw = (size_t)H * W;
            for (size_t i = 0; i < 3 * hw; i++)
                got[i] = -7.0f;
            nn_conv3_pair_rows(&first, &second, 1, H, W, pair_fill, &one, in_ring, w1, b1, w2, b2,
                               ring, got, 8, y0, y1);
            int same = !one.out_of_order;
            for (int c = 0; c < 3; c++)
                for (int y = 0; y < H; y++)
                    for (int x = 0; x < W; x++) {
                        float g = got[c * hw + (size_t)y * W + x];
                        float w = want[c * plane + (size_t)y * W + x];
                        same &= y >= y0 && y < y1 ? memcmp(&g, &w, sizeof g) == 0 : g == -7.0f;
                    }
            CHECKF(same, "%d channels between: rows %d..%d of %d", M, y0, y1 - 1, H);
        }
    free(in_ring);
    /* the pair needs the second to read what the first writes */
    nn_conv_shape other = {15, 3, 3, 1, 1};
    CHECK(!nn_conv3_pair_supported(&first, &other));
    free(in), free(w1), free(b1), free(w2), free(b2), free(mid), free(want), free(got);
    free(ring), free(scratch);
}

/* The pair with the first layer's outputs in one group of the row kernel
 * and in two (a wider refinement); then one too wide for the second
 * layer's K slice. */
static void test_conv3_pair_rows(void)
{
    check_conv3_pair_rows(16);
    uint64_t rng_before = g_rng; /* the later tests' random networks stay as they were */
    check_conv3_pair_rows(24);
    g_rng = rng_before;
    nn_conv_shape wide = {11, NN_CONV3_PAIR_MAX_MID + 1, 3, 1, 1};
    nn_conv_shape after = {NN_CONV3_PAIR_MAX_MID + 1, 3, 3, 1, 1};
    CHECK(!nn_conv3_pair_supported(&wide, &after));
}

/* nn_conv_forward_rows gives the rows asked for the bits of the whole
 * layer and leaves every other row as it was: a 3x3 layer through the GEMM
 * (64 outputs), one through the row kernel (12 outputs), a 1x1 layer; every
 * range of rows of a 9-row grid. */
static void test_conv_forward_rows(void)
{
    const nn_conv_shape shapes[] = {{16, 64, 3, 1, 1}, {20, 12, 3, 1, 1}, {24, 40, 1, 1, 0}};
    int H = 9, W = 29, bad = 0, cases = 0;
    for (size_t t = 0; t < sizeof shapes / sizeof shapes[0]; t++) {
        const nn_conv_shape *s = &shapes[t];
        size_t hw = (size_t)H * W, nw = (size_t)s->cout * s->cin * s->k * s->k;
        float *in = falloc(s->cin * hw), *w = falloc(nw), *b = falloc((size_t)s->cout);
        float *whole = falloc(s->cout * hw), *part = falloc(s->cout * hw);
        float *scratch = falloc(nn_conv_scratch_floats(s, 1, H, W) + 1);
        fill(in, s->cin * hw, 1.0f), fill(w, nw, 0.3f), fill(b, (size_t)s->cout, 0.1f);
        nn_conv_forward_act(s, 1, H, W, in, w, b, whole, scratch, 1);
        for (int y0 = 0; y0 < H; y0++)
            for (int y1 = y0 + 1; y1 <= H; y1++) {
                for (size_t i = 0; i < s->cout * hw; i++)
                    part[i] = -7.0f;
                nn_conv_forward_rows(s, 1, H, W, in, w, b, part, scratch, 1, y0, y1);
                for (int c = 0; c < s->cout; c++)
                    for (int y = 0; y < H; y++) {
                        const float *p = part + c * hw + (size_t)y * W;
                        const float *q = whole + c * hw + (size_t)y * W;
                        for (int x = 0; x < W; x++)
                            bad += y >= y0 && y < y1 ? memcmp(&p[x], &q[x], sizeof(float)) != 0
                                                     : p[x] != -7.0f;
                    }
                cases++;
            }
        free(in), free(w), free(b), free(whole), free(part), free(scratch);
    }
    printf("  %d row ranges, %d values differ\n", cases, bad);
    CHECK(cases > 0 && bad == 0);
}

/* A version 2 model (the upsampling synthesis) round-trips, a model
 * without it is still written as version 1, and damaged version 2 headers
 * are refused. */
static void test_model_file_v2(void)
{
    aec_model *m = tiny_model_of(&tiny_up_cfg), *p = NULL, *q = NULL;
    CHECK(m != NULL);
    if (!m)
        return;
    uint8_t *buf = NULL, *plain = NULL;
    size_t size = 0, plain_size = 0;
    char err[200];
    CHECK(aem_model_serialize(m, &buf, &size) == AEC_OK);
    CHECK(aec_rd32(buf + 4) == 2 && size == 128 + m->lay.total * 4 + 4);
    CHECK(aem_model_parse(buf, size, &p, err, sizeof err) == AEC_OK);
    if (p) {
        CHECK(memcmp(&p->cfg, &m->cfg, sizeof m->cfg) == 0);
        CHECK(memcmp(p->params, m->params, m->lay.total * sizeof(float)) == 0);
        CHECK(aem_decoder_halo(&p->cfg) == tiny_up_cfg.dec_convs + 2);
    }
    aec_model *b = tiny_model();
    CHECK(b && aem_model_serialize(b, &plain, &plain_size) == AEC_OK);
    CHECK(plain && aec_rd32(plain + 4) == 1 && plain_size == 112 + b->lay.total * 4 + 4);
    /* A zero width, a width over 256, the header cut short. */
    uint8_t *c = malloc(size);
    uint32_t bad[][2] = {{112, 0}, {124, 0}, {116, 257}};
    for (int i = 0; c && i < 3; i++) {
        memcpy(c, buf, size);
        aec_wr32(c + bad[i][0], bad[i][1]);
        fix_crc(c, size);
        CHECKF(aem_model_parse(c, size, &q, err, sizeof err) == AEC_ERR_BAD_MODEL && !q,
               "width %u at %u accepted", bad[i][1], bad[i][0]);
    }
    if (c) {
        memcpy(c, buf, 124);
        fix_crc(c, 124);
        CHECK(aem_model_parse(c, 124, &q, err, sizeof err) == AEC_ERR_BAD_MODEL && !q);
    }
    free(c), free(buf), free(plain);
    aec_model_free(p), aec_model_free(m), aec_model_free(b);
}


/* The arena: small and large buffers come back zeroed, writable to their
 * last byte (ASan sees the mapped ones' ends only through the mapping, so
 * the large sizes are odd ones, not whole pages), and large ones on a
 * huge-page boundary as arena.h says. */
/* nn_conv3_row_out (the synthesis' last stage made row by row) gives, bit
 * for bit, each row of the whole layer (nn_conv_forward_act, by the GEMM
 * beyond 16 outputs), in groups of 16 outputs and a partial last group,
 * at the top and bottom rows (missing neighbours) and in item 1 of 2. */
static void test_conv3_row_out(void)
{
    static const int shapes[][2] = {{16, 32}, {5, 40}, {28, 64}, {3, 7}};
    uint64_t rng_before = g_rng; /* the later tests' draws stay as they were */
    for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++) {
        nn_conv_shape s = {shapes[t][0], shapes[t][1], 3, 1, 1};
        CHECK(nn_conv3_row_supported(&s));
        int B = 2, H = 5, W = 37, K = s.cin * 9;
        size_t nin = (size_t)s.cin * B * H * W, nout = (size_t)s.cout * B * H * W;
        float *in = falloc(nin), *w = falloc((size_t)s.cout * K), *b = falloc((size_t)s.cout);
        float *whole = falloc(nout), *wt = falloc((size_t)s.cout * K);
        float *row = falloc((size_t)s.cout * W);
        float *scratch = falloc(nn_conv_scratch_floats(&s, B, H, W));
        fill(in, nin, 1.0f), fill(w, (size_t)s.cout * K, 0.2f), fill(b, (size_t)s.cout, 0.1f);
        nn_conv_forward_act(&s, B, H, W, in, w, b, whole, scratch, 1);
        nn_conv3_row_prepare(&s, w, wt);
        size_t differ = 0;
        for (int item = 0; item < B; item++)
            for (int y = 0; y < H; y++) {
                const float *rows[NN_KC / 3];
                for (int i = 0; i < s.cin; i++)
                    for (int ky = 0; ky < 3; ky++) {
                        int yy = y + ky - 1;
                        rows[i * 3 + ky] = yy < 0 || yy >= H ? NULL
                                                             : in + (((size_t)i * B + item) * H + yy) * W;
                    }
                nn_conv3_row_out(&s, wt, b, W, rows, row, 1);
                for (int o = 0; o < s.cout; o++)
                    differ += memcmp(row + (size_t)o * W,
                                     whole + (((size_t)o * B + item) * H + y) * W,
                                     sizeof(float) * W) != 0;
            }
        CHECKF(differ == 0, "conv3 %d->%d: %zu rows differ from the whole layer", s.cin, s.cout,
               differ);
        free(in), free(w), free(b), free(whole), free(wt), free(row), free(scratch);
    }
    nn_conv_shape wide = {16, NN_CONV3_ROW_MAX_OUT + 1, 3, 1, 1}, deep = {29, 8, 3, 1, 1};
    CHECK(!nn_conv3_row_supported(&wide) && !nn_conv3_row_supported(&deep));
    g_rng = rng_before;
}

static void test_arena(void)
{
    const size_t sizes[] = {1, 4096, AEC_ARENA_MAP_MIN - 1, AEC_ARENA_MAP_MIN,
                            AEC_ARENA_MAP_MIN * 3 + 12345, ((size_t)2 << 20) * 2};
    for (size_t i = 0; i < sizeof sizes / sizeof *sizes; i++) {
        size_t n = sizes[i];
        unsigned char *p = aec_arena_alloc(n);
        CHECKF(p != NULL, "size %zu", n);
        if (!p)
            continue;
        size_t nonzero = 0;
        for (size_t k = 0; k < n; k++)
            nonzero += p[k] != 0;
        CHECKF(nonzero == 0, "size %zu: %zu bytes not zero", n, nonzero);
        memset(p, 0xa5, n);
        CHECK(p[0] == 0xa5 && p[n - 1] == 0xa5);
#ifdef __linux__ /* mapped there */
        if (n >= AEC_ARENA_MAP_MIN)
            CHECKF((uintptr_t)p % ((uintptr_t)2 << 20) == 0, "size %zu at %p", n, (void *)p);
#endif
        aec_arena_free(p, n);
    }
    aec_arena_free(NULL, AEC_ARENA_MAP_MIN); /* like free(NULL) */
    aec_arena_free(NULL, 16);
}

int main(void)
{
    RUN_TEST(test_arena);
    RUN_TEST(test_gemm);
    RUN_TEST(test_gemm_thread_independence);
    RUN_TEST(test_gemm_nt_weight_gradient_bits);
    RUN_TEST(test_conv_forward);
    RUN_TEST(test_conv_backward);
    RUN_TEST(test_conv_weight_gradient_bits);
    RUN_TEST(test_conv_winograd);
    RUN_TEST(test_conv_winograd_rows);
    RUN_TEST(test_winograd_weights_kept);
    RUN_TEST(test_conv_banded);
    RUN_TEST(test_conv3_row_out);
    RUN_TEST(test_relu);
    RUN_TEST(test_space_depth);
    RUN_TEST(test_network_forward);
    RUN_TEST(test_decoder_backward);
    RUN_TEST(test_upsampling_backward);
    RUN_TEST(test_encoder_backward);
    RUN_TEST(test_analysis_backward);
    RUN_TEST(test_analysis_halo);
    RUN_TEST(test_rvq);
    RUN_TEST(test_eigen);
    RUN_TEST(test_model_file);
    RUN_TEST(test_model_file_v2);
    RUN_TEST(test_model_file_v3);
    RUN_TEST(test_model_file_f16);
    RUN_TEST(test_upsampling_forward_only); /* last: fill's sequence before it unchanged */
    RUN_TEST(test_conv3_pair_rows);
    RUN_TEST(test_conv_forward_rows);
    TEST_EXIT();
}
