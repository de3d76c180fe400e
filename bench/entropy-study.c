/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * entropy-study.c - what the lattice symbols cost today, and what a context
 * split by causal neighbour activity could save (issue 14, measurement
 * only; the format is unchanged).
 *
 *   build/entropy-study IMAGE.png...
 *
 * The symbols studied are those the streams code: the first
 * AEM_LATTICE_PREDICTED channels as median-predictor residuals, the others
 * as lattice points.
 *
 * Each image is encoded with the built-in models at levels 4, 7 and 10; the
 * file is parsed again and every tile's lattice symbols q [D][lh][lw] are
 * read back from its stream, so the symbols are exactly what the decoder
 * sees.  Per level, summed over the images, in bytes:
 *   coded     the lattice streams as the codec writes them today;
 *   H0        order-0 entropy of the symbols, per tile and channel (the ideal
 *             cost of one static table per channel and tile, tables free);
 *   H|K       conditional entropy given K classes of the causal activity
 *             a = |q| left + |q| above + |q| same position, previous channel
 *             (0 outside the tile), per tile and channel (K tables each);
 *   zstd/K    what zstd pays when the symbols are split into one zstd frame
 *             per class (zigzag bytes, 255 = escape to a 16-bit frame);
 *   significance  the split layout's significance bytes, one frame per
 *             group as today, and split into one frame per class of the
 *             popcounts of the causal bytes (left, above, previous group);
 *   sections  every section's frame against the order-0 entropy of its
 *             bytes: what headers and Huffman tables cost, the most that
 *             tables shipped with the model could save.
 * Files of every layout are read (planes, split, layered).
 *
 *   build/entropy-study --dict TRAIN.png... -- IMAGE.png...
 *
 * measures instead what Huffman tables shipped with the model would save:
 * the training photographs' sections (per level and kind) give one zstd
 * dictionary each (ZDICT_finalizeDictionary: entropy tables from the
 * samples, 256 bytes of content), and the other photographs' sections are
 * compressed without and with them; also with the significance bytes split
 * into 4 classes of their causal context (as "+previous group" above),
 * each class with its own dictionary.
 * The classes use integers only (decoded symbols), so a decoder could
 * rebuild them on every machine.  Not part of `make test`: it reads photos.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>
#include <zdict.h>

#include "aecodec.h"
#include "bitstream/container.h"
#include "bitstream/lattice_stream.h"
#include "bitstream/zstream.h"
#include "common/imageio.h"
#include "vq/lattice.h"

/* The lattice streams' zstd level (AEC_LATTICE_ZSTD_LEVEL in codec/enc/encoder.c). */
#define STUDY_ZSTD_LEVEL 19
#define NSYM (2 * AEM_LATTICE_MAX_SYMBOL + 1)
#define MAXK 8

static const int study_levels[] = {3, 5, 7, 10};
#define NLEVELS (int)(sizeof study_levels / sizeof study_levels[0])

typedef struct {
    double coded, h0, hk[2], zk[2]; /* bytes; [0] K = 4, [1] K = 8 */
    double sig, sigk[3]; /* significance bytes: one frame per group; per class */
    double side[2];      /* the same with a forward-adaptive activity map (study_side) */
    double kz[5], kh[5]; /* per section kind: zstd bytes, order-0 entropy of its bytes */
    uint64_t frames;
    uint64_t symbols;
} tally;
#define NVARIANTS 3

/* Activity a -> class: K = 4: {0}, {1}, {2,3}, {4..}; K = 8: {0}, {1}, {2},
 * {3}, {4,5}, {6..8}, {9..15}, {16..}. */
static int class_of(int a, int K)
{
    static const int lim4[] = {0, 1, 3}, lim8[] = {0, 1, 2, 3, 5, 8, 15};
    const int *lim = K == 4 ? lim4 : lim8;
    int c = 0;
    while (c < K - 1 && a > lim[c])
        c++;
    return c;
}

/* Empirical entropy in bits of the counts cnt[0..NSYM) whose sum is n. */
static double entropy_bits(const uint32_t *cnt, uint64_t n)
{
    double bits = 0;
    for (int s = 0; n && s < NSYM; s++)
        if (cnt[s])
            bits -= cnt[s] * log2((double)cnt[s] / (double)n);
    return bits;
}

static int iabs(int v) { return v < 0 ? -v : v; }

/* Bytes zstd pays for n bytes at its codec level (a frame per call). */
static size_t zstd_bytes(ZSTD_CCtx *z, const uint8_t *src, size_t n, uint8_t *dst, size_t cap)
{
    if (!n)
        return 0;
    size_t r = ZSTD_compressCCtx(z, dst, cap, src, n, STUDY_ZSTD_LEVEL);
    return ZSTD_isError(r) ? 0 : r;
}

/* One tile's symbols q [D][lh][lw] -> its entropies and per-class zstd
 * bytes, added to *t.  work: NSYM*MAXK counts, class buffers, escape buffer. */
static int study_tile(const int32_t *q, size_t D, size_t lw, size_t lh, ZSTD_CCtx *z, tally *t)
{
    size_t plane = lw * lh, n = D * plane, cap = ZSTD_compressBound(2 * n);
    uint32_t *cnt = calloc((size_t)NSYM * MAXK, sizeof *cnt);
    uint8_t *bytes = malloc(n * MAXK), *esc = malloc(2 * n), *dst = malloc(cap);
    int rc = -1;
    if (!cnt || !bytes || !esc || !dst)
        goto out;
    for (size_t c = 0; c < D; c++) { /* order-0, one table per channel */
        memset(cnt, 0, sizeof *cnt * NSYM);
        for (size_t i = 0; i < plane; i++)
            cnt[q[c * plane + i] + AEM_LATTICE_MAX_SYMBOL]++;
        t->h0 += entropy_bits(cnt, plane) / 8;
    }
    for (int k = 0; k < 2; k++) {
        int K = k ? 8 : 4;
        size_t fill[MAXK] = {0}, nesc = 0;
        for (size_t c = 0; c < D; c++) {
            uint64_t per[MAXK] = {0};
            memset(cnt, 0, sizeof *cnt * NSYM * MAXK);
            for (size_t y = 0; y < lh; y++)
                for (size_t x = 0; x < lw; x++) {
                    const int32_t *p = q + c * plane + y * lw + x;
                    int a = (x ? iabs(p[-1]) : 0) + (y ? iabs(p[-(ptrdiff_t)lw]) : 0) +
                            (c ? iabs(p[-(ptrdiff_t)plane]) : 0);
                    int cl = class_of(a, K);
                    cnt[(size_t)cl * NSYM + *p + AEM_LATTICE_MAX_SYMBOL]++, per[cl]++;
                    uint32_t zz = *p >= 0 ? 2u * (uint32_t)*p : 2u * (uint32_t)-*p - 1;
                    bytes[cl * n + fill[cl]++] = zz < 255 ? (uint8_t)zz : 255;
                    if (zz >= 255)
                        esc[nesc++] = (uint8_t)zz, esc[nesc++] = (uint8_t)(zz >> 8);
                }
            for (int cl = 0; cl < K; cl++)
                t->hk[k] += entropy_bits(cnt + (size_t)cl * NSYM, per[cl]) / 8;
        }
        for (int cl = 0; cl < K; cl++)
            t->zk[k] += zstd_bytes(z, bytes + cl * n, fill[cl], dst, cap);
        t->zk[k] += zstd_bytes(z, esc, nesc, dst, cap);
    }
    t->symbols += n;
    rc = 0;
out:
    free(cnt), free(bytes), free(esc), free(dst);
    return rc;
}

static int popcount8(unsigned v) { return __builtin_popcount(v & 0xffu); }

/* The split layout's section bytes (lattice_stream.c's section_bytes),
 * rebuilt from a tile's symbols q [D][n] for the studies below. */

/* Predicted channel c (q holds its median-predictor residuals): zigzag
 * codes, their low bytes then their high bytes (2n). */
static void predicted_bytes(const int32_t *q, size_t n, size_t c, uint8_t *raw)
{
    for (size_t j = 0; j < n; j++) {
        int32_t v = q[c * n + j];
        uint32_t zz = v >= 0 ? 2u * (uint32_t)v : 2u * (uint32_t)-v - 1;
        raw[j] = (uint8_t)zz, raw[n + j] = (uint8_t)(zz >> 8);
    }
}

/* The significance byte of channels g .. min(g + 8, end) - 1 at each of
 * the n latents. */
static void significance_bytes(const int32_t *q, size_t n, size_t g, size_t end, uint8_t *out)
{
    for (size_t j = 0; j < n; j++) {
        unsigned b = 0;
        for (size_t k = 0; k < 8 && g + k < end; k++)
            b |= (unsigned)(q[(g + k) * n + j] != 0) << k;
        out[j] = (uint8_t)b;
    }
}

/* Section `kind` (2 GT1, 3 R8, 4 SIGN) of channels c0 .. end-1 into raw;
 * returns its bytes. */
static size_t tail_bytes(const int32_t *q, size_t n, size_t c0, size_t end, int kind, uint8_t *raw)
{
    size_t k = 0;
    for (size_t c = c0; c < end; c++)
        for (size_t j = 0; j < n; j++) {
            int32_t s = q[c * n + j], a = s < 0 ? -s : s;
            if (kind == 3) {
                if (a > 1)
                    raw[k++] = (uint8_t)(a - 2 < 255 ? a - 2 : 255);
            } else if (s) {
                int bit = kind == 2 ? a > 1 : s < 0;
                if (k % 8 == 0)
                    raw[k / 8] = 0;
                raw[k / 8] |= (uint8_t)(bit << (k % 8));
                k++;
            }
        }
    return kind == 3 ? k : (k + 7) / 8;
}

/* The split layout's significance bytes of one tile, per layer and group of
 * 8 channels as the writer makes them, compressed as one frame per group
 * (today) and as one frame per class of a causal context: the popcounts of
 * the same group's bytes left and above, and of the previous group's byte
 * at the same latent. */
static int study_significance(const aecb_header *h, const int32_t *q, size_t lw, size_t lh,
                              ZSTD_CCtx *z, tally *t)
{
    size_t n = lw * lh, cap = ZSTD_compressBound(n);
    uint8_t *cur = calloc(n, 1), *prev = calloc(n, 1), *cls = malloc(n * MAXK), *dst = malloc(cap);
    int rc = -1, layers = (h->flags & AECB_FLAG_LAYERED) ? h->lattice_layers : 1, have_prev = 0;
    if (!cur || !prev || !cls || !dst)
        goto out;
    for (int l = 0; l < layers; l++) {
        uint32_t first, count;
        aecb_layer_channels(h, l, &first, &count);
        size_t c0 = first + aecb_split_predicted(first, count), end = first + count;
        for (size_t g = c0; g < end; g += 8) {
            significance_bytes(q, n, g, end, cur);
            t->sig += zstd_bytes(z, cur, n, dst, cap);
            for (int v = 0; v < NVARIANTS; v++) {
                size_t fill[MAXK] = {0};
                for (size_t y = 0; y < lh; y++)
                    for (size_t x = 0; x < lw; x++) {
                        size_t j = y * lw + x;
                        int a = (x ? popcount8(cur[j - 1]) : 0) + (y ? popcount8(cur[j - lw]) : 0);
                        int b = have_prev ? popcount8(prev[j]) : 0;
                        int cl;
                        if (v == 0)
                            cl = a == 0 ? 0 : a <= 2 ? 1 : a <= 5 ? 2 : 3;
                        else if (v == 1)
                            cl = a + 2 * b == 0 ? 0 : a + 2 * b <= 2 ? 1 : a + 2 * b <= 5 ? 2 : 3;
                        else {
                            int s = a + 2 * b;
                            cl = s == 0 ? 0 : s <= 1 ? 1 : s <= 2 ? 2 : s <= 4 ? 3 : s <= 6 ? 4
                                 : s <= 9 ? 5 : s <= 13 ? 6 : 7;
                        }
                        cls[(size_t)cl * n + fill[cl]++] = cur[j];
                    }
                for (int cl = 0; cl < MAXK; cl++)
                    t->sigk[v] += zstd_bytes(z, cls + (size_t)cl * n, fill[cl], dst, cap);
            }
            memcpy(prev, cur, n), have_prev = 1;
        }
    }
    rc = 0;
out:
    free(cur), free(prev), free(cls), free(dst);
    return rc;
}

/* The latents of 2x2 block b (blocks in raster order, bw a row) of an
 * lw x lh grid, in raster order, into j; returns how many (1 to 4). */
static size_t block_latents(size_t lw, size_t lh, size_t bw, size_t b, size_t j[4])
{
    size_t x0 = 2 * (b % bw), y0 = 2 * (b / bw), m = 0;
    for (size_t y = y0; y < y0 + 2 && y < lh; y++)
        for (size_t x = x0; x < x0 + 2 && x < lw; x++)
            j[m++] = y * lw + x;
    return m;
}

/* Significance bytes with side information: the encoder sends, for each
 * 2x2 block of latents, an activity class of its significance bytes
 * (2 bits: 0 all zero, 1 at most 2 bits set, 2 at most 8, 3 more), packed
 * four to a byte in a frame of its own; the bytes of blocks of class 0 are
 * not sent, the others go to one frame per class for the whole tile.
 * Variant 0: a class per block and group of 8 channels; variant 1: one
 * class per block for all the groups.  Forward-adaptive classes (what a
 * hyperprior or a coarse stage would predict), against the causal ones of
 * study_significance. */
static int study_side(const aecb_header *h, const int32_t *q, size_t lw, size_t lh, ZSTD_CCtx *z,
                      tally *t)
{
    size_t n = lw * lh, D = h->lattice_dim, groups = 0;
    size_t bw = (lw + 1) / 2, nb = bw * ((lh + 1) / 2);
    uint8_t *sig = malloc(D * n + 1), *cls = malloc(D * nb + 1), *side = calloc(D * nb / 4 + 2, 1),
            *stream = malloc(D * n + 1), *dst = malloc(ZSTD_compressBound(D * n + 1));
    int layers = (h->flags & AECB_FLAG_LAYERED) ? h->lattice_layers : 1, rc = -1;
    if (!sig || !cls || !side || !stream || !dst)
        goto out;
    for (int l = 0; l < layers; l++) {
        uint32_t first, count;
        aecb_layer_channels(h, l, &first, &count);
        size_t end = first + count;
        for (size_t g = first + aecb_split_predicted(first, count); g < end; g += 8, groups++)
            significance_bytes(q, n, g, end, sig + groups * n);
    }
    for (int v = 0; v < 2; v++) {
        size_t ng = v == 0 ? groups : 1; /* classes per block */
        int busy = v == 0 ? 8 : 8 * (int)groups; /* more bits set: class 3 */
        for (size_t g = 0; g < ng; g++)
            for (size_t b = 0; b < nb; b++) {
                size_t j[4], m = block_latents(lw, lh, bw, b, j);
                int bits = 0;
                for (size_t gg = v == 0 ? g : 0; gg < (v == 0 ? g + 1 : groups); gg++)
                    for (size_t i = 0; i < m; i++)
                        bits += popcount8(sig[gg * n + j[i]]);
                cls[g * nb + b] = (uint8_t)(bits == 0 ? 0 : bits <= 2 ? 1 : bits <= busy ? 2 : 3);
            }
        memset(side, 0, ng * nb / 4 + 2);
        for (size_t i = 0; i < ng * nb; i++)
            side[i / 4] |= (uint8_t)(cls[i] << (2 * (i % 4)));
        t->side[v] += zstd_bytes(z, side, (ng * nb + 3) / 4, dst, ZSTD_compressBound(D * n + 1));
        for (int c = 1; c <= 3; c++) {
            size_t k = 0;
            for (size_t g = 0; g < groups; g++)
                for (size_t b = 0; b < nb; b++) {
                    size_t j[4], m = block_latents(lw, lh, bw, b, j);
                    for (size_t i = 0; cls[(v == 0 ? g : 0) * nb + b] == c && i < m; i++)
                        stream[k++] = sig[g * n + j[i]];
                }
            t->side[v] += zstd_bytes(z, stream, k, dst, ZSTD_compressBound(D * n + 1));
        }
    }
    rc = 0;
out:
    free(sig), free(cls), free(side), free(stream), free(dst);
    return rc;
}

/* Order-0 entropy in bytes of n bytes. */
static double byte_entropy(const uint8_t *b, size_t n)
{
    uint32_t cnt[256] = {0};
    for (size_t i = 0; i < n; i++)
        cnt[b[i]]++;
    double bits = 0;
    for (int v = 0; v < 256; v++)
        if (cnt[v])
            bits -= cnt[v] * log2((double)cnt[v] / (double)n);
    return bits / 8;
}

/* Every section of a tile's split streams rebuilt (lattice_stream.c's
 * section_bytes): its zstd frame against its bytes' order-0 entropy, per
 * kind (0 predicted, 1 significance, 2 GT1, 3 R8, 4 SIGN).  The gap is
 * what headers, Huffman tables and Huffman's rounding cost: the most that
 * tables shipped with the model (a zstd dictionary) could save. */
static int study_sections(const aecb_header *h, const int32_t *q, size_t lw, size_t lh,
                          ZSTD_CCtx *z, tally *t)
{
    size_t n = lw * lh, D = h->lattice_dim, cap = ZSTD_compressBound(3 * D * n);
    uint8_t *raw = malloc(3 * D * n + 16), *dst = malloc(cap);
    int layers = (h->flags & AECB_FLAG_LAYERED) ? h->lattice_layers : 1, rc = -1;
    if (!raw || !dst)
        goto out;
    for (int l = 0; l < layers; l++) {
        uint32_t first, count;
        aecb_layer_channels(h, l, &first, &count);
        size_t pd = aecb_split_predicted(first, count), end = first + count;
        for (size_t c = first; c < first + pd; c++) {
            predicted_bytes(q, n, c, raw);
            t->kz[0] += zstd_bytes(z, raw, 2 * n, dst, cap), t->kh[0] += byte_entropy(raw, n) +
                                                                      byte_entropy(raw + n, n);
            t->frames++;
        }
        for (size_t g = first + pd; g < end; g += 8) {
            significance_bytes(q, n, g, end, raw);
            t->kz[1] += zstd_bytes(z, raw, n, dst, cap), t->kh[1] += byte_entropy(raw, n);
            t->frames++;
        }
        for (int kind = 2; kind <= 4; kind++) {
            size_t nb = tail_bytes(q, n, first + pd, end, kind, raw);
            t->kz[kind] += zstd_bytes(z, raw, nb, dst, cap), t->kh[kind] += byte_entropy(raw, nb);
            t->frames += nb > 0;
        }
    }
    rc = 0;
out:
    free(raw), free(dst);
    return rc;
}

/* The symbols as the streams code them: the first AEM_LATTICE_PREDICTED
 * channels of q [D][lh][lw] replaced, in place, by their residual from the
 * median predictor (aem_lattice_pack of one channel, zigzag undone). */
static int to_coded_symbols(int32_t *q, size_t D, size_t lw, size_t lh)
{
    size_t plane = lw * lh;
    uint8_t *pl = malloc(2 * plane);
    if (!pl)
        return -1;
    for (size_t c = 0; c < D && c < AEM_LATTICE_PREDICTED; c++) {
        aem_lattice_pack(q + c * plane, 1, lw, lh, pl);
        for (size_t i = 0; i < plane; i++) {
            uint32_t zz = pl[i] | (uint32_t)pl[plane + i] << 8;
            q[c * plane + i] = zz & 1 ? -(int32_t)((zz + 1) / 2) : (int32_t)(zz / 2);
        }
    }
    free(pl);
    return 0;
}

/* Every lattice stream of an encoded file -> its symbols -> study_tile. */
static int study_file(const uint8_t *f, size_t size, ZSTD_CCtx *z, ZSTD_DCtx *dz, tally *t)
{
    char err[256];
    aecb_header h;
    if (aecb_parse(f, size, NULL, &h, err, sizeof err) != AEC_OK) {
        fprintf(stderr, "entropy-study: %s\n", err);
        return -1;
    }
    int rc = 0;
    size_t D = h.lattice_dim;
    for (uint32_t tile = 0; rc == 0 && (h.flags & AECB_FLAG_LATTICE) && tile < h.n_tiles; tile++) {
        uint32_t lw, lh;
        aecb_tile_latents(&h, tile, &lw, &lh);
        size_t n = (size_t)lw * lh;
        int layers = (h.flags & AECB_FLAG_LAYERED) ? h.lattice_layers : 1;
        size_t wb = (h.flags & AECB_FLAG_SPLIT) ? aecb_split_work_bytes(D, n) : 2 * D * n;
        uint8_t *work = malloc(wb);
        int32_t *q = malloc(sizeof *q * D * n);
        aec_status st = work && q ? AEC_OK : AEC_ERR_OUT_OF_MEMORY;
        for (int l = 0; st == AEC_OK && l < layers; l++) {
            uint32_t first, count, i = aecb_layer_stream_index(&h, l, tile);
            aecb_layer_channels(&h, l, &first, &count);
            int32_t *sym = q + (size_t)first * n;
            if (h.flags & AECB_FLAG_SPLIT)
                st = aecb_split_read_at(dz, f + h.offsets[i], h.sizes[i], first, count, lw, lh,
                                        work, sym, err, sizeof err);
            else {
                st = aecb_zstd_decompress(dz, NULL, f + h.offsets[i], h.sizes[i], work, wb, err,
                                          sizeof err);
                if (st == AEC_OK)
                    aem_lattice_unpack_at(work, first, count, lw, lh, sym);
            }
            t->coded += h.sizes[i];
        }
        if (st != AEC_OK || to_coded_symbols(q, D, lw, lh) || study_tile(q, D, lw, lh, z, t) ||
            study_significance(&h, q, lw, lh, z, t) || study_side(&h, q, lw, lh, z, t) ||
            study_sections(&h, q, lw, lh, z, t)) {
            fprintf(stderr, "entropy-study: tile %u: %s\n", tile, aec_status_string(st));
            rc = -1;
        }
        free(work), free(q);
    }
    aecb_header_free(&h);
    return rc;
}

/* ---- tables shipped with the model (--dict) ---------------------------- */

/* Section kinds: 0 predicted channel, 1 significance (one frame per group
 * as today), 2..5 the same bytes split by class, 6 GT1, 7 R8, 8 SIGN. */
#define DKINDS 9
#define SIG_CLASSES 4
#define DICT_CAP 8192
#define DICT_CONTENT 8

typedef struct {
    uint8_t *data;
    size_t n, cap, *sizes, ns, scap;
} sample_set;

typedef struct {
    int level, training;
    sample_set train[NLEVELS][DKINDS];
    ZSTD_CDict *cdict[NLEVELS][DKINDS];
    size_t dict_size[NLEVELS][DKINDS];
    double plain[NLEVELS][DKINDS], with_dict[NLEVELS][DKINDS]; /* bytes */
    ZSTD_CCtx *z;
    uint8_t *dst;
    size_t dst_cap;
} dict_study;

static int add_sample(sample_set *s, const uint8_t *b, size_t n)
{
    if (!n)
        return 0;
    if (s->n + n > s->cap) {
        size_t cap = 2 * (s->n + n);
        uint8_t *d = realloc(s->data, cap);
        if (!d)
            return -1;
        s->data = d, s->cap = cap;
    }
    if (s->ns == s->scap) {
        size_t scap = s->scap ? 2 * s->scap : 256;
        size_t *z = realloc(s->sizes, sizeof *z * scap);
        if (!z)
            return -1;
        s->sizes = z, s->scap = scap;
    }
    memcpy(s->data + s->n, b, n);
    s->n += n, s->sizes[s->ns++] = n;
    return 0;
}

/* One section's bytes: kept for training, or compressed both ways. */
static int dict_emit(dict_study *d, int kind, const uint8_t *b, size_t n)
{
    if (!n)
        return 0;
    if (d->training)
        return add_sample(&d->train[d->level][kind], b, n);
    if (n + 1024 > d->dst_cap) {
        free(d->dst);
        d->dst_cap = ZSTD_compressBound(2 * n + 1024);
        if (!(d->dst = malloc(d->dst_cap)))
            return -1;
    }
    /* the codec's frames (zstream.c): magicless, no dictionary ID, no checksum */
    size_t r = 0;
    for (int with = 0; with < 2; with++) {
        const ZSTD_CDict *cd = with ? d->cdict[d->level][kind] : NULL;
        if (with && !cd) {
            d->with_dict[d->level][kind] += r;
            break;
        }
        aecb_zstd_compress_into(d->z, d->dst, d->dst_cap, b, n, STUDY_ZSTD_LEVEL, cd, &r, NULL, 0);
        if (!r)
            return -1;
        (with ? d->with_dict : d->plain)[d->level][kind] += r;
    }
    return 0;
}

/* Every section of a tile, as study_sections makes them, plus the
 * significance bytes split by the class of their causal context. */
static int dict_tile(dict_study *d, const aecb_header *h, const int32_t *q, size_t lw, size_t lh)
{
    size_t n = lw * lh, D = h->lattice_dim;
    uint8_t *raw = malloc(3 * D * n + 16), *prev = calloc(n, 1), *cls = malloc(n * SIG_CLASSES);
    int layers = (h->flags & AECB_FLAG_LAYERED) ? h->lattice_layers : 1, rc = -1, have_prev = 0;
    if (!raw || !prev || !cls)
        goto out;
    for (int l = 0; l < layers; l++) {
        uint32_t first, count;
        aecb_layer_channels(h, l, &first, &count);
        size_t pd = aecb_split_predicted(first, count), end = first + count;
        for (size_t c = first; c < first + pd; c++) {
            predicted_bytes(q, n, c, raw);
            if (dict_emit(d, 0, raw, 2 * n))
                goto out;
        }
        for (size_t g = first + pd; g < end; g += 8) {
            significance_bytes(q, n, g, end, raw);
            if (dict_emit(d, 1, raw, n))
                goto out;
            size_t fill[SIG_CLASSES] = {0};
            for (size_t y = 0; y < lh; y++)
                for (size_t x = 0; x < lw; x++) {
                    size_t j = y * lw + x;
                    int a = (x ? popcount8(raw[j - 1]) : 0) + (y ? popcount8(raw[j - lw]) : 0);
                    int sum = a + 2 * (have_prev ? popcount8(prev[j]) : 0);
                    int cl = sum == 0 ? 0 : sum <= 2 ? 1 : sum <= 5 ? 2 : 3;
                    cls[(size_t)cl * n + fill[cl]++] = raw[j];
                }
            for (int cl = 0; cl < SIG_CLASSES; cl++)
                if (dict_emit(d, 2 + cl, cls + (size_t)cl * n, fill[cl]))
                    goto out;
            memcpy(prev, raw, n), have_prev = 1;
        }
        for (int kind = 2; kind <= 4; kind++)
            if (dict_emit(d, 4 + kind, raw, tail_bytes(q, n, first + pd, end, kind, raw)))
                goto out;
    }
    rc = 0;
out:
    free(raw), free(prev), free(cls);
    return rc;
}

/* Every lattice tile of an encoded file -> dict_tile. */
static int dict_file(dict_study *d, const uint8_t *f, size_t size, ZSTD_DCtx *dz)
{
    char err[256];
    aecb_header h;
    if (aecb_parse(f, size, NULL, &h, err, sizeof err) != AEC_OK || !(h.flags & AECB_FLAG_SPLIT)) {
        aecb_header_free(&h);
        return (h.flags & AECB_FLAG_LATTICE) ? -1 : 0;
    }
    int rc = 0;
    size_t D = h.lattice_dim;
    for (uint32_t tile = 0; rc == 0 && tile < h.n_tiles; tile++) {
        uint32_t lw, lh;
        aecb_tile_latents(&h, tile, &lw, &lh);
        size_t n = (size_t)lw * lh;
        int layers = (h.flags & AECB_FLAG_LAYERED) ? h.lattice_layers : 1;
        uint8_t *work = malloc(aecb_split_work_bytes(D, n));
        int32_t *q = malloc(sizeof *q * D * n);
        aec_status st = work && q ? AEC_OK : AEC_ERR_OUT_OF_MEMORY;
        for (int l = 0; st == AEC_OK && l < layers; l++) {
            uint32_t first, count, i = aecb_layer_stream_index(&h, l, tile);
            aecb_layer_channels(&h, l, &first, &count);
            st = aecb_split_read_at(dz, f + h.offsets[i], h.sizes[i], first, count, lw, lh, work,
                                    q + (size_t)first * n, err, sizeof err);
        }
        if (st != AEC_OK || to_coded_symbols(q, D, lw, lh) || dict_tile(d, &h, q, lw, lh))
            rc = -1;
        free(work), free(q);
    }
    aecb_header_free(&h);
    return rc;
}

/* Encodes each image at every study level and hands the file to dict_file. */
static int dict_images(dict_study *d, aec_encoder *enc, ZSTD_DCtx *dz, char **paths, int n,
                       uint64_t *pixels)
{
    for (int a = 0; a < n; a++) {
        aeio_image img;
        char err[256];
        if (aeio_read(paths[a], &img, 0, err, sizeof err) || img.channels < 3) {
            fprintf(stderr, "entropy-study: %s: %s\n", paths[a], img.channels < 3 ? "not RGB" : err);
            return -1;
        }
        *pixels += (uint64_t)img.width * img.height;
        for (int l = 0; l < NLEVELS; l++) {
            aec_encode_params p;
            aec_encode_params_default(&p);
            p.quality = study_levels[l];
            uint8_t *file;
            size_t size;
            if (aec_encode(enc, img.pixels, img.width, img.height, 0,
                           img.channels == 4 ? AEC_RGBA : AEC_RGB, &p, &file, &size) != AEC_OK) {
                free(img.pixels);
                return -1;
            }
            d->level = l;
            int rc = dict_file(d, file, size, dz);
            aec_free(file);
            if (rc) {
                fprintf(stderr, "entropy-study: %s: cannot read its lattice streams\n", paths[a]);
                free(img.pixels);
                return -1;
            }
        }
        free(img.pixels);
    }
    return 0;
}

static void dict_train(dict_study *d)
{
    uint8_t *buf = malloc(DICT_CAP);
    for (int l = 0; buf && l < NLEVELS; l++)
        for (int k = 0; k < DKINDS; k++) {
            sample_set *s = &d->train[l][k];
            if (s->ns < 8 || s->n < DICT_CONTENT)
                continue;
            ZDICT_params_t zp = {STUDY_ZSTD_LEVEL, 0, 0};
            size_t r = ZDICT_finalizeDictionary(buf, DICT_CAP, s->data + s->n - DICT_CONTENT,
                                                DICT_CONTENT, s->data, s->sizes, (unsigned)s->ns,
                                                zp);
            if (ZDICT_isError(r)) {
                fprintf(stderr, "level %d kind %d: %s\n", study_levels[l], k, ZDICT_getErrorName(r));
                continue;
            }
            d->cdict[l][k] = ZSTD_createCDict(buf, r, STUDY_ZSTD_LEVEL);
            d->dict_size[l][k] = r;
        }
    free(buf);
}

static int dict_main(int argc, char **argv)
{
    int sep = 2;
    while (sep < argc && strcmp(argv[sep], "--"))
        sep++;
    if (sep == 2 || sep >= argc - 1) {
        fprintf(stderr, "usage: %s --dict TRAIN.png... -- IMAGE.png...\n", argv[0]);
        return 2;
    }
    dict_study *d = calloc(1, sizeof *d);
    aec_encoder *enc = NULL;
    ZSTD_DCtx *dz = ZSTD_createDCtx();
    uint64_t train_px = 0, pixels = 0;
    int rc = 1;
    if (!d || !dz || !(d->z = ZSTD_createCCtx()) || aec_encoder_create(&enc, NULL) != AEC_OK)
        goto out;
    d->training = 1;
    if (dict_images(d, enc, dz, argv + 2, sep - 2, &train_px))
        goto out;
    dict_train(d);
    d->training = 0;
    if (dict_images(d, enc, dz, argv + sep + 1, argc - sep - 1, &pixels))
        goto out;
    printf("tables from %d training images (%.2f Mpixel); %d images measured, %.2f Mpixel\n",
           sep - 2, train_px / 1e6, argc - sep - 1, pixels / 1e6);
    printf("level  sections today  + dictionaries       + significance by class, dictionaries  "
           "dictionaries' bytes\n");
    for (int l = 0; l < NLEVELS; l++) {
        double today = 0, dict = 0, cls = 0;
        size_t dbytes = 0;
        for (int k = 0; k < DKINDS; k++) {
            int sig_class = k >= 2 && k < 2 + SIG_CLASSES;
            if (!sig_class)
                today += d->plain[l][k], dict += d->with_dict[l][k];
            if (k != 1)
                cls += d->with_dict[l][k];
            dbytes += d->dict_size[l][k];
        }
        printf("%5d %15.0f %10.0f (%+5.1f%%) %15.0f (%+5.1f%%) %28zu\n", study_levels[l], today,
               dict, 100 * (dict / today - 1), cls, 100 * (cls / today - 1), dbytes);
        printf("      per kind (today/dict):");
        static const char *const name[DKINDS] = {"pred", "sig", "sig0", "sig1", "sig2",
                                                 "sig3", "GT1", "R8", "SIGN"};
        for (int k = 0; k < DKINDS; k++)
            printf(" %s %.0f/%.0f", name[k], d->plain[l][k], d->with_dict[l][k]);
        printf("\n");
    }
    rc = 0;
out:
    if (d) {
        for (int l = 0; l < NLEVELS; l++)
            for (int k = 0; k < DKINDS; k++)
                free(d->train[l][k].data), free(d->train[l][k].sizes),
                    ZSTD_freeCDict(d->cdict[l][k]);
        ZSTD_freeCCtx(d->z);
        free(d->dst);
        free(d);
    }
    ZSTD_freeDCtx(dz);
    aec_encoder_destroy(enc);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc < 2) {
        fprintf(stderr, "usage: %s IMAGE...\n       %s --dict TRAIN.png... -- IMAGE.png...\n",
                argv[0], argv[0]);
        return 2;
    }
    if (!strcmp(argv[1], "--dict"))
        return dict_main(argc, argv);
    tally t[NLEVELS];
    memset(t, 0, sizeof t);
    aec_encoder *enc = NULL;
    ZSTD_CCtx *z = ZSTD_createCCtx();
    ZSTD_DCtx *dz = ZSTD_createDCtx();
    if (aec_encoder_create(&enc, NULL) != AEC_OK || !z || !dz) {
        fprintf(stderr, "entropy-study: cannot create the encoder\n");
        return 1;
    }
    uint64_t pixels = 0;
    int rc = 0;
    for (int a = 1; a < argc && rc == 0; a++) {
        aeio_image img;
        char err[256];
        if (aeio_read(argv[a], &img, 0, err, sizeof err) || img.channels < 3) {
            fprintf(stderr, "entropy-study: %s: %s\n", argv[a], img.channels < 3 ? "not RGB" : err);
            rc = 1;
            break;
        }
        pixels += (uint64_t)img.width * img.height;
        for (int l = 0; l < NLEVELS && rc == 0; l++) {
            aec_encode_params p;
            aec_encode_params_default(&p);
            p.quality = study_levels[l];
            uint8_t *file;
            size_t size;
            if (aec_encode(enc, img.pixels, img.width, img.height, 0,
                           img.channels == 4 ? AEC_RGBA : AEC_RGB, &p, &file, &size) != AEC_OK) {
                fprintf(stderr, "entropy-study: %s: %s\n", argv[a], aec_encoder_last_error(enc));
                rc = 1;
                break;
            }
            rc = study_file(file, size, z, dz, &t[l]) ? 1 : 0;
            aec_free(file);
        }
        free(img.pixels);
    }
    if (rc == 0) {
        printf("%d images, %llu pixels; lattice bytes summed over images (bpp = bits/pixel)\n",
               argc - 1, (unsigned long long)pixels);
        printf("level  symbols   coded      H0   H|K=4   H|K=8  zstd/K=4  zstd/K=8   "
               "H|4 vs coded  zstd/4 vs coded\n");
        for (int l = 0; l < NLEVELS; l++) {
            const tally *s = &t[l];
            printf("%5d %8llu %7.0f %7.0f %7.0f %7.0f %9.0f %9.0f   %+11.1f%%  %+14.1f%%\n",
                   study_levels[l], (unsigned long long)s->symbols, s->coded, s->h0, s->hk[0],
                   s->hk[1], s->zk[0], s->zk[1], 100 * (s->hk[0] / s->coded - 1),
                   100 * (s->zk[0] / s->coded - 1));
            printf("  bpp        %7.4f %7.4f %7.4f %7.4f %9.4f %9.4f\n", 8 * s->coded / pixels,
                   8 * s->h0 / pixels, 8 * s->hk[0] / pixels, 8 * s->hk[1] / pixels,
                   8 * s->zk[0] / pixels, 8 * s->zk[1] / pixels);
            printf("  significance %7.0f; by class: spatial K=4 %7.0f (%+.1f%%), +previous group "
                   "K=4 %7.0f (%+.1f%%), K=8 %7.0f (%+.1f%%)\n",
                   s->sig, s->sigk[0], 100 * (s->sigk[0] / s->sig - 1), s->sigk[1],
                   100 * (s->sigk[1] / s->sig - 1), s->sigk[2], 100 * (s->sigk[2] / s->sig - 1));
            printf("  significance with a side activity map per 2x2 latents: per group %7.0f "
                   "(%+.1f%%), for all groups %7.0f (%+.1f%%)\n",
                   s->side[0], 100 * (s->side[0] / s->sig - 1), s->side[1],
                   100 * (s->side[1] / s->sig - 1));
            static const char *const kind[] = {"predicted", "significance", "GT1", "R8", "SIGN"};
            printf("  sections (%llu frames): zstd bytes / order-0 entropy of their bytes:",
                   (unsigned long long)s->frames);
            for (int k = 0; k < 5; k++)
                printf(" %s %.0f/%.0f", kind[k], s->kz[k], s->kh[k]);
            printf("\n");
        }
    }
    aec_encoder_destroy(enc);
    ZSTD_freeCCtx(z), ZSTD_freeDCtx(dz);
    return rc;
}
