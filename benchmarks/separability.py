"""Why a single-scan verdict misses moderate artifacts: each kind's features move within a scan, but less than clean
scans differ from one another.

    python benchmarks/separability.py [--cache .classifier-cache] [--json out.json]

Reads the classifier's training table (:func:`mmrqa.classifier.data.build_table`, built by
``python -m mmrqa.classifier.fit`` and cached; built here when missing). For each artifact kind, each of its
features (:data:`FEATURES`, the self-referenced signature of :mod:`mmrqa.classifier.relative` and the kind's
indicator metric) and each severity, two areas under the ROC curve against the clean rows:

    paired AUC      within the same view of the same scan: the share of views where the corrupted variant reads
                    further from clean than the clean view itself, in the direction the kind pushes the feature
                    (1.0: the feature always responds)
    unpaired AUC    against every clean view of every scan, the situation of a verdict on one scan with no clean
                    reference of the same subject (0.5: no better than chance)

and the share of corrupted rows inside the 5-95% range of the clean rows. A feature that is near 1.0 paired and near
0.5-0.7 unpaired reads the artifact, but its level differs more between clean scans (anatomy, coil, contrast,
resolution, native noise) than a moderate artifact moves it: no threshold on it can find most moderate artifacts
without calling many clean scans corrupted.
"""

from __future__ import annotations

import argparse
import json
from collections import defaultdict
from pathlib import Path

import numpy as np

from mmrqa.classifier.data import CACHE_DIR, build_table, real_scans

#: kind -> the features that read it (its self-referenced signature first, then its indicator metric)
FEATURES = {
    "noise": ("hf_noise", "spectral_tail"),
    "bias_field": ("bias_poly_std",),
    "ghosting": ("ghost_exterior", "ghost_peak", "shadow_asymmetry"),
    "motion": ("edge_echo", "air_anisotropy", "shadow_asymmetry", "ghost_peak"),
    "blur": ("air_smoothness", "spectral_tail", "spectral_curvature"),
    "spike": ("spike_peak",),
    "ringing": ("cliff_decades",),
    "undersampling": ("line_jag_ratio",),
}
SEVERITIES = ("mild", "moderate", "severe")


def auc(positive: np.ndarray, negative: np.ndarray) -> float:
    """P(a positive value > a negative value), ties counted half (the Mann-Whitney U over the product of sizes)."""
    if positive.size == 0 or negative.size == 0:
        return float("nan")
    values = np.concatenate([negative, positive])
    order = values.argsort(kind="stable")
    ranks = np.empty(len(values))
    ranks[order] = np.arange(1, len(values) + 1)
    for value in np.unique(values):  # average ranks of ties
        tied = values == value
        if tied.sum() > 1:
            ranks[tied] = ranks[tied].mean()
    u = ranks[len(negative) :].sum() - positive.size * (positive.size + 1) / 2
    return float(u / (positive.size * negative.size))


def separability(rows: list[dict]) -> list[dict]:
    """One line per (kind, feature, severity): paired and unpaired AUC, share inside the clean 5-95% range."""
    clean_of = {(r["scan"], r["view"]): r for r in rows if r["kind"] == "none"}
    out = []
    for kind, features in FEATURES.items():
        for feature in features:
            clean = np.array([r[feature] for r in clean_of.values() if np.isfinite(r[feature])])
            severe = np.array([r[feature] for r in rows if r["kind"] == kind and r["severity"] == "severe"])
            sign = 1.0 if np.nanmedian(severe) >= np.median(clean) else -1.0  # the direction the kind pushes it
            low, high = np.percentile(clean, [5, 95])
            for severity in SEVERITIES:
                pairs = [
                    (r[feature], clean_of[(r["scan"], r["view"])][feature])
                    for r in rows
                    if r["kind"] == kind and r["severity"] == severity and (r["scan"], r["view"]) in clean_of
                ]
                pairs = np.array([p for p in pairs if np.isfinite(p).all()]).reshape(-1, 2)
                corrupted = pairs[:, 0]
                moved = sign * (pairs[:, 0] - pairs[:, 1])
                out.append(
                    {
                        "kind": kind,
                        "feature": feature,
                        "severity": severity,
                        "n": int(len(pairs)),
                        "paired_auc": float(np.mean(moved > 0) + 0.5 * np.mean(moved == 0)),
                        "unpaired_auc": auc(sign * corrupted, sign * clean),
                        "inside_clean_5_95": float(np.mean((corrupted >= low) & (corrupted <= high))),
                    }
                )
    return out


def table(lines: list[dict]) -> str:
    rows = [
        "| kind | feature | severity | n | paired AUC | unpaired AUC | inside clean 5-95% |",
        "|---|---|---|---|---|---|---|",
    ]
    rows += [
        f"| {x['kind']} | `{x['feature']}` | {x['severity']} | {x['n']} | {x['paired_auc']:.2f} | "
        f"{x['unpaired_auc']:.2f} | {100 * x['inside_clean_5_95']:.0f}% |"
        for x in lines
    ]
    return "\n".join(rows)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cache", type=Path, default=CACHE_DIR)
    parser.add_argument("--json", type=Path, default=None)
    args = parser.parse_args(argv)
    rows = build_table(real_scans(), args.cache)
    lines = separability(rows)
    scans = sorted({r["scan"] for r in rows})
    counts = defaultdict(int)
    for r in rows:
        counts[r["kind"] == "none"] += 1
    print(f"{len(rows)} rows of {len(scans)} scans ({counts[True]} clean views)\n")
    print(table(lines))
    if args.json:
        args.json.write_text(json.dumps(lines, indent=1), encoding="utf-8")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
