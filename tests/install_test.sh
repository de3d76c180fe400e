#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# install_test.sh - `make install` into a temporary DESTDIR with PREFIX=/usr:
# a program built with nothing but `pkg-config aecodec` encodes and decodes
# against the installed library (shared, then static with --static), the
# soname, the exported symbols (aec_* only), the symlinks, tools and man
# pages are checked, and `make uninstall` leaves no file behind.
# Skipped for sanitizer builds and without pkg-config, readelf or nm.
# Usage (from the repository root): sh tests/install_test.sh BUILD
BUILD=${1:-build}
case $BUILD in *asan*)
    echo "SKIP install_test: $BUILD is a sanitizer build"; exit 0 ;;
esac
for t in pkg-config readelf nm; do
    if ! command -v $t >/dev/null 2>&1; then
        echo "SKIP install_test: $t not installed"; exit 0
    fi
done
CC=${CC:-cc}
MAKE=${MAKE:-make}

tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_install.XXXXXX") || exit 1
trap 'rm -rf "$tmp"' EXIT
trap 'rm -rf "$tmp"; exit 1' INT TERM
root=$tmp/root
lib=$root/usr/lib
failed=0
pass() { echo "ok $1"; }
fail() {
    echo "FAIL $1${2:+: $2}"
    failed=1
    if [ -s "$tmp/log" ]; then sed 's/^/  | /' "$tmp/log" | tail -n 20; fi
}

# The version the header says, e.g. 0.4.0.
version=$(sed -n 's/^#define AEC_VERSION_STRING "\(.*\)"/\1/p' include/aecodec.h)

if $MAKE -s --no-print-directory install BUILD="$BUILD" DESTDIR="$root" PREFIX=/usr \
        >"$tmp/log" 2>&1; then
    pass install_make
else
    fail install_make
    exit 1
fi

# Files and symlinks where a package expects them.
missing=
for f in usr/include/aecodec.h usr/lib/libcodec.a usr/lib/pkgconfig/aecodec.pc \
         "usr/lib/libcodec.so.$version" usr/bin/aeenc usr/bin/aedec usr/bin/aeinfo \
         usr/bin/aecompare usr/bin/aetrain; do
    [ -f "$root/$f" ] || missing="$missing $f"
done
[ "$(readlink "$lib/libcodec.so.0")" = "libcodec.so.$version" ] || missing="$missing libcodec.so.0->"
[ "$(readlink "$lib/libcodec.so")" = "libcodec.so.0" ] || missing="$missing libcodec.so->"
if [ -z "$missing" ]; then pass install_files; else fail install_files "missing:$missing"; fi

: >"$tmp/log"
if "$root/usr/bin/aeinfo" --version >"$tmp/log" 2>&1 && grep -q "$version" "$tmp/log"; then
    pass install_tool_runs
else
    fail install_tool_runs
fi

# Man pages: present and, where groff is, free of formatting warnings.
: >"$tmp/log"
man_ok=1
for m in aeenc aedec aeinfo aeanomaly; do
    page=$root/usr/share/man/man1/$m.1
    [ -f "$page" ] || { echo "no $page" >>"$tmp/log"; man_ok=0; continue; }
    grep -q "^\.TH $(echo $m | tr a-z A-Z) 1" "$page" || { echo "$m.1: no .TH" >>"$tmp/log"; man_ok=0; }
    if command -v groff >/dev/null 2>&1; then
        LC_ALL=C groff -man -Tascii -ww -z "$page" >>"$tmp/log" 2>&1 || man_ok=0
        [ -s "$tmp/log" ] && man_ok=0
    fi
done
if [ $man_ok = 1 ]; then pass install_man_pages; else fail install_man_pages; fi

# The soname carries the major version; only the public API is exported.
so=$lib/libcodec.so.$version
soname=$(readelf -d "$so" | sed -n 's/.*(SONAME).*\[\(.*\)\]/\1/p')
if [ "$soname" = libcodec.so.0 ]; then pass install_soname; else fail install_soname "got '$soname'"; fi
nm -D --defined-only "$so" | awk '{ print $NF }' >"$tmp/syms"
grep -v '^aec_' "$tmp/syms" >"$tmp/log"
if [ -s "$tmp/syms" ] && [ ! -s "$tmp/log" ] && grep -q '^aec_version_number$' "$tmp/syms"; then
    pass install_exports_aec_only
else
    fail install_exports_aec_only "$(wc -l <"$tmp/log") other symbols"
fi

# A program that knows the library only through pkg-config.
cat >"$tmp/roundtrip.c" <<'EOF'
#include <aecodec.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int main(void)
{
    enum { W = 77, H = 45 };
    uint32_t want = (AEC_VERSION_MAJOR << 16) | (AEC_VERSION_MINOR << 8) | AEC_VERSION_PATCH;
    if (aec_version_number() != want || strcmp(aec_version_string(), AEC_VERSION_STRING)) {
        printf("version: library %#x '%s', header %#x '%s'\n", (unsigned)aec_version_number(),
               aec_version_string(), (unsigned)want, AEC_VERSION_STRING);
        return 1;
    }
    static uint8_t rgb[W * H * 3];
    for (int y = 0; y < H; y++)
        for (int x = 0; x < W; x++) {
            uint8_t *p = rgb + 3 * (y * W + x);
            p[0] = (uint8_t)(x * 3), p[1] = (uint8_t)(y * 5), p[2] = (uint8_t)(x + y);
        }
    aec_encoder *enc = NULL;
    aec_decoder *dec = NULL;
    aec_encode_params ep;
    aec_decode_params dp;
    uint8_t *file = NULL, *back = NULL;
    size_t size = 0;
    uint32_t w = 0, h = 0;
    aec_layout layout = AEC_GRAY;
    aec_encode_params_default(&ep);
    aec_decode_params_default(&dp);
    ep.quality = 9;
    ep.threads = 1;
    if (aec_encoder_create(&enc, NULL) != AEC_OK || aec_decoder_create(&dec, NULL) != AEC_OK ||
        aec_encode(enc, rgb, W, H, 0, AEC_RGB, &ep, &file, &size) != AEC_OK ||
        aec_decode(dec, file, size, &dp, &back, &w, &h, &layout) != AEC_OK) {
        printf("codec call failed\n");
        return 1;
    }
    double err = 0;
    for (size_t i = 0; i < sizeof rgb; i++)
        err += abs((int)back[i] - (int)rgb[i]);
    err /= sizeof rgb;
    printf("%zu bytes, %ux%u, layout %d, mean error %.2f\n", size, (unsigned)w, (unsigned)h,
           (int)layout, err);
    aec_free(back);
    aec_free(file);
    aec_decoder_destroy(dec);
    aec_encoder_destroy(enc);
    return w == W && h == H && layout == AEC_RGB && err < 10 ? 0 : 1;
}
EOF
pc() {
    PKG_CONFIG_SYSROOT_DIR=$root PKG_CONFIG_PATH=$lib/pkgconfig pkg-config "$@"
}
if [ "$(pc --modversion aecodec 2>"$tmp/log")" = "$version" ]; then
    pass install_pkgconfig_version
else
    fail install_pkgconfig_version
fi

# Shared: linked through -lcodec, loaded from the DESTDIR by its soname.
flags=$(pc --cflags --libs aecodec 2>"$tmp/log")
if $CC -o "$tmp/rt_shared" "$tmp/roundtrip.c" $flags >"$tmp/log" 2>&1 &&
   readelf -d "$tmp/rt_shared" | grep -q 'NEEDED.*\[libcodec\.so\.0\]' &&
   LD_LIBRARY_PATH=$lib "$tmp/rt_shared" >"$tmp/log" 2>&1; then
    pass install_pkgconfig_shared_roundtrip
else
    fail install_pkgconfig_shared_roundtrip "flags: $flags"
fi

# Static: `pkg-config --static` must name every library libcodec.a needs;
# -l:libcodec.a picks the archive where the .so lies beside it.
flags=$(pc --static --cflags --libs aecodec 2>"$tmp/log" | sed 's/-lcodec\b/-l:libcodec.a/')
if $CC -o "$tmp/rt_static" "$tmp/roundtrip.c" $flags >"$tmp/log" 2>&1 &&
   ! readelf -d "$tmp/rt_static" | grep -q 'NEEDED.*libcodec' &&
   "$tmp/rt_static" >"$tmp/log" 2>&1; then
    pass install_pkgconfig_static_roundtrip
else
    fail install_pkgconfig_static_roundtrip "flags: $flags"
fi

# install-models: the 32-bit model files of models/builtin.mk's lists, as
# they are in models/ (the decoder's messages name them).
if $MAKE -s --no-print-directory install-models BUILD="$BUILD" DESTDIR="$root" PREFIX=/usr \
        >"$tmp/log" 2>&1 &&
   cmp -s models/high.aem "$root/usr/share/aecodec/models/high.aem" &&
   cmp -s models/default.aem "$root/usr/share/aecodec/models/default.aem"; then
    pass install_models
else
    fail install_models
fi

# Uninstall removes every file install put there (folders may stay).
if $MAKE -s --no-print-directory uninstall BUILD="$BUILD" DESTDIR="$root" PREFIX=/usr \
        >"$tmp/log" 2>&1 &&
   find "$root" ! -type d >"$tmp/log" && [ ! -s "$tmp/log" ]; then
    pass install_uninstall
else
    fail install_uninstall
fi
exit $failed
