#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# bench_json_test.sh - aebench's CompressAI JSON files, anchors, output
# directory, re-plot from CSV, progress lines and the library's rate search
# (aebench --rate-search), on small generated images.
#   usage (from the repository root): sh tests/bench_json_test.sh BUILD
BUILD=${1:-build}
B=$BUILD/aebench
T=$(mktemp -d "${TMPDIR:-/tmp}/aec_benchjson.XXXXXX") || exit 1
trap 'rm -rf "$T"' EXIT
failed=0
pass() { echo "ok $1"; }
fail() {
    echo "FAIL $1${2:+: $2}"
    failed=$((failed + 1))
}
if [ ! -x "$B" ] || [ ! -x "$BUILD/tests/test_imageio" ]; then
    echo "FAIL bench_json_setup: $B or $BUILD/tests/test_imageio not built"
    exit 1
fi
"$BUILD"/tests/test_imageio --make-sample "$T/img.png" 160 96 3 >/dev/null 2>&1 || {
    echo "FAIL bench_json_sample_image"
    exit 1
}
ROOT=$(pwd)
case $B in /*) ;; *) B=$ROOT/$B ;; esac
stamp() { # a listing of bench/results that changes if anything is written there
    ls -la --time-style=full-iso "$ROOT/bench/results" 2>/dev/null | sed 1d
}
before=$(stamp)

# -- a run with the published anchors; its outputs only under --out
if "$B" --out "$T/out" --codecs aecodec,jpeg --levels 1,3 --jpeg-q 20,50,80 --no-single-thread \
    --anchors bench/anchors "$T/img.png" >"$T/log" 2>"$T/err"; then
    pass bench_json_run
else
    sed 's/^/  | /' "$T/err" | tail -n 5
    fail bench_json_run
fi
for f in aecodec.json jpeg.json; do
    [ -s "$T/out/$f" ] && pass "bench_json_writes_$f" || fail "bench_json_writes_$f"
done

# -- progress: "[k/N] codec setting image: ... ETA ..." with N = all jobs
if grep -q '^\[1/5\] aecodec q=1 img.png: .*ETA' "$T/err" &&
    grep -q '^\[5/5\] jpeg q=80 img.png: .* done$' "$T/err"; then
    pass bench_progress_eta
else
    fail bench_progress_eta "$(grep '^\[' "$T/err" | head -n 2)"
fi

# -- round trip: the reader gives back exactly the numbers written
# (%.17g both ways), in the file's order
json_array() { # FILE KEY: the array's numbers, one a line
    tr -d '\n' <"$1" | sed -n "s/.*\"$2\": \[\([^]]*\)\].*/\1/p" | tr ',' '\n' | tr -d ' ' | awk 1
}
if "$B" --print-json "$T/out/aecodec.json" >"$T/printed" 2>"$T/err2"; then
    col=1
    ok=1
    for key in bpp psnr ms-ssim encoding_time decoding_time; do
        json_array "$T/out/aecodec.json" "$key" >"$T/a"
        sed -n '5,$p' "$T/printed" | cut -d, -f$col >"$T/b"
        [ -s "$T/a" ] && cmp -s "$T/a" "$T/b" || ok=0
        col=$((col + 1))
    done
    [ $ok -eq 1 ] && pass bench_json_round_trip || fail bench_json_round_trip "$(cat "$T/printed")"
else
    fail bench_json_round_trip "$(cat "$T/err2")"
fi
# the same values as the rows, averaged per setting (CSV precision)
if awk -F, 'NR == FNR { if ($1 == "aecodec") { b[$3] += $7; p[$3] += $8; n[$3]++ } next }
    FNR > 4 { m = 0
        for (s in n) if ((b[s] / n[s] - $1) ^ 2 < 1e-10 && (p[s] / n[s] - $2) ^ 2 < 1e-6) m = 1
        if (!m) bad = 1; rows++ }
    END { exit bad || rows != 2 }' "$T/out/rows.csv" "$T/printed"; then
    pass bench_json_matches_rows
else
    fail bench_json_matches_rows
fi
# an independent parser, where there is one
if command -v python3 >/dev/null 2>&1; then
    if python3 -c 'import json, sys
d = json.load(open(sys.argv[1]))
r = d["results"]
assert isinstance(d["name"], str) and isinstance(d["description"], str)
assert set(r) == {"psnr", "ms-ssim", "bpp", "encoding_time", "decoding_time"}, r.keys()
assert len({len(v) for v in r.values()}) == 1
assert r["bpp"] == sorted(r["bpp"])' "$T/out/aecodec.json" 2>"$T/pyerr"; then
        pass bench_json_python_schema
    else
        fail bench_json_python_schema "$(tail -n 1 "$T/pyerr")"
    fi
else
    echo "SKIP bench_json_python_schema (no python3)"
fi

# -- anchors in the summary and the plot; log bpp axis with round ticks
if grep -q 'bmshj2018-factorized, anchor (published, other corpus) | 8 |' "$T/out/summary.md"; then
    pass bench_anchor_in_summary
else
    fail bench_anchor_in_summary
fi
if grep -q 'stroke-dasharray' "$T/out/rd-psnr.svg" &&
    grep -q 'bmshj2018-factorized (published, other corpus)' "$T/out/rd-psnr.svg" &&
    grep -q '>0\.1</text>' "$T/out/rd-psnr.svg" && grep -q '>0\.5</text>' "$T/out/rd-psnr.svg" &&
    grep -q 'log scale' "$T/out/rd-psnr.svg"; then
    pass bench_anchor_in_plot_log_axis
else
    fail bench_anchor_in_plot_log_axis
fi

# -- malformed anchors: one line naming the file, non-zero exit, no coding
bad() { # NAME JSON
    mkdir -p "$T/bad-$1"
    printf '%s\n' "$2" >"$T/bad-$1/x.json"
    "$B" --out "$T/badout" --codecs jpeg --jpeg-q 50 --anchors "$T/bad-$1" "$T/img.png" \
        >/dev/null 2>"$T/baderr"
    rc=$?
    if [ $rc -ne 0 ] && [ "$(wc -l <"$T/baderr")" -eq 1 ] && grep -q "x.json:" "$T/baderr" &&
        [ ! -e "$T/badout" ]; then
        pass "bench_anchor_rejects_$1"
    else
        fail "bench_anchor_rejects_$1" "rc $rc: $(head -n 3 "$T/baderr")"
    fi
}
bad trailing_comma '{"name": "x", "results": {"psnr": [30, 31], "bpp": [0.1, 0.2],}}'
bad no_bpp '{"name": "x", "results": {"psnr": [30, 31]}}'
bad lengths '{"name": "x", "results": {"psnr": [30, 31], "bpp": [0.1]}}'
bad nan '{"name": "x", "results": {"psnr": [NaN, 31], "bpp": [0.1, 0.2]}}'
bad string_value '{"name": "x", "results": {"psnr": ["30", 31], "bpp": [0.1, 0.2]}}'
bad duplicate '{"name": "x", "name": "y", "results": {"psnr": [30], "bpp": [0.1]}}'
bad truncated '{"name": "x", "results": {"psnr": [30'
bad garbage_after '{"name": "x", "results": {"psnr": [30], "bpp": [0.1]}} x'
bad leading_zero '{"name": "x", "results": {"psnr": [030], "bpp": [0.1]}}'
bad bad_escape '{"name": "x\q", "results": {"psnr": [30], "bpp": [0.1]}}'
# a valid file with escapes, unknown keys and CompressAI's "-rgb" spellings
mkdir -p "$T/good"
printf '%s\n' '{"name": "a \"q\" \u00e9\ud83d\ude00", "extra": [1, {"k": null}], "results":
 {"psnr-rgb": [30.5, 32e0], "ms-ssim-rgb": [0.9, 0.95], "bpp": [0.25, 0.5], "other": [true]}}' \
    >"$T/good/g.json"
if "$B" --print-json "$T/good/g.json" >"$T/gp" 2>&1 &&
    grep -q '^name: a "q" é😀$' "$T/gp" && grep -q '^0.5,32,0.94999999999999996,nan,nan$' "$T/gp"; then
    pass bench_anchor_reads_valid_variants
else
    fail bench_anchor_reads_valid_variants "$(head -n 6 "$T/gp")"
fi

# -- re-plot from rows.csv: same curves, no coding
json_array "$T/out/aecodec.json" bpp >"$T/bpp1"
if "$B" --from-csv "$T/out/rows.csv" --out "$T/re" --linear-bpp >/dev/null 2>&1 &&
    [ -s "$T/re/rd-psnr.svg" ] && ! grep -q 'log scale' "$T/re/rd-psnr.svg" &&
    json_array "$T/re/aecodec.json" bpp | paste -d' ' - "$T/bpp1" |
    awk '{ n++; if (($1 - $2) ^ 2 > 1e-10) bad = 1 } END { exit bad || n != 2 }'; then
    pass bench_replot_from_csv
else
    fail bench_replot_from_csv
fi

# -- the default output directory is build/bench under the current
# directory (git-ignored), never bench/results; make bench passes OUT
mkdir -p "$T/cwd"
if (cd "$T/cwd" && "$B" --codecs jpeg --jpeg-q 50 --no-msssim "$T/img.png" >/dev/null 2>&1) &&
    [ -s "$T/cwd/build/bench/rows.csv" ] && [ -s "$T/cwd/build/bench/jpeg.json" ]; then
    pass bench_default_out_is_build
else
    fail bench_default_out_is_build
fi
if env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n -s bench BUILD="$BUILD" CORPUS="$T/img.png" OUT="$T/made" 2>/dev/null |
    grep -q -- "aebench --out $T/made " &&
    env -u MAKEFLAGS -u MFLAGS -u MAKELEVEL make -n -s bench BUILD="$BUILD" CORPUS="$T/img.png" 2>/dev/null |
    grep -q -- "aebench --out $BUILD/bench "; then
    pass bench_make_out
else
    fail bench_make_out
fi
if [ "$(stamp)" = "$before" ]; then
    pass bench_results_untouched
else
    fail bench_results_untouched
fi

# -- the library's rate search on a generated photo-like image: every file
# inside the window (size within 2 % below, PSNR within 0.1 dB above)
"$BUILD"/tests/test_imageio --make-sample "$T/rc.png" 320 240 3 >/dev/null 2>&1
if "$B" --rate-search --strict -t 1 --bpp 0.25,0.5 --psnr 36,38 "$T/rc.png" >"$T/rc" 2>&1 &&
    [ "$(grep -c '| yes |' "$T/rc")" -eq 4 ]; then
    pass bench_rate_search_in_window
else
    sed 's/^/  | /' "$T/rc"
    fail bench_rate_search_in_window
fi
# a target no level reaches: the nearest file, reported outside the window
if "$B" --rate-search -t 1 --bpp 20 --psnr 90 "$T/rc.png" >"$T/rc2" 2>&1 &&
    [ "$(grep -c '| no |' "$T/rc2")" -eq 2 ] &&
    ! "$B" --rate-search --strict -t 1 --psnr 90 "$T/rc.png" >/dev/null 2>&1; then
    pass bench_rate_search_out_of_range
else
    sed 's/^/  | /' "$T/rc2"
    fail bench_rate_search_out_of_range
fi
[ $failed -eq 0 ]
