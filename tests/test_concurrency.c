/* SPDX-License-Identifier: BSD-3-Clause */
/* test_concurrency.c - encoder and decoder contexts used from several
 * threads at once (pthreads, each thread its own contexts), as the
 * README promises: contexts are not shared, models are immutable and
 * shared freely, and the library keeps no global mutable state.
 *
 * The threads start together (a barrier) before anything in the process
 * has touched a built-in model, so their first encodes race on the lazy
 * parse of the shared built-in models (codec/model/builtin.c) and on the
 * kernel choice (codec/nn/dsp.c).  Each thread codes an image at its
 * quality level (a VQ level and lattice levels of three different
 * models), decodes it whole, as a region and with fewer stages, twice
 * with the same contexts; every output must equal, byte for byte, what
 * the same job gives when run alone afterwards.
 *
 * Built with -fsanitize=thread by `make test-tsan` (mk/tsan.mk), which is
 * why the contexts run one OpenMP thread each: libgomp is not
 * instrumented, so TSan cannot see its barriers and would report its
 * worker threads' accesses as races.  In other builds a second test runs
 * the same jobs with two OpenMP threads per context. */
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aecodec.h"
#include "testlib.h"

/* -DUNDER_TSAN=0 runs the second test under TSan anyway (to see what it
 * says about the OpenMP runtime). */
#ifndef UNDER_TSAN
#if defined(__SANITIZE_THREAD__)
#define UNDER_TSAN 1
#elif defined(__has_feature)
#if __has_feature(thread_sanitizer)
#define UNDER_TSAN 1
#endif
#endif
#endif
#ifndef UNDER_TSAN
#define UNDER_TSAN 0
#endif

enum { JOBS = 5, COPIES = 2, MAX_THREADS = JOBS * COPIES, REPEATS = 2 };

/* The image size of the jobs.  The library gives a context one OpenMP
 * thread per 65536 pixels at most (aec_useful_threads), so the test with
 * two OpenMP threads per context codes a larger image. */
static uint32_t W, H;

/* quality level and layout of each job: level 1 is the default model's
 * VQ, level 2 its lattice; 4 and 8 code the lattice with aecodec-high-v4,
 * 12 with its top fine-tune (levels.c); one image has alpha, one is
 * grey. */
static const struct {
    int quality;
    aec_layout layout;
    int channels;
} jobs[JOBS] = {
    {2, AEC_RGB, 3}, {4, AEC_RGB, 3}, {8, AEC_RGBA, 4}, {12, AEC_RGB, 3}, {1, AEC_GRAY, 1},
};

typedef struct {
    uint8_t *file;
    size_t file_size;
    uint8_t *whole, *region, *fewer; /* decodes: whole, a region, 1 stage */
    size_t whole_n, region_n, fewer_n;
    int failed; /* a call that should have worked did not */
} outputs;

typedef struct {
    int job, omp_threads, rounds;
    pthread_barrier_t *start; /* NULL: run alone */
    outputs out[REPEATS];
} work;

static uint8_t *g_pixels[JOBS];

static void make_images(uint32_t w, uint32_t h);
static void free_images(void);

/* A photo-like pattern: gradients, edges, a little texture; alpha varies. */
static uint8_t *make_image(int channels, unsigned seed)
{
    uint8_t *p = malloc((size_t)W * H * channels);
    uint32_t r = seed * 2654435761u + 1;
    for (uint32_t y = 0; y < H; y++)
        for (uint32_t x = 0; x < W; x++) {
            r = r * 1664525u + 1013904223u;
            int base = (int)(x * 3 + y * 2 + ((r >> 24) & 15)) + (((x / 11 + y / 7) & 1) ? 40 : 0);
            for (int c = 0; c < channels; c++) {
                int v = c == 3 ? (int)((x * 7 + y * 5) & 255) : base + c * 25;
                p[((size_t)y * W + x) * channels + c] = (uint8_t)(v > 255 ? 255 : v);
            }
        }
    return p;
}

static void free_outputs(outputs *o)
{
    aec_free(o->file), aec_free(o->whole), aec_free(o->region), aec_free(o->fewer);
    memset(o, 0, sizeof *o);
}

/* One decode into *out (size in *n); 0 on success. */
static int decode(aec_decoder *dec, const outputs *o, uint32_t x, uint32_t y, uint32_t w,
                  uint32_t h, int stages, int channels, uint8_t **out, size_t *n)
{
    aec_decode_params p;
    aec_decode_params_default(&p);
    p.x = x, p.y = y, p.w = w, p.h = h, p.stages = stages;
    uint32_t ow = 0, oh = 0;
    aec_layout l;
    if (aec_decode(dec, o->file, o->file_size, &p, out, &ow, &oh, &l) != AEC_OK)
        return -1;
    *n = (size_t)ow * oh * channels;
    return (w && (ow != w || oh != h)) || (!w && (ow != W || oh != H)) ? -1 : 0;
}

/* Under LeakSanitizer (the ASan build): a deferred task that libgomp's
 * GOMP_task allocates (the encoder's tiles) is freed by the pool threads
 * of a pthread that has ended, after it ended; at exit one is sometimes
 * still in flight and reported as a leak of 136 bytes (about one run in
 * eight, the code of session 43 too).  Only allocations made inside
 * GOMP_task are suppressed; the other tests check the same code for leaks
 * without these threads.  (Both hooks are read only by the sanitizers'
 * runtimes.) */
const char *__lsan_default_suppressions(void);
const char *__lsan_default_suppressions(void) { return "leak:GOMP_task\n"; }
/* libgomp has no frame pointers: the stacks that name GOMP_task need the
 * slow unwinder. */
const char *__asan_default_options(void);
const char *__asan_default_options(void) { return "fast_unwind_on_malloc=0"; }

static void *run(void *arg)
{
    work *wk = arg;
    int j = wk->job, ch = jobs[j].channels;
    if (wk->start)
        pthread_barrier_wait(wk->start);
    aec_encoder *enc = NULL;
    aec_decoder *dec = NULL;
    /* Contexts of the built-in models: the first encode parses them. */
    int bad = aec_encoder_create(&enc, NULL) != AEC_OK || aec_decoder_create(&dec, NULL) != AEC_OK;
    if (!bad)
        aec_decoder_set_threads(dec, wk->omp_threads);
    for (int r = 0; r < wk->rounds; r++) {
        outputs *o = &wk->out[r];
        if (bad) {
            o->failed = 1;
            continue;
        }
        aec_encode_params p;
        aec_encode_params_default(&p);
        p.quality = jobs[j].quality, p.threads = wk->omp_threads, p.tile_size = 64;
        if (aec_encode(enc, g_pixels[j], W, H, 0, jobs[j].layout, &p, &o->file, &o->file_size) !=
                AEC_OK ||
            decode(dec, o, 0, 0, 0, 0, 0, ch, &o->whole, &o->whole_n) ||
            decode(dec, o, 13, 9, 40, 25, 0, ch, &o->region, &o->region_n) ||
            decode(dec, o, 0, 0, 0, 0, 1, ch, &o->fewer, &o->fewer_n))
            o->failed = 1;
    }
    aec_encoder_destroy(enc);
    aec_decoder_destroy(dec);
    return NULL;
}

static int same(const uint8_t *a, size_t an, const uint8_t *b, size_t bn)
{
    return an == bn && a && b && memcmp(a, b, an) == 0;
}

/* The first njobs jobs in COPIES threads each, all at once, each coding
 * `rounds` times with the same contexts, omp_threads OpenMP threads per
 * context, on w x h images; then each job alone; every output must be the
 * lone one's. */
static void concurrent_jobs(int omp_threads, int njobs, int rounds, uint32_t w, uint32_t h)
{
    static work wk[MAX_THREADS], alone[JOBS];
    pthread_t th[MAX_THREADS];
    const int THREADS = njobs * COPIES;
    make_images(w, h);
    pthread_barrier_t start;
    pthread_barrier_init(&start, NULL, THREADS);
    int started = 0;
    for (int t = 0; t < THREADS; t++) {
        wk[t] = (work){.job = t % njobs, .omp_threads = omp_threads, .rounds = rounds,
                       .start = &start};
        if (pthread_create(&th[t], NULL, run, &wk[t]) != 0)
            break;
        started++;
    }
    CHECKF(started == THREADS, "only %d of %d threads started", started, THREADS);
    if (started < THREADS) /* the barrier would never open */
        exit(1);
    for (int t = 0; t < THREADS; t++)
        pthread_join(th[t], NULL);
    pthread_barrier_destroy(&start);
    for (int j = 0; j < njobs; j++) {
        alone[j] = (work){.job = j, .omp_threads = omp_threads, .rounds = 1, .start = NULL};
        run(&alone[j]);
    }
    for (int t = 0; t < THREADS; t++)
        for (int r = 0; r < rounds; r++) {
            const outputs *o = &wk[t].out[r], *a = &alone[t % njobs].out[0];
            CHECKF(!o->failed && !a->failed, "thread %d, round %d: a call failed", t, r);
            CHECKF(same(o->file, o->file_size, a->file, a->file_size),
                   "thread %d, round %d: the file differs from the lone encode", t, r);
            CHECKF(same(o->whole, o->whole_n, a->whole, a->whole_n) &&
                       same(o->region, o->region_n, a->region, a->region_n) &&
                       same(o->fewer, o->fewer_n, a->fewer, a->fewer_n),
                   "thread %d, round %d: a decode differs from the lone decode", t, r);
        }
    printf("  %d threads x %d round(s), %d OpenMP thread(s) per context, %ux%u pixels\n",
           THREADS, rounds, omp_threads, (unsigned)w, (unsigned)h);
    for (int t = 0; t < THREADS; t++)
        for (int r = 0; r < REPEATS; r++)
            free_outputs(&wk[t].out[r]);
    for (int j = 0; j < njobs; j++)
        for (int r = 0; r < REPEATS; r++)
            free_outputs(&alone[j].out[r]);
    free_images();
}

static void make_images(uint32_t w, uint32_t h)
{
    W = w, H = h;
    for (int j = 0; j < JOBS; j++)
        g_pixels[j] = make_image(jobs[j].channels, (unsigned)j + 1);
}

static void free_images(void)
{
    for (int j = 0; j < JOBS; j++)
        free(g_pixels[j]), g_pixels[j] = NULL;
}

/* First: nothing has touched a built-in model yet.  Every job, small
 * images (two tiles of 64). */
static void test_threads_one_omp_thread(void) { concurrent_jobs(1, JOBS, REPEATS, 72, 40); }
/* Teams of two OpenMP threads in several pthreads at once: the VQ job and
 * two lattice ones (one with alpha), on images large enough for two. */
static void test_threads_two_omp_threads(void) { concurrent_jobs(2, 3, 1, 392, 340); }

int main(void)
{
    RUN_TEST(test_threads_one_omp_thread);
    if (!UNDER_TSAN)
        RUN_TEST(test_threads_two_omp_threads);
    TEST_EXIT();
}
