"""Fitting a `Calibration`: a logistic model over answerability features, on labelled examples
(answerable questions labelled by whether the reader got them right; unanswerable ones and
questions paired with passages that do not hold the answer labelled 0), and the abstention
threshold that maximises the expected score on them: a right answer or a right refusal counts 1
(answers count their F1), a wrong answer or a wrong refusal 0.
"""

from __future__ import annotations

import numpy as np

from bot.errors import DataError
from bot.model_paths import DEFAULT_EMBEDDING_MODEL
from bot.read.answerability import FEATURES, RIGHT_ANSWER_F1, Calibration


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
