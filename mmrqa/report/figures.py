"""The plots of the report, as plotly figures: one strip plot per metric, the 2D embedding, the per-slice profile.

Why plotly: the report must be interactive (hover names the scan, a click opens its page, grouping re-draws the
plots) and work from disk with no server. Plotly's figures are plain JSON drawn by plotly.js, which ships inside
the Python wheel (``plotly.offline.get_plotlyjs()``, MIT licence): the report copies it once into ``assets/`` and
every page loads that file, so nothing is fetched from a network and the script is not repeated per page. The same
figure objects are shown by Gradio's ``gr.Plot`` in the Space's cohort tab, so both views are one code path.
matplotlib would give static images (no hover, no click-through); Bokeh and Altair/Vega need their own runtime
too and are not already used by the Space's stack.

The strip plots put each group at an integer x (``code``) with a fixed per-scan jitter, so a grouping change is a
change of x only (the static report's ``report.js`` redoes it in the browser with the same rule: ``x = code +
jitter``). Point colours encode the outlier flags (:data:`COLOURS`), not the group: the group is the position.
"""

from __future__ import annotations

import base64
import math
from typing import Any

import numpy as np

from mmrqa.report.cohort import Cohort

#: point colours: plain, flagged on this metric (|robust z| > 3.5), flagged over all metrics only.
COLOURS = {"plain": "#4c72b0", "metric": "#d62728", "overall": "#ff7f0e"}
#: group colours of the embedding (Okabe-Ito without its orange and vermillion, which would read as the flag
#: colours of the strip plots), cycled.
PALETTE = ("#0072B2", "#009E73", "#CC79A7", "#56B4E9", "#000000", "#999999", "#F0E442", "#8C564B")
#: half-width of the jitter of a strip plot's points around their group's x.
JITTER = 0.28
STRIP_HEIGHT = 250
#: a small explicit template (white background, light grid): plotly's named templates are large and deep-copied into
#: every figure (5 s for the 53 plots of a 1,000-scan report under load, and ~7 KiB each in the page).
TEMPLATE = {
    "layout": {
        "paper_bgcolor": "white",
        "plot_bgcolor": "white",
        "font": {"color": "#2a3f5f"},
        "xaxis": {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8"},
        "yaxis": {"gridcolor": "#ebf0f8", "linecolor": "#ebf0f8", "zerolinecolor": "#ebf0f8"},
        "colorway": ["#636efa", "#EF553B", "#00cc96", "#ab63fa", "#FFA15A", "#19d3f3"],
    }
}


def jitter(n: int) -> np.ndarray:
    """Fixed horizontal offsets of ``n`` points in ``[-JITTER, JITTER]`` (a low-discrepancy sequence: no clumps)."""
    golden = (math.sqrt(5) - 1) / 2
    return ((np.arange(n) * golden) % 1.0 - 0.5) * 2 * JITTER


def _metric_title(name: str) -> str:
    from mmrqa.metrics import CATALOGUE

    info = CATALOGUE.get(name)
    unit = getattr(info, "unit", "") if info else ""
    better = {True: "higher is better", False: "lower is better"}.get(getattr(info, "higher_is_better", None), "")
    extra = ", ".join(x for x in (unit, better) if x)
    return f"{name} ({extra})" if extra else name


def flag_codes(cohort: Cohort, column: int) -> np.ndarray:
    """0 (plain), 1 (flagged on metric number ``column``) or 2 (flagged over all metrics only), per measured scan."""
    out = cohort.outliers
    return np.where(out.metric_flags[:, column], 1, np.where(out.flags, 2, 0))


#: colour scale that maps :func:`flag_codes` 0, 1, 2 (with ``cmin=0, cmax=2``) to the colours of :data:`COLOURS`.
FLAG_SCALE = [[0.0, COLOURS["plain"]], [0.5, COLOURS["metric"]], [1.0, COLOURS["overall"]]]


def figure_dict(fig) -> dict[str, Any]:
    """The figure as a JSON-ready dict (arrays as lists, NaN as None): what ``Plotly.newPlot`` takes."""

    def clean(value: Any) -> Any:
        if isinstance(value, dict) and "bdata" in value and "dtype" in value:  # plotly keeps numeric arrays in base64
            array = np.frombuffer(base64.b64decode(value["bdata"]), dtype=np.dtype(value["dtype"]))
            if "shape" in value:
                array = array.reshape([int(n) for n in str(value["shape"]).split(",")])
            value = array
        if isinstance(value, np.ndarray):
            if value.dtype.kind == "f":
                return clean(value.tolist())
            return value.tolist()
        if isinstance(value, dict):
            return {k: clean(v) for k, v in value.items()}
        if isinstance(value, (list, tuple)):
            return [clean(v) for v in value]
        if isinstance(value, float) and not math.isfinite(value):
            return None
        if isinstance(value, np.generic):
            return value.item()
        return value

    data = fig.to_plotly_json()
    return {"data": clean(data["data"]), "layout": clean(data["layout"])}


def group_medians(values: np.ndarray, codes: np.ndarray, n_groups: int) -> tuple[list, list]:
    """x and y of one short horizontal segment per group at the group's median (None separates segments)."""
    xs: list[Any] = []
    ys: list[Any] = []
    for g in range(n_groups):
        chosen = values[(codes == g) & np.isfinite(values)]
        if chosen.size:
            median = float(np.median(chosen))
            xs += [g - JITTER - 0.05, g + JITTER + 0.05, None]
            ys += [median, median, None]
    return xs, ys


def strip_figure(cohort: Cohort, metric: str, group_by: str | None = None):
    """One metric over the cohort: a point per scan at its group's x, the group medians as dashes.

    Trace 0 (the points) carries ``customdata = [scan index, robust z]``; a click handler opens
    ``cohort.measured[index].page``.
    """
    import plotly.graph_objects as go

    j = cohort.metrics.index(metric)
    values = cohort.matrix[:, j]
    codes, labels = cohort.groups(group_by)
    z = np.round(np.nan_to_num(cohort.outliers.z[:, j], nan=0.0), 2)
    names = np.array([s.name for s in cohort.measured], dtype=object)
    custom = np.column_stack([np.arange(len(values), dtype=float), z])
    mx, my = group_medians(values, codes, len(labels))
    x = np.round(codes + np.round(jitter(len(values)), 4), 4)
    fig = go.Figure(
        [
            go.Scatter(
                x=x,
                y=np.array([float(f"{v:.6g}") for v in values]),
                mode="markers",
                text=names,
                customdata=custom,
                marker={
                    "color": flag_codes(cohort, j),
                    "colorscale": FLAG_SCALE,
                    "cmin": 0,
                    "cmax": 2,
                    "size": 7,
                    "opacity": 0.85,
                },
                hovertemplate="%{text}<br>" + metric + " = %{y:.4g}<br>robust z = %{customdata[1]:.2f}<extra></extra>",
                name="scans",
            ),
            go.Scatter(x=mx, y=my, mode="lines", line={"color": "#222", "width": 2}, hoverinfo="skip", name="median"),
        ]
    )
    fig.update_layout(
        title={"text": _metric_title(metric), "font": {"size": 13}},
        height=STRIP_HEIGHT,
        margin={"l": 50, "r": 10, "t": 32, "b": 40},
        showlegend=False,
        xaxis={
            "tickvals": list(range(len(labels))),
            "ticktext": labels,
            "range": [-0.6, len(labels) - 0.4],
            "zeroline": False,
        },
        yaxis={"zeroline": False},
        hovermode="closest",
        template=TEMPLATE,
    )
    return fig


def embedding_figure(cohort: Cohort, group_by: str | None = None):
    """The scans on the first two principal components of their metrics, coloured by group, flagged scans as X."""
    import plotly.graph_objects as go

    out = cohort.outliers
    codes, labels = cohort.groups(group_by)
    names = [s.name for s in cohort.measured]
    custom = np.column_stack([np.arange(len(names), dtype=float), np.round(out.score, 3)])
    points = go.Scatter(
        x=np.round(out.embedding[:, 0], 4),
        y=np.round(out.embedding[:, 1], 4),
        mode="markers",
        text=names,
        customdata=custom,
        marker={
            "color": [PALETTE[c % len(PALETTE)] for c in codes],
            "symbol": ["x" if f else "circle" for f in out.flags],
            "size": [11 if f else 8 for f in out.flags],
            "line": {"width": 0.5, "color": "#333"},
        },
        hovertemplate="%{text}<br>outlier score = %{customdata[1]:.2f}<extra></extra>",
        showlegend=False,
        name="scans",
    )
    legend = [
        go.Scatter(
            x=[None], y=[None], mode="markers", marker={"color": PALETTE[g % len(PALETTE)], "size": 8}, name=lab
        )
        for g, lab in enumerate(labels)
    ]
    first, second = out.explained
    fig = go.Figure([points, *legend])
    fig.update_layout(
        title={
            "text": "Scans on their metrics (PCA of robust z-scores); X = flagged over all metrics",
            "font": {"size": 13},
        },
        height=420,
        margin={"l": 50, "r": 10, "t": 36, "b": 40},
        xaxis={"title": f"PC 1 ({first:.0%} of variance)", "zeroline": False},
        yaxis={"title": f"PC 2 ({second:.0%} of variance)", "zeroline": False},
        legend={"title": {"text": group_by or ""}},
        hovermode="closest",
        template=TEMPLATE,
    )
    return fig


def slice_profile_figure(series: dict[str, tuple[np.ndarray, str]], slice_indices) -> Any:
    """The per-slice profile (:func:`mmrqa.presentation.slice_series`): one line per series, a menu picks which."""
    import plotly.graph_objects as go

    slices = np.asarray(slice_indices, dtype=int)
    names = list(series)
    traces = []
    for k, name in enumerate(names):
        values, _meaning = series[name]
        ok = np.isfinite(values)
        traces.append(
            go.Scatter(x=slices[ok], y=np.asarray(values, float)[ok], mode="lines+markers", name=name, visible=k == 0)
        )
    buttons = [
        {
            "label": name,
            "method": "update",
            "args": [{"visible": [i == k for i in range(len(names))]}, {"yaxis.title.text": name}],
        }
        for k, name in enumerate(names)
    ]
    fig = go.Figure(traces)
    fig.update_layout(
        height=300,
        margin={"l": 60, "r": 10, "t": 40, "b": 40},
        xaxis={"title": "axial slice"},
        yaxis={"title": names[0] if names else ""},
        updatemenus=[{"buttons": buttons, "direction": "down", "x": 0, "xanchor": "left", "y": 1.18}] if names else [],
        showlegend=False,
        template=TEMPLATE,
    )
    return fig
