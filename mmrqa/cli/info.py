"""``mmrqa info PATH...``: format, shape, spacing, orientation and key metadata of each scan."""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from mmrqa.console import map_inputs

# What ``run`` needs is imported in ``run``: the console script imports every command module to build its parser,
# so ``mmrqa --help`` and ``mmrqa info`` must not pay for the libraries of the other commands.


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "info",
        help="describe scans (format, shape, spacing, orientation, metadata)",
        description="Describe each scan: files, DICOM series folders, or folders searched recursively.",
    )
    parser.add_argument("paths", nargs="+", metavar="PATH", help="scan files or folders")
    parser.add_argument("--format", choices=("text", "json"), default="text", help="output format (default: text)")
    parser.add_argument("--volume-index", type=int, default=None, help="volume to describe in 4D scans")
    parser.add_argument("--series-uid", default=None, help="DICOM series to pick in a folder holding several")
    parser.add_argument("--stored", action="store_true", help="keep the stored array order (no RAS+ reorientation)")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mmrqa.io import find_scans, format_summary, load_volume, summarize

    failed = False
    scans: list[Path] = []
    for _, found in map_inputs(args.paths, find_scans):
        failed |= found is None
        scans.extend(found or [])

    def describe(path: Path) -> dict:
        volume = load_volume(
            path, canonical=not args.stored, volume_index=args.volume_index, series_uid=args.series_uid
        )
        return summarize(volume)

    summaries = []
    for _, summary in map_inputs(scans, describe):
        if summary is None:
            failed = True
            continue
        summaries.append(summary)
        if args.format == "text":
            print(format_summary(summary), flush=True)
    if args.format == "json":
        print(json.dumps(summaries, indent=2))
    return 2 if failed else 0
