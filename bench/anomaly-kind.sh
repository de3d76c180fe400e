#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# anomaly-kind.sh - aeanomaly's worked case (README, "The auto-encoder's
# other uses"): a small model trained on photographs of one kind, scored on
# held-out photographs of that kind and of another kind.
#
#   sh bench/anomaly-kind.sh BUILD OUT_DIR [CORPUS_DIR] [STEPS]
#
# The kind is buildings and cityscapes: the model trains on 7 of them from
# the project's training photographs (CORPUS_DIR, default
# ../shared/corpus/train); 5 other building photographs are the normal
# held-out set and 6 photographs of landscapes, plants and animals the
# anomalous one (the lists below; corpus/TRAINING-SET.md has their sources).
# OUT_DIR gets folders of symbolic links to them, the model kind.aem, its
# training log and eval-LEVEL.txt, aeanomaly --eval's output at VQ levels
# 1 and 2.  No photograph is copied.  Run from the repository root.
set -eu
[ $# -ge 2 ] || { echo "usage: $0 BUILD OUT_DIR [CORPUS_DIR] [STEPS]" >&2; exit 2; }
B=$1 OUT=$2 SRC=${3:-../shared/corpus/train} STEPS=${4:-400}
SRC=$(cd "$SRC" && pwd)
TRAIN="002 003 006 008 009 011 012"   # vaults, bridge, ruin, chapel, towers, skyline, altar
NORMAL="010 022 024 030 036"          # town view, mill houses, canal, cathedral, rooftops
ANOMALOUS="001 004 013 018 023 032"   # tiger, canyon, lake, savanna, fruit, parrot
for set in train normal anomalous; do
    rm -rf "$OUT/$set"
    mkdir -p "$OUT/$set"
done
for n in $TRAIN; do ln -s "$SRC/wiki-$n.png" "$OUT/train/"; done
for n in $NORMAL; do ln -s "$SRC/wiki-$n.png" "$OUT/normal/"; done
for n in $ANOMALOUS; do ln -s "$SRC/wiki-$n.png" "$OUT/anomalous/"; done
# The general VQ model (aecodec-default-v1, the default model up to
# session 28: models/default-v1.aem) fine-tuned on the kind: a model that
# does better than the general one on buildings, and no better elsewhere.
# Each picture is scored against the general model at the same number of
# stages (--against, --against-model), so what counts is where the
# fine-tune helps or not, not how busy the picture is.
GENERAL=models/default-v1.aem
"$B/aetrain" --train "$OUT/train" --init "$GENERAL" --out "$OUT/kind.aem" \
    --batch 8 --steps "$STEPS" --lr 2e-4 --warmup 50 --seed 1 -t 2 \
    --name anomaly-buildings --ckpt-every "$STEPS" --log-every 50 > "$OUT/train.log"
for level in 1 2; do
    "$B/aeanomaly" --model "$OUT/kind.aem" --level $level --against $level \
        --against-model "$GENERAL" \
        --eval "$OUT/normal" "$OUT/anomalous" > "$OUT/eval-$level.txt"
    tail -n 1 "$OUT/eval-$level.txt"
done
