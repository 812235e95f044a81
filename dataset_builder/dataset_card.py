"""The dataset card: the packaged Jinja template ``templates/dataset_card.md`` rendered with ``DatasetCardData``.

Metadata (YAML front matter): ``license``, ``task_categories`` (image-text-to-text, visual-question-answering),
``tags``, ``configs`` (the ``data/<split>-*`` files, so ``load_dataset`` finds the splits) and ``dataset_info``
(features and split sizes, written by ``datasets``' own ``DatasetInfosDict.to_dataset_card_data`` so the Hub and
``load_dataset`` read it as they read their own). The body describes the sources, the artifact presets, the
question types, the metric catalogue, the split statistics and the build command. Rendering is offline; the
round trip ``DatasetCard(str(card)).data == card.data`` holds (tested).
"""

from __future__ import annotations

import json
from collections import Counter
from importlib import resources
from typing import Any

import yaml

import mmrqa
from dataset_builder.config import BuildConfig
from dataset_builder.schema import COLUMNS, features
from dataset_builder.splits import SPLITS
from dataset_builder.splits import __doc__ as SPLIT_DOC
from mmrqa.docs import catalogue_rows, preset_rows, question_rows
from mmrqa.qa import SEVERITY_TO_QUALITY

# datasets (~1.6 s) and huggingface_hub's card classes (~0.7 s) are imported where a card is rendered.

TEMPLATE = "dataset_card.md"
TASK_CATEGORIES = ["image-text-to-text", "visual-question-answering"]
TAGS = ["medical", "mri", "image-quality-assessment", "quality-control", "vqa", "synthetic-artifacts", "mmrqa"]
LABELS = {
    "folder": "assumed clean unless in labels.tsv",
    "bids": "assumed clean",
    "mr-art": "expert scores (derivatives/scores.tsv)",
    "fastmri": "assumed clean",
}
DESCRIPTIONS = {
    "folder": "Scan files or folders in any format MMRQA reads (NIfTI/MGH, DICOM, MetaImage, fastMRI HDF5, PNG/JPEG/"
    "TIFF); the subject is the first folder under the input (or the file name). Scans count as clean unless a "
    "`labels.tsv` (columns `path`, `quality`, optional `artifact`, `severity`, `subject`) labels them.",
    "bids": "A BIDS dataset: T1w, T2w and FLAIR images under `sub-*/[ses-*/]anat/`, taken as clean.",
    "mr-art": "MR-ART (Narai et al., Sci. Data 9:630, 2022; OpenNeuro ds004173): T1w scans acquired without "
    "(`acq-standard`) and with instructed head motion (`acq-headmotion1/2`), scored by experts in "
    "`derivatives/scores.tsv` (1 good, 2 medium, 3 bad). The score is the quality label; a score of 1 means no "
    "artifact, a 2 or 3 on a head-motion scan is labelled `motion` of unknown severity. Missing scans are tolerated.",
    "fastmri": "fastMRI HDF5 files (`reconstruction_rss`, else a root-sum-of-squares reconstruction of `kspace`), one "
    "subject per file, taken as clean.",
}


def template_text() -> str:
    return resources.files("dataset_builder").joinpath("templates", TEMPLATE).read_text(encoding="utf-8")


def scan_summary(table) -> dict[str, Any]:
    """What the card needs of one scan's rows (a pyarrow Table), so the rows themselves need not be kept."""
    cols = {c: table.column(c).to_pylist() for c in ("subject", "scan", "variant", "quality", "artifact")}
    return {
        "rows": table.num_rows,
        "num_bytes": int(table.nbytes),
        "subjects": set(cols["subject"]),
        "scans": set(cols["scan"]),
        "variants": {
            (s, v): (q, a)
            for s, v, q, a in zip(cols["scan"], cols["variant"], cols["quality"], cols["artifact"], strict=True)
        },
    }


def split_stats(split_summaries: dict[str, list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """Per split: subjects, scans, rows, quality counts and artifact counts (of scan variants, not rows), from the
    :func:`scan_summary` of each of its scans."""
    stats = []
    for name in SPLITS:
        if name not in split_summaries:
            continue
        parts = split_summaries[name]
        variants = {k: v for part in parts for k, v in part["variants"].items()}
        quality = Counter(q for q, _ in variants.values())
        artifacts = Counter(a or "unknown" for _, a in variants.values())
        stats.append(
            {
                "name": name,
                "subjects": len(set().union(*(part["subjects"] for part in parts))),
                "scans": len(set().union(*(part["scans"] for part in parts))),
                "variants": len(variants),
                "rows": sum(part["rows"] for part in parts),
                "num_bytes": sum(part["num_bytes"] for part in parts),
                "quality": " / ".join(str(quality.get(q, 0)) for q in (1, 2, 3)),
                "artifacts": ", ".join(f"{k} {v}" for k, v in sorted(artifacts.items())),
            }
        )
    return stats


def card_data(config: BuildConfig, stats: list[dict[str, Any]], pretty_name: str):
    """``DatasetCardData`` with license, task categories, tags, configs and dataset_info."""
    from datasets import DatasetInfo, SplitDict, SplitInfo
    from datasets.info import DatasetInfosDict
    from datasets.utils.metadata import MetadataConfigs
    from huggingface_hub import DatasetCardData

    total_rows = sum(s["rows"] for s in stats)
    data = DatasetCardData(
        license=config.license,
        language=["en"],
        pretty_name=pretty_name,
        task_categories=list(TASK_CATEGORIES),
        tags=list(TAGS),
        size_categories=[_size_category(total_rows)],
    )
    files = [{"split": s["name"], "path": f"data/{s['name']}-*"} for s in stats]
    MetadataConfigs({"default": {"data_files": files}}).to_dataset_card_data(data)
    splits = SplitDict()
    for s in stats:
        splits.add(SplitInfo(name=s["name"], num_bytes=s["num_bytes"], num_examples=s["rows"]))
    info = DatasetInfo(features=features(), splits=splits, dataset_size=sum(s["num_bytes"] for s in stats))
    DatasetInfosDict({"default": info}).to_dataset_card_data(data)
    return data


def _size_category(n: int) -> str:
    for limit, label in ((1_000, "n<1K"), (10_000, "1K<n<10K"), (100_000, "10K<n<100K"), (1_000_000, "100K<n<1M")):
        if n < limit:
            return label
    return "n>1M"


def render_card(
    config: BuildConfig,
    split_summaries: dict[str, list[dict[str, Any]]],
    *,
    source: str,
    command: str,
    sources: list[dict[str, Any]],
    failed: list[str] | None = None,
    repo_id: str | None = None,
    pretty_name: str = "MMRQA: metric-grounded MRI quality QA",
):
    """Render the card of a built dataset (a ``huggingface_hub.DatasetCard``) from its splits' scan summaries
    (:func:`scan_summary`)."""
    from huggingface_hub import DatasetCard

    stats = split_stats(split_summaries)
    data = card_data(config, stats, pretty_name)
    return DatasetCard.from_template(
        data,
        template_str=template_text(),
        pretty_name=pretty_name,
        mmrqa_version=mmrqa.__version__,
        repo_id=repo_id or "path/to/this/dataset",
        sources=[{**row, "labels": LABELS[row["source"]]} for row in sources],
        source_description=DESCRIPTIONS[source],
        failed=failed or [],
        config=config,
        severity_to_quality=SEVERITY_TO_QUALITY,
        presets=preset_rows(config.kinds),
        questions=question_rows(config.question_types),
        columns=COLUMNS,
        catalogue=catalogue_rows(config.profile),
        split_rule=" ".join(SPLIT_DOC.split("Rule.")[1].split()) if SPLIT_DOC else "",
        split_stats=stats,
        command=command,
        config_yaml=yaml.safe_dump(json.loads(json.dumps(config.to_dict())), sort_keys=False),
        license=config.license,
    )
