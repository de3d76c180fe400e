/* SPDX-License-Identifier: BSD-3-Clause */
/* parallel.h - when a kernel may open its own OpenMP team.
 *
 * The codec already runs one tile per thread; a kernel called from there
 * (any nesting level, even a team of one thread) must stay serial, or it
 * would start threads the caller did not ask for.  The trainer calls the
 * kernels from outside any parallel region and lets them fan out. */
#ifndef AEC_NN_PARALLEL_H
#define AEC_NN_PARALLEL_H
#ifdef _OPENMP
#include <omp.h>
static inline int nn_may_fork(double work) { return omp_get_level() == 0 && work > 2e6; }
#else
static inline int nn_may_fork(double work) { (void)work; return 0; }
#endif
#endif
