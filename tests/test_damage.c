/* SPDX-License-Identifier: BSD-3-Clause */
/* test_damage.c - damaged, truncated and hostile inputs through the public
 * decoding API (aec_read_info, aec_decode, aec_model_load_memory).
 *
 * Whatever the input, the library must return an error or AEC_OK with an
 * image of the size and layout the header declares; it must never crash,
 * read or write out of bounds, leak, or allocate the memory of an image
 * its limits refuse (run it under `make test-asan` for the first three).
 *
 *  - every truncation length of small files (fewer stages, no lattice
 *    layer, or TRUNCATED);
 *  - every single-bit change of the header and table, one per stream byte;
 *  - seeded random damage: bytes changed, inserted, deleted, anywhere or in
 *    the streams, with and without the checksums made valid again (so that
 *    the zstd frames, the codebook look-up and the network see it);
 *  - decompression bombs: huge declared images, huge tables and streams;
 *  - the fuzz seed corpus and every regression input in tests/fuzz/ (the
 *    image reader's too, fuzz_imageio: tools/common/imageio.c).
 *
 * Files are coded at test time with the built-in model, so nothing here
 * depends on which model that is; four of them get a lattice refinement
 * layer written here (flags bit 2), one on top of VQ stages, one alone,
 * each in the planes layout and in the split layout (flags bit 3). */
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "aecodec.h"
#include "bitstream/container.h"
#include "bitstream/lattice_stream.h"
#include "fuzz/fuzz_common.h"
#include "fuzz/fuzz_image.h"
#include "testlib.h"
#include "vq/lattice.h"

/* ---- helpers ------------------------------------------------------------ */

static uint64_t rng_state = 0x9E3779B97F4A7C15ull;
static uint32_t rnd(void)
{
    rng_state = rng_state * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(rng_state >> 33);
}
static uint32_t rnd_below(uint32_t n) { return n ? rnd() % n : 0; }

static aec_decoder *g_dec; /* built-in model, one thread */
static long g_inputs, g_decoded;

/* A smooth synthetic image with edges and some noise; alpha a pattern. */
static uint8_t *make_image(uint32_t w, uint32_t h, int ch, unsigned seed)
{
    uint8_t *p = malloc((size_t)w * h * ch);
    uint32_t r = seed * 2654435761u + 7;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            r = r * 1664525u + 1013904223u;
            int v = (int)((x * 3 + y * 2 + seed * 17) & 255) / 2 + 40 + (int)((r >> 28) & 7);
            v += ((x / 11 + y / 7) & 1) ? 30 : 0;
            for (int c = 0; c < ch; c++) {
                int s = v + c * 25;
                if ((ch == 2 && c == 1) || c == 3)
                    s = (int)((x * 5 + y * 9) & 255);
                p[((size_t)y * w + x) * ch + c] = (uint8_t)(s > 255 ? 255 : s);
            }
        }
    return p;
}

typedef struct {
    const char *name;
    uint8_t *data;
    size_t size;
    uint32_t w, h;
    aec_layout layout;
    int stages;
    aecb_header hd;  /* parsed header of the intact file */
    uint8_t **ref;   /* ref[s-1]: decoded image with s stages (with the
                        lattice layer when s = stages)                    */
    const uint8_t *ref_cut; /* lattice files: every stage, no layer (the
                        VQ file's decode), what a file cut in the layer
                        gives; NULL otherwise                             */
} sample;

static int decode_refs(sample *s);

static int encode_sample(sample *s, const char *name, uint32_t w, uint32_t h, aec_layout layout,
                         int quality, int tile, unsigned seed)
{
    memset(s, 0, sizeof *s);
    s->name = name, s->w = w, s->h = h, s->layout = layout;
    int S = aec_model_stages(aec_model_default());
    s->stages = quality < S ? quality : S;
    uint8_t *pix = make_image(w, h, (int)layout, seed);
    aec_encoder *enc = NULL;
    /* the default model given explicitly: a level is then a number of VQ
     * stages (the built-in levels put the lattice model above level 2) */
    aec_status st = aec_encoder_create(&enc, aec_model_default());
    if (st == AEC_OK) {
        aec_encode_params p;
        aec_encode_params_default(&p);
        p.quality = s->stages, p.tile_size = tile, p.threads = 1;
        st = aec_encode(enc, pix, w, h, 0, layout, &p, &s->data, &s->size);
    }
    aec_encoder_destroy(enc);
    free(pix);
    CHECKF(st == AEC_OK, "encode %s: %s", name, aec_status_string(st));
    if (st != AEC_OK)
        return -1;
    st = aecb_parse(s->data, s->size, NULL, &s->hd, NULL, 0);
    CHECKF(st == AEC_OK, "parse %s: %s", name, aec_status_string(st));
    if (st != AEC_OK)
        return -1;
    return decode_refs(s);
}

/* Decodes s->data with 1..s->stages stages into s->ref. */
static int decode_refs(sample *s)
{
    s->ref = calloc((size_t)(s->stages ? s->stages : 1), sizeof *s->ref);
    for (int k = s->stages ? 1 : 0; k <= s->stages; k++) {
        aec_decode_params p;
        aec_decode_params_default(&p);
        p.stages = k;
        uint32_t ow = 0, oh = 0;
        uint8_t **dst = &s->ref[k ? k - 1 : 0];
        aec_status st = aec_decode(g_dec, s->data, s->size, &p, dst, &ow, &oh, NULL);
        CHECKF(st == AEC_OK && ow == s->w && oh == s->h, "decode %s with %d stages: %s", s->name,
               k, aec_status_string(st));
        if (st != AEC_OK)
            return -1;
    }
    return 0;
}

/* A lattice symbol pattern: mostly small, some beyond one byte, both signs
 * (within +-AEM_LATTICE_MAX_SYMBOL). */
static int32_t lattice_symbol(size_t i)
{
    uint32_t r = (uint32_t)i * 2654435761u;
    int32_t v = (int32_t)((r >> 13) % 7) - 3;
    return (i % 37 == 5) ? v * 150 : v;
}

/* Makes *dst from src (a VQ file of the built-in default model): its first
 * keep stages plus a lattice layer of step 1/64 over the model's latent, in
 * the planes layout, or with planes_twin (made the same way before) in the
 * split layout, which must then decode to the twin's pixels. */
static int make_lattice_sample(sample *dst, const sample *src, const char *name, int keep,
                               const sample *planes_twin)
{
    const aec_model *m = aec_model_default();
    memset(dst, 0, sizeof *dst);
    dst->name = name, dst->w = src->w, dst->h = src->h, dst->layout = src->layout;
    dst->stages = keep;
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = src->w, h.height = src->h, h.layout = (uint8_t)src->layout, h.stages = (uint8_t)keep;
    h.tile_size = src->hd.tile_size, h.block_size = src->hd.block_size;
    h.model_id = src->hd.model_id, h.flags = (uint8_t)(src->hd.flags | AECB_FLAG_LATTICE);
    if (planes_twin)
        h.flags |= AECB_FLAG_SPLIT;
    h.lattice_dim = (uint8_t)m->cfg.latent, h.lattice_step_q = AECB_LATTICE_STEP_ONE / 64;
    if (aecb_header_init(&h, NULL, 0) != AEC_OK)
        return -1;
    const uint8_t **streams = calloc(h.n_streams, sizeof *streams);
    uint8_t **owned = calloc(h.n_tiles, sizeof *owned);
    uint32_t kept = h.n_streams - h.n_tiles; /* alpha and the kept stages: same order */
    for (uint32_t i = 0; i < kept; i++)
        streams[i] = src->data + src->hd.offsets[i], h.sizes[i] = src->hd.sizes[i];
    int rc = 0;
    for (uint32_t t = 0; t < h.n_tiles && rc == 0; t++) {
        uint32_t i = aecb_lattice_stream_index(&h, t), lw, lh;
        aecb_tile_latents(&h, t, &lw, &lh);
        size_t raw = (size_t)aecb_stream_raw_size(&h, i), half = raw / 2, sz = 0;
        uint8_t *planes = malloc(raw);
        int32_t *sym = malloc(sizeof *sym * half);
        for (size_t k = 0; k < half; k++)
            sym[k] = lattice_symbol(k + t * 1000);
        aec_status st;
        if (planes_twin) {
            st = aecb_split_write(NULL, sym, (size_t)m->cfg.latent, lw, lh, 3, &owned[t], &sz,
                                  NULL, 0);
        } else {
            aem_lattice_pack(sym, (size_t)m->cfg.latent, lw, lh, planes);
            st = aecb_zstd_compress(NULL, planes, raw, 3, NULL, &owned[t], &sz, NULL, 0);
        }
        rc = st == AEC_OK ? 0 : -1;
        streams[i] = owned[t], h.sizes[i] = (uint32_t)sz;
        free(planes), free(sym);
    }
    if (rc == 0 && aecb_write(&h, streams, &dst->data, &dst->size) != AEC_OK)
        rc = -1;
    for (uint32_t t = 0; t < h.n_tiles; t++)
        free(owned[t]);
    free(owned), free(streams);
    aecb_header_free(&h);
    if (rc == 0)
        rc = aecb_parse(dst->data, dst->size, NULL, &dst->hd, NULL, 0) == AEC_OK ? 0 : -1;
    CHECKF(rc == 0, "making %s", name);
    if (rc != 0 || decode_refs(dst))
        return -1;
    size_t n = (size_t)dst->w * dst->h * dst->layout;
    if (planes_twin) /* same symbols, other layout: same pixels */
        CHECKF(memcmp(dst->ref[keep ? keep - 1 : 0], planes_twin->ref[keep ? keep - 1 : 0], n) == 0,
               "%s: decodes unlike its planes-layout twin", name);
    if (keep > 0) { /* the layer changes the image; below it, the VQ file's stages */
        dst->ref_cut = src->ref[keep - 1];
        CHECKF(memcmp(dst->ref[keep - 1], dst->ref_cut, n) != 0, "%s: the layer changes nothing",
               name);
        for (int k = 1; k < keep; k++)
            CHECKF(memcmp(dst->ref[k - 1], src->ref[k - 1], n) == 0, "%s with %d stages", name, k);
    }
    return 0;
}

static void free_sample(sample *s)
{
    for (int k = 0; s->ref && k < (s->stages ? s->stages : 1); k++)
        aec_free(s->ref[k]);
    free(s->ref);
    aecb_header_free(&s->hd);
    aec_free(s->data);
}

static int is_error_status(aec_status st)
{
    return st == AEC_ERR_LIMIT || st == AEC_ERR_NOT_AEC || st == AEC_ERR_UNSUPPORTED ||
           st == AEC_ERR_CORRUPT || st == AEC_ERR_TRUNCATED || st == AEC_ERR_MODEL_MISMATCH;
}

/* Reads the header and decodes data[0..n) with decoder dec (g_dec when
 * NULL) and checks the outcome is one of the allowed ones: an error of a
 * category a damaged file can give (the same one aec_read_info gives when
 * the header is at fault), or AEC_OK with an image of the declared size and
 * layout.  Returns the decoder's status; *img (may be NULL) receives the
 * pixels on success. */
static aec_status check_input_with(aec_decoder *dec, const uint8_t *d, size_t n,
                                   const char *what, long index, uint8_t **img)
{
    if (!dec)
        dec = g_dec;
    g_inputs++;
    aec_info info;
    memset(&info, 0, sizeof info);
    aec_status ist = aec_read_info(d, n, &info);
    uint8_t *out = NULL;
    uint32_t w = 0, h = 0;
    aec_layout l = 0;
    aec_status st = aec_decode(dec, d, n, NULL, &out, &w, &h, &l);
    if (st == AEC_OK) {
        g_decoded++;
        CHECKF(ist == AEC_OK, "%s #%ld: decodes but aec_read_info says %s", what, index,
               aec_status_string(ist));
        CHECKF(out && w == info.width && h == info.height && l == info.layout,
               "%s #%ld: decoded %ux%u layout %d, header says %ux%u layout %d", what, index, w,
               h, (int)l, info.width, info.height, (int)info.layout);
        CHECKF((info.stages_available >= 1 ||
                (info.stages_coded == 0 && info.lattice_layers_available >= 1)) &&
                   info.stages_available <= info.stages_coded && info.file_size >= n,
               "%s #%ld: info stages %d/%d, file size %llu of %zu", what, index,
               info.stages_available, info.stages_coded, (unsigned long long)info.file_size, n);
    } else {
        CHECKF(out == NULL, "%s #%ld: error %s but an output buffer", what, index,
               aec_status_string(st));
        CHECKF(is_error_status(st), "%s #%ld: unexpected status %s (%s)", what, index,
               aec_status_string(st), aec_decoder_last_error(dec));
        if (ist != AEC_OK && dec == g_dec)
            CHECKF(st == ist, "%s #%ld: aec_decode says %s, aec_read_info %s", what, index,
                   aec_status_string(st), aec_status_string(ist));
    }
    if (img && st == AEC_OK)
        *img = out;
    else
        aec_free(out);
    return st;
}
static aec_status check_input(const uint8_t *d, size_t n, const char *what, long index)
{
    return check_input_with(NULL, d, n, what, index, NULL);
}

/* Offset just past the streams of stage s (0 = past the alpha stream or
 * the table), spec/bitstream.md section 8. */
static uint64_t stage_end(const aecb_header *h, int s)
{
    uint32_t A = (h->flags & AECB_FLAG_ALPHA) ? 1u : 0u;
    if (s == 0)
        return A ? h->offsets[0] + h->sizes[0] : (uint64_t)h->header_bytes + h->table_bytes;
    uint32_t last = A + (uint32_t)s * h->n_tiles - 1;
    return h->offsets[last] + h->sizes[last];
}

/* ---- tests -------------------------------------------------------------- */

#define N_SAMPLES 7
static sample g_samples[N_SAMPLES];
static int g_have_samples;

static void test_make_samples(void)
{
    /* 70x50 RGBA in 2x1 tiles of 64, RGB in 2x1 tiles, one-tile grey+alpha;
     * the RGB file's 2 stages with a lattice layer; the RGBA file's alpha
     * with a lattice layer alone (stages 0); both again in the split layout */
    sample *g = g_samples;
    g_have_samples = encode_sample(&g[0], "rgba70x50", 70, 50, AEC_RGBA, 3, 64, 1) == 0 &&
                     encode_sample(&g[1], "rgb90x40", 90, 40, AEC_RGB, 2, 64, 2) == 0 &&
                     encode_sample(&g[2], "ga40x30", 40, 30, AEC_GRAY_ALPHA, 2, 64, 3) == 0 &&
                     make_lattice_sample(&g[3], &g[1], "rgb90x40+lattice", 2, NULL) == 0 &&
                     make_lattice_sample(&g[4], &g[0], "rgba70x50-lattice0", 0, NULL) == 0 &&
                     make_lattice_sample(&g[5], &g[1], "rgb90x40+split", 2, &g[3]) == 0 &&
                     make_lattice_sample(&g[6], &g[0], "rgba70x50-split0", 0, &g[4]) == 0;
    for (int i = 0; i < N_SAMPLES; i++)
        printf("  %s: %zu bytes, %d stages, %u streams\n", g_samples[i].name, g_samples[i].size,
               g_samples[i].stages, g_samples[i].hd.n_streams);
    CHECK(g_have_samples);
}

/* (a) Every prefix: TRUNCATED before the end of stage 1 (or of anything,
 * for a file of a lattice layer alone), otherwise the stages that are
 * complete, pixel for pixel, without the lattice layer unless it is whole. */
static void test_every_truncation(void)
{
    for (int i = 0; i < N_SAMPLES && g_have_samples; i++) {
        sample *s = &g_samples[i];
        int bad = 0;
        for (size_t len = 0; len <= s->size && bad < 5; len++) {
            /* an exact-size copy so that ASan sees any read past the end */
            uint8_t *buf = malloc(len ? len : 1);
            memcpy(buf, s->data, len);
            uint8_t *img = NULL;
            int before = tl_failures_in_test;
            aec_status st = check_input_with(NULL, buf, len, s->name, (long)len, &img);
            int expect = 0;
            while (expect < s->stages && stage_end(&s->hd, expect + 1) <= len)
                expect++;
            if (len == s->size) {
                CHECKF(st == AEC_OK && img &&
                           memcmp(img, s->ref[s->stages ? s->stages - 1 : 0],
                                  (size_t)s->w * s->h * s->layout) == 0,
                       "%s whole: %s", s->name, aec_status_string(st));
            } else if (expect == 0) {
                CHECKF(st == AEC_ERR_TRUNCATED, "%s cut at %zu: %s, expected TRUNCATED", s->name,
                       len, aec_status_string(st));
            } else {
                aec_info info;
                CHECKF(st == AEC_OK && aec_read_info(buf, len, &info) == AEC_OK &&
                           info.stages_available == expect,
                       "%s cut at %zu: %s, expected %d stages", s->name, len,
                       aec_status_string(st), expect);
                /* every stage but part of the lattice layer: the stages alone */
                const uint8_t *want = expect == s->stages && s->ref_cut ? s->ref_cut
                                                                        : s->ref[expect - 1];
                CHECKF(img && memcmp(img, want, (size_t)s->w * s->h * s->layout) == 0,
                       "%s cut at %zu differs from the %d-stage decode", s->name, len, expect);
            }
            if (tl_failures_in_test != before)
                bad++;
            aec_free(img);
            free(buf);
        }
    }
}

/* (b) Single-bit changes are errors: the header and table are covered by
 * the header CRC, each stream by its own. */
static void test_every_bit_flip(void)
{
    for (int i = 0; i < N_SAMPLES && g_have_samples; i++) {
        sample *s = &g_samples[i];
        size_t head = (size_t)s->hd.header_bytes + s->hd.table_bytes;
        uint8_t *buf = malloc(s->size);
        int bad = 0;
        /* every bit of the header and table; in the streams one bit of each
         * byte (rotating), which their CRCs catch just the same */
        for (size_t bit = 0; bit < s->size * 8 && bad < 5;
             bit = bit + 1 < head * 8 ? bit + 1 : bit < head * 8 ? head * 8 : bit + 9) {
            memcpy(buf, s->data, s->size);
            buf[bit / 8] ^= (uint8_t)(1u << (bit % 8));
            int before = tl_failures_in_test;
            aec_status st = check_input(buf, s->size, s->name, (long)bit);
            size_t byte = bit / 8;
            if (byte < 4)
                CHECKF(st == AEC_ERR_NOT_AEC, "%s bit %zu: %s", s->name, bit, aec_status_string(st));
            else if (byte == 4) /* unknown version */
                CHECKF(st == AEC_ERR_UNSUPPORTED, "%s bit %zu: %s", s->name, bit,
                       aec_status_string(st));
            else if (byte == 7 && bit % 8 >= 3)
                /* SPLIT, LAYERED, RESIDUAL: alone step 7; METADATA,
                 * LAYERED, HALF, RESIDUAL: streams more or fewer than the
                 * table, step 8; HALF with alpha, step 7; else the CRC */
                CHECKF(st == AEC_ERR_CORRUPT, "%s bit %zu (SPLIT/METADATA/LAYERED/HALF/RESIDUAL): %s", s->name,
                       bit, aec_status_string(st));
            else if (byte < head)
                CHECKF(st == AEC_ERR_CORRUPT || st == AEC_ERR_LIMIT, "%s bit %zu: %s", s->name,
                       bit, aec_status_string(st));
            else
                CHECKF(st == AEC_ERR_CORRUPT, "%s bit %zu: %s", s->name, bit,
                       aec_status_string(st));
            if (tl_failures_in_test != before)
                bad++;
        }
        free(buf);
    }
}

/* Applies one random kind of damage to a copy of src; returns the new
 * buffer (exact size, malloc'ed) and its size in *n. */
static uint8_t *damage(const sample *s, int kind, size_t *n)
{
    size_t size = s->size, head = (size_t)s->hd.header_bytes + s->hd.table_bytes;
    uint8_t *b = malloc(size + 1);
    memcpy(b, s->data, size);
    int k = 1 + (int)rnd_below(8);
    switch (kind) {
    case 0: /* 1..8 bytes anywhere */
        for (int i = 0; i < k; i++)
            b[rnd_below((uint32_t)size)] = (uint8_t)rnd();
        break;
    case 1: /* 1..8 bytes of the streams, each changed (a random byte may
             * equal the old one, and the caller wants a damaged file) */
        for (int i = 0; i < k; i++)
            b[head + rnd_below((uint32_t)(size - head))] ^= (uint8_t)(1 + rnd_below(255));
        if (memcmp(b, s->data, size) == 0) /* two changes of one byte cancelled */
            b[head] ^= 1;
        break;
    case 2: { /* insert a byte */
        size_t at = rnd_below((uint32_t)size + 1);
        memmove(b + at + 1, b + at, size - at);
        b[at] = (uint8_t)rnd();
        size++;
        break;
    }
    case 3: { /* delete a byte */
        size_t at = rnd_below((uint32_t)size);
        memmove(b + at, b + at + 1, size - at - 1);
        size--;
        break;
    }
    case 4: /* 1..4 stream bytes, checksums made valid: zstd and the indices see it */
        for (int i = 0; i < 1 + k / 2; i++)
            b[head + rnd_below((uint32_t)(size - head))] ^= (uint8_t)(1u << rnd_below(8));
        aecfuzz_fix_aec(b, size, 0);
        break;
    case 5: /* 1..3 header bytes (after the version), header CRC made valid */
        for (int i = 0; i < 1 + k / 3; i++) {
            size_t at = 5 + rnd_below(39);
            b[at] = rnd_below(2) ? (uint8_t)rnd() : (uint8_t)(b[at] ^ (1u << rnd_below(8)));
        }
        aecfuzz_fix_aec(b, size, 0);
        break;
    case 6: /* a table size field changed, checksums made valid */
        if (s->hd.n_streams) {
            size_t e = AECB_HEADER_BYTES + 8 * (size_t)rnd_below(s->hd.n_streams);
            b[e + rnd_below(4)] ^= (uint8_t)(1u << rnd_below(8));
        }
        aecfuzz_fix_aec(b, size, 0);
        break;
    default: /* cut somewhere after the table and change a stream byte */
        size = head + 1 + rnd_below((uint32_t)(size - head - 1));
        b[head + rnd_below((uint32_t)(size - head))] ^= 0x55;
        break;
    }
    uint8_t *exact = malloc(size);
    memcpy(exact, b, size);
    free(b);
    *n = size;
    return exact;
}

/* (c) Seeded random damage. */
#define RANDOM_CASES 2000
static void test_random_damage(void)
{
    long ok = 0;
    int bad = 0;
    for (long c = 0; c < RANDOM_CASES && g_have_samples && bad < 5; c++) {
        const sample *s = &g_samples[c % N_SAMPLES];
        size_t n;
        int kind = (int)rnd_below(8);
        uint8_t *b = damage(s, kind, &n);
        int before = tl_failures_in_test;
        aec_status st = check_input(b, n, "random damage", c);
        ok += st == AEC_OK;
        /* Without made-up checksums, damage to the header, table or a stream
         * that is used must be caught (a stream of a stage that a shorter
         * file does not reach is ignored). */
        if (kind == 1 && st == AEC_OK)
            CHECKF(0, "random damage #%ld (kind 1) to the streams decoded", c);
        if (tl_failures_in_test != before)
            bad++;
        free(b);
    }
    printf("  %d random damaged files, %ld decoded\n", RANDOM_CASES, ok);
}

/* Builds a file of w x h with streams of one zero byte each (valid sizes
 * and checksums, not valid zstd frames). */
static uint8_t *bogus_file_ex(uint32_t w, uint32_t h, aec_layout layout, int stages, int tile,
                              uint64_t model_id, uint8_t lattice_dim, size_t *n)
{
    aecb_header hd;
    memset(&hd, 0, sizeof hd);
    hd.width = w, hd.height = h, hd.layout = (uint8_t)layout, hd.stages = (uint8_t)stages;
    hd.tile_size = (uint16_t)tile, hd.block_size = 8, hd.model_id = model_id;
    hd.flags = (layout == AEC_GRAY_ALPHA || layout == AEC_RGBA) ? AECB_FLAG_ALPHA : 0;
    if (lattice_dim)
        hd.flags |= AECB_FLAG_LATTICE, hd.lattice_dim = lattice_dim, hd.lattice_step_q = 1;
    uint8_t *file = NULL;
    *n = 0;
    if (aecb_header_init(&hd, NULL, 0) != AEC_OK)
        return NULL;
    static const uint8_t zero = 0;
    const uint8_t **streams = malloc(sizeof *streams * hd.n_streams);
    for (uint32_t i = 0; i < hd.n_streams; i++)
        streams[i] = &zero, hd.sizes[i] = 1;
    if (aecb_write(&hd, streams, &file, n) != AEC_OK)
        file = NULL;
    free(streams);
    aecb_header_free(&hd);
    return file;
}
static uint8_t *bogus_file(uint32_t w, uint32_t h, aec_layout layout, int stages, int tile,
                           uint64_t model_id, size_t *n)
{
    return bogus_file_ex(w, h, layout, stages, tile, model_id, 0, n);
}

static aec_status decode_with_limits(const uint8_t *d, size_t n, uint64_t max_pixels,
                                     uint32_t max_dim)
{
    aec_decoder *dec = NULL;
    aec_status st = aec_decoder_create(&dec, NULL);
    if (st != AEC_OK)
        return st;
    aec_decoder_set_threads(dec, 1);
    aec_limits lim;
    aec_limits_default(&lim);
    lim.max_pixels = max_pixels, lim.max_dimension = max_dim;
    aec_decoder_set_limits(dec, &lim);
    st = check_input_with(dec, d, n, "limits", 0, NULL);
    aec_decoder_destroy(dec);
    return st;
}

/* Lattice layers of the largest images and streams: refused from the
 * header, or by their streams before the output is allocated; a lattice
 * stream at its bound makes the layer unavailable, not the file. */
static void test_lattice_bombs(uint64_t id)
{
    int D = aec_model_default()->cfg.latent;
    size_t n = 0;
    uint8_t *big = bogus_file_ex(65535, 65535, AEC_RGB, 0, 1024, id, 255, &n);
    CHECK(big && check_input(big, n, "65535^2 lattice", 0) == AEC_ERR_LIMIT);
    CHECK(big && decode_with_limits(big, n, UINT64_MAX, 65535) == AEC_ERR_CORRUPT);
    aec_free(big);
    /* 16384^2, 2 MiB of raw lattice symbols per tile: garbage frames */
    big = bogus_file_ex(16384, 16384, AEC_RGB, 0, 1024, id, (uint8_t)D, &n);
    CHECK(big && check_input(big, n, "16384^2 lattice", 0) == AEC_ERR_CORRUPT);
    aec_free(big);
    big = bogus_file_ex(16384, 16384, AEC_RGBA, 2, 1024, id, (uint8_t)(D + 1), &n);
    CHECK(big && check_input(big, n, "16384^2 lattice of the wrong width", 0) == AEC_ERR_CORRUPT);
    aec_free(big);
    /* the same in the split layout: 1-byte streams, directories cut short */
    big = bogus_file_ex(16384, 16384, AEC_RGB, 0, 1024, id, (uint8_t)D, &n);
    if (big)
        big[7] |= AECB_FLAG_SPLIT, aecfuzz_fix_aec(big, n, 0);
    CHECK(big && check_input(big, n, "16384^2 split lattice", 0) == AEC_ERR_CORRUPT);
    aec_free(big);
    for (int k = 3; k <= 6 && g_have_samples; k++) { /* the lattice samples */
        const sample *s = &g_samples[k];
        uint8_t *b = malloc(s->size);
        uint32_t i = s->hd.n_streams - 1; /* the last lattice stream */
        uint64_t bound = aecb_stream_bound(&s->hd, i);
        memcpy(b, s->data, s->size);
        aecfuzz_wr32(b + 48 + 8 * i, (uint32_t)bound);
        aecfuzz_wr64(b + 32, s->hd.file_size - s->hd.sizes[i] + bound);
        aecfuzz_fix_aec(b, s->size, 0);
        uint8_t *img = NULL;
        aec_status st = check_input_with(NULL, b, s->size, "lattice stream at its bound", k, &img);
        if (s->ref_cut)
            CHECKF(st == AEC_OK && img &&
                       memcmp(img, s->ref_cut, (size_t)s->w * s->h * s->layout) == 0,
                   "%s: lattice stream at its bound: %s", s->name, aec_status_string(st));
        else
            CHECKF(st == AEC_ERR_TRUNCATED, "%s: lattice stream at its bound: %s", s->name,
                   aec_status_string(st));
        aec_free(img);
        free(b);
    }
}

/* (d) Decompression bombs and absurd tables. */
static void test_bombs(void)
{
    uint64_t id = aec_model_id(aec_model_default());
    aec_limits def;
    aec_limits_default(&def);
    size_t n = 0;
    aec_status st;

    /* 65535 x 65535: refused from the 48 header bytes alone, by default and
     * by a caller's tiny limit; with no pixel limit the (garbage) streams are
     * refused before the 12 GB output is allocated. */
    uint8_t *big = bogus_file(65535, 65535, AEC_RGB, 1, 1024, id, &n);
    CHECK(big != NULL && n == 48 + 8 * 4096 + 4096);
    if (big) {
        CHECK(check_input(big, n, "65535^2", 0) == AEC_ERR_LIMIT);
        CHECK(check_input(big, 48, "65535^2 header", 0) == AEC_ERR_LIMIT);
        CHECK(decode_with_limits(big, 48, 1 << 20, 65535) == AEC_ERR_LIMIT);
        CHECK(decode_with_limits(big, n, 1 << 20, 65535) == AEC_ERR_LIMIT);
        CHECK(decode_with_limits(big, n, UINT64_MAX, 65535) == AEC_ERR_CORRUPT);
        CHECK(decode_with_limits(big, 48, UINT64_MAX, 65535) == AEC_ERR_TRUNCATED);
        aec_info info;
        CHECK(aec_read_info(big, n, &info) == AEC_ERR_LIMIT);
        aec_free(big);
    }
    /* 16384 x 16384 = the default pixel limit exactly: accepted by the
     * header checks, refused by the streams, or by a smaller limit. */
    big = bogus_file(16384, 16384, AEC_RGBA, 1, 1024, id, &n);
    CHECK(big != NULL);
    if (big) {
        st = check_input(big, n, "16384^2", 0);
        CHECKF(st == AEC_ERR_CORRUPT, "16384^2 with garbage streams: %s", aec_status_string(st));
        CHECK(decode_with_limits(big, n, 1 << 20, 65535) == AEC_ERR_LIMIT);
        CHECK(decode_with_limits(big, n, def.max_pixels, 16383) == AEC_ERR_LIMIT);
        aec_free(big);
    }
    /* The largest table the format allows (16,777,217 entries, 134 MB)
     * declared by a 48-byte header: never read past the data. */
    uint8_t hdr[48];
    big = bogus_file(64, 64, AEC_RGBA, 1, 64, id, &n);
    if (big) {
        memcpy(hdr, big, 48);
        aec_free(big);
        hdr[6] = 16;                       /* stages */
        aecfuzz_wr32(hdr + 8, 65535);      /* width  */
        aecfuzz_wr32(hdr + 12, 65535);     /* height */
        aecfuzz_wr32(hdr + 20, 1u + 16u * 1024u * 1024u);
        aecfuzz_wr32(hdr + 44, aecb_crc32(0, hdr, 44));
        CHECK(check_input(hdr, 48, "largest table", 0) == AEC_ERR_LIMIT);
        CHECK(decode_with_limits(hdr, 48, UINT64_MAX, 65535) == AEC_ERR_TRUNCATED);
        aecfuzz_wr32(hdr + 20, 0xFFFFFFFFu); /* wrong stream count */
        CHECK(decode_with_limits(hdr, 48, UINT64_MAX, 65535) == AEC_ERR_CORRUPT);
    }
    if (!g_have_samples)
        return;
    /* Small real file under small limits. */
    const sample *s = &g_samples[0];
    uint64_t px = (uint64_t)s->w * s->h;
    CHECK(decode_with_limits(s->data, s->size, 100, 65535) == AEC_ERR_LIMIT);
    CHECK(decode_with_limits(s->data, s->size, px - 1, 65535) == AEC_ERR_LIMIT);
    CHECK(decode_with_limits(s->data, s->size, px, 65535) == AEC_OK);
    CHECK(decode_with_limits(s->data, s->size, px, s->w - 1) == AEC_ERR_LIMIT);
    CHECK(decode_with_limits(s->data, s->size, 0, 0) == AEC_ERR_LIMIT);

    /* Table entries claiming huge streams. */
    uint8_t *b = malloc(s->size);
    uint32_t N = s->hd.n_streams;
    for (uint32_t i = 0; i < N; i++) {
        memcpy(b, s->data, s->size);
        aecfuzz_wr32(b + 48 + 8 * i, 0xFFFFFFFFu);
        aecfuzz_fix_aec(b, s->size, 0);
        CHECKF(check_input(b, s->size, "huge stream", i) == AEC_ERR_CORRUPT, "stream %u", i);
        /* the largest size a stream may declare, with a consistent file size:
         * the data is then short, so the stages from this one on are missing */
        memcpy(b, s->data, s->size);
        uint64_t bound = aecb_stream_bound(&s->hd, i);
        aecfuzz_wr32(b + 48 + 8 * i, (uint32_t)bound);
        aecfuzz_wr64(b + 32, s->hd.file_size - s->hd.sizes[i] + bound);
        aecfuzz_fix_aec(b, s->size, 0);
        int stage = (i == 0) ? 0 : (int)((i - 1) / s->hd.n_tiles) + 1; /* RGBA: stream 0 alpha */
        uint8_t *img = NULL;
        st = check_input_with(NULL, b, s->size, "bound stream", i, &img);
        if (s->hd.offsets[i] + bound <= s->size) {
            /* the stream now swallows the start of the next ones: its frame
             * is followed by extra bytes */
            CHECKF(st == AEC_ERR_CORRUPT, "stream %u at its bound, within the data: %s", i,
                   aec_status_string(st));
        } else if (stage <= 1) {
            CHECKF(st == AEC_ERR_TRUNCATED, "stream %u at its bound: %s", i, aec_status_string(st));
        } else {
            CHECKF(st == AEC_OK && img &&
                       memcmp(img, s->ref[stage - 2], (size_t)s->w * s->h * s->layout) == 0,
                   "stream %u at its bound (stage %d): %s", i, stage, aec_status_string(st));
        }
        aec_free(img);
    }
    /* file_size far beyond the table's sum, or the whole u64 range */
    memcpy(b, s->data, s->size);
    aecfuzz_wr64(b + 32, UINT64_MAX);
    aecfuzz_fix_aec(b, s->size, 0);
    CHECK(check_input(b, s->size, "file_size", 0) == AEC_ERR_CORRUPT);
    /* a model this decoder lacks */
    memcpy(b, s->data, s->size);
    aecfuzz_fix_aec(b, s->size, id ^ 1);
    CHECK(check_input(b, s->size, "model id", 0) == AEC_ERR_MODEL_MISMATCH);
    /* more stages than the model has */
    free(b);
    test_lattice_bombs(id);
    int S = aec_model_stages(aec_model_default());
    if (S < 16) {
        big = bogus_file(16, 16, AEC_RGB, S + 1, 64, id, &n);
        CHECK(big && check_input(big, n, "stages", 0) == AEC_ERR_CORRUPT);
        aec_free(big);
    }
}

/* Model files: truncated, bit-flipped, with consistent checksums but
 * absurd configurations. */
static void test_model_damage(void)
{
    /* a small valid model: latent 4, widths 4, 2 stages of 8 codes */
    aem_config cfg = {8, 3, 4, 4, 1, 4, 1, 2, 8, {0}, 0, {0}};
    aec_model *m = NULL;
    CHECK(aem_model_new(&cfg, "damage-test", &m, NULL, 0) == AEC_OK);
    if (!m)
        return;
    for (size_t i = 0; i < m->lay.total; i++)
        m->params[i] = (float)((int)(i * 37 % 101) - 50) * 0.01f;
    aem_model_refresh(m);
    uint8_t *file = NULL;
    size_t size = 0;
    CHECK(aem_model_serialize(m, &file, &size) == AEC_OK);
    aec_model_free(m);
    m = NULL;
    CHECK(aec_model_load_memory(&m, file, size) == AEC_OK);
    CHECK(m && aecfuzz_exercise_model(m, AEC_RGBA) == 0 && aecfuzz_exercise_model(m, AEC_GRAY) == 0);
    aec_model_free(m);
    uint8_t *b = malloc(size);
    long loaded = 0;
    for (size_t len = 0; len < size; len += (len < 200 ? 1 : 97)) {
        memcpy(b, file, len);
        uint8_t *exact = malloc(len ? len : 1);
        memcpy(exact, b, len);
        aec_model *mm = NULL;
        aec_status st = aec_model_load_memory(&mm, exact, len);
        CHECKF(st != AEC_OK && mm == NULL, "model cut at %zu loads", len);
        aec_model_free(mm);
        free(exact);
    }
    for (size_t bit = 0; bit < 116 * 8; bit++) {
        memcpy(b, file, size);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        aec_model *mm = NULL;
        CHECKF(aec_model_load_memory(&mm, b, size) != AEC_OK, "model bit %zu", bit);
        aec_model_free(mm);
        /* the same change with a valid checksum: an error, or a model that
         * decodes (a change to the name, a weight, ...) */
        aecfuzz_fix_model(b, size);
        aec_status st = aec_model_load_memory(&mm, b, size);
        if (st == AEC_OK) {
            loaded++;
            CHECKF(aecfuzz_exercise_model(mm, AEC_RGB) == 0, "model bit %zu (fixed CRC)", bit);
        } else {
            CHECKF(st == AEC_ERR_BAD_MODEL || st == AEC_ERR_UNSUPPORTED, "model bit %zu: %s",
                   bit, aec_status_string(st));
        }
        aec_model_free(mm);
    }
    /* the largest configuration the format allows (75 M weights), declared
     * by a short file: refused before its weights are allocated */
    memcpy(b, file, size);
    uint32_t huge[9] = {8, 3, 256, 1024, 8, 1024, 8, 16, 256};
    for (int i = 0; i < 9; i++)
        aecfuzz_wr32(b + 8 + 4 * i, huge[i]);
    aecfuzz_fix_model(b, size);
    aec_model *mm = NULL;
    CHECK(aec_model_load_memory(&mm, b, size) == AEC_ERR_BAD_MODEL && mm == NULL);
    /* huge weights: finite, but the network overflows to inf/NaN */
    memcpy(b, file, size);
    for (size_t i = 112; i + 4 < size; i += 4)
        aecfuzz_wr32(b + i, (i & 4) ? 0x6FA18F08u /* 1e29 */ : 0xEFA18F08u /* -1e29 */);
    aecfuzz_fix_model(b, size);
    CHECK(aec_model_load_memory(&mm, b, size) == AEC_OK);
    CHECK(mm && aecfuzz_exercise_model(mm, AEC_RGB) == 0 && aecfuzz_exercise_model(mm, AEC_GRAY) == 0);
    aec_model_free(mm);
    printf("  model damage: %ld bit changes with a valid CRC still loaded and decoded\n", loaded);
    free(b);
    free(file);
}

enum { REPLAY_AEC, REPLAY_MODEL, REPLAY_SPLIT, REPLAY_RESIDUAL, REPLAY_IMAGE }; /* what a replayed file is */

/* Feeds one file of the fuzz corpus or regressions: an aecodec file as it
 * is and with its checksums made valid for a built-in model, as the
 * fuzzers do; a model file likewise; a fuzz_lattice input (a split lattice
 * stream behind 3 bytes of shape) as fuzz_lattice does; an image file as
 * fuzz_imageio does (as it is and, a PNG, with its chunk CRCs made valid). */
static void replay_file(const char *path, int kind)
{
    FILE *f = fopen(path, "rb");
    CHECKF(f != NULL, "cannot open %s", path);
    if (!f)
        return;
    uint8_t *d = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n == cap) {
            cap = cap ? cap * 2 : 4096;
            d = realloc(d, cap);
        }
        got = fread(d + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    fclose(f);
    uint8_t *b = malloc(n ? n : 1);
    memcpy(b, d, n);
    free(d);
    if (kind == REPLAY_SPLIT) {
        CHECKF(aecfuzz_split_stream(b, n) == 0, "%s: the split stream reader misbehaves", path);
    } else if (kind == REPLAY_RESIDUAL) {
        CHECKF(aecfuzz_residual_stream(b, n) == 0, "%s: the residual stream reader misbehaves",
               path);
    } else if (kind == REPLAY_IMAGE) {
        CHECKF(aecfuzz_image_check(b, n) == 0, "%s: the image reader misbehaves", path);
        aeio_image img;
        if (strstr(path, "corpus/imageio")) /* a seed is a valid image */
            CHECKF(aeio_read_memory(b, n, &img, 0, NULL, 0) == 0, "%s: seed does not read", path);
        aeio_free(&img);
        if (aecfuzz_fix_png(b, n))
            CHECKF(aecfuzz_image_check(b, n) == 0, "%s (CRCs fixed): the image reader misbehaves",
                   path);
    } else if (kind == REPLAY_MODEL) {
        for (int pass = 0; pass < 2; pass++) {
            aec_model *m = NULL;
            if (pass)
                aecfuzz_fix_model(b, n);
            aec_status st = aec_model_load_memory(&m, b, n);
            if (st == AEC_OK)
                CHECKF(aecfuzz_exercise_model(m, AEC_RGB) == 0, "%s: model misbehaves", path);
            else
                CHECKF(m == NULL, "%s", path);
            aec_model_free(m);
        }
    } else {
        aecb_header h;
        aecb_parse(b, n, NULL, &h, NULL, 0);
        aecb_header_free(&h);
        check_input(b, n, path, 0);
        aecfuzz_fix_aec(b, n, aecfuzz_builtin_id(b, n));
        check_input(b, n, path, 1);
    }
    free(b);
}

/* Replays every file of dir as `kind`, or, named model-*, lattice-*,
 * residual-* or image-*, as a model, a fuzz_lattice or fuzz_residual input
 * or an image file. */
static int replay_dir(const char *dir, int kind)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int count = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !strcmp(e->d_name, "README.md"))
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        replay_file(path, !strncmp(e->d_name, "model", 5)     ? REPLAY_MODEL
                          : !strncmp(e->d_name, "lattice", 7) ? REPLAY_SPLIT
                          : !strncmp(e->d_name, "residual", 8) ? REPLAY_RESIDUAL
                          : !strncmp(e->d_name, "image", 5)   ? REPLAY_IMAGE
                                                              : kind);
        count++;
    }
    closedir(d);
    return count;
}

/* (f) The fuzzers' seeds and every input that once crashed one. */
static void test_fuzz_inputs(void)
{
    int seeds = replay_dir("tests/fuzz/corpus/header", REPLAY_AEC) +
                replay_dir("tests/fuzz/corpus/decode", REPLAY_AEC) +
                replay_dir("tests/fuzz/corpus/model", REPLAY_MODEL) +
                replay_dir("tests/fuzz/corpus/lattice", REPLAY_SPLIT) +
                replay_dir("tests/fuzz/corpus/residual", REPLAY_RESIDUAL) +
                replay_dir("tests/fuzz/corpus/imageio", REPLAY_IMAGE);
    int regressions = replay_dir("tests/fuzz/regressions", REPLAY_AEC);
    printf("  %d seed files, %d regression files\n", seeds, regressions);
    CHECKF(seeds > 0, "no fuzz seed corpus found (run from the repository root)");
}

/* (e) aec_read_info and aecb_parse on short, empty and odd inputs. */
static void test_read_info_edges(void)
{
    aec_info info;
    static const uint8_t magic[5] = {0x8B, 0x41, 0x45, 0x43, 0x01};
    CHECK(aec_read_info(magic, 0, &info) == AEC_ERR_TRUNCATED);
    for (size_t k = 1; k <= 5; k++) {
        uint8_t *b = malloc(k);
        memcpy(b, magic, k);
        CHECK(aec_read_info(b, k, &info) == AEC_ERR_TRUNCATED);
        b[k - 1] ^= 0x80;
        CHECK(aec_read_info(b, k, &info) == (k == 5 ? AEC_ERR_UNSUPPORTED : AEC_ERR_NOT_AEC));
        free(b);
    }
    CHECK(aec_read_info(NULL, 0, &info) == AEC_ERR_INVALID_ARGUMENT);
    CHECK(aec_read_info(magic, 5, NULL) == AEC_ERR_INVALID_ARGUMENT);
    uint8_t *out = NULL;
    uint32_t w, h;
    CHECK(aec_decode(g_dec, magic, 0, NULL, &out, &w, &h, NULL) == AEC_ERR_TRUNCATED && !out);
    /* random short junk with the right magic */
    for (int c = 0; c < 2000; c++) {
        size_t n = 5 + rnd_below(200);
        uint8_t *b = malloc(n);
        for (size_t i = 0; i < n; i++)
            b[i] = (uint8_t)rnd();
        memcpy(b, magic, 5);
        if ((c & 1) && n >= 8) { /* plausible fields */
            b[5] = (uint8_t)(1 + rnd_below(4)), b[6] = (uint8_t)(1 + rnd_below(4));
            b[7] = (b[5] == 2 || b[5] == 4) ? 1 : 0;
            if (n >= 48) {
                aecfuzz_wr32(b + 8, 1 + rnd_below(200)), aecfuzz_wr32(b + 12, 1 + rnd_below(200));
                b[16] = 64, b[17] = 0, b[18] = 8, b[19] = 0;
                memset(b + 40, 0, 4);
                aecb_header g;
                memset(&g, 0, sizeof g);
                g.width = aecfuzz_rd32(b + 8), g.height = aecfuzz_rd32(b + 12);
                g.layout = b[5], g.stages = b[6], g.flags = b[7], g.tile_size = 64, g.block_size = 8;
                if (aecb_header_init(&g, NULL, 0) == AEC_OK)
                    aecfuzz_wr32(b + 20, g.n_streams);
                aecb_header_free(&g);
                aecfuzz_fix_aec(b, n, rnd_below(2) ? aec_model_id(aec_model_default()) : 0);
            }
        }
        check_input(b, n, "junk", c);
        free(b);
    }
}

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + ts.tv_nsec * 1e-9;
}
#define TIMED_TEST(fn)                                                                    \
    do {                                                                                  \
        double t0_ = now();                                                               \
        RUN_TEST(fn);                                                                     \
        printf("  (%s: %.2f s)\n", #fn, now() - t0_);                                     \
    } while (0)

int main(void)
{
    if (aec_decoder_create(&g_dec, NULL) != AEC_OK) {
        printf("FAIL test_damage (no decoder)\n");
        return 1;
    }
    aec_decoder_set_threads(g_dec, 1);
    TIMED_TEST(test_make_samples);
    TIMED_TEST(test_every_truncation);
    TIMED_TEST(test_every_bit_flip);
    TIMED_TEST(test_random_damage);
    TIMED_TEST(test_bombs);
    TIMED_TEST(test_model_damage);
    TIMED_TEST(test_read_info_edges);
    TIMED_TEST(test_fuzz_inputs);
    printf("  %ld inputs checked, %ld decoded to an image\n", g_inputs, g_decoded);
    for (int i = 0; i < N_SAMPLES; i++)
        free_sample(&g_samples[i]);
    aec_decoder_destroy(g_dec);
    TEST_EXIT();
}
