#!/usr/bin/env bash
# Installs the Debian packages the project builds against (libzip, OpenBLAS,
# libpng, libjpeg-turbo, zlib, libdeflate, pkg-config). Idempotent: does nothing when they
# are all present. Uses sudo when not run as root.
set -euo pipefail

packages=(pkg-config libzip-dev libopenblas-dev libpng-dev libjpeg62-turbo-dev zlib1g-dev libdeflate-dev)
missing=()
for package in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$package" 2>/dev/null | grep -q "install ok installed" || missing+=("$package")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "installing: ${missing[*]}" >&2
as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update -qq
"${as_root[@]}" apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
