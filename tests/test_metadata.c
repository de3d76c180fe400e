/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * test_metadata.c - ICC profiles, EXIF and the EXIF orientation: read from
 * PNG and JPEG files the test makes itself, turned upright, stored in the
 * metadata stream of a file (spec/bitstream.md §6.8), read back and
 * written into PNG.
 *
 *   test_metadata                         run the tests
 *   test_metadata --make-jpeg OUT W H O   a JPEG with an ICC profile and EXIF
 *                                         orientation O (for metadata_test.sh)
 *   test_metadata --show FILE             "icc N exif N orientation O" of an
 *                                         image or aecodec file
 */
#include <stdio.h> /* before jpeglib.h, which needs FILE and size_t */
#include <jpeglib.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "aecodec.h"
#include "bitstream/metadata.h"
#include "common/imageio.h"
#include "common/orientation.h"
#include "testlib.h"

/* ---- inputs made here --------------------------------------------------- */

static void put16(uint8_t *p, unsigned v, int be)
{
    p[be ? 0 : 1] = (uint8_t)(v >> 8), p[be ? 1 : 0] = (uint8_t)v;
}
static void put32(uint8_t *p, uint32_t v, int be)
{
    for (int i = 0; i < 4; i++)
        p[be ? 3 - i : i] = (uint8_t)(v >> (8 * i));
}

/* A TIFF-structured EXIF block: IFD0 with ResolutionUnit = 2 and
 * Orientation = o (omitted when o = 0).  Returns its size (<= 64). */
static size_t make_exif(uint8_t *b, int o, int be)
{
    memset(b, 0, 64);
    memcpy(b, be ? "MM\0*" : "II*\0", 4);
    put32(b + 4, 8, be);
    int n = o ? 2 : 1;
    put16(b + 8, (unsigned)n, be);
    uint8_t *e = b + 10;
    put16(e, 0x0128, be), put16(e + 2, 3, be), put32(e + 4, 1, be), put16(e + 8, 2, be);
    if (o) {
        e += 12;
        put16(e, 0x0112, be), put16(e + 2, 3, be), put32(e + 4, 1, be), put16(e + 8, (unsigned)o, be);
    }
    return 10 + 12 * (size_t)n + 4; /* + the next-IFD offset, 0 */
}

/* An ICC profile libpng accepts for an RGB image: a 128-byte header (size,
 * 'acsp', RGB, XYZ, D50 illuminant), one tag (the white point) and filler
 * that does not compress away (libpng refuses an iCCP chunk whose
 * compressed data is very short).  ICC_BYTES long. */
#define ICC_BYTES 300
static size_t make_icc(uint8_t *b)
{
    memset(b, 0, ICC_BYTES);
    put32(b, ICC_BYTES, 1);
    put32(b + 8, 0x02100000u, 1); /* version 2.1 */
    memcpy(b + 12, "mntr", 4);
    memcpy(b + 16, "RGB ", 4);
    memcpy(b + 20, "XYZ ", 4);
    memcpy(b + 36, "acsp", 4);
    put32(b + 68, 0x0000F6D6u, 1); /* D50: X 0.9642, Y 1.0, Z 0.8249 */
    put32(b + 72, 0x00010000u, 1);
    put32(b + 76, 0x0000D32Du, 1);
    put32(b + 128, 1, 1); /* tag table: wtpt at 144, 20 bytes */
    memcpy(b + 132, "wtpt", 4);
    put32(b + 136, 144, 1);
    put32(b + 140, 20, 1);
    memcpy(b + 144, "XYZ ", 4);
    put32(b + 152, 0x0000F6D6u, 1);
    put32(b + 156, 0x00010000u, 1);
    put32(b + 160, 0x0000D32Du, 1);
    for (int i = 164; i < ICC_BYTES; i++)
        b[i] = (uint8_t)(i * i * 7 + i * 13);
    return ICC_BYTES;
}

static void make_pixels(uint8_t *px, int w, int h)
{
    for (int y = 0; y < h; y++)
        for (int x = 0; x < w; x++) {
            uint8_t *p = px + ((size_t)y * w + x) * 3;
            p[0] = (uint8_t)(x * 255 / (w - 1));
            p[1] = (uint8_t)(y * 255 / (h - 1));
            p[2] = (uint8_t)((x * 7 + y * 3) & 255);
        }
}

/* A JPEG in memory (free() it) with an optional EXIF and ICC profile. */
static uint8_t *make_jpeg(int w, int h, const uint8_t *exif, size_t exif_size,
                          const uint8_t *icc, size_t icc_size, size_t *size)
{
    uint8_t *px = malloc((size_t)w * h * 3);
    make_pixels(px, w, h);
    struct jpeg_compress_struct c;
    struct jpeg_error_mgr jerr;
    c.err = jpeg_std_error(&jerr);
    jpeg_create_compress(&c);
    unsigned char *out = NULL;
    unsigned long out_size = 0;
    jpeg_mem_dest(&c, &out, &out_size);
    c.image_width = (JDIMENSION)w, c.image_height = (JDIMENSION)h;
    c.input_components = 3, c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    jpeg_set_quality(&c, 95, TRUE);
    jpeg_start_compress(&c, TRUE);
    if (exif_size) {
        uint8_t *app1 = malloc(exif_size + 6);
        memcpy(app1, "Exif\0\0", 6);
        memcpy(app1 + 6, exif, exif_size);
        jpeg_write_marker(&c, JPEG_APP0 + 1, app1, (unsigned)(exif_size + 6));
        free(app1);
    }
    if (icc_size)
        jpeg_write_icc_profile(&c, icc, (unsigned)icc_size);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = px + (size_t)c.next_scanline * w * 3;
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    free(px);
    *size = out_size;
    return out;
}

static int same_bytes(const uint8_t *a, size_t na, const uint8_t *b, size_t nb)
{
    return na == nb && (na == 0 || (a && b && memcmp(a, b, na) == 0));
}

/* ---- tests -------------------------------------------------------------- */

static void test_exif_orientation_read_and_set(void)
{
    uint8_t b[64];
    for (int be = 0; be <= 1; be++)
        for (int o = 1; o <= 8; o++) {
            size_t n = make_exif(b, o, be);
            CHECKF(aeio_exif_orientation(b, n) == o, "be %d o %d", be, o);
            CHECK(aeio_exif_set_orientation(b, n, 1) == 0);
            CHECK(aeio_exif_orientation(b, n) == 1);
        }
    size_t n = make_exif(b, 0, 0);
    CHECK(aeio_exif_orientation(b, n) == 0); /* no tag */
    CHECK(aeio_exif_set_orientation(b, n, 1) == -1);
    n = make_exif(b, 6, 0);
    for (size_t cut = 0; cut < n - 4; cut++) /* the entry cut off: not read */
        CHECKF(aeio_exif_orientation(b, cut) == 0 || cut >= 34, "cut %zu", cut);
    put32(b + 4, 60, 0); /* IFD offset past the end */
    CHECK(aeio_exif_orientation(b, n) == 0);
    n = make_exif(b, 9, 1); /* out of range */
    CHECK(aeio_exif_orientation(b, n) == 0);
    CHECK(aeio_exif_orientation(NULL, 0) == 0);
}

/* Where the source's top-left and top-right pixels land, per orientation,
 * as the EXIF specification describes the eight cases. */
static void test_orient_pixels_corners(void)
{
    enum { TL, TR, BL, BR };
    static const int tl_to[9] = {0, TL, TR, BR, BL, TL, TR, BR, BL};
    static const int tr_to[9] = {0, TR, TL, BL, BR, BL, BR, TR, TL};
    const uint32_t w = 3, h = 2;
    uint8_t src[6];
    for (int i = 0; i < 6; i++)
        src[i] = (uint8_t)(10 + i); /* TL = 10, TR = 12 */
    for (int o = 1; o <= 8; o++) {
        uint32_t ow, oh;
        uint8_t *d = aeio_orient_pixels(src, w, h, 1, o, &ow, &oh);
        CHECK(d != NULL);
        if (!d)
            continue;
        CHECKF(ow == (o >= 5 ? h : w) && oh == (o >= 5 ? w : h), "o %d: %ux%u", o, ow, oh);
        size_t corner[4] = {0, ow - 1, (size_t)(oh - 1) * ow, (size_t)oh * ow - 1};
        CHECKF(d[corner[tl_to[o]]] == 10, "o %d: top-left", o);
        CHECKF(d[corner[tr_to[o]]] == 12, "o %d: top-right", o);
        free(d);
    }
}

static void test_jpeg_orientation_applied_icc_and_exif_kept(void)
{
    uint8_t exif[64], icc[ICC_BYTES];
    size_t exif_size = make_exif(exif, 6, 1), icc_size = make_icc(icc);
    size_t plain_size, tagged_size;
    uint8_t *plain = make_jpeg(48, 32, NULL, 0, NULL, 0, &plain_size);
    uint8_t *tagged = make_jpeg(48, 32, exif, exif_size, icc, icc_size, &tagged_size);
    aeio_image a = {0}, b = {0};
    char err[256];
    CHECK(aeio_read_memory(plain, plain_size, &a, 0, err, sizeof err) == 0);
    CHECK(aeio_read_memory(tagged, tagged_size, &b, 0, err, sizeof err) == 0);
    CHECK(a.orientation == 1 && a.icc == NULL && a.exif == NULL);
    CHECK(b.orientation == 6 && b.width == 32 && b.height == 48);
    CHECK(same_bytes(b.icc, b.icc_size, icc, icc_size));
    CHECK(b.exif_size == exif_size && aeio_exif_orientation(b.exif, b.exif_size) == 1);
    uint32_t ow, oh;
    uint8_t *turned = aeio_orient_pixels(a.pixels, a.width, a.height, 3, 6, &ow, &oh);
    CHECK(turned && ow == b.width && oh == b.height &&
          memcmp(turned, b.pixels, (size_t)ow * oh * 3) == 0);
    free(turned);
    aeio_free(&a);
    aeio_free(&b);
    free(plain);
    free(tagged);
}

static void test_png_writes_and_reads_metadata(void)
{
    uint8_t exif[64], icc[ICC_BYTES], px[8 * 6 * 3];
    size_t exif_size = make_exif(exif, 1, 0), icc_size = make_icc(icc);
    make_pixels(px, 8, 6);
    char path[] = "/tmp/aec_test_metadata_XXXXXX";
    int fd = mkstemp(path);
    CHECK(fd >= 0);
    if (fd < 0)
        return;
    close(fd);
    aeio_image img = {.width = 8, .height = 6, .channels = 3, .pixels = px};
    aeio_write_options opt;
    aeio_write_options_default(&opt);
    opt.format = AEIO_FORMAT_PNG;
    opt.icc = icc, opt.icc_size = icc_size, opt.exif = exif, opt.exif_size = exif_size;
    char err[256];
    CHECKF(aeio_write_ex(path, &img, &opt, err, sizeof err) == 0, "%s", err);
    aeio_image back = {0};
    CHECKF(aeio_read(path, &back, 0, err, sizeof err) == 0, "%s", err);
    CHECK(same_bytes(back.icc, back.icc_size, icc, icc_size));
    CHECK(same_bytes(back.exif, back.exif_size, exif, exif_size));
    CHECK(back.pixels && memcmp(back.pixels, px, sizeof px) == 0);
    aeio_free(&back);
    remove(path);
}

static uint8_t *encode(const uint8_t *px, int w, int h, const aec_metadata *md, size_t *size)
{
    aec_encoder *enc = NULL;
    uint8_t *out = NULL;
    if (aec_encoder_create(&enc, NULL) != AEC_OK)
        return NULL;
    aec_encode_params p;
    aec_encode_params_default(&p);
    p.quality = 3;
    p.threads = 1;
    if (md)
        p.metadata = *md;
    if (aec_encode(enc, px, (uint32_t)w, (uint32_t)h, 0, AEC_RGB, &p, &out, size) != AEC_OK)
        out = NULL;
    aec_encoder_destroy(enc);
    return out;
}

static uint8_t *decode(const uint8_t *file, size_t size)
{
    aec_decoder *dec = NULL;
    uint8_t *px = NULL;
    uint32_t w, h;
    aec_layout layout;
    if (aec_decoder_create(&dec, NULL) != AEC_OK)
        return NULL;
    aec_decoder_set_threads(dec, 1);
    aec_decode_params dp;
    aec_decode_params_default(&dp);
    if (aec_decode(dec, file, size, &dp, &px, &w, &h, &layout) != AEC_OK)
        px = NULL;
    aec_decoder_destroy(dec);
    return px;
}

static void test_file_carries_metadata(void)
{
    enum { W = 70, H = 50 };
    uint8_t px[W * H * 3], exif[64], icc[ICC_BYTES];
    make_pixels(px, W, H);
    aec_metadata md = {icc, make_icc(icc), exif, make_exif(exif, 1, 1)};
    size_t plain_size = 0, size = 0;
    uint8_t *plain = encode(px, W, H, NULL, &plain_size);
    uint8_t *file = encode(px, W, H, &md, &size);
    CHECK(plain && file);
    if (!plain || !file)
        goto done;
    CHECK(size == plain_size + 8 * 1 + 2 * 8 + md.icc_size + md.exif_size); /* entry + chunks */
    aec_metadata back;
    CHECK(aec_read_metadata(plain, plain_size, &back) == AEC_OK && !back.icc && !back.exif);
    CHECK(aec_read_metadata(file, size, &back) == AEC_OK);
    CHECK(same_bytes(back.icc, back.icc_size, md.icc, md.icc_size));
    CHECK(same_bytes(back.exif, back.exif_size, md.exif, md.exif_size));
    uint8_t *a = decode(plain, plain_size), *b = decode(file, size);
    CHECK(a && b && memcmp(a, b, sizeof px) == 0); /* the pixels do not change */
    aec_free(a);
    aec_free(b);
    CHECK(aec_read_metadata(file, size - 1, &back) == AEC_ERR_TRUNCATED);
    file[size - 1] ^= 1; /* in the EXIF: the stream's CRC catches it */
    CHECK(aec_read_metadata(file, size, &back) == AEC_ERR_CORRUPT);
    b = decode(file, size); /* the image itself is intact */
    CHECK(b != NULL);
    aec_free(b);
done:
    aec_free(plain);
    aec_free(file);
}

static void test_metadata_stream_rules(void)
{
    uint8_t s[64];
    aec_metadata md;
    memcpy(s, "ICCP\3\0\0\0abcEXIF\2\0\0\0xyXMP \1\0\0\0z", 8 + 3 + 8 + 2 + 8 + 1);
    CHECK(aecb_metadata_parse(s, 30, &md, NULL, 0) == AEC_OK); /* unknown "XMP " skipped */
    CHECK(md.icc_size == 3 && memcmp(md.icc, "abc", 3) == 0);
    CHECK(md.exif_size == 2 && memcmp(md.exif, "xy", 2) == 0);
    CHECK(aecb_metadata_parse(s, 29, &md, NULL, 0) == AEC_ERR_CORRUPT); /* cut chunk */
    CHECK(aecb_metadata_parse(s, 15, &md, NULL, 0) == AEC_ERR_CORRUPT); /* cut header */
    memcpy(s + 11, "ICCP", 4); /* repeated type */
    CHECK(aecb_metadata_parse(s, 21, &md, NULL, 0) == AEC_ERR_CORRUPT);
    memcpy(s, "EXIF\0\0\0\0", 8); /* empty chunk */
    CHECK(aecb_metadata_parse(s, 8, &md, NULL, 0) == AEC_ERR_CORRUPT);
    CHECK(aecb_metadata_parse(s, 0, &md, NULL, 0) == AEC_OK && !md.icc && !md.exif);
}

/* ---- helper modes for metadata_test.sh ---------------------------------- */

static int make_jpeg_file(const char *path, int w, int h, int o)
{
    uint8_t exif[64], icc[ICC_BYTES];
    size_t size;
    uint8_t *jpeg = make_jpeg(w, h, exif, make_exif(exif, o, 0), icc, make_icc(icc), &size);
    FILE *f = fopen(path, "wb");
    int ok = f && fwrite(jpeg, 1, size, f) == size;
    if (f)
        ok &= fclose(f) == 0;
    free(jpeg);
    return ok ? 0 : 1;
}

static int show(const char *path)
{
    uint8_t *data;
    size_t size;
    char err[256];
    if (aeio_read_file(path, &data, &size, 0, err, sizeof err) != 0)
        return fprintf(stderr, "%s\n", err), 1;
    aec_metadata md;
    aeio_image img = {0};
    if (aec_read_metadata(data, size, &md) == AEC_OK) {
        printf("icc %zu exif %zu orientation %d\n", md.icc_size, md.exif_size,
               aeio_exif_orientation(md.exif, md.exif_size));
    } else if (aeio_read_memory(data, size, &img, 0, err, sizeof err) == 0) {
        printf("icc %zu exif %zu orientation %d\n", img.icc_size, img.exif_size,
               aeio_exif_orientation(img.exif, img.exif_size));
        aeio_free(&img);
    } else {
        fprintf(stderr, "%s: %s\n", path, err);
        free(data);
        return 1;
    }
    free(data);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 6 && strcmp(argv[1], "--make-jpeg") == 0)
        return make_jpeg_file(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]));
    if (argc == 3 && strcmp(argv[1], "--show") == 0)
        return show(argv[2]);
    RUN_TEST(test_exif_orientation_read_and_set);
    RUN_TEST(test_orient_pixels_corners);
    RUN_TEST(test_jpeg_orientation_applied_icc_and_exif_kept);
    RUN_TEST(test_png_writes_and_reads_metadata);
    RUN_TEST(test_file_carries_metadata);
    RUN_TEST(test_metadata_stream_rules);
    TEST_EXIT();
}
