"""Renders models/<name>/MODEL_CARD.md from the card text tools/train/cards/<name>.md and the model's training
report (models/<name>/report/report.json), so that every number in a card is the report's.

Run from the repository root after tools/train/train_default_models.sh (plain Python 3, no packages):
    python3 tools/train/model_cards.py [NAME ...]

Placeholders in a card text: {{summary}} (architecture, parameters, size, input spec, version, weights sha256),
{{split}} (samples, patients and positives per part), {{validation}} and {{test}} (per-label metrics tables),
{{training}} (epochs, best epoch, time), {{package}} (the files).
"""
import json
import os
import sys


def f(value, digits=3):
    return "–" if value is None else f"{value:.{digits}f}"


def table(part):
    e = part["evaluation"]
    rows = [f"{part['samples']} samples; mAP {f(e.get('meanAveragePrecision'))}, mean AUROC {f(e.get('meanAUROC'))}"
            f" (thresholds from the {part['thresholdsFrom']}).", "",
            "| label | n | positives | AUROC (95% CI) | AP | threshold | F1 | sensitivity | specificity | Brier | ECE |",
            "|---|---:|---:|---|---:|---:|---:|---:|---:|---:|---:|"]
    for l in e["labels"]:
        ci = l.get("aurocInterval")
        auroc = f(l.get("auroc")) + (f" ({f(ci['lower'])}–{f(ci['upper'])})" if ci else "")
        rows.append(f"| {l['name']} | {l['count']} | {l['positives']} | {auroc} | {f(l.get('averagePrecision'))} | "
                    f"{f(l.get('threshold'))} | {f(l['f1'])} | {f(l['sensitivity'])} | {f(l['specificity'])} | "
                    f"{f(l['brier'])} | {f(l['expectedCalibrationError'])} |")
    return "\n".join(rows)


def split(report):
    s = report["split"]
    names = ["train", "validation", "test"]
    rows = ["| | " + " | ".join(names) + " |", "|---|---:|---:|---:|"]
    rows.append("| samples | " + " | ".join(str(p["samples"]) for p in s["parts"]) + " |")
    rows.append("| patients | " + " | ".join(str(p["patients"]) for p in s["parts"]) + " |")
    for i, label in enumerate(s["labelNames"]):
        rows.append(f"| {label} | " + " | ".join(str(p["positives"][i]) for p in s["parts"]) + " |")
    return "\n".join(rows)


def render(name):
    folder = os.path.join("models", name)
    report = json.load(open(os.path.join(folder, "report", "report.json")))
    m, c = report["model"], report["config"]
    version = m["version"]
    weights = os.path.join(folder, version, "model.safetensors")
    steps = json.dumps(m["input"]["intensity"]["steps"], separators=(", ", ": "))
    summary = "\n".join([
        f"- version `{version}` (`models/{name}/current` -> `{version}`), weights sha256 `{m['weightsSHA256']}`",
        f"- architecture `{m['architecture']}` at width {m.get('width')}, {m['parameters']:,} parameters, "
        f"{os.path.getsize(weights) / 1e6:.2f} MB of weights",
        f"- labels (outputs, one sigmoid each): {', '.join(m['labels'])}",
        f"- input: {m['input']['channels']} x {' x '.join(map(str, m['input']['size']))}, channel policy "
        f"`{m['input']['channelPolicy']}`, interpolation `{m['input']['interpolation']}`, intensity `{steps}`",
        f"- thresholds: {c['threshold']} on the validation part (the package's `thresholds`)"])
    training = (f"{len(report['history'])} of {c['epochs']} epochs ({'early stopping' if report['stoppedEarly'] else 'all'}), "
                f"kept epoch {report['bestEpoch']}, {report['trainingSeconds'] / 60:.1f} min on 2 threads of the shared 2-core machine")
    package = "\n".join([
        f"- `models/{name}/{version}/model.json`, `model.safetensors`: the package (docs/model-package.md)",
        f"- `models/{name}/report/report.md` and `report.json`: the training report; `report/plots/`: ROC and "
        "precision-recall curves per label, training curves",
        f"- `tools/train/configs/{name}.json`: the training configuration"])
    text = open(os.path.join("tools", "train", "cards", f"{name}.md")).read()
    for key, value in (("summary", summary), ("split", split(report)), ("validation", table(report["validation"])),
                       ("test", table(report["test"]) if report.get("test") else "No test part."),
                       ("training", training), ("package", package)):
        text = text.replace("{{" + key + "}}", value)
    with open(os.path.join(folder, "MODEL_CARD.md"), "w") as out:
        out.write(text)
    print(f"{folder}/MODEL_CARD.md")


if __name__ == "__main__":
    for name in sys.argv[1:] or ["chest-pneumonia", "chest-nih14", "fundus-odir8", "oct-kermany4", "volume-adrenal3d"]:
        render(name)
