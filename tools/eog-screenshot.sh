#!/bin/sh
# eog-screenshot.sh - Eye of GNOME showing an aecodec file under Xvfb, with
# the loader from the build tree (nothing installed): docs/eog-screenshot.png.
# Needs eog, xvfb (xvfb-run), imagemagick (import, convert), shared-mime-info.
# usage: sh tools/eog-screenshot.sh [IMAGE.png [OUT.png]]   (after `make`)
set -e
BUILD=${BUILD:-build}
IMG=${1:-corpus/sample/ladybird-768x480.png}
OUT=${2:-docs/eog-screenshot.png}
tmp=$(mktemp -d "${TMPDIR:-/tmp}/aec_eog.XXXXXX")
trap 'rm -rf "$tmp"' EXIT
"$BUILD/aeenc" -q 7 "$IMG" "$tmp/photo.aec"
mkdir -p "$tmp/share/mime/packages"
cp contrib/gdk-pixbuf/aecodec-mime.xml "$tmp/share/mime/packages/aecodec.xml"
update-mime-database "$tmp/share/mime" 2>/dev/null
GDK_PIXBUF_MODULE_FILE=$(cd "$BUILD/pixbuf" && pwd)/loaders.cache
XDG_DATA_HOME=$tmp/share
export GDK_PIXBUF_MODULE_FILE XDG_DATA_HOME
# eog in the background, a screenshot of the root window once it has drawn
xvfb-run -a -s "-screen 0 1024x700x24" sh -c "
    dbus-run-session -- eog --single-window '$tmp/photo.aec' >'$tmp/eog.log' 2>&1 &
    sleep 6; import -window root '$tmp/shot.png'; kill \$! 2>/dev/null; true"
mkdir -p "$(dirname "$OUT")"
convert "$tmp/shot.png" -resize 800x -strip -colors 256 "$OUT"
echo "wrote $OUT ($(wc -c <"$OUT") bytes) from $tmp/photo.aec ($(wc -c <"$tmp/photo.aec") bytes)"
