#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# embed_test.sh - tools/embed_models, the build-time check of the built-in
# models: the library does not check their weights again, so a model with
# a non-finite weight or a damaged CRC-32 must fail the build; and the
# models are embedded with 16-bit weights.
# Usage: sh tests/embed_test.sh BUILD.  Prints "ok NAME" / "FAIL NAME".
BUILD=${1:-build}
EMBED=$BUILD/embed_models
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_embed.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
result() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1"; failed=1; fi; }
# expect_refusal NAME FILE WHY: the table mode fails, naming WHY
expect_refusal() {
    "$EMBED" table "$tmp/gen" "m=$2" >"$tmp/out" 2>&1
    rc=$?
    [ $rc -ne 0 ] && grep -q "$3" "$tmp/out" && [ "$(wc -l <"$tmp/out")" -eq 1 ]
    result "$1" $?
}
# with_crc FILE: FILE's last four bytes replaced by the CRC-32 of the rest
# (gzip's trailer holds the same CRC-32, little-endian)
with_crc() {
    size=$(wc -c <"$1")
    head -c $((size - 4)) "$1" >"$1.body"
    gzip -c "$1.body" | tail -c 8 | head -c 4 >>"$1.body"
    mv "$1.body" "$1"
}

model=models/default-v1.aem  # a version-1 model: a 112-byte header
"$EMBED" table "$tmp/gen" "m=$model" >/dev/null 2>&1 && [ -s "$tmp/gen.c" ]
result embed_accepts_builtin $?

# The embedded model has 16-bit weights (spec/model.md, weight_format 1):
# 112 + 2 * n_params + dict_size + 4 bytes, in the table and in the array.
n=$(od -An -t u4 -j 96 -N 4 "$model" | tr -d ' ')
dict=$(od -An -t u4 -j 104 -N 4 "$model" | tr -d ' ')
want=$((112 + 2 * n + dict + 4))
"$EMBED" bytes m "$model" >"$tmp/bytes.c" 2>/dev/null
grep -q "${want}u}" "$tmp/gen.c" && grep -q "\[$want\]" "$tmp/bytes.c"
result embed_rounds_to_16_bits $?

# a NaN as the first weight, with a correct CRC-32
cp "$model" "$tmp/nan.aem"
printf '\000\000\300\177' | dd of="$tmp/nan.aem" bs=1 seek=112 conv=notrunc 2>/dev/null
with_crc "$tmp/nan.aem"
expect_refusal embed_refuses_nan_weight "$tmp/nan.aem" "not finite"

# an infinity as the last weight
cp "$model" "$tmp/inf.aem"
n=$(od -An -t u4 -j 96 -N 4 "$model" | tr -d ' ')
printf '\000\000\200\377' | dd of="$tmp/inf.aem" bs=1 seek=$((112 + 4 * (n - 1))) conv=notrunc 2>/dev/null
with_crc "$tmp/inf.aem"
expect_refusal embed_refuses_inf_weight "$tmp/inf.aem" "not finite"

# a weight changed without mending the CRC-32
cp "$model" "$tmp/crc.aem"
printf '\001' | dd of="$tmp/crc.aem" bs=1 seek=200 conv=notrunc 2>/dev/null
expect_refusal embed_refuses_bad_crc "$tmp/crc.aem" "CRC-32"
# A retired model (RETIRED_MODELS, after the word "retired") keeps its
# name and identifiers in aem_retired_table but no bytes, and takes no
# index among the built-in models; a damaged one fails the build too.
"$EMBED" table "$tmp/gen" "m=$model" retired "r=$model" >/dev/null 2>&1 &&
    grep -q 'AEM_BUILTIN_MODELS = 1$' "$tmp/gen.h" && ! grep -q 'AEM_BUILTIN_R ' "$tmp/gen.h" &&
    grep -A1 'aem_retired_table' "$tmp/gen.c" | grep -q '{"r", "aecodec-default-v1", 0x[0-9a-f]*ull, 0x[0-9a-f]*ull, NULL, 0u}'
result embed_keeps_retired_ids $?
"$EMBED" table "$tmp/gen" "m=$model" retired "r=$tmp/crc.aem" >"$tmp/out" 2>&1
[ $? -ne 0 ] && grep -q "CRC-32" "$tmp/out" && [ ! -e "$tmp/gen.c" ]
result embed_refuses_bad_retired $?
exit $failed
