/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * png_deflate.c - a PNG's image data filtered and compressed in parallel
 * (see png_deflate.h).
 *
 * A call to png_deflate_rows cuts its rows into chunk descriptors (the rows
 * stay where the caller has them, except those of a chunk that straddles
 * two calls, which are copied into `held`); batches of chunks are then
 * filtered and compressed, each on its own thread with its own z_stream,
 * and handed to the sink in order by the calling thread.
 */
#include "png_deflate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <zlib.h>
#ifdef _OPENMP
#include <omp.h>
#endif

/* Filtered bytes per chunk.  On a 768x512 decoded photograph (10 chunks)
 * the file is 0.05 % larger than with one stream (64 KiB: 0.1 %, 256 KiB:
 * 0.02 %); aeio_write_ex takes 6.8 ms on two threads (64 KiB: 6.3, 256 KiB:
 * 7.4) and 11.9 ms on one, less than one stream's 16.6 ms as a chunk stays
 * in the cache (best of 40 writes, 2-core machine). */
#define CHUNK_TARGET_BYTES (128u << 10)
/* Chunks compressed between two hand-overs to the sink: bounds the memory a
 * call takes however many rows it is given. */
#define CHUNKS_PER_BATCH 32
/* Beyond deflateBound (which assumes Z_FINISH) for the sync flush's empty
 * stored block. */
#define SYNC_FLUSH_SLACK 64
/* zlib counts in uInt: larger buffers are fed in pieces of this size. */
#define ZLIB_PIECE ((size_t)1 << 30)

enum { FILTER_NONE, FILTER_SUB, FILTER_UP, FILTER_AVERAGE, FILTER_PAETH };
#define FILTER_BIT(type) (1u << (type))

enum { CHUNK_OK, CHUNK_NO_MEMORY, CHUNK_ZLIB_ERROR };

struct png_deflate {
    size_t stride;       /* bytes of a raw row: width * channels */
    size_t bpp;          /* bytes per pixel: how far Sub, Average and Paeth look back */
    unsigned filters;    /* FILTER_BIT of each filter type tried */
    uint32_t chunk_rows; /* rows per chunk, from the row size alone */
    int threads;         /* 0 = OpenMP's default */
    uint8_t *held;       /* rows of a chunk not complete yet: chunk_rows rows */
    uint32_t held_rows;
    uint8_t *above;      /* the raw row above the held rows; zeros above the image */
    uLong adler;         /* Adler-32 of the filtered bytes handed to the sink */
    int started;         /* the zlib header went to the sink */
    png_deflate_sink sink;
    void *ctx;
};

/* One chunk's job: its rows in, its raw deflate data out. */
struct chunk {
    const uint8_t *above; /* the raw row above its first row */
    const uint8_t *rows;  /* its raw rows, tightly packed */
    uint32_t count;
    uint8_t *out; /* malloc'ed, out_size bytes */
    size_t out_size;
    size_t filtered_size;
    uLong adler; /* of its filtered bytes */
    int status;  /* CHUNK_OK, CHUNK_NO_MEMORY, CHUNK_ZLIB_ERROR */
};

/* ---- filters ------------------------------------------------------------- */

/* The filters are byte loops the compiler vectorises: built for AVX-512
 * and AVX2 beside the baseline, the loader picking one for the CPU (the
 * rest of the tools are built for the baseline).  Same bytes on each. */
#if defined(__x86_64__) && defined(__GNUC__) && defined(__has_attribute)
#if __has_attribute(target_clones)
#define FILTER_CLONES __attribute__((target_clones("arch=x86-64-v4", "avx2", "default")))
#endif
#endif
#ifndef FILTER_CLONES
#define FILTER_CLONES
#endif
#define FILTER_INLINE static inline __attribute__((always_inline))

/* libpng's measure of a filtered row: the sum of |(int8_t)byte|. */
FILTER_INLINE size_t filter_cost(const uint8_t *p, size_t n)
{
    size_t sum = 0;
    for (size_t i = 0; i < n; i++)
        sum += p[i] < 128 ? p[i] : 256u - p[i];
    return sum;
}

FILTER_INLINE uint8_t paeth_predictor(int a, int b, int c)
{
    int pa = abs(b - c), pb = abs(a - c), pc = abs(a + b - 2 * c);
    return (uint8_t)(pa <= pb && pa <= pc ? a : pb <= pc ? b : c);
}

/* The bytes of filter `type` (not FILTER_NONE) for row under `up`; the
 * first bpp bytes have no left neighbour, taken as zero (PNG spec 9.2). */
FILTER_INLINE void apply_filter(int type, uint8_t *out, const uint8_t *row, const uint8_t *up,
                         size_t n, size_t bpp)
{
    size_t i = 0;
    switch (type) {
    case FILTER_SUB:
        for (; i < bpp; i++)
            out[i] = row[i];
        for (; i < n; i++)
            out[i] = (uint8_t)(row[i] - row[i - bpp]);
        break;
    case FILTER_UP:
        for (; i < n; i++)
            out[i] = (uint8_t)(row[i] - up[i]);
        break;
    case FILTER_AVERAGE:
        for (; i < bpp; i++)
            out[i] = (uint8_t)(row[i] - (up[i] >> 1));
        for (; i < n; i++)
            out[i] = (uint8_t)(row[i] - ((row[i - bpp] + up[i]) >> 1));
        break;
    default: /* FILTER_PAETH */
        for (; i < bpp; i++)
            out[i] = (uint8_t)(row[i] - up[i]);
        for (; i < n; i++)
            out[i] = (uint8_t)(row[i] - paeth_predictor(row[i - bpp], up[i], up[i - bpp]));
        break;
    }
}

/* Writes the filter type byte and the filtered row (1 + n bytes) to out.
 * The filter is libpng's adaptive choice, so the data is the data libpng
 * would compress: of the allowed types, the one of the smallest
 * filter_cost, the lowest type on ties.  scratch holds 2 * n bytes. */
FILTER_CLONES static void filter_row(uint8_t *out, const uint8_t *row, const uint8_t *up, size_t n, size_t bpp,
                       unsigned filters, uint8_t *scratch)
{
    uint8_t *spare[2] = {scratch, scratch + n};
    int next = 0; /* the spare buffer that does not hold the best so far */
    const uint8_t *best = row;
    int best_type = FILTER_NONE;
    size_t best_cost = filters == FILTER_BIT(FILTER_NONE) ? 0 : filter_cost(row, n);
    for (int type = FILTER_SUB; type <= FILTER_PAETH; type++) {
        if (!(filters & FILTER_BIT(type)))
            continue;
        apply_filter(type, spare[next], row, up, n, bpp);
        size_t cost = filter_cost(spare[next], n);
        if (cost < best_cost) {
            best = spare[next];
            best_type = type;
            best_cost = cost;
            next ^= 1;
        }
    }
    out[0] = (uint8_t)best_type;
    memcpy(out + 1, best, n);
}

/* ---- one chunk ----------------------------------------------------------- */

/* Raw deflate of in[0..size) ending in a sync flush, into c->out. */
static int deflate_chunk(struct chunk *c, const uint8_t *in, size_t size)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    int zrc = deflateInit2(&zs, 6, Z_DEFLATED, -15, 8, Z_RLE);
    if (zrc != Z_OK)
        return zrc == Z_MEM_ERROR ? CHUNK_NO_MEMORY : CHUNK_ZLIB_ERROR;
    size_t cap = deflateBound(&zs, size) + SYNC_FLUSH_SLACK, used = 0, done_in = 0;
    uint8_t *out = malloc(cap);
    int status = out ? CHUNK_OK : CHUNK_NO_MEMORY;
    while (status == CHUNK_OK) {
        if (used == cap) { /* more than deflateBound: should not happen, but is fine */
            uint8_t *bigger = realloc(out, cap + cap / 2);
            if (!bigger) {
                status = CHUNK_NO_MEMORY;
                break;
            }
            out = bigger;
            cap += cap / 2;
        }
        size_t in_left = size - done_in, out_left = cap - used;
        zs.next_in = (Bytef *)(in + done_in);
        zs.avail_in = (uInt)(in_left < ZLIB_PIECE ? in_left : ZLIB_PIECE);
        zs.next_out = out + used;
        zs.avail_out = (uInt)(out_left < ZLIB_PIECE ? out_left : ZLIB_PIECE);
        int flush = zs.avail_in == in_left ? Z_SYNC_FLUSH : Z_NO_FLUSH;
        uInt avail_in = zs.avail_in, avail_out = zs.avail_out;
        zrc = deflate(&zs, flush);
        done_in += avail_in - zs.avail_in;
        used += avail_out - zs.avail_out;
        if (zrc != Z_OK)
            status = CHUNK_ZLIB_ERROR;
        else if (flush == Z_SYNC_FLUSH && zs.avail_out != 0)
            break; /* all input taken and flushed */
    }
    deflateEnd(&zs);
    if (status != CHUNK_OK) {
        free(out);
        return status;
    }
    c->out = out;
    c->out_size = used;
    return CHUNK_OK;
}

/* Filters and compresses one chunk; runs on any thread (pd is only read). */
static void compress_chunk(const png_deflate *pd, struct chunk *c)
{
    size_t row_out = pd->stride + 1;
    c->filtered_size = (size_t)c->count * row_out;
    uint8_t *filtered = malloc(c->filtered_size + 2 * pd->stride);
    if (!filtered) {
        c->status = CHUNK_NO_MEMORY;
        return;
    }
    uint8_t *scratch = filtered + c->filtered_size;
    const uint8_t *up = c->above;
    for (uint32_t y = 0; y < c->count; y++) {
        const uint8_t *row = c->rows + (size_t)y * pd->stride;
        filter_row(filtered + (size_t)y * row_out, row, up, pd->stride, pd->bpp, pd->filters,
                   scratch);
        up = row;
    }
    c->adler = adler32_z(adler32(0L, Z_NULL, 0), filtered, c->filtered_size);
    c->status = deflate_chunk(c, filtered, c->filtered_size);
    free(filtered);
}

/* ---- batches ------------------------------------------------------------- */

static void compress_chunks(const png_deflate *pd, struct chunk *c, int n)
{
    int threads = pd->threads;
#ifdef _OPENMP
    if (threads <= 0)
        threads = omp_get_max_threads();
#endif
    if (threads > n)
        threads = n;
    if (threads <= 1) {
        for (int i = 0; i < n; i++)
            compress_chunk(pd, &c[i]);
        return;
    }
#pragma omp parallel for schedule(dynamic, 1) num_threads(threads)
    for (int i = 0; i < n; i++)
        compress_chunk(pd, &c[i]);
}

static int emit(png_deflate *pd, const uint8_t *data, size_t size, char *msg, size_t msglen)
{
    return pd->sink(pd->ctx, data, size, msg, msglen) == 0 ? 0 : -1;
}

/* The zlib header before the first data: deflate with a 32 KiB window;
 * FLEVEL 0 as zlib writes it for Z_RLE (the level is informative only). */
static int emit_header(png_deflate *pd, char *msg, size_t msglen)
{
    static const uint8_t header[2] = {0x78, 0x01};
    if (pd->started)
        return 0;
    pd->started = 1;
    return emit(pd, header, sizeof(header), msg, msglen);
}

static void chunk_message(int status, char *msg, size_t msglen)
{
    if (msg && msglen)
        snprintf(msg, msglen, "%s",
                 status == CHUNK_NO_MEMORY ? "out of memory" : "PNG compression failed (zlib)");
}

/* Compresses n chunks and hands them to the sink in order; frees their
 * output whatever happens. */
static int compress_and_emit(png_deflate *pd, struct chunk *c, int n, char *msg, size_t msglen)
{
    compress_chunks(pd, c, n);
    int rc = emit_header(pd, msg, msglen);
    for (int i = 0; i < n; i++) {
        if (rc == 0 && c[i].status != CHUNK_OK) {
            chunk_message(c[i].status, msg, msglen);
            rc = -1;
        }
        if (rc == 0)
            rc = emit(pd, c[i].out, c[i].out_size, msg, msglen);
        if (rc == 0)
            pd->adler = adler32_combine(pd->adler, c[i].adler, (z_off_t)c[i].filtered_size);
        free(c[i].out);
    }
    return rc;
}

/* ---- interface ----------------------------------------------------------- */

int png_deflate_new(png_deflate **pdp, uint32_t width, uint32_t height, int channels,
                    int threads, png_deflate_sink sink, void *ctx, char *msg, size_t msglen)
{
    *pdp = NULL;
    if (width == 0 || height == 0 || channels < 1 || channels > 4) {
        if (msg && msglen)
            snprintf(msg, msglen, "invalid image (no pixels or bad channel count)");
        return -1;
    }
    png_deflate *pd = calloc(1, sizeof(*pd));
    if (!pd)
        goto oom;
    pd->stride = (size_t)width * (size_t)channels;
    pd->bpp = (size_t)channels;
    size_t rows = CHUNK_TARGET_BYTES / (pd->stride + 1);
    pd->chunk_rows = rows < 1 ? 1 : rows > height ? height : (uint32_t)rows;
    /* libpng's choice: every filter, less those that a single row or a
     * single column makes pointless (pngwutil.c, png_write_start_row). */
    pd->filters = 0x1f;
    if (height == 1)
        pd->filters &= ~(FILTER_BIT(FILTER_UP) | FILTER_BIT(FILTER_AVERAGE) |
                         FILTER_BIT(FILTER_PAETH));
    if (width == 1)
        pd->filters &= ~(FILTER_BIT(FILTER_SUB) | FILTER_BIT(FILTER_AVERAGE) |
                         FILTER_BIT(FILTER_PAETH));
    pd->threads = threads;
    pd->adler = adler32(0L, Z_NULL, 0);
    pd->sink = sink;
    pd->ctx = ctx;
    pd->held = malloc((size_t)pd->chunk_rows * pd->stride);
    pd->above = calloc(1, pd->stride); /* the row above the image is zeros */
    if (!pd->held || !pd->above)
        goto oom;
    *pdp = pd;
    return 0;
oom:
    png_deflate_free(pd);
    if (msg && msglen)
        snprintf(msg, msglen, "out of memory");
    return -1;
}

int png_deflate_rows(png_deflate *pd, const uint8_t *rows, uint32_t count, char *msg,
                     size_t msglen)
{
    if (count == 0)
        return 0;
    size_t stride = pd->stride;
    const uint8_t *above = pd->above; /* the row above the next chunk */
    struct chunk batch[CHUNKS_PER_BATCH];
    int n = 0, rc = 0;
    memset(batch, 0, sizeof(batch));
    if (pd->held_rows > 0) { /* complete the chunk the last call began */
        uint32_t take = pd->chunk_rows - pd->held_rows;
        if (take > count)
            take = count;
        memcpy(pd->held + (size_t)pd->held_rows * stride, rows, (size_t)take * stride);
        pd->held_rows += take;
        rows += (size_t)take * stride;
        count -= take;
        if (pd->held_rows < pd->chunk_rows)
            return 0;
        batch[n++] = (struct chunk){.above = above, .rows = pd->held, .count = pd->chunk_rows};
        above = pd->held + (size_t)(pd->chunk_rows - 1) * stride;
        pd->held_rows = 0;
    }
    while (rc == 0 && count >= pd->chunk_rows) {
        batch[n++] = (struct chunk){.above = above, .rows = rows, .count = pd->chunk_rows};
        above = rows + (size_t)(pd->chunk_rows - 1) * stride;
        rows += (size_t)pd->chunk_rows * stride;
        count -= pd->chunk_rows;
        if (n == CHUNKS_PER_BATCH) {
            rc = compress_and_emit(pd, batch, n, msg, msglen);
            memset(batch, 0, sizeof(batch));
            n = 0;
        }
    }
    if (rc == 0 && n > 0)
        rc = compress_and_emit(pd, batch, n, msg, msglen);
    if (rc != 0)
        return rc;
    /* Keep what the next chunk needs: the rows begun, the row above them. */
    if (above != pd->above)
        memcpy(pd->above, above, stride);
    memcpy(pd->held, rows, (size_t)count * stride);
    pd->held_rows = count;
    return 0;
}

int png_deflate_finish(png_deflate *pd, char *msg, size_t msglen)
{
    if (pd->held_rows > 0) {
        struct chunk last = {.above = pd->above, .rows = pd->held, .count = pd->held_rows};
        if (compress_and_emit(pd, &last, 1, msg, msglen) != 0)
            return -1;
        pd->held_rows = 0;
    }
    /* An empty final block (fixed Huffman: BFINAL, BTYPE 01, end-of-block
     * code) after the byte-aligned chunks, then the Adler-32, big-endian. */
    uint8_t trailer[6] = {0x03, 0x00, (uint8_t)(pd->adler >> 24), (uint8_t)(pd->adler >> 16),
                          (uint8_t)(pd->adler >> 8), (uint8_t)pd->adler};
    if (emit_header(pd, msg, msglen) != 0)
        return -1;
    return emit(pd, trailer, sizeof(trailer), msg, msglen);
}

void png_deflate_free(png_deflate *pd)
{
    if (!pd)
        return;
    free(pd->held);
    free(pd->above);
    free(pd);
}
