#!/usr/bin/env python3
"""pydicom decode speed, the anchor that `make bench` prints beside our own decoder's numbers.

How to run (from the repository root, in the venv that tools/dicom/make_pixel_refs.py describes):
    python3 -m venv .venv-dicom
    .venv-dicom/bin/pip install pydicom pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle numpy
    .venv-dicom/bin/python tools/bench/pydicom_decode_bench.py [--min-seconds 2]

Timed per file: dcmread + ds.pixel_array + the modality transform to float32 (rescale slope/intercept,
MONOCHROME1 inversion), i.e. what our decoder does from a path to Float32 pixels. Each case is repeated
until it has run for --min-seconds (at least 5 passes, after one warm-up pass); the median pass is reported.
Prints one JSON object per line: {"case", "files", "ms_per_slice", "mb_per_s"}, where files is the number
of distinct input files and MB/s counts decoded output bytes (rows * cols * samples * 4) per second.
"""
import argparse
import glob
import json
import os
import statistics
import time
import warnings

import numpy as np
import pydicom

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
FIX = os.path.join(ROOT, "fixtures", "dicom")
CASES = {
    # 512x512 signed CT, implicit VR LE, rescale -1024.
    "ct512-series": sorted(glob.glob(os.path.join(FIX, "dcmqi/segmentations/ct-3slice/*.dcm"))),
    # 1955x1841 CR chest, lossy JPEG 2000 in 11 fragments, MONOCHROME1.
    "j2k-chest-cr": [os.path.join(FIX, "pydicom-data/RG1_J2KI.dcm")],
}


def decode(path):
    """Return float32 pixels after the modality transform, and the number of output floats."""
    ds = pydicom.dcmread(path)
    arr = ds.pixel_array.astype(np.float32)
    slope, intercept = float(ds.get("RescaleSlope", 1.0)), float(ds.get("RescaleIntercept", 0.0))
    if (slope, intercept) != (1.0, 0.0):
        arr = arr * np.float32(slope) + np.float32(intercept)
    if ds.PhotometricInterpretation == "MONOCHROME1":
        bits = ds.BitsStored
        lo, hi = (-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if ds.PixelRepresentation else (0, (1 << bits) - 1)
        arr = np.float32((lo + hi) * slope + 2 * intercept) - arr
    return arr, arr.size


def bench(files, min_seconds):
    decode(files[0])  # warm-up: imports, plugin discovery, page cache
    passes, out_floats = [], 0
    start = time.perf_counter()
    while len(passes) < 5 or time.perf_counter() - start < min_seconds:
        t0 = time.perf_counter()
        out_floats = sum(decode(f)[1] for f in files)
        passes.append(time.perf_counter() - t0)
    median = statistics.median(passes)
    return {"ms_per_slice": round(1000 * median / len(files), 3),
            "mb_per_s": round(out_floats * 4 / 1e6 / median, 2)}


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--min-seconds", type=float, default=2.0)
    args = ap.parse_args()
    warnings.simplefilter("ignore")
    for case, files in CASES.items():
        missing = [f for f in files if not os.path.exists(f)]
        if not files or missing:
            raise SystemExit(f"{case}: missing fixtures {missing or 'all'}")
        print(json.dumps({"case": case, "files": len(files), **bench(files, args.min_seconds)}), flush=True)


if __name__ == "__main__":
    main()
