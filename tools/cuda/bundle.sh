#!/usr/bin/env bash
# Packs the release `medlens` (static Swift runtime) and the shared libraries it loads into
# .devbundle/bundle.tar.xz, the layout ../shared/tools/device-bundle makes (bundle/bin, bundle/lib), for a GPU
# machine without Swift or the -dev packages. Differences from that tool: it works in a git worktree (where .git
# is a file), strips the binaries and compresses with xz, and packs ICU's stub data instead of libicudata's 31 MB
# (only DCMTK's libxml2 links ICU, for XML encodings MedLens never parses), so that the bundle (~27 MB) and the
# working tree (~36 MB) stay within the device tool's 64 MiB. CUDA itself is not packed: the backend opens the
# machine's own libcuda, libnvrtc and libcublas at run time.
#   tools/cuda/bundle.sh [EXECUTABLE...]      # default: medlens
# Then carry .devbundle (git-ignored) in the device tool's run; tools/cuda/device-check.sh unpacks it.
set -euo pipefail
cd "$(git -C "$(dirname "$0")" rev-parse --show-toplevel)"
exes=("${@:-medlens}")
for exe in "${exes[@]}"; do swift build -c release --static-swift-stdlib --product "$exe" >&2; done
bin=$(swift build -c release --show-bin-path)
stage=$(mktemp -d)
trap 'rm -rf "$stage"' EXIT
mkdir -p "$stage/bundle/bin" "$stage/bundle/lib"
for exe in "${exes[@]}"; do
    cp "$bin/$exe" "$stage/bundle/bin/"
    # The machine's own C and C++ runtimes are newer and must win: leave them out.
    ldd "$bin/$exe" | awk '$3 ~ /^\// {print $3}' \
        | grep -vE '/(libc|libm|libpthread|libdl|librt|libstdc\+\+|libgcc_s|ld-linux[^/]*)\.so' \
        | xargs -r -I{} cp -Ln {} "$stage/bundle/lib/"
done
strip --strip-unneeded "$stage"/bundle/bin/* "$stage"/bundle/lib/*
# ICU's stub common data (icu4c/source/stubdata): a valid package with no entries, under the versioned symbol.
for data in "$stage"/bundle/lib/libicudata.so.*; do
    [[ -e $data ]] || continue
    soname=$(basename "$data") version=${soname#libicudata.so.}
    printf '%s\n' "const struct { unsigned short headerSize; unsigned char magic1, magic2;" \
        "  struct { unsigned short size, reserved; unsigned char bigEndian, charset, sizeofUChar, reservedByte," \
        "           format[4], formatVersion[4], dataVersion[4]; } info;" \
        "  char padding[8]; unsigned int count, reserved; unsigned int toc[2]; }" \
        "icudt${version%%.*}_dat = {32, 0xda, 0x27, {20, 0, 0, 0, 2, 0, {'T', 'o', 'C', 'P'}, {1, 0, 0, 0}, {0, 0, 0, 0}}, {0}, 0, 0, {0, 0}};" \
        >"$stage/stubdata.c"
    cc -shared -fPIC -Wl,-soname,"$soname" -o "$data" "$stage/stubdata.c"
done
mkdir -p .devbundle
rm -f .devbundle/bundle.tgz
tar -C "$stage" -cJf .devbundle/bundle.tar.xz bundle
ls -la .devbundle/bundle.tar.xz >&2
