#!/usr/bin/env python3
"""Writes resampling and intensity reference arrays for Tests/MedImagingTests into fixtures/imaging/.

Expected outputs come from PyTorch's F.interpolate (and NumPy for percentiles), never from our own code.
Run from the repository root:

    python3 -m venv .venv-torch && .venv-torch/bin/pip install torch numpy   # CPU torch is enough
    .venv-torch/bin/python tools/imaging/make_resample_refs.py

Each case writes <name>_input.npy (float32, C x D x H x W, the Volume layout) and <name>_expected.npy, and
cases.json lists them with the mode and target size. Inputs are seeded, so reruns give the same files.
"""
import json
import pathlib

import numpy as np
import torch
import torch.nn.functional as F

OUT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "imaging"

# (name, mode, input shape C x D x H x W, output size: (H, W) for 2D modes, (D, H, W) for trilinear)
RESIZE_CASES = [
    ("bilinear_up", "bilinear", (2, 1, 7, 9), (12, 13)),
    ("bilinear_down", "bilinear", (3, 1, 11, 10), (4, 3)),
    ("bilinear_mixed", "bilinear", (1, 2, 6, 8), (9, 5)),
    ("area_down", "area", (2, 1, 10, 11), (3, 4)),
    ("area_even", "area", (1, 1, 8, 12), (4, 3)),
    ("area_up", "area", (1, 1, 4, 5), (7, 9)),
    ("trilinear_up", "trilinear", (2, 3, 5, 6), (5, 8, 9)),
    ("trilinear_down", "trilinear", (1, 7, 9, 8), (3, 4, 5)),
]


def save(name: str, array: np.ndarray) -> None:
    np.save(OUT / name, np.ascontiguousarray(array, dtype=np.float32))


def main() -> None:
    OUT.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(20261123)
    cases = []
    for name, mode, shape, size in RESIZE_CASES:
        x = rng.random(shape, dtype=np.float32)
        t = torch.from_numpy(x)
        if mode == "trilinear":
            y = F.interpolate(t.unsqueeze(0), size=size, mode="trilinear", align_corners=False)[0]
        else:
            c, d, h, w = shape  # slices are independent: fold depth into the batch
            planes = t.permute(1, 0, 2, 3)
            kwargs = {"align_corners": False} if mode == "bilinear" else {}
            y = F.interpolate(planes, size=size, mode=mode, **kwargs).permute(1, 0, 2, 3)
        save(f"{name}_input.npy", x)
        save(f"{name}_expected.npy", y.numpy())
        cases.append({"name": name, "mode": mode, "size": list(size)})

    # Intensity references from NumPy: percentile clip (linear interpolation) and z-score (population std).
    x = (rng.standard_normal((1, 2, 9, 7)) * 40 + 100).astype(np.float32)
    save("intensity_input.npy", x)
    lo, hi = np.percentile(x.astype(np.float64), [2.0, 98.0])
    save("percentile_clip_2_98_expected.npy", np.clip(x, lo, hi))
    x64 = x.astype(np.float64)
    save("z_score_expected.npy", (x64 - x64.mean()) / x64.std())
    # Many ties (five distinct values) and the extreme percentiles: the selection code's edge cases.
    ties = rng.integers(0, 5, size=(1, 1, 6, 11)).astype(np.float32)
    save("ties_input.npy", ties)
    for lower, upper in [(0, 100), (10, 90), (37.5, 62.5)]:
        lo, hi = np.percentile(ties.astype(np.float64), [lower, upper])
        save(f"ties_clip_{lower}_{upper}_expected.npy", np.clip(ties, lo, hi))

    (OUT / "cases.json").write_text(json.dumps({"torch": torch.__version__, "numpy": np.__version__, "cases": cases}, indent=1) + "\n")
    print(f"wrote {len(cases)} resize cases and intensity references to {OUT}")


if __name__ == "__main__":
    main()
