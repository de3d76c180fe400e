/* levels.c - the quality levels of the built-in models.
 *
 * Low and middle levels code VQ stages of the default model: there a byte
 * of codebook index per 8x8 block and stage is the cheapest description
 * (bench/NOTES.md).  Their lambda keeps the index choice on the measured
 * best (stages, lambda) front.  Above them, each further VQ stage buys
 * little (about 0.25 dB per 0.1 bpp), so the high levels switch to the
 * high-rate model, whose 64-channel latent is coded on a lattice whose step
 * sets the rate; the steps are spaced so the levels' rates are roughly
 * evenly spaced on a log scale.  Where one family member beats the other
 * was measured on the validation photographs: see bench/NOTES.md. */
#include "enc/levels.h"

static const aec_level levels[] = {
    {AEM_BUILTIN_DEFAULT, 1, 0.007f, 0},
    {AEM_BUILTIN_DEFAULT, 2, 0.007f, 0},
    {AEM_BUILTIN_DEFAULT, 3, 0.007f, 0},
    {AEM_BUILTIN_DEFAULT, 4, 0.007f, 0},
    {AEM_BUILTIN_DEFAULT, 5, 0.007f, 0},
    {AEM_BUILTIN_HIGH, 0, 0, 0.33f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.26f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.20f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.155f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.12f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.09f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.065f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.045f},
    {AEM_BUILTIN_HIGH, 0, 0, 0.03f},
};

int aec_builtin_levels(void) { return (int)(sizeof levels / sizeof levels[0]); }

const aec_level *aec_builtin_level(int level)
{
    return level >= 1 && level <= aec_builtin_levels() ? &levels[level - 1] : 0;
}
