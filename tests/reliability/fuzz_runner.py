"""Run one fuzz case: load the (mutated) scan, compute its metrics, and classify what happened.

The contract under test (issue 11): every outcome is a valid ``Volume``/``MetricReport`` or an ``MMRQAError``;
any other exception is a crash, a case slower than ``time_limit`` is a hang (``SIGALRM`` via ``setitimer``
interrupts Python code; the benchmark also runs cases in a watched worker process so that a hang in C code is
caught too), and the peak of Python-tracked allocations (``tracemalloc``, which numpy reports to) while loading
must stay within ``LOAD_MEMORY_FACTOR * max_bytes + MEMORY_SLACK`` -- a file whose header lies about its size must
be refused from the header, not discovered by allocating.
"""

from __future__ import annotations

import json
import signal
import tempfile
import time
import traceback
import tracemalloc
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
from fuzz_corpus import Seed

from mmrqa.errors import MMRQAError

#: Memory budget given to ``load_volume`` in fuzz cases (the largest seed output is ~0.5 MiB).
FUZZ_MAX_BYTES = 16 * 2**20
#: Loading may hold the stored array, its float32 copy and a reoriented copy: a few times the output.
LOAD_MEMORY_FACTOR = 6
#: Fixed allowance for headers, file buffers and interpreter objects.
MEMORY_SLACK = 24 * 2**20
#: Per-case time bound in seconds.
TIME_LIMIT = 5.0


class CaseTimeout(BaseException):
    """Raised by the alarm handler; a BaseException so that ``except Exception`` in readers cannot swallow it."""


@dataclass
class Outcome:
    """What one case did: ``status`` is ok, rejected (an MMRQAError), crash, timeout or memory."""

    status: str
    stage: str = ""
    detail: str = ""
    seconds: float = 0.0
    peak_load_bytes: int = 0

    def to_dict(self) -> dict:
        return asdict(self)

    @property
    def failed(self) -> bool:
        return self.status in ("crash", "timeout", "memory")


def _metrics_api():
    try:
        from mmrqa.metrics import compute_metrics
    except ImportError:
        return None
    return compute_metrics


def check_report(report: object) -> None:
    """A report must hold per-volume floats and serialise to JSON (NaN allowed: a metric can be undefined)."""
    values = report.values
    assert isinstance(values, dict) and values, "report has no values"
    for name, value in values.items():
        assert isinstance(value, float), f"metric {name} is {type(value).__name__}, not float"
    json.loads(report.to_json())


def run_case(
    seed: Seed,
    *,
    profiles: tuple[str, ...] = ("default", "mrqy"),
    max_bytes: int = FUZZ_MAX_BYTES,
    time_limit: float = TIME_LIMIT,
) -> Outcome:
    """Write ``seed`` to a fresh folder and load it, then compute each metric profile, under the time and memory
    bounds (``profiles=()`` tests loading only)."""
    from mmrqa.io import load_volume

    compute_metrics = _metrics_api()
    start = time.perf_counter()
    stage = "load"
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    signal.setitimer(signal.ITIMER_REAL, time_limit)
    was_tracing = tracemalloc.is_tracing()
    try:
        with tempfile.TemporaryDirectory(prefix="mmrqa-fuzz-") as folder:
            path = seed.write(Path(folder))
            if not was_tracing:
                tracemalloc.start()
            tracemalloc.reset_peak()
            base = tracemalloc.get_traced_memory()[0]
            try:
                volume = load_volume(path, max_bytes=max_bytes, **seed.load_kwargs)
            finally:
                peak = tracemalloc.get_traced_memory()[1] - base
                if not was_tracing:
                    tracemalloc.stop()
            _check_volume(volume)
            if peak > LOAD_MEMORY_FACTOR * max_bytes + MEMORY_SLACK:
                return Outcome("memory", stage, f"peak {peak / 2**20:.0f} MiB while loading", _since(start), peak)
            if compute_metrics is not None:
                for profile in profiles:
                    stage = f"metrics:{profile}"
                    check_report(compute_metrics(volume, profile=profile))
        return Outcome("ok", stage, "", _since(start), peak)
    except MMRQAError as exc:
        return Outcome("rejected", stage, f"{type(exc).__name__}: {exc}"[:300], _since(start))
    except CaseTimeout:
        return Outcome("timeout", stage, f"over {time_limit} s", _since(start))
    except Exception:  # the contract is broken: keep the traceback for the report
        return Outcome("crash", stage, traceback.format_exc(limit=-6)[-2000:], _since(start))
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _check_volume(volume: object) -> None:
    from mmrqa.volume import Volume

    assert isinstance(volume, Volume), f"load_volume returned {type(volume).__name__}"
    assert volume.data.ndim == 3 and volume.data.dtype == np.float32, (volume.data.shape, volume.data.dtype)
    assert np.isfinite(volume.data).all(), "volume holds NaN/Inf voxels"
    assert volume.affine.shape == (4, 4) and np.isfinite(volume.affine).all(), f"affine {volume.affine.tolist()}"
    assert len(volume.spacing) == 3 and all(np.isfinite(s) and s > 0 for s in volume.spacing), volume.spacing


def _on_alarm(signum: int, frame: object) -> None:
    raise CaseTimeout()


def _since(start: float) -> float:
    return round(time.perf_counter() - start, 4)
