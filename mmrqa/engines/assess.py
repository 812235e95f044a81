"""Batch assessment of a cohort on an engine: ``mmrqa assess PATH... --engine ray [--num-gpus N]``.

The pipeline's two halves run where they belong: :meth:`MMRQAPipeline.prepare` (load, metrics, rendering) in CPU
tasks, :meth:`MMRQAPipeline.complete` (generation, batched over slices and questions) on model actors, each actor
loading the model once; with ``--num-gpus N`` there are N actors of one GPU each, with 0 one actor on CPU. Without
``--model`` (metrics-only mode) the whole assessment is CPU work. Assessments come back in input order and are
written (stdout or ``-o``) as each one finishes, so memory stays bounded whatever the cohort size, and a killed
run resumes from the scans already written (:mod:`mmrqa.engines.assess_output`).
"""

from __future__ import annotations

import argparse
from collections.abc import Iterator
from contextlib import nullcontext
from dataclasses import dataclass
from functools import partial
from typing import Any

from mmrqa.engines import Engine, ModelStage
from mmrqa.errors import MMRQAError

_METRICS_ONLY: dict[str, Any] = {}


@dataclass
class Failed:
    """A scan that could not be assessed, carried through the engine to be reported by the driver."""

    source: str
    message: str


def _metrics_only_pipeline():
    """One metrics-only pipeline per worker process (loading the classifier once)."""
    if "pipe" not in _METRICS_ONLY:
        from mmrqa.pipeline import MMRQAPipeline

        _METRICS_ONLY["pipe"] = MMRQAPipeline.metrics_only()
    return _METRICS_ONLY["pipe"]


def assess_metrics_only(path: str, slices: int, signal_enhanced: bool):
    """CPU task of the metrics-only mode: the whole assessment of one scan, or ``Failed``."""
    try:
        return _metrics_only_pipeline()(path, slices=slices, signal_enhanced=signal_enhanced)
    except MMRQAError as exc:
        return Failed(path, str(exc))


def prepare_scan(path: str, slices: int, plane: str = "axial"):
    """CPU task of the model mode: ``MMRQAPipeline.prepare`` of one scan without its volume (not needed by the
    model, and the biggest thing to ship to an actor), or ``Failed``."""
    from mmrqa.pipeline import MMRQAPipeline

    try:
        result, _volume, report, images = MMRQAPipeline(None).prepare(path, slices, plane)  # no model needed
    except MMRQAError as exc:
        return Failed(path, str(exc))
    return result, None, report, images


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


def assess_cohort(engine: Engine, paths: list[str], args: argparse.Namespace, load_pipeline) -> Iterator[Any]:
    """Assessments (or ``Failed``) of ``paths`` in input order; ``load_pipeline(args)`` builds the model pipeline
    (called once per actor)."""
    slices, enhanced = args.slices, not args.no_signal
    if args.model is None:
        load_pipeline(args)  # validates the arguments (cheap: no model)
        return engine.map(partial(assess_metrics_only, slices=slices, signal_enhanced=enhanced), paths)
    stage = ModelStage.on_gpus(
        partial(load_pipeline, args),
        partial(complete_batch, questions=args.question, signal_enhanced=enhanced),
        batch_size=max(1, getattr(args, "batch_size", 4) or 4),
        num_gpus=getattr(args, "num_gpus", 0.0) or 0.0,
    )
    return engine.map(partial(prepare_scan, slices=slices), paths, model=stage)


def run_on_engine(args: argparse.Namespace, load_pipeline, render) -> int:
    """``mmrqa assess --engine ...``: stream each assessment to stdout or ``-o`` as it finishes, resuming a killed run
    from its partial file (:mod:`mmrqa.engines.assess_output`); exit 2 if any scan failed (``error: ...``)."""
    from mmrqa.console import progress, report_error
    from mmrqa.engines import engine_from_args
    from mmrqa.engines.assess_output import AssessOutput
    from mmrqa.errors import OutputError

    failed = 0
    try:
        with AssessOutput(args.output, args.format, getattr(args, "overwrite", False)) as out:
            paths = out.todo([str(p) for p in args.paths])
            with engine_from_args(args) if paths else nullcontext() as engine:  # no Ray start-up for nothing
                results = assess_cohort(engine, paths, args, load_pipeline) if paths else iter(())
                for item in progress(results, total=len(paths), desc="assessing"):
                    if isinstance(item, Failed):
                        report_error(item.message)
                        failed += 1
                        continue
                    out.write(render([item], args.format))
            out.commit()
    except OSError as exc:
        raise OutputError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    return 2 if failed else 0
