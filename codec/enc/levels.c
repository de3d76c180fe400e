/* SPDX-License-Identifier: BSD-3-Clause */
/* levels.c - the quality levels of the built-in models.
 *
 * Every level rounds a model's 64-channel latent on a lattice whose step
 * sets the rate, coded in the split layout; the steps are spaced so the
 * levels' rates grow by about a quarter to a half from one level to the
 * next.  Levels 1-5 code the picture at half size (the decoder upsamples
 * it by two with a fixed Lanczos-3 filter, spec/bitstream.md 4.1): below
 * about 0.24 bpp the transform, whose latents sit on the 1/8 grid, spends
 * its bits better on a quarter of the pixels, 0.2-1.3 dB at equal rate on
 * the validation photographs (bench/NOTES.md, "Half-size coding").  They
 * use aecodec-high-v4, which measured 0.15 dB above the coarse fine-tune
 * (aecodec-high-v4-coarse, the default model) on the half-size images.
 * Levels 6-9 code the full-size picture with aecodec-high-v4 (an
 * upsampling synthesis to full resolution), and from level 10 up with its
 * fine-tune on steps 0.025-0.1 (aecodec-high-v4-top, about 2 % smaller
 * there); measured on the validation photographs with
 * bench/lattice-sweep.sh and the bench: see bench/NOTES.md.  Levels 8-14
 * also code a pixel residual layer (spec/bitstream.md 6.10) at the step of
 * the table's last column, 48 down to 12: the network's reconstruction has
 * a ceiling that finer lattice steps cannot pass, and the residual beat
 * them by 0.04 dB at level 8 up to 0.45 dB at level 11 at equal rate
 * (bench/NOTES.md, "The pixel residual layer").  Since its tokens cost a
 * third less (bench/NOTES.md, "The residual as run/size tokens") the top
 * levels lean on it more: coarser lattice steps under a finer residual.  Before the
 * half-size levels, level 1 coded the first VQ stage of the default model
 * (aecodec-high-v4-coarse) and level 2 its lattice at step 0.85; that
 * model stays built in, so those files still decode.
 *
 * With the `denoise` encode parameter every full-size level (6-14) codes
 * with aecodec-high-v2-denoise instead, at the level's own step: a
 * fine-tune of the earlier high-rate model (aecodec-high-v2) on all the
 * levels' steps (0.03-0.6) whose encoder saw noisy crops (sigma 0-25) and
 * whose loss compared with the clean ones (corpus/TRAINING.md); at half
 * size the downsampling already averages most of the noise away.  Files
 * record the model's id, so decoders need no option. */
#include "enc/levels.h"

static const aec_level levels[] = {
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.53f, 1, 0},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.385f, 1, 0},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.30f, 1, 0},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.24f, 1, 0},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.175f, 1, 0},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.30f, 0, 0},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.24f, 0, 0},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.185f, 0, 48},
    {AEM_BUILTIN_HIGH_V4, 0, 0, 0.145f, 0, 48},
    {AEM_BUILTIN_HIGH_V4_TOP, 0, 0, 0.107f, 0, 32},
    {AEM_BUILTIN_HIGH_V4_TOP, 0, 0, 0.085f, 0, 24},
    {AEM_BUILTIN_HIGH_V4_TOP, 0, 0, 0.08f, 0, 16},
    {AEM_BUILTIN_HIGH_V4_TOP, 0, 0, 0.06f, 0, 16},
    {AEM_BUILTIN_HIGH_V4_TOP, 0, 0, 0.055f, 0, 12},
};

int aec_builtin_levels(void) { return (int)(sizeof levels / sizeof levels[0]); }

const aec_level *aec_builtin_level(int level)
{
    return level >= 1 && level <= aec_builtin_levels() ? &levels[level - 1] : 0;
}

float aec_level_size_switch(void)
{
    for (int l = 1; l < aec_builtin_levels(); l++)
        if (levels[l - 1].half && !levels[l].half)
            return (float)l + AEC_LEVEL_SIZE_SWITCH;
    return 0;
}

int aec_level_model(const aec_level *l, int denoise)
{
    return denoise && l->lattice_step > 0 && !l->half && l->model != AEM_BUILTIN_DEFAULT
               ? AEM_BUILTIN_HIGH_DENOISE
               : l->model;
}
