"""``mmrqa assess PATH... [--model ID_OR_PATH] [--question TEXT] [--format text|json|markdown] [-o OUT]``.

Prints a quality report per scan. Without ``--model`` the metrics-only mode runs (signal-only classifier; torch is
not imported). A scan that cannot be read is reported as ``error: ...`` and the others are still assessed; the exit
status is 2 when any scan failed. With ``-o`` the reports are appended to a partial file as scans finish and renamed
over OUT at the end; rerunning a killed command resumes from the finished scans (``--overwrite``: start afresh).
"""

from __future__ import annotations

import argparse
import json
import sys

from mmrqa.engines import add_engine_arguments

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
    parser.add_argument("--slices", type=int, default=3, help="slices rendered and asked about (default 3)")
    parser.add_argument("--no-signal", action="store_true", help="do not show the model the metric summary")
    parser.add_argument("--max-new-tokens", type=int, default=128, help="cap on generated tokens per answer")
    parser.add_argument("--device", default=None, help="cpu, cuda, cuda:1 ... (default: GPU when available)")
    add_engine_arguments(parser, gpus=True)
    parser.set_defaults(func=run)


def _pipeline(args: argparse.Namespace):
    from mmrqa.errors import InvalidArgumentError
    from mmrqa.pipeline import MMRQAPipeline

    if args.model is None:
        if args.question:
            raise InvalidArgumentError("--question needs --model (the metrics-only mode answers no free questions)")
        return MMRQAPipeline.metrics_only()
    return MMRQAPipeline.from_pretrained(
        args.model, args.base_model, device=args.device, revision=args.revision, max_new_tokens=args.max_new_tokens
    )


def run(args: argparse.Namespace) -> int:
    from mmrqa.console import map_inputs, progress
    from mmrqa.engines.assess_output import AssessOutput
    from mmrqa.errors import OutputError

    if args.engine != "local" or args.address or args.num_gpus:  # metrics on CPU tasks, the model on actors
        from mmrqa.engines.assess import run_on_engine

        return run_on_engine(args, _pipeline, _render)
    pipe = _pipeline(args)
    kwargs = dict(questions=args.question, slices=args.slices, signal_enhanced=not args.no_signal)
    failed = 0
    try:
        with AssessOutput(args.output, args.format, args.overwrite) as out:  # resumes a killed run's partial file
            paths = out.todo([str(p) for p in args.paths])
            bar = progress(paths, total=len(paths), desc="assessing")
            for _path, assessment in map_inputs(bar, lambda p: pipe(p, **kwargs)):
                if assessment is None:
                    failed += 1
                    continue
                out.write(_render([assessment], args.format))  # streamed: stdout, or appended to the partial file
            out.commit()
    except OSError as exc:
        raise OutputError(f"cannot write {args.output}: {exc.strerror or exc}") from exc
    return 2 if failed else 0


def _render(assessments, fmt: str) -> str:
    if fmt == "json":
        return "".join(json.dumps(a.to_dict()) + "\n" for a in assessments)  # JSON lines: one scan per line
    if fmt == "markdown":
        return "\n".join(a.to_markdown() for a in assessments)
    return "\n".join(a.to_text() for a in assessments)


if __name__ == "__main__":  # pragma: no cover
    sys.exit(2)
