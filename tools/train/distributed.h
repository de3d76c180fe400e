/* SPDX-License-Identifier: BSD-3-Clause */
/* distributed.h - a training step's batch split into fixed chunks, over MPI
 * ranks (aetrain-mpi, built with -DAEC_MPI) or in one process.
 *
 * With --chunks C > 1 the global batch of opt.batch crops is C chunks of
 * batch/C crops.  Chunk j cuts its crops only from its shard, the training
 * images whose index (in name order) is j modulo C, with its own random
 * stream seeded from one draw of the trainer's generator per step; so a rank
 * loads only the shards of its chunks.  Each chunk's forward and backward
 * pass runs alone and yields its own gradient; every rank receives all C
 * records (MPI_Allgather) and adds the gradients in chunk order 0..C-1, so
 * the sum, and the model, are the same bits for any rank count dividing C,
 * and the same as one process with --chunks C.  The codebook EMA and dead
 * code restarts then run on every rank on the gathered latents and codes,
 * with the same generator state: every rank holds the same model. */
#ifndef AET_DISTRIBUTED_H
#define AET_DISTRIBUTED_H
#include <stddef.h>
#include <stdint.h>

#include "train/dataset.h"
#include "train/trainer.h"

typedef struct {
    int rank, size;          /* this process, the process count (1 without MPI) */
    int chunks;              /* chunks of each step's batch; 1 = the plain step */
    int first, mine;         /* this rank's chunks: first..first+mine-1          */
    aet_dataset *shards;     /* [chunks] views of the training set (own ones)    */
    uint8_t *records;        /* [chunks][record] gathered per-chunk results      */
    size_t record;           /* bytes of one chunk's record                      */
    double exchange_s;       /* time in the exchange since the last reset        */
    long exchange_steps;
} aet_dist;

/* Starts MPI when built with it (rank and size; 0 and 1 otherwise). */
int aet_dist_init(aet_dist *d, int *argc, char ***argv);
/* Checks the chunk count (0 = one per rank) against the ranks; sets
 * first/mine.  The batch must be a multiple of it (checked by the caller). */
int aet_dist_plan(aet_dist *d, int chunks, char *err, size_t errlen);
/* Whether this rank needs training image i (of the sorted folder). */
int aet_dist_wants_image(const aet_dist *d, int i);
/* The chunks' views of train (which holds this rank's images). */
int aet_dist_shards(aet_dist *d, const aet_dataset *train, char *err, size_t errlen);
/* A fresh run: rank 0 initialises on shard 0 and every rank starts from its
 * model's bytes and generator state, so all ranks (and one process) agree. */
int aet_dist_new(aet_dist *d, aet_trainer *t, const aem_config *cfg, const aet_options *opt,
                 const char *name, char *err, size_t errlen);
/* One step of the whole batch (aet_trainer_step on train when chunks == 1). */
double aet_dist_step(aet_dist *d, aet_trainer *t, const aet_dataset *train);
/* Bytes each rank receives in a step's exchange. */
size_t aet_dist_exchange_bytes(const aet_dist *d);
/* Ends MPI (with an abort of every rank when status is not 0) and frees. */
int aet_dist_end(aet_dist *d, int status);
#endif
