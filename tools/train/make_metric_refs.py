"""Reference values for MedTrainKit's metrics, computed with scikit-learn (never by hand).

Run from the repository root:
    python3 -m venv .venv-train && .venv-train/bin/pip install numpy scikit-learn
    .venv-train/bin/python tools/train/make_metric_refs.py

Writes fixtures/train/metrics/<case>_{scores,labels,mask}.npy (float32, shape N x L) and <case>.json with,
per label, the values MedTrainKit must reproduce within 1e-9 (thresholds exactly), ROC and precision-recall
curves included. Scores are float32 so that
Swift reads exactly the numbers scikit-learn saw.
"""
import json
import os

import numpy as np
import sklearn
from sklearn.calibration import calibration_curve
from sklearn.metrics import (average_precision_score, brier_score_loss, f1_score, precision_recall_curve,
                             recall_score, roc_auc_score, roc_curve)

OUT = os.path.join("fixtures", "train", "metrics")
THRESHOLD = 0.5
TARGET_SENSITIVITY = 0.9
ECE_BINS = 15


def ece(y, p):
    # calibration_curve's own binning (np.searchsorted on the inner edges: bins are (lo, hi], the first [0, hi]);
    # ECE weighs each non-empty bin's |fraction positive - mean score| by its share of the samples.
    prob_true, prob_pred = calibration_curve(y, p, n_bins=ECE_BINS, strategy="uniform")
    edges = np.linspace(0.0, 1.0, ECE_BINS + 1)
    counts = np.bincount(np.searchsorted(edges[1:-1], p), minlength=ECE_BINS)
    weights = counts[counts > 0] / len(p)
    return float(np.sum(weights * np.abs(prob_true - prob_pred)))


def youden_threshold(y, p):
    fpr, tpr, thr = roc_curve(y, p, drop_intermediate=False)
    # thresholds fall; argmax keeps the first, i.e. the highest threshold among ties.
    return float(thr[int(np.argmax(tpr - fpr))])


def max_f1_threshold(y, p):
    precision, recall, thr = precision_recall_curve(y, p)
    precision, recall = precision[:-1], recall[:-1]  # the last point (P=1, R=0) has no threshold
    with np.errstate(invalid="ignore", divide="ignore"):
        f1 = np.where(precision + recall > 0, 2 * precision * recall / (precision + recall), 0.0)
    # thresholds rise here: the highest threshold among ties is the last maximum.
    best = len(f1) - 1 - int(np.argmax(f1[::-1]))
    return float(thr[best]), float(f1[best])


def sensitivity_threshold(y, p, target):
    _, tpr, thr = roc_curve(y, p, drop_intermediate=False)
    return float(thr[int(np.argmax(tpr >= target))])


def label_refs(y, p):
    ref = {"count": int(len(y)), "positives": int(y.sum())}
    if 0 < y.sum() < len(y):
        predicted = (p >= THRESHOLD).astype(int)
        ref.update(
            auroc=float(roc_auc_score(y, p)),
            average_precision=float(average_precision_score(y, p)),
            f1=float(f1_score(y, predicted, zero_division=0)),
            sensitivity=float(recall_score(y, predicted, zero_division=0)),
            specificity=float(recall_score(1 - y, 1 - predicted, zero_division=0)),
            brier=float(brier_score_loss(y, p)),
            ece=ece(y, p),
            youden_threshold=youden_threshold(y, p),
            max_f1_threshold=max_f1_threshold(y, p)[0],
            max_f1=max_f1_threshold(y, p)[1],
            sensitivity_threshold=sensitivity_threshold(y, p, TARGET_SENSITIVITY),
        )
        fpr, tpr, roc_thresholds = roc_curve(y, p, drop_intermediate=False)
        precision, recall, pr_thresholds = precision_recall_curve(y, p)
        # The curves the plots draw: every ROC point (its first threshold is infinite, left out of the JSON), and
        # the precision-recall points without the closing (recall 0, precision 1), highest threshold first.
        ref.update(roc_fpr=fpr.tolist(), roc_tpr=tpr.tolist(), roc_thresholds=roc_thresholds[1:].tolist(),
                   pr_precision=precision[:-1][::-1].tolist(), pr_recall=recall[:-1][::-1].tolist(),
                   pr_thresholds=pr_thresholds[::-1].tolist())
    return ref


def write_case(name, scores, labels, mask):
    os.makedirs(OUT, exist_ok=True)
    scores = scores.astype(np.float32)
    for suffix, array in (("scores", scores), ("labels", labels), ("mask", mask)):
        np.save(os.path.join(OUT, f"{name}_{suffix}.npy"), array.astype(np.float32))
    per_label = []
    for j in range(scores.shape[1]):
        keep = mask[:, j] > 0
        per_label.append(label_refs(labels[keep, j].astype(int), scores[keep, j].astype(np.float64)))
    aps = [r["average_precision"] for r in per_label if "average_precision" in r]
    refs = {"sklearn": sklearn.__version__, "threshold": THRESHOLD, "target_sensitivity": TARGET_SENSITIVITY,
            "ece_bins": ECE_BINS, "labels": per_label, "mean_average_precision": float(np.mean(aps))}
    with open(os.path.join(OUT, f"{name}.json"), "w") as f:
        json.dump(refs, f, indent=1)


def main():
    rng = np.random.default_rng(20261123)
    # Case "ties": 120 samples, 4 labels; scores rounded to one decimal so that many tie, about 10% masked.
    n = 120
    labels = (rng.random((n, 4)) < np.array([0.3, 0.5, 0.1, 0.4])).astype(np.float32)
    noise = rng.normal(0, 0.25, (n, 4))
    scores = np.clip(np.round(0.35 + 0.3 * labels + noise, 1), 0, 1)
    scores[:, 3] = np.where(labels[:, 3] > 0, 0.8, 0.3)  # label 3: perfectly separated, two distinct scores
    mask = (rng.random((n, 4)) > 0.1).astype(np.float32)
    write_case("ties", scores, labels, mask)
    # Case "continuous": 1000 samples, 3 labels, sigmoid scores without ties, no mask; label 2 has no positives.
    n = 1000
    labels = (rng.random((n, 3)) < np.array([0.05, 0.6, 0.0])).astype(np.float32)
    logits = rng.normal(0, 1, (n, 3)) + 1.5 * labels
    scores = 1 / (1 + np.exp(-logits))
    write_case("continuous", scores, labels, np.ones((n, 3), np.float32))


if __name__ == "__main__":
    main()
