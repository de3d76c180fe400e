/* SPDX-License-Identifier: BSD-3-Clause */
/* winograd.h - 3x3 same convolutions by Winograd's F(2x2, 3x3): a batch's
 * forward and backward side by side (the trainer's wide layers), and one
 * image's rows forward (the codec's wide 1/8-grid layers).
 *
 * Each 2x2 block of outputs comes from the 4x4 input patch around it:
 *     Y = A^T [ sum over inputs of (G g G^T) .* (B^T d B) ] A
 * (Lavin and Gray, arXiv 1509.09308).  Summed over the input channels,
 * the 16 element-wise products of a tile become 16 matrix products, one
 * per element of the 4x4 tile, run by the GEMM: 16 multiply-adds per
 * 2x2 outputs and channel pair instead of 36.  The results are the
 * convolution's to rounding (a few units in the last place, not the same
 * bits as nn_conv_forward); they do not depend on the thread count.
 *
 * Layouts as in layers.h: activations [C][B][H][W], weights
 * [cout][cin][3][3].  Any H and W: a last odd row or column is a tile
 * whose missing outputs are dropped. */
#ifndef AEC_NN_WINOGRAD_H
#define AEC_NN_WINOGRAD_H

#include <stddef.h>

#include "nn/dsp.h"
#include "nn/layers.h"

/* Whether the shape is a 3x3 same convolution wide enough for the
 * transforms to pay (fewer channels keep the GEMMs' K too short). */
int nn_wino_supported(const nn_conv_shape *s);

/* Floats of workspace nn_wino_forward and nn_wino_backward need. */
size_t nn_wino_forward_floats(const nn_conv_shape *s, int B, int H, int W);
size_t nn_wino_backward_floats(const nn_conv_shape *s, int B, int H, int W);

/* out[cout][B][H][W] = conv(in, w) + b (b NULL: 0), then the ReLU with
 * relu.  work: nn_wino_forward_floats() floats. */
void nn_wino_forward(const nn_conv_shape *s, int B, int H, int W, const float *in,
                     const float *w, const float *b, float *out, int relu, float *work);

/* Given dout (the gradient of out, after the ReLU's backward), adds the
 * weight gradient to dw unless it is NULL and writes din unless it is
 * NULL; the bias gradient is the caller's.  work:
 * nn_wino_backward_floats() floats. */
void nn_wino_backward(const nn_conv_shape *s, int B, int H, int W, const float *in,
                      const float *w, const float *dout, float *dw, float *din, float *work);

/* One image (B = 1) with its weights transformed once (the codec keeps
 * them with the model): U = nn_wino_weights_floats() floats made by
 * nn_wino_weights from w [cout][cin][3][3].  nn_wino_forward_rows writes
 * output rows y0..y1-1 of out [cout][H][W] (the others are left as they
 * are) from in [cin][H][W]; (px, py) is the parity of the grid's origin in
 * the larger grid it is part of (a cell in the image): each output is then
 * computed from the same tile position, so with the same bits, whichever
 * cell, band or row range computes it.  Row y reads input rows y-1..y+1
 * only (the other rows of its tile's patch do not reach it).  work:
 * nn_wino_rows_floats() floats. */
size_t nn_wino_weights_floats(const nn_conv_shape *s);
void nn_wino_weights(const nn_conv_shape *s, const float *w, float *U);
size_t nn_wino_rows_floats(const nn_conv_shape *s, int H, int W);
void nn_wino_forward_rows(const nn_conv_shape *s, int H, int W, int px, int py, const float *in,
                          const float *U, const float *b, float *out, int relu, int y0, int y1,
                          float *work);

/* The same two on one given path (nn/dsp.h), for the per-path tests; the
 * functions above use nn_dsp_active().  The transforms are portable C,
 * the same on every path; the products are the path's GEMMs, whose bits
 * do not depend on the path. */
void nn_wino_forward_on(const nn_dsp *d, const nn_conv_shape *s, int B, int H, int W,
                        const float *in, const float *w, const float *b, float *out, int relu,
                        float *work);
void nn_wino_backward_on(const nn_dsp *d, const nn_conv_shape *s, int B, int H, int W,
                         const float *in, const float *w, const float *dout, float *dw,
                         float *din, float *work);
#endif
