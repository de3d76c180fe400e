# SPDX-License-Identifier: BSD-3-Clause
# mk/entropy.mk - the entropy-stage study (issue 14, measurement only):
#   make build/entropy-study && nice build/entropy-study ../shared/corpus/valid/*.png
# Prints, per level 4/7/10, the lattice bytes as coded, their order-0 and
# context-conditional entropies and zstd's bytes with one frame per class.
$(BUILD)/entropy-study: $(BUILD)/bench/entropy-study.o $(COMMON_OBJ) $(BUILD)/libcodec.a
	$(LINK) -Itools -o $@ $^ $(TOOL_LDLIBS) $(LDLIBS)
