"""Evaluation metrics as pure functions: SQuAD answer scores, retrieval ranks, the
coverage/accuracy trade-off and latency percentiles.

Answer scores follow the SQuAD convention so numbers are comparable with published ones: text is
normalised (lower case, ASCII punctuation and the articles a/an/the removed, whitespace
collapsed), EM and F1 are in percent and take the best match over the gold answers. For an
unanswerable question, refusing scores 100 and any answer 0 (the SQuAD 2.0 rule).
"""

from __future__ import annotations

from bot.read.answerability import RIGHT_ANSWER_F1

import re
import string
from collections import Counter
from dataclasses import dataclass
from typing import Iterable, Sequence

import numpy as np

_PUNCTUATION = set(string.punctuation)
_ARTICLES = re.compile(r"\b(a|an|the)\b")

# An answer to an answerable question with F1 below this counts as wrong (a failure).
FAILURE_F1 = 100 * RIGHT_ANSWER_F1  # the same line calibration fitting draws, in percent


def normalize_answer(text: str) -> str:
    text = "".join(ch for ch in text.lower() if ch not in _PUNCTUATION)
    text = _ARTICLES.sub(" ", text)
    return " ".join(text.split())


def exact_match(prediction: str, golds: Sequence[str]) -> float:
    """100 if the normalised prediction equals a normalised gold answer, else 0."""
    pred = normalize_answer(prediction)
    return 100.0 if any(pred == normalize_answer(g) for g in golds) else 0.0


def _token_f1(prediction: str, gold: str) -> float:
    pred, ref = normalize_answer(prediction).split(), normalize_answer(gold).split()
    if not pred or not ref:
        # Only an empty answer matches an empty one ("the" normalises to nothing).
        return 100.0 if pred == ref else 0.0
    common = sum((Counter(pred) & Counter(ref)).values())
    if common == 0:
        return 0.0
    precision, recall = common / len(pred), common / len(ref)
    return 100.0 * 2 * precision * recall / (precision + recall)


def f1(prediction: str, golds: Sequence[str]) -> float:
    """Token-overlap F1 in percent, best over the gold answers."""
    return max((_token_f1(prediction, g) for g in golds), default=0.0)


def score_answer(prediction: str, refused: bool, golds: Sequence[str], answerable: bool) -> tuple[float, float]:
    """(EM, F1) of one response under the convention in the module docstring."""
    if not answerable:
        return (100.0, 100.0) if refused else (0.0, 0.0)
    if refused:
        return 0.0, 0.0
    return exact_match(prediction, golds), f1(prediction, golds)


def contains(haystack: str, needles: Iterable[str]) -> bool:
    """Whether a needle occurs in the haystack as whole words after normalisation."""
    return contains_normalized(normalize_answer(haystack), needles)


def contains_normalized(normalized_haystack: str, needles: Iterable[str]) -> bool:
    """`contains` for a haystack already passed through normalize_answer."""
    text = f" {normalized_haystack} "
    for needle in needles:
        norm = normalize_answer(needle)
        if norm and f" {norm} " in text:
            return True
    return False


def failure_stage(answerable: bool, refused: bool, f1_score: float, retrieved: bool | None) -> str | None:
    """Where a question went wrong, or None when it went right.

    retrieved: whether a retrieved passage held the gold (None when nothing was retrieved
    because the reader was given the gold paragraph). An answerable question fails when it is
    refused or its F1 is below FAILURE_F1; the earliest failing stage is blamed.
    """
    if not answerable:
        return None if refused else "answered_unanswerable"
    if not refused and f1_score >= FAILURE_F1:
        return None
    if retrieved is False:
        return "not_retrieved"
    return "wrongly_refused" if refused else "misread"


def first_hit_rank(passages: Sequence[str], needles: Sequence[str]) -> int | None:
    """1-based rank of the first passage holding a needle (gold answer or evidence), or None."""
    for rank, text in enumerate(passages, start=1):
        if contains(text, needles):
            return rank
    return None


def recall_at(ranks: Sequence[int | None], k: int) -> float | None:
    """Percent of questions whose first hit is within the top k."""
    if not ranks:
        return None
    return 100.0 * sum(1 for r in ranks if r is not None and r <= k) / len(ranks)


def mean_reciprocal_rank(ranks: Sequence[int | None]) -> float | None:
    """Mean of 1/rank of the first hit (0 when nothing retrieved holds the answer); 0..1."""
    if not ranks:
        return None
    return sum(1.0 / r for r in ranks if r) / len(ranks)


def mean(values: Sequence[float]) -> float | None:
    return float(np.mean(values)) if len(values) else None


def percentile(values: Sequence[float], q: float) -> float | None:
    """The q-th percentile (linear interpolation), None for no values."""
    return float(np.percentile(np.asarray(values, dtype=float), q)) if len(values) else None


@dataclass(frozen=True)
class CurvePoint:
    threshold: float
    coverage: float  # percent of all questions answered
    accuracy: float | None  # mean F1 of the answered ones (answers to unanswerable questions score 0)
    overall_f1: float  # the overall F1 if this threshold were used (refusals scored as usual)
    answered: int


def coverage_curve(scores: Sequence[float], answer_f1: Sequence[float], answerable: Sequence[bool],
                   has_answer: Sequence[bool], thresholds: Sequence[float] | None = None) -> list[CurvePoint]:
    """What each abstention threshold on the answer score would give.

    answer_f1 is the F1 of the answer the reader would give (0 for an unanswerable question);
    has_answer is False where the reader found no span at all (it refuses at any threshold).
    """
    s = np.asarray(scores, dtype=float)
    f = np.asarray(answer_f1, dtype=float)
    ans = np.asarray(answerable, dtype=bool)
    can = np.asarray(has_answer, dtype=bool)
    if thresholds is None:
        thresholds = np.linspace(0.0, 1.0, 101)
    points = []
    for t in thresholds:
        answered = can & (s >= t)
        n = int(answered.sum())
        per_question = np.where(answered, f, np.where(ans, 0.0, 100.0))
        points.append(CurvePoint(
            threshold=round(float(t), 4),
            coverage=100.0 * n / len(s) if len(s) else 0.0,
            accuracy=float(f[answered].mean()) if n else None,
            overall_f1=float(per_question.mean()) if len(s) else 0.0,
            answered=n,
        ))
    return points
