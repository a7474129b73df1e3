#!/usr/bin/env bash
# Trains the default models (tools/train/configs/<name>.json) on ../shared/data and publishes each into the
# model store models/ (models/<name>/<version>/ + current), with its report and plots in models/<name>/report/.
# Run from the repository root after `swift build -c release --product medtrain`; one model at a time (the
# machine has 2 cores), each run's output in runs/<name>.log:
#     tools/train/train_default_models.sh [NAME ...]     (default: all five)
# A run interrupted part-way continues where it stopped (--resume). The model cards (models/<name>/MODEL_CARD.md)
# are written by hand from the reports.
set -euo pipefail
cd "$(dirname "$0")/../.."
BIN=.build/release/medtrain
names=("$@")
[[ ${#names[@]} -gt 0 ]] || names=(chest-pneumonia chest-nih14 fundus-odir8 oct-kermany4 volume-adrenal3d)
mkdir -p runs
for name in "${names[@]}"; do
    echo "== $name (log: runs/$name.log)"
    $BIN train --config "tools/train/configs/$name.json" --out "runs/$name" --threads 2 --resume >"runs/$name.log" 2>&1
    $BIN publish "runs/$name/model" --store models
    rm -rf "models/$name/report"
    mkdir -p "models/$name/report"
    cp -r "runs/$name/report.md" "runs/$name/report.json" "runs/$name/plots" "models/$name/report/"
done
