#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# fetch-debian-photos.sh - the default bench corpus: real photographs that
# Debian ships in wallpaper packages, downscaled to PNG in corpus/photos/.
#
#   sh corpus/fetch-debian-photos.sh [OUTDIR]      (default: corpus/photos)
#
# What it takes, from where, under which licence: corpus/DEBIAN-PHOTOS.md.
# It downloads the .deb files with `apt-get download` (nothing is installed
# from them) and unpacks them with dpkg-deb into a temporary directory.  It
# needs ImageMagick's `convert`: when missing it is installed with apt-get
# (which needs root).  Each photo is shrunk to fit 1024x1024 (the sources are
# 2560x1600 JPEGs: shrinking also hides their JPEG artefacts), stripped of
# metadata and written as 8-bit RGB PNG; the sha256 of each PNG is then
# checked against the list below (a mismatch, e.g. from another ImageMagick
# version, is reported but the files are kept).
set -eu

here=$(cd "$(dirname "$0")" && pwd)
out=${1:-$here/photos}
size=1024

# package|file in the package|PNG name (without .png)
photos='plasma-workspace-wallpapers|usr/share/wallpapers/EveningGlow/contents/images/2560x1600.jpg|plasma-evening-glow
plasma-workspace-wallpapers|usr/share/wallpapers/Path/contents/images/2560x1600.jpg|plasma-path
plasma-workspace-wallpapers|usr/share/wallpapers/OneStandsOut/contents/images/2560x1600.jpg|plasma-one-stands-out
plasma-workspace-wallpapers|usr/share/wallpapers/FallenLeaf/contents/images/2560x1600.jpg|plasma-fallen-leaf
plasma-workspace-wallpapers|usr/share/wallpapers/ColorfulCups/contents/images/2560x1600.jpg|plasma-colorful-cups
plasma-workspace-wallpapers|usr/share/wallpapers/BytheWater/contents/images/2560x1600.jpg|plasma-by-the-water
mate-backgrounds|usr/share/backgrounds/mate/nature/Dune.jpg|mate-dune
mate-backgrounds|usr/share/backgrounds/mate/nature/LadyBird.jpg|mate-ladybird'

# sha256 of the PNGs as made on Debian 12 (plasma-workspace-wallpapers
# 4:5.27.5-2, mate-backgrounds 1.26.0-1, imagemagick 8:6.9.11.60+dfsg-1.6)
sums='5c00a7fb57eb0a753c160c5edcfccee7e219ea677abe3fedc783c0c92e6e93bf  mate-dune.png
e9d74a4f3530b0f2168ae613111c525f18592f7de7cd07fdf29e6f7627a6e046  mate-ladybird.png
e0fbe7b8be636fe244fc13a40e762c9363769baa38ca07951fffded4cdb47383  plasma-by-the-water.png
e6901c992d8e83d3f058d7270a070f8be92a7dfa8c97e87e6cd7506ccb8e6845  plasma-colorful-cups.png
58768839324bc8f4f26fbd439308c2c0c3643dd8b3ba6a6f2cf70d8c6972aa43  plasma-evening-glow.png
1f3dee352c505953835184df68d002a6ba42b0c9d60eac3bb487df6ef85cda2d  plasma-fallen-leaf.png
0672d98532a3d69504ba98f0307340455d9b8670735aae06d7f28766d8ffbaee  plasma-one-stands-out.png
09ad7c68dd0e6708e3d01f3474f229d781eccc523a0812362333734812855776  plasma-path.png'

as_root() {
    if [ "$(id -u)" = 0 ]; then "$@"; else
        echo "fetch-debian-photos: needs root for: $*" >&2
        return 1
    fi
}

if ! command -v convert >/dev/null 2>&1; then
    echo "fetch-debian-photos: installing imagemagick" >&2
    as_root apt-get install -y --no-install-recommends imagemagick ||
        { as_root apt-get update && as_root apt-get install -y --no-install-recommends imagemagick; }
fi

tmp=$(mktemp -d "${TMPDIR:-/tmp}/debian-photos.XXXXXX")
trap 'rm -rf "$tmp"' EXIT INT TERM
pkgs=$(printf '%s\n' "$photos" | cut -d'|' -f1 | sort -u | tr '\n' ' ')
echo "fetch-debian-photos: downloading $pkgs" >&2
# shellcheck disable=SC2086
if ! (cd "$tmp" && apt-get download $pkgs >"$tmp/apt.log" 2>&1); then
    echo "fetch-debian-photos: apt-get download failed, updating the package lists" >&2
    as_root apt-get update >/dev/null
    # shellcheck disable=SC2086
    (cd "$tmp" && apt-get download $pkgs) || { cat "$tmp/apt.log" >&2; exit 1; }
fi
for deb in "$tmp"/*.deb; do
    echo "fetch-debian-photos: unpacking $(basename "$deb")" >&2
    dpkg-deb -x "$deb" "$tmp/root"
done

mkdir -p "$out"
printf '%s\n' "$photos" | while IFS='|' read -r pkg path name; do
    src="$tmp/root/$path"
    if [ ! -f "$src" ]; then
        echo "fetch-debian-photos: $pkg has no $path" >&2
        exit 1
    fi
    convert -quiet "$src" -auto-orient -colorspace sRGB -resize "${size}x${size}>" -strip \
        -type TrueColor -depth 8 -define png:exclude-chunks=date,time "$out/$name.png"
    echo "fetch-debian-photos: $out/$name.png ($pkg: /$path)" >&2
done

printf '%s\n' "$sums" | while read -r sum name; do
    [ -n "$sum" ] || continue
    [ -f "$out/$name" ] || continue
    got=$(sha256sum "$out/$name" | cut -d' ' -f1)
    if [ "$got" != "$sum" ]; then
        echo "fetch-debian-photos: note: $name differs from the recorded sha256 (other package or ImageMagick version?)" >&2
    fi
done
echo "fetch-debian-photos: $(find "$out" -name '*.png' | wc -l) PNGs in $out" >&2
