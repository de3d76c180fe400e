/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * csvread.c - reads a rows.csv of aebench back (`aebench --from-csv`), so
 * the plots, the summary and the JSON files can be made again, with
 * anchors or another axis, without coding the corpus again.
 */
#include "bench.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char header[] = "codec,image,setting,width,height,bytes,bpp,psnr,msssim,enc_ms,dec_ms";

/* Splits one CSV line (RFC 4180 quotes) into at most max fields, in place. */
static int split(char *line, char **field, int max)
{
    int n = 0;
    char *p = line;
    for (;;) {
        if (n == max)
            return -1;
        if (*p == '"') { /* quoted: "" is a quote */
            char *w = ++p;
            field[n++] = w;
            for (;;) {
                if (!*p)
                    return -1;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else {
                    *w++ = *p++;
                }
            }
            *w = 0;
            if (*p != ',' && *p)
                return -1;
        } else {
            field[n++] = p;
            p += strcspn(p, ",");
        }
        if (!*p)
            return n;
        *p++ = 0;
    }
}

static int number(const char *s, double *v)
{
    char *end;
    *v = strtod(s, &end);
    return end != s && *end == 0 ? 0 : -1;
}

int read_rows_csv(const char *path, bench_rows *rows, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: cannot open", path);
        return -1;
    }
    char line[1024];
    int lineno = 0, rc = 0;
    while (fgets(line, sizeof line, f)) {
        lineno++;
        size_t l = strlen(line);
        if (l && line[l - 1] != '\n' && !feof(f)) {
            snprintf(err, errlen, "%s:%d: line too long", path, lineno);
            rc = -1;
            break;
        }
        line[strcspn(line, "\r\n")] = 0;
        if (lineno == 1) {
            if (strcmp(line, header) != 0) {
                snprintf(err, errlen, "%s:1: not an aebench rows.csv (header differs)", path);
                rc = -1;
                break;
            }
            continue;
        }
        if (!line[0])
            continue;
        char *fld[12];
        double v[9];
        int ok = split(line, fld, 12) == 11;
        /* width .. dec_ms; an empty MS-SSIM means not computed */
        for (int i = 3; ok && i < 11; i++) {
            if (i == 8 && !fld[8][0])
                v[i - 3] = NAN;
            else
                ok = number(fld[i], &v[i - 3]) == 0;
        }
        if (!ok || strlen(fld[0]) >= sizeof rows->v[0].codec ||
            strlen(fld[1]) >= sizeof rows->v[0].image ||
            strlen(fld[2]) >= sizeof rows->v[0].setting || !(v[0] >= 1) || !(v[1] >= 1)) {
            snprintf(err, errlen, "%s:%d: not a row of 11 fields as aebench writes them", path,
                     lineno);
            rc = -1;
            break;
        }
        bench_row r;
        memset(&r, 0, sizeof r);
        snprintf(r.codec, sizeof r.codec, "%s", fld[0]);
        snprintf(r.image, sizeof r.image, "%s", fld[1]);
        snprintf(r.setting, sizeof r.setting, "%s", fld[2]);
        const char *eq = strchr(fld[2], '=');
        r.value = eq ? atof(eq + 1) : 0;
        r.width = (uint32_t)v[0];
        r.height = (uint32_t)v[1];
        r.bytes = (uint64_t)v[2];
        r.bpp = v[3];
        r.psnr = v[4];
        r.msssim = v[5];
        r.enc_ms = v[6];
        r.dec_ms = v[7];
        r.enc_ms_1t = r.dec_ms_1t = -1; /* not in the CSV */
        if (rows_push(rows, &r)) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
            break;
        }
    }
    if (rc == 0 && ferror(f)) {
        snprintf(err, errlen, "%s: read error", path);
        rc = -1;
    }
    if (rc == 0 && lineno == 0) {
        snprintf(err, errlen, "%s: empty", path);
        rc = -1;
    }
    fclose(f);
    return rc;
}
