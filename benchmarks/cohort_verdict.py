"""The verdict with and without a reference cohort, on one protocol's scans, each subject held out in turn.

    python benchmarks/cohort_verdict.py [DIR] [--slabs 3] [--seeds 2] [--json out.json]

``DIR`` holds scans of one protocol, one file per subject (default: the TCIA pelvic T2w scans, ``$MMRQA_TCIA_DIR`` or
``../shared/data/tcia``). Each subject is held out in turn:

* the **cohort** is the other subjects' scans, as clean, measured by ``compute_metrics`` like ``mmrqa metrics``
  (a robust reference needs at least 5 values per metric: with ``--slabs K`` each scan is cut into K slabs of
  contiguous acquired slices, each slab one cohort entry; slabs of one subject share its noise, coil and anatomy);
* the **classifier** is the shipped model, or, when the held-out file is one of the scans it was fitted on, the
  recipe refitted without that scan (:func:`mmrqa.classifier.validation.fit_rows`, the inner-CV decision rule);
* the **variants** are the held-out subject's slabs as they are and with every artifact kind of the registry at
  mild, moderate and severe, ``--seeds`` seeds each (on the full-size slab, as ``mmrqa simulate`` writes them).

Each variant gets the classifier's verdict (:func:`mmrqa.classifier.classify`) and the verdict read beside the
cohort (:func:`mmrqa.classifier.cohort.cohort_verdict`), scored alike (:func:`mmrqa.classifier.validation.score`).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

import numpy as np

SEVERITIES = ("mild", "moderate", "severe")


def slabs_of(volume, count: int) -> list:
    """``count`` slabs of contiguous acquired slices (the whole scan when it has fewer than 2 slices per slab)."""
    from mmrqa.volume import Volume, acquisition_order

    volume = acquisition_order(volume)
    n = volume.shape[2]
    if count <= 1 or n < 2 * count:
        return [volume]
    edges = np.linspace(0, n, count + 1).astype(int)
    return [
        Volume(volume.data[:, :, a:b].copy(), volume.spacing, volume.affine, dict(volume.meta))
        for a, b in zip(edges[:-1], edges[1:], strict=True)
    ]


def fold_model(path: Path, seed: int):
    """The classifier that never saw ``path``: the shipped one, or the recipe refitted without that scan."""
    from mmrqa.classifier import load_model
    from mmrqa.classifier.data import build_table, real_scans
    from mmrqa.classifier.validation import fit_rows

    scans = real_scans()
    seen = [s.name for s in scans if s.path and os.path.realpath(s.path) == os.path.realpath(path)]
    if not seen:
        return load_model(), "shipped model"
    rows = [r for r in build_table(scans) if r["scan"] != seen[0]]
    model = fit_rows(rows, seed=seed)
    return model, f"refitted without {seen[0]}"


def run(folder: Path, slabs: int, seeds: int, seed: int = 0) -> dict:
    """Predictions of the classifier alone and with the cohort, per held-out subject (see the module docstring)."""
    from mmrqa.artifacts import KINDS, simulate
    from mmrqa.classifier import classify
    from mmrqa.classifier.cohort import cohort_verdict
    from mmrqa.io import find_scans, load_volume
    from mmrqa.metrics import compute_metrics
    from mmrqa.metrics.cohort import CohortReference

    files = [Path(p) for p in find_scans([folder])]
    pieces = {f.name: slabs_of(load_volume(f), slabs) for f in files}
    clean_metrics = {name: [dict(compute_metrics(v).values) for v in vols] for name, vols in pieces.items()}
    alone, with_cohort, folds = [], [], {}
    for k, held in enumerate(files):
        start = time.perf_counter()
        model, how = fold_model(held, seed)
        cohort_rows = [m for name, rows in clean_metrics.items() if name != held.name for m in rows]
        reference = CohortReference.from_values(cohort_rows, source=f"the other {len(files) - 1} subjects")
        changed = 0
        for i, slab in enumerate(pieces[held.name]):
            cases = [("none", "none", slab)]
            for j, kind in enumerate(KINDS):
                for severity in SEVERITIES:
                    for s in range(seeds):
                        cases.append((kind, severity, simulate(slab, kind, severity, 1000 * i + 10 * j + s)[0]))
            for kind, severity, volume in cases:
                report = compute_metrics(volume)
                verdict = classify(volume, report, model=model)
                read, note = cohort_verdict(verdict, dict(report.values), reference)
                changed += read is not verdict
                base = {"scan": held.name, "slab": i, "kind": kind, "severity": severity}
                alone.append({**base, "verdict": verdict})
                with_cohort.append({**base, "verdict": read, "note": note})
        folds[held.name] = {"classifier": how, "cohort_entries": len(cohort_rows), "changed_by_cohort": changed}
        logging.info(
            "subject %d/%d %s: %s, %d verdicts changed by the cohort (%.0f s)",
            k + 1,
            len(files),
            held.name,
            how,
            changed,
            time.perf_counter() - start,
        )
    return {"alone": alone, "cohort": with_cohort, "folds": folds}


def changes(result: dict) -> dict:
    """What the cohort did: verdicts it turned from clean to an artifact (*found*) and artifact verdicts it kept but
    questioned, every light being green (*questioned*), on clean slabs and on corrupted ones (moderate + severe,
    mild), with each clean slab it flagged."""
    from mmrqa.classifier.cohort import QUESTIONED

    out = {"found": {}, "questioned": {}, "clean_slabs_changed": []}
    for a, c in zip(result["alone"], result["cohort"], strict=True):
        if c["verdict"] is not a["verdict"]:
            what = "found"
        elif QUESTIONED in c["note"]:
            what = "questioned"
        else:  # unchanged, or only the caution that the scan lies from the cohort as a whole
            continue
        group = "clean" if a["kind"] == "none" else ("mild" if a["severity"] == "mild" else "moderate+severe")
        out[what][group] = out[what].get(group, 0) + 1
        if group == "clean" and what == "found":
            out["clean_slabs_changed"].append(f"{a['scan']} slab {a['slab']}: {c['note']}")
    return out


def _pct(value: float) -> str:
    return "-" if value != value else f"{100 * value:.1f}%"


def summary(result: dict) -> dict:
    from mmrqa.classifier.validation import per_kind, score

    out = {"changes": changes(result)}
    for name in ("alone", "cohort"):
        predictions = result[name]
        scores = score(predictions)
        clean = [p["verdict"] for p in predictions if p["kind"] == "none"]
        scores["clean_n"] = len(clean)
        scores["clean_reported_artifact"] = float(np.mean([bool(v.present) for v in clean])) if clean else float("nan")
        out[name] = {"scores": scores, "per_kind": per_kind(predictions)}
    out["kind_ablation"] = kind_ablation(result)
    return out


def kind_ablation(result: dict) -> dict:
    """Not the shipped rule: the moderate/severe type accuracy had the cohort's findings been named by the artifact
    head over *every* kind (its most probable one) instead of over the kinds whose indicator is red."""
    right, shipped, n = 0, 0, 0
    for a, c in zip(result["alone"], result["cohort"], strict=True):
        if a["kind"] == "none" or a["severity"] == "mild":
            continue
        n += 1
        verdict = c["verdict"]
        if c["note"] and not a["verdict"].present and verdict.present:  # found by the cohort
            p_kind = verdict.probabilities.get("artifact", {})
            right += max(p_kind, key=p_kind.get) == a["kind"] if p_kind else 0
        else:
            right += verdict.artifact == a["kind"]
        shipped += verdict.artifact == a["kind"]
    return {
        "n_modsev": n,
        "type_accuracy_shipped": shipped / n if n else float("nan"),
        "type_accuracy_head_over_every_kind": right / n if n else float("nan"),
    }


def table(scores: dict) -> str:
    a, c = scores["alone"]["scores"], scores["cohort"]["scores"]
    rows = [
        ("clean slabs rated good/medium, usable, no severe artifact", "clean_ok"),
        ("moderate + severe: artifact reported", "modsev_presence"),
        ("moderate + severe: type right", "modsev_type_accuracy"),
        ("moderate + severe: severity within one grade", "modsev_severity_within_one"),
        ("mild: artifact reported", "mild_presence"),
    ]
    lines = [
        f"| measure (clean n={a['n_clean']}, moderate+severe n={a['n_modsev']}, mild n={a['n_mild']}) "
        "| classifier alone | with the cohort |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {_pct(a[key])} | {_pct(c[key])} |" for label, key in rows]
    lines += ["", "| kind | moderate: alone / cohort | severe: alone / cohort |", "|---|---|---|"]
    for kind in scores["alone"]["per_kind"]:
        cells = []
        for severity in ("moderate", "severe"):
            x = scores["alone"]["per_kind"][kind][severity]
            y = scores["cohort"]["per_kind"][kind][severity]
            cells.append(
                f"{_pct(x['presence'])} / {_pct(y['presence'])} (type {_pct(x['type_accuracy'])} / "
                f"{_pct(y['type_accuracy'])})"
            )
        lines.append(f"| {kind} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    from mmrqa.data import tcia_dir

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("folder", nargs="?", type=Path, default=None, help="one protocol's scans (default: TCIA)")
    parser.add_argument("--slabs", type=int, default=3, help="cohort entries per scan (default 3)")
    parser.add_argument("--seeds", type=int, default=2, help="seeds per artifact kind and severity (default 2)")
    parser.add_argument("--seed", type=int, default=0, help="seed of a refitted classifier")
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")
    folder = args.folder or tcia_dir()
    if folder is None or not Path(folder).is_dir():
        parser.error("no folder of scans given and no TCIA folder found ($MMRQA_TCIA_DIR or ../shared/data/tcia)")
    start = time.perf_counter()
    result = run(Path(folder), args.slabs, args.seeds, args.seed)
    scores = summary(result)
    print(
        f"{folder}: {len(result['folds'])} subjects, {args.slabs} slab(s) each, {args.seeds} seed(s) "
        f"({time.perf_counter() - start:.0f} s)"
    )
    for name, fold in result["folds"].items():
        print(f"  {name}: {fold}")
    moved = scores["changes"]
    print(f"\nfound by the cohort: {moved['found']}; kept but questioned: {moved['questioned']}")
    for line in moved["clean_slabs_changed"]:
        print(f"  clean {line}")
    ablation = scores["kind_ablation"]
    print(
        f"\nablation (not shipped): type right {_pct(ablation['type_accuracy_shipped'])} as shipped, "
        f"{_pct(ablation['type_accuracy_head_over_every_kind'])} had the artifact head named the cohort's "
        "findings among every kind"
    )
    print()
    print(table(scores))
    if args.json:
        rows = [
            {
                **{k: a[k] for k in ("scan", "slab", "kind", "severity")},
                "alone": [a["verdict"].artifact, a["verdict"].severity],
                "cohort": [c["verdict"].artifact, c["verdict"].severity],
                "note": c["note"],
            }
            for a, c in zip(result["alone"], result["cohort"], strict=True)
        ]
        payload = {"folds": result["folds"], **scores, "variants": rows}
        args.json.write_text(json.dumps(payload, indent=1, default=float))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
