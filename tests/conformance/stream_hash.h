/* SPDX-License-Identifier: BSD-3-Clause */
/* stream_hash.h - the conformance files' exact check, shared by the
 * generator (mkconf.c) and the test (tests/test_conformance.c): FNV-1a-64
 * of the decompressed contents of every stream a decoder uses (the alpha
 * stream if any, the index streams of stages 1..stages_available, then the
 * lattice streams when the file has a complete lattice layer on top of all
 * its stages), in table order.  A lattice stream of the split layout
 * (flags bit 3, spec/bitstream.md 6.7) is not one frame: its contents are
 * taken to be the planes-layout bytes (6.6) of the symbols it codes, the
 * 2*D*lw*lh bytes a planes-layout stream of the same symbols decompresses
 * to, so that the hash checks the symbols exactly and a file hashes like
 * its planes-layout twin.  Returns 0, or -1 with a message in err. */
#ifndef AEC_CONFORMANCE_STREAM_HASH_H
#define AEC_CONFORMANCE_STREAM_HASH_H
#include <stdint.h>
#include <stdlib.h>

#include "bitstream/container.h"
#include "bitstream/lattice_stream.h"
#include "bitstream/zstream.h"
#include "vq/lattice.h"

/* The planes-layout bytes of split lattice stream i (of tile t) into buf
 * (2*D*lw*lh bytes). */
static int conformance_split_planes(const aecb_header *h, const uint8_t *d, uint32_t i,
                                    uint32_t t, uint8_t *buf, char *err, size_t errlen)
{
    uint32_t lw, lh;
    aecb_tile_latents(h, t, &lw, &lh);
    size_t D = h->lattice_dim, n = (size_t)lw * lh;
    uint8_t *work = malloc(aecb_split_work_bytes(D, n));
    int32_t *sym = malloc(sizeof(int32_t) * D * n);
    int rc = -1;
    if (work && sym &&
        aecb_split_read(NULL, d + h->offsets[i], h->sizes[i], D, lw, lh, work, sym, err,
                        errlen) == AEC_OK) {
        aem_lattice_pack(sym, D, lw, lh, buf);
        rc = 0;
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
        size_t raw = (size_t)aecb_stream_raw_size(&h, i);
        int split = (h.flags & AECB_FLAG_SPLIT) && i >= first_lattice;
        uint8_t *buf = malloc(raw ? raw : 1);
        if (!buf || aecb_check_stream(&h, d, n, i, err, errlen) != AEC_OK)
            rc = -1;
        else if (split)
            rc = conformance_split_planes(&h, d, i, i - first_lattice, buf, err, errlen);
        else if (aecb_zstd_decompress(NULL, NULL, d + h.offsets[i], h.sizes[i], buf, raw, err,
                                      errlen) != AEC_OK)
            rc = -1;
        for (size_t k = 0; rc == 0 && k < raw; k++)
            x = (x ^ buf[k]) * 0x100000001b3ull;
        free(buf);
    }
    *hash = x;
    if (stages)
        *stages = h.stages_available;
    aecb_header_free(&h);
    return rc;
}
#endif
