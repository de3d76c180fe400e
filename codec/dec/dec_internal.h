/* SPDX-License-Identifier: BSD-3-Clause */
/* dec_internal.h - what the decoder's files share: the plan of a decode
 * (prefix.c), the tile renderer (tiles.c) and the output writer
 * (output.c).  Internal to libcodec. */
#ifndef AEC_DEC_INTERNAL_H
#define AEC_DEC_INTERNAL_H

#include <stddef.h>
#include <stdint.h>
#include <zstd.h>

#include "aecodec.h"
#include "bitstream/container.h"
#include "common/context.h"
#include "model/network.h"
#include "vq/wiener.h"

/* ---- prefix.c ----------------------------------------------------------- */

/* What a decode uses of the data it has. */
typedef struct {
    int stages;       /* VQ stages decoded                                  */
    uint8_t *lat_layers; /* [n_tiles]: lattice layers added to the tile
                            (0..lattice_layers); NULL when none is          */
    int alpha;        /* 1 when the alpha plane is present (or not coded)   */
    int residual;     /* 1: add the pixel residual layer (flags bit 7)      */
    int filter;       /* 1: apply the restoration filter (version 2)        */
    aec_progress progress;
} dec_plan;

/* aecb_parse; with partial, a prefix that holds the header and table parses
 * as its whole file would (the plan then says what is present).  On
 * AEC_ERR_TRUNCATED before the table is in, *need is the length needed. */
aec_status aec_dec_parse(const uint8_t *data, size_t size, const aec_limits *lim, int partial,
                         aecb_header *h, uint64_t *need, char *err);
/* The plan for `size` bytes of the file h describes, with params p. */
aec_status aec_dec_plan(const aecb_header *h, size_t size, const aec_decode_params *p,
                        dec_plan *plan, char *err);
void aec_dec_plan_free(dec_plan *plan);

/* ---- tiles.c ------------------------------------------------------------ */

/* Everything one decode call shares between its tiles (read-only while the
 * tiles run, apart from the disjoint parts of `out` they write). */
typedef struct {
    const aec_model *m;
    const aecb_header *h;
    const uint8_t *data;
    size_t size;
    const ZSTD_DDict *dict; /* the model's dictionary when the file uses it */
    int stages;             /* VQ stages decoded                             */
    const uint8_t *lat_layers; /* per tile: lattice layers added (or NULL)   */
    float step;             /* the lattice step                              */
    int residual;           /* add the pixel residual layer (dec_plan)       */
    const aem_wiener *filter; /* the restoration filter to apply, or NULL    */
    int halo;               /* aem_decoder_halo                              */
    int verify_in_render;   /* pass 2 checks each stream as it loads it (a
                               job of one tile, which skips pass 1)          */
    /* the rows being rendered: rx, ry, rw, rh in image pixels, written to
     * out (layout h->layout) with out_stride bytes between rows */
    uint32_t rx, ry, rw, rh;
    int out_channels;
    uint8_t *out;
    size_t out_stride;
} decode_job;

/* A thread's buffers, reused from tile to tile. */
typedef struct {
    ZSTD_DCtx *dz;
    uint8_t *raw;  /* one decompressed stream (the largest this file has)   */
    uint8_t *idx;  /* a window's indices [stage][Hs][Ws] (the largest window) */
    int32_t *sym;  /* one tile's lattice symbols [D][lh][lw]                 */
    aem_acts a;    /* decoder activations for the current cell's window     */
    /* One arena (common/arena.h) for the three buffers above and the
     * activations: a tile's entropy decoding and a cell's network never run
     * at once on a thread (no task scheduling point in either), so they
     * share it, and a decode touches fresh memory for the larger only.  It
     * is mapped at the thread's first task, `need` bytes. */
    void *buffers;
    size_t buffer_bytes, need;
    size_t sym_n, raw_n; /* where raw and idx start in it */
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

/* How many tiles r holds. */
static inline int rect_count(const tile_rect *r) { return (r->x1 - r->x0) * (r->y1 - r->y0); }

/* The output tiles meeting the pixel rectangle, and the tiles whose streams
 * their windows read. */
tile_rect aec_dec_tiles_of(const aecb_header *h, uint32_t x, uint32_t y, uint32_t w, uint32_t hgt);
tile_rect aec_dec_tiles_needed(const decode_job *j, const tile_rect *render);

/* What a decoder keeps between decodes for thread i's worker: its zstd
 * context and its arena.  A viewer or a batch job decodes file after file
 * with one decoder; mapping and faulting fresh arenas at every file cost
 * it a tenth of a photo's decode (bench/NOTES.md). */
typedef struct {
    ZSTD_DCtx *dz;
    void *buffers;
    size_t buffer_bytes;
} aec_dec_kept;
typedef struct {
    aec_dec_kept *slot;
    int n;
} aec_dec_pool;
void aec_dec_pool_free(aec_dec_pool *pool);

/* Workers for rendering the output tiles `render` (whose cells size their
 * arenas) with this many threads, or NULL when out of memory.  They take
 * what pool keeps (pool may be NULL), except an arena more than four
 * times larger than this decode needs (a large picture's, freed so that
 * small ones after it do not hold its memory). */
worker *aec_dec_workers_new(const decode_job *j, int threads, const tile_rect *render,
                            aec_dec_pool *pool);
/* Gives the workers' contexts and arenas back to pool (freed when pool is
 * NULL or cannot grow), then frees ws. */
void aec_dec_workers_free(worker *ws, int n, aec_dec_pool *pool);
/* Pass 1: every stream of the tiles of r that the output uses passes its
 * checks.  Pass 2: the pixels of the job's rows from the output tiles r. */
aec_status aec_dec_verify_tiles(const decode_job *j, worker *ws, int threads, const tile_rect *r,
                                char *err);
aec_status aec_dec_render_tiles(const decode_job *j, worker *ws, int threads, const tile_rect *r,
                                char *err);
/* The same two passes for the pixel residual layer (j->residual): pass 1
 * checks the residual streams of the output tiles r, pass 2 adds them to
 * the job's rows once the tiles have rendered them. */
aec_status aec_dec_verify_residual(const decode_job *j, worker *ws, int threads,
                                   const tile_rect *r, char *err);
aec_status aec_dec_add_residual(const decode_job *j, worker *ws, int threads, const tile_rect *r,
                                char *err);

/* ---- output.c ----------------------------------------------------------- */

/* Where the pixels go: the region (image pixels) and its reduced, converted
 * copy in the caller's rows. */
typedef struct {
    uint32_t rx, ry, rw, rh; /* region of the full-size image                */
    int scale;               /* 1, 2, 4, 8                                   */
    int coded, layout;       /* channels of the file and of the output       */
    uint32_t ow, oh;         /* output size                                   */
    uint8_t *pixels;
    size_t stride;
} dec_output;

/* Checks params against the image (region, scale, layout) and fills o's
 * geometry (not pixels/stride); INVALID_ARGUMENT with a message. */
aec_status aec_dec_output_geometry(const aecb_header *h, const aec_decode_params *p,
                                   dec_output *o, char *err);
/* True when full-size rows can be written straight into the output. */
int aec_dec_output_direct(const dec_output *o);
/* Rows band_y0.. (image rows, band_h of them, a multiple of scale unless
 * they end the region) of the region in the coded layout, band_stride bytes
 * apart, into the output. */
void aec_dec_output_band(const dec_output *o, const uint8_t *band, size_t band_stride,
                         uint32_t band_y0, uint32_t band_h);

/* ---- upsample.c --------------------------------------------------------- */

/* The coded columns [*c0, *c1) (or rows) that the picture's columns
 * [x, x + w) of a half-size file read, of a coded side of `coded`. */
void aec_half_source(uint32_t x, uint32_t w, uint32_t coded, uint32_t *c0, uint32_t *c1);
/* The picture's rows Y0..Y0+H-1, columns X0..X0+W-1 (ch channels, 8 bits)
 * into dst, from the coded pixels src, whose first pixel is the coded
 * image's (sx0, sy0) and which hold what aec_half_source names.  Returns
 * -1 when out of memory. */
int aec_upsample2(const uint8_t *src, size_t src_stride, uint32_t sx0, uint32_t sy0,
                  uint32_t coded_w, uint32_t coded_h, int ch, uint32_t X0, uint32_t Y0,
                  uint32_t W, uint32_t H, uint8_t *dst, size_t dst_stride);

#endif
