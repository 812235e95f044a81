"""The Space launched on 127.0.0.1 and driven with gradio_client, the way an API user (or the page) drives it."""

from __future__ import annotations

import json
import threading
import zipfile
from pathlib import Path

import numpy as np
import pytest

gradio_client = pytest.importorskip("gradio_client")
from gradio_client import Client, handle_file  # noqa: E402
from gradio_client.exceptions import AppError  # noqa: E402

from mmrqa.metrics import compute_metrics  # noqa: E402
from mmrqa.pipeline import MMRQAPipeline  # noqa: E402
from mmrqa.uploads import load_upload  # noqa: E402

from .conftest import TEST_UPLOAD_LIMIT  # noqa: E402


@pytest.fixture
def client(space_app) -> Client:
    return Client(space_app[1], verbose=False)


def _load(client: Client, path: Path, plane: str = "axial"):
    info, slider, image, table, series, plot, metrics = client.predict(
        handle_file(str(path)), plane, api_name="/load_scan"
    )
    return {"info": info, "slider": slider, "image": image, "table": table, "series": series, "metrics": metrics}


@pytest.mark.parametrize("kind", ["nifti", "dicom", "dicom_zip", "mhd_zip", "png"])
def test_upload_gives_metrics_viewer_and_assessment(client, scans, kind):
    from PIL import Image

    path = scans[kind]
    out = _load(client, path)
    volume = load_upload(path)
    expected = compute_metrics(volume)
    assert out["metrics"]["scan"] == Path(path).name
    for name, value in expected.values.items():  # the page shows this scan's own numbers
        got = out["metrics"]["values"][name]
        assert (got is None and not np.isfinite(value)) or got == pytest.approx(value, rel=1e-12)
    table = out["table"]
    assert table["headers"][:3] == ["light", "metric", "value"] and table["data"]
    from mmrqa.metrics.context import context_of
    from mmrqa.metrics.ranges import catalogue_for
    from mmrqa.presentation import traffic_light

    words = {"green": "ok", "amber": "borderline", "red": "out", "grey": "n/a"}
    catalogue = catalogue_for(context_of(volume, expected))
    for row in table["data"]:  # each light is this scan's value judged against the range that fits the scan
        assert row[0] == words[traffic_light(row[1], expected.values[row[1]], catalogue)]
    image = Image.open(out["image"])
    assert image.format == "PNG" and image.mode in ("L", "RGB", "RGBA")  # lossless PNG, not webp
    assert np.asarray(image).std() > 5  # a real slice, not a blank
    assert out["slider"]["maximum"] == max(load_upload(path).shape[2] - 1, 1)

    session_out = client.predict(api_name="/assess")
    rating_md, artifacts, report_md, assessment, files, table = session_out
    direct = MMRQAPipeline.metrics_only()(load_upload(path))
    assert assessment["rating"] == direct.rating in ("good", "medium", "bad")
    assert f"Rating: {direct.rating}" in rating_md and "Metrics-only mode" in rating_md
    assert assessment["metrics"] == pytest.approx(json.loads(direct.to_json())["metrics"], nan_ok=True)
    assert assessment["mode"] == "metrics-only" and report_md.startswith("> Overall quality")
    json_file = next(f for f in files if f.endswith(".json"))
    md_file = next(f for f in files if f.endswith(".md"))
    assert json.loads(Path(json_file).read_text())["rating"] == direct.rating
    assert Path(md_file).read_text().startswith("### ")


def test_assess_judges_against_an_uploaded_cohort_table(client, scans, tmp_path):
    """The optional reference cohort: the lights and the verdict against the user's own scans, as with
    ``mmrqa assess --reference``; a file that is no metrics table gets a clear message."""
    from mmrqa.metrics.cohort import CohortReference

    path = scans["nifti"]
    _load(client, path)
    values = compute_metrics(load_upload(path)).values
    names = sorted(values)
    rows = ["path\t" + "\t".join(names)]  # a cohort of 12 scans like this one, but with a far lower EFC
    for i in range(12):
        cohort = {n: values[n] * (1 + 0.01 * (i % 4)) for n in names} | {"efc": 0.3 + 0.001 * i}
        rows.append(f"s{i}.nii\t" + "\t".join(repr(float(cohort[n])) for n in names))
    table = tmp_path / "cohort.tsv"
    table.write_text("\n".join(rows) + "\n")
    rating_md, _, _, assessment, _, shown = client.predict(handle_file(str(table)), api_name="/assess")
    want = MMRQAPipeline.metrics_only(reference=CohortReference.from_table(table))(load_upload(path))
    assert assessment["reference"] == want.reference and assessment["reference"].startswith("cohort cohort.tsv")
    assert assessment["metric_info"]["efc"]["light"] == want.metric_info["efc"]["light"] == "red"
    assert assessment["rating"] == want.rating and assessment["cohort_note"] == want.cohort_note
    assert "**Judged with:** cohort cohort.tsv (12 scans)" in rating_md
    efc_row = next(row for row in shown["data"] if row[1] == "efc")  # the table shows the lights the verdict used
    high = CohortReference.from_table(table).bounds("efc", False)[1]
    assert efc_row[0] == "far out" and efc_row[4] == f"acceptable when at most {high:.3g}"
    other = tmp_path / "notes.tsv"
    other.write_text("name\tvalue\na\t1\n")
    with pytest.raises(AppError, match="not a `mmrqa metrics` table"):
        client.predict(handle_file(str(other)), api_name="/assess")


def test_viewer_planes_and_slider(client, scans):
    from PIL import Image

    out = _load(client, scans["nifti"])  # 33 x 41 x 25 at 2 mm
    assert out["slider"]["maximum"] == 24
    slider, image, _ = client.predict("coronal", "slice_snr", api_name="/change_plane")
    assert slider["maximum"] == 40 and Image.open(image).size == (33, 25)
    image, plot = client.predict("axial", 3, "slice_snr", api_name="/show_slice")
    assert Image.open(image).size == (33, 41)
    rows = [dict(zip(plot["columns"], row, strict=True)) for row in plot["data"]]
    marker = [row for row in rows if row["series"] == "current slice"]
    snr = [row["value"] for row in rows if row["series"] == "slice_snr"]
    assert len(snr) == 25  # one SNR per axial slice, and a vertical marker spanning them at the current slice
    assert [row["slice"] for row in marker] == [3, 3] and {row["value"] for row in marker} == {min(snr), max(snr)}
    first, _ = client.predict("axial", 3, "slice_snr", api_name="/show_slice")
    other, _ = client.predict("axial", 20, "slice_snr", api_name="/show_slice")
    assert not np.array_equal(np.asarray(Image.open(first)), np.asarray(Image.open(other)))


def test_bundled_example_and_chat(client):
    out = client.predict("epi", "axial", api_name="/load_sample")
    assert "S0_10slices.nii.gz" in out[0]
    history, box = client.predict(
        "Rate the overall image quality of this MRI scan as good, medium or bad.", [], "axial", 5, api_name="/ask"
    )
    assert box == ""
    assessment = MMRQAPipeline.metrics_only()(load_upload(__import__("mmrqa.data").data.sample_path("epi")))
    answer = history[-1]["content"][0]["text"]
    assert assessment.rating in answer and "metrics-only mode" in answer
    assert "slice 5" in history[-2]["content"][0]["text"]
    history, _ = client.predict(
        "What is the efc of this scan, and is it within the acceptable range?", history, "axial", 5, api_name="/ask"
    )
    assert "efc = " in history[-1]["content"][0]["text"]


def _bad_files(tmp: Path, scans) -> dict[str, tuple[Path, str]]:
    (tmp / "empty.nii").write_bytes(b"")
    (tmp / "notes.txt").write_text("hello")
    (tmp / "broken.nii.gz").write_bytes(b"\x1f\x8b\x08\x00garbage")
    (tmp / "huge.nii").write_bytes(bytes(TEST_UPLOAD_LIMIT + 1))
    with zipfile.ZipFile(tmp / "evil.zip", "w") as zf:
        zf.writestr("../../outside.dcm", Path(scans["dicom"]).read_bytes())
    with zipfile.ZipFile(tmp / "bomb.zip", "w", zipfile.ZIP_DEFLATED) as zf:
        zf.writestr("zeros.dcm", bytes(32 * 1024**2))
    return {
        "empty": (tmp / "empty.nii", "empty"),
        "wrong type": (tmp / "notes.txt", "notes.txt: unsupported file type"),
        "corrupt": (tmp / "broken.nii.gz", "broken.nii.gz"),
        "huge": (tmp / "huge.nii", "exceeds the maximum file size"),
        "path traversal": (tmp / "evil.zip", "path traversal"),
        "zip bomb": (tmp / "bomb.zip", "zip bomb"),
    }


def test_bad_uploads_give_a_clear_message(client, scans, tmp_path):
    for label, (path, message) in _bad_files(tmp_path, scans).items():
        # "huge" is refused before the upload (gradio_client reads the app's max_file_size; the server enforces it too)
        with pytest.raises(ValueError if label == "huge" else AppError) as info:
            client.predict(handle_file(str(path)), "axial", api_name="/load_scan")
        text = str(info.value)
        assert message.lower() in text.lower(), f"{label}: {text}"
        assert "Traceback" not in text
    assert not (tmp_path.parent / "outside.dcm").exists()
    import httpx  # the server refuses the huge file too, for clients that do not check first

    with open(tmp_path / "huge.nii", "rb") as handle:
        response = httpx.post(client.src.rstrip("/") + "/gradio_api/upload", files={"files": handle}, timeout=60)
    assert response.status_code == 413, response.text
    with pytest.raises(AppError, match="Load a scan first"):
        Client(client.src, verbose=False).predict(api_name="/assess")


def test_ten_concurrent_clients_each_get_their_own_result(space_app, scans, tmp_path):
    """Ten sessions, ten different scans, all at once through the queue: each gets its own metrics and rating."""
    import nibabel as nib

    from mmrqa.data import add_rician_noise, sample_path
    from mmrqa.io import load_volume

    paths = [scans[k] for k in ("nifti", "epi", "dicom", "dicom_zip", "png")] + [sample_path("dicom_enhanced")]
    t1 = load_volume(scans["nifti"])
    variants = {
        "t1_top": t1.data[:, :, 6:],
        "t1_front": t1.data[:, 8:, :],
        "t1_noisy": add_rician_noise(t1.data, 30.0, seed=1),
        "t1_noisier": add_rician_noise(t1.data, 90.0, seed=2),
    }
    for name, data in variants.items():
        path = tmp_path / f"{name}.nii.gz"
        nib.save(nib.Nifti1Image(np.ascontiguousarray(data), t1.affine), path)
        paths.append(path)
    assert len(paths) == 10
    expected = [MMRQAPipeline.metrics_only()(load_upload(p)) for p in paths]
    results: dict[int, tuple] = {}

    def run(k: int) -> None:
        try:
            own = Client(space_app[1], verbose=False)
            loaded = own.predict(handle_file(str(paths[k])), "axial", api_name="/load_scan")
            results[k] = (loaded[-1], own.predict(api_name="/assess")[3])
        except Exception as exc:  # reported below with its index
            results[k] = (exc, None)

    threads = [threading.Thread(target=run, args=(k,)) for k in range(10)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=240)
    for k, want in enumerate(expected):
        metrics, assessment = results[k]
        assert assessment is not None, f"client {k} failed: {metrics}"
        assert metrics["scan"] == Path(paths[k]).name
        assert assessment["source"].startswith(Path(paths[k]).name)
        assert assessment["rating"] == want.rating
        assert assessment["metrics"]["efc"] == pytest.approx(want.metrics["efc"], rel=1e-12)
    assert len({results[k][1]["metrics"]["efc"] for k in range(10)}) == 10  # ten different scans, ten answers


def test_assess_takes_the_share_of_clean_scans_in_the_workload(client, scans):
    """The slider beside "Assess quality": the verdict's prior, as ``mmrqa assess --clean-share``; its default is
    the classifier's own, which leaves the verdict as it was."""
    from space.app import default_clean_share

    path = scans["nifti"]
    _load(client, path)
    _, _, _, default, _, _ = client.predict(None, default_clean_share(), api_name="/assess")
    rating_md, _, _, screening, _, _ = client.predict(None, 0.5, api_name="/assess")
    want = MMRQAPipeline.metrics_only().with_clean_share(0.5)(load_upload(path))
    assert screening["signal_estimate"]["clean_share"] == 0.5 and screening["rating"] == want.rating
    assert screening["confidence"] == want.confidence and "if 50% of the scans you assess are clean" in rating_md
    p = default["signal_estimate"]["probabilities"]["presence"]["artifact"]
    assert screening["signal_estimate"]["probabilities"]["presence"]["artifact"] > p
    assert default["signal_estimate"]["clean_share"] == default_clean_share()
