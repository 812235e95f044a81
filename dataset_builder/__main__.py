"""``python -m dataset_builder``: build the MMRQA QA dataset from scans, optionally push it to the Hub.

Example::

    python -m dataset_builder --source mr-art --input ds004173/ --output mmrqa-mrart/ --config build.yaml \\
        --num-proc 4 --push-to-hub --repo-id me/mmrqa-mrart --private

Settings come from ``--config build.yaml`` (keys: the fields of :class:`dataset_builder.config.BuildConfig`), each
flag given on the command line overriding the file. A scan that cannot be processed is reported as ``error: ...``
and skipped; an error that stops the build (no scan found, bad setting, unwritable output, Hub failure) is reported
the same way with exit status 2.
"""

from __future__ import annotations

import argparse
import logging
import shlex
import sys

from dataset_builder.sources import SOURCES
from mmrqa.console import run_command
from mmrqa.engines import add_engine_arguments
from mmrqa.errors import InvalidArgumentError

# build (datasets, pyarrow), config (the artifact simulators: scipy) and push (huggingface_hub) are
# imported in ``run``, so that ``--help`` and a bad flag answer at once.


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m dataset_builder",
        description="Build metric-grounded MRI quality QA conversations as a Hugging Face dataset (Hub layout).",
    )
    parser.add_argument("--source", required=True, choices=SOURCES, help="layout of the input")
    parser.add_argument("--input", required=True, help="input folder (or file)")
    parser.add_argument("--output", required=True, help="output folder: data/<split>-*.parquet + README.md")
    parser.add_argument("--config", help="build.yaml with BuildConfig settings")
    parser.add_argument("--seed", type=int, help="seed of every random choice (default 0)")
    parser.add_argument("--num-proc", type=int, help="worker processes (default 1)")
    parser.add_argument("--n-slices", type=int, help="informative slices per scan (default 3)")
    parser.add_argument("--plane", choices=("axial", "coronal", "sagittal"), help="slice plane (default axial)")
    parser.add_argument("--artifacts-per-scan", type=int, help="simulated artifact copies per clean scan (default 3)")
    parser.add_argument("--kinds", help="comma-separated artifact kinds to simulate (default all)")
    parser.add_argument("--severities", help="comma-separated severities (default mild,moderate,severe)")
    parser.add_argument(
        "--signal-enhanced",
        action=argparse.BooleanOptionalAction,
        default=None,
        help="put the metric summary in the user turn (default on; --no-signal-enhanced for ablations)",
    )
    parser.add_argument("--rewriter", metavar="MODEL_ID", help="LLM rewording answers (grounded rewrites only)")
    parser.add_argument("--cache-dir", help="scan cache folder (default $MMRQA_CACHE/dataset_builder)")
    parser.add_argument("--no-cache", action="store_true", help="do not read or write the scan cache")
    add_engine_arguments(parser)
    parser.add_argument("--push-to-hub", action="store_true", help="push data and card to the Hub")
    parser.add_argument("--repo-id", help="Hub dataset repo for --push-to-hub (e.g. me/mmrqa-qa)")
    parser.add_argument("--private", action="store_true", help="create the Hub repo private")
    parser.add_argument("--progress", action=argparse.BooleanOptionalAction, default=None, help="progress bar")
    parser.add_argument("-v", "--verbose", action="store_true", help="log each scan")
    return parser


def _csv(text: str | None) -> tuple[str, ...] | None:
    return None if text is None else tuple(x.strip() for x in text.split(",") if x.strip())


def run(args: argparse.Namespace, argv: list[str]) -> int:
    from dataset_builder.build import build_dataset
    from dataset_builder.config import load_config
    from dataset_builder.parallel import open_engine

    if args.push_to_hub and not args.repo_id:
        raise InvalidArgumentError("--push-to-hub needs --repo-id (e.g. --repo-id me/mmrqa-qa)")
    config = load_config(args.config).replace(
        seed=args.seed,
        num_proc=args.num_proc,
        n_slices=args.n_slices,
        plane=args.plane,
        artifacts_per_scan=args.artifacts_per_scan,
        kinds=_csv(args.kinds),
        severities=_csv(args.severities),
        signal_enhanced=args.signal_enhanced,
        rewriter=args.rewriter,
    )
    with open_engine(args.engine, workers=args.num_proc, address=args.address) as engine:
        summary = build_dataset(
            args.source,
            args.input,
            args.output,
            config,
            cache_dir=False if args.no_cache else (args.cache_dir or True),
            engine=engine,
            command=shlex.join(["python", "-m", "dataset_builder", *argv]),
            repo_id=args.repo_id,
            show_progress=args.progress,
        )
    print(summary.describe())
    if args.push_to_hub:
        from dataset_builder.push import push_dataset

        print(f"pushed to {push_dataset(args.output, args.repo_id, private=args.private)}")
    return 0


def main(argv: list[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    args = build_parser().parse_args(argv)
    logging.basicConfig(level=logging.INFO if args.verbose else logging.WARNING, format="%(levelname)s %(message)s")
    return run_command(lambda: run(args, argv), interrupted="interrupted (finished scans are cached; rerun to resume)")


if __name__ == "__main__":
    sys.exit(main())
