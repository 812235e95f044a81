"""The artifact kinds, registered once: each kind's name, words, synonyms, indicator metric and severity presets.

Everything else iterates this registry: the simulators (``mmrqa.artifacts.<name>``, one module per kind, found by
name), the presets table (:mod:`mmrqa.artifacts.presets`), the artifact indicators of the metric catalogue
(``mmrqa.metrics.ARTIFACT_INDICATORS``), the question bank and the answer parser (:mod:`mmrqa.qa`), the labels, the
evaluation's label sets, the signal classifier's training data and the generated docs (``python -m mmrqa.docs``).

Adding a kind: write ``mmrqa/artifacts/<name>.py`` (``sample_params`` or ``sample_and_apply``, and ``apply``), add
one :class:`ArtifactKind` here, add its tests, regenerate the docs. Before this registry the same kind was also
written into ``__init__.py`` (the kind tuple and the module map), ``presets.py``, ``metrics/catalogue.py``
(indicators), ``qa/labels.py``, ``qa/parse.py`` (synonyms), ``qa/bank.py`` (the artifact-type phrasings) and
``evaluation/scores.py`` (label set): eight files besides the simulator; now none.

Presets: see :mod:`mmrqa.artifacts.presets` for what the ranges mean and how they were calibrated. The comment above
each entry's presets says what its parameters are.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from mmrqa.errors import InvalidArgumentError

#: severities of every kind, mildest first; ``none`` is the identity.
SEVERITIES = ("none", "mild", "moderate", "severe")
#: what the answer parser accepts for each severity other than ``none``.
SEVERITY_SYNONYMS: dict[str, tuple[str, ...]] = {
    "mild": ("mild", "slight", "minor", "light"),
    "moderate": ("moderate", "medium"),
    "severe": ("severe", "strong", "heavy", "marked"),
}

Ranges = Mapping[str, tuple[float, float]]


@dataclass(frozen=True)
class ArtifactKind:
    """One registered artifact kind.

    Attributes:
        name: the identifier (``bias_field``); also the name of its simulator module ``mmrqa.artifacts.<name>``.
        words: how questions and answers say it (``bias field``).
        synonyms: what the answer parser accepts for it, whole words, case-insensitive (``words`` among them).
        indicator: the metric of ``mmrqa.metrics.CATALOGUE`` that moves with its severity.
        presets: severity (``mild``, ``moderate``, ``severe``) -> parameter -> ``(low, high)`` sampling range.
    """

    name: str
    words: str
    synonyms: tuple[str, ...]
    indicator: str
    presets: Mapping[str, Ranges]


ARTIFACT_KINDS: tuple[ArtifactKind, ...] = (
    ArtifactKind(
        "motion",
        "motion",
        ("motion",),
        "motion_index",
        # nrmse = target ||x - x0|| / ||x0|| reached by scaling the displacement (closed loop, calibration.py);
        # events = number of motion events; offset = |time - 0.5| of each event as a fraction of the acquisition
        {
            "mild": {"nrmse": (0.040, 0.050), "events": (1, 1), "offset": (0.06, 0.12)},
            "moderate": {"nrmse": (0.14, 0.18), "events": (2, 2), "offset": (0.04, 0.10)},
            "severe": {"nrmse": (0.22, 0.27), "events": (3, 3), "offset": (0.02, 0.08)},
        },
    ),
    ArtifactKind(
        "ghosting",
        "ghosting",
        ("ghosting", "ghost", "ghosts"),
        "pe_correlation",
        # nrmse = target difference reached by scaling the phase error of every period-th PE line
        {
            "mild": {"nrmse": (0.020, 0.028), "period": (2, 4)},
            "moderate": {"nrmse": (0.07, 0.09), "period": (2, 4)},
            "severe": {"nrmse": (0.22, 0.28), "period": (2, 4)},
        },
    ),
    ArtifactKind(
        "spike",
        "spike",
        ("spike", "spikes", "herringbone"),
        "spike_energy",
        # energy = sqrt(spike energy / image energy); radius = spike distance from the k-space centre / Nyquist
        {
            "mild": {"energy": (0.03, 0.04), "count": (1, 1), "radius": (0.15, 0.6)},
            "moderate": {"energy": (0.10, 0.13), "count": (1, 2), "radius": (0.15, 0.6)},
            "severe": {"energy": (0.32, 0.40), "count": (2, 3), "radius": (0.15, 0.6)},
        },
    ),
    ArtifactKind(
        "noise",
        "noise",
        ("noise", "noisy"),
        "noise_local",
        # relative_sigma = sigma of each Gaussian channel / mean foreground intensity (SNR = 1 / relative_sigma)
        {
            "mild": {"relative_sigma": (0.02, 0.025)},
            "moderate": {"relative_sigma": (0.07, 0.085)},
            "severe": {"relative_sigma": (0.25, 0.30)},
        },
    ),
    ArtifactKind(
        "bias_field",
        "bias field",
        ("bias field", "bias_field", "bias-field", "intensity inhomogeneity", "inhomogeneity"),
        "inu_cv",
        # log_std = standard deviation of the log bias field over the foreground
        {
            "mild": {"log_std": (0.05, 0.07), "order": (3, 3)},
            "moderate": {"log_std": (0.15, 0.19), "order": (3, 3)},
            "severe": {"log_std": (0.70, 0.80), "order": (3, 3)},
        },
    ),
    ArtifactKind(
        "blur",
        "blur",
        ("blur", "blurring", "blurry", "blurred"),
        "sharpness",
        # nrmse = target difference reached by widening the Gaussian PSF (its FWHM in voxels is recorded)
        {
            "mild": {"nrmse": (0.030, 0.040)},
            "moderate": {"nrmse": (0.12, 0.15)},
            "severe": {"nrmse": (0.25, 0.30)},
        },
    ),
    ArtifactKind(
        "ringing",
        "ringing",
        ("ringing", "gibbs"),
        "truncation",
        # kept_fraction = fraction of the k-space matrix kept along each in-plane axis
        {
            "mild": {"kept_fraction": (0.88, 0.92)},
            "moderate": {"kept_fraction": (0.50, 0.55)},
            "severe": {"kept_fraction": (0.12, 0.15)},
        },
    ),
    ArtifactKind(
        "undersampling",
        "undersampling",
        ("undersampling", "undersampled", "aliasing"),
        "pe_correlation",
        # fastMRI-style random mask: fully sampled centre fraction; outer lines are dropped in a random (seeded)
        # order until the zero-filled reconstruction reaches the target nrmse (the resulting acceleration is recorded)
        {
            "mild": {"nrmse": (0.040, 0.055), "center_fraction": (0.30, 0.30)},
            "moderate": {"nrmse": (0.13, 0.16), "center_fraction": (0.10, 0.10)},
            "severe": {"nrmse": (0.25, 0.30), "center_fraction": (0.03, 0.03)},
        },
    ),
)

#: the registered kind names, in registry order.
KINDS: tuple[str, ...] = tuple(kind.name for kind in ARTIFACT_KINDS)
_BY_NAME = {kind.name: kind for kind in ARTIFACT_KINDS}
_BY_WORDS = {kind.words: kind for kind in ARTIFACT_KINDS}


def artifact_kind(name: str) -> ArtifactKind:
    """The registered kind ``name``; raises ``InvalidArgumentError`` for an unknown one."""
    if name not in _BY_NAME:
        raise InvalidArgumentError(f"unknown artifact kind {name!r}; choose one of {', '.join(KINDS)}")
    return _BY_NAME[name]


def artifact_words(name: str) -> str:
    """How answers say a kind (``bias_field`` -> ``bias field``); an unregistered name with ``_`` read as a space."""
    kind = _BY_NAME.get(name)
    return kind.words if kind is not None else name.replace("_", " ")


def kind_from_words(words: str) -> str:
    """Inverse of :func:`artifact_words` (``bias field`` -> ``bias_field``); unknown words with spaces as ``_``."""
    kind = _BY_WORDS.get(words.strip().lower())
    return kind.name if kind is not None else words.strip().replace(" ", "_")
