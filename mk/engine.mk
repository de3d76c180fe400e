# SPDX-License-Identifier: BSD-3-Clause
# mk/engine.mk - the kernel benchmarks' extra targets.
#   make bench-train [TRAIN_THREADS=2] [TRAIN_ROUNDS=3]   aetrain's crops/s
#   beside the PyTorch twin's in the same run (bench/train-speed.sh)
#   (TWIN_TRAIN=PATH: the twin when ../shared is not beside the tree)
TRAIN_THREADS ?= 2
TRAIN_ROUNDS  ?= 3
bench-train: $(BUILD)/aetrain
	sh bench/train-speed.sh $(BUILD) $(TRAIN_THREADS) $(TRAIN_ROUNDS)
.PHONY: bench-train
