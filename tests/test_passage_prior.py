from bot.read.passage_prior import rank_with_retrieval
from bot.types import Chunk, Passage, ReaderResult, Span


def _passage(n: int, score: float) -> Passage:
    text = f"passage number {n}"
    return Passage(Chunk(n, f"doc{n}.md", text, 0, len(text), "", 1, None), score=score, rank=n + 1)


def _span(text: str, score: float, passage: int) -> Span:
    return Span(text, f"doc{passage}.md", 0, len(text), score, passage)


def test_a_better_retrieved_passage_wins_a_close_call():
    passages = [_passage(0, 2.0), _passage(1, -0.5)]
    result = ReaderResult([_span("from the weak passage", 8.2, 1), _span("from the strong passage", 7.9, 0)])
    ranked = rank_with_retrieval(result, passages, weight=1.0)
    assert [s.text for s in ranked.spans] == ["from the strong passage", "from the weak passage"]
    assert [s.score for s in ranked.spans] == [7.9, 8.2]  # the reader's scores are kept as they were
    assert result.spans[0].text == "from the weak passage"  # the input is not changed


def test_a_clear_reader_preference_survives_the_prior():
    passages = [_passage(0, 1.0), _passage(1, 0.0)]
    result = ReaderResult([_span("clear answer", 12.0, 1), _span("other", 6.0, 0)])
    assert rank_with_retrieval(result, passages, weight=1.0).spans[0].text == "clear answer"


def test_zero_weight_or_one_span_leaves_the_result_alone():
    passages = [_passage(0, 5.0), _passage(1, 0.0)]
    result = ReaderResult([_span("a", 3.0, 1), _span("b", 2.0, 0)])
    assert rank_with_retrieval(result, passages, weight=0) is result
    single = ReaderResult([_span("a", 3.0, 1)])
    assert rank_with_retrieval(single, passages) is single
