/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_common.h - helpers shared by the fuzz targets in tests/fuzz/ and by
 * tests/test_damage.c (which replays the seed corpus and every regression
 * input through the same code paths as the fuzzers).
 *
 * Random bytes almost never pass a CRC-32, so a fuzzer fed raw inputs only
 * explores the checks in front of the checksums.  The "fix" helpers rewrite
 * the checksums (and optionally the model identifier) of a mutated input so
 * that it reaches the code behind them: the table checks, the zstd frames,
 * the codebook look-up and the network.
 *
 * Everything is static inline so that a user that needs only some of it gets
 * no unused-function warnings.  Needs libcodec's internals (-Icodec). */
#ifndef AEC_FUZZ_COMMON_H
#define AEC_FUZZ_COMMON_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aecodec.h"
#include "bitstream/container.h"
#include "bitstream/lattice_stream.h"
#include "bitstream/residual_stream.h"
#include "bitstream/wiener_stream.h"
#include "bitstream/zstream.h"
#include "model/builtin.h"
#include "model/model.h"
#include "vq/lattice.h"
#include "vq/residual.h"
#include "vq/wiener.h"

static inline uint32_t aecfuzz_rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
static inline void aecfuzz_wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static inline void aecfuzz_wr64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

/* Make the checksums of an aecodec file in d[0..n) valid: the CRC of every
 * stream that lies within the data (using the sizes in the table as they
 * are), then the header CRC.  When model_id is not 0 it is written into the
 * header first.  Inputs shorter than the header, with a wrong magic or with
 * a table that does not fit are left alone. */
static inline void aecfuzz_fix_aec(uint8_t *d, size_t n, uint64_t model_id)
{
    static const uint8_t magic[4] = {0x8B, 0x41, 0x45, 0x43};
    if (n < AECB_HEADER_BYTES || memcmp(d, magic, 4) != 0)
        return;
    if (model_id)
        aecfuzz_wr64(d + 24, model_id);
    uint64_t count = aecfuzz_rd32(d + 20);
    if (count * AECB_ENTRY_BYTES > n - AECB_HEADER_BYTES)
        return;
    uint8_t *t = d + AECB_HEADER_BYTES;
    uint64_t pos = AECB_HEADER_BYTES + count * AECB_ENTRY_BYTES;
    for (uint64_t i = 0; i < count; i++) {
        uint32_t sz = aecfuzz_rd32(t + 8 * i);
        if (pos + sz > n)
            break;
        aecfuzz_wr32(t + 8 * i + 4, aecb_crc32(0, d + pos, sz));
        pos += sz;
    }
    uint32_t crc = aecb_crc32(aecb_crc32(0, d, 44), t, (size_t)count * AECB_ENTRY_BYTES);
    aecfuzz_wr32(d + 44, crc);
}

/* The built-in model a fuzzed file is pointed at: the one whose latent
 * width equals the file's lattice_dim when it has a lattice layer (flags
 * bit 2, header byte 19), so that lattice files reach the refinement and
 * the network; otherwise the default model. */
static inline uint64_t aecfuzz_builtin_id(const uint8_t *d, size_t n)
{
    if (n >= AECB_HEADER_BYTES && (d[7] & AECB_FLAG_LATTICE))
        for (int i = 0; i < AEM_BUILTIN_MODELS; i++) {
            const aec_model *m = aem_builtin_model(i);
            if (m && m->cfg.latent == d[19])
                return m->id;
        }
    return aec_model_id(aec_model_default());
}

/* Make the trailing CRC-32 of a model file (spec/model.md) valid. */
static inline void aecfuzz_fix_model(uint8_t *d, size_t n)
{
    if (n >= 4)
        aecfuzz_wr32(d + n - 4, aecb_crc32(0, d, n - 4));
}

/* Decoder arithmetic per pixel above which aecfuzz_exercise_model skips a
 * model (a fuzzer must stay fast; a 24x16 image is decoded). */
#define AECFUZZ_MAX_DECODER_MACS 20000.0

/* Run a loaded model's decoder: build a valid 24x16 file for it (every
 * stage, indices spread over the codebooks), decode it whole and as a
 * region, and check the output's size.  Returns 0 when the model was
 * skipped (too slow) or everything behaved, -1 when something did not (the
 * caller aborts / fails its test). */
static inline int aecfuzz_exercise_model(const aec_model *m, aec_layout layout)
{
    const aem_config *c = &m->cfg;
    if (aem_macs_per_pixel(c, 1, 0) > AECFUZZ_MAX_DECODER_MACS)
        return 0;
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = 24, h.height = 16, h.layout = (uint8_t)layout, h.stages = (uint8_t)c->stages;
    h.tile_size = 64, h.block_size = (uint8_t)c->block, h.model_id = m->id;
    h.flags = (layout == AEC_GRAY_ALPHA || layout == AEC_RGBA) ? AECB_FLAG_ALPHA : 0;
    if (aecb_header_init(&h, NULL, 0) != AEC_OK)
        return -1;
    uint8_t *streams[1 + AECB_MAX_STAGES] = {0};
    uint8_t raw[24 * 16];
    int rc = -1;
    for (uint32_t i = 0; i < h.n_streams; i++) {
        size_t nraw = (size_t)aecb_stream_raw_size(&h, i), sz = 0;
        for (size_t k = 0; k < nraw; k++)
            raw[k] = (uint8_t)((k * 5 + i * 3 + (k >> 3)) % (size_t)c->codes);
        if (nraw > sizeof raw ||
            aecb_zstd_compress(NULL, raw, nraw, 1, NULL, &streams[i], &sz, NULL, 0) != AEC_OK)
            goto done;
        h.sizes[i] = (uint32_t)sz;
    }
    uint8_t *file = NULL;
    size_t file_size = 0;
    if (aecb_write(&h, (const uint8_t *const *)streams, &file, &file_size) != AEC_OK)
        goto done;
    aec_decoder *dec = NULL;
    if (aec_decoder_create(&dec, m) == AEC_OK) {
        aec_decoder_set_threads(dec, 1);
        aec_decode_params p;
        aec_decode_params_default(&p);
        uint8_t *out = NULL;
        uint32_t w = 0, hh = 0;
        aec_layout l = 0;
        aec_status st = aec_decode(dec, file, file_size, &p, &out, &w, &hh, &l);
        rc = (st == AEC_OK && out && w == 24 && hh == 16 && l == layout) ? 0 : -1;
        aec_free(out), out = NULL;
        p.x = 9, p.y = 3, p.w = 13, p.h = 11, p.stages = 1;
        st = aec_decode(dec, file, file_size, &p, &out, &w, &hh, &l);
        if (!(st == AEC_OK && out && w == 13 && hh == 11))
            rc = -1;
        aec_free(out);
    }
    aec_decoder_destroy(dec);
    free(file);
done:
    for (uint32_t i = 0; i < h.n_streams && i <= AECB_MAX_STAGES; i++)
        free(streams[i]);
    aecb_header_free(&h);
    return rc;
}

/* fuzz_lattice's input: byte 0 gives D = 1 + b % 255, bytes 1 and 2 the
 * tile's latent columns and rows (1 + b % 64 each); the rest is a lattice
 * stream of the split layout (spec/bitstream.md 6.7) for that tile.
 * aecb_split_read reads it into buffers of exactly the sizes it asks for;
 * it must answer AEC_OK or AEC_ERR_CORRUPT, and when it decodes, every
 * symbol must be within range and aecb_split_write's stream of the
 * symbols (within aecb_split_bound) must decode to them again.  Returns
 * 0, or -1 when something misbehaved.  Inputs under 3 bytes are skipped. */
static inline int aecfuzz_split_stream(const uint8_t *d, size_t n)
{
    if (n < 3)
        return 0;
    size_t D = 1 + d[0] % 255u, lw = 1 + d[1] % 64u, lh = 1 + d[2] % 64u, count = D * lw * lh;
    uint8_t *work = (uint8_t *)malloc(aecb_split_work_bytes(D, lw * lh));
    int32_t *sym = (int32_t *)malloc(sizeof(int32_t) * count);
    int32_t *again = (int32_t *)malloc(sizeof(int32_t) * count);
    if (!work || !sym || !again) {
        free(work), free(sym), free(again);
        return 0;
    }
    int rc = 0;
    aec_status st = aecb_split_read(NULL, d + 3, n - 3, D, lw, lh, work, sym, NULL, 0);
    if (st == AEC_OK) {
        for (size_t i = 0; i < count; i++)
            if (sym[i] < -AEM_LATTICE_MAX_SYMBOL || sym[i] > AEM_LATTICE_MAX_SYMBOL)
                rc = -1;
        uint8_t *re = NULL;
        size_t rn = 0;
        if (rc == 0 &&
            (aecb_split_write(NULL, sym, D, lw, lh, 1, &re, &rn, NULL, 0) != AEC_OK ||
             rn > aecb_split_bound(D, lw * lh) ||
             aecb_split_read(NULL, re, rn, D, lw, lh, work, again, NULL, 0) != AEC_OK ||
             memcmp(sym, again, sizeof(int32_t) * count) != 0))
            rc = -1;
        free(re);
    } else if (st != AEC_ERR_CORRUPT) {
        rc = -1;
    }
    free(work), free(sym), free(again);
    return rc;
}


/* fuzz_residual's body: d[0] picks the colours (1 or 3), d[1..2] the
 * tile's blocks (1..4096), the rest is a pixel residual stream
 * (spec/bitstream.md 6.10).  Returns -1 when aecb_residual_read gives a
 * status other than OK or CORRUPT, a step below the minimum, or planes
 * that do not survive being written again. */
static inline int aecfuzz_residual_stream(const uint8_t *d, size_t n)
{
    if (n < 3)
        return 0;
    size_t colours = d[0] & 1 ? 3 : 1, blocks = 1 + ((size_t)d[1] | (size_t)d[2] << 8) % 4096u;
    size_t raw_size = 1 + colours * 64 * blocks;
    uint8_t *work = (uint8_t *)malloc(aecb_residual_work_bytes(colours, blocks));
    uint8_t *raw = (uint8_t *)malloc(raw_size), *again = (uint8_t *)malloc(raw_size);
    if (!work || !raw || !again) {
        free(work), free(raw), free(again);
        return 0;
    }
    int rc = 0;
    aec_status st = aecb_residual_read(NULL, d + 3, n - 3, colours, blocks, work, raw, NULL, 0);
    if (st == AEC_OK) {
        uint8_t *re = NULL;
        size_t rn = 0;
        if (raw[0] < AEM_RESIDUAL_MIN_STEP ||
            aecb_residual_write(raw, colours, blocks, 1, &re, &rn, NULL, 0) != AEC_OK ||
            rn > aecb_residual_bound(colours, blocks) ||
            aecb_residual_read(NULL, re, rn, colours, blocks, work, again, NULL, 0) != AEC_OK ||
            memcmp(raw, again, raw_size) != 0)
            rc = -1;
        free(re);
    } else if (st != AEC_ERR_CORRUPT) {
        rc = -1;
    }
    free(work), free(raw), free(again);
    return rc;
}

/* The restoration filter's stream (spec/bitstream.md 6.11) on its own:
 * byte 0 picks the colours (bit 0: 3, else 1) and a picture size, the rest
 * is the stream.  A stream read as OK must be written back within its
 * bound and read again the same, and filter a small picture (any
 * coefficients the format allows, so the sums' range is exercised);
 * any status other than OK or CORRUPT is a failure.  Returns 0 or -1. */
static inline int aecfuzz_wiener_stream(const uint8_t *d, size_t n)
{
    if (n < 1)
        return 0;
    int colours = d[0] & 1 ? 3 : 1, ch = colours == 3 ? 4 : 2;
    uint32_t w = 1 + (d[0] >> 1 & 7) * 3, h = 1 + (d[0] >> 4) * 2;
    aem_wiener wf, again; /* zeroed: the reader fills only the classes and taps it reads */
    memset(&wf, 0, sizeof wf), memset(&again, 0, sizeof again);
    aec_status st = aecb_wiener_read(NULL, d + 1, n - 1, colours, &wf, NULL, 0);
    if (st != AEC_OK)
        return st == AEC_ERR_CORRUPT ? 0 : -1;
    uint8_t *re = NULL;
    size_t rn = 0;
    int rc = 0;
    if (aecb_wiener_write(&wf, &re, &rn, NULL, 0) != AEC_OK ||
        rn > aecb_wiener_bound(colours) ||
        aecb_wiener_read(NULL, re, rn, colours, &again, NULL, 0) != AEC_OK ||
        again.classes != wf.classes ||
        memcmp(again.threshold, wf.threshold, sizeof wf.threshold) != 0 ||
        memcmp(again.w, wf.w, sizeof wf.w) != 0)
        rc = -1;
    free(re);
    uint8_t *pix = (uint8_t *)malloc((size_t)w * h * ch), *out = (uint8_t *)malloc((size_t)w * h * ch);
    if (rc == 0 && pix && out) {
        for (size_t i = 0; i < (size_t)w * h * ch; i++)
            pix[i] = d[i % n] ^ (uint8_t)(i * 37);
        aem_wiener_source s = {pix, (size_t)w * ch, ch, colours, 0, 0, w, h};
        if (aem_wiener_filter(&wf, &s, 0, 0, w, h, out, (size_t)w * ch, NULL, 0) != 0)
            rc = -1;
        for (size_t i = 0; rc == 0 && i < (size_t)w * h; i++) /* alpha untouched */
            if (out[i * ch + ch - 1] != pix[i * ch + ch - 1])
                rc = -1;
    }
    free(pix), free(out);
    return rc;
}

#endif
