"""The signal classifier on real files: clean packaged scans pass, non-MRI inputs are outside the domain, the model
loads without pickle, the exported trees are scikit-learn's, and the recipe is deterministic."""

from __future__ import annotations

import importlib.util
import json
import time
import zipfile
from pathlib import Path

import numpy as np
import pytest

from mmrqa.artifacts import simulate
from mmrqa.classifier import DEFAULT_MODEL_PATH, SignalModel, classify, decide, feature_names, load_model
from mmrqa.data import SAMPLES, load_sample, tcia_dir
from mmrqa.io import load_volume
from mmrqa.volume import Volume

#: clean real scans that ship with the installed packages (mni152 is the noise-free template)
CLEAN_SAMPLES = tuple(SAMPLES)


def _dicom(name: str) -> Path:
    from pydicom.data import get_testdata_file

    found = get_testdata_file(name, download=False)
    if not found:
        pytest.skip(f"pydicom test file {name} missing")
    return Path(found)


def test_model_file_is_plain_arrays_and_loads_fast():
    with zipfile.ZipFile(DEFAULT_MODEL_PATH) as archive:
        assert all(name.endswith(".npy") for name in archive.namelist())
    with np.load(DEFAULT_MODEL_PATH, allow_pickle=False) as npz:  # raises if anything needs unpickling
        arrays = {k: npz[k] for k in npz.files}
    assert all(a.dtype != object for a in arrays.values())
    start = time.perf_counter()
    model = SignalModel.load(DEFAULT_MODEL_PATH)
    assert time.perf_counter() - start < 0.5
    assert model.features == list(feature_names()) and "fg_mean" not in model.features
    assert model.classes("severity") == ["mild", "moderate", "none", "severe"]
    assert model.meta["provenance"]["script"] == "python -m mmrqa.classifier.fit"
    assert (DEFAULT_MODEL_PATH.parent / "card.md").is_file()


def test_the_card_reports_the_shipped_model_on_the_test_scans_it_never_saw():
    from mmrqa.classifier.data import TEST_SCANS

    model = SignalModel.load(DEFAULT_MODEL_PATH)
    unseen = model.meta["test_scans"]
    assert sorted(unseen["scans"]) == sorted(TEST_SCANS)
    assert not set(unseen["scans"]) & set(
        model.meta["provenance"]["trained_on"] + model.meta["provenance"]["calibrated_on"]
    )
    assert unseen["scores"]["n_native"] == len(TEST_SCANS) and unseen["scores"]["n_modsev"] > 0
    card = (DEFAULT_MODEL_PATH.parent / "card.md").read_text(encoding="utf-8")
    assert "## The shipped model on its test scans" in card
    assert f"moderate/severe artifacts found {100 * unseen['scores']['modsev_presence']:.1f}%" in card


@pytest.mark.parametrize("name", CLEAN_SAMPLES)
def test_clean_packaged_scans_pass(name):
    verdict = classify(load_sample(name))
    assert verdict.in_domain, verdict.domain_reason
    assert verdict.quality in (1, 2) and verdict.severity != "severe", verdict


def test_clean_tcia_scans_pass():
    folder = tcia_dir()
    if folder is None:
        pytest.skip("the shared TCIA scans are not here")
    for path in sorted(folder.glob("*.nii.gz")):
        verdict = classify(load_volume(path))
        assert verdict.in_domain, (path.name, verdict)
        assert verdict.quality in (1, 2) and verdict.severity != "severe", (path.name, verdict)


def _plain(volume: Volume) -> Volume:
    """The same pixels with no metadata (as if saved to NIfTI): the image itself must give it away."""
    return Volume(volume.data, volume.spacing, volume.affine, {})


def _non_mri() -> dict[str, Volume]:
    rng = np.random.default_rng(0)
    eye = np.eye(4)
    ct = load_volume(_dicom("693_UNCR.dcm"))
    t1 = load_sample("mni152")
    ramp = np.linspace(0.0, 1000.0, 128, dtype=np.float32)
    cases = {
        "CT (DICOM)": load_volume(_dicom("CT_small.dcm")),
        "CT in Hounsfield units, no metadata": _plain(ct),
        "radiograph (DICOM CR)": load_volume(_dicom("RG1_UNCR.dcm")),
        "ultrasound (DICOM US)": load_volume(_dicom("US1_UNCR.dcm")),
        "uniform random image": Volume(rng.random((64, 64, 24), dtype=np.float32), (1, 1, 1), eye, {}),
        "Gaussian random image 2D": Volume(
            np.abs(rng.normal(100, 20, (256, 256, 1))).astype(np.float32), (1, 1, 1), eye, {}
        ),
        "segmentation mask": t1.with_data((t1.data > np.percentile(t1.data, 60)).astype(np.float32)),
        "gradient ramp": Volume(np.tile(ramp, (128, 1))[:, :, None], (1, 1, 1), eye, {}),
        "constant-ish image": Volume((1000 + rng.normal(0, 0.5, (64, 64, 16))).astype(np.float32), (1, 1, 1), eye, {}),
    }
    if importlib.util.find_spec("skimage") is not None:
        import skimage.data

        pictures = Path(skimage.data.__file__).parent
        for name in ("astronaut.png", "coffee.png", "chelsea.png", "rocket.jpg"):
            cases[f"colour photograph {name}"] = load_volume(pictures / name)
    return cases


@pytest.mark.parametrize("kind", list(_non_mri()))
def test_non_mri_inputs_are_outside_the_domain(kind):
    verdict = classify(_non_mri()[kind])
    assert verdict.in_domain is False and verdict.domain_reason, verdict
    assert verdict.quality is None and verdict.artifact is None


def test_low_confidence_withholds_the_verdict(monkeypatch):
    from mmrqa.artifacts import simulate
    from mmrqa.classifier import predict
    from mmrqa.pipeline import MMRQAPipeline

    monkeypatch.setattr(predict, "MIN_CONFIDENCE", 1.01)  # no kind is ever settled
    noisy, _ = simulate(load_sample("epi"), "noise", "severe", 0)
    result = MMRQAPipeline.metrics_only()(noisy)
    assert result.in_domain is True and result.artifacts == [] and result.rating in ("medium", "bad")
    assert "the metrics do not settle its kind" in result.report and result.confidence is not None


def test_exported_trees_reproduce_scikit_learn():
    pytest.importorskip("sklearn")
    from sklearn.ensemble import GradientBoostingClassifier

    from mmrqa.classifier.trees import export

    rng = np.random.default_rng(0)
    x = rng.normal(size=(300, 6))
    x[rng.random(x.shape) < 0.1] = -1e9  # the MISSING stand-in
    for n_classes in (2, 4):
        y = np.array([str(v) for v in (x[:, 0] > 0).astype(int) + (x[:, 1] > 0.5) * (n_classes - 2)])
        clf = GradientBoostingClassifier(n_estimators=20, max_depth=3, random_state=0).fit(x.astype(np.float32), y)
        trees = export(clf, x)
        test = rng.normal(size=(50, 6))
        np.testing.assert_allclose(
            trees.raw(test)[:, -clf.estimators_.shape[1] :], clf.decision_function(test).reshape(50, -1), atol=1e-9
        )


def test_refit_is_deterministic():
    """The cheap version: one scan's table twice (views, artifacts, features), and a head fitted twice on it."""
    pytest.importorskip("sklearn")
    from mmrqa.classifier.data import real_scans, scan_rows
    from mmrqa.classifier.model import fit_head
    from mmrqa.classifier.validation import arrays

    scan = next(s for s in real_scans() if s.name == "dicom_t2")
    first, second = scan_rows(scan), scan_rows(scan)
    assert len(first) > 100 and [r.keys() for r in first] == [r.keys() for r in second]
    assert np.array_equal(arrays(first)[0], arrays(second)[0])
    x, labels, _ = arrays(first)
    a, b = fit_head(x, labels["severity"], seed=0), fit_head(x, labels["severity"], seed=0)
    assert np.array_equal(a.threshold, b.threshold) and np.array_equal(a.value, b.value)


def test_temperatures_are_fitted_on_scans_the_heads_never_saw():
    """Cross-fitted calibration: labels that only memorising each scan can fit (a kind drawn at random per scan, and
    a feature that names the scan) are fitted perfectly in sample and are chance out of fold; the temperature,
    fitted out of fold, flattens the probabilities, where one fitted on the training rows would sharpen them."""
    pytest.importorskip("sklearn")
    from mmrqa.classifier.model import fit_head, fit_model, fit_temperature, fold_of, head_rows

    rng = np.random.default_rng(0)
    scans = [f"scan{i}" for i in range(9)]
    groups, kinds, severities, x = [], [], [], []
    for i, scan in enumerate(scans):
        kind = ("noise", "blur")[int(rng.integers(2))]
        for j in range(40):
            clean = j % 2 == 0
            groups.append(scan)
            kinds.append("none" if clean else kind)
            severities.append("none" if clean else "severe")
            x.append([i + rng.normal(0, 0.05), float(clean) + rng.normal(0, 0.3), *rng.normal(size=3)])
    groups, x = np.array(groups), np.array(x)
    labels = {"artifact": np.array(kinds), "severity": np.array(severities)}

    fold = fold_of(groups)
    assert all(len(set(fold[groups == scan])) == 1 for scan in scans)  # a scan's rows stay in one fold
    assert sorted(np.bincount(fold).tolist()) == [120, 120, 120]

    model, oof = fit_model(x, labels, groups, [f"f{k}" for k in range(5)])
    rows, y = head_rows(labels)["artifact"]
    classes = model.classes("artifact")
    in_sample = fit_temperature(model.raw("artifact", x[rows]), np.array([classes.index(c) for c in y[rows]]))
    assert in_sample < 1.0  # the trees memorised the scans: their own rows call for sharper probabilities
    assert model.temperature["artifact"] > 3.0  # out of fold the kind is chance: flattened towards 50/50
    held = fold == 0  # the first fold's rows are scored by heads fitted on the other folds' scans alone
    alone = fit_head(x[rows & ~held], y[rows & ~held], seed=0)
    assert alone.classes == oof.classes["artifact"]
    assert np.allclose(oof.raw["artifact"][rows & held], alone.raw(x[rows & held]))


def test_the_number_of_calibration_folds_reaches_the_decision_rule():
    """``fit_rows(..., folds=k)`` (the benchmark's ``--calibration-folds``) cross-fits on k grouped folds and says so in
    the decision rule it chooses; the shipped model cannot be judged with another number (nothing is refitted)."""
    pytest.importorskip("sklearn")
    from mmrqa.classifier.benchmark import main as benchmark
    from mmrqa.classifier.validation import fit_rows

    rng = np.random.default_rng(1)
    rows = []
    for s in range(8):
        for j in range(30):
            kind = ("none", "noise", "blur")[j % 3]
            values = {name: float(rng.normal()) for name in feature_names()}
            values["hf_noise"] += 3.0 * (kind == "noise")
            values["sharpness"] -= 3.0 * (kind == "blur")
            severity = "none" if kind == "none" else ("moderate", "severe")[j % 2]
            rows.append({"scan": f"scan{s}", "view": j, "kind": kind, "severity": severity, **values})
    model = fit_rows(rows, seed=0, folds=4)
    assert "(4 grouped folds" in model.meta["decision"]["chosen_on"]
    with pytest.raises(SystemExit) as refused:
        benchmark(["--shipped", "--calibration-folds", "6"])
    assert refused.value.code == 2


def test_the_refit_records_the_versions_that_can_change_its_arrays():
    from mmrqa.classifier.fit import FITTING_PACKAGES, _versions

    found = _versions(("numpy", "no-such-package-mmrqa"))
    assert found == {"numpy": np.__version__, "no-such-package-mmrqa": "absent"}
    assert {"numpy", "scikit-learn", "pillow"} <= set(FITTING_PACKAGES)


def test_shipped_model_decides_from_features_alone():
    model = load_model()
    verdict = decide(model, {name: float("nan") for name in feature_names()})
    assert isinstance(verdict.in_domain, bool)


@pytest.mark.parametrize("content", [b"not an npz", b"PK\x03\x04 broken zip"])
def test_damaged_model_file_raises_model_load_error(tmp_path, content):
    from mmrqa.errors import ModelLoadError

    path = tmp_path / "model.npz"
    path.write_bytes(content)
    with pytest.raises(ModelLoadError, match="model.npz"):
        SignalModel.load(path)
    with pytest.raises(ModelLoadError, match="does not exist"):
        SignalModel.load(tmp_path / "missing.npz")


def test_an_npz_of_another_kind_is_refused(tmp_path):
    from mmrqa.errors import ModelLoadError

    path = tmp_path / "other.npz"
    np.savez(path, meta=np.asarray('{"format": "something else"}'))
    with pytest.raises(ModelLoadError, match="not an MMRQA signal classifier"):
        SignalModel.load(path)


def test_per_kind_shares_count_each_kind_and_severity():
    from mmrqa.classifier.benchmark import kind_table
    from mmrqa.classifier.predict import Verdict
    from mmrqa.classifier.validation import per_kind

    found = Verdict(True, artifact="ghosting", severity="moderate", quality=3)
    wrong_kind = Verdict(True, artifact="motion", severity="severe", quality=3)
    missed = Verdict(True, artifact="none", severity="none", quality=1)
    predictions = [
        {"scan": "a", "kind": "ghosting", "severity": "moderate", "verdict": found},
        {"scan": "a", "kind": "ghosting", "severity": "moderate", "verdict": wrong_kind},
        {"scan": "a", "kind": "ghosting", "severity": "moderate", "verdict": missed},
        {"scan": "a", "kind": "ghosting", "severity": "moderate", "verdict": missed},
        {"scan": "a", "kind": "none", "severity": "none", "verdict": missed},
        {"scan": "a", "kind": "none", "severity": "none", "verdict": missed, "native": True},
    ]
    kinds = per_kind(predictions)
    assert kinds == {"ghosting": {"moderate": {"n": 4, "presence": 0.5, "type_accuracy": 0.25}}}
    assert "| ghosting | - | 50% / 25% | - |" in kind_table(kinds)


def test_the_type_head_is_read_as_under_or_overconfident_from_its_accuracy_and_mean_probability():
    """Two moderate ghosts: the head's top kind is ghosting at 0.6 (right) and motion at 0.8 (wrong): right half of
    the time at a mean probability of 0.7, so the benchmark and the card say it is overconfident there."""
    from mmrqa.classifier.card import _top_kind
    from mmrqa.classifier.predict import Verdict
    from mmrqa.classifier.validation import score

    def verdict(p_ghost: float, p_motion: float) -> Verdict:
        return Verdict(
            True,
            artifact="ghosting",
            severity="moderate",
            quality=3,
            probabilities={
                "artifact": {"ghosting": p_ghost, "motion": p_motion},
                "presence": {"none": 0.1, "artifact": 0.9},
            },
        )

    predictions = [
        {"scan": "a", "kind": "ghosting", "severity": "moderate", "verdict": verdict(0.6, 0.4)},
        {"scan": "a", "kind": "ghosting", "severity": "moderate", "verdict": verdict(0.2, 0.8)},
    ]
    scores = score(predictions)
    assert scores["artifact_head_accuracy"] == 0.5
    assert scores["artifact_head_confidence"] == pytest.approx(0.7)
    assert _top_kind(scores) == "; its top kind right 50.0% of the time at a mean probability of 70.0% (overconfident)"
    assert _top_kind({"ece": 0.1}) == ""  # scores of an older benchmark: nothing said


def test_the_benchmark_judges_a_folder_with_the_shipped_model_without_refitting(tmp_path, capsys):
    """``python -m mmrqa.classifier.benchmark --clean DIR --shipped``: what ``mmrqa assess`` gives on a user's clean
    scans and their simulated artifacts, in minutes; a training scan of the shipped model is named as not held out."""
    import json
    import shutil

    from mmrqa.classifier.benchmark import main as benchmark
    from mmrqa.classifier.data import VIEWS
    from mmrqa.cli import main as cli_main
    from mmrqa.data import sample_path

    folder = tmp_path / "clean"
    folder.mkdir()
    args = ["--artifact", "noise", "--severity", "mild", "--seed", "0"]  # a scan of the user's: new pixels
    assert cli_main(["simulate", str(sample_path("t1")), str(folder / "mine.nii.gz"), *args]) == 0
    (folder / "training.nii").symlink_to(sample_path("t1"))  # the very file the shipped model was fitted on
    shutil.copy(sample_path("t1"), folder / "copy.nii")  # a copy of it: not held out either
    out = tmp_path / "scores.json"
    argv = ["--clean", str(folder), "--shipped", "--json", str(out), "--cache", str(tmp_path / "cache")]
    assert benchmark(argv) == 0
    printed = capsys.readouterr().out
    prior = load_model().meta["decision"]["clean_prior"]
    assert f"judged by the shipped model (no refit; clean share {prior})" in printed
    assert "NOT held out, the shipped model was fitted on: t1, user_copy; tested" in printed
    result = json.loads(out.read_text())
    assert result["tested"] == ["t1", "user_copy", "user_mine"]
    scores = result["scores"]
    assert scores["n_native"] == 3 and scores["n_modsev"] == 3 * 8 * 2 * VIEWS  # scans x kinds x grades x views
    assert result["native"]["user_copy"] == result["native"]["t1"]  # the same pixels, the same verdict
    with pytest.raises(SystemExit):
        benchmark(["--shipped", "--decision", "fixed"])


def test_calibration_error_is_measured_on_the_mix_of_scans_the_probabilities_are_stated_for():
    """A presence head stated for a population of 90% clean scans, scored on a benchmark of mostly corrupted rows:
    weighted to its prior it is calibrated; over the rows as they are it would read as overconfident."""
    from mmrqa.classifier.validation import expected_calibration_error, prior_weights

    assert expected_calibration_error(np.array([0.8, 0.8, 0.8, 0.8, 0.8]), np.array([1, 1, 1, 1, 0])) == pytest.approx(
        0.0, abs=1e-12
    )
    assert expected_calibration_error(np.array([0.9, 0.9]), np.array([1, 0])) == pytest.approx(0.4)
    # 10 clean rows and 90 corrupted ones; every one judged "clean" with confidence 0.9
    clean = np.array([True] * 10 + [False] * 90)
    confidence, correct = np.full(100, 0.9), clean.astype(float)
    assert expected_calibration_error(confidence, correct) == pytest.approx(0.8)  # 10% right at 90% confidence
    weights = prior_weights(clean, np.full(100, 0.9))
    assert weights[:10].sum() == pytest.approx(0.9) and weights[10:].sum() == pytest.approx(0.1)
    assert expected_calibration_error(confidence, correct, weights=weights) == pytest.approx(0.0, abs=1e-12)
    assert expected_calibration_error(np.array([]), np.array([])) != expected_calibration_error(
        np.array([]), np.array([])
    )


def test_a_lower_clean_share_moves_only_the_presence_odds():
    """``SignalModel.with_clean_share``: the same trees under another prior of a clean scan (Bayes' rule on the
    balanced presence head); the shipped model itself is unchanged."""
    from mmrqa.classifier.predict import decision_rule
    from mmrqa.errors import InvalidArgumentError

    model = load_model()
    shipped_prior = decision_rule(model)[0]
    volume = simulate(load_sample("t1"), "ghosting", "moderate", 3)[0]
    default = classify(volume, model=model)
    screening = classify(volume, model=model.with_clean_share(0.5))
    assert decision_rule(model)[0] == shipped_prior and decision_rule(model.with_clean_share(0.5))[0] == 0.5
    p, q = default.probabilities["presence"]["artifact"], screening.probabilities["presence"]["artifact"]
    odds = (q / (1 - q)) / (p / (1 - p))
    assert odds == pytest.approx(shipped_prior / (1 - shipped_prior), rel=1e-3)  # the prior's odds, nothing else
    assert screening.probabilities["artifact"] == default.probabilities["artifact"]
    for bad in (0.0, 1.0, -0.2, 1.5):
        with pytest.raises(InvalidArgumentError, match="strictly between 0 and 1"):
            model.with_clean_share(bad)


def test_cli_assess_takes_the_share_of_clean_scans(capsys):
    from mmrqa.cli import main as cli_main
    from mmrqa.data import sample_path

    assert cli_main(["assess", str(sample_path("t1")), "--clean-share", "1.5"]) == 2
    assert "--clean-share must lie strictly between 0 and 1" in capsys.readouterr().err
    capsys.readouterr()
    assert cli_main(["assess", str(sample_path("t1")), "--format", "json"]) == 0
    default = json.loads(capsys.readouterr().out)
    assert cli_main(["assess", str(sample_path("t1")), "--format", "json", "--clean-share", "0.5"]) == 0
    screening = json.loads(capsys.readouterr().out)
    p = default["signal_estimate"]["probabilities"]["presence"]["artifact"]
    q = screening["signal_estimate"]["probabilities"]["presence"]["artifact"]
    assert q > p and screening["metrics"] == default["metrics"]
