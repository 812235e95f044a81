"""``MMRQAPipeline``: scan -> metrics -> rendered slices -> questions to the model -> ``Assessment``.

    from mmrqa import MMRQAPipeline
    pipe = MMRQAPipeline.from_pretrained("user/mmrqa-llava-onevision-0.5b-lora")   # or a local folder
    assessment = pipe("scan.nii.gz")
    print(assessment.to_text())
    MMRQAPipeline.metrics_only()("scan.nii.gz")                                   # no model: signal classifier

Each standard question (``STANDARD_QUESTIONS``: rating, artifact type, usability, report) is asked about each
rendered slice, the way the training examples show one slice per question; a second round asks the severity of
every artifact a slice named. In signal-enhanced mode (default, the MMRQA fusion) the question is preceded by the
same compact summary of the scan's metrics as in training (:func:`mmrqa.qa.signal_summary`). Generation is greedy,
batched over slices and questions, and capped at ``max_new_tokens``.
"""

from __future__ import annotations

import copy
import logging
import os
import time
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

from mmrqa.console import progress as progress_bar
from mmrqa.errors import InvalidArgumentError, MMRQAError
from mmrqa.io import load_volume
from mmrqa.metrics import compute_metrics
from mmrqa.metrics.context import ScanContext, context_of
from mmrqa.metrics.ranges import catalogue_for
from mmrqa.pipeline import interpret
from mmrqa.pipeline.assessment import VERDICT_FIELDS, ArtifactFinding, Assessment, SliceAnswer
from mmrqa.pipeline.consistency import reconcile
from mmrqa.pipeline.metrics_only import estimate_labels, signal_evidence, signal_report, uncertain_report
from mmrqa.pipeline.model import generate, load_model
from mmrqa.presentation import metric_descriptions
from mmrqa.qa.answers import default_catalogue, signal_summary
from mmrqa.qa.conversations import conversation
from mmrqa.qa.labels import quality_word, usability_word
from mmrqa.render import MIN_FOREGROUND, PLANES, pick_slices, render_slices
from mmrqa.volume import Volume

logger = logging.getLogger(__name__)

STANDARD_QUESTIONS = ("rating", "artifact_type", "usability", "report")
DEFAULT_SLICES = 3
DEFAULT_MAX_NEW_TOKENS = 128


class MMRQAPipeline:
    """Assess MRI scans with an MMRQA model, or with the signal-only classifier when ``loaded`` is None.

    Args:
        loaded: a :class:`mmrqa.pipeline.model.LoadedModel` (see :meth:`from_pretrained`), or None for the
            metrics-only mode (see :meth:`metrics_only`).
        max_new_tokens: cap on generated tokens per answer.
        batch_size: prompts per generation batch.
        classifier: a :class:`mmrqa.classifier.SignalModel` for the signal verdict (default: the shipped one).
        reference: a :class:`mmrqa.metrics.cohort.CohortReference`: judge the metrics against the user's own cohort
            (robust z-scores) instead of the ranges that fit the scan.
    """

    def __init__(
        self,
        loaded=None,
        *,
        max_new_tokens: int = DEFAULT_MAX_NEW_TOKENS,
        batch_size: int = 8,
        classifier=None,
        reference=None,
    ):
        if max_new_tokens < 1 or batch_size < 1:
            raise InvalidArgumentError(f"max_new_tokens and batch_size must be >= 1 ({max_new_tokens}, {batch_size})")
        self.loaded = loaded
        self.max_new_tokens = int(max_new_tokens)
        self.batch_size = int(batch_size)
        self.classifier = classifier
        self.reference = reference
        self.last_generated_tokens = 0

    @classmethod
    def from_pretrained(
        cls,
        adapter_or_model: str | os.PathLike,
        base_model: str | os.PathLike | None = None,
        device: str | None = None,
        dtype: Any = None,
        revision: str | None = None,
        **kwargs: Any,
    ) -> MMRQAPipeline:
        """Load an MMRQA LoRA adapter (base read from its ``adapter_config.json`` unless ``base_model`` is given) or a
        merged model, from a Hub id or a local folder; safetensors only, no remote code. ``device`` defaults to the
        GPU when there is one; ``dtype`` to bfloat16/float16 on GPU and float32 on CPU. ``kwargs`` go to the
        constructor (``max_new_tokens``, ``batch_size``)."""
        loaded = load_model(adapter_or_model, base_model, device=device, dtype=dtype or "auto", revision=revision)
        return cls(loaded, **kwargs)

    @classmethod
    def metrics_only(cls, classifier_path: str | os.PathLike | None = None, reference=None) -> MMRQAPipeline:
        """A pipeline without a model: rating and artifact estimates from the signal-only classifier (``reference``:
        a cohort to judge the metrics against, see the class)."""
        from mmrqa.classifier import load_model as load_signal_model

        classifier = load_signal_model(str(classifier_path) if classifier_path else None)
        return cls(None, classifier=classifier, reference=reference)

    def with_clean_share(self, share: float) -> MMRQAPipeline:
        """This pipeline whose signal verdict assumes that ``share`` of the scans are clean
        (:meth:`mmrqa.classifier.SignalModel.with_clean_share`: lower finds more artifacts, with more false alarms).

        Raises:
            InvalidArgumentError: ``share`` is not strictly between 0 and 1.
        """
        from mmrqa.classifier import load_model as load_signal_model

        other = copy.copy(self)
        other.classifier = (self.classifier or load_signal_model()).with_clean_share(share)
        return other

    def with_reference(self, reference) -> MMRQAPipeline:
        """This pipeline (the same model and classifier, not reloaded) judging against ``reference`` (a
        :class:`mmrqa.metrics.cohort.CohortReference`, or None for the ranges that fit each scan)."""
        other = copy.copy(self)
        other.reference = reference
        return other

    @property
    def mode(self) -> str:
        return "metrics-only" if self.loaded is None else "model"

    # -- one scan ----------------------------------------------------------------------------------------------------
    def __call__(
        self,
        scan: str | os.PathLike | Volume,
        questions: Sequence[str] | None = None,
        slices: int = DEFAULT_SLICES,
        signal_enhanced: bool = True,
        plane: str = "axial",
        volume_index: int | None = None,
    ) -> Assessment:
        """Assess one scan (a path in any :mod:`mmrqa.io` format, or a ``Volume``).

        Args:
            questions: questions to ask instead of the standard ones (model mode; free text is allowed, a phrasing
                of the question bank is also parsed into the assessment's fields).
            slices: number of informative slices rendered and asked about.
            signal_enhanced: show the model the metric summary before each question (off for the ablation).
            plane: ``axial``, ``coronal`` or ``sagittal``.
            volume_index: which volume of a 4D file (fMRI, DWI, dynamics) to assess; a 4D file needs it.

        Raises:
            MMRQAError: the scan cannot be read or assessed (see :meth:`assess_many` for per-scan error entries).
        """
        return self.complete(self.prepare(scan, slices, plane, volume_index=volume_index), questions, signal_enhanced)

    def prepare(
        self,
        scan: str | os.PathLike | Volume,
        slices: int = DEFAULT_SLICES,
        plane: str = "axial",
        render: bool | None = None,
        volume_index: int | None = None,
    ):
        """The CPU half of :meth:`__call__` (load, metrics, rendering): ``(assessment so far, volume, metric report,
        images)``, which :meth:`complete` finishes. ``mmrqa assess --engine ray`` runs it in Ray tasks and
        :meth:`complete` on the model actors. ``render``: render the slices (default: only when a model will read
        them; the metrics-only mode just names them); ``volume_index``: as for :meth:`__call__`."""
        timings: dict[str, float] = {}
        clock = time.perf_counter()
        volume = scan if isinstance(scan, Volume) else _load(scan, volume_index)
        timings["loading"] = time.perf_counter() - clock
        clock = time.perf_counter()
        report = compute_metrics(volume)
        timings["metrics"] = time.perf_counter() - clock
        clock = time.perf_counter()
        # a single 2D image is shown whatever its foreground share (a saturated 8-bit picture can defeat Otsu)
        min_fg = 0.0 if volume.shape[PLANES[plane]] == 1 else MIN_FOREGROUND
        if not (self.loaded is not None if render is None else render):  # metrics-only needs no images
            indices, images = pick_slices(volume, slices, plane, min_foreground=min_fg), []
        else:
            indices, images = render_slices(volume, slices, plane, min_foreground=min_fg)
        timings["rendering"] = time.perf_counter() - clock
        values = {k: float(v) for k, v in report.values.items()}
        result = Assessment(
            source=str(volume.meta.get("source", scan if not isinstance(scan, Volume) else "volume")),
            mode=self.mode,
            model=None if self.loaded is None else self.loaded.name,
            metrics=values,
            slices=indices,
            plane=plane,
        )
        self.judge_metrics(result, volume, report)
        result.timings = timings
        return result, volume, report, images

    def judge_metrics(self, result: Assessment, volume: Volume, report) -> None:
        """The lights of the scan's metrics: against the ranges that fit the scan (its context), or against the
        reference cohort when the pipeline has one. Public so that a report built from a metrics table (``report``
        None: no mask geometry) judges the table's values by the same rule."""
        context = context_of(volume, report)
        result.scan_context = context.to_dict()
        if self.reference is not None:
            result.reference = f"cohort {self.reference.source}: {self.reference.rule()}"
        else:
            result.reference = f"ranges for a {context.describe()}"
        result.metric_info = metric_descriptions(result.metrics, self.catalogue_of(result), self.reference)

    def catalogue_of(self, result: Assessment) -> dict[str, Any]:
        """The catalogue the assessment's lights and report judge with: the reference cohort's ranges, or those that
        fit the scan (:func:`mmrqa.metrics.ranges.catalogue_for` of its context)."""
        if self.reference is not None:
            return self.reference.catalogue()
        return catalogue_for(ScanContext(**result.scan_context) if result.scan_context else None)

    def complete(self, prepared, questions: Sequence[str] | None = None, signal_enhanced: bool = True) -> Assessment:
        """The model (or signal classifier) half of :meth:`__call__`, on the output of :meth:`prepare` (``volume`` may
        be None in model mode)."""
        result, volume, report, images = prepared
        result.signal_enhanced = signal_enhanced
        result.mode, result.model = self.mode, None if self.loaded is None else self.loaded.name
        timings = dict(result.timings)
        clock = time.perf_counter()
        if self.loaded is None:
            self._fill_from_signal(result, volume)
        else:
            self._fill_from_model(result, report, images, questions, signal_enhanced)
            self._fall_back_to_signal(result, volume)
            reconcile(result, self.catalogue_of(result))  # one verdict, one story (see mmrqa.pipeline.consistency)
        timings["generation" if self.loaded is not None else "classification"] = time.perf_counter() - clock
        result.timings = {k: round(v, 4) for k, v in timings.items()}
        return result

    def _signal_verdict(self, result: Assessment, volume: Volume | None):
        """The signal classifier's verdict on the scan (:func:`mmrqa.classifier.classify`, recorded in
        ``result.signal_estimate``); from the full-size metrics alone (per-slice features undefined) without the
        volume (``complete`` after a remote ``prepare``) or when its decimated copy cannot be measured (a small object
        in a 2D image may vanish). With a reference cohort the verdict is read beside it
        (:func:`mmrqa.classifier.cohort.cohort_verdict`; ``result.cohort_note`` says what that changed)."""
        from mmrqa.classifier import classify, decide
        from mmrqa.classifier import load_model as load_signal_model

        model = self.classifier or load_signal_model()
        verdict = None
        if volume is not None:
            try:
                verdict = classify(volume, model=model)
            except MMRQAError as exc:
                logger.info("%s: classified from the full-size metrics (%s)", result.source, exc)
        if verdict is None:
            verdict = decide(model, result.metrics)
        if self.reference is not None:  # read beside the user's cohort (mmrqa.classifier.cohort)
            from mmrqa.classifier.cohort import cohort_verdict

            verdict, result.cohort_note = cohort_verdict(verdict, result.metrics, self.reference)
        result.signal_estimate = verdict.to_dict()
        return verdict

    @staticmethod
    def _signal_artifacts(verdict) -> list[ArtifactFinding]:
        if verdict.artifact in (None, "none"):
            return []
        return [ArtifactFinding(verdict.artifact, verdict.severity, 0, verdict.confidence)]

    def _fill_from_signal(self, result: Assessment, volume: Volume) -> None:
        verdict = self._signal_verdict(result, volume)
        result.in_domain, result.domain_reason = verdict.in_domain, verdict.domain_reason
        result.confidence = verdict.confidence
        result.sources = dict.fromkeys(VERDICT_FIELDS, "signal")
        if not verdict.in_domain:  # not rated: the forms say why
            return
        result.rating = quality_word(verdict.quality)
        result.usability = usability_word(verdict.quality)
        result.artifacts = self._signal_artifacts(verdict)
        catalogue = self.catalogue_of(result)  # the report cites the metrics with the ranges the lights use
        if verdict.uncertain:  # an artifact is likely but its kind is not settled: say so, name no kind
            result.drivers = result.drivers or list(verdict.drivers)
            result.report = uncertain_report(verdict.candidates, verdict.severity, verdict.confidence)
            return
        labels = estimate_labels(result.signal_estimate)
        result.drivers = result.drivers or list(verdict.drivers) or signal_evidence(result.metrics, labels, catalogue)
        result.report = signal_report(result.metrics, labels, catalogue, verdict.drivers, result.metric_info)

    def _fall_back_to_signal(self, result: Assessment, volume: Volume | None) -> None:
        """A model verdict is always a verdict: each field the model's answers leave unstated (not asked, or no answer
        parsed) comes from the signal classifier, and ``result.sources`` says which field came from where. A usability
        that follows a model rating (no usability answer parsed) counts as the model's. A scan found outside the
        domain (``in_domain`` False) is not rated by the classifier either, nor one it cannot rate."""
        answers = result.answers
        stated = {
            "rating": result.rating is not None,
            "usability": any(a.parsed for a in answers if a.question_type == "usability") or result.rating is not None,
            "artifacts": any(a.parsed is not None for a in answers if a.question_type == "artifact_type")
            or any((a.parsed or {}).get("artifact") for a in answers if a.question_type == "report"),
        }
        result.sources = {name: "model" if ok else "signal" for name, ok in stated.items()}
        if all(stated.values()) or result.in_domain is False:  # outside the domain nothing is rated (issue 17)
            return
        verdict = self._signal_verdict(result, volume)
        if not verdict.in_domain or verdict.quality is None:  # the classifier has nothing to add: no field is its
            result.sources = {name: source for name, source in result.sources.items() if source == "model"}
            return
        if not stated["rating"]:
            result.rating = quality_word(verdict.quality)
        if not stated["usability"]:
            result.usability = usability_word(verdict.quality)
        if not stated["artifacts"]:
            result.artifacts = self._signal_artifacts(verdict)
        logger.info("%s: %s from the signal classifier (no readable model answer)", result.source, result.sources)

    def _fill_from_model(self, result, report, images, questions, signal_enhanced) -> None:
        asked = (
            [interpret.standard_question(t) for t in STANDARD_QUESTIONS]
            if not questions
            else [interpret.classify_question(q) for q in questions]
        )
        if questions:  # keep the user's exact wording
            asked = [q.__class__(q.type, text, q.target) for q, text in zip(asked, questions, strict=True)]
        answers = self._ask(result.slices, images, asked, report, signal_enhanced)
        severity_questions = []
        named = (
            interpret.named_artifacts(
                [a.parsed for a in answers if a.question_type == "artifact_type"] or [None],
                [a.parsed for a in answers if a.question_type == "report"] or [None],
            )
            if any(a.question_type in ("artifact_type", "report") for a in answers)
            else {}
        )
        for kind in named:
            severity_questions.append(interpret.standard_question("severity", kind))
        if severity_questions:
            answers += self._ask(result.slices, images, severity_questions, report, signal_enhanced)
        result.answers = answers
        self._aggregate(result, answers, named)

    def ask(self, question: str, image, report, *, slice_index: int = 0, signal_enhanced: bool = True) -> SliceAnswer:
        """Ask the model one question about one rendered slice, with the scan's metrics in the prompt.

        Args:
            question: the user's question, asked verbatim (its type is recognised so the answer can be parsed).
            image: the slice as a PIL image (``mmrqa.render.render_slice``).
            report: the scan's ``MetricReport`` (its summary goes into the prompt when ``signal_enhanced``).
            slice_index: index of the slice, recorded in the answer.
            signal_enhanced: put the metric summary into the prompt.

        Returns:
            The ``SliceAnswer`` (raw text and parsed value).

        Raises:
            InvalidArgumentError: the pipeline has no model (metrics-only mode).
        """
        if self.loaded is None:
            raise InvalidArgumentError("the metrics-only pipeline has no model to ask; load one with from_pretrained")
        asked = interpret.classify_question(question)
        asked = asked.__class__(asked.type, question, asked.target)
        return self._ask([slice_index], [image], [asked], report, signal_enhanced)[0]

    def _ask(self, indices, images, asked, report, signal_enhanced) -> list[SliceAnswer]:
        summary = signal_summary(report, *default_catalogue()) if signal_enhanced else ""
        jobs, prompts = [], []
        for index, image in zip(indices, images, strict=True):
            for question in asked:
                user = conversation([image], question.text, "", [summary])["messages"][0]
                jobs.append((index, question))
                prompts.append(([image], user))
        texts, n_tokens = generate(
            self.loaded, prompts, max_new_tokens=self.max_new_tokens, batch_size=self.batch_size
        )
        self.last_generated_tokens += n_tokens
        return [
            SliceAnswer(index, q.text, q.type, text, interpret.parse(q, text))
            for (index, q), text in zip(jobs, texts, strict=True)
        ]

    @staticmethod
    def _aggregate(result: Assessment, answers: list[SliceAnswer], named) -> None:
        by_type: dict[str, list[SliceAnswer]] = {}
        for a in answers:
            by_type.setdefault(a.question_type or "free", []).append(a)
        ratings = {a.slice_index: a.parsed for a in by_type.get("rating", [])}
        if not any(ratings.values()):  # fall back to the quality stated in the reports
            ratings = {a.slice_index: (a.parsed or {}).get("quality") for a in by_type.get("report", [])}
        result.slice_votes = ratings
        result.rating = interpret.volume_rating(list(ratings.values()))
        usability = [a.parsed for a in by_type.get("usability", [])]
        result.usability = interpret.volume_usability(usability, result.rating)
        for kind, votes in dict(named).items():
            stated = [
                a.parsed for a in by_type.get("severity", []) if interpret.classify_question(a.question).target == kind
            ]
            reported = [
                (a.parsed or {}).get("severity")
                for a in by_type.get("report", [])
                if (a.parsed or {}).get("artifact") == kind
            ]
            result.artifacts.append(ArtifactFinding(kind, interpret.volume_severity(stated + reported), votes))
        readable = [a for a in by_type.get("report", []) if a.parsed]  # an unreadable report is not shown as one
        if readable:
            middle = result.slices[len(result.slices) // 2]
            result.report = min(readable, key=lambda a: abs(a.slice_index - middle)).answer

    # -- many scans --------------------------------------------------------------------------------------------------
    def assess_many(
        self, scans: Iterable[str | os.PathLike | Volume], *, progress: bool | None = None, **kwargs: Any
    ) -> list[Assessment]:
        """Assess each scan in turn (progress bar on a terminal); a scan that fails yields an entry with ``error``
        set instead of stopping the batch. ``kwargs`` as for ``__call__``."""
        scans = list(scans)
        results = []
        for scan in progress_bar(scans, total=len(scans), desc="assessing", enabled=progress):
            try:
                results.append(self(scan, **kwargs))
            except MMRQAError as exc:
                logger.warning("cannot assess %s: %s", scan, exc)
                name = str(scan.meta.get("source", "volume")) if isinstance(scan, Volume) else str(scan)
                results.append(Assessment.failed(name, str(exc), self.mode, self.loaded and self.loaded.name))
        return results


def _load(path: str | os.PathLike, volume_index: int | None = None) -> Volume:
    return load_volume(Path(path), volume_index=volume_index)
