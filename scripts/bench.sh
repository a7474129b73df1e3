#!/usr/bin/env bash
# `make bench`: our timings beside the reference implementations', measured in the same run on this machine.
# Absolute times are noise on small shared machines; read the ratios. Python anchors run in venvs that this
# script creates on first use (PyPI needed once): .venv-dicom (pydicom + pylibjpeg).
set -euo pipefail
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
