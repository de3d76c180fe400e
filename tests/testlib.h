/* SPDX-License-Identifier: BSD-3-Clause */
/* testlib.h - a tiny test harness: each CHECK prints nothing on success and
 * one FAIL line on failure; each TEST prints "ok NAME" or "FAIL NAME".
 * tests/run_tests.sh counts those lines over all test programs. */
#ifndef AEC_TESTLIB_H
#define AEC_TESTLIB_H
#include <stdio.h>
#include <stdlib.h>

static int tl_failures_in_test;
static int tl_total_failed;

#define CHECK(cond)                                                                   \
    do {                                                                              \
        if (!(cond)) {                                                                \
            printf("  check failed: %s (%s:%d)\n", #cond, __FILE__, __LINE__);       \
            tl_failures_in_test++;                                                    \
        }                                                                             \
    } while (0)

#define CHECKF(cond, ...)                                                             \
    do {                                                                              \
        if (!(cond)) {                                                                \
            printf("  check failed: %s (%s:%d): ", #cond, __FILE__, __LINE__);       \
            printf(__VA_ARGS__);                                                      \
            printf("\n");                                                             \
            tl_failures_in_test++;                                                    \
        }                                                                             \
    } while (0)

#define RUN_TEST(fn)                                                                  \
    do {                                                                              \
        tl_failures_in_test = 0;                                                      \
        fn();                                                                         \
        if (tl_failures_in_test) {                                                    \
            printf("FAIL %s\n", #fn);                                                 \
            tl_total_failed++;                                                        \
        } else {                                                                      \
            printf("ok %s\n", #fn);                                                   \
        }                                                                             \
        fflush(stdout);                                                               \
    } while (0)

#define TEST_EXIT() return tl_total_failed ? 1 : 0

/* The directory of a split lattice stream st[0..n) read by the spec
 * (spec/bitstream.md 6.7), independently of the library: the count LEB128
 * section sizes into sizes; returns the directory's length in bytes, or -1
 * when it is truncated or a size takes more than 5 bytes. */
static inline long tl_split_directory(const unsigned char *st, size_t n, size_t count,
                                      unsigned long long *sizes)
{
    size_t pos = 0;
    for (size_t k = 0; k < count; k++) {
        sizes[k] = 0;
        for (int shift = 0;; shift += 7) {
            if (pos >= n || shift > 28)
                return -1;
            sizes[k] |= (unsigned long long)(st[pos] & 0x7f) << shift;
            if (!(st[pos++] & 0x80))
                break;
        }
    }
    return (long)pos;
}

#endif
