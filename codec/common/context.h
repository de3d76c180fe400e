/* SPDX-License-Identifier: BSD-3-Clause */
/* context.h - internals shared by the encoder and decoder contexts. */
#ifndef AEC_COMMON_CONTEXT_H
#define AEC_COMMON_CONTEXT_H
#include <stdarg.h>
#include <stdio.h>

#include "aecodec.h"

#define AEC_ERR_BYTES 256
#define AEC_DEFAULT_TILE 1024
#define AEC_ZSTD_LEVEL 19

/* Records a one-line error message and returns the status, so error paths
 * read `return aec_fail(ctx->err, AEC_ERR_CORRUPT, "...", ...);`. */
static inline aec_status aec_fail(char *err, aec_status st, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err, AEC_ERR_BYTES, fmt, ap);
    va_end(ap);
    return st;
}

static inline int aec_layout_channels(int layout) { return layout; }
static inline int aec_layout_has_alpha(int layout) { return layout == AEC_GRAY_ALPHA || layout == AEC_RGBA; }
static inline int aec_layout_is_gray(int layout) { return layout == AEC_GRAY || layout == AEC_GRAY_ALPHA; }
static inline int aec_layout_valid(int layout) { return layout >= AEC_GRAY && layout <= AEC_RGBA; }
#endif
