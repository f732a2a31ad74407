import pytest

from bot.search.index import sync_index
from bot.search.retrieval import BM25Index, Retriever, reciprocal_rank_fusion


def test_rrf_matches_hand_computed_scores():
    fused = dict(reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=60))
    assert fused[1] == pytest.approx(1 / 61 + 1 / 62)
    assert fused[3] == pytest.approx(1 / 63 + 1 / 61)
    assert fused[2] == pytest.approx(1 / 62)
    assert [i for i, _ in reciprocal_rank_fusion([[1, 2, 3], [3, 1]], k=60)] == [1, 3, 2]


def test_bm25_finds_rare_terms_and_ignores_unknown_words():
    bm25 = BM25Index(["the golden gate bridge", "hekla volcano erupted", "tower bridge london"])
    assert bm25.search("When did Hekla erupt?", 3)[0][0] == 1
    assert bm25.search("zzzz qqqq", 3) == []


def test_fused_retrieval_ranks_the_relevant_chunk_first(small_settings, fake_embedder):
    index = sync_index(small_settings, fake_embedder)
    retriever = Retriever(index.chunks, index.vectors, index.faiss_index, fake_embedder)
    passages = retriever.retrieve("How many monitoring stations does the Meteorological Office use?", top_k=2)
    assert len(passages) == 2
    assert "70 stations" in passages[0].chunk.text
    assert passages[0].rank == 1 and passages[0].score >= passages[1].score
    assert passages[0].bm25_score > 0 and passages[0].dense_score is not None
    assert retriever.retrieve("   ", top_k=3) == []
    assert len(retriever.retrieve("bridge", top_k=50)) <= len(index.chunks)
