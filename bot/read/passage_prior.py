"""Choosing among retrieved passages: the reader's span score plus a share of the passage's
retrieval score.

The reader scores spans on their own words; retrieval scored the whole passage against the
question with other evidence (BM25's exact terms, the passage's title). Adding the fused retrieval
score (a standard score, see bot/search/retrieval.py) to each span's score breaks close calls
between passages in favour of the better-retrieved one.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Callable

from bot.types import Passage, ReaderResult, Span

# Weight of the retrieval score. Chosen on SQuAD v1.1 dev part A (tune), open retrieval, never
# refusing: F1 72.2 -> 73.2 on 500 questions (seed 0) and 71.7 -> 73.6 on 1,000 (seed 7); weights
# 0.5-2 all gained, 3 lost.
RETRIEVAL_PRIOR = 1.0


def rank_with_retrieval(result: ReaderResult, passages: list[Passage], weight: float = RETRIEVAL_PRIOR,
                        penalty: Callable[[Span], float] | None = None) -> ReaderResult:
    """The same result with its spans ordered by reader score + weight × retrieval score, less
    `penalty(span)` when given (bot/read/qualifiers.py: details of the question that the span's
    passage does not name). Ties keep the reader's order.

    Span scores themselves are left as the reader gave them (the answerability rule reads them)."""
    if (weight == 0 and penalty is None) or len(result.spans) < 2:
        return result

    def key(span: Span) -> float:
        return span.score + weight * passages[span.passage_index].score - (penalty(span) if penalty else 0.0)

    return replace(result, spans=sorted(result.spans, key=lambda s: -key(s)))
