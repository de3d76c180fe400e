/* SPDX-License-Identifier: BSD-3-Clause */
/* stream_hash.h - the conformance files' exact check, shared by the
 * generator (mkconf.c) and the tests (tests/test_conformance.c), as
 * spec/bitstream.md 14.2 defines it: FNV-1a-64 over, in this order,
 *
 *  - the decompressed contents of the alpha stream, if any, and of the
 *    index streams of stages 1..stages_available, in table order;
 *  - then, when the lattice layer applies (every coded stage available and
 *    lattice_available; in a layered file, flags bit 5, one or more whole
 *    layers: lattice_layers_available), the lattice symbols of each tile
 *    in tile order, whatever the layout that codes them: sym(d, x, y) for
 *    channel d = 0..D-1, then row y, then column x, each as a 16-bit two's
 *    complement integer, low byte first; the channels of the layers not
 *    available are 0 (spec section 6.9), so a file whose every layer is
 *    there hashes like the same symbols in one stream.
 *
 * The symbols, not a layout's bytes: several planes-layout byte strings
 * (residuals that clamp alike) and every split-layout directory give the
 * same symbols, and the hash must not depend on which one a file holds.
 * Returns 0, or -1 with a message in err. */
#ifndef AEC_CONFORMANCE_STREAM_HASH_H
#define AEC_CONFORMANCE_STREAM_HASH_H
#include <stdint.h>
#include <stdlib.h>

#include "bitstream/container.h"
#include "bitstream/lattice_stream.h"
#include "bitstream/zstream.h"
#include "vq/lattice.h"

static uint64_t conformance_fnv(uint64_t x, const uint8_t *b, size_t n)
{
    for (size_t k = 0; k < n; k++)
        x = (x ^ b[k]) * 0x100000001b3ull;
    return x;
}

/* Tile t's lattice symbols, of its first `layers` lattice layers (one
 * stream each, in either layout; the channels of the other layers 0),
 * hashed onto *x. */
static int conformance_lattice_hash(const aecb_header *h, const uint8_t *d, size_t size,
                                    int layers, uint32_t t, uint64_t *x, char *err, size_t errlen)
{
    uint32_t lw, lh;
    aecb_tile_latents(h, t, &lw, &lh);
    size_t D = h->lattice_dim, n = (size_t)lw * lh;
    int32_t *sym = calloc(D * n + 1, sizeof(int32_t));
    int rc = sym ? 0 : -1;
    for (int l = 0; l < layers && rc == 0; l++) {
        uint32_t first, count, i = aecb_layer_stream_index(h, l, t);
        aecb_layer_channels(h, l, &first, &count);
        int32_t *s = sym + (size_t)first * n;
        size_t work_bytes = (h->flags & AECB_FLAG_SPLIT)
                                ? aecb_split_work_bytes_at(first, count, n)
                                : 2 * (size_t)count * n;
        uint8_t *work = malloc(work_bytes ? work_bytes : 1);
        rc = -1;
        if (work && aecb_check_stream(h, d, size, i, err, errlen) == AEC_OK) {
            if (h->flags & AECB_FLAG_SPLIT)
                rc = aecb_split_read_at(NULL, d + h->offsets[i], h->sizes[i], first, count, lw,
                                        lh, work, s, err, errlen) == AEC_OK ? 0 : -1;
            else if (aecb_zstd_decompress(NULL, NULL, d + h->offsets[i], h->sizes[i], work,
                                          2 * (size_t)count * n, err, errlen) == AEC_OK) {
                aem_lattice_unpack_at(work, first, count, lw, lh, s);
                rc = 0;
            }
        }
        free(work);
    }
    for (size_t k = 0; rc == 0 && k < D * n; k++) {
        uint16_t v = (uint16_t)sym[k]; /* two's complement */
        uint8_t b[2] = {(uint8_t)(v & 0xFF), (uint8_t)(v >> 8)};
        *x = conformance_fnv(*x, b, 2);
    }
    free(sym);
    return rc;
}

static int conformance_stream_hash(const uint8_t *d, size_t n, uint64_t *hash, int *stages,
                                   char *err, size_t errlen)
{
    aecb_header h;
    if (aecb_parse(d, n, NULL, &h, err, errlen) != AEC_OK)
        return -1;
    uint64_t x = 0xcbf29ce484222325ull;
    uint32_t used = ((h.flags & AECB_FLAG_ALPHA) ? 1u : 0u) + (uint32_t)h.stages_available * h.n_tiles;
    /* The lattice layers that apply: all of them (the one layer of a file
     * that is not layered) in a complete file, the whole ones on top of
     * every stage in a cut layered file (spec section 8), else none. */
    int layers = h.stages_available == h.stages ? h.lattice_layers_available : 0;
    int rc = 0;
    for (uint32_t i = 0; i < used && rc == 0; i++) { /* alpha and index streams */
        size_t raw = (size_t)aecb_stream_raw_size(&h, i);
        uint8_t *buf = malloc(raw ? raw : 1);
        if (aecb_check_stream(&h, d, n, i, err, errlen) != AEC_OK || !buf ||
            aecb_zstd_decompress(NULL, NULL, d + h.offsets[i], h.sizes[i], buf, raw, err,
                                 errlen) != AEC_OK)
            rc = -1;
        else
            x = conformance_fnv(x, buf, raw);
        free(buf);
    }
    for (uint32_t t = 0; layers > 0 && t < h.n_tiles && rc == 0; t++) /* tile by tile */
        rc = conformance_lattice_hash(&h, d, n, layers, t, &x, err, errlen);
    *hash = x;
    if (stages)
        *stages = h.stages_available;
    aecb_header_free(&h);
    return rc;
}
#endif
