"""MMRQA: MRI quality assessment that fuses signal metrics with a multimodal LLM.

The public API is re-exported here lazily, so that ``import mmrqa`` stays light (no torch, transformers or gradio)
and metrics users only pay for what they use.
"""

from __future__ import annotations

import importlib
from typing import Any

__version__ = "0.1.0"

_LAZY = {
    "Volume": "mmrqa.volume",
    "MMRQAError": "mmrqa.errors",
    "load_volume": "mmrqa.io",
    "compute_metrics": "mmrqa.metrics",
    "MetricReport": "mmrqa.metrics",
    "simulate": "mmrqa.artifacts",
    "ArtifactRecord": "mmrqa.artifacts",
    "MMRQAPipeline": "mmrqa.pipeline",
    "Assessment": "mmrqa.pipeline",
}

__all__ = ["__version__", *_LAZY]


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'mmrqa' has no attribute {name!r}")
