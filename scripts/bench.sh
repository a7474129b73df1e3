#!/usr/bin/env bash
# `make bench`: our timings beside the reference implementations', measured in the same run on this machine.
# Absolute times are noise on small shared machines; read the ratios. Python anchors run in venvs that this
# script creates on first use (PyPI needed once): .venv-dicom (pydicom + pylibjpeg).
#   scripts/bench.sh [dicom|engine|explain]   one section (default: all)
#   ENGINE_ROUNDS=3 scripts/bench.sh engine   repeat each engine case, then print the range of the ratios
set -euo pipefail
section=${1:-all}
want() { [[ $section == all || $section == "$1" ]]; }
cd "$(dirname "$0")/.."
BIN=.build/release

venv() {  # venv DIR PACKAGES...: create on first use
    local dir=$1; shift
    if [[ ! -x $dir/bin/python ]]; then
        python3 -m venv "$dir"
        "$dir/bin/pip" install -q "$@"
    fi
}

ratio() {  # ratio OURS_JSON THEIRS_JSON FIELD
    python3 - "$@" <<'PY'
import json, sys
ours, theirs, field = json.loads(sys.argv[1]), json.loads(sys.argv[2]), sys.argv[3]
print(f"{ours['case']:>14}: medlens {ours[field]:9.3f} {field:<12} pydicom {theirs[field]:9.3f}"
      f"   medlens/pydicom {ours[field] / theirs[field]:.2f}")
PY
}

if want dicom; then
echo "== DICOM decoding (header + pixels + modality transform to Float32), median of repeated passes"
venv .venv-dicom pydicom pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle numpy
anchors=$(.venv-dicom/bin/python tools/bench/pydicom_decode_bench.py)
ours_ct=$($BIN/medlens bench --decode fixtures/dicom/dcmqi/segmentations/ct-3slice --repeats 15 --name ct512-series)
ours_j2k=$($BIN/medlens bench --decode fixtures/dicom/pydicom-data/RG1_J2KI.dcm --repeats 7 --name j2k-chest-cr)
for ours in "$ours_ct" "$ours_j2k"; do
    case=$(python3 -c 'import json,sys; print(json.loads(sys.argv[1])["case"])' "$ours")
    theirs=$(grep "\"$case\"" <<<"$anchors")
    ratio "$ours" "$theirs" ms_per_slice
    ratio "$ours" "$theirs" mb_per_s
done
fi

if want engine; then
echo "== Engine vs PyTorch eager and ONNX Runtime on CPU: same architecture, input and thread count (2), 1000 outputs"
# From PyPI; tools/engine/bench_torch.py builds the torchvision-named twins of our models and exports them to ONNX.
venv .venv-torch torch numpy safetensors onnx onnxruntime
rounds=${ENGINE_ROUNDS:-1}
ratios=$(mktemp)
engine_case() {  # engine_case ARCH SHAPE [train]: ours, PyTorch and ONNX Runtime back to back, `rounds` times
    local flags=() mode=inference
    [[ ${3:-} == train ]] && flags=(--train) && mode=train-step
    for _ in $(seq "$rounds"); do
        ours=$($BIN/medlens bench --arch "$1" --input "$2" --labels 1000 --threads 2 --iterations 5 --json "${flags[@]}")
        torch=$(cd tools/engine && ../../.venv-torch/bin/python bench_torch.py "$1" "$2" 2 ${3:-})
        # ONNX Runtime is an inference engine: no training-step anchor.
        ort='{}'
        [[ $mode == inference ]] && ort=$(cd tools/engine && ../../.venv-torch/bin/python bench_torch.py "$1" "$2" 2 ort 2>/dev/null)
        python3 - "$1 $2 $mode" "$ours" "$torch" "$ort" "$ratios" <<'PY'
import json, sys
name, ours, torch, ort = sys.argv[1], *(json.loads(a) for a in sys.argv[2:5])
line = (f"{name:>38}: medlens {ours['median_ms']:8.1f} ms  pytorch {torch['median_ms']:8.1f} ms"
        f"  medlens/pytorch {ours['median_ms'] / torch['median_ms']:.2f}")
if ort:
    line += f"  onnxruntime {ort['median_ms']:8.1f} ms  medlens/ort {ours['median_ms'] / ort['median_ms']:.2f}"
print(line + f"  ({ours['gflops']:.1f} GFLOP/s, peak RSS {ours['peak_rss_mb']:.0f} MB)")
with open(sys.argv[5], "a") as f:
    f.write(json.dumps({"case": name, "pytorch": ours["median_ms"] / torch["median_ms"],
                        "ort": ours["median_ms"] / ort["median_ms"] if ort else None}) + "\n")
PY
    done
}
engine_case resnet18 1x3x224x224
engine_case resnet18 8x3x224x224
engine_case densenet121 1x3x224x224
engine_case r3d_18 1x3x16x112x112
engine_case resnet18 16x3x224x224 train
if (( rounds > 1 )); then
    python3 - "$ratios" <<'PY'
import json, sys
rows = [json.loads(l) for l in open(sys.argv[1])]
for case in dict.fromkeys(r["case"] for r in rows):
    mine = [r for r in rows if r["case"] == case]
    t = [r["pytorch"] for r in mine]
    line = f"{case:>38}: medlens/pytorch {min(t):.2f}-{max(t):.2f}"
    o = [r["ort"] for r in mine if r["ort"] is not None]
    if o:
        line += f"  medlens/ort {min(o):.2f}-{max(o):.2f}"
    print(line + f"  over {len(mine)} rounds")
PY
fi
rm -f "$ratios"
fi

if want explain; then
echo "== Explanations: Grad-CAM for 3 findings (one forward pass with the graph, one backward per finding) over one inference"
$BIN/medlens bench --arch resnet18 --input 1x3x224x224 --labels 14 --threads 2 --iterations 5 --explain 3
fi
