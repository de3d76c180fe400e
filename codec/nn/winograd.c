/* SPDX-License-Identifier: BSD-3-Clause */
/* winograd.c - F(2x2, 3x3) convolutions (see winograd.h).
 *
 * Tiles: an image of H x W has th = ceil(H/2) rows of tw = ceil(W/2)
 * tiles (with the origin parities px, py of one image's rows,
 * ceil((H + py)/2) and ceil((W + px)/2), each tile shifted up and left by
 * py and px); tile (ty, tx) covers outputs 2ty..2ty+1, 2tx..2tx+1 and reads
 * the 4x4 input patch from row 2ty-1, column 2tx-1 (zero outside the
 * image).
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
 *             them)
 *   one image's rows: split input | V | M (U is the caller's). */
#include "nn/winograd.h"

#include <string.h>

#include "nn/gemm.h"
#include "nn/parallel.h"

#define TILE 16 /* elements of a 4x4 tile */

/* Below this many channels the products' K (or M) is too short for 16 of
 * them to beat the direct convolution's 9-tap one (bench/NOTES.md). */
#define WINO_MIN_CHANNELS 32
/* Tiles a chunk (at least one tile row): V and M of 128 + 128 channels,
 * 2 MB each, about the two cores' L2.  A batch's chunks are worked by all
 * threads together (and the weight gradient sums them in this order). */
#define WINO_CHUNK_TILES 256
/* One image's rows (the codec, a cell a thread): half as many tiles, but
 * two tile rows at least (one row of a 128-latent band, 65 tiles, was
 * slower; bench/NOTES.md).  The outputs' bits do not depend on it. */
#define WINO_ROWS_CHUNK_TILES 128
#define WINO_ROWS_MIN_ROWS 2
/* Tiles of one output row made at once on the stack. */
#define OUT_SPAN 64

int nn_wino_supported(const nn_conv_shape *s)
{
    return s->k == 3 && s->stride == 1 && s->pad == 1 && s->cin >= WINO_MIN_CHANNELS &&
           s->cout >= WINO_MIN_CHANNELS;
}

typedef struct {
    int B, H, W;
    int px, py;   /* the grid's origin parity: tiles start at odd columns, rows */
    int th, tw;   /* th x tw tiles an image */
    int hw;       /* floats in one half (even or odd columns) of a split row */
    int rows, nb; /* tile rows and tiles a chunk */
} tiling;

/* Tile (ty, tx) covers output rows 2ty - py, +1 and columns 2tx - px, +1:
 * with the parity of where the grid lies in a larger one, every position
 * is the same element of the same tile whatever part of the larger grid
 * is computed at once (the codec's cells and bands). */
static tiling make_tiling(int B, int H, int W, int px, int py, int chunk, int min_rows)
{
    tiling g = {B, H, W, px, py, (H + py + 1) / 2, (W + px + 1) / 2, 0, 0, 0};
    g.hw = g.tw + 1;
    g.rows = chunk / g.tw < min_rows ? min_rows : chunk / g.tw;
    if (g.rows > B * g.th)
        g.rows = B * g.th;
    g.nb = g.rows * g.tw;
    return g;
}

/* A batch's tiling (the trainer's), and one image's rows' at origin
 * parity (px, py) (the codec's). */
static tiling batch_tiling(int B, int H, int W)
{
    return make_tiling(B, H, W, 0, 0, WINO_CHUNK_TILES, 1);
}
static tiling rows_tiling(int H, int W, int px, int py)
{
    return make_tiling(1, H, W, px & 1, py & 1, WINO_ROWS_CHUNK_TILES, WINO_ROWS_MIN_ROWS);
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
 * and py rows, px columns more, then the image, then zeros to the end:
 * 2 th + 2 rows in all, so that tile row ty's patch is split rows 2ty ..
 * 2ty + 3 and tile tx's columns 2tx .. 2tx + 3. */
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
        float *restrict even = dst + (size_t)(y + lead + g->py) * row, *restrict odd = even + g->hw;
        if ((lead + g->px) & 1) /* column x is split column x + 1 */
            for (int u = 0; 2 * u < g->W; u++) {
                odd[u + (lead + g->px) / 2] = s[2 * u];
                if (2 * u + 1 < g->W)
                    even[u + 1 + (lead + g->px) / 2] = s[2 * u + 1];
            }
        else /* column x is split column x + lead + px, an even number */
            for (int u = 0; 2 * u < g->W; u++) {
                even[u + (lead + g->px) / 2] = s[2 * u];
                if (2 * u + 1 < g->W)
                    odd[u + (lead + g->px) / 2] = s[2 * u + 1];
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

/* Floats between the starts of two elements' weight matrices (cout x cin):
 * a cache line more than they hold, for element_stride's reason. */
static size_t weight_stride(const nn_conv_shape *s)
{
    return (size_t)s->cout * s->cin + 16;
}

/* Input channels whose weights are transformed at once, as vectors. */
#define WEIGHT_SPAN 64

/* The rows of G g for one column of taps a (row 0), b, c (row 2), over n
 * input channels. */
static void g_rows(int n, const float *restrict a, const float *restrict b,
                   const float *restrict c, float *restrict r1, float *restrict r2)
{
    for (int i = 0; i < n; i++) {
        r1[i] = 0.5f * ((a[i] + b[i]) + c[i]);
        r2[i] = 0.5f * ((a[i] - b[i]) + c[i]);
    }
}

/* U[e][co][ci] = (G g G^T)[e] for w [cout][cin][3][3], element e's matrix
 * at U + e * lde.  Each output channel's taps are first laid out tap by
 * tap, so that both sides of the transform run over WEIGHT_SPAN input
 * channels at once. */
static void weight_tiles(const nn_conv_shape *s, const float *w, float *U, size_t lde)
{
#pragma omp parallel for schedule(static) if (nn_may_fork_pass(TILE * lde))
    for (int co = 0; co < s->cout; co++)
        for (int c0 = 0; c0 < s->cin; c0 += WEIGHT_SPAN) {
            int n = s->cin - c0 < WEIGHT_SPAN ? s->cin - c0 : WEIGHT_SPAN;
            float tap[9][WEIGHT_SPAN], gk[4][3][WEIGHT_SPAN]; /* g by taps; G g */
            const float *k = w + ((size_t)co * s->cin + c0) * 9;
            for (int i = 0; i < n; i++)
                for (int t = 0; t < 9; t++)
                    tap[t][i] = k[9 * i + t];
            for (int x = 0; x < 3; x++) { /* G g: the rows, column x */
                memcpy(gk[0][x], tap[x], sizeof(float) * n);
                g_rows(n, tap[x], tap[3 + x], tap[6 + x], gk[1][x], gk[2][x]);
                memcpy(gk[3][x], tap[6 + x], sizeof(float) * n);
            }
            for (int r = 0; r < 4; r++) { /* (G g) G^T: the columns of row r */
                float *u = U + (size_t)(4 * r) * lde + (size_t)co * s->cin + c0;
                memcpy(u, gk[r][0], sizeof(float) * n);
                g_rows(n, gk[r][0], gk[r][1], gk[r][2], u + lde, u + 2 * lde);
                memcpy(u + 3 * lde, gk[r][2], sizeof(float) * n);
            }
        }
}

/* dw[co][ci] += G^T dU G: the weight transform's backward. */
static void weight_grad_tiles(const nn_conv_shape *s, const float *dU, float *dw)
{
    size_t stride_e = weight_stride(s);
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
 * Y = A^T M A (+ bias, then the ReLU), only rows y0..y1-1 and columns
 * 0..W-1 of each image written. */
static void channel_outputs(const tiling *g, const float *M, size_t lde, int c, int R0, int R1,
                            const float *bias, int relu, float *out, int y0, int y1)
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
            for (int a = 0; a < 2; a++) {
                int Y = 2 * ty - g->py + a;
                if (Y < y0 || Y >= y1)
                    continue;
                float *row = o + (size_t)Y * g->W;
                int X = 2 * x0 - g->px, t = 0;
                if (X < 0) /* the first tile's left column is outside */
                    row[X + 1] = y[a][1][0], t = 1, X += 2;
                for (; t < n && X + 1 < g->W; t++, X += 2)
                    row[X] = y[a][0][t], row[X + 1] = y[a][1][t];
                if (t < n && X < g->W) /* an odd last column */
                    row[X] = y[a][0][t];
            }
        }
    }
}

/* The forward convolution from split input planes sp, U (16 x cout x cin)
 * made, over tile rows R0..R1-1 (of the whole batch), writing output rows
 * y0..y1-1; V and M: a chunk's matrices, element strides lv and lm. */
static void forward_split(const nn_dsp *d, const nn_conv_shape *s, const tiling *g,
                          const float *sp, const float *U, const float *bias, int relu, float *out,
                          float *V, size_t lv, float *M, size_t lm, int R0, int R1, int y0, int y1)
{
    size_t ci = s->cin, co = s->cout;
    int chunks = (R1 - R0 + g->rows - 1) / g->rows;
    double work = 2.0 * TILE * co * ci * g->nb * chunks;
#pragma omp parallel if (nn_may_fork(work))
    for (int k = 0; k < chunks; k++) {
        int r0 = R0 + k * g->rows, r1 = r0 + g->rows < R1 ? r0 + g->rows : R1;
        int n = (r1 - r0) * g->tw;
#pragma omp for schedule(static)
        for (int c = 0; c < s->cin; c++)
            channel_tiles(g, sp, c, 0, r0, r1, V + c * (size_t)g->nb, lv);
#pragma omp for schedule(static)
        for (int e = 0; e < TILE; e++)
            nn_gemm_nn_on(d, s->cout, n, s->cin, U + e * weight_stride(s), s->cin, V + e * lv, g->nb,
                          M + e * lm, g->nb, 0);
#pragma omp for schedule(static)
        for (int c = 0; c < s->cout; c++)
            channel_outputs(g, M, lm, c, r0, r1, bias, relu, out, y0, y1);
    }
}

size_t nn_wino_forward_floats(const nn_conv_shape *s, int B, int H, int W)
{
    tiling g = batch_tiling(B, H, W);
    return s->cin * (size_t)B * split_plane_floats(&g) + TILE * weight_stride(s) +
           TILE * (element_stride(&g, s->cin) + element_stride(&g, s->cout));
}

void nn_wino_forward_on(const nn_dsp *d, const nn_conv_shape *s, int B, int H, int W,
                        const float *in, const float *w, const float *b, float *out, int relu,
                        float *work)
{
    tiling g = batch_tiling(B, H, W);
    size_t lv = element_stride(&g, s->cin), lm = element_stride(&g, s->cout);
    float *sp = work, *U = sp + s->cin * (size_t)B * split_plane_floats(&g);
    float *V = U + TILE * weight_stride(s), *M = V + TILE * lv;
    weight_tiles(s, w, U, weight_stride(s));
    split_planes(&g, s->cin, 1, in, sp);
    forward_split(d, s, &g, sp, U, b, relu, out, V, lv, M, lm, 0, B * g.th, 0, H);
}

void nn_wino_forward(const nn_conv_shape *s, int B, int H, int W, const float *in,
                     const float *w, const float *b, float *out, int relu, float *work)
{
    nn_wino_forward_on(nn_dsp_active(), s, B, H, W, in, w, b, out, relu, work);
}

size_t nn_wino_weights_floats(const nn_conv_shape *s)
{
    return TILE * weight_stride(s);
}

void nn_wino_weights(const nn_conv_shape *s, const float *w, float *U)
{
    weight_tiles(s, w, U, weight_stride(s));
}

size_t nn_wino_rows_floats(const nn_conv_shape *s, int H, int W)
{
    size_t most = 0; /* over the four parities: an odd one adds tiles, but a
                        narrower row of tiles can make a chunk hold more */
    for (int p = 0; p < 4; p++) {
        tiling g = rows_tiling(H, W, p & 1, p >> 1);
        size_t n = s->cin * split_plane_floats(&g) +
                   TILE * (element_stride(&g, s->cin) + element_stride(&g, s->cout));
        most = n > most ? n : most;
    }
    return most;
}

void nn_wino_forward_rows(const nn_conv_shape *s, int H, int W, int px, int py, const float *in,
                          const float *U, const float *b, float *out, int relu, int y0, int y1,
                          float *work)
{
    if (y1 <= y0)
        return;
    tiling g = rows_tiling(H, W, px, py);
    size_t lv = element_stride(&g, s->cin), lm = element_stride(&g, s->cout);
    float *sp = work, *V = sp + s->cin * split_plane_floats(&g), *M = V + TILE * lv;
    split_planes(&g, s->cin, 1, in, sp);
    forward_split(nn_dsp_active(), s, &g, sp, U, b, relu, out, V, lv, M, lm, (y0 + g.py) / 2,
                  (y1 - 1 + g.py) / 2 + 1, y0, y1);
}

/* dU[e] = the sum over every tile of dM[e] V[e]^T, chunk after chunk:
 * the same bits on any thread count. */
static void weight_grad(const nn_dsp *d, const nn_conv_shape *s, const tiling *g,
                        const float *sp_in, const float *sp_grad, float *dU, float *V, size_t lv,
                        float *dM, size_t lm)
{
    size_t ci = s->cin, co = s->cout;
    int chunks = (g->B * g->th + g->rows - 1) / g->rows;
    double work = 2.0 * TILE * co * ci * g->nb * chunks;
#pragma omp parallel if (nn_may_fork(work))
    for (int k = 0; k < chunks; k++) {
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
                          dU + e * weight_stride(s), s->cin, k > 0);
    }
}

size_t nn_wino_backward_floats(const nn_conv_shape *s, int B, int H, int W)
{
    tiling g = batch_tiling(B, H, W);
    int wide = s->cin > s->cout ? s->cin : s->cout;
    return (s->cin + (size_t)s->cout) * B * split_plane_floats(&g) +
           TILE * weight_stride(s) + 9 * (size_t)s->cout * s->cin +
           2 * TILE * element_stride(&g, wide);
}

void nn_wino_backward_on(const nn_dsp *d, const nn_conv_shape *s, int B, int H, int W,
                         const float *in, const float *w, const float *dout, float *dw,
                         float *din, float *work)
{
    tiling g = batch_tiling(B, H, W);
    size_t ci = s->cin, co = s->cout, psize = split_plane_floats(&g);
    int wide = s->cin > s->cout ? s->cin : s->cout;
    size_t lx = element_stride(&g, wide);
    float *sp_in = work, *sp_grad = sp_in + ci * B * psize, *U = sp_grad + co * B * psize;
    float *wt = U + TILE * weight_stride(s), *V = wt + 9 * co * ci, *M = V + TILE * lx;
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
        weight_tiles(&back, wt, U, weight_stride(&back));
        split_planes(&g, s->cout, 1, dout, sp_grad);
        forward_split(d, &back, &g, sp_grad, U, NULL, 0, din, V, element_stride(&g, s->cout), M,
                      element_stride(&g, s->cin), 0, B * g.th, 0, H);
    }
}

void nn_wino_backward(const nn_conv_shape *s, int B, int H, int W, const float *in,
                      const float *w, const float *dout, float *dw, float *din, float *work)
{
    nn_wino_backward_on(nn_dsp_active(), s, B, H, W, in, w, dout, dw, din, work);
}
