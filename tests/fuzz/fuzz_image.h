/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_image.h - the checks of fuzz_imageio (the tools' image readers,
 * tools/common/imageio.c), shared with tests/test_damage.c, which replays
 * the seeds and the regression inputs through the same code.
 *
 * PNG chunks carry CRC-32s that libpng checks, so, as fuzz_common.h does
 * for aecodec files, an input is also run with its chunk CRCs recomputed:
 * that lets mutations of IHDR, PLTE, tRNS and IDAT reach the reader.
 * Needs -Itools and zlib. */
#ifndef AEC_FUZZ_IMAGE_H
#define AEC_FUZZ_IMAGE_H

#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/imageio.h"
#include "common/orientation.h"

/* The fuzzer's pixel limit: large enough for every layout and the
 * interlaced and progressive paths, small enough that a header declaring
 * a huge image is refused (by the limit, before any allocation) instead
 * of costing the fuzzer memory and time. */
#define AECFUZZ_IMAGE_MAX_PIXELS (1u << 18)

static inline uint32_t aecfuzz_be32(const uint8_t *p)
{
    return ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
}

/* Make the CRC of every whole chunk of a PNG file in d[0..n) valid.
 * Returns 1 when something changed, 0 otherwise (not a PNG, or all CRCs
 * were right already). */
static inline int aecfuzz_fix_png(uint8_t *d, size_t n)
{
    static const uint8_t sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (n < 8 || memcmp(d, sig, 8) != 0)
        return 0;
    int changed = 0;
    size_t pos = 8;
    while (n - pos >= 12) {
        uint32_t len = aecfuzz_be32(d + pos);
        if (len > n - pos - 12)
            break;
        uint32_t crc = (uint32_t)crc32(0L, d + pos + 4, len + 4);
        uint8_t *c = d + pos + 8 + len;
        if (aecfuzz_be32(c) != crc) {
            c[0] = (uint8_t)(crc >> 24), c[1] = (uint8_t)(crc >> 16);
            c[2] = (uint8_t)(crc >> 8), c[3] = (uint8_t)crc;
            changed = 1;
        }
        pos += 12 + (size_t)len;
    }
    return changed;
}

/* Sum of n bytes: reading each lets ASan check a buffer's size. */
static inline uint8_t aecfuzz_touch(const uint8_t *p, size_t n)
{
    volatile uint8_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum = (uint8_t)(sum + p[i]);
    return sum;
}

/* One read of d[0..n) under a pixel limit, checked: a success gives an
 * image within the limit, with 1..4 channels, a source depth of 8 or 16,
 * every pixel byte readable, ICC profile and EXIF buffers of their sizes,
 * an applied orientation 1..8 and EXIF whose Orientation tag, if any, is
 * now 1 (the pixels were turned upright); a failure leaves the image
 * zeroed and says why in one line.  Returns the reader's result in *ok
 * and -1 when a check failed, else 0. */
static inline int aecfuzz_image_read_one(const uint8_t *d, size_t n, uint64_t limit,
                                         aeio_image *img, int *ok)
{
    char err[256];
    memset(err, 'x', sizeof err); /* a reader that says nothing is caught */
    int rc = aeio_read_memory(d, n, img, limit, err, sizeof err);
    *ok = rc == 0;
    if (rc != 0)
        return (img->pixels == NULL && img->width == 0 && img->height == 0 &&
                img->channels == 0 && !img->icc && !img->exif && !img->icc_size &&
                !img->exif_size && memchr(err, 0, sizeof err) != NULL && err[0] != 0 &&
                err[0] != 'x' && strchr(err, '\n') == NULL)
                   ? 0
                   : -1;
    if (!img->pixels || img->width == 0 || img->height == 0 || img->channels < 1 ||
        img->channels > 4 || (uint64_t)img->width * img->height > limit ||
        (img->source_bit_depth != 8 && img->source_bit_depth != 16) ||
        (!img->icc != !img->icc_size) || (!img->exif != !img->exif_size) ||
        img->orientation < 1 || img->orientation > 8 ||
        aeio_exif_orientation(img->exif, img->exif_size) > 1)
        return -1;
    aecfuzz_touch(img->pixels, (size_t)img->width * img->height * (size_t)img->channels);
    if (img->icc)
        aecfuzz_touch(img->icc, img->icc_size);
    if (img->exif)
        aecfuzz_touch(img->exif, img->exif_size);
    return 0;
}

/* Everything fuzz_imageio does with one input: read it under
 * AECFUZZ_IMAGE_MAX_PIXELS; an image that reads is converted to every
 * channel count, and a small one is read again under a limit of exactly
 * its size (must give the same pixels) and one pixel less (must be
 * refused).  Returns 0, or -1 when something misbehaved. */
static inline int aecfuzz_image_check(const uint8_t *d, size_t n)
{
    aeio_image img, again;
    int ok = 0, ok2 = 0;
    if (aecfuzz_image_read_one(d, n, AECFUZZ_IMAGE_MAX_PIXELS, &img, &ok) != 0)
        return -1;
    if (!ok)
        return 0;
    int rc = 0;
    for (int c = 1; c <= 4 && rc == 0; c++) {
        aeio_image conv;
        if (aeio_convert(&img, c, &conv, NULL, 0) != 0 || conv.channels != c ||
            conv.width != img.width || conv.height != img.height || !conv.pixels)
            rc = -1;
        aeio_free(&conv);
    }
    uint64_t px = (uint64_t)img.width * img.height;
    if (rc == 0 && px <= 4096) {
        size_t bytes = (size_t)px * (size_t)img.channels;
        if (aecfuzz_image_read_one(d, n, px, &again, &ok2) != 0 || !ok2 ||
            again.width != img.width || again.height != img.height ||
            again.channels != img.channels || memcmp(again.pixels, img.pixels, bytes) != 0)
            rc = -1;
        aeio_free(&again);
        if (rc == 0 && px > 1) {
            if (aecfuzz_image_read_one(d, n, px - 1, &again, &ok2) != 0 || ok2)
                rc = -1;
            aeio_free(&again);
        }
    }
    aeio_free(&img);
    return rc;
}

#endif
