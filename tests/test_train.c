/* SPDX-License-Identifier: BSD-3-Clause */
/* test_train.c - the trainer: k-means, the learning-rate schedule, a short
 * training run on generated images (the loss falls, more stages decode
 * better), reproducibility from a seed, and resuming from a checkpoint.
 * Every image is generated here; nothing is read from outside the test's
 * own temporary folder. */
#include <dirent.h>
#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "common/imageio.h"
#include "model/model.h"
#include "testlib.h"
#include "train/dataset.h"
#include "train/init.h"
#include "train/rng.h"
#include "train/trainer.h"
#include "vq/lattice.h"

static char g_dir[64]; /* the temporary folder, "" when there is none */

static double now(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return ts.tv_sec + ts.tv_nsec * 1e-9;
}

static double gauss(uint64_t *rng)
{
    double u = (aet_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0) + 1e-12;
    double v = (aet_rng_next(rng) >> 11) * (1.0 / 9007199254740992.0);
    return sqrt(-2.0 * log(u)) * cos(6.283185307179586 * v);
}

/* ---- k-means ----------------------------------------------------------- */

static void test_kmeans(void)
{
    const int D = 3, K = 3, per = 400, n = K * per;
    const float truth[3][3] = {{0, 0, 0}, {6, 1, -2}, {-3, 7, 4}};
    float *pts = malloc(sizeof(float) * n * D), centres[3 * 3];
    uint64_t rng = 99;
    for (int i = 0; i < n; i++)
        for (int d = 0; d < D; d++)
            pts[i * D + d] = truth[i % K][d] + 0.5f * (float)gauss(&rng);
    /* Several seeds.  aet_kmeans starts from random points (no k-means++),
     * so a seed can start two centres in one cluster and end in a local
     * optimum; every run must still end on a Lloyd fixed point (each centre
     * the mean of the points nearest to it), most must find the truth. */
    int found = 0, fixed = 0;
    double worst = 0;
    for (uint64_t seed = 1; seed <= 8; seed++) {
        uint64_t r = seed;
        CHECK(aet_kmeans(pts, n, D, K, 60, &r, centres) == 0);
        double far = 0; /* largest distance of a true centre to its nearest */
        for (int t = 0; t < K; t++) {
            double best = 1e30;
            for (int k = 0; k < K; k++) {
                double e = 0;
                for (int d = 0; d < D; d++)
                    e += (centres[k * D + d] - truth[t][d]) * (centres[k * D + d] - truth[t][d]);
                best = fmin(best, sqrt(e));
            }
            far = fmax(far, best);
        }
        double sums[3][3] = {{0}}, drift = 0;
        int counts[3] = {0};
        for (int i = 0; i < n; i++) {
            int arg = 0;
            double best = 1e30;
            for (int k = 0; k < K; k++) {
                double e = 0;
                for (int d = 0; d < D; d++)
                    e += (pts[i * D + d] - centres[k * D + d]) * (pts[i * D + d] - centres[k * D + d]);
                if (e < best)
                    best = e, arg = k;
            }
            counts[arg]++;
            for (int d = 0; d < D; d++)
                sums[arg][d] += pts[i * D + d];
        }
        for (int k = 0; k < K; k++)
            for (int d = 0; d < D; d++)
                drift = fmax(drift, counts[k] ? fabs(sums[k][d] / counts[k] - centres[k * D + d]) : 1e9);
        fixed += drift < 1e-4;
        printf("  kmeans seed %d: worst centre error %.3f, fixed-point drift %.1e\n", (int)seed,
               far, drift);
        worst = fmax(worst, far);
        found += far < 0.15;
        if (seed == 1)
            CHECKF(far < 0.15, "seed 1: a true centre is %.3f from the nearest found", far);
    }
    printf("  kmeans: %d of 8 seeds found all 3 centres, %d of 8 ended on a fixed point\n", found,
           fixed);
    CHECK(fixed == 8);
    CHECKF(found >= 5, "only %d of 8 seeds found the true centres", found);
    /* More centres than distinct points: no NaN, every centre a point. */
    float few[4 * 2] = {0, 0, 1, 1, 0, 0, 1, 1}, c8[8 * 2];
    uint64_t r = 5;
    CHECK(aet_kmeans(few, 4, 2, 8, 5, &r, c8) == 0);
    int okc = 1;
    for (int k = 0; k < 8; k++)
        okc &= (c8[2 * k] == 0 && c8[2 * k + 1] == 0) || (c8[2 * k] == 1 && c8[2 * k + 1] == 1);
    CHECK(okc);
    free(pts);
}

/* ---- learning rate ----------------------------------------------------- */

static void test_learning_rate(void)
{
    aet_options o;
    aet_options_default(&o);
    o.lr = 1e-3f, o.lr_min = 1e-5f, o.warmup = 10, o.steps = 100;
    float step = aet_learning_rate(&o, 1) - aet_learning_rate(&o, 0);
    CHECK(aet_learning_rate(&o, 0) > 0);
    CHECK(fabsf(aet_learning_rate(&o, 0) - o.lr / o.warmup) < 1e-9f);
    for (long s = 1; s < o.warmup; s++) /* linear rise */
        CHECKF(fabsf(aet_learning_rate(&o, s) - aet_learning_rate(&o, s - 1) - step) < 1e-8f,
               "step %ld", s);
    CHECK(fabsf(aet_learning_rate(&o, o.warmup - 1) - o.lr) < 1e-8f);
    CHECK(fabsf(aet_learning_rate(&o, o.warmup) - o.lr) < 1e-8f);
    for (long s = o.warmup + 1; s < o.steps; s++) /* then never rises */
        CHECKF(aet_learning_rate(&o, s) <= aet_learning_rate(&o, s - 1), "step %ld", s);
    float last = aet_learning_rate(&o, o.steps - 1);
    printf("  lr: step 0 %.3g, step %d %.3g, last step %.4g (lr_min %.3g)\n",
           aet_learning_rate(&o, 0), o.warmup - 1, aet_learning_rate(&o, o.warmup - 1), last,
           o.lr_min);
    CHECK(last >= o.lr_min && last - o.lr_min < 0.01f * (o.lr - o.lr_min));
    CHECK(fabsf(aet_learning_rate(&o, o.steps + 50) - o.lr_min) < 1e-9f);
    /* Half-way through the cosine: the mean of lr and lr_min. */
    o.warmup = 0;
    CHECK(fabsf(aet_learning_rate(&o, 0) - o.lr) < 1e-8f);
    CHECK(fabsf(aet_learning_rate(&o, 50) - 0.5f * (o.lr + o.lr_min)) < 1e-7f);
}

/* ---- generated training images ----------------------------------------- */

/* Smooth gradients, a few discs and rectangles with soft edges, mild noise. */
static int write_images(const char *dir, int count, int side)
{
    uint64_t rng = 2024;
    for (int n = 0; n < count; n++) {
        aeio_image img = {.width = (uint32_t)side, .height = (uint32_t)side, .channels = 3,
                          .source_bit_depth = 8};
        img.pixels = malloc((size_t)side * side * 3);
        if (!img.pixels)
            return -1;
        float base[3], gx[3], gy[3];
        for (int c = 0; c < 3; c++) {
            base[c] = 0.2f + 0.6f * aet_rng_float(&rng);
            gx[c] = 0.5f * (aet_rng_float(&rng) - 0.5f);
            gy[c] = 0.5f * (aet_rng_float(&rng) - 0.5f);
        }
        struct { float x, y, r, col[3]; int disc; } shape[5];
        for (int s = 0; s < 5; s++) {
            shape[s].x = side * aet_rng_float(&rng), shape[s].y = side * aet_rng_float(&rng);
            shape[s].r = side * (0.08f + 0.2f * aet_rng_float(&rng));
            for (int c = 0; c < 3; c++)
                shape[s].col[c] = aet_rng_float(&rng);
            shape[s].disc = s % 2;
        }
        for (int y = 0; y < side; y++)
            for (int x = 0; x < side; x++) {
                float v[3];
                for (int c = 0; c < 3; c++)
                    v[c] = base[c] + gx[c] * (x - side / 2) / side + gy[c] * (y - side / 2) / side +
                           0.05f * sinf(0.15f * x + 0.1f * y + c);
                for (int s = 0; s < 5; s++) {
                    float dx = x - shape[s].x, dy = y - shape[s].y, d;
                    if (shape[s].disc)
                        d = sqrtf(dx * dx + dy * dy) - shape[s].r;
                    else
                        d = fmaxf(fabsf(dx), fabsf(dy)) - shape[s].r;
                    float a = 0.5f - d / 2.0f; /* about 2 pixels of soft edge */
                    a = a < 0 ? 0 : a > 1 ? 1 : a;
                    for (int c = 0; c < 3; c++)
                        v[c] = v[c] * (1 - a) + shape[s].col[c] * a;
                }
                for (int c = 0; c < 3; c++) {
                    float u = v[c] + 0.01f * (float)gauss(&rng);
                    u = u < 0 ? 0 : u > 1 ? 1 : u;
                    img.pixels[((size_t)y * side + x) * 3 + c] = (uint8_t)(u * 255.0f + 0.5f);
                }
            }
        char path[128], err[256];
        snprintf(path, sizeof path, "%s/img%02d.png", dir, n);
        int rc = aeio_write(path, &img, err, sizeof err);
        free(img.pixels);
        if (rc) {
            printf("  %s\n", err);
            return -1;
        }
    }
    return 0;
}

static void remove_dir(const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, ".."))
            continue;
        char path[512];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        unlink(path);
    }
    closedir(d);
    rmdir(dir);
}

static const aem_config small_cfg = {
    .block = 8, .channels = 3, .latent = 8, .enc_width = 8, .enc_convs = 1,
    .dec_width = 8, .dec_convs = 1, .stages = 3, .codes = 16,
};

static void small_options(aet_options *o, long steps, uint64_t seed)
{
    aet_options_default(o);
    o->batch = 4, o->crop = 32, o->steps = steps, o->lr = 2e-3f, o->warmup = 5, o->seed = seed;
}

static aet_dataset g_ds;
static int g_have_ds;

/* ---- a short training run ---------------------------------------------- */

static void test_training_smoke(void)
{
    CHECK(g_have_ds);
    if (!g_have_ds)
        return;
    CHECK(g_ds.count == 4);
    for (int i = 0; i < g_ds.count; i++)
        CHECK(g_ds.images[i].width == 96 && g_ds.images[i].height == 96 &&
              g_ds.images[i].channels == 3);
    aet_options o;
    small_options(&o, 60, 7);
    aet_trainer t;
    char err[256];
    double t0 = now();
    int rc = aet_trainer_new(&t, &small_cfg, &o, &g_ds, "smoke", err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc)
        return;
    double t1 = now();
    int stages[4] = {0, 1, 2, 3};
    double psnr_init[4], psnr0[4], psnr[4];
    CHECK(aet_validate(t.model, &g_ds, stages, 4, psnr_init) == 0);
    /* The data-driven initialisation (PCA + k-means) is already about as good
     * as 60 steps can make this tiny model: from it, the change of the
     * training MSE over 60 steps is within the noise of the random crops and
     * stage counts (last/first ratios 0.69..1.17 over seeds 1..8).  So the
     * decoder's linear path is first knocked off (scaled by 0.7) and the run
     * must bring the loss back down. */
    for (size_t i = 0; i < (size_t)192 * small_cfg.latent; i++)
        t.model->params[t.model->lay.dec_lin_w + i] *= 0.7f;
    CHECK(aet_validate(t.model, &g_ds, stages, 4, psnr0) == 0);
    double first = 0, last = 0;
    int finite = 1;
    for (int s = 0; s < 60; s++) {
        double loss = aet_trainer_step(&t, &g_ds);
        finite &= isfinite(loss) && isfinite(t.mse) && isfinite(t.commit);
        if (s < 10)
            first += t.mse / 10;
        if (s >= 50)
            last += t.mse / 10;
    }
    double t2 = now();
    CHECK(finite);
    CHECK(t.step == 60);
    printf("  init %.2f s, 60 steps %.2f s; mean MSE of steps 1-10 %.5f, of steps 51-60 %.5f "
           "(last loss %.5f, commitment %.5f, perplexity %.1f %.1f %.1f)\n",
           t1 - t0, t2 - t1, first, last, t.loss, t.commit, t.perplexity[0], t.perplexity[1],
           t.perplexity[2]);
    CHECKF(last < 0.85 * first, "MSE %.5f -> %.5f", first, last);
    int params_finite = 1;
    for (size_t i = 0; i < t.model->lay.total; i++)
        params_finite &= isfinite(t.model->params[i]) != 0;
    CHECK(params_finite);

    CHECK(aet_validate(t.model, &g_ds, stages, 4, psnr) == 0);
    const double *pp[3] = {psnr_init, psnr0, psnr};
    const char *when[3] = {"initialised", "knocked off", "after 60 steps"};
    double objective[3]; /* what training minimises: MSE over 1..3 stages */
    for (int w = 0; w < 3; w++) {
        objective[w] = 0;
        for (int k = 1; k <= 3; k++)
            objective[w] += pow(10.0, -pp[w][k] / 10) / 3;
        printf("  PSNR %-14s unquantised %.2f, 1/2/3 stages %.2f %.2f %.2f dB "
               "(mean MSE over stages %.3g)\n",
               when[w], pp[w][0], pp[w][1], pp[w][2], pp[w][3], objective[w]);
    }
    CHECK(objective[2] < 0.75 * objective[1]);
    CHECK(objective[2] < 1.1 * objective[0]);
    for (int k = 0; k < 4; k++)
        CHECK(isfinite(psnr[k]) && psnr[k] > 10 && psnr[k] < 100);
    CHECK(psnr[2] >= psnr[1] - 0.05);
    CHECK(psnr[3] >= psnr[2] - 0.05);
    CHECK(psnr[3] > psnr[1]);
    CHECK(psnr[0] >= psnr[3] - 0.5);
    CHECK(psnr_init[2] >= psnr_init[1] - 0.05 && psnr_init[3] >= psnr_init[2] - 0.05);
    aet_trainer_free(&t);
}

/* ---- reproducibility and checkpoints ----------------------------------- */

static int run_steps(aet_trainer *t, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(aet_trainer_step(t, &g_ds)))
            return -1;
    return 0;
}

static int same_params(const aet_trainer *a, const aet_trainer *b)
{
    return a->model->lay.total == b->model->lay.total &&
           memcmp(a->model->params, b->model->params, a->model->lay.total * sizeof(float)) == 0;
}

static int same_state(const aet_trainer *a, const aet_trainer *b)
{
    size_t P = a->model->lay.trainable, SK = (size_t)a->model->cfg.stages * a->model->cfg.codes;
    return same_params(a, b) && a->step == b->step && a->rng == b->rng &&
           !memcmp(a->adam_m, b->adam_m, P * 4) && !memcmp(a->adam_v, b->adam_v, P * 4) &&
           !memcmp(a->ema_count, b->ema_count, SK * 4) &&
           !memcmp(a->ema_sum, b->ema_sum, SK * a->model->cfg.latent * 4);
}

/* Seed 1 for 10 steps, twice, and seed 2; and seed 1 again with a
 * checkpoint after 5 steps, resumed in another trainer. */
static void test_reproducible_and_resume(void)
{
    CHECK(g_have_ds);
    if (!g_have_ds)
        return;
    aet_options o1, o2;
    small_options(&o1, 10, 1);
    small_options(&o2, 10, 2);
    aet_trainer a, b, c, r;
    char err[256], ckpt[128];
    snprintf(ckpt, sizeof ckpt, "%s/run.ckpt", g_dir);
    int ok = aet_trainer_new(&a, &small_cfg, &o1, &g_ds, "a", err, sizeof err) == 0;
    CHECKF(ok, "%s", err);
    ok = ok && aet_trainer_new(&b, &small_cfg, &o1, &g_ds, "a", err, sizeof err) == 0;
    CHECKF(ok, "%s", err);
    ok = ok && aet_trainer_new(&c, &small_cfg, &o2, &g_ds, "a", err, sizeof err) == 0;
    CHECKF(ok, "%s", err);
    if (!ok)
        return;
    /* Same seed: the same initial model, a different seed a different one. */
    CHECK(same_params(&a, &b));
    CHECK(!same_params(&a, &c));

    CHECK(run_steps(&a, 5) == 0);
    int saved = aet_trainer_save(&a, ckpt, err, sizeof err);
    CHECKF(saved == 0, "%s", err);
    CHECK(run_steps(&a, 5) == 0);
    CHECK(run_steps(&b, 10) == 0);
    CHECK(run_steps(&c, 10) == 0);
    CHECK(same_state(&a, &b));
    CHECK(!same_params(&a, &c));
    /* The run actually moved. */
    CHECK(a.step == 10);

    if (saved == 0) {
        aet_options longer = o1;
        longer.steps = 10;
        int rc = aet_trainer_resume(&r, ckpt, &longer, err, sizeof err);
        CHECKF(rc == 0, "%s", err);
        if (rc == 0) {
            CHECK(r.step == 5);
            CHECK(run_steps(&r, 5) == 0);
            CHECK(r.step == 10);
            CHECKF(same_params(&a, &r), "resumed run differs from the straight run");
            CHECK(same_state(&a, &r));
        }
        aet_trainer_free(&r);
        /* A truncated checkpoint is refused. */
        FILE *f = fopen(ckpt, "r+b");
        if (f) {
            fseek(f, 0, SEEK_END);
            long size = ftell(f);
            fclose(f);
            CHECK(truncate(ckpt, size - 10) == 0);
            rc = aet_trainer_resume(&r, ckpt, &longer, err, sizeof err);
            CHECK(rc != 0);
            aet_trainer_free(&r);
        }
        rc = aet_trainer_resume(&r, "/nonexistent/ckpt", &longer, err, sizeof err);
        CHECK(rc != 0);
        aet_trainer_free(&r);
        unlink(ckpt);
    }
    aet_trainer_free(&a);
    aet_trainer_free(&b);
    aet_trainer_free(&c);
}


/* ---- lattice refinement training --------------------------------------- */

static double mean_abs_latent(aet_trainer *t)
{
    const aem_config *c = &t->model->cfg;
    size_t n = (size_t)c->latent * t->acts.B * t->acts.Hs * t->acts.Ws;
    double s = 0;
    for (size_t i = 0; i < n; i++)
        s += fabs(t->acts.z[i]);
    return s / n;
}

/* A run started from a model file's bytes has exactly its weights and
 * codebooks, the new name, step 0, and trains on; bytes that are not a
 * model are refused with a message. */
static void test_init_from_model(void)
{
    CHECK(g_have_ds);
    if (!g_have_ds)
        return;
    aet_options o;
    small_options(&o, 20, 5);
    aet_trainer a, b;
    char err[256];
    int rc = aet_trainer_new(&a, &small_cfg, &o, &g_ds, "source", err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc)
        return;
    for (int s = 0; s < 5; s++)
        aet_trainer_step(&a, &g_ds);
    uint8_t *bytes = NULL;
    size_t size = 0;
    CHECK(aem_model_serialize(a.model, &bytes, &size) == AEC_OK);
    o.fine_prob = 1.0f, o.fine_min = 0.05f, o.fine_max = 0.1f;
    rc = bytes ? aet_trainer_from_model(&b, bytes, size, &o, "fine", err, sizeof err) : -1;
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        size_t P = a.model->lay.total;
        CHECK(b.model->lay.total == P && b.step == 0 && !strcmp(b.model->name, "fine"));
        CHECK(memcmp(a.model->params, b.model->params, P * sizeof(float)) == 0);
        double loss = aet_trainer_step(&b, &g_ds);
        CHECK(isfinite(loss) && b.step == 1 && b.fine_bpp > 0);
        CHECK(memcmp(a.model->params, b.model->params, P * sizeof(float)) != 0);
        aet_trainer_free(&b);
    }
    err[0] = 0;
    rc = bytes ? aet_trainer_from_model(&b, bytes, size / 2, &o, NULL, err, sizeof err) : 0;
    CHECKF(rc != 0 && err[0], "a truncated model file was accepted");
    if (rc == 0)
        aet_trainer_free(&b);
    free(bytes);
    aet_trainer_free(&a);
}

/* Every crop on the lattice: the knocked-off decoder recovers, the rate
 * term keeps the latent from inflating, and the validation's rate and
 * PSNR both fall as the step grows. */
/* The checkpoint `from` rewritten as one of an older format, whose magic
 * is `magic` and whose options end at byte opt_bytes, into `to`. */
static int write_old_checkpoint(const char *from, const char *to, const char *magic,
                                size_t opt_bytes)
{
    FILE *f = fopen(from, "rb"), *g = fopen(to, "wb");
    size_t head = 8 + sizeof(long) + sizeof(uint64_t);
    uint8_t buf[4096];
    size_t n = f ? fread(buf, 1, head + sizeof(aet_options), f) : 0;
    int rc = n == head + sizeof(aet_options) && g ? 0 : -1;
    if (rc == 0) {
        memcpy(buf, magic, 8);
        rc |= fwrite(buf, 1, head + opt_bytes, g) == head + opt_bytes ? 0 : -1;
        while ((n = fread(buf, 1, sizeof buf, f)) > 0)
            rc |= fwrite(buf, 1, n, g) == n ? 0 : -1;
    }
    if (f)
        fclose(f);
    if (g && fclose(g))
        rc = -1;
    return rc;
}

/* Saves t as g_dir/TAG.ckpt (into ckpt) and rewrites it as a checkpoint of
 * an older format (write_old_checkpoint) into g_dir/old-TAG.ckpt (into
 * old).  0 on success. */
static int save_with_old_copy(aet_trainer *t, const char *tag, const char *magic,
                              size_t opt_bytes, char ckpt[160], char old[160])
{
    char err[256];
    snprintf(ckpt, 160, "%s/%s.ckpt", g_dir, tag);
    snprintf(old, 160, "%s/old-%s.ckpt", g_dir, tag);
    if (aet_trainer_save(t, ckpt, err, sizeof err))
        return -1;
    return write_old_checkpoint(ckpt, old, magic, opt_bytes);
}

static void test_lattice_training(void)
{
    CHECK(g_have_ds);
    if (!g_have_ds)
        return;
    aet_options o;
    small_options(&o, 60, 3);
    o.fine_prob = 1.0f, o.fine_min = 0.05f, o.fine_max = 0.2f;
    aet_trainer t;
    char err[256];
    int rc = aet_trainer_new(&t, &small_cfg, &o, &g_ds, "lattice", err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc)
        return;
    for (size_t i = 0; i < (size_t)192 * small_cfg.latent; i++)
        t.model->params[t.model->lay.dec_lin_w + i] *= 0.7f;
    double first = 0, last = 0, z_first = 0, z_last = 0, rate = 0;
    for (int s = 0; s < 60; s++) {
        aet_trainer_step(&t, &g_ds);
        if (s < 10)
            first += t.mse / 10, z_first += mean_abs_latent(&t) / 10;
        if (s >= 50)
            last += t.mse / 10, z_last += mean_abs_latent(&t) / 10, rate += t.fine_bpp / 10;
    }
    printf("  lattice crops: mean MSE %.5f -> %.5f, mean |z| %.3f -> %.3f, rate proxy %.2f "
           "bpp, commitment %.5f\n",
           first, last, z_first, z_last, rate, t.commit);
    CHECKF(last < 0.85 * first, "MSE %.5f -> %.5f", first, last);
    CHECKF(z_last < 1.5 * z_first, "latent inflated: mean |z| %.3f -> %.3f", z_first, z_last);
    CHECK(rate > 0 && isfinite(rate));
    CHECK(t.commit == 0); /* no VQ crop in this run */
    const float steps[3] = {0.2f, 0.1f, 0.05f};
    double psnr[3], bpp[3];
    CHECK(aet_validate_fine(t.model, &g_ds, steps, 3, psnr, bpp) == 0);
    printf("  lattice validation: step 0.2 %.3f bpp %.2f dB, 0.1 %.3f bpp %.2f dB, 0.05 %.3f "
           "bpp %.2f dB\n",
           bpp[0], psnr[0], bpp[1], psnr[1], bpp[2], psnr[2]);
    CHECK(bpp[0] < bpp[1] && bpp[1] < bpp[2]);
    CHECK(psnr[0] < psnr[1] && psnr[1] < psnr[2]);

    /* A checkpoint of the first format (before the lattice options) still
     * resumes, with the lattice off. */
    char ckpt[160], old[160];
    CHECK(save_with_old_copy(&t, "lat", "AETRAIN1", offsetof(aet_options, fine_prob), ckpt, old) ==
          0);
    aet_trainer r;
    aet_options longer = o;
    longer.steps = 70;
    rc = aet_trainer_resume(&r, old, &longer, err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc == 0) {
        CHECK(r.step == 60 && r.opt.fine_prob == 0 && r.opt.steps == 70);
        CHECK(memcmp(r.model->params, t.model->params, t.model->lay.total * sizeof(float)) == 0);
    }
    aet_trainer_free(&r);
    rc = aet_trainer_resume(&r, ckpt, &longer, err, sizeof err);
    CHECKF(rc == 0 && r.opt.fine_prob == 1.0f && r.opt.fine_max == 0.2f, "%s", err);
    aet_trainer_free(&r);
    unlink(ckpt), unlink(old);
    aet_trainer_free(&t);
}

/* --rounding codec: the lattice crops decode from the latent rounded by
 * the codec's own rule (aem_lattice_symbols, with the sparse groups of a
 * latent of 16 channels), which changes the run; the mode survives a
 * checkpoint, and a checkpoint of version 3 resumes with the plain one. */
static void test_codec_rounding(void)
{
    CHECK(g_have_ds);
    if (!g_have_ds)
        return;
    aem_config cfg = small_cfg;
    cfg.latent = 16;
    aet_options o;
    small_options(&o, 4, 5);
    o.fine_prob = 1.0f, o.fine_min = 0.4f, o.fine_max = 0.8f;
    aet_trainer plain, codec;
    char err[256];
    int rc = aet_trainer_new(&plain, &cfg, &o, &g_ds, "plain", err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    o.codec_rounding = 1;
    rc |= aet_trainer_new(&codec, &cfg, &o, &g_ds, "codec", err, sizeof err);
    CHECKF(rc == 0, "%s", err);
    if (rc)
        return;
    /* (Adam's first update is lr * sign(g): a few steps, so that the
     * gradients' sizes show in the weights.) */
    for (int s = 0; s < 3; s++)
        aet_trainer_step(&plain, &g_ds), aet_trainer_step(&codec, &g_ds);
    /* The last pass's q is the codec's rounding of its z, crop by crop. */
    int g = o.crop / cfg.block, B = o.batch, D = cfg.latent;
    size_t per = (size_t)g * g, N = (size_t)B * per;
    float zc[16 * 16];
    int32_t sym[16 * 16];
    int same = 1, emptied = 0;
    for (int b = 0; b < B && per <= 16; b++) {
        float step = codec.sample_step[b];
        same &= step > 0;
        for (int d = 0; d < D; d++)
            memcpy(zc + (size_t)d * per, codec.acts.z + (size_t)d * N + b * per, sizeof(float) * per);
        aem_lattice_symbols(zc, NULL, (size_t)D, per, step, sym);
        for (int d = 0; d < D; d++)
            for (size_t j = 0; j < per; j++) {
                float z = zc[(size_t)d * per + j];
                int32_t s = sym[(size_t)d * per + j];
                same &= codec.acts.q[(size_t)d * N + b * per + j] == step * (float)s;
                emptied += d >= AEM_LATTICE_DETAIL_FROM && s == 0 &&
                           aem_lattice_symbol_rounded(z, 1.0f / step,
                                                      aem_lattice_rounding(d, step)) != 0;
            }
    }
    printf("  codec rounding: %d detail symbols emptied in the last pass\n", emptied);
    CHECK(per <= 16 && same);
    CHECK(plain.opt.codec_rounding == 0); /* the default */
    CHECK(memcmp(plain.model->params, codec.model->params,
                 plain.model->lay.total * sizeof(float)) != 0);
    /* The mode is kept by a checkpoint; version 3 has none: plain. */
    char ckpt[160], old[160];
    CHECK(save_with_old_copy(&codec, "codec", "AETRAIN3", offsetof(aet_options, codec_rounding),
                             ckpt, old) == 0);
    aet_trainer r;
    rc = aet_trainer_resume(&r, ckpt, &o, err, sizeof err);
    CHECKF(rc == 0 && r.opt.codec_rounding == 1, "%s", err);
    if (rc == 0)
        aet_trainer_free(&r);
    rc = aet_trainer_resume(&r, old, &o, err, sizeof err);
    CHECKF(rc == 0 && r.opt.codec_rounding == 0 && r.step == 3, "%s", err);
    if (rc == 0)
        aet_trainer_free(&r);
    unlink(ckpt), unlink(old);
    aet_trainer_free(&plain);
    aet_trainer_free(&codec);
}

int main(void)
{
    RUN_TEST(test_kmeans);
    RUN_TEST(test_learning_rate);

    snprintf(g_dir, sizeof g_dir, "/tmp/aec_test_train_XXXXXX");
    char err[256];
    if (!mkdtemp(g_dir)) {
        printf("  cannot create a temporary folder\n");
        g_dir[0] = 0;
    } else if (write_images(g_dir, 4, 96) == 0 &&
               aet_dataset_load(&g_ds, g_dir, 32, err, sizeof err) == 0) {
        g_have_ds = 1;
        if (g_ds.count != 4)
            printf("  dataset holds %d images, expected 4\n", g_ds.count);
    } else {
        printf("  dataset: %s\n", err);
    }
    RUN_TEST(test_training_smoke);
    RUN_TEST(test_reproducible_and_resume);
    RUN_TEST(test_lattice_training);
    RUN_TEST(test_codec_rounding);
    RUN_TEST(test_init_from_model);
    if (g_have_ds)
        aet_dataset_free(&g_ds);
    if (g_dir[0])
        remove_dir(g_dir);
    TEST_EXIT();
}
