"""The Ray engine: Ray tasks for the per-scan CPU work, Ray actors for the model stage.

How a cohort runs (``RayEngine.map``):

1. The inputs (paths: small) are cut into *chunks* and each chunk is one Ray task (1 CPU) that applies the per-item
   function to its items in a worker process; each result is pickled there (an exception raised by the function is
   shipped back and re-raised in the driver with its own type, so an ``MMRQAError`` reads as with the local engine).
   The function travels inside each task when it pickles small (``INLINE_FUNC_BYTES``: a ``partial`` of a module
   function is ~100 bytes), else it is put in Ray's object store once: a stored function costs each task a fetch
   from the object store, 1.3 ms more per task measured (3.7 vs 2.4 ms for a task's round trip on 2 cores).
2. The driver keeps at most ``IN_FLIGHT_PER_WORKER x workers`` chunks submitted and not yet consumed, so memory
   stays bounded whatever the cohort size; ``ray.wait`` tells it when a task ends. When ``workers`` is at least
   every CPU of the runtime or cluster (the default), Ray's scheduler already runs no more than ``workers`` tasks at
   once, so the whole window is submitted: the next chunk waits in Ray for a free worker, and a worker that ends a
   task gets the next one without waiting for the driver's Python loop. With fewer ``workers`` than CPUs the driver
   keeps exactly ``workers`` tasks running and submits the next chunk as soon as one ends.
3. Chunks are sized from the measured cost per item: the first chunks hold one item each; then a chunk holds about
   ``TARGET_TASK_S`` seconds of work (at most ``MAX_CHUNK`` items, and never more than a fair share of what is left,
   so the last tasks end together). A 1 s brain is one task; twenty-five 40 ms slices share one. Each task leaves
   its worker idle for 2-6 ms on a 2-core machine (the result goes to the driver, the next chunk comes back) and
   costs CPU in the driver and the raylet, so 1 s chunks (0.25 s before) waste less, and a large cluster's single
   driver handles 4x fewer tasks per second; the fair-share cap still balances the tail.
4. Results are yielded in input order (chunks are consumed in submission order), so the caller writes exactly what
   the local engine writes, incrementally.
5. With a :class:`~mmrqa.engines.ModelStage`, ``actors`` Ray actors (``num_gpus`` each) call ``setup`` once (one
   model load per actor) and ``apply`` on batches of ``batch_size`` CPU results, submitted in input order to the
   least busy actor (at most two batches queued per actor); CPU tasks keep running meanwhile, so metrics and
   generation overlap.

Measured on 2 cores with items that sleep (immune to other jobs' CPU load; ``bench_ray.py --sched``), the idle
time Ray adds to a run with 2 workers fell from 3.2-3.6% to 1.9-2.0% on 20-60 ms items and from 3.2% to 0.9-1.1%
on a realistic mix (the local pool: 1.5-1.7%) with the three choices above (inline function, queued window, 1 s
chunks); with 1 worker from 2.7-3.4% to 1.5% and from 2.9-3.1% to 0.9%.

Why Ray tasks and not Ray Data: an earlier version mapped the work with Ray Data (``from_items`` + ``map_batches``);
on this 2-core machine its streaming executor started the second worker about a second late, cut the cohort into
fixed blocks whose costs differed (uneven tails), and cost 20-40% of throughput against the local pool on small
scans (``benchmarks/RESULTS.md``, "Cohort scale (Ray)"). A bounded window of plain tasks has none of these costs
and still runs unchanged on a cluster. Ray Data remains the tool to post-process the outputs (``docs/cohort-scale.md``).

Threads: Ray sets ``OMP_NUM_THREADS`` to the CPUs of a task (1) in its workers, so numpy/scipy use one thread per
worker and ``workers`` tasks do not oversubscribe the cores.

Without ``address`` a local Ray runtime is started with ``num_cpus`` = the CPUs this process may use, no dashboard,
quiet logs, and shut down on ``close``; with ``address`` the engine joins an existing cluster (``ray start`` on each
node; every node needs ``mmrqa`` installed and the inputs on a path it can read). If Ray is already initialised in
this process (a notebook, a test session) the engine uses that runtime and leaves it running.

Reference: Moritz et al., "Ray: A Distributed Framework for Emerging AI Applications", OSDI 2018; Ray docs, "Pattern:
Using ray.wait to limit the number of pending tasks".
"""

from __future__ import annotations

import logging
import math
import os
import pickle
import time
from collections import deque
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass
from typing import Any

from mmrqa.engines.base import ModelStage
from mmrqa.errors import MMRQAError

# ray (~1 s, optional) is imported only when a RayEngine starts.

logger = logging.getLogger(__name__)

IN_FLIGHT_PER_WORKER = 4  # chunks submitted and not yet consumed, per worker (bounds memory)
TARGET_TASK_S = 1.0  # seconds of work per task once the cost per item is known
MAX_CHUNK = 64  # items per task at most
BATCHES_PER_ACTOR = 2  # model batches queued per actor
INLINE_FUNC_BYTES = 64 * 1024  # a function that pickles smaller travels inside each task (Ray inlines < 100 KiB)


@dataclass
class _Failure:
    """An exception raised by the user's function in a Ray worker, carried back to the driver."""

    error: BaseException


def _machine_cpus() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - macOS
        return os.cpu_count() or 1


def _dumps(value: Any) -> bytes:
    try:
        return pickle.dumps(value, protocol=pickle.HIGHEST_PROTOCOL)
    except Exception as exc:  # an unpicklable exception or result: keep its text
        return pickle.dumps(_Failure(RuntimeError(f"{type(value).__name__}: {value} (not picklable: {exc})")))


def _run_chunk(func: Callable[[Any], Any], items: list[Any]) -> tuple[list[bytes], float]:
    """Ray task body: ``func`` over a chunk of items; exceptions become ``_Failure`` results. Returns the pickled
    results and the seconds the chunk took (for sizing the next chunks)."""
    start = time.perf_counter()
    results = []
    for item in items:
        try:
            results.append(_dumps(func(item)))
        except Exception as exc:
            results.append(_dumps(_Failure(exc)))
    return results, time.perf_counter() - start


class _ModelActor:
    """Ray actor body of a ModelStage: one ``setup`` per actor, ``apply`` per batch of pickled CPU results."""

    def __init__(self, setup: Callable[[], Any], apply: Callable[[Any, list[Any]], list[Any]]) -> None:
        self.state = setup()
        self.apply_fn = apply

    def apply(self, blobs: list[bytes]) -> list[bytes]:
        values = [pickle.loads(blob) for blob in blobs]  # noqa: S301 - our own results
        failed = {k: v for k, v in enumerate(values) if isinstance(v, _Failure)}
        inputs = [v for v in values if not isinstance(v, _Failure)]
        try:
            outputs = list(self.apply_fn(self.state, inputs)) if inputs else []
            if len(outputs) != len(inputs):
                raise RuntimeError(f"model stage returned {len(outputs)} results for a batch of {len(inputs)}")
            it = iter(outputs)
            return [_dumps(failed[k]) if k in failed else _dumps(next(it)) for k in range(len(values))]
        except Exception as exc:
            return [_dumps(failed.get(k, _Failure(exc))) for k in range(len(values))]


class _ChunkSizer:
    """Items per task: 1 until a task has reported its cost, then ``TARGET_TASK_S`` worth, capped by ``MAX_CHUNK``
    and by a fair share of the items left (``left / (2 x workers)``) so that workers finish together."""

    def __init__(self, workers: int) -> None:
        self.workers = workers
        self.items = 0
        self.seconds = 0.0

    def record(self, items: int, seconds: float) -> None:
        self.items += items
        self.seconds += seconds

    def next(self, left: int) -> int:
        if not self.items:
            return 1
        per_item = max(self.seconds / self.items, 1e-6)
        size = min(MAX_CHUNK, max(1, int(TARGET_TASK_S / per_item)))
        return max(1, min(size, math.ceil(left / (2 * self.workers))))


def _unpickle(blob: bytes) -> Any:
    value = pickle.loads(blob)  # noqa: S301 - our own results
    if isinstance(value, _Failure):
        raise value.error
    return value


class RayEngine:
    """Map work over inputs with Ray: a local runtime sized to this machine, or an existing cluster."""

    name = "ray"

    def __init__(self, workers: int | None = None, address: str | None = None, num_gpus: float = 0.0) -> None:
        self.workers = workers
        self.address = address
        self.num_gpus = num_gpus
        self._owns_runtime = False
        self.tasks = 0  # Ray tasks submitted by the last map (for benchmarks: items / tasks = mean chunk)

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
        if ray.is_initialized():
            return
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

    def close(self) -> None:
        if self._owns_runtime:
            import ray

            ray.shutdown()
            self._owns_runtime = False

    def map(self, func: Callable[[Any], Any], items: Iterable[Any], model: ModelStage | None = None) -> Iterator[Any]:
        """Yield ``func(item)`` for each item (then through ``model`` when given), in input order, streaming."""
        self.start()
        items = list(items)
        if not items:
            return iter(())
        blobs = self._cpu_stage(func, items)
        if model is None:
            return (_unpickle(blob) for blob in blobs)
        return (_unpickle(blob) for blob in _model_stage(model, blobs))

    def _total_workers(self) -> int:
        import ray

        return self.workers or max(1, int(ray.cluster_resources().get("CPU", 1)))

    def _cpu_stage(self, func: Callable[[Any], Any], items: list[Any]) -> Iterator[bytes]:
        """Pickled results of ``func`` over ``items``, in input order, through a bounded window of chunk tasks."""
        import ray

        workers = self._total_workers()
        window = workers * IN_FLIGHT_PER_WORKER
        # Ray runs at most one task per CPU: with workers >= CPUs, queued chunks wait in Ray, ready for the next
        # free worker; with fewer workers than CPUs the driver itself keeps `workers` tasks running.
        cpus = int(ray.cluster_resources().get("CPU", 1))
        running_cap = window if workers >= cpus else workers
        task = ray.remote(num_cpus=1)(_run_chunk)
        func_arg = func if len(ray.cloudpickle.dumps(func)) <= INLINE_FUNC_BYTES else ray.put(func)
        sizer = _ChunkSizer(workers)
        self.tasks = 0
        pending: deque[tuple[Any, int]] = deque()  # (ref, chunk length), submission = input order
        running: set = set()
        start = 0
        try:
            while start < len(items) or pending:
                while start < len(items) and len(running) < running_cap and len(pending) < window:
                    size = sizer.next(len(items) - start)
                    ref = task.remote(func_arg, items[start : start + size])
                    pending.append((ref, size))
                    running.add(ref)
                    start += size
                    self.tasks += 1
                head = pending[0][0]
                if head in running:
                    ready, _ = ray.wait(list(running), num_returns=1)
                    running.difference_update(ready)
                    continue
                ref, _size = pending.popleft()
                results, seconds = ray.get(ref)
                sizer.record(len(results), seconds)
                yield from results
        finally:
            for ref in running:
                ray.cancel(ref)


def _model_stage(model: ModelStage, blobs: Iterator[bytes]) -> Iterator[bytes]:
    """``blobs`` through ``model.actors`` actors in batches of ``model.batch_size``, in input order."""
    import ray

    actor_class = ray.remote(num_cpus=1, num_gpus=model.num_gpus or 0)(_ModelActor)
    actors = [actor_class.remote(model.setup, model.apply) for _ in range(model.actors)]
    load = [0] * len(actors)
    pending: deque[tuple[Any, int]] = deque()  # (ref, actor index), in input order

    def finish() -> list[bytes]:
        ref, k = pending.popleft()
        load[k] -= 1
        return ray.get(ref)

    try:
        batch: list[bytes] = []
        for blob in blobs:
            batch.append(blob)
            if len(batch) < model.batch_size:
                continue
            while len(pending) >= BATCHES_PER_ACTOR * len(actors):
                yield from finish()
            k = load.index(min(load))
            pending.append((actors[k].apply.remote(batch), k))
            load[k] += 1
            batch = []
            while pending and ray.wait([pending[0][0]], timeout=0)[0]:
                yield from finish()
        if batch:
            k = load.index(min(load))
            pending.append((actors[k].apply.remote(batch), k))
            load[k] += 1
        while pending:
            yield from finish()
    finally:
        for actor in actors:
            ray.kill(actor)
