"""``mmrqa metrics PATH...``: one row of quality metrics per scan (TSV/CSV/JSON), resumable with ``-o``."""

from __future__ import annotations

import argparse
import json
import sys
from contextlib import ExitStack
from functools import partial
from pathlib import Path

from mmrqa.console import progress, report_error
from mmrqa.engines import add_engine_arguments, get_engine
from mmrqa.errors import MMRQAError, OutputError
from mmrqa.fileio import write_bytes_atomic

# What ``run`` needs is imported in ``run``: the console script imports every command module to build its parser,
# so ``mmrqa --help`` and ``mmrqa info`` must not pay for the libraries of the other commands.

SEPARATORS = {"tsv": "\t", "csv": ","}


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "metrics",
        help="signal quality metrics of scans (MRQy-compatible or MRIQC-style)",
        description="Compute quality metrics, one row per scan (first column: path).",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="scan files, folders (recursive) or BIDS datasets")
    parser.add_argument("--profile", choices=("default", "mrqy"), default="default")
    parser.add_argument("--format", choices=("tsv", "csv", "json"), default="tsv")
    parser.add_argument("-o", "--output", help="output file (rows are appended as scans finish; reruns resume)")
    parser.add_argument("--overwrite", action="store_true", help="start OUT afresh instead of resuming")
    parser.add_argument("--per-slice", action="store_true", help="one row per slice instead of per scan")
    parser.add_argument(
        "--volume-index", type=int, default=None, help="volume of 4D scans (fMRI, DWI, dynamics) to measure, from 0"
    )
    parser.add_argument(
        "--workers", type=int, default=None, help="parallel workers (default: 1 locally, every CPU with --engine ray)"
    )
    add_engine_arguments(parser)
    parser.set_defaults(func=run)


def _compute(path: Path, profile: str, volume_index: int | None = None):
    """Load and measure one scan (runs in a worker process too); returns (path, report, None) or
    (path, None, error text)."""
    from mmrqa.metrics.files import measure_file

    try:
        return path, measure_file(path, profile, volume_index), None
    except MMRQAError as exc:
        return path, None, str(exc)


def _done_paths(out: Path, fmt: str) -> set[str]:
    """Paths already in OUT; a torn last line (no newline) is dropped from the file."""
    if not out.exists():
        return set()
    raw = out.read_bytes()
    if raw and not raw.endswith(b"\n"):
        raw = raw[: raw.rfind(b"\n") + 1]
        write_bytes_atomic(out, raw)  # a kill during the repair must not lose the finished rows
    lines = raw.decode("utf-8").splitlines()
    done = set()
    for line in lines:
        if fmt == "json":
            try:
                done.add(json.loads(line)["meta"]["path"])
            except (ValueError, KeyError, TypeError):
                continue
        elif line:
            done.add(line.split(SEPARATORS[fmt])[0])
    done.discard("path")
    return done


def _lines(report, fmt: str, per_slice: bool, header: bool) -> list[str]:
    if fmt == "json":
        return [report.to_json(per_slice=per_slice)]
    sep = SEPARATORS[fmt]
    if per_slice:
        rows = report.slice_rows(sep)
        return ([sep.join(report.slice_columns())] if header else []) + rows
    return ([sep.join(report.columns())] if header else []) + [report.to_row(sep)]


def run(args: argparse.Namespace) -> int:
    from mmrqa.io import find_scans

    if args.workers is not None and args.workers < 1:
        from mmrqa.errors import InvalidArgumentError

        raise InvalidArgumentError(f"--workers must be at least 1, got {args.workers}")
    scans = find_scans(args.paths)
    out = Path(args.output) if args.output else None
    done: set[str] = set()
    if out is not None and not args.overwrite:
        if args.volume_index is not None and out.exists() and out.stat().st_size > 0:
            from mmrqa.errors import InvalidArgumentError

            raise InvalidArgumentError(
                f"{out} exists: a run with --volume-index cannot resume it, since its rows do not say which volume "
                "they measured; pass --overwrite or another output file"
            )
        done = _done_paths(out, args.format)
    todo = [p for p in scans if str(p) not in done]
    header = not done
    failed = 0
    handle = None
    stack = ExitStack()  # the engine's workers or Ray runtime
    try:
        if out is not None:
            out.parent.mkdir(parents=True, exist_ok=True)
            handle = open(out, "w" if args.overwrite or not done else "a", encoding="utf-8")  # noqa: SIM115
        engine = stack.enter_context(get_engine(args.engine, workers=args.workers, address=args.address))
        results = engine.map(partial(_compute, profile=args.profile, volume_index=args.volume_index), todo)
        for path, report, error in progress(results, total=len(todo), desc="metrics"):
            if error is not None:
                report_error(error if str(path) in error else f"{path}: {error}")
                failed += 1
                continue
            text = "\n".join(_lines(report, args.format, args.per_slice, header)) + "\n"
            header = header and args.format == "json"
            if handle is not None:
                handle.write(text)
                handle.flush()
            else:
                sys.stdout.write(text)
    except OSError as exc:
        raise OutputError(f"cannot write {out}: {exc.strerror or exc}") from exc
    finally:
        stack.close()
        if handle is not None:
            handle.close()
    return 2 if failed else 0
