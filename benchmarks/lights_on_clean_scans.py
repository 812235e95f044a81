"""The traffic lights on clean real scans: metrics out of range (amber or red) with the catalogue's fixed ranges and
with the ranges that fit each scan (:mod:`mmrqa.metrics.ranges`).

    python benchmarks/lights_on_clean_scans.py                 # mmrqa.data samples + TCIA when present
    python benchmarks/lights_on_clean_scans.py --clean DIR     # and every scan file under DIR

Each scan is marked ``derivation`` (numbers of the rules were read on it) or ``held out`` (see the module docstring of
:mod:`mmrqa.metrics.ranges`); scans of ``--clean`` are held out.
"""

from __future__ import annotations

import argparse
from pathlib import Path

DERIVATION = {"epi", "dicom_mr2", "mni152_noisy", "C3N-01342", "C3N-01871", "C3N-01876"}


def _scans(clean: Path | None):
    from mmrqa.data import SAMPLES, load_sample, tcia_dir
    from mmrqa.io import load_volume

    for name in SAMPLES:
        yield name, lambda name=name: load_sample(name)
    folder = tcia_dir()
    for path in sorted(folder.glob("*.nii.gz")) if folder else []:
        yield path.name.split("_")[0], lambda path=path: load_volume(path)
    for path in sorted(p for p in (clean.rglob("*") if clean else []) if p.is_file()):
        yield str(path.relative_to(clean)), lambda path=path: load_volume(path)


def main() -> None:
    from mmrqa.errors import MMRQAError
    from mmrqa.metrics import compute_metrics
    from mmrqa.metrics.context import context_of
    from mmrqa.metrics.ranges import catalogue_for
    from mmrqa.presentation import light_counts, metric_rows

    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clean", type=Path, default=None, help="a folder of clean scans to add (held out)")
    args = parser.parse_args()
    print("| scan | set | context | out before (red) | out after (red) | not judged | still out |")
    print("|---|---|---|---|---|---|---|")
    for name, load in _scans(args.clean):
        try:
            volume = load()
            report = compute_metrics(volume)
        except MMRQAError as exc:
            print(f"| {name} | | error: {exc} | | | | |")
            continue
        context = context_of(volume, report)
        before = light_counts(metric_rows(report.values, with_range_only=True))
        rows = metric_rows(report.values, catalogue_for(context), with_range_only=True)
        after = light_counts(rows)
        out = ", ".join(f"{r.name} {r.text} ({r.light})" for r in rows if r.light in ("amber", "red"))
        kind = "derivation" if name in DERIVATION else "held out"
        print(
            f"| {name} | {kind} | {context.describe()} | {before['amber'] + before['red']} ({before['red']}) | "
            f"{after['amber'] + after['red']} ({after['red']}) | {after['grey']} | {out} |"
        )


if __name__ == "__main__":
    main()
