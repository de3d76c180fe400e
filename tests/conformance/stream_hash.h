/* stream_hash.h - the conformance files' exact check, shared by the
 * generator (mkconf.c) and the test (tests/test_conformance.c): FNV-1a-64
 * of the decompressed contents of every stream a decoder uses (the alpha
 * stream if any, the index streams of stages 1..stages_available, then the
 * lattice streams when the file has a complete lattice layer on top of all
 * its stages), in table order.  Returns 0, or -1 with a message in err. */
#ifndef AEC_CONFORMANCE_STREAM_HASH_H
#define AEC_CONFORMANCE_STREAM_HASH_H
#include <stdint.h>
#include <stdlib.h>

#include "bitstream/container.h"
#include "bitstream/zstream.h"

static int conformance_stream_hash(const uint8_t *d, size_t n, uint64_t *hash, int *stages,
                                   char *err, size_t errlen)
{
    aecb_header h;
    if (aecb_parse(d, n, NULL, &h, err, errlen) != AEC_OK)
        return -1;
    uint64_t x = 0xcbf29ce484222325ull;
    uint32_t used = ((h.flags & AECB_FLAG_ALPHA) ? 1u : 0u) + (uint32_t)h.stages_available * h.n_tiles;
    if (h.lattice_available && h.stages_available == h.stages)
        used += h.n_tiles; /* they follow the last stage's streams */
    int rc = 0;
    for (uint32_t i = 0; i < used && rc == 0; i++) {
        size_t raw = (size_t)aecb_stream_raw_size(&h, i);
        uint8_t *buf = malloc(raw ? raw : 1);
        if (!buf || aecb_check_stream(&h, d, n, i, err, errlen) != AEC_OK ||
            aecb_zstd_decompress(NULL, NULL, d + h.offsets[i], h.sizes[i], buf, raw, err,
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
