/* SPDX-License-Identifier: BSD-3-Clause */
/* backward.c - gradients of the networks, layer by layer in reverse. */
#include "train/backward.h"

#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"

int aet_grad_ws_alloc(aet_grad_ws *w, const aem_config *c, int B, int Hs, int Ws)
{
    size_t N = (size_t)B * Hs * Ws;
    size_t width = c->enc_width > c->dec_width ? c->enc_width : c->dec_width;
    w->arena = malloc(sizeof(float) * N * (2 * width + c->latent));
    if (!w->arena)
        return -1;
    w->dh[0] = w->arena;
    w->dh[1] = w->arena + N * width;
    w->tmp = w->arena + 2 * N * width;
    return 0;
}

void aet_grad_ws_free(aet_grad_ws *w)
{
    free(w->arena);
    memset(w, 0, sizeof *w);
}

void aet_decoder_backward(const aec_model *m, aem_acts *a, const float *dy, float *grads,
                          float *dq, aet_grad_ws *w)
{
    const aem_config *c = &m->cfg;
    const aem_layout *L = &m->lay;
    const float *P = m->params;
    int X = c->channels * c->block * c->block, last = c->dec_convs - 1;
    size_t N = (size_t)a->B * a->Hs * a->Ws;
    /* y = lin(q) + out(h_last): both 1x1 convolutions see the same dy. */
    nn_conv_shape out = {c->dec_width, X, 1, 1, 0};
    nn_conv_backward(&out, a->B, a->Hs, a->Ws, a->dec_h[last], P + L->dec_out_w, dy,
                     grads + L->dec_out_w, grads + L->dec_out_b, w->dh[0], NULL);
    nn_conv_shape lin = {c->latent, X, 1, 1, 0};
    nn_conv_backward(&lin, a->B, a->Hs, a->Ws, a->q, P + L->dec_lin_w, dy, grads + L->dec_lin_w,
                     grads + L->dec_lin_b, dq, NULL);
    int cur = 0;
    for (int i = last; i >= 0; i--) {
        nn_relu_backward(a->dec_h[i], w->dh[cur], N * c->dec_width);
        nn_conv_shape s = {i == 0 ? c->latent : c->dec_width, c->dec_width, 3, 1, 1};
        const float *in = i == 0 ? a->q : a->dec_h[i - 1];
        float *din = i == 0 ? w->tmp : w->dh[1 - cur];
        nn_conv_backward(&s, a->B, a->Hs, a->Ws, in, P + L->dec_conv_w[i], w->dh[cur],
                         grads + L->dec_conv_w[i], grads + L->dec_conv_b[i], din, a->scratch);
        cur = 1 - cur;
    }
    for (size_t i = 0; i < N * c->latent; i++)
        dq[i] += w->tmp[i];
}

void aet_encoder_backward(const aec_model *m, aem_acts *a, const float *dz, float *grads,
                          aet_grad_ws *w)
{
    const aem_config *c = &m->cfg;
    const aem_layout *L = &m->lay;
    const float *P = m->params;
    int X = c->channels * c->block * c->block, last = c->enc_convs - 1;
    size_t N = (size_t)a->B * a->Hs * a->Ws;
    nn_conv_shape out = {c->enc_width, c->latent, 1, 1, 0};
    nn_conv_backward(&out, a->B, a->Hs, a->Ws, a->enc_h[last], P + L->enc_out_w, dz,
                     grads + L->enc_out_w, grads + L->enc_out_b, w->dh[0], NULL);
    nn_conv_shape lin = {X, c->latent, 1, 1, 0};
    nn_conv_backward(&lin, a->B, a->Hs, a->Ws, a->x, P + L->enc_lin_w, dz, grads + L->enc_lin_w,
                     grads + L->enc_lin_b, NULL, NULL);
    int cur = 0;
    for (int i = last; i >= 0; i--) {
        nn_relu_backward(a->enc_h[i], w->dh[cur], N * c->enc_width);
        nn_conv_shape s = {i == 0 ? X : c->enc_width, c->enc_width, 3, 1, 1};
        const float *in = i == 0 ? a->x : a->enc_h[i - 1];
        float *din = i == 0 ? NULL : w->dh[1 - cur];
        nn_conv_backward(&s, a->B, a->Hs, a->Ws, in, P + L->enc_conv_w[i], w->dh[cur],
                         grads + L->enc_conv_w[i], grads + L->enc_conv_b[i], din, a->scratch);
        cur = 1 - cur;
    }
}
