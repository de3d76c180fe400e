/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * orientation.h - the EXIF Orientation tag (0x0112) of a TIFF-structured
 * EXIF block, and turning pixels upright by it.  Cameras store a photo as
 * the sensor saw it and say in this tag how to turn it for display; aeenc
 * applies the turn before coding (as avifenc and cjxl honour it) and sets
 * the tag to 1 in the EXIF it keeps, so no viewer turns it twice.
 */
#ifndef AEIO_ORIENTATION_H
#define AEIO_ORIENTATION_H

#include <stddef.h>
#include <stdint.h>

/* The Orientation value 1..8 in IFD0 of exif (starting at its "II*\0" or
 * "MM\0*" TIFF header), or 0 when there is none or the block is malformed.
 * Reads only inside exif[0..size). */
int aeio_exif_orientation(const uint8_t *exif, size_t size);

/* Rewrite that tag's value in place (when present); returns 0 when done,
 * -1 when the block has no valid Orientation tag. */
int aeio_exif_set_orientation(uint8_t *exif, size_t size, int value);

/* The pixels of a width x height image of `channels` bytes per pixel turned
 * upright for orientation 1..8: a new malloc'ed buffer whose size is
 * *out_w x *out_h (5..8 swap the sides), or NULL when out of memory.
 *   1 as is   2 mirrored left-right   3 turned 180°   4 mirrored top-bottom
 *   5 transposed   6 turned 90° clockwise   7 transversed   8 turned 90° anticlockwise */
uint8_t *aeio_orient_pixels(const uint8_t *pixels, uint32_t width, uint32_t height,
                            int channels, int orientation, uint32_t *out_w, uint32_t *out_h);

#endif
