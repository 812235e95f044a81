"""Publishing a built dataset: its data shards and its card go to one dataset repo in a single commit.

The folder is already ``datasets``' Hub layout (``data/<split>-XXXXX-of-YYYYY.parquet`` and a ``README.md`` card
whose ``configs`` name those files), so it is uploaded as is with ``HfApi.upload_folder``: one commit holds the
shards and exactly the card rendered locally, so nobody reading the repo ever sees new data with an old card (or a
half-pushed split), and a failed push changes nothing. Shards of an earlier push that this build does not have are
deleted in the same commit. Failures of the Hub are reported as :class:`mmrqa.errors.HubError`.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from mmrqa.errors import InvalidArgumentError
from mmrqa.hub import push_with_retries

# datasets (~1.6 s) and huggingface_hub (~0.7 s) are imported where a push happens.

logger = logging.getLogger(__name__)

#: The data files of a built dataset (``dataset_builder.layout``), relative to its folder.
DATA_FILES = ["data/*.parquet"]


def push_dataset(
    output_dir: str | os.PathLike, repo_id: str, *, private: bool = False, token: str | None = None, **retry
) -> str:
    """Push the dataset built in ``output_dir`` and its card to the dataset repo ``repo_id``; returns its URL.

    The whole push is retried on transient Hub failures (``retry``: ``attempts``, ``wait`` of
    :func:`mmrqa.hub.push_with_retries`); the local folder is only read. Raises :class:`mmrqa.errors.HubError`.
    """
    from datasets import load_dataset
    from huggingface_hub import DatasetCard, HfApi

    output = Path(output_dir)
    try:
        load_dataset(str(output))  # the folder must load as a dataset before anything is sent
        DatasetCard.load(output / "README.md", repo_type="dataset")
    except Exception as exc:  # noqa: BLE001 - whatever is wrong with the folder, the message says which one
        raise InvalidArgumentError(
            f"{output} holds no readable built dataset (data/*.parquet + README.md): {exc}"
        ) from exc

    def push() -> None:
        api = HfApi(token=token)
        api.create_repo(repo_id, repo_type="dataset", private=private, exist_ok=True)
        api.upload_folder(
            folder_path=output,
            repo_id=repo_id,
            repo_type="dataset",
            allow_patterns=[*DATA_FILES, "README.md"],
            delete_patterns=DATA_FILES,  # stale shards of an earlier push; the files uploaded now are kept
            commit_message="Upload MMRQA dataset (data and card)",
        )

    push_with_retries(push, repo_id=repo_id, local=str(output), repo_type="dataset", **retry)
    from huggingface_hub import constants

    return f"{constants.ENDPOINT}/datasets/{repo_id}"
