/* SPDX-License-Identifier: BSD-3-Clause */
/* embed_models - build-time tool that compiles the built-in models into
 * libcodec (the list is models/builtin.mk).
 *
 *   embed_models bytes NAME FILE > model_NAME.c
 *       the model as a C array aem_model_bytes_NAME
 *   embed_models table OUT_PREFIX NAME=FILE... [retired NAME=FILE...]
 *       OUT_PREFIX.h: the enum AEM_BUILTIN_<NAME> (one per model, in list
 *       order) and AEM_BUILTIN_MODELS; OUT_PREFIX.c: the table of
 *       aem_builtin_entry (codec/model/builtin.h) with each model's name,
 *       identifier and size, and aem_retired_table: the models that left
 *       the list (RETIRED_MODELS), by name and identifiers only, so that
 *       a decoder can name the file that decodes theirs.
 *
 * Both modes check each model file as the library's parser would (magic,
 * version, size against the configuration, CRC-32, every weight finite)
 * and embed it with its weights rounded to 16 bits (spec/model.md,
 * weight_format 1: half the library's size, no measurable loss, see
 * bench/NOTES.md).  The table mode computes the embedded file's
 * identifier here, so that the library need not hash or checksum
 * megabytes of weights at every start: a broken model fails the build
 * instead. */
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zlib.h>

#include "common/bytes.h"
#include "common/half.h"
#include "common/hash.h"

static unsigned char *read_file(const char *path, size_t *size)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return NULL;
    unsigned char *buf = NULL;
    size_t n = 0, cap = 0, got;
    do {
        if (n == cap) {
            cap = cap ? 2 * cap : (1u << 20);
            unsigned char *nb = realloc(buf, cap);
            if (!nb) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = nb;
        }
        got = fread(buf + n, 1, cap - n, f);
        n += got;
    } while (got > 0);
    int bad = ferror(f);
    fclose(f);
    if (bad) {
        free(buf);
        return NULL;
    }
    *size = n;
    return buf;
}

/* "high-v1" -> "high_v1" (C identifier) or "HIGH_V1" (enum suffix). */
static void c_name(const char *name, char *out, size_t outlen, int upper)
{
    size_t i = 0;
    for (; name[i] && i + 1 < outlen; i++) {
        unsigned char c = (unsigned char)name[i];
        out[i] = isalnum(c) ? (char)(upper ? toupper(c) : tolower(c)) : '_';
    }
    out[i] = 0;
}

/* The header's size under model file version v (spec/model.md), 0 for a
 * version this tool does not know. */
static size_t header_bytes(uint32_t v) { return v == 1 ? 112 : v == 2 ? 128 : v == 3 ? 144 : 0; }

/* The checks of spec/model.md that need no allocation: 0 when the file is a
 * well-formed model; fills its stored name. */
static int check_model(const unsigned char *d, size_t size, char name[49], const char **why)
{
    *why = NULL;
    size_t header = size >= 116 ? header_bytes(aec_rd32(d + 4)) : 0;
    if (size < 116 || memcmp(d, "AEM1", 4) != 0)
        *why = "bad magic or too short";
    else if (header == 0)
        *why = "unsupported model file version";
    else if (aec_rd32(d + 108) != 0)
        *why = "its weights are already rounded (weight_format is not 0)";
    else if (crc32_z(0, d, size - 4) != aec_rd32(d + size - 4))
        *why = "CRC-32 mismatch";
    else if (header + aec_rd64(d + 96) * 4 + aec_rd32(d + 104) + 4 != size)
        *why = "size does not match the parameter count";
    memcpy(name, d + 48, 48);
    name[48] = 0;
    return *why != NULL;
}

/* The model file d (checked, weight format 0) with its weights rounded to
 * 16 bits (spec/model.md, weight_format 1), its CRC-32 recomputed: the
 * bytes the library embeds.  NULL, with *why, when a weight is not finite
 * (the library does not check a built-in model's weights again), does not
 * fit in a half, or memory runs out. */
static unsigned char *to_half(const unsigned char *d, size_t size, size_t *out_size,
                              const char **why)
{
    uint64_t n = aec_rd64(d + 96);
    size_t header = header_bytes(aec_rd32(d + 4)), rest = size - header - 4 * (size_t)n; /* the dictionary and the CRC */
    size_t out_n = header + 2 * (size_t)n + rest;
    unsigned char *o = malloc(out_n);
    *why = "out of memory";
    if (!o)
        return NULL;
    memcpy(o, d, header);
    aec_wr32(o + 108, 1); /* weight_format 1: binary16 */
    for (uint64_t i = 0; i < n; i++) {
        float v = aec_rdf32(d + header + 4 * i);
        if (!(v > -65504.0f && v < 65504.0f)) {
            *why = v - v == 0.0f ? "a weight is too large for 16 bits" : "a weight is not finite";
            free(o);
            return NULL;
        }
        uint16_t h = aec_float_to_half(v);
        o[header + 2 * i] = (unsigned char)h, o[header + 2 * i + 1] = (unsigned char)(h >> 8);
    }
    memcpy(o + header + 2 * n, d + header + 4 * n, rest);
    aec_wr32(o + out_n - 4, (uint32_t)crc32_z(0, o, out_n - 4));
    *out_size = out_n;
    return o;
}

/* Reads, checks and rounds model file `path`: the bytes to embed, its
 * stored name in stored and the file's own identifier in master_id; NULL
 * (with a message printed) on failure. */
static unsigned char *builtin_bytes(const char *path, size_t *size, char stored[49],
                                    uint64_t *master_id)
{
    size_t n = 0;
    const char *why = "cannot read it";
    unsigned char *d = read_file(path, &n), *h = NULL;
    if (d && !check_model(d, n, stored, &why)) {
        h = to_half(d, n, size, &why);
        *master_id = aec_fnv1a64(d, n);
    }
    if (!h)
        fprintf(stderr, "embed_models: built-in model %s is broken: %s\n", path, why);
    free(d);
    return h;
}

static int emit_bytes(const char *name, const char *path)
{
    size_t n;
    char stored[49];
    uint64_t master;
    unsigned char *d = builtin_bytes(path, &n, stored, &master);
    if (!d)
        return 1;
    char id[64];
    c_name(name, id, sizeof id, 0);
    printf("/* generated by tools/embed_models from %s; do not edit */\n", path);
    printf("__attribute__((visibility(\"hidden\"))) const unsigned char aem_model_bytes_%s[%zu] "
           "__attribute__((aligned(64))) = {\n", id, n);
    for (size_t i = 0; i < n; i++)
        printf("%d,%s", d[i], i % 24 == 23 ? "\n" : "");
    printf("};\n");
    free(d);
    return 0;
}

/* One table entry "{list name, stored name, id, master id, bytes, size}"
 * for NAME=FILE, into out; embedded says whether the bytes are compiled
 * in (aem_model_bytes_NAME) or only the identifiers are kept.  0 on
 * success. */
static int table_entry(char *spec, int embedded, char *out, size_t outlen, char lower[64])
{
    char *eq = strchr(spec, '=');
    if (!eq) {
        fprintf(stderr, "embed_models: '%s' is not NAME=FILE\n", spec);
        return 1;
    }
    *eq = 0;
    const char *name = spec, *path = eq + 1;
    size_t n = 0;
    char stored[49];
    uint64_t master = 0;
    unsigned char *d = builtin_bytes(path, &n, stored, &master);
    if (!d)
        return 1;
    c_name(name, lower, 64, 0);
    char bytes[96] = "NULL";
    if (embedded)
        snprintf(bytes, sizeof bytes, "aem_model_bytes_%s", lower);
    snprintf(out, outlen, "    {\"%s\", \"%s\", 0x%016llxull, 0x%016llxull, %s, %zuu},\n", name,
             stored, (unsigned long long)aec_fnv1a64(d, n), (unsigned long long)master, bytes,
             embedded ? n : 0);
    free(d);
    return 0;
}

/* specs[0..count) are the built-in models, specs[count + 1..total) (after
 * the word "retired") the retired ones. */
static int emit_table(const char *prefix, int total, char **specs)
{
    int count = 0;
    while (count < total && strcmp(specs[count], "retired") != 0)
        count++;
    int first_retired = count < total ? count + 1 : total;
    char hpath[4096], cpath[4096];
    snprintf(hpath, sizeof hpath, "%s.h", prefix);
    snprintf(cpath, sizeof cpath, "%s.c", prefix);
    FILE *h = fopen(hpath, "w"), *c = fopen(cpath, "w");
    if (!h || !c) {
        fprintf(stderr, "embed_models: cannot write %s\n", h ? cpath : hpath);
        return 1;
    }
    fprintf(h, "/* generated by tools/embed_models from models/builtin.mk; do not edit */\n"
               "#ifndef AEC_GEN_BUILTIN_MODELS_H\n#define AEC_GEN_BUILTIN_MODELS_H\nenum {\n");
    fprintf(c, "/* generated by tools/embed_models from models/builtin.mk; do not edit */\n"
               "#include \"model/builtin.h\"\n\n");
    /* the entries are written after the externs: collect them first */
    char *entries = calloc((size_t)total + 1, 256);
    int failed = !entries;
    for (int i = 0; i < total && !failed; i++) {
        if (i == count)
            continue; /* the word "retired" */
        char lower[64], upper[64];
        failed = table_entry(specs[i], i < count, entries + 256 * i, 256, lower);
        if (!failed && i < count) {
            c_name(specs[i], upper, sizeof upper, 1); /* specs[i] is NAME alone now */
            fprintf(h, "    AEM_BUILTIN_%s = %d,\n", upper, i);
            fprintf(c, "extern const unsigned char aem_model_bytes_%s[];\n", lower);
        }
    }
    fprintf(h, "    AEM_BUILTIN_MODELS = %d\n};\n#endif\n", count);
    fprintf(c, "\nconst aem_builtin_entry aem_builtin_table[AEM_BUILTIN_MODELS] = {\n");
    for (int i = 0; i < count && !failed; i++)
        fputs(entries + 256 * i, c);
    fprintf(c, "};\n\nconst aem_builtin_entry aem_retired_table[] = {\n");
    for (int i = first_retired; i < total && !failed; i++)
        fputs(entries + 256 * i, c);
    fprintf(c, "    {NULL, NULL, 0, 0, NULL, 0},\n};\n");
    free(entries);
    if (fclose(h) != 0 || fclose(c) != 0)
        failed = 1;
    if (failed) { /* no half-written table for make to trust */
        remove(hpath);
        remove(cpath);
    }
    return failed;
}

int main(int argc, char **argv)
{
    if (argc == 4 && strcmp(argv[1], "bytes") == 0)
        return emit_bytes(argv[2], argv[3]);
    if (argc >= 4 && strcmp(argv[1], "table") == 0)
        return emit_table(argv[2], argc - 3, argv + 3);
    fprintf(stderr, "usage: embed_models bytes NAME FILE > out.c\n"
                    "       embed_models table OUT_PREFIX NAME=FILE... [retired NAME=FILE...]\n");
    return 2;
}
