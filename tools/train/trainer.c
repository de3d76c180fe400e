/* SPDX-License-Identifier: BSD-3-Clause */
/* trainer.c - the training step, optimiser, codebook upkeep, checkpoints. */
#include "train/trainer.h"
#include "common/cleanup.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "nn/parallel.h"
#include "train/init.h"
#include "train/noise.h"
#include "train/rng.h"
#include "vq/lattice.h"
#include "vq/rvq.h"

#define ADAM_B1 0.9f
#define ADAM_B2 0.999f
#define ADAM_EPS 1e-8f
#define CKPT_MAGIC "AETRAIN4"
/* Checkpoints of version 3 stored the options without codec_rounding. */
#define CKPT_MAGIC_V3 "AETRAIN3"
#define CKPT_OPTIONS_V3 offsetof(aet_options, codec_rounding)
/* Checkpoints of version 2 stored the options without the noise fields. */
#define CKPT_MAGIC_V2 "AETRAIN2"
#define CKPT_OPTIONS_V2 offsetof(aet_options, noise_min)
/* Checkpoints of version 1 stored the options without the lattice fields. */
#define CKPT_MAGIC_V1 "AETRAIN1"
#define CKPT_OPTIONS_V1 offsetof(aet_options, fine_prob)

void aet_options_default(aet_options *o)
{
    o->batch = 16;
    o->crop = 128;
    o->steps = 20000;
    o->warmup = 300;
    o->lr = 5e-4f;
    o->lr_min = 1e-5f;
    o->beta = 0.25f;
    o->ema_decay = 0.99f;
    o->clip = 1.0f;
    o->seed = 1;
    o->fine_prob = 0;
    o->fine_min = 0.04f;
    o->fine_max = 0.5f;
    o->noise_min = o->noise_max = o->noise_poisson = 0;
    o->codec_rounding = 0;
}

float aet_learning_rate(const aet_options *o, long step)
{
    if (step < o->warmup)
        return o->lr * (float)(step + 1) / (float)o->warmup;
    double span = (double)(o->steps - o->warmup);
    double p = span > 0 ? (double)(step - o->warmup) / span : 1.0;
    if (p > 1)
        p = 1;
    return (float)(o->lr_min + 0.5 * (o->lr - o->lr_min) * (1 + cos(3.14159265358979323846 * p)));
}

static int alloc_buffers(aet_trainer *t, char *err, size_t errlen)
{
    const aem_config *c = &t->model->cfg;
    int g = t->opt.crop / c->block, B = t->opt.batch;
    size_t N = (size_t)B * g * g, X = (size_t)c->channels * c->block * c->block;
    size_t P = t->model->lay.trainable, S = c->stages, K = c->codes, D = c->latent;
    t->grads = calloc(P, sizeof(float));
    t->adam_m = calloc(P, sizeof(float));
    t->adam_v = calloc(P, sizeof(float));
    t->ema_count = calloc(S * K, sizeof(float));
    t->ema_sum = calloc(S * K * D, sizeof(float));
    t->pix = malloc(sizeof(float) * 3 * B * t->opt.crop * t->opt.crop);
    t->dy = malloc(sizeof(float) * X * N);
    if (t->opt.noise_max > 0 && !(t->clean = malloc(sizeof(float) * X * N))) {
        snprintf(err, errlen, "out of memory for the training buffers");
        return -1;
    }
    t->dq = malloc(sizeof(float) * D * N);
    t->dz = malloc(sizeof(float) * D * N);
    t->res = malloc(sizeof(float) * D * N);
    t->idx = malloc(S * N);
    t->sample_stages = malloc(sizeof(int) * B);
    t->sample_step = calloc(B, sizeof(float));
    t->crop_sums = calloc((size_t)2 * B, sizeof(double));
    t->batch_counts = malloc(sizeof(int) * S * K);
    if (!t->grads || !t->adam_m || !t->adam_v || !t->ema_count || !t->ema_sum || !t->pix ||
        !t->dy || !t->dq || !t->dz || !t->res || !t->idx || !t->sample_stages || !t->sample_step ||
        !t->crop_sums || !t->batch_counts || aem_acts_alloc(&t->acts, c, B, g, g, 1, 1) ||
        aem_grad_ws_alloc(&t->ws, c, B, g, g)) {
        snprintf(err, errlen, "out of memory for the training buffers");
        return -1;
    }
    return 0;
}

/* EMA state starts from the initial codebooks as if each code had been
 * used at the average rate. */
static void ema_reset(aet_trainer *t)
{
    const aem_config *c = &t->model->cfg;
    float avg = (float)t->opt.batch * (t->opt.crop / c->block) * (t->opt.crop / c->block) /
                c->codes;
    const float *books = t->model->params + t->model->lay.codebooks;
    for (int i = 0; i < c->stages * c->codes; i++) {
        t->ema_count[i] = avg;
        for (int d = 0; d < c->latent; d++)
            t->ema_sum[(size_t)i * c->latent + d] = avg * books[(size_t)i * c->latent + d];
    }
}

int aet_trainer_new(aet_trainer *t, const aem_config *cfg, const aet_options *opt,
                    const aet_dataset *train, const char *name, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->opt = *opt;
    t->rng = opt->seed * 0x2545f4914f6cdd1dull + 12345;
    if (opt->crop % cfg->block || opt->crop < 2 * cfg->block) {
        snprintf(err, errlen, "crop size must be a multiple of %d, at least %d", cfg->block,
                 2 * cfg->block);
        return -1;
    }
    if (aem_model_new(cfg, name, &t->model, err, errlen) != AEC_OK)
        return -1;
    if (alloc_buffers(t, err, errlen))
        return -1;
    aet_init_random(t->model, &t->rng, 0.0f);
    if (aet_init_pca(t->model, train, &t->rng, 100000) ||
        aet_init_codebooks(t->model, train, &t->rng, 32768, 12)) {
        snprintf(err, errlen, "out of memory during initialisation");
        return -1;
    }
    ema_reset(t);
    return 0;
}

int aet_trainer_from_model(aet_trainer *t, const uint8_t *model, size_t size,
                           const aet_options *opt, const char *name, char *err, size_t errlen)
{
    memset(t, 0, sizeof *t);
    t->opt = *opt;
    t->rng = opt->seed * 0x2545f4914f6cdd1dull + 12345;
    if (aem_model_parse(model, size, &t->model, err, errlen) != AEC_OK)
        return -1;
    const aem_config *c = &t->model->cfg;
    if (opt->crop % c->block || opt->crop < 2 * c->block) {
        snprintf(err, errlen, "crop size must be a multiple of %d, at least %d", c->block,
                 2 * c->block);
        aet_trainer_free(t);
        return -1;
    }
    if (name) /* the new run's name; the weights keep theirs otherwise */
        snprintf(t->model->name, sizeof t->model->name, "%s", name);
    if (alloc_buffers(t, err, errlen)) {
        aet_trainer_free(t);
        return -1;
    }
    ema_reset(t);
    return 0;
}

void aet_trainer_free(aet_trainer *t)
{
    aec_model_free(t->model);
    free(t->grads), free(t->adam_m), free(t->adam_v), free(t->ema_count), free(t->ema_sum);
    free(t->pix), free(t->dy), free(t->dq), free(t->dz), free(t->res), free(t->idx);
    free(t->clean);
    free(t->sample_stages), free(t->sample_step), free(t->batch_counts), free(t->crop_sums);
    aem_acts_free(&t->acts);
    aem_grad_ws_free(&t->ws);
    memset(t, 0, sizeof *t);
}

/* Codebook upkeep: EMA of the residuals assigned to each code, and restart
 * of codes whose use has faded (on a random residual of this batch). */
static void update_codebooks(aet_trainer *t, size_t N)
{
    aec_model *m = t->model;
    const aem_config *c = &m->cfg;
    int D = c->latent, K = c->codes;
    float gamma = t->opt.ema_decay;
    float dead_below = 0.02f * (float)N / K; /* 2% of the average use */
    float *books = m->params + m->lay.codebooks;
    memcpy(t->res, t->acts.z, sizeof(float) * D * N); /* residual, [D][N] */
    double *sums = malloc(sizeof(double) * (size_t)K * D);
    if (!sums)
        return;
    for (int s = 0; s < c->stages; s++) {
        float *book = books + (size_t)s * K * D;
        int *counts = t->batch_counts + (size_t)s * K;
        const uint8_t *idx = t->idx + (size_t)s * N;
        memset(counts, 0, sizeof(int) * K);
        memset(sums, 0, sizeof(double) * K * D);
        for (size_t i = 0; i < N; i++)
            counts[idx[i]]++;
        /* By dimension, each a contiguous row of res and summed in the order
         * of i: one thread per row, the bits of a serial loop.  Then the
         * residual for the next stage, computed with this step's codes. */
#pragma omp parallel for schedule(static) if (nn_may_fork_pass((size_t)D * N))
        for (int d = 0; d < D; d++) {
            float *r = t->res + (size_t)d * N;
            for (size_t i = 0; i < N; i++)
                sums[(size_t)idx[i] * D + d] += r[i];
            for (size_t i = 0; i < N; i++)
                r[i] -= book[(size_t)idx[i] * D + d];
        }
        double entropy = 0;
        for (int k = 0; k < K; k++) {
            float *cnt = &t->ema_count[(size_t)s * K + k];
            float *sum = &t->ema_sum[((size_t)s * K + k) * D];
            *cnt = gamma * *cnt + (1 - gamma) * counts[k];
            for (int d = 0; d < D; d++)
                sum[d] = gamma * sum[d] + (1 - gamma) * (float)sums[(size_t)k * D + d];
            if (counts[k]) {
                double p = (double)counts[k] / N;
                entropy -= p * log(p);
            }
        }
        t->perplexity[s] = exp(entropy);
        for (int k = 0; k < K; k++) {
            float cnt = t->ema_count[(size_t)s * K + k];
            float *sum = &t->ema_sum[((size_t)s * K + k) * D];
            if (cnt < dead_below) { /* dead code: move it onto a live residual */
                size_t i = aet_rng_below(&t->rng, (uint32_t)N);
                /* res holds what is left after this stage; adding the chosen
                 * code back gives the residual this stage saw. */
                for (int d = 0; d < D; d++) {
                    float v = t->res[(size_t)d * N + i] + book[(size_t)idx[i] * D + d];
                    book[(size_t)k * D + d] = v;
                    sum[d] = v;
                }
                t->ema_count[(size_t)s * K + k] = 1.0f;
            } else {
                for (int d = 0; d < D; d++)
                    book[(size_t)k * D + d] = sum[d] / cnt;
            }
        }
    }
    free(sums);
    aem_model_refresh(m);
}

/* Sums over many values are cut into SUM_PARTS fixed parts, each summed in
 * order (in parallel), then the parts in order: the result does not depend
 * on the thread count. */
#define SUM_PARTS 64

/* Where part p of n values starts (part SUM_PARTS: n). */
static size_t part_start(size_t n, int p) { return n * (size_t)p / SUM_PARTS; }

static double sum_parts(const double part[SUM_PARTS])
{
    double s = 0;
    for (int p = 0; p < SUM_PARTS; p++)
        s += part[p];
    return s;
}

static void adam_update(aet_trainer *t, float lr)
{
    size_t P = t->model->lay.trainable;
    double part[SUM_PARTS];
#pragma omp parallel for schedule(static) if (nn_may_fork_pass(P))
    for (int p = 0; p < SUM_PARTS; p++) {
        double s = 0;
        for (size_t i = part_start(P, p); i < part_start(P, p + 1); i++)
            s += (double)t->grads[i] * t->grads[i];
        part[p] = s;
    }
    double norm2 = sum_parts(part);
    float scale = 1.0f;
    if (t->opt.clip > 0 && sqrt(norm2) > t->opt.clip)
        scale = (float)(t->opt.clip / sqrt(norm2));
    long n = t->step + 1;
    float c1 = 1.0f - powf(ADAM_B1, (float)n), c2 = 1.0f - powf(ADAM_B2, (float)n);
    float *w = t->model->params;
#pragma omp parallel for schedule(static)
    for (size_t i = 0; i < P; i++) {
        float g = t->grads[i] * scale;
        t->adam_m[i] = ADAM_B1 * t->adam_m[i] + (1 - ADAM_B1) * g;
        t->adam_v[i] = ADAM_B2 * t->adam_v[i] + (1 - ADAM_B2) * g * g;
        w[i] -= lr * (t->adam_m[i] / c1) / (sqrtf(t->adam_v[i] / c2) + ADAM_EPS);
    }
}

/* One crop's latent (channel d of the crop at z[d * N + at0 ..], per
 * values) rounded as the codec's encoder rounds it, aem_lattice_symbols,
 * into the same places of q.  Copied to and from [D][per], as the
 * encoder's rounding reads a latent's channels together (sparse groups).
 * Out of memory, the plain rounding, so that the step still runs. */
static void lattice_crop_as_codec(const float *z, size_t N, size_t at0, size_t per, size_t D,
                                  float step, float *q)
{
    float *zc = malloc(sizeof(float) * D * per);
    int32_t *sym = malloc(sizeof(int32_t) * D * per);
    for (size_t d = 0; zc && sym && d < D; d++)
        memcpy(zc + d * per, z + d * N + at0, sizeof(float) * per);
    if (zc && sym)
        aem_lattice_symbols(zc, NULL, D, per, step, sym);
    for (size_t d = 0; d < D; d++)
        for (size_t j = 0; j < per; j++) {
            size_t i = d * N + at0 + j;
            int32_t v = zc && sym ? sym[d * per + j] : aem_lattice_symbol(z[i], 1.0f / step);
            q[i] = step * (float)v;
        }
    free(zc);
    free(sym);
}

void aet_trainer_pass(aet_trainer *t, int B, int b0, uint64_t *rng, size_t N_all, float *grads,
                      double sums[4])
{
    aec_model *m = t->model;
    const aem_config *c = &m->cfg;
    aem_acts *a = &t->acts;
    int g = t->opt.crop / c->block, D = c->latent;
    int X = c->channels * c->block * c->block;
    size_t per = (size_t)g * g, N = (size_t)B * per;

    const float *target = a->x; /* what the decoder should rebuild */
    if (t->opt.noise_max > 0) {  /* de-noising: noisy input, clean target */
        aem_pixels_to_blocks(c, B, g, g, t->pix, t->clean);
        aet_noise_add(t->pix, B, t->opt.crop, t->opt.noise_min, t->opt.noise_max,
                      t->opt.noise_poisson, rng);
        target = t->clean;
    }
    aem_pixels_to_blocks(c, B, g, g, t->pix, a->x);
    aem_encoder_forward(m, a);

    /* Quantise with every stage (the EMA needs them all), then give each
     * crop the sum of its own random prefix of stages. */
    aem_rvq_encode(m, a->z, N, c->stages, t->idx, NULL);
    int *stages = t->sample_stages + b0;
    float *steps = t->sample_step + b0;
    for (int b = 0; b < B; b++) {
        stages[b] = 1 + (int)aet_rng_below(rng, (uint32_t)c->stages);
        steps[b] = 0;
        /* Drawn only when enabled, so runs without it keep their sequence. */
        if (t->opt.fine_prob > 0 && aet_rng_float(rng) < t->opt.fine_prob)
            steps[b] = t->opt.fine_min *
                       powf(t->opt.fine_max / t->opt.fine_min, aet_rng_float(rng));
    }
    const float *books = m->params + m->lay.codebooks;
    memset(a->q, 0, sizeof(float) * D * N);
    /* A crop a turn: each writes only its own columns of q. */
#pragma omp parallel for schedule(static) if (nn_may_fork_pass((size_t)D * N))
    for (int b = 0; b < B; b++) {
        float step = steps[b];
        if (step > 0 && t->opt.codec_rounding) {
            lattice_crop_as_codec(a->z, N, (size_t)b * per, per, (size_t)D, step, a->q);
            continue;
        }
        if (step > 0) { /* lattice crop: the latent rounded with the offset */
            for (int d = 0; d < D; d++)
                for (size_t j = 0; j < per; j++) {
                    size_t i = (size_t)d * N + (size_t)b * per + j;
                    a->q[i] = step * (float)aem_lattice_symbol(a->z[i], 1.0f / step);
                }
            continue;
        }
        for (int s = 0; s < stages[b]; s++)
            for (size_t j = 0; j < per; j++) {
                size_t i = (size_t)b * per + j;
                const float *code = books + ((size_t)s * c->codes + t->idx[(size_t)s * N + i]) * D;
                for (int d = 0; d < D; d++)
                    a->q[(size_t)d * N + i] += code[d];
            }
    }
    aem_decoder_forward(m, a);

    /* Loss in the block domain equals the loss on pixels (a permutation).
     * Normalised by the whole step's N_all, so parts of a batch add up. */
    float inv = 1.0f / (float)((size_t)X * N_all);
    size_t XN = (size_t)X * N;
    double part[SUM_PARTS];
#pragma omp parallel for schedule(static) if (nn_may_fork_pass(XN))
    for (int p = 0; p < SUM_PARTS; p++) {
        /* four running sums (element i in sum i % 4 of its part): chains the
         * compiler can overlap, where one sum waited on each add; the sum is
         * only reported, dy is what trains */
        double s[4] = {0};
        size_t i = part_start(XN, p), end = part_start(XN, p + 1);
        for (; i + 4 <= end; i += 4)
            for (int j = 0; j < 4; j++) {
                float e = a->y[i + j] - target[i + j];
                s[j] += (double)e * e;
                t->dy[i + j] = 2.0f * e * inv;
            }
        for (int j = 0; i < end; i++, j++) {
            float e = a->y[i] - target[i];
            s[j] += (double)e * e;
            t->dy[i] = 2.0f * e * inv;
        }
        part[p] = (s[0] + s[1]) + (s[2] + s[3]);
    }
    double se = sum_parts(part);
    /* VQ crops: the commitment pulls z towards its codes.  Lattice crops: a
     * rate term, log2(1 + |z|/step) bits per value, weighted by the slope
     * of a uniform quantiser's distortion-rate curve (step^2 ln2 / 6 per
     * bit), so the encoder cannot buy precision by inflating the latent. */
    double ce = 0, rate_bits = 0, *crop_sums = t->crop_sums + 2 * (size_t)b0;
    size_t fine_pixels = 0;
    float cinv = t->opt.beta * 2.0f / (float)((size_t)D * N_all);
    /* A crop a turn, its sums kept apart and added in crop order after:
     * the same sums whatever the thread count. */
#pragma omp parallel for schedule(static) if (nn_may_fork_pass((size_t)D * N))
    for (int b = 0; b < B; b++) {
        float step = steps[b];
        double ce_b = 0, rate_b = 0;
        for (int d = 0; d < D; d++)
            for (size_t j = 0; j < per; j++) {
                size_t i = (size_t)d * N + (size_t)b * per + j;
                if (step > 0) {
                    float az = fabsf(a->z[i]);
                    rate_b += log2f(1.0f + az / step); /* reported only */
                    float g = step * step / 6.0f / (step + az) * inv;
                    t->dz[i] = a->z[i] < 0 ? -g : g;
                } else {
                    float e = a->z[i] - a->q[i];
                    ce_b += (double)e * e;
                    t->dz[i] = cinv * e;
                }
            }
        crop_sums[2 * b] = ce_b, crop_sums[2 * b + 1] = rate_b;
    }
    for (int b = 0; b < B; b++) {
        ce += crop_sums[2 * b], rate_bits += crop_sums[2 * b + 1];
        if (steps[b] > 0)
            fine_pixels += per * c->block * c->block;
    }
    sums[0] = se, sums[1] = ce, sums[2] = rate_bits, sums[3] = (double)fine_pixels;

    memset(grads, 0, sizeof(float) * m->lay.trainable);
    aem_decoder_backward(m, a, t->dy, grads, t->dq, &t->ws);
    /* Straight-through: the decoder's input gradient passes to z as is. */
#pragma omp parallel for schedule(static) if (nn_may_fork_pass((size_t)D * N))
    for (size_t i = 0; i < (size_t)D * N; i++)
        t->dz[i] += t->dq[i];
    aem_encoder_backward(m, a, t->dz, grads, &t->ws);
}

void aet_trainer_finish(aet_trainer *t, const double sums[4])
{
    const aem_config *c = &t->model->cfg;
    int g = t->opt.crop / c->block, X = c->channels * c->block * c->block;
    size_t N = (size_t)t->opt.batch * g * g;
    t->fine_bpp = sums[3] > 0 ? sums[2] / sums[3] : 0;
    t->mse = sums[0] / ((double)X * N);
    t->commit = sums[1] / ((double)c->latent * N);
    t->loss = t->mse + t->opt.beta * t->commit;
    adam_update(t, aet_learning_rate(&t->opt, t->step));
    update_codebooks(t, N);
    t->step++;
}

double aet_trainer_step(aet_trainer *t, const aet_dataset *train)
{
    int B = t->opt.batch, g = t->opt.crop / t->model->cfg.block;
    double sums[4];
    aet_dataset_crops(train, &t->rng, B, t->opt.crop, t->pix);
    aet_trainer_pass(t, B, 0, &t->rng, (size_t)B * g * g, t->grads, sums);
    aet_trainer_finish(t, sums);
    return t->loss;
}

/* ---- validation ------------------------------------------------------ */

/* One validation image padded to whole blocks by edge replication, as
 * planar floats in [0,1]. */
static float *padded_planes(const aeio_image *img, int P, int *Hs, int *Ws)
{
    *Hs = (int)(img->height + P - 1) / P, *Ws = (int)(img->width + P - 1) / P;
    int H = *Hs * P, W = *Ws * P;
    float *pix = malloc(sizeof(float) * 3 * H * W);
    if (!pix)
        return NULL;
    for (int ch = 0; ch < 3; ch++)
        for (int y = 0; y < H; y++)
            for (int x = 0; x < W; x++) {
                int sy = y < (int)img->height ? y : (int)img->height - 1;
                int sx = x < (int)img->width ? x : (int)img->width - 1;
                pix[((size_t)ch * H + y) * W + x] =
                    img->pixels[((size_t)sy * img->width + sx) * 3 + ch] / 255.0f;
            }
    return pix;
}

/* Decodes a.q into pix and returns the PSNR against the image. */
static double decode_psnr(const aec_model *m, aem_acts *a, const aeio_image *img, float *pix)
{
    const aem_config *c = &m->cfg;
    int H = a->Hs * c->block, W = a->Ws * c->block;
    aem_decoder_forward(m, a);
    aem_blocks_to_pixels(c, 1, a->Hs, a->Ws, a->y, pix);
    double se = 0;
    for (int ch = 0; ch < 3; ch++)
        for (uint32_t y = 0; y < img->height; y++)
            for (uint32_t x = 0; x < img->width; x++) {
                float v = pix[((size_t)ch * H + y) * W + x];
                v = v < 0 ? 0 : v > 1 ? 1 : v;
                /* Round as the codec does when it writes 8-bit pixels. */
                double e = floorf(v * 255.0f + 0.5f) -
                           img->pixels[((size_t)y * img->width + x) * 3 + ch];
                se += e * e;
            }
    double mse = se / (3.0 * img->width * img->height);
    return 10 * log10(255.0 * 255.0 / (mse > 1e-10 ? mse : 1e-10));
}

int aet_validate(const aec_model *m, const aet_dataset *valid, const int *stages, int n,
                 double *psnr)
{
    const aem_config *c = &m->cfg;
    int D = c->latent;
    for (int k = 0; k < n; k++)
        psnr[k] = 0;
    for (int im = 0; im < valid->count; im++) {
        const aeio_image *img = &valid->images[im];
        int Hs, Ws;
        aem_acts a;
        float *pix = padded_planes(img, c->block, &Hs, &Ws);
        size_t N = (size_t)Hs * Ws;
        float *z = malloc(sizeof(float) * D * N);
        uint8_t *idx = malloc((size_t)c->stages * N);
        if (!pix || !z || !idx || aem_acts_alloc(&a, c, 1, Hs, Ws, 1, 1)) {
            free(pix), free(z), free(idx);
            return -1;
        }
        aem_pixels_to_blocks(c, 1, Hs, Ws, pix, a.x);
        aem_encoder_forward(m, &a);
        memcpy(z, a.z, sizeof(float) * D * N);
        aem_rvq_encode(m, z, N, c->stages, idx, NULL);
        for (int k = 0; k < n; k++) {
            if (stages[k] == 0)
                memcpy(a.q, z, sizeof(float) * D * N);
            else
                aem_rvq_decode(m, idx, N, stages[k], a.q);
            psnr[k] += decode_psnr(m, &a, img, pix);
        }
        aem_acts_free(&a);
        free(pix), free(z), free(idx);
    }
    for (int k = 0; k < n; k++)
        psnr[k] /= valid->count;
    return 0;
}

/* Order-0 entropy, in bits, of n symbols (histogram over [-range, range],
 * larger magnitudes counted in the end bins). */
static double symbol_entropy_bits(const int32_t *sym, size_t n, uint32_t *hist, int range)
{
    memset(hist, 0, sizeof(uint32_t) * (2 * range + 1));
    for (size_t i = 0; i < n; i++) {
        int v = sym[i] < -range ? -range : sym[i] > range ? range : sym[i];
        hist[v + range]++;
    }
    double bits = 0;
    for (int k = 0; k <= 2 * range; k++)
        if (hist[k])
            bits -= hist[k] * log2((double)hist[k] / n);
    return bits;
}

int aet_validate_fine(const aec_model *m, const aet_dataset *valid, const float *steps, int n,
                      double *psnr, double *bpp)
{
    const aem_config *c = &m->cfg;
    int D = c->latent;
    enum { RANGE = 1024 };
    uint32_t *hist = malloc(sizeof(uint32_t) * (2 * RANGE + 1));
    if (!hist)
        return -1;
    for (int k = 0; k < n; k++)
        psnr[k] = bpp[k] = 0;
    for (int im = 0; im < valid->count; im++) {
        const aeio_image *img = &valid->images[im];
        int Hs, Ws;
        aem_acts a;
        float *pix = padded_planes(img, c->block, &Hs, &Ws);
        size_t N = (size_t)Hs * Ws;
        int32_t *sym = malloc(sizeof(int32_t) * N);
        if (!pix || !sym || aem_acts_alloc(&a, c, 1, Hs, Ws, 1, 1)) {
            free(pix), free(sym), free(hist);
            return -1;
        }
        aem_pixels_to_blocks(c, 1, Hs, Ws, pix, a.x);
        aem_encoder_forward(m, &a);
        for (int k = 0; k < n; k++) {
            double bits = 0;
            for (int d = 0; d < D; d++) {
                for (size_t i = 0; i < N; i++) {
                    sym[i] = aem_lattice_symbol(a.z[(size_t)d * N + i], 1.0f / steps[k]);
                    a.q[(size_t)d * N + i] = steps[k] * (float)sym[i];
                }
                bits += symbol_entropy_bits(sym, N, hist, RANGE);
            }
            bpp[k] += bits / ((double)img->width * img->height);
            psnr[k] += decode_psnr(m, &a, img, pix);
        }
        aem_acts_free(&a);
        free(pix), free(sym);
    }
    free(hist);
    for (int k = 0; k < n; k++)
        psnr[k] /= valid->count, bpp[k] /= valid->count;
    return 0;
}

/* ---- checkpoints ------------------------------------------------------ */
/* Layout: magic, step, rng, options, model file, Adam m and v, EMA counts
 * and sums. Host byte order: a checkpoint resumes a run on the machine (or
 * the kind of machine) that wrote it; the model file inside is portable. */

static int write_all(FILE *f, const void *p, size_t n) { return fwrite(p, 1, n, f) == n ? 0 : -1; }
static int read_all(FILE *f, void *p, size_t n) { return fread(p, 1, n, f) == n ? 0 : -1; }

int aet_trainer_save(aet_trainer *t, const char *path, char *err, size_t errlen)
{
    uint8_t *blob;
    size_t blob_size;
    if (aem_model_serialize(t->model, &blob, &blob_size) != AEC_OK) {
        snprintf(err, errlen, "out of memory writing a checkpoint");
        return -1;
    }
    char tmp[4096];
    snprintf(tmp, sizeof tmp, "%s.tmp", path);
    int slot = aeio_cleanup_add(tmp); /* Ctrl-C while saving leaves no .tmp */
    FILE *f = fopen(tmp, "wb");
    int rc = -1;
    if (f) {
        const aem_config *c = &t->model->cfg;
        size_t P = t->model->lay.trainable, SK = (size_t)c->stages * c->codes;
        uint64_t bs = blob_size;
        rc = write_all(f, CKPT_MAGIC, 8) | write_all(f, &t->step, sizeof t->step) |
             write_all(f, &t->rng, sizeof t->rng) | write_all(f, &t->opt, sizeof t->opt) |
             write_all(f, &bs, sizeof bs) | write_all(f, blob, blob_size) |
             write_all(f, t->adam_m, P * 4) | write_all(f, t->adam_v, P * 4) |
             write_all(f, t->ema_count, SK * 4) |
             write_all(f, t->ema_sum, SK * c->latent * 4);
        if (fclose(f))
            rc = -1;
        if (rc == 0 && rename(tmp, path))
            rc = -1;
        if (rc)
            remove(tmp);
    }
    aeio_cleanup_remove(slot);
    free(blob);
    if (rc)
        snprintf(err, errlen, "%s: cannot write checkpoint", path);
    return rc;
}

int aet_trainer_resume(aet_trainer *t, const char *path, const aet_options *opt, char *err,
                       size_t errlen)
{
    memset(t, 0, sizeof *t);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open checkpoint", path);
        return -1;
    }
    char magic[8];
    uint64_t bs = 0;
    aet_options saved;
    memset(&saved, 0, sizeof saved);
    uint8_t *blob = NULL;
    int rc = -1;
    aet_options_default(&saved);
    int v1 = 0, v2 = 0, v3 = 0;
    if (read_all(f, magic, 8) ||
        (memcmp(magic, CKPT_MAGIC, 8) && !(v1 = !memcmp(magic, CKPT_MAGIC_V1, 8)) &&
         !(v2 = !memcmp(magic, CKPT_MAGIC_V2, 8)) && !(v3 = !memcmp(magic, CKPT_MAGIC_V3, 8))) ||
        read_all(f, &t->step, sizeof t->step) || read_all(f, &t->rng, sizeof t->rng) ||
        read_all(f, &saved,
                 v1   ? CKPT_OPTIONS_V1
                 : v2 ? CKPT_OPTIONS_V2
                 : v3 ? CKPT_OPTIONS_V3
                      : sizeof saved) ||
        read_all(f, &bs, sizeof bs) || bs > (1u << 30) ||
        !(blob = malloc(bs)) || read_all(f, blob, bs)) {
        snprintf(err, errlen, "%s: not a checkpoint of this trainer, or truncated", path);
        goto done;
    }
    if (aem_model_parse(blob, bs, &t->model, err, errlen) != AEC_OK)
        goto done;
    /* The run keeps its own shape; only the length and schedule may change. */
    t->opt = saved;
    t->opt.steps = opt->steps;
    if (alloc_buffers(t, err, errlen))
        goto done;
    const aem_config *c = &t->model->cfg;
    size_t P = t->model->lay.trainable, SK = (size_t)c->stages * c->codes;
    if (read_all(f, t->adam_m, P * 4) || read_all(f, t->adam_v, P * 4) ||
        read_all(f, t->ema_count, SK * 4) || read_all(f, t->ema_sum, SK * c->latent * 4)) {
        snprintf(err, errlen, "%s: checkpoint truncated", path);
        goto done;
    }
    rc = 0;
done:
    free(blob);
    fclose(f);
    return rc;
}
