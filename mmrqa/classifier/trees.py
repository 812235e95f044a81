"""A fitted scikit-learn ``GradientBoostingClassifier`` as plain arrays, and its prediction in numpy.

Why not the estimator itself: scikit-learn saves with pickle/joblib, which runs code on load, and importing it costs
~0.7 s (measured here, `python -X importtime`), more than the whole classification of a scan. The trees are exported
through scikit-learn's public tree API (``estimators_[i, k].tree_``: ``children_left``, ``children_right``,
``feature``, ``threshold``, ``value``) into arrays saved with ``numpy.savez`` and read back with
``numpy.load(allow_pickle=False)``, which runs no code. Prediction reproduces scikit-learn's ``decision_function``:
a sample goes left when ``float32(x[feature]) <= threshold`` (trees see float32 inputs), the raw score of class k is
the initial score plus ``learning_rate`` times the sum of the leaf values of the trees of class k (a two-class head
keeps one tree per iteration, for the second class; the first class's raw score is 0, so that the softmax of the two
is scikit-learn's logistic probability).
:func:`export` checks the agreement on the training rows (to 1e-9) before returning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from mmrqa.errors import ModelLoadError


@dataclass
class TreeEnsemble:
    """Gradient-boosted trees of one head: ``roots[i, k]`` is the root node of iteration i, class k."""

    classes: list[str]
    init: np.ndarray  # (K,) raw score before the first tree
    learning_rate: float
    feature: np.ndarray  # (nodes,) int32, -1 at a leaf
    threshold: np.ndarray  # (nodes,) float64
    left: np.ndarray  # (nodes,) int32 absolute index, -1 at a leaf
    right: np.ndarray  # (nodes,) int32
    value: np.ndarray  # (nodes,) float64 leaf value
    roots: np.ndarray  # (iterations, K) int32
    importance: np.ndarray  # (d,) scikit-learn's impurity-based feature importances

    def raw(self, x: np.ndarray) -> np.ndarray:
        """(n, K) raw scores (scikit-learn's ``decision_function``) of the rows of ``x``."""
        x = np.asarray(x, dtype=np.float32).astype(np.float64)
        n, (iterations, k) = len(x), self.roots.shape
        node = np.broadcast_to(self.roots.reshape(1, -1), (n, iterations * k)).copy()
        rows = np.arange(n)[:, None]
        while True:
            feat = self.feature[node]
            inner = feat >= 0
            if not inner.any():
                break
            go_left = x[rows, np.where(inner, feat, 0)] <= self.threshold[node]
            node = np.where(inner, np.where(go_left, self.left[node], self.right[node]), node)
        leaves = self.value[node].reshape(n, iterations, k).sum(axis=1)
        raw = self.init[None, :] + self.learning_rate * leaves
        return np.column_stack([np.zeros(n), raw]) if len(self.classes) == 2 and k == 1 else raw

    def to_arrays(self, prefix: str) -> dict[str, np.ndarray]:
        return {
            f"{prefix}_classes": np.asarray(self.classes, dtype=str),
            f"{prefix}_init": self.init,
            f"{prefix}_learning_rate": np.asarray(self.learning_rate),
            f"{prefix}_feature": self.feature,
            f"{prefix}_threshold": self.threshold,
            f"{prefix}_left": self.left,
            f"{prefix}_right": self.right,
            f"{prefix}_value": self.value,
            f"{prefix}_roots": self.roots,
            f"{prefix}_importance": self.importance,
        }

    @classmethod
    def from_arrays(cls, arrays, prefix: str) -> TreeEnsemble:
        try:
            out = cls(
                [str(c) for c in arrays[f"{prefix}_classes"]],
                np.asarray(arrays[f"{prefix}_init"], dtype=np.float64),
                float(arrays[f"{prefix}_learning_rate"]),
                np.asarray(arrays[f"{prefix}_feature"], dtype=np.int32),
                np.asarray(arrays[f"{prefix}_threshold"], dtype=np.float64),
                np.asarray(arrays[f"{prefix}_left"], dtype=np.int32),
                np.asarray(arrays[f"{prefix}_right"], dtype=np.int32),
                np.asarray(arrays[f"{prefix}_value"], dtype=np.float64),
                np.asarray(arrays[f"{prefix}_roots"], dtype=np.int32),
                np.asarray(arrays[f"{prefix}_importance"], dtype=np.float64),
            )
        except KeyError as exc:
            raise ModelLoadError(f"the classifier file has no {exc.args[0]!r}: damaged or another format") from exc
        k = 1 if len(out.classes) == 2 else len(out.classes)
        if out.roots.shape[1] != k or out.init.shape != (k,):
            raise ModelLoadError(f"the classifier's {prefix} head is inconsistent (classes vs trees)")
        return out


def export(estimator, x: np.ndarray) -> TreeEnsemble:
    """The arrays of a fitted multiclass ``GradientBoostingClassifier``; ``x`` (training rows) checks agreement."""
    trees = estimator.estimators_  # (iterations, K) DecisionTreeRegressor; K = 1 for two classes
    features, thresholds, lefts, rights, values, roots = [], [], [], [], [], np.zeros(trees.shape, dtype=np.int32)
    offset = 0
    for i in range(trees.shape[0]):
        for k in range(trees.shape[1]):
            tree = trees[i, k].tree_
            leaf = tree.children_left < 0
            roots[i, k] = offset
            features.append(np.where(leaf, -1, tree.feature).astype(np.int32))
            thresholds.append(np.where(leaf, 0.0, tree.threshold))
            lefts.append(np.where(leaf, -1, tree.children_left + offset).astype(np.int32))
            rights.append(np.where(leaf, -1, tree.children_right + offset).astype(np.int32))
            values.append(tree.value[:, 0, 0].astype(np.float64))
            offset += tree.node_count
    ensemble = TreeEnsemble(
        [str(c) for c in estimator.classes_],
        np.zeros(trees.shape[1]),
        float(estimator.learning_rate),
        np.concatenate(features),
        np.concatenate(thresholds),
        np.concatenate(lefts),
        np.concatenate(rights),
        np.concatenate(values),
        roots,
        np.asarray(estimator.feature_importances_, dtype=np.float64),
    )
    reference = estimator.decision_function(x).reshape(len(x), -1)
    own = ensemble.raw(x)[:, -trees.shape[1] :]
    ensemble.init = (reference - own).mean(axis=0)  # the prior's raw score, the same for every row
    gap = float(np.max(np.abs(ensemble.raw(x)[:, -trees.shape[1] :] - reference)))
    if gap > 1e-9:
        raise RuntimeError(f"exported trees disagree with scikit-learn by {gap:.2e}")
    return ensemble
