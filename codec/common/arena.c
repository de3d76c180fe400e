/* SPDX-License-Identifier: BSD-3-Clause */
/* arena.c - see arena.h. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, MAP_POPULATE */
#include "common/arena.h"

#include <stdlib.h>
#include <sys/mman.h>

#if defined(MAP_POPULATE) && defined(MAP_ANONYMOUS)
#define AEC_ARENA_MAPS 1
#else
#define AEC_ARENA_MAPS 0
#endif

void *aec_arena_alloc(size_t bytes)
{
    if (AEC_ARENA_MAPS && bytes >= AEC_ARENA_MAP_MIN) {
#if AEC_ARENA_MAPS
        void *p = mmap(NULL, bytes, PROT_READ | PROT_WRITE,
                       MAP_PRIVATE | MAP_ANONYMOUS | MAP_POPULATE, -1, 0);
        return p == MAP_FAILED ? NULL : p;
#endif
    }
    return calloc(1, bytes);
}

void aec_arena_free(void *p, size_t bytes)
{
    if (!p)
        return;
    if (AEC_ARENA_MAPS && bytes >= AEC_ARENA_MAP_MIN) {
#if AEC_ARENA_MAPS
        munmap(p, bytes);
        return;
#endif
    }
    free(p);
}
