/* SPDX-License-Identifier: BSD-3-Clause */
/* mkseeds.c - writes the generated part of the fuzz seed corpus (run by
 * tests/fuzz/make_corpus.sh):
 *   DIR/model/min.aem       smallest model shape: D=1, widths 1, S=2, K=2
 *   DIR/model/dict.aem      D=2, 2 convolutions, S=3, K=4, with a dictionary
 *   DIR/model/half.aem      min.aem with its weights stored in 16 bits
 *                           (weight_format 1, as the built-in models)
 *   DIR/{header,decode}/NAME.aec  small files of several layouts and tilings for
 *                           min.aem (fuzz_decode rewrites the model id), three
 *                           with a lattice layer whose width (32, 64) is a
 *                           built-in model's latent, so that fuzz_decode
 *                           points them at that model and reaches the layer
 *                           (one of them in the split layout, flags bit 3;
 *                           two in layers of channels, flags bit 5, of the
 *                           split and of the planes layout)
 *   DIR/lattice/NAME.bin    split-layout lattice streams of one tile for
 *                           fuzz_lattice: 3 bytes (D - 1, lw - 1, lh - 1),
 *                           then the stream
 *   DIR/residual/NAME.bin   pixel residual streams of one tile for
 *                           fuzz_residual: 3 bytes (1 for 3 colours, the
 *                           blocks - 1 as a u16), then the stream
 *   DIR/decode/gen-filter-*.aec  version-2 files coded by the library at
 *                           level 7 with the restoration filter
 *   DIR/wiener/NAME.bin     restoration filter streams for fuzz_wiener: a
 *                           byte (bit 0: 3 colours; the picture size), then
 *                           the stream
 * Deterministic; links with libcodec's internals. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitstream/residual_stream.h"
#include "common/bytes.h"
#include "common/half.h"
#include "fuzz/fuzz_common.h"
#include "vq/residual.h"

static int save(const char *dir, const char *sub, const char *name, const uint8_t *d, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s/%s", dir, sub, name);
    FILE *f = fopen(path, "wb");
    if (!f || fwrite(d, 1, n, f) != n || fclose(f)) {
        perror(path);
        return -1;
    }
    return 0;
}

static aec_model *model(const aem_config *c, const char *name, size_t dict, uint8_t **file,
                        size_t *size)
{
    aec_model *m = NULL;
    if (aem_model_new(c, name, &m, NULL, 0) != AEC_OK)
        exit(1);
    for (size_t i = 0; i < m->lay.total; i++)
        m->params[i] = (float)((int)((i * 7919) % 201) - 100) * 0.005f;
    if (dict) {
        m->dict = malloc(dict);
        for (size_t i = 0; i < dict; i++)
            m->dict[i] = (uint8_t)(i % 3);
        m->dict_size = dict;
    }
    aem_model_refresh(m);
    if (aem_model_serialize(m, file, size) != AEC_OK)
        exit(1);
    return m;
}

/* Symbol k of a seed's lattice tile: mostly 0 and +-1, some beyond one
 * byte and beyond 257 (the split layout's escapes), both signs. */
static int32_t seed_symbol(size_t k)
{
    int32_t v = (int32_t)((k * 7) % 13) - 6;
    v = v > 2 || v < -2 ? 0 : v;
    return k % 23 == 3 ? v * 150 : v;
}

/* lattice_dim 0: no lattice layer; else its symbols are small, some above
 * one byte (zigzag codes in a low and a high byte plane), or with
 * AECB_FLAG_SPLIT in extra those of seed_symbol in the split layout; with
 * AECB_FLAG_LAYERED, one stream per layer of channels (spec 6.9). */
static int aec_file_ex(const char *dir, const char *name, const aec_model *m, uint32_t w,
                       uint32_t h, aec_layout layout, int stages, int tile, uint8_t lattice_dim,
                       uint8_t extra)
{
    int split = (extra & AECB_FLAG_SPLIT) != 0;
    aecb_header hd;
    memset(&hd, 0, sizeof hd);
    hd.width = w, hd.height = h, hd.layout = (uint8_t)layout, hd.stages = (uint8_t)stages;
    hd.tile_size = (uint16_t)tile, hd.block_size = 8, hd.model_id = m->id;
    hd.flags = (layout == AEC_GRAY_ALPHA || layout == AEC_RGBA) ? AECB_FLAG_ALPHA : 0;
    if (lattice_dim)
        hd.flags |= AECB_FLAG_LATTICE, hd.lattice_dim = lattice_dim,
            hd.lattice_step_q = AECB_LATTICE_STEP_ONE / 32;
    hd.flags |= extra;
    if (aecb_header_init(&hd, NULL, 0) != AEC_OK)
        return -1;
    int alpha = (hd.flags & AECB_FLAG_ALPHA) != 0;
    uint8_t **streams = calloc(hd.n_streams, sizeof *streams);
    for (uint32_t i = 0; i < hd.n_streams; i++) {
        size_t raw = (size_t)aecb_stream_raw_size(&hd, i), sz = 0;
        int lattice = lattice_dim && i >= (uint32_t)alpha + (uint32_t)stages * hd.n_tiles;
        /* the residual streams (flags bit 7) follow the lattice layers */
        int residual = (hd.flags & AECB_FLAG_RESIDUAL) &&
                       i >= aecb_residual_stream_index(&hd, 0) &&
                       i < aecb_residual_stream_index(&hd, 0) + hd.n_tiles;
        if (residual) { /* a step, then sparse small coefficients */
            uint8_t *b = malloc(raw);
            for (size_t k = 0; k < raw; k++)
                b[k] = k == 0 ? 20 : (uint8_t)(k % 11 == 0 ? k % 5 : 0);
            uint32_t tw, th;
            aecb_tile_rect(&hd, i - aecb_residual_stream_index(&hd, 0), NULL, NULL, &tw, &th);
            aec_status st = aecb_residual_write(b, (size_t)aecb_residual_colours(&hd),
                                                aem_residual_blocks(tw, th), 19, &streams[i], &sz,
                                                NULL, 0);
            free(b);
            if (st != AEC_OK)
                return -1;
            hd.sizes[i] = (uint32_t)sz;
            continue;
        }
        if (lattice && split) {
            uint32_t j = i - (uint32_t)alpha - (uint32_t)stages * hd.n_tiles, lw, lh, first, D;
            uint32_t t = j % hd.n_tiles;
            aecb_tile_latents(&hd, t, &lw, &lh);
            aecb_layer_channels(&hd, (int)(j / hd.n_tiles), &first, &D);
            size_t count = (size_t)D * lw * lh;
            int32_t *sym = malloc(sizeof(int32_t) * count);
            for (size_t k = 0; k < count; k++)
                sym[k] = seed_symbol(k + first * lw * lh + t * 100);
            aec_status st = aecb_split_write_at(NULL, sym, first, D, lw, lh, 19, &streams[i],
                                                &sz, NULL, 0);
            free(sym);
            if (st != AEC_OK)
                return -1;
            hd.sizes[i] = (uint32_t)sz;
            continue;
        }
        uint8_t *b = malloc(raw);
        for (size_t k = 0; k < raw; k++)
            b[k] = (alpha && i == 0) ? (uint8_t)(k % w ? (k * 3) % 5 : 200)
                   : lattice ? (k < raw / 2 ? (uint8_t)((k * 7) % 13) : (uint8_t)(k % 9 == 0))
                             : (uint8_t)((k + i) % (size_t)m->cfg.codes);
        if (aecb_zstd_compress(NULL, b, raw, 19, NULL, &streams[i], &sz, NULL, 0) != AEC_OK)
            return -1;
        hd.sizes[i] = (uint32_t)sz;
        free(b);
    }
    uint8_t *file = NULL;
    size_t n = 0;
    int rc = aecb_write(&hd, (const uint8_t *const *)streams, &file, &n) == AEC_OK ? 0 : -1;
    if (rc == 0)
        rc = save(dir, "decode", name, file, n) | save(dir, "header", name, file, n);
    for (uint32_t i = 0; i < hd.n_streams; i++)
        free(streams[i]);
    free(streams);
    free(file);
    aecb_header_free(&hd);
    return rc;
}

static int aec_file(const char *dir, const char *name, const aec_model *m, uint32_t w, uint32_t h,
                    aec_layout layout, int stages, int tile)
{
    return aec_file_ex(dir, name, m, w, h, layout, stages, tile, 0, 0);
}

/* A fuzz_lattice seed: the split stream of a tile of D channels, lw x lh
 * latents, symbols seed_symbol(k + salt), after its 3-byte prefix. */
static int split_seed(const char *dir, const char *name, size_t D, size_t lw, size_t lh,
                      size_t salt)
{
    int32_t *sym = malloc(sizeof(int32_t) * D * lw * lh);
    for (size_t k = 0; k < D * lw * lh; k++)
        sym[k] = seed_symbol(k + salt);
    uint8_t *st = NULL;
    size_t n = 0;
    int rc = aecb_split_write(NULL, sym, D, lw, lh, 19, &st, &n, NULL, 0) == AEC_OK ? 0 : -1;
    uint8_t *b = malloc(n + 3);
    b[0] = (uint8_t)(D - 1), b[1] = (uint8_t)(lw - 1), b[2] = (uint8_t)(lh - 1);
    if (rc == 0) {
        memcpy(b + 3, st, n);
        rc = save(dir, "lattice", name, b, n + 3);
    }
    free(b), free(st), free(sym);
    return rc;
}

/* A fuzz_residual seed: the stream of `blocks` blocks of `colours`
 * channels (blocks - 1 < 4096), sparse coefficients of every size class,
 * after its 3-byte prefix. */
static int residual_seed(const char *dir, const char *name, size_t colours, size_t blocks,
                         size_t salt)
{
    size_t raw_size = 1 + colours * 64 * blocks;
    uint8_t *raw = calloc(raw_size, 1);
    raw[0] = (uint8_t)(16 + salt * 37 % 240);
    for (size_t k = 1; k < raw_size; k++) {
        size_t h = (k + salt) * 2654435761u;
        if ((h >> 7) % 7 == 0)
            raw[k] = (uint8_t)((h >> 11) % ((h >> 17) % 3 == 0 ? 255 : 5));
    }
    uint8_t *st = NULL;
    size_t n = 0;
    int rc = aecb_residual_write(raw, colours, blocks, 19, &st, &n, NULL, 0) == AEC_OK ? 0 : -1;
    uint8_t *b = malloc(n + 3);
    b[0] = (uint8_t)(colours == 3), b[1] = (uint8_t)(blocks - 1), b[2] = (uint8_t)((blocks - 1) >> 8);
    if (rc == 0) {
        memcpy(b + 3, st, n);
        rc = save(dir, "residual", name, b, n + 3);
    }
    free(b), free(st), free(raw);
    return rc;
}

static int wiener_seed(const char *dir, const char *name, int colours, int classes, size_t salt)
{
    aem_wiener wf;
    memset(&wf, 0, sizeof wf);
    wf.classes = classes, wf.colours = colours;
    for (int j = 0; j + 1 < classes; j++)
        wf.threshold[j] = (uint16_t)(8 + 40 * j + salt);
    for (int k = 0; k < classes; k++)
        for (int c = 0; c < colours; c++)
            for (int t = 0; t < aem_wiener_taps(colours); t++)
                wf.w[k][c][t] = (int16_t)((int)((k * 31 + c * 7 + t * 13 + salt) % 121) - 60);
    uint8_t *st = NULL;
    size_t n = 0;
    int rc = aecb_wiener_write(&wf, &st, &n, NULL, 0) == AEC_OK ? 0 : -1;
    uint8_t *b = malloc(n + 1);
    b[0] = (uint8_t)((colours == 3) | (salt & 0x7f) << 1);
    if (rc == 0) {
        memcpy(b + 1, st, n);
        rc = save(dir, "wiener", name, b, n + 1);
    }
    free(b), free(st);
    return rc;
}

/* A version-2 file (the restoration filter, spec 6.11) coded by the library
 * at built-in level 7 from a generated picture, so that fuzz_decode, which
 * keeps its model (a built-in one), reaches the filter. */
static int filter_file(const char *dir, const char *name, uint32_t w, uint32_t h, int channels)
{
    uint8_t *pix = malloc((size_t)w * h * (size_t)channels), *file = NULL;
    for (size_t i = 0; i < (size_t)w * h * (size_t)channels; i++)
        pix[i] = (uint8_t)((i * 2654435761u >> 24) % 40 + (i / (size_t)(w * channels)) * 3);
    aec_encoder *e = NULL;
    aec_encode_params p;
    aec_encode_params_default(&p);
    p.quality = 7, p.threads = 1, p.filter = 1;
    size_t n = 0;
    int rc = aec_encoder_create(&e, NULL) != AEC_OK ||
             aec_encode(e, pix, w, h, 0, (aec_layout)channels, &p, &file, &n) != AEC_OK ||
             n < 5 || file[4] != 2 || save(dir, "decode", name, file, n);
    aec_encoder_destroy(e);
    aec_free(file), free(pix);
    return rc ? -1 : 0;
}

/* A version-1 model file f (n bytes, binary32 weights) saved as
 * model/half.aem with its weights in binary16 (spec/model.md). */
static int save_half(const char *dir, const uint8_t *f, size_t n)
{
    size_t params = (size_t)aec_rd64(f + 96), rest = n - 112 - 4 * params;
    size_t hn = 112 + 2 * params + rest;
    uint8_t *h = malloc(hn);
    if (!h)
        return 1;
    memcpy(h, f, 112);
    aec_wr32(h + 108, 1);
    for (size_t i = 0; i < params; i++) {
        uint16_t v = aec_float_to_half(aec_rdf32(f + 112 + 4 * i));
        h[112 + 2 * i] = (uint8_t)v, h[113 + 2 * i] = (uint8_t)(v >> 8);
    }
    memcpy(h + 112 + 2 * params, f + 112 + 4 * params, rest);
    aec_wr32(h + hn - 4, aecb_crc32(0, h, hn - 4));
    int rc = save(dir, "model", "half.aem", h, hn);
    free(h);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkseeds CORPUS_DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    uint8_t *f = NULL;
    size_t n = 0;
    aem_config small = {8, 3, 1, 1, 1, 1, 1, 2, 2, {0}, 0, {0}};
    aec_model *m = model(&small, "fuzz-seed-min", 0, &f, &n);
    if (save(dir, "model", "min.aem", f, n) || save_half(dir, f, n))
        return 1;
    free(f);
    aem_config withdict = {8, 3, 2, 2, 2, 2, 2, 3, 4, {0}, 0, {0}};
    aec_model *m2 = model(&withdict, "fuzz-seed-dict", 32, &f, &n);
    if (save(dir, "model", "dict.aem", f, n))
        return 1;
    free(f);
    aec_model_free(m2);
    if (aec_file(dir, "gen-grey1x1.aec", m, 1, 1, AEC_GRAY, 1, 64) ||
        aec_file(dir, "gen-rgba9x9.aec", m, 9, 9, AEC_RGBA, 2, 64) ||
        aec_file(dir, "gen-rgb130x70-t64.aec", m, 130, 70, AEC_RGB, 2, 64) ||
        aec_file(dir, "gen-ga20x10.aec", m, 20, 10, AEC_GRAY_ALPHA, 2, 128) ||
        aec_file_ex(dir, "gen-lattice-rgb72x24-d32.aec", m, 72, 24, AEC_RGB, 1, 64, 32, 0) ||
        aec_file_ex(dir, "gen-lattice0-ga24x16-d64.aec", m, 24, 16, AEC_GRAY_ALPHA, 0, 64, 64, 0) ||
        aec_file_ex(dir, "gen-split-rgb72x24-d32.aec", m, 72, 24, AEC_RGB, 1, 64, 32,
                    AECB_FLAG_SPLIT) ||
        aec_file_ex(dir, "gen-layers-rgb72x24-d64.aec", m, 72, 24, AEC_RGB, 0, 64, 64,
                    AECB_FLAG_SPLIT | AECB_FLAG_LAYERED) ||
        aec_file_ex(dir, "gen-layers-planes-ga24x16-d32.aec", m, 24, 16, AEC_GRAY_ALPHA, 1, 64,
                    32, AECB_FLAG_LAYERED) ||
        aec_file_ex(dir, "gen-residual-rgb72x24-d64.aec", m, 72, 24, AEC_RGB, 0, 64, 64,
                    AECB_FLAG_SPLIT | AECB_FLAG_LAYERED | AECB_FLAG_RESIDUAL) ||
        aec_file_ex(dir, "gen-residual-ga24x16-d32.aec", m, 24, 16, AEC_GRAY_ALPHA, 1, 64, 32,
                    AECB_FLAG_RESIDUAL))
        return 1;
    if (split_seed(dir, "d1-1x1.bin", 1, 1, 1, 0) || split_seed(dir, "d3-2x1.bin", 3, 2, 1, 1) ||
        split_seed(dir, "d8-7x3.bin", 8, 7, 3, 2) || split_seed(dir, "d10-5x4.bin", 10, 5, 4, 3) ||
        split_seed(dir, "d64-8x8.bin", 64, 8, 8, 4) || split_seed(dir, "d255-3x2.bin", 255, 3, 2, 5) ||
        residual_seed(dir, "c1-b1.bin", 1, 1, 0) || residual_seed(dir, "c3-b6.bin", 3, 6, 1) ||
        residual_seed(dir, "c1-b40.bin", 1, 40, 2) || residual_seed(dir, "c3-b300.bin", 3, 300, 3))
        return 1;
    if (wiener_seed(dir, "c1-k1.bin", 1, 1, 5) || wiener_seed(dir, "c3-k2.bin", 3, 2, 22) ||
        wiener_seed(dir, "c3-k8.bin", 3, 8, 67) || wiener_seed(dir, "c1-k5.bin", 1, 5, 90) ||
        filter_file(dir, "gen-filter-rgb64x48.aec", 64, 48, 3) ||
        filter_file(dir, "gen-filter-ga40x24.aec", 40, 24, 2))
        return 1;
    aec_model_free(m);
    return 0;
}
