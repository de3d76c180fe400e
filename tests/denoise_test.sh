#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# denoise_test.sh - aeenc --denoise on a noisy generated picture: the file
# is coded with the de-noising model (another model id than plain coding)
# and decodes closer to the clean picture than the noisy input is, and no
# further from it than plain coding at the same level.
#
#   sh tests/denoise_test.sh BUILD
set -u
B=${1:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
fail=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1${2:+: $2}"; fail=1; }
psnr() { "$B/aecompare" "$1" "$2" | awk '{print $2}'; }
model_id() { "$B/aeinfo" "$1" | awk '$1 == "model:" {print $2}'; }

"$B/tests/test_anomaly" --scene "$T/clean.png" 256 256 3 &&
"$B/tests/test_anomaly" --noise "$T/clean.png" "$T/noisy.png" 15 9 || { bad denoise_setup; exit 1; }
noisy=$(psnr "$T/clean.png" "$T/noisy.png")

for q in 6 7; do
    if ! "$B/aeenc" -q $q "$T/noisy.png" "$T/plain.aec" ||
       ! "$B/aeenc" -q $q --denoise "$T/noisy.png" "$T/dn.aec" ||
       ! "$B/aedec" "$T/plain.aec" "$T/plain.png" || ! "$B/aedec" "$T/dn.aec" "$T/dn.png"; then
        bad denoise_level_$q "coding failed"
        continue
    fi
    plain=$(psnr "$T/clean.png" "$T/plain.png")
    dn=$(psnr "$T/clean.png" "$T/dn.png")
    if [ "$(model_id "$T/plain.aec")" != "$(model_id "$T/dn.aec")" ]; then
        ok denoise_level_${q}_own_model
    else
        bad denoise_level_${q}_own_model "same model: $(model_id "$T/dn.aec")"
    fi
    # Noisy input 24.6 dB; measured before the half-size levels: level 5
    # (then full size) 36.5 plain / 37.5 --denoise, level 7 31.8 / 34.8 dB.
    if awk -v n="$noisy" -v p="$plain" -v d="$dn" 'BEGIN {exit !(d > n + 3 && d >= p)}'; then
        ok denoise_level_${q}_closer_to_clean
    else
        bad denoise_level_${q}_closer_to_clean "noisy $noisy, plain $plain, --denoise $dn dB"
    fi
done

if "$B/aeenc" --denoise --model "$T/clean.png" "$T/noisy.png" "$T/x.aec" 2> /dev/null; then
    bad denoise_not_with_model
else
    [ ! -e "$T/x.aec" ] && ok denoise_not_with_model || bad denoise_not_with_model "output left"
fi
exit $fail
