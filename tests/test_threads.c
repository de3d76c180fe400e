/* SPDX-License-Identifier: BSD-3-Clause */
/* test_threads.c - tools/common/threads.c: the tools' OpenMP team started
 * one thread to a CPU, every thread free to run anywhere afterwards. */
#define _GNU_SOURCE /* sched_getaffinity, sched_setaffinity, CPU_EQUAL */
#include <sched.h>
#include <string.h>

#include "common/threads.h"
#include "testlib.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(_OPENMP) && defined(__linux__) && defined(CPU_SETSIZE)
/* How many threads of a team of n end with a mask other than `want`. */
static int threads_not_on(const cpu_set_t *want, int n)
{
    int wrong = 0;
#pragma omp parallel num_threads(n) reduction(+ : wrong)
    {
        cpu_set_t now;
        wrong += sched_getaffinity(0, sizeof now, &now) != 0 || !CPU_EQUAL(&now, want);
    }
    return wrong;
}

/* After the start, the calling thread and every worker may run on each CPU
 * the process had (a worker left on its one CPU would stay there). */
static void test_threads_keep_their_cpus(void)
{
    cpu_set_t before;
    CHECK(sched_getaffinity(0, sizeof before, &before) == 0);
    int counts[] = {0, 1, 2, 3};
    for (size_t i = 0; i < sizeof counts / sizeof counts[0]; i++) {
        cli_threads_start(counts[i]);
        cpu_set_t after;
        CHECK(sched_getaffinity(0, sizeof after, &after) == 0);
        CHECKF(CPU_EQUAL(&before, &after), "threads %d: the caller's CPUs changed", counts[i]);
        int n = counts[i] > 0 ? counts[i] : omp_get_max_threads();
        CHECKF(threads_not_on(&before, n) == 0, "threads %d: a worker kept another mask",
               counts[i]);
    }
}

/* A process allowed one CPU, or two: the start leaves that set as it was. */
static void test_threads_restricted_process(void)
{
    cpu_set_t all, some;
    CHECK(sched_getaffinity(0, sizeof all, &all) == 0);
    CPU_ZERO(&some);
    int first = -1, second = -1;
    for (int c = 0; c < CPU_SETSIZE && second < 0; c++)
        if (CPU_ISSET(c, &all)) {
            if (first < 0)
                first = c;
            else
                second = c;
        }
    CPU_SET(first, &some);
    for (int round = 0; round < 2; round++) {
        if (round == 1 && second < 0)
            break; /* a one-CPU machine: no two-CPU set to try */
        if (round == 1)
            CPU_SET(second, &some);
        CHECK(sched_setaffinity(0, sizeof some, &some) == 0);
        cli_threads_start(3);
        cpu_set_t after;
        CHECK(sched_getaffinity(0, sizeof after, &after) == 0);
        CHECKF(CPU_EQUAL(&some, &after), "%d CPU(s): the caller's set changed", round + 1);
    }
    CHECK(sched_setaffinity(0, sizeof all, &all) == 0);
}
#endif

int main(void)
{
#if defined(_OPENMP) && defined(__linux__) && defined(CPU_SETSIZE)
    RUN_TEST(test_threads_keep_their_cpus);
    RUN_TEST(test_threads_restricted_process);
#else
    printf("(no OpenMP or Linux affinity calls: cli_threads_start does nothing)\n");
#endif
    TEST_EXIT();
}
