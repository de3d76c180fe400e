/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_model.c - libFuzzer target: aec_model_load_memory on the raw input
 * and on the input with its trailing CRC-32 made valid (fuzz_common.h);
 * a model that loads and is small enough is run: a valid 24x16 file coded
 * for it is decoded whole and as a region (aecfuzz_exercise_model).  An
 * unexpected status, or a loaded model that fails to decode, aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "fuzz/fuzz_common.h"

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    return 0;
}

static void one(const uint8_t *d, size_t n, aec_layout layout)
{
    aec_model *m = NULL;
    aec_status st = aec_model_load_memory(&m, d, n);
    if (st != AEC_OK) {
        if (m != NULL || (st != AEC_ERR_BAD_MODEL && st != AEC_ERR_UNSUPPORTED))
            abort();
        return;
    }
    if (!m || aec_model_stages(m) < 1 || aec_model_stages(m) > 16 || !aec_model_name(m))
        abort();
    if (aecfuzz_exercise_model(m, layout) != 0)
        abort();
    aec_model_free(m);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    aec_layout layout = (aec_layout)(1 + size % 4);
    one(data, size, layout);
    uint8_t *b = malloc(size ? size : 1);
    memcpy(b, data, size);
    aecfuzz_fix_model(b, size);
    one(b, size, layout);
    free(b);
    return 0;
}
