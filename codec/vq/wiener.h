/* SPDX-License-Identifier: BSD-3-Clause */
/* wiener.h - the adaptive restoration filter (spec/bitstream.md 6.11): a
 * linear filter that the encoder fits to each picture by least squares,
 * from the decoded pixels to the source, and sends in a few hundred bytes.
 *
 * The networks are trained for every photograph at once; one picture's
 * errors still have a shape of their own (how much its edges ring, how its
 * colours bleed) that a filter fitted to it takes out: on the validation
 * photographs +0.17 to +0.25 dB at levels 3-10 for under 1 % of the bytes
 * (bench/NOTES.md, "The restoration filter").  As VVC's adaptive loop
 * filter does, the pixels fall into a few classes of local activity, each
 * with its own coefficients.
 *
 * Everything is in integers on the decoded 8-bit pixels, so every decoder
 * gives the same bytes.  With P(x, y) a colour channel of the decoded
 * picture extended beyond its edges by repeating them:
 *   activity  g = (R + 2G + B + 2) >> 2 (the channel itself for grey),
 *             lap = |4g - g(x-1,y) - g(x+1,y) - g(x,y-1) - g(x,y+1)|,
 *             act = the sum of lap over the 3x3 pixels around (x, y);
 *             the class is the number of thresholds <= act.
 *   features  for channel c, 12 symmetric pairs of a diamond of radius 3:
 *             P(p+o) + P(p-o) - 2P(p); then for each other colour e in
 *             order: Pe - Pc, and Pe's pairs at (0,1) and (1,0); then 1.
 *   output    Pc + ((sum of w * feature + 128) >> 8), clamped to 0..255.
 * Alpha is never filtered. */
#ifndef AEC_VQ_WIENER_H
#define AEC_VQ_WIENER_H
#include <stddef.h>
#include <stdint.h>

#define AEM_WIENER_RADIUS 3      /* context rows and columns each side */
#define AEM_WIENER_SHIFT 8       /* coefficients in 1/256 */
#define AEM_WIENER_MAX_CLASSES 8
#define AEM_WIENER_SPATIAL 12    /* symmetric pairs of the diamond */
#define AEM_WIENER_MAX_TAPS (AEM_WIENER_SPATIAL + 3 * 2 + 1)
#define AEM_WIENER_MAX_WEIGHT 4095 /* |w|: sums stay far inside int32 */
#define AEM_WIENER_MAX_ACTIVITY (9 * 4 * 255)

typedef struct {
    int classes; /* 1..AEM_WIENER_MAX_CLASSES */
    int colours; /* 1 (grey layouts) or 3 */
    uint16_t threshold[AEM_WIENER_MAX_CLASSES - 1]; /* ascending, classes - 1 */
    int16_t w[AEM_WIENER_MAX_CLASSES][3][AEM_WIENER_MAX_TAPS]; /* [class][colour][tap] */
} aem_wiener;

/* Coefficients per colour and class: 13 for grey, 19 for colour. */
int aem_wiener_taps(int colours);

/* The pair offsets (dy, dx) of the diamond, in the features' order. */
extern const int8_t aem_wiener_offsets[AEM_WIENER_SPATIAL][2];

/* The decoded pixels a filter reads: the rectangle [sx0, sx1) x
 * [sy0, sy1) of the picture, `channels` interleaved samples a pixel
 * (colours of them filtered), rows `stride` bytes apart.  The rectangle
 * holds every pixel of the picture within AEM_WIENER_RADIUS of the
 * output, so clamping to it is clamping to the picture. */
typedef struct {
    const uint8_t *src;
    size_t stride;
    int channels, colours;
    uint32_t sx0, sy0, sx1, sy1;
} aem_wiener_source;

/* Called for each row y with its features f[colour][tap][n] (int32) and
 * each pixel's activity act[n]. */
typedef void (*aem_wiener_row_fn)(void *ctx, uint32_t y, const int32_t *f, const int32_t *act);

/* The features of rows y0 .. y1 - 1, columns x0 .. x0 + n - 1, one row
 * after the other (each reuses the rows the one before padded), to fn:
 * the encoder's fit and the filter read them alike.  -1: out of memory. */
int aem_wiener_rows(const aem_wiener_source *s, uint32_t x0, uint32_t n, uint32_t y0,
                    uint32_t y1, aem_wiener_row_fn fn, void *ctx);

/* Filters the rows y0 .. y1 - 1, columns x0 .. x0 + n - 1, of the source
 * into out (the same layout: `channels` a pixel, alpha copied), whose first
 * row is y0 and first column x0, rows out_stride apart.  scratch: memory
 * of scratch_bytes to work in (the decoder lends its threads' arenas), or
 * NULL (or too small: aem_wiener_scratch_bytes) to allocate.  Returns -1
 * when out of memory. */
size_t aem_wiener_scratch_bytes(uint32_t n, int colours);
int aem_wiener_filter(const aem_wiener *wf, const aem_wiener_source *s, uint32_t x0,
                      uint32_t y0, uint32_t n, uint32_t y1, uint8_t *out, size_t out_stride,
                      void *scratch, size_t scratch_bytes);

#endif
