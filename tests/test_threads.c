/* SPDX-License-Identifier: BSD-3-Clause */
/* test_threads.c - the library keeps to the thread count it is given, and
 * tools/common/threads.c starts the tools' OpenMP team one thread to a
 * CPU, every thread free to run anywhere afterwards. */
#define _GNU_SOURCE /* sched_getaffinity, sched_setaffinity, CPU_EQUAL */
#include <dirent.h>
#include <sched.h>
#include <stdint.h>
#include <string.h>

#include "aecodec.h"
#include "common/threads.h"
#include "testlib.h"
#ifdef _OPENMP
#include <omp.h>
#endif

#if defined(_OPENMP) && defined(__linux__) && defined(CPU_SETSIZE)
/* The threads this process has (Linux: /proc/self/task); -1 if unknown. */
static int process_threads(void)
{
    DIR *d = opendir("/proc/self/task");
    if (!d)
        return -1;
    int n = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        n += e->d_name[0] != '.';
    closedir(d);
    return n;
}

/* An encoder and a decoder told to use one thread start no other, also
 * where they run kernels outside their own parallel regions (the Winograd
 * weights' transform, the refinement of effort 1): OpenMP keeps the
 * threads of any team it started, so the process would have more.  Runs
 * first, before anything in this process starts a team. */
static void test_one_thread_means_one(void)
{
    CHECK(process_threads() == 1);
    cli_threads_start(4, 8 * 8); /* the tools' start: nothing for a small picture */
    CHECK(process_threads() == 1);
    enum { W = 320, H = 288 }; /* 40x36 latents: Winograd's layers */
    static uint8_t px[W * H * 3];
    uint32_t seed = 7;
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++)
            for (int c = 0; c < 3; c++) {
                seed = seed * 1664525u + 1013904223u;
                px[(y * W + x) * 3 + c] = (uint8_t)((x * (c + 1) + y * 2) / 3 + (seed >> 29));
            }
    aec_encoder *enc = NULL;
    aec_decoder *dec = NULL;
    CHECK(aec_encoder_create(&enc, NULL) == AEC_OK);
    CHECK(aec_decoder_create(&dec, NULL) == AEC_OK);
    if (!enc || !dec) {
        aec_encoder_destroy(enc), aec_decoder_destroy(dec);
        return;
    }
    aec_decoder_set_threads(dec, 1);
    for (int effort = 0; effort <= 1; effort++) {
        aec_encode_params p;
        aec_encode_params_default(&p);
        p.quality = 7, p.threads = 1, p.effort = effort;
        uint8_t *file = NULL, *out = NULL;
        size_t size = 0;
        uint32_t w = 0, h = 0;
        CHECK(aec_encode(enc, px, W, H, W * 3, AEC_RGB, &p, &file, &size) == AEC_OK);
        aec_decode_params dp;
        aec_decode_params_default(&dp);
        CHECK(file && aec_decode(dec, file, size, &dp, &out, &w, &h, NULL) == AEC_OK);
        CHECK(w == W && h == H);
        CHECKF(process_threads() == 1, "effort %d: the process has %d threads", effort,
               process_threads());
        aec_free(file), aec_free(out);
    }
    aec_encoder_destroy(enc);
    aec_decoder_destroy(dec);
}

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
        cli_threads_start(counts[i], 1e9);
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
        cli_threads_start(3, 1e9);
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
    RUN_TEST(test_one_thread_means_one); /* first: no team started yet */
    RUN_TEST(test_threads_keep_their_cpus);
    RUN_TEST(test_threads_restricted_process);
#else
    printf("(no OpenMP or Linux affinity calls: cli_threads_start does nothing)\n");
#endif
    TEST_EXIT();
}
