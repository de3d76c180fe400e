/* SPDX-License-Identifier: BSD-3-Clause */
/* test_conformance_pins.c - the pin-*.aec conformance files (coded with
 * tests/conformance/pins.aem) catch the decoder-network mistakes that the
 * tiny.aem files let through (spec/bitstream.md 14.2, spec/model.md).
 *
 * Wrong decoders are built by perturbing the reference, never by changing
 * it: a wrong network is pins.aem with its decoder weights rearranged as
 * that mistake reads them (the model file edited by spec/model.md's layout,
 * its CRC redone, and each file's model_id pointed at the edited model); a
 * wrong grey conversion is the reference's RGB output (the file's layout
 * byte changed from grey to RGB: the same network output, clamped and
 * rounded per channel) turned into grey.  Each wrong network and each
 * wrong grey formula must miss every file it concerns by more than the
 * conformance tolerance, while the reference meets them all; BT.601 taken
 * after clamping and rounding R, G, B (instead of before) must miss at
 * least one (pin-greybw64x64.aec, where the decoder overshoots 0 and 1).  Run from the
 * repository root (as tests/run_tests.sh does). */
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aecodec.h"
#include "bitstream/container.h"
#include "common/imageio.h"
#include "testlib.h"

#define DIR "tests/conformance"
#define TOLERANCE 2 /* levels per colour sample, spec/bitstream.md 14.2 */
#define MAX_PINS 16

typedef enum {
    REFERENCE,
    FLIPPED_KERNELS,    /* convolution (kernel turned by 180 degrees) for cross-correlation */
    TRANSPOSED_KERNELS, /* ky and kx swapped: rows taken for columns */
    NO_CONV_BRANCH,     /* y = dec_lin(q) only */
    BLOCK_TRANSPOSED,   /* depth-to-space reading channel c*64 + dx*8 + dy */
    N_NETWORKS
} network_kind;

static const char *const g_network_names[N_NETWORKS] = {
    "reference", "flipped 3x3 kernels", "transposed 3x3 kernels", "no convolution branch",
    "depth-to-space with dx and dy swapped",
};

typedef struct {
    const char *name;
    float r, g, b; /* applied to the decoded (clamped, rounded) R, G, B levels */
    int every;     /* 1: must miss every grey file; 0: at least one */
} grey_formula;

/* What a decoder might guess instead of BT.601 of the unclamped values. */
static const grey_formula g_greys[] = {
    {"BT.601 after clamping R, G, B", 0.299f, 0.587f, 0.114f, 0},
    {"BT.709", 0.2126f, 0.7152f, 0.0722f, 1},
    {"mean of R, G, B", 1.0f / 3, 1.0f / 3, 1.0f / 3, 1},
    {"green only", 0.0f, 1.0f, 0.0f, 1},
};

typedef struct {
    char name[128], png[128];
    uint32_t w, h;
    int layout;
    uint8_t *file;
    size_t size;
    aeio_image ref;
} pin_file;

static pin_file g_pins[MAX_PINS];
static int g_npins;
static uint8_t *g_model;
static size_t g_model_size;

static uint32_t rd32(const uint8_t *p)
{
    return (uint32_t)p[0] | (uint32_t)p[1] << 8 | (uint32_t)p[2] << 16 | (uint32_t)p[3] << 24;
}

static void wr32(uint8_t *p, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        p[i] = (uint8_t)(v >> (8 * i));
}

static float rdf(const uint8_t *p)
{
    uint32_t u = rd32(p);
    float f;
    memcpy(&f, &u, sizeof f);
    return f;
}

static void wrf(uint8_t *p, float f)
{
    uint32_t u;
    memcpy(&u, &f, sizeof u);
    wr32(p, u);
}

/* Byte offsets of the decoder's tensors in a model file, from the header
 * and the parameter order of spec/model.md. */
typedef struct {
    size_t D, X, Cd, Nd;
    size_t lin_w, lin_b, conv_w[8], conv_in[8], out_w, out_b;
} dec_layout;

static int model_layout(const uint8_t *f, size_t n, dec_layout *L)
{
    if (n < 112 || memcmp(f, "AEM1", 4) != 0)
        return -1;
    size_t P = rd32(f + 8), C = rd32(f + 12), D = rd32(f + 16), Ce = rd32(f + 20);
    size_t Ne = rd32(f + 24), Cd = rd32(f + 28), Nd = rd32(f + 32);
    if (P != 8 || C != 3 || Nd < 1 || Nd > 8 || Ne < 1 || Ne > 8)
        return -1;
    size_t X = C * P * P, k = 0; /* k counts floats */
    k += D * X + D;              /* enc_lin */
    for (size_t i = 0; i < Ne; i++)
        k += Ce * (i ? Ce : X) * 9 + Ce;
    k += D * Ce + D; /* enc_out */
    L->D = D, L->X = X, L->Cd = Cd, L->Nd = Nd;
    L->lin_w = k, k += X * D;
    L->lin_b = k, k += X;
    for (size_t i = 0; i < Nd; i++) {
        L->conv_in[i] = i ? Cd : D;
        L->conv_w[i] = k, k += Cd * L->conv_in[i] * 9 + Cd;
    }
    L->out_w = k, k += X * Cd;
    L->out_b = k, k += X;
    /* floats to byte offsets */
    L->lin_w = 112 + 4 * L->lin_w, L->lin_b = 112 + 4 * L->lin_b;
    for (size_t i = 0; i < Nd; i++)
        L->conv_w[i] = 112 + 4 * L->conv_w[i];
    L->out_w = 112 + 4 * L->out_w, L->out_b = 112 + 4 * L->out_b;
    return L->out_b + 4 * X <= n ? 0 : -1;
}

/* Swaps rows i and j (each `len` floats) of the tensor at byte offset at. */
static void swap_rows(uint8_t *f, size_t at, size_t len, size_t i, size_t j)
{
    for (size_t k = 0; k < len; k++) {
        uint8_t *a = f + at + 4 * (i * len + k), *b = f + at + 4 * (j * len + k);
        float t = rdf(a);
        wrf(a, rdf(b)), wrf(b, t);
    }
}

/* A copy of pins.aem as the wrong decoder `kind` reads it, CRC redone. */
static uint8_t *network_model(network_kind kind)
{
    uint8_t *f = malloc(g_model_size);
    dec_layout L;
    if (!f || model_layout(g_model, g_model_size, &L)) {
        free(f);
        return NULL;
    }
    memcpy(f, g_model, g_model_size);
    for (size_t i = 0; i < L.Nd && (kind == FLIPPED_KERNELS || kind == TRANSPOSED_KERNELS); i++)
        for (size_t k = 0; k < L.Cd * L.conv_in[i]; k++) { /* one 3x3 kernel [ky][kx] */
            uint8_t *w = f + L.conv_w[i] + 36 * k;
            float a[9], b[9];
            for (int j = 0; j < 9; j++)
                a[j] = rdf(w + 4 * j);
            for (int ky = 0; ky < 3; ky++)
                for (int kx = 0; kx < 3; kx++)
                    b[ky * 3 + kx] = kind == FLIPPED_KERNELS ? a[(2 - ky) * 3 + 2 - kx]
                                                             : a[kx * 3 + ky];
            for (int j = 0; j < 9; j++)
                wrf(w + 4 * j, b[j]);
        }
    if (kind == NO_CONV_BRANCH)
        memset(f + L.out_w, 0, 4 * (L.X * L.Cd + L.X));
    if (kind == BLOCK_TRANSPOSED) /* output channel c*64 + dy*8 + dx <-> c*64 + dx*8 + dy */
        for (size_t c = 0; c < 3; c++)
            for (size_t dy = 0; dy < 8; dy++)
                for (size_t dx = dy + 1; dx < 8; dx++) {
                    size_t i = c * 64 + dy * 8 + dx, j = c * 64 + dx * 8 + dy;
                    swap_rows(f, L.lin_w, L.D, i, j);
                    swap_rows(f, L.lin_b, 1, i, j);
                    swap_rows(f, L.out_w, L.Cd, i, j);
                    swap_rows(f, L.out_b, 1, i, j);
                }
    wr32(f + g_model_size - 4, aecb_crc32(0, f, g_model_size - 4));
    return f;
}

/* Header CRC of an aecodec file: bytes 0..43, then the stream table. */
static void fix_header_crc(uint8_t *d)
{
    uint32_t n = rd32(d + 20);
    wr32(d + 44, aecb_crc32(aecb_crc32(0, d, 44), d + 48, (size_t)n * 8));
}

/* Decodes a copy of pin p whose model_id is `id` and whose layout byte is
 * `layout` (header CRC redone) with `model`; NULL on failure. */
static uint8_t *decode_pin(const pin_file *p, const aec_model *model, int layout)
{
    uint8_t *d = malloc(p->size), *out = NULL;
    if (!d)
        return NULL;
    memcpy(d, p->file, p->size);
    uint64_t id = aec_model_id(model);
    for (int i = 0; i < 8; i++)
        d[24 + i] = (uint8_t)(id >> (8 * i));
    d[5] = (uint8_t)layout;
    fix_header_crc(d);
    aec_decoder *dec = NULL;
    uint32_t w, h;
    aec_layout ol;
    if (aec_decoder_create(&dec, model) == AEC_OK) {
        aec_decoder_set_threads(dec, 1);
        if (aec_decode(dec, d, p->size, NULL, &out, &w, &h, &ol) != AEC_OK ||
            w != p->w || h != p->h || (int)ol != layout) {
            printf("  %s: %s\n", p->name, aec_decoder_last_error(dec));
            aec_free(out);
            out = NULL;
        }
    }
    aec_decoder_destroy(dec);
    free(d);
    return out;
}

/* Largest difference between the colour (or grey) samples of img, laid out
 * as layout, and the expected image; -1 where the alpha differs. */
static int colour_difference(const pin_file *p, const uint8_t *img)
{
    int ch = p->layout, colours = ch >= 3 ? 3 : 1, maxd = 0;
    for (size_t i = 0; i < (size_t)p->w * p->h; i++) {
        for (int c = 0; c < colours; c++) {
            int d = abs((int)img[i * ch + c] - (int)p->ref.pixels[i * ch + c]);
            maxd = d > maxd ? d : maxd;
        }
        if (ch == 2 || ch == 4)
            if (img[i * ch + ch - 1] != p->ref.pixels[i * ch + ch - 1])
                return -1;
    }
    return maxd;
}

static void load_pins(void)
{
    FILE *f = fopen(DIR "/manifest.txt", "r");
    char err[256], line[512], path[512];
    CHECKF(f != NULL, "cannot open " DIR "/manifest.txt (run from the repository root)");
    while (f && fgets(line, sizeof line, f) && g_npins < MAX_PINS) {
        pin_file *p = &g_pins[g_npins];
        char result[32];
        unsigned long long hash;
        int stages;
        if (strncmp(line, "pin-", 4) != 0 ||
            sscanf(line, "%127s %31s %u %u %d %d %llx %127s", p->name, result, &p->w, &p->h,
                   &p->layout, &stages, &hash, p->png) != 8 ||
            strcmp(result, "OK") != 0)
            continue;
        snprintf(path, sizeof path, DIR "/%s", p->name);
        CHECKF(aeio_read_file(path, &p->file, &p->size, 1u << 24, err, sizeof err) == 0, "%s",
               err);
        snprintf(path, sizeof path, DIR "/%s", p->png);
        CHECKF(aeio_read(path, &p->ref, 0, err, sizeof err) == 0, "%s", err);
        if (p->file && p->ref.pixels && p->ref.width == p->w && p->ref.height == p->h &&
            p->ref.channels == p->layout)
            g_npins++;
        else
            CHECKF(0, "%s: cannot load it or %s", p->name, p->png);
    }
    if (f)
        fclose(f);
    CHECKF(aeio_read_file(DIR "/pins.aem", &g_model, &g_model_size, 1u << 24, err,
                          sizeof err) == 0,
           "%s", err);
}

/* The reference meets every pin file; each wrong network misses each of
 * them by more than the tolerance. */
static void test_wrong_networks(void)
{
    int greys = 0;
    for (int i = 0; i < g_npins; i++)
        greys += g_pins[i].layout <= 2;
    CHECKF(g_npins >= 5 && greys >= 3, "%d pin files (%d grey): expected at least 5 (3 grey)",
           g_npins, greys);
    for (int kind = 0; kind < N_NETWORKS && g_model; kind++) {
        uint8_t *f = network_model((network_kind)kind);
        aec_model *m = NULL;
        CHECKF(f && aec_model_load_memory(&m, f, g_model_size) == AEC_OK,
               "pins.aem as read by the decoder with %s does not load", g_network_names[kind]);
        int lo = 256, hi = 0;
        for (int i = 0; m && i < g_npins; i++) {
            const pin_file *p = &g_pins[i];
            uint8_t *img = decode_pin(p, m, p->layout);
            int d = img ? colour_difference(p, img) : -1;
            CHECKF(d >= 0, "%s with %s: no image or alpha differs", p->name,
                   g_network_names[kind]);
            if (kind == REFERENCE)
                CHECKF(d <= TOLERANCE, "%s: the reference differs by %d levels", p->name, d);
            else
                CHECKF(d > TOLERANCE, "%s: a decoder with %s passes it (%d levels)", p->name,
                       g_network_names[kind], d);
            lo = d < lo ? d : lo, hi = d > hi ? d : hi;
            aec_free(img);
        }
        printf("  %-40s differs by %d..%d levels over %d pin files\n", g_network_names[kind],
               lo, hi, g_npins);
        aec_model_free(m);
        free(f);
    }
}

/* Grey pin files decoded as RGB (the same network output, clamped and
 * rounded per channel), then turned into grey by other formulas. */
static void test_wrong_grey(void)
{
    aec_model *m = NULL;
    if (!g_model || aec_model_load_memory(&m, g_model, g_model_size) != AEC_OK) {
        CHECK(0);
        return;
    }
    for (size_t k = 0; k < sizeof g_greys / sizeof *g_greys; k++) {
        const grey_formula *gf = &g_greys[k];
        int lo = 256, hi = 0, missed = 0, greys = 0;
        for (int i = 0; i < g_npins; i++) {
            const pin_file *p = &g_pins[i];
            if (p->layout > 2)
                continue;
            greys++;
            int ch = p->layout, rgb_ch = ch + 2;
            uint8_t *rgb = decode_pin(p, m, rgb_ch);
            uint8_t *img = malloc((size_t)p->w * p->h * ch);
            CHECK(rgb && img);
            if (rgb && img) {
                for (size_t j = 0; j < (size_t)p->w * p->h; j++) {
                    const uint8_t *s = rgb + j * rgb_ch;
                    float g = gf->r * s[0] + gf->g * s[1] + gf->b * s[2];
                    img[j * ch] = (uint8_t)fminf(floorf(g + 0.5f), 255.0f);
                    if (ch == 2)
                        img[j * ch + 1] = s[3];
                }
                int d = colour_difference(p, img);
                CHECKF(d >= 0, "%s: alpha differs when decoded as RGBA", p->name);
                if (gf->every)
                    CHECKF(d > TOLERANCE, "%s: grey as %s passes it (%d levels)", p->name,
                           gf->name, d);
                missed += d > TOLERANCE;
                lo = d < lo ? d : lo, hi = d > hi ? d : hi;
            }
            free(img);
            aec_free(rgb);
        }
        CHECKF(missed > 0, "grey as %s passes every grey pin file", gf->name);
        printf("  grey as %-32s differs by %d..%d levels, misses %d of %d files\n", gf->name, lo,
               hi, missed, greys);
    }
    aec_model_free(m);
}

int main(void)
{
    load_pins();
    RUN_TEST(test_wrong_networks);
    RUN_TEST(test_wrong_grey);
    for (int i = 0; i < g_npins; i++) {
        free(g_pins[i].file);
        aeio_free(&g_pins[i].ref);
    }
    free(g_model);
    TEST_EXIT();
}
