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
    /* The refinement sits on top of every coded stage, in layers of
     * channels, each layer's streams in tile order (one layer unless the
     * file is layered).  A conforming decode uses the layers all of whose
     * streams are in; a preview also the tiles of the next layer that are
     * in (the streams come in order, so those present lead). */
    int layers = h->lattice_layers, cap_layers = layers;
    if (p->stages > 0) /* stages counts the VQ stages, then the layers (of
                          which a file of one layer has its whole refinement) */
        cap_layers = layers > 1 ? p->stages - h->stages : p->stages >= h->stages;
    cap_layers = cap_layers < 0 ? 0 : cap_layers > layers ? layers : cap_layers;
    uint32_t present = 0, wanted = (uint32_t)cap_layers * h->n_tiles; /* lattice streams */
    if (plan->stages == h->stages && plan->alpha) {
        while (present < wanted &&
               stream_end(h, aecb_layer_stream_index(h, (int)(present / h->n_tiles),
                                                      present % h->n_tiles)) <= avail)
            present++;
        if (!p->partial) /* whole layers only */
            present = (uint32_t)(h->lattice_layers_available < cap_layers
                                     ? h->lattice_layers_available
                                     : cap_layers) *
                      h->n_tiles;
        if (present) {
            plan->lat_layers = calloc(h->n_tiles, 1);
            if (!plan->lat_layers)
                return aec_fail(err, AEC_ERR_OUT_OF_MEMORY, "out of memory");
            for (uint32_t t = 0; t < h->n_tiles; t++)
                plan->lat_layers[t] = (uint8_t)(present / h->n_tiles + (t < present % h->n_tiles));
            uint32_t last = present - 1;
            pr->bytes_used = stream_end(
                h, aecb_layer_stream_index(h, (int)(last / h->n_tiles), last % h->n_tiles));
        }
    }
    /* The pixel residual layer (flags bit 7) adds to what the whole latent
     * gives: it is used when every layer of every tile is, when the
     * caller's stage count leaves it in (it counts as one layer more), and
     * when all its streams are in. */
    uint64_t residual_end = 0;
    if (h->flags & AECB_FLAG_RESIDUAL) {
        residual_end = stream_end(h, aecb_residual_stream_index(h, h->n_tiles - 1));
        if (present == (uint32_t)layers * h->n_tiles &&
            (p->stages <= 0 || p->stages > h->stages + layers) && residual_end <= avail &&
            (p->partial || h->residual_available)) {
            plan->residual = 1;
            pr->bytes_used = residual_end;
        }
    }
    /* The restoration filter (version 2) comes last: it is used when all
     * before it is (and counts as one layer more after the residual). */
    uint64_t filter_end = 0;
    int before_filter = plan->stages == h->stages && plan->alpha &&
                        present == (uint32_t)layers * h->n_tiles &&
                        (!(h->flags & AECB_FLAG_RESIDUAL) || plan->residual);
    if (h->version >= AECB_VERSION_FILTER) {
        int below = h->stages + layers + ((h->flags & AECB_FLAG_RESIDUAL) ? 1 : 0);
        filter_end = stream_end(h, aecb_filter_stream_index(h));
        if (before_filter && (p->stages <= 0 || p->stages > below) && filter_end <= avail &&
            (p->partial || h->filter_available)) {
            plan->filter = 1;
            pr->bytes_used = filter_end;
        }
    }
    pr->tiles_refined = present < h->n_tiles ? present : h->n_tiles;
    pr->layers = (int)(present / h->n_tiles);
    pr->tiles_blank = plan->stages == 0 ? h->n_tiles - pr->tiles_refined : 0;
    /* The next change: the next whole stage, else the next lattice
     * stream (without partial, the next whole layer). */
    int capped = p->stages > 0 && p->stages < h->stages;
    int cap = capped ? p->stages : h->stages;
    if (pr->final)
        pr->next_bytes = 0;
    else if (plan->stages < cap)
        pr->next_bytes = stage_end(h, plan->stages + 1);
    else if (!capped && present < wanted) {
        uint32_t next = p->partial ? present : (present / h->n_tiles + 1) * h->n_tiles - 1;
        pr->next_bytes =
            stream_end(h, aecb_layer_stream_index(h, (int)(next / h->n_tiles), next % h->n_tiles));
        if (!p->partial && !(h->flags & AECB_FLAG_LAYERED))
            pr->next_bytes = h->file_size;
    } else if (!capped && residual_end && !plan->residual && present == wanted)
        pr->next_bytes = residual_end;
    else if (!capped && filter_end && !plan->filter && before_filter)
        pr->next_bytes = filter_end;
    return AEC_OK;
}

void aec_dec_plan_free(dec_plan *plan)
{
    free(plan->lat_layers);
    plan->lat_layers = NULL;
}
