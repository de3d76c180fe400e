/* SPDX-License-Identifier: BSD-3-Clause */
/* wiener.c - the restoration filter's features, classes and output
 * (vq/wiener.h, spec/bitstream.md 6.11), shared by the encoder's fit and
 * the decoder.  Rows are worked whole, one tap at a time, so the loops over
 * a row vectorise. */
#include "vq/wiener.h"

#include "nn/dsp.h"

#include <stddef.h>
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
size_t aem_wiener_row_bytes(uint32_t width, int colours)
{
    return (size_t)(colours * ROWS + 5 + 3) * ((size_t)width + 2 * R) * sizeof(int32_t);
}

static uint32_t clampu(int64_t v, uint32_t lo, uint32_t hi_excl)
{
    return v < (int64_t)lo ? lo : v >= (int64_t)hi_excl ? hi_excl - 1 : (uint32_t)v;
}

void aem_wiener_features(const aem_wiener_source *s, uint32_t x0, uint32_t y, uint32_t n,
                         int32_t *f, int32_t *act, void *work)
{
    const int C = s->colours, T = aem_wiener_taps(C);
    const size_t W = (size_t)n + 2 * R;
    int32_t *pad = work, *g = pad + (size_t)C * ROWS * W, *lap = g + 5 * W;
    /* the source rows y-R .. y+R and columns x0-R .. x0+n+R-1, clamped */
    /* padded columns i whose source column x0 + i - R is inside: [i0, i1) */
    int64_t first = (int64_t)x0 - R;
    size_t i0 = first < (int64_t)s->sx0 ? (size_t)((int64_t)s->sx0 - first) : 0;
    size_t i1 = (size_t)((int64_t)s->sx1 - first) < W ? (size_t)((int64_t)s->sx1 - first) : W;
    const size_t ch = (size_t)s->channels;
    for (int dy = -R; dy <= R; dy++) {
        const uint8_t *row = s->src + (size_t)(clampu((int64_t)y + dy, s->sy0, s->sy1) - s->sy0) *
                                          s->stride;
        const uint8_t *in = row + (size_t)(first + (int64_t)i0 - (int64_t)s->sx0) * ch;
        for (int c = 0; c < C; c++) {
            int32_t *p = pad + ((size_t)c * ROWS + (size_t)(dy + R)) * W;
            for (size_t i = i0; i < i1; i++)
                p[i] = in[(i - i0) * ch + (size_t)c];
            for (size_t i = 0; i < i0; i++) /* the picture's edges repeated */
                p[i] = p[i0];
            for (size_t i = i1; i < W; i++)
                p[i] = p[i1 - 1];
        }
    }
    /* activity: g on rows y-2..y+2, lap on rows y-1..y+1, both over the
     * padded columns that the 3x3 sum reads */
    for (int r = 0; r < 5; r++) {
        const int32_t *p0 = pad + (size_t)(r + 1) * W;
        if (C == 1)
            for (size_t i = 0; i < W; i++)
                g[r * W + i] = p0[i];
        else
            for (size_t i = 0; i < W; i++)
                g[r * W + i] = (p0[i] + 2 * p0[ROWS * W + i] + p0[2 * ROWS * W + i] + 2) >> 2;
    }
    for (int r = 0; r < 3; r++) {
        const int32_t *gu = g + (size_t)r * W, *gc = gu + W, *gd = gc + W;
        int32_t *l = lap + (size_t)r * W;
        l[0] = l[W - 1] = 0;
        for (size_t i = 1; i + 1 < W; i++) {
            int32_t v = 4 * gc[i] - gc[i - 1] - gc[i + 1] - gu[i] - gd[i];
            l[i] = v < 0 ? -v : v;
        }
    }
    for (uint32_t x = 0; x < n; x++) {
        size_t i = x + R;
        int32_t a = 0;
        for (int r = 0; r < 3; r++)
            a += lap[r * W + i - 1] + lap[r * W + i] + lap[r * W + i + 1];
        act[x] = a;
    }
    /* features */
    for (int c = 0; c < C; c++) {
        const int32_t *pc = pad + ((size_t)c * ROWS + R) * W + R; /* row y, column x0 */
        int32_t *fc = f + (size_t)c * T * n;
        for (int t = 0; t < AEM_WIENER_SPATIAL; t++) {
            ptrdiff_t o = (ptrdiff_t)aem_wiener_offsets[t][0] * (ptrdiff_t)W + aem_wiener_offsets[t][1];
            int32_t *ft = fc + (size_t)t * n;
            for (ptrdiff_t x = 0; x < (ptrdiff_t)n; x++)
                ft[x] = pc[x + o] + pc[x - o] - 2 * pc[x];
        }
        int t = AEM_WIENER_SPATIAL;
        for (int e = 0; e < C; e++) {
            if (e == c)
                continue;
            const int32_t *pe = pad + ((size_t)e * ROWS + R) * W + R;
            int32_t *f0 = fc + (size_t)t * n, *f1 = f0 + n, *f2 = f1 + n;
            for (ptrdiff_t x = 0; x < (ptrdiff_t)n; x++) {
                f0[x] = pe[x] - pc[x];
                f1[x] = pe[x + 1] + pe[x - 1] - 2 * pe[x];
                f2[x] = pe[x + (ptrdiff_t)W] + pe[x - (ptrdiff_t)W] - 2 * pe[x];
            }
            t += 3;
        }
        int32_t *fb = fc + (size_t)t * n;
        for (uint32_t x = 0; x < n; x++)
            fb[x] = 1;
    }
}

/* floor(v / 256), for either sign */
static int32_t floor_shift(int32_t v)
{
    return v >= 0 ? v >> AEM_WIENER_SHIFT : -((-v + (1 << AEM_WIENER_SHIFT) - 1) >> AEM_WIENER_SHIFT);
}

int aem_wiener_filter(const aem_wiener *wf, const aem_wiener_source *s, uint32_t x0,
                      uint32_t y0, uint32_t n, uint32_t y1, uint8_t *out, size_t out_stride)
{
    const int C = s->colours, T = aem_wiener_taps(C), K = wf->classes;
    size_t fbytes = (size_t)C * T * n * sizeof(int32_t);
    int32_t *f = malloc(fbytes + 4 * (size_t)n * sizeof(int32_t));
    void *work = malloc(aem_wiener_row_bytes(n, C));
    if (!f || !work) {
        free(f), free(work);
        return -1;
    }
    int32_t *act = f + (size_t)C * T * n, *cls = act + n, *acc = cls + n, *sum = acc + n;
    const nn_dsp *dsp = nn_dsp_active();
    for (uint32_t y = y0; y < y1; y++) {
        aem_wiener_features(s, x0, y, n, f, act, work);
        for (uint32_t x = 0; x < n; x++) {
            int32_t k = 0;
            for (int j = 0; j + 1 < K; j++)
                k += act[x] >= (int32_t)wf->threshold[j];
            cls[x] = k;
        }
        const uint8_t *src = s->src + (size_t)(y - s->sy0) * s->stride +
                             (size_t)(x0 - s->sx0) * (size_t)s->channels;
        uint8_t *dst = out + (size_t)(y - y0) * out_stride;
        for (int ch = 0; ch < s->channels; ch++) {
            if (ch >= C) { /* alpha */
                for (uint32_t x = 0; x < n; x++)
                    dst[(size_t)x * s->channels + ch] = src[(size_t)x * s->channels + ch];
                continue;
            }
            dsp->wiener_sums(K, T, wf->w[0][ch], sizeof wf->w[0] / sizeof wf->w[0][0][0],
                             f + (size_t)ch * T * n, cls, n, acc, sum);
            for (uint32_t x = 0; x < n; x++) {
                int32_t v = src[(size_t)x * s->channels + ch] +
                            floor_shift(acc[x] + (1 << (AEM_WIENER_SHIFT - 1)));
                dst[(size_t)x * s->channels + ch] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
            }
        }
    }
    free(f), free(work);
    return 0;
}
