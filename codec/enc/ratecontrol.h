/* SPDX-License-Identifier: BSD-3-Clause */
/* ratecontrol.h - the encoder context and the one-pass encode that the rate
 * search (ratecontrol.c) calls. */
#ifndef AEC_ENC_RATECONTROL_H
#define AEC_ENC_RATECONTROL_H
#include "common/context.h"

/* The windows a target accepts (the public header's target_size and
 * target_psnr): files down to 2 % below a size, up to 0.1 dB above a PSNR. */
#define AEC_SIZE_TOL 0.02
#define AEC_PSNR_TOL 0.1

struct aec_encoder {
    const aec_model *model; /* a model of the caller's, or NULL: built-in levels */
    aec_limits limits;
    int search_encodes;     /* encodes the last aec_encode cost            */
    float search_quality;   /* fractional level it chose                   */
    double search_psnr;     /* PSNR of that file, 0 when not measured      */
    char err[AEC_ERR_BYTES];
    /* Thread i's zstd context and cell buffers, kept between encodes
     * (encoder.c): a rate search encodes a picture several times, a batch
     * job file after file.  kept_pixels: the picture they were sized for. */
    struct aec_enc_kept *kept;
    int kept_n;
    uint64_t kept_pixels;
};

/* aec_encode without a target: one encode at params' level. */
aec_status aec_encode_once(aec_encoder *e, const uint8_t *pixels, uint32_t width,
                           uint32_t height, size_t stride, aec_layout layout,
                           const aec_encode_params *params, uint8_t **out, size_t *out_size);
#endif
