/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_imageio.c - libFuzzer target: the image readers of the tools
 * (aeio_read_memory in tools/common/imageio.c: PNG through libpng, JPEG
 * through libjpeg, binary PNM parsed by hand), which aeenc runs on
 * untrusted files.  Each input is read as it is and, for a PNG, again with
 * its chunk CRCs made valid; the checks are fuzz_image.h's.  Images are
 * limited to AECFUZZ_IMAGE_MAX_PIXELS so that a huge header is refused
 * rather than allocated.  A misbehaving reader aborts. */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz/fuzz_image.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (aecfuzz_image_check(data, size) != 0)
        abort();
    uint8_t *b = malloc(size ? size : 1);
    memcpy(b, data, size);
    if (aecfuzz_fix_png(b, size) && aecfuzz_image_check(b, size) != 0)
        abort();
    free(b);
    return 0;
}
