/* SPDX-License-Identifier: BSD-3-Clause */
/* network.c - encoder and decoder forward passes. */
#include "model/network.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "common/arena.h"
#include "nn/gemm.h"
#include "nn/layers.h"
#include "nn/parallel.h"
#include "nn/winograd.h"

static size_t block_dim(const aem_config *c) { return (size_t)c->channels * c->block * c->block; }

size_t aem_stack_most_floats(const nn_conv_shape *conv, const int *scale, int n, size_t N)
{
    size_t most = 0;
    for (int j = 0; j < n; j++) {
        size_t area = N * scale[j] * scale[j];
        size_t cin = (size_t)conv[j].cin, cout = (size_t)conv[j].cout;
        size_t k = area * (cin > cout ? cin : cout);
        most = k > most ? k : most;
    }
    return most;
}

typedef size_t (*scratch_fn)(const nn_conv_shape *s, int B, int H, int W);

/* Largest im2col matrix of a stack of convolutions at scales of the grid. */
static size_t stack_scratch(scratch_fn floats, const nn_conv_shape *conv, const int *scale, int n,
                            int B, int Hs, int Ws)
{
    size_t need = 0;
    for (int j = 0; j < n; j++) {
        size_t k = floats(&conv[j], B, Hs * scale[j], Ws * scale[j]);
        need = k > need ? k : need;
    }
    return need;
}

/* Largest im2col matrix among the 3x3 convolutions that will run: forward
 * only unless the layout keeps every layer for a backward pass. */
static size_t scratch_need(const aem_config *c, int B, int Hs, int Ws, int enc, int dec)
{
    scratch_fn floats =
        dec == AEM_ACTS_ALL ? nn_conv_scratch_floats : nn_conv_forward_scratch_floats;
    size_t need = 0;
    for (int i = 0; enc && i < c->enc_convs; i++) {
        nn_conv_shape s = aem_enc_conv_shape(c, i);
        size_t n = floats(&s, B, Hs, Ws);
        need = n > need ? n : need;
    }
    for (int i = 0; dec && i < c->dec_convs; i++) {
        nn_conv_shape s = aem_dec_conv_shape(c, i);
        size_t n = floats(&s, B, Hs, Ws);
        need = n > need ? n : need;
    }
    if (enc && aem_has_analysis(c)) {
        aem_down_shapes d;
        aem_down_shapes_of(c, &d);
        size_t n = stack_scratch(floats, d.conv, d.scale, AEM_DOWN_STAGES, B, Hs, Ws);
        need = n > need ? n : need;
    }
    if (dec && aem_has_upsampling(c)) {
        aem_up_shapes u;
        aem_up_shapes_of(c, &u);
        size_t n = stack_scratch(floats, u.conv, u.scale, AEM_UP_LAYERS, B, Hs, Ws);
        need = n > need ? n : need;
    }
    return need;
}

void aem_up_shapes_of(const aem_config *c, aem_up_shapes *u)
{
    int cin = c->dec_width, f = 1;
    for (int j = 0; j < AEM_UP_STAGES; j++, f *= 2) {
        u->conv[j] = (nn_conv_shape){cin, 4 * c->up_width[j], 3, 1, 1};
        u->scale[j] = f;
        cin = c->up_width[j];
    }
    u->conv[AEM_UP_STAGES] = (nn_conv_shape){cin + c->channels, c->refine_width, 3, 1, 1};
    u->conv[AEM_UP_STAGES + 1] = (nn_conv_shape){c->refine_width, c->channels, 3, 1, 1};
    u->scale[AEM_UP_STAGES] = u->scale[AEM_UP_STAGES + 1] = c->block;
}

void aem_down_shapes_of(const aem_config *c, aem_down_shapes *d)
{
    int cin = 4 * c->channels, f = c->block / 2;
    for (int j = 0; j < AEM_DOWN_STAGES; j++, f /= 2) {
        d->conv[j] = (nn_conv_shape){cin, c->down_width[j], 3, 1, 1};
        d->scale[j] = f;
        cin = 4 * c->down_width[j];
    }
}

/* Floats of the analysis stages' activations for N latents (stage 2's
 * output lies in x). */
static size_t down_floats(const aem_config *c, size_t N)
{
    if (!aem_has_analysis(c))
        return 0;
    aem_down_shapes d;
    aem_down_shapes_of(c, &d);
    size_t n = N * d.scale[0] * d.scale[0] * d.conv[0].cin; /* dn_x */
    for (int j = 0; j < AEM_DOWN_STAGES - 1; j++)
        n += 2 * N * d.scale[j] * d.scale[j] * d.conv[j].cout; /* dn_t and dn_s */
    return n;
}

/* Floats of the upsampling synthesis' activations for N latents. */
static size_t up_floats(const aem_config *c, size_t N)
{
    if (!aem_has_upsampling(c))
        return 0;
    size_t n = 0, area = N; /* positions at the stage's input resolution */
    for (int j = 0; j < AEM_UP_STAGES; j++, area *= 4)
        n += area * 4 * c->up_width[j] * 2; /* up_t and up_u: the same count */
    size_t pixels = N * c->block * c->block;
    return n + pixels * ((size_t)c->channels + c->refine_width + c->channels);
}

/* Buffers for `convs` hidden layers: one each, or two taking turns. */
static int hidden_buffers(int convs, int want)
{
    return want == AEM_ACTS_FORWARD && convs > 2 ? 2 : convs;
}

/* Whether the full-resolution refinement runs row by row
 * (nn_conv3_pair_forward), its hidden layer in a ring of three rows. */
static int refine_in_rows(const aem_config *c)
{
    aem_up_shapes u;
    aem_up_shapes_of(c, &u);
    return nn_conv3_pair_supported(&u.conv[AEM_UP_STAGES], &u.conv[AEM_UP_STAGES + 1]);
}

/* Whether a forward-only synthesis also makes the refinement's input rows
 * on the fly (nn_conv3_pair_rows), the last stage's rows among them
 * (nn_conv3_row_out): the final image, written in q's place while the rows
 * still read y, must end before y. */
static int refine_fusable(const aem_config *c)
{
    aem_up_shapes u;
    aem_up_shapes_of(c, &u);
    return refine_in_rows(c) && nn_conv3_row_supported(&u.conv[AEM_UP_STAGES - 1]) &&
           (size_t)c->channels * c->block * c->block <=
               (size_t)c->latent + (size_t)hidden_buffers(c->dec_convs, AEM_ACTS_FORWARD) *
                                       c->dec_width;
}

/* The two rings of the fused refinement: its hidden rows and input rows. */
static size_t refine_rings_floats(const aem_config *c, int Ws)
{
    aem_up_shapes u;
    aem_up_shapes_of(c, &u);
    return 3 * (size_t)Ws * c->block *
           (u.conv[AEM_UP_STAGES].cout + u.conv[AEM_UP_STAGES].cin);
}

/* What the fused refinement makes its input rows from, after the rings:
 * one row of the last stage's output [4*U][W/2], that stage's weights in
 * nn_conv3_row_prepare's order, and a ring of three of its input rows
 * [U'][W/2] (U' = the stage before's width). */
static size_t last_stage_row_floats(const aem_config *c, int Ws)
{
    aem_up_shapes u;
    aem_up_shapes_of(c, &u);
    const nn_conv_shape *s = &u.conv[AEM_UP_STAGES - 1];
    size_t W2 = (size_t)Ws * (c->block / 2);
    return (size_t)s->cout * W2 + (size_t)s->cout * s->cin * 9 + 3 * (size_t)s->cin * W2;
}

/* Forward only, the upsampling synthesis in two regions that take turns
 * (each stage's input is dead once its output exists): "odd" holds each
 * up_t and then ref_h (or its ring of rows), "even" each up_u and u_2's
 * image channels.  The final image goes where q, the hidden layers and y
 * were (dead by then).  For aecodec-high-v4's shape about half of
 * up_floats with ref_h whole, 19 floats a pixel instead of 27 with the
 * ring.  Fused (refine_fusable), the last stage's input and output, u_2
 * and the image are never whole: "odd" holds up_t[0..1], "even" up_u[0]
 * and then the rings of rows, 6 floats a pixel in all (12 when the last
 * stage's input and output were whole). */
static void up_turns_floats(const aem_config *c, size_t N, int Ws, size_t *odd, size_t *even)
{
    size_t area = N, pixels = N * c->block * c->block;
    int fused = refine_fusable(c);
    if (fused) {
        *odd = 0;
        *even = refine_rings_floats(c, Ws) + last_stage_row_floats(c, Ws);
    } else {
        *odd = refine_in_rows(c) ? 3 * (size_t)c->refine_width * Ws * c->block
                                 : pixels * c->refine_width;
        *even = pixels * ((size_t)c->up_width[AEM_UP_STAGES - 1] + c->channels);
    }
    for (int j = 0; j < AEM_UP_STAGES - fused; j++, area *= 4) {
        size_t n = area * 4 * c->up_width[j]; /* up_t[j], and up_u[j] */
        *odd = n > *odd ? n : *odd;
        if (!fused || j < AEM_UP_STAGES - 2)
            *even = n > *even ? n : *even;
    }
}

static int up_in_turns(const aem_config *c, int dec)
{
    return dec == AEM_ACTS_FORWARD && aem_has_upsampling(c);
}

static size_t acts_floats(const aem_config *c, int B, int Hs, int Ws, int enc, int dec)
{
    size_t N = (size_t)B * Hs * Ws, n = 0;
    if (enc)
        n += N * ((size_t)aem_encoder_inputs(c) + (size_t)c->enc_width * c->enc_convs +
                  c->latent) +
             down_floats(c, N);
    if (dec) {
        n += N * (c->latent + (size_t)c->dec_width * hidden_buffers(c->dec_convs, dec) +
                  block_dim(c));
        if (up_in_turns(c, dec)) {
            size_t odd, even;
            up_turns_floats(c, N, Ws, &odd, &even);
            n += odd + even;
        } else {
            n += up_floats(c, N);
        }
    }
    return n + scratch_need(c, B, Hs, Ws, enc, dec);
}

size_t aem_acts_bytes(const aem_config *c, int B, int Hs, int Ws, int enc, int dec)
{
    return acts_floats(c, B, Hs, Ws, enc, dec) * sizeof(float);
}

/* Lays the activations of B grids of Hs x Ws latents out in arena. */
static void acts_layout(aem_acts *a, const aem_config *c, int B, int Hs, int Ws, int enc, int dec,
                        float *arena, size_t arena_floats)
{
    memset(a, 0, sizeof *a);
    a->B = B, a->Hs = Hs, a->Ws = Ws;
    a->arena = arena, a->arena_floats = arena_floats;
    size_t N = (size_t)B * Hs * Ws;
    float *p = arena;
    if (enc) {
        a->x = p, p += N * (size_t)aem_encoder_inputs(c);
        if (aem_has_analysis(c)) {
            aem_down_shapes d;
            aem_down_shapes_of(c, &d);
            a->dn_x = p, p += N * d.scale[0] * d.scale[0] * d.conv[0].cin;
            for (int j = 0; j < AEM_DOWN_STAGES - 1; j++) {
                size_t area = N * d.scale[j] * d.scale[j];
                a->dn_t[j] = p, p += area * d.conv[j].cout;
                a->dn_s[j] = p, p += area * d.conv[j].cout;
            }
        }
        for (int i = 0; i < c->enc_convs; i++)
            a->enc_h[i] = p, p += N * c->enc_width;
        a->z = p, p += N * c->latent;
    }
    if (dec) {
        a->q = p, p += N * c->latent;
        int buffers = hidden_buffers(c->dec_convs, dec);
        for (int i = 0; i < c->dec_convs; i++) /* layer i reads i-1: never the same buffer */
            a->dec_h[i] = i < buffers ? p + (size_t)i * N * c->dec_width : a->dec_h[i - 2];
        p += (size_t)buffers * N * c->dec_width;
        a->y = p, p += N * block_dim(c);
        if (up_in_turns(c, dec)) {
            size_t odd, even;
            up_turns_floats(c, N, Ws, &odd, &even);
            for (int j = 0; j < AEM_UP_STAGES; j++)
                a->up_t[j] = p, a->up_u[j] = p + odd;
            a->ref_h = p;
            a->pix = a->q; /* C*P*P <= the floats of q, hidden layers and y */
            a->pix_only = 1;
            p += odd + even;
        } else if (aem_has_upsampling(c)) {
            size_t area = N;
            for (int j = 0; j < AEM_UP_STAGES; j++, area *= 4) {
                a->up_t[j] = p, p += area * 4 * c->up_width[j];
                a->up_u[j] = p, p += area * 4 * c->up_width[j];
            }
            size_t pixels = N * c->block * c->block;
            p += pixels * c->channels; /* up_u[2]'s image channels */
            a->ref_h = p, p += pixels * c->refine_width;
            a->pix = p, p += pixels * c->channels;
        }
    }
    a->scratch = p;
    a->scratch_floats = scratch_need(c, B, Hs, Ws, enc, dec);
    a->row0 = 0, a->row1 = Hs;
    a->px = a->py = 0;
}

void aem_acts_place(aem_acts *a, const aem_config *c, int B, int Hs, int Ws, int enc, int dec,
                    float *arena, size_t floats)
{
    acts_layout(a, c, B, Hs, Ws, enc, dec, arena, floats);
}

int aem_acts_alloc(aem_acts *a, const aem_config *c, int B, int Hs, int Ws, int enc, int dec)
{
    size_t floats = acts_floats(c, B, Hs, Ws, enc, dec);
    float *arena = aec_arena_alloc(floats * sizeof(float) + 64);
    if (!arena) {
        memset(a, 0, sizeof *a);
        return -1;
    }
    acts_layout(a, c, B, Hs, Ws, enc, dec, arena, floats);
    return 0;
}

int aem_acts_reshape(aem_acts *a, const aem_config *c, int B, int Hs, int Ws, int enc, int dec)
{
    size_t floats = acts_floats(c, B, Hs, Ws, enc, dec);
    if (a->arena && a->arena_floats >= floats) {
        acts_layout(a, c, B, Hs, Ws, enc, dec, a->arena, a->arena_floats);
        return 0;
    }
    aem_acts_free(a);
    return aem_acts_alloc(a, c, B, Hs, Ws, enc, dec);
}

void aem_acts_free(aem_acts *a)
{
    aec_arena_free(a->arena, a->arena_floats * sizeof(float) + 64);
    memset(a, 0, sizeof *a);
}

void aem_blocks_to_half(const aem_config *c, int B, int Hs, int Ws, const float *x, float *out)
{
    int P = c->block, H = Hs * P / 2, W = Ws * P / 2;
    size_t N = (size_t)B * Hs * Ws, n = (size_t)B * H * W;
    for (int ch = 0; ch < c->channels; ch++)
        for (int dy = 0; dy < 2; dy++)
            for (int dx = 0; dx < 2; dx++) {
                float *o = out + (size_t)(4 * ch + 2 * dy + dx) * n;
                for (int b = 0; b < B; b++)
                    for (int Y = 0; Y < H; Y++) {
                        int py = 2 * Y + dy;
                        for (int X = 0; X < W; X++) {
                            int px = 2 * X + dx, k = ch * P * P + (py % P) * P + px % P;
                            *o++ = x[(size_t)k * N + ((size_t)b * Hs + py / P) * Ws + px / P];
                        }
                    }
            }
}

/* The layer in slot `slot` of aec_model.wino (model.h): 1 with its shape
 * and its weights' offset in the parameters when the configuration has it
 * and it goes by Winograd in an image, else 0. */
static int wino_slot(const aem_config *c, const aem_layout *L, int slot, nn_conv_shape *s,
                     size_t *w)
{
    int i = slot;
    if (i < AEM_WINO_DOWN) {
        if (i >= c->enc_convs)
            return 0;
        *s = aem_enc_conv_shape(c, i), *w = L->enc_conv_w[i];
    } else if ((i -= AEM_WINO_DOWN) < AEM_DOWN_STAGES) {
        if (!aem_has_analysis(c))
            return 0;
        aem_down_shapes d;
        aem_down_shapes_of(c, &d);
        *s = d.conv[i], *w = L->down_w[i];
    } else if ((i -= AEM_DOWN_STAGES) < AEM_MAX_CONVS) {
        if (i >= c->dec_convs)
            return 0;
        *s = aem_dec_conv_shape(c, i), *w = L->dec_conv_w[i];
    } else {
        i -= AEM_MAX_CONVS;
        if (!aem_has_upsampling(c))
            return 0;
        aem_up_shapes u;
        aem_up_shapes_of(c, &u);
        *s = u.conv[i], *w = L->up_w[i];
    }
    return nn_wino_supported(s);
}

/* The encoder's slots (part 0) and the decoder's (part 1). */
static int part_of(int slot) { return slot >= AEM_WINO_DEC; }
static int part_first(int part) { return part ? AEM_WINO_DEC : AEM_WINO_ENC; }
static int part_end(int part) { return part ? AEM_WINO_SLOTS : AEM_WINO_DEC; }

/* Floats of the slots first .. end-1 that go by Winograd. */
static size_t wino_span(const aem_config *c, const aem_layout *L, int first, int end)
{
    size_t at = 0, w;
    nn_conv_shape s;
    for (int i = first; i < end; i++)
        if (wino_slot(c, L, i, &s, &w))
            at += nn_wino_weights_floats(&s);
    return at;
}

/* Where slot `slot`'s weights start in its part's buffer: after the
 * earlier slots'. */
static size_t wino_offset(const aem_config *c, const aem_layout *L, int slot)
{
    return wino_span(c, L, part_first(part_of(slot)), slot);
}

size_t aem_wino_floats(const aem_config *c, const aem_layout *L, int decoder)
{
    int part = decoder != 0;
    return wino_span(c, L, part_first(part), part_end(part));
}

/* A part of the model's Winograd weights (0 the encoder's, 1 the
 * decoder's), made now if it is not yet: in one buffer from the arena
 * (its pages mapped in one call; faulting a buffer's pages one at a time
 * cost more than the transform, on a virtual machine), published with a
 * compare-and-swap (a thread that loses the race frees its copy; every
 * thread then reads the same values).  NULL for a model that may change
 * (the trainer's) or without memory: each layer then transforms its
 * weights at each call, with the same bits.  The buffers are the model's
 * only mutable part, hence the cast. */
static const float *wino_part(const aec_model *m, int part)
{
    size_t floats = m->wino_floats[part];
    if (!m->frozen || !floats)
        return NULL;
    _Atomic(float *) *cell = (_Atomic(float *) *)&m->wino[part];
    float *U = atomic_load_explicit(cell, memory_order_acquire);
    if (U)
        return U;
    U = aec_arena_alloc(floats * sizeof(float));
    if (!U)
        return NULL;
    nn_conv_shape s;
    size_t w, at = 0;
    for (int i = part_first(part); i < part_end(part); i++)
        if (wino_slot(&m->cfg, &m->lay, i, &s, &w)) {
            nn_wino_weights(&s, m->params + w, U + at);
            at += nn_wino_weights_floats(&s);
        }
    float *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(cell, &expected, U, memory_order_acq_rel,
                                                 memory_order_acquire)) {
        aec_arena_free(U, floats * sizeof(float));
        U = expected;
    }
    return U;
}

void aem_wino_prepare(const aec_model *m, int decoder, int grid_w, int grid_h, int threads)
{
    if (aem_winograd_for(grid_w, grid_h)) {
        int before = nn_fork_threads(threads);
        (void)wino_part(m, decoder != 0);
        nn_fork_threads(before);
    }
}

/* Slot `slot`'s Winograd weights for a layer of an image's grid at column
 * parity px (NULL when px is NN_DIRECT, or as wino_part). */
static const float *wino_weights(const aec_model *m, int slot, int px)
{
    nn_conv_shape s;
    size_t w;
    if (px < 0 || !wino_slot(&m->cfg, &m->lay, slot, &s, &w))
        return NULL;
    const float *U = wino_part(m, part_of(slot));
    return U ? U + wino_offset(&m->cfg, &m->lay, slot) : NULL;
}

/* The origin parity of a grid at `scale` grid rows a latent row (1: the
 * latent grid, the cell's; a finer grid's origin is even), or NN_DIRECT. */
static int scale_px(const aem_acts *a, int scale)
{
    return scale == 1 || a->px == NN_DIRECT ? a->px : 0;
}
static int scale_py(const aem_acts *a, int scale)
{
    return scale == 1 ? a->py : 0;
}

/* The analysis stages: the image (from a->x's blocks) -> their output, the
 * rows of a->x after the blocks. */
static void analysis_forward(const aec_model *m, aem_acts *a)
{
    const aem_config *c = &m->cfg;
    const aem_layout *L = &m->lay;
    aem_down_shapes d;
    aem_down_shapes_of(c, &d);
    int B = a->B;
    size_t N = (size_t)B * a->Hs * a->Ws;
    aem_blocks_to_half(c, B, a->Hs, a->Ws, a->x, a->dn_x);
    const float *in = a->dn_x;
    for (int j = 0; j < AEM_DOWN_STAGES; j++) {
        int H = a->Hs * d.scale[j], W = a->Ws * d.scale[j];
        float *out = j < AEM_DOWN_STAGES - 1 ? a->dn_t[j] : a->x + block_dim(c) * N;
        int px = scale_px(a, d.scale[j]);
        const float *w = m->params + L->down_w[j];
        nn_conv_forward_rows_at(&d.conv[j], B, H, W, px, scale_py(a, d.scale[j]), in, w,
                                wino_weights(m, AEM_WINO_DOWN + j, px),
                                m->params + L->down_b[j], out, a->scratch, 1, 0, H);
        if (j < AEM_DOWN_STAGES - 1) {
            nn_space_to_depth(d.conv[j].cout, B, H, W, 2, out, a->dn_s[j]);
            in = a->dn_s[j];
        }
    }
}

/* The rows a layer computes, at `scale` rows a latent row: the wanted
 * latent rows a->row0..row1-1 and `margin` rows more on each side (what
 * the layers after it read), within the grid; every row when the rows
 * are not restricted (a batch, or a synthesis that keeps whole layers). */
typedef struct {
    int y0, y1;
} row_span;

static row_span rows_for(const aem_acts *a, int ranged, int scale, int margin)
{
    int rows = a->Hs * scale;
    if (!ranged)
        return (row_span){0, rows};
    int y0 = a->row0 * scale - margin, y1 = a->row1 * scale + margin;
    return (row_span){y0 > 0 ? y0 : 0, y1 < rows ? y1 : rows};
}

/* out = lin(x) + out_b + wo * h over the rows r of one grid (every row of
 * a batch): the 1x1 layer from x as nn_conv_forward computes it (its bias
 * in the epilogue), the second bias, then the product from h accumulated
 * onto it.  lin is M x Kx, wo M x Kh; x, h and out hold N positions a
 * channel. */
static void skip_sum(const aem_acts *a, row_span r, int M, int Kx, const float *lin,
                     const float *lin_b, const float *x, int Kh, const float *wo,
                     const float *wo_b, const float *h, float *out)
{
    size_t N = (size_t)a->B * a->Hs * a->Ws;
    size_t p0 = a->B > 1 ? 0 : (size_t)r.y0 * a->Ws;
    size_t n = a->B > 1 ? N : (size_t)(r.y1 - r.y0) * a->Ws;
    nn_gemm_nn_bias(M, (int)n, Kx, lin, Kx, x + p0, (int)N, out + p0, (int)N, lin_b, 0);
    for (int d = 0; d < M; d++) {
        float *o = out + d * N + p0;
        for (size_t i = 0; i < n; i++)
            o[i] += wo_b[d];
    }
    nn_gemm_nn(M, (int)n, Kh, wo, Kh, h + p0, (int)N, out + p0, (int)N, 1);
}

/* With one grid (an encoder cell) and no analysis stages, each layer
 * computes only the rows the layers after it read for the wanted rows
 * a->row0..row1-1, as aem_decoder_forward does. */
void aem_encoder_forward(const aec_model *m, aem_acts *a)
{
    const aem_config *c = &m->cfg;
    const float *P = m->params;
    int X = (int)block_dim(c);
    int ranged = a->B == 1 && !aem_has_analysis(c);
    if (aem_has_analysis(c))
        analysis_forward(m, a);
    const float *h = a->x;
    for (int i = 0; i < c->enc_convs; i++) {
        nn_conv_shape s = aem_enc_conv_shape(c, i);
        row_span r = rows_for(a, ranged, 1, c->enc_convs - 1 - i);
        /* bias and ReLU in the GEMM's epilogue */
        const float *w = P + m->lay.enc_conv_w[i];
        nn_conv_forward_rows_at(&s, a->B, a->Hs, a->Ws, a->px, a->py, h, w,
                                wino_weights(m, AEM_WINO_ENC + i, a->px),
                                P + m->lay.enc_conv_b[i], a->enc_h[i], a->scratch, 1, r.y0,
                                r.y1);
        h = a->enc_h[i];
    }
    /* z = lin(x) + out(h) */
    skip_sum(a, rows_for(a, ranged, 1, 0), c->latent, X, P + m->lay.enc_lin_w,
             P + m->lay.enc_lin_b, a->x, c->enc_width, P + m->lay.enc_out_w,
             P + m->lay.enc_out_b, h, a->z);
}

/* The refinement's input rows made on the fly (forward only): u_2 is the
 * depth-to-space of the last stage's output [4*U][B][H/2][W/2], and the
 * block image that of y [C*P*P][B][Hs][Ws]; row Y of both, as
 * nn_depth_to_space would write them.  The last stage itself runs one of
 * its rows at a time (row Y/2 serves rows Y and Y+1), from a ring of three
 * rows of its input, each the depth-to-space of a row of the stage
 * before's output t [4*U'][B][H/4][W/4]: none of these exists whole
 * (bench/NOTES.md). */
typedef struct {
    const aem_config *c;
    const nn_conv_shape *last; /* the last stage's convolution */
    const float *wt, *bias;    /* its weights (nn_conv3_row_prepare) and bias */
    const float *t;            /* the stage before's output */
    const float *y;
    float *in_ring;            /* the last stage's input rows [3][U'][W/2] */
    float *t_row;              /* its output row [4*U][W/2] */
    int item, in_rows, t_y;    /* the item, its input rows made, the row in t_row */
    int B, Hs, Ws;
} refine_rows;

/* Row y2 of the last stage's output for item b into r->t_row. */
static void last_stage_row(refine_rows *r, int b, int y2, int H2, int W2)
{
    const nn_conv_shape *s = r->last;
    size_t slot = (size_t)s->cin * W2;
    if (r->item != b) /* from the first input row that row y2 reads */
        r->item = b, r->in_rows = y2 > 1 ? y2 - 1 : 0;
    for (; r->in_rows < H2 && r->in_rows <= y2 + 1; r->in_rows++)
        nn_depth_to_space_row(s->cin, r->B, H2, W2, 2, r->t, b, r->in_rows,
                              r->in_ring + (size_t)(r->in_rows % 3) * slot);
    const float *rows[NN_KC / 3];
    for (int i = 0; i < s->cin; i++)
        for (int ky = 0; ky < 3; ky++) {
            int yy = y2 + ky - 1;
            rows[i * 3 + ky] =
                yy < 0 || yy >= H2 ? NULL : r->in_ring + (size_t)(yy % 3) * slot + (size_t)i * W2;
        }
    nn_conv3_row_out(s, r->wt, r->bias, W2, rows, r->t_row, 1);
    r->t_y = y2;
}

static void fill_refine_row(void *ctx, int b, int Y, float *dst, int W)
{
    refine_rows *r = ctx;
    const aem_config *c = r->c;
    int U = c->up_width[AEM_UP_STAGES - 1], H = r->Hs * c->block;
    if (r->item != b || r->t_y != Y / 2)
        last_stage_row(r, b, Y / 2, H / 2, W / 2);
    /* row Y % 2 of a one-row tensor [4*U][1][1][W/2] */
    nn_depth_to_space_row(U, 1, 2, W, 2, r->t_row, 0, Y % 2, dst);
    nn_depth_to_space_row(c->channels, r->B, H, W, c->block, r->y, b, Y, dst + (size_t)U * W);
}

/* Whether this synthesis makes the refinement's input rows on the fly: a
 * forward-only one (its buffers laid out for it by up_turns_floats). */
static int refine_fused(const aem_config *c, const aem_acts *a)
{
    return a->pix_only && refine_fusable(c);
}

/* The upsampling synthesis: h [Cd][B][Hs][Ws] and the block decoder's
 * output a->y -> the final image, whose blocks replace a->y. */
static void upsampling_forward(const aec_model *m, aem_acts *a, const float *h, int ranged)
{
    const aem_config *c = &m->cfg;
    const aem_layout *L = &m->lay;
    const float *P = m->params;
    aem_up_shapes u;
    aem_up_shapes_of(c, &u);
    int B = a->B, H = a->Hs, W = a->Ws;
    const float *in = h;
    int fused = refine_fused(c, a);
    for (int j = 0; j < AEM_UP_STAGES - fused; j++) {
        /* Ranged (fused): the stage at 1/8 one latent row more each side,
         * the one at 1/4 one of its rows (the final rows' receptive field) */
        row_span r = rows_for(a, ranged, 1 << j, 1);
        int px = scale_px(a, 1 << j);
        const float *w = P + L->up_w[j];
        nn_conv_forward_rows_at(&u.conv[j], B, H, W, px, scale_py(a, 1 << j), in, w,
                                wino_weights(m, AEM_WINO_UP + j, px),
                                P + L->up_b[j], a->up_t[j], a->scratch, 1, r.y0, r.y1);
        H *= 2, W *= 2;
        if (fused && j == AEM_UP_STAGES - 2)
            break; /* the last stage reads it row by row */
        nn_depth_to_space(c->up_width[j], B, H, W, 2, a->up_t[j], a->up_u[j]);
        in = a->up_u[j];
    }
    if (fused) { /* "even" (the up_u) is free: the rings of rows and the last stage's weights */
        const nn_conv_shape *last = &u.conv[AEM_UP_STAGES - 1];
        H *= 2, W *= 2;
        float *ring = a->up_u[AEM_UP_STAGES - 1];
        float *in_ring = ring + 3 * (size_t)W * u.conv[AEM_UP_STAGES].cout;
        float *t_row = in_ring + 3 * (size_t)W * u.conv[AEM_UP_STAGES].cin;
        float *wt = t_row + (size_t)last->cout * (W / 2);
        float *last_in = wt + (size_t)last->cout * last->cin * 9;
        nn_conv3_row_prepare(last, P + L->up_w[AEM_UP_STAGES - 1], wt);
        refine_rows rows = {.c = c, .last = last, .wt = wt,
                            .bias = P + L->up_b[AEM_UP_STAGES - 1],
                            .t = a->up_t[AEM_UP_STAGES - 2], .y = a->y, .in_ring = last_in,
                            .t_row = t_row, .item = -1, .in_rows = 0, .t_y = -1,
                            .B = B, .Hs = a->Hs, .Ws = a->Ws};
        row_span r = rows_for(a, ranged, c->block, 0); /* the wanted rows only */
        nn_conv3_pair_rows(&u.conv[AEM_UP_STAGES], &u.conv[AEM_UP_STAGES + 1], B, H, W,
                           fill_refine_row, &rows, in_ring, P + L->ref_w, P + L->ref_b,
                           P + L->fin_w, P + L->fin_b, ring, a->pix,
                           c->up_width[AEM_UP_STAGES - 1], r.y0, r.y1);
        return;
    }
    /* The block decoder's image becomes the last C input channels. */
    size_t pixels = (size_t)B * H * W;
    float *image = a->up_u[AEM_UP_STAGES - 1] + (size_t)c->up_width[AEM_UP_STAGES - 1] * pixels;
    aem_blocks_to_pixels(c, B, a->Hs, a->Ws, a->y, image);
    if (a->pix_only && refine_in_rows(c)) { /* ref_h is a ring of rows (up_turns_floats) */
        nn_conv3_pair_forward(&u.conv[AEM_UP_STAGES], &u.conv[AEM_UP_STAGES + 1], B, H, W, in,
                              P + L->ref_w, P + L->ref_b, P + L->fin_w, P + L->fin_b, a->ref_h,
                              a->pix);
    } else {
        nn_conv_forward_act(&u.conv[AEM_UP_STAGES], B, H, W, in, P + L->ref_w, P + L->ref_b,
                            a->ref_h, a->scratch, 1);
        nn_conv_forward(&u.conv[AEM_UP_STAGES + 1], B, H, W, a->ref_h, P + L->fin_w,
                        P + L->fin_b, a->pix, a->scratch);
    }
    for (size_t i = 0; i < pixels * c->channels; i++)
        a->pix[i] += image[i];
    if (!a->pix_only)
        aem_pixels_to_blocks(c, B, a->Hs, a->Ws, a->pix, a->y);
}

/* With one grid (a decoder cell), each layer computes only the rows that
 * the layers after it read for the wanted rows a->row0..row1-1: a cell's
 * halo is what its first layer reads, and every later layer's share of it
 * shrinks by its own reach (one latent row a 1/8-grid convolution; the
 * upsampling stages above 1/8 together one).  Rows are whole, so only
 * halos above and below a cell shrink.  Each computed value has the bits
 * the whole layer gives it; the rows left out stay as they were (never
 * read for a wanted row).  A synthesis that keeps whole layers (a batch,
 * or one that is not fused) computes every row. */
void aem_decoder_forward(const aec_model *m, aem_acts *a)
{
    const aem_config *c = &m->cfg;
    const float *P = m->params;
    int X = (int)block_dim(c), up = aem_has_upsampling(c);
    int ranged = a->B == 1 && (!up || refine_fused(c, a));
    int up_reach = up ? 2 : 0; /* what the upsampling reads of the block decoder's layers */
    const float *h = a->q;
    for (int i = 0; i < c->dec_convs; i++) {
        nn_conv_shape s = aem_dec_conv_shape(c, i);
        row_span r = rows_for(a, ranged, 1, c->dec_convs - 1 - i + up_reach);
        /* bias and ReLU in the GEMM's epilogue */
        const float *w = P + m->lay.dec_conv_w[i];
        nn_conv_forward_rows_at(&s, a->B, a->Hs, a->Ws, a->px, a->py, h, w,
                                wino_weights(m, AEM_WINO_DEC + i, a->px),
                                P + m->lay.dec_conv_b[i], a->dec_h[i], a->scratch, 1, r.y0,
                                r.y1);
        h = a->dec_h[i];
    }
    /* y = lin(q) + out(h), the block image: one latent row more each side
     * for the refinement */
    skip_sum(a, rows_for(a, ranged, 1, up ? 1 : 0), X, c->latent, P + m->lay.dec_lin_w,
             P + m->lay.dec_lin_b, a->q, c->dec_width, P + m->lay.dec_out_w,
             P + m->lay.dec_out_b, h, a->y);
    if (up)
        upsampling_forward(m, a, h, ranged);
}

void aem_pixels_to_blocks(const aem_config *c, int B, int Hs, int Ws, const float *pix, float *x)
{
    nn_space_to_depth(c->channels, B, Hs * c->block, Ws * c->block, c->block, pix, x);
}

void aem_blocks_to_pixels(const aem_config *c, int B, int Hs, int Ws, const float *y, float *pix)
{
    nn_depth_to_space(c->channels, B, Hs * c->block, Ws * c->block, c->block, y, pix);
}
