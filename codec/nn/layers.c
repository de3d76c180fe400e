/* SPDX-License-Identifier: BSD-3-Clause */
/* layers.c - convolution (im2col + GEMM), ReLU, space/depth reshuffles. */
#include "nn/layers.h"

#include <stdlib.h>
#include <string.h>

#include "nn/dsp.h"
#include "nn/gemm.h"
#include "nn/parallel.h"
#include "nn/winograd.h"

static int is_pointwise(const nn_conv_shape *s)
{
    return s->k == 1 && s->stride == 1 && s->pad == 0;
}

static int is_conv3_same(const nn_conv_shape *s)
{
    return s->k == 3 && s->stride == 1 && s->pad == 1;
}

/* With a single image the im2col matrix is built a band of output positions
 * at a time, so the scratch space (and the working set) stays near this many
 * floats whatever the image size; a batch is done in one piece.  1 MB of
 * floats fits the L2 of one core, so the GEMM's panel packing reads back what
 * im2col just wrote from L2 rather than L3 (perf: the packing copy was a
 * fifth of a decode; 4 MB bands, the old size, spilled). */
#define NN_BAND_FLOATS (1u << 18)

/* Positions (columns of the im2col matrix) per band.  A multiple of the
 * widest panel, so that only the layer's last band ends in a partial panel
 * (bands of whole output rows, 70 positions a row on a tile, left a mostly
 * empty panel in every band: 140 positions = 5 panels of 32 for 4.4 full). */
static size_t band_cols(const nn_conv_shape *s, int B, int Ho, int Wo)
{
    size_t N = (size_t)B * Ho * Wo, K = (size_t)s->cin * s->k * s->k;
    if (B > 1 || K == 0)
        return N;
    size_t n = NN_BAND_FLOATS / K / NN_NR_MAX * NN_NR_MAX;
    if (n < NN_NR_MAX)
        n = NN_NR_MAX;
    return n < N ? n : N;
}

/* A batch's wide 3x3 layers (the trainer's) go by Winograd's F(2x2, 3x3),
 * forward and backward: 16 multiply-adds per 2x2 outputs and channel pair
 * instead of 36 (nn/winograd.h).  One image's go forward by it too
 * (nn_conv_forward_rows_at). */
static int by_winograd(const nn_conv_shape *s, int B)
{
    return B > 1 && nn_wino_supported(s);
}

size_t nn_conv_scratch_floats(const nn_conv_shape *s, int B, int H, int W)
{
    if (is_pointwise(s))
        return 0;
    int Ho = nn_conv_out_dim(H, s->k, s->stride, s->pad);
    int Wo = nn_conv_out_dim(W, s->k, s->stride, s->pad);
    size_t n = (size_t)s->cin * s->k * s->k * band_cols(s, B, Ho, Wo);
    if (by_winograd(s, B) && nn_wino_backward_floats(s, B, H, W) > n)
        n = nn_wino_backward_floats(s, B, H, W);
    if (B == 1 && nn_wino_supported(s) && nn_wino_rows_floats(s, H, W) > n)
        n = nn_wino_rows_floats(s, H, W);
    return n;
}

size_t nn_conv_forward_scratch_floats(const nn_conv_shape *s, int B, int H, int W)
{
    if (by_winograd(s, B))
        return nn_wino_forward_floats(s, B, H, W);
    if (B == 1 && nn_wino_supported(s))
        return nn_wino_rows_floats(s, H, W);
    if (is_conv3_same(s) && nn_dsp_active()->pack_conv3)
        return 0;
    return nn_conv_scratch_floats(s, B, H, W);
}

/* Stride 1: dst[ox] = row[ox + off] for ox0 <= ox < ox1, zero where that
 * falls outside the row (or everywhere when row is NULL). */
static void copy_shifted(const float *row, int W, int off, int ox0, int ox1, float *dst)
{
    int lo = ox0, hi = ox1;
    if (!row)
        lo = hi = ox1;
    lo = lo > -off ? lo : -off;
    hi = hi < W - off ? hi : W - off;
    hi = hi > lo ? hi : lo;
    for (int ox = ox0; ox < lo && ox < ox1; ox++)
        dst[ox] = 0.0f;
    if (hi > lo)
        memcpy(dst + lo, row + lo + off, (size_t)(hi - lo) * sizeof(float));
    for (int ox = hi > ox0 ? hi : ox0; ox < ox1; ox++)
        dst[ox] = 0.0f;
}

/* One row piece of im2col: d[ox - ox0] = in_row[ox*stride + kx - pad] for
 * ox0 <= ox < ox1 (zero outside the row, or everywhere when row is NULL). */
static void gather_row(const nn_conv_shape *s, int W, const float *row, int kx, int ox0,
                       int ox1, float *d)
{
    if (s->stride == 1) {
        copy_shifted(row, W, kx - s->pad, ox0, ox1, d - ox0);
        return;
    }
    for (int ox = ox0; ox < ox1; ox++) {
        int ix = ox * s->stride + kx - s->pad;
        d[ox - ox0] = row && ix >= 0 && ix < W ? row[ix] : 0.0f;
    }
}

/* A run of output positions on one output row: p = at + p0 .. for ox in
 * [ox0, ox1) of row oy of batch item b. */
typedef struct {
    int b, oy, ox0, ox1;
    size_t at;
} out_run;

/* Up to RUNS runs of the positions q0..p1-1, p = (b*Ho + oy)*Wo + ox, their
 * `at` counted from p0: computed once per band instead of once per im2col
 * row (two divisions a run, each row).  Returns where the runs end. */
#define RUNS 64
static size_t out_runs(int Ho, int Wo, size_t p0, size_t q0, size_t p1, out_run *r,
                       long *count)
{
    size_t p = q0;
    for (*count = 0; p < p1 && *count < RUNS; ++*count) {
        out_run *u = &r[*count];
        size_t row_index = p / (size_t)Wo;
        u->ox0 = (int)(p % (size_t)Wo);
        u->b = (int)(row_index / (size_t)Ho);
        u->oy = (int)(row_index % (size_t)Ho);
        u->ox1 = p1 - p < (size_t)(Wo - u->ox0) ? u->ox0 + (int)(p1 - p) : Wo;
        u->at = p - p0;
        p += (size_t)(u->ox1 - u->ox0);
    }
    return p;
}

/* cols[(ci*k+ky)*k+kx][p - p0] = in[ci][b][oy*stride+ky-pad][ox*stride+kx-pad]
 * for the output positions of the runs (zero outside the image). */
static void im2col(const nn_conv_shape *s, int B, int H, int W, const float *in,
                   const out_run *runs, long nruns, size_t n, float *cols)
{
    int k = s->k;
#pragma omp parallel for collapse(2) schedule(static) if (nn_may_fork((double)n * s->cin * k * k))
    for (int ci = 0; ci < s->cin; ci++)
        for (int kk = 0; kk < k * k; kk++) {
            int ky = kk / k, kx = kk % k;
            float *dst = cols + ((size_t)ci * k * k + kk) * n;
            for (long i = 0; i < nruns; i++) {
                const out_run *u = &runs[i];
                int iy = u->oy * s->stride + ky - s->pad;
                const float *row =
                    iy < 0 || iy >= H ? NULL : in + (((size_t)ci * B + u->b) * H + iy) * W;
                gather_row(s, W, row, kx, u->ox0, u->ox1, dst + u->at);
            }
        }
}

/* The adjoint of im2col: adds the column gradients of the runs' positions
 * back onto the input gradient. */
static void col2im(const nn_conv_shape *s, int B, int H, int W, const float *cols,
                   const out_run *runs, long nruns, size_t n, float *din)
{
    int k = s->k;
    /* Parallel over input channels: each thread owns whole input planes. */
#pragma omp parallel for schedule(static) if (nn_may_fork((double)n * s->cin * k * k))
    for (int ci = 0; ci < s->cin; ci++)
        for (int kk = 0; kk < k * k; kk++) {
            int ky = kk / k, kx = kk % k;
            const float *src = cols + ((size_t)ci * k * k + kk) * n;
            for (long i = 0; i < nruns; i++) {
                const out_run *u = &runs[i];
                int iy = u->oy * s->stride + ky - s->pad;
                if (iy < 0 || iy >= H)
                    continue;
                const float *c = src + u->at - u->ox0;
                float *row = din + (((size_t)ci * B + u->b) * H + iy) * W;
                for (int ox = u->ox0; ox < u->ox1; ox++) {
                    int ix = ox * s->stride + kx - s->pad;
                    if (ix >= 0 && ix < W)
                        row[ix] += c[ox];
                }
            }
        }
}

/* im2col (from = the input, to = the matrix) or, adjoint, col2im (from =
 * the matrix, to = the input gradient) of the positions p0..p1-1, RUNS
 * output rows at a time (a band of a single image is a few rows: one go). */
static void band_by_runs(const nn_conv_shape *s, int B, int H, int W, size_t p0, size_t p1,
                         const float *from, float *to, int adjoint)
{
    int Ho = nn_conv_out_dim(H, s->k, s->stride, s->pad),
        Wo = nn_conv_out_dim(W, s->k, s->stride, s->pad);
    out_run runs[RUNS];
    long nruns;
    for (size_t q0 = p0; q0 < p1;) {
        q0 = out_runs(Ho, Wo, p0, q0, p1, runs, &nruns);
        if (adjoint)
            col2im(s, B, H, W, from, runs, nruns, p1 - p0, to);
        else
            im2col(s, B, H, W, from, runs, nruns, p1 - p0, to);
    }
}

/* The im2col matrix of a convolution as a panel source (nn/gemm.h): each
 * panel is gathered from the input as im2col would have written it, so the
 * forward pass never stores the matrix (K times the output's positions)
 * and reads the input rows while they are in cache. */
typedef struct {
    nn_panel_source base;
    const nn_conv_shape *s;
    int B, H, W, Ho, Wo;
    const float *in;
} conv_source;

static void conv_pack(const nn_panel_source *src, int k0, int kc, int j0, int ncols, int nr,
                      float *Bp)
{
    const conv_source *cs = (const conv_source *)src;
    const nn_conv_shape *s = cs->s;
    int kk = s->k * s->k;
    out_run runs[RUNS]; /* a panel's columns: at most one run each */
    long nruns;
    out_runs(cs->Ho, cs->Wo, (size_t)j0, (size_t)j0, (size_t)j0 + ncols, runs, &nruns);
    /* Run by run, down the panel's rows: (ci, ky, kx) of row k advance
     * without a division per row. */
    for (long i = 0; i < nruns; i++) {
        const out_run *u = &runs[i];
        int ci = k0 / kk, ky = k0 % kk / s->k, kx = k0 % s->k;
        float *d = Bp + u->at;
        for (int k = 0; k < kc; k++, d += nr) {
            int iy = u->oy * s->stride + ky - s->pad;
            const float *row = iy < 0 || iy >= cs->H
                                   ? NULL
                                   : cs->in + (((size_t)ci * cs->B + u->b) * cs->H + iy) * cs->W;
            gather_row(s, cs->W, row, kx, u->ox0, u->ox1, d);
            if (++kx == s->k) {
                kx = 0;
                if (++ky == s->k)
                    ky = 0, ci++;
            }
        }
    }
    if (ncols < nr) /* the last panel: zero columns past the matrix */
        for (int k = 0; k < kc; k++)
            memset(Bp + (size_t)k * nr + ncols, 0, (size_t)(nr - ncols) * sizeof(float));
}

/* The im2col matrix of the output positions from p0 on, as the rows of
 * B in a weight gradient's dW += dY * cols^T (nn/gemm.h): row j = (ci*k +
 * ky)*k + kx, column q = position p0 + q, each a block of rows and a K
 * slice at a time, in the thread's cache. */
typedef struct {
    nn_row_source base;
    const nn_conv_shape *s;
    int B, H, W, Ho, Wo;
    size_t p0;
    const float *in;
} cols_source;

/* Stride 1, output rows y0..y1-1 of batch item b whole (Wo = W): the
 * im2col row of (ci, ky, kx) over them is the input's rows y0+ky-pad..
 * shifted by kx - pad, one copy for all of them, then zeros where a row
 * or a column falls outside the image. */
static void cols_whole_rows(const cols_source *cs, int ci, int ky, int kx, int b, int y0, int y1,
                            float *dst)
{
    const nn_conv_shape *s = cs->s;
    int W = cs->W, off = kx - s->pad, dy = ky - s->pad;
    int ya = y0 > -dy ? y0 : -dy, yb = y1 < cs->H - dy ? y1 : cs->H - dy;
    if (yb <= ya) {
        memset(dst, 0, (size_t)(y1 - y0) * W * sizeof(float));
        return;
    }
    memset(dst, 0, (size_t)(ya - y0) * W * sizeof(float));
    memset(dst + (size_t)(yb - y0) * W, 0, (size_t)(y1 - yb) * W * sizeof(float));
    const float *src = cs->in + (((size_t)ci * cs->B + b) * cs->H + ya + dy) * W;
    float *d = dst + (size_t)(ya - y0) * W;
    size_t n = (size_t)(yb - ya) * W;
    /* the elements of d that would read before or after the rows copied are
     * edge columns, zeroed below: copy only what lies inside */
    size_t lo = off < 0 ? (size_t)-off : 0, hi = off > 0 ? n - (size_t)off : n;
    if (hi > lo)
        memcpy(d + lo, src + lo + off, (hi - lo) * sizeof(float));
    for (int y = ya; y < yb; y++, d += W) {
        for (int x = 0; x < -off && x < W; x++)
            d[x] = 0.0f;
        for (int x = W - off > 0 ? W - off : 0; x < W; x++)
            d[x] = 0.0f;
    }
}

static void cols_rows(const nn_row_source *src, int j0, int nrows, int k0, int kc, float *Bb)
{
    const cols_source *cs = (const cols_source *)src;
    const nn_conv_shape *s = cs->s;
    int kk = s->k * s->k;
    size_t q = cs->p0 + (size_t)k0, end = q + (size_t)kc;
    out_run runs[RUNS];
    long nruns;
    int whole = s->stride == 1 && cs->Wo == cs->W && cs->Ho == cs->H;
    for (size_t at = q; at < end;) {
        at = out_runs(cs->Ho, cs->Wo, q, at, end, runs, &nruns);
        for (int r = 0; r < nrows; r++) {
            int j = j0 + r, ci = j / kk, ky = j % kk / s->k, kx = j % s->k;
            float *dst = Bb + (size_t)r * kc;
            for (long i = 0; i < nruns; i++) {
                const out_run *u = &runs[i];
                if (whole && u->ox0 == 0 && u->ox1 == cs->W) { /* and the whole rows after it */
                    long e = i + 1;
                    while (e < nruns && runs[e].b == u->b && runs[e].ox0 == 0 &&
                           runs[e].ox1 == cs->W)
                        e++;
                    cols_whole_rows(cs, ci, ky, kx, u->b, u->oy, u->oy + (int)(e - i), dst + u->at);
                    i = e - 1;
                    continue;
                }
                int iy = u->oy * s->stride + ky - s->pad;
                const float *row =
                    iy < 0 || iy >= cs->H
                        ? NULL
                        : cs->in + (((size_t)ci * cs->B + u->b) * cs->H + iy) * cs->W;
                gather_row(s, cs->W, row, kx, u->ox0, u->ox1, dst + u->at);
            }
        }
    }
}

/* A 3x3 same convolution with few outputs and one K slice: the path's
 * conv3_row (nn/dsp.h) on each output row, when it has one. */
static int few_outputs(const nn_conv_shape *s)
{
    return s->k == 3 && s->stride == 1 && s->pad == 1 && s->cout <= NN_CONV3_MAX_OUT &&
           s->cin * 9 <= NN_KC;
}

/* w [cout][K] -> wt [K][cout], the layout conv3_row reads. */
static void conv3_transpose(const nn_conv_shape *s, const float *w, float *wt)
{
    int K = s->cin * 9;
    for (int o = 0; o < s->cout; o++)
        for (int k = 0; k < K; k++)
            wt[k * s->cout + o] = w[(long)o * K + k];
}

/* Output rows y0..y1-1 of every item (0..H-1 for a whole batch). */
static void conv3_rows(nn_conv3_row_fn row, const nn_conv_shape *s, int B, int H, int W,
                       const float *in, const float *w, const float *b, float *out, int relu,
                       int y0, int y1)
{
    static const float no_bias[NN_CONV3_MAX_OUT];
    long plane = (long)B * H * W; /* channel stride of [C][B][H][W] */
    int K = s->cin * 9;
    double work = (double)plane * s->cout * K;
    float wt[NN_KC * NN_CONV3_MAX_OUT]; /* [K][cout] */
    conv3_transpose(s, w, wt);
#pragma omp parallel for schedule(static) if (B > 1 && nn_may_fork(work))
    for (long r = 0; r < (long)B * H; r++) { /* output row y of item r / H */
        int y = (int)(r % H);
        if (y < y0 || y >= y1)
            continue;
        const float *rows[NN_KC / 3];
        for (int i = 0; i < s->cin; i++)
            for (int ky = 0; ky < 3; ky++) {
                int yy = y + ky - 1;
                rows[i * 3 + ky] = yy < 0 || yy >= H ? NULL : in + i * plane + (r - y + yy) * W;
            }
        row(s->cout, s->cin, W, rows, wt, b ? b : no_bias, out + r * W, plane, relu);
    }
}

int nn_conv3_row_supported(const nn_conv_shape *s)
{
    return nn_dsp_active()->conv3_row && s->k == 3 && s->stride == 1 && s->pad == 1 &&
           s->cout <= NN_CONV3_ROW_MAX_OUT && s->cin * 9 <= NN_KC;
}

/* Group g (outputs 16g ..) at wt + 16g * K, in conv3_row's [K][group] order. */
void nn_conv3_row_prepare(const nn_conv_shape *s, const float *w, float *wt)
{
    int K = s->cin * 9;
    for (int o0 = 0; o0 < s->cout; o0 += NN_CONV3_MAX_OUT) {
        nn_conv_shape g = *s;
        g.cout = s->cout - o0 < NN_CONV3_MAX_OUT ? s->cout - o0 : NN_CONV3_MAX_OUT;
        conv3_transpose(&g, w + (size_t)o0 * K, wt + (size_t)o0 * K);
    }
}

void nn_conv3_row_out(const nn_conv_shape *s, const float *wt, const float *b, int W,
                      const float *const *rows, float *out, int relu)
{
    static const float no_bias[NN_CONV3_MAX_OUT];
    nn_conv3_row_fn row = nn_dsp_active()->conv3_row;
    int K = s->cin * 9;
    for (int o0 = 0; o0 < s->cout; o0 += NN_CONV3_MAX_OUT) {
        int n = s->cout - o0 < NN_CONV3_MAX_OUT ? s->cout - o0 : NN_CONV3_MAX_OUT;
        row(n, s->cin, W, rows, wt + (size_t)o0 * K, b ? b + o0 : no_bias, out + (size_t)o0 * W,
            W, relu);
    }
}

_Static_assert(NN_CONV3_PAIR_MAX_MID * 9 <= NN_KC, "the pair's second layer in one K slice");
int nn_conv3_pair_supported(const nn_conv_shape *first, const nn_conv_shape *second)
{
    return nn_dsp_active()->conv3_row && is_conv3_same(first) && first->cin * 9 <= NN_KC &&
           first->cout <= NN_CONV3_PAIR_MAX_MID && few_outputs(second) &&
           second->cin == first->cout;
}

/* Where the pair's input rows come from: a planar [cin][B][H][W] tensor, or
 * a filler writing each row once into a ring of three. */
typedef struct {
    const float *in; /* planar input, or NULL: fill into in_ring */
    long plane;
    nn_row_fill_fn fill;
    void *ctx;
    float *in_ring; /* 3 slots of [cin][W] */
    int cin, W, filled; /* rows of the current item filled so far */
} pair_input;

/* Input row yy (0 <= yy < H) of item b, channel i. */
static const float *pair_row(pair_input *s, int b, int H, int yy, int i)
{
    if (s->in)
        return s->in + i * s->plane + ((long)b * H + yy) * s->W;
    size_t slot = (size_t)s->cin * s->W;
    for (; s->filled <= yy; s->filled++)
        s->fill(s->ctx, b, s->filled, s->in_ring + (size_t)(s->filled % 3) * slot, s->W);
    return s->in_ring + (size_t)(yy % 3) * slot + (size_t)i * s->W;
}

/* Row y of the second layer reads rows y-1..y+1 of the first: the first
 * layer runs one row ahead of the second, into ring slot (row % 3); it
 * reads input rows up to y+2, so a filled input ring still holds row y
 * (for the residual) when the second layer's row y is done. */
static void conv3_pair(const nn_conv_shape *first, const nn_conv_shape *second, int B, int H,
                       int W, pair_input *src, const float *w1, const float *b1, const float *w2,
                       const float *b2, float *ring, float *out, int residual, int y0, int y1)
{
    static const float no_bias[NN_CONV3_MAX_OUT];
    nn_conv3_row_fn row = nn_dsp_active()->conv3_row;
    long plane = (long)B * H * W;
    size_t slot = (size_t)first->cout * W; /* one row of the first layer: [cout][W] */
    int K1 = first->cin * 9;
    float wt1[NN_KC * NN_CONV3_PAIR_MAX_MID], wt2[NN_KC * NN_CONV3_MAX_OUT];
    nn_conv3_row_prepare(first, w1, wt1); /* in groups of NN_CONV3_MAX_OUT outputs */
    conv3_transpose(second, w2, wt2);
    const float *rows[NN_KC / 3];
    for (int b = 0; b < B; b++) {
        long item = (long)b * H; /* row index of the item's first row */
        /* rows of the first layer done for this item, and of its input
         * filled: from what output row y0 reads */
        int ahead = y0 > 1 ? y0 - 1 : 0;
        src->filled = y0 > 2 ? y0 - 2 : 0;
        for (int y = y0; y < y1; y++) {
            for (; ahead < H && ahead <= y + 1; ahead++) {
                for (int i = 0; i < first->cin; i++)
                    for (int ky = 0; ky < 3; ky++) {
                        int yy = ahead + ky - 1;
                        rows[i * 3 + ky] = yy < 0 || yy >= H ? NULL : pair_row(src, b, H, yy, i);
                    }
                for (int o0 = 0; o0 < first->cout; o0 += NN_CONV3_MAX_OUT)
                    row(first->cout - o0 < NN_CONV3_MAX_OUT ? first->cout - o0 : NN_CONV3_MAX_OUT,
                        first->cin, W, rows, wt1 + (size_t)o0 * K1, b1 ? b1 + o0 : no_bias,
                        ring + (size_t)(ahead % 3) * slot + (size_t)o0 * W, W, 1);
            }
            for (int i = 0; i < second->cin; i++)
                for (int ky = 0; ky < 3; ky++) {
                    int yy = y + ky - 1;
                    rows[i * 3 + ky] =
                        yy < 0 || yy >= H ? NULL : ring + (size_t)(yy % 3) * slot + (size_t)i * W;
                }
            float *o = out + (item + y) * W;
            row(second->cout, second->cin, W, rows, wt2, b2 ? b2 : no_bias, o, plane, 0);
            for (int c = 0; residual >= 0 && c < second->cout; c++) {
                const float *r = pair_row(src, b, H, y, residual + c);
                for (int x = 0; x < W; x++)
                    o[c * plane + x] += r[x];
            }
        }
    }
}

void nn_conv3_pair_forward(const nn_conv_shape *first, const nn_conv_shape *second, int B, int H,
                           int W, const float *in, const float *w1, const float *b1,
                           const float *w2, const float *b2, float *ring, float *out)
{
    pair_input src = {in, (long)B * H * W, NULL, NULL, NULL, first->cin, W, 0};
    conv3_pair(first, second, B, H, W, &src, w1, b1, w2, b2, ring, out, -1, 0, H);
}

void nn_conv3_pair_rows(const nn_conv_shape *first, const nn_conv_shape *second, int B, int H,
                        int W, nn_row_fill_fn fill, void *ctx, float *in_ring, const float *w1,
                        const float *b1, const float *w2, const float *b2, float *ring,
                        float *out, int residual, int y0, int y1)
{
    pair_input src = {NULL, 0, fill, ctx, in_ring, first->cin, W, 0};
    if (B > 1)
        y0 = 0, y1 = H;
    conv3_pair(first, second, B, H, W, &src, w1, b1, w2, b2, ring, out, residual, y0, y1);
}

/* A 3x3 same convolution's im2col matrix as a panel source whose panels
 * the path packs straight from the input (nn_dsp's pack_conv3). */
typedef struct {
    nn_panel_source base;
    nn_pack_conv3_fn pack_conv3;
    int B, H, W;
    const float *in;
    int j_base; /* the position of the product's first column */
} conv3_source;

static void conv3_pack(const nn_panel_source *src, int k0, int kc, int j0, int ncols, int nr,
                       float *Bp)
{
    const conv3_source *cs = (const conv3_source *)src;
    (void)nr; /* the path's own */
    cs->pack_conv3(cs->in, cs->B, cs->H, cs->W, k0, kc, cs->j_base + j0, ncols, Bp);
}

void nn_conv_forward_rows(const nn_conv_shape *s, int B, int H, int W, const float *in,
                          const float *w, const float *b, float *out, float *scratch, int relu,
                          int y0, int y1)
{
    nn_conv_forward_rows_at(s, B, H, W, 0, 0, in, w, NULL, b, out, scratch, relu, y0, y1);
}

void nn_conv_forward_rows_at(const nn_conv_shape *s, int B, int H, int W, int px, int py,
                             const float *in, const float *w, const float *U, const float *b,
                             float *out, float *scratch, int relu, int y0, int y1)
{
    if (B > 1)
        y0 = 0, y1 = nn_conv_out_dim(H, s->k, s->stride, s->pad);
    if (by_winograd(s, B)) {
        nn_wino_forward(s, B, H, W, in, w, b, out, relu, scratch);
        return;
    }
    /* One image's wide layers (the codec's 1/8-grid layers) by Winograd
     * too, unless the caller says NN_DIRECT, with the grid's origin parity
     * so that a cell's or a band's values are the whole image's.  Without
     * the caller's U the weights are transformed here (a few tenths of a
     * millisecond a layer of 128 x 128, against 16/36 of its
     * multiply-adds), into a buffer of their own, not the scratch: the
     * scratch is part of the activations' arena, whose every page is
     * faulted in at its start, and a small picture (NN_DIRECT) should not
     * pay for a megabyte it never uses. */
    if (B == 1 && px >= 0 && nn_wino_supported(s)) {
        float *own = U ? NULL : malloc(sizeof(float) * nn_wino_weights_floats(s));
        if (own)
            nn_wino_weights(s, w, own);
        if (U || own) { /* without memory, the direct convolution: the same values to rounding */
            nn_wino_forward_rows(s, H, W, px, py, in, U ? U : own, b, out, relu, y0, y1, scratch);
            free(own);
            return;
        }
    }
    nn_conv3_row_fn row = nn_dsp_active()->conv3_row;
    if (row && few_outputs(s)) {
        conv3_rows(row, s, B, H, W, in, w, b, out, relu, y0, y1);
        return;
    }
    int Ho = nn_conv_out_dim(H, s->k, s->stride, s->pad),
        Wo = nn_conv_out_dim(W, s->k, s->stride, s->pad);
    int N = B * Ho * Wo, K = s->cin * s->k * s->k;
    int p0 = y0 * Wo, n = B > 1 ? N : (y1 - y0) * Wo; /* the rows' positions */
    if (n <= 0)
        return;
    /* The bias is where the sums start and the ReLU where they end, both in
     * the GEMM's epilogue: no pass over out of their own. */
    if (is_pointwise(s)) {
        nn_gemm_nn_bias(s->cout, n, K, w, K, in + p0, N, out + p0, N, b, relu);
        return;
    }
    /* Every layer of the models (3x3, stride 1, padding 1): the path packs
     * each panel straight from the input, one masked load per run of the
     * panel's columns, with no im2col matrix written and read back (a
     * tenth of a decode, bench/NOTES.md). */
    nn_pack_conv3_fn pack3 = nn_dsp_active()->pack_conv3;
    if (pack3 && is_conv3_same(s)) {
        conv3_source src = {{conv3_pack}, pack3, B, H, W, in, p0};
        nn_gemm_source_bias(s->cout, n, K, w, K, &src.base, out + p0, N, b, relu);
        return;
    }
    /* Other shapes.  A batch: panels gathered from the input, as its im2col
     * matrix (K x every position of the batch) would be far beyond the
     * caches.  A single grid: im2col a band at a time, which stays in L2
     * and is packed with the path's vector loads; measured faster there
     * than gathering (bench/NOTES.md). */
    if (B > 1) {
        conv_source src = {{conv_pack}, s, B, H, W, Ho, Wo, in};
        nn_gemm_source_bias(s->cout, N, K, w, K, &src.base, out, N, b, relu);
        return;
    }
    size_t band = band_cols(s, B, Ho, Wo);
    for (size_t q0 = (size_t)p0; q0 < (size_t)p0 + n; q0 += band) {
        size_t q1 = q0 + band < (size_t)p0 + n ? q0 + band : (size_t)p0 + n;
        int m = (int)(q1 - q0);
        band_by_runs(s, B, H, W, q0, q1, in, scratch, 0);
        nn_gemm_nn_bias(s->cout, m, K, w, K, scratch, m, out + q0, N, b, relu);
    }
}

void nn_conv_forward_act(const nn_conv_shape *s, int B, int H, int W, const float *in,
                         const float *w, const float *b, float *out, float *scratch, int relu)
{
    nn_conv_forward_rows(s, B, H, W, in, w, b, out, scratch, relu, 0,
                         nn_conv_out_dim(H, s->k, s->stride, s->pad));
}

void nn_conv_forward(const nn_conv_shape *s, int B, int H, int W, const float *in,
                     const float *w, const float *b, float *out, float *scratch)
{
    nn_conv_forward_act(s, B, H, W, in, w, b, out, scratch, 0);
}

/* A stride-1 convolution that keeps the size (pad = k/2, k odd) has as
 * input gradient the convolution of dout with the weights transposed and
 * turned half a turn: din[ci] = sum over co of conv(dout[co],
 * w[co][ci] flipped).  Computed so, its panels are gathered from dout
 * (conv_source) instead of a K x N matrix written by a product and
 * scattered back by col2im.  Returns 1 when it did, 0 when the shape (or
 * memory for the turned weights) does not allow it. */
static int din_as_convolution(const nn_conv_shape *s, int B, int H, int W, const float *w,
                              const float *dout, float *din)
{
    int k = s->k, kk = k * k;
    if (s->stride != 1 || k % 2 == 0 || s->pad != k / 2)
        return 0;
    float *wt = malloc(sizeof(float) * (size_t)s->cin * s->cout * kk); /* [cin][cout][k][k] */
    if (!wt)
        return 0;
    for (int co = 0; co < s->cout; co++)
        for (int ci = 0; ci < s->cin; ci++)
            for (int t = 0; t < kk; t++)
                wt[((size_t)ci * s->cout + co) * kk + t] =
                    w[((size_t)co * s->cin + ci) * kk + (kk - 1 - t)];
    nn_conv_shape back = {s->cout, s->cin, k, 1, s->pad};
    nn_conv3_row_fn row = nn_dsp_active()->conv3_row;
    nn_pack_conv3_fn pack3 = nn_dsp_active()->pack_conv3;
    if (row && few_outputs(&back)) {
        conv3_rows(row, &back, B, H, W, dout, wt, NULL, din, 0, 0, H);
    } else if (pack3 && is_conv3_same(&back)) {
        conv3_source src = {{conv3_pack}, pack3, B, H, W, dout, 0};
        nn_gemm_source_bias(s->cin, B * H * W, s->cout * kk, wt, s->cout * kk, &src.base, din,
                            B * H * W, NULL, 0);
    } else {
        conv_source src = {{conv_pack}, &back, B, H, W, H, W, dout};
        nn_gemm_source_bias(s->cin, B * H * W, s->cout * kk, wt, s->cout * kk, &src.base, din,
                            B * H * W, NULL, 0);
    }
    free(wt);
    return 1;
}

/* The sum of d[0..n) in doubles, in a fixed order that does not depend on
 * the thread count: 8 running sums (element i in sum i % 8, the tail in
 * the first ones), added pairwise at the end.  Independent chains, so the
 * compiler keeps them in one vector instead of waiting on one add at a
 * time. */
static double channel_sum(const float *d, size_t n)
{
    double part[8] = {0};
    size_t i = 0;
    for (; i + 8 <= n; i += 8)
        for (int j = 0; j < 8; j++)
            part[j] += d[i + j];
    for (int j = 0; i < n; i++, j++)
        part[j] += d[i];
    return ((part[0] + part[1]) + (part[2] + part[3])) + ((part[4] + part[5]) + (part[6] + part[7]));
}

void nn_conv_backward(const nn_conv_shape *s, int B, int H, int W, const float *in,
                      const float *w, const float *dout, float *dw, float *db, float *din,
                      float *scratch)
{
    int Ho = nn_conv_out_dim(H, s->k, s->stride, s->pad),
        Wo = nn_conv_out_dim(W, s->k, s->stride, s->pad);
    int N = B * Ho * Wo, K = s->cin * s->k * s->k;
    if (db) /* each channel's sum by one thread: the same bits whatever the threads */
#pragma omp parallel for schedule(static) if (nn_may_fork_pass((size_t)s->cout * N))
        for (int co = 0; co < s->cout; co++)
            db[co] += (float)channel_sum(dout + (size_t)co * N, (size_t)N);
    if (by_winograd(s, B)) {
        nn_wino_backward(s, B, H, W, in, w, dout, dw, din, scratch);
        return;
    }
    if (is_pointwise(s)) {
        if (dw) /* dW[cout][cin] += dout[cout][N] * in[cin][N]^T */
            nn_gemm_nt(s->cout, K, N, dout, N, in, N, dw, K, 1);
        if (din) /* din[cin][N] = W^T * dout */
            nn_gemm_tn(s->cin, N, s->cout, w, K, dout, N, din, N, 0);
        return;
    }
    if (din && din_as_convolution(s, B, H, W, w, dout, din))
        din = NULL; /* done */
    if (din) {
        size_t plane = (size_t)B * H * W;
#pragma omp parallel for schedule(static) if (nn_may_fork_pass(s->cin * plane))
        for (int ci = 0; ci < s->cin; ci++)
            memset(din + ci * plane, 0, plane * sizeof(float));
    }
    size_t band = band_cols(s, B, Ho, Wo);
    for (size_t p0 = 0; p0 < (size_t)N; p0 += band) { /* one band when B > 1 */
        size_t p1 = p0 + band < (size_t)N ? p0 + band : (size_t)N;
        int n = (int)(p1 - p0);
        const float *d = dout + p0;
        cols_source cols = {{cols_rows}, s, B, H, W, Ho, Wo, p0, in};
        if (dw && nn_gemm_nt_rows(s->cout, K, n, d, N, &cols.base, dw, K) != 0) {
            band_by_runs(s, B, H, W, p0, p1, in, scratch, 0); /* without memory: stored */
            nn_gemm_nt(s->cout, K, n, d, N, scratch, n, dw, K, 1);
        }
        if (din) {
            nn_gemm_tn(K, n, s->cout, w, K, d, N, scratch, n, 0);
            band_by_runs(s, B, H, W, p0, p1, scratch, din, 1);
        }
    }
}

void nn_conv_forward_reference(const nn_conv_shape *s, int B, int H, int W, const float *in,
                               const float *w, const float *b, float *out)
{
    int k = s->k, Ho = nn_conv_out_dim(H, k, s->stride, s->pad),
        Wo = nn_conv_out_dim(W, k, s->stride, s->pad);
    for (int co = 0; co < s->cout; co++)
        for (int bi = 0; bi < B; bi++)
            for (int oy = 0; oy < Ho; oy++)
                for (int ox = 0; ox < Wo; ox++) {
                    double sum = b ? b[co] : 0.0;
                    for (int ci = 0; ci < s->cin; ci++)
                        for (int ky = 0; ky < k; ky++)
                            for (int kx = 0; kx < k; kx++) {
                                int iy = oy * s->stride + ky - s->pad;
                                int ix = ox * s->stride + kx - s->pad;
                                if (iy < 0 || iy >= H || ix < 0 || ix >= W)
                                    continue;
                                sum += (double)w[((size_t)(co * s->cin + ci) * k + ky) * k + kx] *
                                       in[(((size_t)ci * B + bi) * H + iy) * W + ix];
                            }
                    out[(((size_t)co * B + bi) * Ho + oy) * Wo + ox] = (float)sum;
                }
}

void nn_relu_forward(float *x, size_t n)
{
    for (size_t i = 0; i < n; i++)
        x[i] = x[i] > 0.0f ? x[i] : 0.0f;
}

void nn_relu_backward(const float *y, float *dy, size_t n)
{
#pragma omp parallel for schedule(static) if (nn_may_fork_pass(n))
    for (size_t i = 0; i < n; i++)
        if (y[i] <= 0.0f)
            dy[i] = 0.0f;
}

void nn_relu_backward_bias(const float *y, float *dy, int C, size_t n, float *db)
{
    /* each channel by one thread: the sums of nn_conv_backward */
#pragma omp parallel for schedule(static) if (nn_may_fork_pass((size_t)C * n))
    for (int c = 0; c < C; c++) {
        const float *yc = y + (size_t)c * n;
        float *d = dy + (size_t)c * n;
        for (size_t i = 0; i < n; i++)
            if (yc[i] <= 0.0f)
                d[i] = 0.0f;
        db[c] += (float)channel_sum(d, n);
    }
}

void nn_space_to_depth(int C, int B, int H, int W, int P, const float *in, float *out)
{
    int Hs = H / P, Ws = W / P;
    for (int c = 0; c < C; c++)
        for (int dy = 0; dy < P; dy++)
            for (int dx = 0; dx < P; dx++) {
                int oc = (c * P + dy) * P + dx;
                for (int b = 0; b < B; b++)
                    for (int y = 0; y < Hs; y++) {
                        const float *src = in + (((size_t)c * B + b) * H + y * P + dy) * W + dx;
                        float *dst = out + (((size_t)oc * B + b) * Hs + y) * Ws;
                        for (int x = 0; x < Ws; x++)
                            dst[x] = src[x * P];
                    }
            }
}

void nn_depth_to_space(int C, int B, int H, int W, int P, const float *in, float *out)
{
    int Hs = H / P, Ws = W / P;
    for (int c = 0; c < C; c++)
        for (int dy = 0; dy < P; dy++)
            for (int dx = 0; dx < P; dx++) {
                int ic = (c * P + dy) * P + dx;
                for (int b = 0; b < B; b++)
                    for (int y = 0; y < Hs; y++) {
                        const float *src = in + (((size_t)ic * B + b) * Hs + y) * Ws;
                        float *dst = out + (((size_t)c * B + b) * H + y * P + dy) * W + dx;
                        for (int x = 0; x < Ws; x++)
                            dst[x * P] = src[x];
                    }
            }
}

void nn_depth_to_space_row(int C, int B, int H, int W, int P, const float *in, int b, int Y,
                           float *dst)
{
    int Hs = H / P, Ws = W / P, dy = Y % P;
    size_t plane = (size_t)B * Hs * Ws; /* from one input channel to the next */
    for (int c = 0; c < C; c++, dst += W) {
        const float *src = in + (size_t)(c * P + dy) * P * plane + ((size_t)b * Hs + Y / P) * Ws;
        if (P == 2) { /* the upsampling stages: two rows interleaved */
            for (int x = 0; x < Ws; x++)
                dst[2 * x] = src[x], dst[2 * x + 1] = src[plane + x];
        } else {
            for (int x = 0; x < Ws; x++)
                for (int dx = 0; dx < P; dx++)
                    dst[x * P + dx] = src[dx * plane + x];
        }
    }
}
