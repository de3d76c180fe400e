/* SPDX-License-Identifier: BSD-3-Clause */
/* aeinfo - print the header of an aecodec (.aec) file. */
#include "aecodec.h"
#include "common/cli.h"
#include "common/imageio.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *layout_name(aec_layout layout)
{
    switch (layout) {
    case AEC_GRAY: return "grey";
    case AEC_GRAY_ALPHA: return "grey+alpha";
    case AEC_RGB: return "RGB";
    case AEC_RGBA: return "RGBA";
    }
    return "unknown";
}

static void usage(void)
{
    printf("Usage: aeinfo [options] FILE\n"
           "Print the header of the aecodec file FILE (\"-\" = stdin): image size and\n"
           "layout, stages coded and present, tiles, model, and bytes and bits per pixel\n"
           "of each stage.\n"
           "\n"
           "Options:\n"
           "      --model FILE  name this model too when the file was coded with it\n"
           "  -h, --help        show this help\n"
           "      --version     show version and model\n"
           "\n"
           "Exit status: 0 ok, 1 error, 2 usage error.\n");
}

static void version(void)
{
    const aec_model *m = aec_model_default();
    printf("aeinfo (aecodec) %s\n", aec_version_string());
    if (m)
        printf("default model: %s (id 0x%016" PRIx64 ", %d stages)\n", aec_model_name(m),
               aec_model_id(m), aec_model_stages(m));
    else
        printf("default model: none\n");
}

int main(int argc, char **argv)
{
    cli_init(argv[0]);
    const char *path = NULL, *model_path = NULL;
    int only_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i], *v = NULL;
        int r;
        if (only_files || a[0] != '-' || a[1] == 0) {
            if (path)
                return cli_usage_error("too many arguments ('%s')", a);
            path = a;
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
        } else if ((r = cli_option(argc, argv, &i, NULL, "--model", &v)) != 0) {
            if (r < 0)
                return CLI_EXIT_USAGE;
            model_path = v;
        } else {
            return cli_usage_error("unknown option '%s'", a);
        }
    }
    if (!path)
        return cli_usage_error("expected a file");
    const char *name = cli_is_stdio(path) ? "stdin" : path;

    int rc = CLI_EXIT_RUNTIME;
    aec_model *loaded = NULL;
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
    if (aeio_read_file(path, &data, &size, 0, err, sizeof(err)) != 0) {
        cli_error("%s", err);
        goto done;
    }
    aec_info info;
    st = aec_read_info(data, size, &info);
    if (st != AEC_OK) {
        cli_error("%s: %s", name, aec_status_string(st));
        goto done;
    }

    /* Only the file's model is prepared: the others cost start-up time. */
    const aec_model *known = aec_model_builtin_find(info.model_id);
    int is_builtin = known != NULL;
    if (!known && loaded && aec_model_id(loaded) == info.model_id)
        known = loaded;

    double pixels = (double)info.width * info.height;
    printf("file:         %s, %zu bytes", name, size);
    if (info.file_size != size)
        printf(" (header says %" PRIu64 "%s)", info.file_size,
               size < info.file_size ? ": truncated" : "");
    printf("\n");
    printf("size:         %" PRIu32 "x%" PRIu32 "\n", info.width, info.height);
    if (info.half_size) /* spec/bitstream.md 4.1 */
        printf("coded:        %" PRIu32 "x%" PRIu32 ", half size, upsampled by two\n",
               (info.width + 1) / 2, (info.height + 1) / 2);
    printf("layout:       %s\n", layout_name(info.layout));
    printf("stages:       %d coded, %d available", info.stages_coded, info.stages_available);
    if (known)
        printf(" (model has %d)", aec_model_stages(known));
    printf("\n");
    printf("tiles:        %" PRIu32 "x%" PRIu32 " pixels, grid %" PRIu32 "x%" PRIu32
           " (%" PRIu64 " tiles)\n",
           info.tile_size, info.tile_size, info.tiles_x, info.tiles_y,
           (uint64_t)info.tiles_x * info.tiles_y);
    printf("model:        0x%016" PRIx64, info.model_id);
    if (is_builtin)
        printf(" (built-in: %s)\n", aec_model_name(known));
    else if (known)
        printf(" (not built-in; %s, from %s)\n", aec_model_name(known), model_path);
    else
        printf(" (not a built-in model)\n");

    int nstages = info.stages_coded < 0 ? 0 : info.stages_coded > 16 ? 16 : info.stages_coded;
    uint64_t stage_total = 0;
    printf("stage        bytes      bpp  cumulative bpp\n");
    for (int s = 0; s < nstages; s++) {
        stage_total += info.stage_bytes[s];
        printf("%5d %12" PRIu64 " %8.4f  %8.4f%s\n", s + 1, info.stage_bytes[s],
               8.0 * (double)info.stage_bytes[s] / pixels, 8.0 * (double)stage_total / pixels,
               s < info.stages_available ? "" : "  (missing)");
    }
    if (info.lattice_step > 0)
        printf("lattice:      step %.6f, %" PRIu64 " bytes, %.4f bpp%s\n",
               (double)info.lattice_step, info.lattice_bytes,
               8.0 * (double)info.lattice_bytes / pixels,
               info.lattice_available ? "" : "  (missing)");
    if (info.lattice_layers > 1) {
        /* a file cut after a layer still decodes, with the layers before */
        for (int l = 0; l < info.lattice_layers && l < 6; l++) {
            uint32_t first = info.layer_channels[l][0], count = info.layer_channels[l][1];
            char channels[32];
            snprintf(channels, sizeof channels, "%u-%u", first, first + count - 1);
            printf("  layer %d:    channels %s, %" PRIu64 " bytes, %.4f bpp%s\n", l + 1, channels,
                   info.layer_bytes[l], 8.0 * (double)info.layer_bytes[l] / pixels,
                   l < info.lattice_layers_available ? "" : "  (missing)");
        }
    }
    if (info.residual) /* spec/bitstream.md 6.10 */
        printf("residual:     8x8 DCT of the pixels, %" PRIu64 " bytes, %.4f bpp%s\n",
               info.residual_bytes, 8.0 * (double)info.residual_bytes / pixels,
               info.residual_available ? "" : "  (missing)");
    if (info.filter_bytes) /* spec/bitstream.md 6.11 */
        printf("filter:       restoration, %d classes, %" PRIu64 " bytes, %.4f bpp%s\n",
               info.filter_classes, info.filter_bytes,
               8.0 * (double)info.filter_bytes / pixels,
               info.filter_available ? "" : "  (missing)");
    printf("alpha bytes:  %" PRIu64 "%s\n", info.alpha_bytes,
           info.layout == AEC_GRAY_ALPHA || info.layout == AEC_RGBA ? "" : " (no alpha)");
    uint64_t payload = stage_total + info.alpha_bytes + info.lattice_bytes +
                       info.residual_bytes + info.filter_bytes;
    if (info.file_size >= payload)
        printf("other bytes:  %" PRIu64 " (header, index)\n", info.file_size - payload);
    printf("total:        %" PRIu64 " bytes, %.4f bpp\n", info.file_size,
           8.0 * (double)info.file_size / pixels);
    rc = CLI_EXIT_OK;
done:
    free(data);
    if (loaded)
        aec_model_free(loaded);
    return rc;
}
