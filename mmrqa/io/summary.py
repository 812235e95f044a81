"""A short description of a loaded scan, shared by ``mmrqa info`` and the demo."""

from __future__ import annotations

from typing import Any

import numpy as np

from mmrqa.volume import Volume

#: Metadata keys shown after the geometry, in this order, with their units.
META_FIELDS = (
    ("modality", ""),
    ("series_description", ""),
    ("manufacturer", ""),
    ("field_strength", " T"),
    ("repetition_time", " ms"),
    ("echo_time", " ms"),
    ("phase_encoding_axis", ""),
    ("volume_index", ""),
    ("template", ""),
)


def summarize(volume: Volume) -> dict[str, Any]:
    """A JSON-ready dict: source, format, shape, spacing (mm), orientation, intensity range and key metadata."""
    meta = volume.meta
    data = volume.data
    summary: dict[str, Any] = {
        "source": meta.get("source"),
        "format": meta.get("format"),
        "shape": list(volume.shape),
        "spacing": [round(float(s), 4) for s in volume.spacing],
        "orientation": meta.get("orientation"),
        "intensity_range": [float(np.min(data)), float(np.max(data))],
        # the array axis holding the file's (acquired) slices: not 2 when RAS+ reorientation moved it
        "slice_axis": int((meta.get("stored_axes") or [0, 1, 2])[2]),
    }
    for key, _ in META_FIELDS:
        if meta.get(key) is not None:
            value = meta[key]
            summary[key] = value.item() if isinstance(value, np.generic) else value
    return summary


def format_summary(summary: dict[str, Any]) -> str:
    """Human-readable lines for one :func:`summarize` result."""
    shape = " x ".join(str(n) for n in summary["shape"])
    spacing = " x ".join(f"{s:g}" for s in summary["spacing"])
    low, high = summary["intensity_range"]
    rows = [
        ("format", str(summary["format"])),
        ("shape", shape),
        ("spacing", f"{spacing} mm"),
        ("orientation", summary.get("orientation") or "unknown (no orientation in the file)"),
        ("intensity", f"{low:g} .. {high:g}"),
    ]
    axis = summary.get("slice_axis", 2)
    if axis != 2:  # reorientation moved the acquired slices off the last axis: say where they are
        n, size = summary["shape"][axis], summary["spacing"][axis]
        rows.append(("acquired slices", f"along axis {axis} ({n} of {size:g} mm; per-slice metrics follow them)"))
    for key, unit in META_FIELDS:
        if key in summary:
            value = summary[key]
            rows.append((key, (f"{value:g}" if isinstance(value, float) else str(value)) + unit))
    return "\n".join([str(summary["source"])] + [f"  {key + ':':<21}{text}" for key, text in rows])
