#!/usr/bin/env bash
# Build the CDicom libFuzzer harness and run it, seeded with fixtures/dicom.
#   fuzz/run.sh [MAX_TOTAL_TIME_SECONDS=600] [extra libFuzzer flags...]
#   fuzz/run.sh build          # build only
#   CDICOM_FUZZ_PATH=file fuzz/run.sh ...  # open inputs with cdicom_open_file (the daemon's path)
#   fuzz/run.sh repro FILE...  # run the harness once on each FILE (e.g. fuzz/regressions/*)
# A single allocation over 1 GB (from an input of at most 128 KiB) counts as a finding: CDicom must
# refuse such headers itself. Crashes land in fuzz/logs/artifacts/; minimise them (-minimize_crash=1) and keep reproducers in
# fuzz/regressions/, which also seed later runs.
# Needs a clang with libFuzzer (the Swift toolchain's, or apt's clang + libclang-rt-NN-dev) and
# libdcmtk-dev + libopenjp2-7-dev. Work corpus: fuzz/corpus-work/, logs: fuzz/logs/ (both git-ignored).
set -euo pipefail
cd "$(dirname "$0")/.."

CXX=${CXX:-}
if [ -z "$CXX" ]; then
    for c in /opt/swift/usr/bin/clang++ clang++ clang++-14; do
        if command -v "$c" >/dev/null && echo 'extern "C" int LLVMFuzzerTestOneInput(const char*,long){return 0;}' |
            "$c" -x c++ -fsanitize=fuzzer - -o /dev/null 2>/dev/null; then CXX=$c; break; fi
    done
fi
[ -n "$CXX" ] || { echo "no clang++ with libFuzzer found" >&2; exit 1; }

# lld when the compiler has it beside it (gold prints pages of ASan symbol warnings).
LDFLAG=""
[ -x "$(dirname "$(command -v "$CXX")")/ld.lld" ] && LDFLAG=-fuse-ld=lld
BIN=fuzz/build/cdicom_fuzz
# Link the same libraries as the CDicom target, read from Package.swift so the two never drift.
LIBS=$(sed -n '/let dcmtkLibraries/,/\]\.map/p' Package.swift | grep -o '"[A-Za-z0-9_]*"' | tr -d '"' | sed 's/^/-l/')
build() {
    mkdir -p fuzz/build
    # -fno-sanitize-recover turns every UBSan report into a crash that libFuzzer saves.
    "$CXX" $LDFLAG -std=c++17 -g -O1 -fno-omit-frame-pointer \
        -fsanitize=fuzzer,address,undefined -fno-sanitize-recover=undefined \
        -Wno-deprecated-declarations -ISources/CDicom/include -ISources/CDicom $(pkg-config --cflags libopenjp2) \
        fuzz/cdicom_fuzz.cpp Sources/CDicom/*.cpp $LIBS -lpthread -o "$BIN"
    echo "built $BIN with $CXX" >&2
}

case "${1:-}" in
build) build; exit 0 ;;
repro) shift; build; exec "$BIN" -runs=1 "$@" ;;
esac

TIME=${1:-600}
shift || true
build
mkdir -p fuzz/corpus-work fuzz/logs/artifacts
# Seeds: every fixture and every saved regression (libFuzzer reads at most -max_len bytes of each, so
# large files seed their headers). Names are flattened paths; existing corpus entries are kept.
find fixtures/dicom fuzz/regressions -type f ! -name '*.md' | while read -r f; do
    cp -n "$f" "fuzz/corpus-work/$(echo "$f" | tr '/ ' '__')"
done
LOG=fuzz/logs/run-$(date -u +%Y%m%dT%H%M%SZ).log
echo "fuzzing for ${TIME}s, log $LOG" >&2
ASAN_OPTIONS=${ASAN_OPTIONS:-detect_leaks=1:allocator_may_return_null=0} \
UBSAN_OPTIONS=${UBSAN_OPTIONS:-print_stacktrace=1:halt_on_error=1} \
"$BIN" fuzz/corpus-work -max_total_time="$TIME" -max_len=131072 -timeout=20 -rss_limit_mb=4096 -malloc_limit_mb=1024 \
    -dict=fuzz/dicom.dict -artifact_prefix=fuzz/logs/artifacts/ -print_final_stats=1 "$@" 2>&1 | tee "$LOG"
