"""Leave-one-scan-out benchmark of the signal-only classifier against the majority class, on real scans.

    python -m mmrqa.evaluation.signal_benchmark [--tcia DIR] [--max-side 96] [--seeds 0 1] [-o classifier.json]

Scans: the sample scans that ship with installed packages (nibabel ``t1``, dipy ``epi``, nilearn ``mni152_noisy``)
and the TCIA pelvic T2w scans when present. Each is decimated to at most ``--max-side`` voxels per side, corrupted
with every artifact kind at mild/moderate/severe (plus the clean scan), and measured with ``compute_metrics``. Each
scan in turn is held out; the classifier is trained on the others and scored on it; the predictions of all folds
are pooled and scored once (bootstrap CIs over examples). ``-o`` saves a classifier fitted on all scans (JSON).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

import numpy as np

from mmrqa.evaluation.baselines import MajorityBaseline
from mmrqa.evaluation.reporting import comparison_table
from mmrqa.evaluation.signal_training import SignalDataset, fit_signal_classifier, simulated_metrics_dataset
from mmrqa.evaluation.suite import evaluate_predictions
from mmrqa.volume import Volume

logger = logging.getLogger(__name__)

SAMPLE_SCANS = ("t1", "epi", "mni152_noisy")


def decimate(volume: Volume, max_side: int) -> Volume:
    """Keep every k-th voxel per axis so that no side exceeds ``max_side``; spacing and affine follow."""
    steps = [max(1, -(-n // max_side)) for n in volume.shape]
    data = np.ascontiguousarray(volume.data[:: steps[0], :: steps[1], :: steps[2]])
    affine = volume.affine.copy()
    affine[:3, :3] = affine[:3, :3] * np.asarray(steps)
    spacing = tuple(float(s * k) for s, k in zip(volume.spacing, steps, strict=True))
    return Volume(data, spacing, affine, dict(volume.meta))


def load_scans(tcia: Path | None, max_side: int) -> dict[str, Volume]:
    """The real scans available on this machine, decimated."""
    from mmrqa.data import load_sample, tcia_dir
    from mmrqa.io import load_volume

    scans = {}
    for name in SAMPLE_SCANS:
        try:
            scans[name] = decimate(load_sample(name), max_side)
        except (ImportError, OSError) as exc:  # the samples extra is not installed
            logger.warning("sample %s unavailable: %s", name, exc)
    for path in sorted((tcia or tcia_dir() or Path("/nonexistent")).glob("*.nii*")):
        scans[path.name.split("_")[0]] = decimate(load_volume(path), max_side)
    return scans


def leave_one_scan_out(data: SignalDataset, **fit_kwargs) -> dict[str, dict]:
    """Pooled held-out predictions of the signal classifier and the majority class, scored per target."""
    pred: dict[str, dict[str, list]] = {"Signal-only classifier": {}, "Majority class": {}}
    truth: dict[str, list] = {}
    for group in sorted(set(data.groups)):
        train, test = data.subset(lambda g, h=group: g != h), data.subset(lambda g, h=group: g == h)
        fold = {
            "Signal-only classifier": fit_signal_classifier(train, **fit_kwargs).predict(test.metrics),
            "Majority class": MajorityBaseline().fit(train.labels).predict({k: len(test) for k in test.labels}),
        }
        for system, labels in fold.items():
            for target, values in labels.items():
                pred[system].setdefault(target, []).extend(values)
        for target, values in test.labels.items():
            truth.setdefault(target, []).extend(values)
    answers = {
        system: {"artifact": p["artifact"], "severity": p["severity"], "quality": p["quality"]}
        for system, p in pred.items()
    }
    refs = {"artifact": truth["artifact"], "severity": truth["severity"], "quality": truth["quality"]}
    return {system: evaluate_predictions(p, refs, n_resamples=1000, seed=0) for system, p in answers.items()}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tcia", type=Path, default=None, help="folder of TCIA NIfTI scans (default: auto)")
    parser.add_argument("--max-side", type=int, default=96)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0])
    parser.add_argument("-o", "--output", type=Path, default=None, help="save a classifier fitted on all scans")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    start = time.perf_counter()
    scans = load_scans(args.tcia, args.max_side)
    data = simulated_metrics_dataset(scans, severities=("none", "mild", "moderate", "severe"), seeds=args.seeds)
    built = time.perf_counter() - start
    results = leave_one_scan_out(data, class_weight="balanced")
    print(f"{len(scans)} scans ({', '.join(sorted(scans))}), {len(data)} volumes, built in {built:.1f} s")
    print(comparison_table(results, note="Leave-one-scan-out, simulated artifacts; predictions pooled over folds."))
    if args.output:
        fit_signal_classifier(data, class_weight="balanced").save(args.output)
        print(f"classifier written to {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
