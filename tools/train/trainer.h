/* SPDX-License-Identifier: BSD-3-Clause */
/* trainer.h - end-to-end training of the VQ auto-encoder.
 *
 * One step: random crops -> encoder -> residual VQ with quantiser dropout
 * (each crop decodes from a random number of stages, so every prefix of
 * stages learns to decode) -> decoder -> loss = MSE(image) + beta *
 * commitment -> backward with the straight-through estimator -> Adam on the
 * network weights; the codebooks follow the encoder by exponential moving
 * averages, and codes nobody uses are restarted on live residuals. */
#ifndef AET_TRAINER_H
#define AET_TRAINER_H
#include <stdint.h>

#include "model/network.h"
#include "model/backward.h"
#include "train/dataset.h"

typedef struct {
    int batch, crop;        /* crops per step and their side in pixels   */
    long steps;             /* total steps of the run                    */
    int warmup;             /* steps of linear learning-rate warm-up      */
    float lr, lr_min;       /* peak and final learning rate (cosine)      */
    float beta;             /* commitment weight                         */
    float ema_decay;        /* codebook EMA decay                        */
    float clip;             /* global gradient-norm clip (0 = none)      */
    uint64_t seed;
    /* Lattice refinement (vq/lattice.h): this fraction of the crops decodes
     * from the latent rounded on a lattice of a random step, log-uniform in
     * [fine_min, fine_max], instead of from a prefix of VQ stages. */
    float fine_prob, fine_min, fine_max;
    /* De-noising (train/noise.h): when noise_max > 0 the encoder sees each
     * crop with noise of a sigma drawn in [noise_min, noise_max] (0..255),
     * signal-dependent for a fraction noise_poisson of the crops, and the
     * loss compares the decoded crop with the clean one. */
    float noise_min, noise_max, noise_poisson;
    /* Non-zero: the lattice crops are rounded as the codec's encoder rounds
     * (aem_lattice_symbols: the detail channels' dead zone and the emptied
     * sparse groups, vq/lattice.h), so the decoder learns the latents it
     * will be given; 0: every value with AEM_LATTICE_ROUNDING. */
    int codec_rounding;
} aet_options;

void aet_options_default(aet_options *o);

typedef struct {
    aet_options opt;
    aec_model *model;
    float *grads, *adam_m, *adam_v; /* model->lay.trainable floats each */
    float *ema_count;               /* [S][K] */
    float *ema_sum;                 /* [S][K][D] */
    long step;
    uint64_t rng;
    /* work buffers */
    aem_acts acts;
    aem_grad_ws ws;
    float *pix, *dy, *dq, *dz, *res;
    float *clean; /* [C*P*P][N] clean blocks, the target when de-noising */
    uint8_t *idx;      /* [S][N] */
    int *sample_stages;
    float *sample_step; /* lattice step of each crop, 0 = VQ stages */
    double *crop_sums;  /* [batch][2]: commitment and rate bits of each crop */
    int *batch_counts; /* [S][K] uses in the last step */
    /* last step's figures */
    double loss, mse, commit;
    double fine_bpp; /* rate proxy of the lattice crops, bits per pixel */
    double perplexity[AEM_MAX_STAGES];
} aet_trainer;

/* Fresh model: random conv branches, PCA linear paths, k-means codebooks. */
int aet_trainer_new(aet_trainer *t, const aem_config *cfg, const aet_options *opt,
                    const aet_dataset *train, const char *name, char *err, size_t errlen);
/* Resume everything (model, optimiser, EMA, step, random state) from a
 * checkpoint written by aet_trainer_save. opt->steps may extend the run. */
/* A new run (fresh optimiser state and schedule) that starts from the
 * weights and codebooks of a model file's bytes, e.g. to specialise a
 * model to part of its lattice steps; name (if not NULL) renames it. */
int aet_trainer_from_model(aet_trainer *t, const uint8_t *model, size_t size,
                           const aet_options *opt, const char *name, char *err, size_t errlen);
int aet_trainer_resume(aet_trainer *t, const char *path, const aet_options *opt, char *err,
                       size_t errlen);
int aet_trainer_save(aet_trainer *t, const char *path, char *err, size_t errlen);
void aet_trainer_free(aet_trainer *t);

float aet_learning_rate(const aet_options *o, long step);
/* One optimisation step; returns the loss. */
double aet_trainer_step(aet_trainer *t, const aet_dataset *train);

/* The step's parts, for a batch split over processes (train/distributed.h).
 * pass: noise (with --denoise), forward, each crop's stage count / lattice
 * step (into sample_stages/sample_step from b0) drawn from rng, loss and
 * backward of the B crops in t->pix (t->acts shaped for B), the losses
 * normalised by the whole step's N_all latents; writes the parameter
 * gradients into grads (zeroed first), t->acts.z and t->idx, and sums[] =
 * squared error, commitment error, lattice bits, lattice pixels.
 * finish: Adam on t->grads and codebook upkeep on t->acts.z and t->idx of the
 * whole batch (t->acts shaped for opt.batch), with sums[] of the whole batch. */
void aet_trainer_pass(aet_trainer *t, int B, int b0, uint64_t *rng, size_t N_all, float *grads,
                      double sums[4]);
void aet_trainer_finish(aet_trainer *t, const double sums[4]);

/* PSNR and order-0 entropy (bits per pixel, per channel of the latent) of
 * the lattice refinement with no VQ stage, for each step in steps[]. */
int aet_validate_fine(const aec_model *m, const aet_dataset *valid, const float *steps, int n,
                      double *psnr, double *bpp);

/* PSNR on whole images (padded to whole blocks, cropped back), averaged over
 * images, for each stage count in stages[] (0 = unquantised latent). */
int aet_validate(const aec_model *m, const aet_dataset *valid, const int *stages, int n,
                 double *psnr);
#endif
