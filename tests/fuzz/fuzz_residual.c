/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_residual.c - libFuzzer target: aecb_residual_read, the run/size
 * tokens of one tile's pixel residual stream (spec/bitstream.md 6.10), on
 * its own.  The first three bytes give the colours and the tile's blocks,
 * the rest is the stream (aecfuzz_residual_stream in fuzz_common.h): the
 * directory, the token frame's size, the tokens and the extra bits are
 * reached without a container, checksums or a model in front of them.  A
 * status other than OK or CORRUPT, or planes that do not survive being
 * written again, abort. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (aecfuzz_residual_stream(data, size) != 0)
        abort();
    return 0;
}
