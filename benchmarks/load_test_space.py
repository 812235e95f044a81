"""Load test of the Space: N concurrent ``gradio_client`` clients for T seconds against ``space/app.py``.

The app runs as its own process on 127.0.0.1 in metrics-only mode (no model), exactly as ``python space/app.py``
starts it; each client is a separate ``gradio_client.Client`` (its own session) that loops over small real scans
(nibabel's T1 NIfTI, pydicom's MR_small.dcm, a PNG slice of the T1): upload + metrics (``/load_scan``), then the
assessment (``/assess``), checking that each answer is about the scan it sent. Latency is measured per call on the
client side (queueing included); any exception or wrong answer is an error.

    python benchmarks/load_test_space.py --clients 20 --seconds 60      # writes benchmarks/results/load_test_space.json

The launcher (:func:`launched_app`) and the load loop (:func:`run_load`) are reused by
``tests/reliability/test_space_hostile.py`` (a short 5-client x 10 s run, and the hostile-use tests).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from types import SimpleNamespace

REPO = Path(__file__).resolve().parents[1]
RESULTS = REPO / "benchmarks" / "results" / "load_test_space.json"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextlib.contextmanager
def launched_app(
    log_path: Path,
    env: dict[str, str] | None = None,
    timeout_s: float = 180,
    *,
    app: Path = REPO / "space" / "app.py",
    python: str | Path = sys.executable,
) -> Iterator[SimpleNamespace]:
    """``python space/app.py`` on a free 127.0.0.1 port, metrics-only, with its own Gradio upload folder and system
    temp folder; yields ``url``, ``gradio`` (upload folder), ``tmpdir`` (its ``TMPDIR``) and ``log``.

    stdout and stderr (INFO logging) go to ``log_path``; ``env`` is added to the environment. Another ``app`` (e.g. a
    published Space downloaded into its own folder) runs from its folder with ``python``, the repo not on its path.
    """
    import httpx

    port = free_port()
    tmp = Path(tempfile.mkdtemp(prefix="mmrqa-space-load-"))
    checkout = Path(app).resolve() == (REPO / "space" / "app.py").resolve()
    full_env = {k: v for k, v in os.environ.items() if k not in ("MMRQA_MODEL", "PYTHONPATH")}
    full_env.update(
        GRADIO_SERVER_NAME="127.0.0.1",
        GRADIO_SERVER_PORT=str(port),
        GRADIO_TEMP_DIR=str(tmp / "gradio"),
        GRADIO_ANALYTICS_ENABLED="False",
        MMRQA_DEMO_ADAPTER=str(tmp / "no-demo-adapter"),
        **({"PYTHONPATH": str(REPO)} if checkout else {}),
        TMPDIR=str(tmp / "tmp"),
        **(env or {}),
    )
    (tmp / "tmp").mkdir(parents=True)
    url = f"http://127.0.0.1:{port}/"
    with open(log_path, "wb") as log:
        cwd = None if checkout else Path(app).parent
        process = subprocess.Popen([str(python), str(app)], cwd=cwd, env=full_env, stdout=log, stderr=log)
        try:
            deadline = time.monotonic() + timeout_s
            while True:
                if process.poll() is not None:
                    raise RuntimeError(f"the app exited with {process.returncode}: {log_path.read_text()[-2000:]}")
                with contextlib.suppress(httpx.HTTPError):
                    if httpx.get(url, timeout=2).status_code == 200:
                        break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"the app did not answer within {timeout_s} s")
                time.sleep(0.5)
            yield SimpleNamespace(url=url, gradio=tmp / "gradio", tmpdir=tmp / "tmp", log=log_path)
        finally:
            process.terminate()
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def sample_scans(folder: Path) -> list[Path]:
    """Small real scans in three upload formats: NIfTI, DICOM, PNG."""
    from mmrqa.data import sample_path
    from mmrqa.io import load_volume
    from mmrqa.render import render_slice

    folder.mkdir(parents=True, exist_ok=True)
    png = folder / "t1_slice.png"
    render_slice(load_volume(sample_path("t1")), 12).save(png)
    return [sample_path("t1"), sample_path("dicom_t2"), png]


def _percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q / 100 * (len(ordered) - 1)))] if ordered else float("nan")


def run_load(url: str, scans: list[Path], clients: int, seconds: float) -> dict:
    """``clients`` threads, each its own session, loop load_scan + assess over ``scans`` for ``seconds``."""
    from gradio_client import Client, handle_file

    latencies: dict[str, list[float]] = {"load_scan": [], "assess": []}
    errors: list[str] = []
    lock = threading.Lock()
    deadline = time.monotonic() + seconds

    def client_loop(k: int) -> None:
        try:
            client = Client(url, verbose=False)
        except Exception as exc:  # noqa: BLE001 - every failure is counted
            with lock:
                errors.append(f"client {k} connect: {type(exc).__name__}: {exc}")
            return
        i = k
        while time.monotonic() < deadline:
            scan = scans[i % len(scans)]
            i += 1
            try:
                start = time.perf_counter()
                metrics = client.predict(handle_file(str(scan)), "axial", api_name="/load_scan")[-1]
                middle = time.perf_counter()
                assessment = client.predict(api_name="/assess")[3]
                end = time.perf_counter()
                if metrics["scan"] != scan.name or not str(assessment["source"]).startswith(scan.name):
                    raise AssertionError(
                        f"answer about {metrics['scan']!r}/{assessment['source']!r}, sent {scan.name}"
                    )
            except Exception as exc:  # noqa: BLE001 - every failure is counted
                with lock:
                    errors.append(f"client {k} {scan.name}: {type(exc).__name__}: {exc}")
                continue
            with lock:
                latencies["load_scan"].append(middle - start)
                latencies["assess"].append(end - middle)

    threads = [threading.Thread(target=client_loop, args=(k,)) for k in range(clients)]
    started = time.monotonic()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=seconds + 300)
    wall = time.monotonic() - started
    summary = {"clients": clients, "seconds": seconds, "wall_s": round(wall, 1), "errors": len(errors)}
    summary["error_samples"] = errors[:10]
    for name, values in latencies.items():
        summary[name] = {
            "requests": len(values),
            "p50_s": round(_percentile(values, 50), 3),
            "p95_s": round(_percentile(values, 95), 3),
            "max_s": round(max(values), 3) if values else None,
            "mean_s": round(statistics.fmean(values), 3) if values else None,
        }
    summary["cycles_per_s"] = round(len(latencies["assess"]) / wall, 2)
    return summary


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--clients", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=60)
    parser.add_argument("--output", type=Path, default=RESULTS)
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        scans = sample_scans(Path(tmp) / "scans")
        with launched_app(Path(tmp) / "app.log") as app:
            summary = run_load(app.url, scans, args.clients, args.seconds)
    summary.update(cpus=os.cpu_count(), python=sys.version.split()[0])
    from mmrqa.fileio import write_text_atomic

    write_text_atomic(args.output, json.dumps(summary, indent=1) + "\n")
    print(json.dumps(summary, indent=1))
    return 0 if summary["errors"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
