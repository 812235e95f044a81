"""The ``mmrqa`` console script.

Each subcommand lives in its own module of this package, which defines ``add_parser(subparsers)`` (registering
``func=run``) and ``run(args) -> int``. Modules are imported only to build the parser; heavy libraries (torch,
transformers, gradio) are imported inside ``run`` of the commands that need them, so ``mmrqa info`` and
``mmrqa metrics`` start fast.
"""

from __future__ import annotations

import argparse
import importlib
import sys

from mmrqa import __version__
from mmrqa.console import run_command

# Order is the order shown by `mmrqa --help`.
SUBCOMMANDS = ("info", "metrics", "simulate", "assess", "evaluate", "report")

EPILOG = """examples:
  mmrqa info scan.nii.gz dicom_series/
  mmrqa metrics scans/ --profile mrqy -o iqms.tsv
  mmrqa simulate t1.nii.gz t1_motion.nii.gz --artifact motion --severity moderate --seed 0
  mmrqa assess scan.nii.gz --format markdown
  mmrqa evaluate --model ./adapter --dataset ./dataset --split test -o results.json
  mmrqa report scans/ -o qc_report/            (or: mmrqa report --metrics iqms.tsv -o qc_report/)
"""


class _Parser(argparse.ArgumentParser):
    """argparse that reports usage errors as `error: ...` with exit status 2 (argparse's own convention)."""


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(
        prog="mmrqa",
        description="MRI quality assessment: signal metrics fused with a multimodal LLM.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )

    parser.add_argument("--version", action="version", version=f"mmrqa {__version__}")
    subparsers = parser.add_subparsers(dest="command", metavar="COMMAND")
    for name in SUBCOMMANDS:
        try:
            module = importlib.import_module(f"mmrqa.cli.{name}")
        except ModuleNotFoundError as exc:  # a subcommand whose module is not part of this build
            if exc.name != f"mmrqa.cli.{name}":
                raise
            continue
        module.add_parser(subparsers)
    return parser


def main(argv: list[str] | None = None) -> int:
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return 2
    return run_command(lambda: args.func(args))


if __name__ == "__main__":
    sys.exit(main())
