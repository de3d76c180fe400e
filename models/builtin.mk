# SPDX-License-Identifier: BSD-3-Clause
# models/builtin.mk - the models compiled into libcodec: the one list that
# the embedding rules, the generated model table (build/gen/builtin_models.*,
# made by tools/embed_models.c), the library, the fuzz build and the install
# derive from.  Each NAME is models/NAME.aem; its position is its index in
# aec_model_builtin(i) and its C name is AEM_BUILTIN_<NAME> (upper case, '-'
# as '_').  Append new models at the end: the indices are public (before
# version 1.0 a model may still leave the list: files coded with it then
# decode with --model and its file, which stays in models/).  The
# library embeds each with its weights rounded to 16 bits (a model of its
# own, with its own identifier; tools/embed_models.c); the file here, as
# aetrain wrote it, stays loadable with --model.
#
#   default   aecodec-high-v4-coarse: level 1 (its first VQ stage) and
#             lattice level 2; the default model of the API
#   high-v4   aecodec-high-v4-scratch: lattice levels 3-9
#   high-v4-top  aecodec-high-v4-top: lattice levels 10-14
#   high-denoise  aecodec-high-v2-denoise: lattice levels 3-14 with the
#             `denoise` encode parameter (aeenc --denoise)
BUILTIN_MODELS := default high-v4 high-v4-top high-denoise

# Models that left the list: their files stay in models/ and load with
# --model; the library keeps only their names and identifiers, so that a
# decoder tells which file decodes a file coded with one of them.
#
#   default-v1  aecodec-default-v1: the VQ levels 1-2 until version 0.6
#             (the default model's file was models/default.aem)
#   high      aecodec-high-v2: lattice levels 6-9 (0.5.0: 3-14)
#   high-top  aecodec-high-v2-top: lattice levels 10-14
#   high-low  aecodec-high-v2-low: lattice levels 3-5
RETIRED_MODELS := default-v1 high high-top high-low
