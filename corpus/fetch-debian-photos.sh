#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# fetch-debian-photos.sh - real photographs that Debian ships in wallpaper
# packages, downscaled to PNG: the default bench corpus, or with --training
# the photographs added to ../shared/corpus/train for training (never the
# bench's photographs nor the validation set).
#
#   sh corpus/fetch-debian-photos.sh [OUTDIR]              (default: corpus/photos)
#   sh corpus/fetch-debian-photos.sh --training [OUTDIR]   (default: corpus/train-extra)
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
set_name=bench
if [ "${1:-}" = --training ]; then set_name=training; shift; fi

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

# The training additions: photographs only (the packages' renders and
# illustrations are left out), none from plasma-workspace-wallpapers and
# not the bench's two from mate-backgrounds.  Shrunk to fit 1280x1280, the
# size of ../shared/corpus/train's photographs.
training_photos='lomiri-wallpapers-16.04|usr/share/backgrounds/Bridge_by_Sander_Klootwijk.jpg|lomiri-bridge
lomiri-wallpapers-16.04|usr/share/backgrounds/Dragonfly_by_Bolly.jpg|lomiri-dragonfly
lomiri-wallpapers-16.04|usr/share/backgrounds/Picture_0B_by_freespace.jpg|lomiri-fig
lomiri-wallpapers-16.04|usr/share/backgrounds/Picture_1A_by_freespace.jpg|lomiri-brushes
lomiri-wallpapers-16.04|usr/share/backgrounds/Wine_by_Jakkub_Mede.jpg|lomiri-wine
lomiri-wallpapers-16.04|usr/share/backgrounds/aitzgorri_by_Aitzol_Berasategi.jpg|lomiri-aitzgorri
lomiri-wallpapers-16.04|usr/share/backgrounds/analogpattern_by_Peter_Nerlich.jpg|lomiri-analogpattern
lomiri-wallpapers-16.04|usr/share/backgrounds/free_by_Peter_Nerlich.jpg|lomiri-free
lomiri-wallpapers-16.04|usr/share/backgrounds/friends_by_Aitzol_Berasategi.jpg|lomiri-friends
lomiri-wallpapers-16.04|usr/share/backgrounds/greentock_by_Peter_Nerlich.jpg|lomiri-greentock
lomiri-wallpapers-16.04|usr/share/backgrounds/life_by_Aitzol_Berasategi.jpg|lomiri-life
lomiri-wallpapers-16.04|usr/share/backgrounds/picosdeeuropa_by_Aitzol_Berasategi.jpg|lomiri-picosdeeuropa
lomiri-wallpapers-16.04|usr/share/backgrounds/seeding_by_Clements_Engelhardt.jpg|lomiri-seeding
lomiri-wallpapers-16.04|usr/share/backgrounds/sunset_by_Aitzol_Berasategi.jpg|lomiri-sunset
lomiri-wallpapers-20.04|usr/share/backgrounds/Kleiber_by_Lukas_Baubkus.jpg|lomiri-kleiber
mate-backgrounds|usr/share/backgrounds/mate/nature/Aqua.jpg|mate-aqua
mate-backgrounds|usr/share/backgrounds/mate/nature/Blinds.jpg|mate-blinds
mate-backgrounds|usr/share/backgrounds/mate/nature/FreshFlower.jpg|mate-fresh-flower
mate-backgrounds|usr/share/backgrounds/mate/nature/Garden.jpg|mate-garden
mate-backgrounds|usr/share/backgrounds/mate/nature/GreenMeadow.jpg|mate-green-meadow
mate-backgrounds|usr/share/backgrounds/mate/nature/RainDrops.jpg|mate-rain-drops
mate-backgrounds|usr/share/backgrounds/mate/nature/Storm.jpg|mate-storm
mate-backgrounds|usr/share/backgrounds/mate/nature/TwoWings.jpg|mate-two-wings
mate-backgrounds|usr/share/backgrounds/mate/nature/Wood.jpg|mate-wood
mate-backgrounds|usr/share/backgrounds/mate/nature/YellowFlower.jpg|mate-yellow-flower'

# sha256 of the training PNGs as made on Debian 12 (lomiri-wallpapers-16.04
# 20.04.0-2, lomiri-wallpapers-20.04 20.04.0-2, mate-backgrounds 1.26.0-1,
# imagemagick 8:6.9.11.60+dfsg-1.6+deb12u16)
training_sums='cc66bb87b45f447032e409bf7173db9b8ea350a0a7c803de0a621e3f1a2b490c  lomiri-aitzgorri.png
156df13198c92d2eb71325684bf8fba4892afbfd8ea66d3af75004c4d68baffe  lomiri-analogpattern.png
11bd71b3c621212056419cbe2c6049f46da1af0a0d5b57ec7cdda41ec7216499  lomiri-bridge.png
817cad12cc0bf5aee1eb28f6a9341b42433bcb867570f42c29be75372428e6e0  lomiri-brushes.png
96807552091085b31361555d96ed306c1bde51b88c84dc0bf9605426a26f8f6d  lomiri-dragonfly.png
56af1145eeb40f25853bd602d0f3a7bc5b30abe9c7cd370553274a10da510a0d  lomiri-fig.png
fa70ab9655d28b9239a045db165b3354d18798fd8f5db24c9a8ab66e2224e0b1  lomiri-free.png
0ed2a24a786b9ad38d2bcde1e51500840fa2c26934514fdbc2480848a63796fa  lomiri-friends.png
c9488d3746c82fee20594ff1d82f5bb0a2f77ab5dc031a4d737007594f55a046  lomiri-greentock.png
8cdbf668dfd4e6654a413f963b3a51eeb9d18b44859d8bc001a41dcf1e85884b  lomiri-kleiber.png
61b74a9e0e2f02b777f4f7182d46de0aaec22b284dade7198e760721bffaa2e5  lomiri-life.png
fe1b7efed382fd0f0a0841b3e8e4b11698caf3b066fa2399aff90575922c27ea  lomiri-picosdeeuropa.png
98b48fd8cf5b8389cb7e52ebc4f25b4a8077880c1d0c60b3a5584c518a696dea  lomiri-seeding.png
d9a4f97d552ba0c4b3aa69fa0cec0a1896cff5ec1621613a44d55b3ad4733bbc  lomiri-sunset.png
ca83140393074206c1ea6e6d0e4ab021bd6669770cf6f67ba45a4b526e2cc333  lomiri-wine.png
79ef8781551e7a6b09ac7dd0b1759781ef012457cf2645d14bedb3ed5105beca  mate-aqua.png
0f14ff5bb99ba03cef9a814284aace92b8991db9eaa9deae6f39e93c304b7af1  mate-blinds.png
418feed3467e8fd2a97fcb7efe7ebc26c8112679057cddd6f04cefca8c7d9154  mate-fresh-flower.png
ca3feaa456702c3070187b273807a9976062db3f71b6db5e4f2d2f2911f78e7e  mate-garden.png
c406f62fb8b0f76b03f87869df93429d541ba2e8c9593b7c407c1dc3df9f299d  mate-green-meadow.png
01b8bafe3d2e15a0d57b613f33724764a088f2cadef25d5f37d1863042113b52  mate-rain-drops.png
d1424606dd1c2bdb4816b407a2766561773fd63199ef7333c5051b23d2c5f04e  mate-storm.png
fcf325c0d847181a2f170f281a6677a3ecab6b2fc0934191b34248961ac796b8  mate-two-wings.png
a482f87ed2ebdf9185d9abd588406481265f22ae947906d0a1c20a3e12607ebd  mate-wood.png
9970d7657f090b63539284449868e3c3111c77b12b5314e2c938a45f4004d618  mate-yellow-flower.png'

if [ "$set_name" = training ]; then
    out=${1:-$here/train-extra}; size=1280
    photos=$training_photos; sums=$training_sums
else
    out=${1:-$here/photos}; size=1024
fi

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
