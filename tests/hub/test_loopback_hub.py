"""The loopback Hub, exercised as a user would: through huggingface_hub and datasets, unchanged."""

from __future__ import annotations

import io
from pathlib import Path

import numpy as np
import pytest

pytestmark = pytest.mark.hub

hf = pytest.importorskip("huggingface_hub")


def test_environment_points_at_the_loopback_server(hub):
    from huggingface_hub import constants

    assert constants.ENDPOINT == hub.endpoint
    assert hf.HfApi().whoami()["name"] == "mmrqa-tester"


def test_a_wrong_token_is_refused(hub):
    with pytest.raises(hf.errors.HfHubHTTPError) as excinfo:
        hf.HfApi(token="hf_wrong").whoami()
    assert excinfo.value.response.status_code == 401


def test_create_repo_then_exists_and_conflict(hub, hub_repo_id):
    api = hf.HfApi()
    url = api.create_repo(hub_repo_id, repo_type="dataset", private=True)
    assert url.repo_id == hub_repo_id and url.repo_type == "dataset"
    info = api.dataset_info(hub_repo_id)
    assert info.private is True and info.siblings == [] and len(info.sha) == 40
    assert api.repo_exists(hub_repo_id, repo_type="dataset")
    assert not api.repo_exists(hub_repo_id, repo_type="model")
    with pytest.raises(hf.errors.HfHubHTTPError) as excinfo:
        api.create_repo(hub_repo_id, repo_type="dataset")
    assert excinfo.value.response.status_code == 409
    api.create_repo(hub_repo_id, repo_type="dataset", exist_ok=True)  # no error


def test_upload_folder_and_download_back(hub, hub_repo_id, tmp_path):
    api = hf.HfApi()
    api.create_repo(hub_repo_id)
    folder = tmp_path / "model"
    (folder / "sub").mkdir(parents=True)
    weights = np.random.default_rng(0).standard_normal(4096).astype(np.float32).tobytes()
    (folder / "adapter_model.safetensors").write_bytes(weights)
    (folder / "config.json").write_text('{"r": 8}')
    (folder / "sub" / "notes.txt").write_text("hello")
    commit = api.upload_folder(folder_path=folder, repo_id=hub_repo_id, commit_message="add model")
    assert len(commit.oid) == 40

    assert hub.files(hub_repo_id) == {"adapter_model.safetensors": len(weights), "config.json": 8, "sub/notes.txt": 5}
    # the binary went through the LFS batch + PUT protocol, the text files inline in the commit
    assert any(path.endswith("/info/lfs/objects/batch") for _, path in hub.requests)
    tree = {e.path: e for e in api.list_repo_tree(hub_repo_id, recursive=True)}
    assert tree["adapter_model.safetensors"].lfs.size == len(weights)
    assert tree["config.json"].lfs is None and "sub" in tree

    local = hf.hf_hub_download(hub_repo_id, "adapter_model.safetensors", cache_dir=tmp_path / "cache")
    assert Path(local).read_bytes() == weights
    local = hf.hf_hub_download(hub_repo_id, "sub/notes.txt", cache_dir=tmp_path / "cache")
    assert Path(local).read_text() == "hello"
    assert api.repo_info(hub_repo_id).sha == commit.oid


def test_missing_file_and_folder_raise_typed_errors(hub, hub_repo_id, tmp_path):
    api = hf.HfApi()
    api.create_repo(hub_repo_id)
    api.upload_file(path_or_fileobj=b"x", path_in_repo="a.txt", repo_id=hub_repo_id)
    with pytest.raises(hf.errors.EntryNotFoundError):
        hf.hf_hub_download(hub_repo_id, "missing.txt", cache_dir=tmp_path)
    with pytest.raises(hf.errors.EntryNotFoundError):
        list(api.list_repo_tree(hub_repo_id, path_in_repo="no/such/folder"))
    with pytest.raises(hf.errors.RepositoryNotFoundError):
        hf.hf_hub_download("mmrqa-tester/does-not-exist", "a.txt", cache_dir=tmp_path)
    with pytest.raises(hf.errors.RevisionNotFoundError):
        hf.hf_hub_download(hub_repo_id, "a.txt", revision="v9", cache_dir=tmp_path)
    assert [p.path for p in api.get_paths_info(hub_repo_id, ["a.txt", "nope.txt"])] == ["a.txt"]


def test_delete_file_is_a_new_commit(hub, hub_repo_id):
    api = hf.HfApi()
    api.create_repo(hub_repo_id)
    api.upload_file(path_or_fileobj=b"1", path_in_repo="keep.txt", repo_id=hub_repo_id)
    api.upload_file(path_or_fileobj=b"2", path_in_repo="drop.txt", repo_id=hub_repo_id)
    api.delete_file("drop.txt", repo_id=hub_repo_id)
    assert api.list_repo_files(hub_repo_id) == ["keep.txt"]


def _slice_images(n: int) -> list:
    """Real MRI slices (nibabel's anatomical.nii) as 8-bit PIL images."""
    import importlib.resources

    import nibabel as nib
    from PIL import Image

    data = np.asarray(nib.load(importlib.resources.files("nibabel.tests") / "data" / "anatomical.nii").dataobj)
    data = data.astype(np.float32)
    lo, hi = np.percentile(data, [0.5, 99.5])
    scaled = np.clip((data - lo) / (hi - lo), 0, 1) * 255
    return [Image.fromarray(scaled[:, :, 8 + i].astype(np.uint8)) for i in range(n)]


def test_dataset_with_images_push_to_hub_and_load_back(hub, hub_repo_id):
    datasets = pytest.importorskip("datasets")
    images = _slice_images(4)
    features = datasets.Features(
        {
            "images": datasets.List(datasets.Image()),
            "quality": datasets.Value("int64"),
            "subject": datasets.Value("string"),
        }
    )
    ds = datasets.Dataset.from_dict(
        {"images": [[im] for im in images], "quality": [1, 2, 3, 1], "subject": ["a", "b", "c", "d"]},
        features=features,
    )
    ds.push_to_hub(hub_repo_id, split="train")
    ds.select(range(2)).push_to_hub(hub_repo_id, split="test")
    files = hub.files(hub_repo_id, "dataset")
    assert "README.md" in files and any(p.startswith("data/train-") and p.endswith(".parquet") for p in files)

    loaded = datasets.load_dataset(hub_repo_id)
    assert set(loaded) == {"train", "test"} and loaded["train"].num_rows == 4 and loaded["test"].num_rows == 2
    row = loaded["train"][2]
    assert row["quality"] == 3 and row["subject"] == "c"
    assert np.array_equal(np.asarray(row["images"][0]), np.asarray(images[2]))


def test_model_card_push_and_round_trip(hub, hub_repo_id, tmp_path):
    from huggingface_hub import ModelCard, ModelCardData

    hf.HfApi().create_repo(hub_repo_id)
    data = ModelCardData(license="apache-2.0", tags=["mri", "quality-assessment"], base_model="tiny/base")
    card = ModelCard.from_template(data, model_id="mmrqa-tiny", model_description="A test adapter.")
    card.push_to_hub(hub_repo_id)
    loaded = ModelCard.load(hub_repo_id)
    assert loaded.data.license == "apache-2.0" and loaded.data.tags == ["mri", "quality-assessment"]
    assert "A test adapter." in loaded.text


def test_injected_server_error_reaches_the_caller(hub, hub_repo_id):
    hub.fail_next(1, status=500, match="/api/repos/create")
    with pytest.raises(hf.errors.HfHubHTTPError) as excinfo:
        hf.HfApi().create_repo(hub_repo_id)
    assert excinfo.value.response.status_code == 500
    hf.HfApi().create_repo(hub_repo_id)  # the failure was consumed: the next call succeeds


def test_transient_failure_is_retried_by_the_client(hub, hub_repo_id):
    api = hf.HfApi()
    api.create_repo(hub_repo_id)
    hub.fail_next(1, status=503, match="/preupload/")  # huggingface_hub retries 5xx on preupload with backoff
    api.upload_file(path_or_fileobj=io.BytesIO(b"\x89PNG..."), path_in_repo="x.png", repo_id=hub_repo_id)
    assert hub.files(hub_repo_id) == {"x.png": 7}


def test_dropped_connection_is_an_error_and_leaves_no_commit(hub, hub_repo_id):
    api = hf.HfApi()
    api.create_repo(hub_repo_id)
    hub.fail_next(1, drop=True, match="/commit/")
    with pytest.raises(Exception) as excinfo:  # noqa: B017 - the HTTP client raises a transport error, not a status
        api.upload_file(path_or_fileobj=b"data", path_in_repo="a.txt", repo_id=hub_repo_id)
    # httpx's RemoteProtocolError (body cut short) or ReadError (connection reset), both TransportErrors
    assert "TransportError" in [cls.__name__ for cls in type(excinfo.value).__mro__]
    assert hub.files(hub_repo_id) == {}
    hub.clear_failures()
