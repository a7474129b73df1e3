#!/usr/bin/env python3
"""The PneumoniaMNIST subset used by Tests/MedEngineTests/TrainingTests.swift.

Takes a class-balanced, seeded sample from ../shared/data/medmnist/pneumoniamnist_kaggle_modified_trainval.npz:
128 normal + 128 pneumonia training images from the train split and 80 + 80 test images from the val split,
and writes them as uint8 .npy files (images N×28×28, labels N) into fixtures/engine/.
Run: .venv-torch/bin/python tools/engine/make_training_subset.py [path/to/npz]
"""
import pathlib
import sys

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[2]
SOURCE = pathlib.Path(sys.argv[1]) if len(sys.argv) > 1 else pathlib.Path(
    "/work/shared/data/medmnist/pneumoniamnist_kaggle_modified_trainval.npz")


def balanced(images, labels, per_class, rng):
    picks = np.concatenate([rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in (0, 1)])
    rng.shuffle(picks)
    return np.ascontiguousarray(images[picks]), np.ascontiguousarray(labels[picks].astype(np.uint8))


def main():
    data = np.load(SOURCE)
    rng = np.random.default_rng(3)
    out = ROOT / "fixtures" / "engine"
    for split, source, n in (("train", "train", 128), ("test", "val", 80)):
        images, labels = balanced(data[f"{source}_images"], data[f"{source}_labels"].ravel(), n, rng)
        np.save(out / f"pneumonia_{split}_images.npy", images)
        np.save(out / f"pneumonia_{split}_labels.npy", labels)
        print(split, images.shape, np.bincount(labels))


if __name__ == "__main__":
    main()
