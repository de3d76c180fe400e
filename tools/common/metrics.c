/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * metrics.c - PSNR, MS-SSIM, PCHIP and Bjontegaard delta rate; see metrics.h
 * for the conventions.
 */
#include "metrics.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* ---- MSE / PSNR ---------------------------------------------------------- */

double aem_mse(const uint8_t *a, const uint8_t *b, uint32_t width, uint32_t height,
               int channels)
{
    size_t n = (size_t)width * height * (size_t)channels;
    if (n == 0)
        return 0.0;
    uint64_t sum = 0;
    for (size_t i = 0; i < n; i++) {
        int d = (int)a[i] - (int)b[i];
        sum += (uint64_t)(d * d);
    }
    return (double)sum / (double)n;
}

double aem_psnr_from_mse(double mse)
{
    if (!(mse > 0.0))
        return AEM_PSNR_CAP;
    double p = 10.0 * log10(255.0 * 255.0 / mse);
    return p > AEM_PSNR_CAP ? AEM_PSNR_CAP : p;
}

double aem_psnr(const uint8_t *a, const uint8_t *b, uint32_t width, uint32_t height,
                int channels)
{
    return aem_psnr_from_mse(aem_mse(a, b, width, height, channels));
}

/* ---- MS-SSIM ------------------------------------------------------------- */

#define MS_WIN 11
#define MS_SIGMA 1.5
#define MS_MAX_SCALES 5
static const double ms_weights[MS_MAX_SCALES] = {0.0448, 0.2856, 0.3001, 0.2363, 0.1333};

int aem_msssim_scales(uint32_t width, uint32_t height)
{
    uint32_t m = width < height ? width : height;
    int scales = 1;
    while (scales < MS_MAX_SCALES && (m >> scales) >= MS_WIN)
        scales++;
    return scales;
}

/* Mean SSIM and mean contrast-structure term of one scale, 'valid' filtering
 * with a win x win Gaussian window.  tmp holds 10*w doubles.  The filtering
 * runs in double: in float, E[x^2] - E[x]^2 loses ~1e-3 to cancellation,
 * which moves MS-SSIM by ~1e-5. */
static void ssim_scale(const float *x, const float *y, uint32_t w, uint32_t h, int win,
                       const double *g, double *tmp, double *ssim_out, double *cs_out)
{
    const double C1 = (0.01 * 255) * (0.01 * 255);
    const double C2 = (0.03 * 255) * (0.03 * 255);
    uint32_t ow = w - (uint32_t)win + 1, oh = h - (uint32_t)win + 1;
    double *vx = tmp, *vy = vx + w, *vxx = vy + w, *vyy = vxx + w, *vxy = vyy + w;
    double *hx = vxy + w, *hy = hx + w, *hxx = hy + w, *hyy = hxx + w, *hxy = hyy + w;
    double ssim_sum = 0.0, cs_sum = 0.0;

    for (uint32_t r = 0; r < oh; r++) {
        /* vertical pass: window rows r .. r+win-1 */
        memset(vx, 0, 5 * (size_t)w * sizeof(double));
        for (int k = 0; k < win; k++) {
            const float *xr = x + (size_t)(r + (uint32_t)k) * w;
            const float *yr = y + (size_t)(r + (uint32_t)k) * w;
            const double gk = g[k];
            for (uint32_t c = 0; c < w; c++) {
                double xv = xr[c], yv = yr[c];
                vx[c] += gk * xv;
                vy[c] += gk * yv;
                vxx[c] += gk * (xv * xv);
                vyy[c] += gk * (yv * yv);
                vxy[c] += gk * (xv * yv);
            }
        }
        /* horizontal pass */
        memset(hx, 0, 5 * (size_t)w * sizeof(double));
        for (int k = 0; k < win; k++) {
            const double gk = g[k];
            for (uint32_t c = 0; c < ow; c++) {
                hx[c] += gk * vx[c + (uint32_t)k];
                hy[c] += gk * vy[c + (uint32_t)k];
                hxx[c] += gk * vxx[c + (uint32_t)k];
                hyy[c] += gk * vyy[c + (uint32_t)k];
                hxy[c] += gk * vxy[c + (uint32_t)k];
            }
        }
        double row_ssim = 0.0, row_cs = 0.0;
        for (uint32_t c = 0; c < ow; c++) {
            double mx = hx[c], my = hy[c];
            double sxx = hxx[c] - mx * mx;
            double syy = hyy[c] - my * my;
            double sxy = hxy[c] - mx * my;
            double cs = (2.0 * sxy + C2) / (sxx + syy + C2);
            double l = (2.0 * mx * my + C1) / (mx * mx + my * my + C1);
            row_cs += cs;
            row_ssim += l * cs;
        }
        ssim_sum += row_ssim;
        cs_sum += row_cs;
    }
    double n = (double)ow * (double)oh;
    *ssim_out = ssim_sum / n;
    *cs_out = cs_sum / n;
}

/* 2x2 box average in place; the result is (w/2) x (h/2). */
static void downsample2(float *p, uint32_t w, uint32_t h)
{
    uint32_t w2 = w / 2, h2 = h / 2;
    for (uint32_t i = 0; i < h2; i++) {
        const float *r0 = p + (size_t)(2 * i) * w, *r1 = r0 + w;
        float *o = p + (size_t)i * w2;
        for (uint32_t j = 0; j < w2; j++)
            o[j] = 0.25f * (r0[2 * j] + r0[2 * j + 1] + r1[2 * j] + r1[2 * j + 1]);
    }
}

/* MS-SSIM of planes x, y (modified: they are downsampled in place). */
static double msssim_inplace(float *x, float *y, uint32_t w, uint32_t h, double *tmp)
{
    uint32_t m = w < h ? w : h;
    if (m == 0)
        return 1.0;
    int win = MS_WIN;
    if (m < (uint32_t)win)
        win = (int)((m & 1) ? m : m - 1);
    double g[MS_WIN];
    double gs = 0.0;
    for (int i = 0; i < win; i++) {
        double t = i - (win - 1) / 2.0;
        g[i] = exp(-t * t / (2.0 * MS_SIGMA * MS_SIGMA));
        gs += g[i];
    }
    for (int i = 0; i < win; i++)
        g[i] /= gs;

    int scales = aem_msssim_scales(w, h);
    /* the standard weights as they are for 5 scales, renormalised if fewer */
    double wsum = 0.0;
    for (int s = 0; s < scales; s++)
        wsum += ms_weights[s];
    if (scales == MS_MAX_SCALES)
        wsum = 1.0;
    double result = 1.0;
    for (int s = 0; s < scales; s++) {
        double ssim, cs;
        ssim_scale(x, y, w, h, win, g, tmp, &ssim, &cs);
        double wt = ms_weights[s] / wsum;
        if (s < scales - 1) {
            result *= pow(cs > 0.0 ? cs : 0.0, wt);
            downsample2(x, w, h);
            downsample2(y, w, h);
            w /= 2;
            h /= 2;
        } else {
            result *= pow(ssim > 0.0 ? ssim : 0.0, wt);
        }
    }
    return result;
}

double aem_msssim_plane(const float *x, const float *y, uint32_t width, uint32_t height)
{
    size_t n = (size_t)width * height;
    float *bx = malloc(2 * n * sizeof(float) + 1);
    double *tmp = malloc((10 * (size_t)width + 1) * sizeof(double));
    if (!bx || !tmp) {
        free(bx);
        free(tmp);
        return -1.0;
    }
    float *by = bx + n;
    memcpy(bx, x, n * sizeof(float));
    memcpy(by, y, n * sizeof(float));
    double r = msssim_inplace(bx, by, width, height, tmp);
    free(bx);
    free(tmp);
    return r;
}

double aem_msssim(const uint8_t *a, const uint8_t *b, uint32_t width, uint32_t height,
                  int channels)
{
    size_t n = (size_t)width * height;
    if (channels < 1)
        return -1.0;
    float *bx = malloc(2 * n * sizeof(float) + 1);
    double *tmp = malloc((10 * (size_t)width + 1) * sizeof(double));
    if (!bx || !tmp) {
        free(bx);
        free(tmp);
        return -1.0;
    }
    float *by = bx + n;
    double sum = 0.0;
    for (int c = 0; c < channels; c++) {
        for (size_t i = 0; i < n; i++) {
            bx[i] = a[i * (size_t)channels + (size_t)c];
            by[i] = b[i * (size_t)channels + (size_t)c];
        }
        sum += msssim_inplace(bx, by, width, height, tmp);
    }
    free(bx);
    free(tmp);
    return sum / channels;
}

/* ---- PCHIP --------------------------------------------------------------- */

static double sgn(double v) { return (v > 0) - (v < 0); }

/* End slope: the three-point formula of scipy's PchipInterpolator. */
static double pchip_end(double h0, double h1, double m0, double m1)
{
    double d = ((2.0 * h0 + h1) * m0 - h0 * m1) / (h0 + h1);
    if (sgn(d) != sgn(m0))
        d = 0.0;
    else if (sgn(m0) != sgn(m1) && fabs(d) > 3.0 * fabs(m0))
        d = 3.0 * m0;
    return d;
}

void aem_pchip_slopes(const double *x, const double *y, int n, double *d)
{
    if (n < 2) {
        if (n == 1)
            d[0] = 0.0;
        return;
    }
    if (n == 2) {
        d[0] = d[1] = (y[1] - y[0]) / (x[1] - x[0]);
        return;
    }
    for (int k = 1; k < n - 1; k++) {
        double h0 = x[k] - x[k - 1], h1 = x[k + 1] - x[k];
        double m0 = (y[k] - y[k - 1]) / h0, m1 = (y[k + 1] - y[k]) / h1;
        if (m0 == 0.0 || m1 == 0.0 || sgn(m0) != sgn(m1)) {
            d[k] = 0.0;
        } else {
            double w1 = 2.0 * h1 + h0, w2 = h1 + 2.0 * h0;
            d[k] = (w1 + w2) / (w1 / m0 + w2 / m1);
        }
    }
    {
        double h0 = x[1] - x[0], h1 = x[2] - x[1];
        d[0] = pchip_end(h0, h1, (y[1] - y[0]) / h0, (y[2] - y[1]) / h1);
    }
    {
        double h0 = x[n - 1] - x[n - 2], h1 = x[n - 2] - x[n - 3];
        d[n - 1] = pchip_end(h0, h1, (y[n - 1] - y[n - 2]) / h0, (y[n - 2] - y[n - 3]) / h1);
    }
}

static double hermite(double x0, double x1, double y0, double y1, double d0, double d1,
                      double t)
{
    double h = x1 - x0, s = (t - x0) / h;
    double s2 = s * s, s3 = s2 * s;
    return (2 * s3 - 3 * s2 + 1) * y0 + (s3 - 2 * s2 + s) * h * d0 + (-2 * s3 + 3 * s2) * y1 +
           (s3 - s2) * h * d1;
}

double aem_pchip_eval(const double *x, const double *y, const double *d, int n, double t)
{
    if (n < 1)
        return NAN;
    if (n == 1)
        return y[0];
    int k = 0;
    while (k < n - 2 && t > x[k + 1])
        k++;
    return hermite(x[k], x[k + 1], y[k], y[k + 1], d[k], d[k + 1], t);
}

double aem_pchip_integral(const double *x, const double *y, const double *d, int n,
                          double a, double b)
{
    /* Each piece is a cubic: 2-point Gauss-Legendre on each piece is exact. */
    const double r = 0.5 / sqrt(3.0);
    double sum = 0.0;
    for (int k = 0; k < n - 1; k++) {
        double lo = k == 0 ? a : (a > x[k] ? a : x[k]);
        double hi = k == n - 2 ? b : (b < x[k + 1] ? b : x[k + 1]);
        if (!(hi > lo))
            continue;
        double m = 0.5 * (lo + hi), len = hi - lo;
        sum += 0.5 * len *
               (hermite(x[k], x[k + 1], y[k], y[k + 1], d[k], d[k + 1], m - r * len) +
                hermite(x[k], x[k + 1], y[k], y[k + 1], d[k], d[k + 1], m + r * len));
    }
    return sum;
}

typedef struct {
    double x, y;
} pt;

static int pt_cmp(const void *pa, const void *pb)
{
    const pt *a = pa, *b = pb;
    return (a->x > b->x) - (a->x < b->x);
}

/* Sorts points by x and merges equal x (mean y) into ox, oy; returns count or
 * -1 on allocation failure.  Points with non-finite coordinates are skipped. */
static int prepare_curve(const double *x, const double *y, int n, double *ox, double *oy)
{
    pt *p = malloc((size_t)(n > 0 ? n : 1) * sizeof(pt));
    if (!p)
        return -1;
    int m = 0;
    for (int i = 0; i < n; i++) {
        if (isfinite(x[i]) && isfinite(y[i])) {
            p[m].x = x[i];
            p[m].y = y[i];
            m++;
        }
    }
    qsort(p, (size_t)m, sizeof(pt), pt_cmp);
    int out = 0;
    for (int i = 0; i < m;) {
        int j = i;
        double s = 0.0;
        while (j < m && p[j].x == p[i].x)
            s += p[j++].y;
        ox[out] = p[i].x;
        oy[out] = s / (j - i);
        out++;
        i = j;
    }
    free(p);
    return out;
}

double aem_interp_pchip(const double *x, const double *y, int n, double t)
{
    if (n < 2)
        return NAN;
    double *buf = malloc(3 * (size_t)n * sizeof(double));
    if (!buf)
        return NAN;
    double *sx = buf, *sy = buf + n, *sd = buf + 2 * n;
    int m = prepare_curve(x, y, n, sx, sy);
    double r = NAN;
    if (m >= 2 && t >= sx[0] && t <= sx[m - 1]) {
        aem_pchip_slopes(sx, sy, m, sd);
        r = aem_pchip_eval(sx, sy, sd, m, t);
    }
    free(buf);
    return r;
}

/* Mean difference (test - anchor) of y as PCHIP functions of x over the
 * shared x range. */
static double bd_mean_diff(const double *xa, const double *ya, int na, const double *xt,
                           const double *yt, int nt)
{
    int nmax = na > nt ? na : nt;
    double *buf = malloc(6 * (size_t)(nmax > 0 ? nmax : 1) * sizeof(double));
    if (!buf)
        return NAN;
    double *ax = buf, *ay = ax + nmax, *ad = ay + nmax;
    double *tx = ad + nmax, *ty = tx + nmax, *td = ty + nmax;
    double r = NAN;
    int ma = prepare_curve(xa, ya, na, ax, ay);
    int mt = prepare_curve(xt, yt, nt, tx, ty);
    if (ma >= 2 && mt >= 2) {
        double lo = ax[0] > tx[0] ? ax[0] : tx[0];
        double hi = ax[ma - 1] < tx[mt - 1] ? ax[ma - 1] : tx[mt - 1];
        if (hi > lo) {
            aem_pchip_slopes(ax, ay, ma, ad);
            aem_pchip_slopes(tx, ty, mt, td);
            double ia = aem_pchip_integral(ax, ay, ad, ma, lo, hi);
            double it = aem_pchip_integral(tx, ty, td, mt, lo, hi);
            r = (it - ia) / (hi - lo);
        }
    }
    free(buf);
    return r;
}

double aem_bd_rate(const double *rate_anchor, const double *psnr_anchor, int n_anchor,
                   const double *rate_test, const double *psnr_test, int n_test)
{
    if (n_anchor < 2 || n_test < 2)
        return NAN;
    double *la = malloc((size_t)(n_anchor + n_test) * sizeof(double));
    if (!la)
        return NAN;
    double *lt = la + n_anchor;
    for (int i = 0; i < n_anchor; i++)
        la[i] = rate_anchor[i] > 0 ? log(rate_anchor[i]) : NAN;
    for (int i = 0; i < n_test; i++)
        lt[i] = rate_test[i] > 0 ? log(rate_test[i]) : NAN;
    /* x = PSNR, y = log(rate) */
    double diff = bd_mean_diff(psnr_anchor, la, n_anchor, psnr_test, lt, n_test);
    free(la);
    return isnan(diff) ? NAN : (exp(diff) - 1.0) * 100.0;
}

double aem_bd_psnr(const double *rate_anchor, const double *psnr_anchor, int n_anchor,
                   const double *rate_test, const double *psnr_test, int n_test)
{
    if (n_anchor < 2 || n_test < 2)
        return NAN;
    double *la = malloc((size_t)(n_anchor + n_test) * sizeof(double));
    if (!la)
        return NAN;
    double *lt = la + n_anchor;
    for (int i = 0; i < n_anchor; i++)
        la[i] = rate_anchor[i] > 0 ? log(rate_anchor[i]) : NAN;
    for (int i = 0; i < n_test; i++)
        lt[i] = rate_test[i] > 0 ? log(rate_test[i]) : NAN;
    double diff = bd_mean_diff(la, psnr_anchor, n_anchor, lt, psnr_test, n_test);
    free(la);
    return diff;
}
