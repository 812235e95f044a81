"""Publish the MMRQA Space: a self-contained Space folder, uploaded to a Space repo on the Hub.

    python space/publish.py --repo-id user/mmrqa                 # or: make publish-space REPO_ID=user/mmrqa
    python space/publish.py --stage-only --stage-dir build/space   # look at what would be uploaded

A Space runs ``python app.py`` in a copy of its repo after ``pip install -r requirements.txt``; nothing else of this
project is there. The staged folder therefore holds:

- ``app.py`` and ``README.md`` (its YAML front matter is the Space's configuration: sdk, sdk_version, app_file);
- ``requirements.txt``: the third-party packages, pinned;
- ``mmrqa/``: the library itself, as a package folder next to ``app.py`` (Python puts the script's folder first on
  ``sys.path``, so ``import mmrqa`` finds it). Not a wheel named in ``requirements.txt``: Spaces install the
  requirements in a build step that sees ``requirements.txt`` alone, before the repo's files are copied in;
- the page screenshot the README shows.

The bundled example scans ship inside the required packages (nibabel, pydicom-data, dipy), so none is copied.
One commit uploads the folder and removes the files of an earlier publish that are gone (``delete_patterns``); a
transient Hub failure is retried (:func:`mmrqa.hub.push_with_retries`). The token is ``HF_TOKEN`` or ``hf auth
login``'s, as for every ``huggingface_hub`` call.
"""

from __future__ import annotations

import argparse
import shutil
import sys
import tempfile
from pathlib import Path

from mmrqa.errors import InvalidArgumentError, MMRQAError
from mmrqa.fileio import write_text_atomic
from mmrqa.hub import push_with_retries

# huggingface_hub (~0.7 s) is imported where the Space is uploaded.

REPO = Path(__file__).resolve().parents[1]
#: Files of ``space/`` that make up the Space (this script stays behind).
SPACE_FILES = ("app.py", "README.md", "requirements.txt")
SCREENSHOT = "space_screenshot.png"


def stage_space(out: str | Path, repo: Path = REPO) -> Path:
    """Write the self-contained Space folder (see the module docstring) into ``out``, which must be empty or absent.

    Returns:
        ``out``.

    Raises:
        InvalidArgumentError: ``out`` holds files already (staging never mixes two builds).
    """
    out = Path(out)
    if out.exists() and any(out.iterdir()):
        raise InvalidArgumentError(f"{out} is not empty: stage the Space into a new folder")
    out.mkdir(parents=True, exist_ok=True)
    for name in SPACE_FILES:
        shutil.copy2(repo / "space" / name, out / name)
    shutil.copytree(repo / "mmrqa", out / "mmrqa", ignore=shutil.ignore_patterns("__pycache__", "*.pyc", "*.pyo"))
    screenshot = repo / "docs" / SCREENSHOT
    if screenshot.is_file():  # the README points at it in the repo's docs/; in the Space it sits beside the README
        shutil.copy2(screenshot, out / SCREENSHOT)
        readme = out / "README.md"
        write_text_atomic(readme, readme.read_text(encoding="utf-8").replace("../docs/", ""))
    return out


def publish_space(repo_id: str, folder: str | Path, *, private: bool = False, token: str | None = None) -> str:
    """Create the Space repo (Gradio SDK) if needed and upload ``folder`` to it in one commit; returns its URL.

    Raises:
        HubError: the Hub refused or kept failing (named repo, what to do).
    """
    from huggingface_hub import HfApi

    api = HfApi(token=token)

    def push() -> str:
        url = api.create_repo(repo_id, repo_type="space", space_sdk="gradio", private=private, exist_ok=True)
        api.upload_folder(
            folder_path=str(folder),
            repo_id=repo_id,
            repo_type="space",
            commit_message="Publish the MMRQA Space",
            delete_patterns=["*"],  # files of an earlier publish that are gone (uploaded files are kept)
        )
        return str(url)

    return push_with_retries(push, repo_id=repo_id, local=str(folder), repo_type="space")


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repo-id", help="the Space repo, e.g. user/mmrqa (created if missing)")
    parser.add_argument("--private", action="store_true", help="create the Space as private")
    parser.add_argument("--stage-dir", type=Path, help="stage into this (new or empty) folder; default: a temp folder")
    parser.add_argument("--stage-only", action="store_true", help="stage the folder, upload nothing")
    args = parser.parse_args(argv)
    if not args.repo_id and not args.stage_only:
        parser.error("--repo-id is required (or --stage-only)")
    if args.stage_only and not args.stage_dir:
        parser.error("--stage-only needs --stage-dir")
    try:
        with tempfile.TemporaryDirectory(prefix="mmrqa-space-") as tmp:
            folder = stage_space(args.stage_dir or Path(tmp) / "space")
            print(f"staged the Space in {folder}")
            if not args.stage_only:
                print(f"published {publish_space(args.repo_id, folder, private=args.private)}")
    except MMRQAError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
