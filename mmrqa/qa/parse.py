"""Reading a model's free-text answer back into the structured value of its question type.

``parse_answer(question_type, text)`` returns the same kind of value as :func:`mmrqa.qa.answers.truth`, or None
when the text is malformed or ambiguous (two different labels named). It never raises, whatever the input.
"""

from __future__ import annotations

import logging
import re
from typing import Any

logger = logging.getLogger(__name__)

#: a number standing alone (not inside a word such as "SNR1" or "T2w", not a "99.5th").
NUMBER = r"(?<![A-Za-z_\d.])[-+]?\d+(?:\.\d+)?(?![A-Za-z_\d])"

QUALITY_SYNONYMS = {
    "good": ("good", "excellent", "high"),
    "medium": ("medium", "fair", "average"),
    "bad": ("bad", "poor", "low"),
}
SEVERITY_SYNONYMS = {
    "mild": ("mild", "slight", "minor", "light"),
    "moderate": ("moderate", "medium"),
    "severe": ("severe", "strong", "heavy", "marked"),
}
ARTIFACT_SYNONYMS = {
    "motion": ("motion",),
    "ghosting": ("ghosting", "ghost", "ghosts"),
    "spike": ("spike", "spikes", "herringbone"),
    "noise": ("noise", "noisy"),
    "bias_field": ("bias field", "bias_field", "bias-field", "intensity inhomogeneity", "inhomogeneity"),
    "blur": ("blur", "blurring", "blurry", "blurred"),
    "ringing": ("ringing", "gibbs"),
    "undersampling": ("undersampling", "undersampled", "aliasing"),
}
_NO_ARTIFACT = re.compile(r"\b(no|none|free of|without)\b[^.]*?\bartifacts?\b|^\s*none\b|\bno artifact", re.I)


def _mentions(text: str, synonyms: dict[str, tuple[str, ...]]) -> list[tuple[int, str]]:
    """(position, label) of every whole-word synonym in ``text``, in order."""
    found = []
    for label, words in synonyms.items():
        for word in words:
            found += [(m.start(), label) for m in re.finditer(rf"\b{re.escape(word)}\b", text, re.I)]
    return sorted(found)


def _single(found: list[tuple[int, str]]) -> str | None:
    labels = {label for _, label in found}
    return labels.pop() if len(labels) == 1 else None


def _rating(text: str) -> str | None:
    return _single(_mentions(text, QUALITY_SYNONYMS))


def _presence(text: str) -> bool | None:
    first = re.match(r"\W*(yes|no)\b", text, re.I)
    if first:
        return first.group(1).lower() == "yes"
    if _NO_ARTIFACT.search(text):
        return False
    return (
        True if re.search(r"\bartifacts?\b.*\b(visible|present)\b|\bthere is an? \w* ?artifact", text, re.I) else None
    )


def _artifact_type(text: str) -> str | None:
    found = _mentions(text, ARTIFACT_SYNONYMS)
    if not found:
        return "none" if _NO_ARTIFACT.search(text) or re.match(r"\W*none\b", text, re.I) else None
    return _single(found)


def _severity(text: str) -> str | None:
    found = _mentions(text, SEVERITY_SYNONYMS)
    if not found:
        none = re.search(r"\bno\b|\bnone\b|\bnot (present|visible)\b|\babsent\b", text, re.I)
        return "none" if none else None
    return _single(found)


def _usability(text: str) -> str | None:
    if re.search(r"\bno need to (repeat|rescan)|\bneed not be repeated|\bdoes not need to be repeated", text, re.I):
        return "usable"
    if re.search(
        r"\b(not usable|unusable|not diagnostic|non-diagnostic|repeat\w*|rescan\w*|re-scan|reacquir\w*)\b", text, re.I
    ):
        return "repeat"
    return "usable" if re.search(r"\b(usable|diagnostic|acceptable for diagnosis)\b", text, re.I) else None


def _comparison(text: str) -> str | None:
    found = sorted(
        [(m.start(), "first") for m in re.finditer(r"\b(first|image 1|1st)\b", text, re.I)]
        + [(m.start(), "second") for m in re.finditer(r"\b(second|image 2|2nd)\b", text, re.I)]
    )
    return found[0][1] if found else None


def _acceptable(text: str) -> bool | None:
    if re.search(r"\b(not acceptable|unacceptable|outside|out of range|not within)\b", text, re.I):
        return False
    return True if re.search(r"\b(acceptable|within|in range)\b", text, re.I) else None


def _range(text: str) -> tuple[str | None, str | None] | None:
    both = re.search(rf"({NUMBER})\s*(?:to|and|–)\s*({NUMBER})", text)
    if both:
        return both.group(1), both.group(2)
    low = re.search(rf"at least\s*({NUMBER})", text, re.I)
    high = re.search(rf"at most\s*({NUMBER})", text, re.I)
    if low or high:
        return (low.group(1) if low else None), (high.group(1) if high else None)
    return None


def _metric_value(text: str) -> dict[str, Any] | None:
    numbers = re.findall(NUMBER, text)
    if not numbers:
        return None
    return {"value": numbers[0], "acceptable": _acceptable(text), "range": _range(text)}


def _report(text: str) -> dict[str, Any] | None:
    quality = re.search(r"quality\s*:\s*([A-Za-z]+)", text, re.I)
    artifact_line = re.search(r"artifact\s*:\s*([^\n]*)", text, re.I)
    if not quality:
        return None
    rating = _rating(quality.group(1))
    line = artifact_line.group(1) if artifact_line else ""
    artifact = "none" if re.match(r"\s*none\b", line, re.I) else _single(_mentions(line, ARTIFACT_SYNONYMS))
    severity = "none" if artifact == "none" else _single(_mentions(line, SEVERITY_SYNONYMS))
    metrics = dict(re.findall(rf"([A-Za-z][\w\-]*)\s*=\s*({NUMBER})", text))
    quality_line = text[quality.start() : text.find("\n", quality.start()) % (len(text) + 1)]
    return {
        "quality": rating,
        "usable": _usability(quality_line) == "usable" if _usability(quality_line) else None,
        "artifact": artifact,
        "severity": severity,
        "metrics": metrics,
    }


_PARSERS = {
    "rating": _rating,
    "presence": _presence,
    "artifact_type": _artifact_type,
    "severity": _severity,
    "metric_value": _metric_value,
    "usability": _usability,
    "report": _report,
    "comparison": _comparison,
}


def parse_answer(question_type: str, text: Any) -> Any:
    """The structured value stated by ``text`` for a question of ``question_type``, or None if it states none.

    rating -> "good" | "medium" | "bad"; presence -> bool; artifact_type -> kind | "none"; severity -> "none" |
    "mild" | "moderate" | "severe"; usability -> "usable" | "repeat"; comparison -> "first" | "second";
    metric_value -> {"value": str, "acceptable": bool | None, "range": (low, high) | None};
    report -> {"quality", "usable", "artifact", "severity", "metrics": {name: str}}.
    """
    parser = _PARSERS.get(question_type)
    if parser is None or not isinstance(text, str) or not text.strip():
        return None
    try:
        return parser(text)
    except Exception:  # noqa: BLE001 - malformed model output must never crash a caller
        logger.debug("could not parse %r answer %r", question_type, text, exc_info=True)
        return None
