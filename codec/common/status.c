/* SPDX-License-Identifier: BSD-3-Clause */
/* status.c - version and status strings of the public API. */
#include "aecodec.h"

#include <stdlib.h>

const char *aec_version_string(void) { return AEC_VERSION_STRING; }

/* The linked library's version, to compare with the header's at run time. */
uint32_t aec_version_number(void)
{
    return ((uint32_t)AEC_VERSION_MAJOR << 16) | ((uint32_t)AEC_VERSION_MINOR << 8) |
           (uint32_t)AEC_VERSION_PATCH;
}

const char *aec_status_string(aec_status status)
{
    switch (status) {
    case AEC_OK: return "success";
    case AEC_ERR_INVALID_ARGUMENT: return "invalid argument";
    case AEC_ERR_OUT_OF_MEMORY: return "out of memory";
    case AEC_ERR_LIMIT: return "image larger than the configured limits";
    case AEC_ERR_NOT_AEC: return "not an aecodec file";
    case AEC_ERR_UNSUPPORTED: return "unsupported format version or feature";
    case AEC_ERR_CORRUPT: return "corrupt data";
    case AEC_ERR_TRUNCATED: return "truncated data";
    case AEC_ERR_MODEL_MISMATCH: return "file was coded with a model this decoder does not have";
    case AEC_ERR_BAD_MODEL: return "invalid model file";
    case AEC_ERR_IO: return "input/output error";
    }
    return "unknown status";
}

void aec_free(void *p) { free(p); }
