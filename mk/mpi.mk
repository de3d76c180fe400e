# SPDX-License-Identifier: BSD-3-Clause
# mpi.mk - build/aetrain-mpi: aetrain over MPI (tools/train/distributed.c
# compiled with -DAEC_MPI), where Open MPI's mpicc is installed.  A second
# binary rather than aetrain itself, so that the usual aetrain neither links
# libmpi nor needs it installed; both train the same bits for the same
# --chunks.  Without mpicc nothing here is built and tests/mpi_test.sh skips.
MPI_CFLAGS := $(shell mpicc --showme:compile 2>/dev/null)
MPI_LIBS   := $(shell mpicc --showme:link 2>/dev/null)
ifneq ($(MPI_LIBS),)
MPI_TRAIN_OBJ := $(filter-out $(BUILD)/tools/train/distributed.o,$(TRAIN_OBJ))

$(BUILD)/mpi/%.o: tools/%.c | $(BUILD)/gen/builtin_models.h
	@mkdir -p $(dir $@)
	$(COMPILE) $(MPI_CFLAGS) -DAEC_MPI -Itools -c -o $@ $<
$(BUILD)/aetrain-mpi: $(BUILD)/mpi/aetrain.o $(BUILD)/mpi/train/distributed.o $(MPI_TRAIN_OBJ) \
                      $(COMMON_OBJ) $(BUILD)/libcodec.a
	$(LINK) -o $@ $^ $(TOOL_LDLIBS) $(MPI_LIBS) $(LDLIBS)
all: $(BUILD)/aetrain-mpi
endif
