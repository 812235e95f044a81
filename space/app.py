"""MMRQA Space: upload an MRI scan, see its quality metrics and slices, get an assessment, ask questions.

This file is the interface only. Uploads are checked and opened, slices rendered and questions answered by
:class:`mmrqa.scan_session.ScanSession`; tables and verdicts are worded by :mod:`mmrqa.presentation`; the assessment
comes from :class:`mmrqa.pipeline.MMRQAPipeline`; uploads leave the server through :mod:`mmrqa.upload_sweeper`.

The model is chosen once, on first use: ``$MMRQA_MODEL`` (a Hub id or a local folder of an MMRQA adapter or merged
model); if it is unset or cannot be loaded, the tiny demo adapter (``$MMRQA_DEMO_ADAPTER`` or
``demo_output/adapter``) when present, else the metrics-only mode (the signal-only classifier). The page says which.

Run it with ``make space`` or ``python app.py`` (a Hugging Face Space runs this file); tests call :func:`build_app`.
Every event is also an API endpoint (``api_name``), usable with ``gradio_client``. Each browser session (and each
API client) has its own state: nobody sees another's scan.
"""

from __future__ import annotations

import functools
import logging
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import gradio.utils as gr_utils
import pandas as pd

from mmrqa.data import SAMPLES, is_sample_copy, sample_path
from mmrqa.errors import MMRQAError
from mmrqa.presentation import (
    ARTIFACT_TABLE_COLUMNS,
    LIGHT_STYLES,
    METRIC_TABLE_COLUMNS,
    artifact_table,
    report_markdown,
    verdict_markdown,
)
from mmrqa.render import PLANES
from mmrqa.report import cohort_view
from mmrqa.scan_session import ScanSession, SessionFiles, chat_examples, pipeline_from_env
from mmrqa.upload_sweeper import UploadSweeper
from mmrqa.uploads import max_upload_bytes

logger = logging.getLogger("mmrqa.space")

CONCURRENCY_ENV = "MMRQA_SPACE_CONCURRENCY"
#: Small real scans offered as one-click examples (the MNI152 samples take ~30 s of metrics on 2 cores).
EXAMPLE_SAMPLES = ("t1", "epi", "dicom_t2", "dicom_enhanced")
SESSION_TTL = 3600  # seconds an idle session keeps its scan in memory
#: The slice fills its box whatever the matrix size, without smoothing (pixels stay pixels).
CSS = "#slice-image img {width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated;}"
UPLOADS = UploadSweeper(lambda: Path(gr_utils.get_upload_folder()), keep=lambda p: is_sample_copy(p, EXAMPLE_SAMPLES))


@functools.lru_cache(maxsize=1)
def get_pipeline() -> tuple[Any, str]:
    """The pipeline (loaded once) and a sentence saying which model it runs (see the module docstring)."""
    return pipeline_from_env(Path(__file__).resolve().parents[1] / "demo_output" / "adapter")


@functools.lru_cache(maxsize=1)
def files() -> SessionFiles:
    """Per-session slice images and reports, in a temp folder created on first use (removed at exit)."""
    return SessionFiles.temporary(prefix="mmrqa-space-files-")


TABLE_LABEL = (
    "Metrics against the ranges that fit the scan, or against your cohort once assessed with one "
    "(ok / borderline / out; against a cohort: ok / outside / far out)"
)


def _user_errors(func: Callable) -> Callable:
    """Turn library errors into a message in the UI (``gr.Error``), never a traceback page."""

    @functools.wraps(func)
    def wrapper(*args, **kwargs):
        try:
            return func(*args, **kwargs)
        except gr.Error:
            raise
        except MMRQAError as exc:
            raise gr.Error(str(exc), title="Cannot use this scan") from exc
        except Exception as exc:  # noqa: BLE001 - an unexpected bug must still end as a message, not a crash page
            logger.exception("unexpected error in %s", func.__name__)
            raise gr.Error(f"Unexpected error ({type(exc).__name__}): {exc}", title="Internal error") from exc

    return wrapper


def _need_scan(session: ScanSession | None) -> ScanSession:
    if not isinstance(session, ScanSession):
        raise gr.Error("Load a scan first: upload a file or pick an example.", title="No scan")
    return session


def _slider(session: ScanSession, plane: str, index: int) -> gr.Slider:
    """The slice slider of a plane (a single slice gets a fixed 0..1 slider: Gradio needs a range)."""
    n = session.n_slices(plane)
    return gr.Slider(minimum=0, maximum=max(n - 1, 1), value=index, step=1, interactive=n > 1)


def _view(session: ScanSession, plane: str, index: int, series: str | None) -> tuple[str, pd.DataFrame]:
    """The slice as a PNG file, and the per-slice plot."""
    image = files().slice_png(session, session.render(plane, index))
    return image, pd.DataFrame(session.plot_columns(series, plane, index))


def _opened(session: ScanSession, plane: str) -> tuple:
    index, first = session.default_slice(plane), next(iter(session.series))
    styled = _metric_table(session)
    image, plot = _view(session, plane, index, first)
    series = gr.Dropdown(choices=list(session.series), value=first)
    slider, summary = _slider(session, plane, index), session.summary_markdown()
    return session, summary, slider, image, styled, series, plot, session.metrics_json()


@_user_errors
def load_scan(file: str | None, plane: str = "axial") -> tuple:
    """Load an uploaded scan, compute its metrics and show its middle slice.

    Args:
        file: path of the uploaded file: NIfTI, DICOM file, zip of a DICOM series, MetaImage (.mha, or .mhd + raw
            as a zip), fastMRI .h5, PNG/JPEG/TIFF.
        plane: viewing plane, "axial", "coronal" or "sagittal".

    Returns:
        The session state, a summary of the scan, the slice slider, the slice image, the metrics table, the
        per-slice series choice, the per-slice plot and the metrics as JSON.
    """
    if not file:
        raise gr.Error("No file received: upload a scan or pick an example.", title="No scan")
    with UPLOADS.reading(file):
        return _opened(ScanSession.open(file, Path(file).name), plane)


@_user_errors
def load_example(name: str, plane: str = "axial") -> tuple:
    """Load one of the bundled real sample scans (they ship inside installed packages, no download).

    Args:
        name: sample name, one of ``mmrqa.data.SAMPLES``.
        plane: viewing plane, "axial", "coronal" or "sagittal".

    Returns:
        The same outputs as ``load_scan``.
    """
    if name not in SAMPLES:
        raise gr.Error(f"Unknown example {name!r}; choose one of {', '.join(SAMPLES)}.", title="Unknown example")
    return _opened(ScanSession.open(sample_path(name)), plane)


@_user_errors
def show_slice(session: ScanSession | None, plane: str, index: float, series: str | None) -> tuple:
    """Render one slice of the current scan and mark it on the per-slice plot.

    Args:
        session: the session state (holds the loaded scan).
        plane: "axial", "coronal" or "sagittal".
        index: slice index along the plane (clipped to the scan).
        series: per-slice measure to plot (a name from the series choice).

    Returns:
        The slice as a lossless PNG image, and the per-slice plot data.
    """
    session = _need_scan(session)
    return _view(session, plane, session.clip(plane, index), series)


@_user_errors
def change_plane(session: ScanSession | None, plane: str, series: str | None) -> tuple:
    """Switch the viewing plane: the slider spans the new plane and starts at its middle informative slice.

    Args:
        session: the session state.
        plane: "axial", "coronal" or "sagittal".
        series: per-slice measure plotted.

    Returns:
        The slice slider, the slice image and the per-slice plot data.
    """
    session = _need_scan(session)
    index = session.default_slice(plane)
    return (_slider(session, plane, index), *_view(session, plane, index, series))


def default_clean_share() -> float:
    """The share of clean scans the shipped signal classifier assumes (its prior, chosen when it was fitted)."""
    from mmrqa.classifier import load_model
    from mmrqa.classifier.predict import decision_rule

    return decision_rule(load_model())[0]


@_user_errors
def assess(session: ScanSession | None, reference: str | None = None, clean_share: float | None = None) -> tuple:
    """Assess the current scan: rating, artifacts with severity, usability and a report.

    Args:
        session: the session state (holds the loaded scan).
        reference: optional path of a ``mmrqa metrics`` table of the user's own scans: the lights and the verdict are
            then judged against that cohort (``mmrqa assess --reference``).
        clean_share: the share of clean scans in the user's workload, the prior of the signal verdict
            (``mmrqa assess --clean-share``; default the classifier's): lower finds more artifacts, with more false
            alarms.

    Returns:
        The updated session state, the rating summary (markdown), the artifacts table, the report (markdown),
        the assessment as JSON, the downloadable reports (JSON and Markdown files), and the metrics table with the
        lights the assessment judged with (the cohort's when ``reference`` is given).
    """
    session = _need_scan(session)
    pipe, notice = get_pipeline()
    cohort = None
    if reference:
        from mmrqa.metrics.cohort import CohortReference

        cohort = CohortReference.from_table(reference)
        pipe = pipe.with_reference(cohort)
    if clean_share is not None and abs(float(clean_share) - default_clean_share()) > 1e-9:
        pipe = pipe.with_clean_share(float(clean_share))
    session = session.assessed(pipe)
    result = session.assessment
    artifacts = pd.DataFrame(artifact_table(result), columns=ARTIFACT_TABLE_COLUMNS)
    verdict, report = verdict_markdown(result, notice), report_markdown(result)
    table = _metric_table(session, cohort)
    return session, verdict, artifacts, report, result.to_dict(), files().write_reports(session), table


def _metric_table(session: ScanSession, cohort=None):
    """The metrics table with each light's colour: against the scan's ranges, or against ``cohort``."""
    table = pd.DataFrame(session.metric_table(cohort), columns=METRIC_TABLE_COLUMNS)
    return table.style.map(lambda word: LIGHT_STYLES.get(word, ""), subset=["light"])


@_user_errors
def ask(question: str, history: list | None, session: ScanSession | None, plane: str, index: float) -> tuple:
    """Ask a question about the current slice; the model sees the slice and the scan's metrics.

    Args:
        question: the question, e.g. "Rate the image quality." or "How severe is the ghosting?".
        history: the chat so far (messages with "role" and "content").
        session: the session state.
        plane: viewing plane of the slice.
        index: slice index of the slice.

    Returns:
        The updated chat, an empty question box, and the updated session state.
    """
    session = _need_scan(session)
    if not (question or "").strip():
        raise gr.Error("Type a question first.", title="Empty question")
    index, answer, session = session.answer(get_pipeline()[0], question.strip(), plane, index)
    asked = {"role": "user", "content": f"[{plane} slice {index}] {question.strip()}"}
    return [*(history or []), asked, {"role": "assistant", "content": answer}], "", session


def clear_outputs() -> tuple:
    """Empty assessment outputs after a new scan is loaded (so no result of the previous scan stays on screen)."""
    return "", None, "", None, None, []


# -- layout: one function per part of the page -----------------------------------------------------------------------
def _scan_tab(session: gr.State) -> None:
    """Upload, viewer, metrics, assessment and chat, wired to the events above."""
    with gr.Row():
        with gr.Column(scale=1):
            upload = gr.File(label=f"Scan (up to {max_upload_bytes() / 2**20:.0f} MiB)", elem_id="upload")
            with gr.Row():
                example = gr.Dropdown(list(SAMPLES), value="t1", label="Bundled example", scale=3)
                example_btn = gr.Button("Load example", scale=1)
            gr.Examples([[str(sample_path(n))] for n in EXAMPLE_SAMPLES], inputs=[upload], label="Examples")
            info = gr.Markdown("Upload a scan or pick an example.", elem_id="scan-info")
        with gr.Column(scale=1):
            plane = gr.Radio(list(PLANES), value="axial", label="Plane")
            slider = gr.Slider(0, 1, value=0, step=1, label="Slice", elem_id="slice-slider")
            image = gr.Image(
                label="Slice", type="pil", format="png", image_mode="L", elem_id="slice-image", height=420
            )
    with gr.Row():
        with gr.Column(scale=3):
            table = gr.Dataframe(headers=METRIC_TABLE_COLUMNS, label=TABLE_LABEL)
        with gr.Column(scale=2):
            series = gr.Dropdown([], label="Per-slice measure")
            plot = gr.LinePlot(x="slice", y="value", color="series", label="Per axial slice", height=280)
    with gr.Accordion("All metrics (JSON)", open=False):
        metrics_json = gr.JSON()
    with gr.Row():
        reference = gr.File(
            label="Reference cohort (optional): the mmrqa metrics table of your protocol's scans",
            file_types=[".tsv", ".csv"],
            elem_id="reference-upload",
            height=120,
            scale=1,
        )
        clean_share = gr.Slider(
            0.5,
            0.99,
            value=default_clean_share(),
            step=0.01,
            label="Share of clean scans in your workload (lower: finds more artifacts, more false alarms)",
            elem_id="clean-share",
            scale=1,
        )
        assess_btn = gr.Button("Assess quality", variant="primary", elem_id="assess", scale=2)
    rating = gr.Markdown(elem_id="rating")
    with gr.Row():
        artifacts = gr.Dataframe(label="Artifacts", interactive=False)
        report = gr.Markdown(label="Report", elem_id="report")
    downloads = gr.File(label="Download the report (JSON, Markdown)", file_count="multiple")
    with gr.Accordion("Assessment (JSON)", open=False):
        assessment_json = gr.JSON()
    chat = gr.Chatbot(label="Ask about the current slice", height=300)
    with gr.Row():
        question = gr.Textbox(placeholder="e.g. Rate the image quality.", show_label=False, scale=4)
        ask_btn = gr.Button("Ask", scale=1)
    gr.Examples([[q] for q in chat_examples()], [question])

    loaded = [session, info, slider, image, table, series, plot, metrics_json]
    cleared = [rating, artifacts, report, assessment_json, downloads, chat]
    upload.change(load_scan, [upload, plane], loaded, api_name="load_scan").success(
        clear_outputs, None, cleared, api_visibility="private"
    )
    example_btn.click(load_example, [example, plane], loaded, api_name="load_sample").success(
        clear_outputs, None, cleared, api_visibility="private"
    )
    viewed = [session, plane, slider, series]
    slider.change(
        show_slice, viewed, [image, plot], api_name="show_slice", trigger_mode="always_last", show_progress="hidden"
    )
    series.change(show_slice, viewed, [image, plot], api_visibility="private")
    plane.change(change_plane, [session, plane, series], [slider, image, plot], api_name="change_plane")
    assess_btn.click(
        assess,
        [session, reference, clean_share],
        [session, rating, artifacts, report, assessment_json, downloads, table],
        api_name="assess",
    )
    asked = [question, chat, session, plane, slider]
    gr.on([ask_btn.click, question.submit], ask, asked, [chat, question, session], api_name="ask")


# -- the cohort tab ------------------------------------------------------------------------------------------------------
@_user_errors
def show_cohort(table: str | None, group_by: str | None = "", metric: str | None = "") -> tuple:
    """Show the group view of a cohort from its metrics table (the output of ``mmrqa metrics``).

    Args:
        table: the uploaded table (TSV, CSV or JSON lines; first column ``path``; extra text columns such as site or
            scanner can group the scans).
        group_by: a grouping column ("" picks the first that splits the cohort).
        metric: the metric whose plot is shown ("" picks the first).

    Returns:
        A summary (markdown), the grouping choice, the metric choice, the metric's plot across the cohort, the scans
        on their metrics (2D embedding) and the table of scans, most suspicious first.
    """
    if not table:
        raise gr.Error("Upload a metrics table first (`mmrqa metrics scans/ -o iqms.tsv`).", title="No table")
    view = cohort_view(table, group_by or None)
    metric = metric if metric in view.metrics else view.metrics[0]
    header, rows = view.table()
    return (
        view.summary(),
        gr.Dropdown(choices=["", *view.cohort.group_columns], value=view.group_by or ""),
        gr.Dropdown(choices=view.metrics, value=metric),
        view.strip(metric),
        view.embedding(),
        pd.DataFrame(rows, columns=header),
    )


def _cohort_tab() -> None:
    gr.Markdown(
        "Upload a metrics table written by `mmrqa metrics scans/ -o iqms.tsv` (local or `--engine ray`; add any "
        "column such as site or scanner to group by it) to see the whole cohort: each scan as a point, robust "
        "outlier flags, the scans on their metrics. `mmrqa report` writes the same view as a static report with a "
        "page per scan."
    )
    with gr.Row():
        table = gr.File(label="Metrics table", file_types=[".tsv", ".csv", ".json", ".jsonl"], elem_id="cohort-upload")
        group_by = gr.Dropdown(label="Group by", choices=[""], value="", elem_id="cohort-group")
        metric = gr.Dropdown(label="Metric", choices=[""], value="", elem_id="cohort-metric")
    summary = gr.Markdown(elem_id="cohort-summary")
    with gr.Row():
        strip = gr.Plot(label="The metric across the cohort", elem_id="cohort-strip")
        embedding = gr.Plot(label="Scans on their metrics", elem_id="cohort-embedding")
    scans = gr.Dataframe(label="Scans, most suspicious first", interactive=False, elem_id="cohort-table")
    outputs = [summary, group_by, metric, strip, embedding, scans]
    table.upload(show_cohort, [table, group_by, metric], outputs, api_name="show_cohort")
    for control in (group_by, metric):
        control.input(show_cohort, [table, group_by, metric], outputs, api_visibility="private")


def build_app() -> gr.Blocks:
    """The Gradio app with its queue configured (the model is chosen here, once); launch it with
    ``demo.launch(**launch_options())``."""
    _, notice = get_pipeline()
    with gr.Blocks(title="MMRQA: MRI quality assessment", delete_cache=(600, 3600)) as demo:
        session = gr.State(None, time_to_live=SESSION_TTL, delete_callback=files().forget)
        gr.Markdown(
            "# MMRQA: MRI quality assessment\nUpload a scan (NIfTI, DICOM file or zip of a series, MetaImage, "
            "fastMRI .h5, PNG/JPEG) or pick an example. Signal metrics (MRQy/MRIQC-style) are fused with a "
            "multimodal model. A screening aid, not a diagnosis."
        )
        gr.Markdown(notice, elem_id="mode-notice")
        with gr.Tab("Scan"):
            _scan_tab(session)
        with gr.Tab("Cohort"):
            _cohort_tab()
    demo.queue(default_concurrency_limit=int(os.environ.get(CONCURRENCY_ENV, "2")), max_size=64)
    return demo


def launch_options() -> dict[str, Any]:
    """Arguments of ``demo.launch``: Gradio refuses uploads over the size limit while they stream in."""
    return {"max_file_size": max_upload_bytes(), "ssr_mode": False, "css": CSS}


if __name__ == "__main__":  # a Hugging Face Space runs `python app.py`
    logging.basicConfig(level=logging.INFO)
    demo = build_app()
    demo.launch(**launch_options())
