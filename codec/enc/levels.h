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
    int half;           /* 1: the picture is coded at half size              */
} aec_level;

/* Fractional levels between the last half-size level and the full-size
 * level above it stay at half size, the step going on to this one, where
 * the half-size rate meets the full-size level's (0.23 bpp on the
 * validation photographs): the two sizes' curves cross about there, and
 * the rate keeps rising with the fraction. */
#define AEC_LEVEL_HALF_TOP_STEP 0.175f

/* Levels of the built-in family, 1..aec_builtin_levels(). */
int aec_builtin_levels(void);
const aec_level *aec_builtin_level(int level);

/* The built-in model that codes level l: l->model, or with denoise (the
 * `denoise` encode parameter) the de-noising fine-tune of the high-rate
 * model at its full-size lattice levels (5-14).  The half-size levels keep
 * their model: downsampling already averages most of the noise away. */
int aec_level_model(const aec_level *l, int denoise);
#endif
