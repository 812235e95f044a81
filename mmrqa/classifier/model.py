"""The signal classifier: two gradient-boosted heads, their calibration and the domain check, in one ``.npz`` file.

Heads (scikit-learn ``GradientBoostingClassifier``, exported by :mod:`mmrqa.classifier.trees`):
    presence   "none" or "artifact"       fitted on clean and moderate/severe rows
    artifact   the artifact kind           fitted on moderate/severe rows (of :mod:`mmrqa.artifacts`)
    severity   "none", "mild", "moderate", "severe"    fitted on every row
A mild artifact is, by its calibration, at the edge of visibility and often below a scan's own noise; taught as a
kind or as "present" it pulls clean scans towards every kind at once (measured: held-out clean scans' P(none) fell to
0.1-0.6 with one 9-class head). A binary presence head is not diluted across eight kinds.
Each head's raw scores are divided by a temperature (Guo et al. 2017, "On calibration of modern neural networks",
ICML: one scalar minimising the negative log-likelihood), then soft-maxed. The temperature is *cross-fitted*: the
training scans are dealt into :data:`CALIBRATION_FOLDS` groups, each group's rows are scored by heads fitted on the
other groups (scans those heads never saw), and the temperature is fitted on those out-of-fold scores; the shipped
heads are then fitted on every training scan (as scikit-learn's ``CalibratedClassifierCV(ensemble=False)`` does).
Every training scan thus teaches the trees and calibrates them, where a split would set some aside. The
decision rule is chosen on the same out-of-fold scores (:func:`mmrqa.classifier.validation.decision_from`). The file
also holds the :class:`mmrqa.classifier.domain.Novelty` reference and the clean rows' feature medians and IQRs (to name
the metrics that drove a verdict), and a JSON ``meta`` string (features, provenance, validation numbers).

``load_model`` reads it with ``numpy.load(allow_pickle=False)``: loading runs no code.
"""

from __future__ import annotations

import json
import logging
import os
import zipfile
from dataclasses import dataclass, field, replace
from functools import lru_cache
from pathlib import Path
from typing import Any

import numpy as np
from scipy.special import log_softmax, softmax

from mmrqa.classifier.domain import Novelty, fit_novelty, robust_center_scale
from mmrqa.classifier.pictures import PictureCheck
from mmrqa.classifier.trees import TreeEnsemble
from mmrqa.errors import InvalidArgumentError, ModelLoadError

logger = logging.getLogger(__name__)

FORMAT = "mmrqa-signal-classifier"
FORMAT_VERSION = 2
DEFAULT_MODEL_PATH = Path(__file__).with_name("model.npz")
HEADS = ("presence", "artifact", "severity")
#: array prefix of the photograph check's trees
PICTURE_PREFIX = "picture"
#: scikit-learn GradientBoostingClassifier settings (the card argues them)
GBM_PARAMS = {
    "n_estimators": 120,
    "learning_rate": 0.1,
    "max_depth": 3,
    "subsample": 0.8,
    "min_samples_leaf": 5,
    "max_features": 0.5,
}


@dataclass
class SignalModel:
    """The fitted classifier (see the module docstring)."""

    features: list[str]
    heads: dict[str, TreeEnsemble]
    temperature: dict[str, float]
    novelty: Novelty
    clean_center: np.ndarray
    clean_scale: np.ndarray
    meta: dict[str, Any] = field(default_factory=dict)
    #: the photograph check (:mod:`mmrqa.classifier.pictures`); None in a model fitted without it
    picture: PictureCheck | None = None

    def raw(self, head: str, x: np.ndarray) -> np.ndarray:
        return self.heads[head].raw(x)

    def with_clean_share(self, share: float) -> SignalModel:
        """This model (the same trees, not copied) deciding under the prior that ``share`` of the scans it judges are
        clean, instead of the prior chosen when it was fitted (``meta["decision"]["clean_prior"]``). The presence head
        is fitted with balanced classes, so the prior only moves its odds (Bayes' rule): a lower share reports more
        artifacts and more false alarms, and the probabilities stay calibrated for a workload with that share.

        Raises:
            InvalidArgumentError: ``share`` is not strictly between 0 and 1.
        """
        if not 0.0 < float(share) < 1.0:
            raise InvalidArgumentError(f"the share of clean scans must lie strictly between 0 and 1, not {share!r}")
        decision = {**(self.meta.get("decision") or {}), "clean_prior": float(share), "chosen_on": "set by the user"}
        return replace(self, meta={**self.meta, "decision": decision})

    def proba(self, head: str, x: np.ndarray, calibrated: bool = True) -> np.ndarray:
        """(n, K) class probabilities of ``head`` for raw feature rows ``x`` (temperature-scaled when calibrated)."""
        t = self.temperature.get(head, 1.0) if calibrated else 1.0
        return softmax(self.raw(head, x) / t, axis=1)

    def classes(self, head: str) -> list[str]:
        return self.heads[head].classes

    # -- storage -----------------------------------------------------------------------------------------------------
    def save(self, path: str | os.PathLike) -> Path:
        from mmrqa.fileio import atomic_output

        arrays: dict[str, np.ndarray] = {}
        for name, head in self.heads.items():
            arrays.update(head.to_arrays(name))
        arrays.update(self.novelty.to_arrays())
        arrays["clean_center"], arrays["clean_scale"] = self.clean_center, self.clean_scale
        meta = {"format": FORMAT, "version": FORMAT_VERSION, "features": self.features, **self.meta}
        meta["temperature"] = self.temperature
        if self.picture is not None:
            arrays.update(self.picture.head.to_arrays(PICTURE_PREFIX))
            check = self.picture
            meta["picture_check"] = {"features": check.features, "threshold": check.threshold, **check.validation}
        arrays["meta"] = np.asarray(json.dumps(meta, sort_keys=True))
        path = Path(path)
        with atomic_output(path, suffix=".npz", what="the classifier") as tmp:
            with open(tmp, "wb") as handle:
                np.savez_compressed(handle, **arrays)
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> SignalModel:
        path = Path(path)
        try:
            with np.load(path, allow_pickle=False) as npz:
                arrays = {k: npz[k] for k in npz.files}
        except FileNotFoundError as exc:
            raise ModelLoadError(f"signal classifier file {path} does not exist") from exc
        except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
            raise ModelLoadError(f"cannot read signal classifier {path}: {exc}") from exc
        try:
            meta = json.loads(str(arrays["meta"]))
        except (KeyError, ValueError) as exc:
            raise ModelLoadError(f"{path} is not an MMRQA signal classifier (no readable meta)") from exc
        if meta.get("format") != FORMAT or meta.get("version") != FORMAT_VERSION:
            raise ModelLoadError(f"{path} is not an MMRQA signal classifier of version {FORMAT_VERSION}")
        features = list(meta["features"])
        picture = None
        if "picture_check" in meta:
            check = meta["picture_check"]
            head = TreeEnsemble.from_arrays(arrays, PICTURE_PREFIX)
            validation = {k: v for k, v in check.items() if k not in ("features", "threshold")}
            picture = PictureCheck(head, list(check["features"]), float(check["threshold"]), validation)
        return cls(
            features,
            {name: TreeEnsemble.from_arrays(arrays, name) for name in HEADS},
            {k: float(v) for k, v in meta.get("temperature", {}).items()},
            Novelty.from_arrays(arrays, features),
            np.asarray(arrays["clean_center"], dtype=np.float64),
            np.asarray(arrays["clean_scale"], dtype=np.float64),
            {
                k: v
                for k, v in meta.items()
                if k not in ("format", "version", "features", "temperature", "picture_check")
            },
            picture,
        )


@lru_cache(maxsize=4)
def load_model(path: str | None = None) -> SignalModel:
    """The classifier stored at ``path`` (default: the shipped ``model.npz``), loaded once per path."""
    return SignalModel.load(Path(path) if path else DEFAULT_MODEL_PATH)


# -- fitting ---------------------------------------------------------------------------------------------------------
def balanced_weights(labels: np.ndarray) -> np.ndarray:
    """n / (k * n_class) per row: every class weighs the same in the loss."""
    values, inverse, counts = np.unique(labels, return_inverse=True, return_counts=True)
    return (len(labels) / (len(values) * counts))[inverse]


def fit_head(x: np.ndarray, y: np.ndarray, seed: int = 0):
    """A fitted ``GradientBoostingClassifier`` (balanced classes, ``GBM_PARAMS``, seeded) and its exported trees."""
    from sklearn.ensemble import GradientBoostingClassifier

    from mmrqa.classifier.trees import export

    estimator = GradientBoostingClassifier(random_state=seed, **GBM_PARAMS)
    estimator.fit(x.astype(np.float32), y, sample_weight=balanced_weights(y))
    return export(estimator, x)


def head_rows(labels: dict[str, np.ndarray]) -> dict[str, tuple[np.ndarray, np.ndarray]]:
    """Per head: which rows it learns from and their labels (see the module docstring), from the row labels
    ``artifact`` (a kind or "none") and ``severity``."""
    kind, severity = np.asarray(labels["artifact"], dtype=str), np.asarray(labels["severity"], dtype=str)
    visible = np.isin(severity, ("moderate", "severe"))
    return {
        "presence": (visible | (kind == "none"), np.where(kind == "none", "none", "artifact")),
        "artifact": (visible, kind),
        "severity": (np.ones(len(kind), dtype=bool), severity),
    }


def fit_temperature(raw: np.ndarray, y_index: np.ndarray) -> float:
    """The temperature T minimising the mean negative log-likelihood of softmax(raw / T) (bounded to [0.05, 20])."""
    from scipy import optimize  # fitting only: importing it costs ~0.4 s of every `mmrqa assess`

    if len(raw) == 0:
        return 1.0

    def nll(log_t: float) -> float:
        logp = log_softmax(raw / np.exp(log_t), axis=1)
        return float(-np.mean(logp[np.arange(len(raw)), y_index]))

    res = optimize.minimize_scalar(nll, bounds=(np.log(0.05), np.log(20.0)), method="bounded")
    return float(np.exp(res.x))


#: grouped folds of the cross-fitted temperatures (and of the decision rule's choice, on the same predictions)
CALIBRATION_FOLDS = 3
#: the raw score of a class that a fold's head never saw (its softmax probability is ~0)
ABSENT_SCORE = -30.0


@dataclass
class OutOfFold:
    """Raw scores of every training row by heads that never saw its scan (:func:`out_of_fold`)."""

    raw: dict[str, np.ndarray]  # head -> (n_rows, n_classes) in the order of ``classes[head]``
    classes: dict[str, list[str]]

    def proba(self, head: str, temperature: float = 1.0) -> np.ndarray:
        return softmax(self.raw[head] / temperature, axis=1)


def fold_of(groups: np.ndarray, folds: int = CALIBRATION_FOLDS) -> np.ndarray:
    """Per row, its fold: the sorted scan names dealt in turn into ``folds`` groups (a scan's rows stay together)."""
    scans = sorted({str(g) for g in groups})
    index = {scan: i % folds for i, scan in enumerate(scans)}
    return np.array([index[str(g)] for g in groups])


def out_of_fold(
    x: np.ndarray,
    labels: dict[str, np.ndarray],
    groups: np.ndarray,
    seed: int = 0,
    folds: int = CALIBRATION_FOLDS,
) -> OutOfFold:
    """Each head fitted ``folds`` times, each time without one fold's scans (:func:`fold_of`), scoring that fold's
    rows (every row, whether or not the head learns from rows like it). A class a fold's head never saw scores
    :data:`ABSENT_SCORE`."""
    fold = fold_of(groups, folds)
    raw: dict[str, np.ndarray] = {}
    classes: dict[str, list[str]] = {}
    for head, (rows, y) in head_rows(labels).items():
        classes[head] = sorted(set(y[rows].tolist()))
        raw[head] = np.full((len(x), len(classes[head])), ABSENT_SCORE)
        for k in range(folds):
            held = fold == k
            ensemble = fit_head(x[rows & ~held], y[rows & ~held], seed)
            columns = [classes[head].index(c) for c in ensemble.classes]
            raw[head][np.ix_(held, columns)] = ensemble.raw(x[held])
    return OutOfFold(raw, classes)


def fit_model(
    x: np.ndarray,
    labels: dict[str, np.ndarray],
    groups: np.ndarray,
    features: list[str],
    seed: int = 0,
    folds: int = CALIBRATION_FOLDS,
) -> tuple[SignalModel, OutOfFold]:
    """The heads fitted on every row, their temperatures cross-fitted (the module docstring) on out-of-fold scores
    of the same rows, and the domain reference on all rows (raw feature rows ``x``, labels per head, the scan of each
    row in ``groups``). Returns the model and the out-of-fold scores (from which the decision rule is chosen)."""
    if len(x) == 0:
        raise InvalidArgumentError("no training rows")
    if len({str(g) for g in groups}) < folds:
        raise InvalidArgumentError(f"cross-fitted calibration needs at least {folds} scans")
    oof = out_of_fold(x, labels, groups, seed, folds)
    heads, temperature = {}, {}
    for head, (rows, y) in head_rows(labels).items():
        heads[head] = fit_head(x[rows], y[rows], seed)
        y_index = np.array([oof.classes[head].index(c) for c in y[rows]])
        temperature[head] = fit_temperature(oof.raw[head][rows], y_index)
    center, scale = robust_center_scale(x[labels["artifact"] == "none"])
    reference = fit_novelty(x, groups, features)
    return SignalModel(list(features), heads, temperature, reference, center, scale), oof


def fit_baseline(rows: list[dict[str, float]], labels: dict[str, list[str]], seed: int = 0) -> SignalModel:
    """The heads of the recipe fitted on metric ``rows`` with their ``labels`` (``artifact``, ``severity``) and no
    calibration split (temperature 1): the signal-only baseline of a dataset's evaluation (``mmrqa evaluate``), whose
    train split knows no scans. Features absent from the rows (the per-slice aggregates) are undefined throughout."""
    from mmrqa.classifier.features import feature_matrix, feature_names

    features = list(feature_names())
    x = feature_matrix(rows, features)
    heads = {}
    for head, (keep, y) in head_rows(labels).items():
        if len(set(y[keep])) < 2:
            raise InvalidArgumentError(
                f"the {head} labels have fewer than two classes: cannot fit the signal baseline"
            )
        heads[head] = fit_head(x[keep], y[keep], seed)
    clean = np.asarray(labels["artifact"], dtype=str) == "none"
    center, scale = robust_center_scale(x[clean] if clean.any() else x)
    novelty = fit_novelty(x, np.arange(len(x)) % 5, features)
    novelty.threshold = float("inf")  # the rows of a dataset define its domain; nothing is excluded
    return SignalModel(features, heads, dict.fromkeys(HEADS, 1.0), novelty, center, scale)
