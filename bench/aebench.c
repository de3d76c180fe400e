/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * aebench - rate-distortion and speed bench of aecodec against libjpeg-turbo
 * and, where their tools are installed, WebP, JPEG XL and AVIF.
 *
 *   aebench [options] PATH...     RD bench over image files / directories
 *   aebench --speed [options]     speed, memory and FMA-peak bench
 *
 * See bench/README.md; `aebench --help` lists the options.
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "common/cleanup.h"
#include "common/imageio.h"
#include "common/metrics.h"

/* ---- small utilities ------------------------------------------------------ */

double now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec * 1e3 + ts.tv_nsec / 1e6;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

double median(double *v, size_t n)
{
    if (n == 0)
        return NAN;
    qsort(v, n, sizeof *v, cmp_double);
    return n % 2 ? v[n / 2] : 0.5 * (v[n / 2 - 1] + v[n / 2]);
}

void cpu_model(char *buf, size_t len)
{
    snprintf(buf, len, "unknown CPU");
    FILE *f = fopen("/proc/cpuinfo", "r");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f)) {
            if (strncmp(line, "model name", 10) == 0) {
                char *c = strchr(line, ':');
                if (c) {
                    c++;
                    while (*c == ' ' || *c == '\t')
                        c++;
                    c[strcspn(c, "\r\n")] = 0;
                    snprintf(buf, len, "%s", c);
                }
                break;
            }
        }
        fclose(f);
    }
    size_t l = strlen(buf);
    snprintf(buf + l, len - l, ", %d logical CPUs", omp_get_num_procs());
}

int mkdir_p(const char *path)
{
    char tmp[1024];
    if (snprintf(tmp, sizeof tmp, "%s", path) >= (int)sizeof tmp)
        return -1;
    for (char *p = tmp + 1; *p; p++) {
        if (*p == '/') {
            *p = 0;
            if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
                return -1;
            *p = '/';
        }
    }
    if (mkdir(tmp, 0755) != 0 && errno != EEXIST)
        return -1;
    return 0;
}

int rows_push(bench_rows *rows, const bench_row *row)
{
    if (rows->n == rows->cap) {
        size_t cap = rows->cap ? rows->cap * 2 : 256;
        bench_row *v = realloc(rows->v, cap * sizeof *v);
        if (!v)
            return -1;
        rows->v = v;
        rows->cap = cap;
    }
    rows->v[rows->n++] = *row;
    return 0;
}

/* ---- corpus listing --------------------------------------------------------- */

typedef struct {
    char **v;
    size_t n, cap;
} strlist;

static int sl_push(strlist *l, const char *s)
{
    if (l->n == l->cap) {
        size_t cap = l->cap ? l->cap * 2 : 32;
        char **v = realloc(l->v, cap * sizeof *v);
        if (!v)
            return -1;
        l->v = v;
        l->cap = cap;
    }
    l->v[l->n] = strdup(s);
    return l->v[l->n++] ? 0 : -1;
}

static void sl_free(strlist *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->v[i]);
    free(l->v);
    l->v = NULL;
    l->n = l->cap = 0;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static int image_ext(const char *name)
{
    static const char *const ext[] = {".png", ".jpg", ".jpeg", ".ppm", ".pgm", ".pnm", ".pam"};
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    for (size_t i = 0; i < sizeof ext / sizeof ext[0]; i++) {
        const char *a = dot, *b = ext[i];
        while (*a && *b && (*a | 32) == *b) {
            a++;
            b++;
        }
        if (!*a && !*b)
            return 1;
    }
    return 0;
}

/* Adds a file, or the image files of a directory (sorted, not recursive). */
static int add_path(strlist *l, const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0) {
        fprintf(stderr, "aebench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    if (!S_ISDIR(st.st_mode))
        return sl_push(l, path);
    DIR *d = opendir(path);
    if (!d) {
        fprintf(stderr, "aebench: %s: %s\n", path, strerror(errno));
        return -1;
    }
    size_t first = l->n;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (e->d_name[0] == '.' || !image_ext(e->d_name))
            continue;
        char full[2048];
        snprintf(full, sizeof full, "%s/%s", path, e->d_name);
        if (stat(full, &st) == 0 && S_ISREG(st.st_mode) && sl_push(l, full)) {
            closedir(d);
            return -1;
        }
    }
    closedir(d);
    qsort(l->v + first, l->n - first, sizeof *l->v, cmp_str);
    return 0;
}

static const char *base_name(const char *p)
{
    const char *s = strrchr(p, '/');
    return s ? s + 1 : p;
}

/* ---- options ------------------------------------------------------------------ */

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aebench [options] PATH...       rate-distortion bench (PATH: images or "
            "directories of them)\n"
            "       aebench --speed [options]       speed, memory and FMA-peak bench\n"
            "\n"
            "       aebench --from-csv ROWS.csv [options]  outputs again from a run's rows\n"
            "       aebench --print-json FILE       check a CompressAI JSON file, print it\n"
            "       aebench --rate-search [options] PATH...  target size/PSNR search\n"
            "\n"
            "RD bench options:\n"
            "  -o, --out DIR        output directory (default build/bench)\n"
            "  --codecs LIST        comma-separated: aecodec,jpeg,webp,jxl,avif (default: all;\n"
            "                       webp/jxl/avif only where their tools are installed)\n"
            "  --levels LIST        aecodec quality levels (default: all of them)\n"
            "  --jpeg-q LIST        JPEG qualities (default 2,3,4,5,10,...,95,97)\n"
            "  --max-images N       use the first N images only\n"
            "  --no-single-thread   skip the 1-thread timing pass of aecodec\n"
            "  --no-msssim          skip MS-SSIM (faster)\n"
            "  --anchors DIR        also draw and compare the curves of DIR/*.json\n"
            "                       (CompressAI's result files, e.g. bench/anchors)\n"
            "  --linear-bpp         plots with a linear bpp axis (default: log)\n"
            "  --from-csv FILE      no coding: plots, summary and JSON from FILE (rows.csv)\n"
            "\n"
            "Rate-search options (aebench --rate-search --help for all):\n"
            "  --bpp LIST           target sizes in bits per pixel (default 0.25,0.5)\n"
            "  --psnr LIST          target PSNRs in dB (default 32,36)\n"
            "\n"
            "Speed options:\n"
            "  -o, --out DIR        output directory (default build/bench)\n"
            "  --small WxH          small image (default 768x512)\n"
            "  --large WxH          large image (default 6000x4000)\n"
            "  --no-large           skip the large image\n"
            "  --runs-small N       runs for the median (default 5)\n"
            "  --runs-large N       runs for the median (default 2)\n"
            "  --quality Q          quality level (default: the library's default)\n"
            "\n"
            "Both:\n"
            "  --model FILE         model file instead of the built-in models\n"
            "  --tile N             tile size (default: the library's)\n"
            "  --lambda X           aecodec RD trade-off of the index choice (RD bench;\n"
            "                       default: the library's, 0 = nearest codes)\n"
            "  --effort N           aecodec encoder effort 0..%d (RD bench; default 0)\n",
            AEC_EFFORT_MAX);
}

int bench_parse_list(const char *s, double *out, int max)
{
    int n = 0;
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s || n == max)
            return -1;
        out[n++] = v;
        s = end;
        if (*s == ',')
            s++;
        else if (*s)
            return -1;
    }
    return n;
}

static int parse_wxh(const char *s, uint32_t *w, uint32_t *h)
{
    unsigned a, b;
    char x;
    if (sscanf(s, "%u%c%u", &a, &x, &b) != 3 || (x != 'x' && x != 'X') || !a || !b)
        return -1;
    *w = a;
    *h = b;
    return 0;
}

static const char *opt_value(int argc, char **argv, int *i, const char *name)
{
    size_t n = strlen(name);
    if (strncmp(argv[*i], name, n) == 0 && argv[*i][n] == '=')
        return argv[*i] + n + 1;
    if (strcmp(argv[*i], name) == 0) {
        if (*i + 1 >= argc) {
            fprintf(stderr, "aebench: %s needs a value\n", name);
            exit(2);
        }
        return argv[++*i];
    }
    return NULL;
}

/* ---- RD bench ------------------------------------------------------------------ */

/* Progress over all (image, codec, setting) jobs, for the ETA. */
static struct {
    int done, total;
    double t0;
} progress;

/* "[12/96] ... ETA 1m20s": the job count and the time left at the mean
 * pace so far. */
static void progress_prefix(char *buf, size_t len)
{
    snprintf(buf, len, "[%d/%d]", progress.done + 1, progress.total);
}

static void progress_eta(char *buf, size_t len)
{
    double elapsed = (now_ms() - progress.t0) / 1e3;
    if (progress.done < 1 || progress.total <= progress.done) {
        snprintf(buf, len, "%s", progress.total <= progress.done ? "done" : "ETA -");
        return;
    }
    long left = lround(elapsed / progress.done * (progress.total - progress.done));
    if (left >= 3600)
        snprintf(buf, len, "ETA %ldh%02ldm", left / 3600, left / 60 % 60);
    else if (left >= 60)
        snprintf(buf, len, "ETA %ldm%02lds", left / 60, left % 60);
    else
        snprintf(buf, len, "ETA %lds", left);
}

/* A job that failed still counts as done. */
static void progress_fail(const char *codec, const char *setting, const char *image,
                          const char *err)
{
    char pre[32], eta[32];
    progress_prefix(pre, sizeof pre);
    progress.done++;
    progress_eta(eta, sizeof eta);
    fprintf(stderr, "%s %s %s %s: FAILED: %s  %s\n", pre, codec, setting, image, err, eta);
}

enum { C_OURS, C_JPEG, C_WEBP, C_JXL, C_AVIF, C_COUNT };
static const char *const codec_names[C_COUNT] = {"aecodec", "jpeg", "webp", "jxl", "avif"};

static void record(bench_rows *rows, const char *codec, const bench_image *img,
                   const char *setting, double value, const bench_result *res, int do_msssim)
{
    bench_row r;
    memset(&r, 0, sizeof r);
    snprintf(r.codec, sizeof r.codec, "%s", codec);
    snprintf(r.image, sizeof r.image, "%s", img->name);
    snprintf(r.setting, sizeof r.setting, "%s", setting);
    r.value = value;
    r.width = img->w;
    r.height = img->h;
    r.bytes = res->bytes;
    r.bpp = 8.0 * (double)res->bytes / ((double)img->w * img->h);
    r.psnr = aem_psnr(img->rgb, res->decoded, img->w, img->h, 3);
    r.msssim = do_msssim ? aem_msssim(img->rgb, res->decoded, img->w, img->h, 3) : NAN;
    r.enc_ms = res->enc_ms;
    r.dec_ms = res->dec_ms;
    r.enc_ms_1t = r.dec_ms_1t = -1;
    char ms[40] = "";
    if (do_msssim)
        snprintf(ms, sizeof ms, ", MS-SSIM %.4f", r.msssim);
    char pre[32], eta[32];
    progress_prefix(pre, sizeof pre);
    progress.done++;
    progress_eta(eta, sizeof eta);
    fprintf(stderr, "%s %s %s %s: %.4f bpp, %.2f dB%s, enc %.1f ms, dec %.1f ms  %s\n", pre,
            codec, setting, img->name, r.bpp, r.psnr, ms, r.enc_ms, r.dec_ms, eta);
    rows_push(rows, &r);
}

/* The names of the built-in models the built-in levels code with, in level
 * order (the library also carries older models for decoding only). */
static void builtin_models_used(char *names, size_t cap)
{
    names[0] = 0;
    aec_encoder *enc = NULL;
    int levels = aec_encoder_create(&enc, NULL) == AEC_OK ? aec_encoder_levels(enc) : 0;
    aec_encoder_destroy(enc);
    const aec_model *seen[16];
    int n_seen = 0;
    for (int q = 1; q <= levels; q++) {
        const aec_model *m = builtin_model_of_level(q);
        int known = 0;
        for (int i = 0; i < n_seen; i++)
            known |= seen[i] == m;
        if (known || n_seen == 16)
            continue;
        seen[n_seen++] = m;
        size_t l = strlen(names);
        snprintf(names + l, cap - l, "%s%s", l ? " + " : "", aec_model_name(m));
    }
}

/* The outputs of a run (or of --from-csv): rows.csv, the plots, one
 * CompressAI JSON file per codec, summary.md (also on stdout). */
static int write_outputs(const char *out_dir, const bench_rows *rows, const bench_meta *meta,
                         int write_csv)
{
    char path[1200];
    int rc = 0;
    if (write_csv) {
        snprintf(path, sizeof path, "%s/rows.csv", out_dir);
        if (write_rows_csv(path, rows)) {
            fprintf(stderr, "aebench: cannot write %s\n", path);
            rc = 1;
        }
    }
    snprintf(path, sizeof path, "%s/rd-psnr.svg", out_dir);
    if (write_svg(path, rows, meta, 0)) {
        fprintf(stderr, "aebench: cannot write %s\n", path);
        rc = 1;
    }
    if (meta->msssim) {
        snprintf(path, sizeof path, "%s/rd-msssim.svg", out_dir);
        if (write_svg(path, rows, meta, 1)) {
            fprintf(stderr, "aebench: cannot write %s\n", path);
            rc = 1;
        }
    }
    int n_json = 0;
    if (write_codec_json(out_dir, rows, meta, &n_json))
        rc = 1;
    char *text = NULL;
    snprintf(path, sizeof path, "%s/summary.md", out_dir);
    if (write_summary(path, rows, meta, &text)) {
        fprintf(stderr, "aebench: cannot write %s\n", path);
        rc = 1;
    }
    if (text)
        fputs(text, stdout);
    free(text);
    fprintf(stderr,
            "wrote %s/{%ssummary.md,rd-psnr.svg%s} and %d CODEC.json (CompressAI's schema)\n",
            out_dir, write_csv ? "rows.csv," : "", meta->msssim ? ",rd-msssim.svg" : "", n_json);
    return rc;
}

/* --from-csv: the outputs again from an earlier run's rows, no coding. */
static int replot(const char *csv, const char *out_dir, bench_meta *meta)
{
    bench_rows rows = {0};
    char err[600];
    if (read_rows_csv(csv, &rows, err, sizeof err)) {
        fprintf(stderr, "aebench: %s\n", err);
        free(rows.v);
        return 1;
    }
    static char corpus[1100];
    snprintf(corpus, sizeof corpus, "the images of %s", csv);
    meta->corpus = corpus;
    meta->model_name = "(that of the CSV's run)";
    snprintf(meta->cpu, sizeof meta->cpu, "the machine of the CSV's run (not recorded)");
    snprintf(meta->versions, sizeof meta->versions,
             "- re-plotted from %s without coding again; the CSV has no 1-thread times and no "
             "tool versions\n",
             csv);
    meta->msssim = 0;
    for (size_t i = 0; i < rows.n; i++) {
        meta->msssim |= isfinite(rows.v[i].msssim);
        int seen = 0;
        for (size_t j = 0; j < i && !seen; j++)
            seen = strcmp(rows.v[j].image, rows.v[i].image) == 0;
        if (!seen) {
            meta->n_images++;
            meta->megapixels += (double)rows.v[i].width * rows.v[i].height / 1e6;
        }
    }
    int rc = 1;
    if (mkdir_p(out_dir))
        fprintf(stderr, "aebench: cannot create %s\n", out_dir);
    else
        rc = write_outputs(out_dir, &rows, meta, 0);
    free(rows.v);
    return rc;
}

/* --print-json: reads a CompressAI JSON file strictly and prints its values
 * (%.17g, so a file this bench wrote prints exactly what it holds). */
static int print_json(const char *path)
{
    rd_curve c;
    char err[600];
    if (json_read_curve(path, &c, err, sizeof err)) {
        fprintf(stderr, "aebench: %s\n", err);
        return 1;
    }
    printf("name: %s\ndescription: %s\npoints: %d\n", c.name, c.description, c.n);
    printf("bpp,psnr,ms-ssim,encoding_time,decoding_time\n");
    for (int i = 0; i < c.n; i++)
        printf("%.17g,%.17g,%.17g,%.17g,%.17g\n", c.bpp[i], c.psnr[i], c.msssim[i], c.enc_s[i],
               c.dec_s[i]);
    return 0;
}

static int rd_main(int argc, char **argv)
{
    const char *out_dir = "build/bench";
    const char *model_path = NULL, *anchor_dir = NULL, *from_csv = NULL;
    int linear_bpp = 0;
    double levels[64], jpeg_q[128];
    int n_levels = 0, n_jpeg = 0, max_images = 0, single_thread = 1, do_msssim = 1, tile = 0;
    double lambda = -1;
    int effort = 0;
    int want[C_COUNT] = {1, 1, 1, 1, 1};
    strlist paths = {0};

    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if ((v = opt_value(argc, argv, &i, "--out")) || (v = opt_value(argc, argv, &i, "-o"))) {
            out_dir = v;
        } else if ((v = opt_value(argc, argv, &i, "--model"))) {
            model_path = v;
        } else if ((v = opt_value(argc, argv, &i, "--codecs"))) {
            for (int c = 0; c < C_COUNT; c++)
                want[c] = 0;
            char buf[256];
            snprintf(buf, sizeof buf, "%s", v);
            for (char *t = strtok(buf, ","); t; t = strtok(NULL, ",")) {
                int c = 0;
                while (c < C_COUNT && strcmp(t, codec_names[c]))
                    c++;
                if (c == C_COUNT) {
                    fprintf(stderr, "aebench: unknown codec '%s'\n", t);
                    return 2;
                }
                want[c] = 1;
            }
        } else if ((v = opt_value(argc, argv, &i, "--levels"))) {
            if ((n_levels = bench_parse_list(v, levels, 64)) <= 0) {
                fprintf(stderr, "aebench: bad --levels\n");
                return 2;
            }
        } else if ((v = opt_value(argc, argv, &i, "--jpeg-q"))) {
            if ((n_jpeg = bench_parse_list(v, jpeg_q, 128)) <= 0) {
                fprintf(stderr, "aebench: bad --jpeg-q\n");
                return 2;
            }
        } else if ((v = opt_value(argc, argv, &i, "--max-images"))) {
            max_images = atoi(v);
        } else if ((v = opt_value(argc, argv, &i, "--tile"))) {
            tile = atoi(v);
        } else if ((v = opt_value(argc, argv, &i, "--lambda"))) {
            lambda = atof(v);
        } else if ((v = opt_value(argc, argv, &i, "--effort"))) {
            effort = atoi(v);
        } else if (!strcmp(argv[i], "--no-single-thread")) {
            single_thread = 0;
        } else if (!strcmp(argv[i], "--no-msssim")) {
            do_msssim = 0;
        } else if ((v = opt_value(argc, argv, &i, "--anchors"))) {
            anchor_dir = v;
        } else if ((v = opt_value(argc, argv, &i, "--from-csv"))) {
            from_csv = v;
        } else if ((v = opt_value(argc, argv, &i, "--print-json"))) {
            return print_json(v);
        } else if (!strcmp(argv[i], "--linear-bpp")) {
            linear_bpp = 1;
        } else if (argv[i][0] == '-' && argv[i][1]) {
            fprintf(stderr, "aebench: unknown option %s (see --help)\n", argv[i]);
            return 2;
        } else if (add_path(&paths, argv[i])) {
            return 1;
        }
    }
    /* anchors first: a bad file stops the run before hours of coding */
    rd_curve *anchors = NULL;
    int n_anchors = 0;
    if (anchor_dir) {
        char aerr[600];
        if (read_anchor_dir(anchor_dir, &anchors, &n_anchors, aerr, sizeof aerr)) {
            fprintf(stderr, "aebench: %s\n", aerr);
            sl_free(&paths);
            return 1;
        }
    }
    bench_meta meta;
    memset(&meta, 0, sizeof meta);
    meta.anchors = anchors;
    meta.n_anchors = n_anchors;
    meta.linear_bpp = linear_bpp;
    if (from_csv) {
        int rc = replot(from_csv, out_dir, &meta);
        free(anchors);
        sl_free(&paths);
        return rc;
    }
    if (paths.n == 0) {
        fprintf(stderr, "aebench: no images given (see --help)\n");
        return 2;
    }
    if (max_images > 0 && paths.n > (size_t)max_images)
        paths.n = (size_t)max_images; /* the rest leak until exit */

    const aec_model *model = NULL; /* the built-in models */
    aec_model *loaded = NULL;
    if (model_path) {
        aec_status st = aec_model_load_file(&loaded, model_path);
        if (st != AEC_OK) {
            fprintf(stderr, "aebench: %s: %s\n", model_path, aec_status_string(st));
            return 1;
        }
        model = loaded;
    }
    if (n_levels == 0) {
        aec_encoder *probe = NULL;
        int s = aec_encoder_create(&probe, model) == AEC_OK ? aec_encoder_levels(probe) : 0;
        aec_encoder_destroy(probe);
        for (int q = 1; q <= s && q <= 64; q++)
            levels[n_levels++] = q;
    }
    if (n_jpeg == 0) {
        static const int dq[] = {2, 3, 4, 5, 10, 15, 20, 25, 30, 35, 40, 45,
                                 50, 55, 60, 65, 70, 75, 80, 85, 90, 95, 97};
        for (size_t i = 0; i < sizeof dq / sizeof dq[0]; i++)
            jpeg_q[n_jpeg++] = dq[i];
    }

    static char corpus[1024];
    for (int i = 1; i < argc; i++) {
        /* the positional arguments (skipping option values) */
        if (argv[i][0] == '-') {
            if (strchr(argv[i], '=') == NULL && strcmp(argv[i], "--no-single-thread") &&
                strcmp(argv[i], "--no-msssim") && strcmp(argv[i], "--linear-bpp"))
                i++;
            continue;
        }
        size_t l = strlen(corpus);
        snprintf(corpus + l, sizeof corpus - l, "%s%s", l ? " " : "", argv[i]);
    }
    meta.corpus = corpus;
    static char model_names[256];
    if (model)
        snprintf(model_names, sizeof model_names, "%s", aec_model_name(model));
    else
        builtin_models_used(model_names, sizeof model_names);
    meta.model_name = model_names;
    meta.threads_all = omp_get_max_threads();
    meta.msssim = do_msssim;
    cpu_model(meta.cpu, sizeof meta.cpu);
    {
        size_t o = 0;
        o += (size_t)snprintf(meta.versions + o, sizeof meta.versions - o,
                              "- aecodec: libcodec %s, encoder effort %d\n- jpeg: %s, 4:2:0, "
                              "optimize_coding, islow DCT (as cjpeg -optimize)\n",
                              aec_version_string(), effort, jpeg_version());
        for (int p = 0; p < PEER_COUNT; p++) {
            int c = C_WEBP + p;
            if (!want[c])
                continue;
            if (!peer_available((peer_id)p)) {
                want[c] = 0;
                size_t l = strlen(meta.skipped);
                snprintf(meta.skipped + l, sizeof meta.skipped - l,
                         "- %s: skipped, %s not installed\n", peer_name((peer_id)p),
                         peer_tools((peer_id)p));
                fprintf(stderr, "aebench: %s skipped: %s not installed\n", peer_name((peer_id)p),
                        peer_tools((peer_id)p));
                continue;
            }
            char ver[200];
            peer_version((peer_id)p, ver, sizeof ver);
            if (o < sizeof meta.versions)
                o += (size_t)snprintf(meta.versions + o, sizeof meta.versions - o,
                                      "- %s: %s (%s)\n", peer_name((peer_id)p), ver,
                                      peer_options((peer_id)p));
        }
    }
    if (mkdir_p(out_dir)) {
        fprintf(stderr, "aebench: cannot create %s\n", out_dir);
        return 1;
    }
    char workdir[1100] = "";
    if (want[C_WEBP] || want[C_JXL] || want[C_AVIF]) {
        const char *tmp = getenv("TMPDIR");
        snprintf(workdir, sizeof workdir, "%s/aebench.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(workdir)) {
            fprintf(stderr, "aebench: cannot create a temporary directory: %s\n",
                    strerror(errno));
            return 1;
        }
        /* on a signal: its files, then the directory */
        char wfile[1200];
        snprintf(wfile, sizeof wfile, "%s/input.png", workdir);
        (void)aeio_cleanup_add(wfile);
        snprintf(wfile, sizeof wfile, "%s/tool.log", workdir);
        (void)aeio_cleanup_add(wfile);
        peer_cleanup_on_signal(workdir);
        (void)aeio_cleanup_add_dir(workdir);
    }

    ours_ctx ours;
    char err[512];
    if (want[C_OURS] && ours_open(&ours, model, tile, err, sizeof err)) {
        fprintf(stderr, "aebench: %s\n", err);
        return 1;
    }
    if (want[C_OURS])
        ours.lambda = (float)lambda, ours.effort = effort;

    bench_rows rows = {0};
    int failures = 0, total = (int)paths.n;
    /* jobs per image, for the progress count and the ETA */
    int per_image = (want[C_OURS] ? n_levels : 0) + (want[C_JPEG] ? n_jpeg : 0);
    for (int p = 0; p < PEER_COUNT; p++)
        if (want[C_WEBP + p]) {
            bench_setting st[64];
            per_image += peer_settings((peer_id)p, st, 64);
        }
    progress.done = 0;
    progress.total = per_image * total;
    progress.t0 = now_ms();
    for (int ii = 0; ii < total; ii++) {
        const char *path = paths.v[ii];
        aeio_image im;
        char ierr[512];
        if (aeio_read(path, &im, 0, ierr, sizeof ierr)) {
            fprintf(stderr, "aebench: %s\n", ierr);
            failures++;
            progress.total -= per_image;
            continue;
        }
        if (im.channels != 3) {
            aeio_image rgb;
            if (aeio_convert(&im, 3, &rgb, ierr, sizeof ierr)) {
                fprintf(stderr, "aebench: %s: %s\n", path, ierr);
                aeio_free(&im);
                failures++;
                progress.total -= per_image;
                continue;
            }
            fprintf(stderr, "aebench: %s: %d channels, benched as RGB%s\n", path, im.channels,
                    (im.channels == 2 || im.channels == 4) ? " (alpha dropped)" : "");
            aeio_free(&im);
            im = rgb;
        }
        bench_image img = {im.width, im.height, im.pixels, base_name(path)};
        meta.n_images++;
        meta.megapixels += (double)im.width * im.height / 1e6;
        bench_result res;
        char setting[24];

        if (want[C_OURS]) {
            for (int l = 0; l < n_levels; l++) {
                int q = (int)levels[l];
                snprintf(setting, sizeof setting, "q=%d", q);
                if (ours_run(&ours, &img, q, 0, &res, err, sizeof err)) {
                    progress_fail("aecodec", setting, img.name, err);
                    failures++;
                    continue;
                }
                record(&rows, "aecodec", &img, setting, q, &res, do_msssim);
                if (single_thread) {
                    bench_result r1;
                    if (ours_run(&ours, &img, q, 1, &r1, err, sizeof err)) {
                        fprintf(stderr, "[%d/%d] aecodec %s %s 1 thread: FAILED: %s\n",
                                progress.done, progress.total, setting, img.name, err);
                        failures++;
                    } else {
                        bench_row *last = &rows.v[rows.n - 1];
                        last->enc_ms_1t = r1.enc_ms;
                        last->dec_ms_1t = r1.dec_ms;
                        fprintf(stderr,
                                "[%d/%d] aecodec %s %s 1 thread: enc %.1f ms, dec %.1f ms\n",
                                progress.done, progress.total, setting, img.name, r1.enc_ms,
                                r1.dec_ms);
                        if (r1.bytes != res.bytes ||
                            memcmp(r1.decoded, res.decoded, (size_t)img.w * img.h * 3) != 0) {
                            fprintf(stderr, "aebench: WARNING: %s %s: 1 thread and %d threads "
                                            "give different %s\n",
                                    img.name, setting, meta.threads_all,
                                    r1.bytes != res.bytes ? "files" : "decoded pixels");
                            failures++;
                        }
                        free(r1.decoded);
                    }
                }
                free(res.decoded);
            }
        }
        if (want[C_JPEG]) {
            for (int k = 0; k < n_jpeg; k++) {
                int q = (int)jpeg_q[k];
                snprintf(setting, sizeof setting, "q=%d", q);
                if (jpeg_run(&img, q, &res, err, sizeof err)) {
                    progress_fail("jpeg", setting, img.name, err);
                    failures++;
                    continue;
                }
                record(&rows, "jpeg", &img, setting, q, &res, do_msssim);
                free(res.decoded);
            }
        }
        if (workdir[0]) {
            char png[1200];
            snprintf(png, sizeof png, "%s/input.png", workdir);
            aeio_write_options wo;
            aeio_write_options_default(&wo);
            wo.png_level = 1;
            if (aeio_write_ex(png, &im, &wo, ierr, sizeof ierr)) {
                fprintf(stderr, "aebench: %s\n", ierr);
                failures++;
                /* the peers' jobs of this image will not run */
                progress.total -= per_image - (want[C_OURS] ? n_levels : 0) -
                                  (want[C_JPEG] ? n_jpeg : 0);
            } else {
                for (int p = 0; p < PEER_COUNT; p++) {
                    if (!want[C_WEBP + p])
                        continue;
                    bench_setting st[64];
                    int ns = peer_settings((peer_id)p, st, 64);
                    for (int k = 0; k < ns; k++) {
                        if (peer_run((peer_id)p, &img, png, workdir, &st[k], &res, err,
                                     sizeof err)) {
                            progress_fail(peer_name((peer_id)p), st[k].setting, img.name, err);
                            failures++;
                            continue;
                        }
                        record(&rows, peer_name((peer_id)p), &img, st[k].setting, st[k].value,
                               &res, do_msssim);
                        free(res.decoded);
                    }
                }
                remove(png);
            }
        }
        /* the image name points into paths.v, which lives on */
        aeio_free(&im);
    }
    if (want[C_OURS])
        ours_close(&ours);
    if (workdir[0]) {
        char log[1200];
        snprintf(log, sizeof log, "%s/tool.log", workdir);
        remove(log);
        rmdir(workdir);
    }

    int rc = write_outputs(out_dir, &rows, &meta, 1);
    if (failures) {
        fprintf(stderr, "aebench: %d failures (see above)\n", failures);
        rc = 1;
    }
    if (meta.n_images == 0) {
        fprintf(stderr, "aebench: no image could be read\n");
        rc = 1;
    }
    free(rows.v);
    for (size_t i = 0; i < paths.cap && i < paths.n; i++)
        free(paths.v[i]);
    free(paths.v);
    if (loaded)
        aec_model_free(loaded);
    free(anchors);
    return rc;
}

static int speed_cli(int argc, char **argv)
{
    speed_opts o;
    memset(&o, 0, sizeof o);
    o.out_dir = "build/bench";
    o.small_w = 768;
    o.small_h = 512;
    o.large_w = 6000;
    o.large_h = 4000;
    o.runs_small = 5;
    o.runs_large = 2;
    for (int i = 1; i < argc; i++) {
        const char *v;
        if (!strcmp(argv[i], "--speed"))
            continue;
        if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
            usage(stdout);
            return 0;
        } else if ((v = opt_value(argc, argv, &i, "--out")) || (v = opt_value(argc, argv, &i, "-o"))) {
            o.out_dir = v;
        } else if ((v = opt_value(argc, argv, &i, "--model"))) {
            o.model_path = v;
        } else if ((v = opt_value(argc, argv, &i, "--small"))) {
            if (parse_wxh(v, &o.small_w, &o.small_h)) {
                fprintf(stderr, "aebench: bad --small\n");
                return 2;
            }
        } else if ((v = opt_value(argc, argv, &i, "--large"))) {
            if (parse_wxh(v, &o.large_w, &o.large_h)) {
                fprintf(stderr, "aebench: bad --large\n");
                return 2;
            }
        } else if (!strcmp(argv[i], "--no-large")) {
            o.skip_large = 1;
        } else if ((v = opt_value(argc, argv, &i, "--runs-small"))) {
            o.runs_small = atoi(v);
        } else if ((v = opt_value(argc, argv, &i, "--runs-large"))) {
            o.runs_large = atoi(v);
        } else if ((v = opt_value(argc, argv, &i, "--quality"))) {
            o.quality = atoi(v);
        } else if ((v = opt_value(argc, argv, &i, "--tile"))) {
            o.tile_size = atoi(v);
        } else {
            fprintf(stderr, "aebench: unknown argument %s (see --help)\n", argv[i]);
            return 2;
        }
    }
    if (o.runs_small < 1)
        o.runs_small = 1;
    if (o.runs_large < 1)
        o.runs_large = 1;
    return speed_main(&o);
}

int main(int argc, char **argv)
{
    aeio_cleanup_install(); /* Ctrl-C leaves no working or partial file */
    for (int i = 1; i < argc; i++) {
        if (!strcmp(argv[i], "--speed"))
            return speed_cli(argc, argv);
        if (!strcmp(argv[i], "--rate-search"))
            return ratecheck_main(argc, argv);
    }
    return rd_main(argc, argv);
}
