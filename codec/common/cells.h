/* SPDX-License-Identifier: BSD-3-Clause */
/* cells.h - work cells: the pieces a coded tile is cut into for the
 * networks.
 *
 * A tile is the unit of entropy coding (one set of zstd frames, so larger
 * tiles pay fewer frame headers and Huffman tables per pixel), but the
 * networks run on cells of at most AEC_CELL_LATENTS^2 latents, each with
 * its halo, in bands of whole rows (aec_bands_of).  That keeps the activations, and so the memory, of
 * a 1024-pixel tile those of a 512-pixel one, and lets the threads share
 * the work of a picture that has fewer tiles than threads.  Networks see a
 * cell plus their whole receptive field, so cells never show in the
 * output. */
#ifndef AEC_COMMON_CELLS_H
#define AEC_COMMON_CELLS_H
#ifdef _OPENMP
#include <omp.h>
#endif

#include "aecodec.h"

/* 64 latents = 512 pixels with 8x8 blocks: the tile size of version 0.3,
 * whose activations bench/speed.c measured within the memory target. */
#define AEC_CELL_LATENTS 64
/* The widest band aec_bands_of cuts: a 1024-pixel tile's width. */
#define AEC_BAND_LATENTS (2 * AEC_CELL_LATENTS)
/* Most cells one tile is cut into (a 1024-pixel tile of 1x1 blocks has
 * 16 x 16 cells of 64). */
#define AEC_MAX_CELLS 256

/* A rectangle [x0, x0 + w) x [y0, y0 + h) of the latent grid. */
typedef struct {
    int x0, y0, w, h;
} aec_cell;

/* One cell of a tile in flight and how its network run went. */
typedef struct {
    aec_cell cell;
    aec_status status;
} aec_cell_job;

/* The OpenMP thread running the caller (0 without OpenMP): which thread's
 * buffers a cell task uses. */
static inline int aec_thread_num(void)
{
#ifdef _OPENMP
    return omp_get_thread_num();
#else
    return 0;
#endif
}

/* Threads worth starting for `pixels` of work when `requested` were asked
 * for: one per AEC_PIXELS_PER_THREAD at most (aecodec.h). */
static inline int aec_useful_threads(int requested, double pixels)
{
    double most = pixels / AEC_PIXELS_PER_THREAD;
    return most < 1 ? 1 : (most < requested ? (int)most : requested);
}

/* Cuts the rectangle (x0, y0, w, h) (w, h >= 1) into a grid of nearly
 * equal bands: cells at most AEC_BAND_LATENTS wide and AEC_CELL_LATENTS^2
 * latents in area (the activations of one cell), whole rows of the
 * rectangle where it is no wider, cut into more rows (then columns) where
 * sides of at least 8 latents allow, until there are at least min_cells
 * (so that small pictures still keep every thread busy).  The networks'
 * layers compute only the rows that the layers after them read
 * (aem_encoder_forward, aem_decoder_forward), so halos above and below a
 * cell cost less than halos beside it.  Writes the cells to cells (room
 * for AEC_MAX_CELLS) in raster order and returns their count. */
int aec_bands_of(int x0, int y0, int w, int h, int min_cells, aec_cell *cells);

/* The cell widened by `halo` latents on each side and clipped to a grid of
 * grid_w x grid_h latents: the input a network with that receptive field
 * needs for the cell. */
aec_cell aec_cell_grow(const aec_cell *c, int halo, int grid_w, int grid_h);
#endif
