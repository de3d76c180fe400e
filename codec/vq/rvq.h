/* SPDX-License-Identifier: BSD-3-Clause */
/* rvq.h - residual vector quantiser (S stages of K codes of dimension D).
 *
 * Stage s quantises what stages 0..s-1 left over: r_0 = z, i_s = argmin_k
 * |r_s - c_{s,k}|^2, r_{s+1} = r_s - c_{s,i_s}.  The decoder's latent is the
 * sum of the chosen codes, so any prefix of stages decodes. Latents are
 * channel-major [D][N]; indices are stage-major [stage][N], one byte each. */
#ifndef AEC_VQ_RVQ_H
#define AEC_VQ_RVQ_H
#include <stddef.h>
#include <stdint.h>

#include "model/model.h"

/* Chooses indices for the first `stages` stages. q_out (may be NULL) gets the
 * quantised latent [D][N]. Returns 0, or -1 when out of memory. Ties go to
 * the lowest index, so the result is deterministic. */
int aem_rvq_encode(const aec_model *m, const float *z, size_t N, int stages, uint8_t *idx,
                   float *q_out);
/* The same with an entropy-constrained choice: stage s picks the code k
 * minimising |r_s - c_{s,k}|^2 + lambda * bits[s*K + k] (bits: an estimate
 * of each code's length).  bits NULL = plain nearest code. */
int aem_rvq_encode_rd(const aec_model *m, const float *z, size_t N, int stages,
                      const float *bits, float lambda, uint8_t *idx, float *q_out);
/* Entropy-constrained encoding with code lengths estimated from these
 * latents' own code use (see rvq.c); lambda 0 = aem_rvq_encode. */
int aem_rvq_encode_ecvq(const aec_model *m, const float *z, size_t N, int stages, float lambda,
                        uint8_t *idx);
/* Sums the codes of the first `stages` stages into q_out [D][N]. */
void aem_rvq_decode(const aec_model *m, const uint8_t *idx, size_t N, int stages,
                    float *q_out);
/* Brute-force nearest code of one vector (stride between its elements),
 * the reference the tests compare the fast search with. */
int aem_rvq_nearest_reference(const float *codebook, int K, int D, const float *v,
                              size_t stride);
#endif
