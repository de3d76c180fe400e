/* SPDX-License-Identifier: BSD-3-Clause */
/* network.h - forward passes of the encoder and decoder networks.
 *
 * The same code serves the codec (batch 1, one tile plus its halo) and the
 * trainer (a batch of crops), which also reads the stored activations in its
 * backward pass.  All tensors use the [C][B][H][W] layout of nn/layers.h on
 * the latent grid of Hs x Ws positions (one per P x P pixel block). */
#ifndef AEC_MODEL_NETWORK_H
#define AEC_MODEL_NETWORK_H
#include "model/model.h"
#include "nn/layers.h"

/* The encoder's and the block decoder's 3x3 convolution i (on the latent
 * grid; the first reads the blocks, or the latents). */
static inline nn_conv_shape aem_enc_conv_shape(const aem_config *c, int i)
{
    return (nn_conv_shape){i == 0 ? aem_encoder_inputs(c) : c->enc_width, c->enc_width, 3, 1, 1};
}
static inline nn_conv_shape aem_dec_conv_shape(const aem_config *c, int i)
{
    return (nn_conv_shape){i == 0 ? c->latent : c->dec_width, c->dec_width, 3, 1, 1};
}

/* The upsampling synthesis' convolutions: the three upsampling stages, the
 * full-resolution layer and the last one; scale[j] is the factor from the
 * latent grid to the resolution layer j runs at (1, 2, 4, 8, 8). */
#define AEM_UP_LAYERS (AEM_UP_STAGES + 2)
typedef struct {
    nn_conv_shape conv[AEM_UP_LAYERS];
    int scale[AEM_UP_LAYERS];
} aem_up_shapes;
void aem_up_shapes_of(const aem_config *c, aem_up_shapes *u);

/* The analysis stages' convolutions; stage j runs on the grid of
 * (4 >> j) x the latent grid's rows and columns (1/2, 1/4, 1/8). */
typedef struct {
    nn_conv_shape conv[AEM_DOWN_STAGES];
    int scale[AEM_DOWN_STAGES];
} aem_down_shapes;
void aem_down_shapes_of(const aem_config *c, aem_down_shapes *d);
/* Floats of the largest input or output of n convolutions conv[j] on the
 * grid of N latents scaled by scale[j] (an upsampling or analysis stack):
 * what a buffer for any of their activations or gradients needs. */
size_t aem_stack_most_floats(const nn_conv_shape *conv, const int *scale, int n, size_t N);
/* The blocks x [C*P*P][B][Hs][Ws] -> the image at half resolution, 2x2
 * pixels a position: out [4C][B][Hs*P/2][Ws*P/2], channel 4c + 2dy + dx. */
void aem_blocks_to_half(const aem_config *c, int B, int Hs, int Ws, const float *x, float *out);

typedef struct {
    int B, Hs, Ws;                  /* batch and latent grid            */
    float *x;                       /* [C*P*P][N] blocks of the image, then
                                       (with the analysis stages) their
                                       output: aem_encoder_inputs rows   */
    /* Analysis stages (model/model.h), at 1/2, 1/4, 1/8 resolution: */
    float *dn_x;                    /* [4C][B][4Hs][4Ws] the image, 2x2
                                       pixels a position                  */
    float *dn_t[AEM_DOWN_STAGES - 1]; /* [A_j][B][..] after ReLU (stage 2's
                                       is the tail of x)                 */
    float *dn_s[AEM_DOWN_STAGES - 1]; /* [4A_j][B][..] space_to_depth_2 of
                                       dn_t[j]: stage j+1's input        */
    float *enc_h[AEM_MAX_CONVS];    /* [enc_width][N] after ReLU        */
    float *z;                       /* [D][N] encoder output            */
    float *q;                       /* [D][N] decoder input             */
    float *dec_h[AEM_MAX_CONVS];    /* [dec_width][N] after ReLU        */
    float *y;                       /* [C*P*P][N] decoder output blocks */
    /* Upsampling synthesis (model/model.h), at 1/8, 1/4, 1/2 resolution: */
    float *up_t[AEM_UP_STAGES];     /* [4*U_j][B][h][w] after ReLU      */
    float *up_u[AEM_UP_STAGES];     /* [U_j][B][2h][2w] depth-to-space;
                                       up_u[2] has C more channels: the
                                       block decoder's image             */
    float *ref_h;                   /* [R][B][H][W] after ReLU          */
    float *pix;                     /* [C][B][H][W] the final image     */
    int pix_only;                   /* 1: the final image is in pix only
                                       (forward-only buffers of an
                                       upsampling synthesis, which reuse
                                       q, dec_h, y and up_*)              */
    float *scratch;                 /* im2col space                     */
    size_t scratch_floats;
    int row0, row1;                 /* the latent rows whose output is
                                       wanted (0, Hs when laid out); with
                                       B = 1 each decoder layer computes
                                       only the rows those read: the
                                       other rows of its output are left
                                       as they were                      */
    int px, py;                     /* the parity of the grid's origin
                                       in the image's latent grid (a
                                       cell's window; 0 when laid out):
                                       Winograd's tiles of the 1/8-grid
                                       layers align to the image's, so
                                       a cell's values are the whole
                                       image's; px = NN_DIRECT: every
                                       layer by the direct convolution
                                       (aem_acts_in_image)               */
    float *arena;
    size_t arena_floats;            /* its capacity                     */
} aem_acts;

/* want_encoder / want_decoder: which halves get buffers, and how. */
enum {
    AEM_ACTS_NONE = 0,
    AEM_ACTS_ALL = 1,     /* every layer's output kept: what a backward pass needs */
    AEM_ACTS_FORWARD = 2, /* forward only: the hidden layers take turns in two
                             buffers (aecodec-high-v2's decoder: 2 of 3), and
                             so do the upsampling synthesis' stages
                             (pix_only) */
};
/* Whether the codec runs an image's wide 1/8-grid layers by Winograd's
 * F(2x2, 3x3) (nn/winograd.h), from the size of its latent grid: a small
 * picture's decode is mostly the weights' transform, so it keeps the
 * direct convolution.  The same answer for every cell of an image, and
 * for its encoder and decoder. */
#define AEM_WINOGRAD_MIN_LATENTS 1024 /* 256 x 256 pixels */
/* Sets a->px, a->py for a grid whose origin is latent (x0, y0) of an
 * image of grid_w x grid_h latents (after the layout, which sets 0, 0). */
static inline int aem_winograd_for(int grid_w, int grid_h)
{
    return (long long)grid_w * grid_h >= AEM_WINOGRAD_MIN_LATENTS;
}
static inline void aem_acts_in_image(aem_acts *a, int grid_w, int grid_h, int x0, int y0)
{
    a->px = aem_winograd_for(grid_w, grid_h) ? x0 & 1 : NN_DIRECT;
    a->py = y0 & 1;
}
/* Floats of a model's Winograd weights for its encoder (decoder = 0) or
 * its decoder (aec_model.wino): every 3x3 layer of that network that goes
 * by Winograd in an image. */
size_t aem_wino_floats(const aem_config *c, const aem_layout *L, int decoder);
/* Makes a frozen model's Winograd weights for its encoder (decoder = 0)
 * or decoder now, on `threads` threads, unless they exist or an image of
 * grid_w x grid_h latents does not use them: for a caller about to code
 * the image, outside its parallel region (the first cell would otherwise
 * make them on its own thread, and a second cell at the same time a copy
 * it then frees). */
void aem_wino_prepare(const aec_model *m, int decoder, int grid_w, int grid_h, int threads);
/* Allocates activations for a batch of B grids of Hs x Ws latents; returns 0
 * on success, -1 when out of memory. */
int aem_acts_alloc(aem_acts *a, const aem_config *c, int B, int Hs, int Ws, int want_encoder,
                   int want_decoder);
/* The same for a new shape, keeping a's arena (from aem_acts_alloc or an
 * earlier reshape) when it is large enough; on failure a is freed. */
int aem_acts_reshape(aem_acts *a, const aem_config *c, int B, int Hs, int Ws, int want_encoder,
                     int want_decoder);
void aem_acts_free(aem_acts *a);
/* Lays a out in `floats` floats at `arena` (at least aem_acts_bytes /
 * sizeof(float)), memory the caller owns and frees: never aem_acts_free
 * such an a.  The decoder shares one arena a thread between these and its
 * entropy buffers, which are never in use at the same time. */
void aem_acts_place(aem_acts *a, const aem_config *c, int B, int Hs, int Ws, int want_encoder,
                    int want_decoder, float *arena, size_t floats);
/* Bytes aem_acts_alloc would take. */
size_t aem_acts_bytes(const aem_config *c, int B, int Hs, int Ws, int want_encoder,
                      int want_decoder);

/* a->x -> a->enc_h -> a->z */
void aem_encoder_forward(const aec_model *m, aem_acts *a);
/* a->q -> a->dec_h -> a->y (and, with the upsampling synthesis, a->up_t,
 * a->up_u, a->ref_h, a->pix, and a->y the final image's blocks unless
 * a->pix_only: then a->pix alone holds it, and q and y are overwritten) */
void aem_decoder_forward(const aec_model *m, aem_acts *a);

/* Pixel planes [3][B][H][W] (values 0..1) <-> block vectors [C*P*P][N]. */
void aem_pixels_to_blocks(const aem_config *c, int B, int Hs, int Ws, const float *pix,
                          float *x);
void aem_blocks_to_pixels(const aem_config *c, int B, int Hs, int Ws, const float *y,
                          float *pix);
#endif
