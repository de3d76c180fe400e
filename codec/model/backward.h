/* SPDX-License-Identifier: BSD-3-Clause */
/* backward.h - backward passes of the encoder and decoder (model/network.c
 * holds the forward passes; the activations it stored are read here). */
#ifndef AEM_BACKWARD_H
#define AEM_BACKWARD_H
#include "model/network.h"

typedef struct {
    float *dh[2];   /* ping-pong gradients of the hidden activations */
    float *tmp;     /* a gradient with respect to the decoder input   */
    float *arena;
    /* the upsampling synthesis (model/model.h), when the model has it: */
    float *up[2];   /* ping-pong gradients of its layers              */
    float *dpix;    /* [C][B][H][W] of the final image                */
    float *dyc;     /* [C*P*P][N] of the block decoder's output       */
    float *dh_up;   /* [Cd][N] of the last hidden layer, through it   */
    /* the analysis stages, when the model has them: */
    float *dx;      /* [X + A_2][N] of the first convolution's input  */
    float *dn[2];   /* ping-pong gradients of their layers            */
} aem_grad_ws;

int aem_grad_ws_alloc(aem_grad_ws *w, const aem_config *c, int B, int Hs, int Ws);
void aem_grad_ws_free(aem_grad_ws *w);

/* dy [X][N] -> accumulates parameter gradients into grads (same layout as
 * model->params; NULL: none, dq alone, as the encoder's refinement of the
 * latents wants) and writes dq [D][N]. */
void aem_decoder_backward(const aec_model *m, aem_acts *a, const float *dy, float *grads,
                          float *dq, aem_grad_ws *w);
/* dz [D][N] -> accumulates encoder parameter gradients into grads. */
void aem_encoder_backward(const aec_model *m, aem_acts *a, const float *dz, float *grads,
                          aem_grad_ws *w);
#endif
