/* SPDX-License-Identifier: BSD-3-Clause */
/* winograd.c - F(2x2, 3x3) convolutions of a batch (see winograd.h).
 *
 * Tiles: an image of H x W has th = ceil(H/2) rows of tw = ceil(W/2)
 * tiles; tile (ty, tx) covers outputs 2ty..2ty+1, 2tx..2tx+1 and reads the
 * 4x4 input patch from row 2ty-1, column 2tx-1 (zero outside the image).
 * The batch's tile rows are numbered R = b * th + ty.  Element e = 4i + j
 * of a tile's 4x4 matrices is row i, column j.
 *
 * Every element of a transformed tile is a sum of at most four input
 * values, made for a row of tiles at a time from planes stored with their
 * even and odd columns apart ("split"): the values that one element reads
 * from consecutive tiles are then consecutive in memory, and the loops
 * run on vectors.
 *
 * The tiles go in chunks of whole tile rows, every thread on each chunk:
 * the chunk's 16 transformed matrices (a channel per thread), its 16
 * products (an element per thread, each product whole on one thread),
 * then the output transform (a channel per thread).  Nothing depends on
 * the thread count: the weight gradient's sums over the chunks run in
 * chunk order.  The input gradient is the forward convolution of the
 * output gradient with the weights turned, as nn/layers.c does for the
 * direct convolution.
 *
 * Workspace, in floats (W = the split planes' size, T = tiles a chunk):
 *   forward:  split input (cin W) | U (16 cout cin) | V (16 cin T) |
 *             M (16 cout T)
 *   backward: split input (cin W) | split gradient (cout W) | U |
 *             turned weights (9 cin cout) | V | M, the larger channel
 *             count for both V and M (the input gradient's pass swaps
 *             them). */
#include "nn/winograd.h"

#include <string.h>

#include "nn/gemm.h"
#include "nn/parallel.h"

#define TILE 16 /* elements of a 4x4 tile */

/* Below this many channels the products' K (or M) is too short for 16 of
 * them to beat the direct convolution's 9-tap one (bench/NOTES.md). */
#define WINO_MIN_CHANNELS 32
/* Tiles a chunk (at least one tile row): V and M of 128 + 128 channels,
 * 2 MB each, about the two cores' L2. */
#define WINO_CHUNK_TILES 256
/* Tiles of one output row made at once on the stack. */
#define OUT_SPAN 64

int nn_wino_supported(const nn_conv_shape *s)
{
    return s->k == 3 && s->stride == 1 && s->pad == 1 && s->cin >= WINO_MIN_CHANNELS &&
           s->cout >= WINO_MIN_CHANNELS;
}

typedef struct {
    int B, H, W, th, tw; /* th x tw tiles an image */
    int hw;              /* floats in one half (even or odd columns) of a split row */
    int rows, nb;        /* tile rows and tiles a chunk */
    int chunks;          /* chunks in the batch */
} tiling;

static tiling make_tiling(int B, int H, int W)
{
    tiling g = {B, H, W, (H + 1) / 2, (W + 1) / 2, (W + 1) / 2 + 1, 0, 0, 0};
    g.rows = WINO_CHUNK_TILES / g.tw < 1 ? 1 : WINO_CHUNK_TILES / g.tw;
    if (g.rows > B * g.th)
        g.rows = B * g.th;
    g.nb = g.rows * g.tw;
    g.chunks = (B * g.th + g.rows - 1) / g.rows;
    return g;
}

/* Floats between the starts of two elements' matrices of rows x nb
 * floats: one cache line more than they hold, so that the 16 streams a
 * transform writes are not all the same distance apart modulo 4 KB
 * (which makes the core take their stores for its loads' and stall). */
static size_t element_stride(const tiling *g, int rows)
{
    return (size_t)rows * g->nb + 16;
}

/* A split plane: rows of 2 hw floats, the row's even columns, then its
 * odd ones.  `lead` rows and columns of zeros come first (1 for an input,
 * whose patches start one pixel up and left; 0 for an output gradient),
 * then the image, then zeros to the end: 2 th + 2 rows in all. */
static size_t split_plane_floats(const tiling *g)
{
    return (size_t)(2 * g->th + 2) * 2 * g->hw;
}

static void split_plane(const tiling *g, int lead, const float *restrict img,
                        float *restrict dst)
{
    size_t row = 2 * (size_t)g->hw;
    memset(dst, 0, sizeof(float) * split_plane_floats(g));
    for (int y = 0; y < g->H; y++) {
        const float *restrict s = img + (size_t)y * g->W;
        float *restrict even = dst + (size_t)(y + lead) * row, *restrict odd = even + g->hw;
        if (lead) /* column x is split column x + 1 */
            for (int u = 0; 2 * u < g->W; u++) {
                odd[u] = s[2 * u];
                if (2 * u + 1 < g->W)
                    even[u + 1] = s[2 * u + 1];
            }
        else
            for (int u = 0; 2 * u < g->W; u++) {
                even[u] = s[2 * u];
                if (2 * u + 1 < g->W)
                    odd[u] = s[2 * u + 1];
            }
    }
}

/* Every plane of x [C][B][H][W], split: [C][B][split_plane_floats]. */
static void split_planes(const tiling *g, int C, int lead, const float *x, float *dst)
{
    size_t plane = (size_t)g->H * g->W, sp = split_plane_floats(g);
#pragma omp parallel for schedule(static) if (nn_may_fork_pass((size_t)C * g->B * plane))
    for (int cb = 0; cb < C * g->B; cb++)
        split_plane(g, lead, x + (size_t)cb * plane, dst + (size_t)cb * sp);
}

/* One row of tiles, input (B^T d B): rows r0..r3 of the patch, each a
 * split row (even columns, then odd ones from hw on); element 4i + j of
 * tile tx to d[(4i + j) * lde + tx].  Each row combination is made where
 * it is used, in registers: stored and read back at the next tile's
 * offset, it would cost a store-forwarding stall per vector. */
static void input_row(int tw, int hw, const float *restrict r0, const float *restrict r1,
                      const float *restrict r2, const float *restrict r3, float *restrict d,
                      size_t lde)
{
    const float *rows[4][2] = {{r0, r2}, {r1, r2}, {r2, r1}, {r1, r3}}; /* B^T: a - b */
    const int add[4] = {0, 1, 0, 0};                                     /* row 1: a + b */
    for (int i = 0; i < 4; i++) {
        const float *restrict a = rows[i][0], *restrict b = rows[i][1];
        float *restrict d0 = d + (size_t)(4 * i) * lde, *restrict d1 = d0 + lde,
                        *restrict d2 = d1 + lde, *restrict d3 = d2 + lde;
        if (add[i])
            for (int tx = 0; tx < tw; tx++) {
                float e0 = a[tx] + b[tx], e1 = a[tx + 1] + b[tx + 1];
                float o0 = a[hw + tx] + b[hw + tx], o1 = a[hw + tx + 1] + b[hw + tx + 1];
                d0[tx] = e0 - e1, d1[tx] = o0 + e1, d2[tx] = e1 - o0, d3[tx] = o0 - o1;
            }
        else
            for (int tx = 0; tx < tw; tx++) {
                float e0 = a[tx] - b[tx], e1 = a[tx + 1] - b[tx + 1];
                float o0 = a[hw + tx] - b[hw + tx], o1 = a[hw + tx + 1] - b[hw + tx + 1];
                d0[tx] = e0 - e1, d1[tx] = o0 + e1, d2[tx] = e1 - o0, d3[tx] = o0 - o1;
            }
    }
}

/* One row of tiles, output gradient (A g A^T), from the 2x2 blocks' rows
 * r0, r1 (split rows). */
static void grad_row(int tw, int hw, const float *restrict r0, const float *restrict r1,
                     float *restrict d, size_t lde)
{
    for (int i = 0; i < 4; i++) {
        float *restrict d0 = d + (size_t)(4 * i) * lde, *restrict d1 = d0 + lde,
                        *restrict d2 = d1 + lde, *restrict d3 = d2 + lde;
        for (int tx = 0; tx < tw; tx++) {
            float e, o; /* A's row i: r0, r0 + r1, r0 - r1, -r1 */
            if (i == 0)
                e = r0[tx], o = r0[hw + tx];
            else if (i == 1)
                e = r0[tx] + r1[tx], o = r0[hw + tx] + r1[hw + tx];
            else if (i == 2)
                e = r0[tx] - r1[tx], o = r0[hw + tx] - r1[hw + tx];
            else
                e = -r1[tx], o = -r1[hw + tx];
            d0[tx] = e, d1[tx] = e + o, d2[tx] = e - o, d3[tx] = -o;
        }
    }
}

/* The 16 elements of channel c's tiles in tile rows R0..R1-1, from split
 * planes sp ([C][B][...]): element e of the tile at (R, tx) goes to
 * dst[e * lde + (R - R0) * tw + tx].  Input tiles (grad = 0): B^T d B;
 * output-gradient tiles (grad = 1): A g A^T. */
static void channel_tiles(const tiling *g, const float *sp, int c, int grad, int R0, int R1,
                          float *dst, size_t lde)
{
    size_t psize = split_plane_floats(g), row = 2 * (size_t)g->hw;
    for (int R = R0; R < R1; R++) {
        int b = R / g->th, ty = R % g->th;
        const float *r0 = sp + ((size_t)c * g->B + b) * psize + (size_t)(2 * ty) * row;
        float *d = dst + (size_t)(R - R0) * g->tw;
        if (grad)
            grad_row(g->tw, g->hw, r0, r0 + row, d, lde);
        else
            input_row(g->tw, g->hw, r0, r0 + row, r0 + 2 * row, r0 + 3 * row, d, lde);
    }
}

/* U[e][co][ci] = (G g G^T)[e] for w [cout][cin][3][3]. */
static void weight_tiles(const nn_conv_shape *s, const float *w, float *U)
{
    size_t stride_e = (size_t)s->cout * s->cin;
#pragma omp parallel for schedule(static) if (nn_may_fork_pass(TILE * stride_e))
    for (int co = 0; co < s->cout; co++)
        for (int ci = 0; ci < s->cin; ci++) {
            const float *k = w + ((size_t)co * s->cin + ci) * 9;
            float gk[4][3]; /* G g */
            for (int x = 0; x < 3; x++) {
                float a = k[x], b = k[3 + x], c = k[6 + x];
                gk[0][x] = a;
                gk[1][x] = 0.5f * ((a + b) + c);
                gk[2][x] = 0.5f * ((a - b) + c);
                gk[3][x] = c;
            }
            for (int i = 0; i < 4; i++) { /* (G g) G^T */
                float a = gk[i][0], b = gk[i][1], c = gk[i][2];
                float u[4] = {a, 0.5f * ((a + b) + c), 0.5f * ((a - b) + c), c};
                for (int j = 0; j < 4; j++)
                    U[(4 * i + j) * stride_e + (size_t)co * s->cin + ci] = u[j];
            }
        }
}

/* dw[co][ci] += G^T dU G: the weight transform's backward. */
static void weight_grad_tiles(const nn_conv_shape *s, const float *dU, float *dw)
{
    size_t stride_e = (size_t)s->cout * s->cin;
#pragma omp parallel for schedule(static) if (nn_may_fork_pass(TILE * stride_e))
    for (int co = 0; co < s->cout; co++)
        for (int ci = 0; ci < s->cin; ci++) {
            size_t at = (size_t)co * s->cin + ci;
            float r[3][4]; /* G^T dU */
            for (int j = 0; j < 4; j++) {
                float u0 = dU[j * stride_e + at], u1 = dU[(4 + j) * stride_e + at],
                      u2 = dU[(8 + j) * stride_e + at], u3 = dU[(12 + j) * stride_e + at];
                r[0][j] = u0 + 0.5f * (u1 + u2);
                r[1][j] = 0.5f * (u1 - u2);
                r[2][j] = 0.5f * (u1 + u2) + u3;
            }
            float *k = dw + at * 9;
            for (int y = 0; y < 3; y++) { /* (G^T dU) G */
                const float *u = r[y];
                k[3 * y + 0] += u[0] + 0.5f * (u[1] + u[2]);
                k[3 * y + 1] += 0.5f * (u[1] - u[2]);
                k[3 * y + 2] += 0.5f * (u[1] + u[2]) + u[3];
            }
        }
}

/* Channel c's outputs in tile rows R0..R1-1 from a chunk's products M
 * (element e's matrix at M + e * lde, channel c's row at c * nb):
 * Y = A^T M A (+ bias, then the ReLU), outputs past an odd last row or
 * column dropped. */
static void channel_outputs(const tiling *g, const float *M, size_t lde, int c, int R0, int R1,
                            const float *bias, int relu, float *out)
{
    size_t plane = (size_t)g->H * g->W;
    float start = bias ? bias[c] : 0.0f;
    for (int R = R0; R < R1; R++) {
        int b = R / g->th, ty = R % g->th;
        float *o = out + ((size_t)c * g->B + b) * plane;
        const float *m = M + (size_t)c * g->nb + (size_t)(R - R0) * g->tw;
        for (int x0 = 0; x0 < g->tw; x0 += OUT_SPAN) {
            int n = g->tw - x0 < OUT_SPAN ? g->tw - x0 : OUT_SPAN;
            float y[2][2][OUT_SPAN];
            for (int t = 0; t < n; t++) {
                const float *mt = m + x0 + t;
                float s[2][4]; /* A^T over the rows, for each column j */
                for (int j = 0; j < 4; j++) {
                    float m0 = mt[j * lde], m1 = mt[(4 + j) * lde], m2 = mt[(8 + j) * lde],
                          m3 = mt[(12 + j) * lde];
                    s[0][j] = (m0 + m1) + m2;
                    s[1][j] = (m1 - m2) - m3;
                }
                for (int a = 0; a < 2; a++) { /* then over the columns */
                    float v0 = start + ((s[a][0] + s[a][1]) + s[a][2]);
                    float v1 = start + ((s[a][1] - s[a][2]) - s[a][3]);
                    y[a][0][t] = relu && !(v0 > 0) ? 0 : v0;
                    y[a][1][t] = relu && !(v1 > 0) ? 0 : v1;
                }
            }
            for (int a = 0; a < 2 && 2 * ty + a < g->H; a++) {
                float *row = o + (size_t)(2 * ty + a) * g->W + 2 * x0;
                int pairs = (g->W - 2 * x0) / 2 < n ? (g->W - 2 * x0) / 2 : n;
                for (int t = 0; t < pairs; t++)
                    row[2 * t] = y[a][0][t], row[2 * t + 1] = y[a][1][t];
                if (pairs < n) /* an odd last column */
                    row[2 * pairs] = y[a][0][pairs];
            }
        }
    }
}

/* The forward convolution from split input planes sp, U (16 x cout x cin)
 * made; V and M: the chunk's matrices, element strides lv and lm. */
static void forward_split(const nn_dsp *d, const nn_conv_shape *s, const tiling *g,
                          const float *sp, const float *U, const float *bias, int relu, float *out,
                          float *V, size_t lv, float *M, size_t lm)
{
    size_t ci = s->cin, co = s->cout;
    double work = 2.0 * TILE * co * ci * g->nb * g->chunks;
#pragma omp parallel if (nn_may_fork(work))
    for (int k = 0; k < g->chunks; k++) {
        int R0 = k * g->rows, R1 = R0 + g->rows < g->B * g->th ? R0 + g->rows : g->B * g->th;
        int n = (R1 - R0) * g->tw;
#pragma omp for schedule(static)
        for (int c = 0; c < s->cin; c++)
            channel_tiles(g, sp, c, 0, R0, R1, V + c * (size_t)g->nb, lv);
#pragma omp for schedule(static)
        for (int e = 0; e < TILE; e++)
            nn_gemm_nn_on(d, s->cout, n, s->cin, U + e * co * ci, s->cin, V + e * lv, g->nb,
                          M + e * lm, g->nb, 0);
#pragma omp for schedule(static)
        for (int c = 0; c < s->cout; c++)
            channel_outputs(g, M, lm, c, R0, R1, bias, relu, out);
    }
}

size_t nn_wino_forward_floats(const nn_conv_shape *s, int B, int H, int W)
{
    tiling g = make_tiling(B, H, W);
    return s->cin * (size_t)B * split_plane_floats(&g) + TILE * (size_t)s->cout * s->cin +
           TILE * (element_stride(&g, s->cin) + element_stride(&g, s->cout));
}

void nn_wino_forward_on(const nn_dsp *d, const nn_conv_shape *s, int B, int H, int W,
                        const float *in, const float *w, const float *b, float *out, int relu,
                        float *work)
{
    tiling g = make_tiling(B, H, W);
    size_t lv = element_stride(&g, s->cin), lm = element_stride(&g, s->cout);
    float *sp = work, *U = sp + s->cin * (size_t)B * split_plane_floats(&g);
    float *V = U + TILE * (size_t)s->cout * s->cin, *M = V + TILE * lv;
    weight_tiles(s, w, U);
    split_planes(&g, s->cin, 1, in, sp);
    forward_split(d, s, &g, sp, U, b, relu, out, V, lv, M, lm);
}

void nn_wino_forward(const nn_conv_shape *s, int B, int H, int W, const float *in,
                     const float *w, const float *b, float *out, int relu, float *work)
{
    nn_wino_forward_on(nn_dsp_active(), s, B, H, W, in, w, b, out, relu, work);
}

/* dU[e] = the sum over every tile of dM[e] V[e]^T, chunk after chunk:
 * the same bits on any thread count. */
static void weight_grad(const nn_dsp *d, const nn_conv_shape *s, const tiling *g,
                        const float *sp_in, const float *sp_grad, float *dU, float *V, size_t lv,
                        float *dM, size_t lm)
{
    size_t ci = s->cin, co = s->cout;
    double work = 2.0 * TILE * co * ci * g->nb * g->chunks;
#pragma omp parallel if (nn_may_fork(work))
    for (int k = 0; k < g->chunks; k++) {
        int R0 = k * g->rows, R1 = R0 + g->rows < g->B * g->th ? R0 + g->rows : g->B * g->th;
        int n = (R1 - R0) * g->tw;
#pragma omp for schedule(static)
        for (int c = 0; c < s->cin; c++)
            channel_tiles(g, sp_in, c, 0, R0, R1, V + c * (size_t)g->nb, lv);
#pragma omp for schedule(static)
        for (int c = 0; c < s->cout; c++)
            channel_tiles(g, sp_grad, c, 1, R0, R1, dM + c * (size_t)g->nb, lm);
#pragma omp for schedule(static)
        for (int e = 0; e < TILE; e++)
            nn_gemm_nt_on(d, s->cout, s->cin, n, dM + e * lm, g->nb, V + e * lv, g->nb,
                          dU + e * co * ci, s->cin, k > 0);
    }
}

size_t nn_wino_backward_floats(const nn_conv_shape *s, int B, int H, int W)
{
    tiling g = make_tiling(B, H, W);
    int wide = s->cin > s->cout ? s->cin : s->cout;
    return (s->cin + (size_t)s->cout) * B * split_plane_floats(&g) +
           (TILE + 9) * (size_t)s->cout * s->cin + 2 * TILE * element_stride(&g, wide);
}

void nn_wino_backward_on(const nn_dsp *d, const nn_conv_shape *s, int B, int H, int W,
                         const float *in, const float *w, const float *dout, float *dw,
                         float *din, float *work)
{
    tiling g = make_tiling(B, H, W);
    size_t ci = s->cin, co = s->cout, psize = split_plane_floats(&g);
    int wide = s->cin > s->cout ? s->cin : s->cout;
    size_t lx = element_stride(&g, wide);
    float *sp_in = work, *sp_grad = sp_in + ci * B * psize, *U = sp_grad + co * B * psize;
    float *wt = U + TILE * co * ci, *V = wt + 9 * co * ci, *M = V + TILE * lx;
    if (dw) { /* U holds dU here */
        split_planes(&g, s->cin, 1, in, sp_in);
        split_planes(&g, s->cout, 0, dout, sp_grad);
        weight_grad(d, s, &g, sp_in, sp_grad, U, V, element_stride(&g, s->cin), M,
                    element_stride(&g, s->cout));
        weight_grad_tiles(s, U, dw);
    }
    if (din) {
        /* din[ci] = the sum over co of conv(dout[co], w[co][ci] turned half
         * a turn): a convolution with cout inputs and cin outputs. */
        for (size_t o = 0; o < co; o++)
            for (size_t i = 0; i < ci; i++)
                for (int t = 0; t < 9; t++)
                    wt[(i * co + o) * 9 + t] = w[(o * ci + i) * 9 + (8 - t)];
        nn_conv_shape back = {s->cout, s->cin, 3, 1, 1};
        weight_tiles(&back, wt, U);
        split_planes(&g, s->cout, 1, dout, sp_grad);
        forward_split(d, &back, &g, sp_grad, U, NULL, 0, din, V, element_stride(&g, s->cout), M,
                      element_stride(&g, s->cin));
    }
}

void nn_wino_backward(const nn_conv_shape *s, int B, int H, int W, const float *in,
                      const float *w, const float *dout, float *dw, float *din, float *work)
{
    nn_wino_backward_on(nn_dsp_active(), s, B, H, W, in, w, dout, dw, din, work);
}
