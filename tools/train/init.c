/* SPDX-License-Identifier: BSD-3-Clause */
/* init.c - PCA and k-means initialisation. */
#include "train/init.h"

#include <float.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "model/network.h"
#include "nn/gemm.h"
#include "train/rng.h"

void aet_symmetric_eigen(int n, double *A, double *values, double *vecs)
{
    /* V starts as the identity and accumulates the rotations: A = V^T L V. */
    for (int i = 0; i < n; i++)
        for (int j = 0; j < n; j++)
            vecs[i * n + j] = i == j;
    for (int sweep = 0; sweep < 60; sweep++) {
        double off = 0;
        for (int i = 0; i < n; i++)
            for (int j = i + 1; j < n; j++)
                off += A[i * n + j] * A[i * n + j];
        if (off < 1e-22)
            break;
        for (int p = 0; p < n; p++)
            for (int q = p + 1; q < n; q++) {
                double apq = A[p * n + q];
                if (fabs(apq) < 1e-300)
                    continue;
                double theta = (A[q * n + q] - A[p * n + p]) / (2 * apq);
                double t = (theta >= 0 ? 1 : -1) / (fabs(theta) + sqrt(theta * theta + 1));
                double c = 1 / sqrt(t * t + 1), s = t * c;
                for (int k = 0; k < n; k++) { /* columns p, q */
                    double akp = A[k * n + p], akq = A[k * n + q];
                    A[k * n + p] = c * akp - s * akq;
                    A[k * n + q] = s * akp + c * akq;
                }
                for (int k = 0; k < n; k++) { /* rows p, q */
                    double apk = A[p * n + k], aqk = A[q * n + k];
                    A[p * n + k] = c * apk - s * aqk;
                    A[q * n + k] = s * apk + c * aqk;
                }
                for (int k = 0; k < n; k++) {
                    double vp = vecs[p * n + k], vq = vecs[q * n + k];
                    vecs[p * n + k] = c * vp - s * vq;
                    vecs[q * n + k] = s * vp + c * vq;
                }
            }
    }
    for (int i = 0; i < n; i++)
        values[i] = A[i * n + i];
    /* Selection sort by descending eigenvalue, moving the vector rows along. */
    double *tmp = malloc(sizeof(double) * n);
    for (int i = 0; i < n && tmp; i++) {
        int best = i;
        for (int j = i + 1; j < n; j++)
            if (values[j] > values[best])
                best = j;
        if (best != i) {
            double v = values[i];
            values[i] = values[best], values[best] = v;
            memcpy(tmp, vecs + (size_t)i * n, sizeof(double) * n);
            memcpy(vecs + (size_t)i * n, vecs + (size_t)best * n, sizeof(double) * n);
            memcpy(vecs + (size_t)best * n, tmp, sizeof(double) * n);
        }
    }
    free(tmp);
}

/* Gaussian from two uniforms (Box-Muller). */
static float gaussian(uint64_t *rng)
{
    float u = aet_rng_float(rng) + 1e-7f, v = aet_rng_float(rng);
    return sqrtf(-2.0f * logf(u)) * cosf(6.2831853f * v);
}

static void fill_he(float *w, size_t count, int fan_in, float scale, uint64_t *rng)
{
    float sd = scale * sqrtf(2.0f / fan_in);
    for (size_t i = 0; i < count; i++)
        w[i] = sd * gaussian(rng);
}

void aet_init_random(aec_model *m, uint64_t *rng, float last_scale)
{
    const aem_config *c = &m->cfg;
    const aem_layout *L = &m->lay;
    int X = c->channels * c->block * c->block;
    memset(m->params, 0, L->total * sizeof(float));
    if (aem_has_analysis(c)) {
        aem_down_shapes d;
        aem_down_shapes_of(c, &d);
        for (int j = 0; j < AEM_DOWN_STAGES; j++) {
            int fan_in = d.conv[j].cin * 9;
            fill_he(m->params + L->down_w[j], (size_t)d.conv[j].cout * fan_in, fan_in, 1.0f, rng);
        }
    }
    for (int i = 0; i < c->enc_convs; i++) {
        int cin = i == 0 ? aem_encoder_inputs(c) : c->enc_width;
        fill_he(m->params + L->enc_conv_w[i], (size_t)c->enc_width * cin * 9, cin * 9, 1.0f, rng);
    }
    fill_he(m->params + L->enc_out_w, (size_t)c->latent * c->enc_width, c->enc_width, last_scale,
            rng);
    for (int i = 0; i < c->dec_convs; i++) {
        int cin = i == 0 ? c->latent : c->dec_width;
        fill_he(m->params + L->dec_conv_w[i], (size_t)c->dec_width * cin * 9, cin * 9, 1.0f, rng);
    }
    fill_he(m->params + L->dec_out_w, (size_t)X * c->dec_width, c->dec_width, last_scale, rng);
    if (aem_has_upsampling(c))
        aet_init_upsampling(m, rng, last_scale);
}

void aet_init_upsampling(aec_model *m, uint64_t *rng, float last_scale)
{
    const aem_layout *L = &m->lay;
    aem_up_shapes u;
    aem_up_shapes_of(&m->cfg, &u);
    float *w[AEM_UP_LAYERS] = {m->params + L->up_w[0], m->params + L->up_w[1],
                               m->params + L->up_w[2], m->params + L->ref_w,
                               m->params + L->fin_w};
    for (int j = 0; j < AEM_UP_LAYERS; j++) {
        int fan_in = u.conv[j].cin * 9;
        fill_he(w[j], (size_t)u.conv[j].cout * fan_in, fan_in,
                j == AEM_UP_LAYERS - 1 ? last_scale : 1.0f, rng);
    }
    memset(m->params + L->up_b[0], 0, sizeof(float) * 4 * m->cfg.up_width[0]);
    memset(m->params + L->up_b[1], 0, sizeof(float) * 4 * m->cfg.up_width[1]);
    memset(m->params + L->up_b[2], 0, sizeof(float) * 4 * m->cfg.up_width[2]);
    memset(m->params + L->ref_b, 0, sizeof(float) * m->cfg.refine_width);
    memset(m->params + L->fin_b, 0, sizeof(float) * m->cfg.channels);
}

aec_status aet_model_add_upsampling(const aec_model *m, const int up_width[AEM_UP_STAGES],
                                    int refine_width, uint64_t *rng, aec_model **out, char *err,
                                    size_t errlen)
{
    *out = NULL;
    if (aem_has_upsampling(&m->cfg)) {
        snprintf(err, errlen, "the model already has an upsampling synthesis");
        return AEC_ERR_INVALID_ARGUMENT;
    }
    aem_config c = m->cfg;
    for (int j = 0; j < AEM_UP_STAGES; j++)
        c.up_width[j] = up_width[j];
    c.refine_width = refine_width;
    aec_model *g;
    aec_status st = aem_model_new(&c, m->name, &g, err, errlen);
    if (st != AEC_OK)
        return st;
    /* The new tensors come after the block decoder and before the
     * codebooks, so everything else keeps its offset or moves as a whole. */
    memcpy(g->params, m->params, sizeof(float) * m->lay.trainable);
    memcpy(g->params + g->lay.codebooks, m->params + m->lay.codebooks,
           sizeof(float) * (m->lay.total - m->lay.codebooks));
    if (m->dict_size) {
        g->dict = malloc(m->dict_size);
        if (!g->dict) {
            aec_model_free(g);
            return AEC_ERR_OUT_OF_MEMORY;
        }
        memcpy(g->dict, m->dict, m->dict_size);
        g->dict_size = m->dict_size;
    }
    aet_init_upsampling(g, rng, 0.0f); /* a zero last layer: the same images */
    aem_model_refresh(g);
    *out = g;
    return AEC_OK;
}

int aet_init_pca(aec_model *m, const aet_dataset *ds, uint64_t *rng, int samples)
{
    const aem_config *c = &m->cfg;
    int P = c->block, X = c->channels * P * P, D = c->latent;
    float *blocks = malloc(sizeof(float) * (size_t)X * samples);
    float *cov = malloc(sizeof(float) * (size_t)X * X);
    double *A = malloc(sizeof(double) * X * X), *vals = malloc(sizeof(double) * X),
           *vecs = malloc(sizeof(double) * X * X), *mean = calloc(X, sizeof(double));
    int rc = -1;
    if (!blocks || !cov || !A || !vals || !vecs || !mean)
        goto done;
    /* blocks[x][n]: one random block per column, in the s2d channel order. */
    for (int n = 0; n < samples; n++) {
        const aeio_image *img = &ds->images[aet_rng_below(rng, (uint32_t)ds->count)];
        int x0 = (int)aet_rng_below(rng, img->width - P + 1);
        int y0 = (int)aet_rng_below(rng, img->height - P + 1);
        for (int ch = 0; ch < c->channels; ch++)
            for (int dy = 0; dy < P; dy++)
                for (int dx = 0; dx < P; dx++) {
                    float v = img->pixels[((size_t)(y0 + dy) * img->width + x0 + dx) * 3 + ch] /
                              255.0f;
                    blocks[(size_t)((ch * P + dy) * P + dx) * samples + n] = v;
                }
    }
    for (int x = 0; x < X; x++) {
        double s = 0;
        for (int n = 0; n < samples; n++)
            s += blocks[(size_t)x * samples + n];
        mean[x] = s / samples;
        for (int n = 0; n < samples; n++)
            blocks[(size_t)x * samples + n] -= (float)mean[x];
    }
    nn_gemm_nt(X, X, samples, blocks, samples, blocks, samples, cov, X, 0);
    for (int i = 0; i < X * X; i++)
        A[i] = cov[i] / samples;
    aet_symmetric_eigen(X, A, vals, vecs);
    const aem_layout *L = &m->lay;
    float *ew = m->params + L->enc_lin_w, *eb = m->params + L->enc_lin_b;
    float *dw = m->params + L->dec_lin_w, *db = m->params + L->dec_lin_b;
    for (int d = 0; d < D; d++) {
        double bias = 0;
        for (int x = 0; x < X; x++) {
            float v = d < X ? (float)vecs[(size_t)d * X + x] : 0.0f;
            ew[(size_t)d * X + x] = v;
            dw[(size_t)x * D + d] = v;
            bias -= v * mean[x];
        }
        eb[d] = (float)bias;
    }
    for (int x = 0; x < X; x++)
        db[x] = (float)mean[x];
    rc = 0;
done:
    free(blocks), free(cov), free(A), free(vals), free(vecs), free(mean);
    return rc;
}

int aet_kmeans(const float *points, int n, int D, int K, int iterations, uint64_t *rng,
               float *centres)
{
    int *assign = malloc(sizeof(int) * n);
    double *sums = malloc(sizeof(double) * (size_t)K * D);
    int *counts = malloc(sizeof(int) * K);
    float *norms = malloc(sizeof(float) * K);
    float *pts_t = malloc(sizeof(float) * (size_t)D * n); /* [D][n] for the product */
    float *dots = malloc(sizeof(float) * (size_t)K * 1024);
    int rc = -1;
    if (!assign || !sums || !counts || !norms || !pts_t || !dots)
        goto done;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < D; d++)
            pts_t[(size_t)d * n + i] = points[(size_t)i * D + d];
    for (int k = 0; k < K; k++)
        memcpy(centres + (size_t)k * D, points + (size_t)aet_rng_below(rng, (uint32_t)n) * D,
               sizeof(float) * D);
    for (int it = 0; it <= iterations; it++) {
        for (int k = 0; k < K; k++) {
            float s = 0;
            for (int d = 0; d < D; d++)
                s += centres[(size_t)k * D + d] * centres[(size_t)k * D + d];
            norms[k] = s;
        }
        for (int i0 = 0; i0 < n; i0 += 1024) {
            int m = n - i0 < 1024 ? n - i0 : 1024;
            nn_gemm_nn(K, m, D, centres, D, pts_t + i0, n, dots, m, 0);
            for (int j = 0; j < m; j++) {
                float best = FLT_MAX;
                int arg = 0;
                for (int k = 0; k < K; k++) {
                    float dist = norms[k] - 2 * dots[(size_t)k * m + j];
                    if (dist < best)
                        best = dist, arg = k;
                }
                assign[i0 + j] = arg;
            }
        }
        if (it == iterations)
            break;
        memset(sums, 0, sizeof(double) * K * D);
        memset(counts, 0, sizeof(int) * K);
        for (int i = 0; i < n; i++) {
            counts[assign[i]]++;
            for (int d = 0; d < D; d++)
                sums[(size_t)assign[i] * D + d] += points[(size_t)i * D + d];
        }
        for (int k = 0; k < K; k++) {
            if (counts[k] == 0) { /* empty cluster: restart on a random point */
                memcpy(centres + (size_t)k * D,
                       points + (size_t)aet_rng_below(rng, (uint32_t)n) * D, sizeof(float) * D);
                continue;
            }
            for (int d = 0; d < D; d++)
                centres[(size_t)k * D + d] = (float)(sums[(size_t)k * D + d] / counts[k]);
        }
    }
    rc = 0;
done:
    free(assign), free(sums), free(counts), free(norms), free(pts_t), free(dots);
    return rc;
}

int aet_init_codebooks(aec_model *m, const aet_dataset *ds, uint64_t *rng, int samples,
                       int iterations)
{
    const aem_config *c = &m->cfg;
    int D = c->latent, crop = 64, grid = crop / c->block, per_crop = grid * grid;
    int B = (samples + per_crop - 1) / per_crop;
    int n = B * per_crop;
    float *pix = malloc(sizeof(float) * 3 * (size_t)B * crop * crop);
    float *pts = malloc(sizeof(float) * (size_t)n * D);
    aem_acts a;
    int rc = -1;
    if (!pix || !pts || aem_acts_alloc(&a, c, B, grid, grid, 1, 0)) {
        free(pix), free(pts);
        return -1;
    }
    aet_dataset_crops(ds, rng, B, crop, pix);
    aem_pixels_to_blocks(c, B, grid, grid, pix, a.x);
    aem_encoder_forward(m, &a);
    for (int i = 0; i < n; i++) /* [D][n] -> points [n][D] */
        for (int d = 0; d < D; d++)
            pts[(size_t)i * D + d] = a.z[(size_t)d * n + i];
    float *books = m->params + m->lay.codebooks;
    for (int s = 0; s < c->stages; s++) {
        float *book = books + (size_t)s * c->codes * D;
        if (aet_kmeans(pts, n, D, c->codes, iterations, rng, book))
            goto done;
        /* The next stage learns what this one left: subtract nearest codes. */
        for (int i = 0; i < n; i++) {
            float *p = pts + (size_t)i * D, best = FLT_MAX;
            int arg = 0;
            for (int k = 0; k < c->codes; k++) {
                float dist = 0;
                for (int d = 0; d < D; d++) {
                    float e = p[d] - book[(size_t)k * D + d];
                    dist += e * e;
                }
                if (dist < best)
                    best = dist, arg = k;
            }
            for (int d = 0; d < D; d++)
                p[d] -= book[(size_t)arg * D + d];
        }
    }
    aem_model_refresh(m);
    rc = 0;
done:
    aem_acts_free(&a);
    free(pix), free(pts);
    return rc;
}
