"""Dense (FAISS) and BM25 retrieval, fused with reciprocal rank fusion."""

from __future__ import annotations

import numpy as np

from bot.search.embedding import QueryCachingEmbedder
from bot.types import Chunk, Passage

RRF_K = 60
# Each ranker contributes this many candidates per wanted passage (at least MIN_CANDIDATES), so
# a passage ranked well by only one of them can still reach the fused top k.
CANDIDATES_PER_RESULT = 4
MIN_CANDIDATES = 20  # the constant from Cormack et al. (2009); damps the weight of top ranks


def reciprocal_rank_fusion(rankings: list[list[int]], k: int = RRF_K) -> list[tuple[int, float]]:
    """Fuse ranked id lists: score(id) = sum over lists of 1 / (k + rank), rank from 1.

    Ties keep the order in which ids were first seen, so results are deterministic.
    """
    scores: dict[int, float] = {}
    for ranking in rankings:
        for rank, item in enumerate(ranking, start=1):
            scores[item] = scores.get(item, 0.0) + 1.0 / (k + rank)
    return sorted(scores.items(), key=lambda kv: -kv[1])


class BM25Index:
    """Lexical search over chunk texts (bm25s); catches names, numbers and rare terms that a
    small embedding model blurs."""

    def __init__(self, texts: list[str]) -> None:
        import logging

        import bm25s

        logging.getLogger("bm25s").setLevel(logging.ERROR)
        self._bm25s = bm25s
        self.size = len(texts)
        self.retriever = bm25s.BM25()
        tokens = bm25s.tokenize(texts, stopwords="en", show_progress=False)
        self.retriever.index(tokens, show_progress=False)
        self.vocab = set(self.retriever.vocab_dict)

    def search(self, query: str, k: int) -> list[tuple[int, float]]:
        words = self._bm25s.tokenize([query], stopwords="en", return_ids=False, show_progress=False)[0]
        words = [w for w in words if w in self.vocab]
        if not words or self.size == 0:
            return []
        ids, scores = self.retriever.retrieve([words], k=min(k, self.size), show_progress=False, n_threads=1)
        return [(int(i), float(s)) for i, s in zip(ids[0], scores[0]) if s > 0]


class Retriever:
    def __init__(self, chunks: list[Chunk], vectors: np.ndarray, faiss_index, embedder: QueryCachingEmbedder,
                 titles: dict[str, str] | None = None) -> None:
        self.chunks = chunks
        self.vectors = vectors
        self.faiss_index = faiss_index
        self.embedder = embedder
        titles = titles or {}
        self.bm25 = BM25Index([f"{titles.get(c.doc_id, '')} {c.section} {c.text}" for c in chunks])

    def retrieve(self, query: str, top_k: int = 5, candidates: int | None = None,
                 vector: np.ndarray | None = None) -> list[Passage]:
        """The top_k passages for query, best first. Empty query or corpus -> empty list.

        `vector` is the query's embedding when the caller already has it (batched questions).
        """
        if not query.strip() or not self.chunks:
            return []
        n = min(candidates or max(CANDIDATES_PER_RESULT * top_k, MIN_CANDIDATES), len(self.chunks))
        q = self.embedder.encode_query(query) if vector is None else vector
        dense_scores, dense_ids = self.faiss_index.search(q[None, :], n)
        dense = [int(i) for i in dense_ids[0] if i >= 0]
        lexical = self.bm25.search(query, n)
        bm25_by_id = dict(lexical)
        fused = reciprocal_rank_fusion([dense, [i for i, _ in lexical]])[:top_k]
        ids = [i for i, _ in fused]
        cosine = np.asarray(self.vectors[ids], dtype=np.float32) @ q if ids else []
        return [
            Passage(chunk=self.chunks[i], score=score, rank=r, dense_score=float(cosine[r - 1]),
                    bm25_score=bm25_by_id.get(i, 0.0))
            for r, (i, score) in enumerate(fused, start=1)
        ]
