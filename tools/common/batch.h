/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * batch.h - many inputs into one output directory, for aeenc and aedec
 * (`-o DIR IN...`): the output names, the skip and failure bookkeeping and
 * the summary line.
 *
 * Each input IN becomes DIR/NAME.EXT, NAME being IN's file name without its
 * last extension.  An input whose output is also an earlier input's (a/x.png
 * and b/x.png) fails rather than overwrite it.  A file that fails is
 * reported (one line, by the tool) and the batch goes on; the exit status
 * is 1 when any file failed.
 */
#ifndef AE_BATCH_H
#define AE_BATCH_H

typedef struct {
    int n;
    const char **inputs;
    char **outputs;  /* per input: DIR/NAME.EXT                              */
    int *first;      /* per input: index of the first input with its output */
    int failed, skipped, converted;
} cli_batch;

/* Plans the outputs of inputs[0..n) into dir (created when missing; the
 * caller keeps inputs alive).  0, or the exit status after one line on
 * stderr ("-" as an input is a usage error, a dir that cannot be made a
 * runtime one).  *b must be zeroed first; free it with cli_batch_free in
 * every case. */
int cli_batch_plan(cli_batch *b, const char *dir, const char **inputs, int n, const char *ext);

/* Whether input i is to be converted: 0 when it is skipped (no_clobber and
 * its output exists; said on stderr when verbose) or fails for a duplicate
 * output (an error line, counted). */
int cli_batch_next(cli_batch *b, int i, int no_clobber, int verbose);

/* Counts input i's result (rc 0 = converted, else failed). */
void cli_batch_done(cli_batch *b, int i, int rc);

/* After the last input: "N of M files failed" when some did.  Returns the
 * exit status (0 or 1). */
int cli_batch_finish(const cli_batch *b);

void cli_batch_free(cli_batch *b);

/* True when path names an existing regular file (never for "-"), the files
 * -n/--no-clobber leaves alone. */
int cli_output_exists(const char *path);

#endif /* AE_BATCH_H */
