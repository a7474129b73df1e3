#!/usr/bin/env bash
# Issue 6's GPU checks in one call of the device tool (docs/cuda.md, "Device check"), under 8 minutes on an H200:
#   1. `medlens backends`: what is found (driver, NVRTC, cuBLAS, the device) and the kernels compiled;
#   2. `medlens backends --check`: every architecture on CUDA against the CPU, FP32, 1e-3 relative, plus the
#      out-of-memory self-check;
#   3. benchmarks against PyTorch eager on the same GPU, FP32 then TF32: ResNet-18 224x224 batch 64 inference and
#      training step, DenseNet-121 and r3d_18 inference and training step; prints medlens/PyTorch ratios.
# Results: $OUT/device-check.json (and the logs) when $OUT is set, else /tmp/medlens-device-check.
#
# usage: tools/cuda/device-check.sh [--quick] [--skip-parity] [--skip-bench] [--math fp32,tf32] [--iterations N]
#                                   [--budget SECONDS] [--emulate [--full]] [--dry-run]
#   --quick      small shapes and 3 iterations (a smoke test of the whole script)
#   --budget S   stop starting steps after S seconds (default 450; each step also has its own time limit)
#   --emulate    run here without a GPU: medlens from .build/debug on the CUDA emulator, PyTorch on the CPU
#                (.venv-torch); implies --quick unless --full is given
#   --dry-run    print the commands instead of running them
# The device machine has no Swift: build the bundle here first (tools/cuda/bundle.sh), carry .devbundle; this
# script unpacks it when it is there.
set -uo pipefail
cd "$(dirname "$0")/../.."

quick=0 parity=1 bench=1 emulate=0 dry=0 full=0 iterations=10 maths="fp32,tf32" budget=450
while (($#)); do
    case $1 in
    --quick) quick=1 ;;
    --full) full=1 ;;
    --skip-parity) parity=0 ;;
    --skip-bench) bench=0 ;;
    --emulate) emulate=1 ;;
    --dry-run) dry=1 ;;
    --math) maths=${2:?--math needs fp32,tf32 or one of them}; shift ;;
    --iterations) iterations=${2:?--iterations needs a number}; shift ;;
    --budget) budget=${2:?--budget needs seconds}; shift ;;
    -h | --help) sed -n '2,/^set -uo/p' "$0" | sed '$d'; exit 0 ;;
    *) echo "device-check: unknown option $1 (see --help)" >&2; exit 64 ;;
    esac
    shift
done
[[ $iterations =~ ^[1-9][0-9]*$ ]] || { echo "device-check: --iterations $iterations is not a positive number" >&2; exit 64; }
[[ $budget =~ ^[1-9][0-9]*$ ]] || { echo "device-check: --budget $budget is not a number of seconds" >&2; exit 64; }
for m in ${maths//,/ }; do [[ $m == fp32 || $m == tf32 ]] || { echo "device-check: --math $m: use fp32 and/or tf32" >&2; exit 64; }; done
((emulate && !full)) && quick=1
((quick)) && iterations=3

out=${OUT:-/tmp/medlens-device-check}
mkdir -p "$out"
log=$out/device-check.log
: >"$log"
say() { echo "$*" | tee -a "$log"; }
run() {  # run SECONDS CMD...: the command under a time limit, never past the budget (with --dry-run: printed)
    local limit=$1 left=$((budget - (SECONDS - started))); shift
    if ((dry)); then echo "+ $*" >>"$log"; echo "+ $*" >&2; return 0; fi
    ((left < limit)) && limit=$left
    if ((limit <= 0)); then echo "device-check: out of time (--budget $budget s), skipped: $*" >>"$log"; return 124; fi
    timeout "$limit" "$@"
}
started=$SECONDS

if ((emulate)); then
    medlens=${MEDLENS:-.build/debug/medlens}
    python=${PYTHON:-.venv-torch/bin/python}
    torch_device=cpu
    emulator=$PWD/.build/debug/libMedLensCUDAEmulator.so
    export MEDLENS_CUDA_DRIVER=$emulator MEDLENS_CUDA_NVRTC=$emulator MEDLENS_CUDA_CUBLAS=$emulator
    export MEDLENS_CUDA_CACHE=${MEDLENS_CUDA_CACHE:-$out/kernel-cache}
else
    # tools/cuda/bundle.sh's .tar.xz, or ../shared/tools/device-bundle's .tgz; tar or, without xz, Python unpacks it.
    for archive in .devbundle/bundle.tar.xz .devbundle/bundle.tgz; do
        [[ -f $archive && ! -x /tmp/bundle/bin/medlens ]] || continue
        ((dry)) || tar -xf "$archive" -C /tmp 2>>"$log" \
            || python3 -c 'import sys, tarfile; tarfile.open(sys.argv[1]).extractall("/tmp")' "$archive" \
            || { say "device-check: cannot unpack $archive"; exit 1; }
    done
    if [[ -x /tmp/bundle/bin/medlens ]]; then
        export LD_LIBRARY_PATH=/tmp/bundle/lib${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH} PATH=/tmp/bundle/bin:$PATH
    fi
    medlens=${MEDLENS:-$(command -v medlens || echo .build/release/medlens)}
    python=${PYTHON:-python3}
    torch_device=cuda
    # cuBLAS and NVRTC: the toolkit's (searched by default); else those of the Python wheels beside torch.
    if ! compgen -G "/usr/local/cuda/lib64/libcublas.so.*" >/dev/null; then
        wheels=$("$python" -c 'import nvidia, os; print(os.path.dirname(nvidia.__file__ or nvidia.__path__[0]))' 2>/dev/null)
        for dir in "$wheels"/nvidia/cu13/lib "$wheels"/nvidia/cublas/lib "$wheels"/nvidia/cuda_nvrtc/lib; do
            [[ -d $dir ]] && MEDLENS_CUDA_LIBRARY_PATH=${MEDLENS_CUDA_LIBRARY_PATH:+$MEDLENS_CUDA_LIBRARY_PATH:}$dir
        done
        export MEDLENS_CUDA_LIBRARY_PATH
    fi
fi
[[ -x $medlens || $dry == 1 ]] || { say "device-check: no medlens binary ($medlens); build the bundle first"; exit 1; }

say "== medlens device check ($(date -u +%FT%TZ)), medlens: $medlens"
command -v nvidia-smi >/dev/null && ((!emulate)) && nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm --format=csv,noheader | tee -a "$log"
say "== backends"
run 120 "$medlens" backends 2>&1 | tee -a "$log"
run 60 "$medlens" backends --json >"$out/backends.json" 2>>"$log"

parity_status=skipped
if ((parity)); then
    say "== parity: every architecture on CUDA against the CPU (FP32, tolerance 1e-3 relative)"
    archs=()
    ((quick)) && archs=(--arch small_cnn --arch resnet18_28)
    run 300 "$medlens" backends --check "${archs[@]}" 2>&1 | tee -a "$log" "$out/parity.txt"
    status=${PIPESTATUS[0]}
    parity_status=$( ((dry)) && echo dry-run || { [[ $status == 0 ]] && echo passed || echo "failed (exit $status)"; })
    say "parity: $parity_status"
fi

declare -a rows=()
if ((bench)); then
    if ((quick)); then
        cases=("resnet18 2x3x64x64" "resnet18 2x3x64x64 train" "densenet121 1x3x64x64" "r3d_18 1x3x4x32x32")
    else
        cases=("resnet18 64x3x224x224" "resnet18 64x3x224x224 train" "densenet121 64x3x224x224" "densenet121 32x3x224x224 train"
               "r3d_18 16x3x16x112x112" "r3d_18 8x3x16x112x112 train")
    fi
    for math in ${maths//,/ }; do
        say "== benchmarks, $math: medlens on CUDA and PyTorch eager on the same device, medians of $iterations steps"
        torch_cases=()
        for c in "${cases[@]}"; do set -- $c; torch_cases+=("$1:$2${3:+:train}"); done
        torch_json=$out/torch-$math.jsonl
        run 240 "$python" tools/cuda/bench_torch_cuda.py --math "$math" --iterations "$iterations" --device "$torch_device" \
            "${torch_cases[@]}" >"$torch_json" 2>>"$log" || say "pytorch ($math) failed: see $log"
        i=0
        for c in "${cases[@]}"; do
            set -- $c
            flags=()
            [[ ${3:-} == train ]] && flags=(--train)
            ours=$(run 90 "$medlens" bench --backend cuda --math "$math" --arch "$1" --input "$2" --labels 1000 \
                --iterations "$iterations" --json "${flags[@]}" 2>>"$log")
            theirs=$(sed -n "$((i + 1))p" "$torch_json" 2>/dev/null)
            rows+=("$math|$1 $2 ${3:-inference}|${ours:-{\}}|${theirs:-{\}}")
            i=$((i + 1))
        done
    done
fi

# The table and the JSON summary (python3 for the arithmetic; the machine has it, torch's at least).
summary=$("$python" - "$out/device-check.json" "$parity_status" "$((SECONDS - started))" "${rows[@]}" <<'PY'
import json, sys
path, parity, seconds, rows = sys.argv[1], sys.argv[2], int(sys.argv[3]), sys.argv[4:]
results = []
print(f"{'case':<38} {'math':<5} {'medlens ms':>11} {'pytorch ms':>11} {'medlens/pytorch':>16}")
for row in rows:
    math, case, ours, theirs = row.split("|", 3)
    try:
        ours, theirs = json.loads(ours or "{}"), json.loads(theirs or "{}")
    except json.JSONDecodeError:
        ours, theirs = {}, {}
    a, b = ours.get("median_ms"), theirs.get("median_ms")
    ratio = a / b if a and b else None
    results.append({"case": case, "math": math, "medlens": ours, "pytorch": theirs, "ratio": ratio})
    cell = lambda v, width: f"{v:{width}.2f}" if v else "-".rjust(width)
    print(f"{case:<38} {math:<5} {cell(a, 11)} {cell(b, 11)} {cell(ratio, 16)}")
json.dump({"parity": parity, "seconds": seconds, "benchmarks": results}, open(path, "w"), indent=1)
print(f"parity: {parity}; {seconds} s; details in {path}")
PY
) || { say "device-check: the summary failed"; exit 1; }
say "== summary"
say "$summary"
[[ $parity_status == passed || $parity_status == skipped || $parity_status == dry-run ]]
