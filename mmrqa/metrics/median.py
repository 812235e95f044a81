"""Exact 5x5 median filter (``mode='nearest'``) from vectorised comparator networks.

``scipy.ndimage.median_filter(x, size=5, mode="nearest")`` selects per pixel, ~30-100 ms for a 320x320 slice.
Here the work is shared between neighbouring windows: every vertical run of 5 is sorted once (a 9-comparator
network), adjacent sorted columns are merged pairwise once (Batcher's odd-even merge), two neighbouring pairs
(columns c..c+3) are merged by a Batcher network pruned to the ranks 8..13 that can matter, and the window's
median (the 13th of 25) is min_j max(Q_(13-j), C_j) with the fifth column C: 91 min/max per pixel instead of
132 for the pair-pair-column merge. Every comparator is a ``np.minimum``/``np.maximum`` over the whole image, so
the result is the same multiset selection as scipy's, bit for bit, for any ordered dtype (Batcher, "Sorting
networks and their applications", AFIPS 1968; pruning: Knuth TAOCP vol. 3, 5.3.4). The networks are checked by the 0-1 principle.
"""

from __future__ import annotations

from functools import lru_cache
from itertools import product

import numpy as np

Comparator = tuple[int, int]  # (wire receiving the min, wire receiving the max)


def _merge(a: list[int], b: list[int]) -> tuple[list[Comparator], list[int]]:
    """Batcher's odd-even merge of two sorted wire lists: comparators and the wires in output order."""
    if not a or not b:
        return [], a + b
    if len(a) == 1 and len(b) == 1:
        return [(a[0], b[0])], [a[0], b[0]]
    ce_even, even = _merge(a[0::2], b[0::2])
    ce_odd, odd = _merge(a[1::2], b[1::2])
    comparators = ce_even + ce_odd
    out = [even[0]]
    rest = even[1:]
    for o, e in zip(odd, rest, strict=False):
        comparators.append((o, e))
        out += [o, e]
    out += odd[len(rest) :] + rest[len(odd) :]
    return comparators, out


def _sort(wires: list[int]) -> tuple[list[Comparator], list[int]]:
    """A merge-sort network over ``wires``."""
    if len(wires) <= 1:
        return [], list(wires)
    mid = len(wires) // 2
    ce_a, a = _sort(wires[:mid])
    ce_b, b = _sort(wires[mid:])
    ce_m, out = _merge(a, b)
    return ce_a + ce_b + ce_m, out


def _prune(comparators: list[Comparator], live: set[int]) -> list[tuple[int, int, bool, bool]]:
    """Keep the comparators that feed the ``live`` output wires, noting which of min/max is needed."""
    kept = []
    live = set(live)
    for lo, hi in reversed(comparators):
        need_lo, need_hi = lo in live, hi in live
        if need_lo or need_hi:
            kept.append((lo, hi, need_lo, need_hi))
            live.update((lo, hi))
    return kept[::-1]


def _run(wires: dict[int, np.ndarray], network: list[tuple[int, int, bool, bool]]) -> None:
    for lo, hi, need_lo, need_hi in network:
        a, b = wires[lo], wires[hi]
        if need_lo:
            wires[lo] = np.minimum(a, b)
        if need_hi:
            wires[hi] = np.maximum(a, b)


@lru_cache(maxsize=1)
def _networks():
    col_ce, col_out = _sort(list(range(5)))
    pair_ce, pair_out = _merge(list(range(5)), list(range(5, 10)))
    # quad: the merge of two sorted pairs (wires 0..9 and 10..19), pruned to its ranks 8..13 (1-based)
    quad_ce, quad_out = _merge(list(range(10)), list(range(10, 20)))
    quad = _prune(quad_ce, set(quad_out[7:13]))
    return (col_ce, col_out), (pair_ce, pair_out), (quad, quad_out[7:13])


def _select13(quad: list[np.ndarray], col: list[np.ndarray]) -> np.ndarray:
    """13th smallest of a sorted 20 (given by its ranks 8..13) and a sorted 5: min over j of max(Q_13-j, C_j).

    For sorted X and Y, the k-th smallest of their union is min over i + j = k of max(X_i, Y_j) (X_0 = Y_0 =
    -inf): every such max has at least k elements at or below it, and the split of the k smallest attains it.
    """
    best = quad[5]  # j = 0: Q_13
    for j in range(1, 6):
        best = np.minimum(best, np.maximum(quad[5 - j], col[j - 1]))
    return best


def _check_networks() -> bool:
    """0-1 principle: the column sort sorts every 0-1 input; the quad-and-select finds the median of any input."""
    (col_ce, col_out), (pair_ce, pair_out), (quad, quad_out) = _networks()
    for bits in product((0, 1), repeat=5):
        w = {i: np.array(v) for i, v in enumerate(bits)}
        _run(w, [(a, b, True, True) for a, b in col_ce])
        if [int(w[i]) for i in col_out] != sorted(bits):
            return False
    for ones in product(range(6), repeat=5):  # five sorted 0-1 columns, k ones each
        cols = [[0] * (5 - k) + [1] * k for k in ones]
        pairs = []
        for left, right in ((cols[0], cols[1]), (cols[2], cols[3])):
            w = {i: np.array(v) for i, v in enumerate(left + right)}
            _run(w, [(a, b, True, True) for a, b in pair_ce])
            pairs.append([int(w[i]) for i in pair_out])
        w = {i: np.array(v) for i, v in enumerate(pairs[0] + pairs[1])}
        _run(w, quad)
        got = _select13([w[i] for i in quad_out], [np.array(v) for v in cols[4]])
        if int(got) != sorted(sum(cols, []))[12]:
            return False
    return True


def median5x5(image: np.ndarray) -> np.ndarray:
    """5x5 median with edge replication, identical to ``scipy.ndimage.median_filter(image, 5, mode='nearest')``.

    The edge-padded image is handled as one flat row-major array of row length W = w + 4, so a shift by a column
    is a shift by 1 and a shift by a row a shift by W: every comparator then runs on contiguous memory (windows
    that wrap across a row end are computed too and dropped at the end).
    """
    (col_ce, col_out), (pair_ce, pair_out), (quad, quad_out) = _networks()
    h, w = image.shape
    flat = np.pad(image, 2, mode="edge").ravel()
    row = w + 4
    n1 = h * row  # columns of 5 starting at every padded position of the first h rows
    col = {k: flat[k * row : k * row + n1] for k in range(5)}
    _run(col, [(a, b, True, True) for a, b in col_ce])
    sorted_cols = [col[i] for i in col_out]  # ascending
    pair = {k: sorted_cols[k][:-1] for k in range(5)}
    pair.update({5 + k: sorted_cols[k][1:] for k in range(5)})
    _run(pair, [(a, b, True, True) for a, b in pair_ce])
    merged = [pair[i] for i in pair_out]  # merge of columns (c, c+1), length n1 - 1
    n2 = n1 - 4
    wires = {k: merged[k][0:n2] for k in range(10)}  # columns c, c+1
    wires.update({10 + k: merged[k][2 : 2 + n2] for k in range(10)})  # columns c+2, c+3
    _run(wires, quad)
    median = _select13([wires[i] for i in quad_out], [sorted_cols[k][4 : 4 + n2] for k in range(5)])  # + column c+4
    result = np.empty(n1, dtype=median.dtype)
    result[:n2] = median
    return result.reshape(h, row)[:, :w].copy()


def _med3(a: np.ndarray, b: np.ndarray, c: np.ndarray) -> np.ndarray:
    return np.maximum(np.minimum(a, b), np.minimum(np.maximum(a, b), c))


def median3x3(volume: np.ndarray) -> np.ndarray:
    """In-plane 3x3 median of every slice of an (X, Y, Z) array, edges replicated.

    Identical to ``scipy.ndimage.median_filter(volume, size=(3, 3, 1), mode="nearest")``: each vertical triple
    is sorted once (3 comparators) and the median of a window's three sorted columns is
    med3(max of the minima, med3 of the medians, min of the maxima), the exact 9-element median from sorted
    columns (Paeth, "Median finding on a 3x3 grid", Graphics Gems 1990), all slices at once.
    """
    x, y = volume.shape[:2]
    pad = np.pad(volume, ((1, 1), (1, 1)) + ((0, 0),) * (volume.ndim - 2), mode="edge")
    a, b, c = pad[0:x], pad[1 : x + 1], pad[2 : x + 2]
    lo, hi = np.minimum(a, b), np.maximum(a, b)
    mid = np.maximum(lo, np.minimum(hi, c))
    lo, hi = np.minimum(lo, c), np.maximum(hi, c)
    lows = np.maximum(np.maximum(lo[:, 0:y], lo[:, 1 : y + 1]), lo[:, 2 : y + 2])
    highs = np.minimum(np.minimum(hi[:, 0:y], hi[:, 1 : y + 1]), hi[:, 2 : y + 2])
    mids = _med3(mid[:, 0:y], mid[:, 1 : y + 1], mid[:, 2 : y + 2])
    return _med3(lows, mids, highs)
