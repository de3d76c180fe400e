/* SPDX-License-Identifier: BSD-3-Clause */
/* aetrain - trains an aecodec model (spec/model.md) on a folder of photos.
 *
 *   aetrain --train DIR --valid DIR --out MODEL [--steps N] [--seed S]
 *           [--resume CKPT] [--ckpt FILE] [--ckpt-every N] [--valid-every N] ...
 *
 * Same seed and thread count give the same model.  Checkpoints hold the
 * whole state, so an interrupted run resumes where it stopped. */
#include <math.h>
#include <omp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aecodec.h"
#include "common/cleanup.h"
#include "common/imageio.h"
#include "model/model.h"
#include "train/distributed.h"
#include "train/init.h"
#include "train/trainer.h"

static void usage(FILE *f)
{
    fprintf(f,
            "usage: aetrain --train DIR --out MODEL [options]\n"
            "  --train DIR        training photographs (PNG, JPEG, PNM)\n"
            "  --valid DIR        validation photographs (PSNR per stage count)\n"
            "  --out MODEL        model file to write (also at every checkpoint)\n"
            "  --steps N          total optimisation steps (default 20000)\n"
            "  --seed S           random seed (default 1)\n"
            "  --batch N --crop N crops per step and their side (default 16, 128)\n"
            "  --lr X             peak learning rate (default 5e-4, cosine to 1e-5)\n"
            "  --fine P           train this fraction of crops on the lattice refinement\n"
            "  --fine-steps A B   its steps, log-uniform in [A, B] (default 0.04 0.5)\n"
            "  --rounding MODE    how those crops are rounded: plain (every value with\n"
            "                     the offset 0.35, the default) or codec (as aeenc rounds:\n"
            "                     the detail channels' dead zone, sparse groups emptied)\n"
            "  --denoise A B      de-noising: the encoder sees each crop with noise of a\n"
            "                     sigma uniform in [A, B] (on 0..255), the loss the clean crop\n"
            "  --denoise-poisson P  that fraction of the noisy crops gets signal-dependent\n"
            "                     (Poisson-like) noise instead of Gaussian (default 0)\n"
            "  --latent D --stages S --codes K\n"
            "  --enc-width C --enc-convs N --dec-width C --dec-convs N   network shape\n"
            "  --up U0,U1,U2,R    add the upsampling synthesis (spec/model.md): U_j channels\n"
            "                     after each x2 stage, R at full resolution; with --init, the\n"
            "                     model grows it with a zero last layer\n"
            "  --down A0,A1,A2    give the encoder the analysis stages (spec/model.md): A_j\n"
            "                     channels at 1/2, 1/4 and 1/8 resolution (a new model only)\n"
            "  --name NAME        model name stored in the file\n"
            "  --ckpt FILE        checkpoint path (default MODEL.ckpt)\n"
            "  --ckpt-every N     steps between checkpoints (default 500)\n"
            "  --resume CKPT      continue a run from its checkpoint\n"
            "  --init MODEL       start a new run from a model file's weights (its shape;\n"
            "                     fresh optimiser and learning-rate schedule)\n"
            "  --valid-every N    steps between validations (default 2000)\n"
            "  --log-every N      steps between progress lines (default 50)\n"
            "  -t N               threads (default: all)\n"
            "  --chunks C         split each step's batch into C chunks, each from its own\n"
            "                     shard of --train (default: the MPI ranks); the same C\n"
            "                     gives the same model on any rank count dividing it\n");
}

static int write_model(aec_model *m, const char *path)
{
    uint8_t *blob;
    size_t size;
    char err[256];
    if (aem_model_serialize(m, &blob, &size) != AEC_OK)
        return -1;
    int rc = aeio_write_file_atomic(path, blob, size, err, sizeof err);
    if (rc)
        fprintf(stderr, "aetrain: %s\n", err);
    free(blob);
    return rc;
}

static void validate(aet_trainer *t, const aet_dataset *valid)
{
    int S = t->model->cfg.stages;
    int stages[AEM_MAX_STAGES + 1];
    double psnr[AEM_MAX_STAGES + 1];
    int n = 0;
    stages[n++] = 0;
    for (int s = 1; s <= S; s++)
        stages[n++] = s;
    double t0 = omp_get_wtime();
    if (aet_validate(t->model, valid, stages, n, psnr)) {
        fprintf(stderr, "aetrain: out of memory in validation\n");
        return;
    }
    printf("valid step %ld: unquantised %.2f dB | stages", t->step, psnr[0]);
    for (int k = 1; k < n; k++)
        printf(" %d:%.2f", stages[k], psnr[k]);
    printf(" (%.1f s)\n", omp_get_wtime() - t0);
    if (t->opt.fine_prob > 0) {
        static const float steps[] = {0.3f, 0.15f, 0.08f, 0.05f};
        double fp[4], fb[4];
        if (aet_validate_fine(t->model, valid, steps, 4, fp, fb) == 0) {
            printf("valid step %ld: lattice (step: bpp entropy / PSNR)", t->step);
            for (int k = 0; k < 4; k++)
                printf(" %.2f: %.3f/%.2f", steps[k], fb[k], fp[k]);
            printf("\n");
        }
    }
    fflush(stdout);
}

/* The model file bytes *bytes -> the same model with the upsampling
 * synthesis of cfg added (train/init.h), serialised in place. */
static int grow_upsampling(uint8_t **bytes, size_t *size, const aem_config *cfg, uint64_t seed,
                           char *err, size_t errlen)
{
    aec_model *m = NULL, *g = NULL;
    uint64_t rng = seed * 0x9e3779b97f4a7c15ull + 7;
    if (aem_model_parse(*bytes, *size, &m, err, errlen) != AEC_OK ||
        aet_model_add_upsampling(m, cfg->up_width, cfg->refine_width, &rng, &g, err, errlen) !=
            AEC_OK) {
        aec_model_free(m);
        return -1;
    }
    uint8_t *out;
    size_t out_size;
    int rc = aem_model_serialize(g, &out, &out_size) == AEC_OK ? 0 : -1;
    if (rc)
        snprintf(err, errlen, "out of memory");
    else {
        free(*bytes);
        *bytes = out, *size = out_size;
    }
    aec_model_free(m);
    aec_model_free(g);
    return rc;
}

int main(int argc, char **argv)
{
    aeio_cleanup_install(); /* no model or checkpoint .tmp left by Ctrl-C */
    aet_dist d; /* MPI ranks (aetrain-mpi) or one process */
    if (aet_dist_init(&d, &argc, &argv)) {
        fprintf(stderr, "aetrain: MPI does not start\n");
        return 1;
    }
    if (d.rank && !freopen("/dev/null", "w", stdout)) /* rank 0 speaks for all */
        return aet_dist_end(&d, 1);
    const char *train_dir = NULL, *valid_dir = NULL, *out = NULL, *resume = NULL, *ckpt = NULL;
    const char *init = NULL;
    const char *name = NULL; /* default: "aecodec-model", or the --init model's */
    aet_options opt;
    aet_options_default(&opt);
    aem_config cfg = {.block = 8, .channels = 3, .latent = 32, .enc_width = 64, .enc_convs = 2,
                      .dec_width = 96, .dec_convs = 3, .stages = 12, .codes = 256};
    long ckpt_every = 500, valid_every = 2000, log_every = 50;
    int threads = 0, chunks = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = i + 1 < argc ? argv[i + 1] : NULL;
        if (!strcmp(a, "--help") || !strcmp(a, "-h")) {
            usage(stdout);
            return aet_dist_end(&d, 0);
        }
        if (!strcmp(a, "--version")) {
            printf("aetrain (aecodec) %s\n", aec_version_string());
            return aet_dist_end(&d, 0);
        }
        if (!v) {
            fprintf(stderr, "aetrain: %s needs a value (or is unknown); see --help\n", a);
            return aet_dist_end(&d, 2);
        }
        i++;
        if (!strcmp(a, "--train")) train_dir = v;
        else if (!strcmp(a, "--valid")) valid_dir = v;
        else if (!strcmp(a, "--out")) out = v;
        else if (!strcmp(a, "--resume")) resume = v;
        else if (!strcmp(a, "--init")) init = v;
        else if (!strcmp(a, "--ckpt")) ckpt = v;
        else if (!strcmp(a, "--name")) name = v;
        else if (!strcmp(a, "--steps")) opt.steps = atol(v);
        else if (!strcmp(a, "--seed")) opt.seed = strtoull(v, NULL, 10);
        else if (!strcmp(a, "--batch")) opt.batch = atoi(v);
        else if (!strcmp(a, "--crop")) opt.crop = atoi(v);
        else if (!strcmp(a, "--lr")) opt.lr = (float)atof(v);
        else if (!strcmp(a, "--warmup")) opt.warmup = atoi(v);
        else if (!strcmp(a, "--fine")) opt.fine_prob = (float)atof(v);
        else if (!strcmp(a, "--fine-steps") && i + 1 < argc) {
            opt.fine_min = (float)atof(v);
            opt.fine_max = (float)atof(argv[++i]);
        }
        else if (!strcmp(a, "--denoise") && i + 1 < argc) {
            opt.noise_min = (float)atof(v);
            opt.noise_max = (float)atof(argv[++i]);
        }
        else if (!strcmp(a, "--denoise-poisson")) opt.noise_poisson = (float)atof(v);
        else if (!strcmp(a, "--rounding")) {
            if (strcmp(v, "plain") && strcmp(v, "codec")) {
                fprintf(stderr, "aetrain: --rounding takes plain or codec, not %s\n", v);
                return aet_dist_end(&d, 2);
            }
            opt.codec_rounding = !strcmp(v, "codec");
        }
        else if (!strcmp(a, "--latent")) cfg.latent = atoi(v);
        else if (!strcmp(a, "--stages")) cfg.stages = atoi(v);
        else if (!strcmp(a, "--codes")) cfg.codes = atoi(v);
        else if (!strcmp(a, "--enc-width")) cfg.enc_width = atoi(v);
        else if (!strcmp(a, "--enc-convs")) cfg.enc_convs = atoi(v);
        else if (!strcmp(a, "--dec-width")) cfg.dec_width = atoi(v);
        else if (!strcmp(a, "--dec-convs")) cfg.dec_convs = atoi(v);
        else if (!strcmp(a, "--up")) {
            char tail;
            if (sscanf(v, "%d,%d,%d,%d%c", &cfg.up_width[0], &cfg.up_width[1],
                       &cfg.up_width[2], &cfg.refine_width, &tail) != 4) {
                fprintf(stderr, "aetrain: --up needs four widths U0,U1,U2,R\n");
                return aet_dist_end(&d, 2);
            }
        }
        else if (!strcmp(a, "--down")) {
            char tail;
            if (sscanf(v, "%d,%d,%d%c", &cfg.down_width[0], &cfg.down_width[1],
                       &cfg.down_width[2], &tail) != 3) {
                fprintf(stderr, "aetrain: --down needs three widths A0,A1,A2\n");
                return aet_dist_end(&d, 2);
            }
        }
        else if (!strcmp(a, "--ckpt-every")) ckpt_every = atol(v);
        else if (!strcmp(a, "--valid-every")) valid_every = atol(v);
        else if (!strcmp(a, "--log-every")) log_every = atol(v);
        else if (!strcmp(a, "-t")) threads = atoi(v);
        else if (!strcmp(a, "--chunks")) chunks = atoi(v);
        else {
            fprintf(stderr, "aetrain: unknown option %s; see --help\n", a);
            return aet_dist_end(&d, 2);
        }
    }
    if (!train_dir || !out || opt.steps < 1 || opt.batch < 1 || ckpt_every < 1 ||
        valid_every < 1 || log_every < 1) {
        fprintf(stderr, "aetrain: --train and --out are required, counts must be positive; "
                        "see --help\n");
        return aet_dist_end(&d, 2);
    }
    if (opt.noise_min < 0 || opt.noise_max < opt.noise_min || opt.noise_max > 255 ||
        opt.noise_poisson < 0 || opt.noise_poisson > 1) {
        fprintf(stderr, "aetrain: --denoise needs 0 <= A <= B <= 255 and --denoise-poisson "
                        "a fraction in [0, 1]; see --help\n");
        return 2;
    }
    if (threads > 0)
        omp_set_num_threads(threads);
    char ckpt_default[4096];
    if (!ckpt) {
        snprintf(ckpt_default, sizeof ckpt_default, "%s.ckpt", out);
        ckpt = ckpt_default;
    }
    char err[512];
    aet_dataset train, valid = {0};
    if (aet_dist_plan(&d, chunks, err, sizeof err) ||
        aet_dataset_load_part(&train, train_dir, opt.crop, d.chunks, d.first, d.mine, err,
                              sizeof err) ||
        aet_dist_shards(&d, &train, err, sizeof err)) {
        fprintf(stderr, "aetrain: %s\n", err);
        return aet_dist_end(&d, 1);
    }
    if (valid_dir && d.rank == 0 && aet_dataset_load(&valid, valid_dir, 1, err, sizeof err)) {
        fprintf(stderr, "aetrain: %s\n", err);
        return aet_dist_end(&d, 1);
    }
    aet_trainer t;
    double t0 = omp_get_wtime();
    if (resume) {
        if (aet_trainer_resume(&t, resume, &opt, err, sizeof err)) {
            fprintf(stderr, "aetrain: %s\n", err);
            return aet_dist_end(&d, 1);
        }
        printf("resumed %s at step %ld of %ld\n", resume, t.step, t.opt.steps);
    } else if (init) {
        uint8_t *bytes = NULL;
        size_t size = 0;
        int rc = aeio_read_file(init, &bytes, &size, (size_t)1 << 30, err, sizeof err);
        if (!rc && aem_has_analysis(&cfg)) {
            snprintf(err, sizeof err, "--down makes a new model: it cannot grow one (--init)");
            rc = -1;
        }
        if (!rc && aem_has_upsampling(&cfg))
            rc = grow_upsampling(&bytes, &size, &cfg, opt.seed, err, sizeof err);
        if (!rc)
            rc = aet_trainer_from_model(&t, bytes, size, &opt, name, err, sizeof err);
        free(bytes);
        if (rc) {
            fprintf(stderr, "aetrain: %s: %s\n", init, err);
            return aet_dist_end(&d, 1);
        }
        printf("started from %s\n", init);
    } else {
        if (d.chunks > 1 ? aet_dist_new(&d, &t, &cfg, &opt, name ? name : "aecodec-model", err,
                                        sizeof err)
                         : aet_trainer_new(&t, &cfg, &opt, &train, name ? name : "aecodec-model",
                                           err, sizeof err)) {
            fprintf(stderr, "aetrain: %s\n", err);
            return aet_dist_end(&d, 1);
        }
        printf("initialised (PCA + k-means) in %.1f s\n", omp_get_wtime() - t0);
    }
    if (t.opt.batch % d.chunks) {
        fprintf(stderr, "aetrain: --chunks %d does not divide the batch %d\n", d.chunks,
                t.opt.batch);
        return aet_dist_end(&d, 2);
    }
    const aem_config *c = &t.model->cfg;
    if (aem_has_upsampling(c))
        printf("upsampling synthesis: %d, %d, %d channels at 1/4, 1/2, 1; %d at full "
               "resolution\n",
               c->up_width[0], c->up_width[1], c->up_width[2], c->refine_width);
    if (aem_has_analysis(c))
        printf("analysis stages: %d, %d, %d channels at 1/2, 1/4, 1/8\n", c->down_width[0],
               c->down_width[1], c->down_width[2]);
    printf("model %s: D=%d S=%d K=%d enc %dx%d dec %dx%d | %.0f MACs/pixel encoder network, "
           "%.0f with VQ search, %.0f decoder | %zu parameters\n",
           t.model->name, c->latent, c->stages, c->codes, c->enc_convs, c->enc_width,
           c->dec_convs, c->dec_width, aem_macs_per_pixel(c, 0, 0),
           aem_macs_per_pixel(c, 0, c->stages), aem_macs_per_pixel(c, 1, 0), t.model->lay.total);
    printf("train: %d images from %s, batch %d x %dx%d, %d threads, seed %llu\n", train.count,
           train_dir, t.opt.batch, t.opt.crop, t.opt.crop, omp_get_max_threads(),
           (unsigned long long)t.opt.seed);
    if (t.opt.fine_prob > 0 && t.opt.codec_rounding)
        printf("lattice crops rounded as the codec's encoder rounds them\n");
    if (t.opt.noise_max > 0)
        printf("de-noising: sigma %.1f..%.1f (0..255), %.0f%% signal-dependent\n",
               t.opt.noise_min, t.opt.noise_max, 100 * t.opt.noise_poisson);
    fflush(stdout);
    if (valid.count && t.step == 0)
        validate(&t, &valid);
    double window_start = omp_get_wtime(), mse_sum = 0;
    long window_steps = 0;
    while (t.step < t.opt.steps) {
        aet_dist_step(&d, &t, &train);
        mse_sum += t.mse;
        window_steps++;
        if (t.step % log_every == 0 || t.step == t.opt.steps) {
            double now = omp_get_wtime(), dt = now - window_start;
            double rate = window_steps * t.opt.batch / dt;
            double eta = (t.opt.steps - t.step) * t.opt.batch / rate;
            printf("step %ld/%ld loss %.5f psnr %.2f commit %.4f lr %.2e | %.1f crops/s | "
                   "ETA %dh%02dm | ppl",
                   t.step, t.opt.steps, t.loss, 10 * log10(1.0 / (mse_sum / window_steps)),
                   t.commit, aet_learning_rate(&t.opt, t.step), rate, (int)(eta / 3600),
                   (int)fmod(eta / 60, 60));
            for (int s = 0; s < c->stages; s++)
                printf(" %.0f", t.perplexity[s]);
            if (t.opt.fine_prob > 0)
                printf(" | lattice rate %.2f bpp", t.fine_bpp);
            if (d.chunks > 1) /* what the gradient exchange costs */
                printf(" | %d chunks on %d ranks, exchange %.0f KB in %.2f ms/step", d.chunks,
                       d.size, aet_dist_exchange_bytes(&d) / 1024.0,
                       1e3 * d.exchange_s / (d.exchange_steps ? d.exchange_steps : 1));
            d.exchange_s = 0, d.exchange_steps = 0;
            printf("\n");
            fflush(stdout);
            window_start = now, mse_sum = 0, window_steps = 0;
        }
        if (d.rank == 0 && (t.step % ckpt_every == 0 || t.step == t.opt.steps)) {
            if (aet_trainer_save(&t, ckpt, err, sizeof err) || write_model(t.model, out)) {
                fprintf(stderr, "aetrain: %s\n", err);
                return aet_dist_end(&d, 1);
            }
        }
        if (valid.count && (t.step % valid_every == 0 || t.step == t.opt.steps))
            validate(&t, &valid);
    }
    printf("done: %ld steps in %.1f min; model %s (id %016llx)\n", t.step,
           (omp_get_wtime() - t0) / 60, out, (unsigned long long)t.model->id);
    aet_trainer_free(&t);
    aet_dataset_free(&train);
    aet_dataset_free(&valid);
    return aet_dist_end(&d, 0);
}
