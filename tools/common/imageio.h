/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * imageio.h - image and file I/O for the aecodec command-line tools, the
 * bench and the trainer (not part of libcodec).
 *
 * Reading detects the format from the first bytes, never from the name:
 *   PNG  (libpng: 1/2/4/8/16 bit grey, grey+alpha, RGB, RGBA, palette;
 *         tRNS becomes an alpha channel; interlaced files are fine)
 *   JPEG (libjpeg: grey and colour; CMYK/YCCK is refused)
 *   PNM  binary P5 (PGM), P6 (PPM) and P7 (PAM, depth 1..4), maxval 1..65535
 * Samples deeper than 8 bit are reduced to 8 bit with rounding.
 *
 * Writing picks the format from the extension of the path (case-insensitive):
 * .png, .ppm (RGB only), .pgm (grey only), .pnm (PGM or PPM as fits), .pam
 * (any); "-" writes PNG to stdout.  Files are written to a temporary file
 * next to the destination and renamed into place, so a failed write never
 * leaves partial output behind.
 *
 * Every function returns 0 on success; on failure it returns non-zero and
 * writes a one-line message without a trailing newline into err (which may be
 * NULL).  Messages from functions that take a path start with "PATH: "
 * ("stdin"/"stdout" for "-"); aeio_read_memory's messages have no prefix.
 * Nothing here exits the process or keeps global state.
 */
#ifndef AEIO_IMAGEIO_H
#define AEIO_IMAGEIO_H

#include <stddef.h>
#include <stdint.h>

typedef struct {
    uint32_t width, height;
    int channels;         /* 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA           */
    uint8_t *pixels;      /* tightly packed 8-bit interleaved              */
    int source_bit_depth; /* 8 or 16: sample depth of the file it came from */
    /* Metadata of the file read (malloc'ed, freed by aeio_free; NULL/0 =
     * none): the ICC profile (PNG iCCP, JPEG APP2) and EXIF from its TIFF
     * header on (PNG eXIf, JPEG APP1 "Exif").  Readers turn the pixels
     * upright by the EXIF Orientation tag and then set it to 1 in *exif;
     * `orientation` is the value they applied (1 = none, orientation.h). */
    uint8_t *icc;
    size_t icc_size;
    uint8_t *exif;
    size_t exif_size;
    int orientation;
} aeio_image;

/* Pixel limit used when a caller passes max_pixels = 0. */
#define AEIO_DEFAULT_MAX_PIXELS (1ull << 28)

/* Read an image file ("-" = stdin).  Images with more than max_pixels pixels
 * (0 = AEIO_DEFAULT_MAX_PIXELS) are refused before any pixel memory is
 * allocated.  On failure *img is zeroed. */
int aeio_read(const char *path, aeio_image *img, uint64_t max_pixels, char *err, size_t errlen);
int aeio_read_memory(const uint8_t *data, size_t size, aeio_image *img, uint64_t max_pixels,
                     char *err, size_t errlen);

/* Write an image; the format comes from the extension (see above). */
int aeio_write(const char *path, const aeio_image *img, char *err, size_t errlen);

typedef enum {
    AEIO_FORMAT_AUTO = 0, /* from the extension; PNG for "-"               */
    AEIO_FORMAT_PNG,
    AEIO_FORMAT_PPM,      /* P6, RGB images only                           */
    AEIO_FORMAT_PGM,      /* P5, grey images only                          */
    AEIO_FORMAT_PNM,      /* P5 or P6 from the channel count (1 or 3)      */
    AEIO_FORMAT_PAM,      /* P7, any channel count                         */
    AEIO_FORMAT_UNKNOWN = -1
} aeio_format;

typedef struct {
    aeio_format format; /* AEIO_FORMAT_AUTO: from the path                  */
    int png_level;      /* zlib level 0..9 for PNG, with zlib's usual
                           matching; -1 = default: level 6 matching runs
                           only (Z_RLE), about 5 times faster on decoded
                           photographs for files from 3 % smaller to 7 %
                           larger (bench/NOTES.md), filtered and
                           compressed on `threads` threads in chunks of
                           rows (png_deflate.h)                          */
    int threads;        /* threads for the default PNG level: 0 = all
                           cores (OpenMP's default), 1 = this thread only;
                           the file is the same whatever the count       */
    /* PNG only (PNM has no place for them): an ICC profile written as iCCP
     * and EXIF (TIFF header on) as eXIf; NULL/0 = none (the default). */
    const uint8_t *icc;
    size_t icc_size;
    const uint8_t *exif;
    size_t exif_size;
} aeio_write_options;

void aeio_write_options_default(aeio_write_options *opt);
int aeio_write_ex(const char *path, const aeio_image *img, const aeio_write_options *opt,
                  char *err, size_t errlen);
/* Format a path's extension selects: PNG for "-", AEIO_FORMAT_UNKNOWN when
 * the extension is not one of the known ones. */
aeio_format aeio_format_from_path(const char *path);
/* Channel counts a format can hold: 1 PGM, 3 PPM, 1 or 3 PNM, any for PNG/PAM. */
int aeio_format_accepts(aeio_format format, int channels);

/* Streaming writer: the same files as aeio_write_ex (byte for byte), written
 * a few rows at a time so that the caller never holds the whole image.
 *
 *   aeio_writer *wr;
 *   aeio_writer_open(&wr, path, width, height, channels, opt, err, errlen);
 *   aeio_writer_write_rows(wr, rows, count, err, errlen);   // repeatedly
 *   aeio_writer_finish(wr, err, errlen);   // or aeio_writer_abort(wr)
 *
 * open checks the format and channel count as aeio_write_ex does and creates
 * the temporary file (nothing exists under path until finish succeeds); path
 * must stay valid until finish or abort.  write_rows takes `count` tightly
 * packed rows of width * channels bytes, in order.  finish requires all
 * `height` rows and renames the file into place; it releases the writer
 * whether it succeeds or not (removing the temporary file on failure).
 * After a failed write_rows, call abort: it removes the temporary file and
 * releases the writer (NULL is fine).  Writing to "-" (stdout) cannot be
 * taken back: rows written before an error stay written. */
typedef struct aeio_writer aeio_writer;

int aeio_writer_open(aeio_writer **wr, const char *path, uint32_t width, uint32_t height,
                     int channels, const aeio_write_options *opt, char *err, size_t errlen);
int aeio_writer_write_rows(aeio_writer *wr, const uint8_t *rows, uint32_t count, char *err,
                           size_t errlen);
int aeio_writer_finish(aeio_writer *wr, char *err, size_t errlen);
void aeio_writer_abort(aeio_writer *wr);

/* Whole-file helpers.  aeio_read_file returns a malloc'ed buffer (free()
 * it; never NULL on success, even for an empty file) and refuses files
 * larger than max_size bytes (0 = no limit). */
int aeio_read_file(const char *path, uint8_t **data, size_t *size, size_t max_size, char *err,
                   size_t errlen);
/* "-" = stdout.  Otherwise temp file in the same directory + rename().
 * A path that names an existing device or FIFO (/dev/null) is written
 * directly. */
int aeio_write_file_atomic(const char *path, const void *data, size_t size, char *err,
                           size_t errlen);

/* The same atomic output in steps, so that a tool can create its output
 * before slow work (a path that cannot be written then fails first) and
 * write it later: open creates the temporary file (or opens stdout or a
 * device), write appends, commit renames it into place and abort removes
 * it; both release the file.  The temporary file is registered with
 * cleanup.h, so a signal removes it too. */
typedef struct aeio_file aeio_file;

int aeio_file_open(aeio_file **file, const char *path, char *err, size_t errlen);
int aeio_file_write(aeio_file *file, const void *data, size_t size, char *err, size_t errlen);
int aeio_file_commit(aeio_file *file, char *err, size_t errlen);
void aeio_file_abort(aeio_file *file);

/* Convert between channel counts into a new image (dst is overwritten and
 * must be freed with aeio_free).  Grey -> RGB replicates, colour -> grey
 * uses BT.601 luma, dropping alpha discards it, adding alpha makes it 255. */
int aeio_convert(const aeio_image *src, int channels, aeio_image *dst, char *err, size_t errlen);

void aeio_free(aeio_image *img);

#endif /* AEIO_IMAGEIO_H */
