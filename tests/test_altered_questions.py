"""Unanswerable training questions made by changing one detail of answerable ones
(bot/training/altered_questions.py)."""

import random

from bot.evaluation.squad import SquadExample
from bot.training.altered_questions import alter, altered_questions, name_pool

CONTEXT = ("The Hoover Dam was completed in 1936 on the Colorado River. It was the largest concrete "
           "structure of its time and was built by Six Companies during the Great Depression.")


def _example(question, title="Hoover_Dam", qid="q1", context=CONTEXT):
    return SquadExample(qid, title, context, question, ("x",), (0,), 0)


def _donors():
    return [("Amazon River", "Rivers"), ("Danube", "Rivers"), ("Aswan", "Dams")]


def _mentioned(phrase, context=CONTEXT):
    return phrase.lower() in context.lower()


def test_a_year_the_paragraph_states_becomes_one_it_does_not():
    for seed in range(10):
        question, change = alter(_example("What was finished in 1936?"), [], random.Random(seed))
        assert change.kind == "number" and change.original == "1936"
        assert change.replacement in question and not _mentioned(change.replacement)
        assert abs(int(change.replacement) - 1936) <= 30


def test_a_name_the_paragraph_mentions_becomes_another_articles_name_it_does_not():
    for seed in range(10):
        question, change = alter(_example("Which company built the Hoover Dam?"), _donors(), random.Random(seed))
        assert change.kind == "name" and change.original == "Hoover Dam"
        # a two-word name is replaced by a two-word name, from another article, absent from the paragraph
        assert change.replacement == "Amazon River"
        assert question == "Which company built the Amazon River?"


def test_a_word_with_an_opposite_is_swapped_only_when_the_paragraph_never_uses_the_opposite():
    question, change = alter(_example("what was the largest structure of its time?"), [], random.Random(0))
    assert change.kind == "opposite" and question == "what was the smallest structure of its time?"
    # "completed" has no listed opposite, and "Hoover" is not used: nothing to alter
    assert alter(_example("what was completed?"), _donors(), random.Random(0)) is None
    both = CONTEXT + " The smallest part was the intake."
    assert alter(_example("what was the largest structure?", context=both), [], random.Random(0)) is None


def test_details_the_paragraph_does_not_mention_are_left_alone():
    # "Nevada" and "1931" are not in the paragraph: changing them would not make the question unanswerable
    assert alter(_example("Who visited Nevada in 1931?"), _donors(), random.Random(0)) is None


def test_a_possessive_keeps_its_ending():
    question, change = alter(_example("What was Hoover's height?"), [("Danube", "Rivers")], random.Random(0))
    assert change.original == "Hoover" and question == "What was Danube's height?"


def test_altered_questions_are_unanswerable_seeded_and_capped():
    examples = [_example("Which company built the Hoover Dam?", qid="a"),
                _example("What was finished in 1936?", qid="b"),
                _example("What flows past?", qid="c"),
                SquadExample("d", "Rivers", "The Amazon River is long.", "How long is the Amazon River?", ("long",),
                             (20,), 1)]
    out = altered_questions(examples, 10, seed=3)
    assert {e.id for e in out} == {"a-altered-name", "b-altered-number", "d-altered-name"}
    by_id = {e.id: e for e in out}
    assert by_id["d-altered-name"].question == "How long is the Hoover Dam?"  # the other article's name
    assert by_id["a-altered-name"].question == "Which company built the Amazon River?"
    assert all(not e.answerable for e in out)
    assert by_id["b-altered-number"].context == CONTEXT and by_id["d-altered-name"].paragraph_index == 1
    assert [e.question for e in altered_questions(examples, 10, seed=3)] == [e.question for e in out]
    assert len(altered_questions(examples, 1, seed=3)) == 1
    assert altered_questions(examples, 0, seed=3) == []


def test_names_are_pooled_without_the_words_that_open_a_question():
    pool = name_pool([_example("In Nevada, where did Six Companies work?")])
    assert sorted(n for n, _ in pool["Hoover_Dam"]) == ["Nevada", "Six Companies"]
