/* SPDX-License-Identifier: BSD-3-Clause */
/* refine.h - the encoder's latents refined through the fixed decoder (the
 * `effort` encode parameter).
 *
 * The encoder network guesses a tile's latents in one pass, for every
 * photograph at once.  At a higher effort the encoder then asks the
 * decoder itself: it decodes the tile from the quantised latents, takes
 * the gradient of the squared error with respect to them (the rounding
 * passed straight through), adds the gradient of a rate term, and moves
 * the latents a small step (Adam), a fixed number of times.  Only the
 * encoder changes: the decoder reads the file as any other.  Lattice
 * levels only (no VQ stage).  Measured in bench/NOTES.md ("Latents refined
 * through the decoder"). */
#ifndef AEC_ENC_REFINE_H
#define AEC_ENC_REFINE_H
#include "aecodec.h"
#include "model/model.h"

/* The iterations an effort asks for (0: none). */
int aem_refine_iterations(int effort);

/* Refines the latents of the rectangle `own` of a window of lw x lh
 * latents, z [D][lh][lw], for the image blocks x [C*P*P][lh][lw] of the
 * window, coded at lattice step `step`, in `iterations` steps; the
 * latents around `own` (a tile's neighbours, as far as the decoder reads)
 * stay as they are.  Returns AEC_OK or AEC_ERR_OUT_OF_MEMORY (z then
 * unchanged).  The same z on every thread count. */
typedef struct {
    int x0, y0, x1, y1; /* latents x0..x1-1 of rows y0..y1-1 */
} aem_refine_rect;
aec_status aem_refine_latents(const aec_model *m, const float *x, int lw, int lh,
                              aem_refine_rect own, float step, int iterations, float *z);
#endif
