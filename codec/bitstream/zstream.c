/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * zstream.c - magicless zstd frames and the alpha filter of bitstream v1.
 */
#define ZSTD_STATIC_LINKING_ONLY /* ZSTD_c_format, ZSTD_d_format, frame header */
#include <zstd.h>
#include <zstd_errors.h>

#include "bitstream/zstream.h"
#include "bitstream/container.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define AECB_ZCHECK(call)                                                            \
    do {                                                                              \
        size_t zr_ = (call);                                                          \
        if (ZSTD_isError(zr_)) {                                                      \
            aecb_seterr(err, errlen, "zstd: %s", ZSTD_getErrorName(zr_));               \
            st = AEC_ERR_INVALID_ARGUMENT;                                            \
            goto done;                                                                \
        }                                                                             \
    } while (0)

aec_status aecb_zstd_compress_into(ZSTD_CCtx *cctx, void *dst, size_t cap, const void *src,
                                   size_t n, int level, const ZSTD_CDict *cdict,
                                   size_t *written, char *err, size_t errlen)
{
    aec_status st = AEC_OK;
    if (!dst || !written || (!src && n)) {
        aecb_seterr(err, errlen, "NULL argument");
        return AEC_ERR_INVALID_ARGUMENT;
    }
    *written = 0;
    ZSTD_CCtx *own = NULL;
    if (!cctx) {
        cctx = own = ZSTD_createCCtx();
        if (!cctx) {
            aecb_seterr(err, errlen, "out of memory for a zstd context");
            return AEC_ERR_OUT_OF_MEMORY;
        }
    }
    AECB_ZCHECK(ZSTD_CCtx_reset(cctx, ZSTD_reset_session_and_parameters));
    AECB_ZCHECK(ZSTD_CCtx_setParameter(cctx, ZSTD_c_compressionLevel, level));
    AECB_ZCHECK(ZSTD_CCtx_setParameter(cctx, ZSTD_c_format, ZSTD_f_zstd1_magicless));
    AECB_ZCHECK(ZSTD_CCtx_setParameter(cctx, ZSTD_c_contentSizeFlag, 1));
    AECB_ZCHECK(ZSTD_CCtx_setParameter(cctx, ZSTD_c_checksumFlag, 0));
    AECB_ZCHECK(ZSTD_CCtx_setParameter(cctx, ZSTD_c_dictIDFlag, 0));
    AECB_ZCHECK(ZSTD_CCtx_refCDict(cctx, cdict));
    {
        size_t r = ZSTD_compress2(cctx, dst, cap, src ? src : "", n);
        if (ZSTD_isError(r)) {
            aecb_seterr(err, errlen, "zstd compression failed: %s", ZSTD_getErrorName(r));
            st = ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation
                     ? AEC_ERR_OUT_OF_MEMORY
                     : AEC_ERR_INVALID_ARGUMENT;
            goto done;
        }
        *written = r;
    }
done:
    if (cctx)
        ZSTD_CCtx_refCDict(cctx, NULL); /* drop the reference to the caller's CDict */
    ZSTD_freeCCtx(own);
    return st;
}

aec_status aecb_zstd_compress(ZSTD_CCtx *cctx, const void *src, size_t n, int level,
                              const ZSTD_CDict *cdict, uint8_t **out, size_t *out_size,
                              char *err, size_t errlen)
{
    if (!out || !out_size) {
        aecb_seterr(err, errlen, "NULL argument");
        return AEC_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    size_t cap = ZSTD_compressBound(n);
    if (cap == 0 || ZSTD_isError(cap)) {
        aecb_seterr(err, errlen, "input of %zu bytes too large for zstd", n);
        return AEC_ERR_LIMIT;
    }
    uint8_t *buf = (uint8_t *)malloc(cap);
    if (!buf) {
        aecb_seterr(err, errlen, "out of memory (%zu bytes)", cap);
        return AEC_ERR_OUT_OF_MEMORY;
    }
    size_t w = 0;
    aec_status st = aecb_zstd_compress_into(cctx, buf, cap, src, n, level, cdict, &w, err, errlen);
    if (st != AEC_OK) {
        free(buf);
        return st;
    }
    /* A fresh exact-size copy rather than realloc shrinking the bound-sized
     * buffer in place: a shrunk block stays where the large one was, and
     * one such small live block per tile pins the freed space around it,
     * so the heap grew with the image (bench/NOTES.md). */
    uint8_t *exact = (uint8_t *)malloc(w ? w : 1);
    if (!exact) {
        free(buf);
        aecb_seterr(err, errlen, "out of memory (%zu bytes)", w);
        return AEC_ERR_OUT_OF_MEMORY;
    }
    memcpy(exact, buf, w);
    free(buf);
    *out = exact;
    *out_size = w;
    return AEC_OK;
}

aec_status aecb_zstd_decompress(ZSTD_DCtx *dctx, const ZSTD_DDict *ddict, const void *src,
                                size_t n, void *dst, size_t expected, char *err,
                                size_t errlen)
{
    aec_status st = AEC_OK;
    if ((!src && n) || (!dst && expected)) {
        aecb_seterr(err, errlen, "NULL argument");
        return AEC_ERR_INVALID_ARGUMENT;
    }
    /* The frame header first: content size, dictionary ID. */
    ZSTD_frameHeader zfh;
    size_t hr = ZSTD_getFrameHeader_advanced(&zfh, src ? src : "", n, ZSTD_f_zstd1_magicless);
    if (ZSTD_isError(hr)) {
        aecb_seterr(err, errlen, "invalid zstd frame header: %s (file corrupt)",
                  ZSTD_getErrorName(hr));
        return AEC_ERR_CORRUPT;
    }
    if (hr != 0) {
        aecb_seterr(err, errlen, "zstd frame of %zu bytes shorter than its header (file corrupt)", n);
        return AEC_ERR_CORRUPT;
    }
    if (zfh.frameType != ZSTD_frame || zfh.frameContentSize == ZSTD_CONTENTSIZE_UNKNOWN) {
        aecb_seterr(err, errlen, "zstd frame without a content size (file corrupt)");
        return AEC_ERR_CORRUPT;
    }
    if (zfh.frameContentSize != (unsigned long long)expected) {
        aecb_seterr(err, errlen, "zstd frame declares %llu bytes, %zu expected (file corrupt)",
                  zfh.frameContentSize, expected);
        return AEC_ERR_CORRUPT;
    }
    if (zfh.dictID != 0) {
        aecb_seterr(err, errlen, "zstd frame declares a dictionary ID (file corrupt)");
        return AEC_ERR_CORRUPT;
    }

    ZSTD_DCtx *own = NULL;
    if (!dctx) {
        dctx = own = ZSTD_createDCtx();
        if (!dctx) {
            aecb_seterr(err, errlen, "out of memory for a zstd context");
            return AEC_ERR_OUT_OF_MEMORY;
        }
    }
    AECB_ZCHECK(ZSTD_DCtx_reset(dctx, ZSTD_reset_session_and_parameters));
    AECB_ZCHECK(ZSTD_DCtx_setParameter(dctx, ZSTD_d_format, ZSTD_f_zstd1_magicless));
    /* The output buffer holds the whole content and is never moved, so zstd
     * decodes in place and needs no window buffer: any window is fine. */
    AECB_ZCHECK(ZSTD_DCtx_setParameter(dctx, ZSTD_d_stableOutBuffer, 1));
    AECB_ZCHECK(ZSTD_DCtx_setParameter(dctx, ZSTD_d_windowLogMax, ZSTD_WINDOWLOG_MAX));
    AECB_ZCHECK(ZSTD_DCtx_refDDict(dctx, ddict));
    {
        uint8_t dummy = 0;
        ZSTD_inBuffer in = {src, n, 0};
        ZSTD_outBuffer out = {dst ? dst : &dummy, expected, 0};
        for (;;) {
            size_t pin = in.pos, pout = out.pos;
            size_t r = ZSTD_decompressStream(dctx, &out, &in);
            if (ZSTD_isError(r)) {
                aecb_seterr(err, errlen, "zstd frame does not decode: %s (file corrupt)",
                          ZSTD_getErrorName(r));
                st = ZSTD_getErrorCode(r) == ZSTD_error_memory_allocation ? AEC_ERR_OUT_OF_MEMORY
                                                                          : AEC_ERR_CORRUPT;
                goto done;
            }
            if (r == 0)
                break;
            if (in.pos == pin && out.pos == pout) {
                aecb_seterr(err, errlen, "zstd frame ends early (file corrupt)");
                st = AEC_ERR_CORRUPT;
                goto done;
            }
        }
        if (in.pos != n) {
            aecb_seterr(err, errlen, "%zu bytes after the end of the zstd frame (file corrupt)",
                      n - in.pos);
            st = AEC_ERR_CORRUPT;
            goto done;
        }
        if (out.pos != expected) {
            aecb_seterr(err, errlen, "zstd frame decodes to %zu bytes, %zu expected (file corrupt)",
                      out.pos, expected);
            st = AEC_ERR_CORRUPT;
            goto done;
        }
    }
done:
    if (dctx)
        ZSTD_DCtx_refDDict(dctx, NULL);
    ZSTD_freeDCtx(own);
    return st;
}

void aecb_alpha_filter(uint8_t *dst, const uint8_t *src, uint32_t w, uint32_t h,
                       size_t pixel_step, size_t row_stride)
{
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * row_stride;
        uint8_t *d = dst + (size_t)y * w;
        uint8_t left = 0;
        for (uint32_t x = 0; x < w; x++) {
            uint8_t a = s[(size_t)x * pixel_step];
            d[x] = (uint8_t)(a - left);
            left = a;
        }
    }
}

void aecb_alpha_unfilter(uint8_t *dst, size_t pixel_step, size_t row_stride,
                         const uint8_t *src, uint32_t w, uint32_t h)
{
    for (uint32_t y = 0; y < h; y++) {
        const uint8_t *s = src + (size_t)y * w;
        uint8_t *d = dst + (size_t)y * row_stride;
        uint8_t left = 0;
        for (uint32_t x = 0; x < w; x++) {
            left = (uint8_t)(left + s[x]);
            d[(size_t)x * pixel_step] = left;
        }
    }
}
