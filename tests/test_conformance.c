/* SPDX-License-Identifier: BSD-3-Clause */
/* test_conformance.c - decodes the conformance files of tests/conformance/
 * (spec/bitstream.md section 14) with the models stored there (tiny.aem,
 * pins.aem for the pin-*.aec files and layers.aem, latent 20, for the
 * lattice layers' files) and checks them against
 * tests/conformance/manifest.txt:
 *
 *  - valid files: aec_decode succeeds with the stored models; size, layout
 *    and stages decoded are as listed; the stream hash of spec section 14.2
 *    (the decoded alpha and index streams, then the lattice symbols, see
 *    conformance/stream_hash.h) is exact; the decoded image is within 2
 *    levels per colour sample of NAME.png and its alpha is exact;
 *  - invalid files: aec_decode fails with exactly the listed error;
 *  - the lattice files: what aec_read_info reports of the layer, and that it
 *    applies only on top of every coded stage, in any region and with any
 *    thread count;
 *  - the stream hash is the symbols': two lattice streams of different
 *    bytes but the same symbols hash alike;
 *  - the split-layout files (flags bit 3): rgb100x60-split.aec holds the
 *    symbols of rgb100x60-lattice.aec in the other layout and must decode to
 *    its very pixels; rgba70x70-split0.aec reaches the escape section;
 *  - the lattice layers (flags bit 5): what aec_read_info reports of the
 *    layers of layers-rgb300x70.aec and its cuts, that the cuts decode like
 *    the whole file with as many layers (params.stages counting them), in
 *    regions too, and that layers-d8-rgb100x60.aec (D = 8: one layer) is
 *    rgb100x60-split.aec.
 *
 * Independent of the built-in model.  Run from the repository root (as
 * tests/run_tests.sh does). */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aecodec.h"
#include "bitstream/container.h"
#include "bitstream/zstream.h"
#include "common/imageio.h"
#include "conformance/stream_hash.h"
#include "testlib.h"

#define DIR "tests/conformance"
#define TOLERANCE 2

static aec_model *g_tiny, *g_pins, *g_layers;

static uint8_t *read_all(const char *path, size_t *n)
{
    uint8_t *d = NULL;
    char err[256];
    if (aeio_read_file(path, &d, n, 1u << 24, err, sizeof err)) {
        printf("  %s\n", err);
        return NULL;
    }
    return d;
}

static const struct {
    const char *name;
    aec_status st;
} g_errors[] = {
    {"OK", AEC_OK},
    {"LIMIT", AEC_ERR_LIMIT},
    {"NOT_AEC", AEC_ERR_NOT_AEC},
    {"UNSUPPORTED", AEC_ERR_UNSUPPORTED},
    {"CORRUPT", AEC_ERR_CORRUPT},
    {"TRUNCATED", AEC_ERR_TRUNCATED},
    {"MODEL_MISMATCH", AEC_ERR_MODEL_MISMATCH},
};

static int status_from_name(const char *s, aec_status *st)
{
    for (size_t i = 0; i < sizeof g_errors / sizeof *g_errors; i++)
        if (!strcmp(s, g_errors[i].name)) {
            *st = g_errors[i].st;
            return 0;
        }
    return -1;
}

/* FNV-1a-64 of the decompressed streams a decoder uses, in table order. */
static int stream_hash(const uint8_t *d, size_t n, uint64_t *hash)
{
    char err[256];
    if (conformance_stream_hash(d, n, hash, NULL, err, sizeof err)) {
        printf("  %s\n", err);
        return -1;
    }
    return 0;
}

static int g_valid, g_invalid, g_max_diff;

static void check_valid(const char *name, const uint8_t *d, size_t n, uint32_t w, uint32_t h,
                        int layout, int stages, uint64_t hash, const char *png)
{
    aec_info info;
    aec_status st = aec_read_info(d, n, &info);
    CHECKF(st == AEC_OK, "%s: aec_read_info: %s", name, aec_status_string(st));
    if (st != AEC_OK)
        return;
    CHECKF(info.width == w && info.height == h && (int)info.layout == layout &&
               info.stages_available == stages &&
               (info.model_id == aec_model_id(g_tiny) || info.model_id == aec_model_id(g_pins) ||
                info.model_id == aec_model_id(g_layers)),
           "%s: header %ux%u layout %d, %d stages, model %016llx", name, info.width,
           info.height, (int)info.layout, info.stages_available,
           (unsigned long long)info.model_id);
    uint64_t got = 0;
    CHECKF(stream_hash(d, n, &got) == 0 && got == hash,
           "%s: decoded streams hash to %016llx, expected %016llx", name,
           (unsigned long long)got, (unsigned long long)hash);

    char path[512], err[256];
    snprintf(path, sizeof path, DIR "/%s", png);
    aeio_image ref;
    CHECKF(aeio_read(path, &ref, 0, err, sizeof err) == 0, "%s", err);
    /* Decode with the two conformance models, and with a decoder that holds
     * the built-in model first (it must pick the model by the file's id). */
    for (int pass = 0; pass < 2; pass++) {
        aec_decoder *dec = NULL;
        st = aec_decoder_create(&dec, pass ? NULL : g_tiny);
        if (pass && st == AEC_OK)
            st = aec_decoder_add_model(dec, g_tiny);
        if (st == AEC_OK)
            st = aec_decoder_add_model(dec, g_pins);
        if (st == AEC_OK)
            st = aec_decoder_add_model(dec, g_layers);
        CHECK(st == AEC_OK);
        if (st != AEC_OK) {
            aec_decoder_destroy(dec);
            break;
        }
        aec_decoder_set_threads(dec, 1);
        uint8_t *out = NULL;
        uint32_t ow = 0, oh = 0;
        aec_layout ol = 0;
        st = aec_decode(dec, d, n, NULL, &out, &ow, &oh, &ol);
        CHECKF(st == AEC_OK && ow == w && oh == h && (int)ol == layout,
               "%s: decode: %s %ux%u layout %d (%s)", name, aec_status_string(st), ow, oh,
               (int)ol, aec_decoder_last_error(dec));
        if (st == AEC_OK && ref.pixels && ref.width == w && ref.height == h &&
            ref.channels == layout) {
            int maxd = 0, alpha_ok = 1, has_alpha = layout == 2 || layout == 4;
            for (size_t i = 0; i < (size_t)w * h; i++)
                for (int c = 0; c < layout; c++) {
                    int a = out[i * layout + c], b = ref.pixels[i * layout + c];
                    if (has_alpha && c == layout - 1)
                        alpha_ok &= a == b;
                    else if (abs(a - b) > maxd)
                        maxd = abs(a - b);
                }
            CHECKF(maxd <= TOLERANCE, "%s: differs from %s by up to %d levels", name, png, maxd);
            CHECKF(alpha_ok, "%s: alpha differs from %s (alpha is lossless)", name, png);
            if (maxd > g_max_diff)
                g_max_diff = maxd;
        } else if (st == AEC_OK) {
            CHECKF(0, "%s: %s is %ux%u with %d channels", name, png, ref.width, ref.height,
                   ref.channels);
        }
        aec_free(out);
        aec_decoder_destroy(dec);
    }
    aeio_free(&ref);
    g_valid++;
}

static void check_invalid(const char *name, const uint8_t *d, size_t n, aec_status expect)
{
    aec_decoder *dec = NULL;
    CHECK(aec_decoder_create(&dec, g_tiny) == AEC_OK);
    if (!dec)
        return;
    aec_decoder_set_threads(dec, 1);
    uint8_t *out = NULL;
    uint32_t ow, oh;
    aec_status st = aec_decode(dec, d, n, NULL, &out, &ow, &oh, NULL);
    CHECKF(st == expect && out == NULL, "%s: %s (%s), expected %s", name, aec_status_string(st),
           aec_decoder_last_error(dec), aec_status_string(expect));
    aec_free(out);
    aec_decoder_destroy(dec);
    g_invalid++;
}

static void test_conformance_files(void)
{
    aec_status st = aec_model_load_file(&g_tiny, DIR "/tiny.aem");
    CHECKF(st == AEC_OK, DIR "/tiny.aem: %s (run from the repository root)",
           aec_status_string(st));
    if (st != AEC_OK)
        return;
    CHECK(aec_model_stages(g_tiny) == 4);
    st = aec_model_load_file(&g_pins, DIR "/pins.aem");
    CHECKF(st == AEC_OK, DIR "/pins.aem: %s", aec_status_string(st));
    if (st != AEC_OK)
        return;
    st = aec_model_load_file(&g_layers, DIR "/layers.aem");
    CHECKF(st == AEC_OK, DIR "/layers.aem: %s", aec_status_string(st));
    if (st != AEC_OK)
        return;
    CHECK(aec_model_stages(g_layers) == 4);
    FILE *f = fopen(DIR "/manifest.txt", "r");
    CHECKF(f != NULL, "cannot open " DIR "/manifest.txt");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        if (line[0] == '#' || line[0] == '\n')
            continue;
        char name[128], result[32], png[128];
        unsigned w, h;
        int layout, stages;
        unsigned long long hash;
        int k = sscanf(line, "%127s %31s %u %u %d %d %llx %127s", name, result, &w, &h, &layout,
                       &stages, &hash, png);
        aec_status expect;
        CHECKF(k >= 2 && status_from_name(result, &expect) == 0, "manifest line: %s", line);
        if (k < 2 || status_from_name(result, &expect) != 0)
            continue;
        char path[512];
        snprintf(path, sizeof path, DIR "/%s", name);
        size_t n = 0;
        uint8_t *d = read_all(path, &n);
        CHECKF(d != NULL, "cannot read %s", path);
        if (!d)
            continue;
        if (expect == AEC_OK) {
            CHECKF(k == 8, "manifest line: %s", line);
            if (k == 8)
                check_valid(name, d, n, w, h, layout, stages, hash, png);
        } else {
            check_invalid(name, d, n, expect);
        }
        free(d);
    }
    fclose(f);
    printf("  %d valid files (largest difference %d levels), %d invalid files\n", g_valid,
           g_max_diff, g_invalid);
    CHECK(g_valid >= 23 && g_invalid >= 26);
    aec_model_free(g_tiny);
    aec_model_free(g_pins);
    aec_model_free(g_layers);
    g_tiny = g_pins = g_layers = NULL;
}

static uint8_t *decode_file(const uint8_t *d, size_t n, int stages, int threads, uint32_t x,
                            uint32_t y, uint32_t w, uint32_t h)
{
    aec_decoder *dec = NULL;
    if (aec_decoder_create(&dec, g_tiny) != AEC_OK)
        return NULL;
    if (g_layers && aec_decoder_add_model(dec, g_layers) != AEC_OK) {
        aec_decoder_destroy(dec);
        return NULL;
    }
    aec_decoder_set_threads(dec, threads);
    aec_decode_params p;
    aec_decode_params_default(&p);
    p.stages = stages, p.x = x, p.y = y, p.w = w, p.h = h;
    uint8_t *out = NULL;
    uint32_t ow, oh;
    if (aec_decode(dec, d, n, &p, &out, &ow, &oh, NULL) != AEC_OK)
        out = NULL;
    aec_decoder_destroy(dec);
    return out;
}

/* The lattice layer of rgb100x60-lattice.aec (2 of 4 stages + lattice, step
 * 1/32): aec_read_info's fields; the layer applies with a stages limit of 0
 * or >= the coded stages, never on top of fewer stages, nor when it is cut
 * (the -cut file then decodes like the stages alone); regions and thread
 * counts do not change a pixel. */
static void test_lattice_files(void)
{
    if (aec_model_load_file(&g_tiny, DIR "/tiny.aem") != AEC_OK)
        return;
    size_t n = 0, nc = 0;
    uint8_t *d = read_all(DIR "/rgb100x60-lattice.aec", &n);
    uint8_t *cut = read_all(DIR "/rgb100x60-lattice-cut.aec", &nc);
    CHECK(d && cut && nc == n - 1);
    aec_info info;
    if (!d || !cut || aec_read_info(d, n, &info) != AEC_OK) {
        CHECK(0);
        goto done;
    }
    aecb_header h;
    CHECK(aecb_parse(d, n, NULL, &h, NULL, 0) == AEC_OK);
    uint64_t lattice_bytes = 0;
    for (uint32_t t = 0; t < h.n_tiles; t++)
        lattice_bytes += h.sizes[aecb_lattice_stream_index(&h, t)];
    aecb_header_free(&h);
    CHECK(info.stages_coded == 2 && info.stages_available == 2);
    CHECK(info.lattice_step == 1.0f / 32 && info.lattice_available == 1);
    CHECK(info.lattice_bytes == lattice_bytes && lattice_bytes > 0);
    CHECK(aec_read_info(cut, nc, &info) == AEC_OK && info.lattice_available == 0 &&
          info.stages_available == 2 && info.lattice_bytes == lattice_bytes);
    size_t px = 100 * 60 * 3;
    uint8_t *all = decode_file(d, n, 0, 1, 0, 0, 0, 0);
    uint8_t *two = decode_file(d, n, 2, 1, 0, 0, 0, 0);
    uint8_t *nine = decode_file(d, n, 9, 2, 0, 0, 0, 0);
    uint8_t *one = decode_file(d, n, 1, 1, 0, 0, 0, 0);
    uint8_t *cut_all = decode_file(cut, nc, 0, 1, 0, 0, 0, 0);
    uint8_t *cut_one = decode_file(cut, nc, 1, 1, 0, 0, 0, 0);
    uint8_t *region = decode_file(d, n, 0, 2, 37, 5, 50, 41);
    CHECK(all && two && nine && one && cut_all && cut_one && region);
    if (all && two && nine && one && cut_all && cut_one && region) {
        CHECK(memcmp(all, two, px) == 0 && memcmp(all, nine, px) == 0);
        CHECK(memcmp(all, cut_all, px) != 0);   /* the layer changes the image */
        CHECK(memcmp(one, cut_one, px) == 0);   /* 1 stage: no layer either way */
        int same = 1;
        for (uint32_t y = 0; y < 41; y++)
            same &= memcmp(region + (size_t)y * 50 * 3, all + ((size_t)(5 + y) * 100 + 37) * 3,
                           50 * 3) == 0;
        CHECKF(same, "a region of the lattice file differs from the whole decode");
    }
    aec_free(all), aec_free(two), aec_free(nine), aec_free(one);
    aec_free(cut_all), aec_free(cut_one), aec_free(region);
done:
    free(d), free(cut);
    aec_model_free(g_tiny);
    g_tiny = NULL;
}

/* The split layout (flags bit 3).  rgb100x60-split.aec is
 * rgb100x60-lattice.aec with its lattice streams re-coded: the same
 * header but for bit 3, the same other streams, the same stream hash,
 * the same pixels whole, as a region, with 2 threads, and cut before its
 * end (the stages alone).  rgba70x70-split0.aec uses every section, R16
 * (escapes) included. */
static void test_split_files(void)
{
    if (aec_model_load_file(&g_tiny, DIR "/tiny.aem") != AEC_OK)
        return;
    size_t n = 0, np = 0, n0 = 0;
    uint8_t *d = read_all(DIR "/rgb100x60-split.aec", &n);
    uint8_t *p = read_all(DIR "/rgb100x60-lattice.aec", &np);
    uint8_t *z = read_all(DIR "/rgba70x70-split0.aec", &n0);
    aecb_header h, ph, zh;
    CHECK(d && p && z);
    if (!d || !p || !z || aecb_parse(d, n, NULL, &h, NULL, 0) != AEC_OK) {
        CHECK(0);
        goto done;
    }
    CHECK(aecb_parse(p, np, NULL, &ph, NULL, 0) == AEC_OK);
    CHECK(d[7] == (AECB_FLAG_LATTICE | AECB_FLAG_SPLIT) && p[7] == AECB_FLAG_LATTICE);
    CHECK(memcmp(d + 8, p + 8, 20 - 8) == 0 && memcmp(d + 24, p + 24, 8) == 0); /* geometry, model */
    uint32_t first = aecb_lattice_stream_index(&h, 0);
    for (uint32_t i = 0; i < h.n_streams && i < ph.n_streams; i++)
        if (i < first)
            CHECK(h.sizes[i] == ph.sizes[i] &&
                  memcmp(d + h.offsets[i], p + ph.offsets[i], h.sizes[i]) == 0);
    uint64_t hs = 0, hp = 1;
    CHECK(stream_hash(d, n, &hs) == 0 && stream_hash(p, np, &hp) == 0 && hs == hp);
    aec_info info;
    CHECK(aec_read_info(d, n, &info) == AEC_OK && info.lattice_available &&
          info.stages_coded == 2 && info.lattice_step == 1.0f / 32);
    size_t px = 100 * 60 * 3;
    uint8_t *a = decode_file(d, n, 0, 1, 0, 0, 0, 0), *b = decode_file(p, np, 0, 1, 0, 0, 0, 0);
    uint8_t *a2 = decode_file(d, n, 0, 2, 0, 0, 0, 0);
    uint8_t *ra = decode_file(d, n, 0, 2, 37, 5, 50, 41), *rb = decode_file(p, np, 0, 1, 37, 5, 50, 41);
    uint8_t *ca = decode_file(d, n - 1, 0, 1, 0, 0, 0, 0), *cb = decode_file(p, np - 1, 0, 1, 0, 0, 0, 0);
    CHECK(a && b && a2 && ra && rb && ca && cb);
    if (a && b && a2 && ra && rb && ca && cb) {
        CHECKF(memcmp(a, b, px) == 0, "the split file decodes unlike its planes twin");
        CHECK(memcmp(a, a2, px) == 0 && memcmp(ra, rb, 50 * 41 * 3) == 0);
        CHECK(memcmp(ca, cb, px) == 0 && memcmp(ca, a, px) != 0); /* cut: the stages alone */
    }
    aec_free(a), aec_free(b), aec_free(a2), aec_free(ra), aec_free(rb), aec_free(ca), aec_free(cb);
    /* every section of the split-only file is used by some tile: 2 + 1 + 4
     * sections for D = 8, R16 the sixth */
    if (aecb_parse(z, n0, NULL, &zh, NULL, 0) == AEC_OK) {
        CHECK(zh.stages == 0 && (zh.flags & AECB_FLAG_SPLIT) && zh.lattice_dim == 8);
        int used[7] = {0};
        for (uint32_t t = 0; t < zh.n_tiles; t++) {
            uint32_t i = aecb_lattice_stream_index(&zh, t);
            unsigned long long sz[7];
            CHECK(tl_split_directory(z + zh.offsets[i], zh.sizes[i], 7, sz) >= 0);
            for (int k = 0; k < 7; k++)
                used[k] += sz[k] > 0;
        }
        for (int k = 0; k < 7; k++)
            CHECKF(used[k] > 0, "rgba70x70-split0.aec: section %d is empty in every tile", k);
        aecb_header_free(&zh);
    } else {
        CHECK(0);
    }
    aecb_header_free(&ph);
    aecb_header_free(&h);
done:
    free(d), free(p), free(z);
    aec_model_free(g_tiny);
    g_tiny = NULL;
}

/* rgb100x60-lattice.aec with tile 0's lattice stream replaced by `planes`
 * (the planes layout, recompressed), table and CRCs redone; NULL on error. */
static uint8_t *with_planes(const uint8_t *d, const aecb_header *h, const uint8_t *planes,
                            size_t raw, size_t *size)
{
    uint8_t *z = NULL, *f = NULL;
    size_t zn = 0;
    aecb_header g;
    memset(&g, 0, sizeof g);
    g.width = h->width, g.height = h->height, g.layout = h->layout, g.stages = h->stages;
    g.tile_size = h->tile_size, g.block_size = h->block_size, g.model_id = h->model_id;
    g.flags = h->flags, g.lattice_dim = h->lattice_dim, g.lattice_step_q = h->lattice_step_q;
    const uint8_t **streams = calloc(h->n_streams, sizeof *streams);
    if (streams && aecb_zstd_compress(NULL, planes, raw, 19, NULL, &z, &zn, NULL, 0) == AEC_OK &&
        aecb_header_init(&g, NULL, 0) == AEC_OK && g.n_streams == h->n_streams) {
        for (uint32_t i = 0; i < g.n_streams; i++)
            streams[i] = d + h->offsets[i], g.sizes[i] = h->sizes[i];
        uint32_t i = aecb_lattice_stream_index(h, 0);
        streams[i] = z, g.sizes[i] = (uint32_t)zn;
        if (aecb_write(&g, streams, &f, size) != AEC_OK)
            f = NULL;
    }
    aecb_header_free(&g);
    free(streams), free(z);
    return f;
}

/* The stream hash is defined on the lattice symbols (spec 14.2), not on a
 * layout's bytes: two planes-layout files whose first code differs (the
 * residual 16383, or 32767 clamped to the same symbol 16383) hash alike and
 * decode alike, and unlike the file they came from. */
static void test_hash_on_symbols(void)
{
    if (aec_model_load_file(&g_tiny, DIR "/tiny.aem") != AEC_OK)
        return;
    size_t n = 0, na = 0, nb = 0;
    uint8_t *d = read_all(DIR "/rgb100x60-lattice.aec", &n), *planes = NULL;
    uint8_t *fa = NULL, *fb = NULL, *pa = NULL, *pb = NULL;
    aecb_header h;
    if (!d || aecb_parse(d, n, NULL, &h, NULL, 0) != AEC_OK) {
        CHECK(0);
        free(d);
        goto done;
    }
    uint32_t lw, lh, i = aecb_lattice_stream_index(&h, 0);
    aecb_tile_latents(&h, 0, &lw, &lh);
    size_t cells = (size_t)h.lattice_dim * lw * lh, raw = 2 * cells;
    planes = malloc(raw);
    CHECK(planes && aecb_zstd_decompress(NULL, NULL, d + h.offsets[i], h.sizes[i], planes, raw,
                                         NULL, 0) == AEC_OK);
    if (planes) {
        planes[0] = 0xFE, planes[cells] = 0x7F; /* code 32766: r = 16383, symbol 16383 */
        fa = with_planes(d, &h, planes, raw, &na);
        planes[cells] = 0xFF; /* code 65534: r = 32767, clamped to 16383 */
        fb = with_planes(d, &h, planes, raw, &nb);
    }
    uint64_t h0 = 0, ha = 1, hb = 2;
    CHECK(fa && fb && stream_hash(d, n, &h0) == 0 && stream_hash(fa, na, &ha) == 0 &&
          stream_hash(fb, nb, &hb) == 0);
    CHECKF(ha == hb && ha != h0, "hashes %016llx %016llx (the original %016llx)",
           (unsigned long long)ha, (unsigned long long)hb, (unsigned long long)h0);
    pa = fa ? decode_file(fa, na, 0, 1, 0, 0, 0, 0) : NULL;
    pb = fb ? decode_file(fb, nb, 0, 1, 0, 0, 0, 0) : NULL;
    CHECK(pa && pb && memcmp(pa, pb, 100 * 60 * 3) == 0);
    aec_free(pa), aec_free(pb);
    free(fa), free(fb), free(planes), free(d);
    aecb_header_free(&h);
done:
    aec_model_free(g_tiny);
    g_tiny = NULL;
}

/* The lattice layers (flags bit 5, spec/bitstream.md 6.9 and 8), D = 20:
 * layers-rgb300x70.aec (no stage, split layout, 2x1 tiles) holds layer 0
 * (channels 0-7), 1 (8-15) and 2 (16-19) layer-major; its -cut1 is its
 * prefix one byte short of layer 1's end (1 layer), -cut2 the prefix
 * ending with layer 1 (2 layers).  Each cut decodes like the whole file
 * with params.stages = that many layers, whole and as a region; each layer
 * changes the image.  layers-rgba150x70-planes.aec codes the layers in
 * the planes layout over 2 stages and alpha; layers-d8-rgb100x60.aec is
 * rgb100x60-split.aec with LAYERED: one layer, the same pixels. */
static void test_layered_files(void)
{
    if (aec_model_load_file(&g_tiny, DIR "/tiny.aem") != AEC_OK ||
        aec_model_load_file(&g_layers, DIR "/layers.aem") != AEC_OK) {
        CHECK(0);
        goto done;
    }
    static const char *const names[3] = {DIR "/layers-rgb300x70.aec",
                                         DIR "/layers-rgb300x70-cut1.aec",
                                         DIR "/layers-rgb300x70-cut2.aec"};
    uint8_t *f[3] = {NULL, NULL, NULL}, *img[3] = {NULL, NULL, NULL};
    size_t n[3] = {0, 0, 0}, px = 300 * 70 * 3;
    uint64_t hash[3] = {0, 1, 2};
    for (int k = 0; k < 3; k++) {
        f[k] = read_all(names[k], &n[k]);
        CHECKF(f[k] != NULL, "cannot read %s", names[k]);
    }
    aecb_header h;
    if (!f[0] || !f[1] || !f[2] || aecb_parse(f[0], n[0], NULL, &h, NULL, 0) != AEC_OK) {
        CHECK(0);
        goto free_files;
    }
    CHECK(h.flags == (AECB_FLAG_LATTICE | AECB_FLAG_SPLIT | AECB_FLAG_LAYERED) &&
          h.lattice_dim == 20 && h.stages == 0 && h.n_tiles == 2 && h.lattice_layers == 3 &&
          h.n_streams == 6);
    /* The directories (6.7, 6.9): layer 0 has PD = 2 (7 sections, its
     * escapes used in some tile), layers 1 and 2 none (5 sections); the
     * sizes fill each stream. */
    int escapes = 0;
    for (int l = 0; l < 3 && h.n_streams == 6; l++)
        for (uint32_t t = 0; t < h.n_tiles; t++) {
            uint32_t i = aecb_layer_stream_index(&h, l, t);
            size_t ns = l == 0 ? 7 : 5;
            unsigned long long sz[7], sum = 0;
            long dir = tl_split_directory(f[0] + h.offsets[i], h.sizes[i], ns, sz);
            for (size_t k = 0; k < ns; k++)
                sum += sz[k];
            CHECKF(i == (uint32_t)(l * 2 + t) && dir > 0 && dir + sum == h.sizes[i],
                   "layers-rgb300x70.aec: layer %d of tile %u is not a %zu-section stream", l, t,
                   ns);
            escapes += l == 0 && dir > 0 && sz[5] > 0;
        }
    CHECK(escapes > 0);
    /* lend(2): past the last stream of layer 1, the 4th of 6 */
    uint64_t lend2 = h.offsets[3] + h.sizes[3];
    CHECK(n[1] == lend2 - 1 && n[2] == lend2 && memcmp(f[1], f[0], n[1]) == 0 &&
          memcmp(f[2], f[0], n[2]) == 0);
    static const int avail[3] = {3, 1, 2};
    for (int k = 0; k < 3; k++) {
        aec_info info;
        CHECK(aec_read_info(f[k], n[k], &info) == AEC_OK && info.stages_coded == 0 &&
              info.stages_available == 0 && info.lattice_layers == 3 &&
              info.lattice_layers_available == avail[k] && info.lattice_available == (k == 0) &&
              info.lattice_step == 1.0f / 64);
        uint64_t sum = 0;
        for (int l = 0; l < 3; l++) {
            uint64_t lb = 0;
            for (uint32_t t = 0; t < h.n_tiles; t++)
                lb += h.sizes[aecb_layer_stream_index(&h, l, t)];
            CHECK(info.layer_bytes[l] == lb && lb > 0);
            sum += lb;
        }
        CHECK(info.lattice_bytes == sum);
        CHECK(stream_hash(f[k], n[k], &hash[k]) == 0);
        img[k] = decode_file(f[k], n[k], 0, 1, 0, 0, 0, 0);
        CHECK(img[k] != NULL);
    }
    /* a cut inside layer 0 holds nothing whole: TRUNCATED */
    aec_info info;
    CHECK(aec_read_info(f[0], (size_t)(h.offsets[1] + h.sizes[1] - 1), &info) ==
          AEC_ERR_TRUNCATED);
    CHECKF(hash[0] != hash[1] && hash[0] != hash[2] && hash[1] != hash[2],
           "the layers' stream hashes are not all different");
    if (img[0] && img[1] && img[2]) {
        CHECK(memcmp(img[0], img[1], px) != 0 && memcmp(img[0], img[2], px) != 0 &&
              memcmp(img[1], img[2], px) != 0); /* each layer changes the image */
        for (int l = 1; l <= 3; l++) { /* params.stages: the 0 stages, then l layers */
            uint8_t *a = decode_file(f[0], n[0], l, l == 2 ? 2 : 1, 0, 0, 0, 0);
            CHECKF(a && memcmp(a, img[l == 3 ? 0 : l], px) == 0,
                   "layers-rgb300x70.aec with %d layers differs from its cut", l);
            aec_free(a);
        }
        for (int k = 0; k < 3; k++) { /* a region across the tile seam, 2 threads */
            uint8_t *r = decode_file(f[k], n[k], 0, 2, 230, 11, 60, 50);
            int same = r != NULL;
            for (uint32_t y = 0; same && y < 50; y++)
                same = memcmp(r + (size_t)y * 60 * 3, img[k] + ((size_t)(11 + y) * 300 + 230) * 3,
                              60 * 3) == 0;
            CHECKF(same, "%s: a region differs from the whole decode", names[k]);
            aec_free(r);
        }
    }
    aecb_header_free(&h);

    /* the planes layout in layers, over 2 stages and alpha */
    size_t np = 0;
    uint8_t *p = read_all(DIR "/layers-rgba150x70-planes.aec", &np);
    if (p && aecb_parse(p, np, NULL, &h, NULL, 0) == AEC_OK) {
        CHECK(h.flags == (AECB_FLAG_ALPHA | AECB_FLAG_LATTICE | AECB_FLAG_LAYERED) &&
              h.stages == 2 && h.n_tiles == 2 && h.lattice_layers == 3 &&
              h.n_streams == 1 + 2 * 2 + 3 * 2);
        for (int l = 0; l < 3; l++) /* planes: 2 bytes per symbol of the layer */
            for (uint32_t t = 0; t < h.n_tiles; t++) {
                uint32_t lw, lh;
                aecb_tile_latents(&h, t, &lw, &lh);
                CHECK(aecb_stream_raw_size(&h, aecb_layer_stream_index(&h, l, t)) ==
                      2ull * (l < 2 ? 8 : 4) * lw * lh);
            }
        size_t ppx = 150 * 70 * 4;
        uint8_t *all = decode_file(p, np, 0, 1, 0, 0, 0, 0);
        uint8_t *five = decode_file(p, np, 5, 2, 0, 0, 0, 0); /* 2 stages + 3 layers */
        uint8_t *two = decode_file(p, np, 2, 1, 0, 0, 0, 0);  /* the stages alone */
        uint8_t *three = decode_file(p, np, 3, 1, 0, 0, 0, 0); /* and layer 0 */
        CHECK(all && five && two && three && memcmp(all, five, ppx) == 0 &&
              memcmp(all, two, ppx) != 0 && memcmp(all, three, ppx) != 0 &&
              memcmp(two, three, ppx) != 0);
        aec_free(all), aec_free(five), aec_free(two), aec_free(three);
        aecb_header_free(&h);
    } else {
        CHECK(0);
    }
    free(p);

    /* D = 8: LAYERED makes one layer of all 8 channels; nothing changes */
    size_t n8 = 0, ns = 0;
    uint8_t *d8 = read_all(DIR "/layers-d8-rgb100x60.aec", &n8);
    uint8_t *sp = read_all(DIR "/rgb100x60-split.aec", &ns);
    if (d8 && sp && n8 == ns && aec_read_info(d8, n8, &info) == AEC_OK) {
        CHECK(info.lattice_layers == 1 && info.lattice_layers_available == 1);
        CHECK(d8[7] == (sp[7] | AECB_FLAG_LAYERED) && memcmp(d8, sp, 7) == 0 &&
              memcmp(d8 + 8, sp + 8, 44 - 8) == 0 && memcmp(d8 + 48, sp + 48, ns - 48) == 0);
        uint64_t h8 = 0, hs = 1;
        CHECK(stream_hash(d8, n8, &h8) == 0 && stream_hash(sp, ns, &hs) == 0 && h8 == hs);
        uint8_t *a = decode_file(d8, n8, 0, 1, 0, 0, 0, 0);
        uint8_t *b = decode_file(sp, ns, 0, 1, 0, 0, 0, 0);
        CHECK(a && b && memcmp(a, b, 100 * 60 * 3) == 0);
        aec_free(a), aec_free(b);
    } else {
        CHECK(0);
    }
    free(d8), free(sp);
free_files:
    for (int k = 0; k < 3; k++)
        free(f[k]), aec_free(img[k]);
done:
    aec_model_free(g_tiny);
    aec_model_free(g_layers);
    g_tiny = g_layers = NULL;
}

/* The conformance files name the tiny model, not the built-in one. */
/* meta-grey33x17.aec (spec/bitstream.md 6.8 and 14): its metadata stream
 * holds an ICCP chunk of the bytes 00..0F and an EXIF chunk of a
 * big-endian TIFF header with an empty IFD0; grey33x17.aec has none, and a
 * cut before the last stream has none to read. */
static void test_metadata_file(void)
{
    static const uint8_t icc[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
    static const uint8_t exif[14] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0};
    size_t n = 0, plain_n = 0;
    uint8_t *d = read_all(DIR "/meta-grey33x17.aec", &n);
    uint8_t *plain = read_all(DIR "/grey33x17.aec", &plain_n);
    CHECK(d && plain);
    if (d && plain) {
        aec_metadata md;
        CHECK(aec_read_metadata(d, n, &md) == AEC_OK);
        CHECK(md.icc_size == sizeof icc && memcmp(md.icc, icc, sizeof icc) == 0);
        CHECK(md.exif_size == sizeof exif && memcmp(md.exif, exif, sizeof exif) == 0);
        CHECK(aec_read_metadata(plain, plain_n, &md) == AEC_OK && !md.icc && !md.exif);
        CHECK(aec_read_metadata(d, n - 1, &md) == AEC_ERR_TRUNCATED);
        CHECK(n == plain_n + 8 + 8 + sizeof icc + 8 + sizeof exif);
    }
    free(d);
    free(plain);
}

static void test_default_model_refuses(void)
{
    size_t n = 0;
    uint8_t *d = read_all(DIR "/rgb100x60.aec", &n);
    CHECK(d != NULL);
    if (!d)
        return;
    aec_decoder *dec = NULL;
    CHECK(aec_decoder_create(&dec, NULL) == AEC_OK);
    uint8_t *out = NULL;
    uint32_t ow, oh;
    CHECK(aec_decode(dec, d, n, NULL, &out, &ow, &oh, NULL) == AEC_ERR_MODEL_MISMATCH && !out);
    aec_decoder_destroy(dec);
    free(d);
}

int main(void)
{
    RUN_TEST(test_conformance_files);
    RUN_TEST(test_lattice_files);
    RUN_TEST(test_split_files);
    RUN_TEST(test_hash_on_symbols);
    RUN_TEST(test_layered_files);
    RUN_TEST(test_metadata_file);
    RUN_TEST(test_default_model_refuses);
    TEST_EXIT();
}
