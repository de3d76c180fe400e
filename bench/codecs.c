/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * codecs.c - the codecs aebench compares: aecodec through libcodec,
 * libjpeg-turbo through its C API, and WebP, JPEG XL and AVIF through their
 * command-line tools (cwebp/dwebp, cjxl/djxl, avifenc/avifdec).
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <setjmp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include <jpeglib.h>

#include "common/cleanup.h"
#include "common/imageio.h"

/* ---- aecodec ------------------------------------------------------------ */

int ours_open(ours_ctx *ctx, const aec_model *model, int tile_size, char *err, size_t errlen)
{
    memset(ctx, 0, sizeof *ctx);
    ctx->model = model;
    ctx->tile_size = tile_size;
    ctx->lambda = -1;
    aec_status st = aec_encoder_create(&ctx->enc, model);
    if (st == AEC_OK)
        st = aec_decoder_create(&ctx->dec, model);
    if (st != AEC_OK) {
        snprintf(err, errlen, "cannot create the aecodec contexts: %s", aec_status_string(st));
        ours_close(ctx);
        return -1;
    }
    return 0;
}

void ours_close(ours_ctx *ctx)
{
    aec_encoder_destroy(ctx->enc);
    aec_decoder_destroy(ctx->dec);
    ctx->enc = NULL;
    ctx->dec = NULL;
}

int ours_run(ours_ctx *ctx, const bench_image *img, int quality, int threads, bench_result *res,
             char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    aec_encode_params p;
    aec_encode_params_default(&p);
    p.quality = quality;
    p.threads = threads;
    if (ctx->tile_size)
        p.tile_size = ctx->tile_size;
    if (ctx->lambda >= 0)
        p.lambda = ctx->lambda;
    p.effort = ctx->effort;
    uint8_t *file = NULL;
    size_t size = 0;
    double t0 = now_ms();
    aec_status st = aec_encode(ctx->enc, img->rgb, img->w, img->h, 0, AEC_RGB, &p, &file, &size);
    double t1 = now_ms();
    if (st != AEC_OK) {
        snprintf(err, errlen, "aec_encode: %s: %s", aec_status_string(st),
                 aec_encoder_last_error(ctx->enc));
        return -1;
    }
    aec_info info;
    if (aec_read_info(file, size, &info) == AEC_OK)
        res->stages_coded = info.stages_coded;
    aec_decoder_set_threads(ctx->dec, threads);
    aec_decode_params dp;
    aec_decode_params_default(&dp);
    uint8_t *out = NULL;
    uint32_t ow = 0, oh = 0;
    aec_layout layout = AEC_RGB;
    double t2 = now_ms();
    st = aec_decode(ctx->dec, file, size, &dp, &out, &ow, &oh, &layout);
    double t3 = now_ms();
    aec_free(file);
    if (st != AEC_OK) {
        snprintf(err, errlen, "aec_decode: %s: %s", aec_status_string(st),
                 aec_decoder_last_error(ctx->dec));
        return -1;
    }
    if (ow != img->w || oh != img->h || layout != AEC_RGB) {
        snprintf(err, errlen, "aec_decode gave %ux%u layout %d for a %ux%u RGB image", ow, oh,
                 (int)layout, img->w, img->h);
        aec_free(out);
        return -1;
    }
    size_t n = (size_t)ow * oh * 3;
    res->decoded = malloc(n);
    if (!res->decoded) {
        aec_free(out);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    memcpy(res->decoded, out, n);
    aec_free(out);
    res->bytes = size;
    res->enc_ms = t1 - t0;
    res->dec_ms = t3 - t2;
    return 0;
}

/* ---- libjpeg-turbo ------------------------------------------------------ */

typedef struct {
    struct jpeg_error_mgr mgr;
    jmp_buf jb;
    char msg[JMSG_LENGTH_MAX];
} jerr_t;

static void jerr_exit(j_common_ptr c)
{
    jerr_t *e = (jerr_t *)c->err;
    c->err->format_message(c, e->msg);
    longjmp(e->jb, 1);
}

const char *jpeg_version(void)
{
    static char buf[64];
#ifdef LIBJPEG_TURBO_VERSION_NUMBER
    snprintf(buf, sizeof buf, "libjpeg-turbo %d.%d.%d (libjpeg API %d)",
             LIBJPEG_TURBO_VERSION_NUMBER / 1000000, LIBJPEG_TURBO_VERSION_NUMBER / 1000 % 1000,
             LIBJPEG_TURBO_VERSION_NUMBER % 1000, JPEG_LIB_VERSION);
#else
    snprintf(buf, sizeof buf, "libjpeg (API %d)", JPEG_LIB_VERSION);
#endif
    return buf;
}

static int jpeg_compress_mem(const bench_image *img, int quality, unsigned char **out,
                             unsigned long *out_size, char *err, size_t errlen)
{
    struct jpeg_compress_struct c;
    jerr_t e;
    *out = NULL;
    *out_size = 0;
    c.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = jerr_exit;
    if (setjmp(e.jb)) {
        snprintf(err, errlen, "libjpeg: %s", e.msg);
        jpeg_destroy_compress(&c);
        free(*out);
        *out = NULL;
        return -1;
    }
    jpeg_create_compress(&c);
    jpeg_mem_dest(&c, out, out_size);
    c.image_width = img->w;
    c.image_height = img->h;
    c.input_components = 3;
    c.in_color_space = JCS_RGB;
    jpeg_set_defaults(&c);
    /* as cjpeg -quality Q -optimize: no baseline forcing, islow DCT, 4:2:0 */
    jpeg_set_quality(&c, quality, FALSE);
    c.optimize_coding = TRUE;
    c.dct_method = JDCT_ISLOW;
    c.comp_info[0].h_samp_factor = 2;
    c.comp_info[0].v_samp_factor = 2;
    c.comp_info[1].h_samp_factor = c.comp_info[1].v_samp_factor = 1;
    c.comp_info[2].h_samp_factor = c.comp_info[2].v_samp_factor = 1;
    jpeg_start_compress(&c, TRUE);
    while (c.next_scanline < c.image_height) {
        JSAMPROW row = (JSAMPROW)(img->rgb + (size_t)c.next_scanline * img->w * 3);
        jpeg_write_scanlines(&c, &row, 1);
    }
    jpeg_finish_compress(&c);
    jpeg_destroy_compress(&c);
    return 0;
}

static int jpeg_decompress_mem(const unsigned char *data, unsigned long size, uint32_t w,
                               uint32_t h, uint8_t *rgb, char *err, size_t errlen)
{
    struct jpeg_decompress_struct d;
    jerr_t e;
    d.err = jpeg_std_error(&e.mgr);
    e.mgr.error_exit = jerr_exit;
    if (setjmp(e.jb)) {
        snprintf(err, errlen, "libjpeg: %s", e.msg);
        jpeg_destroy_decompress(&d);
        return -1;
    }
    jpeg_create_decompress(&d);
    jpeg_mem_src(&d, data, size);
    jpeg_read_header(&d, TRUE);
    d.out_color_space = JCS_RGB;
    jpeg_start_decompress(&d);
    if (d.output_width != w || d.output_height != h || d.output_components != 3) {
        snprintf(err, errlen, "libjpeg decoded %ux%ux%d", d.output_width, d.output_height,
                 d.output_components);
        jpeg_destroy_decompress(&d);
        return -1;
    }
    while (d.output_scanline < d.output_height) {
        JSAMPROW row = (JSAMPROW)(rgb + (size_t)d.output_scanline * w * 3);
        jpeg_read_scanlines(&d, &row, 1);
    }
    jpeg_finish_decompress(&d);
    jpeg_destroy_decompress(&d);
    return 0;
}

int jpeg_run(const bench_image *img, int quality, bench_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    unsigned char *buf = NULL;
    unsigned long size = 0;
    double t0 = now_ms();
    if (jpeg_compress_mem(img, quality, &buf, &size, err, errlen))
        return -1;
    double t1 = now_ms();
    res->decoded = malloc((size_t)img->w * img->h * 3);
    if (!res->decoded) {
        free(buf);
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    double t2 = now_ms();
    int rc = jpeg_decompress_mem(buf, size, img->w, img->h, res->decoded, err, errlen);
    double t3 = now_ms();
    free(buf);
    if (rc) {
        free(res->decoded);
        res->decoded = NULL;
        return -1;
    }
    res->bytes = size;
    res->enc_ms = t1 - t0;
    res->dec_ms = t3 - t2;
    return 0;
}

/* ---- peers through their command-line tools ----------------------------- */

static const char *const peer_names[PEER_COUNT] = {"webp", "jxl", "avif"};
static const char *const peer_enc[PEER_COUNT] = {"cwebp", "cjxl", "avifenc"};
static const char *const peer_dec[PEER_COUNT] = {"dwebp", "djxl", "avifdec"};

const char *peer_name(peer_id id) { return peer_names[id]; }

const char *peer_tools(peer_id id)
{
    static const char *const t[PEER_COUNT] = {"cwebp/dwebp", "cjxl/djxl", "avifenc/avifdec"};
    return t[id];
}

const char *peer_options(peer_id id)
{
    static const char *const o[PEER_COUNT] = {
        "cwebp -m 6 -mt -q Q; dwebp -mt -ppm",
        "cjxl -e 7 -d D (default threads); djxl to PNG",
        "avifenc -s 6 -j all --min Q --max Q: libaom, YUV 4:4:4 (its defaults for PNG "
        "input); avifdec -j all to PNG"};
    return o[id];
}

static int in_path(const char *tool)
{
    const char *path = getenv("PATH");
    if (!path || !*path)
        path = "/usr/local/bin:/usr/bin:/bin";
    char buf[4096];
    while (*path) {
        const char *colon = strchr(path, ':');
        size_t len = colon ? (size_t)(colon - path) : strlen(path);
        if (len > 0 && len + strlen(tool) + 2 < sizeof buf) {
            memcpy(buf, path, len);
            buf[len] = '/';
            strcpy(buf + len + 1, tool);
            if (access(buf, X_OK) == 0)
                return 1;
        }
        path += len;
        if (*path == ':')
            path++;
    }
    return 0;
}

int peer_available(peer_id id) { return in_path(peer_enc[id]) && in_path(peer_dec[id]); }

void peer_version(peer_id id, char *buf, size_t len)
{
    static const char *const cmd[PEER_COUNT] = {"cwebp -version 2>&1", "cjxl --version 2>&1",
                                                "avifenc --version 2>&1"};
    buf[0] = 0;
    FILE *p = popen(cmd[id], "r");
    if (!p)
        return;
    char line[256] = "";
    if (fgets(line, sizeof line, p))
        line[strcspn(line, "\r\n")] = 0;
    /* "1.2.4" (cwebp), "cjxl v0.7.0 [AVX2,...]", "Version: 0.11.1 (dav1d ...)" */
    const char *v = line;
    if (strncmp(v, "Version: ", 9) == 0)
        v += 9;
    if (strncmp(v, peer_enc[id], strlen(peer_enc[id])) == 0)
        v += strlen(peer_enc[id]);
    while (*v == ' ' || *v == 'v')
        v++;
    int vl = (int)strcspn(v, " ");
    if (id == PEER_AVIF && v[vl] == ' ') /* the AV1 libraries it was built with */
        snprintf(buf, len, "%s %.*s%s", peer_enc[id], vl, v, v + vl);
    else
        snprintf(buf, len, "%s %.*s", peer_enc[id], vl, v);
    char tmp[256];
    while (fgets(tmp, sizeof tmp, p)) {
    }
    pclose(p);
}

int peer_settings(peer_id id, bench_setting *out, int max)
{
    static const double webp_q[] = {0, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95};
    static const double jxl_d[] = {15, 10, 7, 5, 3.5, 2.5, 1.75, 1.25, 0.9, 0.6};
    static const double avif_q[] = {63, 56, 50, 44, 38, 32, 26, 20, 14, 8};
    const double *v = id == PEER_WEBP ? webp_q : id == PEER_JXL ? jxl_d : avif_q;
    int n = id == PEER_WEBP  ? (int)(sizeof webp_q / sizeof webp_q[0])
            : id == PEER_JXL ? (int)(sizeof jxl_d / sizeof jxl_d[0])
                             : (int)(sizeof avif_q / sizeof avif_q[0]);
    if (n > max)
        n = max;
    for (int i = 0; i < n; i++) {
        out[i].value = v[i];
        snprintf(out[i].setting, sizeof out[i].setting, "%s=%g", id == PEER_JXL ? "d" : "q", v[i]);
    }
    return n;
}

/* Runs argv with stdin from /dev/null and stdout+stderr into log. Returns
 * the exit status, -1 if it could not run. */
static int run_tool(char *const argv[], const char *log)
{
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid == 0) {
        int in = open("/dev/null", O_RDONLY);
        int out = open(log, O_WRONLY | O_CREAT | O_TRUNC, 0644);
        if (in >= 0)
            dup2(in, 0);
        if (out >= 0) {
            dup2(out, 1);
            dup2(out, 2);
        }
        execvp(argv[0], argv);
        fprintf(stderr, "cannot run %s: %s\n", argv[0], strerror(errno));
        _exit(127);
    }
    int status = 0;
    while (waitpid(pid, &status, 0) < 0) {
        if (errno != EINTR)
            return -1;
    }
    return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

static void last_log_line(const char *log, char *buf, size_t len)
{
    buf[0] = 0;
    FILE *f = fopen(log, "r");
    if (!f)
        return;
    char line[512];
    while (fgets(line, sizeof line, f)) {
        line[strcspn(line, "\r\n")] = 0;
        size_t n = strlen(line);
        if (n > 0 && len > 0) {
            if (n >= len)
                n = len - 1;
            memcpy(buf, line, n);
            buf[n] = 0;
        }
    }
    fclose(f);
}

/* The coded and decoded files' extensions, per peer. */
static const char *const ext[PEER_COUNT] = {"webp", "jxl", "avif"};
static const char *const dext[PEER_COUNT] = {"ppm", "png", "png"};

void peer_cleanup_on_signal(const char *workdir)
{
    char path[1024];
    for (int id = 0; id < PEER_COUNT; id++) {
        snprintf(path, sizeof path, "%s/coded.%s", workdir, ext[id]);
        (void)aeio_cleanup_add(path);
        if (id == 0 || strcmp(dext[id], dext[id - 1]) != 0) {
            snprintf(path, sizeof path, "%s/decoded.%s", workdir, dext[id]);
            (void)aeio_cleanup_add(path);
        }
    }
}

int peer_run(peer_id id, const bench_image *img, const char *input_png, const char *workdir,
             const bench_setting *s, bench_result *res, char *err, size_t errlen)
{
    memset(res, 0, sizeof *res);
    char coded[1024], decoded[1024], log[1024], val[32];
    snprintf(coded, sizeof coded, "%s/coded.%s", workdir, ext[id]);
    snprintf(decoded, sizeof decoded, "%s/decoded.%s", workdir, dext[id]);
    snprintf(log, sizeof log, "%s/tool.log", workdir);
    snprintf(val, sizeof val, "%g", s->value);
    unlink(coded);
    unlink(decoded);

    char *enc[20], *dec[20];
    int ne = 0, nd = 0;
#define A(arr, n, s) (arr[n++] = (char *)(s))
    switch (id) {
    case PEER_WEBP:
        A(enc, ne, "cwebp"); A(enc, ne, "-quiet"); A(enc, ne, "-mt"); A(enc, ne, "-m");
        A(enc, ne, "6"); A(enc, ne, "-q"); A(enc, ne, val); A(enc, ne, input_png);
        A(enc, ne, "-o"); A(enc, ne, coded);
        A(dec, nd, "dwebp"); A(dec, nd, "-quiet"); A(dec, nd, "-mt"); A(dec, nd, coded);
        A(dec, nd, "-ppm"); A(dec, nd, "-o"); A(dec, nd, decoded);
        break;
    case PEER_JXL:
        A(enc, ne, "cjxl"); A(enc, ne, input_png); A(enc, ne, coded); A(enc, ne, "-e");
        A(enc, ne, "7"); A(enc, ne, "-d"); A(enc, ne, val);
        A(dec, nd, "djxl"); A(dec, nd, coded); A(dec, nd, decoded);
        break;
    default:
        A(enc, ne, "avifenc"); A(enc, ne, "-s"); A(enc, ne, "6"); A(enc, ne, "-j");
        A(enc, ne, "all"); A(enc, ne, "--min"); A(enc, ne, val); A(enc, ne, "--max");
        A(enc, ne, val); A(enc, ne, input_png); A(enc, ne, coded);
        A(dec, nd, "avifdec"); A(dec, nd, "-j"); A(dec, nd, "all"); A(dec, nd, coded);
        A(dec, nd, decoded);
        break;
    }
#undef A
    enc[ne] = NULL;
    dec[nd] = NULL;

    double t0 = now_ms();
    int rc = run_tool(enc, log);
    double t1 = now_ms();
    struct stat st;
    if (rc != 0 || stat(coded, &st) != 0) {
        char last[256];
        last_log_line(log, last, sizeof last);
        snprintf(err, errlen, "%s failed (status %d): %s", enc[0], rc, last);
        return -1;
    }
    double t2 = now_ms();
    rc = run_tool(dec, log);
    double t3 = now_ms();
    if (rc != 0) {
        char last[256];
        last_log_line(log, last, sizeof last);
        snprintf(err, errlen, "%s failed (status %d): %s", dec[0], rc, last);
        return -1;
    }
    aeio_image im, rgb;
    char ierr[256];
    if (aeio_read(decoded, &im, 0, ierr, sizeof ierr)) {
        snprintf(err, errlen, "reading the output of %s: %s", dec[0], ierr);
        return -1;
    }
    if (im.channels != 3) {
        int c = aeio_convert(&im, 3, &rgb, ierr, sizeof ierr);
        aeio_free(&im);
        if (c) {
            snprintf(err, errlen, "converting the output of %s: %s", dec[0], ierr);
            return -1;
        }
        im = rgb;
    }
    if (im.width != img->w || im.height != img->h) {
        snprintf(err, errlen, "%s gave %ux%u for a %ux%u image", dec[0], im.width, im.height,
                 img->w, img->h);
        aeio_free(&im);
        return -1;
    }
    res->decoded = im.pixels; /* malloc'ed by imageio: released with free() */
    res->bytes = (uint64_t)st.st_size;
    res->enc_ms = t1 - t0;
    res->dec_ms = t3 - t2;
    unlink(coded);
    unlink(decoded);
    return 0;
}
