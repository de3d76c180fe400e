/* SPDX-License-Identifier: BSD-3-Clause */
/* anomaly.c - per-block reconstruction-error ratios, scores, maps and ROC
 * AUC for aeanomaly (see anomaly.h). */
#include "common/anomaly.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

aec_status aean_rebuild(aec_encoder *enc, aec_decoder *dec, const uint8_t *pixels, uint32_t w,
                        uint32_t h, int channels, int level, int threads,
                        uint8_t **rebuilt)
{
    aec_encode_params ep;
    aec_encode_params_default(&ep);
    ep.quality = level;
    ep.threads = threads;
    /* The network's own reconstruction error, not the half-size levels'
     * upsampling blur, which is the same for every block of a kind. */
    ep.half_size = -1;
    /* Nor a restoration filter fitted to this picture, which would take
     * out part of the very errors looked for. */
    ep.filter = -1;
    uint8_t *file = NULL;
    size_t size = 0;
    *rebuilt = NULL;
    aec_status st = aec_encode(enc, pixels, w, h, 0, (aec_layout)channels, &ep, &file, &size);
    if (st != AEC_OK)
        return st;
    aec_decode_params dp;
    aec_decode_params_default(&dp);
    uint8_t *out = NULL;
    uint32_t ow = 0, oh = 0;
    aec_layout layout;
    st = aec_decode(dec, file, size, &dp, &out, &ow, &oh, &layout);
    aec_free(file);
    if (st != AEC_OK)
        return st;
    size_t n = (size_t)w * h * (size_t)channels;
    if (ow != w || oh != h || (int)layout != channels || !(*rebuilt = malloc(n))) {
        aec_free(out);
        return AEC_ERR_OUT_OF_MEMORY;
    }
    memcpy(*rebuilt, out, n);
    aec_free(out);
    return AEC_OK;
}

/* Squared error sums of one block: against the rebuilt picture, and the
 * denominator's: against the reference when there is one, else half the
 * deviations from the 2x2 box means of the original (cells aligned on even
 * pixels; a cell cut by the image's edge averages what it has). */
static void block_errors(const uint8_t *orig, const uint8_t *rebuilt, const uint8_t *reference,
                         uint32_t w, uint32_t h, int channels, int colours, uint32_t x0,
                         uint32_t y0, double *model, double *detail, double *count)
{
    uint32_t x1 = x0 + AEAN_BLOCK < w ? x0 + AEAN_BLOCK : w;
    uint32_t y1 = y0 + AEAN_BLOCK < h ? y0 + AEAN_BLOCK : h;
    for (uint32_t cy = y0; cy < y1; cy += 2)
        for (uint32_t cx = x0; cx < x1; cx += 2) {
            uint32_t ey = cy + 2 < y1 ? cy + 2 : y1, ex = cx + 2 < x1 ? cx + 2 : x1;
            for (int c = 0; c < colours; c++) {
                double sum = 0, sq = 0;
                int n = 0;
                for (uint32_t y = cy; y < ey; y++)
                    for (uint32_t x = cx; x < ex; x++) {
                        size_t i = ((size_t)y * w + x) * (size_t)channels + (size_t)c;
                        double v = orig[i], d = v - rebuilt[i];
                        *model += d * d;
                        if (reference) {
                            double r = v - reference[i];
                            *detail += r * r;
                        }
                        sum += v, sq += v * v, n++;
                    }
                if (!reference)
                    *detail += 0.5 * (sq - sum * sum / n);
                *count += n;
            }
        }
}

int aean_map_make(const uint8_t *orig, const uint8_t *rebuilt, const uint8_t *reference,
                  uint32_t w, uint32_t h, int channels, aean_map *m)
{
    m->bw = (w + AEAN_BLOCK - 1) / AEAN_BLOCK;
    m->bh = (h + AEAN_BLOCK - 1) / AEAN_BLOCK;
    m->log_ratio = malloc(sizeof(float) * (size_t)m->bw * m->bh + 1);
    if (!m->log_ratio)
        return -1;
    int colours = channels >= 3 ? 3 : 1; /* alpha is not picture content */
    for (uint32_t by = 0; by < m->bh; by++)
        for (uint32_t bx = 0; bx < m->bw; bx++) {
            double model = 0, detail = 0, count = 0;
            block_errors(orig, rebuilt, reference, w, h, channels, colours, bx * AEAN_BLOCK,
                         by * AEAN_BLOCK, &model, &detail, &count);
            double ratio = (model / count + AEAN_FLOOR) / (detail / count + AEAN_FLOOR);
            m->log_ratio[(size_t)by * m->bw + bx] = (float)log2(ratio);
        }
    return 0;
}

void aean_map_free(aean_map *m)
{
    free(m->log_ratio);
    m->log_ratio = NULL;
}

static int cmp_float_desc(const void *a, const void *b)
{
    float x = *(const float *)a, y = *(const float *)b;
    return (x < y) - (x > y);
}

double aean_score(const aean_map *m)
{
    size_t n = (size_t)m->bw * m->bh;
    float *v = malloc(sizeof(float) * n + 1);
    if (!v)
        return NAN;
    memcpy(v, m->log_ratio, sizeof(float) * n);
    qsort(v, n, sizeof(float), cmp_float_desc);
    size_t top = n / 50 > 0 ? n / 50 : 1;
    double sum = 0;
    for (size_t i = 0; i < top; i++)
        sum += v[i];
    free(v);
    return sum / (double)top;
}

int aean_map_image(const aean_map *m, uint32_t w, uint32_t h, uint8_t **grey)
{
    uint8_t *g = malloc((size_t)w * h + 1);
    if (!g)
        return -1;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            double v = 128 + 64 * m->log_ratio[(size_t)(y / AEAN_BLOCK) * m->bw + x / AEAN_BLOCK];
            g[(size_t)y * w + x] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : lround(v));
        }
    *grey = g;
    return 0;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* Normal scores below t, and equal to t, in the sorted s[0..n). */
static void count_below(const double *s, int n, double t, int *below, int *equal)
{
    int lo = 0, hi = n;
    while (lo < hi) { /* first index with s >= t */
        int mid = lo + (hi - lo) / 2;
        if (s[mid] < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    int e = lo;
    while (e < n && s[e] == t)
        e++;
    *below = lo, *equal = e - lo;
}

double aean_auc(const double *normal, int n_normal, const double *anomalous, int n_anomalous)
{
    if (n_normal <= 0 || n_anomalous <= 0)
        return NAN;
    double *s = malloc(sizeof(double) * (size_t)n_normal);
    if (!s)
        return NAN;
    memcpy(s, normal, sizeof(double) * (size_t)n_normal);
    qsort(s, (size_t)n_normal, sizeof(double), cmp_double);
    double right = 0; /* pairs ordered right, in halves */
    for (int i = 0; i < n_anomalous; i++) {
        int below, equal;
        count_below(s, n_normal, anomalous[i], &below, &equal);
        right += 2.0 * below + equal;
    }
    free(s);
    return right / (2.0 * n_normal * n_anomalous);
}
