/* SPDX-License-Identifier: BSD-3-Clause */
/* mkimgseeds.c - writes the seeds of fuzz_imageio (run by
 * tests/fuzz/make_corpus.sh) into DIR: small images of every layout the
 * tools' readers take, so that the fuzzer starts inside each path:
 *   png-*   libpng: grey 1/2/4/8/16 bit, grey+alpha, RGB and RGBA 8 and
 *           16 bit, palette 1/4/8 bit with and without tRNS, grey and RGB
 *           with tRNS, Adam7 interlaced
 *   jpeg-*  libjpeg: grey, colour 4:2:0 and 4:4:4, progressive, with
 *           restart markers
 *   pnm-*   P5 and P6 (maxval 255, 15, 1000), P7 of depth 1..4, comments
 *   meta-*  PNG and JPEG with an ICC profile and EXIF whose Orientation
 *           tag turns the pixels (little- and big-endian TIFF), so that the
 *           fuzzer reaches the metadata readers and orientation.c
 * Sizes are odd and small (at most 17x11) so the seeds stay a few hundred
 * bytes.  Deterministic. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <jpeglib.h> /* needs stdio.h first */
#include <png.h>

static const char *g_dir;

static FILE *create(const char *name)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", g_dir, name);
    FILE *f = fopen(path, "wb");
    if (!f) {
        perror(path);
        exit(1);
    }
    return f;
}

static void done(FILE *f, const char *name)
{
    if (ferror(f) || fclose(f) != 0) {
        perror(name);
        exit(1);
    }
}

/* Sample c of pixel (x, y), at most maxval: a gradient with a little
 * pseudo-random texture, different per channel. */
static unsigned sample(unsigned x, unsigned y, unsigned c, unsigned maxval)
{
    unsigned h = (x * 73856093u) ^ (y * 19349663u) ^ (c * 83492791u);
    unsigned v = (x * 40 + y * 25 + c * 70 + (h >> 13) % 23) % 256;
    return (unsigned)((unsigned long)v * maxval / 255u);
}

/* ---- metadata ------------------------------------------------------------ */

/* A small ICC profile libpng accepts: the 128-byte header (display
 * class, the colour space of the image, XYZ connection space, the D50
 * illuminant) and two tags, the media white point and 32 bytes of data
 * that do not compress (libpng 1.6 ignores an iCCP chunk of fewer than 92
 * bytes as "too short"). */
enum { ICC_BYTES = 128 + 4 + 2 * 12 + 20 + 40 };
static size_t icc_profile(uint8_t p[ICC_BYTES], int grey)
{
    static const uint8_t d50[12] = {0, 0, 0xF6, 0xD6, 0, 1, 0, 0, 0, 0, 0xD3, 0x2D};
    memset(p, 0, ICC_BYTES);
    p[3] = ICC_BYTES;                        /* size, big-endian */
    p[8] = 2, p[9] = 0x10;                   /* version 2.1 */
    memcpy(p + 12, "mntr", 4);
    memcpy(p + 16, grey ? "GRAY" : "RGB ", 4);
    memcpy(p + 20, "XYZ ", 4);
    memcpy(p + 36, "acsp", 4);
    memcpy(p + 68, d50, 12);
    p[131] = 2;                              /* wtpt at 156, 20 bytes; data at 176, 40 */
    memcpy(p + 132, "wtpt", 4);
    p[139] = 156, p[143] = 20;
    memcpy(p + 144, "fuzz", 4);
    p[151] = 176, p[155] = 40;
    memcpy(p + 156, "XYZ ", 4);
    memcpy(p + 164, d50, 12);
    memcpy(p + 176, "data", 4);
    uint32_t r = 12345;
    for (int i = 184; i < ICC_BYTES; i++)
        r = r * 1103515245u + 12345u, p[i] = (uint8_t)(r >> 16);
    return ICC_BYTES;
}

/* A TIFF-structured EXIF block (as in PNG eXIf, and after "Exif\0\0" in
 * JPEG APP1) whose IFD0 holds one entry, Orientation = value. */
static size_t exif_block(uint8_t e[26], int value, int big_endian)
{
    static const uint8_t le[26] = {'I', 'I', 42, 0, 8, 0, 0, 0, 1, 0, 0x12, 1, 3, 0,
                                   1,   0,   0,  0, 0, 0, 0, 0, 0, 0, 0,    0};
    static const uint8_t be[26] = {'M', 'M', 0, 42, 0, 0, 0, 8, 0, 1, 1, 0x12, 0, 3,
                                   0,   0,   0, 1,  0, 0, 0, 0, 0, 0, 0, 0};
    memcpy(e, big_endian ? be : le, 26);
    e[big_endian ? 19 : 18] = (uint8_t)value;
    return 26;
}

/* ---- PNG ----------------------------------------------------------------- */

/* A w x h PNG of a colour type and bit depth; for palettes, a palette of
 * 2^depth entries; trns adds a tRNS chunk (palette alpha or a colour key). */
static int g_png_orientation; /* > 0: the next PNG gets eXIf and iCCP */

static void png(const char *name, unsigned w, unsigned h, int type, int depth, int trns,
                int interlace)
{
    FILE *f = create(name);
    png_structp p = png_create_write_struct(PNG_LIBPNG_VER_STRING, NULL, NULL, NULL);
    png_infop info = png_create_info_struct(p);
    if (!p || !info || setjmp(png_jmpbuf(p))) {
        fprintf(stderr, "%s: libpng failed\n", name);
        exit(1);
    }
    png_init_io(p, f);
    png_set_IHDR(p, info, w, h, depth, type,
                 interlace ? PNG_INTERLACE_ADAM7 : PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    unsigned maxval = (1u << depth) - 1;
    if (type == PNG_COLOR_TYPE_PALETTE) {
        png_color pal[256];
        png_byte alpha[256];
        int n = 1 << depth;
        for (int i = 0; i < n; i++) {
            pal[i].red = (png_byte)(i * 37), pal[i].green = (png_byte)(255 - i * 11);
            pal[i].blue = (png_byte)(i * 5 + 40), alpha[i] = (png_byte)(255 - i * 3);
        }
        png_set_PLTE(p, info, pal, n);
        if (trns)
            png_set_tRNS(p, info, alpha, n > 8 ? 8 : n, NULL);
        maxval = (unsigned)n - 1;
    } else if (trns) {
        png_color_16 key;
        memset(&key, 0, sizeof key);
        key.gray = (png_uint_16)sample(0, 0, 0, maxval);
        key.red = key.gray, key.green = (png_uint_16)sample(0, 0, 1, maxval);
        key.blue = (png_uint_16)sample(0, 0, 2, maxval);
        png_set_tRNS(p, info, NULL, 0, &key);
    }
    uint8_t icc[ICC_BYTES], exif[26];
    if (g_png_orientation) {
        int grey = type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_GRAY_ALPHA;
        png_set_iCCP(p, info, "fuzz seed", PNG_COMPRESSION_TYPE_BASE, icc, (png_uint_32)icc_profile(icc, grey));
        png_set_eXIf_1(p, info, (png_uint_32)exif_block(exif, g_png_orientation, 0), exif);
    }
    png_write_info(p, info);
    if (depth < 8)
        png_set_packing(p);
    if (depth == 16)
        png_set_swap(p); /* rows below are little-endian 16-bit samples */
    int ch = type == PNG_COLOR_TYPE_GRAY || type == PNG_COLOR_TYPE_PALETTE ? 1
             : type == PNG_COLOR_TYPE_GRAY_ALPHA                          ? 2
             : type == PNG_COLOR_TYPE_RGB                                 ? 3
                                                                          : 4;
    size_t bps = depth == 16 ? 2 : 1, stride = (size_t)w * ch * bps;
    uint8_t *img = malloc(stride * h);
    png_bytep *rows = malloc(sizeof(png_bytep) * h);
    for (unsigned y = 0; y < h; y++) {
        rows[y] = img + y * stride;
        for (unsigned x = 0; x < w; x++)
            for (int c = 0; c < ch; c++) {
                unsigned v = sample(x, y, (unsigned)c, maxval);
                uint8_t *s = rows[y] + ((size_t)x * ch + c) * bps;
                s[0] = (uint8_t)v;
                if (bps == 2)
                    s[1] = (uint8_t)(v >> 8);
            }
    }
    png_write_image(p, rows);
    png_write_end(p, NULL); /* (with info, libpng 1.6 writes eXIf again) */
    png_destroy_write_struct(&p, &info);
    free(rows), free(img);
    done(f, name);
}

/* ---- JPEG ---------------------------------------------------------------- */

static int g_jpeg_orientation, g_jpeg_big_endian; /* > 0: APP1 Exif and APP2 ICC */

static void jpeg(const char *name, unsigned w, unsigned h, int grey, int subsample,
                 int progressive, int restart)
{
    FILE *f = create(name);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr err;
    c.err = jpeg_std_error(&err);
    jpeg_create_compress(&c);
    jpeg_stdio_dest(&c, f);
    c.image_width = w, c.image_height = h;
    c.input_components = grey ? 1 : 3;
    c.in_color_space = grey ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 80, TRUE);
    if (!grey && !subsample) /* 4:4:4 */
        for (int i = 0; i < 3; i++)
            c.comp_info[i].h_samp_factor = c.comp_info[i].v_samp_factor = 1;
    if (progressive)
        jpeg_simple_progression(&c);
    c.restart_interval = (unsigned)restart;
    jpeg_start_compress(&c, TRUE);
    if (g_jpeg_orientation) {
        uint8_t app1[6 + 26] = {'E', 'x', 'i', 'f', 0, 0}, icc[ICC_BYTES];
        size_t n = 6 + exif_block(app1 + 6, g_jpeg_orientation, g_jpeg_big_endian);
        jpeg_write_marker(&c, JPEG_APP0 + 1, app1, (unsigned)n);
        jpeg_write_icc_profile(&c, icc, (unsigned)icc_profile(icc, grey));
    }
    unsigned ch = grey ? 1 : 3;
    uint8_t *row = malloc((size_t)w * ch);
    while (c.next_scanline < h) {
        for (unsigned x = 0; x < w; x++)
            for (unsigned k = 0; k < ch; k++)
                row[x * ch + k] = (uint8_t)sample(x, c.next_scanline, k, 255);
        JSAMPROW r = row;
        jpeg_write_scanlines(&c, &r, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(row);
    done(f, name);
}

/* ---- PNM ----------------------------------------------------------------- */

/* header is written as given; then w x h x ch samples up to maxval. */
static void pnm(const char *name, const char *header, unsigned w, unsigned h, unsigned ch,
                unsigned maxval)
{
    FILE *f = create(name);
    fputs(header, f);
    for (unsigned y = 0; y < h; y++)
        for (unsigned x = 0; x < w; x++)
            for (unsigned c = 0; c < ch; c++) {
                unsigned v = sample(x, y, c, maxval);
                if (maxval > 255)
                    fputc((int)(v >> 8), f);
                fputc((int)(v & 255), f);
            }
    done(f, name);
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: mkimgseeds DIR\n");
        return 2;
    }
    g_dir = argv[1];
    png("png-grey1-9x5.png", 9, 5, PNG_COLOR_TYPE_GRAY, 1, 0, 0);
    png("png-grey2-7x3.png", 7, 3, PNG_COLOR_TYPE_GRAY, 2, 0, 0);
    png("png-grey4-5x4.png", 5, 4, PNG_COLOR_TYPE_GRAY, 4, 0, 0);
    png("png-grey8-11x7.png", 11, 7, PNG_COLOR_TYPE_GRAY, 8, 0, 0);
    png("png-grey8-trns-6x6.png", 6, 6, PNG_COLOR_TYPE_GRAY, 8, 1, 0);
    png("png-grey16-5x5.png", 5, 5, PNG_COLOR_TYPE_GRAY, 16, 0, 0);
    png("png-ga8-7x5.png", 7, 5, PNG_COLOR_TYPE_GRAY_ALPHA, 8, 0, 0);
    png("png-ga16-3x3.png", 3, 3, PNG_COLOR_TYPE_GRAY_ALPHA, 16, 0, 0);
    png("png-rgb8-13x9.png", 13, 9, PNG_COLOR_TYPE_RGB, 8, 0, 0);
    png("png-rgb8-trns-5x3.png", 5, 3, PNG_COLOR_TYPE_RGB, 8, 1, 0);
    png("png-rgb16-4x4.png", 4, 4, PNG_COLOR_TYPE_RGB, 16, 0, 0);
    png("png-rgba8-6x5.png", 6, 5, PNG_COLOR_TYPE_RGB_ALPHA, 8, 0, 0);
    png("png-rgba16-3x2.png", 3, 2, PNG_COLOR_TYPE_RGB_ALPHA, 16, 0, 0);
    png("png-pal1-8x2.png", 8, 2, PNG_COLOR_TYPE_PALETTE, 1, 0, 0);
    png("png-pal4-7x6-trns.png", 7, 6, PNG_COLOR_TYPE_PALETTE, 4, 1, 0);
    png("png-pal8-9x9.png", 9, 9, PNG_COLOR_TYPE_PALETTE, 8, 0, 0);
    png("png-rgb8-adam7-17x11.png", 17, 11, PNG_COLOR_TYPE_RGB, 8, 0, 1);
    png("png-grey2-adam7-9x9.png", 9, 9, PNG_COLOR_TYPE_GRAY, 2, 0, 1);
    jpeg("jpeg-grey-9x7.jpg", 9, 7, 1, 0, 0, 0);
    jpeg("jpeg-rgb420-17x11.jpg", 17, 11, 0, 1, 0, 0);
    jpeg("jpeg-rgb444-8x8.jpg", 8, 8, 0, 0, 0, 0);
    jpeg("jpeg-rgb-progressive-16x9.jpg", 16, 9, 0, 1, 1, 0);
    jpeg("jpeg-grey-progressive-10x10.jpg", 10, 10, 1, 0, 1, 0);
    jpeg("jpeg-rgb-restart-24x16.jpg", 24, 16, 0, 1, 0, 1);
    pnm("pnm-p5-7x5.pgm", "P5\n7 5\n255\n", 7, 5, 1, 255);
    pnm("pnm-p5-16bit-4x3.pgm", "P5 4 3 65535\n", 4, 3, 1, 65535);
    pnm("pnm-p6-9x4.ppm", "P6\n# a comment\n9 4\n255\n", 9, 4, 3, 255);
    pnm("pnm-p6-maxval15-5x2.ppm", "P6\n5\t2\r\n15\n", 5, 2, 3, 15);
    pnm("pnm-p6-maxval1000-3x3.ppm", "P6 3 3 1000\n", 3, 3, 3, 1000);
    pnm("pnm-p7-grey-5x3.pam", "P7\nWIDTH 5\nHEIGHT 3\nDEPTH 1\nMAXVAL 255\nTUPLTYPE GRAYSCALE\nENDHDR\n",
        5, 3, 1, 255);
    pnm("pnm-p7-ga-4x4.pam", "P7\nWIDTH 4\nHEIGHT 4\nDEPTH 2\nMAXVAL 255\nTUPLTYPE GRAYSCALE_ALPHA\nENDHDR\n",
        4, 4, 2, 255);
    pnm("pnm-p7-rgb-3x5.pam", "P7\n# comment\nWIDTH 3\nHEIGHT 5\nDEPTH 3\nMAXVAL 255\nENDHDR\n",
        3, 5, 3, 255);
    pnm("pnm-p7-rgba16-3x2.pam", "P7\nHEIGHT 2\nWIDTH 3\nMAXVAL 65535\nDEPTH 4\nTUPLTYPE RGB_ALPHA\nENDHDR\n",
        3, 2, 4, 65535);
    g_png_orientation = 6;
    png("meta-png-rgb8-exif6-icc-7x4.png", 7, 4, PNG_COLOR_TYPE_RGB, 8, 0, 0);
    g_png_orientation = 8;
    png("meta-png-grey8-exif8-icc-5x3.png", 5, 3, PNG_COLOR_TYPE_GRAY, 8, 0, 0);
    g_png_orientation = 0;
    g_jpeg_orientation = 6;
    jpeg("meta-jpeg-rgb-exif6-icc-16x8.jpg", 16, 8, 0, 1, 0, 0);
    g_jpeg_orientation = 3, g_jpeg_big_endian = 1;
    jpeg("meta-jpeg-grey-exif3be-icc-9x5.jpg", 9, 5, 1, 0, 0, 0);
    g_jpeg_orientation = 0;
    return 0;
}
