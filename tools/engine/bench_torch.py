#!/usr/bin/env python3
"""PyTorch CPU timing for the same architectures as the engine's benchmark (docs/engine.md).

Uses the torchvision-named twins from make_references.py at full width (same layers as torchvision's
resnet18/resnet50/densenet121/vgg16/r3d_18), eval mode, no_grad, 2 threads by default.
  .venv-torch/bin/python tools/engine/bench_torch.py resnet18 1x3x224x224 [threads] [train|ort]
`ort` exports the same model to ONNX and times ONNX Runtime instead (intra-op threads = threads).
Needs: pip install torch onnx onnxruntime numpy safetensors.
Prints one JSON line: median_ms, min_ms, max_ms.
"""
import json
import statistics
import sys
import time

import torch
import torch.nn as nn

import make_references as refs

MODELS = {
    "resnet18": lambda c: refs.ResNet([2, 2, 2, 2], False, c, 1000, "imagenet", 2, 64),
    "resnet50": lambda c: refs.ResNet([3, 4, 6, 3], True, c, 1000, "imagenet", 2, 64),
    "r3d_18": lambda c: refs.ResNet([2, 2, 2, 2], False, c, 1000, "video", 3, 64),
    "densenet121": lambda c: refs.DenseNet(c, 1000, 32, (6, 12, 24, 16), 64, 4),
    "vgg16": lambda c: refs.VGG(c, 1000, 1, 4096),
}


def onnx_runtime_step(model, x, threads):
    import io

    import onnxruntime as ort
    model.eval()
    buffer = io.BytesIO()
    torch.onnx.export(model, x, buffer, input_names=["x"], output_names=["y"], opset_version=17, dynamo=False)
    options = ort.SessionOptions()
    options.intra_op_num_threads = threads
    options.inter_op_num_threads = 1
    session = ort.InferenceSession(buffer.getvalue(), options, providers=["CPUExecutionProvider"])
    feed = {"x": x.numpy()}
    return lambda: session.run(None, feed)


def main():
    arch, shape = sys.argv[1], [int(v) for v in sys.argv[2].split("x")]
    threads = int(sys.argv[3]) if len(sys.argv) > 3 else 2
    train = "train" in sys.argv[4:]
    torch.set_num_threads(threads)
    model = MODELS[arch](shape[1])
    x = torch.randn(shape)
    times = []
    if train:
        opt = torch.optim.SGD(model.parameters(), lr=1e-3, momentum=0.9)
        model.train()
        step = lambda: (opt.zero_grad(), nn.BCEWithLogitsLoss()(model(x), torch.zeros(shape[0], 1000)).backward(), opt.step())
    else:
        model.eval()
        step = lambda: model(x)
    if "ort" in sys.argv[4:]:
        step = onnx_runtime_step(model, x, threads)
    with torch.set_grad_enabled(train):
        for i in range((5 if train else 20) + 2):
            start = time.perf_counter()
            step()
            if i >= 2:
                times.append((time.perf_counter() - start) * 1000)
    print(json.dumps({"arch": arch, "shape": shape, "threads": threads, "train": train,
                      "median_ms": statistics.median(times), "min_ms": min(times), "max_ms": max(times)}))


if __name__ == "__main__":
    main()
