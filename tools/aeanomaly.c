/* SPDX-License-Identifier: BSD-3-Clause */
/* aeanomaly - anomaly scores and maps from an aecodec model's reconstruction
 * (tools/common/anomaly.h): codes each picture at a quality level, decodes
 * it and scores where the model fails more than the content predicts. */
#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aecodec.h"
#include "common/anomaly.h"
#include "common/cleanup.h"
#include "common/cli.h"
#include "common/imageio.h"

/* Level used without --level: with the built-in models a low lattice level
 * (the model must lean on what it learnt); with a model of one's own, its
 * first VQ stage. */
#define DEFAULT_BUILTIN_LEVEL 4

static void usage(void)
{
    printf("Usage: aeanomaly [options] IMG...\n"
           "       aeanomaly [options] --eval NORMAL_DIR ANOMALY_DIR\n"
           "Codes each picture with an aecodec model, decodes it and scores how much\n"
           "worse the model rebuilds it than its content predicts (per 8x8 block: the\n"
           "model's squared error over half that of a 2x2 blur, both plus 10^2).\n"
           "Prints \"SCORE IMG\" per picture: the mean log2 ratio of its worst 2 %% of\n"
           "blocks; higher = less like what the model was trained on.\n"
           "\n"
           "Options:\n"
           "  --model FILE   a model of one's own (aetrain); default: the built-in ones\n"
           "  --level L      quality level (with --model: VQ stages; default %d with the\n"
           "                 built-in models, 1 with --model)\n"
           "  --against R    divide by the error of the built-in models at level R\n"
           "                 instead of the blur's: where a model of one kind of\n"
           "                 picture (--model) does worse than the general one\n"
           "  --against-model FILE  with --against: the general model is FILE\n"
           "                 (R = its VQ stages) instead of the built-in ones\n"
           "  --map OUT      write the per-block map as a grey picture of the input's\n"
           "                 size (one IMG): 128 + 64 * log2(error ratio), so 128 = the\n"
           "                 model loses half what a 2x2 blur would, 192 = twice that\n"
           "  --eval N A     score every picture in the folders N (normal) and A\n"
           "                 (anomalous), print each score and the ROC AUC\n"
           "  -t, --threads N  worker threads, 0 = all cores (default 0)\n"
           "  -h, --help     show this help\n"
           "\n"
           "Exit status: 0 ok, 1 error, 2 usage error.\n",
           DEFAULT_BUILTIN_LEVEL);
}

typedef struct {
    aec_encoder *enc;
    aec_decoder *dec;
    int level, threads;
    aec_encoder *ref_enc; /* --against: the built-in models, or NULL */
    aec_decoder *ref_dec;
    int ref_level;
} scorer;

/* Scores one picture (and writes its map when map_path); 0 or -1 after one
 * line on stderr. */
static int score_file(const scorer *s, const char *path, const char *map_path, double *score)
{
    aeio_image img = {0};
    char err[1024];
    uint8_t *rebuilt = NULL, *reference = NULL, *grey = NULL;
    aean_map m = {0};
    int rc = -1;
    if (aeio_read(path, &img, 0, err, sizeof err) != 0) {
        cli_error("%s", err);
        return -1;
    }
    aec_status st = aean_rebuild(s->enc, s->dec, img.pixels, img.width, img.height,
                                 img.channels, s->level, s->threads, &rebuilt);
    if (st == AEC_OK && s->ref_enc)
        st = aean_rebuild(s->ref_enc, s->ref_dec, img.pixels, img.width, img.height,
                          img.channels, s->ref_level, s->threads, &reference);
    if (st != AEC_OK) {
        const char *d = aec_encoder_last_error(rebuilt ? s->ref_enc : s->enc);
        cli_error("%s: %s", path, d && *d ? d : aec_status_string(st));
        goto done;
    }
    if (aean_map_make(img.pixels, rebuilt, reference, img.width, img.height, img.channels,
                      &m) != 0 ||
        !isfinite(*score = aean_score(&m))) {
        cli_error("out of memory");
        goto done;
    }
    if (map_path) {
        if (aean_map_image(&m, img.width, img.height, &grey) != 0) {
            cli_error("out of memory");
            goto done;
        }
        aeio_image out = {.width = img.width, .height = img.height, .channels = 1,
                          .pixels = grey, .source_bit_depth = 8};
        if (aeio_write(map_path, &out, err, sizeof err) != 0) {
            cli_error("%s", err);
            goto done;
        }
    }
    rc = 0;
done:
    free(grey);
    free(rebuilt);
    free(reference);
    aean_map_free(&m);
    aeio_free(&img);
    return rc;
}

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Scores every file of dir (dot-files skipped), in name order, printing
 * "LABEL SCORE PATH".  *scores is malloc'ed.  0 or -1 after one line. */
static int score_dir(const scorer *s, const char *dir, const char *label, double **scores,
                     int *n)
{
    DIR *d = opendir(dir);
    if (!d) {
        cli_error("%s: cannot open folder", dir);
        return -1;
    }
    char **names = NULL;
    int count = 0, cap = 0, rc = -1;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 64;
            char **grown = realloc(names, sizeof(char *) * (size_t)cap);
            if (!grown)
                goto oom;
            names = grown;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(names[count] = malloc(len)))
            goto oom;
        snprintf(names[count++], len, "%s/%s", dir, e->d_name);
    }
    if (count == 0) {
        cli_error("%s: no pictures in the folder", dir);
        goto done;
    }
    qsort(names, (size_t)count, sizeof(char *), cmp_name);
    if (!(*scores = malloc(sizeof(double) * (size_t)count)))
        goto oom;
    for (int i = 0; i < count; i++) {
        if (score_file(s, names[i], NULL, &(*scores)[i]) != 0)
            goto done;
        printf("%s %.4f %s\n", label, (*scores)[i], names[i]);
    }
    *n = count;
    rc = 0;
    goto done;
oom:
    cli_error("out of memory");
done:
    closedir(d);
    for (int i = 0; i < count; i++)
        free(names[i]);
    free(names);
    return rc;
}

typedef struct {
    const char *model_path, *against_model_path, *map_path, *eval_normal, *eval_anomalous;
    int level, threads, against;
    const char **files;
    int nfiles;
} anomaly_options;

/* Fills *o from argv; -1 when the run goes on, else the exit status. */
static int parse_options(int argc, char **argv, anomaly_options *o)
{
    int only_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
        if (only_files || a[0] != '-' || a[1] == 0) {
            o->files[o->nfiles++] = a;
        } else if (strcmp(a, "--") == 0) {
            only_files = 1;
        } else if (cli_flag(a, "-h", "--help")) {
            usage();
            return CLI_EXIT_OK;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--model", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            o->model_path = v;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--against-model", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            o->against_model_path = v;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--map", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            o->map_path = v;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--level", &v)) != 0) {
            if (r < 0 || cli_option_int("--level", v, 1, 64, &o->level) != 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--against", &v)) != 0) {
            if (r < 0 || cli_option_int("--against", v, 1, 64, &o->against) != 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, "-t", "--threads", &v)) != 0) {
            if (r < 0 || cli_option_int("--threads", v, 0, 4096, &o->threads) != 0)
                return CLI_EXIT_USAGE;
        } else if (strcmp(a, "--eval") == 0) {
            if (i + 2 >= argc)
                return cli_usage_error("--eval needs two folders: NORMAL_DIR ANOMALY_DIR");
            o->eval_normal = argv[++i];
            o->eval_anomalous = argv[++i];
        } else {
            return cli_usage_error("unknown option '%s'", a);
        }
    }
    if (o->against_model_path && !o->against)
        return cli_usage_error("--against-model needs --against R");
    if (o->eval_normal && (o->nfiles || o->map_path))
        return cli_usage_error("--eval takes its two folders and no pictures or --map");
    if (!o->eval_normal && o->nfiles == 0)
        return cli_usage_error("expected pictures to score (or --eval NORMAL_DIR ANOMALY_DIR)");
    if (o->map_path && o->nfiles != 1)
        return cli_usage_error("--map writes one picture's map: give one IMG");
    return -1;
}

int main(int argc, char **argv)
{
    cli_init(argv[0]);
    aeio_cleanup_install();
    anomaly_options o = {0};
    o.files = malloc(sizeof(*o.files) * (size_t)argc);
    if (!o.files) {
        cli_error("out of memory");
        return CLI_EXIT_RUNTIME;
    }
    scorer s = {0};
    aec_model *model = NULL, *ref_model = NULL;
    double *normal = NULL, *anomalous = NULL;
    int rc = parse_options(argc, argv, &o);
    if (rc >= 0)
        goto done;
    rc = CLI_EXIT_RUNTIME;
    aec_status st;
    if (o.model_path && (st = aec_model_load_file(&model, o.model_path)) != AEC_OK) {
        cli_error("%s: cannot load model: %s", o.model_path, aec_status_string(st));
        goto done;
    }
    if ((st = aec_encoder_create(&s.enc, model)) != AEC_OK ||
        (st = aec_decoder_create(&s.dec, model)) != AEC_OK) {
        cli_error("cannot create the codec: %s", aec_status_string(st));
        goto done;
    }
    aec_decoder_set_threads(s.dec, o.threads);
    s.threads = o.threads;
    if (o.against_model_path &&
        (st = aec_model_load_file(&ref_model, o.against_model_path)) != AEC_OK) {
        cli_error("%s: cannot load model: %s", o.against_model_path, aec_status_string(st));
        goto done;
    }
    if (o.against) {
        if ((st = aec_encoder_create(&s.ref_enc, ref_model)) != AEC_OK ||
            (st = aec_decoder_create(&s.ref_dec, ref_model)) != AEC_OK) {
            cli_error("cannot create the codec: %s", aec_status_string(st));
            goto done;
        }
        aec_decoder_set_threads(s.ref_dec, o.threads);
        s.ref_level = o.against;
        if (s.ref_level > aec_encoder_levels(s.ref_enc)) {
            rc = cli_usage_error("--against %d is above the %d levels %s", s.ref_level,
                                 aec_encoder_levels(s.ref_enc),
                                 ref_model ? "(VQ stages) of that model" : "of the built-in models");
            goto done;
        }
    }
    int levels = aec_encoder_levels(s.enc);
    s.level = o.level ? o.level : model ? 1 : DEFAULT_BUILTIN_LEVEL;
    if (s.level > levels) {
        rc = cli_usage_error("--level %d is above the %d levels %s", s.level, levels,
                             model ? "(VQ stages) of this model" : "of the built-in models");
        goto done;
    }
    if (o.eval_normal) {
        int nn = 0, na = 0;
        if (score_dir(&s, o.eval_normal, "normal", &normal, &nn) != 0 ||
            score_dir(&s, o.eval_anomalous, "anomalous", &anomalous, &na) != 0)
            goto done;
        printf("auc %.4f (%d normal, %d anomalous, level %d)\n",
               aean_auc(normal, nn, anomalous, na), nn, na, s.level);
        rc = CLI_EXIT_OK;
        goto done;
    }
    rc = CLI_EXIT_OK;
    for (int i = 0; i < o.nfiles; i++) {
        double score;
        if (score_file(&s, o.files[i], o.map_path, &score) != 0)
            rc = CLI_EXIT_RUNTIME;
        else
            printf("%.4f %s\n", score, o.files[i]);
    }
done:
    free(normal);
    free(anomalous);
    if (s.enc)
        aec_encoder_destroy(s.enc);
    if (s.dec)
        aec_decoder_destroy(s.dec);
    if (s.ref_enc)
        aec_encoder_destroy(s.ref_enc);
    if (s.ref_dec)
        aec_decoder_destroy(s.ref_dec);
    if (model)
        aec_model_free(model);
    if (ref_model)
        aec_model_free(ref_model);
    free(o.files);
    return rc;
}
