#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# anomaly_test.sh - aeanomaly on generated pictures: a planted defect scores
# higher than the clean picture, its map is brightest on the defect, --eval
# prints the exact AUC of tiny sets, and bad input fails cleanly.
#
#   sh tests/anomaly_test.sh BUILD
set -u
B=${1:-build}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT INT TERM
fail=0
ok() { echo "ok $1"; }
bad() { echo "FAIL $1${2:+: $2}"; fail=1; }

# Three smooth scenes; each defect is a 32x32 square of strong noise.
mkdir -p "$T/normal" "$T/anomalous"
for s in 1 2 3; do
    "$B/tests/test_anomaly" --scene "$T/normal/s$s.png" 256 192 "$s" &&
    "$B/tests/test_anomaly" --patch "$T/normal/s$s.png" "$T/anomalous/d$s.png" \
        $((40 * s)) $((30 * s)) 32 32 "$s" || { bad anomaly_setup; exit 1; }
done

if "$B/aeanomaly" --help | grep -q -- "--eval"; then ok anomaly_help; else bad anomaly_help; fi

out=$("$B/aeanomaly" "$T/normal/s2.png" "$T/anomalous/d2.png") || bad anomaly_scores "exit $?"
clean=$(echo "$out" | awk 'NR == 1 {print $1}')
defect=$(echo "$out" | awk 'NR == 2 {print $1}')
if [ -n "$clean" ] && [ -n "$defect" ] &&
   awk -v c="$clean" -v d="$defect" 'BEGIN {exit !(d > c + 0.2)}'; then
    ok anomaly_defect_scores_higher
else
    bad anomaly_defect_scores_higher "clean $clean, defect $defect"
fi

# The map: the input's size, brightest inside the defect (80..111, 60..91).
if "$B/aeanomaly" --map "$T/map.png" "$T/anomalous/d2.png" > /dev/null &&
   [ "$("$B/tests/test_imageio" --info "$T/map.png")" = "256 192 1" ]; then
    ok anomaly_map_size
else
    bad anomaly_map_size
fi
set -- $("$B/tests/test_anomaly" --brightest "$T/map.png")
if [ $# -eq 2 ] && [ "$1" -ge 80 ] && [ "$1" -lt 112 ] && [ "$2" -ge 60 ] && [ "$2" -lt 92 ]; then
    ok anomaly_map_brightest_on_defect
else
    bad anomaly_map_brightest_on_defect "brightest at $*"
fi

# --eval: every defect above every clean scene gives AUC 1; the sets swapped
# give 0; a set against itself 0.5 (all ties or mirrored pairs).
auc() { "$B/aeanomaly" --eval "$1" "$2" | awk '$1 == "auc" {print $2}'; }
[ "$(auc "$T/normal" "$T/anomalous")" = "1.0000" ] && ok anomaly_eval_auc ||
    bad anomaly_eval_auc "$(auc "$T/normal" "$T/anomalous")"
[ "$(auc "$T/anomalous" "$T/normal")" = "0.0000" ] && ok anomaly_eval_swapped ||
    bad anomaly_eval_swapped
[ "$(auc "$T/normal" "$T/normal")" = "0.5000" ] && ok anomaly_eval_same ||
    bad anomaly_eval_same

# --against the same models at the same level: the same rebuild, ratio 1
# in every block, score 0.
s=$("$B/aeanomaly" --level 4 --against 4 "$T/anomalous/d1.png" | awk '{print $1}')
[ "$s" = "0.0000" ] && ok anomaly_against_itself || bad anomaly_against_itself "score $s"
# The same with a model file on both sides (--against-model): its VQ
# stages, not the built-in levels.
s=$("$B/aeanomaly" --model models/default-v1.aem --level 2 --against 2 \
    --against-model models/default-v1.aem "$T/anomalous/d1.png" | awk '{print $1}')
[ "$s" = "0.0000" ] && ok anomaly_against_model_itself ||
    bad anomaly_against_model_itself "score $s"

# Bad input: one line on stderr, the right exit status, no map left behind.
check_error() { # NAME EXPECTED_STATUS ARGS...
    name=$1 want=$2
    shift 2
    "$B/aeanomaly" "$@" > "$T/out" 2> "$T/err"
    st=$?
    if [ "$st" -eq "$want" ] && [ "$(wc -l < "$T/err")" -eq 1 ] && [ ! -e "$T/bad-map.png" ]; then
        ok "$name"
    else
        bad "$name" "status $st, stderr: $(cat "$T/err")"
    fi
}
printf 'not a picture' > "$T/junk.png"
check_error anomaly_missing_file 1 "$T/none.png"
check_error anomaly_junk_file 1 --map "$T/bad-map.png" "$T/junk.png"
check_error anomaly_no_input 2
check_error anomaly_map_needs_one 2 --map "$T/bad-map.png" "$T/normal/s1.png" "$T/normal/s2.png"
check_error anomaly_level_range 2 --level 99 "$T/normal/s1.png"
check_error anomaly_against_range 2 --against 99 "$T/normal/s1.png"
check_error anomaly_against_model_alone 2 --against-model models/default-v1.aem "$T/normal/s1.png"
check_error anomaly_against_model_range 2 --against 13 --against-model models/default-v1.aem \
    "$T/normal/s1.png"
check_error anomaly_against_bad_model 1 --against 1 --against-model "$T/junk.png" "$T/normal/s1.png"
check_error anomaly_eval_missing_dir 1 --eval "$T/nowhere" "$T/anomalous"
check_error anomaly_eval_one_dir 2 --eval "$T/normal"
check_error anomaly_bad_model 1 --model "$T/junk.png" "$T/normal/s1.png"
exit $fail
