#!/usr/bin/env python3
"""Trains the two small demonstration models behind docs/examples (not shipped, not committed): a fundus
classifier on the shared ODIR-5K sample and a 3D OCT classifier on the shared Kermany OCT2017 B-scans, as PyTorch
twins of our engine's architectures (tools/engine/make_references.py), then imports them as model packages with
`medtrain import-torch`. Preprocessing here is what the packages' input specs do in Swift (area or trilinear
resize as torch F.interpolate, min-max, normalise to [-1, 1]), so served inputs look like training inputs.

  fundus: resnet18 (width 8), 3x160x160, labels N D G C A H M O (multi-label, patient level), ODIR patients
          1410 and 1681 held out (their left eyes are fixtures/photo/*.jpg).
  oct:    small_cnn3d (width 8), 1x4x96x96, labels CNV DME DRUSEN NORMAL: each B-scan repeated over 4 slices
          (with independent noise), as a depth-1 Spectralis .vol is resized to 4 slices. The JPEGs are display
          values, about reflectivity^(1/4), so the spec's 4th root makes a .vol look like them.

Run (needs ../shared/data; a few minutes on 2 cores):
  .venv-torch/bin/python tools/explain/train_demo_models.py /tmp/medlens-demo .build/debug/medtrain
"""
import csv
import pathlib
import subprocess
import sys

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image
from safetensors.torch import save_file

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "engine"))
from make_references import ResNet, SmallCNN  # noqa: E402

DATA = ROOT.parent / "shared" / "data"
if not DATA.exists():
    DATA = pathlib.Path("/work/shared/data")
ODIR_LABELS = ["N", "D", "G", "C", "A", "H", "M", "O"]
OCT_LABELS = ["CNV", "DME", "DRUSEN", "NORMAL"]


def min_max_normalise(x):
    lo, hi = x.min(), x.max()
    return ((x - lo) / (hi - lo) if hi > lo else torch.zeros_like(x)) * 2 - 1


def fundus_data():
    rows = list(csv.DictReader(open(DATA / "odir5k" / "full_df.csv")))
    xs, ys, held = [], [], {"1410", "1681"}
    for r in rows:
        if r["ID"] in held:
            continue
        image = torch.from_numpy(np.asarray(Image.open(DATA / "odir5k" / "preprocessed_images" / r["filename"]).convert("RGB"),
                                            dtype=np.float32)).permute(2, 0, 1)
        xs.append(min_max_normalise(F.interpolate(image[None], size=(160, 160), mode="area")[0]))
        ys.append([float(r[k]) for k in ODIR_LABELS])
    return torch.stack(xs), torch.tensor(ys)


def oct_data():
    xs, ys = [], []
    for k, label in enumerate(OCT_LABELS):
        for path in sorted((DATA / "kermany-oct2017" / "val" / label).glob("*.jpeg")):
            b = torch.from_numpy(np.asarray(Image.open(path).convert("L"), dtype=np.float32))
            xs.append(b)
            ys.append([1.0 if j == k else 0.0 for j in range(4)])
    return xs, torch.tensor(ys)


def oct_volume(bscan, gen):
    """A B-scan as a 4-slice volume, resized trilinearly to 4x96x96, min-max, [-1, 1], slice noise."""
    v = F.interpolate(bscan[None, None, None], size=(4, 96, 96), mode="trilinear", align_corners=False)[0]
    v = min_max_normalise(v)
    return v + 0.05 * torch.randn(v.shape, generator=gen)


def train(model, batches, epochs, lr):
    opt = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=1e-4)
    for epoch in range(epochs):
        model.train()
        total = 0.0
        for x, y in batches(epoch):
            opt.zero_grad()
            loss = F.binary_cross_entropy_with_logits(model(x), y)
            loss.backward()
            opt.step()
            total += loss.item()
        print(f"  epoch {epoch}: loss {total:.4f}", flush=True)
    model.eval()
    return model


def main():
    out = pathlib.Path(sys.argv[1])
    medtrain = sys.argv[2] if len(sys.argv) > 2 else None
    out.mkdir(parents=True, exist_ok=True)
    torch.manual_seed(0)
    torch.set_num_threads(2)

    print("fundus: ODIR-5K sample")
    x, y = fundus_data()
    gen = torch.Generator().manual_seed(1)

    def fundus_batches(epoch):
        order = torch.randperm(len(x), generator=gen)
        for i in range(0, len(x), 16):
            idx = order[i:i + 16]
            b = x[idx]
            flip = torch.rand(len(idx), generator=gen) < 0.5
            b = torch.where(flip[:, None, None, None], b.flip(-1), b)
            yield b, y[idx]

    fundus = train(ResNet([2, 2, 2, 2], False, 3, len(ODIR_LABELS), "imagenet", 2, 8), fundus_batches, 20, 3e-3)
    save_file({k: v.contiguous() for k, v in fundus.state_dict().items()}, str(out / "fundus.safetensors"))

    print("oct: Kermany OCT2017 B-scans as 8-slice volumes")
    bscans, oy = oct_data()

    def oct_batches(epoch):
        order = torch.randperm(len(bscans), generator=gen)
        for i in range(0, len(bscans), 8):
            idx = order[i:i + 8]
            vols = []
            for j in idx:
                b = bscans[int(j)]
                if torch.rand(1, generator=gen).item() < 0.5:
                    b = b.flip(-1)
                vols.append(oct_volume(b, gen))
            yield torch.stack(vols), oy[idx]

    oct_model = train(SmallCNN(1, len(OCT_LABELS), 8, dims=3), oct_batches, 40, 3e-3)
    save_file({k: v.contiguous() for k, v in oct_model.state_dict().items()}, str(out / "oct3d.safetensors"))

    if medtrain:
        normalise = '{"op":"min_max"},{"op":"scale","factor":2,"offset":-1}'
        subprocess.run([medtrain, "import-torch", "--arch", "resnet18", "--width", "8", "--weights", str(out / "fundus.safetensors"),
                        "--labels", ",".join(ODIR_LABELS), "--size", "160x160", "--channels", "3", "--interpolation", "area",
                        "--intensity", f"[{normalise}]", "--name", "odir-demo", "--out", str(out / "odir-demo")], check=True)
        subprocess.run([medtrain, "import-torch", "--arch", "small_cnn3d", "--width", "8", "--weights", str(out / "oct3d.safetensors"),
                        "--labels", ",".join(OCT_LABELS), "--size", "4x96x96", "--channels", "1", "--interpolation", "trilinear",
                        "--intensity", f'[{{"op":"power","exponent":0.25}},{normalise}]', "--name", "oct-demo",
                        "--out", str(out / "oct-demo")], check=True)
        print(f"packages: {out / 'odir-demo'}, {out / 'oct-demo'}")


if __name__ == "__main__":
    main()
