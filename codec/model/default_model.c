/* default_model.c - the built-in model, compiled from models/default.aem
 * (see Makefile: tools/bin2c turns the file into aec_default_model_data).
 *
 * It is parsed once, on first use, under pthread_once; afterwards it is
 * immutable and shared by every context and thread. */
#include <pthread.h>

#include "model/model.h"

extern const unsigned char aec_default_model_data[];
extern const size_t aec_default_model_data_size;

static aec_model *default_model;
static pthread_once_t default_once = PTHREAD_ONCE_INIT;

static void load_default(void)
{
    char err[160];
    aec_model *m = NULL;
    if (aem_model_parse(aec_default_model_data, aec_default_model_data_size, &m, err,
                        sizeof err) == AEC_OK) {
        m->is_static = 1;
        default_model = m;
    }
}

const aec_model *aec_model_default(void)
{
    pthread_once(&default_once, load_default);
    return default_model;
}
