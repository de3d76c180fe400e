/* SPDX-License-Identifier: BSD-3-Clause */
/* rvq.c - residual VQ search and look-up.
 *
 * The search computes all distances of a chunk of latents at once as
 * |c|^2 - 2 c.r (the |r|^2 term is the same for every code), one matrix
 * product per stage, which is many times faster than a loop per latent. */
#include "vq/rvq.h"

#include <float.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "nn/gemm.h"
#include "nn/parallel.h"

#define CHUNK 256

int aem_rvq_encode(const aec_model *m, const float *z, size_t N, int stages, uint8_t *idx,
                   float *q_out)
{
    return aem_rvq_encode_rd(m, z, N, stages, NULL, 0.0f, idx, q_out);
}

/* The search of the latents n0 .. n0+n-1 (n <= CHUNK), with a scratch of
 * D*CHUNK + K*CHUNK floats. */
static void encode_chunk(const aec_model *m, const float *z, size_t N, size_t n0, int n,
                         int stages, const float *bits, float lambda, uint8_t *idx, float *q_out,
                         float *res)
{
    const aem_config *c = &m->cfg;
    int D = c->latent, K = c->codes;
    const float *books = m->params + m->lay.codebooks;
    float *dots = res + (size_t)D * CHUNK;
    float best[CHUNK];
    int arg[CHUNK];
    for (int d = 0; d < D; d++)
        memcpy(res + (size_t)d * n, z + (size_t)d * N + n0, (size_t)n * sizeof(float));
    for (int s = 0; s < stages; s++) {
        const float *book = books + (size_t)s * K * D;
        const float *norms = m->code_norms + (size_t)s * K;
        const float *cost = bits ? bits + (size_t)s * K : NULL;
        nn_gemm_nn(K, n, D, book, D, res, n, dots, n, 0);
        uint8_t *out = idx + (size_t)s * N + n0;
        /* Each latent's nearest code (the first of equals), the codes in
         * the outer loop: the distances are read along dots' rows, and the
         * latents' comparisons are independent lanes for the compiler. */
        for (int j = 0; j < n; j++)
            best[j] = FLT_MAX, arg[j] = 0;
        for (int k = 0; k < K; k++) {
            const float *dk = dots + (size_t)k * n;
            float nk = norms[k];
            /* distortion (+ lambda * bits: the entropy-constrained choice);
             * adding 0 changes no comparison */
            float rate = cost ? lambda * cost[k] : 0.0f;
            for (int j = 0; j < n; j++) {
                float dist = nk - 2.0f * dk[j] + rate;
                int better = dist < best[j];
                best[j] = better ? dist : best[j];
                arg[j] = better ? k : arg[j];
            }
        }
        for (int j = 0; j < n; j++)
            out[j] = (uint8_t)arg[j];
        for (int d = 0; d < D; d++) /* along res's rows; each value once */
            for (int j = 0; j < n; j++)
                res[(size_t)d * n + j] -= book[(size_t)arg[j] * D + d];
    }
    if (q_out) /* q = z - what is left over */
        for (int d = 0; d < D; d++)
            for (int j = 0; j < n; j++)
                q_out[(size_t)d * N + n0 + j] = z[(size_t)d * N + n0 + j] - res[(size_t)d * n + j];
}

int aem_rvq_encode_rd(const aec_model *m, const float *z, size_t N, int stages,
                      const float *bits, float lambda, uint8_t *idx, float *q_out)
{
    const aem_config *c = &m->cfg;
    size_t scratch = (size_t)c->latent * CHUNK + (size_t)c->codes * CHUNK;
    long chunks = (long)((N + CHUNK - 1) / CHUNK);
    int failed = 0;
    /* Chunks are independent: a team over them (the trainer's batch) where
     * a caller outside any parallel region searches many; the products
     * inside then stay serial (nn_may_fork). */
#pragma omp parallel if (nn_may_fork((double)N * stages * c->codes * c->latent) && chunks > 1)
    {
        float *res = malloc(sizeof(float) * scratch);
        if (!res) {
#pragma omp atomic write
            failed = 1;
        }
#pragma omp for schedule(static)
        for (long ch = 0; ch < chunks; ch++) {
            size_t n0 = (size_t)ch * CHUNK;
            int n = (int)(N - n0 < CHUNK ? N - n0 : CHUNK);
            if (res)
                encode_chunk(m, z, N, n0, n, stages, bits, lambda, idx, q_out, res);
        }
        free(res);
    }
    return failed ? -1 : 0;
}

void aem_rvq_decode(const aec_model *m, const uint8_t *idx, size_t N, int stages, float *q_out)
{
    const aem_config *c = &m->cfg;
    int D = c->latent, K = c->codes;
    const float *books = m->params + m->lay.codebooks;
    memset(q_out, 0, (size_t)D * N * sizeof(float));
    for (int s = 0; s < stages; s++) {
        const float *book = books + (size_t)s * K * D;
        const uint8_t *in = idx + (size_t)s * N;
        for (int d = 0; d < D; d++) {
            float *q = q_out + (size_t)d * N;
            for (size_t j = 0; j < N; j++) {
                int k = in[j] < K ? in[j] : K - 1; /* a valid stream never exceeds K-1 */
                q[j] += book[(size_t)k * D + d];
            }
        }
    }
}

int aem_rvq_nearest_reference(const float *codebook, int K, int D, const float *v, size_t stride)
{
    double best = DBL_MAX;
    int arg = 0;
    for (int k = 0; k < K; k++) {
        double dist = 0;
        for (int d = 0; d < D; d++) {
            double e = (double)v[d * stride] - codebook[(size_t)k * D + d];
            dist += e * e;
        }
        if (dist < best)
            best = dist, arg = k;
    }
    return arg;
}

/* Entropy-constrained choice.  A code's length is estimated from how often
 * this set of latents uses it (zstd codes each stream with a Huffman table
 * of its own histogram, so these are close to the real lengths): first the
 * nearest codes, then twice the constrained choice with the lengths of the
 * previous pass.  Stage s's lengths depend on stages <= s only, so a prefix
 * of stages is coded exactly as a file with fewer stages would be. */
int aem_rvq_encode_ecvq(const aec_model *m, const float *z, size_t N, int stages, float lambda,
                        uint8_t *idx)
{
    if (aem_rvq_encode(m, z, N, stages, idx, NULL))
        return -1;
    if (lambda <= 0)
        return 0;
    int K = m->cfg.codes;
    float *bits = malloc(sizeof(float) * (size_t)stages * K);
    size_t *hist = malloc(sizeof(size_t) * K);
    int rc = bits && hist ? 0 : -1;
    for (int pass = 0; rc == 0 && pass < 2; pass++) {
        for (int s = 0; s < stages; s++) {
            memset(hist, 0, sizeof(size_t) * K);
            for (size_t i = 0; i < N; i++)
                hist[idx[(size_t)s * N + i]]++;
            for (int k = 0; k < K; k++) /* +0.5: unused codes stay affordable */
                bits[(size_t)s * K + k] = -log2f((hist[k] + 0.5f) / ((float)N + 0.5f * K));
        }
        rc = aem_rvq_encode_rd(m, z, N, stages, bits, lambda, idx, NULL);
    }
    free(bits);
    free(hist);
    return rc;
}
