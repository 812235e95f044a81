"""Cohort scale: scans/s of ``mmrqa metrics`` on the local pool and on Ray, and the driver's peak memory vs cohort size.

The cohort is made from the real sample scans (nibabel's T1, dipy's EPI b0, pydicom's MR_small and emri_small)
with every artifact kind at every severity and two seeds (``mmrqa.artifacts.simulate``), saved as NIfTI::

    python benchmarks/bench_ray.py --scans 200 --big 2000 [--out results.json]

Throughput is measured inside one process per engine, after start-up (Ray runtime and worker warm-up on a few
scans), as scans / wall second over the whole cohort, through the same ``engine.map`` that ``mmrqa metrics`` uses.
Memory is the peak RSS (``wait4``) of a whole ``mmrqa metrics -o`` process over N scans and over the big cohort
(the same files listed again through symlinks), for the local pool and for Ray (the driver; Ray's workers are
separate processes whose memory does not grow with the cohort either, as they hold one block at a time).
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

SAMPLES = ("t1", "epi", "dicom_t2", "dicom_enhanced")


def make_cohort(root: Path, n: int) -> list[Path]:
    import nibabel as nib

    from mmrqa.artifacts import KINDS, SEVERITIES, simulate
    from mmrqa.data import load_sample

    root.mkdir(parents=True, exist_ok=True)
    clean = {name: load_sample(name) for name in SAMPLES}
    paths = []
    seed = 0
    while len(paths) < n:
        for name, volume in clean.items():
            for kind in KINDS:
                for severity in SEVERITIES:
                    if len(paths) == n:
                        return paths
                    path = root / f"{len(paths):05d}_{name}_{kind}_{severity}.nii.gz"
                    if not path.exists():
                        out, _ = simulate(volume, kind, severity, seed)
                        nib.save(nib.Nifti1Image(out.data, out.affine), path)
                    paths.append(path)
        seed += 1
    return paths


def throughput(engine_name: str, workers: int, paths: list[Path]) -> dict:
    from mmrqa.cli.metrics import _compute
    from mmrqa.engines import get_engine

    func = partial(_compute, profile="default")
    start = time.perf_counter()
    with get_engine(engine_name, workers=workers) as engine:
        list(engine.map(func, paths[: 2 * workers]))  # start-up and warm-up
        ready = time.perf_counter()
        results = list(engine.map(func, paths))
        wall = time.perf_counter() - ready
    assert all(error is None for _, _, error in results)
    return {"engine": engine_name, "workers": workers, "scans": len(paths), "seconds": round(wall, 2),
            "scans_per_s": round(len(paths) / wall, 2), "startup_s": round(ready - start, 2)}  # fmt: skip


def peak_rss(engine_name: str, workers: int, folder: Path, out: Path) -> dict:
    cmd = [str(Path(sys.executable).with_name("mmrqa")), "metrics", str(folder), "-o", str(out), "--overwrite"]
    cmd += ["--engine", engine_name, "--workers", str(workers)]
    start = time.perf_counter()
    child = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    _, status, usage = os.wait4(child.pid, 0)
    if os.waitstatus_to_exitcode(status):
        raise SystemExit(f"{' '.join(cmd)} failed")
    rows = len(out.read_text().splitlines()) - 1
    return {"engine": engine_name, "workers": workers, "scans": rows, "wall_s": round(time.perf_counter() - start, 1),
            "peak_rss_mib": round(usage.ru_maxrss / 1024, 1)}  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=200)
    parser.add_argument("--big", type=int, default=2000, help="cohort size of the memory check (0: skip)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "mmrqa-bench-ray")
    parser.add_argument("--out", type=Path, default=None)
    args = parser.parse_args()
    paths = make_cohort(args.dir / "cohort", args.scans)
    results = {"throughput": [], "memory": []}
    for engine_name, workers in (("local", 1), ("local", 2), ("ray", 1), ("ray", 2)):
        results["throughput"].append(throughput(engine_name, workers, paths))
        print(results["throughput"][-1], flush=True)
    if args.big:
        big = args.dir / "big"
        big.mkdir(exist_ok=True)
        for k in range(args.big):
            link = big / f"{k:06d}.nii.gz"
            if not link.exists():
                link.symlink_to(paths[k % len(paths)])
        for engine_name in ("ray", "local"):
            for folder in (args.dir / "cohort", big):
                results["memory"].append(peak_rss(engine_name, 2, folder, args.dir / "out.tsv"))
                print(results["memory"][-1], flush=True)
    text = json.dumps(results, indent=2)
    if args.out:
        args.out.write_text(text)
    print(text)


if __name__ == "__main__":
    main()
