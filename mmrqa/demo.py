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

The evaluation of step 4 holds the cheap rows of the MMRQA paper's table (the model, its summary removed, the base
model, the signal-only classifier, the majority class) on the held-out subjects of :data:`HELDOUT_SCANS` (below;
the demo's own test split, one subject, when fewer than two of them are installed).
``python -m mmrqa.demo --table`` (``make table``) computes every row with one command, on held-out subjects: it also
builds the dataset without signal summaries and trains the same recipe on it (row 3); builds, with the same recipe,
a dataset of the real scans of :data:`HELDOUT_SCANS` (several subjects, none of which the demo's LoRA, the mini base
or the signal-only baseline trained on: rows 1-6 are scored on every one of its rows, the intervals resample its
subjects); and builds a dataset from the TCIA pelvic T2 scans of ``../shared/data/tcia`` when they are there (row 7:
an anatomy the brain-trained model never saw; the row says why when they are absent). The signal-only classifier and
the majority class are fitted on the demo dataset's train split (the LoRA's training subjects). Each model is reused
while its dataset and recipe are unchanged, so a rerun after an interruption only does what is missing.
``--results FILE`` also writes the table into FILE (``benchmarks/RESULTS.md``). It lives here rather than in
``mmrqa evaluate`` because it builds datasets and trains models with the demo's own recipes; ``mmrqa evaluate
--no-summary-model --unseen-dataset --baseline-dataset`` computes the same table for models trained elsewhere.
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

from mmrqa.data import SAMPLES, sample_path, tcia_dir
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
BUILD_RECIPE = REPO_ROOT / "recipes" / "demo-build.yaml"
#: The held-out subjects of the table's rows 1-6 (``make table``): real human brain MR scans (names of
#: :func:`mmrqa.classifier.data.real_scans`), each one subject, none of which the demo's LoRA or the signal-only
#: baseline (both trained on the demo's train split: ``t1``, ``epi``, ``mni152_noisy``) nor the mini base
#: (``mmrqa.pretrain_mini.TRAIN_SCANS``) trained on; with what each was used for. tests/test_demo.py checks both.
#: Left out, chosen before any result: the TCIA pelvic scans (row 7's unseen anatomy), ITK's abdominal and rat thorax
#: slices (other anatomies), the INIA19 macaque template (another species, a noise-free template), nibabel's PAR/REC
#: phantom (no anatomy; the builder does not read PAR/REC), Colin27 and ITK's BrainWeb slices (the anatomy of ``ch2``,
#: which the mini base trained on) and every scan the mini base trained on.
HELDOUT_SCANS = {
    "dicom_t2": "the demo's test subject (pydicom `MR_small.dcm`)",
    "dicom_enhanced": "the demo's validation subject (pydicom-data `emri_small.dcm`; the LoRA recipe only logs its loss)",
    "siemens_head": "a validation scan of the mini base (pydicom-data `MR-SIEMENS-DICOM-WithOverlays.dcm`)",
    "fslpy_t1": "a validation scan of the mini base (fslpy's 1 mm T1 crop)",
    "dipy_piesno": "a validation scan of the mini base (dipy `test_piesno`)",
    "itk_sagittal_t1": "never used (ITK's `BrainMidSagittalSlice.png`, Debian insighttoolkit5-examples)",
}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmrqa.demo", description=__doc__.splitlines()[0])
    parser.add_argument("--output", default="demo_output", help="folder for everything the demo makes")
    parser.add_argument("--fresh", action="store_true", help="retrain the adapter even if it is up to date")
    parser.add_argument(
        "--table", action="store_true", help="compute every row of the MMRQA table (trains a second model)"
    )
    parser.add_argument("--results", type=Path, help="with --table: also write the table into this markdown file")
    parser.add_argument("--limit", type=int, help="with --table: score only the first N test questions")
    args = parser.parse_args(argv)
    out = Path(args.output).resolve()
    started = time.perf_counter()
    print(f"MMRQA demo -> {out}\n{DISCLAIMER}\n", flush=True)
    if args.table:
        return table(out, args, started)
    try:
        samples = _step(1, "sample scans", lambda: link_samples(out / "samples"))
        dataset = out / "dataset"
        _step(2, "dataset build", lambda: build_dataset(samples, dataset))
        adapter = out / "adapter"
        _step(3, "LoRA training", lambda: train_adapter(dataset, out / "mini-base", adapter, args.fresh))
        results = out / "evaluation.json"
        _step(4, "evaluation on the held-out subjects", lambda: evaluate_demo(out, adapter, dataset, results))
        report = out / "assessment.md"
        _step(5, "assessment", lambda: assess(samples, adapter, report))
        _step(6, "cohort report", lambda: cohort_report(samples, out / "qc_report"))
    except (MMRQAError, subprocess.CalledProcessError) as exc:
        print(f"error: demo step failed: {exc}", file=sys.stderr)
        return 2
    _summary(out, time.perf_counter() - started)
    return 0


def _step(number: int, title: str, action, steps: int = STEPS):
    print(f"\n[{number}/{steps}] {title} ...", flush=True)
    start = time.perf_counter()
    result = action()
    print(f"[{number}/{steps}] {title} done in {time.perf_counter() - start:.1f} s", flush=True)
    return result


def _run(*command: str | os.PathLike) -> None:
    """Run one README command with this interpreter; its output streams through, a failure stops the demo."""
    args = [str(part) for part in command]
    print("$ " + " ".join(["python", *args[1:]] if args[0] == sys.executable else args), flush=True)
    subprocess.run(args, check=True, cwd=REPO_ROOT)


def link_samples(folder: Path) -> Path:
    """Link each demo sample scan into ``folder`` (one file per subject, named after the sample)."""
    _link_scans(folder, {name: sample_path(name) for name in DEMO_SAMPLES}, SAMPLES)
    return folder


def _link_scans(folder: Path, sources: dict[str, Path], about: dict[str, str]) -> None:
    """Link each scan file into ``folder`` as ``<name><suffix>`` (one file per subject) and print what it is."""
    folder.mkdir(parents=True, exist_ok=True)
    for name, source in sources.items():
        source = Path(source)
        suffix = "".join(source.suffixes[-2:]) if source.name.endswith(".nii.gz") else source.suffix
        link = folder / f"{name}{suffix}"
        if link.is_symlink() or link.exists():
            if link.resolve() == source.resolve():
                continue
            link.unlink()
        link.symlink_to(source)
    for name in sources:
        volume = load_volume(next(folder.glob(f"{name}.*")))
        shape = "x".join(map(str, volume.shape))
        spacing = "x".join(f"{s:g}" for s in volume.spacing)
        print(f"  {name:<15} {volume.meta['format']:<8} {shape:>12} @ {spacing} mm  {about[name]}")


def heldout_sources() -> dict[str, Path]:
    """The files of :data:`HELDOUT_SCANS` that are on this machine (a missing package's scans are left out)."""
    from mmrqa.classifier.data import real_scans

    found = {scan.name: Path(scan.path) for scan in real_scans() if scan.name in HELDOUT_SCANS and scan.path}
    return {name: found[name] for name in HELDOUT_SCANS if name in found}


def heldout_dataset(out: Path) -> Path:
    """The held-out subjects (:data:`HELDOUT_SCANS`) as a dataset, built with the demo's own recipe (linked into
    ``out``, never copied into the repository)."""
    sources = heldout_sources()
    missing = [name for name in HELDOUT_SCANS if name not in sources]
    if missing:
        print(f"  not on this machine, left out: {', '.join(missing)} (`make setup`, `make debian-data`)")
    if len(sources) < 2:
        raise MMRQAError(
            f"only {len(sources)} held-out subject(s) found ({', '.join(sources) or 'none'}): the table needs at least "
            "two; install the project's extras (`make setup`) and the Debian scans (`make debian-data`)"
        )
    linked = out / "heldout-samples"
    for stale in linked.glob("*") if linked.is_dir() else ():
        if stale.is_symlink() and stale.name.split(".")[0] not in sources:
            stale.unlink()
    _link_scans(linked, sources, HELDOUT_SCANS)
    dataset = out / "dataset-heldout"
    build_dataset(linked, dataset)
    return dataset


def build_dataset(samples: Path, dataset: Path, *flags: str) -> None:
    _run(
        sys.executable, "-m", "dataset_builder", "--source", "folder", "--input", samples, "--output", dataset,
        "--config", BUILD_RECIPE, "--num-proc", str(min(2, os.cpu_count() or 1)), *flags,
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


def evaluate(adapter: Path, dataset: Path, results: Path, *flags: str | os.PathLike, split: str = "test") -> None:
    """``mmrqa evaluate`` of the adapter on ``split``, written into its card; ``flags`` add the table's rows
    (``make demo`` scores the first 40 questions with 200 resamples, ``make table`` every question with 1000)."""
    from mmrqa.evaluation.driver import UNSEEN

    flags = flags or ("--limit", "40", "--bootstrap", "200", "--not-computed", f"{UNSEEN}={UNSEEN_REASON}")
    _run(
        sys.executable, "-m", "mmrqa.cli", "evaluate", "--model", adapter, "--dataset", dataset,
        "--split", split, "-o", results, "--update-card", *flags,
    )  # fmt: skip


def evaluate_demo(out: Path, adapter: Path, dataset: Path, results: Path) -> None:
    """Step 4: the cheap rows of the table on the held-out subjects (:func:`heldout_dataset`: several subjects, the
    intervals resample them; the baselines fitted on the demo's train split), or on the demo's own test split (one
    subject) when fewer than two held-out subjects are on this machine."""
    from mmrqa.evaluation.driver import UNSEEN

    try:
        heldout = heldout_dataset(out)
    except MMRQAError as exc:
        print(f"  {exc}: scoring the demo's test split (one subject) instead")
        evaluate(adapter, dataset, results)
        return
    flags = ("--bootstrap", "200", "--baseline-dataset", dataset, "--not-computed", f"{UNSEEN}={UNSEEN_REASON}")
    evaluate(adapter, heldout, results, *flags, split="all")


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
        scored = Path(str(results.get("dataset", ""))).name or "the dataset"
        where = "the held-out subjects" if scored == "dataset-heldout" else "the demo's test split (one subject)"
        print(f"\nEvaluation on {where} (demo model, not clinical accuracy):\n{table}")
    print(f"\nOpen the Space on the result:  MMRQA_MODEL={out / 'adapter'} make space   (http://127.0.0.1:7860)")
    print(DISCLAIMER)


UNSEEN_REASON = "`make table` scores it on the TCIA pelvic T2 scans (../shared/data/tcia) when they are present"
TABLE_STEPS = 7


def table(out: Path, args, started: float) -> int:
    """``--table``: every row of the MMRQA table, rows 1-6 on the held-out subjects (see the module docstring)."""
    from mmrqa.evaluation.driver import UNSEEN

    steps, base = TABLE_STEPS, out / "mini-base"
    try:
        samples = _step(1, "sample scans", lambda: link_samples(out / "samples"), steps)
        dataset, plain = out / "dataset", out / "dataset-no-summary"
        _step(2, "datasets with and without signal summaries", lambda: _both_datasets(samples, dataset, plain), steps)
        heldout = _step(3, "held-out subjects", lambda: heldout_dataset(out), steps)
        adapter, plain_adapter = out / "adapter", out / "adapter-no-summary"
        _step(4, "LoRA training with summaries", lambda: train_adapter(dataset, base, adapter, args.fresh), steps)
        _step(5, "LoRA training without", lambda: train_adapter(plain, base, plain_adapter, args.fresh), steps)
        unseen = _step(6, "unseen anatomy: TCIA pelvic T2", lambda: tcia_dataset(out), steps)
        flags: list[str | os.PathLike] = ["--bootstrap", "1000", "--no-summary-model", plain_adapter]
        flags += ["--baseline-dataset", dataset]
        flags += ["--unseen-dataset", unseen] if isinstance(unseen, Path) else ["--not-computed", f"{UNSEEN}={unseen}"]
        flags += ["--limit", str(args.limit)] if args.limit else []
        if args.results:
            flags += ["--results-md", args.results.resolve(), "--results-title", table_title(args.results)]
        results = out / "table.json"
        _step(
            7,
            "evaluation: every row of the table",
            lambda: evaluate(adapter, heldout, results, *flags, split="all"),
            steps,
        )
    except (MMRQAError, subprocess.CalledProcessError) as exc:
        print(f"error: table step failed: {exc}", file=sys.stderr)
        return 2
    payload = json.loads(results.read_text(encoding="utf-8"))
    print(f"\n{payload.get('paper_table', '')}\nTable in {results} and {out / 'adapter' / 'README.md'}", end="")
    print(f" and {args.results}" if args.results else "")
    print(f"done in {time.perf_counter() - started:.0f} s. {DISCLAIMER}")
    return 0


def table_title(results: Path) -> str:
    """The heading and text above the table in ``results``: how it was made and what the held-out subjects are."""
    when = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    found = heldout_sources()
    subjects = "; ".join(f"`{name}`: {HELDOUT_SCANS[name]}" for name in found)
    return (
        "### The MMRQA table on held-out subjects (`make table`)\n\n"
        f"Written by `python -m mmrqa.demo --table --results {results}` (`make table`) on {when}; every number below "
        f"comes from that run. {DISCLAIMER}\n\n"
        f"Rows 1-6 are scored on **{len(found)} held-out subjects**, real scans none of which the demo's LoRA, the "
        "signal-only classifier and the majority class (all three fitted on the demo dataset's train split: `t1`, "
        "`epi`, `mni152_noisy`) or the mini base (`mmrqa/modeling/mini_base/MINI_CARD.md`) trained on: "
        f"{subjects}. The mini base never trained on its three validation scans, but its recipe (which checkpoint to "
        "ship) was chosen looking at them, so they are not a clean test for rows 1-4; the others were never used "
        "for any choice. The held-out dataset is built by the project's builder with the demo's own recipe "
        "(`recipes/demo-build.yaml`, seed 0: 3 simulated artifacts and the clean scan per subject, 2 slices each, "
        "the builder's natural proportions, not balanced) and every one of its rows is scored; intervals resample "
        "the subjects. The demo's own test split is the single subject `dicom_t2`, one of them."
    )


def _both_datasets(samples: Path, dataset: Path, plain: Path) -> None:
    build_dataset(samples, dataset)
    build_dataset(samples, plain, "--no-signal-enhanced")


def tcia_dataset(out: Path) -> Path | str:
    """The TCIA pelvic scans as a dataset (same build recipe), or why there is none. The scans are only linked
    into ``out`` (never copied into the repository)."""
    folder = tcia_dir()
    if folder is None:
        return "the TCIA pelvic T2 scans are absent (../shared/data/tcia or $MMRQA_TCIA_DIR): nothing to test on"
    scans = sorted(folder.glob("*.nii*"))
    if not scans:
        return f"{folder} holds no NIfTI scan"
    linked = out / "tcia-samples"
    linked.mkdir(parents=True, exist_ok=True)
    for scan in scans:
        link = linked / scan.name
        if not link.is_symlink():
            link.symlink_to(scan)
    dataset = out / "dataset-tcia"
    build_dataset(linked, dataset)
    return dataset


if __name__ == "__main__":
    sys.exit(main())
