"""Cohort QC report: a static, self-contained folder (opens from disk, no server, no network) that shows a whole
cohort at once, flags its outliers and links to a page per scan. ``mmrqa report`` is its command; the Space's
cohort tab shows the same group view from an uploaded metrics table.

Floor 4 (it uses the pipeline, the renderer and the engines). Heavy or optional packages (plotly, scikit-learn)
are imported inside the functions that draw or fit, so importing this package stays cheap.

- :func:`write_report` (:mod:`.build`): scans or a metrics table -> the report folder.
- :func:`cohort_from_table`, :class:`Cohort` (:mod:`.cohort`): the group view's data, from a metrics table.
- :func:`find_outliers` (:mod:`.outliers`): robust per-metric and multivariate flags, the 2D embedding.
- :func:`strip_figure`, :func:`embedding_figure` (:mod:`.figures`): the plotly figures of the group view.
- :func:`cohort_view` (:mod:`.view`): the group view (figures + table rows) of a metrics table, for the Space.
"""

from mmrqa.report.build import ReportResult, write_report
from mmrqa.report.cohort import Cohort, CohortScan, cohort_from_table, read_metrics_table
from mmrqa.report.figures import embedding_figure, strip_figure
from mmrqa.report.outliers import OutlierResult, find_outliers
from mmrqa.report.view import CohortView, cohort_view

__all__ = [
    "Cohort",
    "CohortScan",
    "CohortView",
    "OutlierResult",
    "ReportResult",
    "cohort_from_table",
    "cohort_view",
    "embedding_figure",
    "find_outliers",
    "read_metrics_table",
    "strip_figure",
    "write_report",
]
