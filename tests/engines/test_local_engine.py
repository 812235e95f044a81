"""The engine interface without Ray: order, bounded pool, model stage, argument checks, no Ray import by default."""

from __future__ import annotations

import functools
import operator
import os
import subprocess
import sys

import pytest
from nibabel.testing import data_path

from mmrqa.engines import ModelStage, get_engine
from mmrqa.engines.local import LocalEngine
from mmrqa.errors import InvalidArgumentError

T1 = os.path.join(data_path, "anatomical.nii")


def test_pool_results_come_back_in_input_order_and_equal_in_process():
    items = list(range(-40, 40, 3))
    with LocalEngine(workers=2) as pool:
        assert list(pool.map(abs, items)) == [abs(x) for x in items]
    with LocalEngine(workers=1) as serial:
        assert list(serial.map(abs, items)) == [abs(x) for x in items]


def test_pool_keeps_a_bounded_window_in_flight():
    submitted = []

    class Recorder:
        def submit(self, func, item):
            submitted.append(item)
            from concurrent.futures import Future

            future = Future()
            future.set_result(func(item))
            return future

    from mmrqa.engines.local import _ordered_window

    results = _ordered_window(Recorder(), abs, iter(range(100)), window=4)
    assert next(results) == 0 and len(submitted) == 5  # 4 submitted up front, one more once the first is consumed


def test_model_stage_is_set_up_once_and_applied_in_batches():
    calls = []

    def apply(state, batch):
        calls.append(len(batch))
        return [state + x for x in batch]

    stage = ModelStage(functools.partial(int, "100"), apply, batch_size=3)
    assert list(LocalEngine().map(operator.neg, range(7), model=stage)) == [100 - x for x in range(7)]
    assert calls == [3, 3, 1]


def test_exceptions_propagate_with_their_type():
    with pytest.raises(ValueError):
        list(LocalEngine(workers=2).map(int, ["1", "x"]))


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"name": "spark"}, "unknown engine"),
        ({"name": "local", "workers": 0}, "--workers"),
        ({"name": "local", "address": "auto"}, "--address needs --engine ray"),
        ({"name": "ray", "num_gpus": -1}, "--num-gpus"),
    ],
)
def test_invalid_engine_arguments_are_rejected(kwargs, message):
    with pytest.raises(InvalidArgumentError, match=message):
        get_engine(**kwargs)


@pytest.mark.parametrize("kwargs", [{"batch_size": 0}, {"actors": 0}, {"num_gpus": -0.5}])
def test_invalid_model_stage_is_rejected(kwargs):
    with pytest.raises(InvalidArgumentError):
        ModelStage(dict, operator.getitem, **kwargs)


def test_model_stage_on_gpus_gives_one_actor_per_gpu():
    assert ModelStage.on_gpus(dict, operator.getitem, num_gpus=4).actors == 4
    assert ModelStage.on_gpus(dict, operator.getitem, num_gpus=0).num_gpus == 0


def test_the_default_engine_never_imports_ray(tmp_path):
    out = tmp_path / "iqms.tsv"
    code = (
        "import sys\nfrom mmrqa.cli import main\n"
        f"assert main(['metrics', {T1!r}, '-o', {str(out)!r}, '--workers', '2']) == 0\n"
        "import dataset_builder.__main__, mmrqa.cli.assess\n"
        "print(sorted(m for m in sys.modules if m == 'ray' or m.startswith('ray.')))"
    )
    run = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip() == "[]"
    assert len(out.read_text().splitlines()) == 2
