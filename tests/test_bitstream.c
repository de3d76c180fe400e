/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_bitstream.c - tests of the bitstream v1 container (codec/bitstream):
 * header/table round trips, CRC-32, truncation, bit flips, limits, the zstd
 * frame helpers and the alpha filter.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testlib.h"
#include "bitstream/container.h"
#include "bitstream/lattice_stream.h"
#include "bitstream/zstream.h"
#include "vq/lattice.h"

/* ---- helpers ------------------------------------------------------------ */

static uint32_t tb_rng_state = 12345u;
static uint32_t tb_rand(void)
{
    tb_rng_state = tb_rng_state * 1664525u + 1013904223u;
    return tb_rng_state >> 8;
}

static uint32_t tb_crc_bitwise(const uint8_t *p, size_t n)
{
    uint32_t c = 0xFFFFFFFFu;
    for (size_t i = 0; i < n; i++) {
        c ^= p[i];
        for (int k = 0; k < 8; k++)
            c = (c & 1) ? (c >> 1) ^ 0xEDB88320u : c >> 1;
    }
    return ~c;
}

static void tb_put32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static void tb_put64(uint8_t *p, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}
static uint32_t tb_get32(const uint8_t *p)
{
    return (uint32_t)p[0] | ((uint32_t)p[1] << 8) | ((uint32_t)p[2] << 16) |
           ((uint32_t)p[3] << 24);
}
/* Recompute the header CRC of a file buffer whose header fields were edited. */
static void tb_fix_crc(uint8_t *buf, uint32_t table_bytes)
{
    uint32_t c = aecb_crc32(0, buf, 44);
    c = aecb_crc32(c, buf + 48, table_bytes);
    tb_put32(buf + 44, c);
}

/* Stream i of h: 1..maxsz random bytes (within its bound). */
static void tb_random_stream(aecb_header *h, uint32_t i, uint32_t maxsz, uint8_t **streams)
{
    uint32_t sz = 1 + tb_rand() % maxsz;
    if (sz > aecb_stream_bound(h, i))
        sz = (uint32_t)aecb_stream_bound(h, i);
    h->sizes[i] = sz;
    streams[i] = malloc(sz);
    for (uint32_t k = 0; k < sz; k++)
        streams[i][k] = (uint8_t)tb_rand();
}

/* The file of h's streams (h->sizes set); frees them; *hout keeps h. */
static uint8_t *tb_assemble(aecb_header *h, uint8_t **streams, aecb_header *hout, size_t *size)
{
    uint8_t *out = NULL;
    CHECK(aecb_write(h, (const uint8_t *const *)streams, &out, size) == AEC_OK);
    for (uint32_t i = 0; i < h->n_streams; i++)
        free(streams[i]);
    free(streams);
    *hout = *h;
    return out;
}

/* Build a file whose streams are random bytes of random sizes (1..maxsz,
 * within each stream's bound).  Returns the buffer; *hout keeps the header
 * (free with aecb_header_free). */
static uint8_t *tb_make_file_ex(uint32_t w, uint32_t hgt, uint8_t layout, uint8_t stages,
                                uint16_t tile, uint8_t extra_flags, uint8_t lattice_dim,
                                uint32_t lattice_step_q, uint32_t maxsz, aecb_header *hout,
                                size_t *size)
{
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = w;
    h.height = hgt;
    h.layout = layout;
    h.stages = stages;
    h.tile_size = tile;
    h.block_size = 8;
    h.flags = (uint8_t)(((layout == 2 || layout == 4) ? AECB_FLAG_ALPHA : 0) | extra_flags);
    h.lattice_dim = lattice_dim;
    h.lattice_step_q = lattice_step_q;
    h.model_id = 0x0123456789ABCDEFull ^ w ^ ((uint64_t)hgt << 40);
    char err[200];
    aec_status st = aecb_header_init(&h, err, sizeof err);
    CHECKF(st == AEC_OK, "init %ux%u: %s", w, hgt, err);
    if (st != AEC_OK)
        return NULL;
    uint8_t **streams = calloc(h.n_streams, sizeof *streams);
    for (uint32_t i = 0; i < h.n_streams; i++)
        tb_random_stream(&h, i, maxsz, streams);
    return tb_assemble(&h, streams, hout, size);
}
static uint8_t *tb_make_file(uint32_t w, uint32_t hgt, uint8_t layout, uint8_t stages,
                             uint16_t tile, uint8_t extra_flags, uint32_t maxsz,
                             aecb_header *hout, size_t *size)
{
    return tb_make_file_ex(w, hgt, layout, stages, tile, extra_flags, 0, 0, maxsz, hout, size);
}

/* ---- tests -------------------------------------------------------------- */

static void test_crc32_vectors(void)
{
    CHECK(aecb_crc32(0, "123456789", 9) == 0xCBF43926u);
    CHECK(aecb_crc32(0, "", 0) == 0);
    CHECK(aecb_crc32(0, "a", 1) == 0xE8B7BE43u);
    CHECK(aecb_crc32(0, "The quick brown fox jumps over the lazy dog", 43) == 0x414FA339u);
    /* chaining like zlib */
    CHECK(aecb_crc32(aecb_crc32(0, "1234", 4), "56789", 5) == 0xCBF43926u);
    uint8_t buf[1000];
    for (size_t i = 0; i < sizeof buf; i++)
        buf[i] = (uint8_t)tb_rand();
    for (size_t n = 0; n <= sizeof buf; n += 37)
        CHECK(aecb_crc32(0, buf, n) == tb_crc_bitwise(buf, n));
}

static void test_header_roundtrip(void)
{
    static const uint32_t dims[][2] = {{1, 1},     {7, 9},      {64, 64},  {65, 64},
                                       {513, 300}, {1000, 1},   {1, 2049}, {1024, 1024},
                                       {1025, 7},  {65535, 1}};
    static const uint16_t tiles[] = {64, 192, 512, 1024};
    static const uint8_t stagesv[] = {1, 3, 16};
    for (size_t d = 0; d < sizeof dims / sizeof dims[0]; d++)
        for (size_t t = 0; t < sizeof tiles / sizeof tiles[0]; t++)
            for (size_t s = 0; s < sizeof stagesv / sizeof stagesv[0]; s++)
                for (uint8_t layout = 1; layout <= 4; layout++) {
                    uint32_t W = dims[d][0], H = dims[d][1];
                    uint16_t T = tiles[t];
                    uint8_t S = stagesv[s];
                    uint8_t extra = (layout == 3) ? AECB_FLAG_DICT : 0;
                    aecb_header h;
                    size_t size = 0;
                    uint8_t *file = tb_make_file(W, H, layout, S, T, extra, 40, &h, &size);
                    if (!file)
                        continue;
                    CHECK(size == h.file_size);
                    uint32_t tx = (W + T - 1) / T, ty = (H + T - 1) / T;
                    int alpha = layout == 2 || layout == 4;
                    CHECK(h.tiles_x == tx && h.tiles_y == ty && h.n_tiles == tx * ty);
                    CHECK(h.n_streams == (uint32_t)alpha + S * tx * ty);
                    aecb_header p;
                    char err[200] = "";
                    aec_status st = aecb_parse(file, size, NULL, &p, err, sizeof err);
                    CHECKF(st == AEC_OK, "%ux%u T%u S%u L%u: %s", W, H, T, S, layout, err);
                    if (st == AEC_OK) {
                        CHECK(p.width == W && p.height == H && p.layout == layout);
                        CHECK(p.stages == S && p.stages_available == S);
                        CHECK(p.tile_size == T && p.block_size == 8);
                        CHECK(p.flags == h.flags && p.model_id == h.model_id);
                        CHECK(p.file_size == size && p.n_streams == h.n_streams);
                        CHECK(p.header_bytes == 48 && p.table_bytes == 8 * p.n_streams);
                        int same = 1;
                        for (uint32_t i = 0; i < p.n_streams; i++) {
                            same &= p.sizes[i] == h.sizes[i] && p.crcs[i] == h.crcs[i] &&
                                    p.offsets[i] == h.offsets[i];
                            same &= aecb_check_stream(&p, file, size, i, err, sizeof err) ==
                                    AEC_OK;
                        }
                        CHECK(same);
                        aecb_header_free(&p);
                    }
                    aecb_header_free(&h);
                    free(file);
                }
}

static void test_layout_bytes(void)
{
    /* Byte positions as spec/bitstream.md documents them. */
    aecb_header h;
    size_t size;
    uint8_t *f = tb_make_file(300, 200, 4, 2, 128, AECB_FLAG_DICT, 20, &h, &size);
    if (!f)
        return;
    CHECK(f[0] == 0x8B && f[1] == 'A' && f[2] == 'E' && f[3] == 'C');
    CHECK(f[4] == 1 && f[5] == 4 && f[6] == 2 && f[7] == 3);
    CHECK(tb_get32(f + 8) == 300 && tb_get32(f + 12) == 200);
    CHECK(f[16] == 128 && f[17] == 0 && f[18] == 8 && f[19] == 0);
    CHECK(tb_get32(f + 20) == 1 + 2 * 3 * 2);
    CHECK(tb_get32(f + 24) == (uint32_t)h.model_id && tb_get32(f + 28) == h.model_id >> 32);
    CHECK(tb_get32(f + 32) == size && tb_get32(f + 36) == 0 && tb_get32(f + 40) == 0);
    uint32_t c = tb_crc_bitwise(f, 44);
    /* CRC over header[0..43] then the table, as one byte sequence */
    uint8_t *tmp = malloc(44 + h.table_bytes);
    memcpy(tmp, f, 44);
    memcpy(tmp + 44, f + 48, h.table_bytes);
    c = tb_crc_bitwise(tmp, 44 + h.table_bytes);
    CHECK(tb_get32(f + 44) == c);
    free(tmp);
    uint64_t off = 48 + h.table_bytes;
    for (uint32_t i = 0; i < h.n_streams; i++) {
        CHECK(tb_get32(f + 48 + 8 * i) == h.sizes[i]);
        CHECK(tb_get32(f + 52 + 8 * i) == tb_crc_bitwise(f + off, h.sizes[i]));
        off += h.sizes[i];
    }
    CHECK(off == size);
    /* stream order: alpha, then stage-major tiles */
    CHECK(aecb_stream_index(&h, 0, 0) == 1 && aecb_stream_index(&h, 0, 5) == 6);
    CHECK(aecb_stream_index(&h, 1, 0) == 7 && aecb_stream_index(&h, 1, 5) == 12);
    aecb_header_free(&h);
    free(f);
}

static void test_geometry(void)
{
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = 1000;
    h.height = 530;
    h.layout = 3;
    h.stages = 4;
    h.tile_size = 512;
    h.block_size = 8;
    CHECK(aecb_header_init(&h, NULL, 0) == AEC_OK);
    CHECK(h.tiles_x == 2 && h.tiles_y == 2 && h.n_tiles == 4 && h.n_streams == 16);
    uint32_t x0, y0, w, hh, lw, lh;
    aecb_tile_rect(&h, 3, &x0, &y0, &w, &hh);
    CHECK(x0 == 512 && y0 == 512 && w == 488 && hh == 18);
    aecb_tile_latents(&h, 3, &lw, &lh);
    CHECK(lw == 61 && lh == 3);
    aecb_tile_latents(&h, 0, &lw, &lh);
    CHECK(lw == 64 && lh == 64);
    CHECK(aecb_stream_raw_size(&h, aecb_stream_index(&h, 2, 1)) == 61 * 64);
    CHECK(aecb_stream_bound(&h, 0) == aecb_compress_bound(4096));
    CHECK(aecb_stream_index(&h, 3, 3) == 15);
    aecb_header_free(&h);
    /* compress_bound equals zstd's for the sizes that matter */
    static const uint64_t ns[] = {0, 1, 100, 4096, 131071, 131072, 131073, 1000000, 1u << 28};
    for (size_t i = 0; i < sizeof ns / sizeof ns[0]; i++)
        CHECK(aecb_compress_bound(ns[i]) == ZSTD_compressBound((size_t)ns[i]));
}

static void test_init_rejects(void)
{
    struct {
        uint32_t w, h;
        uint8_t layout, stages, flags, block;
        uint16_t tile;
    } bad[] = {
        {0, 10, 3, 1, 0, 8, 64},       {10, 70000, 3, 1, 0, 8, 64}, {10, 10, 0, 1, 0, 8, 64},
        {10, 10, 5, 1, 0, 8, 64},      {10, 10, 3, 0, 0, 8, 64},    {10, 10, 3, 17, 0, 8, 64},
        {10, 10, 3, 1, 1, 8, 64},      {10, 10, 4, 1, 0, 8, 64},    {10, 10, 3, 1, 4, 8, 64},
        {10, 10, 3, 1, 0, 8, 100},     {10, 10, 3, 1, 0, 8, 0},     {10, 10, 3, 1, 0, 8, 1088},
        {10, 10, 3, 1, 0, 0, 64},      {10, 10, 3, 1, 0, 6, 64},    {10, 10, 3, 1, 0, 128, 64},
    };
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        aecb_header h;
        memset(&h, 0, sizeof h);
        h.width = bad[i].w;
        h.height = bad[i].h;
        h.layout = bad[i].layout;
        h.stages = bad[i].stages;
        h.flags = bad[i].flags;
        h.block_size = bad[i].block;
        h.tile_size = bad[i].tile;
        char err[200] = "";
        aec_status st = aecb_header_init(&h, err, sizeof err);
        CHECKF(st == AEC_ERR_INVALID_ARGUMENT, "case %zu gave %d", i, (int)st);
        CHECKF(err[0] != 0, "case %zu: no message", i);
        CHECK(h.sizes == NULL);
    }
    /* aecb_write refuses sizes out of range */
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = h.height = 16;
    h.layout = 1;
    h.stages = 1;
    h.tile_size = 64;
    h.block_size = 8;
    CHECK(aecb_header_init(&h, NULL, 0) == AEC_OK);
    uint8_t data[200] = {0};
    const uint8_t *sp[1] = {data};
    uint8_t *out = NULL;
    size_t os = 0;
    h.sizes[0] = 0;
    CHECK(aecb_write(&h, sp, &out, &os) == AEC_ERR_INVALID_ARGUMENT && out == NULL);
    h.sizes[0] = (uint32_t)aecb_compress_bound(4) + 1;
    CHECK(aecb_write(&h, sp, &out, &os) == AEC_ERR_INVALID_ARGUMENT && out == NULL);
    h.sizes[0] = (uint32_t)aecb_compress_bound(4);
    CHECK(aecb_write(&h, sp, &out, &os) == AEC_OK && os == 48 + 8 + h.sizes[0]);
    free(out);
    aecb_header_free(&h);
}

/* Expected result of parsing the first len bytes of a file: the largest s
 * whose streams all end within len, computed from the writer's header. */
static int tb_expected_stages(const aecb_header *h, size_t len)
{
    uint64_t end = 48 + (uint64_t)h->table_bytes;
    uint32_t i = 0;
    if (h->flags & AECB_FLAG_ALPHA) {
        end += h->sizes[0];
        i = 1;
        if (end > len)
            return 0;
    }
    int s = 0;
    for (int st = 0; st < h->stages; st++) {
        for (uint32_t t = 0; t < h->n_tiles; t++)
            end += h->sizes[i++];
        if (end > len)
            break;
        s = st + 1;
    }
    return s;
}

static void tb_truncation_case(uint32_t w, uint32_t hgt, uint8_t layout, uint8_t stages)
{
    aecb_header h;
    size_t size;
    uint8_t *f = tb_make_file(w, hgt, layout, stages, 64, 0, 30, &h, &size);
    if (!f)
        return;
    int bad = 0;
    for (size_t len = 0; len <= size; len++) {
        uint8_t *copy = malloc(len ? len : 1); /* exact size so ASan sees overreads */
        memcpy(copy, f, len);
        aecb_header p;
        char err[200] = "";
        aec_status st = aecb_parse(copy, len, NULL, &p, err, sizeof err);
        int want = (len < 48 + (size_t)h.table_bytes) ? 0 : tb_expected_stages(&h, len);
        if (want == 0) {
            if (st != AEC_ERR_TRUNCATED) {
                printf("  len %zu: status %d (%s), TRUNCATED expected\n", len, (int)st, err);
                bad++;
            }
        } else if (st != AEC_OK || p.stages_available != want) {
            printf("  len %zu: status %d stages %d, OK with %d expected (%s)\n", len, (int)st,
                   st == AEC_OK ? p.stages_available : -1, want, err);
            bad++;
        } else {
            /* every stream of the available stages checks out */
            for (int s = 0; s < want; s++)
                for (uint32_t t = 0; t < p.n_tiles; t++)
                    bad += aecb_check_stream(&p, copy, len, aecb_stream_index(&p, s, t), err,
                                             sizeof err) != AEC_OK;
            if (want < p.stages)
                bad += aecb_check_stream(&p, copy, len, p.n_streams - 1, err, sizeof err) !=
                       AEC_ERR_TRUNCATED;
        }
        if (st == AEC_OK)
            aecb_header_free(&p);
        free(copy);
        if (bad > 5)
            break;
    }
    CHECKF(bad == 0, "%ux%u layout %u stages %u", w, hgt, layout, stages);
    /* one byte too many */
    uint8_t *longer = malloc(size + 1);
    memcpy(longer, f, size);
    longer[size] = 0;
    aecb_header p;
    CHECK(aecb_parse(longer, size + 1, NULL, &p, NULL, 0) == AEC_ERR_CORRUPT);
    free(longer);
    aecb_header_free(&h);
    free(f);
}

static void test_truncation_every_length(void)
{
    tb_truncation_case(130, 70, 4, 3); /* alpha, 6 tiles */
    tb_truncation_case(100, 64, 1, 4); /* no alpha */
    tb_truncation_case(5, 5, 2, 1);    /* one tile, one stage */
    /* 0..3 bytes that are not a magic prefix: NOT_AEC */
    aecb_header p;
    CHECK(aecb_parse((const uint8_t *)"\x8B" "AX", 3, NULL, &p, NULL, 0) == AEC_ERR_NOT_AEC);
    CHECK(aecb_parse((const uint8_t *)"\x89PNG", 4, NULL, &p, NULL, 0) == AEC_ERR_NOT_AEC);
    CHECK(aecb_parse(NULL, 0, NULL, &p, NULL, 0) == AEC_ERR_TRUNCATED);
}

static void test_bit_flips(void)
{
    aecb_header h;
    size_t size;
    uint8_t *f = tb_make_file(200, 100, 4, 3, 64, AECB_FLAG_DICT, 25, &h, &size);
    if (!f)
        return;
    size_t covered = 48 + h.table_bytes;
    int accepted = 0;
    for (size_t bit = 0; bit < covered * 8; bit++) {
        f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
        aecb_header p;
        char err[200];
        aec_status st = aecb_parse(f, size, NULL, &p, err, sizeof err);
        if (st == AEC_OK) {
            printf("  flip of bit %zu accepted\n", bit);
            accepted++;
            aecb_header_free(&p);
        }
        f[bit / 8] ^= (uint8_t)(1u << (bit % 8));
    }
    CHECK(accepted == 0);
    /* flips inside the streams: the header parses, that stream's CRC fails */
    int missed = 0;
    for (uint32_t i = 0; i < h.n_streams; i++) {
        uint64_t pos = h.offsets[i] + tb_rand() % h.sizes[i];
        uint8_t m = (uint8_t)(1u << (tb_rand() % 8));
        f[pos] ^= m;
        aecb_header p;
        if (aecb_parse(f, size, NULL, &p, NULL, 0) != AEC_OK) {
            missed++;
        } else {
            for (uint32_t j = 0; j < p.n_streams; j++) {
                aec_status st = aecb_check_stream(&p, f, size, j, NULL, 0);
                missed += (j == i) ? st != AEC_ERR_CORRUPT : st != AEC_OK;
            }
            aecb_header_free(&p);
        }
        f[pos] ^= m;
    }
    CHECK(missed == 0);
    aecb_header_free(&h);
    free(f);
}

static void test_random_mutations(void)
{
    /* No crash, no leak, no sanitizer report on random damage. */
    aecb_header h;
    size_t size;
    uint8_t *f = tb_make_file(150, 90, 2, 2, 64, 0, 20, &h, &size);
    if (!f)
        return;
    uint8_t *g = malloc(size);
    int ok = 0;
    for (int it = 0; it < 3000; it++) {
        memcpy(g, f, size);
        int nmut = 1 + (int)(tb_rand() % 4);
        for (int k = 0; k < nmut; k++)
            g[tb_rand() % (it % 2 ? 48 + h.table_bytes : size)] = (uint8_t)tb_rand();
        if (it % 3 == 0)
            tb_fix_crc(g, h.table_bytes); /* get past the checksum sometimes */
        size_t len = (it % 5 == 0) ? tb_rand() % (size + 1) : size;
        aecb_header p;
        if (aecb_parse(g, len, NULL, &p, NULL, 0) == AEC_OK) {
            ok++;
            CHECK(p.stages_available >= 1 && p.stages_available <= p.stages);
            for (uint32_t j = 0; j < p.n_streams; j++)
                (void)aecb_check_stream(&p, g, len, j, NULL, 0);
            aecb_header_free(&p);
        }
    }
    (void)ok;
    free(g);
    aecb_header_free(&h);
    free(f);
}

/* A syntactically complete header+table with arbitrary fields, CRC fixed. */
static uint8_t *tb_craft(uint32_t w, uint32_t hgt, uint8_t layout, uint8_t stages,
                         uint8_t flags, uint16_t tile, uint8_t block, uint32_t table_entries,
                         uint32_t entry_size, size_t *size)
{
    size_t n = 48 + (size_t)table_entries * 8 + (size_t)table_entries * entry_size;
    uint8_t *b = calloc(1, n);
    b[0] = 0x8B;
    b[1] = 'A';
    b[2] = 'E';
    b[3] = 'C';
    b[4] = 1;
    b[5] = layout;
    b[6] = stages;
    b[7] = flags;
    tb_put32(b + 8, w);
    tb_put32(b + 12, hgt);
    b[16] = (uint8_t)tile;
    b[17] = (uint8_t)(tile >> 8);
    b[18] = block;
    tb_put32(b + 20, table_entries);
    tb_put64(b + 24, 42);
    tb_put64(b + 32, n);
    for (uint32_t i = 0; i < table_entries; i++)
        tb_put32(b + 48 + 8 * i, entry_size); /* crcs of zero bytes: fixed below */
    uint32_t zero_crc = 0;
    {
        uint8_t *z = calloc(1, entry_size ? entry_size : 1);
        zero_crc = aecb_crc32(0, z, entry_size);
        free(z);
    }
    for (uint32_t i = 0; i < table_entries; i++)
        tb_put32(b + 52 + 8 * i, zero_crc);
    tb_fix_crc(b, table_entries * 8);
    *size = n;
    return b;
}

static void test_limits(void)
{
    aecb_header p;
    char err[200];
    size_t n;
    /* crafted valid file: 16x16 grey, 1 stage */
    uint8_t *b = tb_craft(16, 16, 1, 1, 0, 64, 8, 1, 10, &n);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_OK);
    aecb_header_free(&p);
    free(b);

    /* width above the format maximum */
    b = tb_craft(70000, 2, 1, 1, 0, 1024, 8, 69, 1, &n);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_LIMIT);
    CHECK(strstr(err, "70000x2") != NULL && strstr(err, "65535") != NULL);
    aec_limits big = {UINT64_MAX, UINT32_MAX}; /* a caller's limit cannot lift the format's */
    CHECK(aecb_parse(b, n, &big, &p, err, sizeof err) == AEC_ERR_LIMIT);
    free(b);

    /* a caller's lower limits */
    aec_limits lim = {1000, 100};
    b = tb_craft(101, 5, 1, 1, 0, 128, 8, 1, 10, &n);
    CHECK(aecb_parse(b, n, &lim, &p, err, sizeof err) == AEC_ERR_LIMIT);
    free(b);
    b = tb_craft(40, 40, 1, 1, 0, 64, 8, 1, 10, &n); /* 1600 > 1000 pixels */
    CHECK(aecb_parse(b, n, &lim, &p, err, sizeof err) == AEC_ERR_LIMIT);
    CHECK(strstr(err, "1600") != NULL);
    free(b);

    /* 65535 x 65535 is above the default 2^28 pixels: refused from the
     * 48-byte header alone, nothing allocated */
    uint8_t hdr[48];
    b = tb_craft(65535, 65535, 1, 16, 0, 64, 8, 0, 0, &n);
    memcpy(hdr, b, 48);
    free(b);
    tb_put32(hdr + 20, 16u * 1024 * 1024);
    CHECK(aecb_parse(hdr, 48, NULL, &p, err, sizeof err) == AEC_ERR_LIMIT);
    /* with the limits lifted, the declared 134 MB table is more than the
     * 48 bytes given: TRUNCATED, still nothing allocated */
    aec_limits huge = {UINT64_MAX, 65535};
    CHECK(aecb_parse(hdr, 48, &huge, &p, err, sizeof err) == AEC_ERR_TRUNCATED);
    CHECK(p.sizes == NULL && p.offsets == NULL);
    /* a stream count that does not match the geometry: CORRUPT */
    tb_put32(hdr + 20, 5);
    CHECK(aecb_parse(hdr, 48, &huge, &p, err, sizeof err) == AEC_ERR_CORRUPT);
}

static void test_field_errors(void)
{
    aecb_header p;
    char err[200];
    size_t n;
    struct {
        uint32_t w, h;
        uint8_t layout, stages, flags;
        uint16_t tile;
        uint8_t block;
        uint32_t entries;
        aec_status want;
    } cases[] = {
        {16, 16, 1, 1, 0, 64, 8, 1, AEC_OK},
        {0, 16, 1, 1, 0, 64, 8, 1, AEC_ERR_CORRUPT},
        {16, 16, 0, 1, 0, 64, 8, 1, AEC_ERR_CORRUPT},
        {16, 16, 5, 1, 0, 64, 8, 1, AEC_ERR_CORRUPT},
        {16, 16, 1, 0, 0, 64, 8, 1, AEC_ERR_CORRUPT},
        {16, 16, 1, 17, 0, 64, 8, 17, AEC_ERR_CORRUPT},
        {16, 16, 1, 1, 1, 64, 8, 2, AEC_ERR_CORRUPT},   /* alpha flag with grey  */
        {16, 16, 2, 1, 0, 64, 8, 1, AEC_ERR_CORRUPT},   /* grey+alpha, no flag   */
        {16, 16, 1, 1, 4, 64, 8, 2, AEC_ERR_CORRUPT},   /* lattice, zero fields  */
        {16, 16, 1, 1, 8, 64, 8, 1, AEC_ERR_CORRUPT},   /* split, no lattice     */
        {16, 16, 1, 1, 8, 96, 0, 1, AEC_ERR_CORRUPT},   /* ... and more (step 7) */
        {16, 16, 1, 1, 0x20, 64, 8, 1, AEC_ERR_CORRUPT},     /* layered, no lattice */
        {16, 16, 1, 1, 0x40, 64, 8, 1, AEC_OK},              /* half size: 8x8 coded */
        {16, 16, 2, 1, 0x41, 64, 8, 2, AEC_ERR_CORRUPT},     /* half size with alpha */
        {130, 16, 1, 1, 0x40, 64, 8, 2, AEC_OK},     /* 65x8 coded: 2 tiles of 64 */
        {130, 16, 1, 1, 0x40, 64, 8, 3, AEC_ERR_CORRUPT},    /* the picture's 3 tiles */
        {16, 16, 1, 1, 0x80, 64, 8, 1, AEC_ERR_CORRUPT},     /* residual, no lattice */
        {16, 16, 1, 1, 0x88, 64, 8, 1, AEC_ERR_CORRUPT},     /* ... with split */
        {16, 16, 1, 1, 0, 96, 8, 1, AEC_ERR_CORRUPT},
        {16, 16, 1, 1, 0, 2048, 8, 1, AEC_ERR_CORRUPT},
        {16, 16, 1, 1, 0, 64, 0, 1, AEC_ERR_CORRUPT},
        {16, 16, 1, 1, 0, 64, 12, 1, AEC_ERR_CORRUPT},
        {16, 16, 1, 1, 0, 64, 16, 1, AEC_OK},
        {16, 16, 1, 1, 0, 64, 8, 2, AEC_ERR_CORRUPT},   /* wrong stream count    */
        {16, 16, 2, 2, 3, 64, 8, 3, AEC_OK},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t *b = tb_craft(cases[i].w, cases[i].h, cases[i].layout, cases[i].stages,
                              cases[i].flags, cases[i].tile, cases[i].block, cases[i].entries,
                              10, &n);
        aec_status st = aecb_parse(b, n, NULL, &p, err, sizeof err);
        CHECKF(st == cases[i].want, "case %zu: %d, want %d (%s)", i, (int)st,
               (int)cases[i].want, err);
        /* SPLIT without LATTICE is the first failing check of step 7 */
        if (cases[i].flags == AECB_FLAG_SPLIT)
            CHECKF(strstr(err, "split") != NULL, "case %zu: %s", i, err);
        if (cases[i].flags == AECB_FLAG_LAYERED)
            CHECKF(strstr(err, "layered") != NULL, "case %zu: %s", i, err);
        if (st == AEC_OK)
            aecb_header_free(&p);
        else
            CHECK(p.sizes == NULL);
        free(b);
    }
    /* version and magic */
    uint8_t *b = tb_craft(16, 16, 1, 1, 0, 64, 8, 1, 10, &n);
    b[4] = 3;
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_UNSUPPORTED);
    CHECK(aecb_parse(b, 5, NULL, &p, err, sizeof err) == AEC_ERR_UNSUPPORTED);
    b[4] = 1;
    b[0] = 0x89;
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_NOT_AEC);
    b[0] = 0x8B;
    /* reserved fields, with a valid CRC: UNSUPPORTED */
    b[19] = 1;
    tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_UNSUPPORTED);
    b[19] = 0;
    b[41] = 1;
    tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_UNSUPPORTED);
    b[41] = 0;
    /* file_size inconsistent with the table, valid CRC: CORRUPT */
    tb_put64(b + 32, n + 1);
    tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT);
    tb_put64(b + 32, n);
    /* entry size 0 and above the bound */
    tb_put32(b + 48, 0);
    tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT);
    tb_put32(b + 48, (uint32_t)aecb_compress_bound(4) + 1);
    tb_put64(b + 32, 48 + 8 + aecb_compress_bound(4) + 1);
    tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT);
    tb_put32(b + 48, 0xFFFFFFFFu);
    tb_put64(b + 32, 48 + 8 + 0xFFFFFFFFull);
    tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT);
    free(b);
}

static void test_zstd_roundtrip(void)
{
    static const size_t sizes[] = {1, 2, 64, 4096, 5000, 300000};
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    char err[200];
    for (size_t k = 0; k < sizeof sizes / sizeof sizes[0]; k++) {
        size_t n = sizes[k];
        uint8_t *src = malloc(n), *dst = malloc(n);
        for (size_t i = 0; i < n; i++) /* compressible: small alphabet, runs */
            src[i] = (uint8_t)((i / 7) % 5 + (tb_rand() % 16 == 0 ? tb_rand() % 200 : 0));
        for (int variant = 0; variant < 2; variant++) {
            uint8_t *fr = NULL;
            size_t fn = 0;
            aec_status st = aecb_zstd_compress(variant ? cctx : NULL, src, n, variant ? 9 : 3,
                                               NULL, &fr, &fn, err, sizeof err);
            CHECKF(st == AEC_OK, "%s", err);
            if (st != AEC_OK)
                continue;
            CHECK(fn <= aecb_compress_bound(n));
            /* magicless: exactly 4 bytes shorter than the standard frame */
            size_t cap = ZSTD_compressBound(n);
            uint8_t *std = malloc(cap);
            size_t sn = ZSTD_compress(std, cap, src, n, variant ? 9 : 3);
            CHECK(!ZSTD_isError(sn) && sn == fn + 4 && memcmp(std + 4, fr, fn) == 0);
            free(std);
            memset(dst, 0xAA, n);
            st = aecb_zstd_decompress(variant ? dctx : NULL, NULL, fr, fn, dst, n, err, sizeof err);
            CHECKF(st == AEC_OK && memcmp(dst, src, n) == 0, "n=%zu: %s", n, err);
            /* wrong expected size, truncated, trailing byte */
            CHECK(aecb_zstd_decompress(dctx, NULL, fr, fn, dst, n - 1, err, sizeof err) ==
                  AEC_ERR_CORRUPT);
            uint8_t *bigger = malloc(n + 1);
            CHECK(aecb_zstd_decompress(dctx, NULL, fr, fn, bigger, n + 1, err, sizeof err) ==
                  AEC_ERR_CORRUPT);
            free(bigger);
            CHECK(aecb_zstd_decompress(dctx, NULL, fr, fn - 1, dst, n, err, sizeof err) ==
                  AEC_ERR_CORRUPT);
            uint8_t *longer = malloc(fn + 1);
            memcpy(longer, fr, fn);
            longer[fn] = 0;
            CHECK(aecb_zstd_decompress(dctx, NULL, longer, fn + 1, dst, n, err, sizeof err) ==
                  AEC_ERR_CORRUPT);
            free(longer);
            free(fr);
        }
        free(src);
        free(dst);
    }
    /* empty and garbage inputs */
    uint8_t d[16];
    CHECK(aecb_zstd_decompress(dctx, NULL, NULL, 0, d, 16, err, sizeof err) == AEC_ERR_CORRUPT);
    CHECK(aecb_zstd_decompress(dctx, NULL, "\x28\xB5\x2F\xFD", 4, d, 16, err, sizeof err) ==
          AEC_ERR_CORRUPT);
    ZSTD_freeCCtx(cctx);
    ZSTD_freeDCtx(dctx);
}

static void test_zstd_dictionary(void)
{
    uint8_t dict[2048];
    for (size_t i = 0; i < sizeof dict; i++)
        dict[i] = (uint8_t)(tb_rand() % 64);
    ZSTD_CDict *cd = ZSTD_createCDict(dict, sizeof dict, 5);
    ZSTD_DDict *dd = ZSTD_createDDict(dict, sizeof dict);
    uint8_t src[1000], dst[1000];
    memcpy(src, dict + 500, sizeof src); /* matches the dictionary */
    char err[200];
    uint8_t *fr = NULL, *fr_nd = NULL;
    size_t fn = 0, fn_nd = 0;
    CHECK(aecb_zstd_compress(NULL, src, sizeof src, 5, cd, &fr, &fn, err, sizeof err) == AEC_OK);
    CHECK(aecb_zstd_compress(NULL, src, sizeof src, 5, NULL, &fr_nd, &fn_nd, err, sizeof err) ==
          AEC_OK);
    CHECK(fr && fr_nd && fn < fn_nd / 4);
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    CHECK(aecb_zstd_decompress(dctx, dd, fr, fn, dst, sizeof dst, err, sizeof err) == AEC_OK &&
          memcmp(src, dst, sizeof src) == 0);
    /* without the dictionary the frame does not decode (same context reused) */
    CHECK(aecb_zstd_decompress(dctx, NULL, fr, fn, dst, sizeof dst, err, sizeof err) ==
          AEC_ERR_CORRUPT);
    /* and a dictionary-less frame still decodes after a dictionary was used */
    CHECK(aecb_zstd_decompress(dctx, NULL, fr_nd, fn_nd, dst, sizeof dst, err, sizeof err) ==
          AEC_OK && memcmp(src, dst, sizeof src) == 0);
    /* a frame that declares a Dictionary_ID is refused: insert a 1-byte ID
     * into the dictionary-less single-segment frame's header */
    CHECK((fr_nd[0] & 0x20) && (fr_nd[0] & 3) == 0);
    uint8_t *withid = malloc(fn_nd + 1);
    withid[0] = (uint8_t)(fr_nd[0] | 1);
    withid[1] = 5;
    memcpy(withid + 2, fr_nd + 1, fn_nd - 1);
    CHECK(aecb_zstd_decompress(dctx, NULL, withid, fn_nd + 1, dst, sizeof dst, err,
                               sizeof err) == AEC_ERR_CORRUPT);
    CHECK(strstr(err, "dictionary") != NULL);
    free(withid);
    /* flip every byte of the dictionary frame: never a crash */
    for (size_t i = 0; i < fn; i++) {
        fr[i] ^= 0x5A;
        aec_status st = aecb_zstd_decompress(dctx, dd, fr, fn, dst, sizeof dst, err, sizeof err);
        CHECK(st == AEC_OK || st == AEC_ERR_CORRUPT);
        fr[i] ^= 0x5A;
    }
    free(fr);
    free(fr_nd);
    ZSTD_freeDCtx(dctx);
    ZSTD_freeCDict(cd);
    ZSTD_freeDDict(dd);
}

static void test_alpha_filter(void)
{
    /* known row */
    uint8_t a[3] = {10, 12, 5}, r[3], back[3];
    aecb_alpha_filter(r, a, 3, 1, 1, 3);
    CHECK(r[0] == 10 && r[1] == 2 && r[2] == 249);
    aecb_alpha_unfilter(back, 1, 3, r, 3, 1);
    CHECK(memcmp(a, back, 3) == 0);
    /* interleaved RGBA with padded rows */
    uint32_t w = 37, h = 11;
    size_t stride = w * 4 + 5;
    uint8_t *img = malloc(stride * h), *out = calloc(1, stride * h), *res = malloc(w * h);
    for (size_t i = 0; i < stride * h; i++)
        img[i] = (uint8_t)tb_rand();
    aecb_alpha_filter(res, img + 3, w, h, 4, stride);
    for (uint32_t y = 0; y < h; y++)
        CHECK(res[y * w] == img[y * stride + 3]); /* row start predicted from 0 */
    aecb_alpha_unfilter(out + 3, 4, stride, res, w, h);
    int same = 1;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            same &= out[y * stride + x * 4 + 3] == img[y * stride + x * 4 + 3] &&
                    out[y * stride + x * 4] == 0;
    CHECK(same);
    /* a constant plane filters to zeros after the first column */
    memset(img, 255, stride * h);
    aecb_alpha_filter(res, img + 3, w, h, 4, stride);
    int zeros = 1;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 1; x < w; x++)
            zeros &= res[y * w + x] == 0;
    CHECK(zeros && res[0] == 255);
    free(img);
    free(out);
    free(res);
}

/* A whole file with real zstd streams: write, parse, check, decompress; and
 * decode the stage-boundary prefixes. */
static void test_full_file(void)
{
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = 300;
    h.height = 140;
    h.layout = AEC_GRAY_ALPHA;
    h.stages = 3;
    h.tile_size = 128;
    h.block_size = 8;
    h.flags = AECB_FLAG_ALPHA;
    h.model_id = 0xFEEDFACECAFEBEEFull;
    char err[200];
    CHECK(aecb_header_init(&h, err, sizeof err) == AEC_OK);
    uint8_t **raw = calloc(h.n_streams, sizeof *raw);
    uint8_t **fr = calloc(h.n_streams, sizeof *fr);
    ZSTD_CCtx *cctx = ZSTD_createCCtx();
    for (uint32_t i = 0; i < h.n_streams; i++) {
        size_t n = (size_t)aecb_stream_raw_size(&h, i);
        raw[i] = malloc(n);
        for (size_t k = 0; k < n; k++)
            raw[i][k] = (uint8_t)(tb_rand() % (i == 0 ? 3 : 256));
        if (i == 0) { /* alpha: filtered plane */
            uint8_t *tmp = malloc(n);
            aecb_alpha_filter(tmp, raw[0], h.width, h.height, 1, h.width);
            size_t fn;
            CHECK(aecb_zstd_compress(cctx, tmp, n, 19, NULL, &fr[0], &fn, err, sizeof err) ==
                  AEC_OK);
            h.sizes[0] = (uint32_t)fn;
            free(tmp);
        } else {
            size_t fn;
            CHECK(aecb_zstd_compress(cctx, raw[i], n, 3, NULL, &fr[i], &fn, err, sizeof err) ==
                  AEC_OK);
            h.sizes[i] = (uint32_t)fn;
        }
    }
    ZSTD_freeCCtx(cctx);
    uint8_t *file = NULL;
    size_t size = 0;
    CHECK(aecb_write(&h, (const uint8_t *const *)fr, &file, &size) == AEC_OK);
    ZSTD_DCtx *dctx = ZSTD_createDCtx();
    for (int cut = 0; cut <= h.stages; cut++) {
        /* cut = 0: the whole file; else the file up to the end of stage cut */
        size_t len = size;
        if (cut) {
            uint32_t last = aecb_stream_index(&h, cut - 1, h.n_tiles - 1);
            len = (size_t)(h.offsets[last] + h.sizes[last]);
        }
        aecb_header p;
        aec_status st = aecb_parse(file, len, NULL, &p, err, sizeof err);
        CHECKF(st == AEC_OK, "%s", err);
        if (st != AEC_OK)
            continue;
        CHECK(p.stages_available == (cut ? cut : h.stages));
        int good = 1;
        uint32_t nstreams = 1 + (uint32_t)p.stages_available * p.n_tiles;
        for (uint32_t i = 0; i < nstreams; i++) {
            good &= aecb_check_stream(&p, file, len, i, err, sizeof err) == AEC_OK;
            size_t n = (size_t)aecb_stream_raw_size(&p, i);
            uint8_t *buf = malloc(n);
            good &= aecb_zstd_decompress(dctx, NULL, file + p.offsets[i], p.sizes[i], buf, n,
                                         err, sizeof err) == AEC_OK;
            if (i == 0) {
                uint8_t *plane = malloc(n);
                aecb_alpha_unfilter(plane, 1, p.width, buf, p.width, p.height);
                good &= memcmp(plane, raw[0], n) == 0;
                free(plane);
            } else {
                good &= memcmp(buf, raw[i], n) == 0;
            }
            free(buf);
        }
        CHECK(good);
        aecb_header_free(&p);
    }
    ZSTD_freeDCtx(dctx);
    for (uint32_t i = 0; i < h.n_streams; i++) {
        free(raw[i]);
        free(fr[i]);
    }
    free(raw);
    free(fr);
    free(file);
    aecb_header_free(&h);
}

/* The worked example of spec/bitstream.md, section 13, byte for byte. */
static const uint8_t tb_spec_example[114] = {
    0x8b, 0x41, 0x45, 0x43, 0x01, 0x02, 0x02, 0x01, 0x14, 0x00, 0x00, 0x00,
    0x0a, 0x00, 0x00, 0x00, 0x40, 0x00, 0x08, 0x00, 0x03, 0x00, 0x00, 0x00,
    0x88, 0x77, 0x66, 0x55, 0x44, 0x33, 0x22, 0x11, 0x72, 0x00, 0x00, 0x00,
    0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x00, 0x6c, 0x6d, 0x31, 0x29,
    0x14, 0x00, 0x00, 0x00, 0x85, 0xfc, 0x67, 0xaf, 0x0b, 0x00, 0x00, 0x00,
    0x26, 0x77, 0xc0, 0xdb, 0x0b, 0x00, 0x00, 0x00, 0x04, 0xf4, 0x66, 0x58,
    0x20, 0xc8, 0x7d, 0x00, 0x00, 0x20, 0xff, 0x00, 0xff, 0x00, 0x03, 0x00,
    0x9d, 0x9b, 0x14, 0x00, 0x1e, 0xf6, 0x00, 0x16, 0x20, 0x06, 0x31, 0x00,
    0x00, 0x03, 0x03, 0x07, 0x03, 0x03, 0x01, 0x20, 0x06, 0x31, 0x00, 0x00,
    0x00, 0x01, 0x02, 0x03, 0x04, 0x05

};

static void test_spec_example(void)
{
    const uint8_t *f = tb_spec_example;
    size_t size = sizeof tb_spec_example;
    aecb_header p;
    char err[200] = "";
    aec_status st = aecb_parse(f, size, NULL, &p, err, sizeof err);
    CHECKF(st == AEC_OK, "%s", err);
    if (st != AEC_OK)
        return;
    CHECK(p.width == 20 && p.height == 10 && p.layout == 2 && p.stages == 2);
    CHECK(p.flags == AECB_FLAG_ALPHA && p.tile_size == 64 && p.block_size == 8);
    CHECK(p.model_id == 0x1122334455667788ull && p.file_size == 114);
    CHECK(p.n_streams == 3 && p.sizes[0] == 20 && p.sizes[1] == 11 && p.sizes[2] == 11);
    CHECK(p.offsets[0] == 0x48 && p.offsets[1] == 0x5c && p.offsets[2] == 0x67);
    CHECK(p.stages_available == 2);
    uint8_t alpha_res[200], alpha[200], idx[6];
    static const uint8_t want1[6] = {3, 3, 7, 3, 3, 1}, want2[6] = {0, 1, 2, 3, 4, 5};
    for (uint32_t i = 0; i < 3; i++)
        CHECK(aecb_check_stream(&p, f, size, i, err, sizeof err) == AEC_OK);
    CHECK(aecb_zstd_decompress(NULL, NULL, f + p.offsets[0], p.sizes[0], alpha_res, 200, err,
                               sizeof err) == AEC_OK);
    aecb_alpha_unfilter(alpha, 1, 20, alpha_res, 20, 10);
    int opaque = 1;
    for (int i = 0; i < 200; i++)
        opaque &= alpha[i] == 255;
    CHECK(opaque);
    CHECK(aecb_zstd_decompress(NULL, NULL, f + p.offsets[1], p.sizes[1], idx, 6, err,
                               sizeof err) == AEC_OK &&
          memcmp(idx, want1, 6) == 0);
    CHECK(aecb_zstd_decompress(NULL, NULL, f + p.offsets[2], p.sizes[2], idx, 6, err,
                               sizeof err) == AEC_OK &&
          memcmp(idx, want2, 6) == 0);
    /* the writer reproduces the file from the same streams */
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = 20;
    h.height = 10;
    h.layout = 2;
    h.stages = 2;
    h.tile_size = 64;
    h.block_size = 8;
    h.flags = AECB_FLAG_ALPHA;
    h.model_id = 0x1122334455667788ull;
    CHECK(aecb_header_init(&h, NULL, 0) == AEC_OK);
    const uint8_t *streams[3];
    for (uint32_t i = 0; i < 3; i++) {
        h.sizes[i] = p.sizes[i];
        streams[i] = f + p.offsets[i];
    }
    uint8_t *out = NULL;
    size_t os = 0;
    CHECK(aecb_write(&h, streams, &out, &os) == AEC_OK && os == size &&
          memcmp(out, f, size) == 0);
    free(out);
    aecb_header_free(&h);
    /* truncation as the spec's example states */
    for (size_t len = 0; len < size; len++) {
        aecb_header q;
        st = aecb_parse(f, len, NULL, &q, NULL, 0);
        if (len < 103)
            CHECKF(st == AEC_ERR_TRUNCATED, "len %zu", len);
        else {
            CHECKF(st == AEC_OK && q.stages_available == 1, "len %zu", len);
            if (st == AEC_OK)
                aecb_header_free(&q);
        }
    }
    aecb_header_free(&p);
}

/* ---- lattice refinement layer (flags bit 2) ------------------------------ */

#define TB_DIM 12                  /* lattice_dim of the test files  */
#define TB_STEP (3u << 17)         /* 0.375 in units of 2^-20        */

/* Header fields of a lattice file survive write and parse; its streams come
 * after every stage's, one per tile, with raw size 2 * D * latents. */
static void test_lattice_header(void)
{
    static const uint8_t stagesv[] = {0, 1, 3};
    for (size_t s = 0; s < sizeof stagesv; s++)
        for (uint8_t layout = 1; layout <= 4; layout += 3) {
            aecb_header h;
            size_t size = 0;
            uint8_t S = stagesv[s];
            uint8_t *f = tb_make_file_ex(130, 70, layout, S, 64, AECB_FLAG_LATTICE, TB_DIM,
                                         TB_STEP, 30, &h, &size);
            if (!f)
                continue;
            uint32_t A = layout == 4, NT = 6;
            CHECK(h.n_tiles == NT && h.n_streams == A + S * NT + NT);
            CHECK(f[7] == (A ? 5 : 4) && f[19] == TB_DIM && tb_get32(f + 40) == TB_STEP);
            CHECK(tb_get32(f + 20) == h.n_streams);
            aecb_header p;
            char err[200] = "";
            aec_status st = aecb_parse(f, size, NULL, &p, err, sizeof err);
            CHECKF(st == AEC_OK, "stages %u layout %u: %s", S, layout, err);
            if (st == AEC_OK) {
                CHECK(p.flags == h.flags && p.lattice_dim == TB_DIM && p.lattice_step_q == TB_STEP);
                CHECK(p.stages == S && p.stages_available == S && p.lattice_available == 1);
                CHECK(p.lattice_layers == 1 && p.lattice_layers_available == 1);
                CHECK(p.n_streams == h.n_streams && p.file_size == size);
                for (uint32_t t = 0; t < NT; t++) {
                    uint32_t i = aecb_lattice_stream_index(&p, t), lw, lh;
                    aecb_tile_latents(&p, t, &lw, &lh);
                    CHECK(i == A + S * NT + t);
                    CHECK(aecb_stream_raw_size(&p, i) == 2ull * TB_DIM * lw * lh);
                    CHECK(aecb_stream_bound(&p, i) == aecb_compress_bound(2ull * TB_DIM * lw * lh));
                    CHECK(aecb_check_stream(&p, f, size, i, err, sizeof err) == AEC_OK);
                }
                /* index streams keep their raw size; the last tile, 2x6 pixels, is
                 * one latent */
                if (S)
                    CHECK(aecb_stream_raw_size(&p, aecb_stream_index(&p, S - 1, 5)) == 1);
                CHECK(aecb_stream_raw_size(&p, aecb_lattice_stream_index(&p, 5)) == 2 * TB_DIM);
                aecb_header_free(&p);
            }
            aecb_header_free(&h);
            free(f);
        }
}

/* stages 0 needs the lattice flag; the lattice fields must be zero without
 * it (reserved: UNSUPPORTED) and non-zero with it (CORRUPT). */
static void test_lattice_fields(void)
{
    aecb_header p, h;
    char err[200];
    size_t n;
    /* stages 0: CORRUPT without the flag, accepted with it */
    uint8_t *b = tb_craft(16, 16, 1, 0, 0, 64, 8, 0, 10, &n);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT);
    free(b);
    b = tb_craft(16, 16, 1, 0, AECB_FLAG_LATTICE, 64, 8, 1, 10, &n);
    b[19] = 3, tb_put32(b + 40, 1), tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_OK);
    if (p.sizes)
        CHECK(p.stages == 0 && p.stages_available == 0 && p.lattice_available == 1 &&
              p.lattice_dim == 3 && p.lattice_step_q == 1);
    aecb_header_free(&p);
    /* flag with a zero dimension, a zero step or both: CORRUPT */
    b[19] = 0, tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT && !p.sizes);
    CHECK(strstr(err, "lattice") != NULL);
    b[19] = 3, tb_put32(b + 40, 0), tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT && !p.sizes);
    b[19] = 0, tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT && !p.sizes);
    free(b);
    /* lattice fields without the flag: reserved, UNSUPPORTED (valid CRC) */
    b = tb_craft(16, 16, 1, 1, 0, 64, 8, 1, 10, &n);
    b[19] = TB_DIM, tb_put32(b + 40, TB_STEP), tb_fix_crc(b, 8);
    CHECK(aecb_parse(b, n, NULL, &p, err, sizeof err) == AEC_ERR_UNSUPPORTED && !p.sizes);
    free(b);
    /* the writer: stages 0 only with the flag; the flag needs both fields;
     * without the flag the fields are written as zero */
    struct {
        uint8_t stages, flags, dim;
        uint32_t step;
        aec_status want;
    } w[] = {
        {0, 0, 0, 0, AEC_ERR_INVALID_ARGUMENT},
        {0, AECB_FLAG_LATTICE, 4, 9, AEC_OK},
        {2, AECB_FLAG_LATTICE, 0, 9, AEC_ERR_INVALID_ARGUMENT},
        {2, AECB_FLAG_LATTICE, 4, 0, AEC_ERR_INVALID_ARGUMENT},
        {2, 0, 4, 9, AEC_OK},
        {2, AECB_FLAG_SPLIT, 0, 0, AEC_ERR_INVALID_ARGUMENT},
        {0, AECB_FLAG_LATTICE | AECB_FLAG_SPLIT, 4, 9, AEC_OK},
        {2, 0x20, 0, 0, AEC_ERR_INVALID_ARGUMENT},
    };
    for (size_t i = 0; i < sizeof w / sizeof *w; i++) {
        memset(&h, 0, sizeof h);
        h.width = h.height = 16, h.layout = 1, h.tile_size = 64, h.block_size = 8;
        h.stages = w[i].stages, h.flags = w[i].flags;
        h.lattice_dim = w[i].dim, h.lattice_step_q = w[i].step;
        CHECKF(aecb_header_init(&h, err, sizeof err) == w[i].want, "writer case %zu", i);
        if (h.sizes) {
            CHECK(h.n_streams == w[i].stages + (w[i].flags ? 1u : 0u));
            CHECK(w[i].flags ? h.lattice_dim == 4 : h.lattice_dim == 0 && h.lattice_step_q == 0);
        }
        aecb_header_free(&h);
    }
    /* clearing the flag of a valid lattice file: the table no longer fits
     * the geometry (CORRUPT); RESIDUAL (bit 7) on it: its tile's residual
     * stream is missing from the table (CORRUPT); SPLIT
     * (bit 3) on it: a valid header (its streams are not read here) */
    size_t size;
    uint8_t *f = tb_make_file_ex(70, 40, 3, 1, 64, AECB_FLAG_LATTICE, TB_DIM, TB_STEP, 20, &h,
                                 &size);
    if (f) {
        f[7] &= (uint8_t)~AECB_FLAG_LATTICE;
        tb_fix_crc(f, h.table_bytes);
        CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT);
        f[7] |= AECB_FLAG_LATTICE | AECB_FLAG_RESIDUAL;
        tb_fix_crc(f, h.table_bytes);
        CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT);
        f[7] = (uint8_t)(AECB_FLAG_LATTICE | AECB_FLAG_SPLIT);
        tb_fix_crc(f, h.table_bytes);
        CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_OK);
        aecb_header_free(&p);
        f[7] = AECB_FLAG_SPLIT; /* without LATTICE: step 7 */
        tb_fix_crc(f, h.table_bytes);
        CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT && !p.sizes);
        aecb_header_free(&h);
        free(f);
    }
}

/* A file cut inside its lattice streams keeps every stage (lattice_available
 * 0, lattice_layers_available 0: without flags bit 5 the one layer is never
 * used in part); with no stage before them it is TRUNCATED.  The same in the
 * split layout (flags bit 3), whose streams are cut the same way. */
static void test_lattice_truncation(void)
{
    for (int k = 0; k < 4; k++) { /* stages 0 and 2, planes and split layout */
        uint8_t S = (uint8_t)(k % 2 * 2);
        uint8_t flags = (uint8_t)(AECB_FLAG_LATTICE | (k >= 2 ? AECB_FLAG_SPLIT : 0));
        aecb_header h;
        size_t size;
        uint8_t *f = tb_make_file_ex(150, 90, 4, S, 64, flags, TB_DIM, TB_STEP, 25, &h, &size);
        if (!f)
            continue;
        uint64_t lat0 = h.offsets[aecb_lattice_stream_index(&h, 0)];
        int bad = 0;
        for (size_t len = (size_t)lat0 - 1; len <= size; len++) {
            uint8_t *copy = malloc(len);
            memcpy(copy, f, len);
            aecb_header p;
            char err[200] = "";
            aec_status st = aecb_parse(copy, len, NULL, &p, err, sizeof err);
            if (len == lat0 - 1 && S > 0) /* inside the last stage */
                bad += !(st == AEC_OK && p.stages_available == S - 1 && !p.lattice_available);
            else if (len < size && S == 0) /* cut in the alpha plane, then the lattice */
                bad += !(st == AEC_ERR_TRUNCATED && (len < lat0 || strstr(err, "lattice")));
            else if (len < size)
                bad += !(st == AEC_OK && p.stages_available == S && !p.lattice_available);
            else
                bad += !(st == AEC_OK && p.stages_available == S && p.lattice_available);
            if (st == AEC_OK && len < size) /* the last lattice stream is cut */
                bad += aecb_check_stream(&p, copy, len, h.n_streams - 1, NULL, 0) !=
                       AEC_ERR_TRUNCATED;
            /* not layered: one layer, none of it usable in a truncated file
             * (section 8's old rule), even when only its last byte is cut */
            if (st == AEC_OK)
                bad += p.lattice_layers != 1 || p.lattice_layers_available != (len == size);
            if (st == AEC_OK)
                aecb_header_free(&p);
            free(copy);
            if (bad) {
                printf("  stages %u, cut at %zu of %zu: %s\n", S, len, size, err);
                break;
            }
        }
        CHECKF(bad == 0, "stages %u, flags %u", S, flags);
        /* a changed byte in a lattice stream: its CRC fails, nothing else's */
        f[h.offsets[h.n_streams - 1]] ^= 0x20;
        aecb_header p;
        CHECK(aecb_parse(f, size, NULL, &p, NULL, 0) == AEC_OK);
        if (p.sizes) {
            for (uint32_t i = 0; i < p.n_streams; i++)
                CHECK(aecb_check_stream(&p, f, size, i, NULL, 0) ==
                      (i == p.n_streams - 1 ? AEC_ERR_CORRUPT : AEC_OK));
            aecb_header_free(&p);
        }
        aecb_header_free(&h);
        free(f);
    }
}

/* ---- split layout of the lattice streams (flags bit 3) ------------------- */

/* split_bound of spec/bitstream.md 6.7 for D channels and n latents, from
 * the spec's formula (PD = min(D, 2) predicted channels, G groups of 8);
 * _at: for the D channels from channel `first` on, a layer of 6.9, whose
 * predicted channels are those below channel 2. */
static uint64_t tb_split_bound_at(uint64_t first, uint64_t D, uint64_t n)
{
    uint64_t PD = first >= 2 ? 0 : D < 2 - first ? D : 2 - first;
    uint64_t G = (D - PD + 7) / 8, R = (D - PD) * n;
    uint64_t b = PD * aecb_compress_bound(2 * n) + G * aecb_compress_bound(n) +
                 2 * aecb_compress_bound((R + 7) / 8) + aecb_compress_bound(R) +
                 aecb_compress_bound(2 * R) + 5 * (PD + G + 4);
    return b > 0xFFFFFFFFu ? 0xFFFFFFFFu : b;
}
static uint64_t tb_split_bound(uint64_t D, uint64_t n) { return tb_split_bound_at(0, D, n); }

/* With SPLIT a lattice stream's size is bounded by split_bound instead of
 * compress_bound(2 D n) (step 12); nothing else of the container changes. */
static void test_split_header(void)
{
    aecb_header h, p;
    size_t size;
    char err[200] = "";
    uint8_t *f = tb_make_file_ex(130, 70, 4, 1, 64, AECB_FLAG_LATTICE | AECB_FLAG_SPLIT, TB_DIM,
                                 TB_STEP, 30, &h, &size);
    if (!f)
        return;
    CHECK(f[7] == (AECB_FLAG_ALPHA | AECB_FLAG_LATTICE | AECB_FLAG_SPLIT) && f[7] == 0x0D);
    CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_OK);
    if (p.sizes) {
        CHECK(p.flags == 0x0D && p.lattice_available && p.n_streams == 1 + 6 + 6);
        for (uint32_t t = 0; t < p.n_tiles; t++) {
            uint32_t i = aecb_lattice_stream_index(&p, t), lw, lh;
            aecb_tile_latents(&p, t, &lw, &lh);
            uint64_t n = (uint64_t)lw * lh;
            CHECKF(aecb_stream_bound(&p, i) == tb_split_bound(TB_DIM, n), "tile %u: bound %llu",
                   t, (unsigned long long)aecb_stream_bound(&p, i));
            CHECK(tb_split_bound(TB_DIM, n) > aecb_compress_bound(2 * TB_DIM * n));
            CHECK(aecb_stream_raw_size(&p, i) == 2 * TB_DIM * n); /* still reported */
            /* the tile's index stream keeps its own bound */
            CHECK(aecb_stream_bound(&p, aecb_stream_index(&p, 0, t)) == aecb_compress_bound(n));
        }
        CHECK(aecb_stream_bound(&p, 0) == aecb_compress_bound(130 * 70)); /* alpha */
        aecb_header_free(&p);
    }
    aecb_header_free(&h);
    free(f);

    /* step 12 at the bound: tile 0's lattice stream of exactly split_bound
     * bytes is valid with SPLIT and CORRUPT without it (the planes layout's
     * bound is smaller); one byte more is CORRUPT with it too */
    memset(&h, 0, sizeof h);
    h.width = 100, h.height = 60, h.layout = 3, h.stages = 1, h.tile_size = 64, h.block_size = 8;
    h.flags = AECB_FLAG_LATTICE | AECB_FLAG_SPLIT, h.lattice_dim = TB_DIM, h.lattice_step_q = TB_STEP;
    CHECK(aecb_header_init(&h, err, sizeof err) == AEC_OK);
    if (!h.sizes)
        return;
    uint32_t big = aecb_lattice_stream_index(&h, 0);
    uint64_t bound = tb_split_bound(TB_DIM, 64);
    uint8_t *zeros = calloc(1, (size_t)bound + 1);
    const uint8_t *streams[4] = {zeros, zeros, zeros, zeros};
    for (uint32_t i = 0; i < h.n_streams; i++)
        h.sizes[i] = i == big ? (uint32_t)bound : 1;
    f = NULL;
    CHECK(h.n_streams == 4 && aecb_write(&h, streams, &f, &size) == AEC_OK);
    if (f) {
        CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_OK);
        aecb_header_free(&p);
        f[7] &= (uint8_t)~AECB_FLAG_SPLIT;
        tb_fix_crc(f, h.table_bytes);
        CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT && !p.sizes);
        /* SPLIT again, the stream one byte longer (table, file_size, data) */
        f[7] |= AECB_FLAG_SPLIT;
        uint8_t *g = malloc(size + 1);
        memcpy(g, f, size);
        g[size] = 0;
        tb_put32(g + 48 + 8 * big, (uint32_t)bound + 1);
        tb_put32(g + 48 + 8 * big + 4, aecb_crc32(0, zeros, (size_t)bound + 1));
        tb_put64(g + 32, size + 1);
        tb_fix_crc(g, h.table_bytes);
        CHECK(aecb_parse(g, size + 1, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT && !p.sizes);
        free(g), free(f);
    }
    free(zeros);
    aecb_header_free(&h);
}

/* ---- lattice layers (flags bit 5, spec/bitstream.md 6.9) ------------------ */

/* start(l) of 6.9: 0, 8, 16, 32, 64, 128, 256 */
static uint32_t tb_layer_start(int l) { return l == 0 ? 0u : 8u << (l - 1); }

/* L = layers(D) of 6.9: the smallest l >= 1 with start(l) >= D. */
static int tb_layers_for(uint32_t D)
{
    int l = 1;
    while (tb_layer_start(l) < D)
        l++;
    return l;
}

/* Symbol k of latent channel d of tile t in the layered test files: mostly
 * 0 and +-1, a few of more than one byte. */
static int32_t tb_layer_symbol(uint32_t t, uint32_t d, size_t k)
{
    uint32_t r = (uint32_t)k * 2654435761u ^ d * 40503u ^ t * 977u;
    r ^= r >> 13;
    int32_t v = r % 5 == 0 ? (int32_t)(r % 7) - 3 : 0;
    return r % 97 == 1 ? v * 300 : v;
}

/* A layered lattice file (flags LATTICE | LAYERED | extra: SPLIT for the
 * split layout, METADATA) of tiles of 64 pixels, lattice_dim D: its alpha,
 * index and metadata streams random bytes, and each lattice stream the
 * real stream of its layer's channels of tb_layer_symbol (split layout:
 * aecb_split_write_at; planes: aem_lattice_pack_at in one zstd frame). */
static uint8_t *tb_make_layered(uint32_t w, uint32_t hgt, uint8_t layout, uint8_t stages,
                                uint8_t extra, uint8_t D, aecb_header *hout, size_t *size)
{
    aecb_header h;
    memset(&h, 0, sizeof h);
    h.width = w, h.height = hgt, h.layout = layout, h.stages = stages;
    h.tile_size = 64, h.block_size = 8;
    h.flags = (uint8_t)(((layout == 2 || layout == 4) ? AECB_FLAG_ALPHA : 0) | AECB_FLAG_LATTICE |
                        AECB_FLAG_LAYERED | extra);
    h.lattice_dim = D, h.lattice_step_q = TB_STEP;
    h.model_id = 0x0FEDCBA987654321ull;
    char err[200];
    aec_status st = aecb_header_init(&h, err, sizeof err);
    CHECKF(st == AEC_OK, "init %ux%u: %s", w, hgt, err);
    if (st != AEC_OK)
        return NULL;
    uint32_t A = (h.flags & AECB_FLAG_ALPHA) ? 1 : 0, lat = A + (uint32_t)stages * h.n_tiles;
    uint32_t M = (h.flags & AECB_FLAG_METADATA) ? 1 : 0;
    uint8_t **streams = calloc(h.n_streams, sizeof *streams);
    for (uint32_t i = 0; i < h.n_streams; i++) {
        if (i >= lat && i < h.n_streams - M) {
            int l = (int)((i - lat) / h.n_tiles);
            uint32_t t = (i - lat) % h.n_tiles, first, count, lw, lh;
            aecb_layer_channels(&h, l, &first, &count);
            aecb_tile_latents(&h, t, &lw, &lh);
            size_t n = (size_t)lw * lh, sz = 0;
            int32_t *sym = malloc(sizeof(int32_t) * count * n);
            for (uint32_t c = 0; c < count; c++)
                for (size_t k = 0; k < n; k++)
                    sym[c * n + k] = tb_layer_symbol(t, first + c, k);
            if (extra & AECB_FLAG_SPLIT) {
                st = aecb_split_write_at(NULL, sym, first, count, lw, lh, 3, &streams[i], &sz,
                                         NULL, 0);
            } else {
                uint8_t *planes = malloc(2 * count * n);
                aem_lattice_pack_at(sym, first, count, lw, lh, planes);
                st = aecb_zstd_compress(NULL, planes, 2 * count * n, 3, NULL, &streams[i], &sz,
                                        NULL, 0);
                free(planes);
            }
            CHECK(st == AEC_OK);
            free(sym);
            h.sizes[i] = (uint32_t)sz;
            continue;
        }
        tb_random_stream(&h, i, 20, streams);
    }
    return tb_assemble(&h, streams, hout, size);
}

/* 1 when every stream of layer l of parsed file p (data[0..len)) checks
 * out and decodes to tb_layer_symbol of its channels. */
static int tb_layer_decodes(const aecb_header *p, const uint8_t *data, size_t len, int l)
{
    int ok = 1;
    for (uint32_t t = 0; t < p->n_tiles && ok; t++) {
        uint32_t i = aecb_layer_stream_index(p, l, t), first, count, lw, lh;
        aecb_layer_channels(p, l, &first, &count);
        aecb_tile_latents(p, t, &lw, &lh);
        size_t n = (size_t)lw * lh;
        ok = aecb_check_stream(p, data, len, i, NULL, 0) == AEC_OK;
        int32_t *sym = malloc(sizeof(int32_t) * count * n);
        if (ok && (p->flags & AECB_FLAG_SPLIT)) {
            uint8_t *work = malloc(aecb_split_work_bytes_at(first, count, n));
            ok = aecb_split_read_at(NULL, data + p->offsets[i], p->sizes[i], first, count, lw, lh,
                                    work, sym, NULL, 0) == AEC_OK;
            free(work);
        } else if (ok) {
            uint8_t *planes = malloc(2 * count * n);
            ok = aecb_zstd_decompress(NULL, NULL, data + p->offsets[i], p->sizes[i], planes,
                                      2 * count * n, NULL, 0) == AEC_OK;
            if (ok)
                aem_lattice_unpack_at(planes, first, count, lw, lh, sym);
            free(planes);
        }
        for (uint32_t c = 0; ok && c < count; c++)
            for (size_t k = 0; ok && k < n; k++)
                ok = sym[c * n + k] == tb_layer_symbol(t, first + c, k);
        free(sym);
    }
    return ok;
}

/* The geometry of a layered header: L = layers(D) layers of NT streams
 * each after the stages (so N = A + S*NT + L*NT + M), the channels of each
 * layer, their streams' indices, raw sizes and bounds (6.9); without
 * flags bit 5 the one layer of all D channels. */
static void test_layer_geometry(void)
{
    static const struct {
        uint32_t D;
        int L;
    } lf[] = {{1, 1},  {8, 1},  {9, 2},  {16, 2}, {17, 3},
              {32, 3}, {33, 4}, {64, 4}, {65, 5}, {255, 6}};
    for (size_t i = 0; i < sizeof lf / sizeof *lf; i++)
        CHECKF(aecb_layers_for(lf[i].D) == lf[i].L, "D=%u: %d layers", lf[i].D,
               aecb_layers_for(lf[i].D));
    for (uint32_t D = 1; D <= 255; D++)
        CHECKF(aecb_layers_for(D) == tb_layers_for(D) && aecb_layers_for(D) <= AECB_MAX_LAYERS,
               "D=%u: %d layers", D, aecb_layers_for(D));
    static const uint8_t dims[] = {1, 8, 9, 12, 40, 64, 65, 255};
    static const uint8_t extras[] = {0, AECB_FLAG_SPLIT, AECB_FLAG_SPLIT | AECB_FLAG_METADATA,
                                     AECB_FLAG_METADATA};
    int bad = 0;
    for (size_t a = 0; a < sizeof dims; a++)
        for (int k = 0; k < 16; k++) {
            uint8_t D = dims[a], S = (uint8_t)(k % 2 * 2), layout = k / 2 % 2 ? 4 : 1;
            uint8_t extra = extras[k / 4];
            uint32_t A = layout == 4, M = (extra & AECB_FLAG_METADATA) ? 1 : 0, NT = 6;
            int L = tb_layers_for(D), before = tl_failures_in_test;
            aecb_header h, g;
            memset(&h, 0, sizeof h);
            h.width = 150, h.height = 90, h.layout = layout, h.stages = S;
            h.tile_size = 64, h.block_size = 8, h.lattice_dim = D, h.lattice_step_q = TB_STEP;
            h.flags = (uint8_t)((A ? AECB_FLAG_ALPHA : 0) | AECB_FLAG_LATTICE | extra);
            g = h;
            h.flags |= AECB_FLAG_LAYERED;
            char err[200] = "";
            CHECKF(aecb_header_init(&h, err, sizeof err) == AEC_OK, "D=%u: %s", D, err);
            CHECK(aecb_header_init(&g, err, sizeof err) == AEC_OK);
            if (!h.sizes || !g.sizes) {
                aecb_header_free(&h), aecb_header_free(&g);
                bad++;
                continue;
            }
            CHECK(h.n_tiles == NT && h.lattice_layers == L && h.lattice_layers_available == L);
            CHECKF(h.n_streams == A + S * NT + (uint32_t)L * NT + M, "D=%u S=%u: %u streams", D,
                   S, h.n_streams);
            CHECK(h.table_bytes == 8 * h.n_streams);
            /* not layered: one layer of all D channels, NT lattice streams */
            CHECK(g.lattice_layers == 1 && g.n_streams == A + S * NT + NT + M);
            uint32_t first, count;
            aecb_layer_channels(&g, 0, &first, &count);
            CHECK(first == 0 && count == D);
            if (L == 1) /* one layer: the same table as without the flag */
                CHECK(h.n_streams == g.n_streams);
            uint32_t next = 0;
            for (int l = 0; l < L; l++) {
                aecb_layer_channels(&h, l, &first, &count);
                uint32_t end = tb_layer_start(l + 1) < D ? tb_layer_start(l + 1) : D;
                CHECKF(first == tb_layer_start(l) && first == next && count == end - first &&
                           count > 0,
                       "D=%u layer %d: channels %u + %u", D, l, first, count);
                next = first + count;
                for (uint32_t t = 0; t < NT; t++) {
                    uint32_t i = aecb_layer_stream_index(&h, l, t), lw, lh;
                    aecb_tile_latents(&h, t, &lw, &lh);
                    uint64_t n = (uint64_t)lw * lh;
                    CHECK(i == A + (S + (uint32_t)l) * NT + t);
                    CHECK(aecb_stream_raw_size(&h, i) == 2 * count * n);
                    uint64_t want = (extra & AECB_FLAG_SPLIT) ? tb_split_bound_at(first, count, n)
                                                              : aecb_compress_bound(2 * count * n);
                    CHECKF(aecb_stream_bound(&h, i) == want, "D=%u layer %d tile %u: bound %llu",
                           D, l, t, (unsigned long long)aecb_stream_bound(&h, i));
                }
            }
            CHECKF(next == D, "D=%u: the layers end at channel %u", D, next);
            aecb_layer_channels(&h, L, &first, &count); /* past the last: nothing */
            CHECK(first == D && count == 0);
            CHECK(aecb_lattice_stream_index(&h, 3) == aecb_layer_stream_index(&h, 0, 3));
            for (uint32_t t = 0; t < NT; t++) { /* stages before the layers are unchanged */
                uint32_t lw, lh;
                aecb_tile_latents(&h, t, &lw, &lh);
                for (int s = 0; s < S; s++)
                    CHECK(aecb_stream_raw_size(&h, aecb_stream_index(&h, s, t)) ==
                          (uint64_t)lw * lh);
            }
            if (M)
                CHECK(aecb_metadata_stream_index(&h) == A + S * NT + (uint32_t)L * NT &&
                      aecb_stream_bound(&h, h.n_streams - 1) == AECB_MAX_METADATA);
            bad += tl_failures_in_test != before;
            aecb_header_free(&h), aecb_header_free(&g);
        }
    CHECKF(bad == 0, "%d headers failed", bad);
}

/* A layered file's header survives write and parse (flags byte 0x2D with
 * alpha and the split layout); its layer streams decode; the flag bit
 * changes the table's geometry, so clearing it (or setting it on a file of
 * more than 8 channels) is CORRUPT, while on a file of 8 channels or fewer
 * (one layer) it changes nothing. */
static void test_layered_header(void)
{
    aecb_header h, p;
    size_t size;
    char err[200] = "";
    uint8_t *f = tb_make_layered(150, 90, 4, 1, AECB_FLAG_SPLIT, 40, &h, &size);
    if (!f)
        return;
    CHECK(f[7] == 0x2D && f[19] == 40 && tb_get32(f + 20) == 1 + 6 + 4 * 6);
    CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_OK);
    if (p.sizes) {
        CHECK(p.flags == 0x2D && p.lattice_dim == 40 && p.lattice_layers == 4);
        CHECK(p.lattice_layers_available == 4 && p.lattice_available == 1);
        CHECK(p.stages_available == 1 && p.n_streams == h.n_streams);
        for (int l = 0; l < 4; l++)
            CHECKF(tb_layer_decodes(&p, f, size, l), "layer %d", l);
        aecb_header_free(&p);
    }
    f[7] &= (uint8_t)~AECB_FLAG_LAYERED; /* 6 lattice streams, the table has 24 */
    tb_fix_crc(f, h.table_bytes);
    CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT && !p.sizes);
    aecb_header_free(&h);
    free(f);
    f = tb_make_file_ex(150, 90, 1, 1, 64, AECB_FLAG_LATTICE | AECB_FLAG_SPLIT, TB_DIM, TB_STEP,
                        20, &h, &size);
    if (f) { /* 12 channels: 2 layers, 12 lattice streams, the table has 6 */
        f[7] |= AECB_FLAG_LAYERED;
        tb_fix_crc(f, h.table_bytes);
        CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_ERR_CORRUPT && !p.sizes);
        aecb_header_free(&h);
        free(f);
    }
    f = tb_make_file_ex(150, 90, 1, 0, 64, AECB_FLAG_LATTICE, 8, TB_STEP, 20, &h, &size);
    if (f) { /* 8 channels: one layer either way */
        f[7] |= AECB_FLAG_LAYERED;
        tb_fix_crc(f, h.table_bytes);
        CHECK(aecb_parse(f, size, NULL, &p, err, sizeof err) == AEC_OK);
        if (p.sizes) {
            CHECK(p.lattice_layers == 1 && p.lattice_layers_available == 1 && p.lattice_available);
            aecb_header_free(&p);
        }
        aecb_header_free(&h);
        free(f);
    }
}

/* A layered file cut anywhere (section 8): stages_available as before; with
 * every stage in, lattice_layers_available the layers all of whose streams
 * are in (0 otherwise); lattice_available 1 only with all layers; TRUNCATED
 * when neither a stage nor a layer is whole.  Checked against offsets
 * summed here from the writer's sizes, at every length, with and without
 * stages and alpha, in both layouts and with a metadata stream last. */
static void test_layered_truncation(void)
{
    static const struct {
        uint8_t layout, stages, extra;
    } cases[] = {
        {1, 0, AECB_FLAG_SPLIT}, {4, 0, 0}, {4, 2, AECB_FLAG_SPLIT}, {1, 2, 0},
        {1, 0, AECB_FLAG_SPLIT | AECB_FLAG_METADATA},
    };
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        uint8_t S = cases[c].stages;
        aecb_header h;
        size_t size;
        uint8_t *f = tb_make_layered(150, 90, cases[c].layout, S, cases[c].extra, 40, &h, &size);
        if (!f)
            continue;
        const int L = 4;
        uint32_t A = (h.flags & AECB_FLAG_ALPHA) ? 1 : 0, NT = h.n_tiles;
        int M = (h.flags & AECB_FLAG_METADATA) != 0;
        CHECK(h.lattice_layers == L && h.n_streams == A + S * NT + 4 * NT + (uint32_t)M);
        /* ends[i]: the offset past stream i */
        uint64_t *ends = malloc(sizeof(uint64_t) * h.n_streams), pos = 48 + (uint64_t)h.table_bytes;
        for (uint32_t i = 0; i < h.n_streams; i++)
            ends[i] = pos += h.sizes[i];
        CHECK(pos == size);
        uint64_t head = 48 + (uint64_t)h.table_bytes;
        uint64_t lend[5]; /* lend[l]: past the last stream of layer l - 1 (6.9, 8) */
        lend[0] = S ? ends[A + S * NT - 1] : A ? ends[0] : head;
        for (int l = 1; l <= L; l++)
            lend[l] = ends[A + (S + (uint32_t)l) * NT - 1];
        int bad = 0, seen[5] = {0};
        for (size_t len = (size_t)head; len <= size; len++) {
            uint8_t *copy = malloc(len);
            memcpy(copy, f, len);
            aecb_header p;
            char err[200] = "";
            aec_status st = aecb_parse(copy, len, NULL, &p, err, sizeof err);
            int stages = tb_expected_stages(&h, len), layers = 0;
            int alpha = !A || ends[0] <= len;
            while (alpha && stages == S && layers < L && lend[layers + 1] <= len)
                layers++;
            int want_ok = len == size || (alpha && (stages > 0 || layers > 0));
            if (!want_ok) {
                bad += st != AEC_ERR_TRUNCATED;
                if (S == 0 && alpha && st == AEC_ERR_TRUNCATED) /* inside layer 0 */
                    bad += strstr(err, "lattice") == NULL;
            } else if (st != AEC_OK) {
                bad++;
            } else {
                int all = len == size ? L : layers;
                bad += p.stages_available != (len == size ? S : stages);
                bad += p.lattice_layers != L || p.lattice_layers_available != all;
                bad += p.lattice_available != (all == L);
                seen[all]++;
                /* the streams of the layers in check out, the next layer's
                 * last one is cut */
                for (int l = 0; l < all; l++)
                    for (uint32_t t = 0; t < NT; t++)
                        bad += aecb_check_stream(&p, copy, len, aecb_layer_stream_index(&p, l, t),
                                                 NULL, 0) != AEC_OK;
                if (all < L)
                    bad += aecb_check_stream(&p, copy, len,
                                             aecb_layer_stream_index(&p, all, NT - 1), NULL,
                                             0) != AEC_ERR_TRUNCATED;
                if (len == lend[all] || len == size) /* and they decode */
                    for (int l = 0; l < all; l++)
                        bad += !tb_layer_decodes(&p, copy, len, l);
                aecb_header_free(&p);
            }
            free(copy);
            if (bad) {
                printf("  case %zu: cut at %zu of %zu: status %d, %s\n", c, len, size, (int)st,
                       err);
                break;
            }
        }
        CHECKF(bad == 0, "case %zu (stages %u, flags 0x%02x)", c, S, h.flags);
        for (int l = 0; l <= L; l++) /* every count of layers was met */
            CHECKF(seen[l] > 0 || (l == 0 && S == 0), "case %zu: never %d layers", c, l);
        /* the rules at the boundaries, spelt out */
        aecb_header p;
        char err[200] = "";
        if (S == 0) {
            CHECK(aecb_parse(f, (size_t)lend[1] - 1, NULL, &p, err, sizeof err) ==
                  AEC_ERR_TRUNCATED);
            CHECK(strstr(err, "lattice") != NULL && !p.sizes);
        } else { /* inside the last stage: no layer, even though none is cut */
            CHECK(aecb_parse(f, (size_t)lend[0] - 1, NULL, &p, err, sizeof err) == AEC_OK);
            CHECK(p.stages_available == S - 1 && p.lattice_layers_available == 0 &&
                  !p.lattice_available);
            aecb_header_free(&p);
            CHECK(aecb_parse(f, (size_t)lend[0], NULL, &p, err, sizeof err) == AEC_OK);
            CHECK(p.stages_available == S && p.lattice_layers_available == 0 &&
                  !p.lattice_available);
            aecb_header_free(&p);
        }
        for (int l = 1; l <= L; l++) {
            CHECK(aecb_parse(f, (size_t)lend[l], NULL, &p, err, sizeof err) == AEC_OK);
            CHECKF(p.sizes && p.stages_available == S && p.lattice_layers_available == l &&
                       p.lattice_available == (l == L),
                   "case %zu: cut after layer %d: %d layers, lattice %d", c, l - 1,
                   p.lattice_layers_available, p.lattice_available);
            aecb_header_free(&p);
        }
        CHECK((size_t)lend[L] == size - (M ? h.sizes[h.n_streams - 1] : 0));
        free(ends);
        aecb_header_free(&h);
        free(f);
    }
}

int main(void)
{
    RUN_TEST(test_crc32_vectors);
    RUN_TEST(test_header_roundtrip);
    RUN_TEST(test_layout_bytes);
    RUN_TEST(test_geometry);
    RUN_TEST(test_init_rejects);
    RUN_TEST(test_truncation_every_length);
    RUN_TEST(test_bit_flips);
    RUN_TEST(test_random_mutations);
    RUN_TEST(test_limits);
    RUN_TEST(test_field_errors);
    RUN_TEST(test_zstd_roundtrip);
    RUN_TEST(test_zstd_dictionary);
    RUN_TEST(test_alpha_filter);
    RUN_TEST(test_full_file);
    RUN_TEST(test_spec_example);
    RUN_TEST(test_lattice_header);
    RUN_TEST(test_lattice_fields);
    RUN_TEST(test_lattice_truncation);
    RUN_TEST(test_split_header);
    RUN_TEST(test_layer_geometry);
    RUN_TEST(test_layered_header);
    RUN_TEST(test_layered_truncation);
    TEST_EXIT();
}
