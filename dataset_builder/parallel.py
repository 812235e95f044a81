"""How the builder's per-scan jobs run in parallel: the seam where other executors (e.g. Ray) plug in.

The builder's engine is ``engine(func, jobs, num_proc) -> iterator of (index, result)`` where ``func`` is a picklable,
top-level function of one job (:func:`dataset_builder.scan.run_job`), ``index`` the job's position in ``jobs``,
and results may come back in any order (the builder reassembles them in job order, so the dataset does not depend
on the engine or on ``num_proc``).

The work itself runs on the generic executors shared with ``mmrqa metrics`` and ``mmrqa assess``
(:mod:`mmrqa.engines`): the local process pool, or Ray (``--engine ray [--address ADDR]``) through :func:`open_engine`;
this module only adapts them to the builder's ``(index, result)`` signature.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any

from mmrqa.engines import LocalEngine
from mmrqa.engines import get_engine as get_cohort_engine
from mmrqa.errors import InvalidArgumentError

Engine = Callable[[Callable[[Any], Any], Sequence[Any], int], Iterator[tuple[int, Any]]]


def map_in_process(func: Callable[[Any], Any], jobs: Sequence[Any], num_proc: int = 1) -> Iterator[tuple[int, Any]]:
    """Run the jobs one after the other in this process."""
    for index, job in enumerate(jobs):
        yield index, func(job)


def map_with_processes(func: Callable[[Any], Any], jobs: Sequence[Any], num_proc: int) -> Iterator[tuple[int, Any]]:
    """Run the jobs on ``num_proc`` worker processes (``spawn``: safe beside threads of pyarrow or torch),
    yielding each result as soon as it is done; in this process when ``num_proc`` is 1 or there is one job."""
    if num_proc <= 1 or len(jobs) <= 1:
        yield from map_in_process(func, jobs)
        return
    with LocalEngine(workers=min(num_proc, len(jobs)), start_method="spawn") as engine:
        yield from enumerate(engine.map(func, jobs))


def adapt(engine) -> Engine:
    """This module's engine signature over an :mod:`mmrqa.engines` engine (results in job order)."""

    def mapper(func: Callable[[Any], Any], jobs: Sequence[Any], num_proc: int = 1) -> Iterator[tuple[int, Any]]:
        return enumerate(engine.map(func, jobs))

    return mapper


@contextmanager
def open_engine(name: str, *, workers: int | None = None, address: str | None = None) -> Iterator[Engine]:
    """The engine ``--engine NAME`` asks for, with its resources held for the ``with`` block.

    ``local`` (or ``process``) is :func:`map_with_processes` (``num_proc`` processes); ``ray`` runs the jobs as Ray
    Data tasks on a local Ray runtime or the cluster at ``address``, ``workers`` at once (default: every CPU).
    """
    if name in ENGINES:
        if address is not None:
            raise InvalidArgumentError("--address needs --engine ray (the local engine runs on this machine)")
        yield ENGINES[name]
        return
    with get_cohort_engine(name, workers=workers, address=address) as engine:
        yield adapt(engine)


ENGINES: dict[str, Engine] = {"local": map_with_processes, "process": map_with_processes}


def get_engine(name: str) -> Engine:
    if name not in ENGINES:
        raise InvalidArgumentError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")
    return ENGINES[name]
