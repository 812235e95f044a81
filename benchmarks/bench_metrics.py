"""Speed of the metrics: MRQy 0.0.3 vs ``mmrqa metrics --profile mrqy`` on the same scans, in the same run.

MRQy runs from a throw-away venv (never a project dependency)::

    python3 -m venv /tmp/mrqy-venv && /tmp/mrqy-venv/bin/pip install mrqy==0.0.3
    python benchmarks/bench_metrics.py [--tcia DIR] [--mrqy-python /tmp/mrqy-venv/bin/python]

Both are timed as whole processes (start-up, reading, computing, writing), single worker; peak memory is the
child's maximum resident set size. The values are compared column by column (relative 1e-6). Also times the
``default`` profile's compute on nilearn's 1 mm MNI152 template with seeded Rician noise (``mni152_noisy``; process
CPU time, run with ``OMP_NUM_THREADS=1`` for one core) and says how much of it the artifact indicators take, and
the wall time and peak memory of a whole ``mmrqa metrics`` process on it (default profile).
"""

from __future__ import annotations

import argparse
import csv
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
COLUMNS = (
    "MEAN",
    "RNG",
    "VAR",
    "CV",
    "CPP",
    "PSNR",
    "SNR1",
    "SNR2",
    "SNR3",
    "SNR4",
    "CNR",
    "CVP",
    "CJV",
    "EFC",
    "FBER",
)


def timed(cmd: list[str], cwd: Path) -> tuple[float, float]:
    """Wall seconds and peak RSS (MiB) of one child process."""
    start = time.perf_counter()
    child = subprocess.Popen(cmd, cwd=cwd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)  # this child's own rusage (RUSAGE_CHILDREN would mix both runs)
    wall = time.perf_counter() - start
    child.returncode = os.waitstatus_to_exitcode(status)
    if child.returncode:
        raise SystemExit(f"{cmd[0]} failed with status {child.returncode}")
    return wall, usage.ru_maxrss / 1024


def read_mrqy(path: Path) -> dict[str, dict[str, str]]:
    lines = [ln for ln in path.read_text().splitlines() if not ln.startswith("#") or ln.startswith("#dataset:")]
    rows = csv.DictReader([ln.replace("#dataset:", "") for ln in lines], delimiter="\t")
    return {row["Patient"]: row for row in rows}


def default_profile_cpu() -> str:
    """CPU seconds of ``compute_metrics(mni152_noisy, "default")`` (imports warmed up), best of 3, and the share
    of each artifact indicator (:mod:`mmrqa.metrics.indicators`, cProfile cumulative time of a fourth run)."""
    import cProfile
    import pstats

    from mmrqa.data import load_sample
    from mmrqa.metrics import compute_metrics

    compute_metrics(load_sample("t1"))  # imports (scipy) outside the timing
    volume = load_sample("mni152_noisy")
    times = []
    for _ in range(3):
        start = time.process_time()
        compute_metrics(volume, profile="default")
        times.append(time.process_time() - start)
    profile = cProfile.Profile(time.process_time)
    profile.runcall(compute_metrics, volume, "default")
    stats = pstats.Stats(profile).stats
    parts = {
        f[2]: v[3] for f, v in stats.items() if f[0].endswith(("indicators.py", "spectral.py")) and f[2][0] != "<"
    }
    total = sum(v[3] for f, v in stats.items() if f[2] == "_default_profile")
    shares = ", ".join(f"{k} {v:.2f}" for k, v in sorted(parts.items(), key=lambda kv: -kv[1]) if v >= 0.01)
    return (
        f"{volume.shape}: {min(times):.2f} s CPU (best of 3; runs {', '.join(f'{t:.2f}' for t in times)}); "
        f"profiled {total:.2f} s of which indicators.py + spectral.py {sum(parts.values()):.2f} s ({shares})"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tcia", default=os.environ.get("MMRQA_TCIA_DIR", str(REPO.parent / "shared/data/tcia")))
    parser.add_argument("--mrqy-python", default="/tmp/mrqy-venv/bin/python")
    parser.add_argument("--skip-mrqy", action="store_true", help="only time the default profile")
    args = parser.parse_args()
    print(
        f"{time.strftime('%Y-%m-%d %H:%M %Z')}; OMP_NUM_THREADS={os.environ.get('OMP_NUM_THREADS')}; "
        f"load average {os.getloadavg()[0]:.1f}"
    )
    process_line = default_profile_process()  # first: a child's peak RSS includes this process's at fork time
    if args.skip_mrqy:
        print(f"default profile on MNI152 {default_profile_cpu()}")
        print(process_line)
        return 0
    scans = sorted(Path(args.tcia).glob("*.nii.gz"))
    work = Path(tempfile.mkdtemp(prefix="bench-metrics-"))
    (work / "in").mkdir()
    for scan in scans:  # MRQy names a scan by its file name up to the first dot
        (work / "in" / (scan.name.split("_")[0] + ".nii.gz")).symlink_to(scan)
    mrqy_wall, mrqy_mem = timed([args.mrqy_python, "-m", "mrqy.QC", "bench", str(work / "in")], work)
    out = work / "mmrqa.tsv"
    mmrqa = [
        sys.executable,
        "-c",
        "import sys; from mmrqa.cli import main; sys.exit(main())",
        "metrics",
        *map(str, scans),
        "--profile",
        "mrqy",
        "-o",
        str(out),
    ]
    ours_wall, ours_mem = timed(mmrqa, work)
    theirs = read_mrqy(work / "UserInterface/Data/bench/results.tsv")
    worst = 0.0
    for row in csv.DictReader(out.open(), delimiter="\t"):
        ref = theirs[Path(row["path"]).name.split("_")[0]]
        for col in COLUMNS:
            a, b = float(row[col]), float(ref[col])
            worst = max(worst, abs(a - b) / max(abs(b), 1e-300))
    print(f"scans: {len(scans)}")
    print(f"MRQy 0.0.3: {mrqy_wall:.2f} s wall, {mrqy_mem:.0f} MiB peak")
    print(f"mmrqa mrqy: {ours_wall:.2f} s wall, {ours_mem:.0f} MiB peak")
    print(f"speed-up: {mrqy_wall / ours_wall:.1f}x; worst relative difference: {worst:.2e}")

    print(f"default profile on MNI152 {default_profile_cpu()}")
    print(process_line)
    return 0


def default_profile_process() -> str:
    """Wall time and peak RSS of a whole ``mmrqa metrics`` process (default profile) on the MNI152 sample."""
    from mmrqa.data import sample_path

    work = Path(tempfile.mkdtemp(prefix="bench-metrics-default-"))
    command = [sys.executable, "-c", "import sys; from mmrqa.cli import main; sys.exit(main())", "metrics"]
    wall, peak = timed([*command, str(sample_path("mni152_noisy")), "-o", str(work / "out.tsv")], work)
    return f"default profile, whole `mmrqa metrics` process on MNI152: {wall:.2f} s wall, {peak:.0f} MiB peak RSS"


if __name__ == "__main__":
    sys.exit(main())
