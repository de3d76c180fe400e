#!/bin/sh
# SPDX-License-Identifier: BSD-3-Clause
# Installs what aecodec needs to build, test and bench on Debian (run as
# root, or it uses sudo).  Peers for the bench (cjpeg, cwebp, cjxl, avifenc)
# are optional; pass --no-peers to skip them.
set -e
SUDO=
[ "$(id -u)" -eq 0 ] || SUDO=sudo
PKGS="build-essential libpng-dev libjpeg-dev libzstd-dev libopenmpi-dev openmpi-bin"
[ "$1" = "--no-peers" ] || PKGS="$PKGS libjpeg-turbo-progs webp libjxl-tools libavif-bin"
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq $PKGS >/dev/null
echo "setup-debian: installed $PKGS"
