/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * bench.h - internals of aebench, the rate-distortion and speed bench of
 * aecodec (`make bench`, `make bench-speed`; see bench/README.md).
 */
#ifndef AEBENCH_H
#define AEBENCH_H

#include <stddef.h>
#include <stdint.h>

#include "aecodec.h"

/* ---- one measurement: an image coded at one setting by one codec -------- */
typedef struct {
    char codec[16];    /* aecodec, jpeg, webp, jxl, avif                     */
    char image[128];   /* file name without directory                        */
    char setting[24];  /* "q=4", "d=1.5"...                                  */
    double value;      /* the setting as a number (for ordering)             */
    uint32_t width, height;
    uint64_t bytes;    /* size of the whole coded file                       */
    double bpp, psnr, msssim;
    double enc_ms, dec_ms;
    double enc_ms_1t, dec_ms_1t; /* aecodec only: 1 thread; < 0 when absent */
} bench_row;

typedef struct {
    bench_row *v;
    size_t n, cap;
} bench_rows;

int rows_push(bench_rows *rows, const bench_row *row);

/* ---- codecs ------------------------------------------------------------- */
typedef struct {
    char setting[24];
    double value;
} bench_setting;

/* An RGB image, 8 bit, tightly packed. */
typedef struct {
    uint32_t w, h;
    const uint8_t *rgb;
    const char *name;
} bench_image;

typedef struct {
    uint64_t bytes;
    double enc_ms, dec_ms;
    uint8_t *decoded; /* malloc'ed RGB, w*h*3 */
    int stages_coded; /* aecodec: from the file's header */
} bench_result;

/* Our codec. threads: 0 = all.  Returns 0 on success, else writes err. */
typedef struct {
    aec_encoder *enc;
    aec_decoder *dec;
    const aec_model *model;
    int tile_size;
    float lambda; /* RD trade-off of the index choice; < 0 = library default */
    int effort;   /* aec_encode_params.effort */
} ours_ctx;
int ours_open(ours_ctx *ctx, const aec_model *model, int tile_size, char *err, size_t errlen);
void ours_close(ours_ctx *ctx);
int ours_run(ours_ctx *ctx, const bench_image *img, int quality, int threads, bench_result *res,
             char *err, size_t errlen);

/* libjpeg-turbo through its C API: 4:2:0, optimize_coding, islow DCT. */
int jpeg_run(const bench_image *img, int quality, bench_result *res, char *err, size_t errlen);
const char *jpeg_version(void);

/* Peers through their command-line tools. */
typedef enum { PEER_WEBP, PEER_JXL, PEER_AVIF, PEER_COUNT } peer_id;
const char *peer_name(peer_id id);       /* "webp"...                   */
const char *peer_tools(peer_id id);      /* "cwebp/dwebp"...            */
int peer_available(peer_id id);          /* both tools found in PATH    */
void peer_version(peer_id id, char *buf, size_t len);
const char *peer_options(peer_id id);    /* fixed options, for the report */
/* Default settings sweep; returns the count. */
int peer_settings(peer_id id, bench_setting *out, int max);
/* Codes img (given also as a PNG file input_png) in workdir. */
/* Registers the files peer_run makes in workdir for removal on a signal
 * (tools/common/cleanup.h). */
void peer_cleanup_on_signal(const char *workdir);
int peer_run(peer_id id, const bench_image *img, const char *input_png, const char *workdir,
             const bench_setting *s, bench_result *res, char *err, size_t errlen);

/* ---- CompressAI result files (bench/json.c) ------------------------------ */
#define RD_MAX_POINTS 64
/* One codec's curve in CompressAI's schema: per setting, the mean over the
 * images; NAN where a quantity is absent (ms-ssim, times). */
typedef struct {
    char name[80];
    char description[512];
    int n;
    double psnr[RD_MAX_POINTS], msssim[RD_MAX_POINTS], bpp[RD_MAX_POINTS];
    double enc_s[RD_MAX_POINTS], dec_s[RD_MAX_POINTS]; /* seconds */
} rd_curve;
/* Writes c as {"name", "description", "results": {...}}; arrays holding a
 * non-finite value are left out (psnr and bpp must be finite). */
int json_write_curve(const char *path, const rd_curve *c);
/* Reads one such file strictly; on error, one line "PATH:LINE: what" in err. */
int json_read_curve(const char *path, rd_curve *c, char *err, size_t errlen);

/* ---- reports ------------------------------------------------------------ */
typedef struct {
    const char *corpus;      /* as given                                   */
    int n_images;
    double megapixels;       /* total over images                          */
    const char *model_name;
    int threads_all;         /* what "all threads" meant                   */
    char cpu[128];
    char versions[512];      /* one line per peer: "- jpeg: libjpeg-turbo ..." */
    char skipped[512];       /* lines about skipped codecs                 */
    int msssim;              /* MS-SSIM computed                           */
    const rd_curve *anchors; /* published curves drawn and compared too    */
    int n_anchors;
    int linear_bpp;          /* plots: linear bpp axis (default: log)       */
} bench_meta;

int write_rows_csv(const char *path, const bench_rows *rows);
/* Reads a rows.csv written by write_rows_csv back (enc/dec_ms_1t = -1). */
int read_rows_csv(const char *path, bench_rows *rows, char *err, size_t errlen);
/* One CompressAI JSON file per codec, DIR/CODEC.json; *written = how many. */
int write_codec_json(const char *dir, const bench_rows *rows, const bench_meta *meta,
                     int *written);
/* Reads every *.json of dir (sorted by name) into *out (malloc'ed). */
int read_anchor_dir(const char *dir, rd_curve **out, int *n, char *err, size_t errlen);
/* GFLOP/s of the encoder (decoder = 0) or decoder network alone on one
 * grid x grid latent grid with one thread, median of runs, timed in the
 * thread's own CPU time (so a busy machine's other processes do not count)
 * (bench/kernels.c). */
double bench_network_gflops(const aec_model *m, int decoder, int grid, int runs);
/* Summary Markdown (also returned in *text, malloc'ed, if text != NULL). */
int write_summary(const char *path, const bench_rows *rows, const bench_meta *meta,
                  char **text);
/* RD plot: metric 0 = PSNR, 1 = MS-SSIM in dB (-10 log10(1 - MS-SSIM)). */
int write_svg(const char *path, const bench_rows *rows, const bench_meta *meta, int metric);

/* ---- misc --------------------------------------------------------------- */
double now_ms(void);
double median(double *v, size_t n); /* sorts v; NAN for n = 0 */
void cpu_model(char *buf, size_t len);
int mkdir_p(const char *path);

/* speed.c */
typedef struct {
    const char *out_dir;
    uint32_t small_w, small_h, large_w, large_h;
    int runs_small, runs_large;
    int quality;        /* 0 = the library's default                       */
    const char *model_path;
    int skip_large;
    int tile_size;
} speed_opts;
/* The built-in model that codes `quality` (0 = the default level): encode
 * a small picture and look its model identifier up (bench/speed.c). */
const aec_model *builtin_model_of_level(int quality);
int speed_main(const speed_opts *opt);

/* fma.c: measured single-precision FMA peak in GFLOP/s (2 flops per FMA);
 * on 1 thread timed in the thread's CPU time, like bench_network_gflops,
 * so their ratio holds on a busy machine; on more threads in wall time. */
double fma_peak_gflops(int threads, const char **kind);

/* ratecheck.c: `aebench --rate-search`, the library's search for a target
 * size or PSNR measured on images (bench/ratecontrol-check.sh). */
int ratecheck_main(int argc, char **argv);
/* aebench.c: a comma-separated list of numbers into out (at most max);
 * the count, or -1 when malformed or too long. */
int bench_parse_list(const char *s, double *out, int max);

/* synthetic photo-like test image (RGB), deterministic. */
uint8_t *make_synthetic(uint32_t w, uint32_t h);

#endif
