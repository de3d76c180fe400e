/* SPDX-License-Identifier: BSD-3-Clause */
/* fuzz_wiener.c - libFuzzer target: aecb_wiener_read, the restoration
 * filter's stream (spec/bitstream.md 6.11), on its own, and the filter it
 * describes run on a small picture (aecfuzz_wiener_stream in
 * fuzz_common.h).  A status other than OK or CORRUPT, a stream that does
 * not survive being written again, or a filter touching alpha, abort. */
#include <stdint.h>
#include <stdlib.h>

#include "fuzz/fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (aecfuzz_wiener_stream(data, size) != 0)
        abort();
    return 0;
}
