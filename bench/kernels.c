/* SPDX-License-Identifier: BSD-3-Clause */
/* kernels.c - throughput of the networks alone (convolutions and their
 * 1x1 layers, no quantiser, entropy coding or image conversion), on one
 * tile-sized latent grid with one thread: the figure to hold against the
 * machine's FMA peak (fma_peak_gflops(1), also in thread CPU time). Uses
 * the library's internal network API. */
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <omp.h>

#include "bench.h"
#include "model/network.h"

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return x < y ? -1 : x > y;
}

/* The calling thread's CPU time: on a busy machine, what the work costs
 * without the time other processes hold the core (the team of one below
 * runs on this thread). */
static double thread_seconds(void)
{
    struct timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return (double)t.tv_sec + 1e-9 * (double)t.tv_nsec;
}

/* The network's input, any values (the work does not depend on them, and
 * these are far from denormals). */
static void fill_input(float *in, size_t n)
{
    uint32_t r = 12345;
    for (size_t i = 0; i < n; i++) {
        r = r * 1664525u + 1013904223u;
        in[i] = (float)(r >> 8) / 16777216.0f - 0.5f;
    }
}

double bench_network_gflops(const aec_model *m, int decoder, int grid, int runs)
{
    const aem_config *c = &m->cfg;
    aem_acts a;
    /* The layouts the codec decodes and encodes with: the decoder's forward
     * turns (its last stages row by row, as in aec_decode), the encoder's
     * activations; not the trainer's, which keeps every layer. */
    if (aem_acts_alloc(&a, c, 1, grid, grid, !decoder,
                       decoder ? AEM_ACTS_FORWARD : AEM_ACTS_NONE))
        return -1;
    size_t N = (size_t)grid * grid;
    float *in = decoder ? a.q : a.x;
    size_t n_in = N * (decoder ? (size_t)c->latent : (size_t)c->channels * c->block * c->block);
    double times[16];
    if (runs > 16)
        runs = 16;
    for (int k = 0; k <= runs; k++) {
        fill_input(in, n_in); /* the decoder's image overwrites its input */
        double t0 = thread_seconds();
        /* A team of one: the kernels see a nesting level > 0 and stay serial,
         * exactly as in the codec's tile loop. */
#pragma omp parallel num_threads(1)
        {
            if (decoder)
                aem_decoder_forward(m, &a);
            else
                aem_encoder_forward(m, &a);
        }
        if (k > 0) /* the first run warms caches and pages */
            times[k - 1] = thread_seconds() - t0;
    }
    qsort(times, (size_t)runs, sizeof *times, cmp_double);
    double t = times[runs / 2];
    double macs = aem_macs_per_pixel(c, decoder, 0) * N * c->block * c->block;
    aem_acts_free(&a);
    return 2.0 * macs / t / 1e9;
}
