#!/usr/bin/env bash
# Installs the Debian packages MedLens builds against, if any is missing, and checks for the Swift toolchain.
# Called by `make deps` (and so by `make run`, `make test`); safe to run again.
set -euo pipefail

packages=(libdcmtk-dev libinotifytools0-dev libopenblas-dev libpng-dev libopenjp2-7-dev libjpeg-dev libsystemd-dev pkg-config)
missing=()
for p in "${packages[@]}"; do
    dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if ((${#missing[@]})); then
    echo "bootstrap: installing ${missing[*]}"
    sudo=""
    [[ $(id -u) -ne 0 ]] && sudo="sudo"
    $sudo apt-get update -qq
    DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}"
fi

if ! command -v swift >/dev/null 2>&1; then
    for candidate in /opt/swift/usr/bin /usr/share/swift/usr/bin; do
        [[ -x $candidate/swift ]] && { echo "bootstrap: Swift found at $candidate; add it to PATH"; break; }
    done
    echo "bootstrap: the Swift 6 toolchain is required (https://www.swift.org/install/linux/), it is not a Debian package" >&2
    exit 1
fi
