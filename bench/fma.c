/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * fma.c - the machine's single-precision FMA peak, measured with a tight loop
 * of independent fused multiply-adds (2 flops each): 12 accumulators of 8
 * floats with AVX2+FMA, or of 16 floats with AVX-512 (the widest the CPU
 * has: the peak the kernels' AVX-512 path can reach), where the CPU has them (enough independent chains to
 * cover a 4-5 cycle FMA latency on 2 FMA pipes), else a multiply-add loop
 * with 12 accumulators in plain C (which -O3 may or may not vectorise or
 * fuse: a lower bound of the peak).
 */
#include "bench.h"

#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <time.h>

#define ACC 12

#if (defined(__x86_64__) || defined(__i386__)) && defined(__GNUC__)
#include <immintrin.h>
#define HAVE_X86 1

__attribute__((target("avx2,fma"))) static float fma_avx2(long iters, float seed)
{
    __m256 acc[ACC];
    for (int i = 0; i < ACC; i++)
        acc[i] = _mm256_set1_ps(seed + (float)i);
    const __m256 m = _mm256_set1_ps(0.999999f), a = _mm256_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++) {
        acc[0] = _mm256_fmadd_ps(acc[0], m, a);
        acc[1] = _mm256_fmadd_ps(acc[1], m, a);
        acc[2] = _mm256_fmadd_ps(acc[2], m, a);
        acc[3] = _mm256_fmadd_ps(acc[3], m, a);
        acc[4] = _mm256_fmadd_ps(acc[4], m, a);
        acc[5] = _mm256_fmadd_ps(acc[5], m, a);
        acc[6] = _mm256_fmadd_ps(acc[6], m, a);
        acc[7] = _mm256_fmadd_ps(acc[7], m, a);
        acc[8] = _mm256_fmadd_ps(acc[8], m, a);
        acc[9] = _mm256_fmadd_ps(acc[9], m, a);
        acc[10] = _mm256_fmadd_ps(acc[10], m, a);
        acc[11] = _mm256_fmadd_ps(acc[11], m, a);
    }
    __m256 s = acc[0];
    for (int i = 1; i < ACC; i++)
        s = _mm256_add_ps(s, acc[i]);
    float out[8];
    _mm256_storeu_ps(out, s);
    return out[0] + out[7];
}

__attribute__((target("avx512f"))) static float fma_avx512(long iters, float seed)
{
    __m512 acc[ACC];
    for (int i = 0; i < ACC; i++)
        acc[i] = _mm512_set1_ps(seed + (float)i);
    const __m512 m = _mm512_set1_ps(0.999999f), a = _mm512_set1_ps(1e-7f);
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < ACC; i++) /* unrolled by -O3: 12 independent chains */
            acc[i] = _mm512_fmadd_ps(acc[i], m, a);
    __m512 s = acc[0];
    for (int i = 1; i < ACC; i++)
        s = _mm512_add_ps(s, acc[i]);
    return _mm512_reduce_add_ps(s);
}
#endif

static float fma_scalar(long iters, float seed)
{
    float acc[ACC];
    for (int i = 0; i < ACC; i++)
        acc[i] = seed + (float)i;
    for (long it = 0; it < iters; it++)
        for (int i = 0; i < ACC; i++)
            acc[i] = acc[i] * 0.999999f + 1e-7f;
    float s = 0;
    for (int i = 0; i < ACC; i++)
        s += acc[i];
    return s;
}

static volatile float fma_sink;

/* The calling thread's CPU time in seconds: what one thread's work costs
 * on a busy machine, without the time other processes hold the core. */
static double thread_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* Runs the kernel on `threads` threads for `iters` iterations each; returns
 * the wall time in seconds, or for one thread its CPU time (the same on a
 * quiet machine; comparable with bench_network_gflops on a busy one). */
static double run_kernel(int vec, int threads, long iters)
{
    if (threads == 1) {
        double t0 = thread_seconds();
        float r;
#ifdef HAVE_X86
        if (vec == 2)
            r = fma_avx512(iters, 0.0f);
        else if (vec)
            r = fma_avx2(iters, 0.0f);
        else
#endif
            r = fma_scalar(iters, 0.0f);
        fma_sink += r;
        return thread_seconds() - t0;
    }
    double t0 = omp_get_wtime();
#pragma omp parallel num_threads(threads)
    {
        float r;
#ifdef HAVE_X86
        if (vec == 2)
            r = fma_avx512(iters, (float)omp_get_thread_num());
        else if (vec)
            r = fma_avx2(iters, (float)omp_get_thread_num());
        else
#endif
            r = fma_scalar(iters, (float)omp_get_thread_num());
#pragma omp atomic
        fma_sink += r;
    }
    return omp_get_wtime() - t0;
}

double fma_peak_gflops(int threads, const char **kind)
{
    int vec = 0;
#ifdef HAVE_X86
    __builtin_cpu_init();
    vec = __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma");
    if (__builtin_cpu_supports("avx512f"))
        vec = 2;
#endif
    if (kind)
        *kind = vec == 2 ? "AVX-512, 16 lanes x 12 chains"
                : vec    ? "AVX2+FMA, 8 lanes x 12 chains"
                         : "plain C multiply-add, 12 chains";
    if (threads < 1)
        threads = 1;
    int lanes = vec == 2 ? 16 : vec ? 8 : 1;
    /* calibrate to ~0.25 s, then take the best of 3 */
    long iters = 1 << 16;
    while (run_kernel(vec, threads, iters) < 0.05 && iters < (1L << 40))
        iters *= 2;
    double t = run_kernel(vec, threads, iters);
    iters = (long)(iters * (0.25 / (t > 1e-6 ? t : 1e-6))) + 1;
    double best = INFINITY;
    for (int rep = 0; rep < 3; rep++) {
        double s = run_kernel(vec, threads, iters);
        if (s < best)
            best = s;
    }
    double flops = 2.0 * ACC * lanes * (double)iters * threads;
    return flops / best / 1e9;
}
