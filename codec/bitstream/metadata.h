/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metadata.h - the metadata stream (flags bit 4, spec/bitstream.md §6.8):
 * the colour profile and EXIF of the original image, kept so that a decoder
 * can give them back.  The stream is not compressed: a sequence of chunks
 *
 *     type   4 bytes  "ICCP" (ICC profile) or "EXIF" (TIFF header onwards)
 *     length u32      little-endian, 1..AECB_MAX_METADATA
 *     data   length bytes
 *
 * that exactly fills the stream, each type at most once.  Chunks of other
 * types are skipped, so a later version may add some.
 */
#ifndef AECB_METADATA_H
#define AECB_METADATA_H

#include <stddef.h>
#include <stdint.h>

#include "aecodec.h"

/* Bytes of the stream that carries md; 0 when md holds nothing. */
uint64_t aecb_metadata_size(const aec_metadata *md);

/* Write the stream into out (aecb_metadata_size(md) bytes). */
void aecb_metadata_write(const aec_metadata *md, uint8_t *out);

/* Parse a stream: *md points into data.  AEC_ERR_CORRUPT with a message
 * when the chunks do not exactly fill it or a type repeats. */
aec_status aecb_metadata_parse(const uint8_t *data, size_t size, aec_metadata *md, char *err,
                               size_t errlen);

#endif
