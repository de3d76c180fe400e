/* SPDX-License-Identifier: BSD-3-Clause */
/* mkconf.c - generator of the conformance files in tests/conformance/
 * (run by tests/conformance/make.sh; not part of the test suite).
 *
 *   mkconf train DIR          write the 4 generated 96x96 training images
 *   mkconf files MODEL DIR    encode the conformance images with MODEL, write
 *                             NAME.aec, the expected decodes NAME.png, the
 *                             invalid files and DIR/manifest.txt
 *   mkconf lattice MODEL DIR  write only the files added with the lattice
 *                             layer (bitstream v1, flags bit 2), deriving
 *                             bad-unknown-flag.aec from DIR/grey33x17.aec,
 *                             and append their lines to DIR/manifest.txt:
 *                             how they were added without changing the
 *                             committed files
 *   mkconf split MODEL DIR    the same for the files added with the split
 *                             layout of the lattice streams (flags bit 3),
 *                             one of them re-coding the symbols of
 *                             DIR/rgb100x60-lattice.aec; rewrites
 *                             bad-unknown-flag.aec, whose bit 3 became SPLIT,
 *                             with bit 7 (its manifest line stays; the
 *                             highest bit, so that it stays unknown while
 *                             flags are assigned from bit 4 up)
 *   mkconf zstd MODEL DIR     the files that pin section 6.2's frame rules:
 *                             grey33x17.aec with its stage-1 frame re-made
 *                             with a content checksum (right and wrong) and
 *                             with a Window_Descriptor of 2^31 and above
 *   mkconf pins MODEL DIR     the files that pin the decoder network: coded
 *                             with MODEL (pins.aem, whose convolution branch
 *                             carries much of the image), appended to
 *                             DIR/manifest.txt like the others
 *   mkconf meta MODEL DIR     the metadata stream's files (flags bit 4), from
 *                             DIR/grey33x17.aec
 *   mkconf layers MODEL DIR   the files of the lattice layers (flags bit 5),
 *                             coded with MODEL (layers.aem, latent 20: 3
 *                             layers), each layer stream checked against
 *                             the library's; one from DIR/rgb100x60-split.aec
 *                             (with DIR/tiny.aem), one from grey33x17.aec
 *
 * Images are made with integer arithmetic only, so they are the same on
 * every platform.  Links with libcodec's internals and the tools' imageio. */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_c_format: magicless frames */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "aecodec.h"
#include "bitstream/container.h"
#include "bitstream/metadata.h"
#include "bitstream/zstream.h"
#include "common/hash.h"
#include "common/imageio.h"
#include "model/model.h"
#include "model/network.h"
#include "stream_hash.h"
#include "vq/lattice.h"
#include "vq/rvq.h"

static char err[512];

/* Integer-only test pattern: gradients, a disc, stripes, blocks, noise;
 * kind 4: black and white only (bars narrowing down the image, a disc), so
 * that the decoder overshoots 0 and 1. */
static aeio_image pattern(uint32_t w, uint32_t h, int ch, unsigned kind)
{
    aeio_image im = {.width = w, .height = h, .channels = ch,
                     .pixels = malloc((size_t)w * h * ch), .source_bit_depth = 8};
    uint32_t r = 12345u + kind * 7919u;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            r = r * 1103515245u + 12345u;
            int noise = (int)((r >> 16) & 15) - 8;
            int dx = (int)x - (int)w / 2, dy = (int)y - (int)h / 3;
            int disc = dx * dx + dy * dy < (int)(w * h) / 8;
            int v[3];
            switch (kind % 4) {
            case 0: /* gradients and a disc */
                v[0] = (int)(x * 255 / w), v[1] = (int)(y * 255 / h), v[2] = disc ? 220 : 40;
                break;
            case 1: /* stripes */
                v[0] = ((x / 5) & 1) ? 200 : 60, v[1] = ((y / 3) & 1) ? 180 : 90;
                v[2] = (int)((x + y) * 2 & 255);
                break;
            case 2: /* blocks */
                v[0] = (int)(((x / 16) * 53 + (y / 16) * 97) & 255);
                v[1] = (int)(((x / 16) * 31 + (y / 16) * 17) & 255);
                v[2] = (int)(((x / 8) ^ (y / 8)) * 29 & 255);
                break;
            default: /* smooth colour with an edge */
                v[0] = x > y ? 150 + (int)(y & 63) : 70 + (int)(x & 63);
                v[1] = 128 + ((int)x - (int)y) / 2, v[2] = disc ? 90 : 170;
                break;
            }
            int bw = (int)((x / (1 + y / 8)) & 1) ^ disc; /* kind 4 */
            uint8_t *p = im.pixels + ((size_t)y * w + x) * ch;
            for (int c = 0; c < ch; c++) {
                int s;
                if ((ch == 2 && c == 1) || c == 3) /* alpha: a ramp with a hole */
                    s = disc ? 0 : (int)((x * 7 + y * 3) & 255);
                else if (kind == 4)
                    s = bw ? 255 : 0;
                else if (ch <= 2)
                    s = (v[0] * 2 + v[1] * 5 + v[2]) / 8 + noise;
                else
                    s = v[c] + noise;
                p[c] = (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s);
            }
        }
    return im;
}

static int train_images(const char *dir)
{
    for (unsigned k = 0; k < 4; k++) {
        aeio_image im = pattern(96, 96, 3, k);
        char path[1024];
        snprintf(path, sizeof path, "%s/train%u.png", dir, k);
        if (aeio_write(path, &im, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        aeio_free(&im);
    }
    return 0;
}

static int index_hash(const uint8_t *d, size_t n, uint64_t *hash, int *stages)
{
    return conformance_stream_hash(d, n, hash, stages, err, sizeof err);
}

static int write_file(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (aeio_write_file_atomic(path, d, n, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static void fix_crc(uint8_t *d, size_t n)
{
    uint32_t count = (uint32_t)d[20] | (uint32_t)d[21] << 8 | (uint32_t)d[22] << 16 |
                     (uint32_t)d[23] << 24;
    (void)n;
    uint32_t c = aecb_crc32(aecb_crc32(0, d, 44), d + 48, (size_t)count * 8);
    for (int i = 0; i < 4; i++)
        d[44 + i] = (uint8_t)(c >> (8 * i));
}

typedef struct {
    const char *name;
    uint32_t w, h;
    int ch, quality, tile, keep_stages; /* keep_stages: cut after this stage (0 = whole) */
    unsigned kind;
    const char *what;
} conf_case;

static const conf_case cases[] = {
    {"grey33x17", 33, 17, 1, 4, 64, 0, 0, "grey, one partial tile, all 4 stages"},
    {"rgb100x60", 100, 60, 3, 4, 64, 0, 1, "RGB, 2x1 tiles of 64, all 4 stages"},
    {"rgba70x70", 70, 70, 4, 4, 64, 0, 2, "RGBA, 2x2 tiles of 64, lossless alpha"},
    {"rgb80x48-cut2", 80, 48, 3, 4, 128, 2, 3, "RGB coded with 4 stages, cut after stage 2"},
    {"greyalpha45x23", 45, 23, 2, 3, 64, 0, 1, "grey+alpha, 3 of 4 stages"},
};

/* ---- the lattice layer (flags bit 2) --------------------------------------
 * mkconf writes these files itself, as the reference writer of the layer:
 * indices by the nearest code (aem_rvq_encode), then what they leave of the
 * latent rounded on step * Z^D (vq/lattice.h), the first channels replaced
 * by their residual from the median predictor, as 16-bit zigzag codes in a
 * low-byte plane and a high-byte plane per tile (spec/bitstream.md 6.6).
 * The packing below is written from the spec, and must give the library's
 * aem_lattice_pack bytes: if they ever differ, the spec or the library is
 * wrong. */

/* The median predictor of spec/bitstream.md 6.6 for symbol (x, y) of a
 * plane lw wide, from its left, upper and upper-left neighbours. */
static int32_t spec_prediction(const int32_t *s, size_t lw, size_t x, size_t y)
{
    if (x == 0 && y == 0)
        return 0;
    int32_t a = y ? s[(y - 1) * lw + x] : s[y * lw + x - 1]; /* above, else left */
    int32_t l = x ? s[y * lw + x - 1] : a;                    /* left, else above */
    int32_t c = (x && y) ? s[(y - 1) * lw + x - 1] : a;
    int32_t hi = l > a ? l : a, lo = l < a ? l : a;
    return c >= hi ? lo : c <= lo ? hi : l + a - c;
}

/* The planes of the D channels first .. first + D - 1 of the latent (all
 * of them with first = 0; one layer of a layered file, 6.9): sym [D][lh][lw]
 * holds only them, and of them only the latent channels below 2 (absolute
 * index) are predicted. */
static void spec_pack(const int32_t *sym, size_t first, int D, size_t lw, size_t lh,
                      uint8_t *planes)
{
    size_t n = lw * lh;
    for (int d = 0; d < D; d++)
        for (size_t y = 0; y < lh; y++)
            for (size_t x = 0; x < lw; x++) {
                size_t k = (size_t)d * n + y * lw + x;
                int32_t r = sym[k] - (first + (size_t)d < AEM_LATTICE_PREDICTED
                                          ? spec_prediction(sym + (size_t)d * n, lw, x, y) : 0);
                uint32_t c = r >= 0 ? 2u * (uint32_t)r : 2u * (uint32_t)(-r) - 1u;
                planes[k] = (uint8_t)c, planes[(size_t)D * n + k] = (uint8_t)(c >> 8);
            }
}

typedef struct {
    const char *name;
    uint32_t w, h;
    int ch, stages, tile;
    uint32_t step_q; /* lattice step in units of 2^-20 */
    unsigned kind;
    const char *what;
} lattice_case;

static const lattice_case lattice_cases[] = {
    {"rgb100x60-lattice", 100, 60, 3, 2, 64, 1u << 15, 1,
     "RGB, 2x1 tiles, 2 of 4 stages + lattice (step 1/32)"},
    {"rgba70x70-lattice0", 70, 70, 4, 0, 64, 1u << 14, 2,
     "RGBA, 2x2 tiles, no stage, lattice only (step 1/64)"},
};

/* The encoder's latents z [D][LH][LW] of the whole image, computed in one
 * piece (the encoder is exact across tiles: its tiles carry a halo as wide
 * as its receptive field), on the image padded by edge replication. */
static float *image_latents(const aec_model *m, const aeio_image *im)
{
    const aem_config *c = &m->cfg;
    int P = c->block, LW = (int)(im->width + P - 1) / P, LH = (int)(im->height + P - 1) / P;
    size_t W = (size_t)LW * P, H = (size_t)LH * P, N = (size_t)LW * LH;
    float *planes = malloc(sizeof(float) * 3 * W * H);
    float *z = malloc(sizeof(float) * c->latent * N);
    aem_acts a;
    if (!planes || !z || aem_acts_alloc(&a, c, 1, LH, LW, 1, 0))
        exit(1);
    for (size_t y = 0; y < H; y++)
        for (size_t x = 0; x < W; x++) {
            size_t sy = y < im->height ? y : im->height - 1, sx = x < im->width ? x : im->width - 1;
            const uint8_t *p = im->pixels + (sy * im->width + sx) * im->channels;
            for (int k = 0; k < 3; k++)
                planes[k * W * H + y * W + x] = p[k] * (1.0f / 255.0f);
        }
    aem_pixels_to_blocks(c, 1, LH, LW, planes, a.x);
    aem_encoder_forward(m, &a);
    memcpy(z, a.z, sizeof(float) * c->latent * N);
    aem_acts_free(&a);
    free(planes);
    return z;
}

/* Codes tile t: the stage-s index streams into raw idx [S][n] and the
 * lattice planes [2][D][n] (and the symbols [D][n] into sym_out unless it
 * is NULL); q_img [D][LH][LW] receives the tile's decoded latent
 * (codes + step * v), for the untiled reference decode. */
static void code_tile(const aec_model *m, const aecb_header *h, uint32_t t, const float *z_img,
                      float step, uint8_t *idx, uint8_t *planes, int32_t *sym_out, float *q_img)
{
    int D = m->cfg.latent, LW = (int)(h->width + h->block_size - 1) / h->block_size;
    int LH = (int)(h->height + h->block_size - 1) / h->block_size;
    aecb_tile_window win;
    aecb_tile_window_of(h, t, 0, &win);
    size_t n = (size_t)win.lw * win.lh, N = (size_t)LW * LH;
    float *z = malloc(sizeof(float) * D * n), *q = calloc((size_t)D * n, sizeof(float));
    for (int d = 0; d < D; d++)
        for (int y = 0; y < win.lh; y++)
            memcpy(z + (size_t)d * n + (size_t)y * win.lw,
                   z_img + (size_t)d * N + (size_t)(win.ly0 + y) * LW + win.lx0,
                   sizeof(float) * win.lw);
    if (h->stages > 0 && aem_rvq_encode(m, z, n, h->stages, idx, q))
        exit(1);
    int32_t *sym = malloc(sizeof(int32_t) * D * n);
    uint8_t *lib = malloc(2 * (size_t)D * n);
    for (size_t i = 0; i < (size_t)D * n; i++) {
        sym[i] = aem_lattice_symbol(z[i] - q[i], 1.0f / step);
        q[i] += step * (float)sym[i];
    }
    spec_pack(sym, 0, D, (size_t)win.lw, (size_t)win.lh, planes);
    aem_lattice_pack(sym, (size_t)D, (size_t)win.lw, (size_t)win.lh, lib);
    if (memcmp(planes, lib, 2 * (size_t)D * n) != 0) {
        fprintf(stderr, "tile %u: spec_pack and aem_lattice_pack disagree\n", t);
        exit(1);
    }
    if (sym_out)
        memcpy(sym_out, sym, sizeof(int32_t) * D * n);
    free(sym), free(lib);
    for (int d = 0; d < D; d++)
        for (int y = 0; y < win.lh; y++)
            memcpy(q_img + (size_t)d * N + (size_t)(win.ly0 + y) * LW + win.lx0,
                   q + (size_t)d * n + (size_t)y * win.lw, sizeof(float) * win.lw);
    free(z), free(q);
}

/* ---- the split layout (flags bit 3) ---------------------------------------
 * mkconf writes the split streams itself too, from spec/bitstream.md 6.7:
 * a directory of the frames' sizes in LEB128, then one frame per non-empty
 * section: the predicted channels' zigzag residual codes (as in 6.6), one
 * significance byte per latent and group of 8 other channels, then for the
 * non-zero symbols of those channels, in the order of the symbol array, a
 * bit "magnitude above 1", a byte "magnitude - 2" (255: escape), a u16
 * "magnitude - 257" per escape, and a sign bit.  The library's reader must
 * decode every stream to the symbols it was made from, and its writer
 * (aecb_split_write) must give the same bytes: if either differs, the spec
 * or the library is wrong. */

#define SPEC_MAXSEC (2 + 32 + 4) /* sections of D = 255 */

/* The sections' counts of what the files exercise (printed). */
static size_t g_split_nz, g_split_gt1, g_split_esc;

static size_t spec_leb128(uint8_t *p, uint32_t v)
{
    size_t k = 0;
    do {
        p[k++] = (uint8_t)((v & 0x7f) | (v > 0x7f ? 0x80 : 0));
        v >>= 7;
    } while (v);
    return k;
}

/* The split stream of sym [D][lh][lw] (malloc'ed, *size bytes), the
 * latent channels first .. first + D - 1 (6.9: first = 0 but in a layer of
 * a layered file; only the latent channels below 2 are predicted, so PD =
 * min(D, 2 - first) when first < 2, else 0).  stray: a significance bit of
 * channel D + 1 (the last group must have room for it), extra: a zero byte
 * after the last frame; both make the stream invalid, for the bad files. */
static uint8_t *spec_split(const int32_t *sym, size_t first, int D, size_t lw, size_t lh,
                           int stray, int extra, size_t *size)
{
    size_t below = first < AEM_LATTICE_PREDICTED ? AEM_LATTICE_PREDICTED - first : 0;
    size_t n = lw * lh, pd = (size_t)D < below ? (size_t)D : below;
    size_t G = ((size_t)D - pd + 7) / 8, NS = pd + G + 4, k0 = pd + G;
    uint8_t *raw[SPEC_MAXSEC] = {0}, *frame[SPEC_MAXSEC] = {0};
    size_t len[SPEC_MAXSEC] = {0}, fs[SPEC_MAXSEC] = {0};
    for (size_t d = 0; d < pd; d++) { /* P_d: as 6.6, one channel */
        raw[d] = malloc(2 * n), len[d] = 2 * n;
        for (size_t y = 0; y < lh; y++)
            for (size_t x = 0; x < lw; x++) {
                size_t j = y * lw + x;
                int32_t r = sym[d * n + j] - spec_prediction(sym + d * n, lw, x, y);
                uint32_t c = r >= 0 ? 2u * (uint32_t)r : 2u * (uint32_t)(-r) - 1u;
                raw[d][j] = (uint8_t)c, raw[d][n + j] = (uint8_t)(c >> 8);
            }
    }
    for (size_t g = 0; g < G; g++) { /* F_g: bit k of byte j: channel pd + 8g + k */
        raw[pd + g] = calloc(n, 1), len[pd + g] = n;
        for (size_t k = 0; k < 8 && pd + 8 * g + k < (size_t)D; k++)
            for (size_t j = 0; j < n; j++)
                raw[pd + g][j] |= (uint8_t)((sym[(pd + 8 * g + k) * n + j] != 0) << k);
    }
    if (stray) {
        if (((size_t)D - pd) % 8 == 0) /* no bit beyond D-1 in a full group */
            exit(1);
        raw[pd + G - 1][0] |= (uint8_t)(1u << (((size_t)D - pd) % 8 + 1));
    }
    size_t nz = 0, gt1 = 0, esc = 0;
    for (size_t i = pd * n; i < (size_t)D * n; i++) {
        int32_t a = abs(sym[i]);
        nz += a > 0, gt1 += a > 1, esc += a >= 257;
    }
    len[k0] = len[k0 + 3] = (nz + 7) / 8, len[k0 + 1] = gt1, len[k0 + 2] = 2 * esc;
    for (size_t k = k0; k < NS; k++)
        raw[k] = calloc(len[k] ? len[k] : 1, 1);
    size_t i1 = 0, i8 = 0, i16 = 0;
    for (size_t i = pd * n; i < (size_t)D * n; i++) {
        int32_t v = sym[i], a = abs(v);
        if (!v)
            continue;
        if (a > 1) {
            raw[k0][i1 / 8] |= (uint8_t)(1u << (i1 % 8));
            raw[k0 + 1][i8++] = (uint8_t)(a - 2 < 255 ? a - 2 : 255);
            if (a >= 257)
                raw[k0 + 2][i16] = (uint8_t)(a - 257), raw[k0 + 2][i16 + 1] = (uint8_t)((a - 257) >> 8),
                i16 += 2;
        }
        if (v < 0)
            raw[k0 + 3][i1 / 8] |= (uint8_t)(1u << (i1 % 8));
        i1++;
    }
    g_split_nz += nz, g_split_gt1 += gt1, g_split_esc += esc;
    size_t total = (size_t)extra;
    for (size_t k = 0; k < NS; k++) {
        if (len[k] && aecb_zstd_compress(NULL, raw[k], len[k], 19, NULL, &frame[k], &fs[k], NULL,
                                         0) != AEC_OK)
            exit(1);
        total += fs[k];
    }
    uint8_t *out = malloc(5 * NS + total);
    size_t pos = 0;
    for (size_t k = 0; k < NS; k++)
        pos += spec_leb128(out + pos, (uint32_t)fs[k]);
    for (size_t k = 0; k < NS; k++) {
        if (fs[k])
            memcpy(out + pos, frame[k], fs[k]);
        pos += fs[k];
        free(raw[k]), free(frame[k]);
    }
    if (extra)
        out[pos++] = 0;
    *size = pos;
    return out;
}

/* spec_split of a valid stream (channels first .. first + D - 1),
 * checked against the library's reader and writer. */
static uint8_t *split_checked(const int32_t *sym, size_t first, int D, size_t lw, size_t lh,
                              uint32_t t, size_t *size)
{
    uint8_t *mine = spec_split(sym, first, D, lw, lh, 0, 0, size), *lib = NULL;
    size_t lib_size = 0, n = lw * lh;
    uint8_t *work = malloc(aecb_split_work_bytes_at(first, (size_t)D, n));
    int32_t *back = malloc(sizeof(int32_t) * (size_t)D * n);
    if (aecb_split_read_at(NULL, mine, *size, first, (size_t)D, lw, lh, work, back, err,
                           sizeof err) != AEC_OK ||
        memcmp(back, sym, sizeof(int32_t) * (size_t)D * n) != 0) {
        fprintf(stderr, "tile %u, channels %zu..: aecb_split_read_at does not give spec_split's "
                "symbols: %s\n", t, first, err);
        exit(1);
    }
    if (aecb_split_write_at(NULL, sym, first, (size_t)D, lw, lh, 19, &lib, &lib_size, err,
                            sizeof err) != AEC_OK ||
        lib_size != *size || memcmp(lib, mine, lib_size) != 0) {
        fprintf(stderr, "tile %u, channels %zu..: spec_split and aecb_split_write_at disagree\n",
                t, first);
        exit(1);
    }
    if (*size > aecb_split_bound_at(first, (size_t)D, n)) {
        fprintf(stderr, "tile %u, channels %zu..: above aecb_split_bound_at\n", t, first);
        exit(1);
    }
    free(work), free(back), free(lib);
    return mine;
}

/* The planes-layout stream of the channels first .. first + D - 1
 * (spec_pack, compressed), checked against the library's
 * aem_lattice_pack_at and aem_lattice_unpack_at. */
static uint8_t *planes_checked(const int32_t *sym, size_t first, int D, size_t lw, size_t lh,
                               uint32_t t, size_t *size)
{
    size_t n = lw * lh, raw = 2 * (size_t)D * n;
    uint8_t *mine = malloc(raw), *lib = malloc(raw), *z = NULL;
    int32_t *back = malloc(sizeof(int32_t) * (size_t)D * n);
    spec_pack(sym, first, D, lw, lh, mine);
    aem_lattice_pack_at(sym, first, (size_t)D, lw, lh, lib);
    aem_lattice_unpack_at(mine, first, (size_t)D, lw, lh, back);
    if (memcmp(mine, lib, raw) != 0 || memcmp(back, sym, sizeof(int32_t) * (size_t)D * n) != 0) {
        fprintf(stderr, "tile %u, channels %zu..: spec_pack and aem_lattice_pack_at / "
                "aem_lattice_unpack_at disagree\n", t, first);
        exit(1);
    }
    if (aecb_zstd_compress(NULL, mine, raw, 19, NULL, &z, size, err, sizeof err) != AEC_OK) {
        fprintf(stderr, "%s\n", err);
        exit(1);
    }
    free(mine), free(lib), free(back);
    return z;
}

/* ---- lattice layers (flags bit 5) ------------------------------------------
 * spec/bitstream.md 6.9, written from the spec: layer 0 codes the latent
 * channels 0..7, layer l >= 1 the channels 8*2^(l-1) .. 8*2^l - 1, each cut
 * at D; L = the smallest l >= 1 with start(l) >= D; stream A + S*NT +
 * l*NT + t holds layer l of tile t.  Checked against the library's
 * aecb_layers_for, aecb_layer_channels and aecb_layer_stream_index. */
static uint32_t spec_layer_start(int l) { return l == 0 ? 0u : 8u << (l - 1); }

static int spec_layers(uint32_t D)
{
    int L = 1;
    while (spec_layer_start(L) < D)
        L++;
    return L;
}

/* Layers of header h: spec_layers(D) when layered, else 1 (0 without LATTICE). */
static int spec_header_layers(const aecb_header *h)
{
    return !(h->flags & AECB_FLAG_LATTICE)  ? 0
           : !(h->flags & AECB_FLAG_LAYERED) ? 1
                                             : spec_layers(h->lattice_dim);
}

/* Layer l of h: its latent channels first .. first + count - 1 (all D in
 * the one layer of a file that is not layered); returns the table index of
 * its stream of tile t. */
static uint32_t spec_layer(const aecb_header *h, int l, uint32_t t, uint32_t *first,
                           uint32_t *count)
{
    uint32_t D = h->lattice_dim, a = spec_layer_start(l), b = spec_layer_start(l + 1), lf, lc;
    if (!(h->flags & AECB_FLAG_LAYERED))
        a = 0, b = D;
    *first = a < D ? a : D;
    *count = (b < D ? b : D) - *first;
    uint32_t A = (h->flags & AECB_FLAG_ALPHA) ? 1u : 0u;
    uint32_t i = A + (uint32_t)(h->stages + l) * h->n_tiles + t;
    aecb_layer_channels(h, l, &lf, &lc);
    if (lf != *first || lc != *count || !*count || aecb_layer_stream_index(h, l, t) != i ||
        h->lattice_layers != spec_header_layers(h) ||
        ((h->flags & AECB_FLAG_LAYERED) && aecb_layers_for(D) != spec_layers(D))) {
        fprintf(stderr, "layer %d of D = %u: the library says channels %u+%u, stream %u, %d "
                "layers; the spec %u+%u, stream %u, %d layers\n", l, D, lf, lc,
                aecb_layer_stream_index(h, l, t), h->lattice_layers, *first, *count, i,
                spec_header_layers(h));
        exit(1);
    }
    return i;
}

/* Non-zero symbols written in each layer (printed, and each layer of the
 * layered files must have some). */
static size_t g_layer_nz[AECB_MAX_LAYERS];

/* Codes a lattice case into a file (*out, malloc'ed), its lattice streams
 * in the planes layout, or with flags AECB_FLAG_SPLIT in the split layout,
 * and with AECB_FLAG_LAYERED in layers (6.9).  q_img gets the decoded
 * latents of the whole image [D][LH][LW]. */
static int lattice_file(const aec_model *m, const lattice_case *k, const aeio_image *im,
                        unsigned flags, uint8_t **out, size_t *size, float *q_img)
{
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = k->w, h.height = k->h, h.layout = (uint8_t)k->ch, h.stages = (uint8_t)k->stages;
    h.tile_size = (uint16_t)k->tile, h.block_size = (uint8_t)m->cfg.block, h.model_id = m->id;
    h.flags = (uint8_t)(AECB_FLAG_LATTICE | (k->ch == 2 || k->ch == 4 ? AECB_FLAG_ALPHA : 0));
    h.flags |= (uint8_t)(flags & (AECB_FLAG_SPLIT | AECB_FLAG_LAYERED));
    h.lattice_dim = (uint8_t)m->cfg.latent, h.lattice_step_q = k->step_q;
    if (aecb_header_init(&h, err, sizeof err) != AEC_OK)
        return -1;
    float step = (float)((double)k->step_q / AECB_LATTICE_STEP_ONE);
    float *z = image_latents(m, im);
    uint8_t **streams = calloc(h.n_streams, sizeof *streams);
    size_t sz = 0;
    if (h.flags & AECB_FLAG_ALPHA) {
        uint8_t *f = malloc((size_t)k->w * k->h);
        aecb_alpha_filter(f, im->pixels + k->ch - 1, k->w, k->h, (size_t)k->ch,
                          (size_t)k->w * k->ch);
        aecb_zstd_compress(NULL, f, (size_t)k->w * k->h, 19, NULL, &streams[0], &sz, NULL, 0);
        h.sizes[0] = (uint32_t)sz;
        free(f);
    }
    for (uint32_t t = 0; t < h.n_tiles; t++) {
        uint32_t lw, lh;
        aecb_tile_latents(&h, t, &lw, &lh);
        size_t n = (size_t)lw * lh;
        uint8_t *idx = malloc((size_t)(k->stages ? k->stages : 1) * n);
        uint8_t *planes = malloc(2 * (size_t)m->cfg.latent * n);
        int32_t *sym = malloc(sizeof(int32_t) * (size_t)m->cfg.latent * n);
        code_tile(m, &h, t, z, step, idx, planes, sym, q_img);
        for (int s = 0; s < k->stages; s++) {
            uint32_t i = aecb_stream_index(&h, s, t);
            aecb_zstd_compress(NULL, idx + (size_t)s * n, n, 19, NULL, &streams[i], &sz, NULL, 0);
            h.sizes[i] = (uint32_t)sz;
        }
        for (int l = 0; l < h.lattice_layers; l++) { /* layer-major in the table */
            uint32_t first, count, i = spec_layer(&h, l, t, &first, &count);
            const int32_t *s = sym + (size_t)first * n;
            streams[i] = (h.flags & AECB_FLAG_SPLIT)
                             ? split_checked(s, first, (int)count, lw, lh, t, &sz)
                             : planes_checked(s, first, (int)count, lw, lh, t, &sz);
            h.sizes[i] = (uint32_t)sz;
            for (size_t j = 0; j < (size_t)count * n; j++)
                g_layer_nz[l] += s[j] != 0;
        }
        free(idx), free(planes), free(sym);
    }
    int rc = aecb_write(&h, (const uint8_t *const *)streams, out, size) == AEC_OK ? 0 : -1;
    for (uint32_t i = 0; i < h.n_streams; i++)
        free(streams[i]);
    free(streams), free(z);
    aecb_header_free(&h);
    return rc;
}

/* Largest difference between the library's (tiled) decode and the decoder
 * network run on the whole latent grid q_img in one piece; also checks the
 * alpha channel against the original exactly. */
static int untiled_difference(const aec_model *m, const aeio_image *im, const float *q_img,
                              const uint8_t *dec)
{
    const aem_config *c = &m->cfg;
    int P = c->block, LW = (int)(im->width + P - 1) / P, LH = (int)(im->height + P - 1) / P;
    size_t N = (size_t)LW * LH, W = (size_t)LW * P, H = (size_t)LH * P;
    aem_acts a;
    float *pix = malloc(sizeof(float) * 3 * W * H);
    if (!pix || aem_acts_alloc(&a, c, 1, LH, LW, 0, 1))
        exit(1);
    memcpy(a.q, q_img, sizeof(float) * c->latent * N);
    aem_decoder_forward(m, &a);
    aem_blocks_to_pixels(c, 1, LH, LW, a.y, pix);
    int maxd = 0, C = im->channels;
    for (size_t y = 0; y < im->height; y++)
        for (size_t x = 0; x < im->width; x++)
            for (int k = 0; k < C; k++) {
                size_t i = (y * im->width + x) * C + k;
                if (C == 4 && k == 3) {
                    maxd = dec[i] != im->pixels[i] ? 255 : maxd;
                    continue;
                }
                float v = pix[k * W * H + y * W + x];
                v = v > 0 ? (v < 1 ? v : 1) : 0;
                int ref = (int)(v * 255.0f + 0.5f), d = abs(ref - dec[i]);
                maxd = d > maxd ? d : maxd;
            }
    aem_acts_free(&a);
    free(pix);
    return maxd;
}

/* Writes the lattice conformance files, their expected images and the
 * invalid files derived from them and from grey33x17.aec (`grey`), and
 * their manifest lines to man. */
static int lattice_files(const aec_model *m, aec_decoder *dec, const char *dir, FILE *man,
                         const uint8_t *grey, size_t grey_size)
{
    uint8_t *keep[2] = {NULL, NULL};
    size_t keep_size[2] = {0, 0};
    for (size_t c = 0; c < sizeof lattice_cases / sizeof *lattice_cases; c++) {
        const lattice_case *k = &lattice_cases[c];
        aeio_image im = pattern(k->w, k->h, k->ch, k->kind);
        size_t N = (size_t)((k->w + 7) / 8) * ((k->h + 7) / 8);
        float *q = calloc((size_t)m->cfg.latent * N, sizeof(float));
        uint8_t *file = NULL;
        size_t size = 0;
        if (lattice_file(m, k, &im, 0, &file, &size, q)) {
            fprintf(stderr, "%s: cannot code\n", k->name);
            return 1;
        }
        /* the whole file, then (for the first) the file cut in its last
         * lattice stream: the stages alone */
        for (int cut = 0; cut < (c == 0 ? 2 : 1); cut++) {
            size_t n = cut ? size - 1 : size;
            uint64_t hash;
            int stages;
            uint8_t *out = NULL;
            uint32_t ow, oh;
            aec_layout ol;
            if (index_hash(file, n, &hash, &stages) ||
                aec_decode(dec, file, n, NULL, &out, &ow, &oh, &ol) != AEC_OK) {
                fprintf(stderr, "%s: %s %s\n", k->name, err, aec_decoder_last_error(dec));
                return 1;
            }
            if (!cut) { /* the tiled decode must be the untiled one */
                int d = untiled_difference(m, &im, q, out);
                printf("%-26s tiled vs untiled decode: max difference %d\n", k->name, d);
                if (d > 1)
                    return 1;
            }
            char name[256];
            snprintf(name, sizeof name, "%s%s", k->name, cut ? "-cut" : "");
            aeio_image dimg = {.width = ow, .height = oh, .channels = (int)ol, .pixels = out};
            char path[1024];
            snprintf(path, sizeof path, "%s/%s.png", dir, name);
            if (aeio_write(path, &dimg, err, sizeof err)) {
                fprintf(stderr, "%s\n", err);
                return 1;
            }
            aec_free(out);
            fprintf(man, "%s.aec OK %u %u %d %d %016llx %s.png\n", name, ow, oh, (int)ol, stages,
                    (unsigned long long)hash, name);
            char fname[300];
            snprintf(fname, sizeof fname, "%s.aec", name);
            if (write_file(dir, fname, file, n))
                return 1;
            printf("%-26s %5zu bytes  %s%s\n", fname, n, k->what,
                   cut ? ", cut in the lattice layer" : "");
        }
        keep[c] = file, keep_size[c] = size;
        aeio_free(&im);
        free(q);
    }
    /* Invalid files of the lattice era. */
    size_t cap = keep_size[0] > keep_size[1] ? keep_size[0] : keep_size[1]; /* case 4 copies keep[1] */
    uint8_t *b = malloc(cap > grey_size ? cap : grey_size);
    struct {
        const char *name, *expect;
    } bad[] = {
        {"bad-unknown-flag.aec", "UNSUPPORTED"}, {"bad-lattice-step.aec", "CORRUPT"},
        {"bad-lattice-dim.aec", "CORRUPT"},      {"bad-lattice-crc.aec", "CORRUPT"},
        {"cut-in-lattice0.aec", "TRUNCATED"},
    };
    aecb_header h;
    aecb_parse(keep[0], keep_size[0], NULL, &h, NULL, 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t n = keep_size[0];
        memcpy(b, keep[0], n);
        switch (i) {
        case 0: n = grey_size, memcpy(b, grey, n), b[7] |= 0x80, fix_crc(b, n); break;
        case 1: memset(b + 40, 0, 4), fix_crc(b, n); break;
        case 2: b[19] = (uint8_t)(m->cfg.latent + 1), fix_crc(b, n); break;
        case 3: b[h.offsets[aecb_lattice_stream_index(&h, 1)] + 1] ^= 0x04; break;
        case 4: n = keep_size[1] - 1, memcpy(b, keep[1], n); break;
        }
        if (write_file(dir, bad[i].name, b, n))
            return 1;
        fprintf(man, "%s %s\n", bad[i].name, bad[i].expect);
    }
    aecb_header_free(&h);
    free(b);
    free(keep[0]), free(keep[1]);
    return 0;
}

/* ---- the files of the split layout ---------------------------------------- */

static const lattice_case split_cases[] = {
    {"rgba70x70-split0", 70, 70, 4, 0, 64, 1u << 12, 2,
     "RGBA, 2x2 tiles, no stage, split lattice only (step 1/256: escapes)"},
};

/* The file of header src (data d) with flags `flags` and lattice stream t
 * replaced by lat[t] (size lat_size[t]) for every tile. */
static int rewrite_lattice(const aecb_header *src, const uint8_t *d, uint8_t flags,
                           uint8_t *const *lat, const size_t *lat_size, uint8_t **out,
                           size_t *size)
{
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = src->width, h.height = src->height, h.layout = src->layout;
    h.stages = src->stages, h.tile_size = src->tile_size, h.block_size = src->block_size;
    h.model_id = src->model_id, h.flags = flags, h.lattice_dim = src->lattice_dim;
    h.lattice_step_q = src->lattice_step_q;
    if (aecb_header_init(&h, err, sizeof err) != AEC_OK || h.n_streams != src->n_streams)
        return -1;
    const uint8_t **streams = calloc(h.n_streams, sizeof *streams);
    for (uint32_t i = 0; i < h.n_streams; i++)
        streams[i] = d + src->offsets[i], h.sizes[i] = src->sizes[i];
    for (uint32_t t = 0; t < h.n_tiles; t++) {
        uint32_t i = aecb_lattice_stream_index(&h, t);
        streams[i] = lat[t], h.sizes[i] = (uint32_t)lat_size[t];
    }
    int rc = aecb_write(&h, streams, out, size) == AEC_OK ? 0 : -1;
    free(streams);
    aecb_header_free(&h);
    return rc;
}

/* Decodes file[0..n) with dec, writes NAME.aec, NAME.png and its manifest
 * line; *hash: the stream hash; *img (unless NULL) keeps the pixels. */
static int write_valid(aec_decoder *dec, const char *dir, FILE *man, const char *name,
                       const uint8_t *file, size_t n, uint64_t *hash, uint8_t **img)
{
    int stages;
    uint8_t *out = NULL;
    uint32_t ow, oh;
    aec_layout ol;
    if (index_hash(file, n, hash, &stages) ||
        aec_decode(dec, file, n, NULL, &out, &ow, &oh, &ol) != AEC_OK) {
        fprintf(stderr, "%s: %s %s\n", name, err, aec_decoder_last_error(dec));
        return -1;
    }
    aeio_image dimg = {.width = ow, .height = oh, .channels = (int)ol, .pixels = out};
    char path[1024], fname[300];
    snprintf(path, sizeof path, "%s/%s.png", dir, name);
    snprintf(fname, sizeof fname, "%s.aec", name);
    if (aeio_write(path, &dimg, err, sizeof err) || write_file(dir, fname, file, n)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    fprintf(man, "%s OK %u %u %d %d %016llx %s.png\n", fname, ow, oh, (int)ol, stages,
            (unsigned long long)*hash, name);
    if (img)
        *img = out;
    else
        aec_free(out);
    return 0;
}

/* Writes the split-layout files, their expected images and the invalid
 * files derived from them, from rgb100x60-lattice.aec (read from dir) and
 * from grey33x17.aec (`grey`), and their manifest lines to man:
 *  - rgb100x60-split.aec: the symbols of rgb100x60-lattice.aec (its planes
 *    unpacked) re-coded in the split layout, every other stream the same:
 *    it must decode to the very same pixels and stream hash;
 *  - rgba70x70-split0.aec: coded here, no stage, a fine step so that the
 *    magnitudes reach R8 and R16. */
static int split_files(const aec_model *m, aec_decoder *dec, const char *dir, FILE *man,
                       const uint8_t *grey, size_t grey_size)
{
    int D = m->cfg.latent;
    char path[1024];
    snprintf(path, sizeof path, "%s/rgb100x60-lattice.aec", dir);
    uint8_t *planes_file = NULL;
    size_t planes_size = 0;
    aecb_header ph;
    if (aeio_read_file(path, &planes_file, &planes_size, 1u << 20, err, sizeof err) ||
        aecb_parse(planes_file, planes_size, NULL, &ph, err, sizeof err) != AEC_OK ||
        ph.lattice_dim != D || (ph.flags & AECB_FLAG_SPLIT)) {
        fprintf(stderr, "%s: %s\n", path, err);
        return 1;
    }
    uint32_t NT = ph.n_tiles;
    int32_t **sym = calloc(NT, sizeof *sym);
    uint8_t **lat = calloc(NT, sizeof *lat);
    size_t *lat_size = calloc(NT, sizeof *lat_size);
    for (uint32_t t = 0; t < NT; t++) {
        uint32_t i = aecb_lattice_stream_index(&ph, t), lw, lh;
        aecb_tile_latents(&ph, t, &lw, &lh);
        size_t n = (size_t)lw * lh, raw = 2 * (size_t)D * n;
        uint8_t *planes = malloc(raw), *again = malloc(raw);
        sym[t] = malloc(sizeof(int32_t) * (size_t)D * n);
        if (aecb_zstd_decompress(NULL, NULL, planes_file + ph.offsets[i], ph.sizes[i], planes, raw,
                                 err, sizeof err) != AEC_OK)
            return 1;
        aem_lattice_unpack(planes, (size_t)D, lw, lh, sym[t]);
        spec_pack(sym[t], 0, D, lw, lh, again); /* the symbols are those of 6.6 */
        if (memcmp(planes, again, raw) != 0) {
            fprintf(stderr, "tile %u: aem_lattice_unpack disagrees with spec_pack\n", t);
            return 1;
        }
        lat[t] = split_checked(sym[t], 0, D, lw, lh, t, &lat_size[t]);
        free(planes), free(again);
    }
    uint8_t *file = NULL, *img = NULL, *planes_img = NULL;
    size_t size = 0;
    uint64_t hash, planes_hash;
    int stages;
    uint32_t ow, oh;
    if (rewrite_lattice(&ph, planes_file, (uint8_t)(ph.flags | AECB_FLAG_SPLIT), lat, lat_size,
                        &file, &size) ||
        write_valid(dec, dir, man, "rgb100x60-split", file, size, &hash, &img))
        return 1;
    if (index_hash(planes_file, planes_size, &planes_hash, &stages) ||
        aec_decode(dec, planes_file, planes_size, NULL, &planes_img, &ow, &oh, NULL) != AEC_OK ||
        hash != planes_hash || memcmp(img, planes_img, 100 * 60 * 3) != 0) {
        fprintf(stderr, "rgb100x60-split.aec does not decode like rgb100x60-lattice.aec\n");
        return 1;
    }
    printf("%-26s %5zu bytes  the symbols of rgb100x60-lattice.aec (%zu bytes), split layout\n",
           "rgb100x60-split.aec", size, planes_size);
    aec_free(img), aec_free(planes_img);

    for (size_t c = 0; c < sizeof split_cases / sizeof *split_cases; c++) {
        const lattice_case *k = &split_cases[c];
        aeio_image im = pattern(k->w, k->h, k->ch, k->kind);
        size_t N = (size_t)((k->w + 7) / 8) * ((k->h + 7) / 8);
        float *q = calloc((size_t)D * N, sizeof(float));
        uint8_t *f = NULL, *out = NULL;
        size_t fs = 0, esc = g_split_esc;
        if (lattice_file(m, k, &im, AECB_FLAG_SPLIT, &f, &fs, q) ||
            write_valid(dec, dir, man, k->name, f, fs, &hash, &out))
            return 1;
        int d = untiled_difference(m, &im, q, out);
        char fname[300];
        snprintf(fname, sizeof fname, "%s.aec", k->name);
        printf("%-26s %5zu bytes  %s; tiled vs untiled decode: max difference %d\n", fname, fs,
               k->what, d);
        if (d > 1 || g_split_esc == esc) /* R16 must be used */
            return 1;
        aec_free(out), free(f), free(q);
        aeio_free(&im);
    }
    printf("split streams: %zu non-zero symbols beyond the predicted channels, %zu above 1, "
           "%zu escapes\n", g_split_nz, g_split_gt1, g_split_esc);

    /* Invalid files: rgb100x60-split.aec with tile 1's stream changed
     * (valid CRC), the planes file and grey33x17.aec with SPLIT set. */
    struct {
        const char *name, *expect;
    } bad[] = {
        {"bad-split-sig.aec", "CORRUPT"},
        {"bad-split-dir.aec", "CORRUPT"},
        {"bad-split-flag.aec", "CORRUPT"},
        {"bad-split-planes.aec", "CORRUPT"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        uint8_t *b = NULL, *keep = lat[1];
        size_t n = 0, keep_size = lat_size[1];
        uint32_t lw, lh;
        aecb_tile_latents(&ph, 1, &lw, &lh);
        if (i < 2) { /* a significance bit of channel D + 1; a byte after the frames */
            lat[1] = spec_split(sym[1], 0, D, lw, lh, i == 0, i == 1, &lat_size[1]);
            if (rewrite_lattice(&ph, planes_file, (uint8_t)(ph.flags | AECB_FLAG_SPLIT), lat,
                                lat_size, &b, &n))
                return 1;
            free(lat[1]);
            lat[1] = keep, lat_size[1] = keep_size;
        } else {
            n = i == 2 ? grey_size : planes_size;
            b = malloc(n);
            memcpy(b, i == 2 ? grey : planes_file, n);
            b[7] |= AECB_FLAG_SPLIT;
            fix_crc(b, n);
        }
        /* the library must refuse it as listed */
        uint8_t *out = NULL;
        uint32_t ow, oh;
        aec_status st = aec_decode(dec, b, n, NULL, &out, &ow, &oh, NULL);
        printf("%-26s %5zu bytes  %s (%s)\n", bad[i].name, n, aec_status_string(st),
               aec_decoder_last_error(dec));
        if (st != AEC_ERR_CORRUPT || write_file(dir, bad[i].name, b, n))
            return 1;
        fprintf(man, "%s %s\n", bad[i].name, bad[i].expect);
        free(b);
    }
    for (uint32_t t = 0; t < NT; t++)
        free(sym[t]), free(lat[t]);
    free(sym), free(lat), free(lat_size), free(file), free(planes_file);
    aecb_header_free(&ph);
    return 0;
}

static int make_files(const char *model_path, const char *dir)
{
    aec_model *m = NULL;
    aec_status st = aec_model_load_file(&m, model_path);
    if (st != AEC_OK) {
        fprintf(stderr, "%s: %s\n", model_path, aec_status_string(st));
        return 1;
    }
    aec_encoder *enc = NULL;
    aec_decoder *dec = NULL;
    if (aec_encoder_create(&enc, m) != AEC_OK || aec_decoder_create(&dec, m) != AEC_OK)
        return 1;
    aec_decoder_set_threads(dec, 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *man = fopen(path, "w");
    if (!man)
        return 1;
    fprintf(man, "# tests/conformance/manifest.txt - written by tests/conformance/make.sh\n"
                 "# model tiny.aem id %016llx (%d stages, %d codes)\n"
                 "# valid files:   NAME.aec OK WIDTH HEIGHT LAYOUT STAGES_DECODED STREAM_FNV1A64 NAME.png (spec 14.2)\n"
                 "# invalid files: NAME.aec ERROR\n",
                 (unsigned long long)aec_model_id(m), aec_model_stages(m), m->cfg.codes);
    uint8_t *first = NULL;
    size_t first_size = 0;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const conf_case *k = &cases[c];
        aeio_image im = pattern(k->w, k->h, k->ch, k->kind);
        aec_encode_params p;
        aec_encode_params_default(&p);
        p.quality = k->quality, p.tile_size = k->tile, p.threads = 1;
        uint8_t *file = NULL;
        size_t size = 0;
        st = aec_encode(enc, im.pixels, k->w, k->h, 0, (aec_layout)k->ch, &p, &file, &size);
        aeio_free(&im);
        if (st != AEC_OK) {
            fprintf(stderr, "%s: %s\n", k->name, aec_encoder_last_error(enc));
            return 1;
        }
        if (k->keep_stages) {
            aec_info info;
            aec_read_info(file, size, &info);
            size_t end = size;
            for (int s = info.stages_coded; s > k->keep_stages; s--)
                end -= info.stage_bytes[s - 1];
            size = end;
        }
        uint64_t hash;
        int stages;
        if (index_hash(file, size, &hash, &stages)) {
            fprintf(stderr, "%s: %s\n", k->name, err);
            return 1;
        }
        uint8_t *out = NULL;
        uint32_t ow, oh;
        aec_layout ol;
        st = aec_decode(dec, file, size, NULL, &out, &ow, &oh, &ol);
        if (st != AEC_OK) {
            fprintf(stderr, "%s: %s\n", k->name, aec_decoder_last_error(dec));
            return 1;
        }
        aeio_image dimg = {.width = ow, .height = oh, .channels = (int)ol, .pixels = out};
        char name[256];
        snprintf(name, sizeof name, "%s/%s.png", dir, k->name);
        if (aeio_write(name, &dimg, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        aec_free(out);
        snprintf(name, sizeof name, "%s.aec", k->name);
        if (write_file(dir, name, file, size))
            return 1;
        fprintf(man, "%s OK %u %u %d %d %016llx %s.png\n", name, ow, oh, (int)ol, stages,
                (unsigned long long)hash, k->name);
        printf("%-22s %5zu bytes  %s\n", name, size, k->what);
        if (c == 0)
            first = file, first_size = size;
        else
            aec_free(file);
    }
    /* Invalid files, all derived from the first (grey, 1 tile, 4 streams). */
    uint8_t *b = malloc(first_size + 1);
    struct {
        const char *name, *expect;
    } bad[] = {
        {"bad-magic.aec", "NOT_AEC"},       {"bad-version.aec", "UNSUPPORTED"},
        {"bad-flags.aec", "CORRUPT"},       {"bad-reserved.aec", "UNSUPPORTED"},
        {"bad-header-crc.aec", "CORRUPT"},  {"bad-stream-crc.aec", "CORRUPT"},
        {"bad-index.aec", "CORRUPT"},       {"trailing-byte.aec", "CORRUPT"},
        {"cut-in-stage1.aec", "TRUNCATED"}, {"unknown-model.aec", "MODEL_MISMATCH"},
        {"too-wide.aec", "LIMIT"},          {"bad-stream-count.aec", "CORRUPT"},
    };
    aecb_header h;
    aecb_parse(first, first_size, NULL, &h, NULL, 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t n = first_size;
        memcpy(b, first, first_size);
        switch (i) {
        case 0: b[1] = 'a'; break;
        case 1: b[4] = 3; break;
        case 2: b[7] |= 0x04, fix_crc(b, n); break; /* lattice flag, fields zero */
        case 3: b[19] = 1, fix_crc(b, n); break;
        case 4: b[44] ^= 1; break;
        case 5: b[h.offsets[0] + 2] ^= 0x10; break; /* stage 1, tile 0 */
        case 6: { /* stage-1 index stream replaced by one holding index K */
            uint32_t lw, lh;
            aecb_tile_latents(&h, 0, &lw, &lh);
            uint8_t raw[64];
            memset(raw, 0, sizeof raw);
            raw[lw * lh - 1] = (uint8_t)m->cfg.codes;
            uint8_t *z = NULL;
            size_t zn = 0;
            aecb_zstd_compress(NULL, raw, (size_t)lw * lh, 19, NULL, &z, &zn, NULL, 0);
            aecb_header g;
            memset(&g, 0, sizeof g);
            g.width = h.width, g.height = h.height, g.layout = h.layout, g.stages = 1;
            g.tile_size = h.tile_size, g.block_size = h.block_size, g.model_id = h.model_id;
            aecb_header_init(&g, NULL, 0);
            g.sizes[0] = (uint32_t)zn;
            const uint8_t *streams[1] = {z};
            uint8_t *f = NULL;
            aecb_write(&g, streams, &f, &n);
            memcpy(b, f, n);
            free(f), free(z), aecb_header_free(&g);
            break;
        }
        case 7: b[n++] = 0; break;
        case 8: n = (size_t)(h.offsets[0] + h.sizes[0] - 1); break;
        case 9: b[24] ^= 0xFF, fix_crc(b, n); break;
        case 10: b[10] = 1, fix_crc(b, n); break; /* width 65536 + 33 */
        case 11: b[20] += 1, fix_crc(b, n); break;
        }
        if (write_file(dir, bad[i].name, b, n))
            return 1;
        fprintf(man, "%s %s\n", bad[i].name, bad[i].expect);
    }
    aecb_header_free(&h);
    free(b);
    if (lattice_files(m, dec, dir, man, first, first_size) ||
        split_files(m, dec, dir, man, first, first_size))
        return 1;
    aec_free(first);
    fclose(man);
    aec_encoder_destroy(enc);
    aec_decoder_destroy(dec);
    aec_model_free(m);
    return 0;
}

/* What `mkconf lattice` and `mkconf split` start from: the committed
 * model, a single-threaded decoder of it and grey33x17.aec (the base of
 * some invalid files).  0 on success; on failure nothing is left to free. */
typedef struct {
    aec_model *m;
    aec_decoder *dec;
    uint8_t *grey;
    size_t grey_size;
} conf_base;

static int base_load(conf_base *b, const char *model_path, const char *dir)
{
    char path[1024];
    memset(b, 0, sizeof *b);
    snprintf(path, sizeof path, "%s/grey33x17.aec", dir);
    if (aec_model_load_file(&b->m, model_path) != AEC_OK ||
        aec_decoder_create(&b->dec, b->m) != AEC_OK ||
        aeio_read_file(path, &b->grey, &b->grey_size, 1u << 20, err, sizeof err)) {
        fprintf(stderr, "%s or %s: cannot load\n", model_path, path);
        aec_decoder_destroy(b->dec);
        aec_model_free(b->m);
        return 1;
    }
    aec_decoder_set_threads(b->dec, 1);
    return 0;
}

static void base_free(conf_base *b)
{
    free(b->grey);
    aec_decoder_destroy(b->dec);
    aec_model_free(b->m);
}

/* Appends to DIR/manifest.txt what write_files (lattice_files or
 * split_files) adds. */
static int append_files(const char *dir, const conf_base *b,
                        int (*write_files)(const aec_model *, aec_decoder *, const char *, FILE *,
                                           const uint8_t *, size_t))
{
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *man = fopen(path, "a");
    int rc = !man || write_files(b->m, b->dec, dir, man, b->grey, b->grey_size);
    if (man && fclose(man))
        rc = 1;
    return rc;
}

/* `mkconf lattice`: the lattice-era files only, next to the committed ones. */
static int add_lattice_files(const char *model_path, const char *dir)
{
    conf_base b;
    if (base_load(&b, model_path, dir))
        return 1;
    int rc = append_files(dir, &b, lattice_files);
    base_free(&b);
    return rc;
}

/* `mkconf split`: the split-layout files only, next to the committed
 * ones; bad-unknown-flag.aec is rewritten with flags bit 7 (bit 3 is SPLIT
 * now; the highest bit stays unknown longest), keeping its manifest line. */
static int add_split_files(const char *model_path, const char *dir)
{
    conf_base b;
    if (base_load(&b, model_path, dir))
        return 1;
    uint8_t *f = malloc(b.grey_size);
    int rc = !f;
    if (f) {
        memcpy(f, b.grey, b.grey_size);
        f[7] |= 0x80, fix_crc(f, b.grey_size);
        rc = write_file(dir, "bad-unknown-flag.aec", f, b.grey_size) != 0;
        free(f);
    }
    rc = rc || append_files(dir, &b, split_files);
    base_free(&b);
    return rc;
}

/* ---- the frame rules of spec/bitstream.md 6.2 ------------------------------
 * grey33x17.aec (read from DIR) with its stage-1 stream (15 index bytes)
 * replaced by another frame of the same content, table and CRCs redone:
 * with a content checksum (valid; the same pixels and hash), the checksum
 * wrong (CORRUPT), and as a raw block behind a Window_Descriptor of 2^31
 * (valid, the largest window) and of 2^31 + 2^28 (CORRUPT). */
static size_t window_frame(uint8_t *f, uint8_t descriptor, const uint8_t *raw, uint32_t n)
{
    size_t k = 0;
    f[k++] = 0x80; /* 4-byte Frame_Content_Size, not single segment */
    f[k++] = descriptor;
    for (int i = 0; i < 4; i++)
        f[k++] = (uint8_t)(n >> (8 * i));
    uint32_t bh = 1u | n << 3; /* last block, raw */
    f[k++] = (uint8_t)bh, f[k++] = (uint8_t)(bh >> 8), f[k++] = (uint8_t)(bh >> 16);
    memcpy(f + k, raw, n);
    return k + n;
}

static int add_zstd_files(const char *model_path, const char *dir)
{
    conf_base b;
    if (base_load(&b, model_path, dir))
        return 1;
    aecb_header h;
    uint8_t raw[64], frame[256];
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *man = fopen(path, "a");
    int rc = !man || aecb_parse(b.grey, b.grey_size, NULL, &h, err, sizeof err) != AEC_OK;
    uint32_t n = rc ? 0 : (uint32_t)aecb_stream_raw_size(&h, 0);
    if (rc || n > sizeof raw ||
        aecb_zstd_decompress(NULL, NULL, b.grey + h.offsets[0], h.sizes[0], raw, n, err,
                             sizeof err) != AEC_OK) {
        fprintf(stderr, "grey33x17.aec: %s\n", err);
        base_free(&b);
        return 1;
    }
    struct {
        const char *name, *expect;
    } cases[] = {
        {"zstd-checksum", "OK"},
        {"bad-zstd-checksum.aec", "CORRUPT"},
        {"zstd-window-2g", "OK"},
        {"bad-zstd-window.aec", "CORRUPT"},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases && !rc; c++) {
        size_t fn = 0;
        if (c < 2) {
            ZSTD_CCtx *cc = ZSTD_createCCtx();
            ZSTD_CCtx_setParameter(cc, ZSTD_c_format, ZSTD_f_zstd1_magicless);
            ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
            ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, 19);
            fn = ZSTD_compress2(cc, frame, sizeof frame, raw, n);
            ZSTD_freeCCtx(cc);
            if (ZSTD_isError(fn) || !(frame[0] & 0x04)) {
                rc = 1;
                break;
            }
            if (c == 1)
                frame[fn - 1] ^= 0x01; /* in the checksum, after the content */
        } else {
            fn = window_frame(frame, c == 2 ? 21 << 3 : (21 << 3) | 1, raw, n);
        }
        /* the file with stream 0 replaced */
        aecb_header g;
        memset(&g, 0, sizeof g);
        g.width = h.width, g.height = h.height, g.layout = h.layout, g.stages = h.stages;
        g.tile_size = h.tile_size, g.block_size = h.block_size, g.model_id = h.model_id;
        g.flags = h.flags;
        const uint8_t *streams[AEM_MAX_STAGES];
        uint8_t *f = NULL;
        size_t size = 0;
        if (aecb_header_init(&g, err, sizeof err) != AEC_OK || g.n_streams != h.n_streams) {
            rc = 1;
            break;
        }
        for (uint32_t i = 0; i < g.n_streams; i++)
            streams[i] = b.grey + h.offsets[i], g.sizes[i] = h.sizes[i];
        streams[0] = frame, g.sizes[0] = (uint32_t)fn;
        rc = aecb_write(&g, streams, &f, &size) != AEC_OK;
        aecb_header_free(&g);
        uint64_t hash;
        if (!rc && !strcmp(cases[c].expect, "OK")) {
            rc = write_valid(b.dec, dir, man, cases[c].name, f, size, &hash, NULL);
            printf("%-26s %5zu bytes  stage-1 frame of %zu bytes\n", cases[c].name, size, fn);
        } else if (!rc) { /* the library must refuse it as listed */
            uint8_t *out = NULL;
            uint32_t ow, oh;
            aec_status st = aec_decode(b.dec, f, size, NULL, &out, &ow, &oh, NULL);
            printf("%-26s %5zu bytes  %s (%s)\n", cases[c].name, size, aec_status_string(st),
                   aec_decoder_last_error(b.dec));
            rc = st != AEC_ERR_CORRUPT || write_file(dir, cases[c].name, f, size);
            if (!rc)
                fprintf(man, "%s %s\n", cases[c].name, cases[c].expect);
            aec_free(out);
        }
        free(f);
    }
    aecb_header_free(&h);
    if (man && fclose(man))
        rc = 1;
    base_free(&b);
    return rc;
}

/* ---- the network pins -------------------------------------------------------
 * tiny.aem's decoder leans on its linear path, so a decoder with flipped
 * kernels, without the convolution branch or with another grey formula
 * decodes most files above within the tolerance.  These files are coded
 * with pins.aem instead (make.sh: wider, two decoder convolutions, trained
 * longer), whose convolution branch moves the pixels by tens of levels;
 * tests/test_conformance_pins.c checks that each of those wrong decoders
 * misses every one of them.  Few stages, so the decoded grey image keeps
 * colour that a wrong grey formula turns into a wrong level; and a black
 * and white image, where the decoder overshoots 0 and 1, so that clamping
 * R, G, B before taking their luma misses too. */
static const conf_case pin_cases[] = {
    {"pin-rgb96x64", 96, 64, 3, 4, 64, 0, 0, "RGB, 2x1 tiles of 64, all 4 stages"},
    {"pin-grey72x40", 72, 40, 1, 2, 64, 0, 2, "grey, 2x1 tiles, 2 of 4 stages"},
    {"pin-greyalpha40x40", 40, 40, 2, 1, 64, 0, 1, "grey+alpha, 1 stage"},
    {"pin-rgba66x50", 66, 50, 4, 3, 64, 0, 3, "RGBA, 2x1 tiles, 3 stages"},
    {"pin-greybw64x64", 64, 64, 1, 4, 64, 0, 4, "grey, black and white only, 4 stages"},
};

static int add_pin_files(const char *model_path, const char *dir)
{
    aec_model *m = NULL;
    aec_encoder *enc = NULL;
    aec_decoder *dec = NULL;
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    if (aec_model_load_file(&m, model_path) != AEC_OK || aec_encoder_create(&enc, m) != AEC_OK ||
        aec_decoder_create(&dec, m) != AEC_OK) {
        fprintf(stderr, "%s: cannot load\n", model_path);
        return 1;
    }
    aec_decoder_set_threads(dec, 1);
    FILE *man = fopen(path, "a");
    if (!man)
        return 1;
    fprintf(man, "# model pins.aem id %016llx (%d stages, %d codes): the pin-*.aec files\n",
            (unsigned long long)aec_model_id(m), aec_model_stages(m), m->cfg.codes);
    int rc = 0;
    for (size_t c = 0; c < sizeof pin_cases / sizeof *pin_cases && !rc; c++) {
        const conf_case *k = &pin_cases[c];
        aeio_image im = pattern(k->w, k->h, k->ch, k->kind);
        aec_encode_params p;
        aec_encode_params_default(&p);
        p.quality = k->quality, p.tile_size = k->tile, p.threads = 1, p.lambda = 0;
        uint8_t *file = NULL;
        size_t size = 0;
        uint64_t hash;
        if (aec_encode(enc, im.pixels, k->w, k->h, 0, (aec_layout)k->ch, &p, &file, &size) !=
            AEC_OK) {
            fprintf(stderr, "%s: %s\n", k->name, aec_encoder_last_error(enc));
            rc = 1;
        } else if (write_valid(dec, dir, man, k->name, file, size, &hash, NULL)) {
            rc = 1;
        } else {
            printf("%-26s %5zu bytes  %s\n", k->name, size, k->what);
        }
        aec_free(file);
        aeio_free(&im);
    }
    if (fclose(man))
        rc = 1;
    aec_encoder_destroy(enc);
    aec_decoder_destroy(dec);
    aec_model_free(m);
    return rc;
}

/* `mkconf meta`: the metadata stream (spec/bitstream.md 6.8), from
 * grey33x17.aec with its streams unchanged:
 *  - meta-grey33x17.aec: flags bit 4 and one more stream holding an ICCP
 *    chunk of the 16 bytes 00..0F and an EXIF chunk (a big-endian TIFF
 *    header with an empty IFD0): the same pixels and stream hash;
 *  - bad-meta-flag.aec: grey33x17.aec with flags bit 4 set but no metadata
 *    stream in its table (CRC made valid): CORRUPT at step 8. */
static const uint8_t meta_icc[16] = {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15};
static const uint8_t meta_exif[14] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 0, 0, 0, 0, 0};

static int meta_files(const aec_model *m, aec_decoder *dec, const char *dir, FILE *man,
                      const uint8_t *grey, size_t grey_size)
{
    (void)m;
    aecb_header src, h;
    if (aecb_parse(grey, grey_size, NULL, &src, err, sizeof err) != AEC_OK) {
        fprintf(stderr, "grey33x17.aec: %s\n", err);
        return 1;
    }
    h = src;
    h.flags |= AECB_FLAG_METADATA;
    int rc = aecb_header_init(&h, err, sizeof err) != AEC_OK;
    const uint8_t **streams = rc ? NULL : calloc(h.n_streams, sizeof *streams);
    aec_metadata md = {meta_icc, sizeof meta_icc, meta_exif, sizeof meta_exif};
    uint8_t mdbytes[64];
    uint8_t *file = NULL;
    size_t n = 0;
    uint64_t hash;
    rc = rc || !streams;
    if (!rc) {
        for (uint32_t i = 0; i < src.n_streams; i++)
            streams[i] = grey + src.offsets[i], h.sizes[i] = src.sizes[i];
        aecb_metadata_write(&md, mdbytes);
        streams[h.n_streams - 1] = mdbytes;
        h.sizes[h.n_streams - 1] = (uint32_t)aecb_metadata_size(&md);
        rc = aecb_write(&h, streams, &file, &n) != AEC_OK ||
             write_valid(dec, dir, man, "meta-grey33x17", file, n, &hash, NULL);
    }
    uint8_t *bad = rc ? NULL : malloc(grey_size);
    if (bad) {
        memcpy(bad, grey, grey_size);
        bad[7] |= AECB_FLAG_METADATA, fix_crc(bad, grey_size);
        rc = write_file(dir, "bad-meta-flag.aec", bad, grey_size) != 0;
        fprintf(man, "bad-meta-flag.aec CORRUPT\n");
    }
    free(bad);
    free(file);
    free(streams);
    aecb_header_free(&h); /* init replaced src's arrays in h by its own (or NULL) */
    aecb_header_free(&src);
    return rc;
}

static int add_meta_files(const char *model_path, const char *dir)
{
    conf_base b;
    if (base_load(&b, model_path, dir))
        return 1;
    int rc = append_files(dir, &b, meta_files);
    base_free(&b);
    return rc;
}

/* ---- the files of the lattice layers (flags bit 5) -------------------------
 * Coded with layers.aem (make.sh: tiny.aem's shape with a latent of D = 20,
 * so 3 layers: channels 0-7, 8-15 and 16-19), mkconf writing every stream
 * itself as for the lattice files above, each layer stream checked byte
 * for byte against the library's writer (aecb_split_write_at,
 * aem_lattice_pack_at) and symbol for symbol against its reader:
 *  - layers-rgb300x70.aec: split layout, no VQ stage, 2x1 tiles of 256
 *    (the second 44 pixels wide), so the table is layer-major: layer 0 of
 *    tiles 0 and 1, then layer 1 of both, then layer 2; a step fine enough
 *    that every layer holds non-zero symbols;
 *  - layers-rgb300x70-cut1.aec: it cut one byte before the end of layer 1
 *    (layer 1 whole in tile 0, not in tile 1): 1 layer decoded, the
 *    channels 8-19 taken as 0;
 *  - layers-rgb300x70-cut2.aec: it cut exactly after layer 1: 2 layers;
 *  - layers-rgba150x70-planes.aec: the planes layout in layers (the
 *    reference encoder writes LAYERED only with SPLIT, but 6.9 allows
 *    both), on top of 2 VQ stages and an alpha stream, 2x1 tiles of 128;
 *  - layers-d8-rgb100x60.aec: rgb100x60-split.aec (tiny.aem, D = 8) with
 *    LAYERED set: D = 8 makes one layer of all 8 channels, so the table
 *    and the streams are unchanged and it decodes to the very same pixels
 *    and stream hash;
 *  - cut-in-layer0.aec: layers-rgb300x70.aec cut one byte before the end
 *    of layer 0: no stage and no whole layer, TRUNCATED (step 15);
 *  - bad-layered-flag.aec: grey33x17.aec with LAYERED and no LATTICE
 *    (CRC made valid): CORRUPT (step 7). */
static const lattice_case layer_cases[] = {
    {"layers-rgb300x70", 300, 70, 3, 0, 256, 1u << 14, 0,
     "RGB, 2x1 tiles of 256, no stage, 3 layers (D = 20) in the split layout, step 1/64"},
    {"layers-rgba150x70-planes", 150, 70, 4, 2, 128, 1u << 14, 3,
     "RGBA, 2x1 tiles of 128, 2 stages + 3 layers in the planes layout, step 1/64"},
};

/* lend(l) of spec section 8 from the file's own table: the offset past the
 * last stream of layer l - 1 (lend(0) = end(S)). */
static uint64_t spec_lend(const uint8_t *d, const aecb_header *h, int l)
{
    uint32_t N = (uint32_t)d[20] | (uint32_t)d[21] << 8 | (uint32_t)d[22] << 16 |
                 (uint32_t)d[23] << 24;
    uint32_t A = (h->flags & AECB_FLAG_ALPHA) ? 1u : 0u;
    uint32_t last = A + (uint32_t)(h->stages + l) * h->n_tiles; /* streams before lend(l) */
    uint64_t end = 48 + 8 * (uint64_t)N;
    for (uint32_t i = 0; i < last; i++) {
        const uint8_t *e = d + 48 + 8 * (size_t)i;
        end += (uint32_t)e[0] | (uint32_t)e[1] << 8 | (uint32_t)e[2] << 16 | (uint32_t)e[3] << 24;
    }
    return end;
}

/* Decodes d[0..n) with params.stages = stages (0: all) into a malloc'ed image. */
static uint8_t *decode_with(aec_decoder *dec, const uint8_t *d, size_t n, int stages)
{
    aec_decode_params p;
    aec_decode_params_default(&p);
    p.stages = stages;
    uint8_t *out = NULL;
    uint32_t ow, oh;
    return aec_decode(dec, d, n, &p, &out, &ow, &oh, NULL) == AEC_OK ? out : NULL;
}

static int layers_files(const aec_model *m, aec_decoder *dec, const char *dir, FILE *man,
                        const uint8_t *grey, size_t grey_size)
{
    int D = m->cfg.latent, rc = 0;
    if (D != 20 || spec_layers((uint32_t)D) != 3) {
        fprintf(stderr, "layers: the model has D = %d, not 20\n", D);
        return 1;
    }
    fprintf(man, "# model layers.aem id %016llx (%d stages, %d codes, latent %d: %d lattice"
                 " layers): layers-rgb300x70*.aec, layers-rgba150x70-planes.aec,"
                 " cut-in-layer0.aec\n"
                 "# layered files (flags bit 5): STAGES_DECODED counts the VQ stages; the stream"
                 " hash covers the lattice layers available, the channels of the others as 0"
                 " (spec 14.2)\n",
            (unsigned long long)aec_model_id(m), aec_model_stages(m), m->cfg.codes, D,
            spec_layers((uint32_t)D));
    uint8_t *keep = NULL;
    size_t keep_size = 0;
    for (size_t c = 0; c < sizeof layer_cases / sizeof *layer_cases && !rc; c++) {
        const lattice_case *k = &layer_cases[c];
        aeio_image im = pattern(k->w, k->h, k->ch, k->kind);
        size_t N = (size_t)((k->w + 7) / 8) * ((k->h + 7) / 8);
        float *q = calloc((size_t)D * N, sizeof(float));
        uint8_t *file = NULL, *out = NULL;
        size_t size = 0;
        uint64_t hash;
        memset(g_layer_nz, 0, sizeof g_layer_nz);
        unsigned flags = AECB_FLAG_LAYERED | (c == 0 ? AECB_FLAG_SPLIT : 0);
        if (lattice_file(m, k, &im, flags, &file, &size, q) ||
            write_valid(dec, dir, man, k->name, file, size, &hash, &out))
            return 1;
        int d = untiled_difference(m, &im, q, out);
        printf("%-30s %5zu bytes  %s; tiled vs untiled decode: max difference %d\n", k->name,
               size, k->what, d);
        printf("%30s non-zero symbols per layer: %zu %zu %zu\n", "", g_layer_nz[0],
               g_layer_nz[1], g_layer_nz[2]);
        if (d > 1 || !g_layer_nz[0] || !g_layer_nz[1] || !g_layer_nz[2])
            return 1;
        aecb_header h;
        aec_info info;
        if (aecb_parse(file, size, NULL, &h, err, sizeof err) != AEC_OK ||
            aec_read_info(file, size, &info) != AEC_OK || info.lattice_layers != 3 ||
            info.lattice_layers_available != 3 || spec_lend(file, &h, 3) != size) {
            fprintf(stderr, "%s: aec_read_info or the table\n", k->name);
            return 1;
        }
        /* params.stages counts the stages, then the layers: S + 3 (or 0)
         * decodes the whole file, S + l its first l layers */
        uint8_t *all = decode_with(dec, file, size, k->stages + 3);
        if (!all || memcmp(all, out, (size_t)k->w * k->h * k->ch) != 0) {
            fprintf(stderr, "%s: params.stages = S + 3 decodes unlike the whole file\n", k->name);
            return 1;
        }
        aec_free(all);
        if (c == 0) {
            /* valid cuts: inside layer 1 (1 layer) and just after it (2) */
            struct {
                const char *suffix;
                size_t n;
                int layers;
            } cuts[] = {
                {"-cut1", (size_t)spec_lend(file, &h, 2) - 1, 1},
                {"-cut2", (size_t)spec_lend(file, &h, 2), 2},
            };
            for (int j = 0; j < 2 && !rc; j++) {
                char name[256];
                uint8_t *img = NULL, *want = NULL;
                uint64_t ch;
                snprintf(name, sizeof name, "%s%s", k->name, cuts[j].suffix);
                if (aec_read_info(file, cuts[j].n, &info) != AEC_OK ||
                    info.lattice_layers_available != cuts[j].layers ||
                    info.stages_available != 0 || info.lattice_available ||
                    write_valid(dec, dir, man, name, file, cuts[j].n, &ch, &img))
                    return 1;
                /* the decoder's latent: the layers' symbols, 0 beyond */
                float *ql = malloc(sizeof(float) * (size_t)D * N);
                uint32_t first = spec_layer_start(cuts[j].layers);
                memcpy(ql, q, sizeof(float) * (size_t)D * N);
                memset(ql + (size_t)first * N, 0, sizeof(float) * (size_t)(D - (int)first) * N);
                d = untiled_difference(m, &im, ql, img);
                want = decode_with(dec, file, size, k->stages + cuts[j].layers);
                printf("%-30s %5zu bytes  cut %s layer 1: %d layer%s decoded (tiled vs untiled: "
                       "%d)\n", name, cuts[j].n, j ? "just after" : "one byte before the end of",
                       cuts[j].layers, cuts[j].layers > 1 ? "s" : "", d);
                if (d > 1 || ch == hash || !want ||
                    memcmp(want, img, (size_t)k->w * k->h * k->ch) != 0) {
                    fprintf(stderr, "%s: decodes unlike the whole file with %d layers\n", name,
                            cuts[j].layers);
                    rc = 1;
                }
                free(ql), aec_free(img), aec_free(want);
            }
            keep = file, keep_size = (size_t)spec_lend(file, &h, 1) - 1; /* cut-in-layer0 */
        } else {
            free(file);
        }
        aecb_header_free(&h);
        aec_free(out), free(q);
        aeio_free(&im);
    }
    if (rc)
        return rc;

    /* D = 8: one layer; rgb100x60-split.aec with LAYERED, with tiny.aem */
    char path[1024];
    uint8_t *sp = NULL, *a = NULL, *b = NULL;
    size_t sn = 0;
    aec_model *tiny = NULL;
    aec_decoder *dt = NULL;
    uint64_t h8, hs;
    snprintf(path, sizeof path, "%s/tiny.aem", dir);
    if (aec_model_load_file(&tiny, path) != AEC_OK || aec_decoder_create(&dt, tiny) != AEC_OK)
        return 1;
    aec_decoder_set_threads(dt, 1);
    snprintf(path, sizeof path, "%s/rgb100x60-split.aec", dir);
    if (aeio_read_file(path, &sp, &sn, 1u << 20, err, sizeof err) || sp[19] != 8 ||
        sp[7] != (AECB_FLAG_LATTICE | AECB_FLAG_SPLIT))
        return 1;
    uint8_t *d8 = malloc(sn);
    memcpy(d8, sp, sn);
    d8[7] |= AECB_FLAG_LAYERED, fix_crc(d8, sn);
    if (write_valid(dt, dir, man, "layers-d8-rgb100x60", d8, sn, &h8, &a) ||
        index_hash(sp, sn, &hs, NULL) || !(b = decode_with(dt, sp, sn, 0)) || h8 != hs ||
        memcmp(a, b, 100 * 60 * 3) != 0) {
        fprintf(stderr, "layers-d8-rgb100x60.aec decodes unlike rgb100x60-split.aec\n");
        return 1;
    }
    printf("%-30s %5zu bytes  rgb100x60-split.aec with LAYERED: D = 8, one layer\n",
           "layers-d8-rgb100x60.aec", sn);
    aec_free(a), aec_free(b), free(sp), free(d8);

    /* Invalid files: a cut inside layer 0 (no stage) and LAYERED without
     * LATTICE; the library must refuse each as listed. */
    struct {
        const char *name;
        aec_status expect;
        const char *expect_name;
    } bad[] = {
        {"cut-in-layer0.aec", AEC_ERR_TRUNCATED, "TRUNCATED"},
        {"bad-layered-flag.aec", AEC_ERR_CORRUPT, "CORRUPT"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad && !rc; i++) {
        size_t n = i == 0 ? keep_size : grey_size;
        uint8_t *f = malloc(n), *out = NULL;
        memcpy(f, i == 0 ? keep : grey, n);
        if (i == 1)
            f[7] |= AECB_FLAG_LAYERED, fix_crc(f, n);
        uint32_t ow, oh;
        aec_status st = aec_decode(i == 0 ? dec : dt, f, n, NULL, &out, &ow, &oh, NULL);
        printf("%-30s %5zu bytes  %s (%s)\n", bad[i].name, n, aec_status_string(st),
               aec_decoder_last_error(i == 0 ? dec : dt));
        if (st != bad[i].expect || write_file(dir, bad[i].name, f, n))
            rc = 1;
        else
            fprintf(man, "%s %s\n", bad[i].name, bad[i].expect_name);
        aec_free(out), free(f);
    }
    free(keep);
    aec_decoder_destroy(dt);
    aec_model_free(tiny);
    return rc;
}

static int add_layers_files(const char *model_path, const char *dir)
{
    conf_base b;
    if (base_load(&b, model_path, dir))
        return 1;
    int rc = append_files(dir, &b, layers_files);
    base_free(&b);
    return rc;
}

/* ---- files coded by the library's encoder ----------------------------------
 * Each case is coded with the model at model_path, nearest codes (lambda 0),
 * one thread, and written as a valid file; the first one is then derived
 * into bad_name: its layout set to bad_layout (when not 0) and bad_flags
 * added to its flags, the CRC made valid, listed as CORRUPT. */
typedef struct {
    const char *name;
    uint32_t w, h;
    int ch, stages, tile, half_size, residual_step;
    float step; /* lattice step, 0 = none */
    unsigned kind;
    int filter; /* 1: the restoration filter always (version 2); 0: none */
} coded_case;

static int add_coded_files(const char *model_path, const char *dir, const coded_case *cases,
                           int n_cases, const char *bad_name, uint8_t bad_layout,
                           uint8_t bad_flags)
{
    conf_base b;
    if (base_load(&b, model_path, dir))
        return 1;
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *man = fopen(path, "a");
    aec_encoder *enc = NULL;
    int rc = !man || aec_encoder_create(&enc, b.m) != AEC_OK;
    uint8_t *first = NULL;
    size_t first_n = 0;
    for (int i = 0; i < n_cases && !rc; i++) {
        const coded_case *c = &cases[i];
        aeio_image im = pattern(c->w, c->h, c->ch, c->kind);
        aec_encode_params p;
        aec_encode_params_default(&p);
        p.quality = c->stages, p.lambda = 0, p.threads = 1, p.lattice_step = c->step;
        p.tile_size = c->tile, p.half_size = c->half_size, p.residual_step = c->residual_step;
        p.filter = c->filter ? 1 : -1;
        uint8_t *file = NULL;
        size_t n = 0;
        uint64_t hash;
        rc = !im.pixels ||
             aec_encode(enc, im.pixels, im.width, im.height, 0, (aec_layout)im.channels, &p, &file,
                        &n) != AEC_OK ||
             write_valid(b.dec, dir, man, c->name, file, n, &hash, NULL);
        if (i == 0)
            first = file, first_n = n;
        else
            aec_free(file);
        free(im.pixels);
    }
    if (!rc && first && bad_name) {
        if (bad_layout)
            first[5] = bad_layout;
        first[7] |= bad_flags;
        fix_crc(first, first_n);
        rc = write_file(dir, bad_name, first, first_n) != 0;
        fprintf(man, "%s CORRUPT\n", bad_name);
    }
    aec_free(first);
    aec_encoder_destroy(enc);
    if (man && fclose(man))
        rc = 1;
    base_free(&b);
    return rc;
}

/* ---- half-size files (flags bit 6, spec section 4.1) ------------------------
 * With tiny.aem and half_size = 1:
 *  - half-rgb75x41.aec: RGB 75x41, odd both ways (the coded image is
 *    38x21), 4 VQ stages;
 *  - half-grey64x50-lattice.aec: grey 64x50 (coded 32x25), 2 stages and
 *    the lattice at step 1/16;
 *  - bad-half-alpha.aec: half-rgb75x41.aec with layout 4 and ALPHA set (CRC
 *    made valid): CORRUPT (step 7, before the stream count). */
static int add_half_files(const char *model_path, const char *dir)
{
    static const coded_case cases[] = {{"half-rgb75x41", 75, 41, 3, 4, 0, 1, 0, 0, 0, 0},
                                       {"half-grey64x50-lattice", 64, 50, 1, 2, 0, 1, 0, 1.0f / 16, 2, 0}};
    return add_coded_files(model_path, dir, cases, 2, "bad-half-alpha.aec", AEC_RGBA,
                           AECB_FLAG_ALPHA);
}

/* ---- pixel residual files (flags bit 7, spec section 6.10) -------------------
 * With tiny.aem, 2 stages, the lattice at step 1/16 and the residual at
 * step 16 (tiny's reconstruction misses much, so most blocks carry
 * coefficients):
 *  - residual-rgb75x41.aec: RGB 75x41 (partial blocks both ways);
 *  - residual-ga96x50.aec: grey with alpha 96x50 in tiles of 64 (the
 *    residual codes the grey channel of 2 tiles; alpha is untouched);
 *  - residual-fine-rgb64x40.aec: black and white 64x40 at the finest step, 8
 *    (large multiples, every size class, clamped ones);
 *  - bad-residual-half.aec: residual-rgb75x41.aec with HALF set (CRC made
 *    valid): CORRUPT (step 7). */
static int add_residual_files(const char *model_path, const char *dir)
{
    static const coded_case cases[] = {{"residual-rgb75x41", 75, 41, 3, 2, 0, 0, 16, 1.0f / 16, 0, 0},
                                       {"residual-ga96x50", 96, 50, 2, 2, 64, 0, 16, 1.0f / 16, 2, 0},
                                       {"residual-fine-rgb64x40", 64, 40, 3, 2, 0, 0, 8, 1.0f / 16, 4, 0}};
    return add_coded_files(model_path, dir, cases, 3, "bad-residual-half.aec", 0, AECB_FLAG_HALF);
}

/* ---- restoration filter files (version 2, spec section 6.11) -------------
 * With tiny.aem, nearest codes, the filter always:
 *  - filter-rgb75x41.aec: RGB 75x41, 2 stages, the lattice at step 1/16 and
 *    the residual at step 16, then the filter (its stream after the
 *    residual streams);
 *  - filter-ga96x50.aec: grey with alpha 96x50 in tiles of 64, the lattice
 *    at 1/16 (13 taps on the grey channel; alpha is untouched);
 *  - filter-half-rgb75x41.aec: RGB 75x41 at half size, 4 VQ stages (the
 *    filter runs on the upsampled picture);
 *  - bad-filter-classes.aec: filter-rgb75x41.aec with its filter stream's
 *    class count set to 9 (stream and header CRCs made valid): CORRUPT. */
static int add_filter_files(const char *model_path, const char *dir)
{
    static const coded_case cases[] = {
        {"filter-rgb75x41", 75, 41, 3, 2, 0, 0, 16, 1.0f / 16, 0, 1},
        {"filter-ga96x50", 96, 50, 2, 2, 64, 0, 0, 1.0f / 16, 2, 1},
        {"filter-half-rgb75x41", 75, 41, 3, 4, 0, 1, 0, 0, 4, 1}};
    int rc = add_coded_files(model_path, dir, cases, 3, NULL, 0, 0);
    size_t n = 0;
    char path[1024];
    snprintf(path, sizeof path, "%s/filter-rgb75x41.aec", dir);
    uint8_t *f = NULL;
    char err[256];
    if (rc || aeio_read_file(path, &f, &n, 1u << 20, err, sizeof err) || n < 56 || f[4] != 2) {
        free(f);
        return 1;
    }
    /* the filter is the last stream: its table entry is the last one */
    uint32_t count = (uint32_t)f[20] | (uint32_t)f[21] << 8 | (uint32_t)f[22] << 16 |
                     (uint32_t)f[23] << 24;
    uint8_t *entry = f + 48 + (size_t)(count - 1) * 8;
    uint32_t size = (uint32_t)entry[0] | (uint32_t)entry[1] << 8 | (uint32_t)entry[2] << 16 |
                    (uint32_t)entry[3] << 24;
    f[n - size] = 9;
    uint32_t crc = aecb_crc32(0, f + n - size, size);
    for (int i = 0; i < 4; i++)
        entry[4 + i] = (uint8_t)(crc >> (8 * i));
    fix_crc(f, n);
    rc = write_file(dir, "bad-filter-classes.aec", f, n) != 0;
    free(f);
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *man = fopen(path, "a");
    if (!man || fprintf(man, "bad-filter-classes.aec CORRUPT\n") < 0 || fclose(man))
        return 1;
    return rc;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "train"))
        return train_images(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "files"))
        return make_files(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "lattice"))
        return add_lattice_files(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "split"))
        return add_split_files(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "zstd"))
        return add_zstd_files(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "pins"))
        return add_pin_files(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "meta"))
        return add_meta_files(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "layers"))
        return add_layers_files(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "half"))
        return add_half_files(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "residual"))
        return add_residual_files(argv[2], argv[3]);
    if (argc == 4 && !strcmp(argv[1], "filter"))
        return add_filter_files(argv[2], argv[3]);
    fprintf(stderr, "usage: mkconf train DIR | mkconf files MODEL DIR | mkconf lattice MODEL DIR"
                    " | mkconf split MODEL DIR | mkconf zstd MODEL DIR | mkconf pins MODEL DIR"
                    " | mkconf meta MODEL DIR | mkconf layers MODEL DIR | mkconf half MODEL DIR"
                    " | mkconf residual MODEL DIR | mkconf filter MODEL DIR\n");
    return 2;
}
