#!/usr/bin/env bash
# Installs the Debian packages CompSeg builds against, when any is missing. Idempotent:
# on a machine that has them all it only checks and exits.
set -euo pipefail

packages=(libhdf5-dev libtiff-dev libpng-dev libopenblas-dev libdnnl-dev pkg-config)

missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
[ ${#missing[@]} -eq 0 ] && exit 0

echo "setup: installing ${missing[*]}" >&2
sudo=""
[ "$(id -u)" -ne 0 ] && sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -qq
$sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
