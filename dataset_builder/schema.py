"""The columns of an MMRQA dataset, as ``datasets.Features`` (also the Arrow schema of cached scans and shards).

``images`` is a list of images (PNG bytes in Parquet, decoded to PIL by ``load_dataset``); ``messages`` is TRL's
conversational format with content parts ``{"type", "text"}`` (``text`` is null for ``{"type": "image"}``);
``metrics`` holds the per-volume metric values as a JSON object string (name -> float, null when undefined): a
string round-trips exactly through Parquet and ``load_dataset`` whatever the profile's metric names, and
``json.loads`` gives the floats back bit for bit. ``artifact_record`` is the :class:`~mmrqa.artifacts.ArtifactRecord`
JSON of a simulated variant (``replay`` reproduces the corrupted scan), null for the original scan.
"""

from __future__ import annotations

from typing import Any

# datasets (~1.6 s) and pyarrow are imported where the features are built.

COLUMNS: dict[str, str] = {
    "images": "slice image(s) shown to the model (one; two for the comparison question)",
    "messages": "TRL conversation: user turn (image placeholders + question, metric summary when signal-enhanced) "
    "and grounded assistant answer",
    "subject": "subject id (splits never share a subject)",
    "source": "source kind: folder, bids, mr-art or fastmri",
    "scan": "scan name (path relative to the input, without extension)",
    "variant": "original, or <kind>-<severity>-<n> for a simulated artifact",
    "slice_index": "index of the rendered slice along the plane's array axis (RAS+ volume)",
    "plane": "axial, coronal or sagittal",
    "question_type": "question type of mmrqa.qa.QUESTION_TYPES",
    "question_target": "artifact kind or metric name the question is about (null otherwise)",
    "quality": "quality label: 1 good, 2 medium, 3 bad (MR-ART scale)",
    "artifact": "artifact kind, none, or null when unknown",
    "severity": "none, mild, moderate, severe, or null when unknown",
    "label_source": "where the labels come from: assumed_clean, labels_file, expert (MR-ART score) or simulated",
    "metrics": "per-volume metric values as a JSON object (name -> float, null when undefined)",
    "artifact_record": "ArtifactRecord JSON of a simulated variant (replayable), null for the original",
    "partner_variant": "variant shown as the second image of a comparison question (null otherwise)",
}


def features():
    """The ``datasets.Features`` of every split (``datasets`` imported on use)."""
    from datasets import Features, Image, List, Value

    string = Value("string")
    part = {"type": string, "text": string}
    return Features(
        {
            "images": List(Image()),
            "messages": List({"role": string, "content": List(part)}),
            "subject": string,
            "source": string,
            "scan": string,
            "variant": string,
            "slice_index": Value("int32"),
            "plane": string,
            "question_type": string,
            "question_target": string,
            "quality": Value("int8"),
            "artifact": string,
            "severity": string,
            "label_source": string,
            "metrics": string,
            "artifact_record": string,
            "partner_variant": string,
        }
    )


def rows_to_table(rows: list[dict[str, Any]]):
    """A ``pyarrow.Table`` of rows (images as ``{"bytes", "path"}``) with the schema and HF metadata of
    :func:`features`."""
    import pyarrow as pa

    return pa.Table.from_pylist(rows, schema=features().arrow_schema)
