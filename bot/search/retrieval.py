"""Dense (FAISS) and BM25 (bot/search/lexical.py) retrieval, fused by standard scores over their candidates."""

from __future__ import annotations

from typing import Callable

import numpy as np

from bot.questions import ASKS_WHERE, PLACE_LABELS
from bot.search.embedding import QueryCachingEmbedder
from bot.search.lexical import BM25Index, lexical_texts
from bot.types import Chunk, Passage

# Each ranker contributes this many candidates per wanted passage (at least MIN_CANDIDATES), so
# a passage ranked well by only one of them can still reach the fused top k.
CANDIDATES_PER_RESULT = 8
MIN_CANDIDATES = 40
# Share of the dense ranker in the fused score, and the candidate counts above: chosen on SQuAD
# v1.1 dev part A (tune split; 4,961 questions, its paragraphs as documents). Gold-paragraph
# recall@1/@3/@5 81.7 / 93.3 / 96.0%, where reciprocal rank fusion (k = 60, 20 candidates from
# each ranker) reached 75.9 / 90.7 / 94.4%.
DENSE_WEIGHT = 0.5


def _standardised(values: np.ndarray) -> np.ndarray:
    spread = float(values.std())
    return (values - values.mean()) / spread if spread > 1e-9 else np.zeros_like(values)


def standard_score_fusion(candidates: list[int], dense: dict[int, float], lexical: dict[int, float],
                          dense_weight: float = DENSE_WEIGHT, lexical_floor: float | None = None) -> list[tuple[int, float]]:
    """Fuse two rankers by their scores, each turned into standard scores over the candidates.

    Unlike rank fusion this keeps how far apart the candidates are: a passage far ahead on one
    ranker wins over one that is merely second on both. Each ranker only vouches for its own
    candidates: `dense` maps the dense ranker's candidates to their cosines, `lexical` BM25's to
    their scores, and a candidate one ranker did not return gets that ranker's lowest returned
    score (0 if it returned none), or `lexical_floor` for BM25 when the caller knows it. Ties keep
    the candidates' order, so results are deterministic.
    """
    if not candidates:
        return []

    def column(scores: dict[int, float], floor: float | None = None) -> np.ndarray:
        if floor is None:
            floor = min(scores.values()) if scores else 0.0
        return np.array([scores.get(i, floor) for i in candidates], dtype=np.float64)

    fused = dense_weight * _standardised(column(dense)) + (1 - dense_weight) * _standardised(column(lexical, lexical_floor))
    order = np.argsort(-fused, kind="stable")
    return [(candidates[j], float(fused[j])) for j in order]


def with_label_words(query: str) -> str:
    """The query BM25 searches: a where-question with the words that label a place, since the lines
    that answer it are labelled, not worded like it."""
    return f"{query} {' '.join(PLACE_LABELS)}" if ASKS_WHERE.match(query) else query


class Retriever:
    def __init__(self, chunks: list[Chunk], vectors, faiss_index, embedder: QueryCachingEmbedder,
                 titles: dict[str, str] | None = None, bm25: BM25Index | None = None) -> None:
        """`bm25`: the chunks' BM25 index when the caller has it (stored with the index), else it
        is built here from the chunks and their documents' `titles`."""
        self.chunks = chunks
        self.vectors = vectors
        self.faiss_index = faiss_index
        self.embedder = embedder
        self.bm25 = bm25 if bm25 is not None else BM25Index(lexical_texts(chunks, titles or {}))

    def retrieve(self, query: str, top_k: int = 5, candidates: int | None = None,
                 vector: np.ndarray | None = None, exclude: Callable[[Chunk], bool] | None = None) -> list[Passage]:
        """The top_k passages for query, best first. Empty query or corpus -> empty list.

        `vector` is the query's embedding when the caller already has it (batched questions).
        `exclude`: chunks to leave out, e.g. to ask a question of the documents without the one
        that answers it: each ranker still gives `candidates` others, and the standard scores are
        taken over those alone (BM25's word statistics still count the excluded chunks).
        """
        if not query.strip() or not self.chunks:
            return []
        n = min(candidates or max(CANDIDATES_PER_RESULT * top_k, MIN_CANDIDATES), len(self.chunks))
        q = self.embedder.encode_query(query) if vector is None else vector
        excluded = {i for i, c in enumerate(self.chunks) if exclude(c)} if exclude else set()
        deep = min(n + len(excluded), len(self.chunks))  # still n candidates each once excluded are gone
        _, dense_ids = self.faiss_index.search(q[None, :], deep)
        dense_ids = [int(i) for i in dense_ids[0] if i >= 0 and int(i) not in excluded][:n]
        lexical = dict([(i, score) for i, score in self.bm25.search(with_label_words(query), deep)
                        if i not in excluded][:n])
        pool = list(dict.fromkeys(dense_ids + list(lexical)))
        # Exact cosines (an approximate index such as IVF-PQ only ranks); shown with each passage
        # and read by the answerability rule, for BM25's finds as well.
        cosine = dict(zip(pool, (np.asarray(self.vectors[pool], dtype=np.float32) @ q).tolist()))
        # BM25 returned every passage sharing a word with the query when it returned fewer than n:
        # the others score 0, not its lowest score (a lone match would otherwise count for nothing).
        fused = standard_score_fusion(pool, {i: cosine[i] for i in dense_ids}, lexical,
                                      lexical_floor=0.0 if len(lexical) < n else None)[:top_k]
        return [
            Passage(chunk=self.chunks[i], score=score, rank=r, dense_score=float(cosine[i]),
                    bm25_score=lexical.get(i, 0.0))
            for r, (i, score) in enumerate(fused, start=1)
        ]
