#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Installs what aecodec needs to build, test and bench on Debian (run as
# root, or it uses sudo).  Peers for the bench (cjpeg, cwebp, cjxl, avifenc)
# are optional; pass --no-peers to skip them.
set -e
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
# clang: the fuzz targets; gdk-pixbuf, shared-mime-info, numpy and Pillow:
# the viewer and Python tests (each skips, with a SKIP line, without them).
PKGS="build-essential libpng-dev libjpeg-dev libzstd-dev libopenmpi-dev openmpi-bin clang
      libgdk-pixbuf-2.0-dev libgdk-pixbuf2.0-bin shared-mime-info python3-numpy python3-pil"
[ "$1" = "--no-peers" ] || PKGS="$PKGS libjpeg-turbo-progs webp libjxl-tools libavif-bin"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PKGS >/dev/null
echo "setup-debian: installed $PKGS"
