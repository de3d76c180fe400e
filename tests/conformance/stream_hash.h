/* SPDX-License-Identifier: BSD-3-Clause */
/* stream_hash.h - the conformance files' exact check, shared by the
 * generator (mkconf.c) and the tests (tests/test_conformance.c), as
 * spec/bitstream.md 14.2 defines it: FNV-1a-64 over, in table order,
 *
 *  - the decompressed contents of the alpha stream, if any, and of the
 *    index streams of stages 1..stages_available;
 *  - then, when the lattice layer applies (every coded stage available and
 *    lattice_available), the lattice symbols of each tile in tile order,
 *    whatever the layout that codes them: sym(d, x, y) for channel d, then
 *    row y, then column x, each as a 16-bit two's complement integer, low
 *    byte first.
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

/* Tile t's lattice symbols (stream i, either layout) hashed onto *x. */
static int conformance_lattice_hash(const aecb_header *h, const uint8_t *d, uint32_t i,
                                    uint32_t t, uint64_t *x, char *err, size_t errlen)
{
    uint32_t lw, lh;
    aecb_tile_latents(h, t, &lw, &lh);
    size_t D = h->lattice_dim, n = (size_t)lw * lh;
    size_t work_bytes = (h->flags & AECB_FLAG_SPLIT) ? aecb_split_work_bytes(D, n) : 2 * D * n;
    uint8_t *work = malloc(work_bytes ? work_bytes : 1);
    int32_t *sym = malloc(sizeof(int32_t) * D * n);
    int rc = -1;
    if (work && sym) {
        if (h->flags & AECB_FLAG_SPLIT)
            rc = aecb_split_read(NULL, d + h->offsets[i], h->sizes[i], D, lw, lh, work, sym, err,
                                 errlen) == AEC_OK ? 0 : -1;
        else if (aecb_zstd_decompress(NULL, NULL, d + h->offsets[i], h->sizes[i], work, 2 * D * n,
                                      err, errlen) == AEC_OK) {
            aem_lattice_unpack(work, D, lw, lh, sym);
            rc = 0;
        }
    }
    for (size_t k = 0; rc == 0 && k < D * n; k++) {
        uint16_t v = (uint16_t)sym[k]; /* two's complement */
        uint8_t b[2] = {(uint8_t)(v & 0xFF), (uint8_t)(v >> 8)};
        *x = conformance_fnv(*x, b, 2);
    }
    free(work), free(sym);
    return rc;
}

static int conformance_stream_hash(const uint8_t *d, size_t n, uint64_t *hash, int *stages,
                                   char *err, size_t errlen)
{
    aecb_header h;
    if (aecb_parse(d, n, NULL, &h, err, errlen) != AEC_OK)
        return -1;
    uint64_t x = 0xcbf29ce484222325ull;
    uint32_t first_lattice = ((h.flags & AECB_FLAG_ALPHA) ? 1u : 0u) + (uint32_t)h.stages * h.n_tiles;
    uint32_t used = ((h.flags & AECB_FLAG_ALPHA) ? 1u : 0u) + (uint32_t)h.stages_available * h.n_tiles;
    if (h.lattice_available && h.stages_available == h.stages)
        used += h.n_tiles; /* they follow the last stage's streams */
    int rc = 0;
    for (uint32_t i = 0; i < used && rc == 0; i++) {
        if (aecb_check_stream(&h, d, n, i, err, errlen) != AEC_OK) {
            rc = -1;
        } else if (i >= first_lattice) {
            rc = conformance_lattice_hash(&h, d, i, i - first_lattice, &x, err, errlen);
        } else {
            size_t raw = (size_t)aecb_stream_raw_size(&h, i);
            uint8_t *buf = malloc(raw ? raw : 1);
            if (!buf || aecb_zstd_decompress(NULL, NULL, d + h.offsets[i], h.sizes[i], buf, raw,
                                             err, errlen) != AEC_OK)
                rc = -1;
            else
                x = conformance_fnv(x, buf, raw);
            free(buf);
        }
    }
    *hash = x;
    if (stages)
        *stages = h.stages_available;
    aecb_header_free(&h);
    return rc;
}
#endif
