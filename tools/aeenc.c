/* SPDX-License-Identifier: BSD-3-Clause */
/* aeenc - encode a PNG, JPEG or PNM image into an aecodec (.aec) file. */
#include "aecodec.h"
#include "common/batch.h"
#include "common/cleanup.h"
#include "common/cli.h"
#include "common/imageio.h"
#include "common/threads.h"
#include "common/npy.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *layout_name(int channels)
{
    static const char *names[5] = {"?", "grey", "grey+alpha", "RGB", "RGBA"};
    return channels >= 1 && channels <= 4 ? names[channels] : names[0];
}

/* Quality levels of the built-in models. */
static int builtin_levels(void)
{
    aec_encoder *e = NULL;
    int n = aec_encoder_create(&e, NULL) == AEC_OK ? aec_encoder_levels(e) : 0;
    aec_encoder_destroy(e);
    return n;
}

static void usage(void)
{
    int levels = builtin_levels();
    printf("Usage: aeenc [options] IN OUT\n"
           "       aeenc [options] -o DIR IN...\n"
           "Encode IN (PNG, JPEG, PGM/PPM/PAM; \"-\" = stdin) into the aecodec file OUT\n"
           "(\"-\" = stdout).  OUT is written to a temporary file and renamed into place,\n"
           "so nothing is left behind on error.  With -o, each IN becomes DIR/NAME.aec\n"
           "(NAME: IN's file name without its extension); a file that fails is reported\n"
           "and the others are still encoded.\n"
           "\n"
           "Options:\n"
           "  -q, --quality N     quality level, 1..%d with the built-in models (default:\n"
           "                      the middle one, %d); with --model, VQ stages to code.\n"
           "                      Fractions (7.5) interpolate the lattice step between\n"
           "                      levels.  Levels 1..5 code the picture at half size\n"
           "                      (see --half-size)\n"
           "      --size BYTES    the best quality whose file fits in BYTES (a search of\n"
           "                      the fractional levels; within 2 %% below where the\n"
           "                      levels reach it)\n"
           "      --bpp X         the same for X bits per pixel\n"
           "      --psnr DB       the smallest file whose RGB PSNR reaches DB (within\n"
           "                      0.1 dB above where the levels reach it)\n"
           "      --strip         drop the input's ICC profile and EXIF (default: kept in\n"
           "                      the file; the EXIF orientation is always applied to\n"
           "                      the pixels and then set to 1)\n"
           "  -t, --threads N     worker threads, 0 = all cores (default 0)\n"
           "      --tile N        tile side in pixels, a multiple of 64 in 64..1024\n"
           "                      (default: the library's choice)\n"
           "      --lambda X      rate-distortion trade-off of the index choice, 0..1:\n"
           "                      larger spends fewer bits for a little more error;\n"
           "                      0 = nearest codes (default: chosen per level)\n"
           "      --lattice X     step of the lattice refinement after the VQ stages,\n"
           "                      smaller = finer and larger (default: chosen per level;\n"
           "                      0 = none)\n"
           "      --model FILE    encode with this model file instead of the built-in ones\n"
           "      --lattice-only  code no VQ stage, the latent on the lattice alone (as\n"
           "                      levels 1..%d do; with --model, whose -q counts stages);\n"
           "                      needs a lattice step: the level's or --lattice\n"
           "      --denoise       code a noisy photograph with the de-noising fine-tune of\n"
           "                      the high-rate model (levels 6..%d, same steps): it decodes\n"
           "                      closer to the clean picture.  Not with --model\n"
           "      --half-size W   auto: code the picture at half size where the level does\n"
           "                      (1..5; the decoder upsamples it by two: below about\n"
           "                      0.24 bpp that is 0.2-1.3 dB better), on: at any level,\n"
           "                      off: always full size (default auto; pictures with\n"
           "                      alpha are always coded at full size)\n"
           "      --residual R    the pixel residual layer (8x8 DCT blocks of what the\n"
           "                      network misses, on top of the lattice): auto (the\n"
           "                      level's: 8..%d have one), off, or a step of %d..%d\n"
           "                      (smaller is finer); needs a full-size lattice level\n"
           "      --filter F      the restoration filter (a linear filter fitted to the\n"
           "                      picture, which the decoder applies last; bitstream\n"
           "                      version 2): auto (where its gain pays for its bytes),\n"
           "                      on (wherever it gains) or off (the file stays\n"
           "                      version 1; default auto)\n"
           "  -e, --effort N      0..%d: 0 (default) takes the encoder network's\n"
           "                      latents as they are; 1..%d refine them through the\n"
           "                      decoder (10, 20, 40 steps, each about three decodes of\n"
           "                      the picture): slower, for slightly better files (at 2,\n"
           "                      +0.01 to +0.18 dB for -0.4 to +3.6 %% bytes by level);\n"
           "                      lattice levels (all built-in levels but --denoise)\n"
           "      --latents FILE  also write the latent grid to FILE, a NumPy .npy of\n"
           "                      float32 [2][H/8][W/8][D]: [0] the encoder's output, [1]\n"
           "                      the quantised latent the file decodes from (one input)\n"
           "      --max-pixels N  refuse input images with more pixels (default %llu)\n"
           "  -o, --output-dir DIR  write DIR/NAME.aec for each IN (DIR is created)\n"
           "  -n, --no-clobber    skip an input whose output already exists (default:\n"
           "                      replace it, as a single OUT is replaced)\n"
           "  -v, --verbose       print size, bits per pixel and time to stderr\n"
           "  -h, --help          show this help\n"
           "      --version       show version and model\n"
           "\n"
           "Exit status: 0 ok, 1 error (with -o: any file failed), 2 usage error.\n",
           levels, (levels + 1) / 2, levels, levels, levels, AEC_RESIDUAL_STEP_MIN,
           AEC_RESIDUAL_STEP_MAX, AEC_EFFORT_MAX, AEC_EFFORT_MAX,
           (unsigned long long)AEC_DEFAULT_MAX_PIXELS);
}

static void version(void)
{
    const aec_model *m = aec_model_default();
    printf("aeenc (aecodec) %s\n", aec_version_string());
    if (m)
        printf("default model: %s (id 0x%016" PRIx64 ", %d stages); %d quality levels with "
               "the built-in models\n",
               aec_model_name(m), aec_model_id(m), aec_model_stages(m), builtin_levels());
    else
        printf("default model: none\n");
}

static const char *detail(aec_status st, const char *last)
{
    return last && *last ? last : aec_status_string(st);
}

/* The command line: options, then the inputs (and OUT without -o). */
typedef struct {
    int quality, threads, tile, verbose, no_clobber, strip;
    int denoise; /* --denoise: the de-noising fine-tune */
    int lattice_only; /* --lattice-only: no VQ stage, the lattice alone */
    int half_size; /* --half-size: 0 auto, 1 on, -1 off */
    int residual;  /* --residual: 0 auto, -1 off, else the step */
    int filter;    /* --filter: 0 auto, 1 on, -1 off */
    int effort;    /* --effort */
    double quality_fine; /* -q with a fraction, else 0 */
    uint64_t target_size; /* --size, 0 = off */
    double target_bpp, target_psnr; /* --bpp, --psnr; 0 = off */
    double lambda;  /* < 0: the library default */
    double lattice; /* < 0: the library default */
    const char *model_path, *out_dir;
    const char *latents; /* --latents FILE, or NULL */
    uint64_t max_pixels;
    const char **files;
    int nfiles;
} enc_options;

/* Fills *o from argv; -1 when the run goes on, else the exit status. */
/* An option's auto, on or off into 0, 1 or -1 (*out); else a usage error
 * (non-zero, message printed). */
static int auto_on_off(const char *option, const char *v, int *out)
{
    if (strcmp(v, "auto") == 0)
        *out = 0;
    else if (strcmp(v, "on") == 0)
        *out = 1;
    else if (strcmp(v, "off") == 0)
        *out = -1;
    else
        return cli_usage_error("%s takes auto, on or off, not '%s'", option, v) != 0;
    return 0;
}

static int parse_options(int argc, char **argv, enc_options *o)
{
    int only_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
        if (only_files || a[0] != '-' || a[1] == 0) {
            o->files[o->nfiles++] = a;
            continue;
        }
        if (strcmp(a, "--") == 0) {
            only_files = 1;
        } else if (cli_flag(a, "-h", "--help")) {
            usage();
            return CLI_EXIT_OK;
        } else if (cli_flag(a, NULL, "--version")) {
            version();
            return CLI_EXIT_OK;
        } else if (cli_flag(a, "-v", "--verbose")) {
            o->verbose = 1;
        } else if (cli_flag(a, "-n", "--no-clobber")) {
            o->no_clobber = 1;
        } else if (cli_flag(a, NULL, "--denoise")) {
            o->denoise = 1;
        } else if (cli_flag(a, NULL, "--lattice-only")) {
            o->lattice_only = 1;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--half-size", &v)) != 0) {
            if (r < 0 || auto_on_off("--half-size", v, &o->half_size))
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--filter", &v)) != 0) {
            if (r < 0 || auto_on_off("--filter", v, &o->filter))
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, "-e", "--effort", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_int(v, 0, AEC_EFFORT_MAX, &o->effort) != 0)
                return cli_usage_error("--effort takes 0..%d, not '%s'", AEC_EFFORT_MAX, v);
        } else if ((r = cli_option(argc, argv, &i, NULL, "--residual", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (strcmp(v, "auto") == 0)
                o->residual = 0;
            else if (strcmp(v, "off") == 0)
                o->residual = -1;
            else if (cli_parse_int(v, AEC_RESIDUAL_STEP_MIN, AEC_RESIDUAL_STEP_MAX,
                                   &o->residual) != 0)
                return cli_usage_error("--residual takes auto, off or a step of %d..%d, not '%s'",
                                       AEC_RESIDUAL_STEP_MIN, AEC_RESIDUAL_STEP_MAX, v);
        } else if ((r = cli_option(argc, argv, &i, "-o", "--output-dir", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            o->out_dir = v;
        } else if ((r = cli_option(argc, argv, &i, "-q", "--quality", &v)) != 0) {
            double q;
            if (r < 0 || cli_option_double("--quality", v, 1, 16, &q) != 0)
                return CLI_EXIT_USAGE;
            o->quality = (int)q;
            o->quality_fine = q == (double)o->quality ? 0 : q;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--size", &v)) != 0) {
            if (r < 0 || cli_option_u64("--size", v, 1, UINT64_MAX / 16, &o->target_size) != 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--bpp", &v)) != 0) {
            if (r < 0 || cli_option_double("--bpp", v, 0.001, 64, &o->target_bpp) != 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--psnr", &v)) != 0) {
            if (r < 0 || cli_option_double("--psnr", v, 1, 100, &o->target_psnr) != 0)
                return CLI_EXIT_USAGE;
        } else if (cli_flag(a, NULL, "--strip")) {
            o->strip = 1;
        } else if ((r = cli_option(argc, argv, &i, "-t", "--threads", &v)) != 0) {
            if (r < 0 || cli_option_int("--threads", v, 0, 4096, &o->threads) != 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--tile", &v)) != 0) {
            if (r < 0 || cli_option_int("--tile", v, 64, 1024, &o->tile) != 0)
                return CLI_EXIT_USAGE;
            if (o->tile % 64 != 0)
                return cli_usage_error("--tile must be a multiple of 64 (got %d)", o->tile);
        } else if ((r = cli_option(argc, argv, &i, NULL, "--lambda", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_double(v, &o->lambda) != 0 || !(o->lambda >= 0 && o->lambda <= 1))
                return cli_usage_error("--lambda must be a number in 0..1 (got '%s')", v);
        } else if ((r = cli_option(argc, argv, &i, NULL, "--lattice", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_double(v, &o->lattice) != 0 ||
                !(o->lattice == 0 || (o->lattice >= 1.0 / 65536 && o->lattice <= 64)))
                return cli_usage_error("--lattice must be 0 or a step in 1/65536..64 (got '%s')",
                                       v);
        } else if ((r = cli_option(argc, argv, &i, NULL, "--model", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            o->model_path = v;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--latents", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            o->latents = v;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--max-pixels", &v)) != 0) {
            if (r < 0 ||
                cli_option_u64("--max-pixels", v, 1, UINT64_MAX / 16, &o->max_pixels) != 0)
                return CLI_EXIT_USAGE;
        } else {
            return cli_usage_error("unknown option '%s'", a);
        }
    }
    if ((o->target_size > 0) + (o->target_bpp > 0) + (o->target_psnr > 0) > 1)
        return cli_usage_error("give one of --size, --bpp and --psnr");
    if (o->denoise && o->model_path)
        return cli_usage_error("--denoise uses the built-in de-noising model: not with --model");
    if (o->latents && o->out_dir)
        return cli_usage_error("--latents writes one file: give one IN and OUT, not -o DIR");
    if (o->latents && o->effort > 0)
        return cli_usage_error("--latents writes the encoder network's latents: not with --effort");
    if (o->out_dir)
        return o->nfiles > 0 ? -1 : cli_usage_error("expected input files after -o DIR");
    if (o->nfiles > 2)
        return cli_usage_error("too many arguments ('%s'; several inputs need -o DIR)",
                               o->files[2]);
    if (o->nfiles != 2)
        return cli_usage_error("expected an input and an output file");
    return -1;
}

/* Writes the latent grid of img (aec_encode_latents) to path as a .npy of
 * float32 [2][grid_h][grid_w][D]; 0 or -1 after one line on stderr. */
static int write_latents(aec_encoder *enc, const aeio_image *img, const aec_encode_params *p,
                         const char *path)
{
    float *lat = NULL;
    uint32_t gw, gh, D;
    aec_status st = aec_encode_latents(enc, img->pixels, img->width, img->height, 0,
                                       (aec_layout)img->channels, p, &lat, &gw, &gh, &D);
    if (st != AEC_OK) {
        cli_error("latents: %s", detail(st, aec_encoder_last_error(enc)));
        return -1;
    }
    uint64_t shape[4] = {2, gh, gw, D};
    uint8_t *bytes = NULL;
    size_t size = 0;
    char err[1024];
    int rc = npy_f32_bytes(lat, shape, 4, &bytes, &size);
    aec_free(lat);
    if (rc) {
        cli_error("out of memory for the latents");
        return -1;
    }
    rc = aeio_write_file_atomic(path, bytes, size, err, sizeof err);
    if (rc)
        cli_error("%s", err);
    free(bytes);
    return rc ? -1 : 0;
}

/* Reads in, encodes it and writes out; 0 or -1 after one line on stderr.
 * The output's temporary file is made first, so that an unwritable output
 * fails before the encode. */
static int encode_one(aec_encoder *enc, const enc_options *o, const char *in, const char *out)
{
    const char *in_name = cli_is_stdio(in) ? "stdin" : in;
    aeio_image img = {0};
    uint8_t *coded = NULL;
    size_t coded_size = 0;
    char err[1024];
    int rc = -1;
    aeio_file *file = NULL;
    if (aeio_file_open(&file, out, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        return -1;
    }
    if (aeio_read(in, &img, o->max_pixels, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        goto done;
    }
    cli_threads_start(o->threads, (double)img.width * img.height);
    aec_encode_params params;
    aec_encode_params_default(&params);
    params.quality = o->quality;
    params.threads = o->threads;
    params.tile_size = o->tile;
    params.denoise = o->denoise;
    params.lattice_only = o->lattice_only;
    params.half_size = o->half_size;
    params.residual_step = o->residual;
    params.filter = o->filter;
    params.effort = o->effort;
    if (o->lambda >= 0)
        params.lambda = (float)o->lambda;
    if (o->lattice >= 0)
        params.lattice_step = (float)o->lattice;
    params.quality_fine = (float)o->quality_fine;
    params.target_size = o->target_size;
    if (o->target_bpp > 0)
        params.target_size = (uint64_t)(o->target_bpp * img.width * img.height / 8.0 + 0.5);
    params.target_psnr = (float)o->target_psnr;
    if (!o->strip) {
        params.metadata.icc = img.icc, params.metadata.icc_size = img.icc_size;
        params.metadata.exif = img.exif, params.metadata.exif_size = img.exif_size;
    }
    double t0 = cli_seconds();
    aec_status st = aec_encode(enc, img.pixels, img.width, img.height, 0,
                               (aec_layout)img.channels, &params, &coded, &coded_size);
    double seconds = cli_seconds() - t0;
    if (st != AEC_OK) {
        cli_error("%s: encoding failed: %s", in_name, detail(st, aec_encoder_last_error(enc)));
        goto done;
    }
    if (o->latents && write_latents(enc, &img, &params, o->latents) != 0)
        goto done;
    aeio_file *committing = file;
    file = NULL; /* commit releases it, whatever happens */
    if (aeio_file_write(committing, coded, coded_size, err, sizeof(err)) != 0) {
        aeio_file_abort(committing);
        cli_error("%s", err);
        goto done;
    }
    if (aeio_file_commit(committing, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        goto done;
    }
    if (o->verbose) {
        double pixels = (double)img.width * img.height, psnr;
        int encodes;
        float level;
        aec_encoder_last_search(enc, &encodes, &level, &psnr);
        fprintf(stderr, "%s: %s: %ux%u %s%s, quality %.3g/%d: %zu bytes, %.4f bpp, %.3f s",
                cli_prog(), in_name, (unsigned)img.width, (unsigned)img.height,
                layout_name(img.channels),
                img.source_bit_depth == 16 ? " (16-bit input reduced to 8 bit)" : "", level,
                aec_encoder_levels(enc), coded_size, 8.0 * (double)coded_size / pixels, seconds);
        if (encodes > 1)
            fprintf(stderr, " (search: %d encodes)", encodes);
        if (psnr > 0)
            fprintf(stderr, ", %.2f dB", psnr);
        fputc('\n', stderr);
        if (img.orientation > 1)
            fprintf(stderr, "%s: %s: EXIF orientation %d applied\n", cli_prog(), in_name,
                    img.orientation);
    }
    rc = 0;
done:
    aeio_file_abort(file);
    if (coded)
        aec_free(coded);
    aeio_free(&img);
    return rc;
}

int main(int argc, char **argv)
{
    cli_init(argv[0]);
    aeio_cleanup_install();
    enc_options o = {.lambda = -1, .lattice = -1, .max_pixels = AEC_DEFAULT_MAX_PIXELS};
    o.files = malloc(sizeof(*o.files) * (size_t)argc);
    if (!o.files) {
        cli_error("out of memory");
        return CLI_EXIT_RUNTIME;
    }
    int rc = parse_options(argc, argv, &o);
    cli_batch batch = {0};
    aec_model *loaded = NULL;
    aec_encoder *enc = NULL;
    aec_status st;
    if (rc >= 0)
        goto done;
    rc = CLI_EXIT_RUNTIME;
    if (o.out_dir && (rc = cli_batch_plan(&batch, o.out_dir, o.files, o.nfiles, ".aec")) != 0)
        goto done;
    rc = CLI_EXIT_RUNTIME;

    const aec_model *model = NULL; /* the built-in models */
    if (o.model_path) {
        st = aec_model_load_file(&loaded, o.model_path);
        if (st != AEC_OK) {
            cli_error("%s: cannot load model: %s", o.model_path, aec_status_string(st));
            goto done;
        }
        model = loaded;
    }
    st = aec_encoder_create(&enc, model);
    if (st != AEC_OK) {
        cli_error("cannot create encoder: %s", aec_status_string(st));
        goto done;
    }
    int levels = aec_encoder_levels(enc);
    if (o.quality == 0)
        o.quality = (levels + 1) / 2;
    if (o.quality > levels) {
        rc = cli_usage_error("quality %d is above the %d levels %s", o.quality, levels,
                             model ? "(VQ stages) of this model" : "of the built-in models");
        goto done;
    }
    if (!o.out_dir) {
        if (o.no_clobber && cli_output_exists(o.files[1]))
            rc = CLI_EXIT_OK;
        else
            rc = encode_one(enc, &o, o.files[0], o.files[1]) == 0 ? CLI_EXIT_OK
                                                                  : CLI_EXIT_RUNTIME;
        goto done;
    }
    for (int i = 0; i < o.nfiles; i++)
        if (cli_batch_next(&batch, i, o.no_clobber, o.verbose))
            cli_batch_done(&batch, i, encode_one(enc, &o, o.files[i], batch.outputs[i]));
    rc = cli_batch_finish(&batch);
done:
    cli_batch_free(&batch);
    if (enc)
        aec_encoder_destroy(enc);
    if (loaded)
        aec_model_free(loaded);
    free(o.files);
    return rc;
}
