/* SPDX-License-Identifier: BSD-3-Clause */
/*
 * anomaly.h - anomaly scores from an auto-encoder's reconstruction, for
 * aeanomaly: where a model trained on some kind of picture cannot rebuild
 * a picture, the picture is unlike what it was trained on.
 *
 * The raw reconstruction error rewards flat pictures (nothing to lose) and
 * punishes busy ones, so each 8x8 block's error is measured against what
 * the block's own content predicts: its fine-detail energy, the error a
 * 2x2 box average would leave.  A model that knows the content rebuilds
 * its detail (it loses less than half of it); noise, or detail it has not
 * learnt, it loses whole.
 *
 *   ratio(b) = (mse(x, rebuilt) + c) / (mse(x, box2(x)) / 2 + c)   over block b
 *
 * with c = AEAN_FLOOR, 10 grey levels squared: below that an error is the
 * codec's ordinary loss on flat content, not a failure, so flat blocks
 * stay near ratio 1 whatever the model.  Half the detail, not all of it:
 * on photographs with planted defects that kept noise squares (which the
 * full detail cancels) and text apart from clean pictures alike
 * (bench/anomaly-defects.sh).  Samples are 8-bit; alpha is ignored.
 */
#ifndef AE_ANOMALY_H
#define AE_ANOMALY_H
#include <stdint.h>

#include "aecodec.h"

#define AEAN_BLOCK 8
#define AEAN_FLOOR 100.0 /* (grey levels)^2 added to both errors */

/* Per-block log2 ratios, row-major over ceil(w/8) x ceil(h/8) blocks. */
typedef struct {
    uint32_t bw, bh;
    float *log_ratio; /* bw * bh values */
} aean_map;

/* Encodes pixels (w x h, channels 1..4, tightly packed) at quality level
 * `level` (threads as in aec_encode_params) with enc and decodes the file
 * with dec: *rebuilt (malloc'ed, same size and channels) is what the model
 * makes of the picture.  AEC_OK or the
 * library's status (the detail is in the contexts' last error). */
aec_status aean_rebuild(aec_encoder *enc, aec_decoder *dec, const uint8_t *pixels, uint32_t w,
                        uint32_t h, int channels, int level, int threads,
                        uint8_t **rebuilt);

/* Fills *m (log_ratio malloc'ed; free with aean_map_free) from the original
 * and the rebuilt picture.  With a reference (another model's rebuild of
 * the same picture, e.g. the built-in general one's), the denominator is
 * the reference's error instead of half the blur's: the ratio then says
 * where the model does worse than a model of photographs in general, which
 * is what a model trained on one kind of picture does outside its kind.
 * 0, or -1 when out of memory. */
int aean_map_make(const uint8_t *orig, const uint8_t *rebuilt, const uint8_t *reference,
                  uint32_t w, uint32_t h, int channels, aean_map *m);
void aean_map_free(aean_map *m);

/* The picture's score: the mean log2 ratio of its worst 2 % of blocks (at
 * least one), so that a small defect counts as much as a wholly strange
 * picture.  Higher = more anomalous. */
double aean_score(const aean_map *m);

/* The map as a grey picture of w x h (one byte a pixel, each block's pixels
 * alike): 128 + 64 * log2 ratio, clipped to 0..255.  128 = the model loses
 * half what a 2x2 blur would (or the block is flat), 192 = twice that: a
 * fixed scale, so one threshold serves every picture.  -1 when out of memory. */
int aean_map_image(const aean_map *m, uint32_t w, uint32_t h, uint8_t **grey);

/* The area under the ROC curve of scores that should be higher for the
 * anomalous set: the fraction of (normal, anomalous) pairs ordered right,
 * ties counted half.  Exact, O(n log n).  NAN when a set is empty. */
double aean_auc(const double *normal, int n_normal, const double *anomalous, int n_anomalous);
#endif
