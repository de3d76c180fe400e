/* SPDX-License-Identifier: BSD-3-Clause */
/* wiener_fit.c - the encoder's restoration filter (enc/wiener_fit.h):
 * decodes the file as a decoder will, a row of tiles at a time, gathers
 * the least-squares normal equations of the filter's taps in 16 fine bins
 * of activity, then for 1..8 classes groups the bins into the classes that
 * leave the least error (dynamic programming over the contiguous groups),
 * and keeps the count whose gain pays best for its bytes. */
#include "enc/wiener_fit.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bitstream/container.h"
#include "bitstream/wiener_stream.h"
#include "common/context.h"
#include "nn/dsp.h"
#include "vq/wiener.h"

#define BINS 16
#define T_MAX AEM_WIENER_MAX_TAPS
/* Lower activity edges of bins 1..15: the encoder's thresholds come from
 * these (the format takes any ascending ones). */
static const uint16_t bin_edge[BINS - 1] = {4,   8,   16,  24,  32,  48,  64,  96,
                                            128, 192, 256, 384, 512, 768, 1024};
/* dB of PSNR per unit of ln(rate) along the levels at their middle rates
 * (1 dB for about 22 % of rate, bench/results): the filter's bytes are
 * priced with it against its gain. */
#define DB_PER_LN_RATE 4.5
/* Nor more than this share of the file: on small pictures the levels'
 * slope is far steeper than the photographs' (a 160x96 picture gained 3.3
 * dB from level 1 to 3 for 28 % more bytes, where a filter of 31 % gained
 * 1.4), and the levels must stay in order. */
#define MAX_SHARE 0.03

/* The sums of the products of the T taps and the target t = source -
 * decoded, over a bin's pixels, upper triangle: M[i][k] for i <= k <= T
 * (tap T is the target): A = M[<T][<T], b = M[<T][T], t't = M[T][T]. */
typedef struct {
    int64_t M[T_MAX + 1][T_MAX + 1];
    int64_t n; /* pixels */
} normal_eq;

typedef struct {
    normal_eq eq[BINS][3];
} fit_stats;

static int bin_of(int32_t act)
{
    int b = 0;
    while (b < BINS - 1 && act >= bin_edge[b])
        b++;
    return b;
}

/* One thread's fit of a band's rows (aem_wiener_rows' callback). */
typedef struct {
    const aem_wiener_source *s;
    uint32_t W;
    const uint8_t *pixels; /* the source picture */
    size_t stride;
    int channels;
    int32_t *g;    /* (T + 1) x W: a bin's features and targets gathered */
    const nn_dsp *dsp;
    uint32_t *idx; /* W: the row's pixels by bin */
    fit_stats *st;
} fit_rows;

/* Adds row y's equations: its pixels sorted by bin, then for each bin
 * and colour the sums of the products of its taps and target. */
static void add_row(void *ctx, uint32_t y, const int32_t *f, const int32_t *act)
{
    const fit_rows *r = ctx;
    const aem_wiener_source *s = r->s;
    const int C = s->colours, T = aem_wiener_taps(C);
    const uint32_t W = r->W;
    const uint8_t *src = r->pixels + (size_t)y * r->stride;
    int32_t *g = r->g;
    uint32_t count[BINS] = {0}, start[BINS], fill[BINS];
    for (uint32_t x = 0; x < W; x++)
        count[bin_of(act[x])]++;
    for (int b = 0, at = 0; b < BINS; b++)
        start[b] = (uint32_t)at, at += (int)count[b];
    memcpy(fill, start, sizeof fill);
    for (uint32_t x = 0; x < W; x++)
        r->idx[fill[bin_of(act[x])]++] = x;
    const uint8_t *dec = s->src + (size_t)(y - s->sy0) * s->stride;
    for (int b = 0; b < BINS; b++) {
        uint32_t n = count[b];
        if (!n)
            continue;
        const uint32_t *ix = r->idx + start[b];
        for (int c = 0; c < C; c++) {
            normal_eq *e = &r->st->eq[b][c];
            for (int t = 0; t < T; t++) {
                const int32_t *ft = f + ((size_t)c * T + (size_t)t) * W;
                for (uint32_t m = 0; m < n; m++)
                    g[(size_t)t * W + m] = ft[ix[m]];
            }
            int32_t *tg = g + (size_t)T * W;
            for (uint32_t m = 0; m < n; m++)
                tg[m] = (int32_t)src[(size_t)ix[m] * r->channels + c] -
                        (int32_t)dec[(size_t)(ix[m] - s->sx0) * s->channels + c];
            int64_t G[(T_MAX + 1) * (T_MAX + 1)] = {0};
            r->dsp->gram(T + 1, g, W, n, G);
            for (int i = 0; i <= T; i++)
                for (int k = i; k <= T; k++)
                    e->M[i][k] += G[i * (T + 1) + k];
            e->n += n;
        }
    }
}

/* Solves (A + ridge) w = b by Cholesky for the T taps; returns the error
 * left with w rounded to the stored 1/256 units (into wq). */
static double solve(const normal_eq *e, int T, int16_t *wq)
{
    double L[T_MAX][T_MAX], y[T_MAX], w[T_MAX];
    for (int i = 0; i < T; i++)
        for (int k = 0; k <= i; k++) {
            double a = (double)e->M[k][i]; /* k <= i */
            if (i == k)
                a += 1e-6 * a + 1.0; /* ridge: flat or tiny classes stay finite */
            for (int j = 0; j < k; j++)
                a -= L[i][j] * L[k][j];
            L[i][k] = i == k ? sqrt(a > 1e-9 ? a : 1e-9) : a / L[k][k];
        }
    for (int i = 0; i < T; i++) {
        double a = (double)e->M[i][T];
        for (int j = 0; j < i; j++)
            a -= L[i][j] * y[j];
        y[i] = a / L[i][i];
    }
    for (int i = T - 1; i >= 0; i--) {
        double a = y[i];
        for (int j = i + 1; j < T; j++)
            a -= L[j][i] * w[j];
        w[i] = a / L[i][i];
    }
    double q[T_MAX], sse = (double)e->M[T][T];
    for (int i = 0; i < T; i++) {
        double r = nearbyint(w[i] * (1 << AEM_WIENER_SHIFT));
        r = r > AEM_WIENER_MAX_WEIGHT ? AEM_WIENER_MAX_WEIGHT
            : r < -AEM_WIENER_MAX_WEIGHT ? -AEM_WIENER_MAX_WEIGHT : r;
        wq[i] = (int16_t)r, q[i] = r / (1 << AEM_WIENER_SHIFT);
    }
    for (int i = 0; i < T; i++) {
        sse -= 2 * q[i] * (double)e->M[i][T];
        for (int k = 0; k < T; k++)
            sse += q[i] * q[k] * (double)(k >= i ? e->M[i][k] : e->M[k][i]);
    }
    return sse;
}

static void eq_add(normal_eq *to, const normal_eq *e, int T)
{
    for (int i = 0; i <= T; i++)
        for (int k = i; k <= T; k++)
            to->M[i][k] += e->M[i][k];
    to->n += e->n;
}

/* The error of bins [b0, b1) as one class, its coefficients into w. */
static double group_error(const fit_stats *st, int C, int b0, int b1, int16_t w[3][T_MAX])
{
    int T = aem_wiener_taps(C);
    double sse = 0;
    for (int c = 0; c < C; c++) {
        normal_eq g;
        memset(&g, 0, sizeof g);
        for (int b = b0; b < b1; b++)
            eq_add(&g, &st->eq[b][c], T);
        sse += solve(&g, T, w[c]);
    }
    return sse;
}

typedef double group_costs[BINS + 1][BINS + 1];

/* The error of every group of bins [a, b) as one class. */
static void costs_of(const fit_stats *st, int C, group_costs cost)
{
    for (int a = 0; a < BINS; a++)
        for (int b = a + 1; b <= BINS; b++) {
            int16_t w[3][T_MAX];
            cost[a][b] = group_error(st, C, a, b, w);
        }
}

/* The best filter of K classes (bins grouped by dynamic programming) into
 * *wf; returns its error. */
static double best_of(const fit_stats *st, int C, int K, group_costs cost, aem_wiener *wf)
{
    double best[AEM_WIENER_MAX_CLASSES + 1][BINS + 1];
    int from[AEM_WIENER_MAX_CLASSES + 1][BINS + 1];
    for (int k = 0; k <= K; k++)
        for (int b = 0; b <= BINS; b++)
            best[k][b] = INFINITY, from[k][b] = -1;
    best[0][0] = 0;
    for (int k = 1; k <= K; k++)
        for (int b = 1; b <= BINS; b++)
            for (int a = k - 1; a < b; a++)
                if (best[k - 1][a] + cost[a][b] < best[k][b])
                    best[k][b] = best[k - 1][a] + cost[a][b], from[k][b] = a;
    int cut[AEM_WIENER_MAX_CLASSES + 1];
    cut[K] = BINS;
    for (int k = K; k > 0; k--)
        cut[k - 1] = from[k][cut[k]];
    wf->classes = K, wf->colours = C;
    memset(wf->w, 0, sizeof wf->w);
    for (int k = 0; k < K; k++) {
        if (k)
            wf->threshold[k - 1] = bin_edge[cut[k] - 1];
        group_error(st, C, cut[k], cut[k + 1], wf->w[k]);
    }
    return best[K][BINS];
}

/* The statistics of the decoded file against the source, a row of tiles
 * decoded at a time (each tile once): the rows whose neighbourhood is in
 * are gathered, the rows the next ones read carried over. */
static aec_status gather(const aec_model *m, const uint8_t *file, size_t file_size,
                         const aecb_header *h, const uint8_t *pixels, size_t stride, int threads,
                         fit_stats *st, char *err)
{
    const int ch = aec_layout_channels(h->layout), C = aec_layout_is_gray(h->layout) ? 1 : 3;
    const int T = aem_wiener_taps(C);
    const uint32_t W = h->width, B = h->tile_size * (h->flags & AECB_FLAG_HALF ? 2u : 1u);
    size_t band_stride = (size_t)W * ch;
    const uint32_t R = AEM_WIENER_RADIUS;
    uint8_t *band = malloc(band_stride * (B + 2 * R));
    fit_stats *per = calloc((size_t)threads, sizeof *per);
    aec_decoder *d = NULL;
    aec_status st_ = band && per ? aec_decoder_create(&d, m) : AEC_ERR_OUT_OF_MEMORY;
    if (st_ != AEC_OK)
        aec_fail(err, st_, "cannot decode the file for its filter");
    else
        aec_decoder_set_threads(d, threads);
    /* rows held [held0, held1); rows gathered up to `done` */
    uint32_t held0 = 0, held1 = 0, done = 0;
    for (uint32_t b0 = 0; st_ == AEC_OK && b0 < h->height; b0 += B) {
        uint32_t b1 = h->height - b0 < B ? h->height : b0 + B;
        aec_decode_params p;
        aec_decode_params_default(&p);
        p.x = 0, p.y = b0, p.w = W, p.h = b1 - b0;
        st_ = aec_decode_into(d, file, file_size, &p, band + (size_t)(held1 - held0) * band_stride,
                              band_stride, band_stride * p.h);
        if (st_ != AEC_OK) {
            aec_fail(err, st_, "cannot decode the file for its filter: %s",
                     aec_decoder_last_error(d));
            break;
        }
        held1 = b1;
        uint32_t y0 = done, y1 = b1 == h->height ? b1 : b1 - R; /* gather [y0, y1) */
        aem_wiener_source s = {band, band_stride, ch, C, 0, held0, W, held1};
        /* chunks of rows, one thread each, every chunk rolling its rows */
        enum { CHUNK = 32 };
        int chunks = (int)((y1 - y0 + CHUNK - 1) / CHUNK), failed = 0;
#pragma omp parallel num_threads(threads) reduction(| : failed)
        {
            int me = 0;
#ifdef _OPENMP
            me = omp_get_thread_num();
#endif
            fit_rows r = {&s, W, pixels, stride, ch, malloc((size_t)(T + 1) * W * sizeof(int32_t)),
                          nn_dsp_active(), malloc(W * sizeof(uint32_t)), &per[me]};
            if (!r.g || !r.idx)
                failed = 1;
#pragma omp for schedule(dynamic, 1)
            for (int c = 0; c < chunks; c++) {
                uint32_t a = y0 + (uint32_t)c * CHUNK, b = y1 - a < CHUNK ? y1 : a + CHUNK;
                if (!failed && aem_wiener_rows(&s, 0, W, a, b, add_row, &r) != 0)
                    failed = 1;
            }
            free(r.g), free(r.idx);
        }
        if (failed)
            st_ = aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the filter's fit");
        done = y1;
        uint32_t keep = done - held0 > R ? done - R : held0; /* what the next rows read */
        memmove(band, band + (size_t)(keep - held0) * band_stride,
                (size_t)(held1 - keep) * band_stride);
        held0 = keep;
    }
    /* integer sums: the same totals in any order */
    memset(st, 0, sizeof *st);
    for (int t = 0; st_ == AEC_OK && t < threads; t++)
        for (int b = 0; b < BINS; b++)
            for (int c = 0; c < C; c++)
                eq_add(&st->eq[b][c], &per[t].eq[b][c], T);
    aec_decoder_destroy(d);
    free(band), free(per);
    return st_;
}

/* *file rewritten as version 2 with the filter's stream. */
static aec_status with_filter(const aecb_header *base, const uint8_t *stream, size_t size,
                              uint8_t **file, size_t *file_size, char *err)
{
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = base->width, h.height = base->height, h.layout = base->layout;
    h.stages = base->stages, h.flags = base->flags, h.version = AECB_VERSION_FILTER;
    h.block_size = base->block_size, h.tile_size = base->tile_size, h.model_id = base->model_id;
    h.lattice_dim = base->lattice_dim, h.lattice_step_q = base->lattice_step_q;
    aec_status st = aecb_header_init(&h, err, AEC_ERR_BYTES);
    if (st != AEC_OK)
        return st;
    const uint8_t **streams = calloc(h.n_streams, sizeof *streams);
    uint8_t *merged = NULL;
    size_t merged_size = 0;
    if (!streams) {
        aecb_header_free(&h);
        return aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
    }
    int metadata = (base->flags & AECB_FLAG_METADATA) != 0;
    for (uint32_t i = 0; i + (uint32_t)metadata < base->n_streams; i++)
        streams[i] = *file + base->offsets[i], h.sizes[i] = base->sizes[i];
    if (metadata) {
        uint32_t from = aecb_metadata_stream_index(base), to = aecb_metadata_stream_index(&h);
        streams[to] = *file + base->offsets[from], h.sizes[to] = base->sizes[from];
    }
    uint32_t fi = aecb_filter_stream_index(&h);
    streams[fi] = stream, h.sizes[fi] = (uint32_t)size;
    st = aecb_write(&h, streams, &merged, &merged_size);
    if (st != AEC_OK)
        aec_fail(err, st, "cannot assemble the file: %s", aec_status_string(st));
    else {
        free(*file);
        *file = merged, *file_size = merged_size;
    }
    free(streams);
    aecb_header_free(&h);
    return st;
}

aec_status aec_enc_add_filter(const aec_model *m, const uint8_t *pixels, size_t stride,
                              int threads, int always, uint8_t **file, size_t *file_size,
                              double *gain_db, char *err)
{
    if (gain_db)
        *gain_db = 0;
    aecb_header base;
    aec_status st = aecb_parse(*file, *file_size, NULL, &base, err, AEC_ERR_BYTES);
    if (st != AEC_OK)
        return st;
    fit_stats *stats = malloc(sizeof *stats);
    if (!stats) {
        aecb_header_free(&base);
        return aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
    }
    st = gather(m, *file, *file_size, &base, pixels, stride, threads, stats, err);
    int C = aec_layout_is_gray(base.layout) ? 1 : 3;
    double sse0 = 0;
    for (int b = 0; b < BINS; b++)
        for (int c = 0; c < C; c++)
            sse0 += (double)stats->eq[b][c].M[aem_wiener_taps(C)][aem_wiener_taps(C)];
    /* the class count whose gain pays best for its bytes */
    double best_net = always ? -INFINITY : 0;
    group_costs cost;
    if (st == AEC_OK)
        costs_of(stats, C, cost);
    uint8_t *best = NULL;
    size_t best_size = 0;
    for (int K = 1; st == AEC_OK && sse0 > 0 && K <= AEM_WIENER_MAX_CLASSES; K++) {
        aem_wiener wf;
        double sse = best_of(stats, C, K, cost, &wf);
        uint8_t *s = NULL;
        size_t n = 0;
        st = aecb_wiener_write(&wf, &s, &n, err, AEC_ERR_BYTES);
        if (st != AEC_OK)
            break;
        double gain = sse > 0 ? 10 * log10(sse0 / sse) : 0;
        double net = gain - DB_PER_LN_RATE * log((double)(*file_size + n + AECB_ENTRY_BYTES) /
                                                 (double)*file_size);
        int affordable = always || (double)(n + AECB_ENTRY_BYTES) <= MAX_SHARE * (double)*file_size;
        if (net > best_net && gain > 0 && affordable) {
            free(best);
            best = s, best_size = n, best_net = net;
            if (gain_db)
                *gain_db = gain;
        } else
            free(s);
    }
    if (st == AEC_OK && best)
        st = with_filter(&base, best, best_size, file, file_size, err);
    free(best);
    free(stats);
    aecb_header_free(&base);
    return st;
}
