/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * aecodec.h - public API of libcodec, the aecodec learned image codec.
 *
 * An image is turned by an encoder network into a grid of latent vectors,
 * each vector is replaced by residual vector-quantiser indices (one byte per
 * stage), the indices are packed into per-(tile, stage) zstd streams and a
 * decoder network turns the looked-up latents back into pixels.  The format
 * is described in spec/bitstream.md, the model file in spec/model.md.
 *
 * Usage in short:
 *
 *     aec_encoder *enc = NULL;
 *     aec_status st = aec_encoder_create(&enc, NULL);      // default model
 *     aec_encode_params p; aec_encode_params_default(&p); p.quality = 4;
 *     uint8_t *file; size_t file_size;
 *     st = aec_encode(enc, pixels, w, h, stride, AEC_RGB, &p, &file, &file_size);
 *     ...
 *     aec_free(file); aec_encoder_destroy(enc);
 *
 * Every function returns an aec_status; aec_status_string() turns it into a
 * message and the context functions aec_*_last_error() give a one-line
 * detail.  The library keeps no global mutable state and never exits the
 * process.  Contexts are not thread-safe: use one per thread (each one runs
 * its own OpenMP parallel region over tiles).
 */
#ifndef AECODEC_H
#define AECODEC_H

#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#define AEC_VERSION_MAJOR 0
#define AEC_VERSION_MINOR 5
#define AEC_VERSION_PATCH 0
#define AEC_VERSION_STRING "0.5.0"
/* Version of the bitstream this library writes (spec/bitstream.md).  0.3.0
 * writes the lattice streams in the split layout (flags bit 3), which
 * libraries before 0.3.0 refuse as an unknown feature; it reads every file
 * they wrote.  0.4.0 writes the same format with a new built-in high-rate
 * model (aecodec-high-v2): libraries before 0.4.0 refuse those files as
 * coded with a model they lack, by its identifier; 0.4.0 still has the
 * model of 0.3.0 built in.  0.5.0 writes a metadata stream (flags bit 4:
 * ICC profile, EXIF) when the caller gives metadata; libraries before
 * 0.5.0 refuse such files as an unknown feature, and read the others.
 * 0.5.0 also grew aec_encode_params and aec_decode_params: recompile.
 * After 0.5.0 the built-in models are embedded with 16-bit weights, as
 * models of their own: files of 0.5.0 decode only with the 32-bit model
 * files loaded (aedec --model models/NAME.aem; the error says which), and
 * files of 0.3.0 with models/high-v1.aem, no longer built in.  The
 * lattice levels are written in layers of latent channels (flags bit 5),
 * so that a file cut after a layer still decodes, at a lower quality;
 * libraries of 0.5.0 and before refuse such files as an unknown feature.
 * aec_info and aec_progress grew fields for the layers: recompile.
 * The lattice levels then code with aecodec-high-v4 (an upsampling
 * decoder) and its fine-tune aecodec-high-v4-top; aecodec-high-v2 and its
 * fine-tunes, which coded levels 3-14 of 0.5.0, are no longer built in:
 * files of 0.5.0 decode with aedec --model models/high*.aem (the error
 * names the file), and files that development libraries after 0.5.0
 * coded with their 16-bit roundings do not decode. */
#define AEC_BITSTREAM_VERSION 1

#if defined(_WIN32) || !defined(__GNUC__)
#define AEC_API
#else
#define AEC_API __attribute__((visibility("default")))
#endif

typedef enum {
    AEC_OK = 0,
    AEC_ERR_INVALID_ARGUMENT = 1, /* a NULL pointer, bad size or option     */
    AEC_ERR_OUT_OF_MEMORY = 2,
    AEC_ERR_LIMIT = 3,            /* image or memory larger than the limits */
    AEC_ERR_NOT_AEC = 4,          /* wrong magic: not an aecodec file       */
    AEC_ERR_UNSUPPORTED = 5,      /* newer version or unknown feature       */
    AEC_ERR_CORRUPT = 6,          /* checksum mismatch or inconsistent data */
    AEC_ERR_TRUNCATED = 7,        /* the data ends before it should         */
    AEC_ERR_MODEL_MISMATCH = 8,   /* file needs a model this context lacks  */
    AEC_ERR_BAD_MODEL = 9,        /* model file unreadable or inconsistent  */
    AEC_ERR_IO = 10
} aec_status;

/* Channel layouts of pixel buffers and of coded images. Samples are 8 bit,
 * interleaved, rows top to bottom. */
typedef enum {
    AEC_GRAY = 1,       /* 1 byte per pixel                    */
    AEC_GRAY_ALPHA = 2, /* 2 bytes: grey, alpha                */
    AEC_RGB = 3,        /* 3 bytes: red, green, blue           */
    AEC_RGBA = 4        /* 4 bytes: red, green, blue, alpha    */
} aec_layout;

/* Largest width or height the format can carry.  Callers may lower the
 * working limit with aec_limits; the default limits are below. */
#define AEC_MAX_DIMENSION 65535u
#define AEC_DEFAULT_MAX_PIXELS (1ull << 28) /* 268 Mpixel */
/* Pixels of work a thread: an encode or decode of fewer than n times this
 * many pixels runs on fewer than n threads, whatever was asked (an OpenMP
 * team costs more to start and to wake than a small picture's share of
 * the networks saves; an 8x8 picture runs on one). */
#define AEC_PIXELS_PER_THREAD 65536

typedef struct {
    uint64_t max_pixels;    /* width * height refused above this            */
    uint32_t max_dimension; /* width or height refused above this           */
} aec_limits;

/* The colour profile and EXIF block of an image, carried by a file in its
 * metadata stream (spec/bitstream.md §6.8) and given back unchanged.
 * NULL / 0 = absent.  The library never interprets them: apply an EXIF
 * orientation before encoding (aeenc does), and colour-manage with the
 * profile after decoding. */
typedef struct {
    const uint8_t *icc;  /* ICC profile                                   */
    size_t icc_size;
    const uint8_t *exif; /* EXIF from its TIFF header ("II*\0" or "MM\0*") on */
    size_t exif_size;
} aec_metadata;

typedef struct {
    int quality;   /* quality level, 1..aec_encoder_levels(enc); 0 = the
                      middle level.  With the built-in models every level
                      codes the latent of a built-in model on a lattice
                      (levels 1..5 at half size, see half_size); with a
                      model of the caller's, level = VQ stages             */
    int threads;   /* 0 = all available (OpenMP default), else this many
                      (one per AEC_PIXELS_PER_THREAD pixels at most)     */
    int tile_size; /* tile side in pixels, multiple of 64 in 64..1024; 0 = default (1024) */
    float lambda;  /* rate-distortion trade-off of the index choice, 0..1: each
                      index minimises distortion + lambda * estimated bits;
                      0 = plain nearest code; AEC_LAMBDA_AUTO (the default)
                      = the library's choice for the quality level (with a
                      model of the caller's larger at low levels, 0 at the
                      top two; the built-in levels code no VQ stage)       */
    float lattice_step; /* step of the lattice refinement of the latent left
                      after the VQ stages (0 = none, smaller = finer, more
                      bits); AEC_LATTICE_AUTO (the default) = the level's */
    float quality_fine; /* fractional quality level in 1..levels, used instead
                      of `quality` when > 0 (default 0).  Between two lattice
                      levels the step is interpolated geometrically (7.5:
                      halfway, in log step, from level 7 to 8) with the
                      nearer level's model; between level 5 (half size)
                      and level 6 (full size) each size covers half the
                      way, meeting at equal rates.  With a model of
                      the caller's fractions take the level below, since
                      VQ stages are whole                                  */
    uint64_t target_size; /* bytes; > 0: search the levels (quality_fine) for
                      the best PSNR whose file fits (within 2 % below when
                      the range allows; the smallest file when none fits).
                      Default 0 = off                                       */
    float target_psnr; /* dB; > 0: search for the smallest file whose RGB
                      PSNR (of the library's own decode) reaches it (within
                      0.1 dB above when the range allows; the best PSNR when
                      none does).  Default 0 = off; not with target_size    */
    aec_metadata metadata; /* profile and EXIF to store in the file (16 MiB
                      at most in all); the pointers must stay valid during
                      aec_encode.  Default: none                          */
    int denoise;   /* 1: with the built-in models, code the lattice levels
                      with the de-noising fine-tune of the high-rate model
                      (aecodec-high-v2-denoise) at the level's step, so that
                      a noisy input decodes closer to the clean picture;
                      default 0.  Decoders need nothing: the file names its
                      model.  Ignored with a model of the caller's          */
    int lattice_only; /* 1: code no VQ stage, the latent on the lattice
                      alone (as the built-in lattice levels do), with the
                      level's model and lattice_step (which must then be
                      > 0); meant for a model of the caller's, whose levels
                      count VQ stages.  Default 0.  Added after 0.5.0     */
    int half_size; /* 0 (default) = the level's choice: the built-in levels
                      1..5 code the picture at half size (halves rounded
                      up), which the decoder upsamples by two with a fixed
                      Lanczos-3 filter, since below about 0.2 bpp that
                      beats the full-size transform; -1 = always full
                      size; 1 = half size at any level or model.
                      Pictures with alpha are always coded at full size
                      (1 is then an error).
                      Added after 0.5.0                                   */
    int residual_step; /* the pixel residual layer (spec/bitstream.md
                      6.10: what the decoder network misses, coded as 8x8
                      DCT blocks on top of the lattice): 0 (default) = the
                      level's choice (the built-in levels 8..14 add one,
                      since the network's reconstruction has a ceiling);
                      -1 = none; AEC_RESIDUAL_STEP_MIN..
                      AEC_RESIDUAL_STEP_MAX = the residual at that step (in
                      8-bit levels of an orthonormal DCT coefficient;
                      smaller is finer), at any full-size lattice level.
                      Encoding with it decodes the base layers once more.
                      Added after 0.5.0                                   */
    int filter;    /* the restoration filter (spec/bitstream.md 6.11: a
                      linear filter fitted to the picture, applied by the
                      decoder last; bitstream version 2): 0 (default) =
                      where it pays, the encoder fitting 1..8 classes and
                      keeping the best gain for its bytes; 1 = always (the
                      best class count even where its bytes cost more than
                      its gain, unless it gains nothing); -1 = never (the
                      file stays version 1).  The size and PSNR searches
                      keep their first encode's choice (on or off), since
                      where it pays can change from one fraction to the
                      next on small pictures.  With denoise, 0 is never (a
                      filter fitted to the noisy source would put noise
                      back).  Encoding with it decodes the file once more.
                      Added after 0.5.0                                   */
    int effort;    /* encoder effort, 0..AEC_EFFORT_MAX (like cjxl -e or
                      cwebp -m): 0 (default) = the encoder network's
                      latents as they are; 1..3 = then refined through the
                      decoder itself, 10, 20 or 40 steps that each cost
                      about three decodes of the picture (at effort 2 on
                      photographs +0.01 to +0.18 dB for -0.4 to +3.6 %
                      bytes by level, 0.3 points of BD-rate;
                      bench/NOTES.md);
                      higher values mean AEC_EFFORT_MAX.  Lattice levels
                      only (not VQ stages), not with denoise; decoders
                      need nothing.  Negative is an error.
                      Added after 0.5.0                                   */
} aec_encode_params;
#define AEC_LAMBDA_AUTO (-1.0f)
/* The steps aec_encode_params.residual_step may name (the format's,
 * spec/bitstream.md 6.10). */
#define AEC_RESIDUAL_STEP_MIN 8
#define AEC_RESIDUAL_STEP_MAX 255
/* The highest aec_encode_params.effort that does more (higher is the same). */
#define AEC_EFFORT_MAX 3
#define AEC_LATTICE_AUTO (-1.0f)

/* Description of a coded image, read from its header. */
typedef struct {
    uint32_t width, height;
    aec_layout layout;      /* layout of the original image                 */
    int stages_coded;       /* quality level the file was written with      */
    int stages_available;   /* stages whose streams are all present (a file
                               truncated at a stage boundary has fewer)     */
    uint32_t tile_size;
    uint32_t tiles_x, tiles_y;
    uint64_t model_id;      /* identifier (hash) of the model that coded it */
    uint64_t stage_bytes[16]; /* bytes of all tiles' streams for each stage */
    uint64_t alpha_bytes;   /* bytes of the lossless alpha plane, 0 if none */
    float lattice_step;     /* step of the lattice refinement, 0 if none    */
    int lattice_available;  /* 1 when the refinement's streams are present  */
    uint64_t lattice_bytes; /* bytes of all tiles' refinement streams       */
    uint64_t file_size;     /* bytes the header says the file has           */
    /* ---- fields added after 0.5.0 ---- */
    int lattice_layers;     /* layers the lattice refinement is coded in: 0
                               without one, 1 unless the file is layered,
                               else up to 6 (spec/bitstream.md 6.9)         */
    int lattice_layers_available; /* leading layers all of whose streams are
                               present (a file cut after a layer has fewer;
                               it decodes with them)                         */
    uint64_t layer_bytes[6]; /* bytes of all tiles' streams of each layer    */
    uint32_t layer_channels[6][2]; /* first latent channel and channel count
                               of each layer (a file without layers: one
                               layer of every channel)                      */
    int half_size;          /* 1 when the picture is coded at half size, (width
                               + 1) / 2 x (height + 1) / 2, and decoded
                               upsampled by two (spec/bitstream.md 4.1)     */
    int residual;           /* 1 when the file has a pixel residual layer
                               (spec/bitstream.md 6.10)                     */
    int residual_available; /* 1 when all its streams are present           */
    uint64_t residual_bytes; /* bytes of all tiles' residual streams        */
    /* ---- fields added after 0.5.0, with bitstream version 2 ---- */
    int filter_classes;     /* classes of the restoration filter the decoder
                               applies last (spec/bitstream.md 6.11), 1..8;
                               0 when the file has none                     */
    int filter_available;   /* 1 when its stream is present                 */
    uint64_t filter_bytes;  /* bytes of its stream                          */
} aec_info;

/* A loaded network model (encoder, quantiser codebooks, decoder).  The
 * default one is compiled into the library. Models are immutable once loaded
 * and may be shared by any number of contexts and threads. */
typedef struct aec_model aec_model;
typedef struct aec_encoder aec_encoder;
typedef struct aec_decoder aec_decoder;

/* ---- library ----------------------------------------------------------- */
AEC_API const char *aec_version_string(void);
AEC_API uint32_t aec_version_number(void); /* (MAJOR << 16) | (MINOR << 8) | PATCH of the library actually linked */
AEC_API const char *aec_status_string(aec_status status);
AEC_API void aec_free(void *p); /* frees buffers returned by the library */

/* ---- models ------------------------------------------------------------ */
/* The built-in default model (static; do not free). */
AEC_API const aec_model *aec_model_default(void);
/* Built-in model i (static): 0 = the default model (levels 1-2,
 * aecodec-high-v4-coarse; until 0.6 the VQ model aecodec-default-v1), 1 =
 * the high-rate model of lattice levels 3-9 (aecodec-high-v4), 2 = the same
 * specialised to the top levels 10-14, 3 = the de-noising high-rate model
 * (aeenc --denoise); NULL past the last one.  Changed after 0.5.0: the
 * built-in models hold their weights in 16 bits (new identifiers: files of
 * 0.5.0 decode with the 32-bit model files, aedec --model models/NAME.aem),
 * and the high-rate models are the upsampling aecodec-high-v4 family
 * (0.5.0 had 1 = aecodec-high-v2, 2 = its top, 3 = its low fine-tune,
 * 4 = de-noising). */
AEC_API const aec_model *aec_model_builtin(int i);
/* The built-in model whose identifier is `id` (aec_info.model_id of a
 * file), or NULL when none has it.  Only that model is prepared, so a tool
 * that names a file's model pays for one model, not for all of them
 * (aec_model_builtin(i) in a loop prepares each).  Added after 0.5.0. */
AEC_API const aec_model *aec_model_builtin_find(uint64_t id);
/* Load a model file (spec/model.md) from memory or from a path. */
AEC_API aec_status aec_model_load_memory(aec_model **out, const void *data, size_t size);
AEC_API aec_status aec_model_load_file(aec_model **out, const char *path);
AEC_API void aec_model_free(aec_model *model);
AEC_API uint64_t aec_model_id(const aec_model *model);
AEC_API int aec_model_stages(const aec_model *model);
/* The name stored in the model file ("aecodec-high-v4-coarse"). */
AEC_API const char *aec_model_name(const aec_model *model);
/* Multiply-accumulates per pixel of the decoder network (decoder = 1), or of
 * the encoder network plus the quantiser search over `stages` stages
 * (decoder = 0), for speed accounting. */
AEC_API double aec_model_macs_per_pixel(const aec_model *model, int decoder, int stages);

/* ---- limits ------------------------------------------------------------ */
AEC_API void aec_limits_default(aec_limits *limits);

/* ---- encoding ---------------------------------------------------------- */
AEC_API void aec_encode_params_default(aec_encode_params *params);
/* model NULL = the built-in models (chosen per level).  A model of the caller's must outlive the
 * encoder.  An encoder keeps each thread's working memory (a photo's
 * cell activations, tens of MB) from one aec_encode to the next, so that
 * a batch of pictures pays for it once; a picture needing under a quarter
 * of it frees it first, and aec_encoder_destroy frees it. */
AEC_API aec_status aec_encoder_create(aec_encoder **out, const aec_model *model);
/* Number of quality levels the encoder offers. */
AEC_API int aec_encoder_levels(const aec_encoder *enc);
/* Frees the encoder and the working memory it keeps. */
AEC_API void aec_encoder_destroy(aec_encoder *enc);
/* The latent grid an encode of these pixels with these params codes, for
 * downstream use of the representation (aeenc --latents): one latent vector
 * of *dims floats per 8x8 block, on a grid of *grid_w = ceil(width / 8) by
 * *grid_h = ceil(height / 8), of the half-size image (ceil(width / 2) x
 * ceil(height / 2)) at a half-size level (half_size).  *out (release with
 * aec_free) holds
 * 2 x grid_h x grid_w x dims floats in C order: [0] the encoder network's
 * output before quantisation, [1] the quantised latent the decoder rebuilds
 * from the file (VQ codes plus lattice refinement).  The model is the one
 * the level (or the encoder's model) codes with.  params->effort is not
 * applied: the latents are those of an encode at effort 0. */
AEC_API aec_status aec_encode_latents(aec_encoder *enc, const uint8_t *pixels, uint32_t width,
                                      uint32_t height, size_t stride, aec_layout layout,
                                      const aec_encode_params *params, float **out,
                                      uint32_t *grid_w, uint32_t *grid_h, uint32_t *dims);
/* Encode width x height pixels of the given layout; stride is bytes between
 * rows (0 = tightly packed).  On success *out is a buffer from the library
 * (release with aec_free) of *out_size bytes. */
AEC_API aec_status aec_encode(aec_encoder *enc, const uint8_t *pixels, uint32_t width,
                              uint32_t height, size_t stride, aec_layout layout,
                              const aec_encode_params *params, uint8_t **out,
                              size_t *out_size);
AEC_API const char *aec_encoder_last_error(const aec_encoder *enc);
/* What the last successful aec_encode did: *encodes = encodes it cost (1
 * without a target; each search step encodes, and with target_psnr also
 * decodes), *quality = the fractional level of the file it returned,
 * *psnr = that file's RGB PSNR in dB when measured (target_psnr), else 0.
 * Any pointer may be NULL. */
AEC_API void aec_encoder_last_search(const aec_encoder *enc, int *encodes, float *quality,
                                     double *psnr);

/* ---- decoding ---------------------------------------------------------- */
/* Read the header only; checks the header checksum. No model needed. */
AEC_API aec_status aec_read_info(const uint8_t *data, size_t size, aec_info *info);
/* The file's ICC profile and EXIF (all NULL / 0 when it has none): the
 * pointers point into data, no copy is made.  Checks the header and the
 * metadata stream's checksum; a file cut before its metadata stream (the
 * last one) gives AEC_ERR_TRUNCATED. */
AEC_API aec_status aec_read_metadata(const uint8_t *data, size_t size, aec_metadata *md);

/* model NULL = the built-in models; more models can be added with
 * aec_decoder_add_model so that files from any of them decode (8 of the
 * caller's at most, counting model; AEC_ERR_LIMIT past that).  Like an
 * encoder, a decoder keeps each thread's working memory from one decode
 * to the next (a viewer decoding file after file maps and faults it once),
 * freed when a file needs under a quarter of it and by
 * aec_decoder_destroy. */
AEC_API aec_status aec_decoder_create(aec_decoder **out, const aec_model *model);
AEC_API aec_status aec_decoder_add_model(aec_decoder *dec, const aec_model *model);
/* Frees the decoder and the working memory it keeps. */
AEC_API void aec_decoder_destroy(aec_decoder *dec);
/* Threads of each decode call: 0 (the default) = OpenMP's default, else
 * this many, one per AEC_PIXELS_PER_THREAD pixels of the region at most;
 * no call starts more (OpenMP keeps the threads it started for later
 * calls). */
AEC_API void aec_decoder_set_threads(aec_decoder *dec, int threads);
/* Limits on what a file may ask (a copy of *limits; NULL changes nothing;
 * aec_limits_default until set). */
AEC_API void aec_decoder_set_limits(aec_decoder *dec, const aec_limits *limits);

typedef struct {
    int stages;     /* 0 = all available stages, else at most this many; the
                       lattice refinement applies only on top of all the
                       coded stages.  With a layered file (aec_info's
                       lattice_layers > 1), stages counts the VQ stages,
                       then the lattice layers: stages_coded + l decodes l
                       layers; without layers, stages_coded and more
                       decode the whole refinement                          */
    uint32_t x, y;  /* region to decode, in pixels of the full-size image;
                       w = h = 0 means the whole image                      */
    uint32_t w, h;
    /* ---- fields added after 0.4.0 (old callers get them from
     *      aec_decode_params_default: layout as coded, full size, whole
     *      file) ---- */
    int layout;     /* output layout: 0 (AEC_LAYOUT_AS_CODED) = the file's
                       own, else an aec_layout.  Conversions: grey is
                       widened to R = G = B; colour becomes grey as the
                       rounded luma (299 R + 587 G + 114 B + 500) / 1000 of
                       the decoded 8-bit samples; alpha is 255 when the file
                       has none and is dropped (not composited: colour stays
                       as coded) when the layout has none                   */
    int scale;      /* 0 or 1 = full size; 2, 4, 8 = reduced by that factor:
                       the output is ceil(w / scale) x ceil(h / scale) and
                       each output pixel is the rounded mean (each channel
                       alone, after the layout conversion) of its scale x
                       scale box of the full-size decode, the boxes of the
                       last row and column clipped to the region.  Boxes
                       start at the region's corner (x, y): a region whose
                       x and y are multiples of scale, and whose right and
                       bottom edges are too or are the image's, gives
                       exactly its part of the reduced whole image.  The
                       full-size pixels are made band by band, so memory
                       stays that of a full-size band plus the output      */
    int partial;    /* 1 = progressive: data may be any prefix of the file
                       (a file still arriving); see "progressive decoding"
                       below.  0 (default) = a truncated file decodes only
                       if it holds whole VQ stages (spec/bitstream.md 8)   */
} aec_decode_params;
#define AEC_LAYOUT_AS_CODED 0
AEC_API void aec_decode_params_default(aec_decode_params *params);

/* Decode into a library buffer of (*out_w) x (*out_h) pixels, tightly
 * packed, in layout *out_layout: params->layout, or the original image's
 * when that is 0.  With params->scale, *out_w x *out_h is the reduced
 * size. */
AEC_API aec_status aec_decode(aec_decoder *dec, const uint8_t *data, size_t size,
                              const aec_decode_params *params, uint8_t **out,
                              uint32_t *out_w, uint32_t *out_h, aec_layout *out_layout);

/* The size and layout aec_decode / aec_decode_into would give for these
 * params, from the header alone (no model, nothing decoded); works on any
 * prefix that holds the header and stream table (48 + 8 * streams bytes),
 * AEC_ERR_TRUNCATED before.  Checks the region and scale the same way. */
AEC_API aec_status aec_decode_size(const uint8_t *data, size_t size,
                                   const aec_decode_params *params, uint32_t *out_w,
                                   uint32_t *out_h, aec_layout *out_layout);

/* Decode into the caller's buffer: out_h rows of out_w pixels (the sizes
 * aec_decode_size gives) of the output layout, row r starting at
 * pixels + r * stride; stride 0 = out_w * channels (tightly packed).  The
 * bytes between a row's last pixel and the next row are not touched.
 * AEC_ERR_INVALID_ARGUMENT, with a message, when stride is less than
 * out_w * channels or buffer_size less than (out_h - 1) * stride +
 * out_w * channels; nothing is written then.  On any error the buffer's
 * contents are unspecified.  Memory: no full-size copy of the image, only
 * bands of it (and the alpha plane when the file has one; a half-size file,
 * aec_info's half_size, holds the coded pixels the region reads, a quarter
 * of the region's). */
AEC_API aec_status aec_decode_into(aec_decoder *dec, const uint8_t *data, size_t size,
                                   const aec_decode_params *params, uint8_t *pixels,
                                   size_t stride, size_t buffer_size);

/* ---- progressive decoding ------------------------------------------------
 * Streams are stage-major (spec/bitstream.md 2): [alpha plane], stage 1 of
 * every tile, stage 2 of every tile, ..., then one lattice section per tile
 * in raster order.  With params->partial = 1 a decode of a prefix of the
 * file gives a preview from the complete streams it holds:
 *
 *  - fewer than 48 + 8 * streams bytes (header and stream table): nothing;
 *    AEC_ERR_TRUNCATED, and aec_decoder_last_progress says how many bytes
 *    are needed (next_bytes).
 *  - VQ files (level 1, or a model of the caller's): the VQ stages all of
 *    whose tiles are in, i.e. the file at a lower quality level; before
 *    stage 1 is complete, a mid-grey image (alpha 255 until the alpha plane
 *    is in).  Streams of a stage partly arrived are not used.
 *  - lattice files (levels 2-14, no VQ stages): tiles whose lattice section
 *    is in are decoded (near the tiles still missing their pixels differ
 *    slightly from the final ones: the decoder network sees zero latents
 *    there), the tiles still missing are mid-grey (128).  Lattice files
 *    with VQ stages: the VQ stages as above, then tile by tile the
 *    refinement on top of them.
 *  - the whole file: exactly what aec_decode gives with partial = 0.
 *
 * The stream CRCs are checked as always, so a damaged stream is an error,
 * not a preview.  A preview of a truncated file is not a conforming
 * decode (spec/bitstream.md 8 uses no lattice section of a truncated
 * file). */
typedef struct {
    uint64_t file_size;  /* bytes of the complete file (the header's)       */
    uint64_t bytes_used; /* length of the prefix the picture depends on     */
    uint64_t next_bytes; /* prefix length at which the picture would next
                            change (the next stage complete, or the next
                            tile's lattice section); 0 when it will not
                            (final, or params->stages reached)              */
    int final;           /* 1 when the data was the whole file              */
    int stages;          /* VQ stages in the picture                        */
    uint32_t tiles;      /* tiles of the image                              */
    uint32_t tiles_refined; /* tiles with their lattice refinement decoded  */
    uint32_t tiles_blank;   /* tiles left mid-grey (nothing of them yet)     */
    /* ---- field added after 0.5.0 ---- */
    int layers;             /* lattice layers every tile has in the picture
                               (tiles_refined counts those with one or more) */
} aec_progress;

/* What a decode of this prefix with these params gives, from the header
 * and stream table alone (cheap: a viewer calls it as bytes arrive and
 * decodes again only when bytes_used grew).  Any prefix length; before the
 * stream table is in, AEC_ERR_TRUNCATED with next_bytes set (48, then
 * 48 + 8 * streams).  params NULL = defaults; params->partial is implied. */
AEC_API aec_status aec_probe_prefix(const uint8_t *data, size_t size,
                                    const aec_decode_params *params, aec_progress *progress);
/* What the decoder's last aec_decode / aec_decode_into call used (also
 * after AEC_ERR_TRUNCATED for a prefix too short for the stream table). */
AEC_API void aec_decoder_last_progress(const aec_decoder *dec, aec_progress *progress);
AEC_API const char *aec_decoder_last_error(const aec_decoder *dec);

#ifdef __cplusplus
}
#endif
#endif /* AECODEC_H */
