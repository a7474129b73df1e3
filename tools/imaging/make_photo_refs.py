#!/usr/bin/env python3
"""Writes Pillow's decoding of the JPEG photo fixtures into fixtures/photo/refs/, for PhotoReaderTests.

Pillow ships its own libjpeg build, so this checks our libjpeg shim (colour conversion, channel order, row order)
against an independent decoder. Only a 64 x 64 crop around the centre is kept, to stay small: uint8,
shape C x 1 x 64 x 64 (the Volume layout), from rows and columns 224..287.
It also re-encodes that crop of 1681_left.jpg as a progressive JPEG (with Pillow's decoding beside it) and as a
CMYK JPEG, which the reader must refuse with a reason.
Run from the repository root:

    .venv-torch/bin/pip install pillow numpy && .venv-torch/bin/python tools/imaging/make_photo_refs.py
"""
import pathlib

import numpy as np
from PIL import Image

ROOT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "photo"
FILES = ["1681_left.jpg", "1410_left.jpg", "DME-9603124-1.jpeg"]


def main() -> None:
    out = ROOT / "refs"
    out.mkdir(exist_ok=True)
    for name in FILES:
        pixels = np.asarray(Image.open(ROOT / name))
        planes = pixels[None] if pixels.ndim == 2 else pixels.transpose(2, 0, 1)
        crop = planes[:, None, 224:288, 224:288]
        np.save(out / (pathlib.Path(name).stem + "_crop.npy"), np.ascontiguousarray(crop, dtype=np.uint8))
    crop = np.asarray(Image.open(ROOT / FILES[0]))[224:288, 224:288]
    Image.fromarray(crop).save(out / "progressive.jpg", quality=90, progressive=True)
    decoded = np.asarray(Image.open(out / "progressive.jpg")).transpose(2, 0, 1)[:, None]
    np.save(out / "progressive_expected.npy", np.ascontiguousarray(decoded, dtype=np.uint8))
    Image.fromarray(crop).convert("CMYK").save(out / "cmyk.jpg", quality=90)
    print(f"wrote {len(FILES)} crops, a progressive and a CMYK JPEG to {out}")


if __name__ == "__main__":
    main()
