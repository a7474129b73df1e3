#!/usr/bin/env python3
"""Full-size torchvision models against the engine (the import-torch acceptance check).

Writes, for resnet18, resnet50, densenet121, vgg16 (1x3x224x224) and r3d_18 (1x3x16x112x112), torchvision's own
model with seeded random weights (batch-norm statistics randomised too) as <arch>.safetensors, the input as
<arch>.input.npy, the eval logits as <arch>.logits.npy and the same model's logits in float64 as
<arch>.logits64.npy into OUT (default /tmp/medengine-fullsize; ~700 MB, not committed). PyTorch's own float32
logits differ from float64 too (ResNet-50, whose logits reach ~800, by ~2e-4 relative), so both are reported. Then, when the release binaries exist, imports each state_dict with `medtrain import-torch`,
runs the package with `medlens run-model` and prints the largest |engine - PyTorch| / (1 + |PyTorch|):
  .venv-torch/bin/pip install --no-deps torchvision && .venv-torch/bin/pip install pillow
  swift build -c release
  .venv-torch/bin/python tools/engine/check_full_size.py [OUT]
The same references drive FullSizeTests (ModelPackage.importTorch in-process):
  swift build -c release -Xswiftc -enable-testing --build-tests
  MEDENGINE_FULLSIZE_DIR=OUT .build/release/MedLensPackageTests.xctest --testing-library swift-testing \
      --filter FullSizeTests
"""
import pathlib
import subprocess
import sys

import numpy as np
import torch
import torchvision
from safetensors.torch import save_file

from make_references import randomise

OUT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/medengine-fullsize")
BIN = pathlib.Path(__file__).resolve().parents[2] / ".build" / "release"
CASES = {
    "resnet18": (torchvision.models.resnet18, (1, 3, 224, 224)),
    "resnet50": (torchvision.models.resnet50, (1, 3, 224, 224)),
    "densenet121": (torchvision.models.densenet121, (1, 3, 224, 224)),
    "vgg16": (torchvision.models.vgg16, (1, 3, 224, 224)),
    "r3d_18": (torchvision.models.video.r3d_18, (1, 3, 16, 112, 112)),
}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    for i, (name, (make, shape)) in enumerate(CASES.items()):
        torch.manual_seed(i)
        gen = torch.Generator().manual_seed(100 + i)
        model = make()
        randomise(model, gen)
        model.eval()
        x = torch.randn(shape, generator=gen)
        with torch.no_grad():
            logits = model(x)
            exact = model.double()(x.double())
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(OUT / f"{name}.safetensors"))
        np.save(OUT / f"{name}.input.npy", x.numpy())
        np.save(OUT / f"{name}.logits.npy", logits.numpy())
        np.save(OUT / f"{name}.logits64.npy", exact.numpy())
        print(name, tuple(logits.shape), f"max |logit| {logits.abs().max().item():.4f}, PyTorch float32 vs float64: "
              f"{relative(logits.numpy(), exact.numpy()):.2e}", flush=True)
        if (BIN / "medtrain").exists() and (BIN / "medlens").exists():
            check_engine(name, shape, logits.numpy(), exact.numpy())


def relative(ours, ref):
    """max |ours - ref| / (1 + |ref|)"""
    return (np.abs(ours - ref) / (1 + np.abs(ref))).max()


def check_engine(name, shape, ref, exact):
    """medtrain import-torch, then medlens run-model on the same input."""
    package, out = OUT / f"{name}.pkg", OUT / f"{name}.engine.npy"
    labels = ",".join(f"class{i}" for i in range(ref.shape[1]))
    size = "x".join(str(d) for d in shape[2:])
    subprocess.run([BIN / "medtrain", "import-torch", "--arch", name, "--weights", OUT / f"{name}.safetensors",
                    "--labels", labels, "--size", size, "--channels", str(shape[1]), "--out", package],
                   check=True, stdout=subprocess.DEVNULL)
    subprocess.run([BIN / "medlens", "run-model", "--model", package, "--input", OUT / f"{name}.input.npy",
                    "--output", out, "--threads", "2"], check=True)
    ours = np.load(out)
    print(f"  engine via medtrain import-torch + medlens run-model: max |delta|/(1+|ref|) vs PyTorch float32 "
          f"{relative(ours, ref):.2e} (max |delta| {np.abs(ours - ref).max():.2e}), vs float64 {relative(ours, exact):.2e}",
          flush=True)


if __name__ == "__main__":
    main()
