/* SPDX-License-Identifier: BSD-3-Clause */
/* parallel.h - when a kernel may open its own OpenMP team.
 *
 * The codec already runs one tile per thread; a kernel called from there
 * (any nesting level, even a team of one thread) must stay serial, or it
 * would start threads the caller did not ask for.  The trainer calls the
 * kernels from outside any parallel region and lets them fan out. */
#ifndef AEC_NN_PARALLEL_H
#define AEC_NN_PARALLEL_H
#include <stddef.h>
#ifdef _OPENMP
#include <omp.h>
static inline int nn_may_fork(double work) { return omp_get_level() == 0 && work > 2e6; }
/* The same for a pass over `floats` values (a copy, a ReLU's gradient, a
 * sum): memory-bound, so worth a team from far fewer operations. */
static inline int nn_may_fork_pass(size_t floats)
{
    return omp_get_level() == 0 && floats > (1u << 15);
}
/* Sets the size of the teams the kernels open (above) for the calling
 * thread's next calls, threads > 0, and returns the size before, to be
 * set back: a codec call that runs kernels outside its own parallel
 * regions (the Winograd weights' transform, the encoder's refinement)
 * keeps to the caller's thread count instead of every core. */
static inline int nn_fork_threads(int threads)
{
    int before = omp_get_max_threads();
    if (threads > 0)
        omp_set_num_threads(threads);
    return before;
}
#else
static inline int nn_may_fork(double work) { (void)work; return 0; }
static inline int nn_may_fork_pass(size_t floats) { (void)floats; return 0; }
static inline int nn_fork_threads(int threads) { return threads; }
#endif
#endif
