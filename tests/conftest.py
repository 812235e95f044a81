"""Shared test fixtures.

At import (before any test module imports ``huggingface_hub`` or ``datasets``, which read their settings once)
the Hub client is pointed at a loopback server on a free port: ``HF_ENDPOINT``, a fake ``HF_TOKEN``, no Xet, no
telemetry, and a throw-away ``HF_HOME`` so that tests never read or write the user's caches. The server itself
starts lazily, the first time a test asks for the ``hub`` fixture.
"""

from __future__ import annotations

import os
import socket
import sys
import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


HUB_PORT = _free_port()
HUB_TOKEN = "hf_mmrqaLoopbackTestToken0000000000"
_HF_HOME = tempfile.mkdtemp(prefix="mmrqa-test-hf-home-")
os.environ.update(
    {
        "HF_ENDPOINT": f"http://127.0.0.1:{HUB_PORT}",
        "HF_TOKEN": HUB_TOKEN,
        "HF_HUB_DISABLE_XET": "1",
        "HF_HUB_DISABLE_TELEMETRY": "1",
        "HF_HUB_DISABLE_PROGRESS_BARS": "1",
        "HF_HOME": _HF_HOME,
        "HF_HUB_OFFLINE": "0",
        "HF_DATASETS_OFFLINE": "0",
    }
)
if "huggingface_hub" in sys.modules:  # a plugin imported it first: its constants were read with other settings
    import warnings

    warnings.warn("huggingface_hub was imported before tests/conftest.py: HF_ENDPOINT may be ignored", stacklevel=1)

REPO_ROOT = Path(__file__).resolve().parents[1]


def tcia_path() -> Path | None:
    """The shared TCIA pelvic T2w scans (``MMRQA_TCIA_DIR`` or ``../shared/data/tcia``), or None when absent."""
    env = os.environ.get("MMRQA_TCIA_DIR")
    path = Path(env) if env else REPO_ROOT.parent / "shared" / "data" / "tcia"
    return path if path.is_dir() else None


@pytest.fixture(scope="session")
def tcia_dir() -> Path:
    """The TCIA folder; the test is skipped when it is absent."""
    path = tcia_path()
    if path is None:
        pytest.skip("shared TCIA data not available (set MMRQA_TCIA_DIR)")
    return path


def _hub_server_module():
    """tests/hub_server.py, imported by path (tests/ is not a package under ``--import-mode=importlib``)."""
    import importlib.util

    name = "mmrqa_tests_hub_server"
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, Path(__file__).with_name("hub_server.py"))
        module = importlib.util.module_from_spec(spec)
        sys.modules[name] = module
        spec.loader.exec_module(module)
    return sys.modules[name]


@pytest.fixture(scope="session")
def hub() -> Iterator:
    """A loopback Hub server (started once per session): ``.endpoint``, ``.token``, ``.fail_next(n, status=500,
    drop=False, match=None)``, ``.files(repo_id, repo_type)``, ``.requests``."""
    pytest.importorskip("fastapi")
    pytest.importorskip("uvicorn")
    server = (
        _hub_server_module()
        .LoopbackHub(HUB_PORT, HUB_TOKEN, Path(tempfile.mkdtemp(prefix="mmrqa-loopback-hub-")))
        .start()
    )
    yield server
    server.stop()


@pytest.fixture
def hub_repo_id(request) -> str:
    """A repo id unique to the test (``mmrqa-tester/<test name>-<n>``), so that tests never share a repo."""
    import secrets

    name = request.node.name.replace("[", "-").replace("]", "").replace("/", "-")[:60]
    return f"mmrqa-tester/{name}-{secrets.token_hex(3)}"
