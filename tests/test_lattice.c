/* SPDX-License-Identifier: BSD-3-Clause */
/* test_lattice.c - the lattice refinement's rounding and its two stream
 * layouts: the planes layout (codec/vq/lattice.{h,c}, spec/bitstream.md
 * 6.6) and the split layout (codec/bitstream/lattice_stream.{h,c}, spec
 * 6.7), the latter checked against an implementation of 6.7 written here
 * from the spec alone, in both directions, against a stream built byte by
 * byte from the spec, and against damaged and hostile streams. */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitstream/lattice_stream.h"
#include "bitstream/zstream.h"
#include "testlib.h"
#include "vq/lattice.h"

static uint32_t rng_state = 12345;
static uint32_t next_random(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

/* Values round to the nearer lattice point, except that the rounding
 * offset sends values up to 0.65 of a step to the smaller magnitude. */
static void test_symbol_rounding(void)
{
    const float step = 0.25f, inv = 1.0f / step;
    CHECK(aem_lattice_symbol(0.0f, inv) == 0);
    CHECK(aem_lattice_symbol(0.64f * step, inv) == 0);
    CHECK(aem_lattice_symbol(0.66f * step, inv) == 1);
    CHECK(aem_lattice_symbol(-0.66f * step, inv) == -1);
    CHECK(aem_lattice_symbol(1.64f * step, inv) == 1);
    CHECK(aem_lattice_symbol(1.66f * step, inv) == 2);
    CHECK(aem_lattice_symbol(-7.9f * step, inv) == -8);
    CHECK(aem_lattice_symbol(1e30f, inv) == AEM_LATTICE_MAX_SYMBOL);
    CHECK(aem_lattice_symbol(-1e30f, inv) == -AEM_LATTICE_MAX_SYMBOL);
    CHECK(aem_lattice_symbol(NAN, inv) == 0);
    /* The error never exceeds 0.65 of a step below saturation. */
    float worst = 0;
    for (int i = -4000; i <= 4000; i++) {
        float r = (float)i * 0.0037f;
        float e = fabsf(r - step * (float)aem_lattice_symbol(r, inv));
        worst = e > worst ? e : worst;
    }
    printf("  largest rounding error %.4f steps\n", (double)(worst / step));
    CHECK(worst <= 0.651f * step);
}

/* pack then unpack gives the symbols back, for any tile shape, extreme
 * values included; the predicted channels' residuals are what makes a
 * smooth plane cheap. */
static void test_pack_round_trip(void)
{
    const size_t shapes[][3] = {{1, 1, 1}, {3, 5, 2}, {4, 1, 7}, {1, 6, 3}, {64, 64, 5}, {17, 9, 64}};
    for (size_t k = 0; k < sizeof shapes / sizeof shapes[0]; k++) {
        size_t lw = shapes[k][0], lh = shapes[k][1], D = shapes[k][2], n = lw * lh;
        int32_t *sym = malloc(sizeof(int32_t) * D * n), *back = malloc(sizeof(int32_t) * D * n);
        uint8_t *planes = malloc(2 * D * n);
        for (size_t i = 0; i < D * n; i++) {
            uint32_t r = next_random();
            int32_t v = (int32_t)(r % (2 * AEM_LATTICE_MAX_SYMBOL + 1)) - AEM_LATTICE_MAX_SYMBOL;
            if (r % 7 == 0) /* extremes, alternating: the largest residuals */
                v = (i % 2) ? AEM_LATTICE_MAX_SYMBOL : -AEM_LATTICE_MAX_SYMBOL;
            if (r % 5 == 0)
                v = (int32_t)(r % 5) - 2;
            sym[i] = v;
        }
        aem_lattice_pack(sym, D, lw, lh, planes);
        aem_lattice_unpack(planes, D, lw, lh, back);
        CHECKF(memcmp(sym, back, sizeof(int32_t) * D * n) == 0, "round trip %zux%zu, D=%zu", lw,
               lh, D);
        free(sym), free(back), free(planes);
    }
    /* A ramp 6 + x + 2y in a predicted channel packs to small residuals:
     * 6 at the origin, then 1 along the first row, 2 down the first column,
     * and 1 inside (there the corner is below left and above, so the median
     * predictor takes the larger neighbour, 8 for 9 at (1,1)). */
    size_t lw = 8, lh = 8, D = AEM_LATTICE_PREDICTED + 1, n = lw * lh;
    int32_t sym[3 * 64];
    uint8_t planes[2 * 3 * 64];
    for (size_t d = 0; d < D; d++)
        for (size_t j = 0; j < n; j++)
            sym[d * n + j] = 6 + (int32_t)(j % lw) + 2 * (int32_t)(j / lw);
    aem_lattice_pack(sym, D, lw, lh, planes);
    CHECK(planes[0] == 12 && planes[1] == 2 && planes[lw] == 4); /* zigzag of 6, +1, +2 */
    CHECK(planes[lw + 1] == 2);
    CHECK(planes[(D - 1) * n + lw + 1] == 2 * 9); /* the unpredicted channel: the value itself */
}

/* Bytes from a hostile file decode to symbols within range. */
static void test_unpack_hostile(void)
{
    size_t lw = 13, lh = 11, D = 4, n = lw * lh;
    uint8_t *planes = malloc(2 * D * n);
    int32_t *sym = malloc(sizeof(int32_t) * D * n);
    for (int round = 0; round < 50; round++) {
        for (size_t i = 0; i < 2 * D * n; i++)
            planes[i] = (uint8_t)(round % 3 == 0 ? 0xff : next_random());
        aem_lattice_unpack(planes, D, lw, lh, sym);
        int ok = 1;
        for (size_t i = 0; i < D * n; i++)
            ok &= sym[i] >= -AEM_LATTICE_MAX_SYMBOL && sym[i] <= AEM_LATTICE_MAX_SYMBOL;
        CHECKF(ok, "round %d: a symbol out of range", round);
    }
    free(planes), free(sym);
}

/* ---- the split layout (spec/bitstream.md 6.7) ----------------------------
 * Everything named spec_ is written from the text of section 6.7, not from
 * lattice_stream.c, so that the two check each other. */

#define MAXSEC (2 + 32 + 4) /* sections of the largest D, 255 */
#define GUARD 64            /* bytes (symbols) behind work (sym) that must stay */

static size_t spec_pd(size_t D) { return D < 2 ? D : 2; }
static size_t spec_groups(size_t D) { return (D - spec_pd(D) + 7) / 8; }
static size_t spec_nsec(size_t D) { return spec_pd(D) + spec_groups(D) + 4; }

/* compress_bound of section 5 */
static uint64_t spec_cbound(uint64_t n)
{
    return n + n / 256 + (n < 131072 ? (131072 - n) / 2048 : 0);
}

/* split_bound of section 6.7 (before the clamp to 2^32 - 1) for D
 * channels of which the first pd are predicted */
static uint64_t spec_split_bound_pd(size_t D, size_t pd, size_t n)
{
    uint64_t R = (uint64_t)(D - pd) * n, G = (D - pd + 7) / 8;
    return pd * spec_cbound(2 * (uint64_t)n) + G * spec_cbound(n) +
           2 * spec_cbound((R + 7) / 8) + spec_cbound(R) + spec_cbound(2 * R) + 5 * (pd + G + 4);
}
static uint64_t spec_split_bound(size_t D, size_t n)
{
    return spec_split_bound_pd(D, spec_pd(D), n);
}

/* MED of section 6.6 on plane s [lh][lw] */
static int32_t spec_med(const int32_t *s, size_t lw, size_t x, size_t y)
{
    if (x == 0 && y == 0)
        return 0;
    int32_t A = y ? s[(y - 1) * lw + x] : s[x - 1];
    int32_t L = x ? s[y * lw + x - 1] : A;
    int32_t C = (x && y) ? s[(y - 1) * lw + x - 1] : A;
    int32_t hi = L > A ? L : A, lo = L < A ? L : A;
    return C >= hi ? lo : C <= lo ? hi : L + A - C;
}

typedef struct {
    size_t count;          /* NS */
    size_t len[MAXSEC];    /* raw sizes */
    uint8_t *raw[MAXSEC];  /* contents, NULL when empty */
} spec_sections;

static uint8_t *spec_alloc(spec_sections *s, size_t k, size_t len)
{
    s->len[k] = len;
    s->raw[k] = len ? calloc(len, 1) : NULL;
    return s->raw[k];
}
static void spec_free(spec_sections *s)
{
    for (size_t k = 0; k < s->count; k++)
        free(s->raw[k]);
    memset(s, 0, sizeof *s);
}
static int spec_bit(const uint8_t *b, size_t i) { return (b[i / 8] >> (i % 8)) & 1; }

/* The section contents of symbols sym [D][lh][lw], the first pd channels
 * predicted (6.7: pd = min(D, 2) for a stream of channels 0..D-1; 6.9: the
 * channels of a layer below 2, so none in a layer from channel 8 on). */
static void spec_split_sections_pd(const int32_t *sym, size_t D, size_t pd, size_t lw, size_t lh,
                                   spec_sections *s)
{
    size_t n = lw * lh, G = (D - pd + 7) / 8, k0 = pd + G;
    memset(s, 0, sizeof *s);
    s->count = pd + G + 4;
    for (size_t d = 0; d < pd; d++) { /* P_d: zigzag residual codes, low then high */
        uint8_t *b = spec_alloc(s, d, 2 * n);
        for (size_t y = 0; y < lh; y++)
            for (size_t x = 0; x < lw; x++) {
                int32_t r = sym[d * n + y * lw + x] - spec_med(sym + d * n, lw, x, y);
                uint32_t c = r >= 0 ? 2u * (uint32_t)r : 2u * (uint32_t)(-r) - 1u;
                b[y * lw + x] = (uint8_t)c, b[n + y * lw + x] = (uint8_t)(c >> 8);
            }
    }
    for (size_t g = 0; g < G; g++) { /* F_g: significance, bit k = channel pd + 8g + k */
        uint8_t *b = spec_alloc(s, pd + g, n);
        for (size_t k = 0; k < 8 && pd + 8 * g + k < D; k++)
            for (size_t j = 0; j < n; j++)
                if (sym[(pd + 8 * g + k) * n + j])
                    b[j] |= (uint8_t)(1u << k);
    }
    size_t NZ = 0, NL = 0, NE = 0;
    for (size_t i = pd * n; i < D * n; i++) {
        int32_t a = sym[i] < 0 ? -sym[i] : sym[i];
        NZ += a > 0, NL += a > 1, NE += a >= 257;
    }
    uint8_t *gt1 = spec_alloc(s, k0, (NZ + 7) / 8), *r8 = spec_alloc(s, k0 + 1, NL);
    uint8_t *r16 = spec_alloc(s, k0 + 2, 2 * NE), *sign = spec_alloc(s, k0 + 3, (NZ + 7) / 8);
    size_t i1 = 0, i8 = 0, i16 = 0;
    for (size_t i = pd * n; i < D * n; i++) { /* the non-zero symbols in array order */
        int32_t v = sym[i], a = v < 0 ? -v : v;
        if (!v)
            continue;
        if (a > 1) {
            gt1[i1 / 8] |= (uint8_t)(1u << (i1 % 8));
            r8[i8++] = (uint8_t)(a - 2 < 255 ? a - 2 : 255);
            if (a - 2 >= 255) {
                r16[i16++] = (uint8_t)(a - 257);
                r16[i16++] = (uint8_t)((a - 257) >> 8);
            }
        }
        if (v < 0)
            sign[i1 / 8] |= (uint8_t)(1u << (i1 % 8));
        i1++;
    }
}

/* The section contents of symbols sym [D][lh][lw] (channels 0..D-1). */
static void spec_split_sections(const int32_t *sym, size_t D, size_t lw, size_t lh,
                                spec_sections *s)
{
    spec_split_sections_pd(sym, D, spec_pd(D), lw, lh, s);
}

/* The symbols that section contents (of the raw sizes 6.7 gives) code. */
static void spec_split_decode_pd(const spec_sections *s, size_t D, size_t pd, size_t lw,
                                 size_t lh, int32_t *sym)
{
    size_t n = lw * lh, k0 = pd + (D - pd + 7) / 8;
    for (size_t d = 0; d < pd; d++)
        for (size_t y = 0; y < lh; y++)
            for (size_t x = 0; x < lw; x++) {
                size_t j = y * lw + x;
                uint32_t c = s->raw[d][j] + 256u * s->raw[d][n + j];
                int32_t r = (c & 1) ? -(int32_t)((c + 1) / 2) : (int32_t)(c / 2);
                int32_t v = r + spec_med(sym + d * n, lw, x, y);
                sym[d * n + j] = v > 16383 ? 16383 : v < -16383 ? -16383 : v;
            }
    for (size_t d = pd; d < D; d++)
        for (size_t j = 0; j < n; j++)
            sym[d * n + j] = (s->raw[pd + (d - pd) / 8][j] >> ((d - pd) % 8)) & 1;
    size_t i1 = 0, i8 = 0, i16 = 0;
    for (size_t i = pd * n; i < D * n; i++) {
        if (!sym[i])
            continue;
        int32_t a = 1;
        if (spec_bit(s->raw[k0], i1)) {
            uint8_t b = s->raw[k0 + 1][i8++];
            a = 2 + b;
            if (b == 255) {
                uint32_t e = s->raw[k0 + 2][i16] | (uint32_t)s->raw[k0 + 2][i16 + 1] << 8;
                i16 += 2;
                a = 257 + e < 16383 ? (int32_t)(257 + e) : 16383;
            }
        }
        sym[i] = spec_bit(s->raw[k0 + 3], i1) ? -a : a;
        i1++;
    }
}

static void spec_split_decode(const spec_sections *s, size_t D, size_t lw, size_t lh,
                              int32_t *sym)
{
    spec_split_decode_pd(s, D, spec_pd(D), lw, lh, sym);
}

/* Unsigned LEB128 of v at p, at least `pad` bytes long (a non-minimal
 * encoding, which 6.7 allows); returns its length. */
static size_t put_leb(uint8_t *p, uint64_t v, size_t pad)
{
    size_t k = 0;
    int more;
    do {
        uint8_t b = (uint8_t)(v & 0x7f);
        v >>= 7;
        more = v != 0 || k + 1 < pad;
        p[k++] = (uint8_t)(b | (more ? 0x80 : 0));
    } while (more);
    return k;
}

/* A split stream of section contents: the directory (sizes padded to
 * `pad` LEB128 bytes), then each non-empty section as a magicless frame
 * with its content size (section 6.2; zstd through the library's helper). */
static uint8_t *spec_split_stream(const spec_sections *s, size_t pad, size_t *size)
{
    uint8_t *frames[MAXSEC] = {0};
    size_t fs[MAXSEC] = {0}, total = 0;
    for (size_t k = 0; k < s->count; k++) {
        if (s->len[k])
            CHECK(aecb_zstd_compress(NULL, s->raw[k], s->len[k], 3, NULL, &frames[k], &fs[k],
                                     NULL, 0) == AEC_OK);
        total += fs[k];
    }
    uint8_t *out = malloc(5 * s->count + total);
    size_t pos = 0;
    for (size_t k = 0; k < s->count; k++)
        pos += put_leb(out + pos, fs[k], pad);
    for (size_t k = 0; k < s->count; k++) {
        if (fs[k])
            memcpy(out + pos, frames[k], fs[k]);
        pos += fs[k];
        free(frames[k]);
    }
    *size = pos;
    return out;
}

/* 0 when split stream st[0..size) holds exactly the contents of s, read
 * here by the spec: directory, then frames of the raw sizes s gives. */
static int same_sections(const uint8_t *st, size_t size, const spec_sections *s)
{
    unsigned long long sz[MAXSEC];
    long dir = tl_split_directory(st, size, s->count, sz);
    if (dir < 0)
        return -1;
    size_t pos = (size_t)dir;
    for (size_t k = 0; k < s->count; k++) {
        if (!sz[k] != !s->len[k] || pos + sz[k] > size)
            return -1;
        if (!sz[k])
            continue;
        uint8_t *buf = malloc(s->len[k]);
        int same = aecb_zstd_decompress(NULL, NULL, st + pos, (size_t)sz[k], buf, s->len[k],
                                        NULL, 0) == AEC_OK &&
                   memcmp(buf, s->raw[k], s->len[k]) == 0;
        free(buf);
        if (!same)
            return -1;
        pos += (size_t)sz[k];
    }
    return pos == size ? 0 : -1;
}

/* aecb_split_read of st[0..size) into a sym full of garbage (it must write
 * every symbol) and a work buffer of aecb_split_work_bytes, each with
 * guard bytes behind it that must stay as they were (ASan checks the rest).
 * On AEC_OK every symbol must be within range.  *out: the symbols (free).
 * With at, the same through aecb_split_read_at and aecb_split_work_bytes_at
 * for the D channels from channel `first` on (a layer, spec 6.9). */
static aec_status split_read_guarded_ex(ZSTD_DCtx *dctx, const uint8_t *st, size_t size, int at,
                                        size_t first, size_t D, size_t lw, size_t lh,
                                        int32_t **out, char *err)
{
    size_t n = lw * lh;
    size_t wb = at ? aecb_split_work_bytes_at(first, D, n) : aecb_split_work_bytes(D, n);
    uint8_t *work = malloc(wb + GUARD);
    int32_t *sym = malloc(sizeof(int32_t) * (D * n + GUARD));
    memset(work, 0xA5, wb + GUARD);
    for (size_t i = 0; i < D * n + GUARD; i++)
        sym[i] = 0x5A5A5A5A;
    err[0] = 0;
    aec_status st_ = at ? aecb_split_read_at(dctx, st, size, first, D, lw, lh, work, sym, err, 200)
                        : aecb_split_read(dctx, st, size, D, lw, lh, work, sym, err, 200);
    int guards = 1, range = 1;
    for (size_t i = 0; i < GUARD; i++)
        guards &= work[wb + i] == 0xA5 && sym[D * n + i] == 0x5A5A5A5A;
    for (size_t i = 0; st_ == AEC_OK && i < D * n; i++)
        range &= sym[i] >= -AEM_LATTICE_MAX_SYMBOL && sym[i] <= AEM_LATTICE_MAX_SYMBOL;
    CHECKF(guards, "D=%zu %zux%zu: aecb_split_read wrote past sym or work", D, lw, lh);
    CHECKF(range, "D=%zu %zux%zu: a symbol out of range", D, lw, lh);
    free(work);
    if (out)
        *out = sym;
    else
        free(sym);
    return st_;
}
static aec_status split_read_guarded(ZSTD_DCtx *dctx, const uint8_t *st, size_t size, size_t D,
                                     size_t lw, size_t lh, int32_t **out, char *err)
{
    return split_read_guarded_ex(dctx, st, size, 0, 0, D, lw, lh, out, err);
}

/* A test symbol: 0 (7 in 8 when sparse, 1 in 16 when dense), else of
 * magnitude 1, one where R8 and R16 begin and end (2, 256, 257, 258, ...),
 * the largest, or any, with either sign. */
static int32_t test_symbol(int dense)
{
    static const int32_t special[] = {2, 3, 255, 256, 257, 258, 511, 512, 4096, 16382, 16383};
    uint32_t r = next_random(), m = next_random();
    if (dense ? r % 16 == 0 : r % 8 != 0)
        return 0;
    int32_t a = m % 4 < 2 ? 1
                : m % 4 == 2 ? special[(m >> 4) % (sizeof special / sizeof *special)]
                             : 1 + (int32_t)((m >> 4) % AEM_LATTICE_MAX_SYMBOL);
    return (r >> 4) & 1 ? -a : a;
}

/* The sizes the layout is built from, against 6.7's formulas. */
static void test_split_sizes(void)
{
    static const size_t dims[] = {1, 2, 3, 9, 10, 11, 64, 254, 255};
    static const size_t ns[] = {1, 21, 4096, 16384, 1u << 20};
    for (size_t a = 0; a < sizeof dims / sizeof *dims; a++) {
        size_t D = dims[a];
        CHECKF(aecb_split_sections(D) == spec_nsec(D), "D=%zu: %zu sections", D,
               aecb_split_sections(D));
        for (size_t b = 0; b < sizeof ns / sizeof *ns; b++) {
            size_t n = ns[b], rest = D - spec_pd(D);
            CHECKF(aecb_split_bound(D, n) == spec_split_bound(D, n), "D=%zu n=%zu: bound %llu",
                   D, n, (unsigned long long)aecb_split_bound(D, n));
            /* The reader holds a predicted section (2n) or the four last
             * sections at once (GT1 + SIGN bits, R8, R16 at their largest)
             * plus 8 zeroed bytes for its branch-free pass. */
            size_t R = rest * n, wb = aecb_split_work_bytes(D, n);
            CHECKF(wb >= 2 * n && wb >= 2 * ((R + 7) / 8) + 3 * R + 8 && wb <= 2 * n + 4 * R + 16,
                   "D=%zu n=%zu: work %zu bytes", D, n, wb);
        }
    }
    /* section counts worked out by hand: 1 + 0 + 4, 2 + 0 + 4, 2 + 1 + 4, ... */
    CHECK(aecb_split_sections(1) == 5 && aecb_split_sections(2) == 6);
    CHECK(aecb_split_sections(3) == 7 && aecb_split_sections(10) == 7);
    CHECK(aecb_split_sections(11) == 8 && aecb_split_sections(255) == 38);
    /* the largest tile (T = 1024, B = 1) of the largest D stays below 2^32 */
    CHECK(aecb_split_bound(255, 1u << 20) < 0xFFFFFFFFull);
}

/* Round trips through the library's writer and reader for the D that 6.7
 * treats apart (1, 2: predicted channels only; 3: a group of one channel;
 * 9, 10: a whole group, then one more; 64; 255, the largest), odd tile
 * shapes, sparse and dense symbols of every magnitude class.  The writer's
 * sections must be the spec's, byte for byte, and its stream within
 * aecb_split_bound; the reader must decode it and a stream assembled here
 * from the spec's sections (some with non-minimal LEB128 sizes). */
/* aecb_split_write_tasks gives aecb_split_write's bytes, run by a team of
 * threads (its sections as tasks) and outside any parallel region. */
static void test_split_tasks_same_bytes(void)
{
    static const size_t dims[] = {3, 10, 64};
    int differ = 0;
    for (size_t a = 0; a < sizeof dims / sizeof *dims; a++)
        for (int dense = 0; dense < 2; dense++) {
            size_t D = dims[a], lw = 48, lh = 40, n = lw * lh;
            int32_t *sym = malloc(sizeof(int32_t) * D * n);
            for (size_t i = 0; i < D * n; i++)
                sym[i] = test_symbol(dense);
            uint8_t *one = NULL, *team = NULL, *alone = NULL;
            size_t n1 = 0, n2 = 0, n3 = 0;
            aec_status w1 = aecb_split_write(NULL, sym, D, lw, lh, 19, &one, &n1, NULL, 0);
            aec_status w2 = AEC_ERR_INVALID_ARGUMENT;
#pragma omp parallel num_threads(2)
#pragma omp single
            w2 = aecb_split_write_tasks(sym, D, lw, lh, 19, &team, &n2, NULL, 0);
            aec_status w3 = aecb_split_write_tasks(sym, D, lw, lh, 19, &alone, &n3, NULL, 0);
            CHECK(w1 == AEC_OK && w2 == AEC_OK && w3 == AEC_OK);
            differ += !one || !team || !alone || n1 != n2 || n1 != n3 ||
                      memcmp(one, team, n1) != 0 || memcmp(one, alone, n1) != 0;
            free(one), free(team), free(alone), free(sym);
        }
    CHECKF(differ == 0, "%d streams differ between the loop and the tasks", differ);
}

static void test_split_round_trip(void)
{
    static const size_t dims[] = {1, 2, 3, 9, 10, 64, 255};
    static const size_t shapes[][2] = {{1, 1}, {7, 3}, {3, 7}, {64, 64}};
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    int cases = 0, with_r16 = 0, bad = 0;
    char err[200];
    for (size_t a = 0; a < sizeof dims / sizeof *dims; a++)
        for (size_t b = 0; b < sizeof shapes / sizeof *shapes; b++)
            for (int dense = 0; dense < 2; dense++) {
                size_t D = dims[a], lw = shapes[b][0], lh = shapes[b][1], n = lw * lh;
                int32_t *sym = malloc(sizeof(int32_t) * D * n);
                for (size_t i = 0; i < D * n; i++)
                    sym[i] = test_symbol(dense);
                if (dense && D * n > 2) /* extremes side by side: residuals of 32766 */
                    sym[0] = AEM_LATTICE_MAX_SYMBOL, sym[1] = -AEM_LATTICE_MAX_SYMBOL;
                uint8_t *st = NULL;
                size_t size = 0;
                /* a context to reuse on odd cases, none (a temporary one) on even */
                aec_status w = aecb_split_write(cases % 2 ? cctx : NULL, sym, D, lw, lh,
                                                1 + cases % 3, &st, &size, err, sizeof err);
                CHECKF(w == AEC_OK, "D=%zu %zux%zu: write: %s", D, lw, lh, err);
                if (w != AEC_OK) {
                    free(sym);
                    continue;
                }
                int before = tl_failures_in_test;
                CHECKF(size <= aecb_split_bound(D, n), "D=%zu %zux%zu: %zu bytes above the bound",
                       D, lw, lh, size);
                spec_sections sec;
                spec_split_sections(sym, D, lw, lh, &sec);
                with_r16 += sec.len[sec.count - 2] > 0;
                CHECKF(same_sections(st, size, &sec) == 0,
                       "D=%zu %zux%zu %s: the writer's sections are not the spec's", D, lw, lh,
                       dense ? "dense" : "sparse");
                int32_t *back = NULL;
                aec_status r = split_read_guarded(cases % 2 ? NULL : dctx, st, size, D, lw, lh,
                                                  &back, err);
                CHECKF(r == AEC_OK && memcmp(back, sym, sizeof(int32_t) * D * n) == 0,
                       "D=%zu %zux%zu: read back: %d %s", D, lw, lh, (int)r, err);
                free(back);
                size_t ssize = 0;
                uint8_t *sp = spec_split_stream(&sec, (size_t)(cases % 3 == 0 ? 5 : 0), &ssize);
                r = split_read_guarded(dctx, sp, ssize, D, lw, lh, &back, err);
                CHECKF(r == AEC_OK && memcmp(back, sym, sizeof(int32_t) * D * n) == 0,
                       "D=%zu %zux%zu: the spec's stream: %d %s", D, lw, lh, (int)r, err);
                free(back), free(sp), free(st), free(sym);
                spec_free(&sec);
                bad += tl_failures_in_test != before;
                cases++;
            }
    printf("  %d round trips, %d with R16 escapes, %d failed\n", cases, with_r16, bad);
    CHECK(cases == 56 && with_r16 >= 10);
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
}

/* The spec's lattice example (section 13: D = 3, a tile of 2 x 1 latents,
 * sym(0) = (0, -1), sym(1) = (2, -200), sym(2) = (5, -3)) in the split
 * layout, built byte by byte from 6.7 and RFC 8878: each frame is one raw
 * block (Frame_Header_Descriptor 0x20: single segment, a 1-byte content
 * size; block header (size << 3) | 1: last, raw).  P_0 codes the residuals
 * 0, -1 as 0, 1; P_1 the residuals 2, -202 as 4, 403 = 0x193; channel 2 is
 * significant at both latents; both magnitudes are above 1; R8 holds
 * 5 - 2 and 3 - 2; R16 is empty (size 0, no frame); the second is negative. */
static const uint8_t example_split[] = {
    9, 9, 7, 6, 7, 0, 6,                          /* directory: 7 sizes  */
    0x20, 4, 0x21, 0, 0, 0x00, 0x01, 0x00, 0x00,  /* P_0                 */
    0x20, 4, 0x21, 0, 0, 0x04, 0x93, 0x00, 0x01,  /* P_1                 */
    0x20, 2, 0x11, 0, 0, 0x01, 0x01,              /* F_0                 */
    0x20, 1, 0x09, 0, 0, 0x03,                    /* GT1                 */
    0x20, 2, 0x11, 0, 0, 0x03, 0x01,              /* R8                  */
    0x20, 1, 0x09, 0, 0, 0x02,                    /* SIGN                */
};
static const int32_t example_sym[6] = {0, -1, 2, -200, 5, -3}; /* [d][x] */
enum { EX_DIR = 7, EX_F0 = 25, EX_GT1 = 32, EX_R8 = 38, EX_SIGN = 45 }; /* offsets */

/* Reads a stream of the example's shape (D = 3, 2 x 1); 1 when it gives
 * `want` (AEC_OK) with the symbols `expect`, or the error `want`. */
static int example_reads(const uint8_t *st, size_t size, aec_status want, const int32_t *expect,
                         const char *what)
{
    uint8_t *copy = malloc(size ? size : 1); /* exact size: ASan sees any over-read */
    memcpy(copy, st, size);
    int32_t *sym = NULL;
    char err[200];
    aec_status r = split_read_guarded(NULL, copy, size, 3, 2, 1, &sym, err);
    int ok = r == want && (want != AEC_OK || memcmp(sym, expect, sizeof(int32_t) * 6) == 0);
    CHECKF(ok, "%s: status %d (%s), want %d", what, (int)r, err, (int)want);
    free(copy), free(sym);
    return ok;
}

/* example_split with bytes [at, at + cut) replaced by ins[0..nins). */
static size_t example_edit(uint8_t *out, size_t at, size_t cut, const uint8_t *ins, size_t nins)
{
    memcpy(out, example_split, at);
    if (nins) /* (memcpy from NULL is undefined even for 0 bytes) */
        memcpy(out + at, ins, nins);
    memcpy(out + at + nins, example_split + at + cut, sizeof example_split - at - cut);
    return sizeof example_split - cut + nins;
}

static void test_split_spec_example(void)
{
    uint8_t b[128];
    size_t n;
    example_reads(example_split, sizeof example_split, AEC_OK, example_sym, "spec example");
    /* the library writes these very sections (its frames are its own) */
    uint8_t *st = NULL;
    size_t size = 0;
    CHECK(aecb_split_write(NULL, example_sym, 3, 2, 1, 19, &st, &size, NULL, 0) == AEC_OK);
    spec_sections sec;
    spec_split_sections(example_sym, 3, 2, 1, &sec);
    CHECK(sec.count == 7 && sec.len[5] == 0);
    static const size_t at[7] = {12, 21, 30, 37, 43, 0, 50}; /* contents in example_split */
    for (size_t k = 0; k < 7; k++)
        CHECKF(!sec.len[k] || memcmp(sec.raw[k], example_split + at[k], sec.len[k]) == 0,
               "section %zu of the spec's example", k);
    CHECK(st && same_sections(st, size, &sec) == 0);
    spec_free(&sec);
    free(st);

    /* decoders ignore the unused high bits of GT1 and SIGN */
    memcpy(b, example_split, sizeof example_split);
    b[EX_GT1 + 5] = 0xF3, b[EX_SIGN + 5] = 0xFE;
    example_reads(b, sizeof example_split, AEC_OK, example_sym, "high bits of GT1, SIGN set");
    /* non-minimal LEB128 sizes are valid, up to 5 bytes */
    n = example_edit(b, 0, 2, (const uint8_t[]){0x89, 0x00, 0x89, 0x80, 0x80, 0x80, 0x00}, 7);
    example_reads(b, n, AEC_OK, example_sym, "sizes of 2 and 5 LEB128 bytes");

    /* R16: channel 2 = (300, -16383), escapes 43 and 16126 (0x3EFE) */
    static const uint8_t esc[] = {
        9, 9, 7, 6, 7, 9, 6,
        0x20, 4, 0x21, 0, 0, 0, 0, 0, 0,
        0x20, 4, 0x21, 0, 0, 0, 0, 0, 0,
        0x20, 2, 0x11, 0, 0, 0x01, 0x01,
        0x20, 1, 0x09, 0, 0, 0x03,
        0x20, 2, 0x11, 0, 0, 0xFF, 0xFF,
        0x20, 4, 0x21, 0, 0, 0x2B, 0x00, 0xFE, 0x3E,
        0x20, 1, 0x09, 0, 0, 0x02,
    };
    const int32_t esc_sym[6] = {0, 0, 0, 0, 300, -16383};
    example_reads(esc, sizeof esc, AEC_OK, esc_sym, "R16 escapes");
    /* a hostile escape: 257 + 65535 is clamped to 16383 */
    memcpy(b, esc, sizeof esc);
    b[sizeof esc - 6 - 4] = 0xFF, b[sizeof esc - 6 - 3] = 0xFF;
    const int32_t clamped[6] = {0, 0, 0, 0, 16383, -16383};
    example_reads(b, sizeof esc, AEC_OK, clamped, "R16 escape 0xFFFF");
    uint8_t *w = NULL;
    CHECK(aecb_split_write(NULL, esc_sym, 3, 2, 1, 3, &w, &size, NULL, 0) == AEC_OK);
    spec_split_sections(esc_sym, 3, 2, 1, &sec);
    CHECK(w && same_sections(w, size, &sec) == 0 && sec.len[5] == 4 &&
          memcmp(sec.raw[5], esc + 50, 4) == 0);
    spec_free(&sec);
    free(w);
}

/* Streams that break a rule of 6.7 (or of 6.2 for a section) are CORRUPT,
 * never a crash: each case below is the spec example with one change. */
static void test_split_corrupt(void)
{
    uint8_t b[128];
    size_t n;
    const aec_status C = AEC_ERR_CORRUPT;
    /* the directory */
    example_reads(example_split, 4, C, NULL, "truncated directory");
    n = example_edit(b, 0, 1, (const uint8_t[]){0x89, 0x80, 0x80, 0x80, 0x80, 0x00}, 6);
    example_reads(b, n, C, NULL, "a size of 6 LEB128 bytes");
    /* 2^32 + 9: a reader keeping 32 bits of it would see 9 and decode */
    n = example_edit(b, 0, 1, (const uint8_t[]){0x89, 0x80, 0x80, 0x80, 0x10}, 5);
    example_reads(b, n, C, NULL, "a size of 2^32 + 9");
    /* the frames do not fill the stream exactly */
    memcpy(b, example_split, sizeof example_split);
    b[sizeof example_split] = 0;
    example_reads(b, sizeof example_split + 1, C, NULL, "a byte after the frames");
    example_reads(example_split, sizeof example_split - 1, C, NULL, "a byte missing");
    memcpy(b, example_split, sizeof example_split);
    b[6] = 7, b[sizeof example_split] = 0; /* counted, but after the SIGN frame's end */
    example_reads(b, sizeof example_split + 1, C, NULL, "a byte after a frame");
    memcpy(b, example_split, sizeof example_split);
    b[0] = 10, b[1] = 8; /* the sum is right, P_0's frame is not */
    example_reads(b, sizeof example_split, C, NULL, "sizes moved between sections");
    /* empty and missing sections */
    n = example_edit(b, EX_SIGN, 0, (const uint8_t[]){0x20, 0, 0x01, 0, 0}, 5);
    b[5] = 5; /* R16 (raw size 0) with a frame of no content */
    example_reads(b, n, C, NULL, "a frame for R16, whose raw size is 0");
    n = example_edit(b, EX_SIGN, 6, NULL, 0);
    b[6] = 0; /* SIGN (raw size 1) without its frame */
    example_reads(b, n, C, NULL, "SIGN missing");
    n = example_edit(b, EX_GT1, 6, NULL, 0);
    b[3] = 0;
    example_reads(b, n, C, NULL, "GT1 missing");
    /* significance of channel 3 and of channel 9 of a 3-channel tile */
    memcpy(b, example_split, sizeof example_split);
    b[EX_F0 + 6] = 0x03;
    example_reads(b, sizeof example_split, C, NULL, "significance of channel 3");
    b[EX_F0 + 6] = 0x81;
    example_reads(b, sizeof example_split, C, NULL, "significance of channel 9");
    /* frames that declare another content size than the section's */
    n = example_edit(b, EX_GT1, 6, (const uint8_t[]){0x20, 2, 0x11, 0, 0, 0x03, 0x00}, 7);
    b[3] = 7;
    example_reads(b, n, C, NULL, "GT1 of 2 bytes");
    n = example_edit(b, EX_R8, 7, (const uint8_t[]){0x20, 1, 0x09, 0, 0, 0x03}, 6);
    b[4] = 6;
    example_reads(b, n, C, NULL, "R8 of 1 byte");
    n = example_edit(b, EX_DIR, 9,
                     (const uint8_t[]){0x20, 6, 0x31, 0, 0, 0, 1, 0, 0, 0, 0}, 11);
    b[0] = 11;
    example_reads(b, n, C, NULL, "P_0 of 6 bytes");
    /* a frame without a content size (FHD 0x00, window descriptor 0x00) */
    n = example_edit(b, EX_GT1, 6, (const uint8_t[]){0x00, 0x00, 0x09, 0, 0, 0x03}, 6);
    example_reads(b, n, C, NULL, "GT1 without a content size");
    /* a frame cut short, the directory made to agree */
    n = example_edit(b, EX_R8, 7, (const uint8_t[]){0x20, 2, 0x11, 0, 0, 0x03}, 6);
    b[4] = 6;
    example_reads(b, n, C, NULL, "R8's frame cut");

    /* every prefix of the example and of a larger stream is CORRUPT */
    int bad = 0;
    for (size_t len = 0; len < sizeof example_split; len++)
        bad += !example_reads(example_split, len, C, NULL, "a prefix of the example");
    size_t D = 10, lw = 7, lh = 3;
    int32_t sym[10 * 21];
    for (size_t i = 0; i < D * lw * lh; i++)
        sym[i] = test_symbol(i % 2);
    uint8_t *st = NULL;
    size_t size = 0;
    CHECK(aecb_split_write(NULL, sym, D, lw, lh, 3, &st, &size, NULL, 0) == AEC_OK);
    for (size_t len = 0; st && len < size; len++) {
        uint8_t *copy = malloc(len ? len : 1);
        memcpy(copy, st, len);
        char err[200];
        aec_status r = split_read_guarded(NULL, copy, len, D, lw, lh, NULL, err);
        CHECKF(r == C, "prefix of %zu of %zu bytes: %d", len, size, (int)r);
        bad += r != C;
        free(copy);
    }
    CHECKF(bad == 0, "%d prefixes not CORRUPT", bad);
    free(st);
}

/* Random section contents of the sizes 6.7 gives (each size follows from
 * the sections before it).  stray: one significance bit beyond channel D-1. */
static void random_sections(size_t D, size_t lw, size_t lh, int stray, spec_sections *s)
{
    size_t n = lw * lh, pd = spec_pd(D), G = spec_groups(D), k0 = pd + G;
    memset(s, 0, sizeof *s);
    s->count = spec_nsec(D);
    int extreme = next_random() % 4 == 0; /* high bytes 0xFF: the clamp */
    for (size_t d = 0; d < pd; d++) {
        uint8_t *b = spec_alloc(s, d, 2 * n);
        for (size_t j = 0; j < 2 * n; j++)
            b[j] = j < n ? (uint8_t)next_random() : extreme ? 0xFF : (uint8_t)(next_random() % 3);
    }
    size_t NZ = 0;
    for (size_t g = 0; g < G; g++) {
        size_t width = D - pd - 8 * g < 8 ? D - pd - 8 * g : 8;
        uint8_t *b = spec_alloc(s, pd + g, n);
        for (size_t j = 0; j < n; j++) {
            b[j] = (uint8_t)(next_random() & next_random() & ((1u << width) - 1));
            for (size_t k = 0; k < width; k++)
                NZ += (b[j] >> k) & 1;
        }
        if (stray && g == G - 1)
            b[next_random() % n] |= (uint8_t)(0x80u >> (next_random() % (8 - width)));
    }
    uint8_t *gt1 = spec_alloc(s, k0, (NZ + 7) / 8);
    size_t NL = 0, NE = 0;
    for (size_t i = 0; i < s->len[k0]; i++)
        gt1[i] = (uint8_t)next_random(); /* the unused high bits too */
    for (size_t i = 0; i < NZ; i++)
        NL += spec_bit(gt1, i);
    uint8_t *r8 = spec_alloc(s, k0 + 1, NL);
    for (size_t i = 0; i < NL; i++) {
        uint32_t r = next_random();
        r8[i] = r % 3 == 0 ? 255 : (uint8_t)(r >> 8);
        NE += r8[i] == 255;
    }
    uint8_t *r16 = spec_alloc(s, k0 + 2, 2 * NE);
    for (size_t i = 0; i < 2 * NE; i++)
        r16[i] = (uint8_t)(next_random() % 5 == 0 ? 0xFF : next_random() % 70);
    uint8_t *sign = spec_alloc(s, k0 + 3, (NZ + 7) / 8);
    for (size_t i = 0; i < s->len[k0 + 3]; i++)
        sign[i] = (uint8_t)next_random();
}

/* Any section contents of the right sizes are valid (6.7): the library
 * decodes random ones to the symbols the spec gives them, clamp included;
 * with a significance bit beyond channel D-1 they are CORRUPT. */
static void test_split_random_sections(void)
{
    static const size_t dims[] = {1, 2, 3, 5, 9, 10, 17, 64, 255};
    int bad = 0, stray_cases = 0;
    char err[200];
    for (int round = 0; round < 400; round++) {
        size_t D = dims[round % (sizeof dims / sizeof *dims)];
        size_t lw = 1 + next_random() % 9, lh = 1 + next_random() % 6, n = lw * lh;
        int stray = round % 3 == 2 && (D - spec_pd(D)) % 8 != 0;
        spec_sections sec;
        random_sections(D, lw, lh, stray, &sec);
        size_t size = 0;
        uint8_t *st = spec_split_stream(&sec, (size_t)(round % 4 == 1 ? 1 + round % 5 : 0), &size);
        int32_t *got = NULL, *want = malloc(sizeof(int32_t) * D * n);
        aec_status r = split_read_guarded(NULL, st, size, D, lw, lh, &got, err);
        int before = tl_failures_in_test;
        if (stray) {
            CHECKF(r == AEC_ERR_CORRUPT, "round %d, D=%zu: a stray significance bit: %d", round,
                   D, (int)r);
            stray_cases++;
        } else {
            spec_split_decode(&sec, D, lw, lh, want);
            CHECKF(r == AEC_OK && memcmp(got, want, sizeof(int32_t) * D * n) == 0,
                   "round %d, D=%zu %zux%zu: %d %s", round, D, lw, lh, (int)r, err);
        }
        bad += tl_failures_in_test != before;
        free(got), free(want), free(st);
        spec_free(&sec);
        if (bad > 5)
            break;
    }
    printf("  400 streams of random sections, %d with a stray significance bit\n", stray_cases);
    CHECK(stray_cases > 50);
}

/* Every single-bit change of a valid stream and random bytes: OK with
 * symbols in range, or CORRUPT; nothing read or written out of bounds. */
static void test_split_hostile(void)
{
    size_t D = 9, lw = 5, lh = 4, n = lw * lh;
    int32_t sym[9 * 20];
    for (size_t i = 0; i < D * n; i++)
        sym[i] = test_symbol(i % 3 == 0);
    uint8_t *st = NULL;
    size_t size = 0;
    char err[200];
    CHECK(aecb_split_write(NULL, sym, D, lw, lh, 3, &st, &size, NULL, 0) == AEC_OK);
    int corrupt = 0, ok = 0, other = 0;
    uint8_t *b = malloc(size ? size : 1);
    for (size_t bit = 0; st && bit < 8 * size; bit++) {
        memcpy(b, st, size);
        b[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        aec_status r = split_read_guarded(NULL, b, size, D, lw, lh, NULL, err);
        corrupt += r == AEC_ERR_CORRUPT, ok += r == AEC_OK;
        other += r != AEC_OK && r != AEC_ERR_CORRUPT;
    }
    free(b);
    printf("  %zu bit changes: %d CORRUPT, %d decoded\n", 8 * size, corrupt, ok);
    CHECK(other == 0 && corrupt > 0);
    for (int round = 0; round < 3000; round++) {
        size_t len = next_random() % 80, dd = 1 + next_random() % 255;
        uint8_t *junk = malloc(len ? len : 1);
        for (size_t i = 0; i < len; i++)
            junk[i] = (uint8_t)(round % 2 && i < 8 ? next_random() % 8 : next_random());
        aec_status r = split_read_guarded(NULL, junk, len, dd, 3, 2, NULL, err);
        other += r != AEC_OK && r != AEC_ERR_CORRUPT;
        free(junk);
    }
    CHECKF(other == 0, "%d statuses other than OK and CORRUPT", other);
    free(st);
}

/* Arguments the functions refuse. */
static void test_split_arguments(void)
{
    int32_t sym[6] = {0, 1, 2, 3, 4, 5};
    uint8_t work[64], *out = (uint8_t *)1;
    size_t size = 1;
    CHECK(aecb_split_read(NULL, NULL, 0, 3, 2, 1, work, sym, NULL, 0) ==
          AEC_ERR_INVALID_ARGUMENT);
    CHECK(aecb_split_read(NULL, example_split, sizeof example_split, 3, 2, 1, NULL, sym, NULL,
                          0) == AEC_ERR_INVALID_ARGUMENT);
    CHECK(aecb_split_read(NULL, example_split, sizeof example_split, 3, 2, 1, work, NULL, NULL,
                          0) == AEC_ERR_INVALID_ARGUMENT);
    CHECK(aecb_split_read(NULL, example_split, sizeof example_split, 0, 2, 1, work, sym, NULL,
                          0) == AEC_ERR_INVALID_ARGUMENT);
    CHECK(aecb_split_read(NULL, example_split, sizeof example_split, 256, 2, 1, work, sym, NULL,
                          0) == AEC_ERR_INVALID_ARGUMENT);
    CHECK(aecb_split_read(NULL, example_split, sizeof example_split, 3, 0, 1, work, sym, NULL,
                          0) == AEC_ERR_INVALID_ARGUMENT);
    CHECK(aecb_split_write(NULL, sym, 0, 2, 1, 3, &out, &size, NULL, 0) ==
          AEC_ERR_INVALID_ARGUMENT);
    CHECK(aecb_split_write(NULL, sym, 3, 2, 0, 3, &out, &size, NULL, 0) ==
          AEC_ERR_INVALID_ARGUMENT);
    /* symbols beyond +-16383 cannot be written */
    char err[200] = "";
    sym[4] = AEM_LATTICE_MAX_SYMBOL + 1;
    CHECK(aecb_split_write(NULL, sym, 3, 2, 1, 3, &out, &size, err, sizeof err) ==
              AEC_ERR_INVALID_ARGUMENT && out == NULL && size == 0 && strstr(err, "16384"));
    sym[4] = 4, sym[1] = -AEM_LATTICE_MAX_SYMBOL - 1;
    CHECK(aecb_split_write(NULL, sym, 3, 2, 1, 3, &out, &size, NULL, 0) ==
              AEC_ERR_INVALID_ARGUMENT && out == NULL);
}

/* ---- lattice layers (spec/bitstream.md 6.9) -------------------------------
 * A layer's stream codes the D channels first .. first + D - 1 of the
 * latent: of them only those below channel 2 (AEM_LATTICE_PREDICTED) are
 * predicted, so a stream from channel 2 on (every layer but layer 0) has no
 * predicted section, and one from channel 1 has one. */

/* Channels of a stream of D from channel `first` that 6.9 predicts. */
static size_t spec_pd_at(size_t first, size_t D)
{
    return first >= 2 ? 0 : D < 2 - first ? D : 2 - first;
}

/* The zigzag code of v (6.6). */
static uint32_t spec_zigzag(int32_t v)
{
    return v >= 0 ? 2u * (uint32_t)v : 2u * (uint32_t)(-v) - 1u;
}

/* Sizes of streams from channel `first`, against 6.7's formulas with the
 * predicted channels of 6.9; those from channel 0 are the plain ones. */
static void test_split_layer_sizes(void)
{
    /* worked out by hand: predicted + groups of 8 + the four last sections */
    CHECK(aecb_split_predicted(0, 8) == 2 && aecb_split_predicted(0, 1) == 1);
    CHECK(aecb_split_predicted(1, 8) == 1 && aecb_split_predicted(1, 1) == 1);
    CHECK(aecb_split_predicted(2, 8) == 0 && aecb_split_predicted(8, 8) == 0);
    CHECK(aecb_split_predicted(32, 32) == 0 && aecb_split_predicted(128, 127) == 0);
    CHECK(aecb_split_sections_at(8, 8) == 5);      /* 0 + 1 + 4: layer 1 */
    CHECK(aecb_split_sections_at(16, 16) == 6);    /* 0 + 2 + 4: layer 2 */
    CHECK(aecb_split_sections_at(32, 32) == 8);    /* 0 + 4 + 4: layer 3 */
    CHECK(aecb_split_sections_at(128, 127) == 20); /* 0 + 16 + 4: layer 5 of 255 */
    CHECK(aecb_split_sections_at(0, 8) == 7 && aecb_split_sections(8) == 7); /* 2 + 1 + 4 */
    CHECK(aecb_split_sections_at(1, 8) == 6);      /* 1 + 1 + 4 */
    CHECK(aecb_split_sections_at(1, 1) == 5);      /* 1 + 0 + 4 */
    CHECK(aecb_split_sections_at(2, 1) == 5);      /* 0 + 1 + 4 */
    static const size_t firsts[] = {0, 1, 2, 8, 16, 32, 64, 128};
    static const size_t dims[] = {1, 2, 3, 8, 9, 16, 32, 64, 127};
    static const size_t ns[] = {1, 21, 4096, 1u << 20};
    int bad = 0;
    for (size_t a = 0; a < sizeof firsts / sizeof *firsts; a++)
        for (size_t b = 0; b < sizeof dims / sizeof *dims; b++) {
            size_t first = firsts[a], D = dims[b], pd = spec_pd_at(first, D);
            int before = tl_failures_in_test;
            CHECKF(aecb_split_predicted(first, D) == pd, "first %zu D=%zu: %zu predicted", first,
                   D, aecb_split_predicted(first, D));
            CHECKF(aecb_split_sections_at(first, D) == pd + (D - pd + 7) / 8 + 4,
                   "first %zu D=%zu: %zu sections", first, D, aecb_split_sections_at(first, D));
            if (first == 0)
                CHECK(aecb_split_sections_at(0, D) == aecb_split_sections(D));
            for (size_t c = 0; c < sizeof ns / sizeof *ns; c++) {
                size_t n = ns[c], R = (D - pd) * n, wb = aecb_split_work_bytes_at(first, D, n);
                CHECKF(aecb_split_bound_at(first, D, n) == spec_split_bound_pd(D, pd, n),
                       "first %zu D=%zu n=%zu: bound %llu", first, D, n,
                       (unsigned long long)aecb_split_bound_at(first, D, n));
                CHECKF(wb >= 2 * n && wb >= 2 * ((R + 7) / 8) + 3 * R + 8 &&
                           wb <= 2 * n + 4 * R + 16,
                       "first %zu D=%zu n=%zu: work %zu bytes", first, D, n, wb);
                if (first == 0)
                    CHECK(aecb_split_bound_at(0, D, n) == aecb_split_bound(D, n) &&
                          wb == aecb_split_work_bytes(D, n));
            }
            bad += tl_failures_in_test != before;
        }
    CHECKF(bad == 0, "%d (first, D) pairs with other sizes than 6.7 and 6.9 give", bad);
}

/* Round trips of random symbols through aecb_split_write_at and
 * aecb_split_read_at for streams from channel 0, 1, 8 and 32 (layers 0, 1,
 * 3 start at 0, 8, 32): the writer's sections are those of 6.7 with the
 * predicted channels of 6.9, byte for byte, its stream within
 * aecb_split_bound_at and the same from aecb_split_write_tasks_at; the
 * reader decodes it and a stream assembled here from the spec's sections. */
static void test_split_layer_round_trip(void)
{
    static const size_t firsts[] = {0, 1, 8, 32};
    static const size_t dims[] = {1, 3, 8, 9, 32};
    static const size_t shapes[][2] = {{1, 1}, {7, 3}, {16, 16}};
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    int cases = 0, bad = 0;
    char err[200];
    for (size_t a = 0; a < sizeof firsts / sizeof *firsts; a++)
        for (size_t b = 0; b < sizeof dims / sizeof *dims; b++)
            for (size_t c = 0; c < sizeof shapes / sizeof *shapes; c++) {
                size_t first = firsts[a], D = dims[b], lw = shapes[c][0], lh = shapes[c][1];
                size_t n = lw * lh, pd = spec_pd_at(first, D);
                int dense = cases % 2, before = tl_failures_in_test;
                int32_t *sym = malloc(sizeof(int32_t) * D * n);
                for (size_t i = 0; i < D * n; i++)
                    sym[i] = test_symbol(dense);
                if (dense && D * n > 2) /* extremes side by side */
                    sym[0] = AEM_LATTICE_MAX_SYMBOL, sym[1] = -AEM_LATTICE_MAX_SYMBOL;
                uint8_t *st = NULL, *tasks = NULL;
                size_t size = 0, tsize = 0;
                aec_status w = aecb_split_write_at(cases % 3 ? cctx : NULL, sym, first, D, lw, lh,
                                                   1 + cases % 3, &st, &size, err, sizeof err);
                CHECKF(w == AEC_OK, "first %zu D=%zu %zux%zu: write: %s", first, D, lw, lh, err);
                CHECK(aecb_split_write_tasks_at(sym, first, D, lw, lh, 1 + cases % 3, &tasks,
                                                &tsize, NULL, 0) == AEC_OK);
                if (w != AEC_OK || !st) {
                    free(sym), free(tasks);
                    bad++;
                    continue;
                }
                CHECKF(tasks && tsize == size && memcmp(tasks, st, size) == 0,
                       "first %zu D=%zu %zux%zu: the tasks' bytes differ", first, D, lw, lh);
                CHECKF(size <= aecb_split_bound_at(first, D, n),
                       "first %zu D=%zu %zux%zu: %zu bytes above the bound %llu", first, D, lw,
                       lh, size, (unsigned long long)aecb_split_bound_at(first, D, n));
                if (first == 0) { /* the stream of channels 0.. is the plain one */
                    uint8_t *plain = NULL;
                    size_t psize = 0;
                    CHECK(aecb_split_write(NULL, sym, D, lw, lh, 1 + cases % 3, &plain, &psize,
                                           NULL, 0) == AEC_OK);
                    CHECK(plain && psize == size && memcmp(plain, st, size) == 0);
                    free(plain);
                }
                spec_sections sec;
                spec_split_sections_pd(sym, D, pd, lw, lh, &sec);
                CHECK(sec.count == aecb_split_sections_at(first, D));
                CHECKF(same_sections(st, size, &sec) == 0,
                       "first %zu D=%zu %zux%zu: the writer's sections are not the spec's", first,
                       D, lw, lh);
                int32_t *back = NULL;
                aec_status r = split_read_guarded_ex(cases % 2 ? dctx : NULL, st, size, 1, first,
                                                     D, lw, lh, &back, err);
                CHECKF(r == AEC_OK && memcmp(back, sym, sizeof(int32_t) * D * n) == 0,
                       "first %zu D=%zu %zux%zu: read back: %d %s", first, D, lw, lh, (int)r, err);
                free(back);
                size_t ssize = 0;
                uint8_t *sp = spec_split_stream(&sec, (size_t)(cases % 4 == 0 ? 3 : 0), &ssize);
                r = split_read_guarded_ex(dctx, sp, ssize, 1, first, D, lw, lh, &back, err);
                CHECKF(r == AEC_OK && memcmp(back, sym, sizeof(int32_t) * D * n) == 0,
                       "first %zu D=%zu %zux%zu: the spec's stream: %d %s", first, D, lw, lh,
                       (int)r, err);
                free(back);
                back = malloc(sizeof(int32_t) * D * n);
                spec_split_decode_pd(&sec, D, pd, lw, lh, back);
                CHECK(memcmp(back, sym, sizeof(int32_t) * D * n) == 0);
                free(back);
                /* read as a stream of another first, it does not give the
                 * symbols back (another count of sections or of predicted
                 * channels) */
                if (pd > 0 || D > 2) {
                    size_t other = first < 2 ? 8 : 0;
                    r = split_read_guarded_ex(NULL, st, size, 1, other, D, lw, lh, &back, err);
                    CHECKF(r != AEC_OK || memcmp(back, sym, sizeof(int32_t) * D * n) != 0,
                           "first %zu D=%zu %zux%zu: read as from channel %zu", first, D, lw, lh,
                           other);
                    free(back);
                }
                spec_free(&sec);
                free(sp), free(st), free(tasks), free(sym);
                bad += tl_failures_in_test != before;
                cases++;
            }
    printf("  %d layer round trips, %d failed\n", cases, bad);
    CHECK(cases == 60 && bad == 0);
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
}

/* From channel 1 one channel is predicted: the first section of a stream of
 * ramps (6 + x + 2y in every channel) holds the MED residuals of its first
 * channel (1 at most, aem_lattice_pack's planes of that one channel), the
 * next the significance of the other two; from channel 2 on the
 * significance comes first, and from channel 0 two channels are predicted. */
static void test_split_layer_predicted(void)
{
    size_t D = 3, lw = 8, lh = 8, n = lw * lh;
    int32_t sym[3 * 64];
    uint8_t pred[2 * 64];
    for (size_t d = 0; d < D; d++)
        for (size_t j = 0; j < n; j++)
            sym[d * n + j] = 6 + (int32_t)(j % lw) + 2 * (int32_t)(j / lw);
    aem_lattice_pack(sym, 1, lw, lh, pred);
    static const size_t firsts[] = {0, 1, 2, 8};
    for (size_t a = 0; a < sizeof firsts / sizeof *firsts; a++) {
        size_t first = firsts[a], pd = 2 - (first < 2 ? first : 2);
        uint8_t *st = NULL;
        size_t size = 0;
        CHECK(aecb_split_write_at(NULL, sym, first, D, lw, lh, 19, &st, &size, NULL, 0) == AEC_OK);
        if (!st)
            continue;
        unsigned long long sz[MAXSEC];
        CHECKF(tl_split_directory(st, size, pd + 1 + 4, sz) > 0, "first %zu", first);
        spec_sections sec, wrong;
        spec_split_sections_pd(sym, D, pd, lw, lh, &sec);
        CHECKF(same_sections(st, size, &sec) == 0, "first %zu: not %zu predicted channels",
               first, pd);
        for (size_t k = 0; k < pd; k++) /* each predicted channel's residuals */
            CHECK(sec.len[k] == 2 * n && memcmp(sec.raw[k], pred, 2 * n) == 0);
        /* the significance of the other channels: all of them are non-zero */
        CHECK(sec.len[pd] == n && sec.raw[pd][0] == (1u << (D - pd)) - 1u);
        if (pd != 1) { /* one predicted channel fewer or more: other sections */
            spec_split_sections_pd(sym, D, 1, lw, lh, &wrong);
            CHECK(same_sections(st, size, &wrong) != 0);
            spec_free(&wrong);
        }
        spec_free(&sec);
        free(st);
    }
}

/* aem_lattice_pack_at / unpack_at: a round trip for any first; from
 * channel 0 the bytes of aem_lattice_pack; from channel 2 on the plain
 * zigzag codes of the symbols (no prediction), low bytes then high bytes;
 * from channel 1 its first channel predicted; and a layer's planes are
 * the planes of those channels in the whole tile's. */
static void test_pack_at(void)
{
    static const size_t firsts[] = {0, 1, 2, 8, 32};
    static const size_t shapes[][3] = {{1, 1, 1}, {5, 3, 3}, {8, 8, 8}, {4, 7, 2}};
    int bad = 0;
    for (size_t a = 0; a < sizeof firsts / sizeof *firsts; a++)
        for (size_t k = 0; k < sizeof shapes / sizeof *shapes; k++) {
            size_t first = firsts[a], lw = shapes[k][0], lh = shapes[k][1], D = shapes[k][2];
            size_t n = lw * lh;
            int before = tl_failures_in_test;
            int32_t *sym = malloc(sizeof(int32_t) * D * n), *back = malloc(sizeof(int32_t) * D * n);
            uint8_t *planes = malloc(2 * D * n), *ref = malloc(2 * D * n);
            for (size_t i = 0; i < D * n; i++)
                sym[i] = test_symbol((int)(i % 2));
            if (D * n > 2)
                sym[0] = AEM_LATTICE_MAX_SYMBOL, sym[1] = -AEM_LATTICE_MAX_SYMBOL;
            aem_lattice_pack_at(sym, first, D, lw, lh, planes);
            aem_lattice_unpack_at(planes, first, D, lw, lh, back);
            CHECKF(memcmp(sym, back, sizeof(int32_t) * D * n) == 0,
                   "first %zu %zux%zu D=%zu: round trip", first, lw, lh, D);
            if (first == 0) {
                aem_lattice_pack(sym, D, lw, lh, ref);
                CHECK(memcmp(planes, ref, 2 * D * n) == 0);
            }
            for (size_t d = 0; d < D; d++) {
                int predicted = first + d < 2;
                uint8_t one[2 * 64];
                if (predicted) /* the one channel's planes of aem_lattice_pack */
                    aem_lattice_pack(sym + d * n, 1, lw, lh, one);
                for (size_t j = 0; j < n; j++) {
                    uint32_t u = spec_zigzag(sym[d * n + j]);
                    uint8_t lo = predicted ? one[j] : (uint8_t)u;
                    uint8_t hi = predicted ? one[n + j] : (uint8_t)(u >> 8);
                    if (planes[d * n + j] != lo || planes[D * n + d * n + j] != hi) {
                        CHECKF(0, "first %zu %zux%zu D=%zu: channel %zu latent %zu", first, lw,
                               lh, D, d, j);
                        break;
                    }
                }
            }
            bad += tl_failures_in_test != before;
            free(sym), free(back), free(planes), free(ref);
        }
    CHECKF(bad == 0, "%d cases failed", bad);
    /* the layers' planes of a tile of 40 channels (0-7, 8-15, 16-31, 32-39)
     * are the whole tile's planes of their channels */
    size_t D = 40, lw = 6, lh = 5, n = lw * lh;
    static const size_t cuts[] = {0, 8, 16, 32, 40};
    int32_t *sym = malloc(sizeof(int32_t) * D * n), *back = malloc(sizeof(int32_t) * D * n);
    uint8_t *whole = malloc(2 * D * n), *layer = malloc(2 * D * n);
    for (size_t i = 0; i < D * n; i++)
        sym[i] = test_symbol(1);
    aem_lattice_pack(sym, D, lw, lh, whole);
    for (size_t l = 0; l < 4; l++) {
        size_t f = cuts[l], c = cuts[l + 1] - f;
        aem_lattice_pack_at(sym + f * n, f, c, lw, lh, layer);
        CHECKF(memcmp(layer, whole + f * n, c * n) == 0 &&
                   memcmp(layer + c * n, whole + D * n + f * n, c * n) == 0,
               "layer %zu: other planes than the whole tile's", l);
        aem_lattice_unpack_at(layer, f, c, lw, lh, back + f * n);
    }
    CHECK(memcmp(back, sym, sizeof(int32_t) * D * n) == 0);
    /* hostile bytes from channel 8 on: symbols within range */
    memset(layer, 0xFF, 2 * 8 * n);
    aem_lattice_unpack_at(layer, 8, 8, lw, lh, back);
    int range = 1;
    for (size_t i = 0; i < 8 * n; i++)
        range &= back[i] >= -AEM_LATTICE_MAX_SYMBOL && back[i] <= AEM_LATTICE_MAX_SYMBOL;
    CHECK(range && back[0] == -AEM_LATTICE_MAX_SYMBOL);
    free(sym), free(back), free(whole), free(layer);
}

/* The encoder's offsets: the first AEM_LATTICE_DETAIL_FROM channels and
 * every channel at the middle steps round with AEM_LATTICE_ROUNDING; the
 * detail channels' offset falls with the step to
 * AEM_LATTICE_DETAIL_ROUNDING, never rising; at the finest steps every
 * channel's rises to AEM_LATTICE_TOP_ROUNDING, never falling as the step
 * shrinks; and each rounds as its offset says. */
static void test_detail_rounding(void)
{
    for (int d = 0; d < AEM_LATTICE_DETAIL_FROM; d++)
        CHECK(aem_lattice_rounding(d, 0.9f) == AEM_LATTICE_ROUNDING);
    CHECK(aem_lattice_rounding(AEM_LATTICE_DETAIL_FROM, 0.2f) == AEM_LATTICE_ROUNDING);
    CHECK(aem_lattice_rounding(0, AEM_LATTICE_MID_STEP) == AEM_LATTICE_ROUNDING);
    for (int d = 0; d < 64; d += 9)
        CHECK(aem_lattice_rounding(d, AEM_LATTICE_TOP_STEP) == AEM_LATTICE_TOP_ROUNDING &&
              aem_lattice_rounding(d, 0.03f) == AEM_LATTICE_TOP_ROUNDING);
    float top = 0.0f;
    int rises = 1;
    for (float step = 0.2f; step > 0.02f; step -= 0.005f) {
        float r = aem_lattice_rounding(63, step);
        rises &= r >= top && r >= AEM_LATTICE_ROUNDING && r <= AEM_LATTICE_TOP_ROUNDING;
        top = r;
    }
    CHECK(rises);
    CHECK(aem_lattice_rounding(63, AEM_LATTICE_DETAIL_FINE) == AEM_LATTICE_ROUNDING);
    CHECK(aem_lattice_rounding(63, 0.85f) == AEM_LATTICE_DETAIL_ROUNDING);
    CHECK(aem_lattice_rounding(63, AEM_LATTICE_DETAIL_COARSE) == AEM_LATTICE_DETAIL_ROUNDING);
    float last = 1.0f;
    int falls = 1;
    for (float step = 0.2f; step < 0.6f; step += 0.01f) {
        float r = aem_lattice_rounding(AEM_LATTICE_DETAIL_FROM, step);
        falls &= r <= last && r >= AEM_LATTICE_DETAIL_ROUNDING && r <= AEM_LATTICE_ROUNDING;
        last = r;
    }
    CHECK(falls);
    /* at step 1 with offset 0.10: 0.89 rounds to 0, 0.91 to 1 */
    CHECK(aem_lattice_symbol_rounded(0.89f, 1.0f, 0.10f) == 0);
    CHECK(aem_lattice_symbol_rounded(0.91f, 1.0f, 0.10f) == 1);
    CHECK(aem_lattice_symbol_rounded(-1.91f, 1.0f, 0.10f) == -2);
}

/* Sparse groups of the detail channels are emptied when what they add is
 * worth less than their bits; groups with a larger symbol, with three
 * symbols, above the budget, or among the first channels are kept. */
static void test_sparse_groups(void)
{
    enum { D = 24, N = 6 };
    float step = 0.3f, T = aem_lattice_sparse_threshold(step);
    CHECK(T > 1.0f - aem_lattice_rounding(AEM_LATTICE_DETAIL_FROM, step));
    CHECK(aem_lattice_sparse_threshold(0.1f) < aem_lattice_sparse_threshold(0.9f));
    float z[D * N] = {0};
    /* u = |z| / step, in step units, for latent i and channel d */
#define AT(d, i) z[(d) * N + (i)]
    AT(9, 0) = 0.95f * T * step;    /* a lone +-1 under T: dropped */
    AT(9, 1) = -1.05f * T * step;   /* a lone one over T: kept */
    AT(10, 2) = 0.8f * step;        /* a pair whose added error is small: dropped */
    AT(17, 2) = 0.95f * T * step;   /* (another group: a lone one, dropped) */
    AT(11, 2) = -0.8f * step;
    AT(12, 3) = 0.95f * T * step;   /* beside a +-2: the group is kept */
    AT(13, 3) = 2.0f * step;
    AT(8, 4) = AT(9, 4) = AT(10, 4) = 0.9f * step; /* three: kept */
    AT(3, 5) = 0.9f * step;         /* channels below the detail ones: kept */
    int32_t sym[D * N];
    aem_lattice_symbols(z, NULL, D, N, step, sym);
    CHECK(sym[9 * N + 0] == 0);
    CHECK(sym[9 * N + 1] == -1);
    CHECK(sym[10 * N + 2] == 0 && sym[11 * N + 2] == 0 && sym[17 * N + 2] == 0);
    CHECK(sym[12 * N + 3] == 1 && sym[13 * N + 3] == 2);
    CHECK(sym[8 * N + 4] == 1 && sym[9 * N + 4] == 1 && sym[10 * N + 4] == 1);
    CHECK(sym[3 * N + 5] == 1);
    /* the same values as a residual z - q give the same symbols */
    float q[D * N], zq[D * N];
    for (int k = 0; k < D * N; k++)
        q[k] = 0.25f * (float)(k % 7), zq[k] = z[k] + q[k];
    int32_t sym2[D * N];
    aem_lattice_symbols(zq, q, D, N, step, sym2);
    CHECK(memcmp(sym, sym2, sizeof sym) == 0);
#undef AT
}

int main(void)
{
    RUN_TEST(test_symbol_rounding);
    RUN_TEST(test_detail_rounding);
    RUN_TEST(test_sparse_groups);
    RUN_TEST(test_pack_round_trip);
    RUN_TEST(test_unpack_hostile);
    RUN_TEST(test_split_sizes);
    RUN_TEST(test_split_round_trip);
    RUN_TEST(test_split_tasks_same_bytes);
    RUN_TEST(test_split_spec_example);
    RUN_TEST(test_split_corrupt);
    RUN_TEST(test_split_random_sections);
    RUN_TEST(test_split_hostile);
    RUN_TEST(test_split_arguments);
    RUN_TEST(test_split_layer_sizes);
    RUN_TEST(test_split_layer_round_trip);
    RUN_TEST(test_split_layer_predicted);
    RUN_TEST(test_pack_at);
    TEST_EXIT();
}
