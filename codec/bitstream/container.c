/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * container.c - header, stream table and checksums of bitstream v1.
 * The format and the order of the checks are specified in spec/bitstream.md.
 */
#include "bitstream/container.h"
#include "bitstream/lattice_stream.h"
#include "common/context.h"
#include "bitstream/residual_stream.h"
#include "bitstream/wiener_stream.h"
#include "vq/residual.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

/* ---- small helpers ------------------------------------------------------ */

void aecb_seterr(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static uint16_t aecb_rd16(const uint8_t *p) { return (uint16_t)(p[0] | (p[1] << 8)); }
static uint32_t aecb_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static uint64_t aecb_rd64(const uint8_t *p)
{
    return (uint64_t)aecb_rd32(p) | ((uint64_t)aecb_rd32(p + 4) << 32);
}
static void aecb_wr16(uint8_t *p, uint16_t v)
{
    p[0] = (uint8_t)v;
    p[1] = (uint8_t)(v >> 8);
}
static void aecb_wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void aecb_wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* ---- CRC-32 ------------------------------------------------------------- */

/* CRC-32 (ISO-HDLC, the one of PNG and zlib) is zlib's: it runs at
 * memory speed (several bytes per step) where a byte-at-a-time table
 * does not, and libpng already brings zlib to every program that reads
 * PNG. */
uint32_t aecb_crc32(uint32_t crc, const void *data, size_t n)
{
    return data ? (uint32_t)crc32_z(crc, (const Bytef *)data, n) : crc;
}

/* ---- geometry ----------------------------------------------------------- */

size_t aecb_header_table_size(uint32_t n_streams)
{
    return (size_t)n_streams * AECB_ENTRY_BYTES;
}

uint64_t aecb_compress_bound(uint64_t n)
{
    return n + (n >> 8) + (n < (128u << 10) ? ((128u << 10) - n) >> 11 : 0);
}

uint32_t aecb_stream_index(const aecb_header *h, int stage, uint32_t tile)
{
    uint32_t base = (h->flags & AECB_FLAG_ALPHA) ? 1u : 0u;
    return base + (uint32_t)stage * h->n_tiles + tile;
}

uint32_t aecb_lattice_stream_index(const aecb_header *h, uint32_t tile)
{
    return aecb_stream_index(h, h->stages, tile);
}

/* Layers stack after the stages in the table, as more stages would. */
uint32_t aecb_layer_stream_index(const aecb_header *h, int layer, uint32_t tile)
{
    return aecb_stream_index(h, h->stages + layer, tile);
}

/* Channel at which layer l starts: 0, 8, 16, 32, ... */
static uint32_t layer_start(int l)
{
    return l == 0 ? 0u : AECB_LAYER0_CHANNELS << (l - 1);
}

int aecb_layers_for(uint32_t lattice_dim)
{
    int L = 1;
    while (layer_start(L) < lattice_dim)
        L++;
    return L;
}

void aecb_layer_channels(const aecb_header *h, int layer, uint32_t *first, uint32_t *count)
{
    uint32_t D = h->lattice_dim;
    if (!(h->flags & AECB_FLAG_LAYERED)) {
        *first = 0, *count = D;
        return;
    }
    uint32_t a = layer_start(layer), b = layer_start(layer + 1);
    *first = a < D ? a : D;
    *count = (b < D ? b : D) - *first;
}

uint32_t aecb_residual_stream_index(const aecb_header *h, uint32_t tile)
{
    return aecb_stream_index(h, h->stages + h->lattice_layers, tile);
}

int aecb_residual_colours(const aecb_header *h) { return aec_layout_is_gray(h->layout) ? 1 : 3; }

/* Whether table index i (past the alpha stream, if any: i - alpha) is a
 * residual stream. */
static int aecb_is_residual(const aecb_header *h, uint32_t i_past_alpha)
{
    return (h->flags & AECB_FLAG_RESIDUAL) &&
           i_past_alpha / h->n_tiles == (uint32_t)(h->stages + h->lattice_layers);
}

uint32_t aecb_metadata_stream_index(const aecb_header *h) { return h->n_streams - 1u; }

uint32_t aecb_filter_stream_index(const aecb_header *h)
{
    return h->n_streams - 1u - ((h->flags & AECB_FLAG_METADATA) ? 1u : 0u);
}

static int aecb_is_filter_stream(const aecb_header *h, uint32_t i)
{
    return h->version >= AECB_VERSION_FILTER && i == aecb_filter_stream_index(h);
}

static int aecb_is_metadata_stream(const aecb_header *h, uint32_t i)
{
    return (h->flags & AECB_FLAG_METADATA) && i == aecb_metadata_stream_index(h);
}

void aecb_tile_rect(const aecb_header *h, uint32_t tile, uint32_t *x0, uint32_t *y0,
                    uint32_t *w, uint32_t *hgt)
{
    uint32_t tx = tile % h->tiles_x, ty = tile / h->tiles_x;
    uint32_t T = h->tile_size;
    uint32_t X = tx * T, Y = ty * T;
    if (x0)
        *x0 = X;
    if (y0)
        *y0 = Y;
    if (w)
        *w = (h->coded_w - X < T) ? h->coded_w - X : T;
    if (hgt)
        *hgt = (h->coded_h - Y < T) ? h->coded_h - Y : T;
}

void aecb_tile_latents(const aecb_header *h, uint32_t tile, uint32_t *lw, uint32_t *lh)
{
    uint32_t w, hh;
    aecb_tile_rect(h, tile, NULL, NULL, &w, &hh);
    uint32_t B = h->block_size;
    if (lw)
        *lw = (w + B - 1) / B;
    if (lh)
        *lh = (hh + B - 1) / B;
}

uint64_t aecb_stream_raw_size(const aecb_header *h, uint32_t i)
{
    if (aecb_is_metadata_stream(h, i))
        return AECB_MAX_METADATA;
    if (aecb_is_filter_stream(h, i))
        return aecb_wiener_raw_size(AEM_WIENER_MAX_CLASSES, aecb_residual_colours(h));
    if (h->flags & AECB_FLAG_ALPHA) {
        if (i == 0)
            return (uint64_t)h->width * h->height;
        i--;
    }
    uint32_t lw, lh, first, count;
    if (aecb_is_residual(h, i)) {
        uint32_t tw, th;
        aecb_tile_rect(h, i % h->n_tiles, NULL, NULL, &tw, &th);
        return aem_residual_raw_size(tw, th, aecb_residual_colours(h));
    }
    aecb_tile_latents(h, i % h->n_tiles, &lw, &lh);
    if (i / h->n_tiles >= h->stages) { /* a lattice stream */
        aecb_layer_channels(h, (int)(i / h->n_tiles - h->stages), &first, &count);
        return 2ull * count * lw * lh;
    }
    return (uint64_t)lw * lh;
}

uint64_t aecb_stream_bound(const aecb_header *h, uint32_t i)
{
    if (aecb_is_metadata_stream(h, i))
        return AECB_MAX_METADATA;
    if (aecb_is_filter_stream(h, i))
        return aecb_wiener_bound(aecb_residual_colours(h));
    uint64_t b = aecb_compress_bound(aecb_stream_raw_size(h, i));
    uint32_t a = (h->flags & AECB_FLAG_ALPHA) ? 1 : 0;
    if (i >= a && aecb_is_residual(h, i - a)) {
        uint32_t tw, th;
        aecb_tile_rect(h, (i - a) % h->n_tiles, NULL, NULL, &tw, &th);
        b = aecb_residual_bound((size_t)aecb_residual_colours(h), aem_residual_blocks(tw, th));
    }
    if ((h->flags & AECB_FLAG_SPLIT) && i >= a + (uint32_t)h->stages * h->n_tiles &&
        !aecb_is_residual(h, i - a)) {
        uint32_t lw, lh, first, count;
        aecb_tile_latents(h, (i - a) % h->n_tiles, &lw, &lh);
        aecb_layer_channels(h, (int)((i - a) / h->n_tiles - h->stages), &first, &count);
        b = aecb_split_bound_at(first, count, (size_t)lw * lh);
    }
    return b > UINT32_MAX ? UINT32_MAX : b;
}

/* Range checks of the stored structural fields shared by init and parse.
 * Returns 0 when fine, else writes a message and returns 1. */
static int aecb_check_fields(const aecb_header *h, char *err, size_t errlen)
{
    if (h->version < AECB_VERSION || h->version > AECB_VERSION_FILTER) {
        aecb_seterr(err, errlen, "invalid bitstream version %u (must be 1..2)", h->version);
        return 1;
    }
    if (h->layout < 1 || h->layout > 4) {
        aecb_seterr(err, errlen, "invalid layout %u (must be 1..4)", h->layout);
        return 1;
    }
    int lattice = (h->flags & AECB_FLAG_LATTICE) != 0;
    if (h->stages < (lattice ? 0 : 1) || h->stages > AECB_MAX_STAGES) {
        aecb_seterr(err, errlen, "invalid stage count %u (must be %d..16)", h->stages,
                    lattice ? 0 : 1);
        return 1;
    }
    if ((h->flags & (AECB_FLAG_SPLIT | AECB_FLAG_LAYERED)) && !lattice) {
        aecb_seterr(err, errlen, "%s lattice layout without a lattice layer",
                    (h->flags & AECB_FLAG_SPLIT) ? "split" : "layered");
        return 1;
    }
    if (lattice && (h->lattice_dim == 0 || h->lattice_step_q == 0)) {
        aecb_seterr(err, errlen, "lattice refinement with %u channels and step %u/2^20",
                    h->lattice_dim, h->lattice_step_q);
        return 1;
    }
    int has_alpha = (h->layout == AEC_GRAY_ALPHA || h->layout == AEC_RGBA);
    if (!!(h->flags & AECB_FLAG_ALPHA) != has_alpha) {
        aecb_seterr(err, errlen, "alpha flag %d inconsistent with layout %u",
                    (h->flags & AECB_FLAG_ALPHA) ? 1 : 0, h->layout);
        return 1;
    }
    if ((h->flags & AECB_FLAG_HALF) && has_alpha) { /* alpha is lossless, at full size */
        aecb_seterr(err, errlen, "half-size coding with an alpha plane");
        return 1;
    }
    if ((h->flags & AECB_FLAG_RESIDUAL) && (!lattice || (h->flags & AECB_FLAG_HALF))) {
        aecb_seterr(err, errlen, "pixel residual layer %s",
                    lattice ? "on a half-size picture" : "without a lattice layer");
        return 1;
    }
    if (h->tile_size < AECB_MIN_TILE || h->tile_size > AECB_MAX_TILE ||
        h->tile_size % 64 != 0) {
        aecb_seterr(err, errlen, "invalid tile size %u (must be a multiple of 64 in 64..1024)",
                    h->tile_size);
        return 1;
    }
    uint8_t B = h->block_size;
    if (B == 0 || B > 64 || (B & (B - 1)) != 0) {
        aecb_seterr(err, errlen, "invalid block size %u (must be a power of two in 1..64)", B);
        return 1;
    }
    return 0;
}

/* Derived counts; fields must have passed the range checks. */
static void aecb_derive(aecb_header *h)
{
    int half = (h->flags & AECB_FLAG_HALF) != 0;
    h->coded_w = half ? (h->width + 1u) / 2u : h->width;
    h->coded_h = half ? (h->height + 1u) / 2u : h->height;
    h->tiles_x = (h->coded_w + h->tile_size - 1u) / h->tile_size;
    h->tiles_y = (h->coded_h + h->tile_size - 1u) / h->tile_size;
    h->n_tiles = h->tiles_x * h->tiles_y;
    h->lattice_layers = !(h->flags & AECB_FLAG_LATTICE)  ? 0
                        : !(h->flags & AECB_FLAG_LAYERED) ? 1
                                                          : aecb_layers_for(h->lattice_dim);
    h->n_streams = ((h->flags & AECB_FLAG_ALPHA) ? 1u : 0u) + (uint32_t)h->stages * h->n_tiles +
                   (uint32_t)h->lattice_layers * h->n_tiles +
                   ((h->flags & AECB_FLAG_RESIDUAL) ? h->n_tiles : 0u) +
                   (h->version >= AECB_VERSION_FILTER ? 1u : 0u) +
                   ((h->flags & AECB_FLAG_METADATA) ? 1u : 0u);
    h->header_bytes = AECB_HEADER_BYTES;
    h->table_bytes = (uint32_t)aecb_header_table_size(h->n_streams);
}

static aec_status aecb_alloc_arrays(aecb_header *h)
{
    size_t n = h->n_streams;
    h->sizes = (uint32_t *)calloc(n, sizeof(uint32_t));
    h->crcs = (uint32_t *)calloc(n, sizeof(uint32_t));
    h->offsets = (uint64_t *)calloc(n, sizeof(uint64_t));
    if (!h->sizes || !h->crcs || !h->offsets) {
        aecb_header_free(h);
        return AEC_ERR_OUT_OF_MEMORY;
    }
    return AEC_OK;
}

void aecb_header_free(aecb_header *h)
{
    if (!h)
        return;
    free(h->sizes);
    free(h->crcs);
    free(h->offsets);
    h->sizes = h->crcs = NULL;
    h->offsets = NULL;
}

/* ---- writer ------------------------------------------------------------- */

aec_status aecb_header_init(aecb_header *h, char *err, size_t errlen)
{
    if (!h) {
        aecb_seterr(err, errlen, "NULL header");
        return AEC_ERR_INVALID_ARGUMENT;
    }
    h->sizes = h->crcs = NULL;
    h->offsets = NULL;
    if (h->width < 1 || h->width > AECB_MAX_DIMENSION || h->height < 1 ||
        h->height > AECB_MAX_DIMENSION) {
        aecb_seterr(err, errlen, "image size %ux%u outside the format's 1..65535", h->width,
                    h->height);
        return AEC_ERR_INVALID_ARGUMENT;
    }
    if (h->flags & ~AECB_FLAGS_KNOWN) {
        aecb_seterr(err, errlen, "unknown flags 0x%02x", h->flags);
        return AEC_ERR_INVALID_ARGUMENT;
    }
    if (!h->version)
        h->version = AECB_VERSION;
    if (!(h->flags & AECB_FLAG_LATTICE))
        h->lattice_dim = 0, h->lattice_step_q = 0;
    if (aecb_check_fields(h, err, errlen))
        return AEC_ERR_INVALID_ARGUMENT;
    aecb_derive(h);
    h->file_size = 0;
    h->stages_available = h->stages;
    h->lattice_available = (h->flags & AECB_FLAG_LATTICE) != 0;
    h->lattice_layers_available = h->lattice_layers;
    h->residual_available = (h->flags & AECB_FLAG_RESIDUAL) != 0;
    h->filter_available = h->version >= AECB_VERSION_FILTER;
    if (aecb_alloc_arrays(h) != AEC_OK) {
        aecb_seterr(err, errlen, "out of memory for a table of %u streams", h->n_streams);
        return AEC_ERR_OUT_OF_MEMORY;
    }
    return AEC_OK;
}

static void aecb_put_header(const aecb_header *h, uint8_t *p)
{
    memset(p, 0, AECB_HEADER_BYTES);
    p[0] = AECB_MAGIC0;
    p[1] = AECB_MAGIC1;
    p[2] = AECB_MAGIC2;
    p[3] = AECB_MAGIC3;
    p[4] = h->version;
    p[5] = h->layout;
    p[6] = h->stages;
    p[7] = h->flags;
    aecb_wr32(p + 8, h->width);
    aecb_wr32(p + 12, h->height);
    aecb_wr16(p + 16, h->tile_size);
    p[18] = h->block_size;
    p[19] = h->lattice_dim;
    aecb_wr32(p + 20, h->n_streams);
    aecb_wr64(p + 24, h->model_id);
    aecb_wr64(p + 32, h->file_size);
    aecb_wr32(p + 40, h->lattice_step_q);
    /* p[44..47]: CRC, filled by the caller once the table is written */
}

aec_status aecb_write(aecb_header *h, const uint8_t *const *streams, uint8_t **out,
                      size_t *out_size)
{
    if (!h || !out || !out_size || !h->sizes || !h->crcs || !h->offsets ||
        (h->n_streams && !streams))
        return AEC_ERR_INVALID_ARGUMENT;
    *out = NULL;
    *out_size = 0;
    uint64_t pos = (uint64_t)AECB_HEADER_BYTES + h->table_bytes;
    for (uint32_t i = 0; i < h->n_streams; i++) {
        if (h->sizes[i] == 0 || h->sizes[i] > aecb_stream_bound(h, i) || !streams[i])
            return AEC_ERR_INVALID_ARGUMENT;
        h->offsets[i] = pos;
        pos += h->sizes[i];
    }
    if (pos > SIZE_MAX)
        return AEC_ERR_LIMIT;
    h->file_size = pos;
    uint8_t *buf = (uint8_t *)malloc((size_t)pos);
    if (!buf)
        return AEC_ERR_OUT_OF_MEMORY;
    aecb_put_header(h, buf);
    uint8_t *t = buf + AECB_HEADER_BYTES;
    for (uint32_t i = 0; i < h->n_streams; i++) {
        h->crcs[i] = aecb_crc32(0, streams[i], h->sizes[i]);
        aecb_wr32(t + (size_t)i * AECB_ENTRY_BYTES, h->sizes[i]);
        aecb_wr32(t + (size_t)i * AECB_ENTRY_BYTES + 4, h->crcs[i]);
        memcpy(buf + h->offsets[i], streams[i], h->sizes[i]);
    }
    uint32_t crc = aecb_crc32(0, buf, 44);
    crc = aecb_crc32(crc, t, h->table_bytes);
    aecb_wr32(buf + 44, crc);
    *out = buf;
    *out_size = (size_t)pos;
    return AEC_OK;
}

/* ---- reader ------------------------------------------------------------- */

aec_status aecb_parse(const uint8_t *data, size_t size, const aec_limits *lim,
                      aecb_header *h, char *err, size_t errlen)
{
    static const uint8_t magic[4] = {AECB_MAGIC0, AECB_MAGIC1, AECB_MAGIC2, AECB_MAGIC3};
    if (!h || (!data && size)) {
        aecb_seterr(err, errlen, "NULL argument");
        return AEC_ERR_INVALID_ARGUMENT;
    }
    memset(h, 0, sizeof *h);
    uint64_t max_dim = lim ? lim->max_dimension : AEC_MAX_DIMENSION;
    uint64_t max_pix = lim ? lim->max_pixels : AEC_DEFAULT_MAX_PIXELS;

    /* 1. magic */
    size_t nm = size < 4 ? size : 4;
    if (memcmp(data ? data : magic, magic, nm) != 0) {
        aecb_seterr(err, errlen, "not an aecodec file (wrong magic)");
        return AEC_ERR_NOT_AEC;
    }
    if (size < 5) {
        aecb_seterr(err, errlen, "file truncated in the header (%zu of 48 bytes)", size);
        return AEC_ERR_TRUNCATED;
    }
    /* 2. version */
    if (data[4] < AECB_VERSION || data[4] > AECB_VERSION_FILTER) {
        aecb_seterr(err, errlen, "bitstream version %u not supported (this decoder reads 1 and 2)",
                    data[4]);
        return AEC_ERR_UNSUPPORTED;
    }
    /* 3. header length */
    if (size < AECB_HEADER_BYTES) {
        aecb_seterr(err, errlen, "file truncated in the header (%zu of 48 bytes)", size);
        return AEC_ERR_TRUNCATED;
    }
    h->version = data[4];
    h->layout = data[5];
    h->stages = data[6];
    h->flags = data[7];
    h->width = aecb_rd32(data + 8);
    h->height = aecb_rd32(data + 12);
    h->tile_size = aecb_rd16(data + 16);
    h->block_size = data[18];
    uint8_t reserved8 = data[19];
    uint32_t stream_count = aecb_rd32(data + 20);
    h->model_id = aecb_rd64(data + 24);
    h->file_size = aecb_rd64(data + 32);
    uint32_t reserved32 = aecb_rd32(data + 40);
    uint32_t stored_crc = aecb_rd32(data + 44);

    /* 4. flags */
    if (h->flags & ~AECB_FLAGS_KNOWN) {
        aecb_seterr(err, errlen, "unknown flags 0x%02x set (feature not supported)",
                    h->flags & ~AECB_FLAGS_KNOWN);
        return AEC_ERR_UNSUPPORTED;
    }
    /* 5. dimensions against the format and the caller's limits */
    if (h->width == 0 || h->height == 0) {
        aecb_seterr(err, errlen, "file declares %ux%u pixels (zero size, file corrupt)",
                    h->width, h->height);
        return AEC_ERR_CORRUPT;
    }
    if (max_dim > AECB_MAX_DIMENSION)
        max_dim = AECB_MAX_DIMENSION;
    if (h->width > max_dim || h->height > max_dim) {
        aecb_seterr(err, errlen, "file declares %ux%u pixels, above the limit of %llu",
                    h->width, h->height, (unsigned long long)max_dim);
        return AEC_ERR_LIMIT;
    }
    uint64_t pixels = (uint64_t)h->width * h->height;
    if (pixels > max_pix) {
        aecb_seterr(err, errlen,
                    "file declares %ux%u = %llu pixels, above the limit of %llu pixels",
                    h->width, h->height, (unsigned long long)pixels,
                    (unsigned long long)max_pix);
        return AEC_ERR_LIMIT;
    }
    /* 6. other structural fields (the lattice fields only when flagged:
     *    otherwise they are reserved, checked in step 10) */
    if (h->flags & AECB_FLAG_LATTICE)
        h->lattice_dim = reserved8, h->lattice_step_q = reserved32;
    if (aecb_check_fields(h, err, errlen)) {
        size_t l = err ? strlen(err) : 0;
        if (err && l + 16 < errlen)
            snprintf(err + l, errlen - l, " (file corrupt)");
        return AEC_ERR_CORRUPT;
    }
    /* 7. stream count */
    aecb_derive(h);
    if (stream_count != h->n_streams) {
        aecb_seterr(err, errlen, "header declares %u streams, its geometry needs %u (file corrupt)",
                    stream_count, h->n_streams);
        return AEC_ERR_CORRUPT;
    }
    /* 8. table present */
    uint64_t head = (uint64_t)AECB_HEADER_BYTES + h->table_bytes;
    if (size < head) {
        aecb_seterr(err, errlen, "file truncated in the stream table (%zu of %llu bytes)", size,
                    (unsigned long long)head);
        return AEC_ERR_TRUNCATED;
    }
    /* 9. header checksum */
    const uint8_t *t = data + AECB_HEADER_BYTES;
    uint32_t crc = aecb_crc32(aecb_crc32(0, data, 44), t, h->table_bytes);
    if (crc != stored_crc) {
        aecb_seterr(err, errlen, "header checksum mismatch (file corrupt)");
        return AEC_ERR_CORRUPT;
    }
    /* 10. reserved fields */
    if (!(h->flags & AECB_FLAG_LATTICE) && (reserved8 != 0 || reserved32 != 0)) {
        aecb_seterr(err, errlen, "reserved header fields are not zero (feature not supported)");
        return AEC_ERR_UNSUPPORTED;
    }
    /* 11. stream sizes and file size */
    if (aecb_alloc_arrays(h) != AEC_OK) {
        aecb_seterr(err, errlen, "out of memory for a table of %u streams", h->n_streams);
        return AEC_ERR_OUT_OF_MEMORY;
    }
    uint64_t pos = head;
    for (uint32_t i = 0; i < h->n_streams; i++) {
        uint32_t sz = aecb_rd32(t + (size_t)i * AECB_ENTRY_BYTES);
        uint64_t bound = aecb_stream_bound(h, i);
        if (sz == 0 || sz > bound) {
            aecb_seterr(err, errlen,
                        "stream %u declares %u bytes, outside 1..%llu (file corrupt)", i, sz,
                        (unsigned long long)bound);
            aecb_header_free(h);
            return AEC_ERR_CORRUPT;
        }
        h->sizes[i] = sz;
        h->crcs[i] = aecb_rd32(t + (size_t)i * AECB_ENTRY_BYTES + 4);
        h->offsets[i] = pos;
        pos += sz; /* < 2^25 entries of < 2^32 bytes: no overflow */
    }
    if (pos != h->file_size) {
        aecb_seterr(err, errlen,
                    "header declares a file of %llu bytes, its table sums to %llu (file corrupt)",
                    (unsigned long long)h->file_size, (unsigned long long)pos);
        aecb_header_free(h);
        return AEC_ERR_CORRUPT;
    }
    /* 12. trailing data */
    if ((uint64_t)size > h->file_size) {
        aecb_seterr(err, errlen, "%llu bytes of unexpected data after the end of the file",
                    (unsigned long long)((uint64_t)size - h->file_size));
        aecb_header_free(h);
        return AEC_ERR_CORRUPT;
    }
    /* 13. available stages and lattice layer */
    h->stages_available = h->stages;
    h->lattice_available = (h->flags & AECB_FLAG_LATTICE) != 0;
    h->lattice_layers_available = h->lattice_layers;
    h->residual_available = (h->flags & AECB_FLAG_RESIDUAL) != 0;
    h->filter_available = h->version >= AECB_VERSION_FILTER;
    if ((uint64_t)size < h->file_size) {
        uint32_t i = 0;
        if (h->flags & AECB_FLAG_ALPHA) {
            if (h->offsets[0] + h->sizes[0] > size) {
                aecb_seterr(err, errlen, "file truncated in the alpha plane (%zu of %llu bytes)",
                            size, (unsigned long long)h->file_size);
                aecb_header_free(h);
                return AEC_ERR_TRUNCATED;
            }
            i = 1;
        }
        int s = 0;
        for (; s < h->stages; s++) {
            uint32_t last = i + (uint32_t)(s + 1) * h->n_tiles - 1;
            if (h->offsets[last] + h->sizes[last] > size)
                break;
        }
        /* The file is shorter than declared, so the last stream (the
         * metadata or the last lattice stream when present) is missing: a
         * truncated file uses no lattice stream unless it is layered, and
         * then only the layers all of whose streams it holds, on top of
         * all the stages. */
        int layers = 0;
        if ((h->flags & AECB_FLAG_LAYERED) && s == h->stages)
            for (; layers < h->lattice_layers; layers++) {
                uint32_t last = i + (uint32_t)(s + layers + 1) * h->n_tiles - 1;
                if (h->offsets[last] + h->sizes[last] > size)
                    break;
            }
        h->lattice_layers_available = layers;
        h->lattice_available = layers > 0 && layers == h->lattice_layers;
        /* The residual layer adds to the whole latent's pixels only. */
        uint32_t last_residual = i + (uint32_t)(s + layers + 1) * h->n_tiles - 1;
        h->residual_available = h->residual_available && h->lattice_available &&
                                h->offsets[last_residual] + h->sizes[last_residual] <= size;
        /* The filter adds to everything before it. */
        uint32_t fi = aecb_filter_stream_index(h);
        h->filter_available = h->filter_available && s == h->stages &&
                              (h->lattice_layers == 0 || h->lattice_available) &&
                              (!(h->flags & AECB_FLAG_RESIDUAL) || h->residual_available) &&
                              h->offsets[fi] + h->sizes[fi] <= size;
        if (s == 0 && layers == 0) {
            aecb_seterr(err, errlen, "file truncated in %s (%zu of %llu bytes)",
                        h->stages ? "stage 1" : "the lattice refinement", size,
                        (unsigned long long)h->file_size);
            aecb_header_free(h);
            return AEC_ERR_TRUNCATED;
        }
        h->stages_available = s;
    }
    if (err && errlen)
        err[0] = '\0';
    return AEC_OK;
}

aec_status aecb_check_stream(const aecb_header *h, const uint8_t *data, size_t size,
                             uint32_t i, char *err, size_t errlen)
{
    if (!h || !h->sizes || i >= h->n_streams || (!data && size)) {
        aecb_seterr(err, errlen, "invalid stream index %u", i);
        return AEC_ERR_INVALID_ARGUMENT;
    }
    uint64_t end = h->offsets[i] + h->sizes[i];
    int alpha = (h->flags & AECB_FLAG_ALPHA) != 0;
    char what[64];
    if (alpha && i == 0)
        snprintf(what, sizeof what, "alpha stream");
    else if (aecb_is_metadata_stream(h, i))
        snprintf(what, sizeof what, "metadata stream");
    else if (aecb_is_filter_stream(h, i))
        snprintf(what, sizeof what, "stream %u (restoration filter)", i);
    else if (aecb_is_residual(h, i - (uint32_t)alpha))
        snprintf(what, sizeof what, "stream %u (pixel residual, tile %u)", i,
                 (i - (uint32_t)alpha) % h->n_tiles);
    else if ((i - (uint32_t)alpha) / h->n_tiles >= h->stages && h->lattice_layers > 1)
        snprintf(what, sizeof what, "stream %u (lattice layer %u, tile %u)", i,
                 (i - (uint32_t)alpha) / h->n_tiles - h->stages,
                 (i - (uint32_t)alpha) % h->n_tiles);
    else if ((i - (uint32_t)alpha) / h->n_tiles >= h->stages)
        snprintf(what, sizeof what, "stream %u (lattice, tile %u)", i,
                 (i - (uint32_t)alpha) % h->n_tiles);
    else
        snprintf(what, sizeof what, "stream %u (stage %u, tile %u)", i,
                 (i - (uint32_t)alpha) / h->n_tiles + 1, (i - (uint32_t)alpha) % h->n_tiles);
    if (end > size) {
        aecb_seterr(err, errlen, "%s ends at byte %llu, after the end of the data (%zu bytes)",
                    what, (unsigned long long)end, size);
        return AEC_ERR_TRUNCATED;
    }
    if (aecb_crc32(0, data + h->offsets[i], h->sizes[i]) != h->crcs[i]) {
        aecb_seterr(err, errlen, "%s checksum mismatch (file corrupt)", what);
        return AEC_ERR_CORRUPT;
    }
    return AEC_OK;
}

static int clamp_int(int v, int lo, int hi) { return v < lo ? lo : v > hi ? hi : v; }

void aecb_latent_grid(const aecb_header *h, int *grid_w, int *grid_h)
{
    *grid_w = (int)((h->coded_w + h->block_size - 1) / h->block_size);
    *grid_h = (int)((h->coded_h + h->block_size - 1) / h->block_size);
}

void aecb_tile_window_of(const aecb_header *h, uint32_t tile, int halo, aecb_tile_window *w)
{
    uint32_t x0, y0, tw, th, lw, lh;
    int B = h->block_size;
    aecb_tile_rect(h, tile, &x0, &y0, &tw, &th);
    aecb_tile_latents(h, tile, &lw, &lh);
    int grid_w, grid_h;
    aecb_latent_grid(h, &grid_w, &grid_h);
    w->lx0 = (int)x0 / B, w->ly0 = (int)y0 / B, w->lw = (int)lw, w->lh = (int)lh;
    w->hx0 = clamp_int(w->lx0 - halo, 0, grid_w);
    w->hy0 = clamp_int(w->ly0 - halo, 0, grid_h);
    w->hx1 = clamp_int(w->lx0 + w->lw + halo, 0, grid_w);
    w->hy1 = clamp_int(w->ly0 + w->lh + halo, 0, grid_h);
}
