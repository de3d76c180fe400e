/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * speed.c - `aebench --speed` (make bench-speed): encode and decode speed of
 * aecodec on generated images with 1 thread and with all threads, peak
 * memory of the encoder and of the decoder (each in its own child process),
 * MACs per pixel, and the share of the machine's measured FMA peak.
 */
#include "bench.h"

#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/metrics.h"
#include "model/builtin.h"
#include "nn/dsp.h"

/* Multiply-accumulates per pixel of each network, from the library. */
static double bench_macs_per_pixel(const aec_model *model, int decoder, int stages)
{
    return aec_model_macs_per_pixel(model, decoder, stages);
}

/* ---- synthetic photo-like image ------------------------------------------ */

static uint32_t hash3(int32_t x, int32_t y, uint32_t seed)
{
    uint32_t h = (uint32_t)x * 0x8da6b343u ^ (uint32_t)y * 0xd8163841u ^ seed * 0xcb1ab31fu;
    h ^= h >> 13;
    h *= 0x5bd1e995u;
    h ^= h >> 15;
    h *= 0x27d4eb2du;
    h ^= h >> 16;
    return h;
}

static float vnoise(float x, float y, uint32_t seed)
{
    float fx0 = floorf(x), fy0 = floorf(y);
    int32_t xi = (int32_t)fx0, yi = (int32_t)fy0;
    float fx = x - fx0, fy = y - fy0;
    float u = fx * fx * (3 - 2 * fx), v = fy * fy * (3 - 2 * fy);
    const float k = 1.0f / 4294967295.0f;
    float a = hash3(xi, yi, seed) * k, b = hash3(xi + 1, yi, seed) * k;
    float c = hash3(xi, yi + 1, seed) * k, d = hash3(xi + 1, yi + 1, seed) * k;
    return (a + (b - a) * u) + ((c + (d - c) * u) - (a + (b - a) * u)) * v;
}

/* fractal noise in 0..1 */
static float fbm(float x, float y, int octaves, uint32_t seed)
{
    float s = 0, amp = 0.5f, norm = 0;
    for (int o = 0; o < octaves; o++) {
        s += amp * vnoise(x, y, seed + (uint32_t)o);
        norm += amp;
        x *= 2.03f;
        y *= 2.03f;
        amp *= 0.5f;
    }
    return s / norm;
}

static uint8_t c8(float v) { return (uint8_t)(v < 0 ? 0 : v > 255 ? 255 : v + 0.5f); }

/*
 * A landscape: a sky gradient with soft clouds, a ridge of hills, fields
 * with fine texture (its scale is in pixels, so a large image is not just a
 * smooth blow-up), buildings with sharp edges and rows of windows, a sun disc
 * and a little sensor noise.
 */
uint8_t *make_synthetic(uint32_t w, uint32_t h)
{
    uint8_t *img = malloc((size_t)w * h * 3);
    float *ridge = malloc(sizeof(float) * w);
    if (!img || !ridge) {
        free(img);
        free(ridge);
        return NULL;
    }
    const float aspect = (float)w / (float)h;
    for (uint32_t x = 0; x < w; x++) {
        float u = (float)x / (float)w;
        ridge[x] = 0.42f + 0.04f * sinf(6.0f * u) + 0.12f * (fbm(u * 5.0f, 0.5f, 6, 11) - 0.5f);
    }
    /* buildings, in relative coordinates */
    static const float bld[][4] = {{0.10f, 0.16f, 0.30f, 0.55f}, {0.17f, 0.21f, 0.36f, 0.55f},
                                   {0.55f, 0.62f, 0.33f, 0.56f}, {0.63f, 0.70f, 0.40f, 0.56f},
                                   {0.80f, 0.83f, 0.25f, 0.57f}};
    const int nb = (int)(sizeof bld / sizeof bld[0]);
    const float win = fmaxf(6.0f, (float)h / 120.0f); /* window pitch, pixels */

#pragma omp parallel for schedule(dynamic, 16)
    for (uint32_t y = 0; y < h; y++) {
        float v = (float)y / (float)h;
        for (uint32_t x = 0; x < w; x++) {
            float u = (float)x / (float)w;
            float r, g, b;
            float hz = ridge[x];
            if (v < hz) {
                /* sky: gradient + clouds + sun */
                float t = v / hz;
                r = 70 + 120 * t;
                g = 115 + 95 * t;
                b = 200 + 35 * t;
                float cl = fbm(u * 4.0f * aspect, v * 9.0f, 6, 101);
                cl = (cl - 0.52f) * 4.0f;
                if (cl > 0) {
                    cl = cl > 1 ? 1 : cl;
                    float shade = 235 - 40 * fbm(u * 16 * aspect, v * 30, 3, 7);
                    r += (shade - r) * cl;
                    g += (shade - g) * cl;
                    b += (shade + 10 - b) * cl;
                }
                float dx = (u - 0.75f) * aspect, dy = v - 0.15f;
                float dist = sqrtf(dx * dx + dy * dy);
                if (dist < 0.05f) {
                    r = 255;
                    g = 244;
                    b = 200;
                } else if (dist < 0.12f) {
                    float k = (0.12f - dist) / 0.07f;
                    r += (255 - r) * k * 0.5f;
                    g += (240 - g) * k * 0.5f;
                    b += (200 - b) * k * 0.3f;
                }
            } else {
                /* ground: field colours + pixel-scale texture, darker near */
                float d = (v - hz) / (1.0f - hz + 1e-6f);
                float field = fbm(u * 3.0f * aspect, v * 6.0f, 4, 202);
                float tex = fbm((float)x / 6.0f, (float)y / 3.0f, 5, 303) - 0.5f;
                float fine = vnoise((float)x / 1.5f, (float)y / 1.5f, 404) - 0.5f;
                r = 70 + 90 * field + 60 * tex * (0.4f + d) + 25 * fine;
                g = 95 + 70 * field + 70 * tex * (0.4f + d) + 25 * fine;
                b = 40 + 30 * field + 40 * tex * (0.4f + d) + 15 * fine;
                /* furrows in the near fields */
                float furrow = sinf((float)x * 0.35f + (float)y * 0.9f * d);
                if (field > 0.55f) {
                    r += 18 * furrow * d;
                    g += 12 * furrow * d;
                }
                float haze = 1.0f - d;
                r += (180 - r) * 0.35f * haze;
                g += (195 - g) * 0.35f * haze;
                b += (215 - b) * 0.35f * haze;
            }
            for (int i = 0; i < nb; i++) {
                if (u >= bld[i][0] && u < bld[i][1] && v >= bld[i][2] && v < bld[i][3]) {
                    float side = (u - bld[i][0]) / (bld[i][1] - bld[i][0]);
                    float base = 150 - 70 * side + 20 * (float)(i & 1);
                    r = base;
                    g = base * 0.95f;
                    b = base * 0.9f;
                    float px = fmodf((float)x, win), py = fmodf((float)y, win * 1.4f);
                    if (px > win * 0.3f && py > win * 0.4f) {
                        int lit = hash3((int32_t)((float)x / win), (int32_t)((float)y / win), 9) & 3;
                        r = lit ? 40 : 250;
                        g = lit ? 50 : 220;
                        b = lit ? 65 : 140;
                    }
                }
            }
            uint32_t n = hash3((int32_t)x, (int32_t)y, 555);
            float nz = ((float)(n & 255) + (float)((n >> 8) & 255)) / 256.0f - 1.0f; /* triangular */
            uint8_t *p = img + ((size_t)y * w + x) * 3;
            p[0] = c8(r + 3 * nz);
            p[1] = c8(g + 3 * nz);
            p[2] = c8(b + 3 * nz);
        }
    }
    free(ridge);
    return img;
}

/* ---- memory: encoder and decoder in their own child processes ------------ */

typedef struct {
    int ok;
    long peak_kib;  /* ru_maxrss of the child                           */
    long base_kib;  /* its RSS just before the encode/decode call        */
    uint64_t bytes; /* coded size (encoder child)                        */
    char err[200];
} mem_result;

static long rss_kib(void)
{
    FILE *f = fopen("/proc/self/statm", "r");
    if (!f)
        return 0;
    long size = 0, res = 0;
    if (fscanf(f, "%ld %ld", &size, &res) != 2)
        res = 0;
    fclose(f);
    return res * (sysconf(_SC_PAGESIZE) / 1024);
}

static void mem_child_body(int decoder, uint32_t w, uint32_t h, int quality, int tile,
                           const aec_model *model, const char *coded_path, mem_result *r)
{
    if (!decoder) {
        uint8_t *img = make_synthetic(w, h);
        aec_encoder *enc = NULL;
        if (!img || aec_encoder_create(&enc, model) != AEC_OK) {
            snprintf(r->err, sizeof r->err, "out of memory or no encoder");
            return;
        }
        aec_encode_params p;
        aec_encode_params_default(&p);
        if (quality)
            p.quality = quality;
        if (tile)
            p.tile_size = tile;
        p.threads = 0;
        uint8_t *out = NULL;
        size_t size = 0;
        r->base_kib = rss_kib();
        aec_status st = aec_encode(enc, img, w, h, 0, AEC_RGB, &p, &out, &size);
        if (st != AEC_OK) {
            snprintf(r->err, sizeof r->err, "aec_encode: %s", aec_status_string(st));
            return;
        }
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        r->peak_kib = ru.ru_maxrss;
        r->bytes = size;
        FILE *f = fopen(coded_path, "wb");
        if (!f || fwrite(out, 1, size, f) != size || fclose(f) != 0) {
            snprintf(r->err, sizeof r->err, "cannot write %s", coded_path);
            return;
        }
        r->ok = 1;
    } else {
        FILE *f = fopen(coded_path, "rb");
        if (!f) {
            snprintf(r->err, sizeof r->err, "cannot read %s", coded_path);
            return;
        }
        fseek(f, 0, SEEK_END);
        long size = ftell(f);
        fseek(f, 0, SEEK_SET);
        uint8_t *data = malloc(size > 0 ? (size_t)size : 1);
        if (!data || size <= 0 || fread(data, 1, (size_t)size, f) != (size_t)size) {
            fclose(f);
            snprintf(r->err, sizeof r->err, "cannot read %s", coded_path);
            return;
        }
        fclose(f);
        aec_decoder *dec = NULL;
        if (aec_decoder_create(&dec, model) != AEC_OK) {
            snprintf(r->err, sizeof r->err, "no decoder");
            return;
        }
        aec_decoder_set_threads(dec, 0);
        aec_decode_params dp;
        aec_decode_params_default(&dp);
        uint8_t *out = NULL;
        uint32_t ow, oh;
        aec_layout layout;
        r->base_kib = rss_kib();
        aec_status st = aec_decode(dec, data, (size_t)size, &dp, &out, &ow, &oh, &layout);
        if (st != AEC_OK) {
            snprintf(r->err, sizeof r->err, "aec_decode: %s", aec_status_string(st));
            return;
        }
        struct rusage ru;
        getrusage(RUSAGE_SELF, &ru);
        r->peak_kib = ru.ru_maxrss;
        r->ok = 1;
    }
}

static void mem_measure(int decoder, uint32_t w, uint32_t h, int quality, int tile,
                        const aec_model *model, const char *coded_path, mem_result *r)
{
    memset(r, 0, sizeof *r);
    int fd[2];
    if (pipe(fd) != 0) {
        snprintf(r->err, sizeof r->err, "pipe: %s", strerror(errno));
        return;
    }
    fflush(NULL);
    pid_t pid = fork();
    if (pid < 0) {
        snprintf(r->err, sizeof r->err, "fork: %s", strerror(errno));
        close(fd[0]);
        close(fd[1]);
        return;
    }
    if (pid == 0) {
        close(fd[0]);
        mem_result cr;
        memset(&cr, 0, sizeof cr);
        mem_child_body(decoder, w, h, quality, tile, model, coded_path, &cr);
        ssize_t wr = write(fd[1], &cr, sizeof cr);
        _exit(wr == (ssize_t)sizeof cr ? 0 : 1);
    }
    close(fd[1]);
    size_t got = 0;
    while (got < sizeof *r) {
        ssize_t n = read(fd[0], (char *)r + got, sizeof *r - got);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            break;
        got += (size_t)n;
    }
    close(fd[0]);
    int status = 0;
    while (waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    if (got != sizeof *r) {
        memset(r, 0, sizeof *r);
        snprintf(r->err, sizeof r->err, "the child process failed (status %d)", status);
    }
}

/* ---- timing ---------------------------------------------------------------- */

typedef struct {
    uint32_t w, h;
    int runs;
    uint64_t bytes;
    int stages_coded;
    double psnr;
    double enc_ms[2], dec_ms[2]; /* [0] 1 thread, [1] all threads */
    mem_result mem_enc, mem_dec;
    int ok;
    char err[256];
} speed_case;

static int time_case(speed_case *c, const aec_model *model, int quality, int tile, int warmup)
{
    uint8_t *img = make_synthetic(c->w, c->h);
    if (!img) {
        snprintf(c->err, sizeof c->err, "out of memory");
        return -1;
    }
    ours_ctx ctx;
    char err[256];
    if (ours_open(&ctx, model, tile, err, sizeof err)) {
        snprintf(c->err, sizeof c->err, "%s", err);
        free(img);
        return -1;
    }
    bench_image bi = {c->w, c->h, img, "synthetic"};
    int threads_all = omp_get_max_threads();
    double *te = malloc(sizeof(double) * (size_t)c->runs);
    double *td = malloc(sizeof(double) * (size_t)c->runs);
    int rc = 0;
    if (warmup) {
        bench_result res;
        if (ours_run(&ctx, &bi, quality, 0, &res, err, sizeof err)) {
            snprintf(c->err, sizeof c->err, "%s", err);
            rc = -1;
        } else {
            free(res.decoded);
        }
    }
    /* runs alternate between 1 thread and all threads, so that a change in
     * the machine's load hits both alike */
    double *te1 = malloc(sizeof(double) * (size_t)c->runs);
    double *td1 = malloc(sizeof(double) * (size_t)c->runs);
    if (!te || !td || !te1 || !td1) {
        snprintf(c->err, sizeof c->err, "out of memory");
        rc = -1;
    }
    for (int r = 0; r < c->runs && rc == 0; r++) {
        for (int t = 0; t < 2 && rc == 0; t++) {
            int threads = t == 0 ? 1 : threads_all;
            bench_result res;
            fprintf(stderr, "  %ux%u, %d thread%s, run %d/%d\n", c->w, c->h, threads,
                    threads == 1 ? "" : "s", r + 1, c->runs);
            if (ours_run(&ctx, &bi, quality, threads, &res, err, sizeof err)) {
                snprintf(c->err, sizeof c->err, "%s", err);
                rc = -1;
                break;
            }
            (t == 0 ? te1 : te)[r] = res.enc_ms;
            (t == 0 ? td1 : td)[r] = res.dec_ms;
            if (t == 0 && r == 0) {
                c->bytes = res.bytes;
                c->stages_coded = res.stages_coded;
                c->psnr = aem_psnr(img, res.decoded, c->w, c->h, 3);
            }
            free(res.decoded);
        }
    }
    if (rc == 0) {
        c->enc_ms[0] = median(te1, (size_t)c->runs);
        c->dec_ms[0] = median(td1, (size_t)c->runs);
        c->enc_ms[1] = median(te, (size_t)c->runs);
        c->dec_ms[1] = median(td, (size_t)c->runs);
    }
    free(te1);
    free(td1);
    free(te);
    free(td);
    ours_close(&ctx);
    free(img);
    c->ok = rc == 0;
    return rc;
}

static void fmt_mib(char *buf, size_t len, long kib)
{
    snprintf(buf, len, "%.1f", kib / 1024.0);
}

const aec_model *builtin_model_of_level(int quality)
{
    const aec_model *found = aec_model_default();
    aec_encoder *enc = NULL;
    uint8_t pix[64 * 64 * 3];
    for (size_t i = 0; i < sizeof pix; i++)
        pix[i] = (uint8_t)(i * 7 + i / 192);
    aec_encode_params p;
    aec_encode_params_default(&p);
    p.quality = quality;
    uint8_t *file = NULL;
    size_t size = 0;
    aec_info info;
    if (aec_encoder_create(&enc, NULL) == AEC_OK &&
        aec_encode(enc, pix, 64, 64, 0, AEC_RGB, &p, &file, &size) == AEC_OK &&
        aec_read_info(file, size, &info) == AEC_OK)
        for (int i = 0; aec_model_builtin(i); i++)
            if (aec_model_id(aec_model_builtin(i)) == info.model_id)
                found = aec_model_builtin(i);
    aec_free(file);
    aec_encoder_destroy(enc);
    return found;
}

int speed_main(const speed_opts *opt)
{
    /* First use, before anything in this process has touched a model: what a
     * viewer pays to create its first decoder, and to prepare the default
     * model (done lazily, at the first decode that needs it). */
    double t0 = now_ms();
    aec_decoder *first = NULL;
    aec_status first_st = aec_decoder_create(&first, NULL);
    double create_ms = now_ms() - t0;
    aec_decoder_destroy(first);
    t0 = now_ms();
    const aec_model *model = aec_model_default();
    double prepare_ms = now_ms() - t0;
    aec_model *loaded = NULL;
    if (opt->model_path) {
        aec_status st = aec_model_load_file(&loaded, opt->model_path);
        if (st != AEC_OK) {
            fprintf(stderr, "aebench: %s: %s\n", opt->model_path, aec_status_string(st));
            return 1;
        }
        model = loaded;
    }
    /* Coding runs use the built-in levels unless a model was given; the
     * MACs and kernel figures use the model that codes the level measured. */
    const aec_model *codec_model = loaded;
    aec_encode_params defaults;
    aec_encode_params_default(&defaults);
    int quality = opt->quality ? opt->quality : defaults.quality;
    if (mkdir_p(opt->out_dir)) {
        fprintf(stderr, "aebench: cannot create %s\n", opt->out_dir);
        return 1;
    }

    speed_case cases[2];
    int ncase = opt->skip_large ? 1 : 2;
    memset(cases, 0, sizeof cases);
    cases[0].w = opt->small_w;
    cases[0].h = opt->small_h;
    cases[0].runs = opt->runs_small;
    cases[1].w = opt->large_w;
    cases[1].h = opt->large_h;
    cases[1].runs = opt->runs_large;

    /* 1. memory, in child processes forked before this process starts any
     *    OpenMP threads or allocates images (a child's peak includes what it
     *    inherits, and libgomp does not survive fork) */
    char coded[1024];
    snprintf(coded, sizeof coded, "%s/.speed-coded.aec", opt->out_dir);
    int coded_slot = aeio_cleanup_add(coded); /* a signal removes it */
    for (int i = 0; i < ncase; i++) {
        fprintf(stderr, "[memory] %ux%u encoder\n", cases[i].w, cases[i].h);
        mem_measure(0, cases[i].w, cases[i].h, quality, opt->tile_size, codec_model, coded,
                    &cases[i].mem_enc);
        if (!cases[i].mem_enc.ok) {
            fprintf(stderr, "aebench: encoder memory run: %s\n", cases[i].mem_enc.err);
            continue;
        }
        fprintf(stderr, "[memory] %ux%u decoder\n", cases[i].w, cases[i].h);
        mem_measure(1, cases[i].w, cases[i].h, quality, opt->tile_size, codec_model, coded,
                    &cases[i].mem_dec);
        if (!cases[i].mem_dec.ok)
            fprintf(stderr, "aebench: decoder memory run: %s\n", cases[i].mem_dec.err);
    }
    remove(coded);
    aeio_cleanup_remove(coded_slot);

    /* 2. timing */
    int failed = 0;
    for (int i = 0; i < ncase; i++) {
        fprintf(stderr, "[speed] %ux%u, quality %d%s, median of %d runs\n", cases[i].w,
                cases[i].h, quality, quality ? "" : " (library default)", cases[i].runs);
        if (time_case(&cases[i], codec_model, quality, opt->tile_size, i == 0)) {
            fprintf(stderr, "aebench: %ux%u: %s\n", cases[i].w, cases[i].h, cases[i].err);
            failed = 1;
        }
    }

    /* 3. FMA peak */
    int threads_all = omp_get_max_threads();
    const char *kind = "";
    fprintf(stderr, "[peak] FMA loop, 1 thread and %d threads\n", threads_all);
    double peak1 = fma_peak_gflops(1, &kind);
    double peakn = fma_peak_gflops(threads_all, &kind);

    /* Only now (after the forked memory runs: libgomp does not survive a
     * fork) may this process encode to find the level's model. */
    if (!loaded)
        model = builtin_model_of_level(quality);

    /* 3b. the networks alone: one 512-pixel tile with its halo, 1 thread */
    /* Alternating with the 1-thread peak, all in thread CPU time, so that on
     * a busy machine both see the same moments; medians of the shares. */
    fprintf(stderr, "[kernels] encoder and decoder networks on a 70x70 latent grid\n");
    enum { NET_ROUNDS = 3 };
    double share_enc[NET_ROUNDS], share_dec[NET_ROUNDS], g_enc[NET_ROUNDS], g_dec[NET_ROUNDS];
    for (int r = 0; r < NET_ROUNDS; r++) {
        double p = fma_peak_gflops(1, NULL);
        g_enc[r] = bench_network_gflops(model, 0, 70, 5);
        g_dec[r] = bench_network_gflops(model, 1, 70, 5);
        share_enc[r] = g_enc[r] / p;
        share_dec[r] = g_dec[r] / p;
    }
    double net_enc = median(g_enc, NET_ROUNDS), net_dec = median(g_dec, NET_ROUNDS);
    double net_enc_share = median(share_enc, NET_ROUNDS),
           net_dec_share = median(share_dec, NET_ROUNDS);

    int stages = cases[0].stages_coded > 0 || !loaded ? cases[0].stages_coded : quality;
    double macs_enc = bench_macs_per_pixel(model, 0, stages);
    double macs_dec = bench_macs_per_pixel(model, 1, stages);
    int have_macs = macs_enc > 0 && macs_dec > 0;

    /* 4. report */
    char cpu[128];
    cpu_model(cpu, sizeof cpu);
    char path[1100];
    snprintf(path, sizeof path, "%s/speed.md", opt->out_dir);
    int slot;
    FILE *out[2] = {stdout, aeio_cleanup_fopen(path, "w", &slot)};
    for (int o = 0; o < 2; o++) {
        FILE *f = out[o];
        if (!f)
            continue;
        fprintf(f, "# aecodec speed\n\n");
        fprintf(f, "- machine: %s; all threads = %d\n", cpu, threads_all);
        if (loaded)
            fprintf(f, "- model: %s; quality %d of %d stages%s; tile size %s\n",
                    aec_model_name(model), stages, aec_model_stages(model),
                    quality ? "" : " (the library's default)",
                    opt->tile_size ? "as given" : "library default");
        else
            fprintf(f, "- built-in levels: quality %d%s, coded by %s (%d VQ stages%s); tile "
                       "size %s\n",
                    quality, quality ? "" : " (the library's default)", aec_model_name(model),
                    stages, stages ? "" : ", lattice refinement",
                    opt->tile_size ? "as given" : "library default");
        fprintf(f, "- images: generated landscape-like pictures (bench/speed.c); times are "
                   "medians of the runs, encode and decode timed separately in memory\n");
        fprintf(f, "- FMA peak (measured, fp32, %s): %.1f GFLOP/s on 1 thread (its CPU "
                   "time), %.1f GFLOP/s on %d threads (wall time)\n",
                kind, peak1, peakn, threads_all);
        fprintf(f, "- kernel path: %s (chosen from cpuid; AEC_CPU=c|avx2|avx512 forces a "
                   "lower one)\n",
                nn_dsp_active()->name);
        fprintf(f, "- first use in this process: aec_decoder_create %.3f ms%s; preparing the "
                   "default model %.3f ms\n",
                create_ms, first_st == AEC_OK ? "" : " (failed)", prepare_ms);
        size_t embedded = 0;
        for (int i = 0; i < AEM_BUILTIN_MODELS; i++)
            embedded += aem_builtin_table[i].size;
        fprintf(f, "- built-in models: %d, %.2f MB embedded in the library\n", AEM_BUILTIN_MODELS,
                embedded / 1e6);
        if (have_macs)
            fprintf(f, "- MACs per pixel: encoder %.0f (at %d stages), decoder %.0f; achieved "
                       "GFLOP/s = 2 * MACs * pixels / time\n",
                    macs_enc, stages, macs_dec);
        else
            fprintf(f, "- MACs per pixel: n/a\n");
        fprintf(f, "\n| image | Mpixel | bytes | bpp | PSNR | threads | enc ms | dec ms | "
                   "enc MP/s | dec MP/s | enc GFLOP/s (%% of peak) | dec GFLOP/s (%% of "
                   "peak) |\n");
        fprintf(f, "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int i = 0; i < ncase; i++) {
            speed_case *c = &cases[i];
            double mp = (double)c->w * c->h / 1e6;
            if (!c->ok) {
                fprintf(f, "| %ux%u | %.2f | failed: %s |||||||||\n", c->w, c->h, mp, c->err);
                continue;
            }
            for (int t = 0; t < 2; t++) {
                char ge[48] = "n/a", gd[48] = "n/a";
                double peak = t == 0 ? peak1 : peakn;
                if (have_macs) {
                    double e = 2.0 * (double)macs_enc * c->w * c->h / (c->enc_ms[t] / 1e3) / 1e9;
                    double d = 2.0 * (double)macs_dec * c->w * c->h / (c->dec_ms[t] / 1e3) / 1e9;
                    snprintf(ge, sizeof ge, "%.1f (%.0f%%)", e, 100 * e / peak);
                    snprintf(gd, sizeof gd, "%.1f (%.0f%%)", d, 100 * d / peak);
                }
                fprintf(f, "| %ux%u | %.2f | %llu | %.4f | %.2f | %d | %.1f | %.1f | %.2f | "
                           "%.2f | %s | %s |\n",
                        c->w, c->h, mp, (unsigned long long)c->bytes,
                        8.0 * c->bytes / ((double)c->w * c->h), c->psnr,
                        t == 0 ? 1 : threads_all, c->enc_ms[t], c->dec_ms[t],
                        mp / (c->enc_ms[t] / 1e3), mp / (c->dec_ms[t] / 1e3), ge, gd);
            }
        }
        fprintf(f, "\n| image | enc speed-up (%d thr / 1) | dec speed-up | enc peak RSS MiB "
                   "(above input) | dec peak RSS MiB (above start) |\n",
                threads_all);
        fprintf(f, "|---|---:|---:|---:|---:|\n");
        for (int i = 0; i < ncase; i++) {
            speed_case *c = &cases[i];
            char su_e[24] = "-", su_d[24] = "-", me[64] = "-", md[64] = "-";
            if (c->ok) {
                snprintf(su_e, sizeof su_e, "%.2fx", c->enc_ms[0] / c->enc_ms[1]);
                snprintf(su_d, sizeof su_d, "%.2fx", c->dec_ms[0] / c->dec_ms[1]);
            }
            if (c->mem_enc.ok) {
                char a[24], b[24];
                fmt_mib(a, sizeof a, c->mem_enc.peak_kib);
                fmt_mib(b, sizeof b, c->mem_enc.peak_kib - c->mem_enc.base_kib);
                snprintf(me, sizeof me, "%s (%s)", a, b);
            }
            if (c->mem_dec.ok) {
                char a[24], b[24];
                fmt_mib(a, sizeof a, c->mem_dec.peak_kib);
                fmt_mib(b, sizeof b, c->mem_dec.peak_kib - c->mem_dec.base_kib);
                snprintf(md, sizeof md, "%s (%s)", a, b);
            }
            fprintf(f, "| %ux%u | %s | %s | %s | %s |\n", c->w, c->h, su_e, su_d, me, md);
        }
        fprintf(f, "\nNetworks alone (1 thread, one 70x70-latent grid = a 512-pixel tile with "
                   "its halo; convolutions, 1x1 layers and ReLU, no quantiser or entropy "
                   "coding; thread CPU time, %d rounds alternating with the 1-thread peak, "
                   "medians): encoder %.0f MACs/pixel, %.1f GFLOP/s = %.0f%% of the 1-thread "
                   "peak; decoder %.0f MACs/pixel, %.1f GFLOP/s = %.0f%%.  The wide 3x3 "
                   "layers run by Winograd's F(2x2, 3x3), as the codec runs them in images "
                   "of 1024 latents or more; MACs and GFLOP/s count the direct "
                   "convolution's multiply-adds, so the shares are effective rates.\n",
                NET_ROUNDS, aec_model_macs_per_pixel(model, 0, 0), net_enc,
                100 * net_enc_share, aec_model_macs_per_pixel(model, 1, 0), net_dec,
                100 * net_dec_share);
        fprintf(f, "\nPeak RSS: getrusage ru_maxrss of a child process that only encodes "
                   "(or only decodes) the image with all threads; \"above input\" subtracts "
                   "the RSS just before the call (the process, the model and the input "
                   "pixels or file).\n");
        if (f != stdout)
            aeio_cleanup_fclose(f, slot);
    }
    if (!out[1])
        fprintf(stderr, "aebench: cannot write %s\n", path);
    else
        fprintf(stderr, "wrote %s\n", path);
    if (loaded)
        aec_model_free(loaded);
    return failed ? 1 : 0;
}
