/* SPDX-License-Identifier: BSD-3-Clause */
/* orientation.c - the EXIF Orientation tag and upright pixels (orientation.h). */
#include "orientation.h"

#include <stdlib.h>
#include <string.h>

#define TAG_ORIENTATION 0x0112u
#define TYPE_SHORT 3u
#define IFD_ENTRY_BYTES 12u

static uint32_t rd(const uint8_t *p, int bytes, int big_endian)
{
    uint32_t v = 0;
    for (int i = 0; i < bytes; i++)
        v |= (uint32_t)p[big_endian ? bytes - 1 - i : i] << (8 * i);
    return v;
}

/* Offset of the Orientation entry's value (a SHORT) in exif, or 0. */
static size_t orientation_value_at(const uint8_t *exif, size_t size, int *big_endian)
{
    if (!exif || size < 8)
        return 0;
    if (memcmp(exif, "II*\0", 4) == 0)
        *big_endian = 0;
    else if (memcmp(exif, "MM\0*", 4) == 0)
        *big_endian = 1;
    else
        return 0;
    uint32_t ifd = rd(exif + 4, 4, *big_endian);
    if (ifd < 8 || ifd > size - 2)
        return 0;
    uint32_t entries = rd(exif + ifd, 2, *big_endian);
    size_t first = (size_t)ifd + 2;
    for (uint32_t i = 0; i < entries; i++) {
        size_t e = first + (size_t)i * IFD_ENTRY_BYTES;
        if (e + IFD_ENTRY_BYTES > size)
            return 0;
        if (rd(exif + e, 2, *big_endian) == TAG_ORIENTATION) {
            if (rd(exif + e + 2, 2, *big_endian) != TYPE_SHORT ||
                rd(exif + e + 4, 4, *big_endian) != 1)
                return 0;
            return e + 8; /* a single SHORT sits in the value field itself */
        }
    }
    return 0;
}

int aeio_exif_orientation(const uint8_t *exif, size_t size)
{
    int be = 0;
    size_t at = orientation_value_at(exif, size, &be);
    if (!at)
        return 0;
    uint32_t v = rd(exif + at, 2, be);
    return v >= 1 && v <= 8 ? (int)v : 0;
}

int aeio_exif_set_orientation(uint8_t *exif, size_t size, int value)
{
    int be = 0;
    size_t at = orientation_value_at(exif, size, &be);
    if (!at)
        return -1;
    exif[at + (be ? 0 : 1)] = 0;
    exif[at + (be ? 1 : 0)] = (uint8_t)value;
    return 0;
}

/* Source pixel of upright pixel (x, y) for a width x height source. */
static void source_of(int orientation, uint32_t x, uint32_t y, uint32_t width, uint32_t height,
                      uint32_t *sx, uint32_t *sy)
{
    switch (orientation) {
    case 2: *sx = width - 1 - x, *sy = y; break;
    case 3: *sx = width - 1 - x, *sy = height - 1 - y; break;
    case 4: *sx = x, *sy = height - 1 - y; break;
    case 5: *sx = y, *sy = x; break;
    case 6: *sx = y, *sy = height - 1 - x; break;
    case 7: *sx = width - 1 - y, *sy = height - 1 - x; break;
    case 8: *sx = width - 1 - y, *sy = x; break;
    default: *sx = x, *sy = y; break;
    }
}

uint8_t *aeio_orient_pixels(const uint8_t *pixels, uint32_t width, uint32_t height,
                            int channels, int orientation, uint32_t *out_w, uint32_t *out_h)
{
    int swap = orientation >= 5 && orientation <= 8;
    uint32_t ow = swap ? height : width, oh = swap ? width : height;
    uint8_t *out = malloc((size_t)ow * oh * (size_t)channels);
    if (!out)
        return NULL;
    for (uint32_t y = 0; y < oh; y++)
        for (uint32_t x = 0; x < ow; x++) {
            uint32_t sx, sy;
            source_of(orientation, x, y, width, height, &sx, &sy);
            memcpy(out + ((size_t)y * ow + x) * channels,
                   pixels + ((size_t)sy * width + sx) * channels, (size_t)channels);
        }
    *out_w = ow;
    *out_h = oh;
    return out;
}
