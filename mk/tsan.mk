# SPDX-License-Identifier: BSD-3-Clause
# tsan.mk - tests/test_concurrency.c under ThreadSanitizer.
#
#   make test-tsan      build build-tsan/ (libcodec with -fsanitize=thread)
#                       and run build-tsan/test_concurrency
#   make tsan-build     only build it (tests/tsan_test.sh runs it in `make check`)
#
# Only the library and that test are built: the rest of the suite is
# single-threaded or runs OpenMP teams, which TSan cannot follow (libgomp
# is not instrumented, so its barriers look like no synchronisation at
# all).  That is also why the test gives each context one OpenMP thread.
# TSAN_CC picks the compiler (default: $(CC)).
TSAN_OUT := build-tsan
TSAN_CC  ?= $(CC)
TSAN_SAN := -fsanitize=thread -fno-omit-frame-pointer
TSAN_MAKE = $(MAKE) BUILD=$(TSAN_OUT) CC=$(TSAN_CC) OPT="-O1 $(TSAN_SAN)" \
            LDFLAGS="-fopenmp -fsanitize=thread"
# A report fails the run (exit status 66) and is not repeated.
TSAN_RUN := TSAN_OPTIONS="halt_on_error=1 exitcode=66 second_deadlock_stack=1" OMP_NUM_THREADS=1

# Used by the inner make (BUILD=build-tsan) only.
$(TSAN_OUT)/test_concurrency: tests/test_concurrency.c tests/testlib.h $(TSAN_OUT)/libcodec.a
	$(LINK) -Itests -o $@ $< $(TSAN_OUT)/libcodec.a $(AEC_LDLIBS) $(LDLIBS)

tsan-build:
	$(TSAN_MAKE) $(TSAN_OUT)/test_concurrency

test-tsan: tsan-build
	$(TSAN_RUN) $(TSAN_OUT)/test_concurrency

.PHONY: tsan-build test-tsan
