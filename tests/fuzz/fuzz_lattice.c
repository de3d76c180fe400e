/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_lattice.c - libFuzzer target: aecb_split_read, the split layout of
 * one tile's lattice stream (spec/bitstream.md 6.7), on its own.  The first
 * three bytes give the channel count and the tile's size, the rest is the
 * stream (aecfuzz_split_stream in fuzz_common.h): the directory, the
 * section sizes and the significance bits are reached without a container,
 * checksums or a model in front of them.  A status other than OK or
 * CORRUPT, a symbol out of range or symbols that do not survive being
 * written again abort. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (aecfuzz_split_stream(data, size) != 0)
        abort();
    return 0;
}
