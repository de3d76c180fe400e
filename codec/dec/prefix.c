/* SPDX-License-Identifier: BSD-3-Clause */
/* prefix.c - what a decode uses of the data it is given: the header of a
 * file that may still be arriving, and the plan (VQ stages, lattice
 * sections per tile, progress) that follows from the bytes present.
 *
 * aecb_parse refuses a prefix that does not hold stage 1 (and every prefix
 * of a file without VQ stages), as a conforming decoder must.  A
 * progressive decode needs the header and table of such a prefix: they
 * are parsed as if the whole file were there (aecb_parse reads nothing
 * past the table; the streams' presence is checked against the real
 * length here and by aecb_check_stream before each one is used). */
#include <stdlib.h>
#include <string.h>

#include "common/bytes.h"
#include "common/context.h"
#include "dec/dec_internal.h"

/* Header bytes the spec fixes (section 3): stream_count at 20, file_size
 * at 32. */
#define STREAM_COUNT_AT 20
#define FILE_SIZE_AT 32

aec_status aec_dec_parse(const uint8_t *data, size_t size, const aec_limits *lim, int partial,
                         aecb_header *h, uint64_t *need, char *err)
{
    *need = 0;
    aec_status st = aecb_parse(data, size, lim, h, err, AEC_ERR_BYTES);
    if (st != AEC_ERR_TRUNCATED || !partial)
        return st;
    if (size < AECB_HEADER_BYTES) {
        *need = AECB_HEADER_BYTES;
        return st;
    }
    /* The table's length from the (not yet verified) stream count: only a
     * bound on what to wait for; aecb_parse checks the count against the
     * geometry before it reads the table. */
    uint64_t head = AECB_HEADER_BYTES + (uint64_t)AECB_ENTRY_BYTES * aec_rd32(data + STREAM_COUNT_AT);
    if (size < head) {
        *need = head;
        return aec_fail(err, AEC_ERR_TRUNCATED,
                        "file truncated in the stream table (%zu of %llu bytes)", size,
                        (unsigned long long)head);
    }
    uint64_t declared = aec_rd64(data + FILE_SIZE_AT);
    if (declared <= size || declared > SIZE_MAX)
        return st; /* not a plain prefix: keep aecb_parse's verdict */
    return aecb_parse(data, (size_t)declared, lim, h, err, AEC_ERR_BYTES);
}

/* Offset just past stream i. */
static uint64_t stream_end(const aecb_header *h, uint32_t i) { return h->offsets[i] + h->sizes[i]; }

/* end(s) of spec/bitstream.md section 8: past the last stream of stage s. */
static uint64_t stage_end(const aecb_header *h, int s)
{
    if (s == 0)
        return (h->flags & AECB_FLAG_ALPHA) ? stream_end(h, AECB_ALPHA_STREAM)
                                             : h->header_bytes;
    return stream_end(h, aecb_stream_index(h, s - 1, h->n_tiles - 1));
}

aec_status aec_dec_plan(const aecb_header *h, size_t size, const aec_decode_params *p,
                        dec_plan *plan, char *err)
{
    memset(plan, 0, sizeof *plan);
    aec_progress *pr = &plan->progress;
    pr->file_size = h->file_size;
    pr->final = (uint64_t)size >= h->file_size;
    pr->tiles = h->n_tiles;
    uint64_t avail = pr->final ? h->file_size : size;
    int complete = 0; /* whole stages present */
    plan->alpha = !(h->flags & AECB_FLAG_ALPHA) || stage_end(h, 0) <= avail;
    while (plan->alpha && complete < h->stages && stage_end(h, complete + 1) <= avail)
        complete++;
    if (!p->partial) /* aecb_parse has refused anything less */
        complete = h->stages_available;
    plan->stages = p->stages > 0 && p->stages < complete ? p->stages : complete;
    pr->stages = plan->stages;
    pr->bytes_used = plan->alpha ? stage_end(h, plan->stages) : 0;
    /* The refinement sits on top of every coded stage; a conforming
     * decode uses it only when all of it is there, a preview tile by tile
     * (the sections come in raster order, so those present lead). */
    uint32_t refined = 0;
    if ((h->flags & AECB_FLAG_LATTICE) && plan->stages == h->stages && plan->alpha) {
        while (refined < h->n_tiles && stream_end(h, aecb_lattice_stream_index(h, refined)) <= avail)
            refined++;
        if (!p->partial && !h->lattice_available)
            refined = 0;
        if (refined) {
            plan->lat_ok = calloc(h->n_tiles, 1);
            if (!plan->lat_ok)
                return aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
            memset(plan->lat_ok, 1, refined);
            pr->bytes_used = stream_end(h, aecb_lattice_stream_index(h, refined - 1));
        }
    }
    pr->tiles_refined = refined;
    pr->tiles_blank = plan->stages == 0 ? h->n_tiles - refined : 0;
    /* The next change: the next whole stage, else the next lattice
     * section (without partial, only the whole refinement counts). */
    int capped = p->stages > 0 && p->stages < h->stages;
    int cap = capped ? p->stages : h->stages;
    if (pr->final)
        pr->next_bytes = 0;
    else if (plan->stages < cap)
        pr->next_bytes = stage_end(h, plan->stages + 1);
    else if (!capped && (h->flags & AECB_FLAG_LATTICE) && refined < h->n_tiles)
        pr->next_bytes =
            p->partial ? stream_end(h, aecb_lattice_stream_index(h, refined)) : h->file_size;
    return AEC_OK;
}

void aec_dec_plan_free(dec_plan *plan)
{
    free(plan->lat_ok);
    plan->lat_ok = NULL;
}
