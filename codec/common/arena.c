/* SPDX-License-Identifier: BSD-3-Clause */
/* arena.c - see arena.h. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_POPULATE */
#include "common/arena.h"

#include <stdlib.h>
#include <sys/mman.h>

/* Whether buffers of `bytes` are mapped (else from calloc). */
static int mapped(size_t bytes)
{
#if defined(MAP_POPULATE) && defined(MAP_ANONYMOUS)
    return bytes >= AEC_ARENA_MAP_MIN;
#else
    (void)bytes;
    return 0;
#endif
}

void *aec_arena_alloc(size_t bytes)
{
#if defined(MAP_POPULATE) && defined(MAP_ANONYMOUS)
    if (mapped(bytes)) {
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        return p == MAP_FAILED ? NULL : p;
    }
#endif
    return calloc(1, bytes);
}

void aec_arena_free(void *p, size_t bytes)
{
    if (p && mapped(bytes))
        munmap(p, bytes);
    else
        free(p);
}
