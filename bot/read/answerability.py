"""Answerability: turn reader and retrieval evidence into a probability that the answer is right,
and decide when to say the documents do not hold it.

A small logistic model over a few features, with a threshold below which the bot refuses; both
are fitted on labelled examples by `bot.training.calibration_fit` and stored as a `Calibration`.
"""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, field
from pathlib import Path

import numpy as np

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
        """Raises ValueError (or TypeError for a missing or unknown field) for a file that is not a
        usable calibration: one hand-edited wrongly must be set aside, not fail every question."""
        data = json.loads(Path(path).read_text(encoding="utf-8"))
        if not isinstance(data, dict):
            raise ValueError("not a JSON object")
        calibration = cls(**data)
        calibration.check()
        return calibration

    def check(self) -> None:
        """Raises ValueError where the fields cannot score a question."""
        unknown = [f for f in self.features if f not in ALL_FEATURES] if isinstance(self.features, list) else True
        if unknown:
            raise ValueError(f"unknown features {unknown}" if isinstance(unknown, list) else "features must be a list")
        for name in ("mean", "scale", "weights"):
            values = getattr(self, name)
            if not isinstance(values, list) or len(values) != len(self.features) or not all(
                    _finite(v) for v in values):
                raise ValueError(f"{name} must be {len(self.features)} numbers, one per feature")
        if any(v == 0 for v in self.scale):
            raise ValueError("scale holds a zero")
        if not _finite(self.bias):
            raise ValueError("bias must be a number")
        if not _finite(self.threshold) or not 0 <= self.threshold <= 1:
            raise ValueError("threshold must be a probability between 0 and 1")


def _finite(value) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


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
