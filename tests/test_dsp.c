/* SPDX-License-Identifier: BSD-3-Clause */
/* test_dsp.c - every kernel path this CPU runs (nn/dsp.h) gives the same bits
 * as the portable C reference, and the encoder writes the same bytes (VQ
 * indices and lattice symbols) whichever path it runs on. */
#include "testlib.h"

#include "aecodec.h"
#include "common/half.h"
#include "nn/dsp.h"
#include "nn/gemm.h"
#include "nn/winograd.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static uint32_t rng_state = 12345;
static float frand(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return (float)((rng_state >> 8) & 0xffff) / 32768.0f - 1.0f;
}
static float *frandom(size_t n)
{
    float *p = malloc(n * sizeof *p);
    for (size_t i = 0; i < n; i++)
        p[i] = frand();
    return p;
}

typedef void (*gemm_on_fn)(const nn_dsp *, int, int, int, const float *, int, const float *,
                           int, float *, int, int);

/* One product on path d and on the C path, from the same C0: same bits. */
static int same_as_c(const nn_dsp *d, gemm_on_fn f, int M, int N, int K, int acc)
{
    int lda = K + M + 3, ldb = N + K + 5, ldc = N + 2; /* covers every form's needs */
    float *A = frandom((size_t)(K + M) * lda), *B = frandom((size_t)(K + N) * ldb);
    float *C0 = frandom((size_t)M * ldc);
    float *Cc = malloc((size_t)M * ldc * sizeof(float)), *Cd = malloc((size_t)M * ldc * sizeof(float));
    memcpy(Cc, C0, (size_t)M * ldc * sizeof(float));
    memcpy(Cd, C0, (size_t)M * ldc * sizeof(float));
    f(&nn_dsp_c, M, N, K, A, lda, B, ldb, Cc, ldc, acc);
    f(d, M, N, K, A, lda, B, ldb, Cd, ldc, acc);
    int same = memcmp(Cc, Cd, (size_t)M * ldc * sizeof(float)) == 0;
    free(A), free(B), free(C0), free(Cc), free(Cd);
    return same;
}

static void test_paths_bit_identical(void)
{
    static const int sizes[][3] = {
        {1, 1, 1},   {5, 7, 13},   {6, 16, 256}, {7, 33, 257}, {13, 31, 300},
        {12, 32, 600}, {64, 100, 9}, {70, 200, 300}, {3, 65, 513}, {17, 48, 64},
    };
    static const gemm_on_fn forms[3] = {nn_gemm_nn_on, nn_gemm_nt_on, nn_gemm_tn_on};
    static const char *const form_names[3] = {"nn", "nt", "tn"};
    int tested = 0;
    for (int isa = 0; isa < NN_ISA_COUNT; isa++) {
        const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
        if (!d)
            continue;
        tested++;
        for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++)
            for (int f = 0; f < 3; f++)
                for (int acc = 0; acc <= 1; acc++)
                    CHECKF(same_as_c(d, forms[f], sizes[t][0], sizes[t][1], sizes[t][2], acc),
                           "path %s gemm_%s M=%d N=%d K=%d acc=%d differs from C", d->name,
                           form_names[f], sizes[t][0], sizes[t][1], sizes[t][2], acc);
    }
    CHECK(tested >= 1);
    CHECK(nn_dsp_active() != NULL);
}

/* The order every path sums in (nn/dsp.h), written out: each element of C
 * gets, slice by slice (NN_KC products), a sum started at 0 and built with
 * one fmaf per product, added to C.  Products with enough column panels
 * read A packed, and a long K packs it a group of slices at a time
 * (nn/gemm.c); none of that may change a bit. */
static void gemm_in_spec_order(int M, int N, int K, const float *A, const float *B, float *C)
{
    for (int i = 0; i < M; i++)
        for (int j = 0; j < N; j++)
            for (int k0 = 0; k0 < K; k0 += NN_KC) {
                float s = 0.0f;
                for (int k = k0; k < K && k < k0 + NN_KC; k++)
                    s = fmaf(A[(size_t)i * K + k], B[(size_t)k * N + j], s);
                C[(size_t)i * N + j] += s;
            }
}

static void test_packed_a_in_spec_order(void)
{
    /* A read where it is (few panels), packed (16 panels and more on every
     * path), and packed in two groups of slices (72 rows x 7300 > 2^19) */
    static const int sizes[][3] = {{13, 40, 600}, {13, 520, 300}, {6, 512, 257}, {72, 520, 7300}};
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        int M = sizes[t][0], N = sizes[t][1], K = sizes[t][2];
        float *A = frandom((size_t)M * K), *B = frandom((size_t)K * N);
        float *C0 = frandom((size_t)M * N), *want = malloc((size_t)M * N * sizeof(float));
        float *got = malloc((size_t)M * N * sizeof(float));
        memcpy(want, C0, (size_t)M * N * sizeof(float));
        gemm_in_spec_order(M, N, K, A, B, want);
        for (int isa = 0; isa < NN_ISA_COUNT; isa++) {
            const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
            if (!d)
                continue;
            memcpy(got, C0, (size_t)M * N * sizeof(float));
            nn_gemm_nn_on(d, M, N, K, A, K, B, N, got, N, 1);
            CHECKF(memcmp(want, got, (size_t)M * N * sizeof(float)) == 0,
                   "path %s M=%d N=%d K=%d: not the sums in the specified order", d->name, M, N, K);
        }
        free(A), free(B), free(C0), free(want), free(got);
    }
}

/* The fused epilogue (bias where the sums start, ReLU where they end) on
 * every path gives the bits of the three passes it replaces on the C path:
 * fill C with the bias, C += A*B, then x > 0 ? x : 0. */
static void test_bias_relu_epilogue(void)
{
    static const int sizes[][3] = {{1, 1, 1}, {7, 33, 257}, {13, 70, 600}, {64, 128, 96}, {5, 9, 0}};
    for (int isa = 0; isa < NN_ISA_COUNT; isa++) {
        const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
        if (!d)
            continue;
        for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++)
            for (int with_bias = 0; with_bias <= 1; with_bias++)
                for (int relu = 0; relu <= 1; relu++) {
                    int M = sizes[t][0], N = sizes[t][1], K = sizes[t][2], ldc = N + 3;
                    float *A = frandom((size_t)M * (K + 1)), *B = frandom((size_t)(K + 1) * N);
                    float *bias = with_bias ? frandom((size_t)M) : NULL;
                    float *want = frandom((size_t)M * ldc), *got = malloc((size_t)M * ldc * sizeof(float));
                    memcpy(got, want, (size_t)M * ldc * sizeof(float)); /* the gaps stay */
                    for (int i = 0; i < M; i++)
                        for (int j = 0; j < N; j++)
                            want[(size_t)i * ldc + j] = bias ? bias[i] : 0.0f;
                    nn_gemm_nn_on(&nn_dsp_c, M, N, K, A, K, B, N, want, ldc, 1);
                    for (int i = 0; relu && i < M; i++)
                        for (int j = 0; j < N; j++) {
                            float *x = &want[(size_t)i * ldc + j];
                            *x = *x > 0.0f ? *x : 0.0f;
                        }
                    nn_gemm_nn_bias_on(d, M, N, K, A, K, B, N, got, ldc, bias, relu);
                    CHECKF(memcmp(want, got, (size_t)M * ldc * sizeof(float)) == 0,
                           "path %s bias=%d relu=%d M=%d N=%d K=%d: epilogue differs", d->name,
                           with_bias, relu, M, N, K);
                    free(A), free(B), free(bias), free(want), free(got);
                }
    }
}

/* conv3_row (nn/dsp.h) on every path that has one gives, bit for bit, what
 * the GEMM gives on that path for the same layer (its im2col matrix, zeros
 * outside the grid, the bias started in the epilogue, the ReLU after):
 * the few-output path changes no model's bits.  Rows of 1..70 pixels
 * (blocks of 16 and masked ends), missing rows above and below, 1..16
 * outputs, up to 28 inputs (one K slice). */
static void test_conv3_rows_as_gemm(void)
{
    int cases = 0, bad = 0;
    for (int isa = 0; isa < NN_ISA_COUNT; isa++) {
        const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
        if (!d || !d->conv3_row)
            continue;
        for (int t = 0; t < 40; t++) {
            int cout = 1 + t % 16, cin = 1 + (t * 7) % 28, W = 1 + (t * 13) % 70, H = 3;
            int K = cin * 9, relu = t % 2;
            float *in = frandom((size_t)cin * H * W), *w = frandom((size_t)cout * K);
            float *bias = frandom((size_t)cout), *col = calloc((size_t)K * W, sizeof(float));
            float *want = malloc(sizeof(float) * cout * W), *got = malloc(sizeof(float) * cout * W);
            float *wt = malloc(sizeof(float) * cout * K); /* [K][cout] */
            for (int o = 0; o < cout; o++)
                for (int k = 0; k < K; k++)
                    wt[k * cout + o] = w[o * K + k];
            for (int y = 0; y < H; y++) {
                const float *rows[NN_KC / 3];
                for (int i = 0; i < cin; i++)
                    for (int ky = 0; ky < 3; ky++) {
                        int yy = y + ky - 1;
                        rows[i * 3 + ky] = yy < 0 || yy >= H ? NULL : in + ((size_t)i * H + yy) * W;
                        for (int kx = 0; kx < 3; kx++)
                            for (int x = 0; x < W; x++) {
                                int xx = x + kx - 1;
                                col[(size_t)((i * 3 + ky) * 3 + kx) * W + x] =
                                    rows[i * 3 + ky] && xx >= 0 && xx < W ? rows[i * 3 + ky][xx]
                                                                         : 0.0f;
                            }
                    }
                nn_gemm_nn_bias_on(d, cout, W, K, w, K, col, W, want, W, bias, relu);
                d->conv3_row(cout, cin, W, rows, wt, bias, got, W, relu);
                cases++;
                bad += memcmp(want, got, sizeof(float) * cout * W) != 0;
            }
            free(in), free(w), free(wt), free(bias), free(col), free(want), free(got);
        }
    }
    printf("  %d rows compared, %d differ\n", cases, bad);
    CHECK(cases > 0 && bad == 0);
}

/* pack_conv3 (nn/dsp.h) on every path that has one packs, float for float,
 * what the path's pack makes of the stored im2col matrix: every panel of a
 * batch of images from 1x1 to 40x37 (panels that span rows, images and
 * the image's edges), K slices that start mid-channel, a short last panel. */
static void test_conv3_panels_as_im2col(void)
{
    int cases = 0, bad = 0;
    for (int isa = 0; isa < NN_ISA_COUNT; isa++) {
        const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
        if (!d || !d->pack_conv3)
            continue;
        for (int t = 0; t < 24; t++) {
            int B = 1 + t % 3, H = 1 + (t * 7) % 37, W = 1 + (t * 11) % 40, C = 1 + t % 5;
            int K = C * 9, N = B * H * W;
            float *in = frandom((size_t)C * N), *col = malloc(sizeof(float) * K * N);
            for (int k = 0; k < K; k++) /* col[k][j] = in[ci][b][y+ky-1][x+kx-1] */
                for (int j = 0; j < N; j++) {
                    int ci = k / 9, ky = k % 9 / 3, kx = k % 3;
                    int x = j % W, y = j / W % H, b = j / W / H, iy = y + ky - 1, ix = x + kx - 1;
                    col[(size_t)k * N + j] = iy >= 0 && iy < H && ix >= 0 && ix < W
                                                 ? in[(((size_t)ci * B + b) * H + iy) * W + ix]
                                                 : 0.0f;
                }
            float *want = malloc(sizeof(float) * NN_KC * d->nr);
            float *got = malloc(sizeof(float) * NN_KC * d->nr);
            for (int j0 = 0; j0 < N; j0 += d->nr)
                for (int k0 = t % 4; k0 < K; k0 += 7) {
                    int kc = K - k0 < 7 ? K - k0 : 7, ncols = N - j0 < d->nr ? N - j0 : d->nr;
                    d->pack(col + (size_t)k0 * N + j0, N, kc, ncols, want);
                    memset(got, 0x55, sizeof(float) * NN_KC * d->nr);
                    d->pack_conv3(in, B, H, W, k0, kc, j0, ncols, got);
                    cases++;
                    bad += memcmp(want, got, sizeof(float) * kc * d->nr) != 0;
                }
            free(in), free(col), free(want), free(got);
        }
    }
    printf("  %d panels compared, %d differ\n", cases, bad);
    CHECK(cases > 0 && bad == 0);
}

/* Child mode (argv "--encode LEVEL"): encodes a small synthetic image at
 * LEVEL and writes the file to stdout; the path is the environment's
 * AEC_CPU, read when the process starts its first product. */
static int encode_child(int level)
{
    enum { W = 80, H = 56 };
    static uint8_t px[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++)
                px[(y * W + x) * 3 + c] =
                    (uint8_t)((x * 3 + y * 5 + c * 40 + ((x * y) % 23) * 4) & 255);
    aec_encoder *enc = NULL;
    uint8_t *file = NULL;
    size_t n = 0;
    aec_encode_params p;
    aec_encode_params_default(&p);
    p.quality = level;
    if (aec_encoder_create(&enc, NULL) != AEC_OK ||
        aec_encode(enc, px, W, H, W * 3, AEC_RGB, &p, &file, &n) != AEC_OK)
        return 2;
    int ok = fwrite(file, 1, n, stdout) == n;
    aec_free(file);
    aec_encoder_destroy(enc);
    return ok ? 0 : 3;
}

/* Child mode (argv "--decode"): decodes the file on stdin and writes its
 * pixels to stdout, on the path of the environment's AEC_CPU. */
static int decode_child(void)
{
    size_t cap = 1 << 16, n = 0;
    uint8_t *in = malloc(cap);
    size_t r;
    while (in && (r = fread(in + n, 1, cap - n, stdin)) > 0)
        if ((n += r) == cap)
            in = realloc(in, cap *= 2);
    aec_decoder *dec = NULL;
    aec_decode_params dp;
    aec_decode_params_default(&dp);
    uint8_t *px = NULL;
    uint32_t w = 0, h = 0;
    aec_layout layout;
    if (!in || aec_decoder_create(&dec, NULL) != AEC_OK ||
        aec_decode(dec, in, n, &dp, &px, &w, &h, &layout) != AEC_OK)
        return 2;
    int ok = fwrite(px, 1, (size_t)w * h * 3, stdout) == (size_t)w * h * 3;
    aec_free(px);
    aec_decoder_destroy(dec);
    free(in);
    return ok ? 0 : 3;
}

/* Runs this program in child mode with AEC_CPU=cpu (a fresh process, so the
 * path is chosen anew), `input` (when not NULL) on its stdin; returns what
 * it wrote (malloc'd) or NULL. */
static uint8_t *run_child(const char *cpu, const char *mode, const char *arg,
                          const uint8_t *input, size_t input_size, size_t *size)
{
    int fd[2], in[2];
    if (pipe(fd) != 0)
        return NULL;
    if (pipe(in) != 0) {
        close(fd[0]), close(fd[1]);
        return NULL;
    }
    pid_t pid = fork();
    if (pid == 0) {
        dup2(fd[1], 1);
        dup2(in[0], 0);
        close(fd[0]), close(fd[1]), close(in[0]), close(in[1]);
        setenv("AEC_CPU", cpu, 1);
        execl("/proc/self/exe", "test_dsp", mode, arg, (char *)NULL);
        _exit(4);
    }
    close(fd[1]), close(in[0]);
    /* the inputs are small (a pipe's buffer holds them): write, then read */
    int wrote = !input || write(in[1], input, input_size) == (ssize_t)input_size;
    close(in[1]);
    size_t cap = 1 << 16, n = 0;
    uint8_t *buf = malloc(cap);
    ssize_t r;
    while ((r = read(fd[0], buf + n, cap - n)) > 0) {
        n += (size_t)r;
        if (n == cap)
            buf = realloc(buf, cap *= 2);
    }
    close(fd[0]);
    int status = 0;
    waitpid(pid, &status, 0);
    if (!wrote || !WIFEXITED(status) || WEXITSTATUS(status) != 0) {
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}

static uint8_t *encode_on(const char *cpu, int level, size_t *size)
{
    char arg[16];
    snprintf(arg, sizeof arg, "%d", level);
    return run_child(cpu, "--encode", arg, NULL, 0, size);
}

static void test_encoded_bytes_path_independent(void)
{
    static const char *const names[NN_ISA_COUNT] = {"c", "avx2", "avx512"};
    static const int levels[] = {2, 4, 7}; /* VQ and lattice levels */
    for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
        size_t nref = 0;
        uint8_t *ref = encode_on("c", levels[l], &nref);
        CHECKF(ref != NULL && nref > 0, "encode on the C path at level %d", levels[l]);
        for (int isa = 1; isa < NN_ISA_COUNT && ref; isa++) {
            if (!nn_dsp_of((enum nn_isa)isa))
                continue;
            size_t n = 0;
            uint8_t *got = encode_on(names[isa], levels[l], &n);
            CHECKF(got && n == nref && memcmp(got, ref, n) == 0,
                   "level %d: bytes on %s differ from C (%zu vs %zu bytes)", levels[l],
                   names[isa], n, nref);
            free(got);
        }
        free(ref);
    }
}

/* Issue 14's exactness target: the decoder reads its symbols with integer
 * arithmetic only (spec/bitstream.md 6.4-6.9: no context comes from a
 * network output), and its networks give the same bits on every path, so
 * a file decodes to the same pixels on every path: a lattice level (its
 * layers) and a VQ level, each decoded in a fresh process per path. */
static void test_decoded_pixels_path_independent(void)
{
    static const char *const names[NN_ISA_COUNT] = {"c", "avx2", "avx512"};
    static const int levels[] = {2, 7};
    for (size_t l = 0; l < sizeof levels / sizeof *levels; l++) {
        size_t nf = 0, nref = 0;
        uint8_t *file = encode_on("c", levels[l], &nf);
        uint8_t *ref = file ? run_child("c", "--decode", "", file, nf, &nref) : NULL;
        CHECKF(ref != NULL && nref == 80 * 56 * 3, "decode on the C path at level %d", levels[l]);
        for (int isa = 1; isa < NN_ISA_COUNT && ref; isa++) {
            if (!nn_dsp_of((enum nn_isa)isa))
                continue;
            size_t n = 0;
            uint8_t *got = run_child(names[isa], "--decode", "", file, nf, &n);
            CHECKF(got && n == nref && memcmp(got, ref, n) == 0,
                   "level %d: pixels decoded on %s differ from C", levels[l], names[isa]);
            free(got);
        }
        free(ref);
        free(file);
    }
}

/* halves (nn/dsp.h) on every path: all 65,536 halves, at every offset of
 * the vector loop's tail, give aec_half_to_float's bits (NaNs: a NaN). */
static void test_halves_every_path(void)
{
    size_t n = 65536 + 21;
    uint8_t *src = malloc(2 * n);
    float *got = malloc(sizeof(float) * n);
    for (size_t i = 0; i < n; i++)
        src[2 * i] = (uint8_t)(i & 0xff), src[2 * i + 1] = (uint8_t)(i >> 8 & 0xff);
    int paths = 0;
    for (int isa = 0; isa < NN_ISA_COUNT; isa++) {
        const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
        if (!d)
            continue;
        paths++;
        for (size_t start = 0; start < 21; start += 5) { /* misaligned starts, odd tails */
            size_t bad = 0, m = n - start;
            d->halves(src + 2 * start, m, got);
            for (size_t i = 0; i < m; i++) {
                uint16_t h = (uint16_t)(src[2 * (start + i)] | src[2 * (start + i) + 1] << 8);
                float want = aec_half_to_float(h);
                bad += want != want ? got[i] == got[i] : memcmp(&want, &got[i], 4) != 0;
            }
            CHECKF(bad == 0, "path %s start %zu: %zu halves differ", d->name, start, bad);
        }
    }
    CHECK(paths > 0);
    free(src), free(got);
}

/* transpose (nn/dsp.h) on every path: blocks of every size around the
 * vector tiles (0..40 rows and columns, so full tiles, edges and both),
 * inside larger matrices, give the plain transpose and write nothing
 * outside their block. */
static void test_transpose_every_path(void)
{
    enum { LD = 45, LDT = 47, MAXN = 41 };
    float *X = malloc(sizeof(float) * MAXN * LD), *T = malloc(sizeof(float) * LD * LDT);
    for (int i = 0; i < MAXN * LD; i++)
        X[i] = (float)i;
    int paths = 0;
    for (int isa = 0; isa < NN_ISA_COUNT; isa++) {
        const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
        if (!d)
            continue;
        paths++;
        size_t bad = 0;
        for (int rows = 0; rows < MAXN; rows++)
            for (int cols = 0; cols < MAXN; cols++) {
                for (int i = 0; i < LD * LDT; i++)
                    T[i] = -1.0f;
                d->transpose(X + LD + 1, rows, cols, LD, T + 2, LDT);
                for (int c = 0; c < LD; c++)
                    for (int r = 0; r < LDT - 2; r++) {
                        float want = r < rows && c < cols ? X[LD + 1 + (size_t)r * LD + c] : -1.0f;
                        bad += T[(size_t)c * LDT + 2 + r] != want;
                    }
                bad += T[0] != -1.0f || T[1] != -1.0f;
            }
        CHECKF(bad == 0, "path %s: %zu values wrong", d->name, bad);
    }
    CHECK(paths > 0);
    free(X), free(T);
}

/* A B of C += A * B^T stored in memory, handed out row by row as a
 * convolution's im2col matrix is (nn/gemm.h nn_row_source). */
typedef struct {
    nn_row_source base;
    const float *B;
    int ldb;
} stored_rows;

static void stored_rows_of(const nn_row_source *src, int j0, int nrows, int k0, int kc, float *Bb)
{
    const stored_rows *s = (const stored_rows *)src;
    for (int r = 0; r < nrows; r++)
        memcpy(Bb + (size_t)r * kc, s->B + (size_t)(j0 + r) * s->ldb + k0,
               (size_t)kc * sizeof(float));
}

/* nn_gemm_nt_rows (B given a block of rows at a time, the weight
 * gradients') gives on every path, with 1 and 3 threads, the bits of
 * nn_gemm_nt on the C path with B stored and accumulate = 1. */
static void test_gemm_nt_rows_every_path(void)
{
    static const int sizes[][3] = {
        {1, 1, 1}, {5, 7, 13}, {40, 300, 1100}, {128, 1152, 600}, {16, 99, 2000},
        {33, 257, 257}, {3, 600, 513}, {70, 20, 300},
    };
    int tested = 0;
    for (size_t t = 0; t < sizeof sizes / sizeof *sizes; t++) {
        int M = sizes[t][0], N = sizes[t][1], K = sizes[t][2];
        int lda = K + 3, ldb = K + 5, ldc = N + 2;
        float *A = frandom((size_t)M * lda), *B = frandom((size_t)N * ldb);
        float *C0 = frandom((size_t)M * ldc), *Cc = malloc((size_t)M * ldc * sizeof(float));
        float *Cd = malloc((size_t)M * ldc * sizeof(float));
        memcpy(Cc, C0, (size_t)M * ldc * sizeof(float));
        nn_gemm_nt_on(&nn_dsp_c, M, N, K, A, lda, B, ldb, Cc, ldc, 1);
        stored_rows src = {{stored_rows_of}, B, ldb};
        for (int isa = 0; isa < NN_ISA_COUNT; isa++) {
            const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
            if (!d)
                continue;
            for (int threads = 1; threads <= 3; threads += 2) {
#ifdef _OPENMP
                int saved = omp_get_max_threads();
                omp_set_num_threads(threads);
#endif
                memcpy(Cd, C0, (size_t)M * ldc * sizeof(float));
                int rc = nn_gemm_nt_rows_on(d, M, N, K, A, lda, &src.base, Cd, ldc);
#ifdef _OPENMP
                omp_set_num_threads(saved);
#endif
                CHECKF(rc == 0 && memcmp(Cc, Cd, (size_t)M * ldc * sizeof(float)) == 0,
                       "path %s, %d threads: M=%d N=%d K=%d differs from gemm_nt", d->name,
                       threads, M, N, K);
                tested++;
            }
        }
        free(A), free(B), free(C0), free(Cc), free(Cd);
    }
    CHECK(tested >= 16);
}

/* The trainer's Winograd convolutions (nn/winograd.h) on every path: the
 * same bits as on the C path, forward (with bias and ReLU) and both
 * gradients, an odd size included. */
static void test_winograd_every_path(void)
{
    static const int shapes[][5] = {{32, 40, 2, 9, 11}, {64, 32, 3, 16, 16}};
    for (size_t t = 0; t < sizeof shapes / sizeof *shapes; t++) {
        nn_conv_shape s = {shapes[t][0], shapes[t][1], 3, 1, 1};
        int B = shapes[t][2], H = shapes[t][3], W = shapes[t][4];
        size_t nin = (size_t)s.cin * B * H * W, nout = (size_t)s.cout * B * H * W;
        size_t nw = (size_t)s.cout * s.cin * 9;
        float *in = frandom(nin), *w = frandom(nw), *b = frandom(s.cout), *dout = frandom(nout);
        float *work = malloc(nn_wino_backward_floats(&s, B, H, W) * sizeof(float));
        float *want[3], *got[3];
        size_t n[3] = {nout, nw, nin};
        for (int k = 0; k < 3; k++)
            want[k] = calloc(n[k], sizeof(float)), got[k] = calloc(n[k], sizeof(float));
        const nn_dsp *c = nn_dsp_of(NN_ISA_C);
        nn_wino_forward_on(c, &s, B, H, W, in, w, b, want[0], 1, work);
        nn_wino_backward_on(c, &s, B, H, W, in, w, dout, want[1], want[2], work);
        for (int isa = 1; isa < NN_ISA_COUNT; isa++) {
            const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
            if (!d)
                continue;
            memset(got[1], 0, nw * sizeof(float));
            nn_wino_forward_on(d, &s, B, H, W, in, w, b, got[0], 1, work);
            nn_wino_backward_on(d, &s, B, H, W, in, w, dout, got[1], got[2], work);
            for (int k = 0; k < 3; k++)
                CHECKF(memcmp(want[k], got[k], n[k] * sizeof(float)) == 0,
                       "path %s, %d->%d on %dx%dx%d: the %s differs from the C path's", d->name,
                       s.cin, s.cout, B, H, W, k == 0 ? "output" : k == 1 ? "dw" : "din");
        }
        for (int k = 0; k < 3; k++)
            free(want[k]), free(got[k]);
        free(in), free(w), free(b), free(dout), free(work);
    }
}

int main(int argc, char **argv)
{
    if (argc == 3 && strcmp(argv[1], "--encode") == 0)
        return encode_child(atoi(argv[2]));
    if (argc == 3 && strcmp(argv[1], "--decode") == 0)
        return decode_child();
    RUN_TEST(test_paths_bit_identical);
    RUN_TEST(test_packed_a_in_spec_order);
    RUN_TEST(test_bias_relu_epilogue);
    RUN_TEST(test_conv3_rows_as_gemm);
    RUN_TEST(test_conv3_panels_as_im2col);
    RUN_TEST(test_halves_every_path);
    RUN_TEST(test_transpose_every_path);
    RUN_TEST(test_gemm_nt_rows_every_path);
    RUN_TEST(test_winograd_every_path);
    RUN_TEST(test_encoded_bytes_path_independent);
    RUN_TEST(test_decoded_pixels_path_independent);
    TEST_EXIT();
}
