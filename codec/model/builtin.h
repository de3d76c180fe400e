/* SPDX-License-Identifier: BSD-3-Clause */
/* builtin.h - the models compiled into libcodec.
 *
 * The default encoder codes its quality levels with a family of models
 * (codec/enc/levels.c): the VQ model for the lowest levels, where a few
 * bytes of codebook indices per 8x8 block buy the most; the high-rate
 * model, whose wider latent is coded by the lattice refinement
 * (vq/lattice.h), for the levels where codebooks of 256 entries stop
 * paying; and the same model fine-tuned on the finest steps for the top
 * levels (bench/NOTES.md).  A default decoder knows them all, and the
 * names and identifiers of the models that left the list, to say which
 * model file decodes their files.
 *
 * The list of models is models/builtin.mk; the build generates from it
 * the enum AEM_BUILTIN_<NAME> (builtin_models.h) and aem_builtin_table,
 * after checking every file (tools/embed_models.c).  A model is parsed
 * only when first used, so a process pays only for the models its files
 * need. */
#ifndef AEC_MODEL_BUILTIN_H
#define AEC_MODEL_BUILTIN_H
#include <stddef.h>
#include <stdint.h>

#include "builtin_models.h" /* generated: AEM_BUILTIN_DEFAULT ... AEM_BUILTIN_MODELS */
#include "model/model.h"

typedef struct {
    const char *list_name;    /* its name in models/builtin.mk ("high-top")   */
    const char *model_name;   /* the name stored in the file ("aecodec-...")  */
    uint64_t id;              /* FNV-1a of the file, computed at build time  */
    uint64_t master_id;       /* the same of models/NAME.aem, its 32-bit
                                 weights: the built-in model of 0.5.0 */
    const unsigned char *bytes; /* the model file, checked at build time     */
    size_t size;
} aem_builtin_entry;

extern const aem_builtin_entry aem_builtin_table[AEM_BUILTIN_MODELS];
/* The models that left the list (RETIRED_MODELS), without their bytes;
 * the last entry's list_name is NULL. */
extern const aem_builtin_entry aem_retired_table[];

/* Built-in model `which`, parsed on first use (static; never freed), or
 * NULL when `which` is out of range or the model cannot be allocated. */
const aec_model *aem_builtin_model(int which);
/* Its identifier and stored name, without parsing it. */
uint64_t aem_builtin_id(int which);
const char *aem_builtin_name(int which);
/* The built-in model whose 32-bit master (models/NAME.aem) has identifier
 * id, or -1: files of 0.5.0, coded with the masters, name it. */
int aem_builtin_of_master(uint64_t id);
/* The retired model whose built-in (16-bit) or master identifier is id,
 * or NULL. */
const aem_builtin_entry *aem_retired_find(uint64_t id);
#endif
