"""Inference: ``MMRQAPipeline`` turns a scan into an ``Assessment`` (metrics, rating, artifacts, report).

Heavy libraries (torch, transformers, peft) are imported only when a model is loaded; the metrics-only mode
(``MMRQAPipeline.metrics_only()``) needs numpy and scipy alone.
"""

from __future__ import annotations

from mmrqa.pipeline.assessment import ArtifactFinding, Assessment, SliceAnswer
from mmrqa.pipeline.core import STANDARD_QUESTIONS, MMRQAPipeline

__all__ = ["ArtifactFinding", "Assessment", "MMRQAPipeline", "SliceAnswer", "STANDARD_QUESTIONS"]
