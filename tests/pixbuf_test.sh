#!/bin/sh
# pixbuf_test.sh - the gdk-pixbuf loader (contrib/gdk-pixbuf/) without
# installing it: GDK_PIXBUF_MODULE_FILE names BUILD/pixbuf/loaders.cache.
# A file fed in chunks decodes to aedec's pixels; gdk-pixbuf-thumbnailer
# and a loader asked for a size make images of that size (through the
# library's scaled decode); a slow stream shows a progressive preview;
# truncated and random files give an error, not a crash.  Skipped where gdk-pixbuf-2.0 is not installed.
# Usage: sh tests/pixbuf_test.sh BUILD.  Prints "ok NAME" / "FAIL NAME".
BUILD=${1:-build}
if [ ! -f "$BUILD/pixbuf/loaders.cache" ] || [ ! -x "$BUILD/tests/pixbuf_load" ]; then
    echo "SKIP pixbuf_test: loader not built (gdk-pixbuf-2.0 not installed: libgdk-pixbuf-2.0-dev; or a sanitizer build, mk/viewer.mk)"
    exit 0
fi
GDK_PIXBUF_MODULE_FILE=$(cd "$BUILD/pixbuf" && pwd)/loaders.cache
export GDK_PIXBUF_MODULE_FILE
LOAD=$BUILD/tests/pixbuf_load
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_pixbuf.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
failed=0
result() { if [ "$2" = 0 ]; then echo "ok $1"; else echo "FAIL $1"; failed=1; fi; }

"$BUILD/tests/test_imageio" --make-sample "$tmp/in.ppm" 203 77 3
"$BUILD/aeenc" -t 1 -q 5 "$tmp/in.ppm" "$tmp/x.aec" && "$BUILD/aedec" -t 1 "$tmp/x.aec" "$tmp/ref.ppm"
"$LOAD" "$tmp/x.aec" "$tmp/pb.ppm" 1000 && cmp -s "$tmp/pb.ppm" "$tmp/ref.ppm"
result pixbuf_chunked_equals_aedec $?
"$LOAD" "$tmp/x.aec" "$tmp/pb1.ppm" 1 && cmp -s "$tmp/pb1.ppm" "$tmp/ref.ppm"
result pixbuf_byte_by_byte_equals_aedec $?

# grey with alpha: grey widened to RGB, alpha kept (an RGBA pixbuf)
"$BUILD/tests/test_imageio" --make-sample "$tmp/ga.png" 40 30 2 2>/dev/null &&
    "$BUILD/aeenc" -t 1 "$tmp/ga.png" "$tmp/ga.aec" && "$BUILD/aedec" -t 1 "$tmp/ga.aec" "$tmp/ga.ppm" 2>/dev/null
if [ -s "$tmp/ga.aec" ]; then
    "$LOAD" "$tmp/ga.aec" "$tmp/gapb.ppm" 4096 && [ -s "$tmp/gapb.ppm" ]
    result pixbuf_grey_alpha_loads $?
fi

# the thumbnailer sniffs the type through shared-mime-info: a private
# MIME database holding only contrib/gdk-pixbuf/aecodec-mime.xml
case $BUILD in *asan*) thumb=no ;; *) thumb=yes ;; esac # a sanitizer loader cannot load into it
if [ $thumb = yes ] && command -v gdk-pixbuf-thumbnailer >/dev/null 2>&1 && command -v update-mime-database >/dev/null 2>&1; then
    mkdir -p "$tmp/share/mime/packages"
    cp contrib/gdk-pixbuf/aecodec-mime.xml "$tmp/share/mime/packages/aecodec.xml"
    update-mime-database "$tmp/share/mime" 2>/dev/null
    XDG_DATA_HOME=$tmp/share
    export XDG_DATA_HOME
    gdk-pixbuf-thumbnailer -s 128 "$tmp/x.aec" "$tmp/thumb.png" &&
        "$BUILD/tests/test_imageio" --info "$tmp/thumb.png" >"$tmp/info"
    # 203 x 77 scaled to fit 128: 128 x 49 (rounded)
    grep -q '^128 4[89]' "$tmp/info"
    result pixbuf_thumbnailer_128 $?
    # the size alone (the loader stops after the header, without a warning)
    "$LOAD" --info "$tmp/x.aec" >"$tmp/info" 2>"$tmp/err" && grep -q '^aecodec 203 77$' "$tmp/info" && ! [ -s "$tmp/err" ]
    result pixbuf_file_info $?
else
    echo "SKIP pixbuf_thumbnailer_128: sanitizer build, or gdk-pixbuf-thumbnailer / update-mime-database missing"
fi

# a size asked for (as a thumbnailer asks): the loader decodes at 1/4 (the
# largest reduction that still covers 300 x 112) and GdkPixbufLoader
# scales the rest
"$BUILD/tests/test_imageio" --make-sample "$tmp/big.ppm" 1030 385 3
"$BUILD/aeenc" -t 1 -q 3 "$tmp/big.ppm" "$tmp/big.aec" &&
    "$LOAD" "$tmp/big.aec" "$tmp/small.ppm" 4096 0 300x112 && head -c 15 "$tmp/small.ppm" | grep -q '^300 112$'
result pixbuf_asked_size $?

# a slow stream of a level-2 file (tiles of 64, lattice layers): a preview
# (area updated) before the end, and the final picture is still aedec's
"$BUILD/aeenc" -t 1 -q 2 --tile 64 "$tmp/in.ppm" "$tmp/vq.aec" && "$BUILD/aedec" -t 1 "$tmp/vq.aec" "$tmp/vqref.ppm"
chunk=$(($(wc -c <"$tmp/vq.aec") / 12 + 1))
"$LOAD" "$tmp/vq.aec" "$tmp/vqpb.ppm" $chunk 80 2>"$tmp/err" && cmp -s "$tmp/vqpb.ppm" "$tmp/vqref.ppm" &&
    n=$(sed -n 's/^updates //p' "$tmp/err") && [ "${n:-0}" -ge 2 ]
result pixbuf_progressive_preview $?

# a colour profile in the file reaches the pixbuf as its "icc-profile"
# option (a JPEG with a 300-byte profile made by test_metadata)
"$BUILD/tests/test_metadata" --make-jpeg "$tmp/icc.jpg" 40 24 1 &&
    "$BUILD/aeenc" -t 1 -q 3 "$tmp/icc.jpg" "$tmp/icc.aec" &&
    "$LOAD" "$tmp/icc.aec" "$tmp/icc.ppm" 4096 2>"$tmp/icc.err" &&
    grep -q '^icc-profile 300 bytes' "$tmp/icc.err"
result pixbuf_icc_profile_option $?

head -c $(($(wc -c <"$tmp/x.aec") / 2)) "$tmp/x.aec" >"$tmp/cut.aec"
"$LOAD" "$tmp/cut.aec" "$tmp/o.ppm" 512 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 'aecodec' "$tmp/err"
result pixbuf_truncated_is_an_error $?
head -c 30 "$tmp/x.aec" >"$tmp/hdr.aec"
"$LOAD" "$tmp/hdr.aec" "$tmp/o.ppm" 512 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 'aecodec' "$tmp/err"
result pixbuf_short_header_is_an_error $?
{ printf '\213AEC'; head -c 5000 /dev/urandom; } >"$tmp/rand.aec"
"$LOAD" "$tmp/rand.aec" "$tmp/o.ppm" 700 2>"$tmp/err"
[ $? -eq 1 ] && grep -q 'aecodec' "$tmp/err"
result pixbuf_random_is_an_error $?
exit $failed
