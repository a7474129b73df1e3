#!/usr/bin/env python3
"""References for the MedExplain parity tests (Tests/MedExplainTests/ParityTests.swift, QAMetricTests.swift).

Runs pytorch-grad-cam 1.5.7 (PyPI `grad-cam`), Captum 0.9.0, scikit-image and SciPy on seeded small models that
are our engine's architectures under torchvision names (the PyTorch twins of tools/engine/make_references.py), and
writes into fixtures/explain/:

  cases.json                       per case: architecture, width, input shape, labels, target layer, occlusion window
  <case>.weights.safetensors       the state_dict our engine loads (ModelPackage.importTorch / Model.load)
  <case>.input.npy                 1xCx... float32 input
  <case>.logits.npy                eval logits
  <case>.<method>.raw.npy          targets x layer grid: the signed weighted sum before any ReLU (from the A and G
                                   pytorch-grad-cam recorded), method in gradcam, hirescam, gradcampp
  <case>.<method>.final.npy        targets x input grid: pytorch-grad-cam's output (3D: its cubic B-spline zoom)
  <case>.gradcam.trilinear.npy     3D only: pytorch-grad-cam's low-res map, resized with torch trilinear
                                   (align_corners=False) and normalised as pytorch-grad-cam does: our product mode
  <case>.occlusion.npy             targets x input grid: Captum Occlusion (window over all channels), baseline 0
  overlay.*.npy                    show_cam_on_image (use_rgb=True) inputs and output, jet
  colormap_jet.npy / colormap_turbo.npy   OpenCV's 256-entry RGB tables
  metrics.*.npy                    SSIM (skimage), Spearman (scipy), ROAD MoRF/LeRF (pytorch-grad-cam, noise 0)

Run (the venv has torch, grad-cam 1.5.7, captum, scikit-image, safetensors):
  .venv-torch/bin/python tools/explain/make_parity_fixtures.py
"""
import json
import pathlib
import sys

import cv2
import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from captum.attr import Occlusion
from pytorch_grad_cam import GradCAM, GradCAMPlusPlus, HiResCAM
from pytorch_grad_cam.metrics.perturbation_confidence import (PerturbationConfidenceMetric, RemoveLeastRelevantFirst,
                                                              RemoveMostRelevantFirst)
from pytorch_grad_cam.metrics.road import NoisyLinearImputer
from pytorch_grad_cam.utils.image import scale_cam_image, show_cam_on_image
from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget
from safetensors.torch import save_file
from scipy.stats import spearmanr
from skimage.metrics import structural_similarity

ROOT = pathlib.Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "tools" / "engine"))
from make_references import ResNet, SmallCNN, randomise  # noqa: E402  (the engine's torchvision-named twins)

OUT = ROOT / "fixtures" / "explain"
METHODS = {"gradcam": GradCAM, "hirescam": HiResCAM, "gradcampp": GradCAMPlusPlus}


class SmallCNNWithReLUModules(SmallCNN):
    """The engine records SmallCNN's `conv3` after its ReLU; a ReLU module gives pytorch-grad-cam that tensor.
    ReLU has no parameters, so the state_dict names are unchanged."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.relu3 = nn.ReLU()

    def forward(self, x):
        for i in range(3):
            x = getattr(self, f"bn{i + 1}")(getattr(self, f"conv{i + 1}")(x))
            x = self.relu3(x) if i == 2 else torch.relu(x)
            if i < 2:
                x = self.pool(x)
        return self.fc(torch.flatten(x.mean(dim=tuple(range(2, 2 + self.dims))), 1))


# name: (architecture, width, make, input shape, labels, target-layer getter, engine layer name, occlusion window/stride)
CASES = {
    "small_cnn_2d": ("small_cnn", 4, lambda: SmallCNNWithReLUModules(1, 6, 4), (1, 1, 60, 50), 6,
                     lambda m: m.relu3, "conv3", ((10, 10), (5, 5))),
    "resnet18_2d": ("resnet18", 4, lambda: ResNet([2, 2, 2, 2], False, 3, 5, "imagenet", 2, 4), (1, 3, 128, 96), 5,
                    lambda m: m.layer4, "layer4", ((32, 24), (16, 12))),
    "small_cnn_3d": ("small_cnn3d", 4, lambda: SmallCNNWithReLUModules(1, 4, 4, dims=3), (1, 1, 24, 32, 28), 4,
                     lambda m: m.relu3, "conv3", ((8, 8, 7), (8, 8, 7))),
    "resnet18_3d": ("resnet18_3d", 2, lambda: ResNet([2, 2, 2, 2], False, 1, 3, "small", 3, 2), (1, 1, 16, 24, 20), 3,
                    lambda m: m.layer4, "layer4", ((8, 8, 10), (4, 8, 5))),
}


def spatial_axes(a):
    return tuple(range(2, a.ndim))


def pgc_maps(model, layer, x, labels, method):
    """pytorch-grad-cam's final maps and the raw maps recomputed from the A and G it recorded."""
    finals, raws, lowres = [], [], []
    with METHODS[method](model=model, target_layers=[layer]) as cam:
        for c in range(labels):
            finals.append(cam(input_tensor=x, targets=[ClassifierOutputTarget(c)])[0])
            a = cam.activations_and_grads.activations[0].numpy()
            g = cam.activations_and_grads.gradients[0].numpy()
            weights = cam.get_cam_weights(x, layer, None, a, g) if method != "hirescam" else None
            raw = (g * a).sum(1)[0] if method == "hirescam" else \
                (weights.reshape(weights.shape + (1,) * len(spatial_axes(a))) * a).sum(1)[0]
            raws.append(raw)
            lowres.append(scale_cam_image(np.maximum(raw, 0)[None])[0])
    return np.float32(finals), np.float32(raws), np.float32(lowres)


def trilinear_product_mode(lowres, size):
    """Our 3D default: the low-res normalised map resized trilinearly (half-pixel centres), ReLU, min-max."""
    out = []
    for m in lowres:
        up = F.interpolate(torch.from_numpy(m)[None, None], size=size, mode="trilinear", align_corners=False)[0, 0].numpy()
        out.append(scale_cam_image(np.maximum(up, 0)[None])[0])
    return np.float32(out)


def draw(make, shape, labels, layer_of, seed):
    """Seeded weights (batch-norm statistics randomised) and input. Redraws until at least one Grad-CAM map is
    empty and none is low-signal (a few positive values near zero that min-max would stretch to 1)."""
    for attempt in range(200):
        torch.manual_seed(seed + attempt)
        gen = torch.Generator().manual_seed(seed + 1000 + attempt)
        model = make()
        randomise(model, gen)
        model.eval()
        x = torch.randn(shape, generator=gen)
        _, raws, _ = pgc_maps(model, layer_of(model), x, labels, "gradcam")
        peaks = np.array([r.max() for r in raws])
        scales = np.array([np.abs(r).max() for r in raws])
        empty = peaks <= 0
        low = (~empty) & (peaks < 1e-2 * scales)
        if empty.any() and not empty.all() and not low.any():
            return model, x, attempt
    raise RuntimeError("no draw with an empty map and no low-signal map")


def captum_occlusion(model, x, labels, window, stride):
    occ = Occlusion(model)
    channels = x.shape[1]
    maps = []
    for c in range(labels):
        attr = occ.attribute(x, sliding_window_shapes=(channels,) + window, strides=(channels,) + stride,
                             baselines=0, target=c)
        maps.append(attr[0, 0].detach().numpy())
    return np.float32(maps)


def write_case(name, spec, index):
    arch, width, make, shape, labels, layer_of, layer_name, (window, stride) = spec
    model, x, attempt = draw(make, shape, labels, layer_of, 4000 + 100 * index)
    state = {k: v.detach().clone().contiguous() for k, v in model.state_dict().items()}
    save_file(state, str(OUT / f"{name}.weights.safetensors"))
    np.save(OUT / f"{name}.input.npy", x.numpy())
    with torch.no_grad():
        np.save(OUT / f"{name}.logits.npy", model(x).numpy())
    empty = []
    for method in METHODS:
        finals, raws, lowres = pgc_maps(model, layer_of(model), x, labels, method)
        np.save(OUT / f"{name}.{method}.raw.npy", raws)
        np.save(OUT / f"{name}.{method}.final.npy", finals)
        if method == "gradcam":
            empty = [bool(r.max() <= 0) for r in raws]
            if len(shape) == 5:
                np.save(OUT / f"{name}.gradcam.trilinear.npy", trilinear_product_mode(lowres, shape[2:]))
    np.save(OUT / f"{name}.occlusion.npy", captum_occlusion(model, x, labels, window, stride))
    print(f"{name}: draw {attempt}, layer grid {list(raws.shape[1:])}, empty Grad-CAM targets "
          f"{[i for i, e in enumerate(empty) if e]}")
    return {"architecture": arch, "width": width, "input": list(shape), "labels": labels, "layer": layer_name,
            "gradcam_empty": empty, "occlusion_window": list(window), "occlusion_stride": list(stride)}


def overlay_reference():
    """show_cam_on_image on a non-square grey image replicated to RGB and a smooth map, JET, weight 0.5."""
    rng = np.random.default_rng(7)
    h, w = 37, 53
    grey = np.float32(rng.random((h, w)))
    yy, xx = np.mgrid[0:h, 0:w]
    mask = np.float32(np.exp(-((yy - 12.0) ** 2 / 120 + (xx - 35.0) ** 2 / 300)))
    image = np.repeat(grey[..., None], 3, axis=2)
    np.save(OUT / "overlay.image.npy", grey)
    np.save(OUT / "overlay.mask.npy", mask)
    np.save(OUT / "overlay.jet.npy", show_cam_on_image(image, mask, use_rgb=True))
    for name, cmap in (("jet", cv2.COLORMAP_JET), ("turbo", cv2.COLORMAP_TURBO)):
        lut = cv2.applyColorMap(np.arange(256, dtype=np.uint8).reshape(1, -1), cmap)[0][:, ::-1]
        np.save(OUT / f"colormap_{name}.npy", np.ascontiguousarray(lut))


def metric_references():
    """SSIM and Spearman between map pairs (with ties, as ReLU'd maps have), and ROAD on small_cnn_2d."""
    rng = np.random.default_rng(11)
    a = np.float32(np.maximum(rng.random((40, 33)) - 0.3, 0))
    b = np.float32(np.clip(a + 0.2 * rng.standard_normal(a.shape), 0, 1))
    c = np.float32(np.maximum(rng.random((40, 33)) - 0.5, 0))
    vol_a = np.float32(np.maximum(rng.random((9, 12, 10)) - 0.3, 0))
    vol_b = np.float32(np.clip(vol_a + 0.3 * rng.standard_normal(vol_a.shape), 0, 1))
    np.save(OUT / "metrics.maps2d.npy", np.stack([a, b, c]))
    np.save(OUT / "metrics.maps3d.npy", np.stack([vol_a, vol_b]))
    pairs2d = [(a, b), (a, c), (b, c), (a, a)]
    ssim = [structural_similarity(p, q, data_range=1.0) for p, q in pairs2d]
    ssim.append(structural_similarity(vol_a, vol_b, data_range=1.0))
    spear = [spearmanr(p.ravel(), q.ravel()).statistic for p, q in pairs2d]
    spear.append(spearmanr(vol_a.ravel(), vol_b.ravel()).statistic)
    np.save(OUT / "metrics.ssim.npy", np.float64(ssim))
    np.save(OUT / "metrics.spearman.npy", np.float64(spear))

    # ROAD: pytorch-grad-cam's imputer without noise, target = the finding's probability (our convention).
    spec = CASES["small_cnn_2d"]
    model = spec[2]()
    from safetensors.torch import load_file
    model.load_state_dict(load_file(str(OUT / "small_cnn_2d.weights.safetensors")))
    model.eval()
    x = torch.from_numpy(np.load(OUT / "small_cnn_2d.input.npy"))
    target = int(np.argmax([m.max() for m in np.load(OUT / "small_cnn_2d.gradcam.final.npy")]))
    cam = np.load(OUT / "small_cnn_2d.gradcam.final.npy")[target]
    percentiles = [10, 30, 50, 70, 90]
    imputer = NoisyLinearImputer(noise=0)
    morf, lerf = [], []
    for p in percentiles:
        for removal, out in ((RemoveMostRelevantFirst(p, imputer), morf), (RemoveLeastRelevantFirst(p, imputer), lerf)):
            metric = PerturbationConfidenceMetric(removal)
            out.append(metric(x, cam[None], [lambda o: torch.sigmoid(o[target])], model)[0])
    imputed = RemoveMostRelevantFirst(50, imputer)(x[0], torch.from_numpy(cam))
    np.save(OUT / "metrics.road_cam.npy", np.float32(cam))
    np.save(OUT / "metrics.road_morf.npy", np.float32(morf))
    np.save(OUT / "metrics.road_lerf.npy", np.float32(lerf))
    np.save(OUT / "metrics.road_imputed50.npy", imputed.numpy())
    return {"road_target": target, "road_percentiles": percentiles}


def main():
    OUT.mkdir(parents=True, exist_ok=True)
    torch.set_num_threads(2)
    import importlib.metadata
    import captum, skimage, scipy  # noqa: E401  (versions recorded below)
    cases = {name: write_case(name, spec, i) for i, (name, spec) in enumerate(CASES.items())}
    meta = {"cases": cases, "versions": {"grad-cam": importlib.metadata.version("grad-cam"), "torch": torch.__version__, "captum": captum.__version__,
                                         "scikit-image": skimage.__version__, "scipy": scipy.__version__,
                                         "opencv": cv2.__version__}}
    overlay_reference()
    meta["metrics"] = metric_references()
    (OUT / "cases.json").write_text(json.dumps(meta, indent=1, sort_keys=True) + "\n")


if __name__ == "__main__":
    main()
