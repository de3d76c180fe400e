/* decoder.c - aec_decode: bitstream v1 -> indices -> codebook look-up ->
 * decoder network -> pixels.
 *
 * The indices of every tile the output needs (the requested region plus the
 * decoder's halo) are entropy-decoded first, one byte per latent and stage.
 * Then each output tile is decoded in parallel from the latents of itself
 * and its neighbours within aem_decoder_halo latents, which is exactly the
 * decoder's receptive field, so the tiled output equals the untiled one. */
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "bitstream/container.h"
#include "bitstream/zstream.h"
#include "common/context.h"
#include "model/network.h"
#include "vq/rvq.h"

#define MAX_MODELS 8

struct aec_decoder {
    const aec_model *models[MAX_MODELS];
    int n_models;
    int threads;
    aec_limits limits;
    char err[AEC_ERR_BYTES];
};

void aec_decode_params_default(aec_decode_params *p) { memset(p, 0, sizeof *p); }

aec_status aec_decoder_create(aec_decoder **out, const aec_model *model)
{
    if (!out)
        return AEC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    if (!model)
        model = aec_model_default();
    if (!model)
        return AEC_ERR_BAD_MODEL;
    aec_decoder *d = calloc(1, sizeof *d);
    if (!d)
        return AEC_ERR_OUT_OF_MEMORY;
    d->models[d->n_models++] = model;
    aec_limits_default(&d->limits);
    *out = d;
    return AEC_OK;
}

aec_status aec_decoder_add_model(aec_decoder *d, const aec_model *model)
{
    if (!d || !model)
        return AEC_ERR_INVALID_ARGUMENT;
    if (d->n_models == MAX_MODELS)
        return aec_fail(d->err, AEC_ERR_LIMIT, "a decoder holds at most %d models", MAX_MODELS);
    d->models[d->n_models++] = model;
    return AEC_OK;
}

void aec_decoder_destroy(aec_decoder *d) { free(d); }
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
    if (h.flags & AECB_FLAG_ALPHA)
        info->alpha_bytes = h.sizes[AECB_ALPHA_STREAM];
    for (int s = 0; s < h.stages && s < 16; s++)
        for (uint32_t t = 0; t < h.n_tiles; t++)
            info->stage_bytes[s] += h.sizes[aecb_stream_index(&h, s, t)];
    aecb_header_free(&h);
    return AEC_OK;
}

/* Everything one decode call shares between its tiles. */
typedef struct {
    const aec_model *m;
    const aecb_header *h;
    const uint8_t *data;
    size_t size;
    int stages;
    /* indices of the needed latent rectangle [gx0,gx1) x [gy0,gy1) */
    int gx0, gy0, gw, gh;
    uint8_t *idx; /* [stage][gh][gw] */
    const ZSTD_DDict *dict; /* the model's dictionary when the file uses it */
    /* output region */
    uint32_t rx, ry, rw, rh;
    int out_channels;
    uint8_t *out;
} decode_job;

static int clampi(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

/* Entropy-decodes tile t's streams into the shared index rectangle. */
static aec_status unpack_tile(decode_job *j, uint32_t t, ZSTD_DCtx *dz, uint8_t *buf, char *err)
{
    const aecb_header *h = j->h;
    int P = h->block_size, K = j->m->cfg.codes;
    uint32_t x0, y0, tw, th, lw, lh;
    aecb_tile_rect(h, t, &x0, &y0, &tw, &th);
    aecb_tile_latents(h, t, &lw, &lh);
    int lx0 = (int)x0 / P - j->gx0, ly0 = (int)y0 / P - j->gy0;
    size_t n = (size_t)lw * lh;
    for (int s = 0; s < j->stages; s++) {
        uint32_t i = aecb_stream_index(h, s, t);
        aec_status st = aecb_check_stream(h, j->data, j->size, i, err, AEC_ERR_BYTES);
        if (st == AEC_OK)
            st = aecb_zstd_decompress(dz, j->dict, j->data + h->offsets[i], h->sizes[i], buf, n, err,
                                      AEC_ERR_BYTES);
        if (st != AEC_OK)
            return st;
        for (size_t k = 0; k < n; k++)
            if (buf[k] >= K)
                return aec_fail(err, AEC_ERR_CORRUPT,
                                "index %d in tile %u stage %d is outside the codebook (%d codes)",
                                buf[k], t, s + 1, K);
        /* Keep the part of the tile inside the needed rectangle. */
        int cx0 = lx0 > 0 ? lx0 : 0, cx1 = lx0 + (int)lw < j->gw ? lx0 + (int)lw : j->gw;
        int cy0 = ly0 > 0 ? ly0 : 0, cy1 = ly0 + (int)lh < j->gh ? ly0 + (int)lh : j->gh;
        for (int y = cy0; y < cy1 && cx1 > cx0; y++)
            memcpy(j->idx + ((size_t)s * j->gh + y) * j->gw + cx0,
                   buf + (size_t)(y - ly0) * lw + (cx0 - lx0), (size_t)(cx1 - cx0));
    }
    return AEC_OK;
}

/* Decodes output tile t and writes its part of the region. */
static aec_status render_tile(decode_job *j, uint32_t t, char *err)
{
    const aecb_header *h = j->h;
    const aec_model *m = j->m;
    const aem_config *c = &m->cfg;
    int P = c->block, halo = aem_decoder_halo(c);
    uint32_t x0, y0, tw, th;
    aecb_tile_rect(h, t, &x0, &y0, &tw, &th);
    aecb_tile_window win;
    aecb_tile_window_of(h, t, halo, &win);
    int hx0 = win.hx0, hy0 = win.hy0;
    int Hs = win.hy1 - hy0, Ws = win.hx1 - hx0;
    size_t N = (size_t)Hs * Ws;
    aem_acts a;
    uint8_t *idx = malloc((size_t)j->stages * N);
    float *pix = malloc(sizeof(float) * 3 * N * P * P);
    if (!idx || !pix || aem_acts_alloc(&a, c, 1, Hs, Ws, 0, 1)) {
        free(idx), free(pix);
        return aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory decoding tile %u", t);
    }
    for (int s = 0; s < j->stages; s++)
        for (int y = 0; y < Hs; y++)
            memcpy(idx + ((size_t)s * Hs + y) * Ws,
                   j->idx + ((size_t)s * j->gh + (hy0 + y - j->gy0)) * j->gw + (hx0 - j->gx0),
                   (size_t)Ws);
    aem_rvq_decode(m, idx, N, j->stages, a.q);
    aem_decoder_forward(m, &a);
    aem_blocks_to_pixels(c, 1, Hs, Ws, a.y, pix);
    /* Intersection of this tile with the region, in image coordinates. */
    uint32_t ix0 = x0 > j->rx ? x0 : j->rx, iy0 = y0 > j->ry ? y0 : j->ry;
    uint32_t ix1 = x0 + tw < j->rx + j->rw ? x0 + tw : j->rx + j->rw;
    uint32_t iy1 = y0 + th < j->ry + j->rh ? y0 + th : j->ry + j->rh;
    int W = Ws * P, H = Hs * P;
    size_t plane = (size_t)W * H;
    int gray = aec_layout_is_gray(h->layout);
    for (uint32_t y = iy0; y < iy1; y++) {
        const float *r = pix + (size_t)(y - (uint32_t)hy0 * P) * W - (size_t)hx0 * P;
        uint8_t *o = j->out + ((size_t)(y - j->ry) * j->rw + (ix0 - j->rx)) * j->out_channels;
        for (uint32_t x = ix0; x < ix1; x++, o += j->out_channels) {
            float v[3];
            for (int ch = 0; ch < 3; ch++)
                v[ch] = r[ch * plane + x];
            if (gray) { /* grey was coded as R=G=B; its luma is the best grey */
                float g = 0.299f * v[0] + 0.587f * v[1] + 0.114f * v[2];
                g = g > 0 ? (g < 1 ? g : 1) : 0; /* NaN (a broken model) -> 0 */
                o[0] = (uint8_t)(g * 255.0f + 0.5f);
            } else {
                for (int ch = 0; ch < 3; ch++) {
                    float s = v[ch] > 0 ? (v[ch] < 1 ? v[ch] : 1) : 0; /* NaN -> 0 */
                    o[ch] = (uint8_t)(s * 255.0f + 0.5f);
                }
            }
        }
    }
    aem_acts_free(&a);
    free(idx), free(pix);
    return AEC_OK;
}

static const aec_model *find_model(const aec_decoder *d, uint64_t id)
{
    for (int i = 0; i < d->n_models; i++)
        if (d->models[i]->id == id)
            return d->models[i];
    return NULL;
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
    aec_decode_params p;
    aec_decode_params_default(&p);
    if (params)
        p = *params;
    aecb_header h;
    aec_status st = aecb_parse(data, size, &d->limits, &h, d->err, AEC_ERR_BYTES);
    if (st != AEC_OK)
        return st;
    decode_job j;
    memset(&j, 0, sizeof j);
    aec_status *status = NULL;
    uint8_t *plane = NULL; /* the alpha stream, decompressed */
    const aec_model *m = find_model(d, h.model_id);
    if (!m) {
        st = aec_fail(d->err, AEC_ERR_MODEL_MISMATCH,
                      "file was coded with model %016llx, which this decoder lacks (it has %s, "
                      "%016llx); load that model with --model",
                      (unsigned long long)h.model_id, d->models[0]->name,
                      (unsigned long long)d->models[0]->id);
        goto done;
    }
    if (h.block_size != m->cfg.block) { /* spec/bitstream.md, decoding step 17 */
        st = aec_fail(d->err, AEC_ERR_MODEL_MISMATCH,
                      "file has block size %d, model %s has %d", h.block_size, m->name,
                      m->cfg.block);
        goto done;
    }
    if (h.stages > m->cfg.stages || ((h.flags & AECB_FLAG_DICT) && !m->dict_size)) {
        st = aec_fail(d->err, AEC_ERR_CORRUPT,
                      "header does not fit model %s (block %d, %d stages, dictionary %s)",
                      m->name, h.block_size, h.stages, (h.flags & AECB_FLAG_DICT) ? "yes" : "no");
        goto done;
    }
    if (p.stages < 0) {
        st = aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT, "stages must be 0 (all) or positive");
        goto done;
    }
    int stages = h.stages_available;
    if (p.stages > 0 && p.stages < stages)
        stages = p.stages;
    if (p.w == 0 && p.h == 0)
        p.x = 0, p.y = 0, p.w = h.width, p.h = h.height;
    if (p.w == 0 || p.h == 0 || p.x >= h.width || p.y >= h.height || p.w > h.width - p.x ||
        p.h > h.height - p.y) {
        st = aec_fail(d->err, AEC_ERR_INVALID_ARGUMENT,
                      "region %u,%u %ux%u is not inside the %ux%u image", p.x, p.y, p.w, p.h,
                      h.width, h.height);
        goto done;
    }
    int P = m->cfg.block, halo = aem_decoder_halo(&m->cfg), T = h.tile_size;
    int grid_w = (int)((h.width + P - 1) / P), grid_h = (int)((h.height + P - 1) / P);
    /* Output tiles touching the region, and the latents they read. */
    int tx0 = (int)p.x / T, tx1 = (int)(p.x + p.w - 1) / T + 1;
    int ty0 = (int)p.y / T, ty1 = (int)(p.y + p.h - 1) / T + 1;
    j.gx0 = clampi(tx0 * T / P - halo, 0, grid_w), j.gy0 = clampi(ty0 * T / P - halo, 0, grid_h);
    int gx1 = clampi(tx1 * T / P + halo, 0, grid_w), gy1 = clampi(ty1 * T / P + halo, 0, grid_h);
    j.gw = gx1 - j.gx0, j.gh = gy1 - j.gy0;
    /* Tiles whose latents overlap that rectangle must be entropy-decoded. */
    int ux0 = j.gx0 * P / T, ux1 = ((gx1 * P) - 1) / T + 1;
    int uy0 = j.gy0 * P / T, uy1 = ((gy1 * P) - 1) / T + 1;
    j.m = m, j.h = &h, j.data = data, j.size = size, j.stages = stages;
    ZSTD_DDict *ddict = NULL;
    if (h.flags & AECB_FLAG_DICT) { /* checked above: the model has one */
        ddict = ZSTD_createDDict(m->dict, m->dict_size);
        if (!ddict) {
            st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "cannot load the model's dictionary");
            goto done;
        }
        j.dict = ddict;
    }
    j.rx = p.x, j.ry = p.y, j.rw = p.w, j.rh = p.h;
    j.out_channels = h.layout;
    j.idx = malloc((size_t)stages * j.gw * j.gh);
    int n_unpack = (ux1 - ux0) * (uy1 - uy0), n_render = (tx1 - tx0) * (ty1 - ty0);
    status = calloc((size_t)(n_unpack > n_render ? n_unpack : n_render), sizeof *status);
    char(*errs)[AEC_ERR_BYTES] = calloc((size_t)(n_unpack > n_render ? n_unpack : n_render),
                                        AEC_ERR_BYTES);
    if (!j.idx || !status || !errs) {
        free(errs);
        st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for a %ux%u image", p.w, p.h);
        goto done;
    }
#ifdef _OPENMP
    int threads = d->threads > 0 ? d->threads : omp_get_max_threads();
#else
    int threads = 1;
    (void)threads;
#endif
    size_t max_tile_latents = (size_t)(T / P) * (T / P);
#pragma omp parallel num_threads(threads)
    {
        ZSTD_DCtx *dz = ZSTD_createDCtx();
        uint8_t *buf = malloc(max_tile_latents);
#pragma omp for schedule(dynamic, 1)
        for (int k = 0; k < n_unpack; k++) {
            uint32_t t = (uint32_t)((uy0 + k / (ux1 - ux0)) * (int)h.tiles_x + ux0 + k % (ux1 - ux0));
            status[k] = (dz && buf) ? unpack_tile(&j, t, dz, buf, errs[k])
                                    : aec_fail(errs[k], AEC_ERR_OUT_OF_MEMORY, "out of memory");
        }
        free(buf);
        ZSTD_freeDCtx(dz);
    }
    for (int k = 0; k < n_unpack && st == AEC_OK; k++)
        if (status[k] != AEC_OK)
            st = aec_fail(d->err, status[k], "%s", errs[k]);
    if (st == AEC_OK && (h.flags & AECB_FLAG_ALPHA)) {
        plane = malloc((size_t)h.width * h.height);
        st = plane ? aecb_check_stream(&h, data, size, AECB_ALPHA_STREAM, d->err, AEC_ERR_BYTES)
                   : aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
        if (st == AEC_OK)
            st = aecb_zstd_decompress(NULL, NULL, data + h.offsets[AECB_ALPHA_STREAM],
                                      h.sizes[AECB_ALPHA_STREAM], plane,
                                      (size_t)h.width * h.height, d->err, AEC_ERR_BYTES);
    }
    /* The output is allocated and the network run only once every stream
     * they need has passed its checks, so a small damaged file cannot make
     * the decoder claim the memory and time of the image its header
     * declares. */
    if (st == AEC_OK) {
        j.out = malloc((size_t)p.w * p.h * j.out_channels);
        if (!j.out)
            st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory for a %ux%u image", p.w,
                          p.h);
    }
    if (st == AEC_OK) {
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
        for (int k = 0; k < n_render; k++) {
            uint32_t t = (uint32_t)((ty0 + k / (tx1 - tx0)) * (int)h.tiles_x + tx0 + k % (tx1 - tx0));
            status[k] = render_tile(&j, t, errs[k]);
        }
        for (int k = 0; k < n_render && st == AEC_OK; k++)
            if (status[k] != AEC_OK)
                st = aec_fail(d->err, status[k], "%s", errs[k]);
    }
    if (st == AEC_OK && plane) {
        /* Unfilter rows y..y+rh into place: prediction runs along rows, so
         * each needed row is rebuilt from its start. */
        uint8_t *row = malloc(h.width);
        if (!row)
            st = aec_fail(d->err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
        for (uint32_t y = 0; row && y < p.h; y++) {
            aecb_alpha_unfilter(row, 1, h.width, plane + (size_t)(p.y + y) * h.width, h.width, 1);
            uint8_t *o = j.out + (size_t)y * p.w * j.out_channels + j.out_channels - 1;
            for (uint32_t x = 0; x < p.w; x++)
                o[(size_t)x * j.out_channels] = row[p.x + x];
        }
        free(row);
    }
    free(errs);
    if (st == AEC_OK) {
        *out = j.out, j.out = NULL;
        *out_w = p.w, *out_h = p.h;
        if (out_layout)
            *out_layout = (aec_layout)h.layout;
    }
done:
    ZSTD_freeDDict((ZSTD_DDict *)j.dict);
    free(plane);
    free(status);
    free(j.idx);
    free(j.out);
    aecb_header_free(&h);
    return st;
}
