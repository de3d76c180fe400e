/* SPDX-License-Identifier: BSD-3-Clause */
/* threads.c - see threads.h. */
#if defined(__linux__)
#define _GNU_SOURCE /* sched_getaffinity, sched_setaffinity, CPU_SET */
#include <sched.h>
#endif
#include "threads.h"

#include "aecodec.h" /* AEC_PIXELS_PER_THREAD */

#include <stdatomic.h>
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(_OPENMP) && defined(__linux__) && defined(CPU_SETSIZE)
/* The k-th CPU of `set`, or -1. */
static int nth_cpu(const cpu_set_t *set, int k)
{
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, set) && k-- == 0)
            return c;
    return -1;
}

void cli_threads_start(int threads, double pixels)
{
    int n = threads > 0 ? threads : omp_get_max_threads();
    if (pixels / AEC_PIXELS_PER_THREAD < n)
        n = (int)(pixels / AEC_PIXELS_PER_THREAD);
    cpu_set_t allowed;
    if (n < 2 || sched_getaffinity(0, sizeof allowed, &allowed) != 0 || CPU_COUNT(&allowed) < 2)
        return;
    int cpus = CPU_COUNT(&allowed);
    atomic_int arrived;
    atomic_init(&arrived, 0);
#pragma omp parallel num_threads(n)
    {
        cpu_set_t one;
        CPU_ZERO(&one);
        int cpu = nth_cpu(&allowed, omp_get_thread_num() % cpus);
        if (cpu >= 0) {
            CPU_SET(cpu, &one);
            (void)sched_setaffinity(0, sizeof one, &one); /* moves the thread now */
        }
        /* Wait yielding, not spinning: a thread still on its creator's CPU
         * gets to run and move. */
        atomic_fetch_add(&arrived, 1);
        while (atomic_load(&arrived) < omp_get_num_threads())
            sched_yield();
        (void)sched_setaffinity(0, sizeof allowed, &allowed);
    }
}
#else
void cli_threads_start(int threads, double pixels) { (void)threads, (void)pixels; }
#endif
