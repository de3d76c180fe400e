/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * lattice_stream.c - the split layout of a tile's lattice refinement
 * stream (spec/bitstream.md section 6.7).
 *
 * Sections, in order, each one magicless zstd frame (or nothing when its
 * raw size is 0), after a directory of their compressed sizes:
 *   P_d    d < PRED: the predicted channel d, zigzag MED residuals as a
 *          plane of low bytes then one of high bytes (2n bytes)
 *   F_g    significance of channels PRED + 8g .. +7: bit k of byte j is
 *          set when that channel's symbol at latent j is not zero (n bytes)
 *   GT1    one bit per non-zero symbol: |s| > 1
 *   R8     one byte per symbol with |s| > 1: min(|s| - 2, 255)
 *   R16    two bytes (little-endian) per R8 byte of 255: |s| - 257
 *   SIGN   one bit per non-zero symbol: s < 0
 * The non-zero symbols of channels PRED.. are visited in the order of the
 * symbol array [D][lh][lw], and bits are packed from the least significant.
 */
#include "bitstream/lattice_stream.h"

#include <stdlib.h>
#include <string.h>

#include "bitstream/container.h"
#include "bitstream/zstream.h"
#include "common/bytes.h"
#include "vq/lattice.h"

/* Zeroed bytes after the last section in the reader's work buffer, so its
 * branch-free pass may read one byte past each section. */
enum { SLACK = 8 };

size_t aecb_split_predicted(size_t first, size_t D)
{
    if (first >= AEM_LATTICE_PREDICTED)
        return 0;
    size_t below = AEM_LATTICE_PREDICTED - first;
    return D < below ? D : below;
}
/* The channels of a stream: D of them, the first `pd` predicted. */
static size_t groups(size_t D, size_t pd) { return (D - pd + 7) / 8; }
static size_t sections(size_t D, size_t pd) { return pd + groups(D, pd) + 4; }

size_t aecb_split_sections_at(size_t first, size_t D)
{
    return sections(D, aecb_split_predicted(first, D));
}
size_t aecb_split_sections(size_t D) { return aecb_split_sections_at(0, D); }

size_t aecb_split_work_bytes_at(size_t first, size_t D, size_t n)
{
    /* a predicted or significance section, or the four last sections at
     * once (aecb_split_read decodes them together in one pass) */
    size_t rest = (D - aecb_split_predicted(first, D)) * n;
    return 2 * n + 2 * ((rest + 7) / 8) + 3 * rest + SLACK;
}
size_t aecb_split_work_bytes(size_t D, size_t n) { return aecb_split_work_bytes_at(0, D, n); }

/* Most raw bytes section sec can have, for a tile of n latents. */
static size_t section_cap(size_t D, size_t pd, size_t n, size_t sec)
{
    size_t PRED = pd, G = groups(D, pd), rest = (D - PRED) * n;
    if (sec < PRED)
        return 2 * n;
    if (sec < PRED + G)
        return n;
    size_t tail[4] = {(rest + 7) / 8, rest, 2 * rest, (rest + 7) / 8}; /* GT1, R8, R16, SIGN */
    return tail[sec - PRED - G];
}

uint64_t aecb_split_bound_at(size_t first, size_t D, size_t n)
{
    size_t pd = aecb_split_predicted(first, D);
    uint64_t bound = AEC_LEB128_MAX * sections(D, pd);
    for (size_t sec = 0; sec < sections(D, pd); sec++)
        bound += aecb_compress_bound(section_cap(D, pd, n, sec));
    return bound;
}
uint64_t aecb_split_bound(size_t D, size_t n) { return aecb_split_bound_at(0, D, n); }

static int32_t clamp_symbol(int32_t v)
{
    return v > AEM_LATTICE_MAX_SYMBOL ? AEM_LATTICE_MAX_SYMBOL
           : v < -AEM_LATTICE_MAX_SYMBOL ? -AEM_LATTICE_MAX_SYMBOL
                                          : v;
}

/* ---- writing ------------------------------------------------------------ */

/* The raw bytes of section `sec` of sym into raw; returns their count. */
static size_t section_bytes(const int32_t *sym, size_t D, size_t pd, size_t lw, size_t n,
                            size_t sec, uint8_t *raw)
{
    size_t PRED = pd, G = groups(D, pd), k = 0;
    const int32_t *rest = sym + PRED * n, *end = sym + D * n;
    if (sec < PRED) { /* a predicted channel: the planes layout of one channel */
        aem_lattice_pack(sym + sec * n, 1, lw, n / lw, raw);
        return 2 * n;
    }
    if (sec < PRED + G) { /* significance of a group of 8 channels */
        size_t d0 = PRED + 8 * (sec - PRED);
        for (size_t j = 0; j < n; j++) {
            unsigned b = 0;
            for (size_t c = 0; c < 8 && d0 + c < D; c++)
                b |= (unsigned)(sym[(d0 + c) * n + j] != 0) << c;
            raw[j] = (uint8_t)b;
        }
        return n;
    }
    switch (sec - PRED - G) {
    case 0: /* GT1 */
    case 3: /* SIGN */
        for (const int32_t *s = rest; s < end; s++)
            if (*s) {
                int bit = sec - PRED - G == 0 ? (*s > 1 || *s < -1) : *s < 0;
                if (k % 8 == 0)
                    raw[k / 8] = 0;
                raw[k / 8] |= (uint8_t)(bit << (k % 8));
                k++;
            }
        return (k + 7) / 8;
    case 1: /* R8 */
        for (const int32_t *s = rest; s < end; s++) {
            int32_t a = *s < 0 ? -*s : *s;
            if (a > 1)
                raw[k++] = (uint8_t)(a - 2 < 255 ? a - 2 : 255);
        }
        return k;
    default: /* R16 */
        for (const int32_t *s = rest; s < end; s++) {
            int32_t a = *s < 0 ? -*s : *s;
            if (a >= 257) {
                raw[k++] = (uint8_t)(a - 257);
                raw[k++] = (uint8_t)((a - 257) >> 8);
            }
        }
        return k;
    }
}

/* Room for section sec's zstd frame. */
static size_t frame_cap(size_t D, size_t pd, size_t n, size_t sec)
{
    return (size_t)aecb_compress_bound(section_cap(D, pd, n, sec));
}

/* Section sec of sym compressed into dst (cap bytes); *w its size.  ctx:
 * a context to use, or NULL for one of its own. */
static aec_status write_section(ZSTD_CCtx *ctx, const int32_t *sym, size_t D, size_t pd,
                                size_t lw, size_t n, size_t sec, int level, uint8_t *raw,
                                uint8_t *dst, size_t cap, size_t *w, char *err, size_t errlen)
{
    size_t len = section_bytes(sym, D, pd, lw, n, sec, raw);
    *w = 0;
    return len ? aecb_zstd_compress_into(ctx, dst, cap, raw, len, level, NULL, w, err, errlen)
               : AEC_OK;
}

static aec_status split_write(ZSTD_CCtx *cctx, int tasks, const int32_t *sym, size_t first,
                              size_t D, size_t lw, size_t lh, int level, uint8_t **out,
                              size_t *out_size, char *err, size_t errlen)
{
    if (!sym || !out || !out_size || !lw || !lh || !D || D > 255) {
        aecb_seterr(err, errlen, "NULL or empty argument, or over 255 channels");
        return AEC_ERR_INVALID_ARGUMENT;
    }
    *out = NULL;
    *out_size = 0;
    size_t n = lw * lh, pd = aecb_split_predicted(first, D), S = sections(D, pd);
    for (size_t i = 0; i < D * n; i++)
        if (sym[i] > AEM_LATTICE_MAX_SYMBOL || sym[i] < -AEM_LATTICE_MAX_SYMBOL) {
            aecb_seterr(err, errlen, "lattice symbol %d out of range", (int)sym[i]);
            return AEC_ERR_INVALID_ARGUMENT;
        }
    /* Each section its own raw and frame space, so that the sections can be
     * compressed in any order, or at once. */
    size_t raw_all = 0, frame_all = 0;
    for (size_t sec = 0; sec < S; sec++) {
        raw_all += section_cap(D, pd, n, sec);
        frame_all += frame_cap(D, pd, n, sec);
    }
    uint8_t *raw = malloc(raw_all + 1), *frames = malloc(frame_all + 1);
    uint32_t *sizes = malloc(sizeof(uint32_t) * S);
    size_t *raw_at = malloc(sizeof(size_t) * 2 * S), *frame_at = raw_at + S;
    aec_status *status = malloc(sizeof(aec_status) * S);
    aec_status st = AEC_ERR_OUT_OF_MEMORY;
    if (!raw || !frames || !sizes || !raw_at || !status) {
        aecb_seterr(err, errlen, "out of memory for a lattice stream");
        goto done;
    }
    for (size_t sec = 0, r = 0, f = 0; sec < S; sec++) {
        raw_at[sec] = r, frame_at[sec] = f;
        r += section_cap(D, pd, n, sec);
        f += frame_cap(D, pd, n, sec);
    }
    if (tasks) {
        /* One task a section, each with a context of its own (tasks run on
         * any thread of the team); zstd's bytes do not depend on the
         * context, so they are those of the loop below. */
#pragma omp taskloop grainsize(1)
        for (size_t sec = 0; sec < S; sec++) {
            size_t w = 0;
            status[sec] = write_section(NULL, sym, D, pd, lw, n, sec, level, raw + raw_at[sec],
                                        frames + frame_at[sec], frame_cap(D, pd, n, sec), &w,
                                        NULL, 0);
            sizes[sec] = (uint32_t)w;
        }
    } else {
        for (size_t sec = 0; sec < S; sec++) {
            size_t w = 0;
            status[sec] = write_section(cctx, sym, D, pd, lw, n, sec, level, raw + raw_at[sec],
                                        frames + frame_at[sec], frame_cap(D, pd, n, sec), &w,
                                        err, errlen);
            sizes[sec] = (uint32_t)w;
            if (status[sec] != AEC_OK) {
                st = status[sec];
                goto done;
            }
        }
    }
    for (size_t sec = 0; sec < S; sec++)
        if (status[sec] != AEC_OK) {
            st = status[sec];
            aecb_seterr(err, errlen, "%s compressing a lattice stream's section",
                        st == AEC_ERR_OUT_OF_MEMORY ? "out of memory" : "zstd failed");
            goto done;
        }
    uint8_t dir[AEC_LEB128_MAX * (AEM_LATTICE_PREDICTED + 32 + 4)];
    size_t dl = 0, used = 0;
    for (size_t sec = 0; sec < S; sec++) {
        dl += aec_put_leb128(dir + dl, sizes[sec]);
        used += sizes[sec];
    }
    st = AEC_ERR_OUT_OF_MEMORY;
    *out = malloc(dl + used);
    if (!*out) {
        aecb_seterr(err, errlen, "out of memory for a lattice stream");
        goto done;
    }
    memcpy(*out, dir, dl);
    for (size_t sec = 0, at = dl; sec < S; at += sizes[sec], sec++)
        memcpy(*out + at, frames + frame_at[sec], sizes[sec]);
    *out_size = dl + used;
    st = AEC_OK;
done:
    free(raw), free(frames), free(sizes), free(raw_at), free(status);
    return st;
}

aec_status aecb_split_write_at(ZSTD_CCtx *cctx, const int32_t *sym, size_t first, size_t D,
                               size_t lw, size_t lh, int level, uint8_t **out, size_t *out_size,
                               char *err, size_t errlen)
{
    return split_write(cctx, 0, sym, first, D, lw, lh, level, out, out_size, err, errlen);
}

aec_status aecb_split_write(ZSTD_CCtx *cctx, const int32_t *sym, size_t D, size_t lw,
                            size_t lh, int level, uint8_t **out, size_t *out_size, char *err,
                            size_t errlen)
{
    return split_write(cctx, 0, sym, 0, D, lw, lh, level, out, out_size, err, errlen);
}

aec_status aecb_split_write_tasks_at(const int32_t *sym, size_t first, size_t D, size_t lw,
                                     size_t lh, int level, uint8_t **out, size_t *out_size,
                                     char *err, size_t errlen)
{
    return split_write(NULL, 1, sym, first, D, lw, lh, level, out, out_size, err, errlen);
}

aec_status aecb_split_write_tasks(const int32_t *sym, size_t D, size_t lw, size_t lh, int level,
                                  uint8_t **out, size_t *out_size, char *err, size_t errlen)
{
    return split_write(NULL, 1, sym, 0, D, lw, lh, level, out, out_size, err, errlen);
}

/* ---- reading ------------------------------------------------------------ */

typedef struct {
    const uint8_t *at; /* the next section's frame */
    const uint32_t *sizes;
    ZSTD_DCtx *dctx;
    char *err;
    size_t errlen;
} section_reader;

static const char *section_name(size_t D, size_t pd, size_t sec)
{
    static const char *const tail[] = {"greater-than-one", "remainder", "large remainder",
                                       "sign"};
    size_t PRED = pd, G = groups(D, pd);
    return sec < PRED ? "predicted channel" : sec < PRED + G ? "significance" : tail[sec - PRED - G];
}

/* Decompresses section sec, of raw size len, into dst. */
static aec_status read_section(section_reader *r, size_t D, size_t pd, size_t sec, size_t len,
                               uint8_t *dst)
{
    uint32_t zs = r->sizes[sec];
    if (!len != !zs) {
        aecb_seterr(r->err, r->errlen,
                    "lattice %s section %zu is %s (file corrupt)", section_name(D, pd, sec), sec,
                    zs ? "not empty" : "missing");
        return AEC_ERR_CORRUPT;
    }
    if (!len)
        return AEC_OK;
    aec_status st = aecb_zstd_decompress(r->dctx, NULL, r->at, zs, dst, len, r->err, r->errlen);
    r->at += zs;
    return st;
}

aec_status aecb_split_read(ZSTD_DCtx *dctx, const uint8_t *src, size_t size, size_t D,
                           size_t lw, size_t lh, uint8_t *work, int32_t *sym, char *err,
                           size_t errlen)
{
    return aecb_split_read_at(dctx, src, size, 0, D, lw, lh, work, sym, err, errlen);
}

aec_status aecb_split_read_at(ZSTD_DCtx *dctx, const uint8_t *src, size_t size, size_t first,
                              size_t D, size_t lw, size_t lh, uint8_t *work, int32_t *sym,
                              char *err, size_t errlen)
{
    if (!src || !work || !sym || !lw || !lh || !D || D > 255) {
        aecb_seterr(err, errlen, "NULL or empty argument");
        return AEC_ERR_INVALID_ARGUMENT;
    }
    size_t n = lw * lh, pd = aecb_split_predicted(first, D), PRED = pd, G = groups(D, pd),
           S = sections(D, pd);
    uint32_t sizes[AEM_LATTICE_PREDICTED + 32 + 4];
    /* The directory: S LEB128 sizes, then frames filling the stream. */
    size_t pos = 0;
    uint64_t total = 0;
    for (size_t sec = 0; sec < S; sec++) {
        int bad = aec_get_leb128(src, size, &pos, &sizes[sec]);
        if (bad) {
            aecb_seterr(err, errlen, "lattice stream directory %s (file corrupt)",
                        bad == 1   ? "truncated"
                        : bad == 2 ? "has a size over 5 bytes"
                                   : "has a size over 2^32");
            return AEC_ERR_CORRUPT;
        }
        total += sizes[sec];
    }
    if (total != size - pos) {
        aecb_seterr(err, errlen,
                    "lattice stream holds %zu bytes of frames, its directory %llu (file corrupt)",
                    size - pos, (unsigned long long)total);
        return AEC_ERR_CORRUPT;
    }
    section_reader r = {src + pos, sizes, dctx, err, errlen};
    aec_status st;

    /* Predicted channels: residuals of the median prediction. */
    for (size_t d = 0; d < PRED; d++) {
        if ((st = read_section(&r, D, pd, d, 2 * n, work)) != AEC_OK)
            return st;
        aem_lattice_unpack(work, 1, lw, lh, sym + d * n);
    }
    /* Significance: every other symbol becomes 0 or 1. */
    size_t nonzero = 0;
    for (size_t g = 0; g < G; g++) {
        if ((st = read_section(&r, D, pd, PRED + g, n, work)) != AEC_OK)
            return st;
        size_t d0 = PRED + 8 * g, width = D - d0 < 8 ? D - d0 : 8;
        for (size_t j = 0; j < n; j++)
            if (work[j] >> width) {
                aecb_seterr(err, errlen,
                            "lattice significance byte sets a bit beyond channel %zu (file corrupt)",
                            D - 1);
                return AEC_ERR_CORRUPT;
            }
        for (size_t c = 0; c < width; c++) { /* plane by plane: sequential writes */
            int32_t *plane = sym + (d0 + c) * n;
            for (size_t j = 0; j < n; j++) {
                plane[j] = (work[j] >> c) & 1;
                nonzero += (size_t)plane[j];
            }
        }
    }
    /* The four last sections side by side in work, each sized from the
     * one before, then one pass over the non-zero symbols. */
    size_t sec = PRED + G, bits = (nonzero + 7) / 8;
    uint8_t *gt1 = work;
    if ((st = read_section(&r, D, pd, sec++, bits, gt1)) != AEC_OK)
        return st;
    size_t large = 0;
    for (size_t k = 0; k < nonzero; k++)
        large += (gt1[k / 8] >> (k % 8)) & 1;
    uint8_t *r8 = gt1 + bits;
    if ((st = read_section(&r, D, pd, sec++, large, r8)) != AEC_OK)
        return st;
    size_t escapes = 0;
    for (size_t k = 0; k < large; k++)
        escapes += r8[k] == 255;
    uint8_t *r16 = r8 + large;
    if ((st = read_section(&r, D, pd, sec++, 2 * escapes, r16)) != AEC_OK)
        return st;
    uint8_t *sign = r16 + 2 * escapes;
    if ((st = read_section(&r, D, pd, sec++, bits, sign)) != AEC_OK)
        return st;
    memset(sign + bits, 0, SLACK);
    /* Branch-free (the zeros and non-zeros come in no predictable order):
     * cursors advance by 0 or 1, and a byte read one past a section is
     * multiplied by 0. */
    size_t k = 0;
    for (int32_t *s = sym + PRED * n, *end = sym + D * n; s < end; s++) {
        int32_t nz = *s;
        int32_t more = (gt1[k / 8] >> (k % 8)) & nz;
        int32_t neg = (sign[k / 8] >> (k % 8)) & nz;
        int32_t m = nz + more + more * (int32_t)*r8;
        r8 += more;
        if (m == 257) { /* a large remainder */
            m = clamp_symbol(257 + (int32_t)(r16[0] | (uint32_t)r16[1] << 8));
            r16 += 2;
        }
        *s = neg ? -m : m;
        k += (size_t)nz;
    }
    return AEC_OK;
}
