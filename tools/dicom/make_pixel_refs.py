#!/usr/bin/env python3
"""Record what pydicom makes of every DICOM fixture: small .npy pixel references plus refs.json.

How to run (from the repository root; PyPI must be reachable; .venv-dicom/ is git-ignored):
    python3 -m venv .venv-dicom
    .venv-dicom/bin/pip install pydicom pylibjpeg pylibjpeg-libjpeg pylibjpeg-openjpeg pylibjpeg-rle numpy
    .venv-dicom/bin/python tools/dicom/make_pixel_refs.py
It reads fixtures/dicom/** and rewrites fixtures/dicom-refs/ (refs.json and <safe-name>.npy).

The references follow MedLens's decoder conventions, so the Swift tests compare like with like:
  * layout (C, F, H, W) float32: samples first, then frames, rows, cols;
  * values: pydicom's pixel_array (its YBR_FULL / YBR_FULL_422 -> RGB conversion kept), then the modality
    transform: Modality LUT Sequence, else RescaleSlope/Intercept taken per frame from the Per-frame
    Functional Groups (PixelValueTransformationSequence), else the Shared ones, else the top level;
    PALETTE COLOR is expanded to RGB with pydicom.pixels.apply_color_lut, LUT values kept as they are;
  * MONOCHROME1 is inverted: v' = (lo + hi) - v, with [lo, hi] the modality-transformed range of the
    representable stored values (ends swapped for a negative slope; [min, max] of a Modality LUT).
Each .npy holds full[:, frames][:, :, ::s, ::s] for frames {first, middle, last} and the smallest stride s
with H/s <= 64 and W/s <= 64; refs.json has the full-array float64 min/max/mean/sum over all frames.
Headless files (no File Meta) that pydicom cannot decode for want of a Transfer Syntax UID are retried with
the encoding pydicom detected while reading; refs.json then records the first error and the assumed syntax.
"""
import json
import math
import os
import re
import sys
import warnings
from importlib.metadata import version

import numpy as np
import pydicom
from pydicom.pixels import apply_color_lut, apply_modality_lut, as_pixel_options, get_decoder
from pydicom.uid import ExplicitVRBigEndian, ExplicitVRLittleEndian, ImplicitVRLittleEndian

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
SRC = os.path.join(ROOT, "fixtures", "dicom")
DEST = os.path.join(ROOT, "fixtures", "dicom-refs")
MAX_SIDE = 64
BUDGET = 2_980_000  # bytes for all of fixtures/dicom-refs: under 3 MB even as `du -sb` counts it

# Syntaxes whose decoded pixels must equal pydicom's exactly; the others (lossy) match within 1% of range.
LOSSLESS = {
    "1.2.840.10008.1.2", "1.2.840.10008.1.2.1", "1.2.840.10008.1.2.2", "1.2.840.10008.1.2.1.99",
    "1.2.840.10008.1.2.5", "1.2.840.10008.1.2.4.57", "1.2.840.10008.1.2.4.70", "1.2.840.10008.1.2.4.80",
    "1.2.840.10008.1.2.4.90", "1.2.840.10008.1.2.4.201", "1.2.840.10008.1.2.4.202",
    "1.2.840.10008.1.2.8.1",
}


def safe_name(rel):
    return re.sub(r"[^A-Za-z0-9._-]", "_", rel.replace("/", "__")) + ".npy"


def header(ds, key):
    try:
        value = ds.get(key)
    except Exception:  # a malformed value (e.g. IS "1A") must not stop the survey
        return None
    if value is None or value == "":
        return None
    try:
        return int(value) if key != "PhotometricInterpretation" else str(value)
    except (TypeError, ValueError):
        return str(value)


def first_item(seq_owner, keyword):
    seq = seq_owner.get(keyword) if seq_owner is not None else None
    return seq[0] if seq else None


def frame_rescale(ds, index):
    """(slope, intercept, where) for one frame: per-frame group, shared group, then top level."""
    per_frame = ds.get("PerFrameFunctionalGroupsSequence")
    groups = [
        ("per-frame", per_frame[index] if per_frame and index < len(per_frame) else None),
        ("shared", first_item(ds, "SharedFunctionalGroupsSequence")),
    ]
    for where, group in groups:
        pvt = first_item(group, "PixelValueTransformationSequence")
        if pvt is not None and "RescaleSlope" in pvt and "RescaleIntercept" in pvt:
            return float(pvt.RescaleSlope), float(pvt.RescaleIntercept), where
    if "RescaleSlope" in ds and "RescaleIntercept" in ds:
        return float(ds.RescaleSlope), float(ds.RescaleIntercept), "top-level"
    return 1.0, 0.0, "none"


def to_cfhw(arr, frames, samples):
    """pydicom's (H,W) / (H,W,S) / (F,H,W) / (F,H,W,S) -> (C,F,H,W)."""
    if samples == 1:
        arr = arr[..., np.newaxis]
    if frames == 1 and arr.ndim == 3:
        arr = arr[np.newaxis]
    return np.moveaxis(arr, -1, 0)


def transform(ds, arr, info):
    """Modality transform, palette expansion and MONOCHROME1 inversion; returns float64 (C,F,H,W)."""
    frames = info["frames"]
    pi = info["photometric"]
    if pi == "PALETTE COLOR":
        info["modality_transform"] = "palette (apply_color_lut)"
        return to_cfhw(apply_color_lut(arr, ds).astype(np.float64), frames, 3)

    samples = arr.shape[-1] if arr.ndim == (4 if frames > 1 else 3) else 1
    full = to_cfhw(arr.astype(np.float64), frames, samples)
    signed = info["pixel_representation"] == 1
    bits = info["bits_stored"]
    if ds.get("ModalityLUTSequence"):
        full = to_cfhw(apply_modality_lut(arr, ds).astype(np.float64), frames, samples)
        lut = apply_modality_lut(np.arange(-(1 << 16), 1 << 16), ds)
        ranges = [(float(lut.min()), float(lut.max()))] * frames
        info["modality_transform"] = "Modality LUT Sequence"
    else:
        ranges, wheres, params = [], set(), set()
        lo_raw, hi_raw = ((-(1 << (bits - 1)), (1 << (bits - 1)) - 1) if signed else (0, (1 << bits) - 1)) \
            if bits else (None, None)
        for f in range(frames):
            slope, intercept, where = frame_rescale(ds, f)
            wheres.add(where)
            params.add((slope, intercept))
            if (slope, intercept) != (1.0, 0.0):
                full[:, f] = full[:, f] * slope + intercept
            if lo_raw is not None:
                a, b = lo_raw * slope + intercept, hi_raw * slope + intercept
                ranges.append((min(a, b), max(a, b)))
        info["modality_transform"] = {"source": sorted(wheres), "slope_intercept": sorted(params)}
    if pi == "MONOCHROME1":
        for f, (lo, hi) in enumerate(ranges):
            full[:, f] = (lo + hi) - full[:, f]
        info["monochrome1_inverted"] = {"lo_hi": ranges[0] if len(set(ranges)) == 1 else ranges}
    return full


def read(path):
    """Read like a user would; fall back to force=True for files without a File Meta header."""
    try:
        return pydicom.dcmread(path), None
    except pydicom.errors.InvalidDicomError as err:
        return pydicom.dcmread(path, force=True), f"{type(err).__name__}: {err}"


def survey(rel):
    path = os.path.join(SRC, rel)
    info = {"file": rel}
    try:
        ds, note = read(path)
    except Exception as err:
        info.update(status="read_failed", error=f"{type(err).__name__}: {err}")
        return info, None
    if note:
        info["read_note"] = "plain dcmread failed, read with force=True: " + note
    ts = ds.file_meta.get("TransferSyntaxUID") if hasattr(ds, "file_meta") else None
    info["transfer_syntax"] = str(ts) if ts else None
    for key, name in [("PhotometricInterpretation", "photometric"), ("Rows", "rows"), ("Columns", "cols"),
                      ("NumberOfFrames", "frames"), ("SamplesPerPixel", "samples"),
                      ("BitsAllocated", "bits_allocated"), ("BitsStored", "bits_stored"),
                      ("PixelRepresentation", "pixel_representation"),
                      ("PlanarConfiguration", "planar_configuration")]:
        info[name] = header(ds, key)
    if info["frames"] is None:
        info["frames"] = 1
    elif not isinstance(info["frames"], int) or info["frames"] < 1:  # e.g. badVR.dcm's "1A"
        info["frames_header"], info["frames"] = info["frames"], 1
    info["lossless"] = (str(ts) in LOSSLESS) if ts else None
    if not any(k in ds for k in ("PixelData", "FloatPixelData", "DoubleFloatPixelData")):
        info.update(status="no_pixel_data")
        return info, None

    try:
        arr = decode(ds)
    except Exception as err:
        first = f"{type(err).__name__}: {err}"
        if ts or not hasattr(ds, "original_encoding") or ds.original_encoding[0] is None:
            info.update(status="decode_failed", error=first)
            return info, None
        # Headless: decode again in the encoding pydicom detected while reading (as our reader does).
        implicit, little = ds.original_encoding
        assumed = ImplicitVRLittleEndian if implicit else (
            ExplicitVRLittleEndian if little else ExplicitVRBigEndian)
        ds.file_meta = pydicom.dataset.FileMetaDataset()
        ds.file_meta.TransferSyntaxUID = assumed
        info.update(transfer_syntax_assumed=str(assumed), first_error=first,
                    lossless=str(assumed) in LOSSLESS)
        try:
            arr = decode(ds)
        except Exception as err:
            info.update(status="decode_failed", error=f"{type(err).__name__}: {err}")
            return info, None
    info["decoded_photometric"] = decoded_photometric(ds)
    try:
        full = transform(ds, arr, info)
    except Exception as err:
        info.update(status="transform_failed", error=f"{type(err).__name__}: {err}")
        return info, None
    c, f, h, w = full.shape
    stride = max(1, math.ceil(h / MAX_SIDE), math.ceil(w / MAX_SIDE))
    frames = sorted({0, f // 2, f - 1})
    ref = np.ascontiguousarray(full[:, frames][:, :, ::stride, ::stride].astype(np.float32))
    info.update(status="ok", layout="CFHW", shape=[c, f, h, w], ref=safe_name(rel), ref_frames=frames,
                stride=stride, ref_shape=list(ref.shape),
                stats={"min": float(full.min()), "max": float(full.max()),
                       "mean": float(full.mean()), "sum": float(full.sum())})
    return info, ref


def decode(ds):
    return ds.pixel_array


def decoded_photometric(ds):
    """The colour space of pixel_array's samples (pydicom converts YBR to RGB), from frame 0's metadata."""
    try:
        decoder = get_decoder(ds.file_meta.TransferSyntaxUID)
        _, meta = decoder.as_array(ds, index=0, **as_pixel_options(ds))
        return str(meta.get("photometric_interpretation"))
    except Exception as err:
        return f"unknown ({type(err).__name__})"


def main():
    warnings.simplefilter("ignore")  # pydicom warns loudly on the deliberately malformed fixtures
    os.makedirs(DEST, exist_ok=True)
    for old in os.listdir(DEST):
        if old.endswith(".npy"):
            os.remove(os.path.join(DEST, old))
    files = sorted(os.path.relpath(os.path.join(d, n), SRC)
                   for d, _, names in os.walk(SRC) for n in names if n != "ATTRIBUTION.md")
    names = [safe_name(f) for f in files]
    assert len(set(names)) == len(names), "safe names collide"

    records = []
    for rel in files:
        info, ref = survey(rel)
        if ref is not None:
            np.save(os.path.join(DEST, info["ref"]), ref)
        records.append(info)
        print(f"{info['status']:>16}  {rel}  {info.get('error', '')[:100]}", file=sys.stderr)

    doc = {
        "generator": "tools/dicom/make_pixel_refs.py",
        "versions": {p: version(p) for p in ("pydicom", "pylibjpeg", "pylibjpeg-libjpeg",
                                             "pylibjpeg-openjpeg", "pylibjpeg-rle", "numpy")},
        "conventions": __doc__.split("The references follow")[1].split("Headless files")[0].strip(),
        "files": records,
    }
    # One line per file keeps the JSON small and its diffs readable.
    body = json.dumps({k: v for k, v in doc.items() if k != "files"}, indent=1)[:-2]
    # Absent attributes are left out rather than written as null.
    lines = ",\n  ".join(json.dumps({k: v for k, v in r.items() if v is not None}, separators=(",", ":"))
                          for r in records)
    with open(os.path.join(DEST, "refs.json"), "w", encoding="utf-8") as f:
        f.write(f'{body},\n "files": [\n  {lines}\n ]\n}}\n')
    size = sum(os.path.getsize(os.path.join(DEST, n)) for n in os.listdir(DEST))
    ok = sum(r["status"] == "ok" for r in records)
    print(f"{len(records)} files, {ok} references, {size} bytes in fixtures/dicom-refs", file=sys.stderr)
    if size > BUDGET:
        raise SystemExit(f"fixtures/dicom-refs is {size} bytes, over the {BUDGET} budget")


if __name__ == "__main__":
    main()
