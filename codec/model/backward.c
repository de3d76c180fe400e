/* SPDX-License-Identifier: BSD-3-Clause */
/* backward.c - gradients of the networks, layer by layer in reverse. */
#include "model/backward.h"

#include <stdlib.h>
#include <string.h>

#include "nn/layers.h"
#include "nn/parallel.h"

/* Floats of the largest gradient of an upsampling layer's input or
 * output, for N latents. */
static size_t up_grad_floats(const aem_config *c, size_t N)
{
    aem_up_shapes u;
    aem_up_shapes_of(c, &u);
    return aem_stack_most_floats(u.conv, u.scale, AEM_UP_LAYERS, N);
}

/* The same for the analysis stages (stage 2's output lies in w->dx). */
static size_t down_grad_floats(const aem_config *c, size_t N)
{
    aem_down_shapes d;
    aem_down_shapes_of(c, &d);
    return aem_stack_most_floats(d.conv, d.scale, AEM_DOWN_STAGES, N);
}

int aem_grad_ws_alloc(aem_grad_ws *w, const aem_config *c, int B, int Hs, int Ws)
{
    memset(w, 0, sizeof *w);
    size_t N = (size_t)B * Hs * Ws;
    size_t width = c->enc_width > c->dec_width ? c->enc_width : c->dec_width;
    size_t X = (size_t)c->channels * c->block * c->block;
    size_t up = aem_has_upsampling(c) ? up_grad_floats(c, N) : 0;
    size_t up_all = up ? 2 * up + N * X /* dpix */ + N * X + N * c->dec_width : 0;
    size_t down = aem_has_analysis(c) ? down_grad_floats(c, N) : 0;
    size_t down_all = down ? 2 * down + N * (size_t)aem_encoder_inputs(c) : 0;
    w->arena = malloc(sizeof(float) * (N * (2 * width + c->latent) + up_all + down_all));
    if (!w->arena)
        return -1;
    w->dh[0] = w->arena;
    w->dh[1] = w->arena + N * width;
    w->tmp = w->arena + 2 * N * width;
    if (up) {
        float *p = w->tmp + N * c->latent;
        w->up[0] = p, p += up;
        w->up[1] = p, p += up;
        w->dpix = p, p += N * X;
        w->dyc = p, p += N * X;
        w->dh_up = p;
    }
    if (down) {
        float *p = w->tmp + N * c->latent + up_all;
        w->dx = p, p += N * (size_t)aem_encoder_inputs(c);
        w->dn[0] = p, p += down;
        w->dn[1] = p;
    }
    return 0;
}

/* grads + off, or NULL without grads (no weight gradient wanted). */
static float *at(float *grads, size_t off) { return grads ? grads + off : NULL; }

/* Back through a ReLU of C channels of n values; db (when not NULL) gets
 * each channel's bias gradient. */
static void relu_backward(const float *y, float *dy, int C, size_t n, float *db)
{
    if (db)
        nn_relu_backward_bias(y, dy, C, n, db);
    else
        nn_relu_backward(y, dy, (size_t)C * n);
}

/* dy, the final image's blocks -> parameter gradients of the upsampling
 * synthesis, w->dyc (the block decoder output's gradient) and w->dh_up
 * (the last hidden layer's gradient through the synthesis). */
static void upsampling_backward(const aec_model *m, aem_acts *a, const float *dy, float *grads,
                                aem_grad_ws *w)
{
    const aem_config *c = &m->cfg;
    const aem_layout *L = &m->lay;
    const float *P = m->params;
    aem_up_shapes u;
    aem_up_shapes_of(c, &u);
    int B = a->B, H = a->Hs * c->block, W = a->Ws * c->block, last = AEM_UP_STAGES - 1;
    size_t pixels = (size_t)B * H * W;
    /* image = block image + fin(relu(ref([u_2, block image]))) */
    aem_blocks_to_pixels(c, B, a->Hs, a->Ws, dy, w->dpix);
    nn_conv_backward(&u.conv[last + 2], B, H, W, a->ref_h, P + L->fin_w, w->dpix,
                     at(grads, L->fin_w), at(grads, L->fin_b), w->up[0], a->scratch);
    relu_backward(a->ref_h, w->up[0], c->refine_width, pixels, at(grads, L->ref_b));
    nn_conv_backward(&u.conv[last + 1], B, H, W, a->up_u[last], P + L->ref_w, w->up[0],
                     at(grads, L->ref_w), NULL, w->up[1], a->scratch);
    const float *dimage = w->up[1] + (size_t)c->up_width[last] * pixels;
    for (size_t i = 0; i < pixels * c->channels; i++)
        w->dpix[i] += dimage[i];
    aem_pixels_to_blocks(c, B, a->Hs, a->Ws, w->dpix, w->dyc);
    /* u_j = depth_to_space_2(relu(conv_j(u_{j-1}))), in reverse; the
     * gradient of u_j is in w->up[1] at the top of each turn. */
    for (int j = last; j >= 0; j--) {
        nn_space_to_depth(c->up_width[j], B, H, W, 2, w->up[1], w->up[0]);
        H /= 2, W /= 2;
        relu_backward(a->up_t[j], w->up[0], u.conv[j].cout, (size_t)B * H * W,
                              at(grads, L->up_b[j]));
        const float *in = j == 0 ? a->dec_h[c->dec_convs - 1] : a->up_u[j - 1];
        nn_conv_backward(&u.conv[j], B, H, W, in, P + L->up_w[j], w->up[0], at(grads, L->up_w[j]),
                         NULL, j == 0 ? w->dh_up : w->up[1], a->scratch);
    }
}

void aem_grad_ws_free(aem_grad_ws *w)
{
    free(w->arena);
    memset(w, 0, sizeof *w);
}

void aem_decoder_backward(const aec_model *m, aem_acts *a, const float *dy, float *grads,
                          float *dq, aem_grad_ws *w)
{
    const aem_config *c = &m->cfg;
    const aem_layout *L = &m->lay;
    const float *P = m->params;
    int X = c->channels * c->block * c->block, last = c->dec_convs - 1;
    size_t N = (size_t)a->B * a->Hs * a->Ws;
    if (aem_has_upsampling(c)) { /* then dy reaches the block decoder through it */
        upsampling_backward(m, a, dy, grads, w);
        dy = w->dyc;
    }
    /* y = lin(q) + out(h_last): both 1x1 convolutions see the same dy. */
    nn_conv_shape out = {c->dec_width, X, 1, 1, 0};
    nn_conv_backward(&out, a->B, a->Hs, a->Ws, a->dec_h[last], P + L->dec_out_w, dy,
                     at(grads, L->dec_out_w), at(grads, L->dec_out_b), w->dh[0], NULL);
    if (aem_has_upsampling(c)) /* h_last also feeds the upsampling synthesis */
#pragma omp parallel for schedule(static) if (nn_may_fork_pass(N * c->dec_width))
        for (size_t i = 0; i < N * c->dec_width; i++)
            w->dh[0][i] += w->dh_up[i];
    nn_conv_shape lin = {c->latent, X, 1, 1, 0};
    nn_conv_backward(&lin, a->B, a->Hs, a->Ws, a->q, P + L->dec_lin_w, dy, at(grads, L->dec_lin_w),
                     at(grads, L->dec_lin_b), dq, NULL);
    int cur = 0;
    for (int i = last; i >= 0; i--) {
        relu_backward(a->dec_h[i], w->dh[cur], c->dec_width, N, at(grads, L->dec_conv_b[i]));
        nn_conv_shape s = aem_dec_conv_shape(c, i);
        const float *in = i == 0 ? a->q : a->dec_h[i - 1];
        float *din = i == 0 ? w->tmp : w->dh[1 - cur];
        nn_conv_backward(&s, a->B, a->Hs, a->Ws, in, P + L->dec_conv_w[i], w->dh[cur],
                         at(grads, L->dec_conv_w[i]), NULL, din, a->scratch);
        cur = 1 - cur;
    }
#pragma omp parallel for schedule(static) if (nn_may_fork_pass(N * c->latent))
    for (size_t i = 0; i < N * c->latent; i++)
        dq[i] += w->tmp[i];
}

/* w->dx's rows after the blocks (the gradient of the analysis stages'
 * output) -> their parameter gradients. */
static void analysis_backward(const aec_model *m, aem_acts *a, float *grads, aem_grad_ws *w)
{
    const aem_config *c = &m->cfg;
    const aem_layout *L = &m->lay;
    const float *P = m->params;
    aem_down_shapes d;
    aem_down_shapes_of(c, &d);
    int B = a->B, last = AEM_DOWN_STAGES - 1;
    size_t N = (size_t)B * a->Hs * a->Ws, X = (size_t)c->channels * c->block * c->block;
    float *g = w->dx + X * N; /* of stage j's output, at the top of each turn */
    nn_relu_backward(a->x + X * N, g, N * d.conv[last].cout);
    for (int j = last; j >= 0; j--) {
        int H = a->Hs * d.scale[j], W = a->Ws * d.scale[j];
        const float *in = j == 0 ? a->dn_x : a->dn_s[j - 1];
        float *din = j == 0 ? NULL : w->dn[0];
        nn_conv_backward(&d.conv[j], B, H, W, in, P + L->down_w[j], g, grads + L->down_w[j],
                         grads + L->down_b[j], din, a->scratch);
        if (j == 0)
            break;
        /* v_j = space_to_depth_2(relu(t_{j-1})): back through both */
        nn_depth_to_space(d.conv[j - 1].cout, B, 2 * H, 2 * W, 2, w->dn[0], w->dn[1]);
        nn_relu_backward(a->dn_t[j - 1], w->dn[1], (size_t)B * 4 * H * W * d.conv[j - 1].cout);
        g = w->dn[1];
    }
}

void aem_encoder_backward(const aec_model *m, aem_acts *a, const float *dz, float *grads,
                          aem_grad_ws *w)
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
        nn_relu_backward_bias(a->enc_h[i], w->dh[cur], c->enc_width, N, grads + L->enc_conv_b[i]);
        nn_conv_shape s = aem_enc_conv_shape(c, i);
        const float *in = i == 0 ? a->x : a->enc_h[i - 1];
        /* the image needs no gradient, the analysis stages' output does */
        float *din = i > 0 ? w->dh[1 - cur] : aem_has_analysis(c) ? w->dx : NULL;
        nn_conv_backward(&s, a->B, a->Hs, a->Ws, in, P + L->enc_conv_w[i], w->dh[cur],
                         grads + L->enc_conv_w[i], NULL, din, a->scratch);
        cur = 1 - cur;
    }
    if (aem_has_analysis(c))
        analysis_backward(m, a, grads, w);
}
