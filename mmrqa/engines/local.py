"""The local engine: this process, or a pool of worker processes on this machine (the default engine).

Results come back in input order through a bounded window of ``4 x workers`` tasks in flight, so memory stays
bounded whatever the cohort size (``ProcessPoolExecutor.map`` would submit every input up front and hold every
finished result until the caller reaches it).
"""

from __future__ import annotations

import logging
import multiprocessing
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from itertools import islice
from typing import Any

from mmrqa.engines.base import ModelStage

logger = logging.getLogger(__name__)

IN_FLIGHT_PER_WORKER = 4


class LocalEngine:
    """Map work over inputs on this machine: in-process (``workers=1``) or with ``workers`` processes.

    ``start_method`` is the multiprocessing start method of the pool (None: the platform's default; "spawn" is safe
    beside threads of pyarrow or torch in the parent, at a cost of a second or two per worker start).
    """

    name = "local"

    def __init__(self, workers: int = 1, start_method: str | None = None) -> None:
        self.workers = workers
        self.start_method = start_method
        self._pool: ProcessPoolExecutor | None = None

    def __enter__(self) -> LocalEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def close(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(cancel_futures=True)
            self._pool = None

    def map(self, func: Callable[[Any], Any], items: Iterable[Any], model: ModelStage | None = None) -> Iterator[Any]:
        """Yield ``func(item)`` for each item in input order (then ``model.apply`` over batches when given)."""
        results = self._map_items(func, items)
        if model is None:
            return results
        return _apply_model(model, results)

    def _map_items(self, func: Callable[[Any], Any], items: Iterable[Any]) -> Iterator[Any]:
        if self.workers == 1:
            return (func(item) for item in items)
        if self._pool is None:
            context = multiprocessing.get_context(self.start_method) if self.start_method else None
            self._pool = ProcessPoolExecutor(max_workers=self.workers, mp_context=context)
        return _ordered_window(self._pool, func, items, self.workers * IN_FLIGHT_PER_WORKER)


def _ordered_window(pool: ProcessPoolExecutor, func: Callable, items: Iterable[Any], window: int) -> Iterator[Any]:
    """``pool.map`` in input order with at most ``window`` tasks submitted and not yet consumed."""
    source = iter(items)
    pending: deque[Future] = deque(pool.submit(func, item) for item in islice(source, window))
    while pending:
        result = pending.popleft().result()
        for item in islice(source, 1):
            pending.append(pool.submit(func, item))
        yield result


def _apply_model(model: ModelStage, results: Iterator[Any]) -> Iterator[Any]:
    """The model stage in this process: one ``setup`` (one model load), then ``apply`` on consecutive batches."""
    state = model.setup()
    while batch := list(islice(results, model.batch_size)):
        outputs = model.apply(state, batch)
        if len(outputs) != len(batch):
            raise RuntimeError(f"model stage returned {len(outputs)} results for a batch of {len(batch)}")
        yield from outputs
