"""``mmrqa report INPUT... -o qc_report/``: a static cohort QC report (group page + one page per scan)."""

from __future__ import annotations

import argparse
import sys


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "report",
        help="static cohort QC report: plots per metric, outlier flags, embedding, a page per scan",
        description=(
            "Write a self-contained HTML report of a cohort (opens from disk, no server, no network): the group page "
            "index.html (one plot per metric, robust outlier flags, a 2D embedding, a sortable table of verdicts, "
            "grouping by metadata or table columns) and one page per scan (slice mosaics, background view, metrics "
            "with their reference ranges, the assessment, the per-slice profile). Running it again into the same "
            "folder redoes only new or changed scans."
        ),
    )
    parser.add_argument("inputs", nargs="*", metavar="INPUT", help="scan files, folders (recursive) or BIDS datasets")
    parser.add_argument("-o", "--output", default="qc_report", help="report folder (default: qc_report)")
    parser.add_argument(
        "--metrics",
        metavar="TABLE",
        help="an `mmrqa metrics` table (TSV/CSV/JSON): its values are used instead of measuring again (the metrics-only "
        "verdict still reads each scan on its own 128-voxel grid)",
    )
    parser.add_argument("--model", help="MMRQA adapter (folder or Hub id) for the verdicts (default: metrics-only)")
    parser.add_argument("--group-by", metavar="COLUMN", help="grouping shown first (a table or metadata column)")
    parser.add_argument("--title", help="title of the group page")
    parser.add_argument(
        "--workers", type=int, default=1, help="parallel worker processes (default 1; with --model each loads it)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mmrqa.console import report_error
    from mmrqa.report import write_report

    result = write_report(
        args.inputs,
        args.output,
        metrics_table=args.metrics,
        model=args.model,
        workers=args.workers,
        group_by=args.group_by,
        title=args.title,
        on_error=report_error,
    )
    print(
        f"report of {result.scans} scans ({result.done} done, {result.reused} reused, {len(result.failed)} with "
        f"errors, {result.flagged} flagged) written in {result.seconds:.1f} s: {result.index}",
        file=sys.stderr,
    )
    print(result.index.resolve().as_uri())
    return 2 if result.failed else 0
