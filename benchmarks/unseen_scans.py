"""The shipped classifier on the scans it never saw (``TEST_SCANS``): every artifact kind simulated on each, found?

    python benchmarks/unseen_scans.py [--severities moderate,severe] [--seeds 5] [--json out.json] [--model FILE]

For each test scan (the Debian scans of ``make debian-data``; skipped when absent), each artifact kind and each
severity, ``--seeds`` seeded simulations on the classifier's grid, each judged by the shipped model: *found* when it is
inside the domain, an artifact is reported and its severity is moderate or severe (what
``tests/classifier/test_unseen_scans.py`` asserts for the severe kinds it covers), *named* when the reported kind is
the simulated one. The seeds are those of the test: ``100 + 10 k + s``, ``k`` the kind's index in :data:`ORDER`.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

#: the test's severe kinds first (their seeds are the test's), then the two it does not assert
ORDER = ("ghosting", "spike", "noise", "ringing", "undersampling", "bias_field", "blur", "motion")


def measure(
    severities: list[str], seeds: int, model_path: Path | None = None
) -> dict[str, dict[str, dict[str, list[int]]]]:
    """scan -> severity -> kind -> [found, named] counts over ``seeds`` seeds."""
    from mmrqa.artifacts import simulate
    from mmrqa.classifier import classify, load_model
    from mmrqa.classifier.data import TEST_SCANS, real_scans
    from mmrqa.classifier.features import decimate

    model = load_model(model_path) if model_path else load_model()
    out: dict[str, dict[str, dict[str, list[int]]]] = {}
    for scan in (s for s in real_scans() if s.name in TEST_SCANS):
        clean = decimate(scan.load())
        for severity in severities:
            cells = out.setdefault(scan.name, {}).setdefault(severity, {})
            for k, kind in enumerate(ORDER):
                found = named = 0
                for s in range(seeds):
                    verdict = classify(simulate(clean, kind, severity, 100 + 10 * k + s)[0], model=model)
                    hit = bool(verdict.in_domain and verdict.present and verdict.severity in ("moderate", "severe"))
                    found += hit
                    named += hit and verdict.artifact == kind
                cells[kind] = [found, named]
    return out


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--severities", default="moderate,severe")
    parser.add_argument("--seeds", type=int, default=5)
    parser.add_argument("--json", type=Path, default=None)
    parser.add_argument("--model", type=Path, default=None, help="a model file (default: the shipped one)")
    args = parser.parse_args(argv)
    severities = [s for s in args.severities.split(",") if s]
    results = measure(severities, args.seeds, args.model)
    for severity in severities:
        print(f"\n{severity}: found (named) of {args.seeds} seeds")
        print("| test scan | " + " | ".join(ORDER) + " | total |")
        print("|---|" + "---|" * (len(ORDER) + 1))
        for scan, by_severity in results.items():
            cells = by_severity[severity]
            total = sum(c[0] for c in cells.values())
            row = " | ".join(f"{cells[k][0]} ({cells[k][1]})" for k in ORDER)
            print(f"| {scan} | {row} | {total}/{args.seeds * len(ORDER)} |")
    if args.json:
        args.json.write_text(json.dumps(results, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
