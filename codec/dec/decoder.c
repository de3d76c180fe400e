/* SPDX-License-Identifier: BSD-3-Clause */
/* decoder.c - the decoder context, aec_read_info and the decode calls
 * (aec_decode, aec_decode_into): parse the header (prefix.c for a file
 * still arriving), check the model and the caller's parameters, verify
 * the streams the output needs, then render the region (tiles.c) into the
 * output (output.c: layout, scale, stride).  A damaged file is refused
 * before the output and the networks' buffers are allocated. */
#include <limits.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bitstream/container.h"
#include "bitstream/wiener_stream.h"
#include "bitstream/zstream.h"
#include "common/arena.h"
#include "common/cells.h"
#include "common/context.h"
#include "dec/dec_internal.h"
#include "model/builtin.h"

/* Room for every built-in model and 8 of the caller's. */
#define CALLER_MODELS 8
#define MAX_MODELS (AEM_BUILTIN_MODELS + CALLER_MODELS)

/* A decoder's models: the caller's, or built-in ones by index, which are
 * parsed only when a file needs them (so creating a decoder costs nothing). */
typedef struct {
    const aec_model *model; /* NULL for a built-in model not yet looked up */
    int builtin;            /* its index in models/builtin.mk, or -1       */
} decoder_model;

struct aec_decoder {
    decoder_model models[MAX_MODELS];
    int n_models;
    int threads;
    aec_limits limits;
    char err[AEC_ERR_BYTES];
    aec_progress progress; /* what the last decode call used */
    aec_dec_pool kept;     /* the workers' contexts and arenas between decodes */
};

void aec_decode_params_default(aec_decode_params *p) { memset(p, 0, sizeof *p); }

aec_status aec_decoder_create(aec_decoder **out, const aec_model *model)
{
    if (!out)
        return AEC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    aec_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return AEC_ERR_OUT_OF_MEMORY;
    if (model) {
        d->models[d->n_models++] = (decoder_model){model, -1};
    } else { /* every built-in model, so files of any built-in level decode */
        for (int i = 0; i < AEM_BUILTIN_MODELS; i++)
            d->models[d->n_models++] = (decoder_model){NULL, i};
    }
    aec_limits_default(&d->limits);
    *out = d;
    return AEC_OK;
}

aec_status aec_decoder_add_model(aec_decoder *d, const aec_model *model)
{
    if (!d || !model)
        return AEC_ERR_INVALID_ARGUMENT;
    int callers = 0;
    for (int i = 0; i < d->n_models; i++)
        callers += d->models[i].builtin < 0;
    if (callers == CALLER_MODELS)
        return aec_fail(d->err, AEC_ERR_LIMIT, "a decoder holds at most %d models of the caller's",
                        CALLER_MODELS);
    d->models[d->n_models++] = (decoder_model){model, -1};
    return AEC_OK;
}

void aec_decoder_destroy(aec_decoder *d)
{
    if (d)
        aec_dec_pool_free(&d->kept);
    free(d);
}
void aec_decoder_set_threads(aec_decoder *d, int threads)
{
    if (d)
        d->threads = threads > 0 ? threads : 0;
}
void aec_decoder_set_limits(aec_decoder *d, const aec_limits *l)
{
    if (d && l)
        d->limits = *l;
}
const char *aec_decoder_last_error(const aec_decoder *d) { return d ? d->err : ""; }

static float lattice_step(const aecb_header *h)
{
    return (float)((double)h->lattice_step_q / AECB_LATTICE_STEP_ONE);
}

aec_status aec_read_info(const uint8_t *data, size_t size, aec_info *info)
{
    if (!data || !info)
        return AEC_ERR_INVALID_ARGUMENT;
    aecb_header h;
    char err[AEC_ERR_BYTES];
    aec_status st = aecb_parse(data, size, NULL, &h, err, sizeof err);
    if (st != AEC_OK)
        return st;
    memset(info, 0, sizeof *info);
    info->width = h.width, info->height = h.height, info->layout = (aec_layout)h.layout;
    info->stages_coded = h.stages, info->stages_available = h.stages_available;
    info->tile_size = h.tile_size, info->tiles_x = h.tiles_x, info->tiles_y = h.tiles_y;
    info->model_id = h.model_id, info->file_size = h.file_size;
    info->half_size = (h.flags & AECB_FLAG_HALF) != 0;
    if (h.flags & AECB_FLAG_ALPHA)
        info->alpha_bytes = h.sizes[AECB_ALPHA_STREAM];
    for (int s = 0; s < h.stages && s < 16; s++)
        for (uint32_t t = 0; t < h.n_tiles; t++)
            info->stage_bytes[s] += h.sizes[aecb_stream_index(&h, s, t)];
    if (h.flags & AECB_FLAG_LATTICE) {
        info->lattice_step = lattice_step(&h);
        info->lattice_available = h.lattice_available;
        info->lattice_layers = h.lattice_layers;
        info->lattice_layers_available = h.lattice_layers_available;
        for (int l = 0; l < h.lattice_layers; l++) { /* AECB_MAX_LAYERS: 6 */
            for (uint32_t t = 0; t < h.n_tiles; t++)
                info->layer_bytes[l] += h.sizes[aecb_layer_stream_index(&h, l, t)];
            aecb_layer_channels(&h, l, &info->layer_channels[l][0], &info->layer_channels[l][1]);
        }
        for (int l = 0; l < h.lattice_layers; l++)
            info->lattice_bytes += info->layer_bytes[l];
    }
    if (h.flags & AECB_FLAG_RESIDUAL) {
        info->residual = 1, info->residual_available = h.residual_available;
        for (uint32_t t = 0; t < h.n_tiles; t++)
            info->residual_bytes += h.sizes[aecb_residual_stream_index(&h, t)];
    }
    if (h.version >= AECB_VERSION_FILTER) {
        uint32_t fi = aecb_filter_stream_index(&h);
        info->filter_bytes = h.sizes[fi], info->filter_available = h.filter_available;
        /* the stream's first byte, when it is in the data */
        info->filter_classes = h.offsets[fi] < size ? data[h.offsets[fi]] : 0;
    }
    aecb_header_free(&h);
    return AEC_OK;
}

/* Where the model files that the messages name are found. */
#define AEC_MODEL_FILES "models/ of the source, or share/aecodec/models/ after make install-models"

/* ---- one decode call ---------------------------------------------------- */

static uint64_t model_id(const decoder_model *dm)
{
    return dm->model ? dm->model->id : aem_builtin_id(dm->builtin);
}

static const char *model_name(const decoder_model *dm)
{
    return dm->model ? dm->model->name : aem_builtin_name(dm->builtin);
}

/* The model coded as `id`, parsing a built-in one on first use; NULL when
 * the decoder has none (or a built-in model cannot be allocated). */
static const aec_model *find_model(const aec_decoder *d, uint64_t id)
{
    for (int i = 0; i < d->n_models; i++)
        if (model_id(&d->models[i]) == id)
            return d->models[i].model ? d->models[i].model
                                      : aem_builtin_model(d->models[i].builtin);
    return NULL;
}

/* Steps 16..18 of spec/bitstream.md section 9, and the caller's parameters.
 * On success *mp is the file's model. */
static aec_status check_model(aec_decoder *d, const aecb_header *h, const aec_decode_params *p,
                              const aec_model **mp)
{
    const aec_model *m = find_model(d, h->model_id);
    int master = m ? -1 : aem_builtin_of_master(h->model_id);
    if (master >= 0) /* a file of 0.5.0: the model's 32-bit master, not built in */
        return aec_fail(d->err, AEC_ERR_MODEL_MISMATCH,
                        "file was coded with the 32-bit weights of %s (aecodec 0.5.0), which "
                        "this library embeds in 16 bits as another model; decode it with "
                        "--model models/%s.aem (" AEC_MODEL_FILES ")",
                        aem_builtin_name(master), aem_builtin_table[master].list_name);
    const aem_builtin_entry *retired = m ? NULL : aem_retired_find(h->model_id);
    if (retired && retired->master_id == h->model_id)
        return aec_fail(d->err, AEC_ERR_MODEL_MISMATCH,
                        "file was coded with %s, which this library no longer builds in; decode "
                        "it with --model models/%s.aem (" AEC_MODEL_FILES ")",
                        retired->model_name, retired->list_name);
    if (retired) /* the 16-bit rounding that development libraries after 0.5.0 built in */
        return aec_fail(d->err, AEC_ERR_MODEL_MISMATCH,
                        "file was coded with %s in 16 bits, as development libraries after "
                        "0.5.0 built it in; this library no longer has it (models/%s.aem holds "
                        "its 32-bit weights, another model)",
                        retired->model_name, retired->list_name);
    if (!m) {
        char have[400] = "";
        for (int i = 0; i < d->n_models; i++) {
            size_t l = strlen(have);
            snprintf(have + l, sizeof have - l, "%s%s %016llx", i ? ", " : "",
                     model_name(&d->models[i]), (unsigned long long)model_id(&d->models[i]));
        }
        return aec_fail(d->err, AEC_ERR_MODEL_MISMATCH,
                        "file was coded with model %016llx, which this decoder lacks (it has %s); "
                        "load that model with --model",
                        (unsigned long long)h->model_id, have);
    }
    if (h->block_size != m->cfg.block) /* step 17 */
        return aec_fail(d->err, AEC_ERR_MODEL_MISMATCH, "file has block size %d, model %s has %d",
                        h->block_size, m->name, m->cfg.block);
    if (h->stages > m->cfg.stages || ((h->flags & AECB_FLAG_DICT) && !m->dict_size))
        return aec_fail(d->err, AEC_ERR_CORRUPT,
                        "header does not fit model %s (block %d, %d stages, dictionary %s)",
                        m->name, h->block_size, h->stages,
                        (h->flags & AECB_FLAG_DICT) ? "yes" : "no");
    if ((h->flags & AECB_FLAG_LATTICE) && h->lattice_dim != m->cfg.latent)
        return aec_fail(d->err, AEC_ERR_CORRUPT,
                        "lattice refinement of %u latent channels, model %s has %d (file corrupt)",
                        h->lattice_dim, m->name, m->cfg.latent);
    if (p->stages < 0)
        return aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT, "stages must be 0 (all) or positive");
    *mp = m;
    return AEC_OK;
}

/* Decompresses and checks the alpha stream into *plane (W*H bytes). */
static aec_status load_alpha(aec_decoder *d, const decode_job *j, uint8_t **plane)
{
    const aecb_header *h = j->h;
    size_t n = (size_t)h->width * h->height;
    *plane = malloc(n);
    if (!*plane)
        return aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
    aec_status st =
        aecb_check_stream(h, j->data, j->size, AECB_ALPHA_STREAM, d->err, AEC_ERR_BYTES);
    if (st != AEC_OK)
        return st;
    /* The alpha stream uses the dictionary too when the file does. */
    return aecb_zstd_decompress(NULL, j->dict, j->data + h->offsets[AECB_ALPHA_STREAM],
                                h->sizes[AECB_ALPHA_STREAM], *plane, n, d->err, AEC_ERR_BYTES);
}

/* Unfilters the job's rows of the alpha plane into the output's last
 * channel: prediction runs along rows, so each row is rebuilt from its
 * start.  plane NULL (a preview before the plane is in): opaque. */
static aec_status write_alpha(aec_decoder *d, const decode_job *j, const uint8_t *plane)
{
    const aecb_header *h = j->h;
    uint8_t *row = malloc(h->width);
    if (!row)
        return aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
    memset(row, 255, h->width);
    for (uint32_t y = 0; y < j->rh; y++) {
        if (plane)
            aecb_alpha_unfilter(row, 1, h->width, plane + (size_t)(j->ry + y) * h->width,
                                h->width, 1);
        uint8_t *o = j->out + (size_t)y * j->out_stride + j->out_channels - 1;
        for (uint32_t x = 0; x < j->rw; x++)
            o[(size_t)x * j->out_channels] = row[j->rx + x];
    }
    free(row);
    return AEC_OK;
}

/* Where a decode call's pixels go: a library buffer allocated once the
 * streams have passed their checks (aec_decode), or the caller's rows. */
typedef struct {
    uint8_t **alloc; /* aec_decode: receives the new buffer; NULL otherwise */
    uint8_t *pixels; /* aec_decode_into */
    size_t stride, buffer_size;
} destination;

/* The caller's buffer holds the output (checked before anything is
 * decoded, so a too small one is never written). */
static aec_status check_buffer(aec_decoder *d, destination *dst, const dec_output *o)
{
    size_t row = (size_t)o->ow * (size_t)o->layout;
    if (!dst->pixels)
        return aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT, "NULL pixel buffer");
    if (dst->stride == 0)
        dst->stride = row;
    if (dst->stride < row)
        return aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT,
                        "stride of %zu bytes is less than a row of %u pixels x %d channels", 
                        dst->stride, o->ow, o->layout);
    /* (oh - 1) * stride + row <= buffer_size, without overflow */
    if (dst->buffer_size < row || (dst->buffer_size - row) / dst->stride < (size_t)o->oh - 1)
        return aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT,
                        "buffer of %zu bytes is too small for %ux%u pixels x %d channels with a "
                        "stride of %zu bytes (needs %llu)",
                        dst->buffer_size, o->ow, o->oh, o->layout, dst->stride,
                        (unsigned long long)((uint64_t)(o->oh - 1) * dst->stride + row));
    return AEC_OK;
}

/* Renders the region band by band into the output: the whole region at
 * once when the tiles can write the output rows themselves, else bands of
 * a tile's height (a multiple of the scale, starting on tile rows when the
 * region's top allows) through a band buffer. */
static aec_status render_region(aec_decoder *d, decode_job *j, worker *ws, int threads,
                                const uint8_t *plane, int alpha, const dec_output *o)
{
    int direct = aec_dec_output_direct(o);
    uint32_t T = j->h->tile_size, end = o->ry + o->rh;
    size_t band_stride = (size_t)o->rw * (size_t)o->coded;
    uint8_t *band = NULL;
    if (!direct && !(band = aec_huge_malloc(band_stride * T)))
        return aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for a band of %u rows", T);
    aec_status st = AEC_OK;
    for (uint32_t y = o->ry; y < end && st == AEC_OK;) {
        uint32_t next = end;
        if (!direct)
            next = o->ry % (uint32_t)o->scale == 0 ? (y / T + 1) * T : y + T;
        next = next < end ? next : end;
        j->rx = o->rx, j->rw = o->rw, j->ry = y, j->rh = next - y;
        j->out = direct ? o->pixels + (size_t)(y - o->ry) * o->stride : band;
        j->out_stride = direct ? o->stride : band_stride;
        tile_rect r = aec_dec_tiles_of(j->h, j->rx, j->ry, j->rw, j->rh);
        st = aec_dec_render_tiles(j, ws, threads, &r, d->err);
        if (st == AEC_OK && j->residual)
            st = aec_dec_add_residual(j, ws, threads, &r, d->err);
        if (st == AEC_OK && alpha)
            st = write_alpha(d, j, plane);
        if (st == AEC_OK)
            aec_dec_output_band(o, j->out, j->out_stride, y, next - y);
        y = next;
    }
    free(band);
    return st;
}

/* [*a, *a + *n) widened by the filter's radius on each side, within 0..size. */
static void widen(uint32_t size, uint32_t *a, uint32_t *n)
{
    uint32_t a0 = *a > AEM_WIENER_RADIUS ? *a - AEM_WIENER_RADIUS : 0;
    uint32_t a1 = size - (*a + *n) > AEM_WIENER_RADIUS ? *a + *n + AEM_WIENER_RADIUS : size;
    *a = a0, *n = a1 - a0;
}

/* The coded rectangle a region needs: itself (widened for the restoration
 * filter), or for a half-size file the coded pixels its upsampling reads. */
static void coded_source(const aecb_header *h, const dec_output *o, int filter, uint32_t *x,
                         uint32_t *y, uint32_t *w, uint32_t *hgt)
{
    uint32_t rx = o->rx, ry = o->ry, rw = o->rw, rh = o->rh;
    if (filter) /* the filter reads AEM_WIENER_RADIUS pixels around the region */
        widen(h->width, &rx, &rw), widen(h->height, &ry, &rh);
    if (!(h->flags & AECB_FLAG_HALF)) {
        *x = rx, *y = ry, *w = rw, *hgt = rh;
        return;
    }
    uint32_t x1, y1;
    aec_half_source(rx, rw, h->coded_w, x, &x1);
    aec_half_source(ry, rh, h->coded_h, y, &y1);
    *w = x1 - *x, *hgt = y1 - *y;
}

/* The restoration filter (vq/wiener.h) of rows y .. y + rows - 1, columns
 * x0 .. x0 + w - 1, from the unfiltered pixels of [sx0, sx1) x [sy0, sy1)
 * in src into dst, in chunks of rows, one thread each, each working in its
 * worker's arena (idle between the bands' renders: no fresh memory).  -1:
 * out of memory. */
static int filter_rows(const decode_job *j, worker *ws, int threads, const uint8_t *src,
                       size_t src_stride, uint32_t sx0, uint32_t sy0, uint32_t sx1, uint32_t sy1,
                       uint32_t x0,
                       uint32_t y, uint32_t w, uint32_t rows, uint8_t *dst, size_t dst_stride)
{
    enum { CHUNK = 64 }; /* rows a call: each call pads its first rows anew */
    aem_wiener_source s = {src, src_stride, j->out_channels,
                           aec_layout_is_gray(j->h->layout) ? 1 : 3, sx0, sy0, sx1, sy1};
    int chunks = (int)((rows + CHUNK - 1) / CHUNK), failed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (chunks > 1) \
    reduction(| : failed)
    for (int c = 0; c < chunks; c++) {
        uint32_t r0 = (uint32_t)c * CHUNK, nr = rows - r0 < CHUNK ? rows - r0 : CHUNK;
        const worker *me = &ws[aec_thread_num()];
        failed |= aem_wiener_filter(j->filter, &s, x0, y + r0, w, y + r0 + nr,
                                    dst + (size_t)r0 * dst_stride, dst_stride, me->buffers,
                                    me->buffers ? me->buffer_bytes : 0) != 0;
    }
    return failed ? -1 : 0;
}

/* The rows a band of filtered output lags the band rendered: the filter
 * reads AEM_WIENER_RADIUS rows below, and a multiple of every scale keeps
 * the output bands on the reduced rows' boxes. */
#define FILTER_LAG 8

/* render_region for a file with the restoration filter: bands of a tile's
 * height rendered (with their residual) once each into a buffer of
 * unfiltered rows, widened by the filter's radius at the region's edges;
 * each band's rows but the last FILTER_LAG filtered into the output, the
 * rows the next band's filter reads carried over. */
static aec_status render_filtered(aec_decoder *d, decode_job *j, worker *ws, int threads,
                                  const uint8_t *plane, int alpha, const dec_output *o)
{
    const aecb_header *h = j->h;
    const uint32_t R = AEM_WIENER_RADIUS, T = h->tile_size, end = o->ry + o->rh;
    int direct = aec_dec_output_direct(o);
    uint32_t ex = o->rx, ew = o->rw, top = o->ry, rows = o->rh;
    widen(h->width, &ex, &ew);
    widen(h->height, &top, &rows);
    size_t ext_stride = (size_t)ew * (size_t)o->coded, band_stride = (size_t)o->rw * (size_t)o->coded;
    /* held: a band, the rows carried (FILTER_LAG + R) and R at either edge */
    uint8_t *ext = aec_huge_malloc(ext_stride * (T + FILTER_LAG + 3 * R));
    uint8_t *band = direct ? NULL : aec_huge_malloc(band_stride * (T + FILTER_LAG));
    aec_status st = AEC_OK;
    if (!ext || (!direct && !band))
        st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for a band of %u rows", T);
    uint32_t held0 = top, held1 = top, out = o->ry; /* rows held [held0, held1), next output */
    for (uint32_t y = o->ry; y < end && st == AEC_OK;) {
        uint32_t next = o->ry % (uint32_t)o->scale == 0 ? (y / T + 1) * T : y + T;
        next = next < end ? next : end;
        uint32_t r1 = next == end ? top + rows : next; /* render [held1, r1) */
        j->rx = ex, j->rw = ew, j->ry = held1, j->rh = r1 - held1;
        j->out = ext + (size_t)(held1 - held0) * ext_stride, j->out_stride = ext_stride;
        tile_rect r = aec_dec_tiles_of(h, ex, held1, ew, r1 - held1);
        st = aec_dec_render_tiles(j, ws, threads, &r, d->err);
        if (st == AEC_OK && j->residual)
            st = aec_dec_add_residual(j, ws, threads, &r, d->err);
        held1 = r1;
        uint32_t o1 = next == end ? end : next - FILTER_LAG; /* filter [out, o1) */
        if (st == AEC_OK && o1 > out) {
            uint8_t *dst = direct ? o->pixels + (size_t)(out - o->ry) * o->stride : band;
            size_t dst_stride = direct ? o->stride : band_stride;
            if (filter_rows(j, ws, threads, ext, ext_stride, ex, held0, ex + ew, held1, o->rx, out,
                            o->rw, o1 - out, dst, dst_stride))
                st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the filter");
            j->rx = o->rx, j->rw = o->rw, j->ry = out, j->rh = o1 - out;
            j->out = dst, j->out_stride = dst_stride;
            if (st == AEC_OK && alpha)
                st = write_alpha(d, j, plane);
            if (st == AEC_OK)
                aec_dec_output_band(o, dst, dst_stride, out, o1 - out);
            out = o1;
            /* keep the rows the next output rows read */
            uint32_t keep = out - held0 > R ? out - R : held0;
            memmove(ext, ext + (size_t)(keep - held0) * ext_stride,
                    (size_t)(held1 - keep) * ext_stride);
            held0 = keep;
        }
        y = next;
    }
    free(ext), free(band);
    return st;
}

/* A half-size file: the coded pixels the region reads rendered at once (a
 * quarter of the region's), then upsampled band by band into the output
 * (with the restoration filter, the band and the filter's radius around
 * it, then filtered into the output). */
static aec_status render_half(aec_decoder *d, decode_job *j, worker *ws, int threads,
                              const dec_output *o)
{
    const aecb_header *h = j->h;
    int ch = o->coded;
    coded_source(h, o, j->filter != NULL, &j->rx, &j->ry, &j->rw, &j->rh);
    j->out_stride = (size_t)j->rw * (size_t)ch;
    int direct = aec_dec_output_direct(o), filter = j->filter != NULL;
    /* a multiple of every scale */
    uint32_t band_rows = direct && !filter ? o->rh : h->tile_size;
    size_t band_stride = (size_t)o->rw * (size_t)ch;
    uint8_t *band = direct ? NULL : aec_huge_malloc(band_stride * band_rows);
    uint32_t ex = o->rx, ew = o->rw;
    widen(h->width, &ex, &ew);
    size_t ext_stride = (size_t)ew * (size_t)ch;
    uint8_t *ext = filter ? aec_huge_malloc(ext_stride * (band_rows + 2 * AEM_WIENER_RADIUS)) : NULL;
    if (!(j->out = aec_huge_malloc(j->out_stride * j->rh)) || (!direct && !band) || (filter && !ext)) {
        free(j->out), free(band), free(ext);
        return aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the %ux%u coded pixels",
                        j->rw, j->rh);
    }
    tile_rect r = aec_dec_tiles_of(h, j->rx, j->ry, j->rw, j->rh);
    aec_status st = aec_dec_render_tiles(j, ws, threads, &r, d->err);
    for (uint32_t y = o->ry; y < o->ry + o->rh && st == AEC_OK; y += band_rows) {
        uint32_t rows = o->ry + o->rh - y < band_rows ? o->ry + o->rh - y : band_rows;
        uint8_t *dst = direct ? o->pixels + (size_t)(y - o->ry) * o->stride : band;
        size_t stride = direct ? o->stride : band_stride;
        /* unfiltered rows up (the filter's: the band widened) and where */
        uint32_t uy = y, uh = rows, ux = o->rx, uw = o->rw;
        if (filter)
            widen(h->height, &uy, &uh), ux = ex, uw = ew;
        uint8_t *up = filter ? ext : dst;
        size_t up_stride = filter ? ext_stride : stride;
        /* The band's rows in chunks, one thread each (a chunk redoes at
         * most 3 coded rows' horizontal passes of its neighbour's). */
        enum { CHUNK = 64 };
        int chunks = (int)((uh + CHUNK - 1) / CHUNK), failed = 0;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) if (chunks > 1) \
    reduction(| : failed)
        for (int c = 0; c < chunks; c++) {
            uint32_t r0 = (uint32_t)c * CHUNK, nr = uh - r0 < CHUNK ? uh - r0 : CHUNK;
            failed |= aec_upsample2(j->out, j->out_stride, j->rx, j->ry, h->coded_w, h->coded_h,
                                    ch, ux, uy + r0, uw, nr, up + (size_t)r0 * up_stride,
                                    up_stride) != 0;
        }
        if (!failed && filter)
            failed = filter_rows(j, ws, threads, ext, ext_stride, ex, uy, ex + ew, uy + uh, o->rx, y,
                                 o->rw, rows, dst, stride);
        if (failed)
            st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the upsampling");
        else
            aec_dec_output_band(o, dst, stride, y, rows);
    }
    free(j->out), free(band), free(ext);
    j->out = NULL;
    return st;
}

/* One decode call: parse, plan, check, verify, then render into dst. */
static aec_status decode_call(aec_decoder *d, const uint8_t *data, size_t size,
                              const aec_decode_params *params, destination *dst, dec_output *o)
{
    aec_decode_params p;
    aec_decode_params_default(&p);
    if (params)
        p = *params;
    memset(&d->progress, 0, sizeof d->progress);
    aecb_header h;
    uint64_t need;
    aec_status st = aec_dec_parse(data, size, &d->limits, p.partial, &h, &need, d->err);
    if (st != AEC_OK) {
        d->progress.next_bytes = need;
        return st;
    }
    dec_plan plan = {0};
    decode_job j;
    memset(&j, 0, sizeof j);
    worker *ws = NULL;
    uint8_t *plane = NULL, *own = NULL;
#ifdef _OPENMP
    int threads = d->threads > 0 ? d->threads : omp_get_max_threads();
#else
    int threads = 1;
#endif
    const aec_model *m = NULL;
    st = check_model(d, &h, &p, &m);
    if (st == AEC_OK)
        st = aec_dec_output_geometry(&h, &p, o, d->err);
    if (st == AEC_OK)
        st = aec_dec_plan(&h, size, &p, &plan, d->err);
    if (st == AEC_OK && !dst->alloc)
        st = check_buffer(d, dst, o);
    if (st != AEC_OK)
        goto done;
    d->progress = plan.progress;
    threads = aec_useful_threads(threads, (double)o->rw * o->rh);
    j.m = m, j.h = &h, j.data = data, j.size = size, j.stages = plan.stages;
    j.lat_layers = plan.lat_layers;
    j.residual = plan.residual;
    aem_wiener filter;
    if (plan.filter) {
        uint32_t fi = aecb_filter_stream_index(&h);
        st = aecb_check_stream(&h, data, size, fi, d->err, AEC_ERR_BYTES);
        if (st == AEC_OK)
            st = aecb_wiener_read(NULL, data + h.offsets[fi], h.sizes[fi],
                                  aec_layout_is_gray(h.layout) ? 1 : 3, &filter, d->err,
                                  AEC_ERR_BYTES);
        if (st != AEC_OK)
            goto done;
        j.filter = &filter;
    }
    j.step = lattice_step(&h);
    j.halo = aem_decoder_halo(&m->cfg);
    j.out_channels = h.layout;
    if (h.flags & AECB_FLAG_DICT) { /* checked above: the model has one */
        if (!(j.dict = ZSTD_createDDict(m->dict, m->dict_size))) {
            st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "cannot load the model's dictionary");
            goto done;
        }
    }
    /* Output tiles meeting the region, and the tiles their windows meet. */
    uint32_t cx, cy, cw, chgt;
    coded_source(&h, o, j.filter != NULL, &cx, &cy, &cw, &chgt);
    tile_rect render = aec_dec_tiles_of(&h, cx, cy, cw, chgt);
    tile_rect needed = aec_dec_tiles_needed(&j, &render);
    ws = aec_dec_workers_new(&j, threads, &render, &d->kept);
    if (!ws) {
        st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for the decoder's buffers");
        goto done;
    }
    /* One tile, without a residual or an alpha plane (checked before the
     * tiles render): pass 2 checks its streams as it loads them, before any
     * pixel is written, so pass 1 would only decompress them once more. */
    int alpha = (h.flags & AECB_FLAG_ALPHA) && plan.alpha;
    j.verify_in_render = rect_count(&needed) == 1 && !j.residual && !alpha;
    st = j.verify_in_render ? AEC_OK : aec_dec_verify_tiles(&j, ws, threads, &needed, d->err);
    if (st == AEC_OK && j.residual)
        st = aec_dec_verify_residual(&j, ws, threads, &render, d->err);
    if (st == AEC_OK && alpha)
        st = load_alpha(d, &j, &plane);
    if (st == AEC_OK && dst->alloc) {
        dst->stride = (size_t)o->ow * (size_t)o->layout;
        if (!(dst->pixels = own = aec_huge_malloc(dst->stride * o->oh)))
            st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for a %ux%u image",
                          o->ow, o->oh);
    }
    o->pixels = dst->pixels, o->stride = dst->stride;
    if (st == AEC_OK)
        st = (h.flags & AECB_FLAG_HALF) ? render_half(d, &j, ws, threads, o)
             : j.filter ? render_filtered(d, &j, ws, threads, plane,
                                          (h.flags & AECB_FLAG_ALPHA) != 0, o)
                        : render_region(d, &j, ws, threads, plane,
                                        (h.flags & AECB_FLAG_ALPHA) != 0, o);
    if (st == AEC_OK && dst->alloc)
        *dst->alloc = own, own = NULL;
done:
    aec_dec_workers_free(ws, threads, &d->kept);
    ZSTD_freeDDict((ZSTD_DDict *)j.dict);
    aec_dec_plan_free(&plan);
    free(plane);
    free(own);
    aecb_header_free(&h);
    return st;
}

aec_status aec_decode(aec_decoder *d, const uint8_t *data, size_t size,
                      const aec_decode_params *params, uint8_t **out, uint32_t *out_w,
                      uint32_t *out_h, aec_layout *out_layout)
{
    if (!d)
        return AEC_ERR_INVALID_ARGUMENT;
    if (!data || !out || !out_w || !out_h)
        return aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT, "NULL input or output pointer");
    *out = NULL;
    destination dst = {out, NULL, 0, 0};
    dec_output o;
    aec_status st = decode_call(d, data, size, params, &dst, &o);
    if (st == AEC_OK) {
        *out_w = o.ow, *out_h = o.oh;
        if (out_layout)
            *out_layout = (aec_layout)o.layout;
    }
    return st;
}

aec_status aec_decode_into(aec_decoder *d, const uint8_t *data, size_t size,
                           const aec_decode_params *params, uint8_t *pixels, size_t stride,
                           size_t buffer_size)
{
    if (!d)
        return AEC_ERR_INVALID_ARGUMENT;
    if (!data)
        return aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT, "NULL input pointer");
    destination dst = {NULL, pixels, stride, buffer_size};
    dec_output o;
    return decode_call(d, data, size, params, &dst, &o);
}

void aec_decoder_last_progress(const aec_decoder *d, aec_progress *progress)
{
    if (!progress)
        return;
    memset(progress, 0, sizeof *progress);
    if (d)
        *progress = d->progress;
}

/* ---- header-only questions ---------------------------------------------- */

aec_status aec_decode_size(const uint8_t *data, size_t size, const aec_decode_params *params,
                           uint32_t *out_w, uint32_t *out_h, aec_layout *out_layout)
{
    if (!data || !out_w || !out_h)
        return AEC_ERR_INVALID_ARGUMENT;
    aec_decode_params p;
    aec_decode_params_default(&p);
    if (params)
        p = *params;
    aecb_header h;
    uint64_t need;
    char err[AEC_ERR_BYTES];
    aec_status st = aec_dec_parse(data, size, NULL, 1, &h, &need, err);
    if (st != AEC_OK)
        return st;
    dec_output o;
    st = aec_dec_output_geometry(&h, &p, &o, err);
    if (st == AEC_OK) {
        *out_w = o.ow, *out_h = o.oh;
        if (out_layout)
            *out_layout = (aec_layout)o.layout;
    }
    aecb_header_free(&h);
    return st;
}

aec_status aec_probe_prefix(const uint8_t *data, size_t size, const aec_decode_params *params,
                            aec_progress *progress)
{
    if (!data || !progress)
        return AEC_ERR_INVALID_ARGUMENT;
    memset(progress, 0, sizeof *progress);
    aec_decode_params p;
    aec_decode_params_default(&p);
    if (params)
        p = *params;
    p.partial = 1;
    if (p.stages < 0)
        return AEC_ERR_INVALID_ARGUMENT;
    aecb_header h;
    uint64_t need;
    char err[AEC_ERR_BYTES];
    aec_status st = aec_dec_parse(data, size, NULL, 1, &h, &need, err);
    if (st != AEC_OK) {
        progress->next_bytes = need;
        return st;
    }
    dec_plan plan;
    st = aec_dec_plan(&h, size, &p, &plan, err);
    if (st == AEC_OK)
        *progress = plan.progress;
    aec_dec_plan_free(&plan);
    aecb_header_free(&h);
    return st;
}
