"""Throughput of the dataset builder on the 5 TCIA pelvic T2w scans, with 1 and 2 worker processes.

    python benchmarks/bench_builder.py [--tcia DIR] [--procs 1 2] [--json out.json]

Each run is a full ``build_dataset("folder", ...)`` with the default settings (3 simulated artifacts per scan, 3
axial slices, all 8 question types, signal-enhanced) and the scan cache off, timed end to end in this process
(discovery, worker start-up, loading, simulation, metrics, rendering, conversations, splits, Parquet, card).
Reports scans/s and examples/s (rows of the dataset). Exits 0 with a note when the TCIA folder is absent.
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from dataset_builder.build import build_dataset  # noqa: E402
from dataset_builder.config import BuildConfig  # noqa: E402
from mmrqa.data import tcia_dir  # noqa: E402


def bench(root: Path, num_proc: int) -> dict:
    with tempfile.TemporaryDirectory(prefix="mmrqa-bench-builder-") as out:
        start = time.perf_counter()
        summary = build_dataset("folder", root, out, BuildConfig(num_proc=num_proc), cache_dir=False)
        seconds = time.perf_counter() - start
        size = sum(p.stat().st_size for p in Path(out, "data").glob("*.parquet"))
    scans = len(summary.computed)
    return {
        "num_proc": num_proc,
        "scans": scans,
        "failed": len(summary.failed),
        "examples": summary.examples,
        "seconds": round(seconds, 2),
        "scans_per_s": round(scans / seconds, 3),
        "examples_per_s": round(summary.examples / seconds, 1),
        "parquet_mb": round(size / 2**20, 2),
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tcia", type=Path, default=None, help="TCIA folder (default: mmrqa.data.tcia_dir())")
    parser.add_argument("--procs", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args(argv)
    root = args.tcia or tcia_dir()
    if root is None or not root.is_dir():
        print("TCIA scans not found (set MMRQA_TCIA_DIR): nothing to benchmark")
        return 0
    print(f"# {platform.processor() or platform.machine()}, {os.cpu_count()} CPUs, python {platform.python_version()}")
    results = [bench(root, n) for n in args.procs]
    print("| processes | scans | examples | seconds | scans/s | examples/s | Parquet MB |")
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print(
            f"| {r['num_proc']} | {r['scans']} | {r['examples']} | {r['seconds']} | {r['scans_per_s']} | "
            f"{r['examples_per_s']} | {r['parquet_mb']} |"
        )
    if args.json:
        args.json.write_text(json.dumps(results, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
