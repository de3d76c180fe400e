/* SPDX-License-Identifier: BSD-3-Clause */
/* residual.c - the encoder's pixel residual layer (spec/bitstream.md 6.10,
 * vq/residual.h): decodes the file the other layers make, exactly as a
 * decoder will, a row of tiles at a time, and codes what it misses of the
 * source, tile by tile. */
#include "enc/residual.h"

#include <stdlib.h>
#include <string.h>

#include "bitstream/container.h"
#include "bitstream/residual_stream.h"
#include "common/context.h"
#include "vq/residual.h"

/* The tokens' zstd level: 19 finds 7 % more than 9 in the runs of
 * end-of-block tokens (bench/NOTES.md, "The residual as run/size
 * tokens"), and the tokens are few. */
#define AEC_RESIDUAL_ZSTD_LEVEL 19

/* Tile t's residual stream coded into *out, from its source pixels `src`
 * and decoded pixels `dec` (both at the tile's top-left pixel, rows
 * src_stride and dec_stride bytes apart). */
static aec_status code_tile(const aecb_header *h, uint32_t t, const uint8_t *src,
                            size_t src_stride, const uint8_t *dec, size_t dec_stride,
                            int channels, int step, uint8_t **out, size_t *out_size, char *err)
{
    uint32_t tw, th;
    aecb_tile_rect(h, t, NULL, NULL, &tw, &th);
    int colours = aecb_residual_colours(h);
    size_t n = aem_residual_raw_size(tw, th, colours);
    uint8_t *raw = malloc(n);
    if (!raw)
        return aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory for a residual stream");
    aem_residual_code(src, src_stride, dec, dec_stride, channels, colours, tw, th, step, raw);
    aec_status st = aecb_residual_write(raw, (size_t)colours, aem_residual_blocks(tw, th),
                                        AEC_RESIDUAL_ZSTD_LEVEL, out, out_size, err,
                                        AEC_ERR_BYTES);
    free(raw);
    return st;
}

/* The residual streams of tile row ty into res[] and the table, from the
 * decoded rows of that tile row in `band` (its first row at the tile row's
 * top). */
static aec_status code_tile_row(aecb_header *h, uint32_t ty, const uint8_t *pixels,
                                size_t stride, const uint8_t *band, int channels, int step,
                                int threads, uint8_t **res, const uint8_t **streams, char *err)
{
    int failed = 0;
    char tile_err[AEC_ERR_BYTES] = "";
    size_t band_stride = (size_t)h->width * channels;
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads) reduction(| : failed)
    for (uint32_t tx = 0; tx < h->tiles_x; tx++) {
        uint32_t t = ty * h->tiles_x + tx, X, Y;
        aecb_tile_rect(h, t, &X, &Y, NULL, NULL);
        size_t size = 0, at = (size_t)X * channels;
        char e[AEC_ERR_BYTES];
        if (code_tile(h, t, pixels + (size_t)Y * stride + at, stride, band + at, band_stride,
                      channels, step, &res[t], &size, e) != AEC_OK) {
            failed = 1;
#pragma omp critical(aec_residual_error)
            memcpy(tile_err, e, sizeof e);
            continue;
        }
        uint32_t i = aecb_residual_stream_index(h, t);
        streams[i] = res[t], h->sizes[i] = (uint32_t)size;
    }
    return failed ? aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "%s", tile_err) : AEC_OK;
}

aec_status aec_enc_add_residual(const aec_model *m, const uint8_t *pixels, size_t stride,
                                int step, int threads, uint8_t **file, size_t *file_size,
                                char *err)
{
    aec_decoder *d = NULL;
    uint8_t *band = NULL, *merged = NULL, **res = NULL;
    const uint8_t **streams = NULL;
    aecb_header base, h;
    memset(&base, 0, sizeof base), memset(&h, 0, sizeof h);
    aec_status st = aecb_parse(*file, *file_size, NULL, &base, err, AEC_ERR_BYTES);
    if (st != AEC_OK)
        return st;
    /* The same file with flags bit 7: the residual streams come after the
     * lattice layers, before the metadata stream. */
    h.width = base.width, h.height = base.height, h.layout = base.layout;
    h.stages = base.stages, h.flags = (uint8_t)(base.flags | AECB_FLAG_RESIDUAL);
    h.block_size = base.block_size, h.tile_size = base.tile_size, h.model_id = base.model_id;
    h.lattice_dim = base.lattice_dim, h.lattice_step_q = base.lattice_step_q;
    st = aecb_header_init(&h, err, AEC_ERR_BYTES);
    if (st != AEC_OK)
        goto done;
    int channels = aec_layout_channels((aec_layout)h.layout);
    size_t band_stride = (size_t)h.width * channels;
    res = calloc(h.n_tiles, sizeof *res);
    streams = calloc(h.n_streams, sizeof *streams);
    band = malloc(band_stride * h.tile_size);
    if (!res || !streams || !band) {
        st = aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
        goto done;
    }
    int metadata = (base.flags & AECB_FLAG_METADATA) != 0;
    for (uint32_t i = 0; i + (uint32_t)metadata < base.n_streams; i++)
        streams[i] = *file + base.offsets[i], h.sizes[i] = base.sizes[i];
    if (metadata) {
        uint32_t from = aecb_metadata_stream_index(&base), to = aecb_metadata_stream_index(&h);
        streams[to] = *file + base.offsets[from], h.sizes[to] = base.sizes[from];
    }
    /* The other layers decoded as a decoder will, a row of tiles at a time
     * (a region's pixels are those of the whole picture), so that memory
     * stays bounded by the tile as in the decoder. */
    st = aec_decoder_create(&d, m);
    if (st != AEC_OK)
        aec_fail(err, st, "cannot create a decoder for the base layers");
    else
        aec_decoder_set_threads(d, threads);
    for (uint32_t ty = 0; st == AEC_OK && ty < h.tiles_y; ty++) {
        aec_decode_params p;
        aec_decode_params_default(&p);
        p.y = ty * h.tile_size, p.w = h.width;
        p.h = h.height - p.y < h.tile_size ? h.height - p.y : h.tile_size;
        st = aec_decode_into(d, *file, *file_size, &p, band, band_stride, band_stride * p.h);
        if (st != AEC_OK)
            aec_fail(err, st, "cannot decode the base layers: %s", aec_decoder_last_error(d));
        else
            st = code_tile_row(&h, ty, pixels, stride, band, channels, step, threads, res,
                               streams, err);
    }
    aec_decoder_destroy(d);
    if (st != AEC_OK)
        goto done;
    size_t merged_size = 0;
    st = aecb_write(&h, streams, &merged, &merged_size);
    if (st != AEC_OK) {
        aec_fail(err, st, "cannot assemble the file: %s", aec_status_string(st));
        goto done;
    }
    free(*file);
    *file = merged, *file_size = merged_size;
done:
    for (uint32_t t = 0; res && t < h.n_tiles; t++)
        free(res[t]);
    free(res);
    free(streams);
    free(band);
    aecb_header_free(&base);
    aecb_header_free(&h);
    return st;
}
