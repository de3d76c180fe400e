/* SPDX-License-Identifier: BSD-3-Clause */
/* test_residual.c - the pixel residual stream's run/size tokens
 * (bitstream/residual_stream.h, spec/bitstream.md 6.10): round trips, the
 * exact bytes of a small example, and every rule a hostile stream can
 * break. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitstream/residual_stream.h"
#include "bitstream/zstream.h"
#include "testlib.h"
#include "vq/residual.h"

enum { FREQS = 64 };

static uint32_t rng_state = 12345;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

/* Zigzag byte of coefficient multiple k (-127..127). */
static uint8_t zz_byte(int k) { return (uint8_t)(k < 0 ? -2 * k - 1 : 2 * k); }

/* Planes of `blocks` blocks in `colours` channels at step q: sparse, with
 * every size class, long runs, all-zero blocks and blocks whose last
 * coefficient is set. */
static uint8_t *random_planes(size_t colours, size_t blocks, int q)
{
    size_t n = aem_residual_raw_size((uint32_t)(8 * blocks), 8, (int)colours);
    uint8_t *raw = calloc(n, 1);
    raw[0] = (uint8_t)q;
    for (size_t c = 0; c < colours; c++)
        for (size_t b = 0; b < blocks; b++) {
            int kind = (int)(rnd() % 4);
            for (int f = 0; f < FREQS; f++) {
                int k = 0;
                if (kind == 1 && rnd() % 9 == 0)
                    k = (int)(rnd() % 255) - 127; /* any size class */
                else if (kind == 2 && (f == 63 || rnd() % 40 == 0))
                    k = rnd() % 2 ? 1 : -1;
                else if (kind == 3 && f < 3)
                    k = (int)(rnd() % 7) - 3;
                raw[1 + (c * FREQS + (size_t)f) * blocks + b] = zz_byte(k);
            }
        }
    return raw;
}

static aec_status read_stream(const uint8_t *s, size_t size, size_t colours, size_t blocks,
                              uint8_t *raw)
{
    uint8_t *work = malloc(aecb_residual_work_bytes(colours, blocks));
    char err[256] = "";
    aec_status st = aecb_residual_read(NULL, s, size, colours, blocks, work, raw, err, sizeof err);
    CHECKF(st == AEC_OK || (st == AEC_ERR_CORRUPT && strstr(err, "corrupt")), "%d %s", st, err);
    free(work);
    return st;
}

static void test_residual_round_trip(void)
{
    static const size_t shapes[][2] = {{1, 1}, {1, 7}, {3, 1}, {3, 40}, {3, 130}};
    for (size_t i = 0; i < sizeof shapes / sizeof shapes[0]; i++)
        for (int q = 16; q <= 255; q += 239) {
            size_t C = shapes[i][0], nb = shapes[i][1];
            size_t n = aem_residual_raw_size((uint32_t)(8 * nb), 8, (int)C);
            uint8_t *raw = random_planes(C, nb, q), *back = malloc(n), *s = NULL;
            size_t size = 0;
            CHECK(aecb_residual_write(raw, C, nb, 3, &s, &size, NULL, 0) == AEC_OK);
            CHECK(size <= aecb_residual_bound(C, nb));
            CHECK(read_stream(s, size, C, nb, back) == AEC_OK);
            CHECKF(!memcmp(raw, back, n), "%zu channels, %zu blocks", C, nb);
            free(raw), free(back), free(s);
        }
    /* the largest stream: every coefficient at -127 */
    size_t C = 3, nb = 5, n = aem_residual_raw_size(40, 8, 3), size = 0;
    uint8_t *raw = malloc(n), *back = malloc(n), *s = NULL;
    memset(raw, zz_byte(-127), n);
    raw[0] = 16;
    CHECK(aecb_residual_write(raw, C, nb, 1, &s, &size, NULL, 0) == AEC_OK);
    CHECK(size <= aecb_residual_bound(C, nb));
    CHECK(read_stream(s, size, C, nb, back) == AEC_OK && !memcmp(raw, back, n));
    free(s);
    /* a multiple of 128 is not codable */
    raw[5] = 255;
    CHECK(aecb_residual_write(raw, C, nb, 1, &s, &size, NULL, 0) == AEC_ERR_INVALID_ARGUMENT);
    free(raw), free(back);
}

/* One grey block at step 20: +1 at frequency 0 and -5 at zigzag position
 * 20 (frequency 8 * 5 + 0 = 40): tokens 01 (no run, class 1), F0 (16
 * zeros), 33 (3 zeros, class 3), 00 (end of block); extra bits: the +1's
 * sign 0, then the -5's magnitude 4 + 1 as bits 1, 0 and its sign 1:
 * 0b1010. */
static void test_residual_example(void)
{
    uint8_t raw[1 + FREQS] = {20}, back[1 + FREQS], *s = NULL;
    raw[1 + 0] = zz_byte(1);
    raw[1 + 40] = zz_byte(-5);
    size_t size = 0;
    CHECK(aecb_residual_write(raw, 1, 1, 3, &s, &size, NULL, 0) == AEC_OK);
    CHECK(size > 3 && s[0] == 4 && s[1] == size - 3 && s[size - 1] == 0x0A);
    uint8_t tokens[5];
    CHECK(aecb_zstd_decompress(NULL, NULL, s + 2, s[1], tokens, 5, NULL, 0) == AEC_OK);
    CHECK(!memcmp(tokens, (const uint8_t[]){20, 0x01, 0xF0, 0x33, 0x00}, 5));
    CHECK(read_stream(s, size, 1, 1, back) == AEC_OK && !memcmp(raw, back, sizeof raw));
    free(s);
}

/* A stream of the given tokens (after the step) and extra-bit bytes, the
 * directory counting `nt_delta` more tokens than there are. */
static size_t make_stream(uint8_t *out, const uint8_t *tokens, size_t nt, int nt_delta,
                          const uint8_t *bits, size_t nbits_bytes)
{
    uint8_t *frame = NULL;
    size_t fs = 0;
    CHECK(aecb_zstd_compress(NULL, tokens, 1 + nt, 1, NULL, &frame, &fs, NULL, 0) == AEC_OK);
    size_t k = 0;
    out[k++] = (uint8_t)((int)nt + nt_delta);
    out[k++] = (uint8_t)fs; /* small frames: one LEB128 byte */
    memcpy(out + k, frame, fs), k += fs;
    if (nbits_bytes)
        memcpy(out + k, bits, nbits_bytes), k += nbits_bytes;
    free(frame);
    return k;
}

static void expect_corrupt(const uint8_t *s, size_t size, size_t C, size_t nb, const char *what)
{
    uint8_t raw[1 + 3 * FREQS * 2];
    CHECKF(read_stream(s, size, C, nb, raw) == AEC_ERR_CORRUPT, "%s", what);
}

static void test_residual_hostile(void)
{
    uint8_t s[512];
    size_t n;
    static const uint8_t ok[] = {20, 0x01, 0xF0, 0x33, 0x00}, bits[] = {0x0A};
    uint8_t raw[1 + 2 * FREQS]; /* two blocks at most */
    n = make_stream(s, ok, 4, 0, bits, 1);
    CHECK(read_stream(s, n, 1, 1, raw) == AEC_OK);
    /* the directory */
    expect_corrupt(s, 1, 1, 1, "a directory of one number");
    expect_corrupt((const uint8_t[]){0x80, 0x80, 0x80, 0x80, 0x80, 0x00}, 6, 1, 1,
                   "a number of 6 LEB128 bytes");
    expect_corrupt((const uint8_t[]){0x84, 0x80, 0x80, 0x80, 0x10, 0x01}, 6, 1, 1,
                   "2^32 + 4 tokens");
    n = make_stream(s, ok, 4, 61, bits, 1);
    expect_corrupt(s, n, 1, 1, "65 tokens for 64 coefficients");
    n = make_stream(s, ok, 4, 0, bits, 1);
    s[1] = (uint8_t)(n - 1);
    expect_corrupt(s, n, 1, 1, "a token frame past the stream's end");
    /* the token frame: its size and the step */
    n = make_stream(s, ok, 4, 1, bits, 1);
    expect_corrupt(s, n, 1, 1, "one token more counted than the frame holds");
    uint8_t low[5] = {7, 0x01, 0xF0, 0x33, 0x00};
    n = make_stream(s, low, 4, 0, bits, 1);
    expect_corrupt(s, n, 1, 1, "step 7");
    /* tokens */
    static const uint8_t bad_class[] = {20, 0x08}, bad_zero[] = {20, 0x10, 0x00};
    n = make_stream(s, bad_class, 1, 0, bits, 1);
    expect_corrupt(s, n, 1, 1, "size class 8");
    n = make_stream(s, bad_zero, 2, 0, bits, 1);
    expect_corrupt(s, n, 1, 1, "a run with size class 0");
    static const uint8_t zrl_past[] = {20, 0xF0, 0xF0, 0xF0, 0xF0};
    n = make_stream(s, zrl_past, 4, 0, bits, 1);
    expect_corrupt(s, n, 1, 1, "16 zeros from position 48");
    static const uint8_t last[] = {20, 0xF0, 0xF0, 0xF0, 0xF1}; /* 48 + 15: position 63 */
    n = make_stream(s, last, 4, 0, (const uint8_t[]){0}, 1);
    CHECK(read_stream(s, n, 1, 1, raw) == AEC_OK && raw[1 + 63] == 2);
    static const uint8_t run_past2[] = {20, 0xF0, 0xF0, 0xF0, 0x01, 0xF1};
    n = make_stream(s, run_past2, 5, 0, (const uint8_t[]){0}, 1);
    expect_corrupt(s, n, 1, 1, "a value at position 64");
    n = make_stream(s, ok, 3, 0, bits, 1);
    expect_corrupt(s, n, 1, 1, "tokens ending inside the block");
    static const uint8_t two_blocks[] = {20, 0x00, 0x00};
    n = make_stream(s, two_blocks, 2, 0, NULL, 0);
    expect_corrupt(s, n, 1, 1, "a token after the last block");
    CHECK(read_stream(s, n, 1, 2, raw) == AEC_OK); /* fine for two blocks */
    /* extra bits */
    n = make_stream(s, ok, 4, 0, NULL, 0);
    expect_corrupt(s, n, 1, 1, "no extra bits");
    n = make_stream(s, ok, 4, 0, (const uint8_t[]){0x0A, 0}, 2);
    expect_corrupt(s, n, 1, 1, "a byte after the extra bits");
    static const uint8_t big[] = {20, 0x07, 0x07, 0x00};
    n = make_stream(s, big, 3, 0, (const uint8_t[]){0x3F}, 1);
    expect_corrupt(s, n, 1, 1, "8 bits for two class-7 values");
    n = make_stream(s, big, 3, 0, (const uint8_t[]){0x3F, 0x3F}, 2);
    CHECK(read_stream(s, n, 1, 1, raw) == AEC_OK);
}

/* Random bytes and damaged streams: OK or CORRUPT, never out of bounds
 * (the ASan build runs this too). */
static void test_residual_random(void)
{
    size_t C = 3, nb = 2, n = aem_residual_raw_size(16, 8, 3), size = 0;
    uint8_t *raw = random_planes(C, nb, 40), *back = malloc(n), *s = NULL;
    CHECK(aecb_residual_write(raw, C, nb, 3, &s, &size, NULL, 0) == AEC_OK);
    uint8_t *d = malloc(size);
    int rejected = 0;
    for (int round = 0; round < 2000; round++) {
        memcpy(d, s, size);
        size_t cut = round % 3 == 0 ? rnd() % size : size;
        for (int k = 0; k < 1 + round % 4; k++)
            d[rnd() % size] ^= (uint8_t)(1u << (rnd() % 8));
        rejected += read_stream(d, cut, C, nb, back) == AEC_ERR_CORRUPT;
    }
    CHECKF(rejected > 1000, "%d of 2000 damaged streams rejected", rejected);
    free(raw), free(back), free(s), free(d);
}

int main(void)
{
    RUN_TEST(test_residual_round_trip);
    RUN_TEST(test_residual_example);
    RUN_TEST(test_residual_hostile);
    RUN_TEST(test_residual_random);
    TEST_EXIT();
}
