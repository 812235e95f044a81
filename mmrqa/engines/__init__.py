"""Execution engines: where the per-scan work of a cohort runs.

Every cohort command (``mmrqa metrics``, ``python -m dataset_builder``, ``mmrqa assess``) expresses its work as a
pure, picklable function applied to each input, optionally followed by a *model stage* (a model loaded once per
worker that processes batches). An engine maps that work over the inputs and yields the results **in input
order**, streaming, so that the caller writes its output incrementally and two engines give byte-identical files:

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
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from mmrqa.errors import InvalidArgumentError

ENGINES = ("local", "ray")


@dataclass(frozen=True)
class ModelStage:
    """A stateful, batched stage run after the per-item function: typically a model's generation.

    Attributes:
        setup: called once per worker (once per Ray actor), returns the state (e.g. the loaded pipeline). Must be
            picklable (a module-level function or a ``functools.partial`` of one).
        apply: ``apply(state, batch) -> results``, one result per element of ``batch`` (the per-item results).
        batch_size: elements per ``apply`` call (batched generation).
        actors: model replicas (Ray actors); the local engine always uses one, in this process.
        num_gpus: GPUs reserved per actor on Ray (0: the actors run on CPU).
    """

    setup: Callable[[], Any]
    apply: Callable[[Any, list[Any]], list[Any]]
    batch_size: int = 8
    actors: int = 1
    num_gpus: float = 0.0

    def __post_init__(self) -> None:
        if self.batch_size < 1:
            raise InvalidArgumentError(f"model batch size must be at least 1, got {self.batch_size}")
        if self.actors < 1:
            raise InvalidArgumentError(f"model actors must be at least 1, got {self.actors}")
        if self.num_gpus < 0:
            raise InvalidArgumentError(f"--num-gpus must be >= 0, got {self.num_gpus}")

    @classmethod
    def on_gpus(
        cls,
        setup: Callable[[], Any],
        apply: Callable[[Any, list[Any]], list[Any]],
        *,
        batch_size: int = 8,
        num_gpus: float = 0.0,
    ) -> ModelStage:
        """One actor per whole GPU (``num_gpus`` >= 1), or one actor on a GPU fraction, or one CPU actor (0)."""
        if num_gpus >= 1:
            return cls(setup, apply, batch_size=batch_size, actors=int(num_gpus), num_gpus=1.0)
        return cls(setup, apply, batch_size=batch_size, actors=1, num_gpus=float(num_gpus))


class Engine(Protocol):
    """What the cohort commands need from an engine."""

    name: str

    def map(self, func: Callable[[Any], Any], items: Iterable[Any], model: ModelStage | None = None) -> Iterator[Any]:
        """Yield ``func(item)`` (then through ``model`` when given) for each item, in input order, as they finish."""

    def __enter__(self) -> Engine: ...

    def __exit__(self, *exc: object) -> None: ...


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
        from mmrqa.engines.local import LocalEngine

        return LocalEngine(workers=workers or 1)
    from mmrqa.engines.ray_engine import RayEngine

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


def engine_from_args(args: argparse.Namespace, workers: int | None = None) -> Engine:
    """The engine the parsed ``--engine/--address/--num-gpus`` flags ask for."""
    return get_engine(
        getattr(args, "engine", "local"),
        workers=workers,
        address=getattr(args, "address", None),
        num_gpus=getattr(args, "num_gpus", 0.0) or 0.0,
    )


__all__ = ["ENGINES", "Engine", "ModelStage", "add_engine_arguments", "engine_from_args", "get_engine"]
