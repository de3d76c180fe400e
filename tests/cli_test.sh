#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# cli_test.sh - end-to-end tests of aeenc, aedec and aeinfo.
# Usage (from the repository root): sh tests/cli_test.sh BUILD
# Prints "ok NAME" or "FAIL NAME" per case (counted by tests/run_tests.sh)
# and exits non-zero when any case failed.  Sample images come from
# BUILD/tests/test_imageio --make-sample; all files live in a private temp
# directory that is removed at the end.
BUILD=${1:-build}
ENC=$BUILD/aeenc
DEC=$BUILD/aedec
INFO=$BUILD/aeinfo
T=$BUILD/tests/test_imageio
# Small images and one thread (AEC_TEST_THREADS to change): the tests must
# stay light on a shared machine.
TH="-t ${AEC_TEST_THREADS:-1}"

failed=0
pass() { echo "ok $1"; }
fail() {
    echo "FAIL $1${2:+: $2}"
    failed=$((failed + 1))
    # show what the tool said, indented so it is never counted as a result
    if [ -s "$tmp/err" ]; then sed 's/^/  | /' "$tmp/err" | head -n 20; fi
}

for prog in "$ENC" "$DEC" "$INFO" "$T"; do
    if [ ! -x "$prog" ]; then
        echo "FAIL cli_test_setup: $prog not built"
        exit 1
    fi
done

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_cli.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'rm -rf "$tmp"; exit 1' INT TERM
: >"$tmp/err"

# lines FILE: number of lines in FILE
lines() { wc -l <"$1" | tr -d ' '; }

# temp_left DIR: true when a temp file of the atomic writer is left in DIR
temp_left() { ls -a "$1" 2>/dev/null | grep -q '\.tmp'; }

# run CMD...: runs CMD with stderr in $tmp/err, sets $rc
run() {
    "$@" 2>"$tmp/err"
    rc=$?
}

# expect_fail NAME WANT_RC OUTFILE CMD...: CMD must fail with status WANT_RC
# (any non-zero status if WANT_RC is empty), print exactly one line on stderr
# and leave neither OUTFILE nor a temp file behind.
expect_fail() {
    name=$1 want=$2 out=$3
    shift 3
    [ "$out" != "-" ] && rm -f "$out"
    "$@" >"$tmp/stdout" 2>"$tmp/err"
    rc=$?
    n=$(lines "$tmp/err")
    if [ $rc -eq 0 ]; then
        fail "$name" "exit status 0"
    elif [ -n "$want" ] && [ $rc -ne "$want" ]; then
        fail "$name" "exit status $rc, wanted $want"
    elif [ "$n" != 1 ]; then
        fail "$name" "$n lines on stderr, wanted 1"
    elif [ "$out" != "-" ] && [ -e "$out" ]; then
        fail "$name" "output file left behind"
    elif temp_left "$tmp" || { [ "$out" != "-" ] && temp_left "$(dirname "$out")"; }; then
        fail "$name" "temp file left behind"
    else
        pass "$name"
    fi
}

# size_is NAME FILE "W H C": image FILE has this size and channel count
size_is() {
    got=$("$T" --info "$2" 2>"$tmp/err")
    if [ "$got" = "$3" ]; then pass "$1"; else fail "$1" "got '$got', wanted '$3'"; fi
}

# ---- samples --------------------------------------------------------------
"$T" --make-sample "$tmp/rgb.ppm" 67 45 3 &&
    "$T" --make-sample "$tmp/grey.pgm" 33 21 1 &&
    "$T" --make-sample "$tmp/rgba.png" 40 30 4 &&
    "$T" --make-sample "$tmp/ga.png" 35 19 2 || {
    echo "FAIL cli_test_samples"
    exit 1
}
printf 'this is not an image or a codec file\n' >"$tmp/garbage.png"
cp "$tmp/garbage.png" "$tmp/garbage.aec"

# ---- round trips ----------------------------------------------------------
run "$ENC" $TH "$tmp/rgb.ppm" "$tmp/rgb.aec"
if [ $rc -eq 0 ] && [ -s "$tmp/rgb.aec" ]; then pass encode_rgb_odd_size; else fail encode_rgb_odd_size "exit status $rc"; fi

run "$DEC" $TH "$tmp/rgb.aec" "$tmp/rgb_out.png"
if [ $rc -eq 0 ]; then pass decode_rgb_odd_size; else fail decode_rgb_odd_size "exit status $rc"; fi
size_is decode_rgb_size "$tmp/rgb_out.png" "67 45 3"
psnr=$("$T" --psnr "$tmp/rgb.ppm" "$tmp/rgb_out.png" 2>/dev/null)
echo "# rgb round trip: $(wc -c <"$tmp/rgb.aec" | tr -d ' ') bytes, PSNR ${psnr:-?} dB"
# Lenient: catches garbage output or swapped channels, not model quality.
if [ -n "$psnr" ] && awk "BEGIN { exit !($psnr >= 15) }"; then
    pass decode_rgb_psnr_above_15db
else
    fail decode_rgb_psnr_above_15db "PSNR ${psnr:-?}"
fi

run "$DEC" $TH "$tmp/rgb.aec" "$tmp/rgb_out.ppm"
size_is decode_rgb_to_ppm "$tmp/rgb_out.ppm" "67 45 3"

run "$ENC" $TH "$tmp/grey.pgm" "$tmp/grey.aec" &&
    run "$DEC" $TH "$tmp/grey.aec" "$tmp/grey_out.pgm"
size_is grey_stays_grey_pgm "$tmp/grey_out.pgm" "33 21 1"
run "$DEC" $TH "$tmp/grey.aec" "$tmp/grey_out.png"
size_is grey_stays_grey_png "$tmp/grey_out.png" "33 21 1"

run "$ENC" $TH "$tmp/rgba.png" "$tmp/rgba.aec" &&
    run "$DEC" $TH "$tmp/rgba.aec" "$tmp/rgba_out.png"
size_is rgba_roundtrip_size "$tmp/rgba_out.png" "40 30 4"
if "$T" --alpha-equal "$tmp/rgba.png" "$tmp/rgba_out.png" 2>"$tmp/err"; then
    pass rgba_alpha_exact
else
    fail rgba_alpha_exact
fi

run "$ENC" $TH "$tmp/ga.png" "$tmp/ga.aec" &&
    run "$DEC" $TH "$tmp/ga.aec" "$tmp/ga_out.png"
size_is grey_alpha_roundtrip_size "$tmp/ga_out.png" "35 19 2"
if "$T" --alpha-equal "$tmp/ga.png" "$tmp/ga_out.png" 2>"$tmp/err"; then
    pass grey_alpha_exact
else
    fail grey_alpha_exact
fi

# .ppm of an RGBA image: alpha dropped with a warning; .pgm of colour: error
run "$DEC" $TH "$tmp/rgba.aec" "$tmp/rgba_out.ppm"
if [ $rc -eq 0 ] && grep -q 'warning' "$tmp/err"; then pass ppm_drops_alpha_with_warning; else fail ppm_drops_alpha_with_warning "exit status $rc"; fi
size_is ppm_drops_alpha_size "$tmp/rgba_out.ppm" "40 30 3"
expect_fail pgm_of_colour_refused 1 "$tmp/rgb_out.pgm" "$DEC" $TH "$tmp/rgb.aec" "$tmp/rgb_out.pgm"

# --png-level: zlib's full matching instead of the default's runs; the same
# pixels either way (and as the PPM's), a level outside 0..9 a usage error
"$DEC" $TH "$tmp/rgb.aec" "$tmp/lvl_default.png" 2>"$tmp/err" &&
    "$DEC" $TH --png-level 9 "$tmp/rgb.aec" "$tmp/lvl9.png" 2>>"$tmp/err" &&
    "$DEC" $TH "$tmp/rgb.aec" "$tmp/lvl.ppm" 2>>"$tmp/err"
rc=$?
same9=$("$T" --psnr "$tmp/lvl_default.png" "$tmp/lvl9.png" 2>>"$tmp/err")
same_ppm=$("$T" --psnr "$tmp/lvl_default.png" "$tmp/lvl.ppm" 2>>"$tmp/err")
if [ $rc -eq 0 ] && [ "$same9" = "99.00" ] && [ "$same_ppm" = "99.00" ]; then
    pass png_level_same_pixels
else
    fail png_level_same_pixels "exit status $rc, PSNR '$same9' / '$same_ppm'"
fi
expect_fail png_level_out_of_range 2 "$tmp/lvl10.png" "$DEC" --png-level 10 "$tmp/rgb.aec" "$tmp/lvl10.png"

# --effort refines the latents through the decoder: a file any decoder
# reads, at least as close to the picture; out of range is a usage error.
run "$ENC" $TH --effort 1 "$tmp/rgb.ppm" "$tmp/eff.aec"
run "$DEC" $TH "$tmp/eff.aec" "$tmp/eff.png"
eff=$("$T" --psnr "$tmp/rgb.ppm" "$tmp/eff.png" 2>/dev/null)
if [ $rc -eq 0 ] && awk "BEGIN { exit !($eff >= $psnr - 0.05) }"; then
    pass effort_decodes
else
    fail effort_decodes "exit status $rc, $eff dB against $psnr at effort 0"
fi
expect_fail effort_out_of_range 2 "$tmp/eff4.aec" "$ENC" --effort 4 "$tmp/rgb.ppm" "$tmp/eff4.aec"
expect_fail effort_not_with_latents 2 "$tmp/effl.aec" "$ENC" --effort 1 --latents "$tmp/effl.npy" \
    "$tmp/rgb.ppm" "$tmp/effl.aec"

# ---- pipes ----------------------------------------------------------------
"$ENC" $TH - - <"$tmp/rgb.ppm" 2>"$tmp/err" | "$DEC" $TH - - >"$tmp/pipe.png" 2>>"$tmp/err"
size_is stdin_stdout_pipes "$tmp/pipe.png" "67 45 3"
"$ENC" $TH - "$tmp/pipe.aec" <"$tmp/rgb.ppm" 2>"$tmp/err"
if cmp -s "$tmp/pipe.aec" "$tmp/rgb.aec"; then pass encode_stdin_same_as_file; else fail encode_stdin_same_as_file; fi
run "$INFO" - <"$tmp/rgb.aec" >"$tmp/info_stdin.txt"
if [ $rc -eq 0 ] && grep -q '67x45' "$tmp/info_stdin.txt"; then pass aeinfo_stdin; else fail aeinfo_stdin "exit status $rc"; fi

# ---- options --------------------------------------------------------------
run "$DEC" $TH --stages 1 "$tmp/rgb.aec" "$tmp/s1.png"
if [ $rc -eq 0 ]; then pass decode_stages_1; else fail decode_stages_1 "exit status $rc"; fi
size_is decode_stages_1_size "$tmp/s1.png" "67 45 3"

run "$DEC" $TH --region 10,5,30,20 "$tmp/rgb.aec" "$tmp/region.png"
size_is decode_region_size "$tmp/region.png" "30 20 3"
run "$DEC" $TH --region=0,0,67,45 "$tmp/rgb.aec" "$tmp/region_full.png"
size_is decode_region_whole_image "$tmp/region_full.png" "67 45 3"

run "$ENC" $TH -q 1 "$tmp/rgb.ppm" "$tmp/q1.aec"
q1=$(wc -c <"$tmp/q1.aec" 2>/dev/null | tr -d ' ')
qd=$(wc -c <"$tmp/rgb.aec" | tr -d ' ')
if [ $rc -eq 0 ] && [ "${q1:-0}" -gt 0 ] && [ "$q1" -le "$qd" ]; then
    pass encode_quality_1_smaller
else
    fail encode_quality_1_smaller "q1 $q1 bytes, default $qd bytes"
fi

run "$ENC" $TH -v --tile 64 "$tmp/rgb.ppm" "$tmp/tile64.aec"
if [ $rc -eq 0 ] && grep -q 'bpp' "$tmp/err" && [ "$(lines "$tmp/err")" = 1 ]; then pass encode_verbose_tile64; else fail encode_verbose_tile64 "exit status $rc"; fi

run "$INFO" "$tmp/rgb.aec" >"$tmp/info.txt"
if [ $rc -eq 0 ] && grep -q '67x45' "$tmp/info.txt" && grep -q 'RGB' "$tmp/info.txt"; then
    pass aeinfo_prints_size
else
    fail aeinfo_prints_size "exit status $rc"
fi
if grep -q 'built-in' "$tmp/info.txt"; then pass aeinfo_builtin_model; else fail aeinfo_builtin_model; fi

for prog in "$ENC" "$DEC" "$INFO"; do
    name=$(basename "$prog")
    run "$prog" --help >"$tmp/stdout"
    if [ $rc -eq 0 ] && grep -q 'Usage' "$tmp/stdout"; then pass "${name}_help"; else fail "${name}_help" "exit status $rc"; fi
    run "$prog" --version >"$tmp/stdout"
    if [ $rc -eq 0 ] && grep -q 'aecodec' "$tmp/stdout" && grep -q 'model' "$tmp/stdout"; then
        pass "${name}_version"
    else
        fail "${name}_version" "exit status $rc"
    fi
done

# an existing output file is replaced
printf 'old' >"$tmp/replace.aec"
run "$ENC" $TH "$tmp/grey.pgm" "$tmp/replace.aec"
if [ $rc -eq 0 ] && cmp -s "$tmp/replace.aec" "$tmp/grey.aec"; then pass encode_replaces_output; else fail encode_replaces_output "exit status $rc"; fi

# ---- decoding in bands -------------------------------------------------------
# aedec decodes bands of whole tile rows and writes each as it comes; the
# files must be byte for byte what one whole-image aec_decode call and
# aeio_write give (test_imageio --decode-whole).  300x200 in 64-pixel tiles
# is 4 bands, the last one partial.
"$T" --make-sample "$tmp/band.ppm" 300 200 3 &&
    "$T" --make-sample "$tmp/bandg.pgm" 300 200 1 &&
    "$T" --make-sample "$tmp/banda.png" 300 200 4 || fail band_samples
for src in band.ppm bandg.pgm banda.png; do
    "$ENC" $TH --tile 64 "$tmp/$src" "$tmp/${src%.*}.aec" 2>"$tmp/err" || fail "band_encode_$src"
done
# same_as_whole NAME AEC OUT [REGION] [DECODER OPTIONS...]
same_as_whole() {
    name=$1 aec=$2 out=$3 region=$4
    shift 4
    rm -f "$tmp/$out" "$tmp/ref_$out"
    "$T" --decode-whole "$tmp/$aec" "$tmp/ref_$out" $region 2>"$tmp/err" &&
        "$DEC" "$@" ${region:+--region "$region"} "$tmp/$aec" "$tmp/$out" 2>>"$tmp/err"
    rc=$?
    if [ $rc -eq 0 ] && cmp -s "$tmp/$out" "$tmp/ref_$out"; then pass "$name"; else fail "$name" "exit status $rc or bytes differ"; fi
}
same_as_whole bands_rgb_png band.aec b.png "" $TH
same_as_whole bands_rgb_ppm band.aec b.ppm "" $TH
same_as_whole bands_rgb_pam band.aec b.pam "" $TH
same_as_whole bands_grey_pgm bandg.aec bg.pgm "" $TH
same_as_whole bands_grey_png bandg.aec bg.png "" $TH
same_as_whole bands_rgba_png banda.aec ba.png "" $TH
same_as_whole bands_rgba_pam banda.aec ba.pam "" $TH
same_as_whole bands_region band.aec br.png 37,50,201,131 $TH
same_as_whole bands_region_in_one_tile_row band.aec br1.png 5,130,290,40 $TH
# 6 threads on a region 5 tiles wide: bands of two tile rows
same_as_whole bands_of_two_tile_rows band.aec b6.png "" -t 6
"$DEC" $TH "$tmp/band.aec" - >"$tmp/bs.png" 2>"$tmp/err"
if cmp -s "$tmp/bs.png" "$tmp/b.png"; then pass bands_to_stdout; else fail bands_to_stdout; fi
# The default PNG level filters and compresses on the -t threads, in chunks
# of rows that straddle the bands here: the same file for any count.
"$DEC" -t 1 "$tmp/band.aec" "$tmp/t1.png" 2>"$tmp/err" &&
    "$DEC" -t 2 "$tmp/band.aec" "$tmp/t2.png" 2>>"$tmp/err" &&
    "$DEC" -t 3 "$tmp/band.aec" "$tmp/t3.png" 2>>"$tmp/err"
rc=$?
if [ $rc -eq 0 ] && cmp -s "$tmp/t1.png" "$tmp/t2.png" && cmp -s "$tmp/t1.png" "$tmp/t3.png"; then
    pass png_same_for_any_threads
else
    fail png_same_for_any_threads "exit status $rc or bytes differ"
fi

# A damaged last tile: the decoder fails in the last bands, after the first
# ones were written.  The output must not exist (nor a temp file), and an
# existing output must stay as it was.  (Its stdout, which cannot be taken
# back, shows that earlier bands were written before the failure.)
# flip_last_byte SRC DST: DST is SRC with the bits of its last byte
# flipped; that byte belongs to the last stream (the last tile's).
flip_last_byte() {
    size=$(wc -c <"$1" | tr -d ' ')
    cp "$1" "$2"
    last=$(tail -c 1 "$1" | od -An -tu1 | tr -d ' ')
    printf "\\$(printf %03o $((255 - last)))" | dd of="$2" bs=1 seek=$((size - 1)) conv=notrunc 2>/dev/null
    cmp -s "$1" "$2" && fail "flip_last_byte_$(basename "$2")"
}
# (Without the restoration filter, whose stream would come last and be
# read before any band.)
"$ENC" $TH --tile 64 --filter off "$tmp/band.ppm" "$tmp/band_nf.aec" 2>"$tmp/err" ||
    fail band_encode_no_filter
flip_last_byte "$tmp/band_nf.aec" "$tmp/badtail.aec"
expect_fail bands_fail_mid_stream_no_output 1 "$tmp/bt.png" "$DEC" $TH "$tmp/badtail.aec" "$tmp/bt.png"
expect_fail bands_fail_mid_stream_no_output_ppm 1 "$tmp/bt.ppm" "$DEC" $TH "$tmp/badtail.aec" "$tmp/bt.ppm"
printf 'old' >"$tmp/keep.png"
run "$DEC" $TH "$tmp/badtail.aec" "$tmp/keep.png"
if [ $rc -eq 1 ] && [ "$(cat "$tmp/keep.png")" = old ] && ! temp_left "$tmp"; then
    pass bands_fail_mid_stream_keeps_old_file
else
    fail bands_fail_mid_stream_keeps_old_file "exit status $rc"
fi
"$DEC" $TH "$tmp/badtail.aec" - >"$tmp/partial.png" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ -s "$tmp/partial.png" ]; then pass bands_fail_after_first_bands; else fail bands_fail_after_first_bands "exit status $rc"; fi

# A file of one tile has no first pass: its streams are checked as the
# decoder loads them, before any pixel (decode_job.verify_in_render).  A
# damaged stream must still fail with nothing written, not even to stdout.
"$T" --make-sample "$tmp/one.ppm" 96 64 3 || fail one_tile_sample
"$ENC" $TH -q 7 "$tmp/one.ppm" "$tmp/one.aec" 2>"$tmp/err" || fail one_tile_encode
flip_last_byte "$tmp/one.aec" "$tmp/onebad.aec"
expect_fail one_tile_damaged_no_output 1 "$tmp/ob.ppm" "$DEC" $TH "$tmp/onebad.aec" "$tmp/ob.ppm"
"$DEC" $TH "$tmp/onebad.aec" - >"$tmp/ob_stdout.png" 2>"$tmp/err"
rc=$?
if [ $rc -eq 1 ] && [ ! -s "$tmp/ob_stdout.png" ] && grep -q . "$tmp/err"; then
    pass one_tile_damaged_nothing_to_stdout
else
    fail one_tile_damaged_nothing_to_stdout "exit status $rc"
fi
"$DEC" $TH "$tmp/one.aec" "$tmp/ok.ppm" 2>"$tmp/err" && pass one_tile_undamaged_decodes || fail one_tile_undamaged_decodes

# ---- batch conversion: several inputs into -o DIR --------------------------
# Outputs are DIR/NAME.aec (.png etc. for aedec); a bad file is reported
# (one line) and the others still converted; exit 1 when any failed; the
# same output for two inputs is a failure of the second, never an overwrite;
# -n skips outputs that exist, without it they are replaced.
mkdir -p "$tmp/bin/sub"
cp "$tmp/rgb.ppm" "$tmp/bin/one.ppm"
cp "$tmp/grey.pgm" "$tmp/bin/two.pgm"
cp "$tmp/rgba.png" "$tmp/bin/sub/one.png"
cp "$tmp/garbage.png" "$tmp/bin/bad.png"
run "$ENC" $TH -o "$tmp/bout" "$tmp/bin/one.ppm" "$tmp/bin/bad.png" "$tmp/bin/two.pgm"
if [ $rc -eq 1 ] && [ "$(lines "$tmp/err")" = 2 ] && grep -q 'bad.png' "$tmp/err" &&
    grep -q '1 of 3 files failed' "$tmp/err" && cmp -s "$tmp/bout/one.aec" "$tmp/rgb.aec" &&
    cmp -s "$tmp/bout/two.aec" "$tmp/grey.aec" && [ ! -e "$tmp/bout/bad.aec" ] && ! temp_left "$tmp/bout"; then
    pass batch_encode_goes_on_after_a_failure
else
    fail batch_encode_goes_on_after_a_failure "exit status $rc"
fi
run "$ENC" $TH -o "$tmp/bout" "$tmp/bin/one.ppm" "$tmp/bin/two.pgm"
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ]; then pass batch_encode_all_ok_exit_0; else fail batch_encode_all_ok_exit_0 "exit status $rc"; fi
run "$ENC" $TH -o "$tmp/bdup" "$tmp/bin/one.ppm" "$tmp/bin/sub/one.png"
if [ $rc -eq 1 ] && grep -q 'sub/one.png' "$tmp/err" && cmp -s "$tmp/bdup/one.aec" "$tmp/rgb.aec"; then
    pass batch_same_output_name_fails_second
else
    fail batch_same_output_name_fails_second "exit status $rc"
fi
printf 'old' >"$tmp/bout/two.aec"
run "$ENC" $TH -n -v -o "$tmp/bout" "$tmp/bin/two.pgm"
if [ $rc -eq 0 ] && [ "$(cat "$tmp/bout/two.aec")" = old ] && grep -q skipped "$tmp/err"; then
    pass batch_no_clobber_skips
else
    fail batch_no_clobber_skips "exit status $rc"
fi
run "$ENC" $TH -o "$tmp/bout" "$tmp/bin/two.pgm"
if [ $rc -eq 0 ] && cmp -s "$tmp/bout/two.aec" "$tmp/grey.aec"; then pass batch_replaces_by_default; else fail batch_replaces_by_default "exit status $rc"; fi
printf 'old' >"$tmp/keep.aec"
run "$ENC" $TH -n "$tmp/grey.pgm" "$tmp/keep.aec"
if [ $rc -eq 0 ] && [ "$(cat "$tmp/keep.aec")" = old ]; then pass no_clobber_single_file; else fail no_clobber_single_file "exit status $rc"; fi

cp "$tmp/garbage.aec" "$tmp/bout/bad.aec"
run "$DEC" $TH -o "$tmp/bdec" "$tmp/bout/one.aec" "$tmp/bout/bad.aec" "$tmp/bout/two.aec"
if [ $rc -eq 1 ] && [ "$(lines "$tmp/err")" = 2 ] && grep -q '1 of 3 files failed' "$tmp/err" &&
    [ ! -e "$tmp/bdec/bad.png" ] && ! temp_left "$tmp/bdec"; then
    pass batch_decode_goes_on_after_a_failure
else
    fail batch_decode_goes_on_after_a_failure "exit status $rc"
fi
size_is batch_decode_png "$tmp/bdec/one.png" "67 45 3"
size_is batch_decode_grey_png "$tmp/bdec/two.png" "33 21 1"
run "$DEC" $TH --format pgm -o "$tmp/bdec" "$tmp/bout/two.aec"
size_is batch_decode_format_pgm "$tmp/bdec/two.pgm" "33 21 1"
expect_fail batch_decode_bad_format 2 - "$DEC" --format bmp -o "$tmp/bdec" "$tmp/bout/two.aec"
expect_fail batch_stdin_refused 2 - "$ENC" -o "$tmp/bout" -
expect_fail batch_no_inputs 2 - "$ENC" -o "$tmp/bout"
expect_fail several_inputs_need_o 2 - "$ENC" "$tmp/rgb.ppm" "$tmp/grey.pgm" "$tmp/x.aec"
expect_fail batch_dir_is_a_file 1 - "$ENC" $TH -o "$tmp/rgb.ppm" "$tmp/grey.pgm"

# ---- errors: one line on stderr, non-zero exit, no output ------------------
expect_fail encode_missing_input 1 "$tmp/o.aec" "$ENC" $TH "$tmp/nonexistent.png" "$tmp/o.aec"
expect_fail encode_garbage_input 1 "$tmp/o.aec" "$ENC" $TH "$tmp/garbage.png" "$tmp/o.aec"
head -c 100 "$tmp/rgba.png" >"$tmp/trunc.png"
expect_fail encode_truncated_png 1 "$tmp/o.aec" "$ENC" $TH "$tmp/trunc.png" "$tmp/o.aec"
expect_fail encode_empty_stdin 1 - sh -c "\"$ENC\" $TH - - </dev/null"
expect_fail encode_unknown_option 2 "$tmp/o.aec" "$ENC" --bogus "$tmp/rgb.ppm" "$tmp/o.aec"
expect_fail encode_bad_quality 2 "$tmp/o.aec" "$ENC" -q 99 "$tmp/rgb.ppm" "$tmp/o.aec"
expect_fail encode_bad_tile 2 "$tmp/o.aec" "$ENC" --tile 100 "$tmp/rgb.ppm" "$tmp/o.aec"
expect_fail encode_missing_output_arg 2 "$tmp/o.aec" "$ENC" "$tmp/rgb.ppm"
expect_fail encode_max_pixels 1 "$tmp/o.aec" "$ENC" $TH --max-pixels 100 "$tmp/rgb.ppm" "$tmp/o.aec"

expect_fail decode_missing_input 1 "$tmp/o.png" "$DEC" $TH "$tmp/nonexistent.aec" "$tmp/o.png"
expect_fail decode_garbage_input 1 "$tmp/o.png" "$DEC" $TH "$tmp/garbage.aec" "$tmp/o.png"
head -c 16 "$tmp/rgb.aec" >"$tmp/trunc16.aec"
expect_fail decode_truncated_header 1 "$tmp/o.png" "$DEC" $TH "$tmp/trunc16.aec" "$tmp/o.png"
: >"$tmp/empty.aec"
expect_fail decode_empty_file 1 "$tmp/o.png" "$DEC" $TH "$tmp/empty.aec" "$tmp/o.png"
cp "$tmp/rgb.aec" "$tmp/magic.aec"
printf 'X' | dd of="$tmp/magic.aec" bs=1 seek=0 conv=notrunc 2>/dev/null
expect_fail decode_wrong_magic 1 "$tmp/o.png" "$DEC" $TH "$tmp/magic.aec" "$tmp/o.png"
expect_fail decode_unknown_extension 2 "$tmp/o.bmp" "$DEC" $TH "$tmp/rgb.aec" "$tmp/o.bmp"
expect_fail decode_bad_region 2 "$tmp/o.png" "$DEC" --region 1,2,3 "$tmp/rgb.aec" "$tmp/o.png"
expect_fail decode_bad_stages 2 "$tmp/o.png" "$DEC" --stages 0 "$tmp/rgb.aec" "$tmp/o.png"
expect_fail decode_max_pixels 1 "$tmp/o.png" "$DEC" $TH --max-pixels 100 "$tmp/rgb.aec" "$tmp/o.png"
expect_fail aeinfo_garbage 1 - "$INFO" "$tmp/garbage.aec"

# A lattice file cut after its third layer (spec/bitstream.md 6.9) decodes,
# with one line of warning saying what it held, to the pixels of --stages 3
last=$("$INFO" "$tmp/rgb.aec" | sed -n 's/^  layer 4: .*, \([0-9]*\) bytes, .*/\1/p')
total=$(wc -c <"$tmp/rgb.aec")
head -c $((total - ${last:-0})) "$tmp/rgb.aec" >"$tmp/cut3.aec"
run "$DEC" $TH "$tmp/cut3.aec" "$tmp/cut3.ppm"
if [ -n "$last" ] && [ $rc -eq 0 ] && [ "$(lines "$tmp/err")" = 1 ] &&
    grep -q 'decoded with 3 of its 4 lattice layers' "$tmp/err"; then
    pass decode_cut_after_layer_warns
else
    fail decode_cut_after_layer_warns "exit status $rc, layer 4 of '${last}' bytes"
fi
run "$DEC" $TH --stages 3 "$tmp/rgb.aec" "$tmp/stages3.ppm"
if [ $rc -eq 0 ] && [ ! -s "$tmp/err" ] && cmp -s "$tmp/cut3.ppm" "$tmp/stages3.ppm"; then
    pass decode_cut_equals_stages
else
    fail decode_cut_equals_stages "exit status $rc"
fi
expect_fail aeinfo_missing 1 - "$INFO" "$tmp/nonexistent.aec"
expect_fail aeinfo_wrong_magic 1 - "$INFO" "$tmp/magic.aec"

# A file cut in the middle of the coded data: it may decode the stages that
# are complete, or fail - but cleanly: one line, no output on failure.
size=$(wc -c <"$tmp/rgb.aec" | tr -d ' ')
head -c $((size / 2)) "$tmp/rgb.aec" >"$tmp/half.aec"
rm -f "$tmp/half.png"
"$DEC" $TH "$tmp/half.aec" "$tmp/half.png" 2>"$tmp/err"
rc=$?
if [ $rc -eq 0 ] && [ -s "$tmp/half.png" ]; then
    pass decode_half_file_clean
elif [ $rc -ne 0 ] && [ "$(lines "$tmp/err")" = 1 ] && [ ! -e "$tmp/half.png" ] && ! temp_left "$tmp"; then
    pass decode_half_file_clean
else
    fail decode_half_file_clean "exit status $rc"
fi

# Outputs into and onto directories
mkdir "$tmp/outdir" "$tmp/outdir.png"
expect_fail decode_onto_directory "" - "$DEC" $TH "$tmp/rgb.aec" "$tmp/outdir"
expect_fail decode_onto_directory_png 1 - "$DEC" $TH "$tmp/rgb.aec" "$tmp/outdir.png"
if [ -d "$tmp/outdir.png" ] && [ -z "$(ls -a "$tmp/outdir.png" | grep -v '^\.\.\?$')" ] && ! temp_left "$tmp"; then
    pass decode_onto_directory_no_temp
else
    fail decode_onto_directory_no_temp
fi
expect_fail decode_failing_into_directory 1 "$tmp/outdir/x.png" "$DEC" $TH "$tmp/trunc16.aec" "$tmp/outdir/x.png"
expect_fail decode_into_missing_directory 1 "$tmp/nodir/x.png" "$DEC" $TH "$tmp/rgb.aec" "$tmp/nodir/x.png"
expect_fail encode_onto_directory 1 - "$ENC" $TH "$tmp/rgb.ppm" "$tmp/outdir"
if [ -z "$(ls -a "$tmp/outdir" | grep -v '^\.\.\?$')" ]; then pass outdir_still_empty; else fail outdir_still_empty; fi

# A file coded with a model's 32-bit file that the library does not embed:
# the master of a built-in model (models/default.aem, embedded in 16 bits
# as another model; files of 0.5.0) and a model that left the built-in list
# (models/high.aem, RETIRED_MODELS in models/builtin.mk).  The default
# decoder names the file to load, and decodes with that file loaded.
for kind in 'default:master:aecodec 0.5.0' 'high:retired:no longer builds in'; do
    model=models/${kind%%:*}.aem rest=${kind#*:}
    what=${rest%%:*} says=${rest#*:}
    if "$ENC" $TH --model $model -q 1 "$tmp/rgb.ppm" "$tmp/$what.aec" 2>"$tmp/err"; then
        expect_fail decode_${what}_coded 1 "$tmp/$what.png" "$DEC" $TH "$tmp/$what.aec" "$tmp/$what.png"
        if grep -q -- "--model $model" "$tmp/err" && grep -q "$says" "$tmp/err"; then
            pass decode_${what}_named
        else
            fail decode_${what}_named
        fi
        if "$DEC" $TH --model $model "$tmp/$what.aec" "$tmp/$what.png" 2>"$tmp/err"; then
            pass decode_${what}_with_model
        else
            fail decode_${what}_with_model
        fi
    else
        fail encode_with_${what}_model
    fi
done
# --lattice-only: a model of the caller's codes the lattice alone, as the
# built-in lattice levels do (0 VQ stages); the built-in level 7 already
# does, so the flag changes none of its bytes; without a step it is refused.
if "$ENC" $TH --model models/high-v4.aem -q 1 --lattice-only --lattice 0.46 "$tmp/rgb.ppm" \
        "$tmp/lonly.aec" 2>"$tmp/err" &&
   "$INFO" "$tmp/lonly.aec" | grep -q '^stages: *0 coded' &&
   "$INFO" "$tmp/lonly.aec" | grep -q '^lattice: *step 0.46' &&
   "$DEC" $TH --model models/high-v4.aem "$tmp/lonly.aec" "$tmp/lonly.png" 2>"$tmp/err" &&
   "$ENC" $TH -q 7 "$tmp/rgb.ppm" "$tmp/l7.aec" && "$ENC" $TH -q 7 --lattice-only "$tmp/rgb.ppm" "$tmp/l7o.aec" &&
   cmp -s "$tmp/l7.aec" "$tmp/l7o.aec"; then
    pass encode_lattice_only
else
    fail encode_lattice_only
fi
expect_fail encode_lattice_only_needs_step 1 "$tmp/x.aec" "$ENC" $TH --model models/high-v4.aem -q 1 \
    --lattice-only "$tmp/rgb.ppm" "$tmp/x.aec"

[ $failed -eq 0 ]
