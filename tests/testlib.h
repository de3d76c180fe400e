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

#endif
