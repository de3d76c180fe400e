/* SPDX-License-Identifier: BSD-3-Clause */
/* dataset.h - a folder of training photographs held in memory as 8-bit RGB,
 * and random crops of it. */
#ifndef AET_DATASET_H
#define AET_DATASET_H
#include <stddef.h>
#include <stdint.h>

#include "common/imageio.h"

typedef struct {
    int count;
    aeio_image *images; /* RGB, 3 channels */
    char **names;
} aet_dataset;

/* Loads every PNG, JPEG or PNM file of dir (sorted by name, so the order and
 * thus the training run do not depend on the file system). min_side: images
 * smaller than this in either dimension are refused. */
int aet_dataset_load(aet_dataset *ds, const char *dir, int min_side, char *err, size_t errlen);
/* The same, but decodes only the images i (in name order) whose i % parts is
 * in [first, first + count); the others stay empty (0 x 0, no pixels). */
int aet_dataset_load_part(aet_dataset *ds, const char *dir, int min_side, int parts, int first,
                          int count, char *err, size_t errlen);
void aet_dataset_free(aet_dataset *ds);
/* B random crops of size x size with random horizontal and vertical flips,
 * as planes [3][B][size][size] of values in 0..1. */
void aet_dataset_crops(const aet_dataset *ds, uint64_t *rng, int B, int size, float *out);
#endif
