/* SPDX-License-Identifier: BSD-3-Clause */
/* dataset.c - loading the training folder and cutting random crops. */
#define _DEFAULT_SOURCE /* DT_* from dirent.h */
#include "train/dataset.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "train/rng.h"

static int has_image_extension(const char *name)
{
    const char *dot = strrchr(name, '.');
    if (!dot)
        return 0;
    const char *exts[] = {".png", ".PNG", ".jpg", ".JPG", ".jpeg", ".JPEG", ".ppm", ".pgm"};
    for (size_t i = 0; i < sizeof exts / sizeof *exts; i++)
        if (strcmp(dot, exts[i]) == 0)
            return 1;
    return 0;
}

static int compare_names(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int aet_dataset_load(aet_dataset *ds, const char *dir, int min_side, char *err, size_t errlen)
{
    return aet_dataset_load_part(ds, dir, min_side, 1, 0, 1, err, errlen);
}

int aet_dataset_load_part(aet_dataset *ds, const char *dir, int min_side, int parts, int first,
                          int count, char *err, size_t errlen)
{
    memset(ds, 0, sizeof *ds);
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: cannot open folder", dir);
        return -1;
    }
    char **names = NULL;
    int n = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.' || !has_image_extension(e->d_name))
            continue;
        if (n == cap) {
            cap = cap ? cap * 2 : 64;
            char **nn = realloc(names, (size_t)cap * sizeof *nn);
            if (!nn)
                break;
            names = nn;
        }
        names[n++] = strdup(e->d_name);
    }
    closedir(d);
    if (n == 0) {
        snprintf(err, errlen, "%s: no PNG, JPEG or PNM images found", dir);
        free(names);
        return -1;
    }
    qsort(names, (size_t)n, sizeof *names, compare_names);
    ds->images = calloc((size_t)n, sizeof *ds->images);
    ds->names = names;
    ds->count = n;
    if (!ds->images)
        return -1;
    for (int i = 0; i < n; i++) {
        if (i % parts < first || i % parts >= first + count)
            continue; /* another process's part: left empty */
        char path[4096];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        aeio_image img;
        if (aeio_read(path, &img, 0, err, errlen))
            return -1;
        if (img.channels != 3) {
            aeio_image rgb;
            int rc = aeio_convert(&img, 3, &rgb, err, errlen);
            aeio_free(&img);
            if (rc)
                return -1;
            img = rgb;
        }
        if ((int)img.width < min_side || (int)img.height < min_side) {
            snprintf(err, errlen, "%s: %ux%u is smaller than the crop size %d", path, img.width,
                     img.height, min_side);
            aeio_free(&img);
            return -1;
        }
        ds->images[i] = img;
    }
    return 0;
}

void aet_dataset_free(aet_dataset *ds)
{
    for (int i = 0; i < ds->count; i++) {
        if (ds->images)
            aeio_free(&ds->images[i]);
        free(ds->names[i]);
    }
    free(ds->images);
    free(ds->names);
    memset(ds, 0, sizeof *ds);
}

void aet_dataset_crops(const aet_dataset *ds, uint64_t *rng, int B, int size, float *out)
{
    size_t plane = (size_t)size * size;
    for (int b = 0; b < B; b++) {
        const aeio_image *img = &ds->images[aet_rng_below(rng, (uint32_t)ds->count)];
        int x0 = (int)aet_rng_below(rng, img->width - size + 1);
        int y0 = (int)aet_rng_below(rng, img->height - size + 1);
        uint32_t flips = aet_rng_below(rng, 4);
        for (int y = 0; y < size; y++) {
            int sy = (flips & 2) ? size - 1 - y : y;
            const uint8_t *row = img->pixels + ((size_t)(y0 + sy) * img->width + x0) * 3;
            for (int x = 0; x < size; x++) {
                int sx = (flips & 1) ? size - 1 - x : x;
                for (int c = 0; c < 3; c++)
                    out[((size_t)c * B + b) * plane + (size_t)y * size + x] =
                        row[sx * 3 + c] * (1.0f / 255.0f);
            }
        }
    }
}
