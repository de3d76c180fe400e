/* aedec - decode an aecodec (.aec) file into a PNG, PPM, PGM or PAM image. */
#include "aecodec.h"
#include "common/cli.h"
#include "common/imageio.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void usage(void)
{
    printf("Usage: aedec [options] IN OUT\n"
           "Decode the aecodec file IN (\"-\" = stdin) into the image OUT.  The format of\n"
           "OUT comes from its extension: .png (any image), .ppm, .pgm, .pnm, .pam;\n"
           "\"-\" writes PNG to stdout.  OUT is written to a temporary file and renamed\n"
           "into place, so nothing is left behind on error.\n"
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
    uint8_t *data = NULL, *pixels = NULL;
    size_t size = 0;
    aeio_image converted = {0};
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
    if (aec_read_info(data, size, &info) == AEC_OK) {
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

    aec_decode_params params;
    aec_decode_params_default(&params);
    params.stages = stages;
    if (have_region) {
        params.x = rx;
        params.y = ry;
        params.w = rw;
        params.h = rh;
    }
    uint32_t w = 0, h = 0;
    aec_layout layout = AEC_RGB;
    double t0 = cli_seconds();
    st = aec_decode(dec, data, size, &params, &pixels, &w, &h, &layout);
    double seconds = cli_seconds() - t0;
    if (st != AEC_OK) {
        cli_error("%s: %s", in_name, detail(st, aec_decoder_last_error(dec)));
        goto done;
    }

    aeio_image img = {w, h, (int)layout, pixels, 8};
    const aeio_image *to_write = &img;
    int want = output_channels(format, img.channels, &drops_alpha);
    if (want == 0) {
        cli_error("%s: cannot write a colour image as PGM (use .png or .ppm)", out);
        goto done;
    }
    if (want != img.channels) {
        if (aeio_convert(&img, want, &converted, err, sizeof(err)) != 0) {
            cli_error("%s: %s", out, err);
            goto done;
        }
        to_write = &converted;
    }
    aeio_write_options wopt;
    aeio_write_options_default(&wopt);
    wopt.format = format;
    if (aeio_write_ex(out, to_write, &wopt, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        goto done;
    }
    if (drops_alpha)
        cli_warning("%s: alpha channel dropped (the format has none; use .png or .pam to keep it)",
                    out);
    if (verbose)
        fprintf(stderr, "%s: %s: decoded %ux%u in %.3f s\n", cli_prog(), in_name, (unsigned)w,
                (unsigned)h, seconds);
    rc = CLI_EXIT_OK;
done:
    aeio_free(&converted);
    if (pixels)
        aec_free(pixels);
    free(data);
    if (dec)
        aec_decoder_destroy(dec);
    if (loaded)
        aec_model_free(loaded);
    return rc;
}
