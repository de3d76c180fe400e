/* SPDX-License-Identifier: BSD-3-Clause */
/* tiles.c - the decoder's tiles: streams -> indices (and lattice symbols)
 * -> latents -> decoder network -> pixels.
 *
 * Working memory is bounded by the tile, not the image.  Two passes over
 * the tiles, each in parallel with buffers owned by the thread:
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
 *     that a stream is decompressed once by each window it meets.
 *
 * A preview of a file still arriving (prefix.c) adds the lattice sections
 * of some tiles only (lat_layers), and a tile with neither stages nor a
 * section is left mid-grey without running the network. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>

#include "bitstream/lattice_stream.h"
#include "bitstream/residual_stream.h"
#include "bitstream/zstream.h"
#include "common/arena.h"
#include "common/cells.h"
#include "dec/dec_internal.h"
#include "vq/lattice.h"
#include "vq/residual.h"
#include "vq/rvq.h"

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

/* Stream i's CRC checked when `verify` (pass 2 reads only streams pass 1
 * has verified). */
static aec_status check_if(const decode_job *j, worker *w, uint32_t i, int verify)
{
    return verify ? aecb_check_stream(j->h, j->data, j->size, i, w->err, AEC_ERR_BYTES) : AEC_OK;
}

/* Decompresses stream i into w->raw (exactly n bytes).  verify: check its
 * CRC first (pass 2 reads only streams pass 1 has verified). */
static aec_status load_stream(const decode_job *j, worker *w, uint32_t i, size_t n,
                              const ZSTD_DDict *dict, int verify)
{
    const aecb_header *h = j->h;
    aec_status st = check_if(j, w, i, verify);
    if (st != AEC_OK)
        return st;
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

/* Layer `layer` of tile t's lattice symbols into its channels of w->sym
 * [D][lh][lw], from a stream of the planes layout (one frame of
 * 2*count*lw*lh bytes that aem_lattice_unpack_at reads) or of the split
 * layout (flags bit 3, bitstream/lattice_stream.h, with w->raw as its work
 * space).  The lattice streams never use the model's dictionary. */
static aec_status load_layer(const decode_job *j, worker *w, int layer, uint32_t t, int verify)
{
    const aecb_header *h = j->h;
    uint32_t lw, lh, first, count;
    aecb_tile_latents(h, t, &lw, &lh);
    aecb_layer_channels(h, layer, &first, &count);
    int32_t *sym = w->sym + (size_t)first * lw * lh;
    uint32_t i = aecb_layer_stream_index(h, layer, t);
    if (!(h->flags & AECB_FLAG_SPLIT)) {
        aec_status st = load_stream(j, w, i, 2 * (size_t)count * lw * lh, NULL, verify);
        if (st == AEC_OK)
            aem_lattice_unpack_at(w->raw, first, count, lw, lh, sym);
        return st;
    }
    aec_status st = check_if(j, w, i, verify);
    if (st != AEC_OK)
        return st;
    return aecb_split_read_at(w->dz, j->data + h->offsets[i], h->sizes[i], first, count, lw, lh,
                              w->raw, sym, w->err, AEC_ERR_BYTES);
}

/* Lattice layers decoded for tile t (0 = none). */
static int tile_layers(const decode_job *j, uint32_t t)
{
    return j->lat_layers ? j->lat_layers[t] : 0;
}
static int tile_refined(const decode_job *j, uint32_t t) { return tile_layers(j, t) > 0; }

/* Tile t's lattice symbols into w->sym [D][lh][lw]: the layers it has, and
 * zeros in the channels of those it has not (a file cut after a layer, or
 * a preview). */
static aec_status load_lattice(const decode_job *j, worker *w, uint32_t t, int verify)
{
    int layers = tile_layers(j, t);
    for (int l = 0; l < layers; l++) {
        aec_status st = load_layer(j, w, l, t, verify);
        if (st != AEC_OK)
            return st;
    }
    uint32_t lw, lh, first, count;
    aecb_tile_latents(j->h, t, &lw, &lh);
    aecb_layer_channels(j->h, layers, &first, &count);
    if (layers < j->h->lattice_layers)
        memset(w->sym + (size_t)first * lw * lh, 0,
               sizeof(int32_t) * (j->h->lattice_dim - first) * lw * lh);
    return AEC_OK;
}

/* Tile t's pixel residual stream (flags bit 7, bitstream/residual_stream.h)
 * into w->raw as the planes of vq/residual.h, the tokens in the bytes
 * after them. */
static aec_status load_residual(const decode_job *j, worker *w, uint32_t t, int verify)
{
    const aecb_header *h = j->h;
    uint32_t tw, th, i = aecb_residual_stream_index(h, t);
    aecb_tile_rect(h, t, NULL, NULL, &tw, &th);
    int colours = aecb_residual_colours(h);
    aec_status st = check_if(j, w, i, verify);
    if (st != AEC_OK)
        return st;
    uint8_t *tokens = w->raw + aem_residual_raw_size(tw, th, colours);
    return aecb_residual_read(w->dz, j->data + h->offsets[i], h->sizes[i], (size_t)colours,
                              aem_residual_blocks(tw, th), tokens, w->raw, w->err,
                              AEC_ERR_BYTES);
}

static aec_status verify_residual(const decode_job *j, worker *w, uint32_t t)
{
    return load_residual(j, w, t, 1);
}

/* Adds tile t's residual to the part of the job's rows inside it. */
static aec_status add_residual(const decode_job *j, worker *w, uint32_t t)
{
    uint32_t X, Y, tw, th;
    aecb_tile_rect(j->h, t, &X, &Y, &tw, &th);
    uint32_t x0 = X > j->rx ? X : j->rx, y0 = Y > j->ry ? Y : j->ry;
    uint32_t x1 = X + tw < j->rx + j->rw ? X + tw : j->rx + j->rw;
    uint32_t y1 = Y + th < j->ry + j->rh ? Y + th : j->ry + j->rh;
    if (x0 >= x1 || y0 >= y1)
        return AEC_OK;
    aec_status st = load_residual(j, w, t, 0);
    if (st != AEC_OK)
        return st;
    uint8_t *px = j->out + (size_t)(y0 - j->ry) * j->out_stride +
                  (size_t)(x0 - j->rx) * (size_t)j->out_channels;
    aem_residual_apply(w->raw, tw, th, aecb_residual_colours(j->h), x0 - X, y0 - Y, x1 - X,
                       y1 - Y, px, j->out_stride, j->out_channels);
    return AEC_OK;
}

/* A tile with nothing of it yet (a preview's): mid-grey. */
static int tile_blank(const decode_job *j, uint32_t t) { return j->stages == 0 && !tile_refined(j, t); }

/* Pass 1 for tile t: every stream of it that the output uses. */
static aec_status verify_tile(const decode_job *j, worker *w, uint32_t t)
{
    for (int s = 0; s < j->stages; s++) {
        aec_status st = load_indices(j, w, s, t, 1);
        if (st != AEC_OK)
            return st;
    }
    return tile_refined(j, t) ? load_lattice(j, w, t, 1) : AEC_OK;
}

/* Bytes of activations a cell window of Hs x Ws latents takes. */
static size_t cell_acts_bytes(const aem_config *c, int Hs, int Ws)
{
    return aem_acts_bytes(c, 1, Hs, Ws, AEM_ACTS_NONE, AEM_ACTS_FORWARD) + 64;
}

/* w's arena at least `bytes` large (mapped anew, contents gone, when it is
 * smaller), the entropy buffers pointed into it; -1 when out of memory. */
static int worker_arena(worker *w, size_t bytes)
{
    if (!w->buffers || w->buffer_bytes < bytes) {
        void *p = aec_arena_alloc(bytes);
        if (!p)
            return -1;
        aec_arena_free(w->buffers, w->buffer_bytes);
        w->buffers = p, w->buffer_bytes = bytes;
    }
    w->sym = w->buffers;
    w->raw = (uint8_t *)w->buffers + sizeof(int32_t) * w->sym_n;
    w->idx = w->raw + w->raw_n;
    return 0;
}

/* w's arena mapped, at the start of each of its tasks (the first maps it). */
static aec_status worker_ready(worker *w)
{
    return worker_arena(w, w->need) ? aec_fail(w->err, AEC_ERR_OUT_OF_MEMORY,
                                               "out of memory for the decoder's buffers")
                                    : AEC_OK;
}

/* w->a shaped for a window of Hs x Ws latents in w's arena (grown if a
 * cell ever needs more than aec_dec_workers_new planned). */
static int worker_acts(worker *w, const aem_config *c, int Hs, int Ws)
{
    size_t bytes = cell_acts_bytes(c, Hs, Ws);
    if (worker_arena(w, bytes))
        return -1;
    aem_acts_place(&w->a, c, 1, Hs, Ws, AEM_ACTS_NONE, AEM_ACTS_FORWARD, w->buffers,
                   (w->buffer_bytes - 64) / sizeof(float));
    return 0;
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
            aec_status st = load_indices(j, w, s, t, j->verify_in_render);
            if (st != AEC_OK)
                return st;
            for (int y = o.y0; y < o.y1; y++)
                memcpy(w->idx + ((size_t)s * Hs + (y - win->hy0)) * Ws + (o.x0 - win->hx0),
                       w->raw + (size_t)(y - o.ly0) * o.lw + (o.x0 - o.lx0), (size_t)(o.x1 - o.x0));
        }
    }
    aem_rvq_decode(j->m, w->idx, N, j->stages, q_out);
    for (int k = 0; j->lat_layers && k < rect_count(&near); k++) {
        uint32_t t = rect_tile(h, &near, k);
        if (!tile_refined(j, t))
            continue;
        tile_overlap o = overlap_of(h, t, win);
        aec_status st = load_lattice(j, w, t, j->verify_in_render);
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
 * for its window: pixel planes [C][8Hs][8Ws] (a->pix_only), or blocks
 * y [C*P*P][Hs][Ws] where pixel (X, Y) of the window is sample
 * (Y mod P, X mod P) of block (X / P, Y / P), in the plane
 * ((c*P + Y mod P)*P + X mod P) (depth-to-space, read in place). */
static void write_pixels(const decode_job *j, const aec_cell *cell, const aec_cell *win,
                         const aem_acts *a)
{
    const aecb_header *h = j->h;
    int P = j->m->cfg.block, Ws = win->w;
    size_t N = (size_t)win->h * Ws, chan = (size_t)P * P * N;
    /* the cell's pixels, clipped to the image */
    uint32_t x0 = (uint32_t)cell->x0 * P, y0 = (uint32_t)cell->y0 * P;
    uint32_t tw = (uint32_t)cell->w * P, th = (uint32_t)cell->h * P;
    tw = x0 + tw < h->coded_w ? tw : h->coded_w - x0;
    th = y0 + th < h->coded_h ? th : h->coded_h - y0;
    /* Intersection of this cell with the region, in image coordinates. */
    uint32_t ix0 = x0 > j->rx ? x0 : j->rx, iy0 = y0 > j->ry ? y0 : j->ry;
    uint32_t ix1 = x0 + tw < j->rx + j->rw ? x0 + tw : j->rx + j->rw;
    uint32_t iy1 = y0 + th < j->ry + j->rh ? y0 + th : j->ry + j->rh;
    int gray = aec_layout_is_gray(h->layout);
    for (uint32_t py = iy0; py < iy1; py++) {
        int Y = (int)py - win->y0 * P;
        const float *row = a->pix_only ? a->pix + (size_t)Y * P * Ws
                                       : a->y + (size_t)(Y % P) * P * N + (size_t)(Y / P) * Ws;
        uint8_t *o = j->out + (size_t)(py - j->ry) * j->out_stride + (size_t)(ix0 - j->rx) * j->out_channels;
        for (uint32_t px = ix0; px < ix1; px++, o += j->out_channels) {
            int X = (int)px - win->x0 * P;
            const float *b = a->pix_only ? row + X : row + (size_t)(X % P) * N + X / P;
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
    /* Only the cell's rows that meet the region are wanted: the layers
     * compute into the rows around them only as far as the layers after
     * them read. */
    int P = j->m->cfg.block;
    int64_t r0 = j->ry / P, r1 = ((int64_t)j->ry + j->rh + P - 1) / P;
    r0 = r0 > cell->y0 ? r0 : cell->y0;
    r1 = r1 < cell->y0 + cell->h ? r1 : cell->y0 + cell->h;
    w->a.row0 = (int)r0 - win.y0, w->a.row1 = (int)r1 - win.y0;
    int grid_w, grid_h;
    aecb_latent_grid(j->h, &grid_w, &grid_h);
    aem_acts_in_image(&w->a, grid_w, grid_h, win.x0, win.y0);
    aem_decoder_forward(j->m, &w->a);
    write_pixels(j, cell, &win, &w->a);
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
            aec_status st = worker_ready(w);
            if (st == AEC_OK)
                st = fn(j, w, rect_tile(j->h, r, k));
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

/* A blank tile's part of the rows being rendered: mid-grey colour (the
 * alpha channel is written from its own plane afterwards). */
static void fill_blank(const decode_job *j, uint32_t t)
{
    uint32_t x0, y0, w, hgt;
    aecb_tile_rect(j->h, t, &x0, &y0, &w, &hgt);
    uint32_t ix0 = x0 > j->rx ? x0 : j->rx, iy0 = y0 > j->ry ? y0 : j->ry;
    uint32_t ix1 = x0 + w < j->rx + j->rw ? x0 + w : j->rx + j->rw;
    uint32_t iy1 = y0 + hgt < j->ry + j->rh ? y0 + hgt : j->ry + j->rh;
    int colour = aec_layout_is_gray(j->h->layout) ? 1 : 3;
    for (uint32_t y = iy0; y < iy1; y++) {
        uint8_t *o = j->out + (size_t)(y - j->ry) * j->out_stride + (size_t)(ix0 - j->rx) * j->out_channels;
        for (uint32_t x = ix0; x < ix1; x++, o += j->out_channels)
            memset(o, 128, (size_t)colour);
    }
}

/* The fewest cells a tile of n rendered at once is cut into: enough to
 * keep every thread busy however few tiles there are; more would only add
 * halos. */
static int cells_per_tile(int threads, int n) { return n > 0 ? (threads + n - 1) / n : 1; }

/* Pass 2: the output tiles of r, up to 2 x threads in flight: each tile's
 * window latents (entropy decoding), then the decoder network on each of
 * its cells that meets the region, all as OpenMP tasks.  On failure
 * returns the error of the first failing tile in raster order. */
aec_status aec_dec_render_tiles(const decode_job *j, worker *ws, int threads, const tile_rect *r,
                                char *err)
{
    const aecb_header *h = j->h;
    int wmax, hmax, n = rect_count(r), P = h->block_size;
    int slots = 2 * threads < n ? 2 * threads : n; /* memory: no more slots than tiles */
    int min_cells = cells_per_tile(threads, n);
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
    /* the slots' latents in one arena */
    float *q_all = st == AEC_OK ? aec_arena_alloc(sizeof(float) * qfloats * slots) : NULL;
    if (!q_all)
        st = AEC_ERR_OUT_OF_MEMORY;
    for (int i = 0; i < slots && st == AEC_OK; i++)
        q[i] = q_all + qfloats * i;
    if (st != AEC_OK) {
        aec_fail(err, st, "out of memory for the tiles' latents");
        goto done;
    }
    int grid_w, grid_h;
    aecb_latent_grid(h, &grid_w, &grid_h);
    aem_wino_prepare(j->m, 1, grid_w, grid_h, threads);
    for (int k0 = 0; k0 < n && st == AEC_OK; k0 += slots) {
        int nb = n - k0 < slots ? n - k0 : slots;
        /* Each tile is a task: its window latents (entropy decoding), then
         * a task per cell that meets the region.  Neither runs a scheduling
         * point, so the worker of the thread running it is its own. */
#pragma omp parallel num_threads(threads)
        {
            /* Every thread maps its arena now, all at once, while the first
             * tile's entropy decoding runs, not after it when its first
             * cell arrives (the system zeroes a fresh arena's pages: 5-11 %
             * of a whole-process 768x512 decode's samples here).  A failure
             * here is reported by the task that needs the arena. */
            if (k0 == 0)
                (void)worker_ready(&ws[aec_thread_num()]);
#pragma omp single
            for (int b = 0; b < nb; b++) {
#pragma omp task firstprivate(b)
                {
                    worker *w = &ws[aec_thread_num()];
                    uint32_t t = rect_tile(h, r, k0 + b);
                    aecb_tile_window_of(h, t, j->halo, &twin[b]);
                    n_cells[b] = 0;
                    tile_st[b] = worker_ready(w);
                    if (tile_st[b] == AEC_OK && tile_blank(j, t))
                        fill_blank(j, t);
                    else if (tile_st[b] == AEC_OK)
                        tile_st[b] = window_latents(j, w, &twin[b], q[b]);
                    if (tile_st[b] != AEC_OK)
                        memcpy(tile_err[b], w->err, AEC_ERR_BYTES);
                    aec_cell cells[AEC_MAX_CELLS];
                    int nc = tile_st[b] != AEC_OK || tile_blank(j, t)
                                 ? 0
                                 : aec_bands_of(twin[b].lx0, twin[b].ly0, twin[b].lw,
                                                twin[b].lh, min_cells, cells);
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
    aec_arena_free(q_all, sizeof(float) * qfloats * slots);
    free(q), free(twin), free(tile_st), free(n_cells), free(tile_err), free(jobs);
    return st;
}

static void kept_free(aec_dec_kept *k)
{
    ZSTD_freeDCtx(k->dz);
    aec_arena_free(k->buffers, k->buffer_bytes); /* w->a's too */
    memset(k, 0, sizeof *k);
}

void aec_dec_pool_free(aec_dec_pool *pool)
{
    for (int i = 0; i < pool->n; i++)
        kept_free(&pool->slot[i]);
    free(pool->slot);
    pool->slot = NULL, pool->n = 0;
}

void aec_dec_workers_free(worker *ws, int n, aec_dec_pool *pool)
{
    if (ws && pool && n > pool->n) {
        aec_dec_kept *grown = realloc(pool->slot, sizeof *grown * (size_t)n);
        if (grown) {
            memset(grown + pool->n, 0, sizeof *grown * (size_t)(n - pool->n));
            pool->slot = grown, pool->n = n;
        }
    }
    for (int i = 0; ws && i < n; i++) {
        aec_dec_kept k = {ws[i].dz, ws[i].buffers, ws[i].buffer_bytes};
        if (pool && i < pool->n)
            /* empty once workers_new gave it to ws[i]; one it did not reach
             * before failing is freed */
            kept_free(&pool->slot[i]), pool->slot[i] = k;
        else
            kept_free(&k);
    }
    free(ws);
}

/* The largest arena a cell of the tiles of r takes (its window's
 * activations), cut as aec_dec_render_tiles cuts them; with the fewest
 * cells a tile (all of r at once), so bands of r get no larger ones. */
static size_t largest_cell_bytes(const decode_job *j, int threads, const tile_rect *r)
{
    const aecb_header *h = j->h;
    int n = rect_count(r), min_cells = cells_per_tile(threads, n);
    size_t most = 0;
    for (int k = 0; k < n; k++) {
        aecb_tile_window tw;
        aecb_tile_window_of(h, rect_tile(h, r, k), j->halo, &tw);
        aec_cell cells[AEC_MAX_CELLS];
        int nc = aec_bands_of(tw.lx0, tw.ly0, tw.lw, tw.lh, min_cells, cells);
        for (int c = 0; c < nc; c++) {
            aec_cell win = aec_cell_grow(&cells[c], j->halo, tw.hx1, tw.hy1);
            size_t bytes = cell_acts_bytes(&j->m->cfg, win.h, win.w);
            most = bytes > most ? bytes : most;
        }
    }
    return most;
}

/* One worker per thread, each with a decompression context and the size
 * of its arena: the largest stream's raw bytes, the largest window's
 * indices and a tile's lattice symbols, or a cell's activations when those
 * are more (worker_ready maps it at the thread's first task, so that the
 * threads fault their arenas in at once). */
worker *aec_dec_workers_new(const decode_job *j, int threads, const tile_rect *render,
                            aec_dec_pool *pool)
{
    const aecb_header *h = j->h;
    uint32_t lw, lh; /* tile 0 is a largest tile */
    aecb_tile_latents(h, 0, &lw, &lh);
    size_t raw = (size_t)lw * lh * (j->lat_layers ? 2 * (size_t)j->m->cfg.latent : 1);
    if (j->lat_layers && (h->flags & AECB_FLAG_SPLIT)) {
        size_t work = aecb_split_work_bytes((size_t)j->m->cfg.latent, (size_t)lw * lh);
        raw = work > raw ? work : raw;
    }
    if (j->residual) {
        uint32_t tw, th;
        aecb_tile_rect(h, 0, NULL, NULL, &tw, &th);
        int colours = aecb_residual_colours(h);
        size_t need = aem_residual_raw_size(tw, th, colours) +
                      aecb_residual_work_bytes((size_t)colours, aem_residual_blocks(tw, th));
        raw = need > raw ? need : raw;
    }
    size_t sym = j->lat_layers ? (size_t)lw * lh * j->m->cfg.latent : 1;
    int wmax, hmax;
    largest_window(j, &wmax, &hmax);
    size_t idx = (size_t)(j->stages > 0 ? j->stages : 1) * wmax * hmax;
    /* sym first (4-byte aligned), then raw, then idx */
    size_t entropy = sizeof(int32_t) * sym + raw + idx;
    size_t cells = largest_cell_bytes(j, threads, render);
    worker *ws = calloc((size_t)threads, sizeof *ws);
    for (int i = 0; ws && i < threads; i++) {
        ws[i].need = entropy > cells ? entropy : cells;
        ws[i].sym_n = sym, ws[i].raw_n = raw;
        if (pool && i < pool->n) { /* the slot's context and arena move to ws[i] */
            aec_dec_kept *k = &pool->slot[i];
            if (k->buffers && k->buffer_bytes / 4 > ws[i].need)
                aec_arena_free(k->buffers, k->buffer_bytes), k->buffers = NULL;
            ws[i].dz = k->dz, ws[i].buffers = k->buffers;
            ws[i].buffer_bytes = k->buffers ? k->buffer_bytes : 0;
            memset(k, 0, sizeof *k);
        }
        if (!ws[i].dz && !(ws[i].dz = ZSTD_createDCtx())) {
            aec_dec_workers_free(ws, threads, pool);
            return NULL;
        }
    }
    return ws;
}


aec_status aec_dec_verify_tiles(const decode_job *j, worker *ws, int threads, const tile_rect *r,
                                char *err)
{
    return run_tiles(j, ws, threads, r, verify_tile, err);
}

aec_status aec_dec_verify_residual(const decode_job *j, worker *ws, int threads,
                                   const tile_rect *r, char *err)
{
    return run_tiles(j, ws, threads, r, verify_residual, err);
}

aec_status aec_dec_add_residual(const decode_job *j, worker *ws, int threads, const tile_rect *r,
                                char *err)
{
    return run_tiles(j, ws, threads, r, add_residual, err);
}

tile_rect aec_dec_tiles_of(const aecb_header *h, uint32_t x, uint32_t y, uint32_t w, uint32_t hgt)
{
    uint32_t T = h->tile_size;
    tile_rect r = {(int)(x / T), (int)(y / T), (int)((x + w - 1) / T) + 1,
                   (int)((y + hgt - 1) / T) + 1};
    return r;
}

tile_rect aec_dec_tiles_needed(const decode_job *j, const tile_rect *render)
{
    aecb_tile_window first, last;
    aecb_tile_window_of(j->h, rect_tile(j->h, render, 0), j->halo, &first);
    aecb_tile_window_of(j->h, rect_tile(j->h, render, rect_count(render) - 1), j->halo, &last);
    return tiles_meeting(j->h, first.hx0, first.hy0, last.hx1, last.hy1);
}
