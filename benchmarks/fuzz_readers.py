"""The long reader fuzz run (issue 11): >= 10,000 mutated real scans through ``load_volume`` and the metrics.

Usage::

    python benchmarks/fuzz_readers.py --cases 10000 --workers 2 -o benchmarks/results/fuzz_readers.json
    python benchmarks/fuzz_readers.py --atheris -- -runs=5000      # coverage-guided, needs `pip install atheris`

Cases come from the seed corpus and mutators of ``tests/reliability`` (real scans in every format, byte-level and
format-aware mutations). Each case runs in a worker process under the in-process bounds of ``fuzz_runner.run_case``
(SIGALRM time limit, tracemalloc peak while loading); the parent also waits at most ``3 x time_limit`` for each
result and replaces a worker that hangs in C code. Every ``--metrics-every``-th case also computes both metric
profiles. The summary (counts per status, format and mutator; failures with their replay key
``seed/mutator/case_seed``; timing; worker peak RSS) is written as JSON.
"""

from __future__ import annotations

import argparse
import collections
import json
import logging
import multiprocessing as mp
import random
import resource
import sys
import time
import warnings
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests" / "reliability"))

_SEEDS: dict = {}


def _init_worker() -> None:
    logging.disable(logging.WARNING)
    warnings.simplefilter("ignore")
    from fuzz_corpus import build_seeds

    _SEEDS.update(build_seeds())


def _run(key: tuple[str, str, int, bool], time_limit: float) -> dict:
    from fuzz_mutators import mutate
    from fuzz_runner import run_case

    name, mutator, case_seed, with_metrics = key
    try:
        case = mutate(_SEEDS[name], mutator, case_seed)
    except Exception as exc:  # a mutator that cannot produce its file is a harness problem, counted apart
        return {"status": "mutator_error", "detail": repr(exc)[:300]}
    outcome = run_case(case, profiles=("default", "mrqy") if with_metrics else (), time_limit=time_limit)
    result = outcome.to_dict()
    result["rss_mib"] = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return result


def plan(n_cases: int, seed: int, metrics_every: int) -> list[tuple[str, str, int, bool]]:
    """The case list: (seed name, mutator, integer case seed, with metrics), uniform over (seed, mutator) pairs."""
    from fuzz_corpus import build_seeds
    from fuzz_mutators import mutators_for

    pairs = [(name, m) for name, s in sorted(build_seeds().items()) for m in sorted(mutators_for(s))]
    rng = random.Random(seed)
    keys = []
    for i in range(n_cases):
        name, mutator = rng.choice(pairs)
        keys.append((name, mutator, rng.getrandbits(32), metrics_every > 0 and i % metrics_every == 0))
    return keys


def run(keys: list, workers: int, time_limit: float) -> tuple[list[dict], float]:
    results: list[dict] = []
    start = time.perf_counter()
    pool = mp.get_context("fork").Pool(workers, initializer=_init_worker, maxtasksperchild=2000)
    batch = 64 * workers
    try:
        for first in range(0, len(keys), batch):
            chunk = keys[first : first + batch]
            pending = [pool.apply_async(_run, (key, time_limit)) for key in chunk]
            for key, job in zip(chunk, pending, strict=True):
                try:
                    result = job.get(timeout=3 * time_limit + 30)
                except mp.TimeoutError:  # stuck in C code: the SIGALRM bound could not fire
                    result = {"status": "timeout", "stage": "hard", "detail": "worker did not answer"}
                    pool.terminate()
                    pool = mp.get_context("fork").Pool(workers, initializer=_init_worker, maxtasksperchild=2000)
                    break
                result["key"] = "/".join(map(str, key[:3]))
                result["seed"], result["mutator"], result["metrics"] = key[0], key[1], key[3]
                results.append(result)
            done = len(results)
            if done % 1000 < batch:
                print(f"{done}/{len(keys)} cases, {time.perf_counter() - start:.0f} s", file=sys.stderr, flush=True)
    finally:
        pool.terminate()
    return results, time.perf_counter() - start


def summarize(results: list[dict], seconds: float, args: argparse.Namespace) -> dict:
    by_status = collections.Counter(r["status"] for r in results)
    by_seed: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    by_mutator: dict[str, collections.Counter] = collections.defaultdict(collections.Counter)
    for r in results:
        by_seed[r["seed"]][r["status"]] += 1
        by_mutator[r["mutator"]][r["status"]] += 1
    failures = [
        {k: r.get(k) for k in ("key", "status", "stage", "detail")}
        for r in results
        if r["status"] in ("crash", "timeout", "memory", "mutator_error")
    ]
    times = sorted(r.get("seconds", 0.0) for r in results)
    return {
        "cases": len(results),
        "with_metrics": sum(bool(r.get("metrics")) for r in results),
        "seconds": round(seconds, 1),
        "workers": args.workers,
        "time_limit_s": args.time_limit,
        "by_status": dict(by_status),
        "by_seed": {k: dict(v) for k, v in sorted(by_seed.items())},
        "by_mutator": {k: dict(v) for k, v in sorted(by_mutator.items())},
        "case_seconds_p50": times[len(times) // 2] if times else None,
        "case_seconds_max": times[-1] if times else None,
        "max_load_peak_mib": round(max((r.get("peak_load_bytes", 0) for r in results), default=0) / 2**20, 1),
        "max_worker_rss_mib": round(max((r.get("rss_mib", 0) for r in results), default=0), 1),
        "failures": failures[:200],
    }


def atheris_main(argv: list[str]) -> None:
    """Coverage-guided fuzzing: atheris picks a seed and a mutator and feeds the remaining bytes as raw damage."""
    import atheris

    with atheris.instrument_imports():
        import mmrqa.io  # noqa: F401  (instrumented for coverage feedback)
    from fuzz_corpus import build_seeds
    from fuzz_mutators import mutate, mutators_for
    from fuzz_runner import run_case

    _init_worker()
    seeds = build_seeds()
    names = sorted(seeds)

    def one_input(data: bytes) -> None:
        fdp = atheris.FuzzedDataProvider(data)
        seed = seeds[names[fdp.ConsumeIntInRange(0, len(names) - 1)]]
        mutators = sorted(mutators_for(seed))
        case = mutate(seed, mutators[fdp.ConsumeIntInRange(0, len(mutators) - 1)], fdp.ConsumeInt(4))
        outcome = run_case(case, profiles=())
        if outcome.failed:
            raise RuntimeError(f"{outcome.status} in {outcome.stage}: {outcome.detail}")

    atheris.Setup([sys.argv[0], *argv], one_input)
    atheris.Fuzz()


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--cases", type=int, default=10_000)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--metrics-every", type=int, default=5, help="compute metrics on every k-th case (0: never)")
    parser.add_argument("--time-limit", type=float, default=5.0, help="seconds per case")
    parser.add_argument("-o", "--output", type=Path, default=REPO / "benchmarks" / "results" / "fuzz_readers.json")
    parser.add_argument("--atheris", action="store_true", help="run the atheris harness; pass its flags after --")
    args, rest = parser.parse_known_args()
    if args.atheris:
        atheris_main([a for a in rest if a != "--"])
        return 0
    results, seconds = run(plan(args.cases, args.seed, args.metrics_every), args.workers, args.time_limit)
    summary = summarize(results, seconds, args)
    from mmrqa.fileio import write_text_atomic

    write_text_atomic(args.output, json.dumps(summary, indent=1) + "\n")
    print(json.dumps({k: summary[k] for k in ("cases", "seconds", "by_status", "max_load_peak_mib")}))
    for failure in summary["failures"][:20]:
        print(f"FAIL {failure['key']} {failure['status']} {failure['stage']}\n{failure['detail']}", file=sys.stderr)
    return 1 if any(summary["by_status"].get(s) for s in ("crash", "timeout", "memory")) else 0


if __name__ == "__main__":
    sys.exit(main())
