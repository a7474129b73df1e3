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

# libnvrtc for the test that compiles every CUDA kernel (no GPU needed): the PyPI wheel nvidia-cuda-nvrtc-cu12 in
# the git-ignored .venv-cuda. Best effort: offline, the test skips itself and says so; a failed attempt is not
# retried until .venv-cuda/nvrtc-unavailable is removed. MEDLENS_SKIP_NVRTC=1 skips it.
cd "$(dirname "$0")/.."
if [[ ${MEDLENS_SKIP_NVRTC:-0} != 1 && ! -e .venv-cuda/nvrtc-unavailable ]] \
    && ! compgen -G ".venv-cuda/lib/python3*/site-packages/nvidia/cuda_nvrtc/lib/libnvrtc.so.*" >/dev/null; then
    echo "bootstrap: installing libnvrtc (PyPI wheel nvidia-cuda-nvrtc-cu12, ~90 MB) into .venv-cuda for the CUDA kernel test"
    if ! { command -v python3 >/dev/null && python3 -m venv .venv-cuda \
        && timeout 900 .venv-cuda/bin/pip install -q --disable-pip-version-check --retries 1 --timeout 30 'nvidia-cuda-nvrtc-cu12>=12.0'; }; then
        mkdir -p .venv-cuda && touch .venv-cuda/nvrtc-unavailable
        echo "bootstrap: libnvrtc not installed (no PyPI?); the NVRTC compile test will skip itself" >&2
    fi
fi
