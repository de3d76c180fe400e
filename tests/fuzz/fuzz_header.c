/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_header.c - libFuzzer target: aec_read_info and aecb_parse (the
 * header and stream table of spec/bitstream.md) on the raw input and on the
 * input with its checksums made valid (fuzz_common.h), under the default
 * limits and under small ones.  Whatever parses must satisfy the
 * invariants the decoder relies on; a violation aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_common.h"

#define REQUIRE(c)                                                                      \
    do {                                                                                \
        if (!(c))                                                                       \
            abort();                                                                    \
    } while (0)

static void check_parsed(const aecb_header *h, const uint8_t *d, size_t n)
{
    uint32_t A = (h->flags & AECB_FLAG_ALPHA) ? 1u : 0u;
    uint32_t L = (h->flags & AECB_FLAG_LATTICE) ? 1u : 0u;
    uint32_t layers = (uint32_t)h->lattice_layers; /* 1 unless LAYERED (6.9) */
    int layered = (h->flags & AECB_FLAG_LAYERED) != 0;
    uint32_t M = (h->flags & AECB_FLAG_METADATA) ? 1u : 0u;
    uint32_t R = (h->flags & AECB_FLAG_RESIDUAL) ? 1u : 0u;
    REQUIRE(h->width >= 1 && h->height >= 1 && h->width <= 65535 && h->height <= 65535);
    REQUIRE(h->stages >= (L ? 0 : 1) && h->stages <= 16);
    /* stages 0 (the lattice layer alone) parses only when complete */
    REQUIRE(h->stages_available >= (h->stages ? 1 : 0) && h->stages_available <= h->stages);
    REQUIRE(L ? h->lattice_dim >= 1 && h->lattice_step_q >= 1
              : h->lattice_dim == 0 && h->lattice_step_q == 0 && !h->lattice_available);
    REQUIRE(L || !(h->flags & (AECB_FLAG_SPLIT | AECB_FLAG_LAYERED))); /* only with LATTICE */
    REQUIRE(layers == (L ? (layered ? (uint32_t)aecb_layers_for(h->lattice_dim) : 1u) : 0u));
    /* the layer is available only in a complete file, or the layers that
     * are whole in a layered one, on top of every stage */
    REQUIRE(h->lattice_layers_available >= 0 && (uint32_t)h->lattice_layers_available <= layers);
    REQUIRE(h->lattice_available == (layers > 0 && (uint32_t)h->lattice_layers_available == layers));
    REQUIRE(!h->lattice_layers_available || h->stages_available == h->stages);
    REQUIRE(layered || h->file_size == n || !h->lattice_layers_available);
    REQUIRE(!L || h->file_size != n || h->lattice_available);
    REQUIRE(h->n_tiles == h->tiles_x * h->tiles_y);
    uint32_t F = h->version >= AECB_VERSION_FILTER ? 1u : 0u; /* the filter (6.11) */
    REQUIRE(h->version >= 1 && h->version <= AECB_VERSION_FILTER);
    REQUIRE(h->n_streams ==
            A + (uint32_t)h->stages * h->n_tiles + layers * h->n_tiles + R * h->n_tiles + F + M);
    /* the restoration filter: one stream after the residual's, used only
     * on top of everything before it */
    if (F)
        REQUIRE(aecb_filter_stream_index(h) == h->n_streams - 1 - M &&
                aecb_stream_bound(h, h->n_streams - 1 - M) == aecb_wiener_bound(aecb_residual_colours(h)));
    REQUIRE(!h->filter_available || (F && h->stages_available == h->stages &&
                                     (!L || h->lattice_available) &&
                                     (!R || h->residual_available)));
    /* the pixel residual (flags bit 7, 6.10): on a full-size lattice file,
     * its streams after the layers, used only on top of all of them */
    REQUIRE(!R || (L && !(h->flags & AECB_FLAG_HALF)));
    REQUIRE(h->residual_available == 0 || (R && h->lattice_available));
    if (R)
        REQUIRE(aecb_residual_stream_index(h, 0) == A + ((uint32_t)h->stages + layers) * h->n_tiles);
    /* the metadata stream (flags bit 4) is the last one, of raw chunks */
    if (M)
        REQUIRE(aecb_metadata_stream_index(h) == h->n_streams - 1 &&
                aecb_stream_bound(h, h->n_streams - 1) == AECB_MAX_METADATA);
    REQUIRE((uint64_t)h->header_bytes + h->table_bytes <= n);
    REQUIRE(h->file_size >= n);
    uint64_t pos = (uint64_t)h->header_bytes + h->table_bytes;
    for (uint32_t i = 0; i < h->n_streams; i++) {
        REQUIRE(h->offsets[i] == pos);
        REQUIRE(h->sizes[i] >= 1 && h->sizes[i] <= aecb_stream_bound(h, i));
        pos += h->sizes[i];
        aec_status st = aecb_check_stream(h, d, n, i, NULL, 0);
        REQUIRE(st == AEC_OK || st == AEC_ERR_CORRUPT || st == AEC_ERR_TRUNCATED);
        if (st == AEC_ERR_TRUNCATED)
            REQUIRE(h->offsets[i] + h->sizes[i] > n);
    }
    REQUIRE(pos == h->file_size);
    /* The streams of the available stages (and the alpha stream, and the
     * lattice streams when available) lie within the data. */
    uint32_t used = A + (uint32_t)(h->stages_available + h->lattice_layers_available) * h->n_tiles;
    REQUIRE(used > 0 && h->offsets[used - 1] + h->sizes[used - 1] <= n);
    /* Tiles cover the coded image exactly (the picture's halves, rounded
     * up, in a half-size file: 4.1). */
    int half = (h->flags & AECB_FLAG_HALF) != 0;
    REQUIRE(h->coded_w == (half ? (h->width + 1) / 2 : h->width) &&
            h->coded_h == (half ? (h->height + 1) / 2 : h->height));
    uint64_t area = 0;
    for (uint32_t t = 0; t < h->n_tiles; t++) {
        uint32_t x0, y0, w, hh, lw, lh;
        aecb_tile_rect(h, t, &x0, &y0, &w, &hh);
        aecb_tile_latents(h, t, &lw, &lh);
        REQUIRE(w >= 1 && hh >= 1 && x0 + w <= h->coded_w && y0 + hh <= h->coded_h);
        REQUIRE(lw == (w + h->block_size - 1) / h->block_size);
        REQUIRE(lh == (hh + h->block_size - 1) / h->block_size);
        for (int s = 0; s < h->stages; s++)
            REQUIRE(aecb_stream_index(h, s, t) < h->n_streams);
        uint32_t channels = 0;
        for (uint32_t l = 0; l < layers; l++) {
            uint32_t i = aecb_layer_stream_index(h, (int)l, t), first, count;
            aecb_layer_channels(h, (int)l, &first, &count);
            REQUIRE(first == channels && count >= 1);
            channels += count;
            REQUIRE(i == A + (uint32_t)(h->stages + l) * h->n_tiles + t && i < h->n_streams);
            REQUIRE(aecb_stream_raw_size(h, i) == 2ull * count * lw * lh);
            /* the bound of step 12: split_bound (6.7) in the split layout */
            uint64_t b = (h->flags & AECB_FLAG_SPLIT)
                             ? aecb_split_bound_at(first, count, (size_t)lw * lh)
                             : aecb_compress_bound(2ull * count * lw * lh);
            REQUIRE(aecb_stream_bound(h, i) == (b > UINT32_MAX ? UINT32_MAX : b));
        }
        REQUIRE(channels == (L ? h->lattice_dim : 0u));
        area += (uint64_t)w * hh;
    }
    REQUIRE(area == (uint64_t)h->coded_w * h->coded_h);
}

static void one(const uint8_t *d, size_t n)
{
    static const aec_limits small = {4096, 256};
    aec_info info;
    aec_status ist = aec_read_info(d, n, &info);
    for (int lim = 0; lim < 2; lim++) {
        aecb_header h;
        char err[256];
        aec_status st = aecb_parse(d, n, lim ? &small : NULL, &h, err, sizeof err);
        REQUIRE(h.sizes == NULL || st == AEC_OK);
        if (!lim) /* aec_read_info is aecb_parse under the default limits */
            REQUIRE(st == ist);
        if (st == AEC_OK) {
            check_parsed(&h, d, n);
            if (lim)
                REQUIRE((uint64_t)h.width * h.height <= small.max_pixels);
            else
                REQUIRE(info.stages_available == h.stages_available &&
                        info.width == h.width && info.height == h.height &&
                        info.file_size == h.file_size &&
                        info.lattice_available == h.lattice_available &&
                        info.lattice_layers == h.lattice_layers &&
                        info.lattice_layers_available == h.lattice_layers_available);
            aecb_header_free(&h);
        }
    }
    if (ist == AEC_OK) {
        REQUIRE((info.stages_available >= 1 ||
                 (info.stages_coded == 0 && info.lattice_layers_available >= 1)) &&
                info.stages_available <= info.stages_coded);
        REQUIRE(info.file_size >= n);
    }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    one(data, size);
    uint8_t *b = malloc(size ? size : 1);
    memcpy(b, data, size);
    aecfuzz_fix_aec(b, size, 0);
    one(b, size);
    free(b);
    return 0;
}
