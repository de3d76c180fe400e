# SPDX-License-Identifier: BSD-3-Clause
# aecodec - build, test and bench.  `make` builds libcodec.a, libcodec.so and
# the tools; `make test` runs the test suite; `make bench CORPUS=DIR`.
CC      ?= cc
OPT     ?= -O3
# CFLAGS, CPPFLAGS, LDFLAGS and LDLIBS are the user's (`make CFLAGS=-O2`):
# the project's own flags are separate and always applied before them.
CFLAGS  ?= $(OPT) -g
AEC_CFLAGS  = -std=c11 -Wall -Wextra -Wno-psabi -ffp-contract=fast -fopenmp -fPIC \
              -D_POSIX_C_SOURCE=200809L -Iinclude -Icodec -I$(BUILD)/gen -MMD -MP
AEC_LDFLAGS = -fopenmp
AEC_LDLIBS  = -lzstd -lz -lm -lpthread
TOOL_LDLIBS = -lpng -ljpeg -lzstd -lz -lm
COMPILE = $(CC) $(AEC_CFLAGS) $(CPPFLAGS) $(CFLAGS)
LINK    = $(CC) $(AEC_CFLAGS) $(CPPFLAGS) $(CFLAGS) $(AEC_LDFLAGS) $(LDFLAGS)
BUILD   ?= build

# The library's version, read from include/aecodec.h, the one place it is
# written ('.' stands for the '#' that make would take for a comment).
aec_version = $(shell sed -n 's/^.define AEC_VERSION_$(1)  *\([0-9][0-9]*\).*/\1/p' include/aecodec.h)
VERSION_MAJOR := $(call aec_version,MAJOR)
VERSION_MINOR := $(call aec_version,MINOR)
VERSION_PATCH := $(call aec_version,PATCH)
VERSION := $(VERSION_MAJOR).$(VERSION_MINOR).$(VERSION_PATCH)
ifneq ($(words $(VERSION_MAJOR) $(VERSION_MINOR) $(VERSION_PATCH)),3)
$(error cannot read AEC_VERSION_MAJOR/MINOR/PATCH from include/aecodec.h)
endif
# The soname changes with MAJOR only: a new MAJOR is an incompatible ABI.
SONAME  := libcodec.so.$(VERSION_MAJOR)
SO_FILE := libcodec.so.$(VERSION)

LIB_SRC  := $(sort $(wildcard codec/*.c codec/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
COMMON_SRC := $(sort $(wildcard tools/common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
TRAIN_SRC := $(sort $(wildcard tools/train/*.c))
TRAIN_OBJ := $(TRAIN_SRC:%.c=$(BUILD)/%.o)
TOOLS    := aeenc aedec aeinfo aetrain aecompare aeanomaly
TOOL_BIN := $(TOOLS:%=$(BUILD)/%)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

all: $(BUILD)/libcodec.a $(BUILD)/libcodec.so $(BUILD)/$(SONAME) $(TOOL_BIN)

# The built-in models: BUILTIN_MODELS (models/builtin.mk) is the one list.
# Each models/NAME.aem becomes a byte array; the table and the enum that
# name them are generated from the list after tools/embed_models checked
# every file, so a broken model fails the build, not the first decode.
include models/builtin.mk
BUILTIN_C_NAMES   = $(subst -,_,$(BUILTIN_MODELS))
BUILTIN_GEN_OBJ  := $(BUILTIN_MODELS:%=$(BUILD)/gen/model_%.o) $(BUILD)/gen/builtin_models.o
GEN_OBJ := $(BUILTIN_GEN_OBJ)

$(BUILD)/embed_models: tools/embed_models.c codec/common/bytes.h codec/common/hash.h
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=c11 -Wall -Wextra -Icodec -o $@ $< -lz
$(BUILD)/gen/model_%.c: models/%.aem $(BUILD)/embed_models
	@mkdir -p $(dir $@)
	$(BUILD)/embed_models bytes $* $< > $@.tmp && mv $@.tmp $@
# One rule makes both files; the header is the target others depend on.
$(BUILD)/gen/builtin_models.h: models/builtin.mk $(BUILTIN_MODELS:%=models/%.aem) \
		$(RETIRED_MODELS:%=models/%.aem) $(BUILD)/embed_models
	@mkdir -p $(dir $@)
	$(BUILD)/embed_models table $(BUILD)/gen/builtin_models \
	    $(foreach m,$(BUILTIN_MODELS),$(m)=models/$(m).aem) \
	    retired $(foreach m,$(RETIRED_MODELS),$(m)=models/$(m).aem)
$(BUILD)/gen/builtin_models.c: $(BUILD)/gen/builtin_models.h
$(BUILD)/gen/model_%.o: $(BUILD)/gen/model_%.c
	$(CC) -c -O1 -fPIC -fvisibility=hidden -o $@ $<
$(BUILD)/gen/builtin_models.o: $(BUILD)/gen/builtin_models.c
	$(COMPILE) -c -o $@ $<

# Every object may include the generated enum: make it first.  Header
# dependencies are the compiler's (-MMD -MP, the .d files included below).
$(BUILD)/%.o: %.c | $(BUILD)/gen/builtin_models.h
	@mkdir -p $(dir $@)
	$(COMPILE) -Itools -c -o $@ $<
# Library objects: only what AEC_API marks is visible outside libcodec.so.
# Hidden symbols still link from libcodec.a, so tests reach the internals.
$(LIB_OBJ): $(BUILD)/%.o: %.c | $(BUILD)/gen/builtin_models.h
	@mkdir -p $(dir $@)
	$(COMPILE) -fvisibility=hidden -c -o $@ $<

$(BUILD)/libcodec.a: $(LIB_OBJ) $(GEN_OBJ)
	rm -f $@ && ar rcs $@ $^
# libcodec.so.MAJOR.MINOR.PATCH with soname libcodec.so.MAJOR; the version
# script exports aec_* only (also hiding what the compiler makes global,
# such as OpenMP's .gomp_critical_user_* locks).
$(BUILD)/$(SO_FILE): $(LIB_OBJ) $(GEN_OBJ) codec/libcodec.map
	$(CC) -shared $(AEC_LDFLAGS) $(LDFLAGS) -Wl,-soname,$(SONAME) \
	    -Wl,--version-script=codec/libcodec.map -o $@ $(LIB_OBJ) $(GEN_OBJ) $(AEC_LDLIBS) $(LDLIBS)
$(BUILD)/$(SONAME) $(BUILD)/libcodec.so: $(BUILD)/$(SO_FILE)
	ln -sf $(SO_FILE) $@

$(BUILD)/aetrain: tools/aetrain.c $(TRAIN_OBJ) $(COMMON_OBJ) $(BUILD)/libcodec.a
	$(LINK) -Itools -o $@ $(filter-out %.h,$^) $(TOOL_LDLIBS) $(LDLIBS)
$(BUILD)/ae%: tools/ae%.c $(COMMON_OBJ) $(BUILD)/libcodec.a
	$(LINK) -Itools -o $@ $(filter-out %.h,$^) $(TOOL_LDLIBS) $(LDLIBS)

$(BUILD)/tests/%: tests/%.c $(TRAIN_OBJ) $(COMMON_OBJ) $(BUILD)/libcodec.a | $(BUILD)/gen/builtin_models.h
	@mkdir -p $(dir $@)
	$(LINK) -Itools -Itests -o $@ $< $(TRAIN_OBJ) $(COMMON_OBJ) $(BUILD)/libcodec.a $(TOOL_LDLIBS) $(LDLIBS)

test: all $(TEST_BIN) $(BUILD)/aebench
	@sh tests/run_tests.sh $(BUILD)

# Whole suite under AddressSanitizer + UndefinedBehaviorSanitizer (+ LeakSanitizer).
ASAN_MAKE = $(MAKE) BUILD=build-asan OPT="-O1 -fsanitize=address,undefined -fno-omit-frame-pointer -fno-sanitize-recover=undefined" \
	        LDFLAGS="-fopenmp -fsanitize=address,undefined"
test-asan:
	$(ASAN_MAKE) all build-asan/tests-built build-asan/aebench
	@sh tests/run_tests.sh build-asan

$(BUILD)/tests-built: $(TEST_BIN)
	@touch $@

# What CI runs: the suite built normally and under the sanitizers, one count.
# For the plain build the suite also builds and smoke-runs every fuzz target
# (tests/fuzz_test.sh, `make fuzz-build`) and runs the concurrency test under
# ThreadSanitizer (tests/tsan_test.sh, `make tsan-build`, mk/tsan.mk).
check: all $(TEST_BIN) $(BUILD)/aebench
	$(ASAN_MAKE) all build-asan/tests-built build-asan/aebench
	@sh tests/run_tests.sh $(BUILD) build-asan

# Encode and decode a sample photograph with the built-in model.
demo: all
	@sh tools/demo.sh $(IMAGE)

clean:
	rm -rf build build-asan build-fuzz build-tsan

-include bench/bench.mk
-include tests/fuzz/fuzz.mk
-include $(wildcard mk/*.mk)

# Header dependencies written by the compiler (-MMD -MP).
-include $(shell find $(BUILD) -name '*.d' 2>/dev/null)

.PHONY: all test test-asan check demo clean
.SECONDARY:
