"""Ground-truth labels of one example and the one rule that turns severities into quality scores.

Quality follows MR-ART (Narai et al., Sci. Data 9, 630, 2022: expert scores of the OpenNeuro ds004173 T1w scans):
``1`` good (no visible artifact), ``2`` medium (artifacts visible, still usable for diagnosis), ``3`` bad (artifacts
compromise diagnosis: repeat the scan). Artifact kinds and severities are those of :mod:`mmrqa.artifacts.registry`. Simulated artifacts carry a severity from their ``ArtifactRecord``;
:func:`quality_from_severity` maps it to this scale and is the only place where that mapping lives.
"""

from __future__ import annotations

from dataclasses import dataclass

from mmrqa.artifacts.registry import KINDS as ARTIFACT_KINDS
from mmrqa.artifacts.registry import SEVERITIES
from mmrqa.errors import InvalidArgumentError

QUALITY_WORDS: dict[int, str] = {1: "good", 2: "medium", 3: "bad"}
#: quality word -> the words an answer may say it with (what the answer parser accepts).
QUALITY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "good": ("good", "excellent", "high"),
    "medium": ("medium", "fair", "average"),
    "bad": ("bad", "poor", "low"),
}
#: severity -> quality score. A mild artifact is visible but leaves the scan readable (MR-ART's "medium"); moderate
#: and severe ones hide anatomy at the scale of small lesions, which MR-ART's raters scored "bad".
SEVERITY_TO_QUALITY: dict[str, int] = {"none": 1, "mild": 2, "moderate": 3, "severe": 3}


def quality_word(quality: int) -> str:
    """1 -> "good", 2 -> "medium", 3 -> "bad"."""
    if quality not in QUALITY_WORDS:
        raise InvalidArgumentError(f"quality must be 1 (good), 2 (medium) or 3 (bad), got {quality!r}")
    return QUALITY_WORDS[quality]


def quality_from_word(word: str) -> int:
    """Inverse of :func:`quality_word`."""
    for score, name in QUALITY_WORDS.items():
        if name == word:
            return score
    raise InvalidArgumentError(f"unknown quality word {word!r}: expected one of {', '.join(QUALITY_WORDS.values())}")


def quality_from_severity(severity: str) -> int:
    """The quality score (1-3) of a scan whose only artifact has this severity (see ``SEVERITY_TO_QUALITY``)."""
    if severity not in SEVERITY_TO_QUALITY:
        raise InvalidArgumentError(f"unknown severity {severity!r}: expected one of {', '.join(SEVERITIES)}")
    return SEVERITY_TO_QUALITY[severity]


def is_usable(quality: int) -> bool:
    """Usable for diagnosis unless the quality is bad (3): then the scan should be repeated."""
    return quality_word(quality) != "bad"


def usability_word(quality: int) -> str:
    """``"usable"``, or ``"repeat"`` for a scan of bad quality (:func:`is_usable`)."""
    return "usable" if is_usable(quality) else "repeat"


@dataclass(frozen=True)
class Labels:
    """What is true of one example.

    Attributes:
        quality: 1 good, 2 medium, 3 bad (MR-ART scale).
        artifact: one of ``ARTIFACT_KINDS``, ``"none"``, or None when unknown (e.g. an expert score without a type).
        severity: one of ``SEVERITIES``, or None when unknown. ``artifact == "none"`` implies severity ``none``.
    """

    quality: int
    artifact: str | None = "none"
    severity: str | None = "none"

    def __post_init__(self) -> None:
        quality_word(self.quality)
        if self.artifact is not None and self.artifact != "none" and self.artifact not in ARTIFACT_KINDS:
            raise InvalidArgumentError(f"unknown artifact kind {self.artifact!r}: expected one of {ARTIFACT_KINDS}")
        if self.severity is not None and self.severity not in SEVERITIES:
            raise InvalidArgumentError(f"unknown severity {self.severity!r}: expected one of {SEVERITIES}")
        if self.artifact == "none" and self.severity not in (None, "none"):
            raise InvalidArgumentError(f"artifact 'none' cannot have severity {self.severity!r}")
        if self.severity == "none" and self.artifact not in (None, "none"):
            raise InvalidArgumentError(f"artifact {self.artifact!r} with severity 'none' is no artifact: use 'none'")

    @classmethod
    def from_record(cls, record) -> Labels:
        """Labels of a scan corrupted by one simulated artifact, read from its ``ArtifactRecord``."""
        if record.severity == "none":
            return cls(quality_from_severity("none"), "none", "none")
        return cls(quality_from_severity(record.severity), record.kind, record.severity)

    @property
    def quality_word(self) -> str:
        return quality_word(self.quality)

    @property
    def usable(self) -> bool:
        return is_usable(self.quality)
