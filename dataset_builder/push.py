"""Publishing a built dataset: ``DatasetDict.push_to_hub`` for the data, then the card, to one dataset repo.

The data go up as ``data/<split>-*.parquet`` (``datasets``' own Hub layout, as on disk); the card pushed after them
replaces the README that ``push_to_hub`` writes, so the repo ends with exactly the card that was rendered locally
(same ``configs`` and ``dataset_info``). Failures of the Hub are reported as :class:`mmrqa.errors.HubError`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mmrqa.errors import InvalidArgumentError
from mmrqa.hub import push_with_retries

logger = logging.getLogger(__name__)


def push_dataset(
    output_dir: str | os.PathLike, repo_id: str, *, private: bool = False, token: str | None = None, **retry
) -> str:
    """Push the dataset built in ``output_dir`` and its card to the dataset repo ``repo_id``; returns its URL.

    The whole push is retried on transient Hub failures (``retry``: ``attempts``, ``wait`` of
    :func:`mmrqa.hub.push_with_retries`); the local folder is only read. Raises :class:`mmrqa.errors.HubError`.
    """
    from datasets import load_dataset
    from huggingface_hub import DatasetCard

    output = Path(output_dir)
    try:
        dataset = load_dataset(str(output))
        card = DatasetCard.load(output / "README.md", repo_type="dataset")
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with the folder, the message says which one
        raise InvalidArgumentError(
            f"{output} holds no readable built dataset (data/*.parquet + README.md): {exc}"
        ) from exc

    def push() -> None:
        dataset.push_to_hub(repo_id, private=private, token=token, commit_message="Upload MMRQA dataset (data)")
        card.push_to_hub(repo_id, repo_type="dataset", token=token, commit_message="Upload MMRQA dataset card")

    push_with_retries(push, repo_id=repo_id, local=str(output), repo_type="dataset", **retry)
    from huggingface_hub import constants

    return f"{constants.ENDPOINT}/datasets/{repo_id}"
