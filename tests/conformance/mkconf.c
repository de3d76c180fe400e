/* mkconf.c - generator of the conformance files in tests/conformance/
 * (run by tests/conformance/make.sh; not part of the test suite).
 *
 *   mkconf train DIR        write the 4 generated 96x96 training images
 *   mkconf files MODEL DIR  encode the conformance images with MODEL, write
 *                           NAME.aec, the expected decodes NAME.png, the
 *                           invalid files and DIR/manifest.txt
 *
 * Images are made with integer arithmetic only, so they are the same on
 * every platform.  Links with libcodec's internals and the tools' imageio. */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "aecodec.h"
#include "bitstream/container.h"
#include "bitstream/zstream.h"
#include "common/hash.h"
#include "common/imageio.h"
#include "model/model.h"
#include "stream_hash.h"

static char err[512];

/* Integer-only test pattern: gradients, a disc, stripes, blocks, noise. */
static aeio_image pattern(uint32_t w, uint32_t h, int ch, unsigned kind)
{
    aeio_image im = {w, h, ch, malloc((size_t)w * h * ch), 8};
    uint32_t r = 12345u + kind * 7919u;
    for (uint32_t y = 0; y < h; y++)
        for (uint32_t x = 0; x < w; x++) {
            r = r * 1103515245u + 12345u;
            int noise = (int)((r >> 16) & 15) - 8;
            int dx = (int)x - (int)w / 2, dy = (int)y - (int)h / 3;
            int disc = dx * dx + dy * dy < (int)(w * h) / 8;
            int v[3];
            switch (kind % 4) {
            case 0: /* gradients and a disc */
                v[0] = (int)(x * 255 / w), v[1] = (int)(y * 255 / h), v[2] = disc ? 220 : 40;
                break;
            case 1: /* stripes */
                v[0] = ((x / 5) & 1) ? 200 : 60, v[1] = ((y / 3) & 1) ? 180 : 90;
                v[2] = (int)((x + y) * 2 & 255);
                break;
            case 2: /* blocks */
                v[0] = (int)(((x / 16) * 53 + (y / 16) * 97) & 255);
                v[1] = (int)(((x / 16) * 31 + (y / 16) * 17) & 255);
                v[2] = (int)(((x / 8) ^ (y / 8)) * 29 & 255);
                break;
            default: /* smooth colour with an edge */
                v[0] = x > y ? 150 + (int)(y & 63) : 70 + (int)(x & 63);
                v[1] = 128 + ((int)x - (int)y) / 2, v[2] = disc ? 90 : 170;
                break;
            }
            uint8_t *p = im.pixels + ((size_t)y * w + x) * ch;
            for (int c = 0; c < ch; c++) {
                int s;
                if ((ch == 2 && c == 1) || c == 3) /* alpha: a ramp with a hole */
                    s = disc ? 0 : (int)((x * 7 + y * 3) & 255);
                else if (ch <= 2)
                    s = (v[0] * 2 + v[1] * 5 + v[2]) / 8 + noise;
                else
                    s = v[c] + noise;
                p[c] = (uint8_t)(s < 0 ? 0 : s > 255 ? 255 : s);
            }
        }
    return im;
}

static int train_images(const char *dir)
{
    for (unsigned k = 0; k < 4; k++) {
        aeio_image im = pattern(96, 96, 3, k);
        char path[1024];
        snprintf(path, sizeof path, "%s/train%u.png", dir, k);
        if (aeio_write(path, &im, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        aeio_free(&im);
    }
    return 0;
}

static int index_hash(const uint8_t *d, size_t n, uint64_t *hash, int *stages)
{
    return conformance_stream_hash(d, n, hash, stages, err, sizeof err);
}

static int write_file(const char *dir, const char *name, const uint8_t *d, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    if (aeio_write_file_atomic(path, d, n, err, sizeof err)) {
        fprintf(stderr, "%s\n", err);
        return -1;
    }
    return 0;
}

static void fix_crc(uint8_t *d, size_t n)
{
    uint32_t count = (uint32_t)d[20] | (uint32_t)d[21] << 8 | (uint32_t)d[22] << 16 |
                     (uint32_t)d[23] << 24;
    (void)n;
    uint32_t c = aecb_crc32(aecb_crc32(0, d, 44), d + 48, (size_t)count * 8);
    for (int i = 0; i < 4; i++)
        d[44 + i] = (uint8_t)(c >> (8 * i));
}

typedef struct {
    const char *name;
    uint32_t w, h;
    int ch, quality, tile, keep_stages; /* keep_stages: cut after this stage (0 = whole) */
    unsigned kind;
    const char *what;
} conf_case;

static const conf_case cases[] = {
    {"grey33x17", 33, 17, 1, 4, 64, 0, 0, "grey, one partial tile, all 4 stages"},
    {"rgb100x60", 100, 60, 3, 4, 64, 0, 1, "RGB, 2x1 tiles of 64, all 4 stages"},
    {"rgba70x70", 70, 70, 4, 4, 64, 0, 2, "RGBA, 2x2 tiles of 64, lossless alpha"},
    {"rgb80x48-cut2", 80, 48, 3, 4, 128, 2, 3, "RGB coded with 4 stages, cut after stage 2"},
    {"greyalpha45x23", 45, 23, 2, 3, 64, 0, 1, "grey+alpha, 3 of 4 stages"},
};

static int make_files(const char *model_path, const char *dir)
{
    aec_model *m = NULL;
    aec_status st = aec_model_load_file(&m, model_path);
    if (st != AEC_OK) {
        fprintf(stderr, "%s: %s\n", model_path, aec_status_string(st));
        return 1;
    }
    aec_encoder *enc = NULL;
    aec_decoder *dec = NULL;
    if (aec_encoder_create(&enc, m) != AEC_OK || aec_decoder_create(&dec, m) != AEC_OK)
        return 1;
    aec_decoder_set_threads(dec, 1);
    char path[1024];
    snprintf(path, sizeof path, "%s/manifest.txt", dir);
    FILE *man = fopen(path, "w");
    if (!man)
        return 1;
    fprintf(man, "# tests/conformance/manifest.txt - written by tests/conformance/make.sh\n"
                 "# model tiny.aem id %016llx (%d stages, %d codes)\n"
                 "# valid files:   NAME.aec OK WIDTH HEIGHT LAYOUT STAGES_DECODED INDEX_FNV1A64 NAME.png\n"
                 "# invalid files: NAME.aec ERROR\n",
                 (unsigned long long)aec_model_id(m), aec_model_stages(m), m->cfg.codes);
    uint8_t *first = NULL;
    size_t first_size = 0;
    for (size_t c = 0; c < sizeof cases / sizeof *cases; c++) {
        const conf_case *k = &cases[c];
        aeio_image im = pattern(k->w, k->h, k->ch, k->kind);
        aec_encode_params p;
        aec_encode_params_default(&p);
        p.quality = k->quality, p.tile_size = k->tile, p.threads = 1;
        uint8_t *file = NULL;
        size_t size = 0;
        st = aec_encode(enc, im.pixels, k->w, k->h, 0, (aec_layout)k->ch, &p, &file, &size);
        aeio_free(&im);
        if (st != AEC_OK) {
            fprintf(stderr, "%s: %s\n", k->name, aec_encoder_last_error(enc));
            return 1;
        }
        if (k->keep_stages) {
            aec_info info;
            aec_read_info(file, size, &info);
            size_t end = size;
            for (int s = info.stages_coded; s > k->keep_stages; s--)
                end -= info.stage_bytes[s - 1];
            size = end;
        }
        uint64_t hash;
        int stages;
        if (index_hash(file, size, &hash, &stages)) {
            fprintf(stderr, "%s: %s\n", k->name, err);
            return 1;
        }
        uint8_t *out = NULL;
        uint32_t ow, oh;
        aec_layout ol;
        st = aec_decode(dec, file, size, NULL, &out, &ow, &oh, &ol);
        if (st != AEC_OK) {
            fprintf(stderr, "%s: %s\n", k->name, aec_decoder_last_error(dec));
            return 1;
        }
        aeio_image dimg = {ow, oh, (int)ol, out, 8};
        char name[256];
        snprintf(name, sizeof name, "%s/%s.png", dir, k->name);
        if (aeio_write(name, &dimg, err, sizeof err)) {
            fprintf(stderr, "%s\n", err);
            return 1;
        }
        aec_free(out);
        snprintf(name, sizeof name, "%s.aec", k->name);
        if (write_file(dir, name, file, size))
            return 1;
        fprintf(man, "%s OK %u %u %d %d %016llx %s.png\n", name, ow, oh, (int)ol, stages,
                (unsigned long long)hash, k->name);
        printf("%-22s %5zu bytes  %s\n", name, size, k->what);
        if (c == 0)
            first = file, first_size = size;
        else
            aec_free(file);
    }
    /* Invalid files, all derived from the first (grey, 1 tile, 4 streams). */
    uint8_t *b = malloc(first_size + 1);
    struct {
        const char *name, *expect;
    } bad[] = {
        {"bad-magic.aec", "NOT_AEC"},       {"bad-version.aec", "UNSUPPORTED"},
        {"bad-flags.aec", "UNSUPPORTED"},   {"bad-reserved.aec", "UNSUPPORTED"},
        {"bad-header-crc.aec", "CORRUPT"},  {"bad-stream-crc.aec", "CORRUPT"},
        {"bad-index.aec", "CORRUPT"},       {"trailing-byte.aec", "CORRUPT"},
        {"cut-in-stage1.aec", "TRUNCATED"}, {"unknown-model.aec", "MODEL_MISMATCH"},
        {"too-wide.aec", "LIMIT"},          {"bad-stream-count.aec", "CORRUPT"},
    };
    aecb_header h;
    aecb_parse(first, first_size, NULL, &h, NULL, 0);
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        size_t n = first_size;
        memcpy(b, first, first_size);
        switch (i) {
        case 0: b[1] = 'a'; break;
        case 1: b[4] = 2; break;
        case 2: b[7] |= 0x04, fix_crc(b, n); break;
        case 3: b[19] = 1, fix_crc(b, n); break;
        case 4: b[44] ^= 1; break;
        case 5: b[h.offsets[0] + 2] ^= 0x10; break; /* stage 1, tile 0 */
        case 6: { /* stage-1 index stream replaced by one holding index K */
            uint32_t lw, lh;
            aecb_tile_latents(&h, 0, &lw, &lh);
            uint8_t raw[64];
            memset(raw, 0, sizeof raw);
            raw[lw * lh - 1] = (uint8_t)m->cfg.codes;
            uint8_t *z = NULL;
            size_t zn = 0;
            aecb_zstd_compress(NULL, raw, (size_t)lw * lh, 19, NULL, &z, &zn, NULL, 0);
            aecb_header g;
            memset(&g, 0, sizeof g);
            g.width = h.width, g.height = h.height, g.layout = h.layout, g.stages = 1;
            g.tile_size = h.tile_size, g.block_size = h.block_size, g.model_id = h.model_id;
            aecb_header_init(&g, NULL, 0);
            g.sizes[0] = (uint32_t)zn;
            const uint8_t *streams[1] = {z};
            uint8_t *f = NULL;
            aecb_write(&g, streams, &f, &n);
            memcpy(b, f, n);
            free(f), free(z), aecb_header_free(&g);
            break;
        }
        case 7: b[n++] = 0; break;
        case 8: n = (size_t)(h.offsets[0] + h.sizes[0] - 1); break;
        case 9: b[24] ^= 0xFF, fix_crc(b, n); break;
        case 10: b[10] = 1, fix_crc(b, n); break; /* width 65536 + 33 */
        case 11: b[20] += 1, fix_crc(b, n); break;
        }
        if (write_file(dir, bad[i].name, b, n))
            return 1;
        fprintf(man, "%s %s\n", bad[i].name, bad[i].expect);
    }
    aecb_header_free(&h);
    free(b);
    aec_free(first);
    fclose(man);
    aec_encoder_destroy(enc);
    aec_decoder_destroy(dec);
    aec_model_free(m);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 3 && !strcmp(argv[1], "train"))
        return train_images(argv[2]);
    if (argc == 4 && !strcmp(argv[1], "files"))
        return make_files(argv[2], argv[3]);
    fprintf(stderr, "usage: mkconf train DIR | mkconf files MODEL DIR\n");
    return 2;
}
