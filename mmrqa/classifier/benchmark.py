"""Leave-one-scan-out benchmark of the signal classifier, on the packaged real scans or on any folder of clean scans.

    python -m mmrqa.classifier.benchmark                      # every real scan reachable here (as in the card)
    python -m mmrqa.classifier.benchmark --clean DIR          # your clean scans: each held out in turn
    python -m mmrqa.classifier.benchmark --clean DIR --json out.json
    python -m mmrqa.classifier.benchmark --clean DIR --shipped    # the shipped model as it is: no refit, minutes
    python -m mmrqa.classifier.benchmark --shipped --clean-share 0.8   # ... assuming 80% of the scans are clean
    python -m mmrqa.classifier.benchmark --calibration-folds 6   # the recipe, calibrated on 6 folds instead of 3

With ``--clean DIR`` every scan of the folder gets the views and simulated artifacts of the training recipe
(:mod:`mmrqa.classifier.data`); each of them is held out in turn, all its variants together, while a model is
fitted by the shipped recipe on the packaged real scans plus the folder's other scans. The scores
(:mod:`mmrqa.classifier.validation`) are computed on the folder's scans only: false alarms on the clean scans,
presence, type and severity on their simulated corruptions (moderate + severe, and mild), calibration error. The
features of the folder's scans are cached under ``.classifier-cache/`` like the training table's.

With ``--shipped`` nothing is refitted: the shipped model (what ``mmrqa assess`` uses) judges the same variants of the
folder's scans (default: the scans it was never fitted on, ``TEST_SCANS``), so only their table is built. That is what
a user gets on their scans; it is held out only for scans the shipped model was not fitted on (a folder scan that is
one of its training files, or a byte-identical copy, is named in the output).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import time
from pathlib import Path

from mmrqa.classifier.card import kind_table
from mmrqa.classifier.data import CACHE_DIR, build_table, folder_scans, real_scans
from mmrqa.classifier.model import CALIBRATION_FOLDS
from mmrqa.classifier.validation import (
    judge_scans,
    leave_one_scan_out,
    native_row,
    native_verdicts,
    per_kind,
    per_scan_clean,
    score,
)
from mmrqa.fileio import write_text_atomic

ROWS = (
    ("artifact reported (presence)", "presence"),
    ("artifact type accuracy", "type_accuracy"),
    ("severity within one grade", "severity_within_one"),
    ("judged inside the domain", "in_domain"),
)


def table(scores: dict[str, float]) -> str:
    """The benchmark's markdown table."""

    def pct(value: float) -> str:
        return "-" if value != value else f"{100 * value:.1f}%"

    lines = [
        f"| measure | moderate + severe (n={scores['n_modsev']}) | mild (n={scores['n_mild']}) |",
        "|---|---|---|",
    ]
    lines += [f"| {label} | {pct(scores['modsev_' + key])} | {pct(scores['mild_' + key])} |" for label, key in ROWS]
    lines += [
        "",
        f"Clean scans as they are (n={scores['n_native']}): rated good/medium, usable, no severe artifact "
        f"{pct(scores['native_ok'])}.",
        f"Clean variants (n={scores['n_clean']}): rated good/medium, usable, no severe artifact "
        f"{pct(scores['clean_ok'])} (false alarms {pct(1 - scores['clean_ok'])}); inside the domain "
        f"{pct(scores['clean_in_domain'])}.",
        f"Artifact-type head on moderate/severe: accuracy {pct(scores.get('artifact_head_accuracy', float('nan')))} "
        f"at a mean confidence of {pct(scores.get('artifact_head_confidence', float('nan')))}, expected calibration "
        f"error {scores.get('ece', float('nan')):.3f} (all severities "
        f"{scores.get('ece_all', float('nan')):.3f}); presence head ECE {scores.get('ece_presence', float('nan')):.3f} "
        f"at its clean prior ({scores.get('ece_presence_unweighted', float('nan')):.3f} over the rows as they are).",
    ]
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", type=Path, default=None, help="folder of clean scans (default: the packaged ones)")
    parser.add_argument("--tcia", type=Path, default=None, help="folder of the TCIA scans (default: auto)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--json", type=Path, default=None, help="also write the scores and per-scan lines as JSON")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    parser.add_argument(
        "--decision",
        choices=("cv", "fixed"),
        default="cv",
        help="how each fold chooses its decision rule: on the out-of-fold predictions of its training scans (the "
        "recipe) or fixed (prior 0.8)",
    )
    parser.add_argument(
        "--without-relative", action="store_true", help="ablation: leave out the features of mmrqa.classifier.relative"
    )
    parser.add_argument(
        "--drop",
        default=None,
        help="ablation: comma-separated features to leave out (with or without --without-relative)",
    )
    parser.add_argument(
        "--calibration-folds",
        type=int,
        default=CALIBRATION_FOLDS,
        help=f"grouped folds of each fold's training scans for its temperatures and decision rule (the recipe: "
        f"{CALIBRATION_FOLDS})",
    )
    parser.add_argument("--only", default=None, help="comma-separated scans to test (held out in turn); default all")
    parser.add_argument(
        "--shipped",
        action="store_true",
        help="judge with the shipped model, no refit (default scans: those it was never fitted on)",
    )
    parser.add_argument(
        "--clean-share",
        type=float,
        default=None,
        help="with --shipped: the share of clean scans the verdict assumes (mmrqa assess --clean-share)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    start = time.perf_counter()
    packaged = real_scans(args.tcia)
    extra = folder_scans(args.clean) if args.clean else []
    known = {s.path for s in packaged}
    extra = [s for s in extra if s.path not in known]
    test_names = [s.name for s in extra] if args.clean else None
    if args.clean:  # a folder's scans that are packaged scans already are tested as such
        test_names += [s.name for s in packaged if s.path in {str(p) for p in _files(args.clean)}]
    if args.clean_share is not None and not args.shipped:
        parser.error("--clean-share goes with --shipped (a refitted fold chooses its own prior)")
    if args.shipped:
        if args.without_relative or args.drop or args.decision != "cv" or args.calibration_folds != CALIBRATION_FOLDS:
            parser.error(
                "--shipped judges with the shipped model as it is: no ablation, decision mode or calibration folds"
            )
        return _shipped(packaged, extra, test_names, args, start)
    rows = build_table(packaged + extra, args.cache)
    from mmrqa.classifier.features import feature_names

    features = None
    if args.without_relative:
        from mmrqa.classifier.relative import RELATIVE_FEATURES

        features = [f for f in feature_names() if f not in RELATIVE_FEATURES]
    if args.drop:
        dropped = set(args.drop.split(","))
        unknown = dropped - set(feature_names())
        if unknown:
            parser.error(f"--drop: unknown features {sorted(unknown)}")
        features = [f for f in (features or feature_names()) if f not in dropped]
    if args.only:
        test_names = [name for name in args.only.split(",") if name]
    tested_scans = [s for s in packaged + extra if test_names is None or s.name in test_names]
    natives = {scan.name: native_row(scan.load()) for scan in tested_scans}
    predictions = leave_one_scan_out(
        rows,
        test_scans=test_names,
        seed=args.seed,
        natives=natives,
        decision=args.decision,
        features=features,
        folds=args.calibration_folds,
    )
    heading = f"{len(rows)} rows from {len(packaged) + len(extra)} scans; tested (held out in turn)"
    _report(predictions, heading, args.json, start)
    return 0


def _shipped(packaged: list, extra: list, test_names: list[str] | None, args, start: float) -> int:
    """``--shipped``: the shipped model on the variants of the tested scans, nothing refitted."""
    from mmrqa.classifier import load_model
    from mmrqa.classifier.data import TEST_SCANS

    model = load_model()
    if args.clean_share is not None:
        model = model.with_clean_share(args.clean_share)
    names = test_names if test_names is not None else list(TEST_SCANS)
    if args.only:
        names = [name for name in args.only.split(",") if name]
    scans = [s for s in packaged + extra if s.name in names]
    rows = build_table(scans, args.cache)
    provenance = model.meta.get("provenance", {})
    fitted = [*provenance.get("trained_on", []), *provenance.get("calibrated_on", [])]
    fitted_files = [provenance.get("scans", {}).get(name, "") for name in fitted]
    predictions = judge_scans(model, scans, rows)
    seen = sorted(s.name for s in scans if s.name in fitted or _one_of(s.path, fitted_files))
    prior = model.meta.get("decision", {}).get("clean_prior")
    heading = f"{len(rows)} rows from {len(scans)} scans, judged by the shipped model (no refit; clean share {prior})"
    if seen:
        heading += f"; NOT held out, the shipped model was fitted on: {', '.join(seen)}"
    _report(predictions, heading + "; tested", args.json, start)
    return 0


def _one_of(path: str | None, files: list[str]) -> bool:
    """Whether ``path`` is one of ``files`` or a byte-identical copy of one (those present on this machine)."""
    import filecmp

    if not path or not os.path.isfile(path):
        return False
    for other in files:
        if other and os.path.isfile(other):
            if os.path.samefile(path, other):
                return True
            if os.path.getsize(path) == os.path.getsize(other) and filecmp.cmp(path, other, shallow=False):
                return True
    return False


def _report(predictions: list[dict], heading: str, json_path: Path | None, start: float) -> None:
    """Print the scores, per kind and per scan, of ``predictions``; write them to ``json_path`` when given."""
    scores = score(predictions)
    by_scan = per_scan_clean(predictions)
    native = native_verdicts(predictions)
    tested = sorted(by_scan)
    print(f"{heading}: {', '.join(tested)}")
    print(f"({time.perf_counter() - start:.0f} s)\n")
    print(table(scores))
    kinds = per_kind(predictions)
    print("\nPer artifact kind (held-out variants):\n" + kind_table(kinds))
    print("\nEach held-out scan as it is, and its clean augmented views:")
    for scan, line in by_scan.items():
        print(f"  {scan}: {native.get(scan, '-')}; views: {line}")
    if json_path:
        decisions = {p["scan"]: p.get("decision") for p in predictions if not p.get("native")}
        payload = {
            "scores": scores,
            "per_kind": kinds,
            "clean_by_scan": by_scan,
            "native": native,
            "tested": tested,
            "decision": decisions,
        }
        write_text_atomic(json_path, json.dumps(payload, indent=1))


def _files(folder: Path) -> list[Path]:
    from mmrqa.io import find_scans

    return [Path(p).resolve() for p in find_scans([folder])]


if __name__ == "__main__":
    raise SystemExit(main())
