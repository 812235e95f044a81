"""The majority-class baseline that any MMRQA model must beat.

The other baseline, the signal-only classifier on the metrics, is :mod:`mmrqa.classifier` (one home for it; the
evaluation driver fits its recipe on a dataset's train split with :func:`mmrqa.classifier.model.fit_baseline`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Any

from mmrqa.errors import InvalidArgumentError


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
