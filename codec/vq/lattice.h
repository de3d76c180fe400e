/* SPDX-License-Identifier: BSD-3-Clause */
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
#include <stddef.h>
#include <stdint.h>

/* Rounding offset below one half: values just above a half step go to the
 * smaller magnitude, which saves more bits than it costs in error (the
 * residual's distribution is peaked at zero). */
#define AEM_LATTICE_ROUNDING 0.35f
/* Symbol magnitudes stop here, so that a predicted channel's residual
 * (at most twice this) still fits the 16-bit zigzag code. */
#define AEM_LATTICE_MAX_SYMBOL 16383

/* The first channels of the latent (the largest, smoothest components of
 * the transform: mean colour and its first gradient) are coded as the
 * residual of a prediction from their already-coded neighbours, which
 * makes the files about 10 % smaller (bench/NOTES.md). */
#define AEM_LATTICE_PREDICTED 2

/* The encoder's offset for channel `channel` at lattice step `step`.  The
 * channels from AEM_LATTICE_DETAIL_FROM on (the transform's finer
 * components) get a wider dead zone at coarse steps: at 0.1-0.35 bpp their
 * small values cost more bits than their detail is worth, and rounding
 * them with 0.10 instead of 0.35 gave 0.14-0.28 dB PSNR and 0.004-0.006
 * MS-SSIM more at the same rate; at step 0.24 and below (about 0.5 bpp and
 * up) it lost PSNR (bench/NOTES.md, "A wider dead zone for the detail
 * channels").  An encoder choice: the decoder and the format do not see
 * it; the trainer rounds with AEM_LATTICE_ROUNDING unless it is told to
 * round as the encoder does (aetrain --rounding codec). */
#define AEM_LATTICE_DETAIL_FROM 8
#define AEM_LATTICE_DETAIL_ROUNDING 0.10f /* at steps of ... */
#define AEM_LATTICE_DETAIL_COARSE 0.46f   /* ... this and coarser; */
#define AEM_LATTICE_DETAIL_FINE 0.24f     /* AEM_LATTICE_ROUNDING from this finer */
/* At the finest steps (the top levels, 0.9 bpp and up) every channel
 * rounds with a narrower dead zone: 0.40 instead of 0.35 gave 0.03-0.05 dB
 * at equal rate at levels 10-12 and nothing at levels 8-9; 0.28 lost 0.13
 * dB and plain rounding (0.5) 0.10 at level 10 (bench/NOTES.md, "The dead
 * zone at the top levels").  Linear in the step between the two ends. */
#define AEM_LATTICE_TOP_ROUNDING 0.40f /* at steps of ... */
#define AEM_LATTICE_TOP_STEP 0.107f    /* ... this and finer; */
#define AEM_LATTICE_MID_STEP 0.145f    /* AEM_LATTICE_ROUNDING from this coarser */

/* Where `step` lies between the fine and the coarse end of the detail
 * channels' rules: 0 at AEM_LATTICE_DETAIL_FINE and finer, 1 at
 * AEM_LATTICE_DETAIL_COARSE and coarser, linear between. */
static inline float aem_lattice_coarseness(float step)
{
    if (step <= AEM_LATTICE_DETAIL_FINE)
        return 0.0f;
    if (step >= AEM_LATTICE_DETAIL_COARSE)
        return 1.0f;
    return (step - AEM_LATTICE_DETAIL_FINE) / (AEM_LATTICE_DETAIL_COARSE - AEM_LATTICE_DETAIL_FINE);
}

static inline float aem_lattice_rounding(int channel, float step)
{
    if (step <= AEM_LATTICE_TOP_STEP)
        return AEM_LATTICE_TOP_ROUNDING;
    if (step < AEM_LATTICE_MID_STEP)
        return AEM_LATTICE_ROUNDING + (AEM_LATTICE_MID_STEP - step) /
                                          (AEM_LATTICE_MID_STEP - AEM_LATTICE_TOP_STEP) *
                                          (AEM_LATTICE_TOP_ROUNDING - AEM_LATTICE_ROUNDING);
    float t = aem_lattice_coarseness(step);
    if (channel < AEM_LATTICE_DETAIL_FROM || t == 0.0f)
        return AEM_LATTICE_ROUNDING;
    if (t == 1.0f)
        return AEM_LATTICE_DETAIL_ROUNDING;
    return AEM_LATTICE_ROUNDING + t * (AEM_LATTICE_DETAIL_ROUNDING - AEM_LATTICE_ROUNDING);
}

/* Sparse groups.  The split layout codes the detail channels' significance
 * one byte per 8 channels at a latent (the groups 8-15, 16-23, ... of a
 * layered file), so a group whose only symbols are one or two +-1 costs a
 * significance byte of a rare pattern besides their sign and
 * greater-than-one bits, where an empty group costs a fraction of a bit.
 * The encoder empties such a group when the squared error it adds, sum of
 * (2u - 1) step^2 over its symbols (u = |residual| / step), is below
 * (2T - 1) step^2 for one symbol and AEM_LATTICE_PAIR_FACTOR times that for
 * two, with T the threshold below: the channel's rounding threshold
 * (1 - aem_lattice_rounding) raised by 0.2 at steps of
 * AEM_LATTICE_DETAIL_FINE and finer, by 0.7 at AEM_LATTICE_DETAIL_COARSE and
 * coarser, linearly between.  At equal rate it gave 0.03-0.10 dB from level
 * 2 to level 10 on the validation photographs; groups of three, and the
 * group of channels 2-7, lost (bench/NOTES.md, "Sparse groups emptied").
 * An encoder choice like the dead zone above. */
#define AEM_LATTICE_GROUP 8
#define AEM_LATTICE_SPARSE_RAISE_FINE 0.2f
#define AEM_LATTICE_SPARSE_RAISE_COARSE 0.7f
#define AEM_LATTICE_PAIR_FACTOR 1.3f
static inline float aem_lattice_sparse_threshold(float step)
{
    return 1.0f - aem_lattice_rounding(AEM_LATTICE_DETAIL_FROM, step) +
           AEM_LATTICE_SPARSE_RAISE_FINE +
           aem_lattice_coarseness(step) *
               (AEM_LATTICE_SPARSE_RAISE_COARSE - AEM_LATTICE_SPARSE_RAISE_FINE);
}

/* The lattice symbol of residual value r for a step of 1/inv_step, rounded
 * with offset `rounding` (in [0, 0.5]). */
static inline int32_t aem_lattice_symbol_rounded(float r, float inv_step, float rounding)
{
    float a = fabsf(r) * inv_step + rounding;
    int32_t v = a < (float)AEM_LATTICE_MAX_SYMBOL ? (int32_t)a : AEM_LATTICE_MAX_SYMBOL;
    if (!(a == a)) /* NaN from a hostile model: no refinement */
        v = 0;
    return r < 0 ? -v : v;
}

/* The encoder's symbols of D channels of n values, sym [D][n]: the
 * residual z - q (q NULL: z itself), channel d rounded with
 * aem_lattice_rounding(d, step), then the sparse groups of the detail
 * channels emptied (above).  aec_encode and aec_encode_latents both
 * quantise with it, so they agree. */
void aem_lattice_symbols(const float *z, const float *q, size_t D, size_t n, float step,
                         int32_t *sym);

/* The same with AEM_LATTICE_ROUNDING (the trainer's rounding). */
static inline int32_t aem_lattice_symbol(float r, float inv_step)
{
    return aem_lattice_symbol_rounded(r, inv_step, AEM_LATTICE_ROUNDING);
}

/* The planes layout (spec/bitstream.md 6.6; the split layout of 6.7 is in
 * bitstream/lattice_stream.h).
 * Symbols [D][lh][lw] of one tile -> the stream's bytes: the first
 * AEM_LATTICE_PREDICTED channels replaced by their residual from the
 * median predictor, every value zigzag-mapped to 16 bits (v >= 0: 2v,
 * else -2v-1), low bytes [D][lh][lw] then high bytes.  Symbols must lie
 * within +-AEM_LATTICE_MAX_SYMBOL.  planes holds 2*D*lw*lh bytes.  With
 * D = 1 it is also a predicted channel's section of the split layout. */
void aem_lattice_pack(const int32_t *sym, size_t D, size_t lw, size_t lh, uint8_t *planes);
/* The inverse; any input bytes give symbols within
 * +-AEM_LATTICE_MAX_SYMBOL. */
void aem_lattice_unpack(const uint8_t *planes, size_t D, size_t lw, size_t lh, int32_t *sym);
/* The same for the D channels first .. first + D - 1 of the latent (a layer
 * of a layered file, spec/bitstream.md 6.9): sym and planes hold only
 * them, and only those below AEM_LATTICE_PREDICTED are predicted. */
void aem_lattice_pack_at(const int32_t *sym, size_t first, size_t D, size_t lw, size_t lh,
                         uint8_t *planes);
void aem_lattice_unpack_at(const uint8_t *planes, size_t first, size_t D, size_t lw, size_t lh,
                           int32_t *sym);
#endif
