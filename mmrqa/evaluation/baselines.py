"""Baselines that any MMRQA model must beat: the majority class and a signal-only classifier on the metrics.

``SignalClassifier`` follows the MRIQC classifier (Esteban et al. 2017, "MRIQC: Advancing the automatic prediction
of image quality in MRI from unseen sites", PLoS ONE 12(9): e0184661): image quality metrics are standardised
(z-scores with the training mean and standard deviation) and fed to a supervised classifier. Here the classifier is
an L2-regularised multinomial logistic regression, one per target (quality rating, artifact kind, severity),
fitted with L-BFGS on

    C * sum_i CE(softmax(W z_i + b), y_i) + 0.5 * ||W||^2      (intercept not penalised, as scikit-learn's)

It is small enough to be stored as plain JSON parameters (no pickle, no joblib: loading those runs code) and to
predict with numpy alone, so the pipeline's metrics-only mode needs neither scikit-learn nor torch.
"""

from __future__ import annotations

import json
import logging
import math
import os
from collections import Counter
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
from scipy import optimize
from scipy.special import log_softmax, softmax

from mmrqa.errors import InvalidArgumentError, ModelLoadError
from mmrqa.fileio import write_text_atomic

logger = logging.getLogger(__name__)

FORMAT = "mmrqa-signal-classifier"
FORMAT_VERSION = 1
Z_CLIP = 10.0  # standardised features are clipped to +-10 sd so that one wild metric cannot dominate a prediction


class MajorityBaseline:
    """Predicts, for every question type, the most frequent reference label of the training data.

    Ties go to the label seen first. Its accuracy is the share of the majority class; its macro-F1 is low by design.
    A constant prediction has no correlation with quality (SRCC/PLCC are undefined, reported as NaN).
    """

    def __init__(self) -> None:
        self.majority_: dict[str, Any] = {}

    def fit(self, references: Mapping[str, Sequence[Any]]) -> MajorityBaseline:
        for qtype, values in references.items():
            values = [v for v in values if v is not None]
            if not values:
                raise InvalidArgumentError(f"no training labels for question type {qtype!r}")
            self.majority_[qtype] = Counter(values).most_common(1)[0][0]
        return self

    def predict(self, counts: Mapping[str, int]) -> dict[str, list[Any]]:
        """``{qtype: [majority] * n}`` for the requested number of examples per question type."""
        missing = set(counts) - set(self.majority_)
        if missing:
            raise InvalidArgumentError(f"the majority baseline was not fitted on {sorted(missing)}")
        return {qtype: [self.majority_[qtype]] * n for qtype, n in counts.items()}


@dataclass
class _Head:
    """One multinomial logistic regression: classes, coefficients (K, D) and intercepts (K,)."""

    classes: list[Any]
    coef: np.ndarray
    intercept: np.ndarray

    def proba(self, z: np.ndarray) -> np.ndarray:
        return softmax(z @ self.coef.T + self.intercept, axis=1)


def _fit_head(z: np.ndarray, y: np.ndarray, n_classes: int, c: float, sample_weight: np.ndarray) -> _Head:
    """Minimise C * sum_i w_i CE_i + 0.5 ||W||^2 over (W, b); exact gradient, L-BFGS."""
    n, d = z.shape
    onehot = np.eye(n_classes)[y]

    def loss_grad(theta: np.ndarray) -> tuple[float, np.ndarray]:
        w, b = theta[: n_classes * d].reshape(n_classes, d), theta[n_classes * d :]
        logp = log_softmax(z @ w.T + b, axis=1)
        loss = -c * np.sum(sample_weight * np.sum(onehot * logp, axis=1)) + 0.5 * np.sum(w * w)
        resid = c * sample_weight[:, None] * (np.exp(logp) - onehot)  # dLoss/dlogits
        grad_w = resid.T @ z + w
        return float(loss), np.concatenate([grad_w.ravel(), resid.sum(axis=0)])

    res = optimize.minimize(
        loss_grad,
        np.zeros(n_classes * (d + 1)),
        jac=True,
        method="L-BFGS-B",
        options={"maxiter": 5000, "gtol": 1e-9, "ftol": 1e-13},
    )
    if not res.success:
        logger.warning("signal classifier did not fully converge: %s", res.message)
    theta = res.x
    return _Head([], theta[: n_classes * d].reshape(n_classes, d), theta[n_classes * d :])


@dataclass
class SignalClassifier:
    """Signal-only quality/artifact classifier on per-volume metrics (see the module docstring).

    Args:
        C: inverse L2 strength (scikit-learn's convention); smaller is more regularised.
        class_weight: None, or "balanced" to weight each class by n / (k * n_class).
        features: metric names to use; by default those present (finite somewhere) in every training example.
    """

    C: float = 1.0
    class_weight: str | None = None
    features: list[str] | None = None
    mean_: np.ndarray | None = field(default=None, repr=False)
    scale_: np.ndarray | None = field(default=None, repr=False)
    heads_: dict[str, _Head] = field(default_factory=dict, repr=False)

    def __post_init__(self) -> None:
        if not (isinstance(self.C, int | float) and self.C > 0 and math.isfinite(self.C)):
            raise InvalidArgumentError(f"C must be a positive number, got {self.C!r}")
        if self.class_weight not in (None, "balanced"):
            raise InvalidArgumentError(f"class_weight must be None or 'balanced', got {self.class_weight!r}")

    # -- features ----------------------------------------------------------------------------------------------------
    def _matrix(self, metrics: Sequence[Mapping[str, float]]) -> np.ndarray:
        assert self.features is not None
        x = np.full((len(metrics), len(self.features)), np.nan)
        for i, row in enumerate(metrics):
            for j, name in enumerate(self.features):
                value = row.get(name)
                if isinstance(value, int | float) and math.isfinite(value):
                    x[i, j] = value
        return x

    def _standardise(self, x: np.ndarray) -> np.ndarray:
        z = (x - self.mean_) / self.scale_
        return np.clip(np.nan_to_num(z, nan=0.0), -Z_CLIP, Z_CLIP)  # a missing metric is imputed by the train mean

    # -- fit / predict -----------------------------------------------------------------------------------------------
    def fit(self, metrics: Sequence[Mapping[str, float]], labels: Mapping[str, Sequence[Any]]) -> SignalClassifier:
        """Fit one head per target in ``labels`` (e.g. ``{"quality": [...], "artifact": [...]}``) on ``metrics``."""
        if not metrics:
            raise InvalidArgumentError("cannot fit the signal classifier on zero examples")
        for target, y in labels.items():
            if len(y) != len(metrics):
                raise InvalidArgumentError(f"{len(y)} {target!r} labels for {len(metrics)} metric rows")
        if self.features is None:
            common = set.intersection(*(set(row) for row in metrics))
            self.features = sorted(common)
        x = self._matrix(metrics)
        usable = np.isfinite(x).any(axis=0)
        if not usable.any():
            raise InvalidArgumentError(f"no finite values for any of the features {self.features}")
        self.features = [f for f, ok in zip(self.features, usable, strict=True) if ok]
        x = x[:, usable]
        self.mean_ = np.nanmean(x, axis=0)
        std = np.nanstd(x, axis=0)
        self.scale_ = np.where(std > 0, std, 1.0)
        z = self._standardise(x)
        self.heads_ = {target: self._fit_target(z, list(y)) for target, y in labels.items()}
        return self

    def _fit_target(self, z: np.ndarray, y: list[Any]) -> _Head:
        y = [v.item() if isinstance(v, np.generic) else v for v in y]  # numpy scalars -> JSON-able Python values
        classes = sorted(set(y), key=lambda v: (str(type(v)), v))
        index = {c: i for i, c in enumerate(classes)}
        codes = np.array([index[v] for v in y])
        if len(classes) == 1:  # one class: predict it with certainty
            return _Head(classes, np.zeros((1, z.shape[1])), np.zeros(1))
        counts = np.bincount(codes, minlength=len(classes))
        if self.class_weight == "balanced":
            weight = (len(y) / (len(classes) * counts))[codes]
        else:
            weight = np.ones(len(y))
        head = _fit_head(z, codes, len(classes), float(self.C), weight)
        head.classes = classes
        return head

    def predict_proba(self, metrics: Sequence[Mapping[str, float]]) -> dict[str, np.ndarray]:
        """Target -> (N, K) class probabilities, columns in the order of ``classes(target)``."""
        if not self.heads_:
            raise InvalidArgumentError("the signal classifier is not fitted")
        z = self._standardise(self._matrix(metrics))
        return {target: head.proba(z) for target, head in self.heads_.items()}

    def predict(self, metrics: Sequence[Mapping[str, float]]) -> dict[str, list[Any]]:
        """Target -> predicted labels (the most probable class)."""
        probs = self.predict_proba(metrics)
        return {t: [self.heads_[t].classes[k] for k in p.argmax(axis=1)] for t, p in probs.items()}

    def predict_one(self, metrics: Mapping[str, float]) -> dict[str, tuple[Any, float]]:
        """Target -> (label, probability) for one scan's metrics (the pipeline's metrics-only mode)."""
        probs = self.predict_proba([metrics])
        return {t: (self.heads_[t].classes[int(p[0].argmax())], float(p[0].max())) for t, p in probs.items()}

    def classes(self, target: str) -> list[Any]:
        return list(self.heads_[target].classes)

    # -- persistence: plain JSON -------------------------------------------------------------------------------------
    def to_dict(self) -> dict[str, Any]:
        if not self.heads_:
            raise InvalidArgumentError("the signal classifier is not fitted; nothing to save")
        return {
            "format": FORMAT,
            "version": FORMAT_VERSION,
            "C": self.C,
            "class_weight": self.class_weight,
            "features": list(self.features or []),
            "mean": self.mean_.tolist(),
            "scale": self.scale_.tolist(),
            "heads": {
                t: {"classes": h.classes, "coef": h.coef.tolist(), "intercept": h.intercept.tolist()}
                for t, h in self.heads_.items()
            },
        }

    @classmethod
    def from_dict(cls, data: Mapping[str, Any], source: str = "<dict>") -> SignalClassifier:
        if not isinstance(data, Mapping) or data.get("format") != FORMAT:
            raise ModelLoadError(f"{source} is not an MMRQA signal classifier (no 'format': '{FORMAT}')")
        if data.get("version") != FORMAT_VERSION:
            raise ModelLoadError(f"{source} has classifier format version {data.get('version')!r}; expected 1")
        try:
            features = [str(f) for f in data["features"]]
            clf = cls(C=float(data["C"]), class_weight=data.get("class_weight"), features=features)
            clf.mean_ = np.asarray(data["mean"], dtype=np.float64)
            clf.scale_ = np.asarray(data["scale"], dtype=np.float64)
            for target, h in data["heads"].items():
                head = _Head(list(h["classes"]), np.asarray(h["coef"], float), np.asarray(h["intercept"], float))
                if head.coef.shape != (len(head.classes), len(features)) or head.intercept.shape != (
                    len(head.classes),
                ):
                    raise ValueError(f"head {target!r} has coefficients of shape {head.coef.shape}")
                clf.heads_[str(target)] = head
            if clf.mean_.shape != (len(features),) or clf.scale_.shape != (len(features),):
                raise ValueError("mean/scale do not match the features")
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise ModelLoadError(f"{source} is a damaged signal classifier: {exc}") from exc
        return clf

    def save(self, path: str | os.PathLike) -> Path:
        """Write the parameters as JSON (atomically); returns the path."""
        path = Path(path)
        write_text_atomic(path, json.dumps(self.to_dict(), indent=1))
        return path

    @classmethod
    def load(cls, path: str | os.PathLike) -> SignalClassifier:
        """Read a classifier written by ``save``; a missing or damaged file raises ``ModelLoadError``."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except FileNotFoundError as exc:
            raise ModelLoadError(f"signal classifier file {path} does not exist") from exc
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise ModelLoadError(f"cannot read signal classifier {path}: {exc}") from exc
        return cls.from_dict(data, source=str(path))
