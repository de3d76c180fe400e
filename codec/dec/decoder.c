/* SPDX-License-Identifier: BSD-3-Clause */
/* decoder.c - aec_decode: bitstream v1 -> indices (and lattice symbols) ->
 * latents -> decoder network -> pixels.
 *
 * Working memory is bounded by the tile, not the image (apart from the
 * output and the alpha plane).  Two passes over the tiles, each in parallel
 * with buffers owned by the thread:
 *
 *  1. verify: every stream the output needs passes its checks (CRC, zstd
 *     frame, index range) and is decoded into a scratch buffer, then
 *     dropped.  Only then are the output and the networks' buffers
 *     allocated, so a small damaged file cannot claim the memory and time
 *     of the image its header declares.
 *  2. render: each output tile entropy-decodes the streams of the tiles its
 *     window touches (the tile widened by aem_decoder_halo latents, exactly
 *     the decoder's receptive field: itself and at most its 8 neighbours
 *     when tiles are wider than the halo), builds the window's latents
 *     (codes plus lattice refinement), runs the decoder network and writes
 *     its pixels.  So the tiled output equals the untiled one; the price is
 *     that a stream is decompressed once by each window it meets. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bitstream/container.h"
#include "bitstream/lattice_stream.h"
#include "bitstream/zstream.h"
#include "common/cells.h"
#include "common/context.h"
#include "model/builtin.h"
#include "model/network.h"
#include "vq/lattice.h"
#include "vq/rvq.h"

#define MAX_MODELS 8

/* A decoder's models: the caller's, or built-in ones by index, which are
 * parsed only when a file needs them (so creating a decoder costs nothing). */
typedef struct {
    const aec_model *model; /* NULL for a built-in model not yet looked up */
    int builtin;            /* its index in models/builtin.mk, or -1       */
} decoder_model;

struct aec_decoder {
    decoder_model models[MAX_MODELS];
    int n_models;
    int threads;
    aec_limits limits;
    char err[AEC_ERR_BYTES];
};

void aec_decode_params_default(aec_decode_params *p) { memset(p, 0, sizeof *p); }

aec_status aec_decoder_create(aec_decoder **out, const aec_model *model)
{
    if (!out)
        return AEC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    aec_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return AEC_ERR_OUT_OF_MEMORY;
    if (model) {
        d->models[d->n_models++] = (decoder_model){model, -1};
    } else { /* every built-in model, so files of any built-in level decode */
        for (int i = 0; i < AEM_BUILTIN_MODELS && d->n_models < MAX_MODELS; i++)
            d->models[d->n_models++] = (decoder_model){NULL, i};
    }
    aec_limits_default(&d->limits);
    *out = d;
    return AEC_OK;
}

aec_status aec_decoder_add_model(aec_decoder *d, const aec_model *model)
{
    if (!d || !model)
        return AEC_ERR_INVALID_ARGUMENT;
    if (d->n_models == MAX_MODELS)
        return aec_fail(d->err, AEC_ERR_LIMIT, "a decoder holds at most %d models", MAX_MODELS);
    d->models[d->n_models++] = (decoder_model){model, -1};
    return AEC_OK;
}

void aec_decoder_destroy(aec_decoder *d) { free(d); }
void aec_decoder_set_threads(aec_decoder *d, int threads)
{
    if (d)
        d->threads = threads > 0 ? threads : 0;
}
void aec_decoder_set_limits(aec_decoder *d, const aec_limits *l)
{
    if (d && l)
        d->limits = *l;
}
const char *aec_decoder_last_error(const aec_decoder *d) { return d ? d->err : ""; }

static float lattice_step(const aecb_header *h)
{
    return (float)((double)h->lattice_step_q / AECB_LATTICE_STEP_ONE);
}

aec_status aec_read_info(const uint8_t *data, size_t size, aec_info *info)
{
    if (!data || !info)
        return AEC_ERR_INVALID_ARGUMENT;
    aecb_header h;
    char err[AEC_ERR_BYTES];
    aec_status st = aecb_parse(data, size, NULL, &h, err, sizeof err);
    if (st != AEC_OK)
        return st;
    memset(info, 0, sizeof *info);
    info->width = h.width, info->height = h.height, info->layout = (aec_layout)h.layout;
    info->stages_coded = h.stages, info->stages_available = h.stages_available;
    info->tile_size = h.tile_size, info->tiles_x = h.tiles_x, info->tiles_y = h.tiles_y;
    info->model_id = h.model_id, info->file_size = h.file_size;
    if (h.flags & AECB_FLAG_ALPHA)
        info->alpha_bytes = h.sizes[AECB_ALPHA_STREAM];
    for (int s = 0; s < h.stages && s < 16; s++)
        for (uint32_t t = 0; t < h.n_tiles; t++)
            info->stage_bytes[s] += h.sizes[aecb_stream_index(&h, s, t)];
    if (h.flags & AECB_FLAG_LATTICE) {
        info->lattice_step = lattice_step(&h);
        info->lattice_available = h.lattice_available;
        for (uint32_t t = 0; t < h.n_tiles; t++)
            info->lattice_bytes += h.sizes[aecb_lattice_stream_index(&h, t)];
    }
    aecb_header_free(&h);
    return AEC_OK;
}

/* ---- one decode call ---------------------------------------------------- */

/* Everything one decode call shares between its tiles (read-only while the
 * tiles run, apart from the disjoint parts of `out` they write). */
typedef struct {
    const aec_model *m;
    const aecb_header *h;
    const uint8_t *data;
    size_t size;
    const ZSTD_DDict *dict; /* the model's dictionary when the file uses it */
    int stages;             /* VQ stages decoded                             */
    int lattice;            /* 1 when the lattice refinement is added        */
    float step;             /* its step                                      */
    int halo;               /* aem_decoder_halo                              */
    /* output region */
    uint32_t rx, ry, rw, rh;
    int out_channels;
    uint8_t *out;
} decode_job;

/* A thread's buffers, reused from tile to tile. */
typedef struct {
    ZSTD_DCtx *dz;
    uint8_t *raw;  /* one decompressed stream (the largest this file has)   */
    uint8_t *idx;  /* a window's indices [stage][Hs][Ws] (the largest window) */
    int32_t *sym;  /* one tile's lattice symbols [D][lh][lw]                 */
    aem_acts a;    /* decoder activations for the current cell's window     */
    char err[AEC_ERR_BYTES];
    /* the first (lowest numbered) tile that failed in this thread */
    int bad;
    aec_status bad_st;
    char bad_err[AEC_ERR_BYTES];
} worker;

/* A rectangle of tiles [x0, x1) x [y0, y1), numbered in raster order. */
typedef struct {
    int x0, y0, x1, y1;
} tile_rect;

static int rect_count(const tile_rect *r) { return (r->x1 - r->x0) * (r->y1 - r->y0); }

static uint32_t rect_tile(const aecb_header *h, const tile_rect *r, int k)
{
    int w = r->x1 - r->x0;
    return (uint32_t)((r->y0 + k / w) * (int)h->tiles_x + r->x0 + k % w);
}

/* The tiles whose latents meet [hx0, hx1) x [hy0, hy1) (a non-empty part of
 * the latent grid); a tile is T/B latents wide since B divides T. */
static tile_rect tiles_meeting(const aecb_header *h, int hx0, int hy0, int hx1, int hy1)
{
    int TL = h->tile_size / h->block_size;
    tile_rect r = {hx0 / TL, hy0 / TL, (hx1 - 1) / TL + 1, (hy1 - 1) / TL + 1};
    return r;
}

/* Where tile t's latents and the window [hx0, hx1) x [hy0, hy1) overlap. */
typedef struct {
    int lx0, ly0, lw, lh; /* the tile's latents on the grid                  */
    int x0, y0, x1, y1;   /* the overlap on the grid (may be empty)          */
} tile_overlap;

static tile_overlap overlap_of(const aecb_header *h, uint32_t t, const aecb_tile_window *win)
{
    aecb_tile_window tw;
    aecb_tile_window_of(h, t, 0, &tw);
    tile_overlap o = {tw.lx0, tw.ly0, tw.lw, tw.lh, 0, 0, 0, 0};
    o.x0 = tw.lx0 > win->hx0 ? tw.lx0 : win->hx0;
    o.y0 = tw.ly0 > win->hy0 ? tw.ly0 : win->hy0;
    o.x1 = tw.lx0 + tw.lw < win->hx1 ? tw.lx0 + tw.lw : win->hx1;
    o.y1 = tw.ly0 + tw.lh < win->hy1 ? tw.ly0 + tw.lh : win->hy1;
    return o;
}

/* Decompresses stream i into w->raw (exactly n bytes).  verify: check its
 * CRC first (pass 2 reads only streams pass 1 has verified). */
static aec_status load_stream(const decode_job *j, worker *w, uint32_t i, size_t n,
                              const ZSTD_DDict *dict, int verify)
{
    const aecb_header *h = j->h;
    if (verify) {
        aec_status st = aecb_check_stream(h, j->data, j->size, i, w->err, AEC_ERR_BYTES);
        if (st != AEC_OK)
            return st;
    }
    return aecb_zstd_decompress(w->dz, dict, j->data + h->offsets[i], h->sizes[i], w->raw, n,
                                w->err, AEC_ERR_BYTES);
}

/* Tile t's indices of stage s (0-based) into w->raw, lw*lh bytes, each
 * checked against the codebook size. */
static aec_status load_indices(const decode_job *j, worker *w, int s, uint32_t t, int verify)
{
    uint32_t lw, lh;
    aecb_tile_latents(j->h, t, &lw, &lh);
    size_t n = (size_t)lw * lh;
    aec_status st = load_stream(j, w, aecb_stream_index(j->h, s, t), n, j->dict, verify);
    if (st != AEC_OK)
        return st;
    int K = j->m->cfg.codes;
    for (size_t k = 0; k < n; k++)
        if (w->raw[k] >= K)
            return aec_fail(w->err, AEC_ERR_CORRUPT,
                            "index %d in tile %u stage %d is outside the codebook (%d codes)",
                            w->raw[k], t, s + 1, K);
    return AEC_OK;
}

/* Tile t's lattice symbols into w->sym [D][lh][lw], from a stream of the
 * planes layout (one frame of 2*D*lw*lh bytes that aem_lattice_unpack
 * reads) or of the split layout (flags bit 3, bitstream/lattice_stream.h,
 * with w->raw as its work space).  The lattice streams never use the
 * model's dictionary. */
static aec_status load_lattice(const decode_job *j, worker *w, uint32_t t, int verify)
{
    const aecb_header *h = j->h;
    uint32_t lw, lh;
    aecb_tile_latents(h, t, &lw, &lh);
    size_t D = (size_t)j->m->cfg.latent;
    uint32_t i = aecb_lattice_stream_index(h, t);
    if (!(h->flags & AECB_FLAG_SPLIT)) {
        aec_status st = load_stream(j, w, i, 2 * D * lw * lh, NULL, verify);
        if (st == AEC_OK)
            aem_lattice_unpack(w->raw, D, lw, lh, w->sym);
        return st;
    }
    if (verify) {
        aec_status st = aecb_check_stream(h, j->data, j->size, i, w->err, AEC_ERR_BYTES);
        if (st != AEC_OK)
            return st;
    }
    return aecb_split_read(w->dz, j->data + h->offsets[i], h->sizes[i], D, lw, lh, w->raw,
                           w->sym, w->err, AEC_ERR_BYTES);
}

/* Pass 1 for tile t: every stream of it that the output uses. */
static aec_status verify_tile(const decode_job *j, worker *w, uint32_t t)
{
    for (int s = 0; s < j->stages; s++) {
        aec_status st = load_indices(j, w, s, t, 1);
        if (st != AEC_OK)
            return st;
    }
    return j->lattice ? load_lattice(j, w, t, 1) : AEC_OK;
}

/* w->a shaped for a window of Hs x Ws latents, in the arena it has when
 * that is large enough (cells at the image's edges are smaller). */
static int worker_acts(worker *w, const aem_config *c, int Hs, int Ws)
{
    return aem_acts_reshape(&w->a, c, 1, Hs, Ws, 0, 1);
}

/* The window's latents into q [D][Hs][Ws]: the codes of the decoded
 * stages, plus step * s from the lattice symbols. */
static aec_status window_latents(const decode_job *j, worker *w, const aecb_tile_window *win,
                                 float *q_out)
{
    const aecb_header *h = j->h;
    int Hs = win->hy1 - win->hy0, Ws = win->hx1 - win->hx0, D = j->m->cfg.latent;
    size_t N = (size_t)Hs * Ws;
    tile_rect near = tiles_meeting(h, win->hx0, win->hy0, win->hx1, win->hy1);
    for (int k = 0; k < rect_count(&near); k++) {
        uint32_t t = rect_tile(h, &near, k);
        tile_overlap o = overlap_of(h, t, win);
        for (int s = 0; s < j->stages; s++) {
            aec_status st = load_indices(j, w, s, t, 0);
            if (st != AEC_OK)
                return st;
            for (int y = o.y0; y < o.y1; y++)
                memcpy(w->idx + ((size_t)s * Hs + (y - win->hy0)) * Ws + (o.x0 - win->hx0),
                       w->raw + (size_t)(y - o.ly0) * o.lw + (o.x0 - o.lx0), (size_t)(o.x1 - o.x0));
        }
    }
    aem_rvq_decode(j->m, w->idx, N, j->stages, q_out);
    for (int k = 0; j->lattice && k < rect_count(&near); k++) {
        uint32_t t = rect_tile(h, &near, k);
        tile_overlap o = overlap_of(h, t, win);
        aec_status st = load_lattice(j, w, t, 0);
        if (st != AEC_OK)
            return st;
        /* (the whole tile: its predicted channels need every earlier symbol) */
        size_t n = (size_t)o.lw * o.lh;
        for (int d = 0; d < D; d++)
            for (int y = o.y0; y < o.y1; y++) {
                const int32_t *v =
                    w->sym + (size_t)d * n + (size_t)(y - o.ly0) * o.lw + (size_t)(o.x0 - o.lx0);
                float *q = q_out + (size_t)d * N + (size_t)(y - win->hy0) * Ws + (o.x0 - win->hx0);
                for (int x = 0; x < o.x1 - o.x0; x++)
                    q[x] += j->step * (float)v[x];
            }
    }
    return AEC_OK;
}

/* Writes the part of a cell inside the region from the decoder's output
 * blocks y [C*P*P][Hs][Ws] of its window: pixel (X, Y) of the window is
 * sample (Y mod P, X mod P) of block (X / P, Y / P), in the plane
 * ((c*P + Y mod P)*P + X mod P) (depth-to-space, read in place). */
static void write_pixels(const decode_job *j, const aec_cell *cell, const aec_cell *win,
                         const float *y)
{
    const aecb_header *h = j->h;
    int P = j->m->cfg.block, Ws = win->w;
    size_t N = (size_t)win->h * Ws, chan = (size_t)P * P * N;
    /* the cell's pixels, clipped to the image */
    uint32_t x0 = (uint32_t)cell->x0 * P, y0 = (uint32_t)cell->y0 * P;
    uint32_t tw = (uint32_t)cell->w * P, th = (uint32_t)cell->h * P;
    tw = x0 + tw < h->width ? tw : h->width - x0;
    th = y0 + th < h->height ? th : h->height - y0;
    /* Intersection of this cell with the region, in image coordinates. */
    uint32_t ix0 = x0 > j->rx ? x0 : j->rx, iy0 = y0 > j->ry ? y0 : j->ry;
    uint32_t ix1 = x0 + tw < j->rx + j->rw ? x0 + tw : j->rx + j->rw;
    uint32_t iy1 = y0 + th < j->ry + j->rh ? y0 + th : j->ry + j->rh;
    int gray = aec_layout_is_gray(h->layout);
    for (uint32_t py = iy0; py < iy1; py++) {
        int Y = (int)py - win->y0 * P;
        const float *row = y + (size_t)(Y % P) * P * N + (size_t)(Y / P) * Ws;
        uint8_t *o = j->out + ((size_t)(py - j->ry) * j->rw + (ix0 - j->rx)) * j->out_channels;
        for (uint32_t px = ix0; px < ix1; px++, o += j->out_channels) {
            int X = (int)px - win->x0 * P;
            const float *b = row + (size_t)(X % P) * N + X / P;
            float v[3] = {b[0], b[chan], b[2 * chan]};
            if (gray) { /* grey was coded as R=G=B; its luma is the best grey */
                float g = 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
                g = g > 0 ? (g < 1 ? g : 1) : 0; /* NaN (a broken model) -> 0 */
                o[0] = (uint8_t)(g * 255.0f + 0.5f);
            } else {
                for (int ch = 0; ch < 3; ch++) {
                    float s = v[ch] > 0 ? (v[ch] < 1 ? v[ch] : 1) : 0; /* NaN -> 0 */
                    o[ch] = (uint8_t)(s * 255.0f + 0.5f);
                }
            }
        }
    }
}

/* Pass 2, one cell of output tile t: the decoder network on the cell's
 * window, cut from the latents q of the tile's window twin, then the
 * cell's pixels. */
static aec_status render_cell(const decode_job *j, worker *w, const aecb_tile_window *twin,
                              const float *q, const aec_cell *cell)
{
    /* The cell lies in the tile, so its window (the same halo, clipped to
     * the grid the same way) lies in the tile's window. */
    aec_cell win = aec_cell_grow(cell, j->halo, twin->hx1, twin->hy1);
    if (worker_acts(w, &j->m->cfg, win.h, win.w))
        return aec_fail(w->err, AEC_ERR_OUT_OF_MEMORY, "out of memory decoding a cell");
    int D = j->m->cfg.latent, TWs = twin->hx1 - twin->hx0, THs = twin->hy1 - twin->hy0;
    size_t N = (size_t)win.w * win.h, TN = (size_t)TWs * THs;
    for (int d = 0; d < D; d++)
        for (int y = 0; y < win.h; y++)
            memcpy(w->a.q + (size_t)d * N + (size_t)y * win.w,
                   q + (size_t)d * TN + (size_t)(win.y0 - twin->hy0 + y) * TWs +
                       (win.x0 - twin->hx0),
                   sizeof(float) * win.w);
    aem_decoder_forward(j->m, &w->a);
    write_pixels(j, cell, &win, w->a.y);
    return AEC_OK;
}

typedef aec_status (*tile_fn)(const decode_job *j, worker *w, uint32_t tile);

/* Runs fn on every tile of r in parallel, one worker per thread, in the
 * raster order.  On failure
 * returns the error of the first failing tile in that order (the same
 * whatever the thread count; tiles after it are skipped) with its message
 * in err. */
static aec_status run_tiles(const decode_job *j, worker *ws, int threads, const tile_rect *r,
                            tile_fn fn, char *err)
{
    int n = rect_count(r), first_bad = INT_MAX;
    for (int i = 0; i < threads; i++)
        ws[i].bad = INT_MAX;
#pragma omp parallel num_threads(threads)
    {
        worker *w = &ws[aec_thread_num()];
#pragma omp for schedule(dynamic, 1)
        for (int k = 0; k < n; k++) {
            int stop;
#pragma omp atomic read
            stop = first_bad;
            if (k > stop)
                continue;
            aec_status st = fn(j, w, rect_tile(j->h, r, k));
            if (st != AEC_OK && k < w->bad) {
                w->bad = k, w->bad_st = st;
                memcpy(w->bad_err, w->err, AEC_ERR_BYTES);
#pragma omp critical(aec_decoder_first_bad)
                if (k < first_bad) {
#pragma omp atomic write
                    first_bad = k;
                }
            }
        }
    }
    const worker *worst = NULL;
    for (int i = 0; i < threads; i++)
        if (ws[i].bad != INT_MAX && (!worst || ws[i].bad < worst->bad))
            worst = &ws[i];
    return worst ? aec_fail(err, worst->bad_st, "%s", worst->bad_err) : AEC_OK;
}

/* The largest tile window: a full tile and a halo on each side, clipped to
 * the latent grid. */
static void largest_window(const decode_job *j, int *wmax, int *hmax)
{
    const aecb_header *h = j->h;
    int TL = h->tile_size / h->block_size;
    int grid_w, grid_h;
    aecb_latent_grid(h, &grid_w, &grid_h);
    *wmax = TL + 2 * j->halo < grid_w ? TL + 2 * j->halo : grid_w;
    *hmax = TL + 2 * j->halo < grid_h ? TL + 2 * j->halo : grid_h;
}

/* Pass 2: the output tiles of r, up to 2 x threads in flight: each tile's
 * window latents (entropy decoding), then the decoder network on each of
 * its cells that meets the region, all as OpenMP tasks.  On failure
 * returns the error of the first failing tile in raster order. */
static aec_status render_tiles(const decode_job *j, worker *ws, int threads, const tile_rect *r,
                               char *err)
{
    const aecb_header *h = j->h;
    int wmax, hmax, n = rect_count(r), P = h->block_size;
    int slots = 2 * threads < n ? 2 * threads : n; /* memory: no more slots than tiles */
    /* Cells enough to keep every thread busy however few tiles there are;
     * more would only add halos. */
    int min_cells = (threads + n - 1) / n;
    largest_window(j, &wmax, &hmax);
    size_t qfloats = (size_t)j->m->cfg.latent * wmax * hmax;
    float **q = calloc((size_t)slots, sizeof *q);
    aecb_tile_window *twin = calloc((size_t)slots, sizeof *twin);
    aec_status *tile_st = calloc((size_t)slots, sizeof *tile_st);
    int *n_cells = calloc((size_t)slots, sizeof *n_cells);
    char(*tile_err)[AEC_ERR_BYTES] = calloc((size_t)slots, sizeof *tile_err);
    aec_cell_job *jobs = malloc(sizeof *jobs * (size_t)slots * AEC_MAX_CELLS);
    aec_status st =
        q && twin && tile_st && n_cells && tile_err && jobs ? AEC_OK : AEC_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < slots && st == AEC_OK; i++)
        if (!(q[i] = malloc(sizeof(float) * qfloats)))
            st = AEC_ERR_OUT_OF_MEMORY;
    if (st != AEC_OK) {
        aec_fail(err, st, "out of memory for the tiles' latents");
        goto done;
    }
    for (int k0 = 0; k0 < n && st == AEC_OK; k0 += slots) {
        int nb = n - k0 < slots ? n - k0 : slots;
        /* Each tile is a task: its window latents (entropy decoding), then
         * a task per cell that meets the region.  Neither runs a scheduling
         * point, so the worker of the thread running it is its own. */
#pragma omp parallel num_threads(threads)
#pragma omp single
        for (int b = 0; b < nb; b++) {
#pragma omp task firstprivate(b)
            {
                worker *w = &ws[aec_thread_num()];
                aecb_tile_window_of(h, rect_tile(h, r, k0 + b), j->halo, &twin[b]);
                n_cells[b] = 0;
                tile_st[b] = window_latents(j, w, &twin[b], q[b]);
                if (tile_st[b] != AEC_OK)
                    memcpy(tile_err[b], w->err, AEC_ERR_BYTES);
                aec_cell cells[AEC_MAX_CELLS];
                int nc = tile_st[b] != AEC_OK ? 0
                                              : aec_cells_of(twin[b].lx0, twin[b].ly0,
                                                             twin[b].lw, twin[b].lh, min_cells, cells);
                aec_cell_job *cj = jobs + (size_t)b * AEC_MAX_CELLS;
                for (int c = 0; c < nc; c++) {
                    /* only cells that meet the region */
                    int64_t cx0 = (int64_t)cells[c].x0 * P, cy0 = (int64_t)cells[c].y0 * P;
                    if (cx0 >= (int64_t)j->rx + j->rw || cy0 >= (int64_t)j->ry + j->rh ||
                        cx0 + (int64_t)cells[c].w * P <= j->rx ||
                        cy0 + (int64_t)cells[c].h * P <= j->ry)
                        continue;
                    aec_cell_job *job = &cj[n_cells[b]++];
                    job->cell = cells[c];
#pragma omp task firstprivate(job, b)
                    job->status =
                        render_cell(j, &ws[aec_thread_num()], &twin[b], q[b], &job->cell);
                }
            }
        }
        for (int b = 0; b < nb && st == AEC_OK; b++) {
            if (tile_st[b] != AEC_OK) {
                st = aec_fail(err, tile_st[b], "%s", tile_err[b]);
                break;
            }
            for (int c = 0; c < n_cells[b]; c++)
                if (jobs[(size_t)b * AEC_MAX_CELLS + c].status != AEC_OK) {
                    st = aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory decoding tile %u",
                                  rect_tile(h, r, k0 + b));
                    break;
                }
        }
    }
done:
    for (int i = 0; q && i < slots; i++)
        free(q[i]);
    free(q), free(twin), free(tile_st), free(n_cells), free(tile_err), free(jobs);
    return st;
}

static void workers_free(worker *ws, int n)
{
    for (int i = 0; ws && i < n; i++) {
        ZSTD_freeDCtx(ws[i].dz);
        free(ws[i].raw);
        free(ws[i].idx);
        free(ws[i].sym);
        aem_acts_free(&ws[i].a);
    }
    free(ws);
}

/* One worker per thread with the buffers whose size the tile fixes: a
 * decompression context, the largest stream's raw bytes, the largest
 * window's indices and a tile's lattice symbols.  The activations come
 * later (worker_acts). */
static worker *workers_new(const decode_job *j, int threads)
{
    const aecb_header *h = j->h;
    uint32_t lw, lh; /* tile 0 is a largest tile */
    aecb_tile_latents(h, 0, &lw, &lh);
    size_t raw = (size_t)lw * lh * (j->lattice ? 2 * (size_t)j->m->cfg.latent : 1);
    if (j->lattice && (h->flags & AECB_FLAG_SPLIT)) {
        size_t work = aecb_split_work_bytes((size_t)j->m->cfg.latent, (size_t)lw * lh);
        raw = work > raw ? work : raw;
    }
    size_t sym = j->lattice ? (size_t)lw * lh * j->m->cfg.latent : 1;
    int wmax, hmax;
    largest_window(j, &wmax, &hmax);
    size_t idx = (size_t)(j->stages > 0 ? j->stages : 1) * wmax * hmax;
    worker *ws = calloc((size_t)threads, sizeof *ws);
    for (int i = 0; ws && i < threads; i++) {
        ws[i].dz = ZSTD_createDCtx();
        ws[i].raw = malloc(raw);
        ws[i].idx = malloc(idx);
        ws[i].sym = malloc(sizeof(int32_t) * sym);
        if (!ws[i].dz || !ws[i].raw || !ws[i].idx || !ws[i].sym) {
            workers_free(ws, threads);
            return NULL;
        }
    }
    return ws;
}

static uint64_t model_id(const decoder_model *dm)
{
    return dm->model ? dm->model->id : aem_builtin_id(dm->builtin);
}

static const char *model_name(const decoder_model *dm)
{
    return dm->model ? dm->model->name : aem_builtin_name(dm->builtin);
}

/* The model coded as `id`, parsing a built-in one on first use; NULL when
 * the decoder has none (or a built-in model cannot be allocated). */
static const aec_model *find_model(const aec_decoder *d, uint64_t id)
{
    for (int i = 0; i < d->n_models; i++)
        if (model_id(&d->models[i]) == id)
            return d->models[i].model ? d->models[i].model
                                      : aem_builtin_model(d->models[i].builtin);
    return NULL;
}

/* Steps 16..18 of spec/bitstream.md section 9, and the caller's parameters.
 * On success *mp is the file's model. */
static aec_status check_model(aec_decoder *d, const aecb_header *h, const aec_decode_params *p,
                              const aec_model **mp)
{
    const aec_model *m = find_model(d, h->model_id);
    if (!m) {
        char have[400] = "";
        for (int i = 0; i < d->n_models; i++) {
            size_t l = strlen(have);
            snprintf(have + l, sizeof have - l, "%s%s %016llx", i ? ", " : "",
                     model_name(&d->models[i]), (unsigned long long)model_id(&d->models[i]));
        }
        return aec_fail(d->err, AEC_ERR_MODEL_MISMATCH,
                        "file was coded with model %016llx, which this decoder lacks (it has %s); "
                        "load that model with --model",
                        (unsigned long long)h->model_id, have);
    }
    if (h->block_size != m->cfg.block) /* step 17 */
        return aec_fail(d->err, AEC_ERR_MODEL_MISMATCH, "file has block size %d, model %s has %d",
                        h->block_size, m->name, m->cfg.block);
    if (h->stages > m->cfg.stages || ((h->flags & AECB_FLAG_DICT) && !m->dict_size))
        return aec_fail(d->err, AEC_ERR_CORRUPT,
                        "header does not fit model %s (block %d, %d stages, dictionary %s)",
                        m->name, h->block_size, h->stages,
                        (h->flags & AECB_FLAG_DICT) ? "yes" : "no");
    if ((h->flags & AECB_FLAG_LATTICE) && h->lattice_dim != m->cfg.latent)
        return aec_fail(d->err, AEC_ERR_CORRUPT,
                        "lattice refinement of %u latent channels, model %s has %d (file corrupt)",
                        h->lattice_dim, m->name, m->cfg.latent);
    if (p->stages < 0)
        return aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT, "stages must be 0 (all) or positive");
    *mp = m;
    return AEC_OK;
}

/* Decompresses and checks the alpha stream into *plane (W*H bytes). */
static aec_status load_alpha(aec_decoder *d, const decode_job *j, uint8_t **plane)
{
    const aecb_header *h = j->h;
    size_t n = (size_t)h->width * h->height;
    *plane = malloc(n);
    if (!*plane)
        return aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
    aec_status st =
        aecb_check_stream(h, j->data, j->size, AECB_ALPHA_STREAM, d->err, AEC_ERR_BYTES);
    if (st != AEC_OK)
        return st;
    /* The alpha stream uses the dictionary too when the file does. */
    return aecb_zstd_decompress(NULL, j->dict, j->data + h->offsets[AECB_ALPHA_STREAM],
                                h->sizes[AECB_ALPHA_STREAM], *plane, n, d->err, AEC_ERR_BYTES);
}

/* Unfilters the region's rows of the alpha plane into the output's last
 * channel: prediction runs along rows, so each row is rebuilt from its
 * start. */
static aec_status write_alpha(aec_decoder *d, const decode_job *j, const uint8_t *plane)
{
    const aecb_header *h = j->h;
    uint8_t *row = malloc(h->width);
    if (!row)
        return aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
    for (uint32_t y = 0; y < j->rh; y++) {
        aecb_alpha_unfilter(row, 1, h->width, plane + (size_t)(j->ry + y) * h->width, h->width, 1);
        uint8_t *o = j->out + (size_t)y * j->rw * j->out_channels + j->out_channels - 1;
        for (uint32_t x = 0; x < j->rw; x++)
            o[(size_t)x * j->out_channels] = row[j->rx + x];
    }
    free(row);
    return AEC_OK;
}

aec_status aec_decode(aec_decoder *d, const uint8_t *data, size_t size,
                      const aec_decode_params *params, uint8_t **out, uint32_t *out_w,
                      uint32_t *out_h, aec_layout *out_layout)
{
    if (!d)
        return AEC_ERR_INVALID_ARGUMENT;
    if (!data || !out || !out_w || !out_h)
        return aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT, "NULL input or output pointer");
    *out = NULL;
    aec_decode_params p;
    aec_decode_params_default(&p);
    if (params)
        p = *params;
    aecb_header h;
    aec_status st = aecb_parse(data, size, &d->limits, &h, d->err, AEC_ERR_BYTES);
    if (st != AEC_OK)
        return st;
    decode_job j;
    memset(&j, 0, sizeof j);
    worker *ws = NULL;
    uint8_t *plane = NULL; /* the alpha stream, decompressed */
#ifdef _OPENMP
    int threads = d->threads > 0 ? d->threads : omp_get_max_threads();
#else
    int threads = 1;
#endif
    const aec_model *m = NULL;
    st = check_model(d, &h, &p, &m);
    if (st != AEC_OK)
        goto done;
    int stages = h.stages_available;
    if (p.stages > 0 && p.stages < stages)
        stages = p.stages;
    if (p.w == 0 && p.h == 0)
        p.x = 0, p.y = 0, p.w = h.width, p.h = h.height;
    if (p.w == 0 || p.h == 0 || p.x >= h.width || p.y >= h.height || p.w > h.width - p.x ||
        p.h > h.height - p.y) {
        st = aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT,
                      "region %u,%u %ux%u is not inside the %ux%u image", p.x, p.y, p.w, p.h,
                      h.width, h.height);
        goto done;
    }
    threads = aec_useful_threads(threads, (double)p.w * p.h);
    j.m = m, j.h = &h, j.data = data, j.size = size, j.stages = stages;
    /* The refinement applies on top of every coded stage only. */
    j.lattice = (h.flags & AECB_FLAG_LATTICE) && h.lattice_available && stages == h.stages;
    j.step = lattice_step(&h);
    j.halo = aem_decoder_halo(&m->cfg);
    j.rx = p.x, j.ry = p.y, j.rw = p.w, j.rh = p.h;
    j.out_channels = h.layout;
    ZSTD_DDict *ddict = NULL;
    if (h.flags & AECB_FLAG_DICT) { /* checked above: the model has one */
        ddict = ZSTD_createDDict(m->dict, m->dict_size);
        if (!ddict) {
            st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "cannot load the model's dictionary");
            goto done;
        }
        j.dict = ddict;
    }
    /* Output tiles meeting the region, and the tiles their windows meet. */
    int T = h.tile_size;
    tile_rect render = {(int)(p.x / T), (int)(p.y / T), (int)((p.x + p.w - 1) / T) + 1,
                        (int)((p.y + p.h - 1) / T) + 1};
    aecb_tile_window first, last;
    aecb_tile_window_of(&h, rect_tile(&h, &render, 0), j.halo, &first);
    aecb_tile_window_of(&h, rect_tile(&h, &render, rect_count(&render) - 1), j.halo, &last);
    tile_rect needed = tiles_meeting(&h, first.hx0, first.hy0, last.hx1, last.hy1);
    ws = workers_new(&j, threads);
    if (!ws) {
        st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the decoder's buffers");
        goto done;
    }
    st = run_tiles(&j, ws, threads, &needed, verify_tile, d->err);
    if (st == AEC_OK && (h.flags & AECB_FLAG_ALPHA))
        st = load_alpha(d, &j, &plane);
    if (st == AEC_OK) {
        j.out = malloc((size_t)p.w * p.h * j.out_channels);
        if (!j.out)
            st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for a %ux%u image", p.w,
                          p.h);
    }
    if (st == AEC_OK)
        st = render_tiles(&j, ws, threads, &render, d->err);
    if (st == AEC_OK && plane)
        st = write_alpha(d, &j, plane);
    if (st == AEC_OK) {
        *out = j.out, j.out = NULL;
        *out_w = p.w, *out_h = p.h;
        if (out_layout)
            *out_layout = (aec_layout)h.layout;
    }
done:
    workers_free(ws, threads);
    ZSTD_freeDDict((ZSTD_DDict *)j.dict);
    free(plane);
    free(j.out);
    aecb_header_free(&h);
    return st;
}
