/* SPDX-License-Identifier: BSD-3-Clause */
/* levels.h - what each quality level of the built-in models codes. */
#ifndef AEC_ENC_LEVELS_H
#define AEC_ENC_LEVELS_H
#include "model/builtin.h"

typedef struct {
    int model;          /* AEM_BUILTIN_DEFAULT, _HIGH, _HIGH_LOW or _HIGH_TOP */
    int stages;         /* VQ stages                                         */
    float lambda;       /* rate-distortion trade-off of the index choice     */
    float lattice_step; /* step of the lattice refinement, 0 = none          */
} aec_level;

/* Levels of the built-in family, 1..aec_builtin_levels(). */
int aec_builtin_levels(void);
const aec_level *aec_builtin_level(int level);
#endif
