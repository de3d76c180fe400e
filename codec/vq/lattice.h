/* lattice.h - the lattice refinement: what the residual VQ stages leave of
 * the latent is quantised on the scaled integer lattice step * Z^D.
 *
 * A codebook of 256 codes spends 8 bits on a whole D-dimensional vector,
 * which is efficient at low rates and wasteful at high ones, where each
 * stage buys less and less (bench/NOTES.md).  A lattice has no such
 * ceiling: its rate is set by the step, and its integer symbols are cheap
 * to entropy-code.  The encoder and the trainer share this rounding so the
 * decoder network is trained on what it will be given. */
#ifndef AEC_VQ_LATTICE_H
#define AEC_VQ_LATTICE_H
#include <math.h>
#include <stdint.h>

/* Rounding offset below one half: values just above a half step go to the
 * smaller magnitude, which saves more bits than it costs in error (the
 * residual's distribution is peaked at zero). */
#define AEM_LATTICE_ROUNDING 0.35f
/* Symbols are stored as 16-bit integers. */
#define AEM_LATTICE_MAX_SYMBOL 32767

/* The lattice symbol of residual value r for a step of 1/inv_step. */
static inline int32_t aem_lattice_symbol(float r, float inv_step)
{
    float a = fabsf(r) * inv_step + AEM_LATTICE_ROUNDING;
    int32_t v = a < (float)AEM_LATTICE_MAX_SYMBOL ? (int32_t)a : AEM_LATTICE_MAX_SYMBOL;
    if (!(a == a)) /* NaN from a hostile model: no refinement */
        v = 0;
    return r < 0 ? -v : v;
}
#endif
