"""Pretrain the mini MMRQA base from scratch: ``python -m mmrqa.pretrain_mini OUT [--steps N] [--install]``.

The real workflow in miniature (run it from the repository: it calls ``train_sft.py``). Seeded and deterministic up
to floating-point scheduling; about an hour on one CPU thread. What it does:

1. **Scans** (:data:`TRAIN_SCANS`, :data:`VALIDATION_SCANS`): real MR scans shipped by installed packages and Debian
   packages, each one subject, written as NIfTI under ``OUT/scans/<plane>/<split>/<subject>/`` (volumes larger than
   128 voxels a side are subsampled to at most 128; noise-free templates get seeded Rician noise). **Never** the TCIA
   scans (the unseen-anatomy test of the evaluation table) nor the demo's held-out subjects: ``dicom_t2`` (the
   demo's test subject) and ``dicom_enhanced`` (its validation subject), see :data:`EXCLUDED`. Three subjects are
   kept out of training as the pretraining's validation scans.
2. **Data**: the project's own dataset builder (``dataset_builder.build_dataset``) on each plane (axial for every
   scan, coronal and sagittal for 3D scans at least 20 voxels a side), every artifact kind at mild, moderate and
   severe, ``ARTIFACTS_PER_SCAN`` simulated copies and ``N_SLICES`` slices per scan, the question types of
   :data:`QUESTION_TYPES` with the signal summary in the prompt. The training rows are resampled (seeded, with
   replacement) so that within each question type every answer (the parsed truth: good/medium/bad, yes/no, each
   artifact kind or none, each severity) is equally frequent: always answering the majority class is a poor strategy.
   A quarter of them (seeded) lose the signal summary from their prompt, so that the base also answers without it.
3. **Tokenizer**: a byte-level BPE of at most 1,024 tokens trained on the training texts with Qwen2's pre-tokenizer (numbers
   split into single digits).
4. **Model**: the mini LLaVA-OneVision (:mod:`mmrqa.modeling.mini`), randomly initialised, fully trained (no LoRA)
   with ``train_sft.py --config recipes/mini-pretrain.yaml``.
5. **Export**: ``OUT/export`` holds ``model.safetensors``, ``vocab.json``, ``merges.txt`` and ``manifest.json`` (sha256
   and tensor shapes); ``--install`` copies them into ``mmrqa/modeling/mini_base/`` (the shipped weights).
6. **Validation**: ``mmrqa evaluate`` of the exported base on the held-out scans, against the signal-only classifier
   and the majority class of the held-out answers: ``OUT/heldout-natural.json`` (300 questions of every type as the
   builder makes them, mostly corrupted scans) and ``OUT/heldout-balanced.json`` (each answer equally often).
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import re
import shutil
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path

import numpy as np

from mmrqa.errors import InvalidArgumentError, MMRQAError
from mmrqa.fileio import atomic_output, write_text_atomic

REPO_ROOT = Path(__file__).resolve().parents[1]
SEED = 0
MAX_SIDE = 128
N_SLICES = 8
ARTIFACTS_PER_SCAN = 16
VALIDATION_QUESTIONS = 300
#: share of the training rows whose prompt has no signal summary (see :func:`strip_summaries`)
NO_SUMMARY_FRACTION = 0.25
SIGNAL_LINE = re.compile(r"^.*Signal metrics:.*$\n?", re.M)
BALANCED_TYPES = ("rating", "presence", "artifact_type", "severity", "usability")
QUESTION_TYPES = ("rating", "presence", "artifact_type", "severity", "usability", "metric_value", "report")
#: Demo subjects that must never be seen in pretraining (the demo's split puts dicom_t2 in test, dicom_enhanced in
#: validation: ``recipes/demo-build.yaml``, seed 0, ratios 0.6/0.2/0.2 over its five samples), and the TCIA scans.
EXCLUDED = ("dicom_t2", "dicom_enhanced", "tcia_*")
#: Subjects held out of pretraining to validate it (never trained on).
VALIDATION_SCANS = ("siemens_head", "fslpy_t1", "dipy_piesno")
TRAIN_SCANS = (
    "t1",
    "epi",
    "mni152_noisy",
    "dicom_mr2",
    "nibabel_epi4d",
    "dipy_aniso_t1",
    "dipy_t1_coronal",
    "fslpy_epi",
    "ch2_noisy",
    "itk_kmeans_t1",
)
CH2 = Path("/usr/share/mricron/templates/ch2.nii.gz")
ITK_KMEANS = Path("/usr/share/doc/insighttoolkit5-examples/examples/Data/KmeansTest_T1UCharRaw.nii.gz")

logger = logging.getLogger("pretrain_mini")


def _package_file(package: str, *parts: str) -> Path | None:
    import importlib.util

    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(next(iter(spec.submodule_search_locations))).joinpath(*parts)
    return path if path.is_file() else None


def _dicom(name: str) -> Path | None:
    from mmrqa.data import pydicom_test_file

    return pydicom_test_file(name)


def scan_file(name: str) -> Path | None:
    """The file a named pretraining scan is read from, or None when it is not installed here."""
    from mmrqa.data import sample_path

    if name in ("t1", "epi", "mni152_noisy", "dicom_mr2"):
        path = sample_path(name)
    elif name == "nibabel_epi4d":
        path = _package_file("nibabel", "tests", "data", "example4d.nii.gz")
    elif name == "dipy_aniso_t1":
        path = _package_file("dipy", "data", "files", "aniso_vox.nii.gz")
    elif name == "dipy_piesno":
        path = _package_file("dipy", "data", "files", "test_piesno.nii.gz")
    elif name == "dipy_t1_coronal":
        path = _package_file("dipy", "data", "files", "t1_coronal_slice.npy")
    elif name == "siemens_head":
        path = _dicom("MR-SIEMENS-DICOM-WithOverlays.dcm")
    elif name == "fslpy_t1":
        path = _package_file("fsl", "tests", "test_transform", "testdata", "nonlinear", "src.nii.gz")
    elif name == "fslpy_epi":
        path = _package_file("fsl", "tests", "testdata", "example_func.nii.gz")
    elif name == "ch2_noisy":
        path = CH2
    elif name == "itk_kmeans_t1":
        path = ITK_KMEANS
    else:
        raise KeyError(name)
    return Path(path) if path is not None and Path(path).is_file() else None


def load_scan(name: str):
    """``(data float32 3D array, spacing)`` of a named pretraining scan, or None when it is not installed here."""
    from mmrqa.data import add_rician_noise
    from mmrqa.io import load_volume

    path = scan_file(name)
    kwargs = {"volume_index": 0} if name == "nibabel_epi4d" else {}
    template = name == "ch2_noisy"
    if name == "dipy_t1_coronal":
        if path is None:
            return None
        return np.load(path, allow_pickle=False).astype(np.float32)[:, :, None], (1.0, 1.0, 1.0)
    if path is None or not Path(path).is_file():
        return None
    volume = load_volume(path, **kwargs)
    data = np.asarray(volume.data, dtype=np.float32)
    spacing = list(volume.spacing)
    step = [max(1, int(np.ceil(n / MAX_SIDE))) for n in data.shape]
    data = np.ascontiguousarray(data[:: step[0], :: step[1], :: step[2]])
    spacing = [s * k for s, k in zip(spacing, step, strict=True)]
    if template:  # a noise-free average: give it clinical Rician noise (2% of the 99.5th percentile, seeded)
        data = add_rician_noise(data, 0.02 * float(np.percentile(data, 99.5)), seed=SEED + 1)
    return data, tuple(spacing)


def write_scans(folder: Path) -> dict[str, list[str]]:
    """Write the pretraining scans as NIfTI under ``folder/<plane>/<split>/<subject>/``; return plane -> subjects."""
    import nibabel as nib

    planes: dict[str, list[str]] = {}
    for split, names in (("train", TRAIN_SCANS), ("validation", VALIDATION_SCANS)):
        for name in names:
            loaded = load_scan(name)
            if loaded is None:
                logger.warning("scan %s is not installed here: skipped", name)
                continue
            data, spacing = loaded
            is_3d = data.ndim == 3 and min(data.shape) >= 20
            for plane in ("axial", "coronal", "sagittal") if is_3d else ("axial",):
                target = folder / plane / split / name / f"{name}.nii.gz"
                target.parent.mkdir(parents=True, exist_ok=True)
                if not target.is_file():  # written whole or not at all: a resumed run trusts what it finds
                    with atomic_output(target, suffix=".nii.gz") as tmp:
                        nib.save(nib.Nifti1Image(data, np.diag([*spacing, 1.0])), str(tmp))
                planes.setdefault(f"{plane}/{split}", []).append(name)
    return planes


def build_rows(scans: Path, out: Path, cache: Path):
    """Build the dataset of each plane and split with the project's builder; return ``{split: datasets.Dataset}``."""
    from datasets import concatenate_datasets, load_dataset

    from dataset_builder import BuildConfig, build_dataset

    parts: dict[str, list] = {"train": [], "validation": []}
    for plane_dir in sorted(p for p in scans.iterdir() if p.is_dir()):
        for split in ("train", "validation"):
            source = plane_dir / split
            if not source.is_dir():
                continue
            config = BuildConfig(
                kinds=("motion", "ghosting", "spike", "noise", "bias_field", "blur", "ringing", "undersampling"),
                severities=("mild", "moderate", "severe"),
                artifacts_per_scan=ARTIFACTS_PER_SCAN,
                n_slices=N_SLICES,
                plane=plane_dir.name,
                question_types=QUESTION_TYPES,
                split_ratios=(1.0, 0.0, 0.0),
                seed=SEED,
                num_proc=1,
            )
            target = out / f"{plane_dir.name}-{split}"
            if not (target / "data").is_dir():
                build_dataset("folder", source, target, config, cache_dir=cache, show_progress=False)
            parts[split].append(load_dataset(str(target), split="train"))
    return {split: concatenate_datasets(rows) for split, rows in parts.items()}


def truth_labels(dataset) -> list[str]:
    """``question_type:parsed truth`` of every row (what balancing equalises)."""
    from mmrqa.pipeline import interpret

    labels = []
    for row in dataset:
        question = interpret.classify_question(row["messages"][0]["content"][-1]["text"])
        truth = interpret.parse(question, row["messages"][1]["content"][0]["text"])
        if question.type == "metric_value":
            truth = "value"
        elif question.type == "report":
            truth = [truth.get("quality"), truth.get("artifact")] if isinstance(truth, dict) else None
        labels.append(f"{row['question_type']}:{json.dumps(truth, sort_keys=True)}")
    return labels


def balance(dataset, size: int, seed: int = SEED):
    """Resample ``size`` rows with replacement, each question type equally often and, within a type, each truth
    label equally often."""
    labels = truth_labels(dataset)
    counts = Counter(labels)
    per_type = Counter(label.split(":", 1)[0] for label in counts)
    weights = np.array([1.0 / (counts[label] * per_type[label.split(":", 1)[0]]) for label in labels])
    rng = np.random.default_rng(seed)
    index = rng.choice(len(labels), size=size, replace=True, p=weights / weights.sum())
    return dataset.select(index.tolist())


def balanced_subset(dataset, seed: int = SEED, cap: int = 40):
    """Rows drawn without replacement so that, within each question type, every truth label is as frequent as the
    rarest one, at most ``cap`` (validation rows on which the majority class scores 1 / number of labels)."""
    labels = truth_labels(dataset)
    by_label: dict[str, list[int]] = {}
    for i, label in enumerate(labels):
        by_label.setdefault(label, []).append(i)
    rarest: dict[str, int] = {}
    for label, rows in by_label.items():
        qtype = label.split(":", 1)[0]
        rarest[qtype] = min(rarest.get(qtype, cap), len(rows))
    rng = np.random.default_rng(seed)
    keep = []
    for label, rows in sorted(by_label.items()):
        keep += rng.choice(rows, size=rarest[label.split(":", 1)[0]], replace=False).tolist()
    return dataset.select(sorted(keep))


def write_validation_sets(validation, folder: Path) -> tuple[Path, Path]:
    """Two evaluation folders of held-out rows (validation split only, so ``mmrqa evaluate`` fits the majority-class
    baseline on their own answers): ``natural`` (every question type, as the builder makes them: mostly corrupted
    scans) and ``balanced`` (rating, presence, artifact type, severity and usability, each truth label equally
    often: see :func:`balanced_subset`)."""
    natural = validation.shuffle(seed=SEED)
    natural = natural.select(range(min(VALIDATION_QUESTIONS, len(natural))))
    balanced = balanced_subset(validation.filter(lambda row: row["question_type"] in BALANCED_TYPES))
    paths = []
    for name, rows in (("natural", natural), ("balanced", balanced)):
        paths.append(write_hub_layout({"validation": rows}, folder / name))
    return paths[0], paths[1]


def strip_summaries(dataset, fraction: float = NO_SUMMARY_FRACTION, seed: int = SEED):
    """The rows with the signal summary removed from the user turn of a seeded ``fraction`` of them (the prompt the
    builder writes with ``signal_enhanced=False``, and ``mmrqa evaluate``'s ablation asks), so that the base also
    answers, and parses, without the numbers."""
    chosen = set(np.random.default_rng(seed + 2).permutation(len(dataset))[: int(round(fraction * len(dataset)))])

    def strip(row, index):
        if index not in chosen:
            return row
        messages = [dict(m) for m in row["messages"]]
        parts = [dict(p) for p in messages[0]["content"]]
        for part in parts:
            if part.get("type") == "text" and part.get("text"):
                part["text"] = SIGNAL_LINE.sub("", part["text"])
        messages[0]["content"] = parts
        return {"messages": messages}

    return dataset.map(strip, with_indices=True)


def train_tokenizer(texts: list[str], folder: Path) -> Path:
    """Train the mini base's BPE (Qwen2 pre-tokenizer: single digits) on ``texts``; write vocab.json + merges.txt."""
    from mmrqa.modeling.mini import MINI_VOCAB_SIZE
    from mmrqa.modeling.tokenizer import train_bpe, train_tiny_tokenizer

    qwen2_pre_tokenizer = train_tiny_tokenizer().backend_tokenizer.pre_tokenizer  # \p{N}: one digit at a time
    vocab, pairs = train_bpe(texts, MINI_VOCAB_SIZE, qwen2_pre_tokenizer)
    merges = [" ".join(pair) for pair in pairs]
    folder.mkdir(parents=True, exist_ok=True)
    write_text_atomic(folder / "vocab.json", json.dumps(vocab, ensure_ascii=False, indent=0))
    write_text_atomic(folder / "merges.txt", "#version: 0.2\n" + "\n".join(merges) + "\n")
    return folder


def texts_of(dataset) -> list[str]:
    return [m["content"][-1]["text"] or "" for row in dataset["messages"] for m in row]


def write_hub_layout(splits: dict, folder: Path) -> Path:
    (folder / "data").mkdir(parents=True, exist_ok=True)
    for name, rows in splits.items():
        with atomic_output(folder / "data" / f"{name}-00000-of-00001.parquet", suffix=".parquet") as tmp:
            rows.to_parquet(str(tmp))
    return folder


def load_split(folder: Path, split: str):
    from datasets import load_dataset

    return load_dataset(str(folder), split=split)


def export(run_dir: Path, tokenizer_dir: Path, target: Path, info: dict) -> Path:
    """Write the shipped files (weights, tokenizer, manifest with sha256 and tensor shapes) into ``target``."""
    from safetensors.torch import save_file
    from transformers import LlavaOnevisionForConditionalGeneration

    from mmrqa.modeling.mini import MANIFEST, WEIGHTS_FILE, sha256

    target.mkdir(parents=True, exist_ok=True)
    # the module names of the loaded model (save_pretrained writes transformers' legacy checkpoint names)
    state = LlavaOnevisionForConditionalGeneration.from_pretrained(str(run_dir), use_safetensors=True).state_dict()
    save_file({k: v.contiguous() for k, v in sorted(state.items())}, str(target / WEIGHTS_FILE))
    for name in ("vocab.json", "merges.txt"):
        shutil.copyfile(tokenizer_dir / name, target / name)
    manifest = {
        "files": {name: sha256(target / name) for name in (WEIGHTS_FILE, "vocab.json", "merges.txt")},
        "tensors": {k: list(v.shape) for k, v in sorted(state.items())},
        "parameters": int(sum(v.numel() for v in state.values())),
        **info,
    }
    write_text_atomic(target / MANIFEST, json.dumps(manifest, indent=1) + "\n")
    return target


def _run(*command) -> None:
    args = [str(c) for c in command]
    logger.info("$ %s", " ".join(args))
    subprocess.run(args, check=True, cwd=REPO_ROOT)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m mmrqa.pretrain_mini", description=__doc__.splitlines()[0])
    parser.add_argument("output", help="work folder (scans, datasets, run, export)")
    parser.add_argument("--steps", type=int, default=2400, help="optimizer steps (batch 16)")
    parser.add_argument("--rows", type=int, default=38400, help="balanced training rows drawn with replacement")
    parser.add_argument("--config", default=str(REPO_ROOT / "recipes" / "mini-pretrain.yaml"))
    parser.add_argument(
        "--no-summary-fraction", type=float, default=NO_SUMMARY_FRACTION, help="training rows without signal summary"
    )
    parser.add_argument("--init", type=Path, help="start from this mini checkpoint folder instead of random weights")
    parser.add_argument("--install", action="store_true", help="copy the export into mmrqa/modeling/mini_base")
    parser.add_argument("--data-only", action="store_true", help="stop after the dataset and tokenizer")
    args, train_args = parser.parse_known_args(argv)  # other flags go to train_sft.py (e.g. --learning_rate 1e-3)
    logging.basicConfig(level=logging.INFO, format="%(asctime)s %(levelname)s %(name)s: %(message)s")
    out = Path(args.output).resolve()
    started = time.perf_counter()
    try:
        from mmrqa.modeling.mini import MINI_DIR, build_mini_model

        planes = write_scans(out / "scans")
        logger.info("scans: %s", json.dumps(planes))
        dataset_dir = out / "dataset"
        tokenizer_dir = out / "tokenizer"
        if not (dataset_dir / "data").is_dir():
            splits = build_rows(out / "scans", out / "builds", out / "cache")
            train = splits["train"].shuffle(seed=SEED)
            logger.info("train rows %d, labels %s", len(train), Counter(truth_labels(train)).most_common())
            natural, _ = write_validation_sets(splits["validation"], out / "heldout")
            train_tokenizer(texts_of(train), tokenizer_dir)
            validation = load_split(natural, "validation")  # the eval loss of training: the natural held-out rows
            train = strip_summaries(balance(train, args.rows), args.no_summary_fraction)
            write_hub_layout({"train": train, "validation": validation}, dataset_dir)
        logger.info("dataset ready in %.0f s", time.perf_counter() - started)
        if args.data_only:
            return 0
        init = args.init.resolve() if args.init else out / "init"
        if args.init and not (init / "config.json").is_file():
            raise InvalidArgumentError(f"--init {args.init}: not a mini checkpoint folder (no config.json)")
        if not (init / "config.json").is_file():
            build_mini_model(init, weights="random", seed=SEED, tokenizer_dir=tokenizer_dir)
        run = out / "run"
        _run(
            sys.executable, REPO_ROOT / "train_sft.py", "--config", args.config, "--dataset_name", dataset_dir,
            "--model_name_or_path", init, "--output_dir", run, "--max_steps", args.steps, *train_args,
        )  # fmt: skip
        seconds = time.perf_counter() - started
        info = {
            "steps": args.steps,
            "init": str(args.init or "random"),
            "seed": SEED,
            "train_scans": list(TRAIN_SCANS),
        }
        info.update(validation_scans=list(VALIDATION_SCANS), excluded=list(EXCLUDED), wall_s=round(seconds))
        exported = export(run, tokenizer_dir, out / "export", info)
        if args.install:
            for file in exported.iterdir():
                shutil.copyfile(file, MINI_DIR / file.name)
        base = out / "base"
        build_mini_model(base, weights=exported / "model.safetensors", tokenizer_dir=exported)
        for name in ("natural", "balanced"):
            _run(
                sys.executable, "-m", "mmrqa.cli", "evaluate", "--model", base, "--dataset", out / "heldout" / name,
                "--split", "validation", "--bootstrap", "1000", "-o", out / f"heldout-{name}.json",
            )  # fmt: skip
    except (MMRQAError, subprocess.CalledProcessError) as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    logger.info("done in %.0f s", time.perf_counter() - started)
    return 0


if __name__ == "__main__":
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    sys.exit(main())
