# SPDX-License-Identifier: BSD-3-Clause
# tests/fuzz/fuzz.mk - libFuzzer targets (included by the top Makefile).
#
#   make fuzz-build                  build build-fuzz/fuzz_{header,decode,model,lattice,residual,wiener,imageio}
#   make fuzz [FUZZ_SECONDS=60]      build, then run each target for
#                                    FUZZ_SECONDS seconds, one after another
#   make fuzz-corpus                 regenerate tests/fuzz/corpus/ (seeds)
#
# The library sources are compiled again with clang and
# -fsanitize=fuzzer-no-link,address,undefined; the built-in models (the
# list in models/builtin.mk) come from $(BUILD)/gen, which the top
# Makefile makes, so a model added to the list is linked here too.
# fuzz_imageio links the tools' image readers (tools/common/imageio.c and
# what it uses) with libpng and libjpeg, which are not instrumented (ASan
# still checks what they write into the readers' buffers).
# Each run starts from the seeds in tests/fuzz/corpus/NAME (read only) and
# keeps what it finds in build-fuzz/corpus/NAME; crashing inputs are written
# to build-fuzz/artifacts/.  Add each one, once fixed, to
# tests/fuzz/regressions/ (test_damage replays them; name model inputs
# model-*).  Single-threaded and niced: the machine may be busy.
FUZZ_CC      ?= clang
FUZZ_SECONDS ?= 60
FUZZ_FLAGS   ?= -timeout=30 -rss_limit_mb=2048
FUZZ_OUT     := build-fuzz
FUZZ_SAN     := -fsanitize=address,undefined,float-cast-overflow -fno-sanitize-recover=undefined -fno-omit-frame-pointer
FUZZ_CFLAGS  := -g -O1 -std=c11 -Wno-psabi -fopenmp -D_POSIX_C_SOURCE=200809L -Iinclude -Icodec \
                -I$(BUILD)/gen -Itests -Itools -MMD -MP $(FUZZ_SAN)
FUZZ_NAMES   := header decode model lattice residual wiener imageio
FUZZ_BINS    := $(FUZZ_NAMES:%=$(FUZZ_OUT)/fuzz_%)
FUZZ_LIB_OBJ := $(LIB_SRC:%.c=$(FUZZ_OUT)/obj/%.o) \
                $(BUILTIN_GEN_OBJ:$(BUILD)/gen/%=$(FUZZ_OUT)/obj/gen/%)

$(FUZZ_OUT)/obj/%.o: %.c | $(BUILD)/gen/builtin_models.h
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer-no-link -c -o $@ $<
$(FUZZ_OUT)/obj/gen/model_%.o: $(BUILD)/gen/model_%.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) -O1 -c -o $@ $<
$(FUZZ_OUT)/obj/gen/builtin_models.o: $(BUILD)/gen/builtin_models.c
	@mkdir -p $(dir $@)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -c -o $@ $<
$(FUZZ_OUT)/fuzz_%: tests/fuzz/fuzz_%.c $(FUZZ_LIB_OBJ)
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_LIB_OBJ) -lzstd -lz -lm -lpthread
# fuzz_imageio: the tools' helpers and the library as archives, so that
# the linker takes what the readers need (imageio.c, cleanup.c,
# orientation.c, ...) whatever a change moves into tools/common.
$(FUZZ_OUT)/libcommon.a: $(COMMON_SRC:%.c=$(FUZZ_OUT)/obj/%.o)
	rm -f $@ && ar rcs $@ $^
$(FUZZ_OUT)/libcodec.a: $(FUZZ_LIB_OBJ)
	rm -f $@ && ar rcs $@ $^
$(FUZZ_OUT)/fuzz_imageio: tests/fuzz/fuzz_imageio.c $(FUZZ_OUT)/libcommon.a $(FUZZ_OUT)/libcodec.a
	$(FUZZ_CC) $(FUZZ_CFLAGS) -fsanitize=fuzzer -o $@ $< $(FUZZ_OUT)/libcommon.a \
	    $(FUZZ_OUT)/libcodec.a -lpng -ljpeg -lzstd -lz -lm -lpthread

-include $(shell find $(FUZZ_OUT) -name '*.d' 2>/dev/null)

fuzz-build: $(FUZZ_BINS)

fuzz: fuzz-build
	@mkdir -p $(FUZZ_OUT)/artifacts
	@for t in $(FUZZ_NAMES); do \
	    mkdir -p $(FUZZ_OUT)/corpus/$$t; \
	    echo "== fuzz_$$t for $(FUZZ_SECONDS) s"; \
	    OMP_NUM_THREADS=1 nice -n 10 $(FUZZ_OUT)/fuzz_$$t $(FUZZ_FLAGS) \
	        -max_total_time=$(FUZZ_SECONDS) -print_final_stats=1 \
	        -artifact_prefix=$(FUZZ_OUT)/artifacts/$$t- \
	        $$(test -f tests/fuzz/$$t.dict && echo -dict=tests/fuzz/$$t.dict) \
	        $(FUZZ_OUT)/corpus/$$t tests/fuzz/corpus/$$t || exit 1; \
	done

fuzz-corpus: all
	sh tests/fuzz/make_corpus.sh $(BUILD)

.PHONY: fuzz fuzz-build fuzz-corpus
