"""Answerability: turn reader and retrieval evidence into a probability that the answer is right,
and decide when to say the documents do not hold it.

A small logistic model over a few features, fitted on labelled examples (answerable questions
labelled by whether the reader got them right; unanswerable ones and questions paired with
passages that do not hold the answer labelled 0). The abstention threshold is chosen to
maximise the expected score on those examples: a right answer or a right refusal counts 1
(answers count their F1), a wrong answer or a wrong refusal 0.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

from bot.errors import DataError
from bot.files import atomic_write_text
from bot.model_paths import DEFAULT_EMBEDDING_MODEL
from bot.types import Passage, ReaderResult, Span

FEATURES = ("span_score", "null_gap", "min_null_gap", "dense", "top_dense", "bm25", "answer_words")
# Where calibrations are stored: with a reader (shipped) or with an index (a user's own).
CALIBRATION_FILE = "calibration.json"  # answers from retrieved passages
READER_ONLY_FILE = "calibration-reader-only.json"  # a given text read, no retrieval evidence
SENTENCE_FILE = "calibration-sentence.json"  # sentence mode
# Score features take when the reader found no span at all (far below any real score).
NO_SPAN_SCORE = -20.0
# An answer at least this close to the gold (F1, 0..1) counts as right when fitting.
RIGHT_ANSWER_F1 = 0.5

# Features from the reader's shared normalisation over everything it read: log-odds of the best
# span against "no answer", and the span's log-probability. Their scale is set by training, not by
# the kind of text, so they carry over between domains better than raw scores and similarities.
GROUP_FEATURES = ("group_gap", "span_logprob")
ALL_FEATURES = FEATURES + GROUP_FEATURES
# Features that depend on the embedding model's similarity scale.
EMBEDDING_FEATURES = ("dense", "top_dense")


def answerability_features(result: ReaderResult, passages: list[Passage] | None) -> dict[str, float]:
    if not result.spans:
        return ({name: 0.0 for name in ALL_FEATURES}
                | {name: NO_SPAN_SCORE for name in ("null_gap", "min_null_gap", "span_score", "group_gap", "span_logprob")})
    best = result.spans[0]
    passage = passages[best.passage_index] if passages and best.passage_index < len(passages) else None
    dense = passage.dense_score if passage and passage.dense_score is not None else 0.0
    bm25 = passage.bm25_score if passage and passage.bm25_score is not None else 0.0
    return {
        "span_score": best.score,
        "null_gap": best.score - result.best_null,
        "min_null_gap": best.score - result.min_null,
        "dense": dense,
        "top_dense": max((p.dense_score or 0.0) for p in passages) if passages else dense,
        "bm25": math.log1p(max(bm25, 0.0)),
        "answer_words": math.log1p(len(best.text.split())),
        "group_gap": best.score - result.group_null,
        "span_logprob": min(best.score - result.log_norm, 0.0),
    }


@dataclass
class Calibration:
    reader: str  # identity of the reader it was fitted for
    features: list[str]
    mean: list[float]
    scale: list[float]
    weights: list[float]
    bias: float
    threshold: float
    fitted_on: str = ""
    n_examples: int = 0
    tradeoff: list[dict] = field(default_factory=list)
    # The embedding model whose similarity scores the dense features were measured with. Files
    # from before this field existed were all fitted with the default model.
    embedding_model: str = DEFAULT_EMBEDDING_MODEL
    # Refusals at the threshold per tune file (domain), as fitted; informative only.
    per_source: list[dict] = field(default_factory=list)
    # The most mean F1 (0..1) the threshold was allowed to cost answerable questions in any tune
    # file (None: no such limit; files from before this field had none).
    max_answerable_loss: float | None = None

    def fits_embedder(self, embedding_model: str) -> bool:
        """False when this calibration reads similarity scores on another embedder's scale."""
        uses_similarity = any(f in EMBEDDING_FEATURES for f in self.features)
        return not uses_similarity or self.embedding_model == embedding_model

    def probability(self, features: dict[str, float]) -> float:
        x = np.array([features.get(f, 0.0) for f in self.features])
        z = float(((x - np.array(self.mean)) / np.array(self.scale)) @ np.array(self.weights) + self.bias)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def save(self, path: Path) -> None:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write_text(path, json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: Path) -> "Calibration":
        return cls(**json.loads(Path(path).read_text(encoding="utf-8")))


@dataclass(frozen=True)
class Decision:
    """Answer or refuse: the one rule every caller (the bot, evaluation, calibration) applies."""

    best: Span | None  # the reader's best span, whatever the threshold
    score: float  # probability that `best` is right (0 when there is no span)
    features: dict[str, float]
    refused: bool


def refuses(score: float, has_span: bool, threshold: float) -> bool:
    """Refuse when nothing was found, or when the probability is below the threshold."""
    return not has_span or score < threshold


def decide(result: ReaderResult, passages: list[Passage] | None, calibration: Calibration,
           threshold: float) -> Decision:
    """Turn a reader's result into an answer or a refusal. `passages`: what was retrieved (None
    when a given text was read, where no retrieval evidence exists)."""
    features = answerability_features(result, passages)
    best = result.spans[0] if result.spans else None
    score = calibration.probability(features) if best is not None else 0.0
    return Decision(best, score, features, refuses(score, best is not None, threshold))


def default_calibration(reader_kind: str, identity: str) -> Calibration:
    """Used until a calibration is fitted: neural readers compare the best span with their own
    "no answer" score (the SQuAD 2.0 rule); sentence mode needs a fair cosine similarity."""
    if reader_kind == "neural":
        return Calibration(identity, ["null_gap"], [0.0], [1.0], [1.0], 0.0, 0.5, "default rule")
    return Calibration(identity, ["span_score"], [0.4], [0.1], [1.0], 0.0, 0.5, "default rule")


def fit_logistic(x: np.ndarray, y: np.ndarray, l2: float = 1.0, iterations: int = 50) -> tuple[np.ndarray, float]:
    """L2-regularised logistic regression by Newton's method (features already standardised)."""
    n, d = x.shape
    xb = np.hstack([x, np.ones((n, 1))])
    w = np.zeros(d + 1)
    reg = np.full(d + 1, l2)
    reg[-1] = 0.0  # the bias is not shrunk
    for _ in range(iterations):
        p = 1.0 / (1.0 + np.exp(-np.clip(xb @ w, -50, 50)))
        grad = xb.T @ (p - y) + reg * w
        hess = (xb * (p * (1 - p))[:, None]).T @ xb + np.diag(reg) + 1e-9 * np.eye(d + 1)
        delta = np.linalg.solve(hess, grad)
        w -= delta
        if np.abs(delta).max() < 1e-8:
            break
    return w[:-1], float(w[-1])


def answerable_loss(prob: np.ndarray, answer_f1: np.ndarray, answerable: np.ndarray, threshold: float) -> float:
    """How much refusing below `threshold` lowers the mean F1 of the answerable questions (0..1)."""
    if not answerable.any():
        return 0.0
    f1 = answer_f1[answerable]
    return float(f1.mean() - np.where(prob[answerable] >= threshold, f1, 0.0).mean())


def choose_threshold(prob: np.ndarray, answer_f1: np.ndarray, answerable: np.ndarray,
                     weights: np.ndarray | None = None, groups: np.ndarray | list[str] | None = None,
                     max_answerable_loss: float | None = None) -> tuple[float, list[dict]]:
    """Threshold maximising the (weighted) mean score: an answer scores its F1, refusing an
    unanswerable question scores 1, refusing an answerable one 0.

    max_answerable_loss: only thresholds whose refusals lower the answerable questions' mean F1
    by at most this much (0..1) in every group (domain) are considered (threshold 0, which refuses
    nothing, always is).
    """
    w = np.ones(len(prob)) if weights is None else weights
    candidates = np.unique(np.concatenate([[0.0], np.round(prob, 4), [1.0001]]))
    if max_answerable_loss is not None:
        labels = np.zeros(len(prob), dtype=int) if groups is None else np.asarray(groups)
        members = [labels == g for g in np.unique(labels)]
        candidates = [t for t in candidates if all(
            answerable_loss(prob[m], answer_f1[m], answerable[m], t) <= max_answerable_loss + 1e-9 for m in members)]

    def score(t: float) -> float:
        answered = prob >= t
        return float((np.where(answered, answer_f1, (~answerable).astype(float)) * w).sum() / w.sum())

    best_t = max(candidates, key=lambda t: (score(t), -t))
    table = []
    for t in sorted({0.1, 0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, round(float(best_t), 4)}):
        answered = prob >= t
        hit = answered & answerable
        table.append({
            "threshold": round(float(t), 4),
            "answerable_answered": round(float(hit.sum() / max(answerable.sum(), 1)), 4),
            "unanswerable_refused": round(float((~answered & ~answerable).sum() / max((~answerable).sum(), 1)), 4),
            "coverage": round(float(answered.mean()), 4),
            "answered_f1": round(float(answer_f1[hit].mean()), 4) if hit.any() else None,
            "score": round(score(t), 4),
        })
    return float(best_t), table


def fit_calibration(rows: list[dict[str, float]], answer_f1: list[float], answerable: list[bool], *,
                    reader_identity: str, fitted_on: str, features: tuple[str, ...] = FEATURES,
                    answerable_share: float | None = None,
                    embedding_model: str = DEFAULT_EMBEDDING_MODEL, groups: list[str] | None = None,
                    max_answerable_loss: float | None = None) -> Calibration:
    """Fit the logistic model (label: answer F1 >= RIGHT_ANSWER_F1 on an answerable question) and threshold.

    answerable_share: choose the threshold as if this share of questions were answerable,
    whatever the proportions in the fitting data (None: as in the data).
    max_answerable_loss, groups: refusals may cost each group's answerable questions at most this
    much mean F1 (0..1); see choose_threshold.
    """
    if len(rows) < 10:
        raise DataError(f"calibration needs at least 10 labelled answers (got {len(rows)})")
    x = np.array([[r[f] for f in features] for r in rows], dtype=float)
    f1 = np.array(answer_f1, dtype=float)
    ans = np.array(answerable, dtype=bool)
    y = ((f1 >= RIGHT_ANSWER_F1) & ans).astype(float)
    if y.min() == y.max():
        raise DataError("calibration needs both right answers and wrong/unanswerable ones")
    mean, scale = x.mean(axis=0), x.std(axis=0)
    scale[scale < 1e-6] = 1.0
    w, b = fit_logistic((x - mean) / scale, y)
    prob = 1.0 / (1.0 + np.exp(-np.clip(((x - mean) / scale) @ w + b, -50, 50)))
    weights = None
    if answerable_share is not None and ans.any() and (~ans).any():
        ratio = (1 - answerable_share) / answerable_share
        weights = np.where(ans, 1.0, ratio * ans.sum() / (~ans).sum())
    threshold, table = choose_threshold(prob, np.where(ans, f1, 0.0), ans, weights, groups, max_answerable_loss)
    return Calibration(reader_identity, list(features), mean.tolist(), scale.tolist(), w.tolist(), b,
                       threshold, fitted_on, len(rows), table, embedding_model,
                       max_answerable_loss=max_answerable_loss)
