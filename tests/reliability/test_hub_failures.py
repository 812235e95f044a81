"""The Hub failing during a push (issue 11): the loopback Hub answers 500s or drops the connection while the dataset
(``dataset_builder.push``, ``python -m dataset_builder --push-to-hub``) or the adapter (``train_sft.push_adapter``,
what ``train_sft.py --push_to_hub`` calls) is pushed.

Each case must end in one :class:`HubError` that names the repo and says what to do, after a bounded number of
requests (``huggingface_hub``'s own retries times :data:`mmrqa.hub.PUSH_ATTEMPTS`), with the local files
byte-identical, and pushing again once the Hub is back must succeed. Waits between retries are recorded instead of
slept, so the tests are fast and can check the backoff is bounded.
"""

from __future__ import annotations

import importlib.util
import secrets
import sys
import time
from pathlib import Path
from types import SimpleNamespace

import pytest

from mmrqa.errors import HubError
from mmrqa.hub import PUSH_ATTEMPTS

pytestmark = pytest.mark.hub
TESTS = Path(__file__).resolve().parents[1]
#: huggingface_hub's http_backoff: 1 try + 5 retries of one request.
HF_TRIES_PER_REQUEST = 6


def _load(name: str, path: Path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


class _Clock:
    """Stands in for the ``time`` module of a retrying library: records the waits instead of sleeping."""

    def __init__(self) -> None:
        self.waits: list[float] = []

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)

    def __getattr__(self, name):
        return getattr(time, name)


@pytest.fixture
def clock(monkeypatch) -> _Clock:
    clock = _Clock()
    monkeypatch.setattr("huggingface_hub.utils._http.time", clock)
    monkeypatch.setattr("mmrqa.hub.time", clock)
    return clock


@pytest.fixture
def repo_name() -> str:
    """A repo name no route keyword can match by accident (so ``match=`` only hits requests about this repo)."""
    return f"qa{secrets.token_hex(4)}"


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*")) if p.is_file()}


def _requests_about(hub, fragment: str, since: int) -> int:
    return sum(fragment in path for _, path in hub.requests[since:])


def _assert_actionable(error: HubError, repo_id: str, local: Path) -> None:
    message = str(error)
    assert repo_id in message and str(local) in message
    assert "unchanged" in message and "run the same push again" in message
    assert "hf_" not in message, "a token leaked into the error"


@pytest.mark.parametrize("failure", [{"status": 500}, {"drop": True}], ids=["500", "dropped"])
def test_dataset_push_fails_cleanly_after_bounded_retries_then_pushes_again(
    mrart, hub, clock, repo_name, failure, tmp_path
):
    from datasets import load_dataset

    from dataset_builder.push import push_dataset

    repo_id = f"mmrqa-tester/{repo_name}"
    before = _snapshot(mrart.output)
    start = len(hub.requests)
    hub.fail_next(10_000, match=repo_name, **failure)  # every request about this repo fails
    try:
        with pytest.raises(HubError) as caught:
            push_dataset(mrart.output, repo_id)
    finally:
        hub.clear_failures()
    _assert_actionable(caught.value, repo_id, mrart.output)
    assert f"after {PUSH_ATTEMPTS} attempt(s)" in str(caught.value)
    failed = _requests_about(hub, repo_name, start)
    assert PUSH_ATTEMPTS <= failed <= PUSH_ATTEMPTS * HF_TRIES_PER_REQUEST, f"{failed} requests: retries unbounded"
    assert sum(clock.waits) <= PUSH_ATTEMPTS * (1 + 2 + 4 + 8 + 8) + 2 + 4, clock.waits
    assert _snapshot(mrart.output) == before, "the local dataset changed"

    push_dataset(mrart.output, repo_id)  # the Hub is back: the same push succeeds
    remote, local = load_dataset(repo_id), load_dataset(str(mrart.output))
    assert {k: v.num_rows for k, v in remote.items()} == {k: v.num_rows for k, v in local.items()}
    assert remote["train"].remove_columns("images").to_list() == local["train"].remove_columns("images").to_list()
    assert set(hub.files(repo_id, "dataset")) == {
        "README.md",
        *(f"data/{s}-00000-of-00001.parquet" for s in local),
    }


def test_transient_commit_failures_are_retried_to_success(mrart, hub, clock, repo_name):
    from dataset_builder.push import push_dataset

    repo_id = f"mmrqa-tester/{repo_name}"
    hub.fail_next(PUSH_ATTEMPTS - 1, status=503, match=f"{repo_name}/commit/")
    try:
        push_dataset(mrart.output, repo_id)
    finally:
        hub.clear_failures()
    assert len([w for w in clock.waits if w >= 2]) <= PUSH_ATTEMPTS - 1
    assert "README.md" in hub.files(repo_id, "dataset")


def test_a_permanent_failure_is_not_retried(mrart, hub, clock, repo_name):
    from dataset_builder.push import push_dataset

    repo_id = f"mmrqa-tester/{repo_name}"
    with pytest.raises(HubError, match="check the token") as caught:
        push_dataset(mrart.output, repo_id, token="hf_wrongTokenForTheLoopbackHub000000")
    assert "after" not in str(caught.value).split(":")[0] and clock.waits == []
    assert "hf_wrongToken" not in str(caught.value)


def test_builder_cli_push_failure_is_an_error_line_and_the_build_stays(mrart, hub, clock, repo_name, capsys):
    from dataset_builder.__main__ import main

    repo_id = f"mmrqa-tester/{repo_name}"
    out = mrart.output.parent / f"cli-{repo_name}"
    argv = ["--source", "mr-art", "--input", str(mrart.root), "--output", str(out)]
    argv += [
        "--config",
        str(mrart.config_path),
        "--cache-dir",
        str(mrart.cache),
        "--push-to-hub",
        "--repo-id",
        repo_id,
    ]
    hub.fail_next(10_000, drop=True, match=repo_name)
    try:
        code = main(argv)
    finally:
        hub.clear_failures()
    err = capsys.readouterr().err
    lines = [line for line in err.replace("\r", "\n").splitlines() if line.startswith("error: ")]
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error: cannot push") and repo_id in lines[0]
    assert "Traceback" not in err
    built = _snapshot(out)
    assert any(name.startswith("data/") for name in built) and "README.md" in built
    assert main(argv) == 0  # pushing again (the build comes from the cache) succeeds
    assert _snapshot(out) == built
    assert "README.md" in hub.files(repo_id, "dataset")


@pytest.fixture(scope="module")
def adapter_dir(tmp_path_factory) -> Path:
    """A LoRA adapter folder as ``train_sft.py`` leaves it: peft adapter (safetensors), processor, a checkpoint."""
    peft = pytest.importorskip("peft")
    from mmrqa.modeling import build_tiny_model, load_base_model, load_processor, lora_target_regex

    base = build_tiny_model(tmp_path_factory.mktemp("tiny-base"), seed=0)
    out = tmp_path_factory.mktemp("adapter") / "tiny-mmrqa-lora"
    model = peft.get_peft_model(load_base_model(base), peft.LoraConfig(r=4, target_modules=lora_target_regex()))
    model.save_pretrained(out)
    load_processor(base).save_pretrained(out)
    (out / "checkpoint-10").mkdir()
    (out / "checkpoint-10" / "trainer_state.json").write_text('{"global_step": 10}')
    return out


@pytest.mark.parametrize("failure", [{"status": 500}, {"drop": True}], ids=["500", "dropped"])
def test_adapter_push_fails_cleanly_then_pushes_again(adapter_dir, hub, clock, repo_name, failure):
    train_sft = _load("train_sft", TESTS.parent / "train_sft.py")
    repo_id = f"mmrqa-tester/{repo_name}"
    args = SimpleNamespace(output_dir=str(adapter_dir), hub_model_id=repo_id, hub_token=None, hub_private_repo=False)
    before = _snapshot(adapter_dir)
    start = len(hub.requests)
    hub.fail_next(10_000, match=repo_name, **failure)
    try:
        with pytest.raises(HubError) as caught:
            train_sft.push_adapter(args)
    finally:
        hub.clear_failures()
    _assert_actionable(caught.value, repo_id, adapter_dir)
    assert _requests_about(hub, repo_name, start) <= PUSH_ATTEMPTS * HF_TRIES_PER_REQUEST
    assert _snapshot(adapter_dir) == before, "the local adapter changed"

    assert train_sft.push_adapter(args) == repo_id
    remote = hub.files(repo_id)
    assert {"adapter_model.safetensors", "adapter_config.json"} <= set(remote)
    assert remote["adapter_model.safetensors"] == len(before["adapter_model.safetensors"])
    assert not any(name.startswith(("checkpoint-", ".")) for name in remote)
