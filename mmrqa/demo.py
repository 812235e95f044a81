"""``make demo``: the whole MMRQA release pipeline, offline, on real sample scans shipped by installed packages.

Steps (each one is a command of the README, run as a subprocess so the demo exercises exactly what users run):

1. sample scans from nibabel, pydicom, pydicom-data, dipy and nilearn (the MNI152 template with Rician noise);
2. ``python -m dataset_builder``: simulated artifacts, metrics and grounded QA pairs in the Hub layout;
3. ``train_sft.py --config recipes/mini-cpu.yaml``: LoRA on the mini MMRQA base, a small LLaVA-OneVision pretrained
   from scratch on other public scans (``python -m mmrqa.modeling.mini`` writes its shipped weights);
4. ``mmrqa evaluate``: the adapter against the baselines; the results go into the adapter's model card;
5. ``mmrqa assess``: one sample scan assessed with the trained adapter;
6. ``mmrqa report``: the cohort QC report of the sample scans (a static folder that opens from disk);
7. where everything is, and how to open the Space on it.

Running it again reuses the work already done: the builder's scan cache, and the adapter when the dataset has not
changed. The mini model demonstrates a pipeline that learns; it says nothing about clinical accuracy.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import os
import subprocess
import sys
import time
from pathlib import Path

from mmrqa.data import SAMPLES, sample_path
from mmrqa.errors import MMRQAError
from mmrqa.fileio import write_text_atomic
from mmrqa.io import load_volume

REPO_ROOT = Path(__file__).resolve().parents[1]
#: The sample scans that go into the demo dataset (each its own subject), and the one assessed at the end.
DEMO_SAMPLES = ("t1", "dicom_t2", "dicom_enhanced", "epi", "mni152_noisy")
ASSESSED_SAMPLE = "t1"
STEPS = 7
DISCLAIMER = (
    "The demo model is a 2M-parameter LLaVA-OneVision pretrained from scratch on a few public scans with simulated "
    "artifacts (mmrqa/modeling/mini_base/MINI_CARD.md) and LoRA-tuned for a minute on the sample scans: it "
    "demonstrates a pipeline that learns, not clinical accuracy. Do not use its answers for diagnosis."
)
RECIPE = REPO_ROOT / "recipes" / "mini-cpu.yaml"


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmrqa.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="demo_output", help="folder for everything the demo makes")
    parser.add_argument("--fresh", action="store_true", help="retrain the adapter even if it is up to date")
    args = parser.parse_args(argv)
    out = Path(args.output).resolve()
    started = time.perf_counter()
    print(f"MMRQA demo -> {out}\n{DISCLAIMER}\n", flush=True)
    try:
        samples = _step(1, "sample scans", lambda: link_samples(out / "samples"))
        dataset = out / "dataset"
        _step(2, "dataset build", lambda: build_dataset(samples, dataset))
        adapter = out / "adapter"
        _step(3, "LoRA training", lambda: train_adapter(dataset, out / "mini-base", adapter, args.fresh))
        results = out / "evaluation.json"
        _step(4, "evaluation", lambda: evaluate(adapter, dataset, results))
        report = out / "assessment.md"
        _step(5, "assessment", lambda: assess(samples, adapter, report))
        _step(6, "cohort report", lambda: cohort_report(samples, out / "qc_report"))
    except (MMRQAError, subprocess.CalledProcessError) as exc:
        print(f"error: demo step failed: {exc}", file=sys.stderr)
        return 2
    _summary(out, time.perf_counter() - started)
    return 0


def _step(number: int, title: str, action):
    print(f"\n[{number}/{STEPS}] {title} ...", flush=True)
    start = time.perf_counter()
    result = action()
    print(f"[{number}/{STEPS}] {title} done in {time.perf_counter() - start:.1f} s", flush=True)
    return result


def _run(*command: str | os.PathLike) -> None:
    """Run one README command with this interpreter; its output streams through, a failure stops the demo."""
    args = [str(part) for part in command]
    print("$ " + " ".join(["python", *args[1:]] if args[0] == sys.executable else args), flush=True)
    subprocess.run(args, check=True, cwd=REPO_ROOT)


def link_samples(folder: Path) -> Path:
    """Link each demo sample scan into ``folder`` (one file per subject, named after the sample)."""
    folder.mkdir(parents=True, exist_ok=True)
    for name in DEMO_SAMPLES:
        source = sample_path(name)
        suffix = "".join(source.suffixes[-2:]) if source.name.endswith(".nii.gz") else source.suffix
        link = folder / f"{name}{suffix}"
        if link.is_symlink() or link.exists():
            if link.resolve() == source.resolve():
                continue
            link.unlink()
        link.symlink_to(source)
    for name in DEMO_SAMPLES:
        volume = load_volume(next(folder.glob(f"{name}.*")))
        shape = "x".join(map(str, volume.shape))
        spacing = "x".join(f"{s:g}" for s in volume.spacing)
        print(f"  {name:<15} {volume.meta['format']:<8} {shape:>12} @ {spacing} mm  {SAMPLES[name]}")
    return folder


def build_dataset(samples: Path, dataset: Path) -> None:
    _run(
        sys.executable, "-m", "dataset_builder", "--source", "folder", "--input", samples, "--output", dataset,
        "--config", REPO_ROOT / "recipes" / "demo-build.yaml", "--num-proc", str(min(2, os.cpu_count() or 1)),
    )  # fmt: skip


def _fingerprint(dataset: Path) -> str:
    """Hash of the dataset's parquet files, the training recipe and the mini base's manifest (its weights' sha256):
    the adapter is reused while they are unchanged."""
    from mmrqa.modeling.mini import MANIFEST, MINI_DIR

    digest = hashlib.sha256()
    for path in sorted((dataset / "data").glob("*.parquet")) + [RECIPE, MINI_DIR / MANIFEST]:
        digest.update(path.name.encode() + path.read_bytes())
    return digest.hexdigest()


def train_adapter(dataset: Path, base: Path, adapter: Path, fresh: bool) -> None:
    stamp = adapter / "demo-fingerprint.txt"
    fingerprint = _fingerprint(dataset)
    if not fresh and stamp.is_file() and stamp.read_text() == fingerprint:
        print(f"  adapter in {adapter} is up to date with the dataset: reused (--fresh retrains)")
        return
    _run(sys.executable, "-m", "mmrqa.modeling.mini", base)  # a second, it checks the shipped weights' sha256
    _run(
        sys.executable, REPO_ROOT / "train_sft.py", "--config", RECIPE,
        "--dataset_name", dataset, "--model_name_or_path", base, "--output_dir", adapter,
    )  # fmt: skip
    write_text_atomic(stamp, fingerprint)


def evaluate(adapter: Path, dataset: Path, results: Path) -> None:
    _run(
        sys.executable, "-m", "mmrqa.cli", "evaluate", "--model", adapter, "--dataset", dataset,
        "--split", "test", "-o", results, "--limit", "40", "--bootstrap", "200", "--update-card",
    )  # fmt: skip


def assess(samples: Path, adapter: Path, report: Path) -> None:
    scan = next(samples.glob(f"{ASSESSED_SAMPLE}.*"))
    _run(sys.executable, "-m", "mmrqa.cli", "assess", scan, "--model", adapter, "--format", "markdown", "-o", report)
    print(report.read_text(encoding="utf-8"))


def cohort_report(samples: Path, folder: Path) -> None:
    """The cohort QC report of the sample scans (a rerun redoes only scans that changed)."""
    _run(sys.executable, "-m", "mmrqa.cli", "report", samples, "-o", folder, "--title", "MMRQA demo: sample scans")
    print(f"  cohort report: {(folder / 'index.html').resolve().as_uri()}")


def _summary(out: Path, seconds: float) -> None:
    results = json.loads((out / "evaluation.json").read_text(encoding="utf-8"))
    table = results.get("table") or ""
    print(f"\n[{STEPS}/{STEPS}] done in {seconds:.0f} s. Everything is under {out}:")
    for name, what in (
        ("dataset", "Hub-layout dataset (data/*.parquet + README.md card): datasets.load_dataset(path)"),
        ("adapter", "LoRA adapter + processor + model card (README.md, with the evaluation in model-index)"),
        ("evaluation.json", "scores of the adapter, its ablation and the baselines"),
        ("assessment.md", "the assessment of the sample scan"),
        ("qc_report/index.html", "the cohort QC report of the sample scans: open it in a browser (no server needed)"),
    ):
        print(f"  {out / name}\n      {what}")
    if table:
        print(f"\nEvaluation on the test split (demo model, not clinical accuracy):\n{table}")
    print(f"\nOpen the Space on the result:  MMRQA_MODEL={out / 'adapter'} make space   (http://127.0.0.1:7860)")
    print(DISCLAIMER)


if __name__ == "__main__":
    sys.exit(main())
