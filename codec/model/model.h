/* SPDX-License-Identifier: BSD-3-Clause */
/* model.h - the network model: configuration, parameters, file format.
 *
 * Architecture (spec/model.md).  P = block size (8), C = 3 colour channels.
 *   encoder:  x = space_to_depth_P(image)                       [C*P*P]
 *             z = lin(x) + out(relu(conv3x3 ... relu(conv3x3(x))))  [D]
 *   quantiser: residual VQ, S stages of K codes of dimension D
 *   decoder:  y = lin(q) + out(relu(conv3x3 ... relu(conv3x3(q))))  [C*P*P]
 *             image = depth_to_space_P(y)
 *   upsampling synthesis (format version 2, when up_width[0] > 0): from
 *   the decoder's last hidden layer h, three stages of
 *             u_j = depth_to_space_2(relu(conv3x3(u_{j-1})))   1/8 -> 1/4 -> 1/2 -> 1
 *   then, at full resolution, with the image above as 3 more channels,
 *             image += conv3x3(relu(conv3x3([u_2, image])))
 *   so a zero last convolution leaves the block decoder's image as it is.
 *   analysis stages (format version 3, when down_width[0] > 0): the mirror
 *   of the upsampling synthesis, from the image to the encoder,
 *             v_j = relu(conv3x3(space_to_depth_2(v_{j-1})))   1 -> 1/2 -> 1/4 -> 1/8
 *   from v_0 = the image; v_3 joins x as more input channels of the
 *   encoder's first convolution (not of its linear path).
 * The linear paths start as a PCA of image blocks (the trainer initialises
 * them); the convolution branches learn what the linear transform misses. */
#ifndef AEC_MODEL_MODEL_H
#define AEC_MODEL_MODEL_H
#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include "aecodec.h"

#define AEM_MAX_CONVS 8
#define AEM_UP_STAGES 3 /* x2 upsampling stages: 1/8 -> 1/4 -> 1/2 -> 1 */
#define AEM_DOWN_STAGES 3 /* x2 analysis stages: 1 -> 1/2 -> 1/4 -> 1/8 */
#define AEM_MAX_STAGES 16
#define AEM_NAME_BYTES 48

typedef struct {
    int block;      /* P: pixels per latent side (8)             */
    int channels;   /* C: colour channels (3)                    */
    int latent;     /* D                                         */
    int enc_width;  /* channels of the encoder's 3x3 convolutions */
    int enc_convs;  /* how many 3x3 convolutions (>= 1)          */
    int dec_width;
    int dec_convs;
    int stages;     /* S                                         */
    int codes;      /* K (<= 256: one byte per index)            */
    int up_width[AEM_UP_STAGES]; /* U_j: channels after upsampling stage j;
                                    all 0 = no upsampling synthesis     */
    int refine_width;            /* R: the full-resolution layer's channels */
    int down_width[AEM_DOWN_STAGES]; /* A_j: channels of analysis stage j (at
                                        1/2, 1/4, 1/8); all 0 = none      */
} aem_config;

/* Whether the decoder has the upsampling synthesis (a version 2 model). */
static inline int aem_has_upsampling(const aem_config *c) { return c->up_width[0] > 0; }
/* Whether the encoder has the analysis stages (a version 3 model). */
static inline int aem_has_analysis(const aem_config *c) { return c->down_width[0] > 0; }
/* Input channels of the encoder's first convolution: the blocks, and the
 * analysis stages' output when there are some. */
static inline int aem_encoder_inputs(const aem_config *c)
{
    return c->channels * c->block * c->block +
           (aem_has_analysis(c) ? c->down_width[AEM_DOWN_STAGES - 1] : 0);
}

/* Offsets (in floats) of each tensor inside the parameter array, in file
 * order.  Weights are [cout][cin][k][k]. */
typedef struct {
    size_t enc_lin_w, enc_lin_b;
    size_t down_w[AEM_DOWN_STAGES], down_b[AEM_DOWN_STAGES]; /* [A_j][in][3][3] */
    size_t enc_conv_w[AEM_MAX_CONVS], enc_conv_b[AEM_MAX_CONVS];
    size_t enc_out_w, enc_out_b;
    size_t dec_lin_w, dec_lin_b;
    size_t dec_conv_w[AEM_MAX_CONVS], dec_conv_b[AEM_MAX_CONVS];
    size_t dec_out_w, dec_out_b;
    size_t up_w[AEM_UP_STAGES], up_b[AEM_UP_STAGES]; /* [4*U_j][in][3][3] */
    size_t ref_w, ref_b;                             /* [R][U_2 + C][3][3] */
    size_t fin_w, fin_b;                             /* [C][R][3][3]       */
    size_t codebooks; /* [S][K][D] */
    size_t total;     /* all floats                                  */
    size_t trainable; /* floats before the codebooks (trained by Adam) */
} aem_layout;

/* The slots of aec_model.wino, one a 3x3 layer: the encoder's part (its
 * convolutions, the analysis stages), then the decoder's (the block
 * decoder's convolutions, the upsampling stages). */
#define AEM_WINO_ENC 0
#define AEM_WINO_DOWN AEM_MAX_CONVS
#define AEM_WINO_DEC (AEM_WINO_DOWN + AEM_DOWN_STAGES)
#define AEM_WINO_UP (AEM_WINO_DEC + AEM_MAX_CONVS)
#define AEM_WINO_SLOTS (AEM_WINO_UP + AEM_UP_STAGES)

struct aec_model {
    aem_config cfg;
    aem_layout lay;
    char name[AEM_NAME_BYTES + 1];
    uint64_t id;
    float *params;       /* lay.total floats */
    uint8_t *dict;       /* optional zstd dictionary for index streams */
    size_t dict_size;
    float *code_norms;   /* |c|^2 of every code, [S][K], for the VQ search */
    int is_static;       /* the built-in model: never freed */
    int frozen;          /* its parameters never change (built in, or loaded
                            through the public API; not the trainer's):
                            weights derived from them may be kept */
    /* A frozen model's 3x3 layers that go by Winograd, their weights in
     * its domain (nn_wino_weights), slot after slot in one buffer of
     * wino_floats floats from the arena for the encoder ([0]) and one
     * for the decoder ([1]); each made when an image first needs it and
     * kept until the model is freed (network.c). */
    _Atomic(float *) wino[2];
    size_t wino_floats[2];
};

/* Checks a configuration and computes its tensor layout. 0 on success. */
int aem_config_layout(const aem_config *cfg, aem_layout *lay, char *err, size_t errlen);
/* Allocates a model with zeroed parameters (used by the trainer). */
aec_status aem_model_new(const aem_config *cfg, const char *name, aec_model **out, char *err,
                         size_t errlen);
/* Parses a model file. */
aec_status aem_model_parse(const uint8_t *data, size_t size, aec_model **out, char *err,
                           size_t errlen);
/* The same for a file already checked (a built-in model, checked when the
 * library was built): no checksum, and `id` is its identifier. */
aec_status aem_model_parse_trusted(const uint8_t *data, size_t size, uint64_t id,
                                   aec_model **out, char *err, size_t errlen);
/* Serialises to the model file format; *out is malloc'ed. Also sets model->id. */
aec_status aem_model_serialize(aec_model *model, uint8_t **out, size_t *out_size);
/* Recomputes derived data (code norms) after the parameters changed. */
void aem_model_refresh(aec_model *model);
/* Multiply-accumulates per pixel of the encoder (with the full VQ search
 * when stages > 0) or of the decoder. */
double aem_macs_per_pixel(const aem_config *cfg, int decoder, int stages);

/* Receptive-field halo, in latents, of the encoder and decoder stacks.  The
 * upsampling synthesis widens the decoder's by 1 + 1/2 + 1/4 + 2/8 = 2
 * latents: a 3x3 convolution at 1/8, 1/4 and 1/2 resolution and two at full
 * resolution. */
static inline int aem_encoder_halo(const aem_config *c)
{
    /* the analysis stages: a convolution at 1/8 and, rounded up, those at
     * 1/2 and 1/4 (a quarter and half a latent) */
    return c->enc_convs + (aem_has_analysis(c) ? 2 : 0);
}
static inline int aem_decoder_halo(const aem_config *c)
{
    return c->dec_convs + (aem_has_upsampling(c) ? 2 : 0);
}
#endif
