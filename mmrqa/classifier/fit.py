"""Refit the signal classifier of ``MMRQAPipeline.metrics_only()`` and write its model and card.

    python -m mmrqa.classifier.fit [--seed 0] [--tcia DIR] [--no-benchmark] [-o mmrqa/classifier/model.npz]

Reproducible: the scans are those of :func:`mmrqa.classifier.data.real_scans` (packaged real scans, plus the TCIA
scans when the shared folder is there), the views and artifacts are seeded per scan, the boosting is seeded, and the
same table and seed give the same model file. The scans of ``TEST_SCANS`` are left out of the shipped model (the
tests judge them with it as unseen scans); the benchmark holds out every scan in turn, those included. The features table is cached under ``.classifier-cache/``. Unless
``--no-benchmark``, the leave-one-scan-out benchmark (:mod:`mmrqa.classifier.validation`) runs too and its numbers go
into the card (``card.md`` next to the model). The photograph check (:mod:`mmrqa.classifier.pictures`) is fitted
on the shipped model's rows and views of the photographs scikit-image and scikit-learn install (cached there too).
"""

from __future__ import annotations

import argparse
import datetime
import json
import logging
import platform
import time
from pathlib import Path

from mmrqa.classifier.card import render_card
from mmrqa.classifier.data import CACHE_DIR, TEST_SCANS, build_table, real_scans
from mmrqa.classifier.model import CALIBRATION_FOLDS, DEFAULT_MODEL_PATH, GBM_PARAMS
from mmrqa.classifier.pictures import fit_picture_check, picture_rows
from mmrqa.classifier.validation import (
    fit_rows,
    judge_scans,
    leave_one_scan_out,
    native_row,
    native_verdicts,
    per_kind,
    per_scan_clean,
    score,
)
from mmrqa.fileio import write_text_atomic

logger = logging.getLogger(__name__)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_MODEL_PATH)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tcia", type=Path, default=None, help="folder of the TCIA scans (default: auto)")
    parser.add_argument("--no-benchmark", action="store_true", help="skip the leave-one-scan-out benchmark")
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    parser.add_argument(
        "--reuse-benchmark",
        action="store_true",
        help="take the leave-one-scan-out numbers from the last run's benchmark.json in the cache when its table and "
        "features are the same (refits the shipped model and the card only)",
    )
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(message)s")

    start = time.perf_counter()
    scans = real_scans(args.tcia)
    rows = build_table(scans, args.cache)
    built = time.perf_counter() - start
    shipped_rows = [r for r in rows if r["scan"] not in TEST_SCANS]
    model = fit_rows(shipped_rows, args.seed)
    pictures = picture_rows(args.cache)
    if pictures:
        model.picture = fit_picture_check(shipped_rows, pictures, args.seed)
        logger.info("photograph check: %s", model.picture.validation)
    else:
        logger.warning("no design photographs (scikit-image and scikit-learn): fitted without the photograph check")
    trained = sorted({str(r["scan"]) for r in shipped_rows})
    fitted = time.perf_counter() - start - built
    benchmark = None
    stored = args.cache / "benchmark.json"
    key = _table_key(rows)
    if args.reuse_benchmark and stored.is_file():
        saved = json.loads(stored.read_text(encoding="utf-8"))
        benchmark = saved["benchmark"] if saved.get("key") == key else None
        print("reusing the stored benchmark" if benchmark else "stored benchmark is of another table: rerunning")
    if benchmark is None and not args.no_benchmark:
        natives = {scan.name: native_row(scan.load()) for scan in scans}
        predictions = leave_one_scan_out(rows, seed=args.seed, natives=natives)
        benchmark = {
            "scores": score(predictions),
            "clean_by_scan": per_scan_clean(predictions),
            "native": native_verdicts(predictions),
            "per_kind": per_kind(predictions),
        }
        write_text_atomic(stored, json.dumps({"key": key, "benchmark": benchmark}, indent=1))
    unseen = _test_scans(model, [s for s in scans if s.name in TEST_SCANS], rows)
    model.meta = {
        **model.meta,
        "provenance": {
            "script": "python -m mmrqa.classifier.fit",
            "seed": args.seed,
            "date": datetime.date.today().isoformat(),
            "python": platform.python_version(),
            "packages": _versions(FITTING_PACKAGES),
            "rows": len(rows),
            "scans": {s.name: s.path for s in scans},
            "trained_on": trained,
            "calibrated_on": trained,
            "calibration": f"temperatures cross-fitted on out-of-fold scores of {CALIBRATION_FOLDS} grouped folds",
            "test_only": sorted(s.name for s in scans if s.name in TEST_SCANS),
            "gbm": GBM_PARAMS,
        },
        "benchmark": benchmark,
        "test_scans": unseen,
    }
    model.save(args.output)
    card = args.output.with_name("card.md")
    write_text_atomic(card, render_card(model, rows))
    print(
        f"{len(rows)} rows from {len(scans)} scans (table {built:.0f} s, fit {fitted:.0f} s) -> {args.output}, {card}"
    )
    if benchmark:
        print(json.dumps(benchmark["scores"], indent=1))
    return 0


def _test_scans(model, tests: list, rows: list[dict]) -> dict | None:
    """The shipped model itself on the variants of its test scans, which it was never fitted on (what
    ``python -m mmrqa.classifier.benchmark --shipped`` prints), or None without test scans."""
    if not tests:
        return None
    predictions = judge_scans(model, tests, rows)
    return {"scans": [s.name for s in tests], "scores": score(predictions), "per_kind": per_kind(predictions)}


#: the packages whose versions can change a refit's arrays: the features (numpy, scipy), the photograph views
#: (Pillow's Lanczos shrink, scikit-image's and scikit-learn's pictures) and the trees (scikit-learn)
FITTING_PACKAGES = ("numpy", "scipy", "scikit-learn", "scikit-image", "pillow")


def _versions(packages: tuple[str, ...]) -> dict[str, str]:
    """Installed version of each package ("absent" when it is not installed)."""
    from mmrqa.versions import installed_versions

    return {name: v or "absent" for name, v in installed_versions(packages).items()}


def _table_key(rows: list[dict]) -> str:
    """A hash of the table and the feature names: a stored benchmark is reused only for the same ones."""
    import hashlib

    from mmrqa.classifier.features import feature_names

    digest = hashlib.sha256(repr(feature_names()).encode())
    for row in rows:
        digest.update(repr(sorted(row.items())).encode())
    return digest.hexdigest()[:16]


if __name__ == "__main__":
    raise SystemExit(main())
