"""Benchmark of ``mmrqa report`` (issue 18): a 1,000-scan report from a metrics table, and outlier recall.

Part 1 (scale). 1,000 small scans (the packaged ``t1`` sample, 33x41x25 at 2 mm, with seeded Rician noise and an
intensity scale per scan, in four "sites" of different noise levels; every 50th scan with a moderate simulated
artifact) are written as NIfTI and measured once with ``mmrqa metrics --workers 2`` (the existing table, not timed against the target). Then, timed:
``mmrqa report --metrics iqms.tsv --workers 2`` into a fresh folder (target < 60 s on 2 cores), the same command
again (every scan cached), the report's size (target < 100 MiB), and how long ``index.html`` takes to open in
Debian's Chromium (Playwright; ``load`` event plus the embedding drawn; target < 3 s).

Part 2 (recall). A cohort of clean variants of the same sample plus one scan per artifact kind and severity
(``mmrqa.artifacts.simulate``: 8 kinds x mild/moderate/severe), measured by the report itself; the precision and
recall of the multivariate flag, and of "at least one metric flagged", against the simulated labels.

    python benchmarks/bench_report.py                       # both parts, JSON to stdout
    python benchmarks/bench_report.py --scans 200 --skip-browser
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import numpy as np

REPO = Path(__file__).resolve().parents[1]
#: Rician noise sigma of each site, as a fraction of the sample's 99.5th percentile.
SITE_NOISE = (0.010, 0.013, 0.016, 0.020)
#: in the 1,000-scan cohort, every ARTIFACT_EVERY-th scan carries a simulated artifact (kinds in turn, moderate).
ARTIFACT_EVERY = 50


def _save(data: np.ndarray, affine: np.ndarray, path: Path) -> None:
    import nibabel as nib

    path.parent.mkdir(parents=True, exist_ok=True)
    image = nib.Nifti1Image(data.astype(np.float32), affine)
    image.header.set_xyzt_units("mm")
    nib.save(image, path)


def clean_variant(base, k: int, sigma_fraction: float, shift: bool = True) -> np.ndarray:
    """A clean scan of the cohort: the sample (shifted by up to a voxel when ``shift``), scaled, with seeded Rician
    noise."""
    from mmrqa.data import add_rician_noise

    rng = np.random.default_rng(1000 + k)
    moves = tuple(int(s) for s in rng.integers(-1, 2, size=3))
    data = np.roll(base.data, moves, axis=(0, 1, 2)) if shift else base.data
    data = np.clip(data, 0, None) * float(rng.uniform(0.7, 1.4))
    peak = float(np.percentile(data, 99.5))
    return add_rician_noise(data, sigma_fraction * peak, seed=k)


def make_scale_cohort(folder: Path, n: int) -> dict[str, str]:
    """Write the scale cohort (four sites; every ``ARTIFACT_EVERY``-th scan with a moderate artifact); returns the
    label of each file name ("clean" or "kind/severity"), also saved as ``labels.json``."""
    from mmrqa.artifacts import KINDS, simulate
    from mmrqa.data import load_sample
    from mmrqa.volume import Volume

    labels_file = folder / "labels.json"
    if labels_file.is_file():
        labels = json.loads(labels_file.read_text())
        if len(labels) == n:
            return labels
    base = load_sample("t1")
    labels = {}
    for k in range(n):
        site = k % len(SITE_NOISE)
        path = folder / f"site{site + 1}" / f"sub-{k:04d}_T1w.nii.gz"
        data = clean_variant(base, k, SITE_NOISE[site], shift=False)
        label = "clean"
        if k % ARTIFACT_EVERY == ARTIFACT_EVERY // 2:
            kind = KINDS[(k // ARTIFACT_EVERY) % len(KINDS)]
            volume = Volume(data, base.spacing, base.affine, dict(base.meta))
            data = simulate(volume, kind, "moderate", seed=k)[0].data
            label = f"{kind}/moderate"
        _save(data, base.affine, path)
        labels[path.name] = label
    labels_file.write_text(json.dumps(labels))
    return labels


def cohort_of(report: Path, inputs: list[Path], table: Path | None):
    """The report's cohort, rebuilt from its cached records (what the group page showed)."""
    from mmrqa.report.build import _cohort, _tasks
    from mmrqa.report.scan import cached_record

    tasks, groups, metrics, _bad = _tasks(inputs, table, report, None)
    return _cohort(tasks, {t.id: cached_record(t) for t in tasks}, groups, metrics)


def flag_scores(cohort, labels: dict[str, str]) -> dict:
    """Precision and recall of the multivariate flag and of 'any metric flagged' against the simulated labels."""
    names = [Path(s.source).name for s in cohort.measured]
    truth = np.array([labels[n] != "clean" for n in names])
    result = {"clean": int((~truth).sum()), "artifact": int(truth.sum()), "method": cohort.outliers.method}
    for key, flags in (("multivariate", cohort.outliers.flags), ("any_metric", cohort.outliers.metric_flags.any(1))):
        tp = int((flags & truth).sum())
        result[key] = {
            "flagged": int(flags.sum()),
            "true_positives": tp,
            "precision": round(tp / max(int(flags.sum()), 1), 3),
            "recall": round(tp / max(int(truth.sum()), 1), 3),
        }
    result["missed_by_multivariate"] = [
        labels[n] for n, t, f in zip(names, truth, cohort.outliers.flags, strict=True) if t and not f
    ]
    return result


def _run(command: list[str], **kwargs) -> float:
    start = time.perf_counter()
    subprocess.run(command, check=True, cwd=REPO, **kwargs)
    return time.perf_counter() - start


def folder_size(folder: Path) -> int:
    return sum(p.stat().st_size for p in folder.rglob("*") if p.is_file())


def browser_open_time(index: Path, repeats: int = 3) -> dict:
    """Seconds from navigation to ``load`` with the embedding drawn, in a fresh page each time; the same for a page
    that only loads plotly.js (the floor under this machine's load); and the time the first metric plot takes to
    draw once scrolled into view (they are drawn lazily)."""
    from playwright.sync_api import sync_playwright

    from mmrqa.report.browser import launch

    blank = index.parent / "_plotly_only.html"
    blank.write_text(
        '<!doctype html><html><head><script src="assets/plotly.min.js"></script></head><body></body></html>'
    )
    out: dict[str, list[float]] = {"index": [], "plotly_js_only": [], "first_metric_plot_after_scroll": []}
    with sync_playwright() as pw:
        browser = launch(pw)
        try:
            for _ in range(repeats):
                page = browser.new_page(viewport={"width": 1400, "height": 1000})
                errors: list[str] = []
                page.on("pageerror", lambda e, errors=errors: errors.append(str(e)))
                start = time.perf_counter()
                page.goto(index.resolve().as_uri(), wait_until="load")
                page.wait_for_selector("#embedding .main-svg")
                out["index"].append(round(time.perf_counter() - start, 2))
                start = time.perf_counter()
                page.evaluate("() => document.getElementById('plot-0').scrollIntoView()")
                page.wait_for_selector("#plot-0 .main-svg")
                out["first_metric_plot_after_scroll"].append(round(time.perf_counter() - start, 2))
                if errors:
                    raise RuntimeError(f"page errors: {errors}")
                page.close()
                page = browser.new_page()
                start = time.perf_counter()
                page.goto(blank.resolve().as_uri(), wait_until="load")
                out["plotly_js_only"].append(round(time.perf_counter() - start, 2))
                page.close()
        finally:
            browser.close()
            blank.unlink(missing_ok=True)
    return out


def scale_part(work: Path, n: int, skip_browser: bool) -> dict:
    scans = work / "scans"
    labels = make_scale_cohort(scans, n)
    table = work / "iqms.tsv"
    py = sys.executable
    measure = None
    if not table.exists() or len(table.read_text().splitlines()) != n + 1:
        table.unlink(missing_ok=True)
        measure = _run([py, "-m", "mmrqa.cli", "metrics", str(scans), "-o", str(table), "--workers", "2"])
    out = work / "report"
    shutil.rmtree(out, ignore_errors=True)
    command = [py, "-m", "mmrqa.cli", "report", "--metrics", str(table), "-o", str(out), "--workers", "2"]
    fresh = _run(command, stdout=subprocess.DEVNULL)
    again = _run(command, stdout=subprocess.DEVNULL)
    result = {
        "scans": n,
        "metrics_table_seconds": None if measure is None else round(measure, 1),
        "report_seconds_fresh": round(fresh, 1),
        "report_seconds_cached": round(again, 1),
        "size_mib": round(folder_size(out) / 2**20, 1),
        "index_mib": round((out / "index.html").stat().st_size / 2**20, 2),
        "load_average_at_end": os.getloadavg(),
        "flags": flag_scores(cohort_of(out, [], table), labels),
    }
    from mmrqa.report.browser import CHROMIUM

    if not skip_browser and CHROMIUM.exists():
        result["chromium_open_seconds"] = browser_open_time(out / "index.html")
        result["load_average_after_browser"] = os.getloadavg()
    return result


def recall_part(work: Path, clean: int, shift: bool) -> dict:
    from mmrqa.artifacts import KINDS, simulate
    from mmrqa.data import load_sample
    from mmrqa.report import write_report
    from mmrqa.volume import Volume

    base = load_sample("t1")
    folder = work / ("artifact_cohort_shifted" if shift else "artifact_cohort")
    labels: dict[str, str] = {}
    noise = np.random.default_rng(7).uniform(0.01, 0.02, size=clean + len(KINDS))
    for k in range(clean):
        path = folder / f"clean_{k:03d}.nii.gz"
        if not path.exists():
            _save(clean_variant(base, k, float(noise[k]), shift), base.affine, path)
        labels[path.name] = "clean"
    for j, kind in enumerate(KINDS):
        for severity in ("mild", "moderate", "severe"):
            path = folder / f"{kind}_{severity}.nii.gz"
            if not path.exists():
                data = clean_variant(base, 500 + j, float(noise[clean + j]), shift)
                volume = Volume(data, base.spacing, base.affine, dict(base.meta))
                corrupted, _record = simulate(volume, kind, severity, seed=j)
                _save(corrupted.data, base.affine, path)
            labels[path.name] = f"{kind}/{severity}"
    out = work / (folder.name + "_report")
    start = time.perf_counter()
    write_report([folder], out, workers=2, progress=False)
    seconds = time.perf_counter() - start
    cohort = cohort_of(out, [folder], None)
    result = flag_scores(cohort, labels)
    names = [Path(s.source).name for s in cohort.measured]
    flags, any_metric = cohort.outliers.flags, cohort.outliers.metric_flags.any(axis=1)
    result["recall_by_severity"] = {}
    for severity in ("mild", "moderate", "severe"):
        chosen = np.array([labels[n].endswith(severity) for n in names])
        result["recall_by_severity"][severity] = {
            "multivariate": f"{int((flags & chosen).sum())}/{int(chosen.sum())}",
            "any_metric": f"{int((any_metric & chosen).sum())}/{int(chosen.sum())}",
        }
    result["false_alarms_multivariate"] = [n for n, f in zip(names, flags, strict=True) if f and labels[n] == "clean"]
    result.update(clean_scans_shifted=shift, report_seconds=round(seconds, 1), threshold=cohort.outliers.threshold)
    return result


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scans", type=int, default=1000)
    parser.add_argument("--clean", type=int, default=96, help="clean scans of the recall cohort")
    parser.add_argument("--work", default="/tmp/mmrqa_bench_report")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument(
        "--shift", action="store_true", help="recall cohort: shift each clean scan by up to a voxel (np.roll)"
    )
    parser.add_argument("--only", choices=("scale", "recall"))
    args = parser.parse_args(argv)
    work = Path(args.work)
    result = {"date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()), "load_average_at_start": os.getloadavg()}
    if args.only in (None, "scale"):
        result["scale"] = scale_part(work, args.scans, args.skip_browser)
    if args.only in (None, "recall"):
        result["recall"] = recall_part(work, args.clean, args.shift)
    print(json.dumps(result, indent=2))
    return 0


if __name__ == "__main__":
    sys.exit(main())
