"""Training data for the signal-only classifier: real scans x simulated artifacts -> metrics and labels.

Each clean scan is corrupted with every requested artifact kind at every requested severity (``mmrqa.artifacts``,
labels read from the ``ArtifactRecord``, never guessed), its per-volume metrics are computed
(``mmrqa.metrics.compute_metrics``), and one row is kept per corrupted volume, together with the scan it came from
(its *group*) so that training and test sets can be split by scan, never by example.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from mmrqa.errors import InvalidArgumentError
from mmrqa.evaluation.baselines import SignalClassifier
from mmrqa.qa.labels import quality_from_severity  # the project's one severity -> quality rule
from mmrqa.volume import Volume

logger = logging.getLogger(__name__)


@dataclass
class SignalDataset:
    """Rows of per-volume metrics with their labels and the scan (group) each row comes from."""

    metrics: list[dict[str, float]] = field(default_factory=list)
    labels: dict[str, list[Any]] = field(default_factory=lambda: {"quality": [], "artifact": [], "severity": []})
    groups: list[str] = field(default_factory=list)

    def subset(self, keep: Callable[[str], bool]) -> SignalDataset:
        """The rows whose group satisfies ``keep`` (e.g. ``lambda g: g in held_out``)."""
        idx = [i for i, g in enumerate(self.groups) if keep(g)]
        return SignalDataset(
            [self.metrics[i] for i in idx],
            {k: [v[i] for i in idx] for k, v in self.labels.items()},
            [self.groups[i] for i in idx],
        )

    def __len__(self) -> int:
        return len(self.metrics)


def simulated_metrics_dataset(
    scans: Mapping[str, Volume],
    *,
    kinds: Sequence[str] | None = None,
    severities: Sequence[str] = ("none", "mild", "moderate", "severe"),
    seeds: Iterable[int] = (0,),
    profile: str = "default",
) -> SignalDataset:
    """Corrupt every scan with every kind x severity x seed and compute its metrics.

    Severity ``none`` is the clean scan and is added once per scan and seed (labels: artifact "none", quality 1),
    not once per kind. Returns a ``SignalDataset`` grouped by the keys of ``scans``.
    """
    from mmrqa.artifacts import KINDS, simulate
    from mmrqa.metrics import compute_metrics

    kinds = tuple(kinds or KINDS)
    data = SignalDataset()
    for name, volume in scans.items():
        for seed in seeds:
            plan = [("none", "none")] if "none" in severities else []
            plan += [(k, s) for k in kinds for s in severities if s != "none"]
            for kind, severity in plan:
                corrupted, record = simulate(volume, kinds[0] if kind == "none" else kind, severity, int(seed))
                values = compute_metrics(corrupted, profile=profile).values
                data.metrics.append({k: float(v) for k, v in values.items()})
                data.labels["artifact"].append("none" if record.severity == "none" else record.kind)
                data.labels["severity"].append(record.severity)
                data.labels["quality"].append(quality_from_severity(record.severity))
                data.groups.append(name)
        logger.info("signal dataset: %s done (%d rows so far)", name, len(data))
    return data


def fit_signal_classifier(data: SignalDataset, **kwargs: Any) -> SignalClassifier:
    """Fit a ``SignalClassifier`` (kwargs: C, class_weight, features) on all targets of ``data``."""
    if len(data) == 0:
        raise InvalidArgumentError("the signal dataset is empty")
    return SignalClassifier(**kwargs).fit(data.metrics, data.labels)
