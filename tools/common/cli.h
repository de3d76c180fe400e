/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * cli.h - small helpers shared by the command-line tools: "prog: message"
 * diagnostics, strict number parsing and a minimal option matcher (no
 * getopt_long, which is not POSIX).
 *
 * Conventions of the tools: every error is one line on stderr,
 * "prog: message"; exit status 1 for runtime errors and 2 for usage errors.
 */
#ifndef AE_CLI_H
#define AE_CLI_H

#include <stddef.h>
#include <stdint.h>

#define CLI_EXIT_OK 0
#define CLI_EXIT_RUNTIME 1
#define CLI_EXIT_USAGE 2

#if defined(__GNUC__)
#define CLI_PRINTF(a, b) __attribute__((format(printf, a, b)))
#else
#define CLI_PRINTF(a, b)
#endif

/* Sets the program name used in messages (basename of argv0). */
void cli_init(const char *argv0);
const char *cli_prog(void);

/* "prog: message\n" on stderr. */
void cli_error(const char *fmt, ...) CLI_PRINTF(1, 2);
/* "prog: warning: message\n" on stderr. */
void cli_warning(const char *fmt, ...) CLI_PRINTF(1, 2);
/* Reports a usage error ("prog: message (see --help)") and returns
 * CLI_EXIT_USAGE, so callers can write `return cli_usage_error(...)`. */
int cli_usage_error(const char *fmt, ...) CLI_PRINTF(1, 2);

/* Strict decimal parsing: the whole string must be a number (no spaces, no
 * trailing characters, no empty string) inside [min, max].  0 = ok. */
int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out);
int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out);
int cli_parse_int(const char *s, int min, int max, int *out);
/* A whole-string decimal number (strtod syntax, nothing after it); the
 * caller checks its range.  0 = ok. */
int cli_parse_double(const char *s, double *out);
/* "X,Y,W,H" of non-negative 32-bit numbers, W and H at least 1. */
int cli_parse_region(const char *s, uint32_t *x, uint32_t *y, uint32_t *w, uint32_t *h);

/* Option matching for a hand-written argv loop.
 *
 * cli_flag: 1 if arg is exactly shortopt or longopt (either may be NULL).
 *
 * cli_option: for options taking a value, at argv[*i].  Accepts "-q 5",
 * "-q5", "--quality 5" and "--quality=5".  Returns 1 and sets *value (and
 * advances *i past a separate value) when it matches, 0 when argv[*i] is not
 * this option, -1 after printing a usage error when the value is missing. */
int cli_flag(const char *arg, const char *shortopt, const char *longopt);
int cli_option(int argc, char **argv, int *i, const char *shortopt, const char *longopt,
               const char **value);

/* Parses an option value as an int in [min, max]; prints a usage error
 * naming the option on failure.  0 = ok. */
int cli_option_int(const char *name, const char *value, int min, int max, int *out);
int cli_option_u64(const char *name, const char *value, uint64_t min, uint64_t max,
                   uint64_t *out);
int cli_option_double(const char *name, const char *value, double min, double max,
                      double *out);

/* Monotonic wall clock in seconds. */
double cli_seconds(void);

/* True if path is "-" (stdin/stdout). */
int cli_is_stdio(const char *path);

#endif /* AE_CLI_H */
