"""Engines: how per-scan jobs are mapped to workers. The seam where other engines (e.g. Ray) plug in.

An engine is ``engine(func, jobs, num_proc) -> iterator of (index, result)`` where ``func`` is a picklable,
top-level function of one job (:func:`dataset_builder.scan.run_job`), ``index`` the job's position in ``jobs``,
and results may come back in any order (the builder reassembles them in job order, so the dataset does not depend
on the engine or on ``num_proc``).
"""

from __future__ import annotations

import multiprocessing
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from typing import Any

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
    context = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=min(num_proc, len(jobs)), mp_context=context) as pool:
        futures = {pool.submit(func, job): index for index, job in enumerate(jobs)}
        for future in as_completed(futures):
            yield futures[future], future.result()


ENGINES: dict[str, Engine] = {"process": map_with_processes}


def get_engine(name: str) -> Engine:
    from mmrqa.errors import InvalidArgumentError

    if name not in ENGINES:
        raise InvalidArgumentError(f"unknown engine {name!r}: expected one of {', '.join(ENGINES)}")
    return ENGINES[name]
