/* SPDX-License-Identifier: BSD-3-Clause */
/* refine.c - see refine.h. */
#include "enc/refine.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "model/backward.h"
#include "model/network.h"
#include "vq/lattice.h"

/* Iterations per effort: each costs about three decodes of the tile (its
 * forward pass and the backward one).  On a 768x512 crop at level 7, 10,
 * 20, 30 and 40 gave +0.13, +0.24, +0.29 and +0.35 dB for an order-0
 * entropy of the symbols within 1.3 %; the validation photographs' files
 * gain less (bench/NOTES.md, "Latents refined through the decoder"). */
static const int effort_iterations[AEC_EFFORT_MAX + 1] = {0, 10, 20, 40};

/* The rate term's weight, in the trainer's units (tools/train/trainer.c: a
 * uniform quantiser's distortion per bit, step^2 ln2 / 6, times the bits
 * log2(1 + |z| / step)): on the crop 3 held the symbols' entropy where
 * 1 let it grow by 4 %; on validation photographs 6 and 10 saved fewer
 * bytes than the PSNR they lost was worth (bench/NOTES.md). */
#define RATE_WEIGHT 3.0f
/* Adam's step, in lattice steps, and its moments' decay rates */
#define STEP_SIZE 0.003f
#define BETA1 0.9f
#define BETA2 0.999f

int aem_refine_iterations(int effort)
{
    if (effort <= 0)
        return 0;
    return effort_iterations[effort < AEC_EFFORT_MAX ? effort : AEC_EFFORT_MAX];
}

/* Working memory of a refinement. */
typedef struct {
    aem_acts a;       /* the decoder's activations, every layer kept      */
    aem_grad_ws ws;   /* the backward pass's gradients                    */
    float *dy, *dq;   /* [X][N] of the image, [D][N] of the latents       */
    float *mom, *vel; /* Adam's moments [D][N]                            */
    int32_t *sym;     /* [D][N]                                           */
} refine_work;

static void work_free(refine_work *w)
{
    aem_acts_free(&w->a);
    aem_grad_ws_free(&w->ws);
    free(w->dy), free(w->dq), free(w->mom), free(w->vel), free(w->sym);
}

static int work_alloc(refine_work *w, const aec_model *m, int lw, int lh)
{
    const aem_config *c = &m->cfg;
    size_t N = (size_t)lw * lh, D = (size_t)c->latent;
    size_t X = (size_t)c->channels * c->block * c->block;
    memset(w, 0, sizeof *w);
    int bad = aem_acts_alloc(&w->a, c, 1, lh, lw, AEM_ACTS_NONE, AEM_ACTS_ALL);
    bad |= aem_grad_ws_alloc(&w->ws, c, 1, lh, lw);
    w->dy = malloc(sizeof(float) * X * N);
    w->dq = malloc(sizeof(float) * D * N);
    w->mom = calloc(D * N, sizeof(float));
    w->vel = calloc(D * N, sizeof(float));
    w->sym = malloc(sizeof(int32_t) * D * N);
    if (bad || !w->dy || !w->dq || !w->mom || !w->vel || !w->sym) {
        work_free(w);
        return -1;
    }
    return 0;
}

/* dy = d(mean squared error)/d(decoded blocks) for the target x. */
static void error_gradient(const float *y, const float *x, size_t n, float *dy)
{
    float k = 2.0f / (float)n;
    for (size_t i = 0; i < n; i++)
        dy[i] = k * (y[i] - x[i]);
}

aec_status aem_refine_latents(const aec_model *m, const float *x, int lw, int lh,
                              aem_refine_rect own, float step, int iterations, float *z)
{
    const aem_config *c = &m->cfg;
    if (iterations <= 0 || step <= 0)
        return AEC_OK;
    size_t N = (size_t)lw * lh, D = (size_t)c->latent;
    size_t X = (size_t)c->channels * c->block * c->block;
    refine_work w;
    if (work_alloc(&w, m, lw, lh))
        return AEC_ERR_OUT_OF_MEMORY;
    /* the rate term's gradient per value, over the error's mean */
    float rate = RATE_WEIGHT * step * step / 6.0f / (float)(X * N);
    float b1 = 1.0f, b2 = 1.0f; /* BETA1^t, BETA2^t */
    for (int it = 0; it < iterations; it++) {
        /* forward from the latents as the file will hold them */
        aem_lattice_symbols(z, NULL, D, N, step, w.sym);
        for (size_t i = 0; i < D * N; i++)
            w.a.q[i] = step * (float)w.sym[i];
        aem_decoder_forward(m, &w.a);
        error_gradient(w.a.y, x, X * N, w.dy);
        aem_decoder_backward(m, &w.a, w.dy, NULL, w.dq, &w.ws); /* no weight gradients */
        /* straight through the rounding: dq is z's gradient, plus the rate's */
        b1 *= BETA1, b2 *= BETA2;
        for (size_t d = 0; d < D; d++)
            for (int y = own.y0; y < own.y1; y++)
                for (int xx = own.x0; xx < own.x1; xx++) {
                    size_t i = d * N + (size_t)y * lw + xx;
                    float g = w.dq[i] + copysignf(rate / (step + fabsf(z[i])), z[i]);
                    w.mom[i] = BETA1 * w.mom[i] + (1.0f - BETA1) * g;
                    w.vel[i] = BETA2 * w.vel[i] + (1.0f - BETA2) * g * g;
                    float mh = w.mom[i] / (1.0f - b1), vh = w.vel[i] / (1.0f - b2);
                    z[i] -= STEP_SIZE * step * mh / (sqrtf(vh) + 1e-12f);
                }
    }
    work_free(&w);
    return AEC_OK;
}
