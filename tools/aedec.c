/* SPDX-License-Identifier: BSD-3-Clause */
/* aedec - decode an aecodec (.aec) file into a PNG, PPM, PGM or PAM image.
 *
 * The image is decoded in horizontal bands of whole tile rows and each band
 * is written as soon as it is decoded, so memory holds one band of pixels,
 * never the whole output (which can be hundreds of megabytes). */
#include "aecodec.h"
#include "common/batch.h"
#include "common/cleanup.h"
#include "common/cli.h"
#include "common/imageio.h"
#include "common/threads.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#ifdef _OPENMP
#include <omp.h>
#endif

static void usage(void)
{
    printf("Usage: aedec [options] IN OUT\n"
           "       aedec [options] -o DIR IN...\n"
           "Decode the aecodec file IN (\"-\" = stdin) into the image OUT.  The format of\n"
           "OUT comes from its extension: .png (any image), .ppm, .pgm, .pnm, .pam;\n"
           "\"-\" writes PNG to stdout.  OUT is written to a temporary file and renamed\n"
           "into place, so nothing is left behind on error.  The image is decoded and\n"
           "written in bands of tile rows, so memory holds one band, not the image (on\n"
           "stdout, the bands written before an error stay written).  With -o, each IN\n"
           "becomes DIR/NAME.png (NAME: IN's file name without its extension; --format\n"
           "for another format); a file that fails is reported and the others are still\n"
           "decoded.\n"
           "\n"
           "Grey images stay grey.  Writing .ppm drops an alpha channel (with a warning)\n"
           "and turns grey into RGB; writing .pgm drops alpha (with a warning) and\n"
           "refuses colour images (an error: use .png or .ppm for them).\n"
           "\n"
           "Options:\n"
           "      --stages N        decode at most N quantiser stages, then lattice layers\n"
           "                        (default: all; a lattice level's file: N of its 4 layers)\n"
           "      --region X,Y,W,H  decode only this rectangle of the image\n"
           "      --strip           do not write the file's ICC profile and EXIF into a\n"
           "                        PNG output (default: written as iCCP and eXIf)\n"
           "      --png-level N     zlib level 0-9 of a PNG output, with zlib's full\n"
           "                        matching: smaller, slower files (default: level 6\n"
           "                        matching runs only, about 5 times faster)\n"
           "  -t, --threads N       worker threads, 0 = all cores (default 0)\n"
           "      --model FILE      also accept files coded with this model\n"
           "      --max-pixels N    refuse images with more pixels (default %llu)\n"
           "  -o, --output-dir DIR  write DIR/NAME.png for each IN (DIR is created)\n"
           "      --format EXT      with -o: the outputs' format, png (default), ppm,\n"
           "                        pgm, pnm or pam\n"
           "  -n, --no-clobber      skip an input whose output already exists (default:\n"
           "                        replace it, as a single OUT is replaced)\n"
           "  -v, --verbose         print size and time to stderr\n"
           "  -h, --help            show this help\n"
           "      --version         show version and model\n"
           "\n"
           "Exit status: 0 ok, 1 error (with -o: any file failed), 2 usage error.\n",
           (unsigned long long)AEC_DEFAULT_MAX_PIXELS);
}

static void version(void)
{
    const aec_model *m = aec_model_default();
    printf("aedec (aecodec) %s\n", aec_version_string());
    if (m)
        printf("default model: %s (id 0x%016" PRIx64 ", %d stages)\n", aec_model_name(m),
               aec_model_id(m), aec_model_stages(m));
    else
        printf("default model: none\n");
}

static const char *detail(aec_status st, const char *last)
{
    return last && *last ? last : aec_status_string(st);
}

/* Channel count the output format gets for an image of `channels`, and
 * whether alpha is dropped on the way; 0 when the format cannot hold it. */
static int output_channels(aeio_format format, int channels, int *drops_alpha)
{
    int colour = channels >= 3, alpha = channels == 2 || channels == 4;
    *drops_alpha = 0;
    switch (format) {
    case AEIO_FORMAT_PNG:
    case AEIO_FORMAT_PAM:
        return channels;
    case AEIO_FORMAT_PPM:
        *drops_alpha = alpha;
        return 3;
    case AEIO_FORMAT_PGM:
        *drops_alpha = alpha;
        return colour ? 0 : 1;
    case AEIO_FORMAT_PNM:
        *drops_alpha = alpha;
        return colour ? 3 : 1;
    default:
        return 0;
    }
}

/* One run's decode and output: the region is decoded band by band and
 * each band goes to the writer, which is opened by the first band. */
typedef struct {
    aec_decoder *dec;
    const uint8_t *data;
    size_t size;
    const char *in_name, *out;
    aeio_format format;
    aec_decode_params params; /* stages, and the region (w = h = 0: the whole image) */
    uint32_t band_rows;       /* band height, a multiple of the tile size; 0: one band */
    aeio_writer *writer;
    uint32_t width, height;   /* of the output, known from the first band */
    int drops_alpha;
    int strip;                /* --strip: no profile or EXIF in the output */
    int png_level;            /* --png-level, -1 = the writer's default    */
    int threads;              /* -t: the PNG writer's too, 0 = all cores   */
    int drops_metadata;       /* the file has some, the output format has no place */
    double seconds;           /* spent decoding */
} decode_run;

/* The file's ICC profile and EXIF into a PNG output's options, unless
 * stripped; notes when the output format cannot hold them. */
static void output_metadata(decode_run *r, aeio_write_options *wopt)
{
    aec_metadata md;
    if (r->strip || aec_read_metadata(r->data, r->size, &md) != AEC_OK ||
        (!md.icc_size && !md.exif_size))
        return;
    if (r->format != AEIO_FORMAT_PNG) {
        r->drops_metadata = 1;
        return;
    }
    wopt->icc = md.icc, wopt->icc_size = md.icc_size;
    wopt->exif = md.exif, wopt->exif_size = md.exif_size;
}

static int region_inside(const aec_info *info, const aec_decode_params *p)
{
    return p->w > 0 && p->h > 0 && p->x < info->width && p->y < info->height &&
           p->w <= info->width - p->x && p->h <= info->height - p->y;
}

/* Whole tile rows, so that no tile's network runs twice.  One tile row,
 * unless the region is fewer tiles wide than there are threads: then enough
 * rows to keep every thread busy (the decoder works on a band's tiles in
 * parallel). */
static uint32_t band_rows_for(const aec_info *info, const aec_decode_params *p, int threads)
{
    uint32_t tile = info->tile_size;
    uint32_t across = (p->x + p->w - 1) / tile - p->x / tile + 1;
#ifdef _OPENMP
    if (threads == 0)
        threads = omp_get_max_threads();
#endif
    uint32_t rows = threads > (int)across ? ((uint32_t)threads + across - 1) / across : 1;
    return rows * tile;
}

/* Sets the region and the band height.  Without a header (info NULL) or
 * with a region outside the image, one band with the caller's parameters:
 * the decoder then reports the error as it always has. */
static void plan_bands(decode_run *r, const aec_info *info, int threads)
{
    r->band_rows = 0;
    if (!info)
        return;
    if (r->params.w == 0 && r->params.h == 0) {
        r->params.x = r->params.y = 0;
        r->params.w = info->width;
        r->params.h = info->height;
    }
    if (region_inside(info, &r->params))
        r->band_rows = band_rows_for(info, &r->params, threads);
}

/* The band starting at row y: up to the next multiple of band_rows. */
static aec_decode_params band_at(const decode_run *r, uint32_t y)
{
    aec_decode_params band = r->params;
    if (r->band_rows == 0)
        return band;
    uint64_t next = ((uint64_t)y / r->band_rows + 1) * r->band_rows;
    uint64_t end = (uint64_t)r->params.y + r->params.h;
    band.y = y;
    band.h = (uint32_t)((next < end ? next : end) - y);
    return band;
}

static int decode_band(decode_run *r, const aec_decode_params *band, uint8_t **pixels,
                       uint32_t *w, uint32_t *h, aec_layout *layout)
{
    double t0 = cli_seconds();
    aec_status st = aec_decode(r->dec, r->data, r->size, band, pixels, w, h, layout);
    r->seconds += cli_seconds() - t0;
    if (st != AEC_OK) {
        cli_error("%s: %s", r->in_name, detail(st, aec_decoder_last_error(r->dec)));
        return -1;
    }
    return 0;
}

/* Writes a decoded band, converted to the channels the format holds; the
 * first band opens the output. */
static int write_band(decode_run *r, const uint8_t *pixels, uint32_t w, uint32_t h,
                      aec_layout layout)
{
    char err[1024];
    aeio_image img = {.width = w, .height = h, .channels = (int)layout,
                      .pixels = (uint8_t *)pixels, .source_bit_depth = 8};
    aeio_image converted = {0};
    const aeio_image *to_write = &img;
    int want = output_channels(r->format, img.channels, &r->drops_alpha);
    if (want == 0) {
        cli_error("%s: cannot write a colour image as PGM (use .png or .ppm)", r->out);
        return -1;
    }
    if (want != img.channels) {
        if (aeio_convert(&img, want, &converted, err, sizeof(err)) != 0) {
            cli_error("%s: %s", r->out, err);
            return -1;
        }
        to_write = &converted;
    }
    int rc = 0;
    if (!r->writer) {
        aeio_write_options wopt;
        aeio_write_options_default(&wopt);
        wopt.format = r->format;
        wopt.png_level = r->png_level;
        wopt.threads = r->threads;
        output_metadata(r, &wopt);
        r->width = w;
        r->height = r->band_rows ? r->params.h : h;
        rc = aeio_writer_open(&r->writer, r->out, r->width, r->height, want, &wopt, err,
                              sizeof(err));
    }
    if (rc == 0)
        rc = aeio_writer_write_rows(r->writer, to_write->pixels, h, err, sizeof(err));
    if (rc != 0)
        cli_error("%s", err);
    aeio_free(&converted);
    return rc;
}

/* Decodes and writes every band, then puts the output in place.  On error
 * the caller aborts r->writer, which removes the temporary file. */
static int decode_and_write(decode_run *r)
{
    uint32_t y = r->params.y;
    do {
        aec_decode_params band = band_at(r, y);
        uint8_t *pixels = NULL;
        uint32_t w = 0, h = 0;
        aec_layout layout = AEC_RGB;
        if (decode_band(r, &band, &pixels, &w, &h, &layout) != 0)
            return -1;
        int rc = write_band(r, pixels, w, h, layout);
        aec_free(pixels);
        if (rc != 0)
            return -1;
        y += h;
    } while (r->band_rows && y - r->params.y < r->params.h);

    char err[1024];
    aeio_writer *writer = r->writer;
    r->writer = NULL; /* finish releases it, whatever happens */
    if (aeio_writer_finish(writer, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        return -1;
    }
    return 0;
}

/* The command line: options, then the inputs (and OUT without -o). */
typedef struct {
    int threads, stages, verbose, no_clobber, have_region, strip, png_level;
    uint32_t rx, ry, rw, rh;
    const char *model_path, *out_dir, *ext; /* ext: ".png" etc., for -o */
    uint64_t max_pixels;
    const char **files;
    int nfiles;
} dec_options;

/* Fills *o from argv; -1 when the run goes on, else the exit status. */
static int parse_options(int argc, char **argv, dec_options *o)
{
    int only_files = 0;
    const char *format = NULL;
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
        } else if ((r = cli_option(argc, argv, &i, "-o", "--output-dir", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            o->out_dir = v;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--format", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            format = v;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--stages", &v)) != 0) {
            if (r < 0 || cli_option_int("--stages", v, 1, 16, &o->stages) != 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--region", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_region(v, &o->rx, &o->ry, &o->rw, &o->rh) != 0)
                return cli_usage_error("invalid value '%s' for --region: expected X,Y,W,H with "
                                       "W and H at least 1", v);
            o->have_region = 1;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--png-level", &v)) != 0) {
            if (r < 0 || cli_option_int("--png-level", v, 0, 9, &o->png_level) != 0)
                return CLI_EXIT_USAGE;
        } else if (cli_flag(a, NULL, "--strip")) {
            o->strip = 1;
        } else if ((r = cli_option(argc, argv, &i, "-t", "--threads", &v)) != 0) {
            if (r < 0 || cli_option_int("--threads", v, 0, 4096, &o->threads) != 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--model", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            o->model_path = v;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--max-pixels", &v)) != 0) {
            if (r < 0 ||
                cli_option_u64("--max-pixels", v, 1, UINT64_MAX / 16, &o->max_pixels) != 0)
                return CLI_EXIT_USAGE;
        } else {
            return cli_usage_error("unknown option '%s'", a);
        }
    }
    if (format && !o->out_dir)
        return cli_usage_error("--format goes with -o DIR (otherwise OUT's extension says it)");
    if (o->out_dir) {
        static const char *exts[] = {".png", ".ppm", ".pgm", ".pnm", ".pam"};
        o->ext = format ? NULL : exts[0];
        for (size_t k = 0; format && k < sizeof(exts) / sizeof(exts[0]); k++)
            if (strcmp(format, exts[k] + 1) == 0)
                o->ext = exts[k];
        if (!o->ext)
            return cli_usage_error("unknown --format '%s' (use png, ppm, pgm, pnm or pam)",
                                   format);
        return o->nfiles > 0 ? -1 : cli_usage_error("expected input files after -o DIR");
    }
    if (o->nfiles > 2)
        return cli_usage_error("too many arguments ('%s'; several inputs need -o DIR)",
                               o->files[2]);
    if (o->nfiles != 2)
        return cli_usage_error("expected an input and an output file");
    if (aeio_format_from_path(o->files[1]) == AEIO_FORMAT_UNKNOWN)
        return cli_usage_error("%s: unknown output format (use .png, .ppm, .pgm, .pnm, .pam or -)",
                               o->files[1]);
    return -1;
}

/* Reads in, decodes it and writes out; 0 or -1 after one line on stderr. */
static int decode_one(aec_decoder *dec, const dec_options *o, const char *in, const char *out)
{
    const char *in_name = cli_is_stdio(in) ? "stdin" : in;
    aeio_format format = aeio_format_from_path(out);
    uint8_t *data = NULL;
    size_t size = 0;
    char err[1024];
    int rc = -1;

    /* A coded file is far smaller than its pixels; this only bounds what a
     * runaway stdin can make us allocate. */
    uint64_t max_size = o->max_pixels * 8 + (16u << 20);
    if (aeio_read_file(in, &data, &size, max_size > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)max_size,
                       err, sizeof(err)) != 0) {
        cli_error("%s", err);
        return -1;
    }
    /* Refuse an impossible output format before the (slow) decode; a header
     * that does not parse is reported by aec_decode below, in more detail. */
    aec_info info;
    int drops_alpha = 0;
    int have_info = aec_read_info(data, size, &info) == AEC_OK;
    if (have_info) {
        if (output_channels(format, (int)info.layout, &drops_alpha) == 0) {
            cli_error("%s: cannot write a colour image as PGM (use .png or .ppm)", out);
            goto done;
        }
        /* the decoder enforces this too; checking here needs no model */
        if ((uint64_t)info.width * info.height > o->max_pixels) {
            cli_error("%s: image too large: %" PRIu32 "x%" PRIu32 " pixels (limit %" PRIu64 ")",
                      in_name, info.width, info.height, o->max_pixels);
            goto done;
        }
    }

    decode_run run = {.dec = dec, .data = data, .size = size, .in_name = in_name, .out = out,
                      .format = format, .strip = o->strip, .png_level = o->png_level,
                      .threads = o->threads};
    aec_decode_params_default(&run.params);
    run.params.stages = o->stages;
    if (o->have_region) {
        run.params.x = o->rx;
        run.params.y = o->ry;
        run.params.w = o->rw;
        run.params.h = o->rh;
    }
    plan_bands(&run, have_info ? &info : NULL, o->threads);
    if (have_info)
        cli_threads_start(o->threads, (double)run.params.w * run.params.h);
    if (decode_and_write(&run) != 0) {
        aeio_writer_abort(run.writer);
        goto done;
    }
    if (run.drops_alpha)
        cli_warning("%s: alpha channel dropped (the format has none; use .png or .pam to keep it)",
                    out);
    if (run.drops_metadata)
        cli_warning("%s: ICC profile / EXIF not written (only PNG output holds them)", out);
    /* A cut file decodes at a lower quality from what it holds: say so. */
    if (have_info && (uint64_t)size < info.file_size) {
        int layered = info.lattice_layers > 1;
        cli_warning("%s: file truncated (%zu of %" PRIu64 " bytes): decoded with %d of its %d "
                    "%s%s",
                    in_name, size, info.file_size,
                    layered ? info.lattice_layers_available : info.stages_available,
                    layered ? info.lattice_layers : info.stages_coded,
                    layered ? "lattice layers" : "stages",
                    !layered && info.lattice_step > 0 ? ", without its lattice refinement" : "");
    }
    if (o->verbose)
        fprintf(stderr, "%s: %s: decoded %ux%u in %.3f s\n", cli_prog(), in_name,
                (unsigned)run.width, (unsigned)run.height, run.seconds);
    rc = 0;
done:
    free(data);
    return rc;
}

int main(int argc, char **argv)
{
    cli_init(argv[0]);
    aeio_cleanup_install();
    dec_options o = {.max_pixels = AEC_DEFAULT_MAX_PIXELS, .png_level = -1};
    o.files = malloc(sizeof(*o.files) * (size_t)argc);
    if (!o.files) {
        cli_error("out of memory");
        return CLI_EXIT_RUNTIME;
    }
    int rc = parse_options(argc, argv, &o);
    cli_batch batch = {0};
    aec_model *loaded = NULL;
    aec_decoder *dec = NULL;
    aec_status st;
    if (rc >= 0)
        goto done;
    if (o.out_dir && (rc = cli_batch_plan(&batch, o.out_dir, o.files, o.nfiles, o.ext)) != 0)
        goto done;
    rc = CLI_EXIT_RUNTIME;

    if (o.model_path) {
        st = aec_model_load_file(&loaded, o.model_path);
        if (st != AEC_OK) {
            cli_error("%s: cannot load model: %s", o.model_path, aec_status_string(st));
            goto done;
        }
    }
    /* The built-in models, each prepared only if a file needs it, and the
     * loaded one beside them. */
    st = aec_decoder_create(&dec, NULL);
    if (st == AEC_OK && loaded)
        st = aec_decoder_add_model(dec, loaded);
    if (st != AEC_OK) {
        cli_error("cannot create decoder: %s", aec_status_string(st));
        goto done;
    }
    aec_decoder_set_threads(dec, o.threads);
    aec_limits limits;
    aec_limits_default(&limits);
    limits.max_pixels = o.max_pixels;
    aec_decoder_set_limits(dec, &limits);

    if (!o.out_dir) {
        if (o.no_clobber && cli_output_exists(o.files[1]))
            rc = CLI_EXIT_OK;
        else
            rc = decode_one(dec, &o, o.files[0], o.files[1]) == 0 ? CLI_EXIT_OK
                                                                  : CLI_EXIT_RUNTIME;
        goto done;
    }
    for (int i = 0; i < o.nfiles; i++)
        if (cli_batch_next(&batch, i, o.no_clobber, o.verbose))
            cli_batch_done(&batch, i, decode_one(dec, &o, o.files[i], batch.outputs[i]));
    rc = cli_batch_finish(&batch);
done:
    cli_batch_free(&batch);
    if (dec)
        aec_decoder_destroy(dec);
    if (loaded)
        aec_model_free(loaded);
    free(o.files);
    return rc;
}
