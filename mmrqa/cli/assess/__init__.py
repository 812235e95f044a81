"""``mmrqa assess PATH... [--model ID_OR_PATH] [--question TEXT] [--reference COHORT] [--format ...] [-o OUT]``.

Prints a quality report per scan. Without ``--model`` the metrics-only mode runs (signal-only classifier; torch is
not imported). A scan that cannot be read is reported as ``error: ...`` and the others are still assessed; the exit
status is 2 when any scan failed. With ``-o`` the reports are appended to a partial file as scans finish and renamed
over OUT at the end; rerunning a killed command resumes from the finished scans (``--overwrite``: start afresh).

The traffic lights of the metrics compare each value with the reference ranges that fit the scan (2D or 3D, anatomy,
contrast, voxel size, air in the field of view: :mod:`mmrqa.metrics.ranges`), or with ``--reference COHORT`` (a
``mmrqa metrics`` table of the user's own scans, or a folder of them, measured once before the first scan is
assessed) by robust z-scores (:mod:`mmrqa.metrics.cohort`).

The scans are assessed in this process, or on an engine with ``--engine ray`` (:mod:`mmrqa.cli.assess.cohort`); both
write through the one resumable output (:mod:`mmrqa.cli.assess.output`). What ``run`` needs is imported in ``run``:
the ``mmrqa`` console script imports every command module to build its parser, and ``mmrqa info`` must start fast.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Iterator
from contextlib import nullcontext
from functools import partial
from pathlib import Path
from typing import Any

from mmrqa.engines import add_engine_arguments
from mmrqa.errors import InvalidArgumentError, MMRQAError, OutputError

FORMATS = ("text", "json", "markdown")


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "assess",
        help="assess the quality of scans (model, or metrics-only without --model)",
        description=__doc__.split("\n\n")[0],
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="scan files or DICOM series folders")
    parser.add_argument("--model", default=None, help="MMRQA adapter or merged model (Hub id or folder)")
    parser.add_argument("--base-model", default=None, help="base model of the adapter (default: its adapter_config)")
    parser.add_argument("--revision", default=None, help="Hub revision of --model")
    parser.add_argument("--question", action="append", default=None, help="ask this instead (repeatable)")
    parser.add_argument("--format", choices=FORMATS, default="text", help="report format (default text)")
    parser.add_argument(
        "-o", "--output", default=None, help="write the reports to this file (streamed; a killed run resumes)"
    )
    parser.add_argument("--overwrite", action="store_true", help="discard a killed run's partial output")
    parser.add_argument(
        "--reference",
        default=None,
        metavar="COHORT",
        help="judge the metrics against your own scans: a `mmrqa metrics` table, or a folder of scans measured "
        "first (robust z-scores, flagged "
        "beyond 3.5, widened for a small cohort) instead of the reference ranges; the verdict is read beside it "
        "(a red artifact indicator reports its artifact; a finding with every light green is questioned)",
    )
    parser.add_argument(
        "--clean-share",
        type=float,
        default=None,
        metavar="P",
        help="share of clean scans among those you assess, the prior of the signal verdict (default: the "
        "classifier's, chosen when it was fitted; its card says which): lower finds more artifacts and raises more "
        "false alarms (figures in the README)",
    )
    parser.add_argument("--slices", type=int, default=3, help="slices rendered and asked about (default 3)")
    parser.add_argument(
        "--volume-index", type=int, default=None, help="volume of 4D scans (fMRI, DWI, dynamics) to assess, from 0"
    )
    parser.add_argument("--no-signal", action="store_true", help="do not show the model the metric summary")
    parser.add_argument("--max-new-tokens", type=int, default=128, help="cap on generated tokens per answer")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: GPU when available)")
    add_engine_arguments(parser, gpus=True)
    parser.set_defaults(func=run)


def _check(args: argparse.Namespace) -> None:
    if args.model is None and args.question:
        raise InvalidArgumentError("--question needs --model (the metrics-only mode answers no free questions)")
    share = getattr(args, "clean_share", None)
    if share is not None and not 0.0 < share < 1.0:
        raise InvalidArgumentError(f"--clean-share must lie strictly between 0 and 1, not {share}")


def _pipeline(args: argparse.Namespace):
    """The pipeline ``args`` ask for: the model's (loaded here, or once per model actor) or the metrics-only one."""
    from mmrqa.pipeline import MMRQAPipeline

    _check(args)
    reference = _reference(args)
    if args.model is None:
        pipe = MMRQAPipeline.metrics_only(reference=reference)
    else:
        pipe = MMRQAPipeline.from_pretrained(
            args.model,
            args.base_model,
            device=args.device,
            revision=args.revision,
            max_new_tokens=args.max_new_tokens,
            reference=reference,
        )
    share = getattr(args, "clean_share", None)
    return pipe.with_clean_share(share) if share is not None else pipe


def _reference(args: argparse.Namespace):
    """The ``--reference`` cohort, or None: read from a ``mmrqa metrics`` table, or measured once from a folder of
    scans (kept on ``args``, so that the engines' workers get it measured)."""
    cached = getattr(args, "reference_cohort", None)
    if cached is not None or not getattr(args, "reference", None):
        return cached
    from mmrqa.metrics.cohort import CohortReference

    path = Path(args.reference)
    args.reference_cohort = (
        _measured_cohort(path, args.volume_index) if path.is_dir() else CohortReference.from_table(path)
    )
    return args.reference_cohort


def _measured_cohort(folder: Path, volume_index: int | None):
    """The cohort of the scans in ``folder``, measured like ``mmrqa metrics`` does (each scan that cannot be
    measured is reported and left out)."""
    from mmrqa.console import progress, report_error
    from mmrqa.io import find_scans
    from mmrqa.metrics.cohort import CohortReference
    from mmrqa.metrics.files import measure_file

    scans = find_scans([folder])
    rows = []
    for scan in progress(scans, total=len(scans), desc="measuring the reference cohort"):
        try:
            rows.append(dict(measure_file(scan, volume_index=volume_index).values))
        except MMRQAError as exc:
            report_error(f"reference cohort: {exc}")
    return CohortReference.from_values(rows, source=f"{folder.name}/ ({len(rows)} scans)")


def run(args: argparse.Namespace) -> int:
    from mmrqa.cli.assess.cohort import Failed
    from mmrqa.cli.assess.output import AssessOutput
    from mmrqa.console import progress, report_error

    on_engine = args.engine != "local" or args.address or args.num_gpus  # metrics on CPU tasks, the model on actors
    _check(args)
    _reference(args)  # a bad --reference table fails before any scan is read
    pipe = None if on_engine else _pipeline(args)  # in this process: the model loads before any output is opened
    failed = 0
    try:
        with AssessOutput(args.output, args.format, args.overwrite) as out:  # resumes a killed run's partial file
            paths = out.todo([str(p) for p in args.paths])
            with _engine(args) if on_engine and paths else nullcontext() as engine:  # no Ray start-up for nothing
                results = _here(pipe, paths, args) if engine is None else _on_engine(engine, paths, args)
                for item in progress(results, total=len(paths), desc="assessing"):
                    if isinstance(item, Failed):
                        report_error(item.message)
                        failed += 1
                        continue
                    out.write(_render([item], args.format))  # streamed: stdout, or appended to the partial file
            out.commit()
    except OSError as exc:
        raise OutputError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    return 2 if failed else 0


def _here(pipe, paths: list[str], args: argparse.Namespace) -> Iterator[Any]:
    """Assess the scans one after the other in this process: each ``Assessment``, or ``Failed``."""
    from mmrqa.cli.assess.cohort import Failed

    kwargs = dict(
        questions=args.question, slices=args.slices, signal_enhanced=not args.no_signal, volume_index=args.volume_index
    )
    for path in paths:
        try:
            yield pipe(path, **kwargs)
        except MMRQAError as exc:
            yield Failed(path, str(exc))


def _engine(args: argparse.Namespace):
    from mmrqa.engines import get_engine

    return get_engine(args.engine, address=args.address, num_gpus=args.num_gpus or 0.0)


def _on_engine(engine, paths: list[str], args: argparse.Namespace) -> Iterator[Any]:
    from mmrqa.cli.assess.cohort import assess_cohort

    return assess_cohort(
        engine,
        paths,
        slices=args.slices,
        signal_enhanced=not args.no_signal,
        load_model=None if args.model is None else partial(_pipeline, args),
        questions=args.question,
        num_gpus=args.num_gpus or 0.0,
        reference=_reference(args),
        volume_index=args.volume_index,
        clean_share=getattr(args, "clean_share", None),
    )


def _render(assessments, fmt: str) -> str:
    if fmt == "json":
        return "".join(json.dumps(a.to_dict()) + "\n" for a in assessments)  # JSON lines: one scan per line
    if fmt == "markdown":
        return "\n".join(a.to_markdown() for a in assessments)
    return "\n".join(a.to_text() for a in assessments)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(2)
