"""--push-to-hub against the loopback Hub: data and card go up together and load back with load_dataset(repo_id)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.hub


def test_push_then_load_dataset_from_the_hub(mrart, hub, hub_repo_id):
    from datasets import load_dataset
    from huggingface_hub import DatasetCard, HfApi

    from dataset_builder.push import push_dataset

    url = push_dataset(mrart.output, hub_repo_id, private=True)
    assert url.endswith(f"/datasets/{hub_repo_id}")
    files = set(HfApi().list_repo_files(hub_repo_id, repo_type="dataset"))
    assert "README.md" in files and {f for f in files if f.startswith("data/")} == {
        f"data/{s}-00000-of-00001.parquet" for s in ("train", "validation", "test")
    }
    remote_card = DatasetCard.load(hub_repo_id, repo_type="dataset")
    assert remote_card.content == (mrart.output / "README.md").read_text(encoding="utf-8")  # exactly the local card

    remote = load_dataset(hub_repo_id)
    local = load_dataset(str(mrart.output))
    assert {k: len(v) for k, v in remote.items()} == {k: len(v) for k, v in local.items()}
    for split in local:
        assert remote[split].remove_columns("images").to_list() == local[split].remove_columns("images").to_list()
    assert remote["train"][0]["images"][0].tobytes() == local["train"][0]["images"][0].tobytes()


def test_push_is_one_commit_that_removes_stale_shards(mrart, hub, hub_repo_id):
    from huggingface_hub import HfApi

    from dataset_builder.push import push_dataset

    api = HfApi()
    api.create_repo(hub_repo_id, repo_type="dataset")
    stale = "data/train-00001-of-00002.parquet"  # a shard of an earlier, bigger build
    api.upload_file(path_or_fileobj=b"old", path_in_repo=stale, repo_id=hub_repo_id, repo_type="dataset")
    before = len(hub.requests)
    push_dataset(mrart.output, hub_repo_id)
    commits = [path for method, path in hub.requests[before:] if method == "POST" and "/commit/" in path]
    assert len(commits) == 1  # data and card together: never a new card over old data
    files = set(api.list_repo_files(hub_repo_id, repo_type="dataset"))
    assert stale not in files and "data/train-00000-of-00001.parquet" in files and "README.md" in files


def test_cli_push_without_repo_id_is_an_error(mrart, tmp_path, capsys):
    from dataset_builder.__main__ import main

    code = main(["--source", "mr-art", "--input", str(mrart.root), "--output", str(tmp_path), "--push-to-hub"])
    assert code == 2 and "error: --push-to-hub needs --repo-id" in capsys.readouterr().err


def test_push_to_an_unreachable_hub_is_a_hub_error(mrart, hub, hub_repo_id):
    from dataset_builder.push import push_dataset
    from mmrqa.errors import HubError

    with pytest.raises(HubError, match=hub_repo_id):
        push_dataset(mrart.output, hub_repo_id, token="hf_wrongTokenForTheLoopbackHub000000")
