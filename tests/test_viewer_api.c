/* SPDX-License-Identifier: BSD-3-Clause */
/* test_viewer_api.c - the decode calls image viewers use: output layouts
 * against the plain decode pixel by pixel, the caller's buffer and stride
 * (padding untouched, too small refused), scaled decodes against a box
 * average of the full decode, regions with scale, and progressive decodes
 * of every prefix of a multi-stage VQ file and of a tiled lattice file. */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "aecodec.h"
#include "testlib.h"

#define CANARY 0xA5

/* Waves, a hard-edged checker and a little noise; alpha a ramp. */
static uint8_t *synth(uint32_t w, uint32_t h, int ch, unsigned seed)
{
    uint8_t *p = malloc((size_t)w * h * ch);
    uint32_t r = seed * 747796405u + 7;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            r = r * 1103515245u + 12345u;
            double v = 120 + 50 * sin(x * 0.07 + seed) + 40 * cos(y * 0.09) + ((r >> 27) & 7);
            v += ((x / 19 + y / 13) & 1) ? 25 : -25;
            for (int c = 0; c < ch; c++) {
                double s = v + 18 * c;
                if (c == 3 || (ch == 2 && c == 1))
                    s = (x * 5 + y * 11) & 255;
                p[((size_t)y * w + x) * ch + c] = (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s);
            }
        }
    return p;
}

/* Encodes with the built-in models at a level (model NULL), or with one
 * model's VQ stages (level = stages); tiles of 64 so that small images
 * have several. */
static uint8_t *encode(const uint8_t *px, uint32_t w, uint32_t h, int ch, const aec_model *model,
                       int level, size_t *size)
{
    aec_encoder *enc = NULL;
    uint8_t *out = NULL;
    if (aec_encoder_create(&enc, model) != AEC_OK)
        return NULL;
    aec_encode_params p;
    aec_encode_params_default(&p);
    p.quality = level, p.tile_size = 64, p.threads = 1;
    if (aec_encode(enc, px, w, h, 0, (aec_layout)ch, &p, &out, size) != AEC_OK)
        out = NULL;
    aec_encoder_destroy(enc);
    return out;
}

/* The test's own layout conversion of one decoded pixel (the header's
 * rules: grey widened, luma for grey from colour, alpha 255 or dropped). */
static void convert_px(const uint8_t *s, int in, int out, int *v)
{
    int gray_in = in <= 2, r = s[0], g = gray_in ? s[0] : s[1], b = gray_in ? s[0] : s[2];
    int a = (in == 2 || in == 4) ? s[in - 1] : 255;
    if (out <= 2)
        v[0] = gray_in ? r : (299 * r + 587 * g + 114 * b + 500) / 1000;
    else
        v[0] = r, v[1] = g, v[2] = b;
    if (out == 2 || out == 4)
        v[out - 1] = a;
}

/* The expected output: the plain decode `full` (fw x fh, layout in)
 * converted to `out` and box-averaged by s over the region. */
static uint8_t *expected(const uint8_t *full, uint32_t fw, int in, int out, uint32_t rx,
                         uint32_t ry, uint32_t rw, uint32_t rh, int s, uint32_t *ow, uint32_t *oh)
{
    *ow = (rw + s - 1) / s, *oh = (rh + s - 1) / s;
    uint8_t *e = malloc((size_t)*ow * *oh * out);
    for (uint32_t oy = 0; oy < *oh; oy++)
        for (uint32_t ox = 0; ox < *ow; ox++) {
            int sum[4] = {0, 0, 0, 0}, n = 0;
            for (uint32_t y = oy * s; y < oy * s + s && y < rh; y++)
                for (uint32_t x = ox * s; x < ox * s + s && x < rw; x++, n++) {
                    int v[4];
                    convert_px(full + ((size_t)(ry + y) * fw + rx + x) * in, in, out, v);
                    for (int c = 0; c < out; c++)
                        sum[c] += v[c];
                }
            for (int c = 0; c < out; c++)
                e[((size_t)oy * *ow + ox) * out + c] = (uint8_t)((sum[c] + n / 2) / n);
        }
    return e;
}

static int g_files_ok = 1;
static uint8_t *g_file[5];   /* by coded layout 1..4: a 203x77 file of level 4 (half
                                size without alpha) */
static size_t g_size[5];
static uint8_t *g_plain[5];  /* its plain aec_decode */

static void make_files(void)
{
    for (int ch = 1; ch <= 4; ch++) {
        uint8_t *px = synth(203, 77, ch, (unsigned)ch);
        g_file[ch] = encode(px, 203, 77, ch, NULL, 4, &g_size[ch]);
        free(px);
        aec_decoder *dec;
        uint32_t w, h;
        aec_layout l;
        g_files_ok &= g_file[ch] && aec_decoder_create(&dec, NULL) == AEC_OK;
        if (!g_files_ok)
            return;
        g_files_ok &= aec_decode(dec, g_file[ch], g_size[ch], NULL, &g_plain[ch], &w, &h, &l) ==
                          AEC_OK &&
                      w == 203 && h == 77 && (int)l == ch;
        aec_decoder_destroy(dec);
    }
}

/* Decodes file `ch` with params through the library buffer call and
 * checks it against the expected image. */
static void check_decode(aec_decoder *dec, int ch, const aec_decode_params *p, const char *what)
{
    int out = p->layout ? p->layout : ch, s = p->scale ? p->scale : 1;
    uint32_t rx = p->x, ry = p->y, rw = p->w ? p->w : 203, rh = p->h ? p->h : 77;
    uint32_t ew, eh, w = 0, h = 0, sw = 0, sh = 0;
    uint8_t *e = expected(g_plain[ch], 203, ch, out, rx, ry, rw, rh, s, &ew, &eh);
    uint8_t *got = NULL;
    aec_layout l = 0, sl = 0;
    aec_status st = aec_decode(dec, g_file[ch], g_size[ch], p, &got, &w, &h, &l);
    CHECKF(st == AEC_OK, "%s: %s", what, aec_decoder_last_error(dec));
    CHECK(aec_decode_size(g_file[ch], g_size[ch], p, &sw, &sh, &sl) == AEC_OK);
    CHECKF(w == ew && h == eh && sw == ew && sh == eh && (int)l == out && (int)sl == out,
           "%s: %ux%u layout %d, expected %ux%u layout %d", what, w, h, (int)l, ew, eh, out);
    if (st == AEC_OK && w == ew && h == eh) {
        size_t bad = 0;
        for (size_t i = 0; i < (size_t)ew * eh * out; i++)
            bad += got[i] != e[i];
        CHECKF(bad == 0, "%s: %zu samples differ", what, bad);
    }
    aec_free(got);
    free(e);
}

static void test_layout_conversions(void)
{
    CHECK(g_files_ok);
    if (!g_files_ok)
        return;
    aec_decoder *dec;
    aec_decoder_create(&dec, NULL);
    for (int ch = 1; ch <= 4; ch++)
        for (int out = 0; out <= 4; out++) {
            aec_decode_params p;
            aec_decode_params_default(&p);
            p.layout = out;
            char what[64];
            snprintf(what, sizeof what, "coded %d as %d", ch, out);
            check_decode(dec, ch, &p, what);
        }
    aec_decoder_destroy(dec);
}

/* aec_decode_into with a padded stride: the pixels of the library buffer
 * call, every padding byte (and the buffer's tail) still the canary. */
static void test_stride_keeps_padding(void)
{
    if (!g_files_ok)
        return;
    aec_decoder *dec;
    aec_decoder_create(&dec, NULL);
    for (int ch = 1; ch <= 4; ch++)
        for (int out = 3; out <= 4; out++)
            for (int s = 1; s <= 8; s *= 2) {
                aec_decode_params p;
                aec_decode_params_default(&p);
                p.layout = out, p.scale = s;
                uint8_t *ref = NULL;
                uint32_t w, h;
                CHECK(aec_decode(dec, g_file[ch], g_size[ch], &p, &ref, &w, &h, NULL) == AEC_OK);
                if (!ref)
                    continue;
                size_t row = (size_t)w * out, stride = row + 13, size = stride * h + 29;
                uint8_t *buf = malloc(size);
                memset(buf, CANARY, size);
                aec_status st = aec_decode_into(dec, g_file[ch], g_size[ch], &p, buf, stride, size);
                CHECKF(st == AEC_OK, "%s", aec_decoder_last_error(dec));
                size_t bad_px = 0, bad_pad = 0;
                for (uint32_t y = 0; y < h; y++) {
                    bad_px += memcmp(buf + y * stride, ref + y * row, row) != 0;
                    for (size_t k = row; k < stride; k++)
                        bad_pad += buf[y * stride + k] != CANARY;
                }
                for (size_t k = stride * h; k < size; k++)
                    bad_pad += buf[k] != CANARY;
                CHECKF(bad_px == 0 && bad_pad == 0,
                       "coded %d as %d scale %d: %zu rows differ, %zu padding bytes written", ch,
                       out, s, bad_px, bad_pad);
                /* stride 0 = tightly packed, exactly the library buffer */
                memset(buf, CANARY, size);
                CHECK(aec_decode_into(dec, g_file[ch], g_size[ch], &p, buf, 0, row * h) == AEC_OK);
                CHECK(memcmp(buf, ref, row * h) == 0);
                free(buf);
                aec_free(ref);
            }
    aec_decoder_destroy(dec);
}

static void test_too_small_buffer_refused(void)
{
    if (!g_files_ok)
        return;
    aec_decoder *dec;
    aec_decoder_create(&dec, NULL);
    aec_decode_params p;
    aec_decode_params_default(&p);
    p.layout = AEC_RGBA;
    size_t row = 203 * 4, stride = row + 4, need = stride * 76 + row;
    uint8_t *buf = malloc(need);
    memset(buf, CANARY, need);
    aec_status st = aec_decode_into(dec, g_file[3], g_size[3], &p, buf, stride, need - 1);
    CHECK(st == AEC_ERR_INVALID_ARGUMENT);
    CHECKF(strstr(aec_decoder_last_error(dec), "too small") != NULL, "message: %s",
           aec_decoder_last_error(dec));
    st = aec_decode_into(dec, g_file[3], g_size[3], &p, buf, row - 1, need);
    CHECK(st == AEC_ERR_INVALID_ARGUMENT);
    CHECK(strstr(aec_decoder_last_error(dec), "stride") != NULL);
    CHECK(aec_decode_into(dec, g_file[3], g_size[3], &p, NULL, stride, need) ==
          AEC_ERR_INVALID_ARGUMENT);
    size_t touched = 0;
    for (size_t k = 0; k < need; k++)
        touched += buf[k] != CANARY;
    CHECKF(touched == 0, "%zu bytes written by refused calls", touched);
    /* exactly large enough (no padding after the last row) is fine */
    CHECK(aec_decode_into(dec, g_file[3], g_size[3], &p, buf, stride, need) == AEC_OK);
    /* bad scale and layout */
    p.scale = 3;
    CHECK(aec_decode_into(dec, g_file[3], g_size[3], &p, buf, stride, need) ==
          AEC_ERR_INVALID_ARGUMENT);
    p.scale = 1, p.layout = 5;
    CHECK(aec_decode_into(dec, g_file[3], g_size[3], &p, buf, stride, need) ==
          AEC_ERR_INVALID_ARGUMENT);
    free(buf);
    aec_decoder_destroy(dec);
}

static void test_scaled_is_box_average(void)
{
    if (!g_files_ok)
        return;
    aec_decoder *dec;
    aec_decoder_create(&dec, NULL);
    for (int ch = 1; ch <= 4; ch++)
        for (int s = 2; s <= 8; s *= 2)
            for (int out = 0; out <= 4; out += 4) {
                aec_decode_params p;
                aec_decode_params_default(&p);
                p.scale = s, p.layout = out;
                char what[64];
                snprintf(what, sizeof what, "coded %d scale %d as %d", ch, s, out);
                check_decode(dec, ch, &p, what);
            }
    aec_decoder_destroy(dec);
}

static void test_region_with_scale(void)
{
    if (!g_files_ok)
        return;
    aec_decoder *dec;
    aec_decoder_create(&dec, NULL);
    /* boxes from the region's corner, odd corner and size */
    static const uint32_t regions[][4] = {{17, 9, 150, 51}, {63, 1, 77, 75}, {0, 0, 1, 1},
                                          {202, 76, 1, 1}, {5, 60, 198, 17}};
    for (size_t k = 0; k < sizeof regions / sizeof regions[0]; k++)
        for (int s = 1; s <= 8; s *= 2) {
            aec_decode_params p;
            aec_decode_params_default(&p);
            p.x = regions[k][0], p.y = regions[k][1], p.w = regions[k][2], p.h = regions[k][3];
            p.scale = s, p.layout = AEC_RGB;
            char what[64];
            snprintf(what, sizeof what, "region %zu scale %d", k, s);
            check_decode(dec, 4, &p, what);
        }
    /* a region on the scale's grid reaching the image's edge: exactly its
     * part of the reduced whole image */
    aec_decode_params p;
    aec_decode_params_default(&p);
    p.scale = 8;
    uint8_t *whole = NULL, *part = NULL;
    uint32_t ww, wh, pw, ph;
    CHECK(aec_decode(dec, g_file[3], g_size[3], &p, &whole, &ww, &wh, NULL) == AEC_OK);
    p.x = 64, p.y = 16, p.w = 203 - 64, p.h = 77 - 16;
    CHECK(aec_decode(dec, g_file[3], g_size[3], &p, &part, &pw, &ph, NULL) == AEC_OK);
    CHECK(ww == 26 && wh == 10 && pw == 18 && ph == 8);
    for (uint32_t y = 0; whole && part && y < ph; y++)
        CHECK(memcmp(part + (size_t)y * pw * 3, whole + ((size_t)(y + 2) * ww + 8) * 3,
                     (size_t)pw * 3) == 0);
    aec_free(whole);
    aec_free(part);
    aec_decoder_destroy(dec);
}

static double psnr(const uint8_t *a, const uint8_t *b, size_t n)
{
    double se = 0;
    for (size_t i = 0; i < n; i++)
        se += ((double)a[i] - b[i]) * ((double)a[i] - b[i]);
    return se == 0 ? 99 : 10 * log10(255.0 * 255.0 * (double)n / se);
}

/* Every prefix of a 6-stage VQ file (RGBA: the alpha plane comes first;
 * coded with aecodec-default-v1, the 12-stage VQ model of models/):
 * never a crash; before the table, TRUNCATED with the bytes needed; then a
 * picture equal to the whole file decoded with the stages the prefix
 * holds (mid-grey before stage 1), whose PSNR does not fall as the prefix
 * grows; the probe agrees with the decode; the whole file is aec_decode's. */
static void test_prefix_of_vq_file(void)
{
    const uint32_t W = 72, H = 40; /* 2 tiles of 64 */
    uint8_t *px = synth(W, H, 4, 9);
    size_t size = 0;
    aec_model *vq = NULL;
    CHECK(aec_model_load_file(&vq, "models/default-v1.aem") == AEC_OK);
    uint8_t *file = vq ? encode(px, W, H, 4, vq, 6, &size) : NULL;
    CHECK(file != NULL);
    if (!file) {
        aec_model_free(vq);
        free(px);
        return;
    }
    aec_decoder *dec;
    aec_decoder_create(&dec, vq);
    aec_decoder_set_threads(dec, 1); /* many small decodes: no team to wake */
    size_t n = (size_t)W * H * 4;
    uint8_t *by_stage[7] = {NULL};
    for (int s = 1; s <= 6; s++) {
        aec_decode_params p;
        aec_decode_params_default(&p);
        p.stages = s;
        uint32_t w, h;
        CHECK(aec_decode(dec, file, size, &p, &by_stage[s], &w, &h, NULL) == AEC_OK);
    }
    uint8_t *buf = malloc(n);
    aec_decode_params p;
    aec_decode_params_default(&p);
    p.partial = 1;
    int last_stages = -1, table_seen = 0, mismatches = 0;
    double last_psnr = 0;
    uint64_t last_used = 0;
    char line[200] = "";
    for (size_t cut = 0; cut <= size; cut++) {
        aec_progress pr, probe;
        aec_status st = aec_decode_into(dec, file, cut, &p, buf, 0, n);
        aec_decoder_last_progress(dec, &pr);
        aec_status pst = aec_probe_prefix(file, cut, &p, &probe);
        CHECK(pst == st);
        if (st != AEC_OK) {
            CHECKF(st == AEC_ERR_TRUNCATED && !table_seen && pr.next_bytes > cut &&
                       probe.next_bytes == pr.next_bytes,
                   "cut %zu: %s (%s)", cut, aec_status_string(st), aec_decoder_last_error(dec));
            continue;
        }
        table_seen = 1;
        CHECK(memcmp(&pr, &probe, sizeof pr) == 0);
        CHECK(pr.bytes_used <= cut && pr.bytes_used >= last_used && pr.file_size == size);
        CHECK(pr.final == (cut == size) && (pr.next_bytes == 0 || pr.next_bytes > cut));
        CHECK(pr.stages >= last_stages && pr.tiles_refined == 0);
        last_used = pr.bytes_used;
        if (pr.stages == 0) {
            for (size_t i = 0; i < n; i++)
                mismatches += (i % 4 == 3 ? buf[i] != 255 && buf[i] != px[i] : buf[i] != 128);
        } else {
            mismatches += memcmp(buf, by_stage[pr.stages], n) != 0;
        }
        if (pr.stages != last_stages) {
            double q = psnr(buf, px, n);
            CHECKF(q >= last_psnr - 0.05, "cut %zu: %d stages %.2f dB, fewer %.2f dB", cut,
                   pr.stages, q, last_psnr);
            last_psnr = q, last_stages = pr.stages;
            size_t l = strlen(line);
            snprintf(line + l, sizeof line - l, " %d: %.2f", pr.stages, q);
        }
    }
    printf("  VQ file of %zu bytes, every prefix decoded; dB by stages:%s\n", size, line);
    CHECKF(mismatches == 0, "%d prefixes differ from the decode of their stages", mismatches);
    CHECK(last_stages == 6);
    /* the whole file, partial or not, is aec_decode's */
    CHECK(aec_decode_into(dec, file, size, &p, buf, 0, n) == AEC_OK);
    CHECK(by_stage[6] && memcmp(buf, by_stage[6], n) == 0);
    for (int s = 1; s <= 6; s++)
        aec_free(by_stage[s]);
    free(buf);
    free(px);
    aec_free(file);
    aec_decoder_destroy(dec);
    aec_model_free(vq);
}

/* Prefixes of a lattice file of 4 x 2 tiles (a full-size level: level 4's
 * file is coded at half size, in 2 x 1 tiles): tiles arrive in raster
 * order, refined or mid-grey; the probe is checked at every cut, the
 * decode wherever the picture changes, on both sides of each change and
 * at every 61st byte (a decode of every byte would take minutes). */
static void test_prefix_of_lattice_file(void)
{
    size_t size = 0, n = (size_t)203 * 77 * 3;
    uint8_t *orig = synth(203, 77, 3, 3), *plain = NULL;
    uint8_t *file = encode(orig, 203, 77, 3, NULL, 6, &size);
    aec_decoder *dec;
    aec_decoder_create(&dec, NULL);
    uint32_t pw, ph;
    CHECK(file && aec_decode(dec, file, size, NULL, &plain, &pw, &ph, NULL) == AEC_OK);
    if (!plain) {
        free(file), free(orig);
        aec_decoder_destroy(dec);
        return;
    }
    aec_decoder_set_threads(dec, 1); /* many small decodes: no team to wake */
    uint8_t *buf = malloc(n);
    aec_decode_params p;
    aec_decode_params_default(&p);
    p.partial = 1;
    uint64_t last_used = UINT64_MAX;
    uint32_t last_refined = 0;
    double last_psnr = 0;
    int decodes = 0;
    for (size_t cut = 0; cut <= size; cut++) {
        aec_progress probe;
        aec_status st = aec_probe_prefix(file, cut, &p, &probe);
        if (st != AEC_OK) {
            CHECK(st == AEC_ERR_TRUNCATED && probe.next_bytes > cut);
            continue;
        }
        CHECK(probe.stages == 0 && probe.tiles == 8);
        CHECK(probe.tiles_refined + probe.tiles_blank == 8);
        int changed = probe.bytes_used != last_used;
        aec_progress ahead;
        int before_change = aec_probe_prefix(file, cut + 1 <= size ? cut + 1 : size, &p, &ahead) ==
                                AEC_OK &&
                            ahead.bytes_used != probe.bytes_used;
        if (!(changed || before_change || cut % 61 == 0 || cut == size))
            continue;
        decodes++;
        aec_progress pr;
        st = aec_decode_into(dec, file, cut, &p, buf, 0, n);
        aec_decoder_last_progress(dec, &pr);
        CHECKF(st == AEC_OK && memcmp(&pr, &probe, sizeof pr) == 0, "cut %zu: %s", cut,
               aec_decoder_last_error(dec));
        /* the tiles not yet arrived (raster order, 64 x 64) are mid-grey */
        size_t grey_bad = 0;
        for (uint32_t t = probe.tiles_refined; t < 8; t++)
            for (uint32_t y = (t / 4) * 64; y < (t / 4) * 64 + 64 && y < 77; y++)
                for (uint32_t x = (t % 4) * 64; x < (t % 4) * 64 + 64 && x < 203; x++)
                    for (int c = 0; c < 3; c++)
                        grey_bad += buf[((size_t)y * 203 + x) * 3 + c] != 128;
        CHECKF(grey_bad == 0, "cut %zu: %zu samples of missing tiles not grey", cut, grey_bad);
        if (changed && probe.tiles_refined != last_refined) {
            double q = psnr(buf, orig, n);
            CHECKF(q > last_psnr, "cut %zu: %u tiles %.2f dB, fewer %.2f dB", cut,
                   probe.tiles_refined, q, last_psnr);
            last_psnr = q;
        }
        last_used = probe.bytes_used, last_refined = probe.tiles_refined;
    }
    CHECK(last_refined == 8 && decodes > 16);
    printf("  lattice file of %zu bytes, %d prefixes decoded, all probed; %.2f dB whole\n", size,
           decodes, last_psnr);
    CHECK(memcmp(buf, plain, n) == 0); /* the last decode: the whole file */
    /* without partial a prefix is refused as before */
    p.partial = 0;
    CHECK(aec_decode_into(dec, file, size - 1, &p, buf, 0, n) == AEC_ERR_TRUNCATED);
    free(buf);
    aec_free(plain), free(file), free(orig);
    aec_decoder_destroy(dec);
}

/* Damaged prefixes in progressive mode: a flipped bit anywhere (header,
 * table, streams) of a random prefix is an error or a picture, never a
 * crash (run under the sanitizers), and a picture's progress stays within
 * the prefix. */
static void test_damaged_prefixes(void)
{
    if (!g_files_ok)
        return;
    aec_decoder *dec;
    aec_decoder_create(&dec, NULL);
    aec_decoder_set_threads(dec, 1);
    aec_decode_params p;
    aec_decode_params_default(&p);
    p.partial = 1, p.layout = AEC_RGBA, p.scale = 2;
    size_t n = (size_t)102 * 39 * 4;
    uint8_t *buf = malloc(n), *copy = malloc(g_size[4]);
    uint32_t r = 12345;
    int pictures = 0, errors = 0;
    for (int k = 0; k < 300; k++) {
        r = r * 1664525u + 1013904223u;
        size_t cut = (r >> 8) % (g_size[4] + 1);
        memcpy(copy, g_file[4], g_size[4]);
        r = r * 1664525u + 1013904223u;
        if (cut > 0)
            copy[(r >> 8) % cut] ^= (uint8_t)(1u << (r & 7));
        aec_status st = aec_decode_into(dec, copy, cut, &p, buf, 0, n);
        aec_progress pr;
        aec_decoder_last_progress(dec, &pr);
        if (st == AEC_OK) {
            pictures++;
            CHECK(pr.bytes_used <= cut);
        } else {
            errors++;
            CHECK(strlen(aec_decoder_last_error(dec)) > 0 || st == AEC_ERR_TRUNCATED);
        }
    }
    printf("  300 damaged prefixes: %d pictures, %d errors\n", pictures, errors);
    free(buf);
    free(copy);
    aec_decoder_destroy(dec);
}

int main(void)
{
    make_files();
    RUN_TEST(test_layout_conversions);
    RUN_TEST(test_stride_keeps_padding);
    RUN_TEST(test_too_small_buffer_refused);
    RUN_TEST(test_scaled_is_box_average);
    RUN_TEST(test_region_with_scale);
    RUN_TEST(test_prefix_of_vq_file);
    RUN_TEST(test_prefix_of_lattice_file);
    RUN_TEST(test_damaged_prefixes);
    for (int ch = 1; ch <= 4; ch++) {
        aec_free(g_file[ch]);
        aec_free(g_plain[ch]);
    }
    TEST_EXIT();
}
