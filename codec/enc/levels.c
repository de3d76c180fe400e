/* SPDX-License-Identifier: BSD-3-Clause */
/* levels.c - the quality levels of the built-in models.
 *
 * Level 1 codes the first VQ stage of the default model: at 0.06 bpp a
 * byte of codebook index per 8x8 block is the cheapest description
 * (bench/NOTES.md).  From level 2 up the models' 64-channel latent is
 * rounded on a lattice whose step sets the rate, and coded in the split
 * layout; the steps are spaced so the levels' rates grow by about a
 * quarter from one level to the next (level 2 is the exception, halfway
 * in log rate between levels 1 and 3).  The default model
 * (aecodec-high-v4-coarse) is aecodec-high-v4 fine-tuned on the coarse
 * steps 0.45-1.8: at level 2 (step 0.85) it is 0.3 dB above the VQ
 * levels of its predecessor, aecodec-default-v1, and 0.35 dB above
 * aecodec-high-v4 at equal rate; its first VQ stage is 0.1 dB above
 * aecodec-default-v1's at level 1.  The lattice
 * levels code with aecodec-high-v4 (an upsampling synthesis to full
 * resolution, 5-6 % smaller than the block decoder of aecodec-high-v2 at
 * equal PSNR), and from level 10 up with its fine-tune on steps
 * 0.025-0.1 (aecodec-high-v4-top, about 2 % smaller there); measured on
 * the validation photographs with bench/lattice-sweep.sh and the bench:
 * see bench/NOTES.md.  Level 3's step is 0.53, not the 0.6 of
 * aecodec-high-v2: the new model spends fewer bytes at a given step, and
 * at 0.6 level 3 fell below level 2 on one validation photograph
 * (bench/check-levels.sh).
 *
 * With the `denoise` encode parameter every lattice level of the
 * high-rate models (3-14) codes with aecodec-high-v2-denoise instead, at
 * the level's own step: a fine-tune of
 * the earlier high-rate model (aecodec-high-v2) on all the levels' steps
 * (0.03-0.6) whose encoder saw noisy crops (sigma 0-25) and whose loss
 * compared with the clean ones (corpus/TRAINING.md).  Files record the model's id, so decoders need no
 * option. */
#include "enc/levels.h"

static const aec_level levels[] = {
    {AEM_BUILTIN_DEFAULT, 1, 0.007f, 0},
    {AEM_BUILTIN_DEFAULT, 0, 0, 0.85f},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.53f},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.46f},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.385f},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.30f},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.24f},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.185f},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.145f},
    {AEM_BUILTIN_HIGH_V4_TOP, 0, 0, 0.107f},
    {AEM_BUILTIN_HIGH_V4_TOP, 0, 0, 0.08f},
    {AEM_BUILTIN_HIGH_V4_TOP, 0, 0, 0.058f},
    {AEM_BUILTIN_HIGH_V4_TOP, 0, 0, 0.043f},
    {AEM_BUILTIN_HIGH_V4_TOP, 0, 0, 0.03f},
};

int aec_builtin_levels(void) { return (int)(sizeof levels / sizeof levels[0]); }

const aec_level *aec_builtin_level(int level)
{
    return level >= 1 && level <= aec_builtin_levels() ? &levels[level - 1] : 0;
}

int aec_level_model(const aec_level *l, int denoise)
{
    return denoise && l->lattice_step > 0 && l->model != AEM_BUILTIN_DEFAULT
               ? AEM_BUILTIN_HIGH_DENOISE
               : l->model;
}
