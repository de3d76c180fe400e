/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * report.c - aebench's outputs: the rows CSV, the summary Markdown (BD-rate
 * against libjpeg-turbo, PSNR at fixed rates, speed) and SVG RD plots.
 */
#include "bench.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"
#include "common/metrics.h"

#define MAX_CODECS 16
#define MAX_POINTS RD_MAX_POINTS

/* Curve of one codec: per setting, the mean over images. */
typedef struct {
    char codec[80];
    int n;
    char setting[MAX_POINTS][24];
    double value[MAX_POINTS];
    int count[MAX_POINTS];
    double bytes[MAX_POINTS], bpp[MAX_POINTS], psnr[MAX_POINTS], msssim[MAX_POINTS];
    double enc_ms[MAX_POINTS], dec_ms[MAX_POINTS];
    int images;  /* images that have rows of this codec */
    int dropped; /* settings dropped: not measured on every image */
    const char *anchor; /* an anchor file's curve: how to mark it; else NULL */
} curve;

/* How an anchor is marked: curves this bench wrote say "aebench" first in
 * their description; any other file is a published result on a corpus of
 * its own (CompressAI's are on Kodak). */
static const char *anchor_mark(const rd_curve *a)
{
    return strncmp(a->description, "aebench", 7) == 0 ? "anchor (earlier aebench run)"
                                                       : "anchor (published, other corpus)";
}

/* Appends the anchors after the measured curves, points sorted by rate. */
static int add_anchors(curve *cv, int nc, int max, const bench_meta *meta)
{
    for (int a = 0; a < meta->n_anchors && nc < max; a++) {
        const rd_curve *r = &meta->anchors[a];
        curve *k = &cv[nc++];
        memset(k, 0, sizeof *k);
        snprintf(k->codec, sizeof k->codec, "%s", r->name);
        k->anchor = anchor_mark(r);
        k->n = r->n < MAX_POINTS ? r->n : MAX_POINTS;
        int idx[MAX_POINTS];
        for (int i = 0; i < k->n; i++) {
            int j = i;
            for (; j > 0 && r->bpp[idx[j - 1]] > r->bpp[i]; j--)
                idx[j] = idx[j - 1];
            idx[j] = i;
        }
        for (int i = 0; i < k->n; i++) {
            int s = idx[i];
            snprintf(k->setting[i], sizeof k->setting[i], "#%d", s + 1);
            k->value[i] = s + 1;
            k->count[i] = 1;
            k->bytes[i] = NAN;
            k->bpp[i] = r->bpp[s];
            k->psnr[i] = r->psnr[s];
            k->msssim[i] = r->msssim[s];
            k->enc_ms[i] = r->enc_s[s] * 1e3;
            k->dec_ms[i] = r->dec_s[s] * 1e3;
        }
    }
    return nc;
}

static int build_curves(const bench_rows *rows, curve *cv, int max)
{
    int nc = 0;
    for (size_t i = 0; i < rows->n; i++) {
        const bench_row *r = &rows->v[i];
        int c = 0;
        while (c < nc && strcmp(cv[c].codec, r->codec) != 0)
            c++;
        if (c == nc) {
            if (nc == max)
                continue;
            memset(&cv[nc], 0, sizeof cv[nc]);
            snprintf(cv[nc].codec, sizeof cv[nc].codec, "%s", r->codec);
            nc++;
        }
        curve *k = &cv[c];
        int s = 0;
        while (s < k->n && strcmp(k->setting[s], r->setting) != 0)
            s++;
        if (s == k->n) {
            if (k->n == MAX_POINTS)
                continue;
            snprintf(k->setting[s], sizeof k->setting[s], "%s", r->setting);
            k->value[s] = r->value;
            k->n++;
        }
        k->count[s]++;
        k->bytes[s] += (double)r->bytes;
        k->bpp[s] += r->bpp;
        k->psnr[s] += r->psnr;
        k->msssim[s] += r->msssim;
        k->enc_ms[s] += r->enc_ms;
        k->dec_ms[s] += r->dec_ms;
    }
    for (int c = 0; c < nc; c++) {
        curve *k = &cv[c];
        /* images of this codec: distinct image names */
        int images = 0;
        for (size_t i = 0; i < rows->n; i++) {
            if (strcmp(rows->v[i].codec, k->codec) != 0)
                continue;
            int seen = 0;
            for (size_t j = 0; j < i && !seen; j++)
                seen = strcmp(rows->v[j].codec, k->codec) == 0 &&
                       strcmp(rows->v[j].image, rows->v[i].image) == 0;
            images += !seen;
        }
        k->images = images;
        int out = 0;
        for (int s = 0; s < k->n; s++) {
            if (k->count[s] < images) {
                k->dropped++;
                continue;
            }
            double n = k->count[s];
            memmove(k->setting[out], k->setting[s], sizeof k->setting[s]);
            k->value[out] = k->value[s];
            k->count[out] = k->count[s];
            k->bytes[out] = k->bytes[s] / n;
            k->bpp[out] = k->bpp[s] / n;
            k->psnr[out] = k->psnr[s] / n;
            k->msssim[out] = k->msssim[s] / n;
            k->enc_ms[out] = k->enc_ms[s] / n;
            k->dec_ms[out] = k->dec_ms[s] / n;
            out++;
        }
        k->n = out;
    }
    return nc;
}

static double msssim_db(double m) { return m >= 1.0 ? NAN : -10.0 * log10(1.0 - m); }

/* ---- CSV ------------------------------------------------------------------ */

int write_rows_csv(const char *path, const bench_rows *rows)
{
    int slot;
    FILE *f = aeio_cleanup_fopen(path, "w", &slot); /* removed if a signal cuts it */
    if (!f)
        return -1;
    fprintf(f, "codec,image,setting,width,height,bytes,bpp,psnr,msssim,enc_ms,dec_ms\n");
    for (size_t i = 0; i < rows->n; i++) {
        const bench_row *r = &rows->v[i];
        /* image names with a comma or quote are quoted (RFC 4180) */
        char name[300];
        if (strpbrk(r->image, ",\"\n")) {
            size_t o = 0;
            name[o++] = '"';
            for (const char *p = r->image; *p && o < sizeof name - 3; p++) {
                if (*p == '"')
                    name[o++] = '"';
                name[o++] = *p;
            }
            name[o++] = '"';
            name[o] = 0;
        } else {
            snprintf(name, sizeof name, "%s", r->image);
        }
        char ms[32] = ""; /* empty when not computed */
        if (!isnan(r->msssim))
            snprintf(ms, sizeof ms, "%.6f", r->msssim);
        fprintf(f, "%s,%s,%s,%u,%u,%llu,%.6f,%.4f,%s,%.3f,%.3f\n", r->codec, name, r->setting,
                r->width, r->height, (unsigned long long)r->bytes, r->bpp, r->psnr, ms, r->enc_ms,
                r->dec_ms);
    }
    return aeio_cleanup_fclose(f, slot) == 0 ? 0 : -1;
}

/* ---- summary ---------------------------------------------------------------- */

typedef struct {
    char *buf;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(NULL, 0, fmt, ap);
    va_end(ap);
    if (n < 0)
        return;
    if (s->len + (size_t)n + 1 > s->cap) {
        size_t cap = (s->cap ? s->cap * 2 : 4096);
        while (cap < s->len + (size_t)n + 1)
            cap *= 2;
        char *b = realloc(s->buf, cap);
        if (!b)
            return;
        s->buf = b;
        s->cap = cap;
    }
    va_start(ap, fmt);
    vsnprintf(s->buf + s->len, s->cap - s->len, fmt, ap);
    va_end(ap);
    s->len += (size_t)n;
}

static void fmt_num(char *buf, size_t len, double v, const char *fmt)
{
    if (isnan(v))
        snprintf(buf, len, "-");
    else
        snprintf(buf, len, fmt, v);
}

static const curve *find_curve(const curve *cv, int nc, const char *codec)
{
    for (int c = 0; c < nc; c++)
        if (!cv[c].anchor && strcmp(cv[c].codec, codec) == 0)
            return &cv[c];
    return NULL;
}

/* Median of a per-row quantity over the rows of a codec. which: 0 enc_ms,
 * 1 dec_ms, 2 enc MP/s, 3 dec MP/s; one_thread selects the 1-thread times. */
static double row_median(const bench_rows *rows, const char *codec, int which, int one_thread)
{
    double *v = malloc((rows->n + 1) * sizeof(double));
    if (!v)
        return NAN;
    size_t n = 0;
    for (size_t i = 0; i < rows->n; i++) {
        const bench_row *r = &rows->v[i];
        if (strcmp(r->codec, codec) != 0)
            continue;
        double enc = one_thread ? r->enc_ms_1t : r->enc_ms;
        double dec = one_thread ? r->dec_ms_1t : r->dec_ms;
        double t = (which == 0 || which == 2) ? enc : dec;
        if (!(t >= 0))
            continue;
        double mp = (double)r->width * r->height / 1e6;
        v[n++] = which < 2 ? t : (t > 0 ? mp / (t / 1000.0) : NAN);
    }
    double m = median(v, n);
    free(v);
    return m;
}

int write_summary(const char *path, const bench_rows *rows, const bench_meta *meta, char **text)
{
    static const double targets[] = {0.125, 0.25, 0.5, 0.75, 1.0};
    enum { NT = sizeof targets / sizeof targets[0] };
    curve *cv = malloc(MAX_CODECS * sizeof(curve));
    if (!cv)
        return -1;
    int nc = add_anchors(cv, build_curves(rows, cv, MAX_CODECS), MAX_CODECS, meta);
    const curve *anchor = find_curve(cv, nc, "jpeg");
    if (anchor && anchor->anchor)
        anchor = NULL; /* the reference is the measured libjpeg-turbo only */
    sbuf s = {0};
    char a[32], b[32], c[32], d[32];

    sb_printf(&s, "# aecodec rate-distortion bench\n\n");
    sb_printf(&s, "- corpus: `%s`, %d images, %.2f Mpixel in all\n", meta->corpus,
              meta->n_images, meta->megapixels);
    sb_printf(&s, "- model: %s\n", meta->model_name ? meta->model_name : "-");
    sb_printf(&s, "- machine: %s; \"all threads\" = %d\n", meta->cpu, meta->threads_all);
    sb_printf(&s, "%s", meta->versions);
    if (meta->skipped[0])
        sb_printf(&s, "%s", meta->skipped);
    sb_printf(&s,
              "- PSNR: RGB PSNR per image, 10 log10(255^2/MSE) with the MSE over all pixels "
              "and the three channels, averaged over the images for each setting "
              "(CompressAI's convention); bpp = 8 * file bytes / pixels, averaged the same "
              "way.\n");
    if (meta->msssim)
        sb_printf(&s, "- MS-SSIM: per channel (R, G, B) and averaged; 5 scales, 11x11 Gaussian "
                      "window (sigma 1.5), standard weights; fewer scales for images under "
                      "176 pixels (tools/common/metrics.h). MS-SSIM dB = -10 log10(1 - "
                      "MS-SSIM).\n");
    sb_printf(&s, "- BD-rate: Bjontegaard delta rate against libjpeg-turbo on the averaged "
                  "curves: log(bpp) as a PCHIP function of the quality, integrated over the "
                  "quality range both curves cover; negative = fewer bits than JPEG for "
                  "the same quality.\n");
    sb_printf(&s, "- PSNR at a rate: PCHIP interpolation of the averaged curve (PSNR over "
                  "log bpp); \"-\" outside the rates the codec's settings reach.\n");
    for (int a = 0; a < meta->n_anchors; a++)
        sb_printf(&s, "- %s: %s, read from a file: %s\n", meta->anchors[a].name,
                  anchor_mark(&meta->anchors[a]),
                  meta->anchors[a].description[0] ? meta->anchors[a].description : "-");
    if (meta->n_anchors)
        sb_printf(&s, "- an anchor measured on another corpus is not comparable point for point: "
                      "its BD-rate against this corpus's libjpeg-turbo mixes the codecs' "
                      "difference with the corpora's.\n");
    sb_printf(&s, "\n");

    sb_printf(&s, "## Rate-distortion\n\n");
    sb_printf(&s, "| codec | points | bpp range | PSNR range | BD-rate vs JPEG (PSNR) | "
                  "BD-rate vs JPEG (MS-SSIM)");
    for (int t = 0; t < NT; t++)
        sb_printf(&s, " | PSNR @ %g bpp", targets[t]);
    sb_printf(&s, " |\n|---|---:|---|---|---:|---:");
    for (int t = 0; t < NT; t++)
        sb_printf(&s, "|---:");
    sb_printf(&s, "|\n");
    for (int ci = 0; ci < nc; ci++) {
        const curve *k = &cv[ci];
        double lo_b = INFINITY, hi_b = -INFINITY, lo_p = INFINITY, hi_p = -INFINITY;
        for (int i = 0; i < k->n; i++) {
            lo_b = fmin(lo_b, k->bpp[i]);
            hi_b = fmax(hi_b, k->bpp[i]);
            lo_p = fmin(lo_p, k->psnr[i]);
            hi_p = fmax(hi_p, k->psnr[i]);
        }
        double bd = NAN, bdm = NAN;
        if (anchor && k != anchor) {
            bd = aem_bd_rate(anchor->bpp, anchor->psnr, anchor->n, k->bpp, k->psnr, k->n);
            int have_ms = 1;
            for (int i = 0; i < k->n; i++)
                have_ms &= isfinite(k->msssim[i]);
            if (meta->msssim && have_ms) {
                double qa[MAX_POINTS], qk[MAX_POINTS];
                for (int i = 0; i < anchor->n; i++)
                    qa[i] = msssim_db(anchor->msssim[i]);
                for (int i = 0; i < k->n; i++)
                    qk[i] = msssim_db(k->msssim[i]);
                bdm = aem_bd_rate(anchor->bpp, qa, anchor->n, k->bpp, qk, k->n);
            }
        }
        if (k->n)
            snprintf(a, sizeof a, "%.3f-%.3f", lo_b, hi_b);
        else
            snprintf(a, sizeof a, "-");
        if (k->n)
            snprintf(b, sizeof b, "%.2f-%.2f", lo_p, hi_p);
        else
            snprintf(b, sizeof b, "-");
        if (k == anchor) {
            snprintf(c, sizeof c, "0 (reference)");
            snprintf(d, sizeof d, "0 (reference)");
        } else {
            fmt_num(c, sizeof c, bd, "%+.1f%%");
            fmt_num(d, sizeof d, bdm, "%+.1f%%");
        }
        if (k->anchor)
            sb_printf(&s, "| %s, %s | %d | %s | %s | %s | %s", k->codec, k->anchor, k->n, a, b, c,
                      d);
        else
            sb_printf(&s, "| %s | %d | %s | %s | %s | %s", k->codec, k->n, a, b, c, d);
        double lb[MAX_POINTS];
        for (int i = 0; i < k->n; i++)
            lb[i] = log(k->bpp[i]);
        for (int t = 0; t < NT; t++) {
            double v = aem_interp_pchip(lb, k->psnr, k->n, log(targets[t]));
            fmt_num(a, sizeof a, v, "%.2f");
            sb_printf(&s, " | %s", a);
        }
        sb_printf(&s, " |\n");
        if (k->dropped)
            sb_printf(&s, "\n(%s: %d settings left out of the curve: not measured on every "
                          "image)\n\n",
                      k->codec, k->dropped);
    }
    sb_printf(&s, "\n");

    const curve *ours = find_curve(cv, nc, "aecodec");
    if (ours && ours->n > 1) {
        /* The lead at every rate, not only at the five above: PCHIP curves
         * sampled at 400 log-spaced rates from 0.1 to 1 bpp, where both
         * codecs' settings reach. */
        sb_printf(&s, "## aecodec's PSNR lead from 0.1 to 1 bpp\n\n");
        sb_printf(&s, "| against | smallest lead (dB) | at bpp | largest lead (dB) | at bpp | "
                      "rates compared |\n|---|---:|---:|---:|---:|---|\n");
        double lo_ours[MAX_POINTS];
        for (int i = 0; i < ours->n; i++)
            lo_ours[i] = log(ours->bpp[i]);
        for (int c2 = 0; c2 < nc; c2++) {
            const curve *k = &cv[c2];
            if (k == ours || k->n < 2 || k->anchor)
                continue;
            double lk[MAX_POINTS];
            for (int i = 0; i < k->n; i++)
                lk[i] = log(k->bpp[i]);
            double mn = INFINITY, mx = -INFINITY, at_mn = NAN, at_mx = NAN, r0 = NAN, r1 = NAN;
            for (int i = 0; i <= 400; i++) {
                double lr = log(0.1) + (log(1.0) - log(0.1)) * i / 400;
                double d = aem_interp_pchip(lo_ours, ours->psnr, ours->n, lr) -
                           aem_interp_pchip(lk, k->psnr, k->n, lr);
                if (!isfinite(d))
                    continue;
                if (isnan(r0))
                    r0 = exp(lr);
                r1 = exp(lr);
                if (d < mn)
                    mn = d, at_mn = exp(lr);
                if (d > mx)
                    mx = d, at_mx = exp(lr);
            }
            if (isnan(r0))
                continue;
            sb_printf(&s, "| %s | %+.2f | %.3f | %+.2f | %.3f | %.3f-%.3f bpp |\n", k->codec, mn,
                      at_mn, mx, at_mx, r0, r1);
        }
        sb_printf(&s, "\n");
    }
    if (ours) {
        sb_printf(&s, "## aecodec per quality level\n\n");
        sb_printf(&s, "| level | bytes (mean) | bpp | PSNR | MS-SSIM | enc ms (%d thr) | dec ms "
                      "(%d thr) | enc ms (1 thr) | dec ms (1 thr) |\n",
                  meta->threads_all, meta->threads_all);
        sb_printf(&s, "|---|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (int i = 0; i < ours->n; i++) {
            double t[4];
            for (int w = 0; w < 4; w++) {
                double *v = malloc((rows->n + 1) * sizeof(double));
                size_t n = 0;
                for (size_t r = 0; v && r < rows->n; r++) {
                    const bench_row *row = &rows->v[r];
                    if (strcmp(row->codec, "aecodec") || strcmp(row->setting, ours->setting[i]))
                        continue;
                    double x = w == 0 ? row->enc_ms
                               : w == 1 ? row->dec_ms
                               : w == 2 ? row->enc_ms_1t
                                        : row->dec_ms_1t;
                    if (x >= 0)
                        v[n++] = x;
                }
                t[w] = v ? median(v, n) : NAN;
                free(v);
            }
            char t0[24], t1[24], t2[24], t3[24];
            fmt_num(t0, sizeof t0, t[0], "%.1f");
            fmt_num(t1, sizeof t1, t[1], "%.1f");
            fmt_num(t2, sizeof t2, t[2], "%.1f");
            fmt_num(t3, sizeof t3, t[3], "%.1f");
            sb_printf(&s, "| %s | %.0f | %.4f | %.2f | %.4f | %s | %s | %s | %s |\n",
                      ours->setting[i], ours->bytes[i], ours->bpp[i], ours->psnr[i],
                      ours->msssim[i], t0, t1, t2, t3);
        }
        sb_printf(&s, "\n(times: median over the images)\n\n");
    }

    sb_printf(&s, "## Speed\n\nMedians over every image and setting of the codec. MP/s = "
                  "image Mpixel / time, median of the per-row values.\n\n");
    sb_printf(&s, "| codec | threads | enc ms | dec ms | enc MP/s | dec MP/s |\n");
    sb_printf(&s, "|---|---|---:|---:|---:|---:|\n");
    for (int ci = 0; ci < nc; ci++) {
        const curve *k = &cv[ci];
        if (k->anchor)
            continue; /* other machines' times */
        int is_ours = strcmp(k->codec, "aecodec") == 0;
        for (int one = 0; one <= is_ours; one++) {
            double e = row_median(rows, k->codec, 0, one), dd = row_median(rows, k->codec, 1, one);
            if (isnan(e))
                continue;
            double em = row_median(rows, k->codec, 2, one), dm = row_median(rows, k->codec, 3, one);
            char thr[64];
            if (is_ours)
                snprintf(thr, sizeof thr, "%d", one ? 1 : meta->threads_all);
            else if (strcmp(k->codec, "jpeg") == 0)
                snprintf(thr, sizeof thr, "1 (C API, in memory)");
            else
                snprintf(thr, sizeof thr, "tool default (CLI, incl. process + file I/O)");
            char e1[24], e2[24], e3[24], e4[24];
            fmt_num(e1, sizeof e1, e, "%.1f");
            fmt_num(e2, sizeof e2, dd, "%.1f");
            fmt_num(e3, sizeof e3, em, "%.2f");
            fmt_num(e4, sizeof e4, dm, "%.2f");
            sb_printf(&s, "| %s | %s | %s | %s | %s | %s |\n", k->codec, thr, e1, e2, e3, e4);
        }
    }
    sb_printf(&s, "\nFiles: rows.csv (one row per image and setting), rd-psnr.svg%s.\n",
              meta->msssim ? ", rd-msssim.svg" : "");

    free(cv);
    int rc = 0;
    if (path) {
        int slot;
        FILE *f = aeio_cleanup_fopen(path, "w", &slot);
        if (!f || fwrite(s.buf ? s.buf : "", 1, s.len, f) != s.len)
            rc = -1;
        if (f && aeio_cleanup_fclose(f, slot) != 0)
            rc = -1;
    }
    if (text)
        *text = s.buf;
    else
        free(s.buf);
    return rc;
}

/* ---- SVG plot --------------------------------------------------------------- */

static double nice_step(double range, int ticks)
{
    double raw = range / ticks;
    double p = pow(10.0, floor(log10(raw)));
    double f = raw / p;
    double m = f <= 1.0 ? 1.0 : f <= 2.0 ? 2.0 : f <= 2.5 ? 2.5 : f <= 5.0 ? 5.0 : 10.0;
    return m * p;
}

static const char *codec_colour(const char *codec, int i)
{
    static const char *const other[] = {"#8c564b", "#e377c2", "#7f7f7f", "#bcbd22"};
    if (!strcmp(codec, "aecodec"))
        return "#d62728";
    if (!strcmp(codec, "jpeg"))
        return "#1f77b4";
    if (!strcmp(codec, "webp"))
        return "#2ca02c";
    if (!strcmp(codec, "jxl"))
        return "#9467bd";
    if (!strcmp(codec, "avif"))
        return "#ff7f0e";
    return other[i % 4];
}

static int codec_shape(const char *codec, int i)
{
    static const char *const known[] = {"aecodec", "jpeg", "webp", "jxl", "avif"};
    for (int k = 0; k < 5; k++)
        if (!strcmp(codec, known[k]))
            return k;
    return i;
}

/* A marker; hollow ones (white fill, coloured outline) mark anchors. */
static void svg_marker(FILE *f, int shape, double x, double y, const char *col, int hollow)
{
    char paint[64];
    if (hollow)
        snprintf(paint, sizeof paint, "fill=\"white\" stroke=\"%s\" stroke-width=\"1.5\"", col);
    else
        snprintf(paint, sizeof paint, "fill=\"%s\"", col);
    switch (shape % 5) {
    case 0:
        fprintf(f, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" %s/>\n", x, y, paint);
        break;
    case 1:
        fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"7\" height=\"7\" %s/>\n", x - 3.5,
                y - 3.5, paint);
        break;
    case 2:
        fprintf(f, "<path d=\"M%.1f %.1fl4.5 8h-9z\" %s/>\n", x, y - 5, paint);
        break;
    case 3:
        fprintf(f, "<path d=\"M%.1f %.1fl4.5 4.5l-4.5 4.5l-4.5 -4.5z\" %s/>\n", x, y - 4.5,
                paint);
        break;
    default:
        fprintf(f,
                "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\" fill=\"white\" stroke=\"%s\" "
                "stroke-width=\"2\"/>\n",
                x, y, col);
        break;
    }
}

/* Liang-Barsky: clips the segment to the rectangle; 0 if nothing is left. */
static int clip_segment(double *x0, double *y0, double *x1, double *y1, double xmin,
                        double ymin, double xmax, double ymax)
{
    double t0 = 0, t1 = 1, dx = *x1 - *x0, dy = *y1 - *y0;
    const double p[4] = {-dx, dx, -dy, dy};
    const double qv[4] = {*x0 - xmin, xmax - *x0, *y0 - ymin, ymax - *y0};
    for (int i = 0; i < 4; i++) {
        if (p[i] == 0) {
            if (qv[i] < 0)
                return 0;
            continue;
        }
        double r = qv[i] / p[i];
        if (p[i] < 0) {
            if (r > t1)
                return 0;
            if (r > t0)
                t0 = r;
        } else {
            if (r < t0)
                return 0;
            if (r < t1)
                t1 = r;
        }
    }
    double ax = *x0 + t0 * dx, ay = *y0 + t0 * dy;
    double bx = *x0 + t1 * dx, by = *y0 + t1 * dy;
    *x0 = ax;
    *y0 = ay;
    *x1 = bx;
    *y1 = by;
    return 1;
}


/* Round values for a log bpp axis: 1, 2, 5 per decade. */
static const double log_ticks[] = {0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.2, 0.5,
                                   1,     2,     5,     10,   20,   50,   100};
enum { N_LOG_TICKS = sizeof log_ticks / sizeof log_ticks[0] };

/* The legend's text for a curve. */
static void curve_label(const curve *k, char *buf, size_t len)
{
    if (k->anchor)
        snprintf(buf, len, "%s (%s)", k->codec,
                 strstr(k->anchor, "published") ? "published, other corpus" : "earlier run");
    else
        snprintf(buf, len, "%s", strcmp(k->codec, "jpeg") == 0 ? "jpeg (libjpeg-turbo)" : k->codec);
}

/* Text for SVG: &, < and > escaped (anchor names come from files). */
static void svg_text(FILE *f, const char *s)
{
    for (; *s; s++) {
        if (*s == '&')
            fputs("&amp;", f);
        else if (*s == '<')
            fputs("&lt;", f);
        else if (*s == '>')
            fputs("&gt;", f);
        else
            fputc(*s, f);
    }
}

int write_svg(const char *path, const bench_rows *rows, const bench_meta *meta, int metric)
{
    curve *cv = malloc(MAX_CODECS * sizeof(curve));
    if (!cv)
        return -1;
    int nc = add_anchors(cv, build_curves(rows, cv, MAX_CODECS), MAX_CODECS, meta);
    int logx = !meta->linear_bpp;
    /* quality values per curve */
    static double q[MAX_CODECS][MAX_POINTS];
    for (int c = 0; c < nc; c++)
        for (int i = 0; i < cv[c].n; i++)
            q[c][i] = metric ? msssim_db(cv[c].msssim[i]) : cv[c].psnr[i];

    /* x range: our codec's rates with some room (peers reach far higher
     * rates that would squeeze the interesting part), at least 1 bpp */
    double xmax = 0.0, all_max = 0.0;
    const curve *ours = find_curve(cv, nc, "aecodec");
    for (int c = 0; c < nc; c++)
        for (int i = 0; i < cv[c].n; i++)
            all_max = fmax(all_max, cv[c].bpp[i]);
    if (ours)
        for (int i = 0; i < ours->n; i++)
            xmax = fmax(xmax, ours->bpp[i] * 1.3);
    if (xmax < 1.0)
        xmax = 1.0;
    if (xmax > all_max && all_max > 0)
        xmax = fmax(all_max, 0.25);
    if (!(xmax > 0))
        xmax = 1.0;
    double xmin = 0, xstep = 0;
    if (logx) {
        /* from the lowest rate shown (at most 200x below the top) to the
         * next round values outside the points */
        double lo = xmax;
        for (int c = 0; c < nc; c++)
            for (int i = 0; i < cv[c].n; i++)
                if (cv[c].bpp[i] > 0 && cv[c].bpp[i] <= xmax && isfinite(q[c][i]))
                    lo = fmin(lo, cv[c].bpp[i]);
        lo = fmax(lo, xmax / 200);
        int t = N_LOG_TICKS - 1;
        while (t > 0 && log_ticks[t] > lo * 0.999)
            t--;
        xmin = log_ticks[t];
        t = 0;
        while (t < N_LOG_TICKS - 1 && log_ticks[t] < xmax * 1.001)
            t++;
        xmax = fmax(log_ticks[t], xmax);
    } else {
        xstep = nice_step(xmax, 8);
        xmax = ceil(xmax / xstep - 1e-9) * xstep;
    }
    double ymin = INFINITY, ymax = -INFINITY;
    for (int c = 0; c < nc; c++)
        for (int i = 0; i < cv[c].n; i++)
            if (cv[c].bpp[i] <= xmax && cv[c].bpp[i] >= xmin && isfinite(q[c][i])) {
                ymin = fmin(ymin, q[c][i]);
                ymax = fmax(ymax, q[c][i]);
            }
    if (!isfinite(ymin)) {
        ymin = 20;
        ymax = 40;
    }
    if (ymax - ymin < 1.0) {
        ymin -= 0.5;
        ymax += 0.5;
    }
    double ystep = nice_step(ymax - ymin, 8);
    ymin = floor(ymin / ystep) * ystep;
    ymax = ceil(ymax / ystep) * ystep;

    const double W = 900, H = 600, L = 70, R = 20, T = 50, B = 60;
    const double pw = W - L - R, ph = H - T - B;
    /* points at bpp <= 0 have no place on a log axis: far left, clipped */
#define X(v)                                                                                      \
    (logx ? ((v) > 0 ? L + log((v) / xmin) / log(xmax / xmin) * pw : L - 1e4)                     \
          : L + (v) / xmax * pw)
#define Y(v) (T + ph - ((v) - ymin) / (ymax - ymin) * ph)
    int slot;
    FILE *f = aeio_cleanup_fopen(path, "w", &slot);
    if (!f) {
        free(cv);
        return -1;
    }
    const char *qname = metric ? "MS-SSIM (dB)" : "PSNR RGB (dB)";
    fprintf(f,
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Arial, sans-serif\" "
            "font-size=\"13\">\n",
            W, H, W, H);
    fprintf(f, "<rect width=\"100%%\" height=\"100%%\" fill=\"white\"/>\n");
    fprintf(f,
            "<text x=\"%.1f\" y=\"28\" text-anchor=\"middle\" font-size=\"16\" "
            "font-weight=\"bold\">%s vs bpp: %d images (mean per setting)%s</text>\n",
            L + pw / 2, qname, meta->n_images,
            meta->n_anchors ? "; dashed: anchors from files" : "");
    /* grid and ticks */
    if (logx) {
        /* light lines at 1..9 per decade, labels at 1, 2, 5 */
        for (double dec = pow(10, floor(log10(xmin))); dec < xmax; dec *= 10)
            for (int m = 1; m <= 9; m++) {
                double v = m * dec;
                if (v < xmin * 0.999 || v > xmax * 1.001)
                    continue;
                int major = m == 1 || m == 2 || m == 5;
                fprintf(f,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\"/>\n",
                        X(v), T, X(v), T + ph, major ? "#d8d8d8" : "#f0f0f0");
                if (!major)
                    continue;
                fprintf(f,
                        "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" "
                        "stroke=\"black\"/>\n",
                        X(v), T + ph, X(v), T + ph + 5);
                fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n",
                        X(v), T + ph + 20, v);
            }
    } else {
        for (double v = 0; v <= xmax + xstep * 1e-6; v += xstep) {
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n",
                    X(v), T, X(v), T + ph);
            fprintf(f,
                    "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
                    X(v), T + ph, X(v), T + ph + 5);
            fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">%g</text>\n", X(v),
                    T + ph + 20, round(v / xstep) * xstep);
        }
    }
    for (double v = ymin; v <= ymax + ystep * 1e-6; v += ystep) {
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#e0e0e0\"/>\n",
                L, Y(v), L + pw, Y(v));
        fprintf(f, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"black\"/>\n",
                L - 5, Y(v), L, Y(v));
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%g</text>\n", L - 8,
                Y(v) + 4, round(v / ystep) * ystep);
    }
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"none\" "
               "stroke=\"black\"/>\n",
            L, T, pw, ph);
    fprintf(f, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">bits per pixel%s</text>\n",
            L + pw / 2, H - 15, logx ? " (log scale)" : "");
    fprintf(f,
            "<text x=\"18\" y=\"%.1f\" text-anchor=\"middle\" transform=\"rotate(-90 18 "
            "%.1f)\">%s</text>\n",
            T + ph / 2, T + ph / 2, qname);
    /* curves, sorted by rate */
    fprintf(f, "<g>\n");
    for (int c = 0; c < nc; c++) {
        const curve *k = &cv[c];
        int idx[MAX_POINTS], n = 0;
        for (int i = 0; i < k->n; i++)
            if (isfinite(q[c][i]) && (!logx || k->bpp[i] > 0))
                idx[n++] = i;
        for (int i = 1; i < n; i++)
            for (int j = i; j > 0 && k->bpp[idx[j]] < k->bpp[idx[j - 1]]; j--) {
                int t = idx[j];
                idx[j] = idx[j - 1];
                idx[j - 1] = t;
            }
        const char *col = codec_colour(k->codec, c);
        int width = strcmp(k->codec, "aecodec") == 0 && !k->anchor ? 3 : 2;
        /* the line, clipped to the plot by hand (some SVG renderers ignore
         * clip-path) */
        fprintf(f, "<path fill=\"none\" stroke=\"%s\" stroke-width=\"%d\"%s "
                   "stroke-linejoin=\"round\" d=\"",
                col, width, k->anchor ? " stroke-dasharray=\"7 4\"" : "");
        int pen_down = 0;
        for (int i = 0; i + 1 < n; i++) {
            double x0 = X(k->bpp[idx[i]]), y0 = Y(q[c][idx[i]]);
            double x1 = X(k->bpp[idx[i + 1]]), y1 = Y(q[c][idx[i + 1]]);
            if (clip_segment(&x0, &y0, &x1, &y1, L, T, L + pw, T + ph)) {
                if (!pen_down)
                    fprintf(f, "M%.1f %.1f", x0, y0);
                fprintf(f, "L%.1f %.1f", x1, y1);
                /* continue the same subpath only if the end was not clipped */
                pen_down = x1 == X(k->bpp[idx[i + 1]]) && y1 == Y(q[c][idx[i + 1]]);
            } else {
                pen_down = 0;
            }
        }
        fprintf(f, "\"/>\n");
        for (int i = 0; i < n; i++) {
            double px = X(k->bpp[idx[i]]), py = Y(q[c][idx[i]]);
            if (px < L - 0.5 || px > L + pw + 0.5 || py < T - 0.5 || py > T + ph + 0.5)
                continue;
            fprintf(f, "<g><title>");
            svg_text(f, k->codec);
            fprintf(f, " %s: %.4f bpp, %.3f</title>\n", k->setting[idx[i]], k->bpp[idx[i]],
                    q[c][idx[i]]);
            svg_marker(f, codec_shape(k->codec, c), px, py, col, k->anchor != NULL);
            fprintf(f, "</g>\n");
        }
    }
    fprintf(f, "</g>\n");
    /* legend, bottom right (RD curves leave that corner empty) */
    size_t longest = 10;
    for (int c = 0; c < nc; c++) {
        char label[160];
        curve_label(&cv[c], label, sizeof label);
        longest = strlen(label) > longest ? strlen(label) : longest;
    }
    double lw = 60 + 7.5 * (double)longest, lh = 12 + 20.0 * nc;
    double lx = L + pw - lw - 10, ly = T + ph - lh - 10;
    fprintf(f, "<rect x=\"%.1f\" y=\"%.1f\" width=\"%.1f\" height=\"%.1f\" fill=\"white\" "
               "stroke=\"#888\"/>\n",
            lx, ly, lw, lh);
    for (int c = 0; c < nc; c++) {
        const char *col = codec_colour(cv[c].codec, c);
        double yy = ly + 16 + 20.0 * c;
        fprintf(f,
                "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"%s\" "
                "stroke-width=\"2\"%s/>\n",
                lx + 10, yy, lx + 40, yy, col, cv[c].anchor ? " stroke-dasharray=\"7 4\"" : "");
        svg_marker(f, codec_shape(cv[c].codec, c), lx + 25, yy, col, cv[c].anchor != NULL);
        char label[160];
        curve_label(&cv[c], label, sizeof label);
        fprintf(f, "<text x=\"%.1f\" y=\"%.1f\">", lx + 50, yy + 4);
        svg_text(f, label);
        fprintf(f, "</text>\n");
    }
    fprintf(f, "</svg>\n");
#undef X
#undef Y
    free(cv);
    return aeio_cleanup_fclose(f, slot) == 0 ? 0 : -1;
}

/* ---- CompressAI JSON, one file per codec ------------------------------------------ */

/* A file name from a codec name: letters, digits, '-', '_' and '.' kept. */
static void file_stem(const char *codec, char *out, size_t len)
{
    size_t o = 0;
    for (const char *p = codec; *p && o + 1 < len; p++) {
        char ch = *p;
        int ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                 ch == '-' || ch == '_' || (ch == '.' && o > 0);
        out[o++] = ok ? ch : '_';
    }
    out[o] = 0;
    if (!o)
        snprintf(out, len, "codec");
}

int write_codec_json(const char *dir, const bench_rows *rows, const bench_meta *meta,
                     int *written)
{
    *written = 0;
    curve *cv = malloc(MAX_CODECS * sizeof(curve));
    rd_curve *rc = malloc(sizeof *rc);
    if (!cv || !rc) {
        free(cv);
        free(rc);
        return -1;
    }
    int nc = build_curves(rows, cv, MAX_CODECS), status = 0;
    for (int c = 0; c < nc; c++) {
        const curve *k = &cv[c];
        if (k->n < 1)
            continue;
        memset(rc, 0, sizeof *rc);
        snprintf(rc->name, sizeof rc->name, "%s", k->codec);
        /* "aebench" first: anchor_mark() tells such files from published ones */
        snprintf(rc->description, sizeof rc->description,
                 "aebench, %s: corpus %s, %d images; mean per setting over the images; "
                 "times in seconds, wall clock, on %s",
                 strcmp(k->codec, "aecodec") == 0 ? "aecodec, all threads"
                 : strcmp(k->codec, "jpeg") == 0
                     ? "libjpeg-turbo C API in memory"
                     : "command-line tool incl. process start and file I/O",
                 meta->corpus ? meta->corpus : "-", k->images, meta->cpu[0] ? meta->cpu : "-");
        /* in rate order, as CompressAI's files are */
        int idx[MAX_POINTS];
        for (int i = 0; i < k->n; i++) {
            int j = i;
            for (; j > 0 && k->bpp[idx[j - 1]] > k->bpp[i]; j--)
                idx[j] = idx[j - 1];
            idx[j] = i;
        }
        rc->n = k->n;
        for (int i = 0; i < k->n; i++) {
            int s = idx[i];
            rc->psnr[i] = k->psnr[s];
            rc->msssim[i] = meta->msssim ? k->msssim[s] : NAN;
            rc->bpp[i] = k->bpp[s];
            rc->enc_s[i] = k->enc_ms[s] / 1e3;
            rc->dec_s[i] = k->dec_ms[s] / 1e3;
        }
        char stem[100], path[1400];
        file_stem(k->codec, stem, sizeof stem);
        snprintf(path, sizeof path, "%s/%s.json", dir, stem);
        if (json_write_curve(path, rc)) {
            fprintf(stderr, "aebench: cannot write %s\n", path);
            status = -1;
        } else {
            (*written)++;
        }
    }
    free(cv);
    free(rc);
    return status;
}
