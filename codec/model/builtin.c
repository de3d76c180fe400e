/* SPDX-License-Identifier: BSD-3-Clause */
/* builtin.c - the built-in models (models/builtin.mk), parsed lazily.
 *
 * Each model is parsed the first time something needs it, not at start-up:
 * a process that decodes one file prepares one model.  The files were
 * checked when the library was built (tools/embed_models.c), so the parse
 * skips the CRC-32, the hash and the finiteness check over its weights
 * (stored in 16 bits, converted once here).  The parsed model is published
 * with a compare-and-swap: a thread that loses the race frees its copy,
 * and every thread gets the same immutable model. */
#include <stdatomic.h>
#include <stdlib.h>

#include "model/builtin.h"

static _Atomic(aec_model *) parsed[AEM_BUILTIN_MODELS];

const aec_model *aem_builtin_model(int which)
{
    if (which < 0 || which >= AEM_BUILTIN_MODELS)
        return NULL;
    aec_model *m = atomic_load_explicit(&parsed[which], memory_order_acquire);
    if (m)
        return m;
    const aem_builtin_entry *e = &aem_builtin_table[which];
    char err[160];
    if (aem_model_parse_trusted(e->bytes, e->size, e->id, &m, err, sizeof err) != AEC_OK)
        return NULL;
    m->is_static = 1;
    m->frozen = 1;
    aec_model *expected = NULL;
    if (!atomic_compare_exchange_strong_explicit(&parsed[which], &expected, m,
                                                 memory_order_acq_rel, memory_order_acquire)) {
        m->is_static = 0; /* another thread published first: use its copy */
        aec_model_free(m);
        m = expected;
    }
    return m;
}

uint64_t aem_builtin_id(int which)
{
    return which >= 0 && which < AEM_BUILTIN_MODELS ? aem_builtin_table[which].id : 0;
}

const char *aem_builtin_name(int which)
{
    return which >= 0 && which < AEM_BUILTIN_MODELS ? aem_builtin_table[which].model_name : "";
}

int aem_builtin_of_master(uint64_t id)
{
    for (int i = 0; i < AEM_BUILTIN_MODELS; i++)
        if (aem_builtin_table[i].master_id == id)
            return i;
    return -1;
}

const aem_builtin_entry *aem_retired_find(uint64_t id)
{
    for (const aem_builtin_entry *e = aem_retired_table; e->list_name; e++)
        if (e->id == id || e->master_id == id)
            return e;
    return NULL;
}

const aec_model *aec_model_default(void) { return aem_builtin_model(AEM_BUILTIN_DEFAULT); }

const aec_model *aec_model_builtin(int i) { return aem_builtin_model(i); }

const aec_model *aec_model_builtin_find(uint64_t id)
{
    for (int i = 0; i < AEM_BUILTIN_MODELS; i++)
        if (aem_builtin_id(i) == id) /* the build-time id: nothing parsed */
            return aem_builtin_model(i);
    return NULL;
}
