"""Cohort scale: scans/s of ``mmrqa metrics`` on the local pool and on Ray, where the CPU goes, and the driver's peak
memory vs cohort size.

Two cohorts, both made from real scans with simulated artifacts (``mmrqa.artifacts.simulate``: every kind, every
severity, several seeds), saved as NIfTI:

- ``tiny``: the small sample scans (nibabel's T1 33x41x25, dipy's EPI b0 128x128x10, pydicom's MR_small 64x64 and
  emri_small 64x64x10), ~40 ms of metrics each: any fixed per-scan cost of an engine shows at its worst.
- ``realistic``: 15% full-size 1 mm brains (nilearn's MNI152 with Rician noise, ``mni152_noisy``, 197x233x189),
  15% clinical pelvic T2w (the TCIA scans, 320x320x~30, when ``../shared/data/tcia`` is present; more MNI152 copies
  otherwise) and 70% tiny scans: ~0.4 s of metrics per scan on average, closer to a real study.

Usage (about 10-12 minutes on an idle 2-core machine, most of it the realistic cohort; the cohorts are cached)::

    python benchmarks/bench_ray.py --scans 200 --realistic 200 --big 2000 [--out results.json]

Throughput is measured inside one process per engine, after start-up (Ray runtime and one warm-up scan per worker),
as scans / wall second over the whole cohort (tiny: the best of ``--repeats`` interleaved runs, which filters
other jobs' load on a shared machine), through the same ``engine.map`` that ``mmrqa metrics`` uses. The CPU
seconds of every process this benchmark started (the driver, the pool or Ray workers, Ray's own raylet/GCS) are read
from ``/proc`` around each run. Memory is the peak RSS (``VmHWM``) of a whole ``mmrqa metrics -o`` driver process over N
scans and over the big cohort (the same files listed again through symlinks), for both engines (the driver; workers
hold one chunk at a time). The last lines are a compact summary with the ratios and the goal verdicts.

``--sched`` measures only the engines' scheduling: items that sleep instead of computing (200 of 20-60 ms, and a
realistic mix of 120: 70% 10 ms, 15% 250 ms, 15% 350 ms), so the figure is the idle time an engine adds, wall /
(total sleep / workers) - 1, which other jobs' CPU load on a shared machine barely changes (best and median of
``--repeats`` interleaved runs)::

    python benchmarks/bench_ray.py --sched --repeats 3
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import time
from functools import partial
from pathlib import Path

SAMPLES = ("t1", "epi", "dicom_t2", "dicom_enhanced")
REPO = Path(__file__).resolve().parents[1]
GOAL_SCALING, GOAL_OVERHEAD, GOAL_MEMORY = 1.8, 0.15, 0.20
RAY_AGENTS = ("ray::DashboardAgent", "ray::RuntimeEnvAgent")  # Ray's own processes, named like workers


def _variants(volumes: dict, n: int, root: Path, start: int = 0) -> list[Path]:
    """``n`` NIfTI copies of ``volumes`` (name -> Volume, or a callable returning one), each with a different
    artifact (kind x severity x seed), written once into ``root``."""
    import nibabel as nib

    from mmrqa.artifacts import KINDS, SEVERITIES, simulate

    combos = [(name, kind, sev) for name in volumes for kind in KINDS for sev in SEVERITIES]
    paths = []
    for k in range(n):
        name, kind, severity = combos[k % len(combos)]
        seed = k // len(combos)
        path = root / f"{start + k:05d}_{name}_{kind}_{severity}_{seed}.nii.gz"
        if not path.exists():
            volume = volumes[name]() if callable(volumes[name]) else volumes[name]
            out, _ = simulate(volume, kind, severity, seed)
            nib.save(nib.Nifti1Image(out.data, out.affine), path)
        paths.append(path)
    return paths


def make_cohort(root: Path, n: int) -> list[Path]:
    """The tiny cohort: ``n`` variants of the small sample scans."""
    from mmrqa.data import load_sample

    root.mkdir(parents=True, exist_ok=True)
    return _variants({name: load_sample(name) for name in SAMPLES}, n, root)


def make_realistic_cohort(root: Path, n: int) -> list[Path]:
    """The realistic cohort: 15% MNI152 (1 mm), 15% TCIA T2w (or MNI152), 70% tiny scans, interleaved."""
    from functools import cache

    from mmrqa.data import load_sample, tcia_dir
    from mmrqa.io import load_volume

    root.mkdir(parents=True, exist_ok=True)
    n_mni = n_tcia = round(0.15 * n)
    tcia = sorted(tcia_dir().glob("*_T2w.nii.gz")) if tcia_dir() else []
    if not tcia:
        n_mni, n_tcia = 2 * n_mni, 0
    big = _variants({"mni152": cache(lambda: load_sample("mni152_noisy"))}, n_mni, root, start=0)
    volumes = {p.name.split("_")[0]: cache(partial(load_volume, p)) for p in tcia}
    big += _variants(volumes, n_tcia, root, start=n_mni) if tcia else []
    small = _variants({name: load_sample(name) for name in SAMPLES}, n - len(big), root, start=len(big))
    step = max(1, len(small) // max(1, len(big)))
    mixed = []
    for k, path in enumerate(big):  # spread the big scans through the cohort (a real study is not sorted by size)
        mixed += [path, *small[k * step : (k + 1) * step]]
    return mixed + small[len(big) * step :]


def _descendants_cpu() -> dict[str, float]:
    """CPU seconds (user + system) of this process and every process it started, grouped: driver, workers (pool
    processes and Ray workers), ray_system (raylet, GCS and Ray's other helpers)."""
    tick = os.sysconf("SC_CLK_TCK")
    procs = {}
    for pid in filter(str.isdigit, os.listdir("/proc")):
        try:
            stat = Path(f"/proc/{pid}/stat").read_text()
            cmd = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        fields = stat[stat.rfind(")") + 2 :].split()
        procs[int(pid)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / tick, cmd)
    me, mine = os.getpid(), {os.getpid()}
    changed = True
    while changed:
        new = {pid for pid, (ppid, _, _) in procs.items() if ppid in mine} - mine
        mine |= new
        changed = bool(new)
    out = {"driver": 0.0, "workers": 0.0, "ray_system": 0.0}
    for pid in mine:
        _, cpu, cmd = procs.get(pid, (0, 0.0, ""))
        worker = (cmd.startswith("ray::") and not cmd.startswith(RAY_AGENTS)) or "bench_ray" in cmd
        group = "driver" if pid == me else "workers" if worker else "ray_system"
        out[group] += cpu
    return out


def throughput(engine_name: str, workers: int, paths: list[Path]) -> dict:
    from mmrqa.engines import get_engine
    from mmrqa.metrics.files import measure_file

    func = partial(measure_file, profile="default")
    start = time.perf_counter()
    with get_engine(engine_name, workers=workers) as engine:
        list(engine.map(func, paths[:workers]))  # start-up and warm-up: one scan per worker
        ready = time.perf_counter()
        before = _descendants_cpu()
        results = list(engine.map(func, paths))
        wall = time.perf_counter() - ready
        after = _descendants_cpu()
        tasks = getattr(engine, "tasks", None)
    assert len(results) == len(paths)  # measure_file raises on a scan it cannot measure
    cpu = {k: round(after[k] - before.get(k, 0.0), 2) for k in after}
    row = {"engine": engine_name, "workers": workers, "scans": len(paths), "seconds": round(wall, 2),
           "scans_per_s": round(len(paths) / wall, 2), "startup_s": round(ready - start, 2), "cpu_s": cpu}  # fmt: skip
    if tasks:
        row["ray_tasks"] = tasks
    return row


def sleep_items(kind: str) -> list[float]:
    """Seconds to sleep per item: ``tiny`` (200 items of 20-60 ms) or ``mix`` (120: mostly 10 ms, 30% 0.25-0.35 s)."""
    rng = random.Random(0)
    if kind == "tiny":
        return [rng.choice([0.02, 0.03, 0.04, 0.06]) for _ in range(200)]
    return [rng.choices([0.01, 0.35, 0.25], [70, 15, 15])[0] for _ in range(120)]


def scheduling(engine_name: str, workers: int, kind: str) -> dict:
    """Idle time an engine adds to ``sleep_items(kind)`` (after start-up and one warm-up item per worker)."""
    from mmrqa.engines import get_engine

    items = sleep_items(kind)
    with get_engine(engine_name, workers=workers) as engine:
        list(engine.map(time.sleep, items[:workers]))
        start = time.perf_counter()
        list(engine.map(time.sleep, items))
        wall = time.perf_counter() - start
        tasks = getattr(engine, "tasks", None)
    ideal = sum(items) / workers
    return {"engine": engine_name, "workers": workers, "kind": kind, "seconds": round(wall, 3),
            "ideal_s": round(ideal, 3), "idle_pct": round(100 * (wall / ideal - 1), 2), "ray_tasks": tasks,
            "load": round(os.getloadavg()[0], 2)}  # fmt: skip


def sched_summary(rows: list[dict]) -> list[str]:
    lines = []
    for key in dict.fromkeys((r["kind"], r["engine"], r["workers"]) for r in rows):
        idle = [r["idle_pct"] for r in rows if (r["kind"], r["engine"], r["workers"]) == key]
        lines.append(f"[sched {key[0]}] {key[1]}x{key[2]}: idle time added {min(idle):.1f}% best, "
                     f"{statistics.median(idle):.1f}% median of {len(idle)}")  # fmt: skip
    return lines


_PEAK = (
    "import sys\nfrom mmrqa.cli import main\nrc = main(sys.argv[1:])\n"
    "hwm = [l for l in open('/proc/self/status') if l.startswith('VmHWM')][0].split()[1]\n"
    "open(sys.argv[0], 'w').write(hwm)\nsys.exit(rc)"
)


def peak_rss(engine_name: str, workers: int, folder: Path, out: Path) -> dict:
    """Peak RSS of the ``mmrqa metrics`` driver process, read from its own ``VmHWM`` at exit (``wait4``'s ru_maxrss
    would include the high-water mark this big benchmark process had when it forked the child)."""
    report = out.with_suffix(".vmhwm")
    cmd = [sys.executable, "-c", _PEAK.replace("sys.argv[0]", repr(str(report))), "metrics", str(folder)]
    cmd += ["-o", str(out), "--overwrite", "--engine", engine_name, "--workers", str(workers)]
    start = time.perf_counter()
    if subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, cwd=REPO).returncode:
        raise SystemExit(f"mmrqa metrics {folder} --engine {engine_name} failed")
    rows = len(out.read_text().splitlines()) - 1
    return {"engine": engine_name, "workers": workers, "scans": rows, "wall_s": round(time.perf_counter() - start, 1),
            "peak_rss_mib": round(int(report.read_text()) / 1024, 1)}  # fmt: skip


def _verdict(ok: bool) -> str:
    return "met" if ok else "NOT met"


def summary(results: dict) -> list[str]:
    """Compact lines: scans/s per engine and workers, the two ratios and the memory check, with goal verdicts."""
    lines = []
    for cohort, all_rows in results["throughput"].items():
        best: dict = {}
        for r in all_rows:  # the best of the repeats of each engine and worker count
            key = (r["engine"], r["workers"])
            if key not in best or r["scans_per_s"] > best[key]["scans_per_s"]:
                best[key] = r
        rows = list(best.values())
        if len(all_rows) > len(rows):
            lines.append(f"[{cohort}] best of {len(all_rows) // len(rows)} interleaved runs per engine and workers")
        rate = {(r["engine"], r["workers"]): r["scans_per_s"] for r in rows}
        lines.append(f"[{cohort}] " + "  ".join(f"{e}x{w}: {v:.2f} scans/s" for (e, w), v in rate.items()))
        scaling = rate[("ray", 2)] / rate[("ray", 1)]
        lines.append(
            f"[{cohort}] local pool 2 vs 1 workers: {rate[('local', 2)] / rate[('local', 1)]:.2f}x (for reference)"
        )
        lines.append(
            f"[{cohort}] Ray 2 vs 1 workers: {scaling:.2f}x (goal >= {GOAL_SCALING}x: {_verdict(scaling >= GOAL_SCALING)})"
        )
        for w in (1, 2):
            overhead = 1 - rate[("ray", w)] / rate[("local", w)]
            ok = overhead < GOAL_OVERHEAD
            lines.append(
                f"[{cohort}] Ray overhead vs local pool, {w} worker(s): {overhead:+.1%} (goal < 15%: {_verdict(ok)})"
            )
        cpu = {(r["engine"], r["workers"]): sum(r["cpu_s"].values()) / r["scans"] for r in rows}
        lines.append(f"[{cohort}] CPU per scan, all processes (ms): "
                     + "  ".join(f"{e}x{w}: {1000 * v:.1f}" for (e, w), v in cpu.items()))  # fmt: skip
        for w in (1, 2):
            ray_own = next(r["cpu_s"] for r in rows if r["engine"] == "ray" and r["workers"] == w)
            lines.append(f"[{cohort}] Ray CPU over the local pool, {w} worker(s): {cpu[('ray', w)] / cpu[('local', w)] - 1:+.1%}"
                         f" (Ray's own processes {ray_own['ray_system']:.2f} s, driver {ray_own['driver']:.2f} s;"
                         " less disturbed by other jobs than scans/s, not immune)")  # fmt: skip
    memory = results.get("memory", [])
    for engine in ("ray", "local"):
        rss = [m for m in memory if m["engine"] == engine]
        if len(rss) == 2:
            growth = rss[1]["peak_rss_mib"] / rss[0]["peak_rss_mib"] - 1
            lines.append(f"[memory] {engine}: {rss[0]['peak_rss_mib']} MiB ({rss[0]['scans']} scans) -> "
                         f"{rss[1]['peak_rss_mib']} MiB ({rss[1]['scans']}): {growth:+.1%} (goal within 20%: "
                         f"{_verdict(abs(growth) <= GOAL_MEMORY)})")  # fmt: skip
    return lines


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--scans", type=int, default=200, help="tiny cohort size (0: skip)")
    parser.add_argument("--realistic", type=int, default=200, help="realistic cohort size (0: skip)")
    parser.add_argument("--repeats", type=int, default=3, help="interleaved runs on the tiny cohort (best is kept)")
    parser.add_argument("--big", type=int, default=2000, help="cohort size of the memory check (0: skip)")
    parser.add_argument("--dir", type=Path, default=Path(tempfile.gettempdir()) / "mmrqa-bench-ray")
    parser.add_argument("--out", type=Path, default=None)
    parser.add_argument("--sched", action="store_true", help="only the scheduling check (sleeping items)")
    args = parser.parse_args()
    print(f"load average at start: {os.getloadavg()[0]:.2f}; CPUs: {len(os.sched_getaffinity(0))}", flush=True)
    if args.sched:
        rows = []
        for _ in range(args.repeats):
            for kind in ("tiny", "mix"):
                for engine_name, workers in (("local", 2), ("ray", 1), ("ray", 2)):
                    rows.append(scheduling(engine_name, workers, kind))
                    print(rows[-1], flush=True)
        if args.out:
            args.out.write_text(json.dumps({"sched": rows, "summary": sched_summary(rows)}, indent=2))
        print("\n".join(sched_summary(rows)))
        return
    cohorts = {}
    if args.scans:
        cohorts["tiny"] = make_cohort(args.dir / "tiny", args.scans)
    if args.realistic:
        t = time.perf_counter()
        cohorts["realistic"] = make_realistic_cohort(args.dir / "realistic", args.realistic)
        print(f"realistic cohort ready ({time.perf_counter() - t:.0f} s)", flush=True)
    results: dict = {"throughput": {}, "memory": []}
    for cohort, paths in cohorts.items():
        results["throughput"][cohort] = []
        for repeat in range(args.repeats if cohort == "tiny" else 1):  # interleaved: load drifts hit every engine
            for engine_name, workers in (("local", 1), ("local", 2), ("ray", 1), ("ray", 2)):
                row = {**throughput(engine_name, workers, paths), "repeat": repeat}
                results["throughput"][cohort].append(row)
                print(cohort, row, flush=True)
    if args.big and "tiny" in cohorts:
        big = args.dir / "big"
        big.mkdir(exist_ok=True)
        for k in range(args.big):
            link = big / f"{k:06d}.nii.gz"
            if not link.exists():
                link.symlink_to(cohorts["tiny"][k % len(cohorts["tiny"])])
        for engine_name in ("ray", "local"):
            for folder in (args.dir / "tiny", big):
                results["memory"].append(peak_rss(engine_name, 2, folder, args.dir / "out.tsv"))
                print(results["memory"][-1], flush=True)
    print(f"load average at end: {os.getloadavg()[0]:.2f}")
    results["summary"] = summary(results)
    if args.out:
        args.out.write_text(json.dumps(results, indent=2))
    print("\n".join(results["summary"]))


if __name__ == "__main__":
    main()
