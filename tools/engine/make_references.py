#!/usr/bin/env python3
"""PyTorch references for the MedEngine parity tests (Tests/MedEngineTests/ParityTests.swift).

For each architecture, at reduced width and input size, writes into fixtures/engine/:
  <case>.weights.safetensors  seeded random state_dict (torchvision parameter names)
  <case>.input.npy            the input batch (float32, C order)
  <case>.logits.npy           eval-mode logits
  <case>.grads.safetensors    one train-mode BCE-with-logits step (pos_weight set): "loss", "input"
                              (the input gradient) and the gradient of every parameter, by name.
  optim.safetensors           five steps of SGD (momentum+dampening, Nesterov; weight decay) and AdamW on
                              loss Σ s·(w−t)²/2, gradient clipping, and step / cosine / plateau schedules.

Run (CPU torch from PyPI; torchvision is not needed, the twins below use torchvision's names):
  python3 -m venv .venv-torch && .venv-torch/bin/pip install torch numpy safetensors
  .venv-torch/bin/python tools/engine/make_references.py
"""
import pathlib

import numpy as np
import torch
import torch.nn as nn
from safetensors.torch import save_file

OUT = pathlib.Path(__file__).resolve().parents[2] / "fixtures" / "engine"
LABELS = 3
POS_WEIGHT = torch.tensor([1.0, 2.0, 0.5])


def conv_bn(dims):
    return (nn.Conv2d, nn.BatchNorm2d) if dims == 2 else (nn.Conv3d, nn.BatchNorm3d)


class Block(nn.Module):
    """torchvision BasicBlock / Bottleneck, or the video BasicBlock (conv1.0/conv1.1 names)."""

    def __init__(self, inp, planes, stride, bottleneck, dims, video):
        super().__init__()
        Conv, BN = conv_bn(dims)
        self.video, self.bottleneck = video, bottleneck
        self.relu = nn.ReLU()
        if bottleneck:
            out = planes * 4
            self.conv1, self.bn1 = Conv(inp, planes, 1, bias=False), BN(planes)
            self.conv2, self.bn2 = Conv(planes, planes, 3, stride, 1, bias=False), BN(planes)
            self.conv3, self.bn3 = Conv(planes, out, 1, bias=False), BN(out)
        elif video:
            out = planes
            self.conv1 = nn.Sequential(Conv(inp, planes, 3, stride, 1, bias=False), BN(planes), nn.ReLU())
            self.conv2 = nn.Sequential(Conv(planes, planes, 3, 1, 1, bias=False), BN(planes))
        else:
            out = planes
            self.conv1, self.bn1 = Conv(inp, planes, 3, stride, 1, bias=False), BN(planes)
            self.conv2, self.bn2 = Conv(planes, planes, 3, 1, 1, bias=False), BN(planes)
        self.downsample = None
        if stride != 1 or inp != out:
            self.downsample = nn.Sequential(Conv(inp, out, 1, stride, bias=False), BN(out))
        self.out = out

    def forward(self, x):
        if self.video:
            h = self.conv2(self.conv1(x))
        else:
            h = self.relu(self.bn1(self.conv1(x)))
            h = self.bn2(self.conv2(h))
            if self.bottleneck:
                h = self.bn3(self.conv3(self.relu(h)))
        s = x if self.downsample is None else self.downsample(x)
        return self.relu(h + s)


class ResNet(nn.Module):
    """torchvision ResNet (stem 'imagenet'), MedMNIST's 3x3 stem ('small'), or r3d_18 ('video')."""

    def __init__(self, blocks, bottleneck, inp, labels, stem, dims, width):
        super().__init__()
        dims = 3 if stem == "video" else dims
        Conv, BN = conv_bn(dims)
        self.stem_kind = stem
        if stem == "video":
            self.stem = nn.Sequential(nn.Conv3d(inp, width, (3, 7, 7), (1, 2, 2), (1, 3, 3), bias=False), BN(width), nn.ReLU())
        else:
            k, s, p = (7, 2, 3) if stem == "imagenet" else (3, 1, 1)
            self.conv1, self.bn1 = Conv(inp, width, k, s, p, bias=False), BN(width)
            self.relu = nn.ReLU()
            self.maxpool = (nn.MaxPool2d if dims == 2 else nn.MaxPool3d)(3, 2, 1)
        c = width
        for i, n in enumerate(blocks):
            layer = []
            for b in range(n):
                blk = Block(c, width << i, 2 if (b == 0 and i > 0) else 1, bottleneck, dims, stem == "video")
                c = blk.out
                layer.append(blk)
            setattr(self, f"layer{i + 1}", nn.Sequential(*layer))
        self.avgpool = (nn.AdaptiveAvgPool2d if dims == 2 else nn.AdaptiveAvgPool3d)(1)
        self.fc = nn.Linear(c, labels)

    def forward(self, x):
        if self.stem_kind == "video":
            x = self.stem(x)
        else:
            x = self.relu(self.bn1(self.conv1(x)))
            if self.stem_kind == "imagenet":
                x = self.maxpool(x)
        for i in range(4):
            x = getattr(self, f"layer{i + 1}")(x)
        return self.fc(torch.flatten(self.avgpool(x), 1))


class DenseLayer(nn.Module):
    def __init__(self, inp, growth, bn_size):
        super().__init__()
        self.norm1, self.relu1 = nn.BatchNorm2d(inp), nn.ReLU()
        self.conv1 = nn.Conv2d(inp, bn_size * growth, 1, bias=False)
        self.norm2, self.relu2 = nn.BatchNorm2d(bn_size * growth), nn.ReLU()
        self.conv2 = nn.Conv2d(bn_size * growth, growth, 3, 1, 1, bias=False)

    def forward(self, feats):
        h = self.conv1(self.relu1(self.norm1(torch.cat(feats, 1))))
        return self.conv2(self.relu2(self.norm2(h)))


class DenseNet(nn.Module):
    """torchvision DenseNet layout (features.denseblockN.denselayerM..., features.transitionN...)."""

    def __init__(self, inp, labels, growth, config, init, bn_size):
        super().__init__()
        f = nn.Sequential()
        f.add_module("conv0", nn.Conv2d(inp, init, 7, 2, 3, bias=False))
        f.add_module("norm0", nn.BatchNorm2d(init))
        f.add_module("relu0", nn.ReLU())
        f.add_module("pool0", nn.MaxPool2d(3, 2, 1))
        c = init
        for i, n in enumerate(config):
            block = nn.Module()
            for j in range(n):
                block.add_module(f"denselayer{j + 1}", DenseLayer(c + j * growth, growth, bn_size))
            f.add_module(f"denseblock{i + 1}", block)
            c += n * growth
            if i < len(config) - 1:
                t = nn.Sequential()
                t.add_module("norm", nn.BatchNorm2d(c))
                t.add_module("relu", nn.ReLU())
                t.add_module("conv", nn.Conv2d(c, c // 2, 1, bias=False))
                t.add_module("pool", nn.AvgPool2d(2, 2))
                f.add_module(f"transition{i + 1}", t)
                c //= 2
        f.add_module("norm5", nn.BatchNorm2d(c))
        self.features = f
        self.classifier = nn.Linear(c, labels)

    def forward(self, x):
        for name, m in self.features.named_children():
            if name.startswith("denseblock"):
                feats = [x]
                for layer in m.children():
                    feats.append(layer(feats))
                x = torch.cat(feats, 1)
            else:
                x = m(x)
        x = torch.relu(x)
        return self.classifier(torch.flatten(nn.functional.adaptive_avg_pool2d(x, 1), 1))


class VGG(nn.Module):
    CFG = [64, 64, "M", 128, 128, "M", 256, 256, 256, "M", 512, 512, 512, "M", 512, 512, 512, "M"]

    def __init__(self, inp, labels, div, hidden):
        super().__init__()
        layers, c = [], inp
        for v in self.CFG:
            if v == "M":
                layers.append(nn.MaxPool2d(2, 2))
            else:
                layers += [nn.Conv2d(c, v // div, 3, padding=1), nn.ReLU()]
                c = v // div
        self.features = nn.Sequential(*layers)
        self.avgpool = nn.AdaptiveAvgPool2d(7)
        # Dropout p=0 so the reference step is deterministic; the Swift side builds the same.
        self.classifier = nn.Sequential(nn.Linear(c * 49, hidden), nn.ReLU(), nn.Dropout(0.0), nn.Linear(hidden, hidden),
                                        nn.ReLU(), nn.Dropout(0.0), nn.Linear(hidden, labels))

    def forward(self, x):
        return self.classifier(torch.flatten(self.avgpool(self.features(x)), 1))


class SmallCNN(nn.Module):
    """Twin of MedEngine.SmallCNN."""

    def __init__(self, inp, labels, width, dims=2):
        super().__init__()
        Conv, BN = conv_bn(dims)
        w = [inp, width, width * 2, width * 4]
        for i in range(3):
            setattr(self, f"conv{i + 1}", Conv(w[i], w[i + 1], 3, 1, 1, bias=False))
            setattr(self, f"bn{i + 1}", BN(w[i + 1]))
        self.pool = (nn.MaxPool2d if dims == 2 else nn.MaxPool3d)(2)
        self.fc = nn.Linear(w[3], labels)
        self.dims = dims

    def forward(self, x):
        for i in range(3):
            x = torch.relu(getattr(self, f"bn{i + 1}")(getattr(self, f"conv{i + 1}")(x)))
            if i < 2:
                x = self.pool(x)
        return self.fc(torch.flatten(x.mean(dim=tuple(range(2, 2 + self.dims))), 1))


CASES = {
    "small_cnn": (lambda: SmallCNN(1, LABELS, 4), (2, 1, 28, 28)),
    "resnet18": (lambda: ResNet([2, 2, 2, 2], False, 3, LABELS, "imagenet", 2, 4), (2, 3, 64, 64)),
    "resnet18_28": (lambda: ResNet([2, 2, 2, 2], False, 1, LABELS, "small", 2, 4), (2, 1, 28, 28)),
    "resnet50": (lambda: ResNet([3, 4, 6, 3], True, 3, LABELS, "imagenet", 2, 2), (2, 3, 64, 64)),
    "resnet18_3d": (lambda: ResNet([2, 2, 2, 2], False, 1, LABELS, "small", 3, 2), (2, 1, 16, 16, 16)),
    "r3d_18": (lambda: ResNet([2, 2, 2, 2], False, 3, LABELS, "video", 3, 2), (2, 3, 4, 32, 32)),
    "densenet121": (lambda: DenseNet(3, LABELS, 4, (6, 12, 24, 16), 8, 2), (2, 3, 64, 64)),
    "vgg16": (lambda: VGG(3, LABELS, 32, 16), (2, 3, 32, 32)),
}


def randomise(model, gen):
    """Non-trivial batch-norm parameters and statistics, so eval mode and folding are really exercised."""
    with torch.no_grad():
        for m in model.modules():
            if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d)):
                m.weight.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
                m.bias.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)
                m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
                m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)


def relu_margin(model, x):
    """Smallest |value| entering a ReLU in a float64 train-mode pass. A value within float32 rounding of 0
    flips the ReLU between engines and changes the gradient discontinuously, so such draws are skipped."""
    values = []

    def note(t):
        nonzero = t.detach().abs()
        nonzero = nonzero[nonzero > 0]  # exact zeros (ReLU outputs re-entering) are exact in every engine
        if nonzero.numel():
            values.append(nonzero.min().item())

    hooks = [m.register_forward_hook(lambda _m, _i, o: note(o))
             for m in model.modules() if isinstance(m, (nn.BatchNorm2d, nn.BatchNorm3d))]
    hooks += [m.register_forward_hook(lambda _m, i, _o: note(i[0])) for m in model.modules() if isinstance(m, nn.ReLU)]
    model.double().train()(x.double())
    for h in hooks:
        h.remove()
    return min(values)


def draw(index, make, shape):
    """Seeded model, input and targets; redraws (seed + 100·k) until no ReLU input is near 0."""
    best = None
    for attempt in range(40):
        torch.manual_seed(1000 + index + 100 * attempt)
        gen = torch.Generator().manual_seed(2000 + index + 100 * attempt)
        model = make()
        randomise(model, gen)
        x = torch.randn(shape, generator=gen)
        targets = (torch.rand((shape[0], LABELS), generator=gen) > 0.5).float()
        state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        probe = make()
        probe.load_state_dict(state)
        margin = relu_margin(probe, x)
        if best is None or margin > best[0]:
            best = (margin, state, x, targets)
        if margin >= 1e-5:
            break
    margin, state, x, targets = best
    model = make()
    model.load_state_dict(state)
    return model, x, targets, margin


def optim_references():
    gen = torch.Generator().manual_seed(77)
    init, target = torch.randn(4, 3, generator=gen), torch.randn(4, 3, generator=gen)
    scale = torch.rand(4, 3, generator=gen) + 0.5
    out = {"init": init, "target": target, "scale": scale}
    configs = {
        "sgd": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, dampening=0.1, weight_decay=0.01),
        "nesterov": lambda p: torch.optim.SGD(p, lr=0.1, momentum=0.9, nesterov=True, weight_decay=0.01),
        "adamw": lambda p: torch.optim.AdamW(p, lr=0.05, weight_decay=0.1),
    }
    for name, make in configs.items():
        w = init.clone().requires_grad_(True)
        opt = make([w])
        for _ in range(5):
            opt.zero_grad()
            (scale * (w - target) ** 2 / 2).sum().backward()
            opt.step()
        out[name] = w.detach().clone()
    w = init.clone().requires_grad_(True)
    (scale * (w - target) ** 2 / 2).sum().backward()
    out["clip_norm"] = torch.nn.utils.clip_grad_norm_([w], max_norm=0.5).reshape(1)
    out["clipped"] = w.grad.clone()

    def rates(make_scheduler, metrics=None):
        opt = torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)
        sched, lrs = make_scheduler(opt), []
        for epoch in range(12):
            opt.step()
            sched.step(metrics[epoch]) if metrics is not None else sched.step()
            lrs.append(opt.param_groups[0]["lr"])
        return torch.tensor(lrs)

    metrics = torch.tensor([1.0, 0.9, 0.95, 0.96, 0.97, 0.91, 0.99, 0.98, 0.97, 0.96, 0.95, 0.94])
    out["lr_step"] = rates(lambda o: torch.optim.lr_scheduler.StepLR(o, step_size=3, gamma=0.5))
    out["lr_cosine"] = rates(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, T_max=10, eta_min=0.001))
    out["plateau_metrics"] = metrics
    out["lr_plateau"] = rates(lambda o: torch.optim.lr_scheduler.ReduceLROnPlateau(o, factor=0.5, patience=2, cooldown=1),
                              metrics.tolist())
    save_file({k: v.float().contiguous() for k, v in out.items()}, str(OUT / "optim.safetensors"))


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    optim_references()
    for index, (name, (make, shape)) in enumerate(CASES.items()):
        model, x, targets, margin = draw(index, make, shape)
        state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
        save_file(state, str(OUT / f"{name}.weights.safetensors"))
        np.save(OUT / f"{name}.input.npy", x.numpy())
        np.save(OUT / f"{name}.targets.npy", targets.numpy())
        model.eval()
        with torch.no_grad():
            np.save(OUT / f"{name}.logits.npy", model(x).numpy())
        # The training step runs in float64 so the reference is the exact answer, not one float32 rounding
        # of it: batch-norm over few values (deep layers at small sizes) amplifies rounding noise.
        model = model.double().train()
        xg = x.double().clone().requires_grad_(True)
        loss = nn.BCEWithLogitsLoss(pos_weight=POS_WEIGHT.double())(model(xg), targets.double())
        loss.backward()
        grads = {"loss": loss.detach().reshape(1).float(), "input": xg.grad.float().contiguous()}
        grads.update({k: p.grad.float().contiguous() for k, p in model.named_parameters()})
        save_file(grads, str(OUT / f"{name}.grads.safetensors"))
        print(f"{name}: loss {loss.item():.6f}, {sum(p.numel() for p in model.parameters())} parameters, "
              f"smallest ReLU input {margin:.2e}")


if __name__ == "__main__":
    main()
