/* SPDX-License-Identifier: BSD-3-Clause */
/* encoder.c - aec_encode: image -> tiles -> encoder network -> residual VQ
 * indices (and the lattice refinement of what they leave) -> per-(tile,
 * stage) zstd streams -> bitstream v1.
 *
 * Tiles are independent jobs run in parallel with OpenMP.  A tile's encoder
 * input is the tile plus a halo as wide as the encoder's receptive field
 * (aem_encoder_halo latents), cut from the image padded to whole 8x8 blocks
 * by edge replication, so a tile's latents equal those of the untiled
 * image: tiling never shows. */
#include <math.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bitstream/container.h"
#include "bitstream/lattice_stream.h"
#include "bitstream/metadata.h"
#include "bitstream/zstream.h"
#include "common/arena.h"
#include "common/cells.h"
#include "common/context.h"
#include "enc/downsample.h"
#include "enc/levels.h"
#include "enc/ratecontrol.h"
#include "enc/refine.h"
#include "enc/residual.h"
#include "enc/wiener_fit.h"
#include "model/network.h"
#include "nn/parallel.h"
#include "vq/lattice.h"
#include "vq/residual.h"
#include "vq/rvq.h"

/* zstd level of the lattice streams: level 19 makes them 10 % smaller than
 * level 9 for about twice the time of the (lattice) high levels
 * (bench/NOTES.md). */
#define AEC_LATTICE_ZSTD_LEVEL 19
/* Smallest tile side whose lattice streams use the split layout. */
#define AEC_SPLIT_MIN_TILE 256

void aec_encode_params_default(aec_encode_params *p)
{
    memset(p, 0, sizeof *p); /* every field not named below: 0 / NULL */
    p->quality = 0;
    p->threads = 0;
    p->tile_size = 0;
    p->lambda = AEC_LAMBDA_AUTO;
    p->lattice_step = AEC_LATTICE_AUTO;
    p->quality_fine = 0;
    p->target_size = 0;
    p->target_psnr = 0;
}

/* The RD trade-off each quality level uses by default.  Measured on
 * photographs (bench/NOTES.md): with a fixed number of stages, a larger
 * lambda moves the index choice to frequent codes and saves more bits than
 * the error it adds, so the middle levels use a large lambda; towards the
 * top it falls by 0.001 a level so the rates still reach 1 bpp and beyond.
 * Every level then lies on the best (stages, lambda) front of the default
 * model. */
static float level_lambda(int level, int stages_in_model)
{
    int from_top = stages_in_model - level;
    return from_top <= 5 ? 0.001f * (float)from_top : 0.007f;
}

void aec_limits_default(aec_limits *l)
{
    l->max_pixels = AEC_DEFAULT_MAX_PIXELS;
    l->max_dimension = AEC_MAX_DIMENSION;
}

aec_status aec_encoder_create(aec_encoder **out, const aec_model *model)
{
    if (!out)
        return AEC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    aec_encoder *e = calloc(1, sizeof *e);
    if (!e)
        return AEC_ERR_OUT_OF_MEMORY;
    e->model = model;
    aec_limits_default(&e->limits);
    *out = e;
    return AEC_OK;
}

static void kept_free_all(aec_encoder *e);

void aec_encoder_destroy(aec_encoder *e)
{
    if (e)
        kept_free_all(e);
    free(e);
}

int aec_encoder_levels(const aec_encoder *e)
{
    if (!e)
        return 0;
    return e->model ? e->model->cfg.stages : aec_builtin_levels();
}

const char *aec_encoder_last_error(const aec_encoder *e) { return e ? e->err : ""; }

typedef struct {
    const uint8_t *pixels;
    uint32_t width, height;
    size_t stride;
    int channels; /* bytes per pixel of the input */
    int gray;
} source_image;

/* Fills planes [3][H][W] (values 0..1) with the image area starting at
 * pixel (px0, py0), replicating the last row/column past the image edge.
 * Grey images feed the same value to all three channels. */
static void load_planes(const source_image *src, int px0, int py0, int W, int H, float *planes)
{
    size_t plane = (size_t)W * H;
    for (int y = 0; y < H; y++) {
        int sy = py0 + y;
        sy = sy < (int)src->height ? sy : (int)src->height - 1;
        const uint8_t *row = src->pixels + (size_t)sy * src->stride;
        for (int x = 0; x < W; x++) {
            int sx = px0 + x;
            sx = sx < (int)src->width ? sx : (int)src->width - 1;
            const uint8_t *p = row + (size_t)sx * src->channels;
            for (int c = 0; c < 3; c++)
                planes[c * plane + (size_t)y * W + x] =
                    (src->gray ? p[0] : p[c]) * (1.0f / 255.0f);
        }
    }
}

typedef struct {
    uint8_t *streams[AEM_MAX_STAGES + AECB_MAX_LAYERS]; /* stages, then the lattice
                                                           layers' streams */
    size_t sizes[AEM_MAX_STAGES + AECB_MAX_LAYERS];
    aec_status status;
    char err[AEC_ERR_BYTES];
} tile_result;

/* The stream of lattice layer `layer` of tile t: the symbols of its
 * channels in the split layout (bitstream/lattice_stream.h,
 * spec/bitstream.md 6.7) or the planes layout (vq/lattice.h, 6.6). */
static aec_status encode_layer(const aecb_header *h, int layer, const int32_t *sym, size_t n,
                               size_t lw, int spare_threads, ZSTD_CCtx *zc, uint8_t **out,
                               size_t *out_size, char *err)
{
    uint32_t first, count;
    aecb_layer_channels(h, layer, &first, &count);
    const int32_t *s = sym + first * n;
    if ((h->flags & AECB_FLAG_SPLIT) && spare_threads) /* its sections on the idle threads */
        return aecb_split_write_tasks_at(s, first, count, lw, n / lw, AEC_LATTICE_ZSTD_LEVEL,
                                         out, out_size, err, AEC_ERR_BYTES);
    if (h->flags & AECB_FLAG_SPLIT)
        return aecb_split_write_at(zc, s, first, count, lw, n / lw, AEC_LATTICE_ZSTD_LEVEL, out,
                                   out_size, err, AEC_ERR_BYTES);
    uint8_t *planes = malloc(2 * count * n);
    if (!planes)
        return aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the lattice layer");
    aem_lattice_pack_at(s, first, count, lw, n / lw, planes);
    aec_status st = aecb_zstd_compress(zc, planes, 2 * count * n, AEC_LATTICE_ZSTD_LEVEL, NULL,
                                       out, out_size, err, AEC_ERR_BYTES);
    free(planes);
    return st;
}

/* Lattice refinement of a tile's latents z [D][n] (n = lw * lh): what the
 * VQ stages left, rounded to the lattice step * Z^D, in one stream per
 * layer of the file (one layer unless flags bit 5 is set); sym [D][n] is
 * the tile slot's buffer for the symbols. */
static aec_status encode_lattice(const aec_model *m, const aecb_header *h, const float *z,
                                 const uint8_t *idx, size_t n, size_t lw, int stages, float step,
                                 int spare_threads, ZSTD_CCtx *zc, int32_t *sym, uint8_t **out,
                                 size_t *out_size, char *err)
{
    size_t D = (size_t)m->cfg.latent;
    float *q = NULL; /* what the stages left, when there are stages */
    if (stages > 0) {
        q = malloc(sizeof(float) * D * n);
        if (!q)
            return aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the lattice layer");
        aem_rvq_decode(m, idx, n, stages, q);
    }
    aem_lattice_symbols(z, q, D, n, step, sym);
    free(q);
    aec_status st = AEC_OK;
    for (int l = 0; l < h->lattice_layers && st == AEC_OK; l++)
        st = encode_layer(h, l, sym, n, lw, spare_threads, zc, &out[l], &out_size[l], err);
    return st;
}

/* A thread's buffers for the cells it runs, kept from cell to cell (an
 * allocation per cell costs page faults that the threads queue for). */
typedef struct {
    aem_acts a;
    float *planes;
    size_t planes_floats;
} cell_scratch;

/* What the encoder keeps for one thread between encodes. */
struct aec_enc_kept {
    ZSTD_CCtx *zc;
    cell_scratch scratch;
};

static void kept_free_all(aec_encoder *e)
{
    for (int i = 0; i < e->kept_n; i++) {
        cell_scratch *cs = &e->kept[i].scratch;
        ZSTD_freeCCtx(e->kept[i].zc);
        aem_acts_free(&cs->a);
        aec_arena_free(cs->planes, sizeof(float) * cs->planes_floats);
    }
    free(e->kept);
    e->kept = NULL, e->kept_n = 0;
}

/* e->kept ready for `threads` threads coding a picture of `pixels`: what a
 * picture more than four times larger left is freed first (small pictures
 * after a large one do not hold its memory); each thread has a context.
 * AEC_ERR_OUT_OF_MEMORY when one cannot be made. */
static aec_status kept_ready(aec_encoder *e, int threads, uint64_t pixels)
{
    if (e->kept_pixels / 4 > pixels)
        kept_free_all(e);
    e->kept_pixels = pixels;
    if (threads > e->kept_n) {
        struct aec_enc_kept *k = realloc(e->kept, sizeof *k * (size_t)threads);
        if (!k)
            return AEC_ERR_OUT_OF_MEMORY;
        memset(k + e->kept_n, 0, sizeof *k * (size_t)(threads - e->kept_n));
        e->kept = k, e->kept_n = threads;
    }
    for (int i = 0; i < threads; i++)
        if (!e->kept[i].zc && !(e->kept[i].zc = ZSTD_createCCtx()))
            return AEC_ERR_OUT_OF_MEMORY;
    return AEC_OK;
}

/* Runs the encoder network on one cell of the tile whose own latents tw
 * gives (the cell's window cut from the image padded to whole blocks) and
 * stores the cell's latents in the tile's z [D][lh][lw]. */
static aec_status cell_latents(const aec_model *m, const aecb_header *h,
                               const aecb_tile_window *tw, const aec_cell *cell,
                               const source_image *src, float *z, cell_scratch *cs)
{
    const aem_config *c = &m->cfg;
    int P = c->block, grid_w, grid_h;
    aecb_latent_grid(h, &grid_w, &grid_h);
    aec_cell win = aec_cell_grow(cell, aem_encoder_halo(c), grid_w, grid_h);
    int Hs = win.h, Ws = win.w;
    size_t N = (size_t)Hs * Ws, n = (size_t)tw->lw * tw->lh, need = 3 * N * P * P;
    if (cs->planes_floats < need) {
        aec_arena_free(cs->planes, sizeof(float) * cs->planes_floats);
        cs->planes_floats = 0;
        if (!(cs->planes = aec_arena_alloc(sizeof(float) * need)))
            return AEC_ERR_OUT_OF_MEMORY;
        cs->planes_floats = need;
    }
    if (aem_acts_reshape(&cs->a, c, 1, Hs, Ws, 1, 0))
        return AEC_ERR_OUT_OF_MEMORY;
    aem_acts *a = &cs->a;
    a->row0 = cell->y0 - win.y0, a->row1 = a->row0 + cell->h; /* the cell's own rows */
    aem_acts_in_image(a, grid_w, grid_h, win.x0, win.y0); /* where it lies in the image */
    load_planes(src, win.x0 * P, win.y0 * P, Ws * P, Hs * P, cs->planes);
    aem_pixels_to_blocks(c, 1, Hs, Ws, cs->planes, a->x);
    aem_encoder_forward(m, a);
    /* Keep the cell's own latents, dropping the halo. */
    for (int d = 0; d < c->latent; d++)
        for (int y = 0; y < cell->h; y++)
            memcpy(z + (size_t)d * n + (size_t)(cell->y0 - tw->ly0 + y) * tw->lw +
                       (cell->x0 - tw->lx0),
                   a->z + (size_t)d * N + (size_t)(cell->y0 - win.y0 + y) * Ws +
                       (cell->x0 - win.x0),
                   sizeof(float) * cell->w);
    return AEC_OK;
}

/* Codes tile t from its latents z [D][n]: the VQ stages' indices (chosen
 * with lambda), each in a zstd stream, then the lattice refinement.
 * spare_threads: fewer tiles than threads, so the lattice stream's
 * sections are compressed as tasks of their own. */
static aec_status code_tile(const aec_model *m, const aecb_header *h, uint32_t t, const float *z,
                            int32_t *sym, int stages, float lambda, float step,
                            int spare_threads, ZSTD_CCtx *zc, tile_result *r)
{
    uint32_t lw, lh;
    aecb_tile_latents(h, t, &lw, &lh);
    size_t n = (size_t)lw * lh;
    uint8_t *idx = malloc((size_t)(stages > 0 ? stages : 1) * n);
    if (!idx || (stages > 0 && aem_rvq_encode_ecvq(m, z, n, stages, lambda, idx))) {
        free(idx);
        snprintf(r->err, sizeof r->err, "out of memory encoding tile %u", t);
        return AEC_ERR_OUT_OF_MEMORY;
    }
    aec_status st = AEC_OK;
    for (int s = 0; s < stages && st == AEC_OK; s++)
        st = aecb_zstd_compress(zc, idx + (size_t)s * n, n, AEC_ZSTD_LEVEL, NULL, &r->streams[s],
                                &r->sizes[s], r->err, sizeof r->err);
    if (st == AEC_OK && step > 0)
        st = encode_lattice(m, h, z, idx, n, lw, stages, step, spare_threads, zc, sym,
                            &r->streams[stages], &r->sizes[stages], r->err);
    free(idx);
    return st;
}

/* Tile t's latents into z: the encoder network on its cells, as tasks of
 * their own (the caller's task waits for them). */
static aec_status tile_latents(const aec_model *m, const aecb_header *h, uint32_t t,
                               const source_image *src, int min_cells, struct aec_enc_kept *kept,
                               aec_cell_job *cj, float *z, tile_result *r)
{
    aecb_tile_window tw;
    aecb_tile_window_of(h, t, 0, &tw);
    aec_cell cells[AEC_MAX_CELLS];
    int n = aec_bands_of(tw.lx0, tw.ly0, tw.lw, tw.lh, min_cells, cells);
    for (int k = 0; k < n; k++) {
        cj[k].cell = cells[k];
#pragma omp task firstprivate(k)
        cj[k].status = cell_latents(m, h, &tw, &cj[k].cell, src, z, &kept[aec_thread_num()].scratch);
    }
#pragma omp taskwait
    aec_status cs = AEC_OK;
    for (int k = 0; k < n; k++)
        cs = cj[k].status != AEC_OK ? cj[k].status : cs;
    if (cs != AEC_OK) {
        r->status = cs;
        snprintf(r->err, sizeof r->err, "out of memory encoding tile %u", t);
    }
    return cs;
}

/* Copies between the latents z[t] [D][lh][lw] of tiles first..end-1 and
 * a window of the latent grid, win [D][w.h][w.w] (to_window: into win,
 * else back into the tiles). */
static void window_latents(const aecb_header *h, int D, const aec_cell *w, float **z,
                           float *win, uint32_t first, uint32_t end, int to_window)
{
    for (uint32_t t = first; t < end; t++) {
        aecb_tile_window tw;
        aecb_tile_window_of(h, t, 0, &tw);
        int x0 = tw.lx0 > w->x0 ? tw.lx0 : w->x0, y0 = tw.ly0 > w->y0 ? tw.ly0 : w->y0;
        int x1 = tw.lx0 + tw.lw < w->x0 + w->w ? tw.lx0 + tw.lw : w->x0 + w->w;
        int y1 = tw.ly0 + tw.lh < w->y0 + w->h ? tw.ly0 + tw.lh : w->y0 + w->h;
        for (int d = 0; d < D && x0 < x1; d++)
            for (int y = y0; y < y1; y++) {
                float *a = win + ((size_t)d * w->h + (y - w->y0)) * w->w + (x0 - w->x0);
                float *b = z[t] + ((size_t)d * tw.lh + (y - tw.ly0)) * tw.lw + (x0 - tw.lx0);
                memcpy(to_window ? a : b, to_window ? b : a, sizeof(float) * (x1 - x0));
            }
    }
}

/* Refines tile t's latents z[t] through the decoder (enc/refine.h), on
 * the tile and as much of its neighbours' latents as the decoder reads
 * (fixed), against the window's own pixels; outside a parallel region,
 * so that its layers run on the encoder's threads. */
static aec_status refine_tile(const aec_model *m, const aecb_header *h, uint32_t t,
                              const source_image *src, float step, int iterations, float **z,
                              tile_result *r)
{
    const aem_config *c = &m->cfg;
    int P = c->block, D = c->latent, grid_w, grid_h;
    aecb_latent_grid(h, &grid_w, &grid_h);
    aecb_tile_window tw;
    aecb_tile_window_of(h, t, 0, &tw);
    aec_cell tile = {tw.lx0, tw.ly0, tw.lw, tw.lh};
    aec_cell w = aec_cell_grow(&tile, aem_decoder_halo(c), grid_w, grid_h);
    size_t pixels = (size_t)w.w * w.h * P * P;
    float *planes = malloc(sizeof(float) * 3 * pixels), *x = malloc(sizeof(float) * 3 * pixels);
    float *zw = malloc(sizeof(float) * D * w.w * w.h);
    aec_status st = planes && x && zw ? AEC_OK : AEC_ERR_OUT_OF_MEMORY;
    if (st == AEC_OK) {
        load_planes(src, w.x0 * P, w.y0 * P, w.w * P, w.h * P, planes);
        aem_pixels_to_blocks(c, 1, w.h, w.w, planes, x);
        window_latents(h, D, &w, z, zw, 0, h->n_tiles, 1);
        aem_refine_rect own = {tile.x0 - w.x0, tile.y0 - w.y0, tile.x0 - w.x0 + tile.w,
                               tile.y0 - w.y0 + tile.h};
        st = aem_refine_latents(m, x, w.w, w.h, own, step, iterations, zw);
    }
    if (st == AEC_OK) /* back: the tile's own latents (its neighbours' did not change) */
        window_latents(h, D, &w, z, zw, t, t + 1, 0);
    if (st != AEC_OK) {
        r->status = st;
        snprintf(r->err, sizeof r->err, "out of memory refining tile %u", t);
    }
    free(planes), free(x), free(zw);
    return st;
}

/* Encodes every tile into res[], up to 2 x threads tiles in flight: each
 * tile is an OpenMP task that runs the encoder network on its cells as
 * tasks of their own, then quantises and codes the tile, so that one
 * tile's zstd overlaps the others' networks.  Working memory: the latents
 * of the tiles in flight, each thread's activations for one cell and its
 * zstd context.  (A cell task has no scheduling point, so the buffers of
 * the thread running it are its own until it ends.)  With `refine`
 * iterations, every tile's latents are made first, then refined one tile
 * at a time on all threads, then coded. */
static aec_status encode_tiles(aec_encoder *e, const aec_model *m, const aecb_header *h,
                               const source_image *src, int stages, float lambda, float step,
                               int refine, int threads, tile_result *res, char *err)
{
    /* No more slots than tiles, each as large as tile 0 (a largest one),
     * so a small image asks little memory whatever the thread count; when
     * the latents are refined between two passes, every tile's latents
     * are kept (zslots), the symbols still a slot's. */
    int slots = 2 * threads < (int64_t)h->n_tiles ? 2 * threads : (int)h->n_tiles;
    int zslots = refine ? (int)h->n_tiles : slots;
    uint32_t lw0, lh0;
    aecb_tile_latents(h, 0, &lw0, &lh0);
    size_t zfloats = (size_t)m->cfg.latent * lw0 * lh0;
    /* Cells enough to keep every thread busy however few tiles there are;
     * more would only add halos. */
    int min_cells = (threads + (int)h->n_tiles - 1) / (int)h->n_tiles;
    float **z = calloc((size_t)zslots, sizeof *z);
    int32_t **sym = calloc((size_t)slots, sizeof *sym);
    aec_cell_job *jobs = malloc(sizeof *jobs * (size_t)zslots * AEC_MAX_CELLS);
    aec_status st = z && sym && jobs ? AEC_OK : AEC_ERR_OUT_OF_MEMORY;
    if (st == AEC_OK)
        st = kept_ready(e, threads, (uint64_t)src->width * src->height);
    struct aec_enc_kept *kept = e->kept; /* thread i's context and cell buffers */
    /* the slots' latents and lattice symbols in one arena */
    size_t arena_bytes = (sizeof(float) * zslots + sizeof(int32_t) * slots) * zfloats;
    float *z_all = st == AEC_OK ? aec_arena_alloc(arena_bytes) : NULL;
    if (!z_all)
        st = AEC_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < zslots && st == AEC_OK; i++)
        z[i] = z_all + zfloats * i;
    for (int i = 0; i < slots && st == AEC_OK; i++)
        sym[i] = (int32_t *)(z_all + zfloats * zslots) + zfloats * i;
    if (st != AEC_OK) {
        aec_fail(err, st, "out of memory for the tiles' latents");
        goto done;
    }
    int grid_w, grid_h;
    aecb_latent_grid(h, &grid_w, &grid_h);
    aem_wino_prepare(m, 0, grid_w, grid_h, threads);
    int spare_threads = (int64_t)h->n_tiles < threads;
    if (refine) { /* every tile's latents, then each refined on all threads */
#pragma omp parallel num_threads(threads)
#pragma omp single
        for (uint32_t t = 0; t < h->n_tiles; t++) {
#pragma omp task firstprivate(t)
            tile_latents(m, h, t, src, min_cells, kept, jobs + (size_t)t * AEC_MAX_CELLS, z[t],
                         &res[t]);
        }
        int before = nn_fork_threads(threads); /* the refinement's layers */
        for (uint32_t t = 0; t < h->n_tiles; t++)
            if (res[t].status == AEC_OK)
                refine_tile(m, h, t, src, step, refine, z, &res[t]);
        nn_fork_threads(before);
    }
    /* Tile t uses slot t % slots (its symbols, and its latents unless they
     * were made above), once the tile before it in that slot is done (the
     * task dependence on the slot): a thread that finishes early starts
     * the next tile instead of waiting for a round's slowest one (an edge
     * tile is smaller), so the threads stay busy to the end.  A tied task:
     * the context of the thread running it is its own. */
#pragma omp parallel num_threads(threads)
#pragma omp single
    for (uint32_t t = 0; t < h->n_tiles; t++) {
        int b = (int)(t % (uint32_t)slots);
        float *zt = refine ? z[t] : z[b];
#pragma omp task firstprivate(t, b, zt) depend(inout : sym[b])
        if (res[t].status == AEC_OK &&
            (refine || tile_latents(m, h, t, src, min_cells, kept,
                                    jobs + (size_t)b * AEC_MAX_CELLS, zt, &res[t]) == AEC_OK))
            res[t].status = code_tile(m, h, t, zt, sym[b], stages, lambda, step, spare_threads,
                                      kept[aec_thread_num()].zc, &res[t]);
    }
    for (uint32_t t = 0; t < h->n_tiles; t++)
        if (res[t].status != AEC_OK) {
            st = aec_fail(err, res[t].status, "%s", res[t].err[0] ? res[t].err : "out of memory");
            break;
        }
done:
    aec_arena_free(z_all, arena_bytes);
    free(z), free(sym), free(jobs);
    return st;
}

/* What the quality level (and the caller's overrides) code: the model, the
 * VQ stages, lambda in p->lambda and the lattice step (0 = none). */
static aec_status resolve_level(aec_encoder *e, aec_encode_params *p, const aec_model **m,
                                int *stages, float *step, int *half, int *residual)
{
    int levels = aec_encoder_levels(e);
    float fine = p->quality_fine > 0 ? p->quality_fine : (float)p->quality;
    if (fine == 0)
        fine = (float)((levels + 1) / 2);
    if (!(fine >= 1 && fine <= levels))
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "quality %g is outside 1..%d",
                        (double)fine, levels);
    int level = (int)floorf(fine);
    float frac = fine - (float)level;
    *half = 0, *residual = 0;
    if (e->model) { /* the caller's model: a level is a number of VQ stages */
        *m = e->model, *stages = level, *step = 0;
        if (p->lambda == AEC_LAMBDA_AUTO)
            p->lambda = level_lambda(level, e->model->cfg.stages);
    } else {
        const aec_level *l = aec_builtin_level(level);
        int model = aec_level_model(l, p->denoise);
        *stages = l->stages, *step = l->lattice_step, *half = l->half;
        *residual = l->residual_step;
        /* Between two levels the step goes geometrically from one to the
         * next (the levels' rates grow by a constant factor), with the
         * model of the nearer level; from the last half-size level to the
         * full-size one above, each size goes to (or from) the step of the
         * rate halfway between them (levels.h). */
        const aec_level *u = frac > 0 && level < levels ? aec_builtin_level(level + 1) : 0;
        const float S = AEC_LEVEL_SIZE_SWITCH;
        if (u && l->half && !u->half && frac < S) {
            *step = l->lattice_step * powf(AEC_LEVEL_HALF_MID_STEP / l->lattice_step, frac / S);
        } else if (u && l->half && !u->half) {
            model = aec_level_model(u, p->denoise), *stages = u->stages, *half = 0;
            *step = AEC_LEVEL_FULL_MID_STEP *
                    powf(u->lattice_step / AEC_LEVEL_FULL_MID_STEP, (frac - S) / (1 - S));
        } else if (u) {
            *step = l->lattice_step * powf(u->lattice_step / l->lattice_step, frac);
            if (frac >= 0.5f)
                model = aec_level_model(u, p->denoise), *stages = u->stages;
            /* the residual's step geometrically too; from a level without
             * one, from the fraction 0.5 on, from a coarse step (levels.h) */
            float from = (float)l->residual_step, span = frac;
            if (!l->residual_step && u->residual_step && frac >= 0.5f) {
                from = (float)u->residual_step * AEC_LEVEL_RESIDUAL_ENTRY;
                from = from < AEM_RESIDUAL_MAX_STEP ? from : AEM_RESIDUAL_MAX_STEP;
                span = (frac - 0.5f) / 0.5f;
            }
            if (from > 0 && u->residual_step)
                *residual =
                    (int)lrintf(from * powf((float)u->residual_step / from, span));
        }
        *m = aem_builtin_model(model);
        if (!*m) /* parsed on first use: only allocation can fail */
            return aec_fail(e->err, AEC_ERR_OUT_OF_MEMORY, "cannot prepare built-in model %s",
                            aem_builtin_name(model));
        if (p->lambda == AEC_LAMBDA_AUTO)
            p->lambda = l->lambda;
    }
    if (p->half_size < -1 || p->half_size > 1)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                        "half_size %d is not -1 (full size), 0 (the level's) or 1 (half size)",
                        p->half_size);
    if (p->half_size)
        *half = p->half_size > 0;
    if (p->residual_step != 0 && p->residual_step != -1 &&
        !(p->residual_step >= AEM_RESIDUAL_MIN_STEP && p->residual_step <= AEM_RESIDUAL_MAX_STEP))
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                        "residual step %d is not -1 (none), 0 (the level's) or %d..%d",
                        p->residual_step, AEM_RESIDUAL_MIN_STEP, AEM_RESIDUAL_MAX_STEP);
    if (p->residual_step)
        *residual = p->residual_step > 0 ? p->residual_step : 0;
    if (p->filter < -1 || p->filter > 1)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                        "filter %d is not 0 (where it pays), 1 (always) or -1 (never)",
                        p->filter);
    if (p->lattice_step != AEC_LATTICE_AUTO)
        *step = p->lattice_step;
    if (!(p->lambda >= 0 && p->lambda <= 1))
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "lambda %g is outside 0..1",
                        (double)p->lambda);
    /* Steps from 2^-20 up: below that the 16-bit symbols saturate anyway. */
    if (!(*step == 0 || (*step >= 1.0f / 65536 && *step <= 64)))
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                        "lattice step %g is outside 1/65536..64 (0 = none)", (double)*step);
    if (*step > 0 && (*m)->cfg.latent > 255)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                        "the lattice layer codes at most 255 latent channels, not %d",
                        (*m)->cfg.latent);
    if (p->lattice_only)
        *stages = 0;
    if (*stages == 0 && *step == 0)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                        p->lattice_only ? "lattice_only needs a lattice step"
                                        : "quality %d codes no VQ stage, so it needs a lattice step",
                        level);
    return AEC_OK;
}

/* What aec_encode_once and aec_encode_latents resolve alike from the
 * caller's parameters: the level's model, stages and step, the tile size
 * and the row stride (0 = packed rows). */
typedef struct {
    aec_encode_params params;
    const aec_model *model;
    int stages, tile, channels;
    float step;
    int half; /* code the picture at half size (flags bit 6) */
    int residual; /* step of the pixel residual layer (flags bit 7), 0 = none */
    int refine;   /* iterations of the latents' refinement (effort), 0 = none */
} encode_setup;

static aec_status prepare_encode(aec_encoder *e, const aec_encode_params *params,
                                 aec_layout layout, uint32_t width, size_t *stride,
                                 encode_setup *s)
{
    aec_encode_params_default(&s->params);
    if (params)
        s->params = *params;
    s->model = NULL, s->stages = 0, s->step = 0;
    aec_status st =
        resolve_level(e, &s->params, &s->model, &s->stages, &s->step, &s->half, &s->residual);
    if (st != AEC_OK)
        return st;
    /* The residual adds to a full-size picture's lattice layers. */
    if (s->residual && (s->half || s->step == 0)) {
        if (s->params.residual_step > 0)
            return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                            "the pixel residual layer needs a full-size lattice level");
        s->residual = 0;
    }
    if (s->half && aec_layout_has_alpha(layout)) {
        if (s->params.half_size > 0)
            return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                            "half-size coding is for pictures without alpha");
        s->half = 0; /* the alpha plane is lossless, at full size */
    }
    if (s->params.effort < 0)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "effort %d is negative",
                        s->params.effort);
    /* Lattice levels: the symbols are the latents' own.  Not when
     * de-noising: refined towards the noisy source, the latents would put
     * the noise back. */
    int refinable = s->stages == 0 && s->step > 0 && !s->params.denoise;
    s->refine = refinable ? aem_refine_iterations(s->params.effort) : 0;
    s->tile = s->params.tile_size ? s->params.tile_size : AEC_DEFAULT_TILE;
    if (s->tile < 64 || s->tile > 1024 || s->tile % 64)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                        "tile size %d is not a multiple of 64 in 64..1024", s->tile);
    s->channels = aec_layout_channels(layout);
    if (*stride == 0)
        *stride = (size_t)width * s->channels;
    if (*stride < (size_t)width * s->channels)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "row stride %zu is shorter than a row",
                        *stride);
    return AEC_OK;
}

/* The half-size image of the caller's pixels (spec/bitstream.md 4.1), which
 * then stand for them: returns the new buffer (the caller frees it), or
 * NULL when out of memory. */
static uint8_t *halve_source(const uint8_t **pixels, uint32_t *width, uint32_t *height,
                             size_t *stride, int channels)
{
    uint32_t cw = (*width + 1) / 2, ch = (*height + 1) / 2;
    uint8_t *halved = malloc((size_t)cw * ch * channels);
    if (!halved || aec_downsample2(*pixels, *width, *height, *stride, channels, halved)) {
        free(halved);
        return NULL;
    }
    *pixels = halved, *width = cw, *height = ch, *stride = (size_t)cw * channels;
    return halved;
}

aec_status aec_encode_once(aec_encoder *e, const uint8_t *pixels, uint32_t width,
                           uint32_t height, size_t stride, aec_layout layout,
                           const aec_encode_params *params, uint8_t **out, size_t *out_size)
{
    if (!e)
        return AEC_ERR_INVALID_ARGUMENT;
    if (!pixels || !out || !out_size)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "NULL pixels or output pointer");
    *out = NULL;
    *out_size = 0;
    if (!aec_layout_valid(layout))
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "unknown pixel layout %d", (int)layout);
    if (width == 0 || height == 0)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "image has no pixels (%ux%u)", width,
                        height);
    if (width > e->limits.max_dimension || height > e->limits.max_dimension ||
        (uint64_t)width * height > e->limits.max_pixels)
        return aec_fail(e->err, AEC_ERR_LIMIT, "image %ux%u is above the limits", width, height);
    encode_setup set;
    aec_status st = prepare_encode(e, params, layout, width, &stride, &set);
    if (st != AEC_OK)
        return st;
    aec_encode_params p = set.params;
    const aec_model *m = set.model;
    int stages = set.stages, tile = set.tile, channels = set.channels;
    float step = set.step;

    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = width, h.height = height, h.layout = (uint8_t)layout, h.stages = (uint8_t)stages;
    h.flags = aec_layout_has_alpha(layout) ? AECB_FLAG_ALPHA : 0;
    uint64_t md_size = aecb_metadata_size(&p.metadata);
    if (md_size > AECB_MAX_METADATA)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                        "metadata of %llu bytes, above the format's %u",
                        (unsigned long long)md_size, AECB_MAX_METADATA);
    if (md_size)
        h.flags |= AECB_FLAG_METADATA;
    h.block_size = (uint8_t)m->cfg.block, h.tile_size = (uint16_t)tile, h.model_id = m->id;
    uint32_t step_q = 0;
    if (step > 0) {
        /* The decoder sees the stored step: quantise with exactly that. */
        step_q = (uint32_t)(step * (float)AECB_LATTICE_STEP_ONE + 0.5f);
        step = (float)step_q / (float)AECB_LATTICE_STEP_ONE;
        h.flags |= AECB_FLAG_LATTICE;
        /* The split layout pays about 14 frame headers and Huffman tables
         * per tile, which small tiles cannot earn back: on photographs it
         * is 18-117 % larger than the planes layout with 64-pixel tiles,
         * -9 to +7 % with 256, 0 to 11 % smaller with 512, the default
         * (bench/NOTES.md). */
        /* Layers of channels (a file cut after one still decodes) cost a
         * few frames more per tile, which the split layout's tiles earn
         * back (bench/NOTES.md). */
        if (tile >= AEC_SPLIT_MIN_TILE)
            h.flags |= AECB_FLAG_SPLIT | AECB_FLAG_LAYERED;
        h.lattice_dim = (uint8_t)m->cfg.latent;
        h.lattice_step_q = step_q;
    }
    /* At half size the header keeps the picture's size; the tiles describe
     * the half-size image made here. */
    uint8_t *halved = NULL;
    const uint8_t *source = pixels; /* the full-size picture, for the filter */
    size_t source_stride = stride;
    if (set.half) {
        h.flags |= AECB_FLAG_HALF;
        if (!(halved = halve_source(&pixels, &width, &height, &stride, channels)))
            return aec_fail(e->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the half-size image");
    }
    st = aecb_header_init(&h, e->err, AEC_ERR_BYTES);
    if (st != AEC_OK) {
        free(halved);
        return st;
    }
    source_image src = {pixels, width, height, stride, channels, aec_layout_is_gray(layout)};
    tile_result *res = calloc(h.n_tiles, sizeof *res);
    const uint8_t **streams = calloc(h.n_streams, sizeof *streams);
    uint8_t *alpha = NULL, *alpha_raw = NULL, *md = md_size ? malloc((size_t)md_size) : NULL;
    size_t alpha_size = 0;
    if (!res || !streams || (md_size && !md)) {
        st = aec_fail(e->err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    if (h.flags & AECB_FLAG_ALPHA) { /* lossless alpha plane, left-predicted */
        alpha_raw = malloc((size_t)width * height);
        if (!alpha_raw) {
            st = aec_fail(e->err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
            goto done;
        }
        aecb_alpha_filter(alpha_raw, pixels + channels - 1, width, height, (size_t)channels,
                          stride);
        st = aecb_zstd_compress(NULL, alpha_raw, (size_t)width * height, AEC_ZSTD_LEVEL, NULL,
                                &alpha, &alpha_size, e->err, AEC_ERR_BYTES);
        if (st != AEC_OK)
            goto done;
        streams[AECB_ALPHA_STREAM] = alpha;
        h.sizes[AECB_ALPHA_STREAM] = (uint32_t)alpha_size;
    }
#ifdef _OPENMP
    int threads = p.threads > 0 ? p.threads : omp_get_max_threads();
#else
    int threads = 1;
#endif
    threads = aec_useful_threads(threads, (double)width * height);
    st = encode_tiles(e, m, &h, &src, stages, p.lambda, step, set.refine, threads, res, e->err);
    if (st != AEC_OK)
        goto done;
    for (int s = 0; s < stages; s++)
        for (uint32_t t = 0; t < h.n_tiles; t++) {
            uint32_t i = aecb_stream_index(&h, s, t);
            streams[i] = res[t].streams[s];
            h.sizes[i] = (uint32_t)res[t].sizes[s];
        }
    for (int l = 0; l < h.lattice_layers; l++)
        for (uint32_t t = 0; t < h.n_tiles; t++) {
            uint32_t i = aecb_layer_stream_index(&h, l, t);
            streams[i] = res[t].streams[stages + l];
            h.sizes[i] = (uint32_t)res[t].sizes[stages + l];
        }
    if (md) {
        aecb_metadata_write(&p.metadata, md);
        streams[aecb_metadata_stream_index(&h)] = md;
        h.sizes[aecb_metadata_stream_index(&h)] = (uint32_t)md_size;
    }
    st = aecb_write(&h, streams, out, out_size);
    if (st != AEC_OK)
        aec_fail(e->err, st, "cannot assemble the file: %s", aec_status_string(st));
    else if (set.residual)
        st = aec_enc_add_residual(m, pixels, stride, set.residual, threads, out, out_size,
                                  e->err);
    /* where it pays, but not when de-noising: fitted to the noisy source,
     * the filter would put some of the noise back */
    if (st == AEC_OK && (p.filter > 0 || (p.filter == 0 && !p.denoise)))
        st = aec_enc_add_filter(m, source, source_stride, threads, p.filter == 1, out, out_size,
                                NULL, e->err);
    if (st != AEC_OK && *out) {
        free(*out);
        *out = NULL, *out_size = 0;
    }
done:
    if (res)
        for (uint32_t t = 0; t < h.n_tiles; t++)
            for (int s = 0; s < stages + h.lattice_layers; s++)
                free(res[t].streams[s]);
    free(res);
    free(streams);
    free(alpha);
    free(alpha_raw);
    free(md);
    free(halved);
    aecb_header_free(&h);
    return st;
}

/* ---- latent export ----------------------------------------------------- */

aec_status aec_encode_latents(aec_encoder *e, const uint8_t *pixels, uint32_t width,
                              uint32_t height, size_t stride, aec_layout layout,
                              const aec_encode_params *params, float **out, uint32_t *grid_w,
                              uint32_t *grid_h, uint32_t *dims)
{
    if (!e)
        return AEC_ERR_INVALID_ARGUMENT;
    if (!pixels || !out || !grid_w || !grid_h || !dims)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "NULL pixels or output pointer");
    *out = NULL;
    if (!aec_layout_valid(layout))
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "unknown pixel layout %d", (int)layout);
    if (width == 0 || height == 0 || width > e->limits.max_dimension ||
        height > e->limits.max_dimension || (uint64_t)width * height > e->limits.max_pixels)
        return aec_fail(e->err, AEC_ERR_LIMIT, "image %ux%u is empty or above the limits",
                        width, height);
    encode_setup set;
    aec_status st = prepare_encode(e, params, layout, width, &stride, &set);
    if (st != AEC_OK)
        return st;
    aec_encode_params p = set.params;
    const aec_model *m = set.model;
    int stages = set.stages, tile = set.tile, channels = set.channels;
    float step = set.step;
    if (step > 0) /* the step the file stores, as aec_encode quantises */
        step = (float)(uint32_t)(step * (float)AECB_LATTICE_STEP_ONE + 0.5f) /
               (float)AECB_LATTICE_STEP_ONE;
    uint8_t *halved = NULL; /* a half-size level: the latents of what it codes */
    if (set.half && !(halved = halve_source(&pixels, &width, &height, &stride, channels)))
        return aec_fail(e->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the half-size image");
    const aem_config *c = &m->cfg;
    int P = c->block, D = c->latent;
    int Ws = (int)((width + P - 1) / P), Hs = (int)((height + P - 1) / P);
    size_t N = (size_t)Ws * Hs;
    source_image src = {pixels, width, height, stride, channels, aec_layout_is_gray(layout)};
    /* The whole image in one pass: the latents equal the tiled encoder's. */
    aem_acts a;
    float *planes = malloc(sizeof(float) * 3 * N * P * P);
    float *res = malloc(sizeof(float) * 2 * N * D);
    int tl = tile / P; /* a tile's side in latents */
    float *tz = malloc(sizeof(float) * D * tl * tl), *tq = malloc(sizeof(float) * D * tl * tl);
    int32_t *tsym = malloc(sizeof(int32_t) * D * tl * tl);
    uint8_t *idx = malloc((size_t)(stages > 0 ? stages : 1) * tl * tl);
    if (!planes || !res || !tz || !tq || !tsym || !idx || aem_acts_alloc(&a, c, 1, Hs, Ws, 1, 0)) {
        free(planes), free(res), free(tz), free(tq), free(tsym), free(idx), free(halved);
        return aec_fail(e->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the latents");
    }
    load_planes(&src, 0, 0, Ws * P, Hs * P, planes);
    aem_pixels_to_blocks(c, 1, Hs, Ws, planes, a.x);
    aem_acts_in_image(&a, Ws, Hs, 0, 0); /* as the tiles' cells do */
    aem_encoder_forward(m, &a);
    /* Quantised as aec_encode does, tile by tile (the index choice uses
     * each tile's own histogram): VQ stages, then the lattice of the rest. */
    for (int ty = 0; ty < Hs; ty += tl)
        for (int tx = 0; tx < Ws; tx += tl) {
            int lw = Ws - tx < tl ? Ws - tx : tl, lh = Hs - ty < tl ? Hs - ty : tl;
            size_t n = (size_t)lw * lh;
            for (int d = 0; d < D; d++)
                for (int y = 0; y < lh; y++)
                    memcpy(tz + (size_t)d * n + (size_t)y * lw,
                           a.z + (size_t)d * N + (size_t)(ty + y) * Ws + tx, sizeof(float) * lw);
            memset(tq, 0, sizeof(float) * D * n);
            if (stages > 0) {
                if (aem_rvq_encode_ecvq(m, tz, n, stages, p.lambda, idx))
                    st = AEC_ERR_OUT_OF_MEMORY;
                aem_rvq_decode(m, idx, n, stages, tq);
            }
            if (step > 0) { /* as encode_lattice rounds */
                aem_lattice_symbols(tz, tq, (size_t)D, n, step, tsym);
                for (size_t i = 0; i < (size_t)D * n; i++)
                    tq[i] += step * (float)tsym[i];
            }
            /* [2][Hs][Ws][D]: channels last, as image libraries expect. */
            for (int d = 0; d < D; d++)
                for (int y = 0; y < lh; y++)
                    for (int x = 0; x < lw; x++) {
                        size_t o = ((size_t)(ty + y) * Ws + tx + x) * D + d;
                        res[o] = tz[(size_t)d * n + (size_t)y * lw + x];
                        res[N * D + o] = tq[(size_t)d * n + (size_t)y * lw + x];
                    }
        }
    aem_acts_free(&a);
    free(planes), free(tz), free(tq), free(tsym), free(idx), free(halved);
    if (st != AEC_OK) {
        free(res);
        return aec_fail(e->err, st, "out of memory for the latents");
    }
    *out = res, *grid_w = (uint32_t)Ws, *grid_h = (uint32_t)Hs, *dims = (uint32_t)D;
    return AEC_OK;
}
