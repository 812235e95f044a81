"""Sources: turn an input folder into :class:`ScanTask` s (a scan file, its subject and its ground-truth labels).

Kinds:
    ``folder``: any files or folders of scans that :func:`mmrqa.io.find_scans` finds (every format the loader reads).
        Scans are taken as clean (quality 1, no artifact) unless labelled by a ``labels.tsv`` at the top of the
        input (columns ``path`` relative to the input, ``quality`` 1-3, optional ``artifact``, ``severity``,
        ``subject``). The subject is the first folder under the input, or the file name for top-level files.
    ``bids``: a BIDS dataset: ``sub-<label>/[ses-<label>/]anat/*_{T1w,T2w,FLAIR}.nii[.gz]``; taken as clean.
    ``mr-art``: MR-ART (Narai et al., Sci. Data 9:630, 2022; OpenNeuro ds004173):
        ``sub-XXXXXX/anat/sub-XXXXXX_acq-{standard,headmotion1,headmotion2}_T1w.nii.gz`` with expert scores in
        ``derivatives/scores.tsv`` (columns ``bids_name``, ``score``: 1 good, 2 medium, 3 bad). The score is the
        quality label. A score of 1 means no visible artifact (artifact ``none``); a 2 or 3 on a ``headmotion``
        acquisition is labelled ``motion`` of unknown severity, on a ``standard`` one artifact unknown. Missing
        acquisitions are tolerated; a scan without a score is skipped with a warning (its quality is unknown).
    ``fastmri``: fastMRI HDF5 files (``*.h5``), one subject per file, taken as clean.

Only clean scans (quality 1, artifact ``none``) are augmented with simulated artifacts: adding a simulated artifact
to a scan an expert scored 2 or 3 would give a label nobody knows.
"""

from __future__ import annotations

import csv
import logging
import re
from dataclasses import dataclass
from pathlib import Path

from mmrqa.errors import InvalidArgumentError, ScanNotFoundError
from mmrqa.io import find_scans
from mmrqa.qa import Labels

logger = logging.getLogger(__name__)

SOURCES = ("folder", "bids", "mr-art", "fastmri")
BIDS_SUFFIXES = ("T1w", "T2w", "FLAIR")
LABELS_FILE = "labels.tsv"
MRART_SCORES = Path("derivatives") / "scores.tsv"
_NIFTI = re.compile(r"\.nii(\.gz)?$")


@dataclass(frozen=True)
class ScanTask:
    """One scan to process: plain, picklable data (what a worker process or a Ray task receives).

    Attributes:
        path: the scan file (or DICOM folder).
        subject: subject id; splits never share a subject.
        source: the source kind (``folder``, ``bids``, ``mr-art``, ``fastmri``).
        scan: a name unique within the build (the path relative to the input, without extension).
        quality, artifact, severity: ground truth of the scan as acquired (see :class:`mmrqa.qa.Labels`).
        label_source: ``assumed_clean``, ``expert`` (MR-ART scores) or ``labels_file``.
    """

    path: str
    subject: str
    source: str
    scan: str
    quality: int = 1
    artifact: str | None = "none"
    severity: str | None = "none"
    label_source: str = "assumed_clean"

    def __post_init__(self) -> None:
        Labels(self.quality, self.artifact, self.severity)  # validates the combination

    @property
    def labels(self) -> Labels:
        return Labels(self.quality, self.artifact, self.severity)

    @property
    def clean(self) -> bool:
        return self.quality == 1 and self.artifact == "none"


def discover(source: str, root: str | Path) -> list[ScanTask]:
    """The scans of ``root`` for a source kind, sorted by (subject, scan).

    Raises:
        InvalidArgumentError: unknown source kind, or a malformed label/score file.
        ScanNotFoundError: ``root`` is missing or holds no scan of that kind.
    """
    if source not in SOURCES:
        raise InvalidArgumentError(f"unknown source {source!r}: expected one of {', '.join(SOURCES)}")
    root = Path(root)
    if not root.exists():
        raise ScanNotFoundError(f"{root}: input does not exist")
    finder = {"folder": _folder, "bids": _bids, "mr-art": _mrart, "fastmri": _fastmri}[source]
    tasks = sorted(finder(root), key=lambda t: (t.subject, t.scan))
    if not tasks:
        raise ScanNotFoundError(f"{root}: no scan found for source {source!r}")
    names = [t.scan for t in tasks]
    if len(set(names)) != len(names):
        raise InvalidArgumentError(f"{root}: two scans share a name; rename one of {names}")
    return tasks


def _stem(path: Path) -> str:
    name = path.name
    for ext in (".nii.gz", ".nii", ".h5", ".hdf5"):
        if name.endswith(ext):
            return name[: -len(ext)]
    return path.stem if path.is_file() else name


def _scan_name(path: Path, root: Path) -> str:
    if path == root:
        return _stem(path)
    relative = path.relative_to(root)
    return str(relative.parent / _stem(path)) if relative.parent != Path(".") else _stem(path)


def _folder(root: Path) -> list[ScanTask]:
    labelled = _read_labels(root / LABELS_FILE) if root.is_dir() else {}
    tasks = []
    for path in find_scans(root):
        relative = path.relative_to(root) if path != root else Path(path.name)
        subject = relative.parts[0] if len(relative.parts) > 1 else _stem(path)
        label = labelled.pop(relative.as_posix(), None)
        if label is None:
            tasks.append(ScanTask(str(path), subject, "folder", _scan_name(path, root)))
        else:
            tasks.append(
                ScanTask(
                    str(path),
                    label.get("subject") or subject,
                    "folder",
                    _scan_name(path, root),
                    **_labels_from_row(label, root / LABELS_FILE),
                )
            )
    for missing in labelled:
        logger.warning("%s: labelled scan %s not found; ignored", root / LABELS_FILE, missing)
    return tasks


def _read_tsv(path: Path, required: tuple[str, ...]) -> list[dict[str, str]]:
    try:
        with path.open(newline="", encoding="utf-8") as handle:
            rows = list(csv.DictReader(handle, delimiter="\t"))
            columns = rows[0].keys() if rows else ()
    except OSError as exc:
        raise InvalidArgumentError(f"{path}: cannot read ({exc.strerror or exc})") from exc
    missing = [c for c in required if c not in columns]
    if rows and missing:
        raise InvalidArgumentError(f"{path}: missing column(s) {', '.join(missing)} (tab-separated, with a header)")
    return rows


def _read_labels(path: Path) -> dict[str, dict[str, str]]:
    if not path.is_file():
        return {}
    return {row["path"].strip(): row for row in _read_tsv(path, ("path", "quality"))}


def _score(text: str | None, where: str) -> int:
    try:
        value = int(str(text).strip())
    except ValueError:
        value = 0
    if value not in (1, 2, 3):
        raise InvalidArgumentError(f"{where}: quality score must be 1, 2 or 3, got {text!r}")
    return value


def _labels_from_row(row: dict[str, str], path: Path) -> dict:
    quality = _score(row.get("quality"), f"{path} ({row.get('path')})")
    artifact = (row.get("artifact") or "").strip() or ("none" if quality == 1 else None)
    severity = (row.get("severity") or "").strip() or ("none" if artifact == "none" else None)
    try:
        Labels(quality, artifact, severity)
    except InvalidArgumentError as exc:
        raise InvalidArgumentError(f"{path} ({row.get('path')}): {exc}") from exc
    return {"quality": quality, "artifact": artifact, "severity": severity, "label_source": "labels_file"}


def _anat_files(root: Path) -> list[tuple[str, Path]]:
    found = []
    for anat in sorted(root.glob("sub-*/anat")) + sorted(root.glob("sub-*/ses-*/anat")):
        subject = anat.relative_to(root).parts[0].removeprefix("sub-")
        for path in sorted(anat.iterdir()):
            if _NIFTI.search(path.name) and _NIFTI.sub("", path.name).split("_")[-1] in BIDS_SUFFIXES:
                found.append((subject, path))
    return found


def _bids(root: Path) -> list[ScanTask]:
    return [ScanTask(str(p), s, "bids", _scan_name(p, root)) for s, p in _anat_files(root)]


def _mrart(root: Path) -> list[ScanTask]:
    scores_path = root / MRART_SCORES
    if not scores_path.is_file():
        raise ScanNotFoundError(f"{root}: MR-ART needs expert scores in {MRART_SCORES} (columns bids_name, score)")
    scores = {}
    for row in _read_tsv(scores_path, ("bids_name", "score")):
        name = _NIFTI.sub("", row["bids_name"].strip())
        scores[name] = _score(row["score"], f"{scores_path} ({name})")
    tasks = []
    for subject, path in _anat_files(root):
        name = _NIFTI.sub("", path.name)
        if name not in scores:
            logger.warning("%s: no score in %s; skipped (quality unknown)", path, scores_path)
            continue
        quality = scores.pop(name)
        motion = "_acq-headmotion" in name
        artifact = "none" if quality == 1 else ("motion" if motion else None)
        severity = "none" if quality == 1 else None
        tasks.append(
            ScanTask(str(path), subject, "mr-art", _scan_name(path, root), quality, artifact, severity, "expert")
        )
    if scores:
        logger.info("%s: %d scored scan(s) are missing from the tree (tolerated)", scores_path, len(scores))
    return tasks


def _fastmri(root: Path) -> list[ScanTask]:
    files = [root] if root.is_file() else sorted(p for p in root.rglob("*") if p.suffix in (".h5", ".hdf5"))
    base = root.parent if root.is_file() else root
    return [ScanTask(str(p), _stem(p), "fastmri", _scan_name(p, base)) for p in files]
