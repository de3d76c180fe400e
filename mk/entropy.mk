# SPDX-License-Identifier: BSD-3-Clause
# mk/entropy.mk - the entropy-stage study (issue 14, measurement only):
#   make build/entropy-study && nice build/entropy-study ../shared/corpus/valid/*.png
# Prints, per level 3/5/7/10, the lattice bytes as coded, their order-0 and
# context-conditional entropies, zstd's bytes with one frame per class,
# the significance bytes split by class, and every section's frame against
# the order-0 entropy of its bytes.  With --dict TRAIN.png... -- IMAGE.png...
# it measures Huffman tables shipped with the model (zstd dictionaries made
# from the training photographs' sections) instead (bench/NOTES.md).
$(BUILD)/entropy-study: $(BUILD)/bench/entropy-study.o $(COMMON_OBJ) $(BUILD)/libcodec.a
	$(LINK) -Itools -o $@ $^ $(TOOL_LDLIBS) $(LDLIBS)
