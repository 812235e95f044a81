"""The README's code blocks are run as written, so the three user journeys cannot rot.

Every ``bash``/``python`` block of README.md must be preceded by a marker comment:
``<!-- readme-test: offline -->`` (run here as is), ``<!-- readme-test: hub -->`` (run against the loopback Hub server
of tests/hub_server.py, where the placeholder repos are created first), or ``<!-- readme-test: skip (reason) -->``.
Blocks run in a scratch folder holding the files they name (``scan.nii.gz``, ``scans/``, ``dicom_series/``,
``my_scans/``, ``demo_output/adapter``: a link to the adapter that Journey 3's offline commands train with the demo's
recipe); offline blocks run before hub blocks, which reuse what the offline blocks made (the dataset, the adapter).
The generated reference sections must also be up to date with the code.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO_ROOT = Path(__file__).resolve().parents[1]
README = REPO_ROOT / "README.md"
BLOCK = re.compile(r"(?:<!-- readme-test: (?P<mode>[^>]*?) -->\n)?```(?P<lang>\w+)\n(?P<code>.*?)```", re.S)
HUB_ADAPTER_REPO = "me/mmrqa-0.5b-lora"
#: the demo's adapter folder named by Journey 1; here the adapter Journey 3's offline commands train (same recipe)
DEMO_ADAPTER = "demo_output/adapter"


def readme_blocks() -> list[tuple[str, str, str]]:
    """(mode, language, code) of every fenced block, in README order."""
    return [(m["mode"] or "", m["lang"], m["code"]) for m in BLOCK.finditer(README.read_text(encoding="utf-8"))]


def _ordered_runnable() -> list[tuple[str, str, str]]:
    """Offline blocks first (those naming the demo's adapter after the one that trains it), then hub blocks; each
    group in README order."""
    blocks = [b for b in readme_blocks() if b[0] in ("offline", "hub")]
    return sorted(blocks, key=lambda b: (b[0] != "offline", DEMO_ADAPTER in b[2]))


def test_every_block_is_marked_and_skips_say_why():
    blocks = readme_blocks()
    assert len(blocks) >= 10
    for mode, lang, code in blocks:
        assert lang in ("bash", "python"), code
        assert mode in ("offline", "hub") or re.fullmatch(r"skip \(.+\)", mode), f"unmarked README block:\n{code}"


def test_generated_sections_are_up_to_date():
    from mmrqa.docs import render_generated

    text = README.read_text(encoding="utf-8")
    assert render_generated(text) == text, "run `python -m mmrqa.docs README.md` and commit the result"
    assert "| `snr_total` |" in text and "| `motion` |" in text and "| `comparison` |" in text


@pytest.fixture(scope="module")
def workspace(tmp_path_factory) -> Path:
    """A scratch folder with the files the README's commands name, made from real sample scans."""
    pytest.importorskip("dipy")
    pytest.importorskip("nilearn")
    import nibabel as nib

    from mmrqa.data import sample_path
    from mmrqa.demo import link_samples

    root = tmp_path_factory.mktemp("readme")
    nib.save(nib.load(sample_path("t1")), root / "scan.nii.gz")
    (root / "dicom_series").mkdir()
    shutil.copy(sample_path("dicom_t2"), root / "dicom_series" / "IM0001.dcm")
    (root / "scans").mkdir()
    for name in ("t1", "epi", "dicom_enhanced"):
        source = sample_path(name)
        shutil.copy(source, root / "scans" / f"{name}_{source.name}")
    link_samples(root / "my_scans")
    (root / DEMO_ADAPTER).parent.mkdir()
    (root / DEMO_ADAPTER).symlink_to(root / "my-adapter", target_is_directory=True)
    return root


def _run(code: str, lang: str, cwd: Path) -> subprocess.CompletedProcess:
    env = dict(os.environ, PATH=f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}")
    env["PYTHONPATH"] = str(REPO_ROOT)
    if lang == "python":
        script = cwd / "readme_block.py"
        script.write_text(code, encoding="utf-8")
        command = [sys.executable, str(script)]
    else:
        code = code.replace("python train_sft.py", f"python {REPO_ROOT / 'train_sft.py'}")
        code = code.replace("recipes/", f"{REPO_ROOT / 'recipes'}/")
        command = ["bash", "-euo", "pipefail", "-c", code]
    return subprocess.run(command, cwd=cwd, env=env, capture_output=True, text=True, timeout=900)


@pytest.fixture(scope="module")
def hub_repos(hub, workspace):
    """The placeholder Hub repos of the README, created on the loopback Hub from what the offline blocks made."""
    from huggingface_hub import HfApi

    adapter = workspace / "my-adapter"
    assert (adapter / "adapter_model.safetensors").is_file(), "the offline fine-tuning block did not run first"
    api = HfApi(endpoint=hub.endpoint, token=hub.token)
    api.create_repo(HUB_ADAPTER_REPO, exist_ok=True)
    api.upload_folder(
        folder_path=adapter, repo_id=HUB_ADAPTER_REPO, allow_patterns=["*.json", "*.safetensors", "*.md"]
    )
    return api


@pytest.mark.slow
@pytest.mark.parametrize(
    ("mode", "lang", "code"), _ordered_runnable(), ids=lambda v: v if v in ("offline", "hub", "bash", "python") else ""
)
def test_readme_block_runs(mode, lang, code, workspace, request):
    if mode == "hub":
        request.getfixturevalue("hub_repos")
    result = _run(code, lang, workspace)
    assert result.returncode == 0, (
        f"README block failed:\n{code}\n--- stdout\n{result.stdout}\n--- stderr\n{result.stderr}"
    )
    assert "Traceback" not in result.stderr, result.stderr
