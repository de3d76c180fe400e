/* SPDX-License-Identifier: BSD-3-Clause */
/* wiener_stream.c - the restoration filter's stream (wiener_stream.h). */
#include "bitstream/wiener_stream.h"

#include <stdlib.h>

#include "bitstream/container.h"
#include "bitstream/zstream.h"
#include "common/bytes.h"

#define WIENER_ZSTD_LEVEL 19

size_t aecb_wiener_raw_size(int classes, int colours)
{
    return 2 * (size_t)(classes - 1) + 2 * (size_t)classes * (size_t)colours *
                                           (size_t)aem_wiener_taps(colours);
}

uint64_t aecb_wiener_bound(int colours)
{
    return 1 + aecb_compress_bound(aecb_wiener_raw_size(AEM_WIENER_MAX_CLASSES, colours));
}

static int wiener_valid(const aem_wiener *wf, int colours, const char **why)
{
    if (wf->classes < 1 || wf->classes > AEM_WIENER_MAX_CLASSES)
        return *why = "classes out of 1..8", 0;
    for (int j = 0; j + 1 < wf->classes; j++)
        if (wf->threshold[j] < 1 || wf->threshold[j] > AEM_WIENER_MAX_ACTIVITY ||
            (j && wf->threshold[j] <= wf->threshold[j - 1]))
            return *why = "thresholds not ascending within 1..9180", 0;
    int T = aem_wiener_taps(colours);
    for (int k = 0; k < wf->classes; k++)
        for (int c = 0; c < colours; c++)
            for (int t = 0; t < T; t++)
                if (wf->w[k][c][t] > AEM_WIENER_MAX_WEIGHT || wf->w[k][c][t] < -AEM_WIENER_MAX_WEIGHT)
                    return *why = "a coefficient outside -4095..4095", 0;
    return 1;
}

aec_status aecb_wiener_write(const aem_wiener *wf, uint8_t **out, size_t *out_size, char *err,
                             size_t errlen)
{
    const char *why;
    if (!wiener_valid(wf, wf->colours, &why)) {
        aecb_seterr(err, errlen, "restoration filter: %s", why);
        return AEC_ERR_INVALID_ARGUMENT;
    }
    size_t n = aecb_wiener_raw_size(wf->classes, wf->colours), k = 0;
    uint8_t *raw = malloc(n), *frame = NULL;
    if (!raw) {
        aecb_seterr(err, errlen, "out of memory for the restoration filter");
        return AEC_ERR_OUT_OF_MEMORY;
    }
    for (int j = 0; j + 1 < wf->classes; j++)
        aec_wr16(raw + k, wf->threshold[j]), k += 2;
    for (int c = 0, T = aem_wiener_taps(wf->colours); c < wf->classes * wf->colours; c++)
        for (int t = 0; t < T; t++)
            aec_wr16(raw + k, (uint16_t)wf->w[c / wf->colours][c % wf->colours][t]), k += 2;
    size_t fsize = 0;
    aec_status st = aecb_zstd_compress(NULL, raw, n, WIENER_ZSTD_LEVEL, NULL, &frame, &fsize, err,
                                       errlen);
    free(raw);
    if (st != AEC_OK)
        return st;
    uint8_t *s = malloc(fsize + 1);
    if (!s) {
        free(frame);
        aecb_seterr(err, errlen, "out of memory for the restoration filter");
        return AEC_ERR_OUT_OF_MEMORY;
    }
    s[0] = (uint8_t)wf->classes;
    for (size_t i = 0; i < fsize; i++)
        s[1 + i] = frame[i];
    free(frame);
    *out = s, *out_size = fsize + 1;
    return AEC_OK;
}

aec_status aecb_wiener_read(ZSTD_DCtx *dctx, const uint8_t *src, size_t size, int colours,
                            aem_wiener *wf, char *err, size_t errlen)
{
    if (size < 2 || src[0] < 1 || src[0] > AEM_WIENER_MAX_CLASSES) {
        aecb_seterr(err, errlen, "restoration filter: %s",
                    size < 2 ? "stream too short" : "classes out of 1..8");
        return AEC_ERR_CORRUPT;
    }
    wf->classes = src[0], wf->colours = colours;
    uint8_t raw[2 * (AEM_WIENER_MAX_CLASSES - 1) +
                2 * AEM_WIENER_MAX_CLASSES * 3 * AEM_WIENER_MAX_TAPS];
    size_t n = aecb_wiener_raw_size(wf->classes, colours), k = 0;
    aec_status st = aecb_zstd_decompress(dctx, NULL, src + 1, size - 1, raw, n, err, errlen);
    if (st != AEC_OK)
        return st;
    for (int j = 0; j + 1 < wf->classes; j++)
        wf->threshold[j] = aec_rd16(raw + k), k += 2;
    for (int c = 0, T = aem_wiener_taps(colours); c < wf->classes * colours; c++)
        for (int t = 0; t < T; t++)
            wf->w[c / colours][c % colours][t] = (int16_t)aec_rd16(raw + k), k += 2;
    const char *why;
    if (!wiener_valid(wf, colours, &why)) {
        aecb_seterr(err, errlen, "restoration filter: %s", why);
        return AEC_ERR_CORRUPT;
    }
    return AEC_OK;
}
