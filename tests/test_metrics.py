"""Metrics against values computed by hand."""

import pytest

from bot.evaluation import metrics as metrics


@pytest.mark.parametrize("text,expected", [
    ("The  Quick, brown fox!", "quick brown fox"),
    ("An apple a day", "apple day"),
    ("theatre and anthem", "theatre and anthem"),  # articles only as whole words
    ("U.S.-based\tcompany", "usbased company"),
    ("", ""),
])
def test_normalize_answer(text, expected):
    assert metrics.normalize_answer(text) == expected


def test_exact_match_normalises_and_takes_the_best_gold():
    assert metrics.exact_match("the Eiffel Tower", ["Eiffel tower."]) == 100.0
    assert metrics.exact_match("Eiffel", ["Eiffel tower", "eiffel!"]) == 100.0
    assert metrics.exact_match("Eiffel", ["Eiffel tower"]) == 0.0
    assert metrics.exact_match("x", []) == 0.0


def test_f1_by_hand():
    # 3 shared tokens; precision 3/5, recall 3/3 -> 2 * 0.6 * 1 / 1.6 = 0.75
    assert metrics.f1("Golden Gate Bridge in 1937", ["the Golden Gate Bridge"]) == pytest.approx(75.0)
    # Repeated tokens count once per occurrence in both: common 2, P 2/3, R 1 -> 0.8
    assert metrics.f1("new new york", ["New York"]) == pytest.approx(80.0)
    assert metrics.f1("Paris", ["London"]) == 0.0


def test_f1_is_the_max_over_gold_answers():
    # vs "in 1937": P 1, R 1/2 -> 66.7; vs "May 1937 opening": P 1, R 1/3 -> 50
    assert metrics.f1("1937", ["in 1937", "May 1937 opening"]) == pytest.approx(200 / 3)


def test_empty_answers_match_only_empty_answers():
    assert metrics.f1("", ["the"]) == 100.0  # both normalise to nothing
    assert metrics.f1("x", ["the"]) == 0.0
    assert metrics.f1("", ["x"]) == 0.0


def test_score_answer_conventions():
    assert metrics.score_answer("", True, [], answerable=False) == (100.0, 100.0)
    assert metrics.score_answer("Paris", False, [], answerable=False) == (0.0, 0.0)
    assert metrics.score_answer("", True, ["Paris"], answerable=True) == (0.0, 0.0)
    assert metrics.score_answer("in Paris", False, ["Paris"], answerable=True) == (0.0, pytest.approx(200 / 3))


def test_contains_matches_whole_normalised_words():
    assert metrics.contains("It was completed in 1894.", ["1894"])
    assert not metrics.contains("It was completed in 18945.", ["1894"])
    assert metrics.contains("The BCIJ, established in 2015", ["bcij"])
    assert metrics.contains("a peaceful march through Casablanca", ["Peaceful March"])
    assert not metrics.contains("anything", ["", "the"])  # empty needles never match


def test_ranks_recall_and_mrr():
    passages = ["nothing here", "opened in 1937", "also 1937"]
    assert metrics.first_hit_rank(passages, ["1937"]) == 2
    assert metrics.first_hit_rank(passages, ["1894"]) is None
    ranks = [1, 3, None, 2]
    assert metrics.recall_at(ranks, 1) == 25.0
    assert metrics.recall_at(ranks, 3) == 75.0
    assert metrics.recall_at(ranks, 5) == 75.0
    assert metrics.mean_reciprocal_rank(ranks) == pytest.approx((1 + 1 / 3 + 0 + 1 / 2) / 4)
    assert metrics.recall_at([], 5) is None and metrics.mean_reciprocal_rank([]) is None


def test_percentile_and_mean():
    assert metrics.percentile([10, 20, 30, 40], 50) == 25.0
    assert metrics.percentile([10, 20, 30, 40], 95) == pytest.approx(38.5)  # 30 + 0.85 * 10
    assert metrics.percentile([], 50) is None and metrics.mean([]) is None


def test_coverage_curve_by_hand():
    scores = [0.9, 0.6, 0.3, 0.0]
    answer_f1 = [100.0, 50.0, 0.0, 0.0]
    answerable = [True, True, False, True]
    has_answer = [True, True, True, False]  # the last one has no candidate at all
    at0, at5, at1 = metrics.coverage_curve(scores, answer_f1, answerable, has_answer, thresholds=[0.0, 0.5, 1.0])
    assert (at0.coverage, at0.accuracy, at0.overall_f1, at0.answered) == (75.0, 50.0, 37.5, 3)
    # answered: the first two; refusing the unanswerable one scores 100, the last one 0
    assert (at5.coverage, at5.accuracy, at5.overall_f1) == (50.0, 75.0, 62.5)
    assert (at1.coverage, at1.accuracy, at1.overall_f1) == (0.0, None, 25.0)
    assert len(metrics.coverage_curve(scores, answer_f1, answerable, has_answer)) == 101


@pytest.mark.parametrize("answerable,refused,f1,retrieved,stage", [
    (True, False, 80.0, True, None),
    (True, False, 50.0, True, None),  # the failure line is F1 < 50
    (True, False, 49.9, True, "misread"),
    (True, True, 0.0, True, "wrongly_refused"),
    (True, True, 0.0, False, "not_retrieved"),
    (True, False, 10.0, False, "not_retrieved"),
    (True, False, 10.0, None, "misread"),  # gold context: nothing to retrieve
    (True, True, 0.0, None, "wrongly_refused"),
    (False, True, 100.0, None, None),
    (False, False, 0.0, False, "answered_unanswerable"),
])
def test_failure_stage(answerable, refused, f1, retrieved, stage):
    assert metrics.failure_stage(answerable, refused, f1, retrieved) == stage
