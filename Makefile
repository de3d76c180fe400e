# aecodec - build, test and bench.  `make` builds libcodec.a, libcodec.so and
# the tools; `make test` runs the test suite; `make bench CORPUS=DIR`.
CC      ?= cc
OPT     ?= -O3
CFLAGS  ?= $(OPT) -g
CFLAGS  += -std=c11 -Wall -Wextra -Wno-psabi -ffp-contract=fast -fopenmp -fPIC -D_POSIX_C_SOURCE=200809L -Iinclude -Icodec
LDLIBS  += -lzstd -lm -lpthread
TOOL_LDLIBS = -lpng -ljpeg -lzstd -lm
LDFLAGS += -fopenmp
BUILD   ?= build

LIB_SRC  := $(sort $(wildcard codec/*.c codec/*/*.c))
LIB_OBJ  := $(LIB_SRC:%.c=$(BUILD)/%.o)
COMMON_SRC := $(sort $(wildcard tools/common/*.c))
COMMON_OBJ := $(COMMON_SRC:%.c=$(BUILD)/%.o)
TRAIN_SRC := $(sort $(wildcard tools/train/*.c))
TRAIN_OBJ := $(TRAIN_SRC:%.c=$(BUILD)/%.o)
TOOLS    := aeenc aedec aeinfo aetrain aecompare
TOOL_BIN := $(TOOLS:%=$(BUILD)/%)
TEST_SRC := $(sort $(wildcard tests/test_*.c))
TEST_BIN := $(TEST_SRC:tests/%.c=$(BUILD)/tests/%)

all: $(BUILD)/libcodec.a $(BUILD)/libcodec.so $(TOOL_BIN)

# The built-in models are compiled into the library from models/default.aem
# (the VQ model of the lowest levels), models/high.aem (the lattice model
# of the middle levels), models/high-low.aem and models/high-top.aem (the
# same model specialised to the coarsest and the finest lattice steps) and
# models/high-v1.aem (the high-rate model of version 0.3, so that its files
# still decode).
$(BUILD)/bin2c: tools/bin2c.c
	@mkdir -p $(dir $@)
	$(CC) -O2 -std=c11 -Wall -Wextra -o $@ $<
$(BUILD)/gen/default_model.c: models/default.aem $(BUILD)/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/bin2c aec_default_model_data models/default.aem > $@
$(BUILD)/gen/high_model.c: models/high.aem $(BUILD)/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/bin2c aec_high_model_data models/high.aem > $@
$(BUILD)/gen/high_low_model.c: models/high-low.aem $(BUILD)/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/bin2c aec_high_low_model_data models/high-low.aem > $@
$(BUILD)/gen/high_top_model.c: models/high-top.aem $(BUILD)/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/bin2c aec_high_top_model_data models/high-top.aem > $@
$(BUILD)/gen/high_v1_model.c: models/high-v1.aem $(BUILD)/bin2c
	@mkdir -p $(dir $@)
	$(BUILD)/bin2c aec_high_v1_model_data models/high-v1.aem > $@
$(BUILD)/gen/%_model.o: $(BUILD)/gen/%_model.c
	$(CC) -c -O1 -fPIC -o $@ $<
GEN_OBJ := $(BUILD)/gen/default_model.o $(BUILD)/gen/high_model.o $(BUILD)/gen/high_top_model.o \
           $(BUILD)/gen/high_low_model.o $(BUILD)/gen/high_v1_model.o

$(BUILD)/%.o: %.c $(wildcard include/*.h codec/*/*.h codec/*.h tools/common/*.h tools/train/*.h)
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itools -c -o $@ $<

$(BUILD)/libcodec.a: $(LIB_OBJ) $(GEN_OBJ)
	rm -f $@ && ar rcs $@ $^
$(BUILD)/libcodec.so: $(LIB_OBJ) $(GEN_OBJ)
	$(CC) -shared $(LDFLAGS) -o $@ $^ $(LDLIBS)

$(BUILD)/aetrain: tools/aetrain.c $(TRAIN_OBJ) $(COMMON_OBJ) $(BUILD)/libcodec.a
	$(CC) $(CFLAGS) -Itools $(LDFLAGS) -o $@ $^ $(TOOL_LDLIBS)
$(BUILD)/ae%: tools/ae%.c $(COMMON_OBJ) $(BUILD)/libcodec.a
	$(CC) $(CFLAGS) -Itools $(LDFLAGS) -o $@ $^ $(TOOL_LDLIBS)

$(BUILD)/tests/%: tests/%.c tests/testlib.h $(TRAIN_OBJ) $(COMMON_OBJ) $(BUILD)/libcodec.a
	@mkdir -p $(dir $@)
	$(CC) $(CFLAGS) -Itools -Itests $(LDFLAGS) -o $@ $< $(TRAIN_OBJ) $(COMMON_OBJ) $(BUILD)/libcodec.a $(TOOL_LDLIBS)

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
check: all $(TEST_BIN) $(BUILD)/aebench
	$(ASAN_MAKE) all build-asan/tests-built build-asan/aebench
	@sh tests/run_tests.sh $(BUILD) build-asan

# Encode and decode a sample photograph with the built-in model.
demo: all
	@sh tools/demo.sh $(IMAGE)

clean:
	rm -rf build build-asan build-fuzz

-include bench/bench.mk
-include tests/fuzz/fuzz.mk

.PHONY: all test test-asan check demo clean
.SECONDARY:
