"""Peak memory of a dataset build against the cohort size: does it stay flat from 200 to 2,000 scans?

    python benchmarks/bench_builder_memory.py [--sizes 200 2000] [--num-proc 2] [--json out.json]

The cohort: N subject folders, each holding one real sample scan (symlinks to the files of ``mmrqa.data``: nibabel's
T1, dipy's EPI, pydicom's MR_small and emri_small, in turn), so every scan is a distinct subject with its own cache
key and is computed, not read back. Each size runs ``python -m dataset_builder --source folder`` with the default
settings (3 simulated artifacts per scan, 3 slices, all question types) and the scan cache on (the default) in a
fresh cache folder, as a subprocess that reads its own ``VmHWM`` (peak resident memory of the driver process) at
exit. The worker processes hold one scan at a time and are not counted. Reported: scans, rows, wall time, the
driver's peak RSS, and its growth between the smallest and the largest cohort (goal: within 20%).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import pyarrow.parquet as pq

REPO = Path(__file__).resolve().parents[1]
SAMPLES = ("t1", "epi", "dicom_t2", "dicom_enhanced")
_PEAK = (
    "import sys\nfrom dataset_builder.__main__ import main\nrc = main(sys.argv[1:])\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "open(REPORT, 'w').write(hwm)\nsys.exit(rc)"
)


def cohort(folder: Path, size: int) -> Path:
    """``size`` subject folders, each with a symlink to one sample scan."""
    from mmrqa.data import sample_path

    files = [sample_path(name) for name in SAMPLES]
    for i in range(size):
        source = files[i % len(files)]
        subject = folder / f"sub-{i:05d}"
        subject.mkdir(parents=True)
        (subject / source.name).symlink_to(source)
    return folder


def build(folder: Path, work: Path, num_proc: int) -> dict:
    report = work / "vmhwm"
    code = _PEAK.replace("REPORT", repr(str(report)))
    cmd = [sys.executable, "-c", code, "--source", "folder", "--input", str(folder), "--output", str(work / "out")]
    cmd += ["--num-proc", str(num_proc), "--cache-dir", str(work / "cache"), "--no-progress"]
    start = time.perf_counter()
    done = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, env={**os.environ, "PYTHONPATH": str(REPO)})
    if done.returncode:
        raise SystemExit(f"the build failed:\n{done.stderr[-2000:]}")
    rows = sum(pq.read_metadata(path).num_rows for path in (work / "out" / "data").glob("*.parquet"))
    return {"wall_s": round(time.perf_counter() - start, 1), "rows": rows,
            "peak_rss_mib": round(int(report.read_text()) / 1024, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", type=int, nargs="+", default=[200, 2000])
    parser.add_argument("--num-proc", type=int, default=2)
    parser.add_argument("--json", type=Path, help="also write the results as JSON")
    args = parser.parse_args()
    results = []
    for size in args.sizes:
        with tempfile.TemporaryDirectory(prefix="mmrqa-builder-memory-") as tmp:
            folder = cohort(Path(tmp) / "cohort", size)
            row = {"scans": size, "num_proc": args.num_proc, **build(folder, Path(tmp), args.num_proc)}
        results.append(row)
        print(json.dumps(row), flush=True)
    low, high = results[0]["peak_rss_mib"], results[-1]["peak_rss_mib"]
    growth = 100.0 * (high - low) / low
    verdict = "met" if abs(growth) <= 20 else "NOT met"
    print(f"driver peak RSS {low} MiB ({results[0]['scans']} scans) -> {high} MiB ({results[-1]['scans']} scans): "
          f"{growth:+.1f}%, goal within 20%: {verdict}")  # fmt: skip
    if args.json:
        args.json.write_text(json.dumps({"results": results, "growth_percent": round(growth, 1)}, indent=2))


if __name__ == "__main__":
    main()
