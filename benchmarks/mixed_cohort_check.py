"""Why the cohort reading never clears a finding: artifacts found on the unseen test scans, judged against a mixed
"cohort" (the training scans as they are, many protocols), often have every light green.

    python benchmarks/mixed_cohort_check.py [--seeds 3]

The cohort is the full-size metrics of every scan of :func:`mmrqa.classifier.data.real_scans` but the test scans
(``TEST_SCANS``), as a user might pass a table of all their scans; each test scan gets every artifact kind at moderate
and severe (``--seeds`` seeds, the seeds of ``benchmarks/unseen_scans.py``) on the classifier's grid. Reported per
severity: the artifacts the shipped classifier finds, and how many of those leave every light green against the
mixed cohort (the verdicts a clearing rule would have passed as clean), and the artifacts the cohort adds.
"""

from __future__ import annotations

import argparse
import collections


def main(argv: list[str] | None = None) -> int:
    from mmrqa.artifacts import simulate
    from mmrqa.classifier import classify, load_model
    from mmrqa.classifier.cohort import cohort_verdict, outside
    from mmrqa.classifier.data import TEST_SCANS, real_scans
    from mmrqa.classifier.features import decimate
    from mmrqa.metrics import compute_metrics
    from mmrqa.metrics.cohort import CohortReference

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=3)
    args = parser.parse_args(argv)
    from unseen_scans import ORDER  # the same kinds and seeds as the unseen-scan benchmark

    model, scans = load_model(), real_scans()
    rows = [dict(compute_metrics(s.load()).values) for s in scans if s.name not in TEST_SCANS]
    reference = CohortReference.from_values(rows, f"all training scans ({len(rows)})")
    print(f"cohort: {reference.source}; {reference.rule()}")
    counts: dict[str, collections.Counter] = {}
    for scan in (s for s in scans if s.name in TEST_SCANS):
        clean = decimate(scan.load())
        for k, kind in enumerate(ORDER):
            for severity in ("moderate", "severe"):
                for s in range(args.seeds):
                    volume = simulate(clean, kind, severity, 100 + 10 * k + s)[0]
                    report = compute_metrics(volume)
                    verdict = classify(volume, report, model=model)
                    read, _ = cohort_verdict(verdict, dict(report.values), reference)
                    cell = counts.setdefault(severity, collections.Counter())
                    cell["variants"] += 1
                    if verdict.present:
                        cell["found by the classifier"] += 1
                        cell["of those, every light green"] += not outside(dict(report.values), reference)
                    elif read.present:
                        cell["added by the cohort"] += 1
    for severity, cell in counts.items():
        print(f"{severity}: {dict(cell)}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
