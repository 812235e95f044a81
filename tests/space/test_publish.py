"""space/publish.py against the loopback Hub: the published Space starts from its own folder and answers.

The Space repo is downloaded into an empty folder and run with an interpreter that has the third-party packages of
this environment but cannot import the repo's ``mmrqa`` (a fresh venv whose ``.pth`` adds this environment's
site-packages; that folder's own ``.pth`` files, among them the editable install of ``mmrqa``, are not read). So the
app can only run on what the Space repo holds.
"""

from __future__ import annotations

import importlib.util
import subprocess
import sys
import sysconfig
import venv
from pathlib import Path

import pytest

pytestmark = [pytest.mark.hub, pytest.mark.slow]

REPO = Path(__file__).resolve().parents[2]


def _module(name: str, path: Path):
    if name not in sys.modules:
        spec = importlib.util.spec_from_file_location(name, path)
        sys.modules[name] = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(sys.modules[name])
    return sys.modules[name]


def _publish():
    return _module("mmrqa_space_publish", REPO / "space" / "publish.py")


def _third_party_python(folder: Path) -> Path:
    """A Python that imports this environment's packages but not the repo's ``mmrqa``."""
    venv.create(folder, with_pip=False, symlinks=True)
    site = next(folder.glob("lib/python*/site-packages"))
    (site / "third_party.pth").write_text(sysconfig.get_paths()["purelib"] + "\n")
    return folder / "bin" / "python"


def test_staged_space_is_the_app_its_card_requirements_and_the_library(tmp_path):
    publish = _publish()
    staged = publish.stage_space(tmp_path / "space")
    names = {p.relative_to(staged).as_posix() for p in staged.rglob("*") if p.is_file()}
    assert {"app.py", "README.md", "requirements.txt", "mmrqa/__init__.py", "mmrqa/scan_session.py"} <= names
    assert "mmrqa/pipeline/signal_classifier.json" in names and "publish.py" not in names
    assert not any("__pycache__" in n or n.startswith(("tests/", "dataset_builder/")) for n in names)
    readme = (staged / "README.md").read_text()
    assert "../docs/" not in readme and ("space_screenshot.png" not in readme or "space_screenshot.png" in names)
    from mmrqa.errors import InvalidArgumentError

    with pytest.raises(InvalidArgumentError, match="not empty"):
        publish.stage_space(staged)
    for argv in ([], ["--stage-only"]):  # no repo id, nowhere to stage
        with pytest.raises(SystemExit):
            publish.main(argv)


def test_published_space_starts_from_its_own_folder_and_answers(hub, hub_repo_id, tmp_path):
    from gradio_client import Client
    from huggingface_hub import HfApi, metadata_load, snapshot_download

    from mmrqa.data import sample_path
    from mmrqa.pipeline import MMRQAPipeline

    publish = _publish()
    assert publish.main(["--repo-id", hub_repo_id, "--stage-dir", str(tmp_path / "staged")]) == 0
    api = HfApi()
    assert api.repo_info(hub_repo_id, repo_type="space").sdk == "gradio"
    api.upload_file(path_or_fileobj=b"old", path_in_repo="mmrqa/gone.py", repo_id=hub_repo_id, repo_type="space")
    publish.publish_space(hub_repo_id, tmp_path / "staged")  # a second publish removes what the folder lacks
    assert "mmrqa/gone.py" not in api.list_repo_files(hub_repo_id, repo_type="space")
    download = Path(snapshot_download(hub_repo_id, repo_type="space", local_dir=tmp_path / "download"))
    card = metadata_load(download / "README.md")
    assert card["sdk"] == "gradio" and card["app_file"] == "app.py"

    python = _third_party_python(tmp_path / "env")
    probe = subprocess.run([python, "-c", "import mmrqa"], cwd=tmp_path, capture_output=True, text=True)
    assert probe.returncode != 0 and "No module named 'mmrqa'" in probe.stderr  # the repo is out of reach
    requirements = [
        line.split("==")[0] for line in (download / "requirements.txt").read_text().splitlines() if "==" in line
    ]
    check = "import importlib.metadata as m, sys; [m.version(n) for n in sys.argv[1:]]"
    assert subprocess.run([python, "-c", check, *requirements], cwd=tmp_path).returncode == 0  # all installed

    bench = _module("mmrqa_bench_load_test_space", REPO / "benchmarks" / "load_test_space.py")
    log = tmp_path / "app.log"
    with bench.launched_app(log, {"HF_HUB_OFFLINE": "1"}, app=download / "app.py", python=python) as app:
        client = Client(app.url, verbose=False)
        info = client.predict("t1", "axial", api_name="/load_sample")[0]
        assessment = client.predict(api_name="/assess")[3]
        history, _ = client.predict(
            "Rate the overall image quality of this MRI scan as good, medium or bad.", [], "axial", 5, api_name="/ask"
        )
    assert "anatomical.nii" in info
    expected = MMRQAPipeline.metrics_only()(sample_path("t1"))
    assert assessment["mode"] == "metrics-only" and assessment["rating"] == expected.rating
    assert expected.rating in history[-1]["content"][0]["text"]
