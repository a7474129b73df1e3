#!/usr/bin/env python3
"""PyTorch eager timings on the GPU, the anchor for `medlens bench --backend cuda` (tools/cuda/device-check.sh).

  python3 tools/cuda/bench_torch_cuda.py [--math fp32|tf32] [--iterations N] [--device cuda|cpu] CASE...
  CASE = ARCH:SHAPE[:train], e.g. resnet18:64x3x224x224 resnet18:64x3x224x224:train r3d_18:16x3x16x112x112

torchvision's resnet18 / densenet121 / r3d_18 (the layouts MedEngine's models follow), 1000 outputs, random
weights. Inference is eval() under no_grad; a training step is zero_grad, forward, BCE-with-logits against zeros,
backward, SGD(momentum 0.9), as MedEngine's Benchmark.run. PyTorch eager defaults otherwise (cudnn.benchmark
off). fp32 turns TF32 off for cuDNN and matmul; tf32 turns it on for both. Timed with CUDA events after 3 warm-up
steps; prints one JSON line per case: arch, shape, train, math, median_ms, min_ms, max_ms.
Needs torch and torchvision (on the GPU machine's python3; here: .venv-torch/bin/python --device cpu).
"""
import argparse
import json
import statistics
import time

import torch
import torch.nn as nn
import torchvision

MODELS = {
    "resnet18": lambda: torchvision.models.resnet18(num_classes=1000),
    "resnet50": lambda: torchvision.models.resnet50(num_classes=1000),
    "densenet121": lambda: torchvision.models.densenet121(num_classes=1000),
    "vgg16": lambda: torchvision.models.vgg16(num_classes=1000),
    "r3d_18": lambda: torchvision.models.video.r3d_18(num_classes=1000),
}


def parse_case(text):
    parts = text.split(":")
    if len(parts) not in (2, 3) or parts[0] not in MODELS or (len(parts) == 3 and parts[2] != "train"):
        raise SystemExit(f"bad case {text!r}: use ARCH:SHAPE[:train] with ARCH in {', '.join(MODELS)}")
    shape = [int(v) for v in parts[1].split("x")]
    return parts[0], shape, len(parts) == 3


def time_case(arch, shape, train, device, iterations):
    model = MODELS[arch]().to(device)
    x = torch.randn(shape, device=device)
    if train:
        model.train()
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        targets = torch.zeros(shape[0], 1000, device=device)
        loss_fn = nn.BCEWithLogitsLoss()

        def step():
            opt.zero_grad()
            loss_fn(model(x), targets).backward()
            opt.step()
    else:
        model.eval()

        def step():
            with torch.no_grad():
                model(x)

    times = []
    for i in range(3 + iterations):
        if device == "cuda":
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            step()
            end.record()
            torch.cuda.synchronize()
            elapsed = start.elapsed_time(end)
        else:
            t0 = time.perf_counter()
            step()
            elapsed = (time.perf_counter() - t0) * 1000
        if i >= 3:
            times.append(elapsed)
    del model, x
    if device == "cuda":
        torch.cuda.empty_cache()
    return {"median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times)}


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--math", choices=["fp32", "tf32"], default="fp32")
    parser.add_argument("--iterations", type=int, default=10)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("cases", nargs="+")
    args = parser.parse_args()
    cases = [parse_case(c) for c in args.cases]
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("torch sees no CUDA device")
    tf32 = args.math == "tf32"
    torch.backends.cuda.matmul.allow_tf32 = tf32
    torch.backends.cudnn.allow_tf32 = tf32
    torch.manual_seed(0)
    for arch, shape, train in cases:
        result = time_case(arch, shape, train, args.device, args.iterations)
        print(json.dumps({"arch": arch, "shape": shape, "train": train, "math": args.math, "device": args.device,
                          "torch": torch.__version__, **result}), flush=True)


if __name__ == "__main__":
    main()
