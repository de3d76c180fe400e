/* SPDX-License-Identifier: BSD-3-Clause */
/* output.c - the decoder's output: the region and scale a caller asks
 * for, the layout conversion and the caller's row stride.
 *
 * The tiles render full-size rows in the file's layout (tiles.c), band by
 * band; each band is converted and box-averaged here into the output rows
 * it covers, so the whole full-size image is never held.  When nothing is
 * to convert (scale 1, layout as coded) the tiles write straight into the
 * output rows instead. */
#include <string.h>

#include "dec/dec_internal.h"

aec_status aec_dec_output_geometry(const aecb_header *h, const aec_decode_params *p,
                                   dec_output *o, char *err)
{
    memset(o, 0, sizeof *o);
    uint32_t x = p->x, y = p->y, w = p->w, hgt = p->h;
    if (w == 0 && hgt == 0)
        x = 0, y = 0, w = h->width, hgt = h->height;
    if (w == 0 || hgt == 0 || x >= h->width || y >= h->height || w > h->width - x ||
        hgt > h->height - y)
        return aec_fail(err, AEC_ERR_INVALID_ARGUMENT,
                        "region %u,%u %ux%u is not inside the %ux%u image", x, y, w, hgt,
                        h->width, h->height);
    int scale = p->scale == 0 ? 1 : p->scale;
    if (scale != 1 && scale != 2 && scale != 4 && scale != 8)
        return aec_fail(err, AEC_ERR_INVALID_ARGUMENT, "scale %d is not 1, 2, 4 or 8", p->scale);
    if (p->layout != AEC_LAYOUT_AS_CODED && !aec_layout_valid(p->layout))
        return aec_fail(err, AEC_ERR_INVALID_ARGUMENT,
                        "output layout %d is not 0 (as coded) or 1..4", p->layout);
    o->rx = x, o->ry = y, o->rw = w, o->rh = hgt;
    o->scale = scale;
    o->coded = h->layout;
    o->layout = p->layout ? p->layout : h->layout;
    o->ow = (w + (uint32_t)scale - 1) / (uint32_t)scale;
    o->oh = (hgt + (uint32_t)scale - 1) / (uint32_t)scale;
    return AEC_OK;
}

int aec_dec_output_direct(const dec_output *o) { return o->scale == 1 && o->layout == o->coded; }

/* Adds one coded pixel, converted to the output layout, to acc. */
static void add_converted(const uint8_t *s, int in, int out, uint32_t *acc)
{
    uint32_t r, g, b, a = aec_layout_has_alpha(in) ? s[in - 1] : 255;
    if (aec_layout_is_gray(in))
        r = g = b = s[0];
    else
        r = s[0], g = s[1], b = s[2];
    if (aec_layout_is_gray(out)) {
        /* grey from grey is the sample itself; from colour, rounded luma */
        acc[0] += aec_layout_is_gray(in) ? r : (299 * r + 587 * g + 114 * b + 500) / 1000;
    } else {
        acc[0] += r, acc[1] += g, acc[2] += b;
    }
    if (aec_layout_has_alpha(out))
        acc[out - 1] += a;
}

void aec_dec_output_band(const dec_output *o, const uint8_t *band, size_t band_stride,
                         uint32_t band_y0, uint32_t band_h)
{
    if (aec_dec_output_direct(o))
        return; /* already in place */
    uint32_t s = (uint32_t)o->scale, first = (band_y0 - o->ry) / s;
    uint32_t end_y = band_y0 + band_h; /* image rows */
    int in = o->coded, out = o->layout;
    for (uint32_t oy = first; oy < o->oh && o->ry + oy * s < end_y; oy++) {
        uint32_t y0 = o->ry + oy * s, y1 = y0 + s < end_y ? y0 + s : end_y;
        uint8_t *dst = o->pixels + (size_t)oy * o->stride;
        for (uint32_t ox = 0; ox < o->ow; ox++, dst += out) {
            uint32_t x0 = ox * s, x1 = x0 + s < o->rw ? x0 + s : o->rw; /* region columns */
            uint32_t acc[4] = {0, 0, 0, 0}, n = (x1 - x0) * (y1 - y0);
            for (uint32_t y = y0; y < y1; y++) {
                const uint8_t *src = band + (size_t)(y - band_y0) * band_stride + (size_t)x0 * in;
                for (uint32_t x = x0; x < x1; x++, src += in)
                    add_converted(src, in, out, acc);
            }
            for (int c = 0; c < out; c++)
                dst[c] = (uint8_t)((acc[c] + n / 2) / n);
        }
    }
}
