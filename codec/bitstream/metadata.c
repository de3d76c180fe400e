/* SPDX-License-Identifier: BSD-3-Clause */
/* metadata.c - the metadata stream: ICC profile and EXIF chunks (metadata.h). */
#include "bitstream/metadata.h"

#include <string.h>

#include "bitstream/container.h"
#include "common/bytes.h"

#define CHUNK_HEAD 8u

static const char ICC_TYPE[4] = {'I', 'C', 'C', 'P'};
static const char EXIF_TYPE[4] = {'E', 'X', 'I', 'F'};

uint64_t aecb_metadata_size(const aec_metadata *md)
{
    uint64_t n = 0;
    if (md && md->icc && md->icc_size)
        n += CHUNK_HEAD + (uint64_t)md->icc_size;
    if (md && md->exif && md->exif_size)
        n += CHUNK_HEAD + (uint64_t)md->exif_size;
    return n;
}

static uint8_t *put_chunk(uint8_t *p, const char type[4], const uint8_t *data, size_t size)
{
    memcpy(p, type, 4);
    aec_wr32(p + 4, (uint32_t)size);
    memcpy(p + CHUNK_HEAD, data, size);
    return p + CHUNK_HEAD + size;
}

void aecb_metadata_write(const aec_metadata *md, uint8_t *out)
{
    if (md->icc && md->icc_size)
        out = put_chunk(out, ICC_TYPE, md->icc, md->icc_size);
    if (md->exif && md->exif_size)
        put_chunk(out, EXIF_TYPE, md->exif, md->exif_size);
}

aec_status aecb_metadata_parse(const uint8_t *data, size_t size, aec_metadata *md, char *err,
                               size_t errlen)
{
    memset(md, 0, sizeof *md);
    size_t pos = 0;
    while (pos < size) {
        if (size - pos < CHUNK_HEAD) {
            aecb_seterr(err, errlen, "metadata chunk header cut at byte %zu (file corrupt)", pos);
            return AEC_ERR_CORRUPT;
        }
        const uint8_t *type = data + pos;
        uint32_t len = aec_rd32(data + pos + 4);
        pos += CHUNK_HEAD;
        if (len == 0 || len > size - pos) {
            aecb_seterr(err, errlen, "metadata chunk of %u bytes, %zu left (file corrupt)", len,
                        size - pos);
            return AEC_ERR_CORRUPT;
        }
        const uint8_t **slot = NULL;
        size_t *slot_size = NULL;
        if (memcmp(type, ICC_TYPE, 4) == 0)
            slot = &md->icc, slot_size = &md->icc_size;
        else if (memcmp(type, EXIF_TYPE, 4) == 0)
            slot = &md->exif, slot_size = &md->exif_size;
        if (slot) { /* unknown types are skipped: a later version may add some */
            if (*slot) {
                aecb_seterr(err, errlen, "metadata chunk %.4s repeated (file corrupt)",
                            (const char *)type);
                memset(md, 0, sizeof *md);
                return AEC_ERR_CORRUPT;
            }
            *slot = data + pos;
            *slot_size = len;
        }
        pos += len;
    }
    return AEC_OK;
}

aec_status aec_read_metadata(const uint8_t *data, size_t size, aec_metadata *md)
{
    if (!md || (!data && size))
        return AEC_ERR_INVALID_ARGUMENT;
    memset(md, 0, sizeof *md);
    aecb_header h;
    aec_limits any = {UINT64_MAX, AECB_MAX_DIMENSION}; /* reading, not decoding */
    aec_status st = aecb_parse(data, size, &any, &h, NULL, 0);
    if (st != AEC_OK)
        return st;
    if (h.flags & AECB_FLAG_METADATA) {
        uint32_t i = aecb_metadata_stream_index(&h);
        st = aecb_check_stream(&h, data, size, i, NULL, 0);
        if (st == AEC_OK)
            st = aecb_metadata_parse(data + h.offsets[i], h.sizes[i], md, NULL, 0);
    }
    aecb_header_free(&h);
    return st;
}
