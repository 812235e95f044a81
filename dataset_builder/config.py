"""Build settings: one frozen dataclass, read from ``build.yaml`` and overridden by command-line flags.

Every field that changes what a scan produces (artifact kinds, severities, slices, questions, metric profile, seed)
is part of the cache key of a scan (:func:`BuildConfig.scan_settings`); fields that only change how the work is done
(``num_proc``) or how finished rows are grouped (split ratios) are not, so changing them reuses the cache.
"""

from __future__ import annotations

import dataclasses
import os
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import yaml

from mmrqa.artifacts import KINDS, SEVERITIES
from mmrqa.errors import InvalidArgumentError
from mmrqa.metrics import PROFILES
from mmrqa.qa import QUESTION_TYPES
from mmrqa.render import PLANES

SPLITS = ("train", "validation", "test")


@dataclass(frozen=True)
class BuildConfig:
    """What a build makes.

    Attributes:
        kinds: artifact kinds simulated on clean scans (subset of ``mmrqa.artifacts.KINDS``).
        severities: severities drawn for them (subset of ``SEVERITIES``; ``none`` gives a labelled clean copy).
        artifacts_per_scan: simulated copies per clean scan (each one kind at one severity, drawn with the seed).
        n_slices: informative slices rendered per scan (fewer when fewer slices hold enough foreground).
        plane: ``axial``, ``coronal`` or ``sagittal``.
        min_foreground: fraction of foreground pixels a slice needs to be informative (empty slices skipped).
        question_types: subset of ``mmrqa.qa.QUESTION_TYPES``; each gives one conversation per slice.
        signal_enhanced: put the compact metric summary in the user turn (the MMRQA fusion); False for ablations.
        profile: metrics profile of ``compute_metrics`` stored in the ``metrics`` column.
        split_ratios: train / validation / test fractions of the *subjects*.
        seed: the one seed every random choice derives from.
        num_proc: worker processes (1 = in the main process).
        rewriter: transformers model id or path rewording answers (grounded rewrites only), or None.
        license: license of the published dataset (card metadata).
    """

    kinds: tuple[str, ...] = KINDS
    severities: tuple[str, ...] = SEVERITIES[1:]
    artifacts_per_scan: int = 3
    n_slices: int = 3
    plane: str = "axial"
    min_foreground: float = 0.05
    question_types: tuple[str, ...] = QUESTION_TYPES
    signal_enhanced: bool = True
    profile: str = "default"
    split_ratios: tuple[float, float, float] = (0.8, 0.1, 0.1)
    seed: int = 0
    num_proc: int = 1
    rewriter: str | None = None
    license: str = "other"

    def __post_init__(self) -> None:
        for name in ("kinds", "severities", "question_types", "split_ratios"):
            value = getattr(self, name)
            object.__setattr__(self, name, tuple([value] if isinstance(value, (str, int, float)) else value))
        _check_subset("kinds", self.kinds, KINDS)
        _check_subset("severities", self.severities, SEVERITIES)
        _check_subset("question_types", self.question_types, QUESTION_TYPES)
        if not self.kinds or not self.severities or not self.question_types:
            raise InvalidArgumentError("kinds, severities and question_types must each name at least one value")
        _check_int("artifacts_per_scan", self.artifacts_per_scan, 0)
        _check_int("n_slices", self.n_slices, 1)
        _check_int("num_proc", self.num_proc, 1)
        _check_int("seed", self.seed, 0)
        if self.plane not in PLANES:
            raise InvalidArgumentError(f"plane must be one of {', '.join(PLANES)}, got {self.plane!r}")
        if self.profile not in PROFILES:
            raise InvalidArgumentError(f"profile must be one of {', '.join(PROFILES)}, got {self.profile!r}")
        if not 0.0 <= float(self.min_foreground) < 1.0:
            raise InvalidArgumentError(f"min_foreground must lie in [0, 1), got {self.min_foreground!r}")
        ratios = self.split_ratios
        if len(ratios) != 3 or any(float(r) < 0 for r in ratios) or not abs(sum(ratios) - 1.0) < 1e-6:
            raise InvalidArgumentError(
                f"split_ratios must be three non-negative fractions (train, validation, test) summing to 1, got {ratios}"
            )
        if float(ratios[0]) == 0.0:
            raise InvalidArgumentError("split_ratios must give the train split a positive share")

    def scan_settings(self) -> dict[str, Any]:
        """The settings that determine the rows of one scan (part of its cache key)."""
        keys = ("kinds", "severities", "artifacts_per_scan", "n_slices", "plane", "min_foreground")
        keys += ("question_types", "signal_enhanced", "profile", "seed", "rewriter")
        return {k: _plain(getattr(self, k)) for k in keys}

    def to_dict(self) -> dict[str, Any]:
        return {f.name: _plain(getattr(self, f.name)) for f in dataclasses.fields(self)}

    def replace(self, **changes: Any) -> BuildConfig:
        """A copy with ``changes`` applied (None values are ignored: an unset flag keeps the file's value)."""
        return dataclasses.replace(self, **{k: v for k, v in changes.items() if v is not None})


def _plain(value: Any) -> Any:
    return list(value) if isinstance(value, tuple) else value


def _check_subset(name: str, values: tuple, allowed: tuple) -> None:
    unknown = [v for v in values if v not in allowed]
    if unknown:
        raise InvalidArgumentError(f"unknown {name} {unknown}: expected some of {', '.join(allowed)}")
    if len(set(values)) != len(values):
        raise InvalidArgumentError(f"{name} lists a value twice: {list(values)}")


def _check_int(name: str, value: Any, minimum: int) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
        raise InvalidArgumentError(f"{name} must be an integer >= {minimum}, got {value!r}")


def load_config(path: str | os.PathLike | None) -> BuildConfig:
    """Read a ``build.yaml`` (keys: the fields of :class:`BuildConfig`); None gives the defaults.

    Raises:
        InvalidArgumentError: the file is missing, is not a YAML mapping, or has an unknown key or a bad value.
    """
    if path is None:
        return BuildConfig()
    path = Path(path)
    try:
        payload = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except OSError as exc:
        raise InvalidArgumentError(f"{path}: cannot read the build config ({exc.strerror or exc})") from exc
    except yaml.YAMLError as exc:
        raise InvalidArgumentError(f"{path}: not valid YAML ({exc})") from exc
    if not isinstance(payload, dict):
        raise InvalidArgumentError(f"{path}: the build config must be a mapping of settings")
    known = {f.name for f in dataclasses.fields(BuildConfig)}
    unknown = sorted(set(payload) - known)
    if unknown:
        raise InvalidArgumentError(f"{path}: unknown setting(s) {unknown}; known: {', '.join(sorted(known))}")
    try:
        return BuildConfig(**payload)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{path}: {exc}") from exc
    except TypeError as exc:
        raise InvalidArgumentError(f"{path}: {exc}") from exc
