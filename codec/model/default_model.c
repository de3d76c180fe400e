/* default_model.c - the built-in models, compiled from models/default.aem,
 * models/high.aem, models/high-top.aem, models/high-low.aem and
 * models/high-v1.aem (see Makefile: tools/bin2c turns each file into a
 * byte array).
 *
 * They are parsed once, on first use, under pthread_once; afterwards they
 * are immutable and shared by every context and thread. */
#include <pthread.h>

#include "model/builtin.h"

extern const unsigned char aec_default_model_data[];
extern const size_t aec_default_model_data_size;
extern const unsigned char aec_high_model_data[];
extern const size_t aec_high_model_data_size;
extern const unsigned char aec_high_top_model_data[];
extern const size_t aec_high_top_model_data_size;
extern const unsigned char aec_high_low_model_data[];
extern const size_t aec_high_low_model_data_size;
extern const unsigned char aec_high_v1_model_data[];
extern const size_t aec_high_v1_model_data_size;

static aec_model *builtin[AEM_BUILTIN_MODELS];
static pthread_once_t builtin_once = PTHREAD_ONCE_INIT;

static aec_model *parse_static(const unsigned char *data, size_t size)
{
    char err[160];
    aec_model *m = NULL;
    if (aem_model_parse(data, size, &m, err, sizeof err) != AEC_OK)
        return NULL;
    m->is_static = 1;
    return m;
}

static void load_builtin(void)
{
    builtin[AEM_BUILTIN_DEFAULT] = parse_static(aec_default_model_data,
                                                aec_default_model_data_size);
    builtin[AEM_BUILTIN_HIGH] = parse_static(aec_high_model_data, aec_high_model_data_size);
    builtin[AEM_BUILTIN_HIGH_V1] = parse_static(aec_high_v1_model_data,
                                                aec_high_v1_model_data_size);
    builtin[AEM_BUILTIN_HIGH_TOP] = parse_static(aec_high_top_model_data,
                                                 aec_high_top_model_data_size);
    builtin[AEM_BUILTIN_HIGH_LOW] = parse_static(aec_high_low_model_data,
                                                 aec_high_low_model_data_size);
}

const aec_model *aem_builtin_model(int which)
{
    if (which < 0 || which >= AEM_BUILTIN_MODELS)
        return NULL;
    pthread_once(&builtin_once, load_builtin);
    return builtin[which];
}

const aec_model *aec_model_default(void) { return aem_builtin_model(AEM_BUILTIN_DEFAULT); }

const aec_model *aec_model_builtin(int i) { return aem_builtin_model(i); }
