/* SPDX-License-Identifier: BSD-3-Clause */
/* network.c - encoder and decoder forward passes. */
#include "model/network.h"

#include <stdlib.h>
#include <string.h>

#include "nn/gemm.h"
#include "nn/layers.h"

static size_t block_dim(const aem_config *c) { return (size_t)c->channels * c->block * c->block; }

/* Largest im2col matrix among the 3x3 convolutions that will run. */
static size_t scratch_need(const aem_config *c, int B, int Hs, int Ws, int enc, int dec)
{
    size_t need = 0;
    for (int i = 0; enc && i < c->enc_convs; i++) {
        nn_conv_shape s = {i == 0 ? (int)block_dim(c) : c->enc_width, c->enc_width, 3, 1, 1};
        size_t n = nn_conv_scratch_floats(&s, B, Hs, Ws);
        need = n > need ? n : need;
    }
    for (int i = 0; dec && i < c->dec_convs; i++) {
        nn_conv_shape s = {i == 0 ? c->latent : c->dec_width, c->dec_width, 3, 1, 1};
        size_t n = nn_conv_scratch_floats(&s, B, Hs, Ws);
        need = n > need ? n : need;
    }
    return need;
}

static size_t acts_floats(const aem_config *c, int B, int Hs, int Ws, int enc, int dec)
{
    size_t N = (size_t)B * Hs * Ws, n = 0;
    if (enc)
        n += N * (block_dim(c) + (size_t)c->enc_width * c->enc_convs + c->latent);
    if (dec)
        n += N * (c->latent + (size_t)c->dec_width * c->dec_convs + block_dim(c));
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
        a->x = p, p += N * block_dim(c);
        for (int i = 0; i < c->enc_convs; i++)
            a->enc_h[i] = p, p += N * c->enc_width;
        a->z = p, p += N * c->latent;
    }
    if (dec) {
        a->q = p, p += N * c->latent;
        for (int i = 0; i < c->dec_convs; i++)
            a->dec_h[i] = p, p += N * c->dec_width;
        a->y = p, p += N * block_dim(c);
    }
    a->scratch = p;
    a->scratch_floats = scratch_need(c, B, Hs, Ws, enc, dec);
}

int aem_acts_alloc(aem_acts *a, const aem_config *c, int B, int Hs, int Ws, int enc, int dec)
{
    size_t floats = acts_floats(c, B, Hs, Ws, enc, dec);
    float *arena = malloc(floats * sizeof(float) + 64);
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
    free(a->arena);
    memset(a, 0, sizeof *a);
}

void aem_encoder_forward(const aec_model *m, aem_acts *a)
{
    const aem_config *c = &m->cfg;
    const float *P = m->params;
    int X = (int)block_dim(c);
    size_t N = (size_t)a->B * a->Hs * a->Ws;
    const float *h = a->x;
    for (int i = 0; i < c->enc_convs; i++) {
        nn_conv_shape s = {i == 0 ? X : c->enc_width, c->enc_width, 3, 1, 1};
        /* bias and ReLU in the GEMM's epilogue */
        nn_conv_forward_act(&s, a->B, a->Hs, a->Ws, h, P + m->lay.enc_conv_w[i],
                            P + m->lay.enc_conv_b[i], a->enc_h[i], a->scratch, 1);
        h = a->enc_h[i];
    }
    /* z = lin(x) + out(h): the second product accumulates onto the first. */
    nn_conv_shape lin = {X, c->latent, 1, 1, 0};
    nn_conv_forward(&lin, a->B, a->Hs, a->Ws, a->x, P + m->lay.enc_lin_w,
                    P + m->lay.enc_lin_b, a->z, NULL);
    for (int d = 0; d < c->latent; d++) {
        float b = P[m->lay.enc_out_b + d];
        float *z = a->z + d * N;
        for (size_t i = 0; i < N; i++)
            z[i] += b;
    }
    nn_gemm_nn(c->latent, (int)N, c->enc_width, P + m->lay.enc_out_w, c->enc_width, h, (int)N,
               a->z, (int)N, 1);
}

void aem_decoder_forward(const aec_model *m, aem_acts *a)
{
    const aem_config *c = &m->cfg;
    const float *P = m->params;
    int X = (int)block_dim(c);
    size_t N = (size_t)a->B * a->Hs * a->Ws;
    const float *h = a->q;
    for (int i = 0; i < c->dec_convs; i++) {
        nn_conv_shape s = {i == 0 ? c->latent : c->dec_width, c->dec_width, 3, 1, 1};
        /* bias and ReLU in the GEMM's epilogue */
        nn_conv_forward_act(&s, a->B, a->Hs, a->Ws, h, P + m->lay.dec_conv_w[i],
                            P + m->lay.dec_conv_b[i], a->dec_h[i], a->scratch, 1);
        h = a->dec_h[i];
    }
    nn_conv_shape lin = {c->latent, X, 1, 1, 0};
    nn_conv_forward(&lin, a->B, a->Hs, a->Ws, a->q, P + m->lay.dec_lin_w, P + m->lay.dec_lin_b,
                    a->y, NULL);
    for (int d = 0; d < X; d++) {
        float b = P[m->lay.dec_out_b + d];
        float *y = a->y + d * N;
        for (size_t i = 0; i < N; i++)
            y[i] += b;
    }
    nn_gemm_nn(X, (int)N, c->dec_width, P + m->lay.dec_out_w, c->dec_width, h, (int)N, a->y,
               (int)N, 1);
}

void aem_pixels_to_blocks(const aem_config *c, int B, int Hs, int Ws, const float *pix, float *x)
{
    nn_space_to_depth(c->channels, B, Hs * c->block, Ws * c->block, c->block, pix, x);
}

void aem_blocks_to_pixels(const aem_config *c, int B, int Hs, int Ws, const float *y, float *pix)
{
    nn_depth_to_space(c->channels, B, Hs * c->block, Ws * c->block, c->block, y, pix);
}
