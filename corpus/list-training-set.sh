#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# list-training-set.sh - writes corpus/TRAINING-SET.md: name, size and sha256
# of every image of the training and validation sets in ../shared/corpus
# (which this repository does not copy).
#
#   sh corpus/list-training-set.sh [SHARED_CORPUS] > corpus/TRAINING-SET.md
set -eu

here=$(cd "$(dirname "$0")" && pwd)
src=${1:-$here/../../shared/corpus}
if [ ! -d "$src/train" ] || [ ! -d "$src/valid" ]; then
    echo "list-training-set: no train/ and valid/ in $src" >&2
    exit 1
fi

table() {
    echo "| file | width x height | sha256 |"
    echo "|---|---|---|"
    for f in "$1"/*; do
        [ -f "$f" ] || continue
        dims=$(file -b "$f" | sed -n 's/.* \([0-9][0-9]*\) x \([0-9][0-9]*\).*/\1x\2/p')
        sum=$(sha256sum "$f" | cut -d' ' -f1)
        echo "| $(basename "$f") | ${dims:-?} | \`$sum\` |"
    done
}

count() { find "$1" -maxdepth 1 -type f | wc -l; }
pages=$(tr -d '\r' <"$src/SOURCES.txt" | grep -c '^\* ')

cat <<EOF
# Training and validation images

The project's models are trained (tools/aetrain) on the images of
\`../shared/corpus/train\` ($(count "$src/train") files) and checked on
\`../shared/corpus/valid\` ($(count "$src/valid") files).  They live in the project's shared folder,
beside the repository, and are not copied into it.  This file is made by
\`sh corpus/list-training-set.sh > corpus/TRAINING-SET.md\`.

## Sources and licences

\`../shared/corpus/SOURCES.txt\` says where they come from:

EOF
tr -d '\r' <"$src/SOURCES.txt" | sed -n '/^\* /q; /./s/^/> /p'
cat <<EOF

It then lists $pages Wikimedia Commons pages, one per source photograph;
each page gives the author, the licence and the attribution it requires.
It does not say which page belongs to which wiki-NNN.png.  Anyone
redistributing the images, or a model trained on them, should follow
SOURCES.txt to those pages, which are:

EOF
tr -d '\r' <"$src/SOURCES.txt" | grep '^\* '
cat <<EOF

The bench corpus of this repository is another set of photographs
(corpus/DEBIAN-PHOTOS.md), so \`make bench\` does not measure the model on
its own training images.

## train ($(count "$src/train") images)

EOF
table "$src/train"
cat <<EOF

## valid ($(count "$src/valid") images)

EOF
table "$src/valid"

extra=$here/train-extra
cat <<EOF2

## train-extra: photographs from Debian packages

aecodec-high-v5 (corpus/TRAINING.md; measured, not built in) was trained on
\`../shared/corpus/train\` and these photographs together; no built-in model
has learned from them.  \`sh corpus/fetch-debian-photos.sh --training\` makes
them (corpus/train-extra/, not committed); where each comes from, its author
and licence: corpus/DEBIAN-PHOTOS.md, "Training additions".

EOF2
if [ -d "$extra" ]; then
    table "$extra"
else
    echo "(corpus/train-extra/ was not made when this file was written)"
fi
