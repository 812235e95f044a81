"""Physically grounded MRI artifact simulation at calibrated severities.

``simulate(volume, kind, severity, seed)`` draws the parameters of one artifact from the severity preset with a seeded
generator (``sample_params``), applies them (``apply``) and returns the corrupted ``Volume`` with an
``ArtifactRecord`` of everything that was drawn; ``replay(volume, record)`` applies a record again, bit for bit.
Severity ``none`` returns the input values unchanged.

Kinds are registered once, in :mod:`mmrqa.artifacts.registry` (name, words, synonyms, indicator metric, presets);
each has one simulator module of its name here, with the physics and sources in its docstring (``motion``,
``ghosting``, ``spike``, ``noise``, ``bias_field``, ``blur``, ``ringing``, ``undersampling``). What the severity
presets mean and how they were calibrated: ``presets.py``.

The phase-encoding axis is ``volume.meta["phase_encoding_axis"]`` when the loader knows it, else array axis 1
(``kspace.DEFAULT_PE_AXIS``). Everything is NumPy/SciPy: no torch import, 1D FFTs where the physics allows it.
TorchIO (Perez-Garcia et al., CMPB 2021) is the reference library; where it falls short for this purpose (motion only
along the last array axis, Gaussian rather than Rician noise, no 2D in-plane motion, severities that are not relative
to the scan, scalar arguments that sample from 0) is explained in each module.
"""

from __future__ import annotations

import importlib
import math
import numbers
from types import ModuleType

import numpy as np

from mmrqa.artifacts.record import ArtifactRecord
from mmrqa.artifacts.registry import ARTIFACT_KINDS, KINDS, SEVERITIES, ArtifactKind, artifact_kind
from mmrqa.errors import InvalidArgumentError, InvalidScanError
from mmrqa.volume import Volume


def _module(name: str) -> ModuleType:
    """``mmrqa.artifacts.<name>``: the simulator of a registered kind (or ``kspace``), imported on first use.

    Importing this package must stay light: the metric catalogue reads the registry (for the indicators), and
    ``import mmrqa.metrics`` should not load the eight simulators and SciPy's FFT (0.2 s instead of 0.45 s).
    """
    return importlib.import_module(f"{__name__}.{name}")


def _pe_axis(volume: Volume) -> int:
    return _module("kspace").resolve_pe_axis(volume)


__all__ = [
    "ARTIFACT_KINDS",
    "KINDS",
    "SEVERITIES",
    "ArtifactKind",
    "ArtifactRecord",
    "artifact_kind",
    "simulate",
    "replay",
]


def _check_arguments(volume: Volume, kind: str, severity: str, seed: int) -> None:
    if not isinstance(volume, Volume):
        raise InvalidArgumentError(f"expected a mmrqa.Volume, got {type(volume).__name__}")
    if kind not in KINDS:
        raise InvalidArgumentError(f"unknown artifact kind {kind!r}; choose one of {', '.join(KINDS)}")
    if severity not in SEVERITIES:
        raise InvalidArgumentError(f"unknown severity {severity!r}; choose one of {', '.join(SEVERITIES)}")
    if isinstance(seed, bool) or not isinstance(seed, numbers.Integral) or not 0 <= int(seed) < 2**63:
        raise InvalidArgumentError(f"seed must be an integer in [0, 2**63), got {seed!r}")


def _check_data(volume: Volume) -> None:
    source = volume.meta.get("source", "the volume")
    low, high = float(volume.data.min()), float(volume.data.max())  # NaN propagates through min/max
    if not (math.isfinite(low) and math.isfinite(high)):
        raise InvalidScanError(f"{source}: contains NaN or infinite values; cannot simulate an artifact")
    if low == 0.0 and high == 0.0:
        raise InvalidScanError(f"{source}: is all zero; cannot simulate an artifact")


def simulate(volume: Volume, kind: str, severity: str, seed: int) -> tuple[Volume, ArtifactRecord]:
    """Corrupt ``volume`` with one artifact ``kind`` at ``severity``, reproducibly from ``seed``.

    Returns the corrupted volume (same geometry; ``meta["artifact"]`` holds the record as a dict) and the
    ``ArtifactRecord``. Raises ``InvalidArgumentError`` for an unknown kind or severity or a seed that is not a
    non-negative integer, and ``InvalidScanError`` for data that is non-finite or all zero.
    """
    _check_arguments(volume, kind, severity, seed)
    if severity == "none":
        record = ArtifactRecord(kind, severity, int(seed), {})
        return volume.with_data(volume.data.copy(), artifact=record.to_dict()), record
    _check_data(volume)
    rng = np.random.default_rng(int(seed))
    module = _module(kind)
    if hasattr(module, "sample_and_apply"):  # a closed loop that may already have rendered the final image
        params, data = module.sample_and_apply(severity, rng, volume)
    else:
        params, data = module.sample_params(severity, rng, volume), None
    params = {**params, "pe_axis": _pe_axis(volume), "shape": list(volume.shape)}
    record = ArtifactRecord(kind, severity, int(seed), params)
    if data is None:
        return _apply(volume, record), record
    return _wrap(volume, data, record), record


def replay(volume: Volume, record: ArtifactRecord) -> Volume:
    """Apply a recorded artifact to ``volume`` again; on the same clean volume the result is bit-identical."""
    if isinstance(record, dict):
        record = ArtifactRecord.from_dict(record)
    _check_arguments(volume, record.kind, record.severity, record.seed)
    if record.severity == "none":
        return volume.with_data(volume.data.copy(), artifact=record.to_dict())
    shape = record.params.get("shape")
    if shape is not None and tuple(shape) != volume.shape:
        raise InvalidArgumentError(f"the record was made for shape {tuple(shape)}, the volume has {volume.shape}")
    _check_data(volume)
    return _apply(volume, record)


def _apply(volume: Volume, record: ArtifactRecord) -> Volume:
    pe_axis = int(record.params["pe_axis"]) if "pe_axis" in record.params else _pe_axis(volume)
    return _wrap(volume, _module(record.kind).apply(volume.data, record.params, volume.spacing, pe_axis), record)


def _wrap(volume: Volume, data: np.ndarray, record: ArtifactRecord) -> Volume:
    data = np.asarray(data, dtype=np.float32)
    if not (data.flags.c_contiguous or data.flags.f_contiguous):  # a Fortran-ordered result is kept as it is
        data = np.ascontiguousarray(data)
    return volume.with_data(data, artifact=record.to_dict())
