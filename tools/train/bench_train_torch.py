#!/usr/bin/env python3
"""PyTorch training throughput beside `medtrain bench` (scripts/bench.sh, `make bench`).

The same step as MedTrainKit's loop: the torchvision-named twin of the architecture (tools/engine/make_references.py),
train mode, BCE with logits and pos_weight, AdamW (lr 1e-3, weight decay 1e-4), on random inputs and 0/1 labels,
eager, the given thread count. Prints one JSON line: arch, input, median_step_ms, images_per_s.
    .venv-torch/bin/python tools/train/bench_train_torch.py small_cnn 64x1x28x28 [threads] [width]
Needs: pip install torch numpy (the torch venv of tools/engine).
"""
import json
import os
import statistics
import sys
import time

import torch
import torch.nn as nn

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "engine"))
import make_references as refs  # noqa: E402

MODELS = {
    "small_cnn": lambda c, w: refs.SmallCNN(c, 1, w or 16),
    "resnet18": lambda c, w: refs.ResNet([2, 2, 2, 2], False, c, 1, "imagenet", 2, w or 64),
    "resnet18_28": lambda c, w: refs.ResNet([2, 2, 2, 2], False, c, 1, "small", 2, w or 64),
}


def main():
    arch, shape = sys.argv[1], [int(v) for v in sys.argv[2].split("x")]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    width = int(sys.argv[4]) if len(sys.argv) > 4 else None
    torch.set_num_threads(threads)
    torch.manual_seed(0)
    model = MODELS[arch](shape[1], width)
    model.train()
    optimizer = torch.optim.AdamW(model.parameters(), lr=1e-3, weight_decay=1e-4)
    loss_fn = nn.BCEWithLogitsLoss(pos_weight=torch.tensor([1.0]))
    x = torch.randn(shape)
    y = torch.randint(0, 2, (shape[0], 1)).float()
    times = []
    for i in range(7):
        start = time.perf_counter()
        optimizer.zero_grad()
        loss_fn(model(x), y).backward()
        optimizer.step()
        if i >= 2:
            times.append((time.perf_counter() - start) * 1000)
    median = statistics.median(times)
    print(json.dumps({"arch": arch, "input": shape, "threads": threads, "median_step_ms": median,
                      "images_per_s": shape[0] / (median / 1000)}))


if __name__ == "__main__":
    main()
