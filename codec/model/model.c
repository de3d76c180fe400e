/* SPDX-License-Identifier: BSD-3-Clause */
/* model.c - model configuration, tensor layout and the model file format
 * (spec/model.md). */
#include "model/model.h"
#include "model/network.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitstream/container.h" /* aecb_crc32 */
#include "common/arena.h"
#include "common/bytes.h"
#include "common/hash.h"
#include "nn/dsp.h"

#define AEM_MAGIC "AEM1"
/* Version 1: the block decoder; version 2 adds the upsampling synthesis and
 * four header fields (its widths).  A model without it is written as
 * version 1, so its bytes, and its identifier, stay what they were. */
#define AEM_VERSION_BLOCK 1u
#define AEM_VERSION_UP 2u
#define AEM_VERSION_ANALYSIS 3u /* and three more: the analysis widths */
#define AEM_HEADER_BYTES 112u
#define AEM_HEADER_BYTES_UP 128u
#define AEM_HEADER_BYTES_ANALYSIS 144u
#define AEM_MAX_UP_WIDTH 256
#define AEM_MAX_DICT (1u << 20)
/* weight_format (offset 108): how each parameter is stored. */
#define AEM_WEIGHTS_F32 0u /* IEEE-754 binary32, 4 bytes */
#define AEM_WEIGHTS_F16 1u /* binary16, 2 bytes: the built-in models */

/* All four widths 0 (no upsampling synthesis) or all in 1..256. */
static int up_widths_valid(const aem_config *c)
{
    int w[AEM_UP_STAGES + 1], zeros = 0;
    for (int j = 0; j < AEM_UP_STAGES; j++)
        w[j] = c->up_width[j];
    w[AEM_UP_STAGES] = c->refine_width;
    for (int j = 0; j <= AEM_UP_STAGES; j++) {
        if (w[j] < 0 || w[j] > AEM_MAX_UP_WIDTH)
            return 0;
        zeros += w[j] == 0;
    }
    return zeros == 0 || zeros == AEM_UP_STAGES + 1;
}

/* All three 0 (no analysis stages) or all in 1..256. */
static int down_widths_valid(const aem_config *c)
{
    int zeros = 0;
    for (int j = 0; j < AEM_DOWN_STAGES; j++) {
        if (c->down_width[j] < 0 || c->down_width[j] > AEM_MAX_UP_WIDTH)
            return 0;
        zeros += c->down_width[j] == 0;
    }
    return zeros == 0 || zeros == AEM_DOWN_STAGES;
}

int aem_config_layout(const aem_config *c, aem_layout *lay, char *err, size_t errlen)
{
    const char *bad = NULL;
    if (c->block != 8)
        bad = "block size must be 8";
    else if (c->channels != 3)
        bad = "channels must be 3";
    else if (c->latent < 1 || c->latent > 256)
        bad = "latent dimension must be 1..256";
    else if (c->enc_width < 1 || c->enc_width > 1024 || c->dec_width < 1 || c->dec_width > 1024)
        bad = "convolution widths must be 1..1024";
    else if (c->enc_convs < 1 || c->enc_convs > AEM_MAX_CONVS || c->dec_convs < 1 ||
             c->dec_convs > AEM_MAX_CONVS)
        bad = "convolution counts must be 1..8";
    else if (c->stages < 1 || c->stages > AEM_MAX_STAGES)
        bad = "stages must be 1..16";
    else if (c->codes < 2 || c->codes > 256)
        bad = "codes per stage must be 2..256";
    else if (!up_widths_valid(c))
        bad = "upsampling widths must all be 0, or all 1..256";
    else if (!down_widths_valid(c))
        bad = "analysis widths must all be 0, or all 1..256";
    if (bad) {
        snprintf(err, errlen, "invalid model configuration: %s", bad);
        return -1;
    }
    size_t X = (size_t)c->channels * c->block * c->block, D = c->latent;
    size_t n = 0;
    memset(lay, 0, sizeof *lay);
#define TAKE(field, count) (lay->field = n, n += (count))
    TAKE(enc_lin_w, D * X);
    TAKE(enc_lin_b, D);
    if (aem_has_analysis(c))
        for (int j = 0; j < AEM_DOWN_STAGES; j++) {
            size_t cin = 4 * (j == 0 ? (size_t)c->channels : (size_t)c->down_width[j - 1]);
            TAKE(down_w[j], (size_t)c->down_width[j] * cin * 9);
            TAKE(down_b[j], (size_t)c->down_width[j]);
        }
    for (int i = 0; i < c->enc_convs; i++) {
        size_t cin = i == 0 ? (size_t)aem_encoder_inputs(c) : (size_t)c->enc_width;
        TAKE(enc_conv_w[i], (size_t)c->enc_width * cin * 9);
        TAKE(enc_conv_b[i], (size_t)c->enc_width);
    }
    TAKE(enc_out_w, D * c->enc_width);
    TAKE(enc_out_b, D);
    TAKE(dec_lin_w, X * D);
    TAKE(dec_lin_b, X);
    for (int i = 0; i < c->dec_convs; i++) {
        size_t cin = i == 0 ? D : (size_t)c->dec_width;
        TAKE(dec_conv_w[i], (size_t)c->dec_width * cin * 9);
        TAKE(dec_conv_b[i], (size_t)c->dec_width);
    }
    TAKE(dec_out_w, X * c->dec_width);
    TAKE(dec_out_b, X);
    if (aem_has_upsampling(c)) {
        for (int j = 0; j < AEM_UP_STAGES; j++) {
            size_t cin = j == 0 ? (size_t)c->dec_width : (size_t)c->up_width[j - 1];
            TAKE(up_w[j], 4 * (size_t)c->up_width[j] * cin * 9);
            TAKE(up_b[j], 4 * (size_t)c->up_width[j]);
        }
        size_t R = (size_t)c->refine_width;
        TAKE(ref_w, R * ((size_t)c->up_width[AEM_UP_STAGES - 1] + c->channels) * 9);
        TAKE(ref_b, R);
        TAKE(fin_w, (size_t)c->channels * R * 9);
        TAKE(fin_b, (size_t)c->channels);
    }
    lay->trainable = n;
    TAKE(codebooks, (size_t)c->stages * c->codes * D);
#undef TAKE
    lay->total = n;
    return 0;
}

double aem_macs_per_pixel(const aem_config *c, int decoder, int stages)
{
    double X = c->channels * c->block * c->block, D = c->latent, per_latent = 0;
    if (!decoder) {
        per_latent += X * D + (double)c->enc_width * D;
        for (int i = 0; i < c->enc_convs; i++)
            per_latent += 9.0 * (i == 0 ? aem_encoder_inputs(c) : c->enc_width) * c->enc_width;
        per_latent += (double)stages * c->codes * D; /* nearest-code search */
    } else {
        per_latent += X * D + (double)c->dec_width * X;
        for (int i = 0; i < c->dec_convs; i++)
            per_latent += 9.0 * (i == 0 ? D : c->dec_width) * c->dec_width;
    }
    double per_pixel = per_latent / (c->block * c->block);
    if (!decoder && aem_has_analysis(c)) {
        /* stage j's convolution runs at 1/2, 1/4, 1/8 resolution */
        double area = 0.25, cin = 4.0 * c->channels;
        for (int j = 0; j < AEM_DOWN_STAGES; j++, area /= 4) {
            per_pixel += area * 9.0 * cin * c->down_width[j];
            cin = 4.0 * c->down_width[j];
        }
    }
    if (decoder && aem_has_upsampling(c)) {
        /* stage j's convolution runs at 1/8, 1/4, 1/2 resolution */
        double area = 1.0 / (c->block * c->block), cin = c->dec_width;
        for (int j = 0; j < AEM_UP_STAGES; j++, area *= 4) {
            per_pixel += area * 9.0 * cin * 4 * c->up_width[j];
            cin = c->up_width[j];
        }
        per_pixel += 9.0 * (cin + c->channels) * c->refine_width;
        per_pixel += 9.0 * c->refine_width * c->channels;
    }
    return per_pixel;
}

void aem_model_refresh(aec_model *m)
{
    const aem_config *c = &m->cfg;
    const float *cb = m->params + m->lay.codebooks;
    for (int s = 0; s < c->stages; s++)
        for (int k = 0; k < c->codes; k++) {
            const float *v = cb + ((size_t)s * c->codes + k) * c->latent;
            float n = 0;
            for (int d = 0; d < c->latent; d++)
                n += v[d] * v[d];
            m->code_norms[s * c->codes + k] = n;
        }
}

aec_status aem_model_new(const aem_config *cfg, const char *name, aec_model **out, char *err,
                         size_t errlen)
{
    *out = NULL;
    aec_model *m = calloc(1, sizeof *m);
    if (!m)
        return AEC_ERR_OUT_OF_MEMORY;
    m->cfg = *cfg;
    atomic_init(&m->wino[0], NULL);
    atomic_init(&m->wino[1], NULL);
    if (aem_config_layout(cfg, &m->lay, err, errlen)) {
        free(m);
        return AEC_ERR_BAD_MODEL;
    }
    m->wino_floats[0] = aem_wino_floats(cfg, &m->lay, 0);
    m->wino_floats[1] = aem_wino_floats(cfg, &m->lay, 1);
    /* the weights are written once, at parse: their pages mapped in one call */
    m->params = aec_arena_alloc(m->lay.total * sizeof(float));
    m->code_norms = calloc((size_t)cfg->stages * cfg->codes, sizeof(float));
    if (!m->params || !m->code_norms) {
        aec_model_free(m);
        return AEC_ERR_OUT_OF_MEMORY;
    }
    snprintf(m->name, sizeof m->name, "%s", name ? name : "unnamed");
    *out = m;
    return AEC_OK;
}

static const int *config_fields(const aem_config *c, int i)
{
    const int *f[] = {&c->block,     &c->channels,  &c->latent, &c->enc_width, &c->enc_convs,
                      &c->dec_width, &c->dec_convs, &c->stages, &c->codes};
    return f[i];
}
#define AEM_CONFIG_FIELDS 9

aec_status aem_model_serialize(aec_model *m, uint8_t **out, size_t *out_size)
{
    int up = aem_has_upsampling(&m->cfg), down = aem_has_analysis(&m->cfg);
    /* the lowest version that holds the model: its bytes stay those of
     * the versions before whenever they can */
    uint32_t version = down ? AEM_VERSION_ANALYSIS : up ? AEM_VERSION_UP : AEM_VERSION_BLOCK;
    size_t header = down ? AEM_HEADER_BYTES_ANALYSIS : up ? AEM_HEADER_BYTES_UP : AEM_HEADER_BYTES;
    size_t size = header + m->lay.total * 4 + m->dict_size + 4;
    uint8_t *b = calloc(1, size);
    if (!b)
        return AEC_ERR_OUT_OF_MEMORY;
    memcpy(b, AEM_MAGIC, 4);
    aec_wr32(b + 4, version);
    for (int i = 0; i < AEM_CONFIG_FIELDS; i++)
        aec_wr32(b + 8 + 4 * i, (uint32_t)*config_fields(&m->cfg, i));
    aec_wr32(b + 44, 0); /* activation: 0 = ReLU */
    memcpy(b + 48, m->name, strnlen(m->name, AEM_NAME_BYTES));
    aec_wr64(b + 96, m->lay.total);
    aec_wr32(b + 104, (uint32_t)m->dict_size);
    aec_wr32(b + 108, 0);
    if (down)
        for (int j = 0; j < AEM_DOWN_STAGES; j++)
            aec_wr32(b + AEM_HEADER_BYTES_UP + 4 * j, (uint32_t)m->cfg.down_width[j]);
    if (up) {
        for (int j = 0; j < AEM_UP_STAGES; j++)
            aec_wr32(b + 112 + 4 * j, (uint32_t)m->cfg.up_width[j]);
        aec_wr32(b + 112 + 4 * AEM_UP_STAGES, (uint32_t)m->cfg.refine_width);
    }
    uint8_t *p = b + header;
    for (size_t i = 0; i < m->lay.total; i++, p += 4)
        aec_wrf32(p, m->params[i]);
    if (m->dict_size)
        memcpy(p, m->dict, m->dict_size);
    p += m->dict_size;
    aec_wr32(p, aecb_crc32(0, b, size - 4));
    m->id = aec_fnv1a64(b, size);
    *out = b;
    *out_size = size;
    return AEC_OK;
}

/* Whether every weight is finite (and below 1e30: no weight of a trained
 * model comes near, and sums of such stay finite). */
static int weights_finite(const float *w, size_t n)
{
    int ok = 1;
    for (size_t i = 0; i < n; i++)
        ok &= w[i] == w[i] && w[i] <= 1e30f && w[i] >= -1e30f;
    return ok;
}

/* The parse; `trusted_id` non-zero skips the checksum and takes that
 * identifier (a built-in model, checked and hashed when the library was
 * built). */
static aec_status parse_model(const uint8_t *data, size_t size, uint64_t trusted_id,
                              aec_model **out, char *err, size_t errlen)
{
    *out = NULL;
    if (size < AEM_HEADER_BYTES + 4 || memcmp(data, AEM_MAGIC, 4) != 0) {
        snprintf(err, errlen, "not an aecodec model file (bad magic or too short)");
        return AEC_ERR_BAD_MODEL;
    }
    uint32_t version = aec_rd32(data + 4);
    if (version < AEM_VERSION_BLOCK || version > AEM_VERSION_ANALYSIS) {
        snprintf(err, errlen,
                 "model file version %u is not supported (this library reads 1, 2, 3)", version);
        return AEC_ERR_UNSUPPORTED;
    }
    size_t header = version == AEM_VERSION_ANALYSIS ? AEM_HEADER_BYTES_ANALYSIS
                    : version == AEM_VERSION_UP     ? AEM_HEADER_BYTES_UP
                                                    : AEM_HEADER_BYTES;
    if (size < header + 4) {
        snprintf(err, errlen, "model file too short for its header");
        return AEC_ERR_BAD_MODEL;
    }
    if (!trusted_id && aecb_crc32(0, data, size - 4) != aec_rd32(data + size - 4)) {
        snprintf(err, errlen, "model file checksum mismatch (file corrupt or truncated)");
        return AEC_ERR_BAD_MODEL;
    }
    aem_config cfg = {0};
    int *fields[] = {&cfg.block,     &cfg.channels,  &cfg.latent, &cfg.enc_width, &cfg.enc_convs,
                     &cfg.dec_width, &cfg.dec_convs, &cfg.stages, &cfg.codes};
    for (int i = 0; i < AEM_CONFIG_FIELDS; i++) {
        uint32_t v = aec_rd32(data + 8 + 4 * i);
        *fields[i] = v > 65536 ? -1 : (int)v;
    }
    if (aec_rd32(data + 44) != 0) {
        snprintf(err, errlen, "model uses an unknown activation %u", aec_rd32(data + 44));
        return AEC_ERR_UNSUPPORTED;
    }
    if (version >= AEM_VERSION_UP) {
        for (int j = 0; j <= AEM_UP_STAGES; j++) {
            uint32_t v = aec_rd32(data + 112 + 4 * j);
            /* version 2 has them all; in version 3 they may all be 0 */
            int w = v > AEM_MAX_UP_WIDTH || (v == 0 && version == AEM_VERSION_UP) ? -1 : (int)v;
            if (j < AEM_UP_STAGES)
                cfg.up_width[j] = w;
            else
                cfg.refine_width = w;
        }
    }
    if (version == AEM_VERSION_ANALYSIS) {
        for (int j = 0; j < AEM_DOWN_STAGES; j++) {
            uint32_t v = aec_rd32(data + AEM_HEADER_BYTES_UP + 4 * j);
            cfg.down_width[j] = v > AEM_MAX_UP_WIDTH || v == 0 ? -1 : (int)v; /* all present */
        }
        if (aec_rd32(data + AEM_HEADER_BYTES_UP + 4 * AEM_DOWN_STAGES) != 0) {
            snprintf(err, errlen, "model file's reserved field is not 0 (unsupported)");
            return AEC_ERR_UNSUPPORTED;
        }
    }
    char name[AEM_NAME_BYTES + 1];
    memcpy(name, data + 48, AEM_NAME_BYTES);
    name[AEM_NAME_BYTES] = 0;
    /* Check the sizes against the configuration before allocating anything,
     * so that a small damaged file cannot claim the memory of a large model. */
    aem_layout lay;
    if (aem_config_layout(&cfg, &lay, err, errlen))
        return AEC_ERR_BAD_MODEL;
    uint64_t n = aec_rd64(data + 96);
    uint32_t dict_size = aec_rd32(data + 104), format = aec_rd32(data + 108);
    if (format != AEM_WEIGHTS_F32 && format != AEM_WEIGHTS_F16) {
        snprintf(err, errlen, "model weight format %u is not supported (this library reads 0, 1)",
                 format);
        return AEC_ERR_UNSUPPORTED;
    }
    size_t width = format == AEM_WEIGHTS_F16 ? 2 : 4; /* bytes per parameter */
    if (n != lay.total || dict_size > AEM_MAX_DICT || size != header + n * width + dict_size + 4) {
        snprintf(err, errlen, "model file size does not match its configuration");
        return AEC_ERR_BAD_MODEL;
    }
    aec_model *m;
    aec_status st = aem_model_new(&cfg, name, &m, err, errlen);
    if (st != AEC_OK)
        return st;
    const uint8_t *p = data + header;
    if (format == AEM_WEIGHTS_F16)
        nn_dsp_active()->halves(p, n, m->params); /* exact on every path */
    else
        for (size_t i = 0; i < n; i++)
            m->params[i] = aec_rdf32(p + 4 * i);
    p += n * width;
    /* A built-in model's weights were checked when the library was built. */
    if (!trusted_id && !weights_finite(m->params, n)) {
        snprintf(err, errlen, "model file holds a non-finite weight");
        aec_model_free(m);
        return AEC_ERR_BAD_MODEL;
    }
    if (dict_size) {
        m->dict = malloc(dict_size);
        if (!m->dict) {
            aec_model_free(m);
            return AEC_ERR_OUT_OF_MEMORY;
        }
        memcpy(m->dict, p, dict_size);
        m->dict_size = dict_size;
    }
    m->id = trusted_id ? trusted_id : aec_fnv1a64(data, size);
    aem_model_refresh(m);
    *out = m;
    return AEC_OK;
}

aec_status aem_model_parse(const uint8_t *data, size_t size, aec_model **out, char *err,
                           size_t errlen)
{
    return parse_model(data, size, 0, out, err, errlen);
}

aec_status aem_model_parse_trusted(const uint8_t *data, size_t size, uint64_t id,
                                   aec_model **out, char *err, size_t errlen)
{
    return parse_model(data, size, id ? id : aec_fnv1a64(data, size), out, err, errlen);
}

/* ---- public model API ----------------------------------------------- */

aec_status aec_model_load_memory(aec_model **out, const void *data, size_t size)
{
    char err[160];
    if (!out || !data)
        return AEC_ERR_INVALID_ARGUMENT;
    aec_status st = aem_model_parse(data, size, out, err, sizeof err);
    if (st == AEC_OK)
        (*out)->frozen = 1; /* the API gives no way to change its weights */
    return st;
}

aec_status aec_model_load_file(aec_model **out, const char *path)
{
    if (!out || !path)
        return AEC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    FILE *f = fopen(path, "rb");
    if (!f)
        return AEC_ERR_IO;
    uint8_t *buf = NULL;
    size_t size = 0, cap = 0;
    aec_status st = AEC_OK;
    for (;;) {
        if (size == cap) {
            if (cap >= (256u << 20)) { /* no model is this large */
                st = AEC_ERR_BAD_MODEL;
                break;
            }
            cap = cap ? cap * 2 : (1u << 20);
            uint8_t *nb = realloc(buf, cap);
            if (!nb) {
                st = AEC_ERR_OUT_OF_MEMORY;
                break;
            }
            buf = nb;
        }
        size_t got = fread(buf + size, 1, cap - size, f);
        size += got;
        if (got == 0) {
            if (ferror(f))
                st = AEC_ERR_IO;
            break;
        }
    }
    fclose(f);
    if (st == AEC_OK)
        st = aec_model_load_memory(out, buf, size);
    free(buf);
    return st;
}

void aec_model_free(aec_model *m)
{
    if (!m || m->is_static)
        return;
    aec_arena_free(m->params, m->lay.total * sizeof(float));
    for (int part = 0; part < 2; part++)
        aec_arena_free(atomic_load_explicit(&m->wino[part], memory_order_relaxed),
                       m->wino_floats[part] * sizeof(float));
    free(m->dict);
    free(m->code_norms);
    free(m);
}

uint64_t aec_model_id(const aec_model *m) { return m ? m->id : 0; }
int aec_model_stages(const aec_model *m) { return m ? m->cfg.stages : 0; }
const char *aec_model_name(const aec_model *m) { return m ? m->name : ""; }
double aec_model_macs_per_pixel(const aec_model *m, int decoder, int stages)
{
    return m ? aem_macs_per_pixel(&m->cfg, decoder, decoder ? 0 : stages) : 0.0;
}
