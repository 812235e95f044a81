"""Subject-level train / validation / test splits: no subject has rows in two splits.

Rule. The distinct subjects are sorted, shuffled with ``numpy.random.default_rng(seed)``, and cut into consecutive
runs whose sizes follow the ratios by the largest-remainder method (``floor(n * ratio)`` each, the remaining subjects
going to the splits with the largest fractional parts, ties to the earlier split in train, validation, test order).
Few subjects: every split with a positive ratio gets at least one subject when there are enough subjects for all of
them, a subject being moved from the largest split; with fewer subjects than such splits, they go to train first,
then validation, then test (1 subject: train only; 2: train and validation). Empty splits are left out of the
dataset. The same subjects, ratios and seed always give the same assignment.
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

import numpy as np

from mmrqa.errors import InvalidArgumentError

SPLITS = ("train", "validation", "test")


def split_sizes(n: int, ratios: Sequence[float]) -> list[int]:
    """Number of subjects per split (see the module doc)."""
    if len(ratios) != len(SPLITS) or any(r < 0 for r in ratios) or not math.isclose(sum(ratios), 1.0, abs_tol=1e-6):
        raise InvalidArgumentError(f"split ratios must be 3 non-negative fractions summing to 1, got {list(ratios)}")
    positive = [i for i, r in enumerate(ratios) if r > 0]
    if n <= len(positive):
        return [1 if i in positive[:n] else 0 for i in range(len(SPLITS))]
    exact = [n * r for r in ratios]
    sizes = [math.floor(e) for e in exact]
    order = sorted(range(len(SPLITS)), key=lambda i: (-(exact[i] - sizes[i]), i))
    for i in order[: n - sum(sizes)]:
        sizes[i] += 1
    for i in positive:
        if sizes[i] == 0:
            donor = max(range(len(SPLITS)), key=lambda j: (sizes[j], -j))
            sizes[donor] -= 1
            sizes[i] += 1
    return sizes


def assign_splits(subjects: Iterable[str], ratios: Sequence[float], seed: int) -> dict[str, str]:
    """Subject -> split name."""
    unique = sorted(set(subjects))
    order = [unique[i] for i in np.random.default_rng(seed).permutation(len(unique))]
    assignment: dict[str, str] = {}
    start = 0
    for name, size in zip(SPLITS, split_sizes(len(unique), ratios), strict=True):
        for subject in order[start : start + size]:
            assignment[subject] = name
        start += size
    return assignment
