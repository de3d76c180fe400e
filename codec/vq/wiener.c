/* SPDX-License-Identifier: BSD-3-Clause */
/* wiener.c - the restoration filter's features, classes and output
 * (vq/wiener.h, spec/bitstream.md 6.11), shared by the encoder's fit and
 * the decoder.  Rows are worked whole, one tap at a time, so the loops over
 * a row vectorise. */
#include "vq/wiener.h"

#include "nn/dsp.h"

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#define R AEM_WIENER_RADIUS
#define ROWS (2 * R + 1)

const int8_t aem_wiener_offsets[AEM_WIENER_SPATIAL][2] = {
    {0, 1}, {0, 2}, {0, 3}, {1, -2}, {1, -1}, {1, 0},
    {1, 1}, {1, 2}, {2, -1}, {2, 0}, {2, 1}, {3, 0},
};

int aem_wiener_taps(int colours) { return AEM_WIENER_SPATIAL + 3 * (colours - 1) + 1; }

/* Padded rows: ROWS per colour, then 5 of g, then 3 of lap, each n + 2R
 * wide with column -R at index 0. */
/* Rolling rows: each colour's padded source rows (ROWS of them), 5 of g
 * and 3 of lap, each n + 2R wide with column x0 - R at index 0, kept in
 * slots by their (unclamped) row number, so that the next output row
 * computes one new row of each. */
static size_t rolling_bytes(uint32_t width, int colours)
{
    return (size_t)(colours * ROWS + 5 + 3) * ((size_t)width + 2 * R) * sizeof(int32_t);
}

typedef struct {
    const aem_wiener_source *s;
    uint32_t x0;
    size_t W;         /* n + 2R */
    size_t i0, i1;    /* padded columns whose source column is inside */
    int32_t *pad, *g, *lap;
    int64_t next_pad, next_g, next_lap; /* the rows to compute next */
} rolling;

static uint32_t clampu(int64_t v, uint32_t lo, uint32_t hi_excl)
{
    return v < (int64_t)lo ? lo : v >= (int64_t)hi_excl ? hi_excl - 1 : (uint32_t)v;
}

static size_t slot(int64_t row, int slots) { return (size_t)(((row % slots) + slots) % slots); }

static int32_t *pad_row(const rolling *r, int c, int64_t row)
{
    return r->pad + ((size_t)c * ROWS + slot(row, ROWS)) * r->W;
}
static int32_t *g_row(const rolling *r, int64_t row) { return r->g + slot(row, 5) * r->W; }
static int32_t *lap_row(const rolling *r, int64_t row) { return r->lap + slot(row, 3) * r->W; }

static void rolling_init(rolling *r, const aem_wiener_source *s, uint32_t x0, uint32_t n,
                         void *work)
{
    r->s = s, r->x0 = x0, r->W = (size_t)n + 2 * R;
    int64_t first = (int64_t)x0 - R;
    r->i0 = first < (int64_t)s->sx0 ? (size_t)((int64_t)s->sx0 - first) : 0;
    r->i1 = (size_t)((int64_t)s->sx1 - first) < r->W ? (size_t)((int64_t)s->sx1 - first) : r->W;
    r->pad = work, r->g = r->pad + (size_t)s->colours * ROWS * r->W, r->lap = r->g + 5 * r->W;
    r->next_pad = r->next_g = r->next_lap = INT64_MIN;
}

/* The source row `row` (clamped to the picture), its columns padded. */
static void make_pad(rolling *r, int64_t row)
{
    const aem_wiener_source *s = r->s;
    const size_t ch = (size_t)s->channels, W = r->W, i0 = r->i0, i1 = r->i1;
    const uint8_t *in = s->src + (size_t)(clampu(row, s->sy0, s->sy1) - s->sy0) * s->stride +
                        (size_t)((int64_t)r->x0 - R + (int64_t)i0 - (int64_t)s->sx0) * ch;
    for (int c = 0; c < s->colours; c++) {
        int32_t *p = pad_row(r, c, row);
        for (size_t i = i0; i < i1; i++)
            p[i] = in[(i - i0) * ch + (size_t)c];
        for (size_t i = 0; i < i0; i++) /* the picture's edges repeated */
            p[i] = p[i0];
        for (size_t i = i1; i < W; i++)
            p[i] = p[i1 - 1];
    }
}

static void make_g(rolling *r, int64_t row)
{
    int32_t *g = g_row(r, row);
    const int32_t *p0 = pad_row(r, 0, row);
    if (r->s->colours == 1) {
        for (size_t i = 0; i < r->W; i++)
            g[i] = p0[i];
        return;
    }
    const int32_t *p1 = pad_row(r, 1, row), *p2 = pad_row(r, 2, row);
    for (size_t i = 0; i < r->W; i++)
        g[i] = (p0[i] + 2 * p1[i] + p2[i] + 2) >> 2;
}

static void make_lap(rolling *r, int64_t row)
{
    const int32_t *gu = g_row(r, row - 1), *gc = g_row(r, row), *gd = g_row(r, row + 1);
    int32_t *l = lap_row(r, row);
    l[0] = l[r->W - 1] = 0;
    for (size_t i = 1; i + 1 < r->W; i++) {
        int32_t v = 4 * gc[i] - gc[i - 1] - gc[i + 1] - gu[i] - gd[i];
        l[i] = v < 0 ? -v : v;
    }
}

/* Brings the rows output row y reads up: pads y-R..y+R, g y-2..y+2, lap
 * y-1..y+1 (only those not made for the row before). */
static void rolling_to(rolling *r, int64_t y)
{
    int64_t from = r->next_pad > y - R ? r->next_pad : y - R;
    for (int64_t v = from; v <= y + R; v++)
        make_pad(r, v);
    from = r->next_g > y - 2 ? r->next_g : y - 2;
    for (int64_t v = from; v <= y + 2; v++)
        make_g(r, v);
    from = r->next_lap > y - 1 ? r->next_lap : y - 1;
    for (int64_t v = from; v <= y + 1; v++)
        make_lap(r, v);
    r->next_pad = y + R + 1, r->next_g = y + 3, r->next_lap = y + 2;
}

/* Output row y's features f[colour][tap][n] and activities act[n]. */
/* Output row y's activities act[n]: the 3x3 sums of lap. */
static void row_activity(const rolling *r, int64_t y, uint32_t n, int32_t *act)
{
    const int32_t *l0 = lap_row(r, y - 1) + R, *l1 = lap_row(r, y) + R, *l2 = lap_row(r, y + 1) + R;
    for (ptrdiff_t x = 0; x < (ptrdiff_t)n; x++)
        act[x] = l0[x - 1] + l0[x] + l0[x + 1] + l1[x - 1] + l1[x] + l1[x + 1] + l2[x - 1] +
                 l2[x] + l2[x + 1];
}

/* Output row y's features f[colour][tap][n] and activities act[n] (the
 * encoder's fit; the filter makes the taps on the fly, nn_dsp.wiener_row). */
static void row_features(const rolling *r, int64_t y, uint32_t n, int32_t *f, int32_t *act)
{
    const int C = r->s->colours, T = aem_wiener_taps(C);
    row_activity(r, y, n, act);
    for (int c = 0; c < C; c++) {
        const int32_t *pc = pad_row(r, c, y) + R; /* row y, column x0 */
        int32_t *fc = f + (size_t)c * T * n;
        for (int t = 0; t < AEM_WIENER_SPATIAL; t++) {
            int dy = aem_wiener_offsets[t][0], dx = aem_wiener_offsets[t][1];
            const int32_t *down = pad_row(r, c, y + dy) + R + dx, *up = pad_row(r, c, y - dy) + R - dx;
            int32_t *ft = fc + (size_t)t * n;
            for (uint32_t x = 0; x < n; x++)
                ft[x] = down[x] + up[x] - 2 * pc[x];
        }
        int t = AEM_WIENER_SPATIAL;
        for (int e = 0; e < C; e++) {
            if (e == c)
                continue;
            const int32_t *pe = pad_row(r, e, y) + R, *pd = pad_row(r, e, y + 1) + R,
                          *pu = pad_row(r, e, y - 1) + R;
            int32_t *f0 = fc + (size_t)t * n, *f1 = f0 + n, *f2 = f1 + n;
            for (ptrdiff_t x = 0; x < (ptrdiff_t)n; x++) {
                f0[x] = pe[x] - pc[x];
                f1[x] = pe[x + 1] + pe[x - 1] - 2 * pe[x];
                f2[x] = pd[x] + pu[x] - 2 * pe[x];
            }
            t += 3;
        }
        int32_t *fb = fc + (size_t)t * n;
        for (uint32_t x = 0; x < n; x++)
            fb[x] = 1;
    }
}

/* Bytes of aem_wiener_rows' buffers: the features and activities of a
 * row, then the rolling rows. */
static size_t rows_bytes(uint32_t n, int colours)
{
    return ((size_t)colours * (size_t)aem_wiener_taps(colours) + 1) * n * sizeof(int32_t) +
           rolling_bytes(n, colours);
}

static void rows_in(const aem_wiener_source *s, uint32_t x0, uint32_t n, uint32_t y0,
                    uint32_t y1, aem_wiener_row_fn fn, void *ctx, void *buffers)
{
    const int C = s->colours, T = aem_wiener_taps(C);
    int32_t *f = buffers, *act = f + (size_t)C * T * n;
    rolling r;
    rolling_init(&r, s, x0, n, act + n);
    for (uint32_t y = y0; y < y1; y++) {
        rolling_to(&r, y);
        row_features(&r, y, n, f, act);
        fn(ctx, y, f, act);
    }
}

int aem_wiener_rows(const aem_wiener_source *s, uint32_t x0, uint32_t n, uint32_t y0,
                    uint32_t y1, aem_wiener_row_fn fn, void *ctx)
{
    void *buffers = malloc(rows_bytes(n, s->colours));
    if (!buffers)
        return -1;
    rows_in(s, x0, n, y0, y1, fn, ctx, buffers);
    free(buffers);
    return 0;
}

/* floor(v / 256), for either sign */
static int32_t floor_shift(int32_t v)
{
    return v >= 0 ? v >> AEM_WIENER_SHIFT : -((-v + (1 << AEM_WIENER_SHIFT) - 1) >> AEM_WIENER_SHIFT);
}

/* Output row y of the filter into dst (the source's layout), from the
 * rolling rows: the classes, then each colour's sums by nn_dsp.wiener_row
 * (cls and acc: n each), rounded and added. */
static void filter_row(const aem_wiener *wf, const rolling *r, const nn_dsp *dsp, int64_t y,
                       uint32_t n, int32_t *act, int32_t *cls, int32_t *acc, uint8_t *dst)
{
    const aem_wiener_source *s = r->s;
    const int C = s->colours, K = wf->classes;
    const size_t ch = (size_t)s->channels;
    row_activity(r, y, n, act);
    for (size_t x = 0; x < n; x++) {
        int32_t k = 0;
        for (int t = 0; t + 1 < K; t++)
            k += act[x] >= (int32_t)wf->threshold[t];
        cls[x] = k;
    }
    const uint8_t *src = s->src + (size_t)(y - s->sy0) * s->stride + (size_t)(r->x0 - s->sx0) * ch;
    for (size_t c = 0; c < ch; c++) {
        if (c >= (size_t)C) { /* alpha */
            for (size_t x = 0; x < n; x++)
                dst[x * ch + c] = src[x * ch + c];
            continue;
        }
        const int32_t *down[AEM_WIENER_SPATIAL], *up[AEM_WIENER_SPATIAL], *other[3 * 2];
        for (int t = 0; t < AEM_WIENER_SPATIAL; t++) {
            int dy = aem_wiener_offsets[t][0], dx = aem_wiener_offsets[t][1];
            down[t] = pad_row(r, (int)c, y + dy) + R + dx, up[t] = pad_row(r, (int)c, y - dy) + R - dx;
        }
        int others = 0;
        for (int e = 0; e < C; e++)
            if (e != (int)c) {
                other[3 * others] = pad_row(r, e, y) + R;
                other[3 * others + 1] = pad_row(r, e, y - 1) + R;
                other[3 * others + 2] = pad_row(r, e, y + 1) + R;
                others++;
            }
        dsp->wiener_row(AEM_WIENER_SPATIAL, down, up, pad_row(r, (int)c, y) + R, others, other, cls,
                        K, wf->w[0][c], sizeof wf->w[0] / sizeof wf->w[0][0][0], n, acc);
        for (size_t x = 0; x < n; x++) {
            int32_t v = src[x * ch + c] + floor_shift(acc[x] + (1 << (AEM_WIENER_SHIFT - 1)));
            dst[x * ch + c] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
        }
    }
}

size_t aem_wiener_scratch_bytes(uint32_t n, int colours)
{
    return 3 * (size_t)n * sizeof(int32_t) + rolling_bytes(n, colours);
}

int aem_wiener_filter(const aem_wiener *wf, const aem_wiener_source *s, uint32_t x0,
                      uint32_t y0, uint32_t n, uint32_t y1, uint8_t *out, size_t out_stride,
                      void *scratch, size_t scratch_bytes)
{
    void *own = NULL;
    if (!scratch || scratch_bytes < aem_wiener_scratch_bytes(n, s->colours)) {
        if (!(scratch = own = malloc(aem_wiener_scratch_bytes(n, s->colours))))
            return -1;
    }
    int32_t *act = scratch, *cls = act + n, *acc = cls + n;
    const nn_dsp *dsp = nn_dsp_active();
    rolling r;
    rolling_init(&r, s, x0, n, acc + n);
    for (uint32_t y = y0; y < y1; y++) {
        rolling_to(&r, y);
        filter_row(wf, &r, dsp, y, n, act, cls, acc, out + (size_t)(y - y0) * out_stride);
    }
    free(own);
    return 0;
}
