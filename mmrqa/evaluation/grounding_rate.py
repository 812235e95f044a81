"""Grounding rate of generated text: how many of its numbers are the example's metrics, at printed precision.

The matching rule is that of the dataset's grounding checker (:mod:`mmrqa.qa.grounding`): a number token counts as
grounded when some metric value of the example (or a catalogue reference bound of one of its metrics) prints as
the same string at the token's own number of decimals. This module only counts; it reuses the checker's rule.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

from mmrqa.errors import InvalidArgumentError
from mmrqa.qa.answers import default_catalogue
from mmrqa.qa.grounding import allowed_numbers, ungrounded_numbers
from mmrqa.qa.parse import NUMBER


def grounding_counts(
    texts: Sequence[str | None], reports: Sequence[Any], *, catalogue: Mapping[str, Any] | None = None
) -> tuple[list[int], list[int]]:
    """Per text: (numbers that are grounded, numbers stated). ``reports[i]`` has the ``values`` of text i.

    A missing text (None) states no number. Pass the result to ``evaluate_predictions(..., grounding=...)`` or
    ``grounding_scores``.
    """
    if len(texts) != len(reports):
        raise InvalidArgumentError(f"got {len(texts)} texts for {len(reports)} metric reports")
    if catalogue is None:
        catalogue = default_catalogue()[0]
    matched, totals = [], []
    for text, report in zip(texts, reports, strict=True):
        text = text or ""
        total = len(re.findall(NUMBER, text))
        bad = len(ungrounded_numbers(text, allowed_numbers([report], dict(catalogue))))
        matched.append(total - bad)
        totals.append(total)
    return matched, totals
