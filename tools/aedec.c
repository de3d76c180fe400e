/* aedec - decode an aecodec (.aec) file into a PNG, PPM, PGM or PAM image.
 *
 * The image is decoded in horizontal bands of whole tile rows and each band
 * is written as soon as it is decoded, so memory holds one band of pixels,
 * never the whole output (which can be hundreds of megabytes). */
#include "aecodec.h"
#include "common/cli.h"
#include "common/imageio.h"

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
           "Decode the aecodec file IN (\"-\" = stdin) into the image OUT.  The format of\n"
           "OUT comes from its extension: .png (any image), .ppm, .pgm, .pnm, .pam;\n"
           "\"-\" writes PNG to stdout.  OUT is written to a temporary file and renamed\n"
           "into place, so nothing is left behind on error.  The image is decoded and\n"
           "written in bands of tile rows, so memory holds one band, not the image (on\n"
           "stdout, the bands written before an error stay written).\n"
           "\n"
           "Grey images stay grey.  Writing .ppm drops an alpha channel (with a warning)\n"
           "and turns grey into RGB; writing .pgm drops alpha (with a warning) and\n"
           "refuses colour images (an error: use .png or .ppm for them).\n"
           "\n"
           "Options:\n"
           "      --stages N        decode at most N quantiser stages (default: all)\n"
           "      --region X,Y,W,H  decode only this rectangle of the image\n"
           "  -t, --threads N       worker threads, 0 = all cores (default 0)\n"
           "      --model FILE      also accept files coded with this model\n"
           "      --max-pixels N    refuse images with more pixels (default %llu)\n"
           "  -v, --verbose         print size and time to stderr\n"
           "  -h, --help            show this help\n"
           "      --version         show version and model\n"
           "\n"
           "Exit status: 0 ok, 1 error, 2 usage error.\n",
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
    double seconds;           /* spent decoding */
} decode_run;

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
    aeio_image img = {w, h, (int)layout, (uint8_t *)pixels, 8}, converted = {0};
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

int main(int argc, char **argv)
{
    cli_init(argv[0]);
    int threads = 0, stages = 0, verbose = 0, only_files = 0, have_region = 0;
    uint32_t rx = 0, ry = 0, rw = 0, rh = 0;
    const char *model_path = NULL;
    uint64_t max_pixels = AEC_DEFAULT_MAX_PIXELS;
    const char *files[2];
    int nfiles = 0;

    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
        if (only_files || a[0] != '-' || a[1] == 0) {
            if (nfiles == 2)
                return cli_usage_error("too many arguments ('%s')", a);
            files[nfiles++] = a;
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
            verbose = 1;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--stages", &v)) != 0) {
            if (r < 0 || cli_option_int("--stages", v, 1, 16, &stages) != 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--region", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            if (cli_parse_region(v, &rx, &ry, &rw, &rh) != 0)
                return cli_usage_error("invalid value '%s' for --region: expected X,Y,W,H with "
                                       "W and H at least 1", v);
            have_region = 1;
        } else if ((r = cli_option(argc, argv, &i, "-t", "--threads", &v)) != 0) {
            if (r < 0 || cli_option_int("--threads", v, 0, 4096, &threads) != 0)
                return CLI_EXIT_USAGE;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--model", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            model_path = v;
        } else if ((r = cli_option(argc, argv, &i, NULL, "--max-pixels", &v)) != 0) {
            if (r < 0 || cli_option_u64("--max-pixels", v, 1, UINT64_MAX / 16, &max_pixels) != 0)
                return CLI_EXIT_USAGE;
        } else {
            return cli_usage_error("unknown option '%s'", a);
        }
    }
    if (nfiles != 2)
        return cli_usage_error("expected an input and an output file");
    const char *in = files[0], *out = files[1];
    const char *in_name = cli_is_stdio(in) ? "stdin" : in;
    aeio_format format = aeio_format_from_path(out);
    if (format == AEIO_FORMAT_UNKNOWN)
        return cli_usage_error("%s: unknown output format (use .png, .ppm, .pgm, .pnm, .pam or -)",
                               out);

    int rc = CLI_EXIT_RUNTIME;
    aec_model *loaded = NULL;
    aec_decoder *dec = NULL;
    uint8_t *data = NULL;
    size_t size = 0;
    char err[1024];
    aec_status st;

    if (model_path) {
        st = aec_model_load_file(&loaded, model_path);
        if (st != AEC_OK) {
            cli_error("%s: cannot load model: %s", model_path, aec_status_string(st));
            goto done;
        }
    }
    /* A coded file is far smaller than its pixels; this only bounds what a
     * runaway stdin can make us allocate. */
    uint64_t max_size = max_pixels * 8 + (16u << 20);
    if (aeio_read_file(in, &data, &size, max_size > SIZE_MAX - 1 ? SIZE_MAX - 1 : (size_t)max_size,
                       err, sizeof(err)) != 0) {
        cli_error("%s", err);
        goto done;
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
        if ((uint64_t)info.width * info.height > max_pixels) {
            cli_error("%s: image too large: %" PRIu32 "x%" PRIu32 " pixels (limit %" PRIu64 ")",
                      in_name, info.width, info.height, max_pixels);
            goto done;
        }
    }

    st = aec_decoder_create(&dec, loaded); /* NULL = the built-in models */
    for (int i = 0; st == AEC_OK && loaded && aec_model_builtin(i); i++)
        (void)aec_decoder_add_model(dec, aec_model_builtin(i)); /* fails only if full */
    if (st != AEC_OK) {
        cli_error("cannot create decoder: %s", aec_status_string(st));
        goto done;
    }
    aec_decoder_set_threads(dec, threads);
    aec_limits limits;
    aec_limits_default(&limits);
    limits.max_pixels = max_pixels;
    aec_decoder_set_limits(dec, &limits);

    decode_run run = {.dec = dec, .data = data, .size = size, .in_name = in_name, .out = out,
                      .format = format};
    aec_decode_params_default(&run.params);
    run.params.stages = stages;
    if (have_region) {
        run.params.x = rx;
        run.params.y = ry;
        run.params.w = rw;
        run.params.h = rh;
    }
    plan_bands(&run, have_info ? &info : NULL, threads);
    if (decode_and_write(&run) != 0) {
        aeio_writer_abort(run.writer);
        goto done;
    }
    if (run.drops_alpha)
        cli_warning("%s: alpha channel dropped (the format has none; use .png or .pam to keep it)",
                    out);
    if (verbose)
        fprintf(stderr, "%s: %s: decoded %ux%u in %.3f s\n", cli_prog(), in_name,
                (unsigned)run.width, (unsigned)run.height, run.seconds);
    rc = CLI_EXIT_OK;
done:
    free(data);
    if (dec)
        aec_decoder_destroy(dec);
    if (loaded)
        aec_model_free(loaded);
    return rc;
}
