#!/usr/bin/env bash
# docs/examples: overlays of real scans, made by `medlens explain`, shrunk to at most 300 pixels and reduced to a
# 128-colour palette so that the docs stay small.
# The 2D examples use the bundled default models (models/); the volume mosaic and en-face need a 3D OCT model,
# which the defaults do not include, so they use the demonstration package of train_demo_models.py.
# Needs a release build, ../shared/data and:
#   .venv-torch/bin/python tools/explain/train_demo_models.py /tmp/medlens-demo .build/debug/medtrain
#   tools/explain/make_examples.sh /tmp/medlens-demo
set -euo pipefail
cd "$(dirname "$0")/../.."
DEMO=${1:-/tmp/medlens-demo}
DATA=$(cd .. && pwd)/shared/data
[[ -d $DATA ]] || DATA=/work/shared/data
BIN=.build/release/medlens
OUT=$(mktemp -d)
trap 'rm -rf "$OUT"' EXIT
PNEUMONIA=models/chest-pneumonia/current

$BIN explain fixtures/dicom/fo-dicom/CR-MONO1-10-chest --model $PNEUMONIA --out "$OUT/cr"
$BIN explain fixtures/dicom/fo-dicom/CR-MONO1-10-chest --model $PNEUMONIA --out "$OUT/cr-compat" --compat
$BIN explain "$DATA/nih-chestxray14/images/00004075_000.png" --model models/chest-nih14/current --out "$OUT/nih" --target 1
$BIN explain fixtures/photo/1410_left.jpg --model models/fundus-odir8/current --out "$OUT/fundus" --target 3
$BIN explain fixtures/oct/Willis_B_716_0.vol --model models/oct-kermany4/current --out "$OUT/oct" --target 3
$BIN explain fixtures/oct/test_volume.vol --model "$DEMO/oct-demo" --out "$OUT/oct-volume" --target 0

.venv-torch/bin/python - "$OUT" docs/examples <<'PY'
import pathlib, sys
from PIL import Image
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
dst.mkdir(parents=True, exist_ok=True)
pick = {
    "cxr-cr-pneumonia-gradcam.png": "cr/pneumonia-overlay.png",
    "cxr-cr-pneumonia-gradcam-compat.png": "cr-compat/pneumonia-overlay.png",
    "cxr-cr-pneumonia-map.png": "cr/pneumonia-map.png",
    "cxr-nih-cardiomegaly-gradcam.png": "nih/Cardiomegaly-overlay.png",
    "fundus-odir-cataract-gradcam.png": "fundus/C-overlay.png",
    "oct-spectralis-bscan-normal-gradcam.png": "oct/v1-NORMAL-overlay.png",
    "oct-volume-mosaic-gradcam.png": "oct-volume/v1-CNV-mosaic.png",
    "oct-volume-enface-gradcam.png": "oct-volume/v1-CNV-enface.png",
}
for name, path in pick.items():
    image = Image.open(src / path)
    if max(image.size) > 300:
        image.thumbnail((300, 300), Image.LANCZOS)
    image = image.convert("RGB").quantize(colors=128, method=Image.Quantize.MEDIANCUT) if image.mode != "L" else image
    image.save(dst / name, optimize=True)
    print(dst / name, image.size)
PY
