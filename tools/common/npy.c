/* SPDX-License-Identifier: BSD-3-Clause */
/* npy.c - writes NumPy .npy files (version 1.0, '<f4', C order). */
#include "common/npy.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int npy_f32_bytes(const float *data, const uint64_t *shape, int ndim, uint8_t **out,
                  size_t *size)
{
    char dict[512];
    int len = snprintf(dict, sizeof dict, "{'descr': '<f4', 'fortran_order': False, 'shape': (");
    uint64_t count = 1;
    for (int k = 0; k < ndim; k++) {
        /* "(5,)" for one axis, as Python writes a 1-tuple; "(2, 3)" else. */
        len += snprintf(dict + len, sizeof dict - len, "%llu%s", (unsigned long long)shape[k],
                        k + 1 < ndim ? ", " : ndim == 1 ? "," : "");
        count *= shape[k];
    }
    len += snprintf(dict + len, sizeof dict - len, "), }");
    /* The header (magic 6, version 2, length 2, dict, spaces, '\n') fills a
     * multiple of 64 bytes, so the data starts aligned. */
    size_t head = (10 + (size_t)len + 1 + 63) / 64 * 64;
    *size = head + count * 4;
    uint8_t *b = malloc(*size);
    if (!b)
        return -1;
    memcpy(b, "\x93NUMPY\x01\x00", 8);
    b[8] = (uint8_t)((head - 10) & 0xff), b[9] = (uint8_t)((head - 10) >> 8);
    memcpy(b + 10, dict, (size_t)len);
    memset(b + 10 + len, ' ', head - 10 - (size_t)len - 1);
    b[head - 1] = '\n';
    for (uint64_t i = 0; i < count; i++) { /* little-endian whatever the host */
        uint32_t v;
        memcpy(&v, &data[i], 4);
        for (int k = 0; k < 4; k++)
            b[head + 4 * i + k] = (uint8_t)(v >> (8 * k));
    }
    *out = b;
    return 0;
}
