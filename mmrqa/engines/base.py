"""What an engine is (:class:`Engine`) and the model stage it may run after the per-item function."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any, Protocol

from mmrqa.errors import InvalidArgumentError


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
