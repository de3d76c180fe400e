/* SPDX-License-Identifier: BSD-3-Clause */
/* ratecontrol.c - aec_encode with a target size or PSNR: a search over the
 * fractional quality level (the lattice step between levels, whole VQ
 * levels below them).
 *
 * Both the log of the file size and the PSNR grow about linearly with the
 * level (rates by about a quarter a level, PSNR by about 1 dB), so the
 * search is a safeguarded secant: extrapolate from the points seen until
 * the target is bracketed, then interpolate inside the bracket, keeping
 * each new point clear of the bracket's ends so it always shrinks.  It
 * stops when a file lands in the target window, when a step would repeat
 * a level already coded (the whole VQ levels, or the ends of the range), or
 * after AEC_SEARCH_MAX encodes, and returns the best file that meets the
 * target among those coded.  Where the built-in levels jump from half to
 * full size, a target that falls inside the jump is searched at half size
 * with finer steps (search_past_jump). */
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "enc/levels.h"
#include "enc/ratecontrol.h"

#define AEC_SEARCH_MAX 16

typedef struct {
    float q;        /* fractional level                                */
    float step;     /* > 0: at half size with this lattice step (the
                       search past the jump to full size, below)       */
    uint8_t *file;  /* the coded file, NULL once dropped                */
    size_t size;
    double psnr;    /* 0 when not measured                              */
    double value;   /* what the search steers: log(size) or PSNR        */
} rc_point;

/* RGB (or grey) PSNR of decoded (tight, same layout) against the source;
 * alpha is lossless and left out. */
static double image_psnr(const uint8_t *src, size_t stride, const uint8_t *dec, uint32_t w,
                         uint32_t h, aec_layout layout)
{
    int ch = aec_layout_channels(layout), colour = ch - aec_layout_has_alpha(layout);
    double se = 0;
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *a = src + (size_t)y * stride, *b = dec + (size_t)y * w * ch;
        for (uint32_t x = 0; x < w; x++)
            for (int c = 0; c < colour; c++) {
                double d = (double)a[x * ch + c] - b[x * ch + c];
                se += d * d;
            }
    }
    double mse = se / ((double)w * h * colour);
    return mse > 0 ? 10 * log10(255.0 * 255.0 / mse) : 100;
}

/* The level a point at q really codes: whole levels below the first
 * level with fractions (and with a caller's model), 1/1024 of a level
 * above. */
static float snap_level(const aec_encoder *e, float q, int levels, float first_fine)
{
    q = q < 1 ? 1 : q > levels ? (float)levels : q;
    if (e->model || q < first_fine)
        return floorf(q);
    return roundf(q * 1024) / 1024;
}

static aec_status code_point(aec_encoder *e, aec_decoder *dec, const uint8_t *pixels,
                             uint32_t w, uint32_t h, size_t stride, aec_layout layout,
                             const aec_encode_params *params, rc_point *pt)
{
    aec_encode_params p = *params;
    p.quality_fine = pt->q;
    p.target_size = 0, p.target_psnr = 0;
    if (pt->step > 0)
        p.lattice_step = pt->step, p.half_size = 1;
    aec_status st = aec_encode_once(e, pixels, w, h, stride, layout, &p, &pt->file, &pt->size);
    if (st != AEC_OK)
        return st;
    pt->value = log((double)pt->size);
    if (!dec)
        return AEC_OK;
    aec_decode_params dp;
    aec_decode_params_default(&dp);
    uint8_t *pix = NULL;
    uint32_t ow, oh;
    aec_layout ol;
    st = aec_decode(dec, pt->file, pt->size, &dp, &pix, &ow, &oh, &ol);
    if (st != AEC_OK)
        return aec_fail(e->err, st, "cannot decode the search's file: %s",
                        aec_decoder_last_error(dec));
    if (stride == 0)
        stride = (size_t)w * aec_layout_channels(layout);
    pt->psnr = pt->value = image_psnr(pixels, stride, pix, w, h, layout);
    aec_free(pix);
    return AEC_OK;
}

/* Is point a a better answer than point b (both meeting the target)? */
static int better(const rc_point *a, const rc_point *b, int by_psnr)
{
    if (!by_psnr) /* the largest file that fits: the finest step of its size */
        return a->size > b->size || (a->size == b->size && a->q > b->q);
    /* Two levels can give files of one size: the PSNR nearer the target is
     * the one the window promises. */
    return a->size < b->size || (a->size == b->size && a->psnr < b->psnr);
}

/* Index of the point to return: for a size, the largest level that fits
 * (else the smallest file); for a PSNR, the smallest file that reaches it
 * (else the best PSNR). */
static int best_point(const rc_point *pts, int n, int by_psnr, double target)
{
    int best = -1;
    for (int i = 0; i < n; i++) {
        int ok = by_psnr ? pts[i].psnr >= target : (double)pts[i].size <= target;
        if (ok && (best < 0 || better(&pts[i], &pts[best], by_psnr)))
            best = i;
    }
    if (best >= 0)
        return best;
    best = 0;
    for (int i = 1; i < n; i++)
        if (by_psnr ? pts[i].psnr > pts[best].psnr : pts[i].size < pts[best].size)
            best = i;
    return best;
}

/* The level where the search's levels jump from half to full size
 * (levels.h), or 0 when they have no such jump (a caller's model, the size
 * or the step forced).  Its two sides code pictures of different sizes,
 * whose rates differ by more than the window on some (textured) pictures. */
static float half_jump(const aec_encoder *e, const aec_encode_params *p)
{
    if (e->model || p->half_size != 0 || p->lattice_step != AEC_LATTICE_AUTO)
        return 0;
    return aec_level_size_switch();
}

/* Past the jump the search goes on at half size with finer steps than the
 * levels give there, from AEC_LEVEL_HALF_MID_STEP (where the point below
 * the jump is) to half of it: a safeguarded secant on log(step), as the
 * main search does on the level.  Adds its points to pts. */
static aec_status search_past_jump(aec_encoder *e, aec_decoder *dec, const uint8_t *pixels,
                                   uint32_t w, uint32_t h, size_t stride, aec_layout layout,
                                   const aec_encode_params *params, rc_point *pts, int *n,
                                   int below, double lo, double hi)
{
    double mid = (lo + hi) / 2;
    double xa = -log(AEC_LEVEL_HALF_MID_STEP), va = pts[below].value; /* x = -log(step) */
    double xb = xa + log(2.0), vb = 0;
    int have_b = 0;
    /* per unit of x, log size grows about 1.3 and PSNR about 3.5 dB */
    double x = xa + (mid - va) / (dec ? 3.5 : 1.3);
    while (*n < AEC_SEARCH_MAX) {
        x = x < xa + 0.01 ? xa + 0.01 : x > xb ? xb : x;
        rc_point *pt = &pts[*n];
        memset(pt, 0, sizeof *pt);
        pt->q = pts[below].q, pt->step = (float)exp(-x);
        aec_status st = code_point(e, dec, pixels, w, h, stride, layout, params, pt);
        if (st != AEC_OK) {
            free(pt->file);
            return st;
        }
        ++*n;
        if ((pt->value >= lo && pt->value <= hi) || (x >= xb && pt->value < lo))
            break;
        if (pt->value < lo)
            xa = x, va = pt->value;
        else
            xb = x, vb = pt->value, have_b = 1;
        double t = have_b && vb > va ? (mid - va) / (vb - va) : 0.5;
        t = t < 0.1 ? 0.1 : t > 0.9 ? 0.9 : t;
        if (xb - xa < 1e-4)
            break;
        x = xa + t * (xb - xa);
    }
    return AEC_OK;
}

static aec_status search(aec_encoder *e, const uint8_t *pixels, uint32_t w, uint32_t h,
                         size_t stride, aec_layout layout, const aec_encode_params *caller,
                         uint8_t **out, size_t *out_size)
{
    /* The restoration filter where it pays jumps on and off from one
     * fraction to the next on small pictures, and the PSNR with it, so
     * the search keeps the first point's choice (on: always, off: never). */
    aec_encode_params search_params = *caller;
    const aec_encode_params *params = &search_params;
    int by_psnr = params->target_psnr > 0, levels = aec_encoder_levels(e);
    /* The target window [lo, hi] of the steered value. */
    double lo, hi, target;
    if (by_psnr)
        target = params->target_psnr, lo = target, hi = target + AEC_PSNR_TOL;
    else
        target = (double)params->target_size, hi = log(target),
        lo = log(target * (1 - AEC_SIZE_TOL));
    double mid = (lo + hi) / 2, slope0 = by_psnr ? 1.0 : log(1.25); /* per level */
    /* First level with fractions: the lowest one below a lattice level
     * (encoder.c, resolve_level). */
    float first_fine = (float)levels;
    if (!e->model)
        for (int l = levels - 1; l >= 1 && aec_builtin_level(l + 1)->lattice_step > 0; l--)
            first_fine = (float)l;
    aec_decoder *dec = NULL;
    aec_status st = AEC_OK;
    if (by_psnr) {
        st = aec_decoder_create(&dec, e->model);
        if (st != AEC_OK)
            return aec_fail(e->err, st, "cannot create the search's decoder");
        aec_decoder_set_threads(dec, params->threads);
    }
    rc_point pts[AEC_SEARCH_MAX];
    int n = 0;
    int below = -1, above = -1; /* bracket: nearest points under lo / over hi */
    float jump = half_jump(e, params);
    int at_jump = 0;
    float q = params->quality_fine > 0 ? params->quality_fine
              : params->quality > 0    ? (float)params->quality
                                       : (float)((levels + 1) / 2);
    q = snap_level(e, q, levels, first_fine);
    while (n < AEC_SEARCH_MAX) {
        rc_point *pt = &pts[n];
        memset(pt, 0, sizeof *pt);
        pt->q = q;
        st = code_point(e, dec, pixels, w, h, stride, layout, params, pt);
        if (st != AEC_OK) {
            free(pt->file);
            break;
        }
        n++;
        if (search_params.filter == 0)
            search_params.filter = pt->size > 4 && pt->file[4] >= 2 ? 1 : -1;
        if (pt->value >= lo && pt->value <= hi)
            break;
        if (pt->value < lo && (below < 0 || pt->q > pts[below].q))
            below = n - 1;
        if (pt->value > hi && (above < 0 || pt->q < pts[above].q))
            above = n - 1;
        float next;
        if (jump > 0 && below >= 0 && above >= 0 && pts[below].q < jump && pts[above].q >= jump) {
            /* The bracket spans the jump: code its two sides first; if the
             * target falls between them, go on past it at half size. */
            float just_below = jump - 1.0f / 1024;
            if (pts[below].q < just_below)
                next = just_below;
            else if (pts[above].q > jump)
                next = jump;
            else {
                at_jump = 1;
                break;
            }
        } else if (below >= 0 && above >= 0) { /* interpolate, kept inside the bracket */
            const rc_point *a = &pts[below], *b = &pts[above];
            double t = b->value > a->value ? (mid - a->value) / (b->value - a->value) : 0.5;
            t = t < 0.1 ? 0.1 : t > 0.9 ? 0.9 : t;
            next = a->q + (float)t * (b->q - a->q);
        } else { /* extrapolate from the last two points, or the typical slope */
            double slope = slope0;
            if (n >= 2 && pts[n - 1].q != pts[n - 2].q) {
                double s = (pts[n - 1].value - pts[n - 2].value) / (pts[n - 1].q - pts[n - 2].q);
                if (s > slope0 / 4 && s < slope0 * 4)
                    slope = s;
            }
            double d = (mid - pt->value) / slope;
            d = d > 4 ? 4 : d < -4 ? -4 : d;
            next = pt->q + (float)d;
        }
        next = snap_level(e, next, levels, first_fine);
        int seen = 0;
        for (int i = 0; i < n; i++)
            seen |= pts[i].q == next;
        if (seen)
            break;
        q = next;
    }
    if (st == AEC_OK && at_jump)
        st = search_past_jump(e, dec, pixels, w, h, stride, layout, params, pts, &n, below, lo,
                              hi);
    aec_decoder_destroy(dec);
    if (n > 0 && st == AEC_OK) {
        int b = best_point(pts, n, by_psnr, by_psnr ? target : (double)params->target_size);
        *out = pts[b].file, *out_size = pts[b].size, pts[b].file = NULL;
        e->search_encodes = n, e->search_quality = pts[b].q, e->search_psnr = pts[b].psnr;
    }
    for (int i = 0; i < n; i++)
        free(pts[i].file);
    return st;
}

aec_status aec_encode(aec_encoder *e, const uint8_t *pixels, uint32_t width, uint32_t height,
                      size_t stride, aec_layout layout, const aec_encode_params *params,
                      uint8_t **out, size_t *out_size)
{
    if (!e)
        return AEC_ERR_INVALID_ARGUMENT;
    e->search_encodes = 0, e->search_quality = 0, e->search_psnr = 0;
    aec_encode_params p;
    aec_encode_params_default(&p);
    if (params)
        p = *params;
    if (p.target_size == 0 && p.target_psnr == 0) {
        aec_status st = aec_encode_once(e, pixels, width, height, stride, layout, &p, out, out_size);
        if (st == AEC_OK)
            e->search_encodes = 1,
            e->search_quality = p.quality_fine > 0 ? p.quality_fine : (float)p.quality;
        return st;
    }
    if (!pixels || !out || !out_size)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "NULL pixels or output pointer");
    *out = NULL, *out_size = 0;
    if (p.target_size > 0 && p.target_psnr != 0)
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT,
                        "a target size and a target PSNR are exclusive");
    if (!(p.target_psnr >= 0 && p.target_psnr <= 100))
        return aec_fail(e->err, AEC_ERR_INVALID_ARGUMENT, "target PSNR %g is outside 0..100 dB",
                        (double)p.target_psnr);
    return search(e, pixels, width, height, stride, layout, &p, out, out_size);
}

void aec_encoder_last_search(const aec_encoder *e, int *encodes, float *quality, double *psnr)
{
    if (encodes)
        *encodes = e ? e->search_encodes : 0;
    if (quality)
        *quality = e ? e->search_quality : 0;
    if (psnr)
        *psnr = e ? e->search_psnr : 0;
}
