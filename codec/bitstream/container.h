/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * container.h - the container of aecodec bitstream v1 (spec/bitstream.md):
 * the 48-byte header, the stream table and the CRC-32 checksums.
 *
 * Internal to libcodec; everything is prefixed aecb_.
 *
 * File layout:  header (48 bytes) | table (8 bytes per stream) | streams
 * Streams, in table order: [alpha frame if flags bit 0], then for stage
 * 0..stages-1 (0-based here, "stage 1..S" in the spec) every tile in tile
 * raster order, then [if flags bit 2] every tile's lattice refinement
 * (with flags bit 5, layer 0 of every tile, then layer 1, ...),
 * then [if flags bit 7] every tile's pixel residual (vq/residual.h),
 * then [in version 2] the restoration filter (vq/wiener.h),
 * then [if flags bit 4] the metadata stream (bitstream/metadata.h).
 * Each stream but the metadata one is one magicless zstd frame (zstream.h).
 */
#ifndef AECB_CONTAINER_H
#define AECB_CONTAINER_H

#include <stddef.h>
#include <stdint.h>

#include "aecodec.h"

#define AECB_MAGIC0 0x8Bu
#define AECB_MAGIC1 0x41u /* 'A' */
#define AECB_MAGIC2 0x45u /* 'E' */
#define AECB_MAGIC3 0x43u /* 'C' */
#define AECB_VERSION 1u
/* Version 2 adds one stream after the residual streams (before the
 * metadata stream): the restoration filter (bitstream/wiener_stream.h). */
#define AECB_VERSION_FILTER 2u
#define AECB_HEADER_BYTES 48u
#define AECB_ENTRY_BYTES 8u
#define AECB_MAX_STAGES 16u
#define AECB_MIN_TILE 64u
#define AECB_MAX_TILE 1024u
#define AECB_MAX_DIMENSION 65535u

#define AECB_FLAG_ALPHA 0x01u /* alpha plane stream present             */
#define AECB_FLAG_DICT 0x02u  /* streams use the model's zstd dictionary */
#define AECB_FLAG_LATTICE 0x04u /* lattice refinement streams present      */
#define AECB_FLAG_SPLIT 0x08u   /* lattice streams in the split layout    */
#define AECB_FLAG_METADATA 0x10u /* last stream: ICC profile / EXIF chunks */
#define AECB_FLAG_LAYERED 0x20u  /* lattice streams in layers of channels  */
#define AECB_FLAG_HALF 0x40u     /* coded at half size, upsampled by two    */
#define AECB_FLAG_RESIDUAL 0x80u /* pixel residual streams after the lattice */
#define AECB_FLAGS_KNOWN                                                                \
    (AECB_FLAG_ALPHA | AECB_FLAG_DICT | AECB_FLAG_LATTICE | AECB_FLAG_SPLIT |            \
     AECB_FLAG_METADATA | AECB_FLAG_LAYERED | AECB_FLAG_HALF | AECB_FLAG_RESIDUAL)
/* A layered file (flags bit 5, spec/bitstream.md 6.9) codes the lattice
 * symbols of latent channels 0..7 in layer 0 and channels 8*2^(l-1) ..
 * 8*2^l - 1 in layer l >= 1 (each cut at lattice_dim): the transform's
 * first channels carry the most, so a file cut after a layer decodes with
 * the channels it holds, at a lower quality. */
#define AECB_LAYER0_CHANNELS 8u
#define AECB_MAX_LAYERS 6 /* 255 channels: 0-7, 8-15, 16-31, 32-63, 64-127, 128-254 */
/* Largest metadata stream (raw chunks, not compressed): 16 MiB holds any
 * ICC profile and EXIF block met in practice, and bounds what a hostile
 * file can make a reader look at. */
#define AECB_MAX_METADATA (1u << 24)
/* The lattice step is stored in units of 2^-20. */
#define AECB_LATTICE_STEP_ONE (1u << 20)

typedef struct {
    /* --- stored fields (set by the caller before aecb_header_init, or by
     *     aecb_parse) --- */
    uint32_t width, height;
    uint8_t version;             /* AECB_VERSION or AECB_VERSION_FILTER
                                    (0 is taken as AECB_VERSION by init)   */
    uint8_t layout, stages, flags, block_size;
    uint16_t tile_size;
    uint64_t model_id, file_size;
    uint8_t lattice_dim;         /* flags bit 2: latent channels refined    */
    uint32_t lattice_step_q;     /* flags bit 2: step in 2^-20 units, > 0   */
    /* --- derived --- */
    uint32_t coded_w, coded_h;   /* the coded image, which the tiles, latents
                                    and streams describe: width x height, or
                                    with flags bit 6 (HALF) their halves
                                    rounded up (spec/bitstream.md 4.1)      */
    uint32_t tiles_x, tiles_y, n_tiles;
    uint32_t n_streams;          /* (alpha?1:0) + stages*n_tiles
                                    + lattice_layers*n_tiles
                                    + (residual?n_tiles:0) + (metadata?1:0) */
    int lattice_layers;          /* layers of lattice streams: 0 without
                                    flags bit 2, 1 without bit 5            */
    uint32_t *sizes, *crcs;      /* per stream, in table order              */
    uint64_t *offsets;           /* per stream, from the start of the file  */
    uint32_t table_bytes, header_bytes;
    int stages_available;        /* filled by aecb_parse (= stages after
                                    aecb_header_init)                       */
    int lattice_available;       /* 1 when every lattice stream lies within
                                    the data (flags bit 2 set), else 0      */
    int lattice_layers_available; /* leading layers usable (filled by
                                    aecb_parse; spec/bitstream.md 8)        */
    int residual_available;      /* 1 when flags bit 7 is set and every
                                    residual stream lies within the data,
                                    on top of every stage and layer        */
    int filter_available;        /* 1 in version 2 when the filter stream
                                    and everything before it are within the
                                    data                                   */
} aecb_header;

/* Bytes of a stream table with n_streams entries (8 per entry). */
size_t aecb_header_table_size(uint32_t n_streams);

/* Validate the stored fields width, height, layout, stages, flags,
 * block_size and tile_size (INVALID_ARGUMENT with a message when one is out
 * of range), fill the derived fields and allocate zeroed sizes/crcs/offsets
 * (OUT_OF_MEMORY).  Pointer fields on entry are ignored and overwritten:
 * call it on a struct whose arrays are not allocated.  model_id is kept,
 * file_size is set to 0 until aecb_write.  err may be NULL. */
aec_status aecb_header_init(aecb_header *h, char *err, size_t errlen);

/* Assemble a file.  The caller sets h->sizes[i] (1..aecb_stream_bound(h,i)
 * each) and passes n_streams pointers to the stream bytes in table order.
 * Computes h->crcs, h->offsets and h->file_size, and returns in *out a
 * malloc'ed buffer (release with free) of *out_size = h->file_size bytes.
 * Errors: INVALID_ARGUMENT (NULL pointer, a size out of range),
 * LIMIT (file larger than SIZE_MAX), OUT_OF_MEMORY. */
aec_status aecb_write(aecb_header *h, const uint8_t *const *streams, uint8_t **out,
                      size_t *out_size);

/* Parse and validate the header and table of data[0..size) in the order
 * given in spec/bitstream.md ("Decoding procedure"), against *lim (NULL =
 * AEC_MAX_DIMENSION / AEC_DEFAULT_MAX_PIXELS).  Everything except the
 * streams' own CRCs is checked.  On AEC_OK, *h is filled (free it with
 * aecb_header_free) and h->stages_available is 1..stages: the number of
 * leading stages whose streams (and the alpha stream) lie within the data.
 * *h is overwritten on entry (it must not hold allocations).  On error *h
 * holds no allocation and err holds one line. */
aec_status aecb_parse(const uint8_t *data, size_t size, const aec_limits *lim,
                      aecb_header *h, char *err, size_t errlen);

/* Check that stream stream_index lies within data[0..size) (TRUNCATED) and
 * that its CRC-32 matches the table (CORRUPT).  INVALID_ARGUMENT for an
 * index out of range. */
aec_status aecb_check_stream(const aecb_header *h, const uint8_t *data, size_t size,
                             uint32_t stream_index, char *err, size_t errlen);

/* Table index of (stage 0-based, tile in raster order); the alpha stream,
 * when present, is index 0 (AECB_ALPHA_STREAM). */
#define AECB_ALPHA_STREAM 0u
uint32_t aecb_stream_index(const aecb_header *h, int stage, uint32_t tile);
/* Table index of tile's lattice refinement stream (flags bit 2), of layer
 * 0 in a layered file. */
uint32_t aecb_lattice_stream_index(const aecb_header *h, uint32_t tile);
/* Table index of tile's stream of lattice layer `layer`. */
uint32_t aecb_layer_stream_index(const aecb_header *h, int layer, uint32_t tile);
/* The latent channels layer `layer` codes: first .. first + count - 1 (all
 * lattice_dim channels in the one layer of a file without flags bit 5). */
void aecb_layer_channels(const aecb_header *h, int layer, uint32_t *first, uint32_t *count);
/* Layers that lattice_dim channels make in a layered file (1..6). */
int aecb_layers_for(uint32_t lattice_dim);
/* Table index of tile's pixel residual stream (flags bit 7): after every
 * lattice layer, as one more layer would be. */
uint32_t aecb_residual_stream_index(const aecb_header *h, uint32_t tile);
/* Colour channels the residual codes: 1 for the grey layouts, else 3. */
int aecb_residual_colours(const aecb_header *h);
/* Table index of the restoration filter's stream (version 2): after the
 * residual streams, before the metadata stream. */
uint32_t aecb_filter_stream_index(const aecb_header *h);
/* Table index of the metadata stream (flags bit 4): the last one. */
uint32_t aecb_metadata_stream_index(const aecb_header *h);

/* Geometry of tile t (raster order): pixel rectangle and latent grid. */
void aecb_tile_rect(const aecb_header *h, uint32_t tile, uint32_t *x0, uint32_t *y0,
                    uint32_t *w, uint32_t *hgt);
void aecb_tile_latents(const aecb_header *h, uint32_t tile, uint32_t *lw, uint32_t *lh);

/* Tile t's window on the latent grid: its own latents start at (lx0, ly0)
 * and span lw x lh; widened by `halo` latents on each side and clipped to
 * the image's grid, they become [hx0, hx1) x [hy0, hy1), the input a network
 * with that receptive field needs for the tile. */
typedef struct {
    int lx0, ly0, lw, lh;
    int hx0, hy0, hx1, hy1;
} aecb_tile_window;
void aecb_tile_window_of(const aecb_header *h, uint32_t tile, int halo, aecb_tile_window *w);
/* The image's latent grid: one latent per block, partial blocks included. */
void aecb_latent_grid(const aecb_header *h, int *grid_w, int *grid_h);

/* Decompressed size of stream i: W*H for the alpha stream, the tile's
 * latent count for an index stream, 2 * lattice_dim * latents for a lattice
 * stream of the planes layout (16-bit symbols as a low-byte plane then a
 * high-byte plane; a split-layout stream has no single raw size),
 * aem_residual_raw_size of the tile for a residual stream,
 * AECB_MAX_METADATA for the (uncompressed) metadata stream. */
uint64_t aecb_stream_raw_size(const aecb_header *h, uint32_t stream_index);
/* Largest size a conforming stream i may have: compress_bound(raw size),
 * aecb_split_bound for a lattice stream of the split layout,
 * AECB_MAX_METADATA for the metadata stream. */
uint64_t aecb_stream_bound(const aecb_header *h, uint32_t stream_index);
/* The spec's compress_bound(n) (equal to ZSTD_COMPRESSBOUND for n < 2^31). */
uint64_t aecb_compress_bound(uint64_t n);

void aecb_header_free(aecb_header *h);

/* Formats a one-line message into err (nothing when err is NULL). */
void aecb_seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* CRC-32 (IEEE 802.3, reflected polynomial 0xEDB88320, init and final xor
 * 0xFFFFFFFF): same results and chaining as zlib's crc32(): start with
 * crc = 0, feed the result back for the next piece. */
uint32_t aecb_crc32(uint32_t crc, const void *data, size_t n);

#endif
