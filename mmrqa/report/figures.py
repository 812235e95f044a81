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

import math
from typing import Any

import numpy as np

from mmrqa.report.cohort import Cohort

#: point colours: plain, flagged on this metric (|robust z| > 3.5), flagged over all metrics only.
COLOURS = {"plain": "#4c72b0", "metric": "#d62728", "overall": "#ff7f0e"}
#: group colours of the embedding (Okabe-Ito, readable with colour-vision deficiency), cycled.
PALETTE = ("#0072B2", "#E69F00", "#009E73", "#CC79A7", "#56B4E9", "#D55E00", "#F0E442", "#000000")
#: half-width of the jitter of a strip plot's points around their group's x.
JITTER = 0.28
STRIP_HEIGHT = 250


def plain(values, digits: int = 6) -> list:
    """A JSON-friendly list: NaN -> None, floats rounded to ``digits`` significant digits (smaller pages)."""
    out = []
    for v in np.asarray(values, dtype=np.float64).ravel():
        out.append(None if not math.isfinite(v) else float(f"{v:.{digits}g}"))
    return out


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


def point_colours(cohort: Cohort, column: int) -> list[str]:
    """Colour of each measured scan's point on the strip plot of metric number ``column``."""
    out = cohort.outliers
    return [
        COLOURS["metric"] if out.metric_flags[k, column] else COLOURS["overall"] if out.flags[k] else COLOURS["plain"]
        for k in range(len(cohort.measured))
    ]


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
    z = cohort.outliers.z[:, j]
    names = [s.name for s in cohort.measured]
    custom = [[k, round(float(v), 2)] for k, v in enumerate(np.nan_to_num(z, nan=0.0))]
    mx, my = group_medians(values, codes, len(labels))
    fig = go.Figure(
        [
            go.Scatter(
                x=[round(float(c + j), 4) for c, j in zip(codes, np.round(jitter(len(values)), 4), strict=True)],
                y=plain(values),
                mode="markers",
                text=names,
                customdata=custom,
                marker={"color": point_colours(cohort, j), "size": 7, "opacity": 0.85},
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
        template="plotly_white",
    )
    return fig


def embedding_figure(cohort: Cohort, group_by: str | None = None):
    """The scans on the first two principal components of their metrics, coloured by group, flagged scans as X."""
    import plotly.graph_objects as go

    out = cohort.outliers
    codes, labels = cohort.groups(group_by)
    names = [s.name for s in cohort.measured]
    custom = [[k, round(float(v), 3)] for k, v in enumerate(out.score)]
    points = go.Scatter(
        x=plain(out.embedding[:, 0], 4),
        y=plain(out.embedding[:, 1], 4),
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
        template="plotly_white",
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
            go.Scatter(
                x=slices[ok].tolist(), y=plain(np.asarray(values)[ok]), mode="lines+markers", name=name, visible=k == 0
            )
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
        template="plotly_white",
    )
    return fig
