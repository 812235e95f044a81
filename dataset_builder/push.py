"""Publishing a built dataset: ``DatasetDict.push_to_hub`` for the data, then the card, to one dataset repo.

The data go up as ``data/<split>-*.parquet`` (``datasets``' own Hub layout, as on disk); the card pushed after them
replaces the README that ``push_to_hub`` writes, so the repo ends with exactly the card that was rendered locally
(same ``configs`` and ``dataset_info``). Failures of the Hub are reported as :class:`mmrqa.errors.HubError`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mmrqa.errors import HubError

logger = logging.getLogger(__name__)


def push_dataset(
    output_dir: str | os.PathLike, repo_id: str, *, private: bool = False, token: str | None = None
) -> str:
    """Push the dataset built in ``output_dir`` and its card to the dataset repo ``repo_id``; returns its URL."""
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    output = Path(output_dir)
    try:
        dataset = load_dataset(str(output))
        dataset.push_to_hub(repo_id, private=private, token=token, commit_message="Upload MMRQA dataset (data)")
        card = DatasetCard.load(output / "README.md", repo_type="dataset")
        card.push_to_hub(repo_id, repo_type="dataset", token=token, commit_message="Upload MMRQA dataset card")
    except Exception as exc:  # noqa: BLE001 - network, auth and server errors all become one actionable message
        raise HubError(
            f"cannot push {output} to the Hub dataset repo {repo_id!r}: {type(exc).__name__}: {exc}"
        ) from exc
    from huggingface_hub import constants

    return f"{constants.ENDPOINT}/datasets/{repo_id}"
