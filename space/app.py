"""MMRQA Space: upload an MRI scan, see its quality metrics and slices, get an assessment, ask questions.

The app only wires the UI to library calls: uploads are checked and opened by :mod:`mmrqa.uploads`, slices are
rendered by :mod:`mmrqa.render`, metrics come from :mod:`mmrqa.metrics` and are shown with the traffic lights of
:mod:`mmrqa.presentation`, the assessment and the answers come from :class:`mmrqa.pipeline.MMRQAPipeline`.

The model is chosen once, at start-up: ``$MMRQA_MODEL`` (a Hub id or a local folder of an MMRQA adapter or merged
model); if it is unset or cannot be loaded (offline, missing), the tiny demo adapter (``$MMRQA_DEMO_ADAPTER`` or
``demo_output/adapter``) when present, else the metrics-only mode (the signal-only classifier). The page says which.

Run it with ``make space`` (or ``python space/app.py``); every event is also an API endpoint (``api_name``), usable
with ``gradio_client``. Each browser session (and each API client) has its own state: nobody sees another's scan.
"""

from __future__ import annotations

import atexit
import contextlib
import filecmp
import functools
import logging
import os
import shutil
import sys
import tempfile
import threading
import time
import uuid
from collections.abc import Callable
from pathlib import Path
from typing import Any

import gradio as gr
import gradio.utils as gr_utils
import numpy as np
import pandas as pd

REPO = Path(__file__).resolve().parents[1]
if (REPO / "mmrqa" / "__init__.py").is_file() and str(REPO) not in sys.path:
    sys.path.insert(0, str(REPO))  # a checkout without `pip install -e .` (e.g. the Space repo itself)

from mmrqa.data import SAMPLES, sample_path  # noqa: E402
from mmrqa.errors import MMRQAError  # noqa: E402
from mmrqa.fileio import write_bytes_atomic, write_text_atomic  # noqa: E402
from mmrqa.io import format_summary, summarize  # noqa: E402
from mmrqa.presentation import light_counts, metric_rows, slice_series  # noqa: E402
from mmrqa.qa.bank import PHRASINGS  # noqa: E402
from mmrqa.render import PLANES, pick_slices, render_slice, window_levels  # noqa: E402
from mmrqa.uploads import load_upload, max_upload_bytes  # noqa: E402

logger = logging.getLogger("mmrqa.space")

MODEL_ENV = "MMRQA_MODEL"
DEMO_ADAPTER_ENV = "MMRQA_DEMO_ADAPTER"
CONCURRENCY_ENV = "MMRQA_SPACE_CONCURRENCY"
#: Small real scans offered as one-click examples (the MNI152 samples take ~30 s of metrics on 2 cores).
EXAMPLE_SAMPLES = ("t1", "epi", "dicom_t2", "dicom_enhanced")
#: Question types offered as chat examples (the question bank's first phrasing of each).
CHAT_EXAMPLES = ("rating", "artifact_type", "severity", "metric_value", "usability", "report")
#: Seconds an idle session keeps its scan in memory.
SESSION_TTL = 3600
TABLE_COLUMNS = ["light", "metric", "value", "unit", "acceptable", "better", "meaning"]
RATING_LIGHT = {"good": "green", "medium": "amber", "bad": "red"}
LIGHT_WORDS = {"green": "ok", "amber": "borderline", "red": "out", "grey": "n/a"}
LIGHT_COLOURS = {"green": "#b7e4c7", "amber": "#ffd8a8", "red": "#ffb3b3", "grey": "#e9ecef"}
#: The slice fills its box whatever the matrix size, without smoothing (pixels stay pixels).
CSS = "#slice-image img {width: 100%; height: 100%; object-fit: contain; image-rendering: pixelated;}"
#: Per-session folders of downloadable reports; the whole folder goes when the app exits.
REPORTS_DIR = Path(tempfile.mkdtemp(prefix="mmrqa-space-reports-"))
atexit.register(shutil.rmtree, REPORTS_DIR, ignore_errors=True)


# -- the model, loaded once ------------------------------------------------------------------------------------------
@functools.lru_cache(maxsize=1)
def get_pipeline() -> tuple[Any, str]:
    """The pipeline the app uses and a sentence saying which model it runs (shown on the page).

    Returns:
        ``(MMRQAPipeline, notice)``: the ``$MMRQA_MODEL`` model, else the tiny demo adapter, else metrics-only.
    """
    from mmrqa.pipeline import MMRQAPipeline

    demo = os.environ.get(DEMO_ADAPTER_ENV) or (REPO / "demo_output" / "adapter")
    candidates = [(f"`{MODEL_ENV}`", os.environ.get(MODEL_ENV, "").strip())]
    candidates.append(("the tiny demo model", str(demo) if Path(demo).exists() else ""))
    problems = [] if os.environ.get(MODEL_ENV, "").strip() else [f"`{MODEL_ENV}` is not set"]
    for label, ref in candidates:
        if not ref:
            continue
        try:
            pipe = MMRQAPipeline.from_pretrained(ref)
        except (MMRQAError, ImportError, OSError) as exc:
            logger.warning("cannot load %s (%s): %s", label, ref, exc)
            problems.append(f"{label} `{ref}` could not be loaded ({exc})")
            continue
        tiny = (
            " This is a tiny demo model trained for a few steps: its answers are not meaningful."
            if "demo" in label
            else ""
        )
        return pipe, f"**Model:** {label} `{ref}`.{tiny}"
    reason = "; ".join(problems) or "no model configured"
    return MMRQAPipeline.metrics_only(), (
        f"**Metrics-only mode** ({reason}). Ratings and artifacts come from a signal-only classifier on the metrics; "
        f"the chat answers questions of the question bank from the metrics. Set `{MODEL_ENV}` to a Hub id or a "
        "local MMRQA adapter for the image model."
    )


# -- helpers ---------------------------------------------------------------------------------------------------------
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


def _need_scan(session: dict | None) -> dict:
    if not session or "volume" not in session:
        raise gr.Error("Load a scan first: upload a file or pick an example.", title="No scan")
    return session


def _metrics_table(values: dict[str, float]) -> Any:
    """The metrics with a reference range; the light column is a word on a coloured cell (a pandas Styler)."""
    rows = [
        [LIGHT_WORDS[r.light], r.name, r.text, r.unit, r.acceptable, r.better, r.meaning]
        for r in metric_rows(values, with_range_only=True)
    ]
    frame = pd.DataFrame(rows, columns=TABLE_COLUMNS)
    colour = {LIGHT_WORDS[k]: f"background-color: {v}" for k, v in LIGHT_COLOURS.items()}
    return frame.style.map(lambda word: colour.get(word, ""), subset=["light"])


def _plot_frame(session: dict, series: str, plane: str, index: int) -> pd.DataFrame:
    """Long-format frame for ``gr.LinePlot``: the chosen per-slice series, plus a vertical 'current slice' marker."""
    values, _ = session["series"][series]
    slices = np.asarray(session["slice_indices"])
    ok = np.isfinite(values)
    frame = pd.DataFrame({"slice": slices[ok].astype(int), "value": values[ok], "series": series})
    if plane == "axial" and ok.any():  # per-slice metrics run along the axial axis
        low, high = float(values[ok].min()), float(values[ok].max())
        marker = pd.DataFrame({"slice": [index, index], "value": [low, high], "series": "current slice"})
        frame = pd.concat([frame, marker], ignore_index=True)
    return frame


def _slider(n: int, index: int) -> gr.Slider:
    """The slice slider of a plane with ``n`` slices (a single slice gets a fixed 0..1 slider: Gradio needs a range)."""
    return gr.Slider(minimum=0, maximum=max(n - 1, 1), value=index, step=1, interactive=n > 1)


def _metrics_json(report: Any, name: str) -> dict[str, Any]:
    """The report as JSON, the scan named ``scan`` (a top-level ``path`` key would read as a file to API clients)."""
    data = report.to_dict(per_slice=True)
    meta = {k: v for k, v in data.pop("meta").items() if k != "path"}
    return {"scan": name, **data, "meta": meta}


def _scan_view(session: dict, plane: str) -> tuple[int, int]:
    """(number of slices, default slice) of a plane: the middle informative slice."""
    n = session["volume"].shape[PLANES[plane]]
    try:
        default = pick_slices(session["volume"], 1, plane)[0]
    except MMRQAError:
        default = n // 2
    return n, default


def _open_scan(path: str, name: str, plane: str) -> tuple:
    from mmrqa.metrics import compute_metrics

    volume = load_upload(path, name=name)
    report = compute_metrics(volume)
    session = {
        "id": uuid.uuid4().hex,
        "name": name,
        "volume": volume,
        "window": window_levels(volume),
        "report": report,
        "series": slice_series(report.per_slice, report.slice_indices),
        "slice_indices": [int(i) for i in report.slice_indices],
        "assessment": None,
    }
    n, index = _scan_view(session, plane)
    counts = light_counts(metric_rows(report.values, with_range_only=True))
    lights = ", ".join(f"{v} {LIGHT_WORDS[k]}" for k, v in counts.items() if v)
    info = f"**{name}** loaded.\n\n```\n{format_summary(summarize(volume))}\n```\n\nMetrics: {lights}"
    first = next(iter(session["series"]))
    return (
        session,
        info,
        _slider(n, index),
        _slice_file(session, render_slice(volume, index, plane, window=session["window"])),
        _metrics_table(report.values),
        gr.Dropdown(choices=list(session["series"]), value=first),
        _plot_frame(session, first, plane, index),
        _metrics_json(report, name),
    )


# -- events (each one is an API endpoint) ------------------------------------------------------------------------------
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
    path = _upload_in_use(file, +1)
    try:
        return _open_scan(file, Path(file).name, plane)
    finally:
        _upload_in_use(file, -1)
        _discard_upload(path)


# -- uploads leave the server soon after use -------------------------------------------------------------------------
#: Seconds an uploaded file stays in Gradio's cache after the last request that read it (and after its last upload).
UPLOAD_GRACE_ENV = "MMRQA_UPLOAD_GRACE_S"
_UPLOADS_LOCK = threading.Lock()
_UPLOADS_IN_USE: dict[Path, int] = {}
_UPLOADS_DONE: dict[Path, float] = {}


def _upload_in_use(file: str, step: int) -> Path:
    path = Path(file).resolve()
    with _UPLOADS_LOCK:
        _UPLOADS_IN_USE[path] = _UPLOADS_IN_USE.get(path, 0) + step
        if _UPLOADS_IN_USE[path] <= 0:
            del _UPLOADS_IN_USE[path]
    return path


def _discard_upload(path: Path) -> None:
    """Schedule the deletion of an uploaded file (and its folder once empty) from Gradio's upload cache: a
    stranger's scan stays on the server only ``$MMRQA_UPLOAD_GRACE_S`` (60) seconds after the request that read it
    (the scan lives on in the session's memory only). Gradio stores uploads by content hash, so two users sending
    the same bytes share one path: the file goes only when no request is reading it and it was neither read nor
    uploaded again during the grace period. The bundled examples, cached in the same folder, are kept."""
    if Path(gr_utils.get_upload_folder()).resolve() not in path.parents or _is_bundled_example(path):
        return
    with _UPLOADS_LOCK:
        _UPLOADS_DONE[path] = time.monotonic()
    timer = threading.Timer(_upload_grace() + 0.1, _sweep_uploads)
    timer.daemon = True
    timer.start()


def _upload_grace() -> float:
    try:
        return max(0.0, float(os.environ.get(UPLOAD_GRACE_ENV, "60")))
    except ValueError:
        return 60.0


def _sweep_uploads() -> None:
    """Delete the uploads whose grace period is over (see :func:`_discard_upload`)."""
    grace, now = _upload_grace(), time.monotonic()
    with _UPLOADS_LOCK:
        for path, done in list(_UPLOADS_DONE.items()):
            try:
                uploaded_ago = time.time() - path.stat().st_ctime  # an upload renames a new file into the path
            except OSError:
                del _UPLOADS_DONE[path]
                continue
            if path in _UPLOADS_IN_USE or now - done < grace or uploaded_ago < grace:
                continue
            path.unlink(missing_ok=True)
            with contextlib.suppress(OSError):
                path.parent.rmdir()
            del _UPLOADS_DONE[path]


def _is_bundled_example(path: Path) -> bool:
    for name in EXAMPLE_SAMPLES:
        sample = sample_path(name)
        if path.name == sample.name and path.is_file() and filecmp.cmp(path, sample, shallow=False):
            return True
    return False


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
    path = sample_path(name)
    return _open_scan(str(path), path.name, plane)


@_user_errors
def show_slice(session: dict | None, plane: str, index: float, series: str | None) -> tuple:
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
    n = session["volume"].shape[PLANES[plane]]
    index = int(min(max(round(float(index or 0)), 0), n - 1))
    series = series if series in session["series"] else next(iter(session["series"]))
    image = render_slice(session["volume"], index, plane, window=session["window"])
    return _slice_file(session, image), _plot_frame(session, series, plane, index)


@_user_errors
def change_plane(session: dict | None, plane: str, series: str | None) -> tuple:
    """Switch the viewing plane: the slider spans the new plane and starts at its middle informative slice.

    Args:
        session: the session state.
        plane: "axial", "coronal" or "sagittal".
        series: per-slice measure plotted.

    Returns:
        The slice slider, the slice image and the per-slice plot data.
    """
    session = _need_scan(session)
    n, index = _scan_view(session, plane)
    image, frame = show_slice(session, plane, index, series)
    return _slider(n, index), image, frame


def _rating_markdown(result: Any, notice: str) -> str:
    if not result.rated:  # outside the domain: no rating, the reason instead
        return f"## Not rated\n\n{result.trust_markdown()}\n**Mode:** {result.mode}\n\n{notice}"
    light = LIGHT_COLOURS[RATING_LIGHT.get(result.rating, "grey")]
    usability = {"usable": "usable for diagnosis", "repeat": "repeat the scan"}.get(result.usability, "usability ?")
    found = [f"{a.kind.replace('_', ' ')} ({a.severity or 'severity not stated'})" for a in result.artifacts]
    return (
        f"## <span style='background:{light};padding:0 .4em'>Rating: {result.rating or 'undetermined'}</span>\n\n**Usability:** {usability}  \n"
        f"**Artifacts:** {', '.join(found) if found else 'none detected'}  \n"
        f"**Mode:** {result.mode}{f' ({result.model})' if result.model else ''}\n\n{result.trust_markdown()}\n{notice}"
    )


def _artifact_frame(result: Any) -> pd.DataFrame:
    rows = [
        [a.kind, a.severity or "not stated", "" if a.probability is None else f"{a.probability:.2f}", a.votes]
        for a in result.artifacts
    ]
    return pd.DataFrame(
        rows or [["none detected", "", "", 0]], columns=["artifact", "severity", "probability", "votes"]
    )


def _session_folder(session_id: str) -> Path:
    return REPORTS_DIR / session_id


def _forget_session(session: dict | None) -> None:
    """``gr.State`` delete callback: remove the session's report and slice files when the session expires or
    closes."""
    if session and "id" in session:
        shutil.rmtree(_session_folder(session["id"]), ignore_errors=True)
        shutil.rmtree(_session_folder(session["id"] + "-slices"), ignore_errors=True)


def _slice_file(session: dict, image: Any) -> str:
    """The slice as a PNG file in the session's folder, written atomically, for Gradio to serve.

    Returning the PIL image would let Gradio encode it into its content-addressed cache with an in-place write
    (``save_pil_to_cache``): two sessions showing the same slice then share one path, and one of them can download
    it while the other truncates and rewrites it (an empty response, seen by the 20-client load test). A file path
    goes through Gradio's ``save_file_to_cache``, which writes under a temp name and renames.
    """
    import hashlib
    import io

    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    payload = buffer.getvalue()
    path = _session_folder(session["id"] + "-slices") / f"slice-{hashlib.sha256(payload).hexdigest()[:16]}.png"
    if not path.is_file():
        write_bytes_atomic(path, payload)
    return str(path)


def _write_reports(session: dict, result: Any) -> list[str]:
    """JSON and Markdown reports in the session's own folder (replaced at each assessment, removed with the session
    and at exit; Gradio serves copies from its cache, cleaned by ``delete_cache``)."""
    folder = _session_folder(session["id"])
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    stem = Path(session["name"]).name.split(".")[0] or "scan"
    json_path, md_path = folder / f"{stem}_assessment.json", folder / f"{stem}_assessment.md"
    write_text_atomic(json_path, result.to_json(indent=2))  # a download is never a torn file
    write_text_atomic(md_path, result.to_markdown())
    return [str(json_path), str(md_path)]


@_user_errors
def assess(session: dict | None) -> tuple:
    """Assess the current scan: rating, artifacts with severity, usability and a report.

    Args:
        session: the session state (holds the loaded scan).

    Returns:
        The updated session state, the rating summary (markdown), the artifacts table, the report (markdown),
        the assessment as JSON, and the downloadable reports (JSON and Markdown files).
    """
    session = _need_scan(session)
    pipe, notice = get_pipeline()
    result = pipe(session["volume"])
    session = {**session, "assessment": result}
    report = (result.report or "(no report)") if result.rated else "(not rated: outside the domain)"
    return (
        session,
        _rating_markdown(result, notice),
        _artifact_frame(result),
        "\n".join(f"> {line}" for line in report.splitlines()),
        result.to_dict(),
        _write_reports(session, result),
    )


def _bank_answer(session: dict, question: Any) -> str:
    """Metrics-only answer: the grounded template of a question-bank question, from the signal-only estimate."""
    from mmrqa.qa.answers import default_catalogue
    from mmrqa.qa.bank import PHRASINGS, render_answer, truth
    from mmrqa.qa.labels import Labels, quality_from_word

    if question.type is None or question.type == "comparison":
        examples = "; ".join(f"*{PHRASINGS[t][0].format(artifact='ghosting', metric='efc')}*" for t in PHRASINGS)
        return f"Without an image model I can answer the question-bank questions, for example: {examples}"
    result = session["assessment"]
    est = result.signal_estimate or {}
    labels = Labels(quality_from_word(result.rating), est.get("artifact", "none"), est.get("severity", "none"))
    report = session["report"]
    expected = truth(question, report, labels, *default_catalogue())
    if expected is None:
        return "The metrics do not determine an answer to that question."
    return render_answer(question, expected, report, default_catalogue()[0], np.random.default_rng(0))


@_user_errors
def ask(question: str, history: list | None, session: dict | None, plane: str, index: float) -> tuple:
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
    from mmrqa.pipeline.interpret import classify_question

    session = _need_scan(session)
    if not (question or "").strip():
        raise gr.Error("Type a question first.", title="Empty question")
    history = list(history or [])
    pipe, _ = get_pipeline()
    n = session["volume"].shape[PLANES[plane]]
    index = int(min(max(round(float(index or 0)), 0), n - 1))
    if pipe.loaded is None:
        asked = classify_question(question.strip())
        if session.get("assessment") is None:
            session = {**session, "assessment": pipe(session["volume"])}
        answer = _bank_answer(session, asked) + "\n\n*(metrics-only mode: from the scan's metrics, not the image)*"
    else:
        image = render_slice(session["volume"], index, plane, window=session["window"])
        answer = pipe.ask(question.strip(), image, session["report"], slice_index=index).answer
    history += [
        {"role": "user", "content": f"[{plane} slice {index}] {question.strip()}"},
        {"role": "assistant", "content": answer},
    ]
    return history, "", session


def clear_outputs() -> tuple:
    """Empty assessment outputs after a new scan is loaded (so no result of the previous scan stays on screen)."""
    return "", None, "", None, None, []


# -- layout ----------------------------------------------------------------------------------------------------------
def build_demo() -> gr.Blocks:
    """The Gradio app (queue configured); launch it with :func:`launch_options`."""
    _, notice = get_pipeline()
    with gr.Blocks(title="MMRQA: MRI quality assessment", delete_cache=(600, 3600)) as demo:
        session = gr.State(None, time_to_live=SESSION_TTL, delete_callback=_forget_session)
        gr.Markdown(
            "# MMRQA: MRI quality assessment\nUpload a scan (NIfTI, DICOM file or zip of a series, MetaImage, "
            "fastMRI .h5, PNG/JPEG) or pick an example. Signal metrics (MRQy/MRIQC-style) are fused with a "
            "multimodal model. A screening aid, not a diagnosis."
        )
        gr.Markdown(notice, elem_id="mode-notice")
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
                table = gr.Dataframe(
                    headers=TABLE_COLUMNS, label="Metrics against their reference ranges (ok / borderline / out)"
                )
            with gr.Column(scale=2):
                series = gr.Dropdown([], label="Per-slice measure")
                plot = gr.LinePlot(x="slice", y="value", color="series", label="Per axial slice", height=280)
        with gr.Accordion("All metrics (JSON)", open=False):
            metrics_json = gr.JSON()
        assess_btn = gr.Button("Assess quality", variant="primary", elem_id="assess")
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
        gr.Examples([[PHRASINGS[t][0].format(artifact="ghosting", metric="efc")] for t in CHAT_EXAMPLES], [question])

        loaded = [session, info, slider, image, table, series, plot, metrics_json]
        cleared = [rating, artifacts, report, assessment_json, downloads, chat]
        upload.change(load_scan, [upload, plane], loaded, api_name="load_scan").success(
            clear_outputs, None, cleared, api_visibility="private"
        )
        example_btn.click(load_example, [example, plane], loaded, api_name="load_sample").success(
            clear_outputs, None, cleared, api_visibility="private"
        )
        slider.change(
            show_slice,
            [session, plane, slider, series],
            [image, plot],
            api_name="show_slice",
            trigger_mode="always_last",
            show_progress="hidden",
        )
        series.change(show_slice, [session, plane, slider, series], [image, plot], api_visibility="private")
        plane.change(change_plane, [session, plane, series], [slider, image, plot], api_name="change_plane")
        assess_btn.click(
            assess, [session], [session, rating, artifacts, report, assessment_json, downloads], api_name="assess"
        )
        gr.on(
            [ask_btn.click, question.submit],
            ask,
            [question, chat, session, plane, slider],
            [chat, question, session],
            api_name="ask",
        )
    demo.queue(default_concurrency_limit=int(os.environ.get(CONCURRENCY_ENV, "2")), max_size=64)
    return demo


def launch_options() -> dict[str, Any]:
    """Arguments of ``demo.launch``: Gradio refuses uploads over the size limit while they stream in."""
    return {"max_file_size": max_upload_bytes(), "ssr_mode": False, "css": CSS}


demo = build_demo()

if __name__ == "__main__":
    logging.basicConfig(level=logging.INFO)
    demo.launch(**launch_options())
