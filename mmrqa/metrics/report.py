"""``MetricReport``: the numbers of one scan, per volume and per slice, and their serialisations."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from typing import Any

import numpy as np

NA = "n/a"


def format_value(value: Any) -> str:
    """A TSV cell: NaN/None as ``n/a``, integers without a decimal point, floats with full precision (repr)."""
    if value is None:
        return NA
    if isinstance(value, (float, np.floating)):
        value = float(value)
        if math.isnan(value):
            return NA
        if math.isinf(value):
            return "inf" if value > 0 else "-inf"
        return repr(value)
    return str(value)


def _json_number(value: float) -> float | None:
    value = float(value)
    return None if not math.isfinite(value) else value


@dataclass
class MetricReport:
    """Metrics of one scan.

    Attributes:
        profile: "default" or "mrqy".
        values: per-volume values, name -> float (NaN when undefined, e.g. no background).
        per_slice: name -> array over ``slice_indices`` (NaN where a slice was skipped).
        slice_indices: indices (third axis of the stored array: the acquired slices) of the slices in ``per_slice``.
        meta: path, shape, spacing of the scan.
    """

    profile: str
    values: dict[str, float]
    per_slice: dict[str, np.ndarray] = field(default_factory=dict)
    slice_indices: np.ndarray = field(default_factory=lambda: np.zeros(0, dtype=int))
    meta: dict[str, Any] = field(default_factory=dict)

    def to_dict(self, per_slice: bool = False) -> dict[str, Any]:
        """JSON-ready dict: non-finite values become None."""
        out: dict[str, Any] = {
            "profile": self.profile,
            "meta": {k: (list(v) if isinstance(v, tuple) else v) for k, v in self.meta.items()},
            "values": {k: _json_number(v) for k, v in self.values.items()},
        }
        if per_slice:
            out["slice_indices"] = [int(i) for i in self.slice_indices]
            out["per_slice"] = {k: [_json_number(x) for x in v] for k, v in self.per_slice.items()}
        return out

    def to_json(self, per_slice: bool = False, indent: int | None = None) -> str:
        return json.dumps(self.to_dict(per_slice=per_slice), indent=indent)

    def columns(self) -> list[str]:
        return ["path", *self.values]

    def to_row(self, sep: str = "\t") -> str:
        """One TSV (or CSV) line: ``path`` then every value, NaN as ``n/a``."""
        cells = [str(self.meta.get("path", "")), *(format_value(v) for v in self.values.values())]
        return sep.join(cells)

    def slice_rows(self, sep: str = "\t") -> list[str]:
        """One line per slice: path, slice index, then each per-slice measure."""
        names = list(self.per_slice)
        rows = []
        for k, index in enumerate(self.slice_indices):
            cells = [str(self.meta.get("path", "")), str(int(index))]
            cells += [format_value(float(self.per_slice[name][k])) for name in names]
            rows.append(sep.join(cells))
        return rows

    def slice_columns(self) -> list[str]:
        return ["path", "slice", *self.per_slice]
