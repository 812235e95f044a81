"""``mmrqa evaluate --model ID_OR_PATH --dataset ID_OR_DIR [--split test] [-o results.json] [--baselines]``.

Runs the model on every question of the split, parses its answers and scores them per question type, side by side
with the baselines (majority class, signal-only classifier, base model zero-shot) and the ablation without the
signal summary in the prompt. Prints the comparison table; ``-o`` writes the full results (scores with bootstrap
intervals, model-index entries for the model card, the generated answers) as JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
from pathlib import Path

# What ``run`` needs is imported in ``run``: the console script imports every command module to build its parser,
# so ``mmrqa --help`` and ``mmrqa info`` must not pay for the libraries of the other commands.

logger = logging.getLogger(__name__)


def add_parser(subparsers) -> None:
    parser = subparsers.add_parser(
        "evaluate", help="score a model on a dataset split against baselines", description=__doc__.split("\n\n")[0]
    )
    parser.add_argument("--model", required=True, help="MMRQA adapter or merged model (Hub id or folder)")
    parser.add_argument("--base-model", default=None, help="base model of the adapter (default: its adapter_config)")
    parser.add_argument("--revision", default=None, help="Hub revision of --model")
    parser.add_argument("--dataset", required=True, help="MMRQA dataset (Hub id or folder in Hub layout)")
    parser.add_argument("--split", default="test", help="split to score (default test)")
    parser.add_argument("-o", "--output", default=None, help="results JSON file")
    parser.add_argument(
        "--baselines",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="also score the baselines and the ablation (default on; --no-baselines for the model alone)",
    )
    parser.add_argument("--limit", type=int, default=None, help="score only the first N questions")
    parser.add_argument("--max-new-tokens", type=int, default=128, help="cap on generated tokens per answer")
    parser.add_argument("--batch-size", type=int, default=8, help="prompts per generation batch")
    parser.add_argument("--bootstrap", type=int, default=1000, help="bootstrap resamples for the intervals")
    parser.add_argument("--device", default=None, help="cpu, cuda ... (default: GPU when available)")
    parser.add_argument(
        "--update-card",
        action="store_true",
        help="write the results into the model card (README.md) of a local --model folder: model-index + table",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from mmrqa.errors import InvalidArgumentError
    from mmrqa.evaluation.driver import evaluate_model
    from mmrqa.fileio import write_text_atomic
    from mmrqa.pipeline import MMRQAPipeline
    from mmrqa.pipeline.assessment import json_safe

    if args.limit is not None and args.limit < 1:
        raise InvalidArgumentError(f"--limit must be >= 1, got {args.limit}")
    pipe = MMRQAPipeline.from_pretrained(
        args.model,
        args.base_model,
        device=args.device,
        revision=args.revision,
        max_new_tokens=args.max_new_tokens,
        batch_size=args.batch_size,
    )
    results = evaluate_model(
        pipe, args.dataset, split=args.split, baselines=args.baselines, limit=args.limit, n_resamples=args.bootstrap
    )
    print(results["table"], end="")
    if args.output:
        write_text_atomic(args.output, json.dumps(json_safe(results), indent=1, default=_jsonable) + "\n")
        print(f"results written to {args.output}")
    if args.update_card:
        from mmrqa.model_card import add_evaluation_to_card

        card = Path(args.model) / "README.md"
        add_evaluation_to_card(card, json_safe(results))
        print(f"model card updated: {card}")
    return 0


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)
