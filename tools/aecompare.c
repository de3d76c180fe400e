/* SPDX-License-Identifier: BSD-3-Clause */
/* aecompare - PSNR and MS-SSIM between two images of the same size, the
 * figures the bench reports (RGB PSNR over all pixels and channels).
 *
 *   aecompare ORIGINAL DECODED      prints "PSNR 31.20 dB  MS-SSIM 0.9701" */
#include <stdio.h>
#include <string.h>

#include "aecodec.h"
#include "common/cli.h"
#include "common/imageio.h"
#include "common/metrics.h"

int main(int argc, char **argv)
{
    cli_init(argv[0]);
    if (argc == 2 && (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
        printf("usage: aecompare ORIGINAL DECODED\n"
               "Prints PSNR (10*log10(255^2/MSE), MSE over all pixels and colour channels)\n"
               "and MS-SSIM of two images of the same size; alpha is ignored.\n");
        return 0;
    }
    if (argc == 2 && !strcmp(argv[1], "--version")) {
        printf("aecompare (aecodec) %s\n", aec_version_string());
        return 0;
    }
    if (argc != 3)
        return cli_usage_error("expected two images; see --help");
    aeio_image a, b, ca = {0}, cb = {0};
    char err[512];
    if (aeio_read(argv[1], &a, 0, err, sizeof err)) {
        cli_error("%s", err);
        return 1;
    }
    if (aeio_read(argv[2], &b, 0, err, sizeof err)) {
        cli_error("%s", err);
        aeio_free(&a);
        return 1;
    }
    int rc = 1;
    if (a.width != b.width || a.height != b.height) {
        cli_error("sizes differ: %ux%u and %ux%u", a.width, a.height, b.width, b.height);
        goto done;
    }
    /* Compare colour channels only: grey with grey, anything else as RGB. */
    int channels = (a.channels <= 2 && b.channels <= 2) ? 1 : 3;
    if (aeio_convert(&a, channels, &ca, err, sizeof err) ||
        aeio_convert(&b, channels, &cb, err, sizeof err)) {
        cli_error("%s", err);
        goto done;
    }
    double psnr = aem_psnr(ca.pixels, cb.pixels, a.width, a.height, channels);
    double ms = aem_msssim(ca.pixels, cb.pixels, a.width, a.height, channels);
    printf("PSNR %.2f dB  MS-SSIM %.4f\n", psnr, ms);
    rc = 0;
done:
    aeio_free(&a), aeio_free(&b), aeio_free(&ca), aeio_free(&cb);
    return rc;
}
