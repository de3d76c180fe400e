/* SPDX-License-Identifier: BSD-3-Clause */
/* levels.h - what each quality level of the built-in models codes. */
#ifndef AEC_ENC_LEVELS_H
#define AEC_ENC_LEVELS_H
#include "model/builtin.h"

typedef struct {
    int model;          /* AEM_BUILTIN_DEFAULT, _HIGH_V4 or _HIGH_V4_TOP     */
    int stages;         /* VQ stages                                         */
    float lambda;       /* rate-distortion trade-off of the index choice     */
    float lattice_step; /* step of the lattice refinement, 0 = none          */
} aec_level;

/* Fractional levels between a VQ level and a lattice level above it (1 to
 * 2) code that level's lattice from this step: the coarsest step the
 * default model was trained on, where its rate meets level 1's (0.064
 * bpp on the validation photographs, 0.9 dB below level 1's VQ stage), so
 * that a size target between the two levels is reachable. */
#define AEC_LEVEL_COARSEST_STEP 1.8f

/* Levels of the built-in family, 1..aec_builtin_levels(). */
int aec_builtin_levels(void);
const aec_level *aec_builtin_level(int level);

/* The built-in model that codes level l: l->model, or with denoise (the
 * `denoise` encode parameter) the de-noising fine-tune of the high-rate
 * model at its lattice levels (3-14).  Levels 1-2 keep the default model:
 * it has no de-noising fine-tune, the de-noising model was never trained
 * at level 2's step, and at these rates little of the noise is coded. */
int aec_level_model(const aec_level *l, int denoise);
#endif
