"""Execution engines: map any function over inputs, in this process, on local worker processes or on Ray.

A generic executor: it knows nothing of scans, models or commands, and its helpers take plain values. Every cohort
command (``mmrqa metrics``, ``python -m dataset_builder``, ``mmrqa assess --engine ray``) expresses its work as a pure,
picklable function applied to each input, optionally followed by a *model stage* (a model loaded once per worker
that processes batches). An engine maps that work over the inputs and yields the results **in input order**,
streaming, so that the caller writes its output incrementally and two engines give byte-identical files:

- ``local`` (:class:`~mmrqa.engines.local.LocalEngine`, the default): this process, or a pool of ``workers``
  processes on this machine. No extra dependency.
- ``ray`` (:class:`~mmrqa.engines.ray_engine.RayEngine`): Ray tasks over adaptive chunks of inputs (a bounded
  window, ``ray.wait``) for the per-scan CPU work and Ray actors for the model stage (one model load per actor,
  batched, ``num_gpus`` per actor), on a local Ray runtime sized to this machine or on an existing cluster
  (``address``). Ray is imported only when this engine is asked for.

Both are context managers (``with get_engine(...) as engine``), which release their workers or Ray runtime.
"""

from __future__ import annotations

import argparse

from mmrqa.engines.base import Engine, ModelStage
from mmrqa.engines.local import LocalEngine
from mmrqa.engines.ray_engine import RayEngine  # imports ray only when a RayEngine starts
from mmrqa.errors import InvalidArgumentError

ENGINES = ("local", "ray")


def get_engine(
    name: str = "local", *, workers: int | None = None, address: str | None = None, num_gpus: float = 0.0
) -> Engine:
    """The engine called ``name``.

    Args:
        name: "local" or "ray".
        workers: parallel CPU workers. Local: processes (default 1). Ray: concurrent tasks (default: every CPU of
            the runtime or cluster).
        address: Ray only: an existing cluster ("auto", "HOST:6379" or "ray://HOST:10001"); None starts a local
            Ray runtime sized to this machine.
        num_gpus: Ray only: GPUs the model stage may use in total (one actor per GPU).

    Raises:
        InvalidArgumentError: unknown engine, workers < 1, or Ray options given to the local engine.
    """
    if name not in ENGINES:
        raise InvalidArgumentError(f"unknown engine {name!r}; choose one of: {', '.join(ENGINES)}")
    if workers is not None and workers < 1:
        raise InvalidArgumentError(f"--workers must be at least 1, got {workers}")
    if num_gpus < 0:
        raise InvalidArgumentError(f"--num-gpus must be >= 0, got {num_gpus}")
    if name == "local":
        if address is not None:
            raise InvalidArgumentError("--address needs --engine ray (the local engine runs on this machine)")
        return LocalEngine(workers=workers or 1)
    return RayEngine(workers=workers, address=address, num_gpus=num_gpus)


def add_engine_arguments(parser: argparse.ArgumentParser, gpus: bool = False) -> None:
    """Add ``--engine local|ray``, ``--address ADDR`` (and ``--num-gpus N`` when ``gpus``) to a subcommand."""
    group = parser.add_argument_group("engine (cohort scale)")
    group.add_argument(
        "--engine",
        choices=ENGINES,
        default="local",
        help="local process pool (default) or Ray (local runtime or a cluster)",
    )
    group.add_argument(
        "--address", default=None, help="Ray cluster to join (e.g. auto, HOST:6379); default: a local Ray runtime"
    )
    if gpus:
        group.add_argument(
            "--num-gpus", type=float, default=0.0, help="Ray: GPUs for the model actors, one actor per GPU (default 0)"
        )


__all__ = ["ENGINES", "Engine", "LocalEngine", "ModelStage", "RayEngine", "add_engine_arguments", "get_engine"]
