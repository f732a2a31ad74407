import numpy as np
import pytest

from bot.search.index import sync_index
from bot.search.retrieval import BM25Index, Retriever, standard_score_fusion


def test_fusion_uses_standard_scores_and_floors_missing_candidates():
    # Dense ranks 1 > 2 > 3; BM25 returned only 3 and 1.
    fused = standard_score_fusion([1, 2, 3], {1: 0.9, 2: 0.5, 3: 0.1}, {3: 8.0, 1: 4.0})
    assert [i for i, _ in fused] == [1, 3, 2]
    # Candidate 2 took BM25's floor (4.0), so it ties candidate 1 on BM25 and trails it on dense.
    dense_z = (np.array([0.9, 0.5, 0.1]) - 0.5) / np.std([0.9, 0.5, 0.1])
    bm25_z = (np.array([4.0, 4.0, 8.0]) - np.mean([4.0, 4.0, 8.0])) / np.std([4.0, 4.0, 8.0])
    expected = dict(zip([1, 2, 3], 0.5 * dense_z + 0.5 * bm25_z))
    assert dict(fused) == pytest.approx(expected)


def test_a_lone_keyword_match_counts_when_bm25_had_no_other():
    """BM25 found one passage with the word: the others score 0 on it, not the same as that one."""
    dense = {1: 0.62, 2: 0.60, 3: 0.58, 4: 0.40}
    assert [i for i, _ in standard_score_fusion([1, 2, 3, 4], dense, {4: 2.5})][-1] == 4  # floored: it gains nothing
    assert [i for i, _ in standard_score_fusion([1, 2, 3, 4], dense, {4: 2.5}, lexical_floor=0.0)][:2] == [1, 4]


def test_bm25_searches_version_and_clause_numbers():
    bm25 = BM25Index(["## [2.9.4] - 2023-08-30 fixed the memory leak", "## [3.2.0] - 2024-05-02 added retries",
                      "clause 2.4 covers refunds within 14 days", "a Type 3 message resets the lamp"])
    assert bm25.search("When was version 2.9.4 released?", 4)[0][0] == 0
    assert bm25.search("What does clause 2.4 say?", 4)[0][0] == 2
    assert bm25.search("What does Type 3 mean?", 4)[0][0] == 3


def test_fusion_keeps_a_far_lead_on_one_ranker():
    # By rank, 2 (second on dense, first on BM25) would beat 1 (first, third); by score, 1's wide
    # dense lead outweighs a BM25 score close to the best.
    fused = standard_score_fusion([1, 2, 3, 4], {1: 0.95, 2: 0.50, 3: 0.45, 4: 0.40},
                                  {2: 6.0, 3: 5.5, 1: 5.0, 4: 1.0})
    assert [i for i, _ in fused][:2] == [1, 2]


def test_fusion_of_one_candidate_or_flat_scores_is_defined():
    assert standard_score_fusion([], {}, {}) == []
    assert standard_score_fusion([7], {7: 0.3}, {}) == [(7, 0.0)]
    assert [i for i, _ in standard_score_fusion([4, 5], {4: 0.5, 5: 0.5}, {})] == [4, 5]


def test_bm25_matches_other_forms_of_a_word():
    bm25 = BM25Index(["volcanoes erupting near towns", "a calm lake in the mountains", "towns near a river"])
    hits = bm25.search("Which volcano erupted?", 3)
    assert [i for i, _ in hits] == [0]


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


def test_excluded_chunks_are_left_out_and_the_rest_fill_the_ranking(small_settings, fake_embedder):
    index = sync_index(small_settings, fake_embedder)
    retriever = Retriever(index.chunks, index.vectors, index.faiss_index, fake_embedder)
    question = "How many monitoring stations does the Meteorological Office use?"
    first = retriever.retrieve(question, top_k=2)[0].chunk
    without = retriever.retrieve(question, top_k=2, exclude=lambda c: c.doc_id == first.doc_id)
    assert without and all(p.chunk.doc_id != first.doc_id for p in without)
    others = sum(1 for c in index.chunks if c.doc_id != first.doc_id)
    assert len(without) == min(2, others)
    assert [p.rank for p in without] == list(range(1, len(without) + 1))


def test_a_grouped_number_is_also_found_by_its_parts():
    bm25 = BM25Index(["the rent is $2,150.00 a month", "the lease was signed on 12.05.2024", "the deposit is one month"])
    assert bm25.search("Is the rent $2,150?", 3)[0][0] == 0
    assert bm25.search("What was signed in 2024?", 3)[0][0] == 1


def test_a_where_question_finds_the_line_labelled_with_a_place():
    from bot.search.retrieval import with_label_words

    bm25 = BM25Index(["AGM 2022. Venue: St Luke's Church Hall.",
                      "AGM 2022. Treasurer's report: the balance held at the end of the year was £1,942.",
                      "AGM 2023. Chair: Ann Lee. Secretary: Ravi Shah.", "Membership stood at 238 households."])
    asked = "Where was the AGM held in 2022?"
    assert bm25.search(asked, 2)[0][0] == 1  # the words of the question alone find the report
    assert bm25.search(with_label_words(asked), 2)[0][0] == 0
    assert with_label_words("When was the AGM held?") == "When was the AGM held?"
