/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * png_deflate.h - the image data of an 8-bit, non-interlaced PNG (the zlib
 * stream that its IDAT chunks hold), filtered and compressed on several
 * threads.
 *
 * The rows are cut into chunks of a fixed number of rows, counted from the
 * top of the image and chosen from the row size alone (about 128 KiB of
 * filtered bytes).  Each chunk is filtered (libpng's adaptive choice of the
 * five PNG filters per row) and compressed on its own as raw deflate (zlib
 * level 6, Z_RLE) ending in a byte-aligned sync flush; the chunks are
 * joined in order between a zlib header and an empty final block with the
 * Adler-32 of all the filtered bytes, as pigz does.  Z_RLE matches only the
 * previous byte, so independent chunks compress about as well as one
 * stream.  The bytes depend on the image alone: neither on the thread count
 * nor on how the rows are handed over.
 *
 * Every function returns 0 on success; on failure non-zero with a one-line
 * message in msg ("out of memory", or the sink's own).  Nothing here exits
 * or keeps global state.
 */
#ifndef AEIO_PNG_DEFLATE_H
#define AEIO_PNG_DEFLATE_H

#include <stddef.h>
#include <stdint.h>

/* Receives the zlib stream in order, in pieces of any size.  Returns 0, or
 * non-zero with a message in msg to stop the compression. */
typedef int (*png_deflate_sink)(void *ctx, const uint8_t *data, size_t size, char *msg,
                                size_t msglen);

typedef struct png_deflate png_deflate;

/* A compressor for an image of width x height pixels of `channels` 8-bit
 * samples (1..4) on `threads` threads (0 = OpenMP's default, 1 = serial,
 * no parallel region); its output goes to sink(ctx, ...). */
int png_deflate_new(png_deflate **pd, uint32_t width, uint32_t height, int channels,
                    int threads, png_deflate_sink sink, void *ctx, char *msg, size_t msglen);
/* Takes `count` tightly packed rows, in order; complete chunks go to the
 * sink now, the rows of an incomplete one are kept for the next call. */
int png_deflate_rows(png_deflate *pd, const uint8_t *rows, uint32_t count, char *msg,
                     size_t msglen);
/* After all `height` rows: compresses the last chunk and ends the stream. */
int png_deflate_finish(png_deflate *pd, char *msg, size_t msglen);
void png_deflate_free(png_deflate *pd); /* NULL is fine */

#endif /* AEIO_PNG_DEFLATE_H */
