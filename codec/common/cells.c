/* SPDX-License-Identifier: BSD-3-Clause */
/* cells.c - cutting a tile into work cells (cells.h). */
#include "common/cells.h"

/* Smallest side a cut may leave: below that the halo (a few latents on
 * each side) costs more than the cell's own work. */
#define MIN_SIDE 8

/* The nx x ny grid of nearly equal cells of the rectangle, in raster
 * order; returns their count. */
static int grid_cells(int x0, int y0, int w, int h, int nx, int ny, aec_cell *cells)
{
    int n = 0;
    for (int j = 0; j < ny; j++)
        for (int i = 0; i < nx; i++) {
            int cx0 = (int)((long)w * i / nx), cx1 = (int)((long)w * (i + 1) / nx);
            int cy0 = (int)((long)h * j / ny), cy1 = (int)((long)h * (j + 1) / ny);
            cells[n].x0 = x0 + cx0, cells[n].y0 = y0 + cy0;
            cells[n].w = cx1 - cx0, cells[n].h = cy1 - cy0;
            n++;
        }
    return n;
}

int aec_bands_of(int x0, int y0, int w, int h, int min_cells, aec_cell *cells)
{
    int nx = (w + AEC_BAND_LATENTS - 1) / AEC_BAND_LATENTS;
    int band_w = (w + nx - 1) / nx;
    int rows = AEC_CELL_LATENTS * AEC_CELL_LATENTS / band_w; /* >= 32 */
    int ny = (h + rows - 1) / rows;
    if (min_cells > AEC_MAX_CELLS)
        min_cells = AEC_MAX_CELLS;
    /* More rows of bands, then columns, until there are enough of them
     * (never more than the cells array holds). */
    while (nx * ny < min_cells) {
        if (h / (ny + 1) >= MIN_SIDE && nx * (ny + 1) <= AEC_MAX_CELLS)
            ny++;
        else if (w / (nx + 1) >= MIN_SIDE && (nx + 1) * ny <= AEC_MAX_CELLS)
            nx++;
        else
            break;
    }
    return grid_cells(x0, y0, w, h, nx, ny, cells);
}

aec_cell aec_cell_grow(const aec_cell *c, int halo, int grid_w, int grid_h)
{
    int x0 = c->x0 - halo > 0 ? c->x0 - halo : 0;
    int y0 = c->y0 - halo > 0 ? c->y0 - halo : 0;
    int x1 = c->x0 + c->w + halo < grid_w ? c->x0 + c->w + halo : grid_w;
    int y1 = c->y0 + c->h + halo < grid_h ? c->y0 + c->h + halo : grid_h;
    aec_cell g = {x0, y0, x1 - x0, y1 - y0};
    return g;
}
