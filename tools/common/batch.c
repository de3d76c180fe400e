/* SPDX-License-Identifier: BSD-3-Clause */
/* batch.c - many inputs into one output directory (see batch.h). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "batch.h"
#include "cli.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>

int cli_output_exists(const char *path)
{
    struct stat st;
    return !cli_is_stdio(path) && stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* DIR/NAME.EXT for input `in` (malloc'ed; NULL when out of memory). */
static char *output_name(const char *dir, const char *in, const char *ext)
{
    const char *base = strrchr(in, '/');
    base = base ? base + 1 : in;
    const char *dot = strrchr(base, '.');
    size_t stem = dot && dot != base ? (size_t)(dot - base) : strlen(base);
    size_t dlen = strlen(dir);
    int slash = dlen > 0 && dir[dlen - 1] != '/';
    size_t len = dlen + (size_t)slash + stem + strlen(ext) + 1;
    char *out = malloc(len);
    if (out)
        snprintf(out, len, "%s%s%.*s%s", dir, slash ? "/" : "", (int)stem, base, ext);
    return out;
}

typedef struct {
    const char *name;
    int index;
} named;

static int by_name(const void *a, const void *b)
{
    const named *x = a, *y = b;
    int c = strcmp(x->name, y->name);
    return c ? c : (x->index > y->index) - (x->index < y->index); /* then input order */
}

/* first[i]: the earliest input with input i's output (i itself if none). */
static int find_duplicates(cli_batch *b)
{
    named *order = malloc(sizeof(named) * (size_t)b->n);
    if (!order)
        return -1;
    for (int i = 0; i < b->n; i++)
        order[i] = (named){b->outputs[i], i};
    qsort(order, (size_t)b->n, sizeof(named), by_name);
    for (int k = 0; k < b->n; k++) {
        int same = k > 0 && strcmp(order[k - 1].name, order[k].name) == 0;
        b->first[order[k].index] = same ? b->first[order[k - 1].index] : order[k].index;
    }
    free(order);
    return 0;
}

int cli_batch_plan(cli_batch *b, const char *dir, const char **inputs, int n, const char *ext)
{
    for (int i = 0; i < n; i++)
        if (cli_is_stdio(inputs[i]))
            return cli_usage_error("\"-\" (stdin) cannot be an input with -o DIR");
    struct stat st;
    if (stat(dir, &st) != 0 && mkdir(dir, 0777) != 0 && errno != EEXIST) {
        cli_error("%s: cannot create the output directory: %s", dir, strerror(errno));
        return CLI_EXIT_RUNTIME;
    }
    if (stat(dir, &st) != 0 || !S_ISDIR(st.st_mode)) {
        cli_error("%s: not a directory", dir);
        return CLI_EXIT_RUNTIME;
    }
    b->n = n;
    b->inputs = inputs;
    b->outputs = calloc((size_t)n, sizeof(char *));
    b->first = calloc((size_t)n, sizeof(int));
    int ok = b->outputs && b->first;
    for (int i = 0; ok && i < n; i++)
        ok = (b->outputs[i] = output_name(dir, inputs[i], ext)) != NULL;
    if (!ok || find_duplicates(b) != 0) {
        cli_error("out of memory");
        return CLI_EXIT_RUNTIME;
    }
    return 0;
}

int cli_batch_next(cli_batch *b, int i, int no_clobber, int verbose)
{
    if (b->first[i] != i) {
        cli_error("%s: not converted: its output %s is %s's", b->inputs[i], b->outputs[i],
                  b->inputs[b->first[i]]);
        b->failed++;
        return 0;
    }
    if (no_clobber && cli_output_exists(b->outputs[i])) {
        if (verbose)
            fprintf(stderr, "%s: %s: skipped, %s exists\n", cli_prog(), b->inputs[i],
                    b->outputs[i]);
        b->skipped++;
        return 0;
    }
    return 1;
}

void cli_batch_done(cli_batch *b, int i, int rc)
{
    (void)i;
    if (rc == 0)
        b->converted++;
    else
        b->failed++;
}

int cli_batch_finish(const cli_batch *b)
{
    if (b->failed == 0)
        return CLI_EXIT_OK;
    cli_error("%d of %d files failed (%d converted, %d skipped)", b->failed, b->n,
              b->converted, b->skipped);
    return CLI_EXIT_RUNTIME;
}

void cli_batch_free(cli_batch *b)
{
    for (int i = 0; b->outputs && i < b->n; i++)
        free(b->outputs[i]);
    free(b->outputs);
    free(b->first);
    b->outputs = NULL;
    b->first = NULL;
}
