# SPDX-License-Identifier: BSD-3-Clause
# bench/bench.mk - `make bench` and `make bench-speed` (included by the main
# Makefile, which defines LINK, BUILD, COMMON_OBJ, TOOL_LDLIBS).
#
#   make bench [CORPUS=dir] [OUT=dir] [ANCHORS=dir] [BENCH_ARGS="--codecs aecodec,jpeg ..."]
#   make bench-speed [OUT=dir] [SPEED_ARGS="--no-large --runs-small 3 ..."]
#   make bench-replot [OUT=dir] [ANCHORS=dir] [ROWS=file]   outputs again from a rows.csv
#
# Outputs go to OUT, by default $(BUILD)/bench (git-ignored): nothing is
# written into the source tree unless asked, e.g. `make bench OUT=bench/results`.
# ANCHORS: a directory of CompressAI result files drawn and compared too
# (bench/anchors holds published ones).
#   make bench-startup               whole-process start-up on an 8x8 file
#
# The default corpus, corpus/photos, is made by corpus/fetch-debian-photos.sh
# (run automatically when the directory has no PNG yet; needs apt-get).

CORPUS     ?= corpus/photos
OUT        ?= $(BUILD)/bench
ANCHORS    ?=
ROWS       ?= bench/results/rows.csv
BENCH_ARGS ?=
SPEED_ARGS ?=

# bench/entropy-study.c is a tool of its own (mk/entropy.mk), not part of aebench.
BENCH_SRC := $(filter-out bench/entropy-study.c,$(sort $(wildcard bench/*.c)))
BENCH_OBJ := $(BENCH_SRC:%.c=$(BUILD)/%.o)

$(BUILD)/aebench: $(BENCH_OBJ) $(COMMON_OBJ) $(BUILD)/libcodec.a
	$(LINK) -Itools -o $@ $^ $(TOOL_LDLIBS) $(LDLIBS)

bench: $(BUILD)/aebench
	@if [ "$(CORPUS)" = "corpus/photos" ] && ! ls corpus/photos/*.png >/dev/null 2>&1; then \
	    echo "corpus/photos is empty: running corpus/fetch-debian-photos.sh"; \
	    sh corpus/fetch-debian-photos.sh || exit 1; \
	fi
	$(BUILD)/aebench --out $(OUT) $(if $(ANCHORS),--anchors $(ANCHORS)) $(BENCH_ARGS) $(CORPUS)

# Plots, summary and JSON again from an earlier run's rows, without coding.
bench-replot: $(BUILD)/aebench
	$(BUILD)/aebench --from-csv $(ROWS) --out $(OUT) $(if $(ANCHORS),--anchors $(ANCHORS)) $(BENCH_ARGS)

bench-speed: $(BUILD)/aebench
	$(BUILD)/aebench --speed --out $(OUT) $(SPEED_ARGS)

# Whole-process start-up of the tools on an 8x8 file (bench/startup.sh).
bench-startup: all
	@sh bench/startup.sh $(BUILD)

.PHONY: bench bench-speed bench-startup bench-replot
