"""Copies small subsets of the shared training data into fixtures/train/ (tests never read ../shared).

Run from the repository root, with the shared data at ../shared/data (or pass its path):
    python3 -m venv .venv-train && .venv-train/bin/pip install numpy scikit-learn
    .venv-train/bin/python tools/train/make_fixtures.py [/work/shared/data [PART ...]]

PART is nih, odir, kermany, medmnist or balanced (default: all of them).

Images and table rows are copied byte-for-byte (rows verbatim, in the source order); MedMNIST arrays are sliced
and re-saved with numpy.savez_compressed, as the shared copies were. ATTRIBUTION.md files are kept by hand.
"""
import json
import os
import shutil
import sys

import numpy as np

SHARED = sys.argv[1] if len(sys.argv) > 1 else os.path.join("..", "shared", "data")
OUT = os.path.join("fixtures", "train")


def copy_table_rows(source, target, keep):
    """Writes the header and the lines for which keep(line) is true, verbatim."""
    with open(source, newline="") as f:
        lines = f.readlines()
    with open(target, "w", newline="") as f:
        f.write(lines[0])
        f.writelines(line for line in lines[1:] if keep(line))


def nih():
    source = os.path.join(SHARED, "nih-chestxray14")
    out = os.path.join(OUT, "nih")
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    with open(os.path.join(source, "Data_Entry_2017_v2020.csv")) as f:
        names = [line.split(",")[0] for line in f.readlines()[1:21]]
    copy_table_rows(os.path.join(source, "Data_Entry_2017_v2020.csv"), os.path.join(out, "Data_Entry_2017_v2020.csv"),
                    lambda line: line.split(",")[0] in names)
    # The four smallest of those twenty PNGs (all are 1024 x 1024; size only decides what fits the budget).
    smallest = sorted(names, key=lambda n: os.path.getsize(os.path.join(source, "images", n)))[:4]
    for name in smallest:
        shutil.copyfile(os.path.join(source, "images", name), os.path.join(out, "images", name))


def odir():
    source = os.path.join(SHARED, "odir5k")
    out = os.path.join(OUT, "odir")
    os.makedirs(os.path.join(out, "images"), exist_ok=True)
    with open(os.path.join(source, "full_df.csv")) as f:
        ids = []
        for line in f.readlines()[1:]:
            if line.split(",")[0] not in ids:
                ids.append(line.split(",")[0])
    patients = ids[:5]
    copy_table_rows(os.path.join(source, "full_df.csv"), os.path.join(out, "full_df.csv"),
                    lambda line: line.split(",")[0] in patients)
    # Both eyes of the first three patients; the other two patients' rows stay without images on purpose.
    for patient in patients[:3]:
        for eye in ("left", "right"):
            name = f"{patient}_{eye}.jpg"
            shutil.copyfile(os.path.join(source, "preprocessed_images", name), os.path.join(out, "images", name))


def kermany():
    source = os.path.join(SHARED, "kermany-oct2017", "val")
    for label in ("CNV", "DME", "DRUSEN", "NORMAL"):
        out = os.path.join(OUT, "kermany", "val", label)
        os.makedirs(out, exist_ok=True)
        for name in sorted(os.listdir(os.path.join(source, label)))[:2]:
            shutil.copyfile(os.path.join(source, label, name), os.path.join(out, name))


def medmnist():
    source = os.path.join(SHARED, "medmnist")
    out = os.path.join(OUT, "medmnist")
    os.makedirs(out, exist_ok=True)
    expected = {}
    for name, target, train, val in (("pneumoniamnist_kaggle_modified_trainval.npz", "pneumoniamnist_subset.npz", 64, 32),
                                     ("adrenalmnist3d_trainval.npz", "adrenalmnist3d_subset.npz", 16, 8)):
        with np.load(os.path.join(source, name)) as data:
            arrays = {"train_images": data["train_images"][:train], "train_labels": data["train_labels"][:train],
                      "val_images": data["val_images"][:val], "val_labels": data["val_labels"][:val]}
        np.savez_compressed(os.path.join(out, target), **arrays)
        # What the Swift reader must find, computed by NumPy from the arrays just written.
        expected[target] = {key: {"shape": list(a.shape), "sum": int(a.astype(np.int64).sum()),
                                  "first_sum": int(a[0].astype(np.int64).sum())} for key, a in arrays.items()}
    with open(os.path.join(out, "expected.json"), "w") as f:
        json.dump(expected, f, indent=1)


def balanced():
    """PneumoniaMNIST with both classes in every split, for training tests: the first 64 normal and 64 pneumonia
    images of the shared train split; the first 32 of each class of its val split as val, the next 16 of each
    as test (the shared file has no test split; these are val images)."""
    out = os.path.join(OUT, "medmnist")
    os.makedirs(out, exist_ok=True)
    with np.load(os.path.join(SHARED, "medmnist", "pneumoniamnist_kaggle_modified_trainval.npz")) as data:
        def pick(split, start, count):
            labels = data[f"{split}_labels"][:, 0]
            rows = sorted(np.concatenate([np.flatnonzero(labels == c)[start:start + count] for c in (0, 1)]))
            return data[f"{split}_images"][rows], data[f"{split}_labels"][rows]
        arrays = {}
        for split, source, start, count in (("train", "train", 0, 64), ("val", "val", 0, 32), ("test", "val", 32, 16)):
            arrays[f"{split}_images"], arrays[f"{split}_labels"] = pick(source, start, count)
    np.savez_compressed(os.path.join(out, "pneumoniamnist_balanced.npz"), **arrays)


if __name__ == "__main__":
    parts = {"nih": nih, "odir": odir, "kermany": kermany, "medmnist": medmnist, "balanced": balanced}
    for part in sys.argv[2:] or parts:
        parts[part]()
