"""Fit the default signal-only classifier of ``MMRQAPipeline.metrics_only()`` and write it as JSON.

    python benchmarks/fit_signal_classifier.py [-o mmrqa/pipeline/signal_classifier.json] [--seeds 0 1 2]

Reproducible by construction: the scans are the sample scans that ship inside installed packages (nibabel ``t1``,
dipy ``epi``, nilearn ``mni152_noisy``; no network, no private data), each decimated to at most 96 voxels per side
(``mmrqa.evaluation.signal_benchmark.decimate``), corrupted with every artifact kind at mild/moderate/severe plus the
clean scan, with fixed seeds (``mmrqa.evaluation.signal_training``: labels are read from the artifact records).
Only scale-free metrics are used as features (intensity-valued ones, unit ``a.u.``, depend on the scanner's
arbitrary scaling and would not transfer between sites). The classifier is ``SignalClassifier(C=1,
class_weight="balanced")``, an L-BFGS fit with a deterministic start: the same inputs give the same JSON.

The JSON holds plain numbers only (no pickle: loading it runs no code). Record the command and the git commit in
the commit message that updates the shipped file.
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from pathlib import Path

from mmrqa.evaluation.signal_benchmark import SAMPLE_SCANS, decimate
from mmrqa.evaluation.signal_training import fit_signal_classifier, simulated_metrics_dataset
from mmrqa.pipeline.signal import CLASSIFIER_MAX_SIDE, DEFAULT_CLASSIFIER_PATH, scale_free_features

logger = logging.getLogger("fit_signal_classifier")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("-o", "--output", type=Path, default=DEFAULT_CLASSIFIER_PATH)
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1])
    parser.add_argument("--C", type=float, default=1.0)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(message)s")

    from mmrqa.data import load_sample

    start = time.perf_counter()
    scans = {name: decimate(load_sample(name), CLASSIFIER_MAX_SIDE) for name in SAMPLE_SCANS}
    data = simulated_metrics_dataset(scans, seeds=args.seeds)
    clf = fit_signal_classifier(data, C=args.C, class_weight="balanced", features=scale_free_features())
    payload = clf.to_dict()
    payload["provenance"] = {
        "script": "benchmarks/fit_signal_classifier.py",
        "scans": {name: list(v.shape) for name, v in scans.items()},
        "seeds": args.seeds,
        "rows": len(data),
        "max_side": CLASSIFIER_MAX_SIDE,
    }
    args.output.write_text(json.dumps(payload, indent=1) + "\n", encoding="utf-8")
    print(f"{len(data)} volumes from {', '.join(scans)} in {time.perf_counter() - start:.1f} s -> {args.output}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
