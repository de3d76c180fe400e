/* SPDX-License-Identifier: BSD-3-Clause */
/* test_wiener.c - the restoration filter (vq/wiener.h, spec/bitstream.md
 * 6.11): the library's row-wise filter against a per-pixel reference
 * written from the spec's text, on whole pictures and on sub-rectangles
 * whose source stops at the picture's edge or 3 pixels beyond the output;
 * the stream's round trip and every rule a hostile stream can break. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "bitstream/wiener_stream.h"
#include "bitstream/zstream.h"
#include "nn/dsp.h"
#include "testlib.h"
#include "vq/wiener.h"

static uint32_t rng_state = 777;
static uint32_t rnd(void)
{
    rng_state = rng_state * 1664525u + 1013904223u;
    return rng_state >> 8;
}

/* ---- the reference, pixel by pixel, as section 6.11 says ---------------- */

typedef struct {
    const uint8_t *pix; /* whole picture, ch samples a pixel */
    int w, h, ch, colours;
} picture;

static int P(const picture *p, int c, int x, int y)
{
    x = x < 0 ? 0 : x >= p->w ? p->w - 1 : x;
    y = y < 0 ? 0 : y >= p->h ? p->h - 1 : y;
    return p->pix[((size_t)y * p->w + x) * p->ch + c];
}

static int G(const picture *p, int x, int y)
{
    if (p->colours == 1)
        return P(p, 0, x, y);
    return (P(p, 0, x, y) + 2 * P(p, 1, x, y) + P(p, 2, x, y) + 2) >> 2;
}

static int activity(const picture *p, int x, int y)
{
    int a = 0;
    for (int dy = -1; dy <= 1; dy++)
        for (int dx = -1; dx <= 1; dx++) {
            int X = x + dx, Y = y + dy;
            int v = 4 * G(p, X, Y) - G(p, X - 1, Y) - G(p, X + 1, Y) - G(p, X, Y - 1) -
                    G(p, X, Y + 1);
            a += v < 0 ? -v : v;
        }
    return a;
}

static uint8_t reference(const picture *p, const aem_wiener *wf, int c, int x, int y)
{
    static const int off[12][2] = {{0, 1}, {0, 2}, {0, 3}, {1, -2}, {1, -1}, {1, 0},
                                   {1, 1}, {1, 2}, {2, -1}, {2, 0}, {2, 1}, {3, 0}};
    int act = activity(p, x, y), k = 0;
    for (int j = 0; j + 1 < wf->classes; j++)
        k += act >= wf->threshold[j];
    int taps[AEM_WIENER_MAX_TAPS], n = 0, pc = P(p, c, x, y);
    for (int i = 0; i < 12; i++)
        taps[n++] = P(p, c, x + off[i][1], y + off[i][0]) + P(p, c, x - off[i][1], y - off[i][0]) -
                    2 * pc;
    for (int e = 0; e < p->colours; e++) {
        if (e == c)
            continue;
        int pe = P(p, e, x, y);
        taps[n++] = pe - pc;
        taps[n++] = P(p, e, x + 1, y) + P(p, e, x - 1, y) - 2 * pe;
        taps[n++] = P(p, e, x, y + 1) + P(p, e, x, y - 1) - 2 * pe;
    }
    taps[n++] = 1;
    long long sum = 0;
    for (int i = 0; i < n; i++)
        sum += (long long)wf->w[k][c][i] * taps[i];
    long long d = sum + 128;
    d = d >= 0 ? d / 256 : -((-d + 255) / 256); /* floor */
    long long v = pc + d;
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
}

static void random_filter(aem_wiener *wf, int colours, int classes, int big)
{
    memset(wf, 0, sizeof *wf);
    wf->classes = classes, wf->colours = colours;
    int t = 0;
    for (int j = 0; j + 1 < classes; j++) {
        t += 1 + (int)(rnd() % 300);
        wf->threshold[j] = (uint16_t)t;
    }
    for (int k = 0; k < classes; k++)
        for (int c = 0; c < colours; c++)
            for (int i = 0; i < aem_wiener_taps(colours); i++)
                wf->w[k][c][i] = (int16_t)(big ? (rnd() % 2 ? 4095 : -4095)
                                               : (int)(rnd() % 161) - 80);
}

/* The library's filter of [x0, x0+w) x [y0, y1) against the reference,
 * its source the output widened by 3 and clipped to the picture. */
static int check_rect(const picture *p, const aem_wiener *wf, int x0, int y0, int w, int y1)
{
    int sx0 = x0 - 3 < 0 ? 0 : x0 - 3, sy0 = y0 - 3 < 0 ? 0 : y0 - 3;
    int sx1 = x0 + w + 3 > p->w ? p->w : x0 + w + 3, sy1 = y1 + 3 > p->h ? p->h : y1 + 3;
    /* the source rectangle alone, so reading outside it would show */
    size_t sstride = (size_t)(sx1 - sx0) * p->ch + 5;
    uint8_t *src = malloc(sstride * (size_t)(sy1 - sy0));
    for (int y = sy0; y < sy1; y++)
        memcpy(src + (size_t)(y - sy0) * sstride, p->pix + ((size_t)y * p->w + sx0) * p->ch,
               (size_t)(sx1 - sx0) * p->ch);
    aem_wiener_source s = {src,
                           sstride,
                           p->ch,
                           p->colours,
                           (uint32_t)sx0,
                           (uint32_t)sy0,
                           (uint32_t)sx1,
                           (uint32_t)sy1};
    size_t ostride = (size_t)w * p->ch + 3;
    uint8_t *out = malloc(ostride * (size_t)(y1 - y0));
    /* with its own memory, and with the caller's (made dirty first) */
    size_t nb = aem_wiener_scratch_bytes((uint32_t)w, p->colours);
    uint8_t *scratch = malloc(nb);
    memset(scratch, 0x5a, nb);
    uint8_t *out2 = malloc(ostride * (size_t)(y1 - y0));
    int bad = aem_wiener_filter(wf, &s, (uint32_t)x0, (uint32_t)y0, (uint32_t)w, (uint32_t)y1, out,
                                ostride, NULL, 0) != 0 ||
              aem_wiener_filter(wf, &s, (uint32_t)x0, (uint32_t)y0, (uint32_t)w, (uint32_t)y1,
                                out2, ostride, scratch, nb) != 0;
    for (int y = 0; y < y1 - y0 && !bad; y++)
        bad = memcmp(out + (size_t)y * ostride, out2 + (size_t)y * ostride, (size_t)w * p->ch) != 0;
    free(scratch), free(out2);
    for (int y = y0; y < y1 && !bad; y++)
        for (int x = x0; x < x0 + w && !bad; x++)
            for (int c = 0; c < p->ch && !bad; c++) {
                uint8_t got = out[(size_t)(y - y0) * ostride + (size_t)(x - x0) * p->ch + c];
                uint8_t want = c < p->colours ? reference(p, wf, c, x, y)
                                              : p->pix[((size_t)y * p->w + x) * p->ch + c];
                if (got != want) {
                    printf("  pixel %d,%d channel %d: %d, the spec says %d\n", x, y, c, got, want);
                    bad = 1;
                }
            }
    free(src), free(out);
    return !bad;
}

static void test_filter_matches_spec(void)
{
    static const int chans[] = {1, 2, 3, 4};
    for (int ci = 0; ci < 4; ci++) {
        int ch = chans[ci], colours = ch >= 3 ? 3 : 1, w = 37, h = 23;
        uint8_t *pix = malloc((size_t)w * h * ch);
        for (size_t i = 0; i < (size_t)w * h * ch; i++) /* edges and flat areas */
            pix[i] = (uint8_t)(i % 7 == 0 ? rnd() % 256 : (i / 40) * 9 % 256);
        picture p = {pix, w, h, ch, colours};
        for (int trial = 0; trial < 4; trial++) {
            aem_wiener wf;
            random_filter(&wf, colours, 1 + trial * 2 + (ci & 1), trial == 3);
            CHECKF(check_rect(&p, &wf, 0, 0, w, h), "%d channels, whole picture", ch);
            CHECKF(check_rect(&p, &wf, 5, 4, 20, 15), "%d channels, inside", ch);
            CHECKF(check_rect(&p, &wf, 1, 0, 1, 1), "%d channels, a corner", ch);
            CHECKF(check_rect(&p, &wf, w - 2, h - 5, 2, h), "%d channels, the far edge", ch);
        }
        free(pix);
    }
}

/* ---- the stream ----------------------------------------------------------- */

static aec_status read_raw(const uint8_t *raw, size_t n, int classes, int colours,
                           aem_wiener *wf)
{
    uint8_t *frame = NULL, *s;
    size_t fsize = 0;
    aec_status st = aecb_zstd_compress(NULL, raw, n, 3, NULL, &frame, &fsize, NULL, 0);
    CHECK(st == AEC_OK);
    s = malloc(fsize + 1);
    s[0] = (uint8_t)classes;
    memcpy(s + 1, frame, fsize);
    char err[256] = "";
    st = aecb_wiener_read(NULL, s, fsize + 1, colours, wf, err, sizeof err);
    CHECKF(st == AEC_OK || (st == AEC_ERR_CORRUPT && err[0]), "%d %s", st, err);
    free(frame), free(s);
    return st;
}

static void test_stream(void)
{
    for (int colours = 1; colours <= 3; colours += 2)
        for (int K = 1; K <= AEM_WIENER_MAX_CLASSES; K++) {
            aem_wiener wf, back;
            random_filter(&wf, colours, K, K == 8);
            uint8_t *s = NULL;
            size_t n = 0;
            CHECK(aecb_wiener_write(&wf, &s, &n, NULL, 0) == AEC_OK);
            CHECK(n <= aecb_wiener_bound(colours));
            memset(&back, 0, sizeof back);
            CHECK(aecb_wiener_read(NULL, s, n, colours, &back, NULL, 0) == AEC_OK &&
                  back.classes == K && memcmp(back.threshold, wf.threshold, sizeof wf.threshold) == 0 &&
                  memcmp(back.w, wf.w, sizeof wf.w) == 0);
            /* the other colour count reads another content size */
            CHECK(aecb_wiener_read(NULL, s, n, 4 - colours, &back, NULL, 0) == AEC_ERR_CORRUPT);
            CHECK(aecb_wiener_read(NULL, s, 1, colours, &back, NULL, 0) == AEC_ERR_CORRUPT);
            free(s);
        }
    /* each rule of a hostile stream, in a valid frame */
    int T = aem_wiener_taps(3);
    size_t n = aecb_wiener_raw_size(3, 3);
    uint8_t *raw = calloc(n, 1);
    aem_wiener wf;
    raw[0] = 10, raw[2] = 20; /* thresholds 10, 20 */
    CHECK(read_raw(raw, n, 3, 3, &wf) == AEC_OK && wf.threshold[1] == 20);
    raw[2] = 10; /* not ascending */
    CHECK(read_raw(raw, n, 3, 3, &wf) == AEC_ERR_CORRUPT);
    raw[2] = 0x24, raw[3] = 0x24; /* 9252 > 9180 */
    CHECK(read_raw(raw, n, 3, 3, &wf) == AEC_ERR_CORRUPT);
    raw[2] = 20, raw[3] = 0, raw[0] = 0; /* 0 */
    CHECK(read_raw(raw, n, 3, 3, &wf) == AEC_ERR_CORRUPT);
    raw[0] = 10;
    raw[4 + 2 * (T + 1)] = 0x00, raw[5 + 2 * (T + 1)] = 0x10; /* 4096 */
    CHECK(read_raw(raw, n, 3, 3, &wf) == AEC_ERR_CORRUPT);
    raw[4 + 2 * (T + 1)] = 0x01, raw[5 + 2 * (T + 1)] = 0xf0; /* -4095 */
    CHECK(read_raw(raw, n, 3, 3, &wf) == AEC_OK && wf.w[0][1][1] == -4095);
    CHECK(read_raw(raw, n - 2, 3, 3, &wf) == AEC_ERR_CORRUPT); /* short content */
    CHECK(read_raw(raw, n, 0, 3, &wf) == AEC_ERR_CORRUPT);     /* 0 classes */
    CHECK(read_raw(raw, n, 9, 3, &wf) == AEC_ERR_CORRUPT);     /* 9 classes */
    free(raw);
    /* the writer refuses what the reader would */
    random_filter(&wf, 3, 2, 0);
    wf.w[1][2][3] = 4096;
    uint8_t *s = NULL;
    size_t size = 0;
    CHECK(aecb_wiener_write(&wf, &s, &size, NULL, 0) == AEC_ERR_INVALID_ARGUMENT && !s);
}

/* Every kernel path's filter sums equal the C path's (integers: exactly),
 * over a row with a ragged end, 0 and 2 other colours. */
static void test_paths_agree(void)
{
    enum { N = 203, S = 12, K = 8, PAD = 4 };
    int16_t w[K][19];
    int32_t rows[S * 2 + 1 + 6][N + 2 * PAD], cls[N], want[N], got[N];
    for (int k = 0; k < K; k++)
        for (int t = 0; t < 19; t++)
            w[k][t] = (int16_t)((int)(rnd() % 8191) - 4095);
    for (int r = 0; r < S * 2 + 1 + 6; r++)
        for (int x = 0; x < N + 2 * PAD; x++)
            rows[r][x] = (int32_t)(rnd() % 256);
    for (int x = 0; x < N; x++)
        cls[x] = (int32_t)(rnd() % K);
    const int32_t *down[S], *up[S], *other[6];
    for (int t = 0; t < S; t++)
        down[t] = rows[t] + PAD, up[t] = rows[S + t] + PAD;
    for (int e = 0; e < 6; e++)
        other[e] = rows[2 * S + 1 + e] + PAD;
    for (int others = 0; others <= 2; others += 2) {
        nn_dsp_of(NN_ISA_C)->wiener_row(S, down, up, rows[2 * S] + PAD, others, other, cls, K,
                                        w[0], 19, N, want);
        for (int isa = 0; isa < NN_ISA_COUNT; isa++) {
            const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
            if (!d)
                continue;
            memset(got, 0, sizeof got);
            d->wiener_row(S, down, up, rows[2 * S] + PAD, others, other, cls, K, w[0], 19, N, got);
            CHECKF(memcmp(got, want, sizeof got) == 0, "path %s differs from c (%d others)",
                   d->name, others);
            printf("  path %s, %d other colours: the same sums\n", d->name, others);
        }
    }
}

/* Every path's exact sums of products (the encoder's normal equations)
 * equal the C path's, over rows longer than a chunk and a ragged end. */
static void test_gram_paths_agree(void)
{
    enum { M = 20, N = 700 };
    int32_t *a = malloc(sizeof(int32_t) * M * N);
    for (int i = 0; i < M * N; i++)
        a[i] = (int)(rnd() % 4095) - 2047;
    int64_t want[M * M] = {0};
    nn_dsp_of(NN_ISA_C)->gram(M, a, N, N - 3, want);
    for (int isa = 0; isa < NN_ISA_COUNT; isa++) {
        const nn_dsp *d = nn_dsp_of((enum nn_isa)isa);
        if (!d)
            continue;
        int64_t got[M * M] = {0};
        d->gram(M, a, N, N - 3, got);
        CHECKF(memcmp(got, want, sizeof got) == 0, "path %s's sums differ from c", d->name);
    }
    free(a);
}

int main(void)
{
    RUN_TEST(test_gram_paths_agree);
    RUN_TEST(test_paths_agree);
    RUN_TEST(test_filter_matches_spec);
    RUN_TEST(test_stream);
    TEST_EXIT();
}
