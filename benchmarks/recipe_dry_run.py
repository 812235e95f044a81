"""CPU dry run of every GPU recipe at real size: a recipe that cannot start is caught without a GPU.

For each GPU recipe (``recipes/llava-onevision-*-lora.yaml``) this runs ``train_sft.py --config RECIPE`` (TRL's
parser, ``SFTTrainer``, LoRA from the recipe's flags, the MMRQA chat template and assistant-only loss) for two
optimizer steps, on CPU, on the real-size LLaVA-OneVision-Qwen2-0.5B architecture with random weights
(:mod:`mmrqa.modeling.real_size`; nothing can be downloaded) and on a real MRI example (nibabel's T1 brain, one axial
slice, made into QA conversations by the project's dataset builder). Every recipe setting is kept (dtype bfloat16,
SDPA attention, gradient checkpointing, LoRA rank/alpha/dropout, learning rate, cosine schedule with warm-up fraction,
max_length, assistant-only loss) except these overrides:

- GPU-only flags off: ``--bf16 false --tf32 false --use_cpu true`` (bf16 *weights* stay: ``dtype: bfloat16``);
- one example per step and two steps: ``--per_device_train_batch_size 1 --gradient_accumulation_steps 1
  --max_steps 2``; no evaluation or checkpoints (``--eval_strategy no --save_strategy no``); data loading in the
  main process (``--dataloader_num_workers 0``).

The 7B recipe's settings run on the 0.5B architecture: a 7B model does not fit 2 CPU cores and 24 GiB (28 GB of
float32 weights, 15 GB in bfloat16 before activations). Each recipe runs in its own process; its wall time, the
trainer's step time and its peak resident memory are reported.

    nice -n 19 env OMP_NUM_THREADS=1 python benchmarks/recipe_dry_run.py --json benchmarks/results/recipe_dry_run.json
    python benchmarks/recipe_dry_run.py --tiny      # the same code path on the tiny model, in seconds (the test)
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

REPO_ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO_ROOT))  # run from a checkout without installing mmrqa

GPU_RECIPES = ("llava-onevision-0.5b-lora.yaml", "llava-onevision-7b-lora.yaml")
STEPS = 2
OVERRIDES = ["--bf16", "false", "--tf32", "false", "--use_cpu", "true"]
OVERRIDES += ["--per_device_train_batch_size", "1", "--gradient_accumulation_steps", "1", "--max_steps", str(STEPS)]
OVERRIDES += [
    "--eval_strategy",
    "no",
    "--save_strategy",
    "no",
    "--dataloader_num_workers",
    "0",
    "--logging_steps",
    "1",
]


def build_example(folder: Path) -> Path:
    """Two QA conversations (report question) on one axial slice of nibabel's T1: clean and with motion."""
    from dataset_builder import BuildConfig, build_dataset
    from mmrqa.data import sample_path

    (folder / "scans").mkdir(parents=True, exist_ok=True)
    link = folder / "scans" / "t1.nii"
    if not link.exists():
        link.symlink_to(sample_path("t1"))
    config = BuildConfig(
        kinds=("motion",),
        severities=("moderate",),
        artifacts_per_scan=1,
        n_slices=1,
        question_types=("report",),
        split_ratios=(1.0, 0.0, 0.0),
    )
    build_dataset("folder", folder / "scans", folder / "dataset", config, cache_dir=False)
    return folder / "dataset"


def run_recipe(recipe: str, model: Path, dataset: Path, output: Path) -> dict:
    """Child process: ``train_sft.main`` with the recipe and the dry-run overrides; the trainer's numbers."""
    import importlib.util
    import resource

    spec = importlib.util.spec_from_file_location("train_sft", REPO_ROOT / "train_sft.py")
    train_sft = importlib.util.module_from_spec(spec)
    sys.modules["train_sft"] = train_sft
    spec.loader.exec_module(train_sft)
    argv = ["--config", str(REPO_ROOT / "recipes" / recipe), "--model_name_or_path", str(model)]
    argv += ["--dataset_name", str(dataset), "--output_dir", str(output), *OVERRIDES]
    start = time.perf_counter()
    trainer = train_sft.main(*train_sft.parse_args(argv))
    history = trainer.state.log_history
    args = trainer.args
    lora = [p for n, p in trainer.model.named_parameters() if "lora_B" in n]
    return {
        "recipe": recipe,
        "steps": trainer.state.global_step,
        "losses": [round(e["loss"], 4) for e in history if "loss" in e],
        "train_runtime_s": next(e["train_runtime"] for e in history if "train_runtime" in e),
        "main_wall_s": round(time.perf_counter() - start, 1),
        "lora_b_changed": any(float(p.detach().float().abs().sum()) > 0 for p in lora),
        "settings": {
            "dtype": str(trainer.model.dtype),
            "attn_implementation": trainer.model.config._attn_implementation,
            "gradient_checkpointing": args.gradient_checkpointing,
            "lora_r": trainer.model.peft_config["default"].r,
            "learning_rate": args.learning_rate,
            "lr_scheduler_type": str(args.lr_scheduler_type.value),
            "warmup_steps": args.warmup_steps,
            "max_length": args.max_length,
            "assistant_only_loss": args.assistant_only_loss,
        },
        "params": trainer.model.get_base_model().num_parameters(),
        "peak_rss_gib_self": round(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20, 2),
    }


def _child(recipe: str, model: Path, dataset: Path, output: Path, result: Path) -> dict:
    """Run one recipe in its own process; its exit status, wall time and peak RSS (``wait4``) with its numbers."""
    command = [sys.executable, __file__, "--child", recipe, str(model), str(dataset), str(output), str(result)]
    start = time.perf_counter()
    process = subprocess.Popen(command, cwd=REPO_ROOT)
    _, status, usage = os.wait4(process.pid, 0)
    process.returncode = os.waitstatus_to_exitcode(status)
    entry = {"recipe": recipe, "exit_status": process.returncode, "wall_s": round(time.perf_counter() - start, 1)}
    entry["peak_rss_gib"] = round(usage.ru_maxrss / 2**20, 2)
    if result.is_file():
        entry.update({k: v for k, v in json.loads(result.read_text()).items() if k != "recipe"})
    return entry


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--tiny", action="store_true", help="the tiny model instead of the real-size architecture")
    parser.add_argument("--recipes", nargs="+", default=list(GPU_RECIPES), help="recipe file names under recipes/")
    parser.add_argument(
        "--workdir",
        default=None,
        help="folder for the model, data and runs (default: a temp dir; a model there is reused)",
    )
    parser.add_argument("--json", default=None, help="also write the report to this JSON file")
    parser.add_argument(
        "--child", nargs=5, metavar=("RECIPE", "MODEL", "DATASET", "OUTPUT", "RESULT"), help=argparse.SUPPRESS
    )
    args = parser.parse_args(argv)
    if args.child:
        recipe, *paths = args.child
        report = run_recipe(recipe, *map(Path, paths[:3]))
        Path(paths[3]).write_text(json.dumps(report, indent=1))
        return report
    with tempfile.TemporaryDirectory(prefix="recipe-dry-run-") as scratch:
        work = Path(args.workdir or scratch)
        clock = time.perf_counter()
        dataset = build_example(work)
        if args.tiny:
            from mmrqa.modeling import build_tiny_model

            model = build_tiny_model(work / "model")
        elif (work / "model" / "model.safetensors").is_file():  # built there by an earlier run: reused
            model = work / "model"
        else:
            from mmrqa.modeling.real_size import build_real_size_model

            model = build_real_size_model(work / "model")
        report = {"architecture": "tiny" if args.tiny else "llava-onevision-qwen2-0.5b (random weights)"}
        report.update(build_s=round(time.perf_counter() - clock, 1), overrides=" ".join(OVERRIDES), runs=[])
        for recipe in args.recipes:
            run = _child(recipe, model, dataset, work / f"run-{recipe}", work / f"result-{recipe}.json")
            report["runs"].append(run)
            print(
                f"{recipe}: exit {run['exit_status']}, steps {run.get('steps')}, losses {run.get('losses')}, "
                f"train {run.get('train_runtime_s')} s, wall {run['wall_s']} s, peak RSS {run['peak_rss_gib']} GiB",
                flush=True,
            )
    if args.json:
        Path(args.json).write_text(json.dumps(report, indent=1) + "\n")
    return report


if __name__ == "__main__":
    outcome = main()
    sys.exit(
        0 if all(r.get("exit_status", 0) == 0 and r.get("steps") == STEPS for r in outcome.get("runs", [])) else 1
    )
