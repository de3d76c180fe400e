/* SPDX-License-Identifier: BSD-3-Clause */
/* arena.h - large buffers (activations, a model's weights), mapped with
 * their pages already in.
 *
 * A network's weights and activations are written once per process in a
 * few large buffers.  Faulting them in one 4 KiB page at a time costs an exception
 * per page, which on a virtual machine is several microseconds: a
 * whole-process decode of a 768x512 picture took about 14,000 faults, a
 * fifth of its CPU time (bench/NOTES.md).  Buffers of AEC_ARENA_MAP_MIN
 * bytes and more are therefore mapped in whole 2 MiB huge pages, on a
 * huge-page boundary, with the transparent-huge-page advice, and their
 * pages populated in one call (Linux MADV_POPULATE_WRITE): a paravirtual
 * machine that shadows the page tables pays an exit per page touched, so a
 * 2 MiB page is one exit for 512.  Where the system refuses the advice the
 * buffer keeps 4 KiB pages, populated as before.  Smaller buffers, and
 * every buffer where mmap is missing, come from calloc. */
#ifndef AEC_COMMON_ARENA_H
#define AEC_COMMON_ARENA_H
#include <stddef.h>

#define AEC_ARENA_MAP_MIN ((size_t)1 << 20)

/* A zeroed buffer of `bytes` (2 MiB aligned when mapped), or NULL. */
void *aec_arena_alloc(size_t bytes);
/* Frees p, from aec_arena_alloc with the same `bytes`. */
void aec_arena_free(void *p, size_t bytes);
/* An uninitialised buffer of `bytes` that free() releases (one the
 * library hands to its caller, or a short-lived one): from AEC_ARENA_MAP_MIN
 * bytes on, 2 MiB aligned, whole huge pages, with the huge-page advice,
 * so that its first writes fault once per 2 MiB; NULL when out of memory. */
void *aec_huge_malloc(size_t bytes);
#endif
