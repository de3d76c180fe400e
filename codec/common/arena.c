/* SPDX-License-Identifier: BSD-3-Clause */
/* arena.c - see arena.h. */
#define _DEFAULT_SOURCE /* MAP_ANONYMOUS, madvise */
#include "common/arena.h"

#include <stdint.h>
#include <stdlib.h>
#include <sys/mman.h>
#include <unistd.h>

#ifdef MAP_ANONYMOUS
#define ARENA_MAPS 1
#endif

#define HUGE_PAGE ((size_t)2 << 20) /* x86-64's and arm64's transparent huge page */

/* Whether buffers of `bytes` are mapped (else from calloc). */
static int mapped(size_t bytes)
{
#ifdef ARENA_MAPS
    return bytes >= AEC_ARENA_MAP_MIN;
#else
    (void)bytes;
    return 0;
#endif
}

/* What a mapped buffer of `bytes` spans: whole huge pages.  It starts at
 * a huge-page boundary, so all of it can be huge pages: a tail of small
 * pages would cost a fault (and, on a virtual machine that shadows the
 * page tables, an exit) per 4 KiB on its first write even after it was
 * populated, which here cost more than zeroing the rest of a huge page
 * (bench/NOTES.md, "Huge pages to the end of each buffer"). */
static size_t mapped_span(size_t bytes) { return (bytes + HUGE_PAGE - 1) / HUGE_PAGE * HUGE_PAGE; }

#ifdef ARENA_MAPS
/* Maps `span` bytes at a huge-page boundary (so that the kernel can back
 * them with huge pages), or returns NULL. */
static void *map_aligned(size_t span)
{
    size_t reserve = span + HUGE_PAGE;
    uint8_t *p = mmap(NULL, reserve, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
    if (p == MAP_FAILED)
        return NULL;
    uint8_t *start = (uint8_t *)(((uintptr_t)p + HUGE_PAGE - 1) & ~(uintptr_t)(HUGE_PAGE - 1));
    if (start > p)
        munmap(p, (size_t)(start - p));
    if (start + span < p + reserve)
        munmap(start + span, (size_t)(p + reserve - (start + span)));
    return start;
}

/* Faults the buffer's pages in now, in as few exceptions as the system
 * allows: one call where it can populate a range, else a write per page. */
static void populate(uint8_t *p, size_t span)
{
#ifdef MADV_POPULATE_WRITE
    if (madvise(p, span, MADV_POPULATE_WRITE) == 0)
        return;
#endif
    long page = sysconf(_SC_PAGESIZE);
    for (size_t i = 0; i < span; i += page > 0 ? (size_t)page : 4096)
        ((volatile uint8_t *)p)[i] = 0;
}
#endif

void *aec_arena_alloc(size_t bytes)
{
#ifdef ARENA_MAPS
    if (mapped(bytes)) {
        size_t span = mapped_span(bytes);
        uint8_t *p = map_aligned(span);
        if (!p)
            return NULL;
#ifdef MADV_HUGEPAGE
        madvise(p, span, MADV_HUGEPAGE); /* advice only: refused, it stays 4 KiB pages */
#endif
        populate(p, span);
        return p;
    }
#endif
    return calloc(1, bytes);
}

void *aec_huge_malloc(size_t bytes)
{
    if (bytes < AEC_ARENA_MAP_MIN)
        return malloc(bytes);
    size_t span = mapped_span(bytes);
    void *p = NULL;
    if (span < bytes || posix_memalign(&p, HUGE_PAGE, span) != 0)
        return NULL;
#ifdef MADV_HUGEPAGE
    madvise(p, span, MADV_HUGEPAGE); /* advice only */
#endif
    return p;
}

void aec_arena_free(void *p, size_t bytes)
{
    if (p && mapped(bytes))
        munmap(p, mapped_span(bytes));
    else
        free(p);
}
