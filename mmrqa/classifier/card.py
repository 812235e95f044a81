"""The classifier's card (``card.md`` next to the model): what it was fitted on, how, and how well it does."""

from __future__ import annotations

from collections import Counter

from mmrqa.classifier import data as recipe
from mmrqa.classifier import relative
from mmrqa.classifier.domain import MIN_LEVELS, MIN_ROUGHNESS, MIN_SPECTRAL_DECAY, THRESHOLD_MARGIN, THRESHOLD_QUANTILE
from mmrqa.classifier.model import CALIBRATION_FOLDS
from mmrqa.classifier.predict import CLEAN_PRIOR, MIN_CONFIDENCE

LIBRARY = """\
**Why scikit-learn's gradient boosting, stored as arrays.** The features are ~40 heterogeneous, heavy-tailed metrics
(ratios, percentages, dB) whose relation to an artifact is non-linear and often a threshold on one indicator; boosted
shallow trees fit that without scaling or transforms, and an undefined metric (no air in a cropped scan) gets its own
branch. The old hand-written logistic regression reached 0.45 artifact-type accuracy on held-out scans. LightGBM would
fit the same trees and save them as text, but `import lightgbm` takes ~1 s here (it imports scikit-learn and more),
as long as the whole classification, and would add a compiled dependency to the core install. scikit-learn's
`GradientBoostingClassifier` is only needed to *fit*; its trees are exported through the public `tree_` API to a
`numpy.savez` file read with `allow_pickle=False` (no code runs on load, ~10 ms), and a short numpy walk
(`mmrqa/classifier/trees.py`) reproduces `decision_function` (checked to 1e-9 at export and in the tests)."""


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    return ["| " + " | ".join(header) + " |", "|" + "---|" * len(header), *["| " + " | ".join(r) + " |" for r in rows]]


def _top_kind(scores: dict) -> str:
    """How often the artifact-type head's top kind is right and its mean probability, when the scores have them."""
    if "artifact_head_confidence" not in scores:
        return ""
    accuracy, confidence = scores["artifact_head_accuracy"], scores["artifact_head_confidence"]
    gap = confidence - accuracy
    reading = "about right" if abs(gap) < 0.02 else ("underconfident" if gap < 0 else "overconfident")
    return f"; its top kind right {_pct(accuracy)} of the time at a mean probability of {_pct(confidence)} ({reading})"


def _pct(value) -> str:
    return "-" if value is None or value != value else f"{100 * value:.1f}%"


def _decision_words(model) -> str:
    rule = model.meta.get("decision") or {}
    prior = float(rule.get("clean_prior", CLEAN_PRIOR))
    confidence = float(rule.get("min_confidence", MIN_CONFIDENCE))
    how = (
        f"chosen on {rule['chosen_on']}, rows the trees never saw (the prior that best balances clean scans passed "
        "and moderate/severe artifacts found, and the lowest threshold at which a stated kind is right 80% of the "
        "time)"
        if rule.get("chosen_on")
        else "set a priori"
    )
    return (
        f"The presence head is fitted with balanced classes and its odds are taken under a prior of {prior:.0%} clean "
        f"scans; when the most probable kind has P < {confidence:.0%} the kind is withheld and the leading candidates "
        f"are named instead. Both {how}; the benchmark chooses them again inside every fold, never on its test scan. "
        "An artifact is also reported when the severity head's most probable grade is severe, whatever the presence "
        "head says (`predict.severe_signature`: the presence head adds up every feature's evidence, so one strong "
        "signature is outvoted by the many features that look clean)."
    )


def render_card(model, rows: list[dict]) -> str:
    """Markdown card of ``model`` fitted on table ``rows``."""
    from mmrqa.classifier import domain as rules

    prov = model.meta.get("provenance", {})
    bench = (model.meta.get("benchmark") or {}).get("scores")
    by_kind = (model.meta.get("benchmark") or {}).get("per_kind")
    counts = Counter(r["scan"] for r in rows)
    kinds = Counter(r["kind"] for r in rows)
    lines = [
        "# MMRQA signal classifier",
        "",
        "The verdict of `MMRQAPipeline.metrics_only()` and `mmrqa assess` without a model: is the scan an MR image like",
        "those it was fitted on, is it clean or which artifact does it carry, how severe, and how sure it is.",
        f"Refit: `{prov.get('script', 'python -m mmrqa.classifier.fit')} --seed {prov.get('seed', 0)}`"
        f" ({prov.get('date', '?')}, Python {prov.get('python', '?')}"
        + "".join(f", {name} {v}" for name, v in prov.get("packages", {}).items())
        + ").",
        "",
        "## Model",
        "",
        LIBRARY,
        "",
        "Three heads, each a `GradientBoostingClassifier` "
        f"(`{', '.join(f'{k}={v}' for k, v in prov.get('gbm', {}).items())}`, balanced class weights, seeded): "
        "**presence** (clean vs artifact; fitted on clean and moderate/severe rows), **artifact** kind "
        f"({', '.join(model.classes('artifact'))}; fitted on moderate/severe rows) and **severity** "
        f"({', '.join(model.classes('severity'))}; every row). Mild rows teach only the severity head: a mild "
        "artifact is at the edge of visibility, and taught as a kind it pulled held-out clean scans towards every "
        "kind at once. Temperatures (Guo et al. 2017) cross-fitted: each of "
        f"{CALIBRATION_FOLDS} groups of training scans is scored by heads fitted without it, the temperatures are "
        "fitted on those out-of-fold scores, and the shipped heads on every training scan: "
        + ", ".join(f"{k} {v:.3f}" for k, v in model.temperature.items())
        + ". "
        + _decision_words(model),
        "",
        "## Data recipe",
        "",
        recipe.__doc__.split("\n\n", 1)[1].strip(),
        "",
        f"{len(rows)} rows: " + ", ".join(f"{k} {n}" for k, n in sorted(kinds.items())) + ".",
        "",
        *_table(
            ["scan", "rows", "role in the shipped model"],
            [
                [
                    name,
                    str(n),
                    "test only (not in the shipped model)"
                    if name in prov.get("test_only", [])
                    else "training (trees; temperatures out of fold)",
                ]
                for name, n in sorted(counts.items())
            ],
        ),
        "",
        "## Features",
        "",
        "Computed on the scan decimated to at most 128 voxels per side (`mmrqa/classifier/features.py`):",
        ", ".join(f"`{f}`" for f in model.features) + ".",
        "",
        "The last ones compare the scan with itself (`mmrqa/classifier/relative.py`, each with its definition and why",
        "it responds to its artifact and not to anatomy):",
        "",
        relative.__doc__.split("\n\n")[-1].strip("\n"),
        "",
        "## Outside the domain",
        "",
        "Not rated (rating None, `in_domain` False, with the reason): a DICOM of another modality; clearly negative "
        f"intensities (CT, phase); fewer than {MIN_LEVELS} distinct values (masks); almost constant images; a flat "
        f"spatial spectrum (log10 decay < {MIN_SPECTRAL_DECAY}: random images); no noise or texture in the object "
        f"(relative Laplacian < {MIN_ROUGHNESS:g}: linear ramps); more than {rules.MAX_FLAT_SHARE:.0%} of the "
        "object in flat patches of identical values (label maps of any number of labels, palette images); nothing "
        f"dark (1st over 99th percentile > {rules.MAX_DARK_RATIO}: smoothed noise, textures); a smooth field with "
        f"neither noise nor detail (noise floor < {rules.MIN_NOISE_FLOOR} and coarse spectral slope > "
        f"{rules.MAX_COARSE_SLOPE}: blobs, gradients); clipped highlights (more than "
        f"{rules.MAX_SATURATED_SHARE:.1%} of the pixels at the maximum: photographs, ultrasound displays); and, in a "
        "file that does not say it is MR, a single picture larger than an MR slice's matrix (shorter side over "
        f"{rules.MAX_PICTURE_SHORT_SIDE} or longer side over {rules.MAX_PICTURE_LONG_SIDE} pixels: camera "
        "photographs, digital radiographs, screenshots) or the 8x8 block grid of JPEG compression (thresholds and "
        "their held-out check: `python benchmarks/domain_check.py`); "
        "and metrics farther from the training rows "
        f"(mean distance to the 5 nearest) than {THRESHOLD_MARGIN} x the {THRESHOLD_QUANTILE:.1%} quantile of the "
        f"leave-one-scan-out distances (threshold {model.novelty.threshold:.2f}).",
        "",
        *_picture_lines(model.picture),
    ]
    if bench:
        lines += [
            "## Validation (leave one scan out)",
            "",
            "Each scan is the test scan once; the heads are trained and calibrated on the other scans by the same "
            "recipe. Pooled over folds:",
            "",
            *_table(
                ["measure", "moderate + severe", "mild"],
                [
                    ["artifact reported (presence)", _pct(bench["modsev_presence"]), _pct(bench["mild_presence"])],
                    ["inside the domain", _pct(bench["modsev_in_domain"]), _pct(bench["mild_in_domain"])],
                    ["artifact type accuracy", _pct(bench["modsev_type_accuracy"]), _pct(bench["mild_type_accuracy"])],
                    [
                        "severity within one grade",
                        _pct(bench["modsev_severity_within_one"]),
                        _pct(bench["mild_severity_within_one"]),
                    ],
                ],
            ),
            "",
            f"Each clean scan as it is, held out: rated good/medium, usable, no severe artifact "
            f"{_pct(bench.get('native_ok'))} (n = {bench.get('n_native', 0)}). "
            f"Clean augmented views rated so: {_pct(bench['clean_ok'])} "
            f"(in the domain: {_pct(bench['clean_in_domain'])}, n = {bench['n_clean']}). Expected calibration error "
            f"(10 bins) of the artifact-type head on moderate/severe variants: {bench.get('ece', float('nan')):.3f} "
            f"(on every corrupted variant: {bench.get('ece_all', float('nan')):.3f}){_top_kind(bench)}; "
            f"of the presence head, weighted to its clean prior: {bench.get('ece_presence', float('nan')):.3f} "
            f"({bench.get('ece_presence_unweighted', float('nan')):.3f} over the variants as they are).",
            "",
            *(
                [
                    "Per artifact kind (its held-out variants found / reported as that kind):",
                    "",
                    kind_table(by_kind),
                    "",
                ]
                if by_kind
                else []
            ),
            *_table(
                ["held-out scan", "as it is", "its clean augmented views"],
                [
                    [k, (model.meta.get("benchmark") or {}).get("native", {}).get(k, "-"), v]
                    for k, v in (model.meta.get("benchmark") or {}).get("clean_by_scan", {}).items()
                ],
            ),
            "",
        ]
    unseen = model.meta.get("test_scans")
    if unseen:
        scores = unseen["scores"]
        lines += [
            "## The shipped model on its test scans",
            "",
            f"The shipped model itself (no refit) on the variants of the scans it was never fitted on "
            f"({', '.join(unseen['scans'])}; `python -m mmrqa.classifier.benchmark --shipped`): clean as they are "
            f"{_pct(scores.get('native_ok'))} (n = {scores.get('n_native', 0)}), clean views "
            f"{_pct(scores['clean_ok'])} (n = {scores['n_clean']}); moderate/severe artifacts found "
            f"{_pct(scores['modsev_presence'])}, type right {_pct(scores['modsev_type_accuracy'])}, severity within "
            f"one grade {_pct(scores['modsev_severity_within_one'])} (n = {scores['n_modsev']}); mild found "
            f"{_pct(scores['mild_presence'])}. Calibration error of the artifact-type head on moderate/severe "
            f"variants {scores.get('ece', float('nan')):.3f}{_top_kind(scores)}; "
            f"of the presence head, weighted to its clean prior, "
            f"{scores.get('ece_presence', float('nan')):.3f} ({scores.get('ece_presence_unweighted', float('nan')):.3f}"
            " over the variants as they are, mostly corrupted).",
            "",
            kind_table(unseen["per_kind"]),
            "",
        ]
    lines += [
        "## Limits",
        "",
        "Artifacts are simulated (`mmrqa.artifacts`) on a few dozen real scans; real artifacts, other contrasts, "
        "anatomies and vendors may fall outside the domain (then said so) or be judged less well. Mild artifacts are "
        "often below what the metrics can tell from a scan's own noise. This is a screening aid, not a radiologist.",
        "",
        "With a reference cohort (`mmrqa assess --reference`, the Space's optional cohort table) the verdict is also read "
        "beside the user's own scans (`mmrqa/classifier/cohort.py`): a red artifact indicator reports an artifact the "
        "classifier passed, a finding with every light green is questioned, never cleared, and a scan with most of its "
        "metrics far outside the cohort gets a caution that the cohort may not be its protocol; measured on one "
        "protocol (five TCIA subjects) with `python benchmarks/cohort_verdict.py` (benchmarks/RESULTS.md).",
        "",
    ]
    return "\n".join(lines)


def kind_table(kinds: dict[str, dict[str, dict[str, float]]]) -> str:
    """Markdown: per artifact kind and severity, presence found / type right (shares of its held-out variants)."""
    severities = ("mild", "moderate", "severe")
    lines = [
        "| kind | " + " | ".join(f"{s}: found / type right" for s in severities) + " |",
        "|---|" + "---|" * len(severities),
    ]
    for kind, cells in kinds.items():
        row = []
        for severity in severities:
            cell = cells.get(severity)
            row.append("-" if cell is None else f"{100 * cell['presence']:.0f}% / {100 * cell['type_accuracy']:.0f}%")
        lines.append(f"| {kind} | " + " | ".join(row) + " |")
    return "\n".join(lines)


def _picture_lines(check) -> list[str]:
    """The photograph check's paragraph (:mod:`mmrqa.classifier.pictures`), or nothing for a model without it."""
    if check is None:
        return []
    v = check.validation
    photographs = ", ".join(name.split(" ", 1)[1] for name in v.get("photographs", []))
    return [
        "**Photographs** that break none of these rules (grayscale, MR-sized, no JPEG grid) are caught by a "
        "photograph check (`mmrqa.classifier.pictures`): gradient-boosted trees (the heads' settings) telling the "
        f"training rows ({v.get('mr_rows')} rows of the training scans, clean and corrupted) from "
        f"{v.get('picture_rows')} views (crops, shrunk, rounded) of the photographs scikit-image and scikit-learn "
        f"install ({photographs}), on the features and the image statistics. Threshold {check.threshold:.3f}, chosen "
        f"on {v.get('chosen_on')}. It judges single 2D pictures of files that do not say MR (a volume is never a "
        f"photograph). Out of fold: {_pct(v.get('oof_mr_2d_rows_flagged'))} of the training scans' 2D rows called "
        f"photographs (clean 2D rows {_pct(v.get('oof_clean_mr_2d_rows_flagged'))}, n = {v.get('clean_mr_2d_rows')}), "
        f"{_pct(v.get('oof_picture_views_caught', 0.0))} of the photographs' views and "
        f"{v.get('oof_pictures_as_they_are_caught')} of the photographs as they are caught. On photographs it never "
        "saw: `python benchmarks/domain_check.py`.",
        "",
    ]
