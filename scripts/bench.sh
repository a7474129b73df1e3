#!/usr/bin/env bash
# `make bench`: our timings beside the reference implementations', measured in the same run on this machine.
# Absolute times are noise on small shared machines; read the ratios. Python anchors run in venvs that this
# script creates on first use (PyPI needed once): .venv-dicom (pydicom + pylibjpeg).
#   scripts/bench.sh [dicom|engine|explain|train|daemon]   one section (default: all)
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
echo "== Explanations: 3 positive findings explained as the daemon does (Grad-CAM: forward pass with the graph, one backward"
echo "   per finding, post-processing, overlay and map PNGs at the scan's own size) over one inference, interleaved"
for scan in "" fixtures/dicom/fo-dicom/CR-MONO1-10-chest fixtures/dicom/pydicom-data/RG1_J2KI.dcm; do
    report=$($BIN/medlens bench --arch resnet18 --input 1x3x224x224 --labels 14 --threads 2 --iterations 5 --explain 3 ${scan:+--scan "$scan"})
    python3 - "${scan:-the 224x224 input}" "$report" <<'PY'
import json, sys
scan, r = sys.argv[1], json.loads(sys.argv[2])
print(f"{scan.split('/')[-1]:>26} ({r['original']}): explain {r['explain_ms']:7.1f} ms = {r['explain_over_inference']:5.2f}x one inference"
      f" ({r['inference_ms']:.1f} ms); maps without PNGs {r['maps_only_ms']:6.1f} ms = {r['maps_only_over_inference']:.2f}x")
PY
done
fi

if want train; then
venv .venv-torch torch numpy safetensors onnx onnxruntime
echo "== Training throughput (images/s): medtrain's loop (batch loader with augmentation, masked class-weighted BCE, AdamW) vs PyTorch eager (same architecture, batch, loss, optimizer, 2 threads)"
train_case() {  # train_case ARCH SHAPE
    ours=$($BIN/medtrain bench --arch "$1" --input "$2" --threads 2 --steps 5)
    torch=$(.venv-torch/bin/python tools/train/bench_train_torch.py "$1" "$2" 2)
    python3 - "$1 $2" "$ours" "$torch" <<'PY'
import json, sys
name, ours, torch = sys.argv[1], json.loads(sys.argv[2]), json.loads(sys.argv[3])
print(f"{name:>30}: medtrain {ours['images_per_s']:8.1f} img/s  pytorch {torch['images_per_s']:8.1f} img/s"
      f"  medtrain/pytorch {ours['images_per_s'] / torch['images_per_s']:.2f}")
PY
}
train_case small_cnn 64x1x28x28
train_case resnet18 16x3x224x224
fi

if want daemon; then
venv .venv-torch torch numpy safetensors onnx onnxruntime
if [[ -z ${anchors:-} ]]; then
    venv .venv-dicom pydicom pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle numpy
    anchors=$(.venv-dicom/bin/python tools/bench/pydicom_decode_bench.py)
fi
echo "== Daemon: close-write -> findings.json through the real spool (medlensd, seeded full-size ResNet-18 224x224 and 3D ResNet-18 64^3)"
# Latency includes what the configuration makes the daemon wait (settle; the quiet period of a series without an
# image count); the stages are those findings.json reports. Anchors from this run: pydicom's decode of the same
# radiograph (j2k-chest-cr above) and PyTorch eager for the same ResNet-18 at 1x3x224x224.
daemon=$($BIN/medlens bench-daemon --radiograph fixtures/dicom/pydicom-data/RG1_J2KI.dcm \
    --series fixtures/dicom/dcm_qa_decubitus/HFS_3_t1_fl2d_sag --threads 2)
torch_r18=$(cd tools/engine && ../../.venv-torch/bin/python bench_torch.py resnet18 1x3x224x224 2)
python3 - "$daemon" "$anchors" "$torch_r18" <<'PY'
import json, sys
report, anchors, torch = json.loads(sys.argv[1]), sys.argv[2], json.loads(sys.argv[3])
pydicom = next(json.loads(l) for l in anchors.splitlines() if '"j2k-chest-cr"' in l)
for case in report["cases"]:
    median, low, high = case["latencyMs"]
    stages = "  ".join(f"{k} {v:.1f}" for k, v in sorted(case["stagesMs"].items()))
    print(f"{case['name']:>22}: close-write -> findings.json median {median:8.1f} ms (min {low:.1f}, max {high:.1f});"
          f" configured wait {case['configuredWaitMs']:.0f} ms; stages (ms): {stages}")
cr = report["cases"][0]["stagesMs"]
print(f"{'anchors':>22}: read {cr.get('read', 0):.1f} ms vs pydicom decode {pydicom['ms_per_slice']:.1f} ms"
      f" (medlens/pydicom {cr.get('read', 0) / pydicom['ms_per_slice']:.2f}); inference {cr.get('inference', 0):.1f} ms"
      f" vs pytorch resnet18 {torch['median_ms']:.1f} ms (medlens/pytorch {cr.get('inference', 0) / torch['median_ms']:.2f},"
      " ours includes waiting for the batch)")
print(f"{'throughput':>22}: {report['burstImages']} distinct radiographs in {report['burstSeconds']:.1f} s = {report['imagesPerSecond']:.2f} images/s"
      f" (settle {report['settleSeconds']} s, quiet {report['quietSeconds']} s)")
PY
fi
