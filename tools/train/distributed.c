/* SPDX-License-Identifier: BSD-3-Clause */
/* distributed.c - a step's batch in fixed chunks, over MPI ranks or not
 * (see distributed.h for how the summation order is kept fixed). */
#include "train/distributed.h"

#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef AEC_MPI
#include <mpi.h>
#endif

#include "train/rng.h"

int aet_dist_init(aet_dist *d, int *argc, char ***argv)
{
    memset(d, 0, sizeof *d);
    d->size = 1, d->chunks = 1, d->mine = 1;
#ifdef AEC_MPI
    if (MPI_Init(argc, argv) != MPI_SUCCESS)
        return -1;
    MPI_Comm_rank(MPI_COMM_WORLD, &d->rank);
    MPI_Comm_size(MPI_COMM_WORLD, &d->size);
#else
    (void)argc, (void)argv;
#endif
    return 0;
}

int aet_dist_plan(aet_dist *d, int chunks, char *err, size_t errlen)
{
    if (chunks < 1)
        chunks = d->size;
    if (chunks % d->size) {
        snprintf(err, errlen, "--chunks %d must be a multiple of the %d ranks", chunks, d->size);
        return -1;
    }
    d->chunks = chunks;
    d->mine = chunks / d->size;
    d->first = d->rank * d->mine;
    return 0;
}

int aet_dist_wants_image(const aet_dist *d, int i)
{
    int shard = i % d->chunks;
    return shard >= d->first && shard < d->first + d->mine;
}

int aet_dist_shards(aet_dist *d, const aet_dataset *train, char *err, size_t errlen)
{
    if (d->chunks == 1)
        return 0;
    if (train->count < d->chunks) {
        snprintf(err, errlen, "%d images cannot make %d shards", train->count, d->chunks);
        return -1;
    }
    d->shards = calloc((size_t)d->chunks, sizeof *d->shards);
    if (!d->shards)
        goto oom;
    for (int j = d->first; j < d->first + d->mine; j++) {
        aet_dataset *s = &d->shards[j];
        s->count = (train->count - j + d->chunks - 1) / d->chunks;
        s->images = malloc(sizeof *s->images * (size_t)s->count);
        if (!s->images)
            goto oom;
        for (int k = 0; k < s->count; k++) /* shallow copies: train owns the pixels */
            s->images[k] = train->images[j + (size_t)k * d->chunks];
    }
    return 0;
oom:
    snprintf(err, errlen, "out of memory for the shards");
    return -1;
}

/* The bytes of one value broadcast from rank 0 (nothing to do alone). */
static void share(const aet_dist *d, void *p, size_t n)
{
#ifdef AEC_MPI
    if (d->size > 1)
        MPI_Bcast(p, (int)n, MPI_BYTE, 0, MPI_COMM_WORLD);
#else
    (void)d, (void)p, (void)n;
#endif
}

/* A chunk's record: sums[4] (double), gradients [P], latents z [D][Nc]
 * (float), codes [S][Nc] (bytes), padded to 8 bytes. */
static size_t record_bytes(const aet_trainer *t, int Bc)
{
    const aem_config *c = &t->model->cfg;
    size_t g = (size_t)t->opt.crop / c->block, Nc = (size_t)Bc * g * g;
    size_t n = 4 * sizeof(double) + 4 * (t->model->lay.trainable + (size_t)c->latent * Nc) +
               (size_t)c->stages * Nc;
    return (n + 7) & ~(size_t)7;
}

int aet_dist_new(aet_dist *d, aet_trainer *t, const aem_config *cfg, const aet_options *opt,
                 const char *name, char *err, size_t errlen)
{
    uint64_t size = 0, rng = 0;
    uint8_t *blob = NULL;
    int rc = 0;
    if (d->rank == 0) {
        rc = aet_trainer_new(t, cfg, opt, &d->shards[0], name, err, errlen);
        if (!rc && aem_model_serialize(t->model, &blob, &size) != AEC_OK)
            rc = -1, snprintf(err, errlen, "out of memory");
        rng = t->rng;
        aet_trainer_free(t);
    }
    share(d, &size, sizeof size);
    if (d->rank && !(blob = malloc(size ? size : 1)))
        rc = -1;
    if (size) /* rank 0 failed: everyone stops */
        share(d, blob, size);
    share(d, &rng, sizeof rng);
    if (rc == 0 && size == 0)
        rc = -1, snprintf(err, errlen, "initialisation failed on rank 0");
    /* Every rank, rank 0 too, starts from the parsed bytes. */
    if (rc == 0)
        rc = aet_trainer_from_model(t, blob, size, opt, NULL, err, errlen);
    free(blob);
    if (rc == 0)
        t->rng = rng;
    return rc;
}

size_t aet_dist_exchange_bytes(const aet_dist *d)
{
    return d->size > 1 ? (size_t)(d->chunks - d->mine) * d->record : 0;
}

double aet_dist_step(aet_dist *d, aet_trainer *t, const aet_dataset *train)
{
    if (d->chunks == 1)
        return aet_trainer_step(t, train);
    const aem_config *c = &t->model->cfg;
    int B = t->opt.batch, C = d->chunks, Bc = B / C, g = t->opt.crop / c->block;
    int D = c->latent, S = c->stages;
    size_t P = t->model->lay.trainable, Nc = (size_t)Bc * g * g, N = (size_t)B * g * g;
    if (!d->records) {
        d->record = record_bytes(t, Bc);
        d->records = malloc(d->record * (size_t)C);
        if (!d->records) {
            fprintf(stderr, "aetrain: out of memory for the chunk records\n");
            aet_dist_end(d, 1);
            exit(1);
        }
    }
    /* One draw per step; chunk j's stream is a function of it and j only. */
    uint64_t base = aet_rng_next(&t->rng);
    for (int j = d->first; j < d->first + d->mine; j++) {
        uint8_t *r = d->records + (size_t)j * d->record;
        double *sums = (double *)r;
        float *grads = (float *)(r + 4 * sizeof(double)), *z = grads + P;
        uint64_t rng = base ^ (0x9e3779b97f4a7c15ull * (uint64_t)(j + 1));
        aem_acts_reshape(&t->acts, c, Bc, g, g, 1, 1); /* fits in the batch's arena */
        aet_dataset_crops(&d->shards[j], &rng, Bc, t->opt.crop, t->pix);
        aet_trainer_pass(t, Bc, j * Bc, &rng, N, grads, sums);
        memcpy(z, t->acts.z, sizeof(float) * D * Nc);
        memcpy((uint8_t *)(z + D * Nc), t->idx, (size_t)S * Nc);
    }
    double t0 = omp_get_wtime();
#ifdef AEC_MPI
    if (d->size > 1) /* in place: each rank's chunks sit at their own offset */
        MPI_Allgather(MPI_IN_PLACE, 0, MPI_BYTE, d->records, (int)(d->record * d->mine),
                      MPI_BYTE, MPI_COMM_WORLD);
#endif
    d->exchange_s += omp_get_wtime() - t0;
    d->exchange_steps++;
    /* The fixed order: chunk 0, 1, ..., C-1, whatever rank computed them. */
    aem_acts_reshape(&t->acts, c, B, g, g, 1, 1);
    double sums[4] = {0, 0, 0, 0};
    memset(t->grads, 0, sizeof(float) * P);
    for (int j = 0; j < C; j++) {
        const uint8_t *r = d->records + (size_t)j * d->record;
        const double *s = (const double *)r;
        const float *grads = (const float *)(r + 4 * sizeof(double)), *z = grads + P;
        const uint8_t *idx = (const uint8_t *)(z + D * Nc);
        for (int k = 0; k < 4; k++)
            sums[k] += s[k];
        for (size_t i = 0; i < P; i++)
            t->grads[i] += grads[i];
        for (int e = 0; e < D; e++) /* [D][Nc] of chunk j -> [D][N] */
            memcpy(t->acts.z + (size_t)e * N + j * Nc, z + (size_t)e * Nc, sizeof(float) * Nc);
        for (int e = 0; e < S; e++)
            memcpy(t->idx + (size_t)e * N + j * Nc, idx + (size_t)e * Nc, Nc);
    }
    aet_trainer_finish(t, sums);
    return t->loss;
}

int aet_dist_end(aet_dist *d, int status)
{
    if (d->shards)
        for (int j = 0; j < d->chunks; j++)
            free(d->shards[j].images);
    free(d->shards);
    free(d->records);
    d->shards = NULL, d->records = NULL;
#ifdef AEC_MPI
    if (status && d->size > 1)
        MPI_Abort(MPI_COMM_WORLD, status);
    MPI_Finalize();
#endif
    return status;
}
