/* SPDX-License-Identifier: BSD-3-Clause */
/* init.h - data-driven initialisation of a new model: the linear paths start
 * as a PCA of image blocks (so training starts where a linear transform
 * codec is), and the codebooks start as k-means of the encoder's outputs. */
#ifndef AET_INIT_H
#define AET_INIT_H
#include <stdint.h>

#include "model/model.h"
#include "train/dataset.h"

/* Eigen-decomposition of a symmetric n x n matrix A (destroyed) by cyclic
 * Jacobi rotations: eigenvalues in descending order, eigenvectors as rows of
 * vecs.  Exposed for the tests. */
void aet_symmetric_eigen(int n, double *A, double *values, double *vecs);

/* Small random weights for the convolution branches (scale of the last
 * layer of each branch: near zero, so the model starts as the PCA). */
void aet_init_random(aec_model *m, uint64_t *rng, float last_layer_scale);
/* The same for the upsampling synthesis alone (its last layer scaled by
 * last_layer_scale, biases zero). */
void aet_init_upsampling(aec_model *m, uint64_t *rng, float last_layer_scale);
/* A copy of model m (without the upsampling synthesis) with one of the given
 * widths added, its last layer zero so that it decodes exactly as m did
 * (adding a zero is exact): how a trained block decoder grows into a version 2 one. */
aec_status aet_model_add_upsampling(const aec_model *m, const int up_width[AEM_UP_STAGES],
                                    int refine_width, uint64_t *rng, aec_model **out, char *err,
                                    size_t errlen);
/* PCA of `samples` random blocks: sets the linear encoder/decoder paths. */
int aet_init_pca(aec_model *m, const aet_dataset *ds, uint64_t *rng, int samples);
/* k-means of the encoder's outputs on random crops, stage after stage. */
int aet_init_codebooks(aec_model *m, const aet_dataset *ds, uint64_t *rng, int samples,
                       int iterations);
/* One k-means run: points [n][D] -> centres [K][D]; returns 0 or -1 (memory). */
int aet_kmeans(const float *points, int n, int D, int K, int iterations, uint64_t *rng,
               float *centres);
#endif
