"""MMRQA QA scores as a Hugging Face ``evaluate`` module, loadable offline by path.

    import evaluate
    from mmrqa.evaluation import METRIC_MODULE
    metric = evaluate.load(str(METRIC_MODULE))
    metric.compute(predictions=["good", None, "3"], references=["good", "bad", "2"],
                   question_types=["rating", "rating", "quality"])

Each example is one answered question: its type, the parsed prediction and the reference, all as text (a label,
a quality level "1".."3" or a number; None for an unparseable answer, which counts as wrong). The numbers are those
of ``mmrqa.evaluation.evaluate_predictions`` (the module delegates to it), flattened to ``"<type>/<score>"`` keys.
"""

from __future__ import annotations

import datasets
import evaluate

from mmrqa.evaluation.suite import QUESTION_TYPES, evaluate_predictions, flatten_scores
from mmrqa.qa.questions import SCORED_FIELDS

#: fields whose values are numbers (quality levels, metric values); the others are labels.
_NUMERIC = tuple(field.name for field in SCORED_FIELDS if field.kind != "classification")

_CITATION = """\
@article{esteban2017mriqc,
  title={MRIQC: Advancing the automatic prediction of image quality in MRI from unseen sites},
  author={Esteban, Oscar and Birman, Daniel and Schaer, Marie and Koyejo, Oluwasanmi O and Poldrack, Russell A and
          Gorgolewski, Krzysztof J},
  journal={PLoS ONE}, volume={12}, number={9}, pages={e0184661}, year={2017}
}
"""

_DESCRIPTION = f"""\
Scores of an MRI quality-assessment assistant per question type: accuracy and macro-F1 for the labels
({"; ".join(f"{f.name}: {'/'.join(map(str, f.labels))}" for f in SCORED_FIELDS if f.kind == "classification")});
Spearman and Pearson correlation between predicted and true quality (1-3); absolute error of metric values read out
by the model. Unparseable answers count as wrong. 95% percentile bootstrap intervals (seeded).
"""

_KWARGS_DESCRIPTION = f"""
Args:
    predictions: list of parsed answers as strings (None when the answer could not be parsed).
    references: list of true values as strings.
    question_types: list of the question type of each example, one of {QUESTION_TYPES}.
    n_resamples: bootstrap resamples (default 1000; 0 skips intervals).
    confidence: interval level (default 0.95).
    seed: bootstrap seed (default 0).
    rtol: relative tolerance of metric_value's within_tolerance (default 0.01).
Returns:
    dict "<question type>/<score>" -> float, e.g. "rating/accuracy", "rating/accuracy_ci_low", "quality/srcc".
"""


def _parse(qtype: str, value: str | None):
    if value is None or qtype not in _NUMERIC:
        return value
    try:
        return float(value)
    except ValueError:
        return None


@evaluate.utils.file_utils.add_start_docstrings(_DESCRIPTION, _KWARGS_DESCRIPTION)
class MmrqaQa(evaluate.Metric):
    def _info(self) -> evaluate.MetricInfo:
        return evaluate.MetricInfo(
            description=_DESCRIPTION,
            citation=_CITATION,
            inputs_description=_KWARGS_DESCRIPTION,
            features=datasets.Features(
                {
                    "predictions": datasets.Value("string"),
                    "references": datasets.Value("string"),
                    "question_types": datasets.Value("string"),
                }
            ),
        )

    def _compute(
        self,
        predictions,
        references,
        question_types,
        n_resamples: int = 1000,
        confidence: float = 0.95,
        seed: int = 0,
        rtol: float = 0.01,
    ) -> dict[str, float]:
        preds: dict[str, list] = {}
        refs: dict[str, list] = {}
        for pred, ref, qtype in zip(predictions, references, question_types, strict=True):
            preds.setdefault(qtype, []).append(_parse(qtype, pred))
            refs.setdefault(qtype, []).append(_parse(qtype, ref))
        results = evaluate_predictions(
            preds, refs, n_resamples=n_resamples, confidence=confidence, seed=seed, rtol=rtol
        )
        return flatten_scores(results)
