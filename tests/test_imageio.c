/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_imageio - tests of tools/common/imageio.c.  Everything is generated
 * in memory or in a private mkdtemp() directory that is removed at the end.
 *
 * Extra modes used by tests/cli_test.sh (not tests themselves):
 *   test_imageio --make-sample OUT W H CHANNELS   write a sample image
 *   test_imageio --info FILE                       print "W H CHANNELS"
 *   test_imageio --alpha-equal A B                 exit 0 if sizes and alpha match
 *   test_imageio --psnr A B                        print PSNR of the colour channels
 *   test_imageio --decode-whole IN OUT [X,Y,W,H]   decode IN (or a region of it) with one
 *                                                  aec_decode call and write it with
 *                                                  aeio_write: what aedec wrote before it
 *                                                  decoded in bands
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "aecodec.h"
#include "common/imageio.h"
#include "testlib.h"

#include <dirent.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <jpeglib.h>
#include <png.h>
#include <zlib.h>

static char g_dir[256];

/* ---- helpers ------------------------------------------------------------- */

static const char *tmp_path(const char *name)
{
    static char buf[4][512];
    static int k;
    k = (k + 1) % 4;
    snprintf(buf[k], sizeof(buf[k]), "%s/%s", g_dir, name);
    return buf[k];
}

static int count_entries(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL)
        if (strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0)
            n++;
    closedir(d);
    return n;
}

/* Removes the files of the (flat) temp dir, then the dir. */
static void clean_dir(const char *dir, int remove_dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    char p[1024];
    while ((e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        snprintf(p, sizeof(p), "%s/%s", dir, e->d_name);
        if (unlink(p) != 0)
            rmdir(p);
    }
    closedir(d);
    if (remove_dir)
        rmdir(dir);
}

static int write_bytes(const char *path, const void *data, size_t n)
{
    FILE *f = fopen(path, "wb");
    if (!f)
        return -1;
    int ok = fwrite(data, 1, n, f) == n;
    return fclose(f) == 0 && ok ? 0 : -1;
}

/* Smooth gradients with a disc and mild texture: natural enough for the
 * codec and for JPEG, and every channel differs. */
static uint8_t sample_value(uint32_t x, uint32_t y, int c, uint32_t w, uint32_t h, int channels)
{
    int alpha = (channels == 2 && c == 1) || (channels == 4 && c == 3);
    double fx = w > 1 ? (double)x / (w - 1) : 0, fy = h > 1 ? (double)y / (h - 1) : 0;
    double dx = fx - 0.6, dy = fy - 0.4;
    int inside = dx * dx + dy * dy < 0.06;
    if (alpha)
        return inside ? 255 : (uint8_t)((x * 7 + y * 3) & 0xff);
    double v;
    switch (c) {
    case 0: v = 40 + 170 * fx + (inside ? 30 : 0); break;
    case 1: v = 60 + 150 * fy - (inside ? 40 : 0); break;
    default: v = 128 + 90 * sin(6.0 * fx + 3.0 * fy); break;
    }
    v += (int)((x * 13 + y * 29) % 7) - 3; /* a little texture */
    return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5);
}

static aeio_image make_image(uint32_t w, uint32_t h, int channels)
{
    aeio_image img = {.width = w, .height = h, .channels = channels,
                      .pixels = malloc((size_t)w * h * channels), .source_bit_depth = 8};
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < channels; c++)
                img.pixels[((size_t)y * w + x) * channels + c] =
                    sample_value(x, y, c, w, h, channels);
    return img;
}

static int same_image(const aeio_image *a, const aeio_image *b)
{
    return a->width == b->width && a->height == b->height && a->channels == b->channels &&
           memcmp(a->pixels, b->pixels, (size_t)a->width * a->height * a->channels) == 0;
}

static uint32_t crc32_bytes(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0xEDB88320u & (0u - (crc & 1)));
    }
    return ~crc;
}

static void put_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

/* ---- writing PNG and JPEG directly (independent of imageio) ------------- */

struct membuf {
    uint8_t *data;
    size_t size, cap;
};

static void membuf_write(png_structp png, png_bytep p, size_t n)
{
    struct membuf *m = png_get_io_ptr(png);
    if (m->size + n > m->cap) {
        size_t cap = (m->size + n) * 2;
        uint8_t *d = realloc(m->data, cap);
        if (!d)
            png_error(png, "out of memory");
        m->data = d;
        m->cap = cap;
    }
    memcpy(m->data + m->size, p, n);
    m->size += n;
}

static void membuf_flush(png_structp png) { (void)png; }

/* Writes a PNG of the given type; rows holds the raw libpng row bytes. */
static int png_encode(struct membuf *out, uint32_t w, uint32_t h, int bit_depth, int color_type,
                      int interlace, uint8_t **rows, const png_color *palette, int npalette,
                      const uint8_t *trans, int ntrans, const png_color_16 *trans_color)
{
    memset(out, 0, sizeof(*out));
    png_structp png = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png ? png_create_info_struct(png) : NULL;
    if (!info) {
        png_destroy_write_struct(&png, NULL);
        return -1;
    }
    if (setjmp(png_jmpbuf(png))) {
        png_destroy_write_struct(&png, &info);
        free(out->data);
        out->data = NULL;
        return -1;
    }
    png_set_write_fn(png, out, membuf_write, membuf_flush);
    png_set_IHDR(png, info, w, h, bit_depth, color_type, interlace, PNG_COMPRESSION_TYPE_DEFAULT,
                 PNG_FILTER_TYPE_DEFAULT);
    if (palette)
        png_set_PLTE(png, info, palette, npalette);
    if (trans || trans_color)
        png_set_tRNS(png, info, trans, ntrans, trans_color);
    png_write_info(png, info);
    png_write_image(png, rows);
    png_write_end(png, NULL);
    png_destroy_write_struct(&png, &info);
    return 0;
}

static int jpeg_encode(const aeio_image *img, int quality, uint8_t **out, size_t *out_size)
{
    struct jpeg_compress_struct cinfo;
    struct jpeg_error_mgr jerr;
    cinfo.err = jpeg_std_error(&jerr); /* exits on error: fine for valid input */
    jpeg_create_compress(&cinfo);
    unsigned char *buf = NULL;
    unsigned long size = 0;
    jpeg_mem_dest(&cinfo, &buf, &size);
    cinfo.image_width = img->width;
    cinfo.image_height = img->height;
    cinfo.input_components = img->channels;
    cinfo.in_color_space = img->channels == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&cinfo);
    jpeg_set_quality(&cinfo, quality, TRUE);
    jpeg_start_compress(&cinfo, TRUE);
    while (cinfo.next_scanline < cinfo.image_height) {
        JSAMPROW row = img->pixels + (size_t)cinfo.next_scanline * img->width * img->channels;
        jpeg_write_scanlines(&cinfo, &row, 1);
    }
    jpeg_finish_compress(&cinfo);
    jpeg_destroy_compress(&cinfo);
    *out = buf;
    *out_size = size;
    return 0;
}

/* ---- tests --------------------------------------------------------------- */

static void test_png_8bit_roundtrip(void)
{
    char err[512];
    for (int ch = 1; ch <= 4; ch++) {
        aeio_image img = make_image(37, 23, ch), back;
        char name[32];
        snprintf(name, sizeof(name), "rt%d.png", ch);
        CHECKF(aeio_write(tmp_path(name), &img, err, sizeof(err)) == 0, "%s", err);
        CHECKF(aeio_read(tmp_path(name), &back, 0, err, sizeof(err)) == 0, "%s", err);
        CHECK(same_image(&img, &back));
        CHECK(back.source_bit_depth == 8);
        aeio_free(&back);
        aeio_free(&img);
    }
    CHECK(count_entries(g_dir) == 4); /* no temp files left */
    clean_dir(g_dir, 0);
}

static void test_png_16bit(void)
{
    static const int types[4] = {PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                 PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    const uint32_t w = 19, h = 11;
    char err[512];
    for (int t = 0; t < 4; t++) {
        int ch = t + 1;
        uint16_t *v = malloc(sizeof(uint16_t) * w * h * ch);
        uint8_t *raw = malloc((size_t)w * h * ch * 2);
        uint8_t *rows[11];
        for (size_t i = 0; i < (size_t)w * h * ch; i++) {
            v[i] = (uint16_t)(i * 4099u + 977u * (unsigned)t);
            if (i == 0)
                v[i] = 0;
            if (i == 1)
                v[i] = 65535;
            if (i == 2)
                v[i] = 128; /* rounds to 0 vs 1: 128/257 = 0.498 */
            if (i == 3)
                v[i] = 129; /* 0.502 -> 1 */
            raw[2 * i] = (uint8_t)(v[i] >> 8);
            raw[2 * i + 1] = (uint8_t)v[i];
        }
        for (uint32_t y = 0; y < h; y++)
            rows[y] = raw + (size_t)y * w * ch * 2;
        struct membuf png;
        CHECK(png_encode(&png, w, h, 16, types[t], PNG_INTERLACE_NONE, rows, NULL, 0, NULL, 0,
                         NULL) == 0);
        aeio_image img;
        int rc = aeio_read_memory(png.data, png.size, &img, 0, err, sizeof(err));
        CHECKF(rc == 0, "%s", err);
        if (rc == 0) {
            CHECK(img.width == w && img.height == h && img.channels == ch);
            CHECK(img.source_bit_depth == 16);
            int bad = 0;
            for (size_t i = 0; i < (size_t)w * h * ch; i++) {
                unsigned expect = (v[i] * 255u + 32767u) / 65535u;
                if (img.pixels[i] != expect)
                    bad++;
            }
            CHECKF(bad == 0, "type %d: %d samples not rounded", types[t], bad);
        }
        aeio_free(&img);
        free(png.data);
        free(raw);
        free(v);
    }
}

static void test_png_palette_and_low_depth(void)
{
    char err[512];
    const uint32_t w = 13, h = 7;
    png_color pal[4] = {{255, 0, 0}, {0, 255, 0}, {0, 0, 255}, {10, 20, 30}};
    uint8_t trans[4] = {0, 128, 255, 255};
    uint8_t idx[7][13], *rows[7];
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++)
            idx[y][x] = (uint8_t)((x + y) % 4);
        rows[y] = idx[y];
    }
    /* 8-bit palette with tRNS -> RGBA */
    struct membuf png;
    aeio_image img;
    CHECK(png_encode(&png, w, h, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, rows, pal, 4,
                     trans, 4, NULL) == 0);
    CHECKF(aeio_read_memory(png.data, png.size, &img, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(img.channels == 4 && img.width == w && img.height == h);
    if (img.pixels) {
        int bad = 0;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                const uint8_t *p = img.pixels + ((size_t)y * w + x) * 4;
                int k = idx[y][x];
                bad += p[0] != pal[k].red || p[1] != pal[k].green || p[2] != pal[k].blue ||
                       p[3] != trans[k];
            }
        CHECK(bad == 0);
    }
    aeio_free(&img);
    free(png.data);

    /* palette without tRNS -> RGB */
    CHECK(png_encode(&png, w, h, 8, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, rows, pal, 4,
                     NULL, 0, NULL) == 0);
    CHECKF(aeio_read_memory(png.data, png.size, &img, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(img.channels == 3);
    if (img.pixels) {
        const uint8_t *p = img.pixels + 3; /* (1,0) has index 1 */
        CHECK(p[0] == 0 && p[1] == 255 && p[2] == 0);
    }
    aeio_free(&img);
    free(png.data);

    /* 2-bit palette (packed rows) -> RGB */
    uint8_t packed[7][4];
    for (uint32_t y = 0; y < h; y++) {
        memset(packed[y], 0, sizeof(packed[y]));
        for (uint32_t x = 0; x < w; x++)
            packed[y][x / 4] |= (uint8_t)(idx[y][x] << (6 - 2 * (x % 4)));
        rows[y] = packed[y];
    }
    CHECK(png_encode(&png, w, h, 2, PNG_COLOR_TYPE_PALETTE, PNG_INTERLACE_NONE, rows, pal, 4,
                     NULL, 0, NULL) == 0);
    CHECKF(aeio_read_memory(png.data, png.size, &img, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(img.channels == 3 && img.width == w);
    if (img.pixels) {
        int bad = 0;
        for (uint32_t y = 0; y < h; y++)
            for (uint32_t x = 0; x < w; x++) {
                const uint8_t *p = img.pixels + ((size_t)y * w + x) * 3;
                bad += p[0] != pal[idx[y][x]].red || p[2] != pal[idx[y][x]].blue;
            }
        CHECK(bad == 0);
    }
    aeio_free(&img);
    free(png.data);

    /* 1-bit grey -> 0/255 grey */
    uint8_t bits[7][2];
    for (uint32_t y = 0; y < h; y++) {
        memset(bits[y], 0, 2);
        for (uint32_t x = 0; x < w; x++)
            if ((x + y) & 1)
                bits[y][x / 8] |= (uint8_t)(0x80 >> (x % 8));
        rows[y] = bits[y];
    }
    CHECK(png_encode(&png, w, h, 1, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, rows, NULL, 0, NULL,
                     0, NULL) == 0);
    CHECKF(aeio_read_memory(png.data, png.size, &img, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(img.channels == 1);
    if (img.pixels)
        CHECK(img.pixels[0] == 0 && img.pixels[1] == 255 && img.pixels[w] == 255);
    aeio_free(&img);
    free(png.data);

    /* 8-bit grey with a tRNS colour -> grey+alpha */
    uint8_t grey[7][13];
    for (uint32_t y = 0; y < h; y++) {
        for (uint32_t x = 0; x < w; x++)
            grey[y][x] = (uint8_t)(x * 10);
        rows[y] = grey[y];
    }
    png_color_16 tc = {0, 0, 0, 0, 50};
    CHECK(png_encode(&png, w, h, 8, PNG_COLOR_TYPE_GRAY, PNG_INTERLACE_NONE, rows, NULL, 0, NULL,
                     0, &tc) == 0);
    CHECKF(aeio_read_memory(png.data, png.size, &img, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(img.channels == 2);
    if (img.pixels) {
        CHECK(img.pixels[2 * 5] == 50 && img.pixels[2 * 5 + 1] == 0);
        CHECK(img.pixels[2 * 4] == 40 && img.pixels[2 * 4 + 1] == 255);
    }
    aeio_free(&img);
    free(png.data);
}

static void test_png_interlaced(void)
{
    char err[512];
    aeio_image src = make_image(33, 17, 3), img;
    uint8_t *rows[17];
    for (int y = 0; y < 17; y++)
        rows[y] = src.pixels + (size_t)y * 33 * 3;
    struct membuf png;
    CHECK(png_encode(&png, 33, 17, 8, PNG_COLOR_TYPE_RGB, PNG_INTERLACE_ADAM7, rows, NULL, 0,
                     NULL, 0, NULL) == 0);
    CHECKF(aeio_read_memory(png.data, png.size, &img, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(same_image(&src, &img));
    aeio_free(&img);
    aeio_free(&src);
    free(png.data);
}

static void test_pnm_roundtrip(void)
{
    char err[512];
    static const struct {
        const char *name;
        int channels;
    } cases[] = {{"a.ppm", 3}, {"a.pgm", 1}, {"g.pnm", 1}, {"c.pnm", 3},
                 {"a1.pam", 1}, {"a2.pam", 2}, {"a3.pam", 3}, {"a4.PAM", 4}};
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        aeio_image img = make_image(29, 31, cases[i].channels), back;
        CHECKF(aeio_write(tmp_path(cases[i].name), &img, err, sizeof(err)) == 0, "%s", err);
        CHECKF(aeio_read(tmp_path(cases[i].name), &back, 0, err, sizeof(err)) == 0, "%s: %s",
               cases[i].name, err);
        CHECKF(same_image(&img, &back), "%s", cases[i].name);
        aeio_free(&back);
        aeio_free(&img);
    }
    CHECK(count_entries(g_dir) == (int)(sizeof(cases) / sizeof(cases[0])));
    clean_dir(g_dir, 0);
}

static void test_pnm_16bit_and_maxval(void)
{
    char err[512];
    aeio_image img;
    /* P6, 16-bit big-endian, a comment in the header */
    const char *hdr = "P6\n# comment\n3 2\n65535\n";
    uint8_t buf[64];
    size_t n = strlen(hdr);
    memcpy(buf, hdr, n);
    uint16_t vals[18];
    for (int i = 0; i < 18; i++) {
        vals[i] = (uint16_t)(i * 3851);
        buf[n + 2 * i] = (uint8_t)(vals[i] >> 8);
        buf[n + 2 * i + 1] = (uint8_t)vals[i];
    }
    CHECK(write_bytes(tmp_path("p16.ppm"), buf, n + 36) == 0);
    CHECKF(aeio_read(tmp_path("p16.ppm"), &img, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(img.width == 3 && img.height == 2 && img.channels == 3 && img.source_bit_depth == 16);
    if (img.pixels)
        for (int i = 0; i < 18; i++)
            CHECKF(img.pixels[i] == (vals[i] * 255u + 32767u) / 65535u, "sample %d", i);
    aeio_free(&img);

    /* P5 with maxval 1000 (16-bit samples) */
    const uint8_t p5[] = "P5 2 1 1000\n\x03\xe8\x01\xf4";
    CHECKF(aeio_read_memory(p5, sizeof(p5) - 1, &img, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(img.channels == 1 && img.width == 2 && img.source_bit_depth == 16);
    if (img.pixels)
        CHECK(img.pixels[0] == 255 && img.pixels[1] == 128); /* 500/1000 -> 127.5 -> 128 */
    aeio_free(&img);

    /* P5 with maxval 15 (8-bit samples scaled up) */
    const uint8_t p5b[] = "P5\n3 1\n15\n\x00\x0f\x07";
    CHECKF(aeio_read_memory(p5b, sizeof(p5b) - 1, &img, 0, err, sizeof(err)) == 0, "%s", err);
    if (img.pixels)
        CHECK(img.pixels[0] == 0 && img.pixels[1] == 255 && img.pixels[2] == 119);
    aeio_free(&img);

    /* PAM written by hand with TUPLTYPE and a comment */
    const uint8_t pam[] = "P7\nWIDTH 2\nHEIGHT 1\n# hi\nDEPTH 2\nMAXVAL 255\n"
                          "TUPLTYPE GRAYSCALE_ALPHA\nENDHDR\n\x10\x20\x30\x40";
    CHECKF(aeio_read_memory(pam, sizeof(pam) - 1, &img, 0, err, sizeof(err)) == 0, "%s", err);
    CHECK(img.channels == 2 && img.width == 2);
    if (img.pixels)
        CHECK(img.pixels[3] == 0x40);
    aeio_free(&img);
    clean_dir(g_dir, 0);
}

static void check_jpeg(int channels)
{
    char err[512];
    aeio_image src = make_image(45, 29, channels), img;
    uint8_t *jpg = NULL;
    size_t size = 0;
    jpeg_encode(&src, 95, &jpg, &size);
    CHECK(write_bytes(tmp_path("x.jpg"), jpg, size) == 0);
    int rc = aeio_read(tmp_path("x.jpg"), &img, 0, err, sizeof(err));
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(img.width == 45 && img.height == 29 && img.channels == channels);
        double sum = 0;
        int maxd = 0;
        size_t n = (size_t)45 * 29 * channels;
        for (size_t i = 0; i < n; i++) {
            int d = abs((int)img.pixels[i] - (int)src.pixels[i]);
            sum += d;
            maxd = d > maxd ? d : maxd;
        }
        CHECKF(sum / n < 3.0 && maxd < 48, "mean %.2f max %d", sum / n, maxd);
    }
    aeio_free(&img);

    /* Every truncation must fail cleanly (and never crash) */
    int accepted = 0;
    for (size_t cut = 0; cut < size - 2; cut += 7) {
        if (aeio_read_memory(jpg, cut, &img, 0, err, sizeof(err)) == 0)
            accepted++;
        aeio_free(&img);
    }
    CHECKF(accepted == 0, "%d truncated JPEGs accepted", accepted);
    CHECK(aeio_read_memory(jpg, size / 2, &img, 0, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "truncated JPEG data") != NULL, "%s", err);
    /* A pixel limit below the image size is refused */
    CHECK(aeio_read_memory(jpg, size, &img, 100, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "too large") != NULL, "%s", err);
    free(jpg);
    aeio_free(&src);
    clean_dir(g_dir, 0);
}

static void test_jpeg_grey(void) { check_jpeg(1); }
static void test_jpeg_colour(void) { check_jpeg(3); }

static void test_bad_inputs(void)
{
    char err[512];
    aeio_image img;
    /* empty file */
    CHECK(write_bytes(tmp_path("empty.png"), "", 0) == 0);
    CHECK(aeio_read(tmp_path("empty.png"), &img, 0, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "empty.png: empty file") != NULL, "%s", err);
    CHECK(img.pixels == NULL);
    /* missing file */
    CHECK(aeio_read(tmp_path("missing.png"), &img, 0, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "No such file") != NULL, "%s", err);
    /* garbage */
    CHECK(write_bytes(tmp_path("garbage.png"), "hello, this is no image\n", 24) == 0);
    CHECK(aeio_read(tmp_path("garbage.png"), &img, 0, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "garbage.png: not a PNG, JPEG or PNM file") != NULL, "%s", err);
    /* a directory */
    CHECK(aeio_read(g_dir, &img, 0, err, sizeof(err)) != 0);

    /* truncated PNG: every prefix fails, the message names truncation */
    aeio_image src = make_image(16, 8, 4);
    CHECK(aeio_write(tmp_path("t.png"), &src, err, sizeof(err)) == 0);
    uint8_t *png = NULL;
    size_t size = 0;
    CHECK(aeio_read_file(tmp_path("t.png"), &png, &size, 0, err, sizeof(err)) == 0);
    int accepted = 0;
    for (size_t cut = 0; cut + 12 < size; cut++) { /* the last 12 bytes are IEND */
        if (aeio_read_memory(png, cut, &img, 0, err, sizeof(err)) == 0)
            accepted++;
        aeio_free(&img);
    }
    CHECKF(accepted == 0, "%d truncated PNGs accepted", accepted);
    CHECK(aeio_read_memory(png, size / 2, &img, 0, err, sizeof(err)) != 0);
    CHECKF(strcmp(err, "truncated PNG data") == 0, "%s", err);
    /* corrupted bytes: errors or (for ancillary damage) images, never a crash */
    uint8_t *bad = malloc(size);
    for (size_t pos = 8; pos < size; pos += 3) {
        memcpy(bad, png, size);
        bad[pos] ^= 0x5a;
        if (aeio_read_memory(bad, size, &img, 0, err, sizeof(err)) == 0)
            CHECK(img.pixels != NULL && img.width == 16);
        aeio_free(&img);
    }
    free(bad);
    free(png);
    aeio_free(&src);

    /* PNG header declaring 100000x100000: refused before allocating */
    uint8_t hdr[8 + 25 + 8 + 16];
    memcpy(hdr, "\x89PNG\r\n\x1a\n", 8);
    put_be32(hdr + 8, 13);
    memcpy(hdr + 12, "IHDR", 4);
    put_be32(hdr + 16, 100000);
    put_be32(hdr + 20, 100000);
    memcpy(hdr + 24, "\x08\x02\x00\x00\x00", 5); /* 8-bit RGB */
    put_be32(hdr + 29, crc32_bytes(0, hdr + 12, 17));
    put_be32(hdr + 33, 1000); /* IDAT chunk header; its data is absent */
    memcpy(hdr + 37, "IDAT", 4);
    memset(hdr + 41, 0, 16);
    CHECK(aeio_read_memory(hdr, sizeof(hdr), &img, 1u << 20, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "too large") != NULL, "%s", err);
    CHECK(aeio_read_memory(hdr, sizeof(hdr), &img, 0, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "too large") != NULL, "%s", err);
    /* zero width */
    put_be32(hdr + 16, 0);
    put_be32(hdr + 29, crc32_bytes(0, hdr + 12, 17));
    CHECK(aeio_read_memory(hdr, sizeof(hdr), &img, 0, err, sizeof(err)) != 0);

    /* PNM with absurd, zero or bad header values */
    static const char *bad_pnm[] = {
        "P6\n999999999 999999999\n255\n", "P6\n4000000000000000 1\n255\nxxx",
        "P6\n0 5\n255\n",                 "P6\n2 2\n0\n",
        "P6\n2 2\n70000\n",               "P6\n2 2\n255\nabc", /* truncated data */
        "P6\n2 2",                        "P3\n1 1\n255\n1 2 3\n",
        "P7\nWIDTH 2\nHEIGHT 2\nDEPTH 5\nMAXVAL 255\nENDHDR\n",
        "P7\nWIDTH 2\nHEIGHT 2\nDEPTH 1\nMAXVAL 255\n", "P6x",
        "P5\n-1 2\n255\n",
    };
    for (size_t i = 0; i < sizeof(bad_pnm) / sizeof(bad_pnm[0]); i++) {
        int rc = aeio_read_memory((const uint8_t *)bad_pnm[i], strlen(bad_pnm[i]), &img, 0, err,
                                  sizeof(err));
        CHECKF(rc != 0, "bad PNM %zu accepted", i);
        CHECK(img.pixels == NULL);
    }
    CHECK(aeio_read_memory((const uint8_t *)bad_pnm[0], strlen(bad_pnm[0]), &img, 0, err,
                           sizeof(err)) != 0);
    CHECKF(strstr(err, "too large") != NULL, "%s", err);
    clean_dir(g_dir, 0);
}

static void test_write_failures(void)
{
    char err[512];
    aeio_image img = make_image(8, 8, 4);
    /* into a directory that does not exist */
    CHECK(aeio_write(tmp_path("nodir/x.png"), &img, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "nodir/x.png: ") != NULL, "%s", err);
    CHECK(aeio_write_file_atomic(tmp_path("nodir/x.aec"), "abc", 3, err, sizeof(err)) != 0);
    /* unknown extension */
    CHECK(aeio_write(tmp_path("x.bmp"), &img, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "unknown output format") != NULL, "%s", err);
    CHECK(aeio_write(tmp_path("noext"), &img, err, sizeof(err)) != 0);
    /* wrong channel count for the format */
    CHECK(aeio_write(tmp_path("x.ppm"), &img, err, sizeof(err)) != 0);
    CHECK(aeio_write(tmp_path("x.pgm"), &img, err, sizeof(err)) != 0);
    CHECK(count_entries(g_dir) == 0);
    /* onto an existing directory: refused, the directory is kept */
    CHECK(mkdir(tmp_path("sub"), 0700) == 0);
    CHECK(aeio_write(tmp_path("sub"), &img, err, sizeof(err)) != 0);
    CHECK(aeio_write_file_atomic(tmp_path("sub"), "abc", 3, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "is a directory") != NULL, "%s", err);
    CHECK(count_entries(g_dir) == 1);
    CHECK(count_entries(tmp_path("sub")) == 0);
    /* a read-only directory: mkstemp fails (skipped when running as root) */
    if (geteuid() != 0) {
        CHECK(chmod(tmp_path("sub"), 0500) == 0);
        CHECK(aeio_write(tmp_path("sub/y.png"), &img, err, sizeof(err)) != 0);
        CHECK(chmod(tmp_path("sub"), 0700) == 0);
        CHECK(count_entries(tmp_path("sub")) == 0);
    }
    rmdir(tmp_path("sub"));
    /* an existing file is replaced atomically; exactly one file results */
    CHECK(write_bytes(tmp_path("y.png"), "old", 3) == 0);
    CHECKF(aeio_write(tmp_path("y.png"), &img, err, sizeof(err)) == 0, "%s", err);
    CHECK(count_entries(g_dir) == 1);
    aeio_image back;
    CHECK(aeio_read(tmp_path("y.png"), &back, 0, err, sizeof(err)) == 0);
    CHECK(same_image(&img, &back));
    aeio_free(&back);
    /* the new file gets ordinary permissions, not mkstemp's 0600 */
    struct stat st;
    mode_t mask = umask(022);
    umask(mask);
    CHECK(stat(tmp_path("y.png"), &st) == 0 && (st.st_mode & 0777) == (0666 & ~mask));
    /* writing to a device works without a temp file */
    CHECK(aeio_write_file_atomic("/dev/null", "abc", 3, err, sizeof(err)) == 0);
    aeio_free(&img);
    clean_dir(g_dir, 0);
}

static void test_read_file(void)
{
    char err[512];
    uint8_t *data = NULL;
    size_t size = 99;
    CHECK(write_bytes(tmp_path("e"), "", 0) == 0);
    CHECK(aeio_read_file(tmp_path("e"), &data, &size, 0, err, sizeof(err)) == 0);
    CHECK(data != NULL && size == 0);
    free(data);
    CHECK(aeio_write_file_atomic(tmp_path("f"), "0123456789", 10, err, sizeof(err)) == 0);
    CHECK(aeio_read_file(tmp_path("f"), &data, &size, 10, err, sizeof(err)) == 0);
    CHECK(size == 10 && memcmp(data, "0123456789", 10) == 0);
    free(data);
    CHECK(aeio_read_file(tmp_path("f"), &data, &size, 9, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "too large") != NULL, "%s", err);
    CHECK(data == NULL);
    CHECK(count_entries(g_dir) == 2);
    clean_dir(g_dir, 0);
}

static void test_convert(void)
{
    char err[512];
    aeio_image rgba = make_image(5, 4, 4), rgb, grey, ga, back;
    CHECK(aeio_convert(&rgba, 3, &rgb, err, sizeof(err)) == 0);
    CHECK(rgb.channels == 3 && rgb.pixels[3] == rgba.pixels[4] && rgb.pixels[5] == rgba.pixels[6]);
    CHECK(aeio_convert(&rgb, 1, &grey, err, sizeof(err)) == 0);
    const uint8_t *p = rgb.pixels;
    CHECK(grey.pixels[0] == (uint8_t)((77 * p[0] + 150 * p[1] + 29 * p[2] + 128) >> 8));
    CHECK(aeio_convert(&grey, 2, &ga, err, sizeof(err)) == 0);
    CHECK(ga.pixels[0] == grey.pixels[0] && ga.pixels[1] == 255);
    CHECK(aeio_convert(&ga, 3, &back, err, sizeof(err)) == 0);
    CHECK(back.pixels[0] == grey.pixels[0] && back.pixels[2] == grey.pixels[0]);
    aeio_free(&back);
    CHECK(aeio_convert(&ga, 5, &back, err, sizeof(err)) != 0);
    aeio_free(&back);
    aeio_free(&ga);
    aeio_free(&grey);
    aeio_free(&rgb);
    aeio_free(&rgba);
}

/* ---- streaming writer ---------------------------------------------------- */

static int same_file(const char *a, const char *b)
{
    uint8_t *x = NULL, *y = NULL;
    size_t nx = 0, ny = 0;
    int same = aeio_read_file(a, &x, &nx, 0, NULL, 0) == 0 &&
               aeio_read_file(b, &y, &ny, 0, NULL, 0) == 0 && nx == ny && memcmp(x, y, nx) == 0;
    free(x);
    free(y);
    return same;
}

/* Writes img through the streaming writer in bands of rows of the heights
 * bands[0..nbands), repeated as needed. */
static int write_in_bands(const char *path, const aeio_image *img, const aeio_write_options *opt,
                          const uint32_t *bands, size_t nbands, char *err, size_t errlen)
{
    aeio_writer *wr;
    if (aeio_writer_open(&wr, path, img->width, img->height, img->channels, opt, err, errlen))
        return -1;
    size_t stride = (size_t)img->width * img->channels;
    for (uint32_t y = 0, k = 0; y < img->height; k++) {
        uint32_t band = bands[k % nbands];
        uint32_t n = band < img->height - y ? band : img->height - y;
        if (aeio_writer_write_rows(wr, img->pixels + y * stride, n, err, errlen) != 0) {
            aeio_writer_abort(wr);
            return -1;
        }
        y += n;
    }
    return aeio_writer_finish(wr, err, errlen);
}

/* Writes img through the streaming writer in uneven chunks of rows. */
static int write_in_chunks(const char *path, const aeio_image *img,
                           const aeio_write_options *opt, char *err, size_t errlen)
{
    static const uint32_t chunks[] = {1, 5, 2, 7};
    return write_in_bands(path, img, opt, chunks, 4, err, errlen);
}

static void test_writer_matches_write(void)
{
    char err[512];
    static const struct {
        const char *ext;
        int channels;
    } cases[] = {{"png", 1}, {"png", 2}, {"png", 3}, {"png", 4}, {"ppm", 3}, {"pgm", 1},
                 {"pnm", 1}, {"pnm", 3}, {"pam", 1}, {"pam", 2}, {"pam", 3}, {"pam", 4}};
    int n = (int)(sizeof(cases) / sizeof(cases[0]));
    for (int i = 0; i < n; i++) {
        aeio_image img = make_image(29, 23, cases[i].channels);
        char whole[32], rows[32];
        snprintf(whole, sizeof(whole), "w%d.%s", i, cases[i].ext);
        snprintf(rows, sizeof(rows), "r%d.%s", i, cases[i].ext);
        CHECKF(aeio_write(tmp_path(whole), &img, err, sizeof(err)) == 0, "%s", err);
        CHECKF(write_in_chunks(tmp_path(rows), &img, NULL, err, sizeof(err)) == 0, "%s", err);
        CHECKF(same_file(tmp_path(whole), tmp_path(rows)), "%s, %d channels", cases[i].ext,
               cases[i].channels);
        aeio_free(&img);
    }
    /* options: a zlib level, and a format that overrides the extension */
    aeio_image img = make_image(40, 9, 3);
    aeio_write_options opt;
    aeio_write_options_default(&opt);
    opt.png_level = 9;
    CHECK(aeio_write_ex(tmp_path("l9a.png"), &img, &opt, err, sizeof(err)) == 0);
    CHECK(write_in_chunks(tmp_path("l9b.png"), &img, &opt, err, sizeof(err)) == 0);
    CHECK(same_file(tmp_path("l9a.png"), tmp_path("l9b.png")));
    opt.format = AEIO_FORMAT_PAM;
    CHECK(aeio_write_ex(tmp_path("pa.out"), &img, &opt, err, sizeof(err)) == 0);
    CHECK(write_in_chunks(tmp_path("pb.out"), &img, &opt, err, sizeof(err)) == 0);
    CHECK(same_file(tmp_path("pa.out"), tmp_path("pb.out")));
    /* the PPM is exactly its header and the samples */
    CHECK(write_in_chunks(tmp_path("exact.ppm"), &img, NULL, err, sizeof(err)) == 0);
    uint8_t *data = NULL;
    size_t size = 0;
    const char *hdr = "P6\n40 9\n255\n";
    size_t hn = strlen(hdr), pn = (size_t)40 * 9 * 3;
    CHECK(aeio_read_file(tmp_path("exact.ppm"), &data, &size, 0, err, sizeof(err)) == 0);
    CHECK(size == hn + pn && memcmp(data, hdr, hn) == 0 && memcmp(data + hn, img.pixels, pn) == 0);
    free(data);
    aeio_free(&img);
    CHECK(count_entries(g_dir) == 2 * n + 5); /* no temp files left */
    clean_dir(g_dir, 0);
}

static void test_writer_failures(void)
{
    char err[512], err2[512];
    aeio_writer *wr = NULL;
    aeio_image img = make_image(16, 10, 4);
    /* refused at open, with aeio_write's messages, and nothing created */
    CHECK(aeio_writer_open(&wr, tmp_path("x.ppm"), 16, 10, 4, NULL, err, sizeof(err)) != 0);
    CHECK(wr == NULL);
    CHECK(aeio_write(tmp_path("x.ppm"), &img, err2, sizeof(err2)) != 0);
    CHECKF(strcmp(err, err2) == 0, "'%s' vs '%s'", err, err2);
    CHECK(aeio_writer_open(&wr, tmp_path("x.bmp"), 16, 10, 4, NULL, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "unknown output format") != NULL, "%s", err);
    CHECK(aeio_writer_open(&wr, tmp_path("x.png"), 0, 10, 4, NULL, err, sizeof(err)) != 0);
    CHECK(aeio_writer_open(&wr, tmp_path("x.png"), 16, 10, 5, NULL, err, sizeof(err)) != 0);
    CHECK(aeio_writer_open(&wr, tmp_path("nodir/x.png"), 16, 10, 4, NULL, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "nodir/x.png: ") != NULL, "%s", err);
    CHECK(count_entries(g_dir) == 0);

    /* nothing appears before finish; abort removes the temp file */
    CHECK(aeio_writer_open(&wr, tmp_path("a.png"), 16, 10, 4, NULL, err, sizeof(err)) == 0);
    CHECK(aeio_writer_write_rows(wr, img.pixels, 4, err, sizeof(err)) == 0);
    CHECK(access(tmp_path("a.png"), F_OK) != 0);
    aeio_writer_abort(wr);
    CHECK(count_entries(g_dir) == 0);
    aeio_writer_abort(NULL);

    /* finish before the last row: an error, and no file */
    CHECK(aeio_writer_open(&wr, tmp_path("b.pam"), 16, 10, 4, NULL, err, sizeof(err)) == 0);
    CHECK(aeio_writer_write_rows(wr, img.pixels, 3, err, sizeof(err)) == 0);
    CHECK(aeio_writer_finish(wr, err, sizeof(err)) != 0);
    CHECKF(strstr(err, "b.pam: only 3 of 10 rows written") != NULL, "%s", err);
    CHECK(count_entries(g_dir) == 0);

    /* more rows than the image has: refused, then only abort is left */
    CHECK(aeio_writer_open(&wr, tmp_path("c.png"), 16, 10, 4, NULL, err, sizeof(err)) == 0);
    CHECK(aeio_writer_write_rows(wr, img.pixels, 8, err, sizeof(err)) == 0);
    CHECK(aeio_writer_write_rows(wr, img.pixels, 3, err, sizeof(err)) != 0);
    CHECK(aeio_writer_write_rows(wr, img.pixels, 2, err, sizeof(err)) != 0);
    aeio_writer_abort(wr);
    CHECK(count_entries(g_dir) == 0);

    /* an aborted write leaves an existing file as it was */
    CHECK(write_bytes(tmp_path("d.png"), "old", 3) == 0);
    CHECK(aeio_writer_open(&wr, tmp_path("d.png"), 16, 10, 4, NULL, err, sizeof(err)) == 0);
    CHECK(aeio_writer_write_rows(wr, img.pixels, 10, err, sizeof(err)) == 0);
    aeio_writer_abort(wr);
    uint8_t *data = NULL;
    size_t size = 0;
    CHECK(aeio_read_file(tmp_path("d.png"), &data, &size, 0, err, sizeof(err)) == 0);
    CHECK(size == 3 && data && memcmp(data, "old", 3) == 0);
    free(data);
    CHECK(count_entries(g_dir) == 1);

    /* a device is written directly */
    aeio_write_options opt;
    aeio_write_options_default(&opt);
    opt.format = AEIO_FORMAT_PNG;
    CHECKF(aeio_writer_open(&wr, "/dev/null", 16, 10, 4, &opt, err, sizeof(err)) == 0, "%s", err);
    CHECK(aeio_writer_write_rows(wr, img.pixels, 10, err, sizeof(err)) == 0);
    CHECKF(aeio_writer_finish(wr, err, sizeof(err)) == 0, "%s", err);

    /* a full device: the error comes from write_rows or from finish */
    aeio_image big = make_image(300, 200, 4);
    for (int f = 0; f < 2 && access("/dev/full", W_OK) == 0; f++) {
        opt.format = f ? AEIO_FORMAT_PAM : AEIO_FORMAT_PNG;
        CHECK(aeio_writer_open(&wr, "/dev/full", 300, 200, 4, &opt, err, sizeof(err)) == 0);
        int rc = aeio_writer_write_rows(wr, big.pixels, 200, err, sizeof(err));
        if (rc == 0)
            rc = aeio_writer_finish(wr, err, sizeof(err));
        else
            aeio_writer_abort(wr);
        CHECK(rc != 0);
        CHECKF(strstr(err, "/dev/full: ") && strstr(err, "error"), "%s", err);
    }
    aeio_free(&big);
    aeio_free(&img);
    clean_dir(g_dir, 0);
}

/* ---- PNG: the default level's parallel compression ----------------------- */

static uint32_t get_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

/* The image data of the PNG file at path, inflated (zlib checks its
 * Adler-32), after checking the layout: signature, IHDR first, IDATs one
 * after another, IEND last at the end of the file, every CRC right.  A
 * malloc'ed buffer of `expected` bytes (height * (1 + row bytes)), or NULL.
 * *syncs: the sync-flush markers (00 00 ff ff) in the zlib stream, about
 * one per chunk the parallel writer compressed. */
static uint8_t *png_image_data(const char *path, size_t expected, int *syncs)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    uint8_t *file = NULL, *z = NULL, *out = NULL;
    size_t size = 0, zn = 0, pos = 8;
    int ok = aeio_read_file(path, &file, &size, 0, NULL, 0) == 0 && size >= 8 &&
             memcmp(file, sig, 8) == 0 && (z = malloc(size)) != NULL;
    int chunks = 0, idats_ended = 0, iend = 0;
    while (ok && pos < size) {
        uint32_t len = size - pos >= 12 ? get_be32(file + pos) : 0;
        const uint8_t *type = file + pos + 4, *data = file + pos + 8;
        ok = !iend && size - pos >= 12 && len <= size - pos - 12 &&
             crc32_bytes(0, type, 4 + (size_t)len) == get_be32(data + len) &&
             (chunks > 0 || memcmp(type, "IHDR", 4) == 0);
        if (!ok)
            break;
        if (memcmp(type, "IDAT", 4) == 0) {
            ok = !idats_ended;
            memcpy(z + zn, data, len);
            zn += len;
        } else if (zn > 0) {
            idats_ended = 1;
        }
        iend = memcmp(type, "IEND", 4) == 0;
        pos += 12 + (size_t)len;
        chunks++;
    }
    uLongf n = (uLongf)expected;
    if (ok && iend && (out = malloc(expected)) != NULL &&
        (uncompress(out, &n, z, (uLong)zn) != Z_OK || n != expected)) {
        free(out);
        out = NULL;
    }
    *syncs = 0;
    for (size_t i = 0; out && i + 4 <= zn; i++)
        *syncs += memcmp(z + i, "\x00\x00\xff\xff", 4) == 0;
    free(file);
    free(z);
    return out;
}

/* make_image with some noise, as a photograph has: the filters' choice
 * then varies from row to row. */
static aeio_image make_noisy_image(uint32_t w, uint32_t h, int channels)
{
    aeio_image img = make_image(w, h, channels);
    uint32_t state = 12345;
    for (size_t i = 0; i < (size_t)w * h * channels; i++) {
        state = state * 1664525u + 1013904223u;
        int v = img.pixels[i] + (int)(state >> 28) - 8;
        img.pixels[i] = (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v);
    }
    return img;
}

/* Bands of 16 rows that different PNG filters suit: flat rows (Sub),
 * vertical stripes (Up), the noisy gradients of make_noisy_image (Paeth,
 * Average) and plain noise.  A single row or column halves from pixel to
 * pixel instead: Average would suit it, and libpng does not try Average on
 * those. */
static aeio_image make_filter_image(uint32_t w, uint32_t h, int channels)
{
    aeio_image img = make_noisy_image(w, h, channels);
    size_t stride = (size_t)w * channels;
    if (w == 1 || h == 1) {
        for (size_t i = 0; i < (size_t)w * h * channels; i++)
            img.pixels[i] = (uint8_t)(200u >> (i / channels));
        return img;
    }
    uint32_t state = 777;
    for (uint32_t y = 0; y < h; y++) {
        uint8_t *row = img.pixels + y * stride;
        for (size_t i = 0; i < stride; i++) {
            state = state * 1664525u + 1013904223u;
            switch ((y / 16) % 4) {
            case 0: row[i] = (uint8_t)(y * 7 + (i % channels) * 50); break;
            case 1: row[i] = (uint8_t)((i * 2654435761u) >> 24); break;
            case 2: break; /* make_noisy_image's */
            default: row[i] = (uint8_t)(state >> 24); break;
            }
        }
    }
    return img;
}

static size_t png_data_size(const aeio_image *img)
{
    return (size_t)img->height * (1 + (size_t)img->width * img->channels);
}

/* What the default level writes reads back as written, for every channel
 * count, odd widths, a single row or column, and images of several chunks
 * (several sync flushes). */
static void test_png_parallel_roundtrip(void)
{
    static const struct {
        uint32_t w, h;
    } sizes[] = {{300, 700}, {301, 333}, {1, 1}, {1, 9}, {9, 1}, {3, 2}};
    char err[512];
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (int ch = 1; ch <= 4; ch++) {
            aeio_image img = make_noisy_image(sizes[s].w, sizes[s].h, ch), back = {0};
            CHECKF(aeio_write(tmp_path("par.png"), &img, err, sizeof(err)) == 0, "%s", err);
            CHECKF(aeio_read(tmp_path("par.png"), &back, 0, err, sizeof(err)) == 0, "%s", err);
            CHECKF(same_image(&img, &back), "%ux%u, %d channels", (unsigned)img.width,
                   (unsigned)img.height, ch);
            int syncs = 0;
            uint8_t *data = png_image_data(tmp_path("par.png"), png_data_size(&img), &syncs);
            CHECKF(data != NULL, "%ux%u, %d channels", (unsigned)img.width,
                   (unsigned)img.height, ch);
            if (img.width == 300)
                CHECKF(syncs >= 2, "%d channels: %d sync flushes", ch, syncs);
            free(data);
            aeio_free(&back);
            aeio_free(&img);
        }
    }
    clean_dir(g_dir, 0);
}

/* The file is the same byte for byte whatever the thread count and however
 * the rows come in bands (chunks straddle the bands here). */
static void test_png_parallel_same_bytes(void)
{
    static const uint32_t tiny[] = {1, 5, 2, 7}, uneven[] = {256, 100, 3, 341};
    char err[512];
    for (int ch = 3; ch <= 4; ch++) {
        aeio_image img = make_noisy_image(ch == 3 ? 300 : 301, 700, ch);
        aeio_write_options opt;
        aeio_write_options_default(&opt);
        opt.threads = 1;
        CHECKF(aeio_write_ex(tmp_path("t1.png"), &img, &opt, err, sizeof(err)) == 0, "%s", err);
        opt.threads = 2;
        CHECKF(aeio_write_ex(tmp_path("t2.png"), &img, &opt, err, sizeof(err)) == 0, "%s", err);
        opt.threads = 3;
        CHECKF(aeio_write_ex(tmp_path("t3.png"), &img, &opt, err, sizeof(err)) == 0, "%s", err);
        CHECK(write_in_bands(tmp_path("b1.png"), &img, &opt, uneven, 4, err, sizeof(err)) == 0);
        opt.threads = 2;
        CHECK(write_in_bands(tmp_path("b2.png"), &img, &opt, tiny, 4, err, sizeof(err)) == 0);
        CHECKF(same_file(tmp_path("t1.png"), tmp_path("t2.png")), "%d channels", ch);
        CHECKF(same_file(tmp_path("t1.png"), tmp_path("t3.png")), "%d channels", ch);
        CHECKF(same_file(tmp_path("t1.png"), tmp_path("b1.png")), "%d channels", ch);
        CHECKF(same_file(tmp_path("t1.png"), tmp_path("b2.png")), "%d channels", ch);
        int syncs = 0;
        uint8_t *data = png_image_data(tmp_path("b2.png"), png_data_size(&img), &syncs);
        CHECK(data != NULL && syncs >= 3);
        free(data);
        aeio_free(&img);
    }
    clean_dir(g_dir, 0);
}

/* The rows are filtered as libpng filters them (its adaptive choice per
 * row): the inflated image data equals that of --png-level 6, libpng's
 * own writer; and the choice is not trivial (several filter types). */
static void test_png_filters_match_libpng(void)
{
    static const struct {
        uint32_t w, h;
    } sizes[] = {{300, 700}, {37, 5}, {1, 9}, {9, 1}, {1, 1}};
    char err[512];
    for (size_t s = 0; s < sizeof(sizes) / sizeof(sizes[0]); s++) {
        for (int ch = 1; ch <= 4; ch++) {
            aeio_image img = make_filter_image(sizes[s].w, sizes[s].h, ch);
            aeio_write_options opt;
            aeio_write_options_default(&opt);
            CHECKF(aeio_write_ex(tmp_path("ours.png"), &img, &opt, err, sizeof(err)) == 0, "%s",
                   err);
            opt.png_level = 6;
            CHECKF(aeio_write_ex(tmp_path("libpng.png"), &img, &opt, err, sizeof(err)) == 0,
                   "%s", err);
            size_t n = png_data_size(&img);
            int syncs;
            uint8_t *ours = png_image_data(tmp_path("ours.png"), n, &syncs);
            uint8_t *theirs = png_image_data(tmp_path("libpng.png"), n, &syncs);
            CHECKF(ours && theirs && memcmp(ours, theirs, n) == 0, "%ux%u, %d channels",
                   (unsigned)img.width, (unsigned)img.height, ch);
            if (ours && img.width == 300) {
                int used[5] = {0}, kinds = 0;
                for (size_t y = 0; y < img.height; y++)
                    if (ours[y * (n / img.height)] < 5)
                        used[ours[y * (n / img.height)]] = 1;
                for (int f = 0; f < 5; f++)
                    kinds += used[f];
                CHECKF(kinds >= 3, "%d channels: %d filter types", ch, kinds);
            }
            free(ours);
            free(theirs);
            aeio_free(&img);
        }
    }
    clean_dir(g_dir, 0);
}

static void test_format_from_path(void)
{
    CHECK(aeio_format_from_path("-") == AEIO_FORMAT_PNG);
    CHECK(aeio_format_from_path("a/b.PNG") == AEIO_FORMAT_PNG);
    CHECK(aeio_format_from_path("x.ppm") == AEIO_FORMAT_PPM);
    CHECK(aeio_format_from_path("x.pgm") == AEIO_FORMAT_PGM);
    CHECK(aeio_format_from_path("x.pam") == AEIO_FORMAT_PAM);
    CHECK(aeio_format_from_path("dir.png/x") == AEIO_FORMAT_UNKNOWN);
    CHECK(aeio_format_from_path("x.jpg") == AEIO_FORMAT_UNKNOWN);
    CHECK(aeio_format_accepts(AEIO_FORMAT_PPM, 3) && !aeio_format_accepts(AEIO_FORMAT_PPM, 4));
}

/* ---- helper modes for tests/cli_test.sh --------------------------------- */

static int decode_whole(const char *in, const char *out, const char *region)
{
    char err[512];
    aec_decode_params p;
    aec_decode_params_default(&p);
    unsigned x, y, w, h;
    if (region) {
        if (sscanf(region, "%u,%u,%u,%u", &x, &y, &w, &h) != 4)
            return 2;
        p.x = x, p.y = y, p.w = w, p.h = h;
    }
    uint8_t *data = NULL, *pixels = NULL;
    size_t size = 0;
    if (aeio_read_file(in, &data, &size, 0, err, sizeof(err)) != 0) {
        fprintf(stderr, "%s\n", err);
        return 1;
    }
    aec_decoder *dec = NULL;
    uint32_t ow = 0, oh = 0;
    aec_layout layout = AEC_RGB;
    aec_status st = aec_decoder_create(&dec, NULL);
    if (st == AEC_OK) {
        aec_decoder_set_threads(dec, 1);
        st = aec_decode(dec, data, size, &p, &pixels, &ow, &oh, &layout);
    }
    int rc = 1;
    if (st != AEC_OK) {
        fprintf(stderr, "%s: %s\n", in, dec ? aec_decoder_last_error(dec) : aec_status_string(st));
    } else {
        aeio_image img = {.width = ow, .height = oh, .channels = (int)layout,
                          .pixels = pixels, .source_bit_depth = 8};
        rc = aeio_write(out, &img, err, sizeof(err)) != 0;
        if (rc)
            fprintf(stderr, "%s\n", err);
    }
    aec_free(pixels);
    aec_decoder_destroy(dec);
    free(data);
    return rc;
}

static int tool_mode(int argc, char **argv)
{
    char err[512];
    aeio_image a, b;
    if (strcmp(argv[1], "--decode-whole") == 0 && (argc == 4 || argc == 5))
        return decode_whole(argv[2], argv[3], argc == 5 ? argv[4] : NULL);
    if (strcmp(argv[1], "--make-sample") == 0 && argc == 6) {
        int w = atoi(argv[3]), h = atoi(argv[4]), c = atoi(argv[5]);
        if (w < 1 || h < 1 || c < 1 || c > 4)
            return 2;
        a = make_image((uint32_t)w, (uint32_t)h, c);
        int rc = aeio_write(argv[2], &a, err, sizeof(err));
        if (rc)
            fprintf(stderr, "%s\n", err);
        aeio_free(&a);
        return rc ? 1 : 0;
    }
    if (strcmp(argv[1], "--info") == 0 && argc == 3) {
        if (aeio_read(argv[2], &a, 0, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        printf("%u %u %d\n", (unsigned)a.width, (unsigned)a.height, a.channels);
        aeio_free(&a);
        return 0;
    }
    if ((strcmp(argv[1], "--alpha-equal") == 0 || strcmp(argv[1], "--psnr") == 0) && argc == 4) {
        if (aeio_read(argv[2], &a, 0, err, sizeof(err)) != 0 ||
            aeio_read(argv[3], &b, 0, err, sizeof(err)) != 0) {
            fprintf(stderr, "%s\n", err);
            aeio_free(&a);
            return 1;
        }
        int rc = 1;
        if (a.width == b.width && a.height == b.height && a.channels == b.channels) {
            size_t n = (size_t)a.width * a.height;
            int ch = a.channels, has_alpha = ch == 2 || ch == 4, colour = ch - has_alpha;
            if (argv[1][2] == 'a') {
                rc = has_alpha ? 0 : 1;
                for (size_t i = 0; i < n && rc == 0; i++)
                    rc = a.pixels[i * ch + ch - 1] != b.pixels[i * ch + ch - 1];
            } else {
                double se = 0;
                for (size_t i = 0; i < n; i++)
                    for (int c = 0; c < colour; c++) {
                        double d = (double)a.pixels[i * ch + c] - b.pixels[i * ch + c];
                        se += d * d;
                    }
                double mse = se / ((double)n * colour);
                printf("%.2f\n", mse > 0 ? 10 * log10(255.0 * 255.0 / mse) : 99.0);
                rc = 0;
            }
        } else {
            fprintf(stderr, "images differ in size or channels\n");
        }
        aeio_free(&a);
        aeio_free(&b);
        return rc;
    }
    fprintf(stderr, "usage: test_imageio [--make-sample OUT W H CHANNELS | --info FILE | "
                    "--alpha-equal A B | --psnr A B | --decode-whole IN OUT [X,Y,W,H]]\n");
    return 2;
}

int main(int argc, char **argv)
{
    if (argc > 1)
        return tool_mode(argc, argv);
    const char *tmp = getenv("TMPDIR");
    snprintf(g_dir, sizeof(g_dir), "%s/aeio_test_XXXXXX", tmp && *tmp ? tmp : "/tmp");
    if (!mkdtemp(g_dir)) {
        printf("FAIL mkdtemp\n");
        return 1;
    }
    RUN_TEST(test_png_8bit_roundtrip);
    RUN_TEST(test_png_16bit);
    RUN_TEST(test_png_palette_and_low_depth);
    RUN_TEST(test_png_interlaced);
    RUN_TEST(test_pnm_roundtrip);
    RUN_TEST(test_pnm_16bit_and_maxval);
    RUN_TEST(test_jpeg_grey);
    RUN_TEST(test_jpeg_colour);
    RUN_TEST(test_bad_inputs);
    RUN_TEST(test_write_failures);
    RUN_TEST(test_read_file);
    RUN_TEST(test_convert);
    RUN_TEST(test_format_from_path);
    RUN_TEST(test_writer_matches_write);
    RUN_TEST(test_writer_failures);
    RUN_TEST(test_png_parallel_roundtrip);
    RUN_TEST(test_png_parallel_same_bytes);
    RUN_TEST(test_png_filters_match_libpng);
    clean_dir(g_dir, 1);
    TEST_EXIT();
}
