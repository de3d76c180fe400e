/* SPDX-License-Identifier: BSD-3-Clause */
/* levels.c - the quality levels of the built-in models.
 *
 * The lowest levels code VQ stages of the default model: there a byte of
 * codebook index per 8x8 block and stage is the cheapest description
 * (bench/NOTES.md).  Their lambda keeps the index choice on the measured
 * best (stages, lambda) front.  From about 0.2 bpp up the high-rate
 * model's 64-channel latent, rounded on a lattice whose step sets the rate
 * and coded in the split layout, is ahead at equal rate; the steps are
 * spaced so the levels' rates grow by about a quarter from one level to
 * the next.  Two fine-tunes of the high-rate model serve the ends of the
 * range: one on steps 0.3-0.8 (aecodec-high-v2-low, levels 3-5, 0.1-0.15 dB
 * above the high-rate model at equal rate) and one on steps 0.025-0.1
 * (aecodec-high-v2-top, levels 10-14, 2-3 % smaller at equal PSNR).  Where one family member beats the other was measured on the
 * validation photographs with bench/lattice-sweep.sh: see bench/NOTES.md.
 *
 * With the `denoise` encode parameter every lattice level codes with
 * aecodec-high-v2-denoise instead, at the level's own step: a fine-tune of
 * the high-rate model on all the levels' steps (0.03-0.6) whose encoder saw
 * noisy crops (sigma 0-25) and whose loss compared with the clean ones
 * (corpus/TRAINING.md).  Files record the model's id, so decoders need no
 * option. */
#include "enc/levels.h"

static const aec_level levels[] = {
    {AEM_BUILTIN_DEFAULT, 1, 0.007f, 0},
    {AEM_BUILTIN_DEFAULT, 2, 0.007f, 0},
    {AEM_BUILTIN_HIGH_LOW, 0, 0, 0.6f},
    {AEM_BUILTIN_HIGH_LOW, 0, 0, 0.46f},
    {AEM_BUILTIN_HIGH_LOW, 0, 0, 0.385f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.30f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.24f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.185f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.145f},
    {AEM_BUILTIN_HIGH_TOP, 0, 0, 0.107f},
    {AEM_BUILTIN_HIGH_TOP, 0, 0, 0.08f},
    {AEM_BUILTIN_HIGH_TOP, 0, 0, 0.058f},
    {AEM_BUILTIN_HIGH_TOP, 0, 0, 0.043f},
    {AEM_BUILTIN_HIGH_TOP, 0, 0, 0.03f},
};

int aec_builtin_levels(void) { return (int)(sizeof levels / sizeof levels[0]); }

const aec_level *aec_builtin_level(int level)
{
    return level >= 1 && level <= aec_builtin_levels() ? &levels[level - 1] : 0;
}

int aec_level_model(const aec_level *l, int denoise)
{
    return denoise && l->lattice_step > 0 ? AEM_BUILTIN_HIGH_DENOISE : l->model;
}
