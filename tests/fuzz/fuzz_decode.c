/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_decode.c - libFuzzer target: aec_decode with the built-in model on
 * the raw input, then on the input with its checksums made valid and its
 * model identifier set to a built-in model's (the one whose latent width
 * is the file's lattice_dim, else the default; fuzz_common.h), so that the
 * zstd frames, the index checks, the codebook look-up and the network are
 * reached; a file that decodes is decoded again as a region with fewer
 * stages.  Images are limited to 2^18 pixels to keep each run fast.  An
 * outcome other than an error or an image of the declared size aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "fuzz/fuzz_common.h"

#define REQUIRE(c)                                                                      \
    do {                                                                                \
        if (!(c))                                                                       \
            abort();                                                                    \
    } while (0)

static aec_decoder *g_dec;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc, (void)argv;
#ifdef _OPENMP
    omp_set_num_threads(1);
#endif
    if (aec_decoder_create(&g_dec, NULL) != AEC_OK)
        abort();
    aec_decoder_set_threads(g_dec, 1);
    aec_limits lim;
    aec_limits_default(&lim);
    lim.max_pixels = 1u << 18;
    aec_decoder_set_limits(g_dec, &lim);
    return 0;
}

/* Decodes and checks; returns the status. */
static aec_status decode(const uint8_t *d, size_t n, const aec_decode_params *p,
                         uint32_t want_w, uint32_t want_h)
{
    uint8_t *out = NULL;
    uint32_t w = 0, h = 0;
    aec_layout l = 0;
    aec_status st = aec_decode(g_dec, d, n, p, &out, &w, &h, &l);
    if (st == AEC_OK) {
        aec_info info;
        REQUIRE(aec_read_info(d, n, &info) == AEC_OK);
        REQUIRE(out != NULL && l == info.layout);
        if (want_w)
            REQUIRE(w == want_w && h == want_h);
        else
            REQUIRE(w == info.width && h == info.height);
        /* touch every byte: ASan/MSan see an output shorter than declared */
        volatile uint8_t sink = 0;
        for (size_t i = 0; i < (size_t)w * h * (size_t)l; i++)
            sink ^= out[i];
        (void)sink;
    } else {
        REQUIRE(out == NULL);
        REQUIRE(st == AEC_ERR_LIMIT || st == AEC_ERR_NOT_AEC || st == AEC_ERR_UNSUPPORTED ||
                st == AEC_ERR_CORRUPT || st == AEC_ERR_TRUNCATED ||
                st == AEC_ERR_MODEL_MISMATCH);
    }
    aec_free(out);
    return st;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    decode(data, size, NULL, 0, 0);
    uint8_t *b = malloc(size ? size : 1);
    memcpy(b, data, size);
    aecfuzz_fix_aec(b, size, aecfuzz_builtin_id(b, size));
    if (decode(b, size, NULL, 0, 0) == AEC_OK) {
        aec_info info;
        aec_read_info(b, size, &info);
        uint32_t r = size >= 48 ? aecfuzz_rd32(b + 44) : 0; /* the CRC: a hash of the header */
        aec_decode_params p;
        aec_decode_params_default(&p);
        p.x = r % info.width, p.y = (r >> 8) % info.height;
        p.w = 1 + (r >> 16) % (info.width - p.x), p.h = 1 + (r >> 24) % (info.height - p.y);
        p.stages = (int)(r % (uint32_t)(info.stages_available + 1));
        decode(b, size, &p, p.w, p.h);
    }
    free(b);
    return 0;
}
