"""The Ray engine: Ray Data tasks for the per-scan CPU work, Ray Data actors for the model stage.

How a cohort runs (``RayEngine.map``):

1. The inputs become a Ray dataset of rows ``{"i": position, "item": pickled input}`` (``ray.data.from_items``)
   cut into blocks of a few dozen inputs, enough blocks to keep every worker busy to the end (at least 8 per
   worker).
2. ``map_batches`` runs the per-item function over each block in a Ray task (1 CPU, at most ``workers`` tasks at
   once when given, ``TaskPoolStrategy``); each result is pickled into the row. An exception raised by the function
   is shipped back and re-raised in the driver with its own type, so an ``MMRQAError`` reads as with the local
   engine.
3. With a :class:`~mmrqa.engines.ModelStage`, a second ``map_batches`` runs on an actor pool
   (``ActorPoolStrategy(size=actors)``, ``num_gpus`` per actor): each actor calls ``setup`` once (one model load)
   and ``apply`` on batches of ``batch_size`` results (batched generation). Ray Data streams blocks from the CPU
   tasks to the actors, so metrics and generation overlap.
4. The driver iterates the output with ``preserve_order`` on, and re-sequences by ``i`` as a safeguard: results come
   out in input order, so the caller writes exactly what the local engine writes, incrementally, while Ray's
   backpressure bounds what is held in flight.

Without ``address`` a local Ray runtime is started with ``num_cpus`` = the CPUs this process may use, no dashboard,
quiet logs, and shut down on ``close``; with ``address`` the engine joins an existing cluster (``ray start`` on each
node; every node needs ``mmrqa`` installed and the inputs on a path it can read). If Ray is already initialised in
this process (a notebook, a test session) the engine uses that runtime and leaves it running.

Reference: Moritz et al., "Ray: A Distributed Framework for Emerging AI Applications", OSDI 2018; Ray Data docs,
"Transforming data" and "End-to-end: offline batch inference".
"""

from __future__ import annotations

import heapq
import logging
import math
import os
import pickle
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from mmrqa.engines import ModelStage
from mmrqa.errors import MMRQAError

logger = logging.getLogger(__name__)

BLOCKS_PER_WORKER = 8
MAX_ITEMS_PER_BLOCK = 32


@dataclass
class _Failure:
    """An exception raised by the user's function in a Ray worker, carried back to the driver."""

    error: BaseException


def _machine_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        return os.cpu_count() or 1


def _quiet_ray_data() -> None:
    """No progress bars or per-dataset INFO lines: the commands print their own progress and write to stdout."""
    from ray.data import DataContext

    ctx = DataContext.get_current()
    ctx.enable_progress_bars = False
    ctx.enable_operator_progress_bars = False
    ctx.enable_auto_log_stats = False
    ctx.execution_options.verbose_progress = False
    ctx.execution_options.preserve_order = True
    for name in ("ray", "ray.data"):
        logging.getLogger(name).setLevel(logging.ERROR)


def _dumps(value: Any) -> bytes:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an unpicklable exception or result: keep its text
        return pickle.dumps(_Failure(RuntimeError(f"{type(value).__name__}: {value} (not picklable: {exc})")))


def _run_items(batch, func: Callable[[Any], Any]):
    """Ray task body: apply ``func`` to every pickled item of a block; exceptions become ``_Failure`` results."""
    import pyarrow as pa

    results = []
    for blob in batch.column("item").to_pylist():
        try:
            results.append(_dumps(func(pickle.loads(blob))))  # noqa: S301 - our own rows
        except Exception as exc:
            results.append(_dumps(_Failure(exc)))
    return pa.table({"i": batch.column("i"), "item": pa.array(results, pa.binary())})


class _ModelActor:
    """Ray actor body of a ModelStage: one ``setup`` per actor, ``apply`` per batch."""

    def __init__(self, setup: Callable[[], Any], apply: Callable[[Any, list[Any]], list[Any]]) -> None:
        self.state = setup()
        self.apply = apply

    def __call__(self, batch):
        import pyarrow as pa

        values = [pickle.loads(blob) for blob in batch.column("item").to_pylist()]  # noqa: S301 - our own rows
        failed = {k: v for k, v in enumerate(values) if isinstance(v, _Failure)}
        inputs = [v for v in values if not isinstance(v, _Failure)]
        try:
            outputs = iter(self.apply(self.state, inputs) if inputs else [])
            blobs = [_dumps(failed[k]) if k in failed else _dumps(next(outputs)) for k in range(len(values))]
        except Exception as exc:
            blobs = [_dumps(failed.get(k, _Failure(exc))) for k in range(len(values))]
        return pa.table({"i": batch.column("i"), "item": pa.array(blobs, pa.binary())})


class RayEngine:
    """Map work over inputs with Ray: a local runtime sized to this machine, or an existing cluster."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None, num_gpus: float = 0.0) -> None:
        self.workers = workers
        self.address = address
        self.num_gpus = num_gpus
        self._owns_runtime = False

    def __enter__(self) -> RayEngine:
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def start(self) -> None:
        """Join the cluster at ``address``, or start a quiet local runtime (unless Ray is already running here)."""
        try:
            import ray
        except ImportError as exc:
            raise MMRQAError("--engine ray needs Ray: pip install 'mmrqa[ray]'") from exc
        if not ray.is_initialized():
            quiet = {"include_dashboard": False, "log_to_driver": False, "logging_level": logging.ERROR}
            try:
                if self.address:
                    ray.init(address=self.address, **quiet)
                else:
                    ray.init(num_cpus=_machine_cpus(), **quiet)
                    self._owns_runtime = True
            except (ConnectionError, RuntimeError, ValueError) as exc:
                where = f"the Ray cluster at {self.address}" if self.address else "a local Ray runtime"
                raise MMRQAError(f"cannot start or join {where}: {exc}") from exc
            logger.info("Ray resources: %s", ray.cluster_resources())
        _quiet_ray_data()

    def close(self) -> None:
        if self._owns_runtime:
            import ray

            ray.shutdown()
            self._owns_runtime = False

    def map(self, func: Callable[[Any], Any], items: Iterable[Any], model: ModelStage | None = None) -> Iterator[Any]:
        """Yield ``func(item)`` for each item (then through ``model`` when given), in input order, streaming."""
        self.start()
        rows = [{"i": i, "item": _dumps(item)} for i, item in enumerate(items)]
        if not rows:
            return iter(())
        return self._stream(self._dataset(rows, func, model), len(rows))

    def _total_workers(self) -> int:
        import ray

        return self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))

    def _dataset(self, rows: list[dict], func: Callable[[Any], Any], model: ModelStage | None):
        import ray.data

        blocks = min(
            len(rows), max(self._total_workers() * BLOCKS_PER_WORKER, math.ceil(len(rows) / MAX_ITEMS_PER_BLOCK))
        )
        ds = ray.data.from_items(rows, override_num_blocks=blocks)
        ds = ds.map_batches(
            _run_items,
            fn_kwargs={"func": func},
            batch_size=None,
            batch_format="pyarrow",
            num_cpus=1,
            compute=ray.data.TaskPoolStrategy(size=self.workers),
            udf_modifying_row_count=False,
        )
        if model is not None:
            ds = ds.map_batches(
                _ModelActor,
                fn_constructor_args=(model.setup, model.apply),
                batch_size=model.batch_size,
                batch_format="pyarrow",
                num_cpus=1,
                num_gpus=model.num_gpus or None,
                compute=ray.data.ActorPoolStrategy(size=model.actors),
                udf_modifying_row_count=False,
            )
        return ds

    @staticmethod
    def _stream(ds, total: int) -> Iterator[Any]:
        """Results in input order; a shipped exception is re-raised here with its own type."""
        waiting: list[tuple[int, bytes]] = []
        expected = 0
        for batch in ds.iter_batches(batch_format="pyarrow", batch_size=None, prefetch_batches=1):
            for i, blob in zip(batch.column("i").to_pylist(), batch.column("item").to_pylist(), strict=True):
                heapq.heappush(waiting, (i, blob))
            while waiting and waiting[0][0] == expected:
                value = pickle.loads(heapq.heappop(waiting)[1])  # noqa: S301 - our own rows
                expected += 1
                if isinstance(value, _Failure):
                    raise value.error
                yield value
        if expected != total:
            raise RuntimeError(f"Ray returned {expected} of {total} results")
