"""The signal classifier: a verdict on a scan from its metrics alone, calibrated, and honest about its domain.

    from mmrqa.classifier import classify
    verdict = classify(volume)            # Verdict: in_domain, artifact, severity, quality, confidence, drivers

One home for everything about it: the features (:mod:`.features`), the training data recipe (:mod:`.data`), the
model and its storage (:mod:`.model`, :mod:`.trees`: arrays in ``model.npz``, no pickle), the out-of-domain check
(:mod:`.domain`), the decision (:mod:`.predict`), the leave-one-scan-out validation (:mod:`.validation`), the card
(``card.md``, :mod:`.card`), and two scripts: ``python -m mmrqa.classifier.fit`` (refit, write model and card) and
``python -m mmrqa.classifier.benchmark --clean DIR`` (leave-one-scan-out on any folder of clean scans).

Floor 3 (beside the pipeline): it imports the metrics, artifacts, io and qa labels, never mmrqa.evaluation or the CLI.
scikit-learn is imported only to fit.
"""

from __future__ import annotations

from mmrqa.classifier.features import MAX_SIDE, decimate, feature_names, scan_features
from mmrqa.classifier.model import DEFAULT_MODEL_PATH, SignalModel, load_model
from mmrqa.classifier.predict import MIN_CONFIDENCE, Verdict, classify, decide

__all__ = [
    "DEFAULT_MODEL_PATH",
    "MAX_SIDE",
    "MIN_CONFIDENCE",
    "SignalModel",
    "Verdict",
    "classify",
    "decide",
    "decimate",
    "feature_names",
    "load_model",
    "scan_features",
]
