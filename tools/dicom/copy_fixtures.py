#!/usr/bin/env python3
"""Copy the DICOM fixture subset listed in tools/dicom/fixtures.tsv and write its ATTRIBUTION.md.

Run from the repository root (plain python3, no venv needed):
    python3 tools/dicom/copy_fixtures.py [--src ../shared/data/dicom]

fixtures.tsv is the single source of truth: one file per line, with the category and what it covers.
Origin, commit and licence come from the source folder's MANIFEST.md so they never drift from it.
"""
import argparse
import os
import shutil
from collections import defaultdict

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
DEST = os.path.join(ROOT, "fixtures", "dicom")
BUDGET = 25_000_000  # bytes; fixtures are committed, so keep the clone small


def table_rows(lines):
    """Cells of every markdown table row whose first cell is not a header or separator."""
    for line in lines:
        if line.startswith("|") and not line.startswith("|---"):
            yield [c.strip() for c in line.rstrip("\n").split("|")[1:-1]]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--src", default=os.path.join(ROOT, "..", "shared", "data", "dicom"))
    args = ap.parse_args()
    manifest = open(os.path.join(args.src, "MANIFEST.md"), encoding="utf-8").read().splitlines()

    origins, file_origin, file_meta = {}, {}, {}
    for cells in table_rows(manifest):
        if len(cells) == 4 and cells[0] != "key":  # origins table: key | origin | path | licence
            origins[cells[0]] = cells[1:]
        elif len(cells) == 14 and cells[0].startswith("`"):  # files table
            path = cells[0].strip("`")
            file_origin[path] = cells[1]
            file_meta[path] = f"{cells[4]}, {cells[5] or '-'}, {cells[7] or '-'} bits, {cells[9] or 'no PI'}"

    entries = []
    for line in open(os.path.join(HERE, "fixtures.tsv"), encoding="utf-8"):
        if line.strip() and not line.startswith("#"):
            path, category, what = line.rstrip("\n").split("\t")
            entries.append((path, category, what))

    total = 0
    for path, _, _ in entries:
        src = os.path.join(args.src, path)
        dst = os.path.join(DEST, path)
        os.makedirs(os.path.dirname(dst), exist_ok=True)
        shutil.copyfile(src, dst)
        total += os.path.getsize(dst)
    if total > BUDGET:
        raise SystemExit(f"fixtures/dicom is {total} bytes, over the {BUDGET} budget")

    by_origin = defaultdict(list)
    for path, category, what in entries:
        by_origin[file_origin[path]].append((path, category, what))

    out = ["# DICOM fixtures: attribution", "",
           f"{len(entries)} files, {total / 1e6:.1f} MB, copied unchanged from `../shared/data/dicom` "
           "(layout `<origin-key>/<relative path>`) by `tools/dicom/copy_fixtures.py` from "
           "`tools/dicom/fixtures.tsv`. Nobody on this team wrote them.", "",
           "Each line: file — category — what it covers [transfer syntax, rows x cols, bits, photometric].", ""]
    for key in sorted(by_origin):
        origin, inner, licence = origins[key]
        out += [f"## {key}", "", f"- origin: {origin}", f"- path inside origin: {inner}",
                f"- licence: {licence}", ""]
        for path, category, what in sorted(by_origin[key]):
            out.append(f"- `{path}` — {category} — {what} [{file_meta[path]}]")
        out.append("")
    with open(os.path.join(DEST, "ATTRIBUTION.md"), "w", encoding="utf-8") as f:
        f.write("\n".join(out))
    print(f"copied {len(entries)} files, {total} bytes")


if __name__ == "__main__":
    main()
