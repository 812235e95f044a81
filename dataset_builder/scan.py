"""The work done for one scan: ONE pure, top-level function, :func:`process_scan` (a picklable job in, rows out).

It is what a worker process (or, later, a Ray task) runs, so it reads nothing but the scan file and writes nothing:
load the scan, draw the simulated artifacts of this scan from its own seed, compute the metrics of every variant,
render the same informative slices of every variant with robust windowing, and ask every question type of
:mod:`mmrqa.qa` about every slice. Each answer passed the grounding check (``make_conversations`` refuses
ungrounded templates; rewrites that fail it fall back to the template).

Variants of a scan: ``original`` (labels of the source: assumed clean, a labels file, or MR-ART's expert score)
and, for clean scans only, ``artifacts_per_scan`` simulated copies ``<kind>-<severity>`` whose labels are read
from their :class:`~mmrqa.artifacts.ArtifactRecord`. The comparison question pairs each simulated copy with the
original (same slice); the original is paired with one of its copies, so both image orders occur.

Seeds: the scan seed is ``sha256(build seed, scan name)``; every draw below derives from it with
``numpy.random.SeedSequence``, so a scan's rows do not depend on which process runs it or in which order.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import math
import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dataset_builder.sources import ScanTask
from mmrqa.artifacts import simulate
from mmrqa.errors import MMRQAError
from mmrqa.io import load_volume
from mmrqa.metrics import compute_metrics
from mmrqa.qa import Labels, make_conversations
from mmrqa.render import pick_slices, render_slice, window_levels

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class ScanJob:
    """A scan and the settings that determine its rows (``BuildConfig.scan_settings()``): plain, picklable."""

    task: ScanTask
    settings: dict[str, Any]
    key: str = ""


@dataclass
class ScanOutcome:
    """What came back for one job: ``rows`` on success, else ``error`` (a message naming the scan)."""

    key: str
    rows: list[dict[str, Any]] | None = None
    error: str | None = None
    seconds: float = 0.0
    stats: dict[str, Any] = field(default_factory=dict)


def scan_seed(seed: int, scan: str) -> int:
    """A 63-bit seed of one scan from the build seed and the scan's name (stable across processes and runs)."""
    digest = hashlib.sha256(f"{int(seed)}:{scan}".encode()).digest()
    return int.from_bytes(digest[:8], "little") >> 1


def plan_variants(
    task: ScanTask, settings: dict[str, Any], seed: int
) -> list[tuple[str, str | None, str | None, int]]:
    """``(variant name, kind, severity, artifact seed)`` of each variant; the original first (kind None).

    Kinds are a seeded permutation of ``settings["kinds"]`` taken in turn (distinct while the count allows);
    severities are drawn uniformly from ``settings["severities"]``.
    """
    variants: list[tuple[str, str | None, str | None, int]] = [("original", None, None, 0)]
    count = int(settings["artifacts_per_scan"]) if task.clean else 0
    if count == 0:
        return variants
    rng = np.random.default_rng(np.random.SeedSequence([seed, 1]))
    kinds = [str(k) for k in rng.permutation(list(settings["kinds"]))]
    for i in range(count):
        kind = kinds[i % len(kinds)]
        severity = str(rng.choice(list(settings["severities"])))
        artifact_seed = int(rng.integers(2**63 - 1))
        variants.append((f"{kind}-{severity}-{i}", kind, severity, artifact_seed))
    return variants


def _png(image) -> dict[str, Any]:
    buffer = io.BytesIO()
    image.save(buffer, format="PNG", optimize=False)
    return {"bytes": buffer.getvalue(), "path": None}


def _metrics_json(values: dict[str, float]) -> str:
    """Per-volume values as JSON (NaN/inf as null), keys in the report's order: exact float round trip."""
    return json.dumps({k: (float(v) if v is not None and math.isfinite(v) else None) for k, v in values.items()})


def _messages(messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """TRL messages with every content part carrying both ``type`` and ``text`` (one Arrow struct type)."""
    return [
        {"role": m["role"], "content": [{"type": p["type"], "text": p.get("text")} for p in m["content"]]}
        for m in messages
    ]


def _variant(volume, task: ScanTask, spec, indices, settings):
    name, kind, severity, artifact_seed = spec
    record = None
    labels = task.labels
    if kind is not None:
        volume, record = simulate(volume, kind, severity, artifact_seed)
        labels = Labels.from_record(record)
    report = compute_metrics(volume, settings["profile"])
    window = window_levels(volume)
    images = [render_slice(volume, i, settings["plane"], window=window) for i in indices]
    return {"name": name, "record": record, "labels": labels, "report": report, "images": images}


def _partner(variants: list[dict[str, Any]], k: int, rng: np.random.Generator) -> dict[str, Any] | None:
    if len(variants) < 2:
        return None
    if k > 0:
        return variants[0]
    return variants[1 + int(rng.integers(len(variants) - 1))]


def process_scan(job: ScanJob) -> list[dict[str, Any]]:
    """Rows of one scan: one conversation per (variant, slice, question type), in that order.

    Raises:
        MMRQAError: the scan cannot be loaded, holds no informative slice, or an answer is not grounded.
    """
    task, settings = job.task, job.settings
    seed = scan_seed(settings["seed"], task.scan)
    volume = load_volume(task.path)
    indices = pick_slices(
        volume, int(settings["n_slices"]), settings["plane"], min_foreground=settings["min_foreground"]
    )
    variants = [_variant(volume, task, spec, indices, settings) for spec in plan_variants(task, settings, seed)]
    rows = []
    for k, variant in enumerate(variants):
        metrics = _metrics_json(variant["report"].values)
        record = variant["record"]
        for j, index in enumerate(indices):
            rng = np.random.default_rng(np.random.SeedSequence([seed, 2, k, j]))
            partner = _partner(variants, k, rng)
            comparison = None if partner is None else ([partner["images"][j]], partner["report"], partner["labels"])
            examples = make_conversations(
                [variant["images"][j]],
                variant["report"],
                variant["labels"],
                seed=rng,
                question_types=settings["question_types"],
                signal_enhanced=settings["signal_enhanced"],
                comparison=comparison,
                rewriter=settings.get("rewriter"),
                with_meta=True,
            )
            for example in examples:
                qtype = example["question_type"]
                rows.append(
                    {
                        "images": [_png(im) for im in example["images"]],
                        "messages": _messages(example["messages"]),
                        "subject": task.subject,
                        "source": task.source,
                        "scan": task.scan,
                        "variant": variant["name"],
                        "slice_index": int(index),
                        "plane": settings["plane"],
                        "question_type": qtype,
                        "question_target": example.get("question_target"),
                        "quality": int(variant["labels"].quality),
                        "artifact": variant["labels"].artifact,
                        "severity": variant["labels"].severity,
                        "label_source": "simulated" if record is not None else task.label_source,
                        "metrics": metrics,
                        "artifact_record": None if record is None else json.dumps(record.to_dict(), sort_keys=True),
                        "partner_variant": partner["name"] if qtype == "comparison" and partner else None,
                    }
                )
    return rows


def run_job(job: ScanJob) -> ScanOutcome:
    """:func:`process_scan` with failures turned into an outcome (so one bad scan never stops a build)."""
    start = time.perf_counter()
    try:
        rows = process_scan(job)
    except MMRQAError as exc:
        message = str(exc)
        if job.task.path not in message:
            message = f"{job.task.path}: {message}"
        return ScanOutcome(job.key, error=message, seconds=time.perf_counter() - start)
    except Exception as exc:  # noqa: BLE001 - a scan that breaks a library must not stop the other scans
        logger.debug("scan %s failed", job.task.path, exc_info=True)
        message = f"{job.task.path}: cannot process the scan ({type(exc).__name__}: {exc})"
        return ScanOutcome(job.key, error=message, seconds=time.perf_counter() - start)
    return ScanOutcome(job.key, rows=rows, seconds=time.perf_counter() - start)
