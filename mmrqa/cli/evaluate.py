"""``mmrqa evaluate --model ID_OR_PATH --dataset ID_OR_DIR [--split test] [-o results.json] [--baselines]``.

Runs the model on every question of the split, parses its answers and scores them per question type, side by side
with the baselines (majority class, signal-only classifier, base model zero-shot) and the ablation without the
signal summary in the prompt: the rows of the MMRQA paper's table. ``--no-summary-model`` adds the model trained
without summaries and ``--unseen-dataset`` the model zero-shot on an anatomy it never saw; a row that cannot be
computed says why. Intervals are cluster-bootstrap intervals over the split's subjects (``--cluster-by``). Prints the
tables; ``-o`` writes the full results (scores with bootstrap intervals, model-index entries for the model card, the
generated answers) as JSON; ``--update-card`` and ``--results-md`` write the tables into the model card and into a
markdown file (``benchmarks/RESULTS.md``). ``make table`` (``python -m mmrqa.demo --table``) builds, trains and
evaluates every row of the demo's table with one command.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
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
    parser.add_argument(
        "--no-summary-model", default=None, help="row 3: a model trained without signal summaries (asked without them)"
    )
    parser.add_argument(
        "--unseen-dataset", default=None, help="row 7: a dataset of an anatomy the model never saw, scored zero-shot"
    )
    parser.add_argument("--unseen-split", default="all", help="its split (default all: every split together)")
    parser.add_argument(
        "--baseline-dataset",
        default=None,
        help="fit the signal-only classifier and the majority class on this dataset's train split (the model's "
        "training data) instead of --dataset's: for a held-out --dataset none of whose subjects were trained on",
    )
    parser.add_argument(
        "--not-computed",
        action="append",
        default=[],
        metavar="ROW=REASON",
        help="say why a row of the table was not computed (e.g. the unseen-anatomy scans are absent); repeatable",
    )
    parser.add_argument(
        "--cluster-by",
        choices=("auto", "subject", "volume", "scan", "row"),
        default="auto",
        help="what the bootstrap resamples: a subject's questions together (subject), a volume's (volume: a scan or "
        "one simulated copy), or each question alone (row); default auto: subject when the split holds two or more",
    )
    parser.add_argument("--results-md", default=None, help="write the tables into the marked section of this file")
    parser.add_argument("--results-title", default=None, help="the heading and text above them in that file")
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
    from mmrqa.evaluation.driver import SYSTEMS, evaluate_model
    from mmrqa.fileio import write_text_atomic
    from mmrqa.pipeline import MMRQAPipeline
    from mmrqa.pipeline.assessment import json_safe

    if args.limit is not None and args.limit < 1:
        raise InvalidArgumentError(f"--limit must be >= 1, got {args.limit}")
    not_computed = {}
    for item in args.not_computed:
        row, _, reason = item.partition("=")
        if row not in SYSTEMS or not reason:
            raise InvalidArgumentError(
                f"--not-computed takes ROW=REASON with ROW one of {list(SYSTEMS)}, got {item!r}"
            )
        not_computed[row] = reason
    options = dict(device=args.device, max_new_tokens=args.max_new_tokens, batch_size=args.batch_size)
    pipe = MMRQAPipeline.from_pretrained(args.model, args.base_model, revision=args.revision, **options)
    no_summary = MMRQAPipeline.from_pretrained(args.no_summary_model, **options) if args.no_summary_model else None
    results = evaluate_model(
        pipe,
        args.dataset,
        split=args.split,
        baselines=args.baselines,
        limit=args.limit,
        n_resamples=args.bootstrap,
        progress=lambda name, seconds: print(f"scored {name} in {seconds:.1f} s", file=sys.stderr, flush=True),
        cluster_by=args.cluster_by,
        no_summary=no_summary,
        unseen=(args.unseen_dataset, args.unseen_split) if args.unseen_dataset else None,
        not_computed=not_computed,
        baseline_dataset=args.baseline_dataset,
    )
    if results.get("paper_table"):
        print(results["paper_table"])
    print(results["table"], end="")
    if args.output:
        write_text_atomic(args.output, json.dumps(json_safe(results), indent=1, default=_jsonable) + "\n")
        print(f"results written to {args.output}")
    if args.update_card:
        from mmrqa.model_card import add_evaluation_to_card

        card = Path(args.model) / "README.md"
        add_evaluation_to_card(card, json_safe(results))
        print(f"model card updated: {card}")
    if args.results_md:
        from mmrqa.evaluation.reporting import write_results_section

        title = args.results_title or f"Evaluation of `{Path(args.model).name}` on `{Path(args.dataset).name}`"
        write_results_section(args.results_md, json_safe(results), title=title)
        print(f"tables written into {args.results_md}")
    return 0


def _jsonable(value):
    if hasattr(value, "item"):
        return value.item()
    if isinstance(value, tuple | set):
        return list(value)
    return str(value)
