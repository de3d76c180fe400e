/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * imageio.c - image and whole-file I/O for the tools (see imageio.h).
 *
 * All decoders work on a memory buffer: files (and stdin) are read whole
 * first, so format detection by magic bytes works for pipes too and a
 * truncated file is simply "the buffer ends early".  libpng and libjpeg
 * report errors by longjmp; each setjmp lives in a small *_run function
 * whose state sits in a struct owned by the caller, so no local variable
 * modified after setjmp is ever read after the longjmp.
 */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "imageio.h"
#include "cleanup.h"
#include "orientation.h"
#include "png_deflate.h"

#include <errno.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <unistd.h>

#include <jpeglib.h> /* needs stdio.h first */
#include <jerror.h>  /* JWRN_JPEG_EOF */
#include <png.h>
#include <zlib.h>

#define MSG_LEN 512

/* ---- messages ------------------------------------------------------------ */

static void msgf(char *err, size_t errlen, const char *fmt, ...)
{
    if (!err || errlen == 0)
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

static const char *in_name(const char *path) { return strcmp(path, "-") == 0 ? "stdin" : path; }
static const char *out_name(const char *path) { return strcmp(path, "-") == 0 ? "stdout" : path; }

/* ---- common checks ------------------------------------------------------- */

/* Refuses empty and over-limit images; called before any pixel allocation. */
static int check_dims(uint64_t w, uint64_t h, uint64_t max_pixels, char *msg, size_t msglen)
{
    if (w == 0 || h == 0) {
        msgf(msg, msglen, "image has zero width or height (%llux%llu)", (unsigned long long)w,
             (unsigned long long)h);
        return -1;
    }
    if (max_pixels == 0)
        max_pixels = AEIO_DEFAULT_MAX_PIXELS;
    /* w and h are at most 2^32 each, so the product cannot overflow 64 bits
     * once one of them is below 2^32 - checked by the callers' parsers. */
    if (w > UINT32_MAX || h > UINT32_MAX || w * h > max_pixels) {
        msgf(msg, msglen, "image too large: %llux%llu pixels (limit %llu pixels)",
             (unsigned long long)w, (unsigned long long)h, (unsigned long long)max_pixels);
        return -1;
    }
    /* 4 bytes per pixel must fit in size_t (matters on 32-bit hosts only). */
    if (w * h > SIZE_MAX / 8) {
        msgf(msg, msglen, "image too large for this machine: %llux%llu pixels",
             (unsigned long long)w, (unsigned long long)h);
        return -1;
    }
    return 0;
}

/* The size and channel count of an image to write or convert. */
static int check_shape(uint32_t width, uint32_t height, int channels, char *msg, size_t msglen)
{
    if (channels < 1 || channels > 4) {
        msgf(msg, msglen, "invalid image (no pixels or bad channel count)");
        return -1;
    }
    if (width == 0 || height == 0) {
        msgf(msg, msglen, "image has zero width or height");
        return -1;
    }
    if ((uint64_t)width * height > SIZE_MAX / 8) {
        msgf(msg, msglen, "image too large");
        return -1;
    }
    return 0;
}

static int check_image(const aeio_image *img, char *msg, size_t msglen)
{
    if (!img || !img->pixels) {
        msgf(msg, msglen, "invalid image (no pixels or bad channel count)");
        return -1;
    }
    return check_shape(img->width, img->height, img->channels, msg, msglen);
}

void aeio_free(aeio_image *img)
{
    if (!img)
        return;
    free(img->pixels);
    free(img->icc);
    free(img->exif);
    memset(img, 0, sizeof(*img));
}

/* ---- PNG reading --------------------------------------------------------- */

struct png_rjob {
    const uint8_t *data;
    size_t size, pos;
    uint64_t max_pixels;
    png_structp png;
    png_infop info;
    uint8_t *pixels;
    png_bytep *rows;
    uint32_t width, height;
    int channels, bit_depth;
    uint8_t *icc, *exif; /* copies: libpng's buffers die with its structs */
    size_t icc_size, exif_size;
    char msg[MSG_LEN];
    int own_msg; /* msg is ours, not a libpng message */
};

static uint8_t *copy_bytes(const void *data, size_t size)
{
    uint8_t *p = size ? malloc(size) : NULL;
    if (p)
        memcpy(p, data, size);
    return p;
}

/* The iCCP profile and eXIf block, when the file has them. */
static void png_rjob_metadata(struct png_rjob *job)
{
    png_charp name;
    png_bytep profile, exif;
    png_uint_32 profile_len, exif_len;
    int compression;
    if (png_get_iCCP(job->png, job->info, &name, &compression, &profile, &profile_len) &&
        profile_len) {
        job->icc = copy_bytes(profile, profile_len);
        job->icc_size = job->icc ? profile_len : 0;
    }
    if (png_get_eXIf_1(job->png, job->info, &exif_len, &exif) && exif_len) {
        job->exif = copy_bytes(exif, exif_len);
        job->exif_size = job->exif ? exif_len : 0;
    }
}

static void png_rjob_error(png_structp png, png_const_charp text)
{
    struct png_rjob *job = png_get_error_ptr(png);
    if (!job->msg[0])
        msgf(job->msg, sizeof(job->msg), "%s", text);
    png_longjmp(png, 1);
}

static void png_quiet_warning(png_structp png, png_const_charp text)
{
    (void)png;
    (void)text; /* warnings (bad ancillary chunks etc.) are not fatal */
}

static void png_rjob_read(png_structp png, png_bytep out, size_t n)
{
    struct png_rjob *job = png_get_io_ptr(png);
    if (n > job->size - job->pos) {
        msgf(job->msg, sizeof(job->msg), "truncated PNG data");
        job->own_msg = 1;
        png_error(png, job->msg);
    }
    memcpy(out, job->data + job->pos, n);
    job->pos += n;
}

static int png_rjob_run(struct png_rjob *job)
{
    if (setjmp(png_jmpbuf(job->png)))
        return -1;
    png_set_read_fn(job->png, job, png_rjob_read);
    png_read_info(job->png, job->info);
    png_rjob_metadata(job);

    png_uint_32 w, h;
    int bit_depth, color_type, interlace;
    png_get_IHDR(job->png, job->info, &w, &h, &bit_depth, &color_type, &interlace, NULL, NULL);
    if (check_dims(w, h, job->max_pixels, job->msg, sizeof(job->msg)) != 0) {
        job->own_msg = 1;
        return -1;
    }
    /* palette -> RGB, grey < 8 bit -> 8 bit, tRNS -> alpha channel */
    png_set_expand(job->png);
    if (bit_depth == 16)
        png_set_scale_16(job->png); /* rounds, unlike png_set_strip_16 */
    png_set_interlace_handling(job->png);
    png_read_update_info(job->png, job->info);

    int channels = png_get_channels(job->png, job->info);
    if (channels < 1 || channels > 4 || png_get_bit_depth(job->png, job->info) != 8 ||
        png_get_rowbytes(job->png, job->info) != (size_t)w * channels) {
        msgf(job->msg, sizeof(job->msg), "unsupported PNG layout");
        job->own_msg = 1;
        return -1;
    }
    size_t stride = (size_t)w * channels;
    job->pixels = malloc(stride * h);
    job->rows = malloc(sizeof(png_bytep) * h);
    if (!job->pixels || !job->rows) {
        msgf(job->msg, sizeof(job->msg), "out of memory");
        job->own_msg = 1;
        return -1;
    }
    for (png_uint_32 y = 0; y < h; y++)
        job->rows[y] = job->pixels + (size_t)y * stride;
    png_read_image(job->png, job->rows);
    /* The pixels are complete; a missing IEND or trailing chunk is not worth
     * refusing the image for, so png_read_end is not called. */
    job->width = w;
    job->height = h;
    job->channels = channels;
    job->bit_depth = bit_depth == 16 ? 16 : 8;
    return 0;
}

static int read_png(const uint8_t *data, size_t size, aeio_image *img, uint64_t max_pixels,
                    char *err, size_t errlen)
{
    struct png_rjob job;
    memset(&job, 0, sizeof(job));
    job.data = data;
    job.size = size;
    job.max_pixels = max_pixels;
    job.png = png_create_read_struct(PNG_LIBPNG_VER_STRING, &job, png_rjob_error,
                                     png_quiet_warning);
    if (job.png)
        job.info = png_create_info_struct(job.png);
    if (!job.png || !job.info) {
        png_destroy_read_struct(&job.png, &job.info, NULL);
        msgf(err, errlen, "out of memory");
        return -1;
    }
    int rc = png_rjob_run(&job);
    png_destroy_read_struct(&job.png, &job.info, NULL);
    free(job.rows);
    if (rc != 0) {
        free(job.pixels);
        free(job.icc);
        free(job.exif);
        if (job.own_msg)
            msgf(err, errlen, "%s", job.msg);
        else
            msgf(err, errlen, "bad PNG data: %s", job.msg[0] ? job.msg : "unknown error");
        return -1;
    }
    img->width = job.width;
    img->height = job.height;
    img->channels = job.channels;
    img->pixels = job.pixels;
    img->source_bit_depth = job.bit_depth;
    img->icc = job.icc, img->icc_size = job.icc_size;
    img->exif = job.exif, img->exif_size = job.exif_size;
    return 0;
}

/* ---- JPEG reading -------------------------------------------------------- */

struct jpeg_rjob {
    struct jpeg_error_mgr mgr; /* first, so cinfo->err casts back to the job */
    jmp_buf jb;
    struct jpeg_decompress_struct cinfo;
    int created;
    int rows_done; /* all scanlines read: an EOF while looking for EOI is harmless */
    const uint8_t *data;
    size_t size;
    uint64_t max_pixels;
    uint8_t *pixels;
    uint32_t width, height;
    int channels;
    uint8_t *icc, *exif;
    size_t icc_size, exif_size;
    char msg[MSG_LEN];
};

/* The ICC profile (APP2 chunks, joined by libjpeg-turbo) and the first
 * APP1 "Exif\0\0" block without its 6-byte prefix. */
static void jpeg_rjob_metadata(struct jpeg_rjob *job)
{
    JOCTET *icc = NULL;
    unsigned int icc_len = 0;
    if (jpeg_read_icc_profile(&job->cinfo, &icc, &icc_len) && icc_len) {
        job->icc = copy_bytes(icc, icc_len);
        job->icc_size = job->icc ? icc_len : 0;
    }
    free(icc);
    for (jpeg_saved_marker_ptr m = job->cinfo.marker_list; m; m = m->next)
        if (m->marker == JPEG_APP0 + 1 && m->data_length > 6 &&
            memcmp(m->data, "Exif\0\0", 6) == 0) {
            job->exif = copy_bytes(m->data + 6, m->data_length - 6);
            job->exif_size = job->exif ? m->data_length - 6 : 0;
            break;
        }
}

static void jpeg_rjob_error_exit(j_common_ptr cinfo)
{
    struct jpeg_rjob *job = (struct jpeg_rjob *)cinfo->err;
    if (!job->msg[0]) {
        char text[JMSG_LENGTH_MAX];
        cinfo->err->format_message(cinfo, text);
        msgf(job->msg, sizeof(job->msg), "bad JPEG data: %s", text);
    }
    longjmp(job->jb, 1);
}

/* libjpeg reports a truncated file only as a warning (and pads the data with
 * a fake EOI); turn that one into an error so cut-off files are refused. */
static void jpeg_rjob_emit(j_common_ptr cinfo, int level)
{
    struct jpeg_rjob *job = (struct jpeg_rjob *)cinfo->err;
    if (level < 0) {
        cinfo->err->num_warnings++;
        if (cinfo->err->msg_code == JWRN_JPEG_EOF && !job->rows_done) {
            msgf(job->msg, sizeof(job->msg), "truncated JPEG data");
            longjmp(job->jb, 1);
        }
    }
}

static void jpeg_quiet_output(j_common_ptr cinfo) { (void)cinfo; }

static int jpeg_rjob_run(struct jpeg_rjob *job)
{
    struct jpeg_decompress_struct *cinfo = &job->cinfo;
    if (setjmp(job->jb))
        return -1;
    jpeg_create_decompress(cinfo);
    job->created = 1;
    jpeg_mem_src(cinfo, job->data, (unsigned long)job->size);
    jpeg_save_markers(cinfo, JPEG_APP0 + 1, 0xFFFF);
    jpeg_save_markers(cinfo, JPEG_APP0 + 2, 0xFFFF);
    jpeg_read_header(cinfo, TRUE);
    jpeg_rjob_metadata(job);
    if (cinfo->jpeg_color_space == JCS_CMYK || cinfo->jpeg_color_space == JCS_YCCK) {
        msgf(job->msg, sizeof(job->msg), "CMYK JPEG is not supported");
        return -1;
    }
    if (check_dims(cinfo->image_width, cinfo->image_height, job->max_pixels, job->msg,
                   sizeof(job->msg)) != 0)
        return -1;
    cinfo->out_color_space = cinfo->num_components == 1 ? JCS_GRAYSCALE : JCS_RGB;
    jpeg_start_decompress(cinfo);
    int channels = cinfo->output_components;
    if ((channels != 1 && channels != 3) || cinfo->output_width != cinfo->image_width ||
        cinfo->output_height != cinfo->image_height) {
        msgf(job->msg, sizeof(job->msg), "unsupported JPEG layout");
        return -1;
    }
    size_t stride = (size_t)cinfo->output_width * channels;
    job->pixels = malloc(stride * cinfo->output_height);
    if (!job->pixels) {
        msgf(job->msg, sizeof(job->msg), "out of memory");
        return -1;
    }
    while (cinfo->output_scanline < cinfo->output_height) {
        JSAMPROW row = job->pixels + (size_t)cinfo->output_scanline * stride;
        jpeg_read_scanlines(cinfo, &row, 1);
    }
    job->rows_done = 1;
    jpeg_finish_decompress(cinfo);
    job->width = cinfo->output_width;
    job->height = cinfo->output_height;
    job->channels = channels;
    return 0;
}

static int read_jpeg(const uint8_t *data, size_t size, aeio_image *img, uint64_t max_pixels,
                     char *err, size_t errlen)
{
    struct jpeg_rjob *job = calloc(1, sizeof(*job));
    if (!job) {
        msgf(err, errlen, "out of memory");
        return -1;
    }
    if (size > (unsigned long)-1) { /* jpeg_mem_src takes an unsigned long */
        free(job);
        msgf(err, errlen, "JPEG file too large");
        return -1;
    }
    job->data = data;
    job->size = size;
    job->max_pixels = max_pixels;
    job->cinfo.err = jpeg_std_error(&job->mgr);
    job->mgr.error_exit = jpeg_rjob_error_exit;
    job->mgr.emit_message = jpeg_rjob_emit;
    job->mgr.output_message = jpeg_quiet_output;
    int rc = jpeg_rjob_run(job);
    if (job->created)
        jpeg_destroy_decompress(&job->cinfo);
    if (rc != 0) {
        free(job->pixels);
        free(job->icc);
        free(job->exif);
        msgf(err, errlen, "%s", job->msg[0] ? job->msg : "bad JPEG data");
        free(job);
        return -1;
    }
    img->width = job->width;
    img->height = job->height;
    img->channels = job->channels;
    img->pixels = job->pixels;
    img->source_bit_depth = 8;
    img->icc = job->icc, img->icc_size = job->icc_size;
    img->exif = job->exif, img->exif_size = job->exif_size;
    free(job);
    return 0;
}

/* ---- PNM reading (P5, P6, P7) ------------------------------------------- */

static int pnm_is_space(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\v' || c == '\f';
}

/* Skips whitespace and '#' comments; 0 if something follows. */
static int pnm_skip(const uint8_t *d, size_t n, size_t *pos)
{
    while (*pos < n) {
        if (pnm_is_space(d[*pos])) {
            (*pos)++;
        } else if (d[*pos] == '#') {
            while (*pos < n && d[*pos] != '\n' && d[*pos] != '\r')
                (*pos)++;
        } else {
            return 0;
        }
    }
    return -1;
}

/* Reads a decimal number; values above 2^32 are capped (then refused as too
 * large by the caller) so absurd headers cannot overflow. */
static int pnm_number(const uint8_t *d, size_t n, size_t *pos, uint64_t *out)
{
    if (pnm_skip(d, n, pos) != 0 || d[*pos] < '0' || d[*pos] > '9')
        return -1;
    uint64_t v = 0;
    while (*pos < n && d[*pos] >= '0' && d[*pos] <= '9') {
        if (v <= (1ull << 33))
            v = v * 10 + (uint64_t)(d[*pos] - '0');
        (*pos)++;
    }
    *out = v;
    return 0;
}

/* Reads a PAM header token (letters, digits, '_') into buf. */
static int pam_token(const uint8_t *d, size_t n, size_t *pos, char *buf, size_t buflen)
{
    if (pnm_skip(d, n, pos) != 0)
        return -1;
    size_t len = 0;
    while (*pos < n && !pnm_is_space(d[*pos])) {
        if (len + 1 < buflen)
            buf[len++] = (char)d[*pos];
        (*pos)++;
    }
    buf[len] = 0;
    return 0;
}

static int read_pnm(const uint8_t *d, size_t n, aeio_image *img, uint64_t max_pixels,
                    char *err, size_t errlen)
{
    char kind = n >= 2 ? (char)d[1] : 0;
    uint64_t w = 0, h = 0, maxval = 0, depth = 0;
    size_t pos = 2;
    if (n < 2 || (kind != '5' && kind != '6' && kind != '7')) {
        if (kind >= '1' && kind <= '4')
            msgf(err, errlen, "PNM type P%c (plain or bitmap) is not supported", kind);
        else
            msgf(err, errlen, "not a PNG, JPEG or PNM file");
        return -1;
    }
    if (n == 2 || (!pnm_is_space(d[2]) && d[2] != '#')) {
        msgf(err, errlen, n == 2 ? "truncated PNM data" : "not a PNG, JPEG or PNM file");
        return -1;
    }
    if (kind != '7') {
        depth = kind == '5' ? 1 : 3;
        if (pnm_number(d, n, &pos, &w) || pnm_number(d, n, &pos, &h) ||
            pnm_number(d, n, &pos, &maxval)) {
            msgf(err, errlen, pos >= n ? "truncated PNM data" : "bad PNM header");
            return -1;
        }
        if (pos >= n) {
            msgf(err, errlen, "truncated PNM data");
            return -1;
        }
        if (!pnm_is_space(d[pos])) {
            msgf(err, errlen, "bad PNM header");
            return -1;
        }
        pos++; /* exactly one whitespace byte before the samples */
    } else {
        char key[32];
        for (;;) {
            if (pam_token(d, n, &pos, key, sizeof(key)) != 0) {
                msgf(err, errlen, "truncated PAM header");
                return -1;
            }
            uint64_t *field = NULL;
            if (strcmp(key, "ENDHDR") == 0) {
                /* the header ends with the newline after ENDHDR */
                if (pos >= n || d[pos] != '\n') {
                    msgf(err, errlen, pos >= n ? "truncated PNM data" : "bad PAM header");
                    return -1;
                }
                pos++;
                break;
            } else if (strcmp(key, "WIDTH") == 0) {
                field = &w;
            } else if (strcmp(key, "HEIGHT") == 0) {
                field = &h;
            } else if (strcmp(key, "DEPTH") == 0) {
                field = &depth;
            } else if (strcmp(key, "MAXVAL") == 0) {
                field = &maxval;
            } else if (strcmp(key, "TUPLTYPE") == 0) {
                /* informative only: the channel count comes from DEPTH */
                while (pos < n && d[pos] != '\n')
                    pos++;
                continue;
            } else {
                msgf(err, errlen, "bad PAM header: unknown field '%s'", key);
                return -1;
            }
            if (pnm_number(d, n, &pos, field) != 0) {
                msgf(err, errlen, "bad PAM header: %s needs a number", key);
                return -1;
            }
        }
        if (depth < 1 || depth > 4) {
            msgf(err, errlen, "PAM depth %llu is not supported (1..4)", (unsigned long long)depth);
            return -1;
        }
    }
    if (maxval < 1 || maxval > 65535) {
        msgf(err, errlen, "bad PNM header: maxval %llu not in 1..65535",
             (unsigned long long)maxval);
        return -1;
    }
    if (check_dims(w, h, max_pixels, err, errlen) != 0)
        return -1;

    int channels = (int)depth;
    size_t bytes_per_sample = maxval > 255 ? 2 : 1;
    size_t samples = (size_t)w * (size_t)h * (size_t)channels;
    if (n - pos < samples * bytes_per_sample) {
        msgf(err, errlen, "truncated PNM data");
        return -1;
    }
    uint8_t *px = malloc(samples);
    if (!px) {
        msgf(err, errlen, "out of memory");
        return -1;
    }
    const uint8_t *s = d + pos;
    uint32_t mv = (uint32_t)maxval;
    if (mv == 255) {
        memcpy(px, s, samples);
    } else {
        for (size_t i = 0; i < samples; i++) {
            uint32_t v = bytes_per_sample == 2 ? ((uint32_t)s[2 * i] << 8) | s[2 * i + 1] : s[i];
            if (v > mv)
                v = mv; /* out-of-range samples: clamp rather than wrap */
            px[i] = (uint8_t)((v * 255u + mv / 2) / mv);
        }
    }
    img->width = (uint32_t)w;
    img->height = (uint32_t)h;
    img->channels = channels;
    img->pixels = px;
    img->source_bit_depth = maxval > 255 ? 16 : 8;
    return 0;
}

/* ---- reading: dispatch --------------------------------------------------- */

/* Turn the pixels upright by the EXIF Orientation tag and set the tag to 1,
 * so that the image and the EXIF kept with it agree. */
static int apply_orientation(aeio_image *img, char *err, size_t errlen)
{
    int o = aeio_exif_orientation(img->exif, img->exif_size);
    img->orientation = o ? o : 1;
    if (o <= 1)
        return 0;
    uint32_t w, h;
    uint8_t *up = aeio_orient_pixels(img->pixels, img->width, img->height, img->channels, o, &w,
                                     &h);
    if (!up) {
        aeio_free(img);
        msgf(err, errlen, "out of memory");
        return -1;
    }
    free(img->pixels);
    img->pixels = up, img->width = w, img->height = h;
    aeio_exif_set_orientation(img->exif, img->exif_size, 1);
    return 0;
}

static int read_any(const uint8_t *data, size_t size, aeio_image *img, uint64_t max_pixels,
                    char *err, size_t errlen);

int aeio_read_memory(const uint8_t *data, size_t size, aeio_image *img, uint64_t max_pixels,
                     char *err, size_t errlen)
{
    if (read_any(data, size, img, max_pixels, err, errlen) != 0)
        return -1;
    return apply_orientation(img, err, errlen);
}

static int read_any(const uint8_t *data, size_t size, aeio_image *img, uint64_t max_pixels,
                    char *err, size_t errlen)
{
    static const uint8_t png_sig[8] = {0x89, 'P', 'N', 'G', '\r', '\n', 0x1a, '\n'};
    if (err && errlen)
        err[0] = 0;
    if (!img) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    memset(img, 0, sizeof(*img));
    if (size == 0) {
        msgf(err, errlen, "empty file");
        return -1;
    }
    if (!data) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    size_t sig_n = size < 8 ? size : 8;
    if (memcmp(data, png_sig, sig_n) == 0) {
        if (size < 8) {
            msgf(err, errlen, "truncated PNG data");
            return -1;
        }
        return read_png(data, size, img, max_pixels, err, errlen);
    }
    if (data[0] == 0xFF && (size < 2 || data[1] == 0xD8) && (size < 3 || data[2] == 0xFF)) {
        if (size < 3) {
            msgf(err, errlen, "truncated JPEG data");
            return -1;
        }
        return read_jpeg(data, size, img, max_pixels, err, errlen);
    }
    if (data[0] == 'P')
        return read_pnm(data, size, img, max_pixels, err, errlen);
    msgf(err, errlen, "not a PNG, JPEG or PNM file");
    return -1;
}

int aeio_read(const char *path, aeio_image *img, uint64_t max_pixels, char *err, size_t errlen)
{
    if (img)
        memset(img, 0, sizeof(*img));
    if (!path || !img) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    if (max_pixels == 0)
        max_pixels = AEIO_DEFAULT_MAX_PIXELS;
    /* No sane image file is larger than its raw 16-bit RGBA samples plus
     * some metadata; the bound keeps a huge or endless stdin from eating
     * memory. */
    uint64_t max_size64 =
        max_pixels > (UINT64_MAX >> 4) ? UINT64_MAX : max_pixels * 8 + (64u << 20);
    size_t max_size = max_size64 > SIZE_MAX ? SIZE_MAX : (size_t)max_size64;
    uint8_t *data = NULL;
    size_t size = 0;
    if (aeio_read_file(path, &data, &size, max_size, err, errlen) != 0)
        return -1;
    char msg[MSG_LEN];
    int rc = aeio_read_memory(data, size, img, max_pixels, msg, sizeof(msg));
    free(data);
    if (rc != 0)
        msgf(err, errlen, "%s: %s", in_name(path), msg);
    return rc;
}

/* ---- whole-file reading -------------------------------------------------- */

int aeio_read_file(const char *path, uint8_t **data, size_t *size, size_t max_size, char *err,
                   size_t errlen)
{
    if (!path || !data || !size) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    *data = NULL;
    *size = 0;
    if (max_size == 0 || max_size > SIZE_MAX - 1)
        max_size = SIZE_MAX - 1; /* so that max_size + 1 below cannot wrap */
    int use_stdin = strcmp(path, "-") == 0;
    FILE *f = use_stdin ? stdin : fopen(path, "rb");
    if (!f) {
        msgf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    struct stat st;
    size_t cap = 1 << 16;
    if (fstat(fileno(f), &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            msgf(err, errlen, "%s: is a directory", in_name(path));
            if (!use_stdin)
                fclose(f);
            return -1;
        }
        if (S_ISREG(st.st_mode) && st.st_size >= 0) {
            if ((uint64_t)st.st_size > max_size) {
                msgf(err, errlen, "%s: file too large (%llu bytes, limit %llu)", in_name(path),
                     (unsigned long long)st.st_size, (unsigned long long)max_size);
                if (!use_stdin)
                    fclose(f);
                return -1;
            }
            /* +1 so that reading to EOF needs no second allocation */
            cap = (size_t)st.st_size + 1;
        }
    }
    uint8_t *buf = malloc(cap);
    size_t len = 0;
    int failed = 0;
    if (!buf) {
        msgf(err, errlen, "%s: out of memory", in_name(path));
        failed = 1;
    }
    while (!failed) {
        if (len == cap) {
            if (cap > max_size) {
                msgf(err, errlen, "%s: file too large (limit %llu bytes)", in_name(path),
                     (unsigned long long)max_size);
                failed = 1;
                break;
            }
            size_t ncap = cap > SIZE_MAX / 2 ? SIZE_MAX : cap * 2;
            if (ncap > max_size + 1)
                ncap = max_size + 1; /* one byte over the limit detects "too large" */
            uint8_t *nb = realloc(buf, ncap);
            if (!nb) {
                msgf(err, errlen, "%s: out of memory", in_name(path));
                failed = 1;
                break;
            }
            buf = nb;
            cap = ncap;
        }
        size_t want = cap - len;
        size_t got = fread(buf + len, 1, want, f);
        len += got;
        if (got < want) { /* end of file or an error */
            if (ferror(f)) {
                msgf(err, errlen, "%s: read error: %s", in_name(path), strerror(errno));
                failed = 1;
            }
            break;
        }
    }
    if (!failed && len > max_size) {
        msgf(err, errlen, "%s: file too large (limit %llu bytes)", in_name(path),
             (unsigned long long)max_size);
        failed = 1;
    }
    if (!use_stdin)
        fclose(f);
    if (failed) {
        free(buf);
        return -1;
    }
    *data = buf;
    *size = len;
    return 0;
}

/* ---- atomic output ------------------------------------------------------- */

struct out_file {
    FILE *f;
    char *tmp;        /* temp path to rename, NULL when writing directly */
    const char *path;
    int is_stdout;
    int slot;         /* of tmp in the signal cleanup (cleanup.h), or -1 */
};

/* umask() can only be read by setting it; the brief window with 022 only
 * matters to other threads creating files at that instant. */
static mode_t current_umask(void)
{
    mode_t m = umask(022);
    umask(m);
    return m;
}

static int out_open(struct out_file *o, const char *path, char *msg, size_t msglen)
{
    memset(o, 0, sizeof(*o));
    o->path = path;
    o->slot = -1;
    if (strcmp(path, "-") == 0) {
        o->f = stdout;
        o->is_stdout = 1;
        return 0;
    }
    struct stat st;
    if (stat(path, &st) == 0) {
        if (S_ISDIR(st.st_mode)) {
            msgf(msg, msglen, "is a directory");
            return -1;
        }
        if (!S_ISREG(st.st_mode)) {
            /* a device or FIFO (/dev/null, a named pipe): no rename possible */
            o->f = fopen(path, "wb");
            if (!o->f) {
                msgf(msg, msglen, "%s", strerror(errno));
                return -1;
            }
            return 0;
        }
    }
    size_t n = strlen(path);
    o->tmp = malloc(n + sizeof(".tmpXXXXXX"));
    if (!o->tmp) {
        msgf(msg, msglen, "out of memory");
        return -1;
    }
    memcpy(o->tmp, path, n);
    memcpy(o->tmp + n, ".tmpXXXXXX", sizeof(".tmpXXXXXX"));
    int fd = aeio_cleanup_mkstemp(o->tmp, &o->slot);
    if (fd < 0) {
        msgf(msg, msglen, "cannot create output file: %s", strerror(errno));
        free(o->tmp);
        o->tmp = NULL;
        return -1;
    }
    /* mkstemp makes the file 0600; give it the permissions open() would */
    if (fchmod(fd, 0666 & ~current_umask()) != 0) {
        /* not fatal: the file is still usable by its owner */
    }
    o->f = fdopen(fd, "wb");
    if (!o->f) {
        msgf(msg, msglen, "%s", strerror(errno));
        close(fd);
        unlink(o->tmp);
        aeio_cleanup_remove(o->slot);
        free(o->tmp);
        o->tmp = NULL;
        return -1;
    }
    return 0;
}

static void out_abort(struct out_file *o)
{
    if (o->f && !o->is_stdout)
        fclose(o->f);
    if (o->tmp) {
        unlink(o->tmp);
        aeio_cleanup_remove(o->slot);
        free(o->tmp);
    }
    o->f = NULL;
    o->tmp = NULL;
}

static int out_commit(struct out_file *o, char *msg, size_t msglen)
{
    int failed = 0;
    if (fflush(o->f) != 0 || ferror(o->f)) {
        msgf(msg, msglen, "write error: %s", strerror(errno));
        failed = 1;
    }
    if (o->is_stdout) {
        o->f = NULL;
        return failed ? -1 : 0;
    }
    FILE *f = o->f;
    o->f = NULL;
    if (fclose(f) != 0 && !failed) {
        msgf(msg, msglen, "write error: %s", strerror(errno));
        failed = 1;
    }
    if (!failed && o->tmp && rename(o->tmp, o->path) != 0) {
        msgf(msg, msglen, "cannot rename temporary file into place: %s", strerror(errno));
        failed = 1;
    }
    if (failed && o->tmp)
        unlink(o->tmp);
    if (o->tmp)
        aeio_cleanup_remove(o->slot); /* after the rename or the unlink */
    free(o->tmp);
    o->tmp = NULL;
    return failed ? -1 : 0;
}

struct aeio_file {
    struct out_file out;
};

int aeio_file_open(aeio_file **file, const char *path, char *err, size_t errlen)
{
    if (!file || !path) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    *file = calloc(1, sizeof(**file));
    if (!*file) {
        msgf(err, errlen, "%s: out of memory", out_name(path));
        return -1;
    }
    char msg[MSG_LEN];
    if (out_open(&(*file)->out, path, msg, sizeof(msg)) != 0) {
        msgf(err, errlen, "%s: %s", out_name(path), msg);
        free(*file);
        *file = NULL;
        return -1;
    }
    return 0;
}

int aeio_file_write(aeio_file *file, const void *data, size_t size, char *err, size_t errlen)
{
    if (!file || (!data && size)) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    if (size && fwrite(data, 1, size, file->out.f) != size) {
        msgf(err, errlen, "%s: write error: %s", out_name(file->out.path), strerror(errno));
        return -1;
    }
    return 0;
}

int aeio_file_commit(aeio_file *file, char *err, size_t errlen)
{
    if (!file) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    char msg[MSG_LEN];
    int rc = out_commit(&file->out, msg, sizeof(msg));
    if (rc != 0)
        msgf(err, errlen, "%s: %s", out_name(file->out.path), msg);
    free(file);
    return rc;
}

void aeio_file_abort(aeio_file *file)
{
    if (!file)
        return;
    out_abort(&file->out);
    free(file);
}

int aeio_write_file_atomic(const char *path, const void *data, size_t size, char *err,
                           size_t errlen)
{
    if (!path || (!data && size)) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    aeio_file *file;
    if (aeio_file_open(&file, path, err, errlen) != 0)
        return -1;
    if (aeio_file_write(file, data, size, err, errlen) != 0) {
        aeio_file_abort(file);
        return -1;
    }
    return aeio_file_commit(file, err, errlen);
}

/* ---- image writing: PNG -------------------------------------------------- */

/* libpng reports errors by longjmp, so each step that calls it (header,
 * rows, a chunk, end) is a small function with its own setjmp.
 *
 * At the default level libpng writes the header and the chunks, but the
 * image data is filtered and compressed by png_deflate.c on several threads
 * (libpng compresses on one); its zlib stream is written as IDAT chunks of
 * IDAT_BYTES, so that the file does not depend on how it came in pieces.
 * --png-level N keeps libpng's own compression (zlib's full matching). */
#define IDAT_BYTES ((size_t)256 << 10)

struct png_wjob {
    png_structp png;
    png_infop info;
    FILE *f;
    png_deflate *deflate; /* default level only, else NULL */
    uint8_t *idat;        /* IDAT data not written yet (IDAT_BYTES) */
    size_t idat_used;
    char msg[MSG_LEN];
};

static void png_wjob_error(png_structp png, png_const_charp text)
{
    struct png_wjob *job = png_get_error_ptr(png);
    if (!job->msg[0])
        msgf(job->msg, sizeof(job->msg), "PNG error: %s", text);
    png_longjmp(png, 1);
}

static void png_wjob_write(png_structp png, png_bytep data, size_t n)
{
    struct png_wjob *job = png_get_io_ptr(png);
    if (fwrite(data, 1, n, job->f) != n) {
        msgf(job->msg, sizeof(job->msg), "write error: %s", strerror(errno));
        png_error(png, job->msg);
    }
}

static void png_wjob_flush(png_structp png) { (void)png; }

static int png_wjob_header(struct png_wjob *job, uint32_t width, uint32_t height, int channels,
                           const aeio_write_options *opt)
{
    int level = opt->png_level < 0 ? 6 : opt->png_level > 9 ? 9 : opt->png_level;
    static const int color_types[5] = {0, PNG_COLOR_TYPE_GRAY, PNG_COLOR_TYPE_GRAY_ALPHA,
                                       PNG_COLOR_TYPE_RGB, PNG_COLOR_TYPE_RGB_ALPHA};
    if (setjmp(png_jmpbuf(job->png)))
        return -1;
    png_set_write_fn(job->png, job, png_wjob_write, png_wjob_flush);
    /* A profile libpng finds malformed (one from a JPEG, which nothing
     * checked) is dropped with a warning instead of failing the write. */
    png_set_benign_errors(job->png, 1);
    png_set_compression_level(job->png, level);
    if (opt->png_level < 0) /* the default: zlib's matches buy little on photographs */
        png_set_compression_strategy(job->png, Z_RLE);
    png_set_IHDR(job->png, job->info, width, height, 8, color_types[channels], PNG_INTERLACE_NONE,
                 PNG_COMPRESSION_TYPE_DEFAULT, PNG_FILTER_TYPE_DEFAULT);
    if (opt->icc && opt->icc_size)
        png_set_iCCP(job->png, job->info, "ICC profile", PNG_COMPRESSION_TYPE_BASE, opt->icc,
                     (png_uint_32)opt->icc_size);
    if (opt->exif && opt->exif_size)
        png_set_eXIf_1(job->png, job->info, (png_uint_32)opt->exif_size, (png_bytep)opt->exif);
    png_write_info(job->png, job->info);
    return 0;
}

static void png_wjob_message(const struct png_wjob *job, char *msg, size_t msglen)
{
    msgf(msg, msglen, "%s", job->msg[0] ? job->msg : "PNG error");
}

/* libpng adds the length and the CRC.  png_write_end is not called after
 * IDAT chunks written so (it would find no image data written through
 * libpng): IEND is written here too. */
static int png_wjob_chunk(struct png_wjob *job, const char *type, const uint8_t *data,
                          size_t size)
{
    if (setjmp(png_jmpbuf(job->png)))
        return -1;
    png_write_chunk(job->png, (png_const_bytep)type, data, size);
    return 0;
}

static int png_wjob_write_idat(struct png_wjob *job, char *msg, size_t msglen)
{
    if (job->idat_used && png_wjob_chunk(job, "IDAT", job->idat, job->idat_used) != 0) {
        png_wjob_message(job, msg, msglen);
        return -1;
    }
    job->idat_used = 0;
    return 0;
}

/* png_deflate's sink: collects its stream into IDAT chunks. */
static int png_wjob_idat_sink(void *ctx, const uint8_t *data, size_t size, char *msg,
                              size_t msglen)
{
    struct png_wjob *job = ctx;
    while (size > 0) {
        size_t n = IDAT_BYTES - job->idat_used;
        if (n > size)
            n = size;
        memcpy(job->idat + job->idat_used, data, n);
        job->idat_used += n;
        data += n;
        size -= n;
        if (job->idat_used == IDAT_BYTES && png_wjob_write_idat(job, msg, msglen) != 0)
            return -1;
    }
    return 0;
}

static int png_wjob_rows_libpng(struct png_wjob *job, const uint8_t *rows, uint32_t count,
                                size_t stride)
{
    if (setjmp(png_jmpbuf(job->png)))
        return -1;
    for (uint32_t y = 0; y < count; y++)
        png_write_row(job->png, rows + (size_t)y * stride);
    return 0;
}

static int png_wjob_rows(struct png_wjob *job, const uint8_t *rows, uint32_t count, size_t stride)
{
    if (!job->deflate)
        return png_wjob_rows_libpng(job, rows, count, stride);
    char msg[MSG_LEN];
    if (png_deflate_rows(job->deflate, rows, count, msg, sizeof(msg)) == 0)
        return 0;
    msgf(job->msg, sizeof(job->msg), "%s", msg);
    return -1;
}

static int png_wjob_end_libpng(struct png_wjob *job)
{
    if (setjmp(png_jmpbuf(job->png)))
        return -1;
    png_write_end(job->png, NULL);
    return 0;
}

static int png_wjob_end(struct png_wjob *job)
{
    if (!job->deflate)
        return png_wjob_end_libpng(job);
    char msg[MSG_LEN];
    if (png_deflate_finish(job->deflate, msg, sizeof(msg)) != 0 ||
        png_wjob_write_idat(job, msg, sizeof(msg)) != 0) {
        msgf(job->msg, sizeof(job->msg), "%s", msg);
        return -1;
    }
    return png_wjob_chunk(job, "IEND", NULL, 0);
}

static void png_wjob_free(struct png_wjob *job)
{
    if (!job)
        return;
    png_destroy_write_struct(&job->png, &job->info);
    png_deflate_free(job->deflate);
    free(job->idat);
    free(job);
}

/* The default level's parallel compressor, writing through job. */
static int png_wjob_parallel(struct png_wjob *job, uint32_t width, uint32_t height, int channels,
                             int threads, char *msg, size_t msglen)
{
    job->idat = malloc(IDAT_BYTES);
    if (!job->idat) {
        msgf(msg, msglen, "out of memory");
        return -1;
    }
    return png_deflate_new(&job->deflate, width, height, channels, threads, png_wjob_idat_sink,
                           job, msg, msglen);
}

/* A libpng writer on f that has written the PNG header; NULL on failure. */
static struct png_wjob *png_wjob_new(FILE *f, uint32_t width, uint32_t height, int channels,
                                     const aeio_write_options *opt, char *msg, size_t msglen)
{
    struct png_wjob *job = calloc(1, sizeof(*job));
    if (job) {
        job->f = f;
        job->png = png_create_write_struct(PNG_LIBPNG_VER_STRING, job, png_wjob_error,
                                           png_quiet_warning);
        if (job->png)
            job->info = png_create_info_struct(job->png);
    }
    if (!job || !job->png || !job->info) {
        png_wjob_free(job);
        msgf(msg, msglen, "out of memory");
        return NULL;
    }
    if (png_wjob_header(job, width, height, channels, opt) != 0) {
        png_wjob_message(job, msg, msglen);
        png_wjob_free(job);
        return NULL;
    }
    if (opt->png_level < 0 &&
        png_wjob_parallel(job, width, height, channels, opt->threads, msg, msglen) != 0) {
        png_wjob_free(job);
        return NULL;
    }
    return job;
}

/* ---- image writing: PNM -------------------------------------------------- */

static int pnm_header(FILE *f, uint32_t width, uint32_t height, int channels, aeio_format format,
                      char *msg, size_t msglen)
{
    static const char *tupltypes[5] = {"", "GRAYSCALE", "GRAYSCALE_ALPHA", "RGB", "RGB_ALPHA"};
    int rc;
    if (format == AEIO_FORMAT_PAM)
        rc = fprintf(f, "P7\nWIDTH %u\nHEIGHT %u\nDEPTH %d\nMAXVAL 255\nTUPLTYPE %s\nENDHDR\n",
                     (unsigned)width, (unsigned)height, channels, tupltypes[channels]);
    else
        rc = fprintf(f, "P%c\n%u %u\n255\n", channels == 1 ? '5' : '6', (unsigned)width,
                     (unsigned)height);
    if (rc < 0) {
        msgf(msg, msglen, "write error: %s", strerror(errno));
        return -1;
    }
    return 0;
}

/* ---- formats ------------------------------------------------------------- */

aeio_format aeio_format_from_path(const char *path)
{
    if (!path)
        return AEIO_FORMAT_UNKNOWN;
    if (strcmp(path, "-") == 0)
        return AEIO_FORMAT_PNG;
    const char *slash = strrchr(path, '/');
    const char *dot = strrchr(path, '.');
    if (!dot || (slash && dot < slash))
        return AEIO_FORMAT_UNKNOWN;
    static const struct {
        const char *ext;
        aeio_format format;
    } exts[] = {{".png", AEIO_FORMAT_PNG}, {".ppm", AEIO_FORMAT_PPM}, {".pgm", AEIO_FORMAT_PGM},
                {".pnm", AEIO_FORMAT_PNM}, {".pam", AEIO_FORMAT_PAM}};
    for (size_t i = 0; i < sizeof(exts) / sizeof(exts[0]); i++)
        if (strcasecmp(dot, exts[i].ext) == 0)
            return exts[i].format;
    return AEIO_FORMAT_UNKNOWN;
}

int aeio_format_accepts(aeio_format format, int channels)
{
    if (channels < 1 || channels > 4)
        return 0;
    switch (format) {
    case AEIO_FORMAT_PNG:
    case AEIO_FORMAT_PAM:
        return 1;
    case AEIO_FORMAT_PPM:
        return channels == 3;
    case AEIO_FORMAT_PGM:
        return channels == 1;
    case AEIO_FORMAT_PNM:
        return channels == 1 || channels == 3;
    default:
        return 0;
    }
}

void aeio_write_options_default(aeio_write_options *opt)
{
    memset(opt, 0, sizeof *opt);
    opt->format = AEIO_FORMAT_AUTO;
    opt->png_level = -1;
    opt->threads = 0;
}

/* The format a write of `channels` to path uses, or AEIO_FORMAT_UNKNOWN
 * with the reason in msg. */
static aeio_format write_format(const char *path, const aeio_write_options *opt, int channels,
                                char *msg, size_t msglen)
{
    aeio_format format =
        opt->format == AEIO_FORMAT_AUTO ? aeio_format_from_path(path) : opt->format;
    if (format == AEIO_FORMAT_UNKNOWN || format == AEIO_FORMAT_AUTO) {
        msgf(msg, msglen, "unknown output format (use .png, .ppm, .pgm, .pnm or .pam)");
        return AEIO_FORMAT_UNKNOWN;
    }
    if (!aeio_format_accepts(format, channels)) {
        static const char *kinds[5] = {"", "grey", "grey+alpha", "RGB", "RGBA"};
        msgf(msg, msglen, "cannot write a %s image in this format (%s)", kinds[channels],
             format == AEIO_FORMAT_PPM   ? "PPM holds RGB only"
             : format == AEIO_FORMAT_PGM ? "PGM holds grey only"
                                         : "PNM holds grey or RGB only");
        return AEIO_FORMAT_UNKNOWN;
    }
    return format;
}

/* ---- streaming writer ---------------------------------------------------- */

struct aeio_writer {
    struct out_file out;
    aeio_format format;
    uint32_t width, height, rows_written;
    int channels;
    int failed;            /* a write failed: only abort is left */
    struct png_wjob *png;  /* PNG only */
};

/* Creates the output file and writes the format's header. */
static int writer_start(aeio_writer *w, const aeio_write_options *opt, char *msg, size_t msglen)
{
    if (out_open(&w->out, w->out.path, msg, msglen) != 0)
        return -1;
    if (w->format != AEIO_FORMAT_PNG)
        return pnm_header(w->out.f, w->width, w->height, w->channels, w->format, msg, msglen);
    w->png = png_wjob_new(w->out.f, w->width, w->height, w->channels, opt, msg, msglen);
    return w->png ? 0 : -1;
}

int aeio_writer_open(aeio_writer **wr, const char *path, uint32_t width, uint32_t height,
                     int channels, const aeio_write_options *opt, char *err, size_t errlen)
{
    if (!wr || !path) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    *wr = NULL;
    aeio_write_options defaults;
    aeio_write_options_default(&defaults);
    if (!opt)
        opt = &defaults;
    char msg[MSG_LEN];
    aeio_format format = AEIO_FORMAT_UNKNOWN;
    aeio_writer *w = NULL;
    if (check_shape(width, height, channels, msg, sizeof(msg)) == 0)
        format = write_format(path, opt, channels, msg, sizeof(msg));
    if (format != AEIO_FORMAT_UNKNOWN && !(w = calloc(1, sizeof(*w))))
        msgf(msg, sizeof(msg), "out of memory");
    if (w) {
        w->out.path = path;
        w->format = format;
        w->width = width;
        w->height = height;
        w->channels = channels;
        if (writer_start(w, opt, msg, sizeof(msg)) == 0) {
            *wr = w;
            return 0;
        }
        aeio_writer_abort(w);
    }
    msgf(err, errlen, "%s: %s", out_name(path), msg);
    return -1;
}

int aeio_writer_write_rows(aeio_writer *w, const uint8_t *rows, uint32_t count, char *err,
                           size_t errlen)
{
    if (!w || (!rows && count)) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    char msg[MSG_LEN];
    size_t stride = (size_t)w->width * w->channels;
    if (w->failed) {
        msgf(msg, sizeof(msg), "an earlier write failed");
    } else if (count > w->height - w->rows_written) {
        msgf(msg, sizeof(msg), "more than the image's %u rows written", (unsigned)w->height);
    } else if (w->png) {
        if (png_wjob_rows(w->png, rows, count, stride) == 0) {
            w->rows_written += count;
            return 0;
        }
        png_wjob_message(w->png, msg, sizeof(msg));
    } else {
        if (fwrite(rows, 1, stride * count, w->out.f) == stride * count) {
            w->rows_written += count;
            return 0;
        }
        msgf(msg, sizeof(msg), "write error: %s", strerror(errno));
    }
    w->failed = 1;
    msgf(err, errlen, "%s: %s", out_name(w->out.path), msg);
    return -1;
}

int aeio_writer_finish(aeio_writer *w, char *err, size_t errlen)
{
    if (!w) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    char msg[MSG_LEN];
    int rc = -1;
    if (w->failed)
        msgf(msg, sizeof(msg), "an earlier write failed");
    else if (w->rows_written != w->height)
        msgf(msg, sizeof(msg), "only %u of %u rows written", (unsigned)w->rows_written,
             (unsigned)w->height);
    else if (w->png && png_wjob_end(w->png) != 0)
        png_wjob_message(w->png, msg, sizeof(msg));
    else
        rc = out_commit(&w->out, msg, sizeof(msg)); /* removes the temp file on failure */
    if (rc != 0)
        msgf(err, errlen, "%s: %s", out_name(w->out.path), msg);
    aeio_writer_abort(w); /* after a commit only frees */
    return rc;
}

void aeio_writer_abort(aeio_writer *w)
{
    if (!w)
        return;
    png_wjob_free(w->png);
    out_abort(&w->out);
    free(w);
}

/* ---- whole-image writing ------------------------------------------------- */

int aeio_write_ex(const char *path, const aeio_image *img, const aeio_write_options *opt,
                  char *err, size_t errlen)
{
    if (!path) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    char msg[MSG_LEN];
    if (check_image(img, msg, sizeof(msg)) != 0) {
        msgf(err, errlen, "%s: %s", out_name(path), msg);
        return -1;
    }
    aeio_writer *w;
    if (aeio_writer_open(&w, path, img->width, img->height, img->channels, opt, err, errlen) != 0)
        return -1;
    if (aeio_writer_write_rows(w, img->pixels, img->height, err, errlen) != 0) {
        aeio_writer_abort(w);
        return -1;
    }
    return aeio_writer_finish(w, err, errlen);
}

int aeio_write(const char *path, const aeio_image *img, char *err, size_t errlen)
{
    return aeio_write_ex(path, img, NULL, err, errlen);
}

/* ---- channel conversion -------------------------------------------------- */

int aeio_convert(const aeio_image *src, int channels, aeio_image *dst, char *err, size_t errlen)
{
    if (!dst) {
        msgf(err, errlen, "invalid argument");
        return -1;
    }
    memset(dst, 0, sizeof(*dst));
    char msg[MSG_LEN];
    if (check_image(src, msg, sizeof(msg)) != 0 || channels < 1 || channels > 4) {
        msgf(err, errlen, "%s", channels < 1 || channels > 4 ? "bad channel count" : msg);
        return -1;
    }
    size_t npix = (size_t)src->width * src->height;
    uint8_t *out = malloc(npix * (size_t)channels);
    if (!out) {
        msgf(err, errlen, "out of memory");
        return -1;
    }
    int sc = src->channels;
    int src_colour = sc >= 3, src_alpha = sc == 2 || sc == 4;
    int dst_colour = channels >= 3, dst_alpha = channels == 2 || channels == 4;
    for (size_t i = 0; i < npix; i++) {
        const uint8_t *s = src->pixels + i * sc;
        uint8_t *d = out + i * channels;
        uint8_t r = s[0], g = src_colour ? s[1] : s[0], b = src_colour ? s[2] : s[0];
        uint8_t a = src_alpha ? s[sc - 1] : 255;
        if (dst_colour) {
            d[0] = r;
            d[1] = g;
            d[2] = b;
        } else {
            /* BT.601 luma, weights sum to 256 */
            d[0] = src_colour ? (uint8_t)((77u * r + 150u * g + 29u * b + 128u) >> 8) : r;
        }
        if (dst_alpha)
            d[channels - 1] = a;
    }
    dst->width = src->width;
    dst->height = src->height;
    dst->channels = channels;
    dst->pixels = out;
    dst->source_bit_depth = src->source_bit_depth;
    return 0;
}
