"""What the answer parsers share: the number pattern, the vocabularies they accept, whole-word matching.

Each question type's own parser is registered with it (:mod:`mmrqa.qa.questions`); ``mmrqa.qa.parse_answer``
(:func:`mmrqa.qa.bank.parse_answer`) picks it by type and never raises. The vocabularies come from their
registries: artifact kinds and severities from :mod:`mmrqa.artifacts.registry`, quality words from
:mod:`mmrqa.qa.labels`.
"""

from __future__ import annotations

import re

from mmrqa.artifacts.registry import ARTIFACT_KINDS, SEVERITY_SYNONYMS
from mmrqa.qa.labels import QUALITY_SYNONYMS

#: a number standing alone (not inside a word such as "SNR1" or "T2w", not a "99.5th").
NUMBER = r"(?<![A-Za-z_\d.])[-+]?\d+(?:\.\d+)?(?![A-Za-z_\d])"

#: artifact kind -> the words an answer may name it by.
ARTIFACT_SYNONYMS: dict[str, tuple[str, ...]] = {kind.name: kind.synonyms for kind in ARTIFACT_KINDS}
#: "no artifact" said in words.
NO_ARTIFACT = re.compile(r"\b(no|none|free of|without)\b[^.]*?\bartifacts?\b|^\s*none\b|\bno artifact", re.I)

__all__ = ["ARTIFACT_SYNONYMS", "NO_ARTIFACT", "NUMBER", "QUALITY_SYNONYMS", "SEVERITY_SYNONYMS", "mentions", "single"]


def mentions(text: str, synonyms: dict[str, tuple[str, ...]]) -> list[tuple[int, str]]:
    """(position, label) of every whole-word synonym in ``text``, in order."""
    found = []
    for label, words in synonyms.items():
        for word in words:
            found += [(m.start(), label) for m in re.finditer(rf"\b{re.escape(word)}\b", text, re.I)]
    return sorted(found)


def single(found: list[tuple[int, str]]) -> str | None:
    """The one label named in ``found``; None when none or two different ones are named."""
    labels = {label for _, label in found}
    return labels.pop() if len(labels) == 1 else None
