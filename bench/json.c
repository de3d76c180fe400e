/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * json.c - CompressAI's per-codec result files: a writer, and a small,
 * strict reader for the same schema (the anchors of `aebench --anchors`).
 *
 *   {"name": "...", "description": "...",
 *    "results": {"psnr": [...], "ms-ssim": [...], "bpp": [...],
 *                "encoding_time": [...], "decoding_time": [...]}}
 *
 * One value per setting, averaged over the images; times in seconds.
 * CompressAI's own files also spell the metrics "psnr-rgb" and
 * "ms-ssim-rgb"; both spellings are read.  The reader accepts any valid
 * JSON value under keys it does not know (skipped), and rejects anything
 * that is not JSON (RFC 8259), duplicate keys, non-numbers in the arrays
 * and arrays of different lengths, with one line naming the file and line.
 */
#include "bench.h"

#include <dirent.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/cleanup.h"

/* ---- writer ----------------------------------------------------------------- */

/* A JSON string: quote, backslash and control characters escaped; other
 * bytes (UTF-8) as they are. */
static void put_string(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p == '\n')
            fputs("\\n", f);
        else if (*p == '\t')
            fputs("\\t", f);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static int all_finite(const double *v, int n)
{
    for (int i = 0; i < n; i++)
        if (!isfinite(v[i]))
            return 0;
    return 1;
}

/* %.17g gives back the same double when read; JSON has no NaN or
 * infinity, so arrays holding one are left out (the caller checks the
 * required ones). */
static void put_array(FILE *f, const char *key, const double *v, int n, int *first)
{
    if (!v || !all_finite(v, n))
        return;
    fprintf(f, "%s\n    ", *first ? "" : ",");
    *first = 0;
    put_string(f, key);
    fputs(": [", f);
    for (int i = 0; i < n; i++)
        fprintf(f, "%s%.17g", i ? ", " : "", v[i]);
    fputc(']', f);
}

int json_write_curve(const char *path, const rd_curve *c)
{
    if (c->n < 1 || !all_finite(c->bpp, c->n) || !all_finite(c->psnr, c->n))
        return -1;
    int slot;
    FILE *f = aeio_cleanup_fopen(path, "w", &slot); /* removed if a signal cuts it */
    if (!f)
        return -1;
    fputs("{\n  \"name\": ", f);
    put_string(f, c->name);
    fputs(",\n  \"description\": ", f);
    put_string(f, c->description);
    fputs(",\n  \"results\": {", f);
    int first = 1;
    put_array(f, "psnr", c->psnr, c->n, &first);
    put_array(f, "ms-ssim", c->msssim, c->n, &first);
    put_array(f, "bpp", c->bpp, c->n, &first);
    put_array(f, "encoding_time", c->enc_s, c->n, &first);
    put_array(f, "decoding_time", c->dec_s, c->n, &first);
    fputs("\n  }\n}\n", f);
    return aeio_cleanup_fclose(f, slot) == 0 ? 0 : -1;
}

/* ---- reader ----------------------------------------------------------------- */

typedef struct {
    const char *s, *end;
    const char *path;
    int line;
    char *err;
    size_t errlen;
    int failed;
} parser;

static int fail(parser *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(parser *p, const char *fmt, ...)
{
    if (p->failed++)
        return -1;
    char msg[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    /* the line of the error, counted only now */
    snprintf(p->err, p->errlen, "%s:%d: %s", p->path, p->line, msg);
    return -1;
}

static void skip_ws(parser *p)
{
    while (p->s < p->end && (*p->s == ' ' || *p->s == '\t' || *p->s == '\n' || *p->s == '\r')) {
        if (*p->s == '\n')
            p->line++;
        p->s++;
    }
}

static int expect(parser *p, char c)
{
    skip_ws(p);
    if (p->s >= p->end || *p->s != c)
        return fail(p, "expected '%c'%s", c, p->s >= p->end ? " before the end" : "");
    p->s++;
    return 0;
}

/* Peeks the next non-blank character (0 at the end). */
static char peek(parser *p)
{
    skip_ws(p);
    return p->s < p->end ? *p->s : 0;
}

static int hex4(parser *p, unsigned *v)
{
    *v = 0;
    for (int i = 0; i < 4; i++, p->s++) {
        if (p->s >= p->end)
            return fail(p, "unfinished \\u escape");
        char c = *p->s;
        int d = c >= '0' && c <= '9'   ? c - '0'
                : c >= 'a' && c <= 'f' ? c - 'a' + 10
                : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                       : -1;
        if (d < 0)
            return fail(p, "bad \\u escape");
        *v = *v * 16 + (unsigned)d;
    }
    return 0;
}

/* A string into out (NUL-terminated, cut at cap - 1 bytes; out may be NULL
 * to skip it). */
static int parse_string(parser *p, char *out, size_t cap)
{
    if (expect(p, '"'))
        return -1;
    size_t n = 0;
#define PUT(ch)                                                                                   \
    do {                                                                                          \
        if (out && n + 1 < cap)                                                                   \
            out[n++] = (char)(ch);                                                                \
    } while (0)
    for (;;) {
        if (p->s >= p->end)
            return fail(p, "unterminated string");
        unsigned char c = (unsigned char)*p->s++;
        if (c == '"')
            break;
        if (c < 0x20)
            return fail(p, "control character in a string");
        if (c != '\\') {
            PUT(c);
            continue;
        }
        if (p->s >= p->end)
            return fail(p, "unterminated string");
        c = (unsigned char)*p->s++;
        const char *simple = strchr("\"\\/bfnrt", c);
        if (c && simple) {
            static const char map[] = "\"\\/\b\f\n\r\t";
            PUT(map[simple - "\"\\/bfnrt"]);
            continue;
        }
        if (c != 'u')
            return fail(p, "bad escape \\%c", c);
        unsigned u;
        if (hex4(p, &u))
            return -1;
        if (u >= 0xDC00 && u <= 0xDFFF)
            return fail(p, "lone low surrogate in a string");
        if (u >= 0xD800 && u <= 0xDBFF) { /* a surrogate pair */
            unsigned lo;
            if (p->end - p->s < 2 || p->s[0] != '\\' || p->s[1] != 'u')
                return fail(p, "lone high surrogate in a string");
            p->s += 2;
            if (hex4(p, &lo))
                return -1;
            if (lo < 0xDC00 || lo > 0xDFFF)
                return fail(p, "bad surrogate pair in a string");
            u = 0x10000 + ((u - 0xD800) << 10) + (lo - 0xDC00);
        }
        /* UTF-8 */
        if (u < 0x80) {
            PUT(u);
        } else if (u < 0x800) {
            PUT(0xC0 | (u >> 6));
            PUT(0x80 | (u & 0x3F));
        } else if (u < 0x10000) {
            PUT(0xE0 | (u >> 12));
            PUT(0x80 | ((u >> 6) & 0x3F));
            PUT(0x80 | (u & 0x3F));
        } else {
            PUT(0xF0 | (u >> 18));
            PUT(0x80 | ((u >> 12) & 0x3F));
            PUT(0x80 | ((u >> 6) & 0x3F));
            PUT(0x80 | (u & 0x3F));
        }
    }
#undef PUT
    if (out && cap)
        out[n] = 0;
    return 0;
}

/* A number by RFC 8259's grammar (no leading zeros, '+', '.5', NaN...). */
static int parse_number(parser *p, double *v)
{
    skip_ws(p);
    const char *s = p->s, *start = s;
#define DIGIT(x) ((x) < p->end && *(x) >= '0' && *(x) <= '9')
    if (s < p->end && *s == '-')
        s++;
    if (!DIGIT(s))
        return fail(p, "expected a number");
    if (*s == '0')
        s++;
    else
        while (DIGIT(s))
            s++;
    if (s < p->end && *s == '.') {
        s++;
        if (!DIGIT(s))
            return fail(p, "expected a digit after '.'");
        while (DIGIT(s))
            s++;
    }
    if (s < p->end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < p->end && (*s == '+' || *s == '-'))
            s++;
        if (!DIGIT(s))
            return fail(p, "expected a digit in the exponent");
        while (DIGIT(s))
            s++;
    }
#undef DIGIT
    char buf[64];
    size_t len = (size_t)(s - start);
    if (len >= sizeof buf)
        return fail(p, "number too long");
    memcpy(buf, start, len);
    buf[len] = 0;
    *v = strtod(buf, NULL);
    if (!isfinite(*v))
        return fail(p, "number out of range");
    p->s = s;
    return 0;
}

static int skip_value(parser *p, int depth);

static int skip_literal(parser *p, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(p->end - p->s) < n || memcmp(p->s, word, n) != 0)
        return fail(p, "unexpected character '%c'", *p->s);
    p->s += n;
    return 0;
}

/* Any JSON value, checked and skipped (keys this reader does not use). */
static int skip_value(parser *p, int depth)
{
    if (depth > 64)
        return fail(p, "nested too deeply");
    char c = peek(p);
    double d;
    switch (c) {
    case '"':
        return parse_string(p, NULL, 0);
    case '{':
        p->s++;
        if (peek(p) == '}') {
            p->s++;
            return 0;
        }
        for (;;) {
            if (parse_string(p, NULL, 0) || expect(p, ':') || skip_value(p, depth + 1))
                return -1;
            if (peek(p) == ',') {
                p->s++;
                continue;
            }
            return expect(p, '}');
        }
    case '[':
        p->s++;
        if (peek(p) == ']') {
            p->s++;
            return 0;
        }
        for (;;) {
            if (skip_value(p, depth + 1))
                return -1;
            if (peek(p) == ',') {
                p->s++;
                continue;
            }
            return expect(p, ']');
        }
    case 't':
        return skip_literal(p, "true");
    case 'f':
        return skip_literal(p, "false");
    case 'n':
        return skip_literal(p, "null");
    case 0:
        return fail(p, "unexpected end of file");
    default:
        return parse_number(p, &d);
    }
}

/* An array of numbers into v (at most RD_MAX_POINTS); *n = its length. */
static int parse_numbers(parser *p, const char *key, double *v, int *n)
{
    *n = 0;
    if (peek(p) != '[')
        return fail(p, "\"%s\" is not an array", key);
    p->s++;
    if (peek(p) == ']') {
        p->s++;
        return 0;
    }
    for (;;) {
        if (*n == RD_MAX_POINTS)
            return fail(p, "\"%s\" has more than %d values", key, RD_MAX_POINTS);
        if (peek(p) != '-' && !(peek(p) >= '0' && peek(p) <= '9'))
            return fail(p, "\"%s\" holds something that is not a number", key);
        if (parse_number(p, &v[(*n)++]))
            return -1;
        if (peek(p) == ',') {
            p->s++;
            continue;
        }
        return expect(p, ']');
    }
}

enum { K_PSNR, K_MSSSIM, K_BPP, K_ENC, K_DEC, K_COUNT };

static int parse_results(parser *p, rd_curve *c)
{
    static const char *const names[K_COUNT][2] = {{"psnr", "psnr-rgb"},
                                                  {"ms-ssim", "ms-ssim-rgb"},
                                                  {"bpp", NULL},
                                                  {"encoding_time", NULL},
                                                  {"decoding_time", NULL}};
    double *dst[K_COUNT] = {c->psnr, c->msssim, c->bpp, c->enc_s, c->dec_s};
    int len[K_COUNT], have[K_COUNT] = {0};
    if (expect(p, '{'))
        return -1;
    if (peek(p) != '}') {
        for (;;) {
            char key[64];
            int line = p->line;
            if (parse_string(p, key, sizeof key) || expect(p, ':'))
                return -1;
            int k = 0;
            while (k < K_COUNT && strcmp(key, names[k][0]) != 0 &&
                   !(names[k][1] && strcmp(key, names[k][1]) == 0))
                k++;
            if (k == K_COUNT) {
                if (skip_value(p, 1))
                    return -1;
            } else {
                if (have[k]) {
                    p->line = line;
                    return fail(p, "\"results\" has \"%s\" twice", names[k][0]);
                }
                have[k] = 1;
                if (parse_numbers(p, key, dst[k], &len[k]))
                    return -1;
            }
            if (peek(p) == ',') {
                p->s++;
                continue;
            }
            break;
        }
    }
    if (expect(p, '}'))
        return -1;
    if (!have[K_BPP] || !have[K_PSNR])
        return fail(p, "\"results\" needs \"bpp\" and \"psnr\" (or \"psnr-rgb\")");
    c->n = len[K_BPP];
    if (c->n < 1)
        return fail(p, "\"bpp\" is empty");
    for (int k = 0; k < K_COUNT; k++) {
        if (have[k] && len[k] != c->n)
            return fail(p, "\"%s\" has %d values, \"bpp\" %d", names[k][0], len[k], c->n);
        if (!have[k])
            for (int i = 0; i < c->n; i++)
                dst[k][i] = NAN;
    }
    for (int i = 0; i < c->n; i++)
        if (!(c->bpp[i] > 0))
            return fail(p, "bpp value %g is not positive", c->bpp[i]);
    return 0;
}

int json_read_curve(const char *path, rd_curve *c, char *err, size_t errlen)
{
    memset(c, 0, sizeof *c);
    FILE *f = fopen(path, "rb");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    /* result files are small; 4 MB is far beyond any real one */
    enum { MAX_BYTES = 4 << 20 };
    char *buf = malloc(MAX_BYTES + 1);
    size_t len = buf ? fread(buf, 1, MAX_BYTES + 1, f) : 0;
    int rd_err = ferror(f);
    fclose(f);
    if (!buf || rd_err || len > MAX_BYTES) {
        snprintf(err, errlen, "%s: %s", path,
                 !buf ? "out of memory" : rd_err ? "read error" : "larger than 4 MB");
        free(buf);
        return -1;
    }
    parser p = {buf, buf + len, path, 1, err, errlen, 0};
    int have_name = 0, have_desc = 0, have_results = 0, rc = 0;
    if (expect(&p, '{')) {
        rc = -1;
        goto done;
    }
    if (peek(&p) != '}') {
        for (;;) {
            char key[64];
            int line = p.line;
            if (parse_string(&p, key, sizeof key) || expect(&p, ':')) {
                rc = -1;
                goto done;
            }
            int *seen = !strcmp(key, "name")          ? &have_name
                        : !strcmp(key, "description") ? &have_desc
                        : !strcmp(key, "results")     ? &have_results
                                                      : NULL;
            if (seen && (*seen)++) {
                p.line = line;
                rc = fail(&p, "\"%s\" appears twice", key);
                goto done;
            }
            int r;
            if (seen == &have_name || seen == &have_desc) {
                if (peek(&p) != '"') {
                    rc = fail(&p, "\"%s\" is not a string", key);
                    goto done;
                }
                r = seen == &have_name ? parse_string(&p, c->name, sizeof c->name)
                                       : parse_string(&p, c->description, sizeof c->description);
            } else if (seen == &have_results) {
                r = parse_results(&p, c);
            } else {
                r = skip_value(&p, 1);
            }
            if (r) {
                rc = -1;
                goto done;
            }
            if (peek(&p) == ',') {
                p.s++;
                continue;
            }
            break;
        }
    }
    if (expect(&p, '}')) {
        rc = -1;
        goto done;
    }
    if (peek(&p) != 0) {
        rc = fail(&p, "text after the end of the object");
        goto done;
    }
    if (!have_name || !c->name[0])
        rc = fail(&p, "no \"name\"");
    else if (!have_results)
        rc = fail(&p, "no \"results\"");
done:
    free(buf);
    return rc;
}

/* ---- a directory of anchors --------------------------------------------------------- */

static int cmp_name(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

int read_anchor_dir(const char *dir, rd_curve **out, int *n, char *err, size_t errlen)
{
    *out = NULL;
    *n = 0;
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return -1;
    }
    char *names[64];
    int count = 0, rc = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        size_t l = strlen(e->d_name);
        if (e->d_name[0] == '.' || l < 6 || strcmp(e->d_name + l - 5, ".json") != 0)
            continue;
        if (count == 64) {
            snprintf(err, errlen, "%s: more than 64 .json files", dir);
            rc = -1;
            break;
        }
        if (!(names[count] = strdup(e->d_name))) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
        count++;
    }
    closedir(d);
    if (rc == 0 && count == 0) {
        snprintf(err, errlen, "%s: no .json file", dir);
        rc = -1;
    }
    qsort(names, (size_t)count, sizeof *names, cmp_name);
    rd_curve *v = rc == 0 ? calloc((size_t)count, sizeof *v) : NULL;
    if (rc == 0 && !v) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    for (int i = 0; rc == 0 && i < count; i++) {
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, names[i]);
        rc = json_read_curve(path, &v[i], err, errlen);
    }
    for (int i = 0; i < count; i++)
        free(names[i]);
    if (rc) {
        free(v);
        return -1;
    }
    *out = v;
    *n = count;
    return 0;
}
