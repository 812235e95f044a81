"""One scan opened in an interactive viewer (the Space): its metrics, slices, assessment and answers to questions.

A front end keeps one :class:`ScanSession` per user session and only lays out what it returns:

    session = ScanSession.open("scan.nii.gz")          # mmrqa.uploads: size limits, safe archives, any format
    image = session.render("axial", session.default_slice("axial"))
    rows = session.metric_table()                         # lights with the ranges that fit the scan
    session = session.assessed(pipe)                     # MMRQAPipeline (a model, or metrics-only)
    index, answer, session = session.answer(pipe, "How severe is the ghosting?", "axial", 12)

A session is immutable (each step returns a new one), so concurrent requests never see half an update.
:class:`SessionFiles` writes what a front end serves as files (slice PNGs, downloadable reports), atomically and in
one folder per session; :func:`choose_pipeline` picks the first model that loads, else the metrics-only pipeline,
with a sentence saying which. Nothing here imports a UI toolkit.
"""

from __future__ import annotations

import atexit
import dataclasses
import functools
import hashlib
import io
import logging
import os
import shutil
import tempfile
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from mmrqa.errors import MMRQAError
from mmrqa.fileio import write_bytes_atomic, write_text_atomic
from mmrqa.io import format_summary, summarize
from mmrqa.metrics import MetricReport, compute_metrics
from mmrqa.metrics.context import ScanContext, context_of
from mmrqa.metrics.ranges import catalogue_for
from mmrqa.pipeline import Assessment, MMRQAPipeline
from mmrqa.pipeline.metrics_only import example_questions, signal_answer
from mmrqa.presentation import lights_sentence, metric_table, slice_series
from mmrqa.render import PLANES, pick_slices, render_slice, window_levels
from mmrqa.uploads import load_upload
from mmrqa.volume import Volume

logger = logging.getLogger(__name__)

MODEL_ENV = "MMRQA_MODEL"
DEMO_ADAPTER_ENV = "MMRQA_DEMO_ADAPTER"
#: Question types offered as chat examples: one image, answerable in both modes (comparison needs two images).
CHAT_EXAMPLE_TYPES = ("rating", "artifact_type", "severity", "metric_value", "usability", "report")
#: Ends every metrics-only chat answer: the reader must know the image was not looked at.
METRICS_ONLY_NOTE = "*(metrics-only mode: from the scan's metrics, not the image)*"


def chat_examples() -> list[str]:
    """Example questions for a chat about a scan (the bank's first phrasing of each :data:`CHAT_EXAMPLE_TYPES`)."""
    return example_questions(CHAT_EXAMPLE_TYPES)


@dataclasses.dataclass(frozen=True)
class ScanSession:
    """A loaded scan with its metrics, display window and per-slice series, and its assessment once made.

    Attributes:
        name: the file name the user gave (never a server path).
        volume: the scan.
        report: its metrics (:func:`mmrqa.metrics.compute_metrics`).
        window: intensities mapped to black and white (:func:`mmrqa.render.window_levels`), shared by all slices.
        series: per-slice series to plot (:func:`mmrqa.presentation.slice_series`).
        id: a random id (names the session's folder of served files).
        assessment: the pipeline's assessment, None until :meth:`assessed`.
    """

    name: str
    volume: Volume
    report: MetricReport
    window: tuple[float, float]
    series: dict[str, tuple[np.ndarray, str]]
    id: str = dataclasses.field(default_factory=lambda: uuid.uuid4().hex)
    assessment: Assessment | None = None

    @classmethod
    def open(cls, path: str | os.PathLike, name: str | None = None) -> ScanSession:
        """Load an upload (any :mod:`mmrqa.uploads` format, limits checked) and compute its metrics.

        Raises:
            MMRQAError: the upload is too large, unsafe, unsupported or corrupt (the message names ``name``).
        """
        name = name or Path(path).name
        volume = load_upload(path, name=name)
        report = compute_metrics(volume)
        series = slice_series(report.per_slice, report.slice_indices)
        return cls(name, volume, report, window_levels(volume), series)

    # -- judging -----------------------------------------------------------------------------------------------------
    @functools.cached_property
    def context(self) -> ScanContext:
        """What the scan is, as the reference ranges see it (:mod:`mmrqa.metrics.context`)."""
        return context_of(self.volume, self.report)

    @functools.cached_property
    def catalogue(self) -> dict[str, Any]:
        """The catalogue with the ranges that fit this scan (:func:`mmrqa.metrics.ranges.catalogue_for`)."""
        return catalogue_for(self.context)

    def metric_table(self, reference=None) -> list[list[str]]:
        """The metrics table (:func:`mmrqa.presentation.metric_table`) with the ranges that fit this scan, or judged
        against ``reference`` (a :class:`mmrqa.metrics.cohort.CohortReference`)."""
        return metric_table(self.report.values, self.catalogue, reference)

    # -- viewing -----------------------------------------------------------------------------------------------------
    def n_slices(self, plane: str) -> int:
        return int(self.volume.shape[PLANES[plane]])

    def clip(self, plane: str, index: float | None) -> int:
        """A slice index of ``plane``, rounded and clipped to the scan."""
        return int(min(max(round(float(index or 0)), 0), self.n_slices(plane) - 1))

    def default_slice(self, plane: str) -> int:
        """The slice shown first: the middle informative slice (the middle one when none is informative)."""
        try:
            return pick_slices(self.volume, 1, plane)[0]
        except MMRQAError:
            return self.n_slices(plane) // 2

    def render(self, plane: str, index: float | None) -> Any:
        """The slice as an 8-bit PIL image in the session's window."""
        return render_slice(self.volume, self.clip(plane, index), plane, window=self.window)

    def summary_markdown(self) -> str:
        """The scan's name, its header summary and its metrics' lights, as markdown."""
        summary = format_summary(summarize(self.volume))
        lights = lights_sentence(self.report.values, self.catalogue)
        return (
            f"**{self.name}** loaded.\n\n```\n{summary}\n```\n\nMetrics: {lights} "
            f"(ranges for a {self.context.describe()})"
        )

    def metrics_json(self) -> dict[str, Any]:
        """The metrics (per-slice included) as JSON, the scan named ``scan`` (a top-level ``path`` key would read
        as a file to API clients, and the server path must not leak)."""
        data = self.report.to_dict(per_slice=True)
        meta = {k: v for k, v in data.pop("meta").items() if k != "path"}
        return {"scan": self.name, **data, "meta": meta}

    def plot_columns(self, series: str | None, plane: str, index: int) -> dict[str, Any]:
        """Long-format columns (``slice``, ``value``, ``series``) of one per-slice series, plus a vertical "current
        slice" marker spanning its values when ``plane`` is axial (per-slice metrics run along the axial axis).

        ``series`` defaults to the first series when unknown."""
        series = series if series in self.series else next(iter(self.series))
        values, _ = self.series[series]
        slices = np.asarray(self.report.slice_indices)
        ok = np.isfinite(values)
        columns = {"slice": slices[ok].astype(int), "value": values[ok], "series": [series] * int(ok.sum())}
        if plane == "axial" and ok.any():
            low, high = float(values[ok].min()), float(values[ok].max())
            columns["slice"] = np.concatenate([columns["slice"], [index, index]]).astype(int)
            columns["value"] = np.concatenate([columns["value"], [low, high]])
            columns["series"] += ["current slice"] * 2
        return columns

    # -- assessing and answering -------------------------------------------------------------------------------------
    def assessed(self, pipe: MMRQAPipeline) -> ScanSession:
        """This session with the pipeline's assessment of the scan."""
        return dataclasses.replace(self, assessment=pipe(self.volume))

    def answer(self, pipe: MMRQAPipeline, question: str, plane: str, index: float | None) -> tuple[int, str, Any]:
        """Answer a question about one slice of the scan.

        With a model, the model sees the slice and the scan's metrics (:meth:`MMRQAPipeline.ask`). In metrics-only
        mode the answer is the grounded template of the question-bank question from the signal classifier's estimate
        (:func:`mmrqa.pipeline.metrics_only.signal_answer`), marked as such; the scan is assessed first if needed.

        Returns:
            ``(slice index used, answer, session)``: the session carries the assessment made on the way.
        """
        index = self.clip(plane, index)
        if pipe.loaded is None:
            session = self if self.assessment is not None else self.assessed(pipe)
            estimate = session.assessment.signal_estimate or {}
            catalogue = pipe.catalogue_of(session.assessment)  # the ranges of the assessment's lights
            answer = signal_answer(question, self.report, estimate, catalogue)
            return index, answer + "\n\n" + METRICS_ONLY_NOTE, session
        image = self.render(plane, index)
        return index, pipe.ask(question.strip(), image, self.report, slice_index=index).answer, self


class SessionFiles:
    """Files a front end serves for its sessions (slice PNGs, reports), in one folder per session under ``root``."""

    def __init__(self, root: str | os.PathLike) -> None:
        self.root = Path(root)

    @classmethod
    def temporary(cls, prefix: str = "mmrqa-session-files-") -> SessionFiles:
        """Files under a new temp folder, removed when the process exits."""
        root = tempfile.mkdtemp(prefix=prefix)
        atexit.register(shutil.rmtree, root, ignore_errors=True)
        return cls(root)

    def folder(self, session_id: str, kind: str = "reports") -> Path:
        return self.root / f"{session_id}-{kind}"

    def slice_png(self, session: ScanSession, image: Any) -> str:
        """The slice image as a PNG file named by its content, written atomically; its path.

        A path (rather than the image) lets a toolkit copy the file into its cache with a write under a temporary name
        and a rename: an in-place encode into a shared content-addressed cache lets one session download a file that
        another is rewriting (an empty response under load)."""
        buffer = io.BytesIO()
        image.save(buffer, format="PNG")
        payload = buffer.getvalue()
        path = self.folder(session.id, "slices") / f"slice-{hashlib.sha256(payload).hexdigest()[:16]}.png"
        if not path.is_file():
            write_bytes_atomic(path, payload)
        return str(path)

    def write_reports(self, session: ScanSession) -> list[str]:
        """The session's assessment as JSON and Markdown files (replacing the previous ones); their paths."""
        folder = self.folder(session.id)
        shutil.rmtree(folder, ignore_errors=True)
        folder.mkdir(parents=True)
        stem = Path(session.name).name.split(".")[0] or "scan"
        json_path, md_path = folder / f"{stem}_assessment.json", folder / f"{stem}_assessment.md"
        write_text_atomic(json_path, session.assessment.to_json(indent=2))  # a download is never a torn file
        write_text_atomic(md_path, session.assessment.to_markdown())
        return [str(json_path), str(md_path)]

    def forget(self, session: ScanSession | None) -> None:
        """Remove a session's files (when it expires or closes)."""
        if isinstance(session, ScanSession):
            for kind in ("reports", "slices"):
                shutil.rmtree(self.folder(session.id, kind), ignore_errors=True)


def choose_pipeline(candidates: Sequence[tuple[str, str, str]], unset: Sequence[str] = ()) -> tuple[Any, str]:
    """The first candidate model that loads, else the metrics-only pipeline, and a markdown sentence saying which.

    Args:
        candidates: ``(label, reference, caveat)``: how the page names the model, its Hub id or folder ("" to skip)
            and a sentence added when it is used.
        unset: reasons no model was tried, listed when none loads (e.g. "`MMRQA_MODEL` is not set").

    Returns:
        ``(MMRQAPipeline, notice)``.
    """
    problems = list(unset)
    for label, ref, caveat in candidates:
        if not ref:
            continue
        try:
            pipe = MMRQAPipeline.from_pretrained(ref)
        except (MMRQAError, ImportError, OSError) as exc:
            logger.warning("cannot load %s (%s): %s", label, ref, exc)
            problems.append(f"{label} `{ref}` could not be loaded ({exc})")
            continue
        return pipe, f"**Model:** {label} `{ref}`.{f' {caveat}' if caveat else ''}"
    reason = "; ".join(problems) or "no model configured"
    return MMRQAPipeline.metrics_only(), (
        f"**Metrics-only mode** ({reason}). Ratings and artifacts come from a signal-only classifier on the metrics; "
        "the chat answers questions of the question bank from the metrics."
    )


def pipeline_from_env(default_demo: str | os.PathLike = "demo_output/adapter") -> tuple[Any, str]:
    """The pipeline a front end runs, chosen by the environment, and a markdown sentence saying which.

    ``$MMRQA_MODEL`` (a Hub id or a local folder of an MMRQA adapter or merged model); if it is unset or cannot be
    loaded (offline, missing), the tiny demo adapter (``$MMRQA_DEMO_ADAPTER``, else ``default_demo``) when it
    exists; else the metrics-only pipeline.
    """
    model = os.environ.get(MODEL_ENV, "").strip()
    demo = os.environ.get(DEMO_ADAPTER_ENV) or str(default_demo)
    tiny = "This is a tiny demo model trained for a few steps: its answers are not meaningful."
    candidates = [(f"`{MODEL_ENV}`", model, ""), ("the tiny demo model", demo if Path(demo).exists() else "", tiny)]
    pipe, notice = choose_pipeline(candidates, unset=[] if model else [f"`{MODEL_ENV}` is not set"])
    if pipe.loaded is None:
        notice += f" Set `{MODEL_ENV}` to a Hub id or a local MMRQA adapter for the image model."
    return pipe, notice
