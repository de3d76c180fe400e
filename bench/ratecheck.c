/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * ratecheck.c - `aebench --rate-search`: how close the library's search for
 * a target size (aec_encode_params.target_size) or PSNR (target_psnr) lands
 * on real images, and how many encodes it costs (aec_encoder_last_search).
 *
 * One Markdown row per image and target, on stdout; the achieved PSNR is
 * measured here again from our own decode of the returned file.  A row is
 * "ok" when the file is inside the library's window: a size within 2 %
 * below the target, a PSNR within 0.1 dB above it.  bench/ratecontrol-check.sh
 * runs it on a directory of photographs.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/imageio.h"
#include "common/metrics.h"
#include "enc/ratecontrol.h"


static void usage(FILE *f)
{
    fprintf(f, "usage: aebench --rate-search [--bpp LIST] [--psnr LIST] [-t THREADS] PATH...\n"
               "  --bpp LIST      size targets in bits per pixel of each image (default 0.25,0.5)\n"
               "  --psnr LIST     PSNR targets in dB (default 32,36)\n"
               "  -t, --threads N worker threads, 0 = all (default 0)\n"
               "  --strict        exit 1 when a row is outside the target window\n"
               "PATH: image files.  Prints one Markdown row per image and target.\n");
}

/* A comma-separated list of positive targets. */
static int parse_targets(const char *s, double *v, int max)
{
    int n = bench_parse_list(s, v, max);
    for (int k = 0; k < n; k++)
        if (!(v[k] > 0))
            return -1;
    return n;
}

/* Per target: rows, rows in the window, sum of |error|, sum of encodes. */
typedef struct {
    int rows, ok;
    double abs_err, encodes;
} tally;

int ratecheck_main(int argc, char **argv)
{
    double bpps[16] = {0.25, 0.5}, psnrs[16] = {32, 36};
    int n_bpp = 2, n_psnr = 2, threads = 0, strict = 0;
    const char *files[256];
    int n_files = 0;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        if (!strcmp(a, "--rate-search"))
            continue;
        if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
            usage(stdout);
            return 0;
        }
        if (!strcmp(a, "--strict")) {
            strict = 1;
        } else if ((!strcmp(a, "--bpp") || !strcmp(a, "--psnr") || !strcmp(a, "-t") ||
                    !strcmp(a, "--threads")) &&
                   i + 1 < argc) {
            const char *v = argv[++i];
            int bad;
            if (!strcmp(a, "--bpp"))
                bad = (n_bpp = parse_targets(v, bpps, 16)) < 0;
            else if (!strcmp(a, "--psnr"))
                bad = (n_psnr = parse_targets(v, psnrs, 16)) < 0;
            else
                bad = (threads = atoi(v)) < 0;
            if (bad) {
                fprintf(stderr, "aebench: bad %s %s\n", a, v);
                return 2;
            }
        } else if (a[0] == '-' && a[1]) {
            fprintf(stderr, "aebench: unknown or incomplete option %s (--rate-search --help)\n", a);
            return 2;
        } else if (n_files < 256) {
            files[n_files++] = a;
        }
    }
    if (n_files == 0) {
        fprintf(stderr, "aebench: --rate-search needs image files\n");
        return 2;
    }
    aec_encoder *enc = NULL;
    aec_decoder *dec = NULL;
    if (aec_encoder_create(&enc, NULL) != AEC_OK || aec_decoder_create(&dec, NULL) != AEC_OK) {
        fprintf(stderr, "aebench: cannot create the encoder or decoder\n");
        aec_encoder_destroy(enc);
        return 1;
    }
    aec_decoder_set_threads(dec, threads);
    int n_targets = n_bpp + n_psnr, errors = 0, outside = 0;
    tally *tl = calloc((size_t)n_targets, sizeof *tl);
    if (!tl)
        return 1;
    printf("| image | target | achieved | error | in window | encodes | level | s |\n");
    printf("|---|---:|---:|---:|---|---:|---:|---:|\n");
    for (int fi = 0; fi < n_files; fi++) {
        aeio_image im, rgb;
        char err[512];
        if (aeio_read(files[fi], &im, 0, err, sizeof err)) {
            fprintf(stderr, "aebench: %s\n", err);
            errors++;
            continue;
        }
        if (im.channels != 3) {
            if (aeio_convert(&im, 3, &rgb, err, sizeof err)) {
                fprintf(stderr, "aebench: %s: %s\n", files[fi], err);
                aeio_free(&im);
                errors++;
                continue;
            }
            aeio_free(&im);
            im = rgb;
        }
        const char *name = strrchr(files[fi], '/') ? strrchr(files[fi], '/') + 1 : files[fi];
        double pixels = (double)im.width * im.height;
        for (int t = 0; t < n_targets; t++) {
            int by_psnr = t >= n_bpp;
            aec_encode_params p;
            aec_encode_params_default(&p);
            p.threads = threads;
            double target;
            if (by_psnr) {
                target = psnrs[t - n_bpp];
                p.target_psnr = (float)target;
            } else {
                target = floor(bpps[t] * pixels / 8); /* bytes */
                p.target_size = (uint64_t)target;
            }
            uint8_t *file = NULL, *pix = NULL;
            size_t size = 0;
            uint32_t ow, oh;
            aec_layout layout;
            aec_decode_params dp;
            aec_decode_params_default(&dp);
            double t0 = now_ms();
            aec_status st = aec_encode(enc, im.pixels, im.width, im.height, 0, AEC_RGB, &p,
                                       &file, &size);
            double secs = (now_ms() - t0) / 1e3;
            if (st == AEC_OK)
                st = aec_decode(dec, file, size, &dp, &pix, &ow, &oh, &layout);
            if (st != AEC_OK) {
                fprintf(stderr, "aebench: %s: %s\n", name, aec_encoder_last_error(enc));
                aec_free(file);
                errors++;
                continue;
            }
            int encodes = 0;
            float level = 0;
            aec_encoder_last_search(enc, &encodes, &level, NULL);
            double psnr = aem_psnr(im.pixels, pix, im.width, im.height, 3);
            double e; /* size: percent off the target; PSNR: dB off it */
            int ok;
            char tgt[48], got[64], errs[32];
            if (by_psnr) {
                e = psnr - target;
                ok = e >= 0 && e <= AEC_PSNR_TOL + 1e-9;
                snprintf(tgt, sizeof tgt, "%.2f dB", target);
                snprintf(got, sizeof got, "%.3f dB (%.4f bpp)", psnr, 8.0 * (double)size / pixels);
                snprintf(errs, sizeof errs, "%+.3f dB", e);
            } else {
                e = ((double)size / target - 1) * 100;
                ok = (double)size <= target && (double)size >= target * (1 - AEC_SIZE_TOL);
                snprintf(tgt, sizeof tgt, "%.0f B (%g bpp)", target, bpps[t]);
                snprintf(got, sizeof got, "%zu B (%.2f dB)", size, psnr);
                snprintf(errs, sizeof errs, "%+.2f %%", e);
            }
            printf("| %s | %s | %s | %s | %s | %d | %.3f | %.2f |\n", name, tgt, got, errs,
                   ok ? "yes" : "no", encodes, (double)level, secs);
            fflush(stdout);
            tl[t].rows++;
            tl[t].ok += ok;
            tl[t].abs_err += fabs(e);
            tl[t].encodes += encodes;
            outside += !ok;
            aec_free(file);
            aec_free(pix);
        }
        aeio_free(&im);
    }
    printf("\n| target | images | in window | mean abs. error | mean encodes |\n");
    printf("|---|---:|---:|---:|---:|\n");
    for (int t = 0; t < n_targets; t++) {
        if (!tl[t].rows)
            continue;
        if (t >= n_bpp)
            printf("| PSNR %g dB | %d | %d | %.3f dB | %.1f |\n", psnrs[t - n_bpp], tl[t].rows,
                   tl[t].ok, tl[t].abs_err / tl[t].rows, tl[t].encodes / tl[t].rows);
        else
            printf("| size %g bpp | %d | %d | %.2f %% | %.1f |\n", bpps[t], tl[t].rows, tl[t].ok,
                   tl[t].abs_err / tl[t].rows, tl[t].encodes / tl[t].rows);
    }
    free(tl);
    aec_encoder_destroy(enc);
    aec_decoder_destroy(dec);
    if (errors)
        return 1;
    return strict && outside ? 1 : 0;
}
