#!/usr/bin/env python3
"""Full-size torchvision models against the engine (the import-torch acceptance check).

Writes, for resnet18, resnet50, densenet121, vgg16 (1x3x224x224) and r3d_18 (1x3x16x112x112), torchvision's own
model with seeded random weights (batch-norm statistics randomised too) as <arch>.safetensors, the input as
<arch>.input.npy and the eval logits as <arch>.logits.npy into OUT (default /tmp/medengine-fullsize; ~700 MB,
not committed). Then run the Swift side, which imports each state_dict with ModelPackage.importTorch:
  .venv-torch/bin/pip install --no-deps torchvision && .venv-torch/bin/pip install pillow
  .venv-torch/bin/python tools/engine/check_full_size.py [OUT]
  swift build -c release -Xswiftc -enable-testing --build-tests
  MEDENGINE_FULLSIZE_DIR=OUT .build/release/MedLensPackageTests.xctest --testing-library swift-testing \
      --filter FullSizeTests
"""
import pathlib
import sys

import numpy as np
import torch
import torchvision
from safetensors.torch import save_file

from make_references import randomise

OUT = pathlib.Path(sys.argv[1] if len(sys.argv) > 1 else "/tmp/medengine-fullsize")
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
        save_file({k: v.contiguous() for k, v in model.state_dict().items()}, str(OUT / f"{name}.safetensors"))
        np.save(OUT / f"{name}.input.npy", x.numpy())
        np.save(OUT / f"{name}.logits.npy", logits.numpy())
        print(name, tuple(logits.shape), f"max |logit| {logits.abs().max().item():.4f}")


if __name__ == "__main__":
    main()
