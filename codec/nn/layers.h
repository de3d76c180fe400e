/* SPDX-License-Identifier: BSD-3-Clause */
/* layers.h - the network layers, forward and backward side by side.
 *
 * Activations use the layout [C][B][H][W]: channel outermost, then batch
 * item, then rows.  Wide 3x3 layers (32 channels in and out or more) run
 * forward by Winograd's F(2x2, 3x3) (nn/winograd.h), and a batch's (B > 1:
 * the trainer) backward too: the direct convolution's values to rounding.  With it a 1x1 convolution over a whole batch is a single
 * matrix product, and a k x k convolution is one product after im2col.
 * Backward functions accumulate (+=) into weight and bias gradients and
 * overwrite input gradients. */
#ifndef AEC_NN_LAYERS_H
#define AEC_NN_LAYERS_H
#include <stddef.h>

typedef struct {
    int cin, cout, k, stride, pad;
} nn_conv_shape;

static inline int nn_conv_out_dim(int in, int k, int stride, int pad)
{
    return (in + 2 * pad - k) / stride + 1;
}
/* Floats of scratch space nn_conv_forward/backward need (the im2col matrix,
 * or a batch's Winograd buffers); 0 for 1x1 stride-1 convolutions, which
 * need none. */
size_t nn_conv_scratch_floats(const nn_conv_shape *s, int B, int H, int W);
/* The same for nn_conv_forward alone: 0 also where the active path packs
 * the layer's panels straight from its input (3x3, stride 1, padding 1). */
size_t nn_conv_forward_scratch_floats(const nn_conv_shape *s, int B, int H, int W);

/* out[cout][B][Ho][Wo] = conv(in[cin][B][H][W], w[cout][cin][k][k]) + b. */
void nn_conv_forward(const nn_conv_shape *s, int B, int H, int W, const float *in,
                     const float *w, const float *b, float *out, float *scratch);
/* The same followed by the in-place ReLU (relu != 0), in one pass: the same
 * bits as nn_conv_forward then nn_relu_forward. */
void nn_conv_forward_act(const nn_conv_shape *s, int B, int H, int W, const float *in,
                         const float *w, const float *b, float *out, float *scratch, int relu);
/* nn_conv_forward_act with output rows y0..y1-1 only when B = 1 (the
 * other rows of out are left as they are; a batch computes every row),
 * each row with the bits the whole layer gives it: a network cell computes
 * each layer as far into its halo as the next layers read. */
void nn_conv_forward_rows(const nn_conv_shape *s, int B, int H, int W, const float *in,
                          const float *w, const float *b, float *out, float *scratch, int relu,
                          int y0, int y1);
/* The same for a grid that is part of a larger one (a cell of an image)
 * whose origin lies at column parity px and row parity py in it: a layer
 * that goes by Winograd's tiles aligns them to the larger grid, so each
 * value has the bits the whole grid gives it (nn_conv_forward_rows: 0, 0).
 * px < 0: one image's layers by the direct convolution (NN_DIRECT).
 * U: w in Winograd's domain (nn_wino_weights) when the caller keeps them,
 * or NULL: then a layer that goes by Winograd transforms w at each call. */
#define NN_DIRECT (-1)
void nn_conv_forward_rows_at(const nn_conv_shape *s, int B, int H, int W, int px, int py,
                             const float *in, const float *w, const float *U, const float *b,
                             float *out, float *scratch, int relu, int y0, int y1);
/* A 3x3 same convolution of one K slice (cin * 9 <= NN_KC) and up to
 * NN_CONV3_ROW_MAX_OUT outputs, one output row at a time, through the
 * path's conv3_row in groups of NN_CONV3_MAX_OUT outputs: the same bits as
 * that row of nn_conv_forward_act.  For a layer whose whole output is
 * never needed at once (the upsampling synthesis' last stage, made row by
 * row for the refinement). */
#define NN_CONV3_ROW_MAX_OUT 64
int nn_conv3_row_supported(const nn_conv_shape *s);
/* wt (cin * 9 * cout floats) = w [cout][cin*9] in the order the rows read. */
void nn_conv3_row_prepare(const nn_conv_shape *s, const float *w, float *wt);
/* out[o * W + x], o < cout = one output row (bias b, then the ReLU with
 * relu) from its input rows: rows[i * 3 + ky] is row y + ky - 1 of input
 * channel i (W floats), NULL above or below the image. */
void nn_conv3_row_out(const nn_conv_shape *s, const float *wt, const float *b, int W,
                      const float *const *rows, float *out, int relu);
/* Two 3x3 same convolutions, the second with few outputs reading the
 * first's ReLU (the upsampling synthesis' full-resolution layers), the
 * first with up to NN_CONV3_PAIR_MAX_MID outputs (the second's K in one
 * slice):
 * out[second.cout][B][H][W] = second(relu(first(in))), with the first
 * layer's rows in ring (3 * first.cout * W floats) instead of a whole
 * [first.cout][B][H][W] buffer.  The same bits as the two layers one after
 * the other; only when nn_conv3_pair_supported (the kernel path has a row
 * kernel and the shapes fit it). */
#define NN_CONV3_PAIR_MAX_MID 28 /* NN_KC / 9 */
int nn_conv3_pair_supported(const nn_conv_shape *first, const nn_conv_shape *second);
void nn_conv3_pair_forward(const nn_conv_shape *first, const nn_conv_shape *second, int B, int H,
                           int W, const float *in, const float *w1, const float *b1,
                           const float *w2, const float *b2, float *ring, float *out);
/* The same with the input rows written by fill, each once, in order, into
 * in_ring (3 * first.cin * W floats) instead of read from a whole tensor:
 * fill(ctx, b, y, dst, W) writes row y of item b as dst[cin][W].  With
 * residual >= 0 the output row then gets input channels residual ..
 * residual + second.cout - 1 of the same row added (out = second(...) +
 * in[residual + c], one rounding, as adding them afterwards would).
 * Output rows y0..y1-1 only (one image, B = 1; a batch does every row):
 * fill is asked for rows from y0 - 2 on, in order. */
typedef void (*nn_row_fill_fn)(void *ctx, int b, int y, float *dst, int W);
void nn_conv3_pair_rows(const nn_conv_shape *first, const nn_conv_shape *second, int B, int H,
                        int W, nn_row_fill_fn fill, void *ctx, float *in_ring, const float *w1,
                        const float *b1, const float *w2, const float *b2, float *ring,
                        float *out, int residual, int y0, int y1);
/* Given dout, accumulates dw and db, and writes din unless it is NULL.
 * scratch must hold nn_conv_scratch_floats() floats. */
void nn_conv_backward(const nn_conv_shape *s, int B, int H, int W, const float *in,
                      const float *w, const float *dout, float *dw, float *db, float *din,
                      float *scratch);
/* Obviously-correct direct loops, for the tests. */
void nn_conv_forward_reference(const nn_conv_shape *s, int B, int H, int W, const float *in,
                               const float *w, const float *b, float *out);

/* In-place ReLU; backward zeroes dy where the forward output y was <= 0. */
void nn_relu_forward(float *x, size_t n);
void nn_relu_backward(const float *y, float *dy, size_t n);
/* The same on C channels of n values each (y, dy: [C][n]), adding each
 * channel's masked sum to db[c] as nn_conv_backward would from the masked
 * dy: one pass instead of two, the same bits.  Call nn_conv_backward after
 * it with db = NULL. */
void nn_relu_backward_bias(const float *y, float *dy, int C, size_t n, float *db);

/* Space-to-depth: img[C][B][H][W] -> out[C*P*P][B][H/P][W/P], channel index
 * c*P*P + dy*P + dx.  H and W must be multiples of P.  Depth-to-space is its
 * exact inverse (and so each one is the other's backward pass). */
void nn_space_to_depth(int C, int B, int H, int W, int P, const float *in, float *out);
void nn_depth_to_space(int C, int B, int H, int W, int P, const float *in, float *out);
/* Row Y of item b of depth-to-space's output, every channel: dst[C][W],
 * the values nn_depth_to_space writes there. */
void nn_depth_to_space_row(int C, int B, int H, int W, int P, const float *in, int b, int Y,
                           float *dst);
#endif
