"""The MMRQA dataset builder: scans -> metric-grounded QA conversations -> a Hugging Face dataset (Hub layout).

Run it as ``python -m dataset_builder --source folder|bids|mr-art|fastmri --input PATH --output DIR``; from Python,
``build_dataset(source, input, output, BuildConfig(...))``. Modules: ``sources`` (scan discovery and labels),
``scan`` (the pure per-scan function), ``parallel`` (the jobs on worker processes or Ray, through
:mod:`mmrqa.engines`), ``cache`` (resumable builds), ``splits`` (subject-level), ``schema`` (columns),
``dataset_card`` (the dataset card), ``layout`` (atomic Hub layout on disk), ``push`` (``push_to_hub`` + card).
"""

from __future__ import annotations

import importlib
from typing import Any

_LAZY = {
    "build_dataset": "dataset_builder.build",
    "BuildSummary": "dataset_builder.build",
    "BuildConfig": "dataset_builder.config",
    "load_config": "dataset_builder.config",
    "discover": "dataset_builder.sources",
    "ScanTask": "dataset_builder.sources",
    "process_scan": "dataset_builder.scan",
    "push_dataset": "dataset_builder.push",
}

__all__ = list(_LAZY)


def __getattr__(name: str) -> Any:
    if name in _LAZY:
        return getattr(importlib.import_module(_LAZY[name]), name)
    raise AttributeError(f"module 'dataset_builder' has no attribute {name!r}")
