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
    int residual_step;  /* step of the pixel residual layer, 0 = none        */
} aec_level;

/* Fractional levels between the last half-size level (5) and the
 * full-size level above it (6) meet halfway in log rate: below the
 * fraction AEC_LEVEL_SIZE_SWITCH the half-size step goes on to
 * AEC_LEVEL_HALF_MID_STEP, from it the full-size step starts at
 * AEC_LEVEL_FULL_MID_STEP, two steps of the same mean rate (0.277 bpp on
 * the validation photographs, 0.1 dB apart), so that the mean rate rises
 * with the fraction with no jump.  On a given picture the two sizes' rates
 * still differ there, by up to 10 % (ratecontrol.c searches past it). */
#define AEC_LEVEL_SIZE_SWITCH 0.5f
#define AEC_LEVEL_HALF_MID_STEP 0.135f
#define AEC_LEVEL_FULL_MID_STEP 0.34f
/* Between a level without the pixel residual and one with it, the
 * residual starts at the fraction 0.5 at this multiple of the upper
 * level's step (at most AEM_RESIDUAL_MAX_STEP) and goes geometrically to
 * that step: a coarse residual adds little, so the rate and the PSNR grow
 * without a jump that a rate search could not land in. */
#define AEC_LEVEL_RESIDUAL_ENTRY 4

/* Levels of the built-in family, 1..aec_builtin_levels(). */
int aec_builtin_levels(void);
const aec_level *aec_builtin_level(int level);
/* The fractional level where the built-in levels go from half to full
 * size (the last half-size level + AEC_LEVEL_SIZE_SWITCH), 0 if they do
 * not. */
float aec_level_size_switch(void);

/* The built-in model that codes level l: l->model, or with denoise (the
 * `denoise` encode parameter) the de-noising fine-tune of the high-rate
 * model at its full-size lattice levels (6-14).  The half-size levels keep
 * their model: downsampling already averages most of the noise away. */
int aec_level_model(const aec_level *l, int denoise);
#endif
