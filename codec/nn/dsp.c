/* SPDX-License-Identifier: BSD-3-Clause */
/* dsp.c - choosing the kernel path once, from cpuid and AEC_CPU. */
#include "nn/dsp.h"

#ifdef NN_HAVE_X86_PATHS
#include <cpuid.h>
#endif
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#ifdef NN_HAVE_X86_PATHS
/* cpuid leaf 1, ecx bit 29 (clang's __builtin_cpu_supports has no "f16c") */
static int has_f16c(void)
{
    unsigned a, b, c, d;
    return __get_cpuid(1, &a, &b, &c, &d) && (c & bit_F16C);
}
#endif

static int cpu_runs(enum nn_isa isa)
{
    if (isa == NN_ISA_C)
        return 1;
#ifdef NN_HAVE_X86_PATHS
    __builtin_cpu_init();
    if (isa == NN_ISA_AVX2)
        return __builtin_cpu_supports("avx2") && __builtin_cpu_supports("fma") && has_f16c();
    if (isa == NN_ISA_AVX512)
        return __builtin_cpu_supports("avx512f");
#endif
    return 0;
}

const nn_dsp *nn_dsp_of(enum nn_isa isa)
{
    if (!cpu_runs(isa))
        return NULL;
    switch (isa) {
    case NN_ISA_C: return &nn_dsp_c;
#ifdef NN_HAVE_X86_PATHS
    case NN_ISA_AVX2: return &nn_dsp_avx2;
    case NN_ISA_AVX512: return &nn_dsp_avx512;
#endif
    default: return NULL;
    }
}

/* Written once under pthread_once, read-only afterwards. */
static const nn_dsp *active;
static pthread_once_t active_once = PTHREAD_ONCE_INIT;

static void choose(void)
{
    int limit = NN_ISA_COUNT - 1;
    const char *want = getenv("AEC_CPU");
    if (want) {
        static const char *const names[NN_ISA_COUNT] = {"c", "avx2", "avx512"};
        for (int i = 0; i < NN_ISA_COUNT; i++)
            if (strcmp(want, names[i]) == 0)
                limit = i;
    }
    for (int i = limit; i >= 0 && !active; i--)
        active = nn_dsp_of((enum nn_isa)i);
}

const nn_dsp *nn_dsp_active(void)
{
    pthread_once(&active_once, choose);
    return active;
}
