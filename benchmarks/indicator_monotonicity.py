"""Does each artifact's indicator move monotonically with severity, over more seeds than the test uses?

    python benchmarks/indicator_monotonicity.py [--kinds ghosting undersampling] [--seeds 0 1 2 3 4 5]

The scans and the rule are those of ``tests/artifacts/test_indicators.py`` (nibabel's T1, pydicom's MR_small, dipy's
EPI and 4 central slices of two TCIA scans when present, loaded by the test's own fixture code): for each scan and
seed, the indicator ``mmrqa.metrics.ARTIFACT_INDICATORS[kind]`` of none < mild < moderate < severe must get strictly
worse in the catalogue's direction. The test checks seeds 0 and 1; this script reports how many scan-seed pairs pass
over more seeds (a check that the test's pairs are not lucky) and prints every failing series.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "artifacts"))

from conftest import real_scans  # noqa: E402  (the test's own scan loading)

from mmrqa import metrics  # noqa: E402
from mmrqa.artifacts import KINDS, SEVERITIES, simulate  # noqa: E402


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--kinds", nargs="+", default=list(KINDS), choices=KINDS)
    parser.add_argument("--seeds", nargs="+", type=int, default=list(range(6)))
    args = parser.parse_args()
    scans = real_scans()
    names = ["nibabel_t1", "pydicom_mr_small", "dipy_epi", *[n for n in scans if n.startswith("C3N")][:2]]
    names = [n for n in names if n in scans]
    for kind in args.kinds:
        indicator = metrics.ARTIFACT_INDICATORS[kind]
        higher_is_better = metrics.CATALOGUE[indicator].higher_is_better
        passed, failures = 0, []
        for name in names:
            clean = metrics.compute_metrics(scans[name]).values[indicator]
            for seed in args.seeds:
                values = [clean] + [
                    metrics.compute_metrics(simulate(scans[name], kind, s, seed)[0]).values[indicator]
                    for s in SEVERITIES[1:]
                ]
                worse = [-v for v in values] if higher_is_better else values
                if all(a < b for a, b in zip(worse[:-1], worse[1:], strict=True)):
                    passed += 1
                else:
                    failures.append(f"  {name} seed {seed}: {[round(v, 4) for v in values]}")
        total = len(names) * len(args.seeds)
        print(f"{kind} -> {indicator}: {passed}/{total} scan-seed pairs monotonic", *failures, sep="\n", flush=True)


if __name__ == "__main__":
    main()
