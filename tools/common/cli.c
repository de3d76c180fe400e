/* SPDX-License-Identifier: BSD-3-Clause */
/* cli.c - shared helpers for the command-line tools (see cli.h). */
#ifndef _POSIX_C_SOURCE
#define _POSIX_C_SOURCE 200809L
#endif
#include "cli.h"

#include <errno.h>
#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* The tools are single-threaded at this level; the name is set once. */
static const char *g_prog = "aecodec";

void cli_init(const char *argv0)
{
    if (argv0 && *argv0) {
        const char *slash = strrchr(argv0, '/');
        g_prog = slash ? slash + 1 : argv0;
    }
}

const char *cli_prog(void) { return g_prog; }

static void vreport(const char *kind, const char *suffix, const char *fmt, va_list ap)
{
    /* Build the line first so it reaches stderr in one write. */
    char line[2048];
    int n = snprintf(line, sizeof(line), "%s: %s", g_prog, kind);
    if (n < 0 || (size_t)n >= sizeof(line))
        n = 0;
    vsnprintf(line + n, sizeof(line) - (size_t)n, fmt, ap);
    /* Messages from libraries may carry a newline: keep it one line. */
    for (char *p = line; *p; p++)
        if (*p == '\n' || *p == '\r')
            *p = ' ';
    fprintf(stderr, "%s%s\n", line, suffix);
    fflush(stderr);
}

void cli_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", "", fmt, ap);
    va_end(ap);
}

void cli_warning(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("warning: ", "", fmt, ap);
    va_end(ap);
}

int cli_usage_error(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vreport("", " (see --help)", fmt, ap);
    va_end(ap);
    return CLI_EXIT_USAGE;
}

int cli_parse_u64(const char *s, uint64_t min, uint64_t max, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9') /* strtoull would accept " 5", "+5" and "-5" */
        return -1;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno == ERANGE || *end != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_i64(const char *s, int64_t min, int64_t max, int64_t *out)
{
    if (!s)
        return -1;
    const char *digits = s[0] == '-' ? s + 1 : s;
    if (*digits < '0' || *digits > '9')
        return -1;
    errno = 0;
    char *end;
    long long v = strtoll(s, &end, 10);
    if (errno == ERANGE || *end != 0 || v < min || v > max)
        return -1;
    *out = v;
    return 0;
}

int cli_parse_int(const char *s, int min, int max, int *out)
{
    int64_t v;
    if (cli_parse_i64(s, min, max, &v) != 0)
        return -1;
    *out = (int)v;
    return 0;
}

int cli_parse_double(const char *s, double *out)
{
    char *end = NULL;
    double v = strtod(s, &end);
    if (end == s || *end)
        return -1;
    *out = v;
    return 0;
}

/* Parses one number of a comma list, advancing *s past it and one comma
 * when more follow. */
static int parse_list_u32(const char **s, int last, uint32_t *out)
{
    const char *p = *s;
    if (*p < '0' || *p > '9')
        return -1;
    uint64_t v = 0;
    while (*p >= '0' && *p <= '9') {
        v = v * 10 + (uint64_t)(*p - '0');
        if (v > UINT32_MAX)
            return -1;
        p++;
    }
    if (last ? *p != 0 : *p != ',')
        return -1;
    *s = last ? p : p + 1;
    *out = (uint32_t)v;
    return 0;
}

int cli_parse_region(const char *s, uint32_t *x, uint32_t *y, uint32_t *w, uint32_t *h)
{
    uint32_t v[4];
    if (!s)
        return -1;
    for (int k = 0; k < 4; k++)
        if (parse_list_u32(&s, k == 3, &v[k]) != 0)
            return -1;
    if (v[2] == 0 || v[3] == 0)
        return -1;
    *x = v[0];
    *y = v[1];
    *w = v[2];
    *h = v[3];
    return 0;
}

int cli_flag(const char *arg, const char *shortopt, const char *longopt)
{
    return (shortopt && strcmp(arg, shortopt) == 0) || (longopt && strcmp(arg, longopt) == 0);
}

int cli_option(int argc, char **argv, int *i, const char *shortopt, const char *longopt,
               const char **value)
{
    const char *arg = argv[*i];
    const char *name = NULL;
    if (cli_flag(arg, shortopt, longopt)) {
        name = arg;
        if (*i + 1 >= argc) {
            cli_usage_error("option %s needs a value", name);
            return -1;
        }
        *value = argv[++*i];
        return 1;
    }
    if (longopt) {
        size_t n = strlen(longopt);
        if (strncmp(arg, longopt, n) == 0 && arg[n] == '=') {
            *value = arg + n + 1;
            return 1;
        }
    }
    /* "-q5": a short option glued to its value (not for "--long" options) */
    if (shortopt && shortopt[0] == '-' && shortopt[1] && shortopt[1] != '-' && !shortopt[2] &&
        arg[0] == '-' && arg[1] == shortopt[1] && arg[2]) {
        *value = arg + 2;
        return 1;
    }
    return 0;
}

int cli_option_int(const char *name, const char *value, int min, int max, int *out)
{
    if (cli_parse_int(value, min, max, out) != 0) {
        cli_usage_error("invalid value '%s' for %s: expected an integer in %d..%d", value, name,
                        min, max);
        return -1;
    }
    return 0;
}

int cli_option_u64(const char *name, const char *value, uint64_t min, uint64_t max,
                   uint64_t *out)
{
    if (cli_parse_u64(value, min, max, out) != 0) {
        cli_usage_error("invalid value '%s' for %s: expected an integer in %" PRIu64 "..%" PRIu64,
                        value, name, min, max);
        return -1;
    }
    return 0;
}

int cli_option_double(const char *name, const char *value, double min, double max,
                      double *out)
{
    if (cli_parse_double(value, out) != 0 || !(*out >= min && *out <= max)) {
        cli_usage_error("invalid value '%s' for %s: expected a number in %g..%g", value, name,
                        min, max);
        return -1;
    }
    return 0;
}

double cli_seconds(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int cli_is_stdio(const char *path) { return path && strcmp(path, "-") == 0; }
