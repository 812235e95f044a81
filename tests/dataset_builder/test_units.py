"""Settings, splits and the per-scan plan: validation of each argument, the few-subjects rule, seeding."""

from __future__ import annotations

import pytest

from dataset_builder.config import BuildConfig, load_config
from dataset_builder.scan import plan_variants, scan_seed
from dataset_builder.sources import ScanTask
from dataset_builder.splits import assign_splits, split_sizes
from mmrqa.errors import InvalidArgumentError


@pytest.mark.parametrize(
    "bad",
    [
        {"kinds": ("motion", "wobble")},
        {"kinds": ("motion", "motion")},
        {"severities": ("extreme",)},
        {"question_types": ("trivia",)},
        {"question_types": ()},
        {"artifacts_per_scan": -1},
        {"n_slices": 0},
        {"num_proc": 0},
        {"seed": -2},
        {"seed": True},
        {"plane": "oblique"},
        {"profile": "fancy"},
        {"min_foreground": 1.0},
        {"split_ratios": (0.5, 0.5, 0.5)},
        {"split_ratios": (0.0, 0.5, 0.5)},
        {"split_ratios": (0.5, 0.5)},
    ],
)
def test_each_invalid_setting_is_rejected(bad):
    with pytest.raises(InvalidArgumentError):
        BuildConfig(**bad)


def test_config_file_unknown_key_and_bad_value_name_the_file(tmp_path):
    path = tmp_path / "build.yaml"
    path.write_text("n_slice: 2\n")
    with pytest.raises(InvalidArgumentError, match=r"build.yaml.*unknown setting.*n_slice"):
        load_config(path)
    path.write_text("n_slices: 0\n")
    with pytest.raises(InvalidArgumentError, match=r"build.yaml.*n_slices"):
        load_config(path)
    path.write_text("kinds: [noise, blur]\nplane: coronal\n")
    config = load_config(path)
    assert config.kinds == ("noise", "blur") and config.plane == "coronal"
    assert config.replace(plane=None, seed=5).plane == "coronal"  # an unset flag keeps the file's value
    with pytest.raises(InvalidArgumentError, match="cannot read"):
        load_config(tmp_path / "missing.yaml")


@pytest.mark.parametrize(
    ("n", "ratios", "sizes"),
    [
        (1, (0.8, 0.1, 0.1), [1, 0, 0]),
        (2, (0.8, 0.1, 0.1), [1, 1, 0]),
        (3, (0.8, 0.1, 0.1), [1, 1, 1]),
        (5, (0.6, 0.2, 0.2), [3, 1, 1]),
        (10, (0.8, 0.1, 0.1), [8, 1, 1]),
        (7, (0.7, 0.3, 0.0), [5, 2, 0]),
        (101, (0.8, 0.1, 0.1), [81, 10, 10]),
    ],
)
def test_split_sizes_follow_the_documented_rule(n, ratios, sizes):
    assert split_sizes(n, ratios) == sizes and sum(sizes) == n


def test_assignment_is_seeded_and_independent_of_input_order():
    subjects = [f"s{i:02d}" for i in range(20)]
    first = assign_splits(subjects, (0.8, 0.1, 0.1), seed=0)
    assert first == assign_splits(reversed(subjects + subjects), (0.8, 0.1, 0.1), seed=0)
    assert first != assign_splits(subjects, (0.8, 0.1, 0.1), seed=1)
    assert sorted(first.values()).count("test") == 2


def test_variants_are_drawn_from_the_settings_and_only_for_clean_scans():
    settings = BuildConfig(
        kinds=("noise", "blur", "spike"), severities=("severe",), artifacts_per_scan=4
    ).scan_settings()
    clean = ScanTask("x.nii", "s1", "folder", "x")
    plan = plan_variants(clean, settings, scan_seed(0, "x"))
    assert plan[0][0] == "original" and len(plan) == 5
    kinds = [kind for _, kind, _, _ in plan[1:]]
    assert sorted(kinds[:3]) == ["blur", "noise", "spike"] and kinds[3] == kinds[0]  # distinct while possible
    assert {sev for _, _, sev, _ in plan[1:]} == {"severe"}
    assert plan == plan_variants(clean, settings, scan_seed(0, "x"))
    assert plan != plan_variants(clean, settings, scan_seed(1, "x"))
    scored = ScanTask("y.nii", "s1", "mr-art", "y", quality=2, artifact="motion", severity=None, label_source="expert")
    assert plan_variants(scored, settings, 0) == [("original", None, None, 0)]
