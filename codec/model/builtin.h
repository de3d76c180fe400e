/* builtin.h - the models compiled into libcodec.
 *
 * The default encoder codes its quality levels with a family of models
 * (codec/enc/levels.c): the VQ model for the lowest levels, where a few
 * bytes of codebook indices per 8x8 block buy the most; the high-rate
 * model, whose wider latent is coded by the lattice refinement
 * (vq/lattice.h), for the levels where codebooks of 256 entries stop
 * paying; and the same model fine-tuned on the coarsest steps for the
 * lowest lattice levels and on the finest for the top levels
 * (bench/NOTES.md).  A default decoder knows them all, and the
 * high-rate model of version 0.3 (aecodec-high-v1), so that its files
 * still decode. */
#ifndef AEC_MODEL_BUILTIN_H
#define AEC_MODEL_BUILTIN_H
#include "model/model.h"

enum {
    AEM_BUILTIN_DEFAULT = 0,
    AEM_BUILTIN_HIGH = 1,
    AEM_BUILTIN_HIGH_V1 = 2, /* decoding only */
    AEM_BUILTIN_HIGH_TOP = 3,
    AEM_BUILTIN_HIGH_LOW = 4,
    AEM_BUILTIN_MODELS = 5
};

/* Built-in model `which` (static; never freed), or NULL when it does not
 * parse (a broken build). */
const aec_model *aem_builtin_model(int which);
#endif
