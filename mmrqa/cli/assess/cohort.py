"""``mmrqa assess --engine ray [--num-gpus N]``: the assessment of a cohort as work for an :mod:`mmrqa.engines` engine.

The pipeline's two halves run where they belong: :meth:`MMRQAPipeline.prepare` (load, metrics, rendering) in CPU
tasks, :meth:`MMRQAPipeline.complete` (generation, batched over slices and questions) on model actors, each actor
loading the model once; with ``--num-gpus N`` there are N actors of one GPU each, with 0 one actor on CPU. Without
``--model`` (metrics-only mode) the whole assessment is CPU work. Assessments come back in input order, so the
command writes each one as it finishes (:mod:`mmrqa.cli.assess.output`).

The task functions are module-level so that engine workers can unpickle them.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from typing import Any

from mmrqa.classifier import decimate
from mmrqa.engines import Engine, ModelStage
from mmrqa.errors import MMRQAError
from mmrqa.pipeline import MMRQAPipeline

_METRICS_ONLY: dict[str, Any] = {}


@dataclass
class Failed:
    """A scan that could not be assessed, carried through the engine to be reported by the command."""

    source: str
    message: str


def _metrics_only_pipeline(reference=None, clean_share=None):
    """One metrics-only pipeline per worker process (loading the classifier once), judging with ``reference``
    (and under the prior ``clean_share``, :meth:`MMRQAPipeline.with_clean_share`, when given)."""
    if "pipe" not in _METRICS_ONLY:
        _METRICS_ONLY["pipe"] = MMRQAPipeline.metrics_only()
    pipe = _METRICS_ONLY["pipe"].with_reference(reference)
    return pipe.with_clean_share(clean_share) if clean_share is not None else pipe


def assess_metrics_only(
    path: str, slices: int, signal_enhanced: bool, reference=None, volume_index=None, clean_share=None
):
    """CPU task of the metrics-only mode: the whole assessment of one scan, or ``Failed``."""
    try:
        pipe = _metrics_only_pipeline(reference, clean_share)
        return pipe(path, slices=slices, signal_enhanced=signal_enhanced, volume_index=volume_index)
    except MMRQAError as exc:
        return Failed(path, str(exc))


def prepare_scan(path: str, slices: int, plane: str = "axial", reference=None, volume_index=None):
    """CPU task of the model mode: ``MMRQAPipeline.prepare`` of one scan, its volume on the signal classifier's grid
    only (:func:`mmrqa.classifier.decimate`: what the classifier reads when a model answer is missing, at most 128
    voxels per side, instead of the full scan, the biggest thing to ship to an actor), or ``Failed``."""
    try:
        result, volume, report, images = MMRQAPipeline(None, reference=reference).prepare(
            path, slices, plane, render=True, volume_index=volume_index
        )
    except MMRQAError as exc:
        return Failed(path, str(exc))
    return result, decimate(volume), report, images


def complete_batch(pipe, batch: list, questions: list[str] | None, signal_enhanced: bool) -> list:
    """Actor body of the model mode: finish each prepared scan of a batch with the actor's pipeline."""
    out = []
    for prepared in batch:
        if isinstance(prepared, Failed):
            out.append(prepared)
            continue
        try:
            out.append(pipe.complete(prepared, questions, signal_enhanced))
        except MMRQAError as exc:
            out.append(Failed(prepared[0].source, str(exc)))
    return out


def assess_cohort(
    engine: Engine,
    paths: list[str],
    *,
    slices: int,
    signal_enhanced: bool,
    load_model: Callable[[], MMRQAPipeline] | None = None,
    questions: list[str] | None = None,
    batch_size: int = 4,
    num_gpus: float = 0.0,
    reference=None,
    volume_index: int | None = None,
    clean_share: float | None = None,
) -> Iterator[Any]:
    """Assessments (or ``Failed``) of ``paths`` in input order.

    Args:
        engine: where the work runs.
        paths: the scans.
        slices, signal_enhanced: as for :meth:`MMRQAPipeline.__call__`.
        load_model: builds the model pipeline, once per model actor (picklable: a module-level function or a
            ``functools.partial`` of one); None runs the metrics-only mode.
        questions: asked instead of the standard ones (model mode).
        batch_size: prepared scans per actor call.
        num_gpus: GPUs for the model actors (one actor per GPU; 0: one actor on CPU).
        reference: a :class:`mmrqa.metrics.cohort.CohortReference` to judge the metrics against (default: the
            ranges that fit each scan).
        volume_index: which volume of 4D files to assess.
        clean_share: the share of clean scans the signal verdict assumes (metrics-only mode; the model mode's
            ``load_model`` sets its own), default the classifier's.
    """
    if load_model is None:
        task = partial(
            assess_metrics_only,
            slices=slices,
            signal_enhanced=signal_enhanced,
            reference=reference,
            volume_index=volume_index,
            clean_share=clean_share,
        )
        return engine.map(task, paths)
    stage = ModelStage.on_gpus(
        load_model,
        partial(complete_batch, questions=questions, signal_enhanced=signal_enhanced),
        batch_size=batch_size,
        num_gpus=num_gpus,
    )
    prepare = partial(prepare_scan, slices=slices, reference=reference, volume_index=volume_index)
    return engine.map(prepare, paths, model=stage)
